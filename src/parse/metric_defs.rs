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
//!   `prometheus.XxxOpts{...}` literal (a `promauto.Factory` variable), written there or held
//!   by a variable. `prometheus.NewDesc(` is a custom collector's metric (below).
//! * **Python**: `Counter(`, `Gauge(`, `Histogram(`, `Summary(` and the custom collectors'
//!   `CounterMetricFamily(`, `GaugeMetricFamily(`, `[Gauge]HistogramMetricFamily(`,
//!   `SummaryMetricFamily(`, bound by `from prometheus_client[.core] import ...` (aliases and
//!   `*` included), or `M.Counter(` with `M` bound by `import prometheus_client [as M]` (or a
//!   submodule imported from it). `def`/`class` lines are skipped. `Info` and `Enum` are ignored.
//!
//! # Go custom collectors
//!
//! `NewDesc(fqName, help, variableLabels, constLabels)` gives the name and the labels (both
//! lists; `prometheus.Labels{..}` keys are labels of every series). The type is that of the
//! metrics made from the desc, and is tied in this order: the const-metric call it is an
//! argument of (`MustNewConstMetric(NewDesc(..), prometheus.CounterValue, ..)`); a value type
//! beside it in a literal (`typedDesc{NewDesc(..), prometheus.GaugeValue}`, `{Desc: .., Type:
//! prometheus.GaugeValue}`); else the const-metric calls (`[Must]NewConstMetric` with a
//! `GaugeValue`/`CounterValue` literal, `[Must]NewConstHistogram`, `[Must]NewConstSummary`,
//! `...WithCreatedTimestamp`) on what holds it: a local variable (uses after it in its
//! function), a package variable, a struct field (`c.fooDesc`) or a map entry (`m["key"]`), in
//! the file or in the other files of its package, also when a helper of the file passes it on
//! (`emit(ch, desc)` with `MustNewConstMetric(desc, prometheus.GaugeValue, ..)` inside), or when
//! a literal puts it beside a value type (`typedDesc{c.x, prometheus.CounterValue}`). One type
//! from every use: that type. `UntypedValue`, a value type held in a variable, different types,
//! or no use found: the type is unknown (`kind_known: false`, `kind` then says `Gauge` and means
//! nothing), never guessed. Const metrics' buckets are values of the call, never the default.
//!
//! # Names
//!
//! JS: `name` as written (prom-client adds nothing, not even `_total`). Go: `BuildFQName`
//! (non-empty parts joined by `_`, nothing when the name part is empty), the non-empty
//! `Namespace`, `Subsystem`, `Name` joined by `_`. Python: the name a rule selects:
//! `namespace_subsystem_name`, plus `_unit` if `unit` is given and not already the suffix; a
//! Counter's (and `CounterMetricFamily`'s) written `_total` is stripped and `_total` appended
//! (the library's `x_total` series; it also exposes `x_created`); histograms and summaries keep
//! the base name.
//!
//! # Constants, label lists, spreads and wrappers
//!
//! An identifier is resolved to the expression assigned to it (JS `const|let|var X [: T] =`,
//! Go `X = ` in `const`/`var` blocks, `X T = `, `X := `, Python `X = `, `X: T = `, JS
//! destructuring rests `const { a, ...rest } = options`): the last assignment before it in an
//! enclosing function, else the file's top level when all its assignments there agree, else
//! what another file supplies ([`Env`], from the project pass in `model::inventory::resolve`:
//! the other files of a Go package, `otherpkg.Name` of another package of the module, the
//! Python/JS module a name is imported from, following JS re-exports). Strings concatenate with
//! `+` (Python: adjacent literals too); Python `os.getenv("X", "d")` / `os.environ.get("X",
//! "d")` is its default `d`. Label lists are list literals whose elements are strings or spreads
//! (`...x`, `*x`), concatenations (`a + b`), Go `append(base, "x", more...)`, or names holding
//! one. Options are object/struct literals or names holding one; JS spreads of known objects
//! are merged. A function of the file whose parameter a definition's name (or JS options
//! object) comes from is a wrapper: each of its calls in the file is read as a definition with
//! the call's arguments bound to the parameters (Python keyword arguments and defaults too), at
//! the call's position. A top-level JS wrapper passing its parameter on as the options is
//! offered to other modules ([`Val::Wrapper`]): their calls are definitions too, also in files
//! that never name prom-client.
//!
//! `name_span` is the content of the name literal (of the constant's literal for a constant of
//! the file; the identifier for another file's constant; the whole expression for a
//! concatenation): it slices back to `name` for literal JS names and for Go names without
//! namespace/subsystem; for the others it covers the `Name`/`name` part. Label spans are the
//! literals' contents, or the identifier that brought the labels from another file.
//!
//! `buckets_span` is the span of the buckets expression whenever one is given; `buckets` is
//! `Some` when its values are known (literal numbers and numeric strings such as `"+Inf"`,
//! `linearBuckets`/`exponentialBuckets`/`LinearBuckets`/`ExponentialBuckets`/
//! `ExponentialBucketsRange` with literal arguments, `DefBuckets`/`DEFAULT_BUCKETS`, a name
//! holding one of those); `buckets_default` is true when the library default applies (no
//! buckets given, or `DefBuckets`/`DEFAULT_BUCKETS`).
//!
//! # What cannot be read
//!
//! A definition whose name cannot be read (template literals, f-strings, `fmt.Sprintf`, names
//! from flags or run-time configuration) is a problem (`Extracted::problems`). One whose label
//! list or type cannot be read is kept with `labels_known: false` / `kind_known: false` and
//! says why in `unread`. Not handled: prom-client's positional (pre-v12) constructor,
//! client_golang's `V2` API, Python `Info`/`Enum`, wrappers of wrappers, descs created in a
//! loop from data.

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

/// One metric definition: a constructor call, or a client_golang `NewDesc` (see the module
/// documentation for `name` and the spans).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricDef {
    pub name: String,
    pub name_span: Range<usize>,
    /// The type; meaningful only when `kind_known` (a `NewDesc` whose value type could not be
    /// tied, or is `UntypedValue`, says `Gauge` here with `kind_known: false`).
    pub kind: MetricType,
    /// False for a `NewDesc` whose metrics' value type could not be tied to it, or is untyped.
    pub kind_known: bool,
    /// `Histogram` in `new client.Histogram(`, `NewHistogramVec`, `Histogram(` (or its alias);
    /// `NewDesc` for a custom collector's description; the wrapper's name at a wrapper call.
    pub kind_span: Range<usize>,
    pub help: Option<String>,
    /// Label names with spans in this file: the literal's content, or the identifier that
    /// brought them from another file. Includes `ConstLabels` keys (labels of every series).
    pub labels: Vec<(String, Range<usize>)>,
    /// False when the label list (or the const labels) could not be read: a variable of
    /// unknown value, a spread of one, a call.
    pub labels_known: bool,
    pub buckets: Option<Vec<f64>>,
    pub buckets_span: Option<Range<usize>>,
    pub buckets_default: bool,
    /// The whole call, from `new` or the first qualifier to the closing parenthesis (for a
    /// definition made by a wrapper function of the same file: the wrapper's call).
    pub span: Range<usize>,
    /// What could not be read, one sentence each (empty when all was read).
    pub unread: Vec<String>,
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
    /// Names this file defines at its top level with a readable value, for the other files of
    /// its Go package or the Python/JS files that import them.
    pub exports: Vec<(String, Val)>,
    /// JS/Python imports: (local name, module as written, exported name).
    pub imports: Vec<(String, String, String)>,
    /// JS re-exports: (module, `None` for `export * from`, or (exported there, name here)).
    pub reexports: Vec<(String, Option<(String, String)>)>,
    /// Identifiers a definition needed that this file does not define (`desc:h` for a Go
    /// desc held in `h` whose value type is set in another file): a project pass can supply
    /// them ([`extract_with`]).
    pub unresolved: Vec<String>,
    /// Go: the value types the const-metric calls of this file give to package-visible desc
    /// holders (`f:field`, `k:mapkey`, `v:var`); `None`: untyped or not a literal.
    pub desc_uses: Vec<(String, Option<MetricType>)>,
}

/// A value defined in one file and used by another: a string, or a list of strings.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Str(String),
    List(Vec<String>),
    /// A JS function whose parameter (by index) is passed on as a metric's options.
    Wrapper(MetricType, usize),
    /// Go: the value of another package's name (`import/path.Name`), for the project pass.
    Ref(String),
}

/// What other files supply to a file's extraction ([`extract_with`]).
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// Names not defined in the file: string constants and label lists.
    pub vals: HashMap<String, Val>,
    /// Go: the value types given to desc holders in the other files of the package.
    pub desc_uses: HashMap<String, Vec<Option<MetricType>>>,
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
    extract_with(lang, src, &Env::default())
}

/// [`extract`], with the names other files of the project supply.
pub fn extract_with(lang: Lang, src: &str, env: &Env) -> Extracted {
    if !HINT.is_match(src) {
        return exports(lang, src);
    }
    let mut cx = Cx::new(lang, src, env);
    match lang {
        Lang::JavaScript => cx.run_js(),
        Lang::Go => cx.run_go(),
        Lang::Python => cx.run_py(),
    }
    cx.finish(true)
}

/// What a file offers other files (exports, imports, re-exports), without looking for
/// definitions: for the files of a package or module tree that do not use a client library.
pub fn exports(lang: Lang, src: &str) -> Extracted {
    let mut cx = Cx::new(lang, src, &NO_ENV);
    match lang {
        Lang::JavaScript => cx.js_binds(),
        Lang::Python => cx.py_binds(),
        Lang::Go => cx.go_imports(),
    }
    cx.finish(false)
}

static NO_ENV: LazyLock<Env> = LazyLock::new(Env::default);

/// Longest string value and label list read (longer ones come from hostile input).
const MAX_VALUE: usize = 4096;

