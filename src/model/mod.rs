//! The project model: every parsed input of a run, merged so that checks can look across files.

pub mod inventory;
pub mod operator;
pub mod pairing;
pub mod recognise;
pub mod routing;
pub mod thresholds;

use crate::parse::alertmanager::{self, AmConfig};
use crate::parse::k8s::{self, Embedded};
use crate::parse::prom_rules::{self, Group, Issue, Rule, RuleDoc, RuleKind};
use crate::parse::scalar::PromDuration;
use crate::parse::yaml;
use crate::source::{FileId, Sources};

/// What a file turned out to be, from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// Prometheus rule file (`groups:` at the top level).
    PrometheusRules,
    /// Kubernetes `PrometheusRule` object(s).
    PrometheusRuleCrd,
    /// Prometheus server configuration (`scrape_configs:` / `rule_files:`): only its intervals are read for now.
    PrometheusConfig,
    /// GitLab CI pipeline.
    GitlabCi,
    /// GitHub Actions workflow.
    GithubWorkflow,
    /// GitHub composite/JavaScript action (`action.yml`).
    GithubAction,
    /// Alertmanager configuration (`route:` and/or `receivers:` at the top level), also when
    /// embedded in a Kubernetes object (then this is the kind of the virtual source).
    Alertmanager,
    /// A Kubernetes `Secret`/`ConfigMap` carrying YAML files (audited as virtual sources).
    KubernetesEmbedding,
    /// Helm values (or a Flux `HelmRelease`) holding an Alertmanager config where a chart takes
    /// one (`alertmanager.config`, ...): the config is audited as a virtual source.
    HelmValues,
    /// A Mimir/Cortex Alertmanager tenant config (`alertmanager_config:` as a string, with
    /// `template_files:`): the config is audited as a virtual source.
    AlertmanagerTenant,
    /// An analysis artifact a pipeline publishes (`performance-analysis.json`,
    /// `alerting-strategy.json`).
    AnalysisArtifact,
    /// A shell script (embedded in a CI file).
    ShellScript,
    /// Application source defining metrics (prom-client, client_golang, prometheus_client).
    MetricDefinitions,
    /// A probed target (`obsgate probe`): readiness, `/health`, the load check.
    ProbeTarget,
    /// A metrics exposition (a scrape of a probed target).
    Exposition,
    /// A template (Helm, Jinja, a `.tmpl` file) of a rule file or an Alertmanager config: what
    /// gets loaded is its rendered output, so it is not audited ([`recognise::template_marker`]).
    Template,
    /// Grafana provisioning (alert rules, contact points, policies): Grafana's formats.
    Grafana,
    /// Parsed, but not a kind obsgate audits.
    Unknown,
    /// Could not be read or parsed at all.
    Unreadable,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::PrometheusRules => "prometheus-rules",
            FileKind::PrometheusRuleCrd => "prometheus-rule-crd",
            FileKind::PrometheusConfig => "prometheus-config",
            FileKind::GitlabCi => "gitlab-ci",
            FileKind::GithubWorkflow => "github-workflow",
            FileKind::GithubAction => "github-action",
            FileKind::Alertmanager => "alertmanager",
            FileKind::KubernetesEmbedding => "kubernetes-embedding",
            FileKind::HelmValues => "helm-values",
            FileKind::AlertmanagerTenant => "alertmanager-tenant",
            FileKind::AnalysisArtifact => "analysis-artifact",
            FileKind::ShellScript => "shell-script",
            FileKind::MetricDefinitions => "metric-definitions",
            FileKind::ProbeTarget => "probe-target",
            FileKind::Exposition => "exposition",
            FileKind::Template => "template",
            FileKind::Grafana => "grafana-provisioning",
            FileKind::Unknown => "unknown",
            FileKind::Unreadable => "unreadable",
        }
    }
}

/// One input file after parsing.
#[derive(Debug)]
pub struct FileModel {
    pub file: FileId,
    pub kind: FileKind,
    pub rule_docs: Vec<RuleDoc>,
    /// Parse problems, each reported by the check it names.
    pub issues: Vec<Issue>,
    /// Scrape intervals declared in a Prometheus server config.
    pub scrape_intervals: Vec<PromDuration>,
    /// `rule_files:` patterns of a Prometheus server config, as written.
    pub rule_files: Vec<String>,
    /// The names of a Prometheus server config's `global.external_labels`.
    pub external_labels: Vec<String>,
    /// A CI file's variables and environment.
    pub ci: Option<crate::parse::ci::CiFile>,
    /// Values of Kubernetes `Secret` manifests committed in this file.
    pub k8s_secrets: Vec<k8s::SecretValue>,
    /// Secret-named keys with scalar values in files of no audited kind.
    pub generic_secrets: Vec<(crate::parse::fields::SStr, crate::parse::fields::SStr)>,
    /// Alertmanager configs of this source.
    pub alertmanager: Vec<AmConfig>,
    /// Files embedded in Kubernetes objects or CI scripts of this file, to be added as virtual
    /// sources.
    pub embedded: Vec<Embedded>,
    /// Shell scripts: CI script items and `run:` blocks, embedded `.sh` files.
    pub scripts: Vec<crate::parse::ci::ScriptBlock>,
    /// Thresholds declared in this file (analysis JSON, `.obsgate.yml`); CI variables are read
    /// from `ci`.
    pub thresholds: Vec<thresholds::Declared>,
    /// An analysis artifact's claims.
    pub analysis: Option<crate::parse::analysis::Analysis>,
    /// PromQL written outside rule files (an analysis artifact's `alerting_rules`), checked by
    /// the PromQL checks like rule expressions.
    pub extra_exprs: Vec<ExtraExpr>,
    /// Metric definitions of an application source file.
    pub metrics: Option<crate::parse::metric_defs::Extracted>,
    /// A scrape: the parsed exposition, and where it comes from (a probed target, or a
    /// committed exposition file: this file).
    pub exposition: Option<(crate::parse::exposition::Exposition, ScrapeOf)>,
    /// A probed target's results (the source text is empty: findings point at its URL).
    pub probe: Option<crate::probe::TargetResult>,
    /// The histograms whose `_bucket` series the rules select, noted before the syntax trees
    /// are released ([`FileModel::release_trees`]).
    pub bucket_bases: Vec<String>,
    /// The findings of the checks run at load ([`crate::checks::Check::at_load`]), waiting for
    /// the others; `None` when they did not run at load (they then run file by file).
    pub early: Option<Vec<crate::engine::Resolved>>,
    /// The alerts' labels ([`Project::rule_alerts`]), noted at load while the syntax trees
    /// exist ([`FileModel::note_alert_labels`]).
    pub alert_labels: Option<Vec<routing::AlertLabels>>,
    /// prometheus-operator objects (`Alertmanager`, `AlertmanagerConfig`, config Secrets,
    /// kube-prometheus-stack values) that decide which configs merge ([`operator`]).
    pub operator: Vec<operator::OperatorObject>,
}

