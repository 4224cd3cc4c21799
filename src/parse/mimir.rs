//! Mimir (and Cortex) Alertmanager tenant configs: the YAML that `mimirtool alertmanager load`
//! and the `/api/v1/alerts` endpoint take, with the tenant's Alertmanager config as a string
//! under `alertmanager_config:` and its notification templates under `template_files:` (a map
//! from file name to template text). The config becomes an embedded file whose bytes map back
//! into the string; its `{{ template "..." }}` calls are resolved against `template_files`.

use crate::parse::k8s::Embedded;
use crate::parse::yaml::{Node, Value};
use crate::source::Span;

/// The keys of a tenant config (Mimir's `UserConfig`).
pub const KEYS: &[&str] = &["alertmanager_config", "template_files"];

/// Is this document a tenant config: `alertmanager_config:` a string, and no key Mimir does
/// not take?
pub fn detect(doc: &Node) -> bool {
    matches!(
        doc.get("alertmanager_config").map(|n| &n.value),
        Some(Value::Str(_))
    ) && doc
        .entries()
        .iter()
        .all(|(k, _)| KEYS.contains(&k.name.as_str()))
}

/// The tenant's Alertmanager config as an embedded file mapped into the string.
pub fn tenant_config(doc: &Node, src: &str) -> Option<Embedded> {
    if !detect(doc) {
        return None;
    }
    let v = doc.get("alertmanager_config")?;
    let Value::Str(text) = &v.value else {
        return None;
    };
    Some(Embedded {
        label: "alertmanager_config".into(),
        key: "alertmanager.yaml".into(),
        text: text.clone(),
        segments: crate::parse::k8s::segments(src, v, text),
        whole: None,
        substituted: Vec::new(),
        unresolved: false,
        notes: Vec::new(),
    })
}

/// One entry of `template_files`: its name, its text, and where the text is written.
#[derive(Debug, Clone)]
pub struct TemplateFile {
    pub name: String,
    pub text: String,
    /// The scalar's span in the tenant config.
    pub span: Span,
    /// `(inner_start, outer_start, len)` runs of the text in the tenant config.
    pub segments: Vec<(usize, usize, usize)>,
}

/// The `template_files` of a tenant config's text, if it is one.
pub fn template_files(src: &str) -> Option<Vec<TemplateFile>> {
    let lines = crate::source::LineIndex::new(src);
    let docs = crate::parse::yaml::parse_documents(src, &lines).ok()?;
    let doc = docs.iter().find(|d| detect(d))?;
    let mut out = Vec::new();
    for (k, v) in doc.get("template_files").map(Node::entries).unwrap_or(&[]) {
        if let Value::Str(text) = &v.value {
            out.push(TemplateFile {
                name: k.name.clone(),
                text: text.clone(),
                span: v.span.clone(),
                segments: crate::parse::k8s::segments(src, v, text),
            });
        }
    }
    Some(out)
}

impl TemplateFile {
    /// The span in the tenant config of a span of the template's text.
    pub fn outer_span(&self, inner: &Span) -> Span {
        let origin = crate::source::Origin {
            outer: crate::source::FileId(0),
            segments: self.segments.clone(),
            whole: None,
        };
        let start = origin.map(inner.start, false);
        start..origin.map(inner.end, true).max(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::yaml::parse_documents;
    use crate::source::LineIndex;

    const TENANT: &str = "template_files:\n  default_template: |\n    {{ define \"team.title\" }}[{{ .Status }}] {{ .CommonLabels.alertname }}{{ end }}\nalertmanager_config: |\n  templates: ['default_template']\n  route:\n    receiver: team\n  receivers:\n    - name: team\n      slack_configs:\n        - channel: '#team'\n          title: '{{ template \"team.title\" . }}'\n";

    #[test]
    fn the_config_string_is_embedded_with_positions() {
        let docs = parse_documents(TENANT, &LineIndex::new(TENANT)).unwrap();
        let e = tenant_config(&docs[0], TENANT).unwrap();
        assert!(e
            .text
            .starts_with("templates: ['default_template']\nroute:\n"));
        let at = e.text.find("receiver: team").unwrap();
        let origin = crate::source::Origin {
            outer: crate::source::FileId(0),
            segments: e.segments.clone(),
            whole: None,
        };
        let o = origin.map(at, false);
        assert_eq!(&TENANT[o..o + 14], "receiver: team");
    }

    #[test]
    fn template_files_with_positions() {
        let files = template_files(TENANT).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].name, "default_template");
        let at = files[0].text.find("team.title").unwrap();
        let span = files[0].outer_span(&(at..at + 10));
        assert_eq!(&TENANT[span], "team.title");
    }

    #[test]
    fn only_tenant_configs() {
        let other = "alertmanager_config: |\n  route: {receiver: x}\nextra: 1\n";
        let docs = parse_documents(other, &LineIndex::new(other)).unwrap();
        assert!(!detect(&docs[0]));
        let map = "alertmanager_config:\n  route: {receiver: x}\n";
        let docs = parse_documents(map, &LineIndex::new(map)).unwrap();
        assert!(!detect(&docs[0]));
    }
}
