//! Prometheus text exposition (0.0.4) and OpenMetrics 1.0 parser, with histogram/summary
//! invariants and a `promtool check metrics` (promlint) compatible lint.
//!
//! Std only. Everything carries byte spans into the input, so findings can point at the
//! scraped body.
//!
//! # Reference behaviour
//!
//! * **Text 0.0.4** follows `expfmt.TextParser` of prometheus/common as vendored in
//!   Prometheus 2.42, i.e. what `promtool check metrics` accepts, with the same error texts
//!   ("second TYPE line for metric name \"x\", or TYPE reported after samples", "expected
//!   float as value, got \"x\"", ...). Prometheus stops at the first error; this parser
//!   records the error and goes on with the next line, so `errors[0]` is Prometheus' error
//!   (same line, same text) and the rest are extra. Both Prometheus parsers require the last
//!   line to end with `\n`; strictness that comes from expfmt and that the scrape-time
//!   parser (`textparse/promparse.go`) does not have: blanks after the value or the
//!   timestamp are errors, HELP accepts only the escapes `\\` and `\n`, TYPE after samples.
//! * Families are built the expfmt way: samples go to the family of the same name; only when
//!   there is none, `x_count`/`x_sum` join an existing summary `x`, and `x_bucket`/`x_count`/
//!   `x_sum` an existing histogram `x`. So `# TYPE foo counter` + `foo_total 1` gives an
//!   empty counter family `foo` and an untyped family `foo_total` (as promtool sees it).
//!   Families are keyed by name over the whole input (non-contiguous samples are merged).
//! * **OpenMetrics 1.0** follows `textparse/openmetricsparse.go` (tokens separated by exactly
//!   one space, no blank lines, no comments other than HELP/TYPE/UNIT, `# EOF` mandatory and
//!   last, UNIT must be a suffix of the name, timestamps are float seconds). Error texts are
//!   this module's own (Prometheus' carry lexer token names). Extra checks beyond Prometheus:
//!   duplicate HELP/TYPE/UNIT, TYPE after samples, exemplars on samples other than a counter
//!   `_total` or a (gauge)histogram `_bucket`, exemplar label sets over 128 characters.
//!   Samples join the family whose name plus a suffix valid for its type is the sample name
//!   (`_total`/`_created` for counters, `_bucket`/`_count`/`_sum`/`_created` for histograms,
//!   `_bucket`/`_gcount`/`_gsum` for gauge histograms, `_count`/`_sum`/`_created` for
//!   summaries, `_info` for info), else the family of the same name, else a new `Unknown`
//!   family named after the sample.
//! * **UTF-8 names** (Prometheus 3 / OpenMetrics 2 draft): `{"my.metric", l="v"} 1`,
//!   `"my.metric"{l="v"} 1`, `# HELP "my.metric" text` and quoted label names
//!   `{"my.label"="v"}` are accepted in both formats (Prometheus 2.42 rejects them in text).
//! * Floats are Go `strconv.ParseFloat` as Prometheus uses it: decimal with optional
//!   exponent, `Inf`/`+Inf`/`-Inf`/`Infinity`/`NaN` in any case; no hex floats, no `_`,
//!   out-of-range values (`1e400`) are errors.
//! * Timestamps: text format = integer milliseconds (`i64`); OpenMetrics = float seconds,
//!   stored in [`Sample::timestamp`] as milliseconds truncated like Prometheus
//!   (`int64(ts*1000)`). Exemplar timestamps are kept as float seconds.
//!
//! # Cost
//!
//! Linear time: one pass over the bytes, hash lookups per sample. Memory: every sample is kept
//! (name, labels and spans: roughly 150 bytes + the label text per sample); use
//! [`parse_with_limit`] to bound it (it bounds the metric families too). At most
//! [`MAX_ERRORS`] errors are kept (at most one per line), then one that counts the rest.
//!
//! Inputs are `&str`: decode a scraped body with `String::from_utf8_lossy` first (expfmt
//! rejects invalid UTF-8 in label values, which this parser then cannot see).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::ops::Range;

/// Most samples (and metric families) kept from one scrape by `obsgate probe` and the
/// exporter. The whole pipeline (parse, lint, invariants, cardinality) peaks at about 900 bytes
/// a sample, so this bounds a hostile or runaway target to a few hundred MB while staying far
/// above real targets (Prometheus users cap scrapes with `sample_limit` well below it).
pub const SCRAPE_SAMPLE_LIMIT: usize = 250_000;

/// Most parse errors kept, and most [`invariants`] problems; the rest are counted in one last
/// error (problem). A 64 MB body of garbage has millions of bad lines: one error (and one
/// finding) each took gigabytes and buried the first error, the one Prometheus reports.
pub const MAX_ERRORS: usize = 100;

/// Exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    Text004,
    /// OpenMetrics 1.0.0 text.
    OpenMetrics1,
}

/// The format a `Content-Type` header announces: OpenMetrics for
/// `application/openmetrics-text` (any version), text 0.0.4 for everything else.
pub fn format_for_content_type(ct: &str) -> Format {
    let media = ct.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case("application/openmetrics-text") {
        Format::OpenMetrics1
    } else {
        Format::Text004
    }
}

/// The format of a committed exposition file: OpenMetrics when its last non-blank line is
/// `# EOF` (OpenMetrics' mandatory end), text 0.0.4 otherwise.
pub fn format_for_file(text: &str) -> Format {
    let last = text.lines().rev().find(|l| !l.trim().is_empty());
    if last.is_some_and(|l| l.trim_end() == "# EOF") {
        Format::OpenMetrics1
    } else {
        Format::Text004
    }
}

/// Is a text clearly an exposition (a scrape kept as a file)? At least one `# TYPE name kind`
/// line (or `# HELP name ...`) and a sample line of that metric (its name, or its name plus a
/// suffix, then `{`, a blank or the value), with every other non-blank line a comment or a
/// sample-shaped line; an OpenMetrics `# EOF` counts when a `# TYPE` line is there. Used for
/// files whose extension (`.txt`, `.metrics`, `.om`) says nothing: a text that merely mentions
/// `# TYPE` is not a scrape.
pub fn sniff(text: &str) -> bool {
    let mut declared: Vec<&str> = Vec::new();
    let mut typed = false;
    let mut sampled = false;
    let mut lines = 0usize;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        lines += 1;
        if let Some(rest) = line.strip_prefix("# ") {
            let mut words = rest.split_ascii_whitespace();
            match (words.next(), words.next(), words.next()) {
                (Some("TYPE"), Some(name), Some(kind))
                    if valid_name(name)
                        && matches!(
                            kind,
                            "counter"
                                | "gauge"
                                | "histogram"
                                | "summary"
                                | "untyped"
                                | "unknown"
                                | "gaugehistogram"
                                | "info"
                                | "stateset"
                        ) =>
                {
                    typed = true;
                    declared.push(name);
                }
                (Some("HELP"), Some(name), _) if valid_name(name) => declared.push(name),
                _ => {}
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        // a sample: a metric name, then labels or a blank, then a value
        let end = line
            .bytes()
            .position(|c| !is_name_cont(c))
            .unwrap_or(line.len());
        let (name, rest) = line.split_at(end);
        if name.is_empty()
            || !is_name_start(name.as_bytes()[0])
            || !(rest.starts_with('{') || rest.starts_with(' ') || rest.starts_with('\t'))
        {
            return false;
        }
        if declared.iter().any(|d| {
            name.strip_prefix(d)
                .is_some_and(|s| s.is_empty() || s.starts_with('_'))
        }) {
            sampled = true;
        }
        if lines > 10_000 && sampled {
            break;
        }
    }
    typed && sampled
}

fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty() && is_name_start(b[0]) && b.iter().all(|c| is_name_cont(*c))
}

/// The `Accept` header Prometheus 2.x sends when scraping.
pub fn accept_header() -> &'static str {
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
}

/// Metric family type. `Unknown` is text-format `untyped` and OpenMetrics `unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
    Unknown,
}

impl MetricType {
    /// The OpenMetrics spelling (`untyped` is reported as `unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::Unknown => "unknown",
        }
    }
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Full sample name (`foo_bucket`, not the family name).
    pub name: String,
    pub name_span: Range<usize>,
    /// Labels in input order (including `le` / `quantile`).
    pub labels: Vec<Label>,
    pub value: f64,
    pub value_span: Range<usize>,
    /// Milliseconds. Text: as written. OpenMetrics: float seconds * 1000, truncated.
    pub timestamp: Option<i64>,
    pub exemplar: Option<Exemplar>,
    /// 1-based line number.
    pub line: usize,
    /// The line without leading blanks and without the line break.
    pub span: Range<usize>,
}

/// A label pair. Spans cover the name (without quotes) and the value (without quotes).
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub name: String,
    pub name_span: Range<usize>,
    /// Unescaped value.
    pub value: String,
    pub value_span: Range<usize>,
}

/// An OpenMetrics exemplar (`# {trace_id="x"} 1.0 1.6e9`).
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar {
    pub labels: Vec<Label>,
    pub value: f64,
    /// Float seconds, as written.
    pub timestamp: Option<f64>,
    /// From `#` to the end of the exemplar.
    pub span: Range<usize>,
}

