//! CI files: GitLab CI (`.gitlab-ci.yml`) and GitHub Actions (workflows, `action.yml`): their
//! variables and environment, jobs and stages, and the shell scripts they run (each script item
//! or `run:` block with a byte map back into the file, so heredoc-embedded files and shell
//! findings land at their position in the CI file).

use std::collections::HashMap;

use crate::parse::fields::{Issue, SStr};
use crate::parse::yaml::{Node, Value};
use crate::source::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CiKind {
    GitlabCi,
    GithubWorkflow,
    GithubAction,
}

/// A variable or environment entry with where it is defined.
#[derive(Debug, Clone)]
pub struct CiVar {
    pub name: SStr,
    /// The value as written (`None` for collections / unsupported forms).
    pub value: Option<SStr>,
    /// Human description of the scope, e.g. "global `variables`", "`env` of step 2 of job `build`".
    pub scope: String,
    /// The job (GitLab job name / GitHub job id) it belongs to; `None` for global ones.
    pub job: Option<String>,
    /// The end-of-line comment after the value (`# 95th percentile response time (ms)`).
    pub comment: Option<String>,
}

/// A GitLab job (or hidden template) / GitHub job.
#[derive(Debug, Clone)]
pub struct Job {
    pub name: SStr,
    /// GitLab hidden job (`.name`): a template, never run.
    pub hidden: bool,
    pub stage: Option<SStr>,
    pub extends: Vec<SStr>,
}

/// One shell script of a CI file: a GitLab `script`/`before_script`/`after_script` item or a
/// GitHub `run:` block, or a whole embedded shell script.
#[derive(Debug, Clone)]
pub struct ScriptBlock {
    /// Job name/id; `None` for `default:`/top-level scripts and embedded script files.
    pub job: Option<String>,
    /// `script`, `before_script`, `after_script`, `run`, or the embedded file's name.
    pub section: String,
    /// The script as the shell sees it.
    pub text: String,
    /// The scalar node in the file.
    pub span: Span,
    /// `text` byte offset -> file byte offset (length `text.len() + 1`); `None` when the
    /// scalar could not be mapped (positions then fall back to `span.start`).
    pub offsets: Option<Vec<usize>>,
    /// Variables visible to the script (global, inherited through `extends`, job, step),
    /// later definitions win.
    pub vars: Vec<(String, String)>,
}

impl ScriptBlock {
    /// A byte range of `text` as a file span.
    pub fn file_span(&self, r: &Span) -> Span {
        match &self.offsets {
            Some(map) if r.end < map.len() && r.start <= r.end => {
                let start = map[r.start];
                let end = if r.end > r.start {
                    map[r.end - 1] + 1
                } else {
                    start
                };
                start..end.max(start)
            }
            _ => self.span.start..self.span.start,
        }
    }

    /// `(text offset, file offset, len)` runs of an inner range list (`(inner, text_off, len)`),
    /// split wherever the file offsets stop being consecutive.
    pub fn compose(&self, runs: &[(usize, usize, usize)]) -> Vec<(usize, usize, usize)> {
        let mut out: Vec<(usize, usize, usize)> = Vec::new();
        let Some(map) = &self.offsets else {
            return vec![(0, self.span.start, 0)];
        };
        for &(inner, at, len) in runs {
            for i in 0..len {
                let Some(&o) = map.get(at + i) else { break };
                match out.last_mut() {
                    Some(last) if last.0 + last.2 == inner + i && last.1 + last.2 == o => {
                        last.2 += 1
                    }
                    _ => out.push((inner + i, o, 1)),
                }
            }
        }
        out
    }
}

#[derive(Debug, Clone)]
pub struct CiFile {
    pub kind: CiKind,
    pub vars: Vec<CiVar>,
    pub jobs: Vec<Job>,
    /// GitLab `stages:` as declared (`None`: GitLab's defaults apply).
    pub stages: Option<Vec<SStr>>,
    /// GitLab `include:` entries of local files (paths or globs, as written).
    pub includes_local: Vec<SStr>,
    /// GitLab `include:` entries that are not local (project, remote, template, component).
    pub includes_other: usize,
    pub scripts: Vec<ScriptBlock>,
    /// A GitLab CI file's documents, kept to assemble the pipeline it belongs to
    /// ([`crate::parse::gitlab`]).
    pub gitlab: Option<Box<GitlabDocs>>,
}

