//! The pipeline of a `check` run: discover → read → classify and parse (in parallel; the checks
//! that need only the file run right after its parse, `Check::at_load`, then its syntax trees
//! and annotations are freed) → project model → the other checks (in parallel; those that read
//! syntax trees file by file, parsing a file's expressions again on first use) → severities from
//! config → suppressions → sorted, fingerprinted findings.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::checks::{registry, Check as _, Ctx, Finding, Severity};
use crate::config::{Config, Level};
use crate::model::{self, FileKind, FileModel, Project};
use crate::parse::prom_rules::Issue;
use crate::source::discover::{self, Filter, ReadProblem};
use crate::source::{display_path, FileId, Origin, Span};
use crate::suppress;

/// Errors that stop the run (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Usage(String),
    #[error("cannot read {path}: {message}")]
    Path { path: String, message: String },
}

pub struct CheckOptions {
    pub paths: Vec<PathBuf>,
    /// Base for displayed paths (normally the working directory).
    pub base: PathBuf,
    pub config: Config,
    /// Run only these checks (tests); `None` = all.
    pub only: Option<Vec<String>>,
}

/// A finding resolved to its outer file, with line/column and fingerprint.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub check: &'static str,
    pub severity: Severity,
    /// The outer file's displayed path, shared by its findings.
    pub path: Arc<str>,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub message: crate::checks::Msg,
    pub help: Option<crate::checks::Msg>,
    pub fingerprint: Fingerprint,
    pub file: FileId,
    pub span: Span,
    pub label: Option<std::borrow::Cow<'static, str>>,
    /// Secondary locations, resolved to their outer files.
    pub labels: Box<[crate::checks::Label]>,
    pub context: crate::checks::Context,
    /// The finding's mechanical fix, with its edits as the check gave them (in the files they
    /// name, embedded ones included: [`crate::fix`] maps them).
    pub fix: Option<Box<crate::checks::Fix>>,
}

/// A finding's stable identity (check, path, the text of its span, occurrence), written as 16
/// hex digits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub u64);

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl serde::Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

pub struct Outcome {
    pub project: Project,
    pub findings: Findings,
}

/// The findings of a run in report order (path, line, column, check, message), kept as one
/// list per displayed path. The checks run at load give their findings file by file; kept so,
/// they are sorted and reported without ever being copied into one buffer (on a 40,000-rule
/// set, a second copy of them all was a tenth of the run's peak memory).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Findings {
    /// Non-empty lists, each of one path, in path order.
    runs: Vec<Vec<Resolved>>,
}

impl Findings {
    pub fn len(&self) -> usize {
        self.runs.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Resolved> + Clone {
        self.runs.iter().flatten()
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&Resolved) -> bool) {
        for run in &mut self.runs {
            run.retain(&mut keep);
        }
        self.runs.retain(|r| !r.is_empty());
    }

    /// Sort lists of findings into report order, dropping exact duplicates. Equal findings keep
    /// the order they come in (lists first to last), as one stable sort of them all would.
    fn sorted(lists: Vec<Vec<Resolved>>) -> Findings {
        // each path's findings: a list of one path is moved whole, a mixed one split up
        let mut by_path: std::collections::BTreeMap<Arc<str>, Vec<Vec<Resolved>>> =
            std::collections::BTreeMap::new();
        for list in lists {
            let Some(first) = list.first() else { continue };
            if list.iter().all(|f| f.path == first.path) {
                by_path
                    .entry(Arc::clone(&first.path))
                    .or_default()
                    .push(list);
                continue;
            }
            // in the order the paths first appear (an index by path: a list can hold
            // findings of thousands of files)
            let mut pieces: Vec<(Arc<str>, Vec<Resolved>)> = Vec::new();
            let mut index: HashMap<Arc<str>, usize> = HashMap::new();
            for f in list {
                let i = *index.entry(Arc::clone(&f.path)).or_insert_with(|| {
                    pieces.push((Arc::clone(&f.path), Vec::new()));
                    pieces.len() - 1
                });
                pieces[i].1.push(f);
            }
            for (path, v) in pieces {
                by_path.entry(path).or_default().push(v);
            }
        }
        let runs = by_path
            .into_values()
            .map(|mut parts| {
                let mut run = if parts.len() == 1 {
                    parts.pop().unwrap_or_default()
                } else {
                    let mut run = Vec::with_capacity(parts.iter().map(Vec::len).sum());
                    for p in parts {
                        run.extend(p);
                    }
                    run
                };
                run.sort_by(|a, b| {
                    (a.line, a.column, a.check, &a.message)
                        .cmp(&(b.line, b.column, b.check, &b.message))
                });
                run.dedup_by(|a, b| {
                    a.span == b.span && a.check == b.check && a.message == b.message
                });
                run
            })
            .collect();
        Findings { runs }
    }
}

