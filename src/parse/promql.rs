//! PromQL helpers on top of `promql-parser`.
//!
//! * [`parse`] parses an expression and, on failure, reports the best byte range it can find for
//!   the error (the upstream parser reports no positions at all).
//! * [`Parsed`] keeps the syntax tree together with byte spans of its nodes. The upstream tree has
//!   no positions either, so the spans are recovered by walking the tree in source order alongside
//!   the token stream of the upstream lexer.
//! * [`output_labels`] infers which labels the series of an expression's result can carry,
//!   following the evaluation rules of the Prometheus engine.

use crate::source::Text;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::mem::Discriminant;

use lrpar::{Lexeme as _, Lexer as _};
use promql_parser::label::{MatchOp, Matcher, METRIC_NAME};
use promql_parser::parser::token::{
    TokenId, TokenType, T_ADD, T_AT, T_ATAN2, T_BOOL, T_BOTTOMK, T_BY, T_COLON, T_COMMA,
    T_COUNT_VALUES, T_DIV, T_DURATION, T_END, T_EOF, T_EQL, T_EQLC, T_EQL_REGEX, T_FILL,
    T_FILL_LEFT, T_FILL_RIGHT, T_GROUP_LEFT, T_GROUP_RIGHT, T_GTE, T_GTR, T_IDENTIFIER, T_IGNORING,
    T_LAND, T_LEFT_BRACE, T_LEFT_BRACKET, T_LEFT_PAREN, T_LIMITK, T_LIMIT_RATIO, T_LOR, T_LSS,
    T_LTE, T_LUNLESS, T_METRIC_IDENTIFIER, T_MOD, T_MUL, T_NEQ, T_NEQ_REGEX, T_NUMBER, T_OFFSET,
    T_ON, T_POW, T_RIGHT_BRACE, T_RIGHT_BRACKET, T_RIGHT_PAREN, T_START, T_STRING, T_SUB, T_TOPK,
    T_WITHOUT,
};
use promql_parser::parser::value::ValueType;
use promql_parser::parser::{
    self as pp, AggregateExpr, BinaryExpr, Call, Expr, LabelModifier, VectorMatchCardinality,
    VectorSelector,
};

/// Byte range into the expression text.
pub type Span = std::ops::Range<usize>;

/// Longest expression for which a lexer error is searched by re-lexing every prefix.
const MAX_PREFIX_SCAN: usize = 4 * 1024;

/// Deepest nesting handled by the span walk and the label inference (deeper trees get no spans,
/// and unknown labels below that depth), which keeps the recursion within small thread stacks.
const MAX_DEPTH: usize = 256;

/// Most sub-expressions re-parsed to narrow down a parse error.
const MAX_REPARSES: usize = 200;

/// Most binary operators (and signs) in one expression. The upstream parser's type check walks
/// an operand's whole subtree for every operator, which is quadratic in the length of a chain
/// such as `a + a + a + ...`: 5000 operators parse in about 0.3 s, 30000 (a 64 KB expression)
/// took over 10 s. Real rule expressions have a few dozen.
const MAX_BINARY_OPS: usize = 5000;

/// Most aggregations in one expression: the upstream parser copies an aggregation's operand
/// for every enclosing one, quadratic in their nesting (`sum(sum(sum(...)))`): 1000 parse in
/// about 40 ms, 12000 (a 64 KB expression) took 7 s.
const MAX_AGGREGATIONS: usize = 1000;

// ---------------------------------------------------------------------------------------------
// Parsing and errors
// ---------------------------------------------------------------------------------------------

/// A parse error with the byte range of the expression text it refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromqlError {
    /// The upstream parser's message.
    pub message: String,
    /// Best guess of the offending part of the expression; the whole text when nothing better
    /// could be found.
    pub span: Span,
    /// Not a syntax error: the expression is too large for obsgate to check (see
    /// `MAX_BINARY_OPS`), Prometheus may well accept it.
    pub too_complex: bool,
}

impl fmt::Display for PromqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PromqlError {}

/// Parses a PromQL expression.
///
/// On error the span points at the offending token when it can be found: the unknown function's
/// name, the unmatched `(`, the opening of an unterminated string or `{`, the bad duration token,
/// a dangling operator, the function name of a call with wrong arguments, ... and the whole
/// expression otherwise.
pub fn parse(expr: &str) -> Result<Parsed, PromqlError> {
    parse_owned(expr.into()).map_err(|(e, _)| e)
}

/// [`parse`] of a text the result keeps (given back with an error).
pub fn parse_owned(expr: Text) -> Result<Parsed, (PromqlError, Text)> {
    if let Some(e) = too_complex(&expr) {
        return Err((e, expr));
    }
    match pp::parse(&expr) {
        Ok(tree) => Ok(Parsed::new(expr, tree)),
        Err(message) => {
            let span = locate_error(&expr, &message);
            Err((
                PromqlError {
                    message,
                    span,
                    too_complex: false,
                },
                expr,
            ))
        }
    }
}

/// An error for an expression with more operators or aggregations than the upstream parser
/// handles in reasonable time, at the first one over the limit.
fn too_complex(expr: &str) -> Option<PromqlError> {
    // an operator takes at least two bytes with its operand, an aggregation five (`sum()`):
    // shorter texts cannot be over
    if expr.len() < (2 * MAX_BINARY_OPS).min(5 * MAX_AGGREGATIONS) {
        return None;
    }
    let toks = tokenize(expr).ok()?;
    let first_over = |what: &str, limit: usize, is: &dyn Fn(TokenId) -> bool| {
        toks.iter()
            .filter(|t| is(t.id))
            .nth(limit)
            .map(|t| PromqlError {
                message: format!(
                    "it has more than {limit} {what}, more than obsgate checks (this is the first one over); split it into recording rules"
                ),
                span: t.span(),
                too_complex: true,
            })
    };
    first_over("operators", MAX_BINARY_OPS, &is_binary_op)
        .or_else(|| first_over("aggregations", MAX_AGGREGATIONS, &is_aggregator))
}

/// A parsed expression together with the byte spans of its nodes.
///
/// Spans are keyed by the address of the nodes inside [`Parsed::expr`]: query them with nodes
/// borrowed from that tree, and do not modify the tree afterwards (a replaced node has no span,
/// or a wrong one when the allocator reuses an address for a node of the same kind).
///
/// A model keeps only the text of a parsed expression ([`Parsed::release`]): its tree is parsed
/// again where it is read ([`Parsed::materialized`]), one file at a time, so a large rule set
/// never holds every tree at once.
#[derive(Debug)]
pub struct Parsed {
    /// The syntax tree with its node spans; `None` once released.
    tree: Option<Box<Tree>>,
    /// A range of the rule file when written verbatim there.
    text: Text,
}

/// A syntax tree and the spans of its nodes, computed on first use (most expressions never
/// need a position). Kept together: a released expression holds neither (a large rule set
/// keeps tens of thousands of released ones).
#[derive(Debug)]
struct Tree {
    expr: Expr,
    spans: std::sync::OnceLock<HashMap<usize, NodeSpans>>,
}

impl Tree {
    fn new(expr: Expr) -> Box<Tree> {
        Box::new(Tree {
            expr,
            spans: std::sync::OnceLock::new(),
        })
    }
}

impl Clone for Parsed {
    fn clone(&self) -> Self {
        Parsed {
            tree: self.tree.as_ref().map(|t| Tree::new(t.expr.clone())),
            text: self.text.clone(),
        }
    }
}

/// What [`Parsed::expr`] gives for a released tree (a bug, caught by a debug assertion).
static RELEASED: Expr = Expr::NumberLiteral(promql_parser::parser::NumberLiteral { val: f64::NAN });

impl Parsed {
    fn new(text: Text, expr: Expr) -> Self {
        Parsed {
            tree: Some(Tree::new(expr)),
            text,
        }
    }

    /// The syntax tree (of a [`Parsed::materialized`] expression).
    pub fn expr(&self) -> &Expr {
        debug_assert!(
            self.tree.is_some(),
            "a released syntax tree was read: use `Parsed::materialized`"
        );
        self.tree.as_ref().map_or(&RELEASED, |t| &t.expr)
    }

    /// The syntax tree, unless released.
    pub fn tree(&self) -> Option<&Expr> {
        self.tree.as_ref().map(|t| &t.expr)
    }

    /// Free the syntax tree and its spans, keeping the text.
    pub fn release(&mut self) {
        self.tree = None;
    }

    /// This expression with its tree: itself, or the text parsed again once released (the text
    /// parsed before, so it parses again; should it not, the tree is a `NaN` literal).
    pub fn materialized(&self) -> std::borrow::Cow<'_, Parsed> {
        if self.tree.is_some() {
            return std::borrow::Cow::Borrowed(self);
        }
        let tree = pp::parse(&self.text).unwrap_or_else(|_| RELEASED.clone());
        std::borrow::Cow::Owned(Parsed {
            tree: Some(Tree::new(tree)),
            text: self.text.clone(),
        })
    }

    fn spans(&self) -> &HashMap<usize, NodeSpans> {
        static NONE: std::sync::OnceLock<HashMap<usize, NodeSpans>> = std::sync::OnceLock::new();
        match &self.tree {
            Some(t) => t.spans.get_or_init(|| compute_spans(&self.text, &t.expr)),
            // a released tree has no nodes to ask about
            None => NONE.get_or_init(HashMap::new),
        }
    }

    /// The expression text the spans refer to.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether node spans are available. They are missing only if the token walk could not be
    /// matched with the tree (an unexpected parser construct); all span queries then give `None`.
    pub fn has_spans(&self) -> bool {
        !self.spans().is_empty()
    }

    fn node(&self, node: &Expr) -> Option<&NodeSpans> {
        self.spans()
            .get(&node_key(node))
            .filter(|n| n.kind == std::mem::discriminant(node))
    }

    /// Byte span of a node of the tree (the node must be borrowed from [`Parsed::expr`]).
    ///
    /// * Call: from the function name to its closing parenthesis.
    /// * VectorSelector: metric name or `{` through `}`, including `offset` / `@` modifiers.
    /// * MatrixSelector: selector through `]`, including modifiers.
    /// * Subquery: inner expression through `]`, including modifiers.
    /// * Aggregate: from the operator keyword to the end, including a trailing `by (...)`.
    /// * Binary: start of the left operand to the end of the right operand.
    /// * Paren: both parentheses included. Unary: the `-` and its operand.
    /// * NumberLiteral / StringLiteral: the literal (a number includes its sign tokens).
    pub fn span_of(&self, node: &Expr) -> Option<Span> {
        self.node(node).map(|n| n.span.clone())
    }

    /// Source text of a node (see [`Parsed::span_of`]).
    pub fn text_of(&self, node: &Expr) -> Option<&str> {
        self.span_of(node).and_then(|s| self.text.get(s))
    }

    /// Span of the range duration inside a MatrixSelector or Subquery (`5m` in `[5m]` or
    /// `[5m:1m]`).
    pub fn range_span_of(&self, node: &Expr) -> Option<Span> {
        self.node(node).and_then(|n| n.range.clone())
    }

    /// Span of the resolution of a Subquery (`1m` in `[5m:1m]`), if written.
    pub fn step_span_of(&self, node: &Expr) -> Option<Span> {
        self.node(node).and_then(|n| n.step.clone())
    }

    /// Span of the `offset <duration>` modifier of a selector or subquery.
    pub fn offset_span_of(&self, node: &Expr) -> Option<Span> {
        self.node(node).and_then(|n| n.offset.clone())
    }

    /// Span of the `@ <time>` modifier of a selector or subquery.
    pub fn at_span_of(&self, node: &Expr) -> Option<Span> {
        self.node(node).and_then(|n| n.at.clone())
    }

    /// Span of the operator token of a Binary node, the keyword of an Aggregate or the function
    /// name of a Call.
    pub fn op_span_of(&self, node: &Expr) -> Option<Span> {
        self.node(node).and_then(|n| n.op.clone())
    }

    /// Span of the label matcher `name op "value"` for `label` inside a VectorSelector or
    /// MatrixSelector (the first one, if several). For `__name__` a plain metric name
    /// (`up{...}`) counts as a matcher.
    pub fn matcher_span(&self, node: &Expr, label: &str) -> Option<Span> {
        self.node(node)?
            .matchers
            .iter()
            .find(|(name, _)| name == label)
            .map(|(_, span)| span.clone())
    }

    /// Span of the grouping clause `by (...)` / `without (...)` of an Aggregate.
    pub fn grouping_span(&self, node: &Expr) -> Option<Span> {
        match node {
            Expr::Aggregate(_) => self.node(node).and_then(|n| n.grouping.clone()),
            _ => None,
        }
    }

    /// Span of the vector matching clause `on (...)` / `ignoring (...)` of a Binary node.
    pub fn matching_span(&self, node: &Expr) -> Option<Span> {
        match node {
            Expr::Binary(_) => self.node(node).and_then(|n| n.grouping.clone()),
            _ => None,
        }
    }

    /// Span of the `group_left (...)` / `group_right (...)` clause of a Binary node.
    pub fn group_modifier_span(&self, node: &Expr) -> Option<Span> {
        self.node(node).and_then(|n| n.group.clone())
    }
}