/// A metric family: metadata and samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub name: String,
    /// The name in the first HELP/TYPE/UNIT line; `None` for families created by a sample.
    pub name_span: Option<Range<usize>>,
    pub kind: MetricType,
    /// The type word of the TYPE line.
    pub type_span: Option<Range<usize>>,
    /// Unescaped help text.
    pub help: Option<String>,
    pub help_span: Option<Range<usize>>,
    pub unit: Option<String>,
    pub samples: Vec<Sample>,
}

/// A syntax or structure error.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub span: Range<usize>,
    /// 1-based line.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub message: String,
}

/// Result of [`parse`].
#[derive(Debug, Clone, PartialEq)]
pub struct Exposition {
    pub format: Format,
    /// In order of first appearance.
    pub families: Vec<Family>,
    /// In input order; at most one per line (plus end-of-input errors).
    pub errors: Vec<ParseError>,
    /// A `# EOF` line was seen (OpenMetrics; in text format a `# EOF` comment also sets it).
    pub eof_seen: bool,
}

/// A finding of [`invariants`] or [`lint`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Metric family name (for [`lint`]: the metric name promtool prints).
    pub family: String,
    pub span: Range<usize>,
    pub message: String,
}

/// Parses a whole exposition, collecting every sample.
pub fn parse(input: &str, format: Format) -> Exposition {
    parse_with_limit(input, format, usize::MAX)
}

/// Like [`parse`], but keeps at most `max_samples` samples and as many metric families. The
/// first sample (or HELP/TYPE line) over the limit gets an error; later lines are still
/// checked for syntax but not stored.
pub fn parse_with_limit(input: &str, format: Format, max_samples: usize) -> Exposition {
    let mut p = Parser {
        src: input,
        b: input.as_bytes(),
        format,
        families: Vec::new(),
        typed: Vec::new(),
        index: HashMap::new(),
        errors: Vec::new(),
        max_samples,
        stored: 0,
        limit_reported: false,
        dropped_errors: None,
        eof_seen: false,
        line_no: 0,
        ls: 0,
        le: 0,
        has_nl: false,
    };
    p.run();
    if let Some((first, n)) = p.dropped_errors.take() {
        p.errors.push(ParseError {
            message: format!(
                "{n} more lines do not parse, from here on (only the first {MAX_ERRORS} errors are listed)"
            ),
            ..first
        });
    }
    Exposition {
        format,
        families: p.families,
        errors: p.errors,
        eof_seen: p.eof_seen,
    }
}

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

struct LineErr {
    span: Range<usize>,
    msg: String,
    /// Found on the character at `span.start` (expfmt reports it even at the end of input).
    at_char: bool,
}

type LResult<T> = Result<T, LineErr>;

fn lerr<T>(span: Range<usize>, msg: String) -> LResult<T> {
    let at_char = false;
    Err(LineErr { span, msg, at_char })
}

/// Escapes in a quoted or help string.
#[derive(Clone, Copy, PartialEq)]
enum Esc {
    /// expfmt label value: `\\`, `\"`, `\n`; anything else is an error.
    Label,
    /// expfmt HELP: `\\`, `\n`.
    Help,
    /// OpenMetrics and quoted names: `\\`, `\"`, `\n`; others are kept verbatim.
    Lenient,
}

struct Parser<'a> {
    src: &'a str,
    b: &'a [u8],
    format: Format,
    families: Vec<Family>,
    /// expfmt's `Type != nil`: a TYPE line or a sample has fixed the type.
    typed: Vec<bool>,
    index: HashMap<String, usize>,
    errors: Vec<ParseError>,
    max_samples: usize,
    stored: usize,
    /// The error about `max_samples` has been recorded.
    limit_reported: bool,
    /// The first error over [`MAX_ERRORS`] and how many were dropped.
    dropped_errors: Option<(ParseError, usize)>,
    eof_seen: bool,
    line_no: usize,
    /// Current line: start, end (excluding `\n`), and whether a `\n` follows.
    ls: usize,
    le: usize,
    has_nl: bool,
}

type Name = Option<(String, Range<usize>)>;

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}
fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b':'
}
fn is_name_cont(c: u8) -> bool {
    is_name_start(c) || c.is_ascii_digit()
}
fn is_label_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}
fn is_label_cont(c: u8) -> bool {
    is_label_start(c) || c.is_ascii_digit()
}

