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

/// Where an inventory entry was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// A metric definition in application source.
    Definition,
    /// A scrape: a committed exposition file or a probed target (a probe record).
    Scrape,
    /// A recording rule's output (its type is not guessed).
    RecordingRule,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Definition => "definition",
            Source::Scrape => "scrape",
            Source::RecordingRule => "recording-rule",
        }
    }
}

/// What is known of a histogram's buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HistogramForm {
    /// Classic buckets (`_bucket{le}` series): scraped, or a definition with buckets.
    pub classic: bool,
    /// Native buckets: a definition declaring them (client_golang
    /// `NativeHistogramBucketFactor`), or a scraped histogram without `_bucket` series.
    pub native: bool,
}

/// One metric of the inventory: a definition, a scraped family or a recording rule's output.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    /// `counter`, `gauge`, `histogram`, `summary`, a scrape's other types (`gaugehistogram`,
    /// `info`, `stateset`, `unknown` for an untyped family), or `unknown` (recording rules).
    pub kind: &'static str,
    /// Label names (without `le`/`quantile`); `None` when unknown.
    pub labels: Option<Vec<String>>,
    /// A histogram's finite bucket boundaries, when known.
    pub buckets: Option<Vec<f64>>,
    pub histogram: Option<HistogramForm>,
    /// The series names the metric gives, each with whether it counts (a counter, a histogram's
    /// or summary's `_bucket`/`_sum`/`_count`) or is a gauge's level (`Some(false)`); `None`
    /// for the others.
    pub series: Vec<(String, Option<bool>)>,
    pub file: FileId,
    pub span: crate::source::Span,
    pub source: Source,
}

/// Does a client_golang histogram definition declare native buckets only
/// (`NativeHistogramBucketFactor` and no `Buckets`, so the library makes no classic buckets)?
/// Read from the call's text: the definition parser does not keep the option.
fn go_native(project: &crate::model::Project, d: &DefRef) -> (bool, bool) {
    let text = project.src(d.file);
    let call = text.get(d.def.span.clone()).unwrap_or("");
    let native = call.contains("NativeHistogramBucketFactor");
    let classic = !native || d.def.buckets_span.is_some();
    (classic, native)
}

