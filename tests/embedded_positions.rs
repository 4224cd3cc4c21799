//! Findings in embedded files (a heredoc of a `.gitlab-ci.yml`, a Secret's or a ConfigMap's
//! data) are shown at the outer file's positions, and so are the other locations their messages
//! name ("the sibling route on line N", "already defined at line N").

mod common;

const CHECKS: &[&str] = &[
    "alertmanager/unreachable-route",
    "rules/conflicting-record",
    "rules/duplicate",
];

fn check(name: &str) -> String {
    let outcome = common::run(
        &[common::root().join("tests/data/embedded").join(name)],
        None,
    );
    let mut lines = Vec::new();
    let line_re = regex::Regex::new(r"line (\d+)").unwrap();
    for f in &outcome.findings {
        if !CHECKS.contains(&f.check) {
            continue;
        }
        // the line a message names is the line of the other location it marks, in the outer
        // file, as the finding's own line is
        let named: u32 = line_re
            .captures(&f.message.to_string())
            .and_then(|c| c[1].parse().ok())
            .expect("a message naming a line");
        let other = f.labels.first().expect("the other location");
        let (outer, span) = outcome.project.sources.resolve(other.file, &other.span);
        let (line, _) = outcome.project.sources.get(outer).line_col(span.start);
        assert_eq!(named as usize, line, "{}", f.message);
        assert!(named < f.line, "{}", f.message);
    }
    for f in common::concise(&outcome, None).lines() {
        if CHECKS.iter().any(|c| f.contains(&format!("[{c}]"))) {
            lines.push(f.to_string());
        }
    }
    assert_eq!(lines.len(), 3, "{lines:#?}");
    lines.join("\n")
}

#[test]
fn heredoc_in_a_gitlab_ci_file() {
    insta::assert_snapshot!("embedded_heredoc", check(".gitlab-ci.yml"));
}

#[test]
fn secret_and_configmap() {
    insta::assert_snapshot!("embedded_secret", check("secret.yaml"));
}

/// An Alertmanager config kept in Helm values (kube-prometheus-stack's `alertmanager.config`):
/// audited as a Secret's is, at the values file's positions.
#[test]
fn alertmanager_config_in_helm_values() {
    let outcome = common::run(
        &[common::root().join("tests/data/embedded/values.yaml")],
        None,
    );
    let concise = common::concise(&outcome, None);
    // the placeholder once (not also as a secret-named key of the values), at its value
    assert_eq!(concise.matches("slack_api_url").count(), 1, "{concise}");
    assert!(concise.contains("values.yaml:12:22: warning[secrets/placeholder]"));
    assert!(concise.contains("values.yaml:20:11: error[alertmanager/unreachable-route]"));
    assert!(concise.contains("sibling route on line 17"));
    insta::assert_snapshot!("embedded_helm_values", concise);
}
