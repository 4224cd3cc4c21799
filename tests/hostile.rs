//! Hostile input: alias bombs, absurd nesting, huge and special files, symlink loops, a flood
//! of identical alerts, targets that send endless bodies or never answer, and a booted service
//! whose parent is killed. Each run of the real binary must end by itself (a hang guard kills it
//! after [`HANG_GUARD`] and fails the test), report the hostile input by file name (and position
//! where there is one), still audit the good file beside it, keep the exit codes' meaning
//! (0 clean, 1 findings at or above `--fail-on`, 2 usage/config/IO errors) and stay within a
//! generous memory bound (peak RSS measured with `wait4`).

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A run that takes longer is a hang: the child is killed and the test fails.
const HANG_GUARD: Duration = Duration::from_secs(120);
/// Peak RSS bound for the big inputs (the real figures are far lower: see each test).
const MAX_RSS_KB: i64 = 500 * 1024;

/// A rule file with known findings (no `for`, no runbook): proves the rest of a run is audited.
const GOOD: &str = "groups:\n- name: good\n  rules:\n  - alert: StillAudited\n    expr: up == 0\n    labels: {severity: critical}\n    annotations: {summary: s, description: d}\n";

/// The finding of [`GOOD`] that makes a run exit 1 (default `--fail-on error`): a critical alert
/// pages, so its missing runbook is an error.
fn good_was_audited(out: &str) -> bool {
    out.lines()
        .any(|l| l.starts_with("good.yml:4:") && l.contains("error[alerts/missing-runbook]"))
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let d = std::env::temp_dir().join(format!(
            "obsgate-hostile-{}-{}-{tag}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("good.yml"), GOOD).unwrap();
        TempDir(d)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, content).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // a chmod 000 file is removable (the directory is writable), a FIFO too
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Run {
    code: i32,
    out: String,
    err: String,
    /// Peak resident set of the obsgate process, in KiB.
    max_rss_kb: i64,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let cut = |s: &str| s.chars().take(3000).collect::<String>();
        write!(
            f,
            "exit {} (peak RSS {} KiB)\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            self.max_rss_kb,
            cut(&self.out),
            cut(&self.err)
        )
    }
}

/// Run obsgate in `cwd`; reap it with `wait4` for its peak RSS; kill it if it hangs.
// the child is reaped by `wait4`/`waitpid` below, which `Child::wait` would not allow
#[allow(clippy::zombie_processes)]
fn obsgate(cwd: &Path, args: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_obsgate"))
        .args(args)
        .current_dir(cwd)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pump = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            String::from_utf8_lossy(&v).into_owned()
        })
    };
    let out = pump(Box::new(child.stdout.take().unwrap()));
    let err = pump(Box::new(child.stderr.take().unwrap()));
    let pid = child.id() as libc::pid_t;
    let start = Instant::now();
    let (status, usage) = loop {
        let mut status = 0;
        // SAFETY: plain FFI calls on our own child's pid with valid out-pointers.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        assert!(r >= 0, "wait4: {}", std::io::Error::last_os_error());
        if r == pid {
            break (status, usage);
        }
        if start.elapsed() > HANG_GUARD {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let _ = unsafe { libc::waitpid(pid, &mut status, 0) };
            panic!("hung: obsgate {args:?} still running after {HANG_GUARD:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -libc::WTERMSIG(status)
    };
    Run {
        code,
        out: out.join().unwrap(),
        err: err.join().unwrap(),
        max_rss_kb: usage.ru_maxrss,
    }
}

fn check(dir: &TempDir, extra: &[&str]) -> Run {
    let mut args = vec!["check", "--format", "concise"];
    args.extend_from_slice(extra);
    obsgate(&dir.0, &args)
}

/// Nothing crashed: no panic message, no abort.
fn assert_no_crash(r: &Run) {
    assert!(r.code >= 0, "killed by a signal: {r:?}");
    for bad in [
        "panicked",
        "overflowed its stack",
        "RUST_BACKTRACE",
        "fatal runtime",
    ] {
        assert!(!r.err.contains(bad), "{bad}: {r:?}");
    }
}

/// A concise finding line of `file` by `check` with a real `line:col` position.
fn finding<'a>(r: &'a Run, file: &str, check: &str) -> Option<&'a str> {
    r.out.lines().find(|l| {
        l.strip_prefix(file)
            .and_then(|rest| rest.strip_prefix(':'))
            .and_then(|rest| {
                let mut it = rest.splitn(3, ':');
                let line: usize = it.next()?.parse().ok()?;
                let col: usize = it.next()?.parse().ok()?;
                (line >= 1 && col >= 1).then_some(it.next()?)
            })
            .is_some_and(|rest| rest.contains(&format!("[{check}]")))
    })
}

