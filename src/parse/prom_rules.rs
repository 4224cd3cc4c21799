//! Prometheus rule files (plain and Kubernetes `PrometheusRule`) into a typed, spanned model.
//!
//! Validation follows `promtool check rules` (Prometheus `model/rulefmt`) for the current
//! Prometheus: strict fields, one of `alert`/`record`, `expr` required and parsable, no
//! `for`/`keep_firing_for`/`annotations` on recording rules, valid label and annotation names
//! (UTF-8 names are valid in Prometheus 3), templates that parse, unique group names. Every problem
//! is collected as an [`Issue`] with its position, so one bad rule never hides the others.

use crate::parse::fields::Reader;
pub use crate::parse::fields::{Duration, Issue, SStr};
use crate::parse::gotemplate::{self, FuncSet, ParseOptions, Reference};
use crate::parse::promql::{self, Parsed, PromqlError};
use crate::parse::scalar;
use crate::parse::yaml::{Node, Value};
use crate::source::{Span, Text};
use rayon::prelude::*;

/// Prometheus prepends these variable definitions to every rule template.
pub const TEMPLATE_VARS: &[&str] = &["$labels", "$externalLabels", "$externalURL", "$value"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuleKind {
    Alert,
    Record,
}

/// A label or annotation: key, value and whether the value is a template.
#[derive(Debug)]
pub struct Pair {
    pub key: SStr,
    pub value: SStr,
    /// The value has template delimiters (`{{`, `}}`) where Prometheus expands templates.
    pub templated: bool,
    /// What the template reads that the checks need (see [`kept_references`]), for an alert
    /// rule's template that parses (empty otherwise).
    refs: Box<[Reference]>,
}

impl Pair {
    /// What the value's template reads (`$labels.X`, `$value`, `query`/`now` calls), in text order;
    /// empty when it is not an alert's template or does not parse. The template is parsed once,
    /// at load, and only this list is kept: a parsed template is many times the size of its
    /// text, and was the largest share of a big rule set's memory.
    pub fn references(&self) -> &[Reference] {
        &self.refs
    }
}

/// The references the checks read (`alerts/template`: labels; `alerts/unbounded-label`: the
/// value, `query`, `now`); the rest (`humanize`, `printf`, ...) is not kept.
fn kept_references(all: Vec<Reference>) -> Box<[Reference]> {
    use crate::parse::gotemplate::RefKind;
    all.into_iter()
        .filter(|r| match &r.kind {
            RefKind::Label(_) | RefKind::Value => true,
            RefKind::Function(f) => f == "query" || f == "now",
            _ => false,
        })
        .collect()
}

/// How Prometheus parses rule templates: its functions and predefined variables.
fn template_options() -> ParseOptions<'static> {
    static FUNCS: std::sync::OnceLock<FuncSet> = std::sync::OnceLock::new();
    ParseOptions {
        funcs: FUNCS.get_or_init(FuncSet::prometheus),
        predefined_vars: TEMPLATE_VARS,
    }
}

/// A rule's expression: where it is written and its syntax tree.
#[derive(Debug)]
pub struct RuleExpr {
    /// The YAML scalar holding the expression.
    pub span: Span,
    /// The error boxed with the text: rare, and twice the size of a parsed expression (a
    /// parsed expression's text is kept in `parsed`).
    pub parsed: Result<Parsed, Box<Unparsed>>,
}

/// An expression that did not parse: the error, and the text.
#[derive(Debug)]
pub struct Unparsed {
    pub error: PromqlError,
    pub text: Text,
    /// Not PromQL at all but another query language that the tool loading the file evaluates
    /// (Loki's LogQL, vmalert's Graphite or LogsQL): not an error, and not judged by the PromQL
    /// checks.
    pub dialect: Option<&'static str>,
}

impl std::ops::Deref for Unparsed {
    type Target = PromqlError;
    fn deref(&self) -> &PromqlError {
        &self.error
    }
}

