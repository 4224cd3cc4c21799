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

/// Two Alertmanager configs with nothing saying which rules each serves: what rests on the
/// absence of an alert is not judged (the rules may go to the other one), structural shadowing
/// still is. A Prometheus config beside one of them, or `.obsgate.yml`'s `stacks`, makes its
/// pairing certain and its findings come back.
#[test]
fn uncertain_pairing_says_less() {
    let d = std::env::temp_dir().join(format!("obsgate-pairing-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    for sub in ["platform", "workloads", "rules"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    let am = "route:\n  receiver: default\n  group_by: [cluster]\n  routes:\n    - matchers: ['team=~\"db|web\"']\n      receiver: default\n    - matchers: ['team=\"db\"', 'env=\"prod\"']\n      receiver: default\n    - matchers: ['team=\"nobody\"']\n      receiver: default\nreceivers:\n  - name: default\n    webhook_configs: [{url: 'http://127.0.0.1:1/hook'}]\n";
    std::fs::write(d.join("platform/alertmanager.yml"), am).unwrap();
    std::fs::write(d.join("workloads/alertmanager.yml"), am).unwrap();
    std::fs::write(
        d.join("rules/alerts.yml"),
        "groups:\n- name: g\n  rules:\n  - alert: WebDown\n    expr: sum by (job) (up{job=\"web\"}) == 0\n    for: 5m\n    labels: {team: web}\n",
    )
    .unwrap();
    let checks = |cfg: Option<&str>| {
        let outcome = common::run(std::slice::from_ref(&d), cfg);
        let mut v: Vec<String> = outcome
            .findings
            .iter()
            .filter(|f| f.check.starts_with("alertmanager/"))
            .map(|f| {
                format!(
                    "{}:{} {}",
                    f.path.rsplit('/').nth(1).unwrap_or(""),
                    f.line,
                    f.check
                )
            })
            .collect();
        v.sort();
        v
    };
    // uncertain: only the structurally shadowed route, in both configs
    assert_eq!(
        checks(None),
        vec![
            "platform:7 alertmanager/unreachable-route",
            "workloads:7 alertmanager/unreachable-route",
        ]
    );
    // declared: the platform config serves the rules, so its route to nobody and its group
    // label no alert carries are reported
    let declared = "alertmanager:\n  stacks:\n    - {alertmanager: '**/platform/*.yml', rules: ['**/rules/**']}\n";
    assert_eq!(
        checks(Some(declared)),
        vec![
            "platform:3 alertmanager/unknown-group-label",
            "platform:7 alertmanager/unreachable-route",
            "platform:9 alertmanager/unreachable-route",
            "workloads:7 alertmanager/unreachable-route",
        ]
    );
    let _ = std::fs::remove_dir_all(&d);
}
