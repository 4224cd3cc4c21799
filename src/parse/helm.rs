//! Alertmanager configs kept in Helm values, where charts take them: kube-prometheus-stack and
//! victoria-metrics-k8s-stack `alertmanager.config` (a mapping), the prometheus-community
//! `alertmanager` chart's top-level `config` (a mapping, with the chart's own `enabled` key),
//! bitnami's `alertmanager.configuration` and kube-prometheus-stack's `stringConfig` (a string of
//! YAML), the older `prometheus` chart's `alertmanagerFiles."alertmanager.yml"`; also inside a
//! Flux `HelmRelease`'s `spec.values`. Each becomes an embedded file (as a Secret's
//! `alertmanager.yaml` does), whose bytes map back into the values file: a mapping is the
//! values' own lines with their indentation removed, a string is its scalar's content.
//!
//! Only a mapping with Alertmanager's shape (a `route:` mapping and a `receivers:` list) is
//! taken, and not when the chart would not use it: the section is `enabled: false`, or the
//! chart is told to use an existing Secret (`alertmanagerSpec.useExistingSecret: true`,
//! `alertmanagerSpec.configSecret`).

use crate::parse::k8s::Embedded;
use crate::parse::yaml::{Node, Value};
use crate::source::Span;

/// Keys whose value is an Alertmanager config in the charts that take one.
const CONFIG_KEYS: &[&str] = &[
    "config",
    "configuration",
    "stringConfig",
    "alertmanager.yml",
    "alertmanager.yaml",
];

/// Keys of a chart's config mapping that the chart removes before writing the file.
const CHART_KEYS: &[&str] = &["enabled"];

/// `(inner_start, outer_start, len)` runs of an embedded text.
type Segments = Vec<(usize, usize, usize)>;

/// How deep in the values the configs are looked for.
const MAX_DEPTH: usize = 8;

/// The Alertmanager configs of one Helm values document (or of any YAML document of no audited
/// kind that holds one the way values do).
pub fn alertmanager_configs(doc: &Node, src: &str) -> Vec<Embedded> {
    alertmanager_configs_in(doc, src, false)
}

/// [`alertmanager_configs`], saying whether the file is known to be kube-prometheus-stack's
/// values (a `Chart.yaml` beside it names the chart).
pub fn alertmanager_configs_in(doc: &Node, src: &str, kps_chart: bool) -> Vec<Embedded> {
    let mut roots: Vec<&Node> = Vec::new();
    if kps_chart || kps_values(doc) {
        roots.push(doc);
    }
    roots.extend(helm_release_values(doc));
    let mut out = Vec::new();
    walk(doc, src, &mut Vec::new(), &mut out, &roots, false);
    out
}

/// A Flux `HelmRelease` of kube-prometheus-stack: its `spec.values`.
fn helm_release_values(doc: &Node) -> Option<&Node> {
    let spec = doc.get("spec")?;
    let chart = spec
        .get("chart")
        .and_then(|c| c.get("spec"))
        .and_then(|c| c.get("chart"))
        .and_then(Node::as_str);
    if doc.get("kind").and_then(Node::as_str) != Some("HelmRelease") || chart != Some(KPS_CHART) {
        return None;
    }
    spec.get("values")
}

/// kube-prometheus-stack's `alertmanager` sections of a values document (the values' own, an
/// umbrella chart's `kube-prometheus-stack.alertmanager`, a Flux `HelmRelease`'s
/// `spec.values.alertmanager`), each with the label of the config embedded from it (as
/// [`alertmanager_configs_in`] names it). Sections switched off or told to use a config kept
/// elsewhere are left out.
pub fn chart_sections<'a>(doc: &'a Node, kps_chart: bool) -> Vec<(&'a Node, String)> {
    let mut out = Vec::new();
    let mut push = |parent: &'a Node, prefix: &str| {
        if let Some(v) = parent.get("alertmanager") {
            if v.is_map() && !disabled(v) {
                out.push((v, format!("{prefix}alertmanager.config")));
            }
        }
    };
    if kps_chart || kps_values(doc) {
        push(doc, "");
    }
    if let Some(v) = doc.get(KPS_CHART) {
        push(v, &format!("{KPS_CHART}."));
    }
    if let Some(v) = helm_release_values(doc) {
        push(v, "spec.values.");
    }
    out
}

