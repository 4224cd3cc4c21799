//! `metrics/label-missing`: a rule matches on a label that the metric's definition does not
//! have (`status_code` when the metric has `status`): the selector never matches and the
//! alert never fires. Offline, from the definitions in application source.

use promql_parser::parser::Expr;

use crate::checks::promql_util::{parsed_exprs, selector_name, source_span, walk};
use crate::checks::{Check, Ctx, Finding};
use crate::model::inventory::definitions;

pub struct LabelMissing;

/// Labels Prometheus attaches to every scraped series, and common target labels added by
/// service discovery and relabelling: absent from definitions, present in the store.
const TARGET_LABELS: &[&str] = &["job", "instance", "__name__"];
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

impl Check for LabelMissing {
    fn id(&self) -> &'static str {
        "metrics/label-missing"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let defs = definitions(cx.project);
        if defs.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (r, expr, parsed) in parsed_exprs(cx.project) {
            let src = cx.src(r.file);
            walk(&parsed.expr, &mut |node| {
                let vs = match node {
                    Expr::VectorSelector(vs) => vs,
                    Expr::MatrixSelector(ms) => &ms.vs,
                    _ => return,
                };
                let Some(name) = selector_name(node) else {
                    return;
                };
                let mine: Vec<_> = defs
                    .iter()
                    .filter(|d| d.produces(name) && d.def.labels_known)
                    .collect();
                let Some(d) = mine.first() else { return };
                for m in &vs.matchers.matchers {
                    let label = m.name.as_str();
                    // `quantile` on a histogram: promql/summary-label-on-histogram says more
                    if label == "quantile"
                        && mine
                            .iter()
                            .any(|d| d.def.kind == crate::parse::metric_defs::MetricType::Histogram)
                    {
                        continue;
                    }
                    if TARGET_LABELS.contains(&label)
                        || mine.iter().any(|d| {
                            d.def.labels.iter().any(|(l, _)| l == label)
                                || d.extra_label(name, label)
                        })
                    {
                        continue;
                    }
                    // `{x=""}` / `{x!~".+"}` select series without the label: they match
                    if m.value.is_empty() && matches!(m.op, promql_parser::label::MatchOp::Equal) {
                        continue;
                    }
                    let defined: Vec<&str> = d.def.labels.iter().map(|(l, _)| l.as_str()).collect();
                    let close = crate::parse::closest(label, &defined)
                        .map(|c| format!(" (did you mean `{c}`?)"))
                        .unwrap_or_default();
                    let likely_target = LIKELY_TARGET_LABELS.contains(&label);
                    let span = source_span(src, expr, parsed.matcher_span(node, label));
                    let mut f = Finding::new(
                        self.id(),
                        r.file,
                        span,
                        format!(
                            "`{}` matches on `{label}`, but metric `{}` is defined with the labels [{}]{close}: the selector matches no series, so `{}` can never fire{}",
                            name,
                            d.def.name,
                            defined.join(", "),
                            r.name,
                            if likely_target {
                                " (unless service discovery or relabelling adds it to the target)"
                            } else {
                                ""
                            }
                        ),
                    )
                    .label("not a label of this metric")
                    .also(d.file, d.def.name_span.clone(), "defined here")
                    .help(if close.is_empty() {
                        "match on a label the metric has, or add the label to the metric's definition".to_string()
                    } else {
                        format!("use the label the metric has{close}")
                    })
                    .ctx("metric", d.def.name.clone())
                    .ctx("label", label.to_string());
                    if likely_target {
                        f = f.downgraded(true);
                    }
                    out.push(f);
                }
            });
        }
        out
    }
}
