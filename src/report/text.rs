//! Graphical diagnostics (miette): the check id as code, the source excerpt with the offending
//! span underlined, secondary labels, and the help line. No hyperlinks (CI logs).

use std::fmt;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

use super::Style;
use crate::checks::Severity;
use crate::engine::{Findings, Resolved};
use crate::model::Project;
use crate::source::FileId;

struct Diag<'a> {
    f: &'a Resolved,
    src: &'a Excerpts,
}

/// A source for miette that reads an excerpt in time proportional to the excerpt.
///
/// miette's own `SourceCode` for strings finds a span's lines by scanning from the start of the
/// text, several times per finding: a file with a finding on every line took quadratic time
/// (a 64 KB scrape of 8330 untyped metrics, 16661 findings, rendered in 35 s). This gives
/// miette's scan only the lines around the span (found from an index of the line breaks) and
/// shifts the result back, so the excerpts are exactly miette's.
///
/// The text is escaped as the messages are ([`super::escape`]), but for line breaks and tabs:
/// an ESC or a bidi control in a file never reaches the terminal. Offsets into the file are
/// moved to the escaped text with [`Excerpts::at`].
struct Excerpts {
    name: String,
    text: String,
    /// Offset of the last byte of every line break, as miette counts them (`\n`, `\r\n`, a
    /// lone `\r`).
    breaks: Vec<usize>,
    /// For every escaped character: its offset in the file, and the bytes added by the escapes
    /// up to and including it.
    shifts: Vec<(usize, usize)>,
}

impl Excerpts {
    fn new(name: &str, text: String) -> Excerpts {
        let mut shifts = Vec::new();
        let kept = |c: char| matches!(c, '\n' | '\r' | '\t');
        let text = if text.chars().any(|c| super::is_escaped(c) && !kept(c)) {
            let mut out = String::with_capacity(text.len() + 64);
            for (i, c) in text.char_indices() {
                if super::is_escaped(c) && !kept(c) {
                    let before = out.len();
                    out.push_str(&super::escape(c.encode_utf8(&mut [0; 4])));
                    let added = (out.len() - before) - c.len_utf8();
                    let total = shifts.last().map_or(0, |&(_, t)| t) + added;
                    shifts.push((i, total));
                } else {
                    out.push(c);
                }
            }
            out
        } else {
            text
        };
        let b = text.as_bytes();
        let breaks = (0..b.len())
            .filter(|&i| b[i] == b'\n' || (b[i] == b'\r' && b.get(i + 1) != Some(&b'\n')))
            .collect();
        Excerpts {
            name: super::escape(name).into_owned(),
            text,
            breaks,
            shifts,
        }
    }

    /// The offset in the escaped text of `offset` in the file.
    fn at(&self, offset: usize) -> usize {
        let i = self.shifts.partition_point(|&(o, _)| o < offset);
        offset + i.checked_sub(1).map_or(0, |i| self.shifts[i].1)
    }

    /// A span of the file, in the escaped text.
    fn span(&self, span: &crate::source::Span) -> (usize, usize) {
        let start = self.at(span.start);
        (start, self.at(span.end).saturating_sub(start))
    }
}

impl SourceCode for Excerpts {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        // breaks before the span's line (miette's test: the break's offset < the span's); one
        // line more than the context, as miette looks at the byte before an empty span
        let before = self.breaks.partition_point(|&o| o < span.offset());
        let skipped = before.saturating_sub(context_lines_before.saturating_add(1));
        let start = match skipped {
            0 => 0,
            n => self.breaks[n - 1] + 1,
        };
        // miette stops after the span's last line and `context_lines_after` more; a few lines
        // of margin keep the window past its stop
        let end_breaks = self
            .breaks
            .partition_point(|&o| o < span.offset().saturating_add(span.len()));
        let end = self
            .breaks
            .get(
                end_breaks
                    .saturating_add(context_lines_after)
                    .saturating_add(3),
            )
            .map_or(self.text.len(), |&o| o + 1);
        let window = &self.text.as_bytes()[start..end];
        let inner = SourceSpan::new(span.offset().saturating_sub(start).into(), span.len());
        let c = window.read_span(&inner, context_lines_before, context_lines_after)?;
        let found = SourceSpan::new((c.span().offset() + start).into(), c.span().len());
        Ok(Box::new(
            MietteSpanContents::new_named(
                self.name.clone(),
                c.data(),
                found,
                c.line() + skipped,
                c.column(),
                c.line_count() + skipped,
            )
            .with_language("yaml"),
        ))
    }
}

impl fmt::Debug for Diag<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Diag<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::escape(&self.f.message.text()))
    }
}

impl std::error::Error for Diag<'_> {}

impl Diagnostic for Diag<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.f.check))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.f.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        // miette indents every line of the help after the first
        self.f.help.as_ref().map(|h| {
            Box::new(super::escape_but_newlines(&h.text()).into_owned()) as Box<dyn fmt::Display>
        })
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(self.src)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let f = self.f;
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            f.label.as_ref().map(|l| super::escape(l).into_owned()),
            self.src.span(&f.span),
        )];
        for crate::checks::Label {
            file,
            span,
            message,
        } in &f.labels
        {
            if *file == f.file {
                labels.push(LabeledSpan::new_with_span(
                    Some(super::escape(message).into_owned()),
                    self.src.span(span),
                ));
            }
        }
        Some(Box::new(labels.into_iter()))
    }
}

