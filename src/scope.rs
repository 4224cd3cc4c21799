//! Which findings a run reports when it loads more than it reports on: `--load DIR` (the
//! pre-commit hook: the whole repository loaded, the staged files reported on) and
//! `--diff-base REV` (a merge request: the files changed since REV reported on).
//!
//! A finding concerns a file when it is located in it (in the outer file, for a file embedded
//! in another) or when one of its other locations is (an Alertmanager route shadowed by a
//! route in a changed file, an alert of a changed rule file that no route receives...).
//! Everything is loaded and checked either way, so the cross-file checks stay exact.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::engine::Resolved;
use crate::source::{FileId, Sources};

/// The files findings are reported for.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Canonical paths of files.
    files: HashSet<PathBuf>,
    /// Canonical paths of directories: every file under them.
    dirs: Vec<PathBuf>,
}

impl Scope {
    /// The given files and directories (paths that do not exist are left out: nothing can be
    /// located in them).
    pub fn of_paths(paths: &[PathBuf]) -> Scope {
        let mut scope = Scope::default();
        for p in paths {
            let Ok(c) = std::fs::canonicalize(p) else {
                continue;
            };
            if c.is_dir() {
                scope.dirs.push(c);
            } else {
                scope.files.insert(c);
            }
        }
        scope
    }

    /// The files changed since `rev` in the git repository around `dir`: committed changes
    /// since the merge base of `rev` and `HEAD` (since `rev` itself when the history does not
    /// reach a merge base, as in a shallow clone), changes not yet committed, and untracked
    /// files. Renames count under their new name. Returns the scope and, when the merge base
    /// could not be found, a note saying so.
    pub fn changed_since(rev: &str, dir: &Path) -> Result<(Scope, Option<String>), String> {
        if rev.starts_with('-') {
            return Err(format!("--diff-base: `{rev}` is not a revision"));
        }
        let top = git(dir, &["rev-parse", "--show-toplevel"])
            .map_err(|e| format!("--diff-base needs a git repository: {e}"))?;
        let top = PathBuf::from(top.trim_end_matches(['\n', '\r']));
        let commit = format!("{rev}^{{commit}}");
        git(&top, &["rev-parse", "--verify", "--quiet", &commit]).map_err(|_| {
            format!(
                "--diff-base: `{rev}` is not a commit of this repository (in a shallow clone, fetch it first: `git fetch --depth=1 origin {rev}`)"
            )
        })?;
        let (base, note) = match git(&top, &["merge-base", rev, "HEAD"]) {
            Ok(b) => (b.trim().to_string(), None),
            Err(_) => (
                rev.to_string(),
                Some(format!(
                    "note: no merge base of `{rev}` and HEAD in this history (a shallow clone?): comparing with `{rev}` itself\n"
                )),
            ),
        };
        let diff = git(
            &top,
            &[
                "diff",
                "--name-only",
                "-z",
                "--find-renames",
                "--diff-filter=d",
                &base,
                "--",
            ],
        )?;
        let untracked = git(&top, &["ls-files", "-z", "--others", "--exclude-standard"])?;
        let mut scope = Scope::default();
        for rel in diff.split('\0').chain(untracked.split('\0')) {
            if rel.is_empty() {
                continue;
            }
            if let Ok(c) = std::fs::canonicalize(top.join(rel)) {
                scope.files.insert(c);
            }
        }
        Ok((scope, note))
    }

    /// Keep only what both scopes cover.
    pub fn intersect(self, other: &Scope) -> Scope {
        let covered_by = |s: &Scope, p: &Path| s.covers_path(p);
        let mut out = Scope::default();
        for f in &self.files {
            if covered_by(other, f) {
                out.files.insert(f.clone());
            }
        }
        for f in &other.files {
            if covered_by(&self, f) {
                out.files.insert(f.clone());
            }
        }
        for d in &self.dirs {
            for o in &other.dirs {
                if d.starts_with(o) {
                    out.dirs.push(d.clone());
                } else if o.starts_with(d) {
                    out.dirs.push(o.clone());
                }
            }
        }
        out
    }

    fn covers_path(&self, p: &Path) -> bool {
        self.files.contains(p) || self.dirs.iter().any(|d| p.starts_with(d))
    }

    /// A filter over findings: whether each concerns a file of the scope.
    pub fn filter<'a>(&'a self, sources: &'a Sources) -> impl FnMut(&Resolved) -> bool + 'a {
        let mut known: HashMap<FileId, bool> = HashMap::new();
        move |f: &Resolved| {
            let mut inside = |id: FileId, span: &crate::source::Span| {
                let (outer, _) = sources.resolve(id, span);
                *known.entry(outer).or_insert_with(|| {
                    std::fs::canonicalize(&sources.get(outer).fs_path)
                        .is_ok_and(|c| self.covers_path(&c))
                })
            };
            inside(f.file, &f.span) || f.labels.iter().any(|l| inside(l.file, &l.span))
        }
    }
}

/// Run git in `dir`; its standard output, or why it failed.
fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}
