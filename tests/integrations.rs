//! The CI integrations, each exercised by the real tool that consumes it:
//!
//! - `check-jsonschema` validates `action.yml`, `examples/github-workflow.yml`, `.gitlab-ci.yml`
//!   and `templates/obsgate.gitlab-ci.yml` against the schemas GitHub and GitLab publish;
//! - the composite Action's steps run under bash the way a GitHub runner runs them (inputs
//!   through `env:`, `$GITHUB_PATH`), on the seed, on a clean project and on hostile input;
//! - `gitlab-ci-local` runs the template job in shell mode on the seed and on a clean file;
//! - `pre-commit try-repo` builds the hook (`language: rust`) and runs it on the seed and on a
//!   clean repository;
//! - obsgate itself audits these files.
//!
//! A test whose tool is missing prints why and passes, except with `CI=true`, where `.ci/run`
//! must have installed the tool (into `target/ci-venv` and `target/ci-npm`) and the test fails.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod http;

const OBSGATE: &str = env!("CARGO_BIN_EXE_obsgate");
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A rule file on which obsgate finds nothing (runbook, summary, description, `for`).
const CLEAN_RULES: &str = r#"groups:
  - name: example
    rules:
      - alert: InstanceDown
        expr: up{job="node"} == 0
        for: 5m
        labels:
          severity: critical
        annotations:
          summary: "Instance {{ $labels.instance }} is down"
          description: "{{ $labels.instance }} of job {{ $labels.job }} has been down for more than 5 minutes."
          runbook_url: https://wiki.acme-corp.net/runbooks/instance-down
"#;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Skip (print the reason and return `false`) or, in CI, fail.
fn missing(test: &str, what: &str, install: &str) -> bool {
    if in_ci() {
        panic!("{test}: {what} is missing; .ci/run must install it ({install})");
    }
    eprintln!("SKIP {test}: {what} not found ({install}, as .ci/run does)");
    false
}

/// A tool installed by `.ci/run` under `target/`.
fn local_tool(test: &str, rel: &str, install: &str) -> Option<PathBuf> {
    let p = root().join(rel);
    if p.is_file() {
        Some(p)
    } else {
        missing(test, rel, install);
        None
    }
}

/// A command on PATH (`git`, `rsync`, `cargo`, `bash`).
fn on_path(test: &str, cmd: &str, install: &str) -> bool {
    let ok = Command::new(cmd)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok || missing(test, cmd, install)
}

