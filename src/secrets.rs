//! Secret detection shared by the `secrets/*` checks, and redaction: a secret is never printed
//! whole (at most its first 4 characters and its length), in any output.

use std::sync::OnceLock;

use regex::Regex;

use crate::source::Span;

/// A credential-looking string found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    /// What it is, e.g. "Slack webhook URL".
    pub kind: &'static str,
    /// The secret part (for URLs with credentials, the password).
    pub span: Span,
}

struct Pattern {
    kind: &'static str,
    source: &'static str,
    /// Capture group holding the secret (0 = whole match).
    group: usize,
    /// Literal pre-check (see [`Pattern::may_match`]): a text holding none of these (ASCII case
    /// folded when `fold`; the needles are then lowercase) cannot match, and is not scanned.
    /// Most files hold none, so most patterns are never compiled.
    needles: &'static [&'static str],
    fold: bool,
    re: OnceLock<Regex>,
}

impl Pattern {
    const fn new(
        kind: &'static str,
        source: &'static str,
        group: usize,
        needles: &'static [&'static str],
        fold: bool,
    ) -> Pattern {
        Pattern {
            kind,
            source,
            group,
            needles,
            fold,
            re: OnceLock::new(),
        }
    }

    /// The literal pre-check. Case-folded needles (lowercase) are looked up in `folded`, the
    /// folded needles of all patterns that the text holds, found on first need
    /// ([`folded_needles`]).
    fn may_match(&self, text: &str, folded: &std::cell::OnceCell<Vec<&'static str>>) -> bool {
        if self.fold {
            let found = folded.get_or_init(|| folded_needles(text));
            self.needles.iter().any(|n| found.contains(n))
        } else {
            self.needles.iter().any(|n| text.contains(n))
        }
    }

    /// Compiled on first use: compiling all of them took a tenth of the CPU time of a 950-rule
    /// audit that needed none.
    fn regex(&self) -> &Regex {
        self.re
            .get_or_init(|| Regex::new(self.source).expect("secret pattern"))
    }
}

/// The case-folded needles of all patterns that `text` holds, ignoring ASCII case. Searched in
/// windows of the text lowercased one at a time (overlapping by the longest needle), not in a
/// lowercased copy of the whole text: a 16 MiB scrape made a 16 MiB copy. A substring search per
/// needle is several times faster than one case-insensitive automaton over all of them
/// (measured with `aho-corasick` on the 40,000-rule set).
fn folded_needles(text: &str) -> Vec<&'static str> {
    const WINDOW: usize = 64 * 1024;
    let mut left: Vec<&'static str> = PATTERNS
        .iter()
        .filter(|p| p.fold)
        .flat_map(|p| p.needles.iter().copied())
        .collect();
    left.sort_unstable();
    left.dedup();
    let overlap = left.iter().map(|n| n.len()).max().unwrap_or(1) - 1;
    let mut found = Vec::new();
    let mut window = String::with_capacity(WINDOW.min(text.len()));
    let mut start = 0;
    while !left.is_empty() && start < text.len() {
        let mut end = (start + WINDOW).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        window.clear();
        window.push_str(&text[start..end]);
        window.make_ascii_lowercase();
        left.retain(|n| {
            let hit = window.contains(n);
            if hit {
                found.push(*n);
            }
            !hit
        });
        if end == text.len() {
            break;
        }
        // the next window repeats the last `overlap` bytes: a needle across the cut is found
        let mut next = end - overlap;
        while !text.is_char_boundary(next) {
            next -= 1;
        }
        start = next.max(start + 1);
    }
    found
}

