//! Alertmanager configuration (`alertmanager.yml`) into a typed, spanned model.
//!
//! Validation follows Alertmanager's loader (`config/config.go`, `config/notifiers.go`, the
//! notifier configs, and prometheus/common `config/http_config.go`) for current releases
//! (0.28 and later): strict fields (`yaml.UnmarshalStrict`), a root route with a receiver and no
//! matchers, defined receivers and time intervals, unique names, valid label names, regexes,
//! matchers and durations, at most one of a secret and its `*_file` twin, and the settings each
//! integration requires (inline or from `global`). Every problem is an [`Issue`] of
//! `alertmanager/syntax` at its position, all collected in one pass.
//!
//! The route tree, receivers, inhibit rules and time intervals are typed; the body of each
//! integration, `global` and `tracing` are read through a schema table into flat
//! [`FieldVal`]s (dotted path, key span, scalar value), which is what the template and secret
//! checks need.

use crate::parse::am_matcher::{self, MatchOp, Matcher, Parsed};
use crate::parse::fields::{Duration, Issue, Reader, SStr};
use crate::parse::scalar::{self, PromDuration};
use crate::parse::yaml::{Key, Node, Value};
use crate::source::Span;

pub const CHECK: &str = "alertmanager/syntax";
const SLACK_POST_MESSAGE: &str = "https://slack.com/api/chat.postMessage";
const UNKNOWN_HELP: &str =
    "Alertmanager (and `amtool check-config`) refuses to load a config with unknown fields";

/// Defaults of Alertmanager's `DefaultRouteOpts`.
pub const DEFAULT_GROUP_WAIT: PromDuration = PromDuration(30_000);
pub const DEFAULT_GROUP_INTERVAL: PromDuration = PromDuration(300_000);
pub const DEFAULT_REPEAT_INTERVAL: PromDuration = PromDuration(4 * 3_600_000);

/// A parsed Alertmanager config document.
#[derive(Debug, Default)]
pub struct AmConfig {
    /// The document's mapping.
    pub span: Span,
    pub global: Vec<FieldVal>,
    pub route: Option<Route>,
    pub receivers: Vec<Receiver>,
    pub inhibit_rules: Vec<InhibitRule>,
    pub time_intervals: Vec<TimeInterval>,
    /// `templates:` glob patterns.
    pub templates: Vec<SStr>,
    pub tracing: Vec<FieldVal>,
}

impl AmConfig {
    pub fn receiver(&self, name: &str) -> Option<&Receiver> {
        self.receivers.iter().find(|r| r.name.value == name)
    }

    /// Every route of the tree, depth first, with its depth (root = 0).
    pub fn routes(&self) -> Vec<(&Route, usize)> {
        fn walk<'a>(r: &'a Route, d: usize, out: &mut Vec<(&'a Route, usize)>) {
            out.push((r, d));
            for c in &r.routes {
                walk(c, d + 1, out);
            }
        }
        let mut out = Vec::new();
        if let Some(r) = &self.route {
            walk(r, 0, &mut out);
        }
        out
    }

    pub fn global(&self, path: &str) -> Option<&FieldVal> {
        self.global.iter().find(|f| f.path == path)
    }
}

/// A matcher with its position in the config file.
#[derive(Debug, Clone)]
pub struct SMatcher {
    pub matcher: Matcher,
    /// Where it is written (inside the `matchers:` item, or the `match:` entry).
    pub span: Span,
}

/// A legacy `match:` / `match_re:` block (`source_match`, ... for inhibit rules).
#[derive(Debug, Clone)]
pub struct LegacyMatch {
    /// `match`, `match_re`, `source_match`, ...
    pub field: &'static str,
    pub key: Span,
    /// The whole field, from the key to the end of its value.
    pub field_span: Span,
    pub regex: bool,
    /// label name, value
    pub entries: Vec<(SStr, SStr)>,
}

#[derive(Debug)]
pub struct Route {
    /// The route's mapping.
    pub span: Span,
    /// First line of the mapping (what to underline for the route as a whole).
    pub head: Span,
    pub receiver: Option<SStr>,
    pub group_by: Option<Vec<SStr>>,
    pub continue_: Option<(bool, Span)>,
    /// `matchers:` (new syntax), flattened.
    pub matchers: Vec<SMatcher>,
    pub matchers_key: Option<Span>,
    /// The whole `matchers:` field, from the key to the end of its value.
    pub matchers_field: Option<Span>,
    /// `match:` and `match_re:`.
    pub legacy: Vec<LegacyMatch>,
    pub group_wait: Option<Duration>,
    pub group_interval: Option<Duration>,
    pub repeat_interval: Option<Duration>,
    pub mute_time_intervals: Vec<SStr>,
    pub active_time_intervals: Vec<SStr>,
    pub routes: Vec<Route>,
    /// Route `labels:` (name, templated value), inherited by child routes.
    pub labels: Vec<(SStr, SStr)>,
}

impl Route {
    /// All matchers of the route: `matchers:` plus those of `match`/`match_re`.
    pub fn all_matchers(&self) -> Vec<SMatcher> {
        let mut out = self.matchers.clone();
        for l in &self.legacy {
            for (k, v) in &l.entries {
                out.push(SMatcher {
                    matcher: Matcher {
                        name: k.value.to_string(),
                        op: if l.regex {
                            MatchOp::Regex
                        } else {
                            MatchOp::Equal
                        },
                        value: v.value.to_string(),
                        span: 0..0,
                    },
                    span: k.span.start..v.span.end,
                });
            }
        }
        out
    }
}

#[derive(Debug)]
pub struct InhibitRule {
    pub span: Span,
    pub head: Span,
    pub source_matchers: Vec<SMatcher>,
    pub target_matchers: Vec<SMatcher>,
    /// The whole `source_matchers:` / `target_matchers:` fields, key to end of value.
    pub source_matchers_field: Option<Span>,
    pub target_matchers_field: Option<Span>,
    pub legacy: Vec<LegacyMatch>,
    pub equal: Vec<SStr>,
}

#[derive(Debug)]
pub struct Receiver {
    pub name: SStr,
    pub span: Span,
    pub integrations: Vec<Integration>,
}

/// One entry of a `*_configs` list.
#[derive(Debug)]
pub struct Integration {
    /// `slack`, `email`, ... (the list key without `_configs`).
    pub kind: &'static str,
    /// The item's mapping.
    pub span: Span,
    pub fields: Vec<FieldVal>,
}

impl Integration {
    pub fn field(&self, path: &str) -> Option<&FieldVal> {
        self.fields.iter().find(|f| f.path == path)
    }
}

/// How a field is used by Alertmanager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Plain or templated text.
    Text,
    /// A credential (`Secret`, `SecretURL`) Alertmanager masks when it prints the config.
    Secret,
    /// A path to a file holding a credential.
    SecretFile,
    /// Another file path (CA, certificate).
    File,
    Url,
    Other,
}

/// A leaf field of a schema-read block.
#[derive(Debug, Clone)]
pub struct FieldVal {
    /// Dotted path inside the block: `api_url`, `http_config.basic_auth.password`, `details.x`.
    pub path: String,
    pub key: Span,
    /// The scalar value (Go string form); `None` for collections.
    pub value: Option<SStr>,
    pub kind: FieldKind,
}

impl FieldVal {
    /// Go's notion of "set" for a string field: present and non-empty.
    pub fn is_set(&self) -> bool {
        self.value.as_ref().is_some_and(|v| !v.value.is_empty())
    }
}

#[derive(Debug)]
pub struct TimeInterval {
    pub name: SStr,
    pub span: Span,
    /// Declared under the deprecated top-level `mute_time_intervals:`.
    pub legacy: bool,
    /// Its `time_intervals:` entries (the routing tests evaluate them).
    pub ranges: Vec<TimeRange>,
}

/// One entry of a time interval's `time_intervals:` (Alertmanager's `TimeInterval`), its
/// values as written (scalars as Alertmanager reads them: `2026` and `'2026'` alike).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimeRange {
    pub times: Vec<TimeOfDay>,
    pub weekdays: Vec<String>,
    pub days_of_month: Vec<String>,
    pub months: Vec<String>,
    pub years: Vec<String>,
    pub location: Option<String>,
}

/// A `times:` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeOfDay {
    pub start_time: String,
    pub end_time: String,
}

