//! `alertmanager/unknown-group-label`: `group_by` labels that none of the alerts the route groups
//! can carry, so every one of them has the same empty value and the label groups nothing; usually
//! a typo or a label that only exists in another environment.
//!
//! A route's `group_by` applies to the alerts notified by it or by a route below it that does not
//! set its own `group_by`. An alert can carry a label when it is a static label, when its
//! expression keeps it by name (`by (...)`, matchers, `label_replace`, joins), or when its
//! expression is open: an unaggregated selector (`up == 0`, `rate(x[5m]) > 1`) keeps every label
//! of its series, among them the ones its target gives it (`job`, `instance` and whatever service
//! discovery and relabeling add), which obsgate cannot know. Only aggregated outputs
//! (`sum by (...)`, `count(...)`, `absent(...)`) have a known label set. Labels a Prometheus config
//! of the run adds to every alert (`global.external_labels`) are carried by all.

use std::collections::BTreeSet;

use crate::checks::{Check, Ctx, Finding};
use crate::model::routing::{self, AlertLabels, LabelValue};

pub struct UnknownGroupLabel;

/// For each route (pre-order), the route whose written `group_by` is in effect there (itself, or
/// its nearest ancestor that sets one).
fn group_by_source(tree: &routing::RouteNode) -> Vec<Option<usize>> {
    fn walk(n: &routing::RouteNode, inherited: Option<usize>, out: &mut Vec<Option<usize>>) {
        let me = out.len();
        let source = if n.group_by.is_some() {
            Some(me)
        } else {
            inherited
        };
        out.push(source);
        for c in &n.children {
            walk(c, source, out);
        }
    }
    let mut out = Vec::new();
    walk(tree, None, &mut out);
    out
}

/// Can the alert carry `label`? (A label of an open expression is unknown unless the expression
/// drops it, as `sum without (instance)` does.)
fn may_carry(alert: &AlertLabels, label: &str) -> bool {
    !matches!(alert.value(label), LabelValue::Known(v) if v.is_empty())
}

