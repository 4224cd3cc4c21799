//! `alerts/missing-runbook`: an alert without a `runbook_url` annotation.

use super::AlertLevel;
use crate::checks::{Check, Ctx, Finding, Msg};
use crate::source::Text;

pub struct MissingRunbook;

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
            if rule
                .annotation(&annotation)
                .is_some_and(|p| !p.value.value.trim().is_empty())
            {
                continue;
            }
            let (message, help) = texts(&annotation, &rule.name.value);
            let mut f = Finding::new(self.id(), r.file, rule.anchor(), message)
                .label("alert defined here")
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

const MESSAGE: &str = "alert `{}` has no `runbook_url` annotation: whoever is paged by it has no documented first step";
const HELP: &str = "add `runbook_url: https://<runbooks>/{}` under `annotations:`";

/// The message and help for alert `name`. With the default annotation they are templates filled
/// in when shown (a large rule set without runbooks has a finding for every alert); with another
/// one, the same texts naming it, written out.
fn texts(annotation: &str, name: &Text) -> (Msg, Msg) {
    let slug = slug(name);
    if annotation == "runbook_url" {
        return (Msg::fill(MESSAGE, name.clone()), Msg::fill(HELP, slug));
    }
    let named = |template: &str, value: &str| {
        let (before, after) = template.split_once("{}").unwrap_or((template, ""));
        let swap = |s: &str| s.replacen("runbook_url", annotation, 1);
        Msg::from(format!("{}{value}{}", swap(before), swap(after)))
    };
    (named(MESSAGE, name), named(HELP, &slug))
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
        let (message, help) = super::texts("runbook_url", &name);
        assert_eq!(
            message.to_string(),
            "alert `HighLoad` has no `runbook_url` annotation: whoever is paged by it has no documented first step"
        );
        assert_eq!(
            help.to_string(),
            "add `runbook_url: https://<runbooks>/high-load` under `annotations:`"
        );
        let (message, help) = super::texts("playbook", &name);
        assert_eq!(
            message.to_string(),
            "alert `HighLoad` has no `playbook` annotation: whoever is paged by it has no documented first step"
        );
        assert_eq!(
            help.to_string(),
            "add `playbook: https://<runbooks>/high-load` under `annotations:`"
        );
    }
}
