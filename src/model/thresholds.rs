//! Declared thresholds (CI variables, `.obsgate.yml`, analysis JSON) and what alert rules
//! enforce (the constant an alert compares a latency quantile, an error rate or a request rate
//! with), in common units, so the two can be matched and compared.

use promql_parser::parser::token;
use promql_parser::parser::Expr;

use crate::checks::promql_util::{selector_name, strip_parens, walk};
use crate::model::{Project, RuleRef};
use crate::parse::promql::Parsed;
use crate::source::{FileId, Span};

/// What a threshold is about.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// A latency quantile (`p95` = 0.95); `None` when the name gives no quantile.
    Latency(Option<f64>),
    ErrorRate,
    Throughput,
}

impl Kind {
    /// `a p95 latency` / `an error rate`.
    pub fn with_article(self) -> String {
        let d = self.describe();
        if d.starts_with(['a', 'e', 'i', 'o', 'u']) {
            format!("an {d}")
        } else {
            format!("a {d}")
        }
    }

    pub fn describe(self) -> String {
        match self {
            Kind::Latency(Some(q)) => format!("p{} latency", quantile_label(q)),
            Kind::Latency(None) => "latency".into(),
            Kind::ErrorRate => "error rate".into(),
            Kind::Throughput => "throughput".into(),
        }
    }
}

pub fn quantile_label(q: f64) -> String {
    let p = q * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{}", p.round() as i64)
    } else {
        format!("{}", p).replace('.', "")
    }
}

/// The unit a value is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Milliseconds,
    Percent,
    Ratio,
    PerSecond,
    PerMinute,
}

impl Unit {
    /// Factor to the base unit (seconds, ratio, per second).
    pub fn factor(self) -> f64 {
        match self {
            Unit::Seconds | Unit::Ratio | Unit::PerSecond => 1.0,
            Unit::Milliseconds => 0.001,
            Unit::Percent => 0.01,
            Unit::PerMinute => 1.0 / 60.0,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Seconds => "s",
            Unit::Milliseconds => "ms",
            Unit::Percent => "%",
            Unit::Ratio => "",
            Unit::PerSecond => " req/s",
            Unit::PerMinute => " req/min",
        }
    }

    fn fits(self, kind: Kind) -> bool {
        match kind {
            Kind::Latency(_) => matches!(self, Unit::Seconds | Unit::Milliseconds),
            Kind::ErrorRate => matches!(self, Unit::Percent | Unit::Ratio),
            Kind::Throughput => matches!(self, Unit::PerSecond | Unit::PerMinute),
        }
    }
}

