//! `secrets/known-format`: credentials in a known format (Slack webhooks and tokens, GitHub and
//! GitLab tokens, AWS access keys, private keys, JWTs, passwords in URLs, PagerDuty keys) anywhere
//! in an audited file. The value is never printed: only its first characters and length.

use crate::checks::{Check, Ctx, Finding};
use crate::model::FileKind;
use crate::secrets;

pub struct KnownFormat;

impl Check for KnownFormat {
    fn id(&self) -> &'static str {
        "secrets/known-format"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = Vec::new();
        // values in secret fields are reported by secrets/inline, with the field's exact fix
        let fields = secrets::field_spans(cx.project);
        for f in cx
            .project
            .files
            .iter()
            .filter(|f| f.kind != FileKind::Unreadable)
        {
            let text = cx.src(f.file);
            for d in secrets::scan_text(text) {
                let value = &text[d.span.clone()];
                if secrets::is_placeholder(value) {
                    continue;
                }
                if fields
                    .iter()
                    .any(|(ff, s)| *ff == f.file && s.start <= d.span.start && d.span.end <= s.end)
                {
                    continue;
                }
                out.push(
                    Finding::new(
                        self.id(),
                        f.file,
                        d.span.clone(),
                        format!(
                            "{} written in the file ({}): anyone who can read the repository can use it, and it stays in the git history",
                            d.kind,
                            secrets::redact(value)
                        ),
                    )
                    .label("credential")
                    .help("revoke/rotate it now, then load it at runtime (a `*_file` field, a CI secret variable, a secret store) instead of writing it here")
                    .ctx("kind", d.kind),
                );
            }
        }
        out
    }
}
