//! The release path without a Rust toolchain: `dist/build.sh --binary` packages a binary the way
//! releases are packaged (here the debug build, a cheap stand-in for the release build), a local
//! release server on 127.0.0.1 serves it, and `scripts/install.sh` downloads, verifies and
//! installs it; every failure (no archive, a wrong checksum, an unreachable server, bad usage)
//! leaves nothing behind.

mod http;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const OBSGATE: &str = env!("CARGO_BIN_EXE_obsgate");
const VERSION: &str = env!("CARGO_PKG_VERSION");
const TARGET: &str = "x86_64-unknown-linux-gnu";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("install")
        .join(format!("{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

fn applies() -> bool {
    if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        return true;
    }
    eprintln!("SKIP: the stand-in archive is for x86_64 Linux");
    false
}

/// Package the debug binary into `<releases>/v<VERSION>/` with dist/build.sh.
pub fn stand_in_release(releases: &Path) -> PathBuf {
    let out = releases.join(format!("v{VERSION}"));
    let o = Command::new("bash")
        .arg(root().join("dist/build.sh"))
        .args(["--binary", OBSGATE, "--target", TARGET, "--out"])
        .arg(&out)
        // fast compression: the debug binary is large and the tests are about the wiring
        .env("OBSGATE_DIST_GZIP_LEVEL", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "dist/build.sh: {}", text(&o));
    let archive = out.join(format!("obsgate-{VERSION}-{TARGET}.tar.gz"));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        archive.display().to_string()
    );
    archive
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n{}{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `sh scripts/install.sh ARGS` with the server as the download base and its own TMPDIR.
fn install(base: &str, tmpdir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    fs::create_dir_all(tmpdir).unwrap();
    let mut cmd = Command::new("sh");
    cmd.arg(root().join("scripts/install.sh"))
        .args(args)
        .env("OBSGATE_DOWNLOAD_URL", base)
        .env("TMPDIR", tmpdir)
        .env_remove("OBSGATE_TARGET");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn dist_build_packages_a_binary_with_its_checksum() {
    if !applies() {
        return;
    }
    let dir = scratch("package");
    let archive = stand_in_release(&dir);
    let name = format!("obsgate-{VERSION}-{TARGET}");
    // tar lists the one directory with the binary and the README
    let o = Command::new("tar")
        .arg("-tzvf")
        .arg(&archive)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let listing = String::from_utf8_lossy(&o.stdout);
    let mut names: Vec<&str> = listing
        .lines()
        .map(|l| l.split_whitespace().last().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            format!("{name}/"),
            format!("{name}/README.md"),
            format!("{name}/obsgate")
        ]
    );
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("-rwxr-xr-x") && l.ends_with("/obsgate")),
        "{listing}"
    );
    assert!(listing.contains(" 0/0 "), "owned by root:root: {listing}");
    // the checksum file is `sha256sum` format and verifies
    let sum = fs::read_to_string(archive.with_extension("gz.sha256")).unwrap();
    let fname = format!("{name}.tar.gz");
    assert!(
        sum.len() == 64 + 2 + fname.len() + 1 && sum.ends_with(&format!("  {fname}\n")),
        "{sum:?}"
    );
    let o = Command::new("sha256sum")
        .args(["-c", &format!("{fname}.sha256")])
        .current_dir(archive.parent().unwrap())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    // reproducible: the same input gives the same bytes
    let first = fs::read(&archive).unwrap();
    stand_in_release(&dir);
    assert_eq!(
        first,
        fs::read(&archive).unwrap(),
        "the archive is reproducible"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn install_script_installs_the_verified_binary() {
    if !applies() {
        return;
    }
    let dir = scratch("ok");
    let releases = dir.join("releases");
    stand_in_release(&releases);
    let server = http::Server::start(&releases, Duration::from_secs(120));
    let tmp = dir.join("tmp");
    let to = dir.join("install dir/bin");

    let start = Instant::now();
    let o = install(
        &server.url,
        &tmp,
        &["--version", VERSION, "--to", to.to_str().unwrap()],
        &[],
    );
    let took = start.elapsed();
    eprintln!("install.sh from the local server: {took:?}\n{}", text(&o));
    assert!(o.status.success(), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(&format!("installed obsgate {VERSION} at ")),
        "{stderr}"
    );
    // the archive and its checksum, nothing else, were asked for
    let name = format!("obsgate-{VERSION}-{TARGET}.tar.gz");
    assert_eq!(
        server.requests(),
        [
            format!("GET /v{VERSION}/{name}"),
            format!("GET /v{VERSION}/{name}.sha256")
        ]
    );
    assert_eq!(entries(&to), ["obsgate"], "only the binary is installed");
    assert!(entries(&tmp).is_empty(), "temporary files removed");
    let o = Command::new(to.join("obsgate"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("obsgate {VERSION}")
    );
    // the installed binary audits files
    let o = Command::new(to.join("obsgate"))
        .args(["check", "fixtures/seed", "--format", "concise"])
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));

    // `v` prefixes are accepted, `--to=DIR` too, and a second install replaces the first
    fs::write(to.join("obsgate"), "old").unwrap();
    let o = install(
        &server.url,
        &tmp,
        &[
            &format!("--version=v{VERSION}"),
            &format!("--to={}", to.display()),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        fs::read(to.join("obsgate")).unwrap(),
        fs::read(OBSGATE).unwrap()
    );
    assert_eq!(entries(&to), ["obsgate"]);
    assert!(entries(&tmp).is_empty());

    // bash runs it the same as sh
    let to2 = dir.join("bash-install");
    let o = Command::new("bash")
        .arg(root().join("scripts/install.sh"))
        .args(["--version", VERSION, "--to", to2.to_str().unwrap()])
        .env("OBSGATE_DOWNLOAD_URL", format!("{}/", server.url))
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(entries(&to2), ["obsgate"]);
    drop(server);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn install_script_leaves_nothing_behind_on_failure() {
    if !applies() {
        return;
    }
    let dir = scratch("fail");
    let releases = dir.join("releases");
    let archive = stand_in_release(&releases);
    let server = http::Server::start(&releases, Duration::from_secs(120));
    let tmp = dir.join("tmp");
    let to = dir.join("bin");
    let to_s = to.to_str().unwrap();

    // no such version: exit 3, nothing created
    let o = install(
        &server.url,
        &tmp,
        &["--version", "9.9.9", "--to", to_s],
        &[],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("no archive for obsgate 9.9.9 on {TARGET}")),
        "{}",
        text(&o)
    );
    assert!(!to.exists(), "the destination is not created");
    assert!(entries(&tmp).is_empty(), "{:?}", entries(&tmp));

    // another target than the detected one (OBSGATE_TARGET): not released here, exit 3
    let o = install(
        &server.url,
        &tmp,
        &["--version", VERSION, "--to", to_s],
        &[("OBSGATE_TARGET", "x86_64-unknown-linux-musl")],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("x86_64-unknown-linux-musl"));

    // a checksum that does not match: exit 1, an existing binary untouched
    fs::create_dir_all(&to).unwrap();
    fs::write(to.join("obsgate"), "previous").unwrap();
    // each refusal: exit 1 saying why, the existing binary untouched, nothing left behind
    let refused = |url: &str, why: &str| {
        let o = install(url, &tmp, &["--version", VERSION, "--to", to_s], &[]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains(why), "{why}: {}", text(&o));
        assert_eq!(fs::read_to_string(to.join("obsgate")).unwrap(), "previous");
        assert_eq!(entries(&to), ["obsgate"]);
        assert!(entries(&tmp).is_empty(), "{:?}", entries(&tmp));
    };
    let sum = archive.with_extension("gz.sha256");
    let good = fs::read_to_string(&sum).unwrap();
    let flipped = if good.starts_with('0') { "1" } else { "0" };
    fs::write(&sum, format!("{flipped}{}", &good[1..])).unwrap();
    refused(&server.url, "checksum mismatch");

    // a checksum file that holds no checksum
    fs::write(&sum, "<html>not found</html>\n").unwrap();
    refused(&server.url, "holds no sha256 checksum");

    // no checksum file at all: never installed unverified
    fs::remove_file(&sum).unwrap();
    refused(&server.url, "cannot download the checksum");

    // an archive that is not one (with its matching checksum): exit 1
    fs::write(&archive, "not a tarball").unwrap();
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "sha256sum '{0}' | sed 's|  .*/|  |' > '{0}.sha256'",
            archive.display()
        ))
        .output()
        .unwrap();
    assert!(o.status.success());
    refused(&server.url, "cannot unpack");

    // the server is gone: exit 1
    let url = server.url.clone();
    drop(server);
    refused(&url, "cannot download");

    // usage errors: exit 2 before anything is downloaded
    for args in [
        &[][..],
        &["--version"][..],
        &["--version", "1.0; rm -rf /"][..],
        &["--bogus"][..],
    ] {
        let o = install(&url, &tmp, args, &[]);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
    }
    let o = install(&url, &tmp, &["--help"], &[]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("OBSGATE_DOWNLOAD_URL"));
    let _ = fs::remove_dir_all(&dir);
}

