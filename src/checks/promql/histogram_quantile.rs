//! `promql/histogram-quantile`: `histogram_quantile` over classic buckets that are not aggregated
//! `by (le)`, or an aggregation that drops `le`.

use promql_parser::parser::{Expr, LabelModifier};

use crate::checks::promql_util::{metric_names, parsed_exprs, source_span, strip_parens, walk};
use crate::checks::{Check, Ctx, Finding};

pub struct HistogramQuantile;

/// What is wrong with the bucket argument of `histogram_quantile`, if anything.
fn problem(arg: &Expr) -> Option<(&'static str, String)> {
    let inner = strip_parens(arg);
    let classic = metric_names(inner)
        .iter()
        .any(|n| n.ends_with("_bucket") && !n.contains(':'));
    match inner {
        Expr::Aggregate(a) => {
            let op = a.op.to_string();
            if !matches!(op.as_str(), "sum" | "max" | "min" | "avg") {
                return None;
            }
            match &a.modifier {
                Some(LabelModifier::Include(l)) if !l.labels.iter().any(|x| x == "le") => Some((
                    "grouping",
                    format!(
                        "`{op} by ({})` drops the `le` label, so `histogram_quantile` has no buckets to interpolate and returns nothing",
                        l.labels.join(", ")
                    ),
                )),
                Some(LabelModifier::Exclude(l)) if l.labels.iter().any(|x| x == "le") => Some((
                    "grouping",
                    format!("`{op} without (..., le)` drops the `le` label, so `histogram_quantile` returns nothing"),
                )),
                None if classic => Some((
                    "aggregation",
                    format!("`{op}(...)` without `by (le)` drops the `le` label, so `histogram_quantile` returns nothing"),
                )),
                _ => None,
            }
        }
        _ if classic && !matches!(inner, Expr::Binary(_)) => Some((
            "call",
            "the buckets are not aggregated `by (le)`: the quantile is computed per series (per instance, path, status...), not for the service, and the alert fires per pod".to_string(),
        )),
        _ => None,
    }
}

impl Check for HistogramQuantile {
    fn id(&self) -> &'static str {
        "promql/histogram-quantile"
    }

    fn at_load(&self) -> bool {
        true
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = Vec::new();
        for (r, expr, parsed) in parsed_exprs(cx) {
            let src = cx.src(r.file);
            walk(parsed.expr(), &mut |node| {
                let Expr::Call(c) = node else { return };
                if c.func.name != "histogram_quantile" {
                    return;
                }
                let Some(arg) = c.args.args.get(1) else {
                    return;
                };
                let Some((kind, msg)) = problem(arg) else {
                    return;
                };
                // Per-series quantiles are valid PromQL, just rarely what was meant: one level lower.
                let per_series = kind == "call";
                let inner = strip_parens(arg);
                let span = match kind {
                    "grouping" => parsed
                        .grouping_span(inner)
                        .or_else(|| parsed.span_of(inner)),
                    "aggregation" => parsed.span_of(inner),
                    _ => parsed.span_of(node),
                };
                let span = source_span(src, expr, span);
                out.push(
                    Finding::new(self.id(), r.file, span, format!("{msg} (in `{}`)", r.name))
                        .label("buckets not aggregated by `le`")
                        .help("aggregate the bucket rates and keep `le`: `histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m])))` (add other labels to `by` to keep them)")
                        .ctx("rule", r.name.to_string())
                        .downgraded(per_series),
                );
            });
        }
        out
    }
}
