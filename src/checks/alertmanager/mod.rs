//! Alertmanager config checks: single-file (syntax, deprecated matchers, unused receivers,
//! notification templates, timing) and cross-file, over the alerts of the rule files (unreachable
//! routes, unrouted alerts, dead inhibition, unknown group labels).

pub mod circular_inhibition;
pub mod dead_inhibition;
pub mod deprecated_matcher;
pub mod empty_receiver;
pub mod syntax;
pub mod template;
pub mod timing;
pub mod unknown_group_label;
pub mod unreachable_route;
pub mod unrouted_alert;
pub mod unused_receiver;
pub mod useless_continue;

/// The alerts to route through Alertmanager configs: the alerts of the checked rule files plus
/// `.obsgate.yml`'s `alertmanager.extra_alerts`. `None` when there is no Alertmanager config or
/// no alert at all (nothing to judge, so the cross-file checks stay quiet).
pub fn universe<'a>(
    cx: &crate::checks::Ctx<'a>,
) -> Option<std::borrow::Cow<'a, [crate::model::routing::AlertLabels]>> {
    cx.project.alertmanager_configs().next()?;
    let universe = crate::model::routing::universe_with(cx.project, &cx.config.extra_alerts);
    (!universe.is_empty()).then_some(universe)
}

/// The pairing of each Alertmanager config with the rule files it serves
/// ([`crate::model::pairing`]), in [`crate::model::Project::alertmanager_configs`] order.
pub fn pairings(cx: &crate::checks::Ctx) -> Vec<crate::model::pairing::Pairing> {
    crate::model::pairing::pairings(cx.project, &cx.config.stacks)
}

/// The alerts a config paired as `pairing` receives: those of its rule files, and
/// `.obsgate.yml`'s `extra_alerts`. `None` when there are none.
pub fn served<'a>(
    cx: &crate::checks::Ctx<'a>,
    pairing: &crate::model::pairing::Pairing,
) -> Option<std::borrow::Cow<'a, [crate::model::routing::AlertLabels]>> {
    let all = universe(cx)?;
    if pairing.rule_files.is_none() {
        return Some(all);
    }
    let mine: Vec<_> = all
        .iter()
        .filter(|a| a.origin.as_ref().is_none_or(|(f, _)| pairing.serves(*f)))
        .cloned()
        .collect();
    (!mine.is_empty()).then_some(std::borrow::Cow::Owned(mine))
}
