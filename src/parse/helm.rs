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
    let mut out = Vec::new();
    walk(doc, src, &mut Vec::new(), &mut out);
    out
}

fn walk<'a>(node: &'a Node, src: &str, path: &mut Vec<&'a str>, out: &mut Vec<Embedded>) {
    if path.len() > MAX_DEPTH || !node.is_map() || disabled(node) {
        return;
    }
    for (k, v) in node.entries() {
        path.push(&k.name);
        if CONFIG_KEYS.contains(&k.name.as_str()) {
            if let Some(e) = config(v, src, &path.join(".")) {
                out.push(e);
                path.pop();
                continue;
            }
        }
        walk(v, src, path, out);
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

fn config(v: &Node, src: &str, label: &str) -> Option<Embedded> {
    match &v.value {
        Value::Map(entries) => {
            if !shaped(v) {
                return None;
            }
            // the chart's own keys (`config.enabled` of the `alertmanager` chart) are not
            // written into the file
            let skip: Vec<Span> = entries
                .iter()
                .filter(|(k, _)| CHART_KEYS.contains(&k.name.as_str()))
                .map(|(k, v)| k.span.start..v.span.end.max(k.span.end))
                .collect();
            let (text, segments) = dedented(src, &v.span, &skip)?;
            Some(embedded(label, text, segments))
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

fn embedded(label: &str, text: String, segments: Segments) -> Embedded {
    Embedded {
        label: label.to_string(),
        key: "alertmanager.yaml".to_string(),
        text,
        segments,
        whole: None,
        substituted: Vec::new(),
        unresolved: false,
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
        let mut sources = Sources::default();
        let outer = sources.add("v.yaml".into(), "v.yaml".into(), src.as_str(), None);
        let id = sources.add(
            "v.yaml#alertmanager.config".into(),
            "v.yaml".into(),
            e.text.as_str(),
            Some(Origin {
                outer,
                segments: e.segments.clone(),
                whole: None,
            }),
        );
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
}
