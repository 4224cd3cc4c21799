//! Which rule files an Alertmanager config serves.
//!
//! A repository often holds several monitoring stacks: a platform Alertmanager and a
//! user-workload one, per-environment copies, an operator's forty test configs. Routing every
//! config with every rule file of the run judges each config against alerts it never receives.
//! Each config is paired with the rule files of its own stack, by the strongest evidence there
//! is, in this order:
//!
//! 1. `.obsgate.yml` `alertmanager.stacks` (`[{alertmanager: GLOB, rules: [GLOB...]}]`): exactly
//!    the rule files named there. Certain. A config kept in Helm values is paired only so: the
//!    chart's Prometheus loads the chart's own rules and what it selects in the cluster, so
//!    otherwise it gets the nearest rule files, uncertain (step 6).
//! 2. A Prometheus config in the config's directory: the rule files of the run its
//!    `rule_files:` load. Certain.
//! 3. In the same file (documents of one stream, heredocs of one CI file): those rule files.
//!    Certain.
//! 4. Kubernetes objects (a config in a `Secret`, `PrometheusRule`s) in the same namespace: those
//!    rule files. Certain.
//! 5. The only Alertmanager config of the run: every rule file. Certain: there is no other
//!    stack for the alerts to go to.
//! 6. Otherwise, directory proximity: each rule file goes to the config(s) nearest to it (the
//!    deepest common directory). Uncertain: checks that rest on the absence of an alert
//!    (unrouted alerts, group labels no alert has, routes that match nothing, inhibitions that
//!    mute nothing) say nothing for such a config.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::model::{FileKind, Project};
use crate::source::FileId;

/// The rule files one Alertmanager config serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pairing {
    /// The rule files (every rule file of the run when `None`).
    pub rule_files: Option<BTreeSet<FileId>>,
    /// Is the pairing known (explicit, by a Prometheus config, the same pipeline, the only
    /// config), or a guess from directories?
    pub certain: bool,
}

impl Pairing {
    pub fn serves(&self, file: FileId) -> bool {
        self.rule_files.as_ref().is_none_or(|s| s.contains(&file))
    }
}

/// A stack declared in `.obsgate.yml`: the Alertmanager configs matching `alertmanager` serve
/// the rule files matching `rules` (globs relative to the run's base directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    pub alertmanager: String,
    pub rules: Vec<String>,
}

