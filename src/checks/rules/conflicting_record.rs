//! `rules/conflicting-record`: two recording rules that write the same series from different
//! expressions (same `record` name, same static labels, loaded by one Prometheus): a 3-day
//! average recorded under a `rate6h` name next to the 6-hour rate, a p95 recorded from both a 1m
//! and a 5m window. In one group, both are evaluated at the same timestamp and Prometheus keeps
//! the first value ("different value but same timestamp"): the second definition never takes
//! effect. In two groups, the series takes one value, then the other, at every evaluation.
//! promtool's `duplicate-rules` lint catches only identical rules.
//!
//! "Loaded together" is [`super::duplicate::together`]. The two expressions must write the same
//! series, as far as obsgate can tell: the same label names in their results (static labels
//! included), and either no label that tells series apart (`sum(...)`: one series each) or the
//! same metrics read (through the project's own recording rules: a 3-day average of
//! `x:rate5m` reads what `x:rate5m` reads). Rules that split one name into partitions (one per
//! status class with `code=~"5.."` / `code=~"2.."` on a kept label, one per exporter reading
//! different metrics under a kept `instance`) write different series and are not reported.

use std::collections::{BTreeSet, HashMap};

use super::duplicate::{together, Place, Together};
use crate::checks::promql_util::walk;
use crate::checks::{Check, Ctx, Finding};
use crate::model::RuleRef;
use crate::parse::prom_rules::RuleKind;
use crate::parse::promql::{output_labels, LabelInfo, Presence};
use promql_parser::parser::Expr;

pub struct ConflictingRecord;

/// A rule's static labels, sorted.
type StaticLabels = Vec<(String, String)>;

/// How many distinct definitions of one series are compared with the others.
const MAX_REPRESENTATIVES: usize = 64;

/// How many recording rules deep the metrics an expression reads are followed.
const MAX_DEPTH: usize = 4;

/// What obsgate knows of one recording rule's series.
struct Shape {
    /// The expression, printed from its syntax tree (formatting does not matter).
    expr: String,
    info: LabelInfo,
    /// The metric names the expression's selectors read.
    metrics: BTreeSet<String>,
    /// Matchers (`op value`) of the selectors, per label.
    matchers: HashMap<String, BTreeSet<String>>,
    /// `label_replace`/`label_join`: label values are made up, obsgate cannot compare them.
    relabels: bool,
    /// The static label names.
    statics: BTreeSet<String>,
}

/// `statics`: the rule's static label names, which the written series carry whatever the
/// expression gives.
fn shape(
    expr: &Expr,
    statics: &BTreeSet<String>,
    recorded: &dyn Fn(&str) -> Option<BTreeSet<String>>,
) -> Shape {
    let mut metrics = BTreeSet::new();
    let mut matchers: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut relabels = false;
    walk(expr, &mut |n| {
        let vs = match n {
            Expr::VectorSelector(vs) => vs,
            Expr::MatrixSelector(ms) => &ms.vs,
            Expr::Call(c) => {
                relabels |= matches!(c.func.name, "label_replace" | "label_join");
                return;
            }
            _ => return,
        };
        if let Some(name) = &vs.name {
            metrics.insert(name.clone());
        }
        for m in &vs.matchers.matchers {
            if m.name == "__name__" {
                metrics.insert(m.value.clone());
                continue;
            }
            matchers
                .entry(m.name.clone())
                .or_default()
                .insert(format!("{}{:?}", m.op, m.value));
        }
    });
    let mut info = output_labels(expr, recorded);
    for l in statics {
        // a static label overrides what the expression gives: how it was selected does not
        // matter either
        info.known.insert(l.clone());
        info.maybe.remove(l);
        info.removed.remove(l);
        matchers.remove(l);
    }
    info.empty = false;
    Shape {
        expr: expr.to_string(),
        info,
        metrics,
        matchers,
        relabels,
        statics: statics.clone(),
    }
}

/// Do two recording rules of the same name and static labels write the same series?
fn same_series(a: &Shape, b: &Shape, base: &dyn Fn(&BTreeSet<String>) -> BTreeSet<String>) -> bool {
    if a.relabels || b.relabels || a.info.open != b.info.open {
        return false;
    }
    if a.info.known != b.info.known || a.info.maybe != b.info.maybe {
        return false;
    }
    if a.info.open && a.info.removed != b.info.removed {
        return false;
    }
    // a label kept in the results and selected differently: the rules are likely partitions
    // (`code=~"5.."` and `code=~"2.."` under `by (code)`)
    let kept = |l: &str| a.info.presence(l) != Presence::No && b.info.presence(l) != Presence::No;
    for label in a.matchers.keys().chain(b.matchers.keys()) {
        if kept(label) && a.matchers.get(label) != b.matchers.get(label) {
            return false;
        }
    }
    // one series each (no label of the results tells series apart), or series of the same
    // metrics
    let single = !a.info.open && a.info.known.is_subset(&a.statics);
    single || (!a.metrics.is_empty() && base(&a.metrics) == base(&b.metrics))
}

