//! Alertmanager config checks: single-file (syntax, deprecated matchers, unused receivers,
//! notification templates, timing) and cross-file, over the alerts of the rule files (unreachable
//! routes, unrouted alerts, dead inhibition, unknown group labels).

pub mod circular_inhibition;
pub mod dead_inhibition;
pub mod deprecated_matcher;
pub mod empty_receiver;
pub mod routing_test;
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

/// Words that name a receiver which discards alerts on purpose.
const SINK_WORDS: &[&str] = &[
    "null",
    "nil",
    "blackhole",
    "devnull",
    "void",
    "discard",
    "noop",
    "trash",
];
/// Words that name a sink only as the whole name (`sink`, not `kafka-sink`; `none`, not
/// `team-none`): alone they say "nowhere", inside a longer name they may name a destination.
const SINK_ALONE: &[&str] = &[
    "drop", "dropped", "none", "ignore", "ignored", "silence", "silenced", "mute", "muted", "sink",
];

/// Does a receiver's name announce a deliberate sink? Alertmanager practice names the receiver
/// that swallows `Watchdog` and `InfoInhibitor` `null` (kube-prometheus, the prometheus-operator
/// defaults); the operator prefixes receivers of an `AlertmanagerConfig` with
/// `<namespace>/<config>/`, and teams add their own prefixes (`monitoring-null`,
/// `team_a.blackhole`). So the name's last `/` segment is judged: it is a sink when, lowercase
/// and without separators (`-` `_` `.` `:` space), it is a sink word (`null`, `dev-null`,
/// `black_hole`, `devNull`), possibly followed by `receiver` (`null-receiver`); or when its
/// last word is one of the unambiguous sink words (`monitoring-null`, `ops-blackhole`).
/// `watchdog`, `deadmansswitch` and `heartbeat` are not sinks: they promise a heartbeat
/// integration, and an empty one means nobody notices when alerting stops.
pub fn sink_name(name: &str) -> bool {
    let last = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    let is_sep = |c: char| matches!(c, '-' | '_' | '.' | ':' | ' ');
    let flat: String = last.chars().filter(|c| !is_sep(*c)).collect();
    let core = ["receivers", "receiver", "route"]
        .iter()
        .find_map(|s| flat.strip_suffix(s).filter(|c| !c.is_empty()))
        .unwrap_or(&flat);
    if SINK_WORDS.contains(&core) || SINK_ALONE.contains(&core) {
        return true;
    }
    last.split(is_sep)
        .rfind(|w| !w.is_empty())
        .is_some_and(|w| SINK_WORDS.contains(&w))
}

/// A receiver with no integration whose name announces a deliberate sink ([`sink_name`]):
/// alerts routed there are dropped on purpose.
pub fn is_sink(r: &crate::parse::alertmanager::Receiver) -> bool {
    r.integrations.is_empty() && sink_name(&r.name.value)
}

#[cfg(test)]
mod tests {
    use super::sink_name;

    #[test]
    fn sink_names() {
        for n in [
            "null",
            "Null",
            "blackhole",
            "black-hole",
            "dev-null",
            "devNull",
            "discard",
            "void",
            "none",
            "sink",
            "null-receiver",
            "NullReceiver",
            "ns/global-config/null",
            "mynamespace/global-config/null",
            "monitoring-null",
            "monitoring/alertmanager-main/blackhole",
            "ops_blackhole",
            "team-a.void",
        ] {
            assert!(sink_name(n), "{n}");
        }
        for n in [
            "Default",
            "Critical",
            "team-backend",
            "Watchdog",
            "deadmansswitch",
            "dead-mans-snitch",
            "heartbeat",
            "kafka-sink",
            "team-none",
            "null-team/pager",
            "nullable",
            "annulled",
            "",
        ] {
            assert!(!sink_name(n), "{n}");
        }
    }
}
