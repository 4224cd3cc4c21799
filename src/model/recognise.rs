//! Recognising what a file is, in one place: a kind is claimed only when its shape is there.
//!
//! Two stages. On the text, before YAML is parsed: is this a template that a tool renders into
//! the file Prometheus or Alertmanager loads (Helm, Jinja/Ansible, a `.tmpl` file)? Such a file
//! is not what gets loaded, so it is not audited (one info finding says so, never a syntax
//! error). On each parsed YAML document: which kind, judged by the keys each tool really
//! accepts. Look-alikes are recognised as what they are: Grafana provisioning (`apiVersion: 1`
//! with `groups:` of `orgId`/`folder`/`uid`/`condition`/`data` rules), Helm values with a
//! Gateway API `route:`, an OpenTelemetry Collector's `receivers:` map, a list of user groups.
//! (An Alertmanager config *nested* in Helm values, `alertmanager.config` and the like, is found
//! by [`crate::parse::helm`] and audited as an embedded file.)

use crate::parse::alertmanager;
use crate::parse::ci::CiKind;
use crate::parse::prom_rules::{self, Flavor};
use crate::parse::yaml::{Node, Value};
use crate::source::Span;

/// What one YAML document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    /// A Prometheus (or Thanos, Loki, Mimir, vmalert) rule file, or a `PrometheusRule` object.
    Rules(Flavor),
    Alertmanager,
    /// A Kubernetes `Secret` or `ConfigMap` (files embedded in it are audited by their kind).
    KubernetesObject,
    PrometheusConfig,
    Analysis,
    Ci(CiKind),
    /// Grafana provisioning (alert rules, contact points, notification policies, data sources,
    /// dashboards): Grafana's own formats, not audited.
    Grafana,
    Other,
}

/// The kind of one parsed document of the file at `path`. `after_spec_header`: the document
/// follows a GitLab `spec:` header (it is then a GitLab CI file whatever its keys).
pub fn document(doc: &Node, path: &str, after_spec_header: bool) -> DocKind {
    if grafana_provisioning(doc) {
        return DocKind::Grafana;
    }
    if let Some(flavor) = prom_rules::detect(doc) {
        return DocKind::Rules(flavor);
    }
    if alertmanager_shape(doc) {
        return DocKind::Alertmanager;
    }
    if matches!(
        doc.get("kind").and_then(Node::as_str),
        Some("Secret") | Some("ConfigMap")
    ) {
        return DocKind::KubernetesObject;
    }
    if doc.get("scrape_configs").is_some() || doc.get("rule_files").is_some() {
        return DocKind::PrometheusConfig;
    }
    if crate::parse::analysis::detect(doc, path) {
        return DocKind::Analysis;
    }
    if let Some(kind) = crate::parse::ci::detect(doc, path) {
        return DocKind::Ci(kind);
    }
    if after_spec_header && doc.is_map() {
        return DocKind::Ci(CiKind::GitlabCi);
    }
    DocKind::Other
}

/// Grafana's provisioning files: `apiVersion: 1` with one of Grafana's top-level lists, or
/// rule groups in Grafana's shape (`orgId`/`folder` groups, rules with `uid`, `condition`,
/// `data`), with or without `apiVersion`.
pub fn grafana_provisioning(doc: &Node) -> bool {
    if !doc.is_map() {
        return false;
    }
    const GRAFANA_LISTS: &[&str] = &[
        "groups",
        "deleteRules",
        "contactPoints",
        "deleteContactPoints",
        "policies",
        "resetPolicies",
        "templates",
        "deleteTemplates",
        "muteTimes",
        "deleteMuteTimes",
        "datasources",
        "deleteDatasources",
        "providers",
        "apps",
        "notifiers",
        "delete_notifiers",
    ];
    let version_one = doc
        .get("apiVersion")
        .is_some_and(|v| matches!(&v.value, Value::Int(1)) || v.as_str() == Some("1"));
    if version_one
        && doc
            .entries()
            .iter()
            .any(|(k, _)| GRAFANA_LISTS.contains(&k.name.as_str()))
    {
        return true;
    }
    // Grafana-managed rule groups: Prometheus refuses `orgId`/`folder` in a group and
    // `uid`/`condition`/`data` in a rule, so no Prometheus rule file has them all
    doc.get("groups").is_some_and(|g| {
        g.items().iter().any(|group| {
            let grafana_group = group.get("orgId").is_some() || group.get("folder").is_some();
            let grafana_rules = group.get("rules").is_some_and(|rs| {
                rs.items().iter().any(|r| {
                    r.get("uid").is_some()
                        && (r.get("condition").is_some() || r.get("data").is_some())
                })
            });
            grafana_group || grafana_rules
        })
    })
}