/// Where a scrape comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScrapeOf {
    /// The scrape of a probed target (`obsgate probe`, or a probe record), by its name.
    Target(String),
    /// A committed exposition file (`.prom`: node_exporter's textfile collector input, a scrape
    /// kept as test data): the file itself.
    File,
}

impl ScrapeOf {
    /// The probed target's name.
    pub fn target(&self) -> Option<&str> {
        match self {
            ScrapeOf::Target(t) => Some(t),
            ScrapeOf::File => None,
        }
    }

    /// How messages name the scrape: "the scrape of `api`", or "`metrics/jobs.prom`".
    pub fn describe(&self, path: &str) -> String {
        match self {
            ScrapeOf::Target(t) => format!("the scrape of `{t}`"),
            ScrapeOf::File => format!("`{path}`"),
        }
    }

    /// "scraped from `api`", or "in `metrics/jobs.prom`".
    pub fn from(&self, path: &str) -> String {
        match self {
            ScrapeOf::Target(t) => format!("scraped from `{t}`"),
            ScrapeOf::File => format!("in `{path}`"),
        }
    }
}

/// A PromQL expression outside a rule file, with what names it (`alerting_rules.high_error_rate`).
#[derive(Debug)]
pub struct ExtraExpr {
    pub name: String,
    pub expr: prom_rules::RuleExpr,
}

impl FileModel {
    pub fn new(file: FileId, kind: FileKind) -> FileModel {
        FileModel {
            file,
            kind,
            rule_docs: Vec::new(),
            issues: Vec::new(),
            scrape_intervals: Vec::new(),
            rule_files: Vec::new(),
            external_labels: Vec::new(),
            ci: None,
            k8s_secrets: Vec::new(),
            generic_secrets: Vec::new(),
            alertmanager: Vec::new(),
            embedded: Vec::new(),
            scripts: Vec::new(),
            thresholds: Vec::new(),
            analysis: None,
            extra_exprs: Vec::new(),
            metrics: None,
            exposition: None,
            probe: None,
            bucket_bases: Vec::new(),
            early: None,
            alert_labels: None,
            operator: Vec::new(),
        }
    }

    /// Note the labels of this file's alerts for [`Project::rule_alerts`] (before the trees
    /// are released: afterwards they are computed by parsing the expressions again).
    pub fn note_alert_labels(&mut self) {
        self.alert_labels = Some(routing::file_alerts(self));
    }

    fn rules_mut(&mut self) -> impl Iterator<Item = &mut Rule> {
        self.rule_docs
            .iter_mut()
            .flat_map(|d| d.groups.iter_mut())
            .flat_map(|g| g.rules.iter_mut())
    }

    /// Free the rules' annotations: only checks that run at load read them
    /// ([`crate::checks::Check::at_load`]).
    pub fn release_annotations(&mut self) {
        for r in self.rules_mut() {
            r.annotations = None;
        }
    }

    /// Note what the checks need from the whole project's syntax trees, then free the trees,
    /// keeping the expression texts: the checks that read trees parse a file's expressions
    /// again when they reach it ([`crate::checks::FileTrees`]), so a large rule set never
    /// holds all its trees at once.
    pub fn release_trees(&mut self) {
        let mut bases: std::collections::BTreeSet<String> =
            std::mem::take(&mut self.bucket_bases).into_iter().collect();
        for r in self.rules_mut() {
            let Some(Ok(p)) = r.expr.as_mut().map(|e| &mut e.parsed) else {
                continue;
            };
            if let Some(tree) = p.tree() {
                crate::checks::promql::summary_label_on_histogram::bucket_bases(tree, &mut bases);
                if r.kind == RuleKind::Alert {
                    r.enforces = thresholds::enforcement(p);
                }
            }
            p.release();
        }
        for x in &mut self.extra_exprs {
            if let Ok(p) = &mut x.expr.parsed {
                p.release();
            }
        }
        self.bucket_bases = bases.into_iter().collect();
    }
}

/// The rules of some files, in order.
pub fn rules_of(files: &[FileModel]) -> impl Iterator<Item = RuleRef<'_>> {
    files.iter().flat_map(|f| {
        f.rule_docs
            .iter()
            .flat_map(|d| d.groups.iter())
            .flat_map(move |g| {
                g.rules.iter().map(move |r| RuleRef {
                    file: f.file,
                    group: g,
                    rule: r,
                })
            })
    })
}

/// An Alertmanager config with the source it lives in.
#[derive(Debug, Clone, Copy)]
pub struct AmRef<'a> {
    pub file: FileId,
    pub config: &'a AmConfig,
    /// Position among [`Project::alertmanager_configs`].
    pub index: usize,
}

/// An alerting or recording rule with where it lives.
#[derive(Debug, Clone, Copy)]
pub struct RuleRef<'a> {
    pub file: FileId,
    pub group: &'a Group,
    pub rule: &'a Rule,
}

