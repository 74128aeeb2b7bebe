//! Host normalisation: one spelling for every way of writing a host, so
//! that rules and the names clients ask for compare equal exactly when
//! they name the same host.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

/// A host in its one normal spelling: a DNS name (lower-case ASCII,
/// internationalised labels in punycode, no trailing dot) or an IP
/// address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NormalizedHost {
    /// A DNS name such as `pypi.org` or `xn--bcher-kva.de`.
    Name(String),
    /// An IP address, however it was written (`127.1`, `[::1]`).
    Ip(IpAddr),
}

impl fmt::Display for NormalizedHost {
    /// The name, or the address (IPv6 without brackets).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NormalizedHost::Name(n) => f.write_str(n),
            NormalizedHost::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// Normalises a host as a client or a rule wrote it.
///
/// - Case is folded and one trailing dot removed (`EXAMPLE.com.` →
///   `example.com`).
/// - Internationalised names become punycode (`bücher.de` →
///   `xn--bcher-kva.de`), by the WHATWG URL Standard's IDNA processing.
/// - IPv6 addresses are accepted with or without brackets (`[::1]`, `::1`).
/// - Anything the WHATWG URL Standard reads as an IPv4 address in an
///   `http` URL is one: `127.1`, `0x7f.1`, `0177.0.0.1` and `2130706433`
///   are all `127.0.0.1`. Browsers, curl and most HTTP libraries read them
///   so, and a name rule must never be able to let a loopback or private
///   address through under another spelling. A name whose last label is
///   numeric but that is no valid address (`1.2.3.999`) is an error.
/// - After normalisation a name may contain only ASCII letters, digits,
///   `-`, `_` and `.`, with no empty label; anything else (`*`, `$`,
///   spaces, control characters, a port, a path, user information) is an
///   error.
pub fn normalize_host(host: &str) -> Result<NormalizedHost, String> {
    if host.is_empty() {
        return Err("the host is empty".into());
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner
            .parse::<Ipv6Addr>()
            .map(|ip| NormalizedHost::Ip(IpAddr::V6(ip)))
            .map_err(|_| format!("`{inner}` in brackets is not an IPv6 address"));
    }
    if host.contains(':') {
        return host
            .parse::<Ipv6Addr>()
            .map(|ip| NormalizedHost::Ip(IpAddr::V6(ip)))
            .map_err(|_| {
                format!("`{host}` is not a host: a host has no `:` (a port is not part of it)")
            });
    }
    if let Some(c) = host
        .chars()
        .find(|c| c.is_control() || c.is_whitespace() || "/?#@\\[]%".contains(*c))
    {
        return Err(format!("a host cannot contain {c:?}"));
    }
    // The WHATWG host parser of a special scheme: IDNA, lower-casing and
    // the IPv4 number forms.
    let url = url::Url::parse(&format!("http://{host}/"))
        .map_err(|e| format!("`{host}` is not a valid host name: {e}"))?;
    match url.host() {
        Some(url::Host::Ipv4(ip)) => Ok(NormalizedHost::Ip(IpAddr::V4(ip))),
        Some(url::Host::Ipv6(ip)) => Ok(NormalizedHost::Ip(IpAddr::V6(ip))),
        Some(url::Host::Domain(d)) => name(d, host),
        None => Err(format!("`{host}` is not a valid host name")),
    }
}

/// Checks a name the URL parser produced and removes one trailing dot.
fn name(domain: &str, original: &str) -> Result<NormalizedHost, String> {
    let d = domain.strip_suffix('.').unwrap_or(domain);
    if d.is_empty() || d.split('.').any(str::is_empty) {
        return Err(format!("`{original}` has an empty label"));
    }
    if let Some(c) = d
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_.".contains(*c)))
    {
        return Err(format!(
            "`{original}` is not a host name: it contains {c:?}"
        ));
    }
    Ok(NormalizedHost::Name(d.to_string()))
}

/// Splits `host:port`, `[v6]:port` and `[v6/len]:port` (the brackets
/// removed); an unbracketed text with more than one `:` is an IPv6
/// address (or network) with no port.
pub(crate) fn split_port(text: &str) -> Result<(&str, Option<&str>), String> {
    if let Some(rest) = text.strip_prefix('[') {
        let (inner, after) = rest
            .split_once(']')
            .ok_or_else(|| "a `[` without its `]`".to_string())?;
        return match after {
            "" => Ok((inner, None)),
            _ => match after.strip_prefix(':') {
                Some(p) => Ok((inner, Some(p))),
                None => Err(format!(
                    "`{after}` after `]`: only `:PORT` may follow an address in brackets"
                )),
            },
        };
    }
    match text.split_once(':') {
        Some((host, port)) if !port.contains(':') => Ok((host, Some(port))),
        _ => Ok((text, None)),
    }
}

/// A port number, 1 to 65535.
pub(crate) fn parse_port(p: &str) -> Result<u16, String> {
    match p.parse::<u16>() {
        Ok(0) | Err(_) => Err(format!("`{p}` is not a port (1 to 65535)")),
        Ok(n) => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn n(h: &str) -> NormalizedHost {
        normalize_host(h).unwrap_or_else(|e| panic!("{h}: {e}"))
    }

    fn name(s: &str) -> NormalizedHost {
        NormalizedHost::Name(s.into())
    }

    const LOOPBACK: NormalizedHost = NormalizedHost::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST));