static PATTERNS: [Pattern; 11] = [
    Pattern::new(
        "Slack webhook URL",
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9+_-]{6,}/[A-Za-z0-9+_-]{6,}(?:/[A-Za-z0-9+_-]{12,})?)",
        1,
        &["hooks.slack.com"],
        false,
    ),
    Pattern::new(
        "Slack token",
        r"\bxox[abposre]-[0-9]{8,13}-[0-9A-Za-z-]{10,}",
        0,
        &["xox"],
        false,
    ),
    Pattern::new(
        "Slack app token",
        r"\bxapp-\d-[A-Z0-9]{6,}-\d{6,}-[a-z0-9]{20,}",
        0,
        &["xapp-"],
        false,
    ),
    Pattern::new(
        "GitHub token",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})",
        0,
        &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
        false,
    ),
    Pattern::new(
        "GitLab token",
        r"\b(?:glpat|gldt|glrt|glcbt|glptt|glft|glimt|glagent|glsoat)-[A-Za-z0-9_-]{20,}",
        0,
        &[
            "glpat-", "gldt-", "glrt-", "glcbt-", "glptt-", "glft-", "glimt-", "glagent-",
            "glsoat-",
        ],
        false,
    ),
    Pattern::new(
        "AWS access key id",
        r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b",
        0,
        &["AKIA", "ASIA", "ABIA", "ACCA"],
        false,
    ),
    Pattern::new(
        "private key",
        r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY(?: BLOCK)?-----",
        0,
        &["PRIVATE KEY"],
        false,
    ),
    Pattern::new(
        "JSON web token",
        r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
        0,
        &["eyJ"],
        false,
    ),
    Pattern::new(
        "password in a URL",
        r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^/\s:@'\x22]{1,64}:([^/\s@'\x22]{3,128})@[A-Za-z0-9.-]+",
        1,
        &["://"],
        false,
    ),
    Pattern::new(
        "PagerDuty integration key",
        r#"(?i)\b(?:routing_key|service_key|integration_key)["']?\s*[:=]\s*["']?([A-Za-z0-9+]{32})\b"#,
        1,
        &["routing_key", "service_key", "integration_key"],
        true,
    ),
    Pattern::new(
        "Opsgenie API key",
        r#"(?i)\bopsgenie\w*api_?key["']?\s*[:=]\s*["']?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"#,
        1,
        &["opsgenie"],
        true,
    ),
];

/// Known credential formats in a text (the whole file, embedded files included).
pub fn scan_text(text: &str) -> Vec<Detected> {
    let mut out: Vec<Detected> = Vec::new();
    let folded = std::cell::OnceCell::new();
    for p in PATTERNS.iter().filter(|p| p.may_match(text, &folded)) {
        if p.kind == "password in a URL" && !text.contains('@') {
            continue;
        }
        for c in p.regex().captures_iter(text) {
            let Some(m) = c.get(p.group) else { continue };
            let value = m.as_str();
            if is_reference(value) {
                continue;
            }
            if out
                .iter()
                .any(|d| d.span.start < m.end() && m.start() < d.span.end)
            {
                continue; // an earlier, more specific pattern already covers it
            }
            out.push(Detected {
                kind: p.kind,
                span: m.start()..m.end(),
            });
        }
    }
    out.sort_by_key(|d| d.span.start);
    out
}

/// A value that refers to a secret stored elsewhere instead of holding it: `$VAR`, `${VAR}`,
/// `${{ secrets.X }}`, a template `{{ ... }}`, or a secret-manager reference.
pub fn is_reference(v: &str) -> bool {
    let t = v.trim();
    if t.is_empty() {
        return false;
    }
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r"(?x)^(?:
                \$[A-Za-z_][A-Za-z0-9_]*            # $VAR
              | \$\{[^}]+\}                         # ${VAR} / ${VAR:-x}
              | \$\{\{.*\}\}                        # ${{ secrets.X }}
              | \{\{.*\}\}                          # template
              | (?:vault|ref\+[a-z0-9]+|sops|awssm|gcpsm|azkv|op|secret|k8s|env)://.*  # secret managers
              | ENC\[.*\]                           # sops
              | <path:[^>]+>                        # argocd-vault-plugin
            )$",
        )
        .expect("reference regex")
    });
    re.is_match(t) || t.contains("${{") || (t.starts_with("{{") && t.ends_with("}}"))
}

/// A value that is obviously not a real credential: the integration cannot work, but nothing
/// leaked.
pub fn is_placeholder(v: &str) -> bool {
    let t = v.trim().trim_matches(|c| c == '"' || c == '\'');
    if t.is_empty() {
        return false;
    }
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r"(?ix)
              your[-_/ .]?(?:slack|webhook|token|key|secret|password|api|pagerduty|team|channel|org|company|integration|service|routing|bot|chat)
            | \bchange[-_ ]?me\b | \bchangeit\b | \breplace[-_ ]?me\b | \bfill[-_ ]?me\b
            | <[^<>]{2,40}>
            | \bx{4,}\b | \*{4,} | \bplaceholder\b | \bdummy\b | \bredacted\b
            | ^(?:example|test|secret|password|passwd|token|apikey|api_key|todo|tbd|none|null|foo|bar|foobar|abc123|123456|admin)$
            | ^0+$ | ^(?:0+-)+0+$
            | /(?:YOUR|XXX+|TOKEN|WEBHOOK)(?:/|$)
            ",
        )
        .expect("placeholder regex")
    });
    re.is_match(t)
}

