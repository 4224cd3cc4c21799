//! `alerts/invalid-runbook`: a `runbook_url` that is not an absolute http(s) URL, or points at a
//! placeholder host (RFC 2606 names, `TODO`, `changeme`), or does not match `url_pattern`.

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

impl Check for InvalidRunbook {
    fn id(&self) -> &'static str {
        "alerts/invalid-runbook"
    }

    fn at_load(&self) -> bool {
        true
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let annotation = cx
            .config
            .check_option("alerts/missing-runbook", "annotation");
        let annotation = match annotation {
            Some(crate::checks::meta::OptValue::Str(s)) => s.clone(),
            _ => "runbook_url".to_string(),
        };
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
