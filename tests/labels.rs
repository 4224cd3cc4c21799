//! `labels/unbounded` and `alerts/unbounded-label` share one judgement of label names, and one
//! configuration of it (`labels: {unbounded: [...], bounded: [...]}`).

mod common;

fn found(config: Option<&str>, check: &str) -> Vec<String> {
    let root = common::root();
    let outcome = common::run(
        &[
            root.join("fixtures/labels/unbounded/bad.js"),
            root.join("fixtures/alerts/unbounded-label/bad.yml"),
        ],
        config,
    );
    outcome
        .findings
        .iter()
        .filter(|f| f.check == check)
        .filter_map(|f| f.message.to_string().split('`').nth(3).map(str::to_string))
        .collect()
}

#[test]
fn by_meaning_without_config() {
    let labels = found(None, "labels/unbounded");
    for l in [
        "userEmail",
        "RemoteAddr",
        "traceId",
        "user_agent",
        "user_id",
    ] {
        assert!(labels.iter().any(|x| x == l), "{l} in {labels:?}");
    }
    assert!(!labels.iter().any(|x| x == "emailProvider"));
}

#[test]
fn bounded_names_are_accepted_in_any_style() {
    let config = "labels: {bounded: [user_email, remote_addr, customer_email]}";
    let labels = found(Some(config), "labels/unbounded");
    assert!(!labels.iter().any(|x| x == "userEmail" || x == "RemoteAddr"));
    assert!(labels.iter().any(|x| x == "traceId"));
    // the same configuration applies to alert labels
    let copied = |config| {
        common::run(
            &[common::root().join("fixtures/alerts/unbounded-label/bad.yml")],
            config,
        )
        .findings
        .iter()
        .filter(|f| f.message.to_string().contains("$labels.customerEmail"))
        .count()
    };
    assert_eq!(copied(None), 1);
    assert_eq!(copied(Some(config)), 0);
}

#[test]
fn a_configured_list_replaces_the_judgement() {
    let labels = found(
        Some("labels: {unbounded: [email_provider, user_id]}"),
        "labels/unbounded",
    );
    let mut labels = labels;
    labels.sort();
    assert_eq!(labels, ["emailProvider", "user_id"]);
}
