//! `probe/unreachable`: a probed target that never became ready within the timeout (or whose
//! boot command failed). Nothing about it could be verified; when no target could be probed at
//! all, `obsgate probe` exits 2.

use crate::checks::{Check, Ctx, Finding};

pub struct Unreachable;

impl Check for Unreachable {
    fn id(&self) -> &'static str {
        "probe/unreachable"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = Vec::new();
        for (f, r) in super::targets(cx.project) {
            let Some(why) = &r.unreachable else { continue };
            let mut finding = Finding::new(
                self.id(),
                f.file,
                0..0,
                format!(
                    "target `{}` ({}) could not be probed: {why}; its metrics, health and load were not checked",
                    r.name, r.base
                ),
            )
            .ctx("target", r.name.clone());
            finding = match &r.boot_output {
                Some(tail) if !tail.trim().is_empty() => finding.help(format!(
                    "the service's last output:\n{}",
                    tail.lines()
                        .map(|l| format!("  | {l}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                )),
                _ => finding.help("check that the service listens on that address and answers the health path with 2xx; raise --ready-timeout for slow starts"),
            };
            out.push(finding);
        }
        out
    }
}
