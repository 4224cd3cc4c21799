//! Criterion benchmarks on inputs generated from `../shared/corpus` (see `benches/support`):
//! - `check` over every awesome-prometheus-alerts rule merged into one file (~950 rules);
//! - `check` over the large set: 42 renamed copies of it in 42 files (~40,000 rules, ~20 MB);
//! - exposition parse + lint of a 50,000-series scrape;
//! - routing every alert of the large set through a deep Alertmanager tree (`reach` for each
//!   alert, as the routing checks do), and the whole `check` of the large set with that config.
//!
//! Run: `cargo bench --bench check` (the inputs are written to `target/bench-data/`, where
//! `benches/compare.sh` times obsgate and promtool on the same files).

#[path = "support/mod.rs"]
mod support;

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};

// the allocator of the obsgate binary (src/main.rs), so the figures are the CLI's
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use obsgate::config::Config;
use obsgate::engine::{self, CheckOptions};
use obsgate::model::routing;

fn options(paths: Vec<PathBuf>) -> CheckOptions {
    CheckOptions {
        paths,
        base: support::root(),
        config: Config::default(),
        only: None,
    }
}

fn bench(c: &mut Criterion) {
    let Some(awesome) = support::write_awesome() else {
        eprintln!("SKIP: ../shared/corpus not found");
        return;
    };
    let opts = options(vec![awesome]);
    let n = engine::check(&opts).expect("check").findings.len();
    eprintln!("awesome-all.yml: {n} findings");
    c.bench_function(
        "check awesome-prometheus-alerts (one file, ~950 rules)",
        |b| b.iter(|| engine::check(&opts).expect("check").findings.len()),
    );

    let large = support::write_large_set(42).expect("large set");
    let opts = options(vec![large.clone()]);
    let mut group = c.benchmark_group("large");
    group.sample_size(10);
    group.bench_function("check 40,000 rules in 42 files (~20 MB)", |b| {
        b.iter(|| engine::check(&opts).expect("check").findings.len())
    });

    // a deep routing tree over the large set's alerts
    let mut alerts = Vec::new();
    for e in std::fs::read_dir(&large).expect("large/") {
        let text = std::fs::read_to_string(e.expect("entry").path()).expect("read");
        alerts.extend(support::alerts_of(&text));
    }
    let am_path = support::out_dir().join("deep-alertmanager.yml");
    std::fs::write(&am_path, support::deep_alertmanager(&alerts, 6)).expect("write");
    let project = engine::load(
        &[large.clone(), am_path.clone()],
        &support::root(),
        &obsgate::source::discover::Filter::default(),
    )
    .expect("load");
    let universe = routing::universe(&project);
    let am = project
        .alertmanager_configs()
        .next()
        .expect("an Alertmanager config");
    let tree = routing::tree_of(am.file, am.config.route.as_ref().expect("route"));
    eprintln!(
        "routing {} alerts through {} routes",
        universe.len(),
        tree.preorder().len()
    );
    group.bench_function(
        "route 40,000 alerts through a deep Alertmanager tree",
        |b| {
            b.iter(|| {
                universe
                    .iter()
                    .map(|a| routing::reach(&tree, a).terminal_routes().count())
                    .sum::<usize>()
            })
        },
    );
    let opts = options(vec![large, am_path]);
    group.bench_function("check 40,000 rules + the deep Alertmanager config", |b| {
        b.iter(|| engine::check(&opts).expect("check").findings.len())
    });
    group.finish();

    let text = support::exposition(50_000);
    let format = obsgate::parse::exposition::Format::Text004;
    c.bench_function("exposition parse + lint (50,000 series)", |b| {
        b.iter(|| {
            let e = obsgate::parse::exposition::parse(&text, format);
            obsgate::parse::exposition::lint(&e).len()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
