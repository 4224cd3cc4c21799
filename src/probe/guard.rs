//! Addresses the exporter never requests: link-local addresses and the cloud metadata services,
//! in every spelling. A configured URL is checked when the exporter starts; a host name is
//! checked before each probe and again by [`Resolver`], the probe client's DNS resolver, for
//! every connection the probe opens (so that a DNS answer that changes after the first check
//! is caught too). Every resolved address is checked: one forbidden address refuses the name.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Cloud metadata host names (compared without case and a trailing dot). `metadata` alone is
/// GCE's short name (resolved through the `google.internal` search domain).
const FORBIDDEN_NAMES: &[&str] = &[
    "metadata",
    "metadata.google.internal",
    "metadata.goog",
    "instance-data",
    "instance-data.ec2.internal",
];

/// Whether `host` (a name, not an address) is a cloud metadata name.
pub fn forbidden_name(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    FORBIDDEN_NAMES.contains(&h.as_str())
}

/// Link-local 169.254.0.0/16 (AWS, Azure, GCP, OpenStack metadata at 169.254.169.254) and the
/// metadata addresses of Alibaba Cloud (100.100.100.200) and Oracle Cloud (192.0.0.192).
fn forbidden_v4(v4: Ipv4Addr) -> bool {
    let o = v4.octets();
    (o[0] == 169 && o[1] == 254) || o == [100, 100, 100, 200] || o == [192, 0, 0, 192]
}

/// The IPv4 addresses an IPv6 address carries: IPv4-mapped (`::ffff:a.b.c.d`), -compatible
/// (`::a.b.c.d`) and -translated (`::ffff:0:a.b.c.d`); NAT64 with the well-known prefix
/// `64:ff9b::/96` and the local-use `64:ff9b:1::/48` (at every RFC 6052 position a prefix of
/// /48 to /96 puts it); 6to4 (`2002:AABB:CCDD::/48`); Teredo (server, and the client with its
/// bits inverted); ISATAP interface identifiers (`::5efe:a.b.c.d`).
fn embedded_v4(v6: Ipv6Addr) -> Vec<Ipv4Addr> {
    let b = v6.octets();
    let s = v6.segments();
    let at = |i: usize| Ipv4Addr::new(b[i], b[i + 1], b[i + 2], b[i + 3]);
    let mut out = Vec::new();
    if let Some(v4) = v6.to_ipv4() {
        out.push(v4);
    }
    if b[..8] == [0; 8] && b[8..12] == [0xff, 0xff, 0, 0] {
        out.push(at(12));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        out.push(at(12));
    }
    if s[..3] == [0x64, 0xff9b, 1] {
        // /48: octets 6, 7 | 9, 10 (octet 8 is reserved); /56: 7 | 9, 10, 11; /64: 9..12; /96
        out.push(Ipv4Addr::new(b[6], b[7], b[9], b[10]));
        out.push(Ipv4Addr::new(b[7], b[9], b[10], b[11]));
        out.push(at(9));
        out.push(at(12));
    }
    if s[0] == 0x2002 {
        out.push(at(2));
    }
    if s[0] == 0x2001 && s[1] == 0 {
        out.push(at(4));
        out.push(!at(12));
    }
    if s[4] & 0xfdff == 0 && s[5] == 0x5efe {
        out.push(at(12));
    }
    out
}

/// A link-local or cloud metadata address: IPv4 as [`forbidden_v4`], IPv6 link-local
/// fe80::/10, AWS' fd00:ec2::254, and any IPv6 form that carries a forbidden IPv4.
pub fn forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
                || embedded_v4(v6).into_iter().any(forbidden_v4)
        }
    }
}

/// Why a configured URL must not be requested: not an http(s) URL, no host, or a link-local or
/// cloud metadata host (an address in any spelling the URL parser accepts: it normalises
/// `2852039166`, `0xa9fea9fe`, `0251.0376.0251.0376`, percent-encoded and full-width dots).
pub fn forbidden_url(url: &str) -> Option<String> {
    let parsed = match reqwest::Url::parse(url) {
        Ok(u) => u,
        Err(e) => return Some(format!("`{url}` is not a valid URL: {e}")),
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return Some(format!("`{url}` is not an http(s) URL"));
    }
    let Some(host) = parsed.host_str() else {
        return Some(format!("`{url}` has no host"));
    };
    match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(ip) => {
            forbidden_ip(ip).then(|| format!("`{url}` is a link-local or cloud metadata address"))
        }
        Err(_) => forbidden_name(host).then(|| format!("`{url}` is a cloud metadata address")),
    }
}

