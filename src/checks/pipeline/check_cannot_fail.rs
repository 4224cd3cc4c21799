//! `pipeline/check-cannot-fail`: validation steps in CI scripts (and the scripts they write)
//! that pass whatever they find: `curl` without `--fail` piped into `head`/`jq`/`grep`,
//! "tool missing, skipping" branches, `|| true` after a validation, scripts without `set -e`
//! whose validations' exit status nobody reads, and unknown subcommands of promtool/amtool
//! (a usage error every time, usually ignored too).

use crate::checks::{Check, Ctx, Finding};
use crate::model::{FileKind, FileModel};
use crate::parse::ci::ScriptBlock;
use crate::parse::shell::{self, Command, Connector, Part, Script, ShellOptions};

pub struct CheckCannotFail;

/// Commands whose job is to validate something: their exit status is the verdict.
fn validation(cmd: &Command) -> Option<String> {
    let prog = shell::program_name(cmd)?;
    let args: Vec<&str> = cmd
        .words
        .iter()
        .skip(1)
        .map(|w| w.text.as_str())
        .filter(|w| !w.starts_with('-'))
        .collect();
    let first = args.first().copied().unwrap_or("");
    let two = |n: usize| args.iter().take(n).copied().collect::<Vec<_>>().join(" ");
    match prog {
        "promtool" | "amtool" => Some(format!("{prog} {}", two(2))),
        "pint" | "obsgate" | "yamllint" | "kubeconform" | "kubeval" | "check-jsonschema"
        | "shellcheck" | "hadolint" | "actionlint" | "ajv" | "jsonlint" => Some(prog.to_string()),
        "helm" if first == "lint" || first == "template" => Some(format!("helm {first}")),
        "kubectl" if cmd.words.iter().any(|w| w.text.starts_with("--dry-run")) => {
            Some("kubectl --dry-run".into())
        }
        "npm" | "yarn" | "pnpm"
            if first == "test"
                || (first == "run"
                    && args
                        .get(1)
                        .is_some_and(|a| a.contains("test") || a.contains("lint"))) =>
        {
            Some(format!("{prog} {}", two(2)))
        }
        "pytest" | "tox" => Some(prog.to_string()),
        "go" | "cargo" if first == "test" || first == "vet" => Some(format!("{prog} {first}")),
        "make" if ["test", "check", "lint", "validate"].contains(&first) => {
            Some(format!("make {first}"))
        }
        p if p.starts_with("./")
            && ["test", "check", "valid", "lint", "verify"]
                .iter()
                .any(|k| p.to_ascii_lowercase().contains(k)) =>
        {
            Some(p.to_string())
        }
        _ => None,
    }
}

/// promtool/amtool subcommand trees (Prometheus 2.x/3.x, Alertmanager 0.2x).
fn unknown_subcommand(cmd: &Command) -> Option<(usize, String)> {
    let prog = shell::program_name(cmd)?;
    let tree: &[(&str, &[&str])] = match prog {
        "promtool" => &[
            (
                "check",
                &[
                    "config",
                    "web-config",
                    "healthy",
                    "ready",
                    "rules",
                    "metrics",
                    "service-discovery",
                ],
            ),
            (
                "query",
                &["instant", "range", "series", "labels", "analyze"],
            ),
            ("debug", &["pprof", "metrics", "all"]),
            ("push", &["metrics"]),
            ("test", &["rules"]),
            (
                "tsdb",
                &[
                    "bench",
                    "analyze",
                    "list",
                    "dump",
                    "dump-openmetrics",
                    "create-blocks-from",
                ],
            ),
            ("promql", &["format", "label-matchers"]),
            ("help", &[]),
        ],
        "amtool" => &[
            ("alert", &["query", "add"]),
            ("silence", &["add", "expire", "import", "query", "update"]),
            ("check-config", &[]),
            ("cluster", &["show"]),
            ("config", &["show", "routes"]),
            ("template", &["render"]),
            ("help", &[]),
        ],
        _ => return None,
    };
    // positional words after the program, skipping flags (and `--flag value` pairs are rare
    // enough in these tools' global flags, which use `--x=y`)
    let mut pos = cmd
        .words
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, w)| !w.text.starts_with('-'));
    let (i1, w1) = pos.next()?;
    if w1.text.contains('$') {
        return None;
    }
    let Some((_, subs)) = tree.iter().find(|(c, _)| *c == w1.text) else {
        let valid: Vec<&str> = tree.iter().map(|(c, _)| *c).collect();
        let hint = crate::parse::closest(&w1.text, &valid)
            .map(|s| format!(" (did you mean `{prog} {s}`?)"))
            .unwrap_or_default();
        return Some((
            i1,
            format!(
                "`{prog} {}` is not a command of {prog}{hint}; its commands are {}",
                w1.text,
                valid.join(", ")
            ),
        ));
    };
    if subs.is_empty() {
        return None;
    }
    let (i2, w2) = pos.next()?;
    if w2.text.contains('$') || subs.contains(&w2.text.as_str()) {
        return None;
    }
    let mut hint = crate::parse::closest(&w2.text, subs)
        .map(|s| format!(" (did you mean `{prog} {} {s}`?)", w1.text))
        .unwrap_or_default();
    if prog == "amtool" && w1.text == "config" && w2.text == "check" {
        hint = " (the config check is `amtool check-config FILE`)".into();
    }
    Some((
        i2,
        format!(
            "`{prog} {} {}` is not a command of {prog}{hint}; `{prog} {}` has {}",
            w1.text,
            w2.text,
            w1.text,
            subs.join(", ")
        ),
    ))
}

