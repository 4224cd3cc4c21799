//! `AlertmanagerConfig` resources merged into the config of the `Alertmanager` that selects
//! them, checked against the operator's own expected output: each case of
//! `tests/data/operator/` holds the inputs of one of prometheus-operator's config-generation
//! tests (`pkg/alertmanager/amcfg_test.go`) as manifests (the `Alertmanager`, the Secret with
//! the base config, the resources) and, in `expected.yml`, the config the operator generates
//! for them (its golden file). obsgate's merged routing tree, receivers and inhibit rules must
//! be the generated config's; and every alert routes as amtool routes it in that config.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use obsgate::model::routing::{self, RouteNode};
use obsgate::model::{AmRef, Project};

fn load(paths: &[PathBuf]) -> Project {
    obsgate::engine::load(
        paths,
        &common::root(),
        &obsgate::source::discover::Filter::default(),
    )
    .unwrap()
}

fn cases() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(common::root().join("tests/data/operator"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

/// The manifests of a case, and the config its base Secret holds (by its source path).
fn merged(case: &Path) -> Project {
    load(&["alertmanager.yaml", "secret.yaml", "configs.yaml"].map(|f| case.join(f)))
}

fn base<'a>(p: &'a Project) -> AmRef<'a> {
    p.alertmanager_configs()
        .find(|a| p.sources.get(a.file).path.contains("secret.yaml#"))
        .expect("the Secret's config")
}

/// Every route in pre-order: depth, receiver, matchers, continue, group_by.
fn shape(node: &RouteNode, depth: usize, out: &mut Vec<String>) {
    let ms: Vec<String> = node.matchers.iter().map(|m| m.to_string()).collect();
    out.push(format!(
        "{depth} {} {{{}}} continue={} group_by={:?}",
        node.receiver.clone().unwrap_or_default(),
        ms.join(","),
        node.continue_,
        node.group_by
    ));
    for c in &node.children {
        shape(c, depth + 1, out);
    }
}

