//! The metric inventory: metrics defined in application source (prom-client, client_golang,
//! prometheus_client), with the series names Prometheus will store for each.

use crate::parse::metric_defs::{self, MetricDef, MetricType};
use crate::source::FileId;
use std::collections::HashMap;

/// A definition with the file it is written in.
#[derive(Debug, Clone, Copy)]
pub struct DefRef<'a> {
    pub file: FileId,
    pub def: &'a MetricDef,
}

impl DefRef<'_> {
    /// Does this definition produce the series `name` (`x_bucket` for a histogram `x`)?
    pub fn produces(&self, name: &str) -> bool {
        let d = self.def;
        if d.name == name {
            return true;
        }
        let Some((base, suffix)) = name.rsplit_once('_') else {
            return false;
        };
        if base != d.name || !d.kind_known {
            return false;
        }
        match d.kind {
            MetricType::Histogram => matches!(suffix, "bucket" | "sum" | "count"),
            MetricType::Summary => matches!(suffix, "sum" | "count"),
            _ => false,
        }
    }

    /// Labels a series of `name` carries beyond the defined ones (`le`, `quantile`).
    pub fn extra_label(&self, name: &str, label: &str) -> bool {
        if !self.def.kind_known {
            return false;
        }
        match self.def.kind {
            MetricType::Histogram => label == "le" && name.ends_with("_bucket"),
            MetricType::Summary => label == "quantile" && name == self.def.name,
            _ => false,
        }
    }

    /// Bucket boundaries, explicit or the library's default.
    pub fn buckets(&self, lang: Option<metric_defs::Lang>) -> Option<Vec<f64>> {
        if self.def.kind != MetricType::Histogram || !self.def.kind_known {
            return None;
        }
        match (&self.def.buckets, self.def.buckets_default, lang) {
            (Some(b), _, _) => Some(b.clone()),
            (None, true, Some(l)) => Some(metric_defs::default_buckets(l).to_vec()),
            _ => None,
        }
    }
}

/// Every metric definition of the run.
pub fn definitions(project: &crate::model::Project) -> Vec<DefRef<'_>> {
    project
        .files
        .iter()
        .filter_map(|f| Some((f.file, f.metrics.as_ref()?)))
        .flat_map(|(file, m)| m.defs.iter().map(move |def| DefRef { file, def }))
        .collect()
}

/// The language a definition's file is written in.
pub fn lang_of(project: &crate::model::Project, file: FileId) -> Option<metric_defs::Lang> {
    let src = project.sources.get(file);
    let key = src.path.rsplit('#').next().unwrap_or(&src.path);
    metric_defs::lang_for_path(key)
}

/// Names of the series the default collectors (`collectDefaultMetrics`, Go/process
/// collectors, Python's default registry) expose, with their prefixes.
pub fn default_series(project: &crate::model::Project) -> Vec<String> {
    let mut out = Vec::new();
    for f in &project.files {
        let Some(m) = &f.metrics else { continue };
        for d in &m.defaults {
            let prefix = d.prefix.clone().unwrap_or_default();
            for (name, kind) in metric_defs::default_metric_names(d.lang) {
                let base = format!("{prefix}{name}");
                match kind {
                    MetricType::Histogram => {
                        for s in ["_bucket", "_sum", "_count"] {
                            out.push(format!("{base}{s}"));
                        }
                    }
                    MetricType::Summary => {
                        for s in ["_sum", "_count"] {
                            out.push(format!("{base}{s}"));
                        }
                    }
                    _ => {}
                }
                out.push(base);
            }
        }
    }
    out
}

/// A source file of the run that uses no client library: read only for the constants and
/// label lists it defines for the files that do ([`resolve`]).
pub struct OtherSource {
    pub path: std::path::PathBuf,
    pub text: std::sync::Arc<str>,
}

/// Lexically normalized path (`a/./b/../c` is `a/c`), for matching imports to files.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

use std::path::{Component, Path, PathBuf};

