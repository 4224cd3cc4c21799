//! `thresholds/bucket-boundary`: an alert compares `histogram_quantile` of a histogram with a
//! value that is not one of its bucket boundaries. The quantile is interpolated linearly inside
//! a bucket, so around such a threshold the alert fires on an estimate, not a measurement.

use crate::checks::thresholds::const_span;
use crate::checks::{Check, Ctx, Finding};
use crate::model::inventory::{definitions, lang_of};
use crate::model::thresholds::{enforcements, Kind};

pub struct BucketBoundary;

fn near(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

use crate::model::thresholds::num as fmt;

/// The `le` boundaries of a histogram in the first scrape that exposes it, with where.
fn scraped_buckets(
    cx: &Ctx,
    hist: &str,
) -> Option<(Vec<f64>, (crate::source::FileId, crate::source::Span))> {
    let bucket = format!("{hist}_bucket");
    for f in &cx.project.files {
        let Some((expo, _)) = &f.exposition else {
            continue;
        };
        let mut les: Vec<f64> = Vec::new();
        let mut at = None;
        for fam in &expo.families {
            for s in fam.samples.iter().filter(|s| s.name == bucket) {
                if let Some(l) = s.labels.iter().find(|l| l.name == "le") {
                    if let Ok(v) = l.value.parse::<f64>() {
                        if v.is_finite() && !les.iter().any(|x| near(*x, v)) {
                            les.push(v);
                        }
                        at.get_or_insert((f.file, s.name_span.clone()));
                    }
                }
            }
        }
        if let Some(at) = at {
            les.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            return Some((les, at));
        }
    }
    None
}

impl Check for BucketBoundary {
    fn id(&self) -> &'static str {
        "thresholds/bucket-boundary"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let defs = definitions(cx.project);
        let mut out = Vec::new();
        // buckets come from a scrape or a metric definition: without either there is nothing to
        // compare the alerts with
        if defs.is_empty() && cx.project.files.iter().all(|f| f.exposition.is_none()) {
            return out;
        }
        for e in enforcements(cx.project) {
            let (Kind::Latency(_), Some((hist, value))) = (e.kind, &e.histogram) else {
                continue;
            };
            // the buckets a scrape shows, else those of the definition
            let (buckets, at) = match scraped_buckets(cx, hist) {
                Some(b) => b,
                None => {
                    let Some(d) = defs.iter().find(|d| &d.def.name == hist) else {
                        continue;
                    };
                    let Some(b) = d.buckets(lang_of(cx.project, d.file)) else {
                        continue;
                    };
                    (
                        b,
                        (
                            d.file,
                            d.def
                                .buckets_span
                                .clone()
                                .unwrap_or(d.def.name_span.clone()),
                        ),
                    )
                }
            };
            if buckets.is_empty() || buckets.iter().any(|b| near(*b, *value)) {
                continue;
            }
            let below = buckets
                .iter()
                .copied()
                .filter(|b| b < value)
                .fold(f64::NAN, f64::max);
            let above = buckets
                .iter()
                .copied()
                .filter(|b| b > value)
                .fold(f64::NAN, f64::min);
            let between = match (below.is_nan(), above.is_nan()) {
                (false, false) => format!("between the buckets {} and {}", fmt(below), fmt(above)),
                (true, false) => format!("below the first bucket {}", fmt(above)),
                (false, true) => format!("above the last bucket {} (only +Inf is above it: the quantile can never be estimated above it)", fmt(below)),
                (true, true) => "outside the buckets".to_string(),
            };
            let suggest =
                if above.is_nan() || (!below.is_nan() && (value - below) <= (above - value)) {
                    below
                } else {
                    above
                };
            out.push(
                Finding::new(
                    self.id(),
                    e.rule.file,
                    const_span(cx.project, &e),
                    format!(
                        "alert `{}` compares the quantile of `{hist}` with {}, which is not a bucket boundary of that histogram ({between}): the quantile is interpolated inside the bucket, so the alert fires on an estimate whose error is the bucket's width",
                        e.rule.rule.name.value,
                        fmt(*value)
                    ),
                )
                .label("not a bucket boundary")
                .also(at.0, at.1.clone(), "the histogram's buckets")
                .help(format!(
                    "use a bucket boundary as the threshold (e.g. {}), or add {} to the buckets",
                    fmt(suggest),
                    fmt(*value)
                ))
                .ctx("histogram", hist.clone()),
            );
        }
        out
    }
}
