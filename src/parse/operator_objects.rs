//! What prometheus-operator needs to know to merge `AlertmanagerConfig` resources into an
//! Alertmanager's config (`pkg/alertmanager/operator.go`, `provisionAlertmanagerConfiguration`
//! and `selectAlertmanagerConfigs`), read from the manifests that say it:
//!
//! - an `Alertmanager` resource (`monitoring.coreos.com/v1`): its base config is the Secret
//!   `spec.configSecret` (default `alertmanager-<name>`) in its namespace, key
//!   `alertmanager.yaml`; `spec.alertmanagerConfigSelector` selects the resources (absent:
//!   none, `{}`: all) in the namespaces `spec.alertmanagerConfigNamespaceSelector` selects
//!   (absent: the Alertmanager's own, `{}`: all); `spec.alertmanagerConfigMatcherStrategy.type`
//!   decides the namespace matcher; with `spec.alertmanagerConfiguration` the base config is a
//!   "global" `AlertmanagerConfig` instead;
//! - kube-prometheus-stack values, which render that resource
//!   (`templates/alertmanager/alertmanager.yaml`): the base config is the values'
//!   `alertmanager.config`, and both selectors default to `{}` (every resource, every
//!   namespace);
//! - the resources' own namespace, name and labels, and Secrets' names.

use std::collections::BTreeMap;

use crate::parse::yaml::{Node, Value};

/// The operator's `alertmanagerConfigMatcherStrategy.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StrategyKind {
    #[default]
    OnNamespace,
    OnNamespaceExceptForAlertmanagerNamespace,
    None,
}

impl StrategyKind {
    /// The operator's names (CRD enum values).
    pub const NAMES: &'static [&'static str] = &[
        "OnNamespace",
        "OnNamespaceExceptForAlertmanagerNamespace",
        "None",
    ];

    pub fn parse(s: &str) -> Option<StrategyKind> {
        match s {
            "OnNamespace" => Some(StrategyKind::OnNamespace),
            "OnNamespaceExceptForAlertmanagerNamespace" => {
                Some(StrategyKind::OnNamespaceExceptForAlertmanagerNamespace)
            }
            "None" => Some(StrategyKind::None),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::OnNamespace => "OnNamespace",
            StrategyKind::OnNamespaceExceptForAlertmanagerNamespace => {
                "OnNamespaceExceptForAlertmanagerNamespace"
            }
            StrategyKind::None => "None",
        }
    }

    /// Does the operator add `namespace="<ns>"` to a resource in `ns`, for an Alertmanager in
    /// `am_ns`? `None` when that depends on an Alertmanager namespace that is not known.
    pub fn enforces(self, ns: &str, am_ns: Option<&str>) -> Option<bool> {
        match self {
            StrategyKind::OnNamespace => Some(true),
            StrategyKind::None => Some(false),
            StrategyKind::OnNamespaceExceptForAlertmanagerNamespace => am_ns.map(|am| am != ns),
        }
    }
}