impl TimeRange {
    /// The entry written at `node` (a mapping; what cannot be read is left out, and reported
    /// by the validation).
    fn of(node: &Node, src: &str) -> TimeRange {
        let text = |n: &Node| n.go_string(src).filter(|_| n.is_scalar());
        let list = |k: &str| -> Vec<String> {
            node.get(k)
                .map(|v| v.items().iter().filter_map(text).collect())
                .unwrap_or_default()
        };
        TimeRange {
            times: node
                .get("times")
                .map(|v| {
                    v.items()
                        .iter()
                        .filter_map(|t| {
                            Some(TimeOfDay {
                                start_time: text(t.get("start_time")?)?,
                                end_time: text(t.get("end_time")?)?,
                            })
                        })
                        .collect()
                })
                .unwrap_or_default(),
            weekdays: list("weekdays"),
            days_of_month: list("days_of_month"),
            months: list("months"),
            years: list("years"),
            location: node.get("location").and_then(text),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Schema of the integration bodies, `global`, `http_config`, `tracing`
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum T {
    Str,
    Secret,
    SecretFile,
    File,
    Url,
    /// A URL that may be a template (webhook `url`).
    TmplUrl,
    /// `SecretURL`: a URL, or `<secret>`.
    SecretUrl,
    HostPort,
    Bool,
    Int,
    Float,
    Dur,
    StrMap,
    SecretMap,
    AnyMap,
    StrList,
    Obj(&'static [F]),
    ObjList(&'static [F]),
    Headers,
}

#[derive(Clone, Copy)]
struct F(&'static str, T);

use T::*;

const TLS: &[F] = &[
    F("ca", Str),
    F("ca_file", File),
    F("ca_ref", Str),
    F("cert", Str),
    F("cert_file", File),
    F("cert_ref", Str),
    F("key", Secret),
    F("key_file", SecretFile),
    F("key_ref", Str),
    F("server_name", Str),
    F("insecure_skip_verify", Bool),
    F("min_version", Str),
    F("max_version", Str),
];
const BASIC_AUTH: &[F] = &[
    F("username", Str),
    F("username_file", SecretFile),
    F("username_ref", Str),
    F("password", Secret),
    F("password_file", SecretFile),
    F("password_ref", Str),
];
const AUTHORIZATION: &[F] = &[
    F("type", Str),
    F("credentials", Secret),
    F("credentials_file", SecretFile),
    F("credentials_ref", Str),
];
const OAUTH2: &[F] = &[
    F("client_id", Str),
    F("client_secret", Secret),
    F("client_secret_file", SecretFile),
    F("client_secret_ref", Str),
    F("client_certificate_key_id", Str),
    F("client_certificate_key", Secret),
    F("client_certificate_key_file", SecretFile),
    F("client_certificate_key_ref", Str),
    F("grant_type", Str),
    F("signature_algorithm", Str),
    F("iss", Str),
    F("audience", Str),
    F("claims", AnyMap),
    F("scopes", StrList),
    F("token_url", Str),
    F("endpoint_params", StrMap),
    F("tls_config", Obj(TLS)),
    F("proxy_url", Str),
    F("no_proxy", Str),
    F("proxy_from_environment", Bool),
    F("proxy_connect_header", Headers),
];
const HTTP: &[F] = &[
    F("basic_auth", Obj(BASIC_AUTH)),
    F("authorization", Obj(AUTHORIZATION)),
    F("oauth2", Obj(OAUTH2)),
    F("bearer_token", Secret),
    F("bearer_token_file", SecretFile),
    F("tls_config", Obj(TLS)),
    F("follow_redirects", Bool),
    F("enable_http2", Bool),
    F("proxy_url", Str),
    F("no_proxy", Str),
    F("proxy_from_environment", Bool),
    F("proxy_connect_header", Headers),
    F("http_headers", Headers),
];

const GLOBAL: &[F] = &[
    F("resolve_timeout", Dur),
    F("http_config", Obj(HTTP)),
    F("smtp_from", Str),
    F("smtp_hello", Str),
    F("smtp_smarthost", HostPort),
    F("smtp_auth_username", Str),
    F("smtp_auth_password", Secret),
    F("smtp_auth_password_file", SecretFile),
    F("smtp_auth_secret", Secret),
    F("smtp_auth_secret_file", SecretFile),
    F("smtp_auth_identity", Str),
    F("smtp_require_tls", Bool),
    F("smtp_tls_config", Obj(TLS)),
    F("smtp_force_implicit_tls", Bool),
    F("slack_api_url", SecretUrl),
    F("slack_api_url_file", SecretFile),
    F("slack_app_token", Secret),
    F("slack_app_token_file", SecretFile),
    F("slack_app_url", Url),
    F("pagerduty_url", Url),
    F("opsgenie_api_url", Url),
    F("opsgenie_api_key", Secret),
    F("opsgenie_api_key_file", SecretFile),
    F("wechat_api_url", Url),
    F("wechat_api_secret", Secret),
    F("wechat_api_secret_file", SecretFile),
    F("wechat_api_corp_id", Str),
    F("victorops_api_url", Url),
    F("victorops_api_key", Secret),
    F("victorops_api_key_file", SecretFile),
    F("telegram_api_url", Url),
    F("telegram_bot_token", Secret),
    F("telegram_bot_token_file", SecretFile),
    F("webex_api_url", Url),
    F("jira_api_url", Url),
    F("rocketchat_api_url", Url),
    F("rocketchat_token", Secret),
    F("rocketchat_token_file", SecretFile),
    F("rocketchat_token_id", Secret),
    F("rocketchat_token_id_file", SecretFile),
    F("mattermost_webhook_url", SecretUrl),
    F("mattermost_webhook_url_file", SecretFile),
];

const TRACING: &[F] = &[
    F("client_type", Str),
    F("endpoint", Str),
    F("sampling_fraction", Float),
    F("insecure", Bool),
    F("headers", SecretMap),
    F("compression", Str),
    F("timeout", Dur),
    F("tls_config", Obj(TLS)),
];

const EMAIL: &[F] = &[
    F("send_resolved", Bool),
    F("to", Str),
    F("from", Str),
    F("hello", Str),
    F("smarthost", HostPort),
    F("auth_username", Str),
    F("auth_password", Secret),
    F("auth_password_file", SecretFile),
    F("auth_secret", Secret),
    F("auth_secret_file", SecretFile),
    F("auth_identity", Str),
    F("headers", StrMap),
    F("html", Str),
    F("text", Str),
    F("require_tls", Bool),
    F("tls_config", Obj(TLS)),
    F("force_implicit_tls", Bool),
];
const PD_IMAGE: &[F] = &[F("src", Str), F("alt", Str), F("href", Str)];
const PD_LINK: &[F] = &[F("href", Str), F("text", Str)];
const PAGERDUTY: &[F] = &[
    F("send_resolved", Bool),
    F("http_config", Obj(HTTP)),
    F("service_key", Secret),
    F("service_key_file", SecretFile),
    F("routing_key", Secret),
    F("routing_key_file", SecretFile),
    F("url", Url),
    F("client", Str),
    F("client_url", Str),
    F("description", Str),
    F("details", AnyMap),
    F("images", ObjList(PD_IMAGE)),
    F("links", ObjList(PD_LINK)),
    F("source", Str),
    F("severity", Str),
    F("class", Str),
    F("component", Str),
    F("group", Str),
    F("timeout", Dur),
];
const SLACK_CONFIRM: &[F] = &[
    F("text", Str),
    F("title", Str),
    F("ok_text", Str),
    F("dismiss_text", Str),
];
const SLACK_ACTION: &[F] = &[
    F("type", Str),
    F("text", Str),
    F("url", Str),
    F("style", Str),
    F("name", Str),
    F("value", Str),
    F("confirm", Obj(SLACK_CONFIRM)),
];
const SLACK_FIELD: &[F] = &[F("title", Str), F("value", Str), F("short", Bool)];
const SLACK_SUMMARY_HEADER: &[F] = &[F("resolve_color", Str)];
const SLACK_THREADED: &[F] = &[
    F("resolve_emoji", Str),
    F("use_summary_header", Bool),
    F("summary_header", Obj(SLACK_SUMMARY_HEADER)),
];
const SLACK: &[F] = &[
    F("send_resolved", Bool),
    F("http_config", Obj(HTTP)),
    F("api_url", SecretUrl),
    F("api_url_file", SecretFile),
    F("app_token", Secret),
    F("app_token_file", SecretFile),
    F("app_url", Url),
    F("channel", Str),
    F("username", Str),
    F("color", Str),
    F("title", Str),
    F("title_link", Str),
    F("pretext", Str),
    F("text", Str),
    F("message_text", Str),
    F("fields", ObjList(SLACK_FIELD)),
    F("short_fields", Bool),
    F("footer", Str),
    F("fallback", Str),
    F("callback_id", Str),
    F("icon_emoji", Str),
    F("icon_url", Str),
    F("image_url", Str),
    F("thumb_url", Str),
    F("link_names", Bool),
    F("mrkdwn_in", StrList),
    F("actions", ObjList(SLACK_ACTION)),
    F("message_strategy", Str),
    F("update_message", Bool),
    F("threaded_options", Obj(SLACK_THREADED)),
    F("timeout", Dur),
];
const OG_RESPONDER: &[F] = &[
    F("id", Str),
    F("name", Str),
    F("username", Str),
    F("type", Str),
];
const OPSGENIE: &[F] = &[
    F("send_resolved", Bool),
    F("http_config", Obj(HTTP)),
    F("api_key", Secret),
    F("api_key_file", SecretFile),
    F("api_url", Url),
    F("message", Str),
    F("description", Str),
    F("source", Str),
    F("details", StrMap),
    F("entity", Str),
    F("responders", ObjList(OG_RESPONDER)),
    F("actions", Str),
    F("tags", Str),
    F("note", Str),
    F("priority", Str),
    F("update_alerts", Bool),
];
const VICTOROPS: &[F] = &[
    F("send_resolved", Bool),
    F("http_config", Obj(HTTP)),
    F("api_key", Secret),
    F("api_key_file", SecretFile),
    F("api_url", Url),
    F("routing_key", Str),
    F("message_type", Str),
    F("state_message", Str),
    F("entity_display_name", Str),
    F("monitoring_tool", Str),
    F("custom_fields", StrMap),
];
const WEBHOOK: &[F] = &[
    F("send_resolved", Bool),
    F("http_config", Obj(HTTP)),
    F("url", TmplUrl),
    F("url_file", SecretFile),
    F("max_alerts", Int),
    F("timeout", Dur),
];
const WECHAT: &[F] = &[
    F("send_resolved", Bool),
    F("http_config", Obj(HTTP)),
    F("api_secret", Secret),
    F("api_secret_file", SecretFile),
    F("api_url", Url),
    F("corp_id", Str),
    F("agent_id", Str),
    F("to_user", Str),
    F("to_party", Str),
    F("to_tag", Str),
    F("message", Str),
    F("message_type", Str),
];
const PUSHOVER: &[F] = &[
    F("send_resolved", Bool),
    F("http_config", Obj(HTTP)),
    F("user_key", Secret),
    F("user_key_file", SecretFile),
    F("token", Secret),
    F("token_file", SecretFile),
    F("title", Str),
    F("message", Str),
    F("url", Str),
    F("url_title", Str),
    F("device", Str),
    F("sound", Str),
    F("priority", Str),
    F("retry", Dur),
    F("expire", Dur),
    F("ttl", Dur),
    F("html", Bool),
    F("monospace", Bool),
];
const SIGV4: &[F] = &[
    F("region", Str),
    F("access_key", Str),
    F("secret_key", Secret),
    F("profile", Str),
    F("role_arn", Str),
    F("external_id", Str),
    F("use_fips_sts_endpoint", Bool),
];
const SNS: &[F] = &[
    F("send_resolved", Bool),
    F("http_config", Obj(HTTP)),
    F("api_url", Str),
    F("sigv4", Obj(SIGV4)),
    F("topic_arn", Str),
    F("phone_number", Str),
    F("target_arn", Str),
    F("subject", Str),
    F("message", Str),
    F("attributes", StrMap),
];
const TELEGRAM: &[F] = &[
    F("send_resolved", Bool),
    F("http_config", Obj(HTTP)),
    F("api_url", Url),
    F("bot_token", Secret),
    F("bot_token_file", SecretFile),
    F("chat_id", Int),
    F("chat_id_file", SecretFile),
    F("message_thread_id", Int),
    F("message", Str),
    F("disable_notifications", Bool),
    F("parse_mode", Str),
];
const DISCORD: &[F] = &[
    F("send_resolved", Bool),
    F("http_config", Obj(HTTP)),
    F("webhook_url", SecretUrl),
    F("webhook_url_file", SecretFile),
    F("content", Str),
    F("title", Str),
    F("message", Str),
    F("username", Str),
    F("avatar_url", Str),
];
const WEBEX: &[F] = &[
    F("send_resolved", Bool),
    F("http_config", Obj(HTTP)),
    F("api_url", Url),
    F("message", Str),
    F("room_id", Str),
];
const MSTEAMS: &[F] = &[
    F("send_resolved", Bool),
    F("http_config", Obj(HTTP)),
    F("webhook_url", SecretUrl),
    F("webhook_url_file", SecretFile),
    F("title", Str),
    F("summary", Str),
    F("text", Str),
];
const MSTEAMSV2: &[F] = &[
    F("send_resolved", Bool),
    F("http_config", Obj(HTTP)),
    F("webhook_url", SecretUrl),
    F("webhook_url_file", SecretFile),
    F("title", Str),
    F("text", Str),
];
const JIRA: &[F] = &[
    F("send_resolved", Bool),
    F("http_config", Obj(HTTP)),
    F("api_url", Url),
    F("api_type", Str),
    F("project", Str),
    F("summary", Str),
    F("description", Str),
    F("labels", StrList),
    F("priority", Str),
    F("issue_type", Str),
    F("reopen_transition", Str),
    F("resolve_transition", Str),
    F("wont_fix_resolution", Str),
    F("reopen_duration", Dur),
    F("fields", AnyMap),
];
const RC_FIELD: &[F] = &[F("short", Bool), F("title", Str), F("value", Str)];
const RC_ACTION: &[F] = &[F("type", Str), F("text", Str), F("url", Str), F("msg", Str)];
const ROCKETCHAT: &[F] = &[
    F("send_resolved", Bool),
    F("http_config", Obj(HTTP)),
    F("api_url", Url),
    F("token_id", Secret),
    F("token_id_file", SecretFile),
    F("token", Secret),
    F("token_file", SecretFile),
    F("channel", Str),
    F("color", Str),
    F("title", Str),
    F("title_link", Str),
    F("text", Str),
    F("fields", ObjList(RC_FIELD)),
    F("short_fields", Bool),
    F("emoji", Str),
    F("icon_url", Str),
    F("image_url", Str),
    F("thumb_url", Str),
    F("link_names", Bool),
    F("actions", ObjList(RC_ACTION)),
];
const MM_FIELD: &[F] = &[F("title", Str), F("value", Str), F("short", Bool)];
const MM_ATTACHMENT: &[F] = &[
    F("fallback", Str),
    F("color", Str),
    F("pretext", Str),
    F("text", Str),
    F("author_name", Str),
    F("author_link", Str),
    F("author_icon", Str),
    F("title", Str),
    F("title_link", Str),
    F("fields", ObjList(MM_FIELD)),
    F("thumb_url", Str),
    F("footer", Str),
    F("footer_icon", Str),
    F("image_url", Str),
];
const MM_PROPS: &[F] = &[F("card", Str)];
const MM_PRIORITY: &[F] = &[
    F("priority", Str),
    F("requested_ack", Bool),
    F("persistent_notifications", Bool),
];
const MATTERMOST: &[F] = &[
    F("send_resolved", Bool),
    F("http_config", Obj(HTTP)),
    F("webhook_url", SecretUrl),
    F("webhook_url_file", SecretFile),
    F("channel", Str),
    F("username", Str),
    F("text", Str),
    F("icon_url", Str),
    F("icon_emoji", Str),
    F("attachments", ObjList(MM_ATTACHMENT)),
    F("props", Obj(MM_PROPS)),
    F("priority", Obj(MM_PRIORITY)),
];
const INCIDENTIO: &[F] = &[
    F("send_resolved", Bool),
    F("http_config", Obj(HTTP)),
    F("url", SecretUrl),
    F("url_file", SecretFile),
    F("alert_source_token", Secret),
    F("alert_source_token_file", SecretFile),
    F("max_alerts", Int),
    F("timeout", Dur),
];

/// Every integration: list key, kind, schema.
const INTEGRATIONS: &[(&str, &str, &[F])] = &[
    ("discord_configs", "discord", DISCORD),
    ("email_configs", "email", EMAIL),
    ("incidentio_configs", "incidentio", INCIDENTIO),
    ("jira_configs", "jira", JIRA),
    ("mattermost_configs", "mattermost", MATTERMOST),
    ("msteams_configs", "msteams", MSTEAMS),
    ("msteamsv2_configs", "msteamsv2", MSTEAMSV2),
    ("opsgenie_configs", "opsgenie", OPSGENIE),
    ("pagerduty_configs", "pagerduty", PAGERDUTY),
    ("pushover_configs", "pushover", PUSHOVER),
    ("rocketchat_configs", "rocketchat", ROCKETCHAT),
    ("slack_configs", "slack", SLACK),
    ("sns_configs", "sns", SNS),
    ("telegram_configs", "telegram", TELEGRAM),
    ("victorops_configs", "victorops", VICTOROPS),
    ("webex_configs", "webex", WEBEX),
    ("webhook_configs", "webhook", WEBHOOK),
    ("wechat_configs", "wechat", WECHAT),
];

pub(crate) const TOP_KEYS: &[&str] = &[
    "global",
    "route",
    "inhibit_rules",
    "receivers",
    "templates",
    "time_intervals",
    "mute_time_intervals",
    "tracing",
];
pub(crate) const ROUTE_KEYS: &[&str] = &[
    "receiver",
    "group_by",
    "continue",
    "matchers",
    "match",
    "match_re",
    "group_wait",
    "group_interval",
    "repeat_interval",
    "mute_time_intervals",
    "active_time_intervals",
    "routes",
    "labels",
];
const INHIBIT_KEYS: &[&str] = &[
    "source_matchers",
    "target_matchers",
    "source_match",
    "source_match_re",
    "target_match",
    "target_match_re",
    "equal",
];
const INTERVAL_KEYS: &[&str] = &["name", "time_intervals"];
const TIME_RANGE_KEYS: &[&str] = &[
    "times",
    "weekdays",
    "days_of_month",
    "months",
    "years",
    "location",
];

/// Does this YAML document look like an Alertmanager config?
pub fn detect(doc: &Node) -> bool {
    doc.is_map() && (doc.get("route").is_some() || doc.get("receivers").is_some())
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

struct Cx<'a> {
    r: Reader<'a>,
}

impl<'a> std::ops::Deref for Cx<'a> {
    type Target = Reader<'a>;
    fn deref(&self) -> &Reader<'a> {
        &self.r
    }
}
impl std::ops::DerefMut for Cx<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.r
    }
}

impl Cx<'_> {
    fn e(&mut self, span: Span, msg: impl Into<String>, help: &str) {
        self.r.err(span, msg, Some(help));
    }

    /// An error with a secondary location.
    fn e_rel(&mut self, span: Span, msg: impl Into<String>, help: &str, rel: Span, rel_msg: &str) {
        self.r.err(span, msg, Some(help));
        if let Some(last) = self.r.issues.last_mut() {
            last.related.push((rel, rel_msg.to_string()));
        }
    }

    fn warn(&mut self, span: Span, msg: impl Into<String>, help: &str) {
        self.r.issues.push(Issue {
            check: CHECK,
            message: msg.into(),
            span,
            help: Some(help.to_string()),
            downgrade: true,
            related: Vec::new(),
        });
    }

    fn str_list(&mut self, node: &Node, field: &str) -> Vec<SStr> {
        match &node.value {
            Value::Null => Vec::new(),
            Value::Seq(items) => items.iter().filter_map(|i| self.string(i, field)).collect(),
            _ => {
                self.wrong_type(node, field, "a list of strings");
                Vec::new()
            }
        }
    }

    fn str_pairs(&mut self, node: &Node, field: &str) -> Vec<(SStr, SStr)> {
        match &node.value {
            Value::Null => Vec::new(),
            Value::Map(entries) => entries
                .iter()
                .filter_map(|(k, v)| {
                    let value = self.string(v, &format!("{field}.{}", k.name))?;
                    Some((SStr::from(k), value))
                })
                .collect(),
            _ => {
                self.wrong_type(node, field, "a mapping of label names to values");
                Vec::new()
            }
        }
    }

    fn bool(&mut self, node: &Node, field: &str) -> Option<bool> {
        match &node.value {
            Value::Bool(b) => Some(*b),
            Value::Null => Some(false),
            Value::Str(s) if node.style(self.src) == scalar::ScalarStyle::Plain => {
                // yaml.v2 (Alertmanager) also reads YAML 1.1 booleans
                match s.as_str() {
                    "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
                    "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
                    _ => {
                        self.wrong_type(node, field, "a boolean (`true` or `false`)");
                        None
                    }
                }
            }
            _ => {
                self.wrong_type(node, field, "a boolean (`true` or `false`)");
                None
            }
        }
    }

    /// A matcher list (`matchers:`, `source_matchers:`): each item is a matcher string.
    fn matchers(&mut self, node: &Node, field: &str) -> Vec<SMatcher> {
        let mut out = Vec::new();
        let items: Vec<Node> = match &node.value {
            Value::Null => return out,
            Value::Seq(items) => items.clone(),
            // a single string is accepted too (yaml.v2 into []string would fail; Alertmanager's
            // Matchers type unmarshals a list), so only lists are valid
            _ => {
                self.wrong_type(
                    node,
                    field,
                    "a list of matcher strings like `severity=\"critical\"`",
                );
                return out;
            }
        };
        for item in &items {
            let Some(s) = self.string(item, field) else {
                continue;
            };
            match am_matcher::parse(&s.value) {
                Ok(parsed) => {
                    if let Parsed::ClassicOnly(_, e) = &parsed {
                        let span = s.inner_span(self.src, &e.span);
                        self.warn(
                            span,
                            format!(
                                "matcher {:?} is accepted only by Alertmanager's deprecated classic parser: {}",
                                s.value, e.message
                            ),
                            "Alertmanager logs a warning for it and a future release will reject it; quote the value, e.g. `name=\"value with spaces\"`",
                        );
                    }
                    for m in parsed.matchers() {
                        let span = if m.span.end > m.span.start {
                            s.inner_span(self.src, &m.span)
                        } else {
                            s.span.clone()
                        };
                        out.push(SMatcher {
                            matcher: m.clone(),
                            span,
                        });
                    }
                }
                Err(e) => {
                    let span = s.inner_span(self.src, &e.span);
                    self.e(
                        span,
                        format!("invalid matcher {:?} in `{field}`: {}", s.value, e.message),
                        "matchers are `name=\"value\"`, `name!=\"value\"`, `name=~\"regex\"` or `name!~\"regex\"`; Alertmanager refuses to load the config",
                    );
                }
            }
        }
        out
    }

    fn legacy(&mut self, key: &Key, node: &Node, field: &'static str, regex: bool) -> LegacyMatch {
        if regex {
            for (k, v) in node.entries() {
                if matches!(v.value, Value::Null) {
                    self.e(
                        k.span.clone(),
                        format!(
                            "invalid regexp value for {:?} in `{field}`: the value is empty (null)",
                            k.name
                        ),
                        "give a regex, e.g. `.+` for \"any non-empty value\", or remove the entry",
                    );
                }
            }
        }
        let entries = self.str_pairs(node, field);
        for (k, v) in &entries {
            if !scalar::is_legacy_label_name(&k.value) {
                self.e(
                    k.span.clone(),
                    format!("invalid label name {:?} in `{field}`", k.value),
                    "label names in `match`/`match_re` must match [a-zA-Z_][a-zA-Z0-9_]*; use `matchers:` with a quoted name for other names",
                );
            }
            if regex {
                if let Err(e) = am_matcher::anchored(&v.value) {
                    self.e(
                        v.span.clone(),
                        format!("invalid regular expression for {:?} in `{field}`: {e}", k.value),
                        "Alertmanager refuses to load the config; the regex is RE2 syntax and is anchored at both ends",
                    );
                }
            }
        }
        LegacyMatch {
            field,
            key: key.span.clone(),
            field_span: key.span.start..node.span.end.max(key.span.end),
            regex,
            entries,
        }
    }

    /// Read a block through a schema into flat fields.
    fn block(
        &mut self,
        node: &Node,
        schema: &[F],
        what: &str,
        prefix: &str,
        out: &mut Vec<FieldVal>,
    ) {
        let entries = match &node.value {
            Value::Null => return,
            Value::Map(e) => e,
            _ => {
                let field = if prefix.is_empty() { what } else { prefix };
                self.wrong_type(node, field, "a mapping");
                return;
            }
        };
        for (k, v) in entries {
            let Some(f) = schema.iter().find(|f| f.0 == k.name) else {
                let names: Vec<&str> = schema.iter().map(|f| f.0).collect();
                // a common mistake with its own fix: email subject and body
                if std::ptr::eq(schema, EMAIL) && matches!(k.name.as_str(), "subject" | "body") {
                    let fix = if k.name == "subject" {
                        "set the subject as a header: `headers: {Subject: '...'}`"
                    } else {
                        "the body is `html:` (HTML part) and/or `text:` (plain-text part)"
                    };
                    self.e(
                        k.span.clone(),
                        format!(
                            "unknown field `{}` in {what}: email configs have no `{}` field; valid fields: {}",
                            k.name,
                            k.name,
                            names.join(", ")
                        ),
                        &format!("{fix}; Alertmanager (and `amtool check-config`) refuses to load a config with unknown fields"),
                    );
                    continue;
                }
                self.unknown_key(k, what, &names);
                continue;
            };
            let path = if prefix.is_empty() {
                k.name.clone()
            } else {
                format!("{prefix}.{}", k.name)
            };
            self.field(k, v, f.1, &path, what, out);
        }
    }

    fn field(&mut self, k: &Key, v: &Node, t: T, path: &str, what: &str, out: &mut Vec<FieldVal>) {
        let push = |out: &mut Vec<FieldVal>, value: Option<SStr>, kind: FieldKind| {
            out.push(FieldVal {
                path: path.to_string(),
                key: k.span.clone(),
                value,
                kind,
            })
        };
        match t {
            Str | Secret | SecretFile | File | Url | TmplUrl | SecretUrl | HostPort => {
                let Some(s) = self.string(v, path) else {
                    return;
                };
                let null = matches!(v.value, Value::Null);
                match t {
                    Url | SecretUrl | TmplUrl if !null => self.url(&s, path, t),
                    HostPort if !s.value.is_empty() => self.host_port(&s, path),
                    _ => {}
                }
                let kind = match t {
                    Secret | SecretUrl => FieldKind::Secret,
                    SecretFile => FieldKind::SecretFile,
                    File => FieldKind::File,
                    Url => FieldKind::Url,
                    TmplUrl => FieldKind::Secret,
                    _ => FieldKind::Text,
                };
                push(out, Some(s), kind);
            }
            Bool => {
                if self.bool(v, path).is_some() {
                    push(out, self.scalar_sstr(v), FieldKind::Other);
                }
            }
            Int => match &v.value {
                Value::Int(_) | Value::Null => push(out, self.scalar_sstr(v), FieldKind::Other),
                _ => self.wrong_type(v, path, "an integer"),
            },
            Float => match &v.value {
                Value::Int(_) | Value::Float(_) | Value::Null => {
                    push(out, self.scalar_sstr(v), FieldKind::Other)
                }
                _ => self.wrong_type(v, path, "a number"),
            },
            Dur => {
                if let Some(d) = self.duration(v, path) {
                    push(out, Some(d.text), FieldKind::Other);
                }
            }
            StrMap | SecretMap => match &v.value {
                Value::Null => {}
                Value::Map(entries) => {
                    push(out, None, FieldKind::Other);
                    for (ek, ev) in entries {
                        let p = format!("{path}.{}", ek.name);
                        if let Some(s) = self.string(ev, &p) {
                            out.push(FieldVal {
                                path: p,
                                key: ek.span.clone(),
                                value: Some(s),
                                kind: if matches!(t, SecretMap) {
                                    FieldKind::Secret
                                } else {
                                    FieldKind::Text
                                },
                            });
                        }
                    }
                }
                _ => self.wrong_type(v, path, "a mapping of names to strings"),
            },
            AnyMap => match &v.value {
                Value::Null => {}
                Value::Map(_) => {
                    push(out, None, FieldKind::Other);
                    self.any(v, path, out);
                }
                _ => self.wrong_type(v, path, "a mapping"),
            },
            StrList => {
                push(out, None, FieldKind::Other);
                for s in self.str_list(v, path) {
                    out.push(FieldVal {
                        path: path.to_string(),
                        key: k.span.clone(),
                        value: Some(s),
                        kind: FieldKind::Text,
                    });
                }
            }
            Obj(schema) => {
                push(out, None, FieldKind::Other);
                let sub = format!("`{path}` ({what})");
                self.block(v, schema, &sub, path, out);
            }
            ObjList(schema) => match &v.value {
                Value::Null => {}
                Value::Seq(items) => {
                    push(out, None, FieldKind::Other);
                    let sub = format!("an item of `{path}` ({what})");
                    for item in items {
                        if item.is_map() {
                            self.block(item, schema, &sub, path, out);
                        } else {
                            self.wrong_type(item, path, "a list of mappings");
                        }
                    }
                }
                _ => self.wrong_type(v, path, "a list of mappings"),
            },
            Headers => match &v.value {
                Value::Null => {}
                Value::Map(entries) => {
                    push(out, None, FieldKind::Other);
                    for (hk, hv) in entries {
                        let p = format!("{path}.{}", hk.name);
                        match &hv.value {
                            // proxy_connect_header: name -> [secret, ...]
                            Value::Seq(_) | Value::Null => {
                                for s in self.str_list(hv, &p) {
                                    out.push(FieldVal {
                                        path: p.clone(),
                                        key: hk.span.clone(),
                                        value: Some(s),
                                        kind: FieldKind::Secret,
                                    });
                                }
                            }
                            // http_headers: name -> {values, secrets, files}
                            Value::Map(_) => {
                                const HDR: &[F] = &[
                                    F("values", StrList),
                                    F("secrets", StrList),
                                    F("files", StrList),
                                ];
                                let sub = format!("`{p}`");
                                self.block(hv, HDR, &sub, &p, out);
                                for f in out.iter_mut().filter(|f| f.path == format!("{p}.secrets"))
                                {
                                    f.kind = FieldKind::Secret;
                                }
                            }
                            _ => self.wrong_type(hv, &p, "a list of values or a mapping"),
                        }
                    }
                }
                _ => self.wrong_type(v, path, "a mapping of header names"),
            },
        }
    }

    fn any(&mut self, node: &Node, path: &str, out: &mut Vec<FieldVal>) {
        for (k, v) in node.entries() {
            let p = format!("{path}.{}", k.name);
            match &v.value {
                Value::Map(_) => self.any(v, &p, out),
                Value::Seq(items) => {
                    for i in items {
                        if i.is_scalar() {
                            out.push(FieldVal {
                                path: p.clone(),
                                key: k.span.clone(),
                                value: self.scalar_sstr(i),
                                kind: FieldKind::Text,
                            });
                        }
                    }
                }
                _ => out.push(FieldVal {
                    path: p,
                    key: k.span.clone(),
                    value: self.scalar_sstr(v),
                    kind: FieldKind::Text,
                }),
            }
        }
    }

    fn scalar_sstr(&self, v: &Node) -> Option<SStr> {
        v.go_string(self.src).map(|value| SStr {
            value: value.into(),
            span: v.span.clone(),
        })
    }

    fn url(&mut self, s: &SStr, path: &str, t: T) {
        let v = s.value.as_str();
        if matches!(t, SecretUrl | TmplUrl) && v == "<secret>" {
            return;
        }
        if matches!(t, TmplUrl) && (v.contains("{{") || v.is_empty()) {
            if v.contains("{{") && v.contains("}}") {
                return;
            }
            if v.is_empty() {
                return;
            }
        }
        let problem = match v.split_once("://") {
            None => Some(format!("unsupported scheme \"\" for URL {v:?}")),
            Some((scheme, rest)) => {
                let scheme_l = scheme.to_ascii_lowercase();
                if scheme_l != "http" && scheme_l != "https" {
                    Some(format!("unsupported scheme {scheme:?} for URL"))
                } else if rest.is_empty() || rest.starts_with('/') {
                    Some(format!("no host in URL {v:?}"))
                } else if v.chars().any(|c| c.is_control()) {
                    Some("URL contains a control character".to_string())
                } else {
                    None
                }
            }
        };
        if let Some(p) = problem {
            self.e(
                s.span.clone(),
                format!("invalid URL in `{path}`: {p}"),
                "Alertmanager requires an absolute http:// or https:// URL here",
            );
        }
    }

    fn host_port(&mut self, s: &SStr, path: &str) {
        let v = s.value.as_str();
        let ok = if let Some(rest) = v.strip_prefix('[') {
            rest.split_once("]:").is_some_and(|(_, p)| !p.is_empty())
        } else {
            match v.rsplit_once(':') {
                Some((h, p)) => !p.is_empty() && !h.contains(':'),
                None => false,
            }
        };
        if !ok {
            self.e(
                s.span.clone(),
                format!("`{path}: {v}` must be host:port (missing port in address)"),
                "write the SMTP port explicitly, e.g. `smtp.example.org:587`",
            );
        }
    }
}

/// Parse one Alertmanager config document. `src` is the text the node spans point into.
pub fn parse_doc(doc: &Node, src: &str) -> (AmConfig, Vec<Issue>) {
    let mut cx = Cx {
        r: Reader::new(src, CHECK, UNKNOWN_HELP),
    };
    let mut cfg = AmConfig {
        span: doc.span.clone(),
        ..AmConfig::default()
    };
    if !doc.is_map() {
        cx.wrong_type(doc, "the Alertmanager config", "a mapping");
        return (cfg, cx.r.issues);
    }
    let mut route_node = None;
    for (k, v) in doc.entries() {
        match k.name.as_str() {
            "global" => {
                let mut g = Vec::new();
                cx.block(v, GLOBAL, "`global`", "", &mut g);
                cfg.global = g;
            }
            "route" => route_node = Some((k, v)),
            "inhibit_rules" => match &v.value {
                Value::Null => {}
                Value::Seq(items) => {
                    for it in items {
                        if let Some(r) = inhibit_rule(&mut cx, it) {
                            cfg.inhibit_rules.push(r);
                        }
                    }
                }
                _ => cx.wrong_type(v, "inhibit_rules", "a list of inhibit rules"),
            },
            "receivers" => match &v.value {
                Value::Null => {}
                Value::Seq(items) => {
                    for it in items {
                        if let Some(r) = receiver(&mut cx, it) {
                            cfg.receivers.push(r);
                        }
                    }
                }
                _ => cx.wrong_type(v, "receivers", "a list of receivers"),
            },
            "templates" => cfg.templates = cx.str_list(v, "templates"),
            "time_intervals" | "mute_time_intervals" => {
                let legacy = k.name == "mute_time_intervals";
                match &v.value {
                    Value::Null => {}
                    Value::Seq(items) => {
                        for it in items {
                            if let Some(ti) = time_interval(&mut cx, it, legacy, &k.name) {
                                cfg.time_intervals.push(ti);
                            }
                        }
                    }
                    _ => cx.wrong_type(v, &k.name, "a list of time intervals"),
                }
            }
            "tracing" => {
                let mut t = Vec::new();
                cx.block(v, TRACING, "`tracing`", "", &mut t);
                cfg.tracing = t;
            }
            _ => cx.unknown_key(k, "the Alertmanager config", TOP_KEYS),
        }
    }
    match route_node {
        Some((_, v)) if v.is_map() => cfg.route = Some(route(&mut cx, v)),
        Some((k, v)) if matches!(v.value, Value::Null) => cx.e(
            k.span.clone(),
            "`route:` is empty: Alertmanager needs a root route (\"no routes provided\")",
            "give the root route at least a `receiver:`",
        ),
        Some((_, v)) => cx.wrong_type(v, "route", "a mapping"),
        None => {
            let head = doc.head_span(src);
            cx.e(
                head,
                "no `route:` in the Alertmanager config (\"no routes provided\")",
                "add a root route, e.g. `route: {receiver: default}`",
            )
        }
    }
    validate(&mut cx, &cfg);
    (cfg, cx.r.issues)
}

fn route(cx: &mut Cx, node: &Node) -> Route {
    let mut r = Route {
        span: node.span.clone(),
        head: node.head_span(cx.src),
        receiver: None,
        group_by: None,
        continue_: None,
        matchers: Vec::new(),
        matchers_key: None,
        matchers_field: None,
        legacy: Vec::new(),
        group_wait: None,
        group_interval: None,
        repeat_interval: None,
        mute_time_intervals: Vec::new(),
        active_time_intervals: Vec::new(),
        routes: Vec::new(),
        labels: Vec::new(),
    };
    for (k, v) in node.entries() {
        match k.name.as_str() {
            "receiver" => r.receiver = cx.string(v, "receiver"),
            "group_by" => r.group_by = Some(cx.str_list(v, "group_by")),
            "continue" => {
                r.continue_ = cx
                    .bool(v, "continue")
                    .map(|b| (b, k.span.start..v.span.end))
            }
            "matchers" => {
                r.matchers_key = Some(k.span.clone());
                r.matchers_field = Some(k.span.start..v.span.end.max(k.span.end));
                r.matchers = cx.matchers(v, "matchers");
            }
            "match" => r.legacy.push(cx.legacy(k, v, "match", false)),
            "match_re" => r.legacy.push(cx.legacy(k, v, "match_re", true)),
            "group_wait" => r.group_wait = cx.duration(v, "group_wait"),
            "group_interval" => r.group_interval = cx.duration(v, "group_interval"),
            "repeat_interval" => r.repeat_interval = cx.duration(v, "repeat_interval"),
            "mute_time_intervals" => r.mute_time_intervals = cx.str_list(v, "mute_time_intervals"),
            "active_time_intervals" => {
                r.active_time_intervals = cx.str_list(v, "active_time_intervals")
            }
            "labels" => r.labels = cx.str_pairs(v, "labels"),
            "routes" => match &v.value {
                Value::Null => {}
                Value::Seq(items) => {
                    for it in items {
                        if it.is_map() {
                            r.routes.push(route(cx, it));
                        } else if !matches!(it.value, Value::Null) {
                            cx.wrong_type(it, "a route", "a mapping");
                        }
                    }
                }
                _ => cx.wrong_type(v, "routes", "a list of routes"),
            },
            _ => cx.unknown_key(k, "a route", ROUTE_KEYS),
        }
    }
    // group_by
    if let Some(gb) = &r.group_by {
        for (i, g) in gb.iter().enumerate() {
            if g.value == "..." {
                if gb.len() > 1 {
                    cx.e(
                        g.span.clone(),
                        "`...` in `group_by` cannot be combined with other labels",
                        "`group_by: ['...']` groups by all labels; list either `...` alone or the labels",
                    );
                }
                continue;
            }
            if !scalar::is_legacy_label_name(&g.value) {
                cx.e(
                    g.span.clone(),
                    format!("invalid label name {:?} in `group_by`", g.value),
                    "label names must match [a-zA-Z_][a-zA-Z0-9_]*",
                );
            }
            if gb[..i].iter().any(|o| o.value == g.value) {
                cx.e(
                    g.span.clone(),
                    format!("duplicated label {:?} in `group_by`", g.value),
                    "remove the repeated label",
                );
            }
        }
    }
    for (d, name) in [
        (&r.group_interval, "group_interval"),
        (&r.repeat_interval, "repeat_interval"),
    ] {
        if let Some(Duration {
            text,
            value: Some(PromDuration(0)),
        }) = d
        {
            let span = text.span.clone();
            cx.e(
                span,
                format!("`{name}` cannot be zero"),
                "Alertmanager refuses a zero interval; use e.g. `5m` for group_interval and `4h` for repeat_interval",
            );
        }
    }
    r
}

fn inhibit_rule(cx: &mut Cx, node: &Node) -> Option<InhibitRule> {
    if !node.is_map() {
        cx.wrong_type(node, "an inhibit rule", "a mapping");
        return None;
    }
    let mut r = InhibitRule {
        span: node.span.clone(),
        head: node.head_span(cx.src),
        source_matchers: Vec::new(),
        target_matchers: Vec::new(),
        source_matchers_field: None,
        target_matchers_field: None,
        legacy: Vec::new(),
        equal: Vec::new(),
    };
    for (k, v) in node.entries() {
        match k.name.as_str() {
            "source_matchers" => {
                r.source_matchers_field = Some(k.span.start..v.span.end.max(k.span.end));
                r.source_matchers = cx.matchers(v, "source_matchers")
            }
            "target_matchers" => {
                r.target_matchers_field = Some(k.span.start..v.span.end.max(k.span.end));
                r.target_matchers = cx.matchers(v, "target_matchers")
            }
            "source_match" => r.legacy.push(cx.legacy(k, v, "source_match", false)),
            "source_match_re" => r.legacy.push(cx.legacy(k, v, "source_match_re", true)),
            "target_match" => r.legacy.push(cx.legacy(k, v, "target_match", false)),
            "target_match_re" => r.legacy.push(cx.legacy(k, v, "target_match_re", true)),
            "equal" => {
                r.equal = cx.str_list(v, "equal");
                for e in r.equal.clone() {
                    if !scalar::is_legacy_label_name(&e.value) {
                        cx.e(
                            e.span.clone(),
                            format!("invalid label name {:?} in `equal`", e.value),
                            "label names must match [a-zA-Z_][a-zA-Z0-9_]* (UTF-8 names need Alertmanager's utf8-strict-mode)",
                        );
                    }
                }
            }
            _ => cx.unknown_key(k, "an inhibit rule", INHIBIT_KEYS),
        }
    }
    Some(r)
}

fn receiver(cx: &mut Cx, node: &Node) -> Option<Receiver> {
    if !node.is_map() {
        cx.wrong_type(node, "a receiver", "a mapping");
        return None;
    }
    let mut name = None;
    let mut integrations = Vec::new();
    for (k, v) in node.entries() {
        if k.name == "name" {
            name = cx.string(v, "name");
            continue;
        }
        let Some(&(_, kind, schema)) = INTEGRATIONS.iter().find(|(key, ..)| *key == k.name) else {
            let mut valid: Vec<&str> = vec!["name"];
            valid.extend(INTEGRATIONS.iter().map(|i| i.0));
            cx.unknown_key(k, "a receiver", &valid);
            continue;
        };
        match &v.value {
            Value::Null => {}
            Value::Seq(items) => {
                for it in items {
                    let what = format!("an entry of `{}`", k.name);
                    if matches!(it.value, Value::Null) {
                        cx.e(
                            it.span.start..it.span.start + 1,
                            format!("empty entry in `{}`: missing {kind} config", k.name),
                            "remove the `-` or fill in the integration",
                        );
                        continue;
                    }
                    if !it.is_map() {
                        cx.wrong_type(it, &k.name, "a list of mappings");
                        continue;
                    }
                    let mut fields = Vec::new();
                    cx.block(it, schema, &what, "", &mut fields);
                    integrations.push(Integration {
                        kind,
                        span: it.span.clone(),
                        fields,
                    });
                }
            }
            _ => cx.wrong_type(v, &k.name, "a list of mappings"),
        }
    }
    let name = match name {
        Some(n) if !n.value.is_empty() => n,
        other => {
            let span = other
                .map(|n| n.span)
                .unwrap_or_else(|| node.head_span(cx.src));
            cx.e(
                span.clone(),
                "missing name in receiver",
                "add `name: <receiver name>`; routes refer to receivers by name",
            );
            SStr {
                value: Default::default(),
                span,
            }
        }
    };
    Some(Receiver {
        name,
        span: node.span.clone(),
        integrations,
    })
}

fn time_interval(cx: &mut Cx, node: &Node, legacy: bool, list: &str) -> Option<TimeInterval> {
    if !node.is_map() {
        cx.wrong_type(node, "a time interval", "a mapping");
        return None;
    }
    let mut name = None;
    let mut ranges = Vec::new();
    for (k, v) in node.entries() {
        match k.name.as_str() {
            "name" => name = cx.string(v, "name"),
            "time_intervals" => match &v.value {
                Value::Null => {}
                Value::Seq(items) => {
                    for it in items {
                        time_range(cx, it);
                        if it.is_map() {
                            ranges.push(TimeRange::of(it, cx.src));
                        }
                    }
                }
                _ => cx.wrong_type(v, "time_intervals", "a list"),
            },
            _ => cx.unknown_key(k, &format!("an entry of `{list}`"), INTERVAL_KEYS),
        }
    }
    let name = match name {
        Some(n) if !n.value.is_empty() => n,
        other => {
            let span = other
                .map(|n| n.span)
                .unwrap_or_else(|| node.head_span(cx.src));
            cx.e(
                span.clone(),
                format!("missing name in `{list}` entry"),
                "add `name: <interval name>`; routes refer to intervals by name",
            );
            SStr {
                value: Default::default(),
                span,
            }
        }
    };
    Some(TimeInterval {
        name,
        span: node.span.clone(),
        legacy,
        ranges,
    })
}

/// Weekday names as Alertmanager's time intervals write them (Sunday first).
pub const WEEKDAYS: &[&str] = &[
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];
/// Month names as Alertmanager's time intervals write them.
pub const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Why a time range can never be active, if it cannot: days of the month that none of its months
/// has, or years that are all over.
pub fn never_active(node: &Node, src: &str, current_year: i64) -> Option<String> {
    let list = |field: &str| -> Vec<(i64, i64)> {
        node.get(field)
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .filter_map(|n| n.go_string(src))
            .filter_map(|v| {
                let one = |s: &str| -> Option<i64> {
                    let s = s.trim();
                    MONTHS
                        .iter()
                        .position(|m| m.eq_ignore_ascii_case(s))
                        .map(|i| i as i64 + 1)
                        .or_else(|| s.parse().ok())
                };
                match v.split_once(':') {
                    Some((a, b)) => Some((one(a)?, one(b)?)),
                    None => one(&v).map(|x| (x, x)),
                }
            })
            .collect()
    };
    let years = list("years");
    if let Some(last) = years.iter().map(|(_, b)| *b).max() {
        if last < current_year {
            return Some(format!(
                "its `years` all lie in the past (the last is {last})"
            ));
        }
    }
    let months = list("months");
    let days = list("days_of_month");
    if !months.is_empty() && !days.is_empty() && days.iter().all(|(a, _)| *a > 0) {
        const LEN: [i64; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        let longest = months
            .iter()
            .flat_map(|(a, b)| (*a..=*b).filter(|m| (1..=12).contains(m)))
            .map(|m| LEN[(m - 1) as usize])
            .max()?;
        let first_day = days.iter().map(|(a, _)| *a).min()?;
        if first_day > longest {
            return Some(format!(
                "none of its months has a day {first_day} (the longest has {longest} days)"
            ));
        }
    }
    None
}

fn time_range(cx: &mut Cx, node: &Node) {
    if !node.is_map() {
        cx.wrong_type(node, "a time interval", "a mapping");
        return;
    }
    let year = current_year();
    if let Some(why) = never_active(node, cx.src, year) {
        cx.r.issues.push(Issue {
            check: "alertmanager/timing",
            message: format!("this time interval is never active: {why}; routes that use it never mute (or never deliver)"),
            span: node.head_span(cx.src),
            help: Some("fix the dates, or remove the interval and its uses".into()),
            downgrade: false,
            related: Vec::new(),
        });
    }
    for (k, v) in node.entries() {
        match k.name.as_str() {
            "times" => match &v.value {
                Value::Null => {}
                Value::Seq(items) => {
                    for t in items {
                        let mut start = None;
                        let mut end = None;
                        for (tk, tv) in t.entries() {
                            match tk.name.as_str() {
                                "start_time" => start = cx.string(tv, "start_time"),
                                "end_time" => end = cx.string(tv, "end_time"),
                                _ => {
                                    cx.unknown_key(tk, "a time range", &["start_time", "end_time"])
                                }
                            }
                        }
                        let parse = |cx: &mut Cx, s: &Option<SStr>, f: &str| -> Option<u32> {
                            let s = s.as_ref()?;
                            let m = parse_hhmm(&s.value);
                            if m.is_none() {
                                cx.e(
                                    s.span.clone(),
                                    format!("invalid `{f}` {:?}: expected HH:MM between 00:00 and 24:00", s.value),
                                    "write times as 24-hour `HH:MM`, e.g. `09:00`",
                                );
                            }
                            m
                        };
                        let (s, e) = (parse(cx, &start, "start_time"), parse(cx, &end, "end_time"));
                        if start.is_none() || end.is_none() {
                            cx.e(
                                t.head_span(cx.src),
                                "a time range needs both `start_time` and `end_time`",
                                "e.g. `{start_time: '09:00', end_time: '17:00'}`",
                            );
                        } else if let (Some(s), Some(e), Some(es)) = (s, e, &end) {
                            if s >= e {
                                cx.e(
                                    es.span.clone(),
                                    "`end_time` must be after `start_time`",
                                    "a range crossing midnight is two ranges: `22:00`-`24:00` and `00:00`-`06:00`",
                                );
                            }
                        }
                    }
                }
                _ => cx.wrong_type(v, "times", "a list of time ranges"),
            },
            "weekdays" => ranges(cx, v, "weekdays", |s| {
                WEEKDAYS
                    .iter()
                    .position(|d| d.eq_ignore_ascii_case(s))
                    .map(|i| i as i64)
            }),
            "days_of_month" => ranges(cx, v, "days_of_month", |s| {
                s.parse::<i64>()
                    .ok()
                    .filter(|d| *d != 0 && (-31..=31).contains(d))
            }),
            "months" => ranges(cx, v, "months", |s| {
                MONTHS
                    .iter()
                    .position(|m| m.eq_ignore_ascii_case(s))
                    .map(|i| i as i64 + 1)
                    .or_else(|| s.parse::<i64>().ok().filter(|m| (1..=12).contains(m)))
            }),
            "years" => ranges(cx, v, "years", |s| s.parse::<i64>().ok().filter(|y| *y > 0)),
            "location" => {
                if let Some(s) = cx.string(v, "location") {
                    let ok = s.value == "Local"
                        || s.value == "UTC"
                        || (!s.value.is_empty()
                            && s.value
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || "/_-+".contains(c)));
                    if !ok {
                        cx.e(
                            s.span.clone(),
                            format!(
                                "invalid `location` {:?}: not an IANA time zone name",
                                s.value
                            ),
                            "use a name like `Europe/Berlin`, `America/New_York` or `UTC`",
                        );
                    }
                }
            }
            _ => cx.unknown_key(k, "a time interval", TIME_RANGE_KEYS),
        }
    }
}

/// The current year (UTC), from the system clock.
fn current_year() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    // days since 1970-01-01 -> civil year (Howard Hinnant's algorithm)
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    yoe + era * 400 + i64::from(month <= 2)
}

fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: u32 = h.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 60 + m)
}

