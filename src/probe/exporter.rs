//! `obsgate exporter`: a Prometheus exporter in the multi-target style of blackbox_exporter,
//! without its SSRF.
//!
//! * `GET /probe?target=NAME` probes the `.obsgate.yml` `probe.targets` entry named `NAME`
//!   (and nothing else: an unknown name, a URL, a missing `target`, extra parameters such as
//!   `module`/`url` are a 400 with a plain-text message, before any outbound request). A
//!   configured URL whose host is link-local or a cloud metadata address, in any spelling
//!   ([`guard`]: 169.254.0.0/16, fe80::/10, 100.100.100.200, 192.0.0.192, fd00:ec2::254, IPv6
//!   forms carrying one of those IPv4 addresses, `metadata`, `metadata.google.internal`), is
//!   refused with 400 too, and so is a host name that resolves to one (every address of the
//!   answer is checked, before the probe and again by the probe client's resolver for each
//!   connection). The metrics and health paths are paths (`/...`, no `@`, `//` or `\`): the
//!   URLs are built from the base's parts and must keep its host. Redirects are
//!   never followed (the probe client uses `Policy::none()`). The target is probed with
//!   [`crate::probe::probe_one`] without boot (the exporter probes running services) and
//!   without the load check, within the scrape's timeout
//!   (`X-Prometheus-Scrape-Timeout-Seconds` minus 0.5 s, at least 1 s, at most 60 s; the
//!   default timeout without a valid header), then judged: the rule files are loaded again
//!   for every probe and every check runs over them and the probe result, as
//!   `obsgate probe --rules` does. The answer is the exposition of `probe_success`,
//!   `probe_duration_seconds`, `probe_http_status_code` and the `obsgate_probe_*` families
//!   (findings per check and severity, scrape size, health, readiness).
//! * `GET /metrics`: the exporter's own metrics (probes, rejections, in-flight probes, build
//!   info, resident memory).
//! * `GET /health`: `{"status":"ok"}`.
//!
//! Memory is bounded: at most `max_concurrent_probes` probes run at once (more is an
//! immediate 503), a scrape body is read up to [`MAX_BODY`] bytes, and no request body is
//! read. Label values of the exporter's own counters come from the configuration (target
//! names) or a fixed set (results, rejection reasons), never from requests.
//!
//! Clients are bounded ([`Limits`]): a connection must send a whole request head within the
//! header read timeout (slow and idle clients are closed), at most `max_connections` are open
//! (one more is answered 503 and closed at once), so slow clients hold neither memory nor file
//! descriptors.
//!
//! The server stops on SIGTERM/SIGINT, or, when the caller passes a oneshot receiver, when it
//! fires or its sender is dropped (the caller then owns shutdown and no signal handler is
//! installed): connections without a request being answered are closed at once, requests in
//! flight get the shutdown deadline to finish, then everything is dropped.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::sync::{oneshot, Semaphore};

use crate::checks::Severity;
use crate::config::{Config, ProbeTarget};
use crate::probe::{guard, probe_one, Options, Target, TargetResult};

/// What [`serve`] / [`serve_async`] serve.
pub struct ExporterOptions {
    /// The CLI defaults to 127.0.0.1:9115; any address is allowed if the user asks.
    pub listen: SocketAddr,
    /// Its `probe_targets` are the only targets that can be probed.
    pub config: Config,
    /// Rule files (and directories, and anything `obsgate check` reads) judged with each probe.
    pub rules: Vec<PathBuf>,
    /// Base for displayed paths.
    pub base: PathBuf,
    /// Probes running at once; one more is answered 503 at once.
    pub max_concurrent_probes: usize,
    /// Per-probe timeout without a valid `X-Prometheus-Scrape-Timeout-Seconds` header.
    pub default_timeout: Duration,
    /// Stops the server when it fires (or its sender is dropped); `None`: SIGTERM/SIGINT.
    pub shutdown: Option<oneshot::Receiver<()>>,
    /// What one client may hold.
    pub limits: Limits,
}

