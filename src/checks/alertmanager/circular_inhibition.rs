//! `alertmanager/circular-inhibition`: two alerts of the rule files that can inhibit each other
//! (through one inhibit rule or two). While both fire, each mutes the other and nobody is
//! notified of either.

use crate::checks::{Check, Ctx, Finding};
use crate::model::routing::{self, Inhibit, Tri};

pub struct CircularInhibition;

impl Check for CircularInhibition {
    fn id(&self) -> &'static str {
        "alertmanager/circular-inhibition"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let pairings = super::pairings(cx);
        let mut out = Vec::new();
        for am in cx.project.alertmanager_configs() {
            let pairing = &pairings[am.index];
            if !pairing.certain {
                continue;
            }
            let Some(universe) = super::served(cx, pairing) else {
                continue;
            };
            let rules: Vec<(usize, Inhibit)> = am
                .config
                .inhibit_rules
                .iter()
                .map(routing::inhibit_of)
                .enumerate()
                .collect();
            for (ia, a) in &rules {
                for (ib, b) in rules.iter().filter(|(ib, _)| ib >= ia) {
                    // alerts certainly matched by the sides (a Maybe on both sides is too weak)
                    let xs: Vec<&routing::AlertLabels> = universe
                        .iter()
                        .filter(|x| {
                            x.matches(&a.source) == Tri::Yes && x.matches(&b.target) == Tri::Yes
                        })
                        .collect();
                    if xs.is_empty() {
                        continue;
                    }
                    let ys: Vec<&routing::AlertLabels> = universe
                        .iter()
                        .filter(|y| {
                            y.matches(&a.target) == Tri::Yes && y.matches(&b.source) == Tri::Yes
                        })
                        .collect();
                    let mut cycle = None;
                    routing::equal_candidates(&a.equal, &xs, &ys, |x, y| {
                        if x.alertname != y.alertname
                            && routing::can_inhibit(a, x, y, false).possible()
                            && routing::can_inhibit(b, y, x, false).possible()
                        {
                            cycle = Some((x, y));
                            return std::ops::ControlFlow::Break(());
                        }
                        std::ops::ControlFlow::Continue(())
                    });
                    let Some((x, y)) = cycle else { continue };
                    let ra = &am.config.inhibit_rules[*ia];
                    let rb = &am.config.inhibit_rules[*ib];
                    let mut f = Finding::new(
                        self.id(),
                        am.file,
                        rb.head.clone(),
                        format!(
                            "alerts `{}` and `{}` can inhibit each other{}: while both fire, neither is notified",
                            x.alertname,
                            y.alertname,
                            if ia == ib { " through this one rule" } else { " through this rule and an earlier one" }
                        ),
                    )
                    .label("mutual inhibition")
                    .help("make the source and target matchers exclusive (e.g. `severity=\"critical\"` mutes `severity=\"warning\"`, never the other way round)");
                    if ia != ib {
                        f = f.also(am.file, ra.head.clone(), "the other half of the cycle");
                    }
                    out.push(f);
                }
            }
        }
        out
    }
}
