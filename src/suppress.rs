//! Suppression comments: `# obsgate: ignore <id>[, <id>...] -- reason` on the finding's line or on
//! the line above it, and `# obsgate: ignore-file <id>` anywhere in the file. A suppression that
//! matches no finding is itself reported (`obsgate/unused-suppression`).

use std::sync::OnceLock;

use regex::Regex;

use crate::source::{SourceFile, Span};

#[derive(Debug, Clone, PartialEq)]
pub struct Suppression {
    pub file_wide: bool,
    pub ids: Vec<String>,
    /// 1-based line of the comment.
    pub line: usize,
    /// The comment itself.
    pub span: Span,
    /// The comment is the only thing on its line (so it applies to the next line too).
    pub own_line: bool,
    pub reason: Option<String>,
}

fn re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?:^|\s)#\s*obsgate:\s*(ignore-file|ignore)\s+([A-Za-z0-9_/\-]+(?:\s*,\s*[A-Za-z0-9_/\-]+)*)\s*(?:--\s*(.*?))?\s*$")
            .expect("suppression regex")
    })
}

/// All suppression comments of a source (YAML `#` comments; also matches `#` comments in shell).
pub fn scan(file: &SourceFile) -> Vec<Suppression> {
    if !file.text.contains("obsgate:") {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, line) in file.text.split('\n').enumerate() {
        let Some(c) = re().captures(line) else {
            continue;
        };
        let line_no = i + 1;
        let start = file.lines.line_span(&file.text, line_no).start;
        let whole = c.get(0).expect("match");
        let lead = whole.as_str().len() - whole.as_str().trim_start().len();
        let span = start + whole.start() + lead..start + whole.end();
        let own_line = line[..whole.start() + lead].trim().is_empty();
        out.push(Suppression {
            file_wide: &c[1] == "ignore-file",
            ids: c[2].split(',').map(|s| s.trim().to_string()).collect(),
            line: line_no,
            span,
            own_line,
            reason: c
                .get(3)
                .map(|m| m.as_str().to_string())
                .filter(|s| !s.is_empty()),
        });
    }
    out
}

impl Suppression {
    /// Does this suppression cover a finding of `check` starting on `line`?
    pub fn covers(&self, check: &str, line: usize) -> bool {
        if !self.ids.iter().any(|i| i == check) {
            return false;
        }
        self.file_wide || line == self.line || (self.own_line && line == self.line + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Sources;

    #[test]
    fn parses_comments() {
        let mut s = Sources::default();
        let id = s.add(
            "a.yml".into(),
            "a.yml".into(),
            "# obsgate: ignore-file alerts/missing-for\n- alert: X # obsgate: ignore alerts/missing-runbook, alerts/missing-annotation -- tracked in OPS-1\n  # obsgate: ignore rules/duplicate\nexpr: 'a # obsgate: nothing'\n",
            None,
        );
        let sup = scan(s.get(id));
        assert_eq!(sup.len(), 3);
        assert!(sup[0].file_wide && sup[0].covers("alerts/missing-for", 99));
        assert_eq!(
            sup[1].ids,
            vec!["alerts/missing-runbook", "alerts/missing-annotation"]
        );
        assert_eq!(sup[1].reason.as_deref(), Some("tracked in OPS-1"));
        assert!(
            sup[1].covers("alerts/missing-runbook", 2)
                && !sup[1].covers("alerts/missing-runbook", 3)
        );
        assert!(sup[2].own_line && sup[2].covers("rules/duplicate", 4));
    }
}
