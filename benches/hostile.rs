//! Criterion benchmarks on hostile sizes (issue 20, "Sizes that are hostile, not huge"): inputs
//! that are not large in bytes but made checks walk a cross product. Generated here (no committed
//! data) into `target/bench-data/hostile/`, where the CLI can be timed on the same files:
//! - 1,000 inhibit rules over 1,000 alerts (`alertmanager/dead-inhibition`,
//!   `alertmanager/circular-inhibition`, the artifacts' inhibition summary);
//! - 20,000 files embedded by heredocs in one GitLab CI file;
//! - 150,000 metric definitions (`metrics/conflicting-definition`).
//!
//! Run: `cargo bench --bench hostile` (one: `cargo bench --bench hostile -- inhibit`).

use std::fmt::Write as _;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};

// the allocator of the obsgate binary (src/main.rs), so the figures are the CLI's
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use obsgate::config::Config;
use obsgate::engine::{self, CheckOptions};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn out_dir(name: &str) -> PathBuf {
    let dir = root().join("target/bench-data/hostile").join(name);
    std::fs::create_dir_all(&dir).expect("bench-data dir");
    dir
}

fn write(path: &std::path::Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).expect("write bench input");
    }
}

fn options(paths: Vec<PathBuf>) -> CheckOptions {
    CheckOptions {
        paths,
        base: root(),
        config: Config::default(),
        only: None,
    }
}

const SEVERITIES: [&str; 3] = ["critical", "warning", "info"];

/// `alerts` alerting rules (static `severity`, `team`, `service`; `instance` and `job` from the
/// expression, so unknown) and an Alertmanager config with `rules` inhibit rules of the shapes
/// found in the wild: severity ladders with `equal` on a series label (never certainly equal, so
/// no pair is certain and every pair used to be tried), per-alert rules, `alertname` in `equal`
/// (dead), and pairs of rules that mute each other.
pub fn inhibition(alerts: usize, rules: usize) -> PathBuf {
    let dir = out_dir(&format!("inhibit-{alerts}x{rules}"));
    let mut r = String::from("groups:\n- name: hostile\n  rules:\n");
    for i in 0..alerts {
        let _ = write!(
            r,
            "  - alert: Alert{i}\n    expr: up{{job=\"job{j}\"}} == 0\n    for: 5m\n    labels:\n      severity: {sev}\n      team: team{t}\n      service: svc{s}\n    annotations:\n      summary: alert {i}\n      runbook_url: https://runbooks.example.com/Alert{i}\n",
            j = i % 40,
            sev = SEVERITIES[i % 3],
            t = i % 10,
            s = i % 50,
        );
    }
    let mut am = String::from(
        "route:\n  receiver: default\n  group_by: [alertname, service]\nreceivers:\n- name: default\n  webhook_configs:\n  - url: http://hooks.example.com/alert\ninhibit_rules:\n",
    );
    for k in 0..rules {
        let (src, tgt, equal) = match k % 5 {
            // a severity ladder per team, equal on series labels: only "maybe" pairs
            0 => (
                format!("severity=\"critical\", team=\"team{}\"", k % 10),
                "severity=~\"warning|info\"".to_string(),
                "[instance, service]",
            ),
            1 => (
                "severity=~\"critical|warning\"".to_string(),
                format!("severity=~\"warning|info\", service!=\"svc{}\"", k % 50),
                "[job, instance]",
            ),
            // one alert mutes its neighbours
            2 => (
                format!("alertname=\"Alert{}\"", k % alerts.max(1)),
                format!("service=\"svc{}\"", k % 50),
                "[service]",
            ),
            // dead: `alertname` in `equal` between different alerts
            3 => (
                format!("alertname=\"Alert{}\"", k % alerts.max(1)),
                format!("team=\"team{}\", severity=\"warning\"", (k + 1) % 10),
                "[alertname, instance]",
            ),
            // both directions between two teams: circular
            _ => (
                format!("team=\"team{}\"", k % 10),
                format!("team=\"team{}\"", (k + 3) % 10),
                "[instance]",
            ),
        };
        let _ = write!(
            am,
            "- source_matchers: ['{src}']\n  target_matchers: ['{tgt}']\n  equal: {equal}\n"
        );
    }
    write(&dir.join("rules.yml"), &r);
    write(&dir.join("alertmanager.yml"), &am);
    dir
}