impl<'a> Parser<'a> {
    fn s(&self, r: Range<usize>) -> &'a str {
        self.src.get(r).unwrap_or("")
    }

    fn at(&self, i: usize) -> Option<u8> {
        (i < self.le).then(|| self.b[i])
    }

    fn skip_blanks(&self, i: usize) -> usize {
        self.scan(i, is_blank)
    }

    fn scan(&self, mut i: usize, f: fn(u8) -> bool) -> usize {
        while i < self.le && f(self.b[i]) {
            i += 1;
        }
        i
    }

    /// Span of one character at `i` (empty at the end of the line).
    fn char_span(&self, i: usize) -> Range<usize> {
        if i >= self.le {
            return i..i;
        }
        i..self.scan(i + 1, |c| (c & 0xC0) == 0x80)
    }

    fn err_at<T>(&self, i: usize, msg: String) -> LResult<T> {
        let (span, at_char) = (self.char_span(i), i < self.le);
        Err(LineErr { span, msg, at_char })
    }

    fn push_error(&mut self, span: Range<usize>, message: String) {
        let pos = span.start.min(self.b.len());
        let line_bytes = &self.b[self.ls.min(pos)..pos];
        let column = 1 + line_bytes.iter().filter(|&&c| (c & 0xC0) != 0x80).count();
        let line = self.line_no;
        let e = ParseError {
            span,
            line,
            column,
            message,
        };
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(e);
        } else {
            self.dropped_errors.get_or_insert((e, 0)).1 += 1;
        }
    }

    fn run(&mut self) {
        let len = self.b.len();
        let mut pos = 0;
        while pos < len {
            self.line_no += 1;
            self.ls = pos;
            self.le = self.b[pos..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(len, |k| pos + k);
            self.has_nl = self.le < len;
            match self.format {
                Format::OpenMetrics1 if self.eof_seen => {
                    let msg = "unexpected data after # EOF".to_string();
                    return self.push_error(pos..self.le, msg);
                }
                Format::OpenMetrics1 => self.om_line(),
                Format::Text004 => self.text_line(),
            }
            pos = if self.has_nl { self.le + 1 } else { len };
        }
        if self.format == Format::OpenMetrics1 && !self.eof_seen {
            if len == 0 || self.has_nl {
                self.line_no += 1;
                self.ls = len;
            }
            self.push_error(len..len, "data does not end with # EOF".into());
        }
    }

    // --- families ------------------------------------------------------------------------

    /// Family a sample (or, in text format, a HELP/TYPE line) with this name belongs to.
    fn resolve(&self, name: &str) -> Option<usize> {
        let with_suffix = |suffixes: &[&str], ok: &dyn Fn(MetricType, &str) -> bool| {
            suffixes.iter().find_map(|suf| {
                let base = name.strip_suffix(suf).filter(|b| !b.is_empty())?;
                let &i = self.index.get(base)?;
                ok(self.families[i].kind, suf).then_some(i)
            })
        };
        match self.format {
            Format::Text004 => self.index.get(name).copied().or_else(|| {
                with_suffix(&["_count", "_sum"], &|k, _| k == MetricType::Summary).or_else(|| {
                    with_suffix(&["_count", "_sum", "_bucket"], &|k, _| {
                        k == MetricType::Histogram
                    })
                })
            }),
            Format::OpenMetrics1 => {
                with_suffix(&OM_SUFFIXES, &|k, suf| om_suffixes(k).contains(&suf))
                    .or_else(|| self.index.get(name).copied())
            }
        }
    }

    /// Kind and display name of the family a sample name resolves to.
    fn family_of(&self, name: &str) -> (Option<MetricType>, String) {
        match self.resolve(name) {
            Some(f) => (Some(self.families[f].kind), self.families[f].name.clone()),
            None => (None, name.to_string()),
        }
    }

    /// `None` when a new family would exceed the limit (reported once).
    fn family_for_meta(&mut self, name: &str, span: &Range<usize>) -> Option<usize> {
        let found = match self.format {
            Format::Text004 => self.resolve(name),
            Format::OpenMetrics1 => self.index.get(name).copied(),
        };
        let f = match found {
            Some(f) => f,
            None if self.families.len() < self.max_samples => self.create_family(name),
            None => {
                self.over_limit(self.ls..self.le);
                return None;
            }
        };
        self.families[f].name_span.get_or_insert(span.clone());
        Some(f)
    }

    /// Record (once) that the limit of samples and families was reached.
    fn over_limit(&mut self, span: Range<usize>) {
        if !self.limit_reported {
            self.limit_reported = true;
            let max = self.max_samples;
            let msg = format!(
                "sample limit of {max} exceeded: further samples and metric families are not collected"
            );
            self.push_error(span, msg);
        }
    }

    fn create_family(&mut self, name: &str) -> usize {
        let i = self.families.len();
        self.families.push(Family {
            name: name.to_string(),
            name_span: None,
            kind: MetricType::Unknown,
            type_span: None,
            help: None,
            help_span: None,
            unit: None,
            samples: Vec::new(),
        });
        self.typed.push(false);
        self.index.insert(name.to_string(), i);
        i
    }

    fn commit(&mut self, sample: Sample) {
        let f = match self.resolve(&sample.name) {
            Some(f) => f,
            None if self.families.len() < self.max_samples => self.create_family(&sample.name),
            None => return self.over_limit(sample.span),
        };
        self.typed[f] = true;
        if self.stored >= self.max_samples {
            return self.over_limit(sample.span);
        }
        self.stored += 1;
        self.families[f].samples.push(sample);
    }

    // --- shared lexing -------------------------------------------------------------------

    /// Unescapes `r` (which must not end inside an escape when `Esc::Lenient`).
    fn unescape(&self, r: Range<usize>, esc: Esc) -> LResult<String> {
        let mut out = String::with_capacity(r.len());
        let (mut run, mut j) = (r.start, r.start);
        while j < r.end {
            if self.b[j] != b'\\' {
                j += 1;
                continue;
            }
            out.push_str(self.s(run..j));
            let next = (j + 1 < r.end).then(|| self.b[j + 1]);
            match next {
                Some(b'\\') => out.push('\\'),
                Some(b'n') => out.push('\n'),
                Some(b'"') if esc != Esc::Help => out.push('"'),
                _ if esc == Esc::Lenient => {
                    run = j;
                    j += 1;
                    continue;
                }
                Some(c) => {
                    let msg = format!("invalid escape sequence '\\{}'", char::from(c));
                    return lerr(j..self.char_span(j + 1).end, msg);
                }
                None => return lerr(j..self.le, "invalid escape sequence '\\\n'".into()),
            }
            j += 2;
            run = j;
        }
        out.push_str(self.s(run..r.end));
        Ok(out)
    }

    /// Quoted string starting at `i` (a `"`): (unescaped, content span, index after it).
    fn quoted(&self, i: usize, esc: Esc) -> LResult<(String, Range<usize>, usize)> {
        let mut j = i + 1;
        while j < self.le && self.b[j] != b'"' {
            j += if self.b[j] == b'\\' { 2 } else { 1 };
        }
        if j >= self.le {
            let text = self.unescape(i + 1..self.le, esc)?;
            let msg = format!(
                "label value {} contains unescaped new-line",
                go_quote(&text)
            );
            return lerr(i..self.le, msg);
        }
        Ok((self.unescape(i + 1..j, esc)?, i + 1..j, j + 1))
    }

    /// A metric name at `i`: quoted or `[a-zA-Z_:][a-zA-Z0-9_:]*`. `None` if neither.
    fn metric_name(&self, i: usize) -> LResult<Option<(String, Range<usize>, usize)>> {
        Ok(match self.at(i) {
            Some(b'"') => Some(self.quoted(i, Esc::Lenient)?),
            Some(c) if is_name_start(c) => {
                let j = self.scan(i, is_name_cont);
                Some((self.s(i..j).to_string(), i..j, j))
            }
            _ => None,
        })
    }

    // --- text format ---------------------------------------------------------------------

    fn text_line(&mut self) {
        let i = self.skip_blanks(self.ls);
        if i >= self.le {
            return;
        }
        let r = if self.b[i] == b'#' {
            self.text_comment(i + 1)
        } else {
            self.text_sample(i).map(|sample| self.commit(sample))
        };
        match r {
            Err(mut e) => {
                if !self.has_nl && e.span.end >= self.le && !e.at_char {
                    // expfmt hits the end of the stream while still reading this token.
                    e.msg = "unexpected end of input stream".into();
                }
                self.push_error(e.span, e.msg);
            }
            Ok(()) if !self.has_nl => {
                self.push_error(self.le..self.le, "unexpected end of input stream".into())
            }
            Ok(()) => {}
        }
    }

    fn text_comment(&mut self, i: usize) -> LResult<()> {
        let i = self.skip_blanks(i);
        let kw_end = self.scan(i, |c| !is_blank(c));
        let keyword = self.s(i..kw_end);
        if keyword == "EOF" && self.skip_blanks(kw_end) >= self.le {
            self.eof_seen = true;
        }
        let i = self.skip_blanks(kw_end);
        if kw_end >= self.le || (keyword != "HELP" && keyword != "TYPE") || i >= self.le {
            return Ok(());
        }
        let (name, name_span, j) = self.metric_name(i)?.unwrap_or((String::new(), i..i, i));
        if j >= self.le {
            return Ok(());
        } else if !is_blank(self.b[j]) {
            return self.err_at(j, "invalid metric name in comment".into());
        }
        let Some(f) = self.family_for_meta(&name, &name_span) else {
            return Ok(());
        };
        let k = self.skip_blanks(j);
        if k >= self.le {
            return Ok(());
        }
        let fam = go_quote(&self.families[f].name);
        if keyword == "HELP" {
            if self.families[f].help.is_some() {
                return lerr(name_span, format!("second HELP line for metric name {fam}"));
            }
            self.families[f].help = Some(self.unescape(k..self.le, Esc::Help)?);
            self.families[f].help_span = Some(k..self.le);
            return Ok(());
        }
        if self.typed[f] {
            let msg =
                format!("second TYPE line for metric name {fam}, or TYPE reported after samples");
            return lerr(name_span, msg);
        }
        // expfmt's readTokenUntilNewline(false) drops backslashes.
        let word = self.s(k..self.le).replace('\\', "");
        let msg = format!("unknown metric type {}", go_quote(&word));
        self.families[f].kind = match word.to_ascii_uppercase().as_str() {
            "COUNTER" => MetricType::Counter,
            "GAUGE" => MetricType::Gauge,
            "SUMMARY" => MetricType::Summary,
            "UNTYPED" => MetricType::Unknown,
            "HISTOGRAM" => MetricType::Histogram,
            "GAUGE_HISTOGRAM" => MetricType::GaugeHistogram,
            _ => return lerr(k..self.le, msg),
        };
        self.families[f].type_span = Some(k..self.le);
        self.typed[f] = true;
        Ok(())
    }

    fn text_sample(&self, start: usize) -> LResult<Sample> {
        let mut name: Name = None;
        let (mut kind, mut fam) = (None, String::new());
        let mut labels: Vec<Label> = Vec::new();
        let mut many: Option<HashSet<&str>> = None;
        let braces_first = self.b[start] == b'{';
        let mut i = start;
        if !braces_first {
            let Some((n, sp, j)) = self.metric_name(i)? else {
                return self.err_at(i, "invalid metric name".into());
            };
            (kind, fam) = self.family_of(&n);
            name = Some((n, sp));
            i = self.skip_blanks(j);
        }
        if self.at(i) == Some(b'{') {
            i += 1;
            loop {
                i = self.skip_blanks(i);
                let lstart = i;
                let (lname, lspan, j) = match self.at(i) {
                    Some(b'}') => {
                        i += 1;
                        break;
                    }
                    Some(b'"') => self.quoted(i, Esc::Lenient)?,
                    Some(c) if is_label_start(c) => {
                        let j = self.scan(i, is_label_cont);
                        (self.s(i..j).to_string(), i..j, j)
                    }
                    _ => {
                        let msg = format!("invalid label name for metric {}", go_quote(&fam));
                        return self.err_at(i, msg);
                    }
                };
                i = self.skip_blanks(j);
                match self.at(i) {
                    Some(b'=') => {}
                    Some(c @ (b',' | b'}')) if braces_first && name.is_none() => {
                        (kind, fam) = self.family_of(&lname);
                        name = Some((lname, lspan));
                        i += 1;
                        if c == b'}' {
                            break;
                        }
                        continue;
                    }
                    c => {
                        let found = go_quote_byte(c.unwrap_or(b'\n'));
                        return self
                            .err_at(i, format!("expected '=' after label name, found {found}"));
                    }
                }
                if lname == "__name__" {
                    return lerr(lstart..j, "label name \"__name__\" is reserved".into());
                }
                let special = |n: &str| {
                    (kind == Some(MetricType::Summary) && n == "quantile")
                        || (kind == Some(MetricType::Histogram) && n == "le")
                };
                let dup = !special(&lname)
                    && if labels.len() < 16 {
                        labels.iter().any(|l| l.name == lname && !special(&l.name))
                    } else {
                        // Keyed by the raw name text: linear time on huge label sets.
                        let set = many.get_or_insert_with(|| {
                            let raw = |l: &Label| self.s(l.name_span.clone());
                            labels
                                .iter()
                                .filter(|l| !special(&l.name))
                                .map(raw)
                                .collect()
                        });
                        !set.insert(self.s(lspan.clone()))
                    };
                if dup {
                    let msg = format!("duplicate label names for metric {}", go_quote(&fam));
                    return lerr(lstart..j, msg);
                }
                i = self.skip_blanks(i + 1);
                if self.at(i) != Some(b'"') {
                    let found = go_quote_byte(self.at(i).unwrap_or(b'\n'));
                    let msg = format!("expected '\"' at start of label value, found {found}");
                    return self.err_at(i, msg);
                }
                let (value, value_span, j) = self.quoted(i, Esc::Label)?;
                if special(&lname) && go_float(&value).is_none() {
                    let v = go_quote(&value);
                    let msg = format!("expected float as value for '{lname}' label, got {v}");
                    return lerr(value_span, msg);
                }
                let (name, name_span) = (lname, lspan);
                labels.push(Label {
                    name,
                    name_span,
                    value,
                    value_span,
                });
                i = self.skip_blanks(j);
                match self.at(i) {
                    Some(b',') => i += 1,
                    Some(b'}') => {
                        i += 1;
                        break;
                    }
                    _ => {
                        let v = go_quote(&labels[labels.len() - 1].value);
                        return self.err_at(i, format!("unexpected end of label value {v}"));
                    }
                }
            }
            i = self.skip_blanks(i);
        }
        let Some((name, name_span)) = name else {
            return lerr(start..i, "invalid metric name".into());
        };
        let vend = self.scan(i, |c| !is_blank(c));
        let tok = self.s(i..vend);
        let Some(value) = go_float(tok) else {
            let msg = format!("expected float as value, got {}", go_quote(tok));
            return lerr(i..vend, msg);
        };
        let mut timestamp = None;
        if vend < self.le {
            let t = self.skip_blanks(vend);
            let tend = self.scan(t, |c| !is_blank(c));
            let tok = self.s(t..tend);
            let Some(ts) = go_int(tok) else {
                let msg = format!("expected integer as timestamp, got {}", go_quote(tok));
                return lerr(t..tend, msg);
            };
            timestamp = Some(ts);
            if tend < self.le {
                let rest = go_quote(&self.s(tend..self.le).replace('\\', ""));
                return lerr(
                    tend..self.le,
                    format!("spurious string after timestamp: {rest}"),
                );
            }
        }
        let (labels, value_span, exemplar) = (labels, i..vend, None);
        Ok(Sample {
            name,
            name_span,
            labels,
            value,
            value_span,
            timestamp,
            exemplar,
            line: self.line_no,
            span: start..self.le,
        })
    }

    // --- OpenMetrics ---------------------------------------------------------------------

    fn om_line(&mut self) {
        let line = &self.b[self.ls..self.le];
        if line == b"# EOF" {
            self.eof_seen = true;
            return;
        }
        let r = match line {
            [b'#', b' ', b'H', b'E', b'L', b'P', b' ', ..] => self.om_meta("HELP"),
            [b'#', b' ', b'T', b'Y', b'P', b'E', b' ', ..] => self.om_meta("TYPE"),
            [b'#', b' ', b'U', b'N', b'I', b'T', b' ', ..] => self.om_meta("UNIT"),
            [] => lerr(
                self.ls..self.ls,
                "expected a valid start token, got \"\\n\": blank lines are not allowed".into(),
            ),
            [b'#', ..] => lerr(
                self.ls..self.le,
                "invalid comment: only \"# HELP\", \"# TYPE\", \"# UNIT\" and \"# EOF\" are allowed"
                    .into(),
            ),
            _ => self.om_sample().map(|sample| self.commit(sample)),
        };
        if let Err(e) = r {
            self.push_error(e.span, e.msg);
        }
    }

    fn om_meta(&mut self, kw: &str) -> LResult<()> {
        let i = self.ls + 7;
        let Some((name, name_span, j)) = self.metric_name(i)? else {
            return self.err_at(i, format!("expected metric name after {kw}"));
        };
        if self.at(j) != Some(b' ') {
            return self.err_at(j, format!("expected text in {kw}"));
        }
        let span = j + 1..self.le;
        let text = self.s(span.clone());
        let Some(f) = self.family_for_meta(&name, &name_span) else {
            return Ok(());
        };
        let fam = go_quote(&name);
        let second = |what: &str| {
            lerr(
                name_span.clone(),
                format!("second {what} line for metric name {fam}"),
            )
        };
        match kw {
            "HELP" if self.families[f].help.is_some() => return second("HELP"),
            "HELP" => {
                self.families[f].help = Some(self.unescape(span.clone(), Esc::Lenient)?);
                self.families[f].help_span = Some(span);
            }
            "TYPE" => {
                let kind = match text {
                    "counter" => MetricType::Counter,
                    "gauge" => MetricType::Gauge,
                    "histogram" => MetricType::Histogram,
                    "gaugehistogram" => MetricType::GaugeHistogram,
                    "summary" => MetricType::Summary,
                    "info" => MetricType::Info,
                    "stateset" => MetricType::StateSet,
                    "unknown" => MetricType::Unknown,
                    _ => return lerr(span, format!("invalid metric type {}", go_quote(text))),
                };
                if self.typed[f] {
                    return second("TYPE").map_err(|mut e| {
                        e.msg.push_str(", or TYPE reported after samples");
                        e
                    });
                }
                self.families[f].kind = kind;
                self.families[f].type_span = Some(span);
                self.typed[f] = true;
            }
            _ if self.families[f].unit.is_some() => return second("UNIT"),
            _ => {
                let suffix_ok = name.len() > text.len()
                    && name.ends_with(text)
                    && name.as_bytes()[name.len() - text.len() - 1] == b'_';
                if !text.is_empty() && !suffix_ok {
                    let msg = format!("unit {} not a suffix of metric {fam}", go_quote(text));
                    return lerr(span, msg);
                }
                self.families[f].unit = Some(text.to_string());
            }
        }
        Ok(())
    }

    /// OpenMetrics label set; `i` is just after `{`. Returns the index after `}`. A quoted
    /// string followed by `,` or `}` is the metric name (only when `name` is given).
    fn om_labels(
        &self,
        mut i: usize,
        labels: &mut Vec<Label>,
        mut name: Option<&mut Name>,
    ) -> LResult<usize> {
        loop {
            let (lname, lspan, j) = match self.at(i) {
                Some(b'}') => return Ok(i + 1),
                Some(b'"') => self.quoted(i, Esc::Lenient)?,
                Some(c) if is_label_start(c) => {
                    let j = self.scan(i, is_label_cont);
                    (self.s(i..j).to_string(), i..j, j)
                }
                _ => return self.err_at(i, "expected label name".into()),
            };
            i = j;
            if self.b[lspan.start - 1] == b'"' && matches!(self.at(i), Some(b',' | b'}')) {
                match name.as_deref_mut() {
                    None => return lerr(lspan, "expected label name, got a metric name".into()),
                    Some(Some(_)) => return lerr(lspan, "metric name already set".into()),
                    Some(slot) => *slot = Some((lname, lspan)),
                }
                i += usize::from(self.at(i) == Some(b','));
                continue;
            }
            if self.at(i) != Some(b'=') {
                return self.err_at(i, "expected equal".into());
            }
            if self.at(i + 1) != Some(b'"') {
                return self.err_at(i + 1, "expected label value".into());
            }
            let (value, value_span, j) = self.quoted(i + 1, Esc::Lenient)?;
            labels.push(Label {
                name: lname,
                name_span: lspan,
                value,
                value_span,
            });
            i = j;
            match self.at(i) {
                Some(b',') => i += 1,
                Some(b'}') => {}
                _ => return self.err_at(i, "expected comma or brace close".into()),
            }
        }
    }

    /// ` token` (exactly one space, then non-space characters) and its float value.
    fn om_float(&self, i: usize, what: &str) -> LResult<(f64, Range<usize>)> {
        let end = self.scan(i + 1, |c| c != b' ');
        if self.at(i) != Some(b' ') || end == i + 1 {
            let msg = match what {
                "value" | "exemplar value" => format!("expected {what}"),
                _ => "expected timestamp, exemplar or end of line".into(),
            };
            return self.err_at(i, msg);
        }
        let tok = self.s(i + 1..end);
        let Some(v) = go_float(tok) else {
            return lerr(
                i + 1..end,
                format!("invalid {what} {}: not a float", go_quote(tok)),
            );
        };
        if what.ends_with("timestamp") && !v.is_finite() {
            return lerr(i + 1..end, format!("invalid {what} {}", go_fmt_f(v)));
        }
        Ok((v, i + 1..end))
    }

    fn om_exemplar_at(&self, i: usize) -> bool {
        self.b[i..self.le].starts_with(b" # {")
    }

    fn om_sample(&self) -> LResult<Sample> {
        let start = self.ls;
        let mut name: Name = None;
        let mut labels = Vec::new();
        let mut i = start;
        if self.b[i] != b'{' {
            if !is_name_start(self.b[i]) {
                return self.err_at(i, "expected a valid start token".into());
            }
            i = self.scan(i, is_name_cont);
            name = Some((self.s(start..i).to_string(), start..i));
        }
        if self.at(i) == Some(b'{') {
            i = self.om_labels(i + 1, &mut labels, Some(&mut name))?;
        }
        let Some((name, name_span)) = name else {
            return lerr(start..i, "metric name not set".into());
        };
        let (value, value_span) = self.om_float(i, "value")?;
        i = value_span.end;
        let (mut timestamp, mut exemplar) = (None, None);
        if i < self.le && !self.om_exemplar_at(i) {
            let (ts, r) = self.om_float(i, "timestamp")?;
            timestamp = Some((ts * 1000.0) as i64);
            i = r.end;
        }
        if i < self.le {
            if !self.om_exemplar_at(i) {
                return self.err_at(i, "expected exemplar or end of line after timestamp".into());
            }
            let mut elabels = Vec::new();
            let (ev, er) =
                self.om_float(self.om_labels(i + 4, &mut elabels, None)?, "exemplar value")?;
            let mut end = er.end;
            let mut ets = None;
            if end < self.le {
                let (ts, r) = self.om_float(end, "exemplar timestamp")?;
                (ets, end) = (Some(ts), r.end);
                if end < self.le {
                    return self
                        .err_at(end, "expected end of line after exemplar timestamp".into());
                }
            }
            let span = i + 1..end;
            let chars: usize = elabels
                .iter()
                .map(|l| l.name.chars().count() + l.value.chars().count())
                .sum();
            if chars > 128 {
                let msg = format!("exemplar label set has {chars} characters, more than 128");
                return lerr(span, msg);
            }
            let kind = self.resolve(&name).map(|f| self.families[f].kind);
            let ok = match kind {
                Some(MetricType::Counter) => name.ends_with("_total"),
                Some(MetricType::Histogram | MetricType::GaugeHistogram) => {
                    name.ends_with("_bucket")
                }
                _ => false,
            };
            if !ok {
                let n = go_quote(&name);
                let msg = format!("exemplars are only allowed on counter \"_total\" and histogram \"_bucket\" samples, not on {n}");
                return lerr(span, msg);
            }
            exemplar = Some(Exemplar {
                labels: elabels,
                value: ev,
                timestamp: ets,
                span,
            });
        }
        Ok(Sample {
            name,
            name_span,
            labels,
            value,
            value_span,
            timestamp,
            exemplar,
            line: self.line_no,
            span: start..self.le,
        })
    }
}

