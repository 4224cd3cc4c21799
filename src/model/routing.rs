//! Alertmanager routing and inhibition semantics over the *alert universe*: every alert the rule
//! files can produce, with what is known about its labels.
//!
//! Routing follows Alertmanager's `Route.Match` exactly for concrete label sets
//! ([`route_concrete`]). For the universe, label values may be unknown (a label produced by the
//! expression, or a templated static label), so matching is three-valued ([`Tri`]): `Yes` (holds
//! for every series of the alert), `No` (holds for none), `Maybe` (depends on the series). Findings
//! built on this are sound: a route is called unreachable only when it is `No` for every alert.

use std::collections::{BTreeMap, HashMap};

use crate::source::{FileId, Span};

/// Three-valued truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tri {
    No,
    Maybe,
    Yes,
}

impl Tri {
    pub fn and(self, o: Tri) -> Tri {
        self.min(o)
    }
    pub fn or(self, o: Tri) -> Tri {
        self.max(o)
    }
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Tri {
        match self {
            Tri::No => Tri::Yes,
            Tri::Maybe => Tri::Maybe,
            Tri::Yes => Tri::No,
        }
    }
    pub fn from_bool(b: bool) -> Tri {
        if b {
            Tri::Yes
        } else {
            Tri::No
        }
    }
    pub fn possible(self) -> bool {
        self != Tri::No
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    Eq,
    Ne,
    Re,
    NotRe,
}

impl MatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Eq => "=",
            MatchOp::Ne => "!=",
            MatchOp::Re => "=~",
            MatchOp::NotRe => "!~",
        }
    }
}

/// A label matcher as Alertmanager evaluates it: a missing label has the value `""`; regexes are
/// anchored at both ends.
#[derive(Debug, Clone)]
pub struct LabelMatcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
    /// The anchored regex for `=~`/`!~`.
    pub re: Option<regex::Regex>,
}

impl LabelMatcher {
    pub fn new(name: &str, op: MatchOp, value: &str) -> Result<LabelMatcher, String> {
        let re = match op {
            MatchOp::Re | MatchOp::NotRe => Some(crate::parse::am_matcher::anchored(value)?),
            _ => None,
        };
        Ok(LabelMatcher {
            name: name.to_string(),
            op,
            value: value.to_string(),
            re,
        })
    }

    /// Like [`LabelMatcher::new`], but an invalid regex (reported by `alertmanager/syntax`) gives
    /// a matcher whose regex matches nothing.
    pub fn lenient(name: &str, op: MatchOp, value: &str) -> LabelMatcher {
        LabelMatcher::new(name, op, value).unwrap_or_else(|_| LabelMatcher {
            name: name.to_string(),
            op,
            value: value.to_string(),
            re: None,
        })
    }

    /// Does the matcher accept this concrete value (`""` for a missing label)?
    pub fn matches_value(&self, v: &str) -> bool {
        match self.op {
            MatchOp::Eq => v == self.value,
            MatchOp::Ne => v != self.value,
            MatchOp::Re => self.re.as_ref().is_some_and(|r| r.is_match(v)),
            MatchOp::NotRe => !self.re.as_ref().is_some_and(|r| r.is_match(v)),
        }
    }

    /// Three-valued evaluation against what is known of an alert's label.
    pub fn eval(&self, value: &LabelValue) -> Tri {
        self.eval_ref(match value {
            LabelValue::Known(v) => ValueRef::Known(v),
            LabelValue::Unknown { may_be_absent } => ValueRef::Unknown {
                may_be_absent: *may_be_absent,
            },
        })
    }

    fn eval_ref(&self, value: ValueRef<'_>) -> Tri {
        match value {
            ValueRef::Known(v) => Tri::from_bool(self.matches_value(v)),
            ValueRef::Unknown { may_be_absent } => {
                // a present label has some non-empty value we do not know
                let on_absent = self.matches_value("");
                let on_some = match self.op {
                    MatchOp::Eq => {
                        if self.value.is_empty() {
                            Tri::No
                        } else {
                            Tri::Maybe
                        }
                    }
                    MatchOp::Ne => {
                        if self.value.is_empty() {
                            Tri::Yes
                        } else {
                            Tri::Maybe
                        }
                    }
                    MatchOp::Re | MatchOp::NotRe => {
                        // `.*`/`.+`-style regexes accept every non-empty value
                        let all = matches!(self.value.as_str(), ".*" | ".+")
                            && self
                                .re
                                .as_ref()
                                .is_some_and(|r| r.is_match("x") && r.is_match("some-value_1"));
                        match (self.op, all) {
                            (MatchOp::Re, true) => Tri::Yes,
                            (MatchOp::NotRe, true) => Tri::No,
                            _ => Tri::Maybe,
                        }
                    }
                };
                if may_be_absent {
                    if on_some == Tri::from_bool(on_absent) {
                        on_some
                    } else {
                        Tri::Maybe
                    }
                } else {
                    on_some
                }
            }
        }
    }
}

impl std::fmt::Display for LabelMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}{:?}", self.name, self.op.as_str(), self.value)
    }
}

