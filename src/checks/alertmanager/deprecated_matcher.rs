//! `alertmanager/deprecated-matcher`: `match`, `match_re` (routes) and `source_match(_re)`,
//! `target_match(_re)` (inhibit rules). Alertmanager deprecated them for `matchers:`,
//! `source_matchers:` and `target_matchers:`, which also support `!=`, `!~` and UTF-8 label
//! names. The help gives the exact replacement line, merging any matchers already present.

use crate::checks::{Check, Ctx, Finding, Fix};
use crate::parse::alertmanager::{LegacyMatch, SMatcher};
use crate::parse::am_matcher::{self, MatchOp};
use crate::source::Span;

pub struct DeprecatedMatcher;

/// `matchers: ['a="b"', 'c=~"d"']` (YAML flow list of single-quoted strings).
fn replacement(key: &str, existing: &[SMatcher], legacy: &[&LegacyMatch]) -> String {
    let mut items: Vec<String> = existing.iter().map(|m| m.matcher.render()).collect();
    for l in legacy {
        let op = if l.regex {
            MatchOp::Regex
        } else {
            MatchOp::Equal
        };
        for (k, v) in &l.entries {
            items.push(am_matcher::render(&k.value, op, &v.value));
        }
    }
    let quoted: Vec<String> = items
        .iter()
        .map(|s| format!("'{}'", s.replace('\'', "''")))
        .collect();
    format!("{key}: [{}]", quoted.join(", "))
}

/// "`match:` and `match_re:`" (plus the existing new-style key, which the line replaces too).
fn replaced_fields(new_key: &str, has_new: bool, legacy: &[&LegacyMatch]) -> String {
    let mut names: Vec<String> = Vec::new();
    if has_new {
        names.push(format!("`{new_key}:`"));
    }
    names.extend(legacy.iter().map(|l| format!("`{}:`", l.field)));
    match names.len() {
        1 => names.remove(0),
        _ => {
            let last = names.pop().unwrap_or_default();
            format!("{} and {last}", names.join(", "))
        }
    }
}

impl Check for DeprecatedMatcher {
    fn id(&self) -> &'static str {
        "alertmanager/deprecated-matcher"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = Vec::new();
        // the fix of a route or inhibit rule side (all its fields at once) rides on the finding
        // of its first legacy field
        let mut report = |file,
                          l: &LegacyMatch,
                          new_key: &str,
                          repl: &str,
                          what: &str,
                          replaced: &str,
                          fix: Option<Fix>| {
            let finding = Finding::new(
                    self.id(),
                    file,
                    l.key.clone(),
                    format!(
                        "`{}` is deprecated in {what}: Alertmanager replaced it with `{new_key}`",
                        l.field
                    ),
                )
                .label("deprecated matcher syntax")
                .help(format!(
                    "replace {replaced} with `{repl}` (same semantics: values are exact, regexes anchored; `{new_key}` also supports `!=`, `!~` and UTF-8 label names); `obsgate fix` does it"
                ));
            out.push(match fix {
                Some(f) => finding.fix(f),
                None => finding,
            });
        };
        // the edits: the first field replaced by the one-line replacement, the others removed
        // (no edits when the fields are not written one per line: `obsgate fix` says so)
        let fix = |file, fields: Vec<Span>, repl: &str, replaced: &str| {
            let edits = crate::fix::replace_fields(file, cx.src(file), &fields, repl.to_string());
            Some(Fix {
                title: format!("replace {replaced} with `{repl}`"),
                edits: edits.unwrap_or_default(),
                safe: true,
            })
        };
        for am in cx.project.alertmanager_configs() {
            for (r, _) in am.config.routes() {
                let legacy: Vec<&LegacyMatch> = r.legacy.iter().collect();
                if legacy.is_empty() {
                    continue;
                }
                let repl = replacement("matchers", &r.matchers, &legacy);
                let replaced = replaced_fields("matchers", !r.matchers.is_empty(), &legacy);
                let fields = legacy.iter().map(|l| l.field_span.clone());
                let fields = fields.chain(r.matchers_field.clone()).collect();
                let mut f = fix(am.file, fields, &repl, &replaced);
                for l in &legacy {
                    report(
                        am.file,
                        l,
                        "matchers",
                        &repl,
                        "a route",
                        &replaced,
                        f.take(),
                    );
                }
            }
            for ir in &am.config.inhibit_rules {
                for (side, existing, existing_field) in [
                    ("source", &ir.source_matchers, &ir.source_matchers_field),
                    ("target", &ir.target_matchers, &ir.target_matchers_field),
                ] {
                    let legacy: Vec<&LegacyMatch> = ir
                        .legacy
                        .iter()
                        .filter(|l| l.field.starts_with(side))
                        .collect();
                    if legacy.is_empty() {
                        continue;
                    }
                    let key = format!("{side}_matchers");
                    let repl = replacement(&key, existing, &legacy);
                    let replaced = replaced_fields(&key, !existing.is_empty(), &legacy);
                    let fields = legacy.iter().map(|l| l.field_span.clone());
                    let fields = fields.chain(existing_field.clone()).collect();
                    let mut f = fix(am.file, fields, &repl, &replaced);
                    for l in &legacy {
                        report(
                            am.file,
                            l,
                            &key,
                            &repl,
                            "an inhibit rule",
                            &replaced,
                            f.take(),
                        );
                    }
                }
            }
        }
        out
    }
}
