//! Secrets written into audited files.

pub mod known_format;
