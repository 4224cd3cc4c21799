//! Routing unit tests for Alertmanager configs (`obsgate routes test --tests FILE`, and
//! `.obsgate.yml` `alertmanager: tests:` run by `obsgate check` as `alertmanager/routing-test`).
//!
//! Each test gives an alert's labels and what should happen to it: the receivers it reaches
//! (exactly, in routing order, as `amtool config routes test` prints them), the labels it is
//! grouped by, whether the other alerts firing with it inhibit it, and whether the time
//! intervals of its routes mute it at an instant. Routing is Alertmanager's: the root always
//! matches, siblings in order, the first match wins unless it has `continue: true`, an alert
//! matching no child ends at the parent. Inhibition is Alertmanager's: a target-matching alert
//! is muted while a different firing alert matches the source matchers with the same values of
//! the `equal` labels (an absent label is the empty value). `mute_time_intervals` and
//! `active_time_intervals` belong to a route alone (children do not inherit them); they are
//! evaluated in UTC: an interval with another `location` makes the test fail with that reason.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::model::routing::{self, Effective, Inhibit, RouteNode};

/// A label value as YAML may write it (`code: 500`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    pub fn text(&self) -> String {
        match self {
            Scalar::Str(s) => s.clone(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

/// One routing test.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingTest {
    pub name: String,
    pub alert: BTreeMap<String, Scalar>,
    /// The receivers, exactly, in routing order.
    #[serde(default)]
    pub receivers: Option<Vec<String>>,
    /// The labels the alert is grouped by (order does not matter; `...` is every label).
    #[serde(default)]
    pub group_by: Option<Vec<String>>,
    /// Other alerts firing at the same time.
    #[serde(default)]
    pub firing: Vec<BTreeMap<String, Scalar>>,
    /// Whether the firing alerts inhibit this one.
    #[serde(default)]
    pub inhibited: Option<bool>,
    /// The instant at which time intervals are evaluated (RFC 3339).
    #[serde(default)]
    pub at: Option<String>,
    /// Whether the time intervals of its routes mute the alert at `at`.
    #[serde(default)]
    pub muted: Option<bool>,
    /// With several Alertmanager configs in a run (tests in `.obsgate.yml`): a glob of the
    /// configs the test is for.
    #[serde(default)]
    pub config: Option<String>,
}

/// The keys of a routing test (the JSON Schema of `.obsgate.yml` is made from them; a unit
/// test keeps them equal to the fields serde reads).
pub const TEST_KEYS: &[&str] = &[
    "name",
    "alert",
    "receivers",
    "group_by",
    "firing",
    "inhibited",
    "at",
    "muted",
    "config",
];

/// A test file: `tests: [...]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    pub tests: Vec<RoutingTest>,
}

/// Parse a test file strictly (unknown keys are errors).
pub fn parse(text: &str) -> Result<Vec<RoutingTest>, String> {
    let f: TestFile = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    check_tests(&f.tests)?;
    Ok(f.tests)
}

/// What a list of tests must satisfy beyond its shape.
pub fn check_tests(tests: &[RoutingTest]) -> Result<(), String> {
    for t in tests {
        if t.receivers.is_none()
            && t.group_by.is_none()
            && t.inhibited.is_none()
            && t.muted.is_none()
        {
            return Err(format!(
                "test `{}` expects nothing: give `receivers`, `group_by`, `inhibited` or `muted`",
                t.name
            ));
        }
        if t.muted.is_some() && t.at.is_none() {
            return Err(format!(
                "test `{}`: `muted` needs `at` (the instant)",
                t.name
            ));
        }
        if let Some(at) = &t.at {
            Instant::parse(at).map_err(|e| format!("test `{}`: `at`: {e}", t.name))?;
        }
    }
    Ok(())
}

/// An Alertmanager config as the tests need it: the tree, inhibit rules and time intervals.
pub struct Target<'a> {
    pub tree: &'a RouteNode,
    pub effective: &'a [Effective],
    pub inhibits: &'a [Inhibit],
    pub intervals: &'a BTreeMap<String, Vec<TimeRange>>,
}

/// The result of one test.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Outcome {
    pub name: String,
    pub passed: bool,
    /// What was expected and what happened, one line per difference.
    pub failures: Vec<String>,
    /// Routes the alert went through (pre-order indexes; the root is 0).
    #[serde(skip)]
    pub routes: Vec<usize>,
    /// Inhibit rules (indexes) that muted the alert.
    #[serde(skip)]
    pub inhibit_rules: Vec<usize>,
}

