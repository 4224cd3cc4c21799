//! `.obsgate.yml`: strict (unknown keys are errors naming the valid keys), every problem reported
//! at its position and all of them at once, then resolved into settings before any check runs.

pub mod schema;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::checks::meta::{OptKind, OptValue, OptionMeta};
use crate::checks::{registry, Severity};
use crate::parse::yaml::{self, Node, Value};
use crate::source::{LineIndex, Span};

pub const FILE_NAME: &str = ".obsgate.yml";

/// Severity set for a check in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Off,
    On(Severity),
}

#[derive(Debug, Clone, Default)]
pub struct CheckConfig {
    pub level: Option<Level>,
    pub options: BTreeMap<String, OptValue>,
}

#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it was read from, if any.
    pub path: Option<PathBuf>,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub checks: BTreeMap<String, CheckConfig>,
    /// Alerts that reach Alertmanager from outside the checked rule files (other Prometheus
    /// servers, Grafana, ...): `alertmanager: {extra_alerts: [{alertname, labels}]}`.
    pub extra_alerts: Vec<ExtraAlert>,
    /// Which rule files each Alertmanager config serves: `alertmanager: {stacks: [{alertmanager:
    /// GLOB, rules: [GLOB...]}]}` ([`crate::model::pairing`]).
    pub stacks: Vec<crate::model::pairing::Stack>,
    /// Declared thresholds: `thresholds: [{name, value, unit, kind, alert}]`.
    pub thresholds: Vec<ConfigThreshold>,
    /// The config file's text (positions of `thresholds` point into it).
    pub text: String,
    /// `probe: {targets: [...], load: {...}}`.
    pub probe_targets: Vec<ProbeTarget>,
    pub probe_load: Option<ProbeLoad>,
    /// `--online`: links in the checked files (runbook URLs) are followed. Set by the command
    /// line, never by the file.
    pub online: bool,
    /// Team policies on rules: `policies: [{name, match, require_labels, ...}]`.
    pub policies: Vec<crate::policy::Policy>,
    /// Routing tests run by `obsgate check` (`alertmanager: {tests: [...]}`), each with the span
    /// of its entry in the config file.
    pub routing_tests: Vec<(crate::routetest::RoutingTest, Span)>,
    /// How prometheus-operator merges `AlertmanagerConfig` resources where no `Alertmanager`
    /// resource or chart values of the run say it: `alertmanager: {operator: {...}}`.
    pub operator: OperatorSettings,
}

/// `alertmanager.operator`: the operator's settings for the `AlertmanagerConfig` resources of
/// the run that no `Alertmanager` resource (or kube-prometheus-stack values) of the run
/// selects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperatorSettings {
    /// `matcher_strategy`: the Alertmanager's `alertmanagerConfigMatcherStrategy.type`.
    pub strategy: crate::parse::operator_objects::StrategyKind,
    /// `alertmanager_namespace`: the Alertmanager's namespace (for
    /// `OnNamespaceExceptForAlertmanagerNamespace`).
    pub alertmanager_namespace: Option<String>,
    /// `base_config`: a glob of the config the resources are merged into (the Secret, values
    /// or file holding the Alertmanager's own config); `routes` commands give their configs'
    /// paths.
    pub base_config: Vec<String>,
}

/// A target declared in `.obsgate.yml` (`probe.targets`); also the only targets the exporter
/// will probe.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeTarget {
    pub name: String,
    pub url: String,
    pub metrics_path: Option<String>,
    pub health_path: Option<String>,
    pub boot: Option<String>,
    pub ready_timeout: Option<std::time::Duration>,
    pub health_required: Vec<String>,
    pub health_budget: Option<std::time::Duration>,
}

/// `probe.load`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeLoad {
    pub requests: Option<u64>,
    pub duration: Option<std::time::Duration>,
    pub concurrency: Option<usize>,
    pub path: Option<String>,
}

/// A threshold declared in `.obsgate.yml`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigThreshold {
    pub name: String,
    pub name_span: Span,
    /// As written: `500ms`, `1%`, `0.5`.
    pub value: String,
    pub value_span: Span,
    pub unit: Option<crate::model::thresholds::Unit>,
    pub kind: Option<crate::model::thresholds::Kind>,
    pub alert: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraAlert {
    pub alertname: String,
    pub labels: BTreeMap<String, String>,
}

/// One problem in the config file.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigProblem {
    pub message: String,
    pub span: Span,
}

/// All problems of a config file, with its text for rendering.
#[derive(Debug, Clone)]
pub struct ConfigError {
    pub path: PathBuf,
    pub text: String,
    pub problems: Vec<ConfigProblem>,
}

pub const TOP_KEYS: &[&str] = &[
    "include",
    "exclude",
    "checks",
    "runbooks",
    "annotations",
    "prometheus",
    "alertmanager",
    "thresholds",
    "labels",
    "probe",
    "policies",
];

