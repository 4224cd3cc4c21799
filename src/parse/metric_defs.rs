//! Prometheus metric definitions in application source code: prom-client (JavaScript and
//! TypeScript), client_golang (Go) and prometheus_client (Python).
//!
//! Not a parser for those languages: a small tokenizer per language (identifiers, numbers,
//! strings with their prefixes, raw and triple-quoted forms, template literals, JS regex
//! literals; comments dropped, so text in comments and strings never yields a definition),
//! bracket matching, and targeted patterns over the tokens. Layout does not matter: multi-line
//! literals, any key order, quoted JS keys, trailing commas, nested brackets.
//!
//! # Evidence rules (other libraries have `Counter`s too)
//!
//! * **JavaScript**: `new Q.Kind(` or `new Kind(` (Kind: Counter, Gauge, Histogram, Summary; TS
//!   generic arguments allowed). Taken when `Q` is bound to prom-client (`const Q =
//!   require('prom-client')`, `import Q from`, `import * as Q from`, `import Q = require(..)`)
//!   or `Kind` to one of its exports (`const { Histogram: H } = require('prom-client')`,
//!   `import { Histogram as H } from 'prom-client'`, `const { Counter } = Q`). A name bound to
//!   another module is refused; an unbound one is taken only when the file has a string literal
//!   `'prom-client'`. `collectDefaultMetrics(` follows the same rule.
//! * **Go**: the file imports `github.com/prometheus/client_golang/prometheus[/...]`.
//!   `X.NewCounter[Vec|Func](`, `X.NewGauge[Vec|Func](`, `X.NewHistogram[Vec](`,
//!   `X.NewSummary[Vec](` count when the call chain starts at the (aliased) `prometheus` or
//!   `promauto` package (`promauto.With(reg).NewX(` too), or when the first argument is a
//!   `prometheus.XxxOpts{...}` literal (a `promauto.Factory` variable).
//! * **Python**: `Counter(`, `Gauge(`, `Histogram(`, `Summary(` bound by `from prometheus_client
//!   import ...` (aliases and `*` included), or `M.Counter(` with `M` bound by `import
//!   prometheus_client [as M]` (or a submodule imported from it). `def`/`class` lines are
//!   skipped. `Info` and `Enum` are ignored.
//!
//! # Names
//!
//! JS: `name` as written (prom-client adds nothing, not even `_total`). Go: `BuildFQName`, the
//! non-empty `Namespace`, `Subsystem`, `Name` joined by `_`. Python: the name a rule selects:
//! `namespace_subsystem_name`, plus `_unit` if `unit` is given and not already the suffix; a
//! Counter's written `_total` is stripped and `_total` appended (the library's `x_total`
//! series; it also exposes `x_created`); histograms and summaries keep the base name.
//!
//! String constants assigned once in the file are resolved (`const namespace = "x"`,
//! top-level `NAMESPACE = 'x'`, `const PREFIX = 'x'`), and so are `+` concatenations.
//! `name_span` is the content of the name literal (of the constant's literal for a constant, the
//! whole expression for a concatenation): it slices back to `name` for literal JS names and for
//! Go names without namespace/subsystem; for the others it covers the `Name`/`name` part.
//!
//! `buckets_span` is the span of the buckets expression whenever one is given; `buckets` is
//! `Some` when its values are known (literal numbers, `linearBuckets`/`exponentialBuckets`/
//! `LinearBuckets`/`ExponentialBuckets`/`ExponentialBucketsRange` with literal arguments,
//! `DefBuckets`/`DEFAULT_BUCKETS`); `buckets_default` is true when the library default applies
//! (no buckets given, or `DefBuckets`/`DEFAULT_BUCKETS`).
//!
//! Not handled: names from template literals, f-strings or `fmt.Sprintf` (reported as problems,
//! as are options passed as variables), prom-client's positional (pre-v12) constructor, Go
//! `NewDesc` collectors, `ConstLabels`, client_golang's `V2` API, Python `Info`/`Enum`, label
//! lists in variables (`labels_known: false`), wrappers that re-export the libraries.

use regex::Regex;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::LazyLock;

/// Source language of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// `.js .mjs .cjs .ts .mts .cts .tsx .jsx` (prom-client)
    JavaScript,
    /// `.go` (client_golang)
    Go,
    /// `.py` (prometheus_client)
    Python,
}

/// Does a source file mention a Prometheus client library (cheap pre-filter for discovery)?
pub fn mentions_client(src: &str) -> bool {
    src.contains("prom-client")
        || src.contains("prometheus/client_golang")
        || src.contains("prometheus_client")
}

/// The language of a source file, by extension.
pub fn lang_for_path(path: &str) -> Option<Lang> {
    let file = path.rsplit(['/', '\\']).next().unwrap_or(path);
    match file.rsplit_once('.')?.1.to_ascii_lowercase().as_str() {
        "js" | "mjs" | "cjs" | "ts" | "mts" | "cts" | "tsx" | "jsx" => Some(Lang::JavaScript),
        "go" => Some(Lang::Go),
        "py" => Some(Lang::Python),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    Summary,
}

impl MetricType {
    pub fn as_str(self) -> &'static str {
        match self {
            C => "counter",
            G => "gauge",
            H => "histogram",
            S => "summary",
        }
    }
}

use MetricType::{Counter as C, Gauge as G, Histogram as H, Summary as S};

/// One metric constructor call (see the module documentation for `name` and the spans).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricDef {
    pub name: String,
    pub name_span: Range<usize>,
    pub kind: MetricType,
    /// `Histogram` in `new client.Histogram(`, `NewHistogramVec`, `Histogram(` (or its alias).
    pub kind_span: Range<usize>,
    pub help: Option<String>,
    /// Label names with the spans of their literals' contents (the readable entries).
    pub labels: Vec<(String, Range<usize>)>,
    /// False when the label list is not a literal of strings (a variable, a spread, ...).
    pub labels_known: bool,
    pub buckets: Option<Vec<f64>>,
    pub buckets_span: Option<Range<usize>>,
    pub buckets_default: bool,
    /// The whole call, from `new` or the first qualifier to the closing parenthesis.
    pub span: Range<usize>,
}

/// A call that exposes the library's default metrics ([`default_metric_names`]): JS
/// `collectDefaultMetrics(..)`; Go `NewGoCollector`/`NewProcessCollector` (prometheus or
/// collectors package) and `promhttp.Handler()` (default registry: both collectors); Python
/// `ProcessCollector`/`PlatformCollector`/`GCCollector`, and `start_http_server`,
/// `start_wsgi_server`, `make_wsgi_app`, `make_asgi_app`, `generate_latest` on the default
/// `REGISTRY` (where the three collectors register at import). `prefix`: prom-client's
/// `prefix`, or the process collector's namespace plus `_`.
#[derive(Debug, Clone, PartialEq)]
pub struct DefaultMetrics {
    pub span: Range<usize>,
    pub prefix: Option<String>,
    pub lang: Lang,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    pub defs: Vec<MetricDef>,
    pub defaults: Vec<DefaultMetrics>,
    /// Calls of the library whose definition could not be read, with the reason.
    pub problems: Vec<(Range<usize>, String)>,
}

/// Default histogram buckets: prom-client and client_golang `DefBuckets`; prometheus_client
/// `Histogram.DEFAULT_BUCKETS` (more entries, and `+Inf`).
pub fn default_buckets(lang: Lang) -> &'static [f64] {
    const INF: f64 = f64::INFINITY;
    match lang {
        Lang::Python => &[
            0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, INF,
        ],
        _ => &[
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ],
    }
}

/// prom-client 15.x `collectDefaultMetrics()` on Linux, without prefix. (13.x/14.0 lack
/// `nodejs_active_resources*`; off Linux there are no fd gauges, no `process_heap_bytes` and
/// no `process_virtual_memory_bytes`.) c/g/h/s: counter, gauge, histogram, summary.
const JS_DEFAULTS: &str = "c process_cpu_user_seconds_total, c process_cpu_system_seconds_total,
    c process_cpu_seconds_total, g process_start_time_seconds, g process_resident_memory_bytes,
    g process_virtual_memory_bytes, g process_heap_bytes, g process_open_fds, g process_max_fds,
    g nodejs_eventloop_lag_seconds, g nodejs_eventloop_lag_min_seconds,
    g nodejs_eventloop_lag_max_seconds, g nodejs_eventloop_lag_mean_seconds,
    g nodejs_eventloop_lag_stddev_seconds, g nodejs_eventloop_lag_p50_seconds,
    g nodejs_eventloop_lag_p90_seconds, g nodejs_eventloop_lag_p99_seconds,
    g nodejs_active_resources, g nodejs_active_resources_total, g nodejs_active_handles,
    g nodejs_active_handles_total, g nodejs_active_requests, g nodejs_active_requests_total,
    g nodejs_heap_size_total_bytes, g nodejs_heap_size_used_bytes, g nodejs_external_memory_bytes,
    g nodejs_heap_space_size_total_bytes, g nodejs_heap_space_size_used_bytes,
    g nodejs_heap_space_size_available_bytes, g nodejs_version_info, h nodejs_gc_duration_seconds";

