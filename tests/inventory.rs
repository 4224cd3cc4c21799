//! The metric inventory read from a directory (definitions, committed scrapes, recording rules)
//! and which files a walk takes as exposition files.

mod common;

use obsgate::engine;
use obsgate::model::inventory::{inventory, render_json, Source, Types};
use obsgate::model::FileKind;
use obsgate::source::discover::Filter;

fn load(rel: &str) -> obsgate::model::Project {
    let path = common::root().join(rel);
    engine::load(&[path], &common::root(), &Filter::default()).expect("load")
}

#[test]
fn inventory_of_definitions_scrapes_and_recording_rules() {
    let project = load("tests/data/inventory");
    let entries = inventory(&project);
    let get = |name: &str| {
        entries
            .iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("{name} not in the inventory"))
    };
    // Python: a Counter's series is `_total`, labels read from the list
    let orders = get("shop_orders_total");
    assert_eq!(
        (orders.kind, orders.source),
        ("counter", Source::Definition)
    );
    assert_eq!(orders.labels.as_deref(), Some(&["payment".to_string()][..]));
    let checkout = get("shop_checkout_duration_seconds");
    assert_eq!(
        checkout.buckets.as_deref(),
        Some(&[0.1, 0.25, 0.5, 1.0][..])
    );
    // Go: a label list in a package variable is read
    let depth = get("worker_queue_depth");
    assert_eq!(
        (depth.kind, depth.labels.as_deref()),
        ("gauge", Some(&["queue".to_string()][..]))
    );
    // native-only histogram: no classic buckets listed
    let fetch = get("worker_fetch_duration_seconds");
    assert_eq!(fetch.buckets, None);
    let h = fetch.histogram.expect("a histogram");
    assert!(h.native && !h.classic);
    // the committed scrape: `le` is not a label, the boundaries are the buckets
    let backup = get("backup_duration_seconds");
    assert_eq!(backup.source, Source::Scrape);
    assert_eq!(backup.labels.as_deref(), Some(&["target".to_string()][..]));
    assert_eq!(backup.buckets.as_deref(), Some(&[60.0, 600.0][..]));
    // a recording rule: listed, type not guessed
    let rec = get("payment:shop_orders_total:rate5m");
    assert_eq!((rec.kind, rec.source), ("unknown", Source::RecordingRule));
    assert!(rec.labels.is_none());
    // README.txt mentions `# TYPE` but is no scrape
    assert!(project
        .sources
        .iter()
        .all(|s| !s.path.ends_with("README.txt")));

    let types = Types::of(&entries);
    assert!(types.counters.contains_key("shop_orders_total"));
    assert!(types
        .counters
        .contains_key("backup_duration_seconds_bucket"));
    assert!(types.gauge("worker_queue_depth").is_some());
    assert!(types
        .gauge("backup_last_success_timestamp_seconds")
        .is_some());
    assert!(types
        .classic_only("shop_checkout_duration_seconds")
        .is_some());
    assert!(types.classic_only("backup_duration_seconds").is_some());
    assert!(types
        .classic_only("worker_fetch_duration_seconds")
        .is_none());

    let json: serde_json::Value = serde_json::from_str(&render_json(&project, &entries)).unwrap();
    let metrics = json["metrics"].as_array().unwrap();
    assert_eq!(metrics.len(), entries.len());
    for m in metrics {
        for key in [
            "name", "type", "labels", "buckets", "file", "line", "source",
        ] {
            assert!(m.get(key).is_some(), "{key} missing in {m}");
        }
    }
}

#[test]
fn exposition_files_are_found_by_extension_or_content() {
    let project = load("fixtures/metrics/exposition/good-textfile");
    let kinds: Vec<(String, FileKind)> = project
        .files
        .iter()
        .map(|f| (project.sources.get(f.file).path.clone(), f.kind))
        .collect();
    let kind_of = |name: &str| {
        kinds
            .iter()
            .find(|(p, _)| p.ends_with(name))
            .map(|(_, k)| *k)
    };
    assert_eq!(kind_of("/apt.prom"), Some(FileKind::Exposition));
    assert_eq!(kind_of("/recorded.prom"), Some(FileKind::Exposition));
    assert_eq!(kind_of("/sample-scrape.txt"), Some(FileKind::Exposition));
    assert_eq!(kind_of("/NOTES.txt"), None);
    // committed scrapes are not probed targets: metrics/missing does not judge the rules by them
    assert!(!project.probed());
}

#[test]
fn rate_over_a_defined_counter_is_never_reported() {
    // the good case: `worker_jobs_in_flight` reads like a gauge but is defined as a counter
    let outcome = common::run(
        &[common::root().join("fixtures/promql/rate-on-gauge/good-types")],
        None,
    );
    assert!(outcome
        .findings
        .iter()
        .all(|f| f.check != "promql/rate-on-gauge"));
    // without the definition, the name alone is reported
    let outcome = common::run(
        &[common::root().join("fixtures/promql/rate-on-gauge/good-types/rules.yml")],
        None,
    );
    assert!(outcome
        .findings
        .iter()
        .any(|f| f.check == "promql/rate-on-gauge" && f.message.contains("worker_jobs_in_flight")));
}
