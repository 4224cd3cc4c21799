//! Metric definitions read from real application code, against a hand-judged ground truth
//! (`tests/data/realcode/groundtruth.tsv`, made as its README says). The checkouts are not
//! in the repository: set `OBSGATE_REALCODE_DIR` to a directory holding one checkout per
//! project (named as the truth's `repo` column, at the truth's commit). Without it the test
//! says it skips. `OBSGATE_REALCODE_DUMP=1` prints every definition read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use obsgate::model::inventory::definitions;
use obsgate::source::discover::Filter;

struct Truth {
    repo: String,
    path: String,
    line: usize,
    name: String,
    kind: String,
    labels: BTreeSet<String>,
}

fn truth() -> Vec<Truth> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/realcode/groundtruth.tsv"),
    )
    .expect("ground truth");
    let mut out = Vec::new();
    for line in text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 7, "bad truth line: {line}");
        out.push(Truth {
            repo: f[0].to_string(),
            path: f[2].to_string(),
            line: f[3].parse().expect("line number"),
            name: f[4].to_string(),
            kind: f[5].to_string(),
            labels: f[6]
                .split(',')
                .filter(|l| !l.is_empty() && *l != "-")
                .map(String::from)
                .collect(),
        });
    }
    out
}

fn lang_of(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("go") => "go",
        Some("py") => "python",
        _ => "js/ts",
    }
}

#[test]
fn real_code_recall() {
    let Ok(dir) = std::env::var("OBSGATE_REALCODE_DIR") else {
        eprintln!(
            "skipped: OBSGATE_REALCODE_DIR is not set (the real checkouts listed in \
             tests/data/realcode/groundtruth.tsv are not in the repository; see its README)"
        );
        return;
    };
    let truth = truth();
    let repos: BTreeSet<&str> = truth.iter().map(|t| t.repo.as_str()).collect();
    // per language: (truth rows, found, wrong)
    let mut tally: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let mut problems = Vec::new();
    for repo in repos {
        let root = PathBuf::from(&dir).join(repo);
        assert!(root.is_dir(), "{} is missing", root.display());
        let project = obsgate::engine::load(std::slice::from_ref(&root), &root, &Filter::default())
            .expect("load");
        let defs = definitions(&project);
        if std::env::var("OBSGATE_REALCODE_DUMP").is_ok() {
            for f in &project.files {
                let Some(m) = &f.metrics else { continue };
                let src = project.sources.get(f.file);
                for (span, msg) in &m.problems {
                    let line = src.line_col(span.start).0;
                    println!("{repo}\tPROBLEM\t{}:{line}\t{msg}", src.path);
                }
                for d in &m.defs {
                    for u in &d.unread {
                        let line = src.line_col(d.name_span.start).0;
                        println!("{repo}\tUNREAD\t{}:{line}\t{}\t{u}", src.path, d.name);
                    }
                }
            }
        }
        // (path, name) -> definitions
        let mut by: BTreeMap<(String, String), Vec<_>> = BTreeMap::new();
        for d in &defs {
            let src = project.sources.get(d.file);
            let line = src.line_col(d.def.name_span.start).0;
            if std::env::var("OBSGATE_REALCODE_DUMP").is_ok() {
                let labels: Vec<&str> = d.def.labels.iter().map(|l| l.0.as_str()).collect();
                println!(
                    "{repo}\t{}\t{line}\t{}\t{}\t{}{}",
                    src.path,
                    d.def.name,
                    if d.def.kind_known {
                        d.def.kind.as_str()
                    } else {
                        "?"
                    },
                    labels.join(","),
                    if d.def.labels_known { "" } else { ",?" }
                );
            }
            by.entry((src.path.clone(), d.def.name.clone()))
                .or_default()
                .push(d);
        }
        for t in truth.iter().filter(|t| t.repo == repo) {
            let e = tally.entry(lang_of(&t.path)).or_default();
            e.0 += 1;
            let Some(found) = by.get(&(t.path.clone(), t.name.clone())) else {
                problems.push(format!(
                    "not found: {repo} {}:{} {}",
                    t.path, t.line, t.name
                ));
                continue;
            };
            e.1 += 1;
            for d in found {
                let kind_wrong = d.def.kind_known && d.def.kind.as_str() != t.kind;
                let labels: BTreeSet<String> = d.def.labels.iter().map(|l| l.0.clone()).collect();
                let labels_wrong = d.def.labels_known && labels != t.labels;
                if kind_wrong || labels_wrong {
                    e.2 += 1;
                    problems.push(format!(
                        "wrong: {repo} {}:{} {}: read {} {:?}, truth {} {:?}",
                        t.path,
                        t.line,
                        t.name,
                        d.def.kind.as_str(),
                        labels,
                        t.kind,
                        t.labels
                    ));
                    break;
                }
            }
        }
    }
    let (mut all, mut found, mut wrong) = (0, 0, 0);
    for (lang, (n, f, w)) in &tally {
        eprintln!(
            "{lang}: {f}/{n} found ({:.0}%), {w} wrong",
            100.0 * *f as f64 / *n as f64
        );
        (all, found, wrong) = (all + n, found + f, wrong + w);
    }
    eprintln!(
        "all: {found}/{all} found ({:.0}%), {wrong} wrong",
        100.0 * found as f64 / all as f64
    );
    for p in &problems {
        eprintln!("{p}");
    }
    assert!(all > 0);
    assert_eq!(wrong, 0, "definitions read with a wrong type or label set");
    assert!(found * 100 >= all * 85, "recall under 85%: {found}/{all}");
}
