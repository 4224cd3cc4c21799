//! `alertmanager/dead-inhibition`: an inhibit rule that can never mute anything: no alert of the
//! rule files matches its source, none matches its target, or the `equal` labels can never agree
//! between a source and a target alert (e.g. `alertname` when source and target are different
//! alerts).

use crate::checks::{Check, Ctx, Finding};
use crate::model::routing;

pub struct DeadInhibition;

impl Check for DeadInhibition {
    fn id(&self) -> &'static str {
        "alertmanager/dead-inhibition"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        if cx.project.alertmanager_configs().next().is_none() {
            return Vec::new();
        }
        // structural contradictions are found without any alert; the rest needs the alerts the
        // config serves, known for certain
        let pairings = super::pairings(cx);
        let mut out = Vec::new();
        for amr in cx.project.alertmanager_configs() {
            let pairing = &pairings[amr.index];
            let universe = if pairing.certain {
                super::served(cx, pairing).unwrap_or_default()
            } else {
                Default::default()
            };
            let (file, am) = (amr.file, amr.config);
            for rule in &am.inhibit_rules {
                let inh = routing::inhibit_of(rule);
                let structural = routing::structurally_dead(&inh);
                if structural.is_none()
                    && (universe.is_empty()
                        || routing::inhibition_witness(&inh, &universe).is_some())
                {
                    continue;
                }
                if let Some(label) = structural {
                    out.push(
                        Finding::new(
                            self.id(),
                            file,
                            rule.head.clone(),
                            format!(
                                "inhibit rule can never mute anything: `{label}` is in `equal`, but the source and target matchers require different values of `{label}`"
                            ),
                        )
                        .label("dead inhibit rule")
                        .help(format!("remove `{label}` from `equal`: a source and a target alert can never share it"))
                        .ctx("label", label),
                    );
                    continue;
                }
                let sources: Vec<&str> = universe
                    .iter()
                    .filter(|a| a.matches(&inh.source).possible())
                    .map(|a| a.alertname.as_str())
                    .collect();
                let targets: Vec<&str> = universe
                    .iter()
                    .filter(|a| a.matches(&inh.target).possible())
                    .map(|a| a.alertname.as_str())
                    .collect();
                let list = |v: &[&str]| {
                    let mut v: Vec<&str> = v.to_vec();
                    v.sort();
                    v.dedup();
                    let more = v.len().saturating_sub(4);
                    let mut s = v
                        .iter()
                        .take(4)
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    if more > 0 {
                        s.push_str(&format!(" and {more} more"));
                    }
                    s
                };
                let why = if sources.is_empty() {
                    "no alert of the rule files matches its source matchers".to_string()
                } else if targets.is_empty() {
                    "no alert of the rule files matches its target matchers".to_string()
                } else {
                    format!(
                        "its `equal` labels ({}) never agree between a source alert ({}) and a target alert ({})",
                        inh.equal.join(", "),
                        list(&sources),
                        list(&targets)
                    )
                };
                // dead for the alerts of the checked rule files; alerts from elsewhere might still
                // use it, so one level lower than a structural contradiction
                out.push(
                    Finding::new(
                        self.id(),
                        file,
                        rule.head.clone(),
                        format!("inhibit rule mutes nothing among the {} alerts of the checked rule files: {why}", universe.len()),
                    )
                    .downgraded(true)
                        .label("dead inhibit rule")
                        .help(if inh.equal.iter().any(|e| e == "alertname") && !sources.is_empty() && !targets.is_empty() {
                            "source and target are different alerts, so `alertname` never agrees: drop it from `equal` and use labels both carry (e.g. `instance`, `service`)"
                        } else {
                            "match labels your alerts carry, or remove the rule"
                        })
                        .ctx("sources", sources.len())
                        .ctx("targets", targets.len()),
                );
            }
        }
        out
    }
}
