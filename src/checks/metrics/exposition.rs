//! `metrics/exposition`: a scrape that Prometheus cannot ingest (parse errors, at their line
//! and column in the body), that breaks histogram/summary invariants (no `+Inf` bucket, buckets
//! not cumulative, `_count` different from the `+Inf` bucket), or a `/metrics` endpoint that
//! does not answer 2xx.

use crate::checks::{Check, Ctx, Finding};
use crate::parse::exposition;

pub struct Exposition;

impl Check for Exposition {
    fn id(&self) -> &'static str {
        "metrics/exposition"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = Vec::new();
        for f in &cx.project.files {
            if let Some((expo, target)) = &f.exposition {
                for e in &expo.errors {
                    out.push(
                        Finding::new(
                            self.id(),
                            f.file,
                            e.span.clone(),
                            format!(
                                "the scrape of `{target}` does not parse: {}; Prometheus rejects the whole scrape (every series of the target is missing and `up` is 0)",
                                e.message
                            ),
                        )
                        .label("here")
                        .help("fix the exporter's output; `promtool check metrics < body` shows the same error"),
                    );
                }
                for p in exposition::invariants(expo) {
                    out.push(
                        Finding::new(
                            self.id(),
                            f.file,
                            p.span.clone(),
                            format!("`{}` in the scrape of `{target}`: {}", p.family, p.message),
                        )
                        .help("histogram buckets must be cumulative, end with le=\"+Inf\", and `_count` must equal the +Inf bucket, or quantiles and rates over them are wrong"),
                    );
                }
            }
            if let Some(r) = &f.probe {
                if let Some(m) = &r.metrics {
                    if !(200..300).contains(&m.status) {
                        out.push(
                            Finding::new(
                                self.id(),
                                f.file,
                                0..0,
                                format!("`{}` answered HTTP {}: Prometheus records the target as down and stores none of its metrics", m.url, m.status),
                            )
                            .help("serve the metrics at that path, or point --metrics-path at them")
                            .ctx("target", r.name.clone()),
                        );
                    } else if m.truncated {
                        out.push(
                            Finding::new(
                                self.id(),
                                f.file,
                                0..0,
                                format!("`{}` returned more than {} bytes; obsgate read only that much (Prometheus' body_size_limit and scrape timeouts hit such targets too)", m.url, m.bytes),
                            )
                            .help("reduce the number of series the target exposes")
                            .ctx("target", r.name.clone()),
                        );
                    }
                } else if let Some(e) = &r.metrics_error {
                    if r.unreachable.is_none() {
                        out.push(
                            Finding::new(
                                self.id(),
                                f.file,
                                0..0,
                                format!("the metrics of `{}` could not be read: {e}", r.name),
                            )
                            .ctx("target", r.name.clone()),
                        );
                    }
                }
            }
        }
        out
    }
}
