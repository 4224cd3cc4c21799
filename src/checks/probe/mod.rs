//! Checks over the results of `obsgate probe`.

pub mod health;
pub mod unreachable;

use crate::model::FileModel;
use crate::probe::TargetResult;

/// Every probed target with its source.
pub fn targets(
    project: &crate::model::Project,
) -> impl Iterator<Item = (&FileModel, &TargetResult)> {
    project
        .files
        .iter()
        .filter_map(|f| Some((f, f.probe.as_ref()?)))
}