impl<'a> IntoIterator for &'a Findings {
    type Item = &'a Resolved;
    type IntoIter = std::iter::Flatten<std::slice::Iter<'a, Vec<Resolved>>>;
    fn into_iter(self) -> Self::IntoIter {
        self.runs.iter().flatten()
    }
}

impl IntoIterator for Findings {
    type Item = Resolved;
    type IntoIter = std::iter::Flatten<std::vec::IntoIter<Vec<Resolved>>>;
    fn into_iter(self) -> Self::IntoIter {
        self.runs.into_iter().flatten()
    }
}

impl std::ops::Index<usize> for Findings {
    type Output = Resolved;
    /// The `i`-th finding in report order; panics past the end, like a slice.
    fn index(&self, mut i: usize) -> &Resolved {
        for run in &self.runs {
            match run.get(i) {
                Some(f) => return f,
                None => i -= run.len(),
            }
        }
        panic!("finding index out of range")
    }
}

/// A file just parsed, made ready to keep: the checks that run at load run on it, its alerts'
/// labels are noted when Alertmanager configs may route them (`routes`), and its syntax trees
/// are released.
fn settle(
    mut m: FileModel,
    sources: &crate::source::Sources,
    at_load: Option<&AtLoad>,
    routes: bool,
) -> FileModel {
    if let Some(a) = at_load {
        m = a.run(m, sources);
    }
    if routes {
        m.note_alert_labels();
    }
    m.release_trees();
    m
}

/// Most files taken from `rule_files:` globs in one run.
const MAX_RULE_FILES_FOLLOWED: usize = 10_000;

/// Files that the `rule_files:` globs of the run's Prometheus configs match (as Prometheus reads
/// them: [`model::rule_files_glob`]) and
/// that are not sources yet: inside the paths of the run, accepted by the filter, regular files.
/// Absolute patterns name where a container mounts the rules, which is not known here.
fn rule_files_targets(
    project: &Project,
    paths: &[PathBuf],
    base: &Path,
    filter: &Filter,
) -> Vec<PathBuf> {
    let canon = |p: &Path| std::fs::canonicalize(p).ok();
    // only into the directories of the run: files named on the command line are the whole set
    let roots: Vec<PathBuf> = paths
        .iter()
        .filter_map(|p| canon(p))
        .filter(|p| p.is_dir())
        .collect();
    if roots.is_empty() {
        return Vec::new();
    }
    let known: std::collections::HashSet<PathBuf> = project
        .sources
        .iter()
        .filter_map(|s| canon(&s.fs_path))
        .collect();
    let mut out: Vec<PathBuf> = Vec::new();
    for f in project.files.iter().filter(|f| !f.rule_files.is_empty()) {
        let Some(dir) = project.sources.get(f.file).fs_path.parent().and_then(canon) else {
            continue;
        };
        for pat in &f.rule_files {
            if Path::new(pat).is_absolute() || pat.split('/').any(|c| c == "..") {
                continue;
            }
            let Some(glob) = model::rule_files_glob(&dir, pat) else {
                continue;
            };
            let matcher = glob.compile_matcher();
            // walk from the pattern's literal prefix, as deep as the pattern goes
            let parts: Vec<&str> = pat
                .split('/')
                .filter(|c| !c.is_empty() && *c != ".")
                .collect();
            let literal = parts
                .iter()
                .take_while(|c| !c.contains(['*', '?', '[', '{']))
                .count()
                .min(parts.len().saturating_sub(1));
            let start = parts[..literal].iter().fold(dir.clone(), |d, c| d.join(c));
            let walker = ignore::WalkBuilder::new(&start)
                .standard_filters(false)
                .follow_links(false)
                .max_depth(Some(parts.len() - literal))
                .build();
            for e in walker.flatten() {
                let p = e.path();
                if !e.file_type().is_some_and(|t| t.is_file()) || !matcher.is_match(p) {
                    continue;
                }
                let inside = roots.iter().any(|r| p.starts_with(r));
                if inside
                    && !known.contains(p)
                    && !out.iter().any(|o| o == p)
                    && filter.accepts(&display_path(p, base))
                {
                    out.push(p.to_path_buf());
                    if out.len() >= MAX_RULE_FILES_FOLLOWED {
                        return out;
                    }
                }
            }
        }
    }
    out.sort();
    out
}

/// Load files and build the project model.
pub fn load(paths: &[PathBuf], base: &Path, filter: &Filter) -> Result<Project, RunError> {
    load_checking(paths, base, filter, None)
}

/// The checks to run at load ([`crate::checks::Check::at_load`]), with the configuration.
pub struct AtLoad<'a> {
    pub config: &'a Config,
    pub checks: Vec<&'static registry::Registered>,
    /// What each check computes once per run ([`Ctx::once`]).
    states: Vec<std::sync::OnceLock<Box<dyn std::any::Any + Send + Sync>>>,
}

