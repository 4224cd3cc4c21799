//! GitLab CI structure validation against GitLab's own published JSON Schema (vendored in
//! `schemas/vendor/gitlab-ci.json`), with every schema error mapped back to the YAML node it is
//! about. Messages never quote values (a value may be a secret).

use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::paths::LocationSegment;
use jsonschema::{ValidationError, Validator};
use serde_json::Value as Json;

use crate::parse::yaml::{Node, Value};
use crate::source::Span;

const SCHEMA: &str = include_str!("../../schemas/vendor/gitlab-ci.json");

struct Compiled {
    schema: Json,
    validator: Validator,
}

fn compiled() -> Option<&'static Compiled> {
    static C: OnceLock<Option<Compiled>> = OnceLock::new();
    C.get_or_init(|| {
        let schema: Json = serde_json::from_str(SCHEMA).ok()?;
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .should_validate_formats(false)
            .build(&schema)
            .ok()?;
        Some(Compiled { schema, validator })
    })
    .as_ref()
}

/// A schema problem at a position.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaError {
    pub span: Span,
    /// Where in the document, e.g. `build.artifacts.expire_in`.
    pub path: String,
    /// The instance path as segments (keys and indices as strings).
    pub segments: Vec<String>,
    pub message: String,
}

/// The YAML tree as JSON, for the validator.
pub fn to_json(node: &Node, depth: usize) -> Json {
    if depth > 200 {
        return Json::Null;
    }
    match &node.value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        Value::Str(s) => Json::String(s.clone()),
        Value::Seq(items) => Json::Array(items.iter().map(|n| to_json(n, depth + 1)).collect()),
        Value::Map(entries) => {
            let mut m = serde_json::Map::new();
            for (k, v) in entries {
                m.insert(k.name.clone(), to_json(v, depth + 1));
            }
            Json::Object(m)
        }
    }
}

/// The document as GitLab validates it: `!reference [job, key, ...]` tags resolved within the
/// file (GitLab resolves them before validating); references to other files are recorded so
/// that errors under them are not reported.
fn to_json_resolved(
    node: &Node,
    root: &Node,
    src: &str,
    path: &mut Vec<String>,
    unresolved: &mut Vec<Vec<String>>,
    depth: usize,
) -> Json {
    if depth > 200 {
        return Json::Null;
    }
    match &node.value {
        Value::Seq(items) if crate::parse::ci::tag_before(node, src) == Some("!reference") => {
            let mut target = Some(root);
            for key in items.iter().filter_map(Node::as_str) {
                target = target.and_then(|t| t.get(key));
            }
            match target {
                // a reference to a reference is resolved once more at most (depth guard)
                Some(t) if depth < 100 => {
                    to_json_resolved(t, root, src, path, unresolved, depth + 50)
                }
                _ => {
                    unresolved.push(path.clone());
                    Json::Null
                }
            }
        }
        Value::Seq(items) => Json::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    path.push(i.to_string());
                    let j = to_json_resolved(n, root, src, path, unresolved, depth + 1);
                    path.pop();
                    j
                })
                .collect(),
        ),
        Value::Map(entries) => {
            let mut m = serde_json::Map::new();
            for (k, v) in entries {
                path.push(k.name.clone());
                m.insert(
                    k.name.clone(),
                    to_json_resolved(v, root, src, path, unresolved, depth + 1),
                );
                path.pop();
            }
            Json::Object(m)
        }
        _ => to_json(node, depth),
    }
}

