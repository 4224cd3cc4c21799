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
    /// `None`: not knowable before run time (`?` in the file).
    labels: Option<BTreeSet<String>>,
    /// After the `# held out` line: projects not looked at while the reader was built.
    held_out: bool,
}

fn truth() -> Vec<Truth> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/realcode/groundtruth.tsv"),
    )
    .expect("ground truth");
    let mut out = Vec::new();
    let mut held_out = false;
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        if line.starts_with('#') {
            held_out |= line.starts_with("# held out");
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 7, "bad truth line: {line}");
        out.push(Truth {
            repo: f[0].to_string(),
            path: f[2].to_string(),
            line: f[3].parse().expect("line number"),
            name: f[4].to_string(),
            kind: f[5].to_string(),
            labels: (f[6] != "?").then(|| {
                f[6].split(',')
                    .filter(|l| !l.is_empty() && *l != "-")
                    .map(String::from)
                    .collect()
            }),
            held_out,
        });
    }
    out
}

fn lang_of(t: &Truth) -> &'static str {
    match (t.path.rsplit('.').next(), t.held_out) {
        (Some("go"), false) => "go",
        (Some("py"), false) => "python",
        (_, false) => "js/ts",
        (Some("go"), true) => "go, held out",
        (Some("py"), true) => "python, held out",
        (_, true) => "js/ts, held out",
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
    let mut tally: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut problems = Vec::new();
    let dump = std::env::var("OBSGATE_REALCODE_DUMP").is_ok();
    for repo in repos {
        let root = PathBuf::from(&dir).join(repo);
        assert!(root.is_dir(), "{} is missing", root.display());
        let project = obsgate::engine::load(std::slice::from_ref(&root), &root, &Filter::default())
            .expect("load");
        // (path, name) -> definitions; (path, line) of the definitions reported unreadable
        let mut by: BTreeMap<(String, String), Vec<_>> = BTreeMap::new();
        let mut unreadable: BTreeSet<(String, usize)> = BTreeSet::new();
        for f in &project.files {
            let Some(m) = &f.metrics else { continue };
            let src = project.sources.get(f.file);
            for (span, msg) in &m.problems {
                let line = src.line_col(span.start).0;
                unreadable.insert((src.path.clone(), line));
                if dump {
                    println!("{repo}\tPROBLEM\t{}:{line}\t{msg}", src.path);
                }
            }
        }
        for d in definitions(&project) {
            let src = project.sources.get(d.file);
            let line = src.line_col(d.def.name_span.start).0;
            if dump {
                let labels: Vec<&str> = d.def.labels.iter().map(|l| l.0.as_str()).collect();
                println!(
                    "{repo}\t{}\t{line}\t{}\t{}\t{}{}\t{}",
                    src.path,
                    d.def.name,
                    if d.def.kind_known {
                        d.def.kind.as_str()
                    } else {
                        "?"
                    },
                    labels.join(","),
                    if d.def.labels_known { "" } else { ",?" },
                    d.def.unread.join("; ")
                );
            }
            by.entry((src.path.clone(), d.def.name.clone()))
                .or_default()
                .push(d);
        }
        for t in truth.iter().filter(|t| t.repo == repo) {
            let e = tally.entry(lang_of(t)).or_default();
            e.rows += 1;
            if t.kind == "dynamic" {
                // a name made at run time: found when reported as unreadable where it is made
                e.dynamic += 1;
                if unreadable.contains(&(t.path.clone(), t.line)) {
                    e.found += 1;
                } else {
                    problems.push(format!(
                        "run-time name not reported: {repo} {}:{} {}",
                        t.path, t.line, t.name
                    ));
                }
                continue;
            }
            let Some(found) = by.get(&(t.path.clone(), t.name.clone())) else {
                problems.push(format!(
                    "not found: {repo} {}:{} {}",
                    t.path, t.line, t.name
                ));
                continue;
            };
            e.found += 1;
            let d = found
                .iter()
                .min_by_key(|d| {
                    let src = project.sources.get(d.file);
                    src.line_col(d.def.span.start).0.abs_diff(t.line)
                })
                .expect("non-empty");
            let kind_wrong = d.def.kind_known && d.def.kind.as_str() != t.kind;
            e.kind_unknown += usize::from(!d.def.kind_known);
            let labels: BTreeSet<String> = d.def.labels.iter().map(|l| l.0.clone()).collect();
            let labels_wrong = match &t.labels {
                // not knowable before run time: obsgate must not claim a label set
                None => d.def.labels_known,
                Some(l) => d.def.labels_known && labels != *l,
            };
            e.labels_unknown += usize::from(!d.def.labels_known);
            if kind_wrong || labels_wrong {
                e.wrong += 1;
                problems.push(format!(
                    "wrong: {repo} {}:{} {}: read {} {:?} (labels known: {}), truth {} {:?}",
                    t.path,
                    t.line,
                    t.name,
                    if d.def.kind_known {
                        d.def.kind.as_str()
                    } else {
                        "?"
                    },
                    labels,
                    d.def.labels_known,
                    t.kind,
                    t.labels
                ));
            }
        }
    }
    let mut all = Tally::default();
    for (lang, t) in &tally {
        eprintln!("{lang}: {}", t.line());
        all.rows += t.rows;
        all.found += t.found;
        all.wrong += t.wrong;
        all.dynamic += t.dynamic;
        all.kind_unknown += t.kind_unknown;
        all.labels_unknown += t.labels_unknown;
    }
    eprintln!("all: {}", all.line());
    for p in &problems {
        eprintln!("{p}");
    }
    assert!(all.rows > 0);
    assert_eq!(
        all.wrong, 0,
        "definitions read with a wrong type or label set"
    );
    assert!(
        all.found * 100 >= all.rows * 85,
        "under 85% found: {}/{}",
        all.found,
        all.rows
    );
}

#[derive(Default)]
struct Tally {
    rows: usize,
    /// Read (name right), or, for a run-time name, reported as unreadable.
    found: usize,
    wrong: usize,
    /// Rows whose name is made at run time.
    dynamic: usize,
    kind_unknown: usize,
    labels_unknown: usize,
}

impl Tally {
    fn line(&self) -> String {
        format!(
            "{}/{} found ({:.0}%; {} rows are run-time names, found when reported unreadable), {} wrong; type unknown for {}, labels unknown for {}",
            self.found,
            self.rows,
            100.0 * self.found as f64 / self.rows.max(1) as f64,
            self.dynamic,
            self.wrong,
            self.kind_unknown,
            self.labels_unknown
        )
    }
}
