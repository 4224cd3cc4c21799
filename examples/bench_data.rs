//! Writes the benchmark inputs to `target/bench-data/` (generated from `../shared/corpus`):
//! `awesome-all.yml` (~950 rules in one file), `large/rules-NN.yml` (~40,000 rules across 42
//! files), `deep-alertmanager.yml` (a deep routing tree over the large set's alerts) and
//! `exposition-50k.prom` (a 50,000-series scrape). Used by `benches/compare.sh`.
//!
//! Run: `cargo run --release --example bench_data`

#[path = "../benches/support/mod.rs"]
mod support;

fn main() {
    let Some(awesome) = support::write_awesome() else {
        eprintln!("../shared/corpus/awesome-prometheus-alerts not found");
        std::process::exit(2);
    };
    let large = support::write_large_set(42).expect("write the large rule set");
    let mut alerts = Vec::new();
    for e in std::fs::read_dir(&large).expect("read large/") {
        let text = std::fs::read_to_string(e.expect("entry").path()).expect("read rules");
        alerts.extend(support::alerts_of(&text));
    }
    let am = support::out_dir().join("deep-alertmanager.yml");
    std::fs::write(&am, support::deep_alertmanager(&alerts, 6)).expect("write alertmanager");
    let expo = support::out_dir().join("exposition-50k.prom");
    std::fs::write(&expo, support::exposition(50_000)).expect("write exposition");
    for p in [&awesome, &large, &am, &expo] {
        println!("{}", p.display());
    }
}