// ---- 1. alias bomb --------------------------------------------------------------------------

#[test]
fn yaml_alias_bomb_is_a_finding_in_bounded_memory() {
    let d = TempDir::new("bomb");
    // nine levels of nine aliases: 9^9 (387 million) strings if expanded
    let mut bomb = String::from(
        "groups:\n- name: bomb\n  rules:\n  - alert: Lol\n    expr: up == 0\n    labels:\n      l0: &l0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 1..=9 {
        let refs = vec![format!("*l{}", i - 1); 9].join(",");
        bomb.push_str(&format!("      l{i}: &l{i} [{refs}]\n"));
    }
    d.write("bomb.yml", &bomb);
    // the same bomb as a top-level document of unknown kind
    d.write("bomb-plain.yaml", bomb.replace("groups:", "lols:"));
    let r = check(&d, &[]);
    assert_no_crash(&r);
    assert_eq!(r.code, 1, "{r:?}");
    let f = finding(&r, "bomb.yml", "rules/syntax").unwrap_or_else(|| panic!("{r:?}"));
    assert!(f.contains("billion laughs"), "{f}");
    assert!(
        finding(&r, "bomb-plain.yaml", "obsgate/unreadable-file").is_some(),
        "{r:?}"
    );
    assert!(good_was_audited(&r.out), "{r:?}");
    assert!(r.max_rss_kb < MAX_RSS_KB, "{r:?}");
    eprintln!("alias bomb: peak RSS {} KiB", r.max_rss_kb);
}

// ---- 2. 100,000-deep nesting ----------------------------------------------------------------

#[test]
fn hundred_thousand_deep_nesting_never_overflows_the_stack() {
    const N: usize = 100_000;
    let d = TempDir::new("deep");
    d.write(
        "flow-seq.yml",
        format!("a: {}{}\n", "[".repeat(N), "]".repeat(N)),
    );
    d.write("block-seq.yml", format!("{}x\n", "- ".repeat(N)));
    d.write(
        "flow-map.yml",
        format!("a: {}1{}\n", "{a: ".repeat(N), "}".repeat(N)),
    );
    // just over the parser's depth budget, inside a rule file: the depth where the parser
    // stops (and not before: the stack must hold up to there on a worker thread)
    d.write(
        "deep-rule.yml",
        format!(
            "groups:\n- name: g\n  rules:\n  - alert: Deep\n    expr: up == 0\n    labels:\n      x: {}1{}\n",
            "{a: ".repeat(60),
            "}".repeat(60)
        ),
    );
    // unclosed: the end of input arrives 100,000 levels down
    d.write("unclosed.yml", "a: ".to_string() + &"{b: [".repeat(N));
    let r = check(&d, &[]);
    assert_no_crash(&r);
    assert_eq!(r.code, 1, "{r:?}");
    for f in [
        "flow-seq.yml",
        "block-seq.yml",
        "flow-map.yml",
        "unclosed.yml",
    ] {
        assert!(
            finding(&r, f, "obsgate/unreadable-file").is_some(),
            "{f}: {r:?}"
        );
    }
    let rule = finding(&r, "deep-rule.yml", "rules/syntax").unwrap_or_else(|| panic!("{r:?}"));
    // the finding names the real problem, not an alias bomb the file does not contain
    assert!(rule.contains("nested more than 64 levels"), "{rule}");
    assert!(!rule.contains("billion"), "{rule}");
    let block = finding(&r, "block-seq.yml", "obsgate/unreadable-file").unwrap();
    assert!(block.contains("nested more than"), "{block}");
    assert!(good_was_audited(&r.out), "{r:?}");
}

// ---- 3. a 50 MB file ------------------------------------------------------------------------

#[test]
fn a_50_mb_file_is_skipped_and_reported() {
    let d = TempDir::new("big");
    // sparse: no 50 MB written to disk
    let f = std::fs::File::create(d.path("huge.yml")).unwrap();
    f.set_len(50 * 1024 * 1024).unwrap();
    drop(f);
    let r = check(&d, &["."]);
    assert_no_crash(&r);
    assert_eq!(r.code, 1, "{r:?}");
    let l = finding(&r, "huge.yml", "obsgate/unreadable-file").unwrap_or_else(|| panic!("{r:?}"));
    assert!(
        l.contains("info[") && l.contains("52428800 bytes is over the 33554432 byte limit"),
        "{l}"
    );
    assert!(good_was_audited(&r.out), "{r:?}");
    // named explicitly: one level higher (warning), and it fails `--fail-on warning`
    let r = check(&d, &["huge.yml", "good.yml", "--fail-on", "warning"]);
    assert_eq!(r.code, 1, "{r:?}");
    let l = finding(&r, "huge.yml", "obsgate/unreadable-file").unwrap();
    assert!(l.contains("warning["), "{l}");
    assert!(r.max_rss_kb < MAX_RSS_KB, "{r:?}");
    eprintln!("50 MB file: peak RSS {} KiB", r.max_rss_kb);
    // only the huge file: a warning does not fail the default `--fail-on error`
    let r = check(&d, &["huge.yml"]);
    assert_eq!(r.code, 0, "{r:?}");
}