/// The direct sub-expressions of a node, in source order (including an aggregation's parameter,
/// which `promql_parser::util::walk_expr` skips).
pub fn children(expr: &Expr) -> Vec<&Expr> {
    match expr {
        Expr::Aggregate(agg) => agg
            .param
            .iter()
            .chain([&agg.expr])
            .map(|e| e.as_ref())
            .collect(),
        Expr::Unary(unary) => vec![&unary.expr],
        Expr::Binary(binary) => vec![&binary.lhs, &binary.rhs],
        Expr::Paren(paren) => vec![&paren.expr],
        Expr::Subquery(sq) => vec![&sq.expr],
        Expr::Call(call) => call.args.args.iter().map(|a| a.as_ref()).collect(),
        Expr::Extension(ext) => ext.expr.children().iter().collect(),
        Expr::NumberLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::VectorSelector(_)
        | Expr::MatrixSelector(_) => Vec::new(),
    }
}

/// All nodes of the tree in pre-order (source order of their starts).
pub fn nodes(expr: &Expr) -> Vec<&Expr> {
    let mut out = Vec::new();
    let mut stack = vec![expr];
    while let Some(node) = stack.pop() {
        out.push(node);
        stack.extend(children(node).into_iter().rev());
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tok {
    id: TokenId,
    start: usize,
    end: usize,
}

impl Tok {
    fn span(self) -> Span {
        self.start..self.end
    }
}

/// Tokens of `text` without the final EOF token.
fn tokenize(text: &str) -> Result<Vec<Tok>, String> {
    let lexer = pp::lexer(text)?;
    let mut toks = Vec::new();
    for lexeme in lexer.iter() {
        let lexeme = lexeme.map_err(|_| "lexical error".to_string())?;
        if lexeme.tok_id() == T_EOF {
            continue;
        }
        let span = lexeme.span();
        toks.push(Tok {
            id: lexeme.tok_id(),
            start: span.start(),
            end: span.end(),
        });
    }
    Ok(toks)
}

fn is_binary_op(id: TokenId) -> bool {
    matches!(
        id,
        T_ADD
            | T_SUB
            | T_MUL
            | T_DIV
            | T_MOD
            | T_POW
            | T_ATAN2
            | T_EQLC
            | T_NEQ
            | T_GTR
            | T_LSS
            | T_GTE
            | T_LTE
            | T_LAND
            | T_LOR
            | T_LUNLESS
    )
}

/// Keywords that may directly follow an operand.
fn can_follow_operand(id: TokenId) -> bool {
    is_binary_op(id)
        || matches!(
            id,
            T_OFFSET
                | T_AT
                | T_BY
                | T_WITHOUT
                | T_BOOL
                | T_ON
                | T_IGNORING
                | T_GROUP_LEFT
                | T_GROUP_RIGHT
                | T_FILL
                | T_FILL_LEFT
                | T_FILL_RIGHT
        )
}

fn is_comparison(id: TokenId) -> bool {
    TokenType::new(id).is_comparison_operator()
}

fn is_aggregator(id: TokenId) -> bool {
    TokenType::new(id).is_aggregator()
}

fn is_match_op(id: TokenId) -> bool {
    matches!(id, T_EQL | T_NEQ | T_EQL_REGEX | T_NEQ_REGEX)
}

// ---------------------------------------------------------------------------------------------
// Node spans
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct NodeSpans {
    kind: Discriminant<Expr>,
    span: Span,
    op: Option<Span>,
    range: Option<Span>,
    step: Option<Span>,
    offset: Option<Span>,
    at: Option<Span>,
    /// `by`/`without` of an aggregation, `on`/`ignoring` of a binary expression.
    grouping: Option<Span>,
    /// `group_left`/`group_right` of a binary expression.
    group: Option<Span>,
    matchers: Vec<(String, Span)>,
}

impl NodeSpans {
    fn new(node: &Expr) -> Self {
        NodeSpans {
            kind: std::mem::discriminant(node),
            span: 0..0,
            op: None,
            range: None,
            step: None,
            offset: None,
            at: None,
            grouping: None,
            group: None,
            matchers: Vec::new(),
        }
    }
}

fn node_key(node: &Expr) -> usize {
    std::ptr::from_ref(node) as usize
}

/// Spans of all nodes of `expr`, or an empty map when the tokens cannot be matched to the tree.
fn compute_spans(text: &str, expr: &Expr) -> HashMap<usize, NodeSpans> {
    let Ok(toks) = tokenize(text) else {
        return HashMap::new();
    };
    let mut walker = SpanWalker {
        text,
        toks: &toks,
        pos: 0,
        depth: 0,
        spans: HashMap::new(),
    };
    match walker.expr(expr) {
        Some(_) if walker.pos == toks.len() => walker.spans,
        _ => HashMap::new(),
    }
}

/// Walks the tree in source order while consuming the matching tokens. Every method returns
/// `None` as soon as the tokens do not fit the tree.
struct SpanWalker<'a> {
    text: &'a str,
    toks: &'a [Tok],
    pos: usize,
    depth: usize,
    spans: HashMap<usize, NodeSpans>,
}

impl SpanWalker<'_> {
    fn peek(&self) -> Option<Tok> {
        self.toks.get(self.pos).copied()
    }

    fn peek_is(&self, ids: &[TokenId]) -> bool {
        self.peek().is_some_and(|t| ids.contains(&t.id))
    }

    fn bump(&mut self) -> Option<Tok> {
        let tok = self.peek()?;
        self.pos += 1;
        Some(tok)
    }

    /// Consumes the next token if it is one of `ids`.
    fn eat(&mut self, ids: &[TokenId]) -> Option<Tok> {
        if self.peek_is(ids) {
            self.bump()
        } else {
            None
        }
    }

    fn tok_text(&self, tok: Tok) -> &str {
        self.text.get(tok.span()).unwrap_or_default()
    }

    fn expr(&mut self, node: &Expr) -> Option<Span> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let span = self.node(node);
        self.depth -= 1;
        span
    }

    fn node(&mut self, node: &Expr) -> Option<Span> {
        // A unary plus leaves no node in the tree.
        while self.eat(&[T_ADD]).is_some() {}
        let mut info = NodeSpans::new(node);
        let span = match node {
            Expr::NumberLiteral(_) => {
                // A negative literal is folded into the number: `-1`, `- -1`, `-+1`.
                let start = self.peek()?.start;
                while self.eat(&[T_ADD, T_SUB]).is_some() {}
                start..self.eat(&[T_NUMBER, T_DURATION])?.end
            }
            Expr::StringLiteral(_) => self.eat(&[T_STRING])?.span(),
            Expr::Unary(unary) => {
                let minus = self.eat(&[T_SUB])?;
                minus.start..self.expr(&unary.expr)?.end
            }
            Expr::Paren(paren) => {
                let open = self.eat(&[T_LEFT_PAREN])?;
                self.expr(&paren.expr)?;
                open.start..self.eat(&[T_RIGHT_PAREN])?.end
            }
            Expr::VectorSelector(vs) => {
                let sel = self.selector(vs, &mut info)?;
                let end =
                    self.modifiers(vs.offset.is_some(), vs.at.is_some(), &mut info, sel.end)?;
                sel.start..end
            }
            Expr::MatrixSelector(ms) => {
                let sel = self.selector(&ms.vs, &mut info)?;
                let end = self.brackets(false, &mut info)?;
                let end =
                    self.modifiers(ms.vs.offset.is_some(), ms.vs.at.is_some(), &mut info, end)?;
                sel.start..end
            }
            Expr::Subquery(sq) => {
                let inner = self.expr(&sq.expr)?;
                let end = self.brackets(true, &mut info)?;
                if info.step.is_some() != sq.step.is_some() {
                    return None;
                }
                let end = self.modifiers(sq.offset.is_some(), sq.at.is_some(), &mut info, end)?;
                inner.start..end
            }
            Expr::Call(call) => self.call(call, &mut info)?,
            Expr::Aggregate(agg) => self.aggregate(agg, &mut info)?,
            Expr::Binary(binary) => self.binary(binary, &mut info)?,
            Expr::Extension(_) => return None,
        };
        info.span = span.clone();
        self.spans.insert(node_key(node), info);
        Some(span)
    }

    /// Metric name and/or `{...}` of a selector.
    fn selector(&mut self, vs: &VectorSelector, info: &mut NodeSpans) -> Option<Span> {
        let mut start = None;
        let mut end = 0;
        if let Some(name) = &vs.name {
            let tok = self.bump()?;
            if tok.id == T_LEFT_BRACE || self.tok_text(tok) != name {
                return None;
            }
            info.matchers.push((METRIC_NAME.to_string(), tok.span()));
            start = Some(tok.start);
            end = tok.end;
        }
        if let Some(open) = self.eat(&[T_LEFT_BRACE]) {
            start.get_or_insert(open.start);
            loop {
                let tok = self.bump()?;
                match tok.id {
                    T_RIGHT_BRACE => {
                        end = tok.end;
                        break;
                    }
                    T_COMMA | T_LOR => {}
                    T_IDENTIFIER | T_STRING => {
                        let raw = self.tok_text(tok);
                        let label = if tok.id == T_STRING {
                            promql_parser::util::unquote_string(raw).ok()?
                        } else {
                            raw.to_string()
                        };
                        if self
                            .eat(&[T_EQL, T_NEQ, T_EQL_REGEX, T_NEQ_REGEX])
                            .is_some()
                        {
                            let value = self.eat(&[T_STRING])?;
                            info.matchers.push((label, tok.start..value.end));
                        } else if tok.id == T_STRING {
                            // `{"metric_name"}`
                            info.matchers.push((METRIC_NAME.to_string(), tok.span()));
                        } else {
                            return None;
                        }
                    }
                    _ => return None,
                }
            }
        }
        Some(start?..end)
    }

    /// `[range]` or `[range:step]`; returns the end of `]`.
    fn brackets(&mut self, subquery: bool, info: &mut NodeSpans) -> Option<usize> {
        self.eat(&[T_LEFT_BRACKET])?;
        info.range = Some(self.eat(&[T_DURATION, T_NUMBER])?.span());
        if subquery {
            self.eat(&[T_COLON])?;
            info.step = self.eat(&[T_DURATION, T_NUMBER]).map(Tok::span);
        }
        Some(self.eat(&[T_RIGHT_BRACKET])?.end)
    }

    /// `offset` and `@` modifiers (in any order); returns the end of the node.
    fn modifiers(
        &mut self,
        mut offset: bool,
        mut at: bool,
        info: &mut NodeSpans,
        mut end: usize,
    ) -> Option<usize> {
        while offset || at {
            let kw = self.bump()?;
            match kw.id {
                T_OFFSET if offset => {
                    offset = false;
                    self.eat(&[T_ADD, T_SUB]);
                    end = self.eat(&[T_DURATION, T_NUMBER])?.end;
                    info.offset = Some(kw.start..end);
                }
                T_AT if at => {
                    at = false;
                    if self.eat(&[T_START, T_END]).is_some() {
                        self.eat(&[T_LEFT_PAREN])?;
                        end = self.eat(&[T_RIGHT_PAREN])?.end;
                    } else {
                        self.eat(&[T_ADD, T_SUB]);
                        end = self.eat(&[T_NUMBER, T_DURATION])?.end;
                    }
                    info.at = Some(kw.start..end);
                }
                _ => return None,
            }
        }
        Some(end)
    }

    /// `( label, ... )`; returns its span.
    fn label_list(&mut self) -> Option<Span> {
        let open = self.eat(&[T_LEFT_PAREN])?;
        loop {
            let tok = self.bump()?;
            match tok.id {
                T_RIGHT_PAREN => return Some(open.start..tok.end),
                T_LEFT_PAREN | T_LEFT_BRACE | T_LEFT_BRACKET => return None,
                _ => {}
            }
        }
    }

    /// `by (...)` / `without (...)`.
    fn grouping(&mut self) -> Option<Span> {
        let kw = self.eat(&[T_BY, T_WITHOUT])?;
        Some(kw.start..self.label_list()?.end)
    }

    fn call(&mut self, call: &Call, info: &mut NodeSpans) -> Option<Span> {
        let name = self.bump()?;
        if self.tok_text(name) != call.func.name {
            return None;
        }
        info.op = Some(name.span());
        self.eat(&[T_LEFT_PAREN])?;
        for (i, arg) in call.args.args.iter().enumerate() {
            if i > 0 {
                self.eat(&[T_COMMA])?;
            }
            self.expr(arg)?;
        }
        Some(name.start..self.eat(&[T_RIGHT_PAREN])?.end)
    }

    fn aggregate(&mut self, agg: &AggregateExpr, info: &mut NodeSpans) -> Option<Span> {
        let op = self.bump()?;
        if op.id != agg.op.id() {
            return None;
        }
        info.op = Some(op.span());
        if self.peek_is(&[T_BY, T_WITHOUT]) {
            info.grouping = Some(self.grouping()?);
        }
        self.eat(&[T_LEFT_PAREN])?;
        if let Some(param) = &agg.param {
            self.expr(param)?;
            self.eat(&[T_COMMA])?;
        }
        self.expr(&agg.expr)?;
        let mut end = self.eat(&[T_RIGHT_PAREN])?.end;
        if agg.modifier.is_some() && info.grouping.is_none() {
            let grouping = self.grouping()?;
            end = grouping.end;
            info.grouping = Some(grouping);
        }
        if agg.modifier.is_none() && info.grouping.is_some() {
            return None;
        }
        Some(op.start..end)
    }

    fn binary(&mut self, binary: &BinaryExpr, info: &mut NodeSpans) -> Option<Span> {
        let lhs = self.expr(&binary.lhs)?;
        let op = self.bump()?;
        if op.id != binary.op.id() {
            return None;
        }
        info.op = Some(op.span());
        let modifier = binary.modifier.as_ref();
        if self.eat(&[T_BOOL]).is_some() && !binary.return_bool() {
            return None;
        }
        if let Some(kw) = self.eat(&[T_ON, T_IGNORING]) {
            info.grouping = Some(kw.start..self.label_list()?.end);
        }
        if let Some(kw) = self.eat(&[T_GROUP_LEFT, T_GROUP_RIGHT]) {
            // A `(` right after group_x always opens its label list.
            let end = if self.peek_is(&[T_LEFT_PAREN]) {
                self.label_list()?.end
            } else {
                kw.end
            };
            info.group = Some(kw.start..end);
        }
        let has_fill =
            modifier.is_some_and(|m| m.fill_values.lhs.is_some() || m.fill_values.rhs.is_some());
        if has_fill {
            while self.eat(&[T_FILL, T_FILL_LEFT, T_FILL_RIGHT]).is_some() {
                self.eat(&[T_LEFT_PAREN])?;
                self.eat(&[T_ADD, T_SUB]);
                self.eat(&[T_NUMBER])?;
                self.eat(&[T_RIGHT_PAREN])?;
            }
        }
        let rhs = self.expr(&binary.rhs)?;
        Some(lhs.start..rhs.end)
    }
}

