//! The JSON Schema of `.obsgate.yml`: generated from the parser's key lists (the committed file
//! is that output), and every example config (README, fixtures, check docs, what `obsgate
//! init` writes) accepted both by obsgate and, against the schema, by check-jsonschema; broken
//! configs refused by both.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const SCHEMA: &str = "schemas/obsgate-config.schema.json";

#[test]
fn the_committed_schema_is_the_generated_one() {
    let path = common::root().join(SCHEMA);
    let generated = obsgate::config::schema::text();
    if std::env::var("UPDATE_SCHEMA").is_ok() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{SCHEMA} is not the generated schema: run `UPDATE_SCHEMA=1 cargo test --test config_schema`"
    );
}

/// The fenced YAML blocks of the README whose top-level keys are all config keys.
fn readme_configs() -> Vec<String> {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let mut out = Vec::new();
    let mut block: Option<String> = None;
    for line in readme.lines() {
        match (&mut block, line.trim_start().starts_with("```")) {
            (None, true) if line.trim() == "```yaml" => block = Some(String::new()),
            (Some(b), true) => {
                let top: Vec<&str> = b
                    .lines()
                    .filter(|l| !l.starts_with([' ', '#', '-']) && l.contains(':'))
                    .map(|l| l.split(':').next().unwrap_or(""))
                    .collect();
                // a GitLab `include:` of the component is a pipeline, not a config
                let pipeline = b.contains("\n  - component: ");
                if !pipeline
                    && !top.is_empty()
                    && top.iter().all(|k| obsgate::config::TOP_KEYS.contains(k))
                {
                    out.push(b.clone());
                }
                block = None;
            }
            (Some(b), false) => {
                b.push_str(line);
                b.push('\n');
            }
            _ => {}
        }
    }
    out
}

fn example_configs() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = readme_configs()
        .into_iter()
        .enumerate()
        .map(|(i, t)| (format!("README block {i}"), t))
        .collect();
    for dir in ["fixtures", "examples", "tests/cmd", "tests/data"] {
        for e in walk(&common::root().join(dir)) {
            let name = e.file_name().unwrap().to_string_lossy().to_string();
            if name == ".obsgate.yml" || name == "obsgate.yml" {
                out.push((
                    e.display().to_string(),
                    std::fs::read_to_string(&e).unwrap(),
                ));
            }
        }
    }
    for m in obsgate::checks::registry::metas() {
        if let Some(c) = m.example.config.clone() {
            out.push((format!("example config of {}", m.id), c));
        }
    }
    // what `obsgate init` writes for the seed
    let out_init = Command::new(env!("CARGO_BIN_EXE_obsgate"))
        .args(["init", "--stdout", "fixtures/seed"])
        .current_dir(common::root())
        .output()
        .unwrap();
    assert!(out_init.status.success());
    out.push((
        "obsgate init on fixtures/seed".into(),
        String::from_utf8(out_init.stdout).unwrap(),
    ));
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn check_jsonschema() -> Option<PathBuf> {
    let p = common::root().join("target/ci-venv/bin/check-jsonschema");
    if p.is_file() {
        return Some(p);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("target/ci-venv/bin/check-jsonschema is missing: .ci/run installs it");
    }
    eprintln!("SKIP check-jsonschema: pip install check-jsonschema==0.39.0 into target/ci-venv");
    None
}

/// Validate texts against the schema; the names of those check-jsonschema refuses.
fn refused_by_schema(tool: &Path, cases: &[(String, String)], tag: &str) -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("config-schema-{tag}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut refused = Vec::new();
    for (i, (name, text)) in cases.iter().enumerate() {
        let file = dir.join(format!("{i}.yml"));
        std::fs::write(&file, text).unwrap();
        let out = Command::new(tool)
            .arg("--schemafile")
            .arg(common::root().join(SCHEMA))
            .arg(&file)
            .output()
            .unwrap();
        if !out.status.success() {
            refused.push(format!(
                "{name}: {}",
                String::from_utf8_lossy(&out.stdout).trim()
            ));
        }
    }
    refused
}

#[test]
fn every_example_config_is_valid_for_obsgate_and_the_schema() {
    let cases = example_configs();
    assert!(cases.len() >= 6, "{}", cases.len());
    for (name, text) in &cases {
        if let Err(e) = obsgate::config::Config::parse(text) {
            panic!("obsgate refuses {name}: {e:?}\n{text}");
        }
    }
    let Some(tool) = check_jsonschema() else {
        return;
    };
    let refused = refused_by_schema(&tool, &cases, "valid");
    assert!(refused.is_empty(), "{}", refused.join("\n"));
}

#[test]
fn broken_configs_are_refused_by_both() {
    let cases: Vec<(String, String)> = [
        "colour: red\n",
        "checks:\n  alerts/missing-runbok: off\n",
        "checks:\n  alerts/missing-for: loud\n",
        "checks:\n  alerts/missing-runbook: {required_from: warning, colour: red}\n",
        "runbooks: {online_timeout: soon}\n",
        "labels: {unbounded: user_id}\n",
        "probe:\n  targets:\n    - {name: api}\n",
        "policies:\n  - name: p\n    require_labels: {team: x}\n    colour: red\n",
        "policies:\n  - name: p\n    match: {kind: alerts}\n    forbid_labels: [instance]\n",
        "alertmanager:\n  stacks:\n    - {alertmanager: a.yml, rules: [r/**], extra: 1}\n",
        "alertmanager:\n  operator: {matcher_strategy: OnNamespaces}\n",
        "alertmanager:\n  operator: {matcher_strategy: OnNamespaceExceptForAlertmanagerNamespace}\n",
        "alertmanager:\n  operator: {base_config: ''}\n",
        "thresholds:\n  - {name: p99, value: 1s, kind: speed}\n",
    ]
    .iter()
    .enumerate()
    .map(|(i, t)| (format!("broken {i}: {t:?}"), t.to_string()))
    .collect();
    for (name, text) in &cases {
        assert!(
            obsgate::config::Config::parse(text).is_err(),
            "obsgate accepts {name}"
        );
    }
    let Some(tool) = check_jsonschema() else {
        return;
    };
    let refused = refused_by_schema(&tool, &cases, "broken");
    assert_eq!(
        refused.len(),
        cases.len(),
        "the schema accepts some:\n{}",
        refused.join("\n")
    );
}