/// The pairing of every Alertmanager config of the project, in
/// [`Project::alertmanager_configs`] order.
pub fn pairings(project: &Project, stacks: &[Stack]) -> Vec<Pairing> {
    let configs: Vec<_> = project.alertmanager_configs().collect();
    let rule_files: Vec<FileId> = project
        .files
        .iter()
        .filter(|f| !f.rule_docs.is_empty())
        .map(|f| f.file)
        .collect();
    // the file a source lives in on disk (an embedded file: its outer file)
    let outer = |id: FileId| {
        let mut id = id;
        while let Some(o) = &project.sources.get(id).origin {
            id = o.outer;
        }
        id
    };
    let dir_of = |id: FileId| -> PathBuf {
        let s = project.sources.get(outer(id));
        Path::new(&s.path)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    };
    let glob = |g: &str| globset::Glob::new(g).ok().map(|g| g.compile_matcher());
    let loaders = project.rule_loaders();
    // the namespace the `PrometheusRule` objects of each rule file state (when they agree)
    let rule_namespaces: Vec<(FileId, Option<&str>)> = project
        .files
        .iter()
        .filter(|f| !f.rule_docs.is_empty())
        .map(|f| {
            let first = f.rule_docs.first().and_then(|d| d.namespace.as_deref());
            let agree = f.rule_docs.iter().all(|d| d.namespace.as_deref() == first);
            (f.file, first.filter(|_| agree))
        })
        .collect();
    // the rule files nearest to a config's directory (the deepest common directory): a guess
    let nearest = |dir: &Path| {
        let depth = |a: &Path, b: &Path| {
            a.components()
                .zip(b.components())
                .take_while(|(x, y)| x == y)
                .count()
        };
        let files = rule_files
            .iter()
            .copied()
            .filter(|&r| {
                let rd = dir_of(r);
                let mine = depth(&rd, dir);
                configs.iter().all(|o| depth(&rd, &dir_of(o.file)) <= mine)
            })
            .collect();
        Pairing {
            rule_files: Some(files),
            certain: false,
        }
    };
    configs
        .iter()
        .map(|am| {
            let shown = &project.sources.get(outer(am.file)).path;
            // 1. declared
            if let Some(stack) = stacks
                .iter()
                .find(|s| glob(&s.alertmanager).is_some_and(|m| m.is_match(shown)))
            {
                let matchers: Vec<_> = stack.rules.iter().filter_map(|g| glob(g)).collect();
                let files = rule_files
                    .iter()
                    .copied()
                    .filter(|&r| {
                        let p = &project.sources.get(outer(r)).path;
                        matchers.iter().any(|m| m.is_match(p))
                    })
                    .collect();
                return Pairing {
                    rule_files: Some(files),
                    certain: true,
                };
            }
            let dir = dir_of(am.file);
            // a config in Helm values serves the chart's Prometheus, which loads the chart's
            // own rules (`defaultRules`) and what it selects in the cluster: the rule files of
            // the run are at best part of it, whatever is beside the values
            let helm = project
                .files
                .iter()
                .any(|f| f.file == outer(am.file) && f.kind == FileKind::HelmValues);
            // an `AlertmanagerConfig` resource is one part of an Alertmanager's config (the
            // operator merges it with the base config and the other resources): audited on its
            // own, what reaches it is not known (an Alertmanager's global config is the base)
            let operator = project.operator_merges().is_part(am.index);
            if helm || operator {
                return nearest(&dir);
            }
            // 2. a Prometheus config beside it
            let beside: Vec<FileId> = project
                .files
                .iter()
                .filter(|f| {
                    f.kind == FileKind::PrometheusConfig
                        && !f.rule_files.is_empty()
                        && dir_of(f.file) == dir
                })
                .map(|f| f.file)
                .collect();
            if !beside.is_empty() {
                let files: BTreeSet<FileId> = rule_files
                    .iter()
                    .copied()
                    .filter(|&r| {
                        let by = loaders.loading(&project.sources.get(r).fs_path);
                        beside.iter().any(|p| by.contains(p))
                    })
                    .collect();
                // its rule files are not in the run: no evidence here
                if !files.is_empty() {
                    return Pairing {
                        rule_files: Some(files),
                        certain: true,
                    };
                }
            }
            // 3. the same file: a stream of documents, or the heredocs of one pipeline
            let am_outer = outer(am.file);
            {
                let same: BTreeSet<FileId> = rule_files
                    .iter()
                    .copied()
                    .filter(|&r| outer(r) == am_outer)
                    .collect();
                if !same.is_empty() {
                    return Pairing {
                        rule_files: Some(same),
                        certain: true,
                    };
                }
            }
            // 4. the same Kubernetes namespace
            if let Some(ns) = namespace_of(project, am_outer) {
                let same: BTreeSet<FileId> = rule_namespaces
                    .iter()
                    .filter(|(_, rns)| *rns == Some(ns.as_str()))
                    .map(|(r, _)| *r)
                    .collect();
                if !same.is_empty() {
                    return Pairing {
                        rule_files: Some(same),
                        certain: true,
                    };
                }
            }
            // 5. the only config
            if configs.len() == 1 {
                return Pairing {
                    rule_files: None,
                    certain: true,
                };
            }
            // 6. nearest by directory
            nearest(&dir)
        })
        .collect()
}

