//! Per-check fixtures: `bad.*` triggers the check (snapshot of the exact diagnostics), `good.*`
//! does not; so do the further cases `bad-<case>.*`/`good-<case>.*` (files or directories). All
//! checks run, and the output is filtered to the fixture's check.

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

        // files named `context*` are audited with both fixtures (a scrape record, a rule file)
        let context: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("context"))
            })
            .collect();
        let with = |f: std::path::PathBuf| {
            let mut v = vec![f];
            v.extend(context.iter().cloned());
            v
        };
        let outcome = common::run(&with(bad), config.as_deref());
        let concise = common::concise(&outcome, Some(id));
        if concise.is_empty() {
            failures.push(format!("{id}: bad fixture triggers nothing"));
        }
        let text = common::text(&outcome, Some(id));
        insta::assert_snapshot!(id.replace('/', "__"), format!("{concise}\n{text}"));

        let outcome = common::run(&with(good), config.as_deref());
        let quiet = common::concise(&outcome, Some(id));
        if !quiet.is_empty() {
            failures.push(format!("{id}: good fixture triggers:\n{quiet}"));
        }

        // more cases of the check: `bad-<case>.*` / `good-<case>.*` files or `bad-<case>/`
        // directories (audited together: files that only mean something side by side), each
        // with the context files; a bad case's findings are snapshotted as `<id>__<case>`
        let mut cases: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("bad-") || n.starts_with("good-"))
            })
            .collect();
        cases.sort();
        for case in cases {
            let name = case
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap()
                .to_string();
            let outcome = common::run(&with(case.clone()), config.as_deref());
            let concise = common::concise(&outcome, Some(id));
            if let Some(rest) = name.strip_prefix("bad-") {
                let stem = rest.split('.').next().unwrap_or(rest);
                if concise.is_empty() {
                    failures.push(format!("{id}: {name} triggers nothing"));
                }
                let text = common::text(&outcome, Some(id));
                insta::assert_snapshot!(
                    format!("{}__{stem}", id.replace('/', "__")),
                    format!("{concise}\n{text}")
                );
            } else if !concise.is_empty() {
                failures.push(format!("{id}: {name} triggers:\n{concise}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
