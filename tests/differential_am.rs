//! Differential test against `amtool check-config`: obsgate's Alertmanager parser
//! (`alertmanager/syntax` error issues) must agree with amtool on whether each Alertmanager
//! config of `../shared/corpus/alertmanager` (and the config inside kube-prometheus'
//! `alertmanager-secret.yaml`) loads. The Debian amtool is 0.25; obsgate follows current
//! Alertmanager, whose own tests (`config/config_test.go`) say which `conf.*` files must load.
//! Every disagreement must be listed in `KNOWN_DIFFERENCES` with its reason, and every listed
//! difference must still be observed.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use obsgate::model::FileKind;

/// Files where obsgate (current Alertmanager) and amtool 0.25 legitimately disagree:
/// (path under the corpus, obsgate's verdict "valid"/"invalid", reason).
const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[
    (
        "alertmanager/cli/testdata/conf.bad.yml",
        "valid",
        "the file is the bare scalar `BAD`: obsgate recognises inputs by content, so it is not an \
         Alertmanager config to obsgate and nothing is reported (amtool is told it is one)",
    ),
    (
        "alertmanager/config/testdata/conf.mattermost-default-webhook-url-file.yml",
        "valid",
        "mattermost_configs and global mattermost_webhook_url_file are newer than amtool 0.25; \
         upstream TestMattermostDefaultWebhookURLFile loads it",
    ),
    (
        "alertmanager/config/testdata/conf.mattermost-default-webhook-url.yml",
        "valid",
        "mattermost_configs and global mattermost_webhook_url are newer than amtool 0.25; \
         upstream TestMattermostDefaultWebhookURL loads it",
    ),
    (
        "alertmanager/config/testdata/conf.rocketchat-default-token-file.yml",
        "valid",
        "global rocketchat_token_file/rocketchat_token_id_file are newer than amtool 0.25; \
         upstream TestRocketchatDefaultTokenFile loads it",
    ),
    (
        "alertmanager/config/testdata/conf.rocketchat-default-token.yml",
        "valid",
        "rocketchat_configs and global rocketchat_token are newer than amtool 0.25; upstream \
         TestRocketchatDefaultToken loads it",
    ),
    (
        "alertmanager/config/testdata/conf.slack-default-app-token.yml",
        "valid",
        "slack_app_token/app_token/app_url are newer than amtool 0.25; upstream \
         TestSlackGlobalAppToken loads it",
    ),
    (
        "alertmanager/config/testdata/conf.smtp-password-global-and-local.yml",
        "valid",
        "smtp_auth_secret_file/auth_secret_file are newer than amtool 0.25; upstream \
         TestGlobalAndLocalSMTPPassword loads it",
    ),
    (
        "alertmanager/config/testdata/conf.telegram-default-bot-token-file.yml",
        "valid",
        "global telegram_bot_token_file is newer than amtool 0.25 (which then misses the bot \
         token); upstream TestTelegramDefaultBotTokenFile loads it",
    ),
    (
        "alertmanager/config/testdata/conf.telegram-default-bot-token.yml",
        "valid",
        "global telegram_bot_token is newer than amtool 0.25 (which then misses the bot token); \
         upstream TestTelegramDefaultBotToken loads it",
    ),
    (
        "alertmanager/config/testdata/conf.wechat-default-api-secret-file.yml",
        "valid",
        "wechat_api_secret_file/api_secret_file are newer than amtool 0.25; upstream \
         TestWechatDefaultAPISecretFile loads it",
    ),
    (
        "alertmanager/doc/examples/route_labels.yml",
        "valid",
        "route `labels:` is newer than amtool 0.25; the corpus documents it as a current feature",
    ),
    (
        "alertmanager/doc/examples/simple.yml",
        "valid",
        "the top-level `tracing:` block is newer than amtool 0.25",
    ),
];

const SYNTAX: &str = "alertmanager/syntax";

