//! `rules/duplicate`: the same alert (or recording rule) with the same static labels and the same
//! expression defined twice and loaded by one Prometheus. Prometheus evaluates both and the copies
//! write the same series.
//!
//! Copies meant for different deployments are not duplicates: a generator's source and its output,
//! an example and the chart, one copy per environment or instance. Two copies are reported only
//! when one Prometheus loads both:
//! - they are in the same file (unless they are `PrometheusRule` objects for different
//!   namespaces);
//! - a Prometheus config of the run loads both files (its `rule_files:` globs);
//! - no Prometheus config of the run loads either, and they are deployed together: two
//!   `PrometheusRule` objects that both state a `metadata.namespace` are deployed together when
//!   it is the same namespace; otherwise two files are when they are in the same directory,
//!   unless that directory holds test inputs, examples or documentation (`testdata/`, `tests/`,
//!   `fixtures/`, `examples/`, `docs/`), whose files are alternatives, loaded one at a time.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::checks::{Check, Ctx, Finding};
use crate::model::RuleRef;
use crate::parse::prom_rules::RuleKind;
use crate::source::{FileId, Text};

pub struct Duplicate;

/// Identity of a rule: kind, name, sorted static labels and the normalised expression.
type RuleKey = (RuleKind, Text, Vec<(Text, Text)>, String);

/// A file, and the namespace of the `PrometheusRule` object a rule is in.
type PlaceKey<'a> = (FileId, Option<&'a str>);

/// Where a rule is deployed from: what decides whether one Prometheus loads two copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: FileId,
    /// The directory of the (outermost) file.
    pub dir: PathBuf,
    /// A `PrometheusRule`'s `metadata.namespace`.
    pub namespace: Option<String>,
    /// The Prometheus configs of the run whose `rule_files:` load the file.
    pub loaders: Vec<FileId>,
    /// The file's directory (as shown, relative to the run's base) holds test inputs, examples
    /// or documentation ([`alternatives_dir`]).
    pub alternatives: bool,
}

impl Place {
    /// Where the rules of `file` (in a `PrometheusRule` for `namespace`, if any) are deployed
    /// from.
    pub fn of(
        cx: &Ctx,
        file: FileId,
        namespace: Option<&str>,
        loaders: &crate::model::RuleLoaders,
    ) -> Place {
        let src = cx.project.sources.get(file);
        Place {
            file,
            dir: src
                .fs_path
                .parent()
                .map(|d| std::fs::canonicalize(d).unwrap_or(d.to_path_buf()))
                .unwrap_or_default(),
            namespace: namespace.map(str::to_string),
            loaders: loaders.loading(&src.fs_path),
            alternatives: std::path::Path::new(&src.path)
                .parent()
                .is_some_and(alternatives_dir),
        }
    }
}

/// Why one Prometheus loads both copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Together {
    SameFile,
    /// Both files are loaded by this Prometheus config.
    Config(FileId),
    /// Two `PrometheusRule` objects in this namespace.
    Namespace(String),
    SameDirectory,
}

/// Does one Prometheus load the rules at `a` and at `b`?
pub fn together(a: &Place, b: &Place) -> Option<Together> {
    if let (Some(x), Some(y)) = (&a.namespace, &b.namespace) {
        // `PrometheusRule` objects for different namespaces, even written in one file, are
        // copies per environment
        if x != y {
            return None;
        }
    }
    if a.file == b.file {
        return Some(Together::SameFile);
    }
    if !a.loaders.is_empty() || !b.loaders.is_empty() {
        // a config of the run says which files it loads: a copy it does not load belongs to
        // another deployment
        return a
            .loaders
            .iter()
            .find(|c| b.loaders.contains(c))
            .map(|c| Together::Config(*c));
    }
    match (&a.namespace, &b.namespace) {
        (Some(x), Some(y)) => (x == y).then(|| Together::Namespace(x.clone())),
        _ => (a.dir == b.dir && !a.alternatives).then_some(Together::SameDirectory),
    }
}

/// Is a directory one of test inputs, examples or documentation, whose rule files are
/// alternatives side by side (each test loads its own; an example per version) rather than one
/// deployment? Same-directory copies there are not duplicates.
pub fn alternatives_dir(dir: &std::path::Path) -> bool {
    dir.components().any(|c| {
        let name = c.as_os_str().to_string_lossy().to_ascii_lowercase();
        matches!(
            name.as_str(),
            "testdata"
                | "test-data"
                | "test"
                | "tests"
                | "fixtures"
                | "__fixtures__"
                | "golden"
                | "examples"
                | "example"
                | "docs"
                | "doc"
        )
    })
}