impl<'a> AtLoad<'a> {
    /// The enabled checks that run at load.
    pub fn new(config: &'a Config, only: Option<&[String]>) -> AtLoad<'a> {
        let checks: Vec<_> = enabled_checks(config, only)
            .into_iter()
            .filter(|r| r.check.at_load())
            .collect();
        AtLoad {
            config,
            states: checks.iter().map(|_| std::sync::OnceLock::new()).collect(),
            checks,
        }
    }

    /// Run the checks on a file just parsed, while it has its syntax trees, keeping their
    /// findings in it ([`FileModel::early`]).
    fn run(&self, model: FileModel, sources: &crate::source::Sources) -> FileModel {
        let mut alone = Project::default();
        alone.files.push(model);
        let mut early = Vec::new();
        // the displayed path of each file findings land in (the file, or its outer file),
        // shared by its findings
        let shown: std::cell::RefCell<Vec<(FileId, Arc<str>)>> = Default::default();
        let path_of = |id: FileId| {
            let mut shown = shown.borrow_mut();
            if let Some((_, p)) = shown.iter().find(|(f, _)| *f == id) {
                return Arc::clone(p);
            }
            let p: Arc<str> = Arc::from(&*sources.get(id).path);
            shown.push((id, Arc::clone(&p)));
            p
        };
        {
            let trees = crate::checks::FileTrees::new(&alone, 0);
            for (r, state) in self.checks.iter().zip(&self.states) {
                let cx = Ctx {
                    project: &alone,
                    sources,
                    config: self.config,
                    check_id: r.check.id(),
                    scope: Some(&trees),
                    state,
                };
                early.extend(run_resolved(r.check, &cx, sources, &path_of));
            }
        }
        let mut model = alone.files.pop().expect("the file just added");
        early.shrink_to_fit();
        model.early = Some(early);
        // only these checks read the annotations (and, with `--online`, the link check run
        // once the project is loaded)
        if !self.config.online && !crate::policy::Policy::reads_annotations(&self.config.policies) {
            model.release_annotations();
        }
        model
    }
}

/// [`load`], running the checks that can run as each file is parsed (see [`AtLoad`]).
pub fn load_checking(
    paths: &[PathBuf],
    base: &Path,
    filter: &Filter,
    at_load: Option<&AtLoad>,
) -> Result<Project, RunError> {
    crate::init_worker_pool();
    let (candidates, errors) = discover::discover(paths, base, filter);
    let (fatal, unwalked): (Vec<_>, Vec<_>) = errors.into_iter().partition(|e| e.fatal);
    if let Some(e) = fatal.into_iter().next() {
        return Err(RunError::Path {
            path: e.path,
            message: e.message,
        });
    }
    // each text becomes the run's shared copy (`Arc<str>`, which the models' `Text`s point into)
    // in the worker that read it: the copies are made in parallel
    let read: Vec<(PathBuf, bool, Result<Arc<str>, ReadProblem>)> = candidates
        .into_par_iter()
        .filter_map(|c| {
            let text = discover::read_text(&c.path).map(Arc::from);
            // `alert.rules` and the like: kept when they hold rules
            if c.if_rules {
                let name = c.path.file_name()?.to_string_lossy();
                if !text
                    .as_ref()
                    .is_ok_and(|t| model::recognise::sniff_rules(t, &name))
                {
                    return None;
                }
            }
            // `metrics.txt` and the like: kept when they hold a scrape
            if c.if_exposition
                && !text
                    .as_ref()
                    .is_ok_and(|t| crate::parse::exposition::sniff(t))
            {
                return None;
            }
            Some((c.path.clone(), c.explicit, text))
        })
        .collect();
    let roots = std::iter::once(base.to_path_buf())
        .chain(paths.iter().map(|p| {
            if p.is_dir() {
                p.clone()
            } else {
                p.parent().map_or_else(PathBuf::new, Path::to_path_buf)
            }
        }))
        .map(|p| {
            if p.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                p
            }
        })
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    let mut project = Project {
        base: base.to_path_buf(),
        roots,
        ..Project::default()
    };
    let mut pending = Vec::new();
    let mut others = Vec::new();
    for (path, explicit, text) in read {
        let shown = display_path(&path, base);
        match text {
            Ok(t) => {
                // application sources count only when they use a Prometheus client library
                let source = crate::parse::metric_defs::lang_for_path(&shown);
                if source.is_some() && !explicit && !crate::parse::metric_defs::mentions_client(&t)
                {
                    // kept aside for the constants and label lists it may define for the
                    // files that do (`model::inventory::resolve`)
                    others.push(model::inventory::OtherSource { path, text: t });
                    continue;
                }
                let id = project.sources.add(shown, path, t, None);
                pending.push(id);
            }
            Err(problem) => {
                let (message, downgrade) = match problem {
                    ReadProblem::Io(e) => (format!("cannot read file: {e}"), false),
                    ReadProblem::TooLarge(n) => (
                        format!(
                            "file skipped: {n} bytes is over the {} byte limit",
                            discover::MAX_FILE_SIZE
                        ),
                        !explicit,
                    ),
                    ReadProblem::Binary => (
                        "file skipped: it is binary (contains NUL bytes)".to_string(),
                        !explicit,
                    ),
                    ReadProblem::NotUtf8 { offset } => (
                        format!(
                            "file skipped: not valid UTF-8 (first invalid byte at offset {offset})"
                        ),
                        false,
                    ),
                };
                let id = project.sources.add(shown, path, String::new(), None);
                project.files.push(FileModel {
                    issues: vec![Issue {
                        check: "obsgate/unreadable-file",
                        message,
                        span: 0..0,
                        help: Some(
                            "exclude it in `.obsgate.yml` (`exclude:`) or fix the file".into(),
                        ),
                        downgrade,
                        related: Vec::new(),
                    }],
                    ..FileModel::new(id, FileKind::Unreadable)
                });
            }
        }
    }
    // a directory that cannot be read is a finding at its path; the rest is audited
    for e in unwalked {
        let shown = display_path(Path::new(&e.path), base);
        let id = project
            .sources
            .add(shown, PathBuf::from(&e.path), String::new(), None);
        project.files.push(FileModel {
            issues: vec![Issue {
                check: "obsgate/unreadable-file",
                message: format!(
                    "cannot read directory: {}; nothing in it was audited",
                    e.message
                ),
                span: 0..0,
                help: Some("make it readable, or exclude it in `.obsgate.yml` (`exclude:`)".into()),
                downgrade: false,
                related: Vec::new(),
            }],
            ..FileModel::new(id, FileKind::Unreadable)
        });
    }
    let sources = &project.sources;
    // the alerts' labels are noted while the trees exist when an Alertmanager config may route
    // them (a generous guess: a wrong one costs memory or a second parse, never a finding)
    let routes = sources.iter().any(|s| s.text.contains("receivers"));
    let parsed: Vec<FileModel> = pending
        .par_iter()
        .map(|&id| {
            let s = sources.get(id);
            let m = match crate::parse::metric_defs::lang_for_path(&s.path) {
                Some(lang) => model::metric_definitions(id, lang, &s.text),
                None if model::is_exposition(&s.path, &s.text) => {
                    model::exposition_file(id, &s.text)
                }
                None => model::parse_file(id, &s.text, &s.lines, &s.path),
            };
            settle(m, sources, at_load, routes)
        })
        .collect();
    project.files.extend(parsed);
    // names a definition takes from another file of its package or module tree
    model::inventory::resolve(&mut project, &others);
    drop(others);
    // rule files a Prometheus config of the run loads, whatever their names (`*.rules`,
    // `rules.conf`), that the walk did not pick up
    for path in rule_files_targets(&project, paths, base, filter) {
        let Ok(text) = discover::read_text(&path) else {
            continue;
        };
        let shown = display_path(&path, base);
        let id = project.sources.add(shown, path, text, None);
        let s = project.sources.get(id);
        let m = model::parse_file(id, &s.text, &s.lines, &s.path);
        let m = settle(m, &project.sources, at_load, routes);
        project.files.push(m);
    }
    // files embedded in Kubernetes objects become virtual sources mapped into their manifest
    let mut embedded = Vec::new();
    for (at, f) in project.files.iter_mut().enumerate() {
        for (i, e) in std::mem::take(&mut f.embedded).into_iter().enumerate() {
            embedded.push((f.file, at, i, e));
        }
    }
    for (outer, at, i, e) in embedded {
        let outer_src = project.sources.get(outer);
        let path = format!("{}#{}", outer_src.path, e.label);
        let fs_path = outer_src.fs_path.clone();
        let id = project.sources.add(
            path,
            fs_path,
            e.text,
            Some(Origin {
                outer,
                segments: e.segments,
                whole: e.whole,
            }),
        );
        if !e.notes.is_empty() {
            project.sources.set_notes(id, e.notes);
        }
        // the operator object the embedded config belongs to
        for o in &mut project.files[at].operator {
            if o.embedded == Some(i) {
                o.file = Some(id);
            }
        }
        let s = project.sources.get(id);
        let m = model::parse_embedded(id, &e.key, &s.text, &s.lines, &e.substituted, e.unresolved);
        let m = settle(m, &project.sources, at_load, routes);
        project.files.push(m);
    }
    project.files.sort_by_key(|f| f.file);
    // probe records (`obsgate probe --record`) replay their targets and scrapes
    let mut replayed = Vec::new();
    for f in &mut project.files {
        let s = project.sources.get(f.file);
        if !s.path.ends_with(".probe.json") {
            continue;
        }
        match crate::probe::Record::parse(&s.text) {
            Ok(results) => {
                *f = FileModel::new(f.file, FileKind::Unknown);
                replayed.extend(results);
            }
            Err(e) => {
                *f = FileModel::new(f.file, FileKind::Unreadable);
                f.issues.push(Issue {
                    check: "obsgate/unreadable-file",
                    message: format!("not a valid probe record: {e}"),
                    span: 0..0,
                    help: Some("write probe records with `obsgate probe --record FILE`".into()),
                    downgrade: false,
                    related: Vec::new(),
                });
            }
        }
    }
    if !replayed.is_empty() {
        project.add_probe_results(replayed);
    }
    project.adopt_alert_labels();
    Ok(project)
}

