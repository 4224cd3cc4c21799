//! `pipeline/syntax`: CI files GitLab would reject: structure errors against GitLab's published
//! CI schema, script items that YAML reads as mappings (`- echo "a: b"`), jobs in stages the
//! pipeline does not declare, and `extends` of templates that do not exist.

use crate::checks::pipeline::gitlab_pipelines;
use crate::checks::{parse_issues, Check, Ctx, Finding};
use crate::parse::ci::GITLAB_DEFAULT_STAGES;

pub struct Syntax;

impl Check for Syntax {
    fn id(&self) -> &'static str {
        "pipeline/syntax"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = parse_issues(cx, self.id());
        for p in gitlab_pipelines(cx.project) {
            // a fragment included by another file is checked as part of that pipeline; a
            // pipeline that includes what obsgate cannot see may get stages/templates there
            if p.included || p.open {
                continue;
            }
            // only a complete pipeline: the root `.gitlab-ci.yml`, or a file that declares its
            // own stages; other CI files are usually fragments included from elsewhere
            let root_name = cx
                .project
                .sources
                .get(p.root.file)
                .path
                .rsplit('/')
                .next()
                .is_some_and(|n| n == ".gitlab-ci.yml");
            if !root_name && p.ci.stages.is_none() {
                continue;
            }
            let declared: Option<Vec<&str>> = p
                .members
                .iter()
                .find_map(|(_, ci)| ci.stages.as_ref())
                .map(|s| s.iter().map(|x| x.value.as_str()).collect());
            let stages: Vec<&str> = declared.clone().unwrap_or(GITLAB_DEFAULT_STAGES.to_vec());
            let templates: Vec<&str> = p
                .members
                .iter()
                .flat_map(|(_, ci)| ci.jobs.iter().map(|j| j.name.value.as_str()))
                .collect();
            for (f, ci) in &p.members {
                for job in &ci.jobs {
                    if let Some(stage) = &job.stage {
                        let special = [".pre", ".post"].contains(&stage.value.as_str());
                        if !job.hidden
                            && !special
                            && !stage.value.contains('$')
                            && !stages.contains(&stage.value.as_str())
                        {
                            let (why, help) = match &declared {
                                Some(d) => (
                                    format!("the pipeline declares the stages {}", list(d)),
                                    format!("add `{}` to `stages:` or use one of the declared stages", stage.value),
                                ),
                                None => (
                                    "the pipeline declares no `stages:`, so only GitLab's defaults (build, test, deploy) exist".to_string(),
                                    format!("declare the stages in order at the top level: `stages: [{}]`", stage.value),
                                ),
                            };
                            out.push(
                                Finding::new(
                                    self.id(),
                                    f.file,
                                    stage.span.clone(),
                                    format!(
                                        "job `{}` uses stage `{}`, which does not exist: {why}; GitLab rejects the pipeline (\"chosen stage does not exist\")",
                                        job.name.value, stage.value
                                    ),
                                )
                                .label("undeclared stage")
                                .help(help),
                            );
                        }
                    }
                    for ext in &job.extends {
                        if !templates.contains(&ext.value.as_str()) {
                            let hint = crate::parse::closest(&ext.value, &templates)
                                .map(|s| format!(" (did you mean `{s}`?)"))
                                .unwrap_or_default();
                            out.push(
                                Finding::new(
                                    self.id(),
                                    f.file,
                                    ext.span.clone(),
                                    format!(
                                        "job `{}` extends `{}`, which no job or template of the pipeline defines{hint}; GitLab rejects the pipeline",
                                        job.name.value, ext.value
                                    ),
                                )
                                .label("unknown template")
                                .help("define the template (a hidden job such as `.base:`) or fix the name"),
                            );
                        }
                    }
                }
            }
        }
        out
    }
}

fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
