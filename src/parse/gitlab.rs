//! GitLab CI pipelines assembled the way GitLab assembles them before it validates anything
//! (`Gitlab::Ci::Config#build_config`: YAML load with `spec: inputs` interpolation, local
//! `include:`s merged, `extends` resolved, `!reference` tags resolved, nested arrays flattened).
//! Every node keeps the file and span it was written at, so that a problem found in the assembled
//! pipeline is reported where the user wrote it (the job, the template or the included file).
//!
//! Content obsgate cannot see (remote/project/template/component includes, includes whose
//! location is a variable, inputs without a value) is [`GValue::Unknown`]: nothing that rests on
//! it is reported.

use std::collections::HashMap;

use crate::parse::yaml::{Node, Value};
use crate::source::{FileId, Span};

/// A node of an assembled pipeline, with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct GNode {
    pub value: GValue,
    pub file: FileId,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum GValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<GNode>),
    Map(Vec<(GKey, GNode)>),
    /// `!reference [job, key, ...]`, not yet resolved.
    Ref(Vec<String>),
    /// Content obsgate cannot know (an input without a value, a reference into an unseen file).
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GKey {
    pub name: String,
    pub file: FileId,
    pub span: Span,
}

impl GNode {
    pub fn get(&self, key: &str) -> Option<&GNode> {
        self.entries()
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    pub fn entries(&self) -> &[(GKey, GNode)] {
        match &self.value {
            GValue::Map(m) => m,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[GNode] {
        match &self.value {
            GValue::Seq(s) => s,
            _ => &[],
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            GValue::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, GValue::Map(_))
    }

    fn map(file: FileId, span: Span, entries: Vec<(GKey, GNode)>) -> GNode {
        GNode {
            value: GValue::Map(entries),
            file,
            span,
        }
    }

    /// Does the node hold content obsgate cannot know?
    pub fn has_unknown(&self) -> bool {
        match &self.value {
            GValue::Unknown | GValue::Ref(_) => true,
            GValue::Seq(s) => s.iter().any(GNode::has_unknown),
            GValue::Map(m) => m.iter().any(|(_, v)| v.has_unknown()),
            _ => false,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Loading one file: `spec: inputs` and `$[[ inputs.x ]]` interpolation
// ---------------------------------------------------------------------------------------------

/// The values of a file's inputs (GitLab CI/YAML `spec:inputs`): given by the include, else the
/// input's `default`; `None` when neither says (the value is unknown here).
pub type Inputs = HashMap<String, Option<GNode>>;

/// A file's inputs from its `spec:` header document and the values an include passes.
/// Docs: "Define inputs for configuration added with include" (`spec:inputs`,
/// `spec:inputs:default`).
pub fn inputs_of(spec: &Node, src: &str, file: FileId, given: Option<&GNode>) -> Inputs {
    let mut out = Inputs::new();
    let Some(inputs) = spec.get("spec").and_then(|s| s.get("inputs")) else {
        return out;
    };
    for (k, def) in inputs.entries() {
        let value = match given.and_then(|g| g.get(&k.name)) {
            Some(v) if !v.has_unknown() => Some(v.clone()),
            Some(_) => None,
            None => def.get("default").map(|d| from_yaml(d, src, file, None, 0)),
        };
        out.insert(k.name.clone(), value);
    }
    out
}

/// One `$[[ ... ]]` block of a string: the input's value after the functions, or `None` when it
/// cannot be known.
fn interpolate_block(expr: &str, inputs: &Inputs) -> Option<GValue> {
    let mut parts = expr.split('|').map(str::trim);
    let name = parts.next()?.strip_prefix("inputs.")?;
    let mut value = inputs.get(name)?.as_ref()?.value.clone();
    for func in parts {
        // Docs: "Predefined interpolation functions": expand_vars, truncate, posix_escape
        if func == "expand_vars" || func == "posix_escape" {
            continue;
        }
        let args = func.strip_prefix("truncate(")?.strip_suffix(')')?;
        let (a, b) = args.split_once(',')?;
        let (a, b): (usize, usize) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
        let s = scalar_text(&value)?;
        value = GValue::Str(s.chars().skip(a).take(b).collect());
    }
    Some(value)
}

fn scalar_text(v: &GValue) -> Option<String> {
    match v {
        GValue::Str(s) => Some(s.clone()),
        GValue::Int(i) => Some(i.to_string()),
        GValue::Float(f) => Some(f.to_string()),
        GValue::Bool(b) => Some(b.to_string()),
        GValue::Null => Some(String::new()),
        _ => None,
    }
}

/// A string with its `$[[ inputs.x ]]` blocks replaced. A string that is one block alone takes
/// the input's typed value (a boolean, a number, an array). `None`: unknown.
fn interpolate(s: &str, inputs: &Inputs) -> Option<GValue> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("$[[") {
        let Some(j) = rest[i..].find("]]") else { break };
        let value = interpolate_block(&rest[i + 3..i + j], inputs)?;
        if i == 0 && i + j + 2 == rest.len() && out.is_empty() {
            // an input whose value is null (`default: null`) interpolates as empty
            return Some(match value {
                GValue::Null => GValue::Str(String::new()),
                v => v,
            });
        }
        out.push_str(&rest[..i]);
        out.push_str(&scalar_text(&value)?);
        rest = &rest[i + j + 2..];
    }
    out.push_str(rest);
    Some(GValue::Str(out))
}

/// The YAML tree of one file as a pipeline tree: `!reference` tags kept as [`GValue::Ref`], and
/// (when the file has a `spec:` header) its inputs interpolated.
pub fn from_yaml(
    node: &Node,
    src: &str,
    file: FileId,
    inputs: Option<&Inputs>,
    depth: usize,
) -> GNode {
    let value = if depth > 200 {
        GValue::Unknown
    } else {
        match &node.value {
            Value::Null => GValue::Null,
            Value::Bool(b) => GValue::Bool(*b),
            Value::Int(i) => GValue::Int(*i),
            Value::Float(f) => GValue::Float(*f),
            Value::Str(s) => match inputs {
                Some(inp) if s.contains("$[[") => interpolate(s, inp).unwrap_or(GValue::Unknown),
                _ => GValue::Str(s.clone()),
            },
            Value::Seq(items) if crate::parse::ci::tag_before(node, src) == Some("!reference") => {
                let path: Option<Vec<String>> = items
                    .iter()
                    .map(|i| from_yaml(i, src, file, inputs, depth + 1))
                    .map(|n| n.as_str().map(str::to_string))
                    .collect();
                path.map(GValue::Ref).unwrap_or(GValue::Unknown)
            }
            Value::Seq(items) => GValue::Seq(
                items
                    .iter()
                    .map(|i| from_yaml(i, src, file, inputs, depth + 1))
                    .collect(),
            ),
            Value::Map(entries) => GValue::Map(
                entries
                    .iter()
                    .map(|(k, v)| {
                        let name = match inputs {
                            Some(inp) if k.name.contains("$[[") => {
                                match interpolate(&k.name, inp) {
                                    Some(v) => scalar_text(&v).unwrap_or_else(|| k.name.clone()),
                                    None => k.name.clone(),
                                }
                            }
                            _ => k.name.clone(),
                        };
                        (
                            GKey {
                                name,
                                file,
                                span: k.span.clone(),
                            },
                            from_yaml(v, src, file, inputs, depth + 1),
                        )
                    })
                    .collect(),
            ),
        }
    };
    GNode {
        value,
        file,
        span: node.span.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// Assembly
// ---------------------------------------------------------------------------------------------

/// One GitLab CI file of the run, as loaded.
pub struct CiSource<'a> {
    pub file: FileId,
    pub path: &'a str,
    pub src: &'a str,
    /// The pipeline document (after a `spec:` header, when there is one).
    pub doc: &'a Node,
    /// The `spec:` header document.
    pub spec: Option<&'a Node>,
}

/// A problem GitLab reports while assembling (before validation), at the node that causes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub file: FileId,
    pub span: Span,
    pub message: String,
    pub label: &'static str,
    pub help: String,
}

/// A pipeline after includes, `extends`, `!reference` and flattening.
#[derive(Debug)]
pub struct Pipeline {
    /// The configuration (a map), every node at its origin.
    pub config: GNode,
    /// Something of the pipeline is out of sight (a non-local include, an include whose location
    /// is a variable, a local include that is not in the run): stages, templates, jobs and
    /// variables may come from there.
    pub open: bool,
    /// Jobs whose content is not fully known (an `extends` or `!reference` into what obsgate
    /// cannot see); only what is certain is judged of them.
    pub incomplete: Vec<String>,
    /// The files assembled, the root first.
    pub files: Vec<FileId>,
    /// Problems of assembly that GitLab rejects (unknown `extends`, missing `!reference`
    /// targets, `extends` cycles); only listed for pipelines that are not open.
    pub problems: Vec<Problem>,
}

/// GitLab CI's global keywords (not job names). Docs: "CI/CD YAML syntax reference", Global
/// keywords; `pages` and others are ordinary job names.
pub const GLOBAL_KEYWORDS: &[&str] = &[
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "spec",
];

/// Is a top-level key a job that GitLab runs (not a keyword, not hidden)?
pub fn is_job_name(name: &str) -> bool {
    !name.starts_with('.') && !GLOBAL_KEYWORDS.contains(&name)
}

fn include_matches(pattern: &str, path: &str) -> bool {
    let p = pattern.trim_start_matches("./").trim_start_matches('/');
    let path = path.replace('\\', "/");
    if p.contains('*') {
        globset::Glob::new(&format!("**/{p}"))
            .map(|g| g.compile_matcher().is_match(&path))
            .unwrap_or(false)
    } else {
        path == p || path.ends_with(&format!("/{p}"))
    }
}

/// A local include of a file: the pattern, and the inputs it passes.
struct LocalInclude<'n> {
    pattern: String,
    inputs: Option<&'n GNode>,
}

/// The includes of a file (Docs: `include`, `include:local`; a string is local unless it is a
/// URL). Returns the local ones and whether any other kind (or one with a variable) is there.
fn includes_of(doc: &GNode) -> (Vec<LocalInclude<'_>>, bool) {
    let Some(inc) = doc.get("include") else {
        return (Vec::new(), false);
    };
    let entries: Vec<&GNode> = match &inc.value {
        GValue::Seq(s) => s.iter().collect(),
        _ => vec![inc],
    };
    let mut local = Vec::new();
    let mut other = false;
    for e in entries {
        match &e.value {
            GValue::Str(s) if !s.contains("://") && !s.contains('$') => local.push(LocalInclude {
                pattern: s.clone(),
                inputs: None,
            }),
            GValue::Map(_) => match e.get("local").and_then(GNode::as_str) {
                Some(l) if !l.contains('$') => local.push(LocalInclude {
                    pattern: l.to_string(),
                    inputs: e.get("inputs"),
                }),
                _ => other = true,
            },
            _ => other = true,
        }
    }
    (local, other)
}

/// `over` merged into `base` as GitLab merges included files and `extends` parents (Ruby's
/// `Hash#deep_merge`: hashes merged key by key, anything else replaced by the later value).
/// Docs: "Merge details" (`include`), "Merge details" (`extends`).
pub fn deep_merge(base: &GNode, over: &GNode) -> GNode {
    match (&base.value, &over.value) {
        (GValue::Map(b), GValue::Map(o)) => {
            let mut out: Vec<(GKey, GNode)> = b.clone();
            for (k, v) in o {
                match out.iter_mut().find(|(bk, _)| bk.name == k.name) {
                    Some(slot) => {
                        let merged = deep_merge(&slot.1, v);
                        *slot = (k.clone(), merged);
                    }
                    None => out.push((k.clone(), v.clone())),
                }
            }
            GNode::map(over.file, over.span.clone(), out)
        }
        _ => over.clone(),
    }
}

struct Assembler<'a> {
    sources: &'a [CiSource<'a>],
    open: bool,
    files: Vec<FileId>,
}

impl<'a> Assembler<'a> {
    /// A file with its includes merged under it (the including file wins).
    fn load(&mut self, idx: usize, given: Option<&GNode>, stack: &mut Vec<usize>) -> GNode {
        let s = &self.sources[idx];
        if !self.files.contains(&s.file) {
            self.files.push(s.file);
        }
        let inputs = s.spec.map(|spec| inputs_of(spec, s.src, s.file, given));
        let doc = from_yaml(s.doc, s.src, s.file, inputs.as_ref(), 0);
        let (local, other) = includes_of(&doc);
        self.open |= other;
        let mut merged = GNode::map(s.file, doc.span.clone(), Vec::new());
        stack.push(idx);
        for inc in local {
            let found: Vec<usize> = (0..self.sources.len())
                .filter(|&j| include_matches(&inc.pattern, self.sources[j].path))
                .collect();
            if found.is_empty() {
                self.open = true;
            }
            for j in found {
                // GitLab rejects include cycles; the file is merged once
                if stack.contains(&j) {
                    continue;
                }
                let sub = self.load(j, inc.inputs, stack);
                merged = deep_merge(&merged, &sub);
            }
        }
        stack.pop();
        let own: Vec<(GKey, GNode)> = doc
            .entries()
            .iter()
            .filter(|(k, _)| k.name != "include" && k.name != "spec")
            .cloned()
            .collect();
        deep_merge(&merged, &GNode::map(s.file, doc.span.clone(), own))
    }
}

/// Resolution state of one top-level key's `extends`.
struct Extends<'c> {
    config: &'c GNode,
    open: bool,
    done: HashMap<String, (GNode, bool)>,
    problems: Vec<Problem>,
}

/// GitLab's limit of `extends` inheritance (Docs: `extends`: "up to eleven levels").
const MAX_EXTENDS_DEPTH: usize = 11;

impl Extends<'_> {
    /// The key's value with its `extends` parents merged under it, and whether it is complete.
    fn resolve(&mut self, name: &str, stack: &mut Vec<String>) -> Option<(GNode, bool)> {
        if let Some(d) = self.done.get(name) {
            return Some(d.clone());
        }
        let node = self.config.get(name)?;
        let Some(ext) = node.get("extends") else {
            return Some((node.clone(), true));
        };
        let parents: Vec<&GNode> = match &ext.value {
            GValue::Str(_) => vec![ext],
            GValue::Seq(s) => s.iter().collect(),
            _ => return Some((node.clone(), false)),
        };
        let mut complete = true;
        let mut base: Option<GNode> = None;
        stack.push(name.to_string());
        for p in parents {
            let Some(pname) = p.as_str() else {
                complete = false;
                continue;
            };
            if stack.iter().any(|s| s == pname) {
                complete = false;
                if !self.open {
                    self.problems.push(Problem {
                        file: p.file,
                        span: p.span.clone(),
                        message: format!("`{name}` extends `{pname}`, which extends `{name}` again: GitLab rejects the pipeline (\"circular dependency detected in `extends`\")"),
                        label: "circular `extends`",
                        help: "break the cycle: a template must not extend the jobs that extend it".into(),
                    });
                }
                continue;
            }
            if stack.len() >= MAX_EXTENDS_DEPTH {
                complete = false;
                continue;
            }
            match self.resolve(pname, stack) {
                Some((pnode, pcomplete)) if pnode.is_map() => {
                    complete &= pcomplete;
                    base = Some(match base {
                        Some(b) => deep_merge(&b, &pnode),
                        None => pnode,
                    });
                }
                Some(_) => complete = false,
                None => {
                    complete = false;
                    if !self.open {
                        let names: Vec<&str> = self
                            .config
                            .entries()
                            .iter()
                            .map(|(k, _)| k.name.as_str())
                            .collect();
                        let hint = crate::parse::closest(pname, &names)
                            .map(|s| format!(" (did you mean `{s}`?)"))
                            .unwrap_or_default();
                        self.problems.push(Problem {
                            file: p.file,
                            span: p.span.clone(),
                            message: format!("job `{name}` extends `{pname}`, which no job or template of the pipeline defines{hint}; GitLab rejects the pipeline"),
                            label: "unknown template",
                            help: "define the template (a hidden job such as `.base:`) or fix the name".into(),
                        });
                    }
                }
            }
        }
        stack.pop();
        let out = match base {
            Some(b) => deep_merge(&b, node),
            None => node.clone(),
        };
        self.done.insert(name.to_string(), (out.clone(), complete));
        Some((out, complete))
    }
}

