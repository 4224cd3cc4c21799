//! `pipeline/sleep-wait`: a fixed `sleep` that waits for a service started in the background
//! (`node app.js &`, `docker run -d`, `docker compose up -d`) instead of polling its readiness.

use crate::checks::{Check, Ctx, Finding};
use crate::parse::ci::ScriptBlock;
use crate::parse::shell::{self, Command, CompoundKind, Script};

pub struct SleepWait;

/// A command that starts something in the background, as written.
fn starts_service(cmd: &Command) -> Option<String> {
    let words: Vec<&str> = cmd.words.iter().map(|w| w.text.as_str()).collect();
    // named by its first words, never by options or values that might carry credentials
    let text = words
        .iter()
        .take_while(|w| !w.starts_with('-') && !w.contains('=') && !w.contains('$'))
        .take(3)
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    if cmd.background {
        return Some(text);
    }
    let prog = shell::program_name(cmd)?;
    let detached = words.iter().any(|w| *w == "-d" || *w == "--detach");
    let up = match prog {
        "docker" | "podman" => {
            (words.contains(&"run") && detached)
                || (words.contains(&"compose") && words.contains(&"up") && detached)
        }
        "docker-compose" => words.contains(&"up") && detached,
        "systemctl" | "service" => words.contains(&"start") || words.contains(&"restart"),
        "kubectl" => words.contains(&"apply") || words.contains(&"rollout"),
        "helm" => words.contains(&"install") || words.contains(&"upgrade"),
        _ => false,
    };
    up.then_some(text)
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
        let mut out = Vec::new();
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
                    out.push(
                        Finding::new(
                            self.id(),
                            f.file,
                            b.file_span(&c.span),
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
