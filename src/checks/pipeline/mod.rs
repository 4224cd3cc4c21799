//! Pipeline checks: GitLab CI and GitHub Actions structure, validation steps that cannot fail,
//! and `sleep`s that stand in for readiness checks.

pub mod check_cannot_fail;
pub mod sleep_wait;
pub mod syntax;

use crate::model::{FileKind, FileModel, Project};
use crate::parse::ci::CiFile;

/// The GitLab CI files of a run with the local files each one includes (transitively), so that
/// stages and `extends` templates are looked up across the pipeline as GitLab assembles it.
pub struct GitlabPipeline<'a> {
    pub root: &'a FileModel,
    pub ci: &'a CiFile,
    /// The file and every local file it includes (that this run found).
    pub members: Vec<(&'a FileModel, &'a CiFile)>,
    /// Included by another GitLab file of this run (then that file's stages apply).
    pub included: bool,
    /// Includes something obsgate cannot see (project/remote/template/component, or a local
    /// file outside the run): stages and templates may come from there.
    pub open: bool,
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

pub fn gitlab_pipelines(project: &Project) -> Vec<GitlabPipeline<'_>> {
    let files: Vec<(&FileModel, &CiFile)> = project
        .files
        .iter()
        .filter(|f| f.kind == FileKind::GitlabCi)
        .filter_map(|f| Some((f, f.ci.as_ref()?)))
        .collect();
    let path = |f: &FileModel| project.sources.get(f.file).path.clone();
    let included_by = |pat: &str| -> Vec<usize> {
        (0..files.len())
            .filter(|&i| include_matches(pat, &path(files[i].0)))
            .collect()
    };
    let mut out = Vec::new();
    for (i, &(f, ci)) in files.iter().enumerate() {
        let included = files.iter().enumerate().any(|(j, (_, other))| {
            j != i
                && other
                    .includes_local
                    .iter()
                    .any(|p| include_matches(&p.value, &path(f)))
        });
        let mut members = vec![i];
        let mut open = false;
        let mut k = 0;
        while k < members.len() {
            let (_, m) = files[members[k]];
            open |= m.includes_other > 0;
            for inc in &m.includes_local {
                let found = included_by(&inc.value);
                if found.is_empty() {
                    open = true;
                }
                for j in found {
                    if !members.contains(&j) {
                        members.push(j);
                    }
                }
            }
            k += 1;
        }
        out.push(GitlabPipeline {
            root: f,
            ci,
            members: members.into_iter().map(|m| files[m]).collect(),
            included,
            open,
        });
    }
    out
}