/// The only form in which a secret is ever shown: its first 4 characters and its length.
/// A text (a message quoting a script line) with every known-format credential in it redacted.
pub fn redact_in(text: &str) -> String {
    let mut found: Vec<Span> = scan_text(text).into_iter().map(|d| d.span).collect();
    if found.is_empty() {
        return text.to_string();
    }
    found.sort_by_key(|s| s.start);
    let mut out = String::new();
    let mut at = 0;
    for s in found {
        if s.start < at
            || s.end > text.len()
            || !text.is_char_boundary(s.start)
            || !text.is_char_boundary(s.end)
        {
            continue;
        }
        out.push_str(&text[at..s.start]);
        out.push_str(&redact(&text[s.clone()]));
        at = s.end;
    }
    out.push_str(&text[at..]);
    out
}

pub fn redact(v: &str) -> String {
    let n = v.chars().count();
    let head: String = v.chars().take(4.min(n / 2)).collect();
    format!("{head}… ({n} chars)")
}

/// Replace every character of the spans with `*` (same byte length, so other spans stay valid),
/// keeping the first 4 characters of each.
pub fn mask(text: &str, spans: &[Span]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for s in spans {
        let (start, end) = (s.start.min(text.len()), s.end.min(text.len()));
        if start >= end || !text.is_char_boundary(start) {
            continue;
        }
        let keep = text[start..end]
            .char_indices()
            .nth(4.min(text[start..end].chars().count() / 2))
            .map(|(i, _)| i)
            .unwrap_or(0);
        for b in &mut bytes[start + keep..end] {
            *b = b'*';
        }
    }
    // every byte of a masked multi-byte char became '*': still valid UTF-8
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// A literal value that is not a secret even in a secret-named variable: booleans, small numbers,
/// file paths.
pub fn clearly_not_a_secret(v: &str) -> bool {
    let t = v.trim();
    let lower = t.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "enabled" | "disabled"
    ) || (t.len() < 6 && t.chars().all(|c| c.is_ascii_digit()))
        || t.starts_with('/')
        || t.starts_with("./")
        || t.starts_with("~/")
        || t.contains("${{")
        || contains_var(t)
}

/// `Bearer $TOKEN`, `https://${HOST}/x`: built from a variable, not a literal.
fn contains_var(t: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\$(?:[A-Za-z_][A-Za-z0-9_]*|\{[^}]+\})").expect("var regex"))
        .is_match(t)
}

/// Does a literal value have the shape of a secret? A secret-bearing name is not enough: a URL
/// without credentials, an identifier (a C macro name, an artifact name, a variable that names
/// another variable), a path or a reference into a secret manager (`quay-io:token`,
/// `kv/data/ci#token`) is not one. A value is when it holds a known credential format, or is a
/// single token that mixes character classes (letters with digits or symbols) or is long and
/// random-looking.
pub fn shaped_like_secret(v: &str) -> bool {
    let t = v.trim().trim_matches(|c| c == '"' || c == '\'');
    if !scan_text(t).is_empty() {
        return true;
    }
    if t.chars().any(char::is_whitespace) || t.len() < 6 {
        return false;
    }
    if t.contains("://") {
        return url_carries_secret(t);
    }
    // words joined by separators, each word letters only: identifiers, names, manager paths
    let words_only = t
        .split(['-', '_', '.', ':', '/', '#', '@'])
        .all(|w| w.chars().all(|c| c.is_ascii_alphabetic()));
    let upper_snake = t
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    // a path with several segments (a secret manager reference, a file in the repository)
    let path_like = t.matches('/').count() >= 2 && !t.contains("//");
    if words_only || upper_snake || path_like {
        return false;
    }
    let letters = t.chars().any(|c| c.is_ascii_alphabetic());
    let digits = t.chars().any(|c| c.is_ascii_digit());
    let symbols = t.chars().any(|c| !c.is_ascii_alphanumeric());
    (letters && (digits || symbols)) || (t.len() >= 16 && shannon_entropy(t) >= 3.5)
}

