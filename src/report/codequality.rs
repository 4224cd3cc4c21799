//! GitLab Code Quality report (`artifacts:reports:codequality`): a JSON array of issues with
//! `description`, `check_name`, `fingerprint` (unique per finding), `severity`
//! (info/minor/major) and `location.path` / `location.lines.begin`.

use serde_json::json;

use crate::engine::Resolved;

pub fn render(findings: &[Resolved]) -> String {
    let issues: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            json!({
                "type": "issue",
                "description": format!("{}: {}", f.check, f.message),
                "check_name": f.check,
                "categories": ["Bug Risk"],
                "fingerprint": f.fingerprint,
                "severity": super::levels(f.severity).2,
                "location": {"path": &*f.path, "lines": {"begin": f.line, "end": f.end_line}},
            })
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&issues).unwrap_or_else(|_| "[]".into());
    s.push('\n');
    s
}
