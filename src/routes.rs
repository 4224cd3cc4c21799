//! `obsgate routes`: Alertmanager routing simulation (like `amtool config routes`), plus every
//! alert of the rule files at once.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::model::routing::{self, RouteNode, Tri};
use crate::source::discover::Filter;

/// Load an Alertmanager config (and optional rule files) and build its routing tree.
/// `operator`: prometheus-operator manifests merged into it ([`load_operator`]).
fn load(
    config: &Path,
    rules: &[PathBuf],
    operator: &[PathBuf],
) -> Result<(crate::model::Project, usize), String> {
    let (project, found) = load_operator(&[config], rules, operator)?;
    Ok((project, found[0]))
}

/// [`load_configs`], with prometheus-operator manifests (`AlertmanagerConfig` resources, and the
/// `Alertmanager` resource that selects them) merged into the configs: as that `Alertmanager`
/// selects them, or, without one, every resource into each config with the operator's default
/// matcher strategy.
fn load_operator(
    configs: &[&Path],
    rules: &[PathBuf],
    operator: &[PathBuf],
) -> Result<(crate::model::Project, Vec<usize>), String> {
    let mut paths = rules.to_vec();
    paths.extend(operator.iter().cloned());
    let (mut project, found) = load_configs(configs, &paths)?;
    let selects = project.files.iter().any(|f| {
        f.operator.iter().any(|o| {
            matches!(
                o.object,
                crate::parse::operator_objects::Object::Alertmanager(_)
            )
        })
    });
    if !operator.is_empty() && !selects {
        let bases: Vec<String> = project
            .alertmanager_configs()
            .enumerate()
            .filter(|(i, _)| found.contains(i))
            .map(|(_, am)| {
                let outer = project.sources.resolve(am.file, &(0..0)).0;
                globset::escape(&project.sources.get(outer).path)
            })
            .collect();
        project.operator_settings.base_config = bases;
    }
    Ok((project, found))
}

/// Load Alertmanager configs and rule files in one project: the position of each config among
/// [`crate::model::Project::alertmanager_configs`] (the rule files are read once for all).
fn load_configs(
    configs: &[&Path],
    rules: &[PathBuf],
) -> Result<(crate::model::Project, Vec<usize>), String> {
    let base = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut paths: Vec<PathBuf> = configs.iter().map(|c| c.to_path_buf()).collect();
    paths.extend(rules.iter().cloned());
    let project =
        crate::engine::load(&paths, &base, &Filter::default()).map_err(|e| e.to_string())?;
    let mut found = Vec::new();
    for config in configs {
        let wanted = std::fs::canonicalize(config).unwrap_or_else(|_| config.to_path_buf());
        let idx = project.alertmanager_configs().position(|r| {
            let outer = project.sources.resolve(r.file, &(0..0)).0;
            let p = &project.sources.get(outer).fs_path;
            std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()) == wanted
                && r.config.route.is_some()
        });
        match idx {
            Some(i) => found.push(i),
            None => {
                return Err(format!(
                    "{}: no Alertmanager config with a `route:` found",
                    config.display()
                ))
            }
        }
    }
    Ok((project, found))
}

