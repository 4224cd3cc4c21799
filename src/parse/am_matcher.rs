//! Alertmanager label matchers (`matchers:`, `source_matchers:`, `target_matchers:`, and the
//! `match_re` regexes).
//!
//! Alertmanager (0.27 and later, default "fallback" mode) parses a matcher string with the
//! UTF-8 parser of `matcher/parse`, and if that fails, with the classic parser of `pkg/labels`
//! (logging a deprecation warning); the config is rejected only when both fail. Both parsers are
//! implemented here so obsgate accepts exactly what Alertmanager accepts, and can say when a
//! matcher works only through the deprecated classic parser.
//!
//! Regular expressions are anchored (`^(?:re)$`) and compiled with the `regex` crate, whose
//! syntax is RE2's with these differences that matter here: Go accepts `\Q...\E` literal runs
//! and `\C` (Rust rejects both), and Rust accepts a few constructs Go rejects (character class
//! set operations `[a-z&&[^x]]`, `\<`/`\>` word boundaries). obsgate reports `\Q..\E` as
//! unsupported only through the regex error, which never happens in the configs seen so far.

use crate::parse::scalar::go_quote;
use crate::source::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

impl MatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }
    pub fn is_regex(self) -> bool {
        matches!(self, MatchOp::Regex | MatchOp::NotRegex)
    }
}

/// One parsed matcher. Spans are byte ranges into the matcher *string* (the decoded YAML value).
#[derive(Debug, Clone, PartialEq)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
    pub span: Span,
}

impl Matcher {
    /// The matcher in Alertmanager's current syntax (`name="value"`, names quoted when they are
    /// not classic label names).
    pub fn render(&self) -> String {
        render(&self.name, self.op, &self.value)
    }
}

/// `name<op>"value"` in the current matcher syntax.
pub fn render(name: &str, op: MatchOp, value: &str) -> String {
    let name = if crate::parse::scalar::is_legacy_label_name(name) {
        name.to_string()
    } else {
        go_quote(name)
    };
    format!("{name}{}{}", op.as_str(), go_quote(value))
}

/// A matcher-string problem: message and span inside the string.
#[derive(Debug, Clone, PartialEq)]
pub struct MatcherError {
    pub message: String,
    pub span: Span,
}

/// Which parser accepted the string.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// The current (UTF-8) parser.
    Current(Vec<Matcher>),
    /// Only the deprecated classic parser (Alertmanager logs a warning; a future release
    /// rejects it). The error is what the current parser says.
    ClassicOnly(Vec<Matcher>, MatcherError),
}

impl Parsed {
    pub fn matchers(&self) -> &[Matcher] {
        match self {
            Parsed::Current(m) | Parsed::ClassicOnly(m, _) => m,
        }
    }
}

/// Parse as Alertmanager's default fallback mode does.
pub fn parse(s: &str) -> Result<Parsed, MatcherError> {
    match parse_current(s) {
        Ok(m) => Ok(Parsed::Current(m)),
        Err(e) => match parse_classic(s) {
            Ok(m) => Ok(Parsed::ClassicOnly(m, e)),
            Err(_) => Err(e),
        },
    }
}

/// Compile an Alertmanager regex the way it is matched (anchored at both ends).
pub fn anchored(re: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(&format!("^(?:{re})$"))
        .size_limit(1 << 22)
        .build()
        .map_err(|e| regex_message(&e))
}

fn regex_message(e: &regex::Error) -> String {
    match e {
        regex::Error::Syntax(s) => {
            // the last non-empty line is the error itself ("error: ...")
            let line = s
                .lines()
                .rev()
                .find(|l| l.trim_start().starts_with("error:"))
                .unwrap_or(s.lines().last().unwrap_or(""));
            line.trim().trim_start_matches("error:").trim().to_string()
        }
        regex::Error::CompiledTooBig(n) => format!("the compiled regex exceeds {n} bytes"),
        _ => e.to_string(),
    }
}

// ---- the current parser (alertmanager matcher/parse) ----

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    Comma,
    Op(MatchOp),
    Unquoted(String),
    Quoted(String),
}

fn is_reserved(c: char) -> bool {
    c.is_whitespace() || "{}!=~,\\\"'`".contains(c)
}