#[derive(Debug, Default)]
pub struct Project {
    pub sources: Sources,
    pub files: Vec<FileModel>,
    /// The directory displayed paths are relative to (SARIF's `%SRCROOT%`).
    pub base: std::path::PathBuf,
    /// The directories of the project, canonical: `base` and every audited directory (the
    /// directory of every audited file). Files that a config refers to (Alertmanager
    /// `templates:`) are read only inside them.
    pub roots: Vec<std::path::PathBuf>,
    /// The alerts of the rule files, computed once (label inference over every alert) for the
    /// checks that route them through Alertmanager.
    pub alerts_cache: RuleAlerts,
    /// The routing trees of the Alertmanager configs, built once (their regexes compiled once)
    /// for the checks and artifacts that walk them.
    pub route_cache: RouteTrees,
    /// The run's secrets, collected once for everything that prints (see
    /// [`Project::redactor`]).
    pub redaction: Redaction,
    /// The `.obsgate.yml` as a source, when findings can point into it (thresholds, routing
    /// tests).
    pub config_source: Option<FileId>,
    /// `.obsgate.yml`'s `alertmanager.operator` settings ([`operator::merges`]).
    pub operator_settings: crate::config::OperatorSettings,
    /// The merges of `AlertmanagerConfig` resources, computed on first use.
    pub operator_cache: std::sync::OnceLock<operator::Merges>,
}

/// A lazily built [`crate::secrets::Redactor`] of the project (see [`Project::redactor`]).
#[derive(Debug, Default)]
pub struct Redaction(std::sync::OnceLock<crate::secrets::Redactor>);

/// A lazily computed cache of [`Project::rule_alerts`] (empty until first use).
#[derive(Debug, Default)]
pub struct RuleAlerts(std::sync::OnceLock<Vec<routing::AlertLabels>>);

/// A lazily computed cache of [`Project::route_tree`] (empty until first use).
#[derive(Debug, Default)]
pub struct RouteTrees(std::sync::OnceLock<Vec<Option<routing::RouteNode>>>);

impl Project {
    /// Add the results of `obsgate probe`: one source per target (findings about the target
    /// point at its URL) and one per scrape (the body, so exposition findings have positions).
    pub fn add_probe_results(&mut self, results: Vec<crate::probe::TargetResult>) {
        use crate::parse::exposition;
        for mut r in results {
            // URLs name the sources: no password of a target URL in any finding's file
            r.redact();
            if let Some(m) = r.metrics.as_mut() {
                if (200..300).contains(&m.status) {
                    let format = exposition::format_for_content_type(&m.content_type);
                    // moved, not copied: a body can be tens of MB
                    let id = self.sources.add(
                        m.url.clone(),
                        std::path::PathBuf::from(&m.url),
                        std::mem::take(&mut m.body),
                        None,
                    );
                    let text = &self.sources.get(id).text;
                    let expo =
                        exposition::parse_with_limit(text, format, exposition::SCRAPE_SAMPLE_LIMIT);
                    let mut fm = FileModel::new(id, FileKind::Exposition);
                    fm.exposition = Some((expo, ScrapeOf::Target(r.name.clone())));
                    self.files.push(fm);
                }
            }
            let id = self.sources.add(
                r.base.clone(),
                std::path::PathBuf::from(&r.base),
                String::new(),
                None,
            );
            let mut fm = FileModel::new(id, FileKind::ProbeTarget);
            // the bodies live in their own sources (or are not needed any more)
            if let Some(m) = r.metrics.as_mut() {
                m.body = Default::default();
            }
            fm.probe = Some(r);
            self.files.push(fm);
        }
    }

    /// The redaction every printer of the run's text goes through: what
    /// [`crate::secrets::text_spans`] finds, and every secret value detected anywhere in the
    /// run. Built on first use, once all sources are in.
    pub fn redactor(&self) -> &crate::secrets::Redactor {
        self.redaction
            .0
            .get_or_init(|| crate::secrets::Redactor::for_project(self))
    }

    /// Were any targets probed in this run (so "not exposed" can be judged)? Committed
    /// exposition files do not count: a textfile-collector file or a test scrape shows some
    /// metrics, not everything Prometheus stores.
    pub fn probed(&self) -> bool {
        self.files.iter().any(|f| {
            f.exposition
                .as_ref()
                .is_some_and(|(_, of)| of.target().is_some())
        })
    }

