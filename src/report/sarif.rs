//! SARIF 2.1.0 (serde-sarif): `rules[]` from the checks' metadata (summary, rationale, default
//! level, help URI), one result per finding with its region, `partialFingerprints` (the
//! line-independent fingerprint) and paths relative to `%SRCROOT%` (`originalUriBaseIds`).

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, Region,
    ReportingConfiguration, ReportingDescriptor, ResultLevel, Tool, ToolComponent, Version,
};

use crate::checks::registry;
use crate::engine::{Findings, Resolved};
use crate::model::Project;

fn level(s: crate::checks::Severity) -> ResultLevel {
    match super::levels(s).0 {
        "error" => ResultLevel::Error,
        "warning" => ResultLevel::Warning,
        _ => ResultLevel::Note,
    }
}

/// One run of the log. serde-sarif's `Run` holds its results in a `Vec`; this writes the same
/// fields (those obsgate sets, in serde-sarif's order) with the results streamed.
#[derive(serde::Serialize)]
#[serde(bound = "super::Streamed<F>: serde::Serialize")]
struct RunOut<'a, F> {
    #[serde(rename = "columnKind")]
    column_kind: &'static str,
    #[serde(rename = "originalUriBaseIds")]
    original_uri_base_ids: BTreeMap<String, ArtifactLocation>,
    results: super::Streamed<F>,
    tool: &'a Tool,
}

/// The log (serde-sarif's `Sarif`, field for field, with one streamed run).
#[derive(serde::Serialize)]
#[serde(bound = "super::Streamed<F>: serde::Serialize")]
struct SarifOut<'a, F> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: [RunOut<'a, F>; 1],
    version: String,
}

pub fn write(
    w: &mut dyn std::io::Write,
    project: &Project,
    findings: &Findings,
) -> std::io::Result<()> {
    let rules: Vec<ReportingDescriptor> = registry::metas()
        .iter()
        .map(|m| {
            // the check's page in obsgate's docs (its references are listed there)
            let help_uri = crate::checks::docs_url(&m.id).unwrap_or_default();
            ReportingDescriptor::builder()
                .id(m.id.clone())
                .name(m.id.replace(['/', '-'], "_"))
                .short_description(
                    MultiformatMessageString::builder()
                        .text(m.summary.clone())
                        .build(),
                )
                .full_description(
                    MultiformatMessageString::builder()
                        .text(m.rationale.trim().to_string())
                        .build(),
                )
                .help(
                    MultiformatMessageString::builder()
                        .text(format!(
                            "{}\n\nRun `obsgate explain {}` for an example and the options.",
                            m.rationale.trim(),
                            m.id
                        ))
                        .build(),
                )
                .help_uri(help_uri)
                .default_configuration(
                    ReportingConfiguration::builder()
                        .level(serde_json::Value::String(
                            super::levels(m.severity).0.to_string(),
                        ))
                        .build(),
                )
                .build()
        })
        .collect();
    let index: BTreeMap<&str, i64> = registry::metas()
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.as_str(), i as i64))
        .collect();
    let base = absolute(&project.base);
    let result = |f: &Resolved| {
        let region = Region::builder()
            .start_line(f.line as i64)
            .start_column(f.column as i64)
            .end_line(f.end_line as i64)
            .end_column(f.end_column as i64)
            .build();
        let location = Location::builder()
            .physical_location(
                PhysicalLocation::builder()
                    .artifact_location(artifact(&f.path, &base))
                    .region(region)
                    .build(),
            )
            .build();
        let mut text = f.message.to_string();
        if let Some(h) = &f.help {
            text.push_str("\nhelp: ");
            text.push_str(&h.text());
        }
        let mut fp = BTreeMap::new();
        fp.insert("obsgate/v1".to_string(), f.fingerprint.to_string());
        let mut r = serde_sarif::sarif::Result::builder()
            .rule_id(f.check)
            .level(level(f.severity))
            .message(Message::builder().text(text).build())
            .locations(vec![location])
            .partial_fingerprints(fp)
            .build();
        r.rule_index = index.get(f.check).copied();
        r
    };
    let root = url_of_dir(&project.base);
    let mut bases = BTreeMap::new();
    bases.insert(
        "%SRCROOT%".to_string(),
        ArtifactLocation::builder().uri(root).build(),
    );
    let tool = Tool::builder()
        .driver(
            ToolComponent::builder()
                .name("obsgate")
                .version(env!("CARGO_PKG_VERSION"))
                .semantic_version(env!("CARGO_PKG_VERSION"))
                .rules(rules)
                .build(),
        )
        .build();
    let sarif = SarifOut {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        runs: [RunOut {
            column_kind: "unicodeCodePoints",
            original_uri_base_ids: bases,
            results: super::Streamed(|| findings.iter().map(result)),
            tool: &tool,
        }],
        version: Version::V2_1_0.to_string(),
    };
    serde_json::to_writer_pretty(&mut *w, &sarif)?;
    w.write_all(b"\n")
}

