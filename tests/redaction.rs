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
