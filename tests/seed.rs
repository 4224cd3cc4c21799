//! The example pipeline the project started from (`fixtures/seed`, copied from `../shared/seed`).

mod common;

use std::collections::BTreeSet;

#[test]
fn seed_alerting_rules() {
    let file = common::root().join("fixtures/seed/alerting-rules.yml");
    let outcome = common::run(&[file], None);
    let alerts_with = |check: &str| -> BTreeSet<String> {
        outcome
            .findings
            .iter()
            .filter(|f| f.check == check)
            .map(|f| {
                f.context
                    .get("alert")
                    .or(f.context.get("rule"))
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    };
    let runbook: BTreeSet<String> = [
        "LowThroughput",
        "HighCPUUsage",
        "HighMemoryUsage",
        "DiskSpaceLow",
        "LowCacheHitRate",
        "DatabaseConnectionsHigh",
        "RevenueDropDetected",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(alerts_with("alerts/missing-runbook"), runbook);
    assert_eq!(
        outcome
            .findings
            .iter()
            .filter(|f| f.check == "alerts/missing-runbook")
            .count(),
        7
    );
    // each at its own rule: distinct lines
    let lines: BTreeSet<u32> = outcome
        .findings
        .iter()
        .filter(|f| f.check == "alerts/missing-runbook")
        .map(|f| f.line)
        .collect();
    assert_eq!(lines.len(), 7);
    // an error only where the alert pages (`severity: critical`); the five `warning` alerts page
    // nobody, so their missing runbook is a warning
    let errors: BTreeSet<String> = outcome
        .findings
        .iter()
        .filter(|f| {
            f.check == "alerts/missing-runbook" && f.severity == obsgate::checks::Severity::Error
        })
        .filter_map(|f| f.context.get("alert").and_then(|v| v.as_str()))
        .map(String::from)
        .collect();
    assert_eq!(
        errors,
        BTreeSet::from([
            "DiskSpaceLow".to_string(),
            "RevenueDropDetected".to_string()
        ])
    );
    // `HighResponseTime` takes the quantile per series, without any aggregation: valid PromQL,
    // often deliberate (per instance), so an info; only an aggregation dropping `le` is an error
    assert_eq!(
        alerts_with("promql/histogram-quantile"),
        BTreeSet::from(["HighResponseTime".to_string()])
    );
    assert!(outcome
        .findings
        .iter()
        .filter(|f| f.check == "promql/histogram-quantile")
        .all(|f| f.severity == obsgate::checks::Severity::Info));
    assert!(outcome
        .findings
        .iter()
        .all(|f| f.check != "alerts/invalid-runbook"));
    // at least one error, so `check` exits 1
    assert!(outcome
        .findings
        .iter()
        .any(|f| f.severity == obsgate::checks::Severity::Error));
    insta::assert_snapshot!("seed_alerting_rules", common::concise(&outcome, None));
}

#[test]
fn seed_directory() {
    let outcome = common::run(&[common::root().join("fixtures/seed")], None);
    // no parse noise about any file (the JSON artifacts are analysis artifacts, not unreadable)
    assert!(
        outcome
            .findings
            .iter()
            .all(|f| f.check != "obsgate/unreadable-file"),
        "{}",
        common::concise(&outcome, None)
    );
    // the Alertmanager config: `subject`/`body` are not email_configs fields (amtool agrees),
    // and the PagerDuty routing key is a template reading a field that does not exist
    let am = |check: &str| -> Vec<(u32, u32)> {
        outcome
            .findings
            .iter()
            .filter(|f| f.path.ends_with("alertmanager-config.yml") && f.check == check)
            .map(|f| (f.line, f.column))
            .collect()
    };
    assert_eq!(
        am("alertmanager/syntax"),
        vec![(84, 5), (85, 5), (104, 5), (132, 5)]
    );
    assert_eq!(am("alertmanager/template"), vec![(93, 22)]);
    let pd = outcome
        .findings
        .iter()
        .find(|f| f.check == "alertmanager/template")
        .unwrap();
    assert!(
        pd.message.contains(".PAGERDUTY_INTEGRATION_KEY"),
        "{}",
        pd.message
    );
}
