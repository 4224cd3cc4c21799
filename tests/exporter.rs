//! `obsgate exporter` (`obsgate::probe::exporter`): a fake target and the exporter on
//! 127.0.0.1:0, probed over HTTP; every test stops both by itself.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use axum::Router;
use obsgate::config::Config;
use obsgate::parse::exposition::{self, Format};
use obsgate::probe::exporter::{serve_async, ExporterOptions, Limits};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const EXPOSITION: &str = "# HELP app_requests_total Requests served.\n# TYPE app_requests_total counter\napp_requests_total{code=\"200\"} 10\napp_requests_total{code=\"500\"} 1\n# HELP app_up Whether the app is up.\n# TYPE app_up gauge\napp_up 1\n";

/// An alert over a metric the fake target does not expose: a `metrics/missing` finding.
const RULES: &str = "groups:\n  - name: app\n    rules:\n      - alert: AppErrors\n        expr: sum(rate(app_requests_total{code=\"500\"}[5m])) > 1\n        for: 5m\n        labels:\n          severity: page\n        annotations:\n          summary: errors\n          runbook_url: https://runbooks.example.com/app-errors\n      - alert: QueueStuck\n        expr: app_queue_depth > 100\n        for: 10m\n        labels:\n          severity: page\n        annotations:\n          summary: queue stuck\n          runbook_url: https://runbooks.example.com/queue\n";

/// A service with `/metrics` and `/health` that counts every request it receives.
struct Fake {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn fake_target(metrics_delay: Duration) -> Fake {
    let hits = Arc::new(AtomicUsize::new(0));
    let (h1, h2, h3) = (hits.clone(), hits.clone(), hits.clone());
    let app = Router::new()
        .route(
            "/metrics",
            get(move || {
                let h = h1.clone();
                async move {
                    h.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(metrics_delay).await;
                    ([(CONTENT_TYPE, "text/plain; version=0.0.4")], EXPOSITION)
                }
            }),
        )
        .route(
            "/health",
            get(move || {
                let h = h2.clone();
                async move {
                    h.fetch_add(1, Ordering::SeqCst);
                    ([(CONTENT_TYPE, "application/json")], "{\"status\":\"ok\"}")
                }
            }),
        )
        .fallback(move || {
            let h = h3.clone();
            async move {
                h.fetch_add(1, Ordering::SeqCst);
                (axum::http::StatusCode::NOT_FOUND, "no")
            }
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Fake { addr, hits, task }
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "obsgate-exporter-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Exporter {
    url: String,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), String>>,
    _dir: TempDir,
}

impl Exporter {
    async fn start(targets_yaml: &str, max_concurrent_probes: usize) -> Exporter {
        Exporter::start_with(targets_yaml, max_concurrent_probes, Limits::default()).await
    }

    async fn start_with(
        targets_yaml: &str,
        max_concurrent_probes: usize,
        limits: Limits,
    ) -> Exporter {
        let dir = TempDir::new("rules");
        let rules = dir.write("app.rules.yml", RULES);
        let config = Config::parse(&format!("probe:\n  targets:\n{targets_yaml}"))
            .unwrap_or_else(|e| panic!("config: {e:?}"));
        let (stop, shutdown) = oneshot::channel();
        let (ready_tx, ready_rx) = oneshot::channel();
        let opts = ExporterOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            config,
            rules: vec![rules],
            base: dir.0.clone(),
            max_concurrent_probes,
            default_timeout: Duration::from_secs(10),
            shutdown: Some(shutdown),
            limits,
        };
        let task = tokio::spawn(serve_async(opts, Some(ready_tx)));
        let addr = match ready_rx.await {
            Ok(a) => a,
            Err(_) => panic!("exporter did not start: {:?}", task.await),
        };
        assert!(addr.ip().is_loopback());
        Exporter {
            url: format!("http://{addr}"),
            stop: Some(stop),
            task,
            _dir: dir,
        }
    }

    async fn get(&self, path: &str) -> (u16, String, String) {
        self.get_with(path, None).await
    }

