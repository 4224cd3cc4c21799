//! Prometheus rule file checks.

pub mod duplicate;
pub mod promql_syntax;
pub mod syntax;