/// A number for messages and reports: at most 6 decimals, no trailing zeros (`0.5`, `1000`).
pub fn num(v: f64) -> String {
    let s = format!("{v:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Format a value in a unit's base (seconds / percent / req/s) for messages.
pub fn show(kind: Kind, base: f64) -> String {
    let n = num;
    match kind {
        Kind::Latency(_) if base < 1.0 => format!("{} ms", n(base * 1000.0)),
        Kind::Latency(_) => format!("{} s", n(base)),
        Kind::ErrorRate => format!("{}%", n(base * 100.0)),
        Kind::Throughput => format!("{} req/s", n(base)),
    }
}

/// Where a declared threshold comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    CiVariable,
    Config,
    AnalysisJson,
}

impl Origin {
    pub fn describe(self) -> &'static str {
        match self {
            Origin::CiVariable => "CI variable",
            Origin::Config => "`.obsgate.yml` threshold",
            Origin::AnalysisJson => "analysis JSON threshold",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Declared {
    pub name: String,
    pub file: FileId,
    pub name_span: Span,
    pub value_span: Span,
    pub origin: Origin,
    pub kind: Kind,
    /// The value as written, in `unit`.
    pub value: f64,
    pub unit: Unit,
    /// Explicit mapping to an alert (`.obsgate.yml` `alert:`).
    pub alert: Option<String>,
}

impl Declared {
    /// In seconds / ratio / requests per second.
    pub fn base(&self) -> f64 {
        self.value * self.unit.factor()
    }
}

fn tokens(name: &str) -> Vec<String> {
    // split snake/kebab/camel case
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c == '_' || c == '-' || c == '.' || c == ' ' {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The quantile a name or comment gives: `p95`, `p99.9`/`p999`, `95th percentile`.
fn quantile_of(toks: &[String], comment: &str) -> Option<f64> {
    let from_p = |t: &str| -> Option<f64> {
        let digits = t.strip_prefix('p')?;
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let n: f64 = digits.parse().ok()?;
        let q = match digits.len() {
            1 | 2 => n / 100.0,
            _ => n / 10f64.powi(digits.len() as i32),
        };
        (q > 0.0 && q < 1.0).then_some(q)
    };
    if let Some(q) = toks.iter().find_map(|t| from_p(t)) {
        return Some(q);
    }
    if toks.iter().any(|t| t == "median") {
        return Some(0.5);
    }
    let c = comment.to_ascii_lowercase();
    let re = regex_pct();
    re.captures(&c)
        .and_then(|m| m.get(1)?.as_str().parse::<f64>().ok())
        .map(|p| p / 100.0)
        .filter(|q| *q > 0.0 && *q < 1.0)
}

fn regex_pct() -> &'static regex::Regex {
    static R: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        regex::Regex::new(r"\b(\d{2}(?:\.\d+)?)(?:th|st|nd|rd)? percentile").expect("valid regex")
    })
}

/// What a threshold's name (and comment) says it is about.
pub fn kind_of(name: &str, comment: &str) -> Option<Kind> {
    let toks = tokens(name);
    let has = |w: &str| toks.iter().any(|t| t == w);
    let c = comment.to_ascii_lowercase();
    let latency = has("latency")
        || has("duration")
        || (has("response") && has("time"))
        || has("responsetime")
        || (toks
            .iter()
            .any(|t| quantile_of(std::slice::from_ref(t), "").is_some())
            && (has("time") || has("ms") || c.contains("response time") || c.contains("latency")));
    if latency {
        return Some(Kind::Latency(quantile_of(&toks, comment)));
    }
    if has("error") || has("errors") || has("failure") || has("5xx") {
        return Some(Kind::ErrorRate);
    }
    if has("throughput") || has("rps") || has("qps") || (has("request") && has("rate")) {
        return Some(Kind::Throughput);
    }
    None
}

/// Does a variable name look like a declared limit (not a port, URL, timeout...)?
pub fn threshold_name(name: &str) -> bool {
    let toks = tokens(name);
    toks.iter().any(|t| {
        matches!(
            t.as_str(),
            "threshold" | "limit" | "max" | "min" | "slo" | "target" | "budget" | "sla"
        )
    }) || matches!(
        toks.last().map(String::as_str),
        Some("ms" | "seconds" | "percent" | "pct" | "rps")
    )
}

/// The unit named by a variable name, its comment or the value's suffix.
pub fn unit_of(name: &str, comment: &str, suffix: &str) -> Option<Unit> {
    let s = suffix.trim().to_ascii_lowercase();
    let from_suffix = match s.as_str() {
        "ms" | "msec" | "milliseconds" => Some(Unit::Milliseconds),
        "s" | "sec" | "secs" | "seconds" => Some(Unit::Seconds),
        "%" | "percent" => Some(Unit::Percent),
        "req/s" | "rps" | "/s" | "requests/s" | "qps" | "req/sec" => Some(Unit::PerSecond),
        "req/min" | "rpm" | "/min" => Some(Unit::PerMinute),
        _ => None,
    };
    if from_suffix.is_some() {
        return from_suffix;
    }
    let toks = tokens(name);
    match toks.last().map(String::as_str) {
        Some("ms" | "millis" | "milliseconds") => return Some(Unit::Milliseconds),
        Some("seconds" | "secs" | "sec") => return Some(Unit::Seconds),
        Some("percent" | "pct") => return Some(Unit::Percent),
        Some("ratio") => return Some(Unit::Ratio),
        Some("rps") => return Some(Unit::PerSecond),
        _ => {}
    }
    let c = comment.to_ascii_lowercase();
    let word = |w: &str| {
        c.split(|ch: char| !ch.is_ascii_alphanumeric() && ch != '/' && ch != '%')
            .any(|x| x == w)
    };
    if word("ms") || c.contains("millisecond") {
        Some(Unit::Milliseconds)
    } else if c.contains("(%)") || c.contains('%') || word("percent") || c.contains("percentage") {
        Some(Unit::Percent)
    } else if c.contains("req/s")
        || c.contains("per second")
        || word("rps")
        || c.contains("requests/s")
    {
        Some(Unit::PerSecond)
    } else if word("s") || word("seconds") || word("sec") {
        Some(Unit::Seconds)
    } else if word("ratio") {
        Some(Unit::Ratio)
    } else {
        None
    }
}

/// Split `500ms`, `1 %`, `1000 req/s` into number and suffix.
pub fn split_value(text: &str) -> Option<(f64, &str)> {
    let t = text.trim();
    let end = t
        .char_indices()
        .find(|&(i, c)| {
            !(c.is_ascii_digit() || c == '.' || ((c == '-' || c == '+') && i == 0))
                && !(c == 'e' && i > 0)
        })
        .map(|(i, _)| i)
        .unwrap_or(t.len());
    let n: f64 = t[..end].parse().ok()?;
    n.is_finite().then_some((n, &t[end..]))
}

/// Build a declared threshold from a name, a written value and a comment. `None` when the name
/// does not say what it is about, or the value is not a number (e.g. a `$VAR` reference).
#[allow(clippy::too_many_arguments)]
pub fn declare(
    name: &str,
    comment: &str,
    value: &str,
    explicit_unit: Option<Unit>,
    explicit_kind: Option<Kind>,
    origin: Origin,
    file: FileId,
    name_span: Span,
    value_span: Span,
    alert: Option<String>,
) -> Option<Declared> {
    if value.contains('$') {
        return None;
    }
    let kind = explicit_kind.or_else(|| kind_of(name, comment))?;
    let (n, suffix) = split_value(value)?;
    let unit = explicit_unit.or_else(|| unit_of(name, comment, suffix))?;
    if !unit.fits(kind) {
        return None;
    }
    Some(Declared {
        name: name.to_string(),
        file,
        name_span,
        value_span,
        origin,
        kind,
        value: n,
        unit,
        alert,
    })
}

/// Every declared threshold of the project: CI variables (any job or global), `.obsgate.yml`
/// `thresholds:`, and analysis JSON `performance_thresholds`.
pub fn declared(project: &Project) -> Vec<Declared> {
    let mut out = Vec::new();
    for f in &project.files {
        if let Some(ci) = &f.ci {
            for v in &ci.vars {
                let Some(value) = &v.value else { continue };
                if !threshold_name(&v.name.value) {
                    continue;
                }
                out.extend(declare(
                    &v.name.value,
                    v.comment.as_deref().unwrap_or(""),
                    &value.value,
                    None,
                    None,
                    Origin::CiVariable,
                    f.file,
                    v.name.span.clone(),
                    value.span.clone(),
                    None,
                ));
            }
        }
        out.extend(f.thresholds.iter().cloned());
    }
    out
}

/// An alert with what it enforces.
#[derive(Debug, Clone, Copy)]
pub struct Enforced<'a> {
    pub rule: RuleRef<'a>,
    pub enforcement: &'a Enforcement,
}

impl std::ops::Deref for Enforced<'_> {
    type Target = Enforcement;

    fn deref(&self) -> &Enforcement {
        self.enforcement
    }
}