/// client_golang 1.20+ (Go 1.21+ runtime) default Go collector (base, MemStats-like and the
/// default runtime/metrics set) and Linux process collector (network counters since 1.20).
const GO_DEFAULTS: &str = "s go_gc_duration_seconds, g go_goroutines, g go_threads, g go_info,
    g go_memstats_last_gc_time_seconds, g go_memstats_alloc_bytes, c go_memstats_alloc_bytes_total,
    g go_memstats_sys_bytes, c go_memstats_mallocs_total, c go_memstats_frees_total,
    g go_memstats_heap_alloc_bytes, g go_memstats_heap_sys_bytes, g go_memstats_heap_idle_bytes,
    g go_memstats_heap_inuse_bytes, g go_memstats_heap_released_bytes, g go_memstats_heap_objects,
    g go_memstats_stack_inuse_bytes, g go_memstats_stack_sys_bytes, g go_memstats_mspan_inuse_bytes,
    g go_memstats_mspan_sys_bytes, g go_memstats_mcache_inuse_bytes, g go_memstats_mcache_sys_bytes,
    g go_memstats_buck_hash_sys_bytes, g go_memstats_gc_sys_bytes, g go_memstats_other_sys_bytes,
    g go_memstats_next_gc_bytes, g go_gc_gogc_percent, g go_gc_gomemlimit_bytes,
    g go_sched_gomaxprocs_threads, c process_cpu_seconds_total, g process_open_fds,
    g process_max_fds, g process_virtual_memory_bytes, g process_virtual_memory_max_bytes,
    g process_resident_memory_bytes, g process_start_time_seconds,
    c process_network_receive_bytes_total, c process_network_transmit_bytes_total";

/// prometheus_client 0.17-0.21 default `REGISTRY`: ProcessCollector (Linux only), GCCollector
/// (CPython), PlatformCollector.
const PY_DEFAULTS: &str = "g process_virtual_memory_bytes, g process_resident_memory_bytes,
    g process_start_time_seconds, c process_cpu_seconds_total, g process_open_fds,
    g process_max_fds, c python_gc_objects_collected_total, c python_gc_objects_uncollectable_total,
    c python_gc_collections_total, g python_info";

type Table = Vec<(&'static str, MetricType)>;

static DEFAULTS: LazyLock<[Table; 3]> = LazyLock::new(|| {
    [JS_DEFAULTS, GO_DEFAULTS, PY_DEFAULTS].map(|t| {
        let entry = |e: &'static str| {
            let (k, name) = e.trim().split_once(' ')?;
            let kind = [("c", C), ("g", G), ("h", H), ("s", S)]
                .into_iter()
                .find(|x| x.0 == k)?;
            Some((name, kind.1))
        };
        t.split(',').filter_map(entry).collect()
    })
});

/// The metrics the library's default collectors expose (names without prefix).
pub fn default_metric_names(lang: Lang) -> &'static [(&'static str, MetricType)] {
    &DEFAULTS[lang as usize]
}

/// Pre-filter: a file without any of these words has nothing for us.
static HINT: LazyLock<Regex> = LazyLock::new(|| {
    let words = "Counter|Gauge|Histogram|Summary|collectDefaultMetrics|Collector|promhttp|\
                 start_http_server|start_wsgi_server|make_wsgi_app|make_asgi_app|generate_latest";
    Regex::new(words).expect("valid regex")
});

/// Metric definitions, default-metrics calls and unreadable definitions of one source file.
pub fn extract(lang: Lang, src: &str) -> Extracted {
    if !HINT.is_match(src) {
        return Extracted::default();
    }
    let t = lex(lang, src);
    let mat = match_brackets(&t);
    let out = Extracted::default();
    let mut cx = Cx {
        lang,
        src,
        t,
        mat,
        consts: HashMap::new(),
        out,
    };
    cx.collect_consts();
    match lang {
        Lang::JavaScript => cx.run_js(),
        Lang::Go => cx.run_go(),
        Lang::Python => cx.run_py(),
    }
    cx.out
}

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tk {
    Id,
    /// `None`: not a static value (substitution, f-string field) or unterminated.
    Str(Option<String>),
    Num(Option<f64>),
    P(u8),
    /// Regex literal, Go rune literal.
    Other,
}

#[derive(Debug, Clone)]
struct Tok {
    tk: Tk,
    span: Range<usize>,
    /// A string's content between the quotes; `span` for other tokens.
    inner: Range<usize>,
}

fn tok(tk: Tk, span: Range<usize>) -> Tok {
    Tok {
        tk,
        inner: span.clone(),
        span,
    }
}

/// Bytes >= 0x80 are identifier bytes, so token boundaries stay on char boundaries.
fn is_id_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

fn line_end(b: &[u8], i: usize) -> usize {
    b[i..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| i + p)
}

/// A string body from `i` (after the opening quote) to the closing `q`:
/// (content end, token end, terminated).
fn scan_body(b: &[u8], mut i: usize, q: &[u8], esc: bool, multiline: bool) -> (usize, usize, bool) {
    while i < b.len() {
        if esc && b[i] == b'\\' {
            i += 2;
        } else if b[i..].starts_with(q) {
            return (i, i + q.len(), true);
        } else if b[i] == b'\n' && !multiline {
            return (i, i, false);
        } else {
            i += 1;
        }
    }
    (b.len(), b.len(), false)
}

/// A JS template literal body: (content end, end, has a substitution).
fn scan_template(b: &[u8], mut i: usize, depth: u32) -> (usize, usize, bool) {
    let mut subst = false;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'`' => return (i, i + 1, subst),
            b'$' if b.get(i + 1) == Some(&b'{') => {
                subst = true;
                let mut level = 1usize;
                i += 2;
                while i < b.len() && level > 0 {
                    match b[i] {
                        b'{' => level += 1,
                        b'}' => level -= 1,
                        b'`' if depth < 32 => i = scan_template(b, i + 1, depth + 1).1 - 1,
                        q @ (b'\'' | b'"') => {
                            i = scan_body(b, i + 1, &[q], true, false).1.max(i + 1) - 1
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    (b.len(), b.len(), subst)
}

fn lex_number(b: &[u8], mut i: usize) -> usize {
    let hex = b[i] == b'0' && matches!(b.get(i + 1), Some(b'x' | b'X'));
    let mut dot = false;
    while let Some(&c) = b.get(i) {
        if !hex && matches!(c, b'e' | b'E') && matches!(b.get(i + 1), Some(b'+' | b'-')) {
            i += 2;
        } else if c.is_ascii_alphanumeric() || c == b'_' {
            i += 1;
        } else if c == b'.' && !dot && !hex && b.get(i + 1) != Some(&b'.') {
            (dot, i) = (true, i + 1);
        } else {
            break;
        }
    }
    i
}

fn parse_num(s: &str) -> Option<f64> {
    let t = s.replace('_', "").to_ascii_lowercase();
    let t = t.strip_suffix('n').unwrap_or(&t); // JS BigInt
    for (p, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(r) = t.strip_prefix(p) {
            return u64::from_str_radix(r, radix).ok().map(|v| v as f64);
        }
    }
    let ok = t
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'+' | b'-'));
    t.parse().ok().filter(|_| ok)
}

/// Backslash escapes: `\n \t \r \0`, line continuation; any other escaped char stands for
/// itself (`\xHH`/`\u` sequences are not decoded).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        match (c, c == '\\') {
            (_, false) => out.push(c),
            _ => match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('0') => out.push('\0'),
                Some('\n') => {}
                Some(o) => out.push(o),
                None => out.push('\\'),
            },
        }
    }
    out
}

/// Whether `/` starts a regex literal after the previous token.
fn regex_allowed(src: &str, prev: Option<&Tok>) -> bool {
    const KW: &[&str] = &[
        "return", "typeof", "case", "do", "else", "in", "of", "new", "throw",
    ];
    match prev.map(|t| &t.tk) {
        None => true,
        Some(Tk::P(c)) => b"(,=:[!&|?{};+-*%<>~^".contains(c),
        Some(Tk::Id) => prev.is_some_and(|t| KW.contains(&src.get(t.span.clone()).unwrap_or(""))),
        _ => false,
    }
}

fn lex(lang: Lang, src: &str) -> Vec<Tok> {
    let (b, n) = (src.as_bytes(), src.len());
    let (js, py) = (lang == Lang::JavaScript, lang == Lang::Python);
    let mut out: Vec<Tok> = Vec::new();
    let mut i = if b.starts_with(b"#!") {
        line_end(b, 0)
    } else {
        0
    };
    while i < n {
        let (c, next, start) = (b[i], b.get(i + 1).copied(), i);
        if c.is_ascii_whitespace() {
            i += 1;
        } else if (py && c == b'#') || (!py && c == b'/' && next == Some(b'/')) {
            i = line_end(b, i);
        } else if !py && c == b'/' && next == Some(b'*') {
            i = src[i + 2..].find("*/").map_or(n, |p| i + p + 4);
        } else if is_id_byte(c) && !c.is_ascii_digit() {
            while i < n && is_id_byte(b[i]) {
                i += 1;
            }
            let pfx = src[start..i].to_ascii_lowercase();
            let str_prefix = ["r", "u", "b", "f", "rb", "br", "fr", "rf"].contains(&pfx.as_str());
            if py && str_prefix && matches!(b.get(i), Some(b'\'' | b'"')) {
                let t = py_string(src, start, i, &pfx);
                i = t.span.end;
                out.push(t);
            } else {
                out.push(tok(Tk::Id, start..i));
            }
        } else if c.is_ascii_digit() || (c == b'.' && next.is_some_and(|d| d.is_ascii_digit())) {
            i = lex_number(b, i);
            out.push(tok(Tk::Num(parse_num(&src[start..i])), start..i));
        } else if py && matches!(c, b'\'' | b'"') {
            let t = py_string(src, i, i, "");
            i = t.span.end;
            out.push(t);
        } else if matches!(c, b'\'' | b'"') || (c == b'`' && !js) {
            let raw = c == b'`';
            let (ce, end, ok) = scan_body(b, i + 1, &[c], !raw, raw);
            let body = &src[i + 1..ce];
            let value = ok.then(|| {
                if raw {
                    body.replace('\r', "")
                } else {
                    unescape(body)
                }
            });
            let tk = if c == b'\'' && !js {
                Tk::Other
            } else {
                Tk::Str(value)
            };
            out.push(Tok {
                tk,
                span: i..end,
                inner: i + 1..ce,
            });
            i = end;
        } else if c == b'`' {
            let (ce, end, subst) = scan_template(b, i + 1, 0);
            let value = (end > ce && !subst).then(|| unescape(&src[i + 1..ce]));
            out.push(Tok {
                tk: Tk::Str(value),
                span: i..end,
                inner: i + 1..ce,
            });
            i = end;
        } else if c == b'/' && js && regex_allowed(src, out.last()) {
            let (mut j, mut class) = (i + 1, false);
            while j < n && b[j] != b'\n' && (b[j] != b'/' || class) {
                match b[j] {
                    b'\\' => j += 1,
                    b'[' => class = true,
                    b']' => class = false,
                    _ => {}
                }
                j += 1;
            }
            if j < n && b[j] == b'/' {
                j += 1;
                while j < n && is_id_byte(b[j]) {
                    j += 1;
                }
                out.push(tok(Tk::Other, i..j));
                i = j;
            } else {
                out.push(tok(Tk::P(c), i..i + 1));
                i += 1;
            }
        } else {
            out.push(tok(Tk::P(c), i..i + 1)); // ASCII: bytes >= 0x80 are identifier bytes
            i += 1;
        }
    }
    out
}

