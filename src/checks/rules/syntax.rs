//! `rules/syntax`: rule files that `promtool check rules` rejects (invalid YAML, wrong types,
//! unknown fields, missing `expr`, both/neither `alert`/`record`, bad durations and names,
//! repeated group names), plus YAML type traps promtool accepts (reported one level lower).
//!
//! One case is said one level lower: a rule with a field Prometheus does not know when the same
//! rule (name and expression) is also in another rule file of the run that Prometheus accepts.
//! That is a generator's input beside its output (a `runbook:` block that a script turns into
//! annotations, a jsonnet-free source of a chart's rules): Prometheus never loads it as it is.

use crate::checks::{parse_issues, Check, Ctx, Finding};
use crate::model::RuleRef;

pub struct Syntax;

impl Check for Syntax {
    fn id(&self) -> &'static str {
        "rules/syntax"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = parse_issues(cx, self.id());
        if !out.iter().any(|f| f.message.starts_with("unknown field")) {
            return out;
        }
        // rule files Prometheus accepts (no rules/syntax error of their own)
        let clean: Vec<_> = cx
            .files()
            .iter()
            .filter(|f| {
                !f.rule_docs.is_empty()
                    && !f
                        .issues
                        .iter()
                        .any(|i| i.check == "rules/syntax" && !i.downgrade)
            })
            .collect();
        for finding in &mut out {
            if !finding.message.starts_with("unknown field") || finding.downgrade > 0 {
                continue;
            }
            let Some(file) = cx.files().iter().find(|f| f.file == finding.file) else {
                continue;
            };
            let at = finding.span.start;
            let Some(rule) = crate::model::rules_of(std::slice::from_ref(file))
                .find(|r| r.rule.span.start <= at && at < r.rule.span.end)
            else {
                continue;
            };
            let copy = |r: &RuleRef| {
                r.rule.kind == rule.rule.kind
                    && r.rule.name.value == rule.rule.name.value
                    && r.rule.expr.as_ref().map(|e| e.text().trim())
                        == rule.rule.expr.as_ref().map(|e| e.text().trim())
            };
            let Some(output) = clean
                .iter()
                .filter(|f| f.file != file.file)
                .find_map(|f| crate::model::rules_of(std::slice::from_ref(*f)).find(copy))
            else {
                continue;
            };
            let path = cx.sources.outer_path(output.file);
            finding.message = format!(
                "{} (the same rule is in `{path}`, which Prometheus accepts: this file looks like the input of a generator, not loaded as it is)",
                finding.message.text()
            )
            .into();
            let span = output.rule.name.span.clone();
            *finding = std::mem::replace(
                finding,
                Finding::new(self.id(), output.file, 0..0, String::new()),
            )
            .downgraded(true)
            .also(output.file, span, "the same rule, as Prometheus loads it");
        }
        out
    }
}
