//! `labels/unbounded`: metric label names that are unbounded by nature (user, session, request
//! and trace ids, emails, IP addresses, raw paths and URLs) in metric definitions: every new
//! value is a new time series, until Prometheus runs out of memory.

use super::meaning;
use crate::checks::{Check, Ctx, Finding};
use crate::model::inventory::definitions;

pub struct Unbounded;

impl Check for Unbounded {
    fn id(&self) -> &'static str {
        "labels/unbounded"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let judge = Judge::new(cx);
        let mut out = Vec::new();
        for d in definitions(cx.project) {
            for (label, span) in &d.def.labels {
                let Some(kind) = judge.unbounded(label) else {
                    continue;
                };
                out.push(
                    Finding::new(
                        self.id(),
                        d.file,
                        span.clone(),
                        format!(
                            "metric `{}` has the label `{label}`, whose values are unbounded: {}; each series costs memory in every Prometheus that scrapes it until it runs out",
                            d.def.name,
                            judge.why(kind)
                        ),
                    )
                    .label("unbounded label")
                    .help(judge.help(kind))
                    .ctx("metric", d.def.name.clone())
                    .ctx("label", label.clone()),
                );
            }
        }
        self.scraped(cx, &judge, &mut out);
        out
    }
}

/// The judgement of label names for this run: obsgate's by meaning ([`meaning::judge`]), or the
/// configured list (`labels: {unbounded: [...]}`) when there is one, minus the names configured
/// as bounded (`labels: {bounded: [...]}`). Names are compared in snake_case, so `userEmail`
/// in the code matches `user_email` in the list.
pub struct Judge {
    listed: Option<std::collections::BTreeSet<String>>,
    bounded: std::collections::BTreeSet<String>,
}

impl Judge {
    /// The judgement configured for `labels/unbounded` (also used by other checks that judge
    /// label names, so that one configuration applies to all).
    pub fn new(cx: &Ctx) -> Judge {
        let list = |name: &str| -> std::collections::BTreeSet<String> {
            let names = match cx.config.check_option("labels/unbounded", name) {
                Some(crate::checks::meta::OptValue::List(v)) => v.clone(),
                Some(crate::checks::meta::OptValue::Str(s)) => vec![s.clone()],
                _ => Vec::new(),
            };
            names.iter().map(|n| meaning::snake(n)).collect()
        };
        let listed = list("unbounded");
        Judge {
            listed: (!listed.is_empty()).then_some(listed),
            bounded: list("bounded"),
        }
    }

    /// `Some(meaning)` when `name` is unbounded; the meaning is `None` for a configured name
    /// obsgate cannot place itself.
    pub fn unbounded(&self, name: &str) -> Option<Option<meaning::Unbounded>> {
        let snake = meaning::snake(name);
        if self.bounded.contains(&snake) {
            return None;
        }
        match &self.listed {
            Some(list) => list.contains(&snake).then(|| meaning::judge(name)),
            None => meaning::judge(name).map(Some),
        }
    }

    pub fn why(&self, kind: Option<meaning::Unbounded>) -> String {
        kind.map(|k| k.why()).unwrap_or_else(|| {
            "it is listed as unbounded in `labels: {unbounded: [...]}`: one series per distinct value, without bound".to_string()
        })
    }

    pub fn help(&self, kind: Option<meaning::Unbounded>) -> String {
        format!(
            "{}; if it is bounded in your service, list it in `labels: {{bounded: [...]}}` in .obsgate.yml",
            kind.map(|k| k.help())
                .unwrap_or("drop the label and put the value in logs or trace exemplars")
        )
    }
}