impl Check for Duplicate {
    fn id(&self) -> &'static str {
        "rules/duplicate"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        // only names defined more than once can be duplicates: the (costly) keys are built for
        // those alone
        let mut names: HashMap<(RuleKind, &str), usize> = HashMap::new();
        for r in cx.project.rules() {
            *names
                .entry((r.rule.kind, r.rule.name.value.as_str()))
                .or_default() += 1;
        }
        let loaders = cx.project.rule_loaders();
        let mut places: HashMap<PlaceKey, Place> = HashMap::new();
        let mut seen: HashMap<RuleKey, Vec<(RuleRef, PlaceKey)>> = HashMap::new();
        let mut out = Vec::new();
        for f in &cx.project.files {
            for doc in &f.rule_docs {
                for g in &doc.groups {
                    for rule in &g.rules {
                        let r = RuleRef {
                            file: f.file,
                            group: g,
                            rule,
                        };
                        if r.rule.name.value.is_empty()
                            || names
                                .get(&(r.rule.kind, r.rule.name.value.as_str()))
                                .copied()
                                .unwrap_or(0)
                                < 2
                        {
                            continue;
                        }
                        let place_key = (f.file, doc.namespace.as_deref());
                        places.entry(place_key).or_insert_with(|| {
                            Place::of(cx, f.file, doc.namespace.as_deref(), &loaders)
                        });
                        let key = rule_key(&r);
                        let copies = seen.entry(key).or_default();
                        let here = &places[&place_key];
                        let first = copies
                            .iter()
                            .find_map(|(c, pk)| Some((c, together(&places[pk], here)?)));
                        if let Some((first, why)) = first {
                            out.push(self.finding(cx, first, &r, &why));
                        }
                        // the first copy of each place stands for the others there: one
                        // comparison per place, not per copy
                        if !copies.iter().any(|(_, pk)| *pk == place_key) {
                            copies.push((r, place_key));
                        }
                    }
                }
            }
        }
        out
    }
}

fn rule_key(r: &RuleRef) -> RuleKey {
    let mut labels: Vec<(Text, Text)> = r
        .rule
        .labels
        .iter()
        .map(|p| (p.key.value.clone(), p.value.value.clone()))
        .collect();
    labels.sort();
    // the same name and labels with a different expression is a different series set (e.g. one
    // recording rule per status class), not a duplicate
    let expr = match &r.rule.expr {
        Some(e) => match &e.parsed {
            Ok(p) => p.materialized().expr().to_string(),
            Err(_) => e.text().split_whitespace().collect::<Vec<_>>().join(" "),
        },
        None => String::new(),
    };
    (r.rule.kind, r.rule.name.value.clone(), labels, expr)
}