fn inhibits(is: &[routing::Inhibit]) -> Vec<String> {
    is.iter()
        .map(|i| {
            let side = |ms: &[routing::LabelMatcher]| {
                ms.iter()
                    .map(|m| m.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            format!(
                "{} -> {} equal {:?}",
                side(&i.source),
                side(&i.target),
                i.equal
            )
        })
        .collect()
}

#[test]
fn merged_configs_are_the_operators() {
    let all = cases();
    assert!(all.len() >= 6, "{all:?}");
    for case in all {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let project = merged(&case);
        let am = base(&project);
        let mut ours = Vec::new();
        shape(project.route_tree(&am).unwrap(), 0, &mut ours);
        let expected = load(&[case.join("expected.yml")]);
        let want_am = expected.alertmanager_configs().next().unwrap();
        let mut want = Vec::new();
        shape(expected.route_tree(&want_am).unwrap(), 0, &mut want);
        assert_eq!(ours, want, "{name}: routing tree");
        let names = |v: Vec<&obsgate::parse::alertmanager::Receiver>| -> Vec<String> {
            v.iter().map(|r| r.name.value.to_string()).collect()
        };
        assert_eq!(
            names(project.receivers(&am)),
            names(expected.receivers(&want_am)),
            "{name}: receivers"
        );
        assert_eq!(
            inhibits(&project.inhibits(&am)),
            inhibits(&expected.inhibits(&want_am)),
            "{name}: inhibit rules"
        );
    }
}

/// Alerts of every namespace of the cases route through the merged tree as amtool routes them
/// through the operator's generated config.
#[test]
fn merged_routing_agrees_with_amtool_on_the_generated_config() {
    if !common::amtool() {
        return;
    }
    for case in cases() {
        let project = merged(&case);
        let am = base(&project);
        let tree = project.route_tree(&am).unwrap();
        let eff = routing::effective(tree);
        for ns in ["ns1", "ns2", "mynamespace", "alertmanager-namespace"] {
            for job in ["foo", "bar"] {
                for alertname in ["Watchdog", "NodeDown"] {
                    let labels: std::collections::BTreeMap<String, String> =
                        [("namespace", ns), ("job", job), ("alertname", alertname)]
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect();
                    let ours: Vec<String> = routing::route_concrete(tree, &labels)
                        .iter()
                        .map(|&k| eff[k].receiver.clone().unwrap_or_default())
                        .collect();
                    let out = Command::new("amtool")
                        .args(["config", "routes", "test", "--config.file"])
                        .arg(case.join("expected.yml"))
                        .args(labels.iter().map(|(k, v)| format!("{k}={v}")))
                        .output()
                        .unwrap();
                    let amtool = String::from_utf8_lossy(&out.stdout).trim().to_string();
                    assert_eq!(ours.join(","), amtool, "{}: {labels:?}", case.display());
                }
            }
        }
    }
}

/// What decides the merge: the selectors, the namespaces, and what is not known.
#[test]
fn only_what_the_alertmanager_selects_is_merged() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("operator-select");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let case = common::root().join("tests/data/operator/multiple");
    std::fs::copy(case.join("secret.yaml"), dir.join("secret.yaml")).unwrap();
    let resource = |name: &str, ns: Option<&str>, labels: &str| {
        format!(
            "---\napiVersion: monitoring.coreos.com/v1beta1\nkind: AlertmanagerConfig\nmetadata:\n  name: {name}\n{}  labels: {labels}\nspec:\n  route: {{receiver: r}}\n  receivers: [{{name: r}}]\n",
            ns.map(|n| format!("  namespace: {n}\n")).unwrap_or_default()
        )
    };
    let configs = [
        resource(
            "selected",
            Some("alertmanager-namespace"),
            "{alertmanager: main}",
        ),
        resource(
            "other-label",
            Some("alertmanager-namespace"),
            "{alertmanager: other}",
        ),
        resource("other-namespace", Some("team-a"), "{alertmanager: main}"),
        resource("no-namespace", None, "{alertmanager: main}"),
    ]
    .concat();
    std::fs::write(dir.join("configs.yaml"), configs).unwrap();
    let merged_keys = |am_spec: &str| -> Vec<String> {
        std::fs::write(
            dir.join("alertmanager.yaml"),
            format!("apiVersion: monitoring.coreos.com/v1\nkind: Alertmanager\nmetadata: {{name: main, namespace: alertmanager-namespace}}\nspec:\n{am_spec}"),
        )
        .unwrap();
        let p = merged(&dir);
        let am = base(&p);
        p.operator_merges().parts[am.index]
            .iter()
            .map(|x| x.key.clone())
            .collect()
    };
    // the label selector; no namespace selector: the Alertmanager's own namespace
    assert_eq!(
        merged_keys("  alertmanagerConfigSelector: {matchLabels: {alertmanager: main}}\n"),
        ["alertmanager-namespace/selected"]
    );
    // every namespace; a resource whose namespace is not written is left out
    assert_eq!(
        merged_keys("  alertmanagerConfigSelector: {matchLabels: {alertmanager: main}}\n  alertmanagerConfigNamespaceSelector: {}\n"),
        ["alertmanager-namespace/selected", "team-a/other-namespace"]
    );
    // namespaces selected by their labels: which ones is not in the manifests
    assert!(merged_keys("  alertmanagerConfigSelector: {}\n  alertmanagerConfigNamespaceSelector: {matchLabels: {x: y}}\n").is_empty());
    // no selector: the operator merges nothing
    assert!(merged_keys("  replicas: 1\n").is_empty());
    // a global AlertmanagerConfig as the base: not merged here
    assert!(merged_keys(
        "  alertmanagerConfigSelector: {}\n  alertmanagerConfiguration: {name: global}\n"
    )
    .is_empty());
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const GOOD: &str = "fixtures/alertmanager/unrouted-alert/good-operator";

/// A scratch directory with these files of the good fixture.
fn scratch_with(name: &str, files: &[&str]) -> PathBuf {
    let dir = scratch(name);
    for f in files {
        std::fs::copy(common::root().join(GOOD).join(f), dir.join(f)).unwrap();
    }
    dir
}

/// Routing tests in `.obsgate.yml` see the resources merged in; they do not run against a
/// resource on its own.
#[test]
fn routing_tests_in_check_see_the_merged_config() {
    let dir = scratch_with(
        "operator-check",
        &[
            "alertmanager.yaml",
            "alertmanager-secret.yaml",
            "payments.yaml",
        ],
    );
    let config = |receivers: &str| {
        format!("alertmanager:\n  tests:\n    - name: payments pages its team\n      alert: {{alertname: PaymentsDown, namespace: payments, severity: critical}}\n      receivers: {receivers}\n")
    };
    std::fs::write(
        dir.join(".obsgate.yml"),
        config("[payments/payments/pager]"),
    )
    .unwrap();
    let (code, out, err) = common::obsgate_in(&dir, &["check", ".", "--format", "concise"]);
    assert_eq!(code, 0, "{out}{err}");
    std::fs::write(dir.join(".obsgate.yml"), config("[ops-email]")).unwrap();
    let (code, out, _) = common::obsgate_in(&dir, &["check", ".", "--format", "concise"]);
    assert_eq!(code, 1);
    let failing: Vec<&str> = out.lines().filter(|l| l.contains("routing-test")).collect();
    assert_eq!(failing.len(), 1, "{out}");
    assert!(
        failing[0].contains("expected [ops-email], got [payments/payments/pager]"),
        "{out}"
    );
}

/// Without an `Alertmanager` resource in the run, `.obsgate.yml` names the base config and the
/// matcher strategy.
#[test]
fn obsgate_yml_names_the_base_config_and_the_strategy() {
    let dir = scratch_with(
        "operator-settings",
        &["alertmanager-secret.yaml", "payments.yaml"],
    );
    let run = |operator: &str| {
        std::fs::write(
            dir.join(".obsgate.yml"),
            format!("alertmanager:\n  operator: {operator}\n  tests:\n    - name: a shop alert\n      alert: {{alertname: ShopDown, namespace: shop}}\n      receivers: [ops-email]\n"),
        )
        .unwrap();
        let (code, out, err) = common::obsgate_in(&dir, &["check", ".", "--format", "concise"]);
        (code, format!("{out}{err}"))
    };
    // not declared: the resource is audited on its own, the base config alone routes the alert
    assert_eq!(run("{}").0, 0);
    assert_eq!(run("{base_config: alertmanager-secret.yaml}").0, 0);
    // no namespace matcher: the payments route takes every namespace's alerts first
    let (code, out) = run("{base_config: alertmanager-secret.yaml, matcher_strategy: None}");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("expected [ops-email], got [payments/payments/pager]"),
        "{out}"
    );
    // the strategy that needs the Alertmanager's namespace, without it: refused
    let (code, out) = run("{matcher_strategy: OnNamespaceExceptForAlertmanagerNamespace}");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("needs `alertmanager_namespace`"), "{out}");
}