/// One source file of the run, for the resolution pass.
struct Unit<'a> {
    lang: metric_defs::Lang,
    /// The model's index for a file that uses a client library.
    model: Option<usize>,
    text: &'a str,
    offers: std::sync::OnceLock<metric_defs::Extracted>,
}

/// The project-level step of reading definitions: names a definition uses that its file does
/// not define (constants and label lists of another file of the same Go package, or of the
/// Python/JS module it imports them from; Go descs whose value type is set in another file of
/// the package) are looked up, and the files that need them are read again with them. Each
/// file is read at most twice, and each other file's top level once.
pub fn resolve(project: &mut crate::model::Project, others: &[OtherSource]) {
    let pending: Vec<usize> = project
        .files
        .iter()
        .enumerate()
        .filter(|(_, f)| f.metrics.as_ref().is_some_and(|m| !m.unresolved.is_empty()))
        .map(|(i, _)| i)
        .collect();
    // JS wrappers exported for other modules (`export const createCounter = (opts) =>
    // new Counter(opts)`): their callers need not mention prom-client
    let wrappers = project.files.iter().any(|f| {
        f.metrics.as_ref().is_some_and(|m| {
            m.exports
                .iter()
                .any(|e| matches!(e.1, metric_defs::Val::Wrapper(..)))
        })
    });
    if pending.is_empty() && !wrappers {
        return;
    }
    let mut units: Vec<(PathBuf, Unit)> = Vec::new();
    for (i, f) in project.files.iter().enumerate() {
        let s = project.sources.get(f.file);
        if s.origin.is_some() || f.metrics.is_none() {
            continue;
        }
        let Some(lang) = metric_defs::lang_for_path(&s.path) else {
            continue;
        };
        units.push((
            normalize(&s.fs_path),
            Unit {
                lang,
                model: Some(i),
                text: &s.text,
                offers: Default::default(),
            },
        ));
    }
    let others_start = units.len();
    for o in others {
        let Some(lang) = metric_defs::lang_for_path(&o.path.to_string_lossy()) else {
            // keep the indices of `others` and of their units in step
            units.push((
                PathBuf::new(),
                Unit {
                    lang: metric_defs::Lang::Go,
                    model: None,
                    text: "",
                    offers: Default::default(),
                },
            ));
            continue;
        };
        units.push((
            normalize(&o.path),
            Unit {
                lang,
                model: None,
                text: &o.text,
                offers: Default::default(),
            },
        ));
    }
    let by_path: HashMap<&Path, usize> = units
        .iter()
        .enumerate()
        .map(|(k, (p, _))| (p.as_path(), k))
        .collect();
    let mut by_dir: HashMap<&Path, Vec<usize>> = HashMap::new();
    for (k, (p, u)) in units.iter().enumerate() {
        if u.lang == metric_defs::Lang::Go {
            by_dir
                .entry(p.parent().unwrap_or(Path::new("")))
                .or_default()
                .push(k);
        }
    }
    // Python files by file name, for absolute imports (`from app.metrics import X`)
    let mut by_name: HashMap<&std::ffi::OsStr, Vec<usize>> = HashMap::new();
    for (k, (p, u)) in units.iter().enumerate() {
        if u.lang == metric_defs::Lang::Python {
            if let Some(n) = p.file_name() {
                by_name.entry(n).or_default().push(k);
            }
        }
    }
    let offers = |k: usize| -> &metric_defs::Extracted {
        let u = &units[k].1;
        u.offers.get_or_init(|| match u.model {
            Some(i) => {
                let m = project.files[i].metrics.as_ref();
                let mut e = metric_defs::Extracted::default();
                if let Some(m) = m {
                    e.exports = m.exports.clone();
                    e.reexports = m.reexports.clone();
                    e.desc_uses = m.desc_uses.clone();
                }
                e
            }
            None => metric_defs::exports(u.lang, u.text),
        })
    };
    let mut redo: Vec<(usize, std::sync::Arc<metric_defs::Env>)> = Vec::new();
    let mut dir_envs: Vec<std::sync::Arc<metric_defs::Env>> = Vec::new();
    let mut dir_index: HashMap<PathBuf, usize> = HashMap::new();
    for i in pending {
        let f = &project.files[i];
        let Some(m) = f.metrics.as_ref() else {
            continue;
        };
        let s = project.sources.get(f.file);
        let Some(lang) = metric_defs::lang_for_path(&s.path) else {
            continue;
        };
        let path = normalize(&s.fs_path);
        let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let mut env = metric_defs::Env::default();
        let wanted: std::collections::HashSet<&str> =
            m.unresolved.iter().map(String::as_str).collect();
        match lang {
            metric_defs::Lang::Go => {
                // the package's names, gathered once per directory
                let k = dir_envs.len();
                let at = *dir_index.entry(dir.clone()).or_insert(k);
                if at == k {
                    let mut env = metric_defs::Env::default();
                    for &u in by_dir.get(dir.as_path()).map(Vec::as_slice).unwrap_or(&[]) {
                        let o = offers(u);
                        for (name, v) in &o.exports {
                            let v = match v {
                                // one hop to another package of the module
                                metric_defs::Val::Ref(key) => {
                                    let Some((import, n)) = key.rsplit_once('.') else {
                                        continue;
                                    };
                                    let Some(d) = package_dir(import, by_dir.keys().copied())
                                    else {
                                        continue;
                                    };
                                    let found = by_dir[d].iter().find_map(|&u| {
                                        offers(u)
                                            .exports
                                            .iter()
                                            .find(|(x, _)| x == n)
                                            .map(|x| x.1.clone())
                                    });
                                    match found {
                                        Some(v @ metric_defs::Val::Str(_)) => v,
                                        _ => continue,
                                    }
                                }
                                v => v.clone(),
                            };
                            env.vals.entry(name.clone()).or_insert(v);
                        }
                        for (holder, kind) in &o.desc_uses {
                            env.desc_uses.entry(holder.clone()).or_default().push(*kind);
                        }
                    }
                    dir_envs.push(std::sync::Arc::new(env));
                }
                let mut env = std::sync::Arc::clone(&dir_envs[at]);
                // `pkg.Name` of another package of the module: the directory whose path ends
                // like the import path (the longest such ending, when only one has it)
                for key in m.unresolved.iter().filter(|u| u.contains('/')) {
                    let Some((import, name)) = key.rsplit_once('.') else {
                        continue;
                    };
                    let Some(d) = package_dir(import, by_dir.keys().copied()) else {
                        continue;
                    };
                    let v = by_dir[d].iter().find_map(|&u| {
                        offers(u)
                            .exports
                            .iter()
                            .find(|(n, _)| n == name)
                            .map(|x| x.1.clone())
                    });
                    if let Some(v) = v {
                        std::sync::Arc::make_mut(&mut env)
                            .vals
                            .insert(key.clone(), v);
                    }
                }
                let useful = m.unresolved.iter().any(|u| match u.strip_prefix("desc:") {
                    Some(h) => env.desc_uses.contains_key(h),
                    None => env.vals.contains_key(u),
                });
                if useful {
                    redo.push((i, env));
                }
                continue;
            }
            _ => {
                for (local, module, exported) in &m.imports {
                    if !wanted.contains(local.as_str()) {
                        continue;
                    }
                    let targets = module_files(lang, &dir, module, &by_path, &by_name, &units);
                    let found = targets
                        .into_iter()
                        .find_map(|k| exported_value(k, exported, 0, &offers, &by_path, &units));
                    if let Some(v) = found {
                        env.vals.insert(local.clone(), v);
                    }
                }
            }
        }
        if !env.vals.is_empty() {
            redo.push((i, std::sync::Arc::new(env)));
        }
    }
    // files using no client library that call a wrapper another module exports
    let mut added: Vec<(usize, metric_defs::Extracted)> = Vec::new();
    if wrappers {
        for (k, (_, u)) in units.iter().enumerate() {
            if u.model.is_some() || u.lang != metric_defs::Lang::JavaScript {
                continue;
            }
            let o = offers(k);
            let dir = units[k].0.parent().unwrap_or(Path::new("")).to_path_buf();
            let mut env = metric_defs::Env::default();
            for (local, module, exported) in &o.imports {
                for t in module_files(u.lang, &dir, module, &by_path, &by_name, &units) {
                    if let Some(v @ metric_defs::Val::Wrapper(..)) =
                        exported_value(t, exported, 0, &offers, &by_path, &units)
                    {
                        env.vals.insert(local.clone(), v);
                        break;
                    }
                }
            }
            if env.vals.is_empty() {
                continue;
            }
            let mut ex = metric_defs::extract_with(u.lang, u.text, &env);
            if ex.defs.is_empty() && ex.problems.is_empty() {
                continue;
            }
            // names it takes from other modules: one more look, as for the others
            let mut more = metric_defs::Env::default();
            for (local, module, exported) in &ex.imports {
                if !ex.unresolved.contains(local) {
                    continue;
                }
                let found = module_files(u.lang, &dir, module, &by_path, &by_name, &units)
                    .into_iter()
                    .find_map(|t| exported_value(t, exported, 0, &offers, &by_path, &units));
                if let Some(v) = found {
                    more.vals.insert(local.clone(), v);
                }
            }
            if !more.vals.is_empty() {
                env.vals.extend(more.vals);
                ex = metric_defs::extract_with(u.lang, u.text, &env);
            }
            added.push((k - others_start, ex));
        }
    }
    drop(by_path);
    drop(by_dir);
    drop(by_name);
    drop(units);
    for (o, ex) in added {
        let other = &others[o];
        let shown = crate::source::display_path(&other.path, &project.base);
        let id = project.sources.add(
            shown,
            other.path.clone(),
            std::sync::Arc::clone(&other.text),
            None,
        );
        let mut model = crate::model::FileModel::new(id, crate::model::FileKind::MetricDefinitions);
        model.metrics = Some(ex);
        project.files.push(model);
    }
    for (i, env) in redo {
        let f = &project.files[i];
        let s = project.sources.get(f.file);
        let Some(lang) = metric_defs::lang_for_path(&s.path) else {
            continue;
        };
        let ex = metric_defs::extract_with(lang, &s.text, &env);
        let f = &mut project.files[i];
        if !ex.defs.is_empty() || !ex.defaults.is_empty() {
            f.kind = crate::model::FileKind::MetricDefinitions;
        }
        f.metrics = Some(ex);
    }
}

