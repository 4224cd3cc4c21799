//! The one list of checks. A test asserts that this list, `rules/` and `fixtures/` agree.

use std::sync::OnceLock;

use super::{Check, Meta};

/// A registered check with its embedded metadata.
pub struct Registered {
    pub check: &'static dyn Check,
    pub meta_src: &'static str,
}

macro_rules! check {
    ($domain:ident / $file:ident : $ty:ident, $meta:literal) => {
        Registered {
            check: &super::$domain::$file::$ty,
            meta_src: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/rules/",
                $meta,
                ".yml"
            )),
        }
    };
}

/// Every check, in catalogue order.
pub static REGISTRY: &[Registered] = &[
    check!(rules / syntax: Syntax, "rules/syntax"),
    check!(rules / promql_syntax: PromqlSyntax, "rules/promql-syntax"),
    check!(rules / duplicate: Duplicate, "rules/duplicate"),
    check!(rules / conflicting_record: ConflictingRecord, "rules/conflicting-record"),
    check!(alerts / missing_runbook: MissingRunbook, "alerts/missing-runbook"),
    check!(alerts / invalid_runbook: InvalidRunbook, "alerts/invalid-runbook"),
    check!(alerts / missing_annotation: MissingAnnotation, "alerts/missing-annotation"),
    check!(alerts / template: Template, "alerts/template"),
    check!(alerts / unbounded_label: UnboundedLabel, "alerts/unbounded-label"),
    check!(alerts / missing_for: MissingFor, "alerts/missing-for"),
    check!(alerts / no_condition: NoCondition, "alerts/no-condition"),
    check!(promql / histogram_quantile: HistogramQuantile, "promql/histogram-quantile"),
    check!(promql / rate_on_gauge: RateOnGauge, "promql/rate-on-gauge"),
    check!(promql / range_too_short: RangeTooShort, "promql/range-too-short"),
    check!(promql / summary_label_on_histogram: SummaryLabelOnHistogram, "promql/summary-label-on-histogram"),
    check!(labels / unbounded: Unbounded, "labels/unbounded"),
    check!(metrics / exposition: Exposition, "metrics/exposition"),
    check!(metrics / naming: Naming, "metrics/naming"),
    check!(metrics / missing: Missing, "metrics/missing"),
    check!(metrics / label_missing: LabelMissing, "metrics/label-missing"),
    check!(metrics / conflicting_definition: ConflictingDefinition, "metrics/conflicting-definition"),
    check!(metrics / unreadable_definition: UnreadableDefinition, "metrics/unreadable-definition"),
    check!(alertmanager / syntax: Syntax, "alertmanager/syntax"),
    check!(alertmanager / deprecated_matcher: DeprecatedMatcher, "alertmanager/deprecated-matcher"),
    check!(alertmanager / unreachable_route: UnreachableRoute, "alertmanager/unreachable-route"),
    check!(alertmanager / unrouted_alert: UnroutedAlert, "alertmanager/unrouted-alert"),
    check!(alertmanager / dead_inhibition: DeadInhibition, "alertmanager/dead-inhibition"),
    check!(alertmanager / circular_inhibition: CircularInhibition, "alertmanager/circular-inhibition"),
    check!(alertmanager / unknown_group_label: UnknownGroupLabel, "alertmanager/unknown-group-label"),
    check!(alertmanager / unused_receiver: UnusedReceiver, "alertmanager/unused-receiver"),
    check!(alertmanager / empty_receiver: EmptyReceiver, "alertmanager/empty-receiver"),
    check!(alertmanager / useless_continue: UselessContinue, "alertmanager/useless-continue"),
    check!(alertmanager / routing_test: RoutingTest, "alertmanager/routing-test"),
    check!(alertmanager / template: Template, "alertmanager/template"),
    check!(alertmanager / timing: Timing, "alertmanager/timing"),
    check!(pipeline / syntax: Syntax, "pipeline/syntax"),
    check!(pipeline / check_cannot_fail: CheckCannotFail, "pipeline/check-cannot-fail"),
    check!(pipeline / sleep_wait: SleepWait, "pipeline/sleep-wait"),
    check!(thresholds / mismatch: Mismatch, "thresholds/mismatch"),
    check!(thresholds / unenforced: Unenforced, "thresholds/unenforced"),
    check!(thresholds / ratio_vs_rate: RatioVsRate, "thresholds/ratio-vs-rate"),
    check!(thresholds / bucket_boundary: BucketBoundary, "thresholds/bucket-boundary"),
    check!(thresholds / breached: Breached, "thresholds/breached"),
    check!(probe / unreachable: Unreachable, "probe/unreachable"),
    check!(probe / health: Health, "probe/health"),
    check!(artifacts / drift: Drift, "artifacts/drift"),
    check!(secrets / inline: Inline, "secrets/inline"),
    check!(secrets / known_format: KnownFormat, "secrets/known-format"),
    check!(secrets / placeholder: Placeholder, "secrets/placeholder"),
    check!(obsgate / templated_file: TemplatedFile, "obsgate/templated-file"),
    check!(obsgate / unreadable_file: UnreadableFile, "obsgate/unreadable-file"),
    check!(obsgate / unused_suppression: UnusedSuppression, "obsgate/unused-suppression"),
];

/// Parsed metadata of every check, in registry order (panics only if an embedded file is broken,
/// which the registry test catches).
pub fn metas() -> &'static [Meta] {
    static METAS: OnceLock<Vec<Meta>> = OnceLock::new();
    METAS.get_or_init(|| {
        REGISTRY
            .iter()
            .map(|r| {
                Meta::parse(r.meta_src).unwrap_or_else(|e| {
                    panic!("embedded metadata of {} does not parse: {e}", r.check.id())
                })
            })
            .collect()
    })
}

pub fn meta(id: &str) -> Option<&'static Meta> {
    metas().iter().find(|m| m.id == id)
}

pub fn ids() -> impl Iterator<Item = &'static str> {
    REGISTRY.iter().map(|r| r.check.id())
}