/// An Alertmanager config: a `route:` mapping with route keys, or a `receivers:` list of named
/// mappings, and at least as many of Alertmanager's top-level keys as others (Alertmanager
/// refuses unknown keys, so a file with mostly other keys is not one: Helm values with a
/// Gateway API `route:`, an OpenTelemetry Collector with a `receivers:` map).
pub fn alertmanager_shape(doc: &Node) -> bool {
    if !alertmanager::detect(doc) {
        return false;
    }
    let route = doc.get("route").is_some_and(|r| {
        // `labels` is not a sign: Helm values' routes (Gateway API) have labels too
        r.entries()
            .iter()
            .any(|(k, _)| k.name != "labels" && alertmanager::ROUTE_KEYS.contains(&k.name.as_str()))
    });
    let receivers = doc.get("receivers").is_some_and(|r| {
        matches!(&r.value, Value::Seq(items)
            if !items.is_empty() && items.iter().all(Node::is_map) && items.iter().any(|i| i.get("name").is_some()))
    });
    if !route && !receivers {
        return false;
    }
    let known = doc
        .entries()
        .iter()
        .filter(|(k, _)| alertmanager::TOP_KEYS.contains(&k.name.as_str()))
        .count();
    known * 2 >= doc.entries().len()
}

/// A template marker found in a file's text: what renders the file, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateMarker {
    /// `Helm`, `Jinja`, or the file's template extension.
    pub engine: &'static str,
    pub span: Span,
}

/// File extensions of templates that a tool renders before anything loads the result.
const TEMPLATE_EXTENSIONS: &[(&str, &str)] = &[
    ("j2", "Jinja"),
    ("jinja", "Jinja"),
    ("jinja2", "Jinja"),
    ("tpl", "a template engine"),
    ("tmpl", "a template engine"),
    ("gotmpl", "a template engine"),
    ("template", "a template engine"),
    ("envsubst", "envsubst"),
];

/// Names and keywords of Go's text/template and of the functions Prometheus and Alertmanager
/// add: a `{{ name ...}}` action starting with one of these is Prometheus/Alertmanager
/// templating (an annotation, a notification), not Jinja.
const GO_TEMPLATE_WORDS: &[&str] = &[
    "if",
    "else",
    "end",
    "range",
    "with",
    "define",
    "block",
    "template",
    "break",
    "continue",
    "len",
    "index",
    "slice",
    "printf",
    "print",
    "println",
    "and",
    "or",
    "not",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "call",
    "html",
    "js",
    "urlquery",
    "nil",
    "true",
    "false",
    "humanize",
    "humanize1024",
    "humanizeDuration",
    "humanizePercentage",
    "humanizeTimestamp",
    "title",
    "toUpper",
    "toLower",
    "match",
    "reReplaceAll",
    "join",
    "safeHtml",
    "safeUrl",
    "stringSlice",
    "date",
    "tz",
    "since",
    "trimSpace",
    "urlUnescape",
    "query",
    "first",
    "label",
    "value",
    "sortByLabel",
    "strvalue",
    "args",
    "tmpl",
    "externalURL",
    "pathPrefix",
    "graphLink",
    "tableLink",
    "parseDuration",
    "toTime",
    "toDuration",
    "now",
    "json",
    "table",
    "markdown",
    "split",
    "stripPort",
    "stripDomain",
    "toJson",
    "list",
    "dict",
    "safeHtmlAttr",
];

/// Functions and objects only Helm's templating has (sprig functions Helm adds, the chart's
/// built-in objects).
const HELM_WORDS: &[&str] = &[
    ".Values",
    ".Release",
    ".Chart",
    ".Capabilities",
    ".Files",
    ".Template",
    "$.Values",
    "include ",
    "toYaml",
    "nindent",
    "indent ",
    "tpl ",
    "required ",
    "| quote",
    "default ",
];

