//! Alertmanager checks over the alerts of the rule files: a clean config is silent; alerts
//! declared in `.obsgate.yml` (`alertmanager.extra_alerts`) join the universe.

mod common;

#[test]
fn a_clean_config_and_rules_produce_no_findings() {
    let outcome = common::run(&[common::root().join("tests/data/clean")], None);
    assert!(
        outcome.findings.is_empty(),
        "{}",
        common::concise(&outcome, None)
    );
}

#[test]
fn extra_alerts_make_routes_reachable() {
    let seed = common::root().join("fixtures/seed");
    let paths = [
        seed.join("alerting-rules.yml"),
        seed.join("alertmanager-config.yml"),
    ];
    let unreachable = |cfg: Option<&str>| {
        let outcome = common::run(&paths, cfg);
        let mut routes: Vec<String> = outcome
            .findings
            .iter()
            .filter(|f| f.check == "alertmanager/unreachable-route")
            .map(|f| f.context["route"].as_str().unwrap_or("").to_string())
            .collect();
        routes.sort();
        routes
    };
    assert_eq!(
        unreachable(None),
        vec![
            "team=\"backend\"",
            "team=\"business\"",
            "team=\"database\"",
            "team=\"infrastructure\""
        ]
    );
    let cfg = "alertmanager:\n  extra_alerts:\n    - alertname: DeployFailed\n      labels: {team: backend, severity: info}\n";
    assert_eq!(
        unreachable(Some(cfg)),
        vec![
            "team=\"business\"",
            "team=\"database\"",
            "team=\"infrastructure\""
        ]
    );
}
