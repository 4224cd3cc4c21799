//! Files embedded in Kubernetes `Secret`/`ConfigMap` objects (`stringData`/`data` keys ending
//! in `.yml`/`.yaml`), such as the `alertmanager.yaml` of kube-prometheus. Each becomes a virtual
//! source whose positions map back into the manifest: exactly, through the YAML scalar, for
//! `stringData`; to the whole value for base64 `data`.

use crate::parse::scalar;
use crate::parse::yaml::{Node, Value};
use crate::source::Span;

/// A YAML file found inside a Kubernetes object.
#[derive(Debug, Clone)]
pub struct Embedded {
    /// `stringData.alertmanager.yaml`, `data.config.yml`, ...
    pub label: String,
    /// The key's name (`alertmanager.yaml`).
    pub key: String,
    pub text: String,
    /// `(inner_start, outer_start, len)` runs, for `stringData`.
    pub segments: Vec<(usize, usize, usize)>,
    /// For base64 `data`: every position maps to this span of the manifest.
    pub whole: Option<Span>,
    /// Ranges of `text` that a shell substituted from a variable (heredocs with an unquoted
    /// delimiter): values there come from the variable, not from this file.
    pub substituted: Vec<Span>,
    /// Shell expansions left as written (unknown variables, `$(...)`): the text is not what the
    /// file will really contain, so a parse failure is not reported.
    pub unresolved: bool,
    /// Ranges of `text` that are not written in the outer file (a chart's defaults merged in),
    /// with what to say about findings there (`they come from the chart's defaults`).
    pub notes: Vec<(Span, String)>,
}

/// The YAML files embedded in a `Secret` or `ConfigMap` document. Also returns problems
/// (a `data` value that is not valid base64 or UTF-8) with their spans.
pub fn embedded_files(doc: &Node, src: &str) -> (Vec<Embedded>, Vec<(Span, String)>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let kind = doc.get("kind").and_then(Node::as_str);
    if !matches!(kind, Some("Secret") | Some("ConfigMap")) {
        return (out, problems);
    }
    let is_yaml = |k: &str| k.ends_with(".yml") || k.ends_with(".yaml");
    if let Some(sd) = doc.get("stringData") {
        for (k, v) in sd.entries() {
            if !is_yaml(&k.name) {
                continue;
            }
            if let Value::Str(text) = &v.value {
                out.push(Embedded {
                    label: format!("stringData.{}", k.name),
                    key: k.name.clone(),
                    text: text.clone(),
                    segments: segments(src, v, text),
                    whole: None,
                    substituted: Vec::new(),
                    unresolved: false,
                    notes: Vec::new(),
                });
            }
        }
    }
    if let Some(data) = doc.get("data") {
        let b64 = kind == Some("Secret");
        for (k, v) in data.entries() {
            if !is_yaml(&k.name) {
                continue;
            }
            let Value::Str(raw) = &v.value else { continue };
            if b64 {
                match decode_base64(raw) {
                    Ok(bytes) => match String::from_utf8(bytes) {
                        Ok(text) => out.push(Embedded {
                            label: format!("data.{}", k.name),
                            key: k.name.clone(),
                            text,
                            segments: Vec::new(),
                            whole: Some(v.span.clone()),
                            substituted: Vec::new(),
                            unresolved: false,
                            notes: Vec::new(),
                        }),
                        Err(_) => problems.push((
                            v.span.clone(),
                            format!("`data.{}` decodes to bytes that are not UTF-8 text", k.name),
                        )),
                    },
                    Err(e) => problems.push((
                        v.span.clone(),
                        format!("`data.{}` is not valid base64: {e}", k.name),
                    )),
                }
            } else {
                // ConfigMap `data` is plain text
                out.push(Embedded {
                    label: format!("data.{}", k.name),
                    key: k.name.clone(),
                    text: raw.clone(),
                    segments: segments(src, v, raw),
                    whole: None,
                    substituted: Vec::new(),
                    unresolved: false,
                    notes: Vec::new(),
                });
            }
        }
    }
    (out, problems)
}

/// Runs of the decoded scalar that map byte for byte onto the source.
pub fn segments(src: &str, node: &Node, value: &str) -> Vec<(usize, usize, usize)> {
    let len = node.span.end.saturating_sub(node.span.start);
    let Some(map) = scalar::content_offsets(src, node.span.start, len, value) else {
        // cannot map exactly: everything points at the start of the scalar
        return vec![(0, node.span.start, 0)];
    };
    // bytes of a multi-byte char all map to the char's start: make them consecutive
    let mut adj: Vec<usize> = Vec::with_capacity(value.len());
    for j in 0..value.len() {
        if j > 0 && !value.is_char_boundary(j) {
            adj.push(adj[j - 1] + 1);
        } else {
            adj.push(map[j]);
        }
    }
    let mut out = Vec::new();
    let mut start = 0;
    for j in 1..=value.len() {
        let breaks = j == value.len() || adj[j] != adj[start] + (j - start);
        if breaks {
            out.push((start, adj[start], j - start));
            start = j;
        }
    }
    if out.is_empty() {
        out.push((0, map.first().copied().unwrap_or(node.span.start), 0));
    }
    out
}