/// Is the text a template (Helm, Jinja, a template extension) rather than the file a tool
/// loads? The first marker found, outside YAML block scalars for structural markers.
///
/// Prometheus annotations and Alertmanager notification fields hold Go templates themselves
/// (`{{ $labels.instance }}`, `{{ template "slack.title" . }}`, `{{ if gt $value 1 }}`): those
/// are not markers. Markers are: Helm's objects and functions anywhere (`.Values`,
/// `include`, `toYaml`, a Helm-escaped `` {{`{{ $labels.x }}`}} ``), a control action alone on
/// a line outside a block scalar (`{{- if .Values.x }}`, `{{- end }}`), Jinja statements and
/// comments (`{% ... %}`, `{# ... #}`), and Jinja expressions (`{{ vault_webhook_url }}`: a bare
/// name that is no Go template word).
pub fn template_marker(text: &str, path: &str) -> Option<TemplateMarker> {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    if let Some(ext) = lower.rsplit_once('.').map(|(_, e)| e) {
        if let Some((_, engine)) = TEMPLATE_EXTENSIONS.iter().find(|(e, _)| *e == ext) {
            return Some(TemplateMarker { engine, span: 0..0 });
        }
    }
    let mut offset = 0;
    // indentation of the key that opened the block scalar we are in
    let mut block: Option<usize> = None;
    // indentation of the last line with content: a line indented deeper may continue a
    // multi-line scalar (`description: ...` then `  {{ end }}`)
    let mut last_indent = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let trimmed = body.trim_start();
        let indent = body.len() - trimmed.len();
        if let Some(b) = block {
            if trimmed.is_empty() || indent > b {
                // inside a block scalar: only Helm's own objects count (an annotation written
                // as `{{ .Values.x }}` is rendered by Helm, not Prometheus)
                if let Some(m) = helm_word(body) {
                    return Some(TemplateMarker {
                        engine: "Helm",
                        span: start + m.start..start + m.end,
                    });
                }
                continue;
            }
            block = None;
        }
        if trimmed.starts_with('#') {
            continue;
        }
        if let Some(m) = line_marker(body, indent <= last_indent) {
            return Some(TemplateMarker {
                engine: m.0,
                span: start + m.1.start..start + m.1.end,
            });
        }
        if !trimmed.is_empty() {
            last_indent = indent;
        }
        if opens_block_scalar(trimmed) {
            block = Some(indent);
        }
    }
    None
}

/// A Helm word inside a `{{ }}` action of the line.
fn helm_word(line: &str) -> Option<Span> {
    let mut from = 0;
    while let Some(open) = line[from..].find("{{").map(|i| from + i) {
        let close = line[open..].find("}}").map_or(line.len(), |i| open + i + 2);
        let action = &line[open..close];
        let github = line[..open].ends_with('$');
        if !github && (action.starts_with("{{`") || HELM_WORDS.iter().any(|w| action.contains(w))) {
            return Some(open..close);
        }
        from = close.max(open + 2);
    }
    None
}

/// A marker on one line outside a block scalar. `structural`: the line is not indented deeper
/// than the line before it, so it cannot continue a multi-line scalar.
fn line_marker(line: &str, structural: bool) -> Option<(&'static str, Span)> {
    for pat in ["{%", "{#"] {
        if let Some(at) = line.find(pat) {
            let close = if pat == "{%" { "%}" } else { "#}" };
            if line[at..].contains(close) {
                return Some(("Jinja", at..at + 2));
            }
        }
    }
    if let Some(s) = helm_word(line) {
        return Some(("Helm", s));
    }
    let trimmed = line.trim_start();
    let indent = line.len() - trimmed.len();
    // a control action alone on its line: structure, not the content of a value
    if structural && trimmed.starts_with("{{") && trimmed.trim_end().ends_with("}}") {
        let inner = trimmed
            .trim_start_matches("{{")
            .trim_start_matches('-')
            .trim_start();
        let word: String = inner
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
            .collect();
        if matches!(
            word.as_str(),
            "if" | "else" | "end" | "range" | "with" | "define" | "template"
        ) {
            return Some(("Helm", indent..line.trim_end().len()));
        }
    }
    // Jinja expressions: `{{ name }}`, `{{ name | filter }}`, `{{ name.attr }}` (not GitHub's
    // `${{ matrix.go }}`)
    let mut from = 0;
    while let Some(open) = line[from..].find("{{").map(|i| from + i) {
        if line[..open].ends_with('$') {
            from = open + 2;
            continue;
        }
        // an action continued on the next line (a multi-line scalar) is not judged
        let Some(close) = line[open..].find("}}").map(|i| open + i + 2) else {
            break;
        };
        let inner = line[open + 2..close - 2]
            .trim_start_matches('-')
            .trim_start();
        let word: String = inner
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let rest = inner[word.len()..].trim_start();
        if !word.is_empty()
            && word.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && !GO_TEMPLATE_WORDS.contains(&word.as_str())
            && (rest.is_empty()
                || rest.starts_with('|')
                || rest.starts_with('.')
                || rest.starts_with('[')
                || rest.starts_with("-}}")
                || rest.starts_with('-'))
        {
            return Some(("Jinja", open..close));
        }
        from = close.max(open + 2);
    }
    None
}

