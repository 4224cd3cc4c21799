//! A secret found is never printed whole: not in any output format, not in source excerpts.

mod common;

use obsgate::report::Format;

/// The fake secrets of the fixture, as written.
const SECRETS: &[&str] = &[
    "T0FAKE000/B0FAKE000/FakeFakeFakeFakeFake1234",
    "Sup3rS3cretPw",
    "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake1234",
    "AKIAFAKEFAKEFAKEFAKE",
    "s3cr3t-Passw0rd!",
    "ZmFrZS13ZWJob29r",
    "rt-7f3a9c1e5b2d4f60",
    "Smtp-Pa55word-2024",
    "R0UT1NGKEYfake0000000000000000000",
    "b2c3d4e5f6a7b8c9",
    "Br1dge-Pa55",
    "Gr4fana-Adm1n-Pw",
    "ZmFrZS1zaWduYXR1cmUtb2JzZ2F0ZQ",
    "Gr4f-Helm-Pw-99",
    "tk_9f8e7d6c5b4a3210",
];

const ALL_FORMATS: [Format; 7] = [
    Format::Text,
    Format::Concise,
    Format::Json,
    Format::Sarif,
    Format::Codequality,
    Format::Junit,
    Format::Github,
];

#[test]
fn no_output_format_contains_a_secret() {
    let file = common::root().join("fixtures/secrets/known-format/bad.yml");
    let inline = common::root().join("fixtures/secrets/inline/bad.yml");
    let text = std::fs::read_to_string(&file).unwrap() + &std::fs::read_to_string(&inline).unwrap();
    for s in SECRETS {
        assert!(text.contains(s), "fixture lost {s}");
    }
    let outcome = common::run(&[file, inline], None);
    let found = outcome
        .findings
        .iter()
        .filter(|f| f.check.starts_with("secrets/"))
        .count();
    assert!(found >= SECRETS.len(), "{found} secret findings");
    for format in ALL_FORMATS {
        let out = common::render(format, &outcome, None);
        for s in SECRETS {
            // not even a long piece of it
            let piece = &s[s.len() - 10..];
            assert!(
                !out.contains(piece),
                "{format:?} output shows {piece} of a secret:\n{out}"
            );
        }
    }
}

