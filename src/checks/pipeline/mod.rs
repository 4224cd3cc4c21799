//! Pipeline checks: GitLab CI and GitHub Actions structure, validation steps that cannot fail,
//! and `sleep`s that stand in for readiness checks.

pub mod check_cannot_fail;
pub mod sleep_wait;
pub mod syntax;

use crate::model::{FileKind, Project};
use crate::parse::gitlab::{assemble, CiSource, Pipeline};

/// A GitLab pipeline of the run, assembled as GitLab assembles it.
pub struct GitlabPipeline {
    /// Index of the main file in [`gitlab_sources`].
    pub root: usize,
    pub pipeline: Pipeline,
    /// A complete pipeline: its main file is a pipeline GitLab runs (`.gitlab-ci.yml`, or a file
    /// that declares its own `stages:`), no other file of the run includes it, and everything it
    /// includes is in sight. Only a complete pipeline is judged on what could come from
    /// elsewhere (stages, templates, required keys); the others only on what is certain.
    pub complete: bool,
}

/// The GitLab CI files of the run, as the assembler reads them.
pub fn gitlab_sources(project: &Project) -> Vec<CiSource<'_>> {
    project
        .files
        .iter()
        .filter(|f| f.kind == FileKind::GitlabCi)
        .filter_map(|f| {
            let g = f.ci.as_ref()?.gitlab.as_ref()?;
            let s = project.sources.get(f.file);
            Some(CiSource {
                file: f.file,
                path: &s.path,
                src: &s.text,
                doc: &g.doc,
                spec: g.spec.as_ref(),
            })
        })
        .collect()
}

/// Every GitLab pipeline of the run: each file that no other file of the run includes is the
/// main file of one (a fragment included by nothing here is assembled alone, and judged only
/// on what is certain).
pub fn gitlab_pipelines(sources: &[CiSource<'_>]) -> Vec<GitlabPipeline> {
    let assembled: Vec<Pipeline> = (0..sources.len()).map(|i| assemble(sources, i)).collect();
    // a file included by another is judged as part of the pipeline that includes it
    let included: Vec<bool> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            assembled
                .iter()
                .enumerate()
                .any(|(j, p)| j != i && p.files.iter().skip(1).any(|f| *f == s.file))
        })
        .collect();
    let mut out = Vec::new();
    for (i, p) in assembled.into_iter().enumerate() {
        if included[i] {
            continue;
        }
        let name = sources[i].path.rsplit('/').next().unwrap_or("");
        let main = name == ".gitlab-ci.yml" || sources[i].doc.get("stages").is_some();
        let complete = main && !p.open && sources[i].spec.is_none();
        out.push(GitlabPipeline {
            root: i,
            pipeline: p,
            complete,
        });
    }
    out
}
