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
    json!({
        "schema_version": 1,
        "tool": {"name": "obsgate", "version": env!("CARGO_PKG_VERSION")},
        "findings": findings.iter().map(|f| json!({
            "check": f.check,
            "severity": f.severity.as_str(),
            "message": f.message,
            "file": f.path,
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
    })
}

pub fn render(project: &Project, findings: &[Resolved]) -> String {
    let mut s = serde_json::to_string_pretty(&document(project, findings)).unwrap_or_default();
    s.push('\n');
    s
}
