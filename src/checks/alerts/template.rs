//! `alerts/template`: label/annotation templates that do not parse (as promtool), use unknown
//! functions, or read `$labels.X` where the expression cannot produce label X.

use std::collections::BTreeSet;

use crate::checks::{parse_issues, Check, Ctx, Finding};
use crate::parse::gotemplate::RefKind;
use crate::parse::prom_rules::RuleKind;
use crate::parse::promql::{output_labels, Presence};

pub struct Template;

impl Check for Template {
    fn id(&self) -> &'static str {
        "alerts/template"
    }

    fn at_load(&self) -> bool {
        true
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = parse_issues(cx, self.id());
        for (r, _, parsed) in cx.parsed_rules() {
            if r.rule.kind != RuleKind::Alert {
                continue;
            }
            let info = output_labels(parsed.expr(), &|_| None::<BTreeSet<String>>);
            let src = cx.src(r.file);
            for p in r.rule.labels.iter().chain(r.rule.annotation_pairs()) {
                for reference in p.references() {
                    let RefKind::Label(name) = &reference.kind else {
                        continue;
                    };
                    if !matches!(info.presence(name), Presence::No) {
                        continue;
                    }
                    let why = if info.empty {
                        "the expression's result has no labels at all".to_string()
                    } else if !info.open {
                        let keep: Vec<String> = info
                            .known
                            .iter()
                            .filter(|l| *l != "__name__")
                            .map(|l| format!("`{l}`"))
                            .collect();
                        if keep.is_empty() {
                            "the expression's result has no labels at all".to_string()
                        } else {
                            format!("the expression's result only carries {}", keep.join(", "))
                        }
                    } else {
                        format!("the expression removes `{name}`")
                    };
                    out.push(
                        Finding::new(
                            self.id(),
                            r.file,
                            p.value.inner_span(src, &reference.span),
                            format!(
                                "`{name}` is always empty in `{}` of alert `{}`: {why}",
                                p.key.value, r.rule.name.value
                            ),
                        )
                        .label(format!("label `{name}` never exists here"))
                        .help(format!(
                            "keep `{name}` in the aggregation (`by (..., {name})`) or stop using it in the template"
                        ))
                        .ctx("alert", r.rule.name.value.clone())
                        .ctx("label", name.clone())
                        // the rule still loads and fires; the text is just wrong: one level lower
                        .downgraded(true),
                    );
                }
            }
        }
        out
    }
}
