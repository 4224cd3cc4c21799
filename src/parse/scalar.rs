//! Small parsing utilities:
//!
//! * mapping the decoded content of a YAML scalar back to byte offsets in its source,
//!   given the span that serde-saphyr reports for the scalar node;
//! * Prometheus durations (`model.ParseDuration` / `model.Duration.String()` of
//!   prometheus/common);
//! * Prometheus metric and label name validation (legacy and UTF-8 schemes).
//!
//! # serde-saphyr spans (2.1)
//!
//! * Quoted scalars: the span covers the quotes (`'it''s'`, `"a\"b"`).
//! * Plain scalars: the span starts at the first character and ends right after the last
//!   content character; trailing spaces and comments are excluded, but for multi-line plain
//!   scalars the inner line breaks and the indentation of continuation lines are included.
//! * Block scalars (`|`, `>`): the span does **not** include the header (indicator, chomping
//!   and indentation indicators, comment). It starts on the first content line, right after
//!   that line's indentation (leading empty lines are before the span), and it ends at the
//!   next token, so it covers trailing empty lines and, when the next token is on a less
//!   indented line, that line's indentation.
//! * A block scalar without any content line gets a zero-length span at the next token (which
//!   can be the key that follows it), even when its value is not empty (`|+` followed by
//!   empty lines only). At the end of the input there is no next token: the span then starts
//!   at the `|` / `>` indicator and runs to the end of the input.

use std::fmt;

// ---------------------------------------------------------------------------------------------
// YAML scalars
// ---------------------------------------------------------------------------------------------

/// The quoting style of a YAML scalar as written in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

/// Detect the style of the scalar whose source span starts at `start` (byte offset into `src`): look at the first
/// char (' or ") and, for block scalars, at the indicator before the span on the same line (`|` / `>` with optional
/// chomping `+`/`-` and indentation digit, possibly followed by a comment).
///
/// For block scalars the header is on the nearest non-blank line before the span (blank lines
/// between them are leading empty lines of the scalar). A block scalar without content has a
/// zero-length span at the next token; it cannot be told apart from that token by its start
/// offset alone, so this function then reports the style of that token (usually `Plain`).
/// (At the end of the input such a span starts at the indicator, which is recognized.)
/// An out-of-range or non-char-boundary `start` yields `Plain`.
pub fn scalar_style(src: &str, start: usize) -> ScalarStyle {
    // a block scalar's content may itself start with a quote (`key: |` then `"a": b`)
    if let Some(header) = block_header(src, start, false) {
        if matches!(src.as_bytes().get(start), Some(b'\'' | b'"')) {
            return if header.folded {
                ScalarStyle::Folded
            } else {
                ScalarStyle::Literal
            };
        }
    }
    match src.as_bytes().get(start) {
        Some(b'\'') => ScalarStyle::SingleQuoted,
        Some(b'"') => ScalarStyle::DoubleQuoted,
        _ => match block_header(src, start, false) {
            Some(header) if header.folded => ScalarStyle::Folded,
            Some(_) => ScalarStyle::Literal,
            None => ScalarStyle::Plain,
        },
    }
}

/// Map every byte offset of the decoded `value` to the byte offset in `src` where that character comes from.
/// Returns a Vec of length value.len()+1 (the last entry = the source offset just past the last content char),
/// or None if the re-scan of the source does not reproduce `value` exactly (never return a wrong map).
/// Handles: plain (single and multi-line folding), single-quoted ('' escape, line folding), double-quoted
/// (all YAML escapes `\n \t \\ \" \/ \xXX \uXXXX \UXXXXXXXX \0 \a \b \e \f \r \v \N \_ \L \P \<space> \<tab>`, escaped line breaks, line folding),
/// literal and folded block scalars (indentation indicator, chomping indicators, more-indented lines in folded scalars keep their newlines, trailing empty lines, CRLF line endings).
/// For chars that come from a fold (a source line break that became a space, or an escape), map to the start of what produced them.
///
/// `start`/`len` are the byte span reported by serde-saphyr (`Span::byte_offset`/`byte_len`).
/// Every byte of a multi-byte value char maps to the offset of the source char (or escape,
/// or line break) it comes from. Newlines and fold spaces map to the source line break
/// (the `\r` of a CRLF); the newline that clip/keep chomping adds to a last line without a
/// line break at the end of the input maps to `src.len()`. Leading empty lines of a block
/// scalar lie before `start`, so their newlines map to offsets before `start`. For an empty
/// value the single entry is the offset where the content starts.
pub fn content_offsets(src: &str, start: usize, len: usize, value: &str) -> Option<Vec<usize>> {
    let end = start.checked_add(len)?;
    let span = src.get(start..end)?;
    // a block scalar's content may itself start with a quote (`key: |` then `"a": b`)
    if matches!(span.as_bytes().first(), Some(b'\'' | b'"')) {
        let block = block_header(src, start, len == 0)
            .and_then(|header| scan_block(src, start, end, header))
            .filter(|b| b.out == value);
        if let Some(b) = block {
            return b.finish(value);
        }
    }
    let built = match span.as_bytes().first() {
        Some(b'\'') => scan_quoted(src, start, end, Flow::SingleQuoted),
        Some(b'"') => scan_quoted(src, start, end, Flow::DoubleQuoted),
        _ => {
            let block = block_header(src, start, len == 0)
                .and_then(|header| scan_block(src, start, end, header))
                .filter(|b| b.out == value);
            // A plain scalar's span never ends with whitespace or a line break.
            if block.is_some() || span.ends_with([' ', '\t', '\r', '\n']) {
                block
            } else {
                scan_flow(src, start, end, Flow::Plain)
            }
        }
    };
    built?.finish(value)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Plain,
    SingleQuoted,
    DoubleQuoted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chomping {
    Strip,
    Clip,
    Keep,
}

#[derive(Debug, Clone, Copy)]
struct BlockHeader {
    folded: bool,
    chomping: Chomping,
    /// Offset just past the line break that ends the header line.
    body_start: usize,
    /// Column of the content lines, `None` for a scalar without content lines.
    indent: Option<usize>,
}

/// The decoded text of a scalar together with the source offset of every byte of it.
struct Builder {
    out: String,
    map: Vec<usize>,
    /// Source offset just past what produced the last char (or where the content starts).
    past: usize,
}

impl Builder {
    fn new(content_start: usize) -> Self {
        Self {
            out: String::new(),
            map: Vec::new(),
            past: content_start,
        }
    }

    /// Append `c`, produced by the source bytes `at..past`.
    fn push(&mut self, c: char, at: usize, past: usize) {
        self.out.push(c);
        self.map.extend(std::iter::repeat_n(at, c.len_utf8()));
        self.past = past;
    }

    /// Append the source chars of `src[from..to]` verbatim.
    fn push_verbatim(&mut self, src: &str, from: usize, to: usize) {
        for (i, c) in src[from..to].char_indices() {
            let at = from + i;
            self.push(c, at, at + c.len_utf8());
        }
    }

    fn finish(mut self, value: &str) -> Option<Vec<usize>> {
        if self.out != value {
            return None;
        }
        self.map.push(self.past);
        Some(self.map)
    }
}

/// Length of the line break at `i` (`\n`, `\r\n` or a lone `\r`), 0 if there is none.
fn break_len(bytes: &[u8], i: usize) -> usize {
    match bytes.get(i) {
        Some(b'\n') => 1,
        Some(b'\r') if bytes.get(i + 1) == Some(&b'\n') => 2,
        Some(b'\r') => 1,
        _ => 0,
    }
}

/// Offset of the first byte of the line containing `pos` (`pos <= src.len()`).
fn line_start(bytes: &[u8], pos: usize) -> usize {
    bytes[..pos]
        .iter()
        .rposition(|&b| b == b'\n' || b == b'\r')
        .map_or(0, |p| p + 1)
}

/// Offset of the line break (or end of input) that ends the line containing `pos`.
fn line_end(bytes: &[u8], pos: usize) -> usize {
    bytes[pos..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map_or(bytes.len(), |p| pos + p)
}

/// Find the header of the block scalar whose span starts at `start`.
///
/// Usually the span starts on the first content line, after its indentation: then the nearest
/// non-blank line before it must end with a block indicator, and unless `empty_span` the
/// content column must be deeper than the node that owns the header (which rules out the key
/// that follows an empty block scalar). An empty block scalar at the end of the input has a
/// span that starts at the indicator itself.
fn block_header(src: &str, start: usize, empty_span: bool) -> Option<BlockHeader> {
    if !src.is_char_boundary(start) {
        return None;
    }
    let bytes = src.as_bytes();
    let ls = line_start(bytes, start);
    if matches!(bytes.get(start), Some(b'|' | b'>')) {
        let le = line_end(bytes, start);
        let header = parse_header_line(&src[ls..le])?;
        if header.indicator_col != start - ls {
            return None;
        }
        return Some(BlockHeader {
            folded: header.folded,
            chomping: header.chomping,
            body_start: le + break_len(bytes, le),
            indent: None,
        });
    }
    if !bytes[ls..start].iter().all(|&b| b == b' ') {
        return None;
    }
    let col = start - ls;
    let mut pos = ls;
    loop {
        if pos == 0 {
            return None;
        }
        // `pos` is just past a line break: find the previous line.
        let mut brk = pos - 1;
        if bytes[brk] == b'\n' && brk > 0 && bytes[brk - 1] == b'\r' {
            brk -= 1;
        }
        let prev = line_start(bytes, brk);
        let line = &src[prev..brk];
        if line.bytes().all(|b| b == b' ') {
            pos = prev;
            continue;
        }
        let header = parse_header_line(line)?;
        if !empty_span && col < header.min_col {
            return None;
        }
        return Some(BlockHeader {
            folded: header.folded,
            chomping: header.chomping,
            body_start: pos,
            indent: (!empty_span).then_some(col),
        });
    }
}

/// What a line ending with a block scalar header says.
struct HeaderLine {
    folded: bool,
    chomping: Chomping,
    /// Column of the `|` / `>` indicator.
    indicator_col: usize,
    /// The minimum column of the content lines.
    min_col: usize,
}

/// Parse a line that should end with a block scalar header, e.g. `  - key: !!str |+2  # c`.
fn parse_header_line(line: &str) -> Option<HeaderLine> {
    let code = strip_comment(line);
    let tokens: Vec<(usize, &str)> = code
        .split([' ', '\t'])
        .scan(0usize, |offset, tok| {
            let at = *offset;
            *offset += tok.len() + 1;
            Some((at, tok))
        })
        .filter(|(_, tok)| !tok.is_empty())
        .collect();
    let (&(indicator_col, indicator), before) = tokens.split_last()?;
    let (folded, chomping) = parse_indicator(indicator)?;
    // Skip node properties (tag, anchor) between the indicator and what introduces the node.
    let mut before = before;
    while let Some(((_, tok), rest)) = before.split_last() {
        if tok.starts_with('!') || tok.starts_with('&') {
            before = rest;
        } else {
            break;
        }
    }
    let min_col = match before.last() {
        // Alone on its line (value of a key on a previous line): content at least as deep.
        None => tokens[0].0,
        Some(&(at, "-" | "?")) => at + 1,
        Some((_, "---")) => 0,
        Some((_, tok)) if tok.ends_with(':') => {
            // A mapping value: content deeper than the key (after any `- ` / `? `).
            let (key_col, _) = before.iter().find(|(_, t)| *t != "-" && *t != "?")?;
            key_col + 1
        }
        Some(_) => return None,
    };
    Some(HeaderLine {
        folded,
        chomping,
        indicator_col,
        min_col,
    })
}

/// Parse `|` / `>` followed by at most one chomping indicator and one indentation digit.
fn parse_indicator(token: &str) -> Option<(bool, Chomping)> {
    let mut chars = token.chars();
    let folded = match chars.next()? {
        '|' => false,
        '>' => true,
        _ => return None,
    };
    let mut chomping = None;
    let mut indent = false;
    for c in chars {
        match c {
            '-' if chomping.is_none() => chomping = Some(Chomping::Strip),
            '+' if chomping.is_none() => chomping = Some(Chomping::Keep),
            '1'..='9' if !indent => indent = true,
            _ => return None,
        }
    }
    Some((folded, chomping.unwrap_or(Chomping::Clip)))
}

/// Cut a trailing `# comment` (a `#` after whitespace, outside quoted tokens).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    let mut after_space = true;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' if after_space => return &line[..i],
            quote @ (b'\'' | b'"') if after_space => {
                i += 1;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' if quote == b'"' => i += 1,
                        b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 1,
                        b if b == quote => break,
                        _ => {}
                    }
                    i += 1;
                }
                after_space = false;
            }
            b => after_space = b == b' ' || b == b'\t',
        }
        i += 1;
    }
    line
}

