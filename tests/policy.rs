//! Team policies (`.obsgate.yml` `policies:`): findings `policy/<name>`, config validation,
//! `obsgate explain policy/<name>`.

mod common;

use std::process::Command;

fn config() -> String {
    std::fs::read_to_string(common::root().join("fixtures/policy/obsgate.yml")).unwrap()
}

fn policy_findings(file: &str) -> String {
    let outcome = common::run(
        &[common::root().join("fixtures/policy").join(file)],
        Some(&config()),
    );
    common::concise(&outcome, None)
        .lines()
        .filter(|l| l.contains("[policy/"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn bad_rules_break_the_policies_at_the_offending_node() {
    insta::assert_snapshot!(policy_findings("bad.yml"));
}

#[test]
fn good_rules_and_near_misses_break_none() {
    assert_eq!(policy_findings("good.yml"), "");
}

#[test]
fn config_problems_are_all_reported() {
    let text = r#"policies:
  - name: Team Label
    require_labels: {team: x}
  - name: nothing
    match: {kind: alerts}
  - name: bad-regex
    require_labels: {team: "(unclosed"}
    forbid_expr: "[1m"
    colour: red
  - name: bad-for
    for: {min: 1x, most: 1h}
  - name: bad-for
    forbid_labels: [instance]
"#;
    let problems = obsgate::config::Config::parse(text).unwrap_err();
    let msgs: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
    insta::assert_snapshot!(msgs.join("\n"));
}

#[test]
fn explain_shows_the_policy() {
    let out = Command::new(env!("CARGO_BIN_EXE_obsgate"))
        .args(["explain", "policy/team-label", "--config"])
        .arg(common::root().join("fixtures/policy/obsgate.yml"))
        .output()
        .unwrap();
    assert!(out.status.success());
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
    let out = Command::new(env!("CARGO_BIN_EXE_obsgate"))
        .args(["explain", "policy/nope", "--config"])
        .arg(common::root().join("fixtures/policy/obsgate.yml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("policies: policy/team-label, policy/no-instance-label, policy/record-naming"),
        "{err}"
    );
}
