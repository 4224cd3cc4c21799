//! `alertmanager/unknown-group-label`: `group_by` labels that no alert of the rule files carries by
//! name (not a static label, not kept by its expression's `by`/matchers/`label_replace`): every
//! alert has the same empty value for it, so it groups nothing; usually a typo or a label that
//! only exists in another environment.

use std::collections::BTreeSet;

use crate::checks::{Check, Ctx, Finding};

pub struct UnknownGroupLabel;

impl Check for UnknownGroupLabel {
    fn id(&self) -> &'static str {
        "alertmanager/unknown-group-label"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let pairings = super::pairings(cx);
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
            let named: BTreeSet<&str> = universe.iter().flat_map(|a| a.named_labels()).collect();
            let (file, am) = (amr.file, amr.config);
            for (route, _) in am.routes() {
                let Some(group_by) = &route.group_by else {
                    continue;
                };
                for l in group_by {
                    if l.value == "..." || named.contains(l.value.as_str()) {
                        continue;
                    }
                    let hint =
                        crate::parse::closest(&l.value, &named.iter().copied().collect::<Vec<_>>())
                            .map(|s| format!(" (did you mean `{s}`?)"))
                            .unwrap_or_default();
                    out.push(
                        Finding::new(
                            self.id(),
                            file,
                            l.span.clone(),
                            format!(
                                "no alert of the rule files carries `{}`{hint}: it is not a static label and no expression keeps it by name, so it groups nothing unless your targets or `external_labels` add it",
                                l.value
                            ),
                        )
                        .label("no alert has this label")
                        .help("group by labels your alerts carry (see their `labels:` and the `by (...)` of their expressions), or add the label to the rules")
                        .ctx("label", l.value.clone()),
                    );
                }
            }
        }
        out
    }
}
