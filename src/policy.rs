//! Team policies on rules (`.obsgate.yml` `policies:`), as promruval and pint let teams write
//! them: each policy selects rules (by file, kind, name, labels) and states requirements; a
//! rule that breaks one is a finding `policy/<name>` at the offending node, with the policy's
//! severity, suppressible like a check, explained by `obsgate explain policy/<name>`.
//!
//! Regular expressions are searched, not anchored (write `^...$` to match whole values), as
//! in the examples users know from promruval; an invalid one is a config error.

use std::collections::BTreeMap;

use crate::checks::{Finding, Severity};
use crate::model::{Project, RuleRef};
use crate::parse::prom_rules::RuleKind;
use crate::parse::scalar::PromDuration;

/// One policy, validated.
#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    /// `policy/<name>`, made once when the config is read (finding ids are static strings).
    pub id: &'static str,
    pub description: Option<String>,
    pub severity: Severity,
    /// Globs over the displayed path of the rule file; empty = every file.
    pub paths: Vec<String>,
    pub select: Selection,
    pub require_labels: BTreeMap<String, regex::Regex>,
    pub require_annotations: BTreeMap<String, regex::Regex>,
    pub for_min: Option<PromDuration>,
    pub for_max: Option<PromDuration>,
    pub forbid_labels: Vec<String>,
    pub forbid_expr: Vec<regex::Regex>,
}

/// Which rules a policy applies to.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `alert` or `record`; `None` = both.
    pub kind: Option<RuleKind>,
    /// The alert or record name.
    pub name: Option<regex::Regex>,
    /// Static labels the rule must have, with values matching.
    pub labels: BTreeMap<String, regex::Regex>,
}

/// The keys of a policy, for the config's error messages.
pub const POLICY_KEYS: &[&str] = &[
    "name",
    "description",
    "severity",
    "paths",
    "match",
    "require_labels",
    "require_annotations",
    "for",
    "forbid_labels",
    "forbid_expr",
];

/// The keys of a policy's `match`.
pub const MATCH_KEYS: &[&str] = &["kind", "name", "labels"];

impl Policy {
    /// Whether any policy reads annotations (they are then kept after the checks run at load).
    pub fn reads_annotations(policies: &[Policy]) -> bool {
        policies.iter().any(|p| !p.require_annotations.is_empty())
    }

    fn selects(&self, r: &RuleRef, path: &str, paths: &globset::GlobSet) -> bool {
        if !self.paths.is_empty() && !paths.is_match(path) {
            return false;
        }
        let s = &self.select;
        if s.kind.is_some_and(|k| k != r.rule.kind) {
            return false;
        }
        if s.name
            .as_ref()
            .is_some_and(|re| !re.is_match(&r.rule.name.value))
        {
            return false;
        }
        s.labels.iter().all(|(k, re)| {
            r.rule
                .labels
                .iter()
                .any(|p| p.key.value == *k && re.is_match(&p.value.value))
        })
    }

    /// The findings of this policy over the project's rules.
    pub fn run(&self, project: &Project) -> Vec<Finding> {
        let mut globs = globset::GlobSetBuilder::new();
        for g in &self.paths {
            if let Ok(g) = globset::Glob::new(g) {
                globs.add(g);
            }
        }
        let globs = globs.build().unwrap_or_else(|_| globset::GlobSet::empty());
        let mut out = Vec::new();
        for r in project.rules() {
            let path = &project.sources.get(r.file).path;
            if self.selects(&r, path, &globs) {
                self.judge(&r, &project.sources.get(r.file).text, &mut out);
            }
        }
        out
    }

    fn finding(&self, r: &RuleRef, span: crate::source::Span, what: String) -> Finding {
        let kind = match r.rule.kind {
            RuleKind::Alert => "alert",
            RuleKind::Record => "recording rule",
        };
        let why = self
            .description
            .as_deref()
            .map(|d| format!(" ({})", d.trim().trim_end_matches('.')))
            .unwrap_or_default();
        Finding::new(
            self.id,
            r.file,
            span,
            format!(
                "{kind} `{}` breaks policy `{}`{why}: {what}",
                r.rule.name.value, self.name
            ),
        )
        .help(format!(
            "change the rule to meet the policy, or suppress it with `# obsgate: ignore {} -- reason`; `obsgate explain {}` shows the policy",
            self.id, self.id
        ))
        .ctx("rule", r.rule.name.value.clone())
    }

