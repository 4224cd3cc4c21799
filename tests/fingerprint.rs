//! Fingerprints identify a finding across unrelated edits: moving it down by inserting lines above
//! keeps the fingerprint; two identical problems in one file get distinct fingerprints.

mod common;

#[test]
fn fingerprints_survive_line_moves() {
    let d = std::env::temp_dir().join(format!("obsgate-fp-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let body = "  - alert: A\n    expr: up == 0\n  - alert: B\n    expr: up == 0\n";
    let a = d.join("a.yml");
    std::fs::write(&a, format!("groups:\n- name: g\n  rules:\n{body}")).unwrap();
    let first = common::run(std::slice::from_ref(&a), None);
    std::fs::write(
        &a,
        format!("# a comment\n\ngroups:\n- name: g\n  rules:\n{body}"),
    )
    .unwrap();
    let moved = common::run(std::slice::from_ref(&a), None);
    let fps = |o: &obsgate::engine::Outcome| {
        o.findings
            .iter()
            .map(|f| (f.check, f.fingerprint.to_string()))
            .collect::<Vec<_>>()
    };
    assert!(!first.findings.is_empty());
    assert_eq!(fps(&first), fps(&moved));
    assert_ne!(first.findings[0].line, moved.findings[0].line);
    let mut all: Vec<String> = first
        .findings
        .iter()
        .map(|f| f.fingerprint.to_string())
        .collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), first.findings.len(), "fingerprints are unique");
    let _ = std::fs::remove_dir_all(&d);
}