impl Check for ConflictingRecord {
    fn id(&self) -> &'static str {
        "rules/conflicting-record"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        // only names recorded more than once can conflict: the trees are read for those alone
        let mut names: HashMap<&str, usize> = HashMap::new();
        for r in cx.project.rules() {
            if r.rule.kind == RuleKind::Record {
                *names.entry(r.rule.name.value.as_str()).or_default() += 1;
            }
        }
        if !names.values().any(|n| *n > 1) {
            return Vec::new();
        }
        // what each recorded metric reads and which labels its series carry, for expressions
        // that read the project's own recorded series
        let mut reads: HashMap<&str, BTreeSet<String>> = HashMap::new();
        let mut labels_of: HashMap<&str, Option<BTreeSet<String>>> = HashMap::new();
        let mut candidates = Vec::new();
        let mut recorded_trees = Vec::new();
        for r in cx.project.rules() {
            if r.rule.kind != RuleKind::Record {
                continue;
            }
            let Some(Ok(parsed)) = r.rule.expr.as_ref().map(|e| &e.parsed) else {
                continue;
            };
            let parsed = parsed.materialized();
            let expr = parsed.expr().clone();
            recorded_trees.push((r, expr));
        }
        let none = |_: &str| None;
        for (r, expr) in &recorded_trees {
            let name = r.rule.name.value.as_str();
            let mut metrics = BTreeSet::new();
            walk(expr, &mut |n| {
                if let Some(m) = crate::checks::promql_util::selector_name(n) {
                    metrics.insert(m.to_string());
                }
            });
            reads.entry(name).or_default().extend(metrics);
            let info = output_labels(expr, &none);
            let mut set = (!info.open).then(|| info.known.clone());
            if let Some(s) = set.as_mut() {
                s.extend(r.rule.labels.iter().map(|p| p.key.value.to_string()));
            }
            labels_of
                .entry(name)
                .and_modify(|prev| {
                    if prev.as_ref() != set.as_ref() {
                        *prev = None;
                    }
                })
                .or_insert(set);
        }
        let recorded = |m: &str| labels_of.get(m).cloned().flatten();
        let base = |metrics: &BTreeSet<String>| -> BTreeSet<String> {
            let mut out = BTreeSet::new();
            let mut todo: Vec<(String, usize)> = metrics.iter().map(|m| (m.clone(), 0)).collect();
            while let Some((m, depth)) = todo.pop() {
                match reads.get(m.as_str()) {
                    Some(inner) if depth < MAX_DEPTH && !inner.is_empty() => {
                        todo.extend(inner.iter().map(|i| (i.clone(), depth + 1)))
                    }
                    _ => {
                        out.insert(m);
                    }
                }
            }
            out
        };
        for (r, expr) in &recorded_trees {
            if names.get(r.rule.name.value.as_str()).copied().unwrap_or(0) > 1 {
                let statics = r
                    .rule
                    .labels
                    .iter()
                    .map(|p| p.key.value.to_string())
                    .collect();
                candidates.push((*r, shape(expr, &statics, &recorded)));
            }
        }

        let loaders = cx.project.rule_loaders();
        let namespaces = namespaces(cx);
        let mut places: HashMap<(crate::source::FileId, Option<&str>), Place> = HashMap::new();
        let mut place = |r: &RuleRef| {
            let ns = namespaces
                .get(&(r.file, r.group as *const _))
                .copied()
                .flatten();
            places
                .entry((r.file, ns))
                .or_insert_with(|| Place::of(cx, r.file, ns, &loaders))
                .clone()
        };
        let mut out = Vec::new();
        // one finding per rule: against the first earlier rule it conflicts with
        let mut by_key: HashMap<(&str, StaticLabels), Vec<usize>> = HashMap::new();
        for (i, (r, _)) in candidates.iter().enumerate() {
            let mut labels: Vec<(String, String)> = r
                .rule
                .labels
                .iter()
                .map(|p| (p.key.value.to_string(), p.value.value.to_string()))
                .collect();
            labels.sort();
            by_key
                .entry((r.rule.name.value.as_str(), labels))
                .or_default()
                .push(i);
        }
        let mut keys: Vec<_> = by_key.values().filter(|v| v.len() > 1).collect();
        keys.sort();
        for rules in keys {
            // the first rule of each distinct expression and place stands for its copies (which
            // are `rules/duplicate`'s): one comparison per representative, at most
            // MAX_REPRESENTATIVES of them (a generated rule set with thousands of variants of
            // one name stays linear)
            let mut reps: Vec<(usize, Place)> = Vec::new();
            for &j in rules {
                let (r, s) = &candidates[j];
                let here = place(r);
                let first = reps.iter().find_map(|(i, there)| {
                    let (f, fs) = &candidates[*i];
                    if fs.expr == s.expr || !same_series(fs, s, &base) {
                        return None;
                    }
                    Some((f, together(there, &here)?))
                });
                if let Some((first, why)) = first {
                    out.push(self.finding(cx, first, r, &why));
                }
                let known = reps
                    .iter()
                    .any(|(i, there)| candidates[*i].1.expr == s.expr && *there == here);
                if !known && reps.len() < MAX_REPRESENTATIVES {
                    reps.push((j, here));
                }
            }
        }
        out
    }
}

