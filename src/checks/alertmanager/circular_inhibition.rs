//! `alertmanager/circular-inhibition`: two alerts of the rule files that can inhibit each other
//! (through one inhibit rule or two). While both fire, each mutes the other and nobody is
//! notified of either.

use std::collections::HashMap;

use crate::checks::{Check, Ctx, Finding};
use crate::model::routing::{self, AlertLabels, Inhibit, LabelMatcher, LabelValue, Tri};

pub struct CircularInhibition;

/// The alerts of a universe that one side of an inhibit rule certainly matches.
struct AlertSet(Vec<u64>);

impl AlertSet {
    fn of(universe: &[AlertLabels], matchers: &[LabelMatcher]) -> AlertSet {
        let mut bits = vec![0u64; universe.len().div_ceil(64)];
        for (i, x) in universe.iter().enumerate() {
            if x.matches(matchers) == Tri::Yes {
                bits[i / 64] |= 1 << (i % 64);
            }
        }
        AlertSet(bits)
    }

    /// The alerts in both sets (positions in the universe), in universe order.
    fn both(&self, other: &AlertSet) -> Vec<usize> {
        let mut out = Vec::new();
        for (w, (a, b)) in self.0.iter().zip(&other.0).enumerate() {
            let mut word = a & b;
            while word != 0 {
                out.push(w * 64 + word.trailing_zeros() as usize);
                word &= word - 1;
            }
        }
        out
    }
}

/// What the universe's alerts hold for the labels of the rules' `equal` lists, as numbers
/// (compared millions of times): [`UNKNOWN_MAY_BE_ABSENT`], [`UNKNOWN`], [`ABSENT`] or another
/// number per known value.
struct Values<'l> {
    columns: HashMap<&'l str, Vec<u32>>,
    alertname: Vec<u32>,
}

const UNKNOWN_MAY_BE_ABSENT: u32 = 0;
const UNKNOWN: u32 = 1;
const ABSENT: u32 = 2;