/// `routes test --operator`: the resources merged into `--config`.
#[test]
fn routes_test_takes_the_resources() {
    let dir = common::root().join(GOOD);
    let args = [
        "routes",
        "test",
        "--config",
        "alertmanager-secret.yaml",
        "alertname=PaymentsDown",
        "namespace=payments",
    ];
    let (code, out, _) = common::obsgate_in(&dir, &args);
    assert_eq!((code, out.trim()), (0, "ops-email"));
    let mut with = args.to_vec();
    with.extend(["--operator", "alertmanager.yaml", "payments.yaml"]);
    let (code, out, err) = common::obsgate_in(&dir, &with);
    assert_eq!((code, out.trim()), (0, "payments/payments/pager"), "{err}");
}

/// kube-prometheus-stack values: the chart's `Alertmanager` takes every resource of every
/// namespace unless the values' selectors say otherwise.
#[test]
fn chart_values_merge_resources_by_their_selectors() {
    let dir = scratch_with("operator-values", &["payments.yaml"]);
    let keys = |spec: &str| -> Vec<String> {
        std::fs::write(
            dir.join("values.yaml"),
            format!("grafana:\n  enabled: false\nalertmanager:\n  config:\n    route: {{receiver: ops}}\n    receivers: [{{name: ops}}]\n{spec}"),
        )
        .unwrap();
        let p = load(std::slice::from_ref(&dir));
        let am = p
            .alertmanager_configs()
            .find(|a| p.sources.get(a.file).path.contains("values.yaml#"))
            .unwrap();
        p.operator_merges().parts[am.index]
            .iter()
            .map(|x| x.key.clone())
            .collect()
    };
    assert_eq!(keys(""), ["payments/payments"]);
    assert_eq!(
        keys("  alertmanagerSpec:\n    alertmanagerConfigSelector: {matchLabels: {alertmanager: main}}\n"),
        ["payments/payments"]
    );
    assert!(keys(
        "  alertmanagerSpec:\n    alertmanagerConfigSelector: {matchLabels: {team: x}}\n"
    )
    .is_empty());
    // `null`: the release's own namespace, which the values do not name
    assert!(
        keys("  alertmanagerSpec:\n    alertmanagerConfigNamespaceSelector: null\n").is_empty()
    );
}