// ---------------------------------------------------------------------------------------------
// Error location
// ---------------------------------------------------------------------------------------------

fn locate_error(text: &str, message: &str) -> Span {
    let located = match tokenize(text) {
        Ok(toks) => ErrorLocator::new(text, toks, message).locate(),
        Err(_) => lexical_error_span(text, message),
    };
    located
        .filter(|s| {
            s.start <= s.end && text.is_char_boundary(s.start) && text.is_char_boundary(s.end)
        })
        .unwrap_or(0..text.len())
}

/// Text between `marker` (which should end with a quote) and the next `'`.
fn quoted_after<'m>(message: &'m str, marker: &str) -> Option<&'m str> {
    let rest = &message[message.find(marker)? + marker.len()..];
    Some(&rest[..rest.find('\'')?])
}

/// Positions of unbalanced delimiters, for errors the lexer reports at the end of the input.
#[derive(Debug, Default)]
struct OpenDelimiters {
    paren: Option<usize>,
    brace: Option<usize>,
    bracket: Option<usize>,
    string: Option<usize>,
}

fn scan_delimiters(text: &str) -> OpenDelimiters {
    let mut open = OpenDelimiters::default();
    let mut parens = Vec::new();
    let mut string: Option<(char, usize)> = None;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        if let Some((quote, _)) = string {
            if c == '\\' {
                chars.next();
            } else if c == quote {
                string = None;
            }
            continue;
        }
        let nested = open.brace.is_some() || open.bracket.is_some();
        match c {
            '#' => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' || c == '\r' {
                        break;
                    }
                }
            }
            '"' | '\'' | '`' => string = Some((c, i)),
            '{' => open.brace = Some(i),
            '}' => open.brace = None,
            '[' => open.bracket = Some(i),
            ']' => open.bracket = None,
            '(' if !nested => parens.push(i),
            ')' if !nested => {
                parens.pop();
            }
            _ => {}
        }
    }
    open.string = string.map(|(_, i)| i);
    open.paren = parens.last().copied();
    open
}

/// Span for an error of the lexer (the tokens are not available then).
fn lexical_error_span(text: &str, message: &str) -> Option<Span> {
    let open = scan_delimiters(text);
    let to_end = |start: usize| start..text.len();
    if message == "unclosed left parenthesis" {
        return open.paren.map(|i| i..i + 1);
    }
    if message.starts_with("unterminated quoted string")
        || message == "escape sequence not terminated"
    {
        return open.string.map(to_end);
    }
    if message == "unexpected end of input inside braces" {
        return open.brace.map(to_end);
    }
    if message == "unexpected end of input inside brackets" {
        return open.bracket.map(to_end);
    }
    if message == "'!' can not be at the end" {
        let end = text.trim_end().len();
        return end.checked_sub(1).map(|start| start..end);
    }
    // The lexer stops at the offending character: the shortest prefix failing with the same
    // message ends right after it. Shorter prefixes lex fine or fail at their end with another
    // message, longer ones fail alike, so the boundary can be searched for.
    let ends: Vec<usize> = text.char_indices().map(|(i, c)| i + c.len_utf8()).collect();
    let fails_alike = |end: usize| matches!(pp::lexer(&text[..end]), Err(m) if m == message);
    let found = ends.partition_point(|&end| !fails_alike(end));
    let end = match ends.get(found) {
        Some(&end) if found == 0 || !fails_alike(ends[found - 1]) => end,
        _ if text.len() <= MAX_PREFIX_SCAN => ends.iter().copied().find(|&end| fails_alike(end))?,
        _ => return None,
    };
    if let Some(bad) = message.strip_prefix("bad number or duration syntax: ") {
        if !bad.is_empty() && text[..end].ends_with(bad) {
            return Some(end - bad.len()..end);
        }
    }
    let mut chars = text[..end].chars().rev();
    let mut start = end - chars.next()?.len_utf8();
    if message.starts_with("unexpected character after '") {
        // Include the character the offending one follows (`!` in `! x`).
        start -= chars.next().map_or(0, char::len_utf8);
    }
    Some(start..end)
}

/// Finds the position of an error the parser (not the lexer) reported.
struct ErrorLocator<'a> {
    text: &'a str,
    toks: Vec<Tok>,
    message: &'a str,
    /// For each `(` token, the index of its matching `)`.
    closing: Vec<Option<usize>>,
}

impl<'a> ErrorLocator<'a> {
    fn new(text: &'a str, toks: Vec<Tok>, message: &'a str) -> Self {
        let mut closing = vec![None; toks.len()];
        let mut stack = Vec::new();
        for (i, tok) in toks.iter().enumerate() {
            match tok.id {
                T_LEFT_PAREN => stack.push(i),
                T_RIGHT_PAREN => {
                    if let Some(open) = stack.pop() {
                        closing[open] = Some(i);
                    }
                }
                _ => {}
            }
        }
        ErrorLocator {
            text,
            toks,
            message,
            closing,
        }
    }

    fn id(&self, i: usize) -> Option<TokenId> {
        self.toks.get(i).map(|t| t.id)
    }

    fn tok_text(&self, i: usize) -> &str {
        self.toks
            .get(i)
            .and_then(|t| self.text.get(t.span()))
            .unwrap_or_default()
    }

    fn span(&self, i: usize) -> Option<Span> {
        self.toks.get(i).map(|t| t.span())
    }

    fn span_between(&self, first: usize, last: usize) -> Option<Span> {
        Some(self.toks.get(first)?.start..self.toks.get(last)?.end)
    }

    fn find(&self, pred: impl Fn(usize, &Tok) -> bool) -> Option<usize> {
        self.toks.iter().enumerate().position(|(i, t)| pred(i, t))
    }

    fn rfind(&self, pred: impl Fn(usize, &Tok) -> bool) -> Option<usize> {
        self.toks.iter().enumerate().rposition(|(i, t)| pred(i, t))
    }

    fn first_of(&self, ids: &[TokenId]) -> Option<Span> {
        self.span(self.find(|_, t| ids.contains(&t.id))?)
    }

    fn last_of(&self, ids: &[TokenId]) -> Option<Span> {
        self.span(self.rfind(|_, t| ids.contains(&t.id))?)
    }

    fn text_token(&self, text: &str) -> Option<Span> {
        self.span(self.find(|i, _| self.tok_text(i) == text)?)
    }

    /// Whether the text of `span` alone fails to parse with the same message.
    fn fails_alike(&self, span: &Span) -> bool {
        self.text
            .get(span.clone())
            .is_some_and(|s| pp::parse(s).err().as_deref() == Some(self.message))
    }

    /// Index of the `)` closing the `(` at `open`.
    fn close_of(&self, open: usize) -> Option<usize> {
        self.closing.get(open).copied().flatten()
    }

    /// Among candidate (name, full extent) pairs, the name of the first extent that fails alone
    /// with the same message, else the first name.
    fn pick(&self, candidates: &[(Span, Span)]) -> Option<Span> {
        candidates
            .iter()
            .find(|(_, extent)| self.fails_alike(extent))
            .or(candidates.first())
            .map(|(name, _)| name.clone())
    }

    /// The function name of a failing call to `name`.
    fn call_named(&self, name: &str) -> Option<Span> {
        let candidates: Vec<(Span, Span)> = (0..self.toks.len())
            .filter(|&i| self.tok_text(i) == name && self.id(i + 1) == Some(T_LEFT_PAREN))
            .filter_map(|i| {
                let close = self.close_of(i + 1)?;
                Some((self.span(i)?, self.span_between(i, close)?))
            })
            .collect();
        self.pick(&candidates)
    }

    /// The operator keyword of a failing aggregation.
    fn aggregation(&self) -> Option<Span> {
        let grouping_end = |i: usize| -> Option<usize> {
            if matches!(self.id(i), Some(T_BY | T_WITHOUT)) {
                self.close_of(i + 1)
            } else {
                None
            }
        };
        let candidates: Vec<(Span, Span)> = (0..self.toks.len())
            .filter(|&i| self.id(i).is_some_and(is_aggregator))
            .filter_map(|i| {
                let open = grouping_end(i + 1).map_or(i + 1, |g| g + 1);
                if self.id(open) != Some(T_LEFT_PAREN) {
                    return None;
                }
                let close = self.close_of(open)?;
                let end = grouping_end(close + 1).unwrap_or(close);
                Some((self.span(i)?, self.span_between(i, end)?))
            })
            .collect();
        self.pick(&candidates)
    }

    fn locate(&self) -> Option<Span> {
        self.specific()
            .or_else(|| self.dangling_or_adjacent())
            .or_else(|| self.smallest_failing_group())
    }

    /// Positions for the messages of the parser's semantic checks.
    fn specific(&self) -> Option<Span> {
        let m = self.message;
        if let Some(name) = quoted_after(m, "unknown function with name '") {
            return self.call_named(name);
        }
        if let Some(name) =
            quoted_after(m, "call to function '").or_else(|| quoted_after(m, "call to '"))
        {
            return self.call_named(name);
        }
        // Messages can quote user text, so they are recognised by their fixed parts.
        let about_aggregation = m.starts_with("no arguments for aggregate")
            || m.starts_with("wrong number of arguments for aggregate")
            || m.starts_with("aggregat")
            || (m.starts_with("expected type") && m.contains(" in aggregation expression"));
        if about_aggregation {
            return self.aggregation();
        }
        if m.starts_with("unexpected end of input in offset") {
            return self.last_of(&[T_OFFSET]);
        }
        if m.starts_with("unexpected end of input in @") {
            return self.last_of(&[T_AT]);
        }
        let about_offset = [
            "offset may not be",
            "offset modifier must",
            "no offset modifiers",
        ];
        if about_offset.iter().any(|p| m.starts_with(p)) {
            return self.offset_or_at(T_OFFSET);
        }
        let about_at = [
            "@ <timestamp> may not be",
            "@ modifier must",
            "no @ modifiers",
            "timestamp out of bounds for @",
            "invalid float value after @",
            "invalid @ modifier",
        ];
        if about_at.iter().any(|p| m.starts_with(p)) {
            return self.offset_or_at(T_AT);
        }
        if m.starts_with("bool modifier") {
            return self.first_of(&[T_BOOL]);
        }
        if m.starts_with("comparisons between scalars") {
            let i = self.find(|i, t| is_comparison(t.id) && self.id(i + 1) != Some(T_BOOL))?;
            return self.span(i);
        }
        if let Some(op) = quoted_after(m, "set operator '") {
            let i = self.find(|i, _| self.tok_text(i).eq_ignore_ascii_case(op))?;
            return self.span(i);
        }
        if m.starts_with("no grouping allowed for")
            || m.contains("must not occur in ON and GROUP clause")
            || m.starts_with("unexpected <group_")
        {
            return self.first_of(&[T_GROUP_LEFT, T_GROUP_RIGHT]);
        }
        if m.starts_with("vector matching only allowed") {
            return self.first_of(&[T_ON, T_IGNORING]);
        }
        if m.starts_with("ranges only allowed") {
            // A `[range]` not directly after a selector.
            let i = self.find(|i, t| {
                t.id == T_LEFT_BRACKET
                    && i > 0
                    && !matches!(self.id(i - 1), Some(T_RIGHT_BRACE | T_IDENTIFIER))
                    && self.id(i + 2) == Some(T_RIGHT_BRACKET)
            })?;
            return self.span_between(i, i + 2);
        }
        if m.starts_with("subquery is only allowed") {
            let i = self.find(|i, t| t.id == T_LEFT_BRACKET && self.id(i + 2) == Some(T_COLON))?;
            let close = (i..self.toks.len()).find(|&j| self.id(j) == Some(T_RIGHT_BRACKET))?;
            return self.span_between(i, close);
        }
        if m.starts_with("missing unit character in duration") {
            let i = self
                .find(|i, t| t.id == T_LEFT_BRACKET && self.id(i + 1) == Some(T_RIGHT_BRACKET))?;
            return self.span_between(i, i + 1);
        }
        if m.starts_with("duration must be greater than 0") {
            let i = self.find(|i, t| {
                matches!(t.id, T_DURATION | T_NUMBER)
                    && matches!(
                        self.id(i.wrapping_sub(1)),
                        Some(T_LEFT_BRACKET | T_COLON | T_OFFSET | T_ADD | T_SUB)
                    )
                    && !self.tok_text(i).chars().any(|c| ('1'..='9').contains(&c))
            })?;
            return self.span(i);
        }
        for prefix in ["not a valid duration string: ", "ParseFloatError. "] {
            if let Some(rest) = m.strip_prefix(prefix) {
                let bad = rest.split(" can't be parsed").next().unwrap_or(rest);
                return self.text_token(bad);
            }
        }
        if let Some(regex) = m.strip_prefix("illegal regex for ") {
            let i = self.find(|i, t| {
                t.id == T_STRING
                    && matches!(self.id(i.wrapping_sub(1)), Some(T_EQL_REGEX | T_NEQ_REGEX))
                    && promql_parser::util::unquote_string(self.tok_text(i))
                        .ok()
                        .as_deref()
                        == Some(regex)
            })?;
            return self.span_between(i.checked_sub(2)?, i);
        }
        if let Some(id) = quoted_after(m, "expected label matching operator after '")
            .or_else(|| quoted_after(m, "unexpected identifier '"))
        {
            let i = self.find(|i, t| t.id == T_IDENTIFIER && self.tok_text(i) == id && i > 0)?;
            return self.span(i);
        }
        if m.starts_with("unexpected '") && m.contains("in label matching") {
            if m.starts_with("unexpected ','") {
                let i = self.find(|i, t| {
                    t.id == T_COMMA && self.id(i.wrapping_sub(1)) == Some(T_LEFT_BRACE)
                })?;
                return self.span(i);
            }
            let i = self.find(|i, t| {
                is_match_op(t.id) && i > 0 && self.id(i - 1).is_some_and(is_match_op)
            })?;
            return self.span(i);
        }
        if let Some(label) = m.strip_suffix(" is not valid label in grouping opts") {
            return self.text_token(label);
        }
        if let Some(name) = quoted_after(m, "metric name must not be set twice: '") {
            let i =
                self.find(|i, _| self.tok_text(i) == name && self.id(i + 1) == Some(T_LEFT_BRACE))?;
            let close = (i..self.toks.len()).find(|&j| self.id(j) == Some(T_RIGHT_BRACE))?;
            return self.span_between(i, close);
        }
        if m.starts_with("vector selector must contain at least one non-empty matcher") {
            return (0..self.toks.len())
                .filter(|&i| self.id(i) == Some(T_LEFT_BRACE))
                .filter_map(|i| {
                    let close =
                        (i..self.toks.len()).find(|&j| self.id(j) == Some(T_RIGHT_BRACE))?;
                    // Include a metric name in front.
                    let named =
                        i > 0 && matches!(self.id(i - 1), Some(T_IDENTIFIER | T_METRIC_IDENTIFIER));
                    self.span_between(if named { i - 1 } else { i }, close)
                })
                .find(|span| self.fails_alike(span));
        }
        if m.starts_with("trailing commas not allowed") {
            let i = self.find(|i, t| t.id == T_COMMA && self.id(i + 1) == Some(T_RIGHT_PAREN))?;
            return self.span(i);
        }
        if m.starts_with("Number expected for fill value") {
            return self.first_of(&[T_FILL, T_FILL_LEFT, T_FILL_RIGHT]);
        }
        None
    }