/// A Kubernetes label selector (`matchLabels` and `matchExpressions`, all of them required).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector {
    labels: Vec<(String, String)>,
    exprs: Vec<(String, SelectOp, Vec<String>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SelectOp {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl Selector {
    /// The selector written at `node`; `None` when it cannot be read (a templated value, an
    /// unknown operator): what it selects is then not known.
    pub fn parse(node: &Node) -> Option<Selector> {
        if matches!(node.value, Value::Null) {
            return Some(Selector::default());
        }
        if !node.is_map() {
            return None;
        }
        let mut s = Selector::default();
        for (k, v) in node.entries() {
            match k.name.as_str() {
                "matchLabels" => {
                    if matches!(v.value, Value::Null) {
                        continue;
                    }
                    if !v.is_map() {
                        return None;
                    }
                    for (lk, lv) in v.entries() {
                        s.labels.push((lk.name.to_string(), scalar(lv)?));
                    }
                }
                "matchExpressions" => {
                    for e in v.items() {
                        let key = e.get("key").and_then(Node::as_str)?.to_string();
                        let op = match e.get("operator").and_then(Node::as_str)? {
                            "In" => SelectOp::In,
                            "NotIn" => SelectOp::NotIn,
                            "Exists" => SelectOp::Exists,
                            "DoesNotExist" => SelectOp::DoesNotExist,
                            _ => return None,
                        };
                        let values = match e.get("values") {
                            Some(vs) => vs.items().iter().map(scalar).collect::<Option<_>>()?,
                            None => Vec::new(),
                        };
                        s.exprs.push((key, op, values));
                    }
                }
                _ => return None,
            }
        }
        Some(s)
    }

    /// Does it select everything (`{}`)?
    pub fn is_everything(&self) -> bool {
        self.labels.is_empty() && self.exprs.is_empty()
    }

    /// Does it select an object with these labels?
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.labels
            .iter()
            .all(|(k, v)| labels.get(k).is_some_and(|x| x == v))
            && self.exprs.iter().all(|(k, op, vs)| {
                let got = labels.get(k);
                match op {
                    SelectOp::In => got.is_some_and(|g| vs.contains(g)),
                    SelectOp::NotIn => got.is_none_or(|g| !vs.contains(g)),
                    SelectOp::Exists => got.is_some(),
                    SelectOp::DoesNotExist => got.is_none(),
                }
            })
    }
}

/// A label value as Kubernetes reads it (a string; YAML numbers and booleans are refused by the
/// API server, so a selector holding one cannot be read).
fn scalar(node: &Node) -> Option<String> {
    node.as_str().map(str::to_string)
}

/// Which namespaces an Alertmanager takes resources from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Namespaces {
    /// Its own (no namespace selector).
    Own,
    /// Every namespace (`{}`).
    All,
    /// Namespaces with some labels: which they are is not known from the manifests.
    Selected,
}

/// Where the base config comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// The key `alertmanager.yaml` of this Secret in the Alertmanager's namespace.
    Secret(String),
    /// The config in these kube-prometheus-stack values (the embedded config of the values
    /// object).
    Values,
    /// A "global" `AlertmanagerConfig` of this name in the Alertmanager's namespace
    /// (`spec.alertmanagerConfiguration.name`): its route is the root route, without the
    /// namespace matcher.
    Global(String),
}

/// An Alertmanager as the operator runs it: its resource, or the kube-prometheus-stack values
/// that render it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alertmanager {
    /// `metadata.namespace`, when written (values are installed into a namespace they do not
    /// name).
    pub namespace: Option<String>,
    pub base: Base,
    /// `alertmanagerConfigSelector`: `None` when absent (no resource is merged) or unreadable
    /// (what it selects is not known: nothing is merged).
    pub select: Option<Selector>,
    pub namespaces: Namespaces,
    pub strategy: StrategyKind,
}

/// An `AlertmanagerConfig` resource's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub name: String,
    /// `metadata.namespace` when written; without it the namespace is the one it is applied
    /// to, which the manifest does not say.
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// Whether it has a `spec.route` (the operator merges receivers and time intervals only
    /// then; inhibit rules always).
    pub has_route: bool,
}

/// A prometheus-operator object of a manifest or values file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Object {
    Alertmanager(Alertmanager),
    Resource(Resource),
    /// A Secret with an embedded Alertmanager config, by name and namespace.
    Secret {
        name: String,
        namespace: Option<String>,
    },
}

fn meta<'a>(doc: &'a Node, key: &str) -> Option<&'a str> {
    doc.get("metadata")
        .and_then(|m| m.get(key))
        .and_then(Node::as_str)
}