/// What an alert's expression enforces: a comparison against a constant, read as a latency,
/// error-rate or throughput limit. Read from the syntax tree at load and kept in the model
/// ([`crate::parse::prom_rules::Rule::enforces`]).
#[derive(Debug, Clone)]
pub struct Enforcement {
    pub kind: Kind,
    /// The constant converted to seconds / ratio / per second.
    pub value: f64,
    /// `>`, `<`, ... with the measured side on the left.
    pub op: &'static str,
    /// The constant's span inside the expression.
    pub const_span: Option<Span>,
    /// The constant as written.
    pub const_text: String,
    /// Error rates: computed as a ratio of two rates (`errors / total`), not an absolute rate.
    pub ratio: bool,
    /// Latency: the histogram (without `_bucket`) and the constant in its own unit.
    pub histogram: Option<(String, f64)>,
    /// The measured side's span inside the expression.
    pub measured_span: Option<Span>,
}

fn number(e: &Expr) -> Option<f64> {
    match strip_parens(e) {
        Expr::NumberLiteral(n) => Some(n.val),
        Expr::Unary(u) => number(&u.expr).map(|v| -v),
        _ => None,
    }
}

fn comparison(op: token::TokenType) -> Option<&'static str> {
    Some(match op.id() {
        token::T_GTR => ">",
        token::T_GTE => ">=",
        token::T_LSS => "<",
        token::T_LTE => "<=",
        token::T_EQLC => "==",
        token::T_NEQ => "!=",
        _ => return None,
    })
}