/// A Python string literal; `start`: the prefix, `q`: the opening quote.
fn py_string(src: &str, start: usize, q: usize, pfx: &str) -> Tok {
    let b = src.as_bytes();
    let ql = if b[q..].starts_with(&[b[q]; 3]) { 3 } else { 1 };
    let (ce, end, ok) = scan_body(b, q + ql, &b[q..q + ql], true, ql == 3);
    let body = &src[q + ql..ce];
    let value = if !ok {
        None
    } else if pfx.contains('f') {
        // an f-string is static only without replacement fields
        let static_ = !body.replace("{{", "").contains('{');
        static_.then(|| body.replace("{{", "{").replace("}}", "}"))
    } else if pfx.contains('r') {
        Some(body.to_string())
    } else {
        Some(unescape(body))
    };
    Tok {
        tk: Tk::Str(value),
        span: start..end,
        inner: q + ql..ce,
    }
}

/// Partner of every matched bracket. A closer pairs with the nearest opener of its kind among
/// the innermost 32 (unmatched openers in between stay unmatched), or stays unmatched.
fn match_brackets(toks: &[Tok]) -> Vec<Option<usize>> {
    let mut mat = vec![None; toks.len()];
    let mut stack: Vec<(usize, u8)> = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let open = match t.tk {
            Tk::P(c @ (b'(' | b'[' | b'{')) => {
                stack.push((i, c));
                continue;
            }
            Tk::P(b')') => b'(',
            Tk::P(b']') => b'[',
            Tk::P(b'}') => b'{',
            _ => continue,
        };
        if let Some(d) = stack.iter().rev().take(32).position(|&(_, o)| o == open) {
            let p = stack.len() - 1 - d;
            let j = stack[p].0;
            stack.truncate(p);
            (mat[i], mat[j]) = (Some(j), Some(i));
        }
    }
    mat
}

// ---------------------------------------------------------------------------------------------
// Patterns
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Bind {
    /// The module itself.
    Ns(String),
    /// An export of a module: (module, exported name).
    Member(String, String),
}

type Binds = HashMap<String, Bind>;

const GO_PKG: &str = "github.com/prometheus/client_golang/prometheus";

fn is_lib(lang: Lang, m: &str) -> bool {
    match lang {
        Lang::JavaScript => m == "prom-client" || m.starts_with("prom-client/"),
        Lang::Go => m
            .strip_prefix(GO_PKG)
            .is_some_and(|r| r.is_empty() || r.starts_with('/')),
        Lang::Python => m == "prometheus_client" || m.starts_with("prometheus_client."),
    }
}

fn kind_of(name: &str) -> Option<MetricType> {
    [
        ("Counter", C),
        ("Gauge", G),
        ("Histogram", H),
        ("Summary", S),
    ]
    .into_iter()
    .find_map(|(n, k)| (n == name).then_some(k))
}

/// Call arguments, or the entries of an object / struct literal.
#[derive(Default)]
struct Args {
    pos: Vec<Range<usize>>,
    named: Vec<(String, Range<usize>)>,
    /// `...x`, `*a`, `**kw`: there may be entries we cannot see.
    spread: bool,
}

impl Args {
    fn get(&self, key: &str, idx: Option<usize>) -> Option<Range<usize>> {
        let named = self
            .named
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, r)| r.clone());
        named.or_else(|| self.pos.get(idx?).cloned())
    }
}

/// Token ranges of a definition's parts.
struct Parts {
    help: Option<Range<usize>>,
    labels: Option<Range<usize>>,
    buckets: Option<Range<usize>>,
    /// Entries may hide in a spread: a missing one is unknown rather than absent.
    opaque: bool,
}

struct Cx<'a> {
    lang: Lang,
    src: &'a str,
    t: Vec<Tok>,
    mat: Vec<Option<usize>>,
    /// String constants (None: assigned different values).
    consts: HashMap<String, Option<(String, Range<usize>)>>,
    out: Extracted,
}

