//! Secret detection shared by the `secrets/*` checks, and redaction: a secret is never printed
//! whole (at most its first 4 characters and its length), in any output.

use std::sync::OnceLock;

use rayon::prelude::*;
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
/// leaked. Separators (`-`, `_`, `/`, `.`, space) delimit the placeholder words, so
/// `SMTP_PASSWORD_PLACEHOLDER`, `.../change/me/please`, `your-token-here` and `xxx` all count.
pub fn is_placeholder(v: &str) -> bool {
    let t = v.trim().trim_matches(|c| c == '"' || c == '\'');
    if t.is_empty() {
        return false;
    }
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r"(?ix)
              your[-_/\x20.]?(?:slack|webhook|token|key|secret|password|api|pagerduty|team|channel|org|company|integration|service|routing|bot|chat|app|user|account|auth|access|client)
            | (?:^|[^a-z0-9])(?:change[-_/\x20.]?me|changeit|replace[-_/\x20.]?me|fill[-_/\x20.]?me)(?:[^a-z0-9]|$)
            | <[^<>]{2,40}>
            | (?:^|[^a-z0-9])x{3,}(?:[^a-z0-9]|$) | \*{4,}
            | (?:^|[^a-z0-9])(?:placeholder|dummy|redacted)(?:[^a-z0-9]|$)
            | [a-z][-_\x20.]here$
            | ^(?:example|test|secret|password|passwd|token|apikey|api_key|todo|tbd|none|null|foo|bar|foobar|abc123|123456|admin)$
            | ^(?:test|example|sample|dummy|fake|my)[-_]?[a-z]*?[-_]?(?:key|token|secret|password|passwd|pass)$
            | ^0+$ | ^(?:0+-)+0+$
            | /(?:YOUR|XXX+|TOKEN|WEBHOOK)(?:/|$)
            ",
        )
        .expect("placeholder regex")
    });
    re.is_match(t)
}

/// A value that names an environment variable for something else to substitute: the whole
/// value `$VAR`, or `${VAR}` anywhere (`https://hooks.example/${PATH}`). A bare `$` inside a
/// value (`Pa$$w0rd`, `s3cr$t`) is not one: passwords hold dollars. Alertmanager itself never
/// expands environment variables in its config.
pub fn has_env_var(v: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^\$[A-Za-z_][A-Za-z0-9_]*$|\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[-=?+][^}]*)?\}")
            .expect("env var regex")
    })
    .is_match(v.trim())
}

/// A text (a message quoting a script line, a probe's URL) with every secret [`text_spans`]
/// finds in it redacted. Printers that know the run use [`Redactor::redact_in`], which also
/// hides the run's exact secret values.
pub fn redact_in(text: &str) -> String {
    replace_spans(text, text_spans(text)).into_owned()
}

/// The only form in which a secret is ever shown: its first 4 characters and its length.
pub fn redact(v: &str) -> String {
    let n = v.chars().count();
    let head: String = v.chars().take(4.min(n / 2)).collect();
    format!("{head}… ({n} chars)")
}

/// Replace every character of the spans with `*` (same byte length, so other spans stay valid),
/// keeping the first 4 characters of each and the line breaks.
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
        // line breaks stay: a masked excerpt keeps its lines
        for b in &mut bytes[start + keep..end] {
            if !matches!(*b, b'\n' | b'\r') {
                *b = b'*';
            }
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
            if !generic_value_may_be_secret(&k.value, t) {
                continue;
            }
            out.push((f.file, k, v, is_placeholder(t)));
        }
    }
    out
}

/// A URL is a secret only when it carries one (userinfo, a token in its path or query, a
/// webhook service's secret path): `token_url`, `authUrl`, `oauth2.token_url` name the
/// address of a token endpoint, not a token. A key that names a URL (`*url`, `*uri`) with a
/// value that is not one (`token_url: d` in a test fixture) holds no credential either.
fn generic_value_may_be_secret(key: &str, value: &str) -> bool {
    if value.contains("://") {
        return url_carries_secret(value);
    }
    let flat: String = key
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    !(flat.ends_with("url") || flat.ends_with("uri"))
}