fn shannon_entropy(s: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let n = s.chars().count() as f64;
    counts
        .values()
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Literal secrets in CI variables/environment whose names say they hold secrets: `(file index,
/// variable)` pairs with the verdict.
pub fn ci_secret_values(
    project: &crate::model::Project,
) -> Vec<(crate::source::FileId, &crate::parse::ci::CiVar, bool)> {
    let mut out = Vec::new();
    for f in &project.files {
        let Some(ci) = &f.ci else { continue };
        for v in &ci.vars {
            let Some(value) = &v.value else { continue };
            if value.value.trim().is_empty()
                || !crate::parse::ci::secret_name(&v.name.value)
                || is_reference(&value.value)
                || clearly_not_a_secret(&value.value)
            {
                continue;
            }
            let placeholder = is_placeholder(&value.value);
            if placeholder || shaped_like_secret(&value.value) {
                out.push((f.file, v, placeholder));
            }
        }
    }
    out
}

/// Literal values of secret-named keys in files of no audited kind (Helm values, app settings):
/// `(file, key, value, placeholder)`.
pub fn generic_secret_values(
    project: &crate::model::Project,
) -> Vec<(
    crate::source::FileId,
    &crate::parse::fields::SStr,
    &crate::parse::fields::SStr,
    bool,
)> {
    let mut out = Vec::new();
    for f in &project.files {
        for (k, v) in &f.generic_secrets {
            let t = v.value.trim();
            if t.is_empty() || is_reference(t) || clearly_not_a_secret(t) || t.contains("{{") {
                continue;
            }
            out.push((f.file, k, v, is_placeholder(t)));
        }
    }
    out
}

/// A secret-bearing Alertmanager field (`FieldKind::Secret`) with a literal value.
#[derive(Debug, Clone)]
pub struct AmSecret<'a> {
    pub file: crate::source::FileId,
    pub field: &'a crate::parse::alertmanager::FieldVal,
    /// Where it is: `global`, or `slack_configs of receiver "x"`.
    pub place: String,
    pub placeholder: bool,
}

/// Does a URL in a secret URL field carry a credential (userinfo, a token-like path segment or
/// query value, a webhook service host)? Plain internal endpoints (`http://127.0.0.1:5001/`) do not.
pub fn url_carries_secret(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let Some(rest) = lower.split_once("://").map(|(_, r)| r) else {
        return true; // not a URL at all: treat as an opaque secret
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    if authority.contains('@') {
        return true;
    }
    const WEBHOOK_HOSTS: &[&str] = &[
        "hooks.slack.com",
        "discord.com",
        "discordapp.com",
        "webhook.office.com",
        "outlook.office.com",
        "api.telegram.org",
        "chat.googleapis.com",
        "events.pagerduty.com",
        "qyapi.weixin.qq.com",
    ];
    if WEBHOOK_HOSTS
        .iter()
        .any(|h| authority == *h || authority.ends_with(&format!(".{h}")))
        && path.len() > 8
    {
        return true;
    }
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let tokenish = |seg: &str| {
        seg.len() >= 16
            && seg.chars().any(|c| c.is_ascii_digit())
            && seg.chars().any(|c| c.is_ascii_alphabetic())
            && seg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.~=".contains(c))
    };
    let original_path = &url[url.len() - rest.len() + authority.len()..];
    original_path.split(['/', '?', '&', '=']).any(tokenish) && !path.is_empty()
        || query.split('&').any(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            [
                "token",
                "key",
                "secret",
                "password",
                "sig",
                "signature",
                "auth",
                "code",
                "apikey",
                "api_key",
            ]
            .iter()
            .any(|w| k.contains(w))
                && !v.is_empty()
        })
}

/// Literal values in secret fields of every Alertmanager config (templates, empty values and
/// plain endpoint URLs excluded).
pub fn am_secret_values(project: &crate::model::Project) -> Vec<AmSecret<'_>> {
    use crate::parse::alertmanager::FieldKind;
    let mut out = Vec::new();
    for r in project.alertmanager_configs() {
        let fields = r
            .config
            .global
            .iter()
            .map(|f| (f, "`global`".to_string()))
            .chain(r.config.receivers.iter().flat_map(|rc| {
                rc.integrations.iter().flat_map(move |i| {
                    i.fields.iter().map(move |f| {
                        (
                            f,
                            format!("`{}_configs` of receiver `{}`", i.kind, rc.name.value),
                        )
                    })
                })
            }));
        for (field, place) in fields {
            if field.kind != FieldKind::Secret {
                continue;
            }
            let Some(value) = &field.value else { continue };
            let v = value.value.trim();
            if v.is_empty() || is_reference(v) || v.contains("{{") {
                continue;
            }
            let placeholder = is_placeholder(v);
            let url_field = field.path.ends_with("url");
            if url_field && !placeholder && !url_carries_secret(v) {
                continue;
            }
            out.push(AmSecret {
                file: r.file,
                field,
                place,
                placeholder,
            });
        }
    }
    out
}

