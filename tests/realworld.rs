//! obsgate on real repositories (`../shared/corpus/realworld`, read in place: the files keep
//! their upstream licences and are not copied here). Each repository folder is checked as
//! `obsgate check .` run inside it. No panic, and every error-level finding is one listed, with
//! the reason it is real, in a reviewed expectation file (`tests/data/realworld/*-errors.tsv`:
//! `repository/path:line<TAB>check<TAB>why`). A new error fails the test until it is reviewed
//! and listed; a listed one that disappears fails it too.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use obsgate::checks::Severity;
use obsgate::config::Config;
use obsgate::engine::{self, CheckOptions};

/// `repository/path:line check` of every error-level finding, repository by repository.
fn errors(kind_dir: &Path) -> BTreeSet<(String, String)> {
    let mut repos: Vec<_> = std::fs::read_dir(kind_dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    repos.sort();
    let mut out = BTreeSet::new();
    for repo in repos {
        let name = repo.file_name().unwrap().to_string_lossy().to_string();
        let config = std::fs::read_to_string(repo.join(".obsgate.yml"))
            .ok()
            .and_then(|t| Config::parse(&t).ok())
            .unwrap_or_default();
        let outcome = engine::check(&CheckOptions {
            paths: vec![repo.clone()],
            base: repo.clone(),
            config,
            only: None,
        })
        .unwrap_or_else(|e| panic!("{name}: run error {e:?}"));
        for f in outcome
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
        {
            out.insert((format!("{name}/{}:{}", f.path, f.line), f.check.to_string()));
        }
    }
    out
}

fn expected(file: &str) -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(common::root().join("tests/data/realworld").join(file))
        .unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert!(
                cols.len() == 3 && !cols[2].trim().is_empty(),
                "{file}: every line is `path:line<TAB>check<TAB>why`: {l}"
            );
            (cols[0].to_string(), cols[1].to_string())
        })
        .collect()
}

fn compare(kind: &str) {
    let Some(shared) = common::shared() else {
        eprintln!("SKIP: ../shared not found beside the repository");
        return;
    };
    let dir = shared.join("corpus/realworld").join(kind);
    if !dir.is_dir() {
        eprintln!("SKIP: {} not found", dir.display());
        return;
    }
    let file = format!("{kind}-errors.tsv");
    let found = errors(&dir);
    let listed = expected(&file);
    let new: Vec<_> = found.difference(&listed).collect();
    let gone: Vec<_> = listed.difference(&found).collect();
    assert!(
        new.is_empty() && gone.is_empty(),
        "error-level findings differ from tests/data/realworld/{file}\nnot reviewed (new): {new:#?}\nlisted but not found: {gone:#?}"
    );
}

/// GitLab CI and GitHub workflows: only what GitLab/GitHub really reject.
#[test]
fn realworld_ci_errors_are_reviewed() {
    compare("ci");
}

/// Rule files and Alertmanager configs: only what Prometheus/Alertmanager refuse or what breaks
/// alerting (a route nothing reaches, a quantile over nothing, a critical alert without a
/// runbook).
#[test]
fn realworld_rules_errors_are_reviewed() {
    compare("rules");
}