impl Duplicate {
    fn finding(&self, cx: &Ctx, first: &RuleRef, r: &RuleRef, why: &Together) -> Finding {
        let what = if r.rule.kind == RuleKind::Alert {
            "alert"
        } else {
            "recording rule"
        };
        // positions in the outermost files: a rule file embedded in a ConfigMap is shown at
        // the ConfigMap's lines, as the finding itself is
        let sources = &cx.project.sources;
        let (first_outer, line, _) = sources.outer_line_col(first.file, first.rule.name.span.start);
        let (here_outer, ..) = sources.outer_line_col(r.file, r.rule.name.span.start);
        let first_path = &sources.get(first_outer).path;
        let same_file = first_outer == here_outer;
        let where_ = if same_file {
            format!("line {line}")
        } else {
            format!("{first_path}:{line}")
        };
        let (loaded, who) = match why {
            Together::SameFile => (String::new(), "Prometheus"),
            Together::Config(c) => (
                format!(", and `{}` loads both files", sources.outer_path(*c)),
                "that Prometheus",
            ),
            Together::Namespace(ns) => (
                format!(", and both are PrometheusRule objects in namespace `{ns}`"),
                "the Prometheus that selects them",
            ),
            Together::SameDirectory => (", in the same directory".to_string(), "Prometheus"),
        };
        let mut f = Finding::new(
            self.id(),
            r.file,
            r.rule.name.span.clone(),
            format!(
                "{what} `{}` with the same labels and expression is already defined at {where_} \
                 (group `{}`){loaded}: {who} evaluates both and writes the same series twice",
                r.rule.name.value, first.group.name.value
            ),
        )
        .label("duplicate")
        .help(
            "delete one copy (an edit to one leaves the other in force), or give them different \
             labels (e.g. `severity`) if both are meant to exist; a copy for another deployment \
             (an example, a generator's input, another environment) belongs in its own directory \
             or namespace, outside this Prometheus's `rule_files`",
        )
        .also(
            first.file,
            first.rule.name.span.clone(),
            "first defined here",
        )
        .ctx("name", r.rule.name.value.clone());
        if !same_file {
            f = f.ctx("first_file", first_path.clone());
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::{together, Place, Together};
    use crate::source::FileId;
    use std::path::PathBuf;

    fn place(file: u32, dir: &str, ns: Option<&str>, loaders: &[u32]) -> Place {
        Place {
            file: FileId(file),
            dir: PathBuf::from(dir),
            namespace: ns.map(str::to_string),
            loaders: loaders.iter().map(|l| FileId(*l)).collect(),
            alternatives: super::alternatives_dir(std::path::Path::new(dir)),
        }
    }

    #[test]
    fn loaded_together() {
        let a = place(1, "/r/rules", None, &[]);
        assert_eq!(together(&a, &a), Some(Together::SameFile));
        // no config loads either: same directory
        assert_eq!(
            together(&a, &place(2, "/r/rules", None, &[])),
            Some(Together::SameDirectory)
        );
        // a generator's source and its output, an example and the chart
        assert_eq!(
            together(&a, &place(2, "/r/rules/src/general", None, &[])),
            None
        );
        // a config loads both, wherever they are
        assert_eq!(
            together(
                &place(1, "/r/a", None, &[9, 8]),
                &place(2, "/r/b", None, &[8])
            ),
            Some(Together::Config(FileId(8)))
        );
        // configs load one of them, or each its own
        assert_eq!(
            together(&place(1, "/r/a", None, &[9]), &place(2, "/r/a", None, &[])),
            None
        );
        assert_eq!(
            together(&place(1, "/r/a", None, &[9]), &place(2, "/r/a", None, &[8])),
            None
        );
        // PrometheusRule objects: the namespace decides when both state one
        assert_eq!(
            together(
                &place(1, "/r/a", Some("monitoring"), &[]),
                &place(2, "/r/b", Some("monitoring"), &[])
            ),
            Some(Together::Namespace("monitoring".into()))
        );
        assert_eq!(
            together(
                &place(1, "/r/a", Some("staging"), &[]),
                &place(2, "/r/a", Some("production"), &[])
            ),
            None
        );
        assert_eq!(
            together(
                &place(1, "/r/a", Some("staging"), &[]),
                &place(2, "/r/a", None, &[])
            ),
            Some(Together::SameDirectory)
        );
        // one file of PrometheusRule objects, one per namespace: copies per environment
        assert_eq!(
            together(
                &place(1, "/r/a", Some("staging"), &[]),
                &place(1, "/r/a", Some("production"), &[])
            ),
            None
        );
        assert_eq!(
            together(
                &place(1, "/r/a", Some("staging"), &[]),
                &place(1, "/r/a", Some("staging"), &[])
            ),
            Some(Together::SameFile)
        );
    }

    /// The rule files of a tree, checked as `obsgate check .`: `(path, line)` of the findings.
    fn run_tree(name: &str, files: &[(&str, &str)]) -> Vec<(String, u32)> {
        let dir = std::env::temp_dir().join(format!("obsgate-dup-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in files {
            let p = dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let outcome = crate::engine::check(&crate::engine::CheckOptions {
            paths: vec![dir.clone()],
            base: dir.clone(),
            config: crate::config::Config::default(),
            only: Some(vec!["rules/duplicate".into()]),
        })
        .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        outcome
            .findings
            .iter()
            .map(|f| (f.path.to_string(), f.line))
            .collect()
    }

    const RULES: &str =
        "groups:\n  - name: g\n    rules:\n      - alert: Down\n        expr: up == 0\n";

    fn crd(ns: &str) -> String {
        format!(
            "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: r\n  namespace: {ns}\nspec:\n  groups:\n    - name: g\n      rules:\n        - alert: Down\n          expr: up == 0\n"
        )
    }

    #[test]
    fn copies_per_deployment_are_not_duplicates() {
        // a generator's source and its output, an example and the chart: no config loads them
        assert!(run_tree(
            "dirs",
            &[
                ("rules/a.yml", RULES),
                ("rules/src/a.yml", RULES),
                ("example/a.yml", RULES)
            ]
        )
        .is_empty());
        // side by side, nothing says they are for different deployments
        assert_eq!(
            run_tree("samedir", &[("rules/a.yml", RULES), ("rules/b.yml", RULES)]),
            vec![("rules/b.yml".to_string(), 4)]
        );
        // test inputs side by side are alternatives, not one deployment
        assert!(run_tree(
            "testdata",
            &[("testdata/a.yml", RULES), ("testdata/b.yml", RULES)]
        )
        .is_empty());
        // a config loads one directory only (`*` does not cross `/`)
        let config = "rule_files:\n  - rules/*.yml\nscrape_configs: []\n";
        assert!(run_tree(
            "config-one",
            &[
                ("prometheus.yml", config),
                ("rules/a.yml", RULES),
                ("rules/src/a.yml", RULES)
            ]
        )
        .is_empty());
        // a config loads both, in different directories
        let config = "rule_files:\n  - rules/*.yml\n  - extra/*.yml\nscrape_configs: []\n";
        assert_eq!(
            run_tree(
                "config-both",
                &[
                    ("prometheus.yml", config),
                    ("rules/a.yml", RULES),
                    ("extra/a.yml", RULES)
                ]
            ),
            vec![("rules/a.yml".to_string(), 4)]
        );
        // PrometheusRule objects: per-namespace copies, even side by side; one namespace
        // across directories is one deployment
        assert!(run_tree(
            "ns",
            &[
                ("k8s/staging.yml", &crd("staging")),
                ("k8s/prod.yml", &crd("production"))
            ]
        )
        .is_empty());
        assert_eq!(
            run_tree(
                "ns-same",
                &[
                    ("a/rules.yml", &crd("monitoring")),
                    ("b/rules.yml", &crd("monitoring"))
                ]
            ),
            vec![("b/rules.yml".to_string(), 10)]
        );
    }
}