/// The value spans of every secret-bearing field of the project (Alertmanager credentials, CI
/// variables, Kubernetes Secret values, secret-named keys), resolved to their outer file.
pub fn field_spans(project: &crate::model::Project) -> Vec<(crate::source::FileId, Span)> {
    let mut out = Vec::new();
    for sec in am_secret_values(project) {
        if let Some(v) = &sec.field.value {
            out.push(project.sources.resolve(sec.file, &v.span));
        }
    }
    for (file, var, _) in ci_secret_values(project) {
        if let Some(v) = &var.value {
            out.push((file, v.span.clone()));
        }
    }
    for f in &project.files {
        out.extend(f.k8s_secrets.iter().map(|v| (f.file, v.span.clone())));
    }
    for (file, _, value, _) in generic_secret_values(project) {
        out.push((file, value.span.clone()));
    }
    out
}

/// Every span of `file` to mask in output that shows source text: known formats in its text and
/// the secret fields (`fields`, from [`field_spans`]) that lie in it.
pub fn mask_spans(
    text: &str,
    file: crate::source::FileId,
    fields: &[(crate::source::FileId, Span)],
) -> Vec<Span> {
    let mut spans: Vec<Span> = scan_text(text).into_iter().map(|d| d.span).collect();
    spans.extend(
        fields
            .iter()
            .filter(|(f, _)| *f == file)
            .map(|(_, s)| s.clone()),
    );
    spans
}

