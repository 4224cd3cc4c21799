//! `alertmanager/unrouted-alert`: alerts of the rule files that only ever reach the root
//! (default) receiver, and critical alerts that reach no paging integration. One finding per
//! Alertmanager config and kind, at its root route, naming the alerts.

use crate::checks::alerts::AlertLevel;
use crate::checks::{Check, Ctx, Finding};
use crate::model::routing::{self, LabelValue, Tri};

pub struct UnroutedAlert;

fn list(names: &[&str]) -> String {
    let mut v: Vec<&str> = names.to_vec();
    v.sort();
    v.dedup();
    let more = v.len().saturating_sub(5);
    let mut s = v
        .iter()
        .take(5)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if more > 0 {
        s.push_str(&format!(" and {more} more"));
    }
    s
}

impl Check for UnroutedAlert {
    fn id(&self) -> &'static str {
        "alertmanager/unrouted-alert"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let pairings = super::pairings(cx);
        let paging = cx.option_list("paging_integrations");
        let mut out = Vec::new();
        for amr in cx.project.alertmanager_configs() {
            // which alerts reach this config is a guess: do not judge their routing
            let pairing = &pairings[amr.index];
            if !pairing.certain {
                continue;
            }
            let Some(universe) = super::served(cx, pairing) else {
                continue;
            };
            let (file, am) = (amr.file, amr.config);
            let (Some(route), Some(tree)) = (&am.route, cx.project.route_tree(&amr)) else {
                continue;
            };
            let eff = routing::effective(tree);
            // its own receivers and those of the `AlertmanagerConfig` resources merged in
            let all_receivers = cx.project.receivers(&amr);
            let root_receiver = eff[0].receiver.clone().unwrap_or_default();
            let root_sink = all_receivers
                .iter()
                .any(|rc| rc.name.value == root_receiver && super::is_sink(rc));
            let mut only_root: Vec<&routing::AlertLabels> = Vec::new();
            let mut unpaged: Vec<(&routing::AlertLabels, Vec<String>)> = Vec::new();
            for alert in universe.iter() {
                let r = routing::reach(tree, alert);
                if !tree.children.is_empty() && r.terminal(0) == Tri::Yes {
                    only_root.push(alert);
                    continue;
                }
                let critical = matches!(alert.value("severity"), LabelValue::Known(ref s) if AlertLevel::parse(s) == Some(AlertLevel::Critical));
                if !critical || paging.is_empty() {
                    continue;
                }
                let receivers: Vec<String> = r
                    .terminal_routes()
                    .filter_map(|(i, _)| eff[i].receiver.clone())
                    .collect();
                // a route that sends it to a sink (`null`, `blackhole`, ...) drops it on
                // purpose: only the other receivers it reaches are judged
                let sink = |name: &String| {
                    all_receivers
                        .iter()
                        .any(|rc| rc.name.value == *name && super::is_sink(rc))
                };
                if !receivers.is_empty() && receivers.iter().all(sink) {
                    continue;
                }
                let receivers: Vec<String> = receivers.into_iter().filter(|n| !sink(n)).collect();
                let pages = receivers.iter().any(|name| {
                    all_receivers
                        .iter()
                        .find(|rc| rc.name.value == *name)
                        .is_some_and(|rc| {
                            rc.integrations
                                .iter()
                                .any(|i| paging.iter().any(|p| i.kind.starts_with(p.as_str())))
                        })
                });
                if !pages {
                    unpaged.push((alert, receivers));
                }
            }
            if !only_root.is_empty() {
                let mut names: Vec<&str> = only_root.iter().map(|a| a.alertname.as_str()).collect();
                names.sort();
                names.dedup();
                let mut f = Finding::new(
                    self.id(),
                    file,
                    route.head.clone(),
                    format!(
                        "{} alert{} match{} no route and only reach{} the root receiver `{root_receiver}`{}: {}",
                        names.len(),
                        if names.len() == 1 { "" } else { "s" },
                        if names.len() == 1 { "es" } else { "" },
                        if names.len() == 1 { "es" } else { "" },
                        match (root_sink, names.len()) {
                            (false, _) => "",
                            (true, 1) => ", a sink, so it is dropped",
                            (true, _) => ", a sink, so they are dropped",
                        },
                        list(&names)
                    ),
                )
                .label("falls through to the default receiver")
                .help(if root_sink {
                    "add routes for them (match their `severity`/`team` labels) or give them the labels the existing routes expect; if dropping them is intended, route them to the sink explicitly (`matchers: [alertname=~\"...\"]`) so the choice is written down"
                } else {
                    "add routes for them (match their `severity`/`team` labels) or give them the labels the existing routes expect"
                })
                .ctx("alerts", names.iter().map(|s| s.to_string()).collect::<Vec<_>>());
                for a in only_root.iter().take(3) {
                    if let Some((af, asp)) = &a.origin {
                        f = f.also(
                            *af,
                            asp.clone(),
                            format!("`{}` is defined here", a.alertname),
                        );
                    }
                }
                out.push(f);
            }
            if !unpaged.is_empty() {
                let mut names: Vec<&str> =
                    unpaged.iter().map(|(a, _)| a.alertname.as_str()).collect();
                names.sort();
                names.dedup();
                let mut receivers: Vec<String> = unpaged
                    .iter()
                    .flat_map(|(_, r)| r.iter().cloned())
                    .collect();
                receivers.sort();
                receivers.dedup();
                let mut f = Finding::new(
                    self.id(),
                    file,
                    route.head.clone(),
                    format!(
                        "critical alert{} {} reach{} no paging integration ({}); {}",
                        if names.len() == 1 { "" } else { "s" },
                        list(&names),
                        if names.len() == 1 { "es" } else { "" },
                        paging.join(", "),
                        if receivers.is_empty() {
                            "no receiver notifies anyone".to_string()
                        } else if receivers.iter().all(|r| all_receivers.iter().any(|rc| rc.name.value == *r && rc.integrations.is_empty())) {
                            format!(
                                "receiver{} {} {} no integration at all",
                                if receivers.len() == 1 { "" } else { "s" },
                                receivers.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", "),
                                if receivers.len() == 1 { "has" } else { "have" }
                            )
                        } else {
                            format!(
                                "receiver{} {} only notif{} by chat, email or webhook",
                                if receivers.len() == 1 { "" } else { "s" },
                                receivers.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", "),
                                if receivers.len() == 1 { "ies" } else { "y" }
                            )
                        }
                    ),
                )
                .label("critical alerts are not paged")
                .help("route critical alerts to a receiver with a paging integration (e.g. `pagerduty_configs`), or lower their severity")
                .ctx("alerts", names.iter().map(|s| s.to_string()).collect::<Vec<_>>());
                for (a, _) in unpaged.iter().take(3) {
                    if let Some((af, asp)) = &a.origin {
                        f = f.also(
                            *af,
                            asp.clone(),
                            format!("`{}` is defined here", a.alertname),
                        );
                    }
                }
                out.push(f);
            }
        }
        out
    }
}
