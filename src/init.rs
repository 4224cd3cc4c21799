//! `obsgate init`: a commented `.obsgate.yml` written from what the files show: the thresholds
//! obsgate already reads (CI variables, analysis JSON), the services the pipeline boots (probe
//! targets), the paging integrations of the Alertmanager configs and the severities that reach
//! them. Headed by the `yaml-language-server` line that points editors at the JSON Schema.

use std::collections::BTreeSet;

use crate::model::Project;
use crate::parse::shell;

/// YAML for a plain or quoted scalar.
fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:".contains(c))
        && !s.starts_with(['-', ':'])
        && !s.contains(": ");
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

/// A service a CI job starts in the background, with the local URL its scripts request.
struct Booted {
    job: String,
    file: String,
    boot: String,
    url: String,
    health_path: Option<String>,
}

/// `http://localhost:3000` and the path of the first local URL in a script, if any.
fn local_url(text: &str) -> Option<(String, String)> {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"https?://(localhost|127\.0\.0\.1)(:[0-9]+)?(/[A-Za-z0-9_./-]*)?")
            .expect("a valid regex")
    });
    let re = &*RE;
    // a URL with its port written out first (`http://localhost:${PORT}` leaves none)
    let all: Vec<regex::Captures> = re.captures_iter(text).collect();
    let m = all
        .iter()
        .find(|c| c.get(2).is_some())
        .or_else(|| all.first())?;
    let base = format!("http://{}{}", &m[1], m.get(2).map_or("", |p| p.as_str()));
    Some((base, m.get(3).map_or("/", |p| p.as_str()).to_string()))
}

