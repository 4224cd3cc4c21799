//! `alerts/no-condition`: an alert expression with nothing that can make it return fewer series
//! than exist, so it fires for every series all the time.
//!
//! An alert fires for every sample its expression returns, whatever the value (0 included). So
//! what makes an alert conditional is anything that can drop series:
//! - a comparison without `bool` (`> 0.05`, `== 0`);
//! - `and` / `unless` (and `or` when both sides are conditional);
//! - `absent()` / `absent_over_time()`, which return nothing while the series exist;
//! - a label matcher that selects a state rather than a target: any matcher on a label other than
//!   the metric name and the target's identity labels (`job`, `instance`, `namespace`, `pod`...),
//!   e.g. `x_info{operstate="down"}`, `kube_pod_status_phase{phase="Failed"}`,
//!   `http_requests_total{code=~"5.."}`: such series (or their value) exist only in the bad state,
//!   and obsgate cannot tell which do;
//! - the `ALERTS` / `ALERTS_FOR_STATE` series, which exist only while an alert is pending or
//!   firing.
//!
//! Aggregations, arithmetic and functions keep their operands' conditions (`sum(x{phase="Failed"})`
//! is conditional). A comparison with `bool` returns 0 or 1 for every series, so it is a condition
//! only when one of its operands is.

use promql_parser::label::{MatchOp, Matcher, Matchers};
use promql_parser::parser::{token, Expr, VectorSelector};

use crate::checks::promql_util::{has_selector, strip_parens};
use crate::checks::{Check, Ctx, Finding};
use crate::parse::prom_rules::RuleKind;

pub struct NoCondition;

/// Labels that name which target or object a series belongs to, never a state: a matcher on them
/// narrows the targets, each of which still has its series all the time.
const IDENTITY_LABELS: &[&str] = &[
    "__name__",
    "job",
    "instance",
    "namespace",
    "pod",
    "container",
    "service",
    "endpoint",
    "node",
    "cluster",
];

/// Series that exist only while an alert is pending or firing.
const CONDITIONAL_METRICS: &[&str] = &["ALERTS", "ALERTS_FOR_STATE"];

/// Can this matcher leave out series of the metric that exist (does it select a state)?
fn matcher_filters(m: &Matcher) -> bool {
    if IDENTITY_LABELS.contains(&m.name.as_str()) {
        return false;
    }
    // `=~".*"` matches every series, with or without the label
    !(matches!(m.op, MatchOp::Re(_)) && m.value == ".*")
}

fn matchers_filter(ms: &Matchers) -> bool {
    ms.matchers.iter().any(matcher_filters)
        || (!ms.or_matchers.is_empty()
            && ms
                .or_matchers
                .iter()
                .all(|alt| alt.iter().any(matcher_filters)))
}

fn selector_filters(vs: &VectorSelector) -> bool {
    let name = vs.name.as_deref().or_else(|| {
        vs.matchers
            .matchers
            .iter()
            .find(|m| m.name == "__name__" && matches!(m.op, MatchOp::Equal))
            .map(|m| m.value.as_str())
    });
    name.is_some_and(|n| CONDITIONAL_METRICS.contains(&n)) || matchers_filter(&vs.matchers)
}

/// Can the expression return fewer series than exist for the metrics it selects (is it a
/// condition)?
pub fn filters(e: &Expr) -> bool {
    match e {
        Expr::Binary(b) => {
            let id = b.op.id();
            let returns_bool = b.modifier.as_ref().is_some_and(|m| m.return_bool);
            if b.op.is_comparison_operator() {
                !returns_bool || filters(&b.lhs) || filters(&b.rhs)
            } else if id == token::T_LAND || id == token::T_LUNLESS {
                true
            } else if id == token::T_LOR {
                filters(&b.lhs) && filters(&b.rhs)
            } else {
                filters(&b.lhs) || filters(&b.rhs)
            }
        }
        Expr::Paren(p) => filters(&p.expr),
        Expr::Unary(u) => filters(&u.expr),
        Expr::Subquery(s) => filters(&s.expr),
        Expr::Aggregate(a) => filters(&a.expr),
        Expr::Call(c) => {
            matches!(c.func.name, "absent" | "absent_over_time")
                || c.args.args.iter().any(|a| filters(a))
        }
        Expr::VectorSelector(vs) => selector_filters(vs),
        Expr::MatrixSelector(ms) => selector_filters(&ms.vs),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => false,
    }
}