fn scan_quoted(src: &str, start: usize, end: usize, kind: Flow) -> Option<Builder> {
    let quote = if kind == Flow::SingleQuoted {
        b'\''
    } else {
        b'"'
    };
    let bytes = src.as_bytes();
    if end < start + 2 || bytes[start] != quote || bytes[end - 1] != quote {
        return None;
    }
    scan_flow(src, start + 1, end - 1, kind)
}

/// Decode the content `src[cs..ce]` of a flow scalar (plain or between the quotes).
fn scan_flow(src: &str, cs: usize, ce: usize, kind: Flow) -> Option<Builder> {
    let bytes = src.as_bytes();
    let mut b = Builder::new(cs);
    // Start of a run of literal whitespace: dropped before a line break, kept otherwise.
    let mut white: Option<usize> = None;
    let mut i = cs;
    while i < ce {
        let c = src.get(i..)?.chars().next()?;
        match c {
            '\n' | '\r' => {
                white = None;
                i = fold(bytes, &mut b, i, ce, false);
            }
            ' ' | '\t' => {
                white.get_or_insert(i);
                i += 1;
            }
            _ => {
                if let Some(w) = white.take() {
                    b.push_verbatim(src, w, i);
                }
                match (kind, c) {
                    (Flow::SingleQuoted, '\'') => {
                        if i + 1 >= ce || bytes[i + 1] != b'\'' {
                            return None;
                        }
                        b.push('\'', i, i + 2);
                        i += 2;
                    }
                    (Flow::DoubleQuoted, '\\') => i = escape(src, &mut b, i, ce)?,
                    (Flow::DoubleQuoted, '"') => return None,
                    _ => {
                        b.push(c, i, i + c.len_utf8());
                        i += c.len_utf8();
                    }
                }
            }
        }
    }
    if let Some(w) = white {
        if kind == Flow::Plain {
            return None;
        }
        b.push_verbatim(src, w, ce);
    }
    Some(b)
}

/// Handle the line break at `i` inside a flow scalar: skip it, the following empty lines and
/// the indentation of the next content line. A plain fold yields one space (mapped to the
/// line break); each empty line yields a newline (mapped to its own line break); an escaped
/// line break (`escaped`) yields only the newlines of the empty lines. Returns the offset of
/// the next content char.
fn fold(bytes: &[u8], b: &mut Builder, i: usize, ce: usize, escaped: bool) -> usize {
    let first_len = break_len(bytes, i);
    let mut j = i + first_len;
    let mut folded_any = false;
    loop {
        while j < ce && (bytes[j] == b' ' || bytes[j] == b'\t') {
            j += 1;
        }
        let len = if j < ce { break_len(bytes, j) } else { 0 };
        if len == 0 {
            break;
        }
        b.push('\n', j, j + len);
        folded_any = true;
        j += len;
    }
    if !folded_any && !escaped {
        b.push(' ', i, i + first_len);
    }
    j
}

/// Decode the escape sequence at `src[i]` (a backslash) in a double-quoted scalar.
fn escape(src: &str, b: &mut Builder, i: usize, ce: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    if i + 1 >= ce {
        return None;
    }
    let simple = match bytes[i + 1] {
        b'0' => '\0',
        b'a' => '\x07',
        b'b' => '\x08',
        b't' | b'\t' => '\t',
        b'n' => '\n',
        b'v' => '\x0b',
        b'f' => '\x0c',
        b'r' => '\r',
        b'e' => '\x1b',
        b' ' => ' ',
        b'"' => '"',
        b'/' => '/',
        b'\\' => '\\',
        b'N' => '\u{85}',
        b'_' => '\u{a0}',
        b'L' => '\u{2028}',
        b'P' => '\u{2029}',
        b'\n' | b'\r' => return Some(fold(bytes, b, i + 1, ce, true)),
        b'x' => return hex_escape(src, b, i, ce, 2),
        b'u' => return hex_escape(src, b, i, ce, 4),
        b'U' => return hex_escape(src, b, i, ce, 8),
        _ => return None,
    };
    b.push(simple, i, i + 2);
    Some(i + 2)
}

