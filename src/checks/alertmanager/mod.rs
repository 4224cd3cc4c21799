//! Alertmanager config checks (single-file: syntax, deprecated matchers, unused receivers,
//! notification templates, timing).

pub mod deprecated_matcher;
pub mod syntax;
pub mod template;
pub mod timing;
pub mod unused_receiver;