/// Bounds on clients: slow or idle ones must not hold the exporter or its shutdown.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A connection that has not sent a whole request head within this time (from its start,
    /// or from the end of its previous response) is closed: slowloris clients, idle keep-alive.
    pub header_read_timeout: Duration,
    /// Open connections at most; one more is answered 503 and closed at once. Keeps file
    /// descriptors for probes, rule files and `/health` under `ulimit -n`, and bounds memory.
    pub max_connections: usize,
    /// After SIGTERM/SIGINT (or the shutdown oneshot) connections and probes in flight get
    /// this long to finish; then they are dropped and the server returns.
    pub shutdown_deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 256,
            shutdown_deadline: Duration::from_secs(10),
        }
    }
}

/// Largest request head read from a client (hyper's read buffer; it allows no less than 8 KiB).
const MAX_REQUEST_HEAD: usize = 16 * 1024;

/// Largest `/metrics` body read from a target (the rest is dropped and the probe fails).
const MAX_BODY: usize = 16 * 1024 * 1024;
const TIMEOUT_HEADER: &str = "x-prometheus-scrape-timeout-seconds";
/// Subtracted from the scrape timeout, as blackbox_exporter's `--timeout-offset`.
const TIMEOUT_MARGIN_SECONDS: f64 = 0.5;
const MIN_TIMEOUT_SECONDS: f64 = 1.0;
const MAX_TIMEOUT_SECONDS: f64 = 60.0;
const EXPOSITION_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
const TEXT_CONTENT_TYPE: &str = "text/plain; charset=utf-8";

/// Outcomes counted in `obsgate_exporter_probes_total{result}`.
const RESULTS: [&str; 3] = ["success", "failure", "error"];
/// Reasons counted in `obsgate_exporter_probe_rejections_total{reason}`.
const REJECTIONS: [&str; 4] = [
    "invalid_request",
    "unknown_target",
    "forbidden_address",
    "concurrency_limit",
];

/// Serve until SIGTERM/SIGINT (graceful: probes in flight finish) or the oneshot of
/// `opts.shutdown`. Builds its own tokio runtime; prints the address it listens on to stderr.
pub fn serve(opts: ExporterOptions) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let result = rt.block_on(async {
        let (tx, rx) = oneshot::channel();
        let announce = tokio::spawn(async move {
            if let Ok(addr) = rx.await {
                eprintln!(
                    "obsgate exporter listening on http://{addr} (/probe?target=NAME, /metrics, /health)"
                );
            }
        });
        let r = serve_async(opts, Some(tx)).await;
        announce.abort();
        r
    });
    // a judge still running in a blocking thread must not keep the process alive
    rt.shutdown_timeout(Duration::from_secs(5));
    result
}