/// A check's severity for a finding: as configured, else its default (one level lower for a
/// downgraded finding).
fn severity_for(config: &Config, id: &'static str) -> impl Fn(&Finding) -> Severity {
    let default = registry::meta(id)
        .map(|m| m.severity)
        .unwrap_or(Severity::Error);
    let configured = match config.level(id) {
        Some(Level::On(s)) => Some(s),
        _ => None,
    };
    move |f: &Finding| {
        configured.unwrap_or_else(|| (0..f.downgrade).fold(default, |s, _| s.lower()))
    }
}

/// A check's findings, each given its severity and resolved to its outer file as it comes.
fn run_resolved<'s>(
    check: &dyn crate::checks::Check,
    cx: &Ctx<'_>,
    sources: &'s crate::source::Sources,
    path_of: &'s dyn Fn(FileId) -> Arc<str>,
) -> impl Iterator<Item = Resolved> + 's {
    let sev = severity_for(cx.config, check.id());
    check.run(cx).into_iter().map(move |mut f| {
        f.severity = sev(&f);
        resolve_one(sources, path_of, f)
    })
}

/// The checks of the catalogue that run: those selected by `only` and not turned off.
fn enabled_checks(config: &Config, only: Option<&[String]>) -> Vec<&'static registry::Registered> {
    registry::REGISTRY
        .iter()
        .filter(|r| only.is_none_or(|o| o.iter().any(|id| id == r.check.id())))
        .filter(|r| config.level(r.check.id()) != Some(Level::Off))
        .collect()
}