// The keys of each part of the file: the parser refuses others (naming these), and the JSON
// Schema ([`schema`]) is generated from the same lists.
pub const PROBE_KEYS: &[&str] = &["targets", "load"];
pub const TARGET_KEYS: &[&str] = &[
    "name",
    "url",
    "metrics_path",
    "health_path",
    "boot",
    "ready_timeout",
    "health_required",
    "health_budget",
];
pub const LOAD_KEYS: &[&str] = &["requests", "duration", "concurrency", "path"];
pub const THRESHOLD_KEYS: &[&str] = &["name", "value", "unit", "kind", "quantile", "alert"];
pub const ALERTMANAGER_KEYS: &[&str] = &[
    "paging_integrations",
    "extra_alerts",
    "stacks",
    "tests",
    "operator",
];
pub const OPERATOR_KEYS: &[&str] = &["matcher_strategy", "alertmanager_namespace", "base_config"];
pub const EXTRA_ALERT_KEYS: &[&str] = &["alertname", "labels"];
pub const STACK_KEYS: &[&str] = &["alertmanager", "rules"];
/// The shorthand sections: each key sets an option of a check (its type is the option's).
pub const SECTIONS: &[(&str, &[(&str, &str)])] = &[
    (
        "runbooks",
        &[
            ("required_from", "alerts/missing-runbook"),
            ("paging_severities", "alerts/missing-runbook"),
            ("url_pattern", "alerts/invalid-runbook"),
            ("online_allow", "alerts/invalid-runbook"),
            ("online_deny", "alerts/invalid-runbook"),
            ("online_timeout", "alerts/invalid-runbook"),
            ("online_concurrency", "alerts/invalid-runbook"),
        ],
    ),
    ("annotations", &[("required", "alerts/missing-annotation")]),
    (
        "prometheus",
        &[("scrape_interval", "promql/range-too-short")],
    ),
    (
        "labels",
        &[
            ("unbounded", "labels/unbounded"),
            ("bounded", "labels/unbounded"),
            ("max_values", "labels/unbounded"),
        ],
    ),
];
/// `alertmanager.paging_integrations` sets this check's option.
pub const PAGING_INTEGRATIONS_CHECK: &str = "alertmanager/unrouted-alert";

impl Config {
    /// The configured level of a check, or its default severity.
    pub fn level(&self, id: &str) -> Option<Level> {
        self.checks.get(id).and_then(|c| c.level)
    }

    /// The integrations that page a person (`alertmanager.paging_integrations`, else the
    /// default of `alertmanager/unrouted-alert`).
    pub fn paging_integrations(&self) -> Vec<String> {
        match self.check_option(PAGING_INTEGRATIONS_CHECK, "paging_integrations") {
            Some(OptValue::List(v)) => v.clone(),
            _ => Vec::new(),
        }
    }

    pub fn check_option(&self, id: &str, name: &str) -> Option<&OptValue> {
        if let Some(v) = self.checks.get(id).and_then(|c| c.options.get(name)) {
            return Some(v);
        }
        defaults().get(&(id.to_string(), name.to_string()))
    }

    /// Find `.obsgate.yml` in `start` (a file's directory or a directory) or any parent.
    pub fn find(start: &Path) -> Option<PathBuf> {
        let start = std::fs::canonicalize(start).ok()?;
        let mut dir = if start.is_file() {
            start.parent()?.to_path_buf()
        } else {
            start
        };
        loop {
            let candidate = dir.join(FILE_NAME);
            if candidate.is_file() {
                return Some(candidate);
            }
            if !dir.pop() {
                return None;
            }
        }
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: path.to_path_buf(),
            text: String::new(),
            problems: vec![ConfigProblem {
                message: format!("cannot read config: {e}"),
                span: 0..0,
            }],
        })?;
        let mut cfg = Config::parse(&text).map_err(|problems| ConfigError {
            path: path.to_path_buf(),
            text,
            problems,
        })?;
        cfg.path = Some(path.to_path_buf());
        Ok(cfg)
    }

    /// Parse config text; all problems are returned together.
    pub fn parse(text: &str) -> Result<Config, Vec<ConfigProblem>> {
        let lines = LineIndex::new(text);
        let docs = yaml::parse_documents(text, &lines).map_err(|e| {
            vec![ConfigProblem {
                message: format!("invalid YAML: {}", e.message),
                span: e.span,
            }]
        })?;
        let mut p = Parser {
            src: text,
            problems: Vec::new(),
        };
        let mut cfg = Config {
            text: text.to_string(),
            ..Config::default()
        };
        if docs.len() > 1 {
            p.problem(
                docs[1].head_span(text),
                "the config must be a single YAML document",
            );
        }
        if let Some(root) = docs.first() {
            match &root.value {
                Value::Null => {}
                Value::Map(entries) => {
                    for (k, v) in entries {
                        match k.name.as_str() {
                            "include" => cfg.include = p.globs(v, "include"),
                            "exclude" => cfg.exclude = p.globs(v, "exclude"),
                            "checks" => p.checks(v, &mut cfg),
                            name @ ("runbooks" | "annotations" | "prometheus" | "labels") => {
                                p.section(v, name, &mut cfg)
                            }
                            "alertmanager" => p.alertmanager(v, &mut cfg),
                            "thresholds" => p.thresholds(v, &mut cfg),
                            "probe" => p.probe(v, &mut cfg),
                            "policies" => p.policies(v, &mut cfg),
                            _ => p.unknown(k, "the config", TOP_KEYS),
                        }
                    }
                }
                _ => p.problem(root.head_span(text), "the config must be a mapping"),
            }
        }
        if p.problems.is_empty() {
            Ok(cfg)
        } else {
            Err(p.problems)
        }
    }
}