impl<'a> Cx<'a> {
    fn tx(&self, i: usize) -> &'a str {
        let src: &'a str = self.src;
        self.t
            .get(i)
            .and_then(|t| src.get(t.span.clone()))
            .unwrap_or("")
    }
    fn p(&self, i: usize, c: u8) -> bool {
        self.t.get(i).is_some_and(|t| t.tk == Tk::P(c))
    }
    fn id(&self, i: usize) -> bool {
        self.t.get(i).is_some_and(|t| t.tk == Tk::Id)
    }
    fn kw(&self, i: usize, w: &str) -> bool {
        self.id(i) && self.tx(i) == w
    }
    fn sv(&self, i: usize) -> Option<String> {
        match &self.t.get(i)?.tk {
            Tk::Str(v) => v.clone(),
            _ => None,
        }
    }
    /// The closer matching the opener at `i`.
    fn cl(&self, i: usize) -> Option<usize> {
        self.mat.get(i).copied().flatten().filter(|&c| c > i)
    }
    fn start(&self, i: usize) -> usize {
        self.t.get(i).map_or(self.src.len(), |t| t.span.start)
    }
    fn end(&self, i: usize) -> usize {
        self.t.get(i).map_or(self.src.len(), |t| t.span.end)
    }
    /// Byte span of a non-empty token range.
    fn bspan(&self, r: Range<usize>) -> Range<usize> {
        let a = self.start(r.start);
        a..self.end(r.end.wrapping_sub(1)).max(a)
    }
    fn problem(&mut self, span: Range<usize>, msg: &str) -> Option<()> {
        self.out.problems.push((span, msg.to_string()));
        None
    }
    fn unterminated(&mut self, start: usize, open: usize) -> Option<()> {
        self.problem(start..self.end(open), "unterminated call")
    }
    /// Skip a bracket group starting at `i` if it closes before `end`.
    fn skip(&self, i: usize, end: usize) -> usize {
        self.cl(i).filter(|&c| c < end).map_or(i + 1, |c| c + 1)
    }

    /// Split a token range at top-level commas (empty parts dropped).
    fn split(&self, r: Range<usize>) -> Vec<Range<usize>> {
        let (mut out, mut s, mut i) = (Vec::new(), r.start, r.start);
        while i < r.end {
            if self.p(i, b',') {
                if i > s {
                    out.push(s..i);
                }
                (s, i) = (i + 1, i + 1);
            } else {
                i = self.skip(i, r.end);
            }
        }
        if r.end > s {
            out.push(s..r.end);
        }
        out
    }

    /// Entries `key <sep> value` (JS: also quoted keys and `{ name }` shorthand), spreads, and
    /// the rest as positional.
    fn args(&self, r: Range<usize>, sep: u8) -> Args {
        let mut a = Args::default();
        for seg in self.split(r) {
            let s = seg.start;
            let js = self.lang == Lang::JavaScript;
            if (self.p(s, b'.') && self.p(s + 1, b'.')) || (!js && self.p(s, b'*')) {
                a.spread = true;
                continue;
            }
            let key = match &self.t[s].tk {
                Tk::Id => Some(self.tx(s).to_string()),
                Tk::Str(Some(v)) if js => Some(v.clone()),
                _ => None,
            };
            match key {
                Some(k) if seg.len() >= 3 && self.p(s + 1, sep) && !self.p(s + 2, b'=') => {
                    a.named.push((k, s + 2..seg.end))
                }
                Some(k) if js && seg.len() == 1 && self.id(s) => a.named.push((k, seg)),
                _ => a.pos.push(seg),
            }
        }
        a
    }

    /// Drop a trailing TypeScript `as const` / `as T` / `satisfies T`.
    fn trim(&self, r: Range<usize>) -> Range<usize> {
        let mut i = r.start;
        while self.lang == Lang::JavaScript && i < r.end {
            if i > r.start && (self.kw(i, "as") || self.kw(i, "satisfies")) {
                return r.start..i;
            }
            i = self.skip(i, r.end);
        }
        r
    }

    /// A string: literal, known constant, or `+` concatenation of those (Python: also adjacent
    /// literals); with its span (see the module documentation).
    fn eval_str(&self, r: Range<usize>) -> Option<(String, Range<usize>)> {
        let r = self.trim(r);
        let (mut out, mut span, mut parts, mut want) = (String::new(), None, 0, true);
        for i in r.clone() {
            let tk = &self.t.get(i)?.tk;
            if !want && self.p(i, b'+') {
                want = true;
                continue;
            }
            if !(want || self.lang == Lang::Python && matches!(tk, Tk::Str(_))) {
                return None;
            }
            let (v, sp) = match tk {
                Tk::Str(Some(v)) => (v, &self.t[i].inner),
                Tk::Id if !self.p(i + 1, b'.') && !self.p(i + 1, b'(') => {
                    let c = self.consts.get(self.tx(i))?.as_ref()?;
                    (&c.0, &c.1)
                }
                _ => return None,
            };
            out.push_str(v);
            (span, parts, want) = (Some(sp.clone()), parts + 1, false);
        }
        let span = if parts == 1 { span? } else { self.bspan(r) };
        (!want).then_some((out, span))
    }

    /// A number: literal with signs, or the language's spelling of infinity.
    fn eval_num(&self, r: Range<usize>) -> Option<f64> {
        let r = self.trim(r);
        let (mut i, mut sign) = (r.start, 1.0);
        while self.p(i, b'-') || self.p(i, b'+') {
            sign = if self.p(i, b'-') { -sign } else { sign };
            i += 1;
        }
        let words: Vec<&str> = (i..r.end).map(|k| self.tx(k)).collect();
        let v = match (&self.t.get(i)?.tk, words.as_slice()) {
            (Tk::Num(v), [_]) => (*v)?,
            (_, ["Infinity"] | ["Number", ".", "POSITIVE_INFINITY"] | ["math", ".", "inf"]) => {
                f64::INFINITY
            }
            (_, ["math", ".", "Inf", "(", x, ")"]) => f64::INFINITY.copysign(x.parse().ok()?),
            (_, ["math", ".", "Inf", "(", "-", _, ")"]) => f64::NEG_INFINITY,
            (_, ["float", "(", _, ")"]) => self.sv(i + 2)?.trim().parse().ok()?,
            _ => return None,
        };
        Some(sign * v)
    }

    /// Elements of a list literal: JS/Python `[..]`, Python `(..)`, Go `[]T{..}`.
    fn eval_list(&self, r: Range<usize>) -> Option<Vec<Range<usize>>> {
        let r = self.trim(r);
        let open = match self.lang {
            Lang::Go if self.p(r.start, b'[') => {
                (self.cl(r.start)? + 1..r.end).find(|&o| self.p(o, b'{'))?
            }
            Lang::Python if self.p(r.start, b'(') => r.start,
            Lang::JavaScript | Lang::Python if self.p(r.start, b'[') => r.start,
            _ => return None,
        };
        let close = self.cl(open)?;
        (close + 1 == r.end).then(|| self.split(open + 1..close))
    }

    fn eval_labels(&self, r: Range<usize>) -> (Vec<(String, Range<usize>)>, bool) {
        if self.lang == Lang::Go && r.len() == 1 && self.tx(r.start) == "nil" {
            return (Vec::new(), true);
        }
        let elems = self.eval_list(r);
        let (mut out, mut known) = (Vec::new(), elems.is_some());
        for e in elems.unwrap_or_default() {
            match self.eval_str(e) {
                Some(s) => out.push(s),
                None => known = false,
            }
        }
        (out, known)
    }

    /// (values when known, library default applies)
    fn eval_buckets(&mut self, r: Range<usize>) -> (Option<Vec<f64>>, bool) {
        if let Some(elems) = self.eval_list(r.clone()) {
            return (elems.into_iter().map(|e| self.eval_num(e)).collect(), false);
        }
        let last = r.end - 1;
        let call = self.mat[last].filter(|&o| self.p(last, b')') && o > r.start);
        let f = self.tx(call.map_or(last, |o| o - 1));
        if call.is_none() && (f == "DefBuckets" || f == "DEFAULT_BUCKETS") {
            return (Some(default_buckets(self.lang).to_vec()), true);
        }
        let args: Vec<_> = match call {
            Some(o) => self
                .split(o + 1..last)
                .into_iter()
                .map(|e| self.eval_num(e))
                .collect(),
            None => return (None, false),
        };
        let [Some(a), Some(b), Some(n)] = args[..] else {
            return (None, false);
        };
        let v = gen_buckets(self.lang, f, a, b, n);
        if let Err(msg) = &v {
            self.problem(self.bspan(r), msg);
        }
        (v.ok().flatten(), false)
    }

    /// Root identifier of the chain `a.b(..).c` ending at the `.` at `dot` (calls: Go only).
    fn chain_root(&self, dot: usize, calls: bool) -> Option<usize> {
        let mut j = dot.checked_sub(1)?;
        for _ in 0..16 {
            if calls && self.p(j, b')') {
                j = self.mat[j].filter(|&o| o < j)?.checked_sub(1)?;
            } else if !self.id(j) {
                return None;
            } else if j >= 2 && self.p(j - 1, b'.') {
                j -= 2;
            } else {
                return Some(j);
            }
        }
        None
    }

    /// The library export a call refers to (see the evidence rules).
    fn accept(&self, b: &Binds, fallback: bool, qual: Option<&str>, name: &str) -> Option<String> {
        let lib = |m: &str| is_lib(self.lang, m);
        let ok = match (qual.map(|q| b.get(q)), b.get(name), b.get("*")) {
            (Some(Some(Bind::Ns(m) | Bind::Member(m, _))), _, _) => lib(m),
            (None, Some(Bind::Member(m, e)), _) => return lib(m).then(|| e.clone()),
            (None, Some(Bind::Ns(_)), _) => false,
            (None, None, Some(Bind::Member(m, _))) => lib(m) || fallback,
            _ => fallback,
        };
        ok.then(|| name.to_string())
    }

    /// String constants: JS `const|let|var X = '..'`, Go `X = ".."` / `X string = ".."` /
    /// `X := ".."`, Python top-level `X = '..'` / `X: str = '..'`.
    fn collect_consts(&mut self) {
        let mut depth = 0usize;
        for i in 0..self.t.len() {
            match self.t[i].tk {
                Tk::P(b'(' | b'[' | b'{') => depth += 1,
                Tk::P(b')' | b']' | b'}') => depth = depth.saturating_sub(1),
                _ => {}
            }
            let Tk::Str(Some(v)) = &self.t[i].tk else {
                continue;
            };
            let next = self.t.get(i + 1).map(|t| &t.tk);
            let more = matches!(
                next,
                Some(Tk::Str(_) | Tk::P(b'+' | b'.' | b'[' | b'(' | b'%' | b'*' | b'?'))
            );
            if more || !self.p(i.wrapping_sub(1), b'=') {
                continue;
            }
            let (a, b, c) = (i.wrapping_sub(2), i.wrapping_sub(3), i.wrapping_sub(4));
            let name = match self.lang {
                Lang::JavaScript => ["const", "let", "var"].contains(&self.tx(b)).then_some(a),
                Lang::Go if self.p(a, b':') || self.kw(a, "string") => Some(b),
                Lang::Python if depth > 0 => None,
                Lang::Python if self.kw(a, "str") && self.p(b, b':') => Some(c),
                _ => (!self.p(b, b'.')).then_some(a),
            };
            let Some(name) = name.filter(|&k| self.id(k)).map(|k| self.tx(k).to_string()) else {
                continue;
            };
            let val = (v.clone(), self.t[i].inner.clone());
            let e = self.consts.entry(name).or_insert_with(|| Some(val.clone()));
            if e.as_ref().is_some_and(|x| x.0 != val.0) {
                *e = None;
            }
        }
    }

    /// A string option (`prefix`, `Namespace`) plus `sep` when non-empty.
    fn prefix(&mut self, r: Option<Range<usize>>, sep: &str) -> Option<String> {
        let r = r?;
        match self.eval_str(r.clone()) {
            Some((s, _)) => (!s.is_empty()).then(|| format!("{s}{sep}")),
            None => self
                .problem(self.bspan(r), "prefix/namespace is not a string literal")
                .and(None),
        }
    }

    /// Strings of the given arguments ("" when absent); None when one is unreadable.
    fn strs(
        &self,
        a: &Args,
        keys: &[(&str, Option<usize>)],
    ) -> Option<Vec<(String, Range<usize>)>> {
        let one = |&(k, i): &(&str, Option<usize>)| match a.get(k, i) {
            None => Some((String::new(), 0..0)),
            Some(r) => self.eval_str(r),
        };
        keys.iter().map(one).collect()
    }

    /// Record a definition, or a problem when its name could not be read.
    fn emit(
        &mut self,
        name: Option<(String, Range<usize>)>,
        kind: MetricType,
        kind_i: usize,
        span: Range<usize>,
        p: Parts,
    ) {
        let Some((name, name_span)) = name.filter(|n| !n.0.is_empty()) else {
            let msg =
                format!("{kind:?}: the metric name is not a string literal or known constant");
            self.problem(span, &msg);
            return;
        };
        let help = p.help.and_then(|r| self.eval_str(r)).map(|s| s.0);
        let (labels, labels_known) = match p.labels {
            Some(r) => self.eval_labels(r),
            None => (Vec::new(), !p.opaque),
        };
        let r = p
            .buckets
            .map(|r| self.trim(r))
            .filter(|r| kind == H && !r.is_empty());
        let buckets_span = r.clone().map(|r| self.bspan(r));
        let (buckets, buckets_default) = match r {
            Some(r) => self.eval_buckets(r),
            None => (None, kind == H && !p.opaque),
        };
        let kind_span = self.bspan(kind_i..kind_i + 1);
        self.out.defs.push(MetricDef {
            name,
            name_span,
            kind,
            kind_span,
            help,
            labels,
            labels_known,
            buckets,
            buckets_span,
            buckets_default,
            span,
        });
    }

    // ------------------------------------------------------------------------------ JavaScript

    fn run_js(&mut self) {
        let mut b = Binds::new();
        for i in 0..self.t.len() {
            if self.kw(i, "require") {
                self.js_require(i, &mut b);
            } else if self.kw(i, "import") {
                self.js_import(i, &mut b);
            } else if self.p(i, b'}')
                && self.p(i + 1, b'=')
                && self.id(i + 2)
                && !self.p(i + 3, b'.')
            {
                // const { Counter } = client;
                if let (Some(o), Some(Bind::Ns(m))) = (self.mat[i], b.get(self.tx(i + 2))) {
                    let m = m.clone();
                    self.destructure(o + 1..i, &m, &mut b);
                }
            }
        }
        let lib = |t: &Tok| matches!(&t.tk, Tk::Str(Some(v)) if is_lib(Lang::JavaScript, v));
        let fallback = self.t.iter().any(lib);
        for i in 0..self.t.len() {
            if self.kw(i, "new") {
                self.js_new(i, &b, fallback);
            } else if self.kw(i, "collectDefaultMetrics") && self.p(i + 1, b'(') {
                self.js_default_metrics(i, &b, fallback);
            }
        }
    }

    fn js_require(&self, i: usize, b: &mut Binds) -> Option<()> {
        let lhs = i.wrapping_sub(2);
        (self.p(i + 1, b'(') && self.p(i + 3, b')') && self.p(i.wrapping_sub(1), b'='))
            .then_some(())?;
        let m = self.sv(i + 2)?;
        if self.id(lhs) {
            let member =
                (self.p(i + 4, b'.') && self.id(i + 5)).then(|| self.tx(i + 5).to_string());
            let bind = member.map_or(Bind::Ns(m.clone()), |e| Bind::Member(m, e));
            b.insert(self.tx(lhs).to_string(), bind);
        } else if self.p(lhs, b'}') {
            self.destructure(self.mat[lhs]? + 1..lhs, &m, b);
        }
        Some(())
    }

    fn js_import(&self, i: usize, b: &mut Binds) -> Option<()> {
        if self.p(i + 1, b'(') || self.p(i + 1, b'.') || self.p(i + 2, b'=') {
            return None; // import(), import.meta, TS `import X = require(..)`
        }
        let end = (i + 200).min(self.t.len());
        let j = (i + 1..end).find(|&j| self.kw(j, "from") || self.p(j, b';'))?;
        let m = self.sv(j + 1).filter(|_| self.kw(j, "from"))?;
        let mut k = i + 1;
        while k < j {
            if self.p(k, b'{') {
                let c = self.cl(k).unwrap_or(j).min(j);
                for seg in self.split(k + 1..c) {
                    let s = seg.start + usize::from(self.kw(seg.start, "type") && seg.len() > 1);
                    let local = if self.kw(s + 1, "as") { s + 2 } else { s };
                    let bind = match self.tx(s) {
                        "default" => Bind::Ns(m.clone()),
                        e => Bind::Member(m.clone(), e.to_string()),
                    };
                    b.insert(self.tx(local).to_string(), bind);
                }
                k = c;
            } else if self.id(k) && !self.kw(k, "type") && !self.kw(k, "as") {
                b.insert(self.tx(k).to_string(), Bind::Ns(m.clone())); // default, `* as X`
            }
            k += 1;
        }
        Some(())
    }

    /// `{ A, B: C, D = x }` bound from module `m`.
    fn destructure(&self, r: Range<usize>, m: &str, b: &mut Binds) {
        if r.len() > 256 {
            return;
        }
        for seg in self.split(r).into_iter().filter(|s| self.id(s.start)) {
            let s = seg.start;
            let local = if self.p(s + 1, b':') && self.id(s + 2) {
                s + 2
            } else {
                s
            };
            let bind = Bind::Member(m.to_string(), self.tx(s).to_string());
            b.insert(self.tx(local).to_string(), bind);
        }
    }

    fn js_new(&mut self, i: usize, b: &Binds, fallback: bool) -> Option<()> {
        let mut k = i + 1;
        while self.p(k + 1, b'.') && self.id(k + 2) && k < i + 32 {
            k += 2;
        }
        let qual = (k > i + 1).then(|| self.tx(i + 1));
        let kind = kind_of(
            &self
                .accept(b, fallback, qual, self.tx(k))
                .filter(|_| self.id(k))?,
        )?;
        let mut open = k + 1;
        let mut depth = 0usize;
        while self.p(open, b'<') || depth > 0 {
            // TS type arguments: `new Counter<'a' | 'b'>(`
            match self.t.get(open)?.tk {
                Tk::P(b'<') => depth += 1,
                Tk::P(b'>') => depth -= 1,
                _ => {}
            }
            open += 1;
            (open < k + 64).then_some(())?;
        }
        self.p(open, b'(').then_some(())?;
        let start = self.start(i);
        let Some(close) = self.cl(open) else {
            return self.unterminated(start, open);
        };
        let first = self.split(open + 1..close).into_iter().next();
        let obj = first.filter(|s| self.p(s.start, b'{') && self.cl(s.start) == Some(s.end - 1));
        let a = obj
            .map(|s| self.args(s.start + 1..s.end - 1, b':'))
            .unwrap_or_default();
        let name = a.get("name", None).and_then(|r| self.eval_str(r));
        let (help, labels, buckets) = (
            a.get("help", None),
            a.get("labelNames", None),
            a.get("buckets", None),
        );
        let parts = Parts {
            help,
            labels,
            buckets,
            opaque: a.spread,
        };
        self.emit(name, kind, k, start..self.end(close), parts);
        Some(())
    }

    fn js_default_metrics(&mut self, i: usize, b: &Binds, fallback: bool) -> Option<()> {
        let dot = i.wrapping_sub(1);
        let root = if self.p(dot, b'.') {
            Some(self.chain_root(dot, false)?)
        } else {
            None
        };
        let e = self.accept(
            b,
            fallback,
            root.map(|r| self.tx(r)),
            "collectDefaultMetrics",
        )?;
        (e == "collectDefaultMetrics" && !self.kw(dot, "function")).then_some(())?;
        let start = self.start(root.unwrap_or(i));
        let Some(close) = self.cl(i + 1) else {
            return self.unterminated(start, i + 1);
        };
        if self.p(close + 1, b'{') {
            return None; // a method definition
        }
        let opts = self.cl(i + 2).filter(|&c| self.p(i + 2, b'{') && c < close);
        let r = opts.and_then(|c| self.args(i + 3..c, b':').get("prefix", None));
        let prefix = self.prefix(r, "");
        let span = start..self.end(close);
        self.out.defaults.push(DefaultMetrics {
            span,
            prefix,
            lang: Lang::JavaScript,
        });
        Some(())
    }

    // -------------------------------------------------------------------------------------- Go

    fn run_go(&mut self) {
        let mut imports = HashMap::new();
        for i in (0..self.t.len()).filter(|&i| self.kw(i, "import")) {
            let r = match self.cl(i + 1).filter(|_| self.p(i + 1, b'(')) {
                Some(c) => i + 2..c,
                None => i + 1..i + 3,
            };
            for j in r.clone() {
                let Some(path) = self.sv(j) else { continue };
                let aliased = j > r.start && matches!(self.t[j - 1].tk, Tk::Id | Tk::P(b'.'));
                let alias = if aliased {
                    self.tx(j - 1)
                } else {
                    path.rsplit('/').next().unwrap_or("")
                };
                imports.insert(alias.to_string(), path.clone());
            }
        }
        if imports.values().any(|p| is_lib(Lang::Go, p)) {
            for i in 0..self.t.len() {
                self.go_call(i, &imports);
            }
        }
    }

    /// `pkg.Type{...}` (optionally `&`): (package alias, type name, fields).
    fn go_composite(&self, r: Range<usize>) -> Option<(&'a str, &'a str, Args)> {
        let s = r.start + usize::from(self.p(r.start, b'&'));
        (self.id(s) && self.p(s + 1, b'.') && self.id(s + 2) && self.p(s + 3, b'{'))
            .then_some(())?;
        let c = self.cl(s + 3).filter(|&c| c + 1 == r.end)?;
        Some((self.tx(s), self.tx(s + 2), self.args(s + 4..c, b':')))
    }

    fn go_call(&mut self, i: usize, imports: &HashMap<String, String>) -> Option<()> {
        (self.id(i) && self.p(i + 1, b'(') && self.p(i.wrapping_sub(1), b'.')).then_some(())?;
        // the client_golang package of an alias: Some("") prometheus, Some("/promauto"), ...
        let pkg = |alias: &str| imports.get(alias).and_then(|p| p.strip_prefix(GO_PKG));
        let root = self.chain_root(i - 1, true)?;
        let (rp, name, close) = (pkg(self.tx(root)), self.tx(i), self.cl(i + 1));
        let span = self.start(root)..self.end(close.unwrap_or(i + 1));
        let defaults = match (name, rp) {
            ("NewGoCollector" | "NewProcessCollector", Some("" | "/collectors")) => {
                let comp = close.and_then(|c| self.go_composite(i + 2..c));
                Some(self.prefix(comp.and_then(|c| c.2.get("Namespace", None)), "_"))
            }
            ("Handler", Some("/promhttp")) => Some(None),
            _ => None,
        };
        if let Some(prefix) = defaults {
            self.out.defaults.push(DefaultMetrics {
                span,
                prefix,
                lang: Lang::Go,
            });
            return Some(());
        }
        let (kind, vec) = go_ctor(name)?;
        let root_ok = matches!(rp, Some("" | "/promauto"));
        let close = match close {
            Some(c) => c,
            None if root_ok => return self.unterminated(span.start, i + 1),
            None => return None,
        };
        let segs = self.split(i + 2..close);
        let comp = segs.first().and_then(|s| self.go_composite(s.clone()));
        let opts_ok = comp
            .as_ref()
            .is_some_and(|c| pkg(c.0) == Some("") && c.1.ends_with("Opts"));
        (root_ok || opts_ok).then_some(())?;
        let f = comp.map(|c| c.2).unwrap_or_default();
        let w = self.strs(
            &f,
            &[("Name", None), ("Namespace", None), ("Subsystem", None)],
        );
        let name = w.filter(|w| !w[0].0.is_empty()).map(|w| {
            let parts = [&w[1].0, &w[2].0, &w[0].0].map(String::as_str);
            let full: Vec<&str> = parts.into_iter().filter(|s| !s.is_empty()).collect();
            (full.join("_"), w[0].1.clone())
        });
        let labels = if vec { segs.get(1).cloned() } else { None };
        let parts = Parts {
            help: f.get("Help", None),
            labels,
            buckets: f.get("Buckets", None),
            opaque: false,
        };
        self.emit(name, kind, i, span, parts);
        Some(())
    }

    // ---------------------------------------------------------------------------------- Python

    fn dotted(&self, i: usize) -> Option<(String, usize)> {
        let (mut s, mut j) = (self.tx(i).to_string(), i + 1);
        while self.p(j, b'.') && self.id(j + 1) && j < i + 64 {
            s = format!("{s}.{}", self.tx(j + 1));
            j += 2;
        }
        self.id(i).then_some((s, j))
    }

    fn py_from(&self, i: usize, b: &mut Binds) -> Option<()> {
        let (m, j) = self.dotted(i + 1)?;
        self.kw(j, "import").then_some(())?;
        let mut k = j + 1 + usize::from(self.p(j + 1, b'('));
        loop {
            if self.p(k, b'*') {
                b.insert("*".into(), Bind::Member(m, "*".into()));
                return Some(());
            }
            let e = k;
            k += if self.kw(k + 1, "as") { 2 } else { 0 };
            (self.id(e) && self.id(k)).then_some(())?;
            b.insert(
                self.tx(k).to_string(),
                Bind::Member(m.clone(), self.tx(e).to_string()),
            );
            self.p(k + 1, b',').then_some(())?;
            k += 2;
        }
    }

    fn py_import(&self, i: usize, b: &mut Binds) -> Option<()> {
        // not the `import` of `from a.b import c` / `from . import c`
        let mut j = i.wrapping_sub(1);
        while (self.p(j, b'.') || (self.id(j) && self.p(j.wrapping_sub(1), b'.'))) && j + 64 > i {
            j = j.wrapping_sub(1);
        }
        if self.kw(j, "from") || self.kw(j.wrapping_sub(1), "from") {
            return None;
        }
        let mut k = i + 1;
        loop {
            let (m, j) = self.dotted(k)?;
            if self.kw(j, "as") && self.id(j + 1) {
                b.insert(self.tx(j + 1).to_string(), Bind::Ns(m));
                k = j + 2;
            } else {
                let root = m.split('.').next().unwrap_or("").to_string();
                b.insert(root.clone(), Bind::Ns(root));
                k = j;
            }
            self.p(k, b',').then_some(())?;
            k += 1;
        }
    }

    fn run_py(&mut self) {
        let mut b = Binds::new();
        for i in 0..self.t.len() {
            if self.kw(i, "from") {
                self.py_from(i, &mut b);
            } else if self.kw(i, "import") {
                self.py_import(i, &mut b);
            }
        }
        for i in 0..self.t.len() {
            self.py_call(i, &b);
        }
    }

    fn py_call(&mut self, i: usize, b: &Binds) -> Option<()> {
        let prev = i.wrapping_sub(1);
        let def = self.kw(prev, "def") || self.kw(prev, "class");
        (self.id(i) && self.p(i + 1, b'(') && !def).then_some(())?;
        let root = if self.p(prev, b'.') {
            Some(self.chain_root(prev, false)?)
        } else {
            None
        };
        let e = self.accept(b, false, root.map(|r| self.tx(r)), self.tx(i))?;
        let kind = kind_of(&e);
        let registry_arg = match e.as_str() {
            _ if kind.is_some() => None,
            "ProcessCollector" | "PlatformCollector" | "GCCollector" => None,
            "start_http_server" | "start_wsgi_server" => Some(2),
            "make_wsgi_app" | "make_asgi_app" | "generate_latest" => Some(0),
            _ => return None,
        };
        let start = self.start(root.unwrap_or(i));
        let Some(close) = self.cl(i + 1) else {
            return self.unterminated(start, i + 1);
        };
        let span = start..self.end(close);
        let a = self.args(i + 2..close, b'=');
        if let Some(kind) = kind {
            let keys = [
                ("name", Some(0)),
                ("namespace", Some(3)),
                ("subsystem", Some(4)),
                ("unit", Some(5)),
            ];
            let name = self
                .strs(&a, &keys)
                .filter(|w| !w[0].0.is_empty())
                .map(|w| {
                    let mut full: String = w[1..3]
                        .iter()
                        .filter(|x| !x.0.is_empty())
                        .map(|x| format!("{}_", x.0))
                        .collect();
                    full.push_str(&w[0].0);
                    if kind == C && full.ends_with("_total") {
                        full.truncate(full.len() - "_total".len());
                    }
                    let unit = &w[3].0;
                    if !unit.is_empty() && !full.ends_with(&format!("_{unit}")) {
                        full = format!("{full}_{unit}");
                    }
                    if kind == C {
                        full.push_str("_total");
                    }
                    (full, w[0].1.clone())
                });
            let (help, labels) = (
                a.get("documentation", Some(1)),
                a.get("labelnames", Some(2)),
            );
            let parts = Parts {
                help,
                labels,
                buckets: a.get("buckets", Some(8)),
                opaque: a.spread,
            };
            self.emit(name, kind, i, span, parts);
            return Some(());
        }
        if let Some(r) = registry_arg.and_then(|x| a.get("registry", Some(x))) {
            (self.tx(r.end - 1) == "REGISTRY").then_some(())?; // else a custom registry
        }
        let ns = a
            .get("namespace", Some(0))
            .filter(|_| e == "ProcessCollector");
        let prefix = self.prefix(ns, "_");
        self.out.defaults.push(DefaultMetrics {
            span,
            prefix,
            lang: Lang::Python,
        });
        Some(())
    }
}

