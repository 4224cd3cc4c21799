//! `promql/range-too-short`: a `rate`/`increase` range shorter than 4× the known scrape interval.
//! With fewer than ~4 samples in the window, one missed scrape leaves `rate` with nothing or one
//! point and the alert goes blind or flaps. Only reported when the interval is known (from
//! `.obsgate.yml` or a Prometheus config among the checked files).

use promql_parser::parser::Expr;

use crate::checks::meta::OptValue;
use crate::checks::promql_util::{parsed_exprs_if, source_span, walk};
use crate::checks::{Check, Ctx, Finding};
use crate::parse::scalar::PromDuration;

pub struct RangeTooShort;

impl Check for RangeTooShort {
    fn id(&self) -> &'static str {
        "promql/range-too-short"
    }

    fn per_file(&self) -> bool {
        true
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let configured = match cx.option("scrape_interval") {
            Some(OptValue::Duration(d)) => Some(*d),
            _ => None,
        };
        let factor = match cx.option("factor") {
            Some(OptValue::Integer(n)) if *n > 0 => *n as u64,
            _ => 4,
        };
        let mut out = Vec::new();
        // no interval configured and no Prometheus config in the run: nothing to judge (looked
        // up once per run: this check runs file by file)
        if configured.is_none()
            && *cx.once(|| cx.project.files.iter().all(|f| f.rule_files.is_empty()))
        {
            return Vec::new();
        }
        // the interval per rule file (resolving `rule_files:` globs touches the file system)
        let mut per_file: std::collections::HashMap<
            crate::source::FileId,
            Option<(PromDuration, String)>,
        > = std::collections::HashMap::new();
        // only `rate` and `increase` are reported: the other expressions are not parsed again
        let rated = |text: &str| text.contains("rate") || text.contains("increase");
        for (r, expr, parsed) in parsed_exprs_if(cx, rated) {
            let (interval, source) = match configured {
                Some(d) => (d, "`.obsgate.yml`".to_string()),
                None => match per_file.entry(r.file).or_insert_with(|| {
                    cx.project
                        .scrape_interval_for(r.file)
                        .map(|(d, p)| (d, p.to_string()))
                }) {
                    Some((d, path)) => (*d, format!("`{path}`, which loads this file")),
                    None => continue,
                },
            };
            let min_ms = interval.0.saturating_mul(factor);
            let src = cx.src(r.file);
            walk(parsed.expr(), &mut |node| {
                let Expr::Call(c) = node else { return };
                let f = c.func.name;
                if !matches!(f, "rate" | "increase") {
                    return;
                }
                let Some(arg) = c.args.args.first() else {
                    return;
                };
                let (range, target) = match arg.as_ref() {
                    Expr::MatrixSelector(m) => (m.range, arg.as_ref()),
                    Expr::Subquery(s) => (s.range, arg.as_ref()),
                    _ => return,
                };
                let range_ms = range.as_millis() as u64;
                if range_ms >= min_ms {
                    return;
                }
                let span = source_span(
                    src,
                    expr,
                    parsed
                        .range_span_of(target)
                        .or_else(|| parsed.span_of(node)),
                );
                let shown = PromDuration(range_ms);
                out.push(
                    Finding::new(
                        self.id(),
                        r.file,
                        span,
                        format!(
                            "`{f}` range `{shown}` is shorter than {factor}× the scrape interval ({interval}, from {source}): a single missed scrape leaves too few samples and `{f}` returns nothing or jumps"
                        ),
                    )
                    .label(format!("at least {}", PromDuration(min_ms)))
                    .help(format!("use a range of at least `{}`", PromDuration(min_ms)))
                    .ctx("range", shown.to_string())
                    .ctx("scrape_interval", interval.to_string()),
                );
            });
        }
        out
    }
}
