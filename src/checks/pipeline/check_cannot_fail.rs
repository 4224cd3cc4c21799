//! `pipeline/check-cannot-fail`: validation steps in CI scripts (and the scripts they write)
//! that pass whatever they find: `curl` without `--fail` piped into `head`/`jq`/`grep`,
//! "tool missing, skipping" branches, `|| true` after a validation, scripts without `set -e`
//! whose validations' exit status nobody reads, and unknown subcommands of promtool/amtool
//! (a usage error every time, usually ignored too).

use crate::checks::{Check, Ctx, Finding};
use crate::model::{FileKind, FileModel};
use crate::parse::ci::ScriptBlock;
use crate::parse::shell::{self, Command, CompoundKind, Connector, Part, Script, ShellOptions};

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

/// A `curl` target that is a health check or a reload: its HTTP status is the verdict
/// (Prometheus' and Alertmanager's `/-/reload`, `/-/healthy`, `/-/ready`; `/health`, `/healthz`,
/// `/ready`, `/readyz`, `/livez`). Returns the path as written (never the host or credentials).
fn status_endpoint(cmd: &Command) -> Option<String> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r"(/-/(?:reload|healthy|ready)|/(?:health|healthz|healthcheck|ready|readyz|livez))(?:[/?#]|$)")
            .expect("endpoint regex")
    });
    cmd.words
        .iter()
        .skip(1)
        .filter(|w| !w.text.starts_with('-'))
        .find_map(|w| re.captures(&w.text).map(|c| c[1].to_string()))
}

/// A formatter run as a step: it rewrites the files (or lists them) and exits 0 whatever it
/// found. `None` when it runs in check mode.
fn formatter_that_passes(cmd: &Command) -> Option<&'static str> {
    let prog = shell::program_name(cmd)?;
    let words: Vec<&str> = cmd.words.iter().map(|w| w.text.as_str()).collect();
    let has = |w: &str| {
        words
            .iter()
            .any(|x| *x == w || x.starts_with(&format!("{w}=")))
    };
    let sub = |w: &str| words.iter().skip(1).any(|x| *x == w);
    // `cargo fmt --version`: prints a version, formats nothing
    if ["--version", "-V", "--help", "-h", "version", "help"]
        .iter()
        .any(|w| has(w))
    {
        return None;
    }
    match prog {
        "go" if sub("fmt") => Some("go fmt"),
        "gofmt" if !has("-d") => Some("gofmt"),
        "cargo" if sub("fmt") && !has("--check") => Some("cargo fmt"),
        "rustfmt" if !has("--check") => Some("rustfmt"),
        "black" if !has("--check") => Some("black"),
        "isort" if !has("--check") && !has("--check-only") && !has("-c") => Some("isort"),
        "terraform" | "tofu" if sub("fmt") && !has("-check") && !has("--check") => {
            Some(if prog == "tofu" {
                "tofu fmt"
            } else {
                "terraform fmt"
            })
        }
        "prettier" if has("--write") || has("-w") => Some("prettier --write"),
        _ => None,
    }
}

/// `git diff --exit-code` / `git diff --quiet`: fails when a formatter changed something.
fn diff_check(cmd: &Command) -> bool {
    shell::program_name(cmd) == Some("git")
        && cmd.words.iter().any(|w| w.text == "diff")
        && cmd
            .words
            .iter()
            .any(|w| w.text == "--exit-code" || w.text == "--quiet")
}

fn curl_without_fail(c: &Command) -> bool {
    shell::program_name(c) == Some("curl")
        && !shell::has_flag(c, 'f', &["fail", "fail-with-body", "fail-early"])
}

/// The span of a command's program word.
fn program_span(c: &Command) -> std::ops::Range<usize> {
    c.words
        .first()
        .map(|w| w.span.clone())
        .unwrap_or(c.span.clone())
}

