//! `metrics/conflicting-definition`: the same metric name defined twice with a different type,
//! label names or buckets. In one registry the second registration throws; in two processes
//! the series disagree and every query over both is wrong.

use std::collections::HashMap;

use crate::checks::{Check, Ctx, Finding};
use crate::model::inventory::{definitions, DefRef};
use crate::parse::metric_defs::MetricType;

pub struct ConflictingDefinition;

/// Of the earlier definitions of a name that have a value (a type, known labels, buckets): the
/// first, and the first whose value differs from the first's. A value differs from the first of
/// them, or else (it equals the first) from exactly those that differ from the first, so these two
/// give the first earlier definition that differs from any value.
struct FirstTwo<T> {
    first: Option<(usize, T)>,
    other: Option<usize>,
}

impl<T> Default for FirstTwo<T> {
    fn default() -> Self {
        FirstTwo {
            first: None,
            other: None,
        }
    }
}

impl<T: PartialEq> FirstTwo<T> {
    fn note(&mut self, i: usize, v: T) {
        match &self.first {
            None => self.first = Some((i, v)),
            Some((_, f)) => {
                if self.other.is_none() && *f != v {
                    self.other = Some(i);
                }
            }
        }
    }

    /// The first earlier definition whose value differs from `v`.
    fn first_differing(&self, v: &T) -> Option<usize> {
        let (i, f) = self.first.as_ref()?;
        if f != v {
            Some(*i)
        } else {
            self.other
        }
    }
}

#[derive(Default)]
struct Earlier<'a> {
    kind: FirstTwo<MetricType>,
    labels: FirstTwo<Vec<String>>,
    buckets: FirstTwo<&'a [f64]>,
}

fn labels(d: &DefRef) -> Option<Vec<String>> {
    if !d.def.labels_known {
        return None;
    }
    let mut l: Vec<String> = d.def.labels.iter().map(|(n, _)| n.clone()).collect();
    l.sort();
    Some(l)
}

/// What differs between two definitions of one name.
fn difference(a: &DefRef, b: &DefRef) -> Option<String> {
    if a.def.kind_known && b.def.kind_known && a.def.kind != b.def.kind {
        return Some(format!(
            "a {} here, a {} there",
            b.def.kind.as_str(),
            a.def.kind.as_str()
        ));
    }
    if let (Some(la), Some(lb)) = (labels(a), labels(b)) {
        if la != lb {
            return Some(format!(
                "labels [{}] here, [{}] there",
                lb.join(", "),
                la.join(", ")
            ));
        }
    }
    if let (Some(ba), Some(bb)) = (&a.def.buckets, &b.def.buckets) {
        if ba != bb {
            let f = |v: &[f64]| {
                v.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Some(format!("buckets [{}] here, [{}] there", f(bb), f(ba)));
        }
    }
    None
}

impl Check for ConflictingDefinition {
    fn id(&self) -> &'static str {
        "metrics/conflicting-definition"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let defs = definitions(cx.project);
        // per name, what the earlier definitions were: enough to find the first earlier one
        // that differs from the next without comparing it with each (150,000 definitions made
        // the pairwise walk take a minute)
        let mut seen: HashMap<&str, Earlier> = HashMap::new();
        let mut out = Vec::new();
        for (i, b) in defs.iter().enumerate() {
            let earlier = seen.entry(b.def.name.as_str()).or_default();
            let kind = b.def.kind_known.then_some(b.def.kind);
            let labels = labels(b);
            let buckets = b.def.buckets.as_deref();
            // compare with the first earlier definition of the same name that differs
            let first = [
                kind.and_then(|k| earlier.kind.first_differing(&k)),
                labels
                    .as_ref()
                    .and_then(|l| earlier.labels.first_differing(l)),
                buckets.and_then(|v| earlier.buckets.first_differing(&v)),
            ]
            .into_iter()
            .flatten()
            .min();
            if let Some(k) = kind {
                earlier.kind.note(i, k);
            }
            if let Some(l) = labels {
                earlier.labels.note(i, l);
            }
            if let Some(v) = buckets {
                earlier.buckets.note(i, v);
            }
            let Some((a, why)) = first.and_then(|j| difference(&defs[j], b).map(|w| (&defs[j], w)))
            else {
                continue;
            };
            out.push(
                Finding::new(
                    self.id(),
                    b.file,
                    b.def.name_span.clone(),
                    format!(
                        "metric `{}` is defined twice with different shapes ({why}): in one registry the second registration throws at startup; in two services the series disagree and queries over both break",
                        b.def.name
                    ),
                )
                .label("second definition")
                .also(a.file, a.def.name_span.clone(), "first definition")
                .help("give one definition (share it from a module), or rename one of the metrics"),
            );
        }
        out
    }
}
