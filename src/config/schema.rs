//! The JSON Schema of `.obsgate.yml` (`schemas/obsgate-config.schema.json`), generated from the
//! parser's own key lists ([`super::TOP_KEYS`], [`super::SECTIONS`], ...) and the checks'
//! metadata (ids, option types, choices), so that it cannot drift from what obsgate accepts:
//! every object is closed (`additionalProperties: false`) over exactly the keys the parser
//! knows, and a test requires the committed file to be this output.

use serde_json::{json, Map, Value};

use crate::checks::meta::{OptKind, OptionMeta};
use crate::checks::registry;

/// Where the schema of this version is published (the `# yaml-language-server: $schema=` line
/// `obsgate init` writes): the file in the repository at this version's tag.
pub fn url() -> String {
    format!(
        "{}/raw/v{}/schemas/obsgate-config.schema.json",
        env!("CARGO_PKG_REPOSITORY").trim_end_matches('/'),
        env!("CARGO_PKG_VERSION")
    )
}

const DURATION: &str = "^(([0-9]+)(y|w|d|h|m|s|ms))+$";

fn duration() -> Value {
    json!({"type": "string", "pattern": DURATION, "description": "A Prometheus duration: 30s, 5m, 1h30m"})
}

fn strings() -> Value {
    json!({"type": "array", "items": {"type": "string"}})
}

fn globs() -> Value {
    json!({"anyOf": [{"type": "string"}, strings(), {"type": "null"}], "description": "Glob patterns"})
}

fn level() -> Value {
    json!({"enum": ["off", "info", "warning", "error"]})
}

/// The schema of one check option value.
fn option(om: &OptionMeta) -> Value {
    let mut v = match om.kind {
        OptKind::String | OptKind::Regex => json!({"type": "string"}),
        OptKind::Choice => json!({"enum": om.choices}),
        OptKind::List => strings(),
        OptKind::Duration => duration(),
        OptKind::Severity => json!({"enum": ["info", "warning", "error"]}),
        OptKind::Integer => json!({"type": "integer"}),
    };
    v["description"] = Value::String(om.description.clone());
    v
}

/// An object closed over `keys`, each given its schema by `schema_of` (which must know them
/// all: a key without a schema is a bug the tests catch).
fn object(keys: &[&str], schema_of: impl Fn(&str) -> Option<Value>) -> Value {
    let mut props = Map::new();
    for k in keys {
        let s = schema_of(k).unwrap_or_else(|| panic!("no schema for config key `{k}`"));
        props.insert((*k).to_string(), s);
    }
    json!({"type": "object", "additionalProperties": false, "properties": props})
}

fn check_setting(id: &str) -> Value {
    let meta = registry::meta(id).expect("a registered check");
    let mut props = Map::new();
    props.insert("severity".into(), level());
    for om in &meta.options {
        props.insert(om.name.clone(), option(om));
    }
    json!({
        "description": meta.summary,
        "anyOf": [
            level(),
            {"const": false},
            {"type": "object", "additionalProperties": false, "properties": props}
        ]
    })
}

fn section(keys: &[(&str, &str)]) -> Value {
    object(&keys.iter().map(|(k, _)| *k).collect::<Vec<_>>(), |k| {
        let (_, check) = keys.iter().find(|(o, _)| *o == k)?;
        let om = registry::meta(check)?
            .options
            .iter()
            .find(|o| o.name == k)?;
        Some(option(om))
    })
}

fn policy() -> Value {
    use crate::policy::{MATCH_KEYS, POLICY_KEYS};
    let regex_map = json!({"type": "object", "additionalProperties": {"type": "string"}, "description": "Names to regular expressions (searched, not anchored)"});
    let mut p = object(POLICY_KEYS, |k| {
        Some(match k {
            "name" => json!({"type": "string", "pattern": "^[a-z0-9_-]+$"}),
            "description" => json!({"type": "string"}),
            "severity" => json!({"enum": ["info", "warning", "error"]}),
            "paths" => globs(),
            "match" => object(MATCH_KEYS, |m| {
                Some(match m {
                    "kind" => json!({"enum": ["alert", "record"]}),
                    "name" => json!({"type": "string"}),
                    "labels" => regex_map.clone(),
                    _ => return None,
                })
            }),
            "require_labels" | "require_annotations" => regex_map.clone(),
            "for" => object(&["min", "max"], |_| Some(duration())),
            "forbid_labels" => json!({"anyOf": [{"type": "string"}, strings()]}),
            "forbid_expr" => json!({"anyOf": [{"type": "string"}, strings()]}),
            _ => return None,
        })
    });
    p["required"] = json!(["name"]);
    p
}