/// The YAML of a GitLab CI file: the pipeline document and its `spec:` header, if any.
#[derive(Debug, Clone)]
pub struct GitlabDocs {
    pub doc: Node,
    pub spec: Option<Node>,
}

/// Is this document a `spec:` header (GitLab CI/YAML "`spec`": the first of two documents)?
pub fn is_spec_header(doc: &Node) -> bool {
    doc.entries().len() == 1 && doc.get("spec").is_some()
}

/// GitLab's stages when a pipeline declares none.
pub const GITLAB_DEFAULT_STAGES: &[&str] = &[".pre", "build", "test", "deploy", ".post"];

/// GitLab CI keywords that are not job names.
const GITLAB_KEYWORDS: &[&str] = &[
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

/// Job keywords that mark a hidden key as a GitLab job template.
const TEMPLATE_KEYWORDS: &[&str] = &[
    "script",
    "before_script",
    "after_script",
    "extends",
    "stage",
    "tags",
    "rules",
    "only",
    "except",
    "needs",
    "artifacts",
    "retry",
    "interruptible",
    "allow_failure",
    "dependencies",
    "resource_group",
];

/// A top-level `include:` in GitLab's shape: local paths to YAML files, or entries keyed
/// `local`/`project`/`remote`/`template`/`component`.
fn gitlab_includes(doc: &Node) -> bool {
    let Some(inc) = doc.get("include") else {
        return false;
    };
    let entries: Vec<&Node> = match &inc.value {
        Value::Seq(s) => s.iter().collect(),
        _ => vec![inc],
    };
    !entries.is_empty()
        && entries.iter().all(|e| match &e.value {
            Value::Str(s) => s.ends_with(".yml") || s.ends_with(".yaml"),
            Value::Map(_) => ["local", "project", "remote", "template", "component"]
                .iter()
                .any(|k| e.get(k).is_some()),
            _ => false,
        })
}

/// Recognise a CI file by content (with the path as a hint).
/// Is `path` where CI files live by name (`.gitlab-ci*.yml`, `.gitlab/ci/`, `.github/workflows/`,
/// `action.yml`)?
pub fn ci_path(path: &str) -> bool {
    let p = path.replace('\\', "/");
    let file = p.rsplit('/').next().unwrap_or("");
    file.starts_with(".gitlab-ci")
        || file.ends_with(".gitlab-ci.yml")
        || file.ends_with(".gitlab-ci.yaml")
        || p.contains(".gitlab/ci/")
        || p.contains(".github/workflows/")
        || file == "action.yml"
        || file == "action.yaml"
}

pub fn detect(doc: &Node, path: &str) -> Option<CiKind> {
    if !doc.is_map() {
        return None;
    }
    let p = path.replace('\\', "/");
    let file = p.rsplit('/').next().unwrap_or("");
    if p.contains(".github/workflows/") && doc.get("jobs").is_some() {
        return Some(CiKind::GithubWorkflow);
    }
    if (file == "action.yml" || file == "action.yaml") && doc.get("runs").is_some() {
        return Some(CiKind::GithubAction);
    }
    // jobs, and templates (hidden jobs) of files that hold only templates for others to include
    let jobs_with_script = doc
        .entries()
        .iter()
        .filter(|(k, v)| {
            !GITLAB_KEYWORDS.contains(&k.name.as_str())
                && (v.get("script").is_some()
                    || (k.name.starts_with('.')
                        && (v.get("before_script").is_some() || v.get("extends").is_some())))
        })
        .count();
    let gitlab_name = file.starts_with(".gitlab-ci")
        || file.ends_with(".gitlab-ci.yml")
        || file.ends_with(".gitlab-ci.yaml")
        || p.contains(".gitlab/ci/");
    // templates: hidden keys (`.name:`, GitLab's own convention) holding job keywords
    let templates = doc
        .entries()
        .iter()
        .filter(|(k, v)| {
            k.name.starts_with('.')
                && v.entries()
                    .iter()
                    .any(|(jk, _)| TEMPLATE_KEYWORDS.contains(&jk.name.as_str()))
        })
        .count();
    if gitlab_name || jobs_with_script > 0 || templates > 0 || gitlab_includes(doc) {
        return Some(CiKind::GitlabCi);
    }
    // a workflow outside .github/workflows (`on:` is read as the key "on" or, by YAML 1.1 tools, true)
    if doc.get("jobs").is_some_and(|j| {
        j.entries()
            .iter()
            .any(|(_, v)| v.get("runs-on").is_some() || v.get("steps").is_some())
    }) {
        return Some(CiKind::GithubWorkflow);
    }
    None
}

fn sstr(n: &Node, src: &str) -> Option<SStr> {
    if !n.is_scalar() {
        return None;
    }
    Some(SStr {
        value: n.go_string(src)?.into(),
        span: n.span.clone(),
    })
}

/// The comment at the end of the line a node ends on (`VALUE  # comment`).
fn line_comment(src: &str, end: usize) -> Option<String> {
    let rest = src.get(end..)?;
    let line = rest.split('\n').next().unwrap_or("");
    let t = line.trim_start();
    if !t.starts_with('#') || (t.len() == line.len() && !line.is_empty()) {
        return None;
    }
    Some(t.trim_start_matches('#').trim().to_string())
}

fn map_vars(node: &Node, src: &str, scope: &str, job: Option<&str>, out: &mut Vec<CiVar>) {
    for (k, v) in node.entries() {
        // GitLab's expanded form: NAME: {value: ..., description: ...}
        let value = match &v.value {
            Value::Map(_) => v.get("value").and_then(|x| sstr(x, src)),
            _ => sstr(v, src),
        };
        let comment = match &v.value {
            Value::Map(_) => v
                .get("description")
                .and_then(|d| d.go_string(src))
                .or_else(|| line_comment(src, v.span.end)),
            _ => line_comment(src, v.span.end),
        };
        out.push(CiVar {
            name: SStr::from(k),
            value,
            scope: scope.to_string(),
            job: job.map(str::to_string),
            comment,
        });
    }
}

/// A YAML tag written right before a node (`!reference [...]`), if any.
pub fn tag_before<'a>(node: &Node, src: &'a str) -> Option<&'a str> {
    let before = src.get(..node.span.start)?;
    let trimmed = before.trim_end_matches([' ', '\t']);
    let word_start = trimmed
        .rfind(|c: char| c.is_whitespace() || c == '[' || c == ',' || c == '{')
        .map(|i| i + 1)
        .unwrap_or(0);
    let word = &trimmed[word_start..];
    word.starts_with('!').then_some(word)
}

