//! `obsgate fix`: the edits, amtool's judgement of the result, routing equivalence (every alert
//! of the rule file reaches the same receivers with the same grouping, timings and inhibition
//! before and after), idempotence, and embedded configs fixed in place or skipped with a note.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::obsgate_in as obsgate;

/// A scratch directory holding copies of `files` (from fixtures/fix unless a path is given).
fn scratch(name: &str, files: &[&str]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("fix-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for f in files {
        let from = if f.contains('/') {
            common::root().join(f)
        } else {
            common::root().join("fixtures/fix").join(f)
        };
        std::fs::copy(&from, dir.join(from.file_name().unwrap())).unwrap();
    }
    dir
}

fn amtool_accepts(file: &Path) -> Option<bool> {
    let out = Command::new("amtool")
        .arg("check-config")
        .arg(file)
        .output();
    match out {
        Ok(o) => Some(o.status.success()),
        Err(_) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("amtool is not installed; .ci/run must install Debian's `prometheus-alertmanager` package")
        }
        Err(_) => {
            eprintln!("SKIP amtool check: amtool not found on PATH (apt-get install prometheus-alertmanager)");
            None
        }
    }
}

#[test]
fn deprecated_matchers_and_useless_continues_are_fixed_in_place() {
    let dir = scratch("plain", &["alertmanager.yml", "rules.yml"]);
    let (code, diff, notes) = obsgate(&dir, &["fix", "--diff", "alertmanager.yml"]);
    assert_eq!(code, 1, "--diff exits 1 when there is something to fix");
    insta::assert_snapshot!("plain_diff", format!("{diff}\n--- stderr\n{notes}"));
    // --diff writes nothing
    let before = std::fs::read_to_string(dir.join("alertmanager.yml")).unwrap();
    assert_eq!(
        before,
        std::fs::read_to_string(common::root().join("fixtures/fix/alertmanager.yml")).unwrap()
    );

    let routes = |d: &Path| {
        let (code, out, err) = obsgate(
            d,
            &[
                "routes",
                "test",
                "--config",
                "alertmanager.yml",
                "--rules",
                "rules.yml",
                "--all",
            ],
        );
        assert_eq!(code, 0, "{err}");
        out
    };
    let routed_before = routes(&dir);
    assert!(routed_before.contains("PaymentsDown"), "{routed_before}");

    let (code, _, notes) = obsgate(&dir, &["fix", "alertmanager.yml"]);
    assert_eq!(code, 0, "{notes}");
    assert!(
        notes.ends_with("obsgate fix: 9 fixes in 1 files\n"),
        "{notes}"
    );
    let fixed = std::fs::read_to_string(dir.join("alertmanager.yml")).unwrap();
    // the edit is the diff shown, and nothing else changed
    assert_eq!(
        similar_lines(&before, &fixed),
        diff.lines()
            .filter(|l| l.starts_with(['+', '-']) && !l.starts_with("+++") && !l.starts_with("---"))
            .count()
    );
    if let Some(ok) = amtool_accepts(&dir.join("alertmanager.yml")) {
        assert!(ok, "amtool refuses the fixed config:\n{fixed}");
    }
    assert_eq!(routes(&dir), routed_before, "routing changed:\n{fixed}");

    // a second run changes nothing; the route written on one line is still left to the user
    let (code, diff, notes) = obsgate(&dir, &["fix", "--diff", "alertmanager.yml"]);
    assert_eq!((code, diff.as_str()), (0, ""), "{notes}");
    assert!(notes.contains("alertmanager.yml:19:8: skipped: replace `match:` with `matchers: ['team=\"web\"']` (not written one field per line: fix it by hand)"), "{notes}");
    let (_, findings, _) = obsgate(
        &dir,
        &["check", "alertmanager.yml", "--format", "concise", "-q"],
    );
    let left: Vec<&str> = findings
        .lines()
        .filter(|l| l.contains("deprecated-matcher") || l.contains("useless-continue"))
        .collect();
    assert_eq!(left, ["alertmanager.yml:19:8: warning[alertmanager/deprecated-matcher] `match` is deprecated in a route: Alertmanager replaced it with `matchers`"]);
}