/// A fresh scratch directory, unique to this process (another `cargo test` may run at the
/// same time in this working tree). Removed by the test when it passes.
fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("integrations")
        .join(format!("{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Run {
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// Run `cmd` in its own process group, killing the group if it outlives `timeout`.
fn run(cmd: &mut Command, timeout: Duration, what: &str) -> Run {
    use std::os::unix::process::CommandExt;
    // the throwaway repositories must not be mistaken for another one by inherited git state
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
    ] {
        cmd.env_remove(var);
    }
    cmd.process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        String::from_utf8_lossy(&v).into_owned()
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        String::from_utf8_lossy(&v).into_owned()
    });
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > timeout {
            let _ = Command::new("kill")
                .args(["-KILL", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            panic!(
                "{what} did not finish within {timeout:?}; output so far:\n{}\n{}",
                out.join().unwrap(),
                err.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    Run {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        elapsed: start.elapsed(),
    }
}

fn git(dir: &Path, args: &[&str]) {
    let r = run(
        Command::new("git").args(args).current_dir(dir),
        Duration::from_secs(60),
        "git",
    );
    assert!(
        r.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        r.all()
    );
}

/// `git init` a throwaway repository and commit everything in it.
fn commit_all(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "user.name", "obsgate tests"]);
    git(dir, &["config", "user.email", "tests@obsgate.invalid"]);
    git(dir, &["config", "commit.gpgsign", "false"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "--no-verify", "-m", "fixture"]);
}

fn copy_seed(to: &Path) {
    for e in fs::read_dir(root().join("fixtures/seed")).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn read_json(path: &Path) -> Value {
    let text =
        fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Does the obsgate under test have `check --artifacts`?
fn has_artifacts_flag() -> bool {
    let out = Command::new(OBSGATE)
        .args(["check", "--help"])
        .output()
        .expect("obsgate check --help");
    String::from_utf8_lossy(&out.stdout).contains("--artifacts")
}

/// The debug binary packaged by dist/build.sh as release `VERSION` for x86_64 Linux, in
/// `<releases>/v<VERSION>/` (a cheap stand-in for the release build, served by [`http::Server`]).
fn stand_in_release(releases: &Path) {
    let r = run(
        Command::new("bash")
            .arg(root().join("dist/build.sh"))
            .args([
                "--binary",
                OBSGATE,
                "--target",
                "x86_64-unknown-linux-gnu",
                "--out",
            ])
            .arg(releases.join(format!("v{VERSION}")))
            .env("OBSGATE_DIST_GZIP_LEVEL", "1"),
        Duration::from_secs(300),
        "dist/build.sh",
    );
    assert!(r.status.success(), "dist/build.sh: {}", r.all());
}

// --- check-jsonschema ----------------------------------------------------------------------

#[test]
fn check_jsonschema_accepts_the_integration_files() {
    let test = "check_jsonschema_accepts_the_integration_files";
    let Some(tool) = local_tool(
        test,
        "target/ci-venv/bin/check-jsonschema",
        "pip install check-jsonschema==0.39.0 into target/ci-venv",
    ) else {
        return;
    };
    let gitlab: &[&str] = &[
        "--builtin-schema",
        "vendor.gitlab-ci",
        "--data-transform",
        "gitlab-ci",
    ];
    let cases: [(&str, &[&str]); 5] = [
        ("action.yml", &["--builtin-schema", "vendor.github-actions"]),
        (
            "examples/github-workflow.yml",
            &["--builtin-schema", "vendor.github-workflows"],
        ),
        (".gitlab-ci.yml", gitlab),
        ("templates/obsgate.gitlab-ci.yml", gitlab),
        (
            ".github/workflows/release.yml",
            &["--builtin-schema", "vendor.github-workflows"],
        ),
    ];
    // the component's documents, one file each (check-jsonschema reads one document a file)
    let (spec, body) = component_documents();
    let dir = scratch("component-schema");
    write(&dir.join("spec.yml"), &spec);
    write(&dir.join("jobs.yml"), &body);
    let component = [
        dir.join("spec.yml").display().to_string(),
        dir.join("jobs.yml").display().to_string(),
    ];
    let mut failures = Vec::new();
    let all = cases
        .iter()
        .map(|(f, a)| (root().join(f).display().to_string(), *a))
        .chain(component.iter().map(|f| (f.clone(), gitlab)));
    for (file, args) in all {
        let r = run(
            Command::new(&tool).args(args).arg(&file),
            Duration::from_secs(120),
            "check-jsonschema",
        );
        eprintln!(
            "check-jsonschema {} {file}: {}",
            args.join(" "),
            r.stdout.trim()
        );
        if !r.status.success() {
            failures.push(format!("{file}:\n{}", r.all()));
        }
    }
    assert!(
        failures.is_empty(),
        "schema violations:\n{}",
        failures.join("\n")
    );
}

// --- zizmor ----------------------------------------------------------------------------------

/// The action, the example workflow and the release workflow are clean under
/// `zizmor --offline` (no template injection, no `$GITHUB_PATH`/`$GITHUB_ENV` writes, pinned
/// actions, no persisted credentials, least permissions).
#[test]
fn zizmor_finds_nothing_in_the_workflows() {
    let test = "zizmor_finds_nothing_in_the_workflows";
    let Some(tool) = local_tool(
        test,
        "target/ci-venv/bin/zizmor",
        "pip install zizmor==1.32.0 into target/ci-venv",
    ) else {
        return;
    };
    let r = run(
        Command::new(&tool)
            .args([
                "--offline",
                "--no-progress",
                "action.yml",
                "examples/github-workflow.yml",
                ".github/workflows/release.yml",
            ])
            .current_dir(root()),
        Duration::from_secs(120),
        "zizmor",
    );
    eprintln!("{}", r.all());
    assert!(r.status.success(), "zizmor findings:\n{}", r.all());
    assert!(r.all().contains("No findings to report"), "{}", r.all());
}

// --- obsgate on its own integration files --------------------------------------------------

#[test]
fn obsgate_finds_no_errors_in_the_integration_files() {
    let r = run(
        Command::new(OBSGATE)
            .args([
                "check",
                ".gitlab-ci.yml",
                "templates/",
                "action.yml",
                "examples/",
                ".pre-commit-hooks.yaml",
                "--format",
                "concise",
                "--fail-on",
                "error",
            ])
            .current_dir(root()),
        Duration::from_secs(60),
        "obsgate check",
    );
    eprintln!("{}", r.all());
    assert!(
        r.status.success(),
        "obsgate reports errors in its own integration files:\n{}",
        r.all()
    );
}

// --- the GitHub Action ---------------------------------------------------------------------

/// What the action's expressions read: its inputs and the outputs of the steps that ran.
struct Ctx<'a> {
    inputs: &'a BTreeMap<String, String>,
    outputs: &'a BTreeMap<String, BTreeMap<String, String>>,
}

impl Ctx<'_> {
    /// `inputs.NAME`, `steps.ID.outputs.NAME`, `github.action_path`: the only values the
    /// action's expressions may read.
    fn value(&self, expr: &str) -> String {
        let expr = expr.trim();
        if let Some(name) = expr.strip_prefix("inputs.") {
            return self
                .inputs
                .get(name)
                .unwrap_or_else(|| panic!("`{expr}` names an undeclared input"))
                .clone();
        }
        if let Some(rest) = expr.strip_prefix("steps.") {
            let (id, name) = rest
                .split_once(".outputs.")
                .unwrap_or_else(|| panic!("unsupported expression `{expr}`"));
            return self
                .outputs
                .get(id)
                .and_then(|o| o.get(name))
                .cloned()
                .unwrap_or_default();
        }
        assert_eq!(
            expr, "github.action_path",
            "unsupported expression `{expr}`"
        );
        root().display().to_string()
    }

    /// An `env:` value: one `${{ ... }}` or plain text.
    fn expand(&self, value: &str) -> String {
        let t = value.trim();
        match t.strip_prefix("${{").and_then(|r| r.strip_suffix("}}")) {
            Some(expr) => self.value(expr),
            None => {
                assert!(
                    !value.contains("${{"),
                    "unsupported expression in `{value}`"
                );
                value.to_string()
            }
        }
    }

    /// An `if:` condition: `X == 'literal'` or `X != 'literal'`.
    fn condition(&self, cond: &str) -> bool {
        let cond = cond.trim();
        let cond = cond
            .strip_prefix("${{")
            .and_then(|r| r.strip_suffix("}}"))
            .unwrap_or(cond);
        let (lhs, rhs, eq) = if let Some((l, r)) = cond.split_once("==") {
            (l, r, true)
        } else if let Some((l, r)) = cond.split_once("!=") {
            (l, r, false)
        } else {
            panic!("unsupported condition `{cond}`")
        };
        let rhs = rhs.trim().trim_matches('\'');
        (self.value(lhs) == rhs) == eq
    }
}

struct ActionRun {
    /// (step name, exit code, stdout, stderr) of the steps that ran
    steps: Vec<(String, i32, String, String)>,
    /// `uses:` steps whose condition held (not run here)
    used: Vec<String>,
    outputs: BTreeMap<String, BTreeMap<String, String>>,
    summary: String,
}

impl ActionRun {
    fn exit_code(&self) -> i32 {
        self.steps.last().map_or(0, |s| s.1)
    }
    fn step(&self, name: &str) -> &(String, i32, String, String) {
        self.steps
            .iter()
            .find(|s| s.0 == name)
            .unwrap_or_else(|| panic!("step `{name}` did not run: {:?}", self.steps))
    }
    fn ran(&self, name: &str) -> bool {
        self.steps.iter().any(|s| s.0 == name)
    }
    fn output(&self, step: &str, name: &str) -> &str {
        self.outputs
            .get(step)
            .and_then(|o| o.get(name))
            .map_or("", String::as_str)
    }
}

/// Run the action's steps in `workspace` like a GitHub runner: `bash --noprofile --norc -eo
/// pipefail SCRIPT`, `env:` evaluated from the inputs (defaults overridden by `with`) and the
/// outputs of earlier steps (`$GITHUB_OUTPUT`), `if:` conditions evaluated, `uses:` steps
/// recorded but not run (the cache), `$RUNNER_TEMP` and `$GITHUB_STEP_SUMMARY` given; stop at
/// the first failing step.
fn run_action(
    workspace: &Path,
    scratch: &Path,
    with: &[(&str, &str)],
    path: &str,
    extra_env: &[(&str, &Path)],
) -> ActionRun {
    let action: Value =
        serde_saphyr::from_str(&fs::read_to_string(root().join("action.yml")).unwrap())
            .expect("action.yml parses");
    assert_eq!(action["runs"]["using"], "composite");
    let mut inputs = BTreeMap::new();
    for (name, spec) in action["inputs"].as_object().expect("inputs") {
        let default = spec.get("default").and_then(Value::as_str).unwrap_or("");
        inputs.insert(name.clone(), default.to_string());
    }
    for (k, v) in with {
        assert!(inputs.contains_key(*k), "the action has no input `{k}`");
        inputs.insert(k.to_string(), v.to_string());
    }
    let runner_temp = scratch.join("runner-temp");
    let _ = fs::remove_dir_all(&runner_temp);
    fs::create_dir_all(&runner_temp).unwrap();
    let mut outputs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut summary = String::new();
    let mut ran = Vec::new();
    let mut used = Vec::new();
    for (i, step) in action["runs"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .enumerate()
    {
        let name = step["name"].as_str().unwrap_or("?").to_string();
        let ctx = Ctx {
            inputs: &inputs,
            outputs: &outputs,
        };
        if let Some(cond) = step.get("if").and_then(Value::as_str) {
            if !ctx.condition(cond) {
                continue;
            }
        }
        if step.get("uses").is_some() {
            used.push(name);
            continue;
        }
        let script = step["run"]
            .as_str()
            .unwrap_or_else(|| panic!("step `{name}` has no run"));
        let file = scratch.join(format!("step-{i}.sh"));
        fs::write(&file, script).unwrap();
        let github_output = scratch.join(format!("github_output-{i}"));
        let step_summary = scratch.join(format!("step_summary-{i}"));
        fs::write(&github_output, "").unwrap();
        fs::write(&step_summary, "").unwrap();
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&file)
            .current_dir(workspace)
            .env("PATH", path)
            .env("GITHUB_OUTPUT", &github_output)
            .env("GITHUB_STEP_SUMMARY", &step_summary)
            .env("GITHUB_WORKSPACE", workspace)
            .env("GITHUB_ACTION_PATH", root())
            .env("RUNNER_TEMP", &runner_temp)
            .env_remove("OBSGATE_DOWNLOAD_URL")
            .env_remove("CARGO_HOME");
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        if let Some(env) = step.get("env").and_then(Value::as_object) {
            for (k, v) in env {
                cmd.env(k, ctx.expand(v.as_str().expect("env values are strings")));
            }
        }
        let r = run(
            &mut cmd,
            Duration::from_secs(120),
            &format!("action step `{name}`"),
        );
        let code = r.status.code().unwrap_or(-1);
        if let Some(id) = step.get("id").and_then(Value::as_str) {
            let mut o = BTreeMap::new();
            for line in fs::read_to_string(&github_output).unwrap().lines() {
                let (k, v) = line
                    .split_once('=')
                    .unwrap_or_else(|| panic!("a $GITHUB_OUTPUT line without `=`: {line}"));
                o.insert(k.to_string(), v.to_string());
            }
            outputs.insert(id.to_string(), o);
        }
        summary.push_str(&fs::read_to_string(&step_summary).unwrap());
        ran.push((name, code, r.stdout, r.stderr));
        if code != 0 {
            break;
        }
    }
    ActionRun {
        steps: ran,
        used,
        outputs,
        summary,
    }
}

/// A stand-in `cargo` that records its arguments and "installs" the built binary into
/// `--root`/bin.
fn fake_cargo(dir: &Path, args_file: &Path) -> PathBuf {
    let fake = dir.join("fake-cargo");
    write(
        &fake.join("cargo"),
        &format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{args}'\nroot=\"${{CARGO_HOME:-}}\"\nwhile [ $# -gt 0 ]; do [ \"$1\" = --root ] && root=\"$2\"; shift; done\nmkdir -p \"$root/bin\"\ncp '{obsgate}' \"$root/bin/obsgate\"\n",
            args = args_file.display(),
            obsgate = OBSGATE
        ),
    );
    Command::new("chmod")
        .arg("+x")
        .arg(fake.join("cargo"))
        .status()
        .unwrap();
    fake
}

