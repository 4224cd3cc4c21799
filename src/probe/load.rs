//! Bounded, closed-loop HTTP/1.1 load generator.
//!
//! One task per connection, each with exactly one request in flight (no pipelining), like
//! `wrk`. Every connection is a raw `hyper::client::conn::http1` connection over a
//! `TcpStream` with `TCP_NODELAY`, kept alive between requests, its request head written
//! with one plain `write` (hyper's `writev(false)`). hyper's connection future runs in a
//! companion task, aborted with its connection: on a 2-core loopback benchmark this measured
//! ~5% faster than driving it inside the request task (where every self-wake-up becomes a
//! yield through the scheduler), and `writev(false)` another ~3%.
//!
//! The run is bounded by a request count, a duration, or both (whichever comes first), and
//! every request by a timeout: a timed-out request counts as a timeout and its connection is
//! reopened. Response bodies are drained and counted, never kept, so memory stays bounded
//! whatever the server sends. Connection failures are counted as transport errors and
//! retried after a short backoff (1 ms doubling to 100 ms) so a dead server does not spin a
//! core.
//!
//! Latencies (from sending a request to the end of its response body; from the start of the
//! connect for the first request of a connection) are recorded per task
//! in microseconds into an HDR histogram (1 µs..=60 s, 3 significant figures, clamped) and
//! merged at the end.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::header::{HeaderValue, HOST};
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Upper bound on `concurrency`: one task and one socket per connection.
pub const MAX_CONCURRENCY: usize = 10_000;

/// Histogram bounds, in microseconds.
const HIST_LOW_US: u64 = 1;
const HIST_HIGH_US: u64 = 60_000_000;
const HIST_SIGFIG: u8 = 3;

/// Reconnect backoff after a transport error.
const BACKOFF_START: Duration = Duration::from_millis(1);
const BACKOFF_MAX: Duration = Duration::from_millis(100);

/// What to load and for how long.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    /// `http://host[:port][/path][?query]`; `https://` is rejected.
    pub url: String,
    /// Number of connections, each with one request in flight (closed loop).
    pub concurrency: usize,
    /// Stop after this many requests in total.
    pub requests: Option<u64>,
    /// Or after this long (whichever comes first; at least one of the two must be set).
    pub duration: Option<Duration>,
    /// Per request (connect included for the first request of a connection); a timed-out
    /// request counts in `timeouts` and its connection is reopened.
    pub timeout: Duration,
}

/// Outcome of a load run.
///
/// `requests = ok + non_2xx + transport_errors + timeouts`: every attempt that ended,
/// failed connection attempts included. Requests still in flight when the duration runs out
/// are abandoned and not counted.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LoadResult {
    pub requests: u64,
    /// Responses with a 2xx status.
    pub ok: u64,
    /// Responses with any other status.
    pub non_2xx: u64,
    /// Connect failures, resets, malformed responses, truncated bodies.
    pub transport_errors: u64,
    pub timeouts: u64,
    pub elapsed_seconds: f64,
    /// Completed requests (responses received, any status) per second.
    pub throughput: f64,
    /// `(non_2xx + transport_errors + timeouts) / requests` (0 when there was no request).
    pub error_rate: f64,
    /// Latency percentiles of the completed requests (0 when there was none).
    pub p50_seconds: f64,
    pub p95_seconds: f64,
    pub p99_seconds: f64,
    pub max_seconds: f64,
    pub mean_seconds: f64,
    /// Response body bytes received (headers not included).
    pub bytes_received: u64,
    pub concurrency: usize,
}

/// A parsed `http://` target.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    /// Host without IPv6 brackets, for resolving.
    host: String,
    port: u16,
    /// `Host` header value: `host[:port]` as written in the URL (brackets kept).
    authority: String,
    /// Origin-form request target: `/path[?query]`.
    path_and_query: String,
}

