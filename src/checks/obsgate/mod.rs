//! Checks about obsgate's own inputs: files it could not read or that are templates, suppressions that suppress nothing.

pub mod templated_file;
pub mod unreadable_file;
pub mod unused_suppression;