// ---- 4. binary and invalid UTF-8 (what tests/bad_input.rs does not cover) -------------------

#[test]
fn binary_and_invalid_utf8_beyond_the_first_block() {
    let d = TempDir::new("binary");
    // valid YAML text for 10 KB, then a NUL: past the 8 KiB binary sniff
    let mut late_nul = "# padding comment line\n".repeat(500).into_bytes();
    late_nul.extend_from_slice(b"groups: [\0]\n");
    d.write("late-nul.yml", &late_nul);
    // invalid UTF-8 deep into an otherwise valid rule file
    let mut late_bad = GOOD.replace("good", "other").into_bytes();
    late_bad.extend_from_slice(&"# padding\n".repeat(2000).into_bytes());
    late_bad.extend_from_slice(b"# caf\xe9\n");
    d.write("late-latin1.yml", &late_bad);
    // UTF-16 with a BOM (what some Windows editors save)
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain("groups: []\n".encode_utf16().flat_map(|u| u.to_le_bytes()))
        .collect();
    d.write("utf16.yaml", &utf16);
    // a prom-client source that is binary garbage after the import
    let mut js = b"const client = require('prom-client');\n".to_vec();
    js.extend_from_slice(&[0xc3, 0x28, 0xa0, 0xa1, 0xff, 0xfe]);
    d.write("app.js", &js);
    let r = check(&d, &[]);
    assert_no_crash(&r);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        finding(&r, "late-nul.yml", "obsgate/unreadable-file").is_some(),
        "{r:?}"
    );
    let l = finding(&r, "late-latin1.yml", "obsgate/unreadable-file").unwrap();
    assert!(
        l.contains("not valid UTF-8 (first invalid byte at offset"),
        "{l}"
    );
    assert!(
        finding(&r, "utf16.yaml", "obsgate/unreadable-file").is_some(),
        "{r:?}"
    );
    assert!(
        finding(&r, "app.js", "obsgate/unreadable-file").is_some(),
        "{r:?}"
    );
    assert!(good_was_audited(&r.out), "{r:?}");
}

// ---- 5. symlink loops -----------------------------------------------------------------------

#[test]
fn symlink_loops_in_the_tree_and_on_the_command_line() {
    let d = TempDir::new("symlinks");
    std::os::unix::fs::symlink("loop-b.yml", d.path("loop-a.yml")).unwrap();
    std::os::unix::fs::symlink("loop-a.yml", d.path("loop-b.yml")).unwrap();
    std::os::unix::fs::symlink("self.yml", d.path("self.yml")).unwrap();
    // a directory that contains a link to its parent
    std::fs::create_dir(d.path("sub")).unwrap();
    std::os::unix::fs::symlink("..", d.path("sub/up")).unwrap();
    std::os::unix::fs::symlink(".", d.path("sub/here")).unwrap();
    // inside the tree: links are never followed, so loops cannot trap the walk, and the
    // files of the tree are audited once
    let r = check(&d, &["."]);
    assert_no_crash(&r);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(good_was_audited(&r.out), "{r:?}");
    assert_eq!(
        r.out.matches("[alerts/missing-runbook]").count(),
        1,
        "the good file was audited more than once: {r:?}"
    );
    assert!(r.err.contains("obsgate: 1 files"), "{r:?}");
    // named explicitly: an unreadable path is a run error (exit 2) that names it
    let r = check(&d, &["loop-a.yml", "good.yml"]);
    assert_no_crash(&r);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.err.contains("loop-a.yml") && r.err.contains("symbolic links"),
        "{r:?}"
    );
    let r = check(&d, &["self.yml"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.err.contains("self.yml"), "{r:?}");
}

// ---- 6. an unreadable file ------------------------------------------------------------------