fn go_ctor(name: &str) -> Option<(MetricType, bool)> {
    let base = name.strip_prefix("New")?;
    let (base, vec) = match base.strip_suffix("Vec") {
        Some(b) => (b, true),
        None => (
            base.strip_suffix("Func")
                .filter(|b| *b == "Counter" || *b == "Gauge")
                .unwrap_or(base),
            false,
        ),
    };
    Some((kind_of(base)?, vec))
}

/// prom-client `linearBuckets`/`exponentialBuckets`, client_golang `LinearBuckets`,
/// `ExponentialBuckets`, `ExponentialBucketsRange`, with the libraries' argument checks.
/// `Ok(None)`: not a bucket helper.
fn gen_buckets(
    lang: Lang,
    f: &str,
    a: f64,
    b: f64,
    count: f64,
) -> Result<Option<Vec<f64>>, String> {
    let lower = f.to_ascii_lowercase();
    if ![
        "linearbuckets",
        "exponentialbuckets",
        "exponentialbucketsrange",
    ]
    .contains(&lower.as_str())
    {
        return Ok(None);
    }
    if !(1.0..=10_000.0).contains(&count) || count.fract() != 0.0 {
        return Err(format!(
            "{f}: the count is not an integer between 1 and 10000"
        ));
    }
    let n = count as usize;
    let (mut x, mut out) = (a, Vec::with_capacity(n));
    if f.eq_ignore_ascii_case("linearBuckets") {
        let go = lang == Lang::Go; // client_golang accumulates, prom-client multiplies
        for i in 0..n {
            out.push(if go { x } else { a + i as f64 * b });
            x += b;
        }
        return Ok(Some(out));
    }
    if a <= 0.0 {
        return Err(format!("{f}: the start must be positive"));
    }
    if f == "ExponentialBucketsRange" {
        let g = (b / a).powf(1.0 / (count - 1.0));
        return Ok(Some((0..n).map(|i| a * g.powf(i as f64)).collect()));
    }
    if b <= 1.0 {
        return Err(format!("{f}: the factor must be greater than 1"));
    }
    for _ in 0..n {
        out.push(x);
        x *= b;
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real prom-client file (tutorial pipeline), verbatim.
    const SEED: &str = r#"const promClient = require('prom-client');
const promMiddleware = require('express-prometheus-middleware');

// Create a Registry to register the metrics
const register = new promClient.Registry();

// Add default metrics (CPU, memory, etc.)
promClient.collectDefaultMetrics({
  register,
  timeout: 5000,
  gcDurationBuckets: [0.001, 0.01, 0.1, 1, 2, 5], // Garbage collection buckets
  eventLoopMonitoringPrecision: 10, // Event loop monitoring precision
});

// Custom business metrics
const httpRequestDuration = new promClient.Histogram({
  name: 'http_request_duration_seconds',
  help: 'Duration of HTTP requests in seconds',
  labelNames: ['method', 'route', 'status_code'],
  buckets: [0.1, 0.3, 0.5, 0.7, 1, 3, 5, 7, 10], // Response time buckets
  registers: [register]
});

const httpRequestsTotal = new promClient.Counter({
  name: 'http_requests_total',
  help: 'Total number of HTTP requests',
  labelNames: ['method', 'route', 'status_code'],
  registers: [register]
});

const activeConnections = new promClient.Gauge({
  name: 'http_active_connections',
  help: 'Number of active HTTP connections',
  registers: [register]
});

const businessMetrics = {
  // User engagement metrics
  userSessions: new promClient.Gauge({
    name: 'active_user_sessions',
    help: 'Number of active user sessions',
    registers: [register]
  }),
  
  // Database metrics
  dbConnections: new promClient.Gauge({
    name: 'database_connections_active',
    help: 'Number of active database connections',
    registers: [register]
  }),
  
  dbQueryDuration: new promClient.Histogram({
    name: 'database_query_duration_seconds',
    help: 'Database query execution time',
    labelNames: ['query_type', 'table'],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5],
    registers: [register]
  }),
  
  // Cache metrics
  cacheHits: new promClient.Counter({
    name: 'cache_hits_total',
    help: 'Total number of cache hits',
    labelNames: ['cache_type'],
    registers: [register]
  }),
  
  cacheMisses: new promClient.Counter({
    name: 'cache_misses_total',
    help: 'Total number of cache misses',
    labelNames: ['cache_type'],
    registers: [register]
  }),
  
  // Business KPI metrics
  revenue: new promClient.Counter({
    name: 'business_revenue_total',
    help: 'Total business revenue',
    labelNames: ['currency', 'product_category'],
    registers: [register]
  }),
  
  orders: new promClient.Counter({
    name: 'business_orders_total',
    help: 'Total number of orders',
    labelNames: ['status', 'payment_method'],
    registers: [register]
  })
};

// Export metrics configuration
module.exports = {
  register,
  httpRequestDuration,
  httpRequestsTotal,
  activeConnections,
  businessMetrics,
  
  // Middleware for automatic HTTP metrics collection
  middleware: promMiddleware({
    metricsPath: '/metrics',
    collectDefaultMetrics: true,
    requestDurationBuckets: [0.1, 0.5, 1, 1.5, 2, 3, 5, 10],
    requestLengthBuckets: [512, 1024, 5120, 10240, 51200, 102400],
    responseLengthBuckets: [512, 1024, 5120, 10240, 51200, 102400],
  })
};
"#;

    const GO: &str = r#"package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const (
	namespace        = "shop"
	subsystem string = "api"
)