/// The `metadata.namespace` of the Kubernetes object(s) in a file (the `Secret` an
/// Alertmanager config is embedded in), when they state one and agree.
fn namespace_of(project: &Project, file: FileId) -> Option<String> {
    let s = project.sources.get(file);
    if !s.text.contains("namespace:") {
        return None;
    }
    let docs = crate::parse::yaml::parse_documents(&s.text, &s.lines).ok()?;
    let mut found: Option<String> = None;
    for d in &docs {
        let Some(ns) = d
            .get("metadata")
            .and_then(|m| m.get("namespace"))
            .and_then(crate::parse::yaml::Node::as_str)
        else {
            continue;
        };
        match &found {
            Some(f) if f != ns => return None,
            _ => found = Some(ns.to_string()),
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> Project {
        let d = std::env::temp_dir().join(format!(
            "obsgate-pairing-{}-{}",
            std::process::id(),
            files.len() * 31 + files[0].0.len()
        ));
        let _ = std::fs::remove_dir_all(&d);
        for (p, t) in files {
            let path = d.join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, t).unwrap();
        }
        let filter = crate::source::discover::Filter::default();
        let p = crate::engine::load(std::slice::from_ref(&d), &d, &filter).unwrap();
        let _ = std::fs::remove_dir_all(&d);
        p
    }

    const AM: &str = "route:\n  receiver: a\nreceivers:\n- name: a\n";
    const RULES: &str = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n";

    fn paired(p: &Project, stacks: &[Stack]) -> Vec<(Vec<String>, bool)> {
        pairings(p, stacks)
            .into_iter()
            .map(|pr| {
                let files = p
                    .files
                    .iter()
                    .filter(|f| !f.rule_docs.is_empty() && pr.serves(f.file))
                    .map(|f| p.sources.get(f.file).path.clone())
                    .collect();
                (files, pr.certain)
            })
            .collect()
    }

    #[test]
    fn the_only_config_serves_every_rule_file() {
        let p = project(&[("am/alertmanager.yml", AM), ("prom/rules.yml", RULES)]);
        assert_eq!(
            paired(&p, &[]),
            vec![(vec!["prom/rules.yml".to_string()], true)]
        );
    }

    #[test]
    fn a_prometheus_config_beside_the_config_decides() {
        let p = project(&[
            ("platform/alertmanager.yml", AM),
            ("platform/prometheus.yml", "rule_files: [rules/*.yml]\n"),
            ("platform/rules/a.yml", RULES),
            ("user/alertmanager.yml", AM),
            ("user/rules.yml", RULES),
        ]);
        let got = paired(&p, &[]);
        assert_eq!(got[0], (vec!["platform/rules/a.yml".to_string()], true));
        // no evidence for the other one: the nearest rule file, uncertain
        assert_eq!(got[1], (vec!["user/rules.yml".to_string()], false));
    }

    #[test]
    fn declared_stacks_come_first() {
        let p = project(&[
            ("a/alertmanager.yml", AM),
            ("b/alertmanager.yml", AM),
            ("rules/x.yml", RULES),
        ]);
        let stacks = [Stack {
            alertmanager: "b/*.yml".into(),
            rules: vec!["rules/**".into()],
        }];
        let got = paired(&p, &stacks);
        // a: nearest by directory is a tie between both configs: uncertain
        assert_eq!(got[0], (vec!["rules/x.yml".to_string()], false));
        assert_eq!(got[1], (vec!["rules/x.yml".to_string()], true));
    }

    #[test]
    fn a_config_in_helm_values_is_uncertain_unless_declared() {
        let values = "alertmanager:\n  config:\n    route:\n      receiver: a\n    receivers:\n    - name: a\n";
        let p = project(&[("chart/values.yaml", values), ("chart/rules.yml", RULES)]);
        // the only config, beside a rule file: still the chart's Prometheus decides
        assert_eq!(
            paired(&p, &[]),
            vec![(vec!["chart/rules.yml".to_string()], false)]
        );
        let stacks = [Stack {
            alertmanager: "chart/values.yaml".into(),
            rules: vec!["chart/*.yml".into()],
        }];
        assert_eq!(
            paired(&p, &stacks),
            vec![(vec!["chart/rules.yml".to_string()], true)]
        );
    }

    #[test]
    fn the_same_kubernetes_namespace() {
        let secret = |ns: &str| {
            format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: am\n  namespace: {ns}\nstringData:\n  alertmanager.yaml: |\n    route:\n      receiver: a\n    receivers:\n    - name: a\n")
        };
        let rule = |ns: &str| {
            format!("apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: r\n  namespace: {ns}\nspec:\n  groups:\n  - name: g\n    rules:\n    - alert: A\n      expr: up == 0\n")
        };
        let p = project(&[
            ("k8s/am-platform.yaml", &secret("monitoring")),
            ("k8s/am-user.yaml", &secret("user-workload")),
            ("k8s/rules-platform.yaml", &rule("monitoring")),
            ("k8s/rules-user.yaml", &rule("user-workload")),
        ]);
        let got = paired(&p, &[]);
        assert_eq!(got[0], (vec!["k8s/rules-platform.yaml".to_string()], true));
        assert_eq!(got[1], (vec!["k8s/rules-user.yaml".to_string()], true));
    }
}
