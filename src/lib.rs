//! obsgate: audits monitoring configuration (Prometheus rules first) and gates CI on it.
//!
//! The binary is thin glue over this library: [`run`] takes arguments and output streams and
//! returns the exit code (0 clean, 1 findings at or above `--fail-on`, 2 usage/config/IO errors).

pub mod artifacts;
pub mod atomic;
pub mod baseline;
pub mod checks;
pub mod cli;
pub mod config;
pub mod engine;
pub mod fix;
pub mod init;
pub mod model;
pub mod online;
pub mod parse;
pub mod policy;
pub mod probe;
pub mod report;
pub mod routes;
pub mod routetest;
pub mod scope;
pub mod secrets;
pub mod source;
pub mod suppress;

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::Parser;

use crate::checks::registry;
use crate::cli::{CheckArgs, Cli, Color, Command};
use crate::config::{Config, ConfigError};
use crate::report::{Format, Style};

/// Exit codes.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

/// Terminal facts, injected so the library is testable.
#[derive(Debug, Clone, Copy)]
pub struct Env {
    pub stdout_is_tty: bool,
    pub no_color: bool,
    /// Columns of the text report: `COLUMNS` when set, else the terminal's width when stdout
    /// is one, else `None` ([`DEFAULT_WIDTH`]).
    pub width: Option<usize>,
}

/// Width of the text report when neither `COLUMNS` nor a terminal tells one (a CI log, a file).
pub const DEFAULT_WIDTH: usize = 100;

/// The narrowest text report: below it the excerpts' gutters leave no room for the messages.
pub const MIN_WIDTH: usize = 40;

impl Env {
    pub fn detect() -> Env {
        let stdout_is_tty = std::io::stdout().is_terminal();
        let columns = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse::<usize>().ok())
            .filter(|&c| c > 0);
        let terminal = || {
            stdout_is_tty
                .then(|| terminal_size::terminal_size_of(std::io::stdout()))
                .flatten()
                .map(|(w, _)| w.0 as usize)
                .filter(|&w| w > 0)
        };
        Env {
            stdout_is_tty,
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            width: columns.or_else(terminal),
        }
    }

    /// The text report's width: [`Env::width`] (at least [`MIN_WIDTH`]) or [`DEFAULT_WIDTH`].
    pub fn text_width(&self) -> usize {
        self.width.map_or(DEFAULT_WIDTH, |w| w.max(MIN_WIDTH))
    }
}

/// Stack of each rayon worker thread (files are parsed and checked on them).
///
/// The YAML parser recurses once per nesting level up to its depth budget (64): in a debug
/// build that takes about 32 KiB a level, so rayon's default 2 MiB stack overflowed (an abort,
/// not a finding) on a `{a: {a: ...` file just over the budget. The stack is reserved, not
/// committed, so a generous size costs no memory.
pub const WORKER_STACK_SIZE: usize = 16 * 1024 * 1024;

/// Configure the global rayon pool (once, before its first use) with [`WORKER_STACK_SIZE`].
/// Harmless when the pool already exists (an embedding program configured it itself).
pub fn init_worker_pool() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rayon::ThreadPoolBuilder::new()
            .stack_size(WORKER_STACK_SIZE)
            .build_global();
    });
}