const SCRIPT_SECTIONS: &[&str] = &["before_script", "script", "after_script"];

/// The script items of a GitLab `script`-like value: strings, nested arrays (anchors), with
/// `!reference` items skipped (audited where they are defined). Items that YAML read as a
/// mapping are reported.
fn gitlab_script_items<'n>(
    node: &'n Node,
    src: &str,
    depth: usize,
    items: &mut Vec<&'n Node>,
    issues: &mut Vec<Issue>,
) {
    if depth > 10 {
        return;
    }
    match &node.value {
        Value::Str(_) => items.push(node),
        Value::Seq(seq) => {
            if tag_before(node, src) == Some("!reference") {
                return;
            }
            for n in seq {
                gitlab_script_items(n, src, depth + 1, items, issues);
            }
        }
        Value::Map(entries) if entries.len() == 1 => {
            let (k, v) = &entries[0];
            let value_text = v.raw(src).trim_end();
            // the item is quoted in the message: credentials in it are redacted
            let written = crate::secrets::redact_in(&format!("{}: {}", k.name, value_text));
            let key = crate::secrets::redact_in(&k.name);
            issues.push(Issue {
                check: "pipeline/syntax",
                message: format!(
                    "this script item is a YAML mapping, not a command: the `: ` in `{written}` makes YAML read `{key}` as a key; GitLab rejects the pipeline (\"script config should be a string or a nested array of strings\")"
                ),
                span: k.span.start..v.span.end.max(k.span.end),
                help: Some(format!(
                    "quote the whole item: `- '{}'` (or use a block scalar `- |`)",
                    written.replace('\'', "''")
                )),
                downgrade: false,
                related: Vec::new(),
            });
        }
        Value::Null => {}
        _ => {
            // numbers, booleans, larger maps: the schema check reports them
        }
    }
}

