//! [`Msg`]: a finding's message or help text, written out or filled in when shown.

use std::borrow::Cow;

use crate::source::Text;

/// A finding's message or help: a text of its own, a fixed text, or a fixed template with one
/// value (`{}`) filled in when it is shown. A check that reports every rule of a large set
/// keeps each finding's text as the template and the rule's name (a range of the source), not as
/// tens of thousands of formatted strings. Compares, orders, prints and serializes as its text.
#[derive(Clone)]
pub struct Msg(Repr);

#[derive(Clone)]
enum Repr {
    Owned(Box<str>),
    Fixed(&'static str),
    Fill(&'static str, Text),
}

impl Msg {
    /// `template` with its one `{}` replaced by `value` when shown.
    pub fn fill(template: &'static str, value: impl Into<Text>) -> Msg {
        debug_assert_eq!(
            template.matches("{}").count(),
            1,
            "a template takes one value: {template}"
        );
        Msg(Repr::Fill(template, value.into()))
    }

    /// The text, written out only for a filled-in template.
    pub fn text(&self) -> Cow<'_, str> {
        match &self.0 {
            Repr::Owned(s) => Cow::Borrowed(s),
            Repr::Fixed(s) => Cow::Borrowed(s),
            Repr::Fill(..) => Cow::Owned(self.to_string()),
        }
    }

    pub fn contains(&self, pattern: &str) -> bool {
        self.text().contains(pattern)
    }

    pub fn starts_with(&self, pattern: &str) -> bool {
        self.text().starts_with(pattern)
    }

    pub fn ends_with(&self, pattern: &str) -> bool {
        self.text().ends_with(pattern)
    }
}

impl From<String> for Msg {
    /// Kept in a buffer of its own length ([`crate::source::exact`]).
    fn from(s: String) -> Msg {
        Msg(Repr::Owned(crate::source::exact(s)))
    }
}

impl From<&str> for Msg {
    fn from(s: &str) -> Msg {
        Msg(Repr::Owned(s.into()))
    }
}

impl From<Cow<'static, str>> for Msg {
    /// A fixed text is not copied.
    fn from(s: Cow<'static, str>) -> Msg {
        match s {
            Cow::Borrowed(s) => Msg(Repr::Fixed(s)),
            Cow::Owned(s) => s.into(),
        }
    }
}

impl std::fmt::Display for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Repr::Owned(s) => f.write_str(s),
            Repr::Fixed(s) => f.write_str(s),
            Repr::Fill(template, value) => {
                let (before, after) = template.split_once("{}").unwrap_or((template, ""));
                f.write_str(before)?;
                f.write_str(value)?;
                f.write_str(after)
            }
        }
    }
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.text(), f)
    }
}

impl PartialEq for Msg {
    fn eq(&self, other: &Msg) -> bool {
        self.text() == other.text()
    }
}

impl Eq for Msg {}

impl PartialEq<str> for Msg {
    fn eq(&self, other: &str) -> bool {
        self.text() == other
    }
}

impl PartialEq<&str> for Msg {
    fn eq(&self, other: &&str) -> bool {
        self.text() == *other
    }
}

impl PartialOrd for Msg {
    fn partial_cmp(&self, other: &Msg) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Msg {
    fn cmp(&self, other: &Msg) -> std::cmp::Ordering {
        self.text().cmp(&other.text())
    }
}

impl serde::Serialize for Msg {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filled_in_when_shown() {
        let m = Msg::fill("alert `{}` has no runbook", "HighLoad");
        assert_eq!(m.to_string(), "alert `HighLoad` has no runbook");
        assert_eq!(m.text(), "alert `HighLoad` has no runbook");
        assert_eq!(m, Msg::from("alert `HighLoad` has no runbook"));
        assert!(m.contains("`HighLoad`"));
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            "\"alert `HighLoad` has no runbook\""
        );
        assert_eq!(format!("{m:?}"), "\"alert `HighLoad` has no runbook\"");
        assert_eq!(
            Msg::from("a").cmp(&Msg::fill("b{}", "")),
            std::cmp::Ordering::Less
        );
        let fixed = Msg::from(Cow::Borrowed("fixed"));
        assert!(matches!(fixed.0, Repr::Fixed(_)));
        assert_eq!(fixed, "fixed");
    }
}