/// Write, treating a closed pipe (`obsgate ... | head`) as success.
fn emit(w: &mut dyn Write, s: &str) -> std::io::Result<()> {
    match w.write_all(s.as_bytes()).and_then(|_| w.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// The ids among `known` close to `id` (a typo, a missing domain, a wrong domain), closest
/// first, at most three.
pub fn suggest<'a>(id: &str, known: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let id = id.trim().to_ascii_lowercase();
    let name = |s: &str| s.rsplit('/').next().unwrap_or(s).to_string();
    let mut scored: Vec<(f64, &str)> = known
        .filter_map(|k| {
            let whole = strsim::jaro_winkler(&id, k);
            // `missing-runbook` or `rules/missing-runbook` for `alerts/missing-runbook`
            let by_name = strsim::jaro_winkler(&name(&id), &name(k)) - 0.02;
            let score = whole.max(by_name);
            (score >= 0.85).then_some((score, k))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    // only those about as close as the closest
    let best = scored.first().map_or(0.0, |s| s.0);
    scored
        .into_iter()
        .take_while(|s| s.0 >= best - 0.04)
        .take(3)
        .map(|(_, k)| k)
        .collect()
}

/// Run obsgate with `args` (including the program name); returns the exit code.
pub fn run(
    args: impl IntoIterator<Item = OsString>,
    env: Env,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
            let text = e.render().to_string();
            let _ = if e.use_stderr() {
                emit(err, &text)
            } else {
                emit(out, &text)
            };
            return code;
        }
    };
    match cli.command {
        Command::Checks { format } => {
            let s = if format == "json" {
                let list: Vec<serde_json::Value> = registry::metas()
                    .iter()
                    .map(|m| {
                        serde_json::json!({
                            "id": m.id,
                            "severity": m.severity.as_str(),
                            "summary": m.summary.trim(),
                            "url": checks::docs_url(&m.id),
                            "options": m.options.iter().map(|o| &o.name).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                serde_json::to_string_pretty(&list).unwrap_or_default() + "\n"
            } else {
                let mut s = String::new();
                for m in registry::metas() {
                    s.push_str(&format!("{:<36} {:<8} {}\n", m.id, m.severity, m.summary));
                }
                s
            };
            let _ = emit(out, &s);
            EXIT_OK
        }
        Command::Explain { id, config } => match registry::meta(&id) {
            Some(m) => {
                let _ = emit(out, &checks::meta_doc(m));
                EXIT_OK
            }
            None if id.starts_with("policy/") => {
                let path = config.or_else(|| Config::find(std::path::Path::new(".")));
                let config = match path.as_deref().map(Config::load) {
                    Some(Ok(c)) => c,
                    Some(Err(e)) => {
                        let _ = emit(err, &render_config_error(&e));
                        return EXIT_ERROR;
                    }
                    None => Config::default(),
                };
                match config.policies.iter().find(|p| p.id == id) {
                    Some(p) => {
                        let _ = emit(out, &p.explain());
                        EXIT_OK
                    }
                    None => {
                        let names: Vec<&str> = config.policies.iter().map(|p| p.id).collect();
                        let _ = emit(
                            err,
                            &format!(
                                "error: no policy `{id}` in {}; policies: {}\n",
                                path.map_or(
                                    "the config (no .obsgate.yml found)".to_string(),
                                    |p| p.display().to_string()
                                ),
                                if names.is_empty() {
                                    "none".to_string()
                                } else {
                                    names.join(", ")
                                }
                            ),
                        );
                        EXIT_ERROR
                    }
                }
            }
            None => {
                let close = suggest(&id, registry::metas().iter().map(|m| m.id.as_str()));
                let hint = if close.is_empty() {
                    String::new()
                } else {
                    format!("did you mean `{}`? ", close.join("`, `"))
                };
                let _ = emit(
                    err,
                    &format!(
                        "error: unknown check `{id}`; {hint}run `obsgate checks` for the list\n"
                    ),
                );
                EXIT_ERROR
            }
        },
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, "obsgate", &mut buf);
            match out.write_all(&buf) {
                Ok(()) => EXIT_OK,
                Err(_) => EXIT_ERROR,
            }
        }
        Command::Man { out_dir } => {
            // no `help` subcommand in the pages: it has no page of its own to refer to
            let cmd = <Cli as clap::CommandFactory>::command().disable_help_subcommand(true);
            if let Some(dir) = out_dir {
                let written =
                    std::fs::create_dir_all(&dir).and_then(|_| clap_mangen::generate_to(cmd, &dir));
                return match written {
                    Ok(()) => {
                        let mut pages: Vec<String> = std::fs::read_dir(&dir)
                            .map(|r| {
                                r.filter_map(|e| e.ok())
                                    .map(|e| e.file_name().to_string_lossy().into_owned())
                                    .filter(|n| n.starts_with("obsgate") && n.ends_with(".1"))
                                    .collect()
                            })
                            .unwrap_or_default();
                        pages.sort();
                        let _ = emit(
                            err,
                            &format!(
                                "wrote {} man pages to {}: {}\n",
                                pages.len(),
                                dir.display(),
                                pages.join(" ")
                            ),
                        );
                        EXIT_OK
                    }
                    Err(e) => {
                        let _ = emit(
                            err,
                            &format!("error: cannot write man pages to {}: {e}\n", dir.display()),
                        );
                        EXIT_ERROR
                    }
                };
            }
            let mut buf = Vec::new();
            if clap_mangen::Man::new(cmd).render(&mut buf).is_err() {
                return EXIT_ERROR;
            }
            match out.write_all(&buf) {
                Ok(()) => EXIT_OK,
                Err(_) => EXIT_ERROR,
            }
        }
        Command::Check(args) => run_check(args, None, env, out, err),
        Command::Probe(args) => run_probe(*args, env, out, err),
        Command::Exporter {
            listen,
            config,
            rules,
            max_concurrent,
        } => {
            let path = config.or_else(|| Config::find(std::path::Path::new(".")));
            let config = match &path {
                Some(p) => match Config::load(p) {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = emit(err, &render_config_error(&e));
                        return EXIT_ERROR;
                    }
                },
                None => {
                    let _ = emit(
                        err,
                        "error: the exporter needs `probe.targets` in .obsgate.yml (or --config FILE)\n",
                    );
                    return EXIT_ERROR;
                }
            };
            let opts = probe::exporter::ExporterOptions {
                listen,
                config,
                rules,
                base: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
                max_concurrent_probes: max_concurrent,
                default_timeout: std::time::Duration::from_secs(10),
                shutdown: None,
                limits: probe::exporter::Limits::default(),
            };
            match probe::exporter::serve(opts) {
                Ok(()) => EXIT_OK,
                Err(e) => {
                    let _ = emit(err, &format!("error: {e}\n"));
                    EXIT_ERROR
                }
            }
        }
        Command::Routes { command } => run_routes(command, out, err),
        Command::Fix(args) => run_fix(args, out, err),
        Command::Init {
            paths,
            stdout,
            force,
        } => run_init(paths, stdout, force, out, err),
        Command::Inventory {
            paths,
            config,
            format,
        } => run_inventory(paths, config, &format, out, err),
    }
}

/// `obsgate inventory`: the metric inventory of the paths, as text or JSON.
fn run_inventory(
    paths: Vec<PathBuf>,
    config: Option<PathBuf>,
    format: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let paths = paths_or_here(&paths);
    let config = match load_config(config, &paths[0], err) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let filter = match source::discover::Filter::new(&config.include, &config.exclude) {
        Ok(f) => f,
        Err(e) => {
            let _ = emit(err, &format!("error: {e}\n"));
            return EXIT_ERROR;
        }
    };
    let base = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let project = match engine::load(&paths, &base, &filter) {
        Ok(p) => p,
        Err(e) => {
            let _ = emit(err, &format!("error: {e}\n"));
            return EXIT_ERROR;
        }
    };
    let entries = model::inventory::inventory(&project);
    let text = if format == "json" {
        model::inventory::render_json(&project, &entries)
    } else {
        model::inventory::render_text(&project, &entries)
    };
    let _ = emit(out, &text);
    EXIT_OK
}

fn run_routes(command: cli::RoutesCommand, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let result = match command {
        cli::RoutesCommand::Test {
            config,
            tests: Some(tests),
            coverage,
            fail_under,
            format,
            operator,
            ..
        } => routes::run_tests(
            &routes::TestsArgs {
                config,
                operator,
                tests,
                coverage,
                fail_under,
                json: match format.as_str() {
                    "text" => false,
                    "json" => true,
                    other => {
                        let _ = emit(
                            err,
                            &format!("error: unknown format `{other}` (text, json)\n"),
                        );
                        return EXIT_ERROR;
                    }
                },
            },
            out,
        ),
        cli::RoutesCommand::Test {
            config,
            rules,
            operator,
            verify_receivers,
            tree,
            all,
            labels,
            ..
        } => routes::test(
            &routes::TestArgs {
                config,
                rules,
                operator,
                labels,
                verify_receivers,
                tree,
                all,
            },
            out,
        ),
        cli::RoutesCommand::Diff {
            config,
            diff_base,
            rules,
            operator,
            format,
        } => (|| {
            let (old, new, old_name) = match (config.as_slice(), diff_base) {
                ([old, new], None) => (old.clone(), new.clone(), old.display().to_string()),
                ([one], Some(rev)) => {
                    let (file, name) = routes::at_revision(one, &rev)?;
                    (file, one.clone(), name)
                }
                ([_], None) => {
                    return Err(
                        "give two configs (OLD NEW), or one with --diff-base REV".to_string()
                    )
                }
                _ => return Err("--diff-base takes one config".to_string()),
            };
            routes::diff(
                &routes::DiffArgs {
                    old,
                    new,
                    rules,
                    operator,
                    format,
                    old_name,
                },
                out,
            )
        })(),
        cli::RoutesCommand::Tree { config, format } => match format.as_str() {
            "text" | "mermaid" => routes::tree(&config, format == "mermaid", out).map(|_| EXIT_OK),
            other => Err(format!("unknown format `{other}` (text, mermaid)")),
        },
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let _ = emit(err, &format!("error: {e}\n"));
            EXIT_ERROR
        }
    }
}

/// `path:line:col: message` per config problem (the config is not a finding: exit code 2).
fn render_config_error(e: &ConfigError) -> String {
    let lines = source::LineIndex::new(&e.text);
    // a problem quotes a value of the config (a probe target's URL): its secrets redacted
    let redactor = secrets::Redactor::for_texts([&*e.text]);
    let mut s = String::new();
    for p in &e.problems {
        let (l, c) = lines.line_col(&e.text, p.span.start);
        s.push_str(&format!(
            "error: {}:{l}:{c}: {}\n",
            e.path.display(),
            redactor.redact_in(&p.message)
        ));
    }
    s
}

fn parse_duration_flag(s: &str, flag: &str) -> Result<std::time::Duration, String> {
    parse::scalar::parse_duration(s)
        .map(|d| std::time::Duration::from_millis(d.0))
        .map_err(|e| format!("{flag}: {e}"))
}

/// What `obsgate probe` probes, from its flags and `.obsgate.yml`.
struct ProbePlan {
    targets: Vec<probe::Target>,
    options: probe::Options,
    record: Option<PathBuf>,
}

fn run_probe(args: cli::ProbeArgs, env: Env, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    // before any thread exists: Ctrl-C and SIGTERM stop booted services
    probe::boot::install_signal_guard();
    let fail = |err: &mut dyn Write, m: String| {
        // a --target URL is quoted: never its password
        let _ = emit(err, &format!("error: {}\n", secrets::redact_in(&m)));
        EXIT_ERROR
    };
    let ready_timeout = match parse_duration_flag(&args.ready_timeout, "--ready-timeout") {
        Ok(d) => d,
        Err(e) => return fail(err, e),
    };
    let duration = match args
        .duration
        .as_deref()
        .map(|d| parse_duration_flag(d, "--duration"))
    {
        Some(Err(e)) => return fail(err, e),
        Some(Ok(d)) => Some(d),
        None => None,
    };
    for (flag, path) in [
        ("--metrics-path", Some(&args.metrics_path)),
        ("--health-path", Some(&args.health_path)),
        ("--load-path", args.load_path.as_ref()),
    ] {
        if let Some(Err(e)) = path.map(|p| probe::check_path(p)) {
            return fail(err, format!("{flag}: {e}"));
        }
    }
    let mut check = args.check;
    if !args.rules.is_empty() {
        check.paths.extend(args.rules.iter().cloned());
    }
    let first = check
        .paths
        .first()
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."));
    let config_path = check.config.clone().or_else(|| Config::find(&first));
    let config = match &config_path {
        Some(p) => match Config::load(p) {
            Ok(c) => c,
            Err(e) => {
                let _ = emit(err, &render_config_error(&e));
                return EXIT_ERROR;
            }
        },
        None => Config::default(),
    };
    let mut targets = Vec::new();
    let load_path_default = args.load_path.clone();
    for (i, url) in args.targets.iter().enumerate() {
        let base = url.trim_end_matches('/').to_string();
        if !base.starts_with("http://") && !base.starts_with("https://") {
            return fail(err, format!("--target `{url}` is not an http(s) URL"));
        }
        targets.push(probe::Target {
            // the URL's host:port names it (never its user and password)
            name: base
                .split("://")
                .nth(1)
                .unwrap_or(&base)
                .split('/')
                .next()
                .unwrap_or(&base)
                .rsplit('@')
                .next()
                .unwrap_or(&base)
                .to_string()
                + &if args.targets[..i]
                    .iter()
                    .any(|u| u.trim_end_matches('/') == base)
                {
                    format!("#{}", i + 1)
                } else {
                    String::new()
                },
            base,
            metrics_path: args.metrics_path.clone(),
            health_path: args.health_path.clone(),
            // --boot belongs to the first target
            boot: if i == 0 { args.boot.clone() } else { None },
            ready_timeout,
            health_required: Vec::new(),
            health_budget: std::time::Duration::from_secs(1),
            load_path: load_path_default
                .clone()
                .unwrap_or_else(|| args.health_path.clone()),
        });
    }
    if targets.is_empty() {
        for t in &config.probe_targets {
            let health_path = t
                .health_path
                .clone()
                .unwrap_or_else(|| args.health_path.clone());
            targets.push(probe::Target {
                name: t.name.clone(),
                base: t.url.trim_end_matches('/').to_string(),
                metrics_path: t
                    .metrics_path
                    .clone()
                    .unwrap_or_else(|| args.metrics_path.clone()),
                health_path: health_path.clone(),
                boot: t.boot.clone().or_else(|| args.boot.clone()),
                ready_timeout: t.ready_timeout.unwrap_or(ready_timeout),
                health_required: t.health_required.clone(),
                health_budget: t.health_budget.unwrap_or(std::time::Duration::from_secs(1)),
                load_path: load_path_default
                    .clone()
                    .or_else(|| config.probe_load.as_ref().and_then(|l| l.path.clone()))
                    .unwrap_or(health_path),
            });
        }
    }
    if targets.is_empty() {
        return fail(
            err,
            "nothing to probe: give --target URL or declare `probe.targets` in .obsgate.yml".into(),
        );
    }
    let cfg_load = config.probe_load.clone();
    let requests = args.requests.or(cfg_load.as_ref().and_then(|l| l.requests));
    let duration = duration.or(cfg_load.as_ref().and_then(|l| l.duration));
    let load = (requests.is_some() || duration.is_some()).then(|| probe::LoadSettings {
        requests,
        duration,
        concurrency: cfg_load
            .as_ref()
            .and_then(|l| l.concurrency)
            .filter(|_| args.concurrency == 8)
            .unwrap_or(args.concurrency),
    });
    let plan = ProbePlan {
        targets,
        options: probe::Options {
            load,
            // progress only for a person at a terminal, never in CI logs
            progress: std::io::stderr().is_terminal() && !check.quiet,
            ..probe::Options::default()
        },
        record: args.record.clone(),
    };
    run_check(check, Some(plan), env, out, err)
}

/// The paths given, or `.`.
fn paths_or_here(paths: &[PathBuf]) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    }
}

