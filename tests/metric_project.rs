//! Metric definitions read across the files of a project (tests/data/metric_project, written
//! for this test): names and label lists from another file of the Go package, another Go
//! package, a Python module and JS modules, a value type set in another file, a JS wrapper
//! re-exported through an index; test and bundled copies left out of directory walks.

mod common;

use std::path::PathBuf;

use obsgate::model::inventory::definitions;
use obsgate::source::discover::Filter;

fn dir() -> PathBuf {
    common::root().join("tests/data/metric_project")
}

fn defs(paths: &[PathBuf]) -> Vec<String> {
    let project = obsgate::engine::load(paths, &dir(), &Filter::default()).expect("load");
    let mut out: Vec<String> = definitions(&project)
        .iter()
        .map(|d| {
            let labels: Vec<&str> = d.def.labels.iter().map(|l| l.0.as_str()).collect();
            format!(
                "{} {} {} [{}]{}",
                project.sources.get(d.file).path,
                if d.def.kind_known {
                    d.def.kind.as_str()
                } else {
                    "?"
                },
                d.def.name,
                labels.join(","),
                if d.def.labels_known { "" } else { "?" }
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn names_and_labels_from_other_files() {
    assert_eq!(
        defs(&[dir()]),
        [
            "go/collector/disk.go gauge shop_disk_free_bytes [device]",
            "go/collector/net.go counter shop_net_rx_bytes_total [device]",
            "js/src/server.ts counter http_requests_total [method,route,status]",
            "py/app/metrics.py counter shop_orders_total [region,status]",
        ]
    );
}

#[test]
fn files_named_explicitly_are_read_even_in_test_directories() {
    assert_eq!(
        defs(&[dir().join("py/tests/test_metrics.py")]),
        ["py/tests/test_metrics.py gauge shop_orders_total [case]"]
    );
}

#[test]
fn checks_see_the_resolved_definitions() {
    let outcome = common::run(&[dir()], None);
    let concise = common::concise(&outcome, None);
    let metric_lines: Vec<&str> = concise
        .lines()
        .filter(|l| l.contains("[metrics/") || l.contains("[labels/"))
        .collect();
    // the one selector on a label the metric lacks; no conflict with the test double or the
    // bundle, nothing unreadable
    assert_eq!(metric_lines.len(), 1, "{concise}");
    assert!(
        metric_lines[0].contains("error[metrics/label-missing]")
            && metric_lines[0].contains("`mountpoint`"),
        "{concise}"
    );
}