/// Run every enabled check over a loaded project and resolve the findings.
///
/// The checks that read PromQL syntax trees ([`crate::checks::Check::per_file`]) run file by
/// file, each file's expressions parsed again on first use, once for all of them (the model
/// keeps only the texts); those that ran at load ([`crate::checks::Check::at_load`]) give the
/// findings kept in the model instead. The others run once over the whole project.
pub fn run_checks(project: &Project, config: &Config, only: Option<&[String]>) -> Findings {
    run_checks_with(project, config, only, Vec::new())
}

/// [`run_checks`] with the findings of the checks run at load, taken out of the model
/// ([`FileModel::early`]).
fn run_checks_with(
    project: &Project,
    config: &Config,
    only: Option<&[String]>,
    early: Vec<Vec<Resolved>>,
) -> Findings {
    let enabled = enabled_checks(config, only);
    let paths: Vec<Arc<str>> = project
        .sources
        .iter()
        .map(|s| Arc::from(&*s.path))
        .collect();
    let (per_file, whole): (Vec<&registry::Registered>, Vec<&registry::Registered>) = enabled
        .iter()
        .filter(|r| r.check.id() != "obsgate/unused-suppression")
        .partition(|r| r.check.per_file());
    // the rules' alerts with their labels, for the checks that route them: computed here, in
    // parallel, rather than by the first such check while the others wait for it
    if project.alertmanager_configs().next().is_some() {
        project.rule_alerts();
    }
    // what each per-file check computes once per run from the whole project
    let states: Vec<std::sync::OnceLock<Box<dyn std::any::Any + Send + Sync>>> = per_file
        .iter()
        .map(|_| std::sync::OnceLock::new())
        .collect();
    let path_of = &|id: FileId| Arc::clone(&paths[id.0 as usize]);
    // each check's findings are resolved as they come: a large run has tens of thousands, and
    // only one form of each is kept
    let whole_findings = whole.par_iter().flat_map_iter(|r| {
        let state = std::sync::OnceLock::new();
        let cx = Ctx {
            project,
            sources: &project.sources,
            config,
            check_id: r.check.id(),
            scope: None,
            state: &state,
        };
        run_resolved(r.check, &cx, &project.sources, path_of)
    });
    let files: Vec<usize> = if per_file.is_empty() {
        Vec::new()
    } else {
        (0..project.files.len())
            .filter(|&i| crate::checks::FileTrees::wanted(&project.files[i]))
            .collect()
    };
    let (per_file, states) = (&per_file, &states);
    let file_findings = files.par_iter().flat_map_iter(|&i| {
        let trees = crate::checks::FileTrees::new(project, i);
        // the checks that ran at load for this file are done
        let ran_at_load = project.files[i].early.is_some();
        let mut out = Vec::new();
        for (r, state) in per_file.iter().zip(states) {
            if ran_at_load && r.check.at_load() {
                continue;
            }
            let cx = Ctx {
                project,
                sources: &project.sources,
                config,
                check_id: r.check.id(),
                scope: Some(&trees),
                state,
            };
            out.extend(run_resolved(r.check, &cx, &project.sources, path_of));
        }
        out
    });
    // the lists are never copied into one: see [`Findings`]
    let mut lists: Vec<Vec<Resolved>> = Vec::with_capacity(early.len() + 3);
    lists.push(whole_findings.chain(file_findings).collect());
    lists.extend(early);
    // `--online`: the links, followed once the whole project is loaded
    let online = crate::checks::alerts::invalid_runbook::Online;
    if config.online && enabled.iter().any(|r| r.check.id() == online.id()) {
        let state = std::sync::OnceLock::new();
        let cx = Ctx {
            project,
            sources: &project.sources,
            config,
            check_id: online.id(),
            scope: None,
            state: &state,
        };
        lists.push(run_resolved(&online, &cx, &project.sources, path_of).collect());
    }
    // team policies, each with its own severity
    if only.is_none() {
        for policy in &config.policies {
            lists.push(
                policy
                    .run(project)
                    .into_iter()
                    .map(|mut f| {
                        f.severity = policy.severity;
                        resolve_one(&project.sources, path_of, f)
                    })
                    .collect(),
            );
        }
    }

    // suppressions
    let unused_enabled = enabled
        .iter()
        .any(|r| r.check.id() == "obsgate/unused-suppression");
    let mut by_file: HashMap<FileId, Vec<(suppress::Suppression, bool)>> = HashMap::new();
    for s in project.sources.iter() {
        let sup = suppress::scan(s);
        if !sup.is_empty() {
            by_file.insert(s.id, sup.into_iter().map(|x| (x, false)).collect());
        }
    }
    if !by_file.is_empty() {
        for findings in &mut lists {
            findings.retain(|f| {
                let Some(list) = by_file.get_mut(&f.file) else {
                    return true;
                };
                let mut keep = true;
                for (s, used) in list.iter_mut() {
                    if s.covers(f.check, f.line as usize) {
                        *used = true;
                        keep = false;
                    }
                }
                keep
            });
        }
        if unused_enabled {
            let sev = severity_for(config, "obsgate/unused-suppression");
            let mut files: Vec<_> = by_file.into_iter().collect();
            files.sort_by_key(|(f, _)| *f);
            let mut unused = Vec::new();
            for (file, list) in files {
                for (s, used) in list {
                    if used {
                        continue;
                    }
                    let unknown: Vec<&String> = s
                        .ids
                        .iter()
                        .filter(|i| {
                            registry::meta(i).is_none()
                                && !config.policies.iter().any(|p| p.id == i.as_str())
                        })
                        .collect();
                    let message = if !unknown.is_empty() {
                        format!(
                            "suppression names unknown check `{}`; it suppresses nothing",
                            unknown
                                .iter()
                                .map(|s| s.as_str())
                                .collect::<Vec<_>>()
                                .join("`, `")
                        )
                    } else {
                        format!("suppression of `{}` matches no finding", s.ids.join("`, `"))
                    };
                    let mut f = Finding::new("obsgate/unused-suppression", file, s.span.clone(), message).help(
                        "remove the comment: the problem it silenced is gone, or it is on the wrong line (it covers its own line and, alone on a line, the next one)",
                    );
                    f.severity = sev(&f);
                    unused.push(resolve_one(&project.sources, path_of, f));
                }
            }
            lists.push(unused);
        }
    }
    finish(project, lists)
}

