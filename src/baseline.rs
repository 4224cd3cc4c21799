//! Baselines: the fingerprints of accepted findings (`--write-baseline FILE`), so that a run with
//! `--baseline FILE` reports and fails only on new ones. Fingerprints do not depend on line
//! numbers and never contain secret values (see `engine::finish`).
//!
//! File format (schema_version 1): `{"schema_version":1,"tool":"obsgate",
//! "findings":[{"fingerprint","check","file"}]}`, sorted; `check` and `file` are there for
//! humans reviewing the baseline, only the fingerprint is matched.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::json;

use crate::engine::Findings;

pub fn write(findings: &Findings) -> String {
    let mut entries: Vec<(&str, &str, String)> = findings
        .iter()
        .map(|f| (&*f.path, f.check, f.fingerprint.to_string()))
        .collect();
    entries.sort();
    entries.dedup();
    let doc = json!({
        "schema_version": 1,
        "tool": "obsgate",
        "findings": entries
            .iter()
            .map(|(file, check, fp)| json!({"fingerprint": fp, "check": check, "file": file}))
            .collect::<Vec<_>>(),
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

pub fn read(path: &Path) -> Result<BTreeSet<String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read baseline {}: {e}", path.display()))?;
    let doc: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a baseline file: {e}", path.display()))?;
    if doc.get("schema_version").and_then(|v| v.as_i64()) != Some(1) {
        return Err(format!(
            "{}: not an obsgate baseline (schema_version 1 expected)",
            path.display()
        ));
    }
    let items = doc
        .get("findings")
        .and_then(|f| f.as_array())
        .ok_or_else(|| format!("{}: `findings` must be a list", path.display()))?;
    Ok(items
        .iter()
        .filter_map(|i| i.get("fingerprint")?.as_str().map(str::to_string))
        .collect())
}
