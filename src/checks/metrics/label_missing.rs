//! `metrics/label-missing`: a rule matches on a label that the metric does not have
//! (`status_code` when the service exposes `status`): the selector never matches and the alert
//! never fires. Judged against what probed targets really expose when the metric was scraped,
//! else against the metric's definitions in application source.

use std::collections::{BTreeMap, BTreeSet};

use promql_parser::parser::Expr;

use crate::checks::promql_util::{parsed_exprs, selector_name, source_span, walk};
use crate::checks::{Check, Ctx, Finding};
use crate::model::inventory::definitions;
use crate::source::{FileId, Span};

pub struct LabelMissing;

/// Labels Prometheus attaches to every scraped series.
const TARGET_LABELS: &[&str] = &["job", "instance", "__name__"];
/// Common target labels added by service discovery and relabelling: absent from definitions
/// and scrapes, present in the store.
const LIKELY_TARGET_LABELS: &[&str] = &[
    "namespace",
    "pod",
    "container",
    "service",
    "node",
    "cluster",
    "env",
    "environment",
    "region",
    "zone",
    "app",
    "team",
];

/// What is known of a metric's label names, and where it comes from.
struct Known {
    labels: BTreeSet<String>,
    /// `exposed by <target>` / `defined`
    how: String,
    at: (FileId, Span),
    histogram: bool,
}

impl Check for LabelMissing {
    fn id(&self) -> &'static str {
        "metrics/label-missing"
    }

    fn per_file(&self) -> bool {
        true
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        // what the scrapes show, per series name: once per run (this check runs file by file)
        let scraped: &BTreeMap<String, Known> = cx.once(|| {
            let mut scraped: BTreeMap<String, Known> = BTreeMap::new();
            for f in &cx.project.files {
                let Some((expo, of)) = &f.exposition else {
                    continue;
                };
                let how = match of.target() {
                    Some(target) => format!("exposed by `{target}`"),
                    None => format!("shown in `{}`", cx.sources.get(f.file).path),
                };
                for fam in &expo.families {
                    let histogram = matches!(
                        fam.kind,
                        crate::parse::exposition::MetricType::Histogram
                            | crate::parse::exposition::MetricType::GaugeHistogram
                    );
                    for s in &fam.samples {
                        if !scraped.contains_key(&s.name) {
                            scraped.insert(
                                s.name.clone(),
                                Known {
                                    labels: BTreeSet::new(),
                                    how: how.clone(),
                                    at: (f.file, s.name_span.clone()),
                                    histogram,
                                },
                            );
                        }
                        if let Some(k) = scraped.get_mut(&s.name) {
                            for l in &s.labels {
                                if !k.labels.contains(&l.name) {
                                    k.labels.insert(l.name.clone());
                                }
                            }
                        }
                    }
                }
            }
            scraped
        });
        let defs = definitions(cx.project);
        if scraped.is_empty() && defs.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (r, expr, parsed) in parsed_exprs(cx) {
            let src = cx.src(r.file);
            walk(parsed.expr(), &mut |node| {
                let vs = match node {
                    Expr::VectorSelector(vs) => vs,
                    Expr::MatrixSelector(ms) => &ms.vs,
                    _ => return,
                };
                let Some(name) = selector_name(node) else {
                    return;
                };
                let fallback;
                let known = match scraped.get(name) {
                    Some(k) => k,
                    None => {
                        let mine: Vec<_> = defs.iter().filter(|d| d.produces(name)).collect();
                        // a definition whose labels could not be read may have the label:
                        // say nothing (metrics/unreadable-definition says why)
                        if mine.iter().any(|d| !d.def.labels_known) {
                            return;
                        }
                        let Some(d) = mine.first() else { return };
                        let mut labels: BTreeSet<String> = mine
                            .iter()
                            .flat_map(|d| d.def.labels.iter().map(|(l, _)| l.clone()))
                            .collect();
                        for extra in ["le", "quantile"] {
                            // a type not known: the series may be a histogram's or a summary's
                            if mine
                                .iter()
                                .any(|d| d.extra_label(name, extra) || !d.def.kind_known)
                            {
                                labels.insert(extra.to_string());
                            }
                        }
                        let histogram = mine.iter().any(|d| {
                            d.def.kind_known
                                && d.def.kind == crate::parse::metric_defs::MetricType::Histogram
                        });
                        fallback = Known {
                            labels,
                            how: "defined".to_string(),
                            at: (d.file, d.def.name_span.clone()),
                            histogram,
                        };
                        &fallback
                    }
                };
                for m in &vs.matchers.matchers {
                    let label = m.name.as_str();
                    // `quantile` on a histogram: promql/summary-label-on-histogram says more
                    if (label == "quantile" && known.histogram)
                        || TARGET_LABELS.contains(&label)
                        || known.labels.contains(label)
                    {
                        continue;
                    }
                    // `{x=""}` selects series without the label: it matches
                    if m.value.is_empty() && matches!(m.op, promql_parser::label::MatchOp::Equal) {
                        continue;
                    }
                    let list: Vec<&str> = known.labels.iter().map(String::as_str).collect();
                    let close = crate::parse::closest(label, &list)
                        .map(|c| format!(" (did you mean `{c}`?)"))
                        .unwrap_or_default();
                    let likely_target = LIKELY_TARGET_LABELS.contains(&label);
                    let span = source_span(src, expr, parsed.matcher_span(node, label));
                    out.push(
                        Finding::new(
                            self.id(),
                            r.file,
                            span,
                            format!(
                                "`{name}` matches on `{label}`, but the metric is {} with the labels [{}]{close}: the selector matches no series, so `{}` can never fire{}",
                                known.how,
                                list.join(", "),
                                r.name,
                                if likely_target {
                                    " (unless service discovery or relabelling adds it to the target)"
                                } else {
                                    ""
                                }
                            ),
                        )
                        .label("not a label of this metric")
                        .also(known.at.0, known.at.1.clone(), known.how.clone())
                        .help(if close.is_empty() {
                            "match on a label the metric has, or add the label to the metric".to_string()
                        } else {
                            format!("use the label the metric has{close}")
                        })
                        .ctx("metric", name.to_string())
                        .ctx("label", label.to_string())
                        .downgraded(likely_target),
                    );
                }
            });
        }
        out
    }
}
