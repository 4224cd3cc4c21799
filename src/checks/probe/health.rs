//! `probe/health`: the target's health endpoint does not answer 2xx, says it is JSON but is
//! not, lacks fields the config requires, or is slower than its budget.

use crate::checks::{Check, Ctx, Finding};

pub struct Health;

fn field<'a>(v: &'a serde_json::Value, dotted: &str) -> Option<&'a serde_json::Value> {
    dotted.split('.').try_fold(v, |cur, k| cur.get(k))
}

impl Check for Health {
    fn id(&self) -> &'static str {
        "probe/health"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = Vec::new();
        for (f, r) in super::targets(cx.project) {
            if r.unreachable.is_some() {
                continue;
            }
            let Some(t) = &r.target else { continue };
            let url = format!("{}{}", t.base, t.health_path);
            let mut push = |msg: String, help: &str| {
                out.push(
                    Finding::new(self.id(), f.file, 0..0, msg)
                        .help(help.to_string())
                        .ctx("target", r.name.clone()),
                );
            };
            let Some(h) = &r.health else {
                // a recorded probe without a health check says nothing about it
                if let Some(e) = &r.health_error {
                    push(
                        format!("`{url}` could not be read: {e}"),
                        "serve a health endpoint, or point --health-path at it",
                    );
                }
                continue;
            };
            if !(200..300).contains(&h.status) {
                push(
                    format!("`{url}` answered HTTP {}: the service reports itself unhealthy (or the path is wrong), so a load balancer or Kubernetes would take it out of service", h.status),
                    "fix the service, or point --health-path at its health endpoint",
                );
                continue;
            }
            let json_declared = h.content_type.contains("json");
            let parsed: Option<serde_json::Value> = serde_json::from_str(&h.body).ok();
            if json_declared && parsed.is_none() {
                push(
                    format!("`{url}` says `Content-Type: {}` but its body is not valid JSON: health checkers that parse it fail", h.content_type),
                    "return valid JSON, or a text content type",
                );
            }
            if !t.health_required.is_empty() {
                match &parsed {
                    Some(v) => {
                        let missing: Vec<&str> = t
                            .health_required
                            .iter()
                            .filter(|k| field(v, k).is_none())
                            .map(String::as_str)
                            .collect();
                        if !missing.is_empty() {
                            push(
                                format!(
                                    "`{url}` lacks the required field(s) {}",
                                    missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
                                ),
                                "add the fields to the health response, or change `health_required` in .obsgate.yml",
                            );
                        }
                    }
                    // already reported above when the body claims to be JSON
                    None if json_declared => {}
                    None => push(
                        format!("`{url}` is not JSON, so its required fields cannot be read"),
                        "return JSON with the required fields",
                    ),
                }
            }
            if h.seconds > t.health_budget.as_secs_f64() {
                push(
                    format!(
                        "`{url}` took {:.0} ms, over its {:.0} ms budget: probes with short timeouts will mark the service down",
                        h.seconds * 1000.0,
                        t.health_budget.as_secs_f64() * 1000.0
                    ),
                    "make the health check cheap (no synchronous calls to dependencies), or raise the budget",
                );
            }
        }
        out
    }
}
