//! Reporters: one file per output format, all fed the same resolved findings.

pub mod codequality;
pub mod concise;
pub mod github;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod text;

use std::borrow::Cow;
use std::io::{self, Write};

use crate::engine::Findings;
use crate::model::Project;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Graphical diagnostics with the source excerpt (default on a terminal).
    Text,
    /// `path:line:col: severity[check] message` (default otherwise).
    Concise,
    /// Machine-readable JSON (schema_version 1).
    Json,
    /// SARIF 2.1.0 (GitHub code scanning, IDEs).
    Sarif,
    /// GitLab Code Quality report (`artifacts:reports:codequality`).
    Codequality,
    /// JUnit XML (`artifacts:reports:junit`, most CI test views).
    Junit,
    /// GitHub Actions workflow commands (`::error file=...::`), shown as annotations.
    Github,
    /// Markdown summary: counts by severity and the first findings (`$GITHUB_STEP_SUMMARY`).
    Markdown,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        <Format as clap::ValueEnum>::from_str(s, true)
    }
}

/// Rendering settings.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

/// Write the report to `w` as it is produced: a large run's report (tens of MB of SARIF) is
/// never held in memory whole. `w` should be buffered.
pub fn write(
    format: Format,
    w: &mut dyn Write,
    project: &Project,
    findings: &Findings,
    style: Style,
) -> io::Result<()> {
    match format {
        Format::Text => text::write(w, project, findings, style),
        Format::Concise => concise::write(w, findings),
        Format::Json => json::write(w, project, findings),
        Format::Sarif => sarif::write(w, project, findings),
        Format::Codequality => codequality::write(w, findings),
        Format::Junit => junit::write(w, project, findings),
        Format::Github => github::write(w, findings),
        Format::Markdown => markdown::write(w, project, findings),
    }
}

/// The report as a string (tests; the CLI streams it with [`write`]).
pub fn render(format: Format, project: &Project, findings: &Findings, style: Style) -> String {
    let mut buf = Vec::new();
    // a Vec takes every write, and the reporters' data always serializes
    let _ = write(format, &mut buf, project, findings, style);
    String::from_utf8(buf).unwrap_or_default()
}

/// A sequence serialized from an iterator as it goes (the findings of a JSON report), so the
/// serialized items are never all in memory at once.
pub(crate) struct Streamed<F>(pub F);

impl<F, I> serde::Serialize for Streamed<F>
where
    F: Fn() -> I,
    I: Iterator,
    I::Item: serde::Serialize,
{
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((self.0)())
    }
}

/// The one severity map of every machine format (STYLE.md): SARIF level, GitHub command,
/// GitLab Code Quality severity.
pub fn levels(s: crate::checks::Severity) -> (&'static str, &'static str, &'static str) {
    use crate::checks::Severity;
    match s {
        Severity::Info => ("note", "notice", "info"),
        Severity::Warning => ("warning", "warning", "minor"),
        Severity::Error => ("error", "error", "major"),
    }
}

/// Whether the text formats escape `c` where it comes from the user (alert names, label values,
/// messages, file paths): C0 and C1 controls and DEL (a newline would start a line that a CI
/// runner reads as a command, `::error ...` or `::add-mask::...`; ESC starts terminal
/// sequences), the line and paragraph separators, and the Unicode bidirectional controls (which
/// reorder what a reader sees).
pub fn is_escaped(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// Writes the escape of `c` (`\n`, `\r`, `\t`, else `\u{1b}`, as Rust writes them).
fn push_escape(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c => {
            use std::fmt::Write as _;
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

fn escape_but(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(|c| is_escaped(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_escaped(c) && !keep(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `s` on one line with no control characters: every character [`is_escaped`] written as its
/// escape. What the concise and text formats print of user-supplied text.
pub fn escape(s: &str) -> Cow<'_, str> {
    escape_but(s, |_| false)
}

/// [`escape`], but line breaks kept: for a help text of several lines, which the text format
/// indents (so that no line of it starts at the margin).
pub fn escape_but_newlines(s: &str) -> Cow<'_, str> {
    escape_but(s, |c| c == '\n')
}

/// `line` with a guard when, without its leading blanks, it would start with `::`: the GitHub
/// Actions runner takes such a line (leading blanks trimmed) for a workflow command. A file
/// named `::error ...` or a help text wrapped before a `::` in it could start one. The guard is
/// a `\` before the `::`.
pub fn guard_line(line: &str) -> Cow<'_, str> {
    let blanks = line.len() - line.trim_start().len();
    if line[blanks..].starts_with("::") {
        Cow::Owned(format!("{}\\{}", &line[..blanks], &line[blanks..]))
    } else {
        Cow::Borrowed(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(escape("plain `x` \\n é"), "plain `x` \\n é");
        assert_eq!(
            escape("a\nb\rc\td\u{1b}]8;;x\u{7}\u{7f}\u{85}\u{202e}\u{2066}\u{2028}"),
            "a\\nb\\rc\\td\\u{1b}]8;;x\\u{7}\\u{7f}\\u{85}\\u{202e}\\u{2066}\\u{2028}"
        );
        assert_eq!(escape_but_newlines("a\nb\r\u{1b}"), "a\nb\\r\\u{1b}");
        assert!(matches!(escape("no escapes"), Cow::Borrowed(_)));
    }

    #[test]
    fn guards() {
        assert_eq!(guard_line("::error::x"), "\\::error::x");
        assert_eq!(guard_line("   ::add-mask::x"), "   \\::add-mask::x");
        assert_eq!(guard_line(" a ::error::x"), " a ::error::x");
        assert_eq!(guard_line(""), "");
    }
}