/// What is known about one label of an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelValue {
    /// The value is fixed (a static label, `alertname`); `""` means the label is absent.
    Known(String),
    /// Present with a value that depends on the series (or templated), possibly absent.
    Unknown { may_be_absent: bool },
}

/// A [`LabelValue`] borrowed from an alert.
#[derive(Clone, Copy)]
enum ValueRef<'a> {
    Known(&'a str),
    Unknown { may_be_absent: bool },
}

/// One alert of the universe.
#[derive(Debug, Clone)]
pub struct AlertLabels {
    pub alertname: String,
    /// Sorted by name (a slice, not a map: a large rule set has tens of thousands of alerts with
    /// a few labels each, and a map node alone is over 500 bytes).
    pub labels: Box<[(String, LabelValue)]>,
    /// The alert may carry labels not named in `labels` (its expression keeps series labels).
    pub open: bool,
    /// Where the alert is defined.
    pub origin: Option<(FileId, Span)>,
}

impl AlertLabels {
    /// What is written of a label (`None`: not named by the rule or its expression).
    fn label(&self, name: &str) -> Option<&LabelValue> {
        self.labels
            .binary_search_by(|(k, _)| k.as_str().cmp(name))
            .ok()
            .map(|i| &self.labels[i].1)
    }

    pub fn value(&self, name: &str) -> LabelValue {
        if name == "alertname" {
            return LabelValue::Known(self.alertname.clone());
        }
        match self.label(name) {
            Some(v) => v.clone(),
            None if self.open => LabelValue::Unknown {
                may_be_absent: true,
            },
            None => LabelValue::Known(String::new()),
        }
    }

    /// Labels this alert carries by name (certainly or possibly), not counting unnamed open ones.
    pub fn named_labels(&self) -> impl Iterator<Item = &str> {
        std::iter::once("alertname").chain(
            self.labels
                .iter()
                .filter(|(_, v)| !matches!(v, LabelValue::Known(s) if s.is_empty()))
                .map(|(k, _)| k.as_str()),
        )
    }

    fn value_ref(&self, name: &str) -> ValueRef<'_> {
        if name == "alertname" {
            return ValueRef::Known(&self.alertname);
        }
        match self.label(name) {
            Some(LabelValue::Known(v)) => ValueRef::Known(v),
            Some(LabelValue::Unknown { may_be_absent }) => ValueRef::Unknown {
                may_be_absent: *may_be_absent,
            },
            None if self.open => ValueRef::Unknown {
                may_be_absent: true,
            },
            None => ValueRef::Known(""),
        }
    }

    pub fn matches(&self, matchers: &[LabelMatcher]) -> Tri {
        let mut acc = Tri::Yes;
        for m in matchers {
            acc = acc.and(m.eval_ref(self.value_ref(&m.name)));
            if acc == Tri::No {
                break;
            }
        }
        acc
    }
}

/// A route of the routing tree, with settings as written (not inherited).
#[derive(Debug, Clone, Default)]
pub struct RouteNode {
    pub matchers: Vec<LabelMatcher>,
    pub continue_: bool,
    pub receiver: Option<String>,
    pub group_by: Option<Vec<String>>,
    /// `group_wait`, `group_interval`, `repeat_interval` as written.
    pub timings: [Option<crate::parse::scalar::PromDuration>; 3],
    pub children: Vec<RouteNode>,
    /// Where the route is written (for findings).
    pub loc: Option<(FileId, Span)>,
    /// Routes in this subtree, this one included (set by [`tree_of`]).
    pub size: usize,
    /// `mute_time_intervals` and `active_time_intervals` by name (not inherited: Alertmanager
    /// sets them on each route from its own config).
    pub mute: Vec<String>,
    pub active: Vec<String>,
}

impl RouteNode {
    /// Every node in pre-order (the index in the result is the route's index everywhere else).
    pub fn preorder(&self) -> Vec<&RouteNode> {
        let mut out = vec![self];
        for c in &self.children {
            out.extend(c.preorder());
        }
        out
    }
}

/// Routes shadowed by their structure alone, whatever the alerts: `(route, sibling)` where an
/// earlier sibling without `continue: true` matches every alert the route matches (its
/// matchers are implied by the route's: the same matchers, fewer of them, `x="a"` under
/// `x=~"a|b"`...), in pre-order indexes. Alertmanager walks siblings in order and stops at the
/// first match, so the route never receives an alert.
pub fn structural_shadows(root: &RouteNode) -> Vec<(usize, usize)> {
    fn walk(node: &RouteNode, index: usize, out: &mut Vec<(usize, usize)>) {
        let mut starts = Vec::with_capacity(node.children.len());
        let mut at = index + 1;
        for c in &node.children {
            starts.push(at);
            at += count(c);
        }
        for (j, child) in node.children.iter().enumerate() {
            if let Some(i) = (0..j).find(|&i| {
                let earlier = &node.children[i];
                !earlier.continue_ && implies_all(&child.matchers, &earlier.matchers)
            }) {
                out.push((starts[j], starts[i]));
            }
            walk(child, starts[j], out);
        }
    }
    let mut out = Vec::new();
    walk(root, 0, &mut out);
    out
}

