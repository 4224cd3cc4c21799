//! Type-checking of Alertmanager notification templates against the data Alertmanager passes
//! them (`template.Data`): field chains that cannot be evaluated make Go's template execution
//! fail, and with it the whole notification.
//!
//! The walk follows dot through `range`/`with`, variables through declarations, and function
//! results for the functions whose result type is known; anything it cannot type is `Unknown`
//! and never reported (sound rather than complete). `define`/`block` bodies are called with
//! arbitrary data, so their dot is `Unknown`.

use std::collections::HashMap;

use crate::parse::gotemplate::{Branch, Command, Node, Operand, Pipeline, Template};
use crate::source::Span;

/// A type of Alertmanager's template data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Data,
    Alerts,
    Alert,
    /// `template.KV` (a `map[string]string` with methods).
    Kv,
    Pairs,
    Pair,
    Str,
    StrList,
    Int,
    Time,
    Unknown,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Data => "the notification data (`.` at the top level)",
            Ty::Alerts => "a list of alerts (`.Alerts`)",
            Ty::Alert => "an alert",
            Ty::Kv => "a label/annotation map (KV)",
            Ty::Pairs => "a list of name/value pairs (Pairs)",
            Ty::Pair => "a name/value pair",
            Ty::Str => "a string",
            Ty::StrList => "a list of strings",
            Ty::Int => "a number",
            Ty::Time => "a time",
            Ty::Unknown => "a value",
        }
    }

    /// The fields and methods a template can access.
    pub fn members(self) -> &'static [&'static str] {
        match self {
            Ty::Data => &[
                "Receiver",
                "Status",
                "Alerts",
                "GroupLabels",
                "CommonLabels",
                "CommonAnnotations",
                "ExternalURL",
                "GroupKey",
                "TruncatedAlerts",
            ],
            Ty::Alerts => &["Firing", "Resolved"],
            Ty::Alert => &[
                "Status",
                "Labels",
                "Annotations",
                "StartsAt",
                "EndsAt",
                "GeneratorURL",
                "Fingerprint",
            ],
            Ty::Kv => &["SortedPairs", "Names", "Values", "Remove"],
            Ty::Pairs => &["Names", "Values"],
            Ty::Pair => &["Name", "Value"],
            _ => &[],
        }
    }

    /// The type of `.name` on this type; `None` if it does not exist.
    fn field(self, name: &str) -> Option<Ty> {
        Some(match (self, name) {
            (Ty::Unknown | Ty::Time, _) => Ty::Unknown,
            (Ty::Data, "Receiver" | "Status" | "ExternalURL" | "GroupKey") => Ty::Str,
            (Ty::Data, "Alerts") => Ty::Alerts,
            (Ty::Data, "GroupLabels" | "CommonLabels" | "CommonAnnotations") => Ty::Kv,
            (Ty::Data, "TruncatedAlerts") => Ty::Int,
            (Ty::Alerts, "Firing" | "Resolved") => Ty::Alerts,
            (Ty::Alert, "Status" | "GeneratorURL" | "Fingerprint") => Ty::Str,
            (Ty::Alert, "Labels" | "Annotations") => Ty::Kv,
            (Ty::Alert, "StartsAt" | "EndsAt") => Ty::Time,
            (Ty::Kv, "SortedPairs") => Ty::Pairs,
            (Ty::Kv, "Names" | "Values") => Ty::StrList,
            (Ty::Kv, "Remove") => Ty::Kv,
            // any other name on a map is a key lookup (missing keys render empty)
            (Ty::Kv, _) => Ty::Str,
            (Ty::Pairs, "Names" | "Values") => Ty::StrList,
            (Ty::Pair, "Name" | "Value") => Ty::Str,
            _ => return None,
        })
    }

    /// Element type when ranged over: (key/index type, element type).
    fn elem(self) -> (Ty, Ty) {
        match self {
            Ty::Alerts => (Ty::Int, Ty::Alert),
            Ty::Kv => (Ty::Str, Ty::Str),
            Ty::Pairs => (Ty::Int, Ty::Pair),
            Ty::StrList => (Ty::Int, Ty::Str),
            _ => (Ty::Unknown, Ty::Unknown),
        }
    }
}