    pub fn rules(&self) -> impl Iterator<Item = RuleRef<'_>> {
        rules_of(&self.files)
    }

    /// Every Alertmanager config of the run.
    pub fn alertmanager_configs(&self) -> impl Iterator<Item = AmRef<'_>> {
        self.files
            .iter()
            .flat_map(|f| f.alertmanager.iter().map(move |c| (f.file, c)))
            .enumerate()
            .map(|(index, (file, config))| AmRef {
                file,
                config,
                index,
            })
    }

    /// The routing tree of an Alertmanager config (`None` without `route:`), built on first use.
    pub fn route_tree(&self, am: &AmRef) -> Option<&routing::RouteNode> {
        self.route_cache
            .0
            .get_or_init(|| {
                let merges = self.operator_merges();
                let configs: Vec<AmRef> = self.alertmanager_configs().collect();
                // a resource's top route, as the operator writes it under a root
                let top_of = |i: usize, enforce: bool, ns: &str| {
                    let a = &configs[i];
                    let mut t = routing::tree_of(a.file, a.config.route.as_ref()?);
                    let mut top = t.children.drain(..).next()?;
                    if !enforce {
                        routing::drop_namespace_matcher(&mut top.matchers, ns);
                    }
                    top.continue_ = true;
                    Some(top)
                };
                configs
                    .iter()
                    .enumerate()
                    .map(|(i, a)| {
                        let mut tree = routing::tree_of(a.file, a.config.route.as_ref()?);
                        if let Some((ns, false)) = &merges.alone[i] {
                            if let Some(top) = tree.children.first_mut() {
                                routing::drop_namespace_matcher(&mut top.matchers, ns);
                            }
                        }
                        let parts: Vec<routing::RouteNode> = merges.parts[i]
                            .iter()
                            .filter_map(|p| top_of(p.am, p.enforce, &p.namespace))
                            .collect();
                        if merges.global[i] {
                            // a global config's top route is the root route: the others go
                            // under it (the root of its conversion only leads to it)
                            if let Some(top) = tree.children.first_mut() {
                                let own = std::mem::take(top);
                                *top = routing::graft(own, parts);
                            }
                            return Some(routing::graft(tree, Vec::new()).resized());
                        }
                        Some(routing::graft(tree, parts))
                    })
                    .collect()
            })
            .get(am.index)?
            .as_ref()
    }

    /// The pre-order index of the route under which merged `AlertmanagerConfig` resources are
    /// placed: the root (0), or for a global `AlertmanagerConfig` its top route (1). The config's
    /// own routes after that index follow the merged ones in [`Project::route_tree`].
    pub fn grafted_under(&self, am: &AmRef) -> usize {
        usize::from(self.operator_merges().global[am.index])
    }

    /// Which `AlertmanagerConfig` resources merge into which config ([`operator::merges`]).
    pub fn operator_merges(&self) -> &operator::Merges {
        self.operator_cache.get_or_init(|| operator::merges(self))
    }

    /// The configs whose parts make up `am` as Alertmanager loads it: itself, then the
    /// resources merged into it, each with whether its namespace matcher is enforced.
    fn parts_of<'a>(&'a self, am: &AmRef<'a>) -> Vec<(AmRef<'a>, Option<(&'a str, bool)>)> {
        let merges = self.operator_merges();
        let mut out = vec![(
            *am,
            merges.alone[am.index]
                .as_ref()
                .map(|(ns, e)| (ns.as_str(), *e)),
        )];
        let parts = &merges.parts[am.index];
        if !parts.is_empty() {
            let configs: Vec<AmRef> = self.alertmanager_configs().collect();
            for p in parts {
                out.push((configs[p.am], Some((p.namespace.as_str(), p.enforce))));
            }
        }
        out
    }

    /// The receivers of `am` as Alertmanager loads it: its own, then those of the resources
    /// merged into it (only the ones with a route: the operator skips the others').
    pub fn receivers<'a>(
        &'a self,
        am: &AmRef<'a>,
    ) -> Vec<&'a crate::parse::alertmanager::Receiver> {
        let has_route = |i: usize| {
            self.operator_merges().parts[am.index]
                .iter()
                .find(|p| p.am == i)
                .is_none_or(|p| p.has_route)
        };
        self.parts_of(am)
            .into_iter()
            .filter(|(a, _)| a.index == am.index || has_route(a.index))
            .flat_map(|(a, _)| a.config.receivers.iter())
            .collect()
    }

    /// The inhibit rules of `am` as Alertmanager loads it: its own, then those of the resources
    /// merged into it.
    pub fn inhibits(&self, am: &AmRef) -> Vec<routing::Inhibit> {
        let mut out = Vec::new();
        for (a, ns) in self.parts_of(am) {
            for rule in &a.config.inhibit_rules {
                let mut i = routing::inhibit_of(rule);
                if let Some((ns, false)) = ns {
                    routing::drop_namespace_matcher(&mut i.source, ns);
                    routing::drop_namespace_matcher(&mut i.target, ns);
                }
                out.push(i);
            }
        }
        out
    }

    /// The time intervals of `am` as Alertmanager loads it: its own, then those of the resources
    /// merged into it.
    pub fn time_intervals<'a>(
        &'a self,
        am: &AmRef<'a>,
    ) -> Vec<&'a crate::parse::alertmanager::TimeInterval> {
        self.parts_of(am)
            .into_iter()
            .flat_map(|(a, _)| a.config.time_intervals.iter())
            .collect()
    }

    /// The alerts of the rule files with what is known of their labels (see
    /// [`routing::universe`]), computed on first use.
    pub fn rule_alerts(&self) -> &[routing::AlertLabels] {
        self.alerts_cache
            .0
            .get_or_init(|| routing::rule_alerts(self))
    }

    /// Take the alert labels noted at load into [`Project::rule_alerts`], when every file with
    /// alerts has them.
    pub fn adopt_alert_labels(&mut self) {
        let noted = self.files.iter().all(|f| {
            f.alert_labels.is_some()
                || rules_of(std::slice::from_ref(f)).all(|r| r.rule.kind != RuleKind::Alert)
        });
        let mut all = Vec::new();
        for f in &mut self.files {
            if let Some(v) = f.alert_labels.take() {
                all.extend(v);
            }
        }
        if noted {
            // copied in one go: labels made file by file while loading lie scattered among the
            // rules, and routing tens of thousands of alerts through a deep tree compares their
            // names over and over
            let packed: Vec<routing::AlertLabels> = all.to_vec();
            drop(all);
            let _ = self.alerts_cache.0.set(packed);
        }
    }

    pub fn alerts(&self) -> impl Iterator<Item = RuleRef<'_>> {
        self.rules().filter(|r| r.rule.kind == RuleKind::Alert)
    }

    pub fn src(&self, file: FileId) -> &str {
        &self.sources.get(file).text
    }

    /// The Prometheus configs (in this run) whose `rule_files:` load `file`.
    pub fn configs_loading(&self, file: FileId) -> Vec<FileId> {
        self.rule_loaders().loading(&self.sources.get(file).fs_path)
    }

    /// The `rule_files:` patterns of every Prometheus config of the run, compiled.
    /// Is this source (or the file it is embedded in) Helm values? A config there is merged
    /// with the chart's defaults when the chart renders it (`templates:` globs, routes, ...).
    pub fn in_helm_values(&self, id: FileId) -> bool {
        let (outer, _) = self.sources.resolve(id, &(0..0));
        self.files
            .iter()
            .any(|f| f.file == outer && f.kind == FileKind::HelmValues)
    }

    pub fn rule_loaders(&self) -> RuleLoaders {
        let configs = self
            .files
            .iter()
            .filter(|f| !f.rule_files.is_empty())
            .filter_map(|f| {
                let cfg = self.sources.get(f.file);
                let dir = canonical(cfg.fs_path.parent()?);
                let mut set = globset::GlobSetBuilder::new();
                for pat in &f.rule_files {
                    if let Some(g) = rule_files_glob(&dir, pat) {
                        set.add(g);
                    }
                }
                Some((f.file, set.build().ok()?))
            })
            .collect();
        RuleLoaders { configs }
    }

    /// The names of the `global.external_labels` of the run's Prometheus configs: Prometheus
    /// adds them to every alert it sends.
    pub fn external_label_names(&self) -> std::collections::BTreeSet<String> {
        self.files
            .iter()
            .flat_map(|f| f.external_labels.iter().cloned())
            .collect()
    }

    /// Whether `path` (canonical: symbolic links resolved) lies in one of [`Project::roots`].
    pub fn in_roots(&self, path: &std::path::Path) -> bool {
        self.roots.iter().any(|r| path.starts_with(r))
    }

    /// The shortest scrape interval of the Prometheus configs (in this run) whose `rule_files:`
    /// load `file`, and the path of that config.
    pub fn scrape_interval_for(&self, file: FileId) -> Option<(PromDuration, &str)> {
        let mut best: Option<(PromDuration, &str)> = None;
        for cfg in self.configs_loading(file) {
            let Some(f) = self.files.iter().find(|f| f.file == cfg) else {
                continue;
            };
            if let Some(min) = f.scrape_intervals.iter().copied().min() {
                if best.is_none_or(|(b, _)| min < b) {
                    best = Some((min, self.sources.get(cfg).path.as_str()));
                }
            }
        }
        best
    }
}

