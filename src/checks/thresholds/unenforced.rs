//! `thresholds/unenforced`: a declared threshold that no alert rule enforces (a P99 limit with
//! no P99 alert): nothing pages when it is breached.

use crate::checks::thresholds::has_alerts;
use crate::checks::{Check, Ctx, Finding};
use crate::model::thresholds::{candidates, declared, enforcements, show, How, Kind};

pub struct Unenforced;

impl Check for Unenforced {
    fn id(&self) -> &'static str {
        "thresholds/unenforced"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = Vec::new();
        // with no alert rules in the run there is nothing to judge against
        if !has_alerts(cx.project) {
            return out;
        }
        let declared = declared(cx.project);
        if declared.is_empty() {
            return out;
        }
        let all = enforcements(cx.project);
        for d in declared {
            let (cands, how) = candidates(&d, &all);
            if !cands.is_empty() {
                continue;
            }
            let what = match (how, d.kind) {
                (How::Explicit, _) => format!(
                    "the alert it is mapped to, `{}`, does not exist or compares nothing obsgate can read as a {}",
                    d.alert.as_deref().unwrap_or(""),
                    d.kind.describe()
                ),
                (_, Kind::Latency(Some(q))) => format!(
                    "no alert compares `histogram_quantile({q}, ...)` of a latency histogram (or a {q} summary quantile) with a constant"
                ),
                (_, Kind::Latency(None)) => {
                    "no alert compares a latency quantile with a constant".to_string()
                }
                (_, Kind::ErrorRate) => {
                    "no alert compares the rate of 5xx/error responses with a constant".to_string()
                }
                (_, Kind::Throughput) => {
                    "no alert compares the request rate with a constant".to_string()
                }
            };
            let help = match d.kind {
                Kind::Latency(q) => format!(
                    "add an alert such as `histogram_quantile({}, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))) > {}`, or map the threshold in `.obsgate.yml` (`thresholds: [{{name: {}, alert: ...}}]`)",
                    q.unwrap_or(0.95),
                    d.base(),
                    d.name
                ),
                Kind::ErrorRate => format!(
                    "add an alert such as `sum(rate(http_requests_total{{status=~\"5..\"}}[5m])) / sum(rate(http_requests_total[5m])) > {}`",
                    d.base()
                ),
                Kind::Throughput => format!(
                    "add an alert such as `sum(rate(http_requests_total[5m])) < {}`",
                    d.base()
                ),
            };
            out.push(
                Finding::new(
                    self.id(),
                    d.file,
                    d.name_span.clone(),
                    format!(
                        "{} `{}` declares {} threshold of {}, but no alert rule enforces it: {what}; a breach pages nobody",
                        d.origin.describe(),
                        d.name,
                        d.kind.with_article(),
                        show(d.kind, d.base())
                    ),
                )
                .label("declared, never enforced")
                .help(help)
                .ctx("threshold", d.name.clone()),
            );
        }
        out
    }
}
