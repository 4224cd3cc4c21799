//! GitLab Code Quality report (`artifacts:reports:codequality`): a JSON array of issues with
//! `description`, `check_name`, `fingerprint` (unique per finding), `severity`
//! (info/minor/major), `location.path` / `location.lines.begin`, and `content.body` (markdown:
//! the help and a link to the check's documentation).

use serde_json::json;

use crate::engine::Findings;

pub fn write(w: &mut dyn std::io::Write, findings: &Findings) -> std::io::Result<()> {
    let issues = super::Streamed(|| {
        findings.iter().map(|f| {
            let mut issue = json!({
                "type": "issue",
                "description": format!("{}: {}", f.check, f.message),
                "check_name": f.check,
                "categories": ["Bug Risk"],
                "fingerprint": f.fingerprint,
                "severity": super::levels(f.severity).2,
                "location": {"path": &*f.path, "lines": {"begin": f.line, "end": f.end_line}},
            });
            // the issue's body (markdown, shown by GitLab with the issue): the fix and a link
            // to the check's documentation; policies have no page of obsgate's
            let help = f.help.as_ref().map(|h| h.text().into_owned());
            let link = crate::checks::docs_url(f.check).map(|u| format!("See [{}]({u}).", f.check));
            let body: Vec<String> = help.into_iter().chain(link).collect();
            if !body.is_empty() {
                issue["content"] = json!({"body": body.join("\n\n")});
            }
            issue
        })
    });
    serde_json::to_writer_pretty(&mut *w, &issues)?;
    w.write_all(b"\n")
}
