//! The fuzzing harness: one function per fuzz target, each feeding text through obsgate's public
//! entry points the way a `check` run does. `tests/fuzz_regressions.rs` includes this file, so a
//! crash input replays through exactly the code the fuzzer ran.
//!
//! The file-level targets write their input to a private scratch directory and run the real
//! pipeline on it (`engine::load`, `engine::run_checks`, then the text and JSON reports), so
//! classification, every check and the position mapping of the reporters are fuzzed too.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use obsgate::config::Config;
use obsgate::engine::{self, Findings, Resolved};
use obsgate::model::Project;
use obsgate::parse::gotemplate::{self, FuncSet, ParseOptions};
use obsgate::parse::{am_template, exposition, promql, shell};
use obsgate::report::{self, Format, Style};
use obsgate::source::discover::Filter;

/// A directory of this process for the files the targets write.
fn process_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("obsgate-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the scratch directory");
        dir
    })
}

/// A directory of this thread (the regression tests run in parallel threads).
fn scratch() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static DIR: PathBuf = process_dir().join(format!("t{}", NEXT.fetch_add(1, Ordering::Relaxed)));
    }
    DIR.with(|d| d.clone())
}

/// Write `text` to `name` (a relative path) in `dir`.
fn write_in(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create a scratch subdirectory");
    }
    std::fs::write(&path, text).expect("write a scratch file");
    path
}

/// Render what a user would see (the graphical text report slices the source at every span).
fn render(project: &Project, findings: &Findings) {
    let style = Style {
        color: false,
        width: 100,
    };
    for format in [Format::Text, Format::Json] {
        let _ = report::render(format, project, findings, style);
    }
}

/// Load one file the way `obsgate check FILE` does and run every check on it.
pub fn check_file(name: &str, text: &str) -> Vec<Resolved> {
    let dir = scratch();
    let path = write_in(&dir, name, text);
    let project = engine::load(&[path], &dir, &Filter::default())
        .expect("an explicit, readable file always loads");
    let findings = engine::run_checks(&project, &Config::default(), None);
    render(&project, &findings);
    findings.into_iter().collect()
}

/// A YAML double-quoted scalar holding `s` exactly (non-ASCII and control characters escaped).
pub fn yaml_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Target `rules_yaml`: a Prometheus rule file or Kubernetes `PrometheusRule` (the content
/// decides the kind; the name only matters for files that do not parse).
pub fn rules_yaml(text: &str) -> Vec<Resolved> {
    check_file("rules.yml", text)
}

/// Target `alertmanager_yaml`: an Alertmanager config, its checks (routing, inhibition,
/// templates, matchers) and `obsgate routes tree` / `routes test`.
pub fn alertmanager_yaml(text: &str) -> Vec<Resolved> {
    let findings = check_file("alertmanager.yml", text);
    let path = scratch().join("alertmanager.yml");
    let mut out = Vec::new();
    let _ = obsgate::routes::tree(&path, false, &mut out);
    let _ = obsgate::routes::tree(&path, true, &mut out);
    let _ = obsgate::routes::test(
        &obsgate::routes::TestArgs {
            config: path,
            rules: Vec::new(),
            operator: Vec::new(),
            labels: vec![
                "alertname=Fuzz".into(),
                "severity=critical".into(),
                "team=a".into(),
            ],
            verify_receivers: None,
            tree: true,
            all: false,
        },
        &mut out,
    );
    findings
}

/// The name a CI file gets: a GitHub workflow or action when it looks like one, else GitLab.
pub fn ci_file_name(text: &str) -> &'static str {
    if text.contains("jobs:") {
        ".github/workflows/ci.yml"
    } else if text.contains("runs:") {
        "action.yml"
    } else {
        ".gitlab-ci.yml"
    }
}

/// Target `ci_yaml`: a GitLab CI file (with GitLab's schema) or GitHub workflow/action, its
/// scripts and the files their heredocs write.
pub fn ci_yaml(text: &str) -> Vec<Resolved> {
    check_file(ci_file_name(text), text)
}