/// A global `AlertmanagerConfig` (`spec.alertmanagerConfiguration`) is the base: its route is
/// the root route (no namespace matcher), and the selected resources go first under it. Read
/// from the operator's own user-guide example, with a team's resource added; routed as amtool
/// routes the config the operator generates (`initializeFromAlertmanagerConfig`, then
/// `AddAlertmanagerConfigs`).
#[test]
fn a_global_config_is_the_root() {
    let Some(shared) = common::shared() else {
        assert!(std::env::var("CI").is_err(), "../shared is missing");
        eprintln!("SKIP: ../shared is missing");
        return;
    };
    let example = shared.join(
        "corpus/realworld/rules/prometheus-operator+prometheus-operator/example/user-guides/alerting",
    );
    let dir = scratch("operator-global");
    std::fs::copy(
        example.join("alertmanager-config-example.yaml"),
        dir.join("global.yaml"),
    )
    .unwrap();
    // the example's Alertmanager, selecting every resource of its namespace
    let am = std::fs::read_to_string(
        example.join("alertmanager-example-alertmanager-configuration.yaml"),
    )
    .unwrap();
    std::fs::write(
        dir.join("alertmanager.yaml"),
        am + "  alertmanagerConfigSelector: {}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("team.yaml"),
        "apiVersion: monitoring.coreos.com/v1alpha1\nkind: AlertmanagerConfig\nmetadata: {name: team, namespace: default}\nspec:\n  route:\n    receiver: pager\n    routes:\n      - matchers: [{name: severity, value: info}]\n        receiver: chat\n  receivers: [{name: pager}, {name: chat}]\n",
    )
    .unwrap();
    let generated = dir.join("generated.yml");
    std::fs::write(
        &generated,
        "route:\n  receiver: default/config-example/webhook\n  group_by: [job]\n  group_wait: 30s\n  group_interval: 5m\n  repeat_interval: 12h\n  routes:\n    - receiver: default/team/pager\n      matchers: ['namespace=\"default\"']\n      continue: true\n      routes:\n        - receiver: default/team/chat\n          matchers: ['severity=\"info\"']\nreceivers:\n  - name: default/config-example/webhook\n    webhook_configs: [{url: 'http://example.com/'}]\n  - name: default/team/pager\n  - name: default/team/chat\n",
    )
    .unwrap();
    let project = load(&["global.yaml", "alertmanager.yaml", "team.yaml"].map(|f| dir.join(f)));
    let am = project
        .alertmanager_configs()
        .find(|a| project.sources.get(a.file).path.contains("global.yaml#"))
        .unwrap();
    assert_eq!(project.grafted_under(&am), 1);
    let tree = project.route_tree(&am).unwrap();
    let eff = routing::effective(tree);
    let names: Vec<String> = project
        .receivers(&am)
        .iter()
        .map(|r| r.name.value.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "default/config-example/webhook",
            "default/team/pager",
            "default/team/chat"
        ]
    );
    let amtool = common::amtool();
    for ns in ["default", "other"] {
        for severity in ["info", "critical"] {
            let labels: std::collections::BTreeMap<String, String> = [
                ("namespace", ns),
                ("severity", severity),
                ("alertname", "X"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            let hits = routing::route_concrete(tree, &labels);
            let ours: Vec<String> = hits
                .iter()
                .map(|&k| eff[k].receiver.clone().unwrap_or_default())
                .collect();
            // the root's settings reach every route that does not set its own
            assert!(hits
                .iter()
                .all(|&k| eff[k].group_by.as_deref() == Some(&["job".to_string()][..])));
            if !amtool {
                continue;
            }
            let out = Command::new("amtool")
                .args(["config", "routes", "test", "--config.file"])
                .arg(&generated)
                .args(labels.iter().map(|(k, v)| format!("{k}={v}")))
                .output()
                .unwrap();
            let want = String::from_utf8_lossy(&out.stdout).trim().to_string();
            assert_eq!(ours.join(","), want, "{labels:?}");
        }
    }
}

/// `routes diff --operator`: both versions with the resources merged in.
#[test]
fn routes_diff_takes_the_resources() {
    let dir = scratch_with(
        "operator-diff",
        &[
            "alertmanager.yaml",
            "alertmanager-secret.yaml",
            "payments.yaml",
            "rules.yaml",
        ],
    );
    // the new version also sends critical alerts to the ops mailbox
    let old = std::fs::read_to_string(dir.join("alertmanager-secret.yaml")).unwrap();
    let new = old.replace(
        "          receiver: \"null\"\n",
        "          receiver: \"null\"\n        - matchers: [severity=\"critical\"]\n          receiver: ops-email\n",
    );
    assert_ne!(old, new);
    std::fs::write(
        dir.join("new.yaml"),
        new.replace("alertmanager-main", "alertmanager-new"),
    )
    .unwrap();
    let args = [
        "routes",
        "diff",
        "--config",
        "alertmanager-secret.yaml",
        "new.yaml",
        "--rules",
        "rules.yaml",
    ];
    // alone, the base config already sends `PaymentsDown` to the mailbox: nothing changes
    let (code, out, err) = common::obsgate_in(&dir, &args);
    assert_eq!(code, 0, "{out}{err}");
    let mut with = args.to_vec();
    with.extend(["--operator", "payments.yaml"]);
    let (code, out, err) = common::obsgate_in(&dir, &with);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("PaymentsDown"), "{out}");
    assert!(out.contains("payments/payments/pager, ops-email"), "{out}");
}

/// `routes test --operator` with the `Alertmanager` resource: what it does not select stays out.
#[test]
fn routes_test_follows_the_alertmanagers_selector() {
    let dir = common::root().join("fixtures/alertmanager/unrouted-alert/bad-operator");
    let (code, out, err) = common::obsgate_in(
        &dir,
        &[
            "routes",
            "test",
            "--config",
            "alertmanager-secret.yaml",
            "alertname=PaymentsDown",
            "namespace=payments",
            "--operator",
            "alertmanager.yaml",
            "payments.yaml",
        ],
    );
    assert_eq!((code, out.trim()), (0, "ops-email"), "{err}");
}