/// Serve on the current tokio runtime. `ready` receives the bound address (bind
/// `127.0.0.1:0` and read the port from it). Returns when the server has stopped, or at once
/// with an error when there is nothing to probe, the rules cannot be loaded or the address
/// cannot be bound.
pub async fn serve_async(
    opts: ExporterOptions,
    ready: Option<oneshot::Sender<SocketAddr>>,
) -> Result<(), String> {
    let ExporterOptions {
        listen,
        config,
        rules,
        base,
        max_concurrent_probes,
        default_timeout,
        shutdown,
        limits,
    } = opts;
    if config.probe_targets.is_empty() {
        return Err(
            "nothing to probe: declare `probe.targets` in .obsgate.yml (the exporter probes only those)"
                .into(),
        );
    }
    if max_concurrent_probes == 0 {
        return Err("the number of concurrent probes must be at least 1".into());
    }
    if default_timeout.is_zero() {
        return Err("the probe timeout must be positive".into());
    }
    let targets = config
        .probe_targets
        .iter()
        .map(|t| (t.name.clone(), prepare_target(t)))
        .collect();
    let mut stats = Stats::default();
    for t in &config.probe_targets {
        for r in RESULTS {
            stats.probes.insert((t.name.clone(), r), 0);
        }
    }
    for r in REJECTIONS {
        stats.rejections.insert(r, 0);
    }
    let shared = Arc::new(Shared {
        config,
        rules,
        base,
        targets,
        permits: Arc::new(Semaphore::new(max_concurrent_probes)),
        limit: max_concurrent_probes,
        default_timeout,
        stats: Mutex::new(stats),
        in_flight: AtomicUsize::new(0),
        refused_connections: AtomicU64::new(0),
        connection_slots: Arc::new(Semaphore::new(
            limits.max_connections.clamp(1, Semaphore::MAX_PERMITS),
        )),
        max_connections: limits.max_connections.clamp(1, Semaphore::MAX_PERMITS),
    });
    // fail at start, not at the first scrape, when the rules or the filters are broken
    {
        let s = shared.clone();
        tokio::task::spawn_blocking(move || judge_project(&s, None))
            .await
            .map_err(|e| format!("cannot load the rules: {e}"))?
            .map_err(|e| format!("cannot load the rules: {e}"))?;
    }
    let stop = Stop::new(shutdown)?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let app = Router::new()
        .route("/probe", get(probe_handler))
        .route("/metrics", get(metrics_handler))
        .route("/health", get(health_handler))
        .fallback(not_found)
        .with_state(shared.clone());
    if let Some(tx) = ready {
        let _ = tx.send(addr);
    }
    accept_loop(listener, app, &shared, limits, stop).await;
    Ok(())
}

/// Serve connections from `listener` until `stop`, within `limits`; then give the open
/// connections `limits.shutdown_deadline` to finish and drop the rest.
async fn accept_loop(
    listener: tokio::net::TcpListener,
    app: Router,
    shared: &Shared,
    limits: Limits,
    stop: Stop,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let max = shared.max_connections;
    let slots = shared.connection_slots.clone();
    let (stopping_tx, stopping) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let stop = stop.wait();
    tokio::pin!(stop);
    loop {
        let stream = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    // out of file descriptors, or a connection reset before it was accepted:
                    // wait a moment instead of spinning
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // reap the connections that ended
        while connections.try_join_next().is_some() {}
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            shared.refused_connections.fetch_add(1, Ordering::Relaxed);
            // best effort, never waiting for the client: the answer fits the socket buffer
            let _ = stream.try_write(TOO_MANY_CONNECTIONS.as_bytes());
            continue;
        };
        let _ = stream.set_nodelay(true);
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .max_buf_size(MAX_REQUEST_HEAD);
        // requests of this connection being answered: at shutdown, a connection without one
        // (idle, or with a request head still coming) is closed at once
        let busy = Arc::new(AtomicUsize::new(0));
        let service = {
            let busy = busy.clone();
            let inner = hyper_util::service::TowerToHyperService::new(app.clone());
            hyper::service::service_fn(move |req| {
                let answering = InFlight::new_owned(busy.clone());
                let answer = hyper::service::Service::call(&inner, req);
                async move {
                    let r = answer.await;
                    drop(answering);
                    r
                }
            })
        };
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        let mut stopping = stopping.clone();
        connections.spawn(async move {
            let _slot = slot;
            tokio::pin!(conn);
            let stopped = async move {
                // an error: the sender is gone, which is a stop too
                let _ = stopping.wait_for(|s| *s).await;
            };
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stopped => {
                    if busy.load(Ordering::SeqCst) > 0 {
                        // answer what is in flight, then close
                        conn.as_mut().graceful_shutdown();
                        let _ = conn.await;
                    }
                }
            }
        });
    }
    drop(listener);
    let _ = stopping_tx.send(true);
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    if tokio::time::timeout(limits.shutdown_deadline, slots.acquire_many(all))
        .await
        .is_err()
    {
        connections.abort_all();
    }
    while connections.join_next().await.is_some() {}
}