/// Does every alert matching all of `these` match all of `those`?
fn implies_all(these: &[LabelMatcher], those: &[LabelMatcher]) -> bool {
    those
        .iter()
        .all(|b| trivially_true(b) || these.iter().any(|a| implies(a, b)))
}

/// A matcher every label value satisfies (`x=~".*"`).
fn trivially_true(m: &LabelMatcher) -> bool {
    m.op == MatchOp::Re && m.value == ".*"
}

/// Does `a` matching a label value imply `b` matching it (same label)?
fn implies(a: &LabelMatcher, b: &LabelMatcher) -> bool {
    if a.name != b.name {
        return false;
    }
    match a.op {
        // one value: decide by evaluating `b` on it
        MatchOp::Eq => b.matches_value(&a.value),
        MatchOp::Ne => b.op == MatchOp::Ne && b.value == a.value,
        MatchOp::Re => b.op == MatchOp::Re && b.value == a.value,
        MatchOp::NotRe => {
            (b.op == MatchOp::NotRe && b.value == a.value)
                // `x!~"a|b"` excludes `a`, so it implies `x!="a"`
                || (b.op == MatchOp::Ne && !a.matches_value(&b.value))
        }
    }
}

/// Alertmanager's routing for a concrete label set: the (pre-order) indexes of the routes that
/// receive the alert. The root always matches (as in Alertmanager).
pub fn route_concrete(root: &RouteNode, labels: &BTreeMap<String, String>) -> Vec<usize> {
    fn walk(
        node: &RouteNode,
        labels: &BTreeMap<String, String>,
        idx: &mut usize,
        root: bool,
        out: &mut Vec<usize>,
    ) -> bool {
        let me = *idx;
        *idx += 1;
        let ok = root
            || node
                .matchers
                .iter()
                .all(|m| m.matches_value(labels.get(&m.name).map(String::as_str).unwrap_or("")));
        if !ok {
            *idx += count(node) - 1;
            return false;
        }
        let before = out.len();
        let mut stopped = false;
        for c in &node.children {
            if stopped {
                *idx += count(c);
                continue;
            }
            let matched = walk(c, labels, idx, false, out);
            if matched && !c.continue_ {
                stopped = true;
            }
        }
        if out.len() == before {
            out.push(me);
        }
        true
    }
    let mut out = Vec::new();
    let mut idx = 0;
    walk(root, labels, &mut idx, true, &mut out);
    out
}

fn count(n: &RouteNode) -> usize {
    if n.size > 0 {
        return n.size;
    }
    1 + n.children.iter().map(count).sum::<usize>()
}

/// A root with `first` routes put before its own children (as prometheus-operator puts the top
/// routes of `AlertmanagerConfig` resources), sizes recomputed.
pub fn graft(mut root: RouteNode, first: Vec<RouteNode>) -> RouteNode {
    if !first.is_empty() {
        let own = std::mem::take(&mut root.children);
        root.children = first;
        root.children.extend(own);
        set_sizes(&mut root);
    }
    root
}

/// Remove the `namespace="<ns>"` matcher that the conversion of an `AlertmanagerConfig` appends
/// (the last one), for a matcher strategy that does not add it.
pub fn drop_namespace_matcher(matchers: &mut Vec<LabelMatcher>, ns: &str) {
    if matchers
        .last()
        .is_some_and(|m| m.name == "namespace" && m.op == MatchOp::Eq && m.value == ns)
    {
        matchers.pop();
    }
}

impl RouteNode {
    /// The node with the sizes of its subtree recomputed.
    pub fn resized(mut self) -> RouteNode {
        set_sizes(&mut self);
        self
    }
}

fn set_sizes(n: &mut RouteNode) -> usize {
    n.size = 1 + n.children.iter_mut().map(set_sizes).sum::<usize>();
    n.size
}

/// Three-valued routing of one alert: for every route (pre-order index), whether the alert reaches
/// it, whether it ends there (is notified by that route), and whether it would reach it were it not
/// for earlier siblings. Sparse: only routes where one of the three is possible are stored (an
/// alert reaches few routes of a large tree), in pre-order.
#[derive(Debug, Clone, PartialEq)]
pub struct Reach {
    len: usize,
    /// (route, [reached, terminal, unshadowed]), sorted by route.
    entries: Vec<(u32, [Tri; 3])>,
}

impl Reach {
    fn get(&self, route: usize, which: usize) -> Tri {
        match self.entries.binary_search_by_key(&route, |e| e.0 as usize) {
            Ok(i) => self.entries[i].1[which],
            Err(_) => Tri::No,
        }
    }

    /// Routes of the tree.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn reached(&self, route: usize) -> Tri {
        self.get(route, 0)
    }

    pub fn terminal(&self, route: usize) -> Tri {
        self.get(route, 1)
    }

    pub fn unshadowed(&self, route: usize) -> Tri {
        self.get(route, 2)
    }

    /// Routes the alert reaches (possibly), in pre-order, with how certainly.
    pub fn reached_routes(&self) -> impl Iterator<Item = (usize, Tri)> + '_ {
        self.column(0)
    }

    /// Routes that (possibly) notify the alert, in pre-order.
    pub fn terminal_routes(&self) -> impl Iterator<Item = (usize, Tri)> + '_ {
        self.column(1)
    }

    fn column(&self, which: usize) -> impl Iterator<Item = (usize, Tri)> + '_ {
        self.entries
            .iter()
            .filter(move |e| e.1[which].possible())
            .map(move |e| (e.0 as usize, e.1[which]))
    }
}