/// The chart whose defaults are merged into `alertmanager.config`.
pub const KPS_CHART: &str = "kube-prometheus-stack";

/// The version of kube-prometheus-stack whose default `alertmanager.config` is merged in (its
/// `values.yaml`; the same defaults since the InfoInhibitor rules were added).
pub const KPS_CHART_VERSION: &str = "88.5.3";

/// Top-level keys of kube-prometheus-stack's values, besides `alertmanager`: values with one of
/// them are the chart's.
const KPS_KEYS: &[&str] = &[
    "prometheusOperator",
    "kube-state-metrics",
    "kubeStateMetrics",
    "prometheus-node-exporter",
    "nodeExporter",
    "grafana",
    "defaultRules",
    "kubeApiServer",
    "kubelet",
    "kubeControllerManager",
    "coreDns",
    "kubeDns",
    "kubeEtcd",
    "kubeScheduler",
    "kubeProxy",
    "additionalPrometheusRulesMap",
    "thanosRuler",
];

/// Are these kube-prometheus-stack's values (an `alertmanager` section beside keys only that
/// chart has)?
fn kps_values(doc: &Node) -> bool {
    doc.get("alertmanager").is_some_and(Node::is_map)
        && doc
            .entries()
            .iter()
            .any(|(k, _)| KPS_KEYS.contains(&k.name.as_str()))
}

/// Does a `Chart.yaml` name kube-prometheus-stack (as the chart, or as a dependency whose
/// values sit under its name)? Returns `(is the chart, is a dependency)`.
pub fn chart_names_kps(chart_yaml: &str) -> (bool, bool) {
    let lines = crate::source::LineIndex::new(chart_yaml);
    let Ok(docs) = crate::parse::yaml::parse_documents(chart_yaml, &lines) else {
        return (false, false);
    };
    let Some(d) = docs.first() else {
        return (false, false);
    };
    let own = d.get("name").and_then(Node::as_str) == Some(KPS_CHART);
    let dep = d.get("dependencies").is_some_and(|deps| {
        deps.items()
            .iter()
            .any(|x| x.get("name").and_then(Node::as_str) == Some(KPS_CHART))
    });
    (own, dep)
}

fn walk<'a>(
    node: &'a Node,
    src: &str,
    path: &mut Vec<&'a str>,
    out: &mut Vec<Embedded>,
    roots: &[&Node],
    in_kps: bool,
) {
    if path.len() > MAX_DEPTH || !node.is_map() || disabled(node) {
        return;
    }
    let is_root = roots.iter().any(|r| std::ptr::eq(*r, node));
    for (k, v) in node.entries() {
        path.push(&k.name);
        if CONFIG_KEYS.contains(&k.name.as_str()) {
            let kps = in_kps && k.name == "config";
            if let Some(e) = config(v, src, &path.join("."), kps.then_some(&k.span)) {
                out.push(e);
                path.pop();
                continue;
            }
        }
        // `kube-prometheus-stack:` values of an umbrella chart are the chart's
        let child_kps = (is_root && k.name == "alertmanager")
            || (k.name == KPS_CHART && v.get("alertmanager").is_some_and(Node::is_map));
        if k.name == KPS_CHART && child_kps {
            walk(v, src, path, out, &[v], false);
        } else {
            walk(v, src, path, out, roots, child_kps);
        }
        path.pop();
    }
}

/// Is a section of the values switched off, or told to use a config kept elsewhere?
fn disabled(node: &Node) -> bool {
    let yes = |n: Option<&Node>| matches!(n.map(|n| &n.value), Some(Value::Bool(true)));
    let no = |n: Option<&Node>| matches!(n.map(|n| &n.value), Some(Value::Bool(false)));
    if no(node.get("enabled")) {
        return true;
    }
    let spec = node.get("alertmanagerSpec");
    yes(spec.and_then(|s| s.get("useExistingSecret")))
        || spec
            .and_then(|s| s.get("configSecret"))
            .and_then(Node::as_str)
            .is_some_and(|s| !s.trim().is_empty())
}

/// A mapping (or a YAML string) with Alertmanager's shape: a `route:` mapping and a
/// `receivers:` list.
fn shaped(node: &Node) -> bool {
    node.get("route").is_some_and(Node::is_map)
        && node
            .get("receivers")
            .is_some_and(|r| matches!(r.value, Value::Seq(_)))
}