fn flip(op: &'static str) -> &'static str {
    match op {
        ">" => "<",
        ">=" => "<=",
        "<" => ">",
        "<=" => ">=",
        o => o,
    }
}

/// Unwrap `sum/avg/max/min (...)` and `M * k`, `M / k`; returns the core and the scale the
/// measured value was multiplied by.
fn unscale(e: &Expr) -> (&Expr, f64) {
    let mut scale = 1.0;
    let mut cur = strip_parens(e);
    for _ in 0..16 {
        match cur {
            Expr::Binary(b) => {
                let id = b.op.id();
                if id == token::T_MUL {
                    if let Some(k) = number(&b.rhs) {
                        scale *= k;
                        cur = strip_parens(&b.lhs);
                        continue;
                    }
                    if let Some(k) = number(&b.lhs) {
                        scale *= k;
                        cur = strip_parens(&b.rhs);
                        continue;
                    }
                } else if id == token::T_DIV {
                    if let Some(k) = number(&b.rhs).filter(|k| *k != 0.0) {
                        scale /= k;
                        cur = strip_parens(&b.lhs);
                        continue;
                    }
                }
                break;
            }
            Expr::Aggregate(a)
                if matches!(a.op.to_string().as_str(), "sum" | "avg" | "max" | "min") =>
            {
                cur = strip_parens(&a.expr);
            }
            _ => break,
        }
    }
    (cur, scale)
}

/// Unit factor of a metric from its name (`_seconds` = 1, `_milliseconds` = 0.001).
pub fn metric_time_factor(name: &str) -> Option<f64> {
    let base = name
        .trim_end_matches("_bucket")
        .trim_end_matches("_sum")
        .trim_end_matches("_count");
    if base.ends_with("_seconds") || base.ends_with("_seconds_total") {
        Some(1.0)
    } else if base.ends_with("_milliseconds") || base.ends_with("_ms") {
        Some(0.001)
    } else if base.ends_with("_microseconds") || base.ends_with("_us") {
        Some(0.000_001)
    } else {
        None
    }
}

const STATUS_LABELS: &[&str] = &[
    "status",
    "status_code",
    "code",
    "http_status",
    "http_code",
    "response_code",
    "http_status_code",
    "statuscode",
];

/// Does a selector pick 5xx responses (`status=~"5.."`, `code="500"`) or error counters?
fn selects_errors(e: &Expr) -> bool {
    let mut found = false;
    walk(e, &mut |n| {
        let vs = match n {
            Expr::VectorSelector(vs) => vs,
            Expr::MatrixSelector(ms) => &ms.vs,
            _ => return,
        };
        let name = selector_name(n).unwrap_or("");
        if name.contains("error") || name.contains("fail") {
            found = true;
        }
        for m in &vs.matchers.matchers {
            let v = m.value.to_ascii_lowercase();
            if STATUS_LABELS.contains(&m.name.to_ascii_lowercase().as_str())
                && matches!(
                    m.op,
                    promql_parser::label::MatchOp::Equal | promql_parser::label::MatchOp::Re(_)
                )
                && v.starts_with('5')
            {
                found = true;
            }
        }
    });
    found
}

fn is_request_counter(name: &str) -> bool {
    name.contains("request") && !name.ends_with("_bucket") && !name.contains("duration")
}

/// What an alert's expression enforces, if it compares a latency quantile, an error rate or a
/// request rate with a constant.
pub fn enforcement(parsed: &Parsed) -> Option<Box<Enforcement>> {
    let top = strip_parens(parsed.expr());
    let Expr::Binary(b) = top else { return None };
    let op = comparison(b.op)?;
    let (measured, constant, op) = match (number(&b.rhs), number(&b.lhs)) {
        (Some(c), None) => (&*b.lhs, (c, &*b.rhs), op),
        (None, Some(c)) => (&*b.rhs, (c, &*b.lhs), flip(op)),
        _ => return None,
    };
    let (c, const_node) = constant;
    let (core, scale) = unscale(measured);
    if scale == 0.0 {
        return None;
    }
    // positions are looked up only for an expression that does enforce something (the span map
    // of an expression is built on first use)
    let done = |mut e: Enforcement| {
        e.const_span = parsed.span_of(strip_parens(const_node));
        e.const_text = parsed
            .text_of(strip_parens(const_node))
            .unwrap_or_default()
            .to_string();
        e.measured_span = parsed.span_of(measured);
        Some(Box::new(e))
    };
    let mut e = Enforcement {
        kind: Kind::Throughput,
        value: c / scale,
        op,
        const_span: None,
        const_text: String::new(),
        ratio: false,
        histogram: None,
        measured_span: None,
    };
    // latency: histogram_quantile(q, ...) over a *_bucket of a time histogram
    if let Expr::Call(call) = core {
        if call.func.name == "histogram_quantile" {
            let q = call.args.args.first().and_then(|a| number(a));
            let bucket = call.args.args.get(1).and_then(|a| {
                let mut name = None;
                walk(a, &mut |n| {
                    if let Some(s) = selector_name(n) {
                        if s.ends_with("_bucket") && name.is_none() {
                            name = Some(s);
                        }
                    }
                });
                name
            })?;
            let factor = metric_time_factor(bucket)?;
            e.kind = Kind::Latency(q);
            e.histogram = Some((bucket.trim_end_matches("_bucket").to_string(), c / scale));
            e.value = c / scale * factor;
            return done(e);
        }
    }
    // latency: a summary quantile selected directly
    if let Expr::VectorSelector(vs) = core {
        let name = selector_name(core).unwrap_or("");
        if let Some(factor) = metric_time_factor(name) {
            let q = vs
                .matchers
                .matchers
                .iter()
                .find(|m| m.name == "quantile")
                .and_then(|m| m.value.parse::<f64>().ok())?;
            e.kind = Kind::Latency(Some(q));
            e.value = c / scale * factor;
            return done(e);
        }
    }
    if selects_errors(core) {
        e.kind = Kind::ErrorRate;
        e.ratio = matches!(core, Expr::Binary(b) if b.op.id() == token::T_DIV);
        return done(e);
    }
    // throughput: rate/irate/increase of a request counter
    let rated = |x: &Expr| -> Option<f64> {
        let Expr::Call(call) = strip_parens(x) else {
            return None;
        };
        let arg = call.args.args.first()?;
        let name = selector_name(strip_parens(arg))?;
        if !is_request_counter(name) {
            return None;
        }
        match call.func.name {
            "rate" | "irate" => Some(1.0),
            "increase" => match strip_parens(arg) {
                Expr::MatrixSelector(ms) => Some(ms.range.as_secs_f64()),
                _ => None,
            },
            _ => None,
        }
    };
    if let Some(window) = rated(core) {
        e.kind = Kind::Throughput;
        e.value = c / scale / window;
        return done(e);
    }
    None
}

/// Every enforcement in the project's alerts.
pub fn enforcements(project: &Project) -> Vec<Enforced<'_>> {
    project
        .alerts()
        .filter_map(|r| {
            Some(Enforced {
                rule: r,
                enforcement: r.rule.enforces.as_deref()?,
            })
        })
        .collect()
}