fn canonical(p: &std::path::Path) -> std::path::PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// A `rule_files:` pattern as Prometheus reads it: relative to the config's directory, matched
/// like Go's `filepath.Glob` (`*`, `?` and `[...]` never cross a `/`; `**` is two `*`).
pub(crate) fn rule_files_glob(dir: &std::path::Path, pat: &str) -> Option<globset::Glob> {
    let mut pat = pat.to_string();
    while pat.contains("**") {
        pat = pat.replace("**", "*");
    }
    let full = dir.join(pat);
    globset::GlobBuilder::new(&full.to_string_lossy())
        .literal_separator(true)
        .build()
        .ok()
}

/// The compiled `rule_files:` of a run's Prometheus configs ([`Project::rule_loaders`]).
pub struct RuleLoaders {
    configs: Vec<(FileId, globset::GlobSet)>,
}

impl RuleLoaders {
    /// The configs that load the rule file at `fs_path`.
    pub fn loading(&self, fs_path: &std::path::Path) -> Vec<FileId> {
        if self.configs.is_empty() {
            return Vec::new();
        }
        let path = canonical(fs_path);
        self.configs
            .iter()
            .filter(|(_, set)| set.is_match(&path))
            .map(|(id, _)| *id)
            .collect()
    }

    /// Does any config of the run load rules?
    pub fn is_empty(&self) -> bool {
        self.configs.is_empty()
    }
}

