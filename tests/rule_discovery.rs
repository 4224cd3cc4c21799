//! Rule files are found whatever their extension: Prometheus loads what `rule_files:` names
//! (`alert.rules`, `rules/*.conf`), and `*.rules` files found by walking count when they hold
//! rules (a udev `.rules` file does not).

mod common;

#[test]
fn rule_files_by_content_and_by_rule_files_globs() {
    let d = std::env::temp_dir().join(format!("obsgate-rule-discovery-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("rules/team")).unwrap();
    std::fs::create_dir_all(d.join("other")).unwrap();
    let alert = |name: &str| {
        format!("groups:\n- name: {name}\n  rules:\n  - alert: {name}\n    expr: up == 0\n    for: 5m\n    labels: {{severity: warning}}\n    annotations: {{summary: s, description: d, runbook_url: 'https://runbooks.internal/{name}'}}\n    annotation: {{}}\n")
    };
    std::fs::write(
        d.join("prometheus.yml"),
        "rule_files:\n  - rules/*.conf\n  - /etc/prometheus/mounted/*.yml\n",
    )
    .unwrap();
    // walked: a `.rules` file holding rules
    std::fs::write(d.join("alert.rules"), alert("ByExtension")).unwrap();
    // followed from rule_files (an extension the walk does not read)
    std::fs::write(d.join("rules/node.conf"), alert("ByGlob")).unwrap();
    // near misses: `*` does not cross `/` (Go's filepath.Glob); a udev rules file; a .conf
    // file no config loads
    std::fs::write(d.join("rules/team/deep.conf"), alert("TooDeep")).unwrap();
    std::fs::write(
        d.join("99-usb.rules"),
        "SUBSYSTEM==\"usb\", ATTR{idVendor}==\"1234\", MODE=\"0666\"\n",
    )
    .unwrap();
    std::fs::write(d.join("other/x.conf"), alert("NotLoaded")).unwrap();

    let outcome = common::run(std::slice::from_ref(&d), None);
    let out = common::concise(&outcome, Some("rules/syntax"));
    let _ = std::fs::remove_dir_all(&d);
    // the typo'd `annotation:` key is reported in every rule file Prometheus would load
    assert!(
        out.contains("alert.rules:9:5: error[rules/syntax]"),
        "{out}"
    );
    assert!(
        out.contains("rules/node.conf:9:5: error[rules/syntax]"),
        "{out}"
    );
    for absent in ["deep.conf", "99-usb.rules", "x.conf"] {
        assert!(!out.contains(absent), "{absent} audited:\n{out}");
    }
    let all = common::concise(&outcome, None);
    assert!(!all.contains("99-usb.rules"), "{all}");
}

/// A generator's input beside its output: the rule with an extension field Prometheus refuses
/// is also, unchanged, in a rule file Prometheus accepts. One level lower, pointing at the
/// output; the same field without such a copy stays an error.
#[test]
fn a_generator_input_beside_its_output_is_a_warning() {
    let d = std::env::temp_dir().join(format!("obsgate-generator-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("src")).unwrap();
    let rule = |extra: &str| {
        format!("groups:\n- name: g\n  rules:\n  - alert: BackupLate\n    expr: time() - backup_last_success_timestamp > 3600\n    for: 5m\n{extra}")
    };
    std::fs::write(
        d.join("src/backup.yml"),
        rule("    runbook:\n      steps: [check the backup logs]\n"),
    )
    .unwrap();
    std::fs::write(d.join("backup.yml"), rule("")).unwrap();
    std::fs::write(
        d.join("src/other.yml"),
        "groups:\n- name: h\n  rules:\n  - alert: Lonely\n    expr: up == 0\n    runbook:\n      steps: [x]\n",
    )
    .unwrap();
    let outcome = common::run(std::slice::from_ref(&d), None);
    let out = common::concise(&outcome, Some("rules/syntax"));
    let _ = std::fs::remove_dir_all(&d);
    assert!(
        out.contains("src/backup.yml:7:5: warning[rules/syntax] unknown field `runbook`"),
        "{out}"
    );
    assert!(out.contains("the same rule is in"), "{out}");
    assert!(
        out.contains("src/other.yml:6:5: error[rules/syntax] unknown field `runbook`"),
        "{out}"
    );
}