/// With wget instead of curl (Alpine's busybox has wget, not curl).
#[test]
fn install_script_works_with_wget() {
    if !applies() {
        return;
    }
    let tools = [
        "sh",
        "uname",
        "ls",
        "grep",
        "mktemp",
        "rm",
        "sed",
        "tr",
        "cut",
        "sha256sum",
        "mkdir",
        "tar",
        "gzip",
        "chmod",
        "cp",
        "mv",
        "wget",
        "ldd",
        "cat",
    ];
    let dir = scratch("wget");
    let bin = dir.join("path");
    fs::create_dir_all(&bin).unwrap();
    for t in tools {
        let o = Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .output()
            .unwrap();
        let p = String::from_utf8_lossy(&o.stdout).trim().to_string();
        if p.is_empty() {
            eprintln!("SKIP: {t} not found");
            return;
        }
        std::os::unix::fs::symlink(&p, bin.join(t)).unwrap();
    }
    let releases = dir.join("releases");
    stand_in_release(&releases);
    let server = http::Server::start(&releases, Duration::from_secs(120));
    let tmp = dir.join("tmp");
    let to = dir.join("bin");
    let path = bin.display().to_string();
    let o = install(
        &server.url,
        &tmp,
        &["--version", VERSION, "--to", to.to_str().unwrap()],
        &[("PATH", &path)],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(entries(&to), ["obsgate"]);
    let o = install(
        &server.url,
        &tmp,
        &["--version", "9.9.9", "--to", to.to_str().unwrap()],
        &[("PATH", &path)],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(entries(&tmp).is_empty());
    let _ = fs::remove_dir_all(&dir);
}