#[test]
fn an_unreadable_file_is_a_finding_and_the_rest_is_audited() {
    let d = TempDir::new("unreadable");
    let locked = d.write("locked.yml", GOOD);
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if root {
        eprintln!("SKIP (chmod 000 part): running as root, which reads files whatever their mode");
    } else {
        let r = check(&d, &["."]);
        assert_no_crash(&r);
        assert_eq!(r.code, 1, "{r:?}");
        let l =
            finding(&r, "locked.yml", "obsgate/unreadable-file").unwrap_or_else(|| panic!("{r:?}"));
        assert!(
            l.contains("cannot read file") && l.contains("ermission denied"),
            "{l}"
        );
        assert!(good_was_audited(&r.out), "{r:?}");
    }
    // a read error that happens to root too: /proc/self/mem is a regular file whose first page
    // (address 0) is never mapped, so read(2) fails with EIO
    let r = check(&d, &["/proc/self/mem", "good.yml"]);
    assert_no_crash(&r);
    assert_eq!(r.code, 1, "{r:?}");
    let l =
        finding(&r, "/proc/self/mem", "obsgate/unreadable-file").unwrap_or_else(|| panic!("{r:?}"));
    assert!(l.contains("cannot read file"), "{l}");
    assert!(good_was_audited(&r.out), "{r:?}");
}

/// Creates `depth` nested directories named `name` under `dir` with `mkdirat`/`openat`, one
/// level at a time (a path longer than PATH_MAX cannot be made in one call); returns the path,
/// relative to `dir`, of the first level that cannot be opened as `./PATH` from `dir` (PATH_MAX
/// bytes or more, its NUL included).
fn nest_past_path_max(dir: &Path, name: &str, depth: usize) -> String {
    use std::ffi::CString;
    let c = |s: &str| CString::new(s).unwrap();
    let mut shown = String::new();
    let mut first_too_long = None;
    // SAFETY: plain FFI calls on descriptors this function opens and closes, with NUL-terminated
    // names.
    unsafe {
        let mut fd = libc::open(
            c(dir.to_str().unwrap()).as_ptr(),
            libc::O_DIRECTORY | libc::O_RDONLY,
        );
        assert!(fd >= 0);
        for _ in 0..depth {
            assert_eq!(libc::mkdirat(fd, c(name).as_ptr(), 0o755), 0);
            let next = libc::openat(fd, c(name).as_ptr(), libc::O_DIRECTORY | libc::O_RDONLY);
            assert!(next >= 0);
            libc::close(fd);
            fd = next;
            if !shown.is_empty() {
                shown.push('/');
            }
            shown.push_str(name);
            if first_too_long.is_none() && "./".len() + shown.len() + 1 > libc::PATH_MAX as usize {
                first_too_long = Some(shown.clone());
            }
        }
        libc::close(fd);
    }
    first_too_long.expect("not deep enough")
}

/// A directory that cannot be read (a path longer than PATH_MAX, which even root cannot open;
/// a mode 000 directory for other users) is a finding at its path, and the rest is audited:
/// the run exited 2 without auditing anything.
#[test]
fn an_unreadable_directory_is_a_finding_and_the_rest_is_audited() {
    let d = TempDir::new("unreadable-dir");
    let name = "d".repeat(200);
    let too_long = nest_past_path_max(&d.0, &name, 25);
    let r = check(&d, &["."]);
    assert_no_crash(&r);
    assert_eq!(r.code, 1, "{r:?}");
    let l = finding(&r, &too_long, "obsgate/unreadable-file").unwrap_or_else(|| panic!("{r:?}"));
    assert!(
        l.contains("cannot read directory") && l.contains("too long"),
        "{l}"
    );
    assert!(good_was_audited(&r.out), "{r:?}");
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        eprintln!(
            "SKIP (chmod 000 part): running as root, which reads directories whatever their mode"
        );
        return;
    }
    let d = TempDir::new("locked-dir");
    let locked = d.path("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::write(locked.join("hidden.yml"), GOOD).unwrap();
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    let r = check(&d, &["."]);
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    assert_no_crash(&r);
    assert_eq!(r.code, 1, "{r:?}");
    let l = finding(&r, "locked", "obsgate/unreadable-file").unwrap_or_else(|| panic!("{r:?}"));
    assert!(l.contains("ermission denied"), "{l}");
    assert!(good_was_audited(&r.out), "{r:?}");
}

