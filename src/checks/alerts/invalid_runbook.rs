//! `alerts/invalid-runbook`: a `runbook_url` that is not an absolute http(s) URL, or points at a
//! placeholder host (RFC 2606 names, `TODO`, `changeme`), or does not match `url_pattern`; with
//! `--online` ([`Online`]), one that does not answer 2xx.

use crate::checks::{Check, Ctx, Finding};

pub struct InvalidRunbook;

const PLACEHOLDER_WORDS: &[&str] = &[
    "todo",
    "tbd",
    "changeme",
    "change-me",
    "fixme",
    "xxx",
    "placeholder",
    "your-",
];

/// Why a URL is unusable as a runbook link, if it is.
pub fn problem(url: &str) -> Option<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    else {
        return Some("is not an absolute http(s) URL".into());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = if host_port.starts_with('[') {
        host_port
            .split(']')
            .next()
            .unwrap_or("")
            .trim_start_matches('[')
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    if host.is_empty() {
        return Some("has no host".into());
    }
    if url.chars().any(char::is_whitespace) {
        return Some("contains whitespace".into());
    }
    let reserved = ["example.com", "example.net", "example.org"];
    let reserved_tlds = [".example", ".test", ".invalid", ".localhost"];
    if reserved
        .iter()
        .any(|r| host == *r || host.ends_with(&format!(".{r}")))
        || reserved_tlds.iter().any(|t| host.ends_with(t))
        || host == "localhost"
        || host == "example"
    {
        return Some(format!(
            "points at `{host}`, a reserved example/placeholder host (RFC 2606)"
        ));
    }
    if let Some(w) = PLACEHOLDER_WORDS.iter().find(|w| lower.contains(*w)) {
        return Some(format!(
            "contains the placeholder `{}`",
            w.trim_end_matches('-')
        ));
    }
    None
}

/// The annotation that holds the runbook link (`alerts/missing-runbook`'s `annotation`).
fn runbook_annotation(cx: &Ctx) -> String {
    match cx
        .config
        .check_option("alerts/missing-runbook", "annotation")
    {
        Some(crate::checks::meta::OptValue::Str(s)) => s.clone(),
        _ => "runbook_url".to_string(),
    }
}

impl Check for InvalidRunbook {
    fn id(&self) -> &'static str {
        "alerts/invalid-runbook"
    }

    fn at_load(&self) -> bool {
        true
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let annotation = runbook_annotation(cx);
        // compiled once per run, not once per file
        let pattern: &Option<regex::Regex> = cx.once(|| {
            cx.option_str("url_pattern")
                .and_then(|p| regex::Regex::new(&p).ok())
        });
        let mut out = Vec::new();
        for r in cx.alerts() {
            let Some(p) = r.rule.annotation(&annotation) else {
                continue;
            };
            let url = p.value.value.trim();
            if url.is_empty() {
                continue;
            }
            // A templated URL (`{{ $externalURL }}/...`) cannot be judged statically from its start.
            let static_prefix = url.split("{{").next().unwrap_or("");
            let templated = url.contains("{{");
            let msg = if templated && static_prefix.len() < "https://x".len() {
                None
            } else if templated {
                problem(static_prefix).filter(|m| !m.contains("whitespace"))
            } else {
                problem(url)
            };
            let msg = msg
                .map(|m| format!("`{annotation}` of alert `{}` {m}", r.rule.name.value))
                .or_else(|| {
                    let re = pattern.as_ref()?;
                    (!templated && !re.is_match(url)).then(|| {
                        format!(
                            "`{annotation}` of alert `{}` does not match the required pattern `{}`",
                            r.rule.name.value,
                            re.as_str()
                        )
                    })
                });
            if let Some(m) = msg {
                out.push(
                    Finding::new(self.id(), r.file, p.value.span.clone(), m)
                        .label("runbook link")
                        .help("link the real runbook page: an absolute https:// URL that on-call can open")
                        .ctx("alert", r.rule.name.value.clone()),
                );
            }
        }
        out
    }
}

/// The `--online` half of the check: runbook links followed over the network, all at once
/// for the whole run (each distinct URL once), after the files are loaded. Links the static
/// half reports, templated links, and hosts outside `online_allow` or inside `online_deny` are
/// not requested. Not in the registry: the engine runs it when `--online` is given
/// ([`crate::config::Config::online`]) and the check is enabled.
pub struct Online;

