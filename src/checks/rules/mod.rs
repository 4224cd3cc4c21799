//! Prometheus rule file checks.

pub mod conflicting_record;
pub mod duplicate;
pub mod promql_syntax;
pub mod syntax;