/// Classify and parse one source's YAML text.
pub fn parse_file(
    file: FileId,
    text: &std::sync::Arc<str>,
    lines: &crate::source::LineIndex,
    path: &str,
) -> FileModel {
    let mut model = FileModel::new(file, FileKind::Unknown);
    let parsed = yaml::parse_documents(text, lines);
    if !crate::parse::ci::ci_path(path) {
        if let Some(m) = recognise::template_marker(text, path) {
            // Grafana's legends (`{{ instance }}`) look like Jinja: its files are Grafana's
            let grafana = parsed
                .as_ref()
                .is_ok_and(|docs| docs.iter().any(recognise::grafana_provisioning));
            if grafana {
                model.kind = FileKind::Grafana;
                return model;
            }
            if let Some(what) = recognise::looks_like_monitoring(text, path) {
                model.kind = FileKind::Template;
                model.issues.push(templated_issue(text, &m, what));
                return model;
            }
            // a template of something else (a chart's Deployment): not obsgate's to judge when
            // it is not YAML as it is; when it is, it is read as what it looks like
            if parsed.is_err() {
                return model;
            }
        }
    }
    let docs = match parsed {
        Ok(d) => d,
        Err(e) => match gitlab_last_wins(text, lines, path) {
            // GitLab keeps the last of duplicate keys: the file is audited as GitLab reads it
            Some((docs, dups)) => {
                for d in dups {
                    model.issues.push(Issue {
                        check: "pipeline/syntax",
                        message: format!("`{}` is written twice in this mapping: GitLab keeps the last one and ignores this one", crate::secrets::redact_in(&d.name)),
                        span: d.ignored,
                        help: Some("remove one of the two keys (or merge their content): a reader of the file cannot tell which one applies".into()),
                        downgrade: true,
                        related: vec![(d.kept, "this one applies".into())],
                    });
                }
                docs
            }
            None => {
                model.kind = FileKind::Unreadable;
                let check = recognise::looks_like_monitoring(text, path)
                    .unwrap_or("obsgate/unreadable-file");
                model.issues.push(Issue {
                    check,
                    message: format!("invalid YAML: {}", e.message),
                    span: e.span,
                    help: Some("fix the YAML syntax; nothing in this file was checked".into()),
                    downgrade: false,
                    related: Vec::new(),
                });
                return model;
            }
        },
    };
    let mut plain_docs = 0;
    // a GitLab CI `spec:` header document: the inputs of the document after it
    let spec =
        (docs.len() == 2 && crate::parse::ci::is_spec_header(&docs[0])).then(|| docs[0].clone());
    for doc in docs.iter().skip(usize::from(spec.is_some())) {
        if let Some(am) = crate::parse::operator_objects::alertmanager(doc) {
            model.operator.push(operator::OperatorObject {
                object: crate::parse::operator_objects::Object::Alertmanager(am),
                embedded: None,
                file: None,
            });
        }
        let kind = recognise::document(doc, path, spec.is_some());
        if let recognise::DocKind::Rules(flavor) = kind {
            if flavor == prom_rules::Flavor::Plain {
                plain_docs += 1;
                if plain_docs > 1 {
                    model.issues.push(Issue {
                        check: "rules/syntax",
                        message: "Prometheus loads only the first YAML document of a rule file; this document is ignored".into(),
                        span: doc.head_span(text),
                        help: Some("move these groups into the first document or into their own file".into()),
                        downgrade: true,
                        related: Vec::new(),
                    });
                    continue;
                }
                model.kind = FileKind::PrometheusRules;
            } else if model.kind != FileKind::PrometheusRules {
                model.kind = FileKind::PrometheusRuleCrd;
            }
            let (rd, issues) = prom_rules::parse_doc(doc, flavor, text);
            model.rule_docs.push(rd);
            model.issues.extend(issues);
        } else if kind == recognise::DocKind::Grafana {
            model.kind = FileKind::Grafana;
        } else if kind == recognise::DocKind::Alertmanager {
            model.kind = FileKind::Alertmanager;
            let (cfg, issues) = alertmanager::parse_doc(doc, text);
            model.alertmanager.push(cfg);
            model.issues.extend(issues);
        } else if kind == recognise::DocKind::KubernetesObject {
            let (embedded, problems) = k8s::embedded_files(doc, text);
            // a Secret holding an Alertmanager config: an `Alertmanager` resource may name it
            if let Some(i) = embedded.iter().position(|e| e.key == "alertmanager.yaml") {
                if let Some(object) = crate::parse::operator_objects::secret(doc) {
                    model.operator.push(operator::OperatorObject {
                        object,
                        embedded: Some(model.embedded.len() + i),
                        file: None,
                    });
                }
            }
            let secrets = k8s::secret_values(doc);
            if !embedded.is_empty() || !problems.is_empty() || !secrets.is_empty() {
                model.kind = FileKind::KubernetesEmbedding;
            }
            model.k8s_secrets.extend(secrets);
            for (span, message) in problems {
                model.issues.push(Issue {
                    check: "obsgate/unreadable-file",
                    message,
                    span,
                    help: Some("fix the value; the embedded file was not checked".into()),
                    downgrade: false,
                    related: Vec::new(),
                });
            }
            model.embedded.extend(embedded);
        } else if let (recognise::DocKind::PrometheusConfig, Some(intervals)) =
            (kind, prometheus_config_intervals(doc, text))
        {
            model.kind = FileKind::PrometheusConfig;
            model.scrape_intervals.extend(intervals);
            if let Some(ext) = doc.get("global").and_then(|g| g.get("external_labels")) {
                model
                    .external_labels
                    .extend(ext.entries().iter().map(|(k, _)| k.name.to_string()));
            }
            if let Some(rf) = doc.get("rule_files") {
                model.rule_files.extend(
                    rf.items()
                        .iter()
                        .filter_map(|n| n.as_str().map(str::to_string)),
                );
            }
        } else if kind == recognise::DocKind::Analysis {
            model.kind = FileKind::AnalysisArtifact;
            let a = crate::parse::analysis::parse_doc(doc, text);
            for (k, v) in &a.thresholds {
                model.thresholds.extend(thresholds::declare(
                    &k.value,
                    "",
                    &v.value,
                    None,
                    None,
                    thresholds::Origin::AnalysisJson,
                    file,
                    k.span.clone(),
                    v.span.clone(),
                    None,
                ));
            }
            for (k, v) in &a.exprs {
                model.extra_exprs.push(ExtraExpr {
                    name: format!("alerting_rules.{}", k.value),
                    expr: prom_rules::RuleExpr::new(v.clone()),
                });
            }
            model.analysis = Some(a);
        } else if let recognise::DocKind::Ci(kind) = kind {
            model.kind = match kind {
                crate::parse::ci::CiKind::GitlabCi => FileKind::GitlabCi,
                crate::parse::ci::CiKind::GithubWorkflow => FileKind::GithubWorkflow,
                crate::parse::ci::CiKind::GithubAction => FileKind::GithubAction,
            };
            let (mut ci, issues) = crate::parse::ci::parse_doc(doc, kind, text);
            if kind == crate::parse::ci::CiKind::GitlabCi {
                // validated as part of its pipeline, once assembled (checks::pipeline::syntax)
                ci.gitlab = Some(Box::new(crate::parse::ci::GitlabDocs {
                    doc: doc.clone(),
                    spec: spec.clone(),
                }));
            }
            model.issues.extend(issues);
            model.scripts.append(&mut ci.scripts);
            model.embedded.extend(heredoc_files(&model.scripts));
            model.ci = Some(ci);
        } else if let Some(e) =
            crate::parse::operator::convert(doc, text, &crate::parse::operator::Strategy::default())
        {
            // a prometheus-operator `AlertmanagerConfig`: converted as the operator does (with
            // the namespace matcher; the strategy in effect is applied where it is known,
            // `Project::route_tree`)
            model.kind = FileKind::KubernetesEmbedding;
            if let Some(r) = crate::parse::operator_objects::resource(doc) {
                model.operator.push(operator::OperatorObject {
                    object: crate::parse::operator_objects::Object::Resource(r),
                    embedded: Some(model.embedded.len()),
                    file: None,
                });
            }
            model.embedded.push(e);
        } else if let Some(e) = crate::parse::mimir::tenant_config(doc, text) {
            // a Mimir/Cortex tenant config: its `alertmanager_config` string is the config
            model.kind = FileKind::AlertmanagerTenant;
            model.embedded.push(e);
        } else {
            // Helm values holding an Alertmanager config where a chart takes one: audited as an
            // embedded file, mapped into the values
            let kps = kps_chart(path);
            let configs = crate::parse::helm::alertmanager_configs_in(doc, text, kps);
            // the `Alertmanager` kube-prometheus-stack renders, with these values' config as
            // its base
            for (section, label) in crate::parse::helm::chart_sections(doc, kps) {
                if let Some(i) = configs.iter().position(|e| e.label == label) {
                    let index = model.embedded.len() + i;
                    model.operator.push(operator::OperatorObject {
                        object: crate::parse::operator_objects::Object::Alertmanager(
                            crate::parse::operator_objects::chart_alertmanager(section),
                        ),
                        embedded: Some(index),
                        file: None,
                    });
                }
            }
            let inside: Vec<std::ops::Range<usize>> = configs
                .iter()
                .filter_map(|e| {
                    let first = e.segments.first()?;
                    let last = e.segments.last()?;
                    Some(first.1..last.1 + last.2)
                })
                .collect();
            if !configs.is_empty() {
                model.kind = FileKind::HelmValues;
            }
            model.embedded.extend(configs);
            // a file of no audited kind (Helm values, app settings): keys that name a secret,
            // outside the configs audited as such
            let before = model.generic_secrets.len();
            collect_secret_keys(doc, text, &mut model.generic_secrets, 0);
            if !inside.is_empty() {
                let mut i = 0;
                model.generic_secrets.retain(|(k, _)| {
                    i += 1;
                    i <= before || !inside.iter().any(|r| r.contains(&k.span.start))
                });
            }
        }
    }
    model
}

