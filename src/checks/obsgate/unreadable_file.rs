//! `obsgate/unreadable-file`: a file that could not be audited (unreadable, binary, not UTF-8, too
//! large, or YAML that does not parse and is not recognisably a supported kind), or a directory
//! that could not be walked.

use crate::checks::{parse_issues, Check, Ctx, Finding};

pub struct UnreadableFile;

impl Check for UnreadableFile {
    fn id(&self) -> &'static str {
        "obsgate/unreadable-file"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        parse_issues(cx, self.id())
    }
}
