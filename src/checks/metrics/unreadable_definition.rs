//! `metrics/unreadable-definition`: a metric definition in application source whose name,
//! label names or type obsgate could not read (a name built at run time, labels from a
//! variable of unknown value, a custom collector's desc not tied to a value type). The rules
//! over such a metric cannot be checked against it: `metrics/label-missing` stays silent
//! rather than guess.

use crate::checks::{Check, Ctx, Finding};

pub struct UnreadableDefinition;

impl Check for UnreadableDefinition {
    fn id(&self) -> &'static str {
        "metrics/unreadable-definition"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = Vec::new();
        for f in cx.files() {
            let Some(m) = &f.metrics else { continue };
            for (span, msg) in &m.problems {
                if !msg.contains("metric name") {
                    continue; // bucket helpers' argument errors and the like
                }
                out.push(
                    Finding::new(
                        self.id(),
                        f.file,
                        span.clone(),
                        format!(
                            "{msg}: obsgate cannot tell which metric this defines, so the rules over it cannot be checked against its name, labels or type"
                        ),
                    )
                    .label("name not readable")
                    .help("write the name as a string literal or a constant (of this file, its package, or a module it imports); a name built at run time is invisible to review too"),
                );
            }
            for d in &m.defs {
                if d.unread.is_empty() {
                    continue;
                }
                let what = d.unread.join("; ");
                let label = match (d.labels_known, d.kind_known) {
                    (false, false) => "labels and type not readable",
                    (false, true) => "labels not readable",
                    _ => "type not readable",
                };
                let help = if d.labels_known {
                    "use the desc with `prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, ..)` (or `CounterValue`) where it is held, or keep the value type beside it (`typedDesc{desc, prometheus.CounterValue}`)"
                } else {
                    "write the label names as a list of string literals or constants; names chosen at run time cannot be checked before they are scraped"
                };
                out.push(
                    Finding::new(
                        self.id(),
                        f.file,
                        d.name_span.clone(),
                        format!(
                            "metric `{}`: {what}; the rules over it cannot be checked against its {}",
                            d.name,
                            match (d.labels_known, d.kind_known) {
                                (false, false) => "labels and type",
                                (false, true) => "labels (`metrics/label-missing` does not judge them)",
                                _ => "type",
                            }
                        ),
                    )
                    .label(label)
                    .help(help)
                    .ctx("metric", d.name.clone()),
                );
            }
        }
        out
    }
}
