//! `alerts/missing-runbook`: an alert without a `runbook_url` annotation. An error for alerts
//! that page (their `severity` label is one of `paging_severities`: critical, page, pager,
//! emergency), a warning for the others (and when the severity is missing, unknown or
//! templated). A runbook written under a known other key (`runbook`, `playbook`,
//! `documentation`, `runbook_link`, `docs`, ...) counts as present, with an info finding
//! naming the conventional key.

use super::AlertLevel;
use crate::checks::{Check, Ctx, Finding, Msg};
use crate::source::Text;

pub struct MissingRunbook;

/// Other annotation keys teams and mixins keep a runbook or documentation link under (the Ceph
/// mixin's `documentation`, ...), compared without case and `_`/`-`.
const ALTERNATIVE_KEYS: &[&str] = &[
    "runbook",
    "runbookurl",
    "runbooklink",
    "playbook",
    "playbookurl",
    "playbooklink",
    "documentation",
    "documentationurl",
    "docs",
    "docsurl",
    "doc",
    "docurl",
];

/// A `runbook`/`playbook` annotation may hold the steps themselves; a `documentation`/`docs`
/// one counts only when it is a link (or a templated one), not prose about the alert.
fn runbook_value(key: &str, value: &str) -> bool {
    let k = flat(key);
    if k.starts_with("runbook") || k.starts_with("playbook") {
        return true;
    }
    let v = value.trim();
    v.contains("://") || v.starts_with('/') || v.starts_with("www.") || v.contains("{{")
}

fn flat(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_' && *c != '-')
        .collect::<String>()
        .to_ascii_lowercase()
}

impl Check for MissingRunbook {
    fn id(&self) -> &'static str {
        "alerts/missing-runbook"
    }

    fn at_load(&self) -> bool {
        true
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let annotation = cx
            .option_str("annotation")
            .unwrap_or_else(|| "runbook_url".into());
        let from = cx
            .option_str("required_from")
            .and_then(|s| AlertLevel::parse(&s))
            .unwrap_or(AlertLevel::Info);
        let paging: Vec<String> = cx
            .option_list("paging_severities")
            .iter()
            .map(|s| s.trim().to_ascii_lowercase())
            .collect();
        // another spelling of the key (`runbookUrl`), a known other key, and `runbook_url`
        // itself when another annotation is configured
        let conventional = flat(&annotation);
        let alternative = |key: &str| -> bool {
            let k = flat(key);
            key != annotation
                && (k == conventional
                    || k == "runbookurl"
                    || ALTERNATIVE_KEYS.contains(&k.as_str()))
        };
        // the default annotation's text is not copied into every finding
        let here: std::borrow::Cow<'static, str> = if annotation == "runbook_url" {
            "no `runbook_url` here".into()
        } else {
            format!("no `{annotation}` here").into()
        };
        let mut out = Vec::new();
        for r in cx.alerts() {
            let rule = r.rule;
            if rule.name.value.is_empty() || AlertLevel::of(rule) < from {
                continue;
            }
            let set = |p: &&crate::parse::prom_rules::Pair| !p.value.value.trim().is_empty();
            if rule.annotation(&annotation).filter(set).is_some() {
                continue;
            }
            if let Some(other) =
                rule.annotation_pairs().iter().filter(|p| set(p)).find(|p| {
                    alternative(&p.key.value) && runbook_value(&p.key.value, &p.value.value)
                })
            {
                let key = &other.key.value;
                out.push(
                    Finding::new(
                        self.id(),
                        r.file,
                        other.key.span.clone(),
                        format!(
                            "alert `{}` keeps its runbook under `{key}`, not `{annotation}`: tools that look for `{annotation}` (notification templates, Grafana's alert view, PagerDuty and Opsgenie links) do not show it",
                            rule.name.value
                        ),
                    )
                    .lowered(2)
                    .label("runbook link under another key")
                    .help(format!(
                        "rename `{key}` to `{annotation}` (or add `{annotation}` with the same link)"
                    ))
                    .ctx("alert", rule.name.value.clone())
                    .ctx("annotation", key.to_string()),
                );
                continue;
            }
            let pages = rule
                .label("severity")
                .is_some_and(|p| paging.contains(&p.value.value.trim().to_ascii_lowercase()));
            let (message, help) = texts(&annotation, &rule.name.value, pages);
            let mut f = Finding::new(self.id(), r.file, rule.anchor(), message)
                .label("alert defined here")
                .downgraded(!pages)
                .ctx("alert", rule.name.value.clone());
            f.help = Some(help);
            if let Some(k) = rule.annotations_key() {
                f = f.also(r.file, k.clone(), here.clone());
            }
            out.push(f);
        }
        out
    }
}

