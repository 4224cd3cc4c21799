//! GitLab Code Quality report (`artifacts:reports:codequality`): a JSON array of issues with
//! `description`, `check_name`, `fingerprint` (unique per finding), `severity`
//! (info/minor/major) and `location.path` / `location.lines.begin`.

use serde_json::json;

use crate::engine::Findings;

pub fn write(w: &mut dyn std::io::Write, findings: &Findings) -> std::io::Result<()> {
    let issues = super::Streamed(|| {
        findings.iter().map(|f| {
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
    });
    serde_json::to_writer_pretty(&mut *w, &issues)?;
    w.write_all(b"\n")
}
