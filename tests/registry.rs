//! The registry, `rules/` metadata, `src/checks/` modules and `fixtures/` must agree, and every
//! metadata example must fire (bad) or stay quiet (good).

mod common;

use std::collections::BTreeSet;

use obsgate::checks::registry::{metas, REGISTRY};

fn ids_under(dir: &std::path::Path, files: bool) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for domain in std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()) {
        if !domain.path().is_dir() || domain.file_name() == "seed" {
            continue;
        }
        for entry in std::fs::read_dir(domain.path())
            .unwrap()
            .filter_map(|e| e.ok())
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            let name = if files {
                match name.strip_suffix(".yml") {
                    Some(n) => n.to_string(),
                    None => continue,
                }
            } else if entry.path().is_dir() {
                name
            } else {
                continue;
            };
            out.insert(format!("{}/{}", domain.file_name().to_string_lossy(), name));
        }
    }
    out
}

#[test]
fn registry_rules_and_fixtures_agree() {
    let registry: BTreeSet<String> = REGISTRY.iter().map(|r| r.check.id().to_string()).collect();
    assert_eq!(
        registry.len(),
        REGISTRY.len(),
        "duplicate ids in the registry"
    );
    let rules = ids_under(&common::root().join("rules"), true);
    let fixtures = ids_under(&common::root().join("fixtures"), false);
    assert_eq!(registry, rules, "registry vs rules/");
    assert_eq!(registry, fixtures, "registry vs fixtures/");
    for id in &registry {
        let (domain, name) = id.split_once('/').unwrap();
        let module =
            common::root().join(format!("src/checks/{domain}/{}.rs", name.replace('-', "_")));
        assert!(module.is_file(), "{id}: missing {}", module.display());
        let dir = common::root().join("fixtures").join(id);
        assert!(
            common::fixture_file(&dir, "bad").is_some(),
            "{id}: no bad fixture"
        );
        assert!(
            common::fixture_file(&dir, "good").is_some(),
            "{id}: no good fixture"
        );
    }
}

#[test]
fn metadata_is_complete() {
    for (m, r) in metas().iter().zip(REGISTRY) {
        assert_eq!(m.id, r.check.id(), "metadata id must match the registry");
        assert!(
            !m.summary.trim().is_empty() && !m.summary.contains('\n'),
            "{}: one-line summary",
            m.id
        );
        assert!(m.rationale.trim().len() > 40, "{}: rationale", m.id);
        assert!(
            !m.example.bad.trim().is_empty() && !m.example.good.trim().is_empty(),
            "{}: examples",
            m.id
        );
        for o in &m.options {
            assert!(
                !o.description.trim().is_empty(),
                "{}: option {} undocumented",
                m.id,
                o.name
            );
        }
        let doc = obsgate::checks::meta_doc(m);
        for section in [
            "## Why is this bad?",
            "## Example",
            "Use instead:",
            "## Options",
        ] {
            assert!(doc.contains(section), "{}: docs lack {section}", m.id);
        }
    }
}

#[test]
fn metadata_examples_fire_and_stay_quiet() {
    let tmp = std::env::temp_dir().join(format!("obsgate-meta-{}", std::process::id()));
    for m in metas() {
        for (kind, text, expect) in [
            ("bad", &m.example.bad, true),
            ("good", &m.example.good, false),
        ] {
            let dir = tmp.join(m.id.replace('/', "_")).join(kind);
            std::fs::create_dir_all(&dir).unwrap();
            let file = dir.join(m.example.file.as_deref().unwrap_or("example.yml"));
            std::fs::write(&file, text).unwrap();
            let mut files = vec![file];
            if let Some(c) = &m.example.context {
                let extra = dir.join(&c.file);
                std::fs::write(&extra, &c.text).unwrap();
                files.push(extra);
            }
            let outcome = common::run(&files, m.example.config.as_deref());
            let hits: Vec<_> = outcome
                .findings
                .iter()
                .filter(|f| f.check == m.id)
                .collect();
            assert_eq!(
                !hits.is_empty(),
                expect,
                "{} {kind} example: {hits:#?}",
                m.id
            );
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
