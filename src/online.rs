//! `--online`: following links found in the checked files (runbook URLs). Nothing here runs
//! without the flag: a plain `obsgate check` makes no network request.
//!
//! Each distinct URL (its fragment removed) is requested once per run, with bounded
//! concurrency and a time limit per request: `HEAD` first, and `GET` (headers only, the body is
//! never read) when the `HEAD` answer is not 2xx, since many servers refuse or mishandle `HEAD`.
//! Redirects are followed up to a limit. Cloud metadata and link-local addresses are never
//! requested, in any spelling, also after DNS and after a redirect ([`crate::probe::guard`]).
//! No proxy is used; no credentials are sent (a URL with a user name or password is not
//! requested).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::probe::guard;

/// How links are followed.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Time limit of one request (connect, headers), each of HEAD and GET.
    pub timeout: Duration,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// Time limit of the whole run of requests: links not answered by then are left unjudged.
    pub total: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            timeout: Duration::from_secs(10),
            concurrency: 8,
            max_redirects: 5,
            total: Duration::from_secs(120),
        }
    }
}

/// What following a link gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer (after redirects).
    Ok,
    /// A final answer that is not 2xx: the status of the GET (or of the HEAD when the GET
    /// could not be sent), with the URL that gave it when a redirect led there.
    Status {
        code: u16,
        reason: String,
        at: Option<String>,
    },
    /// No answer: DNS, connection, TLS or time limit.
    Unreachable(String),
    /// More redirects than the limit.
    TooManyRedirects(usize),
    /// Not followed: a metadata or link-local address (first or after a redirect), or not a
    /// usable URL.
    Refused(String),
    /// Not requested, for a reason that says nothing about the page (credentials in the URL).
    NotRequested(String),
}

impl Outcome {
    /// Whether the answer says nothing about the page (it may well exist): authentication
    /// (401, 403, 407) or rate limiting (429) in front of it.
    pub fn inconclusive(&self) -> bool {
        matches!(
            self,
            Outcome::Status {
                code: 401 | 403 | 407 | 429,
                ..
            } | Outcome::NotRequested(_)
        )
    }
}

/// The URL as requested: without its fragment (never sent to the server).
pub fn request_url(url: &str) -> &str {
    url.split_once('#').map_or(url, |(u, _)| u)
}

/// Follow every link (each distinct request URL once), at most `policy.concurrency` at a time.
/// The result is keyed by [`request_url`]; a link still unanswered after `policy.total` has no
/// entry.
pub fn follow_all(urls: &[&str], policy: &Policy) -> HashMap<String, Outcome> {
    let mut distinct: Vec<String> = urls.iter().map(|u| request_url(u).to_string()).collect();
    distinct.sort();
    distinct.dedup();
    if distinct.is_empty() {
        return HashMap::new();
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let why = format!("cannot start the HTTP client: {e}");
            return distinct
                .into_iter()
                .map(|u| (u, Outcome::Unreachable(why.clone())))
                .collect();
        }
    };
    runtime.block_on(follow_async(distinct, policy))
}

async fn follow_async(urls: Vec<String>, policy: &Policy) -> HashMap<String, Outcome> {
    let client = match client(policy) {
        Ok(c) => c,
        Err(e) => {
            return urls
                .into_iter()
                .map(|u| (u, Outcome::Unreachable(e.clone())))
                .collect()
        }
    };
    let permits = Arc::new(tokio::sync::Semaphore::new(policy.concurrency.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for url in urls {
        let client = client.clone();
        let permits = Arc::clone(&permits);
        let max_redirects = policy.max_redirects;
        set.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let outcome = follow(&client, &url, max_redirects).await;
            (url, outcome)
        });
    }
    let mut out = HashMap::new();
    let collect = async {
        while let Some(done) = set.join_next().await {
            if let Ok((url, outcome)) = done {
                out.insert(url, outcome);
            }
        }
    };
    // past the deadline the tasks still running are dropped with the set
    let _ = tokio::time::timeout(policy.total, collect).await;
    out
}

