//! `obsgate fix`: the mechanical fixes findings carry ([`crate::checks::Fix`]), applied as
//! byte edits so that the rest of each file (comments, quoting, key order, indentation) stays
//! as it is.
//!
//! An edit of an embedded file (a heredoc of a CI file, a Kubernetes `stringData` value) is
//! mapped into its outer file only when the mapping is exact: every byte of the edited range
//! comes verbatim from the outer file (no variable substitution, no base64). The fixed outer
//! file is then read again and each embedded file must come out exactly as fixed; otherwise
//! the file's fixes are skipped with a note. Overlapping edits are never applied together: the
//! later fix waits for the next run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::checks::Fix;
use crate::engine::Outcome;
use crate::source::{FileId, Sources, Span};

/// The whole YAML field at `span` (from its key to the end of its value) when it can be
/// replaced or removed as lines: the key begins its line (after indentation, or after the
/// `- ` of a list item) and nothing but closing quotes and brackets of the value, spaces and a
/// comment follow the value on its last line. The returned span includes those closers (not
/// the comment); `after_dash` says the key follows a list item's `- `.
pub fn whole_field(src: &str, span: &Span) -> Option<(Span, bool)> {
    let bytes = src.as_bytes();
    if span.end > bytes.len() || span.start > span.end {
        return None;
    }
    let line_start = src[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let prefix = &src[line_start..span.start];
    let after_dash = match prefix.trim() {
        "" => false,
        "-" if prefix.trim_end().ends_with('-') && prefix.ends_with(' ') => true,
        _ => return None,
    };
    let line_end = src[span.end..]
        .find('\n')
        .map_or(src.len(), |i| span.end + i);
    let rest = &src[span.end..line_end];
    let code = match rest.find('#') {
        Some(i) if i == 0 || rest[..i].ends_with([' ', '\t']) => &rest[..i],
        Some(_) => return None,
        None => rest,
    };
    let closers = code.trim_end();
    if !closers
        .chars()
        .all(|c| matches!(c, '\'' | '"' | ']' | '}' | ' '))
    {
        return None;
    }
    let end = span.end + closers.len();
    balanced(&src[span.start..end]).then_some((span.start..end, after_dash))
}

/// The comments of a YAML fragment (`# ...` to the end of a line, outside quoted strings).
pub fn comments(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    scan(text, |i| {
        let end = text[i..].find('\n').map_or(text.len(), |e| i + e);
        out.push(text[i..end].trim_end());
        end
    });
    out
}

/// Whether the brackets of a YAML fragment are balanced outside its quoted strings and comments.
fn balanced(text: &str) -> bool {
    scan(text, |i| text[i..].find('\n').map_or(text.len(), |e| i + e)) == Some(0)
}

/// Walk a YAML fragment: quoted strings skipped, `on_comment(at)` called at each comment
/// (a `#` at the start or after a blank, outside quotes), which returns where to go on. The
/// bracket depth at the end, or `None` when a bracket closes one never opened or a quote is
/// left open.
fn scan(text: &str, mut on_comment: impl FnMut(usize) -> usize) -> Option<i32> {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    let mut prev = ' ';
    while let Some((i, c)) = chars.next() {
        let blank_before = prev.is_whitespace();
        prev = c;
        match (quote, c) {
            (None, '#') if blank_before => {
                let to = on_comment(i);
                while chars.peek().is_some_and(|&(j, _)| j < to) {
                    chars.next();
                }
                prev = ' ';
            }
            (Some('\''), '\'') if chars.peek().is_some_and(|&(_, n)| n == '\'') => {
                chars.next();
            }
            (Some('"'), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
            }
            _ => {}
        }
    }
    quote.is_none().then_some(depth)
}

/// The edits that replace the first of `fields` (by position) with `line` and remove the
/// others, or `None` when one of them cannot be edited as whole lines ([`whole_field`]).
pub fn replace_fields(
    file: FileId,
    src: &str,
    fields: &[Span],
    line: String,
) -> Option<Vec<crate::checks::Edit>> {
    let mut extents = Vec::new();
    for f in fields {
        extents.push(whole_field(src, f)?);
    }
    extents.sort_by_key(|(s, _)| s.start);
    // the comments inside the fields go to the end of the new line
    let kept: Vec<&str> = extents
        .iter()
        .flat_map(|(s, _)| comments(&src[s.clone()]))
        .collect();
    let line = if kept.is_empty() {
        line
    } else {
        format!("{line}  {}", kept.join(" "))
    };
    let mut edits = Vec::new();
    for (i, (span, after_dash)) in extents.into_iter().enumerate() {
        if i == 0 {
            edits.push(crate::checks::Edit {
                file,
                span,
                text: line.clone(),
            });
        } else {
            if after_dash {
                return None;
            }
            // the field's lines, from the end of the line before
            let line_start = src[..span.start].rfind('\n')?;
            edits.push(crate::checks::Edit {
                file,
                span: line_start..span.end,
                text: String::new(),
            });
        }
    }
    Some(edits)
}

/// The edits that remove a field (its lines), or `None` when it cannot be removed as whole
/// lines.
pub fn remove_field(file: FileId, src: &str, field: &Span) -> Option<crate::checks::Edit> {
    let (span, after_dash) = whole_field(src, field)?;
    if after_dash {
        return None;
    }
    let line_start = src[..span.start].rfind('\n')?;
    Some(crate::checks::Edit {
        file,
        span: line_start..span.end,
        text: String::new(),
    })
}

/// An edit mapped into the real file it changes.
#[derive(Debug, Clone)]
struct OuterEdit {
    span: Span,
    text: String,
    /// The embedded file the edit was written for, with the edit's span there, if any.
    inner: Option<(FileId, Span)>,
}

/// Map an edit of `file` into its outermost file, when every byte of it is verbatim there.
fn to_outer(sources: &Sources, file: FileId, span: &Span) -> Result<(FileId, Span), String> {
    let (mut id, mut span) = (file, span.clone());
    while let Some(origin) = &sources.get(id).origin {
        if origin.whole.is_some() {
            return Err("its text is decoded (base64) from the outer file".into());
        }
        // every byte of the range must come verbatim from one of the runs
        let mut at = span.start;
        while at < span.end {
            let Some(&(inner, _, len)) = origin
                .segments
                .iter()
                .find(|&&(inner, _, len)| at >= inner && at < inner + len)
            else {
                return Err("part of it is not written verbatim in the outer file (a substituted variable, an escape)".into());
            };
            at = inner + len;
        }
        let start = origin.map(span.start, false);
        span = start..origin.map(span.end, true).max(start);
        id = origin.outer;
    }
    Ok((id, span))
}

/// What `obsgate fix` will change.
#[derive(Debug, Default)]
pub struct Plan {
    /// Files to rewrite: path on disk, displayed path, old text, new text, fixes applied.
    pub files: Vec<FileChange>,
    /// Fixes not applied, with why.
    pub notes: Vec<String>,
}

#[derive(Debug)]
pub struct FileChange {
    pub fs_path: PathBuf,
    pub shown: String,
    pub old: String,
    pub new: String,
    pub fixes: usize,
}

/// Plan the fixes of a run's findings (unsafe ones only when `unsafe_ok`).
pub fn plan(outcome: &Outcome, unsafe_ok: bool) -> Plan {
    let sources = &outcome.project.sources;
    let mut plan = Plan::default();
    // per outer file: the fixes that map, each as its edits
    let mut per_file: BTreeMap<FileId, Vec<(String, Vec<OuterEdit>)>> = BTreeMap::new();
    let mut seen: Vec<&Fix> = Vec::new();
    for f in outcome.findings.iter() {
        let Some(fix) = &f.fix else { continue };
        if seen.contains(&&**fix) {
            continue;
        }
        seen.push(fix);
        let at = format!("{}:{}:{}", f.path, f.line, f.column);
        if fix.edits.is_empty() {
            plan.notes.push(format!(
                "{at}: skipped: {} (not written one field per line: fix it by hand)",
                fix.title
            ));
            continue;
        }
        if !fix.safe && !unsafe_ok {
            plan.notes.push(format!(
                "{at}: not applied without --unsafe: {} ({})",
                fix.title, f.check
            ));
            continue;
        }
        let mut outer_file = None;
        let mut edits = Vec::new();
        let mut problem = None;
        for e in &fix.edits {
            match to_outer(sources, e.file, &e.span) {
                Ok((o, span)) if outer_file.is_none_or(|x| x == o) => {
                    outer_file = Some(o);
                    let inner = sources
                        .get(e.file)
                        .origin
                        .is_some()
                        .then(|| (e.file, e.span.clone()));
                    edits.push(OuterEdit {
                        span,
                        text: e.text.clone(),
                        inner,
                    });
                }
                Ok(_) => problem = Some("its edits are in several files".to_string()),
                Err(why) => problem = Some(why),
            }
        }
        match (outer_file, problem) {
            (Some(o), None) => per_file
                .entry(o)
                .or_default()
                .push((format!("{at}: {}", fix.title), edits)),
            (_, why) => plan.notes.push(format!(
                "{at}: skipped: {} ({})",
                fix.title,
                why.unwrap_or_else(|| "nothing to change".into())
            )),
        }
    }
    for (file, fixes) in per_file {
        let src = sources.get(file);
        let mut taken: Vec<OuterEdit> = Vec::new();
        let mut applied = Vec::new();
        for (title, edits) in fixes {
            let overlaps = edits.iter().any(|e| {
                taken.iter().any(|t| {
                    e.span.start < t.span.end.max(t.span.start + 1)
                        && t.span.start < e.span.end.max(e.span.start + 1)
                })
            });
            if overlaps {
                plan.notes.push(format!(
                    "{title}: left for the next run (it overlaps another fix)"
                ));
                continue;
            }
            taken.extend(edits);
            applied.push(title);
        }
        taken.sort_by_key(|e| std::cmp::Reverse(e.span.start));
        let mut new = src.text.to_string();
        for e in &taken {
            new.replace_range(e.span.clone(), &e.text);
        }
        if let Err(why) = verify_embedded(sources, file, &taken, &new) {
            plan.notes
                .extend(applied.iter().map(|t| format!("{t}: skipped: {why}")));
            continue;
        }
        if new != *src.text {
            plan.files.push(FileChange {
                fs_path: src.fs_path.clone(),
                shown: src.path.clone(),
                old: src.text.to_string(),
                new,
                fixes: applied.len(),
            });
        }
    }
    plan
}

/// For the embedded files an outer file's edits were written for: apply the edits to them as
/// they are, read the fixed outer file again, and require that each comes out exactly so.
fn verify_embedded(
    sources: &Sources,
    outer: FileId,
    edits: &[OuterEdit],
    fixed_outer: &str,
) -> Result<(), String> {
    let mut inner_ids: Vec<FileId> = edits
        .iter()
        .filter_map(|e| Some(e.inner.as_ref()?.0))
        .collect();
    inner_ids.sort();
    inner_ids.dedup();
    if inner_ids.is_empty() {
        return Ok(());
    }
    // the same edits on each embedded file's own text
    let expected: Vec<String> = inner_ids
        .iter()
        .map(|&id| expected_inner(sources, id, edits))
        .collect();
    let dir = std::env::temp_dir().join(format!("obsgate-fix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot verify: {e}"))?;
    let name = Path::new(&sources.get(outer).fs_path)
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "file".into());
    let path = dir.join(name);
    let result = (|| {
        std::fs::write(&path, fixed_outer).map_err(|e| format!("cannot verify: {e}"))?;
        let project = crate::engine::load(
            std::slice::from_ref(&path),
            &dir,
            &crate::source::discover::Filter::default(),
        )
        .map_err(|e| format!("cannot verify: {e}"))?;
        let texts: Vec<&str> = project
            .sources
            .iter()
            .filter(|s| s.origin.is_some())
            .map(|s| &*s.text)
            .collect();
        match expected.iter().all(|e| texts.contains(&e.as_str())) {
            true => Ok(()),
            false => Err("the fixed outer file does not give back the fixed embedded file (its quoting or escaping would change it)".to_string()),
        }
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The text of embedded file `id` with the edits written for it applied.
fn expected_inner(sources: &Sources, id: FileId, edits: &[OuterEdit]) -> String {
    let mut mine: Vec<(&Span, &str)> = edits
        .iter()
        .filter_map(|e| match &e.inner {
            Some((f, span)) if *f == id => Some((span, e.text.as_str())),
            _ => None,
        })
        .collect();
    mine.sort_by_key(|(s, _)| std::cmp::Reverse(s.start));
    let mut text = sources.get(id).text.to_string();
    for (s, t) in mine {
        text.replace_range(s.clone(), t);
    }
    text
}

/// A unified diff of the plan's files.
pub fn diff(plan: &Plan) -> String {
    let mut out = String::new();
    for f in &plan.files {
        let d = similar::TextDiff::from_lines(&f.old, &f.new);
        out.push_str(
            &d.unified_diff()
                .context_radius(3)
                .header(&format!("a/{}", f.shown), &format!("b/{}", f.shown))
                .to_string(),
        );
    }
    out
}
