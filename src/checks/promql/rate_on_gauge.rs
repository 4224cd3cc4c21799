//! `promql/rate-on-gauge`: `rate`/`irate`/`increase` over something that is not a counter. Until a
//! metric inventory (definitions or a scrape) gives types, the type is judged by name, and only
//! names that clearly denote a gauge are reported (no counter suffix, a level-like ending).

use promql_parser::parser::Expr;

use crate::checks::promql_util::{parsed_exprs, selector_name, source_span, walk};
use crate::checks::{Check, Ctx, Finding};

pub struct RateOnGauge;

const COUNTER_SUFFIXES: &[&str] = &["_total", "_count", "_sum", "_bucket"];
/// Name endings that mean a gauge (a level, never a running total). Deliberately short: older
/// exporters expose counters without `_total` (`*_bytes`, `*_time_seconds`), so ambiguous
/// endings are not judged by name.
const GAUGE_SUFFIXES: &[&str] = &[
    "_ratio",
    "_percent",
    "_percentage",
    "_celsius",
    "_temperature",
    "_info",
    "_utilization",
    "_usage_bytes",
    "_active",
    "_in_use",
    "_in_flight",
    "_inflight",
    "_queue_length",
];

/// Why the metric is a gauge, if its name says so.
pub fn gauge_by_name(name: &str) -> Option<String> {
    if name.contains(':') || COUNTER_SUFFIXES.iter().any(|s| name.ends_with(s)) {
        return None;
    }
    if name == "up" {
        return Some("`up` is 1 or 0 per target".into());
    }
    GAUGE_SUFFIXES.iter().find(|s| name.ends_with(*s)).map(|s| {
        format!("its name ends in `{s}`, a level, with no counter suffix such as `_total`")
    })
}

impl Check for RateOnGauge {
    fn id(&self) -> &'static str {
        "promql/rate-on-gauge"
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
                let f = c.func.name;
                if !matches!(f, "rate" | "irate" | "increase") {
                    return;
                }
                let Some(arg) = c.args.args.first() else {
                    return;
                };
                let Some(name) = selector_name(arg) else {
                    return;
                };
                let Some(why) = gauge_by_name(name) else {
                    return;
                };
                let span = source_span(src, expr, parsed.span_of(node));
                let instead = if f == "increase" { "delta" } else { "deriv" };
                out.push(
                    Finding::new(
                        self.id(),
                        r.file,
                        span,
                        format!(
                            "`{f}` on `{name}`, which looks like a gauge ({why}); `{f}` treats every decrease as a counter reset, so the result is wrong whenever the value goes down"
                        ),
                    )
                    .label(format!("`{f}` of a gauge"))
                    .help(format!("use `{instead}({name}[...])` for the change of a gauge, or compare the gauge directly; if it really is a counter, rename it with a `_total` suffix"))
                    .ctx("metric", name.to_string())
                    .ctx("function", f.to_string()),
                );
            });
        }
        out
    }
}