/// Parses `http://host[:port][/path][?query][#fragment]`.
fn parse_url(url: &str) -> Result<Target, String> {
    let url = url.trim();
    let scheme_end = url
        .find("://")
        .ok_or_else(|| format!("invalid URL {url:?}: expected http://host[:port][/path]"))?;
    let scheme = &url[..scheme_end];
    if scheme.eq_ignore_ascii_case("https") {
        return Err(format!(
            "unsupported URL {url:?}: https is not supported by the load generator, use http://"
        ));
    }
    if !scheme.eq_ignore_ascii_case("http") {
        return Err(format!(
            "unsupported URL scheme {scheme:?} in {url:?}: only http:// is supported"
        ));
    }
    let rest = &url[scheme_end + 3..];
    // Drop any fragment: it is never sent.
    let rest = rest.split('#').next().unwrap_or("");
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..auth_end];
    let mut path_and_query = rest[auth_end..].to_string();
    if path_and_query.is_empty() {
        path_and_query.push('/');
    } else if path_and_query.starts_with('?') {
        path_and_query.insert(0, '/');
    }
    if authority.contains('@') {
        return Err(format!(
            "invalid URL {url:?}: credentials in the URL are not supported"
        ));
    }
    if authority.is_empty() {
        return Err(format!("invalid URL {url:?}: missing host"));
    }
    let (host, port_str) = if let Some(after_bracket) = authority.strip_prefix('[') {
        let close = after_bracket
            .find(']')
            .ok_or_else(|| format!("invalid URL {url:?}: unterminated IPv6 address"))?;
        let host = &after_bracket[..close];
        let tail = &after_bracket[close + 1..];
        let port = if tail.is_empty() {
            None
        } else if let Some(p) = tail.strip_prefix(':') {
            Some(p)
        } else {
            return Err(format!(
                "invalid URL {url:?}: unexpected text after IPv6 address"
            ));
        };
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("invalid URL {url:?}: bad IPv6 address {host:?}"));
        }
        (host, port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(format!("invalid URL {url:?}: missing host"));
    }
    if !authority.starts_with('[')
        && !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'))
    {
        return Err(format!("invalid URL {url:?}: bad host {host:?}"));
    }
    if host.contains(':') && !authority.starts_with('[') {
        return Err(format!(
            "invalid URL {url:?}: IPv6 addresses must be written in brackets, e.g. http://[::1]:8080/"
        ));
    }
    let port = match port_str {
        None | Some("") => 80,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("invalid URL {url:?}: bad port {p:?}"))?,
    };
    // The Host header carries the port only when the URL did.
    let authority = match port_str {
        None | Some("") => authority.trim_end_matches(':').to_string(),
        Some(_) => authority.to_string(),
    };
    Ok(Target {
        host: host.to_string(),
        port,
        authority,
        path_and_query,
    })
}

/// Per-connection tallies, merged at the end.
struct Tally {
    ok: u64,
    non_2xx: u64,
    transport_errors: u64,
    timeouts: u64,
    bytes: u64,
    hist: Histogram<u64>,
    max_us: u64,
    sum_us: u128,
}

impl Tally {
    fn new() -> Result<Tally, String> {
        Ok(Tally {
            ok: 0,
            non_2xx: 0,
            transport_errors: 0,
            timeouts: 0,
            bytes: 0,
            hist: new_histogram()?,
            max_us: 0,
            sum_us: 0,
        })
    }

    fn record_latency(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros())
            .unwrap_or(u64::MAX)
            .clamp(HIST_LOW_US, HIST_HIGH_US);
        // Cannot fail: the value is clamped to the histogram's bounds.
        let _ = self.hist.record(us);
        self.max_us = self.max_us.max(us);
        self.sum_us += u128::from(us);
    }

    fn merge(&mut self, other: &Tally) {
        self.ok += other.ok;
        self.non_2xx += other.non_2xx;
        self.transport_errors += other.transport_errors;
        self.timeouts += other.timeouts;
        self.bytes += other.bytes;
        // Same bounds on both sides: cannot fail.
        let _ = self.hist.add(&other.hist);
        self.max_us = self.max_us.max(other.max_us);
        self.sum_us += other.sum_us;
    }
}

fn new_histogram() -> Result<Histogram<u64>, String> {
    Histogram::new_with_bounds(HIST_LOW_US, HIST_HIGH_US, HIST_SIGFIG)
        .map_err(|e| format!("cannot create latency histogram: {e:?}"))
}

/// State shared by all connection tasks (read-only but for the slot counter).
struct Shared {
    addrs: Vec<SocketAddr>,
    uri: Uri,
    host: HeaderValue,
    /// Request slots handed out so far (only used when `limit` is set).
    issued: AtomicU64,
    limit: Option<u64>,
    /// End of the run (far future when only a request count is set).
    end: Instant,
    timeout: Duration,
}

impl Shared {
    /// Takes one request slot at `now`; `false` when the run is over.
    #[inline]
    fn take_slot(&self, now: Instant) -> bool {
        if now >= self.end {
            return false;
        }
        match self.limit {
            None => true,
            // Relaxed is enough: the counter only needs to be exact, not ordered.
            Some(limit) => self.issued.fetch_add(1, Ordering::Relaxed) < limit,
        }
    }

