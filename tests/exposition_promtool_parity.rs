//! The exposition parser (written here: no crate parses both formats with positions, see
//! notes/crates.md) against promtool. Compares `parse` + `lint` with `promtool check metrics` (Prometheus 2.42) when promtool
//! is on PATH: parse verdict, first error line and text, and the ordered list of
//! (metric, problem) pairs.
use obsgate::parse::exposition::*;
use std::io::Write;
use std::process::{Command, Stdio};

const TD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/corpus/prometheus/model/textparse/testdata"
);
const SCRAPES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/seed/scrapes");

/// Crafted inputs: one per lint problem, plus parse edge cases.
const CRAFTED: &[(&str, &str)] = &[
    ("no_help", "# TYPE a gauge\na 1\n"),
    ("unit_ms", "# HELP a_milliseconds h\n# TYPE a_milliseconds gauge\na_milliseconds 1\n"),
    ("unit_kib", "# HELP disk_kibibytes h\n# TYPE disk_kibibytes gauge\ndisk_kibibytes 1\n"),
    ("unit_base_ok", "# HELP d_kelvin h\n# TYPE d_kelvin gauge\nd_kelvin 1\n"),
    ("unit_fahrenheit", "# HELP t_fahrenheit h\n# TYPE t_fahrenheit gauge\nt_fahrenheit 1\n"),
    ("counter_no_total", "# HELP reqs h\n# TYPE reqs counter\nreqs 1\n"),
    ("gauge_total", "# HELP up_total h\n# TYPE up_total gauge\nup_total 1\n"),
    ("untyped_total", "# HELP x_total h\nx_total 1\n"),
    ("bucket_suffix", "# HELP q_bucket h\n# TYPE q_bucket gauge\nq_bucket 1\n"),
    ("count_sum_suffix", "# HELP q_count h\n# TYPE q_count gauge\nq_count 1\n# HELP r_sum h\n# TYPE r_sum counter\nr_sum 1\n"),
    ("le_quantile_labels", "# HELP g h\n# TYPE g gauge\ng{le=\"1\"} 1\ng{quantile=\"1\"} 1\n"),
    ("hist_quantile_label", "# HELP h h\n# TYPE h histogram\nh_bucket{quantile=\"1\",le=\"1\"} 1\nh_bucket{quantile=\"1\",le=\"+Inf\"} 1\nh_count{quantile=\"1\"} 1\n"),
    ("summary_le_label", "# HELP s h\n# TYPE s summary\ns{le=\"1\",quantile=\"0.5\"} 1\ns_sum{le=\"1\"} 1\ns_count{le=\"1\"} 1\n"),
    ("type_in_name", "# HELP my_gauge h\n# TYPE my_gauge gauge\nmy_gauge 1\n# HELP a_histogram_x h\n# TYPE a_histogram_x gauge\na_histogram_x 1\n# HELP b_gauge_histogram h\n# TYPE b_gauge_histogram gauge\nb_gauge_histogram 1\n# HELP c_summary_total h\n# TYPE c_summary_total counter\nc_summary_total 1\n"),
    ("colon", "# HELP job:rate5m h\n# TYPE job:rate5m gauge\njob:rate5m 1\n"),
    ("camel_metric", "# HELP httpRequests h\n# TYPE httpRequests gauge\nhttpRequests 1\n"),
    ("camel_labels", "# HELP a h\n# TYPE a gauge\na{methodName=\"x\",statusCode=\"1\"} 1\na{methodName=\"y\"} 1\n"),
    ("camel_labels_hist", "# HELP h_seconds h\n# TYPE h_seconds histogram\nh_seconds_bucket{pathName=\"/\",le=\"1\"} 1\nh_seconds_bucket{pathName=\"/\",le=\"+Inf\"} 1\nh_seconds_sum{pathName=\"/\"} 1\nh_seconds_count{pathName=\"/\"} 1\n"),
    ("abbrev", "# HELP lat_ms h\n# TYPE lat_ms gauge\nlat_ms 1\n# HELP size_kb_x h\n# TYPE size_kb_x gauge\nsize_kb_x 1\n# HELP up_s h\n# TYPE up_s gauge\nup_s 1\n"),
    ("duplicate_series", "# HELP a h\n# TYPE a gauge\na 1\na 1\n"),
    ("counter_total_split", "# HELP foo h\n# TYPE foo counter\nfoo_total 1\n"),
    ("summary_bucket", "# HELP x h\n# TYPE x summary\nx{quantile=\"0.5\"} 1\nx_sum 1\nx_count 1\nx_bucket 1\n"),
    ("many", "# TYPE fooBar_ms counter\nfooBar_ms{aB=\"1\",le=\"2\"} 1\n"),
    ("help_only", "# HELP lonely h\n# TYPE lonely counter\n"),
    ("blank_and_comments", "\n# just a comment\n  \n#\n# HELP a h\n\n# TYPE a gauge\n  a  1   123\n"),
    ("trailing_comma", "# HELP a h\n# TYPE a gauge\na{x=\"y\",} 1\na{} 2\n"),
    ("values", "# HELP a h\n# TYPE a gauge\na{v=\"1\"} +Inf\na{v=\"2\"} -Inf\na{v=\"3\"} NaN\na{v=\"4\"} .5e-3 -1\n"),
    ("err_missing_newline", "# HELP a h\na 1"),
    ("err_trailing_space", "a 1 \n"),
    ("err_second_type", "# TYPE a gauge\na 1\n# TYPE a gauge\n"),
    ("err_second_help", "# HELP a x\n# HELP a y\n"),
    ("err_bad_escape", "a{x=\"\\q\"} 1\n"),
    ("err_bad_type", "# TYPE a gaugeish\n"),
    ("err_hex", "a 0x1p3\n"),
    ("err_dup_label", "a{x=\"1\",x=\"2\"} 1\n"),
    ("err_late", "a 1\nb 2\nc{x=\"1\" 3\nd 4\n"),
    ("err_bad_le", "# TYPE h histogram\nh_bucket{le=\"x\"} 1\n"),
    ("err_utf8_name", "{\"my.metric\"} 1\n"),
    ("summary_dup_quantile", "# HELP s h\n# TYPE s summary\ns{quantile=\"1\",quantile=\"2\"} 1\n"),
    ("help_via_sum", "# HELP s h\n# TYPE s summary\ns_sum 1\n# HELP s_sum again\n"),
    ("gauge_histogram", "# HELP gh_bucket h\n# TYPE gh_bucket gauge_histogram\ngh_bucket{le=\"1\",fooBar=\"x\"} 1\n"),
    ("type_case", "# HELP a h\n# TYPE a Counter\na 1\n# HELP b_total h\n# TYPE b_total COUNTER\nb_total 1\n"),
    ("untyped_reserved", "# HELP a_bucket h\na_bucket{le=\"1\",quantile=\"x\"} 1\n"),
    ("hist_bare_and_split", "# HELP h h\n# TYPE h histogram\nh 1\nh_bucket{le=\"+Inf\",aB=\"1\"} 1\nh_count{aB=\"1\"} 1\nh_count{aB=\"2\"} 1\n"),
    ("interleaved", "# HELP a h\n# TYPE a gauge\na{x=\"1\"} 1\n# HELP b h\n# TYPE b gauge\nb 1\na{x=\"2\"} 2\n"),
    ("err_help_quote_escape", "# HELP a say \\\"hi\\\"\na 1\n"),
];

