//! `obsgate probe`: boot the service (optional), wait until it is ready (polling with backoff,
//! never a fixed sleep), scrape `/metrics` (negotiating OpenMetrics like Prometheus) and read
//! `/health`, and measure it under a bounded load. The results become sources of the project
//! (the scrape body is a virtual file, so exposition findings have line:column positions in
//! it) and the probe-aware checks judge them together with the rule files.

pub mod boot;
pub mod exporter;
pub mod guard;
pub mod load;

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// One service to probe.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Target {
    pub name: String,
    /// `http://host:port` (no trailing slash).
    pub base: String,
    pub metrics_path: String,
    pub health_path: String,
    pub boot: Option<String>,
    #[serde(skip)]
    pub ready_timeout: Duration,
    /// JSON fields `/health` must carry (dotted paths: `checks.database.status`).
    pub health_required: Vec<String>,
    /// `/health` slower than this is a finding.
    #[serde(skip)]
    pub health_budget: Duration,
    /// The path the load check requests (default: the health path).
    pub load_path: String,
}

impl Default for Target {
    fn default() -> Self {
        Target {
            name: String::new(),
            base: String::new(),
            metrics_path: "/metrics".into(),
            health_path: "/health".into(),
            boot: None,
            ready_timeout: Duration::from_secs(30),
            health_required: Vec::new(),
            health_budget: Duration::from_secs(1),
            load_path: "/health".into(),
        }
    }
}

/// Bounds of the load check; `None` in [`Options::load`]: no load check.
#[derive(Debug, Clone)]
pub struct LoadSettings {
    pub requests: Option<u64>,
    pub duration: Option<Duration>,
    pub concurrency: usize,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub load: Option<LoadSettings>,
    /// Per scrape/health request (Prometheus' default scrape timeout is 10 s).
    pub timeout: Duration,
    /// Largest body read from a target; the rest is dropped (and reported).
    pub max_body: usize,
    /// Show a spinner with the current step on stderr (only on a terminal).
    pub progress: bool,
    /// Refuse link-local and cloud metadata addresses on every connection ([`guard`]: the
    /// exporter's probes).
    pub guard: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            load: None,
            timeout: Duration::from_secs(10),
            max_body: 64 * 1024 * 1024,
            progress: false,
            guard: false,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Fetched {
    pub url: String,
    pub status: u16,
    pub content_type: String,
    pub seconds: f64,
    pub bytes: usize,
    /// The body was larger than `max_body` and was cut there.
    pub truncated: bool,
    /// Kept in probe records (`--record`, with its secrets redacted), not in the JSON report.
    /// Shared: the project's source of the scrape is this text, not a copy.
    #[serde(skip_serializing_if = "str_is_empty", serialize_with = "redacted_body")]
    pub body: std::sync::Arc<str>,
}

/// A body as a probe record keeps it: tokens in label values, passwords in `/health`
/// (`"password": ...`, database URLs) redacted.
fn redacted_body<S: serde::Serializer>(body: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::secrets::redact_in(body))
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct TargetResult {
    pub name: String,
    pub base: String,
    /// Seconds from start (or boot) until the target answered.
    pub ready_seconds: Option<f64>,
    /// Why the target could not be probed at all.
    pub unreachable: Option<String>,
    /// The last lines the booted service printed (when it failed or never got ready).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_output: Option<String>,
    pub metrics: Option<Fetched>,
    /// Why `/metrics` could not be read (the target answered something else).
    pub metrics_error: Option<String>,
    pub health: Option<Fetched>,
    pub health_error: Option<String>,
    pub load: Option<load::LoadResult>,
    pub target: Option<Target>,
}

/// A probe record (`obsgate probe --record FILE`, read back by `obsgate check FILE.probe.json`):
/// the results of a probe with the bodies it read, so that one job can probe a service and
/// another judge the scrape (or a test replay it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub obsgate_probe: u32,
    pub targets: Vec<TargetResult>,
}