    #[inline]
    fn request(&self) -> Request<Empty<Bytes>> {
        let mut req = Request::new(Empty::new());
        // Both clones are reference-count bumps of shared bytes.
        *req.uri_mut() = self.uri.clone();
        req.headers_mut().insert(HOST, self.host.clone());
        req
    }
}

/// `now + d`, or a far-future instant when that would overflow.
fn deadline_after(now: Instant, d: Duration) -> Instant {
    now.checked_add(d)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(now)
}

/// Aborts a spawned task when dropped, so that nothing outlives its owner.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs the load described by `spec` and returns its measurements.
///
/// Must be called inside a tokio runtime (an error otherwise); connections are spread over
/// its worker threads. Dropping the returned future stops the load.
pub async fn run(spec: &LoadSpec) -> Result<LoadResult, String> {
    let target = parse_url(&spec.url)?;
    if spec.requests.is_none() && spec.duration.is_none() {
        return Err("unbounded load: set a request count, a duration, or both".to_string());
    }
    if spec.concurrency == 0 {
        return Err("concurrency must be at least 1".to_string());
    }
    if spec.concurrency > MAX_CONCURRENCY {
        return Err(format!(
            "concurrency {} is above the maximum of {MAX_CONCURRENCY}",
            spec.concurrency
        ));
    }
    if spec.timeout.is_zero() {
        return Err("timeout must be greater than zero".to_string());
    }
    if tokio::runtime::Handle::try_current().is_err() {
        return Err("the load generator must run inside a tokio runtime".to_string());
    }
    let uri: Uri = target
        .path_and_query
        .parse()
        .map_err(|e| format!("invalid URL {:?}: bad path: {e}", spec.url))?;
    let host = HeaderValue::from_str(&target.authority)
        .map_err(|e| format!("invalid URL {:?}: bad host: {e}", spec.url))?;

    let resolve = tokio::net::lookup_host((target.host.as_str(), target.port));
    let addrs: Vec<SocketAddr> = match tokio::time::timeout(spec.timeout, resolve).await {
        Ok(Ok(addrs)) => addrs.collect(),
        Ok(Err(e)) => return Err(format!("cannot resolve {:?}: {e}", target.host)),
        Err(_) => return Err(format!("cannot resolve {:?}: timed out", target.host)),
    };
    if addrs.is_empty() {
        return Err(format!("cannot resolve {:?}: no address", target.host));
    }

    let start = Instant::now();
    let end = match spec.duration {
        Some(d) => deadline_after(start, d),
        None => deadline_after(start, Duration::MAX),
    };
    let conns = match spec.requests {
        Some(n) => spec
            .concurrency
            .min(usize::try_from(n).unwrap_or(usize::MAX)),
        None => spec.concurrency,
    };
    let shared = Arc::new(Shared {
        addrs,
        uri,
        host,
        issued: AtomicU64::new(0),
        limit: spec.requests,
        end,
        timeout: spec.timeout,
    });

    let mut tasks = Vec::with_capacity(conns);
    for _ in 0..conns {
        let tally = Tally::new()?;
        let shared = Arc::clone(&shared);
        tasks.push(AbortOnDrop(tokio::spawn(connection_task(shared, tally))));
    }
    let mut total = Tally::new()?;
    let mut failed = false;
    for task in &mut tasks {
        match (&mut task.0).await {
            Ok(t) => total.merge(&t),
            Err(_) => failed = true,
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    if failed {
        return Err("a load connection task failed unexpectedly".to_string());
    }
    Ok(summarize(&total, elapsed, spec.concurrency))
}

fn summarize(t: &Tally, elapsed: f64, concurrency: usize) -> LoadResult {
    let completed = t.ok + t.non_2xx;
    let requests = completed + t.transport_errors + t.timeouts;
    let errors = t.non_2xx + t.transport_errors + t.timeouts;
    let secs = |us: u64| us as f64 / 1e6;
    let (p50, p95, p99, max, mean) = if completed == 0 {
        (0.0, 0.0, 0.0, 0.0, 0.0)
    } else {
        (
            secs(t.hist.value_at_quantile(0.50)),
            secs(t.hist.value_at_quantile(0.95)),
            secs(t.hist.value_at_quantile(0.99)),
            secs(t.max_us),
            t.sum_us as f64 / completed as f64 / 1e6,
        )
    };
    LoadResult {
        requests,
        ok: t.ok,
        non_2xx: t.non_2xx,
        transport_errors: t.transport_errors,
        timeouts: t.timeouts,
        elapsed_seconds: elapsed,
        throughput: if elapsed > 0.0 {
            completed as f64 / elapsed
        } else {
            0.0
        },
        error_rate: if requests == 0 {
            0.0
        } else {
            errors as f64 / requests as f64
        },
        p50_seconds: p50,
        p95_seconds: p95,
        p99_seconds: p99,
        max_seconds: max,
        mean_seconds: mean,
        bytes_received: t.bytes,
        concurrency,
    }
}

/// Convenience for sync callers: builds a multi-thread runtime (worker threads = available
/// cores) and runs [`run`]. Safe to call from inside another runtime (it then runs on a
/// helper thread and blocks the caller).
pub fn run_blocking(spec: &LoadSpec) -> Result<LoadResult, String> {
    let go = || -> Result<LoadResult, String> {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the async runtime: {e}"))?;
        rt.block_on(run(spec))
    };
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| {
            s.spawn(go)
                .join()
                .unwrap_or_else(|_| Err("load generator thread failed".to_string()))
        })
    } else {
        go()
    }
}

