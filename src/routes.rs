//! `obsgate routes`: Alertmanager routing simulation (like `amtool config routes`), plus every
//! alert of the rule files at once.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::model::routing::{self, RouteNode, Tri};
use crate::source::discover::Filter;

/// Load an Alertmanager config (and optional rule files) and build its routing tree.
fn load(config: &Path, rules: &[PathBuf]) -> Result<(crate::model::Project, usize), String> {
    let base = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut paths = vec![config.to_path_buf()];
    paths.extend(rules.iter().cloned());
    let project =
        crate::engine::load(&paths, &base, &Filter::default()).map_err(|e| e.to_string())?;
    let wanted = std::fs::canonicalize(config).unwrap_or_else(|_| config.to_path_buf());
    let idx = project.alertmanager_configs().position(|r| {
        let outer = project.sources.resolve(r.file, &(0..0)).0;
        let p = &project.sources.get(outer).fs_path;
        std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()) == wanted && r.config.route.is_some()
    });
    match idx {
        Some(i) => Ok((project, i)),
        None => Err(format!(
            "{}: no Alertmanager config with a `route:` found",
            config.display()
        )),
    }
}

/// The config's routing tree.
fn tree_of(project: &crate::model::Project, i: usize) -> RouteNode {
    let r = project
        .alertmanager_configs()
        .nth(i)
        .expect("index from load");
    routing::tree_of(
        r.file,
        r.config.route.as_ref().expect("load checked the route"),
    )
}

