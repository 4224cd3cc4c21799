//! `path:line:col: severity[check] message`, one finding per line (like compilers and actionlint).

use crate::engine::Resolved;

use std::fmt::Write;

pub fn render(findings: &[Resolved]) -> String {
    // sized up front: a large run has tens of thousands of lines
    let size: usize = findings
        .iter()
        .map(|f| f.path.len() + f.check.len() + f.message.len() + 40)
        .sum();
    let mut out = String::with_capacity(size);
    for f in findings {
        let _ = writeln!(
            out,
            "{}:{}:{}: {}[{}] {}",
            f.path, f.line, f.column, f.severity, f.check, f.message
        );
    }
    out
}
