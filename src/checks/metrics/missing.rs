//! `metrics/missing`: a metric the rules select is exposed by no probed target: the alert's
//! expression returns nothing and the alert is dead. Metrics whose name says they come from
//! another exporter (`node_*`, `kube_*`, ...) are reported one level lower.

use std::collections::BTreeSet;

use crate::checks::promql_util::{parsed_exprs, selector_name, source_span, walk};
use crate::checks::{Check, Ctx, Finding};

pub struct Missing;

impl Check for Missing {
    fn id(&self) -> &'static str {
        "metrics/missing"
    }

    fn per_file(&self) -> bool {
        true
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        // once per run (this check runs file by file, and looking at every file for each file
        // made 20,000 files take seconds): nothing without scrapes, else what they expose and
        // the targets
        let Some((exposed, targets)) = cx.once(|| {
            if !cx.project.probed() {
                return None;
            }
            let mut exposed: BTreeSet<String> = BTreeSet::new();
            let mut targets: BTreeSet<&str> = BTreeSet::new();
            for f in &cx.project.files {
                let Some((expo, of)) = &f.exposition else {
                    continue;
                };
                // committed scrapes count as exposed, but are not the probed targets
                if let Some(target) = of.target() {
                    targets.insert(target);
                }
                for fam in &expo.families {
                    for s in &fam.samples {
                        if !exposed.contains(&s.name) {
                            exposed.insert(s.name.clone());
                        }
                    }
                    exposed.insert(fam.name.clone());
                }
            }
            // recording rules' outputs are written by Prometheus itself
            exposed.extend(
                cx.project
                    .rules()
                    .filter(|r| r.rule.kind == crate::parse::prom_rules::RuleKind::Record)
                    .map(|r| r.rule.name.value.to_string()),
            );
            let targets = targets.into_iter().collect::<Vec<_>>().join(", ");
            Some((exposed, targets))
        }) else {
            return Vec::new();
        };
        let others = cx.option_list("other_exporters");
        let mut out = Vec::new();
        for (r, expr, parsed) in parsed_exprs(cx) {
            // recording-rule outputs are produced by Prometheus, not scraped
            let src = cx.src(r.file);
            let mut seen = BTreeSet::new();
            walk(parsed.expr(), &mut |node| {
                let Some(name) = selector_name(node) else {
                    return;
                };
                if exposed.contains(name)
                    || name.contains(':')
                    || matches!(name, "up" | "ALERTS" | "ALERTS_FOR_STATE")
                    || name.starts_with("scrape_")
                    || !seen.insert(name.to_string())
                {
                    return;
                }
                let other = others.iter().any(|p| name.starts_with(p.as_str()));
                let span = source_span(src, expr, parsed.span_of(node));
                let msg = if other {
                    format!("`{name}` is not exposed by the probed targets ({targets}); it looks like another exporter's metric, so `{}` depends on that exporter being scraped", r.name)
                } else {
                    format!("`{name}` is exposed by none of the probed targets ({targets}): `{}` selects nothing and can never fire", r.name)
                };
                out.push(
                    Finding::new(self.id(), r.file, span, msg)
                        .label("not exposed")
                        .help(if other {
                            "make sure that exporter is scraped in the same Prometheus, or list the metric's prefix under `other_exporters` to keep this at a lower severity"
                        } else {
                            "expose the metric from the service (is it registered in the registry `/metrics` serves?), or fix its name in the rule"
                        })
                        .ctx("metric", name.to_string())
                        .downgraded(other),
                );
            });
        }
        out
    }
}
