//! Label checks over metric definitions.

pub mod unbounded;
