//! Field types shared by every parser: spanned strings and durations, and parse problems.

use crate::parse::scalar::ScalarStyle;
use crate::parse::scalar::{self, PromDuration};
use crate::parse::yaml::{Key, Node, Value};
use crate::source::{Span, Text};

/// A problem found while parsing a file, reported by the check named in `check`.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub check: &'static str,
    pub message: String,
    pub span: Span,
    pub help: Option<String>,
    /// A severity below the check's default (e.g. YAML type traps promtool accepts).
    pub downgrade: bool,
    /// Secondary locations shown with the problem (e.g. where a repeated name was first defined).
    pub related: Vec<(Span, String)>,
}

/// A string scalar with the span of the scalar as written.
#[derive(Debug, Clone, PartialEq)]
pub struct SStr {
    /// A range of the source when written verbatim (see [`Text`]).
    pub value: Text,
    pub span: Span,
}

impl From<&Key> for SStr {
    /// A mapping key and its span (a copy of the name; [`Reader::key`] may share it).
    fn from(key: &Key) -> SStr {
        SStr {
            value: key.name.as_str().into(),
            span: key.span.clone(),
        }
    }
}

impl SStr {
    /// Map a byte range of `value` to the source, through quoting/folding of the scalar.
    pub fn inner_span(&self, src: &str, inner: &Span) -> Span {
        inner_span(src, &self.span, &self.value, inner)
    }
}

/// Map a byte range of a scalar's `value` to the source, through the quoting/folding of the
/// scalar written at `span`.
pub fn inner_span(src: &str, span: &Span, value: &str, inner: &Span) -> Span {
    let len = span.end - span.start;
    match scalar::content_offsets(src, span.start, len, value) {
        Some(map) if inner.end < map.len() && inner.start <= inner.end => {
            let end = if inner.end > inner.start {
                map[inner.end - 1] + 1
            } else {
                map[inner.start]
            };
            let start = map[inner.start];
            let mut end = end.max(start);
            // a multi-byte char at the end
            while end < src.len() && !src.is_char_boundary(end) {
                end += 1;
            }
            start..end
        }
        _ => span.clone(),
    }
}

#[derive(Debug)]
pub struct Duration {
    pub text: SStr,
    pub value: Option<PromDuration>,
}

/// Reads typed fields out of a YAML tree, collecting every problem (unknown keys, wrong types,
/// bad durations) as an [`Issue`] of one check, at its position.
pub struct Reader<'a> {
    pub src: &'a str,
    /// The source as the run holds it, when the strings read may be ranges of it ([`Text`]).
    shared: Option<&'a std::sync::Arc<str>>,
    pub check: &'static str,
    /// Help shown with unknown-field problems (what the consuming program does with them).
    pub unknown_help: &'static str,
    pub issues: Vec<Issue>,
}

impl<'a> Reader<'a> {
    pub fn new(src: &'a str, check: &'static str, unknown_help: &'static str) -> Reader<'a> {
        Reader {
            src,
            shared: None,
            check,
            unknown_help,
            issues: Vec::new(),
        }
    }

    /// A reader whose strings written verbatim in `src` are ranges of it, not copies (for a
    /// model kept for the whole run, such as a rule file's).
    pub fn shared(
        src: &'a std::sync::Arc<str>,
        check: &'static str,
        unknown_help: &'static str,
    ) -> Reader<'a> {
        Reader {
            shared: Some(src),
            ..Reader::new(src, check, unknown_help)
        }
    }

    /// The text of a scalar's `value` written at `span`: a range of the source when possible.
    pub fn text(&self, span: &Span, value: &str) -> Text {
        match self.shared {
            Some(src) => Text::within(src, span, value),
            None => Text::from(value),
        }
    }

    /// A key with its span.
    pub fn key(&self, key: &Key) -> SStr {
        SStr {
            value: self.text(&key.span, &key.name),
            span: key.span.clone(),
        }
    }

    pub fn err(&mut self, span: Span, message: impl Into<String>, help: Option<&str>) {
        self.issues.push(Issue {
            check: self.check,
            message: message.into(),
            span,
            help: help.map(str::to_string),
            downgrade: false,
            related: Vec::new(),
        });
    }

    pub fn unknown_key(&mut self, key: &Key, what: &str, valid: &[&str]) {
        let suggestion = crate::parse::closest(&key.name, valid);
        let mut msg = format!(
            "unknown field `{}` in {what}; valid fields: {}",
            key.name,
            valid.join(", ")
        );
        if let Some(s) = suggestion {
            msg.push_str(&format!(" (did you mean `{s}`?)"));
        }
        let help = self.unknown_help;
        self.err(key.span.clone(), msg, Some(help));
    }

    pub fn wrong_type(&mut self, node: &Node, field: &str, expected: &str) {
        let span = node.head_span(self.src);
        self.err(
            span,
            format!("`{field}` must be {expected}, found a {}", node.type_name()),
            None,
        );
    }

    /// A string field: any scalar (as Go's YAML decoder does), with a warning for YAML 1.1 traps.
    pub fn string(&mut self, node: &Node, field: &str) -> Option<SStr> {
        match &node.value {
            Value::Map(_) | Value::Seq(_) => {
                self.wrong_type(node, field, "a string");
                None
            }
            Value::Bool(_) | Value::Int(_) | Value::Float(_) => {
                let raw = node.raw(self.src).trim().to_string();
                if matches!(node.value, Value::Bool(_))
                    && scalar::scalar_style(self.src, node.span.start) == ScalarStyle::Plain
                {
                    self.issues.push(Issue {
                        check: self.check,
                        message: format!(
                            "`{field}: {raw}` is an unquoted YAML boolean: Prometheus reads it as the string \"{raw}\", but YAML 1.1 tools (and anyone reading the file) see `{}`",
                            matches!(node.value, Value::Bool(true))
                        ),
                        span: node.span.clone(),
                        help: Some(format!("quote it: `{field}: \"{raw}\"`")),
                        downgrade: true,
                        related: Vec::new(),
                    });
                }
                Some(SStr {
                    value: self.text(&node.span, &raw),
                    span: node.span.clone(),
                })
            }
            Value::Null => Some(SStr {
                value: Text::default(),
                span: node.span.clone(),
            }),
            Value::Str(s) => Some(SStr {
                value: self.text(&node.span, s),
                span: node.span.clone(),
            }),
        }
    }

    pub fn duration(&mut self, node: &Node, field: &str) -> Option<Duration> {
        let text = self.string(node, field)?;
        if matches!(node.value, Value::Null) {
            return None;
        }
        let value = match scalar::parse_duration(&text.value) {
            Ok(d) => Some(d),
            Err(e) => {
                self.err(
                    text.span.clone(),
                    format!("invalid duration in `{field}`: {e}"),
                    Some("durations are integers with units y, w, d, h, m, s, ms in that order, e.g. `5m` or `1h30m`"),
                );
                None
            }
        };
        Some(Duration { text, value })
    }
}
