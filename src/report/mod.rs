//! Reporters: one file per output format, all fed the same resolved findings.

pub mod codequality;
pub mod concise;
pub mod github;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod text;

use crate::engine::Resolved;
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

pub fn render(format: Format, project: &Project, findings: &[Resolved], style: Style) -> String {
    match format {
        Format::Text => text::render(project, findings, style),
        Format::Concise => concise::render(findings),
        Format::Json => json::render(project, findings),
        Format::Sarif => sarif::render(project, findings),
        Format::Codequality => codequality::render(findings),
        Format::Junit => junit::render(project, findings),
        Format::Github => github::render(findings),
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