impl TargetResult {
    /// Redact what the result quotes of the target and its service: the password of the
    /// target URL (also in every URL and error that quotes it), the boot command's argv and
    /// environment, the service's output. The bodies are redacted when a record is written.
    pub fn redact(&mut self) {
        // the URL's password, also where it is quoted without its URL (a name made of the
        // URL's authority)
        let base = self.target.as_ref().map_or(&self.base, |t| &t.base);
        let passwords = crate::secrets::text_spans(base)
            .into_iter()
            .filter_map(|s| base.get(s).map(str::to_string))
            .chain(
                crate::secrets::text_spans(&self.base)
                    .into_iter()
                    .filter_map(|s| self.base.get(s).map(str::to_string)),
            )
            .collect::<Vec<_>>();
        let redactor = crate::secrets::Redactor::new(passwords);
        let red = |s: &mut String| {
            if let std::borrow::Cow::Owned(r) = redactor.redact_in(s) {
                *s = r;
            }
        };
        red(&mut self.base);
        red(&mut self.name);
        for s in [
            &mut self.unreachable,
            &mut self.boot_output,
            &mut self.metrics_error,
            &mut self.health_error,
        ]
        .into_iter()
        .flatten()
        {
            red(s);
        }
        for f in [&mut self.metrics, &mut self.health].into_iter().flatten() {
            red(&mut f.url);
        }
        if let Some(t) = &mut self.target {
            red(&mut t.base);
            red(&mut t.name);
            // `/metrics?token=...`
            red(&mut t.metrics_path);
            red(&mut t.health_path);
            red(&mut t.load_path);
            if let Some(b) = &mut t.boot {
                red(b);
            }
        }
    }
}

impl Record {
    pub fn parse(text: &str) -> Result<Vec<TargetResult>, String> {
        let r: Record = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if r.obsgate_probe != 1 {
            return Err(format!(
                "unsupported probe record version {} (1 expected)",
                r.obsgate_probe
            ));
        }
        Ok(r.targets
            .into_iter()
            .map(|mut t| {
                t.redact();
                // a recorded target without its settings: the defaults, at its base URL
                if t.target.is_none() {
                    t.target = Some(Target {
                        name: t.name.clone(),
                        base: t.base.clone(),
                        ..Target::default()
                    });
                }
                t
            })
            .collect())
    }
}

/// Why `path` cannot be the path of a target's endpoint (`metrics_path`, `health_path`, the load
/// path): it must be an absolute path (`/metrics`, optionally with a query), so that the URL
/// built from it and the target's base stays on the target's host. A path without its `/` is
/// glued to the host (`@[::1]:19003/stolen` makes the host user information), `//host` reads as
/// an authority, `\` is a `/` to URL parsers, and `#` would cut the query.
pub fn check_path(path: &str) -> Result<(), String> {
    let why = if !path.starts_with('/') {
        "must start with `/`"
    } else if path.starts_with("//") {
        "must not start with `//`"
    } else if path.contains('@') {
        "must not contain `@`"
    } else if path.contains('\\') {
        "must not contain `\\`"
    } else if path.contains('#') {
        "must not contain `#`"
    } else if path.chars().any(|c| c.is_control() || c.is_whitespace()) {
        "must not contain spaces or control characters"
    } else {
        return Ok(());
    };
    Err(format!("the path {path:?} {why}"))
}