/// promtool is absent: skip with a reason locally, fail in CI (`.ci/run` installs it).
fn no_promtool() -> bool {
    if promtool("").is_some() {
        return false;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("promtool is not installed; .ci/run must install Debian's `prometheus` package");
    }
    eprintln!("SKIP: promtool not on PATH (apt-get install prometheus)");
    true
}

struct Promtool {
    error: Option<(usize, String)>,
    problems: Vec<(String, String)>,
}

fn promtool(input: &str) -> Option<Promtool> {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(input.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let mut r = Promtool {
        error: None,
        problems: Vec::new(),
    };
    // The error (if any) is printed last and its text may contain a line break.
    let (lints, err) = match text.find("error while linting: ") {
        Some(k) => (&text[..k], Some(&text[k + "error while linting: ".len()..])),
        None => (text.as_str(), None),
    };
    if let Some(err) = err {
        let err = err.strip_suffix('\n').unwrap_or(err);
        r.error = Some(
            match err.strip_prefix("text format parsing error in line ") {
                Some(rest) => {
                    let (n, msg) = rest.split_once(": ")?;
                    (n.parse().ok()?, msg.to_string())
                }
                None => (0, err.to_string()),
            },
        );
    }
    for line in lints.lines() {
        if let Some((m, t)) = line.split_once(' ') {
            r.problems.push((m.to_string(), t.to_string()));
        }
    }
    Some(r)
}

/// Cases allowed to differ, with the reason.
const KNOWN: &[(&str, &str)] = &[(
    "err_utf8_name",
    "quoted UTF-8 metric names are accepted on purpose (Prometheus 3 syntax); promtool 2.42 rejects them",
)];

#[test]
fn parity_with_promtool() {
    if no_promtool() {
        return;
    }
    let mut inputs: Vec<(String, String)> = Vec::new();
    for dir in [TD, SCRAPES] {
        let Ok(rd) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut ps: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        ps.sort();
        for p in ps {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            if n.ends_with(".txt") && !n.contains(".om.") {
                let b = std::fs::read(&p).unwrap();
                inputs.push((n, String::from_utf8_lossy(&b).into_owned()));
            }
        }
    }
    for (n, s) in CRAFTED {
        inputs.push((n.to_string(), s.to_string()));
    }
    let (mut agree, mut lint_pairs_same, mut verdict_same) = (0, 0, 0);
    let mut unexpected = Vec::new();
    for (name, src) in &inputs {
        let pt = promtool(src).expect("promtool run");
        let e = parse(src, Format::Text004);
        let ours_err = e.errors.first().map(|x| (x.line, x.message.clone()));
        let ours_lint: Vec<(String, String)> = if e.errors.is_empty() {
            lint(&e)
                .into_iter()
                .map(|p| (p.family, p.message))
                .collect()
        } else {
            Vec::new()
        };
        let same_verdict = ours_err.is_some() == pt.error.is_some();
        let same_error = ours_err == pt.error;
        let same_lint = ours_lint == pt.problems;
        verdict_same += usize::from(same_verdict);
        lint_pairs_same += usize::from(same_lint);
        if same_verdict && same_error && same_lint {
            agree += 1;
            continue;
        }
        let known = KNOWN.iter().find(|k| k.0 == name);
        println!(
            "DIFF {name}{}:\n  promtool error={:?} problems={:?}\n  ours     error={:?} problems={:?}",
            known.map_or(String::new(), |k| format!(" (known: {})", k.1)),
            pt.error,
            pt.problems,
            ours_err,
            ours_lint
        );
        if known.is_none() {
            unexpected.push(name.clone());
        }
    }
    let m = inputs.len();
    println!("promtool parity: agree {agree}/{m} (verdict {verdict_same}/{m}, lint list {lint_pairs_same}/{m})");
    assert!(
        unexpected.is_empty(),
        "unexpected disagreements: {unexpected:?}"
    );
}

/// Differential check on deterministic random mutations of the crafted inputs: parse verdict
/// and first error (line and text) must match promtool.
#[test]
fn mutations_vs_promtool() {
    if no_promtool() {
        return;
    }
    let n: usize = std::env::var("MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let alphabet: &[u8] = b"{}\",=# \n\t\\_:le+Inf.0e-xaHELPTYPE\r";
    let mut seed: u64 = std::env::var("SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x1234_5678_9ABC_DEF1);
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut same, mut total, mut known) = (0, 0, 0);
    let mut diffs = Vec::new();
    for k in 0..n {
        let base = CRAFTED[k % CRAFTED.len()].1.as_bytes();
        let mut m = base.to_vec();
        for _ in 0..1 + next() % 3 {
            let r = next();
            let pos = (r as usize >> 8) % m.len().max(1);
            let c = alphabet[(r >> 32) as usize % alphabet.len()];
            match r % 3 {
                0 if !m.is_empty() => m[pos] = c,
                1 => m.insert(pos.min(m.len()), c),
                _ if !m.is_empty() => {
                    m.remove(pos);
                }
                _ => {}
            }
        }
        let s = String::from_utf8_lossy(&m).into_owned();
        let pt = promtool(&s).unwrap();
        let e = parse(&s, Format::Text004);
        let ours = e.errors.first().map(|x| (x.line, x.message.clone()));
        let ours_lint: Vec<(String, String)> = if e.errors.is_empty() {
            lint(&e)
                .into_iter()
                .map(|p| (p.family, p.message))
                .collect()
        } else {
            Vec::new()
        };
        total += 1;
        if ours == pt.error && ours_lint == pt.problems {
            same += 1;
        } else if quoted_name_line(&s, &pt) {
            known += 1;
        } else {
            diffs.push(format!(
                "{s:?}\n  promtool {:?} {:?}\n  ours     {:?} {:?}",
                pt.error, pt.problems, ours, ours_lint
            ));
        }
    }
    for d in &diffs {
        println!("DIFF {d}");
    }
    println!(
        "mutations vs promtool: agree {same}/{total}, known (quoted UTF-8 names) {known}, other {}",
        diffs.len()
    );
    assert!(diffs.is_empty());
}

/// promtool 2.42 rejects the quoted-name syntax this parser accepts on purpose: its error is on
/// a line that starts with `{` or `"`, or has a quoted label or metric name.
fn quoted_name_line(src: &str, pt: &Promtool) -> bool {
    let Some((n, msg)) = &pt.error else {
        return false;
    };
    let Some(line) = src.split('\n').nth(n.saturating_sub(1)) else {
        return false;
    };
    let t = line.trim_start_matches([' ', '\t']);
    (msg.starts_with("invalid metric name") || msg.starts_with("invalid label name"))
        && (t.starts_with('{')
            || t.starts_with('"')
            || line.contains("{\"")
            || line.contains(",\"")
            || (t.starts_with('#') && line.contains('"')))
}

/// Generated valid expositions built from name parts that trigger every lint rule (units,
/// prefixes, abbreviations, type names, camelCase, colons, reserved suffixes and labels):
/// lint output must equal promtool's, problem for problem and in order.
#[test]
fn generated_lint_vs_promtool() {
    if no_promtool() {
        return;
    }
    const PARTS: &[&str] = &[
        "http",
        "requests",
        "total",
        "seconds",
        "milliseconds",
        "kilobytes",
        "bytes",
        "ms",
        "s",
        "kb",
        "sec",
        "count",
        "sum",
        "bucket",
        "counter",
        "gauge",
        "histogram",
        "summary",
        "gauge_histogram",
        "info",
        "fooBar",
        "job:rate",
        "hours",
        "bits",
        "celsius",
        "kelvins",
        "thermometers",
        "d",
        "h",
        "mibibytes",
        "created",
        "Total",
        "MS",
    ];
    const LABELS: &[&str] = &[
        "method",
        "statusCode",
        "le",
        "quantile",
        "pathName",
        "code",
        "aB",
    ];
    const TYPES: &[&str] = &["counter", "gauge", "histogram", "summary", "untyped", ""];
    let n: usize = std::env::var("GENERATED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let mut seed: u64 = std::env::var("SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(77);
    let mut next = |m: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % m as u64) as usize
    };
    let (mut same, mut pairs, mut known) = (0, 0, 0);
    let mut diffs = Vec::new();
    for _ in 0..n {
        let mut src = String::new();
        let mut used = std::collections::HashSet::new();
        for _ in 0..8 {
            let mut name = String::from(["app", "x", "node"][next(3)]);
            for _ in 0..1 + next(3) {
                name.push('_');
                name.push_str(PARTS[next(PARTS.len())]);
            }
            if !used.insert(name.clone()) {
                continue;
            }
            let t = TYPES[next(TYPES.len())];
            if next(4) != 0 {
                src += &format!("# HELP {name} help\n");
            }
            if !t.is_empty() {
                src += &format!("# TYPE {name} {t}\n");
            }
            for series in 0..1 + next(3) {
                let mut labels = vec![format!("inst=\"{series}\"")];
                for _ in 0..next(3) {
                    let l = LABELS[next(LABELS.len())];
                    if !labels.iter().any(|x| x.starts_with(&format!("{l}="))) {
                        labels.push(format!("{l}=\"0.5\""));
                    }
                }
                let ls = labels.join(",");
                match t {
                    "histogram" => {
                        let ls: Vec<_> = labels
                            .iter()
                            .filter(|l| !l.starts_with("le="))
                            .cloned()
                            .collect();
                        let ls = ls.join(",");
                        src += &format!("{name}_bucket{{{ls},le=\"1\"}} 1\n{name}_bucket{{{ls},le=\"+Inf\"}} 2\n{name}_sum{{{ls}}} 3\n{name}_count{{{ls}}} 2\n");
                    }
                    "summary" => {
                        let ls: Vec<_> = labels
                            .iter()
                            .filter(|l| !l.starts_with("quantile="))
                            .cloned()
                            .collect();
                        let ls = ls.join(",");
                        src += &format!("{name}{{{ls},quantile=\"0.5\"}} 1\n{name}_sum{{{ls}}} 3\n{name}_count{{{ls}}} 2\n");
                    }
                    _ => src += &format!("{name}{{{ls}}} 1\n"),
                }
            }
        }
        let pt = promtool(&src).unwrap();
        let e = parse(&src, Format::Text004);
        let ours_err = e.errors.first().map(|x| (x.line, x.message.clone()));
        let ours: Vec<(String, String)> = match ours_err {
            Some(_) => Vec::new(),
            None => lint(&e)
                .into_iter()
                .map(|p| (p.family, p.message))
                .collect(),
        };
        pairs += pt.problems.len();
        if ours_err == pt.error && ours == pt.problems {
            same += 1;
            continue;
        }
        // promlint picks the unit of a name with several unit words through Go map order.
        let unit_only = |v: &Vec<(String, String)>| -> Vec<(String, String)> {
            v.iter()
                .filter(|p| !p.1.starts_with("use base unit"))
                .cloned()
                .collect()
        };
        let plausible = |v: &Vec<(String, String)>| {
            v.iter()
                .filter(|p| p.1.starts_with("use base unit"))
                .all(|(m, t)| {
                    let unit = t
                        .rsplit(" instead of ")
                        .next()
                        .unwrap_or("")
                        .trim_matches('"');
                    m.split('_').any(|w| w == unit)
                })
        };
        if ours_err == pt.error
            && unit_only(&ours) == unit_only(&pt.problems)
            && plausible(&ours)
            && plausible(&pt.problems)
        {
            known += 1;
            continue;
        }
        diffs.push(format!(
            "{src}\n  promtool {:?} {:?}\n  ours     {:?} {:?}",
            pt.error, pt.problems, ours_err, ours
        ));
    }
    for d in &diffs {
        println!("DIFF {d}");
    }
    println!(
        "generated lint vs promtool: agree {same}/{n} ({pairs} problems), known (random unit choice) {known}, other {}",
        diffs.len()
    );
    assert!(diffs.is_empty());
}
