//! `docs/checks/<domain>/<name>.md` is generated from `rules/` (run
//! `UPDATE_DOCS=1 cargo test --test docs` to regenerate it), every check has its page, no page
//! outlives its check, and the `url` of every finding points at its check's page.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn docs() -> PathBuf {
    common::root().join("docs/checks")
}

/// The generated files: one page per check and the index.
fn want() -> BTreeMap<PathBuf, String> {
    let mut files = BTreeMap::new();
    let mut index = String::from(
        "<!-- generated from rules/ by `UPDATE_DOCS=1 cargo test --test docs` -->\n\n# obsgate checks\n\nEvery finding links to its check's page (`url` in JSON, `helpUri` in SARIF, the `see:` line of the text report). `obsgate explain <id>` prints the same in a terminal; `obsgate checks --format json` lists them.\n\n| check | severity | what it reports |\n|---|---|---|\n",
    );
    for m in obsgate::checks::registry::metas() {
        files.insert(
            PathBuf::from(format!("{}.md", m.id)),
            obsgate::checks::meta_markdown(m),
        );
        index.push_str(&format!(
            "| [`{}`]({}.md) | {} | {} |\n",
            m.id,
            m.id,
            m.severity.as_str(),
            m.summary.trim().replace('|', "\\|")
        ));
    }
    files.insert(PathBuf::from("README.md"), index);
    files
}

fn on_disk(dir: &Path, rel: &Path, out: &mut BTreeMap<PathBuf, String>) {
    let Ok(entries) = std::fs::read_dir(dir.join(rel)) else {
        return;
    };
    for e in entries.flatten() {
        let r = rel.join(e.file_name());
        if e.path().is_dir() {
            on_disk(dir, &r, out);
        } else {
            out.insert(r, std::fs::read_to_string(e.path()).unwrap_or_default());
        }
    }
}