/// What a label value looks like when it is an id rather than a category.
fn id_like(v: &str) -> Option<&'static str> {
    static UUID: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let uuid = UUID.get_or_init(|| {
        regex::Regex::new(r"(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
            .expect("valid regex")
    });
    if uuid.is_match(v) {
        return Some("a UUID");
    }
    if v.len() >= 16 && v.chars().all(|c| c.is_ascii_hexdigit()) {
        return Some("a long hex id");
    }
    if v.len() >= 6 && v.chars().all(|c| c.is_ascii_digit()) {
        return Some("a numeric id");
    }
    if v.contains('@') && v.contains('.') && !v.contains(' ') {
        return Some("an email address");
    }
    if v.starts_with('/')
        && v.split('/').any(|seg| {
            (seg.len() >= 3 && seg.chars().all(|c| c.is_ascii_digit())) || uuid.is_match(seg)
        })
    {
        return Some("a path with an id in it");
    }
    None
}

impl Unbounded {
    /// In scrapes: label values that look like ids, or a label with more distinct values in one
    /// scrape than `max_values`.
    fn scraped(&self, cx: &Ctx, judge: &Judge, out: &mut Vec<Finding>) {
        let max = match cx.option("max_values") {
            Some(crate::checks::meta::OptValue::Integer(n)) => (*n).max(1) as usize,
            _ => 100,
        };
        for f in &cx.project.files {
            let Some((expo, of)) = &f.exposition else {
                continue;
            };
            let from = of.from(&cx.sources.get(f.file).path);
            for fam in &expo.families {
                let mut values: std::collections::BTreeMap<&str, std::collections::BTreeSet<&str>> =
                    Default::default();
                let mut reported: std::collections::BTreeSet<&str> = Default::default();
                for sample in &fam.samples {
                    for l in &sample.labels {
                        if l.name == "le" || l.name == "quantile" {
                            continue;
                        }
                        values.entry(&l.name).or_default().insert(&l.value);
                        if reported.contains(l.name.as_str()) {
                            continue;
                        }
                        if let Some(kind) = judge.unbounded(&l.name) {
                            reported.insert(&l.name);
                            out.push(
                                Finding::new(
                                    self.id(),
                                    f.file,
                                    l.name_span.clone(),
                                    format!(
                                        "label `{}` of `{}` ({from}) is unbounded by its name: {}",
                                        l.name,
                                        fam.name,
                                        judge.why(kind)
                                    ),
                                )
                                .label("unbounded label")
                                .help(judge.help(kind))
                                .ctx("metric", fam.name.clone())
                                .ctx("label", l.name.clone()),
                            );
                            continue;
                        }
                        if let Some(what) = id_like(&l.value) {
                            reported.insert(&l.name);
                            out.push(
                                Finding::new(
                                    self.id(),
                                    f.file,
                                    l.value_span.clone(),
                                    format!(
                                        "label `{}` of `{}` ({from}) holds {what}: every new value is a new series, without bound",
                                        l.name, fam.name
                                    ),
                                )
                                .label(what)
                                .help("label with a bounded category (a route template, a status class) and put ids in logs or exemplars")
                                .ctx("metric", fam.name.clone())
                                .ctx("label", l.name.clone()),
                            );
                        }
                    }
                }
                for (label, vals) in values {
                    if vals.len() > max && !reported.contains(label) {
                        let at = fam
                            .samples
                            .iter()
                            .flat_map(|s| s.labels.iter())
                            .find(|l| l.name == label)
                            .map(|l| l.name_span.clone())
                            .unwrap_or(0..0);
                        out.push(
                            Finding::new(
                                self.id(),
                                f.file,
                                at,
                                format!(
                                    "label `{label}` of `{}` ({from}) has {} distinct values in one scrape, over the limit of {max}: its series grow with what the label holds",
                                    fam.name,
                                    vals.len()
                                ),
                            )
                            .label("too many values")
                            .help("bound the label's values, or raise `labels: {max_values: N}` in .obsgate.yml if this is expected")
                            .ctx("metric", fam.name.clone())
                            .ctx("label", label.to_string()),
                        );
                    }
                }
            }
        }
    }
}
