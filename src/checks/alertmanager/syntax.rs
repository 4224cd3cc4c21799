//! `alertmanager/syntax`: Alertmanager configs that `amtool check-config` (and Alertmanager
//! itself) refuse to load: unknown fields, wrong types, undefined receivers and time intervals,
//! a root route without receiver or with matchers, bad matchers/regexes/label names/durations,
//! a secret set both inline and as `*_file`, integrations missing required settings. The
//! validation lives in `parse::alertmanager`; this check forwards its issues. Matchers that only
//! the deprecated classic parser accepts are reported one level lower.

use crate::checks::{parse_issues, Check, Ctx, Finding};

pub struct Syntax;

impl Check for Syntax {
    fn id(&self) -> &'static str {
        "alertmanager/syntax"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        parse_issues(cx, self.id())
    }
}