/// Is the values file at `path` kube-prometheus-stack's own (a `Chart.yaml` beside it names
/// the chart)? Values of a chart that depends on it keep its values under its name, which the
/// Helm values reader recognises anyway.
fn kps_chart(path: &str) -> bool {
    let p = std::path::Path::new(path);
    let is_values = p
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("values") && (n.ends_with(".yaml") || n.ends_with(".yml")));
    if !is_values {
        return false;
    }
    let chart = p.with_file_name("Chart.yaml");
    crate::source::discover::read_text(&chart)
        .map(|t| crate::parse::helm::chart_names_kps(&t).0)
        .unwrap_or(false)
}

/// A file YAML rejects only for a duplicate key, read as GitLab reads it (the last key wins), when
/// it is a GitLab CI file; `None` otherwise (the YAML error stands: Prometheus, Alertmanager and
/// GitHub reject duplicate keys).
fn gitlab_last_wins(
    text: &str,
    lines: &crate::source::LineIndex,
    path: &str,
) -> Option<(Vec<yaml::Node>, Vec<yaml::DuplicateKey>)> {
    let (docs, dups) = yaml::parse_documents_last_wins(text, lines).ok()?;
    let header = docs.len() == 2 && crate::parse::ci::is_spec_header(&docs[0]);
    let doc = docs.get(usize::from(header))?;
    let gitlab = crate::parse::ci::detect(doc, path) == Some(crate::parse::ci::CiKind::GitlabCi)
        || (header && doc.is_map());
    (gitlab && !dups.is_empty()).then_some((docs, dups))
}

/// Files written by heredocs in CI scripts (`cat > rules.yml <<'EOF'`), with their bytes mapped
/// into the CI file. Unquoted delimiters: the variables the job defines are substituted, other
/// references stay as written.
fn heredoc_files(scripts: &[crate::parse::ci::ScriptBlock]) -> Vec<Embedded> {
    use crate::parse::shell;
    let mut out: Vec<Embedded> = Vec::new();
    let mut labels: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut next_number: std::collections::HashMap<String, usize> =
        std::collections::HashMap::new();
    for b in scripts {
        if !b.text.contains("<<") {
            continue;
        }
        for h in shell::heredocs(&b.text) {
            let name = match &h.target {
                Some((name, _)) => name.clone(),
                // `kubectl apply -f - <<EOF`: audited when the body is YAML of a known kind
                None if h.body.contains(":\n") || h.body.contains(": ") => {
                    format!("{}-heredoc.yml", h.program)
                }
                None => continue,
            };
            let resolve = |var: &str| {
                b.vars
                    .iter()
                    .rev()
                    .find(|(n, _)| n == var)
                    .map(|(_, v)| v.clone())
                    .filter(|v| !v.contains('$'))
            };
            let ex = h.expanded(&resolve);
            let mut segments = b.compose(&ex.segments);
            // substituted text maps to its `$VAR` reference (a zero-length run)
            for (text_range, script_range) in &ex.substituted {
                let at = b.file_span(&(script_range.start..script_range.start)).start;
                segments.push((text_range.start, at, 0));
            }
            segments.sort();
            // a name written again is numbered: `name (2)`, `name (3)`, ... (the first of those
            // not taken; the numbers a name already went through stay taken, so its search
            // resumes where it stopped)
            let mut label = name.clone();
            let n = next_number.entry(name.clone()).or_insert(2);
            while labels.contains(&label) {
                label = format!("{name} ({n})");
                *n += 1;
            }
            labels.insert(label.clone());
            out.push(Embedded {
                label,
                key: name,
                text: ex.text,
                segments,
                whole: None,
                substituted: ex.substituted.iter().map(|(t, _)| t.clone()).collect(),
                unresolved: !ex.unresolved.is_empty(),
                notes: Vec::new(),
            });
        }
    }
    out
}