#[test]
fn action_steps_run_obsgate_like_github() {
    let test = "action_steps_run_obsgate_like_github";
    if !on_path(test, "bash", "apt-get install bash")
        || !on_path(test, "curl", "apt-get install curl")
    {
        return;
    }
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        eprintln!("SKIP {test}: the stand-in release is for x86_64 Linux");
        return;
    }
    let dir = scratch("action");
    // the release server: the debug binary packaged by dist/build.sh as the action's version
    let releases = dir.join("releases");
    stand_in_release(&releases);
    let server = http::Server::start(&releases, Duration::from_secs(600));
    let url = server.url.clone();
    // no obsgate, no cargo on PATH: the action installs the pinned release
    let path = "/usr/bin:/bin";

    // defaults on the seed: installed from the release server, annotations, SARIF, summary, exit 1
    let seed = dir.join("seed");
    fs::create_dir_all(&seed).unwrap();
    copy_seed(&seed);
    let start = Instant::now();
    let r = run_action(&seed, &dir, &[("download-url", &url)], path, &[]);
    eprintln!("action install + run on the seed: {:?}", start.elapsed());
    let install = r.step("Install obsgate");
    assert_eq!(install.1, 0, "{install:?}");
    assert!(
        install
            .3
            .contains(&format!("installed obsgate {VERSION} at ")),
        "{install:?}"
    );
    assert_eq!(r.output("install", "version"), VERSION);
    assert_eq!(r.output("install", "build"), "false");
    assert!(
        !r.ran("Build obsgate") && r.used.is_empty(),
        "nothing built: {:?}",
        r.steps
    );
    assert_eq!(
        server.requests(),
        [
            format!("GET /v{VERSION}/obsgate-{VERSION}-x86_64-unknown-linux-gnu.tar.gz"),
            format!("GET /v{VERSION}/obsgate-{VERSION}-x86_64-unknown-linux-gnu.tar.gz.sha256"),
        ]
    );
    let check = r.step("Run obsgate");
    assert_eq!(
        r.exit_code(),
        1,
        "findings at error level fail the step: {check:?}"
    );
    let annotations: Vec<&str> = check
        .2
        .lines()
        .filter(|l| {
            l.starts_with("::error ") || l.starts_with("::warning ") || l.starts_with("::notice ")
        })
        .collect();
    // a critical alert without a runbook is an error, a warning alert's a warning
    assert!(
        annotations.iter().any(
            |l| l.starts_with("::error file=alerting-rules.yml,line=64,")
                && l.contains("alerts/missing-runbook")
        ),
        "annotations: {}",
        check.2
    );
    assert!(
        annotations.iter().any(
            |l| l.starts_with("::warning file=alerting-rules.yml,line=30,")
                && l.contains("alerts/missing-runbook")
        ),
        "annotations: {}",
        check.2
    );
    let sarif = read_json(&seed.join("obsgate.sarif"));
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"]
        .as_array()
        .expect("SARIF results");
    assert_eq!(
        results.len(),
        annotations.len(),
        "one SARIF result per annotation"
    );
    // the job summary: counts by severity and the first findings
    let errors = annotations
        .iter()
        .filter(|l| l.starts_with("::error "))
        .count();
    assert!(
        r.summary.starts_with("### obsgate: ")
            && r.summary.contains(&format!("| error | {errors} |")),
        "summary: {}",
        r.summary
    );
    assert!(
        r.summary.contains("[`alerts/missing-runbook`]("),
        "{}",
        r.summary
    );

    // a clean project with every input set: two paths on two lines, fail-on info, a SARIF
    // path, extra args; the seed files beside them are not audited
    let clean = dir.join("clean");
    fs::create_dir_all(&clean).unwrap();
    copy_seed(&clean);
    write(&clean.join("monitoring/rules.yml"), CLEAN_RULES);
    write(
        &clean.join("more/node.yml"),
        &CLEAN_RULES.replace("InstanceDown", "NodeDown"),
    );
    let r = run_action(
        &clean,
        &dir,
        &[
            ("paths", "monitoring/rules.yml\n  more/\n"),
            ("fail-on", "info"),
            ("sarif-file", "clean.sarif"),
            ("args", "--quiet"),
            ("version", &format!("v{VERSION}")),
            ("download-url", &url),
        ],
        path,
        &[],
    );
    let check = r.step("Run obsgate");
    assert_eq!(r.exit_code(), 0, "clean files pass: {check:?}");
    assert!(!check.2.contains("::"), "no annotations: {check:?}");
    let sarif = read_json(&clean.join("clean.sarif"));
    assert_eq!(
        sarif["runs"][0]["results"].as_array().map(Vec::len),
        Some(0)
    );
    assert_eq!(r.summary, "### obsgate: no findings in 2 files\n");

    // the config input reaches --config (a missing file is a usage error: exit 2)
    let r = run_action(
        &clean,
        &dir,
        &[("config", "no-such.obsgate.yml"), ("download-url", &url)],
        path,
        &[],
    );
    let check = r.step("Run obsgate");
    assert_eq!(r.exit_code(), 2, "{check:?}");
    assert!(check.3.contains("no-such.obsgate.yml"), "{check:?}");

    // inputs are data, never shell code
    let r = run_action(
        &clean,
        &dir,
        &[
            ("paths", "$(touch pwned-1) `touch pwned-2`;touch pwned-3"),
            ("args", "*"),
            ("download-url", &url),
        ],
        path,
        &[],
    );
    assert_eq!(
        r.exit_code(),
        2,
        "nonexistent paths are an IO error: {:?}",
        r.steps
    );
    for f in ["pwned-1", "pwned-2", "pwned-3"] {
        assert!(!clean.join(f).exists(), "an input was executed: {f}");
    }
    let r = run_action(
        &clean,
        &dir,
        &[("version", "1.0;touch pwned-4"), ("download-url", &url)],
        path,
        &[],
    );
    assert_eq!(r.exit_code(), 2, "{:?}", r.steps);
    assert!(!clean.join("pwned-4").exists());

    // a release whose checksum does not match: the step fails, nothing is built instead
    let sum = releases.join(format!(
        "v{VERSION}/obsgate-{VERSION}-x86_64-unknown-linux-gnu.tar.gz.sha256"
    ));
    let good = fs::read_to_string(&sum).unwrap();
    fs::write(
        &sum,
        good.replacen(&good[..1], if good.starts_with('0') { "1" } else { "0" }, 1),
    )
    .unwrap();
    let cargo_args = dir.join("cargo-args");
    let fake = fake_cargo(&dir, &cargo_args);
    let with_cargo = format!("{}:{path}", fake.display());
    let r = run_action(&seed, &dir, &[("download-url", &url)], &with_cargo, &[]);
    assert_eq!(r.exit_code(), 1, "{:?}", r.steps);
    assert!(
        r.step("Install obsgate").3.contains("checksum mismatch"),
        "{:?}",
        r.steps
    );
    assert!(!r.ran("Build obsgate") && !r.ran("Run obsgate"));
    assert!(!cargo_args.exists(), "cargo did not run");
    fs::write(&sum, good).unwrap();

    // no archive for the version: built from the action's source (a stand-in cargo that
    // records its arguments and installs the debug binary), behind the cache step
    let r = run_action(
        &seed,
        &dir,
        &[("version", "9.9.9"), ("download-url", &url)],
        &with_cargo,
        &[],
    );
    let install = r.step("Install obsgate");
    assert!(
        install
            .2
            .contains("::notice title=obsgate::no release archive of obsgate 9.9.9"),
        "{install:?}"
    );
    assert!(
        install
            .2
            .contains("::warning title=obsgate::building the action's own source"),
        "{install:?}"
    );
    assert_eq!(r.output("install", "build"), "true");
    assert_eq!(r.used, ["Restore the obsgate build"]);
    let root_dir = r.output("install", "root").to_string();
    let args = fs::read_to_string(&cargo_args).expect("cargo install ran");
    assert_eq!(
        args.lines().collect::<Vec<_>>(),
        [
            "install",
            "--locked",
            "--path",
            &root().display().to_string(),
            "--root",
            &root_dir,
        ]
    );
    assert_eq!(
        r.exit_code(),
        1,
        "the built obsgate ran on the seed: {:?}",
        r.steps
    );

    // asked to build: no download at all
    let before = server.requests().len();
    fs::remove_file(&cargo_args).unwrap();
    let r = run_action(
        &seed,
        &dir,
        &[("build-from-source", "true"), ("download-url", &url)],
        &with_cargo,
        &[],
    );
    assert_eq!(server.requests().len(), before, "nothing downloaded");
    assert!(cargo_args.exists(), "cargo install ran");
    assert_eq!(r.exit_code(), 1, "{:?}", r.steps);

    drop(server);
    let _ = fs::remove_dir_all(&dir);
}