impl<'l> Values<'l> {
    fn of(universe: &[AlertLabels], labels: impl Iterator<Item = &'l String>) -> Values<'l> {
        let mut ids: HashMap<String, u32> = HashMap::from([(String::new(), ABSENT)]);
        let mut id = |v: &str| {
            let next = ids.len() as u32 + ABSENT;
            *ids.entry(v.to_string()).or_insert(next)
        };
        let mut columns: HashMap<&str, Vec<u32>> = HashMap::new();
        for l in labels {
            if columns.contains_key(l.as_str()) {
                continue;
            }
            let col = universe
                .iter()
                .map(|x| match x.value(l) {
                    LabelValue::Known(v) => id(&v),
                    LabelValue::Unknown { may_be_absent } => {
                        if may_be_absent {
                            UNKNOWN_MAY_BE_ABSENT
                        } else {
                            UNKNOWN
                        }
                    }
                })
                .collect();
            columns.insert(l, col);
        }
        let alertname = universe.iter().map(|x| id(&x.alertname)).collect();
        Values { columns, alertname }
    }
}

/// Can two values of an `equal` label agree (`routing::can_inhibit`)? Known values must be the
/// same, and a label certainly absent never meets one certainly present.
fn agree(a: u32, b: u32) -> bool {
    match (a >= ABSENT, b >= ABSENT) {
        (true, true) => a == b,
        (true, false) => !(a == ABSENT && b == UNKNOWN),
        (false, true) => !(b == ABSENT && a == UNKNOWN),
        (false, false) => true,
    }
}

/// The first pair of `xs` × `ys` (the first x that has one, with its first y) whose values agree
/// in every column and that `accept` takes. After the first x, the ys are indexed by the first
/// column, so an x with a known value meets only the ys with the same value or an unknown one.
fn first_pair(
    xs: &[usize],
    ys: &[usize],
    cols: &[&[u32]],
    accept: impl Fn(usize, usize) -> bool,
) -> Option<(usize, usize)> {
    let ok = |x: usize, y: usize| cols.iter().all(|c| agree(c[x], c[y])) && accept(x, y);
    let (&first, rest) = xs.split_first()?;
    if let Some(&y) = ys.iter().find(|&&y| ok(first, y)) {
        return Some((first, y));
    }
    let Some(col) = cols.first() else {
        return rest
            .iter()
            .find_map(|&x| ys.iter().find(|&&y| ok(x, y)).map(|&y| (x, y)));
    };
    let mut known: HashMap<u32, Vec<usize>> = HashMap::new();
    let mut unknown: Vec<usize> = Vec::new();
    for &y in ys {
        if col[y] >= ABSENT {
            known.entry(col[y]).or_default().push(y);
        } else {
            unknown.push(y);
        }
    }
    for &x in rest {
        if col[x] < ABSENT {
            if let Some(&y) = ys.iter().find(|&&y| ok(x, y)) {
                return Some((x, y));
            }
            continue;
        }
        // both ascending: merge them to keep the order of ys
        let same = known.get(&col[x]).map(Vec::as_slice).unwrap_or(&[]);
        let (mut i, mut j) = (0, 0);
        while i < same.len() || j < unknown.len() {
            let y = if j >= unknown.len() || (i < same.len() && same[i] < unknown[j]) {
                i += 1;
                same[i - 1]
            } else {
                j += 1;
                unknown[j - 1]
            };
            if ok(x, y) {
                return Some((x, y));
            }
        }
    }
    None
}

impl Check for CircularInhibition {
    fn id(&self) -> &'static str {
        "alertmanager/circular-inhibition"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let pairings = super::pairings(cx);
        let mut out = Vec::new();
        for am in cx.project.alertmanager_configs() {
            let pairing = &pairings[am.index];
            if !pairing.certain {
                continue;
            }
            let Some(universe) = super::served(cx, pairing) else {
                continue;
            };
            let rules: Vec<(usize, Inhibit)> = am
                .config
                .inhibit_rules
                .iter()
                .map(routing::inhibit_of)
                .enumerate()
                .collect();
            // the alerts each side of each rule certainly matches (a Maybe on both sides is too
            // weak), as bit sets over the universe: a pair of rules intersects them instead of
            // matching every alert again (1,000 rules over 1,000 alerts took tens of seconds)
            let values = Values::of(&universe, rules.iter().flat_map(|(_, r)| &r.equal));
            let sides: Vec<[AlertSet; 2]> = rules
                .iter()
                .map(|(_, r)| [&r.source, &r.target].map(|m| AlertSet::of(&universe, m)))
                .collect();
            for (ia, a) in &rules {
                for (ib, b) in rules.iter().filter(|(ib, _)| ib >= ia) {
                    let xs = sides[*ia][0].both(&sides[*ib][1]);
                    if xs.is_empty() {
                        continue;
                    }
                    let ys = sides[*ia][1].both(&sides[*ib][0]);
                    // the sides certainly match (above), so the two alerts mute each other when
                    // the `equal` labels of both rules can agree (`equal` compares the same way
                    // in both directions)
                    let cols: Vec<&[u32]> = a
                        .equal
                        .iter()
                        .chain(&b.equal)
                        .map(|l| values.columns[l.as_str()].as_slice())
                        .collect();
                    let cycle = first_pair(&xs, &ys, &cols, |x, y| {
                        values.alertname[x] != values.alertname[y]
                    })
                    .map(|(x, y)| (&universe[x], &universe[y]));
                    let Some((x, y)) = cycle else { continue };
                    let ra = &am.config.inhibit_rules[*ia];
                    let rb = &am.config.inhibit_rules[*ib];
                    let mut f = Finding::new(
                        self.id(),
                        am.file,
                        rb.head.clone(),
                        format!(
                            "alerts `{}` and `{}` can inhibit each other{}: while both fire, neither is notified",
                            x.alertname,
                            y.alertname,
                            if ia == ib { " through this one rule" } else { " through this rule and an earlier one" }
                        ),
                    )
                    .label("mutual inhibition")
                    .help("make the source and target matchers exclusive (e.g. `severity=\"critical\"` mutes `severity=\"warning\"`, never the other way round)");
                    if ia != ib {
                        f = f.also(am.file, ra.head.clone(), "the other half of the cycle");
                    }
                    out.push(f);
                }
            }
        }
        out
    }
}