    /// The `offset` / `@` keyword an error is about.
    fn offset_or_at(&self, kw: TokenId) -> Option<Span> {
        let m = self.message;
        let pick = if m.contains("must be preceded") {
            // Modifier applied to something other than a selector or subquery.
            self.find(|i, t| t.id == kw && self.id(i.wrapping_sub(1)) == Some(T_RIGHT_PAREN))
        } else if m.contains("before range") {
            self.find(|i, t| {
                t.id == kw
                    && (i..self.toks.len())
                        .map_while(|j| self.id(j).filter(|&id| !is_binary_op(id) || j == i + 1))
                        .any(|id| id == T_LEFT_BRACKET)
            })
        } else if m.contains("multiple times") {
            self.find(|i, t| t.id == kw && self.toks[..i].iter().any(|p| p.id == kw))
        } else {
            None
        };
        pick.and_then(|i| self.span(i))
            .or_else(|| self.first_of(&[kw]))
    }

    /// A dangling operator at the end, or two neighbouring tokens that cannot follow each other.
    fn dangling_or_adjacent(&self) -> Option<Span> {
        let last = *self.toks.last()?;
        let dangling = is_binary_op(last.id)
            || matches!(
                last.id,
                T_COMMA
                    | T_LEFT_PAREN
                    | T_BY
                    | T_WITHOUT
                    | T_ON
                    | T_IGNORING
                    | T_GROUP_LEFT
                    | T_GROUP_RIGHT
                    | T_BOOL
                    | T_OFFSET
                    | T_AT
                    | T_EQL
                    | T_EQL_REGEX
                    | T_NEQ_REGEX
            );
        if dangling {
            return Some(last.span());
        }
        // `)` closing a label list (`on (a) b`) may be followed by an operand.
        let mut list_close = vec![false; self.toks.len()];
        for (i, tok) in self.toks.iter().enumerate() {
            let list_kw = matches!(
                tok.id,
                T_BY | T_WITHOUT
                    | T_ON
                    | T_IGNORING
                    | T_GROUP_LEFT
                    | T_GROUP_RIGHT
                    | T_FILL
                    | T_FILL_LEFT
                    | T_FILL_RIGHT
            );
            if list_kw && self.id(i + 1) == Some(T_LEFT_PAREN) {
                if let Some(close) = self.close_of(i + 1) {
                    list_close[close] = true;
                }
            }
        }
        let ends_operand = |i: usize, id: TokenId| {
            matches!(
                id,
                T_NUMBER
                    | T_DURATION
                    | T_STRING
                    | T_RIGHT_BRACE
                    | T_RIGHT_BRACKET
                    | T_IDENTIFIER
                    | T_METRIC_IDENTIFIER
            ) || (id == T_RIGHT_PAREN && !list_close[i])
        };
        let starts_operand = |i: usize, prev: TokenId, id: TokenId| {
            matches!(id, T_NUMBER | T_STRING | T_IDENTIFIER | T_METRIC_IDENTIFIER)
                || is_aggregator(id)
                || (self
                    .tok_text(i)
                    .starts_with(|c: char| c.is_ascii_alphabetic())
                    && !can_follow_operand(id))
                || (id == T_LEFT_BRACE && !matches!(prev, T_IDENTIFIER | T_METRIC_IDENTIFIER))
                || (id == T_LEFT_PAREN
                    && matches!(
                        prev,
                        T_NUMBER | T_STRING | T_DURATION | T_RIGHT_BRACE | T_RIGHT_BRACKET
                    ))
        };
        let closes = |id: TokenId| {
            matches!(
                id,
                T_RIGHT_PAREN | T_COMMA | T_RIGHT_BRACKET | T_RIGHT_BRACE
            )
        };
        let infix_only = |id: TokenId| is_binary_op(id) && !matches!(id, T_ADD | T_SUB);
        for (i, pair) in self.toks.windows(2).enumerate() {
            let (a, b) = (pair[0], pair[1]);
            if ends_operand(i, a.id) && starts_operand(i + 1, a.id, b.id) {
                return Some(b.span());
            }
            if is_binary_op(a.id) && closes(b.id) {
                return Some(a.span());
            }
            if is_binary_op(a.id) && infix_only(b.id) {
                return Some(b.span());
            }
            if matches!(a.id, T_LEFT_PAREN | T_COMMA) && (infix_only(b.id) || b.id == T_COMMA) {
                return Some(b.span());
            }
        }
        None
    }

    /// The smallest parenthesised group (with its function name or aggregation keyword) that
    /// fails alone with the same message.
    fn smallest_failing_group(&self) -> Option<Span> {
        let mut candidates = Vec::new();
        for open in 0..self.toks.len() {
            let Some(close) = self.close_of(open) else {
                continue;
            };
            let mut starts = vec![open, open + 1];
            // With the function name or aggregation keyword in front.
            if open > 0
                && self.id(open - 1).is_some_and(|id| {
                    is_aggregator(id) || matches!(id, T_IDENTIFIER | T_START | T_END)
                })
            {
                starts.push(open - 1);
            }
            for first in starts {
                let last = if first == open + 1 {
                    close.checked_sub(1)
                } else {
                    Some(close)
                };
                if let Some(span) = last
                    .filter(|&l| l >= first)
                    .and_then(|l| self.span_between(first, l))
                {
                    candidates.push(span);
                }
            }
        }
        candidates.sort_by_key(|span| span.len());
        candidates
            .into_iter()
            .take(MAX_REPARSES)
            .find(|span| self.fails_alike(span))
    }
}

// ---------------------------------------------------------------------------------------------
// Label inference
// ---------------------------------------------------------------------------------------------

/// Whether a result series carries a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Every result series carries the label.
    Yes,
    /// Some result series may carry it.
    Maybe,
    /// No result series carries it.
    No,
}

/// What labels the series of a PromQL expression's result can carry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelInfo {
    /// Labels the result certainly or possibly carries that we know by name (from matchers,
    /// `by (...)`, `group_left (...)`, `label_replace` targets, ...).
    pub known: BTreeSet<String>,
    /// The labels of `known` that the result only possibly carries (e.g. a `by (a)` label the
    /// input may lack, a `label_replace` target whose regex may not match).
    pub maybe: BTreeSet<String>,
    /// The result may carry further labels we cannot name (e.g. a plain selector keeps all labels
    /// of the series).
    pub open: bool,
    /// Labels the result certainly does not carry (dropped by aggregation, `without`, `on`,
    /// functions dropping `__name__`, matchers like `x=""`, ...). When the result is not `open`,
    /// every label outside `known` is absent anyway; `removed` then names those known to have
    /// been dropped on the way.
    pub removed: BTreeSet<String>,
    /// The result is a scalar or string, or its series have no labels at all (`sum(x)`,
    /// `vector(1)`, `time()`, ...).
    pub empty: bool,
}

impl LabelInfo {
    fn scalar() -> Self {
        LabelInfo {
            empty: true,
            ..LabelInfo::default()
        }
    }

    fn unknown() -> Self {
        LabelInfo {
            open: true,
            ..LabelInfo::default()
        }
    }

    /// Whether the result's series carry `label`.
    pub fn presence(&self, label: &str) -> Presence {
        if self.empty || self.removed.contains(label) {
            Presence::No
        } else if self.known.contains(label) {
            if self.maybe.contains(label) {
                Presence::Maybe
            } else {
                Presence::Yes
            }
        } else if self.open {
            Presence::Maybe
        } else {
            Presence::No
        }
    }

    fn set(&mut self, label: &str, presence: Presence) {
        match presence {
            Presence::No => {
                self.known.remove(label);
                self.maybe.remove(label);
                self.removed.insert(label.to_string());
            }
            Presence::Yes | Presence::Maybe => {
                if self.empty {
                    self.empty = false;
                    self.open = false;
                }
                self.removed.remove(label);
                self.known.insert(label.to_string());
                if presence == Presence::Maybe {
                    self.maybe.insert(label.to_string());
                } else {
                    self.maybe.remove(label);
                }
            }
        }
    }

    fn drop_name(&mut self) {
        self.set(METRIC_NAME, Presence::No);
    }

    /// All labels named in this info (present or removed).
    fn mentioned(&self) -> BTreeSet<String> {
        self.known.union(&self.removed).cloned().collect()
    }

    /// Keeps only `labels` (aggregation `by`, one-to-one `on`).
    fn keep_only(&self, labels: &[String]) -> Self {
        let mut out = LabelInfo::default();
        for label in self
            .mentioned()
            .iter()
            .map(String::as_str)
            .chain([METRIC_NAME])
        {
            if !labels.iter().any(|l| l == label) {
                out.removed.insert(label.to_string());
            }
        }
        for label in labels {
            out.set(label, self.presence(label));
        }
        out.normalized()
    }

    fn normalized(mut self) -> Self {
        if !self.open && self.known.is_empty() {
            self.empty = true;
        }
        if self.empty {
            self.known.clear();
            self.maybe.clear();
            self.open = false;
        }
        self
    }

    /// Union of the series of two results (`or`).
    fn union(a: &LabelInfo, b: &LabelInfo) -> LabelInfo {
        let mut out = LabelInfo {
            open: (a.open && !a.empty) || (b.open && !b.empty),
            ..LabelInfo::default()
        };
        for label in a.mentioned().union(&b.mentioned()) {
            let presence = match (a.presence(label), b.presence(label)) {
                (Presence::Yes, Presence::Yes) => Presence::Yes,
                (Presence::No, Presence::No) => Presence::No,
                _ => Presence::Maybe,
            };
            out.set(label, presence);
        }
        out.normalized()
    }
}

/// What labels the result series of `expr` can carry.
///
/// `metric_labels` optionally gives the complete label-name set of a metric (from metric
/// definitions or scrapes); a selector of such a metric is closed, with exactly those labels plus
/// the labels its matchers require.
pub fn output_labels(
    expr: &Expr,
    metric_labels: &dyn Fn(&str) -> Option<BTreeSet<String>>,
) -> LabelInfo {
    Inference {
        metric_labels,
        depth: 0,
    }
    .infer(expr)
    .normalized()
}

/// Walks an expression for [`output_labels`].
struct Inference<'a> {
    metric_labels: &'a dyn Fn(&str) -> Option<BTreeSet<String>>,
    depth: usize,
}

