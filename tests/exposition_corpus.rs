//! Integration tests on real exposition files from /work/shared.
use obsgate::parse::exposition::*;
use std::path::Path;

const TD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/corpus/prometheus/model/textparse/testdata"
);
const SCRAPES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/seed/scrapes");

fn read(p: &str) -> Option<String> {
    std::fs::read(p)
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn inputs() -> Vec<(String, String, Format)> {
    let mut v = Vec::new();
    for dir in [TD, SCRAPES] {
        let Ok(rd) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut names: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        names.sort();
        for p in names {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            if !n.ends_with(".txt") {
                continue;
            }
            let f = if n.contains(".om.") {
                Format::OpenMetrics1
            } else {
                Format::Text004
            };
            v.push((n, read(p.to_str().unwrap()).unwrap(), f));
        }
    }
    v
}

#[test]
fn corpus_files_parse_cleanly() {
    if !Path::new(TD).exists() {
        eprintln!("corpus missing; skipped");
        return;
    }
    let all = inputs();
    assert!(all.len() >= 6, "{}", all.len());
    for (name, src, f) in &all {
        let e = parse(src, *f);
        assert!(
            e.errors.is_empty(),
            "{name}: {:?}",
            &e.errors[..e.errors.len().min(3)]
        );
        let n: usize = e.families.iter().map(|f| f.samples.len()).sum();
        let inv = invariants(&e);
        println!(
            "{name}: {:?} families={} samples={n} invariants={}",
            f,
            e.families.len(),
            inv.len()
        );
        for p in inv.iter().take(5) {
            println!("   {} {}", p.family, p.message);
        }
        if *f == Format::OpenMetrics1 {
            assert!(e.eof_seen);
        }
    }
}

#[test]
fn counts_237_families() {
    let Some(src) = read(&format!("{TD}/alltypes.237mfs.prom.txt")) else {
        return;
    };
    let e = parse(&src, Format::Text004);
    let with_meta = e.families.iter().filter(|f| f.help.is_some()).count();
    assert_eq!(with_meta, 237);
    let om = read(&format!("{TD}/alltypes.5mfs.om.txt")).unwrap();
    let e = parse(&om, Format::OpenMetrics1);
    assert_eq!(
        e.families.len(),
        5,
        "{:?}",
        e.families.iter().map(|f| &f.name).collect::<Vec<_>>()
    );
    let ex = e
        .families
        .iter()
        .flat_map(|f| &f.samples)
        .filter(|s| s.exemplar.is_some())
        .count();
    assert!(ex > 0);
}

#[test]
fn seed_scrape_lint() {
    let Some(src) = read(&format!("{SCRAPES}/scrape-metrics.txt")) else {
        return;
    };
    let e = parse(&src, Format::Text004);
    assert!(e.errors.is_empty(), "{:?}", e.errors);
    assert!(invariants(&e).is_empty(), "{:?}", invariants(&e));
    let got: Vec<(String, String)> = lint(&e)
        .into_iter()
        .map(|p| (p.family, p.message))
        .collect();
    let want = "non-counter metrics should not have \"_total\" suffix".to_string();
    assert_eq!(
        got,
        vec![
            ("nodejs_active_handles_total".to_string(), want.clone()),
            ("nodejs_active_requests_total".to_string(), want)
        ]
    );
}

fn xorshift(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

fn check(s: &str) {
    for f in [Format::Text004, Format::OpenMetrics1] {
        let e = parse(s, f);
        for err in &e.errors {
            assert!(
                err.span.start <= err.span.end && err.span.end <= s.len(),
                "{err:?}"
            );
            assert!(err.line >= 1 && err.column >= 1);
        }
        for fam in &e.families {
            for smp in &fam.samples {
                assert!(s.get(smp.span.clone()).is_some());
                assert!(s.get(smp.name_span.clone()).is_some());
            }
        }
        let _ = (invariants(&e), lint(&e));
    }
}

/// Every prefix of the small inputs (and of the first 6 KiB of the big ones, plus every
/// line-boundary prefix of those), then random byte mutations. Must never panic.
fn thorough() -> bool {
    std::env::var("EXPOSITION_FUZZ").is_ok_and(|v| v == "1")
}

#[test]
fn never_panics_prefixes_and_mutations() {
    let all = inputs();
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let alphabet: &[u8] = b"{}\",=# \n\t\\_:le+Inf.0e-xa\r\0";
    for (_, src, _) in &all {
        let b = src.as_bytes();
        let small = b.len() <= 16 * 1024;
        let limit = if small { b.len() } else { 6 * 1024 };
        // every prefix with EXPOSITION_FUZZ=1 (minutes); a spread of them in the normal run
        let step = if thorough() { 1 } else { (limit / 100).max(1) };
        for cut in (0..=limit).step_by(step) {
            if let Some(p) = src.get(..cut) {
                check(p);
            }
        }
        if !small {
            for (i, _) in src
                .match_indices('\n')
                .step_by(if thorough() { 7 } else { 250 })
            {
                check(&src[..i]);
                check(&src[..=i]);
            }
        }
        let window = &b[..b.len().min(4096)];
        for _ in 0..if thorough() { 400 } else { 30 } {
            let mut m = window.to_vec();
            let n = 1 + xorshift(&mut seed) % 6;
            for _ in 0..n {
                let r = xorshift(&mut seed);
                let pos = (r as usize >> 8) % m.len().max(1);
                let c = if r.is_multiple_of(5) {
                    (r >> 40) as u8
                } else {
                    alphabet[(r >> 32) as usize % alphabet.len()]
                };
                match r % 3 {
                    0 if !m.is_empty() => m[pos] = c,
                    1 => m.insert(pos.min(m.len()), c),
                    _ if !m.is_empty() => {
                        m.remove(pos);
                    }
                    _ => {}
                }
            }
            check(&String::from_utf8_lossy(&m));
        }
    }
}