/// The directory of the run holding the Go package `import`: the one whose path ends with
/// the most of the import path's last segments, if only one does.
fn package_dir<'p>(import: &str, dirs: impl Iterator<Item = &'p Path>) -> Option<&'p Path> {
    let segs: Vec<&str> = import.split('/').collect();
    let mut best: Option<(usize, &'p Path, bool)> = None;
    for d in dirs {
        let n = (1..=segs.len())
            .rev()
            .find(|&n| d.ends_with(segs[segs.len() - n..].iter().collect::<PathBuf>()))
            .unwrap_or(0);
        if n == 0 {
            continue;
        }
        best = match best {
            Some((m, p, u)) if m > n => Some((m, p, u)),
            Some((m, p, _)) if m == n => Some((m, p, false)),
            _ => Some((n, d, true)),
        };
    }
    best.filter(|b| b.2).map(|b| b.1)
}

/// The files a JS/Python import of `module` from a file in `dir` may name.
fn module_files(
    lang: metric_defs::Lang,
    dir: &Path,
    module: &str,
    by_path: &HashMap<&Path, usize>,
    by_name: &HashMap<&std::ffi::OsStr, Vec<usize>>,
    units: &[(PathBuf, Unit)],
) -> Vec<usize> {
    let mut cands: Vec<PathBuf> = Vec::new();
    match lang {
        metric_defs::Lang::JavaScript => {
            if !module.starts_with('.') {
                return Vec::new();
            }
            let base = normalize(&dir.join(module));
            let b = base.to_string_lossy().to_string();
            for ext in ["", ".ts", ".tsx", ".js", ".mjs", ".cjs", ".mts", ".cts"] {
                cands.push(PathBuf::from(format!("{b}{ext}")));
            }
            for (js, ts) in [
                (".js", ".ts"),
                (".js", ".tsx"),
                (".mjs", ".mts"),
                (".cjs", ".cts"),
            ] {
                if let Some(stem) = b.strip_suffix(js) {
                    cands.push(PathBuf::from(format!("{stem}{ts}")));
                }
            }
            for index in ["index.ts", "index.js", "index.mjs", "index.tsx"] {
                cands.push(base.join(index));
            }
        }
        metric_defs::Lang::Python => {
            let dots = module.len() - module.trim_start_matches('.').len();
            let rest = &module[dots..];
            let parts: Vec<&str> = rest.split('.').filter(|p| !p.is_empty()).collect();
            if dots > 0 {
                let mut base = dir.to_path_buf();
                for _ in 1..dots {
                    base.pop();
                }
                let p = parts.iter().fold(base, |b, x| b.join(x));
                cands.push(p.with_extension("py"));
                cands.push(p.join("__init__.py"));
            } else if let Some(last) = parts.last() {
                // an absolute import: a file of the run whose path ends with the module's
                let file = format!("{last}.py");
                let mut out = Vec::new();
                let tail: PathBuf = parts.iter().collect();
                for name in [file.as_str(), "__init__.py"] {
                    for &k in by_name
                        .get(std::ffi::OsStr::new(name))
                        .map(Vec::as_slice)
                        .unwrap_or(&[])
                    {
                        let p = &units[k].0;
                        let ok = match name {
                            "__init__.py" => p.parent().is_some_and(|d| d.ends_with(&tail)),
                            _ => p.with_extension("").ends_with(&tail),
                        };
                        if ok {
                            out.push(k);
                        }
                    }
                }
                return out;
            }
        }
        metric_defs::Lang::Go => {}
    }
    cands
        .iter()
        .filter_map(|c| by_path.get(c.as_path()).copied())
        .collect()
}

