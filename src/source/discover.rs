//! Finding the files to audit: a gitignore-aware walk (hidden files included, `.git` skipped,
//! symlinks not followed) filtered by `.obsgate.yml` `include`/`exclude` globs.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

/// File extensions audited when found by walking a directory. Files named explicitly on the
/// command line are always audited.
pub const AUDITED_EXTENSIONS: &[&str] = &["yml", "yaml", "json"];

/// Extensions rule files often have besides YAML's (`alert.rules`, `node.rules`): Prometheus
/// loads whatever `rule_files:` names. Such files found by walking are kept when their content
/// is a rule file ([`crate::model::recognise::sniff_rules`]).
pub const RULE_EXTENSIONS: &[&str] = &["rules", "rule", "alerts", "alert"];

/// Application sources read for metric definitions (prom-client, client_golang,
/// prometheus_client) when found by walking; only files that mention one of those libraries
/// are kept (the others only lend their constants), and tests, fixtures, vendored and bundled
/// files are skipped ([`crate::parse::metric_defs::is_test_or_bundled`]).
pub const SOURCE_EXTENSIONS: &[&str] = &["js", "mjs", "cjs", "ts", "mts", "cts", "go", "py"];

/// Exposition files: node_exporter's textfile collector reads `*.prom` (always audited when
/// found by walking).
pub const EXPOSITION_EXTENSIONS: &[&str] = &["prom"];

/// Extensions of scrapes kept as files that are kept, when found by walking, only when their
/// content clearly is an exposition ([`crate::parse::exposition::sniff`]): a `.txt` file is
/// never called a scrape for its name.
pub const SNIFFED_EXPOSITION_EXTENSIONS: &[&str] = &["txt", "metrics", "om", "openmetrics"];

/// Directories of dependencies and build output, never walked (name them on the command line
/// to audit them anyway).
pub const SKIPPED_DIRS: &[&str] = &[
    "node_modules",
    "vendor",
    ".venv",
    "venv",
    "__pycache__",
    "site-packages",
];

/// Largest file read; bigger files are reported and skipped.
pub const MAX_FILE_SIZE: u64 = 32 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub path: PathBuf,
    /// Named on the command line (not found by walking).
    pub explicit: bool,
    /// Kept only if its content is a rule file (a walked file with a [`RULE_EXTENSIONS`]
    /// extension).
    pub if_rules: bool,
    /// Kept only if its content is an exposition (a walked file with a
    /// [`SNIFFED_EXPOSITION_EXTENSIONS`] extension).
    pub if_exposition: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct DiscoverError {
    pub path: String,
    pub message: String,
    /// A path named on the command line that does not exist or cannot be examined: the run
    /// cannot do what was asked (exit 2). Otherwise a directory (or ignore file) met while
    /// walking that cannot be read: reported as a finding of that path, the rest is audited.
    pub fatal: bool,
}

/// The path an error of the walk is about, and what went wrong there.
fn walk_error(e: &ignore::Error, root: &Path) -> (PathBuf, String) {
    match e {
        ignore::Error::WithPath { path, err } => {
            // the walker's I/O errors name the path again: once is enough
            let message = err.to_string();
            let prefix = format!("IO error for operation on {}: ", path.display());
            let message = message
                .strip_prefix(&prefix)
                .map_or(message.clone(), str::to_string);
            (path.clone(), message)
        }
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error(err, root)
        }
        ignore::Error::Loop { ancestor, child } => (
            child.clone(),
            format!("a symbolic link loop back to {}", ancestor.display()),
        ),
        ignore::Error::Partial(errs) if !errs.is_empty() => walk_error(&errs[0], root),
        other => (root.to_path_buf(), other.to_string()),
    }
}

/// Compiled include/exclude globs, matched against paths relative to the base directory.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
}

impl Filter {
    pub fn new(include: &[String], exclude: &[String]) -> Result<Filter, String> {
        fn build(globs: &[String]) -> Result<Option<GlobSet>, String> {
            if globs.is_empty() {
                return Ok(None);
            }
            let mut b = GlobSetBuilder::new();
            for g in globs {
                b.add(Glob::new(g).map_err(|e| format!("invalid glob `{g}`: {e}"))?);
                // `dir/**` style globs should also match the directory itself
            }
            b.build().map(Some).map_err(|e| e.to_string())
        }
        Ok(Filter {
            include: build(include)?,
            exclude: build(exclude)?,
        })
    }

    pub fn accepts(&self, rel: &str) -> bool {
        if let Some(ex) = &self.exclude {
            if ex.is_match(rel) {
                return false;
            }
        }
        match &self.include {
            Some(inc) => inc.is_match(rel),
            None => true,
        }
    }

    fn excludes_dir(&self, rel: &str) -> bool {
        self.exclude.as_ref().is_some_and(|ex| ex.is_match(rel))
    }
}