/// Validate a GitLab CI document. Empty when the schema cannot be loaded (never happens with
/// the vendored file; a unit test guards it).
pub fn validate(doc: &Node, src: &str) -> Vec<SchemaError> {
    let Some(c) = compiled() else {
        return Vec::new();
    };
    let mut unresolved = Vec::new();
    let instance = to_json_resolved(doc, doc, src, &mut Vec::new(), &mut unresolved, 0);
    let mut out: Vec<SchemaError> = Vec::new();
    for top in c.validator.iter_errors(&instance) {
        let e = most_specific(&top);
        let segments: Vec<String> = e
            .instance_path()
            .iter()
            .map(|s| match s {
                LocationSegment::Property(p) => p.to_string(),
                LocationSegment::Index(i) => i.to_string(),
            })
            .collect();
        // under a `!reference` to another file: its content is unknown here
        if unresolved
            .iter()
            .any(|u| segments.len() >= u.len() && segments[..u.len()] == u[..])
        {
            continue;
        }
        let (node, key) = locate(doc, &segments);
        let path = human_path(&segments);
        let (span, message) = match e.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let name = unexpected.first().cloned().unwrap_or_default();
                let key_span = node
                    .entries()
                    .iter()
                    .find(|(k, _)| k.name == name)
                    .map(|(k, _)| k.span.clone());
                let valid = allowed_properties(&c.schema, e.schema_path().as_str());
                let hint = crate::parse::closest(
                    &name,
                    &valid.iter().map(String::as_str).collect::<Vec<_>>(),
                )
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
                (
                    key_span.unwrap_or_else(|| key.clone().unwrap_or(node.span.clone())),
                    format!("unknown key `{name}` in {}{hint}", where_(&path)),
                )
            }
            ValidationErrorKind::Required { property } => (
                key.clone().unwrap_or(node.span.clone()),
                format!(
                    "{} is missing the required key `{}`",
                    where_(&path),
                    property.as_str().unwrap_or("?")
                ),
            ),
            _ => {
                let desc = description(&c.schema, e.schema_path().as_str());
                let detail = e.masked().to_string();
                let mut msg = format!(
                    "{} does not match GitLab's CI schema: {detail}",
                    where_(&path)
                );
                if let Some(d) = desc {
                    msg.push_str(&format!(" ({d})"));
                }
                (node.span.clone(), msg)
            }
        };
        let err = SchemaError {
            span,
            path,
            segments,
            message,
        };
        if !out.contains(&err) {
            out.push(err);
        }
    }
    out
}

/// For `oneOf`/`anyOf` failures, the error of the branch that got deepest into the instance
/// (an unknown key inside `artifacts` says more than "not valid under any schema").
fn most_specific<'e>(e: &'e ValidationError<'e>) -> &'e ValidationError<'e> {
    let depth = e.instance_path().iter().count();
    let context = match e.kind() {
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            context
        }
        _ => return e,
    };
    let mut best: Option<&ValidationError<'static>> = None;
    for branch in context {
        // a branch that failed only on the type of the value itself says nothing
        for sub in branch {
            let d = sub.instance_path().iter().count();
            if d > depth && best.is_none_or(|b| d > b.instance_path().iter().count()) {
                best = Some(sub);
            }
        }
    }
    match best {
        Some(b) => most_specific(b),
        None => e,
    }
}

/// The node at an instance path, and the span of the key naming it (when it is a map value).
fn locate<'a>(doc: &'a Node, segments: &[String]) -> (&'a Node, Option<Span>) {
    let mut node = doc;
    let mut key = None;
    for s in segments {
        match &node.value {
            Value::Map(entries) => match entries.iter().find(|(k, _)| &k.name == s) {
                Some((k, v)) => {
                    key = Some(k.span.clone());
                    node = v;
                }
                None => break,
            },
            Value::Seq(items) => match s.parse::<usize>().ok().and_then(|i| items.get(i)) {
                Some(v) => {
                    key = None;
                    node = v;
                }
                None => break,
            },
            _ => break,
        }
    }
    (node, key)
}