/// Target `promql`: the PromQL wrapper (parse, error location, node spans), label inference,
/// and the expression as an alert of a rule file (every PromQL check).
pub fn promql(text: &str) -> Vec<Resolved> {
    if let Ok(parsed) = promql::parse(text) {
        for node in promql::nodes(parsed.expr()) {
            let _ = parsed.span_of(node);
            let _ = parsed.text_of(node);
            let _ = parsed.range_span_of(node);
            let _ = parsed.step_span_of(node);
            let _ = parsed.offset_span_of(node);
            let _ = parsed.at_span_of(node);
            let _ = parsed.op_span_of(node);
            let _ = parsed.matcher_span(node, "job");
            let _ = parsed.grouping_span(node);
            let _ = parsed.matching_span(node);
            let _ = parsed.group_modifier_span(node);
        }
        let _ = promql::output_labels(parsed.expr(), &|_| None);
        let _ = promql::output_labels(parsed.expr(), &|name| {
            name.starts_with('a')
                .then(|| BTreeSet::from(["job".to_string(), "instance".to_string()]))
        });
    }
    let rules = format!(
        "groups:\n  - name: fuzz\n    rules:\n      - alert: Fuzz\n        expr: {}\n        for: 5m\n        labels:\n          severity: critical\n        annotations:\n          summary: \"{{{{ $labels.job }}}} is down\"\n      - record: job:fuzz:rate5m\n        expr: {}\n",
        yaml_quote(text),
        yaml_quote(text)
    );
    check_file("rules.yml", &rules)
}

/// Target `gotemplate`: the Go template parser with Prometheus' and Alertmanager's functions,
/// the Alertmanager template checker, and the template as a rule annotation and as an
/// Alertmanager notification field (the template checks of both).
pub fn gotemplate(text: &str) -> Vec<Resolved> {
    static PROM: OnceLock<FuncSet> = OnceLock::new();
    static AM: OnceLock<FuncSet> = OnceLock::new();
    let prom = PROM.get_or_init(FuncSet::prometheus);
    let am = AM.get_or_init(FuncSet::alertmanager);
    if let Ok(t) = gotemplate::parse(
        text,
        &ParseOptions {
            funcs: prom,
            predefined_vars: gotemplate::PROMETHEUS_VARIABLES,
        },
    ) {
        let _ = t.references();
    }
    if let Ok(t) = gotemplate::parse(
        text,
        &ParseOptions {
            funcs: am,
            predefined_vars: &[],
        },
    ) {
        let _ = t.references();
        let _ = am_template::check(&t, text, None);
        let defined = |name: &str| name.starts_with('a') || am_template::is_builtin_template(name);
        let _ = am_template::check(&t, text, Some(&defined));
    }
    let q = yaml_quote(text);
    let mut findings = check_file(
        "rules.yml",
        &format!(
            "groups:\n  - name: fuzz\n    rules:\n      - alert: Fuzz\n        expr: sum by (job, instance) (rate(http_requests_total[5m])) > 1\n        for: 5m\n        labels:\n          severity: critical\n        annotations:\n          summary: {q}\n          runbook_url: https://runbooks.example.com/fuzz\n"
        ),
    );
    findings.extend(check_file(
        "alertmanager.yml",
        &format!(
            "route:\n  receiver: team\nreceivers:\n  - name: team\n    slack_configs:\n      - api_url: https://hooks.slack.com/services/x\n        channel: '#alerts'\n        title: {q}\n        text: {q}\n"
        ),
    ));
    findings
}

/// Target `heredoc`: the shell parser (commands, `set` options, failure propagation,
/// heredocs and their expansion, with the documented offset maps checked), and the script as
/// a GitLab job's `script:` (heredoc files become virtual sources; every pipeline check).
pub fn heredoc(text: &str) -> Vec<Resolved> {
    let script = shell::parse(text);
    for (i, c) in script.commands.iter().enumerate() {
        let _ = shell::program_name(c);
        let _ = shell::has_flag(c, 'f', &["--fail", "--exit-code"]);
        let opts = script.options_at(i, shell::ShellOptions::default());
        let _ = script.failure_ignored(i, opts);
        let strict = shell::ShellOptions {
            errexit: true,
            pipefail: true,
            ..shell::ShellOptions::default()
        };
        let _ = script.failure_ignored(i, script.options_at(i, strict));
    }
    let resolve = |name: &str| -> Option<String> {
        name.starts_with(|c: char| c.is_ascii_uppercase())
            .then(|| format!("<{name}>"))
    };
    for h in &script.heredocs {
        for &(inner, outer, len) in &h.segments {
            assert_eq!(
                h.body.get(inner..inner + len),
                text.get(outer..outer + len),
                "heredoc segment ({inner}, {outer}, {len}) does not map the body to the script"
            );
        }
        let ex = h.expanded(&resolve);
        for &(inner, outer, len) in &ex.segments {
            assert_eq!(
                ex.text.get(inner..inner + len),
                text.get(outer..outer + len),
                "expansion segment ({inner}, {outer}, {len}) does not map the text to the script"
            );
        }
        for offset in 0..=ex.text.len() {
            if let Some(o) = ex.map(offset) {
                assert!(
                    o <= text.len(),
                    "expanded offset {offset} maps past the script"
                );
            }
        }
        let _ = shell::expansions(&h.body);
    }
    let mut ci = String::from("job:\n  script: |2\n");
    for line in text.lines() {
        ci.push_str("    ");
        ci.push_str(line);
        ci.push('\n');
    }
    check_file(".gitlab-ci.yml", &ci)
}

