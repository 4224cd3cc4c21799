//! `alerts/missing-annotation`: required annotations (default `summary`, `description`) absent or
//! empty. Common equivalents count: `message` (the older kube-prometheus and mixin convention)
//! for `description` and the other way round, `title` for `summary` and the other way round.
//! When none of `summary`, `description`, `message` and `title` is there the notification will
//! not say what is wrong (a warning); when one is, only templates that show the missing key come
//! out empty (an info finding), unless a required annotation outside that family is missing or
//! the team wrote the `required` list down in `.obsgate.yml` (its policy: a warning).

use crate::checks::{Check, Ctx, Finding};

pub struct MissingAnnotation;

/// Annotations that say what is wrong, each with the keys that stand in for it.
const EQUIVALENTS: &[(&str, &[&str])] = &[
    ("summary", &["title"]),
    ("title", &["summary"]),
    ("description", &["message"]),
    ("message", &["description"]),
];

/// Keys any of which makes the notification say what is wrong.
const DESCRIBING: &[&str] = &["summary", "description", "message", "title"];

/// The required annotations missing (no equivalent either) and the ones present that say what is
/// wrong; `None` when nothing is missing.
fn judge(
    required: &[String],
    has: impl Fn(&str) -> bool,
) -> Option<(Vec<&str>, Vec<&'static str>)> {
    let missing: Vec<&str> = required
        .iter()
        .map(String::as_str)
        .filter(|name| {
            !has(name)
                && !EQUIVALENTS
                    .iter()
                    .find(|(k, _)| k == name)
                    .is_some_and(|(_, alts)| alts.iter().any(|a| has(a)))
        })
        .collect();
    if missing.is_empty() {
        return None;
    }
    let describing = DESCRIBING.iter().copied().filter(|k| has(k)).collect();
    Some((missing, describing))
}

impl Check for MissingAnnotation {
    fn id(&self) -> &'static str {
        "alerts/missing-annotation"
    }

    fn at_load(&self) -> bool {
        true
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let required = cx.option_list("required");
        // a list the team wrote down is its policy: every missing key is a warning
        let declared = cx
            .config
            .checks
            .get(self.id())
            .is_some_and(|c| c.options.contains_key("required"));
        let mut out = Vec::new();
        for r in cx.alerts() {
            if r.rule.name.value.is_empty() {
                continue;
            }
            let has = |name: &str| {
                r.rule
                    .annotation(name)
                    .is_some_and(|p| !p.value.value.trim().is_empty())
            };
            let Some((missing, describing)) = judge(&required, has) else {
                continue;
            };
            let list = missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let plural = if missing.len() > 1 { "s" } else { "" };
            let message = if describing.is_empty() {
                format!(
                    "alert `{}` has no {list} annotation{plural}: the notification will not say what is wrong",
                    r.rule.name.value,
                )
            } else {
                format!(
                    "alert `{}` has no {list} annotation{plural}: its {} {} what is wrong, but notification templates and tools that show {list} get nothing",
                    r.rule.name.value,
                    describing
                        .iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(" and "),
                    if describing.len() > 1 { "say" } else { "says" },
                )
            };
            // the notification says what is wrong and only keys of that family are missing
            let minor = !declared
                && !describing.is_empty()
                && missing.iter().all(|m| DESCRIBING.contains(m));
            let mut f = Finding::new(self.id(), r.file, r.rule.anchor(), message)
                .label("alert defined here")
                .downgraded(minor)
                .help(format!(
                    "add {} under `annotations:`",
                    missing
                        .iter()
                        .map(|m| format!("`{m}: ...`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ))
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

#[cfg(test)]
mod tests {
    use super::judge;

    fn run(required: &[&str], present: &[&str]) -> Option<(Vec<String>, Vec<String>)> {
        let required: Vec<String> = required.iter().map(|s| s.to_string()).collect();
        judge(&required, |k| present.contains(&k)).map(|(m, d)| {
            (
                m.iter().map(|s| s.to_string()).collect(),
                d.iter().map(|s| s.to_string()).collect(),
            )
        })
    }

    #[test]
    fn equivalents_count() {
        let req = ["summary", "description"];
        assert_eq!(run(&req, &["summary", "description"]), None);
        // kube-prometheus' older `message`, and `title`, stand in
        assert_eq!(run(&req, &["title", "message"]), None);
        assert_eq!(
            run(&req, &["message"]),
            Some((vec!["summary".into()], vec!["message".into()]))
        );
        assert_eq!(
            run(&req, &[]),
            Some((vec!["summary".into(), "description".into()], vec![]))
        );
        // a configured annotation outside the family has no stand-in
        assert_eq!(
            run(&["summary", "dashboard"], &["title"]),
            Some((vec!["dashboard".into()], vec!["title".into()]))
        );
        assert_eq!(run(&["message"], &["description"]), None);
    }
}