impl RuleExpr {
    /// Parse the expression of a scalar.
    pub fn new(text: SStr) -> RuleExpr {
        match promql::parse_owned(text.value) {
            Ok(p) => RuleExpr {
                span: text.span,
                parsed: Ok(p),
            },
            Err((error, written)) => {
                let dialect = logql(&written).then_some("LogQL");
                RuleExpr {
                    span: text.span,
                    parsed: Err(Box::new(Unparsed {
                        error,
                        text: written,
                        dialect,
                    })),
                }
            }
        }
    }

    /// An expression in another query language than PromQL (see [`Unparsed::dialect`]).
    pub fn foreign(text: SStr, dialect: &'static str) -> RuleExpr {
        let mut e = RuleExpr::new(text);
        e.make_foreign(dialect);
        e
    }

    /// Mark the expression as written in `dialect`, not PromQL.
    fn make_foreign(&mut self, dialect: &'static str) {
        let parsed = std::mem::replace(
            &mut self.parsed,
            Err(Box::new(Unparsed {
                error: PromqlError {
                    message: String::new(),
                    span: 0..0,
                    too_complex: false,
                },
                text: Text::default(),
                dialect: None,
            })),
        );
        self.parsed = Err(Box::new(match parsed {
            Ok(p) => Unparsed {
                error: PromqlError {
                    message: format!("{dialect} expression"),
                    span: 0..0,
                    too_complex: false,
                },
                text: Text::from(p.text()),
                dialect: Some(dialect),
            },
            Err(mut u) => {
                u.dialect = Some(dialect);
                *u
            }
        }));
    }

    /// The query language of the expression when it is not PromQL.
    pub fn dialect(&self) -> Option<&'static str> {
        self.parsed.as_ref().err().and_then(|u| u.dialect)
    }

    /// The expression as PromQL reads it (after YAML unquoting).
    pub fn text(&self) -> &str {
        match &self.parsed {
            Ok(p) => p.text(),
            Err(u) => &u.text,
        }
    }

    /// Map a byte range of the expression text to the source (see [`SStr::inner_span`]).
    pub fn inner_span(&self, src: &str, inner: &Span) -> Span {
        crate::parse::fields::inner_span(src, &self.span, self.text(), inner)
    }
}

/// Is an expression that PromQL could not parse LogQL (Loki's ruler)? A log pipeline after a
/// stream selector: `|=`, `|~`, `|>`, `!=`/`!~` followed by a string (a line filter), or a stage
/// `| json`, `| logfmt`, `| label_format`...; PromQL has no `|` operator and compares with
/// numbers, never strings. Also LogQL's own range functions (`bytes_over_time`, `bytes_rate`).
pub fn logql(text: &str) -> bool {
    let mut chars = text.char_indices().peekable();
    let mut prev_significant = ' ';
    while let Some((i, c)) = chars.next() {
        match c {
            // skip string literals (a `|` inside a regex is PromQL too)
            '"' | '\'' | '`' => {
                let mut escaped = false;
                for (_, d) in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if d == '\\' && c != '`' {
                        escaped = true;
                    } else if d == c {
                        break;
                    }
                }
                prev_significant = c;
            }
            '|' => return true,
            '!' if matches!(prev_significant, '}' | ')') => {
                let rest = text[i + 1..].trim_start_matches(['=', '~']).trim_start();
                if text[i + 1..].starts_with(['=', '~']) && rest.starts_with(['"', '`']) {
                    return true;
                }
            }
            c if c.is_whitespace() => {}
            _ => prev_significant = c,
        }
    }
    text.contains("bytes_over_time(") || text.contains("bytes_rate(")
}

