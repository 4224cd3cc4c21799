//! `AlertmanagerConfig` resources merged into the Alertmanager config they become part of, as
//! prometheus-operator merges them (`ConfigBuilder.AddAlertmanagerConfigs`): in the order of
//! their `<namespace>/<name>`, each resource's top route goes first under the root route of the
//! base config, with `continue: true` and (by the matcher strategy) `namespace="<namespace>"`;
//! its inhibit rules (with the namespace on both sides) and, when it has a route, its receivers
//! and time intervals are added to the base config's.
//!
//! Which resources merge into which config is read from the run (never guessed):
//!
//! 1. an `Alertmanager` resource whose config Secret is in the run selects resources by its
//!    label and namespace selectors;
//! 2. kube-prometheus-stack values with an `alertmanager.config` select resources as the chart's
//!    `Alertmanager` does (every resource in every namespace by default);
//! 3. `.obsgate.yml`'s `alertmanager.operator.base_config` names the base config of the
//!    resources no Alertmanager of the run selects.
//!
//! A resource whose namespace the manifest does not write, an Alertmanager whose namespace
//! selector has labels (which namespaces carry them is not in the manifests), a selector that
//! cannot be read, and a base config not in the run leave the resource audited on its own: when
//! obsgate cannot know, it merges nothing.
//!
//! With a "global" `AlertmanagerConfig` as the base (`spec.alertmanagerConfiguration`), its top
//! route is the root route (no namespace matcher, no `continue`): the other resources go first
//! under it.

use crate::model::{AmRef, FileId, Project};
use crate::parse::operator_objects::{Base, Namespaces, Object};

/// A prometheus-operator object of a file, with the embedded config it comes with.
#[derive(Debug, Clone)]
pub struct OperatorObject {
    pub object: Object,
    /// The index, among the file's embedded files, of the config that belongs to it (the
    /// resource's conversion, the Secret's `alertmanager.yaml`, the values' config).
    pub embedded: Option<usize>,
    /// That config's source, once the embedded files are added to the run.
    pub file: Option<FileId>,
}

/// A resource merged into a base config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Its position among [`Project::alertmanager_configs`].
    pub am: usize,
    pub namespace: String,
    /// `<namespace>/<name>`: the operator's order.
    pub key: String,
    /// Whether the operator adds `namespace="<namespace>"` to its top route and inhibit rules.
    pub enforce: bool,
    /// Whether it has a route (receivers and time intervals are merged only then).
    pub has_route: bool,
}

/// The merges of the run: for each Alertmanager config (by position), the resources merged into
/// it; and for each resource, how its namespace matcher is settled when it is shown alone.
#[derive(Debug, Default)]
pub struct Merges {
    pub parts: Vec<Vec<Part>>,
    /// For resources (by position): the matcher enforcement of the first config it merges
    /// into, else of `.obsgate.yml`'s settings; `None` for other configs.
    pub alone: Vec<Option<(String, bool)>>,
    /// For resources (by position): whether it is an Alertmanager's global config (its top
    /// route is the root route; the other resources go under it).
    pub global: Vec<bool>,
}

impl Merges {
    /// Is the config at this position an `AlertmanagerConfig` resource, which is part of an
    /// Alertmanager's config and not one (unless it is an Alertmanager's global config)?
    pub fn is_part(&self, am: usize) -> bool {
        self.alone[am].is_some() && !self.global[am]
    }
}

/// The objects of the run, with the position of their config.
struct Found<'a> {
    object: &'a Object,
    am: Option<usize>,
}

