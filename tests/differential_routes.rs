//! Differential test against `amtool config routes test`: for a table of label sets over the
//! corpus Alertmanager configs (built from each route's own matchers, so that every route is
//! exercised, plus combinations and the empty set), `obsgate routes test` prints the same
//! receivers as amtool.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use obsgate::model::routing::{self, MatchOp};

fn amtool() -> bool {
    Command::new("amtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn amtool_receivers(config: &PathBuf, labels: &[String]) -> Option<String> {
    let out = Command::new("amtool")
        .args(["config", "routes", "test", "--config.file"])
        .arg(config)
        .args(labels)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn amtool_loads(config: &PathBuf) -> bool {
    Command::new("amtool")
        .arg("check-config")
        .arg(config)
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn routes_agree_with_amtool() {
    let Some(shared) = common::shared() else {
        eprintln!("SKIP: ../shared/corpus not found beside the repository");
        return;
    };
    if !amtool() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "amtool is not installed; .ci/run must install Debian's `prometheus-alertmanager`"
            );
        }
        eprintln!("SKIP: amtool not found on PATH (apt-get install prometheus-alertmanager)");
        return;
    }
    // the corpus configs, plus the Alertmanager documents of obsgate's own fixtures (which
    // exercise continue, regexes and nesting), written out alone so amtool can read them
    let tmp = std::env::temp_dir().join(format!("obsgate-routes-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    for entry in std::fs::read_dir(common::root().join("fixtures/alertmanager"))
        .unwrap()
        .flatten()
    {
        for kind in ["bad", "good"] {
            let Ok(text) = std::fs::read_to_string(entry.path().join(format!("{kind}.yml"))) else {
                continue;
            };
            if let Some(am) = text.split("\n---\n").find(|d| d.contains("route:")) {
                let name = format!("{}-{kind}.yml", entry.file_name().to_string_lossy());
                std::fs::write(tmp.join(name), am).unwrap();
            }
        }
    }
    let outcome = common::run(&[shared.join("corpus/alertmanager"), tmp.clone()], None);
    let mut compared = 0;
    let mut mismatches = Vec::new();
    for r in outcome.project.alertmanager_configs() {
        let Some(route) = &r.config.route else {
            continue;
        };
        let src = outcome.project.sources.get(r.file);
        if src.origin.is_some() || !amtool_loads(&src.fs_path) {
            continue; // amtool 0.25 cannot load newer configs
        }
        let tree = routing::tree_of(r.file, route);
        // label sets: each route's equality matchers (with its ancestors'), pairs of them, none
        let nodes = tree.preorder();
        let parents = routing::parents(&tree);
        let mut sets: Vec<BTreeMap<String, String>> = vec![BTreeMap::new()];
        for i in 0..nodes.len() {
            let mut set = BTreeMap::new();
            let mut k = i;
            loop {
                for m in &nodes[k].matchers {
                    // a value the matcher accepts: the value itself, or a regex's first alternative
                    let v = match m.op {
                        MatchOp::Eq => Some(m.value.clone()),
                        MatchOp::Re => m
                            .value
                            .split('|')
                            .next()
                            .filter(|a| {
                                !a.is_empty()
                                    && a.chars()
                                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                            })
                            .map(str::to_string),
                        _ => None,
                    };
                    if let Some(v) = v {
                        set.entry(m.name.clone()).or_insert(v);
                    }
                }
                if k == 0 {
                    break;
                }
                k = parents[k];
            }
            sets.push(set);
        }
        let singles = sets.len();
        for i in 1..singles.min(6) {
            for j in (i + 1)..singles.min(6) {
                let mut both = sets[i].clone();
                for (k, v) in &sets[j] {
                    both.entry(k.clone()).or_insert_with(|| v.clone());
                }
                sets.push(both);
            }
        }
        sets.sort();
        sets.dedup();
        for set in sets.iter().take(25) {
            let labels: Vec<String> = set.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let Some(theirs) = amtool_receivers(&src.fs_path, &labels) else {
                continue;
            };
            let hits = routing::route_concrete(&tree, set);
            let eff = routing::effective(&tree);
            let ours: Vec<String> = hits
                .iter()
                .filter_map(|&h| eff[h].receiver.clone())
                .collect();
            compared += 1;
            if ours.join(",") != theirs {
                mismatches.push(format!(
                    "{} {labels:?}: obsgate {:?}, amtool {theirs:?}",
                    src.path,
                    ours.join(",")
                ));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    eprintln!(
        "routes compared with amtool: {compared} label sets, {} mismatches",
        mismatches.len()
    );
    assert!(compared >= 40, "too few label sets compared: {compared}");
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}