#[derive(Debug)]
pub struct Rule {
    pub kind: RuleKind,
    /// `alert:` or `record:` value.
    pub name: SStr,
    /// The rule's mapping (first key to last value).
    pub span: Span,
    pub expr: Option<RuleExpr>,
    pub for_: Option<RuleDuration>,
    /// Boxed: rarely written, and a large rule set has tens of thousands of rules.
    pub keep_firing_for: Option<Box<RuleDuration>>,
    /// An alert's threshold, read from its expression's syntax tree before the tree is released
    /// ([`crate::model::FileModel::release_trees`]).
    pub enforces: Option<Box<crate::model::thresholds::Enforcement>>,
    pub labels: Vec<Pair>,
    /// Boxed, and freed once the checks that read annotations ran
    /// ([`crate::model::FileModel::release_annotations`]): a large rule set has tens of
    /// thousands of rules.
    pub annotations: Option<Box<Annotations>>,
}

/// A rule's `for` or `keep_firing_for`: where the value is written and the duration it gives
/// (`None` when invalid, which is reported when parsed). The text itself is not copied (it is
/// in the source at `span`): most alerts of a large rule set have a `for`.
#[derive(Debug, Clone)]
pub struct RuleDuration {
    pub span: Span,
    pub value: Option<scalar::PromDuration>,
}

impl From<Duration> for RuleDuration {
    fn from(d: Duration) -> RuleDuration {
        RuleDuration {
            span: d.text.span,
            value: d.value,
        }
    }
}

/// A rule's `annotations:`.
#[derive(Debug)]
pub struct Annotations {
    /// The `annotations` key.
    pub key: Span,
    pub pairs: Vec<Pair>,
}

impl Rule {
    pub fn annotation(&self, name: &str) -> Option<&Pair> {
        self.annotation_pairs().iter().find(|p| p.key.value == name)
    }
    /// The rule's annotations (none once released).
    pub fn annotation_pairs(&self) -> &[Pair] {
        self.annotations.as_ref().map_or(&[], |a| &a.pairs)
    }
    /// Where `annotations:` is written, if it is.
    pub fn annotations_key(&self) -> Option<&Span> {
        self.annotations.as_ref().map(|a| &a.key)
    }
    pub fn label(&self, name: &str) -> Option<&Pair> {
        self.labels.iter().find(|p| p.key.value == name)
    }
    /// The span to point at for the rule as a whole: its `alert:`/`record:` value.
    pub fn anchor(&self) -> Span {
        self.name.span.clone()
    }
}

#[derive(Debug)]
pub struct Group {
    pub name: SStr,
    pub span: Span,
    pub interval: Option<Duration>,
    pub rules: Vec<Rule>,
}

/// What a rule document looked like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Plain,
    PrometheusRule,
}

#[derive(Debug)]
pub struct RuleDoc {
    pub flavor: Flavor,
    pub groups: Vec<Group>,
    /// A `PrometheusRule`'s `metadata.namespace`, when it states one (not a template).
    pub namespace: Option<String>,
}

const GROUP_KEYS: &[&str] = &[
    "name",
    "interval",
    "query_offset",
    "limit",
    "rules",
    "labels",
    // Thanos / Mimir / Cortex extensions
    "partial_response_strategy",
    "source_tenants",
    "evaluation_delay",
    "align_evaluation_time_on_interval",
    // vmalert extensions
    "type",
    "concurrency",
    "params",
    "headers",
    "notifier_headers",
    "eval_offset",
    "eval_delay",
    "eval_alignment",
    "debug",
    "tenant",
];
const RULE_KEYS: &[&str] = &[
    "record",
    "alert",
    "expr",
    "for",
    "keep_firing_for",
    "labels",
    "annotations",
];

struct Ctx<'a> {
    r: Reader<'a>,
    text: &'a std::sync::Arc<str>,
}

impl<'a> Ctx<'a> {
    fn new(src: &'a std::sync::Arc<str>) -> Ctx<'a> {
        Ctx {
            r: Reader::shared(
                src,
                "rules/syntax",
                "Prometheus refuses to load a rule file with unknown fields",
            ),
            text: src,
        }
    }
}

impl<'a> std::ops::Deref for Ctx<'a> {
    type Target = Reader<'a>;
    fn deref(&self) -> &Reader<'a> {
        &self.r
    }
}

