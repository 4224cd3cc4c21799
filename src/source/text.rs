//! [`Text`]: an immutable string that is either a range of a source file's text, shared with it,
//! or its own allocation.
//!
//! Most scalars of a rule file are written verbatim (plain, or quoted without escapes): their value
//! is a slice of the file. A model that keeps tens of thousands of rule names, expressions and
//! labels keeps them as ranges of the one text the run holds anyway, not as as many small
//! allocations (which, scattered between the freed nodes of the YAML tree they were read from, also
//! cost the pages around them).

use std::sync::Arc;

/// A string read from a source: a range of the source's text when written verbatim, otherwise
/// owned. Compares, hashes, orders, prints and serializes as its `str`.
#[derive(Clone)]
pub struct Text(Repr);

#[derive(Clone)]
enum Repr {
    Owned(Box<str>),
    Shared { src: Arc<str>, start: u32, end: u32 },
}

impl Text {
    /// `value` as a range of `src` when `src[span]` is `value`, or `value` quoted (`'...'` or
    /// `"..."`, nothing escaped), else a copy of `value`.
    pub fn within(src: &Arc<str>, span: &std::ops::Range<usize>, value: &str) -> Text {
        let written = src.get(span.clone()).unwrap_or_default();
        let at = if written == value {
            Some(span.start)
        } else if written.len() == value.len() + 2
            && matches!(
                (written.as_bytes()[0], written.as_bytes()[written.len() - 1]),
                (b'\'', b'\'') | (b'"', b'"')
            )
            && &written[1..written.len() - 1] == value
        {
            Some(span.start + 1)
        } else {
            None
        };
        match at.and_then(|s| Some((u32::try_from(s).ok()?, u32::try_from(s + value.len()).ok()?)))
        {
            // an empty value is not worth a reference to the whole text
            Some((start, end)) if end > start => Text(Repr::Shared {
                src: Arc::clone(src),
                start,
                end,
            }),
            _ => Text::from(value),
        }
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Owned(s) => s,
            // the range was checked against this text when made, and the text never changes
            Repr::Shared { src, start, end } => &src[*start as usize..*end as usize],
        }
    }

    /// Whether this text is a range of a source's text (for tests of what is shared).
    pub fn is_shared(&self) -> bool {
        matches!(self.0, Repr::Shared { .. })
    }
}

impl Default for Text {
    fn default() -> Self {
        Text(Repr::Owned(Box::default()))
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(Repr::Owned(s.into()))
    }
}

/// `s` in a buffer of its own length, for a text kept for the whole run: `format!` reserves
/// about twice its fixed text, and a large run keeps tens of thousands of findings and names.
/// A copy when `s` has room to spare (cheaper than the slack, and an allocator may keep a shrunk
/// buffer in place).
pub fn exact(s: String) -> Box<str> {
    if s.capacity() > s.len() {
        s.as_str().into()
    } else {
        s.into_boxed_str()
    }
}

impl From<String> for Text {
    /// In a buffer of its own length ([`exact`]).
    fn from(s: String) -> Self {
        Text(Repr::Owned(exact(s)))
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Text> for String {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbatim_scalars_are_shared() {
        let src: Arc<str> =
            Arc::from("a: plain\nb: 'quoted'\nc: \"dq\"\nd: 'it''s'\ne: \"a\\tb\"\n");
        let at = |needle: &str| {
            let s = src.find(needle).unwrap();
            s..s + needle.len()
        };
        let plain = Text::within(&src, &at("plain"), "plain");
        assert!(plain.is_shared());
        assert_eq!(plain, "plain");
        let quoted = Text::within(&src, &at("'quoted'"), "quoted");
        assert!(quoted.is_shared());
        assert_eq!(quoted.as_str(), "quoted");
        assert!(Text::within(&src, &at("\"dq\""), "dq").is_shared());
        // escapes: the value is not in the text as such
        let escaped = Text::within(&src, &at("'it''s'"), "it's");
        assert!(!escaped.is_shared());
        assert_eq!(escaped, "it's");
        let tab = Text::within(&src, &at("\"a\\tb\""), "a\tb");
        assert!(!tab.is_shared());
        assert_eq!(tab, "a\tb");
        // a span that is not the value (a folded block, a bad span) gives a copy
        assert!(!Text::within(&src, &(0..1), "plain").is_shared());
        assert!(!Text::within(&src, &(100..200), "x").is_shared());
        assert_eq!(Text::within(&src, &(100..200), "x"), "x");
    }

    #[test]
    fn compares_as_its_str() {
        let src: Arc<str> = Arc::from("name");
        let shared = Text::within(&src, &(0..4), "name");
        let owned = Text::from("name");
        assert_eq!(shared, owned);
        assert_eq!(format!("{shared:?}"), format!("{:?}", "name"));
        assert_eq!(shared.to_string(), "name");
        let mut h = std::collections::HashSet::new();
        h.insert(shared);
        assert!(h.contains("name"));
        assert_eq!(std::mem::size_of::<Text>(), 24);
    }
}
