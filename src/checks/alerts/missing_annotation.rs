//! `alerts/missing-annotation`: required annotations (default `summary`, `description`) absent or empty.

use crate::checks::{Check, Ctx, Finding};

pub struct MissingAnnotation;

impl Check for MissingAnnotation {
    fn id(&self) -> &'static str {
        "alerts/missing-annotation"
    }

    fn at_load(&self) -> bool {
        true
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let required = cx.option_list("required");
        let mut out = Vec::new();
        for r in cx.alerts() {
            if r.rule.name.value.is_empty() {
                continue;
            }
            let missing: Vec<&str> = required
                .iter()
                .filter(|name| {
                    r.rule
                        .annotation(name)
                        .is_none_or(|p| p.value.value.trim().is_empty())
                })
                .map(String::as_str)
                .collect();
            if missing.is_empty() {
                continue;
            }
            let list = missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut f = Finding::new(
                self.id(),
                r.file,
                r.rule.anchor(),
                format!(
                    "alert `{}` has no {list} annotation{}: the notification will not say what is wrong",
                    r.rule.name.value,
                    if missing.len() > 1 { "s" } else { "" }
                ),
            )
            .label("alert defined here")
            .help(format!("add {} under `annotations:`", missing.iter().map(|m| format!("`{m}: ...`")).collect::<Vec<_>>().join(" and ")))
            .ctx("alert", r.rule.name.value.clone())
            .ctx("missing", missing.clone());
            if let Some(k) = r.rule.annotations_key() {
                f = f.also(r.file, k.clone(), "annotations");
            }
            out.push(f);
        }
        out
    }
}
