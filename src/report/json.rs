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

use crate::engine::{Findings, Resolved};
use crate::model::Project;

/// The document with an empty `findings` array, which [`write`] fills as it goes.
fn skeleton(project: &Project, findings: &Findings) -> serde_json::Map<String, Value> {
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
    let mut doc = serde_json::Map::new();
    doc.insert("schema_version".into(), json!(1));
    doc.insert(
        "tool".into(),
        json!({"name": "obsgate", "version": env!("CARGO_PKG_VERSION")}),
    );
    doc.insert("findings".into(), json!([]));
    doc.insert(
        "summary".into(),
        json!({
            "files": files,
            "findings": findings.len(),
            "by_severity": by_severity,
            "by_check": by_check,
        }),
    );
    let probe = probe_section(project);
    if !probe.is_empty() {
        doc.insert("probe".into(), Value::Array(probe));
    }
    doc
}

fn finding(f: &Resolved) -> Value {
    let mut v = json!({
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
    });
    // the docs page of the check; none for the policies of a team's config
    if let Some(url) = crate::checks::docs_url(f.check) {
        v["url"] = Value::String(url);
    }
    v
}

/// The skeleton's top-level map with the findings streamed in place of its empty array (the
/// keys in the map's own, sorted order, as a `Value` writes them).
struct Streaming<'a> {
    skeleton: &'a serde_json::Map<String, Value>,
    findings: &'a Findings,
}

impl serde::Serialize for Streaming<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.skeleton.len()))?;
        for (k, v) in self.skeleton {
            if k == "findings" {
                m.serialize_entry(k, &super::Streamed(|| self.findings.iter().map(finding)))?;
            } else {
                m.serialize_entry(k, v)?;
            }
        }
        m.end()
    }
}

/// Per probed target: readiness, the scrape (families, series), health, and the load check.
fn probe_section(project: &Project) -> Vec<Value> {
    let mut out = Vec::new();
    for f in &project.files {
        let Some(r) = &f.probe else { continue };
        let expo = project.files.iter().find_map(|x| {
            x.exposition
                .as_ref()
                .filter(|(_, of)| of.target() == Some(r.name.as_str()))
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

pub fn write(
    w: &mut dyn std::io::Write,
    project: &Project,
    findings: &Findings,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(
        &mut *w,
        &Streaming {
            skeleton: &skeleton(project, findings),
            findings,
        },
    )?;
    w.write_all(b"\n")
}
