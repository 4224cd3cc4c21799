//! The metric inventory: metrics defined in application source (prom-client, client_golang,
//! prometheus_client), with the series names Prometheus will store for each.

use crate::parse::metric_defs::{self, MetricDef, MetricType};
use crate::source::FileId;

/// A definition with the file it is written in.
#[derive(Debug, Clone, Copy)]
pub struct DefRef<'a> {
    pub file: FileId,
    pub def: &'a MetricDef,
}

impl DefRef<'_> {
    /// Does this definition produce the series `name` (`x_bucket` for a histogram `x`)?
    pub fn produces(&self, name: &str) -> bool {
        let d = self.def;
        if d.name == name {
            return true;
        }
        let Some((base, suffix)) = name.rsplit_once('_') else {
            return false;
        };
        if base != d.name {
            return false;
        }
        match d.kind {
            MetricType::Histogram => matches!(suffix, "bucket" | "sum" | "count"),
            MetricType::Summary => matches!(suffix, "sum" | "count"),
            _ => false,
        }
    }

    /// Labels a series of `name` carries beyond the defined ones (`le`, `quantile`).
    pub fn extra_label(&self, name: &str, label: &str) -> bool {
        match self.def.kind {
            MetricType::Histogram => label == "le" && name.ends_with("_bucket"),
            MetricType::Summary => label == "quantile" && name == self.def.name,
            _ => false,
        }
    }

    /// Bucket boundaries, explicit or the library's default.
    pub fn buckets(&self, lang: Option<metric_defs::Lang>) -> Option<Vec<f64>> {
        if self.def.kind != MetricType::Histogram {
            return None;
        }
        match (&self.def.buckets, self.def.buckets_default, lang) {
            (Some(b), _, _) => Some(b.clone()),
            (None, true, Some(l)) => Some(metric_defs::default_buckets(l).to_vec()),
            _ => None,
        }
    }
}

/// Every metric definition of the run.
pub fn definitions(project: &crate::model::Project) -> Vec<DefRef<'_>> {
    project
        .files
        .iter()
        .filter_map(|f| Some((f.file, f.metrics.as_ref()?)))
        .flat_map(|(file, m)| m.defs.iter().map(move |def| DefRef { file, def }))
        .collect()
}

/// The language a definition's file is written in.
pub fn lang_of(project: &crate::model::Project, file: FileId) -> Option<metric_defs::Lang> {
    let src = project.sources.get(file);
    let key = src.path.rsplit('#').next().unwrap_or(&src.path);
    metric_defs::lang_for_path(key)
}

/// Names of the series the default collectors (`collectDefaultMetrics`, Go/process
/// collectors, Python's default registry) expose, with their prefixes.
pub fn default_series(project: &crate::model::Project) -> Vec<String> {
    let mut out = Vec::new();
    for f in &project.files {
        let Some(m) = &f.metrics else { continue };
        for d in &m.defaults {
            let prefix = d.prefix.clone().unwrap_or_default();
            for (name, kind) in metric_defs::default_metric_names(d.lang) {
                let base = format!("{prefix}{name}");
                match kind {
                    MetricType::Histogram => {
                        for s in ["_bucket", "_sum", "_count"] {
                            out.push(format!("{base}{s}"));
                        }
                    }
                    MetricType::Summary => {
                        for s in ["_sum", "_count"] {
                            out.push(format!("{base}{s}"));
                        }
                    }
                    _ => {}
                }
                out.push(base);
            }
        }
    }
    out
}