    /// Each required name present in `pairs` with a value matching its regex (`what`: label or
    /// annotation).
    fn require(
        &self,
        r: &RuleRef,
        pairs: &[crate::parse::prom_rules::Pair],
        required: &BTreeMap<String, regex::Regex>,
        what: &str,
        out: &mut Vec<Finding>,
    ) {
        for (k, re) in required {
            match pairs.iter().find(|p| p.key.value == *k) {
                None => out.push(self.finding(
                    r,
                    r.rule.name.span.clone(),
                    format!(
                        "it has no `{k}` {what} (required to match `{}`)",
                        re.as_str()
                    ),
                )),
                Some(p) if !re.is_match(&p.value.value) => out.push(self.finding(
                    r,
                    p.value.span.clone(),
                    format!(
                        "its {what} `{k}` is `{}`, which does not match `{}`",
                        p.value.value,
                        re.as_str()
                    ),
                )),
                Some(_) => {}
            }
        }
    }

    fn judge(&self, r: &RuleRef, src: &str, out: &mut Vec<Finding>) {
        let rule = r.rule;
        let name_span = rule.name.span.clone();
        self.require(r, &rule.labels, &self.require_labels, "label", out);
        if !self.require_annotations.is_empty() && rule.kind == RuleKind::Alert {
            let pairs = rule
                .annotations
                .as_deref()
                .map_or(&[][..], |a| a.pairs.as_slice());
            self.require(r, pairs, &self.require_annotations, "annotation", out);
        }
        if rule.kind == RuleKind::Alert && (self.for_min.is_some() || self.for_max.is_some()) {
            let (span, value) = match &rule.for_ {
                Some(d) => match d.value {
                    Some(v) => (d.span.clone(), v),
                    // invalid: rules/syntax reports it
                    None => (d.span.clone(), PromDuration(u64::MAX)),
                },
                None => (name_span.clone(), PromDuration(0)),
            };
            let written = if rule.for_.is_some() {
                format!("its `for` is {value}")
            } else {
                "it has no `for` (fires on the first evaluation)".to_string()
            };
            if value.0 != u64::MAX {
                if let Some(min) = self.for_min.filter(|m| value < *m) {
                    out.push(self.finding(
                        r,
                        span.clone(),
                        format!("{written}, shorter than the policy's minimum {min}"),
                    ));
                }
                if let Some(max) = self.for_max.filter(|m| value > *m) {
                    out.push(self.finding(
                        r,
                        span,
                        format!("{written}, longer than the policy's maximum {max}"),
                    ));
                }
            }
        }
        for k in &self.forbid_labels {
            if let Some(p) = rule.labels.iter().find(|p| p.key.value == *k) {
                out.push(self.finding(
                    r,
                    p.key.span.clone(),
                    format!("it sets the label `{k}`, which the policy forbids"),
                ));
            }
        }
        if let Some(e) = &rule.expr {
            let text = e.text();
            for re in &self.forbid_expr {
                if let Some(m) = re.find(text) {
                    out.push(self.finding(
                        r,
                        e.inner_span(src, &(m.start()..m.end())),
                        format!(
                            "its expression contains `{}`, which the policy forbids (`{}`)",
                            m.as_str(),
                            re.as_str()
                        ),
                    ));
                }
            }
        }
    }

    /// `obsgate explain policy/<name>`.
    pub fn explain(&self) -> String {
        let mut s = format!("{}  ({})\n\n", self.id, self.severity.as_str());
        if let Some(d) = &self.description {
            s.push_str(d.trim());
            s.push_str("\n\n");
        }
        s.push_str("A team policy from .obsgate.yml (`policies:`).\n\n");
        let mut line = |k: &str, v: String| s.push_str(&format!("  {k:<20} {v}\n"));
        if !self.paths.is_empty() {
            line("paths", self.paths.join(", "));
        }
        let sel = &self.select;
        line(
            "applies to",
            match sel.kind {
                Some(RuleKind::Alert) => "alerts".to_string(),
                Some(RuleKind::Record) => "recording rules".to_string(),
                None => "alerts and recording rules".to_string(),
            },
        );
        if let Some(n) = &sel.name {
            line("named", format!("\"{}\"", n.as_str()));
        }
        for (k, re) in &sel.labels {
            line("with label", format!("{k} =~ \"{}\"", re.as_str()));
        }
        for (k, re) in &self.require_labels {
            line("requires label", format!("{k} =~ \"{}\"", re.as_str()));
        }
        for (k, re) in &self.require_annotations {
            line("requires annotation", format!("{k} =~ \"{}\"", re.as_str()));
        }
        if let Some(m) = self.for_min {
            line("for at least", m.to_string());
        }
        if let Some(m) = self.for_max {
            line("for at most", m.to_string());
        }
        for k in &self.forbid_labels {
            line("forbids label", k.clone());
        }
        for re in &self.forbid_expr {
            line("forbids in expr", format!("\"{}\"", re.as_str()));
        }
        s.push_str(&format!(
            "\nSuppress one finding with `# obsgate: ignore {}` on its line or the line above.\n",
            self.id
        ));
        s
    }
}
