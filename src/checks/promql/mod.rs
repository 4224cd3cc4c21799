//! PromQL semantics checks over rule expressions.

pub mod histogram_quantile;
pub mod range_too_short;
pub mod rate_on_gauge;
pub mod summary_label_on_histogram;
