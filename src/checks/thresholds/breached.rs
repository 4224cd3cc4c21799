//! `thresholds/breached`: under `obsgate probe`'s bounded load, the measured p50/p95/p99
//! latency, error rate or throughput of a target breaches a declared threshold.

use crate::checks::{Check, Ctx, Finding};
use crate::model::thresholds::{declared, show, Kind};

pub struct Breached;

impl Check for Breached {
    fn id(&self) -> &'static str {
        "thresholds/breached"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let decl = declared(cx.project);
        let mut out = Vec::new();
        for (_, r) in crate::checks::probe::targets(cx.project) {
            let Some(l) = &r.load else { continue };
            if l.requests == 0 {
                continue;
            }
            for d in &decl {
                let limit = d.base();
                let (measured, breached, what) = match d.kind {
                    Kind::Latency(q) => {
                        let (m, name) = match q {
                            Some(q) if (q - 0.99).abs() < 1e-9 => (l.p99_seconds, "p99"),
                            Some(q) if (q - 0.95).abs() < 1e-9 => (l.p95_seconds, "p95"),
                            Some(q) if (q - 0.5).abs() < 1e-9 => (l.p50_seconds, "p50"),
                            None => (l.p95_seconds, "p95"),
                            Some(_) => continue,
                        };
                        (m, m > limit, format!("a {name} latency"))
                    }
                    Kind::ErrorRate => (l.error_rate, l.error_rate > limit, "an error rate".into()),
                    // a throughput threshold is the rate the service must sustain
                    Kind::Throughput => (l.throughput, l.throughput < limit, "a throughput".into()),
                };
                if !breached {
                    continue;
                }
                out.push(
                    Finding::new(
                        self.id(),
                        d.file,
                        d.value_span.clone(),
                        format!(
                            "target `{}` measured {what} of {} under load ({} requests, {} connections, {:.1}s), breaching {} `{}` ({})",
                            r.name,
                            show(d.kind, measured),
                            l.requests,
                            l.concurrency,
                            l.elapsed_seconds,
                            d.origin.describe(),
                            d.name,
                            show(d.kind, limit)
                        ),
                    )
                    .label(format!("measured {}", show(d.kind, measured)))
                    .help("fix the regression, or change the threshold if the service's target changed; the load check is bounded, so compare like with like (same --requests/--concurrency)")
                    .ctx("target", r.name.clone())
                    .ctx("measured", measured)
                    .ctx("threshold", d.name.clone()),
                );
            }
        }
        out
    }
}
