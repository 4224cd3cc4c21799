//! `labels/unbounded`: metric label names that are unbounded by nature (user, session, request
//! and trace ids, emails, IP addresses, raw paths and URLs) in metric definitions: every new
//! value is a new time series, until Prometheus runs out of memory.

use crate::checks::{Check, Ctx, Finding};
use crate::model::inventory::definitions;

pub struct Unbounded;

impl Check for Unbounded {
    fn id(&self) -> &'static str {
        "labels/unbounded"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let names = cx.option_list("unbounded");
        let mut out = Vec::new();
        for d in definitions(cx.project) {
            for (label, span) in &d.def.labels {
                let l = label.to_ascii_lowercase();
                if !names.contains(&l) {
                    continue;
                }
                let why = match l.as_str() {
                    "path" | "url" | "uri" | "raw_path" | "query" => {
                        "a raw path or URL carries ids and query strings (`/users/8231/orders?page=3`), one series per distinct value"
                    }
                    "ip" | "ip_address" | "client_ip" | "remote_addr" => {
                        "one series per client address"
                    }
                    "email" | "user" | "username" | "user_id" | "userid" | "customer_id" | "account_id" => {
                        "one series per user, and it puts personal data into the metrics store"
                    }
                    _ => "one series per distinct id, without bound",
                };
                out.push(
                    Finding::new(
                        self.id(),
                        d.file,
                        span.clone(),
                        format!(
                            "metric `{}` has the label `{label}`, whose values are unbounded: {why}; each series costs memory in every Prometheus that scrapes it until it runs out",
                            d.def.name
                        ),
                    )
                    .label("unbounded label")
                    .help(match l.as_str() {
                        "path" | "url" | "uri" | "raw_path" => "label with the route template (`/users/:id`), not the request path; put ids in logs or traces",
                        _ => "drop the label and put the value in logs or trace exemplars; if it is bounded in your service, say so with `labels: {unbounded: [...]}` in .obsgate.yml",
                    })
                    .ctx("metric", d.def.name.clone())
                    .ctx("label", label.clone()),
                );
            }
        }
        self.scraped(cx, &mut out);
        out
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
    fn scraped(&self, cx: &Ctx, out: &mut Vec<Finding>) {
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
