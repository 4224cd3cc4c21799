//! `metrics/naming`: promlint parity on scraped metrics (the problems `promtool check metrics`
//! reports: `_total` only on counters, base units, reserved suffixes and labels, type in the
//! name, colons, camelCase, abbreviated units, missing HELP).

use crate::checks::{Check, Ctx, Finding};
use crate::parse::exposition;

pub struct Naming;

impl Check for Naming {
    fn id(&self) -> &'static str {
        "metrics/naming"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = Vec::new();
        for f in &cx.project.files {
            let Some((expo, of)) = &f.exposition else {
                continue;
            };
            let from = of.from(&cx.sources.get(f.file).path);
            for p in exposition::lint(expo) {
                out.push(
                    Finding::new(
                        self.id(),
                        f.file,
                        p.span.clone(),
                        format!("`{}` ({from}): {}", p.family, p.message),
                    )
                    .label(p.message.clone())
                    .help("follow the Prometheus naming conventions (https://prometheus.io/docs/practices/naming/); `promtool check metrics` reports the same")
                    .ctx("metric", p.family.clone()),
                );
            }
        }
        out
    }
}
