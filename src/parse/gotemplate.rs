//! Parser for Go's `text/template` language, as used by Prometheus alerting
//! rule templates and Alertmanager notification templates.
//!
//! The lexer and parser follow Go's `text/template/parse` package (`lex.go`,
//! `parse.go`, `node.go`) closely, so a template is rejected exactly when Go's
//! parser rejects it, and the first error reported is the one Go reports. Error
//! messages are phrased like Go's, without Go's `template: NAME:LINE:` prefix,
//! and every error carries the byte span of the offending input.
//!
//! Deliberate differences from Go's parser:
//!
//! * A command whose first word is `nil` (`{{ nil }}`, `{{ $x := nil }}`) is
//!   rejected with `nil is not a command`. Go's parser accepts it and fails
//!   every time the action is executed; the check runs after a successful
//!   parse, so genuine parse errors are still reported first.
//! * Nesting of control structures and parenthesised pipelines is limited to
//!   [`MAX_NESTING_DEPTH`] levels so that hostile input cannot overflow the
//!   stack. Go limits only parentheses (to 10000 levels).
//! * `{{else with}}` is accepted, as in Go 1.23 and later (Prometheus 2.x
//!   releases built with older Go reject it).
//! * Outside ASCII, letters and digits in identifiers are classified with
//!   Rust's Unicode `Alphabetic`/`Numeric` properties, slightly broader than
//!   Go's letter and decimal-digit categories.

use crate::parse::scalar::go_quote;
use std::collections::BTreeSet;
use std::fmt;

/// A byte range into the template text.
pub type Span = std::ops::Range<usize>;

/// Maximum nesting depth of control structures (`if`, `range`, `with`,
/// `define`, `block`, `else if` chains) plus parenthesised pipelines.
pub const MAX_NESTING_DEPTH: usize = 100;

/// The variables Prometheus defines before every alert template by
/// prepending `{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}`
/// `{{$externalURL := .ExternalURL}}{{$value := .Value}}`.
pub const PROMETHEUS_VARIABLES: &[&str] = &["$labels", "$externalLabels", "$externalURL", "$value"];

/// A template parse error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// The offending bytes of the template text.
    pub span: Span,
    /// The message, phrased like Go's (`function "foo" not defined`).
    pub message: String,
}

impl TemplateError {
    fn new(span: Span, message: impl Into<String>) -> Self {
        TemplateError {
            span,
            message: message.into(),
        }
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TemplateError {}

const GO_BUILTIN_FUNCS: &[&str] = &[
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
    "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
];

/// prometheus/template/template.go `NewTemplateExpander` (current releases;
/// `toDuration` and `now` are recent additions, and Prometheus 2.42 knows
/// neither them nor `urlUnescape`).
const PROMETHEUS_FUNCS: &[&str] = &[
    "query",
    "first",
    "label",
    "value",
    "strvalue",
    "args",
    "reReplaceAll",
    "safeHtml",
    "match",
    "title",
    "toUpper",
    "toLower",
    "graphLink",
    "tableLink",
    "sortByLabel",
    "stripPort",
    "stripDomain",
    "humanize",
    "humanize1024",
    "humanizeDuration",
    "humanizePercentage",
    "humanizeTimestamp",
    "toTime",
    "toDuration",
    "pathPrefix",
    "externalURL",
    "parseDuration",
    "now",
    "urlUnescape",
];

/// alertmanager/template/template.go `DefaultFuncs` (current main: `now`, `list`, `append`
/// and `dict` are recent additions), plus `routeLabels`, which renders the route `labels:`
/// of the current Alertmanager (see its `doc/examples/route_labels.yml`).
const ALERTMANAGER_FUNCS: &[&str] = &[
    "toUpper",
    "toLower",
    "title",
    "trimSpace",
    "join",
    "match",
    "safeHtml",
    "safeUrl",
    "urlUnescape",
    "reReplaceAll",
    "stringSlice",
    "date",
    "tz",
    "now",
    "since",
    "humanizeDuration",
    "toJson",
    "list",
    "append",
    "dict",
    "routeLabels",
];

/// The names of the functions a template may call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FuncSet {
    names: BTreeSet<String>,
}

impl FuncSet {
    /// An empty set: not even Go's builtins are defined.
    pub fn new() -> FuncSet {
        FuncSet::default()
    }

    /// Go's predefined template functions.
    pub fn go_builtins() -> FuncSet {
        GO_BUILTIN_FUNCS.iter().copied().collect()
    }

    /// Go's builtins plus the functions of Prometheus rule templates.
    pub fn prometheus() -> FuncSet {
        let mut set = FuncSet::go_builtins();
        set.extend(PROMETHEUS_FUNCS.iter().copied());
        set
    }

    /// Go's builtins plus Alertmanager's notification template functions.
    pub fn alertmanager() -> FuncSet {
        let mut set = FuncSet::go_builtins();
        set.extend(ALERTMANAGER_FUNCS.iter().copied());
        set
    }

    /// Whether a function of that name is defined.
    pub fn contains(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    /// Defines a function; returns whether it was not defined before.
    pub fn insert(&mut self, name: impl Into<String>) -> bool {
        self.names.insert(name.into())
    }

    /// The defined names, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }
}

impl<S: Into<String>> FromIterator<S> for FuncSet {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        FuncSet {
            names: iter.into_iter().map(Into::into).collect(),
        }
    }
}

impl<S: Into<String>> Extend<S> for FuncSet {
    fn extend<I: IntoIterator<Item = S>>(&mut self, iter: I) {
        self.names.extend(iter.into_iter().map(Into::into));
    }
}

/// What the parser needs to know about the environment of a template.
#[derive(Debug, Clone, Copy)]
pub struct ParseOptions<'a> {
    /// The functions the template may call.
    pub funcs: &'a FuncSet,
    /// Variables defined before the template starts, such as
    /// [`PROMETHEUS_VARIABLES`]; `$` is always defined.
    pub predefined_vars: &'a [&'a str],
}

// ---------------------------------------------------------------------------
// Syntax tree
// ---------------------------------------------------------------------------

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// The top-level nodes.
    pub root: Vec<Node>,
    /// Templates defined with `{{define}}` or `{{block}}`, in the order their
    /// definitions end (which is the order Go adds them to its tree set).
    pub definitions: Vec<Definition>,
}

/// Whether a definition came from `{{define}}` or `{{block}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefinitionKind {
    Define,
    Block,
}

/// A named template defined inside the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub kind: DefinitionKind,
    /// The unquoted name.
    pub name: String,
    /// The quoted name in the source.
    pub name_span: Span,
    /// From the opening `{{` to the closing `}}` of `{{end}}`.
    pub span: Span,
    pub body: Vec<Node>,
}

/// A node of a template body.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// Literal text, after removal of spaces trimmed by `{{-` / `-}}`.
    Text(Span),
    /// `{{pipeline}}`.
    Action(Action),
    If(Branch),
    Range(Branch),
    With(Branch),
    /// `{{template "name" pipeline}}`, or the invocation half of a `{{block}}`
    /// (whose body is in [`Template::definitions`]).
    Template(TemplateCall),
    Break(Span),
    Continue(Span),
}

impl Node {
    /// The source range of the node.
    pub fn span(&self) -> Span {
        match self {
            Node::Text(span) | Node::Break(span) | Node::Continue(span) => span.clone(),
            Node::Action(action) => action.span.clone(),
            Node::If(branch) | Node::Range(branch) | Node::With(branch) => branch.span.clone(),
            Node::Template(call) => call.span.clone(),
        }
    }
}

/// `{{pipeline}}`; the span includes the delimiters.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub span: Span,
    pub pipe: Pipeline,
}

/// `if`, `range` or `with`, from the opening `{{` to the end of `{{end}}`.
///
/// `{{else if ...}}` and `{{else with ...}}` are represented as an else list
/// holding a single nested branch, as Go does.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    pub span: Span,
    pub pipe: Pipeline,
    pub list: Vec<Node>,
    pub else_list: Option<Vec<Node>>,
}

/// `{{template "name" pipeline}}` or `{{block "name" pipeline}}...{{end}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateCall {
    pub span: Span,
    /// The unquoted name.
    pub name: String,
    pub name_span: Span,
    pub pipe: Option<Pipeline>,
}

/// `$x := cmd | cmd ...`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub span: Span,
    /// `$x = ...` rather than `$x := ...`.
    pub is_assign: bool,
    pub decl: Vec<Variable>,
    pub cmds: Vec<Command>,
}

/// A declared variable.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    /// Including the `$`.
    pub name: String,
    pub span: Span,
}

/// Space-separated operands of one pipeline stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub span: Span,
    pub args: Vec<Operand>,
}

/// An argument of a command.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A function name.
    Identifier {
        name: String,
        span: Span,
    },
    Dot(Span),
    Nil(Span),
    Bool {
        value: bool,
        span: Span,
    },
    /// A number or character constant, as written.
    Number {
        text: String,
        span: Span,
    },
    /// A quoted or raw string; `value` is unquoted.
    String {
        value: String,
        span: Span,
    },
    /// `.A.B` has fields `["A", "B"]`.
    Field {
        fields: Vec<String>,
        span: Span,
    },
    /// `$x.A.B` has name `$x` and fields `["A", "B"]`.
    Variable {
        name: String,
        fields: Vec<String>,
        span: Span,
    },
    /// Fields of a parenthesised pipeline or function: `(pipeline).A.B`.
    Chain {
        base: Box<Operand>,
        fields: Vec<String>,
        span: Span,
    },
    /// `(pipeline)`; the span includes the parentheses.
    Pipeline {
        pipe: Box<Pipeline>,
        span: Span,
    },
}

impl Operand {
    /// The source range of the operand.
    pub fn span(&self) -> Span {
        match self {
            Operand::Dot(span) | Operand::Nil(span) => span.clone(),
            Operand::Identifier { span, .. }
            | Operand::Bool { span, .. }
            | Operand::Number { span, .. }
            | Operand::String { span, .. }
            | Operand::Field { span, .. }
            | Operand::Variable { span, .. }
            | Operand::Chain { span, .. }
            | Operand::Pipeline { span, .. } => span.clone(),
        }
    }
}

/// A data access found by [`Template::references`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub kind: RefKind,
    pub span: Span,
}

/// What a [`Reference`] accesses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefKind {
    /// `$labels.X`, `.Labels.X` (top-level dot), `$.Labels.X`,
    /// `index $labels "X"`, `index .Labels "X"` (span = the whole
    /// `$labels.X` / the index call).
    Label(String),
    /// `$externalLabels.X`, `.ExternalLabels.X`, `index $externalLabels "X"`.
    ExternalLabel(String),
    /// `$value`, `.Value` (top-level dot).
    Value,
    /// A call of a function by name (span = the identifier).
    Function(String),
    /// Any other field chain on dot or on a variable: `.Foo.Bar` has var
    /// `None` and fields `["Foo", "Bar"]`, `$x.Foo` has var `"$x"`; bare `.`
    /// and bare variables have no fields.
    Field {
        var: Option<String>,
        fields: Vec<String>,
    },
}

impl Template {
    /// Every data access in the template, in source order.
    ///
    /// Dot is the alert data only at top level: inside `range`/`with` bodies
    /// and in `define`/`block` bodies, `.Labels.X` is a plain field access.
    /// Fields of parenthesised pipelines (`(...).X`) are not reported.
    pub fn references(&self) -> Vec<Reference> {
        let mut collector = RefCollector::default();
        let top = Scope {
            top_dot: true,
            in_definition: false,
        };
        collector.list(&self.root, top);
        let nested = Scope {
            top_dot: false,
            in_definition: true,
        };
        for definition in &self.definitions {
            collector.list(&definition.body, nested);
        }
        let mut refs = collector.refs;
        // Stable: among references starting together, enclosing ones first.
        refs.sort_by(|a, b| {
            a.span
                .start
                .cmp(&b.span.start)
                .then(b.span.end.cmp(&a.span.end))
        });
        refs
    }

    /// The first command, in source order, whose first word is `nil`.
    fn first_nil_command(&self) -> Option<Span> {
        let mut first: Option<Span> = None;
        let mut check = |cmd: &Command| {
            if let Some(Operand::Nil(span)) = cmd.args.first() {
                if first.as_ref().is_none_or(|f| span.start < f.start) {
                    first = Some(span.clone());
                }
            }
        };
        visit_commands(&self.root, &mut check);
        for definition in &self.definitions {
            visit_commands(&definition.body, &mut check);
        }
        first
    }
}