/// The answer to a connection over [`Limits::max_connections`].
const TOO_MANY_CONNECTIONS: &str = "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 34\r\nconnection: close\r\n\r\ntoo many connections; retry later\n";

/// The stop condition: the caller's oneshot, or SIGTERM/SIGINT.
enum Stop {
    Channel(oneshot::Receiver<()>),
    Signals(tokio::signal::unix::Signal, tokio::signal::unix::Signal),
}

impl Stop {
    fn new(rx: Option<oneshot::Receiver<()>>) -> Result<Stop, String> {
        use tokio::signal::unix::{signal, SignalKind};
        match rx {
            Some(rx) => Ok(Stop::Channel(rx)),
            None => {
                let term = signal(SignalKind::terminate())
                    .map_err(|e| format!("cannot handle SIGTERM: {e}"))?;
                let int = signal(SignalKind::interrupt())
                    .map_err(|e| format!("cannot handle SIGINT: {e}"))?;
                Ok(Stop::Signals(term, int))
            }
        }
    }

    async fn wait(self) {
        match self {
            Stop::Channel(rx) => {
                let _ = rx.await;
            }
            Stop::Signals(mut term, mut int) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
        }
    }
}

struct Shared {
    config: Config,
    rules: Vec<PathBuf>,
    base: PathBuf,
    /// Configured targets by name: the probe target, or why it is refused.
    targets: BTreeMap<String, Result<Target, String>>,
    permits: Arc<Semaphore>,
    limit: usize,
    default_timeout: Duration,
    stats: Mutex<Stats>,
    in_flight: AtomicUsize,
    /// Connections closed at once because [`Limits::max_connections`] were open.
    refused_connections: AtomicU64,
    /// One permit per open connection.
    connection_slots: Arc<Semaphore>,
    max_connections: usize,
}

#[derive(Default)]
struct Stats {
    probes: BTreeMap<(String, &'static str), u64>,
    rejections: BTreeMap<&'static str, u64>,
}

impl Shared {
    fn reject(&self, reason: &'static str, status: StatusCode, message: String) -> Response {
        if let Ok(mut s) = self.stats.lock() {
            *s.rejections.entry(reason).or_insert(0) += 1;
        }
        plain(status, message)
    }

    fn count_probe(&self, target: &str, result: &'static str) {
        if let Ok(mut s) = self.stats.lock() {
            *s.probes.entry((target.to_string(), result)).or_insert(0) += 1;
        }
    }
}

/// Counts one in `n` while it lives: a probe in flight (decremented when the probe ends or its
/// request is dropped), a request being answered.
struct InFlight<N: std::ops::Deref<Target = AtomicUsize>>(N);

impl<'a> InFlight<&'a AtomicUsize> {
    fn new(n: &'a AtomicUsize) -> Self {
        n.fetch_add(1, Ordering::SeqCst);
        InFlight(n)
    }
}

impl InFlight<Arc<AtomicUsize>> {
    fn new_owned(n: Arc<AtomicUsize>) -> Self {
        n.fetch_add(1, Ordering::SeqCst);
        InFlight(n)
    }
}

impl<N: std::ops::Deref<Target = AtomicUsize>> Drop for InFlight<N> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn plain(status: StatusCode, message: String) -> Response {
    // a refusal quotes the configured URL: never its password
    let mut message = crate::secrets::redact_in(&message);
    if !message.ends_with('\n') {
        message.push('\n');
    }
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(TEXT_CONTENT_TYPE),
        )],
        message,
    )
        .into_response()
}

fn exposition_response(body: String) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(EXPOSITION_CONTENT_TYPE),
        )],
        body,
    )
        .into_response()
}