fn labels_of(m: &BTreeMap<String, Scalar>) -> BTreeMap<String, String> {
    m.iter().map(|(k, v)| (k.clone(), v.text())).collect()
}

fn show_labels(m: &BTreeMap<String, String>) -> String {
    let inner: Vec<String> = m.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{{{}}}", inner.join(", "))
}

/// Whether the matchers all match a concrete label set (an absent label is "").
fn matches(matchers: &[routing::LabelMatcher], labels: &BTreeMap<String, String>) -> bool {
    matchers
        .iter()
        .all(|m| m.matches_value(labels.get(&m.name).map(String::as_str).unwrap_or("")))
}

/// Run one test.
pub fn run(t: &RoutingTest, target: &Target) -> Outcome {
    let labels = labels_of(&t.alert);
    let hits = routing::route_concrete(target.tree, &labels);
    let parents = routing::parents(target.tree);
    let mut routes: Vec<usize> = Vec::new();
    for &h in &hits {
        let mut k = h;
        loop {
            if !routes.contains(&k) {
                routes.push(k);
            }
            if k == 0 {
                break;
            }
            k = parents[k];
        }
    }
    routes.sort();
    let mut failures = Vec::new();
    let receivers: Vec<String> = hits
        .iter()
        .map(|&k| target.effective[k].receiver.clone().unwrap_or_default())
        .collect();
    if let Some(want) = &t.receivers {
        if *want != receivers {
            failures.push(format!(
                "receivers: expected [{}], got [{}]",
                want.join(", "),
                receivers.join(", ")
            ));
        }
    }
    if let Some(want) = &t.group_by {
        let mut want_sorted = want.clone();
        want_sorted.sort();
        for &h in &hits {
            let got = target.effective[h].group_by.clone().unwrap_or_default();
            let mut got_sorted = got.clone();
            got_sorted.sort();
            if got_sorted != want_sorted {
                failures.push(format!(
                    "group_by at receiver `{}`: expected [{}], got [{}]",
                    target.effective[h].receiver.clone().unwrap_or_default(),
                    want.join(", "),
                    got.join(", ")
                ));
            }
        }
    }
    let mut inhibit_rules = Vec::new();
    let mut inhibitor = None;
    for (i, rule) in target.inhibits.iter().enumerate() {
        if !matches(&rule.target, &labels) {
            continue;
        }
        for f in &t.firing {
            let src = labels_of(f);
            if src == labels || !matches(&rule.source, &src) {
                continue;
            }
            let equal = rule.equal.iter().all(|l| {
                src.get(l).map(String::as_str).unwrap_or("")
                    == labels.get(l).map(String::as_str).unwrap_or("")
            });
            if equal {
                inhibit_rules.push(i);
                inhibitor.get_or_insert((i, src));
                break;
            }
        }
    }
    if let Some(want) = t.inhibited {
        let got = inhibitor.is_some();
        if want != got {
            failures.push(match &inhibitor {
                Some((i, src)) => format!(
                    "inhibited: expected false, but inhibit rule #{} mutes it while {} fires",
                    i + 1,
                    show_labels(src)
                ),
                None => {
                    "inhibited: expected true, but no inhibit rule mutes it with the firing alerts"
                        .to_string()
                }
            });
        }
    }
    if let (Some(want), Some(at)) = (t.muted, &t.at) {
        match Instant::parse(at) {
            Ok(instant) => match muted(target, &hits, instant) {
                Ok(by) => {
                    if want != by.is_some() {
                        failures.push(match by {
                            Some(why) => format!("muted: expected false at {at}, but {why}"),
                            None => format!("muted: expected true at {at}, but no time interval of its routes mutes it"),
                        });
                    }
                }
                Err(e) => failures.push(format!("muted: cannot evaluate: {e}")),
            },
            Err(e) => failures.push(format!("at: {e}")),
        }
    }
    Outcome {
        name: t.name.clone(),
        passed: failures.is_empty(),
        failures,
        routes,
        inhibit_rules,
    }
}