/// A problem in a template, with its span in the template text.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
}

/// Check a parsed template. `defined(name)` says whether `{{ template "name" }}` can be
/// resolved; `None` when the set of templates is not known (then calls are not checked).
pub fn check(t: &Template, text: &str, defined: Option<&dyn Fn(&str) -> bool>) -> Vec<Problem> {
    let mut w = Walker {
        text,
        problems: Vec::new(),
        defined,
        local: t.definitions.iter().map(|d| d.name.clone()).collect(),
        vars: vec![HashMap::from([("$".to_string(), Ty::Data)])],
    };
    w.list(&t.root, Ty::Data);
    for d in &t.definitions {
        w.vars = vec![HashMap::from([("$".to_string(), Ty::Unknown)])];
        w.list(&d.body, Ty::Unknown);
    }
    w.problems.sort_by_key(|p| p.span.start);
    w.problems.dedup();
    w.problems
}

/// Templates every Alertmanager has (`template/default.tmpl`): `__*` helpers and
/// `<integration>.default.*`.
pub fn is_builtin_template(name: &str) -> bool {
    name.starts_with("__") || name.contains(".default.")
}

struct Walker<'a> {
    text: &'a str,
    problems: Vec<Problem>,
    defined: Option<&'a dyn Fn(&str) -> bool>,
    local: Vec<String>,
    vars: Vec<HashMap<String, Ty>>,
}