fn alertmanager() -> Value {
    use super::{ALERTMANAGER_KEYS, EXTRA_ALERT_KEYS, PAGING_INTEGRATIONS_CHECK, STACK_KEYS};
    object(ALERTMANAGER_KEYS, |k| {
        Some(match k {
            "paging_integrations" => option(
                registry::meta(PAGING_INTEGRATIONS_CHECK)?
                    .options
                    .iter()
                    .find(|o| o.name == k)?,
            ),
            "extra_alerts" => {
                json!({"type": "array", "items": object(EXTRA_ALERT_KEYS, |e| Some(match e {
                    "alertname" => json!({"type": "string"}),
                    "labels" => json!({"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}),
                    _ => return None,
                }))})
            }
            "tests" => {
                let scalar = json!({"type": ["string", "number", "boolean"]});
                let labels = json!({"type": "object", "additionalProperties": scalar});
                let mut t = object(crate::routetest::TEST_KEYS, |e| {
                    Some(match e {
                        "name" | "at" | "config" => json!({"type": "string"}),
                        "alert" => labels.clone(),
                        "receivers" | "group_by" => strings(),
                        "firing" => json!({"type": "array", "items": labels.clone()}),
                        "inhibited" | "muted" => json!({"type": "boolean"}),
                        _ => return None,
                    })
                });
                t["required"] = json!(["name", "alert"]);
                json!({"type": "array", "items": t})
            }
            "stacks" => json!({"type": "array", "items": object(STACK_KEYS, |e| Some(match e {
                "alertmanager" => json!({"type": "string"}),
                "rules" => globs(),
                _ => return None,
            }))}),
            "operator" => {
                let mut o = object(super::OPERATOR_KEYS, |e| {
                    Some(match e {
                        "matcher_strategy" => json!({
                            "enum": crate::parse::operator_objects::StrategyKind::NAMES
                        }),
                        "alertmanager_namespace" | "base_config" => {
                            json!({"type": "string", "minLength": 1})
                        }
                        _ => return None,
                    })
                });
                // the strategy that spares the Alertmanager's namespace needs to know it
                o["if"] = json!({
                    "properties": {"matcher_strategy": {"const": "OnNamespaceExceptForAlertmanagerNamespace"}},
                    "required": ["matcher_strategy"]
                });
                o["then"] = json!({"required": ["alertmanager_namespace"]});
                o
            }
            _ => return None,
        })
    })
}

fn probe() -> Value {
    use super::{LOAD_KEYS, PROBE_KEYS, TARGET_KEYS};
    let path = json!({"type": "string", "pattern": "^/"});
    object(PROBE_KEYS, |k| {
        Some(match k {
            "targets" => {
                let mut t = object(TARGET_KEYS, |t| {
                    Some(match t {
                        "name" | "boot" => json!({"type": "string"}),
                        "url" => json!({"type": "string", "pattern": "^https?://"}),
                        "metrics_path" | "health_path" => path.clone(),
                        "ready_timeout" | "health_budget" => duration(),
                        "health_required" => strings(),
                        _ => return None,
                    })
                });
                t["required"] = json!(["name", "url"]);
                json!({"type": "array", "items": t})
            }
            "load" => object(LOAD_KEYS, |l| {
                Some(match l {
                    "requests" => json!({"type": "integer", "minimum": 1}),
                    "concurrency" => json!({"type": "integer", "minimum": 1, "maximum": 10000}),
                    "duration" => duration(),
                    "path" => path.clone(),
                    _ => return None,
                })
            }),
            _ => return None,
        })
    })
}

fn thresholds() -> Value {
    let t = object(super::THRESHOLD_KEYS, |k| {
        Some(match k {
            "name" | "alert" => json!({"type": "string"}),
            "value" => {
                json!({"type": ["string", "number"], "description": "A number with an optional unit: 500ms, 1%, 100 req/s"})
            }
            "unit" => json!({"enum": ["ms", "s", "%", "percent", "ratio", "req/s", "req/min"]}),
            "kind" => json!({"enum": ["latency", "error-rate", "throughput"]}),
            "quantile" => json!({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}),
            _ => return None,
        })
    });
    json!({"type": "array", "items": t})
}

/// The schema, as JSON.
pub fn schema() -> Value {
    let sections = super::SECTIONS;
    let mut top = object(super::TOP_KEYS, |k| {
        if let Some((_, keys)) = sections.iter().find(|(n, _)| *n == k) {
            return Some(section(keys));
        }
        Some(match k {
            "include" | "exclude" => globs(),
            "checks" => {
                let mut props = Map::new();
                for id in registry::ids() {
                    props.insert(id.to_string(), check_setting(id));
                }
                json!({"type": "object", "additionalProperties": false, "properties": props})
            }
            "alertmanager" => alertmanager(),
            "thresholds" => thresholds(),
            "probe" => probe(),
            "policies" => json!({"type": "array", "items": policy()}),
            _ => return None,
        })
    });
    let obj = top.as_object_mut().expect("an object");
    obj.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    obj.insert("$id".into(), json!(url()));
    obj.insert(
        "title".into(),
        json!("obsgate configuration (.obsgate.yml)"),
    );
    obj.insert("type".into(), json!(["object", "null"]));
    top
}

/// The schema as the committed file holds it (pretty, with a final newline).
pub fn text() -> String {
    serde_json::to_string_pretty(&schema()).expect("JSON") + "\n"
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_key_has_a_schema() {
        // `object` panics on a key without one
        let s = super::schema();
        assert_eq!(
            s["properties"].as_object().unwrap().len(),
            super::super::TOP_KEYS.len()
        );
    }
}