/// Why the alert's notifications are muted at `at` (on every route it ends at), if they are.
fn muted(target: &Target, hits: &[usize], at: Instant) -> Result<Option<String>, String> {
    let nodes = target.tree.preorder();
    let mut reasons = Vec::new();
    for &h in hits {
        let n = nodes[h];
        let receiver = target.effective[h].receiver.clone().unwrap_or_default();
        let mut why = None;
        for name in &n.mute {
            if active(target, name, at)? {
                why = Some(format!(
                    "mute_time_intervals `{name}` mutes receiver `{receiver}`"
                ));
                break;
            }
        }
        if why.is_none() && !n.active.is_empty() {
            let mut any = false;
            for name in &n.active {
                any |= active(target, name, at)?;
            }
            if !any {
                why = Some(format!(
                    "none of the active_time_intervals ({}) of receiver `{receiver}`'s route is active",
                    n.active.join(", ")
                ));
            }
        }
        match why {
            Some(w) => reasons.push(w),
            // one route that notifies is enough for the alert not to be muted
            None => return Ok(None),
        }
    }
    Ok((!reasons.is_empty()).then(|| reasons.join("; ")))
}

fn active(target: &Target, name: &str, at: Instant) -> Result<bool, String> {
    let Some(ranges) = target.intervals.get(name) else {
        return Err(format!("no time interval named `{name}`"));
    };
    for r in ranges {
        if r.contains(at)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// An instant, in UTC.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Instant {
    year: i64,
    month: u32,
    day: u32,
    /// Minutes since midnight.
    minute: u32,
    /// 0 = Sunday.
    weekday: u32,
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    let next = if m == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, m + 1, 1)
    };
    (next - days_from_civil(y, m, 1)) as u32
}

impl Instant {
    /// `2026-12-25T03:00:00Z`, or with an offset (`+01:00`), converted to UTC.
    pub fn parse(s: &str) -> Result<Instant, String> {
        let bad = || format!("`{s}` is not an RFC 3339 time such as 2026-12-25T03:00:00Z");
        let b = s.as_bytes();
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| -> Result<i64, String> {
            s.get(r).and_then(|x| x.parse().ok()).ok_or_else(bad)
        };
        let (y, mo, d, h, mi) = (
            num(0..4)?,
            num(5..7)?,
            num(8..10)?,
            num(11..13)?,
            num(14..16)?,
        );
        num(17..19)?;
        let mut rest = &s[19..];
        if let Some(r) = rest.strip_prefix('.') {
            rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
        }
        let offset = match rest {
            "Z" | "z" => 0,
            o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) => {
                let sign = if o.starts_with('-') { -1 } else { 1 };
                let oh: i64 = o[1..3].parse().map_err(|_| bad())?;
                let om: i64 = o[4..6].parse().map_err(|_| bad())?;
                sign * (oh * 60 + om)
            }
            _ => return Err(bad()),
        };
        if !(1..=12).contains(&mo)
            || d < 1
            || d > days_in_month(y, mo as u32) as i64
            || h > 23
            || mi > 59
        {
            return Err(bad());
        }
        let total = days_from_civil(y, mo as u32, d as u32) * 1440 + h * 60 + mi - offset;
        let days = total.div_euclid(1440);
        let (year, month, day) = civil_from_days(days);
        Ok(Instant {
            year,
            month,
            day,
            minute: total.rem_euclid(1440) as u32,
            weekday: (days + 4).rem_euclid(7) as u32,
        })
    }
}

use crate::parse::alertmanager::{TimeRange, MONTHS, WEEKDAYS};

/// `a:b` or `a` as an inclusive range, each end a number or a name of `names` (1-based).
fn range(s: &str, names: &[&str]) -> Option<(i64, i64)> {
    let one = |x: &str| -> Option<i64> {
        let x = x.trim();
        names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(x))
            .map(|i| i as i64 + 1)
            .or_else(|| x.parse().ok())
    };
    match s.split_once(':') {
        Some((a, b)) => Some((one(a)?, one(b)?)),
        None => one(s).map(|v| (v, v)),
    }
}

fn minutes(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
}