/// GitLab's limit of nested `!reference` tags (Docs: "`!reference` tags": "up to 10 levels").
const MAX_REFERENCE_DEPTH: usize = 10;

struct References<'c> {
    config: &'c GNode,
    open: bool,
    incomplete: &'c [String],
    problems: Vec<Problem>,
}

impl References<'_> {
    fn lookup(&self, path: &[String]) -> Option<&GNode> {
        let mut node = self.config;
        for key in path {
            node = node.get(key)?;
        }
        Some(node)
    }

    fn resolve(&mut self, node: &GNode, depth: usize) -> GNode {
        let value = match &node.value {
            GValue::Ref(path) => {
                if depth >= MAX_REFERENCE_DEPTH {
                    return GNode {
                        value: GValue::Unknown,
                        ..node.clone()
                    };
                }
                match self.lookup(path) {
                    Some(target) => {
                        let target = target.clone();
                        return self.resolve(&target, depth + 1);
                    }
                    None => {
                        let known = !self.open
                            && !path
                                .first()
                                .is_some_and(|j| self.incomplete.iter().any(|i| i == j));
                        if known {
                            let shown: Vec<String> =
                                path.iter().map(|p| format!("{p:?}")).collect();
                            self.problems.push(Problem {
                                file: node.file,
                                span: node.span.clone(),
                                message: format!(
                                    "`!reference [{}]` points at nothing the pipeline defines; GitLab rejects the pipeline (\"could not be found\")",
                                    shown.join(", ")
                                ),
                                label: "reference to nothing",
                                help: "fix the job and key names of the reference (the first one is a top-level key, then keys inside it)".into(),
                            });
                        }
                        GValue::Unknown
                    }
                }
            }
            GValue::Seq(s) => GValue::Seq(s.iter().map(|n| self.resolve(n, depth)).collect()),
            GValue::Map(m) => GValue::Map(
                m.iter()
                    .map(|(k, v)| (k.clone(), self.resolve(v, depth)))
                    .collect(),
            ),
            other => other.clone(),
        };
        GNode {
            value,
            file: node.file,
            span: node.span.clone(),
        }
    }
}

