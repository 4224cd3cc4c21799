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
        out
    }
}