/// Host globs (`*.acme.io`), without case.
fn host_globs(patterns: &[String]) -> globset::GlobSet {
    let mut b = globset::GlobSetBuilder::new();
    for p in patterns {
        if let Ok(g) = globset::GlobBuilder::new(p).case_insensitive(true).build() {
            b.add(g);
        }
    }
    b.build().unwrap_or_else(|_| globset::GlobSet::empty())
}

impl Check for Online {
    fn id(&self) -> &'static str {
        "alerts/invalid-runbook"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        use crate::checks::meta::OptValue;
        use crate::online::{self, Outcome};
        let annotation = runbook_annotation(cx);
        let allow = cx.option_list("online_allow");
        let (allow_set, deny_set) = (
            host_globs(&allow),
            host_globs(&cx.option_list("online_deny")),
        );
        let mut policy = online::Policy::default();
        if let Some(OptValue::Duration(d)) = cx.option("online_timeout") {
            policy.timeout = std::time::Duration::from_millis(d.0.max(1));
        }
        if let Some(OptValue::Integer(n)) = cx.option("online_concurrency") {
            policy.concurrency = usize::try_from(*n).unwrap_or(1).clamp(1, 64);
        }
        let wanted = |url: &str| {
            if url.contains("{{") || problem(url).is_some() {
                return false;
            }
            let Some(host) = reqwest::Url::parse(url)
                .ok()
                .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_string()))
            else {
                return false;
            };
            (allow.is_empty() || allow_set.is_match(&host)) && !deny_set.is_match(&host)
        };
        let links: Vec<_> = cx
            .alerts()
            .filter_map(|r| {
                let p = r.rule.annotation(&annotation)?;
                let url = p.value.value.trim();
                wanted(url).then_some((r, p, url))
            })
            .collect();
        let urls: Vec<&str> = links.iter().map(|(_, _, u)| *u).collect();
        let outcomes = online::follow_all(&urls, &policy);
        let mut out = Vec::new();
        for (r, p, url) in links {
            let Some(outcome) = outcomes.get(online::request_url(url)) else {
                continue;
            };
            if outcome.inconclusive() {
                continue;
            }
            let what = match outcome {
                Outcome::Ok | Outcome::NotRequested(_) => continue,
                Outcome::Status { code, reason, at } => {
                    let via = at
                        .as_ref()
                        .map(|a| format!(" (redirected to `{a}`)"))
                        .unwrap_or_default();
                    format!("answers HTTP {code} {reason}{via}").replace("  ", " ")
                }
                Outcome::Unreachable(why) => format!("could not be reached: {why}"),
                Outcome::TooManyRedirects(n) => format!("redirects more than {n} times"),
                Outcome::Refused(why) => format!("was not followed: {why}"),
            };
            out.push(
                Finding::new(
                    self.id(),
                    r.file,
                    p.value.span.clone(),
                    format!(
                        "`{annotation}` of alert `{}` {what}: whoever is paged follows a link that does not lead to the runbook",
                        r.rule.name.value
                    ),
                )
                .label("runbook link")
                .help("fix the link or restore the page; a host the CI runner cannot reach (an internal wiki) goes in `runbooks: {online_deny: [host]}`")
                .ctx("alert", r.rule.name.value.clone())
                .ctx("url", url.to_string()),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::problem;

    #[test]
    fn judges_urls() {
        assert_eq!(
            problem("https://runbooks.prometheus-operator.dev/runbooks/x"),
            None
        );
        assert_eq!(problem("http://wiki.internal:8080/runbook#a"), None);
        assert!(problem("runbooks/high-error-rate.md")
            .unwrap()
            .contains("absolute"));
        assert!(problem("https://example.com/runbook")
            .unwrap()
            .contains("RFC 2606"));
        assert!(problem("https://wiki.example/runbook")
            .unwrap()
            .contains("RFC 2606"));
        assert!(problem("https://wiki.corp/TODO").unwrap().contains("todo"));
        assert!(problem("https:///path").unwrap().contains("no host"));
    }
}