/// `kps`: the span of kube-prometheus-stack's `alertmanager.config` key, whose value Helm merges
/// over the chart's default config.
fn config(v: &Node, src: &str, label: &str, kps: Option<&Span>) -> Option<Embedded> {
    match &v.value {
        Value::Map(entries) => {
            let own = entries
                .iter()
                .any(|(k, _)| crate::parse::alertmanager::TOP_KEYS.contains(&k.name.as_str()));
            let taken = shaped(v) || (kps.is_some() && own);
            if !taken {
                return None;
            }
            // the chart's own keys (`config.enabled` of the `alertmanager` chart) are not
            // written into the file
            let skip: Vec<Span> = entries
                .iter()
                .filter(|(k, _)| CHART_KEYS.contains(&k.name.as_str()))
                .map(|(k, v)| k.span.start..v.span.end.max(k.span.end))
                .collect();
            let (mut text, mut segments) = dedented(src, &v.span, &skip)?;
            let notes = match kps {
                Some(key) => merge_kps_defaults(v, src, key, &mut text, &mut segments),
                None => Vec::new(),
            };
            let mut e = embedded(label, text, segments);
            e.notes = notes;
            Some(e)
        }
        Value::Str(text) => {
            // a string of YAML: taken when it has the shape, or (a template Helm renders with
            // `tpl`, which YAML may not read) when its lines say so
            let lines = crate::source::LineIndex::new(text);
            let shape = match crate::parse::yaml::parse_documents(text, &lines) {
                Ok(docs) => docs.first().is_some_and(shaped),
                Err(_) => {
                    text.lines().any(|l| l.starts_with("route:"))
                        && text.lines().any(|l| l.starts_with("receivers:"))
                }
            };
            if !shape {
                return None;
            }
            let segments = crate::parse::k8s::segments(src, v, text);
            Some(embedded(label, text.clone(), segments))
        }
        _ => None,
    }
}

/// kube-prometheus-stack's default `alertmanager.config` ([`KPS_CHART_VERSION`]): the maps
/// Helm merges key by key (`global`, `route`), as `(key, value)` lines, and the other top-level
/// keys (lists: a list of the values replaces the chart's) as YAML blocks.
const KPS_GLOBAL: &[(&str, &str)] = &[("resolve_timeout", "5m")];
const KPS_ROUTE: &[(&str, &str)] = &[
    ("group_by", "['namespace']"),
    ("group_wait", "30s"),
    ("group_interval", "5m"),
    ("repeat_interval", "12h"),
    ("receiver", "'null'"),
    (
        "routes",
        "\n- receiver: 'null'\n  matchers:\n    - alertname = \"Watchdog\"\n",
    ),
];
const KPS_LISTS: &[(&str, &str)] = &[
    (
        "inhibit_rules",
        "inhibit_rules:
  - source_matchers:
      - 'severity = critical'
    target_matchers:
      - 'severity =~ warning|info'
    equal:
      - 'namespace'
      - 'alertname'
  - source_matchers:
      - 'severity = warning'
    target_matchers:
      - 'severity = info'
    equal:
      - 'namespace'
      - 'alertname'
  - source_matchers:
      - 'alertname = InfoInhibitor'
    target_matchers:
      - 'severity = info'
    equal:
      - 'namespace'
  - target_matchers:
      - 'alertname = InfoInhibitor'
",
    ),
    ("receivers", "receivers:\n- name: 'null'\n"),
    (
        "templates",
        "templates:\n- '/etc/alertmanager/config/*.tmpl'\n",
    ),
];

/// `key: value` written at `indent` (a value starting with a line break is a block, each of its
/// lines indented too).
fn entry(key: &str, value: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    match value.strip_prefix('\n') {
        Some(block) => {
            let mut out = format!("{pad}{key}:\n");
            for l in block.lines() {
                out.push_str(&pad);
                out.push_str(l);
                out.push('\n');
            }
            out
        }
        None => format!("{pad}{key}: {value}\n"),
    }
}