impl Inference<'_> {
    fn infer(&mut self, expr: &Expr) -> LabelInfo {
        if self.depth >= MAX_DEPTH {
            return LabelInfo::unknown();
        }
        self.depth += 1;
        let info = match expr {
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) => LabelInfo::scalar(),
            Expr::VectorSelector(vs) => selector_labels(vs, self.metric_labels),
            Expr::MatrixSelector(ms) => selector_labels(&ms.vs, self.metric_labels),
            Expr::Paren(paren) => self.infer(&paren.expr),
            Expr::Subquery(sq) => self.infer(&sq.expr),
            Expr::Unary(unary) => {
                let mut info = self.infer(&unary.expr);
                info.drop_name();
                info.normalized()
            }
            Expr::Aggregate(agg) => self.aggregate(agg),
            Expr::Binary(binary) => self.binary(binary),
            Expr::Call(call) => self.call(call),
            Expr::Extension(_) => LabelInfo::unknown(),
        };
        self.depth -= 1;
        info
    }

    fn aggregate(&mut self, agg: &AggregateExpr) -> LabelInfo {
        let input = self.infer(&agg.expr);
        let op = agg.op.id();
        // These select series and keep their labels, whatever the grouping.
        if matches!(op, T_TOPK | T_BOTTOMK | T_LIMITK | T_LIMIT_RATIO) {
            return input;
        }
        let mut out = match &agg.modifier {
            Some(LabelModifier::Include(labels)) => input.keep_only(&labels.labels),
            Some(LabelModifier::Exclude(labels)) => {
                let mut out = input;
                out.drop_name();
                for label in &labels.labels {
                    out.set(label, Presence::No);
                }
                out
            }
            None => input.keep_only(&[]),
        };
        if op == T_COUNT_VALUES {
            match agg.param.as_deref().and_then(string_value) {
                Some(label) => out.set(label, Presence::Yes),
                None => out.open = true,
            }
        }
        out.normalized()
    }

    fn binary(&mut self, binary: &BinaryExpr) -> LabelInfo {
        let op = binary.op;
        let return_bool = binary.return_bool();
        // Arithmetic drops the metric name; comparisons keep it unless they return bool.
        let arithmetic = !op.is_comparison_operator() && !op.is_set_operator();
        let lhs_type = binary.lhs.value_type();
        let rhs_type = binary.rhs.value_type();
        let lhs = self.infer(&binary.lhs);
        let rhs = self.infer(&binary.rhs);
        let finish = |mut info: LabelInfo| {
            if arithmetic || return_bool {
                info.drop_name();
            }
            info.normalized()
        };
        match (lhs_type, rhs_type) {
            (ValueType::Scalar, ValueType::Scalar) => LabelInfo::scalar(),
            (ValueType::Scalar, _) => finish(rhs),
            (_, ValueType::Scalar) => finish(lhs),
            _ if op.is_set_operator() => {
                if op.id() == T_LOR {
                    LabelInfo::union(&lhs, &rhs)
                } else {
                    lhs
                }
            }
            _ => {
                let modifier = binary.modifier.as_ref();
                let card = modifier.map(|m| &m.card);
                // Mirrors resultMetric() of the Prometheus engine.
                let (mut out, one_side, include) = match card {
                    Some(VectorMatchCardinality::ManyToOne(labels)) => (lhs, rhs, Some(labels)),
                    Some(VectorMatchCardinality::OneToMany(labels)) => (rhs, lhs, Some(labels)),
                    _ => (lhs, rhs, None),
                };
                if arithmetic {
                    out.drop_name();
                }
                match include {
                    Some(labels) => {
                        // group_x labels are copied from the "one" side (deleted if missing there).
                        for label in &labels.labels {
                            out.set(label, one_side.presence(label));
                        }
                    }
                    None => match modifier.and_then(|m| m.matching.as_ref()) {
                        Some(LabelModifier::Include(labels)) => out = out.keep_only(&labels.labels),
                        Some(LabelModifier::Exclude(labels)) => {
                            for label in &labels.labels {
                                out.set(label, Presence::No);
                            }
                        }
                        None => {}
                    },
                }
                if return_bool {
                    out.drop_name();
                }
                out.normalized()
            }
        }
    }

    fn call(&mut self, call: &Call) -> LabelInfo {
        let name = call.func.name;
        let args: Vec<&Expr> = call.args.args.iter().map(|a| a.as_ref()).collect();
        if matches!(call.func.return_type, ValueType::Scalar | ValueType::String)
            || name == "vector"
        {
            return LabelInfo::scalar();
        }
        // The argument whose series the result is derived from.
        let base_arg = args
            .iter()
            .find(|a| matches!(a.value_type(), ValueType::Vector | ValueType::Matrix));
        let Some(base_arg) = base_arg else {
            // e.g. `hour()`, which works on `vector(time())`.
            return LabelInfo::scalar();
        };
        let mut info = self.infer(base_arg);
        let str_arg = |i: usize| args.get(i).and_then(|a| string_value(a));
        match name {
            "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc" | "last_over_time"
            | "first_over_time" => {}
            "absent" | "absent_over_time" => return absent_labels(base_arg),
            "label_replace" => {
                let (Some(dst), Some(repl), Some(src), Some(regex)) =
                    (str_arg(1), str_arg(2), str_arg(3), str_arg(4))
                else {
                    info.open = true;
                    return info;
                };
                let current = info.presence(dst);
                let all = matches_everything(regex);
                let presence = if repl.is_empty() {
                    if all || current == Presence::No {
                        Presence::No
                    } else {
                        Presence::Maybe
                    }
                } else if !repl.contains('$') {
                    if all || current == Presence::Yes {
                        Presence::Yes
                    } else {
                        Presence::Maybe
                    }
                } else if all
                    && matches!(repl, "$1" | "${1}")
                    && regex.contains('(')
                    && info.presence(src) == Presence::Yes
                {
                    Presence::Yes
                } else {
                    Presence::Maybe
                };
                info.set(dst, presence);
            }
            "label_join" => {
                let Some(dst) = str_arg(1) else {
                    info.open = true;
                    return info;
                };
                let sep = str_arg(2);
                let sources: Option<Vec<&str>> = (3..args.len()).map(str_arg).collect();
                let presence = match (sep, sources) {
                    (Some(sep), Some(sources)) => {
                        let presences: Vec<Presence> =
                            sources.iter().map(|s| info.presence(s)).collect();
                        if (sources.len() >= 2 && !sep.is_empty())
                            || presences.contains(&Presence::Yes)
                        {
                            Presence::Yes
                        } else if presences.iter().all(|p| *p == Presence::No) {
                            Presence::No
                        } else {
                            Presence::Maybe
                        }
                    }
                    _ => Presence::Maybe,
                };
                info.set(dst, presence);
            }
            "histogram_quantile" | "histogram_fraction" => {
                info.drop_name();
                info.set("le", Presence::No);
            }
            "histogram_quantiles" => {
                info.drop_name();
                info.set("le", Presence::No);
                match str_arg(1) {
                    Some(label) => info.set(label, Presence::Yes),
                    None => info.open = true,
                }
            }
            "info" => info.open = true,
            _ if DROPS_NAME.contains(&name) => info.drop_name(),
            _ => {
                // Unknown (custom) function: assume nothing beyond the input's labels.
                info.open = true;
                info.maybe = info.known.clone();
                info.removed.clear();
            }
        }
        info.normalized()
    }
}

/// Presence of `m.name` implied by a matcher alone.
fn matcher_presence(m: &Matcher) -> Presence {
    if !m.is_match("") {
        return Presence::Yes;
    }
    let only_empty = match &m.op {
        MatchOp::Equal => m.value.is_empty(),
        MatchOp::Re(_) => matches!(m.value.as_str(), "" | "^$"),
        MatchOp::NotRe(_) => matches!(m.value.as_str(), ".+" | ".+?" | "^.+$"),
        MatchOp::NotEqual => false,
    };
    if only_empty {
        Presence::No
    } else {
        Presence::Maybe
    }
}

/// Applies the matchers of one alternative of a selector to `info`.
fn apply_matchers<'m>(info: &mut LabelInfo, matchers: impl Iterator<Item = &'m Matcher>) {
    for m in matchers {
        // A matcher that does not decide the label's presence leaves it as it was; with an open
        // base this still makes the label known by name.
        let presence = match matcher_presence(m) {
            Presence::Maybe => info.presence(&m.name),
            implied => implied,
        };
        info.set(&m.name, presence);
    }
}

fn selector_labels(
    vs: &VectorSelector,
    metric_labels: &dyn Fn(&str) -> Option<BTreeSet<String>>,
) -> LabelInfo {
    let name = vs.name.clone().or_else(|| {
        vs.matchers
            .matchers
            .iter()
            .find(|m| m.name == METRIC_NAME && m.op == MatchOp::Equal && !m.value.is_empty())
            .map(|m| m.value.clone())
    });
    let base = match name.as_deref().and_then(metric_labels) {
        Some(labels) => {
            let mut info = LabelInfo::default();
            for label in &labels {
                info.set(label, Presence::Yes);
            }
            info
        }
        None => LabelInfo::unknown(),
    };
    let mut info = if vs.matchers.or_matchers.is_empty() {
        let mut info = base;
        apply_matchers(&mut info, vs.matchers.matchers.iter());
        info
    } else {
        // `{a="1" or b="2"}`: the union of the alternatives.
        let mut alternatives = vs.matchers.or_matchers.iter().map(|alt| {
            let mut info = base.clone();
            apply_matchers(&mut info, alt.iter().chain(&vs.matchers.matchers));
            info
        });
        let first = alternatives.next().unwrap_or_else(|| base.clone());
        alternatives.fold(first, |acc, alt| LabelInfo::union(&acc, &alt))
    };
    info.set(METRIC_NAME, Presence::Yes);
    info
}

/// The value of a string literal argument (possibly parenthesised).
fn string_value(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::StringLiteral(s) => Some(&s.val),
        Expr::Paren(p) => string_value(&p.expr),
        _ => None,
    }
}

/// Whether an (anchored) Prometheus regex matches every string.
fn matches_everything(regex: &str) -> bool {
    matches!(
        regex,
        ".*" | "(.*)" | "^.*$" | "^(.*)$" | ".*?" | "(.*?)" | "(?s:.*)" | "(?s).*"
    )
}

/// Functions returning a vector derived from their argument's series minus the metric name.
const DROPS_NAME: &[&str] = &[
    "abs",
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atanh",
    "avg_over_time",
    "ceil",
    "changes",
    "clamp",
    "clamp_max",
    "clamp_min",
    "cos",
    "cosh",
    "count_over_time",
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "days_in_month",
    "deg",
    "delta",
    "deriv",
    "double_exponential_smoothing",
    "exp",
    "floor",
    "histogram_avg",
    "histogram_count",
    "histogram_stddev",
    "histogram_stdvar",
    "histogram_sum",
    "holt_winters",
    "hour",
    "idelta",
    "increase",
    "integral",
    "irate",
    "ln",
    "log10",
    "log2",
    "mad_over_time",
    "max_over_time",
    "min_over_time",
    "minute",
    "month",
    "predict_linear",
    "present_over_time",
    "quantile_over_time",
    "rad",
    "rate",
    "resets",
    "round",
    "sgn",
    "sin",
    "sinh",
    "sqrt",
    "stddev_over_time",
    "stdvar_over_time",
    "sum_over_time",
    "tan",
    "tanh",
    "timestamp",
    "ts_of_first_over_time",
    "ts_of_last_over_time",
    "ts_of_max_over_time",
    "ts_of_min_over_time",
    "xdelta",
    "xincrease",
    "xrate",
    "year",
];

/// Labels of `absent(...)` / `absent_over_time(...)`: the equality matchers of a selector
/// argument (Prometheus' createLabelsForAbsentFunction), nothing for other arguments.
fn absent_labels(arg: &Expr) -> LabelInfo {
    let vs = match arg {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(ms) => &ms.vs,
        _ => return LabelInfo::scalar(),
    };
    let mut info = LabelInfo::default();
    info.removed.insert(METRIC_NAME.to_string());
    let mut seen = BTreeSet::new();
    let matchers = vs
        .matchers
        .matchers
        .iter()
        .chain(vs.matchers.or_matchers.iter().flatten());
    for m in matchers.filter(|m| m.name != METRIC_NAME) {
        let first = seen.insert(m.name.as_str());
        if m.op == MatchOp::Equal && first && !m.value.is_empty() {
            info.set(&m.name, Presence::Yes);
        } else {
            info.set(&m.name, Presence::No);
        }
    }
    info.normalized()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real rule expressions from samber/awesome-prometheus-alerts (CC-BY-4.0) and
    /// prometheus-operator/kube-prometheus (Apache-2.0).
    const CORPUS: &[&str] = &[
        r#"sum by (cluster, namespace, pod, container) (
  irate(container_cpu_usage_seconds_total{job="kubelet", metrics_path="/metrics/cadvisor", image!=""}[5m])
) * on (cluster, namespace, pod) group_left(node) topk by (cluster, namespace, pod) (
  1, max by(cluster, namespace, pod, node) (kube_pod_info{node!=""})
)"#,
        r#"sum(avg(mongodb_mongod_replset_oplog_head_timestamp - mongodb_mongod_replset_oplog_tail_timestamp)) - sum(avg(mongodb_rs_members_optimeDate{member_state="PRIMARY"} - on (set) group_right mongodb_rs_members_optimeDate{member_state="SECONDARY"})) <= 0"#,
        r#"(kube_pod_container_status_restarts_total - kube_pod_container_status_restarts_total offset 10m >= 1) and ignoring (reason) min_over_time(kube_pod_container_status_last_terminated_reason{reason="OOMKilled"}[10m]) == 1"#,
        r#"histogram_quantile(0.9, sum(rate(scheduler_scheduling_attempt_duration_seconds_bucket{job="kube-scheduler"}[5m])) without(instance, pod))"#,
        r#"opensearch_indices_indexing_is_throttled_bool > 0"#,
        r#"(avg(tempodb_blocklist_length) / avg(tempodb_blocklist_length offset 7d) - 1) * 100 > 40 and avg(tempodb_blocklist_length offset 7d) > 0"#,
        r#"predict_linear(kubelet_volume_stats_available_bytes[6h:5m], 4 * 24 * 3600) < 0"#,
        r#"max by (cluster, namespace, workload, pod) (
  label_replace(
    kube_pod_owner{job="kube-state-metrics", owner_kind="StatefulSet"},
  "workload", "$1", "owner_name", "(.*)")
)"#,
        r#"group by (cluster, namespace, workload, pod) (
  label_join(
    group by (cluster, namespace, job_name, pod, owner_name) (
      label_join(
        kube_pod_owner{job="kube-state-metrics", owner_kind="Job"}
      , "job_name", "", "owner_name")
    )
    * on (cluster, namespace, job_name) group_left()
    group by (cluster, namespace, job_name) (
      kube_job_owner{job="kube-state-metrics", owner_kind=~"Pod|"}
    )
  , "workload", "", "owner_name")
)"#,
        r#"absent(up{job=~".*thanos-query.*"} == 1)"#,
        r#"histogram_quantile(0.9, sum(rate(scheduler_scheduling_algorithm_duration_seconds_bucket{job="kube-scheduler"}[5m])) without(instance, pod))"#,
        r#"(
  node_filesystem_avail_bytes{job="node-exporter",fstype!="",mountpoint!=""} / node_filesystem_size_bytes{job="node-exporter",fstype!="",mountpoint!=""} * 100 < 10