pub fn reach(root: &RouteNode, alert: &AlertLabels) -> Reach {
    let mut r = Reach {
        len: count(root),
        entries: Vec::new(),
    };
    /// Records the node (`reached`, `unshadowed` as computed by its parent; `terminal` once its
    /// children are known) and walks its children. Subtrees the alert cannot reach are skipped:
    /// all three are `No` there.
    fn walk(
        node: &RouteNode,
        alert: &AlertLabels,
        idx: &mut usize,
        reached: Tri,
        unshadowed: Tri,
        r: &mut Reach,
    ) {
        let me = *idx;
        *idx += 1;
        let slot = r.entries.len();
        r.entries.push((me as u32, [reached, Tri::No, unshadowed]));
        if reached == Tri::No {
            // nothing below is reached; only this node's `unshadowed` may be possible
            *idx += count(node) - 1;
            if unshadowed == Tri::No {
                r.entries.pop();
            }
            return;
        }
        let mut blocked = Tri::No;
        let mut any_child = Tri::No;
        for c in &node.children {
            let c_own = alert.matches(&c.matchers);
            let c_in = reached.and(blocked.not());
            let c_reached = c_in.and(c_own);
            walk(c, alert, idx, c_reached, reached.and(c_own), r);
            any_child = any_child.or(c_reached);
            if !c.continue_ {
                blocked = blocked.or(c_own);
            }
        }
        r.entries[slot].1[1] = reached.and(any_child.not());
    }
    let mut idx = 0;
    walk(root, alert, &mut idx, Tri::Yes, Tri::No, &mut r);
    r
}

/// Settings in effect at each route (pre-order), with Alertmanager's inheritance.
#[derive(Debug, Clone, PartialEq)]
pub struct Effective {
    pub receiver: Option<String>,
    pub group_by: Option<Vec<String>>,
    /// `group_wait`, `group_interval`, `repeat_interval` in effect (Alertmanager's defaults 30s,
    /// 5m, 4h at the root).
    pub timings: [crate::parse::scalar::PromDuration; 3],
}

pub fn effective(root: &RouteNode) -> Vec<Effective> {
    fn walk(n: &RouteNode, parent: &Effective, out: &mut Vec<Effective>) {
        let e = Effective {
            receiver: n.receiver.clone().or_else(|| parent.receiver.clone()),
            group_by: n.group_by.clone().or_else(|| parent.group_by.clone()),
            timings: [0, 1, 2].map(|i| n.timings[i].unwrap_or(parent.timings[i])),
        };
        out.push(e.clone());
        for c in &n.children {
            walk(c, &e, out);
        }
    }
    let mut out = Vec::new();
    walk(
        root,
        &Effective {
            receiver: None,
            group_by: None,
            timings: [
                crate::parse::scalar::PromDuration(30_000),
                crate::parse::scalar::PromDuration(300_000),
                crate::parse::scalar::PromDuration(4 * 3_600_000),
            ],
        },
        &mut out,
    );
    out
}

/// An inhibit rule: alerts matching `target` are muted while an alert matching `source` fires with
/// the same values of the `equal` labels. An alert never inhibits itself.
#[derive(Debug, Clone)]
pub struct Inhibit {
    pub source: Vec<LabelMatcher>,
    pub target: Vec<LabelMatcher>,
    pub equal: Vec<String>,
}

/// Could `equal` labels agree between a source alert and a target alert?
fn equal_possible(a: &AlertLabels, b: &AlertLabels, equal: &[String]) -> Tri {
    equal.iter().fold(Tri::Yes, |acc, l| {
        let t = match (a.value_ref(l), b.value_ref(l)) {
            (ValueRef::Known(x), ValueRef::Known(y)) => Tri::from_bool(x == y),
            (ValueRef::Known(x), ValueRef::Unknown { may_be_absent })
            | (ValueRef::Unknown { may_be_absent }, ValueRef::Known(x)) => {
                if x.is_empty() && !may_be_absent {
                    Tri::No
                } else {
                    Tri::Maybe
                }
            }
            _ => Tri::Maybe,
        };
        acc.and(t)
    })
}

/// Can `source` mute `target` through `rule`? `same_rule`: both are the same alerting rule, so
/// only different series of it could (an alert never inhibits itself).
pub fn can_inhibit(
    rule: &Inhibit,
    source: &AlertLabels,
    target: &AlertLabels,
    same_rule: bool,
) -> Tri {
    let tri = source
        .matches(&rule.source)
        .and(target.matches(&rule.target))
        .and(equal_possible(source, target, &rule.equal));
    if same_rule {
        tri.and(Tri::Maybe)
    } else {
        tri
    }
}