/// Does this (trimmed) line end with a block scalar indicator (`key: |`, `- >-`, `key: |2`)?
fn opens_block_scalar(trimmed: &str) -> bool {
    let code = match trimmed.find(" #") {
        Some(i) => &trimmed[..i],
        None => trimmed,
    }
    .trim_end();
    let Some(last) = code.rsplit([' ', '\t']).next() else {
        return false;
    };
    let indicator = last.starts_with('|') || last.starts_with('>');
    indicator
        && last[1..]
            .chars()
            .all(|c| matches!(c, '-' | '+') || c.is_ascii_digit())
        && (code.len() == last.len()
            || code[..code.len() - last.len()].trim_end().ends_with(':')
            || code[..code.len() - last.len()].trim_end().ends_with('-'))
}

/// Does a text look like it is meant to be a rule file or an Alertmanager config (for files that
/// cannot be parsed, or are templates)?
pub fn looks_like_monitoring(text: &str, path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if sniff_rules(text, name) {
        Some("rules/syntax")
    } else if sniff_alertmanager(text) {
        Some(alertmanager::CHECK)
    } else {
        None
    }
}

/// Does text look like it was meant to be an Alertmanager config?
pub fn sniff_alertmanager(text: &str) -> bool {
    let top = |needle: &str| text.lines().any(|l| l.starts_with(needle));
    (top("route:") && top("receivers:")) || (top("receivers:") && text.contains("_configs:"))
}

