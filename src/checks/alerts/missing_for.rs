//! `alerts/missing-for`: an alert without `for`, so a single bad evaluation pages someone.

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
            if !has_selector(parsed.expr()) {
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