and
  predict_linear(node_filesystem_avail_bytes{job="node-exporter",fstype!="",mountpoint!=""}[6h], 4*60*60) < 0
and
  node_filesystem_readonly{job="node-exporter",fstype!="",mountpoint!=""} == 0
)"#,
        r#"(kube_node_spec_taint{job="kube-state-metrics",key="node.kubernetes.io/unreachable",effect="NoSchedule"} unless ignoring(key,value) kube_node_spec_taint{job="kube-state-metrics",key=~"ToBeDeletedByClusterAutoscaler|cloud.google.com/impending-node-termination|aws-node-termination-handler/spot-itn"}) == 1"#,
        r#"rate(ClickHouseProfileEvents_NetworkSendBytes[1m]) > 100*1024*1024 or rate(ClickHouseProfileEvents_NetworkReceiveBytes[1m]) > 100*1024*1024"#,
        r#"(time() - thanos_objstore_bucket_last_successful_upload_time{component="compactor"} > 86400) and thanos_objstore_bucket_last_successful_upload_time{component="compactor"} > 0"#,
        r#"histogram_quantile(0.99,
  sum by (cluster, instance, le) (
    topk by (cluster, instance, le, operation_type) (1,
      rate(kubelet_pod_worker_duration_seconds_bucket{job="kubelet", metrics_path="/metrics"}[5m])
    )
  )
)
* on(cluster, instance) group_left(node)
topk by (cluster, instance, node) (1,
  kubelet_node_name{job="kubelet", metrics_path="/metrics"}
)
> 60"#,
        r#"count by (namespace,service) (
  count_values by (namespace,service) ("config_hash", alertmanager_config_hash{job="alertmanager-main",container="alertmanager",namespace="monitoring"})
)
!= 1"#,
        r#"histogram_quantile(0.99, sum(rate(scheduler_pod_scheduling_sli_duration_seconds_bucket{job="kube-scheduler"}[5m])) without(instance, pod))"#,
        r#"group by (namespace) (ALERTS{severity = "info"} == 1) unless on (namespace) group by (namespace) (ALERTS{alertname != "InfoInhibitor", alertstate = "firing", severity =~ "warning|critical"} == 1)"#,
        r#"(node_filesystem_avail_bytes{fstype!~"^(fuse.*|tmpfs|cifs|nfs)"} / node_filesystem_size_bytes < .10 and on (instance, device, mountpoint) node_filesystem_readonly == 0)"#,
        r#"kube_job_status_start_time > 0 and absent(kube_job_status_completion_time) and (time() - kube_job_status_start_time) > 3600"#,
        r#"changes(process_start_time_seconds{job=~"prometheus|pushgateway|alertmanager"}[15m]) > 2"#,
        r#"sum(increase(phpfpm_max_children_reached_total[5m])) by (instance) > 3"#,
        r#"deriv(gitlab_ci_pipeline_failure_reasons[5m]) > 0.05"#,
        r#"(max_over_time(thanos_query_concurrent_gate_queries_max[5m]) - avg_over_time(thanos_query_concurrent_gate_queries_in_flight[5m]) < 1)"#,
        r#"max_over_time(mysql_global_status_prepared_stmt_count[1m]) / mysql_global_variables_max_prepared_stmt_count * 100 > 80 and mysql_global_variables_max_prepared_stmt_count > 0"#,
        r#"0 <= round((last_over_time(probe_ssl_earliest_cert_expiry[10m]) - time()) / 86400, 0.1) < 3"#,
        r#"3 <= round((last_over_time(probe_ssl_earliest_cert_expiry[10m]) - time()) / 86400, 0.1) < 20"#,
        r#"count without (instance, job) (redis_connected_slaves) - sum without (instance, job) (redis_connected_slaves) - 1 > 0"#,
        r#"rate(go_memstats_alloc_bytes_total[5m]) > 1e9"#,
        r#"count(etcd_server_id) % 2 == 0"#,
        r#"(count(redis_instance_info{role="master"}) or vector(0)) < 1"#,
        r#"avg by (exported_namespace, namespace, name) (certmanager_certificate_expiration_timestamp_seconds - time()) < (21 * 24 * 3600)"#,
        r#"(abs((sum by (instance, name) (rate(container_cpu_usage_seconds_total{name!=""}[1m])) * 100) - (sum by (instance, name) (rate(container_cpu_usage_seconds_total{name!=""}[1m] offset 1m)) * 100)) or abs((sum by (instance, name) (rate(container_cpu_usage_seconds_total{name!=""}[1m])) * 100) - (sum by (instance, name) (rate(container_cpu_usage_seconds_total{name!=""}[5m] offset 1m)) * 100))) > 25"#,
        r#"delta(systemd_socket_refused_connections_total[5m]) > 3"#,
        r#"(node_systemd_unit_state{state="failed"} == 1)"#,
    ];

    /// Syntax corners the span walk has to handle.
    const EDGE_CASES: &[&str] = &[
        "-5",
        "+5",
        "- -5",
        "-+5 * +-3",
        "-(5)",
        "-foo",
        "- - foo",
        "-x ^ 2",
        "+x",
        "1e3 + 0x1F * Inf - NaN / -Inf",
        "5m",
        "foo[300]",
        "foo[5m] offset 1h",
        "foo offset -5m @ 100",
        "foo @ -100.5 offset +1m",
        "foo @ start()",
        "foo[5m] @ end() offset 1m",
        "rate(foo[5m:1m] offset 1h)",
        "max_over_time(rate(x[1m])[1h:])[2h:10m] @ 1000",
        "sum(x) by (a)",
        "sum by (a) (x)",
        "sum without () (x)",
        "sum(x) without (a, b,)",
        "topk(3, x)",
        "count_values(\"v\", x) by (job)",
        "quantile(0.9, x)",
        "a > bool 1",
        "1 > bool 2",
        "a * on(x) group_left(y) b",
        "a * ignoring(x) group_right b",
        "a * on(x) group_left (b) c",
        "a and on() b",
        "a unless b or c",
        "a + fill(0) b",
        "a + fill_left(1) fill_right(-2) b",
        "{__name__=\"foo\", a=~\"b\"}",
        "{\"foo\", \"a.b\"=\"c\"}",
        "foo{a=\"1\" or b=\"2\"}",
        "foo{a='single', b=`raw`,}",
        "sum{a=\"b\"}",
        "label_replace(up, \"a\", \"$1\", \"b\", \"(.*)\")",
        "x # comment (with parens\n + y",
        "foo atan2 bar",
        "time()",
        "start()",
        "vector(1) + on() group_left vector(2)",
        "sum(x) by (le) / ignoring(le) group_left sum(y) by (le)",
        "x == bool on (a) y",
        "((x))",
        "sum(\n  rate(x[5m])\n)\nby\n(job)",
        "rate(http_requests_total{code=~\"5..\",}[5m]) / ignoring(code) group_left rate(http_requests_total[5m])",
        "foo{\"ü\"=\"x\"}",
        "foo{a=\"ü\"} + {\"bär\"}",
    ];

    fn no_metrics(_: &str) -> Option<BTreeSet<String>> {
        None
    }

    fn labels(expr: &str) -> LabelInfo {
        let parsed = parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        output_labels(parsed.expr(), &no_metrics)
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn span_text<'a>(parsed: &'a Parsed, node: &Expr) -> &'a str {
        parsed
            .text_of(node)
            .unwrap_or_else(|| panic!("no span for {node} in {:?}", parsed.text()))
    }

    /// Checks the span of every node of `text`.
    fn check_spans(text: &str) {
        let parsed = parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert!(parsed.has_spans(), "no spans for {text:?}");
        for node in nodes(parsed.expr()) {
            let sub = span_text(&parsed, node);
            let reparsed = pp::parse(sub).unwrap_or_else(|e| panic!("{sub:?} of {text:?}: {e}"));
            assert_eq!(
                reparsed.to_string(),
                node.to_string(),
                "{sub:?} of {text:?}"
            );
            match node {
                Expr::Call(call) => {
                    assert!(sub.starts_with(call.func.name), "{sub:?}");
                    assert!(sub.ends_with(')'), "{sub:?}");
                    assert_eq!(
                        parsed.op_span_of(node).map(|s| &text[s]),
                        Some(call.func.name)
                    );
                }
                Expr::VectorSelector(vs) => match &vs.name {
                    Some(name) => assert!(sub.starts_with(name.as_str()), "{sub:?}"),
                    None => assert!(sub.starts_with('{'), "{sub:?}"),
                },
                Expr::MatrixSelector(_) | Expr::Subquery(_) => {
                    let range = parsed.range_span_of(node).expect("range span");
                    let range_text = &text[range];
                    assert!(range_text.starts_with(|c: char| c.is_ascii_digit()));
                    assert!(sub.contains(&format!("[{range_text}")) || sub.contains('['));
                }
                Expr::Aggregate(agg) => {
                    let keyword = agg.op.to_string();
                    assert!(sub.to_lowercase().starts_with(&keyword), "{sub:?}");
                    assert_eq!(
                        parsed.grouping_span(node).is_some(),
                        agg.modifier.is_some(),
                        "{sub:?}"
                    );
                }
                Expr::Paren(_) => assert!(sub.starts_with('(') && sub.ends_with(')')),
                Expr::Binary(binary) => {
                    let span = parsed.span_of(node).unwrap();
                    let lhs = parsed.span_of(&binary.lhs).unwrap();
                    let rhs = parsed.span_of(&binary.rhs).unwrap();
                    assert_eq!((span.start, span.end), (lhs.start, rhs.end));
                    let op = parsed.op_span_of(node).unwrap();
                    assert!(lhs.end <= op.start && op.end <= rhs.start);
                }
                Expr::Unary(_) => assert!(sub.starts_with('-')),
                _ => {}
            }
        }
    }

    /// The vendored parser caches compiled matcher regexes by pattern
    /// (vendor/promql-parser/README.obsgate.md): a cached pattern must give the same tree as a
    /// fresh one, an invalid pattern must fail every time, and Go's `{name}` repeat fallback
    /// must still apply.
    #[test]
    fn matcher_regex_cache_keeps_results() {
        use promql_parser::label::MatchOp;
        let first = parse(r#"up{code=~"5..", job!~"a|b"}"#).unwrap();
        let again = parse(r#"sum(rate(x{code=~"5.."}[5m])) / on() up{job!~"a|b"}"#).unwrap();
        assert_eq!(first.text(), r#"up{code=~"5..", job!~"a|b"}"#);
        let mut ops = Vec::new();
        for p in [&first, &again] {
            crate::checks::promql_util::walk(p.expr(), &mut |e| {
                let selector = match e {
                    promql_parser::parser::Expr::VectorSelector(v) => Some(v),
                    promql_parser::parser::Expr::MatrixSelector(m) => Some(&m.vs),
                    _ => None,
                };
                if let Some(v) = selector {
                    for m in &v.matchers.matchers {
                        if let MatchOp::Re(r) | MatchOp::NotRe(r) = &m.op {
                            ops.push((m.name.clone(), r.as_str().to_string(), r.is_match("503")));
                        }
                    }
                }
            });
        }
        assert!(ops.contains(&("code".into(), "^(?:5..)$".into(), true)));
        assert_eq!(ops.iter().filter(|o| o.1 == "^(?:5..)$").count(), 2);
        assert_eq!(ops.iter().filter(|o| o.1 == "^(?:a|b)$").count(), 2);
        for _ in 0..2 {
            assert!(parse(r#"up{job=~"("}"#).is_err());
        }
        assert!(parse(r#"up{path=~"/api/{id}"}"#).is_ok());
        assert!(parse(r#"up{path=~"/api/{id}"}"#).is_ok());
        // patterns over the cache's length limit are compiled each time, with the same result
        let long: Vec<String> = (0..300).map(|i| format!("job{i}")).collect();
        let expr = format!(r#"up{{job=~"{}"}}"#, long.join("|"));
        assert!(expr.len() > 1024);
        for _ in 0..2 {
            assert!(parse(&expr).is_ok());
        }
        assert!(parse(&format!(r#"up{{job=~"{}("}}"#, long.join("|"))).is_err());
    }

    #[test]
    fn spans_of_corpus_expressions() {
        for text in CORPUS {
            check_spans(text);
        }
    }

    #[test]
    fn spans_of_edge_cases() {
        for text in EDGE_CASES {
            check_spans(text);
        }
    }

    #[test]
    fn spans_of_an_alert_expression() {
        let text = r#"sum by (job) (rate(http_requests_total{code=~"5..", job!=""}[5m] offset 1m)) / on(job) group_left(team) team_info"#;
        let parsed = parse(text).unwrap();
        let at = |s: Option<Span>| s.map(|s| &text[s]);
        let Expr::Binary(div) = parsed.expr() else {
            panic!("binary expected")
        };
        assert_eq!(at(parsed.span_of(parsed.expr())), Some(text));
        assert_eq!(at(parsed.op_span_of(parsed.expr())), Some("/"));
        assert_eq!(at(parsed.matching_span(parsed.expr())), Some("on(job)"));
        assert_eq!(
            at(parsed.group_modifier_span(parsed.expr())),
            Some("group_left(team)")
        );
        assert_eq!(at(parsed.span_of(&div.rhs)), Some("team_info"));
        let Expr::Aggregate(sum) = div.lhs.as_ref() else {
            panic!("aggregate expected")
        };
        assert_eq!(at(parsed.grouping_span(&div.lhs)), Some("by (job)"));
        assert_eq!(at(parsed.op_span_of(&div.lhs)), Some("sum"));
        let Expr::Call(rate) = sum.expr.as_ref() else {
            panic!("call expected")
        };
        assert_eq!(
            at(parsed.span_of(&sum.expr)),
            Some(r#"rate(http_requests_total{code=~"5..", job!=""}[5m] offset 1m)"#)
        );
        let matrix = rate.args.args[0].as_ref();
        assert_eq!(
            at(parsed.span_of(matrix)),
            Some(r#"http_requests_total{code=~"5..", job!=""}[5m] offset 1m"#)
        );
        assert_eq!(at(parsed.range_span_of(matrix)), Some("5m"));
        assert_eq!(at(parsed.offset_span_of(matrix)), Some("offset 1m"));
        assert_eq!(
            at(parsed.matcher_span(matrix, "code")),
            Some(r#"code=~"5..""#)
        );
        assert_eq!(at(parsed.matcher_span(matrix, "job")), Some(r#"job!="""#));
        assert_eq!(
            at(parsed.matcher_span(matrix, METRIC_NAME)),
            Some("http_requests_total")
        );
        assert_eq!(parsed.matcher_span(matrix, "instance"), None);
        // Queries that do not fit the node kind.
        assert_eq!(parsed.range_span_of(parsed.expr()), None);
        assert_eq!(parsed.grouping_span(matrix), None);
        assert_eq!(parsed.matcher_span(parsed.expr(), "job"), None);
    }

    #[test]
    fn spans_of_trailing_grouping_and_subquery() {
        let text = "sum(max_over_time(rate(x[1m])[30m:15s] @ end())) without (pod)";
        let parsed = parse(text).unwrap();
        let at = |s: Option<Span>| s.map(|s| &text[s]);
        assert_eq!(at(parsed.span_of(parsed.expr())), Some(text));
        assert_eq!(
            at(parsed.grouping_span(parsed.expr())),
            Some("without (pod)")
        );
        let Expr::Aggregate(sum) = parsed.expr() else {
            panic!("aggregate expected")
        };
        let Expr::Call(max) = sum.expr.as_ref() else {
            panic!("call expected")
        };
        let subquery = max.args.args[0].as_ref();
        assert_eq!(
            at(parsed.span_of(subquery)),
            Some("rate(x[1m])[30m:15s] @ end()")
        );
        assert_eq!(at(parsed.range_span_of(subquery)), Some("30m"));
        assert_eq!(at(parsed.step_span_of(subquery)), Some("15s"));
        assert_eq!(at(parsed.at_span_of(subquery)), Some("@ end()"));
    }

    #[test]
    fn spans_of_literals_and_unary() {
        let text = "-(foo) + -1e3 * +0x1F";
        let parsed = parse(text).unwrap();
        let spans: Vec<&str> = nodes(parsed.expr())
            .into_iter()
            .map(|n| span_text(&parsed, n))
            .collect();
        assert_eq!(
            spans,
            [
                "-(foo) + -1e3 * +0x1F",
                "-(foo)",
                "(foo)",
                "foo",
                "-1e3 * +0x1F",
                "-1e3",
                "0x1F"
            ]
        );
    }

    #[test]
    fn spans_need_nodes_of_the_same_tree() {
        let parsed = parse("sum(rate(x[5m]))").unwrap();
        let other = parse("sum(rate(x[5m]))").unwrap();
        assert_eq!(parsed.span_of(other.expr()), None);
        let copy = parsed.expr().clone();
        assert_eq!(parsed.span_of(&copy), None);
        let cloned = parsed.clone();
        assert_eq!(cloned.span_of(cloned.expr()), Some(0..16));
        assert_eq!(parsed.span_of(parsed.expr()), Some(0..16));
    }

    #[test]
    fn a_released_tree_is_parsed_again_with_its_spans() {
        let text = "sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m])) > 1";
        let mut parsed = parse(text).unwrap();
        let before = parsed.expr().to_string();
        assert!(matches!(
            parsed.materialized(),
            std::borrow::Cow::Borrowed(_)
        ));
        parsed.release();
        assert!(parsed.tree().is_none());
        assert_eq!(parsed.text(), text);
        let again = parsed.materialized();
        assert!(matches!(again, std::borrow::Cow::Owned(_)));
        assert_eq!(again.expr().to_string(), before);
        let Expr::Binary(b) = again.expr() else {
            panic!("not a comparison: {:?}", again.expr());
        };
        assert_eq!(
            again.op_span_of(again.expr()).and_then(|s| text.get(s)),
            Some(">")
        );
        assert_eq!(again.span_of(&b.rhs).and_then(|s| text.get(s)), Some("1"));
    }

    fn error_at(text: &str) -> (String, &str) {
        let err = parse(text)
            .err()
            .unwrap_or_else(|| panic!("{text:?} parsed"));
        assert!(err.span.end <= text.len());
        (err.message.clone(), &text[err.span])
    }

    #[test]
    fn error_positions() {
        let cases: &[(&str, &str)] = &[
            ("unknown_fn(foo)", "unknown_fn"),
            ("rate(x[5m]) + rat(y[5m])", "rat"),
            ("histogram_quantile(0.9)", "histogram_quantile"),
            ("rate(x[5m]) + rate(y)", "rate"),
            ("sum(rate(x[5m])", "("),
            ("(a + b) * (c", "("),
            ("foo{a=\"b", "\"b"),
            ("foo{a=\"b\"", "{a=\"b\""),
            ("foo[5m", "[5m"),
            ("rate(foo[5q])", "5q"),
            ("foo offset 5x", "5x"),
            ("foo +", "+"),
            ("rate(foo[5m]) >", ">"),
            ("foo and", "and"),
            ("sum(x) by", "by"),
            ("(foo +)", "+"),
            ("foo bar", "bar"),
            ("rate(x[5m] anchored)", "anchored"),
            ("foo ! bar", "! "),
            ("foo{a!b}", "!b"),
            ("x =~ y", "=~"),
            ("foo{a=b}", "b"),
            ("foo{a}", "a"),
            ("sum(x,)", ","),
            ("foo[]", "[]"),
            ("foo[0s]", "0s"),
            ("foo offset", "offset"),
            ("foo @", "@"),
            ("(foo) offset 5m", "offset"),
            ("x offset 5m offset 5m", "offset"),
            ("1 > 2", ">"),
            ("foo and 1", "and"),
            ("x * on(a) group_left(a) y", "group_left"),
            ("x + bool y", "bool"),
            ("abs(x) [5m]", "[5m]"),
            ("count_values(1, x)", "count_values"),
            ("sum(x) + topk(\"a\", x)", "topk"),
            ("foo{a=~\"(\"}", "a=~\"(\""),
            ("sum by (1a) (x)", "1a"),
            ("foo{offset_x=y}", "y"),
            ("foo @ 1e400", "@"),
            ("foo offset 1m @ 5 @ 6", "@"),
            ("up{x=\"\"} + {a=~\".*\"}", "{a=~\".*\"}"),
        ];
        for (text, expected) in cases {
            let (message, at) = error_at(text);
            assert_eq!(at, *expected, "{text:?}: {message}");
        }
        // Nothing better than the whole expression.
        assert_eq!(error_at("").1, "");
        assert_eq!(error_at("  # only a comment").1, "  # only a comment");
        assert_eq!(error_at("-\"a\"").1, "-\"a\"");
    }

    #[test]
    fn error_messages_are_the_parsers() {
        let err = parse("histogram_quantile(0.9)").unwrap_err();
        assert_eq!(
            err.message,
            "expected 2 argument(s) in call to 'histogram_quantile', got 1"
        );
        assert_eq!(err.to_string(), err.message);
        assert_eq!(
            parse("sum(x").unwrap_err().message,
            "unclosed left parenthesis"
        );
    }

    /// Variants of an expression with characters cut, dropped or inserted.
    fn mangled(text: &str) -> Vec<String> {
        let bounds: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain([text.len()])
            .collect();
        let mut out = Vec::new();
        for (n, &i) in bounds.iter().enumerate() {
            out.push(text[..i].to_string());
            out.push(text[i..].to_string());
            if let Some(&next) = bounds.get(n + 1) {
                if n % 2 == 0 {
                    out.push(format!("{}{}", &text[..i], &text[next..]));
                }
            }
            if n % 7 == 0 {
                for insert in [
                    "(", ")", "[", "]", "{", "}", "\"", ",", "+", "!", "~", "by", ":", "ü",
                ] {
                    out.push(format!("{}{insert}{}", &text[..i], &text[i..]));
                }
            }
        }
        out
    }

    #[test]
    fn mangled_expressions_never_panic() {
        let texts = CORPUS.iter().take(12).chain(EDGE_CASES);
        for text in texts {
            for variant in mangled(text) {
                match parse(&variant) {
                    Ok(parsed) => {
                        for node in nodes(parsed.expr()) {
                            if let Some(span) = parsed.span_of(node) {
                                assert!(variant.get(span).is_some());
                            }
                        }
                        output_labels(parsed.expr(), &no_metrics);
                    }
                    Err(err) => {
                        assert!(err.span.start <= err.span.end);
                        assert!(variant.get(err.span.clone()).is_some(), "{variant:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn odd_inputs_never_panic() {
        for text in [
            "",
            " ",
            "\n",
            "#",
            "(",
            ")",
            "[",
            "]",
            "{",
            "}",
            "\"",
            "'",
            "`",
            "\\",
            "@",
            "!",
            "=",
            "=~",
            "~",
            ".",
            "..",
            "0x",
            "1e",
            "1e+",
            "0.",
            ".5",
            "ü",
            "(((((",
            ")))))",
            "[[",
            "{{",
            "foo{",
            "foo}",
            "foo[",
            "foo]",
            "foo[5m:",
            "foo[5m::]",
            "foo[:5m]",
            "\"\\",
            "\"\\q\"",
            "x @ start(",
            "x offset -",
            "sum by",
            "sum by (",
            "sum by ()",
            "a * on",
            "a * on(",
            "a group_left",
            "fill(1)",
            "1 + fill(1) 2",
            "bool",
            "offset",
            "by",
            "-",
            "+",
            "- -",
            "foo{a=\"b\" or}",
            "{or a=\"b\"}",
            "rate()",
            "label_replace()",
            "absent()",
        ] {
            if let Err(err) = parse(text) {
                assert!(text.get(err.span.clone()).is_some(), "{text:?}");
            }
        }
        check_spans(&format!("{}x{}", "(".repeat(100), ")".repeat(100)));
        check_spans(&vec!["x"; 250].join(" + "));
        // Deeper trees get no spans and unknown labels at the bottom, but do not overflow.
        for depth in [1_000, 5_000] {
            let parsed = parse(&format!("{}x{}", "(".repeat(depth), ")".repeat(depth))).unwrap();
            assert!(!parsed.has_spans());
            assert!(output_labels(parsed.expr(), &no_metrics).open);
            let parsed = parse(&vec!["x"; depth].join(" * ")).unwrap();
            assert!(!parsed.has_spans());
            assert!(output_labels(parsed.expr(), &no_metrics).open);
        }
        let long = vec!["rate(x[5m])"; 100].join(" / ");
        check_spans(&long);
        assert!(parse(&format!("{long} +")).is_err());
        assert_eq!(parse(&format!("{long} + (")).unwrap_err().span.len(), 1);
        let text = format!("{long} + foo{{a!b}} + {long}");
        assert_eq!(&text[parse(&text).unwrap_err().span], "!b");
    }

    // ---- labels -------------------------------------------------------------------------

    #[test]
    fn selector_labels() {
        let info = labels("up");
        assert!(info.open && !info.empty);
        assert_eq!(info.known, set(&[METRIC_NAME]));
        assert_eq!(info.presence(METRIC_NAME), Presence::Yes);
        assert_eq!(info.presence("job"), Presence::Maybe);

        let info =
            labels(r#"up{job="x", instance!="", env!="prod", a=~".*", b=~"b.+", c="", d!~".+"}"#);
        assert!(info.open);
        assert_eq!(
            info.known,
            set(&[METRIC_NAME, "a", "b", "env", "instance", "job"])
        );
        assert_eq!(info.maybe, set(&["a", "env"]));
        assert_eq!(info.removed, set(&["c", "d"]));
        assert_eq!(info.presence("job"), Presence::Yes);
        assert_eq!(info.presence("env"), Presence::Maybe);
        assert_eq!(info.presence("c"), Presence::No);

        assert_eq!(labels("x[5m]"), labels("x"));
        assert_eq!(
            labels(r#"{__name__="up", job="a"}"#).known,
            set(&[METRIC_NAME, "job"])
        );

        let info = labels(r#"up{job="a" or instance="b"}"#);
        assert_eq!(info.presence("job"), Presence::Maybe);
        assert_eq!(info.presence("instance"), Presence::Maybe);
        assert_eq!(info.presence(METRIC_NAME), Presence::Yes);
    }

    #[test]
    fn selector_labels_from_metric_definitions() {
        let defs = |name: &str| (name == "up").then(|| set(&["instance", "job"]));
        let of = |expr: &str| output_labels(parse(expr).unwrap().expr(), &defs);
        let info = of(r#"up{job="x"}"#);
        assert!(!info.open);
        assert_eq!(info.known, set(&[METRIC_NAME, "instance", "job"]));
        assert_eq!(info.presence("team"), Presence::No);
        assert_eq!(
            of(r#"up{team="a"}"#).known,
            set(&[METRIC_NAME, "instance", "job", "team"])
        );
        assert_eq!(of(r#"up{team!="a"}"#).presence("team"), Presence::No);
        assert_eq!(of(r#"up{job=""}"#).presence("job"), Presence::No);
        assert_eq!(
            of(r#"{__name__="up"}"#).known,
            set(&[METRIC_NAME, "instance", "job"])
        );
        assert_eq!(of("sum by (job, team) (up)").known, set(&["job"]));
        assert!(of("other").open);
    }

    #[test]
    fn function_labels() {
        let info = labels(r#"rate(x{job="a"}[5m])"#);
        assert!(info.open);
        assert_eq!(info.known, set(&["job"]));
        assert_eq!(info.presence(METRIC_NAME), Presence::No);
        for keeps_name in [
            "last_over_time(x[5m])",
            "first_over_time(x[5m])",
            "sort(x)",
            "sort_desc(x)",
            "sort_by_label(x, \"a\")",
        ] {
            assert_eq!(
                labels(keeps_name).presence(METRIC_NAME),
                Presence::Yes,
                "{keeps_name}"
            );
        }
        for drops_name in [
            "abs(x)",
            "clamp(x, 0, 1)",
            "round(x, 5)",
            "timestamp(x)",
            "predict_linear(x[1h], 60)",
            "quantile_over_time(0.5, x[1h])",
            "histogram_fraction(0, 1, x)",
            "hour(x)",
            "increase(x[5m])",
        ] {
            let info = labels(drops_name);
            assert_eq!(info.presence(METRIC_NAME), Presence::No, "{drops_name}");
            assert!(info.open, "{drops_name}");
        }
        for empty in [
            "vector(1)",
            "time()",
            "scalar(x)",
            "pi()",
            "hour()",
            "1",
            "\"s\"",
            "-1",
        ] {
            let info = labels(empty);
            assert!(info.empty && !info.open && info.known.is_empty(), "{empty}");
            assert_eq!(info.presence("job"), Presence::No);
        }
        let info = labels("histogram_quantile(0.9, rate(x_bucket[5m]))");
        assert!(info.open);
        assert_eq!(info.removed, set(&[METRIC_NAME, "le"]));
        let info = labels("histogram_quantiles(x, \"q\", 0.5, 0.9)");
        assert_eq!(info.presence("q"), Presence::Yes);
        assert_eq!(info.presence("le"), Presence::No);
        assert_eq!(labels("info(x)").presence(METRIC_NAME), Presence::Yes);
    }

    #[test]
    fn label_replace_and_join() {
        let info = labels(r#"label_replace(up, "host", "$1", "instance", "(.*):.*")"#);
        assert_eq!(info.presence("host"), Presence::Maybe);
        assert_eq!(info.presence(METRIC_NAME), Presence::Yes);
        assert_eq!(
            labels(r#"label_replace(up, "a", "x", "b", ".*")"#).presence("a"),
            Presence::Yes
        );
        assert_eq!(
            labels(r#"label_replace(up, "a", "x", "b", "y")"#).presence("a"),
            Presence::Maybe
        );
        assert_eq!(
            labels(r#"label_replace(up{a="1"}, "a", "x", "b", "y")"#).presence("a"),
            Presence::Yes
        );
        assert_eq!(
            labels(r#"label_replace(up{a="1"}, "a", "", "b", "y")"#).presence("a"),
            Presence::Maybe
        );
        assert_eq!(
            labels(r#"label_replace(up, "a", "", "b", ".*")"#).presence("a"),
            Presence::No
        );
        assert_eq!(
            labels(r#"label_replace(up{a=""}, "a", "", "b", "y")"#).presence("a"),
            Presence::No
        );
        assert_eq!(
            labels(r#"label_replace(up{b="1"}, "a", "$1", "b", "(.*)")"#).presence("a"),
            Presence::Yes
        );
        let info = labels(r#"sum by (job) (label_replace(up, "a", "$1", "b", "(.*)"))"#);
        assert_eq!(info.known, set(&["job"]));

        assert_eq!(
            labels(r#"label_join(up, "ab", "-", "a", "b")"#).presence("ab"),
            Presence::Yes
        );
        assert_eq!(
            labels(r#"label_join(up, "ab", "", "a", "b")"#).presence("ab"),
            Presence::Maybe
        );
        assert_eq!(
            labels(r#"label_join(up{a="1"}, "ab", "", "a")"#).presence("ab"),
            Presence::Yes
        );
        assert_eq!(
            labels(r#"label_join(up, "ab", ",")"#).presence("ab"),
            Presence::No
        );
    }

    #[test]
    fn absent_labels() {
        let info = labels(r#"absent(up{job="x"})"#);
        assert!(!info.open && !info.empty);
        assert_eq!(info.known, set(&["job"]));
        assert!(info.maybe.is_empty());
        let info = labels(r#"absent_over_time(up{job="x", env=~"p.*", a="1", a="2", b=""}[5m])"#);
        assert_eq!(info.known, set(&["job"]));
        assert_eq!(info.presence("env"), Presence::No);
        assert_eq!(info.presence("a"), Presence::No);
        assert!(labels("absent(nonexistent)").empty);
        assert!(labels(r#"absent(up{job="x"} == 1)"#).empty);
    }

    #[test]
    fn aggregation_labels() {
        let info = labels(r#"sum(x{job="a"})"#);
        assert!(info.empty && !info.open);
        assert_eq!(info.presence("job"), Presence::No);
        assert!(labels("sum by () (x)").empty);

        let info = labels(r#"sum by (job, instance, gone) (x{job="a", gone=""})"#);
        assert!(!info.open);
        assert_eq!(info.known, set(&["instance", "job"]));
        assert_eq!(info.presence("job"), Presence::Yes);
        assert_eq!(info.presence("instance"), Presence::Maybe);
        assert_eq!(info.presence("gone"), Presence::No);
        assert_eq!(info.presence(METRIC_NAME), Presence::No);
        assert_eq!(info.presence("other"), Presence::No);

        let info = labels(r#"max without (instance) (x{job="a"})"#);
        assert!(info.open);
        assert_eq!(info.known, set(&["job"]));
        assert_eq!(info.removed, set(&[METRIC_NAME, "instance"]));

        let info = labels(r#"count_values("version", build_info)"#);
        assert_eq!(info.known, set(&["version"]));
        assert!(!info.open);
        let info = labels(r#"count_values by (job) ("version", build_info)"#);
        assert_eq!(info.known, set(&["job", "version"]));
        assert_eq!(info.presence("version"), Presence::Yes);

        for keeps in [
            "topk(3, x{a=\"b\"})",
            "bottomk by (c) (3, x{a=\"b\"})",
            "limitk(2, x{a=\"b\"})",
            "limit_ratio(0.5, x{a=\"b\"})",
        ] {
            let info = labels(keeps);
            assert!(info.open, "{keeps}");
            assert_eq!(info.known, set(&[METRIC_NAME, "a"]), "{keeps}");
        }
        let info = labels("quantile(0.9, x) by (a)");
        assert_eq!(info.known, set(&["a"]));
        assert!(!info.open);
    }

    #[test]
    fn binary_labels() {
        // Vector and scalar.
        let info = labels(r#"x{a="1"} * 2"#);
        assert_eq!(info.presence(METRIC_NAME), Presence::No);
        assert_eq!(info.presence("a"), Presence::Yes);
        assert_eq!(labels("2 * x").presence(METRIC_NAME), Presence::No);
        assert_eq!(labels("x > 2").presence(METRIC_NAME), Presence::Yes);
        assert_eq!(labels("2 < x").presence(METRIC_NAME), Presence::Yes);
        assert_eq!(labels("x > bool 2").presence(METRIC_NAME), Presence::No);
        assert!(labels("1 + 2").empty);
        assert!(labels("time() - 5").empty);

        // One-to-one.
        let info = labels(r#"x{a="1"} / y{b="2"}"#);
        assert_eq!(info.known, set(&["a"]));
        assert_eq!(info.presence(METRIC_NAME), Presence::No);
        assert!(info.open);
        assert_eq!(labels("x > y").presence(METRIC_NAME), Presence::Yes);
        assert_eq!(labels("x > bool y").presence(METRIC_NAME), Presence::No);
        // `on` keeps only the matching labels (Prometheus' resultMetric).
        let info = labels(r#"x{a="1", b="2"} / on (a, c) y"#);
        assert!(!info.open);
        assert_eq!(info.known, set(&["a", "c"]));
        assert_eq!(info.presence("a"), Presence::Yes);
        assert_eq!(info.presence("c"), Presence::Maybe);
        assert_eq!(info.presence("b"), Presence::No);
        assert!(labels("x / on () y").empty);
        assert_eq!(
            labels("x > on (__name__, a) y").presence(METRIC_NAME),
            Presence::Yes
        );
        let info = labels(r#"x{a="1", b="2"} - ignoring (b) y"#);
        assert!(info.open);
        assert_eq!(info.known, set(&["a"]));
        assert_eq!(info.removed, set(&[METRIC_NAME, "b"]));

        // Many-to-one and one-to-many.
        let info = labels(r#"x{a="1"} * on (a) group_left (team, gone) y{team="t", gone=""}"#);
        assert!(info.open);
        assert_eq!(info.known, set(&["a", "team"]));
        assert_eq!(info.presence("team"), Presence::Yes);
        assert_eq!(info.presence("gone"), Presence::No);
        let info = labels(r#"x{a="1"} * on (b) group_right (a) y{b="2"}"#);
        assert_eq!(info.known, set(&["a", "b"]));
        assert_eq!(info.presence(METRIC_NAME), Presence::No);
        assert_eq!(
            labels("x == on (a) group_left y").presence(METRIC_NAME),
            Presence::Yes
        );

        // Set operators.
        let info = labels(r#"x{a="1"} and on (b) y{b="2"}"#);
        assert_eq!(info.known, set(&[METRIC_NAME, "a"]));
        assert!(info.open);
        assert_eq!(
            labels(r#"x{a="1"} unless y"#).known,
            set(&[METRIC_NAME, "a"])
        );
        let info = labels(r#"sum by (a, b) (x{a="1", b="1"}) or sum by (a, c) (y{a="2"})"#);
        assert!(!info.open);
        assert_eq!(info.known, set(&["a", "b", "c"]));
        assert_eq!(info.presence("a"), Presence::Yes);
        assert_eq!(info.presence("b"), Presence::Maybe);
        assert_eq!(info.presence("c"), Presence::Maybe);
        assert_eq!(info.presence("d"), Presence::No);
        assert_eq!(info.presence(METRIC_NAME), Presence::No);
        let info = labels("sum(x) or y");
        assert!(info.open);
        assert_eq!(info.presence(METRIC_NAME), Presence::Maybe);
    }

    #[test]
    fn wrapper_labels() {
        assert_eq!(labels(r#"-x{a="1"}"#).removed, set(&[METRIC_NAME]));
        assert_eq!(labels(r#"(x{a="1"})"#), labels(r#"x{a="1"}"#));
        assert_eq!(labels(r#"x{a="1"}[1h:5m]"#), labels(r#"x{a="1"}"#));
        assert_eq!(
            labels(r#"max_over_time(sum by (a) (x)[1h:5m])"#).known,
            set(&["a"])
        );
    }

    #[test]
    fn labels_of_real_alerts() {
        let info = labels("sum by (job) (rate(x[5m])) / on(job) group_left(team) y");
        assert!(info.known.is_superset(&set(&["job", "team"])));
        assert_ne!(info.presence("team"), Presence::No);

        let info = labels("histogram_quantile(0.95, sum by (le, service) (rate(h_bucket[5m])))");
        assert_eq!(info.known, set(&["service"]));
        assert!(info.removed.contains("le"));
        assert!(!info.open);

        let info = labels(r#"avg by(instance) (irate(node_cpu_seconds_total{mode="idle"}[5m]))"#);
        assert_eq!(info.known, set(&["instance"]));
        assert!(!info.open);
        assert_eq!(info.presence("mode"), Presence::No);

        let info = labels(r#"rate(http_requests_total{status_code=~"5.."}[5m]) > 0.05"#);
        assert!(info.open);
        assert!(info.known.contains("status_code"));
        assert_eq!(info.presence("status_code"), Presence::Yes);

        let info = labels(r#"absent(up{job="x"})"#);
        assert_eq!(info.known, set(&["job"]));
        assert!(!info.open);
    }

    #[test]
    fn presence_of_default_info() {
        let info = LabelInfo::default();
        assert_eq!(info.presence("a"), Presence::No);
        let info = LabelInfo {
            open: true,
            ..LabelInfo::default()
        };
        assert_eq!(info.presence("a"), Presence::Maybe);
    }
}