fn ranges(cx: &mut Cx, node: &Node, field: &str, one: impl Fn(&str) -> Option<i64>) {
    for s in cx.str_list(node, field) {
        let v = s.value.trim();
        let ok = match v.split_once(':') {
            Some((a, b)) => match (one(a.trim()), one(b.trim())) {
                (Some(a), Some(b)) => a <= b || (field == "days_of_month" && (a < 0) != (b < 0)),
                _ => false,
            },
            None => one(v).is_some(),
        };
        if !ok {
            cx.e(
                s.span.clone(),
                format!("invalid `{field}` entry {:?}", s.value),
                match field {
                    "weekdays" => "use day names or ranges like `monday:friday`",
                    "days_of_month" => {
                        "use days 1..31 (or -31..-1 from the end) or ranges like `1:7`"
                    }
                    "months" => "use month names or numbers 1..12, or ranges like `january:march`",
                    _ => "use years or ranges like `2024:2026`",
                },
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Cross-field validation (config.go Config.UnmarshalYAML and the notifier configs)
// ---------------------------------------------------------------------------------------------

fn validate(cx: &mut Cx, cfg: &AmConfig) {
    // global secret pairs
    for base in [
        "smtp_auth_password",
        "smtp_auth_secret",
        "slack_api_url",
        "slack_app_token",
        "opsgenie_api_key",
        "victorops_api_key",
        "telegram_bot_token",
        "wechat_api_secret",
        "rocketchat_token",
        "rocketchat_token_id",
        "mattermost_webhook_url",
    ] {
        both_set(cx, &cfg.global, base, &format!("{base}_file"), "global");
    }
    let gset = |p: &str| cfg.global(p).is_some_and(FieldVal::is_set);
    // a global `slack_api_url` of chat.postMessage is the old way to use a bot token and
    // may stay next to `slack_app_token`
    let webhook_url = cfg
        .global("slack_api_url")
        .and_then(|f| f.value.as_ref())
        .is_some_and(|v| !v.value.is_empty() && v.value != SLACK_POST_MESSAGE);
    if (webhook_url || gset("slack_api_url_file"))
        && (gset("slack_app_token") || gset("slack_app_token_file"))
    {
        if let Some(f) = cfg
            .global("slack_app_token")
            .or(cfg.global("slack_app_token_file"))
        {
            let span = f.key.clone();
            cx.e(
                span,
                "at most one of slack_app_token/slack_app_token_file & slack_api_url/slack_api_url_file must be configured",
                "a Slack app token posts through the Web API; a webhook URL through an incoming webhook; keep one",
            );
        }
    }
    if let Some(h) = http_prefix(&cfg.global) {
        http_config(cx, &cfg.global, &h);
    }

    // receivers
    for (i, r) in cfg.receivers.iter().enumerate() {
        if r.name.value.is_empty() {
            continue;
        }
        if let Some(first) = cfg.receivers[..i]
            .iter()
            .find(|o| o.name.value == r.name.value)
        {
            cx.e_rel(
                r.name.span.clone(),
                format!("receiver name {:?} is not unique", r.name.value),
                "Alertmanager refuses to load the config; rename or merge the receivers",
                first.name.span.clone(),
                "first defined here",
            );
        }
        for integ in &r.integrations {
            integration(cx, cfg, integ);
        }
    }

    // time intervals
    for (i, t) in cfg.time_intervals.iter().enumerate() {
        if t.name.value.is_empty() {
            continue;
        }
        if let Some(first) = cfg.time_intervals[..i]
            .iter()
            .find(|o| o.name.value == t.name.value)
        {
            cx.e_rel(
                t.name.span.clone(),
                format!("time interval {:?} is not unique", t.name.value),
                "names are shared by `time_intervals` and `mute_time_intervals`; rename one",
                first.name.span.clone(),
                "first defined here",
            );
        }
        if t.legacy {
            // deprecation is noted once, at the first legacy interval
            if !cfg.time_intervals[..i].iter().any(|o| o.legacy) {
                let span = t.name.span.clone();
                cx.warn(
                    span,
                    "top-level `mute_time_intervals` is deprecated",
                    "rename the top-level list to `time_intervals:` (routes keep `mute_time_intervals:`/`active_time_intervals:`)",
                );
            }
        }
    }

    // routes
    if let Some(root) = &cfg.route {
        match &root.receiver {
            Some(r) if !r.value.is_empty() => {}
            _ => cx.e(
                root.head.clone(),
                "root route must specify a default receiver",
                "add `receiver: <name>` to `route:`; alerts that match no child route go there",
            ),
        }
        if !root.matchers.is_empty() || root.legacy.iter().any(|l| !l.entries.is_empty()) {
            let span = root
                .matchers_key
                .clone()
                .or_else(|| root.legacy.first().map(|l| l.key.clone()))
                .unwrap_or_else(|| root.head.clone());
            cx.e(
                span,
                "root route must not have any matchers",
                "the root route receives every alert; move the matchers to a child route under `routes:`",
            );
        }
        if let Some((true, span)) = &root.continue_ {
            cx.e(
                span.clone(),
                "cannot have continue in root route",
                "remove `continue: true` from the root route",
            );
        }
        if let Some(m) = root.mute_time_intervals.first() {
            cx.e(
                m.span.clone(),
                "root route must not have any mute time intervals",
                "mute a child route instead",
            );
        }
        if let Some(m) = root.active_time_intervals.first() {
            cx.e(
                m.span.clone(),
                "root route must not have any active time intervals",
                "restrict a child route instead",
            );
        }
        let receivers: Vec<&str> = cfg
            .receivers
            .iter()
            .map(|r| r.name.value.as_str())
            .collect();
        let intervals: Vec<&str> = cfg
            .time_intervals
            .iter()
            .map(|t| t.name.value.as_str())
            .collect();
        for (r, _) in cfg.routes() {
            if let Some(rc) = &r.receiver {
                if !rc.value.is_empty() && !receivers.contains(&rc.value.as_str()) {
                    let hint = crate::parse::closest(&rc.value, &receivers)
                        .map(|s| format!(" (did you mean {s:?}?)"))
                        .unwrap_or_default();
                    cx.e(
                        rc.span.clone(),
                        format!("undefined receiver {:?} used in route{hint}", rc.value),
                        "define it under `receivers:` or fix the name; Alertmanager refuses to load the config",
                    );
                }
            }
            for t in r.mute_time_intervals.iter().chain(&r.active_time_intervals) {
                if !intervals.contains(&t.value.as_str()) {
                    cx.e(
                        t.span.clone(),
                        format!("undefined time interval {:?} used in route", t.value),
                        "define it under `time_intervals:` or fix the name; Alertmanager refuses to load the config",
                    );
                }
            }
        }
    }
}

fn both_set(cx: &mut Cx, fields: &[FieldVal], a: &str, b: &str, _what: &str) {
    let fa = fields.iter().find(|f| f.path == a && f.is_set());
    let fb = fields.iter().find(|f| f.path == b && f.is_set());
    if let (Some(_), Some(fb)) = (fa, fb) {
        let short_a = a.rsplit('.').next().unwrap_or(a);
        let short_b = b.rsplit('.').next().unwrap_or(b);
        cx.e(
            fb.key.clone(),
            format!("at most one of {short_a} & {short_b} must be configured"),
            &format!(
                "keep `{short_b}` (the secret stays out of the config) and remove `{short_a}`"
            ),
        );
    }
}

fn http_prefix(fields: &[FieldVal]) -> Option<String> {
    fields
        .iter()
        .any(|f| f.path == "http_config")
        .then(|| "http_config".to_string())
}

/// prometheus/common `HTTPClientConfig.Validate`.
fn http_config(cx: &mut Cx, fields: &[FieldVal], p: &str) {
    let get = |s: &str| fields.iter().find(|f| f.path == format!("{p}.{s}"));
    let set = |s: &str| get(s).is_some_and(FieldVal::is_set);
    let present = |s: &str| get(s).is_some();
    both_set(
        cx,
        fields,
        &format!("{p}.bearer_token"),
        &format!("{p}.bearer_token_file"),
        "",
    );
    for (sub, a, b) in [
        ("basic_auth", "password", "password_file"),
        ("basic_auth", "username", "username_file"),
        ("authorization", "credentials", "credentials_file"),
        ("oauth2", "client_secret", "client_secret_file"),
        ("tls_config", "key", "key_file"),
        ("tls_config", "cert", "cert_file"),
        ("tls_config", "ca", "ca_file"),
    ] {
        both_set(
            cx,
            fields,
            &format!("{p}.{sub}.{a}"),
            &format!("{p}.{sub}.{b}"),
            "",
        );
    }
    let bearer = set("bearer_token") || set("bearer_token_file");
    let methods: Vec<&str> = [
        ("basic_auth", present("basic_auth")),
        ("authorization", present("authorization")),
        ("oauth2", present("oauth2")),
        ("bearer_token", bearer),
    ]
    .iter()
    .filter(|(_, on)| *on)
    .map(|(n, _)| *n)
    .collect();
    if methods.len() > 1 {
        let last = methods[methods.len() - 1];
        let span = get(last)
            .or_else(|| get("bearer_token_file"))
            .map(|f| f.key.clone())
            .unwrap_or(0..0);
        cx.e(
            span,
            format!(
                "at most one of {} must be configured in `{p}`",
                methods.join(", ")
            ),
            "an HTTP client authenticates one way; keep one of them",
        );
    }
    if let Some(t) = get("authorization.type").and_then(|f| f.value.as_ref()) {
        if t.value.eq_ignore_ascii_case("basic") {
            cx.e(
                t.span.clone(),
                "authorization type cannot be set to \"basic\", use \"basic_auth\" instead",
                "write `basic_auth: {username: ..., password_file: ...}`",
            );
        }
    }
    if present("oauth2") {
        for req in ["client_id", "token_url"] {
            if !set(&format!("oauth2.{req}")) {
                let span = get("oauth2").map(|f| f.key.clone()).unwrap_or(0..0);
                cx.e(
                    span,
                    format!("oauth2 `{req}` must be configured"),
                    "OAuth2 client credentials need a client_id and a token_url",
                );
            }
        }
    }
}

/// The per-integration rules of notifiers.go and config.go.
fn integration(cx: &mut Cx, cfg: &AmConfig, i: &Integration) {
    let f = |p: &str| i.field(p);
    let set = |p: &str| i.field(p).is_some_and(FieldVal::is_set);
    let g = |p: &str| cfg.global(p).is_some_and(FieldVal::is_set);
    let head = cx_head(cx, i);
    let kind = i.kind;
    let missing = |cx: &mut Cx, msg: String, help: &str| cx.e(head.clone(), msg, help);

    if let Some(h) = http_prefix(&i.fields) {
        http_config(cx, &i.fields, &h);
    }
    // inline secret and its file twin
    for (a, b) in [
        ("auth_password", "auth_password_file"),
        ("auth_secret", "auth_secret_file"),
        ("api_url", "api_url_file"),
        ("app_token", "app_token_file"),
        ("routing_key", "routing_key_file"),
        ("service_key", "service_key_file"),
        ("api_key", "api_key_file"),
        ("api_secret", "api_secret_file"),
        ("user_key", "user_key_file"),
        ("token", "token_file"),
        ("token_id", "token_id_file"),
        ("bot_token", "bot_token_file"),
        ("chat_id", "chat_id_file"),
        ("webhook_url", "webhook_url_file"),
        ("url", "url_file"),
        ("alert_source_token", "alert_source_token_file"),
    ] {
        both_set(cx, &i.fields, a, b, kind);
    }
    if let Some(m) = f("max_alerts").and_then(|x| x.value.as_ref()) {
        if m.value.starts_with('-') {
            cx.e(
                m.span.clone(),
                format!("`max_alerts: {}` must not be negative", m.value),
                "0 sends all alerts of the group; a positive number caps them",
            );
        }
    }
    match kind {
        "email" => {
            if !set("to") {
                missing(
                    cx,
                    "missing `to` address in email config".into(),
                    "add `to: team@example.org`",
                );
            }
            if !set("smarthost") && !g("smtp_smarthost") {
                missing(
                    cx,
                    "no SMTP smarthost: set `smarthost` here or `smtp_smarthost` in `global`"
                        .into(),
                    "e.g. `smtp_smarthost: smtp.example.org:587` under `global:`",
                );
            }
            if !set("from") && !g("smtp_from") {
                missing(
                    cx,
                    "no SMTP sender: set `from` here or `smtp_from` in `global`".into(),
                    "e.g. `smtp_from: alertmanager@example.org` under `global:`",
                );
            }
            // headers are case-insensitive
            let headers: Vec<&FieldVal> = i
                .fields
                .iter()
                .filter(|x| x.path.starts_with("headers."))
                .collect();
            for (n, h) in headers.iter().enumerate() {
                let name = canonical_header(&h.path["headers.".len()..]);
                if headers[..n]
                    .iter()
                    .any(|o| canonical_header(&o.path["headers.".len()..]) == name)
                {
                    cx.e(
                        h.key.clone(),
                        format!("duplicate header {name:?} in email config"),
                        "header names are case-insensitive; keep one",
                    );
                }
            }
        }
        "pagerduty"
            if !set("routing_key")
                && !set("service_key")
                && !set("routing_key_file")
                && !set("service_key_file") =>
        {
            missing(cx, "missing service or routing key in PagerDuty config".into(), "add `routing_key_file: /etc/alertmanager/secrets/pagerduty` (Events API v2) or `service_key_file:`");
        }
        "slack" => {
            let url = set("api_url") || set("api_url_file");
            let tok = set("app_token") || set("app_token_file");
            if url && tok {
                let span = f("app_token")
                    .or(f("app_token_file"))
                    .map(|x| x.key.clone())
                    .unwrap_or(head.clone());
                cx.e(span, "at most one of api_url/api_url_file & app_token/app_token_file must be configured", "use either an incoming webhook URL or an app token");
            }
            if !url
                && !tok
                && !g("slack_api_url")
                && !g("slack_api_url_file")
                && !g("slack_app_token")
                && !g("slack_app_token_file")
            {
                missing(cx, "no Slack API URL nor app token: set `api_url`/`api_url_file` here or `slack_api_url` in `global`".into(), "e.g. `api_url_file: /etc/alertmanager/secrets/slack-webhook`");
            }
            let strategy = f("message_strategy").and_then(|x| x.value.clone());
            let update = f("update_message")
                .and_then(|x| x.value.clone())
                .is_some_and(|v| is_true(&v.value));
            if let Some(s) = &strategy {
                if !["", "new", "update", "thread"].contains(&s.value.as_str()) {
                    cx.e(s.span.clone(), format!("unknown message_strategy {:?}; must be \"new\", \"update\", or \"thread\"", s.value), "pick one of new, update, thread");
                }
                if update && !["", "update"].contains(&s.value.as_str()) {
                    cx.e(
                        s.span.clone(),
                        format!(
                            "update_message: true is incompatible with message_strategy {:?}",
                            s.value
                        ),
                        "omit message_strategy or set it to \"update\"",
                    );
                }
            }
            let eff = if update {
                "update".to_string()
            } else {
                strategy
                    .as_ref()
                    .map(|s| s.value.to_string())
                    .unwrap_or_default()
            };
            if present_path(i, "threaded_options") && eff != "thread" {
                {
                    let span = i
                        .fields
                        .iter()
                        .find(|x| x.path == "threaded_options")
                        .map(|x| x.key.clone())
                        .unwrap_or(head.clone());
                    cx.e(
                        span,
                        "threaded_options requires message_strategy to be \"thread\"",
                        "set `message_strategy: thread` or remove threaded_options",
                    );
                }
            }
            if eff == "update" || eff == "thread" {
                let api = f("api_url")
                    .and_then(|x| x.value.clone())
                    .filter(|v| !v.value.is_empty());
                let bad = match &api {
                    Some(v) => v.value != SLACK_POST_MESSAGE && v.value != "<secret>",
                    None => {
                        !set("api_url_file")
                            && !tok
                            && !g("slack_app_token")
                            && !g("slack_app_token_file")
                            && g("slack_api_url")
                    }
                };
                if bad {
                    let span = api.map(|v| v.span).unwrap_or(head.clone());
                    cx.e(span, format!("message_strategy {eff:?} (update_message) can only be used with bot tokens: api_url must be https://slack.com/api/chat.postMessage"), "incoming webhooks cannot edit or thread messages; use an app token (`app_token_file`)");
                }
            }
        }
        "opsgenie" => {
            if !set("api_key")
                && !set("api_key_file")
                && !g("opsgenie_api_key")
                && !g("opsgenie_api_key_file")
            {
                missing(cx, "no OpsGenie API key: set `api_key_file` here or `opsgenie_api_key_file` in `global`".into(), "e.g. `api_key_file: /etc/alertmanager/secrets/opsgenie`");
            }
            responders(cx, i);
        }
        "victorops" => {
            if !set("api_key")
                && !set("api_key_file")
                && !g("victorops_api_key")
                && !g("victorops_api_key_file")
            {
                missing(cx, "no VictorOps API key: set `api_key_file` here or `victorops_api_key_file` in `global`".into(), "add the key from VictorOps' REST integration");
            }
            if !set("routing_key") {
                missing(
                    cx,
                    "missing `routing_key` in VictorOps config".into(),
                    "add `routing_key:` (the VictorOps routing key of the team)",
                );
            }
            for x in i
                .fields
                .iter()
                .filter(|x| x.path.starts_with("custom_fields."))
            {
                let k = &x.path["custom_fields.".len()..];
                if [
                    "routing_key",
                    "message_type",
                    "state_message",
                    "entity_display_name",
                    "monitoring_tool",
                    "entity_id",
                    "entity_state",
                ]
                .contains(&k)
                {
                    cx.e(
                        x.key.clone(),
                        format!("victorops custom field {k:?} conflicts with a fixed field"),
                        "rename it; Alertmanager refuses to load the config",
                    );
                }
            }
        }
        "webhook" | "incidentio" if !set("url") && !set("url_file") => {
            missing(
                cx,
                format!("one of `url` or `url_file` must be configured in a {kind} config"),
                "e.g. `url: http://receiver:8080/alerts`",
            );
        }
        "wechat" => {
            if !set("api_secret")
                && !set("api_secret_file")
                && !g("wechat_api_secret")
                && !g("wechat_api_secret_file")
            {
                missing(cx, "no WeChat API secret: set `api_secret_file` here or `wechat_api_secret` in `global`".into(), "add the application secret");
            }
            if !set("corp_id") && !g("wechat_api_corp_id") {
                missing(
                    cx,
                    "no WeChat corp id: set `corp_id` here or `wechat_api_corp_id` in `global`"
                        .into(),
                    "add the corporation id",
                );
            }
            if let Some(t) = f("message_type").and_then(|x| x.value.as_ref()) {
                if !["", "text", "markdown"].contains(&t.value.as_str()) {
                    cx.e(
                        t.span.clone(),
                        format!("weChat message type {:?} does not exist", t.value),
                        "use `text` or `markdown`",
                    );
                }
            }
        }
        "pushover" => {
            if !set("user_key") && !set("user_key_file") {
                missing(
                    cx,
                    "one of `user_key` or `user_key_file` must be configured in a pushover config"
                        .into(),
                    "add the Pushover user key",
                );
            }
            if !set("token") && !set("token_file") {
                missing(
                    cx,
                    "one of `token` or `token_file` must be configured in a pushover config".into(),
                    "add the Pushover application token",
                );
            }
        }
        "sns" => {
            let n = ["target_arn", "topic_arn", "phone_number"]
                .iter()
                .filter(|p| set(p))
                .count();
            if n == 0 || n == 2 {
                missing(
                    cx,
                    "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config"
                        .into(),
                    "set exactly one of `topic_arn`, `target_arn`, `phone_number`",
                );
            }
        }
        "telegram" => {
            if !set("bot_token")
                && !set("bot_token_file")
                && !g("telegram_bot_token")
                && !g("telegram_bot_token_file")
            {
                missing(
                    cx,
                    "missing bot_token or bot_token_file on telegram_config (and none in `global`)"
                        .into(),
                    "add `bot_token_file:` or `telegram_bot_token_file` under `global:`",
                );
            }
            let chat = f("chat_id")
                .and_then(|x| x.value.as_ref())
                .is_some_and(|v| !v.value.is_empty() && v.value != "0");
            if !chat && !set("chat_id_file") {
                missing(
                    cx,
                    "missing chat_id on telegram_config".into(),
                    "add `chat_id:` (the numeric id of the chat)",
                );
            }
            if let Some(m) = f("parse_mode").and_then(|x| x.value.as_ref()) {
                if !["", "Markdown", "MarkdownV2", "HTML"].contains(&m.value.as_str()) {
                    cx.e(m.span.clone(), format!("unknown parse_mode {:?} on telegram_config, must be Markdown, MarkdownV2, HTML or empty string", m.value), "parse_mode is case-sensitive");
                }
            }
        }
        "webex" => {
            if !set("room_id") {
                missing(
                    cx,
                    "missing room_id on webex_config".into(),
                    "add `room_id:`",
                );
            }
            if !present_path(i, "http_config.authorization") {
                missing(cx, "missing webex_configs.http_config.authorization".into(), "add `http_config: {authorization: {credentials_file: /etc/alertmanager/secrets/webex}}`");
            }
        }
        "discord" | "msteams" | "msteamsv2" | "mattermost" => {
            let global_mm = kind == "mattermost"
                && (g("mattermost_webhook_url") || g("mattermost_webhook_url_file"));
            if !set("webhook_url") && !set("webhook_url_file") && !global_mm {
                let extra = if kind == "mattermost" {
                    " (or `mattermost_webhook_url` in `global`)"
                } else {
                    ""
                };
                missing(cx, format!("one of `webhook_url` or `webhook_url_file` must be configured in a {kind} config{extra}"), "add `webhook_url_file:` pointing at a file with the webhook URL");
            }
        }
        "jira" => {
            if !set("project") {
                missing(
                    cx,
                    "missing project in jira_config".into(),
                    "add `project: <key>`",
                );
            }
            if !set("issue_type") {
                missing(
                    cx,
                    "missing issue_type in jira_config".into(),
                    "add `issue_type: Bug` (or another issue type of the project)",
                );
            }
            if !set("api_url") && !g("jira_api_url") {
                missing(
                    cx,
                    "no Jira API URL: set `api_url` here or `jira_api_url` in `global`".into(),
                    "e.g. `api_url: https://example.atlassian.net/rest/api/2`",
                );
            }
        }
        "rocketchat" => {
            if !set("token")
                && !set("token_file")
                && !g("rocketchat_token")
                && !g("rocketchat_token_file")
            {
                missing(
                    cx,
                    "no Rocket.Chat token: set `token_file` here or `rocketchat_token` in `global`"
                        .into(),
                    "add the personal access token",
                );
            }
            if !set("token_id")
                && !set("token_id_file")
                && !g("rocketchat_token_id")
                && !g("rocketchat_token_id_file")
            {
                missing(cx, "no Rocket.Chat token id: set `token_id_file` here or `rocketchat_token_id` in `global`".into(), "add the user id of the token");
            }
        }
        _ => {}
    }
}

fn present_path(i: &Integration, p: &str) -> bool {
    i.fields.iter().any(|f| f.path == p)
}

fn is_true(v: &str) -> bool {
    matches!(
        v,
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "y" | "Y" | "on" | "On" | "ON"
    )
}

fn cx_head(cx: &Cx, i: &Integration) -> Span {
    let src = cx.src;
    let end = src[i.span.start.min(src.len())..]
        .find('\n')
        .map(|n| i.span.start + n)
        .unwrap_or(src.len())
        .min(i.span.end.max(i.span.start));
    i.span.start..end
}

fn canonical_header(h: &str) -> String {
    let mut out = String::with_capacity(h.len());
    let mut upper = true;
    for c in h.chars() {
        if upper {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        upper = c == '-';
    }
    out
}

/// OpsGenie responders: each needs a type and one of id/name/username. The flat field list
/// holds the responders in order; a new responder starts when a key repeats.
fn responders(cx: &mut Cx, i: &Integration) {
    let mut groups: Vec<Vec<&FieldVal>> = Vec::new();
    for x in i
        .fields
        .iter()
        .filter(|x| x.path.starts_with("responders."))
    {
        let starts_new = groups
            .last()
            .is_none_or(|g| g.iter().any(|o| o.path == x.path) || x.key.start < g[0].key.start);
        if starts_new {
            groups.push(vec![x]);
        } else if let Some(g) = groups.last_mut() {
            g.push(x);
        }
    }
    for g in groups {
        let get = |n: &str| {
            g.iter()
                .find(|x| x.path == format!("responders.{n}"))
                .and_then(|x| x.value.as_ref())
        };
        let has = |n: &str| get(n).is_some_and(|v| !v.value.is_empty());
        let span = g[0].key.clone();
        if !has("id") && !has("name") && !has("username") {
            cx.e(
                span.clone(),
                "an OpsGenie responder must have at least one of id, username or name",
                "add `name: <team>` (or id/username)",
            );
        }
        match get("type") {
            Some(t) if !t.value.is_empty() => {
                let ok = t.value.contains("{{")
                    || ["team", "teams", "user", "escalation", "schedule"]
                        .contains(&t.value.to_ascii_lowercase().as_str());
                if !ok {
                    cx.e(
                        t.span.clone(),
                        format!("OpsGenie responder type {:?} is not valid", t.value),
                        "use team, teams, user, escalation or schedule",
                    );
                }
            }
            _ => cx.e(
                span,
                "missing type of an OpsGenie responder",
                "add `type: team` (or user, escalation, schedule)",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::yaml::parse_documents;
    use crate::source::LineIndex;

    #[test]
    fn time_intervals_keep_their_ranges_as_written() {
        let src = "route: {receiver: r}\nreceivers: [{name: r}]\ntime_intervals:\n  - name: nights\n    time_intervals:\n      - times: [{start_time: '00:00', end_time: '06:00'}]\n        weekdays: ['monday:friday']\n        years: [2026, '2027:2028']\n        location: UTC\nmute_time_intervals:\n  - name: old\n    time_intervals: [{months: [december]}]\n";
        let docs = parse_documents(src, &LineIndex::new(src)).unwrap();
        let (cfg, issues) = parse_doc(&docs[0], src);
        let names: Vec<&str> = cfg.time_intervals.iter().map(|t| &*t.name.value).collect();
        assert_eq!(names, ["nights", "old"], "{issues:?}");
        assert_eq!(
            cfg.time_intervals[0].ranges,
            [TimeRange {
                times: vec![TimeOfDay {
                    start_time: "00:00".into(),
                    end_time: "06:00".into()
                }],
                weekdays: vec!["monday:friday".into()],
                years: vec!["2026".into(), "2027:2028".into()],
                location: Some("UTC".into()),
                ..Default::default()
            }]
        );
        assert_eq!(cfg.time_intervals[1].ranges[0].months, ["december"]);
    }

    fn issues(src: &str) -> Vec<String> {
        let docs = parse_documents(src, &LineIndex::new(src)).unwrap();
        let (_, issues) = parse_doc(&docs[0], src);
        issues
            .iter()
            .map(|i| format!("{}: {}", &src[i.span.clone()], i.message))
            .collect()
    }

    #[test]
    fn minimal_config_is_clean() {
        let src = "route:\n  receiver: a\nreceivers:\n  - name: a\n";
        assert_eq!(issues(src), Vec::<String>::new());
    }

    #[test]
    fn unknown_fields_at_the_key() {
        let src = "route:\n  receiver: a\nreceivers:\n  - name: a\n    email_configs:\n      - to: x@example.org\n        smarthost: 'h:25'\n        from: a@example.org\n        subject: hi\n";
        let got = issues(src);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].starts_with("subject: unknown field `subject` in an entry of `email_configs`"),
            "{got:?}"
        );
    }

    #[test]
    fn route_problems_all_at_once() {
        let src = "route:\n  continue: true\n  match: {a: b}\n  group_interval: 0s\n  routes:\n    - receiver: nope\n      mute_time_intervals: [never]\n      group_by: ['...', a]\nreceivers:\n  - name: r\n  - name: r\n";
        let got = issues(src).join("\n");
        for want in [
            "root route must specify a default receiver",
            "root route must not have any matchers",
            "cannot have continue in root route",
            "`group_interval` cannot be zero",
            "undefined receiver \"nope\"",
            "undefined time interval \"never\"",
            "`...` in `group_by`",
            "is not unique",
        ] {
            assert!(got.contains(want), "missing {want}:\n{got}");
        }
    }

    #[test]
    fn required_integration_settings() {
        let src = "route: {receiver: a}\nreceivers:\n  - name: a\n    slack_configs: [{channel: '#x'}]\n    pagerduty_configs: [{client: x}]\n    webhook_configs: [{url: 'http://x', url_file: /f}]\n";
        let got = issues(src).join("\n");
        assert!(got.contains("no Slack API URL"), "{got}");
        assert!(got.contains("missing service or routing key"), "{got}");
        assert!(got.contains("at most one of url & url_file"), "{got}");
        // global settings satisfy them
        let src = "global: {slack_api_url: 'https://hooks.slack.com/x'}\nroute: {receiver: a}\nreceivers:\n  - name: a\n    slack_configs: [{channel: '#x'}]\n";
        assert_eq!(issues(src), Vec::<String>::new());
    }

    #[test]
    fn urls_host_ports_and_numbers() {
        let src = "global:\n  smtp_smarthost: localhost\n  slack_api_url: ftp://x\nroute: {receiver: a}\nreceivers:\n  - name: a\n    webhook_configs:\n      - url: 'http://x/{{ .GroupLabels.a }}'\n        max_alerts: -1\n      - url: '<secret>'\n";
        let got = issues(src).join("\n");
        assert!(got.contains("must be host:port"), "{got}");
        assert!(got.contains("unsupported scheme \"ftp\""), "{got}");
        assert!(got.contains("must not be negative"), "{got}");
        assert!(
            !got.contains("http://x/"),
            "templated webhook URLs are not validated: {got}"
        );
    }

    #[test]
    fn embedded_duplicates_point_at_the_first_definition() {
        let src = "route: {receiver: a}\nreceivers:\n  - name: a\n  - name: a\ntime_intervals:\n  - name: t\n  - name: t\n";
        let docs = parse_documents(src, &LineIndex::new(src)).unwrap();
        let (_, issues) = parse_doc(&docs[0], src);
        assert_eq!(issues.len(), 2, "{issues:?}");
        for i in &issues {
            assert_eq!(i.related.len(), 1);
            assert!(i.related[0].0.start < i.span.start);
        }
    }

    #[test]
    fn matchers_and_regexes() {
        let src = "route:\n  receiver: a\n  routes:\n    - matchers: ['severity=~\"crit(\"', 'team=\"a b\"', 'x = y z']\n      match_re: {b: '(', 'bad-name': x}\nreceivers: [{name: a}]\n";
        let got = issues(src).join("\n");
        assert!(got.contains("invalid matcher"), "{got}");
        assert!(
            got.contains("invalid regular expression for \"b\""),
            "{got}"
        );
        assert!(got.contains("invalid label name \"bad-name\""), "{got}");
        assert!(got.contains("deprecated classic parser"), "{got}");
    }
}

#[cfg(test)]
mod never_active_tests {
    use super::*;
    use crate::source::LineIndex;

    fn node(src: &str) -> Node {
        crate::parse::yaml::parse_documents(src, &LineIndex::new(src))
            .unwrap()
            .remove(0)
    }

    #[test]
    fn impossible_dates() {
        let src = "months: [february]\ndays_of_month: ['30:31']\n";
        assert!(never_active(&node(src), src, 2026)
            .unwrap()
            .contains("day 30"));
        let src = "months: ['january:february']\ndays_of_month: ['30:31']\n";
        assert_eq!(never_active(&node(src), src, 2026), None);
        let src = "days_of_month: ['-1']\nmonths: [february]\n";
        assert_eq!(never_active(&node(src), src, 2026), None);
        let src = "years: ['2019:2020']\n";
        assert!(never_active(&node(src), src, 2026)
            .unwrap()
            .contains("2020"));
        assert_eq!(never_active(&node(src), src, 2020), None);
        assert!(current_year() >= 2025);
    }
}