fn script_block(
    node: &Node,
    src: &str,
    job: Option<&str>,
    section: &str,
    vars: &[(String, String)],
) -> Option<ScriptBlock> {
    let text = node.go_string(src)?;
    let offsets = crate::parse::scalar::content_offsets(
        src,
        node.span.start,
        node.span.end - node.span.start,
        &text,
    );
    Some(ScriptBlock {
        job: job.map(str::to_string),
        section: section.to_string(),
        text,
        span: node.span.clone(),
        offsets,
        vars: vars.to_vec(),
    })
}

fn values_of(vars: &[CiVar]) -> Vec<(String, String)> {
    vars.iter()
        .filter_map(|v| {
            Some((
                v.name.value.to_string(),
                v.value.as_ref()?.value.to_string(),
            ))
        })
        .collect()
}

/// A GitLab job's variables including those inherited through `extends` (depth-limited, cycles
/// ignored), earlier entries overridden by later ones.
fn gitlab_job_vars(
    name: &str,
    jobs: &HashMap<&str, &Node>,
    src: &str,
    depth: usize,
    out: &mut Vec<(String, String)>,
) {
    let Some(job) = jobs.get(name) else { return };
    if depth > 11 {
        return;
    }
    for parent in extends_of(job) {
        gitlab_job_vars(&parent.value, jobs, src, depth + 1, out);
    }
    if let Some(v) = job.get("variables") {
        let mut own = Vec::new();
        map_vars(v, src, "", None, &mut own);
        out.extend(values_of(&own));
    }
}

fn extends_of(job: &Node) -> Vec<SStr> {
    match job.get("extends") {
        Some(n) if n.is_scalar() => n
            .as_str()
            .map(|s| {
                vec![SStr {
                    value: s.into(),
                    span: n.span.clone(),
                }]
            })
            .unwrap_or_default(),
        Some(n) => n
            .items()
            .iter()
            .filter_map(|i| {
                Some(SStr {
                    value: i.as_str()?.into(),
                    span: i.span.clone(),
                })
            })
            .collect(),
        None => Vec::new(),
    }
}

pub fn parse_doc(doc: &Node, kind: CiKind, src: &str) -> (CiFile, Vec<Issue>) {
    let mut file = CiFile {
        kind,
        vars: Vec::new(),
        jobs: Vec::new(),
        stages: None,
        includes_local: Vec::new(),
        includes_other: 0,
        scripts: Vec::new(),
        gitlab: None,
    };
    let mut issues = Vec::new();
    match kind {
        CiKind::GitlabCi => parse_gitlab(doc, src, &mut file, &mut issues),
        CiKind::GithubWorkflow => {
            if let Some(v) = doc.get("env") {
                map_vars(v, src, "workflow `env`", None, &mut file.vars);
            }
            let global = values_of(&file.vars);
            for (id, job) in doc.get("jobs").map(Node::entries).unwrap_or(&[]) {
                file.jobs.push(Job {
                    name: SStr::from(id),
                    hidden: false,
                    stage: None,
                    extends: Vec::new(),
                });
                let mut job_vars = Vec::new();
                if let Some(v) = job.get("env") {
                    map_vars(
                        v,
                        src,
                        &format!("`env` of job `{}`", id.name),
                        Some(&id.name),
                        &mut job_vars,
                    );
                }
                let mut visible = global.clone();
                visible.extend(values_of(&job_vars));
                file.vars.extend(job_vars);
                let steps = job.get("steps").map(Node::items).unwrap_or(&[]);
                github_steps(steps, src, Some(&id.name), &visible, &mut file);
            }
        }
        CiKind::GithubAction => {
            let steps = doc
                .get("runs")
                .and_then(|r| r.get("steps"))
                .map(Node::items)
                .unwrap_or(&[]);
            github_steps(steps, src, None, &[], &mut file);
        }
    }
    (file, issues)
}