/// Paths whose definitions are not the application's: tests, fixtures, vendored and bundled
/// code (`*_test.go`, `test_*.py`, `*_test.py`, `*.test.js`, `*.spec.ts`, `*.min.js`, and
/// anything under `tests/`, `test/`, `testdata/`, `spec/`, `__tests__/`, `fixtures/`,
/// `vendor/`, `dist/`, `build/`, `node_modules/`). `rel` is relative to the directory walked.
pub fn is_test_or_bundled(rel: &str) -> bool {
    let parts: Vec<&str> = rel.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
    let Some((file, dirs)) = parts.split_last() else {
        return false;
    };
    const DIRS: &[&str] = &[
        "tests",
        "test",
        "testdata",
        "spec",
        "__tests__",
        "fixtures",
        "vendor",
        "dist",
        "build",
        "node_modules",
    ];
    if dirs.iter().any(|d| DIRS.contains(d)) {
        return true;
    }
    let f = file.to_ascii_lowercase();
    let stem = f.rsplit_once('.').map_or(f.as_str(), |x| x.0);
    f.ends_with("_test.go")
        || (f.ends_with(".py") && (stem.starts_with("test_") || stem.ends_with("_test")))
        || f.ends_with(".min.js")
        || [".test", ".spec"].iter().any(|t| stem.ends_with(t))
        || f.ends_with("conftest.py")
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

/// The indentation of each token that is the first on its line (only spaces and tabs before
/// it there), in one pass.
fn first_indents(src: &str, toks: &[Tok]) -> Vec<Option<usize>> {
    let b = src.as_bytes();
    let mut prev_end = 0;
    toks.iter()
        .map(|t| {
            let gap = &b[prev_end.min(t.span.start)..t.span.start];
            let first = prev_end == 0 || gap.contains(&b'\n');
            prev_end = t.span.end;
            if !first {
                return None;
            }
            let ls = gap.iter().rposition(|&c| c == b'\n').map_or(0, |p| p + 1);
            let pre = &gap[ls..];
            pre.iter()
                .all(|&c| c == b' ' || c == b'\t')
                .then_some(pre.len())
        })
        .collect()
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
#[derive(Default)]
struct Parts {
    help: Option<Range<usize>>,
    labels: Option<Range<usize>>,
    /// Go `ConstLabels` / `NewDesc`'s constLabels: a map whose keys are labels too.
    const_labels: Option<Range<usize>>,
    buckets: Option<Range<usize>>,
    /// Entries may hide in a spread: a missing one is unknown rather than absent.
    opaque: bool,
    /// Why the type is not known (a `NewDesc` not tied to a value type).
    kind_unknown: Option<String>,
    /// A custom collector's metric (`NewDesc`, a Python metric family): buckets are values
    /// given at collection, never the library default.
    custom: bool,
}

/// A function or method of the file: its parameters (with defaults) and body tokens.
struct Func {
    name: String,
    name_tok: usize,
    params: Vec<(String, Option<Range<usize>>)>,
    body: Range<usize>,
    /// The enclosing function (index + 1; 0: top level).
    outer: usize,
}

/// `name = rhs` (`const`, `var`, `:=`, a Python assignment); kept by name and scope.
struct Assign {
    name_tok: usize,
    rhs: Range<usize>,
}

/// What an identifier stands for.
enum Found<'e> {
    /// An expression of this file (an assignment's value, a wrapper call's argument).
    Here(Range<usize>),
    /// A value another file supplies.
    Val(&'e Val),
}

/// A Go composite literal's elements and the value types among them.
struct Literal {
    values: Vec<Range<usize>>,
    kinds: Vec<Option<MetricType>>,
    /// Its holders were noted as used with its value type.
    done: std::cell::Cell<bool>,
}

type Labels = Vec<(String, Range<usize>)>;

/// A const-metric call's use of a desc holder (Go).
struct DescUse {
    holder: String,
    scope: usize,
    tok: usize,
    kind: Option<MetricType>,
}

struct Cx<'a> {
    lang: Lang,
    src: &'a str,
    t: Vec<Tok>,
    mat: Vec<Option<usize>>,
    /// The innermost bracket opener around each token.
    parent: Vec<Option<usize>>,
    env: &'a Env,
    funcs: Vec<Func>,
    /// Innermost function around each token (index + 1; 0: top level).
    scope: Vec<usize>,
    /// Assignments by (name, scope), in source order.
    assigns: HashMap<(&'a str, usize), Vec<Assign>>,
    /// The top level's value of a name, once judged (None: assignments that disagree).
    top: HashMap<&'a str, Option<Range<usize>>>,
    /// Indentation of each token that is the first on its line.
    indent: Vec<Option<usize>>,
    /// Expanding a wrapper's call: the wrapper and the argument of each parameter.
    bind: Option<(usize, Vec<Option<Range<usize>>>)>,
    /// The wrapper call being expanded: (first token, name token, closing parenthesis).
    site: Option<(usize, usize, usize)>,
    /// A parameter of an enclosing function was looked up outside an expansion: (function,
    /// parameter index).
    touched: Option<(usize, usize)>,
    /// The constructor token the current handler started at.
    cur: usize,
    wrappers: Vec<(usize, usize)>,
    depth: u32,
    unresolved: std::collections::BTreeSet<String>,
    desc_uses: Vec<DescUse>,
    /// `desc_uses` by holder, in source order.
    desc_index: HashMap<String, Vec<usize>>,
    /// The type of a holder that is not a local variable, once judged.
    desc_verdicts: HashMap<String, Result<MetricType, String>>,
    /// Values of assignments already read, by their first token.
    memo_s: HashMap<usize, Option<(String, Range<usize>)>>,
    memo_l: HashMap<usize, (Labels, bool)>,
    /// Go composite literals read, by opener.
    literals: HashMap<usize, std::rc::Rc<Literal>>,
    binds: Binds,
    fallback: bool,
    imports: HashMap<String, String>,
    out: Extracted,
}

impl<'a> Cx<'a> {
    fn new(lang: Lang, src: &'a str, env: &'a Env) -> Cx<'a> {
        let t = lex(lang, src);
        let mat = match_brackets(&t);
        let mut parent = vec![None; t.len()];
        let mut stack: Vec<usize> = Vec::new();
        for i in 0..t.len() {
            while stack
                .last()
                .is_some_and(|&o| mat[o].is_some_and(|c| c <= i))
            {
                stack.pop();
            }
            parent[i] = stack.last().copied();
            if mat[i].is_some_and(|c| c > i) {
                stack.push(i);
            }
        }
        let mut cx = Cx {
            lang,
            src,
            scope: vec![0; t.len()],
            t,
            mat,
            parent,
            env,
            funcs: Vec::new(),
            assigns: HashMap::new(),
            top: HashMap::new(),
            indent: Vec::new(),
            bind: None,
            site: None,
            touched: None,
            cur: 0,
            wrappers: Vec::new(),
            depth: 0,
            unresolved: Default::default(),
            desc_uses: Vec::new(),
            desc_index: HashMap::new(),
            desc_verdicts: HashMap::new(),
            memo_s: HashMap::new(),
            memo_l: HashMap::new(),
            literals: HashMap::new(),
            binds: Binds::new(),
            fallback: false,
            imports: HashMap::new(),
            out: Extracted::default(),
        };
        cx.indent = first_indents(src, &cx.t);
        cx.collect_funcs();
        cx.collect_assigns();
        cx
    }

    /// Exports (top-level names with a readable value), unresolved names, desc uses.
    fn finish(mut self, _defs: bool) -> Extracted {
        let mut names: Vec<&'a str> = self
            .assigns
            .keys()
            .filter(|k| k.1 == 0)
            .map(|k| k.0)
            .collect();
        names.sort_unstable();
        for name in names {
            let Some(at) = self.assigns[&(name, 0)].first() else {
                continue;
            };
            let at = at.name_tok;
            let Some(Found::Here(r)) = self.lookup(at) else {
                continue;
            };
            let v = match self.eval_str(r.clone()) {
                Some((s, _)) => Some(Val::Str(s)),
                None => match self.eval_labels(r.clone()) {
                    (l, true) => Some(Val::List(l.into_iter().map(|x| x.0).collect())),
                    // Go `x = otherpkg.Name`: the same as that package's
                    _ if self.lang == Lang::Go
                        && r.len() == 3
                        && self.p(r.start + 1, b'.')
                        && self.id(r.start + 2) =>
                    {
                        self.imports
                            .get(self.tx(r.start))
                            .map(|p| Val::Ref(format!("{p}.{}", self.tx(r.start + 2))))
                    }
                    _ => None,
                },
            };
            if let Some(v) = v {
                self.out.exports.push((name.to_string(), v));
            }
        }
        self.out.unresolved = std::mem::take(&mut self.unresolved).into_iter().collect();
        self.out.desc_uses = self
            .desc_uses
            .iter()
            .map(|u| (u.holder.clone(), u.kind))
            .collect();
        self.out
    }

    /// A function named by token `name_tok` (an anonymous one has no name and is found at
    /// token `at`).
    fn func(
        &self,
        name_tok: Option<usize>,
        at: usize,
        params: Vec<(String, Option<Range<usize>>)>,
        body: Range<usize>,
    ) -> Func {
        Func {
            name: name_tok.map(|k| self.tx(k).to_string()).unwrap_or_default(),
            name_tok: name_tok.unwrap_or(at),
            params,
            body,
            outer: 0,
        }
    }

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
    fn text(&self, r: Range<usize>) -> &'a str {
        let src: &'a str = self.src;
        src.get(self.bspan(r)).unwrap_or("")
    }
    /// An expression's text for messages, shortened.
    fn shown(&self, r: Range<usize>) -> String {
        let t = self.text(r);
        let one: String = t.split_whitespace().collect::<Vec<_>>().join(" ");
        if one.chars().count() > 60 {
            format!("{}…", one.chars().take(57).collect::<String>())
        } else {
            one
        }
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
    /// A single identifier that is not part of a selector or call.
    fn lone_id(&self, r: &Range<usize>) -> bool {
        r.len() == 1 && self.id(r.start)
    }

    /// Split a token range at top-level commas (empty parts dropped).
    fn split(&self, r: Range<usize>) -> Vec<Range<usize>> {
        self.split_at(r, b',')
    }

    fn split_at(&self, r: Range<usize>, sep: u8) -> Vec<Range<usize>> {
        let (mut out, mut s, mut i) = (Vec::new(), r.start, r.start);
        while i < r.end {
            if self.p(i, sep) {
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

    // ------------------------------------------------------------------------ names and scopes

    /// Functions of the file: JS `function f(..) {}`, arrows (`const f = (..) => ..`), methods;
    /// Go `func [(recv)] f(..) .. {}`; Python `def f(..):` (body by indentation).
    fn collect_funcs(&mut self) {
        let n = self.t.len();
        let mut funcs = Vec::new();
        for i in 0..n {
            let f = match self.lang {
                Lang::JavaScript => self.js_func(i),
                Lang::Go => self.go_func(i),
                Lang::Python => self.py_func(i),
            };
            if let Some(f) = f.filter(|f| f.body.start <= f.body.end && f.body.end <= n) {
                funcs.push(f);
            }
            if funcs.len() >= 100_000 {
                break;
            }
        }
        funcs.sort_by_key(|f: &Func| (f.body.start, std::cmp::Reverse(f.body.end)));
        // innermost function of each token, with a stack of the open ones
        let mut stack: Vec<usize> = Vec::new();
        let mut next = 0;
        for i in 0..n {
            while stack.last().is_some_and(|&f| funcs[f].body.end <= i) {
                stack.pop();
            }
            while next < funcs.len() && funcs[next].body.start <= i {
                if funcs[next].body.end > i {
                    funcs[next].outer = stack.last().map_or(0, |&f| f + 1);
                    stack.push(next);
                }
                next += 1;
            }
            self.scope[i] = stack.last().map_or(0, |&f| f + 1);
        }
        self.funcs = funcs;
    }

    /// Parameters in `(..)` at `open`: names and defaults.
    fn params(&self, open: usize) -> Option<Vec<(String, Option<Range<usize>>)>> {
        let close = self.cl(open)?;
        let mut out = Vec::new();
        for seg in self.split(open + 1..close) {
            let mut s = seg.start;
            while self.p(s, b'*') || self.p(s, b'.') {
                s += 1;
            }
            if !self.id(s) {
                out.push((String::new(), None));
                continue;
            }
            let default = (s + 1..seg.end)
                .find(|&k| self.p(k, b'=') && self.parent[k] == Some(open))
                .map(|k| k + 1..seg.end);
            out.push((self.tx(s).to_string(), default));
        }
        Some(out)
    }

    fn js_func(&self, i: usize) -> Option<Func> {
        const NOT: &[&str] = &[
            "if", "for", "while", "switch", "catch", "function", "return", "with", "super",
        ];
        let (name_tok, open) = if self.kw(i, "function") {
            let k = i + 1 + usize::from(self.p(i + 1, b'*'));
            if self.id(k) {
                (Some(k), k + 1)
            } else {
                (None, k)
            }
        } else if self.p(i, b'=') && self.p(i + 1, b'>') {
            // arrow: find the parameter list before `=>` (past a TS return type)
            let mut j = i.checked_sub(1)?;
            let mut steps = 0;
            while !(self.p(j, b')') && self.mat[j].is_some()) {
                if self.id(j)
                    && (self.p(j.wrapping_sub(1), b'=')
                        || self.p(j.wrapping_sub(1), b'(')
                        || self.p(j.wrapping_sub(1), b',')
                        || self.p(j.wrapping_sub(1), b':')
                        || self.kw(j.wrapping_sub(1), "async"))
                    && steps == 0
                {
                    // `x => ..`: one parameter
                    let body = self.arrow_body(i + 2)?;
                    let name_tok = self.arrow_name(j);
                    return Some(self.func(
                        name_tok,
                        j,
                        vec![(self.tx(j).to_string(), None)],
                        body,
                    ));
                }
                j = j.checked_sub(1)?;
                steps += 1;
                if steps > 24 {
                    return None;
                }
            }
            let open = self.mat[j]?;
            let mut k = open.checked_sub(1);
            // generic parameters `<T extends string>`
            if k.is_some_and(|k| self.p(k, b'>')) {
                let mut d = 0;
                let mut m = k?;
                loop {
                    if self.p(m, b'>') {
                        d += 1;
                    } else if self.p(m, b'<') {
                        d -= 1;
                        if d == 0 {
                            break;
                        }
                    }
                    m = m.checked_sub(1)?;
                    if m + 32 < open {
                        return None;
                    }
                }
                k = m.checked_sub(1);
            }
            if k.is_some_and(|k| self.kw(k, "async")) {
                k = k?.checked_sub(1);
            }
            let name_tok = k.and_then(|k| self.arrow_name(k + 1));
            let body = self.arrow_body(i + 2)?;
            return Some(self.func(name_tok, open, self.params(open)?, body));
        } else if self.id(i)
            && self.p(i + 1, b'(')
            && !NOT.contains(&self.tx(i))
            && !self.p(i.wrapping_sub(1), b'.')
            && !self.kw(i.wrapping_sub(1), "new")
        {
            // method shorthand `name(..) {`
            let c = self.cl(i + 1)?;
            let mut b = c + 1;
            if self.p(b, b':') {
                while b < c + 24 && !self.p(b, b'{') {
                    b += 1;
                }
            }
            self.p(b, b'{').then_some(())?;
            let end = self.cl(b)?;
            return Some(self.func(Some(i), i, self.params(i + 1)?, b + 1..end));
        } else {
            return None;
        };
        self.p(open, b'(').then_some(())?;
        let c = self.cl(open)?;
        let b = (c + 1..(c + 24).min(self.t.len())).find(|&b| self.p(b, b'{'))?;
        let end = self.cl(b)?;
        let name_tok = name_tok.or_else(|| self.arrow_name(i));
        Some(self.func(name_tok, i, self.params(open)?, b + 1..end))
    }

    /// The name an arrow or function expression starting at `k` is assigned to
    /// (`const f = `, `f: `).
    fn arrow_name(&self, k: usize) -> Option<usize> {
        let e = k.checked_sub(1)?;
        if !(self.p(e, b'=') || self.p(e, b':')) {
            return None;
        }
        let mut j = e.checked_sub(1)?;
        // `const f: Type = ..`: walk back to the name after `const`
        for _ in 0..16 {
            if self.id(j) && ["const", "let", "var"].contains(&self.tx(j.wrapping_sub(1))) {
                return Some(j);
            }
            if self.p(e, b':') || !self.p(e, b'=') {
                break;
            }
            j = j.checked_sub(1)?;
        }
        let j = e - 1;
        self.id(j).then_some(j)
    }

    fn arrow_body(&self, b: usize) -> Option<Range<usize>> {
        if self.p(b, b'{') {
            return Some(b + 1..self.cl(b)?);
        }
        Some(b..self.expr_end(b))
    }

    fn go_func(&self, i: usize) -> Option<Func> {
        if !self.kw(i, "func") {
            return None;
        }
        let mut k = i + 1;
        if self.p(k, b'(') && self.id(self.cl(k)? + 1) {
            k = self.cl(k)? + 1; // receiver
        }
        let name_tok = self.id(k).then_some(k);
        let open = k + usize::from(name_tok.is_some());
        self.p(open, b'(').then_some(())?;
        let c = self.cl(open)?;
        let mut b = c + 1;
        while b < c + 64 && b < self.t.len() {
            if self.p(b, b'{') && !self.kw(b - 1, "interface") && !self.kw(b - 1, "struct") {
                break;
            }
            b = self.skip(b, self.t.len()).max(b + 1);
            if self.p(b - 1, b'}') && !self.p(b, b'{') && self.p(b, b'{') {
                break;
            }
        }
        self.p(b, b'{').then_some(())?;
        let end = self.cl(b)?;
        Some(self.func(name_tok, i, self.params(open)?, b + 1..end))
    }

    /// Indentation of the line of token `i`, if `i` is the first token on it.
    fn line_indent(&self, i: usize) -> Option<usize> {
        self.indent.get(i).copied().flatten()
    }

    fn py_func(&self, i: usize) -> Option<Func> {
        if !self.kw(i, "def") || !self.id(i + 1) || !self.p(i + 2, b'(') {
            return None;
        }
        let c = self.cl(i + 2)?;
        let colon = (c + 1..(c + 32).min(self.t.len()))
            .find(|&k| self.p(k, b':') && self.parent[k] == self.parent[i])?;
        let mut d = i;
        while d > 0 && (self.p(d - 1, b'@') || self.kw(d - 1, "async")) {
            d -= 1;
        }
        let indent = self
            .line_indent(d)
            .or_else(|| self.line_indent(i))
            .unwrap_or(0);
        let mut end = colon + 1;
        while end < self.t.len() {
            if end > colon + 1
                && self.parent[end] == self.parent[i]
                && self.line_indent(end).is_some_and(|x| x <= indent)
            {
                break;
            }
            end += 1;
        }
        Some(self.func(Some(i + 1), i + 1, self.params(i + 2)?, colon + 1..end))
    }

    /// Where an expression starting at `i` ends: operands (literals, names, selectors, calls,
    /// index, bracket groups, Go composite literals) joined by binary `+`.
    fn expr_end(&self, i: usize) -> usize {
        let n = self.t.len();
        let mut k = i;
        let mut want = true;
        while k < n {
            let tk = &self.t[k].tk;
            if want {
                let prefix = self.lang == Lang::JavaScript
                    && ["new", "await", "typeof", "void"].contains(&self.tx(k));
                match tk {
                    Tk::P(b'-' | b'+' | b'!' | b'&' | b'*') => k += 1,
                    Tk::Id if prefix => k += 1,
                    Tk::P(b'(' | b'[' | b'{') => {
                        k = self.skip(k, n);
                        want = false;
                    }
                    Tk::Id | Tk::Str(_) | Tk::Num(_) | Tk::Other => {
                        k += 1;
                        want = false;
                    }
                    _ => return k,
                }
                continue;
            }
            let prev_closer = self.p(k - 1, b')') || self.p(k - 1, b']') || self.p(k - 1, b'}');
            let prev_id = self.id(k - 1);
            match tk {
                Tk::P(b'+') if !self.p(k + 1, b'=') => (k, want) = (k + 1, true),
                Tk::P(b'.') if self.id(k + 1) => k += 2,
                Tk::P(b'(' | b'[') if prev_id || prev_closer => k = self.skip(k, n),
                Tk::P(b'{') if self.lang == Lang::Go && (prev_id || self.p(k - 1, b']')) => {
                    k = self.skip(k, n)
                }
                Tk::Id if self.lang == Lang::Go && self.p(k - 1, b']') => k += 1,
                Tk::Id
                    if self.lang == Lang::JavaScript
                        && (self.tx(k) == "as" || self.tx(k) == "satisfies") =>
                {
                    // `as const`, `as Type`: part of the expression
                    k += 2;
                }
                _ => return k,
            }
        }
        k
    }

    /// Assignments: JS `const|let|var X [: T] = ..`; Go `X = ..` (in `const`/`var` blocks
    /// too), `X T = ..`, `X := ..`; Python `X = ..`, `X: T = ..`.
    fn collect_assigns(&mut self) {
        let n = self.t.len();
        for e in 0..n {
            if !self.p(e, b'=') || self.p(e + 1, b'=') || self.p(e + 1, b'>') {
                continue;
            }
            let before = e.wrapping_sub(1);
            if ["=", "!", "<", ">", "+", "-", "*", "/", "%", "&", "|", "^"]
                .contains(&self.tx(before))
            {
                continue;
            }
            // inside parentheses or brackets: keyword arguments, defaults (Go const/var blocks
            // excepted)
            if let Some(o) = self.parent[e] {
                let block = self.lang == Lang::Go
                    && self.p(o, b'(')
                    && (self.kw(o.wrapping_sub(1), "const") || self.kw(o.wrapping_sub(1), "var"));
                if !self.p(o, b'{') && !block {
                    continue;
                }
                if self.lang != Lang::Go && self.p(o, b'{') && self.lang == Lang::Python {
                    continue;
                }
            }
            // `const { a, ...rest } = options`: `rest` holds what `options` holds (less `a`)
            if self.lang == Lang::JavaScript && self.p(before, b'}') {
                let o = self.mat[before].filter(|&o| o < before);
                if let Some(o) =
                    o.filter(|&o| ["const", "let", "var"].contains(&self.tx(o.wrapping_sub(1))))
                {
                    let rhs = e + 1..self.expr_end(e + 1);
                    for seg in self.split(o + 1..before) {
                        let rest =
                            self.p(seg.start, b'.') && seg.len() == 4 && self.id(seg.start + 3);
                        if rest && !rhs.is_empty() {
                            let name: &'a str = self.tx(seg.start + 3);
                            let scope = self.scope[e];
                            self.assigns.entry((name, scope)).or_default().push(Assign {
                                name_tok: seg.start + 3,
                                rhs: rhs.clone(),
                            });
                        }
                    }
                }
                continue;
            }
            let name = match self.lang {
                Lang::JavaScript => (1..16)
                    .map(|d| e.wrapping_sub(d))
                    .take_while(|&k| k < n)
                    .find(|&k| {
                        self.id(k) && ["const", "let", "var"].contains(&self.tx(k.wrapping_sub(1)))
                    })
                    .filter(|&k| {
                        // `const X = ` or `const X: Type = `, in one statement
                        k + 1 == e
                            || (self.p(k + 1, b':')
                                && self.parent[k] == self.parent[e]
                                && (k + 2..e).all(|m| !self.p(m, b';') && !self.p(m, b'=')))
                    }),
                Lang::Go => {
                    let a = e.wrapping_sub(1);
                    // `X := ..`, `X T = ..`
                    let typed = self.id(a)
                        && self.id(e.wrapping_sub(2))
                        && !["var", "const", "return"].contains(&self.tx(e.wrapping_sub(2)))
                        && !self.p(e.wrapping_sub(3), b'.')
                        && !self.p(e.wrapping_sub(3), b',');
                    if self.p(a, b':') || typed {
                        Some(e.wrapping_sub(2))
                    } else if self.id(a)
                        && !self.p(e.wrapping_sub(2), b'.')
                        && !self.p(e.wrapping_sub(2), b',')
                    {
                        Some(a)
                    } else {
                        None
                    }
                }
                Lang::Python => {
                    let a = e.wrapping_sub(1);
                    if self.id(a)
                        && self.p(a.wrapping_sub(1), b':')
                        && self.id(a.wrapping_sub(2))
                        && self.line_indent(a.wrapping_sub(2)).is_some()
                    {
                        Some(a.wrapping_sub(2))
                    } else if self.id(a)
                        && !self.p(a.wrapping_sub(1), b'.')
                        && !self.p(a.wrapping_sub(1), b',')
                    {
                        Some(a)
                    } else {
                        None
                    }
                }
            };
            let Some(k) = name.filter(|&k| self.id(k)) else {
                continue;
            };
            let rhs = e + 1..self.expr_end(e + 1);
            if rhs.is_empty() {
                continue;
            }
            let name: &'a str = self.tx(k);
            let scope = self.scope[e];
            self.assigns
                .entry((name, scope))
                .or_default()
                .push(Assign { name_tok: k, rhs });
        }
    }

    /// What the identifier at `i` stands for: a parameter bound at a wrapper call, the last
    /// assignment before it in an enclosing function, the top level's (when all its
    /// assignments agree), or another file's value. Unknown names are noted.
    fn lookup(&mut self, i: usize) -> Option<Found<'a>> {
        let name: &'a str = self.tx(i);
        let env: &'a Env = self.env;
        if self.depth > 16 {
            return None;
        }
        // parameters of the enclosing functions
        let mut f = self.scope.get(i).copied().unwrap_or(0);
        let mut chain = Vec::new();
        while f > 0 && chain.len() < 64 {
            chain.push(f);
            let func = &self.funcs[f - 1];
            if let Some(pi) = func.params.iter().position(|p| p.0 == name) {
                if let Some((bf, args)) = &self.bind {
                    if *bf == f - 1 {
                        return args.get(pi).cloned().flatten().map(Found::Here);
                    }
                }
                self.touched = Some((f - 1, pi));
                return None;
            }
            f = func.outer;
        }
        chain.push(0);
        for &s in &chain {
            let Some(here) = self.assigns.get(&(name, s)) else {
                continue;
            };
            if s > 0 {
                let before = here.partition_point(|a| a.name_tok < i);
                return Some(Found::Here(here.get(before.checked_sub(1)?)?.rhs.clone()));
            }
            if let Some(v) = self.top.get(name) {
                return v.clone().map(Found::Here);
            }
            let first = self.text(here[0].rhs.clone());
            let agree = here.iter().all(|a| self.text(a.rhs.clone()) == first);
            let v = agree.then(|| here[0].rhs.clone());
            self.top.insert(name, v.clone());
            return v.map(Found::Here);
        }
        if let Some(v) = env.vals.get(name) {
            return Some(Found::Val(v));
        }
        self.unresolved.insert(name.to_string());
        None
    }

    /// The argument bound to a lone identifier that is a parameter of the wrapper being
    /// expanded.
    fn bound_arg(&self, r: &Range<usize>) -> Option<Range<usize>> {
        let (bf, args) = self.bind.as_ref()?;
        if !self.lone_id(r) {
            return None;
        }
        let name = self.tx(r.start);
        let mut f = self.scope.get(r.start).copied().unwrap_or(0);
        while f > 0 {
            let func = &self.funcs[f - 1];
            if let Some(pi) = func.params.iter().position(|p| p.0 == name) {
                return (*bf == f - 1)
                    .then(|| args.get(pi).cloned().flatten())
                    .flatten();
            }
            f = func.outer;
        }
        None
    }

    // ------------------------------------------------------------------------------ evaluation

    /// A string: literal, known constant, Go `BuildFQName(..)`, or `+` concatenation of those
    /// (Python: also adjacent literals); with its span (see the module documentation).
    fn eval_str(&mut self, r: Range<usize>) -> Option<(String, Range<usize>)> {
        let r = self.trim(r);
        if r.is_empty() {
            return None;
        }
        // operands between top-level `+` (Python: adjacent string literals too)
        let mut ops = Vec::new();
        let (mut s, mut i) = (r.start, r.start);
        while i < r.end {
            if self.p(i, b'+') && i > s {
                ops.push(s..i);
                s = i + 1;
                i += 1;
            } else if self.lang == Lang::Python
                && matches!(self.t[i].tk, Tk::Str(_))
                && matches!(self.t.get(i + 1).map(|t| &t.tk), Some(Tk::Str(_)))
                && i + 1 < r.end
            {
                ops.push(s..i + 1);
                s = i + 1;
                i += 1;
            } else {
                i = self.skip(i, r.end);
            }
        }
        if s >= r.end {
            return None;
        }
        ops.push(s..r.end);
        let single = ops.len() == 1;
        let mut out = String::new();
        let mut span = None;
        // every operand is read, so that all names it needs are noted
        let vals: Vec<_> = ops.into_iter().map(|op| self.eval_operand(op)).collect();
        for v in vals {
            let (v, sp) = v?;
            out.push_str(&v);
            span = Some(sp);
            if out.len() > MAX_VALUE {
                return None; // no metric name is this long: a hostile expression
            }
        }
        let span = if single { span? } else { self.bspan(r) };
        Some((out, span))
    }

    /// [`Cx::eval_str`] of an assignment's value, once per value (outside a wrapper's
    /// expansion, where parameters change meaning).
    fn memo_str(&mut self, rhs: Range<usize>) -> Option<(String, Range<usize>)> {
        if self.bind.is_some() {
            return self.eval_str(rhs);
        }
        if let Some(v) = self.memo_s.get(&rhs.start) {
            return v.clone();
        }
        let v = self.eval_str(rhs.clone());
        self.memo_s.insert(rhs.start, v.clone());
        v
    }

    /// [`Cx::eval_labels`] of an assignment's value, once per value.
    fn memo_labels(&mut self, rhs: Range<usize>) -> (Vec<(String, Range<usize>)>, bool) {
        if self.bind.is_some() {
            return self.eval_labels(rhs);
        }
        if let Some(v) = self.memo_l.get(&rhs.start) {
            return v.clone();
        }
        let v = self.eval_labels(rhs.clone());
        self.memo_l.insert(rhs.start, v.clone());
        v
    }

    fn eval_operand(&mut self, r: Range<usize>) -> Option<(String, Range<usize>)> {
        let i = r.start;
        if r.len() == 1 {
            return match &self.t[i].tk {
                Tk::Str(Some(v)) => Some((v.clone(), self.t[i].inner.clone())),
                Tk::Id => {
                    let span = self.bspan(i..i + 1);
                    self.depth += 1;
                    let v = match self.lookup(i) {
                        Some(Found::Here(rhs)) => self.memo_str(rhs),
                        Some(Found::Val(Val::Str(v))) => Some((v.clone(), span)),
                        _ => None,
                    };
                    self.depth -= 1;
                    v
                }
                _ => None,
            };
        }
        // Go `pkg.Name`: a constant of another package of the module
        if self.lang == Lang::Go
            && r.len() == 3
            && self.id(i)
            && self.p(i + 1, b'.')
            && self.id(i + 2)
        {
            let path = self
                .imports
                .get(self.tx(i))
                .filter(|p| !is_lib(Lang::Go, p))?;
            let key = format!("{path}.{}", self.tx(i + 2));
            let env: &'a Env = self.env;
            return match env.vals.get(&key) {
                Some(Val::Str(v)) => Some((v.clone(), self.bspan(r))),
                Some(_) => None,
                None => {
                    self.unresolved.insert(key);
                    None
                }
            };
        }
        // Python `os.getenv("X", "default")` / `os.environ.get("X", "default")`: the default
        if self.lang == Lang::Python && self.p(r.end - 1, b')') {
            let o = self.mat[r.end - 1].filter(|&o| o > r.start)?;
            let f: Vec<&str> = (r.start..o).map(|k| self.tx(k)).collect();
            if matches!(
                f.as_slice(),
                ["os", ".", "getenv"] | ["os", ".", "environ", ".", "get"] | ["getenv"]
            ) {
                let args = self.split(o + 1..r.end - 1);
                return args.get(1).cloned().and_then(|d| self.eval_str(d));
            }
        }
        // Go `prometheus.BuildFQName(namespace, subsystem, name)`
        let last = r.end - 1;
        if self.lang == Lang::Go
            && self.p(last, b')')
            && self.mat[last]
                .is_some_and(|o| o >= 1 && o > r.start && self.kw(o - 1, "BuildFQName"))
        {
            let o = self.mat[last]?;
            let parts = self.split(o + 1..last);
            if parts.len() != 3 {
                return None;
            }
            let vals: Vec<_> = parts.into_iter().map(|p| self.eval_str(p)).collect();
            let vals: Vec<(String, Range<usize>)> = vals.into_iter().collect::<Option<_>>()?;
            if vals[2].0.is_empty() {
                return Some((String::new(), vals[2].1.clone()));
            }
            let joined: Vec<&str> = vals
                .iter()
                .map(|v| v.0.as_str())
                .filter(|v| !v.is_empty())
                .collect();
            return Some((joined.join("_"), vals[2].1.clone()));
        }
        None
    }

    /// A number: literal with signs, a string of one (`"+Inf"`), or the language's spelling of
    /// infinity.
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
            (Tk::Str(Some(s)), [_]) => s.trim().parse().ok()?,
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

    /// Elements of a list literal: JS/Python `[..]`, Python `(..)`, Go `[]T{..}` and
    /// `pkg.Type{..}` (`UnconstrainedLabels`).
    fn eval_list(&self, r: Range<usize>) -> Option<Vec<Range<usize>>> {
        let r = self.trim(r);
        let open = match self.lang {
            Lang::Go if self.p(r.start, b'[') => {
                (self.cl(r.start)? + 1..r.end).find(|&o| self.p(o, b'{'))?
            }
            Lang::Go
                if self.id(r.start)
                    && self.p(r.start + 1, b'.')
                    && self.id(r.start + 2)
                    && self.p(r.start + 3, b'{') =>
            {
                r.start + 3
            }
            Lang::Python if self.p(r.start, b'(') => r.start,
            Lang::JavaScript | Lang::Python if self.p(r.start, b'[') => r.start,
            _ => return None,
        };
        let close = self.cl(open)?;
        (close + 1 == r.end).then(|| self.split(open + 1..close))
    }

    /// Label names of a list expression: literal lists, constants of lists (this file's or
    /// another's), spreads (`...x`, `*x`, `x...`), concatenations (`a + b`), Go `append`.
    fn eval_labels(&mut self, r: Range<usize>) -> (Vec<(String, Range<usize>)>, bool) {
        let (l, known) = self.eval_labels_inner(r);
        if l.len() > MAX_VALUE / 16 {
            return (Vec::new(), false); // no metric has this many labels: hostile input
        }
        (l, known)
    }

    fn eval_labels_inner(&mut self, r: Range<usize>) -> (Vec<(String, Range<usize>)>, bool) {
        let r = self.trim(r);
        let unknown = (Vec::new(), false);
        if r.is_empty() || self.depth > 16 {
            return unknown;
        }
        if self.lone_id(&r) {
            let w = self.tx(r.start);
            if matches!(
                (self.lang, w),
                (Lang::Go, "nil") | (Lang::Python, "None") | (Lang::JavaScript, "undefined")
            ) {
                return (Vec::new(), true);
            }
            let span = self.bspan(r.clone());
            self.depth += 1;
            let v = match self.lookup(r.start) {
                Some(Found::Here(rhs)) => self.memo_labels(rhs),
                Some(Found::Val(Val::List(l))) => {
                    (l.iter().map(|x| (x.clone(), span.clone())).collect(), true)
                }
                _ => unknown,
            };
            self.depth -= 1;
            return v;
        }
        // Go `append(base, "x", more...)`
        if self.lang == Lang::Go
            && self.kw(r.start, "append")
            && self.p(r.start + 1, b'(')
            && self.cl(r.start + 1) == Some(r.end - 1)
        {
            let segs = self.split(r.start + 2..r.end - 1);
            let mut out = Vec::new();
            let mut known = true;
            for (k, seg) in segs.into_iter().enumerate() {
                let spread = seg.len() > 3
                    && self.p(seg.end - 1, b'.')
                    && self.p(seg.end - 2, b'.')
                    && self.p(seg.end - 3, b'.');
                let (l, ok) = if k == 0 {
                    self.eval_labels(seg)
                } else if spread {
                    self.eval_labels(seg.start..seg.end - 3)
                } else {
                    match self.eval_str(seg) {
                        Some(s) => (vec![s], true),
                        None => (Vec::new(), false),
                    }
                };
                out.extend(l);
                known &= ok;
            }
            return (out, known);
        }
        // `a + b`
        let parts = self.split_at(r.clone(), b'+');
        if parts.len() > 1 && self.lang != Lang::Go {
            let mut out = Vec::new();
            let mut known = true;
            for p in parts {
                let (l, ok) = self.eval_labels(p);
                out.extend(l);
                known &= ok;
            }
            return (out, known);
        }
        let Some(elems) = self.eval_list(r) else {
            return unknown;
        };
        let (mut out, mut known) = (Vec::new(), true);
        for e in elems {
            let js_spread =
                self.p(e.start, b'.') && self.p(e.start + 1, b'.') && self.p(e.start + 2, b'.');
            let py_spread = self.lang == Lang::Python && self.p(e.start, b'*');
            if js_spread || py_spread {
                let (l, ok) = self.eval_labels(e.start + if js_spread { 3 } else { 1 }..e.end);
                out.extend(l);
                known &= ok;
                continue;
            }
            match self.eval_str(e) {
                Some(s) => out.push(s),
                None => known = false,
            }
        }
        (out, known)
    }

    /// Keys of a Go label map (`prometheus.Labels{"k": v}`, `map[string]string{..}`, `nil`,
    /// or a variable holding one).
    fn eval_label_keys(&mut self, r: Range<usize>) -> (Vec<(String, Range<usize>)>, bool) {
        let unknown = (Vec::new(), false);
        if r.is_empty() || self.depth > 16 {
            return unknown;
        }
        if self.lone_id(&r) {
            if self.tx(r.start) == "nil" {
                return (Vec::new(), true);
            }
            self.depth += 1;
            let v = match self.lookup(r.start) {
                Some(Found::Here(rhs)) => self.eval_label_keys(rhs),
                _ => unknown,
            };
            self.depth -= 1;
            return v;
        }
        let last = r.end - 1;
        let Some(open) = self.mat[last].filter(|&o| self.p(last, b'}') && o > r.start) else {
            return unknown;
        };
        let mut out = Vec::new();
        let mut known = true;
        for seg in self.split(open + 1..last) {
            let colon =
                (seg.start..seg.end).find(|&k| self.p(k, b':') && self.parent[k] == Some(open));
            match colon.and_then(|c| self.eval_str(seg.start..c)) {
                Some(k) => out.push(k),
                None => known = false,
            }
        }
        (out, known)
    }

    /// (values when known, library default applies)
    fn eval_buckets(&mut self, r: Range<usize>) -> (Option<Vec<f64>>, bool) {
        if self.lone_id(&r) && self.depth < 16 {
            self.depth += 1;
            let found = self.lookup(r.start);
            let v = match found {
                Some(Found::Here(rhs)) => Some(self.eval_buckets(rhs)),
                _ => None,
            };
            self.depth -= 1;
            if let Some(v) = v {
                return v;
            }
        }
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
    fn accept(&self, qual: Option<&str>, name: &str) -> Option<String> {
        let (b, fallback) = (&self.binds, self.fallback);
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
        &mut self,
        a: &Args,
        keys: &[(&str, Option<usize>)],
    ) -> Option<Vec<(String, Range<usize>)>> {
        // every one is read, so that all names they need are noted
        let out: Vec<_> = keys
            .iter()
            .map(|&(k, i)| match a.get(k, i) {
                None => Some((String::new(), 0..0)),
                Some(r) => self.eval_str(r),
            })
            .collect();
        out.into_iter().collect()
    }

    /// The span of the call being read: the wrapper's call when expanding one.
    fn call_span(&self, span: Range<usize>) -> Range<usize> {
        match self.site {
            Some((s, _, c)) => self.start(s)..self.end(c),
            None => span,
        }
    }

    /// Record a definition, or a problem when its name could not be read (inside a function
    /// whose parameter it is: the function is a wrapper, read at its calls).
    fn emit(
        &mut self,
        name: Option<(String, Range<usize>)>,
        kind: MetricType,
        kind_i: usize,
        span: Range<usize>,
        p: Parts,
    ) {
        let span = self.call_span(span);
        if name.as_ref().is_none_or(|n| n.0.is_empty()) {
            // read the rest anyway, so that every name it needs from other files is noted
            // (whether the name is a wrapper's parameter is the name's business alone)
            let touched = self.touched;
            if let Some(r) = p.labels.clone() {
                self.eval_labels(r);
            }
            if let Some(r) = p.const_labels.clone() {
                self.eval_label_keys(r);
            }
            self.touched = touched;
        }
        let Some((name, name_span)) = name.filter(|n| !n.0.is_empty()) else {
            if let (Some((tf, pi)), None) = (self.touched, &self.bind) {
                let f = self.scope.get(self.cur).copied().unwrap_or(0);
                if f > 0 {
                    self.wrappers.push((f - 1, self.cur));
                    // a wrapper of the top level passing its parameter on as the options:
                    // other modules' calls of it are definitions too
                    let func = &self.funcs[tf];
                    if self.lang == Lang::JavaScript && func.outer == 0 && !func.name.is_empty() {
                        self.out
                            .exports
                            .push((func.name.clone(), Val::Wrapper(kind, pi)));
                    }
                    return;
                }
            }
            let what = if p.custom && self.lang == Lang::Go {
                "NewDesc".to_string()
            } else {
                format!("{kind:?}")
            };
            let msg = format!("{what}: the metric name is not a string literal or known constant");
            self.problem(span, &msg);
            return;
        };
        let help = p.help.and_then(|r| self.eval_str(r)).map(|s| s.0);
        let mut unread = Vec::new();
        let (mut labels, mut labels_known) = match p.labels.clone() {
            Some(r) => self.eval_labels(r),
            None => (Vec::new(), !p.opaque),
        };
        if !labels_known {
            let what = match p.labels.clone() {
                Some(r) => format!("its label names (`{}`)", self.shown(r)),
                None => "its options (a spread)".to_string(),
            };
            unread.push(format!(
                "{what} could not be read: not a list of string literals or constants obsgate can resolve"
            ));
        }
        if let Some(r) = p.const_labels.clone() {
            let (keys, ok) = self.eval_label_keys(r.clone());
            labels.extend(keys);
            if !ok {
                labels_known = false;
                unread.push(format!(
                    "its constant labels (`{}`) could not be read",
                    self.shown(r)
                ));
            }
        }
        let r = p
            .buckets
            .map(|r| self.trim(r))
            .filter(|r| kind == H && !r.is_empty());
        let buckets_span = r.clone().map(|r| self.bspan(r));
        let (buckets, buckets_default) = match r {
            Some(r) => self.eval_buckets(r),
            None => (None, kind == H && !p.opaque && !p.custom),
        };
        let kind_known = p.kind_unknown.is_none();
        if let Some(why) = p.kind_unknown {
            unread.push(format!("its type is not known: {why}"));
        }
        let kind_span = match self.site {
            Some((_, n, _)) => self.bspan(n..n + 1),
            None => self.bspan(kind_i..kind_i + 1),
        };
        self.out.defs.push(MetricDef {
            name,
            name_span,
            kind,
            kind_known,
            kind_span,
            help,
            labels,
            labels_known,
            buckets,
            buckets_span,
            buckets_default,
            span,
            unread,
        });
    }

    /// Read the definitions made by calls of the wrappers found (functions whose parameter
    /// gives a definition's name or options), each call with its arguments bound.
    fn expand_wrappers(&mut self, run: fn(&mut Self, usize)) {
        let wrappers = std::mem::take(&mut self.wrappers);
        if wrappers.is_empty() {
            return;
        }
        let mut calls: HashMap<&'a str, Vec<usize>> = HashMap::new();
        for c in 0..self.t.len() {
            if self.id(c) && self.p(c + 1, b'(') {
                calls.entry(self.tx(c)).or_default().push(c);
            }
        }
        let mut done = std::collections::HashSet::new();
        for (f, ctor) in wrappers {
            if !done.insert((f, ctor)) {
                continue;
            }
            let name = self.funcs[f].name.clone();
            if name.is_empty() {
                continue;
            }
            for &c in calls.get(name.as_str()).map(Vec::as_slice).unwrap_or(&[]) {
                let func = &self.funcs[f];
                let prev = c.wrapping_sub(1);
                if c == func.name_tok
                    || func.body.contains(&c)
                    || ["func", "def", "function"].contains(&self.tx(prev))
                {
                    continue;
                }
                let Some(close) = self.cl(c + 1) else {
                    continue;
                };
                let method = self.p(prev, b'.');
                let root = if method {
                    self.chain_root(prev, true).unwrap_or(c)
                } else {
                    c
                };
                let a = self.args(c + 2..close, b'=');
                let mut params: &[(String, Option<Range<usize>>)] = &func.params;
                if self.lang == Lang::Python
                    && method
                    && params
                        .first()
                        .is_some_and(|p| p.0 == "self" || p.0 == "cls")
                {
                    params = &params[1..];
                }
                let kw = self.lang == Lang::Python;
                let args: Vec<Option<Range<usize>>> = params
                    .iter()
                    .enumerate()
                    .map(|(k, (pn, def))| {
                        let named = kw
                            .then(|| a.named.iter().find(|x| &x.0 == pn).map(|x| x.1.clone()))
                            .flatten();
                        named
                            .or_else(|| a.pos.get(k).cloned())
                            .or_else(|| def.clone())
                    })
                    .collect();
                let mut args = args;
                if self.lang == Lang::Python
                    && method
                    && func
                        .params
                        .first()
                        .is_some_and(|p| p.0 == "self" || p.0 == "cls")
                {
                    args.insert(0, None);
                }
                if self.lang != Lang::Python {
                    // JS/Go: positional only
                    let pos = self.split(c + 2..close);
                    args = (0..func.params.len())
                        .map(|k| pos.get(k).cloned().or_else(|| func.params[k].1.clone()))
                        .collect();
                }
                self.bind = Some((f, args));
                self.site = Some((root, c, close));
                self.touched = None;
                self.cur = ctor;
                run(self, ctor);
                self.bind = None;
                self.site = None;
            }
        }
    }

    // ------------------------------------------------------------------------------ JavaScript

    /// Bindings of names to modules (imports, requires, destructuring), noting imports and
    /// re-exports for the project pass.
    fn js_binds(&mut self) {
        let mut b = Binds::new();
        for i in 0..self.t.len() {
            if self.kw(i, "require") {
                self.js_require(i, &mut b);
            } else if self.kw(i, "import") {
                self.js_import(i, &mut b);
            } else if self.kw(i, "export") {
                self.js_reexport(i);
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
        for (local, bind) in &b {
            if let Bind::Member(m, e) = bind {
                if !is_lib(Lang::JavaScript, m) {
                    self.out.imports.push((local.clone(), m.clone(), e.clone()));
                }
            }
        }
        self.out.imports.sort();
        self.binds = b;
    }

    /// `export * from 'm'`, `export { a as b } from 'm'`.
    fn js_reexport(&mut self, i: usize) -> Option<()> {
        let (from, names) = if self.p(i + 1, b'*') {
            (i + 2, None)
        } else if self.p(i + 1, b'{') {
            let c = self.cl(i + 1)?;
            (c + 1, Some(self.split(i + 2..c)))
        } else {
            return None;
        };
        let m = self.sv(from + 1).filter(|_| self.kw(from, "from"))?;
        match names {
            None => self.out.reexports.push((m, None)),
            Some(segs) => {
                for seg in segs {
                    let s = seg.start;
                    let local = if self.kw(s + 1, "as") { s + 2 } else { s };
                    let pair = (self.tx(s).to_string(), self.tx(local).to_string());
                    self.out.reexports.push((m.clone(), Some(pair)));
                }
            }
        }
        Some(())
    }

    fn run_js(&mut self) {
        self.js_binds();
        let lib = |t: &Tok| matches!(&t.tk, Tk::Str(Some(v)) if is_lib(Lang::JavaScript, v));
        self.fallback = self.t.iter().any(lib);
        for i in 0..self.t.len() {
            if self.kw(i, "new") {
                self.cur = i;
                self.touched = None;
                self.js_new(i);
            } else if self.kw(i, "collectDefaultMetrics") && self.p(i + 1, b'(') {
                self.js_default_metrics(i);
            } else if self.id(i) && self.p(i + 1, b'(') {
                self.cur = i;
                self.touched = None;
                self.js_wrapped(i);
            }
        }
        self.expand_wrappers(|cx, i| {
            cx.js_new(i);
        });
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

    /// The object literal an options argument is: written there, or held by a constant or
    /// a wrapper's parameter.
    fn object_of(&mut self, r: Range<usize>) -> Option<Range<usize>> {
        let r = self.trim(r);
        if self.p(r.start, b'{') && self.cl(r.start) == Some(r.end - 1) {
            return Some(r.start + 1..r.end - 1);
        }
        if self.lone_id(&r) && self.depth < 16 {
            self.depth += 1;
            let v = match self.lookup(r.start) {
                Some(Found::Here(rhs)) => self.object_of(rhs),
                _ => None,
            };
            self.depth -= 1;
            return v;
        }
        None
    }

    fn js_new(&mut self, i: usize) -> Option<()> {
        let mut k = i + 1;
        while self.p(k + 1, b'.') && self.id(k + 2) && k < i + 32 {
            k += 2;
        }
        let qual = (k > i + 1).then(|| self.tx(i + 1));
        let kind = kind_of(&self.accept(qual, self.tx(k)).filter(|_| self.id(k))?)?;
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
        self.js_definition(first, kind, k, start..self.end(close));
        Some(())
    }

    /// The entries of an options object, spreads of known objects merged in.
    fn js_obj_args(&mut self, r: Range<usize>) -> Args {
        let mut a = self.args(r.clone(), b':');
        if !a.spread || self.depth > 8 {
            return a;
        }
        a.spread = false;
        let mut named = Vec::new();
        for seg in self.split(r) {
            if self.p(seg.start, b'.') && self.p(seg.start + 1, b'.') && self.p(seg.start + 2, b'.')
            {
                self.depth += 1;
                match self.object_of(seg.start + 3..seg.end) {
                    Some(o) => {
                        let inner = self.js_obj_args(o);
                        a.spread |= inner.spread;
                        named.extend(inner.named);
                    }
                    None => a.spread = true,
                }
                self.depth -= 1;
            }
        }
        // entries written beside a spread win over the spread's
        named.extend(a.named);
        a.named = named;
        a
    }

    /// A prom-client definition from its options argument.
    fn js_definition(
        &mut self,
        first: Option<Range<usize>>,
        kind: MetricType,
        kind_i: usize,
        span: Range<usize>,
    ) {
        let obj = first.and_then(|s| self.object_of(s));
        let a = obj.map(|s| self.js_obj_args(s)).unwrap_or_default();
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
            ..Parts::default()
        };
        self.emit(name, kind, kind_i, span, parts);
    }

    /// A call of a wrapper another module exports (`createCounter({ name: .. })`, the
    /// wrapper passing its parameter `param` as prom-client options).
    fn js_wrapped(&mut self, i: usize) -> Option<()> {
        if self.p(i.wrapping_sub(1), b'.') || !self.p(i + 1, b'(') || !self.id(i) {
            return None;
        }
        let env: &'a Env = self.env;
        let (kind, param) = match env.vals.get(self.tx(i)) {
            Some(Val::Wrapper(k, p)) => (*k, *p),
            Some(_) => return None,
            None => {
                // an imported function given an object with a `name`: maybe a wrapper
                let imported = matches!(self.binds.get(self.tx(i)), Some(Bind::Member(m, _)) if !is_lib(Lang::JavaScript, m));
                if imported && self.p(i + 2, b'{') && self.kw(i + 3, "name") {
                    self.unresolved.insert(self.tx(i).to_string());
                }
                return None;
            }
        };
        let close = self.cl(i + 1)?;
        let arg = self.split(i + 2..close).get(param).cloned();
        self.js_definition(arg, kind, i, self.start(i)..self.end(close));
        Some(())
    }

    fn js_default_metrics(&mut self, i: usize) -> Option<()> {
        let dot = i.wrapping_sub(1);
        let root = if self.p(dot, b'.') {
            Some(self.chain_root(dot, false)?)
        } else {
            None
        };
        let e = self.accept(root.map(|r| self.tx(r)), "collectDefaultMetrics")?;
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
        self.go_imports();
        if !self.imports.values().any(|p| is_lib(Lang::Go, p)) {
            return;
        }
        for i in 0..self.t.len() {
            self.go_const_metric(i);
            self.go_typed_literal(i);
        }
        self.go_helper_uses();
        for (k, u) in self.desc_uses.iter().enumerate() {
            self.desc_index.entry(u.holder.clone()).or_default().push(k);
        }
        for v in self.desc_index.values_mut() {
            v.sort_by_key(|&k| self.desc_uses[k].tok);
        }
        for i in 0..self.t.len() {
            self.cur = i;
            self.touched = None;
            self.go_call(i);
        }
        self.expand_wrappers(|cx, i| {
            cx.go_call(i);
        });
    }

    /// Import aliases and paths.
    fn go_imports(&mut self) {
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
        self.imports = imports;
    }

    /// The client_golang package an alias stands for: `Some("")` prometheus, `Some("/promauto")`.
    fn go_pkg(&self, alias: &str) -> Option<&'static str> {
        let rest = self.imports.get(alias)?.strip_prefix(GO_PKG)?;
        ["", "/promauto", "/collectors", "/promhttp"]
            .into_iter()
            .find(|p| *p == rest)
            .or(Some("/other"))
    }

    /// `prometheus.GaugeValue` / `CounterValue` / `UntypedValue`: Some(Some(type)),
    /// Some(None) for untyped; None when `r` is not one of them.
    fn go_value_type(&self, r: Range<usize>) -> Option<Option<MetricType>> {
        let r = self.bound_arg(&r).unwrap_or(r);
        (r.len() == 3 && self.p(r.start + 1, b'.') && self.go_pkg(self.tx(r.start)) == Some(""))
            .then_some(())?;
        match self.tx(r.start + 2) {
            "GaugeValue" => Some(Some(G)),
            "CounterValue" => Some(Some(C)),
            "UntypedValue" => Some(None),
            _ => None,
        }
    }

    /// The type a const-metric constructor gives (`MustNewConstMetric(desc, prometheus.GaugeValue,
    /// ..)`, `NewConstHistogram(desc, ..)`): its call's token `i`, opener `i + 1`.
    /// Some(None): untyped, or a value type not written as a literal.
    fn go_const_kind(&self, i: usize) -> Option<Option<MetricType>> {
        let f = self.tx(i);
        let f = f.strip_prefix("Must").unwrap_or(f);
        let f = f.strip_suffix("WithCreatedTimestamp").unwrap_or(f);
        let root = self.chain_root(i.checked_sub(1)?, false)?;
        (self.p(i - 1, b'.') && self.go_pkg(self.tx(root)) == Some("")).then_some(())?;
        match f {
            "NewConstHistogram" | "NewConstNativeHistogram" => Some(Some(H)),
            "NewConstSummary" => Some(Some(S)),
            "NewConstMetric" => {
                let c = self.cl(i + 1)?;
                let segs = self.split(i + 2..c);
                Some(
                    segs.get(1)
                        .and_then(|s| self.go_value_type(s.clone()))
                        .flatten(),
                )
            }
            _ => None,
        }
    }

    /// The holder a desc expression names: `v:x` (a variable), `f:x` (a field, `c.x`), `k:x`
    /// (a map entry, `m["x"]`).
    fn go_holder(&self, r: Range<usize>) -> Option<String> {
        if self.lone_id(&r) {
            return Some(format!("v:{}", self.tx(r.start)));
        }
        let last = r.end - 1;
        if self.p(last, b']') && self.mat[last] == Some(last - 2) {
            return self.sv(last - 1).map(|k| format!("k:{k}"));
        }
        let chain = (r.start..r.end).all(|k| {
            if (k - r.start).is_multiple_of(2) {
                self.id(k)
            } else {
                self.p(k, b'.')
            }
        });
        (chain && r.len() >= 3).then(|| format!("f:{}", self.tx(last)))
    }

    /// A const-metric call: note the type it gives the desc holder it names.
    fn go_const_metric(&mut self, i: usize) -> Option<()> {
        (self.id(i) && self.p(i + 1, b'(') && self.tx(i).contains("NewConst")).then_some(())?;
        let kind = self.go_const_kind(i)?;
        let c = self.cl(i + 1)?;
        let first = self.split(i + 2..c).into_iter().next()?;
        let holder = self.go_holder(first)?;
        self.desc_uses.push(DescUse {
            holder,
            scope: self.scope[i],
            tok: i,
            kind,
        });
        Some(())
    }

    /// Whether the expression starting at `i` is an element of a composite literal (`{x, ..`,
    /// `.., x}`, `key: x`), not a statement of a block.
    fn element_at(&self, i: usize) -> bool {
        let prev = i.wrapping_sub(1);
        let keyed = self.p(prev, b':')
            && (self.id(prev.wrapping_sub(1))
                || matches!(
                    self.t.get(prev.wrapping_sub(1)).map(|t| &t.tk),
                    Some(Tk::Str(_))
                ))
            && matches!(
                self.t.get(prev.wrapping_sub(2)).map(|t| &t.tk),
                Some(Tk::P(b'{' | b','))
            );
        self.p(prev, b'{') || self.p(prev, b',') || keyed
    }

    /// A value type in a literal (`typedDesc{nodeCPUDesc, prometheus.CounterValue}`,
    /// `{desc: c.x, valueType: prometheus.GaugeValue}`): a use of the holders beside it.
    fn go_typed_literal(&mut self, i: usize) -> Option<()> {
        let kind = self.go_value_type(i..i + 3)?;
        let o = self.parent[i].filter(|&o| self.p(o, b'{') && self.element_at(i))?;
        let lit = self.literal(o);
        if lit.kinds.len() != 1 || lit.kinds[0] != kind || lit.done.replace(true) {
            return None;
        }
        for v in &lit.values {
            if v.start == i || v.len() > 7 {
                continue;
            }
            if let Some(holder) = self.go_holder(v.clone()) {
                self.desc_uses.push(DescUse {
                    holder,
                    scope: self.scope[i],
                    tok: i,
                    kind,
                });
            }
        }
        Some(())
    }

    /// The elements of the composite literal opened at `o` (values of keyed ones) and the
    /// value types among them, read once per literal.
    fn literal(&mut self, o: usize) -> std::rc::Rc<Literal> {
        if let Some(l) = self.literals.get(&o) {
            return std::rc::Rc::clone(l);
        }
        let c = self.cl(o).unwrap_or(o);
        let values: Vec<Range<usize>> = self
            .split(o + 1..c)
            .into_iter()
            .map(|seg| {
                if self.p(seg.start + 1, b':') {
                    seg.start + 2..seg.end
                } else {
                    seg
                }
            })
            .collect();
        let kinds = values
            .iter()
            .filter_map(|v| self.go_value_type(v.clone()))
            .collect();
        let l = std::rc::Rc::new(Literal {
            values,
            kinds,
            done: std::cell::Cell::new(false),
        });
        self.literals.insert(o, std::rc::Rc::clone(&l));
        l
    }

    /// A const-metric call on a parameter of its function (`func emit(desc *prometheus.Desc,
    /// ..) { ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, ..) }`): the
    /// function's calls in this file use the holders they pass with that type.
    fn go_helper_uses(&mut self) {
        let mut helpers: HashMap<&'a str, Vec<(usize, Option<MetricType>)>> = HashMap::new();
        for u in &self.desc_uses {
            let Some(name) = u.holder.strip_prefix("v:") else {
                continue;
            };
            if u.scope == 0 {
                continue;
            }
            let f = &self.funcs[u.scope - 1];
            if let Some(pi) = f.params.iter().position(|p| p.0 == name) {
                if !f.name.is_empty() {
                    let fname: &'a str = self.tx(f.name_tok);
                    helpers.entry(fname).or_default().push((pi, u.kind));
                }
            }
        }
        if helpers.is_empty() {
            return;
        }
        let mut found = Vec::new();
        for c in 0..self.t.len() {
            let Some(uses) = helpers.get(self.tx(c)) else {
                continue;
            };
            if !self.id(c) || !self.p(c + 1, b'(') || self.kw(c.wrapping_sub(1), "func") {
                continue;
            }
            let Some(close) = self.cl(c + 1) else {
                continue;
            };
            let args = self.split(c + 2..close);
            for &(pi, kind) in uses {
                if let Some(holder) = args.get(pi).and_then(|a| self.go_holder(a.clone())) {
                    found.push(DescUse {
                        holder,
                        scope: self.scope[c],
                        tok: c,
                        kind,
                    });
                }
            }
        }
        self.desc_uses.extend(found);
    }

    /// The type of the desc made at token `s` (its call, or a wrapper's call): given by the
    /// const-metric call it is an argument of, by a value type beside it in a literal
    /// (`typedDesc{desc, prometheus.GaugeValue}`), or by the const-metric calls on the variable,
    /// field or map entry that holds it (in this file, else in the package's other files).
    fn go_desc_kind(&mut self, s: usize, holders: bool) -> Result<MetricType, String> {
        let verdict = |kinds: &[Option<MetricType>]| -> Result<MetricType, String> {
            let first = kinds.first().copied().flatten();
            match first {
                Some(k) if kinds.iter().all(|x| *x == Some(k)) => Ok(k),
                _ if kinds.iter().all(Option::is_none) => Err("its metrics are made untyped (`UntypedValue`, or a value type held in a variable)".into()),
                _ => Err("its metrics are made with different value types".into()),
            }
        };
        let prev = s.wrapping_sub(1);
        // an argument of a const-metric call
        if self.p(prev, b'(') && self.id(prev.wrapping_sub(1)) {
            if let Some(k) = self.go_const_kind(prev - 1) {
                return verdict(&[k]);
            }
        }
        // beside a value type in a literal
        let par = self.parent.get(s).copied().flatten();
        if let Some(o) = par.filter(|&o| self.p(o, b'{') && self.element_at(s)) {
            let lit = self.literal(o);
            if !lit.kinds.is_empty() {
                return verdict(&lit.kinds);
            }
        }
        // the holder
        let holder = if !holders {
            None
        } else if self.p(prev, b'=') {
            let e = if self.p(prev.wrapping_sub(1), b':') {
                prev - 1
            } else {
                prev
            };
            // the left-hand side: back to the statement's start
            let mut a = e;
            while a > 0
                && (self.id(a - 1)
                    || self.p(a - 1, b'.')
                    || (self.p(a - 1, b']') && self.mat[a - 1].is_some()))
            {
                a = if self.p(a - 1, b']') {
                    self.mat[a - 1].unwrap_or(a - 1)
                } else {
                    a - 1
                };
                if self.kw(a, "var") {
                    a += 1;
                    break;
                }
            }
            let lhs = a..e;
            // `var x *prometheus.Desc = ..` is rare: the name is the first token
            (!lhs.is_empty())
                .then(|| {
                    self.go_holder(lhs.clone())
                        .or_else(|| self.go_holder(lhs.start..lhs.start + 1))
                })
                .flatten()
        } else if self.p(prev, b':') && par.is_some_and(|o| self.p(o, b'{')) {
            let k = prev.wrapping_sub(1);
            match &self.t.get(k).map(|t| &t.tk) {
                Some(Tk::Id) => Some(format!("f:{}", self.tx(k))),
                Some(Tk::Str(Some(v))) => Some(format!("k:{v}")),
                _ => None,
            }
        } else {
            None
        };
        let Some(holder) = holder else {
            return Err(
                "it is not held in a variable, field or map entry that a const-metric call uses"
                    .into(),
            );
        };
        let local = holder.starts_with("v:") && self.scope[s] > 0;
        let sc = self.scope[s];
        if local {
            // the uses after it in its function, up to the variable's next assignment
            let name: &str = &holder[2..];
            let upper = self
                .assigns
                .get(&(name, sc))
                .and_then(|v| {
                    let at = v.partition_point(|a| a.name_tok <= s);
                    v.get(at).map(|a| a.name_tok)
                })
                .unwrap_or(usize::MAX);
            let uses = self
                .desc_index
                .get(&holder)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let from = uses.partition_point(|&u| self.desc_uses[u].tok <= s);
            let kinds: Vec<Option<MetricType>> = uses[from..]
                .iter()
                .map(|&u| &self.desc_uses[u])
                .take_while(|u| u.tok < upper)
                .filter(|u| u.scope == sc)
                .map(|u| u.kind)
                .collect();
            if !kinds.is_empty() {
                return verdict(&kinds);
            }
        } else {
            if let Some(v) = self.desc_verdicts.get(&holder) {
                return v.clone();
            }
            let kinds: Vec<Option<MetricType>> = self
                .desc_index
                .get(&holder)
                .map(|v| v.iter().map(|&u| self.desc_uses[u].kind).collect())
                .unwrap_or_default();
            let env: &'a Env = self.env;
            let v = if !kinds.is_empty() {
                Some(verdict(&kinds))
            } else {
                env.desc_uses
                    .get(&holder)
                    .filter(|k| !k.is_empty())
                    .map(|k| verdict(k))
            };
            if let Some(v) = v {
                self.desc_verdicts.insert(holder, v.clone());
                return v;
            }
            self.unresolved.insert(format!("desc:{holder}"));
        }
        let shown = holder
            .split_once(':')
            .map_or(holder.as_str(), |x| x.1)
            .to_string();
        Err(format!(
            "no MustNewConstMetric/NewConstMetric call on `{shown}` was found in its package"
        ))
    }

    /// `pkg.Type{...}` (optionally `&`): (package alias, type name, fields).
    fn go_composite(&self, r: Range<usize>) -> Option<(&'a str, &'a str, Args)> {
        let s = r.start + usize::from(self.p(r.start, b'&'));
        (self.id(s) && self.p(s + 1, b'.') && self.id(s + 2) && self.p(s + 3, b'{'))
            .then_some(())?;
        let c = self.cl(s + 3).filter(|&c| c + 1 == r.end)?;
        Some((self.tx(s), self.tx(s + 2), self.args(s + 4..c, b':')))
    }

    /// Options given as a literal, or held by a variable or a wrapper's parameter.
    fn go_opts(&mut self, r: Range<usize>) -> Option<(&'a str, &'a str, Args)> {
        if self.lone_id(&r) && self.depth < 16 {
            self.depth += 1;
            let v = match self.lookup(r.start) {
                Some(Found::Here(rhs)) => self.go_opts(rhs),
                _ => None,
            };
            self.depth -= 1;
            return v;
        }
        self.go_composite(r)
    }

    fn go_call(&mut self, i: usize) -> Option<()> {
        (self.id(i) && self.p(i + 1, b'(') && self.p(i.wrapping_sub(1), b'.')).then_some(())?;
        let root = self.chain_root(i - 1, true)?;
        let (rp, name, close) = (self.go_pkg(self.tx(root)), self.tx(i), self.cl(i + 1));
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
            if self.site.is_none() {
                self.out.defaults.push(DefaultMetrics {
                    span,
                    prefix,
                    lang: Lang::Go,
                });
            }
            return Some(());
        }
        if name == "NewDesc" && rp == Some("") {
            let Some(close) = close else {
                return self.unterminated(span.start, i + 1);
            };
            let segs = self.split(i + 2..close);
            let fq = segs.first().cloned();
            let name = fq.and_then(|r| self.eval_str(r));
            let kind = match (&name, self.site) {
                (None, _) => Err(String::new()),
                (Some(_), None) => self.go_desc_kind(root, true),
                // in a wrapper: what the wrapper's body says, else where it is called
                (Some(_), Some(site)) => match self.go_desc_kind(root, false) {
                    Ok(k) => Ok(k),
                    Err(_) => self.go_desc_kind(site.0, true),
                },
            };
            let (kind, kind_unknown) = match kind {
                Ok(k) => (k, None),
                Err(why) => (G, Some(why)),
            };
            let parts = Parts {
                help: segs.get(1).cloned(),
                labels: segs.get(2).cloned(),
                const_labels: segs.get(3).cloned(),
                kind_unknown,
                custom: true,
                ..Parts::default()
            };
            self.emit(name, kind, i, span, parts);
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
        let comp = match segs.first() {
            Some(s) => self.go_opts(s.clone()),
            None => None,
        };
        let opts_ok = comp
            .as_ref()
            .is_some_and(|c| self.go_pkg(c.0) == Some("") && c.1.ends_with("Opts"));
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
            const_labels: f.get("ConstLabels", None),
            buckets: f.get("Buckets", None),
            ..Parts::default()
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

    /// `from m import a as b, c` (relative modules keep their dots: `.m`, `..`).
    fn py_from(&self, i: usize, b: &mut Binds) -> Option<()> {
        let mut k = i + 1;
        let mut dots = String::new();
        while self.p(k, b'.') && dots.len() < 16 {
            dots.push('.');
            k += 1;
        }
        let (m, j) = match self.dotted(k) {
            Some((m, j)) if !self.kw(k, "import") => (format!("{dots}{m}"), j),
            _ if !dots.is_empty() => (dots, k),
            _ => return None,
        };
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

    fn py_binds(&mut self) {
        let mut b = Binds::new();
        for i in 0..self.t.len() {
            if self.kw(i, "from") {
                self.py_from(i, &mut b);
            } else if self.kw(i, "import") {
                self.py_import(i, &mut b);
            }
        }
        for (local, bind) in &b {
            if let Bind::Member(m, e) = bind {
                if !is_lib(Lang::Python, m) && e != "*" {
                    self.out.imports.push((local.clone(), m.clone(), e.clone()));
                }
            }
        }
        self.out.imports.sort();
        self.binds = b;
    }

    fn run_py(&mut self) {
        self.py_binds();
        for i in 0..self.t.len() {
            self.cur = i;
            self.touched = None;
            self.py_call(i);
        }
        self.expand_wrappers(|cx, i| {
            cx.py_call(i);
        });
    }

    fn py_call(&mut self, i: usize) -> Option<()> {
        let prev = i.wrapping_sub(1);
        let def = self.kw(prev, "def") || self.kw(prev, "class");
        (self.id(i) && self.p(i + 1, b'(') && !def).then_some(())?;
        let root = if self.p(prev, b'.') {
            Some(self.chain_root(prev, false)?)
        } else {
            None
        };
        let e = self.accept(root.map(|r| self.tx(r)), self.tx(i))?;
        // custom collectors' metric families: (type, index of `labels`)
        let family = match e.as_str() {
            "CounterMetricFamily" => Some((C, 3)),
            "GaugeMetricFamily" => Some((G, 3)),
            "HistogramMetricFamily" | "GaugeHistogramMetricFamily" => Some((H, 4)),
            "SummaryMetricFamily" => Some((S, 4)),
            _ => None,
        };
        let kind = kind_of(&e).or(family.map(|f| f.0));
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
            let fam = family.is_some();
            let keys = [
                ("name", Some(0)),
                ("namespace", (!fam).then_some(3)),
                ("subsystem", (!fam).then_some(4)),
                ("unit", (!fam).then_some(5)),
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
            let labels = match family {
                Some((_, idx)) => a.get("labels", Some(idx)),
                None => a.get("labelnames", Some(2)),
            };
            let parts = Parts {
                help: a.get("documentation", Some(1)),
                labels,
                buckets: a.get("buckets", Some(8)).filter(|_| !fam),
                opaque: a.spread,
                custom: fam,
                ..Parts::default()
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

    fn nothing(x: &Extracted) -> bool {
        x.defs.is_empty() && x.defaults.is_empty() && x.problems.is_empty()
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
        assert!(nothing(&extract(Lang::JavaScript, other)));
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
            Histogram shop_request_duration_seconds <request_duration_seconds> [method,code] b=[0.05, 0.1, 0.25, 1.0, 2.5]
            Histogram response_size_bytes b=[100.0, 1000.0, 10000.0, 100000.0]
            Histogram queue_wait_seconds b=[0.5, 1.0, 1.5, 2.0]
            Histogram default_seconds b=default
            Histogram plain_seconds b=default-implicit
            Summary rpc_durations_seconds [service]
            Counter jobs_total
            Gauge dynamic
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
        assert!(nothing(&extract(Lang::Go, vm)));
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
        assert!(nothing(&extract(Lang::Python, other)));
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

    /// Definitions as `kind name [labels]` (`?` for what is not known), problems, and the
    /// spans checked to lie in the source.
    fn show(src: &str, x: &Extracted) -> String {
        let mut out = Vec::new();
        for d in &x.defs {
            assert!(src.get(d.name_span.clone()).is_some() && src.get(d.span.clone()).is_some());
            assert!(d.labels.iter().all(|l| src.get(l.1.clone()).is_some()));
            assert_eq!(d.unread.is_empty(), d.kind_known && d.labels_known);
            let kind = if d.kind_known { d.kind.as_str() } else { "?" };
            let labels: Vec<&str> = d.labels.iter().map(|l| l.0.as_str()).collect();
            let q = if d.labels_known { "" } else { "?" };
            out.push(format!("{kind} {} [{}]{q}", d.name, labels.join(",")));
        }
        for (span, msg) in &x.problems {
            let first = src[span.clone()].lines().next().unwrap_or("");
            out.push(format!("problem `{first}`: {msg}"));
        }
        out.join("\n")
    }

    fn check(lang: Lang, src: &str, want: &str) {
        let want: Vec<&str> = want
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(show(src, &extract(lang, src)), want.join("\n"));
    }

    #[test]
    fn go_custom_collectors() {
        let go = r#"package c
import "github.com/prometheus/client_golang/prometheus"

const ns = "app"

type typed struct {
	desc *prometheus.Desc
	kind prometheus.ValueType
}

type coll struct {
	up    *prometheus.Desc
	temps typed
	descs map[string]*prometheus.Desc
}

var rowsDesc = prometheus.NewDesc(prometheus.BuildFQName(ns, "db", "rows"), "Rows.", []string{"table"}, prometheus.Labels{"db": "main"})

func newColl() *coll {
	return &coll{
		up:    prometheus.NewDesc("app_up", "Up.", nil, nil),
		temps: typed{prometheus.NewDesc(ns+"_temp_celsius", "T.", []string{"zone"}, nil), prometheus.GaugeValue},
		descs: map[string]*prometheus.Desc{
			"reads": prometheus.NewDesc("app_reads_total", "Reads.", nil, nil),
			"mixed": prometheus.NewDesc("app_mixed", "Mixed.", nil, nil),
		},
	}
}

func (c *coll) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(rowsDesc, prometheus.CounterValue, 3, "users")
	ch <- prometheus.MustNewConstMetric(c.descs["reads"], prometheus.CounterValue, 1)
	ch <- prometheus.MustNewConstMetric(c.descs["mixed"], prometheus.CounterValue, 1)
	ch <- prometheus.MustNewConstMetric(c.descs["mixed"], prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstHistogram(prometheus.NewDesc("app_wait_seconds", "W.", nil, nil), 1, 1, nil)
	local := prometheus.NewDesc("app_local", "L.", []string{"a"}, nil)
	ch <- prometheus.MustNewConstMetric(local, prometheus.UntypedValue, 1, "x")
	emit(ch, prometheus.NewDesc("app_helper", "H.", nil, nil))
	orphan := prometheus.NewDesc("app_orphan", "O.", nil, nil)
	_ = orphan
}

func emit(ch chan<- prometheus.Metric, d *prometheus.Desc) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, 1)
}
"#;
        check(
            Lang::Go,
            go,
            "
            counter app_db_rows [table,db]
            gauge app_up []
            gauge app_temp_celsius [zone]
            counter app_reads_total []
            ? app_mixed []
            histogram app_wait_seconds []
            ? app_local [a]
            ? app_helper []
            ? app_orphan []
            ",
        );
        let x = extract(Lang::Go, go);
        // the holders of this file are offered to the package's other files
        assert!(x.desc_uses.contains(&("f:up".to_string(), Some(G))));
        assert!(x.desc_uses.contains(&("k:reads".to_string(), Some(C))));
        assert!(!x.unresolved.contains(&"desc:v:orphan".to_string()));
        assert!(x.defs[5].buckets.is_none() && !x.defs[5].buckets_default);
    }

    #[test]
    fn go_helpers_wrappers_and_labels() {
        let go = r#"package c
import prom "github.com/prometheus/client_golang/prometheus"

var base = []string{"host"}

func newDesc(sub, name, help string, extra ...string) *prom.Desc {
	return prom.NewDesc(prom.BuildFQName("svc", sub, name), help, base, nil)
}

type metric struct {
	desc *prom.Desc
	vt   prom.ValueType
}

func newMetric(name string, vt prom.ValueType) metric {
	return metric{desc: prom.NewDesc("svc_"+name, "h", append(base, "dev"), nil), vt: vt}
}

var (
	readsDesc = newDesc("io", "reads_total", "Reads.")
	queue     = newMetric("queue_length", prom.GaugeValue)
	opts      = prom.CounterOpts{Name: "jobs_total", ConstLabels: prom.Labels{"team": "core"}}
	jobs      = prom.NewCounterVec(opts, append(base, []string{"kind"}...))
	dynamic   = prom.NewGaugeVec(prom.GaugeOpts{Name: "dyn", ConstLabels: labelsFromEnv()}, nil)
)

func (c *coll) Collect(ch chan<- prom.Metric) {
	ch <- prom.MustNewConstMetric(readsDesc, prom.CounterValue, 1, "h1")
	emit(ch, newDesc("cpu", "seconds_total", "CPU."), prom.CounterValue)
}
"#;
        check(
            Lang::Go,
            go,
            "
            counter jobs_total [host,kind,team]
            gauge dyn []?
            counter svc_io_reads_total [host]
            ? svc_cpu_seconds_total [host]
            gauge svc_queue_length [host,dev]
            ",
        );
    }

    #[test]
    fn go_names_from_the_package() {
        // `namespace` and the label list are in another file of the package: unknown alone,
        // read with what the package supplies
        let go = r#"package c
import "github.com/prometheus/client_golang/prometheus"
import "example.com/app/config"
var d = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Subsystem: config.Sub, Name: "up"})
var e = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "temp"}, sharedLabels)
var f = prometheus.NewDesc("g", "G.", nil, nil)
"#;
        let x = extract(Lang::Go, go);
        assert_eq!(
            x.unresolved,
            [
                "desc:v:f",
                "example.com/app/config.Sub",
                "namespace",
                "sharedLabels"
            ]
        );
        let mut env = Env::default();
        env.vals.insert("namespace".into(), Val::Str("app".into()));
        env.vals
            .insert("example.com/app/config.Sub".into(), Val::Str("db".into()));
        env.vals
            .insert("sharedLabels".into(), Val::List(vec!["zone".into()]));
        env.desc_uses.insert("v:f".into(), vec![Some(C)]);
        let x = extract_with(Lang::Go, go, &env);
        assert_eq!(
            show(go, &x),
            "gauge app_db_up []\ngauge temp [zone]\ncounter g []"
        );
        // a label from another file points at the name that brought it
        assert_eq!(&go[x.defs[1].labels[0].1.clone()], "sharedLabels");
        // what a file offers its package
        let other = "package c\nconst (\n\tnamespace = \"app\"\n\tsub = config.Sub\n)\nvar sharedLabels = []string{\"zone\"}\nimport \"example.com/app/config\"\n";
        let o = exports(Lang::Go, other);
        assert_eq!(
            o.exports,
            [
                ("namespace".to_string(), Val::Str("app".into())),
                ("sharedLabels".to_string(), Val::List(vec!["zone".into()])),
                (
                    "sub".to_string(),
                    Val::Ref("example.com/app/config.Sub".into())
                ),
            ]
        );
    }

    #[test]
    fn python_forms_more() {
        let py = r#"import os
from prometheus_client import Counter, Histogram, Gauge
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from .names import PREFIX, COMMON

PREFIX_DEFAULT = os.getenv("APP_PREFIX", "app")
BASE = ["route"]

REQS = Counter(name="requests", documentation="R", labelnames=[*BASE, "code"], namespace=PREFIX_DEFAULT)
LAT = Histogram("latency_seconds", "L", BASE + ["method"], buckets=(0.1, 1, "+Inf"))
IMPORTED = Gauge(PREFIX + "_depth", "D", COMMON)

def make_gauge(name, doc, labels=()):
    return Gauge(name, doc, labels)

QUEUE = make_gauge("queue_size", "Q", ["queue"])
PLAIN = make_gauge(name="plain", doc="P")

class Coll:
    def collect(self):
        labels = ["serial"]
        up = CounterMetricFamily("dev_uptime", "U", labels=labels, unit="seconds")
        g = GaugeMetricFamily("dev_temp", "T", labels=labels + ["zone"])
        dyn = GaugeMetricFamily(f"{self.prefix}_x", "X")
"#;
        check(
            Lang::Python,
            py,
            "
            counter app_requests_total [route,code]
            histogram latency_seconds [route,method]
            counter dev_uptime_seconds_total [serial]
            gauge dev_temp [serial,zone]
            gauge queue_size [queue]
            gauge plain []
            problem `Gauge(PREFIX + \"_depth\", \"D\", COMMON)`: Gauge: the metric name is not a string literal or known constant
            problem `GaugeMetricFamily(f\"{self.prefix}_x\", \"X\")`: Gauge: the metric name is not a string literal or known constant
            ",
        );
        let x = extract(Lang::Python, py);
        assert_eq!(
            x.defs[1].buckets.as_deref(),
            Some(&[0.1, 1.0, f64::INFINITY][..])
        );
        assert!(x
            .imports
            .contains(&("COMMON".into(), ".names".into(), "COMMON".into())));
        assert!(x.unresolved.contains(&"PREFIX".to_string()));
        let mut env = Env::default();
        env.vals.insert("PREFIX".into(), Val::Str("app".into()));
        env.vals
            .insert("COMMON".into(), Val::List(vec!["shard".into()]));
        let x = extract_with(Lang::Python, py, &env);
        assert!(show(py, &x).contains("gauge app_depth [shard]"));
    }

    #[test]
    fn js_forms_more() {
        let js = r#"import { Counter, Gauge, Histogram } from 'prom-client';
import { BASE_LABELS } from './labels.js';

const common = ['service'];
const opts = { name: 'jobs_total', help: 'Jobs', labelNames: [...common, 'queue'] };
export const jobs = new Counter(opts);
const extra = new Gauge({ ...opts, name: 'jobs_waiting' });
const dyn = new Histogram({ name: 'lat', help: 'L', labelNames: [...BASE_LABELS, 'route'] });

export const createGauge = (options) => {
    const { ttl, ...rest } = options;
    return new Gauge(rest);
};
function counter(name, help, labelNames) {
    return new Counter({ name, help, labelNames });
}
const a = createGauge({ name: 'cache_size', help: 'C', labelNames: ['cache'] });
const b = counter('errors_total', 'E', ['kind']);
"#;
        check(
            Lang::JavaScript,
            js,
            "
            counter jobs_total [service,queue]
            gauge jobs_waiting [service,queue]
            histogram lat [route]?
            gauge cache_size [cache]
            counter errors_total [kind]
            ",
        );
        let x = extract(Lang::JavaScript, js);
        // the wrapper is offered to other modules
        assert!(x
            .exports
            .contains(&("createGauge".into(), Val::Wrapper(G, 0))));
        // a module calling it without naming prom-client
        let caller = "import { createGauge } from './metrics.js';\nconst g = createGauge({ name: 'sessions', help: 'S', labelNames: ['kind'] });";
        // (it names no client library: the project pass reads it when a module it imports
        // from offers the wrapper)
        assert_eq!(
            extract(Lang::JavaScript, caller).unresolved,
            ["createGauge"]
        );
        let mut env = Env::default();
        env.vals.insert("createGauge".into(), Val::Wrapper(G, 0));
        assert_eq!(
            show(caller, &extract_with(Lang::JavaScript, caller, &env)),
            "gauge sessions [kind]"
        );
        let o = exports(
            Lang::JavaScript,
            "export * from './createGauge.js';\nexport { a as b } from './x';",
        );
        assert_eq!(
            o.reexports,
            [
                ("./createGauge.js".to_string(), None),
                ("./x".to_string(), Some(("a".to_string(), "b".to_string())))
            ]
        );
    }

    #[test]
    fn test_and_bundled_paths() {
        for p in [
            "collector/cpu_test.go",
            "tests/metrics.py",
            "pkg/testdata/x.go",
            "app/test_metrics.py",
            "app/metrics_test.py",
            "src/metrics.test.ts",
            "src/metrics.spec.js",
            "web/__tests__/m.js",
            "spec/m.js",
            "vendor/github.com/x/y.go",
            "public/dist/app.js",
            "build/out.js",
            "static/app.min.js",
            "fixtures/app.go",
        ] {
            assert!(is_test_or_bundled(p), "{p}");
        }
        for p in [
            "collector/cpu.go",
            "app/metrics.py",
            "src/testing_utils.ts",
            "latest/x.js",
            "contest.py",
        ] {
            assert!(!is_test_or_bundled(p), "{p}");
        }
    }

    /// Inputs that made the reading quadratic or exponential once: each must stay near
    /// linear (the bound is far above the linear time even in a debug build, far below the
    /// quadratic one).
    #[test]
    fn hostile_inputs_stay_linear() {
        let n = 10_000;
        let go = "package m\nimport \"github.com/prometheus/client_golang/prometheus\"\n";
        let mut cases = Vec::new();
        // one local reassigned in one function, each used once
        let mut a = format!("{go}func f() {{\n");
        for i in 0..n {
            a += &format!("desc := prometheus.NewDesc(\"m{i}\", \"h\", nil, nil)\nch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, 1)\n");
        }
        cases.push((Lang::Go, a + "}\n", n));
        // one literal holding every desc and value type
        let mut b = format!("{go}var ds = []typedDesc{{{{\n");
        for i in 0..n {
            b +=
                &format!("prometheus.NewDesc(\"m{i}\", \"h\", nil, nil), prometheus.GaugeValue,\n");
        }
        cases.push((Lang::Go, b + "}}\n", n));
        // values that double at each step
        let mut c = String::from("from prometheus_client import Counter\nx0 = 'a'\nl0 = ['a']\n");
        for i in 1..40 {
            c += &format!(
                "x{i} = x{} + x{}\nl{i} = [*l{}, *l{}]\n",
                i - 1,
                i - 1,
                i - 1,
                i - 1
            );
        }
        for _ in 0..n / 10 {
            c += "Counter(x39, 'h', l39)\nCounter('n', 'h', l39)\n";
        }
        cases.push((Lang::Python, c, n / 10));
        // a wrapper called many times
        let mut d = String::from(
            "const c = require('prom-client');\nfunction w(o) { return new c.Counter(o); }\n",
        );
        for i in 0..n {
            d += &format!("w({{ name: 'm{i}', help: 'h' }});\n");
        }
        cases.push((Lang::JavaScript, d, n));
        for (lang, src, defs) in cases {
            let start = std::time::Instant::now();
            let x = extract(lang, &src);
            assert_eq!(x.defs.len(), defs, "{lang:?}");
            assert!(
                start.elapsed() < std::time::Duration::from_secs(20),
                "{lang:?}: {:?}",
                start.elapsed()
            );
        }
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
