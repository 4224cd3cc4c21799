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
//! not parse (`amtool check-config` rejects them) are reported at their `templates:` entry.

use std::collections::HashSet;
use std::path::Path;

use crate::checks::{Check, Ctx, Finding};
use crate::parse::alertmanager::{AmConfig, FieldKind};
use crate::parse::am_template;
use crate::parse::gotemplate::{self, FuncSet, ParseOptions};

pub struct Template;

/// The templates defined by the config's `templates:` files, if all of them could be read.
fn template_files(
    cfg: &AmConfig,
    config_path: Option<&Path>,
    funcs: &FuncSet,
) -> (Option<HashSet<String>>, Vec<(usize, String)>) {
    let mut names = HashSet::new();
    let mut problems = Vec::new();
    let mut complete = true;
    for (idx, pat) in cfg.templates.iter().enumerate() {
        let Some(dir) = config_path.and_then(Path::parent) else {
            complete = false;
            continue;
        };
        let p = Path::new(pat.value.as_str());
        if p.is_absolute() {
            complete = false;
            continue;
        }
        let full = dir.join(p);
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
        let m = glob.compile_matcher();
        let mut files: Vec<_> = std::fs::read_dir(parent)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.path())
                    .filter(|p| p.is_file() && p.file_name().is_some_and(|n| m.is_match(n)))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        if files.is_empty() {
            complete = false;
            continue;
        }
        for f in files {
            let Ok(text) = std::fs::read_to_string(&f) else {
                complete = false;
                continue;
            };
            match gotemplate::parse(
                &text,
                &ParseOptions {
                    funcs,
                    predefined_vars: &[],
                },
            ) {
                Ok(t) => names.extend(t.definitions.into_iter().map(|d| d.name)),
                Err(e) => {
                    complete = false;
                    let li = crate::source::LineIndex::new(&text);
                    let (l, c) = li.line_col(&text, e.span.start);
                    problems.push((
                        idx,
                        format!(
                            "template file {}:{l}:{c} does not parse: {}",
                            f.file_name()
                                .map(|n| n.to_string_lossy())
                                .unwrap_or_default(),
                            e.message
                        ),
                    ));
                }
            }
        }
    }
    (complete.then_some(names), problems)
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
            let (known, file_problems) = template_files(am.config, path, &funcs);
            for (idx, msg) in file_problems {
                out.push(
                    Finding::new(
                        self.id(),
                        am.file,
                        am.config.templates[idx].span.clone(),
                        msg,
                    )
                    .help("`amtool check-config` rejects the config; fix the template file"),
                );
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
