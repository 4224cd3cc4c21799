//! The generated shell completions are valid scripts for their shells (where the shell is
//! installed), and the man page names every subcommand.

use std::process::Command;

fn generate(args: &[&str]) -> String {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let argv = std::iter::once("obsgate")
        .chain(args.iter().copied())
        .map(std::ffi::OsString::from);
    let code = obsgate::run(
        argv,
        obsgate::Env {
            stdout_is_tty: false,
            no_color: true,
            width: None,
        },
        &mut out,
        &mut err,
    );
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    String::from_utf8(out).unwrap()
}

#[test]
fn bash_completion_parses() {
    let script = generate(&["completions", "bash"]);
    assert!(script.contains("check") && script.contains("--fail-on"));
    if Command::new("bash").arg("--version").output().is_err() {
        eprintln!("SKIP: bash not found");
        return;
    }
    let path = std::env::temp_dir().join(format!("obsgate-completion-{}.bash", std::process::id()));
    std::fs::write(&path, script).unwrap();
    let st = Command::new("bash").arg("-n").arg(&path).status().unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(st.success(), "bash -n rejects the completion script");
}

#[test]
fn man_page_lists_the_subcommands() {
    let man = generate(&["man"]);
    for sub in ["check", "checks", "explain", "routes", "completions", "man"] {
        assert!(man.contains(sub), "man page lacks `{sub}`");
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        assert!(!generate(&["completions", shell]).is_empty());
    }
}

/// `obsgate man --out-dir DIR` writes a page for the program and every subcommand (nested ones
/// too, no `help`), and every page another refers to exists.
#[test]
fn man_out_dir_writes_a_page_per_subcommand() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("man-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_obsgate"))
        .args(["man", "--out-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    // the pages clap knows: the command and its subcommands, recursively
    fn names(cmd: &clap::Command, prefix: &str, out: &mut Vec<String>) {
        out.push(format!("{prefix}.1"));
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            names(sub, &format!("{prefix}-{}", sub.get_name()), out);
        }
    }
    let cmd = <obsgate::cli::Cli as clap::CommandFactory>::command();
    let mut want = Vec::new();
    names(&cmd, "obsgate", &mut want);
    want.sort();
    for sub in [
        "check",
        "fix",
        "init",
        "inventory",
        "probe",
        "exporter",
        "routes-test",
        "explain",
        "man",
    ] {
        assert!(want.contains(&format!("obsgate-{sub}.1")), "{sub}");
    }
    let mut have: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    have.sort();
    assert_eq!(have, want);
    // every `obsgate-x(1)` a page names is there
    let re = regex::Regex::new(r"obsgate\\?-[a-z-]+\(1\)").unwrap();
    for page in &have {
        let text = std::fs::read_to_string(dir.join(page)).unwrap();
        assert!(text.starts_with(".ie") || text.contains(".TH"), "{page}");
        for m in re.find_iter(&text) {
            let name = m.as_str().replace('\\', "").replace("(1)", ".1");
            assert!(have.contains(&name), "{page} refers to {name}");
        }
    }
    let check = std::fs::read_to_string(dir.join("obsgate-check.1")).unwrap();
    for flag in ["diff\\-base", "load", "online", "fail\\-on"] {
        assert!(check.contains(flag), "obsgate-check.1 lacks --{flag}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