    async fn get_with(&self, path: &str, scrape_timeout: Option<&str>) -> (u16, String, String) {
        let mut req = client().get(format!("{}{path}", self.url));
        if let Some(t) = scrape_timeout {
            req = req.header("X-Prometheus-Scrape-Timeout-Seconds", t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get(CONTENT_TYPE.as_str())
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        (status, ct, resp.text().await.unwrap())
    }

    fn addr(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    /// Stop with the oneshot; the server must end by itself, without an error.
    async fn stop(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        let task = &mut self.task;
        let r = tokio::time::timeout(Duration::from_secs(15), task)
            .await
            .expect("exporter did not stop");
        r.unwrap().unwrap();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn target_yaml(name: &str, url: &str) -> String {
    format!("    - name: {name}\n      url: {url}\n")
}

/// The value of the first sample line that starts with `series ` (name and labels as written).
fn value(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

/// Valid text exposition, every family with HELP and TYPE, promlint-clean.
fn assert_lint_clean(body: &str) {
    let e = exposition::parse(body, Format::Text004);
    assert!(e.errors.is_empty(), "{:?}\n{body}", e.errors);
    assert!(
        exposition::lint(&e).is_empty(),
        "{:?}\n{body}",
        exposition::lint(&e)
    );
    assert!(
        exposition::invariants(&e).is_empty(),
        "{:?}\n{body}",
        exposition::invariants(&e)
    );
    for f in &e.families {
        assert!(f.help.is_some(), "{} has no HELP", f.name);
        assert!(f.type_span.is_some(), "{} has no TYPE", f.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_a_configured_target_and_reports_findings() {
    let fake = fake_target(Duration::ZERO).await;
    let ex = Exporter::start(&target_yaml("good", &format!("http://{}", fake.addr)), 4).await;
    let (status, ct, body) = ex.get("/probe?target=good").await;
    assert_eq!(status, 200, "{body}");
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    assert_eq!(value(&body, "probe_success"), Some(1.0), "{body}");
    assert_eq!(
        value(&body, "probe_http_status_code"),
        Some(200.0),
        "{body}"
    );
    assert_eq!(
        value(
            &body,
            "obsgate_probe_findings{check=\"metrics/missing\",severity=\"error\"}"
        ),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        value(&body, "obsgate_probe_metric_families"),
        Some(2.0),
        "{body}"
    );
    assert_eq!(value(&body, "obsgate_probe_series"), Some(3.0), "{body}");
    assert_eq!(
        value(&body, "obsgate_probe_health_status_code"),
        Some(200.0),
        "{body}"
    );
    for name in [
        "probe_duration_seconds",
        "obsgate_probe_scrape_duration_seconds",
        "obsgate_probe_health_duration_seconds",
        "obsgate_probe_ready_seconds",
    ] {
        let v = value(&body, name).unwrap_or_else(|| panic!("no {name}\n{body}"));
        assert!((0.0..10.0).contains(&v), "{name} {v}");
    }
    assert!(fake.hits.load(Ordering::SeqCst) >= 2);
    assert_lint_clean(&body);
    ex.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_anything_but_a_configured_name_without_a_request() {
    let fake = fake_target(Duration::ZERO).await;
    let ex = Exporter::start(&target_yaml("good", &format!("http://{}", fake.addr)), 4).await;
    let direct = format!("http://{}/metrics", fake.addr);
    let encoded: String = direct
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect::<Vec<_>>()
        .concat();
    let cases = [
        format!("/probe?target={direct}"),
        format!("/probe?target={encoded}"),
        format!("/probe?target={}", fake.addr),
        "/probe?target=unknown".to_string(),
        "/probe".to_string(),
        "/probe?".to_string(),
        "/probe?target=".to_string(),
        "/probe?target=good&module=http_2xx".to_string(),
        format!("/probe?target=good&url={direct}"),
        "/probe?target=good&target=good".to_string(),
        "/probe?name=good".to_string(),
    ];
    for path in &cases {
        let (status, ct, body) = ex.get(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(ct.starts_with("text/plain"), "{path}: {ct}");
        assert!(
            !body.is_empty() && !body.contains("probe_success"),
            "{body}"
        );
    }
    let (_, _, body) = ex.get(&format!("/probe?target={direct}")).await;
    assert!(body.contains("configured probe target"), "{body}");
    let (_, _, body) = ex.get("/probe?target=unknown").await;
    assert!(
        body.contains("unknown target") && body.contains("good"),
        "{body}"
    );
    let (_, _, body) = ex.get("/probe").await;
    assert!(body.contains("missing `target`"), "{body}");
    assert_eq!(
        fake.hits.load(Ordering::SeqCst),
        0,
        "the target was requested"
    );
    // counted by reason
    let (_, _, metrics) = ex.get("/metrics").await;
    let invalid = value(
        &metrics,
        "obsgate_exporter_probe_rejections_total{reason=\"invalid_request\"}",
    )
    .unwrap();
    let unknown = value(
        &metrics,
        "obsgate_exporter_probe_rejections_total{reason=\"unknown_target\"}",
    )
    .unwrap();
    assert_eq!(invalid + unknown, cases.len() as f64 + 3.0, "{metrics}");
    assert_eq!(
        value(
            &metrics,
            "obsgate_exporter_probes_total{target=\"good\",result=\"success\"}"
        ),
        Some(0.0),
        "{metrics}"
    );
    ex.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_configured_metadata_and_link_local_addresses() {
    let targets = [
        ("aws", "http://169.254.169.254/"),
        ("aws6", "http://[fd00:ec2::254]/"),
        ("mapped", "http://[::ffff:169.254.169.254]:80"),
        ("compatible", "http://[::169.254.169.254]/"),
        ("decimal", "http://2852039166/latest/meta-data"),
        ("linklocal6", "http://[fe80::1]:9100"),
        ("gcp", "http://metadata.google.internal/computeMetadata/v1"),
        ("gcp-short", "http://metadata/computeMetadata/v1"),
        ("alibaba", "http://100.100.100.200/latest/meta-data"),
        ("oracle", "http://192.0.0.192/opc/v2/instance/"),
        ("nat64", "http://[64:ff9b::a9fe:a9fe]/"),
        ("nat64-local", "http://[64:ff9b:1::a9fe:a9fe]/"),
        ("6to4", "http://[2002:a9fe:a9fe::]/"),
    ];
    let yaml: String = targets.iter().map(|(n, u)| target_yaml(n, u)).collect();
    let ex = Exporter::start(&yaml, 4).await;
    for (name, _) in targets {
        let start = Instant::now();
        let (status, _, body) = ex.get(&format!("/probe?target={name}")).await;
        assert_eq!(status, 400, "{name}: {body}");
        assert!(
            body.contains("metadata") || body.contains("link-local"),
            "{body}"
        );
        // a request to a link-local address would hang until the timeout
        assert!(start.elapsed() < Duration::from_secs(2), "{name}");
    }
    let (_, _, metrics) = ex.get("/metrics").await;
    assert_eq!(
        value(
            &metrics,
            "obsgate_exporter_probe_rejections_total{reason=\"forbidden_address\"}"
        ),
        Some(targets.len() as f64),
        "{metrics}"
    );
    ex.stop().await;
}

/// A metrics or health path is a path on the target's host: `@[::1]:PORT/stolen` glued to the
/// base made `[::1]:PORT` the host (the base its user information), and `@169.254.169.254/...`
/// passed the address check. `.obsgate.yml` refuses such paths; a config made in code is
/// refused by the exporter, before any request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_cannot_move_a_probe_to_another_host() {
    let other = fake_target(Duration::ZERO).await;
    let good = fake_target(Duration::ZERO).await;
    let swaps = [
        format!("@{}/stolen", other.addr),
        "@169.254.169.254/latest/meta-data".to_string(),
        format!("//{}/stolen", other.addr),
        format!("/\\{}/stolen", other.addr),
        format!("http://{}/stolen", other.addr),
        format!(":{}/stolen", other.addr.port()),
    ];
    for path in &swaps {
        for field in ["metrics_path", "health_path"] {
            let yaml = format!(
                "probe:\n  targets:\n    - name: t\n      url: http://{}\n      {field}: {:?}\n",
                good.addr, path
            );
            let e = Config::parse(&yaml).expect_err(&yaml);
            assert!(format!("{e:?}").contains(field), "{e:?}");
        }
    }
    let mut config = Config::parse(&format!(
        "probe:\n  targets:\n{}",
        target_yaml("ok", &format!("http://{}", good.addr))
    ))
    .unwrap();
    let template = config.probe_targets[0].clone();
    for (i, path) in swaps.iter().enumerate() {
        let mut m = template.clone();
        m.name = format!("m{i}");
        m.metrics_path = Some(path.clone());
        let mut h = template.clone();
        h.name = format!("h{i}");
        h.health_path = Some(path.clone());
        config.probe_targets.extend([m, h]);
    }
    let dir = TempDir::new("paths");
    let rules = dir.write("app.rules.yml", RULES);
    let (stop, shutdown) = oneshot::channel();
    let (ready_tx, ready_rx) = oneshot::channel();
    let task = tokio::spawn(serve_async(
        ExporterOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            config,
            rules: vec![rules],
            base: dir.0.clone(),
            max_concurrent_probes: 4,
            default_timeout: Duration::from_secs(10),
            shutdown: Some(shutdown),
            limits: Limits::default(),
        },
        Some(ready_tx),
    ));
    let addr = ready_rx.await.unwrap();
    for (i, path) in swaps.iter().enumerate() {
        for name in [format!("m{i}"), format!("h{i}")] {
            let resp = client()
                .get(format!("http://{addr}/probe?target={name}"))
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let body = resp.text().await.unwrap();
            assert_eq!(status, 400, "{name} {path}: {body}");
            assert!(body.contains("path"), "{body}");
        }
    }
    assert_eq!(
        other.hits.load(Ordering::SeqCst),
        0,
        "the other host was requested"
    );
    assert_eq!(good.hits.load(Ordering::SeqCst), 0);
    // the good target still works
    let resp = client()
        .get(format!("http://{addr}/probe?target=ok"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_target_is_probe_success_0() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let ex = Exporter::start(&target_yaml("down", &url), 4).await;
    let start = Instant::now();
    let (status, _, body) = ex.get("/probe?target=down").await;
    assert_eq!(status, 200, "{body}");
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(value(&body, "probe_success"), Some(0.0), "{body}");
    assert_eq!(value(&body, "probe_http_status_code"), Some(0.0), "{body}");
    assert_eq!(
        value(&body, "obsgate_probe_health_status_code"),
        Some(0.0),
        "{body}"
    );
    assert!(
        body.contains("obsgate_probe_findings{check=\"probe/unreachable\""),
        "{body}"
    );
    assert_lint_clean(&body);
    let (_, _, metrics) = ex.get("/metrics").await;
    assert_eq!(
        value(
            &metrics,
            "obsgate_exporter_probes_total{target=\"down\",result=\"failure\"}"
        ),
        Some(1.0),
        "{metrics}"
    );
    ex.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_metrics_health_and_not_found() {
    let fake = fake_target(Duration::ZERO).await;
    let ex = Exporter::start(&target_yaml("good", &format!("http://{}", fake.addr)), 4).await;
    assert_eq!(ex.get("/probe?target=good").await.0, 200);
    let (status, ct, body) = ex.get("/metrics").await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    assert_lint_clean(&body);
    assert_eq!(
        value(
            &body,
            "obsgate_exporter_probes_total{target=\"good\",result=\"success\"}"
        ),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        value(&body, "obsgate_exporter_in_flight_probes"),
        Some(0.0),
        "{body}"
    );
    let version = format!(
        "obsgate_exporter_build_info{{version=\"{}\"}}",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(value(&body, &version), Some(1.0), "{body}");
    if cfg!(target_os = "linux") {
        let rss = value(&body, "process_resident_memory_bytes").expect("no RSS");
        assert!(rss > 1e6 && rss < 1e10, "{rss}");
    }
    let (status, ct, body) = ex.get("/health").await;
    assert_eq!((status, ct.as_str()), (200, "application/json"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        serde_json::json!({"status": "ok"})
    );
    for path in ["/", "/nope", "/probe/x", "/-/reload", "/config"] {
        assert_eq!(ex.get(path).await.0, 404, "{path}");
    }
    ex.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_concurrency_limit_is_503() {
    let fake = fake_target(Duration::from_secs(2)).await;
    let ex = Exporter::start(&target_yaml("slow", &format!("http://{}", fake.addr)), 1).await;
    let url = ex.url.clone();
    let first = tokio::spawn(async move {
        let r = client()
            .get(format!("{url}/probe?target=slow"))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    });
    // wait until the first probe holds the only slot
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, _, m) = ex.get("/metrics").await;
        if value(&m, "obsgate_exporter_in_flight_probes") == Some(1.0) {
            break;
        }
        assert!(Instant::now() < deadline, "the first probe never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let start = Instant::now();
    let (status, _, body) = ex.get("/probe?target=slow").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("too many probes"), "{body}");
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "503 is not immediate"
    );
    let (status, body) = first.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(value(&body, "probe_success"), Some(1.0), "{body}");
    let (_, _, m) = ex.get("/metrics").await;
    assert_eq!(
        value(
            &m,
            "obsgate_exporter_probe_rejections_total{reason=\"concurrency_limit\"}"
        ),
        Some(1.0),
        "{m}"
    );
    // the slot is free again
    assert_eq!(value(&m, "obsgate_exporter_in_flight_probes"), Some(0.0));
    ex.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scrape_timeout_header_bounds_a_hanging_probe() {
    let fake = fake_target(Duration::from_secs(30)).await;
    let ex = Exporter::start(&target_yaml("hang", &format!("http://{}", fake.addr)), 4).await;
    let start = Instant::now();
    let (status, _, body) = ex.get_with("/probe?target=hang", Some("1.5")).await;
    let took = start.elapsed();
    assert_eq!(status, 200, "{body}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(2500),
        "{took:?}"
    );
    assert_eq!(value(&body, "probe_success"), Some(0.0), "{body}");
    let d = value(&body, "probe_duration_seconds").unwrap();
    assert!((0.9..2.5).contains(&d), "{d}");
    assert_lint_clean(&body);
    // a tiny timeout is raised to the 1 s floor
    let start = Instant::now();
    let (status, _, _) = ex.get_with("/probe?target=hang", Some("0.1")).await;
    assert_eq!(status, 200);
    assert!(start.elapsed() >= Duration::from_millis(900));
    ex.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_errors() {
    let opts = |config: Config, rules: Vec<PathBuf>| ExporterOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        config,
        rules,
        base: std::env::temp_dir(),
        max_concurrent_probes: 4,
        default_timeout: Duration::from_secs(10),
        shutdown: Some(oneshot::channel().1),
        limits: Limits::default(),
    };
    let e = serve_async(opts(Config::default(), vec![]), None)
        .await
        .unwrap_err();
    assert!(e.contains("probe.targets"), "{e}");
    let config = Config::parse(&format!(
        "probe:\n  targets:\n{}",
        target_yaml("a", "http://127.0.0.1:1")
    ))
    .unwrap();
    let missing = std::env::temp_dir().join("obsgate-exporter-no-such-rules.yml");
    let e = serve_async(opts(config.clone(), vec![missing]), None)
        .await
        .unwrap_err();
    assert!(e.contains("cannot load the rules"), "{e}");
    // the address is in use
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut o = opts(config, vec![]);
    o.listen = taken.local_addr().unwrap();
    let e = serve_async(o, None).await.unwrap_err();
    assert!(e.contains("cannot listen on"), "{e}");
}

/// Half a request head: what a slowloris client sends, and then nothing.
const PARTIAL_REQUEST: &[u8] = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ";

/// Whether the server closed the connection within `within` (end of stream or a reset).
async fn closed_within(s: &mut tokio::net::TcpStream, within: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 256];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            // an answer (the 408 of a timed-out head) before the close
            Ok(Ok(_)) => continue,
        }
    }
}

/// Slow clients hold neither the exporter nor its file descriptors: a connection that does not
/// send a whole request head within the header read timeout is closed, and over the connection
/// limit a new connection is answered 503 at once and closed. Then the exporter serves again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_timed_out_and_capped() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fake = fake_target(Duration::ZERO).await;
    let limits = Limits {
        header_read_timeout: Duration::from_millis(700),
        max_connections: 8,
        shutdown_deadline: Duration::from_secs(5),
    };
    let ex = Exporter::start_with(
        &target_yaml("good", &format!("http://{}", fake.addr)),
        4,
        limits,
    )
    .await;
    let start = Instant::now();
    let mut slow = Vec::new();
    for _ in 0..8 {
        let mut s = tokio::net::TcpStream::connect(ex.addr()).await.unwrap();
        s.write_all(PARTIAL_REQUEST).await.unwrap();
        slow.push(s);
    }
    // one more than the limit: 503 at once
    let mut extra = tokio::net::TcpStream::connect(ex.addr()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(
        Duration::from_millis(500),
        extra.read_to_string(&mut answer),
    )
    .await
    .expect("the connection over the limit was held")
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
    assert!(
        answer.ends_with("too many connections; retry later\n"),
        "{answer:?}"
    );
    // the slow ones are closed after the header read timeout
    for s in &mut slow {
        assert!(
            closed_within(s, Duration::from_secs(3)).await,
            "a slow client was kept"
        );
    }
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    // an idle keep-alive connection is closed too: a request, then nothing
    let mut idle = tokio::net::TcpStream::connect(ex.addr()).await.unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    assert!(
        closed_within(&mut idle, Duration::from_secs(3)).await,
        "an idle connection was kept"
    );
    // and the exporter serves again
    let (status, _, body) = ex.get("/probe?target=good").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(value(&body, "probe_success"), Some(1.0), "{body}");
    let (_, _, metrics) = ex.get("/metrics").await;
    assert_lint_clean(&metrics);
    assert_eq!(
        value(&metrics, "obsgate_exporter_refused_connections_total"),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        value(&metrics, "obsgate_exporter_open_connections"),
        Some(1.0),
        "{metrics}"
    );
    ex.stop().await;
}

/// A partial request head does not hold the shutdown (even with a long header read timeout):
/// a connection without a request being answered is closed at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_request_does_not_hold_the_shutdown() {
    use tokio::io::AsyncWriteExt;
    let limits = Limits {
        header_read_timeout: Duration::from_secs(60),
        max_connections: 8,
        shutdown_deadline: Duration::from_secs(60),
    };
    let url = format!("http://127.0.0.1:{}", closed_port());
    let ex = Exporter::start_with(&target_yaml("down", &url), 4, limits).await;
    let mut partial = tokio::net::TcpStream::connect(ex.addr()).await.unwrap();
    partial.write_all(PARTIAL_REQUEST).await.unwrap();
    let mut silent = tokio::net::TcpStream::connect(ex.addr()).await.unwrap();
    // both accepted
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, _, m) = ex.get("/metrics").await;
        if value(&m, "obsgate_exporter_open_connections") == Some(3.0) {
            break;
        }
        assert!(Instant::now() < deadline, "{m}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let start = Instant::now();
    ex.stop().await;
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert!(closed_within(&mut partial, Duration::from_secs(1)).await);
    assert!(closed_within(&mut silent, Duration::from_secs(1)).await);
}

/// A probe in flight at shutdown gets the shutdown deadline, not more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shutdown_deadline_bounds_a_probe_in_flight() {
    let fake = fake_target(Duration::from_secs(30)).await;
    let limits = Limits {
        shutdown_deadline: Duration::from_millis(500),
        ..Limits::default()
    };
    let ex = Exporter::start_with(
        &target_yaml("hang", &format!("http://{}", fake.addr)),
        4,
        limits,
    )
    .await;
    let url = ex.url.clone();
    let probe = tokio::spawn(async move {
        client()
            .get(format!("{url}/probe?target=hang"))
            .send()
            .await
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (_, _, m) = ex.get("/metrics").await;
        if value(&m, "obsgate_exporter_in_flight_probes") == Some(1.0) {
            break;
        }
        assert!(Instant::now() < deadline, "the probe never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let start = Instant::now();
    ex.stop().await;
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_secs(2),
        "{took:?}"
    );
    // the probe's client saw its connection go
    assert!(probe.await.unwrap().is_err());
}
