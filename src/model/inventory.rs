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
