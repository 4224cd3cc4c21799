//! `obsgate check --online`: runbook links followed against a loopback server.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::{http_response, loopback_server};

/// The server behind the runbook links: each path answers as its name says.
fn runbooks(method: &str, path: &str) -> Option<String> {
    Some(match path {
        "/ok" | "/ok-again" => http_response(200, &[]),
        "/gone" => http_response(404, &[]),
        "/no-head" if method == "HEAD" => http_response(405, &[]),
        "/no-head" => http_response(200, &[]),
        "/moved" => http_response(301, &["Location: /ok"]),
        "/moved-gone" => http_response(302, &["Location: /gone"]),
        "/loop" => http_response(302, &["Location: /loop"]),
        "/login" => http_response(401, &[]),
        "/broken" => http_response(503, &[]),
        "/to-metadata" => http_response(302, &["Location: http://169.254.169.254/latest/"]),
        _ => http_response(500, &[]),
    })
}

/// A rule file whose alerts link the given runbook URLs, in a fresh directory.
fn project(name: &str, urls: &[String], config: Option<&str>) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("online-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut rules = String::from("groups:\n  - name: links\n    rules:\n");
    for (i, u) in urls.iter().enumerate() {
        rules.push_str(&format!(
            "      - alert: Link{i}\n        expr: up == 0\n        for: 5m\n        labels: {{severity: critical}}\n        annotations:\n          summary: s\n          description: d\n          runbook_url: {u}\n"
        ));
    }
    std::fs::write(dir.join("rules.yml"), rules).unwrap();
    if let Some(c) = config {
        std::fs::write(dir.join(".obsgate.yml"), c).unwrap();
    }
    dir
}

fn check(dir: &PathBuf, online: bool) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_obsgate"));
    cmd.current_dir(dir).args([
        "check",
        ".",
        "--format",
        "concise",
        "-q",
        "--fail-on",
        "warning",
    ]);
    if online {
        cmd.arg("--online");
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn dead_links_are_reported_and_live_ones_are_not() {
    let (port, server) = loopback_server(Duration::from_secs(60), runbooks);
    let base = format!("http://127.0.0.1:{port}");
    // a port nothing listens on
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let paths = [
        "/ok",
        "/ok-again",
        "/gone",
        "/no-head",
        "/moved",
        "/moved-gone",
        "/loop",
        "/login",
        "/broken",
        "/to-metadata",
        "/ok#section",
    ];
    let mut urls: Vec<String> = paths.iter().map(|p| format!("{base}{p}")).collect();
    urls.push(format!("http://127.0.0.1:{closed}/runbook"));
    urls.push(format!("{base}/ok"));
    let dir = project("dead", &urls, None);

    // without --online: no request at all, and nothing to report
    let (code, out) = check(&dir, false);
    assert_eq!((code, out.as_str()), (0, ""));
    assert!(server.seen().is_empty(), "{:?}", server.seen());

    let (code, out) = check(&dir, true);
    let out = out
        .replace(&port.to_string(), "PORT")
        .replace(&closed.to_string(), "CLOSED");
    assert_eq!(code, 1, "{out}");
    insta::assert_snapshot!(out);

    // each distinct URL once (`/ok`, `/ok#section` and a second `/ok` are one request), HEAD
    // first, GET only where HEAD was not 2xx
    let seen = server.seen();
    let count = |r: &str| seen.iter().filter(|s| *s == r).count();
    assert_eq!(count("HEAD /ok"), 2, "/ok, then /moved's target: {seen:?}");
    assert_eq!(count("GET /ok"), 0, "{seen:?}");
    assert_eq!((count("HEAD /no-head"), count("GET /no-head")), (1, 1));
    assert_eq!(count("HEAD /gone") + count("GET /gone"), 4, "{seen:?}");
    assert!(seen.iter().all(|s| !s.contains("169.254")), "{seen:?}");
}

#[test]
fn allow_and_deny_lists_choose_the_hosts_requested() {
    let (port, server) = loopback_server(Duration::from_secs(60), runbooks);
    let urls = [format!("http://127.0.0.1:{port}/gone")];
    let deny = project(
        "deny",
        &urls,
        Some("runbooks:\n  online_deny: [\"127.0.0.*\"]\n"),
    );
    assert_eq!(check(&deny, true), (0, String::new()));
    let other = project(
        "allow-other",
        &urls,
        Some("runbooks:\n  online_allow: [\"runbooks.acme.io\"]\n"),
    );
    assert_eq!(check(&other, true), (0, String::new()));
    assert!(server.seen().is_empty(), "{:?}", server.seen());

    let allowed = project(
        "allow",
        &urls,
        Some("runbooks:\n  online_allow: [\"127.0.0.1\"]\n  online_timeout: 5s\n"),
    );
    let (code, out) = check(&allowed, true);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("answers HTTP 404 Not Found"), "{out}");
}

#[test]
fn links_with_credentials_are_not_requested() {
    let (port, server) = loopback_server(Duration::from_secs(60), runbooks);
    let dir = project(
        "credentials",
        &[format!(
            "http://viewer:hunter2hunter2@127.0.0.1:{port}/gone"
        )],
        None,
    );
    let (code, out) = check(&dir, true);
    assert!(!out.contains("invalid-runbook"), "{out}");
    assert!(!out.contains("hunter2hunter2"), "{out}");
    assert!(code <= 1);
    assert!(server.seen().is_empty(), "{:?}", server.seen());
}
