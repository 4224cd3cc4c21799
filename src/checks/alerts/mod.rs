//! Alerting rule checks.

pub mod invalid_runbook;
pub mod missing_annotation;
pub mod missing_for;
pub mod missing_runbook;
pub mod no_condition;
pub mod template;
pub mod unbounded_label;

use crate::parse::prom_rules::Rule;

/// Alert severity levels as written in `severity` labels, normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AlertLevel {
    Info,
    Warning,
    Critical,
}

impl AlertLevel {
    pub fn parse(s: &str) -> Option<AlertLevel> {
        match s.trim().to_ascii_lowercase().as_str() {
            "info" | "informational" | "information" | "notice" | "low" | "none" | "debug" => {
                Some(AlertLevel::Info)
            }
            "warning" | "warn" | "medium" | "minor" | "moderate" => Some(AlertLevel::Warning),
            "critical" | "crit" | "error" | "high" | "page" | "major" | "fatal" | "emergency"
            | "disaster" | "p1" | "sev1" => Some(AlertLevel::Critical),
            _ => None,
        }
    }

    /// The level of an alert from its `severity` label; unknown or templated values count as warning,
    /// a missing label as info.
    pub fn of(rule: &Rule) -> AlertLevel {
        match rule.label("severity") {
            Some(p) => AlertLevel::parse(&p.value.value).unwrap_or(AlertLevel::Warning),
            None => AlertLevel::Info,
        }
    }
}
