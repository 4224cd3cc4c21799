//! `promql/histogram-quantile`: `histogram_quantile` over classic buckets whose `le` label an
//! aggregation (or vector matching) dropped on the way: there are no buckets left to interpolate,
//! so the expression returns nothing and the rule never has a value.
//!
//! A quantile with no aggregation at all (`histogram_quantile(0.99, rate(x_bucket[5m]))`) is
//! computed per series (per instance, per member), which is often deliberate: an info, not an
//! error;
//! so are native histograms (no `_bucket` series, nothing to keep) and aggregations that keep
//! `le` (`by (le, ...)`, `without (...)` not naming it).
//!
//! A selector not named `*_bucket` is a native histogram (Prometheus 3: no `le`, nothing to keep)
//! unless the metric inventory knows the metric as a histogram with classic buckets only (a
//! definition with buckets, scraped `_bucket` series, no native buckets declared): then no series
//! has that name (its buckets are `<name>_bucket`), and the quantile is reported.

use promql_parser::parser::{Expr, LabelModifier};

use crate::checks::promql_util::{
    metric_names, parsed_exprs_if, selector_name, source_span, strip_parens, walk,
};
use crate::checks::{Check, Ctx, Finding};
use crate::model::inventory::{self, Source, Types};
use crate::parse::promql::{output_labels, Presence};

pub struct HistogramQuantile;

/// Does the expression select classic histogram buckets (`x_bucket`, or a recorded
/// `level:x_bucket:rate5m`)?
fn selects_buckets(e: &Expr) -> bool {
    metric_names(e)
        .iter()
        .any(|n| n.split(':').any(|part| part.ends_with("_bucket")))
}

/// Raw classic buckets (`x_bucket`, not a recording rule's output) without any aggregation.
fn per_series(e: &Expr) -> bool {
    let mut aggregated = false;
    walk(e, &mut |n| aggregated |= matches!(n, Expr::Aggregate(_)));
    !aggregated
        && metric_names(e)
            .iter()
            .any(|n| !n.contains(':') && n.ends_with("_bucket"))
}

/// Is `le` certainly absent from the expression's result?
fn drops_le(e: &Expr) -> bool {
    output_labels(e, &|_| None).presence("le") == Presence::No
}

/// The outermost node of `e` (whose result has no `le`) that drops `le` from its input.
fn dropper(e: &Expr) -> &Expr {
    let e = strip_parens(e);
    let inner: Option<&Expr> = match e {
        Expr::Aggregate(a) => Some(&a.expr),
        Expr::Binary(b) => [&b.lhs, &b.rhs]
            .into_iter()
            .map(|x| x.as_ref())
            .find(|x| selects_buckets(x) && drops_le(x)),
        Expr::Call(c) => c.args.args.iter().map(|a| a.as_ref()).find(|a| drops_le(a)),
        Expr::Subquery(s) => Some(&s.expr),
        Expr::Unary(u) => Some(&u.expr),
        _ => None,
    };
    match inner {
        Some(i) if drops_le(i) => dropper(i),
        _ => e,
    }
}

/// What drops `le`, and where to point.
fn describe(node: &Expr) -> (String, bool) {
    match node {
        Expr::Aggregate(a) => {
            let op = a.op.to_string();
            match &a.modifier {
                Some(LabelModifier::Include(l)) => (
                    format!("`{op} by ({})` drops the `le` label", l.labels.join(", ")),
                    true,
                ),
                Some(LabelModifier::Exclude(l)) => (
                    format!(
                        "`{op} without ({})` drops the `le` label",
                        l.labels.join(", ")
                    ),
                    true,
                ),
                None => (
                    format!("`{op}(...)` without `by (le)` drops the `le` label"),
                    false,
                ),
            }
        }
        Expr::Binary(_) => (
            "the vector matching (`on`/`ignoring`) drops the `le` label".to_string(),
            false,
        ),
        _ => ("the `le` label is dropped".to_string(), false),
    }
}

