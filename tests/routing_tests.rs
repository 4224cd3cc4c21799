//! Routing tests (`obsgate routes test --tests`): the report, coverage, and agreement with
//! amtool on the receivers of every test case of the fixtures.

mod common;

use std::process::Command;

fn obsgate(args: &[&str]) -> (i32, String, String) {
    common::obsgate_in(&common::root(), args)
}

const CONFIG: &str = "fixtures/routing/alertmanager.yml";
const TESTS: &str = "fixtures/routing/tests.yml";

#[test]
fn the_report_says_what_was_expected_and_what_happened() {
    let (code, out, err) = obsgate(&[
        "routes",
        "test",
        "--config",
        CONFIG,
        "--tests",
        TESTS,
        "--coverage",
    ]);
    assert_eq!(code, 1, "one test fails on purpose: {err}");
    insta::assert_snapshot!(out);
    let (code, out, _) = obsgate(&[
        "routes", "test", "--config", CONFIG, "--tests", TESTS, "--format", "json",
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["failed"], 1);
    assert_eq!(v["coverage"]["routes_percent"], 100.0);
    assert_eq!(
        v["coverage"]["inhibit_rules_not_exercised"],
        serde_json::json!([2])
    );
}

#[test]
fn fail_under_and_strict_test_files() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("routing-tests");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let one = dir.join("one.yml");
    std::fs::write(
        &one,
        "tests:\n  - name: watchdog\n    alert: {alertname: Watchdog}\n    receivers: [deadmans-switch]\n",
    )
    .unwrap();
    let cfg = common::root().join(CONFIG);
    let run = |file: &std::path::Path, extra: &[&str]| {
        let mut args = vec![
            "routes".to_string(),
            "test".into(),
            "--config".into(),
            cfg.display().to_string(),
            "--tests".into(),
            file.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        obsgate(&refs)
    };
    assert_eq!(run(&one, &[]).0, 0);
    let (code, out, _) = run(&one, &["--fail-under", "50"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("routes exercised: 20.0%"), "{out}");
    assert!(
        out.contains("coverage 20.0% is under --fail-under 50%"),
        "{out}"
    );
    let bad = dir.join("bad.yml");
    std::fs::write(
        &bad,
        "tests:\n  - name: x\n    alert: {alertname: A}\n    receiver: [a]\n",
    )
    .unwrap();
    let (code, _, err) = run(&bad, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown field `receiver`"), "{err}");
    std::fs::write(&bad, "tests:\n  - name: x\n    alert: {alertname: A}\n").unwrap();
    let (code, _, err) = run(&bad, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("test `x` expects nothing"), "{err}");
}

/// Every test case's receivers as obsgate routes them equal amtool's
/// (`amtool config routes test`), whatever the test expects.
#[test]
fn receivers_agree_with_amtool() {
    if !common::amtool() {
        return;
    }
    let text = std::fs::read_to_string(common::root().join(TESTS)).unwrap();
    let tests = obsgate::routetest::parse(&text).unwrap();
    let cfg = common::root().join(CONFIG);
    let project = obsgate::engine::load(
        std::slice::from_ref(&cfg),
        &common::root(),
        &obsgate::source::discover::Filter::default(),
    )
    .unwrap();
    let am = project.alertmanager_configs().next().unwrap();
    let loaded = obsgate::routes::Loaded::of(&project, am).unwrap();
    let mut compared = 0;
    for t in &tests {
        let labels: Vec<String> = t
            .alert
            .iter()
            .map(|(k, v)| format!("{k}={}", v.text()))
            .collect();
        let out = Command::new("amtool")
            .args(["config", "routes", "test", "--config.file"])
            .arg(&cfg)
            .args(&labels)
            .output()
            .unwrap();
        let amtool = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let hits = obsgate::model::routing::route_concrete(
            &loaded.tree,
            &t.alert.iter().map(|(k, v)| (k.clone(), v.text())).collect(),
        );
        let ours: Vec<String> = hits
            .iter()
            .map(|&k| loaded.effective[k].receiver.clone().unwrap_or_default())
            .collect();
        assert_eq!(ours.join(","), amtool, "test `{}`", t.name);
        compared += 1;
    }
    assert_eq!(compared, tests.len());
}
