//! The JSON report. Wire format (schema_version 1):
//!
//! ```text
//! {"schema_version":1,"tool":{"name":"obsgate","version":"X.Y.Z"},
//!  "findings":[{"check","severity","message","file","line","column","end_line","end_column",
//!               "help","fingerprint","context":{...}}],
//!  "summary":{"files":N,"findings":N,"by_severity":{"error":N,...},"by_check":{"<id>":N,...}}}
//! ```
//! Findings are sorted by file, line, column, check. Positions are 1-based; columns count Unicode
//! scalar values; for embedded files `file` is the outer file.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::engine::Resolved;
use crate::model::Project;

pub fn document(project: &Project, findings: &[Resolved]) -> Value {
    let mut by_severity: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_check: BTreeMap<&str, usize> = BTreeMap::new();
    for f in findings {
        *by_severity.entry(f.severity.as_str()).or_default() += 1;
        *by_check.entry(f.check).or_default() += 1;
    }
    let files = project
        .sources
        .iter()
        .filter(|s| s.origin.is_none())
        .count();
    let mut doc = json!({
        "schema_version": 1,
        "tool": {"name": "obsgate", "version": env!("CARGO_PKG_VERSION")},
        "findings": findings.iter().map(|f| json!({
            "check": f.check,
            "severity": f.severity.as_str(),
            "message": f.message,
            "file": &*f.path,
            "line": f.line,
            "column": f.column,
            "end_line": f.end_line,
            "end_column": f.end_column,
            "help": f.help,
            "fingerprint": f.fingerprint,
            "context": f.context,
        })).collect::<Vec<_>>(),
        "summary": {
            "files": files,
            "findings": findings.len(),
            "by_severity": by_severity,
            "by_check": by_check,
        }
    });
    let probe = probe_section(project);
    if !probe.is_empty() {
        doc["probe"] = Value::Array(probe);
    }
    doc
}

/// Per probed target: readiness, the scrape (families, series), health, and the load check.
fn probe_section(project: &Project) -> Vec<Value> {
    let mut out = Vec::new();
    for f in &project.files {
        let Some(r) = &f.probe else { continue };
        let expo = project.files.iter().find_map(|x| {
            x.exposition
                .as_ref()
                .filter(|(_, name)| *name == r.name)
                .map(|(e, _)| e)
        });
        let mut metrics = r.metrics.as_ref().map(|m| {
            json!({"url": m.url, "status": m.status, "content_type": m.content_type,
                   "seconds": m.seconds, "bytes": m.bytes, "truncated": m.truncated})
        });
        if let (Some(m), Some(e)) = (metrics.as_mut(), expo) {
            m["families"] = json!(e.families.len());
            m["series"] = json!(e.families.iter().map(|f| f.samples.len()).sum::<usize>());
            m["parse_errors"] = json!(e.errors.len());
        }
        out.push(json!({
            "target": r.name,
            "url": r.base,
            "ready_seconds": r.ready_seconds,
            "unreachable": r.unreachable,
            "metrics": metrics,
            "metrics_error": r.metrics_error,
            "health": r.health.as_ref().map(|h| json!({"url": h.url, "status": h.status,
                "content_type": h.content_type, "seconds": h.seconds})),
            "health_error": r.health_error,
            "load": r.load,
        }));
    }
    out
}

pub fn render(project: &Project, findings: &[Resolved]) -> String {
    let mut s = serde_json::to_string_pretty(&document(project, findings)).unwrap_or_default();
    s.push('\n');
    s
}
