//! The analysis artifacts (`--artifacts DIR`): `performance-analysis.json` and
//! `alerting-strategy.json` with the key structure of the example pipeline's hand-written
//! reports (so their consumers keep working), but every value computed from the configs of the
//! run: nothing is claimed that no file says. Keys whose value the run cannot know are left
//! out rather than guessed. Both carry `schema_version`, `generated_by` and `inputs`; their JSON
//! Schemas are `schemas/performance-analysis.schema.json` and
//! `schemas/alerting-strategy.schema.json`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use crate::model::routing::{self, LabelValue};
use crate::model::thresholds::{self, Kind};
use crate::model::{FileKind, Project};
use crate::parse::prom_rules::RuleKind;
use crate::parse::scalar::format_duration;

pub const SCHEMA_VERSION: u64 = 1;

fn header(project: &Project) -> (Value, Value) {
    let inputs: Vec<Value> = project
        .files
        .iter()
        .filter(|f| project.sources.get(f.file).origin.is_none())
        .filter(|f| !matches!(f.kind, FileKind::Unknown | FileKind::Unreadable))
        .map(|f| json!({"path": project.sources.get(f.file).path, "kind": f.kind.as_str()}))
        .collect();
    (
        json!({"name": "obsgate", "version": env!("CARGO_PKG_VERSION")}),
        Value::Array(inputs),
    )
}

fn snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_alphanumeric() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1);
            let boundary = c.is_ascii_uppercase()
                && prev.is_some_and(|p| {
                    p.is_ascii_lowercase()
                        || p.is_ascii_digit()
                        || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase()))
                });
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_string()
}

use crate::model::thresholds::num;

/// `500ms`, `1%`, `1000 req/s`: the seed's way of writing a threshold.
fn written(d: &thresholds::Declared) -> String {
    format!("{}{}", num(d.value), d.unit.symbol())
}

fn threshold_key(kind: Kind) -> String {
    match kind {
        Kind::Latency(Some(q)) => format!("response_time_p{}", thresholds::quantile_label(q)),
        Kind::Latency(None) => "response_time".into(),
        Kind::ErrorRate => "error_rate".into(),
        Kind::Throughput => "throughput".into(),
    }
}

/// `performance-analysis.json`.
pub fn performance_analysis(project: &Project) -> Value {
    let (generated_by, inputs) = header(project);
    let mut doc = Map::new();
    doc.insert("schema_version".into(), json!(SCHEMA_VERSION));
    doc.insert("generated_by".into(), generated_by);
    doc.insert("inputs".into(), inputs);

    // monitoring configuration: what CI variables and the Prometheus config say
    let mut mc = Map::new();
    for f in &project.files {
        let Some(ci) = &f.ci else { continue };
        for v in &ci.vars {
            let Some(value) = &v.value else { continue };
            let n = v.name.value.to_ascii_uppercase();
            if value.value.contains('$') {
                continue;
            }
            if n.contains("METRICS") && (n.ends_with("ENDPOINT") || n.ends_with("PATH")) {
                mc.entry("metrics_endpoint")
                    .or_insert_with(|| json!(value.value));
            } else if n.contains("HEALTH") && (n.ends_with("ENDPOINT") || n.ends_with("PATH")) {
                mc.entry("health_endpoint")
                    .or_insert_with(|| json!(value.value));
            }
        }
    }
    let intervals: BTreeSet<String> = project
        .files
        .iter()
        .flat_map(|f| f.scrape_intervals.iter().map(|d| format_duration(*d)))
        .collect();
    if !intervals.is_empty() {
        mc.insert(
            "collection_interval".into(),
            json!(intervals.into_iter().collect::<Vec<_>>().join(", ")),
        );
    }
    doc.insert("monitoring_configuration".into(), Value::Object(mc));

    // metric categories: from the definitions (and the client libraries' default metrics)
    let defs = crate::model::inventory::definitions(project);
    let mut http = BTreeSet::new();
    let mut business = BTreeSet::new();
    for d in &defs {
        if d.def.name.starts_with("http_") || d.def.name.contains("_http_") {
            http.insert(d.def.name.clone());
        } else {
            business.insert(d.def.name.clone());
        }
    }
    let system: BTreeSet<String> = crate::model::inventory::default_series(project)
        .into_iter()
        .filter(|n| !n.ends_with("_bucket") && !n.ends_with("_sum") && !n.ends_with("_count"))
        .collect();
    let mut cats = Map::new();
    if !system.is_empty() {
        cats.insert("system_metrics".into(), json!(system));
    }
    if !http.is_empty() {
        cats.insert("http_metrics".into(), json!(http));
    }
    if !business.is_empty() {
        cats.insert("business_metrics".into(), json!(business));
    }
    doc.insert("metric_categories".into(), Value::Object(cats));

    // declared thresholds with units, and what enforces them
    let declared = thresholds::declared(project);
    let enf = thresholds::enforcements(project);
    let mut pt = Map::new();
    let mut details = Vec::new();
    for d in &declared {
        pt.entry(threshold_key(d.kind))
            .or_insert_with(|| json!(written(d)));
        let (cands, how) = thresholds::candidates(d, &enf);
        let mut item = json!({
            "name": d.name,
            "source": d.origin.describe(),
            "file": project.sources.get(crate::checks::thresholds::outer(project, d.file)).path,
            "kind": threshold_key(d.kind),
            "value": d.value,
            "unit": d.unit.symbol().trim(),
            "base_value": d.base(),
        });
        let verdict = if cands.is_empty() {
            "unenforced"
        } else if d.kind == Kind::ErrorRate && !cands.iter().any(|e| e.ratio) {
            "enforced-by-absolute-rate"
        } else if cands.iter().any(|e| thresholds::same(d.base(), e.value)) {
            "enforced"
        } else {
            "mismatch"
        };
        if let Some(e) = cands.first() {
            item["alert"] = json!(e.rule.rule.name.value);
            item["enforced_base_value"] = json!(e.value);
            item["matched"] = json!(match how {
                thresholds::How::Explicit => "explicit",
                thresholds::How::Meaning => "meaning",
            });
        }
        item["verdict"] = json!(verdict);
        details.push(item);
    }
    doc.insert("performance_thresholds".into(), Value::Object(pt));
    doc.insert("threshold_details".into(), Value::Array(details));

    // the real alert expressions (first definition of each alert name)
    let mut rules = Map::new();
    for r in project.alerts() {
        let Some(e) = &r.rule.expr else { continue };
        rules
            .entry(snake(&r.rule.name.value))
            .or_insert_with(|| json!(e.text().trim()));
    }
    doc.insert("alerting_rules".into(), Value::Object(rules));
    redacted(project, Value::Object(doc))
}

