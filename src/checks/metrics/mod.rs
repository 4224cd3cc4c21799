//! Metric checks over the metric inventory (definitions in application source).

pub mod conflicting_definition;
pub mod exposition;
pub mod label_missing;
pub mod missing;
pub mod naming;
pub mod unreadable_definition;