/// The value a file exports under `name`, following JS re-exports.
fn exported_value<'u>(
    k: usize,
    name: &str,
    depth: usize,
    offers: &dyn Fn(usize) -> &'u metric_defs::Extracted,
    by_path: &HashMap<&Path, usize>,
    units: &[(PathBuf, Unit)],
) -> Option<metric_defs::Val> {
    let o = offers(k);
    if let Some((_, v)) = o.exports.iter().find(|(n, _)| n == name) {
        return Some(v.clone());
    }
    if depth >= 4 {
        return None;
    }
    let dir = units[k].0.parent().unwrap_or(Path::new("")).to_path_buf();
    let empty = HashMap::new();
    for (module, pair) in &o.reexports {
        let wanted = match pair {
            None => name,
            Some((there, here)) if here == name => there.as_str(),
            Some(_) => continue,
        };
        for t in module_files(units[k].1.lang, &dir, module, by_path, &empty, units) {
            if let Some(v) = exported_value(t, wanted, depth + 1, offers, by_path, units) {
                return Some(v);
            }
        }
    }
    None
}

/// Where an inventory entry was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// A metric definition in application source.
    Definition,
    /// A scrape: a committed exposition file or a probed target (a probe record).
    Scrape,
    /// A recording rule's output (its type is not guessed).
    RecordingRule,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Definition => "definition",
            Source::Scrape => "scrape",
            Source::RecordingRule => "recording-rule",
        }
    }
}