impl std::ops::DerefMut for Ctx<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.r
    }
}

impl Ctx<'_> {
    fn pairs(&mut self, node: &Node, field: &str, templates: bool) -> Vec<Pair> {
        match &node.value {
            Value::Null => Vec::new(),
            Value::Map(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    let Some(value) = self.string(v, &format!("{field}.{}", k.name)) else {
                        continue;
                    };
                    let templated =
                        templates && (value.value.contains("{{") || value.value.contains("}}"));
                    out.push(Pair {
                        key: self.key(k),
                        value,
                        templated,
                        refs: Box::default(),
                    });
                }
                out
            }
            _ => {
                self.wrong_type(node, field, "a mapping of names to strings");
                Vec::new()
            }
        }
    }
}

/// Does this document look like a rule file (or a `PrometheusRule`)?
pub fn detect(doc: &Node) -> Option<Flavor> {
    if doc.get("kind").and_then(Node::as_str) == Some("PrometheusRule") {
        return Some(Flavor::PrometheusRule);
    }
    let groups = doc.get("groups")?;
    match &groups.value {
        Value::Null => Some(Flavor::Plain),
        Value::Seq(items) => {
            let ruleish = items
                .iter()
                .any(|g| g.get("rules").is_some() || g.get("name").is_some());
            if ruleish || items.is_empty() || doc.entries().len() == 1 {
                Some(Flavor::Plain)
            } else {
                None
            }
        }
        _ => (doc.entries().len() == 1).then_some(Flavor::Plain),
    }
}

/// Parse one rule document. Returns the model and the problems found. Names, expressions and
/// labels written verbatim are kept as ranges of `src` ([`Text`]).
pub fn parse_doc(doc: &Node, flavor: Flavor, src: &std::sync::Arc<str>) -> (RuleDoc, Vec<Issue>) {
    let mut cx = Ctx::new(src);
    let root = match flavor {
        Flavor::Plain => Some(doc),
        Flavor::PrometheusRule => match doc.get("spec") {
            Some(spec) if spec.is_map() => {
                for (k, _) in spec.entries() {
                    if k.name != "groups" {
                        cx.unknown_key(k, "PrometheusRule spec", &["groups"]);
                    }
                }
                Some(spec)
            }
            Some(spec) => {
                cx.wrong_type(spec, "spec", "a mapping");
                None
            }
            None => None,
        },
    };
    let mut groups = Vec::new();
    if let Some(root) = root {
        if flavor == Flavor::Plain {
            if !root.is_map() {
                cx.wrong_type(root, "the rule file", "a mapping with `groups:`");
            }
            for (k, _) in root.entries() {
                // mimirtool's and cortextool's rule files name the ruler namespace they load into
                if k.name != "groups" && k.name != "namespace" {
                    cx.unknown_key(k, "the rule file", &["groups"]);
                }
            }
        }
        if let Some(gnode) = root.get("groups") {
            match &gnode.value {
                Value::Null => {}
                Value::Seq(items) => {
                    for g in items {
                        if let Some(group) = parse_group(&mut cx, g) {
                            groups.push(group);
                        }
                    }
                }
                _ => cx.wrong_type(gnode, "groups", "a list of rule groups"),
            }
        }
    }
    // group names must be unique within a file
    for (i, g) in groups.iter().enumerate() {
        if let Some(first) = groups[..i]
            .iter()
            .find(|o| o.name.value == g.name.value && !g.name.value.is_empty())
        {
            let (line, _) = line_of(src, first.name.span.start);
            cx.err(
                g.name.span.clone(),
                format!(
                    "group name {:?} is repeated in the same file (first defined on line {line})",
                    g.name.value
                ),
                Some("Prometheus refuses to load the file; rename or merge the groups"),
            );
        }
    }
    // a Loki ruler file is LogQL throughout, also where an expression happens to parse as PromQL
    // (`count_over_time({job="x"}[5m]) > 0`)
    let logql_file = groups
        .iter()
        .flat_map(|g| &g.rules)
        .any(|r| r.expr.as_ref().and_then(RuleExpr::dialect) == Some("LogQL"));
    if logql_file {
        for r in groups.iter_mut().flat_map(|g| g.rules.iter_mut()) {
            if let Some(e) = r.expr.as_mut().filter(|e| e.dialect().is_none()) {
                e.make_foreign("LogQL");
            }
        }
        cx.r.issues.retain(|i| i.check != "rules/promql-syntax");
    }
    let namespace = match flavor {
        Flavor::Plain => None,
        Flavor::PrometheusRule => doc
            .get("metadata")
            .and_then(|m| m.get("namespace"))
            .and_then(Node::as_str)
            .filter(|ns| !ns.is_empty() && !ns.contains("{{"))
            .map(str::to_string),
    };
    (
        RuleDoc {
            flavor,
            groups,
            namespace,
        },
        cx.r.issues,
    )
}