/// A finding's span mapped to its outer file, with line and column (`path_of`: the displayed
/// path of a source, shared by its findings). The fingerprint is set by [`finish`].
fn resolve_one(
    sources: &crate::source::Sources,
    path_of: &dyn Fn(FileId) -> Arc<str>,
    f: Finding,
) -> Resolved {
    let (file, mut span) = sources.resolve(f.file, &f.span);
    let mut f = f;
    if let Some(note) = sources.note_at(f.file, f.span.start) {
        f.message = format!("{} ({note})", f.message).into();
    }
    let src = sources.get(file);
    // a span never ends in whitespace (block scalars run to the next token)
    let bytes = src.text.as_bytes();
    while span.end > span.start
        && span.end <= bytes.len()
        && bytes[span.end - 1].is_ascii_whitespace()
    {
        span.end -= 1;
    }
    // a file is at most 32 MiB (`discover::MAX_FILE_SIZE`): its lines and columns fit in 32 bits
    let n32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let (line, column) = src.line_col(span.start);
    let (end_line, end_column) = src.line_col(span.end.max(span.start));
    let (line, column, end_line, end_column) =
        (n32(line), n32(column), n32(end_line), n32(end_column));
    let mut labels = f.labels;
    for l in &mut labels {
        (l.file, l.span) = sources.resolve(l.file, &l.span);
    }
    Resolved {
        check: f.check,
        severity: f.severity,
        path: path_of(file),
        line,
        column,
        end_line,
        end_column,
        message: f.message,
        help: f.help,
        fingerprint: Fingerprint::default(),
        file,
        span,
        label: f.label,
        labels: labels.into_boxed_slice(),
        context: f.context,
        fix: f.fix,
    }
}

