//! Differential test of `pipeline/syntax`'s schema validation against `check-jsonschema
//! --builtin-schema vendor.gitlab-ci` (the same GitLab schema, a different validator and YAML
//! loader) on real GitLab CI files and the fixtures.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn check_jsonschema() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("OBSGATE_CHECK_JSONSCHEMA") {
        return Some(PathBuf::from(p));
    }
    let local = common::root().join("target/ci-venv/bin/check-jsonschema");
    if local.is_file() {
        return Some(local);
    }
    Command::new("check-jsonschema")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| PathBuf::from("check-jsonschema"))
}

fn tool_valid(tool: &Path, file: &Path) -> bool {
    let out = Command::new(tool)
        .args([
            "--builtin-schema",
            "vendor.gitlab-ci",
            "--data-transform",
            "gitlab-ci",
        ])
        .arg(file)
        .output()
        .expect("run check-jsonschema");
    out.status.success()
}

/// Where GitLab (and obsgate) accept what check-jsonschema rejects, and why.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "gitlabhq__gitlab-runner__.gitlab__ci__hosted-runners-bridge.gitlab-ci.yml",
        "`rules: - if: !reference [...]`: GitLab resolves the reference before validating; check-jsonschema validates the tag as a list",
    ),
    (
        "good.yml",
        "fixtures/pipeline/syntax/good.yml holds what GitLab assembles before validating and the schema alone refuses: `image: null` unsetting an inherited key (CI/YAML `extends`: \"assign it to null\"), script arrays nested three levels (GitLab flattens up to 10), `needs` from an anchor holding a list with an empty item, `artifacts: paths: []`",
    ),
    (
        "gitlabhq__gitlabhq__.gitlab__ci__templates__gem.gitlab-ci.yml",
        "a `spec: inputs:` header document before `---`: GitLab's format for CI components; check-jsonschema reads one document only",
    ),
];

#[test]
fn schema_verdicts_agree_with_check_jsonschema() {
    let Some(tool) = check_jsonschema() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("check-jsonschema is not installed; .ci/run must install it");
        }
        eprintln!("SKIP: check-jsonschema not found (pip install check-jsonschema)");
        return;
    };
    let root = common::root();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("tests/data/pipelines/gitlab"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    for dir in ["syntax", "check-cannot-fail", "sleep-wait"] {
        for kind in ["bad", "good"] {
            files.push(root.join(format!("fixtures/pipeline/{dir}/{kind}.yml")));
        }
    }
    files.push(root.join("fixtures/seed/pipeline.gitlab-ci.yml"));
    files.sort();
    let mut agree = 0;
    let mut differences = Vec::new();
    for f in &files {
        let outcome = common::run(std::slice::from_ref(f), None);
        // schema-level verdict: structure errors, not obsgate's stage/extends cross-checks
        let ours = !outcome.findings.iter().any(|x| {
            x.check == "pipeline/syntax"
                && !x.message.contains("uses stage")
                && !x.message.contains("extends `")
        });
        let theirs = tool_valid(&tool, f);
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if ours == theirs {
            agree += 1;
        } else {
            differences.push((name, ours, theirs));
        }
    }
    eprintln!(
        "check-jsonschema agreement: {agree}/{} ({} known differences)",
        files.len(),
        KNOWN_DIFFERENCES.len()
    );
    let unexplained: Vec<_> = differences
        .iter()
        .filter(|(n, ..)| !KNOWN_DIFFERENCES.iter().any(|(k, _)| k == n))
        .collect();
    assert!(
        unexplained.is_empty(),
        "unexplained differences (file, obsgate valid, check-jsonschema valid): {unexplained:#?}"
    );
    for (k, why) in KNOWN_DIFFERENCES {
        assert!(
            differences.iter().any(|(n, ..)| n == k),
            "known difference no longer observed: {k} ({why})"
        );
    }
}

/// Real pipelines of other projects: no false alarms from the pipeline and threshold checks.
#[test]
fn real_pipelines_are_quiet() {
    let outcome = common::run(&[common::root().join("tests/data/pipelines")], None);
    let noisy: Vec<_> = outcome
        .findings
        .iter()
        .filter(|f| f.severity == obsgate::checks::Severity::Error)
        .collect();
    assert!(noisy.is_empty(), "{}", common::concise(&outcome, None));
    // the one warning: a real `docker-compose up -d` followed by `sleep 15`
    assert_eq!(
        outcome
            .findings
            .iter()
            .map(|f| (f.check, f.line))
            .collect::<Vec<_>>(),
        vec![("pipeline/sleep-wait", 51)],
        "{}",
        common::concise(&outcome, None)
    );
}

/// Heredocs fed to a command, or with shell expansions obsgate cannot resolve, are not judged as
/// files (no false "invalid YAML/JSON"); a heredoc written to a broken .yml file is.
#[test]
fn heredocs_that_are_not_files_are_quiet() {
    let dir = std::env::temp_dir().join(format!("obsgate-heredoc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ci = dir.join(".gitlab-ci.yml");
    std::fs::write(
        &ci,
        "deploy:\n  script:\n    - |\n      python3 - <<EOF\n      print(\"status: ok\")\n      x = {\n      EOF\n    - |\n      cat > config.json <<EOF\n      {\"port\": $PORT, \"name\": \"x\"}\n      EOF\n    - |\n      cat > broken.yml <<'EOF'\n      a: [1, 2\n      EOF\n",
    )
    .unwrap();
    let outcome = common::run(std::slice::from_ref(&ci), None);
    let found: Vec<(&str, u32)> = outcome.findings.iter().map(|f| (f.check, f.line)).collect();
    assert_eq!(
        found,
        vec![("obsgate/unreadable-file", 14)],
        "{}",
        common::concise(&outcome, None)
    );
    let _ = std::fs::remove_dir_all(dir);
}
