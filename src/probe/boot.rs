//! Booting the service under test: `sh -c CMD` in its own process group, its output captured
//! (the last 64 KiB, shown when it fails or never gets ready), and the whole group always
//! stopped at the end: when the [`Booted`] guard drops (success, error, panic), on
//! SIGINT/SIGTERM to obsgate (a signal thread stops every booted group, then exits 130/143),
//! and even when obsgate is killed with SIGKILL (a watchdog process outside the group holds
//! one end of a pipe whose other end only obsgate holds: when it closes without the "stopped"
//! line, obsgate died, and the watchdog kills the group).

use std::collections::VecDeque;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

const TAIL_BYTES: usize = 64 * 1024;

/// Process groups of every service booted and not yet stopped, with the write end of their
/// watchdog's pipe (-1 without a watchdog).
fn groups() -> &'static Mutex<Vec<(i32, i32)>> {
    static G: OnceLock<Mutex<Vec<(i32, i32)>>> = OnceLock::new();
    G.get_or_init(|| Mutex::new(Vec::new()))
}

/// Start the watchdog of a booted group: `sh` in its own process group (a Ctrl-C or a signal
/// to obsgate's group does not end it) that reads one line from a pipe. obsgate writes the line
/// once it has stopped the group itself; if obsgate dies first (SIGKILL, OOM killer), the pipe
/// closes without it, `read` fails and the watchdog kills the group. The write end is
/// close-on-exec (std's pipes are), so no other child keeps the pipe open.
fn watchdog(pgid: i32) -> Option<Child> {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' INT TERM HUP; read _ || kill -s KILL -- -{pgid} 2>/dev/null"
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .ok()
}

/// Tell a watchdog that its group is stopped (it then exits without killing anything).
fn release_watchdog(fd: i32) {
    if fd >= 0 {
        // SAFETY: writing one byte from a static buffer to a pipe fd we own.
        unsafe {
            libc::write(fd, b"\n".as_ptr().cast(), 1);
        }
    }
}

/// Stop a process group: SIGTERM, then SIGKILL after `grace` if anything is left.
fn stop_group(pgid: i32, grace: Duration) {
    // SAFETY: kill(2) with a negative pid signals the process group; no memory is touched.
    unsafe {
        libc::kill(-pgid, libc::SIGTERM);
    }
    let end = Instant::now() + grace;
    while Instant::now() < end {
        // SAFETY: signal 0 only checks whether the group still has members.
        if unsafe { libc::kill(-pgid, 0) } != 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: as above.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Install (once) a thread that waits for SIGINT/SIGTERM, stops every booted group and exits
/// with 128+signal, so that Ctrl-C or a CI cancellation never leaves the service running.
pub fn install_signal_guard() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        // SAFETY: blocking SIGINT/SIGTERM in this (main) thread before other threads start makes
        // every thread inherit the mask; the dedicated thread then receives them with sigwait.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGINT);
            libc::sigaddset(&mut set, libc::SIGTERM);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            std::thread::spawn(move || {
                let mut sig: libc::c_int = 0;
                if libc::sigwait(&set, &mut sig) == 0 {
                    // held until _exit: `Booted::stop` cannot close a watchdog fd meanwhile
                    let g = groups().lock().unwrap_or_else(|e| e.into_inner());
                    for &(p, fd) in g.iter() {
                        stop_group(p, Duration::from_secs(2));
                        release_watchdog(fd);
                    }
                    libc::_exit(128 + sig);
                }
            });
        }
    });
}

/// A running service; dropping it stops its whole process group.
pub struct Booted {
    child: Child,
    pgid: i32,
    watchdog: Option<Child>,
    output: Arc<Mutex<VecDeque<u8>>>,
    pub command: String,
    pub started: Instant,
}