var labelNames = []string{"method", "code"}

// Decoy: prometheus.NewCounter(prometheus.CounterOpts{Name: "commented_out_total"})
/* prometheus.NewGauge(prometheus.GaugeOpts{Name: "block_comment"}) */

var (
	requestsTotal = prometheus.NewCounterVec(
		prometheus.CounterOpts{
			Namespace: namespace,
			Subsystem: subsystem,
			Name:      "requests_total",
			Help:      "Total requests.",
		},
		[]string{"method", "code"},
	)
	inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: `in_flight_requests`,
		Help: `Requests being served.`,
	})
	latency = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "shop",
		Name:      "request_duration_seconds",
		Help:      "Request latency.",
		Buckets:   []float64{0.05, .1, 0.25, 1, 2.5},
	}, labelNames)
	sizes = promauto.With(reg).NewHistogram(prometheus.HistogramOpts{
		Name:    "response_size_bytes",
		Buckets: prometheus.ExponentialBuckets(100, 10, 4),
	})
	queueWait = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "queue_wait_seconds", Buckets: prometheus.LinearBuckets(0.5, 0.5, 4)})
	defBuckets = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "default_seconds", Buckets: prometheus.DefBuckets})
	noBuckets  = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "plain_seconds"})
	rpcDurations = prometheus.NewSummaryVec(
		prometheus.SummaryOpts{
			Name:       "rpc_durations_seconds",
			Objectives: map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001},
		},
		[]string{"service"},
	)
	decoy = "prometheus.NewCounter(prometheus.CounterOpts{Name: \"in_string_total\"})"
)