fn lex(s: &str) -> Result<Vec<(Tok, Span)>, MatcherError> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < s.len() {
        let c = s[i..].chars().next().unwrap_or(' ');
        let start = i;
        match c {
            c if c.is_whitespace() => i += c.len_utf8(),
            '{' => {
                out.push((Tok::Open, i..i + 1));
                i += 1
            }
            '}' => {
                out.push((Tok::Close, i..i + 1));
                i += 1
            }
            ',' => {
                out.push((Tok::Comma, i..i + 1));
                i += 1
            }
            '=' | '!' => {
                let next = b.get(i + 1).copied();
                let op = match (c, next) {
                    ('=', Some(b'~')) => Some((MatchOp::Regex, 2)),
                    ('=', _) => Some((MatchOp::Equal, 1)),
                    ('!', Some(b'=')) => Some((MatchOp::NotEqual, 2)),
                    ('!', Some(b'~')) => Some((MatchOp::NotRegex, 2)),
                    _ => None,
                };
                match op {
                    Some((op, n)) => {
                        out.push((Tok::Op(op), i..i + n));
                        i += n
                    }
                    None => {
                        return Err(MatcherError {
                            message: "expected `!=` or `!~` after `!`".into(),
                            span: i..i + 1,
                        })
                    }
                }
            }
            '"' => {
                let mut j = i + 1;
                let mut value = String::new();
                let mut closed = false;
                while j < s.len() {
                    let ch = s[j..].chars().next().unwrap_or('"');
                    match ch {
                        '"' => {
                            closed = true;
                            j += 1;
                            break;
                        }
                        '\\' => {
                            let (decoded, n) = go_escape(&s[j..]).map_err(|m| MatcherError {
                                message: m,
                                span: j..(j + 2).min(s.len()),
                            })?;
                            value.push_str(&decoded);
                            j += n;
                        }
                        '\n' => {
                            return Err(MatcherError {
                                message: "a quoted string cannot contain a line break".into(),
                                span: j..j + 1,
                            })
                        }
                        ch => {
                            value.push(ch);
                            j += ch.len_utf8();
                        }
                    }
                }
                if !closed {
                    return Err(MatcherError {
                        message: "unterminated quoted string (missing closing `\"`)".into(),
                        span: start..s.len(),
                    });
                }
                out.push((Tok::Quoted(value), start..j));
                i = j;
            }
            '~' | '\\' | '\'' | '`' => {
                return Err(MatcherError {
                    message: format!(
                        "unexpected `{c}`: quote values that contain it (`name=\"...\"`)"
                    ),
                    span: i..i + c.len_utf8(),
                })
            }
            _ => {
                let mut j = i;
                while j < s.len() {
                    let ch = s[j..].chars().next().unwrap_or(' ');
                    if is_reserved(ch) {
                        break;
                    }
                    j += ch.len_utf8();
                }
                out.push((Tok::Unquoted(s[i..j].to_string()), i..j));
                i = j;
            }
        }
    }
    Ok(out)
}