/// What is known of a histogram's buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HistogramForm {
    /// Classic buckets (`_bucket{le}` series): scraped, or a definition with buckets.
    pub classic: bool,
    /// Native buckets: a definition declaring them (client_golang
    /// `NativeHistogramBucketFactor`), or a scraped histogram without `_bucket` series.
    pub native: bool,
}

/// One metric of the inventory: a definition, a scraped family or a recording rule's output.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    /// `counter`, `gauge`, `histogram`, `summary`, a scrape's other types (`gaugehistogram`,
    /// `info`, `stateset`, `unknown` for an untyped family), or `unknown` (recording rules).
    pub kind: &'static str,
    /// Label names (without `le`/`quantile`); `None` when unknown.
    pub labels: Option<Vec<String>>,
    /// A histogram's finite bucket boundaries, when known.
    pub buckets: Option<Vec<f64>>,
    pub histogram: Option<HistogramForm>,
    /// The series names the metric gives, each with whether it counts (a counter, a histogram's
    /// or summary's `_bucket`/`_sum`/`_count`) or is a gauge's level (`Some(false)`); `None`
    /// for the others.
    pub series: Vec<(String, Option<bool>)>,
    pub file: FileId,
    pub span: crate::source::Span,
    pub source: Source,
}

/// Does a client_golang histogram definition declare native buckets only
/// (`NativeHistogramBucketFactor` and no `Buckets`, so the library makes no classic buckets)?
/// Read from the call's text: the definition parser does not keep the option.
fn go_native(project: &crate::model::Project, d: &DefRef) -> (bool, bool) {
    let text = project.src(d.file);
    let call = text.get(d.def.span.clone()).unwrap_or("");
    let native = call.contains("NativeHistogramBucketFactor");
    let classic = !native || d.def.buckets_span.is_some();
    (classic, native)
}

