//! The check engine: the [`Check`] trait, findings, severities and check metadata.
//!
//! A check ID is `domain/name`; the same string is the config key, the suppression key, the output
//! tag and the docs path. Each check lives in `src/checks/<domain>/<name>.rs`, its metadata in
//! `rules/<domain>/<name>.yml` (embedded in the binary) and its fixtures in `fixtures/<domain>/<name>/`.

pub mod alertmanager;
pub mod alerts;
pub mod artifacts;
pub mod labels;
pub mod meta;
pub mod metrics;
mod msg;
pub mod obsgate;
pub mod pipeline;
pub mod probe;
pub mod promql;
pub mod promql_util;
pub mod registry;
pub mod rules;
pub mod secrets;
pub mod thresholds;

use std::borrow::Cow;

use crate::config::Config;
use crate::model::Project;
use crate::source::{FileId, Span, Text};

pub use msg::Msg;

pub use meta::Meta;

/// How serious a finding is: `info < warning < error`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }

    /// One level lower (error -> warning -> info).
    pub fn lower(self) -> Severity {
        match self {
            Severity::Error => Severity::Warning,
            _ => Severity::Info,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// A secondary location shown with a finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub file: FileId,
    pub span: Span,
    /// Fixed texts are not copied (like [`Finding::label`]).
    pub message: Cow<'static, str>,
}

/// Machine-readable details of a finding (`alert`, `label`, ...), serialized as a JSON object
/// with its keys in order. A few entries at most: a sorted list, not a map, because a finding
/// is created for every rule of a large set and a `BTreeMap` node alone is over 500 bytes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context(Box<[(&'static str, CtxValue)]>);

/// A value of a finding's [`Context`]: a text read from a source (an alert's name, most often:
/// kept as it is, a range of the source, not copied), or any JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum CtxValue {
    Text(Text),
    Json(serde_json::Value),
}

impl CtxValue {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            CtxValue::Text(t) => Some(t),
            CtxValue::Json(v) => v.as_str(),
        }
    }
}

impl From<Text> for CtxValue {
    fn from(t: Text) -> CtxValue {
        CtxValue::Text(t)
    }
}

impl<T: Into<serde_json::Value>> From<T> for CtxValue {
    fn from(v: T) -> CtxValue {
        CtxValue::Json(v.into())
    }
}

impl serde::Serialize for CtxValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            CtxValue::Text(t) => t.serialize(s),
            CtxValue::Json(v) => v.serialize(s),
        }
    }
}

impl Context {
    /// Set `key` (replacing an earlier value).
    pub fn insert(&mut self, key: &'static str, value: CtxValue) {
        match self.0.binary_search_by(|(k, _)| (*k).cmp(key)) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => {
                // grown one entry at a time (a first push would reserve room for four), and
                // boxed: a large run keeps tens of thousands
                let mut entries = std::mem::take(&mut self.0).into_vec();
                entries.reserve_exact(1);
                entries.insert(i, (key, value));
                self.0 = entries.into_boxed_slice();
            }
        }
    }

    /// Every value, to rewrite in place (redaction).
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut CtxValue> {
        self.0.iter_mut().map(|(_, v)| v)
    }

    pub fn get(&self, key: &str) -> Option<&CtxValue> {
        self.0
            .binary_search_by(|(k, _)| (*k).cmp(key))
            .ok()
            .map(|i| &self.0[i].1)
    }
}

impl std::ops::Index<&str> for Context {
    type Output = CtxValue;
    /// Like a map's index: panics when `key` is not set.
    fn index(&self, key: &str) -> &CtxValue {
        self.get(key)
            .unwrap_or_else(|| panic!("no `{key}` in the finding's context"))
    }
}

impl serde::Serialize for Context {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// One problem found by a check.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub check: &'static str,
    pub severity: Severity,
    pub file: FileId,
    pub span: Span,
    pub message: Msg,
    /// What the underline says, e.g. "alert defined here". Fixed texts are not copied.
    pub label: Option<Cow<'static, str>>,
    pub help: Option<Msg>,
    pub labels: Vec<Label>,
    pub context: Context,
    /// Reported this many levels below the check's default (error -> warning -> info) unless the
    /// user configured the check's severity.
    pub downgrade: u8,
    /// A mechanical fix (`obsgate fix`), boxed: few findings carry one.
    pub fix: Option<Box<Fix>>,
}