impl TimeRange {
    fn contains(&self, at: Instant) -> Result<bool, String> {
        if let Some(l) = &self.location {
            if !matches!(l.as_str(), "UTC" | "Etc/UTC" | "") {
                return Err(format!(
                    "obsgate evaluates time intervals in UTC only, and this one has `location: {l}`"
                ));
            }
        }
        let times_ok = self.times.is_empty()
            || self
                .times
                .iter()
                .any(|t| match (minutes(&t.start_time), minutes(&t.end_time)) {
                    (Some(a), Some(b)) => at.minute >= a && at.minute < b,
                    _ => false,
                });
        let weekday_ok = self.weekdays.is_empty()
            || self.weekdays.iter().any(|w| {
                // weekdays are 0-based from Sunday in names order; ranges may not wrap
                range(w, WEEKDAYS).is_some_and(|(a, b)| {
                    let d = at.weekday as i64 + 1;
                    a <= d && d <= b
                })
            });
        let dim = days_in_month(at.year, at.month) as i64;
        let dom_ok = self.days_of_month.is_empty()
            || self.days_of_month.iter().any(|r| {
                range(r, &[]).is_some_and(|(a, b)| {
                    // negative days count from the end of the month (-1 = the last day)
                    let fix = |x: i64| if x < 0 { dim + 1 + x } else { x };
                    let (a, b) = (fix(a), fix(b));
                    a <= at.day as i64 && at.day as i64 <= b
                })
            });
        let month_ok = self.months.is_empty()
            || self.months.iter().any(|r| {
                range(r, MONTHS).is_some_and(|(a, b)| a <= at.month as i64 && at.month as i64 <= b)
            });
        let year_ok = self.years.is_empty()
            || self
                .years
                .iter()
                .any(|r| range(r, &[]).is_some_and(|(a, b)| a <= at.year && at.year <= b));
        Ok(times_ok && weekday_ok && dom_ok && month_ok && year_ok)
    }
}

/// Coverage: routes (pre-order, the root left out) and inhibit rules no test exercised.
pub fn coverage(
    tree: &RouteNode,
    inhibits: usize,
    outcomes: &[Outcome],
) -> (Vec<usize>, Vec<usize>, f64) {
    let total = tree.preorder().len();
    let routes: Vec<usize> = (1..total)
        .filter(|k| !outcomes.iter().any(|o| o.routes.contains(k)))
        .collect();
    let rules: Vec<usize> = (0..inhibits)
        .filter(|i| !outcomes.iter().any(|o| o.inhibit_rules.contains(i)))
        .collect();
    let pct = if total <= 1 {
        100.0
    } else {
        100.0 * (total - 1 - routes.len()) as f64 / (total - 1) as f64
    };
    (routes, rules, pct)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::alertmanager::TimeOfDay;

    #[test]
    fn test_keys_are_the_fields() {
        // every listed key is read, and an unlisted one is refused
        let mut all = String::from("name: t\nalert: {a: b}\n");
        for k in TEST_KEYS.iter().filter(|k| !["name", "alert"].contains(k)) {
            let v = match *k {
                "receivers" | "group_by" | "firing" => "[]",
                "inhibited" | "muted" => "false",
                "at" => "\"2026-12-25T03:00:00Z\"",
                _ => "x",
            };
            all.push_str(&format!("{k}: {v}\n"));
        }
        serde_saphyr::from_str::<RoutingTest>(&all).unwrap();
        assert!(serde_saphyr::from_str::<RoutingTest>("name: t\nalert: {}\nother: 1\n").is_err());
    }

    #[test]
    fn instants_and_ranges() {
        let t = Instant::parse("2026-12-25T03:00:00Z").unwrap();
        assert_eq!(
            (t.year, t.month, t.day, t.minute, t.weekday),
            (2026, 12, 25, 180, 5)
        );
        let t = Instant::parse("2026-01-01T00:30:00+01:00").unwrap();
        assert_eq!(
            (t.year, t.month, t.day, t.minute, t.weekday),
            (2025, 12, 31, 1410, 3)
        );
        assert!(Instant::parse("2026-02-30T00:00:00Z").is_err());
        let r = TimeRange {
            weekdays: vec!["monday:friday".into()],
            times: vec![TimeOfDay {
                start_time: "09:00".into(),
                end_time: "17:00".into(),
            }],
            days_of_month: vec!["-7:-1".into()],
            ..Default::default()
        };
        // Friday 2026-12-25 10:00 is in the last 7 days of December, in office hours
        assert!(r
            .contains(Instant::parse("2026-12-25T10:00:00Z").unwrap())
            .unwrap());
        assert!(!r
            .contains(Instant::parse("2026-12-25T17:00:00Z").unwrap())
            .unwrap());
        assert!(!r
            .contains(Instant::parse("2026-12-18T10:00:00Z").unwrap())
            .unwrap());
        assert!(!r
            .contains(Instant::parse("2026-12-26T10:00:00Z").unwrap())
            .unwrap());
    }
}
