//! YAML into a small typed tree where every node and key carries its byte span (serde-saphyr's
//! `Spanned`). Parsers for each input kind walk this tree, so unknown keys, wrong types and missing
//! fields are all reported at their position, together.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::parse::scalar::{self, ScalarStyle};
use crate::source::{LineIndex, Span};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    /// Scalars: the scalar as written (quotes included; block scalars from their first content line).
    /// Collections: from their first entry to the end of their last one.
    pub span: Span,
}

/// A YAML syntax error with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub message: String,
    pub span: Span,
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(m) => m.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(Key, Node)] {
        match &self.value {
            Value::Map(m) => m,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(s) => s,
            _ => &[],
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    pub fn is_scalar(&self) -> bool {
        !matches!(self.value, Value::Map(_) | Value::Seq(_))
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The scalar's source text as written.
    pub fn raw<'a>(&self, src: &'a str) -> &'a str {
        src.get(self.span.clone()).unwrap_or("")
    }

    /// The value a Go YAML decoder (yaml.v3, used by Prometheus and Alertmanager) stores into a
    /// `string` field: any scalar's text. `None` for collections; `Some("")` for null.
    pub fn go_string(&self, src: &str) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Null => Some(String::new()),
            Value::Bool(_) | Value::Int(_) | Value::Float(_) => {
                Some(self.raw(src).trim().to_string())
            }
            _ => None,
        }
    }

    pub fn style(&self, src: &str) -> ScalarStyle {
        scalar::scalar_style(src, self.span.start)
    }

    /// Human name of the node's YAML type, for messages.
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Seq(_) => "list",
            Value::Map(_) => "mapping",
        }
    }

    /// First line of the node: a short span to underline for collections.
    pub fn head_span(&self, src: &str) -> Span {
        let end = src[self.span.start.min(src.len())..]
            .find('\n')
            .map(|i| self.span.start + i)
            .unwrap_or(src.len())
            .min(self.span.end.max(self.span.start));
        self.span.start..end.max(self.span.start)
    }
}

// ---- deserialisation through serde-saphyr ----