impl Check for NoCondition {
    fn id(&self) -> &'static str {
        "alerts/no-condition"
    }

    fn at_load(&self) -> bool {
        true
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = Vec::new();
        for (r, expr, parsed) in cx.parsed_rules() {
            if r.rule.kind != RuleKind::Alert {
                continue;
            }
            // constant heartbeat alerts (`vector(1)`) are meant to always fire
            if !has_selector(parsed.expr()) || filters(parsed.expr()) {
                continue;
            }
            let top = strip_parens(parsed.expr());
            let uses_bool = matches!(top, Expr::Binary(b) if b.modifier.as_ref().is_some_and(|m| m.return_bool));
            let why = if uses_bool {
                "compares with `bool`, which returns 0 or 1 for every series instead of dropping \
                 the healthy ones"
            } else {
                "has no condition (no comparison, `and`/`unless`, `absent()` or matcher on a state \
                 label)"
            };
            out.push(
                Finding::new(
                    self.id(),
                    r.file,
                    expr.span.clone(),
                    format!(
                        "alert `{}` {why}: an alert fires for every series its expression \
                         returns, whatever the value, so it is firing all the time for everything it selects",
                        r.rule.name.value
                    ),
                )
                .label("returns every series, healthy or not")
                .help(
                    "compare against a threshold (e.g. `... > 0.05`), select the bad state with a \
                     label matcher (`{phase=\"Failed\"}`), or filter with `and`/`unless`",
                )
                .ctx("alert", r.rule.name.value.clone()),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::filters;

    fn cond(q: &str) -> bool {
        filters(&promql_parser::parser::parse(q).expect(q))
    }

    #[test]
    fn unconditional_expressions() {
        for q in [
            "up",
            "rate(x_total[5m])",
            "sum by (job) (rate(x_total[5m]))",
            "up{job=\"api\", instance=~\"10.*\"}",
            "rate(x_total{namespace=\"prod\", pod!=\"\"}[5m])",
            "x{state=~\".*\"}",
            "sum(x) > bool 0",
            "changes(process_start_time_seconds[10m])",
            "x{state=\"bad\"} or vector(0)",
            "topk(3, rate(x_total[5m]))",
            "time() - last_success_timestamp_seconds",
        ] {
            assert!(!cond(q), "{q} should have no condition");
        }
    }

    #[test]
    fn conditions() {
        for q in [
            "up == 0",
            "rate(x_total[5m]) > 1",
            "absent(up{job=\"api\"})",
            "absent_over_time(up[5m])",
            "x unless y",
            "a and on (job) b",
            "x_info{operstate=\"down\"}",
            "ALERTS{alertstate=\"firing\"}",
            "ALERTS",
            "kube_pod_status_phase{phase=\"Failed\"}",
            "strimzi_kafka_topic_resource_info{ready!=\"True\"}",
            "label_replace(info{pause=\"true\"}, \"cluster\", \"$0\", \"name\", \".+\")",
            "max_over_time(x_count{status!=\"success\"}[15m])",
            "sum(cilium_endpoint_state{endpoint_state=\"invalid\"}) by (pod)",
            "rate(x_total[5m]) / rate(y_total{code=~\"5..\"}[5m])",
            "count(up == 0) > bool 0",
            "(x > 1) or (y < 2)",
            "max_over_time((up == 0)[10m:])",
        ] {
            assert!(cond(q), "{q} should be a condition");
        }
    }
}