/// The probe target of a configured entry, or why it must not be probed.
fn prepare_target(t: &ProbeTarget) -> Result<Target, String> {
    if let Some(reason) = guard::forbidden_url(&t.url) {
        return Err(format!("target `{}` is not probed: {reason}", t.name));
    }
    let base = t.url.trim_end_matches('/').to_string();
    let health_path = t.health_path.clone().unwrap_or_else(|| "/health".into());
    let metrics_path = t.metrics_path.clone().unwrap_or_else(|| "/metrics".into());
    // the URLs are built from parts (a path cannot move them to another host), and their host
    // is the one checked above
    for path in [&metrics_path, &health_path] {
        let url = crate::probe::url_of(&base, path)
            .map_err(|e| format!("target `{}` is not probed: {e}", t.name))?;
        if let Some(reason) = guard::forbidden_url(&url) {
            return Err(format!("target `{}` is not probed: {reason}", t.name));
        }
    }
    Ok(Target {
        name: t.name.clone(),
        base,
        metrics_path,
        health_path: health_path.clone(),
        // the exporter probes running services: never boot one
        boot: None,
        // one readiness attempt (health, then metrics): the probe's own timeout bounds it
        ready_timeout: Duration::ZERO,
        health_required: t.health_required.clone(),
        health_budget: t.health_budget.unwrap_or(Duration::from_secs(1)),
        load_path: health_path,
    })
}

/// A host name of the target that resolves to a forbidden address (checked before each
/// probe, for the 400 that says why; IP literals were checked when the target was prepared, and
/// the probe client checks every name it resolves again: [`guard::Resolver`]).
async fn resolves_to_forbidden(t: &Target, within: Duration) -> Option<String> {
    let url = reqwest::Url::parse(&t.base).ok()?;
    let host = url.host_str()?;
    if host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok()
    {
        return None;
    }
    let port = url.port_or_known_default().unwrap_or(80);
    match tokio::time::timeout(within, guard::resolve(host, port)).await {
        Ok(Err(guard::Unresolved::Forbidden(e))) => {
            Some(format!("target `{}` is not probed: {e}", t.name))
        }
        _ => None,
    }
}