/// Nested arrays flattened, as GitLab flattens script keys (Docs: "`script`": "nested arrays
/// ... up to 10 levels"), `rules` built from `!reference` (Docs: "Reuse rules in different jobs")
/// and `needs` items that are anchors holding lists.
fn flatten(node: &GNode, depth: usize, out: &mut Vec<GNode>) {
    match &node.value {
        GValue::Seq(s) if depth <= 10 => {
            for n in s {
                flatten(n, depth + 1, out);
            }
        }
        _ => out.push(node.clone()),
    }
}

fn flattened(node: &GNode) -> GNode {
    match &node.value {
        GValue::Seq(_) => {
            let mut out = Vec::new();
            flatten(node, 0, &mut out);
            GNode {
                value: GValue::Seq(out),
                file: node.file,
                span: node.span.clone(),
            }
        }
        _ => node.clone(),
    }
}

/// Keys of a job (and of `default:`) whose nested arrays GitLab flattens: the script keys
/// (Docs: `script`, "nested arrays"), `rules` (Docs: "Reuse rules in different jobs"), `needs`
/// and `cache` (lists of anchors that hold lists; GitLab's own pipelines rely on both).
const FLATTENED_JOB_KEYS: &[&str] = &[
    "before_script",
    "script",
    "after_script",
    "rules",
    "needs",
    "cache",
];

