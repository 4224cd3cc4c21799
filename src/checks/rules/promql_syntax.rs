//! `rules/promql-syntax`: rule expressions that do not parse, at the offending token.

use crate::checks::{parse_issues, Check, Ctx, Finding};

pub struct PromqlSyntax;

impl Check for PromqlSyntax {
    fn id(&self) -> &'static str {
        "rules/promql-syntax"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        parse_issues(cx, self.id())
            .into_iter()
            .map(|f| f.help("fix the PromQL; Prometheus refuses to load the whole rule file while one expression is invalid"))
            .collect()
    }
}
