//! `alertmanager/empty-receiver`: a receiver with no integration that a route sends alerts to.
//! Alertmanager accepts it and drops every alert routed there without a trace. Receivers whose
//! name says they discard on purpose (`null`, `blackhole`, `devnull`, an operator's
//! `<namespace>/<config>/null`, `monitoring-null`: see [`super::sink_name`]) are not reported.

use crate::checks::{Check, Ctx, Finding};

pub struct EmptyReceiver;

impl Check for EmptyReceiver {
    fn id(&self) -> &'static str {
        "alertmanager/empty-receiver"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = Vec::new();
        for am in cx.project.alertmanager_configs() {
            let cfg = am.config;
            let routes: Vec<_> = cfg.routes();
            for r in cfg
                .receivers
                .iter()
                .filter(|r| r.integrations.is_empty() && !r.name.value.is_empty())
            {
                if super::is_sink(r) {
                    continue;
                }
                let users: Vec<_> = routes
                    .iter()
                    .filter(|(route, _)| {
                        route
                            .receiver
                            .as_ref()
                            .is_some_and(|s| s.value == r.name.value)
                    })
                    .collect();
                let Some((first, _)) = users.first() else {
                    continue; // unused: alertmanager/unused-receiver
                };
                let mut f = Finding::new(
                    self.id(),
                    am.file,
                    r.name.span.clone(),
                    format!(
                        "receiver `{}` has no integration, but {} route{} send{} alerts to it: they are dropped without a notification",
                        r.name.value,
                        users.len(),
                        if users.len() == 1 { "" } else { "s" },
                        if users.len() == 1 { "s" } else { "" }
                    ),
                )
                .label("no *_configs")
                .help("add an integration (e.g. `slack_configs`, `pagerduty_configs`), or, if dropping is intended, call it what it is (e.g. `null`) so readers know")
                .ctx("receiver", r.name.value.clone());
                f = f.also(am.file, first.head.clone(), "routes alerts here");
                out.push(f);
            }
        }
        out
    }
}