/// Walk `paths` and return the files to audit, sorted and deduplicated, and what could not be
/// walked: missing paths ([`DiscoverError::fatal`]) and directories that cannot be read.
pub fn discover(
    paths: &[PathBuf],
    base: &Path,
    filter: &Filter,
) -> (Vec<Candidate>, Vec<DiscoverError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for root in paths {
        let meta = match std::fs::metadata(root) {
            Ok(m) => m,
            Err(e) => {
                errors.push(DiscoverError {
                    path: root.display().to_string(),
                    message: e.to_string(),
                    fatal: true,
                });
                continue;
            }
        };
        // a named FIFO, socket or device is not walked but still audited (and reported by
        // `read_text`, which never blocks on it): an explicit path never vanishes silently
        if !meta.is_dir() {
            out.push(Candidate {
                path: root.clone(),
                explicit: true,
                if_rules: false,
                if_exposition: false,
            });
            continue;
        }
        let base_owned = base.to_path_buf();
        let filter_dirs = filter.clone();
        let walker = ignore::WalkBuilder::new(root)
            .hidden(false)
            .require_git(false)
            .follow_links(false)
            .filter_entry(move |e| {
                if e.file_name() == ".git" {
                    return false;
                }
                if e.depth() > 0
                    && e.file_type().is_some_and(|t| t.is_dir())
                    && e.file_name()
                        .to_str()
                        .is_some_and(|n| SKIPPED_DIRS.contains(&n))
                {
                    return false;
                }
                if e.file_type().is_some_and(|t| t.is_dir()) {
                    let rel = super::display_path(e.path(), &base_owned);
                    return !filter_dirs.excludes_dir(&rel);
                }
                true
            })
            .build();
        for entry in walker {
            match entry {
                Ok(e) => {
                    if !e.file_type().is_some_and(|t| t.is_file()) {
                        continue;
                    }
                    let p = e.path();
                    let ext = p
                        .extension()
                        .and_then(|x| x.to_str())
                        .map(str::to_ascii_lowercase)
                        .unwrap_or_default();
                    let if_rules = RULE_EXTENSIONS.contains(&ext.as_str());
                    let if_exposition = SNIFFED_EXPOSITION_EXTENSIONS.contains(&ext.as_str());
                    let ext_ok = AUDITED_EXTENSIONS.contains(&ext.as_str())
                        || SOURCE_EXTENSIONS.contains(&ext.as_str())
                        || EXPOSITION_EXTENSIONS.contains(&ext.as_str())
                        || if_rules
                        || if_exposition;
                    if !ext_ok {
                        continue;
                    }
                    // tests, fixtures, vendored and bundled code define no metrics of the
                    // application (judged below the directory walked: naming a test
                    // directory, or a file in one, audits it)
                    if SOURCE_EXTENSIONS.contains(&ext.as_str()) {
                        let below = p.strip_prefix(root).unwrap_or(p);
                        if crate::parse::metric_defs::is_test_or_bundled(&below.to_string_lossy()) {
                            continue;
                        }
                    }
                    let rel = super::display_path(p, base);
                    if filter.accepts(&rel) {
                        out.push(Candidate {
                            path: p.to_path_buf(),
                            explicit: false,
                            if_rules,
                            if_exposition,
                        });
                    }
                }
                Err(e) => {
                    let (path, message) = walk_error(&e, root);
                    errors.push(DiscoverError {
                        path: path.display().to_string(),
                        message,
                        fatal: false,
                    })
                }
            }
        }
    }
    // `./a.yml` (walked from `.`) and `a.yml` (named) are one file
    let key = |p: &Path| -> PathBuf { p.strip_prefix(".").unwrap_or(p).to_path_buf() };
    out.sort_by_cached_key(|c| key(&c.path));
    out.dedup_by(|a, b| {
        if key(&a.path) == key(&b.path) {
            b.explicit |= a.explicit;
            true
        } else {
            false
        }
    });
    (out, errors)
}

/// Why a file could not be read as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadProblem {
    Io(String),
    TooLarge(u64),
    Binary,
    NotUtf8 { offset: usize },
}

/// Read a file as UTF-8 text (a leading BOM is dropped).
///
/// Only regular files are read: a FIFO, socket or device would block or never end. The file is
/// opened non-blocking (so a FIFO swapped in after discovery cannot hang the run), its type
/// and size are checked on the open handle, and at most `MAX_FILE_SIZE` bytes are read even
/// if it grows meanwhile.
pub fn read_text(path: &Path) -> Result<String, ReadProblem> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| ReadProblem::Io(e.to_string()))?;
    let meta = file
        .metadata()
        .map_err(|e| ReadProblem::Io(e.to_string()))?;
    if !meta.is_file() {
        return Err(ReadProblem::Io(format!(
            "it is {}, not a regular file; only regular files are read (a pipe or device can block or never end)",
            file_kind(&meta.file_type())
        )));
    }
    if meta.len() > MAX_FILE_SIZE {
        return Err(ReadProblem::TooLarge(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ReadProblem::Io(e.to_string()))?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(ReadProblem::TooLarge(bytes.len() as u64));
    }
    if bytes[..bytes.len().min(8192)].contains(&0) {
        return Err(ReadProblem::Binary);
    }
    match String::from_utf8(bytes) {
        Ok(mut s) => {
            if s.starts_with('\u{feff}') {
                s.drain(..3);
            }
            Ok(s)
        }
        Err(e) => Err(ReadProblem::NotUtf8 {
            offset: e.utf8_error().valid_up_to(),
        }),
    }
}

/// What a non-regular file is, for messages.
fn file_kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "a named pipe (FIFO)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_include_exclude() {
        let f = Filter::new(&["rules/**".into()], &["rules/vendor/**".into()]).unwrap();
        assert!(f.accepts("rules/a.yml"));
        assert!(!f.accepts("rules/vendor/a.yml"));
        assert!(!f.accepts("other/a.yml"));
        assert!(Filter::new(&["[".into()], &[]).is_err());
    }
}
