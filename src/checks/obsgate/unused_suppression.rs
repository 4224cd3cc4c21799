//! `obsgate/unused-suppression`: a `# obsgate: ignore` comment that matches no finding. The
//! matching itself happens in the engine after all other checks ran (see `engine::run_checks`),
//! since only then is it known which suppressions were used.

use crate::checks::{Check, Ctx, Finding};

pub struct UnusedSuppression;

impl Check for UnusedSuppression {
    fn id(&self) -> &'static str {
        "obsgate/unused-suppression"
    }

    /// Produces nothing by itself: the engine reports unused suppressions once every other check has run.
    fn run(&self, _cx: &Ctx) -> Vec<Finding> {
        Vec::new()
    }
}