const OM_SUFFIXES: [&str; 8] = [
    "_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info",
];

fn om_suffixes(kind: MetricType) -> &'static [&'static str] {
    match kind {
        MetricType::Counter => &["_total", "_created"],
        MetricType::Histogram => &["_bucket", "_count", "_sum", "_created"],
        MetricType::GaugeHistogram => &["_bucket", "_gcount", "_gsum"],
        MetricType::Summary => &["_count", "_sum", "_created"],
        MetricType::Info => &["_info"],
        _ => &[],
    }
}

// ---------------------------------------------------------------------------------------------
// Go compatibility helpers
// ---------------------------------------------------------------------------------------------

/// `strconv.ParseFloat(s, 64)` as Prometheus calls it (no `p`, `P`, `_`; hex floats are
/// therefore impossible). `None` on syntax or range error.
fn go_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let (neg, body) = match b.first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        return Some(if neg { -f64::INFINITY } else { f64::INFINITY });
    }
    if body.eq_ignore_ascii_case("nan") {
        return (body.len() == s.len()).then_some(f64::NAN);
    }
    let bb = body.as_bytes();
    let mut i = 0;
    let int_digits = bb.iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if bb.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = bb[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    if matches!(bb.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bb.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_digits = bb[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp_digits == 0 {
            return None;
        }
        i += exp_digits;
    }
    if i != bb.len() {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    v.is_finite().then_some(v)
}

/// `strconv.ParseInt(s, 10, 64)`.
fn go_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.strip_prefix('+').unwrap_or(s).parse().ok()
}

/// Go `%f`.
fn go_fmt_f(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v:.6}")
    }
}