const MESSAGE_PAGES: &str = "alert `{}` has no `runbook_url` annotation: whoever is paged by it has no documented first step";
const MESSAGE: &str =
    "alert `{}` has no `runbook_url` annotation: whoever handles it has no documented first step";
const HELP: &str = "add `runbook_url: https://<runbooks>/{}` under `annotations:`";

/// The message and help for alert `name` (`pages`: its severity pages someone). With the default
/// annotation they are templates filled in when shown (a large rule set without runbooks has a
/// finding for every alert); with another one, the same texts naming it, written out.
fn texts(annotation: &str, name: &Text, pages: bool) -> (Msg, Msg) {
    let slug = slug(name);
    let message = if pages { MESSAGE_PAGES } else { MESSAGE };
    if annotation == "runbook_url" {
        return (Msg::fill(message, name.clone()), Msg::fill(HELP, slug));
    }
    let named = |template: &str, value: &str| {
        let (before, after) = template.split_once("{}").unwrap_or((template, ""));
        let swap = |s: &str| s.replacen("runbook_url", annotation, 1);
        Msg::from(format!("{}{value}{}", swap(before), swap(after)))
    };
    (named(message, name), named(HELP, &slug))
}

/// `HighErrorRate` -> `high-error-rate`, for the suggested URL.
fn slug(name: &str) -> String {
    let mut s = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_uppercase()
            && i > 0
            && (chars[i - 1].is_lowercase() || chars.get(i + 1).is_some_and(|n| n.is_lowercase()))
        {
            s.push('-');
        }
        if c.is_alphanumeric() {
            s.extend(c.to_lowercase());
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    s.trim_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs() {
        assert_eq!(super::slug("HighErrorRate"), "high-error-rate");
        assert_eq!(super::slug("HighCPUUsage"), "high-cpu-usage");
        assert_eq!(super::slug("KubePodCrashLooping"), "kube-pod-crash-looping");
    }

    #[test]
    fn texts_name_the_annotation() {
        let name = crate::source::Text::from("HighLoad");
        let (message, help) = super::texts("runbook_url", &name, true);
        assert_eq!(
            message.to_string(),
            "alert `HighLoad` has no `runbook_url` annotation: whoever is paged by it has no documented first step"
        );
        assert_eq!(
            help.to_string(),
            "add `runbook_url: https://<runbooks>/high-load` under `annotations:`"
        );
        let (message, help) = super::texts("playbook", &name, true);
        assert_eq!(
            message.to_string(),
            "alert `HighLoad` has no `playbook` annotation: whoever is paged by it has no documented first step"
        );
        assert_eq!(
            help.to_string(),
            "add `playbook: https://<runbooks>/high-load` under `annotations:`"
        );
        let (message, _) = super::texts("runbook_url", &name, false);
        assert_eq!(
            message.to_string(),
            "alert `HighLoad` has no `runbook_url` annotation: whoever handles it has no documented first step"
        );
    }

    #[test]
    fn documentation_counts_when_it_is_a_link() {
        assert!(super::runbook_value(
            "documentation",
            "https://docs.ceph.com/x"
        ));
        assert!(super::runbook_value("docs", "/wiki/alerts/disk"));
        assert!(super::runbook_value("docs", "{{ $externalURL }}/docs"));
        assert!(!super::runbook_value(
            "documentation",
            "The disk is nearly full."
        ));
        // a runbook may be the steps themselves
        assert!(super::runbook_value(
            "runbook",
            "Restart the exporter, then check its logs."
        ));
    }

    #[test]
    fn alternative_keys_compare_without_case_and_separators() {
        for k in [
            "runbook",
            "Runbook_URL",
            "runbookUrl",
            "playbook",
            "documentation",
            "runbook-link",
            "docs",
        ] {
            assert!(
                super::ALTERNATIVE_KEYS.contains(&super::flat(k).as_str()),
                "{k}"
            );
        }
        for k in ["summary", "description", "dashboard", "runbooks_team"] {
            assert!(
                !super::ALTERNATIVE_KEYS.contains(&super::flat(k).as_str()),
                "{k}"
            );
        }
    }
}