#[test]
fn check_pages_are_generated_from_rules() {
    let want = want();
    let mut have = BTreeMap::new();
    on_disk(&docs(), Path::new(""), &mut have);
    if have == want {
        return;
    }
    if std::env::var("UPDATE_DOCS").is_ok_and(|v| v == "1") {
        for rel in have.keys().filter(|k| !want.contains_key(*k)) {
            std::fs::remove_file(docs().join(rel)).unwrap();
        }
        for (rel, text) in &want {
            let p = docs().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        return;
    }
    let stale: Vec<_> = want
        .iter()
        .filter(|(k, v)| have.get(*k) != Some(v))
        .map(|(k, _)| k.display().to_string())
        .chain(
            have.keys()
                .filter(|k| !want.contains_key(*k))
                .map(|k| format!("{} (no such check)", k.display())),
        )
        .collect();
    panic!(
        "docs/checks is stale ({}): run `UPDATE_DOCS=1 cargo test --test docs`",
        stale.join(", ")
    );
}

#[test]
fn every_check_url_is_its_page_at_this_version() {
    let repo = env!("CARGO_PKG_REPOSITORY");
    for m in obsgate::checks::registry::metas() {
        let url = obsgate::checks::docs_url(&m.id).unwrap();
        assert_eq!(
            url,
            format!(
                "{repo}/blob/v{}/docs/checks/{}.md",
                env!("CARGO_PKG_VERSION"),
                m.id
            )
        );
        let rel = url.split("/blob/").nth(1).unwrap();
        let rel = rel.split_once('/').unwrap().1;
        assert!(common::root().join(rel).is_file(), "{url}: no {rel}");
    }
    // policies are the team's own: no page of obsgate's
    assert_eq!(obsgate::checks::docs_url("policy/team-label"), None);
    assert_eq!(
        obsgate::checks::see_also("policy/team-label"),
        "`obsgate explain policy/team-label`"
    );
    assert_eq!(obsgate::checks::docs_url("alerts/no-such-check"), None);
}

/// The url in each machine format, for every finding of the seed.
#[test]
fn findings_carry_their_docs_url() {
    use obsgate::report::Format;
    let outcome = common::run(&[common::root().join("fixtures/seed")], None);
    assert!(!outcome.findings.is_empty());
    let json: serde_json::Value =
        serde_json::from_str(&common::render(Format::Json, &outcome, None)).unwrap();
    for f in json["findings"].as_array().unwrap() {
        let id = f["check"].as_str().unwrap();
        assert_eq!(
            f["url"].as_str(),
            obsgate::checks::docs_url(id).as_deref(),
            "{f}"
        );
    }
    let cq: serde_json::Value =
        serde_json::from_str(&common::render(Format::Codequality, &outcome, None)).unwrap();
    for i in cq.as_array().unwrap() {
        let id = i["check_name"].as_str().unwrap();
        let url = obsgate::checks::docs_url(id).unwrap();
        assert!(
            i["content"]["body"]
                .as_str()
                .unwrap()
                .ends_with(&format!("See [{id}]({url}).")),
            "{i}"
        );
    }
    let sarif: serde_json::Value =
        serde_json::from_str(&common::render(Format::Sarif, &outcome, None)).unwrap();
    for r in sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
    {
        let id = r["id"].as_str().unwrap();
        assert_eq!(
            r["helpUri"].as_str(),
            obsgate::checks::docs_url(id).as_deref()
        );
    }
    let text = common::text(&outcome, None);
    assert_eq!(
        text.matches("\n  see: https://").count(),
        outcome.findings.len(),
        "{text}"
    );
}

/// A team policy's findings have no docs `url` (obsgate has no page for the team's own rule):
/// the text report points at `obsgate explain policy/<name>` instead, and the Markdown
/// summary names the policy without a link.
#[test]
fn policy_findings_have_no_url() {
    use obsgate::report::Format;
    let root = common::root().join("fixtures/policy");
    let config = std::fs::read_to_string(root.join("obsgate.yml")).unwrap();
    let outcome = common::run(&[root.join("bad.yml")], Some(&config));
    let json: serde_json::Value =
        serde_json::from_str(&common::render(Format::Json, &outcome, None)).unwrap();
    let findings = json["findings"].as_array().unwrap();
    let policies: Vec<_> = findings
        .iter()
        .filter(|f| f["check"].as_str().unwrap().starts_with("policy/"))
        .collect();
    assert!(!policies.is_empty());
    for f in &policies {
        assert!(f.get("url").is_none(), "{f}");
    }
    let text = common::text(&outcome, Some("policy/team-label"));
    assert!(
        text.contains("  see: `obsgate explain policy/team-label`"),
        "{text}"
    );
    let md = common::render(Format::Markdown, &outcome, None);
    assert!(md.contains("| `policy/team-label` |"), "{md}");
}

/// `obsgate checks --format json`: every check with its severity, summary and docs url.
#[test]
fn checks_json_lists_every_check() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_obsgate"))
        .args(["checks", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let metas = obsgate::checks::registry::metas();
    assert_eq!(list.len(), metas.len());
    for (c, m) in list.iter().zip(metas) {
        assert_eq!(c["id"], m.id.as_str());
        assert_eq!(c["severity"], m.severity.as_str());
        assert_eq!(c["summary"], m.summary.trim());
        assert_eq!(
            c["url"].as_str(),
            obsgate::checks::docs_url(&m.id).as_deref()
        );
    }
}

/// The Markdown summary (the action's job summary): counts by severity, the first findings
/// (errors first) with links, and cells that user text cannot break out of.
#[test]
fn markdown_summary_counts_and_lists_the_first_findings() {
    use obsgate::report::Format;
    let outcome = common::run(&[common::root().join("fixtures/seed")], None);
    let md = common::render(Format::Markdown, &outcome, None);
    let n =
        |s: obsgate::checks::Severity| outcome.findings.iter().filter(|f| f.severity == s).count();
    use obsgate::checks::Severity::*;
    assert!(
        md.starts_with(&format!(
            "### obsgate: {} errors, {} warnings, {} info in 6 files\n",
            n(Error),
            n(Warning),
            n(Info)
        )),
        "{md}"
    );
    assert!(md.contains(&format!("| error | {} |\n", n(Error))));
    let rows: Vec<&str> = md
        .lines()
        .filter(|l| {
            l.starts_with("| error | `")
                || l.starts_with("| warning | `")
                || l.starts_with("| info | `")
        })
        .collect();
    assert_eq!(
        rows.len(),
        obsgate::report::markdown::FIRST.min(outcome.findings.len())
    );
    assert!(md.contains(&format!("(20 of {})", outcome.findings.len())));
    // every row has four cells
    for r in &rows {
        assert_eq!(
            r.matches(" | ").count() - r.matches("\\| ").count(),
            3,
            "{r}"
        );
    }
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("md-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("rules.yml");
    std::fs::write(
        &file,
        "groups:\n  - name: g\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n",
    )
    .unwrap();
    let clean = common::run(&[file], None);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        common::render(Format::Markdown, &clean, None),
        "### obsgate: no findings in 1 file\n"
    );
}