/// Alertmanager `templates:` are read only inside the project and within the input size limit,
/// and what is not read is said: a pattern that climbs out of the project, a link that leads out
/// of it, a file over the limit (33 MiB, sparse: never read whole), a FIFO (never blocks).
#[test]
fn alertmanager_templates_stay_in_the_project_and_the_size_limit() {
    let d = TempDir::new("am-templates");
    let outside = TempDir::new("am-outside");
    // would be a finding (it does not parse) if it were read
    outside.write("secret.tmpl", "{{ define \"x\" }}{{ .Broken ");
    let out_name = outside.0.file_name().unwrap().to_str().unwrap().to_string();
    std::fs::create_dir_all(d.path("tpl")).unwrap();
    d.write("tpl/ok.tmpl", "{{ define \"ok\" }}fine{{ end }}");
    std::os::unix::fs::symlink(outside.path("secret.tmpl"), d.path("tpl/link.tmpl")).unwrap();
    std::fs::create_dir_all(d.path("big")).unwrap();
    let big = std::fs::File::create(d.path("big/huge.tmpl")).unwrap();
    big.set_len(33 * 1024 * 1024).unwrap();
    std::fs::create_dir_all(d.path("fifo")).unwrap();
    mkfifo(&d.path("fifo/pipe.tmpl"));
    d.write(
        "alertmanager.yml",
        format!(
            "route:\n  receiver: team\nreceivers:\n  - name: team\ntemplates:\n  - '../{out_name}/*.tmpl'\n  - 'tpl/*.tmpl'\n  - 'big/*.tmpl'\n  - 'fifo/*.tmpl'\n"
        ),
    );
    let r = check(&d, &["alertmanager.yml", "good.yml"]);
    assert_no_crash(&r);
    let template: Vec<&str> = r
        .out
        .lines()
        .filter(|l| l.contains("[alertmanager/template]"))
        .collect();
    let has = |what: &str| template.iter().any(|l| l.contains(what));
    assert!(
        has(&format!("`../{out_name}/*.tmpl` was not read:")) && has("is outside the project"),
        "{r:?}"
    );
    assert!(
        has("template file link.tmpl was not read: it leads outside the project"),
        "{r:?}"
    );
    assert!(
        has("template file huge.tmpl was not read: 34603008 bytes is over the 33554432 byte limit"),
        "{r:?}"
    );
    assert!(
        has("template file pipe.tmpl was not read: cannot read it"),
        "{r:?}"
    );
    assert!(!r.out.contains("does not parse"), "{r:?}");
    // one level lower than the check's errors
    assert!(template.iter().all(|l| l.contains(": warning[")), "{r:?}");
    assert!(good_was_audited(&r.out), "{r:?}");
}

// ---- 7. FIFOs -------------------------------------------------------------------------------

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

#[test]
fn a_fifo_never_blocks_the_run() {
    let d = TempDir::new("fifo");
    mkfifo(&d.path("pipe.yml"));
    std::fs::create_dir(d.path("sub")).unwrap();
    mkfifo(&d.path("sub/alerts.yaml"));
    // in the tree: not a regular file, not read (a walk never opens it)
    let r = check(&d, &["."]);
    assert_no_crash(&r);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(good_was_audited(&r.out), "{r:?}");
    // named explicitly: reported (not silently dropped), never opened for a blocking read
    let r = check(&d, &["pipe.yml", "sub/alerts.yaml", "good.yml"]);
    assert_no_crash(&r);
    assert_eq!(r.code, 1, "{r:?}");
    for f in ["pipe.yml", "sub/alerts.yaml"] {
        let l = finding(&r, f, "obsgate/unreadable-file").unwrap_or_else(|| panic!("{r:?}"));
        assert!(l.contains("named pipe (FIFO)"), "{l}");
    }
    assert!(good_was_audited(&r.out), "{r:?}");
    // only the FIFO: a warning, so the default `--fail-on error` passes and `warning` fails
    assert_eq!(check(&d, &["pipe.yml"]).code, 0);
    assert_eq!(check(&d, &["pipe.yml", "--fail-on", "warning"]).code, 1);
}

// ---- 8. 10,000 identical alerts -------------------------------------------------------------

#[test]
fn ten_thousand_identical_alerts() {
    const N: usize = 10_000;
    let d = TempDir::new("dups");
    let mut s = String::from("groups:\n- name: g\n  rules:\n");
    for _ in 0..N {
        s.push_str("  - alert: Same\n    expr: up == 0\n    for: 5m\n    labels: {severity: warning}\n    annotations: {summary: s, description: d, runbook_url: 'https://runbooks.acme.io/same'}\n");
    }
    d.write("dups.yml", &s);
    let r = check(&d, &[]);
    assert_no_crash(&r);
    assert_eq!(r.code, 1, "{r:?}");
    let dup: Vec<&str> = r
        .out
        .lines()
        .filter(|l| l.starts_with("dups.yml:"))
        .collect();
    // one finding per copy after the first, each pointing at the first: linear, not pairwise
    assert_eq!(dup.len(), N - 1, "{r:?}");
    assert!(
        dup.iter()
            .all(|l| l.contains("[rules/duplicate]") && l.contains("already defined at line 4")),
        "{:?}",
        dup.iter()
            .find(|l| !l.contains("already defined at line 4"))
    );
    assert!(r.out.len() < N * 200, "{} bytes of output", r.out.len());
    assert!(good_was_audited(&r.out), "{r:?}");
    assert!(r.max_rss_kb < MAX_RSS_KB, "{r:?}");
    eprintln!(
        "10,000 identical alerts: {} findings, {} bytes of output, peak RSS {} KiB",
        dup.len(),
        r.out.len(),
        r.max_rss_kb
    );
}

