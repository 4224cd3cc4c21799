//! Minimal, fast loopback HTTP/1.1 server for load benchmarks.
//!
//! `cargo run --release --example hello_server -- [PORT] [--seconds N]`
//!
//! Listens on 127.0.0.1:PORT (default 18080) and exits by itself after N seconds (default 60).
//! `GET /` answers 200 "ok\n"; `GET /metrics` answers a ~2 KB Prometheus exposition.

use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::Duration;

use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use axum::Router;

fn usage() -> ExitCode {
    eprintln!("usage: hello_server [PORT] [--seconds N]");
    ExitCode::from(2)
}

/// A ~2 KB exposition, built once.
fn exposition() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let mut s = String::from(
            "# HELP http_requests_total Requests served.\n# TYPE http_requests_total counter\n",
        );
        for (i, code) in ["200", "404", "500"].iter().enumerate() {
            for handler in ["/", "/metrics", "/health", "/api/v1/items"] {
                s.push_str(&format!(
                    "http_requests_total{{code=\"{code}\",handler=\"{handler}\"}} {}\n",
                    1000 * (i + 1)
                ));
            }
        }
        s.push_str(
            "# HELP http_request_duration_seconds Request latency.\n# TYPE http_request_duration_seconds histogram\n",
        );
        let mut cumulative = 0;
        for (i, le) in ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]
            .iter()
            .enumerate()
        {
            cumulative += 100 * (12 - i);
            s.push_str(&format!(
                "http_request_duration_seconds_bucket{{handler=\"/\",le=\"{le}\"}} {cumulative}\n"
            ));
        }
        s.push_str(&format!(
            "http_request_duration_seconds_sum{{handler=\"/\"}} 12.5\nhttp_request_duration_seconds_count{{handler=\"/\"}} {cumulative}\n"
        ));
        s.push_str("# HELP process_start_time_seconds Start time.\n# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds 1.7e+09\n");
        s.push_str("# HELP up Whether the service is up.\n# TYPE up gauge\nup 1\n");
        s.push_str("# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.\n# TYPE node_cpu_seconds_total counter\n");
        let modes = ["user", "system", "idle", "iowait", "irq", "softirq", "steal", "nice"];
        let mut n = 0;
        while s.len() < 2000 {
            s.push_str(&format!(
                "node_cpu_seconds_total{{cpu=\"{}\",mode=\"{}\"}} {}.25\n",
                n / modes.len(),
                modes[n % modes.len()],
                1000 + 37 * n
            ));
            n += 1;
        }
        s
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut port: u16 = 18080;
    let mut seconds: u64 = 60;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" | "-s" => match args.next().and_then(|v| v.parse().ok()) {
                Some(n) => seconds = n,
                None => return usage(),
            },
            "-h" | "--help" => {
                let _ = usage();
                return ExitCode::SUCCESS;
            }
            other => match other.parse() {
                Ok(p) => port = p,
                Err(_) => return usage(),
            },
        }
    }

    let app = Router::new().route("/", get(|| async { "ok\n" })).route(
        "/metrics",
        get(|| async {
            (
                [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                exposition(),
            )
        }),
    );
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("hello_server: cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    eprintln!("hello_server: listening on http://127.0.0.1:{port}/ for {seconds} s");
    tokio::select! {
        r = axum::serve(listener, app) => {
            if let Err(e) = r {
                eprintln!("hello_server: {e}");
                return ExitCode::FAILURE;
            }
        }
        _ = tokio::time::sleep(Duration::from_secs(seconds)) => {}
    }
    eprintln!("hello_server: done");
    ExitCode::SUCCESS
}
