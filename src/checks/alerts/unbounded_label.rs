//! `alerts/unbounded-label`: alert *labels* templated from `$value` (or `query`/`now`): every
//! evaluation produces a new label value, hence a new alert identity that resolves the old one.
//! And (a warning) alert labels copied from a series label that is unbounded by meaning (the
//! judgement of `labels/unbounded`): the alert fires once per user, request or address.

use crate::checks::labels::unbounded::Judge;
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
        let judge = Judge::new(cx);
        for r in cx.alerts() {
            let src = cx.src(r.file);
            for p in &r.rule.labels {
                self.copied_unbounded(cx, &judge, &r, p, &mut out);
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

impl UnboundedLabel {
    /// A label templated from `$labels.X` where the label or `X` is unbounded by meaning: the
    /// template only has a value when the alert's series carry `X`, so the alert exists once per
    /// distinct value (a notification each, silences by value). Reported once per label, as a
    /// warning (the expression may keep `X` on purpose, for a handful of values).
    fn copied_unbounded(
        &self,
        cx: &Ctx,
        judge: &Judge,
        r: &crate::model::RuleRef,
        p: &crate::parse::prom_rules::Pair,
        out: &mut Vec<Finding>,
    ) {
        let src = cx.src(r.file);
        let copied: Vec<(&str, &crate::source::Span)> = p
            .references()
            .iter()
            .filter_map(|reference| match &reference.kind {
                RefKind::Label(x) => Some((x.as_str(), &reference.span)),
                _ => None,
            })
            .collect();
        if copied.is_empty() {
            return;
        }
        let key = &p.key.value;
        let hit = match judge.unbounded(key) {
            Some(kind) => Some((key.as_str(), p.key.span.clone(), kind)),
            None => copied.iter().find_map(|(x, span)| {
                judge
                    .unbounded(x)
                    .map(|kind| (*x, p.value.inner_span(src, span), kind))
            }),
        };
        let Some((name, span, kind)) = hit else {
            return;
        };
        let (from, _) = copied[0];
        let what = if name == key.as_str() {
            format!("label `{key}` of alert `{}` is copied from `$labels.{from}` and unbounded by its name", r.rule.name.value)
        } else {
            format!("label `{key}` of alert `{}` is copied from `$labels.{name}`, which is unbounded by its name", r.rule.name.value)
        };
        out.push(
            Finding::new(
                self.id(),
                r.file,
                span,
                format!(
                    "{what}: {}; the alert's series carry it, so the alert fires once per distinct value, with a notification each",
                    judge.why(kind)
                ),
            )
            .label(kind.map(|k| k.what()).unwrap_or("unbounded label"))
            .help(format!(
                "aggregate `{name}` away in `expr` (`sum without ({name}) (...)`) and name the worst offenders in an annotation; if it is bounded in your service, list it in `labels: {{bounded: [...]}}` in .obsgate.yml"
            ))
            .lowered(1)
            .ctx("alert", r.rule.name.value.clone())
            .ctx("label", key.clone()),
        );
    }
}