fn visit_commands(nodes: &[Node], f: &mut dyn FnMut(&Command)) {
    fn pipeline(pipe: &Pipeline, f: &mut dyn FnMut(&Command)) {
        for cmd in &pipe.cmds {
            f(cmd);
            for arg in &cmd.args {
                operand(arg, f);
            }
        }
    }
    fn operand(op: &Operand, f: &mut dyn FnMut(&Command)) {
        match op {
            Operand::Pipeline { pipe, .. } => pipeline(pipe, f),
            Operand::Chain { base, .. } => operand(base, f),
            _ => {}
        }
    }
    for node in nodes {
        match node {
            Node::Text(_) | Node::Break(_) | Node::Continue(_) => {}
            Node::Action(action) => pipeline(&action.pipe, f),
            Node::If(branch) | Node::Range(branch) | Node::With(branch) => {
                pipeline(&branch.pipe, f);
                visit_commands(&branch.list, f);
                if let Some(else_list) = &branch.else_list {
                    visit_commands(else_list, f);
                }
            }
            Node::Template(call) => {
                if let Some(pipe) = &call.pipe {
                    pipeline(pipe, f);
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Scope {
    /// Dot is the template's data (not changed by `range`/`with`).
    top_dot: bool,
    /// Inside a `define`/`block` body, where `$` is the invocation's data.
    in_definition: bool,
}

#[derive(Debug, Default)]
struct RefCollector {
    refs: Vec<Reference>,
}

impl RefCollector {
    fn push(&mut self, kind: RefKind, span: &Span) {
        self.refs.push(Reference {
            kind,
            span: span.clone(),
        });
    }

    fn list(&mut self, nodes: &[Node], scope: Scope) {
        for node in nodes {
            match node {
                Node::Text(_) | Node::Break(_) | Node::Continue(_) => {}
                Node::Action(action) => self.pipeline(&action.pipe, scope),
                Node::If(branch) => self.branch(branch, scope, scope),
                Node::Range(branch) | Node::With(branch) => {
                    let body = Scope {
                        top_dot: false,
                        ..scope
                    };
                    self.branch(branch, body, scope);
                }
                Node::Template(call) => {
                    if let Some(pipe) = &call.pipe {
                        self.pipeline(pipe, scope);
                    }
                }
            }
        }
    }

    fn branch(&mut self, branch: &Branch, body: Scope, outer: Scope) {
        self.pipeline(&branch.pipe, outer);
        self.list(&branch.list, body);
        if let Some(else_list) = &branch.else_list {
            self.list(else_list, outer);
        }
    }

    fn pipeline(&mut self, pipe: &Pipeline, scope: Scope) {
        for cmd in &pipe.cmds {
            if let Some(kind) = index_reference(cmd, scope) {
                self.push(kind, &cmd.span);
                self.operand(&cmd.args[0], scope);
                continue;
            }
            for arg in &cmd.args {
                self.operand(arg, scope);
            }
        }
    }

    fn operand(&mut self, op: &Operand, scope: Scope) {
        match op {
            Operand::Identifier { name, span } => self.push(RefKind::Function(name.clone()), span),
            Operand::Dot(span) => self.push(dot_reference(&[], scope.top_dot, None), span),
            Operand::Field { fields, span } => {
                self.push(dot_reference(fields, scope.top_dot, None), span)
            }
            Operand::Variable { name, fields, span } => {
                self.push(variable_reference(name, fields, scope), span)
            }
            Operand::Chain { base, .. } => self.operand(base, scope),
            Operand::Pipeline { pipe, .. } => self.pipeline(pipe, scope),
            Operand::Nil(_)
            | Operand::Bool { .. }
            | Operand::Number { .. }
            | Operand::String { .. } => {}
        }
    }
}

/// Classifies a field chain on the template data (`var` is `$` or none).
fn dot_reference(fields: &[String], top_dot: bool, var: Option<&str>) -> RefKind {
    if top_dot {
        match fields {
            [map, key, ..] if map == "Labels" => return RefKind::Label(key.clone()),
            [map, key, ..] if map == "ExternalLabels" => {
                return RefKind::ExternalLabel(key.clone())
            }
            [value] if value == "Value" => return RefKind::Value,
            _ => {}
        }
    }
    RefKind::Field {
        var: var.map(str::to_string),
        fields: fields.to_vec(),
    }
}

fn variable_reference(name: &str, fields: &[String], scope: Scope) -> RefKind {
    match (name, fields) {
        ("$labels", [key, ..]) => RefKind::Label(key.clone()),
        ("$externalLabels", [key, ..]) => RefKind::ExternalLabel(key.clone()),
        ("$value", []) => RefKind::Value,
        ("$", _) if !scope.in_definition => dot_reference(fields, true, Some("$")),
        _ => RefKind::Field {
            var: Some(name.to_string()),
            fields: fields.to_vec(),
        },
    }
}

/// `index MAP "key"` where MAP is the alert's labels or external labels.
fn index_reference(cmd: &Command, scope: Scope) -> Option<RefKind> {
    let [Operand::Identifier { name, .. }, map, Operand::String { value, .. }] =
        cmd.args.as_slice()
    else {
        return None;
    };
    if name != "index" {
        return None;
    }
    let map_name = match map {
        Operand::Variable { name, fields, .. } if fields.is_empty() => match name.as_str() {
            "$labels" => "Labels",
            "$externalLabels" => "ExternalLabels",
            _ => return None,
        },
        Operand::Variable { name, fields, .. } if name == "$" && !scope.in_definition => {
            match fields.as_slice() {
                [field] => field.as_str(),
                _ => return None,
            }
        }
        Operand::Field { fields, .. } if scope.top_dot => match fields.as_slice() {
            [field] => field.as_str(),
            _ => return None,
        },
        _ => return None,
    };
    match map_name {
        "Labels" => Some(RefKind::Label(value.clone())),
        "ExternalLabels" => Some(RefKind::ExternalLabel(value.clone())),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Lexer (text/template/parse/lex.go)
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemType {
    Error,
    Bool,
    Char,
    CharConstant,
    Complex,
    Assign,
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    // Keywords.
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl ItemType {
    fn is_keyword(self) -> bool {
        matches!(
            self,
            ItemType::Block
                | ItemType::Break
                | ItemType::Continue
                | ItemType::Dot
                | ItemType::Define
                | ItemType::Else
                | ItemType::End
                | ItemType::If
                | ItemType::Nil
                | ItemType::Range
                | ItemType::Template
                | ItemType::With
        )
    }
}

#[derive(Debug, Clone)]
struct Item {
    typ: ItemType,
    /// The token's bytes; for delimiters including any trim marker, for
    /// errors the bytes to underline.
    span: Span,
    /// Only for [`ItemType::Error`].
    message: Option<String>,
}

impl Item {
    fn new(typ: ItemType, span: Span) -> Item {
        Item {
            typ,
            span,
            message: None,
        }
    }
}

const LEFT_DELIM: &str = "{{";
const RIGHT_DELIM: &str = "}}";
const LEFT_COMMENT: &str = "/*";
const RIGHT_COMMENT: &str = "*/";
/// A trim marker is `-` plus one space character.
const TRIM_MARKER_LEN: usize = 2;
const SPACE_CHARS: &[char] = &[' ', '\t', '\r', '\n'];

const DECIMAL_DIGITS: &str = "0123456789_";
const HEX_DIGITS: &str = "0123456789abcdefABCDEF_";
const OCTAL_DIGITS: &str = "01234567_";
const BINARY_DIGITS: &str = "01_";

/// A pull lexer: like Go's, it only scans as far as the parser asks, so lexical
/// errors after a syntax error are never reported.
struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    /// Width of the last character read by `next_char`, for `backup`.
    width: usize,
    inside_action: bool,
    /// Position of the `{{` of the current action.
    action_start: usize,
    /// Positions of the unclosed `(` of the current action.
    open_parens: Vec<usize>,
    break_ok: bool,
    continue_ok: bool,
    /// An error was returned; only EOF follows.
    done: bool,
}

impl<'a> Lexer<'a> {
    fn new(input: &'a str, break_ok: bool, continue_ok: bool) -> Lexer<'a> {
        Lexer {
            input,
            pos: 0,
            start: 0,
            width: 0,
            inside_action: false,
            action_start: 0,
            open_parens: Vec::new(),
            break_ok,
            continue_ok,
            done: false,
        }
    }

    fn next_item(&mut self) -> Item {
        if self.done {
            let end = self.input.len();
            return Item::new(ItemType::Eof, end..end);
        }
        if self.inside_action {
            self.lex_inside_action()
        } else {
            self.lex_text()
        }
    }

    fn rest(&self) -> &'a str {
        &self.input[self.pos..]
    }

    fn next_char(&mut self) -> Option<char> {
        let c = self.rest().chars().next();
        self.width = c.map_or(0, char::len_utf8);
        self.pos += self.width;
        c
    }

    /// Steps back over the last `next_char`; only once per call.
    fn backup(&mut self) {
        self.pos -= self.width;
        self.width = 0;
    }

    fn peek_char(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.next_char() {
            Some(c) if valid.contains(c) => true,
            _ => {
                self.backup();
                false
            }
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    fn emit(&mut self, typ: ItemType) -> Item {
        let item = Item::new(typ, self.start..self.pos);
        self.start = self.pos;
        item
    }

    fn ignore(&mut self) {
        self.start = self.pos;
    }

    fn error(&mut self, span: Span, message: impl Into<String>) -> Item {
        self.done = true;
        Item {
            typ: ItemType::Error,
            span,
            message: Some(message.into()),
        }
    }

    /// Scans until an opening action delimiter.
    fn lex_text(&mut self) -> Item {
        loop {
            let Some(x) = self.rest().find(LEFT_DELIM) else {
                self.pos = self.input.len();
                if self.pos > self.start {
                    return self.emit(ItemType::Text);
                }
                return self.emit(ItemType::Eof);
            };
            if x > 0 {
                self.pos += x;
                let delim_end = self.pos + LEFT_DELIM.len();
                let trim = if has_left_trim_marker(&self.input[delim_end..]) {
                    right_trim_length(&self.input[self.start..self.pos])
                } else {
                    0
                };
                let text = Item::new(ItemType::Text, self.start..self.pos - trim);
                self.ignore();
                if !text.span.is_empty() {
                    return text;
                }
            }
            if let Some(item) = self.lex_left_delim() {
                return item;
            }
        }
    }

    /// Scans the left delimiter, which is known to be present. Returns `None`
    /// after skipping a comment.
    fn lex_left_delim(&mut self) -> Option<Item> {
        let delim_start = self.pos;
        self.pos += LEFT_DELIM.len();
        let after_marker = if has_left_trim_marker(self.rest()) {
            TRIM_MARKER_LEN
        } else {
            0
        };
        if self.input[self.pos + after_marker..].starts_with(LEFT_COMMENT) {
            self.pos += after_marker;
            self.ignore();
            return self.lex_comment(delim_start);
        }
        self.pos += after_marker;
        self.inside_action = true;
        self.action_start = delim_start;
        self.open_parens.clear();
        let item = Item::new(ItemType::LeftDelim, delim_start..self.pos);
        self.ignore();
        Some(item)
    }

    /// Skips a comment; the left comment marker is known to be present.
    fn lex_comment(&mut self, delim_start: usize) -> Option<Item> {
        let comment_start = self.pos;
        self.pos += LEFT_COMMENT.len();
        let Some(x) = self.rest().find(RIGHT_COMMENT) else {
            let span = delim_start..comment_start + LEFT_COMMENT.len();
            return Some(self.error(span, "unclosed comment"));
        };
        self.pos += x + RIGHT_COMMENT.len();
        let (delim, trim) = self.at_right_delim();
        if !delim {
            let span = self.pos - RIGHT_COMMENT.len()..self.pos;
            return Some(self.error(span, "comment ends before closing delimiter"));
        }
        if trim {
            self.pos += TRIM_MARKER_LEN;
        }
        self.pos += RIGHT_DELIM.len();
        if trim {
            self.pos += left_trim_length(self.rest());
        }
        self.ignore();
        None
    }

    /// Whether the input is at a right delimiter, and whether that has a trim
    /// marker.
    fn at_right_delim(&self) -> (bool, bool) {
        let rest = self.rest();
        if has_right_trim_marker(rest) && rest[TRIM_MARKER_LEN..].starts_with(RIGHT_DELIM) {
            return (true, true);
        }
        (rest.starts_with(RIGHT_DELIM), false)
    }

    fn lex_right_delim(&mut self) -> Item {
        let (_, trim) = self.at_right_delim();
        let delim_start = self.pos;
        if trim {
            self.pos += TRIM_MARKER_LEN;
        }
        self.pos += RIGHT_DELIM.len();
        let item = Item::new(ItemType::RightDelim, delim_start..self.pos);
        if trim {
            self.pos += left_trim_length(self.rest());
        }
        self.ignore();
        self.inside_action = false;
        item
    }

    fn lex_inside_action(&mut self) -> Item {
        let (delim, _) = self.at_right_delim();
        if delim {
            if let Some(&paren) = self.open_parens.last() {
                return self.error(paren..paren + 1, "unclosed left paren");
            }
            return self.lex_right_delim();
        }
        let Some(c) = self.next_char() else {
            let start = self.action_start;
            return self.error(start..start + LEFT_DELIM.len(), "unclosed action");
        };
        match c {
            c if is_space(c) => {
                // Put the space back in case of " -}}".
                self.backup();
                self.lex_space()
            }
            '=' => self.emit(ItemType::Assign),
            ':' => {
                if self.next_char() == Some('=') {
                    self.emit(ItemType::Declare)
                } else {
                    self.error(self.start..self.start + 1, "expected :=")
                }
            }
            '|' => self.emit(ItemType::Pipe),
            '"' => self.lex_quote(),
            '`' => self.lex_raw_quote(),
            '$' => self.lex_variable(),
            '\'' => self.lex_char(),
            '.' if self
                .rest()
                .bytes()
                .next()
                .is_some_and(|b| !b.is_ascii_digit()) =>
            {
                self.lex_field_or_variable(ItemType::Field)
            }
            '.' | '+' | '-' | '0'..='9' => {
                self.backup();
                self.lex_number()
            }
            c if is_alphanumeric(c) => {
                self.backup();
                self.lex_identifier()
            }
            '(' => {
                self.open_parens.push(self.start);
                self.emit(ItemType::LeftParen)
            }
            ')' => {
                if self.open_parens.pop().is_some() {
                    self.emit(ItemType::RightParen)
                } else {
                    self.error(self.start..self.pos, "unexpected right paren")
                }
            }
            c if c.is_ascii_graphic() => self.emit(ItemType::Char),
            c => self.error(
                self.start..self.pos,
                format!("unrecognized character in action: {}", go_rune(c)),
            ),
        }
    }

    /// Scans a run of spaces; the first one is known to be present but has not
    /// been consumed.
    fn lex_space(&mut self) -> Item {
        let mut num_spaces = 0;
        while self.peek_char().is_some_and(is_space) {
            self.next_char();
            num_spaces += 1;
        }
        // A trim-marked right delimiter starts with a space.
        let last_space = self.pos - 1;
        if has_right_trim_marker(&self.input[last_space..])
            && self.input[last_space + TRIM_MARKER_LEN..].starts_with(RIGHT_DELIM)
        {
            self.pos = last_space;
            if num_spaces == 1 {
                return self.lex_right_delim();
            }
        }
        self.emit(ItemType::Space)
    }

    fn lex_identifier(&mut self) -> Item {
        while self.next_char().is_some_and(is_alphanumeric) {}
        self.backup();
        if !self.at_terminator() {
            return self.bad_character();
        }
        let typ = match &self.input[self.start..self.pos] {
            "block" => ItemType::Block,
            "break" if self.break_ok => ItemType::Break,
            "continue" if self.continue_ok => ItemType::Continue,
            "define" => ItemType::Define,
            "else" => ItemType::Else,
            "end" => ItemType::End,
            "if" => ItemType::If,
            "nil" => ItemType::Nil,
            "range" => ItemType::Range,
            "template" => ItemType::Template,
            "with" => ItemType::With,
            "true" | "false" => ItemType::Bool,
            _ => ItemType::Identifier,
        };
        self.emit(typ)
    }

    /// `$` has been scanned.
    fn lex_variable(&mut self) -> Item {
        if self.at_terminator() {
            return self.emit(ItemType::Variable);
        }
        self.lex_field_or_variable(ItemType::Variable)
    }

    /// `.` or `$` has been scanned.
    fn lex_field_or_variable(&mut self, typ: ItemType) -> Item {
        if self.at_terminator() {
            return self.emit(if typ == ItemType::Variable {
                ItemType::Variable
            } else {
                ItemType::Dot
            });
        }
        while self.next_char().is_some_and(is_alphanumeric) {}
        self.backup();
        if !self.at_terminator() {
            return self.bad_character();
        }
        self.emit(typ)
    }

    fn bad_character(&mut self) -> Item {
        let c = self.peek_char().unwrap_or(char::REPLACEMENT_CHARACTER);
        let span = self.pos..(self.pos + c.len_utf8()).min(self.input.len());
        self.error(span, format!("bad character {}", go_rune(c)))
    }

    /// Whether the input is at a character that may follow an identifier.
    fn at_terminator(&self) -> bool {
        match self.peek_char() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            Some(_) => self.rest().starts_with(RIGHT_DELIM),
        }
    }

    /// The opening quote has been scanned; syntax is checked by the parser.
    fn lex_char(&mut self) -> Item {
        loop {
            match self.next_char() {
                Some('\\') => match self.next_char() {
                    Some(c) if c != '\n' => {}
                    _ => return self.unterminated("unterminated character constant"),
                },
                None | Some('\n') => return self.unterminated("unterminated character constant"),
                Some('\'') => return self.emit(ItemType::CharConstant),
                Some(_) => {}
            }
        }
    }

    fn lex_quote(&mut self) -> Item {
        loop {
            match self.next_char() {
                Some('\\') => match self.next_char() {
                    Some(c) if c != '\n' => {}
                    _ => return self.unterminated("unterminated quoted string"),
                },
                None | Some('\n') => return self.unterminated("unterminated quoted string"),
                Some('"') => return self.emit(ItemType::String),
                Some(_) => {}
            }
        }
    }

    fn unterminated(&mut self, message: &str) -> Item {
        let mut end = self.pos;
        if self.input[..end].ends_with('\n') {
            end -= 1;
        }
        self.error(self.start..end, message)
    }

    fn lex_raw_quote(&mut self) -> Item {
        loop {
            match self.next_char() {
                None => {
                    return self.error(self.start..self.start + 1, "unterminated raw quoted string")
                }
                Some('`') => return self.emit(ItemType::RawString),
                Some(_) => {}
            }
        }
    }

    /// Scans a number loosely, like Go: when the syntax is wrong the parser
    /// notices.
    fn lex_number(&mut self) -> Item {
        if !self.scan_number() {
            return self.bad_number();
        }
        if matches!(self.peek_char(), Some('+' | '-')) {
            // Complex: 1+2i. No spaces, must end in 'i'.
            if !self.scan_number() || !self.input[..self.pos].ends_with('i') {
                return self.bad_number();
            }
            return self.emit(ItemType::Complex);
        }
        self.emit(ItemType::Number)
    }

    fn bad_number(&mut self) -> Item {
        let span = self.start..self.pos;
        let message = format!("bad number syntax: {}", go_quote(&self.input[span.clone()]));
        self.error(span, message)
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = DECIMAL_DIGITS;
        if self.accept("0") {
            if self.accept("xX") {
                digits = HEX_DIGITS;
            } else if self.accept("oO") {
                digits = OCTAL_DIGITS;
            } else if self.accept("bB") {
                digits = BINARY_DIGITS;
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits == DECIMAL_DIGITS && self.accept("eE") {
            self.accept("+-");
            self.accept_run(DECIMAL_DIGITS);
        }
        if digits == HEX_DIGITS && self.accept("pP") {
            self.accept("+-");
            self.accept_run(DECIMAL_DIGITS);
        }
        self.accept("i");
        if self.peek_char().is_some_and(is_alphanumeric) {
            self.next_char();
            return false;
        }
        true
    }
}

fn is_space(c: char) -> bool {
    SPACE_CHARS.contains(&c)
}

/// Go's `isAlphaNumeric`: `_`, a letter or a digit. Non-ASCII characters are
/// classified with Rust's Unicode properties, which are slightly broader than
/// Go's letter/decimal-digit categories.
fn is_alphanumeric(c: char) -> bool {
    c == '_'
        || c.is_ascii_alphanumeric()
        || (!c.is_ascii() && (c.is_alphabetic() || c.is_numeric()))
}

fn has_left_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(char::from(b[1]))
}

fn has_right_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(char::from(b[0])) && b[1] == b'-'
}

fn right_trim_length(s: &str) -> usize {
    s.len() - s.trim_end_matches(SPACE_CHARS).len()
}

fn left_trim_length(s: &str) -> usize {
    s.len() - s.trim_start_matches(SPACE_CHARS).len()
}

// ---------------------------------------------------------------------------
// Parser (text/template/parse/parse.go)
// ---------------------------------------------------------------------------

type PResult<T> = Result<T, TemplateError>;

/// What `text_or_action` found.
enum Parsed {
    Node(Node),
    End(Span),
    Else(Span),
}

/// How an item list ended.
enum ListEnd {
    End(Span),
    Else(Span),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BranchKind {
    If,
    Range,
    With,
}

impl BranchKind {
    fn keyword(self) -> &'static str {
        match self {
            BranchKind::If => "if",
            BranchKind::Range => "range",
            BranchKind::With => "with",
        }
    }

    fn node(self, branch: Branch) -> Node {
        match self {
            BranchKind::If => Node::If(branch),
            BranchKind::Range => Node::Range(branch),
            BranchKind::With => Node::With(branch),
        }
    }
}

/// Parses a template.
///
/// `opts.funcs` must contain every function the template calls (include
/// [`FuncSet::go_builtins`]), and `opts.predefined_vars` the variables defined
/// before the template starts. On failure the first error Go would report is
/// returned.
pub fn parse(text: &str, opts: &ParseOptions) -> Result<Template, TemplateError> {
    let funcs = opts.funcs;
    let mut vars = vec!["$".to_string()];
    vars.extend(opts.predefined_vars.iter().map(|v| v.to_string()));
    let mut parser = Parser {
        text,
        lex: Lexer::new(text, !funcs.contains("break"), !funcs.contains("continue")),
        token: std::array::from_fn(|_| Item::new(ItemType::Eof, 0..0)),
        peek_count: 0,
        funcs,
        vars,
        range_depth: 0,
        depth: 0,
        open_blocks: Vec::new(),
        definitions: Vec::new(),
    };
    let root = parser.parse_root()?;
    let template = Template {
        root,
        definitions: parser.definitions,
    };
    if let Some(span) = template.first_nil_command() {
        return Err(TemplateError::new(span, "nil is not a command"));
    }
    Ok(template)
}

struct Parser<'a> {
    text: &'a str,
    lex: Lexer<'a>,
    /// Three-token lookahead, used exactly like Go's.
    token: [Item; 3],
    peek_count: usize,
    funcs: &'a FuncSet,
    /// Variables defined at the moment.
    vars: Vec<String>,
    range_depth: usize,
    depth: usize,
    /// Opening actions of the blocks being parsed, for `unexpected EOF`.
    open_blocks: Vec<Span>,
    definitions: Vec<Definition>,
}

impl<'a> Parser<'a> {
    // Token stream -------------------------------------------------------

    fn next(&mut self) -> Item {
        if self.peek_count > 0 {
            self.peek_count -= 1;
        } else {
            self.token[0] = self.lex.next_item();
        }
        self.token[self.peek_count].clone()
    }

    fn backup(&mut self) {
        self.peek_count += 1;
    }

    fn backup2(&mut self, t1: Item) {
        self.token[1] = t1;
        self.peek_count = 2;
    }

    fn backup3(&mut self, t2: Item, t1: Item) {
        self.token[1] = t1;
        self.token[2] = t2;
        self.peek_count = 3;
    }

    fn peek(&mut self) -> Item {
        if self.peek_count > 0 {
            return self.token[self.peek_count - 1].clone();
        }
        self.peek_count = 1;
        self.token[0] = self.lex.next_item();
        self.token[0].clone()
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let token = self.next();
            if token.typ != ItemType::Space {
                return token;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let token = self.next_non_space();
        self.backup();
        token
    }

    // Errors ---------------------------------------------------------------

    /// The text of a token, as Go's `item.val`.
    fn val(&self, item: &Item) -> &'a str {
        match item.typ {
            ItemType::LeftDelim => LEFT_DELIM,
            ItemType::RightDelim => RIGHT_DELIM,
            ItemType::Eof | ItemType::Error => "",
            _ => self.text.get(item.span.clone()).unwrap_or(""),
        }
    }

    /// Go's `item.String()`.
    fn describe(&self, item: &Item) -> String {
        match item.typ {
            ItemType::Eof => "EOF".to_string(),
            ItemType::Error => item.message.clone().unwrap_or_default(),
            typ if typ.is_keyword() => format!("<{}>", self.val(item)),
            _ => {
                let val = self.val(item);
                if val.len() > 10 {
                    format!("{}...", go_quote(&val.chars().take(10).collect::<String>()))
                } else {
                    go_quote(val)
                }
            }
        }
    }

    fn unexpected(&self, item: &Item, context: &str) -> TemplateError {
        if item.typ == ItemType::Error {
            return TemplateError::new(item.span.clone(), item.message.clone().unwrap_or_default());
        }
        TemplateError::new(
            item.span.clone(),
            format!("unexpected {} in {}", self.describe(item), context),
        )
    }

    fn expect(&mut self, expected: ItemType, context: &str) -> PResult<Item> {
        let token = self.next_non_space();
        if token.typ != expected {
            return Err(self.unexpected(&token, context));
        }
        Ok(token)
    }

    fn enter(&mut self, span: Span, what: &str) -> PResult<()> {
        if self.depth >= MAX_NESTING_DEPTH {
            return Err(TemplateError::new(
                span,
                format!("max {what} depth exceeded"),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    // Structure ------------------------------------------------------------

    /// The top level: like `item_list`, but also parses `{{define}}` and runs to
    /// EOF.
    fn parse_root(&mut self) -> PResult<Vec<Node>> {
        let mut root = Vec::new();
        while self.peek().typ != ItemType::Eof {
            if self.peek().typ == ItemType::LeftDelim {
                let delim = self.next();
                if self.next_non_space().typ == ItemType::Define {
                    self.parse_definition(delim.span.start)?;
                    continue;
                }
                self.backup2(delim);
            }
            match self.text_or_action()? {
                Parsed::Node(node) => root.push(node),
                Parsed::End(span) => return Err(TemplateError::new(span, "unexpected {{end}}")),
                Parsed::Else(span) => return Err(TemplateError::new(span, "unexpected {{else}}")),
            }
        }
        Ok(root)
    }

    /// `{{define "name"}} itemList {{end}}`; `define` has been scanned.
    fn parse_definition(&mut self, start: usize) -> PResult<()> {
        const CONTEXT: &str = "define clause";
        let name_token = self.next_non_space();
        if !matches!(name_token.typ, ItemType::String | ItemType::RawString) {
            return Err(self.unexpected(&name_token, CONTEXT));
        }
        let name = self.unquote_token(&name_token)?;
        let header = self.expect(ItemType::RightDelim, CONTEXT)?;
        let (body, end) = self.sub_tree(start..header.span.end)?;
        let end = match end {
            ListEnd::End(span) => span.end,
            ListEnd::Else(span) => {
                return Err(TemplateError::new(
                    span,
                    format!("unexpected {{{{else}}}} in {CONTEXT}"),
                ))
            }
        };
        self.add_definition(Definition {
            kind: DefinitionKind::Define,
            name,
            name_span: name_token.span,
            span: start..end,
            body,
        })
    }

    /// Parses the body of a `define` or `block`: a separate tree in Go, in
    /// which only `$` is defined and `break` is not allowed.
    fn sub_tree(&mut self, header: Span) -> PResult<(Vec<Node>, ListEnd)> {
        self.enter(header.clone(), "nesting")?;
        let vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let range_depth = std::mem::replace(&mut self.range_depth, 0);
        self.open_blocks.push(header);
        let result = self.item_list()?;
        self.open_blocks.pop();
        self.vars = vars;
        self.range_depth = range_depth;
        self.leave();
        Ok(result)
    }

    /// Adds a definition like Go's `Tree.add`: an empty definition never
    /// replaces a non-empty one, two non-empty ones conflict.
    fn add_definition(&mut self, definition: Definition) -> PResult<()> {
        let Some(existing) = self
            .definitions
            .iter_mut()
            .find(|d| d.name == definition.name)
        else {
            self.definitions.push(definition);
            return Ok(());
        };
        if is_empty_tree(&existing.body, self.text) {
            *existing = definition;
            return Ok(());
        }
        if !is_empty_tree(&definition.body, self.text) {
            return Err(TemplateError::new(
                definition.name_span,
                format!(
                    "template: multiple definition of template {}",
                    go_quote(&definition.name)
                ),
            ));
        }
        Ok(())
    }

    /// `textOrAction*`, terminated by `{{end}}` or `{{else}}`.
    fn item_list(&mut self) -> PResult<(Vec<Node>, ListEnd)> {
        let mut list = Vec::new();
        while self.peek_non_space().typ != ItemType::Eof {
            match self.text_or_action()? {
                Parsed::Node(node) => list.push(node),
                Parsed::End(span) => return Ok((list, ListEnd::End(span))),
                Parsed::Else(span) => return Ok((list, ListEnd::Else(span))),
            }
        }
        let end = self.text.len();
        let span = self.open_blocks.last().cloned().unwrap_or(end..end);
        Err(TemplateError::new(span, "unexpected EOF"))
    }

    fn text_or_action(&mut self) -> PResult<Parsed> {
        let token = self.next_non_space();
        match token.typ {
            ItemType::Text => Ok(Parsed::Node(Node::Text(token.span))),
            ItemType::LeftDelim => self.action(token.span.start),
            _ => Err(self.unexpected(&token, "input")),
        }
    }

    /// A control structure or a pipeline; the left delimiter has been
    /// scanned.
    fn action(&mut self, start: usize) -> PResult<Parsed> {
        let token = self.next_non_space();
        match token.typ {
            ItemType::Block => self.block_control(start),
            ItemType::Break | ItemType::Continue => self.break_control(start, token.typ),
            ItemType::Else => self.else_control(start, token.span.end),
            ItemType::End => self.end_control(start),
            ItemType::If => self.branch_control(BranchKind::If, start),
            ItemType::Range => self.branch_control(BranchKind::Range, start),
            ItemType::Template => self.template_control(start),
            ItemType::With => self.branch_control(BranchKind::With, start),
            _ => {
                self.backup();
                self.action_pipeline(start)
            }
        }
    }

    /// `{{pipeline}}`. Variables declared here persist until the enclosing
    /// `{{end}}`.
    fn action_pipeline(&mut self, start: usize) -> PResult<Parsed> {
        let (pipe, end) = self.pipeline("command", ItemType::RightDelim, start)?;
        Ok(Parsed::Node(Node::Action(Action {
            span: start..end,
            pipe,
        })))
    }

    fn end_control(&mut self, start: usize) -> PResult<Parsed> {
        let delim = self.expect(ItemType::RightDelim, "end")?;
        Ok(Parsed::End(start..delim.span.end))
    }

    /// `{{break}}` or `{{continue}}`; the keyword has been scanned.
    fn break_control(&mut self, start: usize, keyword: ItemType) -> PResult<Parsed> {
        let name = if keyword == ItemType::Break {
            "break"
        } else {
            "continue"
        };
        let token = self.next_non_space();
        if token.typ != ItemType::RightDelim {
            return Err(self.unexpected(&token, &format!("{{{{{name}}}}}")));
        }
        let span = start..token.span.end;
        if self.range_depth == 0 {
            return Err(TemplateError::new(
                span,
                format!("{{{{{name}}}}} outside {{{{range}}}}"),
            ));
        }
        Ok(Parsed::Node(if keyword == ItemType::Break {
            Node::Break(span)
        } else {
            Node::Continue(span)
        }))
    }

    /// `{{else}}`, `{{else if ...` or `{{else with ...`; `else` has been
    /// scanned. For the latter two the keyword is left pending.
    fn else_control(&mut self, start: usize, else_end: usize) -> PResult<Parsed> {
        let peek = self.peek_non_space();
        if matches!(peek.typ, ItemType::If | ItemType::With) {
            return Ok(Parsed::Else(start..else_end));
        }
        let token = self.expect(ItemType::RightDelim, "else")?;
        Ok(Parsed::Else(start..token.span.end))
    }

    fn branch_control(&mut self, kind: BranchKind, start: usize) -> PResult<Parsed> {
        let branch = self.parse_control(kind, start)?;
        Ok(Parsed::Node(kind.node(branch)))
    }

    /// `{{if|range|with pipeline}} itemList ({{else}} itemList)? {{end}}`; the
    /// keyword has been scanned.
    fn parse_control(&mut self, kind: BranchKind, start: usize) -> PResult<Branch> {
        let context = kind.keyword();
        let vars = self.vars.len();
        let (pipe, header_end) = self.pipeline(context, ItemType::RightDelim, start)?;
        self.enter(start..header_end, "nesting")?;
        self.open_blocks.push(start..header_end);
        if kind == BranchKind::Range {
            self.range_depth += 1;
        }
        let (list, next) = self.item_list()?;
        if kind == BranchKind::Range {
            self.range_depth -= 1;
        }
        let (else_list, end) = match next {
            ListEnd::End(span) => (None, span.end),
            ListEnd::Else(else_span) => self.else_list(kind, else_span.start)?,
        };
        self.open_blocks.pop();
        self.leave();
        self.vars.truncate(vars);
        Ok(Branch {
            span: start..end,
            pipe,
            list,
            else_list,
        })
    }

    /// The else part of a branch, up to and including its `{{end}}`.
    fn else_list(
        &mut self,
        kind: BranchKind,
        else_start: usize,
    ) -> PResult<(Option<Vec<Node>>, usize)> {
        // {{if a}}_{{else if b}}_{{end}} is {{if a}}_{{else}}{{if b}}_{{end}}{{end}},
        // likewise for with: the nested branch consumes the {{end}}.
        let chained = matches!(
            (kind, self.peek().typ),
            (BranchKind::If, ItemType::If) | (BranchKind::With, ItemType::With)
        );
        if chained {
            self.next();
            let nested = self.parse_control(kind, else_start)?;
            let end = nested.span.end;
            return Ok((Some(vec![kind.node(nested)]), end));
        }
        let (else_list, next) = self.item_list()?;
        match next {
            ListEnd::End(span) => Ok((Some(else_list), span.end)),
            ListEnd::Else(span) => Err(TemplateError::new(span, "expected end; found {{else}}")),
        }
    }

    /// `{{block "name" pipeline}} itemList {{end}}`; `block` has been scanned.
    fn block_control(&mut self, start: usize) -> PResult<Parsed> {
        const CONTEXT: &str = "block clause";
        let name_token = self.next_non_space();
        let name = self.template_name(&name_token, CONTEXT)?;
        let (pipe, header_end) = self.pipeline(CONTEXT, ItemType::RightDelim, start)?;
        let (body, end) = self.sub_tree(start..header_end)?;
        let end = match end {
            ListEnd::End(span) => span.end,
            ListEnd::Else(span) => {
                return Err(TemplateError::new(
                    span,
                    format!("unexpected {{{{else}}}} in {CONTEXT}"),
                ))
            }
        };
        self.add_definition(Definition {
            kind: DefinitionKind::Block,
            name: name.clone(),
            name_span: name_token.span.clone(),
            span: start..end,
            body,
        })?;
        Ok(Parsed::Node(Node::Template(TemplateCall {
            span: start..end,
            name,
            name_span: name_token.span,
            pipe: Some(pipe),
        })))
    }

    /// `{{template "name" pipeline?}}`; `template` has been scanned.
    fn template_control(&mut self, start: usize) -> PResult<Parsed> {
        const CONTEXT: &str = "template clause";
        let name_token = self.next_non_space();
        let name = self.template_name(&name_token, CONTEXT)?;
        let next = self.next_non_space();
        let (pipe, end) = if next.typ == ItemType::RightDelim {
            (None, next.span.end)
        } else {
            self.backup();
            let (pipe, end) = self.pipeline(CONTEXT, ItemType::RightDelim, start)?;
            (Some(pipe), end)
        };
        Ok(Parsed::Node(Node::Template(TemplateCall {
            span: start..end,
            name,
            name_span: name_token.span,
            pipe,
        })))
    }

    fn template_name(&self, token: &Item, context: &str) -> PResult<String> {
        match token.typ {
            ItemType::String | ItemType::RawString => self.unquote_token(token),
            _ => Err(self.unexpected(token, context)),
        }
    }

    fn unquote_token(&self, token: &Item) -> PResult<String> {
        unquote(self.val(token))
            .ok_or_else(|| TemplateError::new(token.span.clone(), "invalid syntax"))
    }

    // Pipelines --------------------------------------------------------------

    /// `declarations? command ('|' command)*`, up to and including `end`.
    /// `open` is where the construct starts (`{{` or `(`). Returns the pipeline
    /// and the end of the terminating token.
    fn pipeline(
        &mut self,
        context: &str,
        end: ItemType,
        open: usize,
    ) -> PResult<(Pipeline, usize)> {
        let (decl, is_assign) = self.declarations(context)?;
        let mut cmds: Vec<Command> = Vec::new();
        loop {
            let token = self.next_non_space();
            if token.typ == end {
                check_pipeline(&cmds, context, open..token.span.end)?;
                let first = decl
                    .first()
                    .map(|d| d.span.start)
                    .or_else(|| cmds.first().map(|c| c.span.start))
                    .unwrap_or(open);
                let last = cmds.last().map_or(first, |c| c.span.end);
                let pipe = Pipeline {
                    span: first..last,
                    is_assign,
                    decl,
                    cmds,
                };
                return Ok((pipe, token.span.end));
            }
            match token.typ {
                ItemType::Bool
                | ItemType::CharConstant
                | ItemType::Complex
                | ItemType::Dot
                | ItemType::Field
                | ItemType::Identifier
                | ItemType::Number
                | ItemType::Nil
                | ItemType::RawString
                | ItemType::String
                | ItemType::Variable
                | ItemType::LeftParen => {
                    self.backup();
                    cmds.push(self.command()?);
                }
                _ => return Err(self.unexpected(&token, context)),
            }
        }
    }

    /// The declarations of a pipeline: `$x :=`, `$x =`, or in `range` also
    /// `$i, $x :=`. Returns the variables and whether they are assigned.
    fn declarations(&mut self, context: &str) -> PResult<(Vec<Variable>, bool)> {
        let mut decl = Vec::new();
        let mut is_assign = false;
        loop {
            let v = self.peek_non_space();
            if v.typ != ItemType::Variable {
                break;
            }
            self.next();
            // In "$x foo" we need to read "foo" (as opposed to ":=") to know
            // that $x is an argument rather than a declaration, so remember
            // the token after the variable to push it back if necessary.
            let token_after_variable = self.peek();
            let next = self.peek_non_space();
            match next.typ {
                ItemType::Assign | ItemType::Declare => {
                    is_assign = next.typ == ItemType::Assign;
                    self.next_non_space();
                    decl.push(self.declare(&v));
                }
                ItemType::Char if self.val(&next) == "," => {
                    self.next_non_space();
                    decl.push(self.declare(&v));
                    if context == "range" && decl.len() < 2 {
                        let peek = self.peek_non_space();
                        match peek.typ {
                            // The second variable of a range declaration.
                            ItemType::Variable | ItemType::RightDelim | ItemType::RightParen => {
                                continue
                            }
                            _ => {
                                return Err(TemplateError::new(
                                    peek.span,
                                    "range can only initialize variables",
                                ))
                            }
                        }
                    }
                    return Err(too_many_declarations(context, next.span));
                }
                _ if token_after_variable.typ == ItemType::Space => {
                    self.backup3(v, token_after_variable)
                }
                _ => self.backup2(v),
            }
            break;
        }
        Ok((decl, is_assign))
    }

    /// Defines the variable `v` until the end of the enclosing block.
    fn declare(&mut self, v: &Item) -> Variable {
        let name = self.val(v).to_string();
        self.vars.push(name.clone());
        Variable {
            name,
            span: v.span.clone(),
        }
    }

    /// Space-separated operands up to a pipe character or a right delimiter;
    /// consumes the pipe character but leaves the delimiter.
    fn command(&mut self) -> PResult<Command> {
        let start = self.peek_non_space().span.start;
        let mut args = Vec::new();
        loop {
            self.peek_non_space(); // Skip leading spaces.
            if let Some(operand) = self.operand()? {
                args.push(operand);
            }
            let token = self.next();
            match token.typ {
                ItemType::Space => continue,
                ItemType::RightDelim | ItemType::RightParen => self.backup(),
                ItemType::Pipe => {}
                _ => return Err(self.unexpected(&token, "operand")),
            }
            break;
        }
        let (Some(first), Some(last)) = (args.first(), args.last()) else {
            return Err(TemplateError::new(start..start, "empty command"));
        };
        Ok(Command {
            span: first.span().start..last.span().end,
            args,
        })
    }

    /// `term .Field*`; `None` when the next token does not start an operand.
    fn operand(&mut self) -> PResult<Option<Operand>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        let first_field = self.peek();
        if first_field.typ != ItemType::Field {
            return Ok(Some(node));
        }
        let mut more = Vec::new();
        let mut end = first_field.span.end;
        while self.peek().typ == ItemType::Field {
            let field = self.next();
            more.push(self.val(&field)[1..].to_string());
            end = field.span.end;
        }
        let chained = match node {
            Operand::Field { mut fields, span } => {
                fields.extend(more);
                Operand::Field {
                    fields,
                    span: span.start..end,
                }
            }
            Operand::Variable {
                name,
                mut fields,
                span,
            } => {
                fields.extend(more);
                Operand::Variable {
                    name,
                    fields,
                    span: span.start..end,
                }
            }
            Operand::Bool { .. }
            | Operand::String { .. }
            | Operand::Number { .. }
            | Operand::Nil(_)
            | Operand::Dot(_) => {
                let term = self.text.get(node.span()).unwrap_or("");
                return Err(quoted_error(
                    "unexpected . after term",
                    term,
                    "",
                    first_field.span,
                ));
            }
            base => {
                let span = base.span().start..end;
                Operand::Chain {
                    base: Box::new(base),
                    fields: more,
                    span,
                }
            }
        };
        Ok(Some(chained))
    }

    /// `(pipeline)`; the left parenthesis has been scanned.
    fn parenthesized(&mut self, paren: Span) -> PResult<Operand> {
        self.enter(paren.clone(), "expression")?;
        let (pipe, end) =
            self.pipeline("parenthesized pipeline", ItemType::RightParen, paren.start)?;
        self.leave();
        Ok(Operand::Pipeline {
            pipe: Box::new(pipe),
            span: paren.start..end,
        })
    }

    /// A literal, function, `.`, `.Field`, `$var` or `(pipeline)`; `None` when
    /// the next token is none of these.
    fn term(&mut self) -> PResult<Option<Operand>> {
        let token = self.next_non_space();
        let span = token.span.clone();
        let val = self.val(&token);
        let operand = match token.typ {
            ItemType::Identifier => {
                if !self.funcs.contains(val) {
                    return Err(quoted_error("function", val, " not defined", span));
                }
                Operand::Identifier {
                    name: val.to_string(),
                    span,
                }
            }
            ItemType::Dot => Operand::Dot(span),
            ItemType::Nil => Operand::Nil(span),
            ItemType::Variable => {
                if !self.vars.iter().any(|v| v == val) {
                    return Err(quoted_error("undefined variable", val, "", span));
                }
                Operand::Variable {
                    name: val.to_string(),
                    fields: Vec::new(),
                    span,
                }
            }
            ItemType::Field => Operand::Field {
                fields: vec![val[1..].to_string()],
                span,
            },
            ItemType::Bool => Operand::Bool {
                value: val == "true",
                span,
            },
            ItemType::CharConstant | ItemType::Complex | ItemType::Number => {
                check_number(val, token.typ).map_err(|m| TemplateError::new(span.clone(), m))?;
                Operand::Number {
                    text: val.to_string(),
                    span,
                }
            }
            ItemType::LeftParen => return self.parenthesized(span).map(Some),
            ItemType::String | ItemType::RawString => Operand::String {
                value: self.unquote_token(&token)?,
                span,
            },
            _ => {
                self.backup();
                return Ok(None);
            }
        };
        Ok(Some(operand))
    }
}

/// `{prefix} "{quoted}"{suffix}`, kept out of the parser's recursive frames.
#[cold]
#[inline(never)]
fn quoted_error(prefix: &str, quoted: &str, suffix: &str, span: Span) -> TemplateError {
    TemplateError::new(span, format!("{prefix} {}{suffix}", go_quote(quoted)))
}

#[cold]
#[inline(never)]
fn too_many_declarations(context: &str, span: Span) -> TemplateError {
    TemplateError::new(span, format!("too many declarations in {context}"))
}

/// Rejects empty pipelines and non-executable stages after the first.
fn check_pipeline(cmds: &[Command], context: &str, span: Span) -> PResult<()> {
    if cmds.is_empty() {
        return Err(TemplateError::new(
            span,
            format!("missing value for {context}"),
        ));
    }
    for (i, cmd) in cmds.iter().enumerate().skip(1) {
        if let Some(
            first @ (Operand::Bool { .. }
            | Operand::Dot(_)
            | Operand::Nil(_)
            | Operand::Number { .. }
            | Operand::String { .. }),
        ) = cmd.args.first()
        {
            return Err(TemplateError::new(
                first.span(),
                format!("non executable command in pipeline stage {}", i + 1),
            ));
        }
    }
    Ok(())
}

/// Go's `IsEmptyTree`: nothing but space.
fn is_empty_tree(nodes: &[Node], text: &str) -> bool {
    nodes.iter().all(|node| match node {
        Node::Text(span) => text.get(span.clone()).unwrap_or("").trim().is_empty(),
        _ => false,
    })
}

// ---------------------------------------------------------------------------
// Literals (Go's strconv and fmt, as far as the parser uses them)
// ---------------------------------------------------------------------------

/// Validates a number token like Go's `Tree.newNumber`.
fn check_number(text: &str, typ: ItemType) -> Result<(), String> {
    match typ {
        ItemType::CharConstant => {
            let (_, tail) = unquote_char(&text[1..], b'\'').ok_or("invalid syntax")?;
            if tail != "'" {
                return Err(format!("malformed character constant: {text}"));
            }
            Ok(())
        }
        ItemType::Complex => check_complex(text),
        _ => {
            // Imaginary constants.
            if let Some(imaginary) = text.strip_suffix('i') {
                if parse_float(imaginary).is_ok() {
                    return Ok(());
                }
            }
            if parse_uint(text).is_some() || parse_int(text).is_some() {
                return Ok(());
            }
            match parse_float(text) {
                // It looks like an integer: one too large to fit in an int.
                Ok(_) if !text.contains(['.', 'e', 'E', 'p', 'P']) => {
                    Err(format!("integer overflow: {}", go_quote(text)))
                }
                Ok(_) => Ok(()),
                Err(_) => Err(format!("illegal number syntax: {}", go_quote(text))),
            }
        }
    }
}

/// Validates a complex constant like `fmt.Sscan` into a `complex128`.
fn check_complex(text: &str) -> Result<(), String> {
    const SYNTAX: &str = "syntax error scanning complex number";
    let b = text.as_bytes();
    let mut pos = 0;
    let real = float_token(b, &mut pos);
    if !matches!(b.get(pos), Some(b'+' | b'-')) {
        return Err(SYNTAX.to_string());
    }
    let imag_start = pos;
    pos += 1;
    float_token(b, &mut pos);
    let imag = imag_start..pos;
    if b.get(pos) != Some(&b'i') {
        return Err(SYNTAX.to_string());
    }
    for part in [real, imag] {
        let s = &text[part];
        if let Err(e) = parse_float(s) {
            let reason = match e {
                FloatError::Syntax => "invalid syntax",
                FloatError::Range => "value out of range",
            };
            return Err(format!(
                "strconv.ParseFloat: parsing {}: {reason}",
                go_quote(s)
            ));
        }
    }
    Ok(())
}

/// fmt's `floatToken`: the longest prefix at `pos` that looks like a float.
fn float_token(b: &[u8], pos: &mut usize) -> Span {
    let start = *pos;
    let accept = |pos: &mut usize, valid: &[u8]| {
        if b.get(*pos).is_some_and(|c| valid.contains(c)) {
            *pos += 1;
            true
        } else {
            false
        }
    };
    if accept(pos, b"nN") && accept(pos, b"aA") && accept(pos, b"nN") {
        return start..*pos;
    }
    accept(pos, b"+-");
    if accept(pos, b"iI") && accept(pos, b"nN") && accept(pos, b"fF") {
        return start..*pos;
    }
    let mut digits: &[u8] = b"0123456789_";
    let mut exponent: &[u8] = b"eEpP";
    if accept(pos, b"0") && accept(pos, b"xX") {
        digits = b"0123456789aAbBcCdDeEfF_";
        exponent = b"pP";
    }
    while accept(pos, digits) {}
    if accept(pos, b".") {
        while accept(pos, digits) {}
    }
    if accept(pos, exponent) {
        accept(pos, b"+-");
        while accept(pos, b"0123456789_") {}
    }
    start..*pos
}

/// Go's `lower` for ASCII letters.
fn lower(b: u8) -> u8 {
    b | 0x20
}

/// Go's `strconv.underscoreOK`: underscores only between digits or between a
/// base prefix and a digit.
fn underscore_ok(s: &str) -> bool {
    let mut b = s.as_bytes();
    if let [b'+' | b'-', rest @ ..] = b {
        b = rest;
    }
    // ^ start, 0 digit or base prefix, _ underscore, ! anything else.
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(lower(b[1]), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = lower(b[1]) == b'x';
    }
    for &c in &b[i..] {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
    }
    saw != b'_'
}

/// `strconv.ParseUint(s, 0, 64)`.
fn parse_uint(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let (base, digits): (u64, &[u8]) = match b {
        [] => return None,
        [b'0', p, _, ..] if lower(*p) == b'b' => (2, &b[2..]),
        [b'0', p, _, ..] if lower(*p) == b'o' => (8, &b[2..]),
        [b'0', p, _, ..] if lower(*p) == b'x' => (16, &b[2..]),
        [b'0', ..] => (8, &b[1..]),
        _ => (10, b),
    };
    let mut n: u64 = 0;
    let mut underscores = false;
    for &c in digits {
        let d = match c {
            b'_' => {
                underscores = true;
                continue;
            }
            b'0'..=b'9' => c - b'0',
            b'a'..=b'z' | b'A'..=b'Z' => lower(c) - b'a' + 10,
            _ => return None,
        };
        if u64::from(d) >= base {
            return None;
        }
        n = n.checked_mul(base)?.checked_add(u64::from(d))?;
    }
    if underscores && !underscore_ok(s) {
        return None;
    }
    Some(n)
}

/// `strconv.ParseInt(s, 0, 64)`.
fn parse_int(s: &str) -> Option<i64> {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let magnitude = parse_uint(digits)?;
    if neg {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FloatError {
    Syntax,
    Range,
}

/// `strconv.ParseFloat(s, 64)` for the syntax the lexer can produce (no
/// `inf`/`nan`).
fn parse_float(s: &str) -> Result<f64, FloatError> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut neg = false;
    if let Some(&sign @ (b'+' | b'-')) = b.first() {
        neg = sign == b'-';
        i = 1;
    }
    let hex = i + 2 < b.len() && b[i] == b'0' && lower(b[i + 1]) == b'x';
    if hex {
        i += 2;
    }
    let mut underscores = false;
    let mut saw_dot = false;
    let mut int_digits = Vec::new();
    let mut frac_digits = Vec::new();
    while let Some(&c) = b.get(i) {
        match c {
            b'_' => underscores = true,
            b'.' if !saw_dot => saw_dot = true,
            c if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) => {
                if saw_dot {
                    frac_digits.push(c);
                } else {
                    int_digits.push(c);
                }
            }
            _ => break,
        }
        i += 1;
    }
    if int_digits.is_empty() && frac_digits.is_empty() {
        return Err(FloatError::Syntax);
    }
    let exp_char = if hex { b'p' } else { b'e' };
    let mut exp: i64 = 0;
    if b.get(i).is_some_and(|&c| lower(c) == exp_char) {
        i += 1;
        let mut sign = 1;
        match b.get(i) {
            Some(b'+') => i += 1,
            Some(b'-') => {
                i += 1;
                sign = -1;
            }
            _ => {}
        }
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return Err(FloatError::Syntax);
        }
        while let Some(&c) = b.get(i) {
            if c == b'_' {
                underscores = true;
            } else if c.is_ascii_digit() {
                if exp < 10000 {
                    exp = exp * 10 + i64::from(c - b'0');
                }
            } else {
                break;
            }
            i += 1;
        }
        exp *= sign;
    } else if hex {
        // A hexadecimal mantissa requires a 'p' exponent.
        return Err(FloatError::Syntax);
    }
    if (underscores && !underscore_ok(&s[..i])) || i != b.len() {
        return Err(FloatError::Syntax);
    }
    let magnitude = if hex {
        hex_float(&int_digits, &frac_digits, exp)
    } else {
        let digits = |d: &[u8]| -> String {
            if d.is_empty() {
                "0".to_string()
            } else {
                String::from_utf8_lossy(d).into_owned()
            }
        };
        format!("{}.{}e{exp}", digits(&int_digits), digits(&frac_digits))
            .parse::<f64>()
            .map_err(|_| FloatError::Syntax)?
    };
    if magnitude.is_infinite() {
        return Err(FloatError::Range);
    }
    Ok(if neg { -magnitude } else { magnitude })
}

/// The value of a hexadecimal float: `0x{int}.{frac}p{exp}`.
fn hex_float(int_digits: &[u8], frac_digits: &[u8], exp: i64) -> f64 {
    let mut mantissa: u64 = 0;
    let mut exp = exp - 4 * frac_digits.len() as i64;
    for &c in int_digits.iter().chain(frac_digits) {
        let d = u64::from(char::from(c).to_digit(16).unwrap_or(0));
        if mantissa >> 60 == 0 {
            mantissa = mantissa << 4 | d;
        } else {
            // Beyond 16 significant digits only the magnitude matters.
            exp += 4;
        }
    }
    ldexp(mantissa as f64, exp)
}

fn ldexp(mut x: f64, exp: i64) -> f64 {
    let mut exp = exp.clamp(-4000, 4000);
    if x == 0.0 {
        return x;
    }
    while exp > 1000 {
        x *= 2f64.powi(1000);
        exp -= 1000;
    }
    while exp < -1000 {
        x *= 2f64.powi(-1000);
        exp += 1000;
    }
    // |exp| <= 1000 here.
    x * 2f64.powi(exp as i32)
}

/// One character or byte of a quoted literal.
enum Unquoted {
    Char(char),
    Byte(u8),
}

/// `strconv.UnquoteChar`: decodes the first character or escape of `s`,
/// returning it and the rest.
fn unquote_char(s: &str, quote: u8) -> Option<(Unquoted, &str)> {
    let c = *s.as_bytes().first()?;
    if c == quote && (quote == b'\'' || quote == b'"') {
        return None;
    }
    if c != b'\\' {
        let ch = s.chars().next()?;
        return Some((Unquoted::Char(ch), &s[ch.len_utf8()..]));
    }
    let esc = *s.as_bytes().get(1)?;
    if !esc.is_ascii() {
        return None;
    }
    let rest = &s[2..];
    let simple = |ch: char| Some((Unquoted::Char(ch), rest));
    match esc {
        b'a' => simple('\u{7}'),
        b'b' => simple('\u{8}'),
        b'f' => simple('\u{c}'),
        b'n' => simple('\n'),
        b'r' => simple('\r'),
        b't' => simple('\t'),
        b'v' => simple('\u{b}'),
        b'\\' => simple('\\'),
        b'\'' | b'"' if esc == quote => simple(char::from(esc)),
        b'x' | b'u' | b'U' => {
            let n = match esc {
                b'x' => 2,
                b'u' => 4,
                _ => 8,
            };
            let hex = rest.get(..n)?;
            if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                return None;
            }
            let v = u32::from_str_radix(hex, 16).ok()?;
            let value = if esc == b'x' {
                Unquoted::Byte(u8::try_from(v).ok()?)
            } else {
                Unquoted::Char(char::from_u32(v)?)
            };
            Some((value, &rest[n..]))
        }
        b'0'..=b'7' => {
            let digits = rest.get(..2)?;
            if !digits.bytes().all(|d| (b'0'..=b'7').contains(&d)) {
                return None;
            }
            let v = u32::from(esc - b'0') << 6 | u32::from_str_radix(digits, 8).ok()?;
            Some((Unquoted::Byte(u8::try_from(v).ok()?), &rest[2..]))
        }
        _ => None,
    }
}

/// `strconv.Unquote` for the double-quoted and raw strings the lexer produces.
fn unquote(s: &str) -> Option<String> {
    if let Some(inner) = s.strip_prefix('`').and_then(|s| s.strip_suffix('`')) {
        if inner.contains('`') {
            return None;
        }
        return Some(inner.replace('\r', ""));
    }
    let mut rest = s.strip_prefix('"')?;
    let mut value = Vec::new();
    while !rest.starts_with('"') {
        if rest.starts_with('\n') {
            return None;
        }
        let (unquoted, tail) = unquote_char(rest, b'"')?;
        match unquoted {
            Unquoted::Char(c) => value.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            Unquoted::Byte(byte) => value.push(byte),
        }
        rest = tail;
    }
    if rest != "\"" {
        return None;
    }
    Some(String::from_utf8_lossy(&value).into_owned())
}

/// Go's `strconv.IsPrint`, approximated outside ASCII.
fn go_is_print(c: char) -> bool {
    if c.is_ascii() {
        return (' '..='~').contains(&c);
    }
    !c.is_control() && !c.is_whitespace()
}

/// Go's `%#U`: `U+0078 'x'`.
fn go_rune(c: char) -> String {
    if go_is_print(c) {
        format!("U+{:04X} '{c}'", u32::from(c))
    } else {
        format!("U+{:04X}", u32::from(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prometheus_parse(text: &str) -> Result<Template, TemplateError> {
        let funcs = FuncSet::prometheus();
        let opts = ParseOptions {
            funcs: &funcs,
            predefined_vars: PROMETHEUS_VARIABLES,
        };
        parse(text, &opts)
    }

    fn parse_ok(text: &str) -> Template {
        match prometheus_parse(text) {
            Ok(template) => template,
            Err(e) => panic!("{text:?}: unexpected error {e:?}"),
        }
    }

    /// Asserts that `text` fails with `message` at exactly `span`.
    #[track_caller]
    fn check_err(text: &str, message: &str, span: Span) {
        match prometheus_parse(text) {
            Ok(_) => panic!("{text:?}: parsed, expected {message:?}"),
            Err(e) => assert_eq!(
                (e.message.as_str(), e.span.clone()),
                (message, span.clone()),
                "{text:?}: got {:?} at {:?}, expected {:?} at {:?}",
                e.message,
                text.get(e.span.clone()),
                message,
                text.get(span),
            ),
        }
    }

    fn refs(text: &str) -> Vec<(RefKind, &str)> {
        parse_ok(text)
            .references()
            .into_iter()
            .map(|r| {
                let spanned = &text[r.span];
                (r.kind, spanned)
            })
            .collect()
    }

    fn label(name: &str) -> RefKind {
        RefKind::Label(name.to_string())
    }

    fn function(name: &str) -> RefKind {
        RefKind::Function(name.to_string())
    }

    fn field(var: Option<&str>, fields: &[&str]) -> RefKind {
        RefKind::Field {
            var: var.map(str::to_string),
            fields: fields.iter().map(|f| f.to_string()).collect(),
        }
    }

    #[test]
    fn real_prometheus_templates_parse() {
        for text in [
            "{{ $value | humanizePercentage }}",
            "{{ $labels.instance }}",
            r#"{{ printf "%.2f" $value }}"#,
            r#"{{ with query "up" }}{{ . | first | value }}{{ end }}"#,
            "{{ range $i, $x := .Alerts }}{{ $x.Labels.severity }}{{ end }}",
            "{{- if gt $value 0.5 -}}hi{{- end -}}",
            r#"{{ index $labels "foo-bar" }}"#,
            "{{/* comment */}}",
            "Instance {{ $labels.instance }} of job {{ $labels.job }} has been down for more than 5 minutes.",
            r#"{{ with printf "node_memory_MemTotal{instance='%s'}" $labels.instance | query }}{{ . | first | value | humanize1024 }}B{{ end }}"#,
            r#"{{ range query "up" }}{{ .Labels.instance }} {{ .Value }}{{ end }}"#,
            "{{ $value | humanizeDuration }} {{ humanizeTimestamp $value }} {{ $externalURL }}",
            r#"{{ if eq $labels.severity "critical" }}P1{{ else if eq $labels.severity "warning" }}P2{{ else }}P3{{ end }}"#,
            r#"{{ define "x" }}{{ . }}{{ end }}{{ template "x" $labels }}"#,
            r#"{{ block "b" . }}body{{ end }}"#,
            "{{ range $labels }}{{ if . }}{{ break }}{{ end }}{{ continue }}{{ end }}",
            "{{ $x := 1 }}{{ $x = 2 }}{{ $x }}",
            r#"{{ (query "up" | first).Labels.instance }}"#,
            "{{\n$labels.instance\n}}",
            "{{ . | }}",
            "{{ 0x1F }} {{ 0o17 }} {{ 017 }} {{ 0b101 }} {{ 1_000 }} {{ 1e3 }} {{ .5 }} {{ -1 }}",
            r"{{ 'a' }} {{ '\n' }} {{ '\'' }} {{ '\x41' }} {{ 1i }} {{ 1+2i }} {{ 0x1p-2 }}",
            r#"{{ "a\tb\"c\u00e9" }} {{ `raw \n` }}"#,
            "{{ 1e-400 }} {{ 1_000.5 }}",
            "",
            "no actions at all",
        ] {
            parse_ok(text);
        }
    }

    #[test]
    fn errors_have_go_messages_and_exact_spans() {
        check_err("{{ foo }}", r#"function "foo" not defined"#, 3..6);
        check_err(
            "{{ $value | foo }}",
            r#"function "foo" not defined"#,
            12..15,
        );
        check_err("{{ x := 1 }}", r#"function "x" not defined"#, 3..4);
        check_err("{{ $foo }}", r#"undefined variable "$foo""#, 3..7);
        check_err("{{ $foo.bar }}", r#"undefined variable "$foo""#, 3..7);
        check_err(
            "{{ if 1 }}{{ $y := 1 }}{{ end }}{{ $y }}",
            r#"undefined variable "$y""#,
            35..37,
        );
        check_err(
            r#"{{ define "a" }}{{ $labels.x }}{{ end }}"#,
            r#"undefined variable "$labels""#,
            19..26,
        );
        check_err("{{ end }}", "unexpected {{end}}", 0..9);
        check_err("{{ $x := 1 }}{{ end }}", "unexpected {{end}}", 13..22);
        check_err("{{ else }}", "unexpected {{else}}", 0..10);
        check_err("{{ else if 1 }}", "unexpected {{else}}", 0..7);
        check_err("x{{ if 1 }}y", "unexpected EOF", 1..11);
        check_err(
            "{{ range . }}{{ if 1 }}{{ else }}",
            "unexpected EOF",
            13..23,
        );
        check_err(r#"{{ define "a" }}"#, "unexpected EOF", 0..16);
        check_err("{{ .x ", "unclosed action", 0..2);
        check_err("{{ 1 }}{{", "unclosed action", 7..9);
        check_err("{{/* x", "unclosed comment", 0..4);
        check_err("{{- /* x", "unclosed comment", 0..6);
        check_err(
            "{{/* x */ }}",
            "comment ends before closing delimiter",
            7..9,
        );
        check_err("{{ 1a }}", r#"bad number syntax: "1a""#, 3..5);
        check_err(
            "{{ 99999999999999999999 }}",
            r#"integer overflow: "99999999999999999999""#,
            3..23,
        );
        check_err("{{ 1e400 }}", r#"illegal number syntax: "1e400""#, 3..8);
        check_err("{{ 0x1.8 }}", r#"illegal number syntax: "0x1.8""#, 3..8);
        check_err("{{ 1i+2i }}", "syntax error scanning complex number", 3..8);
        check_err(r#"{{ "abc }}"#, "unterminated quoted string", 3..10);
        check_err("{{ \"abc\n\" }}", "unterminated quoted string", 3..7);
        check_err("{{ `abc }}", "unterminated raw quoted string", 3..4);
        check_err("{{ 'a }}", "unterminated character constant", 3..8);
        check_err("{{ 'ab' }}", "malformed character constant: 'ab'", 3..7);
        check_err(r#"{{ "\q" }}"#, "invalid syntax", 3..7);
        check_err(r#"{{ "\é" }}"#, "invalid syntax", 3..8);
        check_err(r"{{ '\€' }}", "invalid syntax", 3..9);
        check_err(r#"{{ template "\q" }}"#, "invalid syntax", 12..16);
        check_err("{{ nil }}", "nil is not a command", 3..6);
        check_err("{{ $x := nil }}", "nil is not a command", 9..12);
        check_err("{{}}", "missing value for command", 0..4);
        check_err("{{-  -}}", "missing value for command", 0..8);
        // After "{{- " the rest, "-}}", is not a trim marker: Go lexes a number.
        check_err("{{- -}}", r#"illegal number syntax: "-""#, 4..5);
        check_err("{{ $x = }}", "missing value for command", 0..10);
        check_err("{{ if }}{{ end }}", "missing value for if", 0..8);
        check_err("{{ () }}", "missing value for parenthesized pipeline", 3..5);
        check_err("{{ break }}", "{{break}} outside {{range}}", 0..11);
        check_err(
            "{{ range . }}{{ else }}{{ continue }}{{ end }}",
            "{{continue}} outside {{range}}",
            23..37,
        );
        check_err(
            r#"{{ range . }}{{ block "a" . }}{{ break }}{{ end }}{{ end }}"#,
            "{{break}} outside {{range}}",
            30..41,
        );
        check_err(
            "{{ range . }}{{ break 1 }}{{ end }}",
            r#"unexpected "1" in {{break}}"#,
            22..23,
        );
        check_err("{{ (1 }}", "unclosed left paren", 3..4);
        check_err("{{ 1) }}", "unexpected right paren", 4..5);
        check_err(
            "{{ . | 1 }}",
            "non executable command in pipeline stage 2",
            7..8,
        );
        check_err("{{ true.x }}", r#"unexpected . after term "true""#, 7..9);
        check_err(r#"{{ "x".y }}"#, r#"unexpected . after term "\"x\"""#, 6..8);
        check_err(
            "{{ if 1 }}{{ else }}{{ else }}{{ end }}",
            "expected end; found {{else}}",
            20..30,
        );
        check_err(
            r#"{{ define "a" }}{{ else }}{{ end }}"#,
            "unexpected {{else}} in define clause",
            16..26,
        );
        check_err(
            r#"{{ block "a" . }}{{ else }}{{ end }}"#,
            "unexpected {{else}} in block clause",
            17..27,
        );
        check_err(
            r#"{{ define "a" }}x{{ end }}{{ define "a" }}y{{ end }}"#,
            r#"template: multiple definition of template "a""#,
            36..39,
        );
        check_err(
            r#"{{ if 1 }}{{ define "a" }}{{ end }}{{ end }}"#,
            "unexpected <define> in command",
            13..19,
        );
        check_err(
            "{{ define a }}{{ end }}",
            r#"unexpected "a" in define clause"#,
            10..11,
        );
        check_err(
            "{{ template a }}",
            r#"unexpected "a" in template clause"#,
            12..13,
        );
        check_err("{{ if 1 }}{{ end x }}", r#"unexpected "x" in end"#, 17..18);
        check_err(
            "{{ range $i, $j, $k := . }}{{ end }}",
            "too many declarations in range",
            15..16,
        );
        check_err(
            "{{ with $a, $b := . }}{{ end }}",
            "too many declarations in with",
            10..11,
        );
        check_err(
            "{{ range $i, 1 }}{{ end }}",
            "range can only initialize variables",
            13..14,
        );
        check_err("{{ : }}", "expected :=", 3..4);
        check_err("{{ @ }}", r#"unexpected "@" in command"#, 3..4);
        check_err(
            r#"{{ printf "%s" | | }}"#,
            r#"unexpected "|" in command"#,
            17..18,
        );
        check_err(r#"{{ "a" = }}"#, r#"unexpected "=" in operand"#, 7..8);
        check_err(
            r#"{{ 1"abcdefghijklmnop" }}"#,
            r#"unexpected "\"abcdefghi"... in operand"#,
            4..22,
        );
        check_err("{{ .Foo# }}", "bad character U+0023 '#'", 7..8);
        check_err("{{ .x}", "bad character U+007D '}'", 5..6);
        check_err("{{ .x }", r#"unexpected "}" in operand"#, 6..7);
        check_err(
            "{{ € }}",
            "unrecognized character in action: U+20AC '€'",
            3..6,
        );
    }

    #[test]
    fn error_order_follows_go() {
        // The lexer only runs as far as the parser reads: the first error in
        // reading order wins, and nothing after it is lexed.
        check_err(r#"{{ end }}{{ "unterminated"#, "unexpected {{end}}", 0..9);
        check_err("{{ foo }}{{ 1a }}", r#"function "foo" not defined"#, 3..6);
        check_err("{{ 1a }}{{ foo }}", r#"bad number syntax: "1a""#, 3..5);
        // Parse errors win over the nil check, which runs after parsing.
        check_err(
            "{{ nil }}{{ foo }}",
            r#"function "foo" not defined"#,
            12..15,
        );
        check_err("{{ 1 }}{{ nil }}{{ nil }}", "nil is not a command", 10..13);
    }

    #[test]
    fn variables_are_scoped_like_go() {
        // Declared in an if body: visible until the if's {{end}}, including
        // its else branch.
        parse_ok("{{ if 1 }}{{ $x := 1 }}{{ else }}{{ $x }}{{ end }}");
        // Assignment does not require a declaration at parse time.
        parse_ok("{{ $undeclared = 1 }}");
        // A declaration is visible in its own pipeline.
        parse_ok("{{ $x := $x }}");
        check_err(
            "{{ with $z := 1 }}{{ end }}{{ $z }}",
            r#"undefined variable "$z""#,
            30..32,
        );
        check_err(
            "{{ range $i, $e := . }}{{ end }}{{ $e }}",
            r#"undefined variable "$e""#,
            35..37,
        );
        // Only $ is defined in define/block bodies.
        parse_ok(r#"{{ define "a" }}{{ $ }}{{ $.Labels }}{{ end }}"#);
        check_err(
            r#"{{ $x := 1 }}{{ block "b" . }}{{ $x }}{{ end }}"#,
            r#"undefined variable "$x""#,
            33..35,
        );
    }

    #[test]
    fn predefined_variables_come_from_options() {
        let funcs = FuncSet::go_builtins();
        let opts = ParseOptions {
            funcs: &funcs,
            predefined_vars: &[],
        };
        assert_eq!(
            parse("{{ $labels }}", &opts).unwrap_err().message,
            r#"undefined variable "$labels""#
        );
        assert!(parse("{{ $ }}", &opts).is_ok());
        let opts = ParseOptions {
            funcs: &funcs,
            predefined_vars: &["$custom"],
        };
        assert!(parse("{{ $custom.X }}", &opts).is_ok());
    }

    #[test]
    fn function_sets() {
        let builtins = FuncSet::go_builtins();
        for name in GO_BUILTIN_FUNCS {
            assert!(builtins.contains(name));
        }
        assert!(!builtins.contains("humanize"));
        let prometheus = FuncSet::prometheus();
        assert!(prometheus.contains("humanizePercentage") && prometheus.contains("printf"));
        assert!(!prometheus.contains("safeUrl"));
        let alertmanager = FuncSet::alertmanager();
        assert!(alertmanager.contains("safeUrl") && alertmanager.contains("index"));
        assert!(!alertmanager.contains("query"));
        let opts = ParseOptions {
            funcs: &alertmanager,
            predefined_vars: &[],
        };
        let template = parse(
            r#"{{ range .Alerts.Firing }}{{ .Labels.alertname | toUpper }}{{ end }}{{ .CommonLabels.job | safeUrl }}"#,
            &opts,
        )
        .unwrap();
        assert_eq!(template.references().len(), 5);
        assert!(parse("{{ query \"up\" }}", &opts).is_err());

        let mut custom: FuncSet = ["a", "b"].into_iter().collect();
        assert!(custom.insert("c"));
        assert!(!custom.insert("a"));
        assert_eq!(custom.iter().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert!(FuncSet::new().iter().next().is_none());
    }

    #[test]
    fn break_and_continue_are_functions_when_defined() {
        // Like Go, the keywords are disabled when functions of that name exist.
        let mut funcs = FuncSet::go_builtins();
        funcs.insert("break");
        let opts = ParseOptions {
            funcs: &funcs,
            predefined_vars: &[],
        };
        let template = parse("{{ break }}", &opts).unwrap();
        assert!(matches!(&template.root[0], Node::Action(_)));
        assert_eq!(
            parse("{{ continue }}", &opts).unwrap_err().message,
            "{{continue}} outside {{range}}"
        );
    }

    #[test]
    fn references_in_source_order() {
        assert_eq!(
            refs("{{ $value | humanizePercentage }}"),
            [
                (RefKind::Value, "$value"),
                (function("humanizePercentage"), "humanizePercentage")
            ]
        );
        assert_eq!(
            refs("{{ $labels.instance }}"),
            [(label("instance"), "$labels.instance")]
        );
        assert_eq!(
            refs(r#"{{ printf "%.2f" $value }}"#),
            [(function("printf"), "printf"), (RefKind::Value, "$value")]
        );
        assert_eq!(
            refs(r#"{{ with query "up" }}{{ . | first | value }}{{ end }}"#),
            [
                (function("query"), "query"),
                (field(None, &[]), "."),
                (function("first"), "first"),
                (function("value"), "value"),
            ]
        );
        assert_eq!(
            refs("{{ range $i, $x := .Alerts }}{{ $x.Labels.severity }}{{ end }}"),
            [
                (field(None, &["Alerts"]), ".Alerts"),
                (
                    field(Some("$x"), &["Labels", "severity"]),
                    "$x.Labels.severity"
                ),
            ]
        );
        assert_eq!(
            refs(r#"{{ index $labels "foo-bar" }}"#),
            [
                (label("foo-bar"), r#"index $labels "foo-bar""#),
                (function("index"), "index"),
            ]
        );
        assert_eq!(
            refs(
                r#"{{ index .Labels "a" }}{{ index $.Labels "b" }}{{ index $externalLabels "c" }}"#
            ),
            [
                (label("a"), r#"index .Labels "a""#),
                (function("index"), "index"),
                (label("b"), r#"index $.Labels "b""#),
                (function("index"), "index"),
                (
                    RefKind::ExternalLabel("c".into()),
                    r#"index $externalLabels "c""#
                ),
                (function("index"), "index"),
            ]
        );
        assert_eq!(
            refs("{{ .Value }}{{ .ExternalLabels.cluster }}{{ $externalLabels.dc }}{{ $externalURL }}"),
            [
                (RefKind::Value, ".Value"),
                (RefKind::ExternalLabel("cluster".into()), ".ExternalLabels.cluster"),
                (RefKind::ExternalLabel("dc".into()), "$externalLabels.dc"),
                (field(Some("$externalURL"), &[]), "$externalURL"),
            ]
        );
        assert_eq!(refs("{{/* comment */}}"), []);
    }

    #[test]
    fn dot_is_the_alert_only_at_top_level() {
        assert_eq!(
            refs("{{ .Labels.a }}{{ range . }}{{ .Labels.b }}{{ $.Labels.c }}{{ .Value }}{{ end }}{{ with . }}{{ else }}{{ .Labels.d }}{{ end }}"),
            [
                (label("a"), ".Labels.a"),
                (field(None, &[]), "."),
                (field(None, &["Labels", "b"]), ".Labels.b"),
                (label("c"), "$.Labels.c"),
                (field(None, &["Value"]), ".Value"),
                (field(None, &[]), "."),
                (label("d"), ".Labels.d"),
            ]
        );
        // `if` keeps dot.
        assert_eq!(
            refs("{{ if 1 }}{{ .Labels.a }}{{ end }}"),
            [(label("a"), ".Labels.a")]
        );
        // In definitions dot and $ are whatever the caller passes.
        assert_eq!(
            refs(
                r#"{{ define "d" }}{{ .Labels.a }}{{ $.Labels.b }}{{ end }}{{ template "d" .Labels }}"#
            ),
            [
                (field(None, &["Labels", "a"]), ".Labels.a"),
                (field(Some("$"), &["Labels", "b"]), "$.Labels.b"),
                (field(None, &["Labels"]), ".Labels"),
            ]
        );
        // $labels is always the alert's labels.
        assert_eq!(
            refs("{{ range . }}{{ $labels.x }}{{ end }}"),
            [(field(None, &[]), "."), (label("x"), "$labels.x")]
        );
        // Fields of parenthesised pipelines are not reported, their insides are.
        assert_eq!(
            refs(r#"{{ (query "up" | first).Labels.job }}"#),
            [(function("query"), "query"), (function("first"), "first")]
        );
    }

    #[test]
    fn syntax_tree_shape_and_spans() {
        let text = "a  {{- 1 -}}  b";
        let template = parse_ok(text);
        assert_eq!(template.root.len(), 3);
        assert_eq!(template.root[0], Node::Text(0..1));
        assert_eq!(template.root[1].span(), 3..12);
        assert_eq!(template.root[2], Node::Text(14..15));

        let text = "{{ if 1 }}a{{ else if 2 }}b{{ else }}c{{ end }}";
        let template = parse_ok(text);
        let [Node::If(outer)] = template.root.as_slice() else {
            panic!("{:?}", template.root)
        };
        assert_eq!(outer.span, 0..text.len());
        assert_eq!(outer.list, [Node::Text(10..11)]);
        let Some([Node::If(inner)]) = outer.else_list.as_deref() else {
            panic!("{:?}", outer.else_list)
        };
        assert_eq!(
            &text[inner.span.clone()],
            "{{ else if 2 }}b{{ else }}c{{ end }}"
        );
        assert_eq!(inner.else_list.as_deref(), Some(&[Node::Text(37..38)][..]));

        let template = parse_ok("{{ range $i, $e := . }}{{ $e = 1 }}{{ end }}");
        let [Node::Range(range)] = template.root.as_slice() else {
            panic!()
        };
        let names: Vec<_> = range.pipe.decl.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["$i", "$e"]);
        assert_eq!(range.pipe.decl[1].span, 13..15);
        assert!(!range.pipe.is_assign);
        let [Node::Action(assign)] = range.list.as_slice() else {
            panic!()
        };
        assert!(assign.pipe.is_assign);

        let text = r#"{{ printf "%s\t" $labels.a | toUpper }}"#;
        let template = parse_ok(text);
        let [Node::Action(action)] = template.root.as_slice() else {
            panic!()
        };
        assert_eq!(
            &text[action.pipe.span.clone()],
            r#"printf "%s\t" $labels.a | toUpper"#
        );
        assert_eq!(action.pipe.cmds.len(), 2);
        assert_eq!(
            action.pipe.cmds[0].args,
            [
                Operand::Identifier {
                    name: "printf".into(),
                    span: 3..9
                },
                Operand::String {
                    value: "%s\t".into(),
                    span: 10..16
                },
                Operand::Variable {
                    name: "$labels".into(),
                    fields: vec!["a".into()],
                    span: 17..26
                },
            ]
        );

        let text = r#"{{ define "a" }}x{{ end }}{{ block "b" . }}y{{ end }}{{ template "a" }}"#;
        let template = parse_ok(text);
        let kinds: Vec<_> = template
            .definitions
            .iter()
            .map(|d| (d.kind, d.name.as_str(), &text[d.span.clone()]))
            .collect();
        assert_eq!(
            kinds,
            [
                (DefinitionKind::Define, "a", r#"{{ define "a" }}x{{ end }}"#),
                (DefinitionKind::Block, "b", r#"{{ block "b" . }}y{{ end }}"#),
            ]
        );
        let [Node::Template(block), Node::Template(call)] = template.root.as_slice() else {
            panic!("{:?}", template.root)
        };
        assert_eq!((block.name.as_str(), block.pipe.is_some()), ("b", true));
        assert_eq!((call.name.as_str(), call.pipe.is_none()), ("a", true));
        assert_eq!(&text[call.name_span.clone()], r#""a""#);

        // An empty definition neither conflicts with nor replaces another.
        let template = parse_ok(r#"{{ define "a" }}x{{ end }}{{ define "a" }} {{ end }}"#);
        assert_eq!(template.definitions[0].body, [Node::Text(16..17)]);
        // Comments vanish; trim markers on comments trim.
        assert_eq!(parse_ok("{{/* c */}}").root, []);
        assert_eq!(
            parse_ok("a {{- /* c */ -}} b").root,
            [Node::Text(0..1), Node::Text(18..19)]
        );
    }

    #[test]
    fn operands() {
        let text = r#"{{ printf "%v %v %v %v %v" 0x1F 'a' `r\n` true (1).X }}"#;
        let template = parse_ok(text);
        let [Node::Action(action)] = template.root.as_slice() else {
            panic!()
        };
        let args = &action.pipe.cmds[0].args;
        assert_eq!(
            args[2],
            Operand::Number {
                text: "0x1F".into(),
                span: 27..31
            }
        );
        assert!(matches!(&args[3], Operand::Number { text, .. } if text == "'a'"));
        assert!(matches!(&args[4], Operand::String { value, .. } if value == r"r\n"));
        assert!(matches!(args[5], Operand::Bool { value: true, .. }));
        let Operand::Chain { base, fields, span } = &args[6] else {
            panic!("{:?}", args[6])
        };
        assert!(matches!(**base, Operand::Pipeline { .. }));
        assert_eq!(
            (fields.as_slice(), &text[span.clone()]),
            (&["X".to_string()][..], "(1).X")
        );
    }

    #[test]
    fn go_number_syntax() {
        for ok in [
            "0",
            "-0",
            "+1",
            "017",
            "0o17",
            "0O17",
            "0b101",
            "0x1f",
            "0X_1F",
            "1_000",
            "1.5",
            ".5",
            "1.",
            "1e3",
            "1E+3",
            "1e-400",
            "0x1p-2",
            "0x1.8P3",
            "1_000.5",
            "089.5",
            "1i",
            "0.i",
            "18446744073709551615",
            "-9223372036854775808",
        ] {
            assert_eq!(check_number(ok, ItemType::Number), Ok(()), "{ok}");
        }
        for (bad, message) in [
            (
                "99999999999999999999",
                r#"integer overflow: "99999999999999999999""#,
            ),
            ("089", r#"integer overflow: "089""#),
            ("1e400", r#"illegal number syntax: "1e400""#),
            ("0x1.8", r#"illegal number syntax: "0x1.8""#),
            ("1__0", r#"illegal number syntax: "1__0""#),
            ("1_", r#"illegal number syntax: "1_""#),
            ("0x", r#"illegal number syntax: "0x""#),
            ("1e", r#"illegal number syntax: "1e""#),
            ("+", r#"illegal number syntax: "+""#),
            ("0x1p99999", r#"illegal number syntax: "0x1p99999""#),
        ] {
            assert_eq!(
                check_number(bad, ItemType::Number),
                Err(message.to_string()),
                "{bad}"
            );
        }
        assert_eq!(check_number("1+2i", ItemType::Complex), Ok(()));
        assert_eq!(check_number("0x1p2-1e3i", ItemType::Complex), Ok(()));
        assert!(check_number("1+i", ItemType::Complex).is_err());
        assert!(check_number("1e400+1i", ItemType::Complex).is_err());
        assert_eq!(check_number(r"'\''", ItemType::CharConstant), Ok(()));
        assert_eq!(check_number(r"'\u00e9'", ItemType::CharConstant), Ok(()));
        assert_eq!(check_number("'é'", ItemType::CharConstant), Ok(()));
        assert_eq!(
            check_number("''", ItemType::CharConstant),
            Err("invalid syntax".into())
        );
        assert_eq!(
            check_number(r#"'\"'"#, ItemType::CharConstant),
            Err("invalid syntax".into())
        );
        assert_eq!(
            check_number(r"'\400'", ItemType::CharConstant),
            Err("invalid syntax".into())
        );
    }

    #[test]
    fn go_string_syntax() {
        assert_eq!(
            unquote(r#""a\tb\"\\\x41\101\u00e9\U0001F600""#).as_deref(),
            Some("a\tb\"\\AAé😀")
        );
        assert_eq!(unquote("`a\r\nb`").as_deref(), Some("a\nb"));
        for bad in [
            r#""\é""#,
            r#""\q""#,
            r#""\x4""#,
            r#""\'""#,
            r#""\uD800""#,
            r#""\400""#,
            r#""\U00110000""#,
        ] {
            assert_eq!(unquote(bad), None, "{bad}");
        }
        assert_eq!(go_quote("a\"b\\\n\u{1}é\u{a0}"), r#""a\"b\\\n\x01é\u00a0""#);
        assert_eq!(go_rune('#'), "U+0023 '#'");
        assert_eq!(go_rune('\u{0}'), "U+0000");
    }

    #[test]
    fn nesting_is_limited_without_overflowing_the_stack() {
        // Run where the stack is small to prove the limit is low enough even
        // in debug builds.
        let handle = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(|| {
                let deep = MAX_NESTING_DEPTH - 1;
                let ifs = format!("{}{}", "{{ if 1 }}".repeat(deep), "{{ end }}".repeat(deep));
                assert!(prometheus_parse(&ifs).is_ok());
                let mixed = format!(
                    "{}{}",
                    "{{ range . }}{{ with (1) }}".repeat(deep / 2),
                    "{{ end }}{{ end }}".repeat(deep / 2)
                );
                assert!(!parse_ok(&mixed).references().is_empty());
                let parens = format!("{{{{ {}1{} }}}}", "(".repeat(deep), ")".repeat(deep));
                assert!(prometheus_parse(&parens).is_ok());

                let ifs = "{{ if 1 }}".repeat(100_000);
                let err = prometheus_parse(&ifs).unwrap_err();
                assert_eq!(err.message, "max nesting depth exceeded");
                let else_ifs = format!("{{{{ if 1 }}}}{}", "{{ else if 1 }}".repeat(100_000));
                assert_eq!(
                    prometheus_parse(&else_ifs).unwrap_err().message,
                    "max nesting depth exceeded"
                );
                let parens = format!("{{{{ {} }}}}", "(".repeat(100_000));
                let err = prometheus_parse(&parens).unwrap_err();
                assert_eq!(err.message, "max expression depth exceeded");
                assert_eq!(err.span.len(), 1);
                // Long flat sequences cost no stack.
                assert!(prometheus_parse(&"{{/* c */}}".repeat(100_000)).is_ok());
                assert!(prometheus_parse(&"{{ 1 }}x".repeat(100_000)).is_ok());
            })
            .unwrap();
        handle.join().unwrap();
    }

    /// A deterministic xorshift generator.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn random_input_never_panics() {
        const PIECES: &[&str] = &[
            "{{", "}}", "{{- ", " -}}", "{{-", "-}}", "(", ")", "|", "$", "$x", "$labels", ".",
            ".A", ".Labels", "\"", "'", "`", " ", "\n", "\t", "\r", "-", "+", "end", "if", "else",
            "range", "with", "define", "block", "template", "break", "continue", "nil", "true",
            ":=", "=", ":", ",", "0", "1", "0x", "0b", "e", "i", "p", "_", "/*", "*/", "\\", "é",
            "€", "😀", "\u{0}", "printf", "index", "x", "#", "\"a\"", "\"\\é\"", "'\\€'", "\\x",
            "\\u", "\\U", "\\0",
        ];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for round in 0..30_000 {
            let text = if round % 3 == 0 {
                let bytes: Vec<u8> = (0..rng.below(40)).map(|_| rng.next() as u8).collect();
                String::from_utf8_lossy(&bytes).into_owned()
            } else {
                (0..rng.below(25))
                    .map(|_| PIECES[rng.below(PIECES.len())])
                    .collect()
            };
            match prometheus_parse(&text) {
                Ok(template) => {
                    for r in template.references() {
                        assert!(text.get(r.span.clone()).is_some(), "{text:?}: {r:?}");
                    }
                }
                Err(e) => {
                    assert!(!e.message.is_empty(), "{text:?}");
                    assert!(text.get(e.span.clone()).is_some(), "{text:?}: {e:?}");
                }
            }
        }
    }

    /// Verdicts of `promtool check rules` (Prometheus 2.42, Go 1.19) for alert
    /// annotations holding these templates, with FuncSet::prometheus() and
    /// PROMETHEUS_VARIABLES. Entries with a comment deliberately differ.
    #[test]
    fn agrees_with_promtool() {
        const CASES: &[(&str, bool)] = &[
            ("{{ $value | humanizePercentage }}", true),
            ("{{ $labels.instance }}", true),
            ("{{ printf \"%.2f\" $value }}", true),
            ("{{ with query \"up\" }}{{ . | first | value }}{{ end }}", true),
            ("{{ range $i, $x := .Alerts }}{{ $x.Labels.severity }}{{ end }}", true),
            ("{{- if gt $value 0.5 -}}hi{{- end -}}", true),
            ("{{ index $labels \"foo-bar\" }}", true),
            ("{{/* comment */}}", true),
            ("{{- /* comment */ -}}", true),
            ("a {{- /* c */}} b", true),
            ("{{/* multi\nline */}}x", true),
            ("Instance {{ $labels.instance }} of job {{ $labels.job }} down", true),
            ("{{ $value | humanize }}B/s", true),
            ("{{ $value | humanize1024 }}", true),
            ("{{ $value | humanizeDuration }}", true),
            ("{{ humanizeTimestamp $value }}", true),
            ("{{ .Labels.instance }} {{ .Value }}", true),
            ("{{ $externalLabels.cluster }} {{ $externalURL }}", true),
            ("{{ .ExternalLabels.cluster }} {{ .ExternalURL }}", true),
            ("{{ range query \"up\" }}{{ .Labels.instance }} {{ .Value }}{{ end }}", true),
            ("{{ with printf \"node_memory{instance='%s'}\" $labels.instance | query }}{{ . | first | value | humanize1024 }}{{ end }}", true),
            ("{{ template \"x\" . }}", true),
            ("{{ template \"x\" }}", true),
            ("{{ define \"x\" }}hello{{ end }}", true),
            ("{{ define \"x\" }}{{ . }}{{ end }}{{ template \"x\" $labels }}", true),
            ("{{ block \"b\" . }}body{{ end }}", true),
            ("{{ if eq $labels.severity \"critical\" }}crit{{ else if eq $labels.severity \"warning\" }}warn{{ else }}other{{ end }}", true),
            ("{{ if $value }}a{{ else }}b{{ end }}", true),
            ("{{ range $labels }}{{ . }}{{ else }}none{{ end }}", true),
            ("{{ range $k, $v := $labels }}{{ $k }}={{ $v }} {{ end }}", true),
            ("{{ range $v := $labels }}{{ $v }}{{ end }}", true),
            ("{{ range $labels }}{{ if . }}{{ break }}{{ end }}{{ continue }}{{ end }}", true),
            ("{{ with $labels.instance }}{{ . }}{{ end }}", true),
            ("{{ with $labels.instance }}{{ . }}{{ else }}none{{ end }}", true),
            ("{{ $x := 1 }}{{ $x = 2 }}{{ $x }}", true),
            ("{{ $x := $labels.instance }}{{ $x }}", true),
            ("{{ if true }}{{ $y := 1 }}{{ $y }}{{ end }}", true),
            ("{{ (query \"up\" | first).Labels.instance }}", true),
            ("{{ (printf \"%s\" \"a\") }}", true),
            ("{{ printf \"%s\" (printf \"%d\" 1) }}", true),
            ("{{ 0x1F }} {{ 0X1f }} {{ 0o17 }} {{ 017 }} {{ 0b101 }} {{ 1_000 }} {{ 0x_1F }}", true),
            ("{{ 1e3 }} {{ 1.5 }} {{ .5 }} {{ 1. }} {{ -1 }} {{ +1 }} {{ 1E-3 }} {{ 0x1p-2 }} {{ 0x1.8P3 }}", true),
            ("{{ 'a' }} {{ '\\n' }} {{ '\\'' }} {{ '\\x41' }} {{ '\\u00e9' }} {{ '\\101' }} {{ 'é' }}", true),
            ("{{ 1i }} {{ 1+2i }} {{ 1.5-2.5i }} {{ 0i }}", true),
            ("{{ \"a\\tb\\n\\\"q\\\"\" }} {{ \"\\u00e9\\U0001F600\\x41\\101\" }}", true),
            ("{{ `raw \\n string` }}", true),
            ("{{ `multi\nline raw` }}", true),
            ("{{ true }} {{ false }}", true),
            ("{{ . }}", true),
            ("{{ $ }}", true),
            ("{{ $.Labels.x }}", true),
            ("{{ .Labels.x }}", true),
            ("{{ . | printf \"%v\" }}", true),
            ("{{ . | }}", true),
            ("{{ and 1 2 }}{{ or 1 2 }}{{ not 1 }}{{ len \"a\" }}{{ index $labels \"a\" }}{{ slice \"abc\" 1 }}", true),
            ("{{ html \"<\" }}{{ js \"x\" }}{{ urlquery \"x\" }}{{ print 1 }}{{ println 1 }}", true),
            ("{{ eq 1 1 }}{{ ne 1 2 }}{{ lt 1 2 }}{{ le 1 2 }}{{ gt 2 1 }}{{ ge 2 1 }}", true),
            ("{{ match \"a\" \"b\" }}{{ reReplaceAll \"a\" \"b\" \"c\" }}{{ title \"x\" }}{{ toUpper \"x\" }}{{ toLower \"X\" }}", true),
            ("{{ graphLink \"up\" }}{{ tableLink \"up\" }}{{ safeHtml \"x\" }}{{ args 1 2 }}", true),
            ("{{ query \"up\" | sortByLabel \"instance\" }}", true),
            ("{{ label \"x\" (query \"up\" | first) }}{{ strvalue (query \"up\" | first) }}", true),
            ("{{ stripPort \"a:1\" }}", true),
            ("{{ pathPrefix }}{{ externalURL }}", true),
            ("{{ toTime 1 }}", true),
            ("{{ parseDuration \"1h\" }}", true),
            ("{{\n$labels.instance\n}}", true),
            ("{{ if\n1\n}}x{{ end }}", true),
            ("{{-\n1\n-}}", true),
            ("{{- 1 -}}", true),
            ("a  {{- 1 -}}  b", true),
            ("{{ 1 }}{{ 2 }}", true),
            ("plain text only", true),
            ("", true),
            ("{{ $x := 1 }}{{ if $x }}{{ $x := 2 }}{{ end }}{{ $x }}", true),
            ("{{ $labels.a }}{{ $labels.b_c }}{{ $labels.__name__ }}", true),
            ("{{ if and (gt $value 1.0) (lt $value 5.0) }}mid{{ end }}", true),
            ("{{ range $i, $e := . }}{{ end }}", true),
            ("{{ range . }}{{ break }}{{ end }}", true),
            ("{{ with $x := 1 }}{{ $x }}{{ end }}", true),
            ("{{ $x := 1 }}{{ with $x }}{{ end }}", true),
            ("{{ 1 | printf \"%d\" }}", true),
            ("{{ ( 1 ) }}", true),
            ("{{ (1) }}", true),
            ("{{ define \"a\" }} {{ end }}{{ define \"a\" }}x{{ end }}", true),
            ("{{ define \"a\" }}x{{ end }}{{ define \"a\" }} {{ end }}", true),
            ("{{ $labels.instance | toUpper | printf \"%s!\" }}", true),
            ("{{ if not (eq $labels.job \"x\") }}y{{ end }}", true),
            ("{{ 1_000.5 }}", true),
            ("{{ 089.5 }}", true),
            ("{{ 1e-400 }}", true),
            ("{{ 0X1P+2 }}", true),
            ("{{ 0.i }}", true),
            ("{{ foo }}", false),
            ("{{ $value | foo }}", false),
            ("{{ $foo }}", false),
            ("{{ $foo.bar }}", false),
            ("{{ end }}", false),
            ("{{ else }}", false),
            ("{{ if 1 }}", false),
            ("{{ if 1 }}{{ else }}", false),
            ("{{ range . }}", false),
            ("{{ with . }}", false),
            ("{{ define \"a\" }}", false),
            ("{{ if 1 }}{{ end }}{{ end }}", false),
            ("{{ .x", false),
            ("{{ .x }", false),
            ("{{ .x } }}", false),
            ("{{", false),
            ("{{ 1 }}{{", false),
            ("{{/* x", false),
            ("{{/* x */ }}", false),
            ("{{/* x */x}}", false),
            ("{{ /* x */ }}", false),
            ("{{ 1a }}", false),
            ("{{ 0x }}", false),
            ("{{ 1e }}", false),
            ("{{ 0x1.8 }}", false),
            ("{{ 1__0 }}", false),
            ("{{ 1_ }}", false),
            ("{{ _1 }}", false),
            ("{{ 99999999999999999999 }}", false),
            ("{{ 089 }}", false),
            ("{{ 1e400 }}", false),
            ("{{ 0o8 }}", false),
            ("{{ 0b2 }}", false),
            ("{{ 1+i }}", false),
            ("{{ 1i+2i }}", false),
            ("{{ - }}", false),
            ("{{ + }}", false),
            ("{{ \"abc }}", false),
            ("{{ \"abc\n\" }}", false),
            ("{{ `abc }}", false),
            ("{{ 'a }}", false),
            ("{{ 'ab' }}", false),
            ("{{ '' }}", false),
            ("{{ \"\\q\" }}", false),
            ("{{ \"\\x4\" }}", false),
            ("{{ \"\\400\" }}", false),
            ("{{ \"\\'\" }}", false),
            ("{{ '\\\"' }}", false),
            ("{{ \"\\uD800\" }}", false),
            ("{{}}", false),
            ("{{ }}", false),
            ("{{- -}}", false),
            ("{{ if }}{{ end }}", false),
            ("{{ range }}{{ end }}", false),
            ("{{ break }}", false),
            ("{{ continue }}", false),
            ("{{ if 1 }}{{ break }}{{ end }}", false),
            ("{{ range . }}{{ else }}{{ break }}{{ end }}", false),
            ("{{ range . }}{{ break 1 }}{{ end }}", false),
            ("{{ (1 }}", false),
            ("{{ 1) }}", false),
            ("{{ () }}", false),
            ("{{ ((1) }}", false),
            ("{{ . | 1 }}", false),
            ("{{ . | \"x\" }}", false),
            ("{{ . | . }}", false),
            ("{{ . | true }}", false),
            ("{{ true.x }}", false),
            ("{{ \"x\".y }}", false),
            ("{{ 1 .x }}", true),
            ("{{ ..x }}", false),
            ("{{ nil.x }}", false),
            ("{{ if 1 }}{{ else }}{{ else }}{{ end }}", false),
            ("{{ define \"a\" }}{{ else }}{{ end }}", false),
            ("{{ block \"a\" . }}{{ else }}{{ end }}", false),
            ("{{ define \"a\" }}{{ $labels.x }}{{ end }}", false),
            ("{{ block \"a\" . }}{{ $labels.x }}{{ end }}", false),
            ("{{ range . }}{{ block \"a\" . }}{{ break }}{{ end }}{{ end }}", false),
            ("{{ define \"a\" }}x{{ end }}{{ define \"a\" }}y{{ end }}", false),
            ("{{ block \"a\" . }}x{{ end }}{{ define \"a\" }}y{{ end }}", false),
            ("{{ if 1 }}{{ define \"a\" }}{{ end }}{{ end }}", false),
            ("{{ define a }}{{ end }}", false),
            ("{{ define \"a\" . }}{{ end }}", false),
            ("{{ template a }}", false),
            ("{{ template }}", false),
            ("{{ block \"a\" }}{{ end }}", false),
            ("{{ range $i, $j, $k := . }}{{ end }}", false),
            ("{{ range $i, 1 }}{{ end }}", false),
            ("{{ with $a, $b := . }}{{ end }}", false),
            ("{{ $a, $b := 1 }}", false),
            ("{{ $x := }}", false),
            ("{{ : }}", false),
            ("{{ := }}", false),
            ("{{ $x :}}", false),
            ("{{ @ }}", false),
            ("{{ # }}", false),
            ("{{ .Foo# }}", false),
            ("{{ $x# }}", false),
            ("{{ foo# }}", false),
            ("{{ $- }}", false),
            ("{{ € }}", false),
            ("{{ é }}", false),
            ("{{ .a.b.c$ }}", false),
            ("{{ if 1 }}{{ $y := 1 }}{{ end }}{{ $y }}", false),
            ("{{ with $z := 1 }}{{ end }}{{ $z }}", false),
            ("{{ range $i, $e := . }}{{ end }}{{ $e }}", false),
            ("{{ 1 \"a\" }}", true),
            ("{{ 1\"a\" }}", false),
            ("{{ printf \"%s\" | | }}", false),
            ("{{ | }}", false),
            ("{{ end x }}", false),
            ("{{ else x }}", false),
            ("{{ if 1 }}{{ else x }}{{ end }}", false),
            ("{{ define \"x\" }}{{ define \"y\" }}{{ end }}{{ end }}", false),
            ("{{ x := 1 }}", false),
            ("{{ $x := 1 $y }}", false),
            ("{{ $x = }}", false),
            ("{{ = }}", false),
            ("{{ \"a\" = }}", false),
            ("{{ $labels.instance | }}x{{", false),
            ("{{ if 1 }}{{ end }}{{ $labels.foo-bar }}", false),
            ("{{ $labels.foo-bar }}", false),
            ("{{ .Labels.foo-bar }}", false),
            ("{{ now }}", true), // added to Prometheus after 2.42
            ("{{ toDuration 1 }}", true), // added to Prometheus after 2.42
            ("{{ stripDomain \"a.b\" }}", true),
            ("{{ urlUnescape \"a\" }}", true), // not in Prometheus 2.42 (see FuncSet::prometheus)
            ("{{ with 1 }}{{ else with 2 }}{{ end }}", true), // Go 1.23+; Go 1.19 says unexpected <with> in else
            ("{{ nil }}", false), // deliberate: Go fails only at execution
            ("{{ $x := nil }}", false), // deliberate: Go fails only at execution
            ("{{ printf \"%v\" nil }}", true),
            ("{{ (nil) }}", false), // deliberate: Go fails only at execution
            ("{{ . | nil }}", false),
            ("{{ $x = 1 }}", true),
            ("{{-3}}", true),
            ("{{ 3 -}}", true),
            ("{{3-}}", false),
            ("{{/* a */-}}", false),
            ("{{- /*x*/ -}}", true),
            ("{{/*x*/ -}}", true),
            ("x\n{{- /* c */ -}}\ny", true),
            ("{{- \n1\n -}}", true),
            ("{{-\t1\t-}}", true),
            ("{{ range . }}{{ with . }}{{ break }}{{ end }}{{ end }}", true),
            ("{{ range . }}{{ if . }}{{ continue }}{{ else }}{{ break }}{{ end }}{{ end }}", true),
            ("{{ template \"x\" $y := 1 }}{{ $y }}", true),
            ("{{ $x := 1 }}{{ $x.Foo }}", true),
            ("{{ .Foo.Bar.Baz }}", true),
            ("{{ $.Foo }}", true),
            ("{{ printf \"%d\" (len $labels) }}", true),
            ("{{ (1).Foo }}", true),
            ("{{ printf.Foo }}", true),
            ("{{ $x := 1 }}{{ $x := 2 }}", true),
            ("{{ $x, $y := 1 }}", false),
            ("{{ range $x, $y = . }}{{ end }}", true),
            ("{{ if $x := 1 }}{{ $x }}{{ end }}", true),
            ("{{ 1 | printf \"%d\" | printf \"%s\" }}", true),
            ("{{ 'a' | printf \"%c\" }}", true),
            ("{{ define `a` }}{{ end }}{{ template `a` }}", true),
            ("{{ define \"\\q\" }}{{ end }}", false),
            ("{{ template \"a\" . }}{{ define \"a\" }}x{{ end }}", true),
            ("{{ with $labels }}{{ .instance }}{{ end }}", true),
            ("{{ $labels.instance.x }}", true),
            ("{{ $labels.0 }}", false),
            ("{{ 1.2.3 }}", false),
            ("{{ $x:=1 }}{{$x}}", true),
            ("{{.}}", true),
            ("{{ \"}}\" }}", true),
            ("{{ `}}` }}", true),
            ("{{ 1 }}{{/**/}}{{ 2 }}", true),
            ("{{/**/}}", true),
            ("{{/*/}}", false),
            ("{{ \"\\\n\" }}", false),
            ("{{ if 1 }}{{ $x := 1 }}{{ else }}{{ $x }}{{ end }}", true),
            ("{{ $undeclared = 1 }}", true),
            ("{{ $x := $x }}", true),
            ("{{ 1\"abcdefghijklmnop\" }}", false),
            ("{{ \"\\é\" }}", false),
            ("{{ '\\€' }}", false),
            ("{{ 0x1p99999 }}", false),
            ("{{ 1+2i | printf \"%v\" }}", true),
            ("{{ 0x1p2-1e3i }}", true),
            ("{{ 1e400+1i }}", false),
            ("{{ range . }}{{ else if 1 }}{{ end }}", false),
            ("{{ if 1 }}{{ else if }}{{ end }}", false),
            ("{{ if 1 }}{{ else if 1 }}{{ else if 2 }}{{ else }}{{ end }}", true),
            ("{{ with 1 }}{{ else if 2 }}{{ end }}", false),
            ("{{ if 1 }}{{ else with 2 }}{{ end }}", false),
            ("{{ (query \"up\" | first).Labels.job } {{/* note */}} {{ 1.5e3 }}", false),
            ("{{ with query  \"up\" }}{{ . | first | value | humanize }}{{ end }}", true),
            ("{{ (query \"p\" | first).Labes.job }} {{/* note */}} {{ 1.5e3 }}", true),
            ("{{ if gt $value 0.5 }}High { $labels.instance }}{{ else }}ok{{ end }}", true),
            ("{{ with quer \"up\" }}{{ . | first | value | humanize }}", false),
            ("{{ (query \"up\" | first).Labels.job } '{{/* note */}} {{ 1.5e3 }}", false),
            ("{{ if gt $value 0.5 }}High {{ $labels.instance }}{{ else }ok{{ end }}", false),
            ("{{ range $i, $x := $labels }}{{ $i }}={{ $x }}{{  end }}", true),
            ("{{ range $i, $x := $labes }}{{ $i }}={{ $x }}{{ end }}", false),
            ("{{ if gt $value 0.5 }}High {{ $laebls.instance }}{{ else }}ok{{ end }}", false),
            ("{{ if gt $nilvalue 0.5 }}High {{ $labels.instance }}{{ else }}ok{{ end )}}", false),
            ("{{ range $i,$x := $labels }}{{ $i }}={{ $x }}", false),
            ("{{ (query \"up\" | first).Label.job }} {{/* note */}} {{ 1.5e3 }}", true),
            ("{{ rangge $i, $x := $labels }}{{ $i }}={{ $x }}{{ end }}", false),
            ("{{ printf \"%.2f\" $value }} on {{ index $-labels \"foo-bar\" }}", false),
            ("{{ with query \"up\" }}{{ .  |first | value | humanize }}{{ end }}", true),
            ("{{ (query \"up\" | first).Labels.job }} {{/* note */}} { 1.5e3 }}", true),
            ("{{ (query \"up\" | first).Labels.ob }} {{/* note */}} {{ 1.5e3 }}", true),
            ("{{ with query \"up\" }}{{ . | first nil| value | humanize }}{{ end }}", true),
            ("{{ wiithq uery \"up\" }}{{ . | first | value | humanize }}{{ end }}", false),
            ("{{ rnage $i, $x := $labels }}{{ $i }}={{ $x }}{{ end }}", false),
            ("{{ with query \"up\" }{{ . | first | value | humanize }{{ end }}", false),
            ("{{ (query \"up\" | first).Labels.jobb }} {{/* note */}} {{ 1.5e3 }}", true),
            ("{{ with query \"up\" }}{{ . | first | value | humanize }}{{ end }", false),
            ("{{- if eq $labels.severity \"critical\" -}}P1{{- else -}}P2{{-  -}}", false),
            ("{{ range $i, $x := $labels }}{{ $$i }}={{ $x }}{{ end }}", false),
            ("{{ printf \"%.2f\" $value }} on {{ index $labels \"foo-bar }}", false),
            ("{{ if gt $value 0.5 }}High {{ $labels.instance }}{{ else }}ok{ end }}", false),
            ("{{- if eq $labels.severity \"critical\" -}}P1{{- e1lse -}}P2{{- end -}}", false),
            ("{{ printf \"%.2f\" $value }} on {{ inedx $labls \"foo-bar\" }}", false),
            ("{{ (query \"up\" | first).Labels.job }} {{/* note */}} {{ 1.5e3 }", false),
            ("{{ range $i, $x := $labels }}{{ $i }}={{ $x }}{{ end }}", true),
            ("{{ with query \"up\" }}{{ . | first| value | humanize }}{{ end }}", true),
            ("{{ range $i, $x := $labels }}{{ $i }}={{ $x }}", false),
            ("{{ printf \"%.2f\" $value}} on {{ index $labels \"foo-bar\" }}", true),
            ("{{ range $i, $x:= $labels }}{{ $i }}={{ $x }}{{ end }}", true),
            ("{{- if eq $labels.severity \"critical\" -}}P1{{- else -}}P2{{- ed -}}", false),
            ("{{ if gt $value 00.5 }}High { $labels.instance }}{{ else }}ok{{ end }}", true),
            ("{{ range $i, $x := $labels }}{{ $i  }}={{ $x }}", false),
            ("{{ (query \"up\" | first).Labels.job }} {{{/* not{{ else }}e */}} {{ 1.5e3 }}", false),
        ];
        let mut failures = Vec::new();
        for &(text, valid) in CASES {
            let result = prometheus_parse(text);
            if result.is_ok() != valid {
                failures.push(format!("{text:?}: expected valid={valid}, got {result:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