/// Sort resolved findings, drop exact duplicates and set their fingerprints (which never
/// contain a secret's value).
fn finish(project: &Project, lists: Vec<Vec<Resolved>>) -> Findings {
    let mut out = Findings::sorted(lists);
    // fingerprints: check + path + the text of the offending span (not its line), + occurrence.
    // For secrets the value never enters the fingerprint (a hash of a weak password can be
    // brute-forced): the field/variable name or the secret's kind stands for it; other spans
    // are hashed with their secrets redacted.
    let redactor = project.redactor();
    let mut seen: HashMap<u64, u32> = HashMap::new();
    for r in out.runs.iter_mut().flatten() {
        let identity: String = if r.check.starts_with("secrets/") {
            ["field", "name", "key", "kind"]
                .iter()
                .filter_map(|k| r.context.get(k).and_then(|v| v.as_str()))
                .collect::<Vec<_>>()
                .join("\u{0}")
        } else {
            let span = project
                .sources
                .get(r.file)
                .text
                .get(r.span.clone())
                .unwrap_or("")
                .trim();
            redactor.redact_in(span).into_owned()
        };
        let text = identity.as_str();
        let base = fnv1a(&[r.check.as_bytes(), r.path.as_bytes(), text.as_bytes()]);
        let n = seen.entry(base).or_insert(0);
        *n += 1;
        r.fingerprint = Fingerprint(fnv1a(&[&base.to_le_bytes(), &n.to_le_bytes()]));
    }
    // the one redaction of everything a finding prints, for every format, baseline and
    // artifact built from findings
    out.runs
        .par_iter_mut()
        .for_each(|run| run.iter_mut().for_each(|r| redact_finding(redactor, r)));
    out
}

/// A finding's message, help, labels and context values with their secrets redacted.
fn redact_finding(red: &crate::secrets::Redactor, r: &mut Resolved) {
    use std::borrow::Cow;
    let msg = |m: &mut crate::checks::Msg| {
        let new = match red.redact_in(&m.text()) {
            Cow::Owned(s) => Some(s),
            Cow::Borrowed(_) => None,
        };
        if let Some(s) = new {
            *m = s.into();
        }
    };
    let cow = |c: &mut Cow<'static, str>| {
        if let Cow::Owned(s) = red.redact_in(c) {
            *c = Cow::Owned(s);
        }
    };
    msg(&mut r.message);
    if let Some(h) = r.help.as_mut() {
        msg(h);
    }
    if let Some(l) = r.label.as_mut() {
        cow(l);
    }
    for l in r.labels.iter_mut() {
        cow(&mut l.message);
    }
    for v in r.context.values_mut() {
        match v {
            crate::checks::CtxValue::Text(t) => {
                if let Cow::Owned(s) = red.redact_in(t) {
                    *v = crate::checks::CtxValue::Json(s.into());
                }
            }
            crate::checks::CtxValue::Json(j) => red.redact_json(j),
        }
    }
}

fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for p in parts {
        for b in p.iter().chain(std::iter::once(&0xffu8)) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x100000001b3);
        }
    }
    h
}

/// `.obsgate.yml` becomes a source of the project when findings can point into it (its
/// `thresholds:`, its routing tests), and its thresholds are declared there.
fn add_config_source(project: &mut Project, config: &Config, base: &Path) {
    if config.thresholds.is_empty() && config.routing_tests.is_empty() {
        return;
    }
    let fs_path = config
        .path
        .clone()
        .unwrap_or_else(|| base.join(crate::config::FILE_NAME));
    let shown = display_path(&fs_path, base);
    let id = project
        .sources
        .add(shown, fs_path, config.text.clone(), None);
    project.config_source = Some(id);
    let mut model = FileModel::new(id, FileKind::Unknown);
    for t in &config.thresholds {
        model.thresholds.extend(crate::model::thresholds::declare(
            &t.name,
            "",
            &t.value,
            t.unit,
            t.kind,
            crate::model::thresholds::Origin::Config,
            id,
            t.name_span.clone(),
            t.value_span.clone(),
            t.alert.clone(),
        ));
    }
    project.files.push(model);
}