/// The best (most certain) pair of alerts for which the inhibit rule can act, if any (the first
/// such pair in universe order).
pub fn inhibition_witness<'a>(
    rule: &Inhibit,
    alerts: &'a [AlertLabels],
) -> Option<(Tri, &'a AlertLabels, &'a AlertLabels)> {
    let side = |matchers: &[LabelMatcher]| -> Vec<(&'a AlertLabels, Tri)> {
        alerts
            .iter()
            .map(|a| (a, a.matches(matchers)))
            .filter(|(_, t)| t.possible())
            .collect()
    };
    let sources = side(&rule.source);
    let targets = side(&rule.target);
    if sources.is_empty() || targets.is_empty() {
        return None;
    }
    // A certain pair: both sides certainly matched, every `equal` label known and the same on
    // both, two different alerts. Targets are indexed by their `equal` values, so a source meets
    // only its own; the first such pair is the first such source with its first such target.
    // (Trying every pair, as a rule whose `equal` names a series label has no certain pair at
    // all, took 1,000 inhibit rules over 1,000 alerts tens of seconds.)
    let known = |a: &'a AlertLabels| -> Option<Vec<&'a str>> {
        rule.equal
            .iter()
            .map(|l| match a.value_ref(l) {
                ValueRef::Known(v) => Some(v),
                ValueRef::Unknown { .. } => None,
            })
            .collect()
    };
    let mut certain: HashMap<Vec<&str>, Vec<&AlertLabels>> = HashMap::new();
    for &(t, m) in &targets {
        if m == Tri::Yes {
            if let Some(k) = known(t) {
                certain.entry(k).or_default().push(t);
            }
        }
    }
    if !certain.is_empty() {
        for &(s, m) in &sources {
            if m != Tri::Yes {
                continue;
            }
            let Some(k) = known(s) else { continue };
            let first = certain
                .get(&k)
                .and_then(|ts| ts.iter().find(|t| !std::ptr::eq(**t, s)));
            if let Some(t) = first {
                return Some((Tri::Yes, s, t));
            }
        }
    }
    // Otherwise the first possible pair: the first source with a target whose `equal` values
    // can agree, and the first such target.
    let sources: Vec<&AlertLabels> = sources.iter().map(|(s, _)| *s).collect();
    let targets = targets.iter().map(|(t, _)| *t).collect();
    let (s, t) = first_agreeing(&rule.equal, &sources, targets, |_, _| true)?;
    let tri = can_inhibit(rule, s, t, std::ptr::eq(s, t));
    tri.possible().then_some((tri, s, t))
}

/// The first pair of `sources` × `targets` (the first source that has one, with its first
/// target) whose values of every `equal` label can agree and that `accept` takes. Targets are
/// indexed by their `equal` values, so a source with a known value meets only the targets with
/// the same value or an unknown one.
pub fn first_agreeing<'a>(
    equal: &[String],
    sources: &[&'a AlertLabels],
    targets: Vec<&'a AlertLabels>,
    accept: impl Fn(&AlertLabels, &AlertLabels) -> bool,
) -> Option<(&'a AlertLabels, &'a AlertLabels)> {
    // the first source tries every target: most often it has one, and indexing costs more
    let (&first, rest) = sources.split_first()?;
    let agree = |s: &AlertLabels, t: &AlertLabels| equal_possible(s, t, equal).possible();
    if let Some(t) = targets.iter().find(|t| agree(first, t) && accept(first, t)) {
        return Some((first, t));
    }
    let index = EqualIndex::new(equal, targets);
    rest.iter()
        .find_map(|&s| Some((s, index.first_possible(s, |t| accept(s, t))?)))
}

/// Targets indexed by each `equal` label's value, to find the first target whose `equal` values
/// can agree with a source's without trying every target: through the label that leaves the
/// fewest candidates (a known value meets the same value and unknown ones).
struct EqualIndex<'r, 'a> {
    equal: &'r [String],
    targets: Vec<&'a AlertLabels>,
    labels: Vec<LabelIndex<'a>>,
}

#[derive(Default)]
struct LabelIndex<'a> {
    /// Positions of the targets with a known value (`""`: certainly absent), ascending.
    known: HashMap<&'a str, Vec<u32>>,
    /// Positions of the targets whose value is unknown, ascending: all, and those that may be
    /// absent.
    unknown: Vec<u32>,
    unknown_may_be_absent: Vec<u32>,
}

impl<'r, 'a> EqualIndex<'r, 'a> {
    fn new(equal: &'r [String], targets: Vec<&'a AlertLabels>) -> Self {
        let labels = equal
            .iter()
            .map(|l| {
                let mut ix = LabelIndex::default();
                for (i, t) in targets.iter().enumerate() {
                    let i = i as u32;
                    match t.value_ref(l) {
                        ValueRef::Known(v) => ix.known.entry(v).or_default().push(i),
                        ValueRef::Unknown { may_be_absent } => {
                            ix.unknown.push(i);
                            if may_be_absent {
                                ix.unknown_may_be_absent.push(i);
                            }
                        }
                    }
                }
                ix
            })
            .collect();
        EqualIndex {
            equal,
            targets,
            labels,
        }
    }