/// `\xXX`, `\uXXXX` or `\UXXXXXXXX` at `i`; a `\u` high surrogate must be followed by a `\u`
/// low surrogate (serde-saphyr combines the pair into one char).
fn hex_escape(src: &str, b: &mut Builder, i: usize, ce: usize, digits: usize) -> Option<usize> {
    let hex = |at: usize, n: usize| -> Option<u32> {
        let s = src.get(at..at.checked_add(n).filter(|&e| e <= ce)?)?;
        if !s.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(s, 16).ok()
    };
    let code = hex(i + 2, digits)?;
    let mut next = i + 2 + digits;
    let c = if digits == 4 && (0xD800..0xDC00).contains(&code) {
        if src.get(next..next + 2) != Some("\\u") {
            return None;
        }
        let low = hex(next + 2, 4).filter(|low| (0xDC00..0xE000).contains(low))?;
        next += 6;
        char::from_u32(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00))?
    } else {
        char::from_u32(code)?
    };
    b.push(c, i, next);
    Some(next)
}

/// Decode a literal or folded block scalar. Its content indentation is the column of `start`
/// (serde-saphyr starts the span after the indentation of the first content line); a
/// zero-length span has no content lines, only (leading = trailing) empty lines.
fn scan_block(src: &str, start: usize, end: usize, header: BlockHeader) -> Option<Builder> {
    let bytes = src.as_bytes();
    let indent = header.indent.unwrap_or(usize::MAX);
    let mut b = Builder::new(start);
    // Line break (offset, past) and "spaced" flag of the last content line.
    let mut prev: Option<(usize, usize, bool)> = None;
    // Line breaks of the empty lines since the last content line (or the header).
    let mut empties: Vec<(usize, usize)> = Vec::new();
    let mut eof_blank = false;
    let mut ls = header.body_start;
    while ls <= end {
        let le = line_end(bytes, ls);
        let brk = break_len(bytes, le);
        let at_eof = brk == 0 && end == bytes.len();
        let terminated = brk > 0 && le + brk <= end;
        if !terminated && !at_eof {
            break;
        }
        let line = &src[ls..le];
        let spaces = line.bytes().take_while(|&c| c == b' ').count();
        if spaces == line.len() && spaces <= indent {
            if at_eof {
                // serde-saphyr quirk: a `|+` / `>+` scalar without any line but a last,
                // unterminated, blank one gets one newline.
                eof_blank = prev.is_none() && empties.is_empty() && !line.is_empty();
                break;
            }
            empties.push((le, le + brk));
        } else if spaces >= indent {
            let cs = ls + indent;
            if prev.is_none() && cs != start {
                return None;
            }
            let spaced = !header.folded || matches!(bytes.get(cs), Some(b' ' | b'\t'));
            if let Some((pb, pe, prev_spaced)) = prev {
                if prev_spaced || spaced {
                    b.push('\n', pb, pe);
                } else if empties.is_empty() {
                    b.push(' ', pb, pe);
                }
            }
            for (e, ee) in empties.drain(..) {
                b.push('\n', e, ee);
            }
            b.push_verbatim(src, cs, le);
            prev = Some((le, le + brk, spaced));
            if at_eof {
                break;
            }
        } else {
            // A less indented line ends the scalar.
            break;
        }
        ls = le + brk;
    }
    if let Some((pb, pe, _)) = prev {
        if header.chomping != Chomping::Strip {
            b.push('\n', pb, pe);
        }
    }
    if header.chomping == Chomping::Keep {
        for (e, ee) in empties {
            b.push('\n', e, ee);
        }
        if eof_blank {
            b.push('\n', bytes.len(), bytes.len());
        }
    }
    Some(b)
}

// ---------------------------------------------------------------------------------------------
// Prometheus durations
// ---------------------------------------------------------------------------------------------

/// A Prometheus duration (`model.Duration`), in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PromDuration(pub u64); // milliseconds

const MS_PER_SECOND: u64 = 1000;
const MS_PER_MINUTE: u64 = 60 * MS_PER_SECOND;
const MS_PER_HOUR: u64 = 60 * MS_PER_MINUTE;
const MS_PER_DAY: u64 = 24 * MS_PER_HOUR;
const MS_PER_WEEK: u64 = 7 * MS_PER_DAY;
const MS_PER_YEAR: u64 = 365 * MS_PER_DAY;
const NANOS_PER_MS: u64 = 1_000_000;

/// Format a duration as Prometheus does (`model.Duration.String`): `1h30m`, `4h`, `0s`.
pub fn format_duration(d: PromDuration) -> String {
    let mut ms = d.0;
    if ms == 0 {
        return "0s".to_string();
    }
    let mut r = String::new();
    for (name, mult, exact) in [
        ("y", MS_PER_YEAR, false),
        ("w", MS_PER_WEEK, true),
        ("d", MS_PER_DAY, false),
        ("h", MS_PER_HOUR, false),
        ("m", MS_PER_MINUTE, false),
        ("s", MS_PER_SECOND, false),
        ("ms", 1, false),
    ] {
        if exact && !ms.is_multiple_of(mult) {
            continue;
        }
        let v = ms / mult;
        if v > 0 {
            r.push_str(&format!("{v}{name}"));
            ms -= v * mult;
        }
    }
    r
}

/// Parse a Prometheus duration like `1h30m`, `5m`, `1d`, `500ms` or `0`, as
/// prometheus/common `model.ParseDuration` does: integer amounts, units `y w d h m s ms` at
/// most once each and in that order, `y` = 365d, `w` = 7d, `d` = 24h, no sign, no spaces.
/// The total must fit Go's `time.Duration` (int64 nanoseconds, about 292 years).
/// Error messages are Go's: `empty duration string`, `not a valid duration string: "…"`,
/// `unknown unit "…" in duration "…"` and `duration out of range`.
pub fn parse_duration(s: &str) -> Result<PromDuration, String> {
    match s {
        "0" => return Ok(PromDuration(0)),
        "" => return Err("empty duration string".to_owned()),
        _ => {}
    }
    let invalid = || format!("not a valid duration string: {}", go_quote(s));
    let bytes = s.as_bytes();
    let mut total_nanos: u64 = 0;
    let mut last_unit = 0;
    let mut i = 0;
    while i < bytes.len() {
        let digits = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == digits {
            return Err(invalid());
        }
        let amount: u64 = s[digits..i].parse().map_err(|_| invalid())?;
        let unit_start = i;
        while i < bytes.len() && !bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == unit_start {
            return Err(invalid());
        }
        let unit = &s[unit_start..i];
        let (position, unit_ms) = match unit {
            "y" => (1, MS_PER_YEAR),
            "w" => (2, MS_PER_WEEK),
            "d" => (3, MS_PER_DAY),
            "h" => (4, MS_PER_HOUR),
            "m" => (5, MS_PER_MINUTE),
            "s" => (6, MS_PER_SECOND),
            "ms" => (7, 1),
            _ => {
                return Err(format!(
                    "unknown unit {} in duration {}",
                    go_quote(unit),
                    go_quote(s)
                ))
            }
        };
        if position <= last_unit {
            return Err(invalid());
        }
        last_unit = position;
        // Go sums nanoseconds in a uint64 and requires the total to fit an int64.
        let unit_nanos = unit_ms * NANOS_PER_MS;
        if amount > (1u64 << 63) / unit_nanos {
            return Err("duration out of range".to_owned());
        }
        total_nanos += amount * unit_nanos;
        if total_nanos > i64::MAX as u64 {
            return Err("duration out of range".to_owned());
        }
    }
    Ok(PromDuration(total_nanos / NANOS_PER_MS))
}