fn client(policy: &Policy) -> Result<reqwest::Client, String> {
    let limit = policy.max_redirects;
    let redirects = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > limit {
            return attempt.error(TooMany(limit));
        }
        match guard::forbidden_url(attempt.url().as_str()) {
            Some(_) => {
                let to = attempt.url().to_string();
                attempt.error(Forbidden(to))
            }
            None => attempt.follow(),
        }
    });
    reqwest::Client::builder()
        .timeout(policy.timeout)
        .connect_timeout(policy.timeout.min(Duration::from_secs(5)))
        .redirect(redirects)
        .no_proxy()
        .user_agent(concat!(
            "obsgate/",
            env!("CARGO_PKG_VERSION"),
            " (runbook link check)"
        ))
        .dns_resolver(Arc::new(guard::Resolver))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

#[derive(Debug)]
struct TooMany(usize);

impl std::fmt::Display for TooMany {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "more than {} redirects", self.0)
    }
}

impl std::error::Error for TooMany {}

/// A redirect to this URL, a link-local or cloud metadata address.
#[derive(Debug)]
struct Forbidden(String);

impl std::fmt::Display for Forbidden {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "it redirects to `{}`, a link-local or cloud metadata address",
            self.0
        )
    }
}

impl std::error::Error for Forbidden {}

/// Why a URL is not requested at all.
fn refused(url: &str) -> Option<Outcome> {
    if let Some(why) = guard::forbidden_url(url) {
        return Some(Outcome::Refused(why));
    }
    let parsed = reqwest::Url::parse(url).ok()?;
    (!parsed.username().is_empty() || parsed.password().is_some()).then(|| {
        Outcome::NotRequested("it carries credentials, which obsgate does not send".into())
    })
}

async fn follow(client: &reqwest::Client, url: &str, max_redirects: usize) -> Outcome {
    if let Some(outcome) = refused(url) {
        return outcome;
    }
    let head = client.head(url).send().await;
    if let Ok(r) = &head {
        if r.status().is_success() {
            return Outcome::Ok;
        }
    }
    // HEAD refused or failed in a way GET may not: ask with GET, reading the headers only
    match client.get(url).send().await {
        Ok(r) if r.status().is_success() => Outcome::Ok,
        Ok(r) => status(url, &r),
        Err(e) => match head {
            // the GET failed after a HEAD answer: that answer is what we know
            Ok(h) => status(url, &h),
            Err(_) => failure(&e, max_redirects),
        },
    }
}

fn status(url: &str, r: &reqwest::Response) -> Outcome {
    let s = r.status();
    let at = (r.url().as_str() != url).then(|| r.url().to_string());
    Outcome::Status {
        code: s.as_u16(),
        reason: s.canonical_reason().unwrap_or("").to_string(),
        at,
    }
}

fn failure(e: &reqwest::Error, max_redirects: usize) -> Outcome {
    use std::error::Error as _;
    let mut source = e.source();
    let mut io = None;
    while let Some(s) = source {
        if let Some(e) = s.downcast_ref::<std::io::Error>() {
            io = Some(e.to_string());
        }
        if s.downcast_ref::<TooMany>().is_some() {
            return Outcome::TooManyRedirects(max_redirects);
        }
        if let Some(f) = s.downcast_ref::<Forbidden>() {
            return Outcome::Refused(f.to_string());
        }
        if let Some(u) = s.downcast_ref::<guard::Unresolved>() {
            return match u {
                guard::Unresolved::Forbidden(w) => Outcome::Refused(w.clone()),
                guard::Unresolved::Failed(w) => Outcome::Unreachable(w.clone()),
            };
        }
        source = s.source();
    }
    if e.is_timeout() {
        return Outcome::Unreachable("no answer within the time limit".into());
    }
    if e.is_connect() {
        return Outcome::Unreachable(match io {
            Some(why) => format!("cannot connect ({why})"),
            None => "cannot connect".into(),
        });
    }
    Outcome::Unreachable(e.to_string())
}
