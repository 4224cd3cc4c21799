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
