//! `alertmanager/timing`: `group_wait`, `group_interval` and `repeat_interval` that contradict
//! each other or notify often enough to be noise. Values are inherited down the route tree
//! (Alertmanager's defaults at the root: 30s, 5m, 4h); a problem is reported at the route that
//! sets one of the values involved, so an inherited mistake is reported once.
//!
//! Reported: `repeat_interval` shorter than `group_interval` (repeats only happen on group
//! flushes, so the effective repeat is a multiple of `group_interval`), `group_wait` longer than
//! `group_interval`, a `repeat_interval` under `min_repeat_interval` (default 5m) or a
//! `group_interval` under `min_group_interval` (default 1m), and a `repeat_interval` above
//! `max_repeat_interval` (default 120h, Alertmanager's `--data.retention`: the notification log
//! forgets the group first, so it repeats at the retention period instead).

use crate::checks::meta::OptValue;
use crate::checks::{Check, Ctx, Finding};
use crate::parse::alertmanager::{
    Route, DEFAULT_GROUP_INTERVAL, DEFAULT_GROUP_WAIT, DEFAULT_REPEAT_INTERVAL,
};
use crate::parse::scalar::PromDuration;
use crate::source::{FileId, Span};

pub struct Timing;

/// An effective value and where it was set (`None`: Alertmanager's default).
#[derive(Clone)]
struct Eff {
    value: PromDuration,
    text: String,
    span: Option<Span>,
}

struct Limits {
    min_repeat: PromDuration,
    min_group: PromDuration,
    max_repeat: PromDuration,
}

fn fmt(d: PromDuration) -> String {
    crate::parse::scalar::format_duration(d)
}

fn own(d: &Option<crate::parse::fields::Duration>) -> Option<Eff> {
    let d = d.as_ref()?;
    Some(Eff {
        value: d.value?,
        text: d.text.value.to_string(),
        span: Some(d.text.span.clone()),
    })
}

fn default(d: PromDuration) -> Eff {
    Eff {
        value: d,
        text: fmt(d),
        span: None,
    }
}