enum Raw {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<String>, Spanned<Raw>)>),
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Raw;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<Raw, E> {
                Ok(Raw::Null)
            }
            fn visit_none<E>(self) -> Result<Raw, E> {
                Ok(Raw::Null)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Raw, D2::Error> {
                Raw::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Raw, E> {
                Ok(Raw::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Raw, E> {
                Ok(Raw::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Raw, E> {
                Ok(i64::try_from(v)
                    .map(Raw::Int)
                    .unwrap_or(Raw::Float(v as f64)))
            }
            fn visit_i128<E>(self, v: i128) -> Result<Raw, E> {
                Ok(i64::try_from(v)
                    .map(Raw::Int)
                    .unwrap_or(Raw::Float(v as f64)))
            }
            fn visit_u128<E>(self, v: u128) -> Result<Raw, E> {
                Ok(i64::try_from(v)
                    .map(Raw::Int)
                    .unwrap_or(Raw::Float(v as f64)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Raw, E> {
                Ok(Raw::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Raw, E> {
                Ok(Raw::Str(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Raw, E> {
                Ok(Raw::Str(v))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Raw, E> {
                Ok(Raw::Str(String::from_utf8_lossy(v).into_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Raw, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element::<Spanned<Raw>>()? {
                    v.push(x)
                }
                Ok(Raw::Seq(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Raw, A::Error> {
                let mut v = Vec::new();
                while let Some(k) = a.next_key::<Spanned<String>>()? {
                    let val = a.next_value::<Spanned<Raw>>()?;
                    v.push((k, val))
                }
                Ok(Raw::Map(v))
            }
        }
        d.deserialize_any(V)
    }
}

fn loc_offset(loc: &serde_saphyr::Location, src: &str, lines: &LineIndex) -> (usize, usize) {
    let sp = loc.span();
    if let (Some(o), Some(l)) = (sp.byte_offset(), sp.byte_len()) {
        let o = (o as usize).min(src.len());
        return (o, (o + l as usize).min(src.len()));
    }
    if loc.line() == 0 {
        return (0, 0);
    }
    let o = lines.offset(src, loc.line() as usize, loc.column() as usize);
    (o, o)
}

fn convert(raw: Spanned<Raw>, src: &str, lines: &LineIndex) -> Node {
    // where the node is written: for a node an alias (`*x`, `<<: *x`) repeats, at its anchor
    let (start, end) = loc_offset(&raw.defined, src, lines);
    match raw.value {
        Raw::Null => Node {
            value: Value::Null,
            span: start..end,
        },
        Raw::Bool(b) => Node {
            value: Value::Bool(b),
            span: start..end,
        },
        Raw::Int(i) => Node {
            value: Value::Int(i),
            span: start..end,
        },
        Raw::Float(f) => Node {
            value: Value::Float(f),
            span: start..end,
        },
        Raw::Str(s) => Node {
            value: Value::Str(s),
            span: start..end,
        },
        Raw::Seq(items) => {
            let items: Vec<Node> = items.into_iter().map(|i| convert(i, src, lines)).collect();
            let end = items
                .iter()
                .map(|n| n.span.end)
                .max()
                .unwrap_or(end)
                .max(start);
            Node {
                value: Value::Seq(items),
                span: start..end,
            }
        }
        Raw::Map(entries) => {
            let entries: Vec<(Key, Node)> = entries
                .into_iter()
                .map(|(k, v)| {
                    let (ks, ke) = loc_offset(&k.defined, src, lines);
                    (
                        Key {
                            name: k.value,
                            span: ks..ke,
                        },
                        convert(v, src, lines),
                    )
                })
                .collect();
            let end = entries
                .iter()
                .map(|(k, v)| v.span.end.max(k.span.end))
                .max()
                .unwrap_or(end)
                .max(start);
            Node {
                value: Value::Map(entries),
                span: start..end,
            }
        }
    }
}

/// serde-saphyr options with resource budgets scaled to the input: a large real file parses,
/// an alias bomb (tiny input, huge expansion) still fails.
pub fn options_for(len: usize) -> serde_saphyr::Options {
    let mut o = serde_saphyr::Options::default();
    o.with_snippet = false;
    if let Some(b) = o.budget.as_mut() {
        let scaled = len.saturating_mul(4).max(250_000);
        b.max_nodes = b.max_nodes.max(scaled);
        b.max_events = b.max_events.max(scaled.saturating_mul(2));
        b.max_total_scalar_bytes = b.max_total_scalar_bytes.max(len.saturating_mul(4));
    }
    o
}

/// Parse every document of a YAML stream.
pub fn parse_documents(src: &str, lines: &LineIndex) -> Result<Vec<Node>, YamlError> {
    match serde_saphyr::from_multiple_with_options::<Spanned<Raw>>(src, options_for(src.len())) {
        Ok(docs) => Ok(docs.into_iter().map(|d| convert(d, src, lines)).collect()),
        Err(e) => Err(to_yaml_error(&e, src, lines)),
    }
}

/// A key written twice in one mapping: the span of the one that is ignored and of the one kept.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateKey {
    pub name: String,
    pub ignored: Span,
    pub kept: Span,
}

/// Parse every document as a loader that keeps the last of duplicate keys does (Ruby's Psych,
/// which GitLab uses): each mapping keeps the last value of a key written twice, and the
/// duplicates are listed. Merged (`<<`) entries are overridden as usual, never listed.
pub fn parse_documents_last_wins(
    src: &str,
    lines: &LineIndex,
) -> Result<(Vec<Node>, Vec<DuplicateKey>), YamlError> {
    let mut o = options_for(src.len());
    o.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::PassThrough;
    match serde_saphyr::from_multiple_with_options::<Spanned<Raw>>(src, o) {
        Ok(docs) => {
            let mut docs: Vec<Node> = docs.into_iter().map(|d| convert(d, src, lines)).collect();
            let mut dups = Vec::new();
            for d in &mut docs {
                keep_last(d, &mut dups, 0);
            }
            Ok((docs, dups))
        }
        Err(e) => Err(to_yaml_error(&e, src, lines)),
    }
}

fn keep_last(node: &mut Node, dups: &mut Vec<DuplicateKey>, depth: usize) {
    if depth > 200 {
        return;
    }
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|n| keep_last(n, dups, depth + 1)),
        Value::Map(entries) => {
            let mut i = 0;
            while i < entries.len() {
                let later = entries[i + 1..]
                    .iter()
                    .position(|(k, _)| k.name == entries[i].0.name);
                match later {
                    Some(j) => {
                        let (k, _) = entries.remove(i);
                        dups.push(DuplicateKey {
                            name: k.name,
                            ignored: k.span,
                            kept: entries[i + j].0.span.clone(),
                        });
                    }
                    None => i += 1,
                }
            }
            entries
                .iter_mut()
                .for_each(|(_, v)| keep_last(v, dups, depth + 1));
        }
        _ => {}
    }
}

fn to_yaml_error(e: &serde_saphyr::Error, src: &str, lines: &LineIndex) -> YamlError {
    let (start, end) = match e.location() {
        Some(loc) => loc_offset(&loc, src, lines),
        None => (0, 0),
    };
    let mut message = e.to_string();
    // serde-saphyr prefixes "error: line L column C: "; positions are shown by the reporter.
    if let Some(rest) = message.strip_prefix("error: ") {
        message = rest.to_string();
    }
    if let Some(idx) = message.find(": ") {
        if message.starts_with("line ") && message[..idx].contains(" column ") {
            message = message[idx + 2..].to_string();
        }
    }
    if message.contains("budget breached") {
        let what = message
            .split("budget breached: ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or("nodes");
        // only the budgets aliases can inflate point at an alias bomb; too deep a nesting is
        // reported as such (it would otherwise be blamed on aliases the file does not have)
        let why = match what.trim_end_matches(|c: char| !c.is_alphanumeric()) {
            "Depth" => format!(
                "collections are nested more than {} levels deep",
                options_for(0).budget.map_or(64, |b| b.max_depth)
            ),
            "Nodes" | "Events" | "Aliases" | "AliasAnchorRatio" | "RecordedAnchorEvents"
            | "RecordedAnchorBytes" | "ScalarBytes" => "aliases expand to far more data than the file holds (a \"billion laughs\" document?)".to_string(),
            _ => "the file is too large or too complex to parse safely".to_string(),
        };
        return YamlError {
            message: format!("the document exceeds the parser's resource budget ({what}): {why}"),
            span: start..end.max(start),
        };
    }
    let mut message = message.lines().next().unwrap_or("").trim().to_string();
    // positions are shown by the reporter; drop a trailing " at line N, column M"
    if let Some(i) = message.rfind(" at line ") {
        if message[i..].contains(", column ") {
            message.truncate(i);
        }
    }
    let message = message
        .strip_suffix(", set DuplicateKeyPolicy in Options if acceptable")
        .map(str::to_string)
        .unwrap_or(message);
    YamlError {
        message,
        span: start..end.max(start),
    }
}

/// A node as JSON (for serde types read from part of a file): scalars as their values,
/// sequences and mappings as arrays and objects (later keys win).
pub fn to_json(n: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &n.value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::Str(s) => J::String(s.clone()),
        Value::Seq(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| (k.name.clone(), to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Result<Vec<Node>, YamlError> {
        parse_documents(src, &LineIndex::new(src))
    }

    #[test]
    fn spans_of_keys_and_scalars() {
        let src = "a:\n  b: \"x\"\n  c: [1, yes]\n---\nd: 1\n";
        let docs = parse(src).unwrap();
        assert_eq!(docs.len(), 2);
        let b = docs[0].get("a").unwrap().get("b").unwrap();
        assert_eq!(&src[b.span.clone()], "\"x\"");
        let c = docs[0].get("a").unwrap().get("c").unwrap();
        assert_eq!(c.items().len(), 2);
        assert_eq!(c.items()[1].go_string(src).unwrap(), "yes");
        let (k, _) = &docs[1].entries()[0];
        assert_eq!(&src[k.span.clone()], "d");
    }

    #[test]
    fn errors_have_positions() {
        let src = "a: 1\na: 2\n";
        let e = parse(src).unwrap_err();
        assert_eq!(e.span.start, 5);
        assert!(e.message.contains("duplicate mapping key"), "{}", e.message);
        let src = "a: [1,\n";
        let e = parse(src).unwrap_err();
        assert!(!e.message.is_empty());
    }

    #[test]
    fn aliased_nodes_are_where_their_anchor_is() {
        let src = "a: &x\n  s: [one, two]\nb:\n  <<: *x\nc: *x\n";
        let d = parse(src).unwrap();
        for k in ["a", "b", "c"] {
            let s = d[0].get(k).unwrap().get("s").unwrap();
            assert_eq!(&src[s.items()[0].span.clone()], "one", "{k}");
        }
    }

    #[test]
    fn duplicate_keys_last_wins() {
        let src = "a: 1\nb:\n  c: p\n  c: q\na: 2\nm: &m {k: 1}\nn:\n  <<: *m\n  k: 2\n";
        let (docs, dups) = parse_documents_last_wins(src, &LineIndex::new(src)).unwrap();
        assert_eq!(docs[0].get("a").unwrap().value, Value::Int(2));
        assert_eq!(
            docs[0].get("b").unwrap().get("c").map(|n| n.value.clone()),
            Some(Value::Str("q".into())),
            "{:?}",
            docs[0]
        );
        assert_eq!(
            docs[0].get("n").unwrap().get("k").unwrap().value,
            Value::Int(2)
        );
        let found: Vec<(&str, usize, usize)> = dups
            .iter()
            .map(|d| (d.name.as_str(), d.ignored.start, d.kept.start))
            .collect();
        assert_eq!(found, vec![("a", 0, 22), ("c", 10, 17)]);
    }

    #[test]
    fn alias_bomb_fails_but_large_file_parses() {
        let mut bomb = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let mut prev = 'a';
        for c in 'b'..='i' {
            bomb.push_str(&format!("{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
            prev = c;
        }
        assert!(parse(&bomb).is_err());
        let mut big = String::from("groups:\n- name: g\n  rules:\n");
        for i in 0..40_000 {
            big.push_str(&format!(
                "  - alert: A{i}\n    expr: up == 0\n    labels:\n      severity: warning\n    annotations:\n      summary: s\n"
            ));
        }
        assert!(big.len() > 3_000_000);
        let docs = parse(&big).unwrap();
        assert_eq!(
            docs[0].get("groups").unwrap().items()[0]
                .get("rules")
                .unwrap()
                .items()
                .len(),
            40_000
        );
    }
}
