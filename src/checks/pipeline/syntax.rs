//! `pipeline/syntax`: CI files GitLab would reject. Each pipeline is first assembled as GitLab
//! assembles it ([`crate::parse::gitlab`]: inputs, local includes, `extends`, `!reference`,
//! flattened arrays), then judged: GitLab's published CI schema over the jobs that run, jobs in
//! stages the pipeline does not declare, jobs with nothing to run, `extends` of templates and
//! `!reference`s to keys that do not exist. Script items that YAML reads as mappings
//! (`- echo "a: b"`) and duplicate keys are found file by file, at load.
//!
//! Each problem is reported where it was written (the job, the template, the included file).
//! A pipeline with content out of sight (a remote, project, template or component include, an
//! include whose location is a variable) or a fragment included from elsewhere is judged only
//! on what no other file can change.

use std::collections::HashMap;

use crate::checks::pipeline::{gitlab_pipelines, gitlab_sources};
use crate::checks::{parse_issues, Check, Ctx, Finding};
use crate::parse::ci::GITLAB_DEFAULT_STAGES;
use crate::parse::gitlab::{is_job_name, GNode};
use crate::source::{FileId, Span};

pub struct Syntax;

/// One problem before it becomes a finding: problems at the same place (a template that several
/// jobs extend) are reported once.
struct Found {
    file: FileId,
    span: Span,
    message: String,
    label: Option<&'static str>,
    help: String,
    jobs: usize,
}

impl Check for Syntax {
    fn id(&self) -> &'static str {
        "pipeline/syntax"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = parse_issues(cx, self.id());
        let sources = gitlab_sources(cx.project);
        let mut found: Vec<Found> = Vec::new();
        let mut at: HashMap<(FileId, usize, usize), usize> = HashMap::new();
        let mut push = |f: Found| {
            let key = (f.file, f.span.start, f.span.end);
            match at.get(&key) {
                Some(&i) => found[i].jobs += 1,
                None => {
                    at.insert(key, found.len());
                    found.push(f);
                }
            }
        };
        for gp in gitlab_pipelines(&sources) {
            let p = &gp.pipeline;
            // what could be defined elsewhere is missing only from a complete pipeline
            let problems = if gp.complete { &p.problems[..] } else { &[] };
            for pr in problems {
                push(Found {
                    file: pr.file,
                    span: pr.span.clone(),
                    message: pr.message.clone(),
                    label: Some(pr.label),
                    help: pr.help.clone(),
                    jobs: 1,
                });
            }
            for e in crate::parse::ci_schema::validate(p, !gp.complete) {
                // a script item read as a mapping is already reported, more precisely
                let overlaps = cx.files().iter().any(|f| {
                    f.file == e.file
                        && f.issues.iter().any(|i| {
                            i.check == self.id()
                                && i.span.start >= e.span.start
                                && i.span.end <= e.span.end
                        })
                });
                if !overlaps {
                    push(Found {
                        file: e.file,
                        span: e.span,
                        message: e.message,
                        label: None,
                        help: "GitLab rejects a pipeline that does not match its CI schema; see https://docs.gitlab.com/ci/yaml/".into(),
                        jobs: 1,
                    });
                }
            }
            if !gp.complete {
                continue;
            }
            // Docs: `stages` ("If a job does not specify a stage, the job is assigned the test
            // stage"; `.pre` and `.post` always exist)
            let declared: Option<Vec<&str>> = p
                .config
                .get("stages")
                .map(|s| s.items().iter().filter_map(GNode::as_str).collect());
            let stages = declared.clone().unwrap_or(GITLAB_DEFAULT_STAGES.to_vec());
            for (k, job) in p.config.entries() {
                if !is_job_name(&k.name) || !job.is_map() || p.incomplete.contains(&k.name) {
                    continue;
                }
                if let Some(stage) = job.get("stage").filter(|s| s.as_str().is_some()) {
                    let name = stage.as_str().unwrap_or_default();
                    if ![".pre", ".post"].contains(&name)
                        && !name.contains('$')
                        && !stages.contains(&name)
                    {
                        push(undeclared_stage(&k.name, stage, name, declared.as_deref()));
                    }
                }
                // Docs: "Job keywords": a job needs `script`, `run` or `trigger`
                if ["script", "run", "trigger"]
                    .iter()
                    .all(|w| job.get(w).is_none())
                {
                    push(Found {
                        file: k.file,
                        span: k.span.clone(),
                        message: format!("job `{}` has no `script`, `run` or `trigger` (nor gets one through `extends`): GitLab rejects the pipeline (\"config should implement the script:, run:, or trigger: keyword\")", k.name),
                        label: Some("nothing to run"),
                        help: "give the job a `script:` (or extend a template that has one); a template that is not meant to run is named with a leading dot (`.name:`)".into(),
                        jobs: 1,
                    });
                }
            }
        }
        for f in found {
            let mut message = f.message;
            if f.jobs > 1 {
                message.push_str(&format!(
                    " (in {} jobs that extend or reference it)",
                    f.jobs
                ));
            }
            let mut finding = Finding::new(self.id(), f.file, f.span, message).help(f.help);
            if let Some(l) = f.label {
                finding = finding.label(l);
            }
            out.push(finding);
        }
        out
    }
}

fn undeclared_stage(job: &str, stage: &GNode, name: &str, declared: Option<&[&str]>) -> Found {
    let (why, help) = match declared {
        Some(d) => (
            format!("the pipeline declares the stages {}", list(d)),
            format!("add `{name}` to `stages:` or use one of the declared stages"),
        ),
        None => (
            "the pipeline declares no `stages:`, so only GitLab's defaults (build, test, deploy) exist".to_string(),
            format!("declare the stages in order at the top level: `stages: [{name}]`"),
        ),
    };
    Found {
        file: stage.file,
        span: stage.span.clone(),
        message: format!(
            "job `{job}` uses stage `{name}`, which does not exist: {why}; GitLab rejects the pipeline (\"chosen stage does not exist\")"
        ),
        label: Some("undeclared stage"),
        help,
        jobs: 1,
    }
}

fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