impl fmt::Display for PromDuration {
    /// Formats like Go's `model.Duration.String()`: `0s`, `1h30m`, `500ms`, `2w`, `1y`; years
    /// and weeks are only used when they divide the rest exactly (`90d`, `23d1h`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = self.0;
        if ms == 0 {
            return f.write_str("0s");
        }
        let units = [
            ("y", MS_PER_YEAR, true),
            ("w", MS_PER_WEEK, true),
            ("d", MS_PER_DAY, false),
            ("h", MS_PER_HOUR, false),
            ("m", MS_PER_MINUTE, false),
            ("s", MS_PER_SECOND, false),
            ("ms", 1, false),
        ];
        for (unit, mult, exact) in units {
            if exact && !ms.is_multiple_of(mult) {
                continue;
            }
            let n = ms / mult;
            if n > 0 {
                write!(f, "{n}{unit}")?;
                ms -= n * mult;
            }
        }
        Ok(())
    }
}

/// Quote like Go's `%q` / `strconv.Quote`. Go keeps the runes for which `unicode.IsPrint`
/// holds; Rust has no Unicode category tables, so this escapes control chars, whitespace other
/// than ' ', private-use, surrogate-adjacent non-characters and the common format chars, and
/// keeps everything else (unassigned code points are kept where Go would escape them).
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if c < ' ' || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if go_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

fn go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    let u = c as u32;
    let format_char = matches!(
        u,
        0xAD | 0x600..=0x605
            | 0x61C
            | 0x6DD
            | 0x70F
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0xE0001
            | 0xE0020..=0xE007F
    );
    let private_use = matches!(u, 0xE000..=0xF8FF | 0xF0000..=0x10FFFF);
    let noncharacter = (0xFDD0..=0xFDEF).contains(&u) || u & 0xFFFE == 0xFFFE;
    !(c.is_control() || c.is_whitespace() || format_char || private_use || noncharacter)
}

// ---------------------------------------------------------------------------------------------
// Prometheus names
// ---------------------------------------------------------------------------------------------

/// Legacy (Prometheus 2) metric name: `^[a-zA-Z_:][a-zA-Z0-9_:]*$`
pub fn is_legacy_metric_name(s: &str) -> bool {
    legacy_name(s, |b| b == b'_' || b == b':')
}

/// Legacy label name: `^[a-zA-Z_][a-zA-Z0-9_]*$`
pub fn is_legacy_label_name(s: &str) -> bool {
    legacy_name(s, |b| b == b'_')
}

fn legacy_name(s: &str, extra: impl Fn(u8) -> bool) -> bool {
    !s.is_empty()
        && s.bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_alphabetic() || extra(b) || (i > 0 && b.is_ascii_digit()))
}

