//! `alertmanager/template`: notification templates (any integration string field containing
//! `{{`) that do not parse, call functions Alertmanager does not define, read fields that do not
//! exist in Alertmanager's template data (`{{ .PAGERDUTY_INTEGRATION_KEY }}`), or call a
//! `{{ template "name" }}` defined nowhere. Alertmanager loads such a config; the template fails
//! when a notification is rendered, and that notification is not sent.
//!
//! Named templates are resolved against Alertmanager's built-in ones and the files listed under
//! `templates:` (globs relative to the config file). Undefined names are reported only when every
//! pattern could be read here (a relative pattern matching at least one file that parses);
//! otherwise the set of templates is unknown and calls are not checked. Template files that do
//! not parse (`amtool check-config` rejects them) are reported at their `templates:` entry, and
//! so are files not read (one level lower): only files inside the project are read (a pattern
//! like `../../../../etc/*`, or a link that leads out, is not), each as any audited file is (a
//! regular text file of at most 32 MiB). A config kept in Helm values is merged with the chart's
//! defaults (which list the chart's template files): its calls are not checked either.

use std::collections::HashSet;
use std::path::Path;

use crate::checks::{Check, Ctx, Finding};
use crate::parse::alertmanager::{AmConfig, FieldKind};
use crate::parse::am_template;
use crate::parse::gotemplate::{self, FuncSet, ParseOptions};
use crate::source::discover::{self, ReadProblem};

pub struct Template;

/// A problem with a `templates:` entry: the entry's index and what to say.
struct FileProblem {
    idx: usize,
    message: String,
    /// Skipped (outside the project, too large, not a readable text file), not broken: its
    /// definitions are unknown, but the config may be right.
    skipped: bool,
}

/// The names a template file defines (`{{ define "name" }}`), or why it does not parse.
fn defined(text: &str, funcs: &FuncSet) -> Result<Vec<String>, gotemplate::TemplateError> {
    let t = gotemplate::parse(
        text,
        &ParseOptions {
            funcs,
            predefined_vars: &[],
        },
    )?;
    Ok(t.definitions.into_iter().map(|d| d.name).collect())
}

/// The templates defined by the config's `templates:` files, if all of them could be read.
///
/// Only files inside the project ([`crate::model::Project::in_roots`], symbolic links
/// resolved) are read, each as any audited file is ([`discover::read_text`]: regular files, at
/// most [`discover::MAX_FILE_SIZE`] bytes, UTF-8); what is not read is said.
fn template_files(
    cfg: &AmConfig,
    config_path: Option<&Path>,
    project: &crate::model::Project,
    funcs: &FuncSet,
) -> (Option<HashSet<String>>, Vec<FileProblem>) {
    let mut names = HashSet::new();
    let mut problems = Vec::new();
    let mut complete = true;
    for (idx, pat) in cfg.templates.iter().enumerate() {
        let Some(dir) = config_path.and_then(Path::parent) else {
            complete = false;
            continue;
        };
        let full = dir.join(Path::new(pat.value.as_str()));
        let (Some(parent), Some(file_pat)) = (full.parent(), full.file_name()) else {
            complete = false;
            continue;
        };
        let parent_s = parent.to_string_lossy();
        if parent_s.contains(['*', '?', '[']) {
            complete = false;
            continue;
        }
        let Ok(glob) = globset::Glob::new(&file_pat.to_string_lossy()) else {
            complete = false;
            continue;
        };
        let skip = |problems: &mut Vec<FileProblem>, message: String| {
            problems.push(FileProblem {
                idx,
                message,
                skipped: true,
            })
        };
        // the directory, symbolic links resolved, must be in the project
        let Ok(canon_parent) = std::fs::canonicalize(parent) else {
            complete = false;
            continue;
        };
        if !project.in_roots(&canon_parent) {
            complete = false;
            skip(
                &mut problems,
                format!(
                    "`{}` was not read: {} is outside the project",
                    pat.value,
                    canon_parent.display()
                ),
            );
            continue;
        }
        let m = glob.compile_matcher();
        let mut files: Vec<_> = std::fs::read_dir(parent)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    // not only regular files: a pipe or device matched is said, not skipped
                    .filter(|p| !p.is_dir() && p.file_name().is_some_and(|n| m.is_match(n)))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        if files.is_empty() {
            complete = false;
            continue;
        }
        for f in files {
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            match std::fs::canonicalize(&f) {
                Ok(c) if project.in_roots(&c) => {}
                Ok(c) => {
                    complete = false;
                    skip(
                        &mut problems,
                        format!(
                            "template file {name} was not read: it leads outside the project (to {})",
                            c.display()
                        ),
                    );
                    continue;
                }
                Err(_) => {
                    complete = false;
                    continue;
                }
            }
            let text = match discover::read_text(&f) {
                Ok(t) => t,
                Err(problem) => {
                    complete = false;
                    let why = match problem {
                        ReadProblem::Io(e) => format!("cannot read it: {e}"),
                        ReadProblem::TooLarge(n) => format!(
                            "{n} bytes is over the {} byte limit",
                            discover::MAX_FILE_SIZE
                        ),
                        ReadProblem::Binary => "it is binary (contains NUL bytes)".into(),
                        ReadProblem::NotUtf8 { offset } => {
                            format!("not valid UTF-8 (first invalid byte at offset {offset})")
                        }
                    };
                    skip(
                        &mut problems,
                        format!("template file {name} was not read: {why}"),
                    );
                    continue;
                }
            };
            match defined(&text, funcs) {
                Ok(defined) => names.extend(defined),
                Err(e) => {
                    complete = false;
                    let li = crate::source::LineIndex::new(&text);
                    let (l, c) = li.line_col(&text, e.span.start);
                    problems.push(FileProblem {
                        idx,
                        message: format!(
                            "template file {name}:{l}:{c} does not parse: {}",
                            e.message
                        ),
                        skipped: false,
                    });
                }
            }
        }
    }
    (complete.then_some(names), problems)
}

