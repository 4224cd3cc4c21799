//! Check metadata, read from `rules/<domain>/<name>.yml` (embedded at build time).

use serde::Deserialize;

use super::Severity;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub id: String,
    /// One line: what the check detects.
    pub summary: String,
    /// Why it matters.
    pub rationale: String,
    pub severity: Severity,
    #[serde(default)]
    pub options: Vec<OptionMeta>,
    pub example: Example,
    #[serde(default)]
    pub references: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionMeta {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: OptKind,
    pub description: String,
    #[serde(default)]
    pub default: Option<serde_json::Value>,
    /// Allowed values of a `choice` option.
    #[serde(default)]
    pub choices: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptKind {
    String,
    List,
    Duration,
    Severity,
    Integer,
    Regex,
    Choice,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    /// Input that triggers the check.
    pub bad: String,
    /// The same input, fixed.
    pub good: String,
    /// `.obsgate.yml` content the example needs, if any.
    #[serde(default)]
    pub config: Option<String>,
    /// The file name the example is written as (default `example.yml`), e.g. `metrics.js`.
    #[serde(default)]
    pub file: Option<String>,
    /// Another file the example needs beside it (same for bad and good): `{file, text}`.
    #[serde(default)]
    pub context: Option<ContextFile>,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextFile {
    pub file: String,
    pub text: String,
}

/// A validated option value.
#[derive(Debug, Clone, PartialEq)]
pub enum OptValue {
    Str(String),
    List(Vec<String>),
    Duration(crate::parse::scalar::PromDuration),
    Severity(Severity),
    Integer(i64),
}

impl OptValue {
    pub fn from_json(kind: OptKind, v: &serde_json::Value) -> Option<OptValue> {
        match (kind, v) {
            (OptKind::String | OptKind::Regex, serde_json::Value::String(s)) => {
                Some(OptValue::Str(s.clone()))
            }
            (OptKind::List, serde_json::Value::Array(a)) => Some(OptValue::List(
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect(),
            )),
            (OptKind::Duration, serde_json::Value::String(s)) => {
                crate::parse::scalar::parse_duration(s)
                    .ok()
                    .map(OptValue::Duration)
            }
            (OptKind::Severity, serde_json::Value::String(s)) => {
                Severity::parse(s).map(OptValue::Severity)
            }
            (OptKind::Integer, serde_json::Value::Number(n)) => n.as_i64().map(OptValue::Integer),
            _ => None,
        }
    }
}

impl Meta {
    pub fn parse(src: &str) -> Result<Meta, String> {
        serde_saphyr::from_str::<Meta>(src).map_err(|e| e.to_string())
    }
}