/// The config given with `--config`, else the `.obsgate.yml` found upward from the first path,
/// else the defaults; a config with problems is said on `err` (`Err`: exit 2).
fn load_config(
    given: Option<PathBuf>,
    first: &std::path::Path,
    err: &mut dyn Write,
) -> Result<Config, i32> {
    match given.or_else(|| Config::find(first)) {
        Some(p) => Config::load(&p).map_err(|e| {
            let _ = emit(err, &render_config_error(&e));
            EXIT_ERROR
        }),
        None => Ok(Config::default()),
    }
}

fn run_init(
    paths: Vec<PathBuf>,
    stdout: bool,
    force: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let paths = paths_or_here(&paths);
    let target = PathBuf::from(config::FILE_NAME);
    if !stdout && !force && target.exists() {
        let _ = emit(
            err,
            &format!(
                "error: {} exists; --force replaces it, --stdout prints the new one\n",
                config::FILE_NAME
            ),
        );
        return EXIT_ERROR;
    }
    let base = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let project = match engine::load(&paths, &base, &source::discover::Filter::default()) {
        Ok(p) => p,
        Err(e) => {
            let _ = emit(err, &format!("error: {e}\n"));
            return EXIT_ERROR;
        }
    };
    // no secret of the files in it (a boot command's token, say)
    let text = project
        .redactor()
        .redact_in(&init::render(&project))
        .into_owned();
    if stdout {
        let _ = emit(out, &text);
        return EXIT_OK;
    }
    match atomic::write(&target, text) {
        Ok(()) => {
            let _ = emit(
                err,
                &format!(
                    "wrote {} (review it; `obsgate check` reads it)\n",
                    config::FILE_NAME
                ),
            );
            EXIT_OK
        }
        Err(e) => {
            let _ = emit(
                err,
                &format!("error: cannot write {}: {e}\n", config::FILE_NAME),
            );
            EXIT_ERROR
        }
    }
}

