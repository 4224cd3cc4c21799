//! Closed-loop HTTP/1.1 load generator (obsgate's `probe::load`), printing the result as JSON.
//!
//! `cargo run --release --example loadgen -- URL [-c CONNS] [-d SECONDS] [-n REQUESTS]
//!  [--timeout SECONDS] [-t THREADS]`
//!
//! Defaults: 32 connections, 10 s, 5 s timeout, worker threads = available cores.

use std::process::ExitCode;
use std::time::Duration;

use obsgate::probe::load::{run, LoadSpec};

const USAGE: &str =
    "usage: loadgen URL [-c CONNS] [-d SECONDS] [-n REQUESTS] [--timeout SECONDS] [-t THREADS]";

fn parse<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String> {
    let v = v.ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
    v.parse()
        .map_err(|_| format!("bad value {v:?} for {flag}\n{USAGE}"))
}

fn seconds(flag: &str, v: Option<String>) -> Result<Duration, String> {
    let s: f64 = parse(flag, v)?;
    Duration::try_from_secs_f64(s).map_err(|_| format!("bad value {s} for {flag}\n{USAGE}"))
}

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::from(2)
        }
    }
}

fn real_main() -> Result<(), String> {
    let mut url = None;
    let mut spec = LoadSpec {
        url: String::new(),
        concurrency: 32,
        requests: None,
        duration: None,
        timeout: Duration::from_secs(5),
    };
    let mut threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-c" | "--connections" => spec.concurrency = parse(&arg, args.next())?,
            "-d" | "--duration" => spec.duration = Some(seconds(&arg, args.next())?),
            "-n" | "--requests" => spec.requests = Some(parse(&arg, args.next())?),
            "--timeout" => spec.timeout = seconds(&arg, args.next())?,
            "-t" | "--threads" => threads = parse(&arg, args.next())?,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            s if s.starts_with('-') => return Err(format!("unknown option {s}\n{USAGE}")),
            s => {
                if url.replace(s.to_string()).is_some() {
                    return Err(format!("more than one URL\n{USAGE}"));
                }
            }
        }
    }
    spec.url = url.ok_or_else(|| USAGE.to_string())?;
    if spec.requests.is_none() && spec.duration.is_none() {
        spec.duration = Some(Duration::from_secs(10));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let result = rt.block_on(run(&spec))?;
    let json = serde_json::to_string_pretty(&result).map_err(|e| e.to_string())?;
    println!("{json}");
    Ok(())
}
