//! Booting the service under test: `sh -c CMD` in its own process group, with a clean signal
//! mask and default signal dispositions (obsgate blocks SIGINT/SIGTERM for its signal thread,
//! and a blocked mask survives exec: SIGTERM never reached the service), its output captured
//! (the last 64 KiB, shown when it fails or never gets ready).
//!
//! Everything it starts is stopped at the end: when the [`Booted`] guard drops (success,
//! error, panic), and on SIGINT/SIGTERM to obsgate (a signal thread stops every boot, then exits
//! 130/143). "Everything" is the process group, every process below it, and (Linux) the
//! processes that left the group (`setsid`, a double fork): obsgate is their subreaper
//! (`PR_SET_CHILD_SUBREAPER`: an orphan is reparented to obsgate, not to init), and each boot
//! marks its environment (`OBSGATE_BOOT_ID`), so a process below obsgate belongs to a boot when
//! it is in its group, carries its mark, or is below one that does. SIGTERM first; the stop ends
//! as soon as nothing of the boot is left running (exited processes are reaped), else SIGKILL
//! after the grace time. Even when obsgate is killed with SIGKILL, a watchdog process outside
//! the group holds one end of a pipe whose other end only obsgate holds: when it closes without
//! the "stopped" line, obsgate died, and the watchdog kills the group and every process that
//! carries the boot's mark.

use std::collections::VecDeque;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

const TAIL_BYTES: usize = 64 * 1024;

/// The environment variable that marks the processes of a boot.
pub const BOOT_ID_VAR: &str = "OBSGATE_BOOT_ID";

/// A boot not yet stopped: its process group, its mark, the write end of its watchdog's pipe
/// (-1 without a watchdog).
#[derive(Clone)]
struct Running {
    pgid: i32,
    id: String,
    fd: i32,
}

fn running() -> &'static Mutex<Vec<Running>> {
    static G: OnceLock<Mutex<Vec<Running>>> = OnceLock::new();
    G.get_or_init(|| Mutex::new(Vec::new()))
}

/// A new boot's mark: obsgate's pid and a sequence number.
fn new_boot_id() -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// Makes obsgate the subreaper of its descendants (Linux): a process that leaves its parent
/// (a double fork, a daemon) is reparented to obsgate instead of init, so it stays below
/// obsgate, where [`members`] finds it.
fn become_subreaper() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        static ONCE: OnceLock<()> = OnceLock::new();
        ONCE.get_or_init(|| {
            // SAFETY: prctl with integer arguments only sets a flag of this process.
            unsafe {
                libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
            }
        });
    }
}

/// A process as `/proc/PID/stat` shows it.
#[derive(Debug, Clone, Copy)]
struct Proc {
    pid: i32,
    ppid: i32,
    pgrp: i32,
    /// Exited, not yet reaped (`Z`), or dead (`X`).
    exited: bool,
}

/// Every process of the system (Linux; none elsewhere).
fn processes() -> Vec<Proc> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let pid: i32 = e.ok()?.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // `pid (comm) state ppid pgrp ...`: comm may hold spaces and parentheses
        let mut f = stat.get(stat.rfind(')')? + 1..)?.split_whitespace();
        let state = f.next()?;
        let ppid = f.next()?.parse().ok()?;
        let pgrp = f.next()?.parse().ok()?;
        Some(Proc {
            pid,
            ppid,
            pgrp,
            exited: matches!(state, "Z" | "X" | "x"),
        })
    })
    .collect()
}

/// Whether process `pid` was started with `var=value` in its environment.
fn has_env(pid: i32, var: &str, value: &str) -> bool {
    let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
        return false;
    };
    let want = format!("{var}={value}");
    env.split(|&b| b == 0).any(|e| e == want.as_bytes())
}

/// The processes below obsgate that belong to the boot of group `pgid` and mark `id`: in the
/// group, carrying the mark, or below such a process.
fn members(pgid: i32, id: &str) -> Vec<Proc> {
    let all = processes();
    let me = std::process::id() as i32;
    let mut out = Vec::new();
    // (process, whether its parent belongs)
    let mut todo: Vec<(i32, bool)> = vec![(me, false)];
    while let Some((parent, parent_belongs)) = todo.pop() {
        for p in all.iter().filter(|p| p.ppid == parent && p.pid != me) {
            let belongs =
                parent_belongs || p.pgrp == pgid || (!p.exited && has_env(p.pid, BOOT_ID_VAR, id));
            if belongs {
                out.push(*p);
            }
            todo.push((p.pid, belongs));
        }
    }
    out
}

