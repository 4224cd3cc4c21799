//! Per-check fixtures: `bad.*` triggers the check (snapshot of the exact diagnostics), `good.*`
//! does not. All checks run, and the output is filtered to the fixture's check.

mod common;

use obsgate::checks::registry::REGISTRY;

#[test]
fn fixtures() {
    let mut failures = Vec::new();
    for r in REGISTRY {
        let id = r.check.id();
        let dir = common::root().join("fixtures").join(id);
        let config = std::fs::read_to_string(dir.join("obsgate.yml")).ok();
        let bad = common::fixture_file(&dir, "bad").expect("bad fixture");
        let good = common::fixture_file(&dir, "good").expect("good fixture");

        let outcome = common::run(&[bad], config.as_deref());
        let concise = common::concise(&outcome, Some(id));
        if concise.is_empty() {
            failures.push(format!("{id}: bad fixture triggers nothing"));
        }
        let text = common::text(&outcome, Some(id));
        insta::assert_snapshot!(id.replace('/', "__"), format!("{concise}\n{text}"));

        let outcome = common::run(&[good], config.as_deref());
        let quiet = common::concise(&outcome, Some(id));
        if !quiet.is_empty() {
            failures.push(format!("{id}: good fixture triggers:\n{quiet}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
