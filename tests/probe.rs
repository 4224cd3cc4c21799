//! `obsgate probe` against real HTTP servers on loopback: one written here that misbehaves on
//! purpose (slow start, 500s, hangs, garbage exposition, huge bodies), booted services that must
//! never outlive obsgate (also on SIGINT), and the seed's real Node app when its packages are
//! installed (CI installs them).

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const EXPO: &str = "# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\"} 3\n";

/// What the fake server answers for a path.
#[derive(Clone)]
enum Reply {
    Ok(&'static str, String),
    Status(u16),
    /// Accept the connection, read the request, never answer.
    Hang,
    /// A 200 with a body of this many bytes (sent in chunks, never buffered whole).
    Huge(usize),
}

/// A loopback HTTP/1.0-style server: one thread, `route` decides the reply, stops by itself
/// after `life` (or when the returned flag is set).
/// A healthy service: `EXPO` on `/metrics`, `{"status":"ok"}` on `/health`.
fn healthy(path: &str) -> Reply {
    match path {
        "/metrics" => Reply::Ok("text/plain; version=0.0.4", EXPO.to_string()),
        "/health" => Reply::Ok("application/json", "{\"status\":\"ok\"}".into()),
        _ => Reply::Status(404),
    }
}

fn serve(
    delay_start: Duration,
    life: Duration,
    route: impl Fn(&str) -> Reply + Send + 'static,
) -> (u16, Arc<AtomicBool>) {
    // reserve a port, release it, and bind it again after the delay (a slow start)
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    std::thread::spawn(move || {
        std::thread::sleep(delay_start);
        let Ok(l) = TcpListener::bind(("127.0.0.1", port)) else {
            return;
        };
        l.set_nonblocking(true).unwrap();
        let end = Instant::now() + life;
        while Instant::now() < end && !stop2.load(Ordering::Relaxed) {
            match l.accept() {
                Ok((s, _)) => {
                    let reply = {
                        let mut s2 = s.try_clone().unwrap();
                        s2.set_nonblocking(false).unwrap();
                        s2.set_read_timeout(Some(Duration::from_secs(2))).ok();
                        let mut buf = [0u8; 4096];
                        let n = s2.read(&mut buf).unwrap_or(0);
                        let req = String::from_utf8_lossy(&buf[..n]).to_string();
                        let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
                        (route(&path), s2)
                    };
                    std::thread::spawn(move || answer(reply.0, reply.1));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    (port, stop)
}

fn answer(reply: Reply, mut s: TcpStream) {
    let head = |status: u16, ct: &str, len: usize| {
        format!("HTTP/1.1 {status} X\r\nContent-Type: {ct}\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n")
    };
    match reply {
        Reply::Ok(ct, body) => {
            let _ = s.write_all(head(200, ct, body.len()).as_bytes());
            let _ = s.write_all(body.as_bytes());
        }
        Reply::Status(code) => {
            let _ = s.write_all(head(code, "text/plain", 5).as_bytes());
            let _ = s.write_all(b"error");
        }
        Reply::Hang => std::thread::sleep(Duration::from_secs(20)),
        Reply::Huge(n) => {
            let _ = s.write_all(head(200, "text/plain; version=0.0.4", n).as_bytes());
            let chunk = "# filler comment line of the exposition body, repeated\n".repeat(1000);
            let mut sent = 0;
            while sent < n {
                let k = chunk.len().min(n - sent);
                if s.write_all(&chunk.as_bytes()[..k]).is_err() {
                    break;
                }
                sent += k;
            }
        }
    }
}

fn obsgate(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_obsgate"))
        .args(args)
        .current_dir(common::root())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn rules_file(name: &str, text: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("obsgate-probe-{}-{name}.yml", std::process::id()));
    std::fs::write(&p, text).unwrap();
    p
}

const RULES: &str = "groups:\n  - name: a\n    rules:\n      - alert: Errors\n        expr: sum(rate(http_requests_total{code=~\"5..\"}[5m])) > 1\n        for: 5m\n        annotations: {summary: s, description: d, runbook_url: 'https://runbooks.acme.io/errors'}\n      - alert: Queue\n        expr: queue_depth > 100\n        for: 5m\n        annotations: {summary: s, description: d, runbook_url: 'https://runbooks.acme.io/queue'}\n";

#[test]
fn slow_start_is_waited_for_and_rules_are_checked_against_the_scrape() {
    let (port, stop) = serve(
        Duration::from_millis(1500),
        Duration::from_secs(20),
        healthy,
    );
    let rules = rules_file("slow", RULES);
    let url = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    let (code, out, err) = obsgate(&[
        "probe",
        "--target",
        &url,
        "--rules",
        rules.to_str().unwrap(),
        "--format",
        "json",
        "--ready-timeout",
        "10s",
    ]);
    stop.store(true, Ordering::Relaxed);
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let p = &v["probe"][0];
    assert!(p["ready_seconds"].as_f64().unwrap() >= 1.0, "{p}");
    assert_eq!(p["metrics"]["families"], 1);
    let checks: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    assert_eq!(checks, vec!["metrics/missing"], "{out}");
    let _ = std::fs::remove_file(rules);
}

/// A probe record that cannot be written is said as such ("cannot write", it said "cannot
/// read"), and the report is still printed and the run exits 2; a record that can be written
/// is written whole (a temporary file renamed).
#[test]
fn a_record_that_cannot_be_written_does_not_stop_the_report() {
    let (port, stop) = serve(Duration::ZERO, Duration::from_secs(20), healthy);
    let rules = rules_file("record", RULES);
    let url = format!("http://127.0.0.1:{port}");
    let dir = std::env::temp_dir().join(format!("obsgate-record-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("no/such/dir/run.probe.json");
    let good = dir.join("run.probe.json");
    let probe = |record: &std::path::Path| {
        obsgate(&[
            "probe",
            "--target",
            &url,
            "--rules",
            rules.to_str().unwrap(),
            "--format",
            "concise",
            "--record",
            record.to_str().unwrap(),
        ])
    };
    let (code, out, err) = probe(&missing);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "error: cannot write the probe record {}: No such file or directory",
            missing.display()
        )),
        "{err}"
    );
    assert!(!err.contains("cannot read"), "{err}");
    assert!(out.contains("[metrics/missing]"), "{out}");
    let (code, out, err) = probe(&good);
    stop.store(true, Ordering::Relaxed);
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("[metrics/missing]"), "{out}");
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&good).unwrap()).unwrap();
    assert_eq!(record["obsgate_probe"], 1);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, vec!["run.probe.json"]);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(rules);
}

#[test]
fn misbehaving_endpoints_are_findings_with_bounded_time() {
    // /metrics: 500; /health: hangs
    let (port, stop) = serve(Duration::ZERO, Duration::from_secs(30), |p| match p {
        "/metrics" => Reply::Status(500),
        "/health" => Reply::Hang,
        "/ready" => Reply::Ok("text/plain", "ok".into()),
        _ => Reply::Status(404),
    });
    let url = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    let (code, out, err) = obsgate(&[
        "probe",
        "--target",
        &url,
        "--health-path",
        "/ready",
        "--metrics-path",
        "/metrics",
        "--format",
        "concise",
        "--rules",
        "fixtures/seed/alerting-rules.yml",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("metrics/exposition") && out.contains("answered HTTP 500"),
        "{out}"
    );
    // the hanging health endpoint is bounded by the request timeout
    let (code, out, _) = obsgate(&[
        "probe",
        "--target",
        &url,
        "--format",
        "concise",
        "--ready-timeout",
        "2s",
        "--rules",
        "fixtures/seed/alerting-rules.yml",
    ]);
    stop.store(true, Ordering::Relaxed);
    // /health hangs and /metrics is a 500: never ready
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("probe/unreachable"), "{out}");
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn garbage_and_huge_bodies() {
    let (port, stop) = serve(Duration::ZERO, Duration::from_secs(30), |p| match p {
        "/metrics" => Reply::Ok(
            "text/plain; version=0.0.4",
            "# TYPE x counter\nx{a=\"1\" 3\n\u{0}\u{1}binary junk\nx 1 2 3 4\n".into(),
        ),
        "/big/metrics" => Reply::Huge(80 * 1024 * 1024),
        _ => Reply::Ok("application/json", "{}".into()),
    });
    let url = format!("http://127.0.0.1:{port}");
    let rules = rules_file("garbage", RULES);
    let (code, out, _) = obsgate(&[
        "probe",
        "--target",
        &url,
        "--format",
        "concise",
        "--rules",
        rules.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    let parse_errors = out.lines().filter(|l| l.contains("does not parse")).count();
    assert!(parse_errors >= 2, "{out}");
    assert!(
        out.contains(&format!("http://127.0.0.1:{port}/metrics:2:")),
        "{out}"
    );
    // an 80 MB body is cut at the limit and reported, in bounded memory
    let (code, out, _) = obsgate(&[
        "probe",
        "--target",
        &url,
        "--metrics-path",
        "/big/metrics",
        "--format",
        "concise",
        "--rules",
        rules.to_str().unwrap(),
    ]);
    stop.store(true, Ordering::Relaxed);
    assert_eq!(code, 1);
    assert!(out.contains("more than"), "{out}");
    let _ = std::fs::remove_file(rules);
}

#[test]
fn nothing_probed_is_exit_2_and_names_the_target() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, out, err) = obsgate(&[
        "probe",
        "--target",
        &format!("http://127.0.0.1:{port}"),
        "--ready-timeout",
        "1s",
        "--format",
        "concise",
        "--rules",
        "fixtures/seed/alerting-rules.yml",
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("probe/unreachable"), "{out}");
    assert!(err.contains("no target could be probed"), "{err}");
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}

fn wait_pid_file(path: &std::path::Path) -> i32 {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if let Some(pid) = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            return pid;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the booted command never wrote {}", path.display());
}

#[test]
fn booted_service_never_outlives_probe() {
    let pidfile = std::env::temp_dir().join(format!("obsgate-boot-{}.pid", std::process::id()));
    let _ = std::fs::remove_file(&pidfile);
    // a service that never gets ready, and a child of it that ignores SIGTERM
    let boot = format!(
        "trap '' TERM; sleep 300 & echo $! > {}; echo 'listening soon'; wait",
        pidfile.display()
    );
    let (code, out, _) = obsgate(&[
        "probe",
        "--target",
        "http://127.0.0.1:9",
        "--boot",
        &boot,
        "--ready-timeout",
        "1500ms",
        "--format",
        "concise",
        "--rules",
        "fixtures/seed/alerting-rules.yml",
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("probe/unreachable"), "{out}");
    let pid = wait_pid_file(&pidfile);
    assert!(!alive(pid), "booted child {pid} survived obsgate");
    let _ = std::fs::remove_file(&pidfile);
}

/// SIGINT and SIGTERM to obsgate stop the booted service (which gets SIGTERM and handles it:
/// its mask is clean, it was blocked) and every process it started, also one in a session of
/// its own (`setsid`).
#[test]
fn booted_service_is_stopped_on_sigint() {
    let tmp = |what: &str| {
        std::env::temp_dir().join(format!("obsgate-sigint-{}.{what}", std::process::id()))
    };
    let (pidfile, daemonfile, termfile) = (tmp("pid"), tmp("daemon"), tmp("term"));
    let boot = format!(
        "trap 'touch {}; exit 0' TERM; setsid sleep 300 & echo $! > {}; sleep 300 & echo $! > {}; wait",
        termfile.display(),
        daemonfile.display(),
        pidfile.display()
    );
    for sig in [libc_sig::INT, libc_sig::TERM] {
        for f in [&pidfile, &daemonfile, &termfile] {
            let _ = std::fs::remove_file(f);
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_obsgate"))
            .args([
                "probe",
                "--target",
                "http://127.0.0.1:9",
                "--boot",
                &boot,
                "--ready-timeout",
                "60s",
                "--rules",
                "fixtures/seed/alerting-rules.yml",
            ])
            .current_dir(common::root())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid = wait_pid_file(&pidfile);
        let daemon = wait_pid_file(&daemonfile);
        assert!(alive(pid) && alive(daemon));
        Command::new("kill")
            .args([sig, &child.id().to_string()])
            .status()
            .unwrap();
        let start = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "obsgate ignored {sig}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(!status.success());
        let start = Instant::now();
        while (alive(pid) || alive(daemon)) && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(pid), "booted child {pid} survived {sig}");
        assert!(!alive(daemon), "booted daemon {daemon} survived {sig}");
        assert!(termfile.exists(), "the service never got SIGTERM ({sig})");
    }
    for f in [&pidfile, &daemonfile, &termfile] {
        let _ = std::fs::remove_file(f);
    }
}

/// A boot command that starts a daemon (a process in its own session) and exits: the probe
/// fails, and the daemon is stopped with the rest.
#[test]
fn a_daemon_left_by_a_failed_boot_is_stopped() {
    let pidfile = std::env::temp_dir().join(format!("obsgate-daemon-{}.pid", std::process::id()));
    let _ = std::fs::remove_file(&pidfile);
    let boot = format!(
        "setsid sh -c 'echo $$ > {}; exec sleep 300' & sleep 0.2; exit 3",
        pidfile.display()
    );
    let (code, out, _) = obsgate(&[
        "probe",
        "--target",
        "http://127.0.0.1:9",
        "--boot",
        &boot,
        "--ready-timeout",
        "10s",
        "--format",
        "concise",
        "--rules",
        "fixtures/seed/alerting-rules.yml",
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("exited (exit status: 3)"), "{out}");
    let pid = wait_pid_file(&pidfile);
    let start = Instant::now();
    while alive(pid) && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(pid), "daemon {pid} survived obsgate");
    let _ = std::fs::remove_file(&pidfile);
}

mod libc_sig {
    pub const INT: &str = "-INT";
    pub const TERM: &str = "-TERM";
}

/// The seed's real app (`performance-monitor.js` with prom-client, express and
/// express-prometheus-middleware). `.ci/run` installs the packages into `target/ci-npm`.
#[test]
fn seed_app_business_metrics_missing_and_status_label() {
    let modules = common::root().join("target/ci-npm/node_modules");
    let have = ["prom-client", "express", "express-prometheus-middleware"]
        .iter()
        .all(|m| modules.join(m).is_dir());
    let node = Command::new("node").arg("--version").output().is_ok();
    if !have || !node {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("node and the seed app's packages must be installed by .ci/run");
        }
        eprintln!("SKIP: node or prom-client/express/express-prometheus-middleware not installed in target/ci-npm");
        return;
    }
    let dir = std::env::temp_dir().join(format!("obsgate-seed-app-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for f in [
        "metrics-config.js",
        "performance-monitor.js",
        "alerting-rules.yml",
    ] {
        std::fs::copy(common::root().join("fixtures/seed").join(f), dir.join(f)).unwrap();
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let boot = format!(
        "NODE_PATH={} METRICS_PORT={port} exec node {}",
        modules.display(),
        dir.join("performance-monitor.js").display()
    );
    let (code, out, err) = obsgate(&[
        "probe",
        "--target",
        &format!("http://127.0.0.1:{port}"),
        "--boot",
        &boot,
        "--rules",
        dir.join("alerting-rules.yml").to_str().unwrap(),
        "--format",
        "concise",
        "--requests",
        "200",
        "--concurrency",
        "4",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    let missing: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("[metrics/missing]"))
        .collect();
    for m in [
        "cache_hits_total",
        "cache_misses_total",
        "database_connections_active",
        "business_revenue_total",
    ] {
        assert!(
            missing
                .iter()
                .any(|l| l.contains(&format!("`{m}`")) && l.contains("error[")),
            "{m} not reported missing:\n{out}"
        );
    }
    assert!(
        out.lines().any(|l| l.contains("[metrics/label-missing]")
            && l.contains("`status_code`")
            && l.contains("status")),
        "{out}"
    );
    for m in [
        "nodejs_active_handles_total",
        "nodejs_active_requests_total",
    ] {
        assert!(
            out.lines()
                .any(|l| l.contains("[metrics/naming]") && l.contains(m)),
            "{m} not reported by metrics/naming:\n{out}"
        );
    }
    // the app is gone after obsgate exits
    let still = Command::new("sh")
        .arg("-c")
        // `[n]ode` does not match pgrep's own shell command line
        .arg(format!(
            "pgrep -f '[n]ode {}' || true",
            dir.join("performance-monitor.js").display()
        ))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&still.stdout).trim().is_empty(),
        "the app survived"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