/// The URL of `path` (checked with [`check_path`]) on the target at `base`, built from parts: the
/// base's scheme, user information, host and port; its path with `path` appended; the query of
/// `path`. The result is checked to have the base's host and port.
pub fn url_of(base: &str, path: &str) -> Result<String, String> {
    check_path(path)?;
    let mut url =
        reqwest::Url::parse(base).map_err(|e| format!("`{base}` is not a valid URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("`{base}` is not an http(s) URL"));
    }
    let host = url.host_str().map(str::to_string);
    let port = url.port_or_known_default();
    if host.is_none() {
        return Err(format!("`{base}` has no host"));
    }
    let (p, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let prefix = url.path().trim_end_matches('/').to_string();
    url.set_path(&format!("{prefix}{p}"));
    url.set_query(query);
    url.set_fragment(None);
    if url.host_str().map(str::to_string) != host || url.port_or_known_default() != port {
        return Err(format!("`{path}` moves the request off `{base}`"));
    }
    Ok(url.into())
}

fn client(timeout: Duration, guard: bool) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        // a probe never follows redirects to somewhere else
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    if guard {
        b = b.dns_resolver(std::sync::Arc::new(guard::Resolver));
    }
    b.build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

fn str_is_empty(s: &std::sync::Arc<str>) -> bool {
    s.is_empty()
}

/// A response body read into one allocation made before the first byte: as large as the body's
/// `Content-Length`, or the cap without one (memory of a fresh allocation becomes resident only
/// where it is written, so a small body of an uncapped size costs its size).
struct BodyBuf {
    buf: std::sync::Arc<[std::mem::MaybeUninit<u8>]>,
    len: usize,
}

impl BodyBuf {
    fn with_capacity(capacity: usize) -> BodyBuf {
        BodyBuf {
            buf: std::sync::Arc::new_uninit_slice(capacity),
            len: 0,
        }
    }

    /// Appends what fits of `bytes`; false when some did not.
    fn push(&mut self, bytes: &[u8]) -> bool {
        let slots = std::sync::Arc::get_mut(&mut self.buf).expect("the buffer is not shared");
        let n = bytes.len().min(slots.len() - self.len);
        let dst = &mut slots[self.len..self.len + n];
        // SAFETY: `dst` has `n` writable bytes (the slice bounds are checked) and cannot
        // overlap `bytes`, a separate allocation.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst.as_mut_ptr().cast(), n) };
        self.len += n;
        n == bytes.len()
    }

    /// The body as text (invalid UTF-8 replaced): the buffer itself when the body filled it
    /// (a body cut at the cap, an exact `Content-Length`), else a copy of exactly its size.
    fn into_text(self) -> std::sync::Arc<str> {
        use std::sync::Arc;
        let bytes: Arc<[u8]> = if self.len == self.buf.len() {
            // SAFETY: all `len` bytes were written by `push`.
            unsafe { self.buf.assume_init() }
        } else {
            // SAFETY: the first `len` bytes were written by `push`; `MaybeUninit<u8>` and `u8`
            // have the same layout.
            let written =
                unsafe { std::slice::from_raw_parts(self.buf.as_ptr().cast::<u8>(), self.len) };
            Arc::from(written)
        };
        match std::str::from_utf8(&bytes) {
            // SAFETY: `[u8]` and `str` have the same layout, and the bytes are valid UTF-8.
            Ok(_) => unsafe { Arc::from_raw(Arc::into_raw(bytes) as *const str) },
            Err(_) => Arc::from(String::from_utf8_lossy(&bytes).as_ref()),
        }
    }
}

/// GET a URL, reading at most `max_body` bytes of the body.
///
/// The body is read into one allocation ([`BodyBuf`]) and never past `max_body` (the rest is not
/// read: the connection is dropped): no buffer that doubles (an endless body cut at 16 MiB held
/// 32 MiB of buffers and their garbage), and the project's source of the body is that
/// allocation, not another copy. What a fetch holds is the cap and the connection's buffers.
pub async fn fetch(
    client: &reqwest::Client,
    url: &str,
    accept: Option<&str>,
    max_body: usize,
) -> Result<Fetched, String> {
    let start = Instant::now();
    let mut req = client.get(url);
    if let Some(a) = accept {
        req = req.header(reqwest::header::ACCEPT, a);
    }
    let mut resp = req.send().await.map_err(|e| describe(&e))?;
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let capacity = resp.content_length().map_or(max_body, |n| {
        usize::try_from(n).unwrap_or(usize::MAX).min(max_body)
    });
    let mut body = BodyBuf::with_capacity(capacity);
    let mut truncated = false;
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                if !body.push(&c) {
                    truncated = true;
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => return Err(describe(&e)),
        }
    }
    // the rest of an endless body is not read
    drop(resp);
    let bytes = body.len;
    Ok(Fetched {
        url: url.to_string(),
        status,
        content_type,
        seconds: start.elapsed().as_secs_f64(),
        bytes,
        truncated,
        body: body.into_text(),
    })
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "connection refused or unreachable".to_string()
    } else {
        let mut s = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(x) = src {
            s.push_str(": ");
            s.push_str(&x.to_string());
            src = x.source();
        }
        s
    }
}

/// Shortest timeout of one readiness poll, even when `ready_timeout` is nearly spent.
const MIN_POLL_TIMEOUT: Duration = Duration::from_millis(250);

