//! `obsgate/templated-file`: a rule file or Alertmanager config that is a template (Helm, Jinja,
//! a `.tmpl` file): what gets loaded is its rendered output, so it was not audited
//! ([`crate::model::recognise::template_marker`]).

use crate::checks::{parse_issues, Check, Ctx, Finding};

pub struct TemplatedFile;

impl Check for TemplatedFile {
    fn id(&self) -> &'static str {
        "obsgate/templated-file"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        parse_issues(cx, self.id())
    }
}
