//! The example pipeline alone (`fixtures/seed/pipeline.gitlab-ci.yml`, a copy of
//! `../shared/seed/extracted/pipeline.gitlab-ci.yml`): the embedded files are found, not given,
//! and every problem is reported at its line in the pipeline file.

mod common;

use std::collections::BTreeSet;

fn seed(name: &str) -> std::path::PathBuf {
    common::root().join("fixtures/seed").join(name)
}

fn at(outcome: &obsgate::engine::Outcome, check: &str) -> Vec<u32> {
    outcome
        .findings
        .iter()
        .filter(|f| f.check == check)
        .map(|f| f.line)
        .collect()
}

#[test]
fn pipeline_alone_shows_every_problem_at_its_line() {
    let outcome = common::run(&[seed("pipeline.gitlab-ci.yml")], None);
    let report = common::concise(&outcome, None);
    // every finding is in the pipeline file itself
    assert!(
        outcome
            .findings
            .iter()
            .all(|f| &*f.path == "fixtures/seed/pipeline.gitlab-ci.yml"),
        "{report}"
    );
    // the nine `- echo "...: ..."` items YAML reads as mappings
    assert_eq!(
        at(&outcome, "pipeline/syntax"),
        vec![22, 23, 25, 26, 27, 28, 355, 356, 357],
        "{report}"
    );
    // `sleep 10` after `node performance-monitor.js &`
    assert_eq!(at(&outcome, "pipeline/sleep-wait"), vec![253], "{report}");
    // curl -s | head/jq/grep, and in test-alerts.sh: the amtool and promtool skipping
    // branches, the wrong `amtool config check`, and `promtool check rules` whose status the
    // script ignores
    assert_eq!(
        at(&outcome, "pipeline/check-cannot-fail"),
        vec![259, 263, 267, 623, 624, 631, 632],
        "{report}"
    );
    let msg = |check: &str, line: u32| -> String {
        outcome
            .findings
            .iter()
            .find(|f| f.check == check && f.line == line)
            .map(|f| f.message.to_string())
            .unwrap_or_default()
    };
    assert!(msg("pipeline/check-cannot-fail", 259).contains("`head`"));
    assert!(msg("pipeline/check-cannot-fail", 623).contains("`amtool` is not installed"));
    assert!(msg("pipeline/check-cannot-fail", 624).contains("`amtool config check`"));
    // thresholds: P95 500 ms vs `> 2` s and 1000 req/s vs `< 10`; 1% vs an absolute rate;
    // the P99 threshold nothing enforces; 2 s between the buckets 1 and 3
    assert_eq!(
        at(&outcome, "thresholds/mismatch"),
        vec![15, 17],
        "{report}"
    );
    assert!(msg("thresholds/mismatch", 15).contains("500 ms"));
    assert!(msg("thresholds/mismatch", 15).contains("> 2 s"));
    assert!(msg("thresholds/mismatch", 17).contains("< 10 req/s"));
    assert_eq!(
        at(&outcome, "thresholds/ratio-vs-rate"),
        vec![372],
        "{report}"
    );
    assert!(msg("thresholds/ratio-vs-rate", 372).contains("ERROR_RATE_THRESHOLD"));
    assert_eq!(at(&outcome, "thresholds/unenforced"), vec![16], "{report}");
    assert!(msg("thresholds/unenforced", 16).contains("RESPONSE_TIME_P99_THRESHOLD"));
    assert_eq!(
        at(&outcome, "thresholds/bucket-boundary"),
        vec![385],
        "{report}"
    );
    assert!(msg("thresholds/bucket-boundary", 385).contains("between the buckets 1 and 3"));
    // the hand-written analysis JSON: the `{quantile="0.95"}` on a histogram, and drift
    assert_eq!(
        at(&outcome, "promql/summary-label-on-histogram"),
        vec![307],
        "{report}"
    );
    assert!(at(&outcome, "artifacts/drift").contains(&657), "{report}");
    assert!(msg("artifacts/drift", 657).contains("severity `info`"));
    assert!(msg("artifacts/drift", 698).contains("4h repeat interval for `info`"));
}

/// The line where the body of `cat > NAME << 'EOF'` starts in the pipeline file (1-based).
fn body_start(pipeline: &str, name: &str) -> usize {
    pipeline
        .lines()
        .position(|l| l.contains(&format!("cat > {name} <<")))
        .map(|i| i + 2)
        .expect("heredoc")
}

#[test]
fn embedded_files_get_the_findings_of_the_extracted_files() {
    let pipeline_text = std::fs::read_to_string(seed("pipeline.gitlab-ci.yml")).unwrap();
    let embedded = common::run(&[seed("pipeline.gitlab-ci.yml")], None);
    // the extracted rule file and Alertmanager config, audited together (as in the pipeline)
    let extracted = common::run(
        &[seed("alerting-rules.yml"), seed("alertmanager-config.yml")],
        None,
    );
    let have: BTreeSet<(String, u32, u32)> = embedded
        .findings
        .iter()
        .map(|f| (f.check.to_string(), f.line, f.column))
        .collect();
    let mut missing = Vec::new();
    for f in &extracted.findings {
        let name = f.path.rsplit('/').next().unwrap();
        // heredoc bodies are indented by 6 columns in the pipeline
        let want = (
            f.check.to_string(),
            f.line + body_start(&pipeline_text, name) as u32 - 1,
            f.column + 6,
        );
        if !have.contains(&want) {
            missing.push(format!(
                "{}:{}:{} {} -> {want:?}",
                name, f.line, f.column, f.check
            ));
        }
    }
    // (29 since the per-series quantile of `HighResponseTime` is no longer reported)
    assert!(
        extracted.findings.len() >= 29,
        "{}",
        extracted.findings.len()
    );
    assert!(
        missing.is_empty(),
        "not found in the pipeline: {missing:#?}"
    );
}