impl Timing {
    fn walk(
        &self,
        r: &Route,
        parent: (&Eff, &Eff, &Eff),
        lim: &Limits,
        file: FileId,
        out: &mut Vec<Finding>,
    ) {
        let (own_gw, own_gi, own_ri) = (
            own(&r.group_wait),
            own(&r.group_interval),
            own(&r.repeat_interval),
        );
        let gw = own_gw.clone().unwrap_or_else(|| parent.0.clone());
        let gi = own_gi.clone().unwrap_or_else(|| parent.1.clone());
        let ri = own_ri.clone().unwrap_or_else(|| parent.2.clone());
        let is_own = |e: &Eff| {
            e.span.is_some()
                && [&own_gw, &own_gi, &own_ri]
                    .iter()
                    .any(|o| o.as_ref().and_then(|o| o.span.clone()) == e.span)
        };
        let whence = |e: &Eff| {
            if e.span.is_none() {
                " (Alertmanager's default)"
            } else if is_own(e) {
                ""
            } else {
                " (inherited from a parent route)"
            }
        };
        // point at the inherited value too
        let with_origin = |f: Finding, e: &Eff, name: &str| match &e.span {
            Some(sp) if !is_own(e) => f.also(file, sp.clone(), format!("{name} set here")),
            _ => f,
        };
        let id = self.id();
        // repeat_interval < group_interval
        if (own_ri.is_some() || own_gi.is_some()) && ri.value < gi.value {
            let at = own_ri
                .as_ref()
                .or(own_gi.as_ref())
                .and_then(|e| e.span.clone());
            if let Some(span) = at {
                let effective =
                    PromDuration(gi.value.0.max(1) * ri.value.0.div_ceil(gi.value.0.max(1)).max(1));
                let f = Finding::new(
                    id,
                    file,
                    span,
                    format!(
                        "repeat_interval {}{} is shorter than group_interval {}{}: Alertmanager re-sends only when the group is flushed, so notifications repeat every {}, not every {}",
                        ri.text, whence(&ri), gi.text, whence(&gi), fmt(effective), ri.text
                    ),
                )
                .help("make repeat_interval a multiple of group_interval (typically hours, e.g. `repeat_interval: 4h` with `group_interval: 5m`)");
                let f = with_origin(f, &gi, "group_interval");
                out.push(with_origin(f, &ri, "repeat_interval"));
            }
        }
        // group_wait > group_interval
        if (own_gw.is_some() || own_gi.is_some()) && gw.value > gi.value {
            if let Some(span) = own_gw
                .as_ref()
                .or(own_gi.as_ref())
                .and_then(|e| e.span.clone())
            {
                let f = Finding::new(
                    id,
                    file,
                    span,
                    format!(
                        "group_wait {}{} is longer than group_interval {}{}: the first notification of a group waits longer than every update after it, which is usually the two values swapped",
                        gw.text, whence(&gw), gi.text, whence(&gi)
                    ),
                )
                .help("group_wait is the short initial batching delay (e.g. 30s); group_interval the delay between updates of a group (e.g. 5m)");
                let f = with_origin(f, &gi, "group_interval");
                out.push(with_origin(f, &gw, "group_wait"));
            }
        }
        if let Some(e) = &own_ri {
            if let Some(span) = &e.span {
                if e.value < lim.min_repeat {
                    out.push(
                        Finding::new(
                            id,
                            file,
                            span.clone(),
                            format!(
                                "repeat_interval {} re-sends every still-firing alert more often than every {}: on-call gets the same page over and over and learns to ignore it",
                                e.text, fmt(lim.min_repeat)
                            ),
                        )
                        .help("repeat unresolved alerts every few hours (`repeat_interval: 4h`); new alerts of the group still go out at group_interval"),
                    );
                } else if e.value > lim.max_repeat {
                    out.push(
                        Finding::new(
                            id,
                            file,
                            span.clone(),
                            format!(
                                "repeat_interval {} is longer than {} (Alertmanager's default --data.retention): the notification log forgets the group first, so it repeats at the retention period instead",
                                e.text, fmt(lim.max_repeat)
                            ),
                        )
                        .help("keep repeat_interval below the data retention, or raise `--data.retention` and this check's `max_repeat_interval` together"),
                    );
                }
            }
        }
        if let Some(e) = &own_gi {
            if let Some(span) = &e.span {
                if e.value < lim.min_group && e.value.0 > 0 {
                    out.push(
                        Finding::new(
                            id,
                            file,
                            span.clone(),
                            format!(
                                "group_interval {} sends an update for every change in a group more often than every {}: a flapping group becomes a stream of notifications",
                                e.text, fmt(lim.min_group)
                            ),
                        )
                        .help("use `group_interval: 5m` (Alertmanager's default) unless the receiver needs near-real-time updates"),
                    );
                }
            }
        }
        for c in &r.routes {
            self.walk(c, (&gw, &gi, &ri), lim, file, out);
        }
    }
}

impl Check for Timing {
    fn id(&self) -> &'static str {
        "alertmanager/timing"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let dur = |name: &str, d: u64| match cx.option(name) {
            Some(OptValue::Duration(x)) => *x,
            _ => PromDuration(d),
        };
        let lim = Limits {
            min_repeat: dur("min_repeat_interval", 300_000),
            min_group: dur("min_group_interval", 60_000),
            max_repeat: dur("max_repeat_interval", 120 * 3_600_000),
        };
        // time intervals that are never active (found while parsing)
        let mut out = crate::checks::parse_issues(cx, self.id());
        for am in cx.project.alertmanager_configs() {
            let Some(root) = &am.config.route else {
                continue;
            };
            let (gw, gi, ri) = (
                default(DEFAULT_GROUP_WAIT),
                default(DEFAULT_GROUP_INTERVAL),
                default(DEFAULT_REPEAT_INTERVAL),
            );
            self.walk(root, (&gw, &gi, &ri), &lim, am.file, &mut out);
        }
        out
    }
}
