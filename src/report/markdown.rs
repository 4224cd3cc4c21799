//! A Markdown summary (the GitHub job summary, `$GITHUB_STEP_SUMMARY`; a merge request note):
//! the counts by severity and the first findings, each linked to its check's documentation.

use std::fmt::Write as _;

use crate::checks::Severity;
use crate::engine::Findings;
use crate::model::Project;

/// How many findings the summary lists; the rest are counted.
pub const FIRST: usize = 20;

/// `s` safe in a table cell: no line breaks, no cell separator, no HTML.
fn cell(s: &str) -> String {
    super::escape(s)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
}

pub fn write(
    w: &mut dyn std::io::Write,
    project: &Project,
    findings: &Findings,
) -> std::io::Result<()> {
    let files = project
        .sources
        .iter()
        .filter(|s| s.origin.is_none())
        .count();
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let (e, wa, i) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    );
    let mut s = String::new();
    let files_s = if files == 1 { "file" } else { "files" };
    if findings.is_empty() {
        let _ = writeln!(s, "### obsgate: no findings in {files} {files_s}");
        return w.write_all(s.as_bytes());
    }
    let _ = writeln!(
        s,
        "### obsgate: {} in {files} {files_s}\n",
        [(e, "error"), (wa, "warning"), (i, "info")]
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!(
                "{n} {what}{}",
                if *n > 1 && *what != "info" { "s" } else { "" }
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    s.push_str("| severity | findings |\n|---|---:|\n");
    for (n, what) in [(e, "error"), (wa, "warning"), (i, "info")] {
        let _ = writeln!(s, "| {what} | {n} |");
    }
    let shown = findings.len().min(FIRST);
    let _ = writeln!(
        s,
        "\n{} findings{}:\n",
        if shown == findings.len() {
            "The"
        } else {
            "The first"
        },
        if shown == findings.len() {
            String::new()
        } else {
            format!(" ({shown} of {})", findings.len())
        }
    );
    s.push_str("| severity | location | check | message |\n|---|---|---|---|\n");
    // the most severe first, in the order of the report within a severity
    let mut order: Vec<_> = findings.iter().collect();
    order.sort_by_key(|f| std::cmp::Reverse(f.severity));
    for f in order.into_iter().take(FIRST) {
        let check = match crate::checks::docs_url(f.check) {
            Some(url) => format!("[`{}`]({url})", f.check),
            None => format!("`{}`", f.check),
        };
        let _ = writeln!(
            s,
            "| {} | `{}:{}:{}` | {check} | {} |",
            f.severity.as_str(),
            cell(&f.path).replace('`', "'"),
            f.line,
            f.column,
            cell(&f.message.text())
        );
    }
    w.write_all(s.as_bytes())
}