/// The run's metric inventory: definitions in application source, the families of committed
/// scrapes and probe records, and the outputs of recording rules, in file order.
pub fn inventory(project: &crate::model::Project) -> Vec<Entry> {
    use crate::parse::exposition::MetricType as E;
    let mut out = Vec::new();
    for f in &project.files {
        if let Some(m) = &f.metrics {
            for def in &m.defs {
                let d = DefRef { file: f.file, def };
                let lang = lang_of(project, f.file);
                let n = &def.name;
                let (series, histogram) = match def.kind {
                    MetricType::Counter => (vec![(n.clone(), Some(true))], None),
                    MetricType::Gauge => (vec![(n.clone(), Some(false))], None),
                    MetricType::Histogram => {
                        let (classic, native) = if lang == Some(metric_defs::Lang::Go) {
                            go_native(project, &d)
                        } else {
                            (true, false)
                        };
                        let mut s = vec![(n.clone(), None)];
                        if classic {
                            s.push((format!("{n}_bucket"), Some(true)));
                        }
                        s.push((format!("{n}_sum"), Some(true)));
                        s.push((format!("{n}_count"), Some(true)));
                        (s, Some(HistogramForm { classic, native }))
                    }
                    MetricType::Summary => (
                        vec![
                            (n.clone(), None),
                            (format!("{n}_sum"), Some(true)),
                            (format!("{n}_count"), Some(true)),
                        ],
                        None,
                    ),
                };
                let buckets = match histogram {
                    Some(h) if h.classic => d.buckets(lang),
                    _ => None,
                };
                out.push(Entry {
                    name: n.clone(),
                    kind: def.kind.as_str(),
                    labels: def
                        .labels_known
                        .then(|| def.labels.iter().map(|(l, _)| l.clone()).collect()),
                    buckets,
                    histogram,
                    series,
                    file: f.file,
                    span: def.name_span.clone(),
                    source: Source::Definition,
                });
            }
        }
        if let Some((expo, _)) = &f.exposition {
            for fam in &expo.families {
                let mut labels: Vec<String> = Vec::new();
                let mut series: Vec<(String, Option<bool>)> = Vec::new();
                let mut les: Vec<f64> = Vec::new();
                let mut bucketed = false;
                for s in &fam.samples {
                    for l in &s.labels {
                        let bucket_le = l.name == "le"
                            && s.name.ends_with("_bucket")
                            && matches!(fam.kind, E::Histogram | E::GaugeHistogram);
                        if bucket_le || l.name == "quantile" && fam.kind == E::Summary {
                            if l.name == "le" {
                                if let Ok(v) = l.value.parse::<f64>() {
                                    if v.is_finite() && !les.contains(&v) {
                                        les.push(v);
                                    }
                                }
                            }
                            continue;
                        }
                        if !labels.contains(&l.name) {
                            labels.push(l.name.clone());
                        }
                    }
                    if series.iter().any(|(n, _)| *n == s.name) {
                        continue;
                    }
                    let suffix = s.name.strip_prefix(fam.name.as_str()).unwrap_or("");
                    bucketed |= suffix == "_bucket";
                    let counts = match fam.kind {
                        E::Counter => Some(true),
                        E::Gauge => Some(false),
                        E::Histogram | E::Summary | E::GaugeHistogram => {
                            matches!(suffix, "_bucket" | "_sum" | "_count" | "_created")
                                .then_some(fam.kind != E::GaugeHistogram)
                        }
                        _ => None,
                    };
                    series.push((s.name.clone(), counts));
                }
                labels.sort();
                les.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
                let histogram = (fam.kind == E::Histogram).then_some(HistogramForm {
                    classic: bucketed,
                    native: !bucketed && !fam.samples.is_empty(),
                });
                // where the type is said (the `# TYPE` line), else where the name first is
                let span = fam
                    .type_span
                    .clone()
                    .or_else(|| fam.name_span.clone())
                    .or_else(|| fam.samples.first().map(|s| s.name_span.clone()))
                    .unwrap_or(0..0);
                out.push(Entry {
                    name: fam.name.clone(),
                    kind: fam.kind.as_str(),
                    // a family with no samples shows no labels: unknown, not none
                    labels: (!fam.samples.is_empty()).then_some(labels),
                    buckets: (fam.kind == E::Histogram && bucketed).then_some(les),
                    histogram,
                    series,
                    file: f.file,
                    span,
                    source: Source::Scrape,
                });
            }
        }
        for r in crate::model::rules_of(std::slice::from_ref(f)) {
            if r.rule.kind != crate::parse::prom_rules::RuleKind::Record {
                continue;
            }
            out.push(Entry {
                name: r.rule.name.value.to_string(),
                kind: "unknown",
                labels: None,
                buckets: None,
                histogram: None,
                series: Vec::new(),
                file: f.file,
                span: r.rule.name.span.clone(),
                source: Source::RecordingRule,
            });
        }
    }
    out
}

/// Where a span is, in its outer file: `path:line:col` (a file embedded in another one is
/// placed in the outer file).
pub fn place(sources: &crate::source::Sources, file: FileId, span: &crate::source::Span) -> String {
    let (outer, span) = sources.resolve(file, span);
    let s = sources.get(outer);
    let (l, c) = s.line_col(span.start);
    format!("{}:{l}:{c}", s.path)
}

/// What the inventory says of each series name (for the checks that judge by type).
#[derive(Debug, Default)]
pub struct Types {
    /// Series name -> where it is known to be a counter's (or a histogram's count).
    pub counters: std::collections::HashMap<String, (FileId, crate::source::Span, Source)>,
    /// Series name -> where it is known to be a gauge.
    pub gauges: std::collections::HashMap<String, (FileId, crate::source::Span, Source)>,
    /// Histogram name -> what is known of its buckets, and where.
    pub histograms:
        std::collections::HashMap<String, (HistogramForm, FileId, crate::source::Span, Source)>,
}

impl Types {
    pub fn of(entries: &[Entry]) -> Types {
        let mut t = Types::default();
        for e in entries {
            for (series, counts) in &e.series {
                let map = match counts {
                    Some(true) => &mut t.counters,
                    Some(false) => &mut t.gauges,
                    None => continue,
                };
                map.entry(series.clone())
                    .or_insert_with(|| (e.file, e.span.clone(), e.source));
            }
            if let Some(h) = e.histogram {
                let slot = t.histograms.entry(e.name.clone()).or_insert_with(|| {
                    (HistogramForm::default(), e.file, e.span.clone(), e.source)
                });
                slot.0.classic |= h.classic;
                slot.0.native |= h.native;
            }
        }
        t
    }

