//! Reporters: one file per output format, all fed the same resolved findings.

pub mod codequality;
pub mod concise;
pub mod github;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod text;

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