/// The whole `check` pipeline.
pub fn check(opts: &CheckOptions) -> Result<Outcome, RunError> {
    check_with(opts, |_| Ok(()))
}

/// [`check`] with a step that adds to the project before the checks run (the probe results).
pub fn check_with(
    opts: &CheckOptions,
    extend: impl FnOnce(&mut Project) -> Result<(), RunError>,
) -> Result<Outcome, RunError> {
    let filter =
        Filter::new(&opts.config.include, &opts.config.exclude).map_err(RunError::Usage)?;
    let at_load = AtLoad::new(&opts.config, opts.only.as_deref());
    let mut project = load_checking(&opts.paths, &opts.base, &filter, Some(&at_load))?;
    project.operator_settings = opts.config.operator.clone();
    add_config_source(&mut project, &opts.config, &opts.base);
    extend(&mut project)?;
    // the findings of the checks run at load, in file order (each file keeps an empty list:
    // they ran)
    let early: Vec<Vec<Resolved>> = project
        .files
        .iter_mut()
        .filter_map(|f| f.early.as_mut().map(std::mem::take))
        .collect();
    let findings = run_checks_with(&project, &opts.config, opts.only.as_deref(), early);
    Ok(Outcome { project, findings })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(path: &str, line: u32, check: &'static str, message: &str) -> Resolved {
        Resolved {
            check,
            severity: Severity::Warning,
            path: Arc::from(path),
            line,
            column: 1,
            end_line: line,
            end_column: 2,
            message: message.into(),
            help: None,
            fingerprint: Fingerprint::default(),
            file: FileId(0),
            span: line as usize..line as usize + 1,
            label: None,
            labels: Box::default(),
            context: crate::checks::Context::default(),
            fix: None,
        }
    }

    fn order(f: &Findings) -> Vec<(String, u32, &'static str, String)> {
        f.iter()
            .map(|r| (r.path.to_string(), r.line, r.check, r.message.to_string()))
            .collect()
    }

    /// Lists sorted file by file give what one stable sort of them all gave: path order, lines
    /// within a path, equal findings in the order they came, exact duplicates dropped.
    #[test]
    fn lists_sort_as_one() {
        let mut tie_a = finding("b.yml", 3, "x/y", "same");
        tie_a.help = Some("first".into());
        let mut tie_b = finding("b.yml", 3, "x/y", "same");
        tie_b.span = 30..31;
        tie_b.help = Some("second".into());
        let lists = vec![
            // mixed paths, split up
            vec![
                finding("b.yml", 9, "x/y", "m"),
                finding("a.yml", 2, "x/y", "m"),
                tie_a.clone(),
            ],
            vec![
                finding("c.yml", 1, "x/y", "m"),
                finding("c.yml", 1, "x/y", "m"),
            ],
            Vec::new(),
            vec![finding("a.yml", 1, "x/z", "m"), tie_b.clone()],
        ];
        let mut all: Vec<Resolved> = lists.iter().flatten().cloned().collect();
        all.sort_by(|a, b| {
            (&a.path, a.line, a.column, a.check, &a.message)
                .cmp(&(&b.path, b.line, b.column, b.check, &b.message))
        });
        all.dedup_by(|a, b| {
            a.path == b.path && a.span == b.span && a.check == b.check && a.message == b.message
        });
        let sorted = Findings::sorted(lists);
        assert_eq!(sorted.iter().cloned().collect::<Vec<_>>(), all);
        assert_eq!(sorted.len(), 6);
        assert_eq!(
            order(&sorted),
            [
                ("a.yml".into(), 1, "x/z", "m".into()),
                ("a.yml".into(), 2, "x/y", "m".into()),
                ("b.yml".into(), 3, "x/y", "same".into()),
                ("b.yml".into(), 3, "x/y", "same".into()),
                ("b.yml".into(), 9, "x/y", "m".into()),
                ("c.yml".into(), 1, "x/y", "m".into()),
            ]
        );
        // the tie keeps its input order; the duplicate in c.yml is gone
        assert_eq!(sorted[2].help, Some("first".into()));
        assert_eq!(sorted[3].help, Some("second".into()));
        let mut kept = sorted.clone();
        kept.retain(|f| f.path.as_ref() != "b.yml");
        assert_eq!(kept.len(), 3);
        assert_eq!(kept[2].path.as_ref(), "c.yml");
        kept.retain(|_| false);
        assert!(kept.is_empty());
    }
}
