//! Benchmark inputs, generated from the real rule files in `../shared/corpus` (never modified):
//! shared by the criterion benches (`benches/*.rs`) and `examples/bench_data.rs`, which writes
//! them to `target/bench-data/` for `benches/compare.sh` (obsgate against promtool on the same
//! files).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn out_dir() -> PathBuf {
    root().join("target/bench-data")
}

/// Every awesome-prometheus-alerts rule file, sorted.
fn awesome_files() -> Option<Vec<PathBuf>> {
    let dir = root().join("../shared/corpus/awesome-prometheus-alerts/dist/rules");
    if !dir.is_dir() {
        return None;
    }
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).ok()?.filter_map(|e| e.ok()) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
                files.push(p);
            }
        }
    }
    files.sort();
    Some(files)
}

/// All awesome-prometheus-alerts rules (~950) merged into one rule file. `copy` makes group and
/// alert names unique across copies (`None`: the names as published, groups numbered).
pub fn awesome_merged(copy: Option<usize>) -> Option<String> {
    let files = awesome_files()?;
    let suffix = copy.map(|c| format!("C{c}")).unwrap_or_default();
    let mut out = String::from("groups:\n");
    for (i, f) in files.iter().enumerate() {
        let text = std::fs::read_to_string(f).ok()?;
        for line in text.lines() {
            if line.trim_end() == "groups:" {
                continue;
            }
            if let Some(name) = line.strip_prefix("- name: ") {
                let _ = writeln!(out, "- name: {}-{i}{suffix}", name.trim());
            } else if let Some((indent, name)) = line.split_once("- alert: ") {
                let _ = writeln!(out, "{indent}- alert: {}{suffix}", name.trim());
            } else {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    Some(out)
}

/// Writes `awesome-all.yml` (one file, ~950 rules) and returns its path.
pub fn write_awesome() -> Option<PathBuf> {
    let text = awesome_merged(None)?;
    let dir = out_dir();
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join("awesome-all.yml");
    write_if_changed(&path, &text)?;
    Some(path)
}

/// Writes the large set: `copies` renamed copies of the merged awesome rules, one file each, in
/// `large/` (42 copies: ~40,000 rules, ~20 MB). Returns the directory.
pub fn write_large_set(copies: usize) -> Option<PathBuf> {
    let dir = out_dir().join("large");
    std::fs::create_dir_all(&dir).ok()?;
    for c in 0..copies {
        let text = awesome_merged(Some(c))?;
        write_if_changed(&dir.join(format!("rules-{c:02}.yml")), &text)?;
    }
    // a previous, larger set must not linger
    for c in copies.. {
        let p = dir.join(format!("rules-{c:02}.yml"));
        if std::fs::remove_file(&p).is_err() {
            break;
        }
    }
    Some(dir)
}

fn write_if_changed(path: &Path, text: &str) -> Option<()> {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).ok()?;
    }
    Some(())
}

/// Alert names and severities of one rule file's text (`- alert:` and `severity:` lines).
pub fn alerts_of(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix("- alert: ") {
            out.push((name.trim().to_string(), String::new()));
        } else if let Some(sev) = t.strip_prefix("severity: ") {
            if let Some(last) = out.last_mut() {
                last.1 = sev.trim().to_string();
            }
        }
    }
    out
}

