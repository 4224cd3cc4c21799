//! Reporters: one file per output format, all fed the same resolved findings.

pub mod concise;
pub mod json;
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
    }
}
