//! Source files: every input is read once; findings point into sources by byte span and line/column
//! is computed only when rendering. A source may be *virtual* (a file embedded in another one, such as
//! a heredoc inside `.gitlab-ci.yml`); it carries the map back to its outer file.

pub mod discover;
mod text;

pub use text::{exact, Text};

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

/// A byte range into a source's text.
pub type Span = Range<usize>;

/// Index of a source in [`Sources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// Line starts of a text, for byte offset -> 1-based (line, column) conversion. Offsets are
/// kept as `u32` (half the memory of a large run's index): a file read is at most
/// [`discover::MAX_FILE_SIZE`] bytes, and a text of 4 GiB or more saturates rather than wraps.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<u32>,
}

fn narrow(offset: usize) -> u32 {
    u32::try_from(offset).unwrap_or(u32::MAX)
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        // counted first: grown by doubling, a large file's index would keep up to twice its size
        let mut starts = Vec::with_capacity(1 + text.bytes().filter(|b| *b == b'\n').count());
        starts.push(0);
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| narrow(i + 1)),
        );
        LineIndex { starts }
    }

    fn start(&self, i: usize) -> Option<usize> {
        self.starts.get(i).map(|&s| s as usize)
    }

    /// 1-based line and 1-based column (in Unicode scalar values) of a byte offset.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = match self.starts.binary_search(&narrow(offset)) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = (self.starts[line] as usize).min(offset);
        let mut end = offset;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let col = text[start..end].chars().count() + 1;
        (line + 1, col)
    }

    /// Byte offset of a 1-based (line, column-in-chars) position, clamped to the text.
    pub fn offset(&self, text: &str, line: usize, col: usize) -> usize {
        let Some(start) = self.start(line.saturating_sub(1)) else {
            return text.len();
        };
        let line_end = self.start(line).unwrap_or(text.len());
        text[start..line_end]
            .char_indices()
            .nth(col.saturating_sub(1))
            .map(|(i, _)| start + i)
            .unwrap_or(line_end)
    }

    /// Byte range of a 1-based line, without its line break.
    pub fn line_span(&self, text: &str, line: usize) -> Span {
        let start = self.start(line.saturating_sub(1)).unwrap_or(text.len());
        let mut end = self.start(line).unwrap_or(text.len());
        let bytes = text.as_bytes();
        while end > start && matches!(bytes[end - 1], b'\n' | b'\r') {
            end -= 1;
        }
        start..end
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }
}

/// Where a virtual source's bytes come from in its outer file: `(inner_start, outer_start, len)` runs.
#[derive(Debug, Clone)]
pub struct Origin {
    pub outer: FileId,
    pub segments: Vec<(usize, usize, usize)>,
    /// Every position maps to this span of the outer file (content that was decoded, e.g.
    /// base64 in a Kubernetes Secret, has no byte-for-byte mapping).
    pub whole: Option<Span>,
}

impl Origin {
    /// Map an inner byte offset to the outer file. `end` says the offset ends a span (so an offset
    /// on the boundary of two runs belongs to the earlier one).
    pub fn map(&self, offset: usize, end: bool) -> usize {
        let mut best = None;
        for &(inner, outer, len) in &self.segments {
            let inside = if end {
                offset > inner && offset <= inner + len
            } else {
                offset >= inner && offset < inner + len
            };
            if inside || (len == 0 && offset == inner) {
                return outer + (offset - inner);
            }
            if offset >= inner {
                best = Some(outer + len);
            }
        }
        best.unwrap_or_else(|| self.segments.first().map(|s| s.1).unwrap_or(0))
    }
}

/// One input file (or a file embedded in one).
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub id: FileId,
    /// Path as shown to the user (relative to the working directory when possible, `/` separators).
    pub path: String,
    pub fs_path: PathBuf,
    /// Shared with the [`Text`]s of the file's model that are written verbatim in it.
    pub text: Arc<str>,
    pub lines: LineIndex,
    pub origin: Option<Origin>,
    /// Ranges of a virtual source's text that are not written in its outer file (a chart's
    /// defaults merged in), with what findings there say about it.
    pub notes: Vec<(Span, String)>,
}

impl SourceFile {
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        self.lines.line_col(&self.text, offset)
    }
}