/// The templates a Mimir tenant config defines in its `template_files` (Mimir writes them all
/// into the tenant's template directory), and findings for those that do not parse (Mimir
/// refuses the config), at their text in the tenant config `file`.
fn tenant_templates(
    id: &'static str,
    file: crate::source::FileId,
    files: &[crate::parse::mimir::TemplateFile],
    funcs: &FuncSet,
) -> (Option<HashSet<String>>, Vec<Finding>) {
    let mut names = HashSet::new();
    let mut out = Vec::new();
    let mut complete = true;
    for f in files {
        match defined(&f.text, funcs) {
            Ok(defined) => names.extend(defined),
            Err(e) => {
                complete = false;
                out.push(
                    Finding::new(
                        id,
                        file,
                        f.outer_span(&e.span),
                        format!("template file {} does not parse: {}", f.name, e.message),
                    )
                    .help("Mimir refuses the tenant config (as `amtool check-config` would); fix the template"),
                );
            }
        }
    }
    (complete.then_some(names), out)
}

impl Check for Template {
    fn id(&self) -> &'static str {
        "alertmanager/template"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let funcs = FuncSet::alertmanager();
        let mut out = Vec::new();
        for am in cx.project.alertmanager_configs() {
            let src = cx.src(am.file);
            let source = cx.project.sources.get(am.file);
            let path = source.origin.is_none().then_some(source.fs_path.as_path());
            // a Mimir/Cortex tenant config: its templates are its `template_files`, not files
            // on disk
            let outer = source.origin.as_ref().map(|o| o.outer);
            let tenant = outer.and_then(|o| {
                crate::parse::mimir::template_files(&cx.project.sources.get(o).text)
                    .map(|files| (o, files))
            });
            let (mut known, file_problems) = match &tenant {
                Some((o, files)) => {
                    let (known, problems) = tenant_templates(self.id(), *o, files, &funcs);
                    out.extend(problems);
                    (known, Vec::new())
                }
                None => template_files(am.config, path, cx.project, &funcs),
            };
            // a config in Helm values is merged with the chart's defaults, which list template
            // files (`/etc/alertmanager/config/*.tmpl` from the chart's `templateFiles`): the
            // templates it can call are unknown here
            if cx.project.in_helm_values(am.file) {
                known = None;
            }
            for p in file_problems {
                let finding = Finding::new(
                    self.id(),
                    am.file,
                    am.config.templates[p.idx].span.clone(),
                    p.message,
                );
                out.push(if p.skipped {
                    finding
                        .help("the templates it defines are unknown here, so `{{ template \"...\" }}` calls are not checked; keep template files in the project, as regular text files under the size limit")
                        .downgraded(true)
                } else {
                    finding.help("`amtool check-config` rejects the config; fix the template file")
                });
            }
            let defined_fn = |n: &str| known.as_ref().is_some_and(|k| k.contains(n));
            let defined: Option<&dyn Fn(&str) -> bool> = if known.is_some() {
                Some(&defined_fn)
            } else {
                None
            };
            for r in &am.config.receivers {
                for i in &r.integrations {
                    for f in &i.fields {
                        // client settings are not templated by Alertmanager
                        if !matches!(f.kind, FieldKind::Text | FieldKind::Secret)
                            || f.path.starts_with("http_config.")
                            || f.path.starts_with("tls_config.")
                        {
                            continue;
                        }
                        let Some(v) = &f.value else { continue };
                        if !v.value.contains("{{") {
                            continue;
                        }
                        let place = format!(
                            "`{}` ({}_configs of receiver {:?})",
                            f.path, i.kind, r.name.value
                        );
                        match gotemplate::parse(
                            &v.value,
                            &ParseOptions {
                                funcs: &funcs,
                                predefined_vars: &[],
                            },
                        ) {
                            Err(e) => {
                                let mut finding = Finding::new(
                                    self.id(),
                                    am.file,
                                    v.inner_span(src, &e.span),
                                    format!(
                                        "notification template in {place} does not parse: {}",
                                        e.message
                                    ),
                                );
                                finding = if e.message.contains("not defined") {
                                    finding.help(format!(
                                        "Alertmanager's template functions: {}",
                                        funcs.iter().collect::<Vec<_>>().join(", ")
                                    ))
                                } else {
                                    finding.help("the notification is not sent while the template fails; check the `{{ }}` syntax (Go text/template)")
                                };
                                out.push(finding);
                            }
                            Ok(t) => {
                                for p in am_template::check(&t, &v.value, defined) {
                                    let mut finding = Finding::new(
                                        self.id(),
                                        am.file,
                                        v.inner_span(src, &p.span),
                                        format!("in {place}: {}", p.message),
                                    );
                                    if let Some(h) = p.help {
                                        finding = finding.help(h);
                                    }
                                    out.push(finding);
                                }
                            }
                        }
                    }
                }
            }
        }
        out
    }
}