/// How a declared threshold was matched to its alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    Explicit,
    Meaning,
}

/// The alerts that enforce a declared threshold: the explicitly mapped alert, else those of the
/// same kind (and quantile).
pub fn candidates<'e, 'a>(d: &Declared, all: &'e [Enforced<'a>]) -> (Vec<&'e Enforced<'a>>, How) {
    if let Some(alert) = &d.alert {
        return (
            all.iter()
                .filter(|e| &e.rule.rule.name.value == alert)
                .collect(),
            How::Explicit,
        );
    }
    let found = all
        .iter()
        .filter(|e| match (d.kind, e.kind) {
            (Kind::Latency(a), Kind::Latency(b)) => match (a, b) {
                (Some(a), Some(b)) => (a - b).abs() < 1e-9,
                _ => true,
            },
            (x, y) => x == y,
        })
        .collect();
    (found, How::Meaning)
}

/// Do two values agree (relative tolerance, for float noise)?
pub fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-12)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_names() {
        assert_eq!(
            kind_of(
                "RESPONSE_TIME_P95_THRESHOLD",
                "95th percentile response time (ms)"
            ),
            Some(Kind::Latency(Some(0.95)))
        );
        assert_eq!(
            kind_of("LATENCY_P999_MS", ""),
            Some(Kind::Latency(Some(0.999)))
        );
        assert_eq!(kind_of("ERROR_RATE_THRESHOLD", ""), Some(Kind::ErrorRate));
        assert_eq!(
            kind_of("THROUGHPUT_THRESHOLD", "Requests per second threshold"),
            Some(Kind::Throughput)
        );
        assert_eq!(kind_of("METRICS_PORT", ""), None);
        assert_eq!(kind_of("MAX_RETRIES", ""), None);
    }

    #[test]
    fn units() {
        assert_eq!(
            unit_of(
                "RESPONSE_TIME_P95_THRESHOLD",
                "95th percentile response time (ms)",
                ""
            ),
            Some(Unit::Milliseconds)
        );
        assert_eq!(
            unit_of("ERROR_RATE_THRESHOLD", "Error rate threshold (%)", ""),
            Some(Unit::Percent)
        );
        assert_eq!(
            unit_of("THROUGHPUT_THRESHOLD", "Requests per second threshold", ""),
            Some(Unit::PerSecond)
        );
        assert_eq!(unit_of("P95_LATENCY_SECONDS", "", ""), Some(Unit::Seconds));
        assert_eq!(unit_of("x", "", "ms"), Some(Unit::Milliseconds));
        assert_eq!(unit_of("x", "", " req/s"), Some(Unit::PerSecond));
        assert_eq!(unit_of("LATENCY_THRESHOLD", "", ""), None);
    }

    #[test]
    fn values() {
        assert_eq!(split_value("500ms"), Some((500.0, "ms")));
        assert_eq!(split_value("1000 req/s"), Some((1000.0, " req/s")));
        assert_eq!(split_value("0.5"), Some((0.5, "")));
        assert_eq!(split_value("1e3"), Some((1000.0, "")));
        assert_eq!(split_value("$X"), None);
    }

    #[test]
    fn names_that_are_thresholds() {
        assert!(threshold_name("RESPONSE_TIME_P95_THRESHOLD"));
        assert!(threshold_name("LATENCY_P99_MS"));
        assert!(threshold_name("maxErrorRate"));
        assert!(!threshold_name("METRICS_PORT"));
        assert!(!threshold_name("HEALTH_ENDPOINT"));
    }
}