fn is_echo(cmd: &Command) -> bool {
    matches!(
        shell::program_name(cmd),
        Some("echo" | "printf" | "true" | ":" | "logger")
    )
}

fn exits_nonzero(cmd: &Command) -> bool {
    matches!(shell::program_name(cmd), Some("exit" | "return" | "false"))
        && cmd.words.get(1).is_none_or(|w| w.text != "0")
}

/// Programs that read a stream and exit 0 whatever `curl` returned on an HTTP error.
const SINKS: &[&str] = &[
    "head", "tail", "jq", "grep", "egrep", "wc", "cat", "less", "sed", "awk", "tee", "sort",
    "python", "python3", "yq",
];

impl Check for CheckCannotFail {
    fn id(&self) -> &'static str {
        "pipeline/check-cannot-fail"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = Vec::new();
        for f in &cx.project.files {
            let initial = match f.kind {
                // GitLab Runner's bash runs scripts with `set -eo pipefail`
                FileKind::GitlabCi => ShellOptions {
                    errexit: true,
                    pipefail: true,
                    ..ShellOptions::default()
                },
                // GitHub's default shell is `bash -e {0}`
                FileKind::GithubWorkflow | FileKind::GithubAction => ShellOptions {
                    errexit: true,
                    ..ShellOptions::default()
                },
                _ => ShellOptions::default(),
            };
            for b in &f.scripts {
                self.block(f, b, initial, &mut out);
            }
        }
        out
    }
}

