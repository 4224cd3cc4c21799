//! `path:line:col: severity[check] message`, one finding per line (like compilers and actionlint).

use crate::engine::Findings;

use std::io::{self, Write};

pub fn write(w: &mut dyn Write, findings: &Findings) -> io::Result<()> {
    for f in findings {
        writeln!(
            w,
            "{}:{}:{}: {}[{}] {}",
            f.path, f.line, f.column, f.severity, f.check, f.message
        )?;
    }
    Ok(())
}