// --- the GitLab CI template in gitlab-ci-local ---------------------------------------------

/// gitlab-ci-local from `target/ci-npm`, when it and the tools its shell jobs need (git, rsync,
/// node, and `more`) are here.
fn gitlab_ci_local(test: &str, more: &[(&str, &str)]) -> Option<PathBuf> {
    let glcl = local_tool(
        test,
        "target/ci-npm/node_modules/.bin/gitlab-ci-local",
        "npm install gitlab-ci-local@4.53.0 in target/ci-npm",
    )?;
    let needed = [
        ("git", "apt-get install git"),
        ("rsync", "apt-get install rsync"),
        ("node", "apt-get install nodejs"),
    ];
    needed
        .iter()
        .chain(more)
        .all(|(cmd, install)| on_path(test, cmd, install))
        .then_some(glcl)
}

/// A repository in `dir` holding the seed and a clean rule file (`clean/rules.yml`).
fn seed_repo(dir: &Path) -> PathBuf {
    let repo = dir.join("repo");
    fs::create_dir_all(&repo).unwrap();
    copy_seed(&repo);
    write(&repo.join("clean/rules.yml"), CLEAN_RULES);
    repo
}

/// The reports a job on the seed leaves in the repository: the Code Quality report has the
/// seed's `alerts/missing-runbook` issue (returned), the JUnit report a failure.
fn seed_reports(repo: &Path) -> Value {
    let cq = read_json(&repo.join("gl-code-quality-report.json"));
    let issues = cq.as_array().expect("Code Quality report is a JSON array");
    let Some(issue) = issues.iter().find(|i| {
        i["check_name"] == "alerts/missing-runbook" && i["location"]["path"] == "alerting-rules.yml"
    }) else {
        panic!("Code Quality report: {cq}");
    };
    let junit = fs::read_to_string(repo.join("obsgate-junit.xml")).expect("JUnit report");
    let doc = roxmltree::Document::parse(&junit).expect("JUnit report is XML");
    assert!(
        doc.descendants().any(|n| n.has_tag_name("failure")),
        "JUnit failures: {junit}"
    );
    issue.clone()
}

