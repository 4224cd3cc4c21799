//! The machine formats over the same findings: snapshots, and validity for the consumer that
//! reads each one (SARIF Multitool, GitLab Code Quality's unique fingerprints, a JUnit parser,
//! GitHub's workflow command syntax); baselines.

mod common;

use std::path::{Path, PathBuf};

use obsgate::report::{self, Format, Style};

fn run(args: &[&str]) -> (i32, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut argv = vec!["obsgate".to_string()];
    argv.extend(args.iter().map(|s| s.to_string()));
    let code = obsgate::run(
        argv.into_iter().map(std::ffi::OsString::from),
        obsgate::Env {
            stdout_is_tty: false,
            no_color: true,
            width: None,
        },
        &mut out,
        &mut err,
    );
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn seed_outcome() -> obsgate::engine::Outcome {
    common::run(&[common::root().join("fixtures/seed")], None)
}

fn render(format: Format, outcome: &obsgate::engine::Outcome) -> String {
    report::render(
        format,
        &outcome.project,
        &outcome.findings,
        Style {
            color: false,
            width: 100,
        },
    )
}

#[test]
fn snapshots_of_each_format() {
    // a small input keeps the snapshots reviewable
    let outcome = common::run(
        &[common::root().join("fixtures/thresholds/ratio-vs-rate/bad.yml")],
        None,
    );
    let root = std::fs::canonicalize(common::root()).unwrap();
    let sarif =
        render(Format::Sarif, &outcome).replace(&root.to_string_lossy().to_string(), "$ROOT");
    insta::assert_snapshot!("sarif", sarif);
    insta::assert_snapshot!("codequality", render(Format::Codequality, &outcome));
    insta::assert_snapshot!("junit", render(Format::Junit, &outcome));
    insta::assert_snapshot!("github", render(Format::Github, &outcome));
}

#[test]
fn codequality_fingerprints_are_unique() {
    let outcome = seed_outcome();
    let v: serde_json::Value =
        serde_json::from_str(&render(Format::Codequality, &outcome)).unwrap();
    let items = v.as_array().unwrap();
    assert_eq!(items.len(), outcome.findings.len());
    let mut fps: Vec<&str> = items
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    fps.sort();
    let n = fps.len();
    fps.dedup();
    assert_eq!(fps.len(), n, "duplicate Code Quality fingerprints");
    for i in items {
        assert!(["info", "minor", "major", "critical", "blocker"]
            .contains(&i["severity"].as_str().unwrap()));
        assert!(i["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
        assert!(!i["description"].as_str().unwrap().is_empty());
    }
}

#[test]
fn junit_parses() {
    let outcome = seed_outcome();
    let xml = render(Format::Junit, &outcome);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed JUnit XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let failures: usize = root
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .count();
    let pairs: std::collections::BTreeSet<(&str, &str)> = outcome
        .findings
        .iter()
        .map(|f| (&*f.path, f.check))
        .collect();
    assert_eq!(failures, pairs.len(), "one failing case per check per file");
}

#[test]
fn github_lines_are_well_formed() {
    let outcome = seed_outcome();
    let text = render(Format::Github, &outcome);
    let re = regex::Regex::new(
        r"^::(error|warning|notice) file=[^,:%]+,line=[1-9][0-9]*,col=[1-9][0-9]*,endLine=[1-9][0-9]*,endColumn=[1-9][0-9]*,title=[^,:]+::[^\r\n]+$",
    )
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), outcome.findings.len());
    for l in lines {
        assert!(re.is_match(l), "{l}");
    }
}

fn multitool() -> Option<PathBuf> {
    let p = common::root()
        .join("target/ci-npm/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
    if p.is_file() {
        return Some(p);
    }
    std::env::var_os("OBSGATE_SARIF_MULTITOOL").map(PathBuf::from)
}

#[test]
fn sarif_is_valid_for_the_multitool() {
    validate_with_multitool("seed", &render(Format::Sarif, &seed_outcome()));
}

/// Validate a SARIF log with the Multitool (skipped when it is not installed outside CI).
fn validate_with_multitool(name: &str, sarif: &str) {
    let Some(tool) = multitool() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("Sarif.Multitool is not installed; .ci/run must install @microsoft/sarif-multitool-linux");
        }
        eprintln!("SKIP: Sarif.Multitool not found (npm install @microsoft/sarif-multitool-linux)");
        return;
    };
    let tmp = std::env::temp_dir().join(format!("obsgate-sarif-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let input = tmp.join("in.sarif");
    let output = tmp.join("validation.sarif");
    std::fs::write(&input, sarif).unwrap();
    let st = std::process::Command::new(&tool)
        .arg("validate")
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .status()
        .expect("run Sarif.Multitool");
    assert!(st.success(), "Sarif.Multitool failed");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    let results = v["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let errors: Vec<_> = results.iter().filter(|r| r["level"] == "error").collect();
    assert!(errors.is_empty(), "SARIF errors: {errors:#?}");
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn sarif_uris_of_paths_with_dot_dot_are_normalised() {
    // the file is named `../thresholds/...` relative to the base directory `fixtures/seed`
    let root = common::root();
    let opts = obsgate::engine::CheckOptions {
        paths: vec![root.join("fixtures/seed/../thresholds/ratio-vs-rate/bad.yml")],
        base: root.join("fixtures/seed"),
        config: obsgate::config::Config::default(),
        only: None,
    };
    let outcome = obsgate::engine::check(&opts).expect("check run");
    assert!(!outcome.findings.is_empty());
    assert!(outcome
        .findings
        .iter()
        .all(|f| f.path.starts_with("../thresholds/")));
    let sarif = render(Format::Sarif, &outcome);
    let v: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let want = format!(
        "file://{}/fixtures/thresholds/ratio-vs-rate/bad.yml",
        root.to_string_lossy()
    );
    for r in v["runs"][0]["results"].as_array().unwrap() {
        let loc = &r["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(loc["uri"].as_str().unwrap(), want);
        assert!(loc.get("uriBaseId").is_none());
    }
    validate_with_multitool("dotdot", &sarif);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn baseline_accepts_known_findings_and_survives_line_moves() {
    let tmp = std::env::temp_dir().join(format!("obsgate-baseline-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let dir = tmp.join("seed");
    copy_dir(&common::root().join("fixtures/seed"), &dir);
    let base = tmp.join("baseline.json");
    let d = dir.to_str().unwrap();
    let b = base.to_str().unwrap();
    let (code, ..) = run(&["check", d, "--write-baseline", b]);
    assert_eq!(code, 1);
    let text = std::fs::read_to_string(&base).unwrap();
    // secrets are never in a baseline: the seed's inline SMTP password is `smtp_password`
    assert!(!text.contains("smtp_password\""), "{text}");
    let (code, out, err) = run(&["check", d, "--baseline", b]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("in the baseline"), "{err}");
    // move every line of the rule file down: still nothing new
    let rules = dir.join("alerting-rules.yml");
    let moved = format!("# moved\n\n\n{}", std::fs::read_to_string(&rules).unwrap());
    std::fs::write(&rules, moved).unwrap();
    let (code, out, _) = run(&["check", d, "--baseline", b]);
    assert_eq!(code, 0, "{out}");
    // a new problem fails the run, and only it is reported
    let am = dir.join("alertmanager-config.yml");
    let broken = std::fs::read_to_string(&am)
        .unwrap()
        .replace("receiver: 'database-team'", "receiver: 'databse-team'");
    std::fs::write(&am, broken).unwrap();
    let (code, out, _) = run(&["check", d, "--baseline", b, "--format", "concise"]);
    assert_eq!(code, 1, "{out}");
    // the typo and its consequence (the receiver it was meant for is now unused)
    assert!(
        out.lines()
            .all(|l| l.contains("databse-team") || l.contains("\"database-team\" is not used")),
        "{out}"
    );
    let (code, _, err) = run(&[
        "check",
        d,
        "--baseline",
        tmp.join("missing.json").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A reader that goes away (`| head`) stops a streamed report without turning the run into an
/// error: the exit code still says whether there were findings. Any other write error is one
/// (exit 2).
#[test]
fn a_report_cut_short_by_its_reader() {
    struct Fails {
        after: usize,
        kind: std::io::ErrorKind,
        written: usize,
    }
    impl std::io::Write for Fails {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.written >= self.after {
                return Err(self.kind.into());
            }
            let n = buf.len().min(self.after - self.written);
            self.written += n;
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let seed = common::root().join("fixtures/seed");
    let outcome = seed_outcome();
    for format in [
        "text",
        "concise",
        "json",
        "sarif",
        "codequality",
        "junit",
        "github",
    ] {
        for (kind, expected) in [
            (std::io::ErrorKind::BrokenPipe, 1),
            (std::io::ErrorKind::StorageFull, 2),
        ] {
            let mut out = Fails {
                after: 100,
                kind,
                written: 0,
            };
            let mut err = Vec::new();
            let code = obsgate::run(
                [
                    "obsgate",
                    "check",
                    "--format",
                    format,
                    seed.to_str().unwrap(),
                ]
                .map(Into::into),
                obsgate::Env {
                    stdout_is_tty: false,
                    no_color: true,
                    width: None,
                },
                &mut out,
                &mut err,
            );
            assert_eq!(code, expected, "{format}, {kind:?}");
            // the CLI buffers; unbuffered, the error comes through the serializer, which must
            // keep its kind
            let mut direct = Fails {
                after: 100,
                kind,
                written: 0,
            };
            let e = report::write(
                format.parse().unwrap(),
                &mut direct,
                &outcome.project,
                &outcome.findings,
                Style {
                    color: false,
                    width: 100,
                },
            )
            .expect_err(format);
            assert_eq!(e.kind(), kind, "{format}: {e}");
            assert_eq!(out.written, 100, "{format}: the reader took its 100 bytes");
            let err = String::from_utf8(err).unwrap();
            if expected == 2 {
                assert!(err.contains("error: cannot write the report"), "{err}");
            } else {
                assert!(!err.contains("error:"), "{err}");
            }
        }
    }
}

/// User-supplied text (alert and group names, file names, file contents shown in excerpts)
/// with newlines, CR, ESC and OSC sequences, BEL, DEL, C1 controls and a bidi override: the
/// concise and text formats (concise is the default in CI) print one line per finding with
/// every control character escaped, so that no line is a GitHub Actions workflow command
/// (`::error ...`, `::add-mask::...`; the runner trims leading blanks) and nothing reaches a
/// terminal as a control sequence. The github format keeps its own escaping.
#[test]
fn control_characters_in_user_text_are_escaped() {
    let tmp = std::env::temp_dir().join(format!("obsgate-escapes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let rules = r#"groups:
  - name: "g\n::error file=g::group"
    rules:
      - alert: "Down\n::error file=x,line=1::pwned\r::add-mask::hidden\e]8;;http://x\e\\link\e]8;;\e\\\u202Eevil\a\x7f\x85\u2028end"
        expr: up == 0
"#;
    std::fs::write(tmp.join("evil\n::error file=f::name.yml"), rules).unwrap();
    // a file name that would start a concise line with `::`, no control character needed
    std::fs::write(tmp.join("::add-mask::leak.yml"), rules).unwrap();
    // raw control characters in a file: a syntax error whose excerpt shows them
    std::fs::write(
        tmp.join("raw.yml"),
        b"groups:\n  - name: g\n    rules:\n      - alert: A\x1b[31mB\x1b]0;title\x07\xc2\x9b\n",
    )
    .unwrap();
    let run_at = |format: &str, columns: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_obsgate"))
            .args(["check", "--format", format, "."])
            .current_dir(&tmp)
            .env("NO_COLOR", "1")
            .env("COLUMNS", columns)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let run = |format: &str| run_at(format, "100");
    let github = run("github");
    let concise = run("concise");
    // wide enough for the escaped alert name on one line (it has spaces, where 100 columns
    // wrap it), and in 100 and 60 columns for the wrapped lines
    let text = run_at("text", "400");
    let narrow = [run("text"), run_at("text", "60")];
    let _ = std::fs::remove_dir_all(&tmp);
    for out in &narrow {
        for c in out.chars() {
            assert!(c == '\n' || !obsgate::report::is_escaped(c), "{out}");
        }
        for line in out.lines() {
            assert!(!line.trim_start().starts_with("::"), "{line}");
        }
    }

    // 3 findings for each of the two rule files, 1 duplicate (naming the group), 1 syntax error
    assert_eq!(concise.lines().count(), 8, "{concise}");
    assert_eq!(github.lines().count(), 8, "{github}");
    assert!(
        concise.contains(r"(group `g\n::error file=g::group`)"),
        "{concise}"
    );
    for (format, out) in [("concise", &concise), ("text", &text)] {
        for c in out.chars() {
            assert!(
                c == '\n' || !obsgate::report::is_escaped(c),
                "{format} prints {c:?} raw:\n{out}"
            );
        }
        for line in out.lines() {
            assert!(
                !line.trim_start().starts_with("::"),
                "{format} line is a workflow command: {line}"
            );
        }
        for escaped in [
            r"Down\n::error file=x,line=1::pwned\r::add-mask::hidden\u{1b}]8;;http://",
            r"\u{202e}evil\u{7}\u{7f}\u{85}\u{2028}end",
        ] {
            assert!(out.contains(escaped), "{format} lacks {escaped}:\n{out}");
        }
    }
    // the excerpt of the syntax error
    assert!(
        text.contains(r"alert: A\u{1b}[31mB\u{1b}]0;title\u{7}\u{9b}"),
        "{text}"
    );
    assert!(
        concise.contains(r"evil\n::error file=f::name.yml:4:"),
        "{concise}"
    );
    assert!(concise.contains(r"\::add-mask::leak.yml:4:"), "{concise}");
    // github: one workflow command per finding, newlines as %0A, `:` and `,` in properties
    for line in github.lines() {
        assert!(
            ["::error file=", "::warning file=", "::notice file="]
                .iter()
                .any(|p| line.starts_with(p)),
            "{line}"
        );
    }
    assert!(
        github.contains("file=evil%0A%3A%3Aerror file=f%3A%3Aname.yml,line=4"),
        "{github}"
    );
    assert!(github.contains("alert `Down%0A::error file=x,line=1::pwned%0D::add-mask::hidden"));
}

/// An output that cannot be written (a full disk: `/dev/full`; artifacts under a path that is a
/// file) is said, the other outputs and stdout are still written, and the run exits 2. A device
/// given as an output is written in place, not replaced.
#[test]
fn an_output_that_cannot_be_written_does_not_stop_the_others() {
    let tmp = std::env::temp_dir().join(format!("obsgate-outputs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::write(tmp.join("blocked"), "a file, not a directory").unwrap();
    let seed = common::root().join("fixtures/seed");
    let (json, base, arts, good_arts) = (
        tmp.join("report.json"),
        tmp.join("baseline.json"),
        tmp.join("blocked/artifacts"),
        tmp.join("artifacts"),
    );
    let args = |artifacts: &Path| {
        vec![
            "check".to_string(),
            seed.to_str().unwrap().to_string(),
            "--format".into(),
            "concise".into(),
            "--output".into(),
            "sarif=/dev/full".into(),
            "--output".into(),
            format!("json={}", json.display()),
            "--write-baseline".into(),
            base.display().to_string(),
            "--artifacts".into(),
            artifacts.display().to_string(),
        ]
    };
    let a = args(&arts);
    let (code, out, err) = run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 2, "{err}");
    assert!(out.lines().count() > 10, "{out}");
    assert!(
        err.contains("error: cannot write /dev/full: No space left on device"),
        "{err}"
    );
    assert!(err.contains("error: cannot write artifacts to"), "{err}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        out.lines().count()
    );
    let baseline: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&base).unwrap()).unwrap();
    assert!(baseline.is_object() || baseline.is_array());
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata("/dev/full")
        .unwrap()
        .file_type()
        .is_char_device());
    // with every output writable: exit 1 (findings), artifacts written
    let a = args(&good_arts);
    let mut a: Vec<&str> = a.iter().map(String::as_str).collect();
    let full = a.iter().position(|x| *x == "sarif=/dev/full").unwrap();
    a.drain(full - 1..=full);
    let (code, _, err) = run(&a);
    assert_eq!(code, 1, "{err}");
    assert!(good_arts.join("alerting-strategy.json").is_file());
    // no temporary file is left anywhere
    let leftovers: Vec<_> = walk(&tmp)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let _ = std::fs::remove_dir_all(&tmp);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Concurrent runs writing the same report and baseline: each file is one whole run's output
/// (written to a temporary file and renamed), never a mix of two or a truncated one.
#[test]
fn concurrent_runs_never_corrupt_an_output() {
    let tmp = std::env::temp_dir().join(format!("obsgate-concurrent-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    // a report of many buffered writes (about 800 KB of SARIF)
    let seed = common::root().join("fixtures");
    let sarif = tmp.join("report.sarif");
    let base = tmp.join("baseline.json");
    for _round in 0..3 {
        let children: Vec<_> = (0..6)
            .map(|_| {
                std::process::Command::new(env!("CARGO_BIN_EXE_obsgate"))
                    .arg("check")
                    .arg(&seed)
                    .arg("--quiet")
                    .arg("--output")
                    .arg(format!("sarif={}", sarif.display()))
                    .arg("--write-baseline")
                    .arg(&base)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut c in children {
            assert_eq!(c.wait().unwrap().code(), Some(1));
        }
        for f in [&sarif, &base] {
            let text = std::fs::read_to_string(f).unwrap();
            serde_json::from_str::<serde_json::Value>(&text)
                .unwrap_or_else(|e| panic!("{} is corrupt: {e}", f.display()));
        }
    }
    let names: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    let _ = std::fs::remove_dir_all(&tmp);
}

/// The text report fits the width it is given (`COLUMNS`), wrapping messages between words
/// only: each message, its wrapped lines joined with spaces, is the JSON report's message.
#[test]
fn text_report_wraps_between_words_to_the_width() {
    let seed = common::root().join("fixtures/seed");
    let run = |format: &str, columns: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_obsgate"))
            .args(["check", "--format", format])
            .arg(&seed)
            .env("NO_COLOR", "1")
            .env("COLUMNS", columns)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let json: serde_json::Value = serde_json::from_str(&run("json", "80")).unwrap();
    let messages: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    for columns in [60usize, 80, 132] {
        let text = run("text", &columns.to_string());
        let mut got = Vec::new();
        let mut current: Option<Vec<&str>> = None;
        for line in text.lines() {
            let head = ["  × ", "  ⚠ ", "  ☞ "]
                .iter()
                .find_map(|p| line.strip_prefix(p));
            if let Some(h) = head {
                current = Some(vec![h]);
            } else if let (Some(c), Some(rest)) = (current.as_mut(), line.strip_prefix("  │ ")) {
                c.push(rest);
            } else if let Some(c) = current.take() {
                got.push(c.join(" "));
            }
            // a line is longer than the width only when it holds one word too long for it
            // (a source excerpt is never wrapped)
            let prose = ["  × ", "  ⚠ ", "  ☞ ", "  │ ", "  help: ", "        "]
                .iter()
                .find_map(|p| line.strip_prefix(p));
            if let Some(p) = prose {
                assert!(
                    line.chars().count() <= columns || !p.trim().contains(' '),
                    "{columns} columns: {line:?}"
                );
            }
        }
        assert_eq!(got.len(), messages.len(), "{text}");
        // (runs of blanks where a line breaks are one break)
        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        for (g, m) in got.iter().zip(&messages) {
            assert_eq!(
                words(g),
                words(m),
                "{columns} columns: wrapped inside a word"
            );
        }
    }
}