/// Merge kube-prometheus-stack's default config into the values' `alertmanager.config` (`v`,
/// already dedented into `text`/`segments`) as Helm merges values: maps key by key (the values
/// win; a key set to `null` removes the chart's), anything else replaced. What is added maps
/// to the `config` key (`key`); the returned notes mark it.
fn merge_kps_defaults(
    v: &Node,
    src: &str,
    key: &Span,
    text: &mut String,
    segments: &mut Segments,
) -> Vec<(Span, String)> {
    let config_indent = column(src, v.span.start);
    // (inner position, text) insertions
    let mut inserts: Vec<(usize, String)> = Vec::new();
    let mut appended = String::new();
    for (name, defaults) in [("global", KPS_GLOBAL), ("route", KPS_ROUTE)] {
        match v.get(name) {
            None => {
                appended.push_str(&format!("{name}:\n"));
                for (k, val) in defaults {
                    appended.push_str(&entry(k, val, 2));
                }
            }
            Some(m) if m.is_map() && !src[m.span.start..].starts_with('{') => {
                let indent = column(src, m.span.start).saturating_sub(config_indent);
                let mut add = String::new();
                for (k, val) in defaults {
                    if m.get(k).is_none() {
                        add.push_str(&entry(k, val, indent));
                    }
                }
                if add.is_empty() {
                    continue;
                }
                if let Some(at) = after_last_line(src, &m.span, segments) {
                    inserts.push((at, add));
                }
            }
            // `null` (Helm removes the key), a flow mapping, or not a mapping: nothing merged
            _ => {}
        }
    }
    for (name, block) in KPS_LISTS {
        if v.get(name).is_none() {
            appended.push_str(block);
        }
    }
    if !appended.is_empty() {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        inserts.push((text.len(), appended));
    }
    let note = format!(
        "from the default `alertmanager.config` of {KPS_CHART} {KPS_CHART_VERSION}, which Helm merges with these values"
    );
    let mut notes = Vec::new();
    // from the end, so earlier positions stay valid; at one position, the later insertion
    // first, so that the chunks end up in the order they were made (a mapping's keys before
    // the top-level keys appended after it)
    let mut inserts: Vec<(usize, usize, String)> = inserts
        .into_iter()
        .enumerate()
        .map(|(i, (at, c))| (at, i, c))
        .collect();
    inserts.sort_by_key(|x| std::cmp::Reverse((x.0, x.1)));
    for (at, _, chunk) in inserts {
        text.insert_str(at, &chunk);
        for s in segments.iter_mut() {
            if s.0 >= at {
                s.0 += chunk.len();
            }
        }
        for (r, _) in notes.iter_mut() {
            let r: &mut Span = r;
            if r.start >= at {
                *r = r.start + chunk.len()..r.end + chunk.len();
            }
        }
        segments.push((at, key.start, 0));
        notes.push((at..at + chunk.len(), note.clone()));
    }
    segments.sort();
    notes.sort_by_key(|(r, _)| r.start);
    notes
}