/// The `metadata.namespace` of the `PrometheusRule` each group is in.
fn namespaces<'a>(
    cx: &Ctx<'a>,
) -> HashMap<
    (
        crate::source::FileId,
        *const crate::parse::prom_rules::Group,
    ),
    Option<&'a str>,
> {
    let mut out = HashMap::new();
    for f in &cx.project.files {
        for doc in &f.rule_docs {
            for g in &doc.groups {
                out.insert((f.file, g as *const _), doc.namespace.as_deref());
            }
        }
    }
    out
}

impl ConflictingRecord {
    fn finding(&self, cx: &Ctx, first: &RuleRef, r: &RuleRef, why: &Together) -> Finding {
        let sources = &cx.project.sources;
        let (first_outer, line, _) = sources.outer_line_col(first.file, first.rule.name.span.start);
        let (here_outer, ..) = sources.outer_line_col(r.file, r.rule.name.span.start);
        let where_ = if first_outer == here_outer {
            format!("line {line}")
        } else {
            format!("{}:{line}", sources.get(first_outer).path)
        };
        let loaded = match why {
            Together::SameFile => String::new(),
            Together::Config(c) => format!(", and `{}` loads both files", sources.outer_path(*c)),
            Together::Namespace(ns) => {
                format!(", and both are PrometheusRule objects in namespace `{ns}`")
            }
            Together::SameDirectory => ", in the same directory".to_string(),
        };
        let same_group = first.file == r.file && std::ptr::eq(first.group, r.group);
        let effect = if same_group {
            "both are evaluated at the same timestamp, so Prometheus keeps the first value and drops this one (\"different value but same timestamp\"): this definition never takes effect"
        } else {
            "the two groups are evaluated at different times, so the series takes one value, then the other, at every evaluation, and everything that reads it (alerts, dashboards, other rules) sees both"
        };
        let inferred = matches!(why, Together::Namespace(_) | Together::SameDirectory);
        Finding::new(
            self.id(),
            r.file,
            r.rule.name.span.clone(),
            format!(
                "recording rule `{}` writes the same series as the rule at {where_} (group `{}`) from a different expression{loaded}: {effect}",
                r.rule.name.value, first.group.name.value
            ),
        )
        .label("same series, different expression")
        .help(
            "keep one definition; if both are meant to exist, record them under names that say what each is (`..._rate5m` and `..._rate1m`, `..._avg3d`) or give them different `labels:`",
        )
        .also(first.file, first.rule.name.span.clone(), "also recorded here")
        .downgraded(inferred)
        .ctx("name", r.rule.name.value.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape_of(q: &str) -> Shape {
        let e = promql_parser::parser::parse(q).unwrap();
        shape(&e, &BTreeSet::new(), &|_| None)
    }

    fn same(a: &str, b: &str) -> bool {
        same_series(&shape_of(a), &shape_of(b), &|m| m.clone())
    }

    #[test]
    fn series_written_by_both() {
        // one series each
        // (unless obsgate knows what `ratio` is: see the fixture)
        assert!(!same(
            "sum(rate(errors[6h])) / sum(rate(requests[6h]))",
            "avg_over_time(ratio[3d])"
        ));
        assert!(same("sum(rate(errors[6h]))", "sum(rate(other[5m]))"));
        // the same metric, the same labels, another window
        assert!(same(
            "histogram_quantile(0.95, sum by (le, job) (rate(x_bucket[1m])))",
            "histogram_quantile(0.95, sum by (le, job) (rate(x_bucket[5m])))"
        ));
        assert!(same("rate(x[1m])", "rate(x[5m])"));
    }

    #[test]
    fn partitions_are_different_series() {
        // a kept label selected differently
        assert!(!same(
            r#"sum by (code) (rate(x{code=~"5.."}[5m]))"#,
            r#"sum by (code) (rate(x{code=~"2.."}[5m]))"#
        ));
        // different metrics under a label that tells series apart
        assert!(!same(
            "sum by (instance) (rate(node_cpu_seconds_total[5m]))",
            "sum by (instance) (rate(windows_cpu_time_total[5m]))"
        ));
        // different label names
        assert!(!same("sum by (job) (x)", "sum by (instance) (x)"));
        // made-up labels
        assert!(!same(
            r#"label_replace(sum(x), "kind", "a", "", "")"#,
            r#"label_replace(sum(y), "kind", "b", "", "")"#
        ));
        // a label dropped in one: not the same label set
        assert!(!same("rate(x[5m])", "sum without (pod) (rate(x[5m]))"));
    }
}