pub fn write(
    w: &mut dyn std::io::Write,
    project: &Project,
    findings: &Findings,
    style: Style,
) -> std::io::Result<()> {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .with_width(style.width)
        // wrap between words only: a long path, URL or PromQL selector overflows rather than
        // being cut, and hyphenated ids (`alerts/missing-runbook`) stay whole
        .with_break_words(false)
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation)
        // at spaces only: not inside a path after a `/`
        .with_word_separator(textwrap::WordSeparator::AsciiSpace);
    // findings come sorted by file: only the current file's (masked) text is kept
    let mut current: Option<(FileId, Excerpts)> = None;
    let secret_fields = crate::secrets::field_spans(project);
    for f in findings {
        let src = match &mut current {
            Some((id, src)) if *id == f.file => &*src,
            slot => {
                let s = project.sources.get(f.file);
                // never show a secret in an excerpt, not even on a context line
                let spans = project
                    .redactor()
                    .mask_spans(&s.text, f.file, &secret_fields);
                let text = crate::secrets::mask(&s.text, &spans);
                &slot.insert((f.file, Excerpts::new(&s.path, text))).1
            }
        };
        let d = Diag { f, src };
        let mut one = String::new();
        if handler.render_report(&mut one, &d).is_err() {
            one = super::concise::line(f) + "\n";
        }
        // other files referenced by the finding
        for crate::checks::Label {
            file,
            span,
            message,
        } in &f.labels
        {
            if *file != f.file {
                let s = project.sources.get(*file);
                let (l, c) = s.line_col(span.start);
                one.push_str(&format!(
                    "  note: {} ({}:{l}:{c})\n",
                    super::escape(message),
                    super::escape(&s.path)
                ));
            }
        }
        // where to read more: the check's docs page (a policy's `obsgate explain`)
        one.push_str(&format!("  see: {}\n", crate::checks::see_also(f.check)));
        // a help wrapped before a `::` in it
        for line in one.split_inclusive('\n') {
            w.write_all(super::guard_line(line).as_bytes())?;
        }
        w.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use miette::NamedSource;

    /// Control characters in a file are escaped in its excerpts, and spans move with them.
    #[test]
    fn excerpts_escape_control_characters() {
        let text = "a: \u{1b}[1m\u{202e}x\tb\r\nc: y\u{7f}\n";
        let e = Excerpts::new("f\n::error::.yml", text.to_string());
        assert_eq!(e.name, "f\\n::error::.yml");
        assert_eq!(e.text, "a: \\u{1b}[1m\\u{202e}x\tb\r\nc: y\\u{7f}\n");
        let x = text.find('x').unwrap();
        assert_eq!(e.span(&(x..x + 1)), (e.text.find('x').unwrap(), 1));
        let esc = text.find('\u{1b}').unwrap();
        assert_eq!(e.span(&(esc..esc + 1)), (3, "\\u{1b}".len()));
        let y = text.find('y').unwrap();
        assert_eq!(
            e.span(&(y..text.len())),
            (e.text.find('y').unwrap(), "y\\u{7f}\n".len())
        );
        assert_eq!(e.breaks.len(), 2);
    }

    /// The windowed excerpts are exactly miette's, for every span and context size.
    #[test]
    fn excerpts_match_miettes_scan() {
        let texts = [
            "",
            "a",
            "one\ntwo\nthree\n",
            "one\r\ntwo\r\n\r\nfour\rfive\n\n\nsix",
            "x: 1\n\ny: [\n  2,\n  3]\nz: \"\u{e9}\u{e9}\"\n# end",
            "\n\n\n\n\n\n\n\n\n\n",
        ];
        // and every text of up to 6 characters from `a`, `\n`, `\r`
        let mut all: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
        for n in 0..=6u32 {
            for k in 0..3usize.pow(n) {
                let t = (0..n)
                    .map(|i| ['a', '\n', '\r'][k / 3usize.pow(i) % 3])
                    .collect();
                all.push(t);
            }
        }
        for text in &all {
            let text = text.as_str();
            let ours = Excerpts::new("f.yml", text.to_string());
            let theirs = NamedSource::new("f.yml", text.to_string()).with_language("yaml");
            // (miette itself panics on a span past the end; findings never have one)
            for start in 0..=text.len() {
                for len in 0..=(text.len() - start) {
                    for (b, a) in [(0, 0), (1, 1), (2, 3), (5, 0), (0, 2)] {
                        let span = SourceSpan::new(start.into(), len);
                        let x = ours.read_span(&span, b, a);
                        let y = theirs.read_span(&span, b, a);
                        match (x, y) {
                            (Ok(x), Ok(y)) => {
                                let what = format!("{text:?} {start}+{len} ({b}, {a})");
                                assert_eq!(x.data(), y.data(), "{what}");
                                assert_eq!(x.span(), y.span(), "{what}");
                                assert_eq!(x.line(), y.line(), "{what}");
                                assert_eq!(x.column(), y.column(), "{what}");
                                assert_eq!(x.line_count(), y.line_count(), "{what}");
                                assert_eq!(x.name(), y.name(), "{what}");
                            }
                            (Err(_), Err(_)) => {}
                            (x, y) => panic!(
                                "{text:?} {start}+{len}: ours {:?}, miette's {:?}",
                                x.is_ok(),
                                y.is_ok()
                            ),
                        }
                    }
                }
            }
        }
    }
}
