//! `alerts/unbounded-label`: alert *labels* templated from `$value` (or `query`/`now`): every
//! evaluation produces a new label value, hence a new alert identity that resolves the old one.

use crate::checks::{Check, Ctx, Finding};
use crate::parse::gotemplate::RefKind;

pub struct UnboundedLabel;

impl Check for UnboundedLabel {
    fn id(&self) -> &'static str {
        "alerts/unbounded-label"
    }

    fn at_load(&self) -> bool {
        true
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = Vec::new();
        for r in cx.alerts() {
            let src = cx.src(r.file);
            for p in &r.rule.labels {
                for reference in p.references() {
                    let what = match &reference.kind {
                        RefKind::Value => "the query value",
                        RefKind::Function(f) if f == "query" => "a query result",
                        RefKind::Function(f) if f == "now" => "the current time",
                        _ => continue,
                    };
                    out.push(
                        Finding::new(
                            self.id(),
                            r.file,
                            p.value.inner_span(src, &reference.span),
                            format!(
                                "label `{}` of alert `{}` is templated from {what}: every evaluation creates a new alert identity, so the alert flaps and notifications repeat",
                                p.key.value, r.rule.name.value
                            ),
                        )
                        .label("changes on every evaluation")
                        .help(format!("move `{}` to `annotations:` (annotations may change; labels identify the alert)", p.key.value))
                        .ctx("alert", r.rule.name.value.clone())
                        .ctx("label", p.key.value.clone()),
                    );
                }
            }
        }
        out
    }
}