impl Booted {
    /// The last bytes the service wrote (stdout and stderr interleaved), lossily decoded.
    pub fn output_tail(&self, max_lines: usize) -> String {
        let bytes: Vec<u8> = self
            .output
            .lock()
            .map(|b| b.iter().copied().collect())
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.len().saturating_sub(max_lines);
        lines[start..].join("\n")
    }

    /// `Some(status)` once the service has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stop the process group now (also done on drop).
    pub fn stop(&mut self) {
        if self.pgid > 0 {
            stop_group(self.pgid, Duration::from_secs(3));
            let _ = self.child.wait();
            if let Ok(mut g) = groups().lock() {
                g.retain(|(p, _)| *p != self.pgid);
            }
            if let Some(mut w) = self.watchdog.take() {
                if let Some(mut stdin) = w.stdin.take() {
                    use std::io::Write;
                    let _ = stdin.write_all(b"\n");
                }
                let _ = w.wait();
            }
            self.pgid = 0;
        }
    }
}

impl Drop for Booted {
    fn drop(&mut self) {
        self.stop();
    }
}

fn pump(mut r: impl Read + Send + 'static, sink: Arc<Mutex<VecDeque<u8>>>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut s) = sink.lock() {
                s.extend(&buf[..n]);
                while s.len() > TAIL_BYTES {
                    s.pop_front();
                }
            }
        }
    });
}

/// Start `command` with `sh -c` in a new process group, with `env` added to its environment.
pub fn boot(command: &str, env: &[(String, String)]) -> Result<Booted, String> {
    install_signal_guard();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start `{command}`: {e}"))?;
    let pgid = child.id() as i32;
    let watchdog = watchdog(pgid);
    let fd = watchdog
        .as_ref()
        .and_then(|w| w.stdin.as_ref())
        .map_or(-1, std::os::fd::AsRawFd::as_raw_fd);
    if let Ok(mut g) = groups().lock() {
        g.push((pgid, fd));
    }
    let output = Arc::new(Mutex::new(VecDeque::new()));
    if let Some(o) = child.stdout.take() {
        pump(o, output.clone());
    }
    if let Some(e) = child.stderr.take() {
        pump(e, output.clone());
    }
    Ok(Booted {
        child,
        pgid,
        watchdog,
        output,
        command: command.to_string(),
        started: Instant::now(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alive(pid: i32) -> bool {
        // SAFETY: signal 0 only checks existence.
        unsafe { libc::kill(pid, 0) == 0 }
    }

    #[test]
    fn drop_stops_the_whole_group() {
        // a shell that starts a grandchild which ignores SIGTERM: SIGKILL must get it too
        let b = boot(
            "trap '' TERM; sleep 30 & echo child=$!; echo started; wait",
            &[],
        )
        .unwrap();
        let start = Instant::now();
        let mut child_pid = 0;
        while start.elapsed() < Duration::from_secs(5) {
            if let Some(l) = b.output_tail(10).lines().find(|l| l.starts_with("child=")) {
                child_pid = l[6..].trim().parse().unwrap_or(0);
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(child_pid > 0, "{}", b.output_tail(10));
        assert!(alive(child_pid));
        drop(b);
        // reaped by init eventually; it must at least not be running `sleep` any more
        let gone = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(20));
            !alive(child_pid)
                || std::fs::read_to_string(format!("/proc/{child_pid}/stat"))
                    .is_ok_and(|s| s.contains(") Z "))
        });
        assert!(gone, "grandchild {child_pid} survived");
    }

    #[test]
    fn output_tail_is_bounded() {
        let mut b = boot("yes line | head -c 300000; echo last-line", &[]).unwrap();
        let start = Instant::now();
        while b.exited().is_none() && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(100));
        let tail = b.output_tail(1000);
        assert!(tail.len() <= TAIL_BYTES, "{}", tail.len());
        assert!(
            tail.ends_with("last-line"),
            "{}",
            &tail[tail.len().saturating_sub(50)..]
        );
    }
}