/// Start the watchdog of a booted group: `sh` in its own process group (a Ctrl-C or a signal
/// to obsgate's group does not end it) that reads one line from a pipe. obsgate writes the line
/// once it has stopped the group itself; if obsgate dies first (SIGKILL, OOM killer), the pipe
/// closes without it, `read` fails and the watchdog kills the group. The write end is
/// close-on-exec (std's pipes are), so no other child keeps the pipe open.
fn watchdog(pgid: i32, id: &str) -> Option<Child> {
    // the mark is obsgate's pid and a number: nothing to quote
    let marked = format!(
        "for p in /proc/[0-9]*; do tr '\\0' '\\n' < $p/environ 2>/dev/null | grep -qx '{BOOT_ID_VAR}={id}' && kill -s KILL ${{p#/proc/}} 2>/dev/null; done"
    );
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' INT TERM HUP; read _ || {{ kill -s KILL -- -{pgid} 2>/dev/null; {marked}; {marked}; }}"
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

/// Stop the boot of group `pgid` and mark `id`: SIGTERM to the group and to every process of
/// the boot ([`members`]), SIGKILL after `grace` to what is left. Returns as soon as nothing of
/// the boot is left running. `child` is the booted `sh` (reaped through its handle); the other
/// exited processes of the boot that are obsgate's children (orphans it became the subreaper
/// of) are reaped here.
fn stop_boot(pgid: i32, id: &str, mut child: Option<&mut Child>, grace: Duration) {
    let me = std::process::id() as i32;
    let child_pid = child.as_ref().map(|c| c.id() as i32);
    let start = Instant::now();
    // processes seen in the boot: an exited one can no longer show its mark
    let mut seen = std::collections::HashSet::new();
    let mut sent: Option<libc::c_int> = None;
    loop {
        if let Some(c) = child.as_deref_mut() {
            let _ = c.try_wait();
        }
        // none without /proc (not Linux): the group alone then
        let now = members(pgid, id);
        seen.extend(now.iter().map(|p| p.pid));
        reap(&seen, me, child_pid);
        let live: Vec<i32> = now.iter().filter(|p| !p.exited).map(|p| p.pid).collect();
        // SAFETY: signal 0 only checks whether the group still has members (exited ones
        // included until reaped; the boot's are reaped above).
        let left = !live.is_empty() || unsafe { libc::kill(-pgid, 0) } == 0;
        if !left {
            return;
        }
        let signal = match sent {
            None => libc::SIGTERM,
            Some(libc::SIGTERM) if start.elapsed() >= grace => libc::SIGKILL,
            Some(libc::SIGKILL) if start.elapsed() >= grace + Duration::from_secs(2) => return,
            _ => 0,
        };
        if signal != 0 {
            sent = Some(signal);
            // SAFETY: kill(2) signals processes (a negative pid: the group); no memory is
            // touched.
            unsafe {
                libc::kill(-pgid, signal);
                for &p in &live {
                    libc::kill(p, signal);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Reaps the exited children of obsgate among `pids` (not `skip`, reaped through its handle).
fn reap(pids: &std::collections::HashSet<i32>, me: i32, skip: Option<i32>) {
    for p in processes() {
        if p.exited && p.ppid == me && pids.contains(&p.pid) && Some(p.pid) != skip {
            let mut status = 0;
            // SAFETY: waitpid on a child of ours that has exited, with a valid out-pointer.
            unsafe {
                libc::waitpid(p.pid, &mut status, libc::WNOHANG);
            }
        }
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
                    let g = running().lock().unwrap_or_else(|e| e.into_inner());
                    for r in g.iter() {
                        stop_boot(r.pgid, &r.id, None, Duration::from_secs(2));
                        release_watchdog(r.fd);
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
    id: String,
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

    /// Stop everything the boot started now (also done on drop).
    pub fn stop(&mut self) {
        if self.pgid > 0 {
            stop_boot(
                self.pgid,
                &self.id,
                Some(&mut self.child),
                Duration::from_secs(3),
            );
            let _ = self.child.wait();
            if let Ok(mut g) = running().lock() {
                g.retain(|r| r.pgid != self.pgid);
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

/// In the child, before exec: no signal blocked, every signal's disposition the default (an
/// ignored signal stays ignored across exec, a blocked one stays blocked).
fn clean_signals() -> std::io::Result<()> {
    // SAFETY: runs in the forked child before exec; sigemptyset, sigprocmask, sigaction and
    // raw syscalls are async-signal-safe, and only stack memory is touched.
    unsafe {
        for sig in 1..=64 {
            // Linux: the system call itself, as the C library's sigaction refuses the signals
            // it reserves for itself (32 and 33 with glibc), which an ignored disposition from
            // obsgate's own parent would otherwise keep. A zeroed kernel `struct sigaction`
            // (handler, flags, restorer, mask) is SIG_DFL in every layout. SIGKILL and
            // SIGSTOP refuse: nothing to reset there.
            #[cfg(target_os = "linux")]
            {
                let dfl = [0u64; 4];
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    sig,
                    dfl.as_ptr(),
                    std::ptr::null_mut::<u64>(),
                    8usize,
                );
            }
            #[cfg(not(target_os = "linux"))]
            {
                let mut dfl: libc::sigaction = std::mem::zeroed();
                dfl.sa_sigaction = libc::SIG_DFL;
                libc::sigemptyset(&mut dfl.sa_mask);
                libc::sigaction(sig, &dfl, std::ptr::null_mut());
            }
        }
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        if libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Start `command` with `sh -c` in a new process group, with `env` added to its environment.
pub fn boot(command: &str, env: &[(String, String)]) -> Result<Booted, String> {
    install_signal_guard();
    become_subreaper();
    let id = new_boot_id();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .env(BOOT_ID_VAR, &id);
    for (k, v) in env {
        cmd.env(k, v);
    }
    // SAFETY: `clean_signals` only makes async-signal-safe calls.
    unsafe {
        cmd.pre_exec(clean_signals);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start `{command}`: {e}"))?;
    let pgid = child.id() as i32;
    let watchdog = watchdog(pgid, &id);
    let fd = watchdog
        .as_ref()
        .and_then(|w| w.stdin.as_ref())
        .map_or(-1, std::os::fd::AsRawFd::as_raw_fd);
    if let Ok(mut g) = running().lock() {
        g.push(Running {
            pgid,
            id: id.clone(),
            fd,
        });
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
        id,
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

    /// Waits for a line `KEY=N` in the boot's output.
    fn wait_for(b: &Booted, key: &str) -> i32 {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Some(v) = b
                .output_tail(50)
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{key}=")))
            {
                return v.trim().parse().unwrap();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("no {key}= in {}", b.output_tail(50));
    }

    fn gone(pid: i32) -> bool {
        !alive(pid)
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| s.contains(") Z "))
    }

    /// obsgate blocks SIGINT/SIGTERM (for its signal thread) and Rust ignores SIGPIPE: the
    /// booted command starts with nothing blocked and nothing ignored.
    #[test]
    fn booted_processes_start_with_clean_signals() {
        // SAFETY: signal mask and disposition calls with valid pointers, undone below.
        let (mut blocked, mut old) = unsafe { (std::mem::zeroed(), std::mem::zeroed()) };
        let old_hup = unsafe {
            libc::sigemptyset(&mut blocked);
            libc::sigaddset(&mut blocked, libc::SIGINT);
            libc::sigaddset(&mut blocked, libc::SIGTERM);
            libc::pthread_sigmask(libc::SIG_BLOCK, &blocked, &mut old);
            libc::signal(libc::SIGHUP, libc::SIG_IGN)
        };
        // what the command inherits, seen by the command itself
        let b = boot("exec grep -E '^Sig(Blk|Ign)' /proc/self/status", &[]);
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
            libc::signal(libc::SIGHUP, old_hup);
        }
        let mut b = b.unwrap();
        let start = Instant::now();
        while b.exited().is_none() && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(50));
        let out = b.output_tail(10);
        assert!(out.contains("SigBlk:\t0000000000000000"), "{out}");
        assert!(out.contains("SigIgn:\t0000000000000000"), "{out}");
    }

    /// SIGTERM reaches the service, which shuts down gracefully, and the stop returns as soon
    /// as nothing is left (it waited out the 3 s grace for SIGKILL).
    #[test]
    fn a_service_that_handles_sigterm_stops_at_once() {
        let mut b = boot(
            "trap 'echo graceful=1; exit 0' TERM; echo ready=1; while :; do sleep 0.05; done",
            &[],
        )
        .unwrap();
        wait_for(&b, "ready");
        let start = Instant::now();
        b.stop();
        let took = start.elapsed();
        assert!(took < Duration::from_secs(1), "{took:?}");
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            b.output_tail(10).contains("graceful=1"),
            "{}",
            b.output_tail(10)
        );
    }

    /// Processes that left the booted group (`setsid`, a double fork into a new session) are
    /// stopped with it.
    #[test]
    fn descendants_outside_the_group_are_stopped() {
        let b = boot(
            "setsid sleep 300 & echo session=$!; (setsid sleep 301 & echo orphan=$! ) ; \
             sleep 302 & echo child=$!; wait",
            &[],
        )
        .unwrap();
        let pids = [
            wait_for(&b, "session"),
            wait_for(&b, "orphan"),
            wait_for(&b, "child"),
        ];
        for p in pids {
            assert!(alive(p), "{p}");
        }
        let start = Instant::now();
        drop(b);
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        for p in pids {
            assert!(gone(p), "{p} survived the stop");
        }
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