fn run_fix(args: cli::FixArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let paths = paths_or_here(&args.paths);
    let config = match load_config(args.config.clone(), &paths[0], err) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let opts = engine::CheckOptions {
        paths,
        base: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        config,
        only: None,
    };
    let outcome = match engine::check(&opts) {
        Ok(o) => o,
        Err(e) => {
            let _ = emit(err, &format!("error: {e}\n"));
            return EXIT_ERROR;
        }
    };
    let plan = fix::plan(&outcome, args.unsafe_fixes);
    // what is printed shows no secret of the run (a diff's context lines may hold one)
    let red = outcome.project.redactor();
    let mut notes = String::new();
    for n in &plan.notes {
        notes.push_str(&format!("note: {}\n", report::escape(&red.redact_in(n))));
    }
    let fixes: usize = plan.files.iter().map(|f| f.fixes).sum();
    if args.diff {
        let _ = emit(out, &red.redact_in(&fix::diff(&plan)));
        let _ = emit(
            err,
            &format!(
                "{notes}obsgate fix: {fixes} fixes in {} files (not written: --diff)\n",
                plan.files.len()
            ),
        );
        return if plan.files.is_empty() {
            EXIT_OK
        } else {
            EXIT_FINDINGS
        };
    }
    let mut failed = 0;
    for f in &plan.files {
        if let Err(e) = atomic::write(&f.fs_path, f.new.clone()) {
            notes.push_str(&format!("error: cannot write {}: {e}\n", f.shown));
            failed += 1;
        }
    }
    let _ = emit(
        err,
        &format!(
            "{notes}obsgate fix: {fixes} fixes in {} files\n",
            plan.files.len() - failed
        ),
    );
    if failed > 0 {
        EXIT_ERROR
    } else {
        EXIT_OK
    }
}

