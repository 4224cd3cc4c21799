//! A local release server for the install tests: serves the files of a directory over HTTP on
//! 127.0.0.1 (GET and HEAD, 404 for anything else), records the paths asked for, and stops
//! when dropped or, at the latest, after its lifetime (a test that hangs never leaves it
//! running).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub struct Server {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serve `root` for at most `lifetime`.
    pub fn start(root: &Path, lifetime: Duration) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (root, stop2, req2) = (root.to_path_buf(), stop.clone(), requests.clone());
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + lifetime;
            while !stop2.load(Ordering::SeqCst) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (root, req) = (root.clone(), req2.clone());
                        std::thread::spawn(move || {
                            let _ = serve(stream, &root, &req);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Server {
            url,
            stop,
            requests,
            thread: Some(thread),
        }
    }

    /// The request paths served so far (`GET /v0.1.0/...`).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, root: &Path, log: &Mutex<Vec<String>>) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    // headers, up to the blank line
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    log.lock().unwrap().push(format!(
        "{method} {}",
        target.split('?').next().unwrap_or("")
    ));
    let file = resolve(root, target);
    let mut out = stream;
    let body = match (method, file.and_then(|f| std::fs::read(f).ok())) {
        ("GET" | "HEAD", Some(body)) => {
            write!(
                out,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            (method == "GET").then_some(body)
        }
        _ => {
            let msg = b"not found\n";
            write!(
                out,
                "HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n",
                msg.len()
            )?;
            (method != "HEAD").then(|| msg.to_vec())
        }
    };
    if let Some(b) = body {
        out.write_all(&b)?;
    }
    out.flush()
}

/// The file under `root` for a request target, never outside it.
fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split('?').next()?;
    let rel = Path::new(path.trim_start_matches('/'));
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    let p = root.join(rel);
    p.is_file().then_some(p)
}
