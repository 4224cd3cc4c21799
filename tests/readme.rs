//! The README stays true: its check list is generated from `rules/` (run with
//! `UPDATE_README=1 cargo test --test readme` to regenerate it), and the CI snippets it shows
//! are the files the integration tests run.

mod common;

fn table() -> String {
    let mut s = String::from("| check | severity | what it reports |\n|---|---|---|\n");
    for m in obsgate::checks::registry::metas() {
        s.push_str(&format!(
            "| `{}` | {} | {} |\n",
            m.id,
            m.severity.as_str(),
            m.summary.replace('|', "\\|")
        ));
    }
    s
}

#[test]
fn check_list_is_generated_from_rules() {
    let path = common::root().join("README.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let (start, end) = ("<!-- checks:start -->\n", "<!-- checks:end -->");
    let a = text.find(start).expect("start marker") + start.len();
    let b = text.find(end).expect("end marker");
    let want = table();
    if text[a..b] != want {
        if std::env::var("UPDATE_README").is_ok_and(|v| v == "1") {
            let new = format!("{}{}{}", &text[..a], want, &text[b..]);
            std::fs::write(&path, new).unwrap();
        } else {
            panic!("README check list is stale: run `UPDATE_README=1 cargo test --test readme`");
        }
    }
}

#[test]
fn snippets_are_the_tested_files() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let workflow =
        std::fs::read_to_string(common::root().join("examples/github-workflow.yml")).unwrap();
    assert!(
        readme.contains(workflow.trim_end()),
        "README's GitHub workflow differs from examples/github-workflow.yml"
    );
    assert!(readme.contains("  - local: templates/obsgate.gitlab-ci.yml"));
    // the install section: the script with its flags, the component with the tested inputs
    assert!(readme.contains("## Install\n"));
    assert!(readme.contains(&format!(
        "sh install.sh --version {}",
        env!("CARGO_PKG_VERSION")
    )));
    for flag in ["--to ", "OBSGATE_DOWNLOAD_URL", "OBSGATE_TARGET"] {
        assert!(readme.contains(flag), "README lacks {flag}");
        let script = std::fs::read_to_string(common::root().join("scripts/install.sh")).unwrap();
        assert!(script.contains(flag.trim()), "install.sh lacks {flag}");
    }
    assert!(readme.contains(&format!(
        "  - component: $CI_SERVER_FQDN/<group>/obsgate/obsgate@{}",
        env!("CARGO_PKG_VERSION")
    )));
    let component =
        std::fs::read_to_string(common::root().join("templates/obsgate/template.yml")).unwrap();
    for input in [
        "paths",
        "fail-on",
        "args",
        "version",
        "stage",
        "image",
        "download-url",
    ] {
        assert!(component.contains(&format!("    {input}:\n")), "{input}");
        assert!(
            readme.contains(&format!("{input}: ")),
            "README lacks input {input}"
        );
    }
    // the two set-up commands
    assert!(readme.contains("cargo run --release -- check fixtures/seed\n"));
    assert!(readme.contains("cargo test --locked\n"));
}