fn github_steps(
    steps: &[Node],
    src: &str,
    job: Option<&str>,
    visible: &[(String, String)],
    file: &mut CiFile,
) {
    for (i, step) in steps.iter().enumerate() {
        let mut step_vars = Vec::new();
        for field in ["env", "with"] {
            if let Some(v) = step.get(field) {
                let scope = match job {
                    Some(j) => format!("`{field}` of step {} of job `{j}`", i + 1),
                    None => format!("`{field}` of step {}", i + 1),
                };
                map_vars(v, src, &scope, job, &mut step_vars);
            }
        }
        if let Some(run) = step.get("run") {
            // a non-bash shell (pwsh, python) is not a POSIX script
            let shell = step.get("shell").and_then(Node::as_str).unwrap_or("bash");
            if shell.starts_with("bash") || shell.starts_with("sh") || shell == "{0}" {
                let mut vars = visible.to_vec();
                vars.extend(
                    values_of(&step_vars)
                        .into_iter()
                        .filter(|(n, _)| step.get("env").is_some_and(|e| e.get(n).is_some())),
                );
                if let Some(b) = script_block(run, src, job, "run", &vars) {
                    file.scripts.push(b);
                }
            }
        }
        file.vars.extend(step_vars);
    }
}

fn parse_gitlab(doc: &Node, src: &str, file: &mut CiFile, issues: &mut Vec<Issue>) {
    if let Some(v) = doc.get("variables") {
        map_vars(v, src, "global `variables`", None, &mut file.vars);
    }
    let global = values_of(&file.vars);
    if let Some(st) = doc.get("stages") {
        file.stages = Some(st.items().iter().filter_map(|n| sstr(n, src)).collect());
    }
    if let Some(inc) = doc.get("include") {
        let entries: Vec<&Node> = match &inc.value {
            Value::Seq(s) => s.iter().collect(),
            _ => vec![inc],
        };
        for e in entries {
            match &e.value {
                // a string include: local when it is not a URL
                Value::Str(s) if !s.contains("://") => file.includes_local.extend(sstr(e, src)),
                Value::Map(_) => match e.get("local").and_then(|l| sstr(l, src)) {
                    Some(l) => file.includes_local.push(l),
                    None => file.includes_other += 1,
                },
                _ => file.includes_other += 1,
            }
        }
    }
    let jobs: HashMap<&str, &Node> = doc
        .entries()
        .iter()
        .filter(|(k, v)| !GITLAB_KEYWORDS.contains(&k.name.as_str()) && v.is_map())
        .map(|(k, v)| (k.name.as_str(), v))
        .collect();
    // `default:` scripts run in every job that does not override them
    if let Some(default) = doc.get("default") {
        for section in SCRIPT_SECTIONS {
            if let Some(n) = default.get(section) {
                let mut items = Vec::new();
                gitlab_script_items(n, src, 0, &mut items, issues);
                for item in items {
                    file.scripts
                        .extend(script_block(item, src, None, section, &global));
                }
            }
        }
    }
    for (k, job) in doc.entries() {
        if GITLAB_KEYWORDS.contains(&k.name.as_str()) || !job.is_map() {
            continue;
        }
        let hidden = k.name.starts_with('.');
        file.jobs.push(Job {
            name: SStr::from(k),
            hidden,
            stage: job.get("stage").and_then(|n| sstr(n, src)),
            extends: extends_of(job),
        });
        if let Some(v) = job.get("variables") {
            map_vars(
                v,
                src,
                &format!("`variables` of job `{}`", k.name),
                Some(&k.name),
                &mut file.vars,
            );
        }
        let mut visible = global.clone();
        gitlab_job_vars(&k.name, &jobs, src, 0, &mut visible);
        for section in SCRIPT_SECTIONS {
            if let Some(n) = job.get(section) {
                let mut items = Vec::new();
                gitlab_script_items(n, src, 0, &mut items, issues);
                for item in items {
                    file.scripts
                        .extend(script_block(item, src, Some(&k.name), section, &visible));
                }
            }
        }
    }
}