impl Check for UnknownGroupLabel {
    fn id(&self) -> &'static str {
        "alertmanager/unknown-group-label"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let pairings = super::pairings(cx);
        let external = cx.project.external_label_names();
        let mut out = Vec::new();
        for amr in cx.project.alertmanager_configs() {
            // a label no alert has is only known when the alerts the config serves are
            let pairing = &pairings[amr.index];
            if !pairing.certain {
                continue;
            }
            let Some(universe) = super::served(cx, pairing) else {
                continue;
            };
            let (file, am) = (amr.file, amr.config);
            let Some(tree) = cx.project.route_tree(&amr) else {
                continue;
            };
            let sources = group_by_source(tree);
            // the alerts each route's `group_by` applies to
            let mut grouped: Vec<Vec<&AlertLabels>> = vec![Vec::new(); sources.len()];
            for alert in universe.iter() {
                let reach = routing::reach(tree, alert);
                let mut seen = BTreeSet::new();
                for (i, _) in reach.terminal_routes() {
                    if let Some(s) = sources.get(i).copied().flatten() {
                        if seen.insert(s) {
                            grouped[s].push(alert);
                        }
                    }
                }
            }
            let routes = am.routes();
            // the routes of `AlertmanagerConfig` resources merged in come first under the root
            // (their own audit judges them)
            let merged = tree.size.saturating_sub(routes.len());
            let under = cx.project.grafted_under(&amr);
            for (i, (route, _)) in routes.into_iter().enumerate() {
                let Some(group_by) = &route.group_by else {
                    continue;
                };
                let at = if i <= under { i } else { i + merged };
                let alerts = match grouped.get(at) {
                    // no alert of the rule files is grouped here: nothing to judge
                    Some(a) if !a.is_empty() => a,
                    _ => continue,
                };
                if group_by.iter().any(|l| l.value == "...") {
                    continue;
                }
                let named: BTreeSet<&str> = alerts.iter().flat_map(|a| a.named_labels()).collect();
                for l in group_by {
                    let label = l.value.as_str();
                    if external.contains(label) || alerts.iter().any(|a| may_carry(a, label)) {
                        continue;
                    }
                    let hint =
                        crate::parse::closest(label, &named.iter().copied().collect::<Vec<_>>())
                            .map(|s| format!(" (did you mean `{s}`?)"))
                            .unwrap_or_default();
                    let mut names: Vec<&str> =
                        alerts.iter().map(|a| a.alertname.as_str()).collect();
                    names.sort();
                    names.dedup();
                    let shown = names
                        .iter()
                        .take(3)
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let more = match names.len().saturating_sub(3) {
                        0 => String::new(),
                        n => format!(" and {n} more"),
                    };
                    let mut f = Finding::new(
                        self.id(),
                        file,
                        l.span.clone(),
                        format!(
                            "none of the alerts this route groups ({shown}{more}) carries `{label}`{hint}: it is not one of their static labels and their expressions do not keep it (an aggregation keeps only the labels it names), so its value is empty for all of them and it groups nothing"
                        ),
                    )
                    .label("no alert grouped here has this label")
                    .help("group by labels these alerts carry (their `labels:` and the `by (...)` of their expressions), keep the label in their aggregations, or add it to the rules (or to the Prometheus `external_labels`)")
                    .ctx("label", l.value.clone());
                    if let Some((af, asp)) = &alerts[0].origin {
                        f = f.also(
                            *af,
                            asp.clone(),
                            format!("`{}` has no `{label}`", alerts[0].alertname),
                        );
                    }
                    out.push(f);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{group_by_source, may_carry};
    use crate::model::routing::{AlertLabels, RouteNode};

    /// An alert as the universe sees it, from a rule file with its expression and static labels.
    fn alert(expr: &str, statics: &[&str]) -> AlertLabels {
        let labels: String = statics.iter().map(|l| format!("{l}: x, ")).collect();
        let text: std::sync::Arc<str> = format!(
            "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: '{expr}'\n        labels: {{{labels}}}\n"
        )
        .into();
        let lines = crate::source::LineIndex::new(&text);
        let fm = crate::model::parse_file(crate::source::FileId(0), &text, &lines, "r.yml");
        crate::model::routing::file_alerts(&fm).remove(0)
    }

    #[test]
    fn unaggregated_alerts_keep_their_target_labels() {
        for expr in [
            "up == 0",
            "up{job=\"api\"} == 0",
            "rate(errors_total[5m]) > 1",
            "errors_total / ignoring(code) requests_total > 0.1",
            "max without (device) (node_filesystem_avail_bytes) < 1e9",
        ] {
            let a = alert(expr, &[]);
            for label in ["instance", "job", "cluster", "namespace"] {
                assert!(may_carry(&a, label), "{expr} may carry {label}");
            }
        }
        // `without` and `ignoring` drop what they name
        assert!(!may_carry(
            &alert("max without (device) (x) < 1", &[]),
            "device"
        ));
    }

    #[test]
    fn aggregated_alerts_carry_what_they_name() {
        let a = alert("sum by (job) (rate(x[5m])) > 1", &["severity"]);
        assert!(may_carry(&a, "job"));
        assert!(may_carry(&a, "severity"));
        assert!(!may_carry(&a, "instance"));
        assert!(!may_carry(&alert("count(up == 0) > 3", &[]), "job"));
        assert!(may_carry(&alert("absent(up{job=\"api\"})", &[]), "job"));
        assert!(!may_carry(
            &alert("absent(up{job=\"api\"})", &[]),
            "instance"
        ));
    }

    #[test]
    fn group_by_is_inherited() {
        let node = |group_by: Option<&[&str]>, children: Vec<RouteNode>| RouteNode {
            group_by: group_by.map(|g| g.iter().map(|s| s.to_string()).collect()),
            children,
            ..RouteNode::default()
        };
        let tree = node(
            Some(&["alertname"]),
            vec![
                node(None, vec![node(Some(&["job"]), vec![]), node(None, vec![])]),
                node(Some(&["..."]), vec![]),
            ],
        );
        assert_eq!(
            group_by_source(&tree),
            vec![Some(0), Some(0), Some(2), Some(0), Some(4)]
        );
    }
}