/// Poll the health path (then the metrics path) with backoff until one answers 2xx, the
/// timeout passes, or the booted service exits.
async fn wait_ready(
    client: &reqwest::Client,
    request_timeout: Duration,
    t: &Target,
    booted: &mut Option<boot::Booted>,
) -> Result<f64, String> {
    let start = Instant::now();
    let mut delay = Duration::from_millis(50);
    let mut last = String::from("no answer yet");
    loop {
        for path in [&t.health_path, &t.metrics_path] {
            let url = url_of(&t.base, path)?;
            let mut req = client.get(&url);
            // a target that accepts connections and never answers must not stretch the wait
            // past `ready_timeout` by a request timeout per poll (each attempt still gets a
            // moment to answer); zero means one attempt bounded by the client's own timeout
            if !t.ready_timeout.is_zero() {
                let left = t.ready_timeout.saturating_sub(start.elapsed());
                req = req.timeout(left.max(MIN_POLL_TIMEOUT).min(request_timeout));
            }
            match req.send().await {
                Ok(r) if r.status().is_success() => return Ok(start.elapsed().as_secs_f64()),
                Ok(r) => last = format!("{url} answered {}", r.status().as_u16()),
                Err(e) => last = format!("{url}: {}", describe(&e)),
            }
        }
        if let Some(b) = booted.as_mut() {
            if let Some(status) = b.exited() {
                return Err(format!(
                    "`{}` exited ({status}) before {} answered",
                    b.command, t.base
                ));
            }
        }
        if start.elapsed() >= t.ready_timeout {
            return Err(format!(
                "not ready after {:.0?} (last: {last})",
                t.ready_timeout
            ));
        }
        tokio::time::sleep(delay.min(t.ready_timeout.saturating_sub(start.elapsed()))).await;
        delay = (delay * 2).min(Duration::from_secs(1));
    }
}

/// Probe one target (boot it when it has a boot command).
pub async fn probe_one(t: &Target, opts: &Options) -> TargetResult {
    let spinner = opts.progress.then(|| {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.enable_steady_tick(Duration::from_millis(120));
        pb
    });
    let step = |m: String| {
        if let Some(pb) = &spinner {
            pb.set_message(crate::secrets::redact_in(&m));
        }
    };
    let mut r = probe_steps(t, opts, &step).await;
    r.redact();
    if let Some(pb) = spinner {
        pb.finish_and_clear();
    }
    r
}

async fn probe_steps(t: &Target, opts: &Options, step: &(dyn Fn(String) + Sync)) -> TargetResult {
    let mut r = TargetResult {
        name: t.name.clone(),
        base: t.base.clone(),
        target: Some(t.clone()),
        ..TargetResult::default()
    };
    let client = match client(opts.timeout, opts.guard) {
        Ok(c) => c,
        Err(e) => {
            r.unreachable = Some(e);
            return r;
        }
    };
    // every URL of the probe, built before anything is booted or requested
    let urls = url_of(&t.base, &t.metrics_path).and_then(|m| {
        Ok((
            m,
            url_of(&t.base, &t.health_path)?,
            url_of(&t.base, &t.load_path)?,
        ))
    });
    let (metrics_url, health_url, load_url) = match urls {
        Ok(u) => u,
        Err(e) => {
            r.unreachable = Some(e);
            return r;
        }
    };
    let mut booted = None;
    if let Some(cmd) = &t.boot {
        step(format!("{}: booting `{cmd}`", t.name));
        match boot::boot(cmd, &[]) {
            Ok(b) => booted = Some(b),
            Err(e) => {
                r.unreachable = Some(e);
                return r;
            }
        }
    }
    step(format!("{}: waiting for {} to be ready", t.name, t.base));
    match wait_ready(&client, opts.timeout, t, &mut booted).await {
        Ok(s) => r.ready_seconds = Some(s),
        Err(e) => {
            r.unreachable = Some(e);
            r.boot_output = booted.as_ref().map(|b| b.output_tail(20));
            return r;
        }
    }
    step(format!("{}: scraping {}", t.name, t.metrics_path));
    let accept = crate::parse::exposition::accept_header();
    match fetch(&client, &metrics_url, Some(accept), opts.max_body).await {
        Ok(f) => r.metrics = Some(f),
        Err(e) => r.metrics_error = Some(e),
    }
    match fetch(&client, &health_url, None, 1024 * 1024).await {
        Ok(f) => r.health = Some(f),
        Err(e) => r.health_error = Some(e),
    }
    if let Some(l) = &opts.load {
        step(format!(
            "{}: load check ({} connections{}{})",
            t.name,
            l.concurrency,
            l.requests
                .map(|n| format!(", {n} requests"))
                .unwrap_or_default(),
            l.duration.map(|d| format!(", {d:?}")).unwrap_or_default()
        ));
        let spec = load::LoadSpec {
            url: load_url,
            concurrency: l.concurrency.max(1),
            requests: l.requests,
            duration: l.duration,
            timeout: opts.timeout,
        };
        if let Ok(res) = load::run(&spec).await {
            r.load = Some(res);
        }
    }
    if let Some(mut b) = booted {
        b.stop();
    }
    r
}

