//! `pipeline/sleep-wait`: a fixed `sleep` that waits for a service started in the background
//! (`node app.js &`, `docker run -d`, `docker compose up -d`) instead of polling its readiness.

use crate::checks::{Check, Ctx, Finding};
use crate::parse::ci::ScriptBlock;
use crate::parse::shell::{self, Command, CompoundKind, Script};

pub struct SleepWait;

/// The first words of a command, never options or values that might carry credentials.
fn name_of(cmd: &Command) -> String {
    cmd.words
        .iter()
        .map(|w| w.text.as_str())
        .take_while(|w| !w.starts_with('-') && !w.contains('=') && !w.contains('$'))
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first argument that is not an option: a subcommand (`docker compose up`, `pg_ctl start`).
fn has_subcommand(words: &[&str], sub: &str) -> bool {
    words.iter().skip(1).any(|w| *w == sub)
}

/// Programs that print or filter the word `start`, never start anything.
const TEXT_TOOLS: &[&str] = &[
    "echo", "printf", "grep", "egrep", "sed", "awk", "cut", "tr", "cat", "tee", "logger", "test",
    "[", "jq", "yq", "git",
];

/// Programs whose `start` runs in the foreground (`npm start` blocks until the app exits).
const FOREGROUND_START: &[&str] = &["npm", "yarn", "pnpm", "bun", "deno", "mix", "rails", "make"];

/// A command that starts something that keeps running after it returns, as written: a
/// background job (`&`), a detached container, a service manager's start, a daemon flag
/// (`--daemon`, `--detach`), a `start` subcommand (`pg_ctl start`, `minikube start`).
fn starts_service(cmd: &Command) -> Option<String> {
    let words: Vec<&str> = cmd.words.iter().map(|w| w.text.as_str()).collect();
    if cmd.background {
        return Some(name_of(cmd));
    }
    let prog = shell::program_name(cmd)?;
    let detached = words.iter().any(|w| *w == "-d" || *w == "--detach");
    // `docker compose up -d --wait` / `helm install --wait` return once the service is ready
    let waits = words
        .iter()
        .any(|w| *w == "--wait" || w.starts_with("--wait=") || *w == "--atomic");
    let up = match prog {
        "docker" | "podman" | "nerdctl" => {
            (has_subcommand(&words, "run") && detached)
                || (has_subcommand(&words, "compose")
                    && has_subcommand(&words, "up")
                    && detached
                    && !waits)
                || has_subcommand(&words, "start")
        }
        "docker-compose" | "podman-compose" => has_subcommand(&words, "up") && detached && !waits,
        "systemctl" | "service" => {
            has_subcommand(&words, "start") || has_subcommand(&words, "restart")
        }
        "kubectl" => has_subcommand(&words, "apply") || has_subcommand(&words, "create"),
        "helm" => {
            (has_subcommand(&words, "install") || has_subcommand(&words, "upgrade")) && !waits
        }
        p if FOREGROUND_START.contains(&p) || TEXT_TOOLS.contains(&p) => false,
        _ => {
            words.iter().skip(1).any(|w| {
                matches!(
                    *w,
                    "--daemon" | "--daemonize" | "-daemon" | "--detach" | "--background"
                )
            }) || has_subcommand(&words, "start")
        }
    };
    up.then(|| name_of(cmd))
}

/// A command that waits until a started service is ready (or gives up): after it, a `sleep` is
/// not a wait for start.
fn polls_readiness(cmd: &Command) -> bool {
    let words: Vec<&str> = cmd.words.iter().map(|w| w.text.as_str()).collect();
    let Some(prog) = shell::program_name(cmd) else {
        return false;
    };
    match prog {
        "curl" => words.iter().any(|w| w.starts_with("--retry")),
        "wget" => words
            .iter()
            .any(|w| w.starts_with("--tries") || w.starts_with("--retry")),
        "kubectl" => {
            (has_subcommand(&words, "rollout") && has_subcommand(&words, "status"))
                || has_subcommand(&words, "wait")
        }
        "wait-for-it" | "wait-for-it.sh" | "wait-for" | "dockerize" | "pg_isready"
        | "mysqladmin" | "redis-cli" => true,
        "docker" | "podman" => has_subcommand(&words, "wait") || has_subcommand(&words, "inspect"),
        "obsgate" => has_subcommand(&words, "probe"),
        _ => prog.starts_with("wait"),
    }
}

/// A command that stops what was started: a `sleep` after it is not a wait for start.
fn stops_service(cmd: &Command) -> bool {
    let words: Vec<&str> = cmd.words.iter().map(|w| w.text.as_str()).collect();
    let Some(prog) = shell::program_name(cmd) else {
        return false;
    };
    let any = |subs: &[&str]| subs.iter().any(|s| has_subcommand(&words, s));
    match prog {
        "kill" | "pkill" | "killall" => true,
        "docker" | "podman" | "nerdctl" => any(&["stop", "kill", "rm", "down"]),
        "docker-compose" | "podman-compose" => any(&["down", "stop", "kill"]),
        "systemctl" | "service" => any(&["stop"]),
        "kubectl" => any(&["delete"]),
        "helm" => any(&["uninstall", "delete"]),
        _ => words.get(1) == Some(&"stop"),
    }
}

fn sleep_seconds(cmd: &Command) -> Option<f64> {
    if shell::program_name(cmd) != Some("sleep") {
        return None;
    }
    let arg = cmd.words.get(1)?.text.as_str();
    let (num, mult) = match arg.chars().last()? {
        's' => (&arg[..arg.len() - 1], 1.0),
        'm' => (&arg[..arg.len() - 1], 60.0),
        'h' => (&arg[..arg.len() - 1], 3600.0),
        _ => (arg, 1.0),
    };
    num.parse::<f64>().ok().map(|n| n * mult)
}

fn in_loop(script: &Script, cmd: &Command) -> bool {
    cmd.context.iter().any(|x| {
        script.compounds.get(x.compound).is_some_and(|k| {
            matches!(
                k.kind,
                CompoundKind::While | CompoundKind::Until | CompoundKind::For
            )
        })
    })
}

impl Check for SleepWait {
    fn id(&self) -> &'static str {
        "pipeline/sleep-wait"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out: Vec<Finding> = Vec::new();
        // a `sleep` written once (in an anchor that many jobs merge) is reported once
        let mut seen = std::collections::HashSet::new();
        for f in &cx.project.files {
            // the scripts of one job run in sequence (before_script, script): a service started
            // by one item is still starting in the next
            let mut current_job: Option<&Option<String>> = None;
            let mut started: Option<(String, &ScriptBlock, std::ops::Range<usize>)> = None;
            for b in &f.scripts {
                if current_job != Some(&b.job) || b.section == "after_script" {
                    current_job = Some(&b.job);
                    started = None;
                }
                let script = shell::parse(&b.text);
                for c in &script.commands {
                    if let Some(what) = starts_service(c) {
                        started = Some((what, b, c.span.clone()));
                        continue;
                    }
                    // a readiness poll (a loop that polls, or a command that waits) or a stop:
                    // what follows does not wait for the start
                    let polls = in_loop(&script, c) && sleep_seconds(c).is_none();
                    if started.is_some() && (polls || polls_readiness(c) || stops_service(c)) {
                        started = None;
                        continue;
                    }
                    let Some(secs) = sleep_seconds(c) else {
                        continue;
                    };
                    if secs < 1.0 || in_loop(&script, c) {
                        continue;
                    }
                    let Some((what, sb, sspan)) = &started else {
                        continue;
                    };
                    let arg = c.words.get(1).map(|w| w.text.as_str()).unwrap_or("");
                    let at = b.file_span(&c.span);
                    if !seen.insert((f.file, at.start, at.end)) {
                        started = None;
                        continue;
                    }
                    out.push(
                        Finding::new(
                            self.id(),
                            f.file,
                            at,
                            format!(
                                "`sleep {arg}` waits a fixed time for `{what}` to come up: on a slow runner the checks that follow run before it is ready (and fail, or pass against nothing), on a fast one the job just waits"
                            ),
                        )
                        .label("fixed wait")
                        .also(f.file, sb.file_span(sspan), "started in the background here")
                        .help("poll readiness instead: `obsgate probe --boot '<command>' --target http://127.0.0.1:PORT` (boots, waits with backoff, checks /metrics and /health, always stops it), or `curl -fsS --retry 30 --retry-connrefused --retry-delay 1 URL`"),
                    );
                    // one finding per service start
                    started = None;
                }
            }
        }
        out
    }
}