fn go_printable(c: char) -> bool {
    !(c.is_control() || (c.is_whitespace() && c != ' ') || c == '\u{ad}')
}

fn go_escape(out: &mut String, c: char, quote: char) {
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        '\\' => out.push_str("\\\\"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        c if go_printable(c) => out.push(c),
        c if (c as u32) < 0x20 || c == '\x7f' => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if (c as u32) < 0x10000 => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\U{:08x}", c as u32);
        }
    }
}

/// Go `%q` of a string.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        go_escape(&mut out, c, '"');
    }
    out.push('"');
    out
}

/// Go `%q` of a byte (quoted as a rune).
fn go_quote_byte(b: u8) -> String {
    let mut out = String::from("'");
    go_escape(&mut out, char::from(b), '\'');
    out.push('\'');
    out
}

// ---------------------------------------------------------------------------------------------
// Invariants
// ---------------------------------------------------------------------------------------------

fn series_key<'s>(labels: &'s [Label], skip: &str) -> Vec<(&'s str, &'s str)> {
    let mut k: Vec<(&str, &str)> = labels
        .iter()
        .filter(|l| skip.is_empty() || l.name != skip)
        .map(|l| (l.name.as_str(), l.value.as_str()))
        .collect();
    k.sort_unstable();
    k
}

fn show_series(name: &str, key: &[(&str, &str)]) -> String {
    let pairs: Vec<String> = key
        .iter()
        .map(|(n, v)| format!("{n}={}", go_quote(v)))
        .collect();
    match pairs.is_empty() {
        true => name.to_string(),
        false => format!("{name}{{{}}}", pairs.join(",")),
    }
}

fn label<'s>(s: &'s Sample, name: &str) -> Option<&'s Label> {
    s.labels.iter().find(|l| l.name == name)
}

/// One histogram series: buckets (le, count, span, le text), `_count`/`_gcount`, first span.
type HistSeries<'s> = (
    Vec<(f64, f64, &'s Range<usize>, &'s str)>,
    Option<&'s Sample>,
    &'s Range<usize>,
);