impl Check for HistogramQuantile {
    fn id(&self) -> &'static str {
        "promql/histogram-quantile"
    }

    fn per_file(&self) -> bool {
        true
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        // what the run's inventory knows of histograms, once per run (this check runs file by file)
        let types: &Types = cx.once(|| Types::of(&inventory::inventory(cx.project)));
        let mut out = Vec::new();
        let wanted = |text: &str| text.contains("histogram_quantile");
        for (r, expr, parsed) in parsed_exprs_if(cx, wanted) {
            let src = cx.src(r.file);
            walk(parsed.expr(), &mut |node| {
                let Expr::Call(c) = node else { return };
                if c.func.name != "histogram_quantile" {
                    return;
                }
                let Some(arg) = c.args.args.get(1) else {
                    return;
                };
                if !selects_buckets(arg) {
                    // a histogram selected by its own name: native, unless the inventory knows
                    // it has classic buckets only
                    walk(arg, &mut |sel| {
                        let Some(name) = selector_name(sel) else {
                            return;
                        };
                        let Some((_, file, at, source)) = types.classic_only(name) else {
                            return;
                        };
                        let at = inventory::place(cx.sources, *file, at);
                        let known = match source {
                            Source::Definition => {
                                format!("defined at `{at}` with classic buckets and no native ones")
                            }
                            _ => format!("with `{name}_bucket` series in the scrape at `{at}`"),
                        };
                        let span = source_span(src, expr, parsed.span_of(sel));
                        out.push(
                            Finding::new(
                                self.id(),
                                r.file,
                                span,
                                format!(
                                    "`{name}` is a classic histogram ({known}): no series is named `{name}`, its buckets are `{name}_bucket` with `le`, so `histogram_quantile` gets nothing and `{}` never has a value",
                                    r.name
                                ),
                            )
                            .label("no such series")
                            .help(format!("select the buckets and keep `le`: `histogram_quantile(0.95, sum by (le) (rate({name}_bucket[5m])))`, or give the histogram native buckets (client_golang `NativeHistogramBucketFactor`) and scrape them"))
                            .ctx("rule", r.name.to_string())
                            .ctx("metric", name.to_string())
                            // a text scrape shows only the classic buckets: the target may
                            // also have native ones, which Prometheus gets over protobuf
                            .downgraded(*source == Source::Scrape),
                        );
                    });
                    return;
                }
                if !drops_le(arg) {
                    // raw buckets, no aggregation at all: a quantile per series, worth knowing
                    if per_series(arg) {
                        let span = source_span(src, expr, parsed.span_of(node));
                        out.push(
                            Finding::new(
                                self.id(),
                                r.file,
                                span,
                                format!(
                                    "`{}` takes the quantile of each bucket series separately (per instance, pod, path...), not of the service: fine when that is the intent (per member), surprising when one slow pod should not page",
                                    r.name
                                ),
                            )
                            .label("no aggregation")
                            .help("for a service-level quantile aggregate the buckets by `le` and the labels you want to keep: `histogram_quantile(0.95, sum by (le, service) (rate(x_bucket[5m])))`")
                            .ctx("rule", r.name.to_string())
                            .lowered(2),
                        );
                    }
                    return;
                }
                let culprit = dropper(arg);
                let (what, at_grouping) = describe(culprit);
                let span = if at_grouping {
                    parsed
                        .grouping_span(culprit)
                        .or_else(|| parsed.span_of(culprit))
                } else {
                    parsed.span_of(culprit)
                }
                .or_else(|| parsed.span_of(node));
                let span = source_span(src, expr, span);
                out.push(
                    Finding::new(
                        self.id(),
                        r.file,
                        span,
                        format!(
                            "{what} of the histogram buckets, so `histogram_quantile` has no buckets to interpolate and returns nothing: `{}` never has a value",
                            r.name
                        ),
                    )
                    .label("drops `le`")
                    .help("keep `le` in the aggregation, next to the labels you want per quantile: `histogram_quantile(0.95, sum by (job, le) (rate(x_bucket[5m])))`")
                    .ctx("rule", r.name.to_string()),
                );
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{describe, dropper, drops_le, selects_buckets};

    /// What drops `le` in the bucket argument of the first `histogram_quantile`, if anything.
    fn problem(q: &str) -> Option<String> {
        let parsed = promql_parser::parser::parse(q).expect(q);
        let promql_parser::parser::Expr::Call(c) =
            crate::checks::promql_util::strip_parens(&parsed)
        else {
            panic!("{q}: not a call");
        };
        let arg = &c.args.args[1];
        (selects_buckets(arg) && drops_le(arg)).then(|| describe(dropper(arg)).0)
    }

    #[test]
    fn aggregations_that_drop_le() {
        for (q, what) in [
            (
                "histogram_quantile(0.99, sum by (job) (rate(x_bucket[5m])))",
                "`sum by (job)`",
            ),
            (
                "histogram_quantile(0.99, sum(rate(x_bucket[5m])))",
                "`sum(...)` without `by (le)`",
            ),
            (
                "histogram_quantile(0.99, sum without (le) (rate(x_bucket[5m])))",
                "`sum without (le)`",
            ),
            (
                "histogram_quantile(0.99, count by (job) (x_bucket))",
                "`count by (job)`",
            ),
            // the outer aggregation keeps `le`, the inner one already dropped it
            (
                "histogram_quantile(0.9, sum by (le) (sum by (job) (rate(x_bucket[5m]))))",
                "`sum by (job)`",
            ),
            (
                "histogram_quantile(0.9, max by (job) (job:x_bucket:rate5m))",
                "`max by (job)`",
            ),
        ] {
            let got = problem(q).unwrap_or_else(|| panic!("{q}: not reported"));
            assert!(got.starts_with(what), "{q}: {got}");
        }
    }

    #[test]
    fn per_series_quantiles() {
        let arg = |q: &str| {
            let parsed = promql_parser::parser::parse(q).expect(q);
            let promql_parser::parser::Expr::Call(c) = parsed else {
                panic!("{q}");
            };
            super::per_series(&c.args.args[1])
        };
        assert!(arg("histogram_quantile(0.99, rate(x_bucket[5m]))"));
        assert!(!arg(
            "histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))"
        ));
        // a recording rule's output is already aggregated
        assert!(!arg("histogram_quantile(0.9, service:x_bucket:rate5m)"));
        assert!(!arg("histogram_quantile(0.9, rate(x_seconds[5m]))"));
    }

    #[test]
    fn valid_quantiles() {
        for q in [
            // per series, deliberately (per instance, per etcd member)
            "histogram_quantile(0.99, rate(x_bucket[5m]))",
            "histogram_quantile(0.99, rate(x_bucket{job=~\".*etcd.*\"}[5m]))",
            "histogram_quantile(0.95, sum by (le, service) (rate(x_bucket[5m])))",
            "histogram_quantile(0.95, sum(rate(x_bucket[5m])) by (le))",
            "histogram_quantile(0.99, sum without (instance, pod) (rate(x_bucket[5m])))",
            "histogram_quantile(0.9, service:x_bucket:rate5m)",
            // native histograms have no `le`
            "histogram_quantile(0.9, sum by (job) (rate(x[5m])))",
            "histogram_quantile(0.9, sum(rate(x_seconds[5m])))",
            "histogram_quantile(0.9, rate(x_bucket[5m]) / on (job, le) group_left rate(y_bucket[5m]))",
        ] {
            assert_eq!(problem(q), None, "{q}");
        }
    }
}
