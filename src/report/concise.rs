//! `path:line:col: severity[check] message`, one finding per line (like compilers and actionlint).

use crate::engine::Resolved;

pub fn render(findings: &[Resolved]) -> String {
    let mut out = String::new();
    for f in findings {
        out.push_str(&format!(
            "{}:{}:{}: {}[{}] {}\n",
            f.path, f.line, f.column, f.severity, f.check, f.message
        ));
    }
    out
}