/// All sources of a run.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(
        &mut self,
        path: String,
        fs_path: PathBuf,
        text: impl Into<Arc<str>>,
        origin: Option<Origin>,
    ) -> FileId {
        let text = text.into();
        let id = FileId(self.files.len() as u32);
        let lines = LineIndex::new(&text);
        self.files.push(SourceFile {
            id,
            path,
            fs_path,
            text,
            lines,
            origin,
            notes: Vec::new(),
        });
        id
    }

    /// Note ranges of a virtual source that its outer file does not contain
    /// ([`SourceFile::notes`]).
    pub fn set_notes(&mut self, id: FileId, notes: Vec<(Span, String)>) {
        self.files[id.0 as usize].notes = notes;
    }

    /// What to say about a finding at `offset` of `id` (or of a source it is embedded in) that
    /// lies where the outer file has nothing written.
    pub fn note_at(&self, id: FileId, offset: usize) -> Option<&str> {
        let s = self.get(id);
        s.notes
            .iter()
            .find(|(r, _)| r.start <= offset && offset < r.end.max(r.start + 1))
            .map(|(_, n)| n.as_str())
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn iter(&self) -> impl Iterator<Item = &SourceFile> {
        self.files.iter()
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Resolve a span in any source to the outermost real file and span there.
    pub fn resolve(&self, id: FileId, span: &Span) -> (FileId, Span) {
        let mut id = id;
        let mut span = span.clone();
        while let Some(origin) = &self.get(id).origin {
            if let Some(w) = &origin.whole {
                span = w.clone();
                id = origin.outer;
                continue;
            }
            let start = origin.map(span.start, false);
            span = start..origin.map(span.end, true).max(start);
            id = origin.outer;
        }
        (id, span)
    }
}

impl Sources {
    /// Where an offset of any source is for the user: the outermost real file and the 1-based
    /// line and column there (a heredoc's, a Secret's or a Helm values' embedded config is
    /// shown at the lines of the file that holds it). Messages that name another location use
    /// this, as the finding's own position does.
    pub fn outer_line_col(&self, id: FileId, offset: usize) -> (FileId, usize, usize) {
        let (outer, span) = self.resolve(id, &(offset..offset));
        let (line, col) = self.get(outer).line_col(span.start);
        (outer, line, col)
    }

    /// The 1-based line of an offset in the outermost real file ([`Sources::outer_line_col`]).
    pub fn outer_line(&self, id: FileId, offset: usize) -> usize {
        self.outer_line_col(id, offset).1
    }

    /// The path shown for a source: its outermost real file's.
    pub fn outer_path(&self, id: FileId) -> &str {
        let (outer, _) = self.resolve(id, &(0..0));
        &self.get(outer).path
    }
}

/// Display form of a path: relative to `base` if inside it, with `/` separators.
pub fn display_path(path: &std::path::Path, base: &std::path::Path) -> String {
    let p = path.strip_prefix(base).unwrap_or(path);
    let s = p.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars() {
        let t = "ab\nçd\n\nx";
        let li = LineIndex::new(t);
        assert_eq!(li.line_col(t, 0), (1, 1));
        assert_eq!(li.line_col(t, 3), (2, 1));
        assert_eq!(li.line_col(t, 5), (2, 2)); // after the 2-byte ç
        assert_eq!(li.line_col(t, 7), (3, 1));
        assert_eq!(li.line_col(t, 8), (4, 1));
        assert_eq!(li.offset(t, 2, 2), 5);
        assert_eq!(li.line_span(t, 2), 3..6);
    }

    #[test]
    fn virtual_sources_map_to_outer() {
        let mut s = Sources::default();
        let outer = s.add("ci.yml".into(), "ci.yml".into(), "0123456789abcdef", None);
        let inner = s.add(
            "ci.yml#embedded".into(),
            "ci.yml".into(),
            "3456ab",
            Some(Origin {
                outer,
                segments: vec![(0, 3, 4), (4, 10, 2)],
                whole: None,
            }),
        );
        assert_eq!(s.resolve(inner, &(1..2)), (outer, 4..5));
        assert_eq!(s.resolve(inner, &(4..6)), (outer, 10..12));
    }

    #[test]
    fn outer_lines_of_a_virtual_source() {
        let mut s = Sources::default();
        let outer = s.add("ci.yml".into(), "ci.yml".into(), "a\nb\n  x\n  y\n", None);
        let inner = s.add(
            "ci.yml#embedded".into(),
            "ci.yml".into(),
            "x\ny\n",
            Some(Origin {
                outer,
                segments: vec![(0, 6, 2), (2, 10, 2)],
                whole: None,
            }),
        );
        assert_eq!(s.outer_line_col(inner, 2), (outer, 4, 3));
        assert_eq!(s.outer_line(inner, 0), 3);
        assert_eq!(s.outer_path(inner), "ci.yml");
        assert_eq!(s.outer_line(outer, 2), 2);
    }
}
