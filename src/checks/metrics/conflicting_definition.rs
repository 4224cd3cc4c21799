//! `metrics/conflicting-definition`: the same metric name defined twice with a different type,
//! label names or buckets. In one registry the second registration throws; in two processes
//! the series disagree and every query over both is wrong.

use crate::checks::{Check, Ctx, Finding};
use crate::model::inventory::{definitions, DefRef};

pub struct ConflictingDefinition;

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
    if a.def.kind != b.def.kind {
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
        let mut out = Vec::new();
        for (i, b) in defs.iter().enumerate() {
            // compare with the first earlier definition of the same name that differs
            let Some((a, why)) = defs[..i]
                .iter()
                .filter(|a| a.def.name == b.def.name)
                .find_map(|a| difference(a, b).map(|w| (a, w)))
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
