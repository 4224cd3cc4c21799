//! GitLab CI structure validation against GitLab's own published JSON Schema (vendored in
//! `schemas/vendor/gitlab-ci.json`), with every schema error mapped back to the YAML node it is
//! about. Messages never quote values (a value may be a secret).

use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::paths::LocationSegment;
use jsonschema::{ValidationError, Validator};
use serde_json::Value as Json;

use crate::parse::gitlab::{GNode, GValue, Pipeline};
use crate::source::{FileId, Span};

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
    pub file: FileId,
    pub span: Span,
    /// Where in the pipeline, e.g. `build.artifacts.expire_in`.
    pub path: String,
    /// The instance path as segments (keys and indices as strings).
    pub segments: Vec<String>,
    pub message: String,
}

/// The assembled pipeline as JSON for the validator: hidden keys (templates, anchors) left out
/// (GitLab validates only what runs); unknown content as `null`, its path recorded.
fn to_json(
    node: &GNode,
    path: &mut Vec<String>,
    unknown: &mut Vec<Vec<String>>,
    depth: usize,
) -> Json {
    if depth > 200 {
        return Json::Null;
    }
    match &node.value {
        GValue::Null => Json::Null,
        GValue::Bool(b) => Json::Bool(*b),
        GValue::Int(i) => Json::from(*i),
        GValue::Float(f) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        GValue::Str(s) => Json::String(s.clone()),
        GValue::Ref(_) | GValue::Unknown => {
            unknown.push(path.clone());
            Json::Null
        }
        GValue::Seq(items) => Json::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    path.push(i.to_string());
                    let j = to_json(n, path, unknown, depth + 1);
                    path.pop();
                    j
                })
                .collect(),
        ),
        GValue::Map(entries) => {
            let mut m = serde_json::Map::new();
            for (k, v) in entries {
                if depth == 0 && k.name.starts_with('.') {
                    continue;
                }
                path.push(k.name.clone());
                m.insert(k.name.clone(), to_json(v, path, unknown, depth + 1));
                path.pop();
            }
            Json::Object(m)
        }
    }
}

/// Does a string under `include` name its location with a variable? (Docs: "Use variables with
/// `include`": GitLab expands them first, so the schema's URL and path patterns do not apply.)
fn has_variable(node: &GNode) -> bool {
    match &node.value {
        GValue::Str(s) => s.contains('$'),
        GValue::Seq(items) => items.iter().any(has_variable),
        GValue::Map(entries) => entries.iter().any(|(_, v)| has_variable(v)),
        _ => false,
    }
}

/// Validate an assembled pipeline against GitLab's schema (what GitLab validates after
/// assembly). `certain_only`: some of the pipeline is out of sight (an include obsgate cannot
/// read, or the file is a fragment included from elsewhere), so only what no other file can
/// change is reported; the jobs in `incomplete` are judged that way too.
pub fn validate(p: &Pipeline, certain_only: bool) -> Vec<SchemaError> {
    let Some(c) = compiled() else {
        return Vec::new();
    };
    let mut unknown = Vec::new();
    let instance = to_json(&p.config, &mut Vec::new(), &mut unknown, 0);
    if let Some(inc) = p.config.get("include") {
        if has_variable(inc) {
            unknown.push(vec!["include".to_string()]);
        }
    }
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
        // under (or around) content obsgate cannot know
        let related = |u: &Vec<String>| {
            let n = u.len().min(segments.len());
            segments[..n] == u[..n]
        };
        if unknown.iter().any(related) {
            continue;
        }
        // GitLab itself accepts empty lists where the schema asks for one item (`artifacts:
        // paths: []` to drop a template's paths); only an empty script is refused
        if matches!(e.kind(), ValidationErrorKind::MinItems { .. })
            && !segments.iter().any(|s| s.ends_with("script"))
        {
            continue;
        }
        let (node, key) = locate(&p.config, &segments);
        let incomplete = certain_only
            || segments
                .first()
                .is_some_and(|j| p.incomplete.iter().any(|i| i == j));
        if incomplete {
            // another file may add keys to a mapping (a missing required key, a `oneOf` that a
            // key from elsewhere satisfies); a value written here is final
            let uncertain = match e.kind() {
                ValidationErrorKind::Required { .. } => true,
                ValidationErrorKind::AdditionalProperties { .. } => false,
                _ => node.is_map(),
            };
            if uncertain || segments.is_empty() {
                continue;
            }
        }
        let path = human_path(&segments);
        let (at, message) = match e.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let name = unexpected.first().cloned().unwrap_or_default();
                let key_at = node
                    .entries()
                    .iter()
                    .find(|(k, _)| k.name == name)
                    .map(|(k, _)| (k.file, k.span.clone()));
                let valid = allowed_properties(&c.schema, e.schema_path().as_str());
                let hint = crate::parse::closest(
                    &name,
                    &valid.iter().map(String::as_str).collect::<Vec<_>>(),
                )
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
                (
                    key_at.unwrap_or_else(|| key.clone().unwrap_or((node.file, node.span.clone()))),
                    format!("unknown key `{name}` in {}{hint}", where_(&path)),
                )
            }
            ValidationErrorKind::Required { property } => (
                key.clone().unwrap_or((node.file, node.span.clone())),
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
                ((node.file, node.span.clone()), msg)
            }
        };
        let err = SchemaError {
            file: at.0,
            span: at.1,
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

/// The node at an instance path, and the key naming it (when it is a map value).
fn locate<'a>(doc: &'a GNode, segments: &[String]) -> (&'a GNode, Option<(FileId, Span)>) {
    let mut node = doc;
    let mut key = None;
    for s in segments {
        match &node.value {
            GValue::Map(entries) => match entries.iter().find(|(k, _)| &k.name == s) {
                Some((k, v)) => {
                    key = Some((k.file, k.span.clone()));
                    node = v;
                }
                None => break,
            },
            GValue::Seq(items) => match s.parse::<usize>().ok().and_then(|i| items.get(i)) {
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
    use crate::parse::gitlab::{assemble, CiSource};
    use crate::source::LineIndex;

    fn errors(src: &str) -> Vec<SchemaError> {
        let docs = crate::parse::yaml::parse_documents(src, &LineIndex::new(src)).unwrap();
        let sources = [CiSource {
            file: FileId(0),
            path: ".gitlab-ci.yml",
            src,
            doc: &docs[0],
            spec: None,
        }];
        validate(&assemble(&sources, 0), false)
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
        // a reference that resolves to the wrong type is reported at its definition
        let src = ".rules:\n  if: [a, b]\nbuild:\n  script: [make]\n  rules:\n    - if: !reference [.rules, if]\n";
        let e = errors(src);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(src[e[0].span.clone()].starts_with("[a, b"), "{e:?}");
    }

    #[test]
    fn an_error_in_a_template_is_reported_in_the_template() {
        let src = ".tpl:\n  when: sometimes\njob:\n  extends: .tpl\n  script: [x]\n";
        let e = errors(src);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(&src[e[0].span.clone()], "sometimes");
        assert_eq!(e[0].path, "job.when");
    }

    #[test]
    fn messages_do_not_quote_values() {
        let src = "build:\n  script: [make]\n  when: hunter2-secret\n";
        let e = errors(src);
        assert!(!e.is_empty());
        assert!(e.iter().all(|x| !x.message.contains("hunter2")), "{e:?}");
    }
}
