//! obsgate: audits monitoring configuration (Prometheus rules first) and gates CI on it.
//!
//! The binary is thin glue over this library: [`run`] takes arguments and output streams and
//! returns the exit code (0 clean, 1 findings at or above `--fail-on`, 2 usage/config/IO errors).

pub mod artifacts;
pub mod baseline;
pub mod checks;
pub mod cli;
pub mod config;
pub mod engine;
pub mod model;
pub mod parse;
pub mod report;
pub mod routes;
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
}

impl Env {
    pub fn detect() -> Env {
        Env {
            stdout_is_tty: std::io::stdout().is_terminal(),
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        }
    }
}

/// Write, treating a closed pipe (`obsgate ... | head`) as success.
fn emit(w: &mut dyn Write, s: &str) -> std::io::Result<()> {
    match w.write_all(s.as_bytes()).and_then(|_| w.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
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
        Command::Checks => {
            let mut s = String::new();
            for m in registry::metas() {
                s.push_str(&format!("{:<36} {:<8} {}\n", m.id, m.severity, m.summary));
            }
            let _ = emit(out, &s);
            EXIT_OK
        }
        Command::Explain { id } => match registry::meta(&id) {
            Some(m) => {
                let _ = emit(out, &checks::meta_doc(m));
                EXIT_OK
            }
            None => {
                let _ = emit(
                    err,
                    &format!("error: unknown check `{id}`; run `obsgate checks` for the list\n"),
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
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut buf = Vec::new();
            if clap_mangen::Man::new(cmd).render(&mut buf).is_err() {
                return EXIT_ERROR;
            }
            match out.write_all(&buf) {
                Ok(()) => EXIT_OK,
                Err(_) => EXIT_ERROR,
            }
        }
        Command::Check(args) => run_check(args, env, out, err),
        Command::Routes { command } => run_routes(command, out, err),
    }
}

fn run_routes(command: cli::RoutesCommand, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let result = match command {
        cli::RoutesCommand::Test {
            config,
            rules,
            verify_receivers,
            tree,
            all,
            labels,
        } => routes::test(
            &routes::TestArgs {
                config,
                rules,
                labels,
                verify_receivers,
                tree,
                all,
            },
            out,
        ),
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
    let mut s = String::new();
    for p in &e.problems {
        let (l, c) = lines.line_col(&e.text, p.span.start);
        s.push_str(&format!(
            "error: {}:{l}:{c}: {}\n",
            e.path.display(),
            p.message
        ));
    }
    s
}

fn run_check(args: CheckArgs, env: Env, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => env.stdout_is_tty && !env.no_color,
    };
    let config_path = args.config.clone().or_else(|| Config::find(&paths[0]));
    let config = match config_path {
        Some(p) => match Config::load(&p) {
            Ok(c) => c,
            Err(e) => {
                let _ = emit(err, &render_config_error(&e));
                return EXIT_ERROR;
            }
        },
        None => Config::default(),
    };
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
    let mut outcome = match engine::check(&opts) {
        Ok(o) => o,
        Err(e) => {
            let _ = emit(err, &format!("error: {e}\n"));
            return EXIT_ERROR;
        }
    };
    if let Some(dir) = &args.artifacts {
        if let Err(e) = artifacts::write(dir, &outcome.project, &extra_alerts) {
            let _ = emit(
                err,
                &format!("error: cannot write artifacts to {}: {e}\n", dir.display()),
            );
            return EXIT_ERROR;
        }
    }
    if let Some(p) = &args.write_baseline {
        if let Err(e) = std::fs::write(p, baseline::write(&outcome.findings)) {
            let _ = emit(err, &format!("error: cannot write {}: {e}\n", p.display()));
            return EXIT_ERROR;
        }
    }
    let mut baselined = 0;
    if let Some(b) = &baseline {
        let before = outcome.findings.len();
        outcome.findings.retain(|f| !b.contains(&f.fingerprint));
        baselined = before - outcome.findings.len();
    }
    let format = args.format.unwrap_or(if env.stdout_is_tty {
        Format::Text
    } else {
        Format::Concise
    });
    let style = Style { color, width: 100 };
    let rendered = report::render(format, &outcome.project, &outcome.findings, style);
    if emit(out, &rendered).is_err() {
        return EXIT_ERROR;
    }
    for (fmt, path) in outputs {
        let text = report::render(
            fmt,
            &outcome.project,
            &outcome.findings,
            Style {
                color: false,
                width: 100,
            },
        );
        if let Err(e) = std::fs::write(&path, text) {
            let _ = emit(
                err,
                &format!("error: cannot write {}: {e}\n", path.display()),
            );
            return EXIT_ERROR;
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
    if failing > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}