/// The run's metric inventory: definitions in application source, the families of committed
/// scrapes and probe records, and the outputs of recording rules, in file order.
pub fn inventory(project: &crate::model::Project) -> Vec<Entry> {
    use crate::parse::exposition::MetricType as E;
    let mut out = Vec::new();
    for f in &project.files {
        if let Some(m) = &f.metrics {
            for def in &m.defs {
                let d = DefRef { file: f.file, def };
                let lang = lang_of(project, f.file);
                let n = &def.name;
                if n.is_empty() {
                    // a name that could not be read: metrics/unreadable-definition says so
                    continue;
                }
                let (series, histogram) = match def.kind {
                    // a type that could not be read is no evidence either way
                    _ if !def.kind_known => (vec![(n.clone(), None)], None),
                    MetricType::Counter => (vec![(n.clone(), Some(true))], None),
                    MetricType::Gauge => (vec![(n.clone(), Some(false))], None),
                    MetricType::Histogram => {
                        let (classic, native) = if lang == Some(metric_defs::Lang::Go) {
                            go_native(project, &d)
                        } else {
                            (true, false)
                        };
                        let mut s = vec![(n.clone(), None)];
                        if classic {
                            s.push((format!("{n}_bucket"), Some(true)));
                        }
                        s.push((format!("{n}_sum"), Some(true)));
                        s.push((format!("{n}_count"), Some(true)));
                        (s, Some(HistogramForm { classic, native }))
                    }
                    MetricType::Summary => (
                        vec![
                            (n.clone(), None),
                            (format!("{n}_sum"), Some(true)),
                            (format!("{n}_count"), Some(true)),
                        ],
                        None,
                    ),
                };
                let buckets = match histogram {
                    Some(h) if h.classic => d.buckets(lang),
                    _ => None,
                };
                out.push(Entry {
                    name: n.clone(),
                    kind: if def.kind_known {
                        def.kind.as_str()
                    } else {
                        "unknown"
                    },
                    labels: def
                        .labels_known
                        .then(|| def.labels.iter().map(|(l, _)| l.clone()).collect()),
                    buckets,
                    histogram,
                    series,
                    file: f.file,
                    span: def.name_span.clone(),
                    source: Source::Definition,
                });
            }
        }
        if let Some((expo, _)) = &f.exposition {
            for fam in &expo.families {
                let mut labels: Vec<String> = Vec::new();
                let mut series: Vec<(String, Option<bool>)> = Vec::new();
                let mut les: Vec<f64> = Vec::new();
                let mut bucketed = false;
                for s in &fam.samples {
                    for l in &s.labels {
                        let bucket_le = l.name == "le"
                            && s.name.ends_with("_bucket")
                            && matches!(fam.kind, E::Histogram | E::GaugeHistogram);
                        if bucket_le || l.name == "quantile" && fam.kind == E::Summary {
                            if l.name == "le" {
                                if let Ok(v) = l.value.parse::<f64>() {
                                    if v.is_finite() && !les.contains(&v) {
                                        les.push(v);
                                    }
                                }
                            }
                            continue;
                        }
                        if !labels.contains(&l.name) {
                            labels.push(l.name.clone());
                        }
                    }
                    if series.iter().any(|(n, _)| *n == s.name) {
                        continue;
                    }
                    let suffix = s.name.strip_prefix(fam.name.as_str()).unwrap_or("");
                    bucketed |= suffix == "_bucket";
                    let counts = match fam.kind {
                        E::Counter => Some(true),
                        E::Gauge => Some(false),
                        E::Histogram | E::Summary | E::GaugeHistogram => {
                            matches!(suffix, "_bucket" | "_sum" | "_count" | "_created")
                                .then_some(fam.kind != E::GaugeHistogram)
                        }
                        _ => None,
                    };
                    series.push((s.name.clone(), counts));
                }
                labels.sort();
                les.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
                let histogram = (fam.kind == E::Histogram).then_some(HistogramForm {
                    classic: bucketed,
                    native: !bucketed && !fam.samples.is_empty(),
                });
                // where the type is said (the `# TYPE` line), else where the name first is
                let span = fam
                    .type_span
                    .clone()
                    .or_else(|| fam.name_span.clone())
                    .or_else(|| fam.samples.first().map(|s| s.name_span.clone()))
                    .unwrap_or(0..0);
                out.push(Entry {
                    name: fam.name.clone(),
                    kind: fam.kind.as_str(),
                    // a family with no samples shows no labels: unknown, not none
                    labels: (!fam.samples.is_empty()).then_some(labels),
                    buckets: (fam.kind == E::Histogram && bucketed).then_some(les),
                    histogram,
                    series,
                    file: f.file,
                    span,
                    source: Source::Scrape,
                });
            }
        }
        for r in crate::model::rules_of(std::slice::from_ref(f)) {
            if r.rule.kind != crate::parse::prom_rules::RuleKind::Record {
                continue;
            }
            out.push(Entry {
                name: r.rule.name.value.to_string(),
                kind: "unknown",
                labels: None,
                buckets: None,
                histogram: None,
                series: Vec::new(),
                file: f.file,
                span: r.rule.name.span.clone(),
                source: Source::RecordingRule,
            });
        }
    }
    out
}

