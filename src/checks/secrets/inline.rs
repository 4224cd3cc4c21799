//! `secrets/inline`: a secret-bearing field with a literal value instead of a reference: CI
//! variables and environment whose names say they hold a secret (`*_PASSWORD`, `*_TOKEN`,
//! `*_SECRET`, `*_KEY`, `*WEBHOOK*`, ...) set to a literal rather than `$VAR` / `${{ secrets.X }}`.

use crate::checks::{Check, Ctx, Finding};
use crate::model::FileKind;
use crate::secrets;

pub struct Inline;

impl Check for Inline {
    fn id(&self) -> &'static str {
        "secrets/inline"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = Vec::new();
        for (file, var, placeholder) in secrets::ci_secret_values(cx.project) {
            if placeholder {
                continue; // secrets/placeholder
            }
            let value = var.value.as_ref().expect("has a value");
            let kind = cx
                .project
                .files
                .iter()
                .find(|f| f.file == file)
                .map(|f| f.kind);
            let help = match kind {
                Some(FileKind::GithubWorkflow | FileKind::GithubAction) => format!(
                    "store it as an encrypted secret (repository or environment settings) and write `{}: ${{{{ secrets.{} }}}}`; rotate the value, it is in the git history",
                    var.name.value,
                    var.name.value.to_ascii_uppercase()
                ),
                _ => format!(
                    "delete it here and define `{}` as a masked (and protected) CI/CD variable in the project settings; jobs then get it as `${}`; rotate the value, it is in the git history",
                    var.name.value, var.name.value
                ),
            };
            out.push(
                Finding::new(
                    self.id(),
                    file,
                    value.span.clone(),
                    format!(
                        "`{}` in {} holds a literal secret ({}): everyone who can read the repository has it",
                        var.name.value,
                        var.scope,
                        secrets::redact(&value.value)
                    ),
                )
                .label("secret written inline")
                .help(help)
                .ctx("name", var.name.value.clone()),
            );
        }
        out
    }
}