/// A finding's file: relative to `%SRCROOT%`, or an absolute `file://` URI for a file outside
/// the base directory. The path is normalised lexically first (`.` and `..` resolved against
/// `base`), so that no URI holds a `..` segment: `../x/y.yml` is the absolute URI of the file,
/// `a/../b.yml` is `b.yml`. Probe targets (URLs) are left as they are.
fn artifact(path: &str, base: &Path) -> ArtifactLocation {
    let path = path.replace('\\', "/");
    if path.contains("://") {
        return ArtifactLocation::builder()
            .uri(encode(&path))
            .uri_base_id("%SRCROOT%")
            .build();
    }
    let abs = normalise(&base.join(&path));
    match abs.strip_prefix(base) {
        Ok(rel) if !rel.as_os_str().is_empty() => ArtifactLocation::builder()
            .uri(encode(&rel.to_string_lossy().replace('\\', "/")))
            .uri_base_id("%SRCROOT%")
            .build(),
        _ => {
            let mut p = abs.to_string_lossy().replace('\\', "/");
            if !p.starts_with('/') {
                p.insert(0, '/');
            }
            ArtifactLocation::builder()
                .uri(format!("file://{}", encode(&p)))
                .build()
        }
    }
}

/// An absolute, lexically normalised form of a directory (against the working directory).
fn absolute(dir: &Path) -> PathBuf {
    let abs = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|c| c.join(dir))
            .unwrap_or_else(|_| dir.to_path_buf())
    };
    normalise(&abs)
}

/// Resolve `.` and `..` components without touching the file system (`..` at the root stays at
/// the root).
fn normalise(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            Component::RootDir | Component::Prefix(_) | Component::Normal(_) => out.push(c),
        }
    }
    out
}

/// Percent-encode the bytes a URI path may not hold as they are.
fn encode(p: &str) -> String {
    let mut out = String::new();
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `file:///abs/dir/` for a directory (percent-encoding the characters URIs do not allow).
fn url_of_dir(dir: &Path) -> String {
    let abs = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut p = abs.to_string_lossy().replace('\\', "/");
    if !p.ends_with('/') {
        p.push('/');
    }
    if !p.starts_with('/') {
        p.insert(0, '/');
    }
    format!("file://{}", encode(&p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(path: &str, base: &str) -> (String, Option<String>) {
        let a = artifact(path, Path::new(base));
        (a.uri.unwrap_or_default(), a.uri_base_id)
    }

    #[test]
    fn paths_are_normalised_before_making_uris() {
        let src = Some("%SRCROOT%".to_string());
        assert_eq!(uri("x/y.yml", "/a/b"), ("x/y.yml".into(), src.clone()));
        assert_eq!(uri("x/../y.yml", "/a/b"), ("y.yml".into(), src.clone()));
        assert_eq!(uri("./x/./y.yml", "/a/b"), ("x/y.yml".into(), src.clone()));
        assert_eq!(
            uri("../x/y.yml", "/a/b"),
            ("file:///a/x/y.yml".into(), None)
        );
        assert_eq!(
            uri("../../../../x y.yml", "/a/b"),
            ("file:///x%20y.yml".into(), None)
        );
        assert_eq!(
            uri("/a/b/../b/z.yml", "/a/b"),
            ("z.yml".into(), src.clone())
        );
        assert_eq!(uri("/c/d.yml", "/a/b"), ("file:///c/d.yml".into(), None));
    }

    #[test]
    fn normalise_keeps_leading_parents_of_relative_paths() {
        assert_eq!(
            normalise(Path::new("../../x/./y")),
            PathBuf::from("../../x/y")
        );
        assert_eq!(normalise(Path::new("a/../../y")), PathBuf::from("../y"));
        assert_eq!(normalise(Path::new("/../y")), PathBuf::from("/y"));
    }
}