/// Where a span is, in its outer file: `path:line:col` (a file embedded in another one is
/// placed in the outer file).
pub fn place(sources: &crate::source::Sources, file: FileId, span: &crate::source::Span) -> String {
    let (outer, span) = sources.resolve(file, span);
    let s = sources.get(outer);
    let (l, c) = s.line_col(span.start);
    format!("{}:{l}:{c}", s.path)
}

/// What the inventory says of each series name (for the checks that judge by type).
#[derive(Debug, Default)]
pub struct Types {
    /// Series name -> where it is known to be a counter's (or a histogram's count).
    pub counters: std::collections::HashMap<String, (FileId, crate::source::Span, Source)>,
    /// Series name -> where it is known to be a gauge.
    pub gauges: std::collections::HashMap<String, (FileId, crate::source::Span, Source)>,
    /// Histogram name -> what is known of its buckets, and where.
    pub histograms:
        std::collections::HashMap<String, (HistogramForm, FileId, crate::source::Span, Source)>,
}

impl Types {
    pub fn of(entries: &[Entry]) -> Types {
        let mut t = Types::default();
        for e in entries {
            for (series, counts) in &e.series {
                let map = match counts {
                    Some(true) => &mut t.counters,
                    Some(false) => &mut t.gauges,
                    None => continue,
                };
                map.entry(series.clone())
                    .or_insert_with(|| (e.file, e.span.clone(), e.source));
            }
            if let Some(h) = e.histogram {
                let slot = t.histograms.entry(e.name.clone()).or_insert_with(|| {
                    (HistogramForm::default(), e.file, e.span.clone(), e.source)
                });
                slot.0.classic |= h.classic;
                slot.0.native |= h.native;
            }
        }
        t
    }