/// The per-probe timeout: the scrape timeout header minus the margin, within bounds.
fn probe_timeout(headers: &HeaderMap, default: Duration) -> Duration {
    headers
        .get(TIMEOUT_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(|v| {
            Duration::from_secs_f64(
                (v - TIMEOUT_MARGIN_SECONDS).clamp(MIN_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS),
            )
        })
        .unwrap_or(default)
}

/// The configured target name the query asks for, or the 400 message.
fn requested_name(
    shared: &Shared,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<String, (&'static str, String)> {
    let names = || {
        let mut list: Vec<&str> = shared.targets.keys().map(|s| s.as_str()).take(20).collect();
        if shared.targets.len() > 20 {
            list.push("...");
        }
        list.join(", ")
    };
    let params = match query {
        Ok(Query(p)) => p,
        Err(e) => {
            return Err((
                "invalid_request",
                format!("invalid query string: {}", e.body_text()),
            ))
        }
    };
    if let Some((k, _)) = params.iter().find(|(k, _)| k != "target") {
        return Err((
            "invalid_request",
            format!(
                "unsupported parameter {:?}: the only parameter is `target`, the name of a configured probe target (modules, URLs and settings come from .obsgate.yml)",
                truncate(k)
            ),
        ));
    }
    let values: Vec<&String> = params.iter().map(|(_, v)| v).collect();
    match values.as_slice() {
        [] => Err((
            "invalid_request",
            format!(
                "missing `target` parameter: use /probe?target=NAME with one of the configured targets: {}",
                names()
            ),
        )),
        [one] => {
            if shared.targets.contains_key(one.as_str()) {
                Ok(one.to_string())
            } else if one.contains("://") || one.contains('/') || one.contains(':') {
                Err((
                    "unknown_target",
                    format!(
                        "`target` must be the name of a configured probe target, not an address ({:?}): the exporter probes only the targets of .obsgate.yml ({})",
                        truncate(one),
                        names()
                    ),
                ))
            } else {
                Err((
                    "unknown_target",
                    format!(
                        "unknown target {:?}: configured targets are {}",
                        truncate(one),
                        names()
                    ),
                ))
            }
        }
        _ => Err((
            "invalid_request",
            "`target` given more than once: probe one target per request".to_string(),
        )),
    }
}

/// At most 100 characters of user input in a message.
fn truncate(s: &str) -> String {
    match s.char_indices().nth(100) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

async fn probe_handler(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let start = Instant::now();
    let name = match requested_name(&shared, query) {
        Ok(n) => n,
        Err((reason, message)) => return shared.reject(reason, StatusCode::BAD_REQUEST, message),
    };
    let target = match shared.targets.get(&name) {
        Some(Ok(t)) => t.clone(),
        Some(Err(refusal)) => {
            return shared.reject(
                "forbidden_address",
                StatusCode::BAD_REQUEST,
                refusal.clone(),
            )
        }
        None => unreachable!("requested_name returns configured names only"),
    };
    let Ok(_permit) = shared.permits.clone().try_acquire_owned() else {
        return shared.reject(
            "concurrency_limit",
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "too many probes in flight (limit {}); retry later",
                shared.limit
            ),
        );
    };
    let _in_flight = InFlight::new(&shared.in_flight);
    let timeout = probe_timeout(&headers, shared.default_timeout);
    if let Some(refusal) = resolves_to_forbidden(&target, timeout).await {
        return shared.reject("forbidden_address", StatusCode::BAD_REQUEST, refusal);
    }
    let remaining = timeout
        .saturating_sub(start.elapsed())
        .max(Duration::from_millis(100));
    let result = run_probe(&target, remaining).await;
    let facts = ProbeFacts::of(&result);
    let judged = {
        let s = shared.clone();
        tokio::task::spawn_blocking(move || judge_project(&s, Some(result))).await
    };
    let judged = match judged {
        Ok(Ok(j)) => j,
        Ok(Err(e)) => {
            shared.count_probe(&name, "error");
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("probe of `{name}` done, but it cannot be judged: {e}"),
            );
        }
        Err(e) => {
            shared.count_probe(&name, "error");
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("probe of `{name}` done, but judging it failed: {e}"),
            );
        }
    };
    let success = facts.reachable
        && (200..300).contains(&facts.metrics_status)
        && !facts.truncated
        && judged.parsed_cleanly;
    shared.count_probe(&name, if success { "success" } else { "failure" });
    exposition_response(render_probe(
        success,
        start.elapsed().as_secs_f64(),
        &facts,
        &judged,
    ))
}

/// [`probe_one`] within `timeout` (every request and the whole probe).
async fn run_probe(t: &Target, timeout: Duration) -> TargetResult {
    let opts = Options {
        load: None,
        timeout,
        max_body: MAX_BODY,
        guard: true,
        ..Options::default()
    };
    match tokio::time::timeout(timeout, probe_one(t, &opts)).await {
        Ok(r) => r,
        Err(_) => TargetResult {
            name: t.name.clone(),
            base: t.base.clone(),
            unreachable: Some(format!(
                "the probe timed out after {:.1} s",
                timeout.as_secs_f64()
            )),
            target: Some(t.clone()),
            ..TargetResult::default()
        },
    }
}

/// What the exposition reports of the probe itself.
struct ProbeFacts {
    reachable: bool,
    metrics_status: u16,
    truncated: bool,
    scrape_seconds: f64,
    health_status: u16,
    health_seconds: f64,
    ready_seconds: f64,
}