/// Lines removed plus lines added between two texts.
fn similar_lines(a: &str, b: &str) -> usize {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    // longest common subsequence, small inputs
    let mut t = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            t[i][j] = if a[i] == b[j] {
                t[i + 1][j + 1] + 1
            } else {
                t[i + 1][j].max(t[i][j + 1])
            };
        }
    }
    a.len() + b.len() - 2 * t[0][0]
}

#[test]
fn secrets_are_fixed_in_string_data_and_skipped_in_base64_data() {
    let dir = scratch("secret", &["secret.yaml"]);
    let (code, diff, notes) = obsgate(&dir, &["fix", "--diff", "secret.yaml"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("secret_diff", format!("{diff}\n--- stderr\n{notes}"));
    let (code, _, _) = obsgate(&dir, &["fix", "secret.yaml"]);
    assert_eq!(code, 0);
    let (_, findings, _) = obsgate(&dir, &["check", "secret.yaml", "--format", "concise", "-q"]);
    let left: Vec<&str> = findings
        .lines()
        .filter(|l| l.contains("deprecated-matcher"))
        .collect();
    assert_eq!(left.len(), 1, "only the base64 one is left:\n{findings}");
    assert!(left[0].starts_with("secret.yaml:24:"), "{findings}");
}

#[test]
fn heredocs_of_a_ci_file_are_fixed_in_place() {
    let dir = scratch("heredoc", &["fixtures/seed/pipeline.gitlab-ci.yml"]);
    let check = |d: &Path| {
        let (_, out, _) = obsgate(d, &["check", ".", "--format", "concise", "-q"]);
        let mut ids: Vec<String> = out
            .lines()
            .filter_map(|l| Some(l.split_once(": ")?.1.split(']').next()?.to_string()))
            .collect();
        ids.sort();
        ids
    };
    let before = check(&dir);
    let (code, _, notes) = obsgate(&dir, &["fix"]);
    assert_eq!(code, 0, "{notes}");
    assert!(
        notes.ends_with("obsgate fix: 8 fixes in 1 files\n"),
        "{notes}"
    );
    let after = check(&dir);
    // every deprecated matcher of the heredoc is gone, every other finding is still there
    let without = |v: &[String]| -> Vec<String> {
        v.iter()
            .filter(|c| !c.ends_with("deprecated-matcher"))
            .cloned()
            .collect()
    };
    assert_eq!(
        before
            .iter()
            .filter(|c| c.ends_with("deprecated-matcher"))
            .count(),
        8
    );
    assert_eq!(
        after
            .iter()
            .filter(|c| c.ends_with("deprecated-matcher"))
            .count(),
        0
    );
    assert_eq!(without(&before), without(&after));
    let (code, diff, _) = obsgate(&dir, &["fix", "--diff"]);
    assert_eq!((code, diff.as_str()), (0, ""));
}

#[test]
fn a_heredoc_with_substituted_variables_is_skipped_with_a_note() {
    let dir = scratch("substituted", &[]);
    std::fs::write(
        dir.join(".gitlab-ci.yml"),
        "deploy:\n  variables:\n    SEVERITY: critical\n  script:\n    - |\n      cat > alertmanager.yml <<EOF\n      route:\n        receiver: default\n        routes:\n          - match:\n              severity: $SEVERITY\n            receiver: pager\n      receivers:\n        - name: default\n        - name: pager\n      EOF\n",
    )
    .unwrap();
    let (code, diff, notes) = obsgate(&dir, &["fix", "--diff"]);
    assert_eq!((code, diff.as_str()), (0, ""), "{notes}");
    assert!(
        notes.contains(".gitlab-ci.yml:10:13: skipped: replace `match:` with `matchers: ['severity=\"critical\"']` (part of it is not written verbatim in the outer file (a substituted variable, an escape))"),
        "{notes}"
    );
}
