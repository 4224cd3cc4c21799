//! What a label *name* means: the one judgement of whether a label holds values that are
//! unbounded by nature (emails, user/session/request/trace/order ids, client IP addresses, raw
//! paths and URLs, user agents), shared by `labels/unbounded` (metric definitions, scrapes) and
//! `alerts/unbounded-label` (alert rule labels).
//!
//! A name is split into words in any naming style (`user_email`, `userEmail`, `UserEmail`,
//! `user-email`, `userIPAddress`), and judged like an English compound: the last word is what the
//! label holds, the words before it say whose. `user_email` is an email address; `email_provider`
//! is a provider (a handful of values); `ip_version`, `url_scheme`, `path_template`,
//! `status_code`, `user_type` and `account_tier` are categories. A word obsgate cannot place
//! (`pod_ip`, `file_path`, `scrape_url`, a bare `id`) is not reported: it says less when it
//! cannot know.

/// What an unbounded label holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unbounded {
    Email,
    Ip,
    /// A raw request path, URL or query string.
    PathOrUrl,
    UserAgent,
    /// A user name or other personal identity.
    User,
    /// A session, or a credential token.
    Session,
    /// An id of one thing among many (request, trace, order, ...): the word says which.
    Id(&'static str),
}

impl Unbounded {
    /// What the values are, and why they are unbounded.
    pub fn why(self) -> String {
        match self {
            Unbounded::Email => {
                "it holds email addresses: one series per person, and personal data in the metrics store".into()
            }
            Unbounded::Ip => "it holds client IP addresses: one series per client address".into(),
            Unbounded::PathOrUrl => {
                "a raw path or URL carries ids and query strings (`/users/8231/orders?page=3`), one series per distinct value".into()
            }
            Unbounded::UserAgent => {
                "it holds user agent strings: every browser, version and bot is a new series".into()
            }
            Unbounded::User => {
                "it identifies users: one series per user, and personal data in the metrics store".into()
            }
            Unbounded::Session => {
                "it holds session ids or tokens: one series per session, and a token that may be replayed in the metrics store".into()
            }
            Unbounded::Id(what) => format!("it holds {what} ids: one series per {what}, without bound"),
        }
    }

    /// Short text for the underline.
    pub fn what(self) -> &'static str {
        match self {
            Unbounded::Email => "an email address",
            Unbounded::Ip => "a client IP address",
            Unbounded::PathOrUrl => "a raw path or URL",
            Unbounded::UserAgent => "a user agent",
            Unbounded::User => "a user identity",
            Unbounded::Session => "a session or token",
            Unbounded::Id(_) => "an id",
        }
    }

    /// How to fix a metric that has such a label.
    pub fn help(self) -> &'static str {
        match self {
            Unbounded::PathOrUrl => {
                "label with the route template (`/users/:id`), not the request path; put ids in logs or traces"
            }
            Unbounded::UserAgent => {
                "label with a bounded class (browser family, `bot`/`human`) if you need one; keep the raw string in logs"
            }
            Unbounded::Ip => {
                "drop the label (or keep a bounded class: network zone, country); keep addresses in logs"
            }
            _ => "drop the label and put the value in logs or trace exemplars",
        }
    }
}

/// Split a label name into lower-case words: `_`, `-`, `.` and spaces separate words, and so
/// do case changes (`userEmail`, `UserEmail`, `userIPAddress` -> `user ip address`). A few
/// words written together are split too (`userid`, `useragent`, `ipaddress`).
pub fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let chars: Vec<char> = name.chars().collect();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_uppercase() && !cur.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            // `userEmail`: lower then upper; `IPAddress`: the last capital of an acronym
            // followed by a lower-case letter starts a word
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    // `IPv4`, `IPv6`: the acronym rule splits them as `i pv4`
    let mut merged: Vec<String> = Vec::with_capacity(out.len());
    for w in out {
        if matches!(w.as_str(), "pv4" | "pv6") && merged.last().is_some_and(|l| l == "i") {
            merged.last_mut().expect("checked").push_str(&w);
        } else {
            merged.push(w);
        }
    }
    merged
        .into_iter()
        .flat_map(|w| match glued(&w) {
            Some(parts) => parts.iter().map(|p| p.to_string()).collect(),
            None => vec![w],
        })
        .collect()
}