impl ProbeFacts {
    fn of(r: &TargetResult) -> ProbeFacts {
        ProbeFacts {
            reachable: r.unreachable.is_none(),
            metrics_status: r.metrics.as_ref().map_or(0, |m| m.status),
            truncated: r.metrics.as_ref().is_some_and(|m| m.truncated),
            scrape_seconds: r.metrics.as_ref().map_or(0.0, |m| m.seconds),
            health_status: r.health.as_ref().map_or(0, |h| h.status),
            health_seconds: r.health.as_ref().map_or(0.0, |h| h.seconds),
            ready_seconds: r.ready_seconds.unwrap_or(0.0),
        }
    }
}

/// The judgement of a probe.
struct Judged {
    /// The scrape was parsed without errors (false when there was no 2xx scrape).
    parsed_cleanly: bool,
    families: usize,
    series: usize,
    findings: BTreeMap<(&'static str, Severity), u64>,
}

/// Load the rules, add the probe result and run every check (blocking: rayon inside).
fn judge_project(shared: &Shared, result: Option<TargetResult>) -> Result<Judged, String> {
    let opts = crate::engine::CheckOptions {
        paths: shared.rules.clone(),
        base: shared.base.clone(),
        config: shared.config.clone(),
        only: None,
    };
    let outcome = crate::engine::check_with(&opts, |project| {
        if let Some(r) = result {
            project.add_probe_results(vec![r]);
        }
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    let expo = outcome
        .project
        .files
        .iter()
        .find_map(|f| f.exposition.as_ref().map(|(e, _)| e));
    let mut findings = BTreeMap::new();
    for f in &outcome.findings {
        *findings.entry((f.check, f.severity)).or_insert(0) += 1;
    }
    Ok(Judged {
        parsed_cleanly: expo.is_some_and(|e| e.errors.is_empty()),
        families: expo.map_or(0, |e| e.families.len()),
        series: expo.map_or(0, |e| e.families.iter().map(|f| f.samples.len()).sum()),
        findings,
    })
}

/// Text exposition 0.0.4 writer.
#[derive(Default)]
struct Exposition(String);

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let v = v
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n");
                let _ = write!(self.0, "{k}=\"{v}\"");
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {}", format_value(value));
    }

    fn gauge(&mut self, name: &str, help: &str, value: f64) {
        self.family(name, "gauge", help);
        self.sample(name, &[], value);
    }
}

fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

fn render_probe(success: bool, seconds: f64, f: &ProbeFacts, j: &Judged) -> String {
    let mut e = Exposition::default();
    e.gauge(
        "probe_success",
        "1 when the target was reachable and its /metrics answered 2xx and parsed without errors.",
        if success { 1.0 } else { 0.0 },
    );
    e.gauge(
        "probe_duration_seconds",
        "How long the probe took, judging included.",
        seconds,
    );
    e.gauge(
        "probe_http_status_code",
        "HTTP status of the target's /metrics (0 when it did not answer).",
        f64::from(f.metrics_status),
    );
    e.family(
        "obsgate_probe_findings",
        "gauge",
        "Findings of obsgate's checks over the rules and this probe, by check and severity.",
    );
    for ((check, severity), n) in &j.findings {
        e.sample(
            "obsgate_probe_findings",
            &[("check", check), ("severity", severity.as_str())],
            *n as f64,
        );
    }
    e.gauge(
        "obsgate_probe_metric_families",
        "Metric families in the target's /metrics.",
        j.families as f64,
    );
    e.gauge(
        "obsgate_probe_series",
        "Samples (series) in the target's /metrics.",
        j.series as f64,
    );
    e.gauge(
        "obsgate_probe_scrape_duration_seconds",
        "How long reading the target's /metrics took (0 when it did not answer).",
        f.scrape_seconds,
    );
    e.gauge(
        "obsgate_probe_health_status_code",
        "HTTP status of the target's health endpoint (0 when it did not answer).",
        f64::from(f.health_status),
    );
    e.gauge(
        "obsgate_probe_health_duration_seconds",
        "How long the target's health endpoint took (0 when it did not answer).",
        f.health_seconds,
    );
    e.gauge(
        "obsgate_probe_ready_seconds",
        "Seconds until the target answered its health or metrics endpoint (0 when it never did).",
        f.ready_seconds,
    );
    e.0
}

async fn metrics_handler(State(shared): State<Arc<Shared>>) -> Response {
    let mut e = Exposition::default();
    {
        let stats = match shared.stats.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        e.family(
            "obsgate_exporter_probes_total",
            "counter",
            "Probes run, by configured target and result (success, failure, error: not judged).",
        );
        for ((target, result), n) in &stats.probes {
            e.sample(
                "obsgate_exporter_probes_total",
                &[("target", target), ("result", result)],
                *n as f64,
            );
        }
        e.family(
            "obsgate_exporter_probe_rejections_total",
            "counter",
            "Probe requests refused without probing, by reason.",
        );
        for (reason, n) in &stats.rejections {
            e.sample(
                "obsgate_exporter_probe_rejections_total",
                &[("reason", reason)],
                *n as f64,
            );
        }
    }
    e.gauge(
        "obsgate_exporter_in_flight_probes",
        "Probes running now.",
        shared.in_flight.load(Ordering::Relaxed) as f64,
    );
    e.gauge(
        "obsgate_exporter_open_connections",
        "Client connections open now (this scrape's included).",
        shared
            .max_connections
            .saturating_sub(shared.connection_slots.available_permits()) as f64,
    );
    e.family(
        "obsgate_exporter_refused_connections_total",
        "counter",
        "Client connections closed at once because the connection limit was reached.",
    );
    e.sample(
        "obsgate_exporter_refused_connections_total",
        &[],
        shared.refused_connections.load(Ordering::Relaxed) as f64,
    );
    e.family(
        "obsgate_exporter_build_info",
        "gauge",
        "The obsgate version of this exporter (always 1).",
    );
    e.sample(
        "obsgate_exporter_build_info",
        &[("version", env!("CARGO_PKG_VERSION"))],
        1.0,
    );
    if let Some(rss) = resident_memory_bytes() {
        e.gauge(
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            rss as f64,
        );
    }
    exposition_response(e.0)
}

/// Resident set size from `/proc/self/statm` (Linux; `None` elsewhere).
fn resident_memory_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf only reads a system constant.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let page_size = u64::try_from(page_size)
        .ok()
        .filter(|p| *p > 0)
        .unwrap_or(4096);
    Some(pages * page_size)
}