impl CheckCannotFail {
    fn block(&self, f: &FileModel, b: &ScriptBlock, initial: ShellOptions, out: &mut Vec<Finding>) {
        let script = shell::parse(&b.text);
        let id = self.id();
        let span = |r: &std::ops::Range<usize>| b.file_span(r);
        let mut reported: Vec<usize> = Vec::new();
        // unknown subcommands
        for (i, c) in script.commands.iter().enumerate() {
            if let Some((w, msg)) = unknown_subcommand(c) {
                let opts = script.options_at(i, initial);
                let ignored = script.failure_ignored(i, opts) && !last_status(&script, i);
                let tail = if ignored {
                    ": it fails with a usage error every time, and the script ignores its exit status, so the step passes without checking anything"
                } else {
                    ": it fails with a usage error every time"
                };
                out.push(
                    Finding::new(id, f.file, span(&c.words[w].span), format!("{msg}{tail}"))
                        .label("unknown subcommand")
                        .help("run the real command (`amtool check-config alertmanager.yml`, `promtool check rules rules.yml`), or let obsgate check both: `obsgate check .`"),
                );
                reported.push(i);
            }
        }
        // curl without --fail feeding a reader
        for (i, c) in script.commands.iter().enumerate() {
            if shell::program_name(c) != Some("curl")
                || shell::has_flag(c, 'f', &["fail", "fail-with-body", "fail-early"])
                || c.after != Connector::Pipe
            {
                continue;
            }
            let Some(next) = script
                .commands
                .get(i + 1)
                .filter(|n| n.pipeline == c.pipeline)
            else {
                continue;
            };
            let Some(sink) = shell::program_name(next).filter(|p| SINKS.contains(p)) else {
                continue;
            };
            let prog_span = c
                .words
                .first()
                .map(|w| w.span.clone())
                .unwrap_or(c.span.clone());
            out.push(
                Finding::new(
                    id,
                    f.file,
                    span(&prog_span),
                    format!(
                        "`curl` without `--fail` piped into `{sink}`: an HTTP error (404, 500, a login page) still exits 0 and `{sink}` prints whatever came back, so this check passes against a broken endpoint"
                    ),
                )
                .label("no --fail")
                .also(f.file, span(&next.span), format!("`{sink}` succeeds on any body"))
                .help("add `--fail` (`curl -fsS URL | ...`) so an HTTP error fails the step, or verify the endpoint with `obsgate probe --target URL`"),
            );
            reported.push(i);
        }
        // "tool missing, skipping" branches
        for ifb in &script.ifs {
            let Some(cond) = ifb.cond.first().and_then(|&i| script.commands.get(i)) else {
                continue;
            };
            let prog = shell::program_name(cond);
            let probing = match prog {
                Some("command") => cond.words.get(1).is_some_and(|w| w.text == "-v"),
                Some("which" | "type" | "hash") => true,
                _ => false,
            };
            if !probing {
                continue;
            }
            let tool = cond
                .words
                .iter()
                .skip(1)
                .find(|w| !w.text.starts_with('-'))
                .map(|w| w.text.clone())
                .unwrap_or_default();
            // `if ! command -v x` swaps the branches
            let negated = script
                .pipelines
                .get(cond.pipeline)
                .is_some_and(|p| p.negated);
            let missing = if negated { &ifb.then_ } else { &ifb.else_ };
            let present = if negated { &ifb.else_ } else { &ifb.then_ };
            let silent = !missing.is_empty()
                && missing
                    .iter()
                    .filter_map(|&i| script.commands.get(i))
                    .all(|c| is_echo(c) && !exits_nonzero(c));
            let validates = present
                .iter()
                .filter_map(|&i| script.commands.get(i))
                .any(|c| validation(c).is_some());
            if silent && validates {
                out.push(
                    Finding::new(
                        id,
                        f.file,
                        span(&cond.span),
                        format!(
                            "when `{tool}` is not installed this step only prints a message and succeeds: the validation is skipped and the pipeline stays green without checking anything"
                        ),
                    )
                    .label("skipped when missing")
                    .help(format!(
                        "install `{tool}` in the job image (or use an image that has it) and fail when it is missing: `command -v {tool} || {{ echo \"{tool} is required\"; exit 1; }}`"
                    )),
                );
            }
        }
        // `validation || true`, `validation || echo ...`
        for (i, c) in script.commands.iter().enumerate() {
            if reported.contains(&i) || c.after != Connector::Or {
                continue;
            }
            let Some(what) = validation(c) else { continue };
            let Some(next) = script
                .commands
                .get(i + 1)
                .filter(|n| n.pipeline != c.pipeline)
            else {
                continue;
            };
            if !is_echo(next) || exits_nonzero(next) {
                continue;
            }
            reported.push(i);
            out.push(
                Finding::new(
                    id,
                    f.file,
                    span(&c.span),
                    format!(
                        "`{what}` is followed by `|| {}`: its failure is swallowed, so this validation can never fail the step",
                        next.words.first().map(|w| w.text.as_str()).unwrap_or("true")
                    ),
                )
                .label("failure ignored")
                .also(f.file, span(&next.span), "swallows the exit status")
                .help("drop the `|| ...` so a failed validation fails the job (mark the job `allow_failure: true` if it must not block)"),
            );
        }
        // validations whose exit status nobody reads (no `set -e`)
        for (i, c) in script.commands.iter().enumerate() {
            if reported.contains(&i) {
                continue;
            }
            let Some(what) = validation(c) else { continue };
            let opts = script.options_at(i, initial);
            if opts.errexit || !script.failure_ignored(i, opts) || last_status(&script, i) {
                continue;
            }
            // an `if validation; then ...` or `validation || exit 1` reads it
            if c.context.iter().any(|x| x.is_condition()) || c.after == Connector::Or {
                continue;
            }
            out.push(
                Finding::new(
                    id,
                    f.file,
                    span(&c.span),
                    format!(
                        "the script has no `set -e` and does not check the exit status of `{what}`: when it fails, the script goes on and ends with the status of its last command, so the step passes"
                    ),
                )
                .label("exit status ignored")
                .help("start the script with `set -euo pipefail`, or end the line with `|| exit 1`"),
            );
        }
    }
}

/// Is command `i` the last command of the script at the top level (its status is the script's)?
fn last_status(script: &Script, i: usize) -> bool {
    let Some(c) = script.commands.get(i) else {
        return false;
    };
    if !c.context.is_empty() {
        // inside an if: the if's status is its branch's last command; judged conservatively
        return c
            .context
            .iter()
            .all(|x| matches!(x.part, Part::Then(_) | Part::Else(_) | Part::ElifThen(..)))
            && script.commands[i + 1..]
                .iter()
                .all(|n| !n.context.is_empty())
            && c.after == Connector::End;
    }
    script.commands[i + 1..]
        .iter()
        .all(|n| n.pipeline == c.pipeline)
}