pub fn merges(project: &Project) -> Merges {
    let configs: Vec<AmRef> = project.alertmanager_configs().collect();
    let position =
        |file: Option<FileId>| file.and_then(|f| configs.iter().position(|a| a.file == f));
    let found: Vec<Found> = project
        .files
        .iter()
        .flat_map(|f| {
            f.operator.iter().map(move |o| Found {
                object: &o.object,
                am: position(o.file),
            })
        })
        .collect();
    let settings = &project.operator_settings;
    let mut merges = Merges {
        parts: vec![Vec::new(); configs.len()],
        alone: vec![None; configs.len()],
        global: vec![false; configs.len()],
    };
    let resources: Vec<(&crate::parse::operator_objects::Resource, usize)> = found
        .iter()
        .filter_map(|f| match (f.object, f.am) {
            (Object::Resource(r), Some(am)) => Some((r, am)),
            _ => None,
        })
        .collect();
    let mut selected = vec![false; resources.len()];
    for f in &found {
        let Object::Alertmanager(am) = f.object else {
            continue;
        };
        let base = match &am.base {
            Base::Global(name) => {
                // the resource of that name in the Alertmanager's namespace
                let found: Vec<usize> = resources
                    .iter()
                    .enumerate()
                    .filter(|(_, (r, _))| r.name == *name && may_share(&r.namespace, &am.namespace))
                    .map(|(i, _)| i)
                    .collect();
                match found[..] {
                    [i] => {
                        let (r, part) = resources[i];
                        selected[i] = true;
                        merges.global[part] = true;
                        let ns = r.namespace.clone().unwrap_or_else(|| "default".into());
                        merges.alone[part] = Some((ns, false));
                        Some(part)
                    }
                    _ => None,
                }
            }
            Base::Values => f.am,
            Base::Secret(name) => {
                // the Secret in the Alertmanager's namespace
                let secrets: Vec<usize> = found
                    .iter()
                    .filter_map(|s| match s.object {
                        Object::Secret { name: n, namespace }
                            if n == name && may_share(namespace, &am.namespace) =>
                        {
                            s.am
                        }
                        _ => None,
                    })
                    .collect();
                // two candidates: which one is its config is not known
                (secrets.len() == 1).then(|| secrets[0])
            }
        };
        let (Some(base), Some(select)) = (base, &am.select) else {
            continue;
        };
        for (i, (r, part)) in resources.iter().enumerate() {
            let Some(ns) = &r.namespace else { continue };
            let in_namespace = match am.namespaces {
                Namespaces::All => true,
                Namespaces::Own => am.namespace.as_ref() == Some(ns),
                Namespaces::Selected => false,
            };
            if !in_namespace || !select.matches(&r.labels) {
                continue;
            }
            let am_ns = am
                .namespace
                .as_deref()
                .or(settings.alertmanager_namespace.as_deref());
            let Some(enforce) = am.strategy.enforces(ns, am_ns) else {
                continue;
            };
            selected[i] = true;
            add(&mut merges, base, *part, r, ns, enforce);
        }
    }
    // declared in `.obsgate.yml`: the resources no Alertmanager of the run selects
    let mut globs = globset::GlobSetBuilder::new();
    for g in &settings.base_config {
        if let Ok(g) = globset::Glob::new(g) {
            globs.add(g);
        }
    }
    let declared = globs.build().ok();
    if let Some(glob) = declared.filter(|_| !settings.base_config.is_empty()) {
        let is_resource = |i: usize| resources.iter().any(|(_, p)| *p == i);
        let bases: Vec<usize> = configs
            .iter()
            .enumerate()
            .filter(|(i, a)| {
                let outer = project.sources.resolve(a.file, &(0..0)).0;
                !is_resource(*i)
                    && (glob.is_match(&*project.sources.get(outer).path)
                        || glob.is_match(&*project.sources.get(a.file).path))
            })
            .map(|(i, _)| i)
            .collect();
        for base in bases {
            for (i, (r, part)) in resources.iter().enumerate() {
                let Some(ns) = &r.namespace else { continue };
                if selected[i] {
                    continue;
                }
                let Some(enforce) = settings
                    .strategy
                    .enforces(ns, settings.alertmanager_namespace.as_deref())
                else {
                    continue;
                };
                add(&mut merges, base, *part, r, ns, enforce);
            }
        }
    }
    for parts in &mut merges.parts {
        parts.sort_by(|a, b| a.key.cmp(&b.key));
        parts.dedup_by(|a, b| a.am == b.am);
    }
    // a resource shown alone: as merged, else as `.obsgate.yml` says
    for (r, part) in &resources {
        if merges.alone[*part].is_some() {
            continue;
        }
        let ns = r.namespace.clone().unwrap_or_else(|| "default".into());
        let enforce = settings
            .strategy
            .enforces(&ns, settings.alertmanager_namespace.as_deref())
            .unwrap_or(true);
        merges.alone[*part] = Some((ns, enforce));
    }
    merges
}

/// Can two objects be in the same namespace? Yes when both write the same one, or when one
/// does not write it (it is applied into a namespace the manifest does not name).
fn may_share(a: &Option<String>, b: &Option<String>) -> bool {
    a.is_none() || b.is_none() || a == b
}

fn add(
    merges: &mut Merges,
    base: usize,
    part: usize,
    r: &crate::parse::operator_objects::Resource,
    ns: &str,
    enforce: bool,
) {
    if base == part {
        return;
    }
    merges.parts[base].push(Part {
        am: part,
        namespace: ns.to_string(),
        key: format!("{ns}/{}", r.name),
        enforce,
        has_route: r.has_route,
    });
    merges.alone[part].get_or_insert_with(|| (ns.to_string(), enforce));
}