async fn health_handler() -> Response {
    let body = serde_json::to_string(&serde_json::json!({ "status": "ok" }))
        .unwrap_or_else(|_| "{\"status\":\"ok\"}".into());
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

async fn not_found() -> Response {
    plain(
        StatusCode::NOT_FOUND,
        "not found: the exporter serves /probe?target=NAME, /metrics and /health".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_header() {
        let d = Duration::from_secs(10);
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(TIMEOUT_HEADER, HeaderValue::from_str(v).unwrap());
            probe_timeout(&h, d)
        };
        assert_eq!(probe_timeout(&HeaderMap::new(), d), d);
        assert_eq!(with("1.5"), Duration::from_secs(1));
        assert_eq!(with("0.2"), Duration::from_secs(1));
        assert_eq!(with("15"), Duration::from_millis(14_500));
        assert_eq!(with("1000"), Duration::from_secs(60));
        for bad in ["", "abc", "-3", "NaN", "inf", "0"] {
            assert_eq!(with(bad), d, "{bad:?}");
        }
    }

    #[test]
    fn exposition_escapes() {
        let mut e = Exposition::default();
        e.family("x", "gauge", "a \\ b\nc");
        e.sample("x", &[("l", "q\"\\\n")], 0.5);
        assert_eq!(
            e.0,
            "# HELP x a \\\\ b\\nc\n# TYPE x gauge\nx{l=\"q\\\"\\\\\\n\"} 0.5\n"
        );
    }
}