/// An artifact with every secret in it redacted (alert expressions and names, matchers,
/// receivers are copied from the configs).
fn redacted(project: &Project, mut doc: Value) -> Value {
    project.redactor().redact_json(&mut doc);
    doc
}

/// `alerting-strategy.json`.
pub fn alerting_strategy(project: &Project, extra: &[crate::config::ExtraAlert]) -> Value {
    let (generated_by, inputs) = header(project);
    let mut doc = Map::new();
    doc.insert("schema_version".into(), json!(SCHEMA_VERSION));
    doc.insert("generated_by".into(), generated_by);
    doc.insert("inputs".into(), inputs);

    let rule_names: BTreeSet<(bool, String)> = project
        .rules()
        .map(|r| {
            (
                r.rule.kind == RuleKind::Alert,
                r.rule.name.value.to_string(),
            )
        })
        .collect();
    let mut severities: Vec<String> = Vec::new();
    let mut categories: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in project.alerts() {
        let label = |k: &str| {
            r.rule
                .labels
                .iter()
                .find(|p| p.key.value == k)
                .map(|p| p.value.value.to_string())
        };
        if let Some(s) = label("severity") {
            if !severities.contains(&s) && !s.contains("{{") {
                severities.push(s);
            }
        }
        let cat = match label("team").filter(|t| !t.contains("{{")) {
            Some(t) => format!("{t}_alerts"),
            None => format!("{}_alerts", snake(&r.group.name.value)),
        };
        categories
            .entry(cat)
            .or_default()
            .insert(r.rule.name.value.to_string());
    }
    let rank = |s: &str| match s {
        "critical" | "page" => 0,
        "error" => 1,
        "warning" => 2,
        "info" => 3,
        _ => 4,
    };
    severities.sort_by_key(|s| (rank(s), s.clone()));

    let mut ac = Map::new();
    ac.insert("total_rules".into(), json!(rule_names.len()));
    ac.insert(
        "alerting_rules".into(),
        json!(rule_names.iter().filter(|(a, _)| *a).count()),
    );
    ac.insert(
        "recording_rules".into(),
        json!(rule_names.iter().filter(|(a, _)| !*a).count()),
    );
    ac.insert("severity_levels".into(), json!(severities));

    let am = project
        .alertmanager_configs()
        .find(|c| c.config.route.is_some());
    let universe = routing::universe_with(project, extra);
    let mut strategy = Map::new();
    let mut noise = Map::new();
    if let Some(am) = am {
        let kinds: BTreeSet<&str> = am
            .config
            .receivers
            .iter()
            .flat_map(|r| r.integrations.iter().map(|i| i.kind))
            .collect();
        ac.insert("notification_channels".into(), json!(kinds));
        let tree = project.route_tree(&am).expect("filtered on route");
        let eff = routing::effective(tree);
        let nodes = tree.preorder();
        let reaches: Vec<routing::Reach> =
            universe.iter().map(|a| routing::reach(tree, a)).collect();
        // teams whose route some alert ends at
        let ends: std::collections::HashSet<usize> = reaches
            .iter()
            .flat_map(|r| r.terminal_routes().map(|(i, _)| i))
            .collect();
        let mut teams = BTreeSet::new();
        for (i, n) in nodes.iter().enumerate() {
            for m in &n.matchers {
                if m.name == "team" && matches!(m.op, routing::MatchOp::Eq) && ends.contains(&i) {
                    teams.insert(m.value.clone());
                }
            }
        }
        ac.insert("team_routing".into(), json!(teams));
        // per severity: where its alerts end, with the timings in effect there
        for sev in &severities {
            let mut channels = BTreeSet::new();
            let mut receivers = BTreeSet::new();
            let mut timing: [BTreeSet<String>; 3] = Default::default();
            for (a, r) in universe.iter().zip(&reaches) {
                if !matches!(a.value("severity"), LabelValue::Known(ref s) if s == sev) {
                    continue;
                }
                for (i, _) in r.terminal_routes() {
                    for (k, t) in timing.iter_mut().enumerate() {
                        t.insert(format_duration(eff[i].timings[k]));
                    }
                    if let Some(name) = &eff[i].receiver {
                        receivers.insert(name.clone());
                        if let Some(rc) = am.config.receiver(name) {
                            channels.extend(rc.integrations.iter().map(|x| x.kind));
                        }
                    }
                }
            }
            let join = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
            strategy.insert(
                format!("{sev}_alerts"),
                json!({
                    "channels": channels,
                    "receivers": receivers,
                    "group_wait": join(&timing[0]),
                    "group_interval": join(&timing[1]),
                    "repeat_interval": join(&timing[2]),
                }),
            );
        }
        if let Some(by) = eff.first().and_then(|e| e.group_by.clone()) {
            noise.insert("grouping".into(), json!(format!("by {}", by.join(", "))));
        }
        let inhibitions: Vec<Value> = am
            .config
            .inhibit_rules
            .iter()
            .map(|ir| {
                let inh = routing::inhibit_of(ir);
                let show = |ms: &[routing::LabelMatcher]| {
                    ms.iter()
                        .map(|m| m.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let fires = routing::inhibition_witness(&inh, &universe).is_some();
                json!({
                    "source": show(&inh.source),
                    "target": show(&inh.target),
                    "equal": inh.equal,
                    "can_mute_an_alert_of_the_rules": fires,
                })
            })
            .collect();
        noise.insert("inhibition_rules".into(), Value::Array(inhibitions));
        let repeat: Vec<String> = strategy
            .iter()
            .filter_map(|(k, v)| {
                let r = v["repeat_interval"].as_str()?;
                (!r.is_empty() && !r.contains(','))
                    .then(|| format!("{r} {}", k.trim_end_matches("_alerts")))
            })
            .collect();
        noise.insert("repeat_intervals".into(), json!(repeat.join(", ")));
    }
    doc.insert("alerting_configuration".into(), Value::Object(ac));
    doc.insert(
        "alert_categories".into(),
        json!(categories
            .into_iter()
            .map(|(k, v)| (k, v.into_iter().collect::<Vec<_>>()))
            .collect::<BTreeMap<_, _>>()),
    );
    doc.insert("notification_strategy".into(), Value::Object(strategy));
    doc.insert("noise_reduction".into(), Value::Object(noise));
    redacted(project, Value::Object(doc))
}

/// Write both artifacts into `dir` (created if needed).
pub fn write(
    dir: &std::path::Path,
    project: &Project,
    extra: &[crate::config::ExtraAlert],
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let pretty = |v: &Value| {
        let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
        s.push('\n');
        s
    };
    // each whole or not at all, and the second even when the first cannot be written
    let first = crate::atomic::write(
        &dir.join("performance-analysis.json"),
        pretty(&performance_analysis(project)),
    );
    let second = crate::atomic::write(
        &dir.join("alerting-strategy.json"),
        pretty(&alerting_strategy(project, extra)),
    );
    first.and(second)
}

#[cfg(test)]
mod tests {
    #[test]
    fn snake_case() {
        assert_eq!(super::snake("HighErrorRate"), "high_error_rate");
        assert_eq!(super::snake("HighCPUUsage"), "high_cpu_usage");
        assert_eq!(super::snake("application.rules"), "application_rules");
    }
}
