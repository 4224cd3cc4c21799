//! The checks that run as each file is parsed (`Check::at_load`) give the same findings when
//! they run file by file after loading instead (`engine::load` + `engine::run_checks`, the path
//! of a project loaded without checks), over the fixtures and the shared seed and corpus.

mod common;

use std::path::PathBuf;

use obsgate::config::Config;
use obsgate::engine::{self, CheckOptions};
use obsgate::source::discover::Filter;

fn both_ways(path: PathBuf) -> obsgate::engine::Findings {
    let config = Config::default();
    let opts = CheckOptions {
        paths: vec![path.clone()],
        base: common::root(),
        config: config.clone(),
        only: None,
    };
    let at_load = engine::check(&opts).expect("check run").findings;
    let project = engine::load(
        std::slice::from_ref(&path),
        &common::root(),
        &Filter::default(),
    )
    .expect("load");
    let later = engine::run_checks(&project, &config, None);
    assert!(
        !at_load.is_empty(),
        "{}: no findings to compare",
        path.display()
    );
    assert_eq!(at_load.len(), later.len(), "{}", path.display());
    for (a, b) in at_load.iter().zip(&later) {
        assert_eq!(a, b, "{}", path.display());
    }
    at_load
}

#[test]
fn fixtures_give_the_same_findings_checked_at_load_or_after() {
    let findings = both_ways(common::root().join("fixtures"));
    // every check that runs at load is compared on findings of its own
    for r in obsgate::checks::registry::REGISTRY {
        if r.check.at_load() {
            assert!(
                findings.iter().any(|f| f.check == r.check.id()),
                "no `{}` finding in the fixtures",
                r.check.id()
            );
        }
    }
}

#[test]
fn seed_and_corpus_give_the_same_findings_checked_at_load_or_after() {
    let Some(shared) = common::shared() else {
        eprintln!("SKIP: ../shared not found beside the repository");
        return;
    };
    both_ways(shared.join("seed"));
    both_ways(shared.join("corpus"));
}
