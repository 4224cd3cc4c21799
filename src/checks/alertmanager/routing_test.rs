//! `alertmanager/routing-test`: the routing tests of `.obsgate.yml` (`alertmanager: {tests:
//! [...]}`) that fail for an Alertmanager config of the run: an alert that does not reach the
//! receivers the team expects, is grouped differently, is (not) inhibited or (not) muted. A test
//! runs against every config with a route, or those its `config:` glob names. See
//! [`crate::routetest`] for the semantics.

use crate::checks::{Check, Ctx, Finding};

pub struct RoutingTest;

impl Check for RoutingTest {
    fn id(&self) -> &'static str {
        "alertmanager/routing-test"
    }

    fn run(&self, cx: &Ctx) -> Vec<Finding> {
        let mut out = Vec::new();
        let Some(source) = cx.project.config_source else {
            return out;
        };
        if cx.config.routing_tests.is_empty() {
            return out;
        }
        for am in cx.project.alertmanager_configs() {
            let Some(loaded) = crate::routes::Loaded::of(cx.project, am) else {
                continue;
            };
            let (outer, _) = cx.sources.resolve(am.file, &(0..0));
            let shown = &cx.sources.get(outer).path;
            // an `AlertmanagerConfig` resource is part of an Alertmanager's config, not one
            // (unless it is an Alertmanager's global config): tested only when a test names it
            let resource = cx.project.operator_merges().is_part(am.index);
            for (t, span) in &cx.config.routing_tests {
                if resource && t.config.is_none() {
                    continue;
                }
                if let Some(glob) = &t.config {
                    let matches = globset::Glob::new(glob)
                        .map(|g| g.compile_matcher().is_match(shown))
                        .unwrap_or(false);
                    if !matches {
                        continue;
                    }
                }
                let o = crate::routetest::run(t, &loaded.target());
                if o.passed {
                    continue;
                }
                out.push(
                    Finding::new(
                        self.id(),
                        source,
                        span.clone(),
                        format!(
                            "routing test `{}` fails for `{shown}`: {}; the alert is not handled as the team expects",
                            t.name,
                            o.failures.join("; ")
                        ),
                    )
                    .label("failing routing test")
                    .help("fix the routing tree (or the test, if the routing is right); `obsgate routes test --config CONFIG ALERT_LABELS --tree` shows the path an alert takes")
                    .also(am.file, am.config.route.as_ref().map_or(0..0, |r| r.head.clone()), "routing tree")
                    .ctx("test", t.name.clone()),
                );
            }
        }
        out
    }
}
