//! `thresholds/mismatch`: a declared threshold (CI variable, `.obsgate.yml`, analysis JSON)
//! that disagrees with the alert rule enforcing it, after unit normalisation.

use crate::checks::thresholds::{const_span, how_text, prefer_near};
use crate::checks::{Check, Ctx, Finding};
use crate::model::thresholds::{candidates, declared, enforcements, same, show, Kind};

pub struct Mismatch;

impl Check for Mismatch {
    fn id(&self) -> &'static str {
        "thresholds/mismatch"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = Vec::new();
        let declared = declared(cx.project);
        if declared.is_empty() {
            return out;
        }
        let all = enforcements(cx.project);
        for d in declared {
            let (cands, how) = candidates(&d, &all);
            // an error-rate ratio is compared only with ratio alerts (absolute rates are
            // thresholds/ratio-vs-rate)
            let cands: Vec<_> = cands
                .into_iter()
                .filter(|e| d.kind != Kind::ErrorRate || e.ratio)
                .collect();
            if cands.is_empty() || cands.iter().any(|e| same(d.base(), e.value)) {
                continue;
            }
            let cands = prefer_near(cx.project, &d, cands);
            let e = cands[0];
            let alert = &e.rule.rule.name.value;
            let declared_text = show(d.kind, d.base());
            let enforced_text = show(d.kind, e.value);
            // the constant the alert would need, in its own scale
            let alert_const = if e.value != 0.0 {
                d.base() * e.const_text.trim().parse::<f64>().unwrap_or(e.value) / e.value
            } else {
                d.base()
            };
            let var_value = e.value / d.unit.factor();
            let fmt = crate::model::thresholds::num;
            out.push(
                Finding::new(
                    self.id(),
                    d.file,
                    d.value_span.clone(),
                    format!(
                        "{} `{}` declares {} threshold of {declared_text}, but alert `{alert}` fires at {} {enforced_text} ({}): the team's limit and the alert disagree, so the gate and the page mean different things",
                        d.origin.describe(),
                        d.name,
                        d.kind.with_article(),
                        e.op,
                        how_text(how, &d)
                    ),
                )
                .label(format!("declared: {declared_text}"))
                .also(e.rule.file, const_span(cx.project, e), format!("enforced: {} {enforced_text}", e.op))
                .help(format!(
                    "make them agree: `{} {}` in alert `{alert}`, or set `{}` to {}",
                    e.op,
                    fmt(alert_const),
                    d.name,
                    fmt(var_value)
                ))
                .ctx("threshold", d.name.clone())
                .ctx("alert", alert.clone())
                .ctx("declared", d.base())
                .ctx("enforced", e.value),
            );
        }
        out
    }
}