/// One GitLab CI file whose jobs write `files` files by heredocs: rule files (a few sharing a
/// name, so labels are numbered), Prometheus configs and JSON dashboards.
pub fn heredocs(files: usize) -> PathBuf {
    let dir = out_dir(&format!("heredocs-{files}"));
    let per_job = 100;
    let mut ci = String::from("stages: [build]\n");
    for job in 0..files.div_ceil(per_job) {
        let _ = write!(
            ci,
            "job-{job}:\n  stage: build\n  variables:\n    TEAM: team{job}\n  script:\n    - |\n"
        );
        for k in 0..per_job.min(files - job * per_job) {
            let n = job * per_job + k;
            match n % 4 {
                0 | 1 => {
                    // every tenth rule file is `rules.yml`: the same name again and again
                    let name = if n % 10 == 0 {
                        "rules.yml".to_string()
                    } else {
                        format!("rules/r{n}.yml")
                    };
                    let _ = write!(
                        ci,
                        "      cat > {name} <<EOF\n      groups:\n      - name: g{n}\n        rules:\n        - alert: Down{n}\n          expr: up{{job=\"$TEAM\"}} == 0\n          for: 5m\n          labels:\n            severity: warning\n          annotations:\n            summary: job {n} down\n      EOF\n"
                    );
                }
                2 => {
                    let _ = write!(
                        ci,
                        "      cat > prom/p{n}.yml <<'EOF'\n      global:\n        scrape_interval: 30s\n      scrape_configs:\n      - job_name: j{n}\n        static_configs:\n        - targets: ['host{n}:9100']\n      EOF\n"
                    );
                }
                _ => {
                    let _ = write!(
                        ci,
                        "      cat > dash/d{n}.json <<'EOF'\n      {{\"title\": \"d{n}\", \"panels\": []}}\n      EOF\n"
                    );
                }
            }
        }
    }
    write(&dir.join(".gitlab-ci.yml"), &ci);
    dir
}

/// Go files with `defs` metric definitions: mostly distinct names, some defined again with the
/// same shape, some with another type, labels or buckets, and one name defined a thousand times
/// with different labels.
pub fn definitions(defs: usize) -> PathBuf {
    let dir = out_dir(&format!("definitions-{defs}"));
    let per_file = 5_000;
    for file in 0..defs.div_ceil(per_file) {
        let mut go = String::from(
            "package metrics\n\nimport (\n\t\"github.com/prometheus/client_golang/prometheus\"\n\t\"github.com/prometheus/client_golang/prometheus/promauto\"\n)\n\nvar (\n",
        );
        for k in 0..per_file.min(defs - file * per_file) {
            let n = file * per_file + k;
            // names repeat across files: n and n + defs/3 share a name
            let id = n % (defs / 3).max(1);
            let (ctor, opts, name, labels, buckets) = match n % 7 {
                0 => (
                    "NewHistogramVec",
                    "HistogramOpts",
                    format!("app_request_duration_{id}_seconds"),
                    format!("[]string{{\"route\", \"code{}\"}}", n % 2),
                    format!("\n\t\tBuckets: []float64{{0.1, 0.5, {}}},", 1 + n % 3),
                ),
                1 if n % 1000 == 1 => (
                    "NewCounterVec",
                    "CounterOpts",
                    "app_hot_total".to_string(),
                    format!("[]string{{\"l{n}\"}}"),
                    String::new(),
                ),
                1 | 2 => (
                    "NewCounterVec",
                    "CounterOpts",
                    format!("app_events_{id}_total"),
                    "[]string{\"kind\"}".to_string(),
                    String::new(),
                ),
                3 => (
                    "NewGaugeVec",
                    "GaugeOpts",
                    format!("app_events_{id}_total"),
                    "[]string{\"kind\"}".to_string(),
                    String::new(),
                ),
                _ => (
                    "NewGaugeVec",
                    "GaugeOpts",
                    format!("app_queue_{id}_depth"),
                    "labelNames".to_string(),
                    String::new(),
                ),
            };
            let _ = write!(
                go,
                "\tM{n} = promauto.{ctor}(prometheus.{opts}{{\n\t\tName: \"{name}\",\n\t\tHelp: \"metric {n}\",{buckets}\n\t}}, {labels})\n"
            );
        }
        go.push_str(")\n");
        write(&dir.join(format!("metrics_{file}.go")), &go);
    }
    dir
}

/// Is the benchmark named `name` selected by the command line's filter? (Its input is generated
/// and checked once before timing, which takes long for the slow ones: skip what is not run.)
fn wanted(name: &str) -> bool {
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    filter.is_empty() || name.contains(&filter)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("hostile");
    group.sample_size(10);

    if wanted("inhibit") {
        let opts = options(vec![inhibition(1_000, 1_000)]);
        let n = engine::check(&opts).expect("check").findings.len();
        eprintln!("inhibit 1,000 x 1,000: {n} findings");
        group.bench_function("inhibit: check 1,000 inhibit rules x 1,000 alerts", |b| {
            b.iter(|| engine::check(&opts).expect("check").findings.len())
        });
    }
    if wanted("heredocs") {
        let opts = options(vec![heredocs(20_000)]);
        let n = engine::check(&opts).expect("check").findings.len();
        eprintln!("heredocs 20,000: {n} findings");
        group.bench_function("heredocs: check 20,000 files embedded by heredocs", |b| {
            b.iter(|| engine::check(&opts).expect("check").findings.len())
        });
    }
    if wanted("definitions") {
        let opts = options(vec![definitions(150_000)]);
        let n = engine::check(&opts).expect("check").findings.len();
        eprintln!("definitions 150,000: {n} findings");
        group.bench_function("definitions: check 150,000 metric definitions", |b| {
            b.iter(|| engine::check(&opts).expect("check").findings.len())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