/// The alerts of `universe` that can mute `a` through one of `inhibits` while firing, by name.
fn inhibitors<'u>(
    universe: &'u [routing::AlertLabels],
    a: &routing::AlertLabels,
    inhibits: &[routing::Inhibit],
) -> Vec<&'u str> {
    let mut out: Vec<&str> = Vec::new();
    for rule in inhibits {
        if !a.matches(&rule.target).possible() {
            continue;
        }
        for src in universe {
            if !std::ptr::eq(src, a) && routing::can_inhibit(rule, src, a, false).possible() {
                out.push(&src.alertname);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The config's routing tree (with the `AlertmanagerConfig` resources merged into it).
fn tree_of(project: &crate::model::Project, i: usize) -> RouteNode {
    let r = project
        .alertmanager_configs()
        .nth(i)
        .expect("index from load");
    project
        .route_tree(&r)
        .expect("load checked the route")
        .clone()
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
    let (project, i) = load(config, &[], &[])?;
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
    pub operator: Vec<PathBuf>,
    pub labels: Vec<String>,
    pub verify_receivers: Option<String>,
    pub tree: bool,
    pub all: bool,
}

/// `routes test`: the receivers of a label set (amtool's output: receivers joined by `,`), or of
/// every alert of the rule files with `--all`. Returns the exit code.
pub fn test(args: &TestArgs, out: &mut dyn Write) -> Result<i32, String> {
    let (project, i) = load(&args.config, &args.rules, &args.operator)?;
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
            .expect("index from load");
        let inhibits = project.inhibits(&am);
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
            let muted_by = inhibitors(universe, a, &inhibits);
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
    pub operator: Vec<PathBuf>,
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
    pub intervals: BTreeMap<String, Vec<crate::parse::alertmanager::TimeRange>>,
}

impl Loaded {
    pub fn of(project: &crate::model::Project, am: crate::model::AmRef<'_>) -> Option<Loaded> {
        let tree = project.route_tree(&am)?.clone();
        // the time intervals of the config and of the resources merged into it
        let intervals = project
            .time_intervals(&am)
            .into_iter()
            .map(|t| (t.name.value.to_string(), t.ranges.clone()))
            .collect();
        Some(Loaded {
            effective: routing::effective(&tree),
            inhibits: project.inhibits(&am),
            intervals,
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
    let (project, i) = load(&args.config, &[], &args.operator)?;
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

/// `Handling::pages` in words.
const PAGES: [&str; 3] = ["no", "maybe", "yes"];

/// What happens to one alert in one config (for `routes diff`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
struct Handling {
    /// Receivers in routing order, `?` after those that depend on label values.
    receivers: Vec<String>,
    group_by: Vec<String>,
    timings: Vec<String>,
    muting: Vec<String>,
    inhibited_by: Vec<String>,
    /// Whether a paging receiver gets it: 2 certainly, 1 depending on label values, 0 never.
    pages: u8,
}

pub struct DiffArgs {
    pub old: PathBuf,
    pub new: PathBuf,
    pub rules: Vec<PathBuf>,
    pub operator: Vec<PathBuf>,
    /// text, json or markdown
    pub format: String,
    /// How the old version is named in the output (a path, or `REV:path`).
    pub old_name: String,
}

fn handling(project: &crate::model::Project, i: usize, paging: &[String]) -> Vec<Handling> {
    let am = project
        .alertmanager_configs()
        .nth(i)
        .expect("index from load");
    let t = tree_of(project, i);
    let eff = routing::effective(&t);
    let nodes = t.preorder();
    let inhibits = project.inhibits(&am);
    let paging_receivers: Vec<&str> = project
        .receivers(&am)
        .into_iter()
        .filter(|r| {
            r.integrations
                .iter()
                .any(|x| paging.iter().any(|p| p == x.kind))
        })
        .map(|r| r.name.value.as_str())
        .collect();
    let universe = routing::universe(project);
    universe
        .iter()
        .map(|a| {
            let r = routing::reach(&t, a);
            let mut h = Handling {
                receivers: Vec::new(),
                group_by: Vec::new(),
                timings: Vec::new(),
                muting: Vec::new(),
                inhibited_by: Vec::new(),
                pages: 0,
            };
            for (k, tri) in r.terminal_routes() {
                let e = &eff[k];
                let recv = e.receiver.clone().unwrap_or_default();
                if paging_receivers.contains(&recv.as_str()) {
                    h.pages = h.pages.max(if tri == Tri::Yes { 2 } else { 1 });
                }
                h.receivers
                    .push(format!("{recv}{}", if tri == Tri::Yes { "" } else { "?" }));
                h.group_by.push(match &e.group_by {
                    Some(g) => g.join(","),
                    None => "-".into(),
                });
                h.timings.push(format!(
                    "{}/{}/{}",
                    e.timings[0], e.timings[1], e.timings[2]
                ));
                for m in &nodes[k].mute {
                    h.muting.push(format!("mute {m}"));
                }
                for m in &nodes[k].active {
                    h.muting.push(format!("active {m}"));
                }
            }
            h.inhibited_by = inhibitors(universe, a, &inhibits)
                .into_iter()
                .map(str::to_string)
                .collect();
            h
        })
        .collect()
}

/// `routes diff`: what changes, for every alert of the rule files, between two versions of an
/// Alertmanager config. Returns the exit code (0: no change, 1: changes).
pub fn diff(args: &DiffArgs, out: &mut dyn Write) -> Result<i32, String> {
    if args.rules.is_empty() {
        return Err("give the rule files whose alerts to route: --rules PATHS".into());
    }
    // both versions and the rule files in one project: the rules are read once
    let (project, found) = load_operator(&[&args.old, &args.new], &args.rules, &args.operator)?;
    let (oi, ni) = (found[0], found[1]);
    if routing::universe(&project).is_empty() {
        return Err("no alerting rules found in --rules".into());
    }
    let paging = crate::config::Config::default().paging_integrations();
    let before = handling(&project, oi, &paging);
    let after = handling(&project, ni, &paging);
    let universe = routing::universe(&project);
    struct Change<'a> {
        alert: &'a routing::AlertLabels,
        before: &'a Handling,
        after: &'a Handling,
    }
    let mut changes: Vec<Change> = universe
        .iter()
        .zip(before.iter().zip(&after))
        .filter(|(_, (b, a))| b != a)
        .map(|(alert, (before, after))| Change {
            alert,
            before,
            after,
        })
        .collect();
    // alerts that no longer page first, then those that may no longer page
    let lost = |c: &Change| -> u8 {
        match (c.before.pages, c.after.pages) {
            (2, 0) => 2,
            (2, 1) => 1,
            _ => 0,
        }
    };
    changes.sort_by_key(|c| std::cmp::Reverse(lost(c)));
    let fields = |h: &Handling| -> Vec<(&'static str, String)> {
        vec![
            ("receivers", h.receivers.join(", ")),
            ("group_by", h.group_by.join(" | ")),
            ("timings", h.timings.join(" | ")),
            ("muting", h.muting.join(", ")),
            ("inhibited by", h.inhibited_by.join(", ")),
        ]
    };
    let labels_of = |a: &routing::AlertLabels| -> String {
        let known: Vec<String> = a
            .labels
            .iter()
            .filter_map(|(k, v)| match v {
                routing::LabelValue::Known(x) if !x.is_empty() => Some(format!("{k}=\"{x}\"")),
                _ => None,
            })
            .collect();
        format!("{}{{{}}}", a.alertname, known.join(", "))
    };
    let new_name = args.new.display().to_string();
    let mut s = String::new();
    match args.format.as_str() {
        "json" => {
            let items: Vec<serde_json::Value> = changes
                .iter()
                .map(|c| {
                    let diffs: Vec<serde_json::Value> = fields(c.before)
                        .into_iter()
                        .zip(fields(c.after))
                        .filter(|((_, b), (_, a))| b != a)
                        .map(|((f, b), (_, a))| serde_json::json!({"field": f, "before": b, "after": a}))
                        .collect();
                    serde_json::json!({
                        "alert": labels_of(c.alert),
                        "pages_before": PAGES[c.before.pages as usize],
                        "pages_after": PAGES[c.after.pages as usize],
                        "changes": diffs,
                    })
                })
                .collect();
            s = serde_json::to_string_pretty(&serde_json::json!({
                "old": args.old_name,
                "new": new_name,
                "alerts": universe.len(),
                "changed": items,
            }))
            .unwrap_or_default();
            s.push('\n');
        }
        "markdown" | "text" => {
            let md = args.format == "markdown";
            if md {
                s.push_str(&format!(
                    "### Alertmanager routing: {} of {} alerts change\n\n`{}` → `{}`\n\n",
                    changes.len(),
                    universe.len(),
                    args.old_name,
                    new_name
                ));
                if !changes.is_empty() {
                    s.push_str("| alert | what | before | after |\n|---|---|---|---|\n");
                }
            } else {
                s.push_str(&format!(
                    "{} of {} alerts route differently ({} -> {})\n",
                    changes.len(),
                    universe.len(),
                    args.old_name,
                    new_name
                ));
            }
            for c in &changes {
                let (flag, md_flag) = match lost(c) {
                    2 => (" NO LONGER PAGES", " **no longer pages**"),
                    1 => (
                        " MAY NO LONGER PAGE (depends on label values)",
                        " **may no longer page**",
                    ),
                    _ => ("", ""),
                };
                let name = labels_of(c.alert);
                if !md {
                    s.push_str(&format!("\n{name}{flag}\n"));
                }
                for ((f, b), (_, a)) in fields(c.before).into_iter().zip(fields(c.after)) {
                    if b == a {
                        continue;
                    }
                    let show = |x: &str| {
                        if x.is_empty() {
                            "(none)".to_string()
                        } else {
                            x.to_string()
                        }
                    };
                    if md {
                        let cell = |x: String| x.replace('|', "\\|");
                        s.push_str(&format!(
                            "| {}{} | {f} | {} | {} |\n",
                            cell(format!("`{name}`")),
                            md_flag,
                            cell(show(&b)),
                            cell(show(&a))
                        ));
                    } else {
                        s.push_str(&format!("  {f}: {} -> {}\n", show(&b), show(&a)));
                    }
                }
            }
        }
        other => return Err(format!("unknown format `{other}` (text, json, markdown)")),
    }
    write_redacted(&project, &s, out)?;
    Ok(i32::from(!changes.is_empty()))
}

/// The version of `path` at git revision `rev`, written to a scratch file of the same name
/// (files are recognised by content and name). Returns the file and its name for output.
pub fn at_revision(path: &Path, rev: &str) -> Result<(PathBuf, String), String> {
    if rev.starts_with('-') {
        return Err(format!("--diff-base: `{rev}` is not a revision"));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let git = |args: &[&str]| -> Result<String, String> {
        let o = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if o.status.success() {
            Ok(String::from_utf8_lossy(&o.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&o.stderr).trim().to_string())
        }
    };
    let name = path
        .file_name()
        .ok_or_else(|| format!("{} is not a file", path.display()))?
        .to_string_lossy()
        .to_string();
    let rel = git(&["ls-files", "--full-name", "--", &name])
        .map_err(|e| format!("--diff-base needs a git repository: {e}"))?;
    let rel = rel.lines().next().unwrap_or("").to_string();
    if rel.is_empty() {
        return Err(format!("{} is not tracked by git", path.display()));
    }
    let text = git(&["show", &format!("{rev}:{rel}")]).map_err(|e| {
        format!("cannot read {rel} at `{rev}` (in a shallow clone, fetch it first: `git fetch --depth=1 origin {rev}`): {e}")
    })?;
    let scratch = std::env::temp_dir().join(format!("obsgate-routes-diff-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let file = scratch.join(&name);
    std::fs::write(&file, text).map_err(|e| e.to_string())?;
    Ok((file, format!("{rev}:{rel}")))
}