#[test]
fn gitlab_template_job_runs_in_gitlab_ci_local() {
    let test = "gitlab_template_job_runs_in_gitlab_ci_local";
    let Some(glcl) = gitlab_ci_local(test, &[]) else {
        return;
    };
    let dir = scratch("gitlab-ci-local");
    let repo = seed_repo(&dir);
    let mut template = fs::read_to_string(root().join("templates/obsgate.gitlab-ci.yml")).unwrap();
    let artifacts = has_artifacts_flag();
    if !artifacts {
        eprintln!("NOTE {test}: this obsgate has no `check --artifacts`: removed from the template copy, obsgate-artifacts/ not checked");
        let before = template.len();
        template = template.replace(" --artifacts obsgate-artifacts", "");
        assert!(
            template.len() < before,
            "the template no longer passes --artifacts"
        );
    }
    write(&repo.join("templates/obsgate.gitlab-ci.yml"), &template);
    write(
        &repo.join(".gitlab-ci.yml"),
        "include:\n  - local: templates/obsgate.gitlab-ci.yml\n",
    );
    commit_all(&repo);
    // the job finds obsgate on PATH, as on a runner whose image has it
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).unwrap();
    fs::copy(OBSGATE, bin.join("obsgate")).unwrap();
    let system_path = std::env::var("PATH").unwrap();
    let path = format!("{}:{system_path}", bin.display());
    let cargo_home = dir.join("cargo-home");
    let glcl_run_with = |path: &str, extra: &[&str]| {
        run(
            Command::new(&glcl)
                .arg("--shell-executor-no-image")
                .arg("--home")
                .arg(dir.join("home"))
                .args(extra)
                .arg("obsgate")
                .current_dir(&repo)
                .env("PATH", path)
                .env("CARGO_HOME", &cargo_home),
            Duration::from_secs(300),
            "gitlab-ci-local",
        )
    };
    let glcl_run = |extra: &[&str]| glcl_run_with(&path, extra);

    // The seed has error-level findings, so the job must fail: that is the gate working. The
    // test expects the failure (rather than hiding it with allow_failure or OBSGATE_FAIL_ON),
    // checks that it is obsgate's exit 1 (findings), not 2 (a usage error, e.g. a flag the
    // binary lacks) or a missing binary, and that the reports exist all the same.
    let r = glcl_run(&[]);
    eprintln!(
        "gitlab-ci-local on the seed: {:?}, exit {:?}",
        r.elapsed,
        r.status.code()
    );
    let log = r.all();
    assert!(!r.status.success(), "the job fails on the seed:\n{log}");
    assert!(
        log.contains("$ obsgate check $OBSGATE_PATHS"),
        "the template's script ran:\n{log}"
    );
    assert!(log.contains("error[alerts/missing-runbook]"), "{log}");
    assert!(
        log.contains("FAIL 1"),
        "the job exits with obsgate's 1 (findings):\n{log}"
    );
    // shell mode runs the job in the repository itself: the reports are in the working tree
    seed_reports(&repo);
    if artifacts {
        // artifacts:paths exported by gitlab-ci-local although the job failed: `when: always`
        let exported = repo.join(".gitlab-ci-local/artifacts/obsgate/obsgate-artifacts");
        for f in ["performance-analysis.json", "alerting-strategy.json"] {
            read_json(&exported.join(f));
        }
    }

    // the variables drive the job: OBSGATE_PATHS=clean passes, with an empty report
    for f in ["gl-code-quality-report.json", "obsgate-junit.xml"] {
        fs::remove_file(repo.join(f)).unwrap();
    }
    let r = glcl_run(&[
        "--variable",
        "OBSGATE_PATHS=clean",
        "--variable",
        "OBSGATE_FAIL_ON=info",
    ]);
    eprintln!(
        "gitlab-ci-local on a clean file: {:?}, exit {:?}",
        r.elapsed,
        r.status.code()
    );
    let log = r.all();
    assert!(r.status.success(), "the job passes on a clean file:\n{log}");
    assert!(log.contains("PASS"), "{log}");
    assert_eq!(
        read_json(&repo.join("gl-code-quality-report.json")),
        Value::Array(vec![])
    );
    assert!(repo.join("obsgate-junit.xml").is_file());

    // without obsgate on PATH: the before_script stops the job with a message (exit 2) ...
    let obsgate_elsewhere = Command::new("sh")
        .args(["-c", "command -v obsgate"])
        .env("PATH", &system_path)
        .output()
        .is_ok_and(|o| o.status.success());
    if obsgate_elsewhere {
        eprintln!("NOTE {test}: obsgate is on this machine's PATH: the install branches of the before_script are not run");
    } else {
        let r = glcl_run_with(&system_path, &[]);
        let log = r.all();
        assert!(!r.status.success(), "{log}");
        assert!(log.contains("obsgate is not on PATH"), "{log}");
        assert!(log.contains("FAIL 2"), "{log}");
        // ... and with OBSGATE_SOURCE it runs `cargo install --locked --path "$OBSGATE_SOURCE"`
        // (a stand-in cargo that records its arguments and installs the built binary) and puts
        // cargo's bin directory on PATH for the script
        let fake = dir.join("fake-cargo");
        write(
            &fake.join("cargo"),
            &format!(
                "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{args}'\nmkdir -p \"$CARGO_HOME/bin\"\ncp '{obsgate}' \"$CARGO_HOME/bin/obsgate\"\n",
                args = dir.join("cargo-args").display(),
                obsgate = OBSGATE
            ),
        );
        Command::new("chmod")
            .arg("+x")
            .arg(fake.join("cargo"))
            .status()
            .unwrap();
        let source = dir.join("obsgate source");
        let r = glcl_run_with(
            &format!("{}:{system_path}", fake.display()),
            &[
                "--variable",
                &format!("OBSGATE_SOURCE={}", source.display()),
                "--variable",
                "OBSGATE_PATHS=clean",
            ],
        );
        let log = r.all();
        let args = fs::read_to_string(dir.join("cargo-args"))
            .unwrap_or_else(|e| panic!("cargo install did not run ({e}):\n{log}"));
        assert_eq!(
            args.lines().collect::<Vec<_>>(),
            [
                "install",
                "--locked",
                "--path",
                &source.display().to_string()
            ]
        );
        assert!(r.status.success(), "the installed obsgate ran:\n{log}");
    }

    let _ = fs::remove_dir_all(&dir);
}

