//! Secrets written into audited files.

pub mod inline;
pub mod known_format;
pub mod placeholder;
