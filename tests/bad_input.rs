//! Bad input: malformed YAML, wrong types, binary and non-UTF-8 files. Each gives a finding that
//! names the file and position; the other files are still checked; nothing panics.

mod common;

use std::path::PathBuf;

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("obsgate-bad-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn every_bad_file_is_reported_and_the_rest_still_checked() {
    let d = tmpdir("mix");
    std::fs::write(d.join("binary.yml"), b"groups:\0\x01\x02").unwrap();
    std::fs::write(d.join("latin1.yaml"), b"groups:\n- name: caf\xe9\n").unwrap();
    std::fs::write(
        d.join("broken-rules.yml"),
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: [up\n",
    )
    .unwrap();
    std::fs::write(
        d.join("types.yml"),
        "groups:\n- name: g\n  rules:\n  - alert: {a: b}\n    expr: up == 0\n    for: 5m\n",
    )
    .unwrap();
    std::fs::write(
        d.join("helm-template.yaml"),
        "metadata:\n  name: {{ .Release.Name }}\n  x: [\n",
    )
    .unwrap();
    std::fs::write(d.join("empty.yml"), "").unwrap();
    std::fs::write(d.join("deep.yml"), "a: ".to_string() + &"[".repeat(5000)).unwrap();
    std::fs::write(
        d.join("good.yml"),
        "groups:\n- name: g\n  rules:\n  - alert: B\n    expr: up == 0\n    annotations: {summary: s}\n",
    )
    .unwrap();
    let outcome = common::run(std::slice::from_ref(&d), None);
    let out = common::concise(&outcome, None);
    let has = |file: &str, check: &str| {
        outcome
            .findings
            .iter()
            .any(|f| f.path.ends_with(file) && f.check == check && f.line >= 1 && f.column >= 1)
    };
    assert!(has("binary.yml", "obsgate/unreadable-file"), "{out}");
    assert!(has("latin1.yaml", "obsgate/unreadable-file"), "{out}");
    assert!(has("broken-rules.yml", "rules/syntax"), "{out}");
    assert!(has("types.yml", "rules/syntax"), "{out}");
    assert!(
        has("helm-template.yaml", "obsgate/unreadable-file"),
        "{out}"
    );
    assert!(has("deep.yml", "obsgate/unreadable-file"), "{out}");
    // the good file is still checked
    assert!(has("good.yml", "alerts/missing-for"), "{out}");
    // binary files found by walking are reported one level lower than files named explicitly
    let bin = outcome
        .findings
        .iter()
        .find(|f| f.path.ends_with("binary.yml"))
        .unwrap();
    assert_eq!(bin.severity, obsgate::checks::Severity::Info);
    let explicit = common::run(&[d.join("binary.yml")], None);
    assert_eq!(
        explicit.findings[0].severity,
        obsgate::checks::Severity::Warning
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_missing_path_is_a_run_error() {
    let env = obsgate::Env {
        stdout_is_tty: false,
        no_color: true,
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = obsgate::run(
        ["obsgate", "check", "/nonexistent/obsgate/path"].map(Into::into),
        env,
        &mut out,
        &mut err,
    );
    assert_eq!(code, 2);
    assert!(String::from_utf8_lossy(&err).contains("/nonexistent/obsgate/path"));
}
