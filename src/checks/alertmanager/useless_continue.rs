//! `alertmanager/useless-continue`: `continue: true` on the last route of its level. `continue`
//! only lets the later siblings also match; with none after it, it does nothing, and usually
//! means the route order is not what the author thinks.

use crate::checks::{Check, Ctx, Finding, Fix};

pub struct UselessContinue;

impl Check for UselessContinue {
    fn id(&self) -> &'static str {
        "alertmanager/useless-continue"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = Vec::new();
        for am in cx.project.alertmanager_configs() {
            for (route, _) in am.config.routes() {
                let Some(last) = route.routes.last() else {
                    continue;
                };
                let Some((true, span)) = &last.continue_ else {
                    continue;
                };
                let finding = Finding::new(
                    self.id(),
                    am.file,
                    span.clone(),
                    "`continue: true` on the last route of its level has no effect: there is no later sibling route to continue to",
                )
                .label("nothing follows")
                .help("remove it (`obsgate fix` does), or move the routes that should also see these alerts after this one")
                .also(am.file, last.head.clone(), "last route of its level");
                // removing it changes no routing: Alertmanager stops at the last child either way
                // (no edits when it is not on a line of its own: `obsgate fix` says so)
                let edit = crate::fix::remove_field(am.file, cx.src(am.file), span);
                out.push(finding.fix(Fix {
                    title: "remove `continue: true`".into(),
                    edits: edit.into_iter().collect(),
                    safe: true,
                }));
            }
        }
        out
    }
}