/// A mechanical fix of a finding: edits of the sources (of the file the finding is in, or of an
/// embedded file: `obsgate fix` maps them into the outer file when the mapping is exact).
#[derive(Debug, Clone, PartialEq)]
pub struct Fix {
    /// What it does, e.g. "replace `match:` with `matchers:`".
    pub title: String,
    pub edits: Vec<Edit>,
    /// Applied by `obsgate fix` without `--unsafe`: the result is certain to mean the same to
    /// the tool that loads the file.
    pub safe: bool,
}

/// Replace the bytes at `span` of `file` with `text`.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    pub file: FileId,
    pub span: Span,
    pub text: String,
}

impl Finding {
    pub fn new(check: &'static str, file: FileId, span: Span, message: impl Into<Msg>) -> Finding {
        Finding {
            check,
            severity: Severity::Error,
            file,
            span,
            message: message.into(),
            label: None,
            help: None,
            labels: Vec::new(),
            context: Context::default(),
            downgrade: 0,
            fix: None,
        }
    }

    /// Attach a mechanical fix.
    pub fn fix(mut self, fix: Fix) -> Finding {
        self.fix = Some(Box::new(fix));
        self
    }

    /// A fixed help text is not copied.
    pub fn help(mut self, help: impl Into<Cow<'static, str>>) -> Finding {
        self.help = Some(help.into().into());
        self
    }

    pub fn label(mut self, label: impl Into<Cow<'static, str>>) -> Finding {
        self.label = Some(label.into());
        self
    }

    pub fn also(
        mut self,
        file: FileId,
        span: Span,
        message: impl Into<Cow<'static, str>>,
    ) -> Finding {
        self.labels.reserve_exact(1);
        self.labels.push(Label {
            file,
            span,
            message: match message.into() {
                Cow::Owned(s) => Cow::Owned(crate::source::exact(s).into_string()),
                fixed => fixed,
            },
        });
        self
    }

    pub fn ctx(mut self, key: &'static str, value: impl Into<CtxValue>) -> Finding {
        self.context.insert(key, value.into());
        self
    }

    /// One level below the check's default when `yes`.
    pub fn downgraded(mut self, yes: bool) -> Finding {
        self.downgrade = u8::from(yes);
        self
    }

    /// `levels` below the check's default (2 on an error check: info).
    pub fn lowered(mut self, levels: u8) -> Finding {
        self.downgrade = levels;
        self
    }
}

/// What a check sees: the whole project, the resolved configuration and its own options.
pub struct Ctx<'a> {
    pub project: &'a Project,
    /// The sources of the run (for a check run at load, the project holds only the file).
    pub sources: &'a crate::source::Sources,
    pub config: &'a Config,
    pub check_id: &'static str,
    /// For a check that runs file by file ([`Check::per_file`]): the file, with the syntax
    /// trees of its expressions.
    pub scope: Option<&'a FileTrees>,
    /// What the check computes once per run from the whole project ([`Ctx::once`]).
    pub state: &'a std::sync::OnceLock<Box<dyn std::any::Any + Send + Sync>>,
}

/// A rule with its expression and the expression's tree.
pub type RuleTree<'a> = (
    crate::model::RuleRef<'a>,
    &'a crate::parse::prom_rules::RuleExpr,
    &'a crate::parse::promql::Parsed,
);

/// One file's PromQL expressions with their syntax trees, for the checks that read trees: the
/// trees of a file just parsed, or, once the model has released them, parsed again from the
/// texts on first use (once for all the checks of the file; an expression no check asks for
/// is not parsed again).
pub struct FileTrees {
    /// Position of the file in [`Project::files`].
    pub index: usize,
    /// Trees parsed again for the file's rules, in [`Project::rules`] order.
    rules: Vec<std::sync::OnceLock<crate::parse::promql::Parsed>>,
    /// Trees parsed again for the file's expressions outside rules
    /// ([`crate::model::FileModel::extra_exprs`]).
    extra: Vec<std::sync::OnceLock<crate::parse::promql::Parsed>>,
}

