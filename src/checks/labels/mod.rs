//! Label checks over metric definitions.

pub mod meaning;
pub mod unbounded;