    /// The first target whose `equal` values can agree with the source's and that `accept`
    /// takes.
    fn first_possible(
        &self,
        s: &AlertLabels,
        accept: impl Fn(&AlertLabels) -> bool,
    ) -> Option<&'a AlertLabels> {
        let ok = |t: &&'a AlertLabels| equal_possible(s, t, self.equal).possible() && accept(t);
        // the candidates one label leaves (two ascending lists), the fewest of all labels; a
        // source's unknown value leaves (nearly) every target
        let mut best: Option<(&[u32], &[u32])> = None;
        for (l, ix) in self.equal.iter().zip(&self.labels) {
            let ValueRef::Known(v) = s.value_ref(l) else {
                continue;
            };
            let known = ix.known.get(v).map(Vec::as_slice).unwrap_or(&[]);
            let unknown = if v.is_empty() {
                &ix.unknown_may_be_absent
            } else {
                &ix.unknown
            };
            if best.is_none_or(|(a, b)| known.len() + unknown.len() < a.len() + b.len()) {
                best = Some((known, unknown));
            }
        }
        let Some((known, unknown)) = best else {
            return self.targets.iter().copied().find(ok);
        };
        // both ascending: merge them to keep target order
        let (mut a, mut b) = (0, 0);
        while a < known.len() || b < unknown.len() {
            let i = if b >= unknown.len() || (a < known.len() && known[a] < unknown[b]) {
                a += 1;
                known[a - 1]
            } else {
                b += 1;
                unknown[b - 1]
            };
            let t = self.targets[i as usize];
            if ok(&t) {
                return Some(t);
            }
        }
        None
    }
}

/// Every alert the project's rule files can produce, with what is known of its labels: static
/// labels have known values (templated ones are unknown and may render empty, which drops them);
/// labels the expression can produce (label inference) are present with unknown values.
pub fn universe(project: &crate::model::Project) -> &[AlertLabels] {
    project.rule_alerts()
}

/// The universe plus alerts declared in `.obsgate.yml` (`alertmanager.extra_alerts`) that reach
/// Alertmanager from elsewhere; their labels are known exactly. Borrowed from the project's
/// cache when there are none: the checks that route alerts run side by side, and their copies
/// of a 40,000-rule set's alerts came to about 90 MB.
pub fn universe_with<'a>(
    project: &'a crate::model::Project,
    extra: &[crate::config::ExtraAlert],
) -> std::borrow::Cow<'a, [AlertLabels]> {
    if extra.is_empty() {
        return std::borrow::Cow::Borrowed(project.rule_alerts());
    }
    let mut out = project.rule_alerts().to_vec();
    out.extend(extra.iter().map(|e| {
        AlertLabels {
            alertname: e.alertname.clone(),
            labels: e
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), LabelValue::Known(v.clone())))
                .collect::<BTreeMap<_, _>>()
                .into_iter()
                .collect(),
            open: false,
            origin: None,
        }
    }));
    std::borrow::Cow::Owned(out)
}

/// The alerts of the rule files with their labels, in order. Files are done in parallel: each
/// alert's expression is parsed again (the model keeps only its text) for its labels.
pub(crate) fn rule_alerts(project: &crate::model::Project) -> Vec<AlertLabels> {
    use rayon::prelude::*;
    project
        .files
        .par_iter()
        .flat_map_iter(file_alerts)
        .collect()
}

/// The alerts of one file with their labels, in order.
pub(crate) fn file_alerts(f: &crate::model::FileModel) -> Vec<AlertLabels> {
    crate::model::rules_of(std::slice::from_ref(f))
        .filter(|r| r.rule.kind == crate::parse::prom_rules::RuleKind::Alert)
        .filter_map(alert_labels)
        .collect()
}

/// An alert with what is known of its labels (`None` for an alert without a name).
fn alert_labels(r: crate::model::RuleRef) -> Option<AlertLabels> {
    use crate::parse::promql::{output_labels, Presence};
    let rule = r.rule;
    if rule.name.value.is_empty() {
        return None;
    }
    let mut labels = BTreeMap::new();
    let mut open = true;
    if let Some(Ok(parsed)) = rule.expr.as_ref().map(|e| &e.parsed) {
        let info = output_labels(parsed.materialized().expr(), &|_| None);
        open = info.open && !info.empty;
        for name in &info.known {
            let may_be_absent = !matches!(info.presence(name), Presence::Yes);
            labels.insert(name.clone(), LabelValue::Unknown { may_be_absent });
        }
        for name in &info.removed {
            labels.insert(name.clone(), LabelValue::Known(String::new()));
        }
    }
    labels.remove("__name__");
    for p in &rule.labels {
        let v = if p.templated {
            LabelValue::Unknown {
                may_be_absent: true,
            }
        } else {
            LabelValue::Known(p.value.value.to_string())
        };
        labels.insert(p.key.value.to_string(), v);
    }
    labels.remove("alertname");
    Some(AlertLabels {
        alertname: rule.name.value.to_string(),
        labels: labels.into_iter().collect(),
        open,
        origin: Some((r.file, rule.anchor())),
    })
}

/// The routing tree of an Alertmanager config, with matchers (new syntax and legacy `match`/
/// `match_re`) compiled; invalid regexes make a matcher that matches nothing.
pub fn tree_of(file: FileId, route: &crate::parse::alertmanager::Route) -> RouteNode {
    let mut root = tree_node(file, route);
    set_sizes(&mut root);
    root
}

