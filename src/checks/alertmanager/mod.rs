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