/// `(key, value)` scalars whose key names a secret, anywhere in a YAML tree.
fn collect_secret_keys(
    node: &yaml::Node,
    src: &str,
    out: &mut Vec<(crate::parse::fields::SStr, crate::parse::fields::SStr)>,
    depth: usize,
) {
    if depth > 64 {
        return;
    }
    match &node.value {
        yaml::Value::Map(entries) => {
            // encrypted payloads (Sealed Secrets, SOPS) are what should be committed
            if node
                .get("kind")
                .and_then(yaml::Node::as_str)
                .is_some_and(|k| {
                    matches!(k, "SealedSecret" | "ExternalSecret" | "SecretProviderClass")
                })
            {
                return;
            }
            for (k, v) in entries {
                if k.name.to_ascii_lowercase().contains("encrypted") || k.name == "sops" {
                    continue;
                }
                if v.is_scalar() && crate::parse::ci::secret_name(&k.name) {
                    if let Some(value) = v.go_string(src) {
                        out.push((
                            crate::parse::fields::SStr::from(k),
                            crate::parse::fields::SStr {
                                value: value.into(),
                                span: v.span.clone(),
                            },
                        ));
                    }
                } else {
                    collect_secret_keys(v, src, out, depth + 1);
                }
            }
        }
        yaml::Value::Seq(items) => {
            for i in items {
                collect_secret_keys(i, src, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// An `AlertmanagerConfig` resource converted to an Alertmanager config: read as one, without
/// a root route when it has none (it is part of a config that has one).
fn converted_resource(
    file: FileId,
    text: &std::sync::Arc<str>,
    lines: &crate::source::LineIndex,
) -> FileModel {
    let mut model = FileModel::new(file, FileKind::Alertmanager);
    let Ok(docs) = yaml::parse_documents(text, lines) else {
        // not what the conversion writes: reported as any embedded file that does not parse
        return parse_file(file, text, lines, crate::parse::operator::CONVERTED_KEY);
    };
    let Some(doc) = docs.first() else {
        return model;
    };
    let (cfg, issues) = alertmanager::parse_doc(doc, text);
    let routeless = cfg.route.is_none();
    model.alertmanager.push(cfg);
    model.issues.extend(
        issues
            .into_iter()
            .filter(|i| !(routeless && i.message.starts_with("no `route:`"))),
    );
    model
}

/// Parse a file embedded in a Kubernetes object or written by a CI heredoc (a virtual source),
/// by what its name and content say it is: YAML/JSON (every kind `parse_file` knows), a shell
/// script, or application source defining metrics. Other files (Dockerfiles, `.env`, ...) are
/// left alone. Thresholds whose value a shell substituted from a variable are dropped: they
/// are the variable's, which is read where it is defined.
pub fn parse_embedded(
    file: FileId,
    key: &str,
    text: &std::sync::Arc<str>,
    lines: &crate::source::LineIndex,
    substituted: &[crate::source::Span],
    unresolved: bool,
) -> FileModel {
    let lower = key.to_ascii_lowercase();
    let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    if let Some(lang) = crate::parse::metric_defs::lang_for_path(&lower) {
        return metric_definitions(file, lang, text);
    }
    let shebang = text.starts_with("#!") && text.lines().next().is_some_and(|l| l.contains("sh"));
    if matches!(ext, "sh" | "bash") || (ext.is_empty() && shebang) {
        let mut model = FileModel::new(file, FileKind::ShellScript);
        model.scripts.push(crate::parse::ci::ScriptBlock {
            job: None,
            section: key.to_string(),
            text: text.to_string(),
            span: 0..text.len(),
            offsets: Some((0..=text.len()).collect()),
            vars: Vec::new(),
        });
        return model;
    }
    // `cat > textfile/x.prom <<EOF`: audited as the exposition file it writes, when the shell
    // left nothing unresolved in it
    if !unresolved && is_exposition(&lower, text) {
        return exposition_file(file, text);
    }
    if !matches!(ext, "yml" | "yaml" | "json") {
        return FileModel::new(file, FileKind::Unknown);
    }
    if key == crate::parse::operator::CONVERTED_KEY {
        return converted_resource(file, text, lines);
    }
    let mut model = parse_file(file, text, lines, key);
    // a heredoc fed to a command (not written to a .yml/.json file) that is not YAML, or a body
    // with shell expansions obsgate could not resolve: not a file obsgate can judge
    if model.kind == FileKind::Unreadable && (unresolved || lower.ends_with("-heredoc.yml")) {
        return FileModel::new(file, FileKind::Unknown);
    }
    if model.kind == FileKind::Unreadable && lower.contains("alertmanager") {
        for i in &mut model.issues {
            if i.check == "obsgate/unreadable-file" {
                i.check = alertmanager::CHECK;
            }
        }
    }
    model.thresholds.retain(|t| {
        !substituted
            .iter()
            .any(|s| s.start < t.value_span.end && t.value_span.start < s.end)
    });
    model
}

/// Is a file an exposition (a scrape kept as a file)? `.prom` always (node_exporter's textfile
/// collector reads only `*.prom`); `.txt`, `.metrics`, `.om`, `.openmetrics` when the content
/// clearly is one ([`crate::parse::exposition::sniff`]).
pub fn is_exposition(path: &str, text: &str) -> bool {
    let file = path.rsplit(['/', '\\', '#']).next().unwrap_or(path);
    let ext = file
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "prom" => true,
        e if crate::source::discover::SNIFFED_EXPOSITION_EXTENSIONS.contains(&e) => {
            crate::parse::exposition::sniff(text)
        }
        _ => false,
    }
}

/// A committed exposition file, parsed as text 0.0.4 or, when it ends with `# EOF`, OpenMetrics.
pub fn exposition_file(file: FileId, text: &str) -> FileModel {
    use crate::parse::exposition;
    let format = exposition::format_for_file(text);
    let expo = exposition::parse_with_limit(text, format, exposition::SCRAPE_SAMPLE_LIMIT);
    let mut model = FileModel::new(file, FileKind::Exposition);
    model.exposition = Some((expo, ScrapeOf::File));
    model
}

/// A source file defining metrics (prom-client, client_golang, prometheus_client).
pub fn metric_definitions(
    file: FileId,
    lang: crate::parse::metric_defs::Lang,
    text: &str,
) -> FileModel {
    let mut model = FileModel::new(file, FileKind::Unknown);
    let ex = crate::parse::metric_defs::extract(lang, text);
    if !ex.defs.is_empty() || !ex.defaults.is_empty() {
        model.kind = FileKind::MetricDefinitions;
    }
    model.metrics = Some(ex);
    model
}

/// `global.scrape_interval` (default 1m) and per-job `scrape_interval`s of a Prometheus config.
fn prometheus_config_intervals(doc: &yaml::Node, src: &str) -> Option<Vec<PromDuration>> {
    let scrape_configs = doc.get("scrape_configs");
    if scrape_configs.is_none() && doc.get("rule_files").is_none() {
        return None;
    }
    let parse = |n: &yaml::Node| {
        n.go_string(src)
            .and_then(|s| crate::parse::scalar::parse_duration(&s).ok())
    };
    let global = doc
        .get("global")
        .and_then(|g| g.get("scrape_interval"))
        .and_then(parse)
        .unwrap_or(PromDuration(60_000));
    let mut out = Vec::new();
    match scrape_configs {
        Some(sc) if !sc.items().is_empty() => {
            for job in sc.items() {
                out.push(job.get("scrape_interval").and_then(parse).unwrap_or(global));
            }
        }
        _ => out.push(global),
    }
    Some(out)
}

/// The one finding of a template of a rule file or an Alertmanager config: what was not audited,
/// and how to audit it.
fn templated_issue(text: &str, m: &recognise::TemplateMarker, what: &str) -> Issue {
    let (kind, loader) = if what == alertmanager::CHECK {
        ("Alertmanager config", "Alertmanager")
    } else {
        ("rule file", "Prometheus")
    };
    let (span, by) = if m.span.is_empty() {
        (
            0..text.lines().next().map_or(0, str::len),
            "its extension says so",
        )
    } else {
        (m.span.clone(), "template markup here")
    };
    Issue {
        check: "obsgate/templated-file",
        message: format!(
            "this {kind} is a template for {} ({by}): {loader} loads the file rendered from it, so nothing in this file was audited",
            m.engine
        ),
        span,
        help: Some("render it and audit the output (for a Helm chart: `helm template CHART --output-dir rendered/` then `obsgate check rendered/`), or exclude the templates in `.obsgate.yml`".into()),
        downgrade: false,
        related: Vec::new(),
    }
}
