//! `path:line:col: severity[check] message`, one finding per line (like compilers and actionlint).
//! The path and message are escaped ([`super::escape`]): one finding is always one line, and no
//! line starts a CI runner's workflow command ([`super::guard_line`]).

use crate::engine::Findings;

use std::io::{self, Write};

pub fn write(w: &mut dyn Write, findings: &Findings) -> io::Result<()> {
    for f in findings {
        writeln!(w, "{}", super::guard_line(&line(f)))?;
    }
    Ok(())
}

/// `path:line:column: severity[check] message`, control characters escaped.
pub(super) fn line(f: &crate::engine::Resolved) -> String {
    format!(
        "{}:{}:{}: {}[{}] {}",
        super::escape(&f.path),
        f.line,
        f.column,
        f.severity,
        f.check,
        super::escape(&f.message.text())
    )
}