fn tree_node(file: FileId, route: &crate::parse::alertmanager::Route) -> RouteNode {
    let matchers = route
        .all_matchers()
        .iter()
        .map(|m| convert(&m.matcher))
        .collect();
    RouteNode {
        matchers,
        continue_: route.continue_.as_ref().is_some_and(|(c, _)| *c),
        receiver: route.receiver.as_ref().map(|r| r.value.to_string()),
        group_by: route
            .group_by
            .as_ref()
            .map(|g| g.iter().map(|s| s.value.to_string()).collect()),
        timings: [
            &route.group_wait,
            &route.group_interval,
            &route.repeat_interval,
        ]
        .map(|d| d.as_ref().and_then(|d| d.value)),
        children: route.routes.iter().map(|c| tree_node(file, c)).collect(),
        loc: Some((file, route.head.clone())),
        size: 0,
        mute: route
            .mute_time_intervals
            .iter()
            .map(|s| s.value.to_string())
            .collect(),
        active: route
            .active_time_intervals
            .iter()
            .map(|s| s.value.to_string())
            .collect(),
    }
}

/// Pre-order index of each node's parent (the root is its own parent).
pub fn parents(root: &RouteNode) -> Vec<usize> {
    fn walk(n: &RouteNode, parent: usize, out: &mut Vec<usize>) {
        let me = out.len();
        out.push(parent);
        for c in &n.children {
            walk(c, me, out);
        }
    }
    let mut out = Vec::new();
    walk(root, 0, &mut out);
    out
}

/// The earlier sibling (without `continue`) of route `target` that certainly catches `alert`.
pub fn earlier_catcher(root: &RouteNode, target: usize, alert: &AlertLabels) -> Option<usize> {
    fn walk(
        n: &RouteNode,
        idx: &mut usize,
        target: usize,
        alert: &AlertLabels,
    ) -> Option<Option<usize>> {
        *idx += 1;
        let mut caught: Option<usize> = None;
        for c in &n.children {
            let ci = *idx;
            if ci == target {
                return Some(caught);
            }
            if let Some(found) = walk(c, idx, target, alert) {
                return Some(found);
            }
            if caught.is_none() && !c.continue_ && alert.matches(&c.matchers) == Tri::Yes {
                caught = Some(ci);
            }
        }
        None
    }
    let mut idx = 0;
    walk(root, &mut idx, target, alert).flatten()
}

fn convert(m: &crate::parse::am_matcher::Matcher) -> LabelMatcher {
    use crate::parse::am_matcher::MatchOp as AmOp;
    let op = match m.op {
        AmOp::Equal => MatchOp::Eq,
        AmOp::NotEqual => MatchOp::Ne,
        AmOp::Regex => MatchOp::Re,
        AmOp::NotRegex => MatchOp::NotRe,
    };
    LabelMatcher::lenient(&m.name, op, &m.value)
}

/// An inhibit rule of an Alertmanager config, with `*_matchers` and legacy `*_match(_re)` merged.
pub fn inhibit_of(rule: &crate::parse::alertmanager::InhibitRule) -> Inhibit {
    let side =
        |matchers: &[crate::parse::alertmanager::SMatcher], prefix: &str| -> Vec<LabelMatcher> {
            let mut out: Vec<LabelMatcher> = matchers.iter().map(|m| convert(&m.matcher)).collect();
            for l in rule.legacy.iter().filter(|l| l.field.starts_with(prefix)) {
                for (k, v) in &l.entries {
                    let op = if l.regex { MatchOp::Re } else { MatchOp::Eq };
                    out.push(LabelMatcher::lenient(&k.value, op, &v.value));
                }
            }
            out
        };
    Inhibit {
        source: side(&rule.source_matchers, "source_"),
        target: side(&rule.target_matchers, "target_"),
        equal: rule.equal.iter().map(|e| e.value.to_string()).collect(),
    }
}