fn line_of(src: &str, offset: usize) -> (usize, usize) {
    let before = &src[..offset.min(src.len())];
    (before.matches('\n').count() + 1, 0)
}

fn parse_group(cx: &mut Ctx, g: &Node) -> Option<Group> {
    if !g.is_map() {
        cx.wrong_type(g, "a rule group", "a mapping");
        return None;
    }
    let mut name = None;
    let mut interval = None;
    let mut rules = Vec::new();
    // vmalert: the group's query language (`prometheus` by default)
    let dialect = g
        .get("type")
        .and_then(Node::as_str)
        .filter(|t| *t != "prometheus")
        .map(|t| match t {
            "graphite" => "Graphite",
            "vlogs" => "LogsQL",
            _ => "another query language",
        });
    for (k, v) in g.entries() {
        match k.name.as_str() {
            "name" => name = cx.string(v, "name"),
            "interval" => interval = cx.duration(v, "interval"),
            "query_offset" => {
                cx.duration(v, "query_offset");
            }
            "limit" => {
                if !matches!(v.value, Value::Int(_) | Value::Null) {
                    cx.wrong_type(v, "limit", "an integer");
                }
            }
            "labels" => {
                let pairs = cx.pairs(v, "labels", false);
                check_label_names(cx, &pairs);
            }
            "rules" => match &v.value {
                Value::Null => {}
                Value::Seq(items) => {
                    // rules are independent: parse them (PromQL, templates) in parallel, keep order
                    let src = cx.text;
                    let parsed: Vec<(Option<Rule>, Vec<Issue>)> = items
                        .par_iter()
                        .map(|r| {
                            let mut own = Ctx::new(src);
                            let rule = parse_rule(&mut own, r, dialect);
                            (rule, own.r.issues)
                        })
                        .collect();
                    rules.reserve_exact(parsed.len());
                    for (rule, issues) in parsed {
                        cx.issues.extend(issues);
                        rules.extend(rule);
                    }
                }
                _ => cx.wrong_type(v, "rules", "a list of rules"),
            },
            "partial_response_strategy"
            | "type"
            | "source_tenants"
            | "evaluation_delay"
            | "align_evaluation_time_on_interval"
            | "concurrency"
            | "params"
            | "headers"
            | "notifier_headers"
            | "eval_offset"
            | "eval_delay"
            | "eval_alignment"
            | "debug"
            | "tenant" => {}
            _ => cx.unknown_key(k, "a rule group", GROUP_KEYS),
        }
    }
    let name = match name {
        Some(n) if !n.value.is_empty() => n,
        other => {
            let span = other.map(|n| n.span).unwrap_or_else(|| g.head_span(cx.src));
            cx.err(
                span.clone(),
                "rule group name must not be empty",
                Some("add `name: <group name>`"),
            );
            SStr {
                value: Text::default(),
                span,
            }
        }
    };
    Some(Group {
        name,
        span: g.span.clone(),
        interval,
        rules,
    })
}

