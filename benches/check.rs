//! `obsgate check` over every awesome-prometheus-alerts rule merged into one file
//! (`../shared/corpus`). Run: `cargo bench --bench check`. The merged file is written to
//! `target/bench-data/awesome-all.yml` so promtool can be timed on the same input:
//! `hyperfine 'promtool check rules target/bench-data/awesome-all.yml'`.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use obsgate::config::Config;
use obsgate::engine::{self, CheckOptions};

fn merged_awesome() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("../shared/corpus/awesome-prometheus-alerts/dist/rules");
    if !dir.is_dir() {
        return None;
    }
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).ok()?.filter_map(|e| e.ok()) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut out = String::from("groups:\n");
    for (i, f) in files.iter().enumerate() {
        let text = std::fs::read_to_string(f).ok()?;
        for line in text.lines() {
            if line.trim_end() == "groups:" {
                continue;
            }
            if let Some(name) = line.strip_prefix("- name: ") {
                out.push_str(&format!("- name: {}-{i}\n", name.trim()));
            } else {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    let target = root.join("target/bench-data");
    std::fs::create_dir_all(&target).ok()?;
    let path = target.join("awesome-all.yml");
    std::fs::write(&path, out).ok()?;
    Some(path)
}

fn bench(c: &mut Criterion) {
    let Some(file) = merged_awesome() else {
        eprintln!("SKIP: ../shared/corpus not found");
        return;
    };
    let opts = CheckOptions {
        paths: vec![file],
        base: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        config: Config::default(),
        only: None,
    };
    let n = engine::check(&opts).expect("check").findings.len();
    eprintln!("awesome-all.yml: {n} findings");
    c.bench_function("check awesome-prometheus-alerts (one file)", |b| {
        b.iter(|| engine::check(&opts).expect("check").findings.len())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
