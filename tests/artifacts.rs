//! `--artifacts DIR`: the two analysis documents computed from the seed, valid against the
//! schemas shipped in `schemas/`, saying what the configs say (and nothing `artifacts/drift`
//! would object to when they are checked again with the configs).

mod common;

use serde_json::Value;

fn generate(name: &str, paths: &[&str]) -> (std::path::PathBuf, Value, Value) {
    let dir = std::env::temp_dir().join(format!("obsgate-art-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let outcome = common::run(
        &paths
            .iter()
            .map(|p| common::root().join(p))
            .collect::<Vec<_>>(),
        None,
    );
    obsgate::artifacts::write(&dir, &outcome.project, &[]).unwrap();
    let read = |f: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(f)).unwrap()).unwrap()
    };
    let perf = read("performance-analysis.json");
    let strat = read("alerting-strategy.json");
    (dir, perf, strat)
}

fn validate(schema_file: &str, doc: &Value) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(common::root().join("schemas").join(schema_file)).unwrap(),
    )
    .unwrap();
    let v = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{schema_file}: {errors:#?}");
}

#[test]
fn seed_artifacts_say_what_the_configs_say() {
    let (dir, perf, strat) = generate("seed", &["fixtures/seed/pipeline.gitlab-ci.yml"]);
    validate("performance-analysis.schema.json", &perf);
    validate("alerting-strategy.schema.json", &strat);
    // 9 rules, severities critical and warning only (no `info`), the real channels and timings
    let ac = &strat["alerting_configuration"];
    assert_eq!(ac["total_rules"], 9);
    assert_eq!(
        ac["severity_levels"],
        serde_json::json!(["critical", "warning"])
    );
    assert_eq!(
        ac["notification_channels"],
        serde_json::json!(["email", "pagerduty", "slack"])
    );
    // every team route is shadowed by the severity routes: no team really routes anything
    assert_eq!(ac["team_routing"], serde_json::json!([]));
    let ns = &strat["notification_strategy"];
    assert_eq!(ns["critical_alerts"]["repeat_interval"], "30m");
    assert_eq!(ns["critical_alerts"]["group_wait"], "5s");
    assert_eq!(ns["warning_alerts"]["repeat_interval"], "2h");
    assert!(ns.get("info_alerts").is_none());
    assert_eq!(
        strat["noise_reduction"]["repeat_intervals"],
        "30m critical, 2h warning"
    );
    assert_eq!(
        strat["noise_reduction"]["inhibition_rules"][0]["can_mute_an_alert_of_the_rules"],
        false
    );
    // the four declared thresholds with units, and the real expressions
    let pt = &perf["performance_thresholds"];
    assert_eq!(pt["response_time_p95"], "500ms");
    assert_eq!(pt["response_time_p99"], "1000ms");
    assert_eq!(pt["throughput"], "1000 req/s");
    assert_eq!(pt["error_rate"], "1%");
    let verdicts: Vec<(&str, &str)> = perf["threshold_details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["name"].as_str().unwrap(), d["verdict"].as_str().unwrap()))
        .collect();
    assert_eq!(
        verdicts,
        vec![
            ("RESPONSE_TIME_P95_THRESHOLD", "mismatch"),
            ("RESPONSE_TIME_P99_THRESHOLD", "unenforced"),
            ("THROUGHPUT_THRESHOLD", "mismatch"),
            ("ERROR_RATE_THRESHOLD", "enforced-by-absolute-rate"),
        ]
    );
    assert_eq!(
        perf["alerting_rules"]["high_response_time"],
        "histogram_quantile(0.95, rate(http_request_duration_seconds_bucket[5m])) > 2"
    );
    assert_eq!(
        perf["monitoring_configuration"]["metrics_endpoint"],
        "/metrics"
    );
    assert!(perf["metric_categories"]["http_metrics"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("http_requests_total")));

    // checked again together with the configs, the generated reports do not drift
    let outcome = common::run(
        &[
            common::root().join("fixtures/seed/pipeline.gitlab-ci.yml"),
            dir.join("performance-analysis.json"),
            dir.join("alerting-strategy.json"),
        ],
        None,
    );
    let drift: Vec<_> = outcome
        .findings
        .iter()
        .filter(|f| f.check == "artifacts/drift" && !f.path.contains("pipeline.gitlab-ci.yml"))
        .collect();
    assert!(drift.is_empty(), "{drift:#?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn artifacts_without_alertmanager_or_definitions_claim_nothing_about_them() {
    let (dir, perf, strat) = generate("rules", &["fixtures/alerts/missing-for/bad.yml"]);
    validate("performance-analysis.schema.json", &perf);
    validate("alerting-strategy.schema.json", &strat);
    assert!(strat["alerting_configuration"]
        .get("notification_channels")
        .is_none());
    assert_eq!(strat["notification_strategy"], serde_json::json!({}));
    assert_eq!(perf["metric_categories"], serde_json::json!({}));
    let _ = std::fs::remove_dir_all(dir);
}