/// Fingerprints of secret findings do not depend on the secret: changing the value keeps them.
#[test]
fn secret_fingerprints_do_not_hash_the_value() {
    let d = std::env::temp_dir().join(format!("obsgate-fp-secret-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let f = d.join("ci.yml");
    let fps = |value: &str| {
        std::fs::write(
            &f,
            format!("variables:\n  DB_PASSWORD: \"{value}\"\nbuild:\n  script: [make]\n"),
        )
        .unwrap();
        let o = common::run(std::slice::from_ref(&f), None);
        o.findings
            .iter()
            .filter(|x| x.check == "secrets/inline")
            .map(|x| x.fingerprint)
            .collect::<Vec<_>>()
    };
    let a = fps("Hunter2-Secret-1");
    assert_eq!(a.len(), 1);
    assert_eq!(a, fps("Other-Secret-Value-2"));
    let _ = std::fs::remove_dir_all(&d);
}

/// A CI script item YAML reads as a mapping is quoted in the finding's message: a token in it
/// is redacted there too, in every format.
#[test]
fn quoted_script_items_are_redacted() {
    let dir = std::env::temp_dir().join(format!("obsgate-redact-ci-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ci = dir.join(".gitlab-ci.yml");
    let token = "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake9876";
    std::fs::write(
        &ci,
        format!("stages: [test]\nsmoke:\n  stage: test\n  script:\n    - curl -H \"Authorization: token {token}\" https://api.example.invalid\n"),
    )
    .unwrap();
    let outcome = common::run(std::slice::from_ref(&ci), None);
    assert!(outcome
        .findings
        .iter()
        .any(|f| f.check == "pipeline/syntax"));
    for format in ALL_FORMATS {
        let out = common::render(format, &outcome, None);
        assert!(
            !out.contains(&token[token.len() - 10..]),
            "{format:?} output shows the token:\n{out}"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

// ---------------------------------------------------------------------------------------------
// Secrets planted in every input kind, looked for in every output: the whole secret or any
// 8-character piece of it must never be printed.
// ---------------------------------------------------------------------------------------------

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The planted secrets, as written (the secret part only: a URL's password, a header's token).
const PLANTED: &[&str] = &[
    // rule file: matcher, label, annotation (URL userinfo), unknown field
    "RuleMatch-K3y-5510",
    "RuleLbl-Tok3n-9921",
    "RuleUrlPw-7731",
    "UnknownF1eld-Secret-88",
    // Alertmanager config: credential fields, a route matcher, a receiver name holding a token
    "Smtp-Pa55word-Plant24",
    "T0PLANT00/B0PLANT00/PlantPlantPlantPlant5678",
    "Hook-Pa55-3321",
    "AmCred-Bearer-6612",
    "AmBasic-Pa55-9090",
    "AmMatch-T0ken-4471",
    "1234567890-AbCdEfGhIjKlMn",
    // broken Alertmanager configs: a YAML syntax error on the secret's line, an invalid
    // duration next to one
    "Br0ken-Smtp-Pw-5150",
    "DurNear-Smtp-Pw-2323",
    // CI file: variable, curl -u, Authorization header, --flag value / --flag=value
    "CiDb-Pa55word-1234",
    "CurlUser-Pw-7788",
    "CiBearer-T0k-4455",
    "CiFlag-Pw-3030",
    "CiFlagEq-T0k-3131",
    // PEM body, Helm values key
    "PemB0dyLineOnePLANTEDfakeKEYdataAAAA0001",
    "PemB0dyLineTwoPLANTEDfakeKEYdataBBBB0002",
    "HelmApi-K3y-2211",
    // Kubernetes Secret: stringData, data (decoded, and as written in base64)
    "K8s-Str1ng-Pw-6060",
    "K8sData-T0k-7070",
    "SzhzRGF0YS1UMGstNzA3MA==",
];

/// Fails when `out` shows a planted secret or any 8-character piece of one.
fn assert_clean(what: &str, out: &str, secrets: &[&str]) {
    for s in secrets {
        let chars: Vec<char> = s.chars().collect();
        for w in chars.windows(8.min(chars.len())) {
            let piece: String = w.iter().collect();
            assert!(
                !out.contains(&piece),
                "{what} shows `{piece}` of the secret `{s}`:\n{out}"
            );
        }
    }
}

/// A temporary directory removed on drop.
struct Planted(PathBuf);

impl Planted {
    fn new(tag: &str) -> Planted {
        static N: AtomicUsize = AtomicUsize::new(0);
        let d = std::env::temp_dir().join(format!(
            "obsgate-planted-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Planted(d)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Planted {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const PLANTED_RULES: &str = r#"groups:
  - name: planted
    rules:
      - alert: PlantedDbDown
        expr: up{job="db", api_key="RuleMatch-K3y-5510"} == 0
        for: 5m
        labels:
          severity: critical
          token: RuleLbl-Tok3n-9921
        annotations:
          summary: "Database {{ $labels.instance }} is down"
          description: "dsn postgres://app:RuleUrlPw-7731@db.internal:5432/x is unreachable"
      - alert: PlantedBadMatcher
        expr: up{instance=~"(CiDb-Pa55word-1234"} == 0
        for: 30x
        unknown_secret_field: UnknownF1eld-Secret-88
"#;

const PLANTED_AM: &str = r#"global:
  smtp_auth_password: Smtp-Pa55word-Plant24
  slack_api_url: https://hooks.slack.com/services/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
route:
  receiver: default
  group_by: [alertname]
  routes:
    - matchers: ['token="AmMatch-T0ken-4471"']
      receiver: hook-xoxb-1234567890-AbCdEfGhIjKlMn
    - matchers: ['severity="critical"']
      receiver: pager
receivers:
  - name: default
    webhook_configs:
      - url: http://hookuser:Hook-Pa55-3321@hooks.internal/x
        http_config:
          authorization:
            credentials: AmCred-Bearer-6612
  - name: hook-xoxb-1234567890-AbCdEfGhIjKlMn
    webhook_configs:
      - url: http://hooks.internal/y
        http_config:
          basic_auth:
            username: u
            password: AmBasic-Pa55-9090
  - name: pager
    webhook_configs:
      - url: http://hooks.internal/z
        http_config:
          oauth2:
            client_id: obsgate
            client_secret_file: /etc/alertmanager/secrets/client_secret
            token_url: https://auth.example.invalid/oauth/token
"#;

/// A YAML syntax error on the line of the secret.
const PLANTED_AM_BROKEN: &str = "global:\n  resolve_timeout: 5m\n  smtp_auth_password: Br0ken-Smtp-Pw-5150: [x\nroute:\n  receiver: default\nreceivers:\n  - name: default\n";

/// An invalid duration next to a secret.
const PLANTED_AM_DURATION: &str = "global:\n  smtp_auth_password: DurNear-Smtp-Pw-2323\n  resolve_timeout: 5x\nroute:\n  receiver: default\n  group_wait: 1q\nreceivers:\n  - name: default\n    email_configs:\n      - to: ops@example.invalid\n        auth_password_file: /etc/alertmanager/secrets/password\n";

const PLANTED_CI: &str = r#"variables:
  DB_PASSWORD: "CiDb-Pa55word-1234"
stages: [deploy]
deploy:
  stage: deploy
  script:
    - curl -u admin:CurlUser-Pw-7788 https://deploy.example.invalid/hook
    - curl -H "Authorization: Bearer CiBearer-T0k-4455" https://api.example.invalid/x
    - ./deploy.sh --password CiFlag-Pw-3030 --token=CiFlagEq-T0k-3131 || true
"#;

const PLANTED_VALUES: &str = "tls:\n  privateKey: |\n    -----BEGIN PRIVATE KEY-----\n    PemB0dyLineOnePLANTEDfakeKEYdataAAAA0001\n    PemB0dyLineTwoPLANTEDfakeKEYdataBBBB0002\n    -----END PRIVATE KEY-----\napiKey: HelmApi-K3y-2211\n";

const PLANTED_K8S: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: planted\ntype: Opaque\nstringData:\n  password: K8s-Str1ng-Pw-6060\ndata:\n  token: SzhzRGF0YS1UMGstNzA3MA==\n";

fn plant(dir: &Planted) -> Vec<PathBuf> {
    vec![
        dir.write("planted.rules.yml", PLANTED_RULES),
        dir.write("alertmanager.yml", PLANTED_AM),
        dir.write("broken-alertmanager.yml", PLANTED_AM_BROKEN),
        dir.write("duration-alertmanager.yml", PLANTED_AM_DURATION),
        dir.write(".gitlab-ci.yml", PLANTED_CI),
        dir.write("values.yaml", PLANTED_VALUES),
        dir.write("secret.yaml", PLANTED_K8S),
    ]
}

fn obsgate(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_obsgate"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn planted_secrets_never_reach_any_format() {
    let dir = Planted::new("formats");
    let files = plant(&dir);
    let outcome = common::run(&files, None);
    // every input kind was read and judged
    for check in ["secrets/inline", "secrets/known-format"] {
        assert!(
            outcome.findings.iter().any(|f| f.check == check),
            "no {check} finding"
        );
    }
    for format in ALL_FORMATS {
        let out = common::render(format, &outcome, None);
        assert_clean(&format!("{format:?}"), &out, PLANTED);
    }
    // what is not a secret is shown as written
    let text = common::render(Format::Text, &outcome, None);
    let all = ALL_FORMATS
        .iter()
        .map(|f| common::render(*f, &outcome, None))
        .collect::<String>();
    assert!(all.contains("PlantedDbDown"), "{all}");
    for near_miss in [
        // context lines of excerpts: a template, a `*_file` path, an ordinary value
        "summary: \"Database {{ $labels.instance }} is down\"",
        "auth_password_file: /etc/alertmanager/secrets/password",
        "resolve_timeout: 5m",
        // quoted by messages
        "invalid duration in `for`: unknown unit \"x\" in duration \"30x\"",
        "unknown field `unknown_secret_field` in a rule",
    ] {
        assert!(text.contains(near_miss), "{near_miss} is missing:\n{text}");
    }
}

#[test]
fn planted_secrets_never_reach_artifacts_baselines_or_routes() {
    let dir = Planted::new("cli");
    plant(&dir);
    let (_, out, err) = obsgate(
        &dir.0,
        &[
            "check",
            ".",
            "--format",
            "text",
            "--color",
            "never",
            "--artifacts",
            "artifacts",
            "--write-baseline",
            "baseline.json",
            "--output",
            "json=report.json",
            "--output",
            "sarif=report.sarif",
            "--output",
            "junit=report.xml",
        ],
    );
    assert_clean("check stdout", &out, PLANTED);
    assert_clean("check stderr", &err, PLANTED);
    for f in [
        "artifacts/performance-analysis.json",
        "artifacts/alerting-strategy.json",
        "baseline.json",
        "report.json",
        "report.sarif",
        "report.xml",
    ] {
        let text = std::fs::read_to_string(dir.path(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_clean(f, &text, PLANTED);
    }
    // the artifacts still carry the alert expressions, only the secret redacted
    let perf = std::fs::read_to_string(dir.path("artifacts/performance-analysis.json")).unwrap();
    assert!(perf.contains("up{job=\\\"db\\\""), "{perf}");

    for args in [
        vec!["routes", "tree", "--config", "alertmanager.yml"],
        vec![
            "routes",
            "tree",
            "--config",
            "alertmanager.yml",
            "--format",
            "mermaid",
        ],
        vec![
            "routes",
            "test",
            "--config",
            "alertmanager.yml",
            "--rules",
            "planted.rules.yml",
            "--all",
        ],
        vec![
            "routes",
            "test",
            "--config",
            "alertmanager.yml",
            "--tree",
            "token=AmMatch-T0ken-4471",
        ],
    ] {
        let (code, out, err) = obsgate(&dir.0, &args);
        assert!(code == 0 || code == 1, "{args:?}: {code} {out}{err}");
        assert!(!out.is_empty(), "{args:?}: {err}");
        assert_clean(&format!("{args:?}"), &out, PLANTED);
        assert_clean(&format!("{args:?} stderr"), &err, PLANTED);
        // receivers without secrets keep their names
        if args[1] == "tree" && args.len() == 4 {
            assert!(
                out.contains("{severity=\"critical\"}  receiver: pager"),
                "{out}"
            );
        }
    }
}

/// Secrets of a probed service: the target URL's password, tokens in its scrape and health
/// bodies, the boot command's argv and environment, the service's output.
const PROBE_SECRETS: &[&str] = &[
    "ProbeUrl-Pw-9090",
    "ProbeMetric-T0k-1515",
    "ProbeHealth-Pw-1616",
    "ProbeHealthKey-Pw-1717",
    "Boot-Env-T0k-1212",
    "BootDb-Pw-5656",
    "BootArg-Pw-7878",
];

/// A loopback server answering `/metrics` and `/health` with secrets in the bodies, for at
/// most `life` (or until the guard is dropped).
fn leaky_service(life: std::time::Duration) -> (u16, common::ServerGuard) {
    common::loopback_server(life, |_, path| {
        let (ct, body) = if path.starts_with("/metrics") {
            (
                "text/plain; version=0.0.4",
                "# HELP app_info Build information.\n# TYPE app_info gauge\napp_info{api_token=\"ProbeMetric-T0k-1515\",version=\"1\"} 1\n".to_string(),
            )
        } else {
            (
                "application/json",
                r#"{"status":"ok","db":"postgres://u:ProbeHealth-Pw-1616@db.internal/x","password":"ProbeHealthKey-Pw-1717"}"#.to_string(),
            )
        };
        Some(format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ))
    })
}

#[test]
fn probe_reports_records_and_baselines_never_show_a_secret() {
    let dir = Planted::new("probe");
    dir.write(
        "rules.yml",
        "groups:\n  - name: a\n    rules:\n      - alert: AppDown\n        expr: absent(app_info)\n        for: 5m\n        annotations: {summary: s, description: d, runbook_url: 'https://runbooks.example.invalid/app'}\n",
    );
    let (port, server) = leaky_service(std::time::Duration::from_secs(30));
    let target = format!("http://probeuser:ProbeUrl-Pw-9090@127.0.0.1:{port}");
    let (code, out, err) = obsgate(
        &dir.0,
        &[
            "probe",
            "--target",
            &target,
            "--rules",
            "rules.yml",
            "--ready-timeout",
            "5s",
            "--format",
            "json",
            "--record",
            "run.probe.json",
            "--write-baseline",
            "baseline.json",
            "--output",
            "text=report.txt",
            "--output",
            "concise=report.concise",
            "--output",
            "sarif=report.sarif",
            "--output",
            "github=report.github",
            "--artifacts",
            "artifacts",
        ],
    );
    drop(server);
    assert!(code == 0 || code == 1, "{code}\n{out}\n{err}");
    // the probe read the bodies (the record keeps them, redacted)
    let record = std::fs::read_to_string(dir.path("run.probe.json")).unwrap();
    assert!(record.contains("app_info{api_token="), "{record}");
    assert!(record.contains("\\\"status\\\":\\\"ok\\\""), "{record}");
    assert!(out.contains(&format!("127.0.0.1:{port}")), "{out}");
    assert_clean("probe stdout", &out, PROBE_SECRETS);
    assert_clean("probe stderr", &err, PROBE_SECRETS);
    for f in [
        "run.probe.json",
        "baseline.json",
        "report.txt",
        "report.concise",
        "report.sarif",
        "report.github",
        "artifacts/performance-analysis.json",
        "artifacts/alerting-strategy.json",
    ] {
        let text = std::fs::read_to_string(dir.path(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_clean(f, &text, PROBE_SECRETS);
    }
    // the record judged again
    let (_, out, err) = obsgate(&dir.0, &["check", "run.probe.json", "--format", "text"]);
    assert_clean("replayed record", &format!("{out}{err}"), PROBE_SECRETS);

    // a booted service that never gets ready: its command and its output are quoted
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let boot = "API_TOKEN=Boot-Env-T0k-1212 sh -c 'echo token=$API_TOKEN; echo DATABASE_URL=postgres://u:BootDb-Pw-5656@db.internal/x; sleep 1; exit 3' --password BootArg-Pw-7878";
    let (code, out, err) = obsgate(
        &dir.0,
        &[
            "probe",
            "--target",
            &format!("http://127.0.0.1:{closed}"),
            "--boot",
            boot,
            "--ready-timeout",
            "3s",
            "--format",
            "text",
            "--record",
            "down.probe.json",
            "--output",
            "json=down.json",
        ],
    );
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(out.contains("probe/unreachable"), "{out}");
    // the output tail is there, its secrets redacted
    assert!(out.contains("DATABASE_URL=postgres://u:"), "{out}");
    assert_clean("unreachable stdout", &out, PROBE_SECRETS);
    assert_clean("unreachable stderr", &err, PROBE_SECRETS);
    for f in ["down.probe.json", "down.json"] {
        let text = std::fs::read_to_string(dir.path(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_clean(f, &text, PROBE_SECRETS);
    }
}

/// The exporter's 400 for a configured target it refuses quotes the URL without its password.
#[tokio::test]
async fn exporter_refusal_does_not_show_the_password() {
    use obsgate::probe::exporter::{serve_async, ExporterOptions};
    let dir = Planted::new("exporter");
    let rules = dir.write("rules.yml", "groups: []\n");
    let config = obsgate::config::Config::parse(
        "probe:\n  targets:\n    - name: meta\n      url: http://expuser:Exp-Pw-4242@169.254.169.254/\n",
    )
    .unwrap();
    let (stop, shutdown) = tokio::sync::oneshot::channel();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(serve_async(
        ExporterOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            config,
            rules: vec![rules],
            base: dir.0.clone(),
            max_concurrent_probes: 2,
            default_timeout: std::time::Duration::from_secs(5),
            shutdown: Some(shutdown),
            limits: obsgate::probe::exporter::Limits::default(),
        },
        Some(ready_tx),
    ));
    let addr = ready_rx.await.expect("exporter started");
    let resp = reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap()
        .get(format!("http://{addr}/probe?target=meta"))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("169.254.169.254"), "{body}");
    assert_clean("exporter 400", &body, &["Exp-Pw-4242"]);
    stop.send(()).unwrap();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(15), task).await;
}

/// A finding whose span covers a secret (a script line YAML reads as a mapping) is
/// fingerprinted with the secret redacted: the hash of a weak password is never written to a
/// baseline.
#[test]
fn fingerprints_hash_spans_with_their_secrets_redacted() {
    let dir = Planted::new("fp-span");
    let ci = dir.path(".gitlab-ci.yml");
    let fp = |token: &str| {
        std::fs::write(
            &ci,
            format!("stages: [test]\nsmoke:\n  stage: test\n  script:\n    - curl -H \"Authorization: Bearer {token}\" https://api.example.invalid\n"),
        )
        .unwrap();
        let o = common::run(std::slice::from_ref(&ci), None);
        let f: Vec<_> = o
            .findings
            .iter()
            .filter(|f| f.check == "pipeline/syntax")
            .map(|f| f.fingerprint)
            .collect();
        assert_eq!(f.len(), 1);
        f[0]
    };
    // same first characters and length: the same fingerprint, whatever the rest
    assert_eq!(fp("Tok3n-aaaaaaaaaaaa"), fp("Tok3n-bbbbbbbbbbbb"));
}

/// A multi-line secret (a PEM key in a Kubernetes Secret) is masked line by line: the excerpt
/// keeps its lines.
#[test]
fn multi_line_secrets_keep_the_excerpt_lines() {
    let dir = Planted::new("pem-lines");
    let f = dir.write(
        "tls.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\nstringData:\n  tls.key: |\n    -----BEGIN PRIVATE KEY-----\n    MultiLinePemBodyPLANTED000000000001\n    MultiLinePemBodyPLANTED000000000002\n    -----END PRIVATE KEY-----\n",
    );
    let outcome = common::run(std::slice::from_ref(&f), None);
    let text = common::render(Format::Text, &outcome, None);
    assert_clean(
        "text",
        &text,
        &[
            "MultiLinePemBodyPLANTED000000000001",
            "MultiLinePemBodyPLANTED000000000002",
        ],
    );
    // lines 7 to 10 are shown, one by one
    assert!(text.contains(" 9 │ │   ****"), "{text}");
    assert!(text.contains("10 │ ├─▶ ****"), "{text}");
}