impl Walker<'_> {
    fn var(&self, name: &str) -> Ty {
        self.vars
            .iter()
            .rev()
            .find_map(|s| s.get(name).copied())
            .unwrap_or(Ty::Unknown)
    }

    fn declare(&mut self, name: &str, ty: Ty) {
        if let Some(s) = self.vars.last_mut() {
            s.insert(name.to_string(), ty);
        }
    }

    fn list(&mut self, nodes: &[Node], dot: Ty) {
        for n in nodes {
            match n {
                Node::Text(_) | Node::Break(_) | Node::Continue(_) => {}
                Node::Action(a) => {
                    self.pipeline(&a.pipe, dot, true);
                }
                Node::If(b) => {
                    self.pipeline(&b.pipe, dot, true);
                    self.scoped(&b.list, dot);
                    if let Some(e) = &b.else_list {
                        self.scoped(e, dot);
                    }
                }
                Node::With(b) => {
                    let ty = self.pipeline(&b.pipe, dot, true);
                    self.scoped(&b.list, ty);
                    if let Some(e) = &b.else_list {
                        self.scoped(e, dot);
                    }
                }
                Node::Range(b) => self.range(b, dot),
                Node::Template(c) => {
                    if let Some(p) = &c.pipe {
                        self.pipeline(p, dot, true);
                    }
                    if let Some(defined) = self.defined {
                        if !self.local.contains(&c.name)
                            && !is_builtin_template(&c.name)
                            && !defined(&c.name)
                        {
                            self.problems.push(Problem {
                                span: c.name_span.clone(),
                                message: format!(
                                    "template {:?} is not defined in this config's template files nor built into Alertmanager: the notification fails with `no such template`",
                                    c.name
                                ),
                                help: Some("define it with `{{ define \"...\" }}` in a file listed under `templates:`, or fix the name".into()),
                            });
                        }
                    }
                }
            }
        }
    }

    fn scoped(&mut self, nodes: &[Node], dot: Ty) {
        self.vars.push(HashMap::new());
        self.list(nodes, dot);
        self.vars.pop();
    }

    fn range(&mut self, b: &Branch, dot: Ty) {
        // the declarations of `range $i, $e := X` get the key and element types
        let over = self.pipeline_value(&b.pipe, dot);
        let (k, e) = over.elem();
        self.vars.push(HashMap::new());
        match b.pipe.decl.as_slice() {
            [v] => self.declare(&v.name, e),
            [k1, v] => {
                self.declare(&k1.name, k);
                self.declare(&v.name, e);
            }
            _ => {}
        }
        self.list(&b.list, e);
        self.vars.pop();
        if let Some(el) = &b.else_list {
            self.scoped(el, dot);
        }
    }

    /// Type of a pipeline without declaring its variables (range handles them).
    fn pipeline_value(&mut self, p: &Pipeline, dot: Ty) -> Ty {
        let mut ty = Ty::Unknown;
        for (i, c) in p.cmds.iter().enumerate() {
            ty = self.command(c, dot, i > 0);
        }
        ty
    }

    fn pipeline(&mut self, p: &Pipeline, dot: Ty, declare: bool) -> Ty {
        let ty = self.pipeline_value(p, dot);
        if declare {
            for v in &p.decl {
                if p.is_assign {
                    // `$x = ...` re-assigns: the type may change; forget it
                    self.declare(&v.name, Ty::Unknown);
                } else {
                    self.declare(&v.name, ty);
                }
            }
        }
        ty
    }

    fn command(&mut self, c: &Command, dot: Ty, piped: bool) -> Ty {
        let Some(first) = c.args.first() else {
            return Ty::Unknown;
        };
        let mut arg_tys = Vec::new();
        for a in &c.args[1..] {
            arg_tys.push(self.operand(a, dot));
        }
        match first {
            Operand::Identifier { name, .. } => {
                let first_arg = arg_tys.first().copied();
                match name.as_str() {
                    "len" | "TruncatedAlerts" => Ty::Int,
                    "toUpper" | "toLower" | "title" | "trimSpace" | "join" | "reReplaceAll"
                    | "safeHtml" | "safeUrl" | "urlUnescape" | "date" | "humanizeDuration"
                    | "toJson" | "printf" | "print" | "println" | "html" | "js" | "urlquery" => {
                        Ty::Str
                    }
                    "stringSlice" => Ty::StrList,
                    "tz" | "now" => Ty::Time,
                    "index" if !piped && first_arg == Some(Ty::Kv) => Ty::Str,
                    "index" if !piped && first_arg == Some(Ty::Alerts) => Ty::Alert,
                    _ => Ty::Unknown,
                }
            }
            op if c.args.len() == 1 => self.operand(op, dot),
            op => {
                self.operand(op, dot);
                Ty::Unknown
            }
        }
    }

    fn operand(&mut self, op: &Operand, dot: Ty) -> Ty {
        match op {
            Operand::Dot(_) => dot,
            Operand::Field { fields, span } => self.chain(dot, fields, span, "."),
            Operand::Variable { name, fields, span } => {
                let base = self.var(name);
                self.chain(base, fields, span, name)
            }
            Operand::Chain { base, fields, span } => {
                let b = self.operand(base, dot);
                self.chain(b, fields, span, "")
            }
            Operand::Pipeline { pipe, .. } => {
                self.vars.push(HashMap::new());
                let ty = self.pipeline(pipe, dot, true);
                self.vars.pop();
                ty
            }
            Operand::String { .. } => Ty::Str,
            Operand::Number { .. } => Ty::Int,
            _ => Ty::Unknown,
        }
    }

    /// Walk `.A.B.C` from `base`; report the first field that does not exist.
    fn chain(&mut self, base: Ty, fields: &[String], span: &Span, _root: &str) -> Ty {
        let mut ty = base;
        for (i, f) in fields.iter().enumerate() {
            match ty.field(f) {
                Some(next) => ty = next,
                None => {
                    let fspan = self.field_span(span, fields, i);
                    let members = ty.members();
                    let mut message = format!(
                        "`.{f}` does not exist on {}: Go's template execution fails and the notification is not sent",
                        ty.name()
                    );
                    if !members.is_empty() {
                        message.push_str(&format!(" (valid: {})", members.join(", ")));
                    }
                    let help = if ty == Ty::Data && (f == "Labels" || f == "Annotations") {
                        let alt = if f == "Labels" {
                            "`.CommonLabels` (what all alerts of the group share) or `.GroupLabels`"
                        } else {
                            "`.CommonAnnotations` (what all alerts of the group share)"
                        };
                        Some(format!(
                            "at the top level use {alt}; `.{f}` exists on each alert, inside `{{{{ range .Alerts }}}}`"
                        ))
                    } else if let Some(s) = crate::parse::closest(f, members) {
                        Some(format!("did you mean `.{s}`?"))
                    } else if ty == Ty::Data
                        && f.chars()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                    {
                        Some("Alertmanager does not substitute environment variables or CI variables in its config: put the value in the file (or a `*_file` secret) instead".into())
                    } else if matches!(ty, Ty::Data | Ty::Alert) {
                        Some(format!(
                            "labels and annotations are maps: `.CommonLabels.{f}`, or `.Labels.{f}` inside `range .Alerts`"
                        ))
                    } else {
                        None
                    };
                    self.problems.push(Problem {
                        span: fspan,
                        message,
                        help,
                    });
                    return Ty::Unknown;
                }
            }
        }
        ty
    }

    /// The span of the i-th field name inside an operand like `$x.A.B` or `.A.B`.
    fn field_span(&self, span: &Span, fields: &[String], i: usize) -> Span {
        let Some(text) = self.text.get(span.clone()) else {
            return span.clone();
        };
        // the fields are the last `fields.len()` dot-separated parts
        let dots: Vec<usize> = text.match_indices('.').map(|(p, _)| p).collect();
        let first = dots.len().saturating_sub(fields.len());
        match dots.get(first + i) {
            Some(&d) => {
                let start = span.start + d;
                start..start + 1 + fields[i].len()
            }
            None => span.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::gotemplate::{parse, FuncSet, ParseOptions};

    fn problems(text: &str) -> Vec<String> {
        let funcs = FuncSet::alertmanager();
        let t = parse(
            text,
            &ParseOptions {
                funcs: &funcs,
                predefined_vars: &[],
            },
        )
        .unwrap();
        let defined = |n: &str| n == "known";
        check(&t, text, Some(&defined))
            .into_iter()
            .map(|p| format!("{}|{}", &text[p.span.clone()], p.message))
            .collect()
    }

    #[test]
    fn data_fields() {
        assert!(problems(
            "{{ .Status }} {{ .CommonLabels.severity }} {{ .GroupLabels.SortedPairs.Names }}"
        )
        .is_empty());
        let p = problems("{{ .PAGERDUTY_INTEGRATION_KEY }}");
        assert_eq!(p.len(), 1);
        assert!(p[0].starts_with(".PAGERDUTY_INTEGRATION_KEY|"), "{p:?}");
        let p = problems("{{ .Labels.instance }}");
        assert!(p[0].starts_with(".Labels|"), "{p:?}");
    }

    #[test]
    fn range_and_variables() {
        assert!(problems("{{ range .Alerts.Firing }}{{ .Labels.instance }} {{ .StartsAt.Format \"15:04\" }}{{ end }}").is_empty());
        assert!(problems(
            "{{ range $i, $a := .Alerts }}{{ $a.Annotations.summary }}{{ $.Receiver }}{{ end }}"
        )
        .is_empty());
        let p = problems("{{ range .Alerts }}{{ .Summary }}{{ end }}");
        assert!(p[0].starts_with(".Summary|"), "{p:?}");
        let p = problems("{{ $x := .Alerts }}{{ $x.Bogus }}");
        assert!(p[0].starts_with(".Bogus|"), "{p:?}");
        let p = problems("{{ range .CommonLabels.SortedPairs }}{{ .Name }}={{ .Val }}{{ end }}");
        assert!(p[0].starts_with(".Val|"), "{p:?}");
        assert!(problems("{{ with .CommonAnnotations }}{{ .summary }}{{ end }}").is_empty());
        assert!(problems("{{ .Status.Foo }}")[0].starts_with(".Foo|"));
    }

    #[test]
    fn template_calls() {
        assert!(
            problems("{{ template \"slack.default.title\" . }}{{ template \"known\" . }}")
                .is_empty()
        );
        assert!(
            problems("{{ define \"x\" }}{{ .Whatever }}{{ end }}{{ template \"x\" . }}").is_empty()
        );
        let p = problems("{{ template \"missing\" . }}");
        assert!(p[0].starts_with("\"missing\"|"), "{p:?}");
    }
}