fn amtool() -> Option<PathBuf> {
    let out = Command::new("amtool").arg("--version").output().ok()?;
    out.status.success().then(|| PathBuf::from("amtool"))
}

fn amtool_valid(tool: &Path, file: &Path) -> bool {
    Command::new(tool)
        .arg("check-config")
        .arg(file)
        .output()
        .expect("run amtool")
        .status
        .success()
}

/// The `stringData` file of a Kubernetes Secret, unindented (what amtool can read).
fn secret_to_plain(text: &str, key: &str) -> Option<String> {
    let mut out = String::new();
    let mut indent = None;
    let mut inside = false;
    for line in text.lines() {
        if !inside {
            if line.trim_start().starts_with(&format!("{key}:")) {
                inside = true;
            }
            continue;
        }
        if !line.trim().is_empty() {
            let ind = line.len() - line.trim_start().len();
            let base = *indent.get_or_insert(ind);
            if ind < base {
                break;
            }
            out.push_str(&line[base..]);
        }
        out.push('\n');
    }
    (!out.is_empty()).then_some(out)
}

fn skip_or_fail() -> Option<PathBuf> {
    match amtool() {
        Some(t) => Some(t),
        None => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("amtool is not installed; .ci/run must install Debian's `prometheus-alertmanager` package");
            }
            eprintln!("SKIP: amtool not found on PATH (apt-get install prometheus-alertmanager)");
            None
        }
    }
}

