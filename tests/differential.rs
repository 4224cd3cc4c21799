//! Differential test against `promtool check rules`: obsgate's parser must agree with promtool on
//! whether each rule file of `../shared/corpus` is valid. Every disagreement must be listed in
//! `KNOWN_DIFFERENCES` with its reason (the Debian promtool is 2.42; obsgate follows Prometheus 3).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use obsgate::model::FileKind;

/// Files where obsgate (current Prometheus) and promtool 2.42 legitimately disagree.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "prometheus/model/rulefmt/testdata/legacy_validation_annotation.bad.yaml",
        "annotation name `ins-tance`: invalid only under the legacy (Prometheus 2) name validation; \
         Prometheus 3 validates names as UTF-8 by default (upstream tests this file with the legacy scheme set)",
    ),
    (
        "prometheus/model/rulefmt/testdata/utf-8_annotation.good.yaml",
        "UTF-8 annotation name: valid in Prometheus 3, rejected by promtool 2.42",
    ),
    (
        "prometheus/model/rulefmt/testdata/utf-8_lname.good.yaml",
        "UTF-8 label name: valid in Prometheus 3, rejected by promtool 2.42",
    ),
];

const PARSE_CHECKS: &[&str] = &["rules/syntax", "rules/promql-syntax", "alerts/template"];

fn promtool() -> Option<PathBuf> {
    let out = Command::new("promtool").arg("--version").output().ok()?;
    out.status.success().then(|| PathBuf::from("promtool"))
}

/// A PrometheusRule's `spec:` block as a plain rule file (promtool cannot read the CRD).
fn crd_to_plain(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut in_spec = false;
    for line in text.lines() {
        if line.starts_with("spec:") {
            in_spec = true;
            continue;
        }
        if in_spec {
            if !line.is_empty() && !line.starts_with(' ') {
                break;
            }
            out.push_str(line.strip_prefix("  ").unwrap_or(line));
            out.push('\n');
        }
    }
    (!out.is_empty()).then_some(out)
}

fn promtool_valid(tool: &Path, file: &Path) -> bool {
    let out = Command::new(tool)
        .args(["check", "rules"])
        .arg(file)
        .output()
        .expect("run promtool");
    out.status.success()
}

#[test]
fn agrees_with_promtool_on_corpus() {
    let Some(shared) = common::shared() else {
        eprintln!("SKIP: ../shared/corpus not found beside the repository");
        return;
    };
    let Some(tool) = promtool() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("promtool is not installed; .ci/run must install Debian's `prometheus` package");
        }
        eprintln!("SKIP: promtool not found on PATH (apt-get install prometheus)");
        return;
    };
    let outcome = common::run(&[shared.join("corpus")], None);
    let tmp = std::env::temp_dir().join(format!("obsgate-diff-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut total = 0;
    let mut differences = Vec::new();
    for fm in &outcome.project.files {
        let src = outcome.project.sources.get(fm.file);
        let rules_like = match fm.kind {
            FileKind::PrometheusRules | FileKind::PrometheusRuleCrd => true,
            FileKind::Unreadable => fm.issues.iter().any(|i| i.check == "rules/syntax"),
            _ => false,
        };
        // Loki's and vmalert's rule files are loaded by Loki and vmalert, not Prometheus:
        // promtool reads their LogQL/Graphite as PromQL and refuses them
        let foreign = obsgate::model::rules_of(std::slice::from_ref(fm))
            .any(|r| r.rule.expr.as_ref().is_some_and(|e| e.dialect().is_some()));
        if !rules_like || foreign {
            continue;
        }
        let target = if fm.kind == FileKind::PrometheusRuleCrd {
            let Some(plain) = crd_to_plain(&src.text) else {
                continue;
            };
            let p = tmp.join(format!("{}.yml", fm.file.0));
            std::fs::write(&p, plain).unwrap();
            p
        } else {
            src.fs_path.clone()
        };
        total += 1;
        let ours = !fm
            .issues
            .iter()
            .any(|i| PARSE_CHECKS.contains(&i.check) && !i.downgrade);
        let theirs = promtool_valid(&tool, &target);
        if ours != theirs {
            let rel = src
                .path
                .split("corpus/")
                .nth(1)
                .unwrap_or(&src.path)
                .to_string();
            differences.push((rel, ours, theirs, fm.issues.clone()));
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    let unexplained: Vec<_> = differences
        .iter()
        .filter(|(p, ..)| !KNOWN_DIFFERENCES.iter().any(|(k, _)| k == p))
        .collect();
    let agreement = 1.0 - differences.len() as f64 / total.max(1) as f64;
    eprintln!(
        "promtool agreement: {}/{} files ({:.1}%)",
        total - differences.len(),
        total,
        agreement * 100.0
    );
    for (p, ours, theirs, issues) in &differences {
        eprintln!(
            "  {p}: obsgate valid={ours}, promtool valid={theirs}; {:?}",
            issues.iter().map(|i| &i.message).collect::<Vec<_>>()
        );
    }
    assert!(total > 100, "too few rule files compared: {total}");
    assert!(
        unexplained.is_empty(),
        "unexplained differences: {unexplained:#?}"
    );
    assert!(agreement >= 0.97, "agreement {agreement}");
    // every listed difference still exists (the list must not rot)
    for (k, why) in KNOWN_DIFFERENCES {
        assert!(
            differences.iter().any(|(p, ..)| p == k),
            "known difference no longer observed: {k} ({why})"
        );
    }
}

/// The per-check fixtures: bad fixtures of the parse checks are rejected by promtool too, and
/// every good fixture that is a rule file loads in promtool (except the version differences listed).
#[test]
fn agrees_with_promtool_on_fixtures() {
    let Some(tool) = promtool() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("promtool is not installed; .ci/run must install Debian's `prometheus` package");
        }
        eprintln!("SKIP: promtool not found on PATH (apt-get install prometheus)");
        return;
    };
    // good fixtures promtool 2.42 rejects, and why
    let newer: &[(&str, &str)] = &[(
        "rules/syntax/good.yml",
        "uses `query_offset` (Prometheus 2.53), Thanos `partial_response_strategy` and a UTF-8 annotation name",
    )];
    let root = common::root().join("fixtures");
    for check in obsgate::checks::registry::ids() {
        let dir = root.join(check);
        if let Some(bad) = common::fixture_file(&dir, "bad") {
            if PARSE_CHECKS.contains(&check) && check != "alerts/template" {
                assert!(
                    !promtool_valid(&tool, &bad),
                    "promtool accepts {}",
                    bad.display()
                );
            }
        }
        if let Some(good) = common::fixture_file(&dir, "good") {
            let outcome = common::run(std::slice::from_ref(&good), None);
            let is_rules = outcome
                .project
                .files
                .iter()
                .any(|f| f.kind == FileKind::PrometheusRules);
            // cross-file fixtures that start with a CI document: promtool reads only that one
            let ci_first = outcome.project.files.iter().any(|f| f.ci.is_some());
            if !is_rules || ci_first {
                continue;
            }
            let rel = format!("{check}/good.yml");
            let expected = !newer.iter().any(|(p, _)| *p == rel);
            assert_eq!(promtool_valid(&tool, &good), expected, "promtool on {rel}");
        }
    }
    // the template fixture mixes parse errors (promtool rejects) with empty-label warnings
    assert!(!promtool_valid(
        &tool,
        &root.join("alerts/template/bad.yml")
    ));
}