/// Decode one Go string escape at the start of `s` (which begins with `\`); returns the text
/// and the number of bytes consumed.
fn go_escape(s: &str) -> Result<(String, usize), String> {
    let mut it = s[1..].chars();
    let c = it
        .next()
        .ok_or_else(|| "unterminated escape sequence".to_string())?;
    let simple = match c {
        'a' => Some('\u{7}'),
        'b' => Some('\u{8}'),
        'f' => Some('\u{c}'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\u{b}'),
        '\\' => Some('\\'),
        '"' => Some('"'),
        _ => None,
    };
    if let Some(ch) = simple {
        return Ok((ch.to_string(), 2));
    }
    let hex = |n: usize| -> Result<u32, String> {
        let digits = s.get(2..2 + n).ok_or("truncated escape sequence")?;
        u32::from_str_radix(digits, 16)
            .map_err(|_| format!("invalid escape sequence `\\{c}{digits}`"))
    };
    match c {
        'x' => {
            let v = hex(2)?;
            Ok((char::from_u32(v).unwrap_or('\u{fffd}').to_string(), 4))
        }
        'u' => {
            let v = hex(4)?;
            char::from_u32(v)
                .map(|ch| (ch.to_string(), 6))
                .ok_or_else(|| "invalid Unicode escape".to_string())
        }
        'U' => {
            let v = hex(8)?;
            char::from_u32(v)
                .map(|ch| (ch.to_string(), 10))
                .ok_or_else(|| "invalid Unicode escape".to_string())
        }
        '0'..='7' => {
            let digits = s.get(1..4).ok_or("truncated octal escape")?;
            let v =
                u32::from_str_radix(digits, 8).map_err(|_| "invalid octal escape".to_string())?;
            if v > 255 {
                return Err("octal escape value > 255".into());
            }
            Ok((char::from_u32(v).unwrap_or('\u{fffd}').to_string(), 4))
        }
        other => Err(format!(
            "invalid escape sequence `\\{other}` (valid: \\\" \\\\ \\n \\t \\r \\xNN \\uNNNN)"
        )),
    }
}

/// The current (UTF-8) parser of Alertmanager's `matcher/parse`.
pub fn parse_current(s: &str) -> Result<Vec<Matcher>, MatcherError> {
    let toks = lex(s)?;
    let end = s.len();
    let mut i = 0;
    let mut out = Vec::new();
    let braced = matches!(toks.first(), Some((Tok::Open, _)));
    if braced {
        i = 1;
        match toks.last() {
            Some((Tok::Close, _)) if toks.len() >= 2 => {}
            _ => {
                return Err(MatcherError {
                    message: "missing closing `}`".into(),
                    span: toks[0].1.clone(),
                })
            }
        }
    }
    let stop = if braced { toks.len() - 1 } else { toks.len() };
    let tok_at = |i: usize| -> Option<&(Tok, Span)> { (i < stop).then(|| &toks[i]) };
    let at_span = |i: usize| -> Span {
        if i < stop {
            toks[i].1.clone()
        } else if braced {
            toks[stop].1.clone()
        } else {
            end..end
        }
    };
    while i < stop {
        // label name
        let (name, name_span) = match tok_at(i) {
            Some((Tok::Unquoted(n), sp)) | Some((Tok::Quoted(n), sp)) => (n.clone(), sp.clone()),
            Some((t, sp)) => {
                return Err(MatcherError {
                    message: format!("expected a label name, found {}", describe(t)),
                    span: sp.clone(),
                })
            }
            None => break,
        };
        if name.is_empty() {
            return Err(MatcherError {
                message: "label name must not be empty".into(),
                span: name_span,
            });
        }
        i += 1;
        let op = match tok_at(i) {
            Some((Tok::Op(op), _)) => *op,
            other => {
                return Err(MatcherError {
                    message: format!(
                        "expected an operator (`=`, `!=`, `=~`, `!~`) after `{name}`, found {}",
                        other.map(|(t, _)| describe(t)).unwrap_or("the end".into())
                    ),
                    span: at_span(i),
                })
            }
        };
        i += 1;
        let (value, value_end) = match tok_at(i) {
            Some((Tok::Unquoted(v), sp)) | Some((Tok::Quoted(v), sp)) => {
                i += 1;
                (v.clone(), sp.end)
            }
            // `foo=` is `foo=""`
            Some((Tok::Comma, _)) | None => (String::new(), toks[i - 1].1.end),
            Some((t, sp)) => {
                return Err(MatcherError {
                    message: format!("expected a label value, found {}", describe(t)),
                    span: sp.clone(),
                })
            }
        };
        let span = name_span.start..value_end;
        if op.is_regex() {
            if let Err(e) = anchored(&value) {
                return Err(MatcherError {
                    message: format!("invalid regular expression {value:?}: {e}"),
                    span,
                });
            }
        }
        out.push(Matcher {
            name,
            op,
            value,
            span,
        });
        match tok_at(i) {
            None => break,
            Some((Tok::Comma, _)) => i += 1,
            Some((t, sp)) => {
                return Err(MatcherError {
                    message: format!(
                        "expected `,` between matchers, found {} (quote values that contain spaces or special characters)",
                        describe(t)
                    ),
                    span: sp.clone(),
                })
            }
        }
    }
    Ok(out)
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Open => "`{`".into(),
        Tok::Close => "`}`".into(),
        Tok::Comma => "`,`".into(),
        Tok::Op(op) => format!("`{}`", op.as_str()),
        Tok::Unquoted(s) => format!("`{s}`"),
        Tok::Quoted(s) => format!("{s:?}"),
    }
}

// ---- the classic parser (pkg/labels ParseMatchers) ----