/// How one request attempt ended.
enum Outcome {
    /// A full response: status, body bytes.
    Response(u16, u64),
    Transport,
    Timeout,
    /// The connection was closed cleanly before the request was sent (e.g. after a
    /// `Connection: close` response): reconnect and retry with the same slot.
    Closed,
    /// The run is over (duration reached): abandon, do not count.
    Ended,
}

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

/// Opens a connection (TCP + HTTP/1 handshake), bounded by `deadline`, and spawns the task
/// that drives it. `Err(true)`: the run ended; `Err(false)`: failed.
async fn connect(shared: &Shared, deadline: Instant) -> Result<(Sender, AbortOnDrop<()>), bool> {
    let limit = deadline.min(shared.end);
    let attempt = async {
        let stream = TcpStream::connect(&shared.addrs[..]).await.ok()?;
        let _ = stream.set_nodelay(true);
        hyper::client::conn::http1::Builder::new()
            // One plain write per request head: cheaper than writev for a single buffer.
            .writev(false)
            .handshake(TokioIo::new(stream))
            .await
            .ok()
    };
    match tokio::time::timeout_at(limit.into(), attempt).await {
        Ok(Some((sender, conn))) => {
            // The connection runs in its own task (measured faster than driving it inside
            // the request task); it ends when the sender is dropped or the peer closes, and
            // is aborted when the guard is dropped in any case.
            let driver = tokio::spawn(async move {
                let _ = conn.await;
            });
            Ok((sender, AbortOnDrop(driver)))
        }
        Ok(None) => Err(false),
        Err(_) => Err(Instant::now() >= shared.end),
    }
}

async fn connection_task(shared: Arc<Shared>, mut tally: Tally) -> Tally {
    let mut backoff = BACKOFF_START;
    // A slot taken but not yet spent (kept across a clean reconnect).
    let mut have_slot = false;
    'connections: loop {
        let connect_start = Instant::now();
        if !have_slot {
            if !shared.take_slot(connect_start) {
                break;
            }
            have_slot = true;
        }
        let connect_deadline = deadline_after(connect_start, shared.timeout);
        let (mut sender, _driver) = match connect(&shared, connect_deadline).await {
            Ok(pair) => pair,
            Err(true) => break,
            Err(false) => {
                // The failed attempt spends its slot.
                have_slot = false;
                if Instant::now() >= connect_deadline {
                    tally.timeouts += 1;
                } else {
                    tally.transport_errors += 1;
                }
                if !pause(&shared, &mut backoff).await {
                    break;
                }
                continue;
            }
        };
        // Lazily re-armed timer: it only ever fires early (armed from an older request), and
        // is then moved to the current request's deadline, so it is reset at most once per
        // timeout period instead of once per request.
        let mut timer = pin!(tokio::time::sleep_until(
            connect_deadline.min(shared.end).into()
        ));
        // The first request's clock starts at connect, so its timeout covers the connect.
        let mut started = connect_start;
        // A connection closed before its first response is a failure, not a clean close
        // (else a server that accepts and hangs up would make us spin on reconnects).
        let mut served = false;
        loop {
            if !have_slot {
                if !shared.take_slot(started) {
                    break 'connections;
                }
                have_slot = true;
            }
            let deadline = deadline_after(started, shared.timeout).min(shared.end);
            let outcome = one_request(&shared, &mut sender, timer.as_mut(), deadline).await;
            // One clock read per request: the end of this one is the start of the next.
            let now = Instant::now();
            match outcome {
                Outcome::Response(status, bytes) => {
                    have_slot = false;
                    tally.record_latency(now.saturating_duration_since(started));
                    tally.bytes += bytes;
                    if (200..300).contains(&status) {
                        tally.ok += 1;
                    } else {
                        tally.non_2xx += 1;
                    }
                    backoff = BACKOFF_START;
                    started = now;
                    served = true;
                }
                Outcome::Closed if served => continue 'connections,
                Outcome::Timeout => {
                    have_slot = false;
                    tally.timeouts += 1;
                    continue 'connections;
                }
                Outcome::Transport | Outcome::Closed => {
                    have_slot = false;
                    tally.transport_errors += 1;
                    if !pause(&shared, &mut backoff).await {
                        break 'connections;
                    }
                    continue 'connections;
                }
                Outcome::Ended => break 'connections,
            }
        }
    }
    tally
}