// --- the pre-commit hook ---------------------------------------------------------------------

#[test]
fn pre_commit_accepts_the_hook_manifest() {
    let test = "pre_commit_accepts_the_hook_manifest";
    let Some(pc) = local_tool(
        test,
        "target/ci-venv/bin/pre-commit",
        "pip install pre-commit into target/ci-venv",
    ) else {
        return;
    };
    let r = run(
        Command::new(&pc)
            .arg("validate-manifest")
            .arg(root().join(".pre-commit-hooks.yaml")),
        Duration::from_secs(120),
        "pre-commit validate-manifest",
    );
    assert!(r.status.success(), "{}", r.all());
}

/// Copy the files of this working tree that git would see (tracked and untracked, minus the
/// ignored ones) into a new repository and commit them.
fn snapshot_of_this_repository(to: &Path) {
    let r = run(
        Command::new("git")
            .args([
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ])
            .current_dir(root()),
        Duration::from_secs(60),
        "git ls-files",
    );
    assert!(r.status.success(), "{}", r.all());
    for rel in r.stdout.split('\0').filter(|s| !s.is_empty()) {
        let from = root().join(rel);
        if from.is_file() {
            let dest = to.join(rel);
            fs::create_dir_all(dest.parent().unwrap()).unwrap();
            fs::copy(&from, &dest).unwrap();
        }
    }
    commit_all(to);
}

