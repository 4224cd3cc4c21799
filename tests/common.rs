//! Shared test helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use obsgate::config::Config;
use obsgate::engine::{self, CheckOptions, Outcome};
use obsgate::report::{self, Format, Style};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run all checks on `paths` with an optional `.obsgate.yml` text.
pub fn run(paths: &[PathBuf], config: Option<&str>) -> Outcome {
    let config = match config {
        Some(text) => Config::parse(text).unwrap_or_else(|e| panic!("bad test config: {e:?}")),
        None => Config::default(),
    };
    let opts = CheckOptions {
        paths: paths.to_vec(),
        base: root(),
        config,
        only: None,
    };
    engine::check(&opts).expect("check run")
}

/// Render the findings of one check (or all) in a format, without colour.
pub fn render(format: Format, outcome: &Outcome, only: Option<&str>) -> String {
    let mut findings = outcome.findings.clone();
    findings.retain(|f| only.is_none_or(|id| f.check == id));
    report::render(
        format,
        &outcome.project,
        &findings,
        Style {
            color: false,
            width: 100,
        },
    )
}

pub fn concise(outcome: &Outcome, only: Option<&str>) -> String {
    render(Format::Concise, outcome, only)
}

pub fn text(outcome: &Outcome, only: Option<&str>) -> String {
    render(Format::Text, outcome, only)
}

/// The `bad.*`/`good.*` file of a fixture directory.
pub fn fixture_file(dir: &Path, stem: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|s| s.to_str())
                .is_some_and(|n| n.starts_with(&format!("{stem}.")))
        })
}

/// `../shared` beside the repository, if present.
pub fn shared() -> Option<PathBuf> {
    let p = root().join("../shared");
    p.is_dir().then_some(p)
}
