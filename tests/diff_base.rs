//! `obsgate check --diff-base REV` and `--load DIR`: everything loaded, findings reported for
//! the files changed since REV (or the files named), in real git repositories.

mod common;

use common::{commit, git};

use std::path::{Path, PathBuf};
use std::process::Command;

const RULES_A: &str = "groups:\n  - name: a\n    rules:\n      - alert: ADown\n        expr: up{job=\"a\"} == 0\n        for: 5m\n        labels: {severity: critical}\n        annotations: {summary: s, description: d}\n";
const RULES_B: &str = "groups:\n  - name: b\n    rules:\n      - alert: BDown\n        expr: up{job=\"b\"} == 0\n        for: 5m\n        labels: {severity: critical}\n        annotations: {summary: s, description: d}\n";
const RULES_C: &str = "groups:\n  - name: c\n    rules:\n      - alert: CDown\n        expr: up{job=\"c\"} == 0\n        for: 5m\n        labels: {severity: critical}\n        annotations: {summary: s, description: d}\n";

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// `obsgate check ARGS` in `dir`: exit code, stdout, stderr.
fn obsgate(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let all: Vec<&str> = ["check", "--format", "concise", "-q"]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    common::obsgate_in(dir, &all)
}

/// A repository with a base commit (rules `a` and `c`) and a change on top: `b` added, `a`
/// renamed, `c` untouched. Returns the directory and the base commit.
fn repository(name: &str) -> (PathBuf, String) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("diff-base-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    git(&dir, &["init", "-q", "-b", "main"]);
    write(&dir.join("rules/a.yml"), RULES_A);
    write(&dir.join("rules/c.yml"), RULES_C);
    let base = commit(&dir, "base");
    write(&dir.join("rules/b.yml"), RULES_B);
    git(&dir, &["mv", "rules/a.yml", "rules/renamed.yml"]);
    commit(&dir, "change");
    (dir, base)
}

fn files_reported(out: &str) -> Vec<&str> {
    let mut files: Vec<&str> = out.lines().filter_map(|l| l.split(':').next()).collect();
    files.dedup();
    files
}

#[test]
fn only_files_changed_since_the_base_are_reported() {
    let (dir, base) = repository("changed");
    let (code, all, _) = obsgate(&dir, &["."]);
    assert_eq!(code, 1);
    assert_eq!(
        files_reported(&all),
        ["rules/b.yml", "rules/c.yml", "rules/renamed.yml"]
    );

    let (code, out, err) = obsgate(&dir, &[".", "--diff-base", &base]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        files_reported(&out),
        ["rules/b.yml", "rules/renamed.yml"],
        "{out}"
    );
    assert_eq!(err, "", "the merge base is in the history: no note");

    // an uncommitted change and an untracked file count too
    write(&dir.join("rules/c.yml"), &format!("{RULES_C}\n"));
    write(&dir.join("rules/d.yml"), &RULES_B.replace("BDown", "DDown"));
    let (_, out, _) = obsgate(&dir, &[".", "--diff-base", "HEAD"]);
    assert_eq!(
        files_reported(&out),
        ["rules/c.yml", "rules/d.yml"],
        "{out}"
    );

    // nothing changed since HEAD once committed: exit 0
    commit(&dir, "more");
    let (code, out, _) = obsgate(&dir, &[".", "--diff-base", "HEAD"]);
    assert_eq!((code, out.as_str()), (0, ""));
}

#[test]
fn the_base_is_the_merge_base_with_the_target_branch() {
    let (dir, base) = repository("merge-base");
    // the target branch moved on after the change branched off: its new file is not a change
    // of this branch
    git(&dir, &["checkout", "-q", "-b", "target", &base]);
    write(&dir.join("rules/target-only.yml"), RULES_B);
    commit(&dir, "target moves on");
    git(&dir, &["checkout", "-q", "main"]);
    let (_, out, _) = obsgate(&dir, &[".", "--diff-base", "target"]);
    assert_eq!(
        files_reported(&out),
        ["rules/b.yml", "rules/renamed.yml"],
        "{out}"
    );
}

#[test]
fn a_shallow_clone_works_once_the_base_is_fetched() {
    let (origin, base) = repository("shallow-origin");
    git(
        &origin,
        &["config", "uploadpack.allowAnySHA1InWant", "true"],
    );
    let clone = origin.with_file_name("diff-base-shallow-clone");
    let _ = std::fs::remove_dir_all(&clone);
    let url = format!("file://{}", origin.display());
    git(
        origin.parent().unwrap(),
        &["clone", "-q", "--depth=1", &url, clone.to_str().unwrap()],
    );
    let (code, _, err) = obsgate(&clone, &[".", "--diff-base", &base]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("is not a commit of this repository (in a shallow clone, fetch it first: `git fetch --depth=1 origin {base}`)")),
        "{err}"
    );
    git(&clone, &["fetch", "-q", "--depth=1", "origin", &base]);
    let (code, out, err) = obsgate(&clone, &[".", "--diff-base", &base]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        files_reported(&out),
        ["rules/b.yml", "rules/renamed.yml"],
        "{out}"
    );
    assert!(err.contains("no merge base"), "{err}");
}

#[test]
fn bad_revisions_and_places_are_usage_errors() {
    let (dir, _) = repository("bad");
    let (code, _, err) = obsgate(&dir, &[".", "--diff-base", "no-such-branch"]);
    assert_eq!(code, 2);
    assert!(err.contains("`no-such-branch` is not a commit"), "{err}");
    let (code, _, err) = obsgate(&dir, &[".", "--diff-base", "--output=x"]);
    assert_eq!(code, 2, "{err}");
    let outside = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("diff-base-not-a-repo");
    let _ = std::fs::remove_dir_all(&outside);
    std::fs::create_dir_all(&outside).unwrap();
    // GIT_CEILING_DIRECTORIES keeps git from finding a repository above the directory
    let out = Command::new(env!("CARGO_BIN_EXE_obsgate"))
        .args(["check", ".", "--diff-base", "HEAD"])
        .current_dir(&outside)
        .env("GIT_CEILING_DIRECTORIES", outside.parent().unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--diff-base needs a git repository"));
}

#[test]
fn load_reports_only_on_the_named_files() {
    let (dir, _) = repository("load");
    let (code, out, _) = obsgate(&dir, &["--load", ".", "rules/b.yml"]);
    assert_eq!(code, 1);
    assert_eq!(files_reported(&out), ["rules/b.yml"], "{out}");
    // a named directory covers its files
    let (_, out, _) = obsgate(&dir, &["--load", ".", "rules"]);
    assert_eq!(files_reported(&out).len(), 3, "{out}");
    // with --diff-base, what both select
    let (_, out, _) = obsgate(
        &dir,
        &["--load", ".", "rules/c.yml", "--diff-base", "HEAD~1"],
    );
    assert_eq!(out, "");
}
