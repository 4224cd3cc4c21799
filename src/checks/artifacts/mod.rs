//! Analysis artifacts compared with the configs they describe.

pub mod drift;