/// Why a name was not resolved to addresses.
#[derive(Debug, PartialEq)]
pub enum Unresolved {
    /// A metadata name, or an address of it is forbidden.
    Forbidden(String),
    /// The lookup failed.
    Failed(String),
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unresolved::Forbidden(s) | Unresolved::Failed(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for Unresolved {}

/// Resolves `host` and refuses it when it is a metadata name or any of its addresses is
/// forbidden; the addresses otherwise.
pub async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, Unresolved> {
    if forbidden_name(host) {
        return Err(Unresolved::Forbidden(format!(
            "`{host}` is a cloud metadata address"
        )));
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| Unresolved::Failed(format!("cannot resolve `{host}`: {e}")))?
        .collect();
    match addrs.iter().find(|a| forbidden_ip(a.ip())) {
        Some(a) => Err(Unresolved::Forbidden(format!(
            "`{host}` resolves to the link-local or cloud metadata address {}",
            a.ip()
        ))),
        None => Ok(addrs),
    }
}

/// The DNS resolver of the exporter's probe client: [`resolve`] for every connection.
pub struct Resolver;

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs = resolve(&host, 0).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_urls() {
        for url in [
            "http://169.254.169.254/",
            "http://169.254.1.2:8080",
            "http://100.100.100.200/latest/meta-data",
            "http://192.0.0.192/opc/v2/instance/",
            "http://[fe80::1]:9100/",
            "http://[febf::1]/",
            "http://[fd00:ec2::254]/",
            "http://[::ffff:169.254.169.254]/",
            "http://[::ffff:a9fe:a9fe]/",
            "http://[::169.254.169.254]/",
            "http://[::ffff:0:169.254.169.254]/",
            "http://[::ffff:100.100.100.200]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[64:ff9b::169.254.169.254]/",
            "http://[64:ff9b::c000:c0]/",
            // local-use NAT64 at the /96, /64, /56 and /48 positions
            "http://[64:ff9b:1::a9fe:a9fe]/",
            "http://[64:ff9b:1:0:a9:fea9:fe00:0]/",
            "http://[64:ff9b:1:a9:fe:a9fe::]/",
            "http://[64:ff9b:1:a9fe:a9:fe00::]/",
            "http://[2002:a9fe:a9fe::1]/",
            "http://[2002:6464:64c8::]/",
            "http://[2001:0:a9fe:a9fe::1]/",
            "http://[2001:0:4136:e378:8000:63bf:5601:5601]/",
            "http://[2001:db8::5efe:a9fe:a9fe]/",
            "http://metadata.google.internal/",
            "http://METADATA.google.internal./computeMetadata",
            "http://metadata/computeMetadata/v1/",
            "http://metadata./",
            "http://metadata%2Egoogle%2Einternal/",
            "http://metadata\u{ff0e}google\u{ff0e}internal/",
            "http://metadata.goog/",
            "http://instance-data.ec2.internal/",
            "http://2852039166/",
            "http://0xa9fea9fe/",
            "http://0251.0376.0251.0376/",
            "http://169.254.43518/",
            "http://1684301000/",
            "file:///etc/passwd",
            "http://",
        ] {
            assert!(forbidden_url(url).is_some(), "{url}");
        }
        for url in [
            "http://127.0.0.1:8080",
            "http://[::1]:9100",
            "http://10.0.0.1/",
            "http://100.100.100.201/",
            "http://192.0.0.193/",
            "http://[fec0::1]/",
            "http://[64:ff9b::a00:1]/",
            "http://[2002:a00:1::]/",
            "http://[2001:db8::1]/",
            "http://example.com/",
            "https://metadata.example.com/",
            "http://metadata-service.local/",
        ] {
            assert!(forbidden_url(url).is_none(), "{url}");
        }
    }

    #[tokio::test]
    async fn resolved_names_are_checked() {
        assert!(resolve("metadata.google.internal", 80).await.is_err());
        assert!(resolve("Metadata.", 80).await.is_err());
        let ok = resolve("127.0.0.1", 80).await.unwrap();
        assert_eq!(ok, vec!["127.0.0.1:80".parse().unwrap()]);
        let e = resolve("169.254.169.254", 80).await.unwrap_err();
        assert!(e.to_string().contains("169.254.169.254"), "{e}");
        assert!(matches!(e, Unresolved::Forbidden(_)));
        let e = resolve("::ffff:169.254.169.254", 80).await.unwrap_err();
        assert!(e.to_string().contains("metadata"), "{e}");
        let e = resolve("no-such-host.invalid", 80).await.unwrap_err();
        assert!(matches!(e, Unresolved::Failed(_)), "{e}");
    }
}
