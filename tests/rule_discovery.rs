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
