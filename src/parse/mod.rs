//! Parsers: one per input kind, each producing a typed model with byte spans.

pub mod alertmanager;
pub mod am_matcher;
pub mod am_template;
pub mod analysis;
pub mod ci;
pub mod ci_schema;
pub mod exposition;
pub mod fields;
pub mod gitlab;
pub mod gotemplate;
pub mod helm;
pub mod k8s;
pub mod metric_defs;
pub mod mimir;
pub mod operator;
pub mod operator_objects;
pub mod prom_rules;
pub mod promql;
pub mod scalar;
pub mod shell;
pub mod yaml;

/// The valid name closest to a misspelt one (for "did you mean" hints), if any is close.
pub fn closest<'a>(name: &str, valid: &[&'a str]) -> Option<&'a str> {
    valid
        .iter()
        .map(|v| (levenshtein(name, v), *v))
        .filter(|(d, v)| *d <= 2.max(v.len() / 4) && *d > 0)
        .min()
        .map(|(_, v)| v)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}