/// Prometheus 3 (UTF-8 validation scheme): any non-empty valid UTF-8 string (label names starting with "__" are reserved but valid)
pub fn is_utf8_name(s: &str) -> bool {
    // A `&str` is always valid UTF-8.
    !s.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
    use serde_saphyr::Spanned;

    // ---- a generic spanned YAML tree, to get serde-saphyr's spans for every scalar -------------

    enum Node {
        Str(String),
        Other,
        Seq(Vec<Spanned<Node>>),
        Map(Vec<(Spanned<Node>, Spanned<Node>)>),
    }

    impl<'de> Deserialize<'de> for Node {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct NodeVisitor;
            impl<'de> Visitor<'de> for NodeVisitor {
                type Value = Node;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("any YAML node")
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
                    Ok(Node::Str(v.to_owned()))
                }
                fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
                    Ok(Node::Other)
                }
                fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
                    Ok(Node::Other)
                }
                fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
                    Ok(Node::Other)
                }
                fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
                    Ok(Node::Other)
                }
                fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
                    Ok(Node::Other)
                }
                fn visit_none<E: de::Error>(self) -> Result<Node, E> {
                    Ok(Node::Other)
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
                    let mut items = Vec::new();
                    while let Some(item) = a.next_element()? {
                        items.push(item);
                    }
                    Ok(Node::Seq(items))
                }
                fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
                    let mut entries = Vec::new();
                    while let Some(entry) = a.next_entry()? {
                        entries.push(entry);
                    }
                    Ok(Node::Map(entries))
                }
            }
            d.deserialize_any(NodeVisitor)
        }
    }

    /// A scalar found in a parsed document: its string value (None if not a string) and span.
    #[derive(Debug)]
    struct Found {
        value: Option<String>,
        start: usize,
        len: usize,
    }

    fn collect(node: &Spanned<Node>, out: &mut Vec<Found>) {
        let span = node.referenced.span();
        let start = span.byte_offset().expect("byte offset") as usize;
        let len = span.byte_len().expect("byte len") as usize;
        match &node.value {
            Node::Str(s) => out.push(Found {
                value: Some(s.clone()),
                start,
                len,
            }),
            Node::Other => out.push(Found {
                value: None,
                start,
                len,
            }),
            Node::Seq(items) => items.iter().for_each(|item| collect(item, out)),
            Node::Map(entries) => {
                for (k, v) in entries {
                    collect(k, out);
                    collect(v, out);
                }
            }
        }
    }

    fn scalars(src: &str) -> Vec<Found> {
        let root: Spanned<Node> = serde_saphyr::from_str(src)
            .unwrap_or_else(|e| panic!("serde-saphyr rejected {src:?}: {e}"));
        let mut out = Vec::new();
        collect(&root, &mut out);
        out
    }

    /// Check `content_offsets` for one scalar against serde-saphyr's value and span.
    fn check_scalar(src: &str, start: usize, len: usize, value: &str) -> Vec<usize> {
        let map = content_offsets(src, start, len, value).unwrap_or_else(|| {
            panic!(
                "no map for value {value:?} span {start}+{len} {:?} in {src:?}",
                &src[start..start + len]
            )
        });
        assert_eq!(map.len(), value.len() + 1);
        let end = start + len;
        let style = (len > 0).then(|| scalar_style(src, start));
        let flow = matches!(
            style,
            Some(ScalarStyle::Plain | ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted)
        );
        let double = style == Some(ScalarStyle::DoubleQuoted);
        // Source text skipped between two value chars: whitespace, line breaks, and the
        // backslash of an escaped line break.
        let skippable = |from: usize, to: usize| {
            src[from..to]
                .chars()
                .all(|c| matches!(c, ' ' | '\t' | '\r' | '\n') || (double && c == '\\'))
        };
        // End of the source consumed by the previous char, when known (not after escapes).
        let mut consumed: Option<usize> = None;
        for (i, ch) in value.char_indices() {
            let at = map[i];
            assert!(map[i..i + ch.len_utf8()].iter().all(|&o| o == at));
            assert!(
                i == 0 || at > map[i - 1],
                "offsets not increasing in {value:?}"
            );
            assert!(at <= end && (!flow || at >= start), "offset out of span");
            if let Some(from) = consumed {
                assert!(
                    skippable(from, at),
                    "{value:?}: skipped {:?}",
                    &src[from..at]
                );
            }
            let rest = &src[at..];
            consumed = if style == Some(ScalarStyle::SingleQuoted) && rest.starts_with("''") {
                Some(at + 2)
            } else if rest.starts_with(ch) {
                Some(at + ch.len_utf8())
            } else if matches!(ch, ' ' | '\n')
                && (rest.is_empty() || rest.starts_with(['\n', '\r']))
            {
                Some(at)
            } else if double && rest.starts_with('\\') {
                None
            } else {
                panic!(
                    "value char {ch:?} at {i} of {value:?} maps to {at} ({:?}) in {src:?}",
                    &rest[..rest.len().min(8)]
                );
            };
        }
        let past = map[value.len()];
        assert!(past <= end.max(past.min(src.len())));
        if let Some(from) = consumed {
            assert!(from <= past && skippable(from, past));
        }
        map
    }

    /// Check every string scalar of `src`; returns them as (value, start, len).
    fn check_doc(src: &str) -> Vec<(String, usize, usize)> {
        let mut out = Vec::new();
        for f in scalars(src) {
            if let Some(value) = f.value {
                check_scalar(src, f.start, f.len, &value);
                out.push((value, f.start, f.len));
            }
        }
        out
    }

    fn find<'a>(found: &'a [(String, usize, usize)], value: &str) -> &'a (String, usize, usize) {
        found
            .iter()
            .find(|(v, _, _)| v == value)
            .unwrap_or_else(|| panic!("value {value:?} not found in {found:?}"))
    }

    // ---- fixed cases ------------------------------------------------------------------------

    #[test]
    fn spans_and_maps_of_every_style() {
        let src = "a:\n    q: 'it''s'\n    d: \"a\\\"b\"\n    lit: |\n      foo\n        bar\n    fold: >-\n      a\n      b\n    multi: plain\n      continued\n    c: foo bar   # comment\n";
        let found = check_doc(src);

        let (_, s, l) = find(&found, "it's");
        assert_eq!(&src[*s..s + l], "'it''s'");
        assert_eq!(scalar_style(src, *s), ScalarStyle::SingleQuoted);
        let map = content_offsets(src, *s, *l, "it's").unwrap();
        assert_eq!(map, vec![s + 1, s + 2, s + 3, s + 5, s + 6]);

        let (_, s, l) = find(&found, "a\"b");
        assert_eq!(&src[*s..s + l], "\"a\\\"b\"");
        assert_eq!(scalar_style(src, *s), ScalarStyle::DoubleQuoted);
        assert_eq!(
            content_offsets(src, *s, *l, "a\"b").unwrap(),
            vec![s + 1, s + 2, s + 4, s + 5]
        );

        let (_, s, l) = find(&found, "foo\n  bar\n");
        assert_eq!(&src[*s..s + l], "foo\n        bar\n    ");
        assert_eq!(scalar_style(src, *s), ScalarStyle::Literal);
        let map = content_offsets(src, *s, *l, "foo\n  bar\n").unwrap();
        let bar = s + src[*s..].find("  bar").unwrap();
        assert_eq!(map[..5], [*s, s + 1, s + 2, s + 3, bar]);
        assert_eq!(&src[map[6]..map[6] + 3], "bar");
        assert_eq!(map[10], bar + 5 + 1);

        let (_, s, l) = find(&found, "a b");
        assert_eq!(&src[*s..s + l], "a\n      b\n    ");
        assert_eq!(scalar_style(src, *s), ScalarStyle::Folded);
        assert_eq!(
            content_offsets(src, *s, *l, "a b").unwrap(),
            vec![*s, s + 1, s + 8, s + 9]
        );

        let (_, s, l) = find(&found, "plain continued");
        assert_eq!(&src[*s..s + l], "plain\n      continued");
        assert_eq!(scalar_style(src, *s), ScalarStyle::Plain);
        let map = content_offsets(src, *s, *l, "plain continued").unwrap();
        assert_eq!(map[5], s + 5);
        assert_eq!(map[6], s + 12);
        assert_eq!(map[15], s + l);

        let (_, s, l) = find(&found, "foo bar");
        assert_eq!(&src[*s..s + l], "foo bar");
    }

    #[test]
    fn promql_expressions() {
        let src = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: |\n          sum by (job) (\n            rate(x[5m])\n          ) > 0\n        for: 5m\n      - record: r\n        expr: >-\n          histogram_quantile(0.9,\n          rate(a[5m])) > 1\n";
        let found = check_doc(src);
        let (v, s, l) = find(&found, "sum by (job) (\n  rate(x[5m])\n) > 0\n");
        let map = content_offsets(src, *s, *l, v).unwrap();
        let rate = v.find("rate").unwrap();
        assert_eq!(&src[map[rate]..map[rate] + 11], "rate(x[5m])");
        assert_eq!(scalar_style(src, *s), ScalarStyle::Literal);

        let (v, s, l) = find(&found, "histogram_quantile(0.9, rate(a[5m])) > 1");
        let map = content_offsets(src, *s, *l, v).unwrap();
        let rate = v.find("rate").unwrap();
        assert_eq!(&src[map[rate]..map[rate] + 11], "rate(a[5m])");
        assert_eq!(src.as_bytes()[map[rate - 1]], b'\n');
        assert_eq!(scalar_style(src, *s), ScalarStyle::Folded);
    }

    #[test]
    fn block_scalar_details() {
        let src = "a: |\n\n  \n  x\n   y\n\n\nb: |2\n    indented\n  z\nc: |+\n  k\n\n\nd: |-\n  s\ne: >\n  f1\n  f2\n\n  f3\n    more\n  f4\n\n\nf: |\ng: >+\n  x\n\nh: |  # comment | -\n  hello\nm: >2-  # c\n   lead\n  x\nn: !!str |\n  t\no: &anchor >\n  t\np:\n  |\n  alone\nq: |+\n\n\nr: x\n";
        let found = check_doc(src);
        for (v, s, l) in &found {
            let style = scalar_style(src, *s);
            if v.len() > 1 && v != "indented" && *l > 0 {
                let expect_block = src[..*s].trim_end_matches(' ').ends_with('\n')
                    && ![
                        "b", "c", "d", "e", "f", "g", "h", "m", "n", "o", "p", "q", "r",
                    ]
                    .contains(&v.as_str());
                assert_eq!(
                    matches!(style, ScalarStyle::Literal | ScalarStyle::Folded),
                    expect_block,
                    "{v:?}"
                );
            }
        }
        find(&found, "\n\nx\n y\n");
        find(&found, "  indented\nz\n");
        find(&found, "k\n\n\n");
        find(&found, "f1 f2\nf3\n  more\nf4\n");
        find(&found, "x\n\n");
        find(&found, "hello\n");
        find(&found, " lead\nx");
        find(&found, "alone\n");
        // `q: |+` with empty lines only: value "\n\n", zero-length span at `r`.
        let (_, s, l) = find(&found, "\n\n");
        assert_eq!(*l, 0);
        assert_eq!(&src[*s..s + 1], "r");
        let map = content_offsets(src, *s, *l, "\n\n").unwrap();
        assert_eq!(map, vec![s - 2, s - 1, *s]);
        // The key right after an empty block scalar is plain, and `f`'s empty value maps.
        assert_eq!(
            scalar_style(src, src.find("g: >+").unwrap()),
            ScalarStyle::Plain
        );
        assert_eq!(
            scalar_style(src, src.find("r: x").unwrap()),
            ScalarStyle::Plain
        );
        let g = src.find("g: >+").unwrap();
        assert_eq!(content_offsets(src, g, 0, ""), Some(vec![g]));
    }

    #[test]
    fn other_document_shapes() {
        let docs: &[(&str, &str, ScalarStyle)] = &[
            ("|\n doc\n", "doc\n", ScalarStyle::Literal),
            ("--- >-\n  x\n  y\n", "x y", ScalarStyle::Folded),
            ("--- |\n  doc\n...\n", "doc\n", ScalarStyle::Literal),
            ("\"top\"\n", "top", ScalarStyle::DoubleQuoted),
            ("plain top\n  cont\n", "plain top cont", ScalarStyle::Plain),
            ("- |2\n   x\n  y\n", " x\ny\n", ScalarStyle::Literal),
            ("- - |\n    x\n", "x\n", ScalarStyle::Literal),
            ("- - >1-\n     x\n", "  x", ScalarStyle::Folded),
            ("? |\n  complex\n: v\n", "complex\n", ScalarStyle::Literal),
            ("k: !!str |\n  t\n", "t\n", ScalarStyle::Literal),
            ("k: &a >\n  t\n", "t\n", ScalarStyle::Folded),
            ("k:\n  |\n  t\n", "t\n", ScalarStyle::Literal),
            ("k:\n  !!str >\n   t\n", "t\n", ScalarStyle::Folded),
            (
                "k: |\n  # not a comment\n",
                "# not a comment\n",
                ScalarStyle::Literal,
            ),
            ("k: '# x'  # c\n", "# x", ScalarStyle::SingleQuoted),
            ("k: |+\n\n", "\n", ScalarStyle::Literal),
            ("k: >\n  a\n\n\n  b\n", "a\n\nb\n", ScalarStyle::Folded),
            (
                "k: >\n\n  a\n   b\n  c\n",
                "\na\n b\nc\n",
                ScalarStyle::Folded,
            ),
            (
                "k: >\n  a\n  \n  b\n   \n  c\n",
                "a\nb\n \nc\n",
                ScalarStyle::Folded,
            ),
        ];
        for &(src, value, style) in docs {
            let found = check_doc(src);
            let (_, s, _) = find(&found, value);
            assert_eq!(scalar_style(src, *s), style, "{src:?}");
        }
    }

    #[test]
    fn eof_and_crlf() {
        for src in [
            "l: |\n  last",
            "l: |+\n  last",
            "l: |-\n  last",
            "l: >+\n  x\n\n  ",
            "l: |+\n  x\n     ",
            "a: |\r\n  x\r\n   y\r\n\r\nb: >-\r\n  p\r\n  q\r\n\r\n  r\r\nc: \"s\r\n  t \\\r\n  u\"\r\nd: p1\r\n  p2\r\ne: |+\r\n  k\r\n\r\n",
            "a: \"x\ry\"\rb: |\r  z\r",
        ] {
            check_doc(src);
        }
        let src = "l: |\n  last";
        let found = check_doc(src);
        let (v, s, l) = find(&found, "last\n");
        assert_eq!(
            content_offsets(src, *s, *l, v).unwrap(),
            vec![7, 8, 9, 10, 11, 11]
        );
        let src = "a: |\r\n  x\r\n";
        let map = content_offsets(src, 8, 3, "x\n").unwrap();
        assert_eq!(map, vec![8, 9, 11]);
    }

    #[test]
    fn double_quoted_escapes() {
        let src = "h: \"\\uD83D\\uDE00 \\x41\\u00e9\\U0001F600\\N\\_\\L\\P\\e\\0\\a\\b\\f\\r\\v\\t\\\t\\ \\/\\\\\\\"\\n\"\ni: \"a\\\n\n  b\"\nj: \"\\t\n  x\t\n  y\"\nk: \"a\\\n\tb\"\nl: \"x\n\t\n\ty\"\nm: \"  lead and trail  \"\n";
        let found = check_doc(src);
        let (v, s, l) = find(&found, "a\nb");
        let map = content_offsets(src, *s, *l, v).unwrap();
        assert_eq!(src.as_bytes()[map[1]], b'\n');
        assert_eq!(map[2], s + l - 2);
        let (v, s, l) = find(
            &found,
            "😀 Aé😀\u{85}\u{a0}\u{2028}\u{2029}\u{1b}\0\u{7}\u{8}\u{c}\r\u{b}\t\t /\\\"\n",
        );
        let map = content_offsets(src, *s, *l, v).unwrap();
        assert_eq!(map[..4], [s + 1; 4]);
        assert_eq!(map[4], s + 13);
        find(&found, "\t x y");
        find(&found, "ab");
        find(&found, "x\ny");
        find(&found, "  lead and trail  ");
    }

    #[test]
    fn single_quoted_and_plain_folding() {
        let src = "a: 'a\n\n  b  \n  c'\nb: 'x  \n   y'\nc: ' it''s '\nd: x  \n  y  \n\n  z   \ne: [p, \"q\", 'r', s t, u\n  v]\nf: {x: w, \"z\": w2}\ng: a\tb\n- \n";
        let src = src.trim_end_matches("- \n");
        let found = check_doc(src);
        find(&found, "a\nb c");
        find(&found, "x y");
        find(&found, " it's ");
        find(&found, "x y\nz");
        find(&found, "u v");
        find(&found, "a\tb");
    }

    #[test]
    fn rejects_wrong_values_and_bad_spans() {
        let src = "k: 'it''s'\nl: |\n  x\n";
        assert_eq!(content_offsets(src, 3, 7, "its"), None);
        assert_eq!(content_offsets(src, 3, 7, "it''s"), None);
        assert_eq!(content_offsets(src, 3, 7, "it's "), None);
        assert_eq!(content_offsets(src, 18, 2, "x"), None);
        assert_eq!(content_offsets(src, 18, 2, "x\n\n"), None);
        assert_eq!(content_offsets(src, 18, 2, "x\n"), Some(vec![18, 19, 20]));
        assert_eq!(content_offsets(src, 3, 100, "it's"), None);
        assert_eq!(content_offsets(src, usize::MAX, 2, ""), None);
        assert_eq!(content_offsets(src, 2, usize::MAX, ""), None);
        let uni = "k: é\n";
        assert_eq!(content_offsets(uni, 4, 1, "é"), None);
        assert_eq!(content_offsets(uni, 3, 1, "é"), None);
        assert_eq!(content_offsets(uni, 3, 2, "é"), Some(vec![3, 3, 5]));
        assert_eq!(scalar_style(uni, 4), ScalarStyle::Plain);
        assert_eq!(scalar_style(uni, 99), ScalarStyle::Plain);
        assert_eq!(scalar_style("", 0), ScalarStyle::Plain);
        // Header-like text that is not a block header.
        assert_eq!(scalar_style("a: b |\nc: d\n", 7), ScalarStyle::Plain);
        assert_eq!(scalar_style("a: | # x\n  c\n", 11), ScalarStyle::Literal);
        assert_eq!(scalar_style("a: |x\n  c\n", 8), ScalarStyle::Plain);
        assert_eq!(scalar_style("- a: |\n  b: x\n", 9), ScalarStyle::Plain);
        assert_eq!(scalar_style("- a: |\n   b: x\n", 10), ScalarStyle::Literal);
        assert_eq!(scalar_style("\"a: b\": >\n  x\n", 12), ScalarStyle::Folded);
        assert_eq!(scalar_style("a: \"#\" |\n  x\n", 11), ScalarStyle::Plain);
    }

    #[test]
    fn never_panics_on_arbitrary_offsets() {
        let sources = [
            "k: 'it''s'\nl: |\n  x\n",
            "a: \"\\u00e9\\",
            "é: |+\r\n\r\n  ü\r\n",
            "- >2-\n   x\n",
            "'",
            "\"",
            "|\n",
            "a: 'x\n",
            "x: \"\\uD83D\\u\"",
            "日本: 語",
        ];
        for src in sources {
            for start in 0..src.len() + 3 {
                scalar_style(src, start);
                for len in 0..src.len() + 3 {
                    let text = src.get(start..start + len).unwrap_or("");
                    for value in ["", "x", text, "\n", "\n\n"] {
                        if let Some(map) = content_offsets(src, start, len, value) {
                            assert_eq!(map.len(), value.len() + 1);
                            assert!(map.iter().all(|&o| o <= src.len()));
                        }
                    }
                }
            }
        }
    }

    // ---- property test: generated documents, checked against serde-saphyr --------------------

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            // xorshift64*
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn chance(&mut self, percent: usize) -> bool {
            self.below(100) < percent
        }
        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    /// Words that can start a plain scalar (or a continuation line of one).
    const PLAIN_FIRST: &[&str] = &[
        "sum",
        "rate(x[5m])",
        "histogram_quantile(0.9,",
        "café",
        "日本語",
        "😀ok",
        "foo.bar",
        "up==0",
        "über",
        "x_y",
        "abc",
    ];
    /// Words allowed inside a plain scalar in block context.
    const PLAIN_MORE: &[&str] = &[
        "by",
        "(job)",
        "a-b",
        "100%",
        "a:b",
        "q#r",
        "it's",
        "\"dq\"",
        "{le=\"0.5\"}",
        ">",
        "|",
        "-x",
        "?y",
        "naïve",
        "ok!",
        "@at",
        "`tick`",
        "a,b",
        "[x]",
        "%",
        "&amp",
        "*star",
        "-",
        "...",
    ];
    /// Words allowed in plain scalars inside flow collections.
    const FLOW_WORDS: &[&str] = &[
        "sum",
        "café",
        "日本語",
        "x_y",
        "up==0",
        "a-b",
        "it's",
        "ok!",
    ];
    /// Words for quoted scalars (escaped as needed).
    const QUOTED_WORDS: &[&str] = &[
        "sum",
        "it's",
        "a\tb",
        "\"dq\"",
        "back\\slash",
        "#hash",
        "key: value",
        "- dash",
        "日本語",
        "😀",
        "{x}",
        "[y]",
        "a,b",
        "|",
        ">",
        "'",
        "''",
        "  ",
        "\t",
    ];
    const ESCAPES: &[&str] = &[
        "\\n",
        "\\t",
        "\\\t",
        "\\\\",
        "\\\"",
        "\\/",
        "\\x41",
        "\\u00e9",
        "\\U0001F600",
        "\\uD83D\\uDE00",
        "\\0",
        "\\a",
        "\\b",
        "\\e",
        "\\f",
        "\\r",
        "\\v",
        "\\N",
        "\\_",
        "\\L",
        "\\P",
        "\\ ",
    ];

    #[derive(Clone, Copy, PartialEq)]
    enum Ctx {
        MapValue,
        SeqItem,
    }

    struct Gen {
        rng: Rng,
        out: String,
        keys: usize,
    }

    impl Gen {
        fn spaces(&mut self, n: usize) {
            self.out.extend(std::iter::repeat_n(' ', n));
        }

        /// Line break plus optional empty lines, then the indentation of a continuation line
        /// of a flow scalar owned by a node at column `n`.
        fn flow_break(&mut self, n: usize) {
            self.out.push('\n');
            while self.rng.chance(25) {
                let k = self.rng.below(n + 3);
                self.spaces(k);
                if self.rng.chance(20) {
                    self.out.push('\t');
                }
                self.out.push('\n');
            }
            let k = n + 1 + self.rng.below(3);
            self.spaces(k);
            if self.rng.chance(10) {
                self.out.push('\t');
            }
        }

        fn trailing_white(&mut self) {
            if self.rng.chance(20) {
                let s = self.rng.pick(&[" ", "  ", "\t", " \t "]);
                self.out.push_str(s);
            }
        }

        fn plain(&mut self, n: usize, flow: bool) {
            let words = 1 + self.rng.below(5);
            for i in 0..words {
                let word = if flow {
                    self.rng.pick(FLOW_WORDS)
                } else if i == 0 {
                    self.rng.pick(PLAIN_FIRST)
                } else {
                    self.rng.pick(PLAIN_MORE)
                };
                if i > 0 {
                    if !flow && self.rng.chance(25) {
                        self.trailing_white();
                        self.flow_break(n);
                        let first = self.rng.pick(PLAIN_FIRST);
                        self.out.push_str(first);
                        self.out.push(' ');
                    } else {
                        let sep = self.rng.pick(&[" ", " ", "  ", "\t", " \t"]);
                        self.out.push_str(sep);
                    }
                }
                self.out.push_str(word);
            }
        }

        fn single_quoted(&mut self, n: usize) {
            self.out.push('\'');
            let words = self.rng.below(6);
            for i in 0..words {
                if i > 0 {
                    if self.rng.chance(25) {
                        self.trailing_white();
                        self.flow_break(n);
                    } else {
                        self.out.push(' ');
                    }
                }
                let word = self.rng.pick(QUOTED_WORDS).replace('\'', "''");
                self.out.push_str(&word);
            }
            self.out.push('\'');
        }

        fn double_quoted(&mut self, n: usize) {
            self.out.push('"');
            let words = self.rng.below(7);
            for i in 0..words {
                if i > 0 {
                    match self.rng.below(8) {
                        0 => {
                            self.trailing_white();
                            self.flow_break(n);
                        }
                        1 => {
                            self.trailing_white();
                            self.out.push('\\');
                            self.flow_break(n);
                        }
                        _ => self.out.push(' '),
                    }
                }
                if self.rng.chance(40) {
                    let esc = self.rng.pick(ESCAPES);
                    self.out.push_str(esc);
                } else {
                    let word = self.rng.pick(QUOTED_WORDS);
                    self.out
                        .push_str(&word.replace('\\', "\\\\").replace('"', "\\\""));
                }
            }
            self.out.push('"');
        }

        /// A block scalar whose owner (key or `-`) is at column `n`; the header was not written.
        fn block(&mut self, n: usize, ctx: Ctx) {
            self.out.push(if self.rng.chance(50) { '|' } else { '>' });
            let chomp = self.rng.pick(&["", "-", "+"]);
            let explicit =
                (ctx == Ctx::MapValue && self.rng.chance(25)).then(|| 1 + self.rng.below(3));
            let indent = explicit.map_or(n + 1 + self.rng.below(3), |d| n + d);
            let digit = explicit.map(|d| d.to_string()).unwrap_or_default();
            if self.rng.chance(50) {
                self.out.push_str(chomp);
                self.out.push_str(&digit);
            } else {
                self.out.push_str(&digit);
                self.out.push_str(chomp);
            }
            if self.rng.chance(15) {
                self.out.push_str("  # comment | > -");
            }
            self.out.push('\n');
            let lines = self.rng.below(5);
            for i in 0..lines {
                while self.rng.chance(20) {
                    // Empty lines: before the first content line they must not be deeper than it.
                    let k = if i == 0 {
                        self.rng.below(indent + 1)
                    } else {
                        self.rng.below(indent + 3)
                    };
                    self.spaces(k);
                    self.out.push('\n');
                }
                self.spaces(indent);
                if (i > 0 || explicit.is_some()) && self.rng.chance(20) {
                    let k = 1 + self.rng.below(3);
                    self.spaces(k);
                }
                if self.rng.chance(10) {
                    self.out.push('\t');
                }
                let words = 1 + self.rng.below(4);
                for w in 0..words {
                    if w > 0 {
                        self.out.push(' ');
                    }
                    let word = self
                        .rng
                        .pick(if w == 0 { PLAIN_FIRST } else { QUOTED_WORDS });
                    self.out.push_str(word);
                }
                self.trailing_white();
                self.out.push('\n');
            }
            while self.rng.chance(30) {
                let k = self.rng.below(indent + 1);
                self.spaces(k);
                self.out.push('\n');
            }
        }

        /// A scalar value owned by a key or `-` at column `n`, ending with a line break.
        fn scalar(&mut self, n: usize, ctx: Ctx) {
            match self.rng.below(10) {
                0 | 1 => self.plain(n, false),
                2 | 3 => self.single_quoted(n),
                4 | 5 => self.double_quoted(n),
                6 => self.flow_seq(n),
                _ => return self.block(n, ctx),
            }
            if self.rng.chance(15) {
                self.out.push_str("  # trailing comment");
            } else {
                self.trailing_white();
            }
            self.out.push('\n');
        }

        fn flow_seq(&mut self, n: usize) {
            self.out.push('[');
            let items = self.rng.below(4);
            for i in 0..items {
                if i > 0 {
                    self.out.push(',');
                    if self.rng.chance(20) {
                        self.flow_break(n);
                    } else {
                        self.out.push(' ');
                    }
                }
                match self.rng.below(3) {
                    0 => self.plain(n, true),
                    1 => self.single_quoted(n),
                    _ => self.double_quoted(n),
                }
            }
            self.out.push(']');
        }

        fn key(&mut self) {
            self.keys += 1;
            let k = self.keys;
            let key = match self.rng.below(6) {
                0 => format!("'quoted key {k}'"),
                1 => format!("\"dq key {k}\""),
                2 => format!("clé_{k}"),
                _ => format!("key{k}"),
            };
            self.out.push_str(&key);
            self.out.push(':');
        }

        /// A mapping entry at column `n`; `inline` when the indentation is already written.
        fn entry(&mut self, n: usize, depth: usize, inline: bool) {
            if !inline {
                if self.rng.chance(5) {
                    self.out.push_str("# a comment line\n");
                }
                self.spaces(n);
            }
            self.key();
            match self.rng.below(10) {
                0 if depth < 3 => {
                    self.out.push('\n');
                    let m = n + 2 * (1 + self.rng.below(2));
                    for _ in 0..1 + self.rng.below(3) {
                        self.entry(m, depth + 1, false);
                    }
                }
                1 | 2 if depth < 3 => {
                    self.out.push('\n');
                    let s = n + 2 * self.rng.below(2);
                    for _ in 0..1 + self.rng.below(3) {
                        self.spaces(s);
                        self.out.push_str("- ");
                        if self.rng.chance(30) {
                            self.entry(s + 2, depth + 1, true);
                            for _ in 0..self.rng.below(2) {
                                self.entry(s + 2, depth + 1, false);
                            }
                        } else {
                            self.scalar(s, Ctx::SeqItem);
                        }
                    }
                }
                _ => {
                    self.out.push(' ');
                    self.scalar(n, Ctx::MapValue);
                }
            }
        }
    }

    #[test]
    fn generated_documents_match_serde_saphyr() {
        let mut gen = Gen {
            rng: Rng(0x9E37_79B9_7F4A_7C15),
            out: String::new(),
            keys: 0,
        };
        let (mut docs, mut checked) = (0, 0);
        let mut styles = [0usize; 5];
        for _ in 0..3000 {
            gen.out.clear();
            gen.keys = 0;
            for _ in 0..1 + gen.rng.below(6) {
                gen.entry(0, 0, false);
            }
            let mut src = gen.out.clone();
            if gen.rng.chance(20) {
                src = src.replace('\n', "\r\n");
            }
            if gen.rng.chance(10) {
                let trimmed = src.trim_end_matches(['\r', '\n']).len();
                src.truncate(trimmed);
            }
            docs += 1;
            for f in scalars(&src) {
                let Some(value) = f.value else { continue };
                check_scalar(&src, f.start, f.len, &value);
                if f.len > 0 {
                    styles[scalar_style(&src, f.start) as usize] += 1;
                }
                checked += 1;
            }
        }
        assert!(
            docs == 3000 && checked > 20_000,
            "only {checked} scalars checked"
        );
        assert!(styles.iter().all(|&n| n > 1000), "style counts {styles:?}");
    }

    // ---- durations ------------------------------------------------------------------------------

    #[test]
    fn durations_parse_and_format_like_prometheus() {
        let cases: &[(&str, u64, &str)] = &[
            ("0", 0, "0s"),
            ("0w", 0, "0s"),
            ("0s", 0, "0s"),
            ("324ms", 324, "324ms"),
            ("3s", 3_000, "3s"),
            ("5m", 300_000, "5m"),
            ("1h", 3_600_000, "1h"),
            ("4d", 4 * MS_PER_DAY, "4d"),
            ("4d1h", 4 * MS_PER_DAY + MS_PER_HOUR, "4d1h"),
            ("14d", 14 * MS_PER_DAY, "2w"),
            ("3w", 21 * MS_PER_DAY, "3w"),
            ("3w2d1h", 23 * MS_PER_DAY + MS_PER_HOUR, "23d1h"),
            ("10y", 3650 * MS_PER_DAY, "10y"),
            ("289y", 289 * MS_PER_YEAR, "289y"),
            ("1h30m", 90 * MS_PER_MINUTE, "1h30m"),
            ("90m", 90 * MS_PER_MINUTE, "1h30m"),
            ("1d", MS_PER_DAY, "1d"),
            ("1w", MS_PER_WEEK, "1w"),
            ("1y", MS_PER_YEAR, "1y"),
            ("1y1d", MS_PER_YEAR + MS_PER_DAY, "366d"),
            ("90d", 90 * MS_PER_DAY, "90d"),
            ("500ms", 500, "500ms"),
            ("1m1s1ms", 61_001, "1m1s1ms"),
            ("0010s", 10_000, "10s"),
            (
                "1y2w3d4h5m6s7ms",
                MS_PER_YEAR + 17 * MS_PER_DAY + 4 * MS_PER_HOUR + 306_007,
                "382d4h5m6s7ms",
            ),
        ];
        for &(input, ms, shown) in cases {
            let d = parse_duration(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(d, PromDuration(ms), "{input}");
            assert_eq!(d.to_string(), shown, "{input}");
            assert_eq!(parse_duration(shown), Ok(d));
        }
        assert_eq!(PromDuration(1).to_string(), "1ms");
        assert_eq!(
            PromDuration(u64::MAX).to_string(),
            "213503982334d14h25m51s615ms"
        );
    }

    #[test]
    fn duration_errors_mirror_prometheus_messages() {
        let invalid = |s: &str| Err(format!("not a valid duration string: \"{s}\""));
        assert_eq!(parse_duration(""), Err("empty duration string".to_owned()));
        for s in [
            "1", "-5m", "30m1h", "1y1y", "1y1m1d", "d", "-1w", "h1", "00", "5m5",
        ] {
            assert_eq!(parse_duration(s), invalid(s), "{s}");
        }
        assert_eq!(
            parse_duration("5M"),
            Err("unknown unit \"M\" in duration \"5M\"".to_owned())
        );
        assert_eq!(
            parse_duration("1.5h"),
            Err("unknown unit \".\" in duration \"1.5h\"".to_owned())
        );
        assert_eq!(
            parse_duration("1.5d"),
            Err("unknown unit \".\" in duration \"1.5d\"".to_owned())
        );
        assert_eq!(
            parse_duration("1hm"),
            Err("unknown unit \"hm\" in duration \"1hm\"".to_owned())
        );
        assert_eq!(
            parse_duration("1h 30m"),
            Err("unknown unit \"h \" in duration \"1h 30m\"".to_owned())
        );
        assert_eq!(
            parse_duration("5mé\t"),
            Err("unknown unit \"mé\\t\" in duration \"5mé\\t\"".to_owned())
        );
        assert_eq!(
            parse_duration("1\u{1}"),
            Err("unknown unit \"\\x01\" in duration \"1\\x01\"".to_owned())
        );
        assert_eq!(
            parse_duration("1\u{a0}"),
            Err("unknown unit \"\\u00a0\" in duration \"1\\u00a0\"".to_owned())
        );
        let out_of_range = Err("duration out of range".to_owned());
        for s in [
            "294y",
            "200y10400w",
            "107675d",
            "2584200h",
            "9223372036855ms",
            "292y24w3d23h47m16s855ms",
        ] {
            assert_eq!(parse_duration(s), out_of_range, "{s}");
        }
        // The largest accepted duration (int64 nanoseconds, truncated to milliseconds).
        assert_eq!(
            parse_duration("292y24w3d23h47m16s854ms"),
            Ok(PromDuration(9_223_372_036_854))
        );
        // Too many digits for a uint64.
        assert_eq!(
            parse_duration("99999999999999999999ms"),
            invalid("99999999999999999999ms")
        );
    }

    // ---- names --------------------------------------------------------------------------------

    #[test]
    fn legacy_metric_names() {
        for ok in [
            "up",
            "http_requests_total",
            "job:rate5m:sum",
            ":x",
            "_",
            "a1",
            "A_Z:09",
            "__name__",
        ] {
            assert!(is_legacy_metric_name(ok), "{ok}");
        }
        for bad in ["", "1up", "a-b", "a.b", "a b", "é", "a{}", "0", "up\n"] {
            assert!(!is_legacy_metric_name(bad), "{bad}");
        }
    }

    #[test]
    fn legacy_label_names() {
        for ok in [
            "job",
            "_",
            "__name__",
            "le",
            "a1_B2",
            "__meta_kubernetes_pod_name",
        ] {
            assert!(is_legacy_label_name(ok), "{ok}");
        }
        for bad in ["", "1a", "a:b", ":", "a-b", "é", "a b", "a.b"] {
            assert!(!is_legacy_label_name(bad), "{bad}");
        }
    }

    #[test]
    fn utf8_names() {
        for ok in [
            "up",
            "my.metric",
            "a-b",
            "日本語",
            "😀",
            " ",
            "__reserved",
            "1",
            "a{b}=\"c\"",
        ] {
            assert!(is_utf8_name(ok), "{ok}");
        }
        assert!(!is_utf8_name(""));
    }

    #[test]
    fn block_scalar_content_starting_with_a_quote() {
        let src = "k: |-\n  \"a\": 1\n  'b': 2\nx: 1\n";
        let start = src.find("\"a\"").unwrap();
        let end = src.find("x: 1").unwrap();
        let value = "\"a\": 1\n'b': 2";
        assert_eq!(scalar_style(src, start), ScalarStyle::Literal);
        let map = content_offsets(src, start, end - start, value).unwrap();
        assert_eq!(map[0], start);
        assert_eq!(&src[map[value.find('b').unwrap()]..][..1], "b");
        // a quoted scalar on its own line is still quoted
        let src = "k:\n  \"a\"\n";
        assert_eq!(scalar_style(src, 5), ScalarStyle::DoubleQuoted);
    }
}