fn defaults() -> &'static BTreeMap<(String, String), OptValue> {
    static D: std::sync::OnceLock<BTreeMap<(String, String), OptValue>> =
        std::sync::OnceLock::new();
    D.get_or_init(|| {
        let mut m = BTreeMap::new();
        for meta in registry::metas() {
            for o in &meta.options {
                if let Some(v) = o
                    .default
                    .as_ref()
                    .and_then(|d| OptValue::from_json(o.kind, d))
                {
                    m.insert((meta.id.clone(), o.name.clone()), v);
                }
            }
        }
        m
    })
}

struct Parser<'a> {
    src: &'a str,
    problems: Vec<ConfigProblem>,
}

impl Parser<'_> {
    fn problem(&mut self, span: Span, message: impl Into<String>) {
        self.problems.push(ConfigProblem {
            message: message.into(),
            span,
        });
    }

    fn unknown(&mut self, k: &yaml::Key, what: &str, valid: &[&str]) {
        self.problem(
            k.span.clone(),
            format!(
                "unknown key `{}` in {what}; valid keys: {}",
                k.name,
                valid.join(", ")
            ),
        );
    }

    fn globs(&mut self, v: &Node, field: &str) -> Vec<String> {
        let mut out = Vec::new();
        let items: Vec<&Node> = match &v.value {
            Value::Seq(items) => items.iter().collect(),
            Value::Str(_) => vec![v],
            Value::Null => vec![],
            _ => {
                self.problem(
                    v.head_span(self.src),
                    format!("`{field}` must be a list of glob patterns"),
                );
                return out;
            }
        };
        for item in items {
            match item.as_str() {
                Some(g) => match globset::Glob::new(g) {
                    Ok(_) => out.push(g.to_string()),
                    Err(e) => self.problem(
                        item.span.clone(),
                        format!("invalid glob `{g}` in `{field}`: {e}"),
                    ),
                },
                None => self.problem(
                    item.head_span(self.src),
                    format!("`{field}` entries must be strings"),
                ),
            }
        }
        out
    }

    fn checks(&mut self, v: &Node, cfg: &mut Config) {
        let Value::Map(entries) = &v.value else {
            if !matches!(v.value, Value::Null) {
                self.problem(
                    v.head_span(self.src),
                    "`checks` must be a mapping of check ids to settings",
                );
            }
            return;
        };
        for (k, setting) in entries {
            let Some(meta) = registry::meta(&k.name) else {
                let ids: Vec<&str> = registry::ids().collect();
                self.problem(
                    k.span.clone(),
                    format!(
                        "unknown check `{}`; known checks: {}",
                        k.name,
                        ids.join(", ")
                    ),
                );
                continue;
            };
            let entry = cfg.checks.entry(k.name.clone()).or_default();
            match &setting.value {
                Value::Str(s) => match parse_level(s) {
                    Some(l) => entry.level = Some(l),
                    None => self.problem(
                        setting.span.clone(),
                        format!(
                            "invalid level `{s}` for `{}`; use off, info, warning or error",
                            k.name
                        ),
                    ),
                },
                Value::Bool(false) => entry.level = Some(Level::Off),
                Value::Map(opts) => {
                    for (ok, ov) in opts {
                        if ok.name == "severity" {
                            match ov.as_str().and_then(parse_level) {
                                Some(l) => entry.level = Some(l),
                                None => self.problem(
                                    ov.span.clone(),
                                    "severity must be off, info, warning or error",
                                ),
                            }
                            continue;
                        }
                        let Some(om) = meta.options.iter().find(|o| o.name == ok.name) else {
                            let mut valid: Vec<&str> = vec!["severity"];
                            valid.extend(meta.options.iter().map(|o| o.name.as_str()));
                            self.unknown(ok, &format!("the settings of `{}`", k.name), &valid);
                            continue;
                        };
                        if let Some(v) = self.opt_value(om, ov, &ok.name) {
                            entry.options.insert(ok.name.clone(), v);
                        }
                    }
                }
                _ => self.problem(
                    setting.head_span(self.src),
                    format!(
                        "`{}` must be a level (off, info, warning, error) or a mapping of options",
                        k.name
                    ),
                ),
            }
        }
    }

    /// `alertmanager: {paging_integrations: [...], extra_alerts: [{alertname, labels}]}`.
    /// A regular expression (Go RE2 syntax, which Rust's regex crate follows), else a problem.
    fn regex_of(&mut self, v: &Node, field: &str) -> Option<regex::Regex> {
        let Some(text) = v.go_string(self.src).filter(|_| v.is_scalar()) else {
            self.problem(
                v.head_span(self.src),
                format!("`{field}` must be a regular expression"),
            );
            return None;
        };
        match regex::Regex::new(&text) {
            Ok(re) => Some(re),
            Err(e) => {
                self.problem(
                    v.span.clone(),
                    format!("`{field}`: invalid regular expression: {e}"),
                );
                None
            }
        }
    }

    /// A mapping of names to regular expressions (`require_labels: {team: "^(a|b)$"}`).
    fn regex_map(&mut self, v: &Node, field: &str) -> BTreeMap<String, regex::Regex> {
        let mut out = BTreeMap::new();
        let Value::Map(entries) = &v.value else {
            self.problem(
                v.head_span(self.src),
                format!("`{field}` must be a mapping of names to regular expressions"),
            );
            return out;
        };
        for (k, val) in entries {
            if let Some(re) = self.regex_of(val, &format!("{field}.{}", k.name)) {
                out.insert(k.name.clone(), re);
            }
        }
        out
    }

    /// A list of strings (a single string is a list of one).
    fn strings(&mut self, v: &Node, field: &str) -> Vec<Node> {
        match &v.value {
            Value::Seq(items) => items.clone(),
            Value::Str(_) => vec![v.clone()],
            _ => {
                self.problem(v.head_span(self.src), format!("`{field}` must be a list"));
                Vec::new()
            }
        }
    }

    fn policies(&mut self, v: &Node, cfg: &mut Config) {
        use crate::policy::{Policy, Selection, MATCH_KEYS, POLICY_KEYS};
        let Value::Seq(items) = &v.value else {
            self.problem(
                v.head_span(self.src),
                "`policies` must be a list of policies",
            );
            return;
        };
        for item in items {
            let Value::Map(entries) = &item.value else {
                self.problem(item.head_span(self.src), "a policy must be a mapping");
                continue;
            };
            let mut name = None;
            let mut p = Policy {
                name: String::new(),
                id: "",
                description: None,
                severity: Severity::Warning,
                paths: Vec::new(),
                select: Selection::default(),
                require_labels: BTreeMap::new(),
                require_annotations: BTreeMap::new(),
                for_min: None,
                for_max: None,
                forbid_labels: Vec::new(),
                forbid_expr: Vec::new(),
            };
            let mut requirements = 0;
            for (k, val) in entries {
                let text = val.go_string(self.src).filter(|_| val.is_scalar());
                match k.name.as_str() {
                    "name" => name = Some((text.unwrap_or_default(), val.span.clone())),
                    "description" => p.description = text,
                    "severity" => match text.as_deref().and_then(Severity::parse) {
                        Some(s) => p.severity = s,
                        None => self.problem(
                            val.span.clone(),
                            "`severity` must be info, warning or error",
                        ),
                    },
                    "paths" => p.paths = self.globs(val, "paths"),
                    "match" => {
                        for (mk, mv) in val.entries() {
                            match mk.name.as_str() {
                                "kind" => {
                                    p.select.kind = match mv.as_str() {
                                        Some("alert") => {
                                            Some(crate::parse::prom_rules::RuleKind::Alert)
                                        }
                                        Some("record") => {
                                            Some(crate::parse::prom_rules::RuleKind::Record)
                                        }
                                        _ => {
                                            self.problem(
                                                mv.span.clone(),
                                                "`match.kind` must be `alert` or `record`",
                                            );
                                            None
                                        }
                                    }
                                }
                                "name" => p.select.name = self.regex_of(mv, "match.name"),
                                "labels" => p.select.labels = self.regex_map(mv, "match.labels"),
                                _ => self.unknown(mk, "a policy's `match`", MATCH_KEYS),
                            }
                        }
                        if !matches!(val.value, Value::Map(_)) {
                            self.problem(val.head_span(self.src), "`match` must be a mapping");
                        }
                    }
                    "require_labels" => {
                        requirements += 1;
                        p.require_labels = self.regex_map(val, "require_labels");
                    }
                    "require_annotations" => {
                        requirements += 1;
                        p.require_annotations = self.regex_map(val, "require_annotations");
                    }
                    "for" => {
                        requirements += 1;
                        for (fk, fv) in val.entries() {
                            let d = self
                                .duration_of(fv, &format!("for.{}", fk.name))
                                .map(|d| crate::parse::scalar::PromDuration(d.as_millis() as u64));
                            match fk.name.as_str() {
                                "min" => p.for_min = d,
                                "max" => p.for_max = d,
                                _ => self.unknown(fk, "a policy's `for`", &["min", "max"]),
                            }
                        }
                        if !matches!(val.value, Value::Map(_)) {
                            self.problem(
                                val.head_span(self.src),
                                "`for` must be a mapping: `{min: 1m, max: 1h}`",
                            );
                        }
                    }
                    "forbid_labels" => {
                        requirements += 1;
                        p.forbid_labels = self
                            .strings(val, "forbid_labels")
                            .iter()
                            .filter_map(|n| n.go_string(self.src))
                            .collect();
                    }
                    "forbid_expr" => {
                        requirements += 1;
                        for n in self.strings(val, "forbid_expr") {
                            if let Some(re) = self.regex_of(&n, "forbid_expr") {
                                p.forbid_expr.push(re);
                            }
                        }
                    }
                    _ => self.unknown(k, "a policy", POLICY_KEYS),
                }
            }
            let Some((n, span)) = name else {
                self.problem(item.head_span(self.src), "a policy needs a `name`");
                continue;
            };
            let valid = !n.is_empty()
                && n.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                });
            if !valid {
                self.problem(
                    span,
                    format!("policy name `{n}` must be lower-case letters, digits, `-` and `_` (it becomes the finding id `policy/{n}`)"),
                );
                continue;
            }
            if cfg.policies.iter().any(|q| q.name == n) {
                self.problem(span, format!("policy `{n}` is declared twice"));
                continue;
            }
            if requirements == 0 {
                self.problem(
                    item.head_span(self.src),
                    format!("policy `{n}` requires nothing: give one of require_labels, require_annotations, for, forbid_labels, forbid_expr"),
                );
                continue;
            }
            p.id = Box::leak(format!("policy/{n}").into_boxed_str());
            p.name = n;
            cfg.policies.push(p);
        }
    }

    fn duration_of(&mut self, v: &Node, field: &str) -> Option<std::time::Duration> {
        let text = v.go_string(self.src).unwrap_or_default();
        match crate::parse::scalar::parse_duration(&text) {
            Ok(d) => Some(std::time::Duration::from_millis(d.0)),
            Err(e) => {
                self.problem(v.span.clone(), format!("`{field}`: {e}"));
                None
            }
        }
    }

    /// An endpoint path of a probe target: a path on the target's host
    /// ([`crate::probe::check_path`]), else a problem.
    fn path_of(&mut self, v: &Node, field: &str, text: Option<String>) -> Option<String> {
        let text = text?;
        match crate::probe::check_path(&text) {
            Ok(()) => Some(text),
            Err(e) => {
                self.problem(v.span.clone(), format!("`{field}`: {e}"));
                None
            }
        }
    }

    fn probe(&mut self, v: &Node, cfg: &mut Config) {
        let Value::Map(entries) = &v.value else {
            self.problem(v.head_span(self.src), "`probe` must be a mapping");
            return;
        };
        for (k, val) in entries {
            match k.name.as_str() {
                "targets" => {
                    for item in val.items() {
                        let mut t = ProbeTarget {
                            name: String::new(),
                            url: String::new(),
                            metrics_path: None,
                            health_path: None,
                            boot: None,
                            ready_timeout: None,
                            health_required: Vec::new(),
                            health_budget: None,
                        };
                        for (ik, iv) in item.entries() {
                            let text = iv.go_string(self.src).filter(|_| iv.is_scalar());
                            match ik.name.as_str() {
                                "name" => t.name = text.unwrap_or_default(),
                                "url" => t.url = text.unwrap_or_default(),
                                "metrics_path" => {
                                    t.metrics_path = self.path_of(iv, "metrics_path", text)
                                }
                                "health_path" => {
                                    t.health_path = self.path_of(iv, "health_path", text)
                                }
                                "boot" => t.boot = text,
                                "ready_timeout" => {
                                    t.ready_timeout = self.duration_of(iv, "ready_timeout")
                                }
                                "health_budget" => {
                                    t.health_budget = self.duration_of(iv, "health_budget")
                                }
                                "health_required" => {
                                    t.health_required = iv
                                        .items()
                                        .iter()
                                        .filter_map(|x| x.go_string(self.src))
                                        .collect()
                                }
                                _ => self.unknown(ik, "a probe target", TARGET_KEYS),
                            }
                        }
                        if t.name.is_empty() || t.url.is_empty() {
                            self.problem(
                                item.head_span(self.src),
                                "a probe target needs a `name` and a `url`",
                            );
                        } else if !t.url.starts_with("http://") && !t.url.starts_with("https://") {
                            self.problem(
                                item.head_span(self.src),
                                format!("probe target `{}`: `url` must be an http(s) URL", t.name),
                            );
                        } else if cfg.probe_targets.iter().any(|x| x.name == t.name) {
                            self.problem(
                                item.head_span(self.src),
                                format!("probe target `{}` is declared twice", t.name),
                            );
                        } else {
                            cfg.probe_targets.push(t);
                        }
                    }
                }
                "load" => {
                    let mut l = ProbeLoad {
                        requests: None,
                        duration: None,
                        concurrency: None,
                        path: None,
                    };
                    for (lk, lv) in val.entries() {
                        match lk.name.as_str() {
                            "requests" => match lv.value {
                                Value::Int(n) if n > 0 => l.requests = Some(n as u64),
                                _ => self.problem(
                                    lv.span.clone(),
                                    "`requests` must be a positive integer",
                                ),
                            },
                            "concurrency" => match lv.value {
                                Value::Int(n) if n > 0 && n <= 10_000 => {
                                    l.concurrency = Some(n as usize)
                                }
                                _ => self.problem(
                                    lv.span.clone(),
                                    "`concurrency` must be an integer between 1 and 10000",
                                ),
                            },
                            "duration" => l.duration = self.duration_of(lv, "duration"),
                            "path" => {
                                let text = lv.go_string(self.src);
                                l.path = self.path_of(lv, "path", text)
                            }
                            _ => self.unknown(lk, "`probe.load`", LOAD_KEYS),
                        }
                    }
                    cfg.probe_load = Some(l);
                }
                _ => self.unknown(k, "`probe`", PROBE_KEYS),
            }
        }
    }

    fn thresholds(&mut self, v: &Node, cfg: &mut Config) {
        use crate::model::thresholds::{Kind, Unit};
        let Value::Seq(items) = &v.value else {
            self.problem(
                v.head_span(self.src),
                "`thresholds` must be a list of `{name, value, unit, kind, alert}`",
            );
            return;
        };
        for item in items {
            if !item.is_map() {
                self.problem(item.head_span(self.src), "a threshold must be a mapping");
                continue;
            }
            let mut t = ConfigThreshold {
                name: String::new(),
                name_span: item.head_span(self.src),
                value: String::new(),
                value_span: item.head_span(self.src),
                unit: None,
                kind: None,
                alert: None,
            };
            let mut kind_word = None;
            let mut quantile = None;
            for (k, val) in item.entries() {
                let text = val.go_string(self.src).filter(|_| val.is_scalar());
                let Some(text) = text else {
                    self.problem(
                        val.head_span(self.src),
                        format!("`{}` must be a scalar", k.name),
                    );
                    continue;
                };
                match k.name.as_str() {
                    "name" => {
                        t.name = text;
                        t.name_span = val.span.clone();
                    }
                    "value" => {
                        if crate::model::thresholds::split_value(&text).is_none() {
                            self.problem(val.span.clone(), format!("threshold value `{text}` is not a number (with an optional unit such as `500ms`, `1%`, `100 req/s`)"));
                        }
                        t.value = text;
                        t.value_span = val.span.clone();
                    }
                    "unit" => {
                        t.unit = match text.as_str() {
                            "ms" => Some(Unit::Milliseconds),
                            "s" => Some(Unit::Seconds),
                            "%" | "percent" => Some(Unit::Percent),
                            "ratio" => Some(Unit::Ratio),
                            "req/s" => Some(Unit::PerSecond),
                            "req/min" => Some(Unit::PerMinute),
                            _ => {
                                self.problem(val.span.clone(), format!("unknown unit `{text}`; use ms, s, %, ratio, req/s or req/min"));
                                None
                            }
                        }
                    }
                    "kind" => match text.as_str() {
                        "latency" | "error-rate" | "throughput" => kind_word = Some(text),
                        _ => self.problem(
                            val.span.clone(),
                            format!("unknown kind `{text}`; use latency, error-rate or throughput"),
                        ),
                    },
                    "quantile" => match text.parse::<f64>() {
                        Ok(q) if q > 0.0 && q < 1.0 => quantile = Some(q),
                        _ => self.problem(
                            val.span.clone(),
                            "`quantile` must be a number between 0 and 1 (0.95)",
                        ),
                    },
                    "alert" => t.alert = Some(text),
                    _ => self.unknown(k, "a threshold", THRESHOLD_KEYS),
                }
            }
            t.kind = match kind_word.as_deref() {
                Some("latency") => Some(Kind::Latency(quantile)),
                Some("error-rate") => Some(Kind::ErrorRate),
                Some("throughput") => Some(Kind::Throughput),
                _ => quantile.map(|q| Kind::Latency(Some(q))),
            };
            if t.name.is_empty() || t.value.is_empty() {
                self.problem(
                    item.head_span(self.src),
                    "a threshold needs a `name` and a `value`",
                );
                continue;
            }
            if t.kind.is_none() && crate::model::thresholds::kind_of(&t.name, "").is_none() {
                self.problem(t.name_span.clone(), format!("cannot tell what threshold `{}` is about from its name; add `kind: latency|error-rate|throughput`", t.name));
                continue;
            }
            let suffix = crate::model::thresholds::split_value(&t.value)
                .map(|(_, s)| s.to_string())
                .unwrap_or_default();
            if t.unit.is_none() && crate::model::thresholds::unit_of(&t.name, "", &suffix).is_none()
            {
                self.problem(t.value_span.clone(), format!("threshold `{}` has no unit: write it in the value (`500ms`, `1%`, `100 req/s`) or add `unit:`", t.name));
                continue;
            }
            cfg.thresholds.push(t);
        }
    }

    fn alertmanager(&mut self, v: &Node, cfg: &mut Config) {
        let Value::Map(entries) = &v.value else {
            self.problem(v.head_span(self.src), "`alertmanager` must be a mapping");
            return;
        };
        for (k, val) in entries {
            match k.name.as_str() {
                "paging_integrations" => {
                    let Some(om) = registry::meta(PAGING_INTEGRATIONS_CHECK)
                        .and_then(|m| m.options.iter().find(|o| o.name == "paging_integrations"))
                    else {
                        continue;
                    };
                    if let Some(value) = self.opt_value(om, val, "paging_integrations") {
                        cfg.checks
                            .entry(PAGING_INTEGRATIONS_CHECK.to_string())
                            .or_default()
                            .options
                            .insert("paging_integrations".to_string(), value);
                    }
                }
                "extra_alerts" => {
                    let Value::Seq(items) = &val.value else {
                        self.problem(
                            val.head_span(self.src),
                            "`extra_alerts` must be a list of `{alertname, labels}`",
                        );
                        continue;
                    };
                    for item in items {
                        let mut alert = ExtraAlert {
                            alertname: String::new(),
                            labels: BTreeMap::new(),
                        };
                        for (ik, iv) in item.entries() {
                            match ik.name.as_str() {
                                "alertname" => {
                                    alert.alertname = iv.go_string(self.src).unwrap_or_default()
                                }
                                "labels" => {
                                    for (lk, lv) in iv.entries() {
                                        match lv.go_string(self.src) {
                                            Some(s) if lv.is_scalar() => {
                                                alert.labels.insert(lk.name.clone(), s);
                                            }
                                            _ => self.problem(
                                                lv.head_span(self.src),
                                                "label values must be strings",
                                            ),
                                        }
                                    }
                                }
                                _ => self.unknown(ik, "an extra alert", EXTRA_ALERT_KEYS),
                            }
                        }
                        if alert.alertname.is_empty() {
                            self.problem(
                                item.head_span(self.src),
                                "an extra alert needs an `alertname`",
                            );
                        } else {
                            cfg.extra_alerts.push(alert);
                        }
                    }
                }
                "stacks" => {
                    let Value::Seq(items) = &val.value else {
                        self.problem(
                            val.head_span(self.src),
                            "`stacks` must be a list of `{alertmanager: GLOB, rules: [GLOB...]}`",
                        );
                        continue;
                    };
                    for item in items {
                        let mut stack = crate::model::pairing::Stack {
                            alertmanager: String::new(),
                            rules: Vec::new(),
                        };
                        for (ik, iv) in item.entries() {
                            match ik.name.as_str() {
                                "alertmanager" => match iv.go_string(self.src) {
                                    Some(g) if iv.is_scalar() => {
                                        if let Err(e) = globset::Glob::new(&g) {
                                            self.problem(
                                                iv.span.clone(),
                                                format!("invalid glob `{g}`: {e}"),
                                            );
                                        }
                                        stack.alertmanager = g;
                                    }
                                    _ => self.problem(
                                        iv.head_span(self.src),
                                        "`alertmanager` must be a glob",
                                    ),
                                },
                                "rules" => {
                                    for r in iv.items() {
                                        match r.go_string(self.src) {
                                            Some(g) if r.is_scalar() => {
                                                if let Err(e) = globset::Glob::new(&g) {
                                                    self.problem(
                                                        r.span.clone(),
                                                        format!("invalid glob `{g}`: {e}"),
                                                    );
                                                }
                                                stack.rules.push(g);
                                            }
                                            _ => self.problem(
                                                r.head_span(self.src),
                                                "`rules` must be a list of globs",
                                            ),
                                        }
                                    }
                                }
                                _ => self.unknown(ik, "a stack", STACK_KEYS),
                            }
                        }
                        if stack.alertmanager.is_empty() {
                            self.problem(
                                item.head_span(self.src),
                                "a stack needs an `alertmanager` glob (the configs it pairs with `rules`)",
                            );
                        } else {
                            cfg.stacks.push(stack);
                        }
                    }
                }
                "tests" => {
                    let Value::Seq(items) = &val.value else {
                        self.problem(
                            val.head_span(self.src),
                            "`alertmanager.tests` must be a list of routing tests",
                        );
                        continue;
                    };
                    for item in items {
                        let parsed = serde_json::from_value::<crate::routetest::RoutingTest>(
                            yaml::to_json(item),
                        )
                        .map_err(|e| e.to_string())
                        .and_then(|t| {
                            crate::routetest::check_tests(std::slice::from_ref(&t))?;
                            Ok(t)
                        });
                        match parsed {
                            Ok(t) => cfg.routing_tests.push((t, item.head_span(self.src))),
                            Err(e) => {
                                self.problem(item.head_span(self.src), format!("routing test: {e}"))
                            }
                        }
                    }
                }
                "operator" => self.operator(val, cfg),
                _ => self.unknown(k, "`alertmanager`", ALERTMANAGER_KEYS),
            }
        }
    }

    /// `alertmanager.operator: {matcher_strategy, alertmanager_namespace, base_config}`.
    fn operator(&mut self, v: &Node, cfg: &mut Config) {
        use crate::parse::operator_objects::StrategyKind;
        let Value::Map(entries) = &v.value else {
            self.problem(v.head_span(self.src), "`operator` must be a mapping");
            return;
        };
        let mut strategy_at = None;
        for (k, val) in entries {
            let text = val.go_string(self.src).filter(|_| val.is_scalar());
            match (k.name.as_str(), text) {
                ("matcher_strategy", Some(t)) => match StrategyKind::parse(&t) {
                    Some(s) => {
                        cfg.operator.strategy = s;
                        strategy_at = Some(val.span.clone());
                    }
                    None => self.problem(
                        val.span.clone(),
                        format!(
                            "unknown matcher strategy `{t}`: expected one of {}",
                            StrategyKind::NAMES.join(", ")
                        ),
                    ),
                },
                ("alertmanager_namespace", Some(t)) if !t.is_empty() => {
                    cfg.operator.alertmanager_namespace = Some(t)
                }
                ("base_config", Some(g)) if !g.is_empty() => {
                    if let Err(e) = globset::Glob::new(&g) {
                        self.problem(val.span.clone(), format!("invalid glob `{g}`: {e}"));
                    }
                    cfg.operator.base_config = vec![g];
                }
                ("matcher_strategy" | "alertmanager_namespace" | "base_config", _) => self.problem(
                    val.head_span(self.src),
                    format!("`{}` must be a non-empty string", k.name),
                ),
                _ => self.unknown(k, "`alertmanager.operator`", OPERATOR_KEYS),
            }
        }
        if let Some(at) = strategy_at {
            if cfg.operator.strategy == StrategyKind::OnNamespaceExceptForAlertmanagerNamespace
                && cfg.operator.alertmanager_namespace.is_none()
            {
                self.problem(
                    at,
                    "`OnNamespaceExceptForAlertmanagerNamespace` needs `alertmanager_namespace` (the namespace of the Alertmanager resource)",
                );
            }
        }
    }

    /// A shorthand section such as `runbooks: {required_from: warning}` that sets check options.
    fn section(&mut self, v: &Node, name: &str, cfg: &mut Config) {
        let keys = SECTIONS
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(&[][..], |(_, k)| *k);
        let Value::Map(entries) = &v.value else {
            self.problem(v.head_span(self.src), format!("`{name}` must be a mapping"));
            return;
        };
        for (k, val) in entries {
            let Some((opt, check)) = keys.iter().find(|(o, _)| *o == k.name) else {
                let valid: Vec<&str> = keys.iter().map(|(o, _)| *o).collect();
                self.unknown(k, &format!("`{name}`"), &valid);
                continue;
            };
            let Some(om) =
                registry::meta(check).and_then(|m| m.options.iter().find(|o| o.name == *opt))
            else {
                continue;
            };
            if let Some(value) = self.opt_value(om, val, opt) {
                cfg.checks
                    .entry(check.to_string())
                    .or_default()
                    .options
                    .insert(opt.to_string(), value);
            }
        }
    }

    fn opt_value(&mut self, om: &OptionMeta, v: &Node, name: &str) -> Option<OptValue> {
        let kind = om.kind;
        let s = if v.is_scalar() {
            v.go_string(self.src)
        } else {
            None
        };
        let out = match kind {
            OptKind::String => s.map(OptValue::Str),
            OptKind::Choice => match s {
                Some(s) if om.choices.contains(&s) => Some(OptValue::Str(s)),
                Some(s) => {
                    self.problem(
                        v.span.clone(),
                        format!(
                            "`{name}` must be one of {}, found `{s}`",
                            om.choices.join(", ")
                        ),
                    );
                    return None;
                }
                None => None,
            },
            OptKind::Regex => match s {
                Some(s) => match regex::Regex::new(&s) {
                    Ok(_) => Some(OptValue::Str(s)),
                    Err(e) => {
                        self.problem(
                            v.span.clone(),
                            format!("`{name}` is not a valid regular expression: {e}"),
                        );
                        return None;
                    }
                },
                None => None,
            },
            OptKind::List => match &v.value {
                Value::Seq(items) => Some(OptValue::List(
                    items.iter().filter_map(|i| i.go_string(self.src)).collect(),
                )),
                _ => None,
            },
            OptKind::Duration => match s.as_deref().map(crate::parse::scalar::parse_duration) {
                Some(Ok(d)) => Some(OptValue::Duration(d)),
                Some(Err(e)) => {
                    self.problem(v.span.clone(), format!("`{name}`: {e}"));
                    return None;
                }
                None => None,
            },
            OptKind::Severity => s
                .as_deref()
                .and_then(Severity::parse)
                .map(OptValue::Severity),
            OptKind::Integer => match v.value {
                Value::Int(i) => Some(OptValue::Integer(i)),
                _ => None,
            },
        };
        if out.is_none() {
            let expected = match kind {
                OptKind::String => "a string",
                OptKind::Regex => "a regular expression",
                OptKind::Choice => "one of the documented values",
                OptKind::List => "a list of strings",
                OptKind::Duration => "a duration such as 1m",
                OptKind::Severity => "one of info, warning, error",
                OptKind::Integer => "an integer",
            };
            self.problem(
                v.head_span(self.src),
                format!("`{name}` must be {expected}, found a {}", v.type_name()),
            );
        }
        out
    }
}