#[test]
fn pre_commit_hook_runs_with_try_repo() {
    let test = "pre_commit_hook_runs_with_try_repo";
    let Some(pc) = local_tool(
        test,
        "target/ci-venv/bin/pre-commit",
        "pip install pre-commit into target/ci-venv",
    ) else {
        return;
    };
    if !on_path(test, "git", "apt-get install git") || !on_path(test, "cargo", "rustup") {
        return;
    }
    let dir = scratch("pre-commit");
    // The hook repository. `try-repo` on this checkout itself would use HEAD plus the changes
    // to tracked files, so the hook as it is on disk (a new .pre-commit-hooks.yaml included)
    // is tried from a committed snapshot instead.
    let hooks = dir.join("obsgate");
    snapshot_of_this_repository(&hooks);
    // try-repo installs into a throwaway store, so `language: rust` runs `cargo install
    // --path .` on every call; a shared target directory lets later builds reuse the compiled
    // dependencies (cargo locks it, so concurrent test runs are safe). The release profile is
    // made cheap for the test (no LTO, no optimisation): a fresh clone rebuilds the obsgate
    // crate every time, which takes minutes with the real profile on 2 cores, and the test is
    // about the hook's wiring, not the binary's speed.
    let cargo_target =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("integrations/pre-commit-cargo-target");
    let try_repo = |repo: &Path, args: &[&str], timeout_min: u64| {
        run(
            Command::new(&pc)
                .arg("try-repo")
                .arg(&hooks)
                .arg("obsgate")
                .args(args)
                .arg("--verbose")
                .arg("--color=never")
                .current_dir(repo)
                .env("CARGO_TARGET_DIR", &cargo_target)
                .env("CARGO_PROFILE_RELEASE_LTO", "false")
                .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
                .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
                .env("PRE_COMMIT_HOME", dir.join("pre-commit-home")),
            Duration::from_secs(timeout_min * 60),
            "pre-commit try-repo",
        )
    };

    // the seed: the hook fails with the findings
    let seed = dir.join("seed");
    fs::create_dir_all(&seed).unwrap();
    copy_seed(&seed);
    commit_all(&seed);
    let r = try_repo(&seed, &["--all-files"], 25);
    eprintln!(
        "pre-commit try-repo on the seed (builds the hook): {:?}, exit {:?}",
        r.elapsed,
        r.status.code()
    );
    let out = r.all();
    eprintln!("{out}");
    assert_eq!(
        r.status.code(),
        Some(1),
        "the hook fails on the seed:\n{out}"
    );
    assert!(out.contains("Failed"), "{out}");
    assert!(out.contains("error[alerts/missing-runbook]"), "{out}");
    assert!(
        out.contains("- exit code: 1"),
        "the hook's obsgate exited 1 (findings):\n{out}"
    );
    // one obsgate run (`require_serial: true`): pre-commit would otherwise split the files
    // into batches (on 2 CPUs); the run loads the whole repository (`--load .`: the 5
    // YAML/JSON files and the metric definitions of the JavaScript file)
    assert_eq!(
        out.lines().filter(|l| l.starts_with("obsgate: ")).count(),
        1,
        "one obsgate run:\n{out}"
    );
    let files: usize = out
        .lines()
        .find_map(|l| l.strip_prefix("obsgate: ")?.split(' ').next()?.parse().ok())
        .unwrap_or(0);
    assert!(files >= 6, "the whole repository is loaded:\n{out}");
    assert!(
        out.contains("alerting-rules.yml:6:11: error[thresholds/ratio-vs-rate]"),
        "{out}"
    );

    // a clean repository: the hook passes
    let clean = dir.join("clean");
    write(&clean.join("monitoring/rules.yml"), CLEAN_RULES);
    write(&clean.join("README.md"), "not audited\n");
    commit_all(&clean);
    let r = try_repo(&clean, &["--all-files"], 25);
    eprintln!(
        "pre-commit try-repo on a clean repository: {:?}, exit {:?}",
        r.elapsed,
        r.status.code()
    );
    let out = r.all();
    eprintln!("{out}");
    assert!(
        r.status.success(),
        "the hook passes on a clean repository:\n{out}"
    );
    assert!(out.contains("Passed"), "{out}");

    // only the Alertmanager config staged: the hook still routes the committed rule file's
    // alerts through it, and reports what concerns the config
    let staged = dir.join("staged");
    write(&staged.join("monitoring/rules.yml"), STAGED_RULES);
    write(&staged.join("monitoring/alertmanager.yml"), STAGED_AM);
    write(&staged.join("other/rules.yml"), STAGED_OTHER_RULES);
    commit_all(&staged);
    let am = STAGED_AM.replace("repeat_interval: 4h", "repeat_interval: 3h");
    write(&staged.join("monitoring/alertmanager.yml"), &am);
    git(&staged, &["add", "monitoring/alertmanager.yml"]);
    let r = try_repo(&staged, &[], 25);
    let out = r.all();
    eprintln!("pre-commit try-repo with the Alertmanager config staged:\n{out}");
    assert_eq!(r.status.code(), Some(1), "{out}");
    assert!(
        out.contains("monitoring/alertmanager.yml:8:7: error[alertmanager/unreachable-route]"),
        "the route shadowed for the rule file's alerts:\n{out}"
    );
    // what rests on the alerts of the committed rule files
    assert!(
        out.contains("monitoring/alertmanager.yml:15:5: warning[alertmanager/dead-inhibition] inhibit rule mutes nothing among the 2 alerts"),
        "{out}"
    );
    assert!(
        out.contains("monitoring/alertmanager.yml:2:3: warning[alertmanager/unrouted-alert]"),
        "{out}"
    );
    // the committed rule file's own problem is not in the staged files
    assert!(!out.contains("other/rules.yml"), "{out}");
    // a staged rule file: what concerns its alerts is reported (the unrouted alert, a
    // warning), nothing at error level, so the hook passes
    git(&staged, &["commit", "-q", "--no-verify", "-m", "am"]);
    write(
        &staged.join("monitoring/rules.yml"),
        &format!("{STAGED_RULES}\n"),
    );
    git(&staged, &["add", "monitoring/rules.yml"]);
    let r = try_repo(&staged, &[], 25);
    let out = r.all();
    eprintln!("pre-commit try-repo with a clean rule file staged:\n{out}");
    assert!(r.status.success(), "{out}");
    assert!(
        out.contains("warning[alertmanager/unrouted-alert]"),
        "{out}"
    );
    assert!(!out.contains("unreachable-route"), "{out}");

    let _ = fs::remove_dir_all(&dir);
}

/// The alert routed through [`STAGED_AM`].
const STAGED_RULES: &str = r#"groups:
  - name: api
    rules:
      - alert: ApiDown
        expr: up{job="api"} == 0
        for: 5m
        labels: {severity: critical, team: backend}
        annotations:
          summary: API down
          description: The API target is down.
          runbook_url: https://runbooks.acme.io/api-down
"#;

const STAGED_AM: &str = r#"route:
  receiver: default
  group_by: [alertname]
  repeat_interval: 4h
  routes:
    - matchers: ['team=~"backend|payments"']
      receiver: backend
    - matchers: ['team="backend"']
      receiver: payments
receivers:
  - name: default
  - name: backend
  - name: payments
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [alertname]
"#;

/// Another stack's rule file with an error of its own (no runbook for a paging alert).
const STAGED_OTHER_RULES: &str = r#"groups:
  - name: other
    rules:
      - alert: OtherDown
        expr: up{job="other"} == 0
        for: 5m
        labels: {severity: critical}
        annotations: {summary: s, description: d}
"#;

// --- the GitLab CI/CD component ------------------------------------------------------------

/// The component's two YAML documents: the `spec:` header and the job.
fn component_documents() -> (String, String) {
    let text = fs::read_to_string(root().join("templates/obsgate/template.yml")).unwrap();
    let (spec, body) = text
        .split_once("\n---\n")
        .expect("a spec header, `---`, then the jobs");
    (format!("{spec}\n"), body.to_string())
}

/// The install script the component embeds is scripts/install.sh, and its defaults (version,
/// download URL) are this release's. `UPDATE_COMPONENT=1` rewrites the embedded copy.
#[test]
fn component_embeds_the_install_script_of_this_version() {
    let path = root().join("templates/obsgate/template.yml");
    let text = fs::read_to_string(&path).unwrap();
    let start = "      cat > \"$installer\" <<'OBSGATE_INSTALL_SH'\n";
    let end = "      OBSGATE_INSTALL_SH\n";
    let a = text.find(start).expect("the installer heredoc") + start.len();
    let b = a + text[a..].find(end).expect("the heredoc's end");
    let script = fs::read_to_string(root().join("scripts/install.sh")).unwrap();
    let want: String = script
        .split_inclusive('\n')
        .map(|l| {
            if l.trim().is_empty() {
                "\n".to_string()
            } else {
                format!("        {l}")
            }
        })
        .collect();
    if text[a..b] != want {
        if std::env::var("UPDATE_COMPONENT").is_ok_and(|v| v == "1") {
            fs::write(&path, format!("{}{}{}", &text[..a], want, &text[b..])).unwrap();
        } else {
            panic!("the component's install script differs from scripts/install.sh: run `UPDATE_COMPONENT=1 cargo test --test integrations component_embeds`");
        }
    }
    let (spec, _) = component_documents();
    let spec: Value = serde_saphyr::from_str(&spec).unwrap();
    let inputs = &spec["spec"]["inputs"];
    assert_eq!(inputs["version"]["default"], VERSION);
    let default_url = script
        .lines()
        .find_map(|l| l.strip_prefix("default_url=\""))
        .and_then(|l| l.strip_suffix('"'))
        .unwrap();
    assert_eq!(inputs["download-url"]["default"], default_url);
    assert_eq!(
        default_url,
        format!("{}/releases/download", env!("CARGO_PKG_REPOSITORY"))
    );
    for name in ["paths", "fail-on", "args", "version", "stage", "image"] {
        assert!(inputs.get(name).is_some(), "input {name}");
    }
}

