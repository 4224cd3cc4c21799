//! Shared test helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use obsgate::config::Config;
use obsgate::engine::{self, CheckOptions, Outcome};
use obsgate::report::{self, Format, Style};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run all checks on `paths` with an optional `.obsgate.yml` text.
pub fn run(paths: &[PathBuf], config: Option<&str>) -> Outcome {
    let config = match config {
        Some(text) => Config::parse(text).unwrap_or_else(|e| panic!("bad test config: {e:?}")),
        None => Config::default(),
    };
    let opts = CheckOptions {
        paths: paths.to_vec(),
        base: root(),
        config,
        only: None,
    };
    engine::check(&opts).expect("check run")
}

/// Render the findings of one check (or all) in a format, without colour.
pub fn render(format: Format, outcome: &Outcome, only: Option<&str>) -> String {
    let mut findings = outcome.findings.clone();
    findings.retain(|f| only.is_none_or(|id| f.check == id));
    report::render(
        format,
        &outcome.project,
        &findings,
        Style {
            color: false,
            width: 100,
        },
    )
}

pub fn concise(outcome: &Outcome, only: Option<&str>) -> String {
    render(Format::Concise, outcome, only)
}

pub fn text(outcome: &Outcome, only: Option<&str>) -> String {
    render(Format::Text, outcome, only)
}

/// The `bad.*`/`good.*` file of a fixture directory.
pub fn fixture_file(dir: &Path, stem: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|s| s.to_str())
                .is_some_and(|n| n.starts_with(&format!("{stem}.")))
        })
}

/// Is amtool installed? In CI it must be (`.ci/run` installs Debian's
/// `prometheus-alertmanager`); elsewhere a test without it says it skips.
pub fn amtool() -> bool {
    match std::process::Command::new("amtool")
        .arg("--version")
        .output()
    {
        Ok(out) => {
            assert!(out.status.success(), "amtool --version fails");
            true
        }
        Err(_) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("amtool is not installed; .ci/run must install Debian's `prometheus-alertmanager` package")
        }
        Err(_) => {
            eprintln!("SKIP: amtool not found on PATH (apt-get install prometheus-alertmanager)");
            false
        }
    }
}

/// `../shared` beside the repository, if present.
pub fn shared() -> Option<PathBuf> {
    let p = root().join("../shared");
    p.is_dir().then_some(p)
}

/// A loopback HTTP server for tests: one thread accepting connections, each answered with the
/// raw response `reply(method, path)` gives (`None`: accept, read, never answer) and closed.
/// It stops by itself after `life`, or once the returned guard is dropped; the guard also
/// counts the requests it saw, as `"METHOD /path"`.
pub fn loopback_server(
    life: std::time::Duration,
    reply: impl Fn(&str, &str) -> Option<String> + Send + 'static,
) -> (u16, ServerGuard) {
    use std::io::{Read, Write};
    use std::sync::atomic::Ordering;
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    l.set_nonblocking(true).unwrap();
    let guard = ServerGuard::default();
    let (stop, seen) = (guard.stop.clone(), guard.seen.clone());
    std::thread::spawn(move || {
        let end = std::time::Instant::now() + life;
        while std::time::Instant::now() < end && !stop.load(Ordering::Relaxed) {
            let Ok((mut s, _)) = l.accept() else {
                std::thread::sleep(std::time::Duration::from_millis(5));
                continue;
            };
            s.set_nonblocking(false).unwrap();
            s.set_read_timeout(Some(std::time::Duration::from_secs(2)))
                .ok();
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let mut words = req.split_whitespace();
            let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or("/"));
            seen.lock().unwrap().push(format!("{method} {path}"));
            if let Some(r) = reply(method, path) {
                let _ = s.write_all(r.as_bytes());
            }
        }
    });
    (port, guard)
}

/// See [`loopback_server`].
#[derive(Default)]
pub struct ServerGuard {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl ServerGuard {
    /// The requests seen so far, in order.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for ServerGuard {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A complete HTTP/1.1 response with an empty body and the given extra header lines.
pub fn http_response(status: u16, headers: &[&str]) -> String {
    let mut r = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n");
    for h in headers {
        r.push_str(h);
        r.push_str("\r\n");
    }
    r.push_str("\r\n");
    r
}

/// Run the obsgate binary with `args` in `dir`: exit code, stdout, stderr.
pub fn obsgate_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_obsgate"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("obsgate runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `git ARGS` in `dir` (no system config): its output, trimmed; panics when it fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Commit everything in `dir` (as a test user, hooks and signing off): the new commit's id.
pub fn commit(dir: &Path, message: &str) -> String {
    git(dir, &["add", "-A"]);
    git(
        dir,
        &[
            "-c",
            "user.name=obsgate tests",
            "-c",
            "user.email=tests@obsgate.invalid",
            "-c",
            "commit.gpgsign=false",
            "commit",
            "-q",
            "--no-verify",
            "-m",
            message,
        ],
    );
    git(dir, &["rev-parse", "HEAD"])
}