/// A secret-bearing Alertmanager field (`FieldKind::Secret`) with a literal value.
#[derive(Debug, Clone)]
pub struct AmSecret<'a> {
    pub file: crate::source::FileId,
    pub field: &'a crate::parse::alertmanager::FieldVal,
    /// Where it is: `global`, or `slack_configs of receiver "x"`.
    pub place: String,
    /// Not a credential: a placeholder, or an environment variable reference
    /// (`env_var`) that Alertmanager does not expand. Reported by `secrets/placeholder`.
    pub placeholder: bool,
    /// The placeholder is a `$VAR` / `${VAR}` reference.
    pub env_var: bool,
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
    // a webhook service's URL is its secret, but only when the path holds an identifier or a
    // token (Slack `T024BE7LD/B0.../<24 chars>`, Discord `<id>/<token>`, Teams `<guid>@<guid>`):
    // `.../webhookb2/id/IncomingWebhook/id` or `.../services/change/me/please` hold none
    let secret_segment = |seg: &str| {
        let digits = seg.chars().filter(char::is_ascii_digit).count();
        seg.len() >= 20 || (seg.len() >= 8 && digits >= 2)
    };
    if WEBHOOK_HOSTS
        .iter()
        .any(|h| authority == *h || authority.ends_with(&format!(".{h}")))
    {
        let original = &url[url.len() - rest.len() + authority.len()..];
        if original
            .split(['/', '?', '&', '=', '@'])
            .any(secret_segment)
        {
            return true;
        }
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
            if v.is_empty() || v.contains("{{") {
                continue;
            }
            let url_field = field.path.ends_with("url");
            // Alertmanager never expands environment variables: `${VAR}` is sent as written
            // unless a deploy step substitutes it. A whole-value reference in a URL field is
            // refused at load already (alertmanager/syntax: no scheme).
            let env_var = has_env_var(v);
            if env_var && url_field && !v.contains("://") {
                continue;
            }
            if !env_var && is_reference(v) {
                continue; // a secret manager's reference, substituted before the file is used
            }
            let placeholder = env_var || is_placeholder(v);
            if url_field && !placeholder && !url_carries_secret(v) {
                continue;
            }
            out.push(AmSecret {
                file: r.file,
                field,
                place,
                placeholder,
                env_var,
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

/// Every span of `file` to mask in output that shows source text: what [`text_spans`] finds in
/// its text (known formats, PEM bodies, values of secret-named keys: also in a file that
/// failed to parse) and the secret fields (`fields`, from [`field_spans`]) that lie in it.
pub fn mask_spans(
    text: &str,
    file: crate::source::FileId,
    fields: &[(crate::source::FileId, Span)],
) -> Vec<Span> {
    let mut spans: Vec<Span> = text_spans(text);
    spans.extend(
        fields
            .iter()
            .filter(|(f, _)| *f == file)
            .map(|(_, s)| s.clone()),
    );
    spans
}

// ---------------------------------------------------------------------------------------------
// Redaction of any text shown to a user: one path for every printer.
// ---------------------------------------------------------------------------------------------

/// A key or flag name (`smtp_auth_password`, `DB_PASSWORD`, `--api-key`, `apiKey`,
/// `http_config.basic_auth.password`) that says its value is a secret: `Some(true)` when the
/// name alone says so (password, secret, token, credential, API/private/access key), `Some(false)`
/// when the value must also look like one (`*_KEY`, `*_AUTH`, webhook and API URLs).
/// References to secrets (`password_file`, `token_path`, `secret_name`, `key_id`) are not.
pub fn secret_key_name(key: &str) -> Option<bool> {
    let k = key.trim_matches(|c| c == '-' || c == '"' || c == '\'');
    let k = k.rsplit('.').next().unwrap_or(k);
    if k.is_empty() {
        return None;
    }
    // camelCase and kebab-case to UPPER_SNAKE: apiKey -> API_KEY, x-api-key -> X_API_KEY
    let mut upper = String::with_capacity(k.len() + 4);
    let mut prev: Option<char> = None;
    for c in k.chars() {
        if c.is_ascii_uppercase()
            && prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
        {
            upper.push('_');
        }
        upper.push(if c == '-' {
            '_'
        } else {
            c.to_ascii_uppercase()
        });
        prev = Some(c);
    }
    if upper.ends_with("AUTHORIZATION") {
        return None; // a header: see the Authorization pattern
    }
    let named = crate::parse::ci::secret_name(&upper);
    if !named
        && !matches!(upper.as_str(), "AUTH" | "PASS" | "PASSWD")
        && !upper.ends_with("API_URL")
    {
        return None;
    }
    const STRONG: &[&str] = &[
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "CREDENTIAL",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
        "ACCESS_KEY",
    ];
    Some(upper == "PASS" || STRONG.iter().any(|w| upper.contains(w)))
}

/// Is `v`, written after a secret-named key, a value to hide? `strong`: the name alone says so;
/// `anything`: the context is a mapping entry (a YAML line, a JSON member), where a strong
/// name's value is a secret whatever it looks like. References (`$VAR`, `{{ .x }}`,
/// `${{ secrets.X }}`), file paths, booleans, small numbers, YAML indicators, URLs without a
/// credential and values already redacted are not.
fn secret_value(v: &str, strong: bool, anything: bool) -> bool {
    let t = v.trim();
    if t.is_empty()
        || t.contains('…')
        || t.starts_with('$')
        || t.starts_with("{{")
        || t.starts_with(['{', '[', '&', '*', '!', '|', '>', '#'])
        || is_reference(t)
        || clearly_not_a_secret(t)
        || matches!(t, "~" | "null" | "Null" | "NULL" | "None" | "none" | "nil")
    {
        return false;
    }
    if t.contains("://") {
        return url_carries_secret(t);
    }
    (strong && anything) || shaped_like_secret(t)
}

struct Lazy(&'static str, OnceLock<Regex>);

impl Lazy {
    fn get(&self) -> &Regex {
        self.1
            .get_or_init(|| Regex::new(self.0).expect("redaction pattern"))
    }
}

/// `key: value`, `key=value`, `"key": "value"`, `--key=value`, `key="value"` (a matcher).
static KEY_VALUE: Lazy = Lazy(
    r#"(?im)(?:^|[^A-Za-z0-9_.\-])["']?(?P<key>[A-Za-z0-9_.\-]*(?:pass|secret|token|key|auth|credential|webhook|pwd|api_url)[A-Za-z0-9_.\-]*)["']?[ \t]*(?P<sep>[:=])[ \t]*(?P<val>"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s"'`,;&|)}\]]+)"#,
    OnceLock::new(),
);

/// `--key value`, `-key value`.
static FLAG_VALUE: Lazy = Lazy(
    r#"(?i)(?:^|[\s"'(])--?(?P<key>[A-Za-z0-9_.\-]*(?:pass|secret|token|key|auth|credential|webhook|pwd)[A-Za-z0-9_.\-]*)[ \t]+(?P<val>"[^"\n]*"|'[^'\n]*'|[^\s"'`,;&|)}\]\-][^\s"'`,;&|)}\]]*)"#,
    OnceLock::new(),
);

/// `curl -u user:pass`, `--user user:pass`, `--proxy-user user:pass`.
static USER_PASS: Lazy = Lazy(
    r#"(?:^|[\s"'(])(?:-u|--user|--proxy-user|-U)(?:[ \t]+|=)?["']?[^\s:"'@]+:(?P<pw>[^\s"'@]+)"#,
    OnceLock::new(),
);

/// `Authorization: Bearer xyz`, `Authorization: Basic xyz`, `authorization=token xyz`.
static AUTH_HEADER: Lazy = Lazy(
    r#"(?i)\b(?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?(?:(?:bearer|basic|token|bot|digest|apikey|api-key|sso-key|key|negotiate|ntlm|dsn|splunk|genieKey)[ \t]+)?(?P<cred>[^\s"',;)}\]]+)"#,
    OnceLock::new(),
);

/// A bearer token on its own (`-H "X: Bearer xyz"`).
static BEARER: Lazy = Lazy(
    r"(?i)\bbearer[ \t]+(?P<cred>[A-Za-z0-9._~+/=\-]{12,})",
    OnceLock::new(),
);

/// The header of a PEM private key.
static PEM_BEGIN: Lazy = Lazy(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
    OnceLock::new(),
);

/// A run of base64 characters (a line of a PEM body, or a part of one).
static BASE64_RUN: Lazy = Lazy(r"[A-Za-z0-9+/=]{4,}", OnceLock::new());

/// The spans of a PEM private key's body (every base64 run between the header and the
/// `-----END` line; without one, the base64 lines that follow the header): never more than
/// one line each, so a masked text keeps its lines.
fn pem_bodies(text: &str, out: &mut Vec<Span>) {
    if !text.contains("PRIVATE KEY") {
        return;
    }
    for m in PEM_BEGIN.get().find_iter(text) {
        let rest = &text[m.end()..];
        let body_len = match rest.find("-----END") {
            Some(e) => e,
            None => {
                // the base64 lines right after the header (a quoted key cut short)
                let mut len = 0;
                for (i, line) in rest.split_inclusive('\n').enumerate() {
                    let t = line.trim().trim_matches(|c| c == '"' || c == '\'');
                    let base64 = t
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+/=\\".contains(c));
                    if i > 0 && (t.is_empty() || !base64) {
                        break;
                    }
                    len += line.len();
                }
                len
            }
        };
        let body = &rest[..body_len];
        for r in BASE64_RUN.get().find_iter(body) {
            out.push(m.end() + r.start()..m.end() + r.end());
        }
    }
}

/// The value of a key pattern match: inside its quotes, or, for an unquoted value of a YAML
/// mapping line (`  password: two words`), the rest of the line up to a comment or a `: `.
fn value_span(text: &str, key_start: usize, sep: &str, val: regex::Match<'_>) -> (Span, bool) {
    let v = val.as_str();
    let line_start = text[..key_start].rfind('\n').map_or(0, |i| i + 1);
    let before = text[line_start..key_start].trim_start_matches([' ', '\t', '-', '"', '\'']);
    let mapping_line = sep == ":" && before.is_empty();
    if v.len() >= 2
        && (v.starts_with('"') && v.ends_with('"') || v.starts_with('\'') && v.ends_with('\''))
    {
        return (val.start() + 1..val.end() - 1, mapping_line);
    }
    if !mapping_line {
        return (val.start()..val.end(), false);
    }
    let line_end = text[val.start()..]
        .find(['\n', '\r'])
        .map_or(text.len(), |i| val.start() + i);
    let rest = &text[val.start()..line_end];
    let cut = [" #", "\t#", ": "]
        .iter()
        .filter_map(|c| rest.find(c))
        .min()
        .unwrap_or(rest.len());
    let rest = rest[..cut].trim_end();
    let rest = rest.strip_suffix(':').unwrap_or(rest);
    if rest.is_empty() {
        return (val.start()..val.end(), true);
    }
    (val.start()..val.start() + rest.len(), true)
}

/// The spans of `text` that hold a secret, found from the text alone: known credential
/// formats, PEM private key bodies, values of secret-named keys and flags (`key: value`,
/// `key=value`, `"key": "value"`, `--key value`, `--key=value`), URL userinfo passwords,
/// `curl -u user:pass` and Authorization headers. No span crosses a line break; spans may
/// overlap.
pub fn text_spans(text: &str) -> Vec<Span> {
    found(text).into_iter().map(|(s, _)| s).collect()
}

/// How a span of [`found`] was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    /// A known credential format ([`scan_text`]).
    Known,
    /// A line of a PEM private key's body.
    Pem,
    /// Anything else: a value by its key, a header, `curl -u`.
    Other,
}

/// Literal pre-checks of [`found`]'s patterns: one scan of the text each (most texts hold
/// none of them).
static KEY_HINT: Lazy = Lazy(
    r"(?i)pass|secret|token|key|auth|credential|webhook|pwd|api_url",
    OnceLock::new(),
);
static USER_HINT: Lazy = Lazy(r"-u|--user|-U", OnceLock::new());
static AUTH_HINT: Lazy = Lazy(r"(?i)authorization|bearer", OnceLock::new());

/// A pre-check of everything [`found`] looks for: a text without any of these (most messages)
/// holds nothing to redact, found in one scan.
static ANY_HINT: Lazy = Lazy(
    r"(?i)pass|secret|token|key|auth|credential|webhook|pwd|api_url|bearer|private|://|xox|xapp-|gh[pousr]_|github_pat_|gl[a-z]+-|akia|asia|abia|acca|eyj|-u",
    OnceLock::new(),
);

/// [`text_spans`], each with how it was found.
fn found(text: &str) -> Vec<(Span, Found)> {
    if !ANY_HINT.get().is_match(text) {
        return Vec::new();
    }
    let mut out: Vec<(Span, Found)> = scan_text(text)
        .into_iter()
        .map(|d| (d.span, Found::Known))
        .collect();
    let mut pem = Vec::new();
    pem_bodies(text, &mut pem);
    out.extend(pem.into_iter().map(|s| (s, Found::Pem)));
    if KEY_HINT.get().is_match(text) {
        for c in KEY_VALUE.get().captures_iter(text) {
            let (Some(key), Some(sep), Some(val)) = (c.name("key"), c.name("sep"), c.name("val"))
            else {
                continue;
            };
            let Some(strong) = secret_key_name(key.as_str()) else {
                continue;
            };
            // a host and port (`//webhook-svc:8080/x`, `webhook-svc:9093`), not a key
            let port = sep.as_str() == ":"
                && sep.end() == val.start()
                && val.as_str().starts_with(|c: char| c.is_ascii_digit())
                && val
                    .as_str()
                    .split('/')
                    .next()
                    .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
            if port || text[..key.start()].ends_with(['/', '@']) {
                continue;
            }
            let (span, entry) = value_span(text, key.start(), sep.as_str(), val);
            let value = &text[span.clone()];
            // `access_key: access_key`: a name, not a value
            if value.trim().eq_ignore_ascii_case(
                key.as_str()
                    .trim_matches(|c| c == '-' || c == '"' || c == '\'')
                    .rsplit('.')
                    .next()
                    .unwrap_or(""),
            ) {
                continue;
            }
            // a JSON member or a mapping line: `"password": "x"`, `  password: x`
            let quoted_key = text[..key.start()].ends_with(['"', '\'']);
            if secret_value(value, strong, entry || quoted_key) {
                out.push((span, Found::Other));
            }
        }
        for c in FLAG_VALUE.get().captures_iter(text) {
            let (Some(key), Some(val)) = (c.name("key"), c.name("val")) else {
                continue;
            };
            let Some(strong) = secret_key_name(key.as_str()) else {
                continue;
            };
            let v = val.as_str();
            let span = if v.len() >= 2 && (v.starts_with('"') || v.starts_with('\'')) {
                val.start() + 1..val.end() - 1
            } else {
                val.start()..val.end()
            };
            if secret_value(&text[span.clone()], strong, false) {
                out.push((span, Found::Other));
            }
        }
    }
    if USER_HINT.get().is_match(text) {
        for c in USER_PASS.get().captures_iter(text) {
            let Some(pw) = c.name("pw") else { continue };
            let t = pw.as_str();
            if !is_reference(t) && !clearly_not_a_secret(t) && !t.contains('…') {
                out.push((pw.start()..pw.end(), Found::Other));
            }
        }
    }
    if AUTH_HINT.get().is_match(text) {
        for re in [&AUTH_HEADER, &BEARER] {
            for c in re.get().captures_iter(text) {
                let Some(cred) = c.name("cred") else { continue };
                let t = cred.as_str();
                let bare = std::ptr::eq(re, &BEARER);
                if t.contains('…')
                    || t.starts_with(['$', '{', '[', '|', '>'])
                    || is_reference(t)
                    || clearly_not_a_secret(t)
                    || (bare
                        && !(t.chars().any(|c| c.is_ascii_digit())
                            && t.chars().any(|c| c.is_ascii_alphabetic())))
                    || matches!(
                        t.to_ascii_lowercase().as_str(),
                        "bearer" | "basic" | "token" | "digest"
                    )
                {
                    continue;
                }
                out.push((cred.start()..cred.end(), Found::Other));
            }
        }
    }
    out.retain(|(s, _)| s.start < s.end);
    out
}

/// Merge overlapping and touching spans, in order.
fn merged(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        match out.last_mut() {
            Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
            _ => out.push(s),
        }
    }
    out
}

/// `text` with every span replaced by its [`redact`]ed form (borrowed when there is none).
fn replace_spans<'a>(text: &'a str, spans: Vec<Span>) -> std::borrow::Cow<'a, str> {
    let spans = merged(spans);
    if spans.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for s in spans {
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
    std::borrow::Cow::Owned(out)
}

/// The secrets of one run, to redact from everything it prints: on top of what
/// [`text_spans`] finds in any text, every exact value the secrets checks detected anywhere in
/// the run (Alertmanager credential fields, CI secret variables, Kubernetes Secret values,
/// secret-named keys of other files, and the secrets found in the text of every source, also
/// of files that failed to parse), wherever it is quoted (a parse error, a matcher, a receiver
/// name).
#[derive(Debug, Default)]
pub struct Redactor {
    /// The exact values, longest first (an alternation tries them in order).
    exact: Option<Regex>,
}

/// Shortest exact value redacted wherever it appears (shorter ones would hide ordinary words).
const MIN_EXACT: usize = 6;

/// The secret values the texts show (a value found by its key is kept when it looks like a
/// secret: a plain word there would be hidden everywhere).
fn found_values(texts: &[&str]) -> Vec<String> {
    texts
        .par_iter()
        .flat_map_iter(|text| {
            found(text)
                .into_iter()
                .filter_map(|(span, how)| {
                    let v = text.get(span)?.trim();
                    let keep = match how {
                        Found::Known => true,
                        Found::Pem => v.len() >= 8,
                        Found::Other => shaped_like_secret(v),
                    };
                    (keep && !is_placeholder(v)).then(|| v.to_string())
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

impl Redactor {
    /// A redactor of these exact values (and of what [`text_spans`] finds).
    pub fn new(values: impl IntoIterator<Item = String>) -> Redactor {
        let mut values: Vec<String> = values
            .into_iter()
            .flat_map(|v| v.lines().map(|l| l.trim().to_string()).collect::<Vec<_>>())
            .filter(|v| v.chars().count() >= MIN_EXACT && !v.contains('…'))
            .collect();
        values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        values.dedup();
        if values.is_empty() {
            return Redactor::default();
        }
        let alternation = values
            .iter()
            .map(|v| regex::escape(v))
            .collect::<Vec<_>>()
            .join("|");
        Redactor {
            exact: regex::RegexBuilder::new(&alternation)
                .size_limit(64 << 20)
                .build()
                .ok(),
        }
    }

    /// The secrets of a project (see [`Redactor`]).
    pub fn for_project(project: &crate::model::Project) -> Redactor {
        let mut values: Vec<String> = Vec::new();
        for sec in am_secret_values(project) {
            if let (false, Some(v)) = (sec.placeholder, &sec.field.value) {
                values.push(v.value.trim().to_string());
            }
        }
        for (_, var, placeholder) in ci_secret_values(project) {
            if let (false, Some(v)) = (placeholder, &var.value) {
                values.push(v.value.trim().to_string());
            }
        }
        for (_, _, v, placeholder) in generic_secret_values(project) {
            if !placeholder {
                values.push(v.value.trim().to_string());
            }
        }
        for f in &project.files {
            let text = &project.sources.get(f.file).text;
            for v in f.k8s_secrets.iter().filter(|v| !is_placeholder(&v.value)) {
                values.push(v.value.clone());
                if let Some(raw) = text.get(v.span.clone()) {
                    values.push(raw.trim_matches(|c| c == '"' || c == '\'').to_string());
                }
            }
        }
        // what the text of every source shows, parsed or not
        values.extend(found_values(
            &project.sources.iter().map(|s| &*s.text).collect::<Vec<_>>(),
        ));
        Redactor::new(values.into_iter().filter(|v| !is_placeholder(v)))
    }

    /// A redactor of the secrets these texts show (a configuration file that failed to load).
    pub fn for_texts<'a>(texts: impl IntoIterator<Item = &'a str>) -> Redactor {
        Redactor::new(found_values(&texts.into_iter().collect::<Vec<_>>()))
    }

    /// The spans of `text` to hide: [`text_spans`] and every occurrence of an exact value (not
    /// inside a longer word).
    pub fn spans(&self, text: &str) -> Vec<Span> {
        let mut out = text_spans(text);
        self.exact_spans(text, &mut out);
        out
    }

    /// Every occurrence of an exact value in `text` (not inside a longer word).
    fn exact_spans(&self, text: &str, out: &mut Vec<Span>) {
        let Some(re) = &self.exact else { return };
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric());
        for m in re.find_iter(text) {
            let before = text[..m.start()].chars().next_back();
            let after = text[m.end()..].chars().next();
            let first = m.as_str().chars().next();
            let last = m.as_str().chars().next_back();
            if (word(before) && word(first)) || (word(after) && word(last)) {
                continue;
            }
            out.push(m.start()..m.end());
        }
    }

    /// `text` with every secret in it redacted (borrowed when there is none).
    pub fn redact_in<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        replace_spans(text, self.spans(text))
    }

    /// The spans of `file` to mask in a source excerpt: [`mask_spans`] and the exact values.
    pub fn mask_spans(
        &self,
        text: &str,
        file: crate::source::FileId,
        fields: &[(crate::source::FileId, Span)],
    ) -> Vec<Span> {
        let mut spans = mask_spans(text, file, fields);
        self.exact_spans(text, &mut spans);
        spans
    }

    /// Every string of a JSON value (and every key) with its secrets redacted.
    pub fn redact_json(&self, v: &mut serde_json::Value) {
        use serde_json::Value;
        match v {
            Value::String(s) => {
                if let std::borrow::Cow::Owned(r) = self.redact_in(s) {
                    *s = r;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| self.redact_json(i)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (k, mut val) in entries {
                    self.redact_json(&mut val);
                    map.insert(self.redact_in(&k).into_owned(), val);
                }
            }
            _ => {}
        }
    }
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
    fn redact_in_hides_every_form() {
        // (text, secret it holds, what stays)
        let cases: &[(&str, &str, &str)] = &[
            ("smtp_auth_password: Sm7p-secret-value", "Sm7p-secret-value", "smtp_auth_password: "),
            ("  password: correct horse battery staple # note", "horse battery", "# note"),
            (r#"{"password": "Js0n-Pa55-word", "user": "bob"}"#, "Js0n-Pa55-word", "\"user\": \"bob\""),
            ("DB_PASSWORD=Hunter2-Secret ./run", "Hunter2-Secret", "./run"),
            ("./x --password Fl4g-Pa55-w0rd --api-key=K3y-Value-77 -v", "Fl4g-Pa55-w0rd", "-v"),
            ("./x --password Fl4g-Pa55-w0rd --api-key=K3y-Value-77 -v", "K3y-Value-77", "--api-key="),
            ("curl -u admin:Curl-Pa55-word https://x.invalid", "Curl-Pa55-word", "-u admin:"),
            ("curl --user admin:Curl-Pa55-word https://x.invalid", "Curl-Pa55-word", "https://x.invalid"),
            ("curl -H 'Authorization: Bearer abcdef0123456789' x", "abcdef0123456789", "Authorization: Bearer "),
            ("Authorization: Basic YWRtaW46cGFzcw==", "YWRtaW46cGFzcw==", "Basic "),
            ("-H \"PRIVATE-TOKEN: Gl-Pr1vate-T0ken\"", "Gl-Pr1vate-T0ken", "PRIVATE-TOKEN: "),
            ("dsn postgres://app:Url-Pa55word@db:5432/x down", "Url-Pa55word", "postgres://app:"),
            ("dsn postgres://app:Url-Pa55word@db:5432/x down", "Url-Pa55word", "@db:5432/x down"),
            ("up{job=\"a\", api_key=\"M4tcher-Secret\"} == 0", "M4tcher-Secret", "up{job=\"a\", api_key=\""),
            ("secret_sauce: Unkn0wn-Field-Secret", "Unkn0wn-Field-Secret", "secret_sauce: "),
            ("apiKey: HelmApi-K3y-2211", "HelmApi-K3y-2211", "apiKey: "),
            ("webhook_url: https://example.invalid/hook/abcdef0123456789abcdef", "abcdef0123456789abcdef", "webhook_url: "),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1234\n  abcdEFGH5678ijkl\n-----END RSA PRIVATE KEY-----",
                "EFGH5678",
                "-----END RSA PRIVATE KEY-----",
            ),
            // a key quoted in JSON on one line, and a key cut short
            (
                r#"{"key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF\n-----END PRIVATE KEY-----"}"#,
                "ADANBgkqhkiG9w0BAQEF",
                "-----END PRIVATE KEY-----",
            ),
            ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF\nnext: line", "ADANBgkqhkiG9w0", "next: line"),
        ];
        for (text, secret, kept) in cases {
            let r = redact_in(text);
            assert!(!r.contains(secret), "{text:?} -> {r:?}");
            assert!(r.contains(kept), "{text:?} -> {r:?} lost {kept:?}");
            assert!(r.contains(" chars)"), "{text:?} -> {r:?}");
            // redacting twice changes nothing
            assert_eq!(redact_in(&r), r, "{text:?}");
        }
    }

    #[test]
    fn redact_in_leaves_what_is_not_a_secret() {
        for text in [
            "token_url: https://auth.example.invalid/oauth/token",
            "password_file: /etc/alertmanager/secrets/password",
            "credentials_file: /etc/alertmanager/secrets/credentials",
            "client_secret_file: /etc/x",
            "use `password_file: /etc/alertmanager/secrets/password` instead",
            "summary: \"Instance {{ $labels.instance }} is down\"",
            "description: the token bucket of {{ $labels.job }} is empty",
            "alert: TokenExpired",
            "password: $DB_PASSWORD",
            "token: ${{ secrets.TOKEN }}",
            "api_key: '{{ .Values.apiKey }}'",
            "send_resolved: true",
            "webhook_url: http://127.0.0.1:5001/",
            "url: http://alertmanager-webhook:8080/hook",
            "key: severity",
            "sort_key: name",
            "expr: kube_secret_info{secret=\"grafana-admin\"} == 0",
            "expr: rate(auth_failures_total{token_type=\"bearer\"}[5m]) > 1",
            "curl -fsS https://example.invalid/health",
            "docker run -u 1000:1000 image",
            "Authorization: Bearer $TOKEN",
            "authorization:\n  type: Bearer\n  credentials_file: /x",
            "access_key: access_key",
            "basic auth and bearer tokens are rotated daily",
            "`DB_PASSWORD` in global `variables` holds a literal secret (CiDb… (18 chars))",
            "password: Sup3… (13 chars)",
            "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A\n-----END PUBLIC KEY-----",
            "tls_config:\n  key_file: /etc/tls/key.pem",
            "an ordinary alert message: disk /var is 91% full on node-1",
        ] {
            assert_eq!(redact_in(text), text);
        }
    }

    #[test]
    fn run_values_are_redacted_wherever_quoted() {
        let r = Redactor::new(["S3cr3t-Exact-Value".to_string(), "short".to_string()]);
        assert_eq!(
            r.redact_in("invalid duration \"S3cr3t-Exact-Value\" in `for`"),
            "invalid duration \"S3cr… (18 chars)\" in `for`"
        );
        // not inside a longer word, and never a value too short to be told from a word
        assert_eq!(r.redact_in("xS3cr3t-Exact-Valuex"), "xS3cr3t-Exact-Valuex");
        assert_eq!(r.redact_in("a short message"), "a short message");
        assert!(matches!(
            r.redact_in("nothing here"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn excerpt_masks_keep_lines_and_hide_unparsed_secrets() {
        // a file that failed to parse: no field spans, only what its text shows
        let text = "global:\n  smtp_auth_password: Br0ken-Smtp-Pw-5150: [x\n  key: |\n    -----BEGIN PRIVATE KEY-----\n    PemB0dyLineOnePLANTED0001\n    -----END PRIVATE KEY-----\n  token_url: https://auth.example.invalid/t\n";
        let spans = mask_spans(text, crate::source::FileId(0), &[]);
        let m = mask(text, &spans);
        assert_eq!(m.len(), text.len());
        assert_eq!(m.lines().count(), text.lines().count());
        assert!(!m.contains("Smtp-Pw"), "{m}");
        assert!(!m.contains("LineOne"), "{m}");
        assert!(m.contains("-----END PRIVATE KEY-----"), "{m}");
        assert!(
            m.contains("token_url: https://auth.example.invalid/t"),
            "{m}"
        );
    }

    #[test]
    fn secret_key_names() {
        for (k, strong) in [
            ("password", true),
            ("smtp_auth_password", true),
            ("DB_PASSWORD", true),
            ("--api-key", true),
            ("apiKey", true),
            ("privateKey", true),
            ("http_config.basic_auth.password", true),
            ("client_secret", true),
            ("routing_key", false),
            ("slack_api_url", false),
            ("teams_webhook_url", false),
            ("auth", false),
        ] {
            assert_eq!(secret_key_name(k), Some(strong), "{k}");
        }
        for k in [
            "password_file",
            "token_path",
            "secret_name",
            "access_key_id",
            "public_key",
            "authorization",
            "monkey",
            "key",
            "auth_username",
            "existingSecret",
        ] {
            assert_eq!(secret_key_name(k), None, "{k}");
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

    #[test]
    fn placeholders_between_separators() {
        for p in [
            "SMTP_PASSWORD_PLACEHOLDER",
            "placeholder-token",
            "https://hooks.slack.com/services/change/me/please",
            "CHANGE_ME",
            "change me",
            "xxx",
            "XXX-XXX",
            "https://hooks.slack.com/services/XXX/YYY/ZZZ",
            "your-token-here",
            "PUT_KEY_HERE",
            "<slack webhook url>",
            "test-key",
            "mywechatsecret",
            "dummy_token",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        // words that merely contain a placeholder word, and real-looking values
        for real in [
            "Pa55-xxxx9",
            "aXXXb-3kf9",
            "placeholders2go!",
            "unchangeme",
            "3c6e0b8a9c15224a8228b9a98ca1531d",
            "mysql-r00t-Pw",
            "wheRe-1s-it",
        ] {
            assert!(!is_placeholder(real), "{real}");
        }
    }

    #[test]
    fn environment_variable_references() {
        for v in [
            "${SMTP_PASSWORD}",
            "$SLACK_URL",
            "https://hooks.slack.com/services/${SLACK_PATH}",
            "${TOKEN:-x}",
        ] {
            assert!(has_env_var(v), "{v}");
        }
        for v in ["Pa$$w0rd", "s3cr$t", "$ 5", "{{ .Env }}", "$$"] {
            assert!(!has_env_var(v), "{v}");
        }
    }

    #[test]
    fn endpoint_urls_are_not_secrets() {
        // oauth2 `token_url` and other addresses: no credential in them
        assert!(!generic_value_may_be_secret("token_url", "d"));
        assert!(!generic_value_may_be_secret(
            "tokenUrl",
            "https://auth.acme.io/oauth2/token"
        ));
        assert!(!generic_value_may_be_secret(
            "proxy_url",
            "http://proxy.acme.io:3128"
        ));
        assert!(!generic_value_may_be_secret(
            "slackWebhook",
            "http://localhost:8080/hook"
        ));
        assert!(generic_value_may_be_secret(
            "token_url",
            "https://u:Pa55w0rd@auth.acme.io/t"
        ));
        assert!(generic_value_may_be_secret(
            "apiToken",
            "tk_9f8e7d6c5b4a3210"
        ));
        assert!(generic_value_may_be_secret(
            "slackWebhook",
            "https://hooks.slack.com/services/T024BE7LD/B01ABCDEF/abcdefghijABCDEFGHIJ1234"
        ));
        // a webhook service host whose path holds no identifier or token
        assert!(!url_carries_secret(
            "https://webhook.office.com/webhookb2/id/IncomingWebhook/id"
        ));
        assert!(!url_carries_secret(
            "https://hooks.slack.com/services/change/me/please"
        ));
        assert!(url_carries_secret(
            "https://acme.webhook.office.com/webhookb2/0b6b2c9e-1111-4c1d-9d7e-123456789abc@72f988bf-86f1-41af-91ab-2d7cd011db47/IncomingWebhook/8e8d5f1f/x"
        ));
        assert!(url_carries_secret(
            "https://discord.com/api/webhooks/112233445566778899/AbCdEfGhIjKlMnOpQrStUvWxYz"
        ));
    }
}