/// Structural checks: histograms (a `le="+Inf"` bucket per series, cumulative buckets,
/// `_count` equal to the `+Inf` bucket, `le` is a float), summary quantiles in [0, 1],
/// negative counter values, and duplicate series (same sample name and label set).
///
/// At most [`MAX_ERRORS`] problems are listed; the rest are counted in one last problem (a
/// scrape of 250,000 duplicate series made one finding each, hundreds of MB).
pub fn invariants(expo: &Exposition) -> Vec<Problem> {
    let mut out = Vec::new();
    // the first problem not listed, and how many were not
    let mut dropped: Option<(Problem, usize)> = None;
    let mut seen: HashSet<(&str, Vec<(&str, &str)>)> = HashSet::new();
    for fam in &expo.families {
        let mut push = |span: &Range<usize>, message: String| {
            if out.len() < MAX_ERRORS {
                out.push(Problem {
                    family: fam.name.clone(),
                    span: span.clone(),
                    message,
                });
            } else if let Some((_, n)) = &mut dropped {
                *n += 1;
            } else {
                dropped = Some((
                    Problem {
                        family: fam.name.clone(),
                        span: span.clone(),
                        message: String::new(),
                    },
                    1,
                ));
            }
        };
        for s in &fam.samples {
            if !seen.insert((s.name.as_str(), series_key(&s.labels, ""))) {
                let shown = show_series(&s.name, &series_key(&s.labels, ""));
                push(&s.span, format!("duplicate series {shown}"));
            }
            if fam.kind == MetricType::Counter && !s.name.ends_with("_created") && s.value < 0.0 {
                push(
                    &s.value_span,
                    format!("counter {} has a negative value", s.name),
                );
            }
            let q = label(s, "quantile").filter(|_| fam.kind == MetricType::Summary);
            if let Some(q) = q {
                let v = go_quote(&q.value);
                match go_float(&q.value) {
                    None => push(&q.value_span, format!("quantile {v} is not a float")),
                    Some(x) if !(0.0..=1.0).contains(&x) => {
                        push(&q.value_span, format!("quantile {v} is outside [0, 1]"))
                    }
                    Some(_) => {}
                }
            }
        }
        let count_suffix = match fam.kind {
            MetricType::Histogram => "_count",
            MetricType::GaugeHistogram => "_gcount",
            _ => continue,
        };
        let mut order: Vec<Vec<(&str, &str)>> = Vec::new();
        let mut series: HashMap<Vec<(&str, &str)>, HistSeries> = HashMap::new();
        for s in &fam.samples {
            let is_count = s.name.ends_with(count_suffix);
            if !is_count && !s.name.ends_with("_bucket") {
                continue;
            }
            let key = series_key(&s.labels, "le");
            if !series.contains_key(&key) {
                order.push(key.clone());
            }
            let h = series
                .entry(key)
                .or_insert_with(|| (Vec::new(), None, &s.span));
            if is_count {
                h.1 = Some(s);
            } else if let Some(le) = label(s, "le") {
                match go_float(&le.value) {
                    Some(b) => h.0.push((b, s.value, &s.span, &le.value)),
                    None => {
                        let v = go_quote(&le.value);
                        push(&le.value_span, format!("le label value {v} is not a float"))
                    }
                }
            } else {
                push(&s.span, "bucket without \"le\" label".into());
            }
        }
        for key in &order {
            let Some((buckets, count, first)) = series.get_mut(key) else {
                continue;
            };
            let shown = show_series(&fam.name, key);
            buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
            for w in buckets.windows(2).filter(|w| w[1].1 < w[0].1) {
                let (a, b) = (go_quote(w[0].3), go_quote(w[1].3));
                let msg = format!(
                    "buckets of {shown} are not cumulative: le={a} has {} but le={b} has {}",
                    w[0].1, w[1].1
                );
                push(w[1].2, msg);
            }
            let inf = buckets.iter().find(|b| b.0 == f64::INFINITY).map(|b| b.1);
            match (inf, count) {
                (None, _) => push(
                    first,
                    format!("histogram {shown} has no le=\"+Inf\" bucket"),
                ),
                (Some(b), Some(c)) if b != c.value && !(b.is_nan() && c.value.is_nan()) => {
                    let msg = format!(
                        "{}{count_suffix} of {shown} is {} but its le=\"+Inf\" bucket is {b}",
                        fam.name, c.value
                    );
                    push(&c.value_span, msg)
                }
                _ => {}
            }
        }
    }
    if let Some((first, n)) = dropped {
        out.push(Problem {
            message: format!(
                "{n} more problems like these, from here on (only the first {MAX_ERRORS} are listed)"
            ),
            ..first
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// promlint
// ---------------------------------------------------------------------------------------------

/// promlint's `units` map: unit -> base unit.
fn base_unit(unit: &str) -> Option<&'static str> {
    Some(match unit {
        "amperes" => "amperes",
        "bytes" | "bits" => "bytes",
        "celsius" | "fahrenheit" | "rankine" => "celsius",
        "grams" | "pounds" | "ounces" => "grams",
        "joules" | "calories" => "joules",
        "kelvin" | "kelvins" => "kelvin",
        "meters" | "inches" | "yards" | "miles" => "meters",
        "metres" => "metres",
        "seconds" | "minutes" | "hours" | "days" | "weeks" => "seconds",
        "volts" => "volts",
        _ => return None,
    })
}

const UNIT_PREFIXES: [&str; 19] = [
    "pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo", "kibi", "mega",
    "mibi", "giga", "gibi", "tera", "tebi", "peta", "pebi", "",
];

const UNIT_ABBREVIATIONS: [&str; 14] = [
    "s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d",
];

/// promlint `metricUnits`: a `_`-separated word that is prefix+unit. promlint iterates a Go
/// map, so with several unit words its choice is random; here a non-base unit wins, then the
/// first word.
fn metric_unit(name: &str) -> Option<(&str, &'static str)> {
    let mut found = None;
    for w in name.split('_') {
        for p in UNIT_PREFIXES {
            if let Some(base) = w.strip_prefix(p).and_then(base_unit) {
                if w != base {
                    return Some((w, base));
                }
                found.get_or_insert((w, base));
            }
        }
    }
    found
}

fn has_camel(s: &str) -> bool {
    s.as_bytes()
        .windows(2)
        .any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
}

/// `strings.Contains(n, "_"+w+"_") || strings.HasSuffix(n, "_"+w)`, without allocating.
fn has_word(n: &str, w: &str) -> bool {
    let (b, w) = (n.as_bytes(), w.as_bytes());
    (1..(b.len() + 1).saturating_sub(w.len())).any(|i| {
        b[i - 1] == b'_' && b[i..].starts_with(w) && b.get(i + w.len()).is_none_or(|&c| c == b'_')
    })
}

/// `promtool check metrics` of Prometheus 2.42 (client_golang 1.14 promlint, which has no
/// duplicate-metric rule): same problems, texts and order (by metric name, then text;
/// repeated problems are kept, e.g. one camelCase-label problem per label per metric).
/// Families without samples are skipped, as expfmt drops them. For OpenMetrics, counter and
/// info families are linted under their `_total` / `_info` names, info/stateset as gauges.
pub fn lint(expo: &Exposition) -> Vec<Problem> {
    use MetricType::*;
    let mut out = Vec::new();
    for fam in expo.families.iter().filter(|f| !f.samples.is_empty()) {
        let name = match (expo.format, fam.kind) {
            (Format::OpenMetrics1, Counter) => format!("{}_total", fam.name),
            (Format::OpenMetrics1, Info) => format!("{}_info", fam.name),
            _ => fam.name.clone(),
        };
        let kind = match fam.kind {
            Info | StateSet => Gauge,
            k => k,
        };
        let (hist, summary, counter) = (kind == Histogram, kind == Summary, kind == Counter);
        let typed = kind != Unknown;
        let lower = name.to_ascii_lowercase();
        let total = name.ends_with("_total");
        let mut p: Vec<String> = Vec::new();
        let mut check = |cond: bool, text: &str| {
            if cond {
                p.push(text.to_string())
            }
        };
        check(fam.help.is_none(), "no help text");
        check(
            counter && !total,
            "counter metrics should have \"_total\" suffix",
        );
        check(
            typed && !counter && total,
            "non-counter metrics should not have \"_total\" suffix",
        );
        let other = typed && !hist && !summary;
        check(
            typed && !hist && name.ends_with("_bucket"),
            "non-histogram metrics should not have \"_bucket\" suffix",
        );
        check(
            other && name.ends_with("_count"),
            "non-histogram and non-summary metrics should not have \"_count\" suffix",
        );
        check(
            other && name.ends_with("_sum"),
            "non-histogram and non-summary metrics should not have \"_sum\" suffix",
        );
        check(name.contains(':'), "metric names should not contain ':'");
        check(
            has_camel(&name),
            "metric names should be written in 'snake_case' not 'camelCase'",
        );
        for a in UNIT_ABBREVIATIONS {
            check(
                has_word(&lower, a),
                "metric names should not contain abbreviated units",
            );
        }
        // expfmt's metrics: histogram/summary samples are merged per series (labels of the
        // first sample, without `le` / `quantile`); every other sample is its own metric.
        let special = [(Histogram, "le"), (Summary, "quantile")]
            .iter()
            .find(|k| k.0 == kind)
            .map_or("", |k| k.1);
        let mut seen = HashSet::new();
        for s in &fam.samples {
            if !special.is_empty() && !seen.insert(series_key(&s.labels, special)) {
                continue;
            }
            for l in s
                .labels
                .iter()
                .filter(|l| special.is_empty() || l.name != special)
            {
                let l = l.name.as_str();
                check(
                    typed && !hist && l == "le",
                    "non-histogram metrics should not have \"le\" label",
                );
                check(
                    typed && !summary && l == "quantile",
                    "non-summary metrics should not have \"quantile\" label",
                );
                check(
                    has_camel(l),
                    "label names should be written in 'snake_case' not 'camelCase'",
                );
            }
        }
        if let Some((unit, base)) = metric_unit(&name).filter(|(u, b)| u != b) {
            p.push(format!("use base unit {base:?} instead of {unit:?}"));
        }
        for t in [
            "counter",
            "gauge",
            "summary",
            "histogram",
            "gauge_histogram",
        ] {
            if has_word(&lower, t) {
                p.push(format!("metric name should not include type '{t}'"));
            }
        }
        let span = fam.name_span.as_ref().unwrap_or(&fam.samples[0].name_span);
        out.extend(p.into_iter().map(|message| Problem {
            family: name.clone(),
            span: span.clone(),
            message,
        }));
    }
    out.sort_by(|a, b| (&a.family, &a.message).cmp(&(&b.family, &b.message)));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn sniffing_committed_scrapes() {
        use super::{format_for_file, sniff, Format};
        for yes in [
            "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 3\n",
            "# TYPE job_seconds histogram\njob_seconds_bucket{le=\"+Inf\"} 1\njob_seconds_count 1\n",
            "# TYPE q gauge\n\nq 1\n# EOF\n",
        ] {
            assert!(sniff(yes), "{yes}");
        }
        for no in [
            // prose that mentions the format
            "Write the file:\n# TYPE lines first\nthen samples\n",
            // a TYPE line but no sample of that metric
            "# TYPE a counter\nb 1\n",
            // samples without any TYPE line
            "a 1\nb 2\n",
            // YAML, a shell script
            "groups:\n  - name: x\n",
            "# TYPE a gauge\necho a 1 > /tmp/x\nexit 0\n",
            "",
        ] {
            assert!(!sniff(no), "{no}");
        }
        assert_eq!(
            format_for_file("# TYPE q gauge\nq 1\n# EOF\n\n"),
            Format::OpenMetrics1
        );
        assert_eq!(format_for_file("# TYPE q gauge\nq 1\n"), Format::Text004);
        assert_eq!(format_for_file("# EOF\nq 1\n"), Format::Text004);
    }

    use super::*;

    fn text(s: &str) -> Exposition {
        parse(s, Format::Text004)
    }
    fn om(s: &str) -> Exposition {
        parse(s, Format::OpenMetrics1)
    }

    /// Cases "line|message|input": the first error must be exactly that.
    fn check_first_errors(format: Format, cases: &[&str], exact: bool) {
        for case in cases {
            let mut it = case.splitn(3, '|');
            let (line, msg, src) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
            let e = parse(src, format);
            assert!(!e.errors.is_empty(), "no error for {src:?}");
            let got = &e.errors[0];
            assert_eq!(got.line.to_string(), line, "{src:?}: {:?}", e.errors);
            let ok = if exact {
                got.message == msg
            } else {
                got.message.contains(msg)
            };
            assert!(ok, "{src:?}: {:?}", got.message);
        }
    }

    #[test]
    fn content_type_and_accept() {
        let om_ct = "application/openmetrics-text; version=1.0.0; charset=utf-8";
        assert_eq!(format_for_content_type(om_ct), Format::OpenMetrics1);
        let text_ct = "text/plain; version=0.0.4; charset=utf-8";
        assert_eq!(format_for_content_type(text_ct), Format::Text004);
        assert_eq!(format_for_content_type(""), Format::Text004);
        assert!(accept_header().starts_with("application/openmetrics-text;version=1.0.0,"));
    }

    #[test]
    fn text_basic_and_escapes() {
        let src = "# HELP a Some \\\\ help\\nmore\n# TYPE a counter\n\
                   a{path=\"/a,b}c\",msg=\"x \\\"q\\\" \\\\ \\n\",} 1.5e3 -123\n\n  a 2\n";
        let e = text(src);
        assert!(e.errors.is_empty(), "{:?}", e.errors);
        let f = &e.families[0];
        assert_eq!(f.kind, MetricType::Counter);
        assert_eq!(f.help.as_deref(), Some("Some \\ help\nmore"));
        let s = &f.samples[0];
        assert_eq!(
            (s.labels[0].value.as_str(), s.labels[1].value.as_str()),
            ("/a,b}c", "x \"q\" \\ \n")
        );
        assert_eq!(&src[s.labels[0].value_span.clone()], "/a,b}c");
        assert_eq!((s.value, s.timestamp, s.line), (1500.0, Some(-123), 3));
        assert_eq!(&src[s.value_span.clone()], "1.5e3");
        assert_eq!(f.samples[1].line, 5);
        assert_eq!(&src[f.samples[1].span.clone()], "a 2");
    }

    #[test]
    fn go_numbers() {
        for s in "1|.5|5.|+.5e-3|-Inf|+inf|Infinity|NaN|nan|1e-400|-0|007".split('|') {
            assert!(go_float(s).is_some(), "{s:?}");
        }
        for s in "+nan|0x10|0x1p3|1_0|1e400||.|1e|infin|1\r| 1|1 ".split('|') {
            assert!(go_float(s).is_none(), "{s:?}");
        }
        assert_eq!(go_int("+5"), Some(5));
        assert_eq!(go_int("9223372036854775808"), None);
        assert_eq!(go_int("1.5"), None);
    }

    #[test]
    fn text_errors_match_expfmt() {
        check_first_errors(
            Format::Text004,
            &[
                "1|unexpected end of input stream|a 1",
                "1|expected integer as timestamp, got \"\"|a 1 \n",
                "1|spurious string after timestamp: \" \"|a 1 123 \n",
                "2|second HELP line for metric name \"a\"|# HELP a x\n# HELP a y\na 1\n",
                "2|second TYPE line for metric name \"a\", or TYPE reported after samples|a 1\n# TYPE a gauge\n",
                "1|duplicate label names for metric \"a\"|a{x=\"y\",x=\"z\"} 1\n",
                "1|label name \"__name__\" is reserved|a{__name__=\"y\"} 1\n",
                "1|expected float as value, got \"0x10\"|a 0x10\n",
                "1|invalid escape sequence '\\t'|# HELP a foo \\t\na 1\n",
                "1|unknown metric type \"counter \"|# TYPE a counter \na 1\n",
                "1|unknown metric type \"gauge,q\"|# TYPE a gauge,\\q\n",
                "1|invalid metric name in comment|# HELP a-b x\n",
                "1|expected '\"' at start of label value, found 'y'|a{x=y} 1\n",
                "1|expected '=' after label name, found '\\n'|a{x\n",
                "1|unexpected end of label value \"y\"|a{x=\"y\" z=\"w\"} 1\n",
                "1|invalid escape sequence '\\t'|a{x=\"y\\tz\"} 1\n",
                "1|label value \"y\" contains unescaped new-line|a{x=\"y\n",
                "2|expected float as value, got \"-b\"|ok 1\na-b 1\n",
                "1|invalid metric name|1a 1\n",
                "1|invalid label name for metric \"a\"|a{,} 1\n",
                "1|invalid label name for metric \"a\"|a{1",
                "1|expected float as value, got \"1\\r\"|a 1\r\n",
                "1|expected integer as timestamp, got \"1.5\"|a 1 1.5\n",
                "2|expected float as value for 'le' label, got \"a\"|# TYPE x histogram\nx_bucket{le=\"a\"} 1\n",
                "3|second TYPE line for metric name \"x\", or TYPE reported after samples|# TYPE x summary\nx_count 1\n# TYPE x_count gauge\n",
            ],
            true,
        );
        for ok in [
            "",
            "\n\n",
            "  ",
            "a 1\n  ",
            "# EOF\n",
            "a{}1\n",
            "a\t1\n",
            "a { x = \"y\" , } 1\n",
        ] {
            assert!(text(ok).errors.is_empty(), "{ok:?}: {:?}", text(ok).errors);
        }
        assert_eq!(
            text("# TYPE a coun\\ter\na 1\n").families[0].kind,
            MetricType::Counter
        );
    }

    #[test]
    fn invariant_problems_are_capped_and_counted() {
        let src = "# TYPE c counter\n".to_string() + &"c 1\n".repeat(MAX_ERRORS + 51);
        let e = text(&src);
        let p = invariants(&e);
        assert_eq!(p.len(), MAX_ERRORS + 1);
        assert_eq!(p[0].message, "duplicate series c");
        let last = &p[MAX_ERRORS];
        assert_eq!(last.family, "c");
        assert_eq!(&src[last.span.clone()], "c 1");
        assert_eq!(
            last.span.start,
            "# TYPE c counter\n".len() + (MAX_ERRORS + 1) * 4
        );
        assert!(
            last.message.starts_with("50 more problems like these"),
            "{}",
            last.message
        );
    }

    #[test]
    fn errors_are_capped_and_counted() {
        let src = "}\n".repeat(MAX_ERRORS + 50) + "ok 1\n";
        let e = text(&src);
        assert_eq!(e.errors.len(), MAX_ERRORS + 1);
        assert_eq!(e.errors[0].line, 1);
        let last = &e.errors[MAX_ERRORS];
        assert_eq!((last.line, last.column), (MAX_ERRORS + 1, 1));
        assert!(
            last.message.starts_with("50 more lines do not parse"),
            "{}",
            last.message
        );
        assert_eq!(e.families.len(), 1);
    }

    #[test]
    fn recovers_and_reports_all_errors() {
        let e = text("a 1\nb{ 2\nc 3\nd x\ne 5\n");
        let lines: Vec<usize> = e.errors.iter().map(|e| e.line).collect();
        assert_eq!((lines, e.families.len()), (vec![2, 4], 3));
        let e = text("ok 1\nb{x=\"é\" y} 1\n");
        assert_eq!((e.errors[0].line, e.errors[0].column), (2, 9));
    }

    #[test]
    fn text_family_grouping() {
        let e = text(
            "# TYPE x histogram\nx_bucket{le=\"1\"} 1\nx_bucket{le=\"+Inf\"} 2\nx_sum 3\nx_count 2\n\
             # TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 1\ns_count 1\ns_bucket 1\n\
             # TYPE foo counter\nfoo_total 1\nx_count{a=\"1\"} 2\n",
        );
        assert!(e.errors.is_empty());
        let names: Vec<_> = e
            .families
            .iter()
            .map(|f| (f.name.as_str(), f.samples.len()))
            .collect();
        let want = [
            ("x", 5),
            ("s", 3),
            ("s_bucket", 1),
            ("foo", 0),
            ("foo_total", 1),
        ];
        assert_eq!(names, want);
    }

    #[test]
    fn utf8_names() {
        let e = text(
            "# HELP \"my.metric\" h\n{\"my.metric\",\"a.b\"=\"1\"} 1\n\"my.metric\"{c=\"2\"} 2\n",
        );
        assert!(e.errors.is_empty(), "{:?}", e.errors);
        assert_eq!((e.families.len(), e.families[0].samples.len()), (1, 2));
        assert_eq!(e.families[0].samples[0].labels[0].name, "a.b");
        let e = om("{\"my.metric\",a=\"1\"} 1\n# EOF\n");
        assert!(e.errors.is_empty(), "{:?}", e.errors);
        assert_eq!(e.families[0].name, "my.metric");
    }

    #[test]
    fn openmetrics() {
        let src = "# TYPE foo_seconds counter\n# UNIT foo_seconds seconds\n# HELP foo_seconds h \\\"x\\\"\n\
                   foo_seconds_total{a=\"1\"} 1.0 1.5 # {trace_id=\"x\"} 1 1.6e9\n\
                   foo_seconds_created{a=\"1\"} 1.6e9\n# TYPE h histogram\n\
                   h_bucket{le=\"+Inf\"} 1 # {t=\"1\"} 0.5\nh_count 1\nh_sum 0.5\n\
                   # TYPE i info\ni_info{v=\"1\"} 1\nbar 3\n# EOF\n";
        let e = om(src);
        assert!(e.errors.is_empty() && e.eof_seen, "{:?}", e.errors);
        let f = &e.families[0];
        let meta = (f.kind, f.unit.as_deref(), f.help.as_deref());
        assert_eq!(
            meta,
            (MetricType::Counter, Some("seconds"), Some("h \"x\""))
        );
        assert_eq!((f.samples.len(), f.samples[0].timestamp), (2, Some(1500)));
        let ex = f.samples[0].exemplar.as_ref().unwrap();
        assert_eq!((ex.value, ex.timestamp), (1.0, Some(1.6e9)));
        assert_eq!(&src[ex.span.clone()], "# {trace_id=\"x\"} 1 1.6e9");
        let kinds: Vec<_> = e
            .families
            .iter()
            .map(|f| (f.name.as_str(), f.kind))
            .collect();
        use MetricType::*;
        let want = [
            ("foo_seconds", Counter),
            ("h", Histogram),
            ("i", Info),
            ("bar", Unknown),
        ];
        assert_eq!(kinds, want);
        assert!(invariants(&e).is_empty());
        let l = lint(&e);
        assert_eq!(
            (l[0].family.as_str(), l[0].message.as_str()),
            ("bar", "no help text")
        );
    }

    #[test]
    fn openmetrics_errors() {
        check_first_errors(
            Format::OpenMetrics1,
            &[
                "2|data does not end with # EOF|a 1\n",
                "1|data does not end with # EOF|a 1",
                "3|unexpected data after # EOF|a 1\n# EOF\nb 1\n",
                "2|unexpected data after # EOF|# EOF\n\n\n",
                "2|blank lines|a 1\n\n# EOF\n",
                "1|invalid comment|# foo\n# EOF\n",
                "1|expected value|a  1\n# EOF\n",
                "1|expected timestamp|a 1 \n# EOF\n",
                "1|invalid metric type \"foo\"|# TYPE a foo\n# EOF\n",
                "2|second TYPE line|# TYPE a gauge\n# TYPE a gauge\n# EOF\n",
                "1|unit \"seconds\" not a suffix|# UNIT a_x seconds\n# EOF\n",
                "2|exemplars are only allowed|# TYPE g gauge\ng 1 # {a=\"1\"} 1\n# EOF\n",
                "1|expected comma or brace close|a{b=\"1\" } 1\n# EOF\n",
                "1|invalid timestamp NaN|a 1 NaN\n# EOF\n",
                "1|metric name not set|{a=\"1\"} 1\n# EOF\n",
                "1|metric name already set|{\"a\",\"b\"} 1\n# EOF\n",
            ],
            false,
        );
        assert!(om("# EOF").errors.is_empty());
        assert_eq!(om("").errors[0].message, "data does not end with # EOF");
    }

    #[test]
    fn limit() {
        let e = parse_with_limit("a 1\nb 2\nc 3\nd x\ne 4\n", Format::Text004, 2);
        let n: usize = e.families.iter().map(|f| f.samples.len()).sum();
        assert_eq!((n, e.errors.len(), e.errors[1].line), (2, 2, 4));
        assert!(e.errors[0].message.contains("sample limit of 2"));
        // metric families count too: HELP/TYPE lines of new names over the limit are dropped
        let e = parse_with_limit(
            "# TYPE a gauge\n# TYPE b gauge\n# TYPE c gauge\nc 1\n",
            Format::Text004,
            2,
        );
        assert_eq!(e.families.len(), 2, "{:?}", e.families);
        assert_eq!(e.errors.len(), 1, "{:?}", e.errors);
        assert_eq!(e.errors[0].line, 3);
    }

    #[test]
    fn invariant_problems() {
        let e = text(
            "# TYPE h histogram\nh_bucket{le=\"1\"} 5\nh_bucket{le=\"2\"} 3\nh_count 3\n\
             h_bucket{x=\"1\",le=\"1\"} 1\nh_bucket{x=\"1\",le=\"+Inf\"} 2\nh_count{x=\"1\"} 3\n\
             # TYPE s summary\ns{quantile=\"1.5\"} 1\n# TYPE c counter\nc -1\nc -1\n",
        );
        assert!(e.errors.is_empty(), "{:?}", e.errors);
        let msgs: Vec<String> = invariants(&e).into_iter().map(|p| p.message).collect();
        assert_eq!(msgs.len(), 7, "{msgs:?}");
        for w in [
            "buckets of h are not cumulative: le=\"1\" has 5 but le=\"2\" has 3",
            "histogram h has no le=\"+Inf\" bucket",
            "h_count of h{x=\"1\"} is 3 but its le=\"+Inf\" bucket is 2",
            "quantile \"1.5\" is outside [0, 1]",
            "counter c has a negative value",
            "duplicate series c",
        ] {
            assert!(msgs.iter().any(|m| m == w), "{w}: {msgs:?}");
        }
        let e = om("# TYPE h histogram\nh_bucket{le=\"x\"} 1\nh_bucket 1\n# EOF\n");
        let msgs: Vec<String> = invariants(&e).into_iter().map(|p| p.message).collect();
        assert!(
            msgs.contains(&"le label value \"x\" is not a float".into()),
            "{msgs:?}"
        );
        assert!(
            msgs.contains(&"bucket without \"le\" label".into()),
            "{msgs:?}"
        );
    }

    #[test]
    fn lint_matches_promtool() {
        let e = text(
            "# HELP fooBar x\n# TYPE fooBar counter\nfooBar{aB=\"1\",cD=\"2\"} 1\nfooBar{aB=\"2\"} 1\n\
             # HELP foo_counter_gauge_total x\n# TYPE foo_counter_gauge_total gauge\nfoo_counter_gauge_total 1\n\
             # HELP x_ms x\n# TYPE x_ms gauge\nx_ms{le=\"1\",quantile=\"2\"} 1\n\
             # HELP km_kilometers x\n# TYPE km_kilometers gauge\nkm_kilometers 1\n\
             # HELP empty x\n# TYPE empty gauge\nb:c_count 1\n",
        );
        assert!(e.errors.is_empty(), "{:?}", e.errors);
        let got: Vec<String> = lint(&e)
            .into_iter()
            .map(|p| format!("{} {}", p.family, p.message))
            .collect();
        let camel = "fooBar label names should be written in 'snake_case' not 'camelCase'";
        let want = [
            "b:c_count metric names should not contain ':'",
            "b:c_count no help text",
            "fooBar counter metrics should have \"_total\" suffix",
            camel,
            camel,
            camel,
            "fooBar metric names should be written in 'snake_case' not 'camelCase'",
            "foo_counter_gauge_total metric name should not include type 'counter'",
            "foo_counter_gauge_total metric name should not include type 'gauge'",
            "foo_counter_gauge_total non-counter metrics should not have \"_total\" suffix",
            "km_kilometers use base unit \"meters\" instead of \"kilometers\"",
            "x_ms metric names should not contain abbreviated units",
            "x_ms non-histogram metrics should not have \"le\" label",
            "x_ms non-summary metrics should not have \"quantile\" label",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn never_panics_on_mutations() {
        let base = "# HELP a h\\n\n# TYPE a histogram\na_bucket{le=\"1\",x=\"é\\\"\"} 1 2\n\
                    {\"q.n\",b=\"c\"} 1 # {t=\"1\"} 2 3\n# UNIT a a\n# EOF\n";
        let run = |s: &str| {
            for f in [Format::Text004, Format::OpenMetrics1] {
                let e = parse(s, f);
                let bad = |x: &ParseError| x.span.start > x.span.end || x.span.end > s.len();
                assert!(!e.errors.iter().any(bad));
                let _ = (invariants(&e), lint(&e));
            }
        };
        (0..=base.len())
            .filter_map(|cut| base.get(..cut))
            .for_each(run);
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let alphabet = b"{}\",=# \n\\_:ale+Inf.0e-";
        for _ in 0..3000 {
            let mut bytes = base.as_bytes().to_vec();
            for _ in 0..3 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let pos = (seed as usize) % bytes.len();
                let c = alphabet[(seed >> 32) as usize % alphabet.len()];
                match seed % 3 {
                    0 => bytes[pos] = c,
                    1 => bytes.insert(pos, c),
                    _ => drop(bytes.remove(pos)),
                }
            }
            run(&String::from_utf8_lossy(&bytes));
        }
        let huge: String = (0..5000).map(|i| format!("l{i}=\"v\",")).collect();
        let huge = format!("a{{{huge}}} 1\n");
        assert!(text(&huge).errors.is_empty());
        assert!(!text(&huge.replace("l4999=", "l7=")).errors.is_empty());
    }
}