fn parse_level(s: &str) -> Option<Level> {
    if s == "off" {
        return Some(Level::Off);
    }
    Severity::parse(s).map(Level::On)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_all_problems_at_once() {
        let text = "include: [rules/**]\nbogus: 1\nchecks:\n  alerts/missing-runbook: warning\n  nope/nope: off\n  alerts/missing-annotation:\n    required: [summary]\n    colour: red\nrunbooks:\n  required_from: loud\n";
        let problems = Config::parse(text).unwrap_err();
        let msgs: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(problems.len(), 4, "{msgs:#?}");
        assert!(
            msgs[0].starts_with("unknown key `bogus` in the config; valid keys: include, exclude")
        );
        assert!(msgs[1].starts_with("unknown check `nope/nope`"));
        assert!(msgs[2]
            .starts_with("unknown key `colour` in the settings of `alerts/missing-annotation`"));
        assert!(msgs[3].contains("required_from"));
        assert_eq!(&text[problems[0].span.clone()], "bogus");
    }

    #[test]
    fn resolves_levels_and_options() {
        let cfg = Config::parse(
            "checks:\n  alerts/missing-for: off\n  alerts/missing-runbook: {severity: warning, required_from: warning}\nannotations:\n  required: [summary]\n",
        )
        .unwrap();
        assert_eq!(cfg.level("alerts/missing-for"), Some(Level::Off));
        assert_eq!(
            cfg.level("alerts/missing-runbook"),
            Some(Level::On(Severity::Warning))
        );
        assert_eq!(
            cfg.check_option("alerts/missing-runbook", "required_from"),
            Some(&OptValue::Str("warning".into()))
        );
        assert_eq!(
            cfg.check_option("alerts/missing-annotation", "required"),
            Some(&OptValue::List(vec!["summary".into()]))
        );
    }

    #[test]
    fn paging_severities_default_and_shorthand() {
        let cfg = Config::parse("").unwrap();
        assert_eq!(
            cfg.check_option("alerts/missing-runbook", "paging_severities"),
            Some(&OptValue::List(vec![
                "critical".into(),
                "page".into(),
                "pager".into(),
                "emergency".into()
            ]))
        );
        let cfg = Config::parse("runbooks: {paging_severities: [P1, sev1]}\n").unwrap();
        assert_eq!(
            cfg.check_option("alerts/missing-runbook", "paging_severities"),
            Some(&OptValue::List(vec!["P1".into(), "sev1".into()]))
        );
        let problems = Config::parse("runbooks: {paging_severities: critical}\n").unwrap_err();
        assert!(
            problems[0].message.contains("paging_severities"),
            "{problems:?}"
        );
    }
}