/// Words commonly written together in label names.
fn glued(w: &str) -> Option<&'static [&'static str]> {
    Some(match w {
        "userid" => &["user", "id"],
        "username" | "uname" => &["user", "name"],
        "useragent" => &["user", "agent"],
        "userip" => &["user", "ip"],
        "useremail" => &["user", "email"],
        "sessionid" => &["session", "id"],
        "requestid" | "reqid" => &["request", "id"],
        "traceid" => &["trace", "id"],
        "spanid" => &["span", "id"],
        "orderid" => &["order", "id"],
        "customerid" => &["customer", "id"],
        "accountid" => &["account", "id"],
        "deviceid" => &["device", "id"],
        "correlationid" => &["correlation", "id"],
        "transactionid" | "txid" | "txnid" => &["transaction", "id"],
        "messageid" | "msgid" => &["message", "id"],
        "ipaddress" | "ipaddr" => &["ip", "address"],
        "remoteaddr" | "remoteaddress" => &["remote", "address"],
        "remoteip" => &["remote", "ip"],
        "clientip" => &["client", "ip"],
        "sourceip" | "srcip" => &["source", "ip"],
        "realip" => &["real", "ip"],
        "xff" => &["x", "forwarded", "for"],
        "emailaddress" => &["email", "address"],
        "querystring" => &["query", "string"],
        "rawpath" => &["raw", "path"],
        "requestpath" => &["request", "path"],
        "requesturi" => &["request", "uri"],
        "requesturl" => &["request", "url"],
        "fullpath" => &["full", "path"],
        "urlpath" => &["url", "path"],
        _ => return None,
    })
}

/// Whose id a word names, for the entities that grow with traffic.
fn entity(w: &str) -> Option<Unbounded> {
    Some(match w {
        "user" | "customer" | "member" | "subscriber" | "visitor" | "player" | "patient"
        | "employee" | "person" | "contact" => Unbounded::User,
        "account" => Unbounded::Id("account"),
        "session" => Unbounded::Session,
        "request" | "req" => Unbounded::Id("request"),
        "trace" => Unbounded::Id("trace"),
        "span" => Unbounded::Id("span"),
        "correlation" => Unbounded::Id("correlation"),
        "transaction" | "txn" | "tx" => Unbounded::Id("transaction"),
        "order" => Unbounded::Id("order"),
        "message" | "msg" => Unbounded::Id("message"),
        "event" => Unbounded::Id("event"),
        "payment" => Unbounded::Id("payment"),
        "invoice" => Unbounded::Id("invoice"),
        "cart" | "basket" => Unbounded::Id("cart"),
        "ticket" => Unbounded::Id("ticket"),
        "device" => Unbounded::Id("device"),
        "conversation" | "chat" => Unbounded::Id("conversation"),
        "document" | "doc" => Unbounded::Id("document"),
        "upload" | "file" => Unbounded::Id("file"),
        _ => return None,
    })
}

/// Words before a path or URL that say it is the request's own (not a configured address such
/// as `scrape_url`, or a file system path such as `file_path`).
const REQUESTISH: &[&str] = &[
    "request",
    "req",
    "http",
    "raw",
    "full",
    "page",
    "original",
    "orig",
    "incoming",
    "requested",
    "current",
    "referer",
    "referrer",
    "redirect",
    "callback",
    "landing",
    "link",
    "client",
];

/// Words before an IP address that say it is the client's (`pod_ip`, `node_ip`, `host_ip` are
/// the fleet's own addresses, bounded by its size).
const CLIENTISH: &[&str] = &[
    "client",
    "remote",
    "source",
    "src",
    "caller",
    "visitor",
    "real",
    "forwarded",
    "origin",
    "user",
    "customer",
    "request",
    "peer",
    "end",
];

/// Whether a label name holds values that are unbounded by nature, and what they are.
pub fn judge(name: &str) -> Option<Unbounded> {
    judge_words(&words(name))
}