fn labels_of(doc: &Node) -> BTreeMap<String, String> {
    doc.get("metadata")
        .and_then(|m| m.get("labels"))
        .map(|l| {
            l.entries()
                .iter()
                .filter_map(|(k, v)| Some((k.name.to_string(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// An `AlertmanagerConfig` resource's identity (`None` for any other document).
pub fn resource(doc: &Node) -> Option<Resource> {
    if !crate::parse::operator::detect(doc) {
        return None;
    }
    Some(Resource {
        name: meta(doc, "name").unwrap_or("").to_string(),
        namespace: meta(doc, "namespace").map(str::to_string),
        labels: labels_of(doc),
        has_route: doc
            .get("spec")
            .and_then(|s| s.get("route"))
            .is_some_and(Node::is_map),
    })
}

/// A Secret document's name and namespace.
pub fn secret(doc: &Node) -> Option<Object> {
    if doc.get("kind").and_then(Node::as_str) != Some("Secret") {
        return None;
    }
    Some(Object::Secret {
        name: meta(doc, "name")?.to_string(),
        namespace: meta(doc, "namespace").map(str::to_string),
    })
}

/// The settings of an `alertmanagerSpec` (a resource's `spec`, or the values'
/// `alertmanager.alertmanagerSpec`). `chart`: read as kube-prometheus-stack renders them (an
/// absent or empty selector becomes `{}`).
fn settings(spec: Option<&Node>, chart: bool) -> (Option<Selector>, Namespaces, StrategyKind) {
    let get = |k: &str| spec.and_then(|s| s.get(k));
    let empty = |n: &&Node| match &n.value {
        Value::Null => true,
        Value::Map(m) => m.is_empty(),
        _ => false,
    };
    let select = match get("alertmanagerConfigSelector") {
        Some(n) if chart && empty(&n) => Some(Selector::default()),
        None if chart => Some(Selector::default()),
        Some(n) => Selector::parse(n).filter(|_| !matches!(n.value, Value::Null)),
        None => None,
    };
    let namespaces = match get("alertmanagerConfigNamespaceSelector") {
        // the chart writes `{}` for an empty map (`toYaml`), and `null` for a null value
        Some(n) if matches!(n.value, Value::Null) => Namespaces::Own,
        None if chart => Namespaces::All,
        None => Namespaces::Own,
        Some(n) => match Selector::parse(n) {
            Some(s) if s.is_everything() => Namespaces::All,
            _ => Namespaces::Selected,
        },
    };
    let strategy = get("alertmanagerConfigMatcherStrategy")
        .and_then(|s| s.get("type"))
        .and_then(Node::as_str)
        .and_then(StrategyKind::parse)
        .unwrap_or_default();
    (select, namespaces, strategy)
}

/// `alertmanagerConfiguration.name`: the global `AlertmanagerConfig` that is the base config.
fn global_name(spec: Option<&Node>) -> Option<String> {
    spec.and_then(|s| s.get("alertmanagerConfiguration"))
        .and_then(|c| c.get("name"))
        .and_then(Node::as_str)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
}

/// An `Alertmanager` resource (`monitoring.coreos.com/v1`).
pub fn alertmanager(doc: &Node) -> Option<Alertmanager> {
    if doc.get("kind").and_then(Node::as_str) != Some("Alertmanager")
        || doc.get("apiVersion").and_then(Node::as_str) != Some("monitoring.coreos.com/v1")
    {
        return None;
    }
    let name = meta(doc, "name")?.to_string();
    let spec = doc.get("spec");
    let global = global_name(spec);
    let secret = spec
        .and_then(|s| s.get("configSecret"))
        .and_then(Node::as_str)
        .filter(|s| !s.is_empty())
        .map_or_else(|| format!("alertmanager-{name}"), str::to_string);
    let (select, namespaces, strategy) = settings(spec, false);
    Some(Alertmanager {
        namespace: meta(doc, "namespace").map(str::to_string),
        base: match global {
            Some(g) => Base::Global(g),
            None => Base::Secret(secret),
        },
        select,
        namespaces,
        strategy,
    })
}

/// The Alertmanager that kube-prometheus-stack values render, whose base config is the values'
/// `alertmanager.config`. `section` is the values' `alertmanager` mapping.
pub fn chart_alertmanager(section: &Node) -> Alertmanager {
    let spec = section.get("alertmanagerSpec");
    let (select, namespaces, strategy) = settings(spec, true);
    let global = global_name(spec);
    Alertmanager {
        namespace: None,
        base: match global {
            Some(g) => Base::Global(g),
            None => Base::Values,
        },
        select,
        namespaces,
        strategy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::yaml::parse_documents;
    use crate::source::LineIndex;

    fn doc(src: &str) -> Node {
        parse_documents(src, &LineIndex::new(src))
            .unwrap()
            .remove(0)
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn selectors_as_kubernetes_reads_them() {
        let s = Selector::parse(&doc("matchLabels: {team: a}\nmatchExpressions:\n  - {key: tier, operator: In, values: [x, w]}\n  - {key: paused, operator: DoesNotExist}\n")).unwrap();
        assert!(s.matches(&labels(&[("team", "a"), ("tier", "w")])));
        assert!(!s.matches(&labels(&[("team", "a"), ("tier", "z")])));
        assert!(!s.matches(&labels(&[("team", "a"), ("tier", "x"), ("paused", "1")])));
        assert!(!s.matches(&labels(&[("tier", "x")])));
        let not_in = Selector::parse(&doc(
            "matchExpressions: [{key: env, operator: NotIn, values: [dev]}]\n",
        ))
        .unwrap();
        assert!(not_in.matches(&labels(&[])));
        assert!(!not_in.matches(&labels(&[("env", "dev")])));
        assert!(Selector::parse(&doc("{}\n")).unwrap().is_everything());
        assert!(Selector::parse(&doc("matchExpressions: [{key: a, operator: Gt}]\n")).is_none());
        assert!(Selector::parse(&doc("matchLabels: {a: 1}\n")).is_none());
    }

    #[test]
    fn an_alertmanager_resource() {
        let am = alertmanager(&doc("apiVersion: monitoring.coreos.com/v1\nkind: Alertmanager\nmetadata: {name: main, namespace: monitoring}\nspec:\n  alertmanagerConfigSelector: {matchLabels: {alertmanager: main}}\n  alertmanagerConfigMatcherStrategy: {type: None}\n")).unwrap();
        assert_eq!(am.base, Base::Secret("alertmanager-main".into()));
        assert_eq!(am.namespaces, Namespaces::Own);
        assert_eq!(am.strategy, StrategyKind::None);
        assert!(am
            .select
            .unwrap()
            .matches(&labels(&[("alertmanager", "main")])));
        let am = alertmanager(&doc("apiVersion: monitoring.coreos.com/v1\nkind: Alertmanager\nmetadata: {name: main}\nspec:\n  configSecret: am-config\n  alertmanagerConfigNamespaceSelector: {}\n")).unwrap();
        assert_eq!(am.base, Base::Secret("am-config".into()));
        assert_eq!(am.select, None);
        assert_eq!(am.namespaces, Namespaces::All);
    }

    #[test]
    fn chart_values_default_to_everything() {
        let v = doc("alertmanager:\n  config: {}\n  alertmanagerSpec:\n    alertmanagerConfigNamespaceSelector:\n      matchLabels: {team: a}\n");
        let section = v.get("alertmanager").unwrap();
        let am = chart_alertmanager(section);
        assert!(am.select.unwrap().is_everything());
        assert_eq!(am.namespaces, Namespaces::Selected);
        let v = doc("alertmanager:\n  alertmanagerSpec:\n    alertmanagerConfigSelector: {}\n");
        let am = chart_alertmanager(v.get("alertmanager").unwrap());
        assert_eq!(am.namespaces, Namespaces::All);
        assert!(am.select.unwrap().is_everything());
    }

    #[test]
    fn strategies() {
        let e = StrategyKind::OnNamespaceExceptForAlertmanagerNamespace;
        assert_eq!(e.enforces("team-a", Some("monitoring")), Some(true));
        assert_eq!(e.enforces("monitoring", Some("monitoring")), Some(false));
        assert_eq!(e.enforces("team-a", None), None);
        assert_eq!(StrategyKind::None.enforces("a", None), Some(false));
        for n in StrategyKind::NAMES {
            assert_eq!(StrategyKind::parse(n).unwrap().name(), *n);
        }
    }
}