/// `$NAME` and `${NAME}` replaced by the variables' values (the later definition wins), as
/// the shell expands them ([`shell::expand`]); unknown ones stay as written.
fn substitute(text: &str, vars: &[(String, String)]) -> String {
    let resolve = |name: &str| {
        vars.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    shell::expand(text, &[], &resolve).text
}

fn booted(project: &Project) -> Vec<Booted> {
    let mut out: Vec<Booted> = Vec::new();
    for f in &project.files {
        if f.ci.is_none() {
            continue;
        }
        let file = project.sources.get(f.file).path.clone();
        // the file's global variables, then the job's own
        let globals: Vec<(String, String)> =
            f.ci.iter()
                .flat_map(|ci| ci.vars.iter())
                .filter_map(|v| {
                    Some((
                        v.name.value.to_string(),
                        v.value.as_ref()?.value.to_string(),
                    ))
                })
                .collect();
        for block in &f.scripts {
            let Some(job) = &block.job else { continue };
            for cmd in shell::commands(&block.text) {
                if !cmd.background || out.iter().any(|b| b.job == *job) {
                    continue;
                }
                let boot: Vec<&str> = cmd.words.iter().map(|w| w.text.as_str()).collect();
                // the job's scripts with its variables substituted, for the URL it requests
                let all: String = f
                    .scripts
                    .iter()
                    .filter(|b| b.job.as_deref() == Some(job))
                    .map(|b| substitute(&b.text, &[globals.clone(), b.vars.clone()].concat()))
                    .collect::<Vec<_>>()
                    .join("\n");
                let Some((url, _)) = local_url(&all) else {
                    continue;
                };
                let health_path = all
                    .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
                    .filter_map(local_url)
                    .map(|(_, p)| p)
                    .find(|p| p.contains("health") || p.contains("ready"));
                out.push(Booted {
                    job: job.clone(),
                    file: file.clone(),
                    boot: boot.join(" "),
                    url,
                    health_path,
                });
            }
        }
    }
    out
}

/// The `.obsgate.yml` text for a loaded project.
pub fn render(project: &Project) -> String {
    let mut s = format!(
        "# yaml-language-server: $schema={}\n# obsgate configuration, written by `obsgate init` from the files it found. Every key is\n# optional; `obsgate explain <check>` documents a check, `obsgate checks` lists them.\n\n",
        crate::config::schema::url()
    );
    s.push_str("# include: [\"monitoring/**\", \".gitlab-ci.yml\"]   # what to audit (default: everything found)\n");
    s.push_str("# exclude: [\"**/testdata/**\"]\n\n");

    // thresholds obsgate reads by itself
    let declared = crate::model::thresholds::declared(project);
    if declared.is_empty() {
        s.push_str("# thresholds: declare the limits your alerts must enforce, e.g.\n#   - {name: checkout_p99, value: 800ms, kind: latency, quantile: 0.99, alert: CheckoutSlow}\n\n");
    } else {
        s.push_str(
            "# Thresholds found (obsgate reads these by itself; add others under `thresholds:`):\n",
        );
        for d in &declared {
            let src = project.sources.get(d.file);
            let (resolved, span) = project.sources.resolve(d.file, &d.value_span);
            let shown = &project.sources.get(resolved).path;
            let (line, _) = project.sources.get(resolved).line_col(span.start);
            let value = src.text.get(d.value_span.clone()).unwrap_or("").trim();
            s.push_str(&format!(
                "#   {} = {} ({}: {}), {}:{}\n",
                d.name,
                value,
                d.kind.with_article(),
                crate::model::thresholds::show(d.kind, d.base()),
                shown,
                line
            ));
        }
        s.push('\n');
    }

    // paging integrations and the severities routed to them
    let known = crate::config::Config::default().paging_integrations();
    let mut kinds: BTreeSet<&str> = BTreeSet::new();
    let mut paging_receivers: BTreeSet<&str> = BTreeSet::new();
    for am in project.alertmanager_configs() {
        for r in &am.config.receivers {
            for i in &r.integrations {
                kinds.insert(i.kind);
                if known.iter().any(|k| k == i.kind) {
                    paging_receivers.insert(&r.name.value);
                }
            }
        }
    }
    let mut severities: BTreeSet<String> = BTreeSet::new();
    for am in project.alertmanager_configs() {
        for (r, _) in am.config.routes() {
            if !r
                .receiver
                .as_ref()
                .is_some_and(|x| paging_receivers.contains(x.value.as_str()))
            {
                continue;
            }
            for m in r.all_matchers() {
                if m.matcher.name != "severity" {
                    continue;
                }
                match m.matcher.op {
                    crate::parse::am_matcher::MatchOp::Equal => {
                        severities.insert(m.matcher.value.clone());
                    }
                    crate::parse::am_matcher::MatchOp::Regex => severities.extend(
                        m.matcher
                            .value
                            .split('|')
                            .filter(|v| {
                                v.chars()
                                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                            })
                            .map(str::to_string),
                    ),
                    _ => {}
                }
            }
        }
    }
    s.push_str("runbooks:\n");
    if severities.is_empty() {
        s.push_str("  # alerts with these severities page someone and must link a runbook (obsgate's default)\n  paging_severities: [critical, page, pager, emergency]\n");
    } else {
        s.push_str("  # the severities the Alertmanager routes send to paging receivers: such alerts must link a runbook\n");
        let list: Vec<String> = severities.iter().map(|v| scalar(v)).collect();
        s.push_str(&format!("  paging_severities: [{}]\n", list.join(", ")));
    }
    s.push_str("  # url_pattern: \"^https://runbooks\\\\.example\\\\.net/\"   # where runbooks must live\n\n");
    s.push_str("alertmanager:\n");
    let paging: Vec<&str> = kinds
        .iter()
        .copied()
        .filter(|k| known.iter().any(|x| x == k))
        .collect();
    let others: Vec<&str> = kinds
        .iter()
        .copied()
        .filter(|k| !known.iter().any(|x| x == k))
        .collect();
    if !others.is_empty() {
        s.push_str(&format!(
            "  # integrations in use that do not page by default: {} (add those that page someone)\n",
            others.join(", ")
        ));
    }
    if paging.is_empty() {
        s.push_str(&format!("  paging_integrations: [{}]\n", known.join(", ")));
    } else {
        s.push_str(&format!("  paging_integrations: [{}]\n", paging.join(", ")));
    }
    s.push_str("  # extra_alerts: [{alertname: DeployFailed, labels: {severity: warning}}]   # alerts from elsewhere\n\n");

    let targets = booted(project);
    if targets.is_empty() {
        s.push_str("# probe:   # `obsgate probe`: boot the service and verify /metrics and /health\n#   targets:\n#     - {name: api, url: \"http://127.0.0.1:8080\", boot: \"./server\"}\n");
    } else {
        s.push_str("probe:   # `obsgate probe` without --target: boots each target and verifies /metrics and /health\n  targets:\n");
        for b in targets {
            s.push_str(&format!(
                "    # started in the background by job `{}` of {}\n",
                b.job, b.file
            ));
            s.push_str(&format!(
                "    - name: {}\n      url: {}\n      boot: {}\n",
                scalar(&b.job),
                scalar(&b.url),
                scalar(&b.boot)
            ));
            if let Some(h) = b.health_path {
                s.push_str(&format!("      health_path: {}\n", scalar(&h)));
            }
        }
    }
    s
}