fn judge_words(w: &[String]) -> Option<Unbounded> {
    let (head, mods) = w.split_last()?;
    let has = |set: &[&str]| mods.iter().any(|m| set.contains(&m.as_str()));
    let only = |set: &[&str]| mods.iter().all(|m| set.contains(&m.as_str()));
    match head.as_str() {
        "email" | "emails" => Some(Unbounded::Email),
        "mail" if has(&["e", "user", "customer", "contact"]) => Some(Unbounded::Email),
        "address" | "addr" | "addresses" => {
            if has(&["email", "mail"]) {
                Some(Unbounded::Email)
            } else if (has(&["ip", "ipv4", "ipv6"]) && (mods.len() == 1 || has(CLIENTISH)))
                || (has(CLIENTISH) && !has(&["host", "node", "pod", "server", "listen"]))
            {
                Some(Unbounded::Ip)
            } else {
                None
            }
        }
        "ip" | "ips" | "ipv4" | "ipv6" | "ip4" | "ip6" => {
            (mods.is_empty() || has(CLIENTISH)).then_some(Unbounded::Ip)
        }
        // `x_forwarded_for`
        "for" if has(&["forwarded"]) => Some(Unbounded::Ip),
        "path" | "paths" | "url" | "urls" | "uri" | "uris" => {
            (mods.is_empty() || has(REQUESTISH) || only(&["url", "uri"]))
                .then_some(Unbounded::PathOrUrl)
        }
        "referer" | "referrer" => Some(Unbounded::PathOrUrl),
        "query" | "querystring" => (mods.is_empty()
            || has(&["raw", "http", "request", "search", "full", "url"]))
        .then_some(Unbounded::PathOrUrl),
        "string" if has(&["query"]) => Some(Unbounded::PathOrUrl),
        "agent" if has(&["user"]) => Some(Unbounded::UserAgent),
        "ua" if mods.is_empty() || has(&["http", "client"]) => Some(Unbounded::UserAgent),
        "user" | "users" => only(&[
            "end",
            "current",
            "auth",
            "authenticated",
            "logged",
            "login",
            "remote",
            "http",
            "request",
            "app",
            "x",
        ])
        .then_some(Unbounded::User),
        "name" | "username" | "login" | "handle" | "nickname" | "nick" => (has(&[
            "user",
            "customer",
            "member",
            "subscriber",
            "visitor",
            "player",
        ]) || (head == "name"
            && has(&["full", "first", "last", "display", "real"])))
        .then_some(Unbounded::User),
        "phone" | "msisdn" => Some(Unbounded::User),
        "number" | "num" | "no" => {
            if has(&["phone", "mobile", "telephone", "tel"]) {
                Some(Unbounded::User)
            } else {
                mods.iter().rev().find_map(|m| entity(m))
            }
        }
        "session" | "sessions" => {
            only(&["user", "http", "web", "browser", "client", "login", "app"])
                .then_some(Unbounded::Session)
        }
        "token" => only(&[
            "access", "session", "auth", "refresh", "bearer", "api", "csrf", "id", "device",
            "push", "user", "jwt",
        ])
        .then_some(Unbounded::Session),
        "jwt" | "cookie" | "cookies" => Some(Unbounded::Session),
        "key"
            if has(&[
                "api",
                "session",
                "access",
                "idempotency",
                "license",
                "secret",
            ]) =>
        {
            Some(Unbounded::Session)
        }
        "uuid" | "guid" | "uuids" => Some(
            mods.iter()
                .rev()
                .find_map(|m| entity(m))
                .unwrap_or(Unbounded::Id("unique")),
        ),
        "id" | "ids" | "identifier" => mods.iter().rev().find_map(|m| entity(m)),
        "traceparent" => Some(Unbounded::Id("trace")),
        // `email_hash`, `hashed_ip`: a hash of an unbounded value is as unbounded
        "hash" | "digest" | "sha" | "sha1" | "sha256" | "md5" | "fingerprint" | "hashed"
        | "lower" | "lowercase" | "normalized" | "normalised" => judge_words(mods),
        _ => {
            // `hashed_email`, `raw_user_agent`: adjectives before the head are handled by the
            // head; nothing else is placed
            None
        }
    }
}