fn run_check(
    args: CheckArgs,
    probe_plan: Option<ProbePlan>,
    env: Env,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let paths = paths_or_here(&args.paths);
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => env.stdout_is_tty && !env.no_color,
    };
    let mut config = match load_config(args.config.clone(), &paths[0], err) {
        Ok(c) => c,
        Err(code) => return code,
    };
    config.online = args.online;
    let mut outputs = Vec::new();
    for o in &args.output {
        let Some((fmt, path)) = o.split_once('=') else {
            let _ = emit(
                err,
                &format!("error: --output expects FORMAT=PATH, got `{o}`\n"),
            );
            return EXIT_ERROR;
        };
        match fmt.parse::<Format>() {
            Ok(f) => outputs.push((f, PathBuf::from(path))),
            Err(_) => {
                let _ = emit(
                    err,
                    &format!("error: --output: unknown format `{fmt}` (text, concise, json, sarif, codequality, junit, github)\n"),
                );
                return EXIT_ERROR;
            }
        }
    }
    let base = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    // what is reported on, when it is less than what is loaded
    let mut scope = (!args.load.is_empty()).then(|| scope::Scope::of_paths(&paths));
    if let Some(rev) = &args.diff_base {
        match scope::Scope::changed_since(rev, &base) {
            Ok((changed, note)) => {
                if let Some(n) = note {
                    let _ = emit(err, &n);
                }
                scope = Some(match scope {
                    Some(s) => s.intersect(&changed),
                    None => changed,
                });
            }
            Err(e) => {
                let _ = emit(err, &format!("error: {e}\n"));
                return EXIT_ERROR;
            }
        }
    }
    let paths: Vec<PathBuf> = args.load.iter().cloned().chain(paths).collect();
    let extra_alerts = config.extra_alerts.clone();
    let opts = engine::CheckOptions {
        paths,
        base,
        config,
        only: None,
    };
    let baseline = match &args.baseline {
        Some(p) => match baseline::read(p) {
            Ok(b) => Some(b),
            Err(e) => {
                let _ = emit(err, &format!("error: {e}\n"));
                return EXIT_ERROR;
            }
        },
        None => None,
    };
    let mut probed_none = false;
    // an output that cannot be written is said, the others are still written, and the run
    // exits 2
    let mut unwritten = 0;
    let mut record_error = None;
    let mut outcome = match engine::check_with(&opts, |project| {
        if let Some(plan) = &probe_plan {
            let results = probe::probe_all(&plan.targets, &plan.options);
            probed_none = results.iter().all(|r| r.unreachable.is_some());
            if let Some(path) = &plan.record {
                let record = probe::Record {
                    obsgate_probe: 1,
                    targets: results.clone(),
                };
                let text = serde_json::to_string_pretty(&record).unwrap_or_default();
                if let Err(e) = atomic::write(path, text + "\n") {
                    record_error = Some(format!(
                        "error: cannot write the probe record {}: {e}\n",
                        path.display()
                    ));
                }
            }
            project.add_probe_results(results);
        }
        Ok(())
    }) {
        Ok(o) => o,
        Err(e) => {
            let _ = emit(err, &format!("error: {e}\n"));
            return EXIT_ERROR;
        }
    };
    if let Some(e) = record_error {
        let _ = emit(err, &e);
        unwritten += 1;
    }
    if let Some(scope) = &scope {
        outcome
            .findings
            .retain(scope.filter(&outcome.project.sources));
    }
    if let Some(dir) = &args.artifacts {
        if let Err(e) = artifacts::write(dir, &outcome.project, &extra_alerts) {
            let _ = emit(
                err,
                &format!("error: cannot write artifacts to {}: {e}\n", dir.display()),
            );
            unwritten += 1;
        }
    }
    if let Some(p) = &args.write_baseline {
        if let Err(e) = atomic::write(p, baseline::write(&outcome.findings)) {
            let _ = emit(err, &format!("error: cannot write {}: {e}\n", p.display()));
            unwritten += 1;
        }
    }
    let mut baselined = 0;
    if let Some(b) = &baseline {
        let before = outcome.findings.len();
        outcome
            .findings
            .retain(|f| !b.contains(&f.fingerprint.to_string()));
        baselined = before - outcome.findings.len();
    }
    let format = args.format.unwrap_or(if env.stdout_is_tty {
        Format::Text
    } else {
        Format::Concise
    });
    let style = Style {
        color,
        width: env.text_width(),
    };
    // reports are streamed (a large run's SARIF is tens of MB), through a buffer
    let written = {
        let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut *out);
        report::write(format, &mut w, &outcome.project, &outcome.findings, style)
            .and_then(|_| w.flush())
    };
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            let _ = emit(err, &format!("error: cannot write the report: {e}\n"));
            unwritten += 1;
        }
        _ => {}
    }
    for (fmt, path) in outputs {
        let written = atomic::write_with(&path, |w| {
            report::write(
                fmt,
                w,
                &outcome.project,
                &outcome.findings,
                // a file is read later, elsewhere: the terminal's width says nothing about it
                Style {
                    color: false,
                    width: DEFAULT_WIDTH,
                },
            )
        });
        if let Err(e) = written {
            let _ = emit(
                err,
                &format!("error: cannot write {}: {e}\n", path.display()),
            );
            unwritten += 1;
        }
    }
    let failing = outcome
        .findings
        .iter()
        .filter(|f| f.severity >= args.fail_on)
        .count();
    if !args.quiet && format != Format::Json {
        let count = |s| outcome.findings.iter().filter(|f| f.severity == s).count();
        let files = outcome
            .project
            .sources
            .iter()
            .filter(|s| s.origin.is_none())
            .count();
        let _ = emit(
            err,
            &format!(
                "obsgate: {} files, {} errors, {} warnings, {} info{}\n",
                files,
                count(checks::Severity::Error),
                count(checks::Severity::Warning),
                count(checks::Severity::Info),
                if baselined > 0 {
                    format!(", {baselined} in the baseline (not shown)")
                } else {
                    String::new()
                }
            ),
        );
    }
    // freeing a large project (every rule, expression and finding) takes a noticeable share of a
    // run: let a thread do it while the caller goes on (a process exiting does not wait for it)
    std::thread::spawn(move || drop(outcome));
    if probed_none {
        let _ = emit(
            err,
            "error: no target could be probed (see probe/unreachable above)\n",
        );
        return EXIT_ERROR;
    }
    if unwritten > 0 {
        return EXIT_ERROR;
    }
    if failing > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}
