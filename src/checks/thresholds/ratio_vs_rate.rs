//! `thresholds/ratio-vs-rate`: an error rate declared as a percentage or ratio but enforced by
//! an alert on an absolute rate of errors per second, which means a different thing at every
//! traffic level.

use crate::checks::thresholds::{how_text, measured_span};
use crate::checks::{Check, Ctx, Finding};
use crate::model::thresholds::{candidates, declared, enforcements, show, Kind};

pub struct RatioVsRate;

impl Check for RatioVsRate {
    fn id(&self) -> &'static str {
        "thresholds/ratio-vs-rate"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out: Vec<Finding> = Vec::new();
        let declared = declared(cx.project);
        if declared.is_empty() {
            return out;
        }
        let all = enforcements(cx.project);
        for d in declared {
            if d.kind != Kind::ErrorRate {
                continue;
            }
            let (cands, how) = candidates(&d, &all);
            // a ratio alert that enforces it exists: fine (mismatch compares the values)
            if cands.iter().any(|e| e.ratio) {
                continue;
            }
            for e in cands.into_iter().filter(|e| !e.ratio) {
                let span = measured_span(cx.project, e);
                if out.iter().any(|f| f.file == e.rule.file && f.span == span) {
                    continue;
                }
                let alert = &e.rule.rule.name.value;
                let per_s = e.value;
                // at which traffic the absolute rate equals the declared ratio
                let breakeven = if d.base() > 0.0 {
                    per_s / d.base()
                } else {
                    0.0
                };
                out.push(
                    Finding::new(
                        self.id(),
                        e.rule.file,
                        span,
                        format!(
                            "alert `{alert}` enforces the {} error-rate threshold of {} `{}` with an absolute rate ({} {} errors/s), not a ratio of errors to requests ({}): it matches the declared {} only at {} req/s, fires on harmless errors at high traffic and never at low traffic",
                            show(d.kind, d.base()),
                            d.origin.describe(),
                            d.name,
                            e.op,
                            e.const_text,
                            how_text(how, &d),
                            show(d.kind, d.base()),
                            trim(breakeven)
                        ),
                    )
                    .label("errors per second, not a ratio")
                    .also(d.file, d.value_span.clone(), format!("declared: {}", show(d.kind, d.base())))
                    .help(format!(
                        "divide by all requests: `sum(rate(<errors>[5m])) / sum(rate(<all requests>[5m])) {} {}`",
                        e.op,
                        trim(d.base())
                    ))
                    .ctx("threshold", d.name.clone())
                    .ctx("alert", alert.clone()),
                );
            }
        }
        out
    }
}

use crate::model::thresholds::num as trim;