/// Sleeps the backoff (bounded by the end of the run) and doubles it; `false` if the run
/// ended meanwhile.
async fn pause(shared: &Shared, backoff: &mut Duration) -> bool {
    let until = deadline_after(Instant::now(), *backoff).min(shared.end);
    tokio::time::sleep_until(until.into()).await;
    *backoff = (*backoff * 2).min(BACKOFF_MAX);
    Instant::now() < shared.end
}

/// Sends one request on an established connection and drains its response, bounded by
/// `deadline` (the request's timeout or the end of the run, whichever is first).
async fn one_request(
    shared: &Shared,
    sender: &mut Sender,
    mut timer: Pin<&mut tokio::time::Sleep>,
    deadline: Instant,
) -> Outcome {
    // Wait until the connection can take a request (it normally can at once); an error
    // means it was closed, e.g. after a `Connection: close` response.
    if !sender.is_ready() {
        let mut ready = pin!(sender.ready());
        loop {
            tokio::select! {
                biased;
                r = &mut ready => match r {
                    Ok(()) => break,
                    Err(_) => return Outcome::Closed,
                },
                _ = &mut timer => {
                    if let Some(o) = on_timer(shared, timer.as_mut(), deadline) {
                        return o;
                    }
                }
            }
        }
    }

    let mut exchange = pin!(exchange(sender, shared.request()));
    loop {
        tokio::select! {
            biased;
            r = &mut exchange => return r,
            _ = &mut timer => {
                if let Some(o) = on_timer(shared, timer.as_mut(), deadline) {
                    return o;
                }
            }
        }
    }
}

/// The timer fired: the end of the run or a timeout if the deadline has passed, else re-arm
/// it for the current deadline.
fn on_timer(
    shared: &Shared,
    timer: Pin<&mut tokio::time::Sleep>,
    deadline: Instant,
) -> Option<Outcome> {
    let now = Instant::now();
    if now >= shared.end {
        return Some(Outcome::Ended);
    }
    if now >= deadline {
        // The connection is dropped and reopened with a fresh timer.
        return Some(Outcome::Timeout);
    }
    timer.reset(deadline.into());
    None
}

