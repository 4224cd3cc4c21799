//! `promql/rate-on-gauge`: `rate`/`irate`/`increase` over something that is not a counter.
//!
//! The metric inventory gives types ([`crate::model::inventory`]): a series known as a counter's
//! (a counter definition or scraped family, a histogram's `_bucket`/`_sum`/`_count`) anywhere in
//! the run is never reported; one known only as a gauge's is, naming where the type comes from.
//! A metric of unknown type (untyped in a scrape, a recording rule's output, not in the
//! inventory) is judged by name, and only names that clearly denote a gauge are reported (no
//! counter suffix, a level-like ending).

use promql_parser::parser::Expr;

use crate::checks::promql_util::{parsed_exprs_if, selector_name, source_span, walk};
use crate::checks::{Check, Ctx, Finding};
use crate::model::inventory::{self, Source, Types};

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

/// The words of an expression's text that could be metric names.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|w| !w.is_empty())
}

impl Check for RateOnGauge {
    fn id(&self) -> &'static str {
        "promql/rate-on-gauge"
    }

    fn per_file(&self) -> bool {
        true
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        // the types the run's inventory gives, once per run (this check runs file by file)
        let types: &Types = cx.once(|| Types::of(&inventory::inventory(cx.project)));
        let judged =
            |name: &str| -> Option<Option<&(crate::source::FileId, crate::source::Span, Source)>> {
                if types.counters.contains_key(name) {
                    return None;
                }
                if let Some(g) = types.gauge(name) {
                    return Some(Some(g));
                }
                gauge_by_name(name).map(|_| None)
            };
        // only expressions that name a gauge (by type or by name) are parsed again
        let wanted = |text: &str| {
            (text.contains("rate") || text.contains("increase"))
                && words(text).any(|w| judged(w).is_some())
        };
        let mut out = Vec::new();
        for (r, expr, parsed) in parsed_exprs_if(cx, wanted) {
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
                let Some(known) = judged(name) else {
                    return;
                };
                let why = match known {
                    Some((file, span, source)) => {
                        let at = inventory::place(cx.sources, *file, span);
                        match source {
                            Source::Definition => format!("which is defined as a gauge at `{at}`"),
                            _ => format!("which is typed as a gauge at `{at}`"),
                        }
                    }
                    None => match gauge_by_name(name) {
                        Some(why) => format!("which looks like a gauge ({why})"),
                        None => return,
                    },
                };
                let span = source_span(src, expr, parsed.span_of(node));
                let instead = if f == "increase" { "delta" } else { "deriv" };
                let rename = if known.is_some() {
                    "if it really counts, make it a counter"
                } else {
                    "if it really is a counter, rename it with a `_total` suffix"
                };
                out.push(
                    Finding::new(
                        self.id(),
                        r.file,
                        span,
                        format!(
                            "`{f}` on `{name}`, {why}; `{f}` treats every decrease as a counter reset, so the result is wrong whenever the value goes down"
                        ),
                    )
                    .label(format!("`{f}` of a gauge"))
                    .help(format!("use `{instead}({name}[...])` for the change of a gauge, or compare the gauge directly; {rename}"))
                    .ctx("metric", name.to_string())
                    .ctx("function", f.to_string()),
                );
            });
        }
        out
    }
}
