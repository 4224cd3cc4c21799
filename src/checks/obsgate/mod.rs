//! Checks about obsgate's own inputs: files it could not read, suppressions that suppress nothing.

pub mod unreadable_file;
pub mod unused_suppression;
