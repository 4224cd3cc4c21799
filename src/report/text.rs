//! Graphical diagnostics (miette): the check id as code, the source excerpt with the offending
//! span underlined, secondary labels, and the help line. No hyperlinks (CI logs).

use std::collections::HashMap;
use std::fmt;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode,
};

use super::Style;
use crate::checks::Severity;
use crate::engine::Resolved;
use crate::model::Project;
use crate::source::FileId;

struct Diag<'a> {
    f: &'a Resolved,
    src: &'a NamedSource<String>,
}

impl fmt::Debug for Diag<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.f.message)
    }
}

impl fmt::Display for Diag<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.f.message)
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
        self.f
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(self.src)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let f = self.f;
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            f.label.clone(),
            (f.span.start, f.span.end - f.span.start),
        )];
        for (file, span, msg) in &f.labels {
            if *file == f.file {
                labels.push(LabeledSpan::new_with_span(
                    Some(msg.clone()),
                    (span.start, span.end - span.start),
                ));
            }
        }
        Some(Box::new(labels.into_iter()))
    }
}

pub fn render(project: &Project, findings: &[Resolved], style: Style) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .with_width(style.width);
    let mut sources: HashMap<FileId, NamedSource<String>> = HashMap::new();
    let secret_fields = crate::secrets::field_spans(project);
    let mut out = String::new();
    for f in findings {
        let src = sources.entry(f.file).or_insert_with(|| {
            let s = project.sources.get(f.file);
            // never show a secret in an excerpt, not even on a context line
            let spans = crate::secrets::mask_spans(&s.text, f.file, &secret_fields);
            let text = crate::secrets::mask(&s.text, &spans);
            NamedSource::new(s.path.clone(), text).with_language("yaml")
        });
        let d = Diag { f, src };
        let mut one = String::new();
        if handler.render_report(&mut one, &d).is_err() {
            one = format!(
                "{}:{}:{}: {}[{}] {}\n",
                f.path, f.line, f.column, f.severity, f.check, f.message
            );
        }
        // other files referenced by the finding
        for (file, span, msg) in &f.labels {
            if *file != f.file {
                let s = project.sources.get(*file);
                let (l, c) = s.line_col(span.start);
                one.push_str(&format!("  note: {msg} ({}:{l}:{c})\n", s.path));
            }
        }
        out.push_str(&one);
        out.push('\n');
    }
    out
}
