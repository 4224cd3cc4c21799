//! `secrets/placeholder`: a placeholder (`YOUR/SLACK/WEBHOOK`, `changeme`, `<token>`, `xxxx`) left
//! in a secret field: nothing leaked, but the integration cannot work.

use crate::checks::{Check, Ctx, Finding};
use crate::secrets;

pub struct Placeholder;

impl Check for Placeholder {
    fn id(&self) -> &'static str {
        "secrets/placeholder"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = Vec::new();
        for sec in secrets::am_secret_values(cx.project)
            .into_iter()
            .filter(|s| s.placeholder)
        {
            let value = sec.field.value.as_ref().expect("has a value");
            let (message, help) = if sec.env_var {
                (
                    format!(
                        "`{}` in {} is an environment variable reference ({}): Alertmanager does not expand environment variables, so unless a deploy step substitutes it (envsubst, an entrypoint script, Flux substitution) it is sent as written and this integration cannot authenticate",
                        sec.field.path,
                        sec.place,
                        secrets::redact(&value.value)
                    ),
                    format!(
                        "mount the secret as a file and use `{}`; if a deploy step does substitute it, say so with `# obsgate: ignore secrets/placeholder -- substituted by <step>`",
                        secrets::file_fix(&sec.field.path)
                    ),
                )
            } else {
                (
                    format!(
                        "`{}` in {} is a placeholder ({}), not a credential: this integration cannot deliver notifications",
                        sec.field.path,
                        sec.place,
                        secrets::redact(&value.value)
                    ),
                    format!(
                        "put the real value in a secret file and use `{}`",
                        secrets::file_fix(&sec.field.path)
                    ),
                )
            };
            out.push(
                Finding::new(self.id(), sec.file, value.span.clone(), message)
                    .label(if sec.env_var {
                        "not expanded by Alertmanager"
                    } else {
                        "placeholder"
                    })
                    .help(help)
                    .ctx("field", sec.field.path.clone()),
            );
        }
        for (file, key, value, _) in secrets::generic_secret_values(cx.project)
            .into_iter()
            .filter(|x| x.3)
        {
            out.push(
                Finding::new(
                    self.id(),
                    file,
                    value.span.clone(),
                    format!(
                        "`{}` is a placeholder ({}), not a credential: whatever uses it cannot authenticate",
                        key.value,
                        secrets::redact(&value.value)
                    ),
                )
                .label("placeholder")
                .help("supply the real value at deploy time from a secret store")
                .ctx("name", key.value.clone()),
            );
        }
        for (file, var, placeholder) in secrets::ci_secret_values(cx.project) {
            if !placeholder {
                continue;
            }
            let value = var.value.as_ref().expect("has a value");
            out.push(
                Finding::new(
                    self.id(),
                    file,
                    value.span.clone(),
                    format!(
                        "`{}` in {} is a placeholder ({}), not a credential: whatever uses it cannot authenticate",
                        var.name.value, var.scope, secrets::redact(&value.value)
                    ),
                )
                .label("placeholder")
                .help(format!(
                    "define the real value as a secret CI/CD variable (or repository secret) and reference it as `${}`",
                    var.name.value
                ))
                .ctx("name", var.name.value.clone()),
            );
        }
        out
    }
}