/// A label of `equal` that the source and target matchers pin to different values: the rule can
/// never mute anything, whatever the alerts.
pub fn structurally_dead(rule: &Inhibit) -> Option<String> {
    rule.equal.iter().find_map(|l| {
        let pinned = |ms: &[LabelMatcher]| -> Vec<String> {
            ms.iter()
                .filter(|m| m.name == *l && m.op == MatchOp::Eq)
                .map(|m| m.value.clone())
                .collect()
        };
        let (s, t) = (pinned(&rule.source), pinned(&rule.target));
        let contradiction = s.iter().any(|a| {
            // every target matcher on the label rejects the source's value
            !t.is_empty() && !t.contains(a)
                || rule
                    .target
                    .iter()
                    .any(|m| m.name == *l && m.op != MatchOp::Eq && !m.matches_value(a))
        }) || t.iter().any(|b| {
            rule.source
                .iter()
                .any(|m| m.name == *l && m.op != MatchOp::Eq && !m.matches_value(b))
        });
        contradiction.then(|| l.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, op: MatchOp, v: &str) -> LabelMatcher {
        LabelMatcher::new(name, op, v).unwrap()
    }

    fn alert(name: &str, labels: &[(&str, Option<&str>)], open: bool) -> AlertLabels {
        AlertLabels {
            alertname: name.into(),
            labels: labels
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        match v {
                            Some(v) => LabelValue::Known(v.to_string()),
                            None => LabelValue::Unknown {
                                may_be_absent: false,
                            },
                        },
                    )
                })
                .collect::<BTreeMap<_, _>>()
                .into_iter()
                .collect(),
            open,
            origin: None,
        }
    }

    fn route(
        matchers: Vec<LabelMatcher>,
        receiver: &str,
        cont: bool,
        children: Vec<RouteNode>,
    ) -> RouteNode {
        RouteNode {
            matchers,
            continue_: cont,
            receiver: Some(receiver.into()),
            group_by: None,
            timings: [None; 3],
            size: 1 + children.iter().map(|c| c.size).sum::<usize>(),
            children,
            loc: None,
            mute: Vec::new(),
            active: Vec::new(),
        }
    }

    fn tree() -> RouteNode {
        route(
            vec![],
            "default",
            false,
            vec![
                route(
                    vec![m("severity", MatchOp::Eq, "critical")],
                    "pager",
                    false,
                    vec![],
                ),
                route(
                    vec![m("severity", MatchOp::Eq, "warning")],
                    "slack",
                    true,
                    vec![],
                ),
                route(
                    vec![m("team", MatchOp::Re, "back.*")],
                    "backend",
                    false,
                    vec![route(
                        vec![m("env", MatchOp::Eq, "prod")],
                        "backend-prod",
                        false,
                        vec![],
                    )],
                ),
            ],
        )
    }

    #[test]
    fn concrete_routing_matches_alertmanager() {
        let t = tree();
        let labels = |kv: &[(&str, &str)]| {
            kv.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            route_concrete(
                &t,
                &labels(&[("severity", "critical"), ("team", "backend")])
            ),
            vec![1]
        );
        // continue: warning goes to slack and on to the team route
        assert_eq!(
            route_concrete(&t, &labels(&[("severity", "warning"), ("team", "backend")])),
            vec![2, 3]
        );
        assert_eq!(
            route_concrete(
                &t,
                &labels(&[
                    ("severity", "warning"),
                    ("team", "backend"),
                    ("env", "prod")
                ])
            ),
            vec![2, 4]
        );
        assert_eq!(
            route_concrete(&t, &labels(&[("team", "frontend")])),
            vec![0]
        );
        // anchored regex: "xbackend" does not match back.*
        assert_eq!(
            route_concrete(&t, &labels(&[("team", "xbackend")])),
            vec![0]
        );
    }

    #[test]
    fn three_valued_reach() {
        let t = tree();
        let crit = alert(
            "A",
            &[("severity", Some("critical")), ("team", Some("backend"))],
            false,
        );
        let r = reach(&t, &crit);
        let reached = |r: &Reach| (0..r.len()).map(|i| r.reached(i)).collect::<Vec<_>>();
        assert_eq!(
            reached(&r),
            vec![Tri::Yes, Tri::Yes, Tri::No, Tri::No, Tri::No]
        );
        assert_eq!(r.terminal(1), Tri::Yes);
        assert_eq!(
            r.unshadowed(3),
            Tri::Yes,
            "the team route would match but is shadowed"
        );
        let open = alert("B", &[("severity", None)], true);
        let r = reach(&t, &open);
        assert_eq!(
            reached(&r),
            vec![Tri::Yes, Tri::Maybe, Tri::Maybe, Tri::Maybe, Tri::Maybe]
        );
        assert_eq!(r.terminal(0), Tri::Maybe);
    }

    #[test]
    fn unknown_values() {
        let v = LabelValue::Unknown {
            may_be_absent: true,
        };
        assert_eq!(m("x", MatchOp::Eq, "a").eval(&v), Tri::Maybe);
        assert_eq!(
            m("x", MatchOp::Eq, "").eval(&LabelValue::Unknown {
                may_be_absent: false
            }),
            Tri::No
        );
        assert_eq!(
            m("x", MatchOp::Re, ".+").eval(&LabelValue::Unknown {
                may_be_absent: false
            }),
            Tri::Yes
        );
        assert_eq!(
            m("x", MatchOp::Ne, "").eval(&LabelValue::Unknown {
                may_be_absent: false
            }),
            Tri::Yes
        );
        assert_eq!(
            m("x", MatchOp::Eq, "").eval(&LabelValue::Known(String::new())),
            Tri::Yes
        );
    }

    #[test]
    fn inhibition() {
        let a = alert("A", &[("severity", Some("critical"))], false);
        let b = alert("B", &[("severity", Some("warning"))], false);
        let alerts = vec![a, b];
        let rule = Inhibit {
            source: vec![m("severity", MatchOp::Eq, "critical")],
            target: vec![m("severity", MatchOp::Eq, "warning")],
            equal: vec!["alertname".into()],
        };
        assert!(
            inhibition_witness(&rule, &alerts).is_none(),
            "no alert name carries both severities"
        );
        let rule = Inhibit {
            equal: vec!["cluster".into()],
            ..rule
        };
        assert_eq!(
            inhibition_witness(&rule, &alerts).map(|w| w.0),
            Some(Tri::Yes)
        );
    }
}
