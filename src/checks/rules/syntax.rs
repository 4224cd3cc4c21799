//! `rules/syntax`: rule files that `promtool check rules` rejects (invalid YAML, wrong types,
//! unknown fields, missing `expr`, both/neither `alert`/`record`, bad durations and names,
//! repeated group names), plus YAML type traps promtool accepts (reported one level lower).

use crate::checks::{parse_issues, Check, Ctx, Finding};

pub struct Syntax;

impl Check for Syntax {
    fn id(&self) -> &'static str {
        "rules/syntax"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        parse_issues(cx, self.id())
    }
}
