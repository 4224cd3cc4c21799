//! `alertmanager/unused-receiver`: a receiver that no route names. Alertmanager loads it and
//! never notifies it, so whoever expects its notifications (a team channel, a pager) gets none;
//! usually a route was renamed or removed and the receiver was forgotten, or a typo made a
//! route fall back to its parent's receiver.

use crate::checks::{Check, Ctx, Finding};

pub struct UnusedReceiver;

impl Check for UnusedReceiver {
    fn id(&self) -> &'static str {
        "alertmanager/unused-receiver"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = Vec::new();
        for am in cx.project.alertmanager_configs() {
            let cfg = am.config;
            // without a route tree the config does not load at all (alertmanager/syntax)
            if cfg.route.is_none() {
                continue;
            }
            let used: Vec<&str> = cfg
                .routes()
                .iter()
                .filter_map(|(r, _)| r.receiver.as_ref().map(|s| s.value.as_str()))
                .collect();
            for r in &cfg.receivers {
                // an unused sink (`null` with no integration) promises no notification to anyone
                if r.name.value.is_empty()
                    || used.contains(&r.name.value.as_str())
                    || super::is_sink(r)
                {
                    continue;
                }
                let what = if r.integrations.is_empty() {
                    "it has no integrations either".to_string()
                } else {
                    let kinds: Vec<&str> = r.integrations.iter().map(|i| i.kind).collect();
                    format!(
                        "its {} integration(s) never send anything",
                        kinds.join(", ")
                    )
                };
                out.push(
                    Finding::new(
                        self.id(),
                        am.file,
                        r.name.span.clone(),
                        format!(
                            "receiver {:?} is not used by any route: {what}",
                            r.name.value
                        ),
                    )
                    .label("defined here, referenced nowhere")
                    .help(format!(
                        "route alerts to it (`receiver: {}` on a route) or remove it",
                        r.name.value
                    )),
                );
            }
        }
        out
    }
}