/// The snake_case form of a name (its words joined by `_`), for comparing a configured list of
/// names with a label in any naming style.
pub fn snake(name: &str) -> String {
    words(name).join("_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_in_any_style() {
        assert_eq!(words("user_email"), ["user", "email"]);
        assert_eq!(words("userEmail"), ["user", "email"]);
        assert_eq!(words("UserEmail"), ["user", "email"]);
        assert_eq!(words("user-email"), ["user", "email"]);
        assert_eq!(words("userIPAddress"), ["user", "ip", "address"]);
        assert_eq!(words("HTTPRequestID"), ["http", "request", "id"]);
        assert_eq!(words("clientIPv4"), ["client", "ipv4"]);
        assert_eq!(words("userid"), ["user", "id"]);
        assert_eq!(words("x-forwarded-for"), ["x", "forwarded", "for"]);
        assert_eq!(snake("traceID"), "trace_id");
    }

    #[test]
    fn unbounded_by_meaning() {
        for (name, want) in [
            ("user_id", Unbounded::User),
            ("userId", Unbounded::User),
            ("UserID", Unbounded::User),
            ("user_email", Unbounded::Email),
            ("userEmail", Unbounded::Email),
            ("email", Unbounded::Email),
            ("customer_email_address", Unbounded::Email),
            ("email_hash", Unbounded::Email),
            ("client_ip", Unbounded::Ip),
            ("remote_addr", Unbounded::Ip),
            ("remoteAddress", Unbounded::Ip),
            ("ip", Unbounded::Ip),
            ("ip_address", Unbounded::Ip),
            ("x_forwarded_for", Unbounded::Ip),
            ("trace_id", Unbounded::Id("trace")),
            ("traceId", Unbounded::Id("trace")),
            ("span_id", Unbounded::Id("span")),
            ("request_id", Unbounded::Id("request")),
            ("X-Request-ID", Unbounded::Id("request")),
            ("order_id", Unbounded::Id("order")),
            ("orderNumber", Unbounded::Id("order")),
            ("account_id", Unbounded::Id("account")),
            ("customer_id", Unbounded::User),
            ("session", Unbounded::Session),
            ("session_id", Unbounded::Session),
            ("sessionToken", Unbounded::Session),
            ("path", Unbounded::PathOrUrl),
            ("url", Unbounded::PathOrUrl),
            ("uri", Unbounded::PathOrUrl),
            ("request_path", Unbounded::PathOrUrl),
            ("requestUri", Unbounded::PathOrUrl),
            ("http_url", Unbounded::PathOrUrl),
            ("raw_path", Unbounded::PathOrUrl),
            ("query", Unbounded::PathOrUrl),
            ("query_string", Unbounded::PathOrUrl),
            ("referer", Unbounded::PathOrUrl),
            ("user_agent", Unbounded::UserAgent),
            ("userAgent", Unbounded::UserAgent),
            ("http_user_agent", Unbounded::UserAgent),
            ("user", Unbounded::User),
            ("username", Unbounded::User),
            ("userName", Unbounded::User),
            ("uuid", Unbounded::Id("unique")),
            ("device_id", Unbounded::Id("device")),
            ("token", Unbounded::Session),
        ] {
            assert_eq!(judge(name), Some(want), "{name}");
        }
    }

    #[test]
    fn near_misses_are_not_unbounded() {
        for name in [
            "ip_version",
            "ipVersion",
            "ip_family",
            "path_template",
            "pathTemplate",
            "route",
            "http_route",
            "email_provider",
            "emailProvider",
            "email_domain",
            "email_type",
            "status_code",
            "statusCode",
            "method",
            "handler",
            "endpoint",
            "user_type",
            "userType",
            "user_role",
            "account_tier",
            "url_scheme",
            "urlScheme",
            "url_host",
            "path_prefix",
            "token_type",
            "pod_ip",
            "node_ip",
            "host_ip",
            "file_path",
            "mount_path",
            "scrape_url",
            "api_url",
            "id",
            "instance_id",
            "container_id",
            "cluster_id",
            "session_state",
            "user_agent_family",
            "device",
            "job",
            "instance",
            "le",
            "quantile",
            "service_user",
            "db_user",
        ] {
            assert_eq!(judge(name), None, "{name}");
        }
    }
}
