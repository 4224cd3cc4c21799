//! `promql/summary-label-on-histogram`: selecting `quantile="..."` on a histogram. Histograms have
//! `_bucket{le}` series, not `quantile`; the selector matches nothing and the alert never fires.
//! A metric is known to be a histogram when it is selected as `<name>_bucket` (or inside
//! `histogram_quantile`) anywhere in the checked rules.

use std::collections::BTreeSet;

use promql_parser::parser::Expr;

use crate::checks::promql_util::{parsed_exprs_if, selector_name, source_span, walk};
use crate::checks::{Check, Ctx, Finding};

pub struct SummaryLabelOnHistogram;

/// The histograms the rules select buckets of (`<base>_bucket`), over every rule file: kept in
/// the model ([`crate::model::FileModel::bucket_bases`]) as the trees are released.
fn histogram_bases<'a>(cx: &Ctx<'a>) -> &'a BTreeSet<String> {
    cx.once(|| {
        cx.project
            .files
            .iter()
            .flat_map(|f| f.bucket_bases.iter().cloned())
            .collect()
    })
}

/// Add the bases of the `_bucket` series an expression selects (`http_duration_seconds` for
/// `http_duration_seconds_bucket`; recording rules' outputs, with a `:`, are not histograms).
pub fn bucket_bases(expr: &Expr, bases: &mut BTreeSet<String>) {
    walk(expr, &mut |node| {
        if let Some(name) = selector_name(node) {
            if let Some(base) = name.strip_suffix("_bucket") {
                if !name.contains(':') {
                    bases.insert(base.to_string());
                }
            }
        }
    });
}

fn quantile_matcher(node: &Expr) -> bool {
    let vs = match node {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(m) => &m.vs,
        _ => return false,
    };
    vs.matchers.matchers.iter().any(|m| m.name == "quantile")
}

impl Check for SummaryLabelOnHistogram {
    fn id(&self) -> &'static str {
        "promql/summary-label-on-histogram"
    }

    fn per_file(&self) -> bool {
        true
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let bases = histogram_bases(cx);
        let mut out = Vec::new();
        // only a selector with a `quantile` matcher is reported: the other expressions are not
        // parsed again
        let quantile = |text: &str| text.contains("quantile");
        for (r, expr, parsed) in parsed_exprs_if(cx, quantile) {
            let src = cx.src(r.file);
            walk(parsed.expr(), &mut |node| {
                if !quantile_matcher(node) {
                    return;
                }
                let Some(name) = selector_name(node) else {
                    return;
                };
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s))
                    .unwrap_or(name);
                let is_hist = name.ends_with("_bucket") || bases.contains(base);
                if !is_hist {
                    return;
                }
                let span = source_span(
                    src,
                    expr,
                    parsed
                        .matcher_span(node, "quantile")
                        .or_else(|| parsed.span_of(node)),
                );
                out.push(
                    Finding::new(
                        self.id(),
                        r.file,
                        span,
                        format!(
                            "`{name}` is a histogram (its `{base}_bucket` series are used), which has no `quantile` label: this selector matches nothing and `{}` can never fire",
                            r.name
                        ),
                    )
                    .label("summaries have `quantile`, histograms have `le`")
                    .help(format!("compute the quantile from the buckets: `histogram_quantile(0.95, sum by (le) (rate({base}_bucket[5m])))`"))
                    .ctx("metric", name.to_string()),
                );
            });
        }
        out
    }
}