/// Target `exposition`: the exposition parser in both formats (also with a sample limit), its
/// invariants and lint, and the scrape as a probed target's `/metrics` (every metrics check).
pub fn exposition(text: &str) -> Vec<Resolved> {
    for format in [
        exposition::Format::Text004,
        exposition::Format::OpenMetrics1,
    ] {
        let expo = exposition::parse(text, format);
        let _ = exposition::invariants(&expo);
        let _ = exposition::lint(&expo);
        let _ = exposition::parse_with_limit(text, format, 8);
    }
    let target = |name: &str, content_type: &str| obsgate::probe::TargetResult {
        name: name.into(),
        base: format!("http://{name}:9100"),
        ready_seconds: Some(0.1),
        metrics: Some(obsgate::probe::Fetched {
            url: format!("http://{name}:9100/metrics"),
            status: 200,
            content_type: content_type.into(),
            seconds: 0.01,
            bytes: text.len(),
            truncated: false,
            body: text.into(),
        }),
        ..Default::default()
    };
    let mut project = Project::default();
    project.add_probe_results(vec![
        target("text", "text/plain; version=0.0.4"),
        target("openmetrics", "application/openmetrics-text; version=1.0.0"),
    ]);
    let findings = engine::run_checks(&project, &Config::default(), None);
    render(&project, &findings);
    findings.into_iter().collect()
}

/// The project `obsgate_config` checks with the fuzzed config: the seed fixtures.
fn config_project() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        for (name, text) in [
            (
                "alerting-rules.yml",
                include_str!("../../fixtures/seed/alerting-rules.yml"),
            ),
            (
                "alertmanager-config.yml",
                include_str!("../../fixtures/seed/alertmanager-config.yml"),
            ),
            (
                "pipeline.gitlab-ci.yml",
                include_str!("../../fixtures/seed/pipeline.gitlab-ci.yml"),
            ),
            (
                "performance-analysis.json",
                include_str!("../../fixtures/seed/performance-analysis.json"),
            ),
            (
                "alerting-strategy.json",
                include_str!("../../fixtures/seed/alerting-strategy.json"),
            ),
            (
                "metrics-config.js",
                include_str!("../../fixtures/seed/metrics-config.js"),
            ),
        ] {
            write_in(process_dir(), &format!("project/{name}"), text);
        }
        process_dir().join("project")
    })
}

/// Target `obsgate_config`: the `.obsgate.yml` loader; a config that loads is then used for a
/// whole `check` run over the seed fixtures (include/exclude, levels, check options,
/// thresholds).
pub fn obsgate_config(text: &str) -> Result<Vec<Resolved>, Vec<obsgate::config::ConfigProblem>> {
    let lines = obsgate::source::LineIndex::new(text);
    let config = match Config::parse(text) {
        Ok(c) => c,
        Err(problems) => {
            for p in &problems {
                let _ = lines.line_col(text, p.span.start);
                let _ = lines.line_col(text, p.span.end);
            }
            return Err(problems);
        }
    };
    let dir = config_project().to_path_buf();
    let opts = engine::CheckOptions {
        paths: vec![dir.clone()],
        base: dir,
        config,
        only: None,
    };
    match engine::check(&opts) {
        Ok(outcome) => {
            render(&outcome.project, &outcome.findings);
            Ok(outcome.findings.into_iter().collect())
        }
        // an invalid include/exclude glob: a usage error, reported as such
        Err(_) => Ok(Vec::new()),
    }
}