#[test]
fn gitlab_component_runs_in_gitlab_ci_local() {
    let test = "gitlab_component_runs_in_gitlab_ci_local";
    let Some(glcl) = gitlab_ci_local(test, &[("curl", "apt-get install curl")]) else {
        return;
    };
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        eprintln!("SKIP {test}: the stand-in release is for x86_64 Linux");
        return;
    }
    let dir = scratch("gitlab-component");
    let releases = dir.join("releases");
    stand_in_release(&releases);
    let server = http::Server::start(&releases, Duration::from_secs(600));
    let repo = seed_repo(&dir);
    // gitlab-ci-local runs a job with an `image:` in docker, which this machine may not have:
    // the copy has no `image:` line, so the job runs in the shell as on a shell runner (which
    // ignores the image). The input stays declared; its default is checked below.
    let component = fs::read_to_string(root().join("templates/obsgate/template.yml")).unwrap();
    let image_line = "  image: $[[ inputs.image ]]\n";
    assert!(
        component.contains(image_line),
        "the job's image is the `image` input"
    );
    write(
        &repo.join("templates/obsgate/template.yml"),
        &component.replacen(image_line, "", 1),
    );
    let ci = |inputs: &str| {
        write(
            &repo.join(".gitlab-ci.yml"),
            &format!(
                "include:\n  - local: templates/obsgate/template.yml\n    inputs:\n      download-url: {}\n{inputs}",
                server.url
            ),
        );
    };
    ci("");
    commit_all(&repo);
    // obsgate is on no PATH: the job installs it
    let system_path = std::env::var("PATH").unwrap();
    let glcl_run = |extra: &[&str]| {
        run(
            Command::new(&glcl)
                .arg("--shell-executor-no-image")
                .arg("--home")
                .arg(dir.join("home"))
                .args(extra)
                .current_dir(&repo)
                .env("PATH", &system_path)
                .env("TMPDIR", dir.join("tmp")),
            Duration::from_secs(300),
            "gitlab-ci-local",
        )
    };
    fs::create_dir_all(dir.join("tmp")).unwrap();

    // the seed with the defaults: installed from the release server, fails with obsgate's 1
    let r = glcl_run(&["obsgate"]);
    eprintln!(
        "gitlab-ci-local: the component on the seed (install + run): {:?}, exit {:?}",
        r.elapsed,
        r.status.code()
    );
    let log = r.all();
    assert!(!r.status.success(), "the job fails on the seed:\n{log}");
    assert!(
        log.contains(&format!("installed obsgate {VERSION} at ")),
        "{log}"
    );
    assert!(log.contains("error[alerts/missing-runbook]"), "{log}");
    assert!(
        log.contains("FAIL 1"),
        "obsgate's exit 1 (findings):\n{log}"
    );
    assert!(
        server.requests().contains(&format!(
            "GET /v{VERSION}/obsgate-{VERSION}-x86_64-unknown-linux-gnu.tar.gz.sha256"
        )),
        "{:?}",
        server.requests()
    );
    let missing_runbook = seed_reports(&repo);
    assert!(
        missing_runbook["content"]["body"]
            .as_str()
            .is_some_and(|b| b.contains("/docs/checks/alerts/missing-runbook.md")),
        "Code Quality issue: {missing_runbook}"
    );
    let exported = repo.join(".gitlab-ci-local/artifacts/obsgate/obsgate-artifacts");
    for f in ["performance-analysis.json", "alerting-strategy.json"] {
        read_json(&exported.join(f));
    }
    // the installer left nothing in TMPDIR but the binary's directory
    for e in fs::read_dir(dir.join("tmp")).unwrap() {
        let e = e.unwrap().path();
        assert_eq!(
            fs::read_dir(&e)
                .unwrap()
                .map(|x| x.unwrap().file_name())
                .collect::<Vec<_>>(),
            ["obsgate"],
            "{}",
            e.display()
        );
    }

    // the inputs drive the job: paths, fail-on, args
    ci("      paths: clean\n      fail-on: info\n      args: --quiet\n");
    let r = glcl_run(&["obsgate"]);
    let log = r.all();
    assert!(r.status.success(), "the job passes on a clean file:\n{log}");
    assert_eq!(
        read_json(&repo.join("gl-code-quality-report.json")),
        Value::Array(vec![])
    );

    // a version without an archive: the job stops in before_script (the installer's exit 3)
    ci("      version: 9.9.9\n");
    let r = glcl_run(&["obsgate"]);
    let log = r.all();
    assert!(!r.status.success(), "{log}");
    assert!(log.contains("no archive for obsgate 9.9.9"), "{log}");
    assert!(log.contains("FAIL 3"), "{log}");

    // rules: in merge request pipelines; in branch pipelines only without an open merge request
    ci("      stage: lint\n");
    let yml = fs::read_to_string(repo.join(".gitlab-ci.yml")).unwrap();
    write(
        &repo.join(".gitlab-ci.yml"),
        &format!("stages: [lint]\n{yml}"),
    );
    let listed = |vars: &[&str]| {
        let mut args = vec!["--list"];
        for v in vars {
            args.push("--variable");
            args.push(v);
        }
        let r = glcl_run(&args);
        assert!(r.status.success(), "{}", r.all());
        r.stdout
            .lines()
            .find(|l| l.starts_with("obsgate "))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
    };
    let branch = listed(&[]).expect("listed in a branch pipeline");
    assert!(branch.contains("lint on_success"), "{branch}");
    let mr = listed(&["CI_PIPELINE_SOURCE=merge_request_event"]).expect("listed in an MR pipeline");
    assert!(mr.contains("lint on_success"), "{mr}");
    let with_mr = listed(&["CI_OPEN_MERGE_REQUESTS=group/project!1"]);
    assert!(
        with_mr.is_none() || with_mr.as_deref().is_some_and(|l| l.contains("never")),
        "not in the branch pipeline of a merge request's branch: {with_mr:?}"
    );

    drop(server);
    let _ = fs::remove_dir_all(&dir);
}