func init() {
	factory := promauto.With(prometheus.DefaultRegisterer)
	factory.NewCounter(prometheus.CounterOpts{Name: "jobs_total", Help: "Jobs."})
	opts := prometheus.GaugeOpts{Name: "dynamic"}
	prometheus.NewGauge(opts)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{Namespace: "shop"}))
	http.Handle("/metrics", promhttp.Handler())
}
"#;

    const PY: &str = r#""""Worker metrics.

Counter('docstring_decoy', 'not real')
"""
import prometheus_client
from prometheus_client import Counter, Gauge, Histogram as H, start_http_server
from collections import Counter as Tally

NAMESPACE = 'worker'

# Counter('commented_total', 'decoy')
JOBS = Counter('jobs_processed_total', 'Jobs processed', ['queue', 'status'])
ERRORS = Counter(
    name='errors',
    documentation="Errors seen",
    labelnames=('kind',),
    namespace=NAMESPACE,
    subsystem='io',
)
LATENCY = H('job_latency_seconds', 'Job latency', labelnames=['queue'],
            buckets=[.1, .5, 1.0, 2.5, float('inf')])
QUEUE = Gauge(name='queue_depth', documentation='Depth', labelnames=LABELS)
PAYLOAD = prometheus_client.Summary('payload_bytes', 'Payload size', unit='bytes')
PLAIN = H('plain_seconds', 'No buckets given')
DYN = Gauge(f'{NAMESPACE}_dynamic', 'f-string name')
words = Tally('a b c'.split())


class Counter(Base):
    pass


def main():
    start_http_server(8000)
    generate_latest(my_registry)
"#;

    const TS: &str = r#"import { Counter, Histogram as Hist, collectDefaultMetrics, register } from 'prom-client';
import * as prom from 'prom-client';
import { Counter as OtelCounter } from './otel';

const PREFIX = 'svc_';
collectDefaultMetrics({ prefix: PREFIX, register });

// new Counter({ name: 'commented_total', help: 'decoy' })
/* new Hist({ name: 'block_decoy' }) */
export const requests = new Counter<'method' | 'route'>({
  help: `Requests served`,
  "name": "svc_requests_total",
  labelNames: ['method', 'route'] as const,
});
export const latency = new Hist({
  name: 'svc_latency_seconds', help: 'Latency',
  buckets: prom.linearBuckets(0.1, 0.1, 3),
  labelNames: [...baseLabels, 'route'],
});
const sizes = new prom.Histogram({ name: 'svc_size_bytes', help: 'Sizes', buckets: prom.exponentialBuckets(1, 2, 4) });
const g = new prom.Gauge({ name: 'svc_queue', help: 'Queue', });
const s = new prom.Summary({ name: 'svc_summary', help: 's', percentiles: [0.5, 0.9] });
const dyn = new Counter({ name: `${PREFIX}dynamic_total`, help: 'x' });
const other = new OtelCounter({ name: 'not_prom_total' });
const re = /new Counter\({ name: 'regex_decoy' }\)/g;
const text = "new Counter({ name: 'string_decoy' })";
const bad = new prom.Histogram({ name: 'bad_buckets', buckets: prom.exponentialBuckets(0, 2, 4) });
"#;

    /// One line per definition, problem and default-metrics call; checks that label, kind,
    /// bucket and call spans slice back to what they claim.
    fn render(lang: Lang, src: &str) -> String {
        let x = extract(lang, src);
        let first_line = |r: &Range<usize>| src[r.clone()].lines().next().unwrap_or("").to_string();
        let mut out = Vec::new();
        for d in &x.defs {
            let mut line = format!("{:?} {}", d.kind, d.name);
            if src[d.name_span.clone()] != d.name {
                line += &format!(" <{}>", &src[d.name_span.clone()]);
            }
            let labels: Vec<&str> = d.labels.iter().map(|l| l.0.as_str()).collect();
            if !labels.is_empty() || !d.labels_known {
                line += &format!(
                    " [{}]{}",
                    labels.join(","),
                    if d.labels_known { "" } else { "?" }
                );
            }
            match (&d.buckets, d.buckets_default, &d.buckets_span) {
                (Some(_), true, _) => line += " b=default",
                (Some(b), false, _) => line += &format!(" b={b:?}"),
                (None, true, _) => line += " b=default-implicit",
                (None, false, Some(_)) => line += " b=?",
                (None, false, None) => {}
            }
            for (l, sp) in &d.labels {
                assert_eq!(&src[sp.clone()], l);
            }
            let kind = &src[d.kind_span.clone()];
            assert!(kind.contains(&format!("{:?}", d.kind)) || ["H", "Hist", "G2"].contains(&kind));
            assert!(src[d.span.clone()].ends_with(')') && d.span.contains(&d.kind_span.start));
            if let Some(b) = &d.buckets_span {
                assert!(d.span.start <= b.start && b.end <= d.span.end);
            }
            out.push(line);
        }
        for (span, msg) in &x.problems {
            out.push(format!("problem `{}`: {msg}", first_line(span)));
        }
        for d in &x.defaults {
            out.push(format!("defaults `{}` {:?}", first_line(&d.span), d.prefix));
        }
        out.join("\n")
    }

    fn expect(lang: Lang, src: &str, want: &str) {
        let want: Vec<&str> = want
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(render(lang, src), want.join("\n"));
    }

    #[test]
    fn seed_prom_client_file() {
        expect(
            Lang::JavaScript,
            SEED,
            r#"
            Histogram http_request_duration_seconds [method,route,status_code] b=[0.1, 0.3, 0.5, 0.7, 1.0, 3.0, 5.0, 7.0, 10.0]
            Counter http_requests_total [method,route,status_code]
            Gauge http_active_connections
            Gauge active_user_sessions
            Gauge database_connections_active
            Histogram database_query_duration_seconds [query_type,table] b=[0.01, 0.05, 0.1, 0.5, 1.0, 2.0, 5.0]
            Counter cache_hits_total [cache_type]
            Counter cache_misses_total [cache_type]
            Counter business_revenue_total [currency,product_category]
            Counter business_orders_total [status,payment_method]
            defaults `promClient.collectDefaultMetrics({` None
            "#,
        );
        let x = extract(Lang::JavaScript, SEED);
        let h = &x.defs[0];
        assert_eq!(
            h.help.as_deref(),
            Some("Duration of HTTP requests in seconds")
        );
        assert_eq!(
            &SEED[h.buckets_span.clone().unwrap()],
            "[0.1, 0.3, 0.5, 0.7, 1, 3, 5, 7, 10]"
        );
        assert!(x
            .defs
            .iter()
            .all(|d| SEED[d.span.clone()].starts_with("new promClient.")));
        assert!(x
            .defs
            .iter()
            .all(|d| d.help.is_some() && SEED[d.kind_span.clone()] == *format!("{:?}", d.kind)));
    }

    #[test]
    fn typescript_forms() {
        expect(
            Lang::JavaScript,
            TS,
            "
            Counter svc_requests_total [method,route]
            Histogram svc_latency_seconds [route]? b=[0.1, 0.2, 0.30000000000000004]
            Histogram svc_size_bytes b=[1.0, 2.0, 4.0, 8.0]
            Gauge svc_queue
            Summary svc_summary
            Histogram bad_buckets b=?
            problem `new Counter({ name: `${PREFIX}dynamic_total`, help: 'x' })`: Counter: the metric name is not a string literal or known constant
            problem `prom.exponentialBuckets(0, 2, 4)`: exponentialBuckets: the start must be positive
            defaults `collectDefaultMetrics({ prefix: PREFIX, register })` Some(\"svc_\")
            ",
        );
        let x = extract(Lang::JavaScript, TS);
        assert_eq!(x.defs[0].help.as_deref(), Some("Requests served"));
        assert_eq!(
            &TS[x.defs[1].buckets_span.clone().unwrap()],
            "prom.linearBuckets(0.1, 0.1, 3)"
        );
    }

    #[test]
    fn js_evidence_rules() {
        // names bound to another module, or no prom-client evidence at all: nothing
        let other = "const { Counter } = require('./my-counter');
            const c = new Counter({ name: 'clicks_total' });
            class Gauge {}
            new Gauge({ name: 'g' });
            const m = new metrics.Histogram({ name: 'h' });";
        assert_eq!(extract(Lang::JavaScript, other), Extracted::default());
        // the file mentions prom-client: unbound qualifiers count; `const { .. } = prom`
        let js = "const prom = require('prom-client');
            const { Gauge: G2 } = prom;
            new G2({ name: 'a' });
            function make(client) { return new client.Counter({ 'name': 'b', labelNames: L }); }
            new prom.Counter(opts);
            new prom.Registry();
            const name = 'from_const';
            new prom.Histogram({ name, ...common });
            new prom.Gauge({ name: 'x'";
        let want = "Gauge a
            Counter b []?
            Histogram from_const []?
            problem `new prom.Counter(opts)`: Counter: the metric name is not a string literal or known constant
            problem `new prom.Gauge(`: unterminated call";
        expect(Lang::JavaScript, js, want);
    }

    #[test]
    fn go_forms() {
        expect(
            Lang::Go,
            GO,
            "
            Counter shop_api_requests_total <requests_total> [method,code]
            Gauge in_flight_requests
            Histogram shop_request_duration_seconds <request_duration_seconds> []? b=[0.05, 0.1, 0.25, 1.0, 2.5]
            Histogram response_size_bytes b=[100.0, 1000.0, 10000.0, 100000.0]
            Histogram queue_wait_seconds b=[0.5, 1.0, 1.5, 2.0]
            Histogram default_seconds b=default
            Histogram plain_seconds b=default-implicit
            Summary rpc_durations_seconds [service]
            Counter jobs_total
            problem `prometheus.NewGauge(opts)`: Gauge: the metric name is not a string literal or known constant
            defaults `collectors.NewGoCollector()` None
            defaults `collectors.NewProcessCollector(collectors.ProcessCollectorOpts{Namespace: \"shop\"})` Some(\"shop_\")
            defaults `promhttp.Handler()` None
            ",
        );
        let x = extract(Lang::Go, GO);
        assert!(GO[x.defs[0].span.clone()].starts_with("prometheus.NewCounterVec("));
        assert_eq!(
            &GO[x.defs[2].buckets_span.clone().unwrap()],
            "[]float64{0.05, .1, 0.25, 1, 2.5}"
        );
        assert!(GO[x.defs[3].span.clone()].starts_with("promauto.With(reg).NewHistogram("));
        assert_eq!(
            x.defs[5].buckets.as_deref(),
            Some(default_buckets(Lang::Go))
        );
        assert!(GO[x.defs[8].span.clone()].starts_with("factory.NewCounter("));
        assert_eq!(x.defs[1].help.as_deref(), Some("Requests being served."));
    }

    #[test]
    fn go_evidence_rules() {
        // VictoriaMetrics-style API without a client_golang import
        let vm = "package m
            import \"github.com/VictoriaMetrics/metrics\"
            var c = metrics.NewCounter(`requests_total{path=\"/\"}`)";
        assert_eq!(extract(Lang::Go, vm), Extracted::default());
        // aliased import; another package's NewCounter in the same file is ignored
        let go = "package m
            import (
                prom \"github.com/prometheus/client_golang/prometheus\"
                vm \"github.com/VictoriaMetrics/metrics\"
            )
            var a = vm.NewCounter(\"x_total\")
            var b = prom.NewGaugeVec(prom.GaugeOpts{Name: \"temp_celsius\"}, nil)
            var c = prom.NewCounterFunc(prom.CounterOpts{Name: \"a\" + \"_b\"}, f)
            var d = prom.NewHistogram(prom.HistogramOpts{Name: \"r\", Buckets: prom.ExponentialBucketsRange(1, 100, 3)})";
        let want = "Gauge temp_celsius
            Counter a_b <\"a\" + \"_b\">
            Histogram r b=[1.0, 10.0, 100.0]";
        expect(Lang::Go, go, want);
    }

    #[test]
    fn python_forms() {
        expect(
            Lang::Python,
            PY,
            "
            Counter jobs_processed_total [queue,status]
            Counter worker_io_errors_total <errors> [kind]
            Histogram job_latency_seconds [queue] b=[0.1, 0.5, 1.0, 2.5, inf]
            Gauge queue_depth []?
            Summary payload_bytes
            Histogram plain_seconds b=default-implicit
            problem `Gauge(f'{NAMESPACE}_dynamic', 'f-string name')`: Gauge: the metric name is not a string literal or known constant
            defaults `start_http_server(8000)` None
            ",
        );
        let x = extract(Lang::Python, PY);
        assert_eq!(x.defs[1].help.as_deref(), Some("Errors seen"));
        assert!(PY[x.defs[4].span.clone()].starts_with("prometheus_client.Summary("));
    }

    #[test]
    fn python_evidence_and_naming() {
        let other = "from collections import Counter
            c = Counter('abc', 'x')
            from metrics import Gauge
            Gauge('g', 'h')";
        assert_eq!(extract(Lang::Python, other), Extracted::default());
        let py = "from prometheus_client import *
            from prometheus_client import ProcessCollector
            import prometheus_client.core as pc, os
            c = Counter('requests', 'h', unit='bytes')
            t = Counter('x_total', 'h', namespace='a', subsystem='')
            h = Histogram('x', 'h', [], 'ns', '', '', REG, None, Histogram.DEFAULT_BUCKETS)
            ProcessCollector(namespace='app')
            make_wsgi_app(registry=prometheus_client.REGISTRY)
            start_http_server(8000, '', my_registry)";
        let want = "Counter requests_bytes_total <requests>
            Counter a_x_total <x_total>
            Histogram ns_x <x> b=default
            defaults `ProcessCollector(namespace='app')` Some(\"app_\")
            defaults `make_wsgi_app(registry=prometheus_client.REGISTRY)` None";
        expect(Lang::Python, py, want);
    }

    #[test]
    fn never_panics() {
        let mut junk: Vec<String> = [
            "((((((]]]]]]}}}{{{{",
            "const c = require('prom-client'); new c.Histogram({name: 'é', buckets: c.linearBuckets(1e308, 1e308, 3)})",
            "`${`${`${'\\",
            "f'''{",
            "r\"\\",
            "/[/",
            "new Counter<<<<",
            "0x 0b 1e 1e+ .5e- 1_ 0o9 日本 новый Счётчик(",
        ]
        .map(String::from)
        .to_vec();
        junk.push("(".repeat(10_000) + &"]".repeat(10_000));
        junk.push("`${".repeat(500));
        let chars: Vec<char> =
            "new Counter({}[]()'\"`$\\/*#\n.,:=+-0123 prom-client prometheus_client Histogram é"
                .chars()
                .collect();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..50 {
            let s: String = (0..300)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    chars[(seed % chars.len() as u64) as usize]
                })
                .collect();
            junk.push(s);
        }
        for s in [SEED, GO, PY, TS] {
            junk.extend(s.char_indices().map(|(i, _)| s[..i].to_string()));
        }
        for s in &junk {
            for lang in [Lang::JavaScript, Lang::Go, Lang::Python] {
                let x = extract(lang, s);
                assert!(x.defs.iter().all(|d| s.get(d.name_span.clone()).is_some()));
                assert!(x.problems.iter().all(|p| s.get(p.0.clone()).is_some()));
            }
        }
    }

    #[test]
    fn paths_and_tables() {
        assert_eq!(lang_for_path("web/src/metrics.TS"), Some(Lang::JavaScript));
        assert_eq!(lang_for_path("a.b/main.go"), Some(Lang::Go));
        assert_eq!(lang_for_path("app/metrics.py"), Some(Lang::Python));
        assert_eq!(lang_for_path("a.go/Makefile"), None);
        assert_eq!(default_buckets(Lang::JavaScript).len(), 11);
        assert_eq!(default_buckets(Lang::Python).last(), Some(&f64::INFINITY));
        let counts = [Lang::JavaScript, Lang::Go, Lang::Python].map(|lang| {
            let names = default_metric_names(lang);
            let set: std::collections::HashSet<_> = names.iter().map(|n| n.0).collect();
            assert!(set.len() == names.len() && set.contains("process_start_time_seconds"));
            names.len()
        });
        assert_eq!(counts, [31, 38, 10]);
        assert!(default_metric_names(Lang::Go).contains(&("go_gc_duration_seconds", S)));
        assert!(default_metric_names(Lang::JavaScript).contains(&("nodejs_gc_duration_seconds", H)));
        assert!(default_metric_names(Lang::Python).contains(&("python_info", G)));
    }
}
