//! Robustness over real public configs (`../shared/corpus`): no panic, no run error, and a
//! per-check count of findings for review. Skips (with a printed reason) when the corpus is absent.

mod common;

use std::collections::BTreeMap;

#[test]
fn corpus_runs_clean() {
    let Some(shared) = common::shared() else {
        eprintln!("SKIP: ../shared/corpus not found beside the repository");
        return;
    };
    let corpus = shared.join("corpus");
    let outcome = common::run(&[corpus], None);
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &outcome.findings {
        *counts.entry(f.check).or_default() += 1;
    }
    eprintln!(
        "corpus: {} files, findings per check: {counts:#?}",
        outcome.project.sources.len()
    );
    assert!(outcome.project.sources.len() > 200);
    // kube-prometheus is carefully written: no error-severity findings except missing runbooks
    // (which it has) and no parse problems at all
    let kp: Vec<_> = outcome
        .findings
        .iter()
        .filter(|f| {
            f.path.contains("kube-prometheus/manifests")
                && f.severity == obsgate::checks::Severity::Error
        })
        .collect();
    assert!(kp.is_empty(), "{kp:#?}");
}
