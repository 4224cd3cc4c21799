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
