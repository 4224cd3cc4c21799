//! `obsgate init`: the config written from what the files show.

mod common;

use std::process::Command;

#[test]
fn init_describes_the_seed() {
    let out = Command::new(env!("CARGO_BIN_EXE_obsgate"))
        .args(["init", "--stdout", "fixtures/seed"])
        .current_dir(common::root())
        .output()
        .unwrap();
    assert!(out.status.success());
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

#[test]
fn init_writes_the_file_once() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("init-writes");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        common::root().join("fixtures/seed/alertmanager-config.yml"),
        dir.join("alertmanager.yml"),
    )
    .unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_obsgate"))
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap()
    };
    let first = run(&["init"]);
    assert!(first.status.success());
    let written = std::fs::read_to_string(dir.join(".obsgate.yml")).unwrap();
    assert!(written.starts_with("# yaml-language-server: $schema="));
    assert!(
        written.contains("paging_integrations: [pagerduty]"),
        "{written}"
    );
    // the config it wrote is read by `check` without problems
    let check = run(&["check", ".", "-q", "--format", "concise"]);
    assert_ne!(
        check.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let again = run(&["init"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains(".obsgate.yml exists; --force replaces it")
    );
    assert!(run(&["init", "--force"]).status.success());
}
