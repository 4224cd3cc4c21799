//! `alerts/no-condition`: an alert expression with no comparison or filter, so it fires for every
//! series that exists.

use promql_parser::parser::{token, Expr};

use crate::checks::promql_util::{has_selector, strip_parens};
use crate::checks::{Check, Ctx, Finding};
use crate::parse::prom_rules::RuleKind;

pub struct NoCondition;

/// Can the expression return fewer series than its selectors select (does it filter)?
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
        _ => false,
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
                "compares with `bool`, which returns 0 or 1 for every series instead of filtering"
            } else {
                "has no comparison or filter"
            };
            out.push(
                Finding::new(
                    self.id(),
                    r.file,
                    expr.span.clone(),
                    format!(
                        "alert `{}` {why}: it fires for every series the expression returns",
                        r.rule.name.value
                    ),
                )
                .label("always returns every series")
                .help(
                    "compare against a threshold (e.g. `... > 0.05`) or filter with `and`/`unless`",
                )
                .ctx("alert", r.rule.name.value.clone()),
            );
        }
        out
    }
}
