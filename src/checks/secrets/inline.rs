//! `secrets/inline`: a secret-bearing field with a literal value instead of a reference:
//! Alertmanager fields that have a `*_file` alternative (`smtp_auth_password`, `slack_api_url`,
//! `routing_key`, `api_key`, webhook `url` with a credential, `http_config` credentials, ...), and
//! CI variables and environment whose names say they hold a secret (`*_PASSWORD`, `*_TOKEN`,
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
        for sec in secrets::am_secret_values(cx.project) {
            if sec.placeholder {
                continue; // secrets/placeholder
            }
            let value = sec.field.value.as_ref().expect("has a value");
            out.push(
                Finding::new(
                    self.id(),
                    sec.file,
                    value.span.clone(),
                    format!(
                        "`{}` in {} is written inline ({}): everyone who can read this config (repository, CI logs, `amtool config show`) has the credential",
                        sec.field.path,
                        sec.place,
                        secrets::redact(&value.value)
                    ),
                )
                .label("secret written inline")
                .help(format!(
                    "use `{}` instead and mount the secret there; rotate the value, it is in the git history",
                    secrets::file_fix(&sec.field.path)
                ))
                .ctx("field", sec.field.path.clone()),
            );
        }
        for f in &cx.project.files {
            for v in &f.k8s_secrets {
                if secrets::is_placeholder(&v.value) {
                    continue;
                }
                out.push(
                    Finding::new(
                        self.id(),
                        f.file,
                        v.span.clone(),
                        format!(
                            "Kubernetes Secret `{}` commits `{}` to the repository ({}){}: a Secret manifest in git is a committed credential",
                            v.secret,
                            v.key,
                            secrets::redact(&v.value),
                            if v.base64 { "; base64 is an encoding, not encryption" } else { "" }
                        ),
                    )
                    .label("committed secret")
                    .help("commit an encrypted form instead (Sealed Secrets, SOPS) or create the Secret from a secret store (External Secrets Operator, Vault), and rotate this value")
                    .ctx("key", v.key.clone()),
                );
            }
        }
        for (file, key, value, placeholder) in secrets::generic_secret_values(cx.project) {
            if placeholder {
                continue;
            }
            out.push(
                Finding::new(
                    self.id(),
                    file,
                    value.span.clone(),
                    format!(
                        "`{}` holds a literal secret ({}): everyone who can read the repository has it",
                        key.value,
                        secrets::redact(&value.value)
                    ),
                )
                .label("secret written inline")
                .help("load it at deploy time instead (a secret store, a Kubernetes Secret created outside git, an environment variable set by CI) and rotate this value")
                .ctx("name", key.value.clone()),
            );
        }
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
