//! `alerts/missing-for`: an alert without `for`, so a single bad evaluation pages someone.
//!
//! An alert whose every selector is read over a window of at least five minutes
//! (`increase(x[1h]) > 0`, `changes(y[30m]) >= 2`, `avg_over_time(z[10m]) > 0.9`) already
//! needs the condition to hold over that window: one bad scrape or a restart does not fire it,
//! so it is not reported. Info metrics joined for their labels (`node_uname_info`) do not count.

use promql_parser::parser::Expr;

use crate::checks::promql_util::has_selector;
use crate::checks::{Check, Ctx, Finding};
use crate::parse::prom_rules::RuleKind;

pub struct MissingFor;

impl Check for MissingFor {
    fn id(&self) -> &'static str {
        "alerts/missing-for"
    }

    fn at_load(&self) -> bool {
        true
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = Vec::new();
        for (r, _, parsed) in cx.parsed_rules() {
            if r.rule.kind != RuleKind::Alert
                || r.rule.for_.is_some()
                || r.rule.name.value.is_empty()
            {
                continue;
            }
            // Constant expressions (`vector(1)` heartbeat alerts such as Watchdog) fire on purpose.
            if !has_selector(parsed.expr()) || windowed(parsed.expr(), false) {
                continue;
            }
            out.push(
                Finding::new(
                    self.id(),
                    r.file,
                    r.rule.anchor(),
                    format!(
                        "alert `{}` has no `for`: it fires on the first evaluation that matches, so one bad scrape or a restart pages someone",
                        r.rule.name.value
                    ),
                )
                .label("alert defined here")
                .help("add `for: 5m` (or at least a few evaluation intervals) so the condition must hold before it fires")
                .ctx("alert", r.rule.name.value.clone()),
            );
        }
        out
    }
}

/// The shortest window that smooths a condition by itself.
const MIN_WINDOW: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// Is every selector of `e` read over a window of at least [`MIN_WINDOW`] (`inside`: `e` is
/// already within such a window)?
fn windowed(e: &Expr, inside: bool) -> bool {
    match e {
        // an info metric joined for its labels (`* on (instance) group_left (nodename)
        // node_uname_info`) carries no condition
        Expr::VectorSelector(v) => {
            inside || v.name.as_deref().is_some_and(|n| n.ends_with("_info"))
        }
        Expr::MatrixSelector(m) => inside || m.range >= MIN_WINDOW,
        Expr::Subquery(s) => windowed(&s.expr, inside || s.range >= MIN_WINDOW),
        Expr::Aggregate(a) => windowed(&a.expr, inside),
        Expr::Unary(u) => windowed(&u.expr, inside),
        Expr::Paren(p) => windowed(&p.expr, inside),
        Expr::Binary(b) => windowed(&b.lhs, inside) && windowed(&b.rhs, inside),
        Expr::Call(c) => c.args.args.iter().all(|a| windowed(a, inside)),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => true,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn windows_smooth_the_condition() {
        let w = |q: &str| super::windowed(&promql_parser::parser::parse(q).expect(q), false);
        assert!(w("increase(cortex_wal_corruptions_total[5m]) > 0"));
        assert!(w("changes(process_start_time_seconds[30m]) >= 2"));
        assert!(w(
            "sum(rate(errors_total[10m])) / sum(rate(requests_total[10m])) > 0.05"
        ));
        assert!(w("max_over_time(up[10m:1m]) == 0"));
        assert!(w(
            "predict_linear(node_filesystem_free_bytes[2d], 86400) * on (instance) group_left (nodename) node_uname_info < 0"
        ));
        // an instant value somewhere, or a window too short to smooth anything
        assert!(!w("up == 0"));
        assert!(!w("node_textfile_scrape_error == 1"));
        assert!(!w("rate(x[1m]) > 1"));
        assert!(!w("rate(errors_total[10m]) > on (job) group_left up"));
        assert!(!w("absent(up{job=\"a\"})"));
    }
}
