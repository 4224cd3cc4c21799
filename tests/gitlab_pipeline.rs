//! Pipelines judged as GitLab assembles them (CI/YAML reference, `include`, `extends`,
//! `!reference`, `spec:inputs`): multi-file pipelines in temporary project folders, with each
//! finding at the file and line where it was written.

mod common;

use std::path::PathBuf;

use obsgate::config::Config;
use obsgate::engine::{self, CheckOptions, Outcome};

struct Project {
    dir: PathBuf,
}

impl Project {
    fn new(name: &str, files: &[(&str, &str)]) -> Project {
        let dir = std::env::temp_dir().join(format!("obsgate-gl-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in files {
            let p = dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        Project { dir }
    }

    fn check(&self) -> Outcome {
        engine::check(&CheckOptions {
            paths: vec![self.dir.clone()],
            base: self.dir.clone(),
            config: Config::default(),
            only: None,
        })
        .expect("run")
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn found<'a>(o: &'a Outcome, check: &str) -> Vec<(&'a str, u32, String)> {
    o.findings
        .iter()
        .filter(|f| f.check == check)
        .map(|f| (&*f.path, f.line, f.severity.to_string()))
        .collect()
}

/// Docs: `include:local` ("merged with the .gitlab-ci.yml"), `extends` across included files:
/// a template's bad value is reported in the included file, where it is written.
#[test]
fn an_error_in_an_included_template_is_reported_there() {
    let pr = Project::new(
        "incl",
        &[
            (
                ".gitlab-ci.yml",
                "include:\n  - local: ci/templates.yml\nstages: [build, test]\nbuild:\n  extends: .build\n  stage: build\n",
            ),
            (
                "ci/templates.yml",
                ".build:\n  script: [make]\n  retry: many\n",
            ),
        ],
    );
    let o = pr.check();
    assert_eq!(
        found(&o, "pipeline/syntax"),
        vec![("ci/templates.yml", 3, "error".to_string())],
        "{}",
        common::concise(&o, None)
    );
}

/// Templates and stages defined in included files count; a job's `script` from a template of
/// an included file counts (Docs: `extends`, "Use `extends` and `include` together").
#[test]
fn templates_stages_and_scripts_from_includes_count() {
    let pr = Project::new(
        "ok",
        &[
            (
                ".gitlab-ci.yml",
                "include:\n  - ci/stages.yml\n  - local: ci/jobs/*.yml\nlint:\n  extends: .lint\n",
            ),
            (
                "ci/stages.yml",
                "stages: [check, publish]\n.lint:\n  stage: check\n  script: [make lint]\n",
            ),
            (
                "ci/jobs/publish.yml",
                "publish:\n  stage: publish\n  extends: .lint\n  script: [make publish]\n",
            ),
        ],
    );
    let o = pr.check();
    assert!(
        found(&o, "pipeline/syntax").is_empty(),
        "{}",
        common::concise(&o, None)
    );
}

/// What an include out of sight could define is unknown, never an error: templates, stages,
/// a job's script, keys a same-named job there would add.
#[test]
fn what_an_unseen_include_could_define_is_not_an_error() {
    let pr = Project::new(
        "open",
        &[(
            ".gitlab-ci.yml",
            "include:\n  - project: group/ci-templates\n    file: /templates/base.yml\n  - remote: $TEMPLATES_URL\nbuild:\n  extends: .remote-build\n  stage: compile\ntest:\n  variables: {A: b}\n  rules:\n    - !reference [.remote-rules, rules]\ndeploy:\n  script: [./deploy]\n  when: sometimes\n",
        )],
    );
    let o = pr.check();
    // the one certain error: a value written in this file that GitLab refuses whatever the include
    assert_eq!(
        found(&o, "pipeline/syntax"),
        vec![(".gitlab-ci.yml", 14, "error".to_string())],
        "{}",
        common::concise(&o, None)
    );
}

/// Docs: "Define inputs ... with `spec:inputs`": a component is interpolated with the inputs its
/// include passes before it is validated; alone, with its defaults.
#[test]
fn spec_inputs_are_interpolated_before_validation() {
    let pr = Project::new(
        "inputs",
        &[
            (
                ".gitlab-ci.yml",
                "include:\n  - local: templates/job.yml\n    inputs:\n      when: manual\n      stage: test\n",
            ),
            (
                "templates/job.yml",
                "spec:\n  inputs:\n    stage:\n      default: test\n    when:\n      default: on_success\n    allow:\n      type: boolean\n      default: false\n---\n\"$[[ inputs.stage ]]-job\":\n  stage: $[[ inputs.stage ]]\n  when: $[[ inputs.when ]]\n  allow_failure: $[[ inputs.allow ]]\n  script: [make]\n",
            ),
        ],
    );
    let o = pr.check();
    assert!(
        found(&o, "pipeline/syntax").is_empty(),
        "{}",
        common::concise(&o, None)
    );
}

/// A file GitLab reads with a duplicate key (Psych keeps the last) is audited as GitLab reads
/// it: a warning at the ignored key, and every other check runs.
#[test]
fn a_file_with_a_duplicate_key_is_audited_as_gitlab_reads_it() {
    let pr = Project::new(
        "dup",
        &[(
            ".gitlab-ci.yml",
            "variables:\n  DEPLOY_TOKEN: \"dT-9f8e7d6c5b4a3f21x\"\nsmoke:\n  script:\n    - ./server &\n    - sleep 10\n    - curl -s http://localhost:8080/health | jq .status\n  script:\n    - ./server &\n    - sleep 10\n    - curl -s http://localhost:8080/health | jq .status\n",
        )],
    );
    let o = pr.check();
    let checks: Vec<(&str, u32)> = o.findings.iter().map(|f| (f.check, f.line)).collect();
    assert_eq!(
        checks,
        vec![
            ("secrets/inline", 2),
            ("pipeline/syntax", 4),
            ("pipeline/sleep-wait", 10),
            ("pipeline/check-cannot-fail", 11),
        ],
        "{}",
        common::concise(&o, None)
    );
}
