//! `alertmanager/unreachable-route`: a route no alert of the rule files can reach, because an
//! earlier sibling without `continue: true` catches every alert it would match, or because its
//! matchers match no alert at all.

use crate::checks::{Check, Ctx, Finding};
use crate::model::routing;

pub struct UnreachableRoute;

impl Check for UnreachableRoute {
    fn id(&self) -> &'static str {
        "alertmanager/unreachable-route"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let pairings = super::pairings(cx);
        let mut out = Vec::new();
        for amr in cx.project.alertmanager_configs() {
            let Some(tree) = cx.project.route_tree(&amr) else {
                continue;
            };
            let nodes = tree.preorder();
            let parents = routing::parents(tree);
            // the routes of `AlertmanagerConfig` resources merged into this config are judged by
            // their own audit (which alerts reach them depends on the alerts' namespaces)
            let foreign = |i: usize| nodes[i].loc.as_ref().is_some_and(|(f, _)| *f != amr.file);
            // shadowed by structure: whatever the alerts, and whichever rule files it serves
            let mut reported = vec![false; nodes.len()];
            for (i, by) in routing::structural_shadows(tree) {
                let under_reported = {
                    let mut p = parents[i];
                    loop {
                        if reported[p] {
                            break true;
                        }
                        if p == 0 {
                            break false;
                        }
                        p = parents[p];
                    }
                };
                reported[i] = true;
                if under_reported || foreign(i) {
                    continue;
                }
                let (Some((nfile, span)), Some((bfile, bspan))) =
                    (nodes[i].loc.clone(), nodes[by].loc.clone())
                else {
                    continue;
                };
                let shown = matchers_shown(nodes[i]);
                let line = cx.project.sources.outer_line(bfile, bspan.start);
                out.push(
                    Finding::new(
                        self.id(),
                        nfile,
                        span,
                        format!("route `{shown}` is unreachable: the sibling route on line {line} comes first, has no `continue: true`, and matches every alert this route matches"),
                    )
                    .label("never receives an alert")
                    .help("move this route above that sibling, make this route's matchers narrower than the sibling's in a different way, or add `continue: true` to the sibling")
                    .also(bfile, bspan, "matches every alert of the route below first")
                    .ctx("route", shown),
                );
            }
            // the rest rests on the alerts the config serves: only when they are known
            let pairing = &pairings[amr.index];
            if !pairing.certain {
                continue;
            }
            let Some(universe) = super::served(cx, pairing) else {
                continue;
            };
            let reaches: Vec<routing::Reach> =
                universe.iter().map(|a| routing::reach(tree, a)).collect();
            let mut reached = vec![false; nodes.len()];
            for r in &reaches {
                for (i, _) in r.reached_routes() {
                    reached[i] = true;
                }
            }
            let reachable = |i: usize| reached[i];
            for i in 1..nodes.len() {
                if reachable(i) || !reachable(parents[i]) || reported[i] || foreign(i) {
                    continue; // reachable, or it or its parent is already reported
                }
                let Some((nfile, span)) = nodes[i].loc.clone() else {
                    continue;
                };
                let shown = matchers_shown(nodes[i]);
                // would it match some alert, were it not for an earlier sibling?
                let witness = universe
                    .iter()
                    .zip(&reaches)
                    .find(|(_, r)| r.unshadowed(i).possible());
                let mut f = match witness {
                    Some((alert, _)) => {
                        let blocker = routing::earlier_catcher(tree, i, alert);
                        let (msg, blocker_loc) = match blocker {
                            Some(b) => {
                                let bl = nodes[b].loc.clone();
                                let line = bl.as_ref().map(|(f, s)| cx.project.sources.outer_line(*f, s.start)).unwrap_or(0);
                                (
                                    format!(
                                        "route `{shown}` is unreachable: every alert it matches (e.g. `{}`) is caught first by the sibling route on line {line}, which has no `continue: true`",
                                        alert.alertname
                                    ),
                                    bl,
                                )
                            }
                            None => (
                                format!("route `{shown}` is unreachable: every alert it matches (e.g. `{}`) is caught first by an earlier sibling route without `continue: true`", alert.alertname),
                                None,
                            ),
                        };
                        let mut f = Finding::new(self.id(), nfile, span, msg)
                            .label("never receives an alert")
                            .help("move this route above the route that catches its alerts, or add `continue: true` to that route");
                        if let Some((bf, bs)) = blocker_loc {
                            f = f.also(bf, bs, "catches the alerts first");
                        }
                        f
                    }
                    None => Finding::new(
                        self.id(),
                        nfile,
                        span,
                        format!(
                            "route `{shown}` matches no alert of the checked rule files ({} alerts): its receiver is never notified",
                            universe.len()
                        ),
                    )
                    .label("matches no alert")
                    .help("fix the matchers to the labels your alerts carry, or remove the route (if alerts come from rule files outside this run, check them together)"),
                };
                f = f.ctx("route", shown);
                out.push(f);
            }
        }
        out
    }
}

/// A route's matchers as written in findings.
fn matchers_shown(node: &routing::RouteNode) -> String {
    let shown: Vec<String> = node.matchers.iter().map(|m| m.to_string()).collect();
    if shown.is_empty() {
        "(no matchers)".to_string()
    } else {
        shown.join(", ")
    }
}