#[test]
fn agrees_with_amtool_on_corpus() {
    let Some(shared) = common::shared() else {
        eprintln!("SKIP: ../shared/corpus not found beside the repository");
        return;
    };
    let Some(tool) = skip_or_fail() else { return };
    let corpus = shared.join("corpus");
    let secret = corpus.join("kube-prometheus/manifests/alertmanager-secret.yaml");
    let outcome = common::run(&[corpus.join("alertmanager"), secret.clone()], None);
    let tmp = std::env::temp_dir().join(format!("obsgate-amdiff-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();

    let mut total = 0;
    let mut differences: Vec<(String, bool, bool, Vec<String>)> = Vec::new();
    let mut compare = |rel: String, ours: bool, target: &Path, messages: Vec<String>| {
        total += 1;
        let theirs = amtool_valid(&tool, target);
        if ours != theirs {
            differences.push((rel, ours, theirs, messages));
        }
    };
    for s in outcome.project.sources.iter() {
        let rel = s
            .path
            .split("corpus/")
            .nth(1)
            .unwrap_or(&s.path)
            .to_string();
        // the config files of the Alertmanager repository: YAML outside .github/
        let am_file = rel.starts_with("alertmanager/")
            && !rel.contains("/.github/")
            && rel.ends_with(".yml")
            && s.origin.is_none();
        let embedded = s.origin.is_some() && rel.contains("alertmanager-secret.yaml");
        if !am_file && !embedded {
            continue;
        }
        let Some(fm) = outcome.project.files.iter().find(|f| f.file == s.id) else {
            continue;
        };
        let errors: Vec<String> = fm
            .issues
            .iter()
            .filter(|i| i.check == SYNTAX && !i.downgrade)
            .map(|i| i.message.clone())
            .collect();
        let ours = errors.is_empty();
        if embedded {
            let plain = secret_to_plain(
                &std::fs::read_to_string(&secret).unwrap(),
                "alertmanager.yaml",
            )
            .expect("stringData.alertmanager.yaml in the secret");
            let p = tmp.join("alertmanager-secret.yml");
            std::fs::write(&p, plain).unwrap();
            assert_eq!(fm.kind, FileKind::Alertmanager);
            compare(rel, ours, &p, errors);
        } else {
            compare(rel, ours, &s.fs_path, errors);
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);

    let agreement = 1.0 - differences.len() as f64 / total.max(1) as f64;
    eprintln!(
        "amtool agreement: {}/{} configs ({:.1}%), {} known differences",
        total - differences.len(),
        total,
        agreement * 100.0,
        KNOWN_DIFFERENCES.len()
    );
    for (p, ours, theirs, messages) in &differences {
        eprintln!("  {p}: obsgate valid={ours}, amtool valid={theirs}; {messages:?}");
    }
    assert!(
        total >= 50,
        "too few Alertmanager configs compared: {total}"
    );
    let unexplained: Vec<_> = differences
        .iter()
        .filter(|(p, ours, ..)| {
            !KNOWN_DIFFERENCES
                .iter()
                .any(|(k, v, _)| k == p && (*v == "valid") == *ours)
        })
        .collect();
    assert!(
        unexplained.is_empty(),
        "unexplained differences: {unexplained:#?}"
    );
    for (k, _, why) in KNOWN_DIFFERENCES {
        assert!(
            differences.iter().any(|(p, ..)| p == k),
            "known difference no longer observed: {k} ({why})"
        );
    }
}

/// Upstream's expectations (config_test.go) for the corpus' `conf.*` files that amtool 0.25
/// cannot judge: each must fail in obsgate with the upstream reason, or load.
#[test]
fn follows_upstream_expectations() {
    let Some(shared) = common::shared() else {
        eprintln!("SKIP: ../shared/corpus not found beside the repository");
        return;
    };
    let dir = shared.join("corpus/alertmanager/config/testdata");
    // (file, Some(substring of the expected error) or None for "loads")
    let cases: &[(&str, Option<&str>)] = &[
        ("conf.good.yml", None),
        ("conf.empty-fields.yml", None),
        ("conf.group-by-all.yml", None),
        ("conf.http-config.good.yml", None),
        ("conf.sns-topic-arn.yml", None),
        ("conf.smtp-no-username-or-password.yml", None),
        ("conf.smtp-password-global-and-local.yml", None),
        ("conf.slack-default-app-token.yml", None),
        ("conf.slack-default-api-url-file.yml", None),
        ("conf.telegram-default-bot-token.yml", None),
        ("conf.telegram-default-bot-token-file.yml", None),
        ("conf.rocketchat-default-token.yml", None),
        ("conf.rocketchat-default-token-file.yml", None),
        ("conf.mattermost-default-webhook-url.yml", None),
        ("conf.mattermost-default-webhook-url-file.yml", None),
        ("conf.wechat-default-api-secret-file.yml", None),
        ("conf.opsgenie-default-apikey.yml", None),
        ("conf.opsgenie-default-apikey-file.yml", None),
        ("conf.victorops-default-apikey.yml", None),
        ("conf.victorops-default-apikey-file.yml", None),
        ("conf.smtp-both-password-and-file.yml", Some("at most one of smtp_auth_password & smtp_auth_password_file")),
        ("conf.slack-both-file-and-url.yml", Some("at most one of slack_api_url & slack_api_url_file")),
        ("conf.slack-both-file-and-token.yml", Some("at most one of slack_app_token & slack_app_token_file")),
        ("conf.slack-both-url-and-token.yml", Some("at most one of slack_app_token/slack_app_token_file & slack_api_url/slack_api_url_file")),
        ("conf.slack-no-api-url-or-token.yml", Some("no Slack API URL nor app token")),
        ("conf.slack-update-message-and-webhook.yml", Some("can only be used with bot tokens")),
        ("conf.opsgenie-both-file-and-apikey.yml", Some("at most one of opsgenie_api_key & opsgenie_api_key_file")),
        ("conf.opsgenie-no-apikey.yml", Some("no OpsGenie API key")),
        ("conf.opsgenie-default-apikey-old-team.yml", Some("unknown field `teams`")),
        ("conf.victorops-both-file-and-apikey.yml", Some("at most one of victorops_api_key & victorops_api_key_file")),
        ("conf.victorops-no-apikey.yml", Some("no VictorOps API key")),
        ("conf.telegram-both-bot-token-and-file.yml", Some("at most one of telegram_bot_token & telegram_bot_token_file")),
        ("conf.telegram-valid-receiver-both-bot-token-and-file.yml", Some("at most one of telegram_bot_token & telegram_bot_token_file")),
        ("conf.telegram-no-bot-token.yml", Some("missing bot_token or bot_token_file on telegram_config")),
        ("conf.rocketchat-both-token-and-tokenfile.yml", Some("at most one of rocketchat_token & rocketchat_token_file")),
        ("conf.rocketchat-both-tokenid-and-tokenidfile.yml", Some("at most one of rocketchat_token_id & rocketchat_token_id_file")),
        ("conf.rocketchat-no-token.yml", Some("no Rocket.Chat token")),
        ("conf.wechat-both-file-and-secret.yml", Some("at most one of wechat_api_secret & wechat_api_secret_file")),
        ("conf.wechat-no-api-secret.yml", Some("no WeChat API secret")),
        ("conf.mattermost-both-webhook-url-and-file.yml", Some("at most one of mattermost_webhook_url & mattermost_webhook_url_file")),
        ("conf.mattermost-valid-receiver-both-webhook-url-and-file.yml", Some("at most one of mattermost_webhook_url & mattermost_webhook_url_file")),
        ("conf.mattermost-no-webhook-url.yml", Some("`webhook_url` or `webhook_url_file` must be configured")),
        ("conf.sns-invalid.yml", Some("must provide either a Target ARN, Topic ARN, or Phone Number")),
        ("conf.nil-match_re-route.yml", Some("invalid regexp value for \"invalid_label\"")),
        ("conf.nil-source_match_re-inhibition.yml", Some("invalid regexp value for \"invalid_source_label\"")),
        ("conf.nil-target_match_re-inhibition.yml", Some("invalid regexp value for \"invalid_target_label\"")),
    ];
    let mut failures = Vec::new();
    for (file, expected) in cases {
        let path = dir.join(file);
        if !path.is_file() {
            failures.push(format!("{file}: missing from the corpus"));
            continue;
        }
        let outcome = common::run(std::slice::from_ref(&path), None);
        let errors: Vec<&str> = outcome
            .project
            .files
            .iter()
            .flat_map(|f| &f.issues)
            .filter(|i| i.check == SYNTAX && !i.downgrade)
            .map(|i| i.message.as_str())
            .collect();
        match expected {
            None if !errors.is_empty() => {
                failures.push(format!("{file}: should load, got {errors:?}"))
            }
            Some(want) if !errors.iter().any(|e| e.contains(want)) => {
                failures.push(format!("{file}: expected {want:?}, got {errors:?}"))
            }
            _ => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The per-check fixtures: the syntax bad fixture is rejected by amtool too, and every good
/// Alertmanager fixture loads in amtool.
#[test]
fn agrees_with_amtool_on_fixtures() {
    let Some(tool) = skip_or_fail() else { return };
    let root = common::root().join("fixtures/alertmanager");
    assert!(!amtool_valid(&tool, &root.join("syntax/bad.yml")));
    let tmp = std::env::temp_dir().join(format!("obsgate-am-fixtures-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    for entry in std::fs::read_dir(&root).unwrap().filter_map(|e| e.ok()) {
        let good = entry.path().join("good.yml");
        let Ok(text) = std::fs::read_to_string(&good) else {
            continue;
        };
        // cross-file fixtures hold the rules and the config as two documents: amtool gets the config
        let Some(am) = text
            .split("\n---\n")
            .find(|d| d.contains("route:") || d.contains("receivers:"))
        else {
            continue;
        };
        let file = tmp.join(format!("{}.yml", entry.file_name().to_string_lossy()));
        std::fs::write(&file, am).unwrap();
        assert!(
            amtool_valid(&tool, &file),
            "amtool rejects the config of {}",
            good.display()
        );
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