/// Standard base64 (RFC 4648, with or without padding; whitespace ignored, as Kubernetes
/// tolerates line-wrapped values).
/// A value of a Kubernetes `Secret` that is not an embedded YAML file: committed to the
/// repository, it is a committed credential (base64 in `data` is an encoding, not encryption).
#[derive(Debug, Clone)]
pub struct SecretValue {
    /// `metadata.name` of the Secret.
    pub secret: String,
    /// `stringData.password`, `data.token`, ...
    pub key: String,
    pub span: Span,
    pub base64: bool,
    /// The decoded value (for redaction in messages; never printed whole).
    pub value: String,
}

/// The non-YAML values of a `Secret` document that hold something (references excluded).
pub fn secret_values(doc: &Node) -> Vec<SecretValue> {
    if doc.get("kind").and_then(Node::as_str) != Some("Secret") {
        return Vec::new();
    }
    let name = doc
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Node::as_str)
        .unwrap_or("")
        .to_string();
    let mut out = Vec::new();
    for (field, base64) in [("stringData", false), ("data", true)] {
        for (k, v) in doc.get(field).map(Node::entries).unwrap_or(&[]) {
            if k.name.ends_with(".yml") || k.name.ends_with(".yaml") {
                continue; // audited as an embedded file
            }
            let Value::Str(raw) = &v.value else { continue };
            let value = if base64 {
                match decode_base64(raw)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                {
                    Some(t) => t,
                    None => continue,
                }
            } else {
                raw.clone()
            };
            let t = value.trim();
            if t.is_empty() || crate::secrets::is_reference(t) || t.contains("{{") {
                continue;
            }
            out.push(SecretValue {
                secret: name.clone(),
                key: format!("{field}.{}", k.name),
                span: v.span.clone(),
                base64,
                value,
            });
        }
    }
    out
}

pub fn decode_base64(s: &str) -> Result<Vec<u8>, String> {
    fn val(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let clean: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let body_len = clean.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    let pad = clean.len() - body_len;
    if pad > 2 || (pad > 0 && !clean.len().is_multiple_of(4)) {
        return Err("bad padding".into());
    }
    if body_len % 4 == 1 {
        return Err("truncated input".into());
    }
    let mut out = Vec::with_capacity(body_len * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for (i, &c) in clean[..body_len].iter().enumerate() {
        let v = val(c).ok_or_else(|| format!("invalid character {:?} at offset {i}", c as char))?;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::yaml::parse_documents;
    use crate::source::{LineIndex, Origin, Sources};

    #[test]
    fn base64_round_trips() {
        assert_eq!(decode_base64("").unwrap(), b"");
        assert_eq!(decode_base64("Zg==").unwrap(), b"f");
        assert_eq!(decode_base64("Zm8=").unwrap(), b"fo");
        assert_eq!(decode_base64("Zm9v").unwrap(), b"foo");
        assert_eq!(decode_base64("Zm9vYg").unwrap(), b"foob");
        assert_eq!(decode_base64("Zm9v\n YmFy").unwrap(), b"foobar");
        assert_eq!(decode_base64("cm91dGU6IHt9Cg==").unwrap(), b"route: {}\n");
        assert!(decode_base64("Zm9v!").is_err());
        assert!(decode_base64("Z").is_err());
        assert!(decode_base64("Zg===").is_err());
        assert!(decode_base64("Zg=a").is_err());
    }

    #[test]
    fn string_data_positions_map_exactly() {
        let src = "apiVersion: v1\nkind: Secret\nstringData:\n  alertmanager.yaml: |-\n    route:\n      receiver: \"x\"\n    receivers:\n    - name: y\ntype: Opaque\n";
        let docs = parse_documents(src, &LineIndex::new(src)).unwrap();
        let (emb, problems) = embedded_files(&docs[0], src);
        assert!(problems.is_empty());
        assert_eq!(emb.len(), 1);
        let e = &emb[0];
        assert!(e.text.starts_with("route:\n  receiver: \"x\""));
        let mut sources = Sources::default();
        let outer = sources.add("s.yaml".into(), "s.yaml".into(), src, None);
        let inner = sources.add(
            "s.yaml#x".into(),
            "s.yaml".into(),
            e.text.clone(),
            Some(Origin {
                outer,
                segments: e.segments.clone(),
                whole: None,
            }),
        );
        let at = e.text.find("\"x\"").unwrap();
        let (f, span) = sources.resolve(inner, &(at..at + 3));
        assert_eq!(f, outer);
        assert_eq!(&src[span], "\"x\"");
        let at = e.text.find("name: y").unwrap();
        let (_, span) = sources.resolve(inner, &(at..at + 7));
        assert_eq!(&src[span], "name: y");
    }

    #[test]
    fn data_is_base64_and_maps_to_the_value() {
        let src = "kind: Secret\ndata:\n  alertmanager.yml: cm91dGU6IHt9Cg==\n  other.txt: eA==\n";
        let docs = parse_documents(src, &LineIndex::new(src)).unwrap();
        let (emb, _) = embedded_files(&docs[0], src);
        assert_eq!(emb.len(), 1);
        assert_eq!(emb[0].text, "route: {}\n");
        assert_eq!(&src[emb[0].whole.clone().unwrap()], "cm91dGU6IHt9Cg==");
        let src = "kind: Secret\ndata:\n  a.yaml: '!!!'\n";
        let docs = parse_documents(src, &LineIndex::new(src)).unwrap();
        let (emb, problems) = embedded_files(&docs[0], src);
        assert!(emb.is_empty());
        assert_eq!(problems.len(), 1);
    }
}