/// The `*_file` line that replaces a secret field, as shown in help texts:
/// `http_config.basic_auth.password` -> `password_file: /etc/alertmanager/secrets/password`.
pub fn file_fix(path: &str) -> String {
    let last = path.rsplit('.').next().unwrap_or(path);
    format!("{last}_file: /etc/alertmanager/secrets/{last}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Folded needles are found in any case, across the cut between two windows, after
    /// multi-byte characters, and not where they are absent.
    #[test]
    fn folded_needles_across_windows() {
        assert!(folded_needles("").is_empty());
        assert_eq!(folded_needles("x: OpsGenie"), vec!["opsgenie"]);
        for at in [65_536 - 9, 65_536 - 4, 65_536 - 1, 65_536, 3 * 65_536 - 5] {
            for pad in ["a", "\u{e9}"] {
                let mut text = pad.repeat(at / pad.len());
                text.push_str("Routing_Key: x");
                text.push_str(&"b".repeat(70_000));
                assert_eq!(folded_needles(&text), vec!["routing_key"], "{at} {pad:?}");
            }
        }
        assert!(folded_needles(&"routing-key ".repeat(20_000)).is_empty());
        // a secret found across a window cut, in any case
        let text = format!(
            "{}\nROUTING_KEY: 0123456789abcdef0123456789abcdef\n",
            "#".repeat(65_530)
        );
        assert_eq!(scan_text(&text).len(), 1);
    }

    #[test]
    fn known_formats() {
        let text =
            "url: https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdefghijABCDEFGHIJ1234\n\
                    token: xoxb-1234567890-abcdefghijk\n\
                    gh: ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ\n\
                    aws: AKIAABCDEFGHIJKLMNOP\n\
                    db: postgres://app:s3cr3tpass@db.internal:5432/x\n\
                    routing_key: 0123456789abcdef0123456789abcdef\n\
                    ref: $SLACK_WEBHOOK_URL\n";
        let kinds: Vec<&str> = scan_text(text).iter().map(|d| d.kind).collect();
        assert_eq!(
            kinds,
            vec![
                "Slack webhook URL",
                "Slack token",
                "GitHub token",
                "AWS access key id",
                "password in a URL",
                "PagerDuty integration key"
            ]
        );
        let pw = scan_text(text)
            .into_iter()
            .find(|d| d.kind == "password in a URL")
            .unwrap();
        assert_eq!(&text[pw.span], "s3cr3tpass");
        assert!(scan_text("url: https://$USER:${PASS}@host/x").is_empty());
        assert!(scan_text("routing_key: '{{ .PAGERDUTY_INTEGRATION_KEY }}'").is_empty());
    }

    #[test]
    fn each_pattern_alone_and_its_pre_check() {
        // each text holds one secret only, so a pattern is compiled and run on its own
        let cases = [
            ("GITLAB: glpat-abcdefghij0123456789", "GitLab token"),
            (
                "ROUTING_KEY: 0123456789abcdef0123456789abcdef",
                "PagerDuty integration key",
            ),
            (
                "Service_Key = 0123456789abcdef0123456789abcdef",
                "PagerDuty integration key",
            ),
            (
                "OpsGenie_API_Key: 01234567-89ab-cdef-0123-456789abcdef",
                "Opsgenie API key",
            ),
            (
                "t: xapp-1-A0B1C2D3E4-123456789-abcdefghij0123456789",
                "Slack app token",
            ),
            ("-----BEGIN RSA PRIVATE KEY-----", "private key"),
            (
                "jwt: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmnop",
                "JSON web token",
            ),
        ];
        for (text, kind) in cases {
            let found: Vec<&str> = scan_text(text).iter().map(|d| d.kind).collect();
            assert_eq!(found, [kind], "{text}");
        }
        // the literal pre-checks: ASCII case folded where the pattern ignores case, exact where
        // it does not, and never true for text that merely starts like a needle
        let pre = |t: &str| -> Vec<&str> {
            let lower = std::cell::OnceCell::new();
            PATTERNS
                .iter()
                .filter(|p| p.may_match(t, &lower))
                .map(|p| p.kind)
                .collect()
        };
        assert_eq!(pre("x OPSGENIE y"), ["Opsgenie API key"]);
        assert_eq!(pre("Routing_Key"), ["PagerDuty integration key"]);
        assert!(pre("routing_ke").is_empty());
        assert!(pre("").is_empty());
        // exact case where the pattern has it: `akia` is not an AWS key's prefix
        assert!(pre("akia0123 private key EYJ").is_empty());
        assert_eq!(pre("akia AKIA"), ["AWS access key id"]);
        assert_eq!(
            pre("ghp_ and xox and ://"),
            ["Slack token", "GitHub token", "password in a URL"]
        );
        assert!(scan_text("global: glimpse-of-a-word-that-is-long-enough").is_empty());
    }

    #[test]
    fn values_shaped_like_secrets() {
        for v in [
            "s3cr3t-Passw0rd!",
            "rt-7f3a9c1e5b2d4f60",
            "hunter2x",
            "https://user:Pa55word@db.acme.io/x",
            "ghp_0123456789abcdefABCDEF0123456789abcd",
        ] {
            assert!(shaped_like_secret(v), "{v}");
        }
        // identifiers, names, URLs without credentials, secret-manager references
        for v in [
            "QUAY_USERNAME=quay-io:username\nQUAY_PASSWORD=quay-io:token",
            "quay-io:token",
            "CONFIG_SIGNING_KEY_PATH",
            "release-signing-key",
            "https://registry.acme.io/v2/",
            "projects/ci/secrets/deploy-token/versions/latest",
            "secret",
        ] {
            assert!(!shaped_like_secret(v), "{v}");
        }
    }

    #[test]
    fn references_and_placeholders() {
        for r in [
            "$SLACK_WEBHOOK_URL",
            "${TOKEN}",
            "${{ secrets.TOKEN }}",
            "{{ .Key }}",
            "vault://kv/x",
            "ENC[AES256_GCM,data:x]",
        ] {
            assert!(is_reference(r), "{r}");
        }
        assert!(!is_reference("hunter2"));
        for p in [
            "https://hooks.slack.com/services/YOUR/SLACK/WEBHOOK",
            "changeme",
            "<token>",
            "xxxx",
            "000000",
            "your-api-key",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        for real in [
            "smtp_password",
            "s3cr3t-Pa55",
            "0123456789abcdef0123456789abcdef",
        ] {
            assert!(!is_placeholder(real), "{real}");
        }
    }

    #[test]
    fn redaction_never_shows_the_value() {
        assert_eq!(redact("xoxb-1234567890-abcdefghijk"), "xoxb… (27 chars)");
        assert_eq!(redact("abc"), "a… (3 chars)");
        let t = "a: hunter22\nb: ok\n";
        let m = mask(t, std::slice::from_ref(&(3..11)));
        assert_eq!(m, "a: hunt****\nb: ok\n");
        assert_eq!(m.len(), t.len());
    }
}