fn check_label_names(cx: &mut Ctx, pairs: &[Pair]) {
    for p in pairs {
        if p.key.value.is_empty() || p.key.value == "__name__" {
            cx.err(
                p.key.span.clone(),
                format!(
                    "invalid label name: {}",
                    if p.key.value.is_empty() {
                        "(empty)"
                    } else {
                        &p.key.value
                    }
                ),
                Some("rule labels cannot set `__name__` or be empty"),
            );
        }
    }
}

fn parse_rule(cx: &mut Ctx, r: &Node, dialect: Option<&'static str>) -> Option<Rule> {
    if !r.is_map() {
        cx.wrong_type(r, "a rule", "a mapping");
        return None;
    }
    let mut alert = None;
    let mut record = None;
    let mut expr_node = None;
    let mut for_ = None;
    let mut keep = None;
    let mut labels = Vec::new();
    let mut annotations = Vec::new();
    let mut annotations_key = None;
    for (k, v) in r.entries() {
        match k.name.as_str() {
            "alert" => alert = cx.string(v, "alert").map(|s| (k.span.clone(), s)),
            "record" => record = cx.string(v, "record").map(|s| (k.span.clone(), s)),
            "expr" => expr_node = Some((k.span.clone(), v)),
            "for" => for_ = cx.duration(v, "for").map(RuleDuration::from),
            "keep_firing_for" => keep = cx.duration(v, "keep_firing_for").map(RuleDuration::from),
            "labels" => labels = cx.pairs(v, "labels", true),
            "annotations" => {
                annotations = cx.pairs(v, "annotations", true);
                annotations_key = Some(k.span.clone());
            }
            // vmalert extensions (not offered in suggestions: Prometheus refuses them)
            "debug" | "update_entries_limit" => {}
            _ => cx.unknown_key(k, "a rule", RULE_KEYS),
        }
    }
    let head = r.head_span(cx.src);
    let alert = alert.filter(|(_, s)| !s.value.is_empty());
    let record = record.filter(|(_, s)| !s.value.is_empty());
    let (kind, name) = match (alert, record) {
        (Some(a), Some(rec)) => {
            cx.err(
                rec.0.clone(),
                "only one of `record` and `alert` must be set",
                Some("split this into an alerting rule and a recording rule"),
            );
            (RuleKind::Alert, a.1)
        }
        (Some(a), None) => (RuleKind::Alert, a.1),
        (None, Some(rec)) => (RuleKind::Record, rec.1),
        (None, None) => {
            cx.err(
                head.clone(),
                "one of `record` or `alert` must be set",
                Some("add `alert: <name>` or `record: <metric name>`"),
            );
            (
                RuleKind::Alert,
                SStr {
                    value: Text::default(),
                    span: head.clone(),
                },
            )
        }
    };
    let expr = match expr_node {
        None => {
            cx.err(
                name.span.clone(),
                "field `expr` must be set in rule",
                Some("add `expr: <PromQL expression>`"),
            );
            None
        }
        Some((kspan, v)) => match cx.string(v, "expr") {
            Some(text) if !text.value.trim().is_empty() => {
                let expr = match dialect {
                    Some(d) => RuleExpr::foreign(text, d),
                    None => RuleExpr::new(text),
                };
                // LogQL and other languages are not PromQL errors
                if let Err(e) = expr
                    .parsed
                    .as_ref()
                    .map(|_| ())
                    .or_else(|u| match u.dialect {
                        Some(_) => Ok(()),
                        None => Err(u),
                    })
                {
                    let span = expr.inner_span(cx.src, &e.span);
                    cx.issues.push(if e.too_complex {
                        // valid PromQL, maybe: say so, one severity lower
                        Issue {
                            check: "rules/promql-syntax",
                            message: format!("expression not checked: {}", e.message),
                            span,
                            help: Some("Prometheus may load it, but an expression this large is slow to evaluate and to review; no other check looked at it".into()),
                            downgrade: true,
                            related: Vec::new(),
                        }
                    } else {
                        Issue {
                            check: "rules/promql-syntax",
                            message: format!("could not parse expression: {}", e.message),
                            span,
                            help: None,
                            downgrade: false,
                            related: Vec::new(),
                        }
                    });
                }
                Some(expr)
            }
            Some(_) => {
                cx.err(
                    kspan,
                    "field `expr` must be set in rule (it is empty)",
                    Some("write the PromQL expression after `expr:`"),
                );
                None
            }
            None => None,
        },
    };
    if kind == RuleKind::Record {
        if let Some(f) = &for_ {
            if f.value.is_some_and(|d| d.0 > 0) {
                cx.err(
                    f.span.clone(),
                    "invalid field `for` in recording rule",
                    Some("`for` only applies to alerting rules"),
                );
            }
        }
        if let Some(f) = &keep {
            if f.value.is_some_and(|d| d.0 > 0) {
                cx.err(
                    f.span.clone(),
                    "invalid field `keep_firing_for` in recording rule",
                    Some("`keep_firing_for` only applies to alerting rules"),
                );
            }
        }
        if let Some(k) = &annotations_key {
            if !annotations.is_empty() {
                cx.err(
                    k.clone(),
                    "invalid field `annotations` in recording rule",
                    Some("annotations only apply to alerting rules"),
                );
            }
        }
        if !name.value.is_empty() {
            if name.value.contains('{') || name.value.contains('}') {
                cx.err(
                    name.span.clone(),
                    format!(
                        "braces present in the recording rule name; should it be in expr?: {}",
                        name.value
                    ),
                    Some("put label matchers in `expr` and static labels under `labels:`"),
                );
            } else if !scalar::is_utf8_name(&name.value) {
                cx.err(
                    name.span.clone(),
                    format!("invalid recording rule name: {}", name.value),
                    None,
                );
            }
        }
    }
    check_label_names(cx, &labels);
    for p in annotations.iter().filter(|p| p.key.value.is_empty()) {
        cx.err(p.key.span.clone(), "invalid annotation name: (empty)", None);
    }
    // templates must parse (promtool parses alert labels and annotations)
    if kind == RuleKind::Alert {
        for p in labels.iter_mut().chain(annotations.iter_mut()) {
            if !p.templated {
                continue;
            }
            match gotemplate::parse(&p.value.value, &template_options()) {
                Ok(t) => p.refs = kept_references(t.references()),
                Err(e) => {
                    let span = p.value.inner_span(cx.src, &e.span);
                    cx.issues.push(Issue {
                        check: "alerts/template",
                        message: format!(
                            "template in `{}` does not parse: {}",
                            p.key.value, e.message
                        ),
                        span,
                        help: Some(
                            "Prometheus refuses to load the rule file; fix the Go template syntax"
                                .into(),
                        ),
                        downgrade: false,
                        related: Vec::new(),
                    });
                }
            }
        }
    }
    Some(Rule {
        kind,
        name,
        span: r.span.clone(),
        expr,
        for_,
        keep_firing_for: keep.map(Box::new),
        enforces: None,
        labels,
        annotations: annotations_key.map(|key| {
            Box::new(Annotations {
                key,
                pairs: annotations,
            })
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbatim_strings_are_ranges_of_the_source() {
        let src: std::sync::Arc<str> = std::sync::Arc::from(
            "groups:\n- name: g\n  rules:\n  - alert: HighLoad\n    expr: 'load > 2'\n    labels:\n      severity: \"page\"\n      team: 'it''s'\n",
        );
        let lines = crate::source::LineIndex::new(&src);
        let docs = crate::parse::yaml::parse_documents(&src, &lines).unwrap();
        let (doc, issues) = parse_doc(&docs[0], Flavor::Plain, &src);
        assert!(issues.is_empty(), "{issues:?}");
        let rule = &doc.groups[0].rules[0];
        assert!(rule.name.value.is_shared());
        assert_eq!(rule.name.value, "HighLoad");
        assert_eq!(rule.expr.as_ref().unwrap().text(), "load > 2");
        let label = |k: &str| &rule.labels.iter().find(|p| p.key.value == k).unwrap().value;
        assert!(label("severity").value.is_shared());
        assert!(rule.labels.iter().all(|p| p.key.value.is_shared()));
        // an escaped quote: the value is not in the source as such
        assert!(!label("team").value.is_shared());
        assert_eq!(label("team").value, "it's");
    }

    fn parse(text: &str) -> (RuleDoc, Vec<Issue>) {
        let src: std::sync::Arc<str> = std::sync::Arc::from(text);
        let lines = crate::source::LineIndex::new(&src);
        let docs = crate::parse::yaml::parse_documents(&src, &lines).unwrap();
        parse_doc(&docs[0], Flavor::Plain, &src)
    }

    #[test]
    fn logql_is_recognised_and_not_a_promql_error() {
        for q in [
            r#"sum(rate({app="api"} |= "error" [5m])) > 10"#,
            r#"count_over_time({job="x"} |~ "timeout|refused" [1m])"#,
            r#"sum by (status) (rate({app="gw"} | json | status >= 500 [5m]))"#,
            r#"rate({app="gw"} != "healthz" [5m])"#,
            r#"sum(bytes_over_time({app="gw"}[5m]))"#,
        ] {
            assert!(logql(q), "{q}");
        }
        for q in [
            r#"rate(http_requests_total{code=~"5..|4.."}[5m]) > 1"#,
            r#"up{job="a"} != 1"#,
            r#"x != bool 1"#,
            r#"label_replace(up, "a", "$1|x", "b", "(.*)")"#,
        ] {
            assert!(!logql(q), "{q}");
        }
        // a Loki ruler file: no PromQL errors, every expression LogQL (also one PromQL parses)
        let (doc, issues) = parse(
            "groups:\n- name: loki\n  rules:\n  - alert: Errors\n    expr: sum(rate({app=\"api\"} |= \"error\" [5m])) > 10\n  - alert: Lines\n    expr: count_over_time({app=\"api\"}[5m]) > 0\n",
        );
        assert!(issues.is_empty(), "{issues:?}");
        assert!(doc.groups[0]
            .rules
            .iter()
            .all(|r| r.expr.as_ref().unwrap().dialect() == Some("LogQL")));
        // a PromQL mistake in a Prometheus file stays an error
        let (_, issues) = parse("groups:\n- name: a\n  rules:\n  - alert: A\n    expr: up ==\n");
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].check, "rules/promql-syntax");
    }

    #[test]
    fn vmalert_groups_and_mimirtool_files() {
        let (doc, issues) = parse(
            "groups:\n- name: g\n  type: graphite\n  concurrency: 2\n  eval_offset: 1m\n  params:\n    nocache: [\"1\"]\n  headers: [\"X: y\"]\n  debug: true\n  rules:\n  - alert: A\n    expr: summarize(x.y, '1min') | z\n    debug: true\n",
        );
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(
            doc.groups[0].rules[0].expr.as_ref().unwrap().dialect(),
            Some("Graphite")
        );
        let (_, issues) = parse("namespace: team-a\ngroups:\n- name: g\n  rules: []\n");
        assert!(issues.is_empty(), "{issues:?}");
        // near miss: an unknown group field is still refused
        let (_, issues) = parse("groups:\n- name: g\n  intervall: 1m\n  rules: []\n");
        assert_eq!(issues.len(), 1);
    }
}
