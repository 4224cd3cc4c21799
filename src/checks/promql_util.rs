//! Small helpers over the PromQL AST shared by checks.

use promql_parser::parser::Expr;

pub fn strip_parens(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip_parens(&p.expr),
        other => other,
    }
}

/// Every node of the tree in source order (pre-order).
pub fn walk<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
    f(e);
    match e {
        Expr::Aggregate(a) => {
            if let Some(p) = &a.param {
                walk(p, f);
            }
            walk(&a.expr, f);
        }
        Expr::Unary(u) => walk(&u.expr, f),
        Expr::Binary(b) => {
            walk(&b.lhs, f);
            walk(&b.rhs, f);
        }
        Expr::Paren(p) => walk(&p.expr, f),
        Expr::Subquery(s) => walk(&s.expr, f),
        Expr::Call(c) => {
            for a in &c.args.args {
                walk(a, f);
            }
        }
        Expr::MatrixSelector(_)
        | Expr::VectorSelector(_)
        | Expr::NumberLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::Extension(_) => {}
    }
}

/// Does the expression select any series (as opposed to a constant like `vector(1)`)?
pub fn has_selector(e: &Expr) -> bool {
    let mut found = false;
    walk(e, &mut |n| {
        if matches!(n, Expr::VectorSelector(_) | Expr::MatrixSelector(_)) {
            found = true;
        }
    });
    found
}

/// The metric name of a selector: its name or its `__name__="..."` matcher.
pub fn selector_name(e: &Expr) -> Option<&str> {
    let vs = match e {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(ms) => &ms.vs,
        _ => return None,
    };
    if let Some(n) = &vs.name {
        return Some(n);
    }
    vs.matchers
        .matchers
        .iter()
        .find(|m| m.name == "__name__" && matches!(m.op, promql_parser::label::MatchOp::Equal))
        .map(|m| m.value.as_str())
}

/// All metric names selected anywhere in the expression.
pub fn metric_names(e: &Expr) -> Vec<&str> {
    let mut out = Vec::new();
    walk(e, &mut |n| {
        if let Some(name) = selector_name(n) {
            out.push(name);
        }
    });
    out
}

/// Where a PromQL expression lives: a rule, or an expression written elsewhere (an analysis
/// artifact's `alerting_rules`).
#[derive(Debug, Clone, Copy)]
pub struct ExprSite<'a> {
    pub file: crate::source::FileId,
    /// The rule's name, or what names the expression elsewhere.
    pub name: &'a str,
}

/// An expression with where it lives and its tree.
pub type SiteTree<'a> = (
    ExprSite<'a>,
    &'a crate::parse::prom_rules::RuleExpr,
    &'a crate::parse::promql::Parsed,
);

/// Every expression of a per-file check's scope that parsed, with its tree: rules first, then
/// PromQL written outside rule files.
pub fn parsed_exprs<'a>(cx: &crate::checks::Ctx<'a>) -> impl Iterator<Item = SiteTree<'a>> {
    parsed_exprs_if(cx, |_| true)
}

/// [`parsed_exprs`] of the expressions whose text passes `wanted`, a test that no expression a
/// check reports on fails (the others' trees are not parsed again).
pub fn parsed_exprs_if<'a>(
    cx: &crate::checks::Ctx<'a>,
    wanted: impl Fn(&str) -> bool + Copy,
) -> impl Iterator<Item = SiteTree<'a>> {
    let rules = cx.parsed_rules_if(wanted).map(|(r, e, p)| {
        (
            ExprSite {
                file: r.file,
                name: r.rule.name.value.as_str(),
            },
            e,
            p,
        )
    });
    let extra = cx.parsed_extra_if(wanted).map(|(x, file, p)| {
        (
            ExprSite {
                file,
                name: x.name.as_str(),
            },
            &x.expr,
            p,
        )
    });
    rules.chain(extra)
}

/// The source span of a span inside an expression (through the YAML scalar's quoting), or of the
/// whole `expr:` value when the inner span is unknown.
pub fn source_span(
    src: &str,
    expr: &crate::parse::prom_rules::RuleExpr,
    inner: Option<crate::source::Span>,
) -> crate::source::Span {
    match inner {
        Some(s) => expr.inner_span(src, &s),
        None => expr.span.clone(),
    }
}