/// The deprecated classic parser (`pkg/labels.ParseMatchers`), which is more lenient:
/// unquoted values may contain spaces and most punctuation.
pub fn parse_classic(s: &str) -> Result<Vec<Matcher>, MatcherError> {
    let mut body_start = 0;
    let mut body = s;
    if let Some(rest) = body.strip_prefix('{') {
        body = rest;
        body_start = 1;
    }
    if let Some(rest) = body.strip_suffix('}') {
        body = rest;
    }
    // split on commas outside quotes (an escaped quote does not toggle)
    let mut tokens: Vec<(usize, &str)> = Vec::new();
    let mut inside = false;
    let mut prev_backslash = false;
    let mut tok_start = 0;
    for (i, c) in body.char_indices() {
        if !inside && c == ',' {
            tokens.push((tok_start, &body[tok_start..i]));
            tok_start = i + 1;
            prev_backslash = false;
            continue;
        }
        if c == '"' && !prev_backslash {
            inside = !inside;
        }
        prev_backslash = c == '\\' && !prev_backslash;
    }
    let last = &body[tok_start..];
    if !last.trim().is_empty() {
        tokens.push((tok_start, last));
    }
    let mut out = Vec::new();
    for (off, tok) in tokens {
        let base = body_start + off;
        out.push(parse_classic_one(tok).map_err(|m| MatcherError {
            message: m,
            span: base..base + tok.len(),
        })?);
        if let Some(m) = out.last_mut() {
            m.span = base + (tok.len() - tok.trim_start().len())..base + tok.trim_end().len();
        }
    }
    Ok(out)
}