    /// Is `name` known as a gauge and never as a counter? Where it is one.
    pub fn gauge(&self, name: &str) -> Option<&(FileId, crate::source::Span, Source)> {
        if self.counters.contains_key(name) {
            return None;
        }
        self.gauges.get(name)
    }

    /// Is `name` a histogram known to have classic buckets only? Where it is defined.
    pub fn classic_only(
        &self,
        name: &str,
    ) -> Option<&(HistogramForm, FileId, crate::source::Span, Source)> {
        self.histograms
            .get(name)
            .filter(|(h, ..)| h.classic && !h.native)
    }
}

/// An entry as printed: where it is (in its outer file) and its fields.
struct Row<'a> {
    entry: &'a Entry,
    path: String,
    line: usize,
    column: usize,
}

/// The entries in report order (path, line, column, name), placed in their outer files.
fn rows<'a>(project: &crate::model::Project, entries: &'a [Entry]) -> Vec<Row<'a>> {
    let mut rows: Vec<Row> = entries
        .iter()
        .map(|e| {
            let (outer, span) = project.sources.resolve(e.file, &e.span);
            let s = project.sources.get(outer);
            let (line, column) = s.line_col(span.start);
            Row {
                entry: e,
                path: s.path.clone(),
                line,
                column,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.entry.name).cmp(&(&b.path, b.line, b.column, &b.entry.name))
    });
    rows
}

fn num(v: f64) -> String {
    crate::model::thresholds::num(v)
}

/// `obsgate inventory --format text`: one line per metric (name, type, labels, file:line,
/// source; a histogram's buckets when known). Unknown labels are `?`.
pub fn render_text(project: &crate::model::Project, entries: &[Entry]) -> String {
    let rows = rows(project, entries);
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            let e = r.entry;
            let labels = match &e.labels {
                Some(l) => format!("{{{}}}", l.join(",")),
                None => "?".to_string(),
            };
            let mut source = e.source.as_str().to_string();
            if let Some(b) = &e.buckets {
                let b: Vec<String> = b.iter().map(|v| num(*v)).collect();
                source.push_str(&format!("  buckets={}", b.join(",")));
            }
            [
                e.name.clone(),
                e.kind.to_string(),
                labels,
                format!("{}:{}", r.path, r.line),
                source,
            ]
        })
        .collect();
    let mut widths = [0usize; 4];
    for c in &cells {
        for (w, cell) in widths.iter_mut().zip(c.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut s = String::new();
    for c in &cells {
        for (i, cell) in c.iter().enumerate() {
            if i < 4 {
                s.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            } else {
                s.push_str(cell);
            }
        }
        s.push('\n');
    }
    if cells.is_empty() {
        s.push_str("no metrics found (no definitions, scrapes or recording rules)\n");
    }
    s
}

/// `obsgate inventory --format json`: `{"metrics": [{"name", "type", "labels", "buckets",
/// "file", "line", "column", "source"}]}`; `labels` is `null` when unknown, `buckets` unless a
/// histogram with known buckets.
pub fn render_json(project: &crate::model::Project, entries: &[Entry]) -> String {
    #[derive(serde::Serialize)]
    struct Metric<'a> {
        name: &'a str,
        #[serde(rename = "type")]
        kind: &'a str,
        labels: &'a Option<Vec<String>>,
        buckets: &'a Option<Vec<f64>>,
        file: &'a str,
        line: usize,
        column: usize,
        source: Source,
    }
    #[derive(serde::Serialize)]
    struct Inventory<'a> {
        metrics: Vec<Metric<'a>>,
    }
    let rows = rows(project, entries);
    let metrics = rows
        .iter()
        .map(|r| Metric {
            name: &r.entry.name,
            kind: r.entry.kind,
            labels: &r.entry.labels,
            buckets: &r.entry.buckets,
            file: &r.path,
            line: r.line,
            column: r.column,
            source: r.entry.source,
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&Inventory { metrics }).unwrap_or_default();
    s.push('\n');
    s
}