/// A command that probes whether something is up.
fn probe(cmd: &Command) -> bool {
    matches!(
        shell::program_name(cmd),
        Some(
            "curl"
                | "wget"
                | "nc"
                | "pg_isready"
                | "mysqladmin"
                | "redis-cli"
                | "grpc_health_probe"
                | "test"
                | "["
        )
    )
}

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
            // jobs that fail when a formatter changed a file (`git diff --exit-code`)
            let diffed: std::collections::HashSet<&Option<String>> = f
                .scripts
                .iter()
                .filter(|b| shell::parse(&b.text).commands.iter().any(diff_check))
                .map(|b| &b.job)
                .collect();
            for b in &f.scripts {
                self.block(f, b, initial, &mut out);
                if b.job.is_some() && !diffed.contains(&b.job) {
                    self.formatters(f, b, &mut out);
                }
            }
        }
        out
    }
}

impl CheckCannotFail {
    /// `go fmt ./...` as a CI step: it rewrites the files in the runner's checkout and exits 0,
    /// so the step is green however badly the code is formatted.
    fn formatters(&self, f: &FileModel, b: &ScriptBlock, out: &mut Vec<Finding>) {
        let script = shell::parse(&b.text);
        for c in &script.commands {
            let Some(tool) = formatter_that_passes(c) else {
                continue;
            };
            let fix = match tool {
                "go fmt" | "gofmt" => {
                    "`test -z \"$(gofmt -l .)\"` (fails and lists the files that need formatting)"
                }
                "cargo fmt" => "`cargo fmt --check`",
                "rustfmt" => "`rustfmt --check`",
                "black" => "`black --check .`",
                "isort" => "`isort --check-only .`",
                "terraform fmt" | "tofu fmt" => "`terraform fmt -check -recursive`",
                _ => "`prettier --check .`",
            };
            out.push(
                Finding::new(
                    self.id(),
                    f.file,
                    b.file_span(&c.span),
                    format!(
                        "`{tool}` formats the files in the runner's checkout and exits 0 whatever it found: as a check, this step always passes"
                    ),
                )
                .label("always exits 0")
                .help(format!("run it in check mode instead: {fix}; or follow it with `git diff --exit-code`")),
            );
        }
    }

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
            if !curl_without_fail(c) || c.after != Connector::Pipe {
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
            let prog_span = program_span(c);
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
        // curl without --fail on a reload or health endpoint, its status not read otherwise
        for (i, c) in script.commands.iter().enumerate() {
            if reported.contains(&i)
                || !curl_without_fail(c)
                || c.after == Connector::Pipe
                || c.words
                    .iter()
                    .any(|w| w.text == "-w" || w.text.starts_with("--write-out"))
            {
                continue;
            }
            let Some(endpoint) = status_endpoint(c) else {
                continue;
            };
            let prog_span = program_span(c);
            let what = if endpoint.ends_with("reload") {
                "a reload that fails (a config the server refuses answers 500)"
            } else {
                "a service that is down or not ready (500, 503)"
            };
            out.push(
                Finding::new(
                    id,
                    f.file,
                    span(&prog_span),
                    format!(
                        "`curl` without `--fail` on `{endpoint}`: an HTTP error still exits 0, so this step passes on {what}"
                    ),
                )
                .label("no --fail")
                .help("add `--fail` (`curl -fsS ...`) so an HTTP error fails the step"),
            );
            reported.push(i);
        }
        // `exit $RESULT` where RESULT is only ever set to 0
        if let Some(last) = script.commands.last().filter(|c| c.context.is_empty()) {
            let var = (shell::program_name(last) == Some("exit"))
                .then(|| last.words.get(1))
                .flatten()
                .map(|w| {
                    w.text
                        .trim_start_matches('$')
                        .trim_start_matches('{')
                        .trim_end_matches('}')
                        .to_string()
                })
                .filter(|v| {
                    !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                });
            if let Some(var) = var {
                let prefix = format!("{var}=");
                let mut values = script
                    .commands
                    .iter()
                    .flat_map(|c| {
                        c.assignments.iter().chain(
                            c.words
                                .iter()
                                .skip_while(|w| w.text != "export" && w.text != "local")
                                .skip(1),
                        )
                    })
                    .filter_map(|w| w.text.strip_prefix(&prefix));
                let other_writes = b.text.contains(&format!("(({var}"))
                    || b.text.contains(&format!("let {var}"))
                    || b.text.contains(&format!("read {var}"))
                    || b.text.contains(&format!("{var}+="));
                let checked = script
                    .commands
                    .iter()
                    .any(|c| validation(c).is_some() && c.context.iter().any(|x| x.is_condition()));
                let mut any = false;
                let all_zero = values.all(|v| {
                    any = true;
                    v.trim_matches(|c| c == '"' || c == '\'') == "0"
                });
                if any && all_zero && !other_writes && checked {
                    out.push(
                        Finding::new(
                            id,
                            f.file,
                            span(&last.span),
                            format!(
                                "`{}` always exits 0: `{var}` is only ever set to 0, so whatever the checks above find, the step passes",
                                last.words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ")
                            ),
                        )
                        .label("always 0")
                        .help(format!("set `{var}=1` where a check fails (`promtool check rules x.yml || {var}=1`), or let the failing command fail the script (`set -e`)")),
                    );
                }
            }
        }
        // bounded readiness loops that give up silently and let the script carry on
        for (ci, comp) in script.compounds.iter().enumerate() {
            let bounded = match comp.kind {
                CompoundKind::For => true,
                CompoundKind::While | CompoundKind::Until => script.commands.iter().any(|c| {
                    c.context
                        .last()
                        .is_some_and(|x| x.compound == ci && x.part == Part::LoopCond)
                        && c.words.iter().any(|w| {
                            matches!(
                                w.text.as_str(),
                                "-lt" | "-le" | "-gt" | "-ge" | "-eq" | "-ne"
                            )
                        })
                }),
                _ => false,
            };
            if !bounded {
                continue;
            }
            let body: Vec<(usize, &Command)> = script
                .commands
                .iter()
                .enumerate()
                .filter(|(_, c)| c.context.iter().any(|x| x.compound == ci))
                .collect();
            let breaks_on_probe = body.iter().any(|(j, c)| {
                shell::program_name(c) == Some("break")
                    && (script
                        .commands
                        .get(j.wrapping_sub(1))
                        .is_some_and(|p| probe(p) && p.after == Connector::And)
                        || c.context.iter().any(|x| match x.part {
                            Part::Then(k) => script.ifs.get(k).is_some_and(|ifb| {
                                ifb.cond
                                    .iter()
                                    .any(|&q| script.commands.get(q).is_some_and(probe))
                            }),
                            _ => false,
                        }))
            });
            let sleeps = body
                .iter()
                .any(|(_, c)| shell::program_name(c) == Some("sleep"));
            let gives_up_loudly = body.iter().any(|(_, c)| exits_nonzero(c));
            if !breaks_on_probe || !sleeps || gives_up_loudly {
                continue;
            }
            // what runs next at the loop's level: a re-check (a probe, a test) reads the outcome
            let next = script
                .commands
                .iter()
                .find(|c| c.span.start >= comp.span.end && c.context.len() <= comp.context.len());
            let Some(next) = next else { continue };
            if probe(next) || exits_nonzero(next) || next.context.iter().any(|x| x.is_condition()) {
                continue;
            }
            let kw = comp.span.start..(comp.span.start + 5).min(comp.span.end);
            out.push(
                Finding::new(
                    id,
                    f.file,
                    span(&kw),
                    "this readiness loop gives up silently: when the service never comes up, the loop ends after its last try and the script carries on as if it were ready (the checks that follow then fail for the wrong reason, or pass against nothing)".to_string(),
                )
                .label("gives up silently")
                .also(f.file, span(&next.span), "runs whether or not the service came up")
                .help("fail when the tries run out: after the loop, probe once more with `--fail` (`curl -fsS URL >/dev/null`), or `exit 1` in the loop on the last try; `curl -fsS --retry 30 --retry-connrefused --retry-delay 1 URL` does both"),
            );
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