fn tree_lines(
    node: &RouteNode,
    prefix: &str,
    last: bool,
    root: bool,
    only: Option<&[usize]>,
    idx: &mut usize,
    out: &mut String,
) {
    let me = *idx;
    *idx += 1;
    let shown = only.is_none_or(|o| o.contains(&me));
    if root {
        out.push_str(".\n");
    }
    let branch = if last { "└── " } else { "├── " };
    let label = if root {
        "default-route".to_string()
    } else {
        format!(
            "{{{}}}",
            node.matchers
                .iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    let mut line = format!("{prefix}{branch}{label}");
    if node.continue_ && only.is_none() {
        line.push_str("  continue: true");
    }
    if let Some(r) = &node.receiver {
        line.push_str(&format!("  receiver: {r}"));
    }
    if shown || only.is_none() {
        out.push_str(&line);
        out.push('\n');
    }
    let child_prefix = format!("{prefix}{}", if last { "    " } else { "│   " });
    let n = node.children.len();
    for (i, c) in node.children.iter().enumerate() {
        tree_lines(c, &child_prefix, i + 1 == n, false, only, idx, out);
    }
}

/// `routes tree`: the routing tree as text or mermaid.
pub fn tree(config: &Path, mermaid: bool, out: &mut dyn Write) -> Result<(), String> {
    let (project, i) = load(config, &[])?;
    let t = tree_of(&project, i);
    let eff = routing::effective(&t);
    let mut s = String::new();
    if mermaid {
        s.push_str("graph TD\n");
        for (k, node) in t.preorder().iter().enumerate() {
            let m = node
                .matchers
                .iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let label = if k == 0 { "root".to_string() } else { m };
            // redacted before the quotes are escaped (a matcher value holding a token)
            let red = project.redactor();
            s.push_str(&format!(
                "  r{k}[\"{}<br/>receiver: {}\"]\n",
                red.redact_in(&label).replace('"', "#quot;"),
                red.redact_in(&eff[k].receiver.clone().unwrap_or_default())
            ));
        }
        for (k, p) in routing::parents(&t).iter().enumerate().skip(1) {
            let style = if t.preorder()[k].continue_ {
                "-.->|continue|"
            } else {
                "-->"
            };
            s.push_str(&format!("  r{p} {style} r{k}\n"));
        }
    } else {
        s.push_str("Routing tree:\n");
        let mut idx = 0;
        tree_lines(&t, "", true, true, None, &mut idx, &mut s);
    }
    write_redacted(&project, &s, out)
}

/// Print routing output with the secrets of the run redacted (matcher values, receiver
/// names, alert names can hold tokens).
fn write_redacted(
    project: &crate::model::Project,
    s: &str,
    out: &mut dyn Write,
) -> Result<(), String> {
    out.write_all(project.redactor().redact_in(s).as_bytes())
        .map_err(|e| e.to_string())
}

pub struct TestArgs {
    pub config: PathBuf,
    pub rules: Vec<PathBuf>,
    pub labels: Vec<String>,
    pub verify_receivers: Option<String>,
    pub tree: bool,
    pub all: bool,
}

/// `routes test`: the receivers of a label set (amtool's output: receivers joined by `,`), or of
/// every alert of the rule files with `--all`. Returns the exit code.
pub fn test(args: &TestArgs, out: &mut dyn Write) -> Result<i32, String> {
    let (project, i) = load(&args.config, &args.rules)?;
    let t = tree_of(&project, i);
    let eff = routing::effective(&t);
    let mut s = String::new();
    if args.all {
        let universe = routing::universe(&project);
        if universe.is_empty() {
            return Err(
                "--all: no alerting rules found (pass rule files or directories with --rules)"
                    .into(),
            );
        }
        let am = project
            .alertmanager_configs()
            .nth(i)
            .expect("index from load")
            .config;
        let inhibits: Vec<routing::Inhibit> =
            am.inhibit_rules.iter().map(routing::inhibit_of).collect();
        for a in universe {
            let r = routing::reach(&t, a);
            s.push_str(&format!("{}\n", a.alertname));
            for (k, tri) in r.terminal_routes() {
                let e = &eff[k];
                let group = match &e.group_by {
                    Some(g) if g.iter().any(|l| l == "...") => "every label".to_string(),
                    Some(g) => g.join(", "),
                    None => "nothing (one group)".to_string(),
                };
                s.push_str(&format!(
                    "  -> {}{}\n     group by: {group}; group_wait {}, group_interval {}, repeat_interval {}\n",
                    e.receiver.clone().unwrap_or_default(),
                    if tri == Tri::Yes { "" } else { " (depends on label values)" },
                    e.timings[0],
                    e.timings[1],
                    e.timings[2]
                ));
            }
            // which other alerts can mute it
            let mut muted_by: Vec<&str> = Vec::new();
            for rule in &inhibits {
                if !a.matches(&rule.target).possible() {
                    continue;
                }
                for src in universe {
                    if std::ptr::eq(src, a) {
                        continue;
                    }
                    if routing::can_inhibit(rule, src, a, false).possible() {
                        muted_by.push(&src.alertname);
                    }
                }
            }
            muted_by.sort();
            muted_by.dedup();
            if !muted_by.is_empty() {
                s.push_str(&format!(
                    "     may be inhibited while firing: {}\n",
                    muted_by.join(", ")
                ));
            }
        }
        write_redacted(&project, &s, out)?;
        return Ok(0);
    }
    let mut labels = BTreeMap::new();
    for l in &args.labels {
        let Some((k, v)) = l.split_once('=') else {
            return Err(format!("label `{l}` must be NAME=VALUE"));
        };
        labels.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
    }
    let hits = routing::route_concrete(&t, &labels);
    let receivers: Vec<String> = hits
        .iter()
        .filter_map(|&k| eff[k].receiver.clone())
        .collect();
    if args.tree {
        s.push_str("Matching routes:\n");
        let mut idx = 0;
        let parents = routing::parents(&t);
        let mut shown: Vec<usize> = Vec::new();
        for &h in &hits {
            let mut k = h;
            loop {
                if !shown.contains(&k) {
                    shown.push(k);
                }
                if k == 0 {
                    break;
                }
                k = parents[k];
            }
        }
        tree_lines(&t, "", true, true, Some(&shown), &mut idx, &mut s);
        s.push('\n');
    }
    s.push_str(&receivers.join(","));
    s.push('\n');
    let mut code = 0;
    if let Some(expected) = &args.verify_receivers {
        if *expected != receivers.join(",") {
            s.push_str("WARNING: Expected receivers did not match resolved receivers.\n");
            code = 1;
        }
    }
    write_redacted(&project, &s, out)?;
    Ok(code)
}

pub struct TestsArgs {
    pub config: PathBuf,
    pub tests: PathBuf,
    pub coverage: bool,
    pub fail_under: Option<f64>,
    pub json: bool,
}

/// What the routing tests need of a loaded config: its tree, the settings in effect, its
/// inhibit rules and time intervals.
pub struct Loaded {
    pub tree: RouteNode,
    pub effective: Vec<routing::Effective>,
    pub inhibits: Vec<routing::Inhibit>,
    pub intervals: BTreeMap<String, Vec<crate::routetest::TimeRange>>,
}

impl Loaded {
    pub fn of(project: &crate::model::Project, am: crate::model::AmRef<'_>) -> Option<Loaded> {
        let tree = routing::tree_of(am.file, am.config.route.as_ref()?);
        Some(Loaded {
            effective: routing::effective(&tree),
            inhibits: am
                .config
                .inhibit_rules
                .iter()
                .map(routing::inhibit_of)
                .collect(),
            intervals: crate::routetest::intervals_of(&project.sources.get(am.file).text),
            tree,
        })
    }

    pub fn target(&self) -> crate::routetest::Target<'_> {
        crate::routetest::Target {
            tree: &self.tree,
            effective: &self.effective,
            inhibits: &self.inhibits,
            intervals: &self.intervals,
        }
    }
}

/// A route for people: its matchers and receiver.
fn route_label(tree: &RouteNode, eff: &[routing::Effective], k: usize) -> String {
    let n = tree.preorder()[k];
    let m: Vec<String> = n.matchers.iter().map(|m| m.to_string()).collect();
    format!(
        "{{{}}} -> {}",
        m.join(", "),
        eff[k].receiver.clone().unwrap_or_default()
    )
}

/// `routes test --tests FILE`: run the routing tests; exit 1 when one fails or the coverage is
/// under `--fail-under`.
pub fn run_tests(args: &TestsArgs, out: &mut dyn Write) -> Result<i32, String> {
    let text = std::fs::read_to_string(&args.tests)
        .map_err(|e| format!("cannot read {}: {e}", args.tests.display()))?;
    let tests =
        crate::routetest::parse(&text).map_err(|e| format!("{}: {e}", args.tests.display()))?;
    let (project, i) = load(&args.config, &[])?;
    let am = project
        .alertmanager_configs()
        .nth(i)
        .expect("index from load");
    let loaded = Loaded::of(&project, am).ok_or("the config has no route")?;
    let outcomes: Vec<crate::routetest::Outcome> = tests
        .iter()
        .map(|t| crate::routetest::run(t, &loaded.target()))
        .collect();
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    let (routes, rules, pct) =
        crate::routetest::coverage(&loaded.tree, loaded.inhibits.len(), &outcomes);
    let under = args.fail_under.is_some_and(|min| pct < min);
    let mut s = String::new();
    if args.json {
        let v = serde_json::json!({
            "tests": outcomes,
            "passed": outcomes.len() - failed,
            "failed": failed,
            "coverage": {
                "routes_percent": (pct * 10.0).round() / 10.0,
                "routes_not_exercised": routes.iter().map(|&k| route_label(&loaded.tree, &loaded.effective, k)).collect::<Vec<_>>(),
                "inhibit_rules_not_exercised": rules.iter().map(|r| r + 1).collect::<Vec<_>>(),
            }
        });
        s.push_str(&serde_json::to_string_pretty(&v).unwrap_or_default());
        s.push('\n');
    } else {
        for o in &outcomes {
            if o.passed {
                s.push_str(&format!("ok    {}\n", o.name));
            } else {
                s.push_str(&format!("FAIL  {}\n", o.name));
                for f in &o.failures {
                    s.push_str(&format!("      {f}\n"));
                }
            }
        }
        s.push_str(&format!(
            "\n{} passed, {failed} failed; routes exercised: {:.1}%\n",
            outcomes.len() - failed,
            pct
        ));
        if args.coverage {
            for k in &routes {
                s.push_str(&format!(
                    "not exercised: route {}\n",
                    route_label(&loaded.tree, &loaded.effective, *k)
                ));
            }
            for r in &rules {
                s.push_str(&format!("not exercised: inhibit rule #{}\n", r + 1));
            }
        }
        if under {
            s.push_str(&format!(
                "coverage {pct:.1}% is under --fail-under {}%\n",
                args.fail_under.unwrap_or_default()
            ));
        }
    }
    write_redacted(&project, &s, out)?;
    Ok(i32::from(failed > 0 || under))
}