/// Probe every target (one after the other: a booted service must not compete with another
/// one's load check).
pub fn probe_all(targets: &[Target], opts: &Options) -> Vec<TargetResult> {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return targets
                .iter()
                .map(|t| TargetResult {
                    name: t.name.clone(),
                    base: t.base.clone(),
                    unreachable: Some(format!("cannot start the async runtime: {e}")),
                    target: Some(t.clone()),
                    ..TargetResult::default()
                })
                .collect()
        }
    };
    rt.block_on(async {
        let mut out = Vec::new();
        for t in targets {
            out.push(probe_one(t, opts).await);
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_buffers() {
        let mut b = BodyBuf::with_capacity(5);
        assert!(b.push(b"ab") && b.push(b"") && b.push("c\u{e9}".as_bytes()));
        assert!(!b.push(b"x"));
        assert_eq!(&*b.into_text(), "abc\u{e9}");
        // shorter than the buffer
        let mut b = BodyBuf::with_capacity(100);
        assert!(b.push(b"short"));
        assert_eq!(&*b.into_text(), "short");
        assert_eq!(&*BodyBuf::with_capacity(0).into_text(), "");
        // a char cut by the cap
        let mut b = BodyBuf::with_capacity(3);
        assert!(!b.push("ok\u{e9}".as_bytes()));
        assert_eq!(b.len, 3);
        assert_eq!(&*b.into_text(), "ok\u{fffd}");
    }

    #[test]
    fn urls_are_built_from_parts() {
        let ok = [
            (
                "http://127.0.0.1:8080",
                "/metrics",
                "http://127.0.0.1:8080/metrics",
            ),
            ("http://h:9/app", "/metrics", "http://h:9/app/metrics"),
            (
                "http://h:9/app/",
                "/m?format=text&x=1",
                "http://h:9/app/m?format=text&x=1",
            ),
            ("https://u:p@h", "/health", "https://u:p@h/health"),
            ("http://[::1]:9100", "/a/../b", "http://[::1]:9100/b"),
            ("http://h", "/%2F%2Fother/x", "http://h/%2F%2Fother/x"),
        ];
        for (base, path, url) in ok {
            assert_eq!(url_of(base, path).as_deref(), Ok(url), "{base} {path}");
        }
        for (base, path) in [
            ("http://127.0.0.1:8080", "@[::1]:19003/stolen"),
            ("http://127.0.0.1:8080", "@169.254.169.254/latest"),
            ("http://127.0.0.1:8080", "/x@169.254.169.254"),
            ("http://127.0.0.1:8080", "//169.254.169.254/x"),
            ("http://127.0.0.1:8080", "/\\169.254.169.254"),
            ("http://127.0.0.1:8080", "http://169.254.169.254/"),
            ("http://127.0.0.1:8080", ".evil.example/x"),
            ("http://127.0.0.1:8080", ":19003/x"),
            ("http://127.0.0.1:8080", "metrics"),
            ("http://127.0.0.1:8080", ""),
            ("http://127.0.0.1:8080", "/m#frag"),
            ("http://127.0.0.1:8080", "/m\r\nHost: x"),
            ("http://127.0.0.1:8080", "/m x"),
            ("ftp://h", "/m"),
            ("not a url", "/m"),
        ] {
            assert!(url_of(base, path).is_err(), "{base} {path}");
        }
    }
}