/// Sends the request and drains the response body, counting its bytes without keeping them.
fn exchange(sender: &mut Sender, req: Request<Empty<Bytes>>) -> impl Future<Output = Outcome> {
    let sent = sender.send_request(req);
    async move {
        let resp = match sent.await {
            Ok(r) => r,
            Err(_) => return Outcome::Transport,
        };
        let status = resp.status().as_u16();
        let mut body = resp.into_body();
        let mut bytes = 0u64;
        loop {
            match body.frame().await {
                None => break,
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        bytes += data.len() as u64;
                    }
                }
                Some(Err(_)) => return Outcome::Transport,
            }
        }
        Outcome::Response(status, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    fn spec(url: String) -> LoadSpec {
        LoadSpec {
            url,
            concurrency: 4,
            requests: None,
            duration: None,
            timeout: Duration::from_secs(2),
        }
    }

    /// An axum server on 127.0.0.1:0 that lives as long as the test runtime.
    async fn axum_server(router: axum::Router) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        addr
    }

    async fn fast_server() -> SocketAddr {
        use axum::routing::get;
        axum_server(axum::Router::new().route("/", get(|| async { "ok\n" }))).await
    }

    /// A hand-written responder: reads a request head, then calls `respond` with the
    /// stream. Stops on its own after 30 s.
    async fn raw_server<F, Fut>(respond: F) -> SocketAddr
    where
        F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let respond = Arc::new(respond);
        tokio::spawn(async move {
            let stop = tokio::time::sleep(Duration::from_secs(30));
            tokio::pin!(stop);
            loop {
                tokio::select! {
                    _ = &mut stop => break,
                    a = listener.accept() => {
                        let Ok((s, _)) = a else { break };
                        let respond = Arc::clone(&respond);
                        tokio::spawn(async move { respond(s).await });
                    }
                }
            }
        });
        addr
    }

    /// Reads until the end of a request head; `false` on EOF/error.
    async fn read_head(s: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
        loop {
            if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                buf.drain(..pos + 4);
                return true;
            }
            let mut chunk = [0u8; 1024];
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    #[test]
    fn parses_urls() {
        let t = parse_url("http://127.0.0.1:8080/metrics?x=1").unwrap();
        assert_eq!(t.host, "127.0.0.1");
        assert_eq!(t.port, 8080);
        assert_eq!(t.authority, "127.0.0.1:8080");
        assert_eq!(t.path_and_query, "/metrics?x=1");

        let t = parse_url("http://localhost").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("localhost", 80));
        assert_eq!(t.authority, "localhost");
        assert_eq!(t.path_and_query, "/");

        let t = parse_url("HTTP://[::1]:9090?q#frag").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 9090));
        assert_eq!(t.authority, "[::1]:9090");
        assert_eq!(t.path_and_query, "/?q");

        let t = parse_url("http://[::1]/a/b").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 80));
        assert_eq!(t.path_and_query, "/a/b");

        for bad in [
            "",
            "http://",
            "http:///x",
            "127.0.0.1:80",
            "ftp://host/",
            "http://host:0/",
            "http://host:99999/",
            "http://host:abc/",
            "http://[::1/",
            "http://[::1]x/",
            "http://[zz]/",
            "http://::1/",
            "http://user:pw@host/",
            "http://:80/",
            "http://\u{e9}\u{0}:80/",
        ] {
            assert!(parse_url(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[tokio::test]
    async fn https_is_an_error() {
        let mut s = spec("https://127.0.0.1:1/".into());
        s.requests = Some(1);
        let err = run(&s).await.unwrap_err();
        assert!(err.contains("https"), "{err}");
    }

    #[tokio::test]
    async fn rejects_bad_specs() {
        let base = spec("http://127.0.0.1:1/".into());
        assert!(run(&base).await.unwrap_err().contains("unbounded"));
        let mut s = base.clone();
        s.requests = Some(1);
        s.concurrency = 0;
        assert!(run(&s).await.is_err());
        s.concurrency = usize::MAX;
        assert!(run(&s).await.is_err());
        s.concurrency = 1;
        s.timeout = Duration::ZERO;
        assert!(run(&s).await.is_err());
        s.timeout = Duration::from_secs(1);
        s.url = "http://bad host/".into();
        assert!(run(&s).await.is_err());
        s.url = "http://127.0.0.1:1/a path".into();
        assert!(run(&s).await.unwrap_err().contains("path"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fast_server_counts_and_percentiles() {
        let addr = fast_server().await;
        let mut s = spec(format!("http://{addr}/"));
        s.duration = Some(Duration::from_millis(500));
        let r = run(&s).await.unwrap();
        assert!(r.requests > 100, "{r:?}");
        assert_eq!(r.ok, r.requests, "{r:?}");
        assert_eq!(r.non_2xx + r.transport_errors + r.timeouts, 0, "{r:?}");
        assert_eq!(r.error_rate, 0.0);
        assert_eq!(r.bytes_received, 3 * r.ok);
        assert!(
            r.elapsed_seconds >= 0.45 && r.elapsed_seconds < 2.0,
            "{r:?}"
        );
        assert!(r.throughput > 0.0);
        let expected = r.ok as f64 / r.elapsed_seconds;
        assert!((r.throughput - expected).abs() < 1e-6 * expected);
        assert!(r.p50_seconds > 0.0, "{r:?}");
        assert!(r.p50_seconds <= r.p95_seconds, "{r:?}");
        assert!(r.p95_seconds <= r.p99_seconds, "{r:?}");
        assert!(r.p99_seconds <= r.max_seconds * 1.001, "{r:?}");
        assert!(
            r.mean_seconds > 0.0 && r.mean_seconds <= r.max_seconds,
            "{r:?}"
        );
        assert!(r.max_seconds < 2.0, "{r:?}");
        assert_eq!(r.concurrency, 4);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn exact_request_count() {
        let addr = fast_server().await;
        let mut s = spec(format!("http://{addr}/"));
        s.requests = Some(500);
        s.concurrency = 7;
        let r = run(&s).await.unwrap();
        assert_eq!(r.requests, 500, "{r:?}");
        assert_eq!(r.ok, 500, "{r:?}");
        assert_eq!(r.bytes_received, 1500);

        // Extreme durations must not overflow or panic.
        s.requests = Some(20);
        s.duration = Some(Duration::MAX);
        s.timeout = Duration::MAX;
        let r = run(&s).await.unwrap();
        assert_eq!((r.requests, r.ok), (20, 20));
        s.duration = None;
        s.timeout = Duration::from_secs(2);

        // Fewer requests than connections, and zero requests.
        s.requests = Some(3);
        let r = run(&s).await.unwrap();
        assert_eq!((r.requests, r.ok), (3, 3));
        s.requests = Some(0);
        let r = run(&s).await.unwrap();
        assert_eq!(r.requests, 0);
        assert_eq!(r.error_rate, 0.0);
        assert_eq!(r.p99_seconds, 0.0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn server_errors_give_error_rate_one() {
        use axum::http::StatusCode;
        use axum::routing::get;
        let addr = axum_server(axum::Router::new().route(
            "/",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        ))
        .await;
        let mut s = spec(format!("http://{addr}/"));
        s.requests = Some(200);
        let r = run(&s).await.unwrap();
        assert_eq!(r.requests, 200);
        assert_eq!(r.non_2xx, 200);
        assert_eq!(r.ok, 0);
        assert_eq!(r.error_rate, 1.0);
        assert!(r.p50_seconds > 0.0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn path_query_and_host_are_sent() {
        use axum::extract::RawQuery;
        use axum::http::HeaderMap;
        use axum::routing::get;
        let addr = axum_server(axum::Router::new().route(
            "/metrics",
            get(|q: RawQuery, h: HeaderMap| async move {
                let host_ok = h
                    .get("host")
                    .is_some_and(|v| v.as_bytes().starts_with(b"127.0.0.1:"));
                if q.0.as_deref() == Some("a=1&b=2") && host_ok {
                    "fine"
                } else {
                    "wrong-path"
                }
            }),
        ))
        .await;
        let mut s = spec(format!("http://{addr}/metrics?a=1&b=2"));
        s.requests = Some(10);
        let r = run(&s).await.unwrap();
        assert_eq!(r.ok, 10);
        assert_eq!(r.bytes_received, 40, "{r:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connection_close_server_still_works() {
        let addr = raw_server(|mut s| async move {
            let mut buf = Vec::new();
            if read_head(&mut s, &mut buf).await {
                let _ = s
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
                    )
                    .await;
            }
            let _ = s.shutdown().await;
        })
        .await;
        let mut s = spec(format!("http://{addr}/"));
        s.requests = Some(300);
        let r = run(&s).await.unwrap();
        assert_eq!(r.requests, 300, "{r:?}");
        assert_eq!(r.ok, 300, "{r:?}");
        assert_eq!(r.bytes_received, 1500);

        // HTTP/1.0-style: no length, body ends at close.
        let addr = raw_server(|mut s| async move {
            let mut buf = Vec::new();
            if read_head(&mut s, &mut buf).await {
                let _ = s.write_all(b"HTTP/1.0 200 OK\r\n\r\nbye").await;
            }
            let _ = s.shutdown().await;
        })
        .await;
        let mut s = spec(format!("http://{addr}/"));
        s.requests = Some(50);
        let r = run(&s).await.unwrap();
        assert_eq!((r.requests, r.ok, r.bytes_received), (50, 50, 150), "{r:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn silent_server_times_out_in_bounded_time() {
        let addr = raw_server(|mut s| async move {
            // Read forever, never answer (until the client goes away).
            let mut chunk = [0u8; 1024];
            while let Ok(n) = s.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
            }
        })
        .await;
        let mut s = spec(format!("http://{addr}/"));
        s.concurrency = 3;
        s.timeout = Duration::from_millis(200);
        s.requests = Some(6);
        let t0 = Instant::now();
        let r = run(&s).await.unwrap();
        assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
        assert_eq!((r.requests, r.timeouts), (6, 6), "{r:?}");
        assert_eq!(r.error_rate, 1.0);
        assert_eq!(r.throughput, 0.0);

        // Duration-bounded: in-flight requests are abandoned at the end.
        s.requests = None;
        s.timeout = Duration::from_secs(60);
        s.duration = Some(Duration::from_millis(300));
        let t0 = Instant::now();
        let r = run(&s).await.unwrap();
        assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
        assert_eq!(r.requests, 0, "{r:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unreachable_port_gives_transport_errors() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut s = spec(format!("http://127.0.0.1:{port}/"));
        s.duration = Some(Duration::from_millis(400));
        let t0 = Instant::now();
        let r = run(&s).await.unwrap();
        assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
        assert!(r.transport_errors > 0, "{r:?}");
        // The backoff keeps the retry rate low: a handful per connection, not thousands.
        assert!(r.transport_errors < 4 * 40, "{r:?}");
        assert_eq!(r.ok, 0);
        assert_eq!(r.error_rate, 1.0);

        s.duration = None;
        s.requests = Some(20);
        let t0 = Instant::now();
        let r = run(&s).await.unwrap();
        assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
        assert_eq!((r.requests, r.transport_errors), (20, 20), "{r:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn large_body_is_drained_not_buffered() {
        // 64 MiB chunked body per response, 2 responses.
        const CHUNK: usize = 1 << 20;
        const CHUNKS: usize = 64;
        let addr = raw_server(|mut s| async move {
            let mut buf = Vec::new();
            let chunk = vec![b'x'; CHUNK];
            while read_head(&mut s, &mut buf).await {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
                    CHUNK * CHUNKS
                );
                if s.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                for _ in 0..CHUNKS {
                    if s.write_all(&chunk).await.is_err() {
                        return;
                    }
                }
            }
        })
        .await;
        let mut s = spec(format!("http://{addr}/big"));
        s.concurrency = 1;
        s.requests = Some(2);
        s.timeout = Duration::from_secs(20);
        let r = run(&s).await.unwrap();
        assert_eq!((r.requests, r.ok), (2, 2), "{r:?}");
        assert_eq!(r.bytes_received, 2 * (CHUNK * CHUNKS) as u64);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn garbage_and_resets_are_transport_errors() {
        let addr = raw_server(|mut s| async move {
            let mut buf = Vec::new();
            if read_head(&mut s, &mut buf).await {
                let _ = s.write_all(b"NOT HTTP AT ALL\r\n\r\n").await;
            }
        })
        .await;
        let mut s = spec(format!("http://{addr}/"));
        s.requests = Some(20);
        let r = run(&s).await.unwrap();
        assert_eq!((r.requests, r.transport_errors), (20, 20), "{r:?}");

        // Truncated body: Content-Length larger than what is sent, then close.
        let addr = raw_server(|mut s| async move {
            let mut buf = Vec::new();
            if read_head(&mut s, &mut buf).await {
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
                    .await;
            }
        })
        .await;
        let mut s = spec(format!("http://{addr}/"));
        s.requests = Some(20);
        let r = run(&s).await.unwrap();
        assert_eq!((r.requests, r.transport_errors), (20, 20), "{r:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hang_up_server_gives_transport_errors_without_spinning() {
        // Accepts and closes at once, before any response.
        let addr = raw_server(|s| async move { drop(s) }).await;
        let mut s = spec(format!("http://{addr}/"));
        s.requests = Some(20);
        let t0 = Instant::now();
        let r = run(&s).await.unwrap();
        assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
        assert_eq!((r.requests, r.transport_errors), (20, 20), "{r:?}");

        s.requests = None;
        s.duration = Some(Duration::from_millis(300));
        let r = run(&s).await.unwrap();
        assert!(r.transport_errors > 0, "{r:?}");
        assert!(r.transport_errors < 4 * 40, "backoff: {r:?}");
        assert_eq!(r.ok, 0);
    }

    #[test]
    fn run_needs_a_tokio_runtime() {
        let mut s = spec("http://127.0.0.1:1/".into());
        s.requests = Some(1);
        // A minimal executor that is not tokio: the future must return an error, not panic.
        let fut = pin!(run(&s));
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut fut = fut;
        match fut.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(r) => assert!(r.unwrap_err().contains("tokio")),
            std::task::Poll::Pending => panic!("expected an immediate error"),
        }
    }

    #[test]
    fn run_blocking_works_with_and_without_a_runtime() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let addr = rt.block_on(fast_server());
        let mut s = spec(format!("http://{addr}/"));
        s.requests = Some(50);
        let r = run_blocking(&s).unwrap();
        assert_eq!(r.ok, 50);
        // From inside a runtime: must not panic.
        let r = rt.block_on(async { run_blocking(&s) }).unwrap();
        assert_eq!(r.ok, 50);
    }
}
