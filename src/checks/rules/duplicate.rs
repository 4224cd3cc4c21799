//! `rules/duplicate`: the same alert (or recording rule) with the same static labels and the same
//! expression defined twice, within or across files. Prometheus evaluates both and the copies fight over one alert identity.

use std::collections::HashMap;

use crate::checks::{Check, Ctx, Finding};
use crate::parse::prom_rules::RuleKind;
use crate::source::Text;

pub struct Duplicate;

/// Identity of a rule: kind, name, sorted static labels and the normalised expression.
type RuleKey = (RuleKind, Text, Vec<(Text, Text)>, String);

impl Check for Duplicate {
    fn id(&self) -> &'static str {
        "rules/duplicate"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        // only names defined more than once can be duplicates: the (costly) keys are built for
        // those alone
        let mut names: HashMap<(RuleKind, &str), usize> = HashMap::new();
        for r in cx.project.rules() {
            *names
                .entry((r.rule.kind, r.rule.name.value.as_str()))
                .or_default() += 1;
        }
        let mut seen: HashMap<RuleKey, crate::model::RuleRef> = HashMap::new();
        let mut out = Vec::new();
        for r in cx.project.rules() {
            if r.rule.name.value.is_empty()
                || names
                    .get(&(r.rule.kind, r.rule.name.value.as_str()))
                    .copied()
                    .unwrap_or(0)
                    < 2
            {
                continue;
            }
            let mut labels: Vec<(Text, Text)> = r
                .rule
                .labels
                .iter()
                .map(|p| (p.key.value.clone(), p.value.value.clone()))
                .collect();
            labels.sort();
            // the same name and labels with a different expression is a different series set (e.g. one
            // recording rule per status class), not a duplicate
            let expr = match &r.rule.expr {
                Some(e) => match &e.parsed {
                    Ok(p) => p.materialized().expr().to_string(),
                    Err(_) => e.text().split_whitespace().collect::<Vec<_>>().join(" "),
                },
                None => String::new(),
            };
            let key = (r.rule.kind, r.rule.name.value.clone(), labels, expr);
            match seen.get(&key) {
                Some(first) => {
                    let what = if r.rule.kind == RuleKind::Alert {
                        "alert"
                    } else {
                        "recording rule"
                    };
                    let first_src = cx.project.sources.get(first.file);
                    let (line, _) = first_src.line_col(first.rule.name.span.start);
                    let same_file = first.file == r.file;
                    let where_ = if same_file {
                        format!("line {line}")
                    } else {
                        format!("{}:{line}", first_src.path)
                    };
                    let mut f = Finding::new(
                        self.id(),
                        r.file,
                        r.rule.name.span.clone(),
                        format!(
                            "{what} `{}` with the same labels and expression is already defined at {where_} (group `{}`)",
                            r.rule.name.value, first.group.name.value
                        ),
                    )
                    .label("duplicate")
                    .help("delete one copy, or give them different labels (e.g. `severity`) if both are meant to exist")
                    .also(first.file, first.rule.name.span.clone(), "first defined here")
                    .ctx("name", r.rule.name.value.clone());
                    if !same_file {
                        f = f.ctx("first_file", first_src.path.clone());
                    }
                    out.push(f);
                }
                None => {
                    seen.insert(key, r);
                }
            }
        }
        out
    }
}