/// Does a variable name say it holds a secret?
pub fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    const NOT: &[&str] = &[
        "_FILE",
        "_PATH",
        "_DIR",
        "_ID",
        "_NAME",
        "_USER",
        "_USERNAME",
        "_TTL",
        "_EXPIRY",
        "_EXPIRES",
        "_TIMEOUT",
        "_LENGTH",
        "_ENABLED",
        "_ENDPOINT",
        "_HOST",
        "_PORT",
        "_TYPE",
        "_HEADER",
        "_REGION",
        "_VERSION",
    ];
    if NOT.iter().any(|s| n.ends_with(s)) || n.contains("PUBLIC_KEY") || n.ends_with("_KEY_ID") {
        return false;
    }
    // camelCase / kebab-case names of references to secrets: existingSecret, secretName, tokenRef
    let flat: String = n.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    if flat.starts_with("EXISTING")
        || [
            "NAME", "REF", "FILE", "PATH", "KEYID", "ENABLED", "TTL", "KEYS",
        ]
        .iter()
        .any(|s| flat.ends_with(s))
        || flat.contains("PUBLICKEY")
    {
        return false;
    }
    [
        "PASSWORD",
        "PASSWD",
        "TOKEN",
        "SECRET",
        "WEBHOOK",
        "API_KEY",
        "APIKEY",
        "PRIVATE_KEY",
        "CREDENTIAL",
        "ACCESS_KEY",
    ]
    .iter()
    .any(|w| n.contains(w))
        || n.ends_with("_KEY")
        || n.ends_with("_AUTH")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::LineIndex;

    fn parse(src: &str, path: &str) -> CiFile {
        let docs = crate::parse::yaml::parse_documents(src, &LineIndex::new(src)).unwrap();
        let kind = detect(&docs[0], path).expect("detected");
        parse_doc(&docs[0], kind, src).0
    }

    #[test]
    fn gitlab_variables() {
        let f = parse(
            "variables:\n  DB_PASSWORD: hunter2\n  X: {value: \"1\", description: d}\nbuild:\n  script: [make]\n  variables:\n    TOKEN: $CI_TOKEN\n",
            "ci.yml",
        );
        assert_eq!(f.kind, CiKind::GitlabCi);
        let names: Vec<(&str, &str, &str)> = f
            .vars
            .iter()
            .map(|v| {
                (
                    v.name.value.as_str(),
                    v.value.as_ref().map(|s| s.value.as_str()).unwrap_or(""),
                    v.scope.as_str(),
                )
            })
            .collect();
        assert_eq!(
            names,
            vec![
                ("DB_PASSWORD", "hunter2", "global `variables`"),
                ("X", "1", "global `variables`"),
                ("TOKEN", "$CI_TOKEN", "`variables` of job `build`")
            ]
        );
    }

    #[test]
    fn github_env_and_with() {
        let f = parse(
            "on: push\nenv:\n  A_TOKEN: abc\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: x/y@v1\n        with:\n          api_key: k\n        env:\n          GH_TOKEN: ${{ secrets.X }}\n",
            ".github/workflows/ci.yml",
        );
        assert_eq!(f.kind, CiKind::GithubWorkflow);
        assert_eq!(f.vars.len(), 3);
        assert_eq!(f.vars[1].scope, "`env` of step 1 of job `t`");
        assert_eq!(f.vars[2].scope, "`with` of step 1 of job `t`");
    }

    #[test]
    fn secret_names() {
        for n in [
            "DB_PASSWORD",
            "SLACK_WEBHOOK_URL",
            "GITHUB_TOKEN",
            "API_KEY",
            "SSH_PRIVATE_KEY",
            "SIGNING_KEY",
            "api_key",
        ] {
            assert!(secret_name(n), "{n}");
        }
        for n in [
            "PASSWORD_FILE",
            "AWS_ACCESS_KEY_ID",
            "TOKEN_TTL",
            "METRICS_PORT",
            "PUBLIC_KEY",
            "AUTHOR",
        ] {
            assert!(!secret_name(n), "{n}");
        }
    }
}