/// Does text look like it was meant to be a rule file?
pub fn sniff_rules(text: &str, name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let has = |needle: &str| {
        text.lines()
            .any(|l| l.trim_start().trim_start_matches("- ").starts_with(needle))
    };
    (has("groups:") && (has("rules:") || has("alert:") || has("record:")))
        || text.contains("kind: PrometheusRule")
        || ((lower.contains("rule") || lower.contains("alert"))
            && (has("alert:") || has("record:") || has("expr:")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Node {
        let lines = crate::source::LineIndex::new(text);
        crate::parse::yaml::parse_documents(text, &lines)
            .unwrap()
            .remove(0)
    }

    fn kind(text: &str) -> DocKind {
        document(&doc(text), "x.yml", false)
    }

    #[test]
    fn prometheus_rules_and_look_alikes() {
        assert_eq!(
            kind("groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up == 0\n"),
            DocKind::Rules(Flavor::Plain)
        );
        // an empty rule file is valid
        assert_eq!(kind("groups: []\n"), DocKind::Rules(Flavor::Plain));
        assert_eq!(
            kind(
                "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec:\n  groups: []\n"
            ),
            DocKind::Rules(Flavor::PrometheusRule)
        );
        // Grafana alert provisioning: not a Prometheus rule file
        let grafana = "apiVersion: 1\ngroups:\n- orgId: 1\n  name: g\n  folder: f\n  interval: 1m\n  rules:\n  - uid: abc\n    title: T\n    condition: C\n    data: []\n";
        assert_eq!(kind(grafana), DocKind::Grafana);
        // without apiVersion, its rule shape still says Grafana
        assert_eq!(
            kind("groups:\n- name: g\n  rules:\n  - uid: abc\n    title: T\n    condition: C\n    data: []\n"),
            DocKind::Grafana
        );
        assert_eq!(kind("apiVersion: 1\ncontactPoints: []\n"), DocKind::Grafana);
        // near miss: a Kubernetes apiVersion string with groups is not Grafana
        assert_ne!(
            kind("apiVersion: v1\nkind: List\ngroups:\n- name: a\n  rules: []\n"),
            DocKind::Grafana
        );
    }

    #[test]
    fn alertmanager_and_look_alikes() {
        assert_eq!(
            kind("route:\n  receiver: a\nreceivers:\n- name: a\n"),
            DocKind::Alertmanager
        );
        // a config being written: receivers only
        assert_eq!(
            kind("receivers:\n- name: a\n  webhook_configs: []\n"),
            DocKind::Alertmanager
        );
        // a typo among Alertmanager keys is still an Alertmanager config (and an error there)
        assert_eq!(
            kind("route:\n  receiver: a\nreceivers:\n- name: a\ninhibit_rule: []\n"),
            DocKind::Alertmanager
        );
        // Helm values with a Gateway API route: not Alertmanager
        let values = "replicaCount: 1\nimage:\n  repository: x\nservice:\n  port: 9093\nroute:\n  main:\n    enabled: false\n    kind: HTTPRoute\n";
        assert_eq!(kind(values), DocKind::Other);
        // an OpenTelemetry Collector: `receivers` is a map
        let otel = "receivers:\n  otlp:\n    protocols: {}\nexporters: {}\nservice: {}\n";
        assert_eq!(kind(otel), DocKind::Other);
        // a values file whose route has Alertmanager keys but which is mostly something else
        let chart = "replicaCount: 1\nimage: {}\nservice: {}\nroute:\n  receiver: x\n";
        assert_eq!(kind(chart), DocKind::Other);
    }

    #[test]
    fn other_kinds() {
        assert_eq!(
            kind("kind: Secret\nstringData:\n  a: b\n"),
            DocKind::KubernetesObject
        );
        assert_eq!(
            kind("scrape_configs:\n- job_name: a\n"),
            DocKind::PrometheusConfig
        );
        assert_eq!(kind("settings: [a]\n"), DocKind::Other);
    }

    fn marker(text: &str) -> Option<&'static str> {
        template_marker(text, "rules.yaml").map(|m| m.engine)
    }

    #[test]
    fn helm_templates() {
        let t = "{{- if .Values.defaultRules.create }}\napiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\n";
        let m = template_marker(t, "x.yaml").unwrap();
        assert_eq!(
            (m.engine, &t[m.span]),
            ("Helm", "{{- if .Values.defaultRules.create }}")
        );
        assert_eq!(
            marker("metadata:\n  namespace: {{ .Release.Namespace }}\n"),
            Some("Helm")
        );
        assert_eq!(
            marker("metadata:\n  labels:\n{{ include \"x.labels\" . | indent 4 }}\n"),
            Some("Helm")
        );
        // Helm escaping a Prometheus template
        assert_eq!(
            marker("annotations:\n  summary: {{`{{ $labels.job }}`}} down\n"),
            Some("Helm")
        );
        // `{{- end }}` alone on a line
        assert_eq!(marker("groups: []\n{{- end }}\n"), Some("Helm"));
    }

    #[test]
    fn jinja_templates() {
        assert_eq!(
            marker("global:\n  slack_api_url: '{{ vault_slack_url }}'\n"),
            Some("Jinja")
        );
        assert_eq!(
            marker("{% for x in y %}\n- name: a\n{% endfor %}\n"),
            Some("Jinja")
        );
        assert_eq!(
            marker("route:\n  receiver: {{ am_receiver | default('a') }}\n"),
            Some("Jinja")
        );
        assert_eq!(
            template_marker("route: {}\n", "roles/am/templates/alertmanager.yml.j2")
                .map(|m| m.engine),
            Some("Jinja")
        );
    }

    #[test]
    fn prometheus_and_alertmanager_templating_is_not_a_marker() {
        let rules = "groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up == 0\n    annotations:\n      summary: '{{ $labels.instance }} is down'\n      description: Instance {{ $labels.instance }} of {{ .Labels.job }} ({{ humanize $value }})\n      detail: |\n        {{ if gt $value 1.0 }}\n        many\n        {{ end }}\n        {{ range query \"up\" }}{{ .Labels.instance }}{{ end }}\n";
        assert_eq!(marker(rules), None);
        let am = "receivers:\n- name: a\n  slack_configs:\n  - title: '{{ template \"slack.title\" . }}'\n    text: >-\n      {{ range .Alerts }}{{ .Annotations.summary }}\n      {{ end }}\n";
        assert_eq!(marker(am), None);
        // plain-scalar continuation lines starting with an action, an action cut by a line end
        let cont = "annotations:\n  description: Instance down\n    {{ $labels.instance }}\n  detail: a {{ if gt $value 1.0 }}b\n    {{ end }}\n  more: '{{ printf\n    \"%.0f\" $value }} x'\n";
        assert_eq!(marker(cont), None);
        // a comment mentioning a template
        assert_eq!(marker("# rendered by {{ helm }}\ngroups: []\n"), None);
        // GitHub expressions
        assert_eq!(
            marker("run: echo \"${{ toJson(job) }}\" ${{ matrix.go }}\n"),
            None
        );
    }
}