/// The tree of an expression that parsed: its own, or the one parsed again in its cell of
/// [`FileTrees`].
fn tree_of<'a>(
    cell: &'a std::sync::OnceLock<crate::parse::promql::Parsed>,
    expr: &'a crate::parse::prom_rules::RuleExpr,
) -> Option<&'a crate::parse::promql::Parsed> {
    let parsed = expr.parsed.as_ref().ok()?;
    if parsed.tree().is_some() {
        return Some(parsed);
    }
    Some(cell.get_or_init(|| parsed.materialized().into_owned()))
}

impl FileTrees {
    pub fn new(project: &Project, index: usize) -> FileTrees {
        let f = &project.files[index];
        FileTrees {
            index,
            rules: crate::model::rules_of(std::slice::from_ref(f))
                .map(|_| std::sync::OnceLock::new())
                .collect(),
            extra: f
                .extra_exprs
                .iter()
                .map(|_| std::sync::OnceLock::new())
                .collect(),
        }
    }

    /// Whether the file has anything for a per-file check: expressions or parse problems.
    pub fn wanted(f: &crate::model::FileModel) -> bool {
        !f.rule_docs.is_empty() || !f.extra_exprs.is_empty() || !f.issues.is_empty()
    }
}

impl<'a> Ctx<'a> {
    /// The files a per-file check looks at: its scope (all files for a check run on the whole
    /// project).
    pub fn files(&self) -> &'a [crate::model::FileModel] {
        match self.scope {
            Some(s) => std::slice::from_ref(&self.project.files[s.index]),
            None => &self.project.files,
        }
    }

    /// The rules of the files the check looks at ([`Ctx::files`]).
    pub fn rules(&self) -> impl Iterator<Item = crate::model::RuleRef<'a>> {
        crate::model::rules_of(self.files())
    }

    /// The alerting rules of the files the check looks at ([`Ctx::files`]).
    pub fn alerts(&self) -> impl Iterator<Item = crate::model::RuleRef<'a>> {
        self.rules()
            .filter(|r| r.rule.kind == crate::parse::prom_rules::RuleKind::Alert)
    }

    /// The rules of the scope with the trees of the expressions that parsed.
    pub fn parsed_rules(&self) -> impl Iterator<Item = RuleTree<'a>> {
        self.parsed_rules_if(|_| true)
    }

    /// [`Ctx::parsed_rules`] of the rules whose expression text passes `wanted` (the others'
    /// trees are not parsed again).
    pub fn parsed_rules_if(
        &self,
        wanted: impl Fn(&str) -> bool,
    ) -> impl Iterator<Item = RuleTree<'a>> {
        let scope = self.scope;
        // no scope, no trees: a per-file check sees nothing outside its file
        let files = scope.map_or(&[][..], |_| self.files());
        let rules = crate::model::rules_of(files);
        let cells = scope.into_iter().flat_map(|s| s.rules.iter());
        rules.zip(cells).filter_map(move |(r, cell)| {
            let expr = r.rule.expr.as_ref()?;
            if !wanted(expr.text()) {
                return None;
            }
            Some((r, expr, tree_of(cell, expr)?))
        })
    }

    /// The scope's expressions outside rules whose text passes `wanted`, with their trees.
    pub fn parsed_extra_if(
        &self,
        wanted: impl Fn(&str) -> bool,
    ) -> impl Iterator<
        Item = (
            &'a crate::model::ExtraExpr,
            crate::source::FileId,
            &'a crate::parse::promql::Parsed,
        ),
    > {
        let scope = self.scope;
        let file = scope.map(|s| &self.project.files[s.index]);
        let extra = file
            .into_iter()
            .flat_map(|f| f.extra_exprs.iter().map(move |x| (x, f.file)));
        let cells = scope.into_iter().flat_map(|s| s.extra.iter());
        extra.zip(cells).filter_map(move |((x, file), cell)| {
            if !wanted(x.expr.text()) {
                return None;
            }
            Some((x, file, tree_of(cell, &x.expr)?))
        })
    }

    /// What this check computes once per run (for a per-file check, instead of once per file;
    /// for a check run at load, from the configuration alone: the project holds only the file).
    pub fn once<T: std::any::Any + Send + Sync>(&self, build: impl FnOnce() -> T) -> &'a T {
        self.state
            .get_or_init(|| Box::new(build()))
            .downcast_ref::<T>()
            .expect("a check keeps one type of state")
    }

    /// A check option from `.obsgate.yml` (`checks: {<id>: {<name>: ...}}`), already validated
    /// against the check's metadata; falls back to the metadata default.
    pub fn option(&self, name: &str) -> Option<&meta::OptValue> {
        self.config.check_option(self.check_id, name)
    }

    pub fn option_list(&self, name: &str) -> Vec<String> {
        match self.option(name) {
            Some(meta::OptValue::List(v)) => v.clone(),
            Some(meta::OptValue::Str(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    pub fn option_str(&self, name: &str) -> Option<String> {
        match self.option(name) {
            Some(meta::OptValue::Str(s)) => Some(s.clone()),
            _ => None,
        }
    }

    pub fn src(&self, file: FileId) -> &'a str {
        &self.sources.get(file).text
    }
}

/// A check: one rule of the catalogue.
pub trait Check: Sync + Send {
    fn id(&self) -> &'static str;
    fn run(&self, cx: &Ctx) -> Vec<Finding>;
    /// Whether the check runs once per file ([`Ctx::scope`]): its findings on a file come from
    /// that file's rules and expressions, read through [`Ctx::rules`], [`Ctx::alerts`],
    /// [`Ctx::parsed_rules`] (with their syntax trees, [`FileTrees`]) and [`Ctx::files`], and
    /// from what it computes once from the whole project ([`Ctx::once`]). Every check that
    /// reads syntax trees is one: the model keeps no trees. A check run at load is one.
    fn per_file(&self) -> bool {
        self.at_load()
    }
    /// Whether the check's findings on a file depend on nothing but that file and the
    /// configuration (a per-file check): it then runs as soon as the file is parsed, with the
    /// trees of the parse, and its findings wait in the model ([`crate::model::FileModel::early`]).
    /// What only these checks read is freed after they ran (the annotations). At load the
    /// project holds that file alone, without sources: text is read through [`Ctx::src`].
    fn at_load(&self) -> bool {
        false
    }
}

/// Findings recorded by parsers for a given check id (syntax-style checks forward them).
pub fn parse_issues(cx: &Ctx, id: &'static str) -> Vec<Finding> {
    let mut out = Vec::new();
    for f in cx.files() {
        for i in f.issues.iter().filter(|i| i.check == id) {
            let mut finding =
                Finding::new(id, f.file, i.span.clone(), i.message.clone()).downgraded(i.downgrade);
            if let Some(h) = &i.help {
                finding = finding.help(h.clone());
            }
            for (span, message) in &i.related {
                finding = finding.also(f.file, span.clone(), message.clone());
            }
            out.push(finding);
        }
    }
    out
}

/// The URL of a check's documentation page, `docs/checks/<id>.md` in the repository (from the
/// package's `repository` metadata) at this version's tag. `None` for ids that are not checks of
/// obsgate: the policies of a team's `.obsgate.yml` (`policy/<name>`) are documented there and
/// by `obsgate explain policy/<name>`, not by a page of obsgate's.
pub fn docs_url(id: &str) -> Option<String> {
    registry::meta(id)?;
    Some(format!(
        "{}/blob/v{}/docs/checks/{id}.md",
        env!("CARGO_PKG_REPOSITORY").trim_end_matches('/'),
        env!("CARGO_PKG_VERSION")
    ))
}

/// What a reader of a finding is pointed at for more: the docs page of a check, or the
/// `explain` command of a policy.
pub fn see_also(id: &str) -> String {
    docs_url(id).unwrap_or_else(|| format!("`obsgate explain {id}`"))
}

/// The sections both renderings of a check's documentation share: why, the example (each
/// block written by `block`), the options (`markdown`: defaults in backticks and the choices).
fn meta_sections(m: &Meta, block: impl Fn(&str) -> String, markdown: bool) -> String {
    let mut s = String::from("## Why is this bad?\n\n");
    s.push_str(m.rationale.trim_end());
    s.push_str("\n\n## Example\n\n");
    s.push_str(&block(&m.example.bad));
    s.push_str("\nUse instead:\n\n");
    s.push_str(&block(&m.example.good));
    if let Some(c) = &m.example.context {
        s.push_str(&format!("\nWith this `{}` beside it:\n\n", c.file));
        s.push_str(&block(&c.text));
    }
    if let Some(c) = &m.example.config {
        s.push_str("\nWith this `.obsgate.yml`:\n\n");
        s.push_str(&block(c));
    }
    s.push_str("\n## Options\n\n");
    if m.options.is_empty() {
        s.push_str("None.\n");
    }
    for o in &m.options {
        let default = o
            .default
            .as_ref()
            .map(|d| match markdown {
                true => format!(" (default: `{d}`)"),
                false => format!(" (default: {d})"),
            })
            .unwrap_or_default();
        let choices = if o.choices.is_empty() || !markdown {
            String::new()
        } else {
            format!(" One of: `{}`.", o.choices.join("`, `"))
        };
        s.push_str(&format!(
            "- `{}` ({}){}: {}{}\n",
            o.name,
            format!("{:?}", o.kind).to_lowercase(),
            default,
            o.description.trim(),
            choices
        ));
    }
    s
}

/// The documentation page of a check (`docs/checks/<id>.md`), generated from its metadata.
pub fn meta_markdown(m: &Meta) -> String {
    let fence = |text: &str| format!("```\n{}\n```\n", text.trim_end());
    let mut s = format!(
        "<!-- generated from rules/{}.yml by `UPDATE_DOCS=1 cargo test --test docs`: edit that file, not this one -->\n\n# {}\n\n{}\n\nDefault severity: **{}**\n\n",
        m.id, m.id, m.summary.trim(), m.severity
    );
    s.push_str(&meta_sections(m, fence, true));
    s.push_str(&format!(
        "\n## Configuration\n\nSet the severity in `.obsgate.yml` with `checks: {{{}: off|info|warning|error}}`; suppress one finding with a comment `# obsgate: ignore {} -- reason`. `obsgate explain {}` prints this page in a terminal.\n",
        m.id, m.id, m.id
    ));
    if !m.references.is_empty() {
        s.push_str("\n## References\n\n");
        for r in &m.references {
            s.push_str(&format!("- <{r}>\n"));
        }
    }
    s
}

/// The documentation of a check (`obsgate explain`), rendered from its metadata.
pub fn meta_doc(m: &Meta) -> String {
    let mut s = format!(
        "{}  (default severity: {})\n\n{}\n\n",
        m.id, m.severity, m.summary
    );
    s.push_str(&meta_sections(m, indent, false));
    s.push_str(&format!(
        "\nSet in `.obsgate.yml`: `checks: {{{}: off|info|warning|error}}`; suppress one finding with `# obsgate: ignore {} -- reason`.\n",
        m.id, m.id
    ));
    if !m.references.is_empty() {
        s.push_str("\n## References\n\n");
        for r in &m.references {
            s.push_str(&format!("- {r}\n"));
        }
    }
    s
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("    {l}\n")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::Context;

    /// Keys come out sorted, as the `BTreeMap` it replaced gave them, and a key set twice keeps
    /// its last value.
    #[test]
    fn context_is_a_sorted_map() {
        let mut c = Context::default();
        c.insert("route", "b".into());
        c.insert("alert", "A".into());
        c.insert("route", "c".into());
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"alert":"A","route":"c"}"#
        );
        assert_eq!(c["route"].as_str(), Some("c"));
        assert!(c.get("label").is_none());
    }
}