    /// Is `name` known as a gauge and never as a counter? Where it is one.
    pub fn gauge(&self, name: &str) -> Option<&(FileId, crate::source::Span, Source)> {
        if self.counters.contains_key(name) {
            return None;
        }
        self.gauges.get(name)
    }

    /// Is `name` a histogram known to have classic buckets only? Where it is defined.
    pub fn classic_only(
        &self,
        name: &str,
    ) -> Option<&(HistogramForm, FileId, crate::source::Span, Source)> {
        self.histograms
            .get(name)
            .filter(|(h, ..)| h.classic && !h.native)
    }
}

/// An entry as printed: where it is (in its outer file) and its fields.
struct Row<'a> {
    entry: &'a Entry,
    path: String,
    line: usize,
    column: usize,
}

/// The entries in report order (path, line, column, name), placed in their outer files.
fn rows<'a>(project: &crate::model::Project, entries: &'a [Entry]) -> Vec<Row<'a>> {
    let mut rows: Vec<Row> = entries
        .iter()
        .map(|e| {
            let (outer, span) = project.sources.resolve(e.file, &e.span);
            let s = project.sources.get(outer);
            let (line, column) = s.line_col(span.start);
            Row {
                entry: e,
                path: s.path.clone(),
                line,
                column,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.entry.name).cmp(&(&b.path, b.line, b.column, &b.entry.name))
    });
    rows
}

fn num(v: f64) -> String {
    crate::model::thresholds::num(v)
}

/// `obsgate inventory --format text`: one line per metric (name, type, labels, file:line,
/// source; a histogram's buckets when known). Unknown labels are `?`.
pub fn render_text(project: &crate::model::Project, entries: &[Entry]) -> String {
    let rows = rows(project, entries);
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            let e = r.entry;
            let labels = match &e.labels {
                Some(l) => format!("{{{}}}", l.join(",")),
                None => "?".to_string(),
            };
            let mut source = e.source.as_str().to_string();
            if let Some(b) = &e.buckets {
                let b: Vec<String> = b.iter().map(|v| num(*v)).collect();
                source.push_str(&format!("  buckets={}", b.join(",")));
            }
            [
                e.name.clone(),
                e.kind.to_string(),
                labels,
                format!("{}:{}", r.path, r.line),
                source,
            ]
        })
        .collect();
    let mut widths = [0usize; 4];
    for c in &cells {
        for (w, cell) in widths.iter_mut().zip(c.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut s = String::new();
    for c in &cells {
        for (i, cell) in c.iter().enumerate() {
            if i < 4 {
                s.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            } else {
                s.push_str(cell);
            }
        }
        s.push('\n');
    }
    if cells.is_empty() {
        s.push_str("no metrics found (no definitions, scrapes or recording rules)\n");
    }
    s
}

/// `obsgate inventory --format json`: `{"metrics": [{"name", "type", "labels", "buckets",
/// "file", "line", "column", "source"}]}`; `labels` is `null` when unknown, `buckets` unless a
/// histogram with known buckets.
pub fn render_json(project: &crate::model::Project, entries: &[Entry]) -> String {
    #[derive(serde::Serialize)]
    struct Metric<'a> {
        name: &'a str,
        #[serde(rename = "type")]
        kind: &'a str,
        labels: &'a Option<Vec<String>>,
        buckets: &'a Option<Vec<f64>>,
        file: &'a str,
        line: usize,
        column: usize,
        source: Source,
    }
    #[derive(serde::Serialize)]
    struct Inventory<'a> {
        metrics: Vec<Metric<'a>>,
    }
    let rows = rows(project, entries);
    let metrics = rows
        .iter()
        .map(|r| Metric {
            name: &r.entry.name,
            kind: r.entry.kind,
            labels: &r.entry.labels,
            buckets: &r.entry.buckets,
            file: &r.path,
            line: r.line,
            column: r.column,
            source: r.entry.source,
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&Inventory { metrics }).unwrap_or_default();
    s.push('\n');
    s
}
