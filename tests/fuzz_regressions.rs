//! Inputs that made a fuzz target crash, time out or run out of memory (fuzz/README.md),
//! replayed through the fuzz harness itself (`fuzz/src/lib.rs`, included below): every file of
//! `tests/data/fuzz/<target>/` goes through the function the target calls.

#[allow(dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod harness;

use std::path::Path;

/// `(file name, text)` of every input of a target, sorted.
fn inputs(target: &str) -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fuzz")
        .join(target);
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.unwrap().path();
            let text = std::fs::read_to_string(&p).unwrap();
            (p.file_name().unwrap().to_string_lossy().into_owned(), text)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no inputs in {}", dir.display());
    out
}

/// exposition: a scrape of 8330 untyped metric families (`m1 1`, `m2 1`, ...), 64 KB. Each
/// gets a finding, and the text report rendered every excerpt with miette's `SourceCode` for
/// strings, which scans the text from its start: quadratic, 35 s for this input in the fuzz
/// build (libFuzzer's 10 s timeout). The text reporter now reads excerpts through an index of
/// the line breaks (its output is compared with miette's own in `report::text`'s unit tests;
/// time is not asserted here: it is a benchmark's job).
#[test]
fn exposition_many_findings_are_all_rendered() {
    for (name, text) in inputs("exposition") {
        let findings = harness::exposition(&text);
        let families = text.lines().count();
        // each family lacks help text, in the text-format and in the OpenMetrics scrape
        let no_help = findings
            .iter()
            .filter(|f| f.check == "metrics/naming" && f.message.ends_with("no help text"))
            .count();
        assert_eq!(no_help, 2 * families, "{name}");
    }
}

/// rules_yaml: rule expressions on which promql-parser takes quadratic time, over libFuzzer's
/// 10 s timeout: `operator-chain-30000.yml`, a chain of 30000 additions (`1+1+...+1`; its type
/// check walks an operand's whole subtree for every operator), and
/// `aggregation-nesting-12000.yml`, `sum(sum(...(up)...))` 12000 deep (it copies an
/// aggregation's operand for every enclosing one). `promql::parse` now refuses more than 5000
/// operators or 1000 aggregations, reported as a `rules/promql-syntax` warning ("expression not
/// checked") at the first one over the limit.
#[test]
fn rules_yaml_overly_complex_expressions_are_refused_quickly() {
    let expected = |name: &str| match name {
        // the k-th `+` of `    expr: 1+1+...` is in column 10 + 2k
        "operator-chain-30000.yml" => ("more than 5000 operators", 10 + 2 * 5001),
        // the k-th `sum` of `    expr: sum(sum(...` is in column 7 + 4k
        "aggregation-nesting-12000.yml" => ("more than 1000 aggregations", 7 + 4 * 1001),
        other => panic!("no expectation for {other}"),
    };
    for (name, text) in inputs("rules_yaml") {
        let findings = harness::rules_yaml(&text);
        let f = findings
            .iter()
            .find(|f| f.check == "rules/promql-syntax")
            .unwrap_or_else(|| panic!("{name}: no rules/promql-syntax finding in {findings:#?}"));
        let (message, column) = expected(&name);
        assert!(f.message.contains(message), "{name}: {}", f.message);
        assert!(
            f.message.starts_with("expression not checked:"),
            "{name}: {}",
            f.message
        );
        // maybe valid PromQL: one level below the check's error
        assert_eq!(f.severity, obsgate::checks::Severity::Warning, "{name}");
        assert_eq!((f.line, f.column), (5, column), "{name}");
    }
}
