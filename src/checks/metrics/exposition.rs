//! `metrics/exposition`: a scrape that Prometheus cannot ingest (parse errors, at their line
//! and column in the body), that breaks histogram/summary invariants (no `+Inf` bucket, buckets
//! not cumulative, `_count` different from the `+Inf` bucket), or a `/metrics` endpoint that
//! does not answer 2xx.
//!
//! Committed exposition files (`.prom`, scrapes kept as test data) are judged the same way, and
//! `.prom` files in the text format also as node_exporter's textfile collector reads them: it
//! skips a file with client-side timestamps, and drops a metric whose HELP or type differs from
//! the one in an earlier file of the directory.

use crate::checks::{Check, Ctx, Finding};
use crate::model::ScrapeOf;
use crate::parse::exposition;
use crate::source::Span;

pub struct Exposition;

impl Check for Exposition {
    fn id(&self) -> &'static str {
        "metrics/exposition"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = Vec::new();
        for f in &cx.project.files {
            if let Some((expo, of)) = &f.exposition {
                let path = &cx.sources.get(f.file).path;
                let textfile = textfile_input(of, path, expo);
                let what = of.describe(path);
                for e in &expo.errors {
                    let (consequence, help) = match of {
                        ScrapeOf::Target(_) => (
                            "Prometheus rejects the whole scrape (every series of the target is missing and `up` is 0)",
                            "fix the exporter's output; `promtool check metrics < body` shows the same error",
                        ),
                        ScrapeOf::File if textfile => (
                            "node_exporter's textfile collector skips the whole file (none of its metrics is exposed, and `node_textfile_scrape_error` is 1)",
                            "fix the file (or what writes it); `promtool check metrics < FILE` shows the same error",
                        ),
                        ScrapeOf::File => (
                            "Prometheus would reject a scrape with this content as a whole",
                            "fix the file (or what writes it); `promtool check metrics < FILE` shows the same error",
                        ),
                    };
                    out.push(
                        Finding::new(
                            self.id(),
                            f.file,
                            e.span.clone(),
                            format!("{what} does not parse: {}; {consequence}", e.message),
                        )
                        .label("here")
                        .help(help),
                    );
                }
                let inside = match of {
                    ScrapeOf::Target(t) => format!("in the scrape of `{t}`"),
                    ScrapeOf::File => format!("in `{path}`"),
                };
                for p in exposition::invariants(expo) {
                    out.push(
                        Finding::new(
                            self.id(),
                            f.file,
                            p.span.clone(),
                            format!("`{}` {inside}: {}", p.family, p.message),
                        )
                        .help("histogram buckets must be cumulative, end with le=\"+Inf\", and `_count` must equal the +Inf bucket, or quantiles and rates over them are wrong"),
                    );
                }
                if textfile && expo.errors.is_empty() {
                    if let Some(span) = first_timestamp(cx.src(f.file), expo) {
                        out.push(
                            Finding::new(
                                self.id(),
                                f.file,
                                span,
                                format!("`{path}` gives its samples timestamps: node_exporter's textfile collector refuses client-side timestamps and skips the whole file (none of its metrics is exposed, and `node_textfile_scrape_error` is 1)"),
                            )
                            .label("timestamp")
                            .help("write the samples without timestamps (the scrape time is used); to record when the data was produced, expose it as a gauge (`..._last_run_timestamp_seconds`)")
                            .downgraded(true),
                        );
                    }
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
        textfile_conflicts(cx, &mut out);
        out
    }
}

/// Is this scrape an input of node_exporter's textfile collector: a committed `.prom` file in
/// the text format (the collector reads `*.prom` with the text 0.0.4 parser)?
fn textfile_input(of: &ScrapeOf, path: &str, expo: &exposition::Exposition) -> bool {
    *of == ScrapeOf::File
        && expo.format == exposition::Format::Text004
        && path.to_ascii_lowercase().ends_with(".prom")
}

/// The timestamp of the first sample that has one.
fn first_timestamp(src: &str, expo: &exposition::Exposition) -> Option<Span> {
    let s = expo
        .families
        .iter()
        .flat_map(|f| f.samples.iter())
        .filter(|s| s.timestamp.is_some())
        .min_by_key(|s| s.span.start)?;
    let after = src.get(s.value_span.end..s.span.end)?;
    let start = s.value_span.end + (after.len() - after.trim_start().len());
    let end = s.value_span.end + after.trim_end().len();
    Some(start..end.max(start))
}

/// Metrics written in two `.prom` files of one directory (one textfile collector directory)
/// with different HELP texts or types. The collector reads the files in name order: a later
/// file's family whose HELP differs from the first one is dropped (and
/// `node_textfile_scrape_error` is 1); one whose type differs is refused by the registry when
/// node_exporter serves its metrics. Files that the collector skips (parse errors, timestamps)
/// take no part.
fn textfile_conflicts(cx: &Ctx, out: &mut Vec<Finding>) {
    use std::collections::BTreeMap;
    let mut dirs: BTreeMap<&std::path::Path, Vec<(&str, &crate::model::FileModel)>> =
        BTreeMap::new();
    for f in &cx.project.files {
        let Some((expo, of)) = &f.exposition else {
            continue;
        };
        let src = cx.sources.get(f.file);
        if src.origin.is_some()
            || !textfile_input(of, &src.path, expo)
            || !expo.errors.is_empty()
            || first_timestamp(&src.text, expo).is_some()
        {
            continue;
        }
        let (Some(dir), Some(name)) = (
            src.fs_path.parent(),
            src.fs_path.file_name().and_then(|n| n.to_str()),
        ) else {
            continue;
        };
        dirs.entry(dir).or_default().push((name, f));
    }
    for (_, mut files) in dirs {
        if files.len() < 2 {
            continue;
        }
        files.sort_by(|a, b| a.0.cmp(b.0));
        // per metric: the first HELP (file, span, text) and the first type (file, span, kind)
        let mut helps: BTreeMap<&str, (&crate::model::FileModel, Span, &str)> = BTreeMap::new();
        let mut kinds: BTreeMap<&str, (&crate::model::FileModel, Span, exposition::MetricType)> =
            BTreeMap::new();
        for (_, f) in files {
            let Some((expo, _)) = &f.exposition else {
                continue;
            };
            let path = &cx.sources.get(f.file).path;
            for fam in &expo.families {
                let at = |s: &Option<Span>| {
                    s.clone()
                        .or_else(|| fam.name_span.clone())
                        .or_else(|| fam.samples.first().map(|s| s.name_span.clone()))
                        .unwrap_or(0..0)
                };
                if let (Some(help), Some((first, first_at, first_help))) =
                    (&fam.help, helps.get(fam.name.as_str()))
                {
                    if help != first_help {
                        let first_path = &cx.sources.get(first.file).path;
                        out.push(
                            Finding::new(
                                "metrics/exposition",
                                f.file,
                                at(&fam.help_span),
                                format!("`{}` has another HELP text here than in `{first_path}` (same directory): node_exporter's textfile collector reads the files in name order, keeps the first HELP and drops this file's `{}` (and `node_textfile_scrape_error` is 1)", fam.name, fam.name),
                            )
                            .label("different HELP")
                            .also(first.file, first_at.clone(), "first HELP")
                            .help("write the same HELP text for the metric in every file of the directory")
                            .ctx("metric", fam.name.clone())
                            .downgraded(true),
                        );
                        continue;
                    }
                }
                if let Some((first, first_at, first_kind)) = kinds.get(fam.name.as_str()) {
                    if *first_kind != fam.kind {
                        let first_path = &cx.sources.get(first.file).path;
                        out.push(
                            Finding::new(
                                "metrics/exposition",
                                f.file,
                                at(&fam.type_span),
                                format!("`{}` is a {} in `{path}` but a {} in `{first_path}` (same directory): node_exporter's textfile collector gives both to one registry, which refuses the samples whose type differs from the first (`{}` of this file is not exposed)", fam.name, fam.kind.as_str(), first_kind.as_str(), fam.name),
                            )
                            .label("different type")
                            .also(first.file, first_at.clone(), "first type")
                            .help("give the metric one type in every file of the directory")
                            .ctx("metric", fam.name.clone())
                            .downgraded(true),
                        );
                        continue;
                    }
                }
                if let Some(help) = &fam.help {
                    helps
                        .entry(&fam.name)
                        .or_insert((f, at(&fam.help_span), help));
                }
                kinds
                    .entry(&fam.name)
                    .or_insert((f, at(&fam.type_span), fam.kind));
            }
        }
    }
}
