//! Thresholds declared by the team (CI variables, `.obsgate.yml`, analysis JSON) against the
//! alert rules that are meant to enforce them.

pub mod breached;
pub mod bucket_boundary;
pub mod mismatch;
pub mod ratio_vs_rate;
pub mod unenforced;

use crate::checks::promql_util::source_span;
use crate::model::thresholds::{Declared, Enforced, How, Kind};
use crate::model::Project;
use crate::source::{FileId, Span};

/// The outer file of a (possibly embedded) source.
pub fn outer(project: &Project, file: FileId) -> FileId {
    project
        .sources
        .get(file)
        .origin
        .as_ref()
        .map(|o| o.outer)
        .unwrap_or(file)
}

/// Order candidates so that an alert in the same (outer) file as the declaration comes first.
pub fn prefer_near<'e, 'a>(
    project: &Project,
    d: &Declared,
    mut cands: Vec<&'e Enforced<'a>>,
) -> Vec<&'e Enforced<'a>> {
    let home = outer(project, d.file);
    cands.sort_by_key(|e| outer(project, e.rule.file) != home);
    cands
}

/// The file span of an enforcement's constant.
pub fn const_span(project: &Project, e: &Enforced) -> Span {
    let src = &project.sources.get(e.rule.file).text;
    match e.rule.rule.expr.as_ref() {
        Some(expr) => source_span(src, expr, e.const_span.clone()),
        None => e.rule.rule.name.span.clone(),
    }
}

/// The file span of an enforcement's measured side.
pub fn measured_span(project: &Project, e: &Enforced) -> Span {
    let src = &project.sources.get(e.rule.file).text;
    match e.rule.rule.expr.as_ref() {
        Some(expr) => source_span(src, expr, e.measured_span.clone()),
        None => e.rule.rule.name.span.clone(),
    }
}

pub fn how_text(how: How, d: &Declared) -> String {
    match how {
        How::Explicit => format!(
            "mapped explicitly to alert `{}`",
            d.alert.as_deref().unwrap_or("")
        ),
        How::Meaning => match d.kind {
            Kind::Latency(Some(q)) => {
                format!("matched by meaning: both are the {q} quantile of a latency histogram")
            }
            Kind::Latency(None) => "matched by meaning: both are latency quantiles".into(),
            Kind::ErrorRate => {
                "matched by meaning: both are about the rate of 5xx/error responses".into()
            }
            Kind::Throughput => "matched by meaning: both are about the request rate".into(),
        },
    }
}

/// Does the project have any alerting rule at all (else no threshold can be judged)?
pub fn has_alerts(project: &Project) -> bool {
    project
        .rules()
        .any(|r| r.rule.kind == crate::parse::prom_rules::RuleKind::Alert)
}