/// A job as GitLab validates it: nested arrays of its list keys flattened, keys set to `null`
/// dropped (Docs: `extends`: "To exclude a key from the extended content, you must assign it to
/// `null`").
fn normalise_job(job: &GNode) -> GNode {
    let GValue::Map(entries) = &job.value else {
        return job.clone();
    };
    let entries = entries
        .iter()
        .filter(|(_, v)| v.value != GValue::Null)
        .map(|(k, v)| {
            let v = if k.name == "needs" {
                // an empty item of an anchored list (`&needs [ - ]`) is no need
                let mut f = flattened(v);
                if let GValue::Seq(items) = &mut f.value {
                    items.retain(|i| i.value != GValue::Null);
                }
                f
            } else if FLATTENED_JOB_KEYS.contains(&k.name.as_str()) {
                flattened(v)
            } else if k.name == "hooks" {
                match v.get("pre_get_sources_script") {
                    Some(_) => GNode {
                        value: GValue::Map(
                            v.entries()
                                .iter()
                                .map(|(hk, hv)| (hk.clone(), flattened(hv)))
                                .collect(),
                        ),
                        ..v.clone()
                    },
                    None => v.clone(),
                }
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect();
    GNode {
        value: GValue::Map(entries),
        ..job.clone()
    }
}

/// Assemble the pipeline whose main file is `sources[root]`.
pub fn assemble(sources: &[CiSource<'_>], root: usize) -> Pipeline {
    let mut a = Assembler {
        sources,
        open: false,
        files: Vec::new(),
    };
    let merged = a.load(root, None, &mut Vec::new());
    let open = a.open;

    // `extends`, for every top-level key (templates included: references may point into them)
    let mut ext = Extends {
        config: &merged,
        open,
        done: HashMap::new(),
        problems: Vec::new(),
    };
    let mut extended = Vec::new();
    let mut incomplete = Vec::new();
    for (k, v) in merged.entries() {
        if GLOBAL_KEYWORDS.contains(&k.name.as_str()) || !v.is_map() {
            extended.push((k.clone(), v.clone()));
            continue;
        }
        let (node, complete) = ext
            .resolve(&k.name, &mut Vec::new())
            .unwrap_or((v.clone(), false));
        if !complete {
            incomplete.push(k.name.clone());
        }
        extended.push((k.clone(), node));
    }
    let mut problems = std::mem::take(&mut ext.problems);
    let extended = GNode::map(merged.file, merged.span.clone(), extended);

    // `!reference` tags, against the configuration after `extends`
    let mut refs = References {
        config: &extended,
        open,
        incomplete: &incomplete,
        problems: Vec::new(),
    };
    let resolved = refs.resolve(&extended, 0);
    problems.append(&mut refs.problems);
    // a job that holds an unknown value is not fully known either
    for (k, v) in resolved.entries() {
        if is_job_name(&k.name) && v.has_unknown() && !incomplete.contains(&k.name) {
            incomplete.push(k.name.clone());
        }
    }

    let config = GNode {
        value: GValue::Map(
            resolved
                .entries()
                .iter()
                .filter(|(_, v)| v.value != GValue::Null)
                .map(|(k, v)| {
                    let v = if k.name == "stages" {
                        flattened(v)
                    } else if k.name == "default" || (is_job_name(&k.name) && v.is_map()) {
                        normalise_job(v)
                    } else {
                        v.clone()
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        ..resolved
    };
    Pipeline {
        config,
        open,
        incomplete,
        files: a.files,
        problems: if open { Vec::new() } else { problems },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::LineIndex;

    struct Files {
        texts: Vec<(String, String)>,
        docs: Vec<Vec<Node>>,
    }

    impl Files {
        fn new(files: &[(&str, &str)]) -> Files {
            let texts: Vec<(String, String)> = files
                .iter()
                .map(|(p, t)| (p.to_string(), t.to_string()))
                .collect();
            let docs = texts
                .iter()
                .map(|(_, t)| crate::parse::yaml::parse_documents(t, &LineIndex::new(t)).unwrap())
                .collect();
            Files { texts, docs }
        }

        fn sources(&self) -> Vec<CiSource<'_>> {
            self.texts
                .iter()
                .zip(&self.docs)
                .enumerate()
                .map(|(i, ((p, t), d))| {
                    let header = d.len() > 1 && d[0].get("spec").is_some();
                    CiSource {
                        file: FileId(i as u32),
                        path: p,
                        src: t,
                        doc: if header { &d[1] } else { &d[0] },
                        spec: header.then(|| &d[0]),
                    }
                })
                .collect()
        }
    }

    fn scripts(p: &Pipeline, job: &str) -> Vec<String> {
        p.config
            .get(job)
            .unwrap()
            .get("script")
            .unwrap()
            .items()
            .iter()
            .map(|n| n.as_str().unwrap_or("?").to_string())
            .collect()
    }

    #[test]
    fn extends_deep_merges_hashes_and_replaces_arrays() {
        // Docs: `extends`, "Merge details"
        let f = Files::new(&[(
            ".gitlab-ci.yml",
            ".a:\n  variables: {A: a, B: a}\n  script: [one]\n  tags: [x]\n.b:\n  extends: .a\n  variables: {B: b}\n  tags: [y]\njob:\n  extends: [.b]\n  variables: {C: c}\n",
        )]);
        let p = assemble(&f.sources(), 0);
        let job = p.config.get("job").unwrap();
        let vars: Vec<(&str, &str)> = job
            .get("variables")
            .unwrap()
            .entries()
            .iter()
            .map(|(k, v)| (k.name.as_str(), v.as_str().unwrap()))
            .collect();
        assert_eq!(vars, vec![("A", "a"), ("B", "b"), ("C", "c")]);
        assert_eq!(job.get("tags").unwrap().items().len(), 1);
        assert_eq!(scripts(&p, "job"), vec!["one"]);
        assert!(p.incomplete.is_empty() && p.problems.is_empty());
    }

    #[test]
    fn null_unsets_an_inherited_key() {
        let f = Files::new(&[(
            ".gitlab-ci.yml",
            ".a:\n  image: x\n  script: [s]\njob:\n  extends: .a\n  image: null\n  variables:\n",
        )]);
        let p = assemble(&f.sources(), 0);
        let job = p.config.get("job").unwrap();
        assert!(job.get("image").is_none() && job.get("variables").is_none());
    }

    #[test]
    fn references_and_nested_arrays_are_resolved_and_flattened() {
        // Docs: "`!reference` tags"; `script` nested arrays; rules reuse
        let src = ".setup:\n  script: [a, b]\n.rules:\n  rules:\n    - if: $X\njob:\n  script:\n    - !reference [.setup, script]\n    - c\n  rules:\n    - !reference [.rules, rules]\n    - when: manual\n  needs:\n    - [x, y]\n";
        let f = Files::new(&[(".gitlab-ci.yml", src)]);
        let p = assemble(&f.sources(), 0);
        assert_eq!(scripts(&p, "job"), vec!["a", "b", "c"]);
        let job = p.config.get("job").unwrap();
        assert_eq!(job.get("rules").unwrap().items().len(), 2);
        assert_eq!(job.get("needs").unwrap().items().len(), 2);
        // the resolved item is at its definition
        let a = &job.get("script").unwrap().items()[0];
        assert_eq!(&src[a.span.clone()], "a");
    }

    #[test]
    fn local_includes_are_merged_under_the_main_file() {
        let f = Files::new(&[
            (
                ".gitlab-ci.yml",
                "include:\n  - local: ci/templates.yml\nstages: [build]\njob:\n  extends: .tpl\n  stage: build\n",
            ),
            ("ci/templates.yml", ".tpl:\n  script: [make]\n  stage: test\n"),
        ]);
        let p = assemble(&f.sources(), 0);
        assert!(!p.open);
        assert_eq!(scripts(&p, "job"), vec!["make"]);
        assert_eq!(
            p.config.get("job").unwrap().get("stage").unwrap().as_str(),
            Some("build")
        );
        assert_eq!(p.files, vec![FileId(0), FileId(1)]);
    }

    #[test]
    fn unknown_includes_make_the_pipeline_open() {
        let f = Files::new(&[(
            ".gitlab-ci.yml",
            "include:\n  - project: g/p\n    file: t.yml\njob:\n  extends: .remote\n  script: [x]\n",
        )]);
        let p = assemble(&f.sources(), 0);
        assert!(p.open);
        assert_eq!(p.incomplete, vec!["job".to_string()]);
        assert!(p.problems.is_empty());
        // a missing local include too
        let f = Files::new(&[(
            ".gitlab-ci.yml",
            "include: ci/missing.yml\njob: {script: [x]}\n",
        )]);
        assert!(assemble(&f.sources(), 0).open);
    }

    #[test]
    fn unknown_templates_and_references_in_a_closed_pipeline() {
        let f = Files::new(&[(
            ".gitlab-ci.yml",
            "job:\n  extends: .nope\n  script:\n    - !reference [.gone, script]\n",
        )]);
        let p = assemble(&f.sources(), 0);
        let labels: Vec<&str> = p.problems.iter().map(|x| x.label).collect();
        assert_eq!(labels, vec!["unknown template", "reference to nothing"]);
        let f = Files::new(&[(".gitlab-ci.yml", ".a:\n  extends: .b\n.b:\n  extends: .a\n")]);
        let p = assemble(&f.sources(), 0);
        assert!(p.problems.iter().any(|x| x.label == "circular `extends`"));
    }

    #[test]
    fn spec_inputs_are_interpolated_with_defaults_and_types() {
        // Docs: `spec:inputs`, "Define input parameters with spec:inputs"
        let f = Files::new(&[
            (
                ".gitlab-ci.yml",
                "include:\n  - local: t.yml\n    inputs:\n      name: given\n",
            ),
            (
                "t.yml",
                "spec:\n  inputs:\n    name:\n    flag:\n      type: boolean\n      default: true\n    cut:\n      default: abcdef\n---\n$[[ inputs.name ]]-job:\n  script: [\"echo $[[ inputs.cut | truncate(1,3) ]]\"]\n  allow_failure: $[[ inputs.flag ]]\n",
            ),
        ]);
        let p = assemble(&f.sources(), 0);
        let job = p.config.get("given-job").expect("job named from the input");
        assert_eq!(job.get("allow_failure").unwrap().value, GValue::Bool(true));
        assert_eq!(scripts(&p, "given-job"), vec!["echo bcd"]);
        // alone, an input without default is unknown
        let alone = assemble(&f.sources(), 1);
        assert!(alone.config.get("$[[ inputs.name ]]-job").is_some());
    }
}