fn parse_classic_one(tok: &str) -> Result<Matcher, String> {
    let t = tok.trim_start();
    let name_len = t
        .char_indices()
        .take_while(|(i, c)| {
            c.is_ascii_alphabetic() || *c == '_' || *c == ':' || (*i > 0 && c.is_ascii_digit())
        })
        .count();
    if name_len == 0 {
        return Err(format!("bad matcher format: {tok}"));
    }
    let name = &t[..name_len];
    let rest = t[name_len..].trim_start();
    let (op, rest) = if let Some(r) = rest.strip_prefix("=~") {
        (MatchOp::Regex, r)
    } else if let Some(r) = rest.strip_prefix("!=") {
        (MatchOp::NotEqual, r)
    } else if let Some(r) = rest.strip_prefix("!~") {
        (MatchOp::NotRegex, r)
    } else if let Some(r) = rest.strip_prefix('=') {
        (MatchOp::Equal, r)
    } else {
        return Err(format!("bad matcher format: {tok}"));
    };
    let raw_full = rest.trim();
    let (mut raw, mut expect_quote) = (raw_full, false);
    if let Some(r) = raw.strip_prefix('"') {
        raw = r;
        expect_quote = true;
    }
    let mut value = String::new();
    let mut escaped = false;
    let chars: Vec<(usize, char)> = raw.char_indices().collect();
    for (idx, &(_, c)) in chars.iter().enumerate() {
        let last = idx + 1 == chars.len();
        if escaped {
            escaped = false;
            match c {
                'n' => value.push('\n'),
                '"' | '\\' => value.push(c),
                _ => {
                    value.push('\\');
                    value.push(c)
                }
            }
            continue;
        }
        match c {
            '\\' if !last => escaped = true,
            '"' => {
                if !expect_quote || !last {
                    return Err(format!(
                        "matcher value contains unescaped double quote: {raw_full}"
                    ));
                }
                expect_quote = false;
            }
            c => value.push(c),
        }
    }
    if expect_quote {
        return Err(format!(
            "matcher value contains unescaped double quote: {raw_full}"
        ));
    }
    if op.is_regex() {
        anchored(&value).map_err(|e| format!("invalid regular expression {value:?}: {e}"))?;
    }
    Ok(Matcher {
        name: name.to_string(),
        op,
        value,
        span: 0..0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(s: &str) -> Vec<(String, &'static str, String)> {
        parse_current(s)
            .unwrap_or_else(|e| panic!("{s}: {e:?}"))
            .into_iter()
            .map(|m| (m.name, m.op.as_str(), m.value))
            .collect()
    }

    fn t(n: &str, op: &'static str, v: &str) -> (String, &'static str, String) {
        (n.into(), op, v.into())
    }

    // cases from alertmanager matcher/parse/parse_test.go
    #[test]
    fn current_parser_accepts() {
        assert_eq!(cur(""), vec![]);
        assert_eq!(cur("{}"), vec![]);
        assert_eq!(cur("foo=bar"), vec![t("foo", "=", "bar")]);
        assert_eq!(cur("{foo=bar}"), vec![t("foo", "=", "bar")]);
        assert_eq!(cur("{foo=\"bar\"}"), vec![t("foo", "=", "bar")]);
        assert_eq!(cur("{foo=bar,}"), vec![t("foo", "=", "bar")]);
        assert_eq!(cur("{foo=}"), vec![t("foo", "=", "")]);
        assert_eq!(cur("{foo=~[a-z]+}"), vec![t("foo", "=~", "[a-z]+")]);
        assert_eq!(
            cur("{foo!=bar, baz!~\"a|b\"}"),
            vec![t("foo", "!=", "bar"), t("baz", "!~", "a|b")]
        );
        assert_eq!(cur("{foo=\"bar\\\"baz\"}"), vec![t("foo", "=", "bar\"baz")]);
        assert_eq!(cur("{\"foo bar\"=baz}"), vec![t("foo bar", "=", "baz")]);
        assert_eq!(cur("{fooð=barð}"), vec![t("fooð", "=", "barð")]);
        assert_eq!(cur("{foo=\"🙂\"}"), vec![t("foo", "=", "🙂")]);
        assert_eq!(
            cur("foo=\"bar\", bar=\"baz\""),
            vec![t("foo", "=", "bar"), t("bar", "=", "baz")]
        );
    }

    #[test]
    fn current_parser_rejects() {
        for bad in [
            "{",
            "}",
            "{foo=bar",
            "foo=bar}",
            "{foo}",
            "{foo=bar baz}",
            "{foo=~\"[a-z\"}",
            "{foo=\"bar}",
            "{foo==bar}",
            "{foo!bar}",
            "{foo=\"\\z\"}",
            "{,}",
            "{=bar}",
        ] {
            assert!(parse_current(bad).is_err(), "accepted {bad}");
        }
    }

    // cases from alertmanager pkg/labels/parse_test.go
    #[test]
    fn classic_parser() {
        let c = |s: &str| {
            parse_classic(s)
                .unwrap_or_else(|e| panic!("{s}: {e:?}"))
                .into_iter()
                .map(|m| (m.name, m.op.as_str(), m.value))
                .collect::<Vec<_>>()
        };
        assert_eq!(c("{foo=bar baz}"), vec![t("foo", "=", "bar baz")]);
        assert_eq!(
            c("foo=\"bar,quux\", job=\"job1\""),
            vec![t("foo", "=", "bar,quux"), t("job", "=", "job1")]
        );
        assert_eq!(c("{foo=\"bar\\\\\"}"), vec![t("foo", "=", "bar\\")]);
        assert_eq!(c("{foo=bar}}"), vec![t("foo", "=", "bar}")]);
        assert!(parse_classic("{foo=\"bar\"baz\"}").is_err());
        assert!(parse_classic("{foo bar=baz}").is_err());
        assert!(parse_classic("{foo=~\"[\"}").is_err());
        assert!(parse_classic("{foo=bar,,baz=qux}").is_err());
        assert!(parse_classic("{\"foo\"=bar}").is_err());
    }

    #[test]
    fn fallback() {
        assert!(matches!(
            parse("{foo=bar baz}"),
            Ok(Parsed::ClassicOnly(..))
        ));
        assert!(matches!(parse("foo=bar"), Ok(Parsed::Current(_))));
        assert!(parse("{foo=~\"[\"}").is_err());
        let e = parse("foo").unwrap_err();
        assert!(e.message.contains("operator"), "{e:?}");
    }

    #[test]
    fn spans_and_render() {
        let m = parse_current("{a=\"b\", c=~d}").unwrap();
        assert_eq!(m[0].span, 1..6);
        assert_eq!(m[1].span, 8..12);
        assert_eq!(m[1].render(), "c=~\"d\"");
        assert_eq!(render("a.b", MatchOp::Equal, "x\"y"), "\"a.b\"=\"x\\\"y\"");
        let re = anchored(&m[1].value).unwrap();
        assert!(re.is_match("d") && !re.is_match("dd"));
    }

    #[test]
    fn never_panics_on_junk() {
        for s in [
            "\\",
            "\"\\",
            "{\"",
            "a=\"\\u12",
            "a=\"\\x\"",
            "{{{{",
            "!",
            "a!",
            "é=é",
        ] {
            let _ = parse(s);
        }
    }
}