/// An Alertmanager config with a deep routing tree over the given alert names: the top level
/// splits by severity, then each level narrows the alert name by one more leading character (a
/// trie of name prefixes, up to `depth` levels), every leaf with its own receiver; plus the usual
/// inhibition rules (critical mutes warning, warning mutes info, per instance).
pub fn deep_alertmanager(alerts: &[(String, String)], depth: usize) -> String {
    // prefix trie: prefix -> children prefixes
    let mut prefixes: BTreeMap<String, usize> = BTreeMap::new();
    for (name, _) in alerts {
        for l in 1..=depth.min(name.len()) {
            *prefixes.entry(name[..l].to_string()).or_default() += 1;
        }
    }
    let mut out = String::from(
        "global:\n  resolve_timeout: 5m\nroute:\n  receiver: default\n  group_by: [alertname, instance]\n  routes:\n",
    );
    let mut receivers = vec!["default".to_string()];
    for sev in ["critical", "warning", "info"] {
        let _ = writeln!(out, "  - matchers: ['severity=\"{sev}\"']");
        let _ = writeln!(out, "    receiver: {sev}");
        let _ = writeln!(out, "    continue: true");
        let _ = writeln!(out, "    routes:");
        receivers.push(sev.to_string());
        // children of the severity level: prefixes of length 1, then recursively
        fn emit(
            out: &mut String,
            prefixes: &BTreeMap<String, usize>,
            parent: &str,
            level: usize,
            depth: usize,
            sev: &str,
            receivers: &mut Vec<String>,
        ) {
            let indent = "  ".repeat(level + 2);
            let kids: Vec<&String> = prefixes
                .range(parent.to_string()..)
                .map(|(k, _)| k)
                .take_while(|k| k.starts_with(parent))
                .filter(|k| k.len() == parent.len() + 1)
                .collect();
            for k in kids {
                let escaped = regex_escape(k);
                let _ = writeln!(out, "{indent}- matchers: ['alertname=~\"{escaped}.*\"']");
                if level + 1 >= depth || prefixes[k] <= 1 {
                    let r = format!("{sev}-{}", k.to_lowercase());
                    let _ = writeln!(out, "{indent}  receiver: {r}");
                    receivers.push(r);
                } else {
                    let _ = writeln!(out, "{indent}  routes:");
                    emit(out, prefixes, k, level + 1, depth, sev, receivers);
                }
            }
        }
        emit(&mut out, &prefixes, "", 1, depth, sev, &mut receivers);
    }
    out.push_str("inhibit_rules:\n");
    for (src, tgt) in [
        ("critical", "warning"),
        ("warning", "info"),
        ("critical", "info"),
    ] {
        let _ = writeln!(
            out,
            "- source_matchers: ['severity=\"{src}\"']\n  target_matchers: ['severity=\"{tgt}\"']\n  equal: [instance]"
        );
    }
    out.push_str("receivers:\n");
    for r in receivers {
        let _ = writeln!(
            out,
            "- name: {r}\n  webhook_configs:\n  - url: http://127.0.0.1:9/{r}"
        );
    }
    out
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_string()
            } else {
                format!("\\\\{c}")
            }
        })
        .collect()
}

/// A Prometheus text-format scrape with `series` series: counters, gauges and histograms over
/// a few label dimensions, as a large service exposes them.
pub fn exposition(series: usize) -> String {
    let mut out = String::with_capacity(series * 90);
    let mut n = 0;
    let mut family = 0;
    'outer: loop {
        let kind = family % 3;
        let name = match kind {
            0 => format!("app_requests_{family}_total"),
            1 => format!("app_queue_depth_{family}"),
            _ => format!("app_request_duration_{family}_seconds"),
        };
        let ty = ["counter", "gauge", "histogram"][kind];
        let _ = writeln!(out, "# HELP {name} Generated family {family}.");
        let _ = writeln!(out, "# TYPE {name} {ty}");
        for pod in 0..20 {
            for code in ["200", "404", "500", "503", "301"] {
                let labels = format!("pod=\"api-{pod}\",code=\"{code}\",method=\"GET\"");
                if kind == 2 {
                    let mut cum = 0u64;
                    for le in ["0.005", "0.01", "0.05", "0.1", "0.5", "1", "5", "+Inf"] {
                        cum += (pod as u64 + 3) * 7;
                        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {cum}");
                    }
                    let _ = writeln!(out, "{name}_sum{{{labels}}} {}.25", cum / 3);
                    let _ = writeln!(out, "{name}_count{{{labels}}} {cum}");
                    n += 10;
                } else {
                    let _ = writeln!(out, "{name}{{{labels}}} {}", pod * 1000 + family);
                    n += 1;
                }
                if n >= series {
                    break 'outer;
                }
            }
        }
        family += 1;
    }
    out
}