fn human_path(segments: &[String]) -> String {
    let mut out = String::new();
    for s in segments {
        if s.parse::<usize>().is_ok() {
            out.push_str(&format!("[{s}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(s);
        }
    }
    out
}

fn where_(path: &str) -> String {
    if path.is_empty() {
        "the pipeline".to_string()
    } else {
        format!("`{path}`")
    }
}

/// The schema node a schema path points into (the object holding the failing keyword).
fn schema_node<'a>(schema: &'a Json, pointer: &str) -> Option<&'a Json> {
    let parent = pointer.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
    let mut node = schema.pointer(parent)?;
    // follow a `$ref` the keyword sits next to
    for _ in 0..8 {
        match node.get("$ref").and_then(Json::as_str) {
            Some(r) if r.starts_with("#/") => node = schema.pointer(&r[1..])?,
            _ => break,
        }
    }
    Some(node)
}

fn description(schema: &Json, pointer: &str) -> Option<String> {
    let node = schema_node(schema, pointer)?;
    let d = node
        .get("description")
        .or_else(|| node.get("markdownDescription"))?
        .as_str()?;
    let first = d.split(". ").next().unwrap_or(d).trim_end_matches('.');
    // drop markdown links
    let re = regex_link();
    Some(re.replace_all(first, "$1").into_owned())
}

fn regex_link() -> &'static regex::Regex {
    static R: OnceLock<regex::Regex> = OnceLock::new();
    R.get_or_init(|| regex::Regex::new(r"\[([^\]]*)\]\([^)]*\)").expect("valid regex"))
}

fn allowed_properties(schema: &Json, pointer: &str) -> Vec<String> {
    schema_node(schema, pointer)
        .and_then(|n| n.get("properties"))
        .and_then(Json::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::LineIndex;

    fn errors(src: &str) -> Vec<SchemaError> {
        let docs = crate::parse::yaml::parse_documents(src, &LineIndex::new(src)).unwrap();
        validate(&docs[0], src)
    }

    #[test]
    fn schema_loads() {
        assert!(compiled().is_some());
    }

    #[test]
    fn valid_pipeline() {
        let e = errors(
            "stages: [build]\nvariables:\n  A: \"1\"\n  B: {value: x, description: the b}\nbuild:\n  stage: build\n  image: alpine\n  script:\n    - make\n    - [a, b]\n  artifacts:\n    paths: [out]\n    expire_in: 30 days\n  rules:\n    - if: $CI_COMMIT_BRANCH\n",
        );
        assert_eq!(e, vec![]);
    }

    #[test]
    fn unknown_key_points_at_key() {
        let src = "build:\n  script: [make]\n  artifact:\n    paths: [x]\n";
        let e = errors(src);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(&src[e[0].span.clone()], "artifact");
        assert!(
            e[0].message.contains("did you mean `artifacts`"),
            "{}",
            e[0].message
        );
    }

    #[test]
    fn nested_unknown_key_is_specific() {
        let src = "build:\n  script: [make]\n  artifacts:\n    pathz: [x]\n";
        let e = errors(src);
        assert!(e.iter().any(|x| &src[x.span.clone()] == "pathz"), "{e:?}");
    }

    #[test]
    fn references_resolved_or_skipped() {
        // resolved within the file: a string `if`
        let e = errors(
            ".rules:\n  if: $CI_COMMIT_BRANCH\nbuild:\n  script: [make]\n  rules:\n    - if: !reference [.rules, if]\n",
        );
        assert_eq!(e, vec![]);
        // to another file: unknown, not an error
        let e =
            errors("build:\n  script: [make]\n  rules:\n    - if: !reference [.elsewhere, if]\n");
        assert_eq!(e, vec![]);
        // a reference that resolves to the wrong type is still reported
        let e = errors(
            ".rules:\n  if: [a, b]\nbuild:\n  script: [make]\n  rules:\n    - if: !reference [.rules, if]\n",
        );
        assert_eq!(e.len(), 1, "{e:?}");
    }

    #[test]
    fn messages_do_not_quote_values() {
        let src = "build:\n  script: [make]\n  when: hunter2-secret\n";
        let e = errors(src);
        assert!(!e.is_empty());
        assert!(e.iter().all(|x| !x.message.contains("hunter2")), "{e:?}");
    }
}
