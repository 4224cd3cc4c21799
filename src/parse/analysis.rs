//! Analysis artifacts: the `performance-analysis.json` / `alerting-strategy.json` documents a
//! pipeline publishes (the seed's shape), read with positions so that what they claim can be
//! compared with the real rule files, Alertmanager configs and metric definitions.

use crate::parse::fields::SStr;
use crate::parse::yaml::{Node, Value};

/// Top-level keys that identify an analysis document.
const KEYS: &[&str] = &[
    "performance_thresholds",
    "alerting_rules",
    "metric_categories",
    "monitoring_configuration",
    "alerting_configuration",
    "alert_categories",
    "notification_strategy",
    "noise_reduction",
];

/// A claim listed under a named group (`metric_categories.http_metrics[1]`).
#[derive(Debug, Clone)]
pub struct Listed {
    pub group: String,
    pub items: Vec<SStr>,
}

#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// `performance_thresholds: {response_time_p95: "500ms"}`.
    pub thresholds: Vec<(SStr, SStr)>,
    /// `alerting_rules: {high_error_rate: "rate(...) > 0.01"}`: PromQL written into the report.
    pub exprs: Vec<(SStr, SStr)>,
    pub metric_categories: Vec<Listed>,
    /// `alerting_configuration.total_rules`.
    pub total_rules: Option<(i64, crate::source::Span)>,
    pub severity_levels: Vec<SStr>,
    pub channels: Vec<SStr>,
    pub team_routing: Vec<SStr>,
    pub alert_categories: Vec<Listed>,
    /// `notification_strategy.critical_alerts.channels`: (severity, channels).
    pub strategy: Vec<(SStr, Vec<SStr>)>,
    /// `noise_reduction.repeat_intervals: "30m critical, 2h warning"`.
    pub repeat_intervals: Option<SStr>,
    /// `noise_reduction.grouping: "by alertname, cluster"`.
    pub grouping: Option<SStr>,
}

/// Is this document an analysis artifact (by its keys, or by the seed's file names)?
pub fn detect(doc: &Node, path: &str) -> bool {
    if !doc.is_map() {
        return false;
    }
    let name = path.rsplit(['/', '\\', '#']).next().unwrap_or(path);
    let hits = doc
        .entries()
        .iter()
        .filter(|(k, _)| KEYS.contains(&k.name.as_str()))
        .count();
    hits >= 2
        || (hits >= 1 && matches!(name, "performance-analysis.json" | "alerting-strategy.json"))
}

fn sstr(n: &Node, src: &str) -> Option<SStr> {
    n.is_scalar().then(|| SStr {
        value: n.go_string(src).unwrap_or_default().into(),
        span: n.span.clone(),
    })
}

fn strings(n: &Node, src: &str) -> Vec<SStr> {
    n.items().iter().filter_map(|i| sstr(i, src)).collect()
}

fn listed(n: &Node, src: &str) -> Vec<Listed> {
    n.entries()
        .iter()
        .map(|(k, v)| Listed {
            group: k.name.clone(),
            items: strings(v, src),
        })
        .collect()
}

fn pairs(n: &Node, src: &str) -> Vec<(SStr, SStr)> {
    n.entries()
        .iter()
        .filter_map(|(k, v)| Some((SStr::from(k), sstr(v, src)?)))
        .collect()
}

pub fn parse_doc(doc: &Node, src: &str) -> Analysis {
    let mut a = Analysis::default();
    if let Some(t) = doc.get("performance_thresholds") {
        a.thresholds = pairs(t, src);
    }
    if let Some(r) = doc.get("alerting_rules") {
        a.exprs = pairs(r, src);
    }
    if let Some(m) = doc.get("metric_categories") {
        a.metric_categories = listed(m, src);
    }
    if let Some(c) = doc.get("alerting_configuration") {
        if let Some(n) = c.get("total_rules") {
            if let Value::Int(i) = n.value {
                a.total_rules = Some((i, n.span.clone()));
            }
        }
        if let Some(n) = c.get("severity_levels") {
            a.severity_levels = strings(n, src);
        }
        if let Some(n) = c.get("notification_channels") {
            a.channels = strings(n, src);
        }
        if let Some(n) = c.get("team_routing") {
            a.team_routing = strings(n, src);
        }
    }
    if let Some(m) = doc.get("alert_categories") {
        a.alert_categories = listed(m, src);
    }
    if let Some(s) = doc.get("notification_strategy") {
        for (k, v) in s.entries() {
            let sev = k
                .name
                .strip_suffix("_alerts")
                .unwrap_or(&k.name)
                .to_string();
            if let Some(ch) = v.get("channels") {
                a.strategy.push((
                    SStr {
                        value: sev.into(),
                        span: k.span.clone(),
                    },
                    strings(ch, src),
                ));
            }
        }
    }
    if let Some(n) = doc.get("noise_reduction") {
        a.repeat_intervals = n.get("repeat_intervals").and_then(|x| sstr(x, src));
        a.grouping = n.get("grouping").and_then(|x| sstr(x, src));
    }
    a
}

/// `"30m critical, 2h warning, 4h info"` -> [("30m", "critical", span-in-value), ...].
pub fn repeat_pairs(text: &str) -> Vec<(String, String, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut offset = 0;
    for part in text.split(',') {
        let lead = part.len() - part.trim_start().len();
        let words: Vec<&str> = part.split_whitespace().collect();
        if words.len() == 2 && crate::parse::scalar::parse_duration(words[0]).is_ok() {
            let start = offset + lead;
            out.push((
                words[0].to_string(),
                words[1].to_string(),
                start..start + part.trim().len(),
            ));
        }
        offset += part.len() + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeat_interval_pairs() {
        let p = repeat_pairs("30m critical, 2h warning, 4h info");
        assert_eq!(p.len(), 3);
        assert_eq!(p[2].0, "4h");
        assert_eq!(p[2].1, "info");
        assert_eq!(
            &"30m critical, 2h warning, 4h info"[p[2].2.clone()],
            "4h info"
        );
        assert!(repeat_pairs("often").is_empty());
    }
}