// ---- 9./10. hostile probe targets -----------------------------------------------------------

/// What the fake target sends on `/metrics` (`/health` always answers 200 `ok`).
#[derive(Clone, Copy)]
enum Metrics {
    /// This many distinct series of one gauge, streamed.
    Series(usize),
    /// Filler lines, without a length, until the client hangs up or `max` bytes are sent.
    Endless { max: usize },
    /// This many lines that do not parse (`}`), streamed.
    Garbage(usize),
}

/// A loopback HTTP server that answers at most `max_conns` connections (each on its own
/// thread) and stops by itself after `life`. Bodies are streamed, never built whole.
fn serve(metrics: Metrics, max_conns: usize, life: Duration) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    l.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let end = Instant::now() + life;
        let mut n = 0;
        while Instant::now() < end && n < max_conns {
            match l.accept() {
                Ok((s, _)) => {
                    n += 1;
                    std::thread::spawn(move || answer(s, metrics, end));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    port
}

fn answer(mut s: TcpStream, metrics: Metrics, end: Instant) {
    s.set_nonblocking(false).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    s.set_write_timeout(Some(Duration::from_secs(5))).ok();
    let mut buf = [0u8; 4096];
    let n = s.read(&mut buf).unwrap_or(0);
    let req = String::from_utf8_lossy(&buf[..n]).to_string();
    let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
    if path != "/metrics" {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        return;
    }
    // no Content-Length: the body ends when the connection closes
    let head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nConnection: close\r\n\r\n";
    if s.write_all(head.as_bytes()).is_err() {
        return;
    }
    let mut w = std::io::BufWriter::with_capacity(1 << 16, s);
    match metrics {
        Metrics::Series(count) => {
            let _ = w
                .write_all(b"# HELP big_gauge A gauge with many series.\n# TYPE big_gauge gauge\n");
            for i in 0..count {
                if writeln!(
                    w,
                    "big_gauge{{shard=\"{}\",slot=\"{}\"}} 1",
                    i % 1000,
                    i / 1000
                )
                .is_err()
                    || Instant::now() > end
                {
                    return;
                }
            }
        }
        Metrics::Garbage(lines) => {
            let chunk = "}\n".repeat(4096);
            for _ in 0..lines / 4096 {
                if w.write_all(chunk.as_bytes()).is_err() || Instant::now() > end {
                    return;
                }
            }
        }
        Metrics::Endless { max } => {
            let chunk =
                "# filler comment line of an endless exposition body, repeated\n".repeat(1024);
            let mut sent = 0;
            while sent < max && Instant::now() < end {
                if w.write_all(chunk.as_bytes()).is_err() {
                    return; // the client hung up: what a bounded reader does
                }
                sent += chunk.len();
            }
        }
    }
    let _ = w.flush();
}

const PROBE_RULES: &str = "groups:\n- name: g\n  rules:\n  - alert: BigGaugeHigh\n    expr: big_gauge > 10\n    for: 5m\n    annotations: {summary: s, description: d, runbook_url: 'https://runbooks.acme.io/big'}\n";

fn probe(d: &TempDir, port: u16, extra: &[&str]) -> Run {
    let url = format!("http://127.0.0.1:{port}");
    let mut args = vec![
        "probe",
        "--target",
        &url,
        "--rules",
        "rules.yml",
        "good.yml",
    ];
    if !extra.contains(&"--format") {
        args.extend_from_slice(&["--format", "concise"]);
    }
    args.extend_from_slice(extra);
    obsgate(&d.0, &args)
}

#[test]
fn a_million_series_scrape_in_bounded_memory() {
    const SERIES: usize = 1_000_000;
    let d = TempDir::new("million");
    d.write("rules.yml", PROBE_RULES);
    let port = serve(Metrics::Series(SERIES), 8, Duration::from_secs(60));
    let r = probe(&d, port, &["--ready-timeout", "10s", "--format", "json"]);
    assert_no_crash(&r);
    assert_eq!(r.code, 1, "{r:?}");
    let v: serde_json::Value =
        serde_json::from_str(&r.out).unwrap_or_else(|e| panic!("{e}: {r:?}"));
    let m = &v["probe"][0]["metrics"];
    assert_eq!(m["families"], 1, "{m}");
    let bytes = m["bytes"].as_u64().unwrap_or(0);
    assert!(bytes > 30_000_000, "{m}");
    let findings = v["findings"].as_array().unwrap();
    // the rule's metric is exposed: not reported missing; the good file is still audited
    assert!(
        !findings
            .iter()
            .any(|f| f["check"] == "metrics/missing" && f["file"] == "rules.yml"),
        "{findings:?}"
    );
    assert!(
        findings
            .iter()
            .any(|f| f["check"] == "alerts/missing-runbook" && f["file"] == "good.yml"),
        "{findings:?}"
    );
    // memory is bounded by the scrape sample limit, reported where the scrape crosses it
    // (line 3 is the first sample)
    let limit = obsgate::parse::exposition::SCRAPE_SAMPLE_LIMIT;
    let over = findings
        .iter()
        .find(|f| {
            f["check"] == "metrics/exposition"
                && f["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(&format!("sample limit of {limit} exceeded")))
        })
        .unwrap_or_else(|| panic!("no sample limit finding: {findings:?}"));
    assert_eq!(over["line"], limit + 3, "{over}");
    assert!(
        over["file"]
            .as_str()
            .is_some_and(|f| f.ends_with(&format!("127.0.0.1:{port}/metrics"))),
        "{over}"
    );
    // a bounded report: the findings do not grow with the number of series
    assert!(findings.len() < 100, "{} findings", findings.len());
    assert!(r.max_rss_kb < MAX_RSS_KB, "{r:?}");
    eprintln!(
        "1,000,000 series ({bytes} bytes): {} findings, peak RSS {} KiB",
        findings.len(),
        r.max_rss_kb
    );
}

#[test]
fn an_endless_metrics_body_is_cut_and_reported() {
    let d = TempDir::new("endless");
    d.write("rules.yml", PROBE_RULES);
    // up to 1 GiB, streamed: obsgate must hang up long before
    let port = serve(
        Metrics::Endless { max: 1 << 30 },
        8,
        Duration::from_secs(60),
    );
    let r = probe(&d, port, &["--ready-timeout", "10s"]);
    assert_no_crash(&r);
    assert_eq!(r.code, 1, "{r:?}");
    let url = format!("http://127.0.0.1:{port}/metrics");
    assert!(
        r.out.lines().any(|l| l.contains("[metrics/exposition]")
            && l.contains(&url)
            && l.contains("returned more than")),
        "{r:?}"
    );
    assert!(good_was_audited(&r.out), "{r:?}");
    assert!(r.max_rss_kb < MAX_RSS_KB, "{r:?}");
    eprintln!("endless body: peak RSS {} KiB", r.max_rss_kb);
}

#[test]
fn millions_of_unparsable_lines_give_a_bounded_report() {
    const LINES: usize = 4_096 * 1_000;
    let d = TempDir::new("garbage");
    d.write("rules.yml", PROBE_RULES);
    let port = serve(Metrics::Garbage(LINES), 8, Duration::from_secs(60));
    let r = probe(&d, port, &["--ready-timeout", "10s"]);
    assert_no_crash(&r);
    assert_eq!(r.code, 1, "{r:?}");
    let url = format!("http://127.0.0.1:{port}/metrics");
    let expo: Vec<&str> = r
        .out
        .lines()
        .filter(|l| l.starts_with(&url) && l.contains("[metrics/exposition]"))
        .collect();
    let max = obsgate::parse::exposition::MAX_ERRORS;
    // the first errors at their positions, then one that counts the rest
    assert_eq!(expo.len(), max + 1, "{r:?}");
    assert!(expo[0].starts_with(&format!("{url}:1:1:")), "{}", expo[0]);
    assert!(
        expo[max].contains(&format!("{} more lines do not parse", LINES - max)),
        "{}",
        expo[max]
    );
    assert!(good_was_audited(&r.out), "{r:?}");
    assert!(r.max_rss_kb < MAX_RSS_KB, "{r:?}");
    eprintln!(
        "{LINES} unparsable lines: {} findings, peak RSS {} KiB",
        expo.len(),
        r.max_rss_kb
    );
}

#[test]
fn a_target_that_accepts_and_never_answers() {
    let d = TempDir::new("silent");
    d.write("rules.yml", PROBE_RULES);
    // accepts every connection and holds it open without a byte of answer
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    l.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs(60);
        let mut held = Vec::new();
        while Instant::now() < end {
            match l.accept() {
                Ok((s, _)) => held.push(s),
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    let start = Instant::now();
    let r = probe(&d, port, &["--ready-timeout", "2s"]);
    let took = start.elapsed();
    assert_no_crash(&r);
    // nothing could be probed: exit 2, and the finding names the target
    assert_eq!(r.code, 2, "{r:?}");
    let base = format!("http://127.0.0.1:{port}");
    assert!(
        r.out.lines().any(|l| l.starts_with(&base)
            && l.contains("[probe/unreachable]")
            && l.contains("timed out")),
        "{r:?}"
    );
    assert!(r.err.contains("no target could be probed"), "{r:?}");
    // the other files are still audited
    assert!(good_was_audited(&r.out), "{r:?}");
    eprintln!("silent target, --ready-timeout 2s: obsgate took {took:?}");
}

/// The VmHWM (peak resident set) of process `pid`, in KiB.
fn peak_rss_kb(pid: u32) -> i64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// A GET on a loopback address with a plain HTTP/1.0 request; the status and body.
fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(100))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, body.to_string())
}

/// The exporter probing a target whose `/metrics` never ends: a probe holds the exporter's
/// body cap (16 MiB) and a few MiB more, while it runs and after (the buffer that doubled, a
/// copy into the project's source and a lowercased copy for the secret scan held 2.5 times
/// the cap), and four probes at once (the default `--max-concurrent`) four times that.
#[test]
fn the_exporter_holds_a_probe_to_its_body_cap() {
    const CAP_KB: i64 = 16 * 1024;
    const MARGIN_KB: i64 = 8 * 1024;
    let d = TempDir::new("exporter-endless");
    let port = serve(
        Metrics::Endless { max: 1 << 30 },
        64,
        Duration::from_secs(100),
    );
    d.write(
        ".obsgate.yml",
        format!("probe:\n  targets:\n    - name: endless\n      url: http://127.0.0.1:{port}\n"),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_obsgate"))
        .args(["exporter", "--listen", "127.0.0.1:0", "--rules", "good.yml"])
        .current_dir(&d.0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut err, &mut line).unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address: {line:?}"))
        .to_string();
    let (status, _) = http_get(&addr, "/health");
    assert_eq!(status, 200);
    let before = peak_rss_kb(pid);
    let (status, body) = http_get(&addr, "/probe?target=endless");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\nprobe_success 0\n"), "{body}");
    let one = peak_rss_kb(pid) - before;
    let probes: Vec<_> = (0..4)
        .map(|_| {
            let addr = addr.clone();
            std::thread::spawn(move || http_get(&addr, "/probe?target=endless"))
        })
        .collect();
    for p in probes {
        let (status, body) = p.join().unwrap();
        assert_eq!(status, 200, "{body}");
    }
    let four = peak_rss_kb(pid) - before;
    let _ = child.kill();
    let _ = child.wait();
    eprintln!(
        "endless /metrics through the exporter: one probe +{one} KiB, four at once +{four} KiB"
    );
    assert!(one < CAP_KB + MARGIN_KB, "one probe: +{one} KiB");
    assert!(four < 4 * (CAP_KB + MARGIN_KB), "four probes: +{four} KiB");
}

// ---- 11. a booted service when obsgate is killed --------------------------------------------

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}

/// SIGTERM is covered by tests/probe.rs (`booted_service_is_stopped_on_sigint` sends SIGINT
/// and SIGTERM). SIGKILL cannot be handled by obsgate itself: a watchdog process stops the
/// booted group, and every process marked with the boot's id (a daemon in a session of its
/// own), when obsgate's end of a pipe closes, however obsgate died.
#[test]
fn booted_service_dies_with_obsgate_on_sigkill() {
    let d = TempDir::new("sigkill");
    let pidfile = d.path("service.pid");
    let daemonfile = d.path("daemon.pid");
    // a service (and a grandchild that ignores SIGTERM, and a daemon) that never gets ready
    let boot = format!(
        "trap '' TERM; setsid sleep 300 & echo $! > {}; sleep 300 & echo $! > {}; wait",
        daemonfile.display(),
        pidfile.display()
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_obsgate"))
        .args([
            "probe",
            "--target",
            "http://127.0.0.1:9",
            "--boot",
            &boot,
            "--ready-timeout",
            "100s",
            "--rules",
            "good.yml",
        ])
        .current_dir(&d.0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let pid: i32 = loop {
        if let Some(p) = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            break p;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("the booted command never started");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let daemon: i32 = loop {
        if let Some(p) = std::fs::read_to_string(&daemonfile)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            break p;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no daemon");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(alive(pid) && alive(daemon));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let start = Instant::now();
    while (alive(pid) || alive(daemon)) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let survivors: Vec<i32> = [pid, daemon].into_iter().filter(|&p| alive(p)).collect();
    for &p in &survivors {
        // SAFETY: the test's own leftover process.
        unsafe { libc::kill(p, libc::SIGKILL) };
    }
    assert!(
        survivors.is_empty(),
        "booted {survivors:?} survived SIGKILL of obsgate (grandchild {pid}, daemon {daemon})"
    );
}
