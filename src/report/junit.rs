//! JUnit XML (`artifacts:reports:junit`): one test suite per audited file, one failing test case
//! per check with findings in that file (its findings in the failure text), and one passing
//! case for a file without findings.

use std::collections::BTreeMap;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::engine::{Findings, Resolved};
use crate::model::Project;

pub fn write(
    w: &mut dyn std::io::Write,
    project: &Project,
    findings: &Findings,
) -> std::io::Result<()> {
    let mut report = Report::new("obsgate");
    let mut by_file: BTreeMap<&str, BTreeMap<&str, Vec<&Resolved>>> = BTreeMap::new();
    for s in project.sources.iter().filter(|s| s.origin.is_none()) {
        by_file.entry(s.path.as_str()).or_default();
    }
    for f in findings {
        by_file
            .entry(&*f.path)
            .or_default()
            .entry(f.check)
            .or_default()
            .push(f);
    }
    for (path, checks) in by_file {
        let mut suite = TestSuite::new(path);
        if checks.is_empty() {
            let mut tc = TestCase::new("obsgate", TestCaseStatus::success());
            tc.set_classname(path);
            suite.add_test_case(tc);
        }
        for (check, fs) in checks {
            let worst = fs
                .iter()
                .map(|f| f.severity)
                .max()
                .unwrap_or(crate::checks::Severity::Info);
            let mut tc = TestCase::new(check, TestCaseStatus::non_success(NonSuccessKind::Failure));
            tc.set_classname(path);
            if let TestCaseStatus::NonSuccess {
                message,
                ty,
                description,
                ..
            } = &mut tc.status
            {
                *message =
                    Some(format!("{} finding(s), first: {}", fs.len(), fs[0].message).into());
                *ty = Some(worst.as_str().into());
                *description = Some(
                    fs.iter()
                        .map(|f| {
                            format!(
                                "{}:{}:{}: {}[{}] {}",
                                f.path,
                                f.line,
                                f.column,
                                f.severity.as_str(),
                                f.check,
                                f.message
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                        .into(),
                );
            }
            suite.add_test_case(tc);
        }
        report.add_test_suite(suite);
    }
    report.serialize(&mut *w).map_err(io_error)?;
    w.write_all(b"\n")
}

/// The I/O error under the serializer's (quick-xml keeps it in an `Arc`), with its kind: a
/// reader that went away stays a broken pipe, which the CLI does not report.
fn io_error(e: quick_junit::SerializeError) -> std::io::Error {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(c) = cause {
        let io = c.downcast_ref::<std::io::Error>().or_else(|| {
            c.downcast_ref::<std::sync::Arc<std::io::Error>>()
                .map(|a| &**a)
        });
        if let Some(io) = io {
            return std::io::Error::new(io.kind(), io.to_string());
        }
        cause = c.source();
    }
    std::io::Error::other(e.to_string())
}
