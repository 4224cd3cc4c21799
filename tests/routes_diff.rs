//! `obsgate routes diff`: how every alert of the rule files is handled before and after a
//! change of the Alertmanager config, as text, JSON and Markdown, and against a git revision.

mod common;

use std::path::PathBuf;

use common::obsgate_in as obsgate;

const OLD: &str = "fixtures/routing/diff-old.yml";
const NEW: &str = "fixtures/routing/diff-new.yml";
const RULES: &str = "fixtures/routing/diff-rules.yml";

#[test]
fn text_and_markdown_put_lost_pages_first() {
    let root = common::root();
    let (code, text, err) = obsgate(
        &root,
        &["routes", "diff", "--config", OLD, NEW, "--rules", RULES],
    );
    assert_eq!(code, 1, "{err}");
    insta::assert_snapshot!("text", text);
    let (code, md, _) = obsgate(
        &root,
        &[
            "routes", "diff", "--config", OLD, NEW, "--rules", RULES, "--format", "markdown",
        ],
    );
    assert_eq!(code, 1);
    insta::assert_snapshot!("markdown", md);
    let (_, json, _) = obsgate(
        &root,
        &[
            "routes", "diff", "--config", OLD, NEW, "--rules", RULES, "--format", "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["alerts"], 4);
    assert_eq!(
        v["changed"][0]["alert"],
        "PaymentsDown{severity=\"critical\", team=\"payments\"}"
    );
    assert_eq!(v["changed"][0]["pages_before"], "yes");
    assert_eq!(v["changed"][0]["pages_after"], "no");
    // the same config on both sides: nothing changes, exit 0
    let (code, text, _) = obsgate(
        &root,
        &["routes", "diff", "--config", OLD, OLD, "--rules", RULES],
    );
    assert_eq!((code, text.as_str()), (0, "0 of 4 alerts route differently (fixtures/routing/diff-old.yml -> fixtures/routing/diff-old.yml)\n"));
}

#[test]
fn diff_base_compares_with_the_committed_version() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("routes-diff-git");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    common::git(&dir, &["init", "-q", "-b", "main"]);
    std::fs::copy(common::root().join(OLD), dir.join("alertmanager.yml")).unwrap();
    std::fs::copy(common::root().join(RULES), dir.join("rules.yml")).unwrap();
    common::commit(&dir, "base");
    std::fs::copy(common::root().join(NEW), dir.join("alertmanager.yml")).unwrap();
    let (code, text, err) = obsgate(
        &dir,
        &[
            "routes",
            "diff",
            "--config",
            "alertmanager.yml",
            "--diff-base",
            "HEAD",
            "--rules",
            "rules.yml",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        text.starts_with(
            "4 of 4 alerts route differently (HEAD:alertmanager.yml -> alertmanager.yml)"
        ),
        "{text}"
    );
    assert!(
        text.contains("PaymentsDown{severity=\"critical\", team=\"payments\"} NO LONGER PAGES"),
        "{text}"
    );
    let (code, _, err) = obsgate(
        &dir,
        &[
            "routes",
            "diff",
            "--config",
            "alertmanager.yml",
            "--diff-base",
            "nope",
            "--rules",
            "rules.yml",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot read alertmanager.yml at `nope`"),
        "{err}"
    );
}
