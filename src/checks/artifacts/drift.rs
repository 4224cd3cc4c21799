//! `artifacts/drift`: an analysis artifact (`performance-analysis.json`,
//! `alerting-strategy.json`) that claims something the real configs of the run do not say:
//! alert expressions that differ from the rule files, alerts that do not exist, rule counts,
//! severities, channels, team routes, repeat intervals and grouping nothing configures, and
//! metrics nothing defines.

use std::collections::BTreeSet;

use crate::checks::thresholds::outer;
use crate::checks::{Check, Ctx, Finding};
use crate::model::routing::{self, AlertLabels, LabelValue, RouteNode};
use crate::model::{AmRef, FileModel};
use crate::parse::analysis::Analysis;
use crate::parse::prom_rules::RuleKind;

pub struct Drift;

fn norm(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn list(items: &BTreeSet<String>) -> String {
    if items.is_empty() {
        return "none".into();
    }
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What routing does with the alerts of one severity: receivers' integration kinds and the
/// repeat intervals in effect where they end.
struct SeverityRouting {
    alerts: usize,
    channels: BTreeSet<String>,
    repeat: BTreeSet<String>,
}

fn severity_routing(
    am: &AmRef,
    tree: &RouteNode,
    eff: &[routing::Effective],
    universe: &[AlertLabels],
    severity: &str,
) -> SeverityRouting {
    let mut out = SeverityRouting {
        alerts: 0,
        channels: BTreeSet::new(),
        repeat: BTreeSet::new(),
    };
    for a in universe
        .iter()
        .filter(|a| matches!(a.value("severity"), LabelValue::Known(ref s) if s == severity))
    {
        out.alerts += 1;
        let r = routing::reach(tree, a);
        for (i, _) in r.terminal_routes() {
            out.repeat
                .insert(crate::parse::scalar::format_duration(eff[i].timings[2]));
            if let Some(rc) = eff[i]
                .receiver
                .as_deref()
                .and_then(|n| am.config.receiver(n))
            {
                out.channels
                    .extend(rc.integrations.iter().map(|i| i.kind.to_string()));
            }
        }
    }
    out
}

impl Check for Drift {
    fn id(&self) -> &'static str {
        "artifacts/drift"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = Vec::new();
        for f in &cx.project.files {
            if let Some(a) = &f.analysis {
                self.metric_claims(cx, f, a, &mut out);
                self.rules_claims(cx, f, a, &mut out);
                self.alertmanager_claims(cx, f, a, &mut out);
            }
        }
        out
    }
}

impl Drift {
    /// Metrics listed in `metric_categories` that nothing defines: judged only when the run
    /// has metric definitions (application source using a client library).
    fn metric_claims(&self, cx: &Ctx, f: &FileModel, a: &Analysis, out: &mut Vec<Finding>) {
        let defs = crate::model::inventory::definitions(cx.project);
        let defaults = crate::model::inventory::default_series(cx.project);
        if defs.is_empty() && defaults.is_empty() {
            return;
        }
        for cat in &a.metric_categories {
            for item in &cat.items {
                let name = item.value.as_str();
                if defs.iter().any(|d| d.produces(name)) || defaults.iter().any(|d| d == name) {
                    continue;
                }
                let known: Vec<&str> = defs.iter().map(|d| d.def.name.as_str()).collect();
                let hint = crate::parse::closest(name, &known)
                    .map(|c| format!(" (did you mean `{c}`?)"))
                    .unwrap_or_default();
                out.push(
                    Finding::new(
                        self.id(),
                        f.file,
                        item.span.clone(),
                        format!(
                            "`{name}` in `metric_categories.{}` is defined by no metric of the application source in this run, nor by its client library's default metrics{hint}",
                            cat.group
                        ),
                    )
                    .label("not defined")
                    .help("list the metrics the service defines (`obsgate probe` lists what it really exposes)"),
                );
            }
        }
    }

    fn rules_claims(&self, cx: &Ctx, f: &FileModel, a: &Analysis, out: &mut Vec<Finding>) {
        let alerts: Vec<_> = cx.project.alerts().collect();
        if alerts.is_empty() {
            return;
        }
        let id = self.id();
        // the alert expressions written into the report
        for (i, (key, value)) in a.exprs.iter().enumerate() {
            let extra = f
                .extra_exprs
                .iter()
                .filter(|x| x.name.starts_with("alerting_rules."))
                .nth(i);
            let parsed = extra.and_then(|x| x.expr.parsed.as_ref().ok());
            let Some(parsed) = parsed else {
                let why = extra
                    .and_then(|x| x.expr.parsed.as_ref().err())
                    .map(|e| e.message.clone())
                    .unwrap_or_default();
                out.push(
                    Finding::new(id, f.file, value.span.clone(), format!("`alerting_rules.{}` is not valid PromQL ({why}): the report documents an expression nothing can evaluate", key.value))
                        .label("not PromQL")
                        .help("write the report from the rule file (`obsgate check --artifacts DIR`) instead of by hand"),
                );
                continue;
            };
            let wanted = norm(&key.value);
            let same_name: Vec<_> = alerts
                .iter()
                .filter(|r| norm(&r.rule.name.value) == wanted)
                .collect();
            let Some(real) = same_name.first() else {
                let names: BTreeSet<String> = alerts
                    .iter()
                    .map(|r| r.rule.name.value.to_string())
                    .collect();
                out.push(
                    Finding::new(
                        id,
                        f.file,
                        key.span.clone(),
                        format!(
                            "the report documents an alert rule `{}`, but no alert of the rule files is named like it (alerts: {})",
                            key.value,
                            list(&names)
                        ),
                    )
                    .label("no such alert")
                    .help("document the alerts that exist, or add the alert to a rule file"),
                );
                continue;
            };
            let real_parsed = real.rule.expr.as_ref().and_then(|e| e.parsed.as_ref().ok());
            if let Some(rp) = real_parsed {
                let (rp, parsed) = (rp.materialized(), parsed.materialized());
                if rp.expr().to_string() != parsed.expr().to_string() {
                    let real_expr = real.rule.expr.as_ref().expect("parsed implies expr");
                    out.push(
                        Finding::new(
                            id,
                            f.file,
                            value.span.clone(),
                            format!(
                                "the report's expression for `{}` differs from alert `{}` in the rule file: documented `{}`, evaluated `{}`",
                                key.value,
                                real.rule.name.value,
                                parsed.expr(),
                                rp.expr()
                            ),
                        )
                        .label("documented")
                        .also(real.file, real_expr.span.clone(), "what Prometheus evaluates")
                        .help("copy the expression from the rule file, or generate the report with `obsgate check --artifacts DIR`"),
                    );
                }
            }
        }
        // rule counts
        if let Some((claimed, span)) = &a.total_rules {
            let names: BTreeSet<(bool, String)> = cx
                .project
                .rules()
                .map(|r| {
                    (
                        r.rule.kind == RuleKind::Alert,
                        r.rule.name.value.to_string(),
                    )
                })
                .collect();
            if *claimed != names.len() as i64 {
                out.push(
                    Finding::new(
                        id,
                        f.file,
                        span.clone(),
                        format!(
                            "the report claims {claimed} rules, but the rule files define {} distinct rules",
                            names.len()
                        ),
                    )
                    .label("claimed count")
                    .help("count the rules from the rule files (`obsgate check --artifacts DIR` writes it)"),
                );
            }
        }
        // severities
        let used: BTreeSet<String> = alerts
            .iter()
            .filter_map(|r| {
                r.rule
                    .labels
                    .iter()
                    .find(|p| p.key.value == "severity")
                    .map(|p| p.value.value.to_string())
            })
            .collect();
        for s in &a.severity_levels {
            if !used.contains(s.value.as_str()) {
                out.push(
                    Finding::new(
                        id,
                        f.file,
                        s.span.clone(),
                        format!(
                            "the report lists severity `{}`, but no alert rule has `severity: {}` (severities used: {})",
                            s.value,
                            s.value,
                            list(&used)
                        ),
                    )
                    .label("no alert has it")
                    .help("list the severities the alerts use"),
                );
            }
        }
        // alert names in categories
        let names: BTreeSet<String> = alerts
            .iter()
            .map(|r| r.rule.name.value.to_string())
            .collect();
        for cat in &a.alert_categories {
            for item in &cat.items {
                if !names.contains(item.value.as_str()) {
                    out.push(
                        Finding::new(
                            id,
                            f.file,
                            item.span.clone(),
                            format!(
                                "`{}` in `alert_categories.{}` is not an alert of the rule files",
                                item.value, cat.group
                            ),
                        )
                        .label("no such alert")
                        .help("list alerts that exist"),
                    );
                }
            }
        }
    }

    fn alertmanager_claims(&self, cx: &Ctx, f: &FileModel, a: &Analysis, out: &mut Vec<Finding>) {
        let id = self.id();
        let home = outer(cx.project, f.file);
        let mut configs: Vec<AmRef> = cx
            .project
            .alertmanager_configs()
            .filter(|c| c.config.route.is_some())
            .collect();
        configs.sort_by_key(|c| outer(cx.project, c.file) != home);
        let Some(am) = configs.first() else { return };
        let Some(tree) = cx.project.route_tree(am) else {
            return;
        };
        let eff = routing::effective(tree);
        let universe = crate::model::routing::universe_with(cx.project, &cx.config.extra_alerts);
        // channels from the receivers' integrations
        let kinds: BTreeSet<String> = am
            .config
            .receivers
            .iter()
            .flat_map(|r| r.integrations.iter().map(|i| i.kind.to_string()))
            .collect();
        for c in &a.channels {
            if !kinds.contains(c.value.as_str()) {
                out.push(
                    Finding::new(
                        id,
                        f.file,
                        c.span.clone(),
                        format!(
                            "the report lists channel `{}`, but no Alertmanager receiver has `{}_configs` (integrations: {})",
                            c.value, c.value, list(&kinds)
                        ),
                    )
                    .label("not configured")
                    .help("list the integrations the receivers have"),
                );
            }
        }
        // team routes: a route matching team=X that some alert ends at
        let nodes = tree.preorder();
        if !universe.is_empty() {
            let ends: std::collections::HashSet<usize> = universe
                .iter()
                .flat_map(|al| {
                    routing::reach(tree, al)
                        .terminal_routes()
                        .map(|(i, _)| i)
                        .collect::<Vec<_>>()
                })
                .collect();
            for t in &a.team_routing {
                let routes: Vec<usize> = nodes
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| {
                        n.matchers
                            .iter()
                            .any(|m| m.name == "team" && m.matches_value(&t.value))
                    })
                    .map(|(i, _)| i)
                    .collect();
                let used = routes.iter().any(|i| ends.contains(i));
                let msg = if routes.is_empty() {
                    format!(
                        "the report claims team routing for `{}`, but no Alertmanager route matches `team={}`",
                        t.value, t.value
                    )
                } else if !used {
                    format!(
                        "the report claims team routing for `{}`, but no alert of the rule files ever ends at the route matching `team={}` (an earlier route catches them all)",
                        t.value, t.value
                    )
                } else {
                    continue;
                };
                out.push(
                    Finding::new(id, f.file, t.span.clone(), msg)
                        .label("not routed")
                        .help("see `obsgate routes test --config FILE --all` for where each alert goes"),
                );
            }
        }
        if universe.is_empty() {
            return;
        }
        // per-severity channels
        for (sev, channels) in &a.strategy {
            let r = severity_routing(am, tree, &eff, &universe, &sev.value);
            let claimed: BTreeSet<String> = channels.iter().map(|c| c.value.to_string()).collect();
            if r.alerts == 0 {
                out.push(
                    Finding::new(
                        id,
                        f.file,
                        sev.span.clone(),
                        format!(
                            "the report describes a notification strategy for `{}` alerts, but no alert rule has `severity: {}`",
                            sev.value, sev.value
                        ),
                    )
                    .label("no such alerts")
                    .help("describe the severities the alerts use"),
                );
            } else if claimed != r.channels {
                out.push(
                    Finding::new(
                        id,
                        f.file,
                        sev.span.clone(),
                        format!(
                            "the report says `{}` alerts go to {}, but Alertmanager sends them to {}",
                            sev.value,
                            list(&claimed),
                            list(&r.channels)
                        ),
                    )
                    .label("claimed channels")
                    .help("see `obsgate routes test` for the receivers each alert reaches"),
                );
            }
        }
        // repeat intervals per severity
        if let Some(text) = &a.repeat_intervals {
            for (dur, sev, range) in crate::parse::analysis::repeat_pairs(&text.value) {
                let r = severity_routing(am, tree, &eff, &universe, &sev);
                let claimed = crate::parse::scalar::parse_duration(&dur)
                    .map(crate::parse::scalar::format_duration)
                    .unwrap_or(dur.clone());
                let src = cx.src(f.file);
                let span = text.inner_span(src, &range);
                if r.alerts == 0 {
                    out.push(
                        Finding::new(
                            id,
                            f.file,
                            span,
                            format!("the report claims a {dur} repeat interval for `{sev}` alerts, but no alert rule has `severity: {sev}`, so nothing configures it"),
                        )
                        .label("nothing configures this")
                        .help("describe the repeat intervals of the routes the alerts reach"),
                    );
                } else if !r.repeat.contains(&claimed) || r.repeat.len() > 1 {
                    out.push(
                        Finding::new(
                            id,
                            f.file,
                            span,
                            format!(
                                "the report claims a {dur} repeat interval for `{sev}` alerts, but the routes they reach repeat every {}",
                                list(&r.repeat)
                            ),
                        )
                        .label("claimed")
                        .help("describe the repeat intervals of the routes the alerts reach"),
                    );
                }
            }
        }
        // grouping
        if let (Some(g), Some(root_by)) =
            (&a.grouping, eff.first().and_then(|e| e.group_by.clone()))
        {
            let claimed: BTreeSet<String> = g
                .value
                .trim_start_matches("by ")
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            let real: BTreeSet<String> = root_by.into_iter().collect();
            if claimed != real {
                out.push(
                    Finding::new(
                        id,
                        f.file,
                        g.span.clone(),
                        format!(
                            "the report says alerts are grouped by {}, but the root route groups by {}",
                            list(&claimed),
                            list(&real)
                        ),
                    )
                    .label("claimed grouping")
                    .help("describe the root route's `group_by`"),
                );
            }
        }
    }
}
