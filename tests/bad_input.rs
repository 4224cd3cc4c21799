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
    std::fs::write(
        d.join("helm-rules.yaml"),
        "kind: PrometheusRule\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  groups: [\n",
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
    // a Helm template is not what gets loaded: a template of rules says so once (an info, never
    // a syntax error), a template of anything else is not obsgate's to judge
    assert!(!out.contains("helm-template.yaml"), "{out}");
    assert!(has("helm-rules.yaml", "obsgate/templated-file"), "{out}");
    assert!(!out.contains("helm-rules.yaml:5"), "{out}");
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
        width: None,
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

/// Alertmanager configs mutated line by line (values replaced by other YAML types, broken
/// templates, matchers and regexes, truncations), plain and inside a Kubernetes Secret: every
/// mutation is parsed and checked without a panic.
#[test]
fn mutated_alertmanager_configs_never_panic() {
    let mut seeds: Vec<String> = Vec::new();
    for dir in [
        "syntax",
        "template",
        "timing",
        "deprecated-matcher",
        "unused-receiver",
    ] {
        for f in ["bad.yml", "good.yml"] {
            let p = common::root()
                .join("fixtures/alertmanager")
                .join(dir)
                .join(f);
            seeds.push(std::fs::read_to_string(p).unwrap());
        }
    }
    seeds.push(
        std::fs::read_to_string(common::root().join("fixtures/seed/alertmanager-config.yml"))
            .unwrap(),
    );
    let replacements = [
        "[]",
        "{}",
        "null",
        "'{{ .Foo | bar'",
        "\"{{ range .Alerts }}{{ .Labels.x }}\"",
        "['a=~\"(\"', '{x', 'é=\\\"']",
        "\"\\u00e9\\t\"",
        "- 1\n- [2",
        "0s",
        "-5m",
    ];
    let d = tmpdir("am-mutations");
    let mut n = 0;
    for (si, seed) in seeds.iter().enumerate() {
        let lines: Vec<&str> = seed.lines().collect();
        for (li, line) in lines.iter().enumerate() {
            let Some(colon) = line.find(": ") else {
                continue;
            };
            let repl = replacements[(li + si) % replacements.len()];
            let mut out = lines.clone();
            let mutated = format!("{}: {repl}", &line[..colon]);
            out[li] = &mutated;
            let text = out.join("\n");
            std::fs::write(d.join(format!("m{n}.yml")), &text).unwrap();
            // the same inside a Kubernetes Secret
            let indented: String = text.lines().map(|l| format!("    {l}\n")).collect();
            std::fs::write(
                d.join(format!("s{n}.yaml")),
                format!("kind: Secret\nstringData:\n  alertmanager.yaml: |\n{indented}"),
            )
            .unwrap();
            n += 1;
        }
        for cut in (0..seed.len()).step_by(97) {
            if seed.is_char_boundary(cut) {
                std::fs::write(d.join(format!("t{n}.yml")), &seed[..cut]).unwrap();
                n += 1;
            }
        }
    }
    assert!(n > 200, "{n}");
    let outcome = common::run(std::slice::from_ref(&d), None);
    assert!(outcome
        .findings
        .iter()
        .any(|f| f.check == "alertmanager/syntax"));
    let _ = std::fs::remove_dir_all(&d);
}