    #[test]
    fn case_trailing_dot_and_idn_are_folded() {
        assert_eq!(n("EXAMPLE.com."), name("example.com"));
        assert_eq!(n("External-Domain.COM"), name("external-domain.com"));
        assert_eq!(n("bücher.de"), name("xn--bcher-kva.de"));
        assert_eq!(n("BÜCHER.de."), name("xn--bcher-kva.de"));
        assert_eq!(n("xn--bcher-kva.de"), name("xn--bcher-kva.de"));
        // Full-width letters map to ASCII.
        assert_eq!(n("ｅｘａｍｐｌｅ.com"), name("example.com"));
        assert_eq!(n("localhost"), name("localhost"));
        assert_eq!(n("_acme.example.com"), name("_acme.example.com"));
    }

    #[test]
    fn every_spelling_of_an_ipv4_address_is_an_address() {
        for s in [
            "127.0.0.1",
            "127.1",
            "0x7f.1",
            "0x7F.0.0.1",
            "0177.0.0.1",
            "2130706433",
            "0x7f000001",
            "127.0.0.1.",
        ] {
            assert_eq!(n(s), LOOPBACK, "{s}");
        }
        assert!(normalize_host("1.2.3.999").is_err());
        assert!(normalize_host("1.2.3.4.5").is_err());
    }

    #[test]
    fn ipv6_with_or_without_brackets() {
        let one = NormalizedHost::Ip("::1".parse().unwrap());
        assert_eq!(n("[::1]"), one);
        assert_eq!(n("::1"), one);
        assert_eq!(n("[0:0:0:0:0:0:0:1]"), one);
        assert_eq!(n("[::1]").to_string(), "::1");
        assert!(normalize_host("[::1]:80").is_err());
        assert!(normalize_host("[example.com]").is_err());
    }

    #[test]
    fn ports_paths_userinfo_and_odd_characters_are_errors() {
        for bad in [
            "",
            ".",
            "a..b",
            "example.com:443",
            "example.com/x",
            "u@example.com",
            "exa mple.com",
            "exa\nmple.com",
            "*.example.com",
            "*",
            "a%2eb",
            "ex$ample.com",
        ] {
            assert!(normalize_host(bad).is_err(), "{bad:?}");
        }
        let e = normalize_host("example.com:443").unwrap_err();
        assert!(e.contains("port"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = normalize_host(&s);
        }

        #[test]
        fn never_panics_on_host_like_text(s in "[a-zA-Z0-9.:\\[\\]%xü-]{0,40}") {
            if let Ok(h) = normalize_host(&s) {
                // Normal forms are fixed points.
                proptest::prop_assert_eq!(normalize_host(&h.to_string()), Ok(h));
            }
        }
    }
}
