//! CI files: GitLab CI (`.gitlab-ci.yml`) and GitHub Actions (workflows, `action.yml`), as far as
//! the checks need them so far: the variables and environment they define.

use crate::parse::fields::SStr;
use crate::parse::yaml::{Node, Value};

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
}

#[derive(Debug, Clone)]
pub struct CiFile {
    pub kind: CiKind,
    pub vars: Vec<CiVar>,
}

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
    "pages",
    "spec",
];

/// Recognise a CI file by content (with the path as a hint).
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
    let jobs_with_script = doc
        .entries()
        .iter()
        .filter(|(k, v)| {
            !GITLAB_KEYWORDS.contains(&k.name.as_str())
                && !k.name.starts_with('.')
                && v.get("script").is_some()
        })
        .count();
    if file == ".gitlab-ci.yml" || file.ends_with(".gitlab-ci.yml") || jobs_with_script > 0 {
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
        value: n.go_string(src)?,
        span: n.span.clone(),
    })
}

fn map_vars(node: &Node, src: &str, scope: &str, out: &mut Vec<CiVar>) {
    for (k, v) in node.entries() {
        // GitLab's expanded form: NAME: {value: ..., description: ...}
        let value = match &v.value {
            Value::Map(_) => v.get("value").and_then(|x| sstr(x, src)),
            _ => sstr(v, src),
        };
        out.push(CiVar {
            name: SStr {
                value: k.name.clone(),
                span: k.span.clone(),
            },
            value,
            scope: scope.to_string(),
        });
    }
}

pub fn parse_doc(doc: &Node, kind: CiKind, src: &str) -> CiFile {
    let mut vars = Vec::new();
    match kind {
        CiKind::GitlabCi => {
            if let Some(v) = doc.get("variables") {
                map_vars(v, src, "global `variables`", &mut vars);
            }
            for (k, job) in doc.entries() {
                if GITLAB_KEYWORDS.contains(&k.name.as_str()) || !job.is_map() {
                    continue;
                }
                if let Some(v) = job.get("variables") {
                    map_vars(
                        v,
                        src,
                        &format!("`variables` of job `{}`", k.name),
                        &mut vars,
                    );
                }
            }
        }
        CiKind::GithubWorkflow => {
            if let Some(v) = doc.get("env") {
                map_vars(v, src, "workflow `env`", &mut vars);
            }
            for (id, job) in doc.get("jobs").map(Node::entries).unwrap_or(&[]) {
                if let Some(v) = job.get("env") {
                    map_vars(v, src, &format!("`env` of job `{}`", id.name), &mut vars);
                }
                for (i, step) in job
                    .get("steps")
                    .map(Node::items)
                    .unwrap_or(&[])
                    .iter()
                    .enumerate()
                {
                    for field in ["env", "with"] {
                        if let Some(v) = step.get(field) {
                            map_vars(
                                v,
                                src,
                                &format!("`{field}` of step {} of job `{}`", i + 1, id.name),
                                &mut vars,
                            );
                        }
                    }
                }
            }
        }
        CiKind::GithubAction => {
            let steps = doc
                .get("runs")
                .and_then(|r| r.get("steps"))
                .map(Node::items)
                .unwrap_or(&[]);
            for (i, step) in steps.iter().enumerate() {
                for field in ["env", "with"] {
                    if let Some(v) = step.get(field) {
                        map_vars(v, src, &format!("`{field}` of step {}", i + 1), &mut vars);
                    }
                }
            }
        }
    }
    CiFile { kind, vars }
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
        parse_doc(&docs[0], kind, src)
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