/// The column (0-based, in bytes) of an offset.
fn column(src: &str, at: usize) -> usize {
    let at = at.min(src.len());
    at - src[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// The inner position just after the line where the block at `span` ends (in the dedented
/// text that `segments` map).
fn after_last_line(src: &str, span: &Span, segments: &Segments) -> Option<usize> {
    let end = span.end.min(src.len());
    let last = src[..end].trim_end().len().checked_sub(1)?;
    let (inner, _, len) = segments
        .iter()
        .find(|(_, o, l)| *o <= last && last < o + l)
        .copied()?;
    Some(inner + len + 1)
}

fn embedded(label: &str, text: String, segments: Segments) -> Embedded {
    Embedded {
        label: label.to_string(),
        key: "alertmanager.yaml".to_string(),
        text,
        segments,
        whole: None,
        substituted: Vec::new(),
        unresolved: false,
        notes: Vec::new(),
    }
}

/// The text of a block mapping written at `span` of `src`, with the mapping's indentation
/// removed from every line, and the runs mapping it back. Lines inside `skip` become empty.
fn dedented(src: &str, span: &Span, skip: &[Span]) -> Option<(String, Segments)> {
    let (start, end) = (span.start, span.end.min(src.len()));
    if start >= end || !src.is_char_boundary(start) || !src.is_char_boundary(end) {
        return None;
    }
    // a flow mapping (`config: {route: ...}`) reads as it is
    if src[start..].starts_with('{') {
        return Some((src[start..end].to_string(), vec![(0, start, end - start)]));
    }
    let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
    let indent = start - line_start;
    let end_line = src[end..].find('\n').map_or(src.len(), |i| end + i);
    let mut text = String::with_capacity(end_line - line_start);
    let mut segments = Vec::new();
    let mut pos = line_start;
    while pos <= end_line {
        let le = src[pos..].find('\n').map_or(src.len(), |i| pos + i);
        let from = if pos == line_start {
            start
        } else {
            let spaces = src[pos..le].bytes().take_while(|b| *b == b' ').count();
            pos + spaces.min(indent)
        };
        let skipped = skip.iter().any(|s| s.start < le && pos < s.end);
        if !skipped && from < le {
            segments.push((text.len(), from, le - from));
            text.push_str(&src[from..le]);
        }
        text.push('\n');
        if le >= src.len() {
            break;
        }
        pos = le + 1;
    }
    Some((text, segments))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::yaml::parse_documents;
    use crate::source::{LineIndex, Origin, Sources};

    /// The values file and the config embedded from it, as the run holds them.
    fn mapped(src: &str, e: &Embedded) -> (Sources, crate::source::FileId) {
        let mut sources = Sources::default();
        let outer = sources.add("v.yaml".into(), "v.yaml".into(), src, None);
        let id = sources.add(
            format!("v.yaml#{}", e.label),
            "v.yaml".into(),
            e.text.as_str(),
            Some(Origin {
                outer,
                segments: e.segments.clone(),
                whole: None,
            }),
        );
        (sources, id)
    }

    fn configs(src: &str) -> Vec<Embedded> {
        let docs = parse_documents(src, &LineIndex::new(src)).unwrap();
        alertmanager_configs(&docs[0], src)
    }

    const KPS: &str = "\
grafana:
  enabled: true
alertmanager:
  config:
    global:
      slack_api_url: https://hooks.slack.com/services/XXX
    route:
      receiver: slack
      routes:
  # a comment, less indented than the keys
        - matchers: ['team=\"db\"']
          receiver: db
    receivers:
      - name: slack
      - name: db
  alertmanagerSpec:
    replicas: 2
";

    #[test]
    fn a_mapping_with_positions_in_the_values() {
        let src = KPS.to_string();
        let found = configs(&src);
        assert_eq!(found.len(), 1);
        let e = &found[0];
        assert_eq!(e.label, "alertmanager.config");
        assert!(e
            .text
            .starts_with("global:\n  slack_api_url: https://hooks"));
        assert!(e.text.contains("\nroute:\n  receiver: slack\n"));
        let inner = e.text.find("receiver: db").unwrap();
        let (sources, id) = mapped(src.as_str(), e);
        let (_, span) = sources.resolve(id, &(inner..inner + 12));
        assert_eq!(&src[span], "receiver: db");
        // the text is YAML with the config's shape
        let docs = parse_documents(&e.text, &LineIndex::new(&e.text)).unwrap();
        assert!(shaped(&docs[0]));
    }

    #[test]
    fn the_alertmanager_charts_config_without_its_enabled_key() {
        let src = "replicaCount: 1\nconfig:\n  enabled: true\n  global: {}\n  receivers:\n    - name: default-receiver\n  route:\n    receiver: default-receiver\n";
        let found = configs(src);
        assert_eq!(found.len(), 1);
        assert!(!found[0].text.contains("enabled"));
        assert!(found[0].text.contains("global: {}"));
    }

    #[test]
    fn strings_of_yaml() {
        let src = "alertmanager:\n  configuration: |\n    receivers:\n      - name: default-receiver\n    route:\n      receiver: default-receiver\n";
        let found = configs(src);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].label, "alertmanager.configuration");
        assert!(found[0].text.starts_with("receivers:\n"));
    }

    #[test]
    fn configs_not_used_or_not_alertmanagers() {
        // switched off, or replaced by an existing Secret
        let off = KPS.replace("alertmanager:\n", "alertmanager:\n  enabled: false\n");
        assert!(configs(&off).is_empty());
        let existing = KPS.replace("    replicas: 2", "    useExistingSecret: true");
        assert!(configs(&existing).is_empty());
        // a `config` of something else
        assert!(configs("loki:\n  config:\n    auth_enabled: false\n    server: {}\n").is_empty());
        // a route without receivers (an OpenTelemetry Collector, a Gateway API route)
        assert!(configs("otel:\n  config:\n    route:\n      x: 1\n").is_empty());
    }

    fn merged(e: &Embedded) -> crate::parse::alertmanager::AmConfig {
        let docs = parse_documents(&e.text, &LineIndex::new(&e.text)).unwrap();
        crate::parse::alertmanager::parse_doc(&docs[0], &e.text).0
    }

    #[test]
    fn kube_prometheus_stack_defaults_merged_as_helm_does() {
        // maps merged key by key, the values' keys winning; lists replaced
        let src = "grafana:\n  enabled: true\nalertmanager:\n  config:\n    route:\n      group_by: [alertname]\n    receivers:\n      - name: 'null'\n";
        let found = configs(src);
        assert_eq!(found.len(), 1);
        let e = &found[0];
        let cfg = merged(e);
        let route = cfg.route.as_ref().unwrap();
        assert_eq!(route.receiver.as_ref().unwrap().value, "null");
        let group_by: Vec<&str> = route
            .group_by
            .as_ref()
            .unwrap()
            .iter()
            .map(|g| &*g.value)
            .collect();
        assert_eq!(group_by, ["alertname"]);
        assert_eq!(route.routes.len(), 1, "{}", e.text);
        assert_eq!(route.routes[0].matchers[0].matcher.value, "Watchdog");
        assert_eq!(cfg.receivers.len(), 1);
        assert_eq!(cfg.inhibit_rules.len(), 4);
        assert_eq!(cfg.templates[0].value, "/etc/alertmanager/config/*.tmpl");
        assert!(cfg.global("resolve_timeout").is_some());
        // the values' own bytes still map exactly; what the chart adds maps to the `config` key
        // and carries a note
        let (mut sources, id) = mapped(src, e);
        sources.set_notes(id, e.notes.clone());
        let at = e.text.find("[alertname]").unwrap();
        assert_eq!(&src[sources.resolve(id, &(at..at + 11)).1], "[alertname]");
        let at = e.text.find("receiver: 'null'").unwrap();
        let (_, span) = sources.resolve(id, &(at..at + 16));
        assert_eq!(span.start, src.find("config").unwrap());
        assert!(sources.note_at(id, at).unwrap().contains("88.5.3"));
        assert!(sources
            .note_at(id, e.text.find("[alertname]").unwrap())
            .is_none());
    }

    #[test]
    fn kube_prometheus_stack_recognised_only_as_such() {
        // the same section without the chart's other keys: not merged (the route has no
        // receiver, and no shape either)
        let src = "alertmanager:\n  config:\n    route:\n      group_by: [alertname]\n    receivers:\n      - name: x\n";
        let found = configs(src);
        assert_eq!(found.len(), 1);
        assert!(merged(&found[0]).route.unwrap().receiver.is_none());
        assert!(found[0].notes.is_empty());
        // an umbrella chart's values, under the chart's name
        let src = "kube-prometheus-stack:\n  alertmanager:\n    config:\n      route:\n        group_by: [alertname]\n";
        let found = configs(src);
        assert_eq!(found.len(), 1, "{src}");
        assert_eq!(merged(&found[0]).receivers.len(), 1);
        // a Flux HelmRelease of the chart
        let src = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nspec:\n  chart:\n    spec:\n      chart: kube-prometheus-stack\n  values:\n    alertmanager:\n      config:\n        route: {receiver: x}\n        receivers: [{name: x}]\n";
        let found = configs(src);
        assert_eq!(found.len(), 1);
        let cfg = merged(&found[0]);
        // a flow mapping is not merged into; the lists and `global` are
        assert!(cfg.route.unwrap().group_by.is_none());
        assert_eq!(cfg.inhibit_rules.len(), 4);
        // `null` removes the chart's key
        let src = "grafana: {}\nalertmanager:\n  config:\n    route:\n      receiver: x\n    receivers: [{name: x}]\n    inhibit_rules: null\n";
        assert!(merged(&configs(src)[0]).inhibit_rules.is_empty());
        assert!(chart_names_kps("name: kube-prometheus-stack\nversion: 1.0.0\n").0);
        assert!(chart_names_kps("name: mine\ndependencies:\n  - name: kube-prometheus-stack\n").1);
    }
}
