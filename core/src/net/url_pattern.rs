//! URL patterns (`require_approval`): globs such as
//! `*://external-domain.com/*`, parsed into scheme, host, port and path so
//! that every spelling of a URL (case, trailing dot, user information,
//! default port, IDN, numeric IPv4) matches as the URL it is.

use super::host::{normalize_host, parse_port, split_port, NormalizedHost};
use crate::glob::glob_match;
use std::fmt;

/// A `require_approval` pattern.
///
/// Written `SCHEME://HOST[:PORT][/PATH]`:
///
/// - `SCHEME` is a glob (`*`, `https`, `http*`), compared without regard
///   to case.
/// - `HOST` is `*` (any host, addresses included), `*.example.com` (any
///   subdomain, not `example.com` itself), an exact name or address
///   (normalised like [`normalize_host`]: `External-Domain.COM.` is
///   `external-domain.com`, `[::1]` is `::1`), or any other glob, matched
///   against the normalised host. User information (`git@`) is ignored.
/// - `PORT` is a number or `*`. Without one any port matches (so
///   `https://h/*` also asks for `https://h:8443/`).
/// - `PATH` (with its query) is a glob, case-insensitive, `*` crossing
///   `/`. Without one any path matches.
///
/// Also accepted: an scp-style git remote, `git@github.com:org/*`, read as
/// `ssh://git@github.com/org/*`; and a pattern with no `://` at all
/// (`external-domain.com`, `*.example.com/*`), read as `*://` before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlPattern {
    text: String,
    scheme: String,
    host: HostPattern,
    port: Option<u16>,
    path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Any,
    Exact(NormalizedHost),
    Subdomains(String),
    Glob(String),
}

impl HostPattern {
    fn parse(host: &str) -> Result<HostPattern, String> {
        let globby = |s: &str| s.contains(['*', '?']);
        if host == "*" {
            return Ok(HostPattern::Any);
        }
        if let Some(suffix) = host.strip_prefix("*.").filter(|s| !globby(s)) {
            return match normalize_host(suffix)? {
                NormalizedHost::Name(n) => Ok(HostPattern::Subdomains(n)),
                NormalizedHost::Ip(_) => Err("`*.` cannot come before an address".into()),
            };
        }
        if globby(host) {
            if let Some(c) = host
                .chars()
                .find(|c| c.is_whitespace() || c.is_control() || "/#@\\[]".contains(*c))
            {
                return Err(format!("a host cannot contain {c:?}"));
            }
            return Ok(HostPattern::Glob(host.to_lowercase()));
        }
        normalize_host(host).map(HostPattern::Exact)
    }

    fn matches(&self, host: &NormalizedHost) -> bool {
        match (self, host) {
            (HostPattern::Any, _) => true,
            (HostPattern::Exact(h), _) => h == host,
            (HostPattern::Subdomains(s), NormalizedHost::Name(n)) => n
                .strip_suffix(s.as_str())
                .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
            (HostPattern::Subdomains(_), NormalizedHost::Ip(_)) => false,
            (HostPattern::Glob(g), h) => glob_match(g, &h.to_string()),
        }
    }
}

impl UrlPattern {
    /// Parses a pattern; the error says what is wrong with it.
    pub fn parse(pattern: &str) -> Result<UrlPattern, String> {
        let text = pattern.trim();
        if text.is_empty() {
            return Err("a URL glob cannot be empty".into());
        }
        let bad = |why: String| format!("`{text}` is not a URL pattern: {why}");
        let url = match text.find("://") {
            Some(_) => text.to_string(),
            None => scp_to_url(text).unwrap_or_else(|| format!("*://{text}")),
        };
        let (scheme, rest) = url.split_once("://").expect("has ://");
        if scheme.is_empty() {
            return Err(bad(format!("no scheme before `://` (`*{text}` for any)")));
        }
        if let Some(c) = scheme
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "+.-*?".contains(*c)))
        {
            return Err(bad(format!("a scheme cannot contain {c:?}")));
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let (host, port) = split_port(host_port).map_err(bad)?;
        let port = match port {
            None | Some("*") | Some("") => None,
            Some(p) => Some(parse_port(p).map_err(bad)?),
        };
        if host.is_empty() {
            return Err(bad("no host (`*` for any)".into()));
        }
        // A bracketed IPv6 host: split_port removed the brackets.
        let host = HostPattern::parse(host).map_err(bad)?;
        Ok(UrlPattern {
            text: text.to_string(),
            scheme: scheme.to_ascii_lowercase(),
            host,
            port,
            path: (!path.is_empty()).then(|| path.to_lowercase()),
        })
    }

    /// The pattern as written (trimmed).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether a URL found in a command matches: the URL is parsed as
    /// browsers and curl parse it (WHATWG), so its case, a trailing dot,
    /// user information, a default port written out, an IDN or a numeric
    /// IPv4 spelling change nothing; `..` segments are resolved and the
    /// path is also tried percent-decoded. An scp-style git remote
    /// (`git@host:org/repo`) is read as `ssh://git@host/org/repo`.
    ///
    /// The pattern's text is also matched as a plain glob against the URL
    /// (case-insensitive), as before patterns were parsed, so nothing that
    /// matched then stops matching.
    pub fn matches_url(&self, url: &str) -> bool {
        let lower = url.to_lowercase();
        if glob_match(&self.text.to_lowercase(), &lower) {
            return true;
        }
        match scp_to_url(url) {
            Some(ssh) => self.matches_parsed(&ssh),
            None => self.matches_parsed(url),
        }
    }

    fn matches_parsed(&self, url: &str) -> bool {
        let Ok(u) = url::Url::parse(url) else {
            return false;
        };
        let Some(host) = u.host_str().and_then(|h| normalize_host(h).ok()) else {
            return false;
        };
        let scheme = u.scheme();
        let Some(port) = u.port().or_else(|| default_port(scheme)) else {
            // No port and no known default: only a pattern without a port.
            return self.port.is_none() && self.matches_authority(scheme, &host, None);
        };
        if !self.matches_authority(scheme, &host, Some(port)) {
            return false;
        }
        let Some(glob) = &self.path else {
            return true;
        };
        let mut path = u.path().to_string();
        if let Some(q) = u.query() {
            path.push('?');
            path.push_str(q);
        }
        let path = path.to_lowercase();
        glob_match(glob, &path) || glob_match(glob, &percent_decode(&path).to_lowercase())
    }

    fn matches_authority(&self, scheme: &str, host: &NormalizedHost, port: Option<u16>) -> bool {
        glob_match(&self.scheme, &scheme.to_ascii_lowercase())
            && self.port.is_none_or(|p| Some(p) == port)
            && self.host.matches(host)
    }

    /// Whether a connection the proxy sees matches, the path unknown: the
    /// pattern's path is ignored (`*://github.com/org/*` asks for every
    /// connection to `github.com`). The scheme counts only when the proxy
    /// knows it (an absolute-URL request); for a tunnel (`None`) any
    /// scheme matches. A pattern with a port matches only that port; one
    /// without, any port.
    pub fn matches_connection(
        &self,
        scheme: Option<&str>,
        host: &NormalizedHost,
        port: u16,
    ) -> bool {
        scheme.is_none_or(|s| glob_match(&self.scheme, &s.to_ascii_lowercase()))
            && self.port.is_none_or(|p| p == port)
            && self.host.matches(host)
    }
}

impl fmt::Display for UrlPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The default port of the schemes commands use.
fn default_port(scheme: &str) -> Option<u16> {
    Some(match scheme {
        "http" | "ws" | "git+http" => 80,
        "https" | "wss" | "git+https" => 443,
        "ftp" => 21,
        "ssh" | "sftp" | "git+ssh" | "ssh+git" | "scp" => 22,
        "git" => 9418,
        "rsync" => 873,
        _ => return None,
    })
}

/// `user@host:path` (git's scp-like syntax) as `ssh://user@host/path`.
///
/// It is one when there is no `://`, no `/` before the first `:`, the
/// part after that `:` does not start with `//`, and the part before it is
/// a host (`[v6]`, or letters, digits, `-`, `.`, `_`, globs) after an
/// optional `user@`. Without a user the host must contain a `.` or be in
/// brackets, and `host:123` (digits only) is a host and a port, not a
/// remote: `HEAD:file` and `a.txt:3` are seldom remotes, `github.com:org/r`
/// is one.
pub(crate) fn scp_to_url(s: &str) -> Option<String> {
    if s.contains("://") {
        return None;
    }
    // The first `:` outside brackets (`me@[::1]:repo`).
    let from = match (s.find('['), s.find(']')) {
        (Some(open), Some(close)) if open < close && !s[..open].contains(':') => close,
        _ => 0,
    };
    let colon = from + s[from..].find(':')?;
    let (before, after) = (&s[..colon], &s[colon + 1..]);
    if before.contains('/') || after.starts_with("//") {
        return None;
    }
    let (user, host) = match before.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, before),
    };
    let bracketed = host.starts_with('[') && host.ends_with(']') && host.len() > 2;
    let plain = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || "-._*?".contains(c));
    let odd_user = user.is_some_and(|u| u.contains(|c: char| c.is_whitespace() || c.is_control()));
    if !(bracketed || plain) || odd_user {
        return None;
    }
    if user.is_none() && !(bracketed || host.contains('.')) {
        return None;
    }
    if user.is_none() && !after.is_empty() && after.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    // A bracketed host may hold a port too (`[host:22]:path`, an old git
    // form); `[v6]` stays as it is.
    if bracketed
        && host[1..host.len() - 1]
            .parse::<std::net::Ipv6Addr>()
            .is_err()
    {
        return None;
    }
    Some(format!("ssh://{before}/{}", after.trim_start_matches('/')))
}

/// `%XX` escapes decoded (invalid ones kept), lossily as UTF-8.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn p(s: &str) -> UrlPattern {
        UrlPattern::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn host(s: &str) -> NormalizedHost {
        normalize_host(s).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn every_spelling_of_a_url_matches() {
        let pat = p("*://external-domain.com/*");
        for url in [
            "https://external-domain.com/r",
            "https://External-Domain.COM.:443/r",
            "https://u:p@external-domain.com/r",
            "https://external-domain.com:443/r",
            "https://external-domain.com",
            "http://EXTERNAL-DOMAIN.com./",
            "ssh://git@External-Domain.com/org/repo",
            "git@external-domain.com:org/repo",
            "https://external-domain.com:8443/x",
            "HTTPS://external-domain.com/x?y=1",
        ] {
            assert!(pat.matches_url(url), "{url}");
        }
        for url in [
            "https://other.com/external-domain.com",
            "https://external-domain.com.evil.org/",
            "https://a.external-domain.com/",
            "https://external-domain.co/",
            "git@other.com:external-domain.com/x",
        ] {
            assert!(!pat.matches_url(url), "{url}");
        }
    }

    #[test]
    fn idn_and_numeric_ipv4_spellings() {
        assert!(p("*://bücher.de/*").matches_url("https://xn--bcher-kva.de/x"));
        assert!(p("*://xn--bcher-kva.de/*").matches_url("https://BÜCHER.de./x"));
        let lo = p("*://127.0.0.1/*");
        for url in [
            "http://127.1/",
            "http://0x7f.1/",
            "http://2130706433/",
            "http://0177.0.0.1:80/",
        ] {
            assert!(lo.matches_url(url), "{url}");
        }
        let v6 = p("http://[::1]:8080/*");
        assert!(v6.matches_url("http://[0:0::1]:8080/x"));
        assert!(!v6.matches_url("http://[::1]:8081/x"));
    }

    #[test]
    fn schemes_ports_and_paths() {
        let pat = p("https://*.example.com/*");
        assert!(pat.matches_url("https://a.example.com/x"));
        assert!(pat.matches_url("https://A.B.Example.com:443/"));
        assert!(!pat.matches_url("http://a.example.com/x"));
        assert!(!pat.matches_url("https://example.com/x"));

        let pat = p("http://host:8080/path*");
        assert!(pat.matches_url("http://HOST:8080/path/x"));
        assert!(pat.matches_url("http://host:8080/PATH?q=1"));
        assert!(pat.matches_url("http://host:8080/a/../path"));
        assert!(pat.matches_url("http://host:8080/%70ath"));
        assert!(!pat.matches_url("http://host/path"));
        assert!(!pat.matches_url("http://host:8080/other"));

        // A default port written out in the pattern.
        assert!(p("https://h.io:443/*").matches_url("https://h.io/x"));
        assert!(p("ssh://h.io:22/*").matches_url("git@h.io:x/y"));
        // No path in the pattern: any path.
        assert!(p("*://h.io").matches_url("https://h.io/a/b"));
        assert!(p("h.io").matches_url("ftp://h.io/a"));
        assert!(p("h.io:8443").matches_url("https://h.io:8443/a"));
        assert!(!p("h.io:8443").matches_url("https://h.io/a"));
    }

    #[test]
    fn scp_style_remotes() {
        let pat = p("git@github.com:org/*");
        assert!(pat.matches_url("git@github.com:org/repo"));
        assert!(pat.matches_url("git@GitHub.com:org/repo.git"));
        assert!(pat.matches_url("ssh://git@github.com/org/repo"));
        assert!(pat.matches_url("github.com:org/repo"));
        assert!(!pat.matches_url("git@github.com:other/repo"));
        assert!(!pat.matches_url("https://github.com/org/repo"));

        assert_eq!(
            scp_to_url("git@host.io:org/r").as_deref(),
            Some("ssh://git@host.io/org/r")
        );
        assert_eq!(
            scp_to_url("host.io:/srv/r").as_deref(),
            Some("ssh://host.io/srv/r")
        );
        assert_eq!(
            scp_to_url("me@[::1]:r").as_deref(),
            Some("ssh://me@[::1]/r")
        );
        for not in [
            "HEAD:file",
            "a/b:c",
            "host.io://x",
            "https://h/x",
            "h.io:8080",
            "no-colon",
            "@:x",
            "a b@h.io:x",
        ] {
            assert_eq!(scp_to_url(not), None, "{not}");
        }
    }

    #[test]
    fn old_globs_still_match_what_they_matched() {
        let pat = p("http*://*");
        assert!(pat.matches_url("https://x.io/a"));
        assert!(pat.matches_url("http://x.io/"));
        assert!(!pat.matches_url("ftp://x.io/"));
        // `*.sh` as a host glob would miss this; the plain glob does not.
        assert!(p("*://*.sh").matches_url("https://x.io/install.sh"));
        // An unparsable URL (port out of range) still meets the plain glob.
        assert!(p("*://x.io*").matches_url("http://x.io:99999/"));
    }

    #[test]
    fn connections_ignore_the_path() {
        let pat = p("*://github.com/org/*");
        assert!(pat.matches_connection(None, &host("GitHub.com."), 443));
        assert!(pat.matches_connection(Some("http"), &host("github.com"), 80));
        assert!(!pat.matches_connection(None, &host("api.github.com"), 443));

        let pat = p("https://h.io/*");
        assert!(pat.matches_connection(None, &host("h.io"), 8443));
        assert!(pat.matches_connection(Some("HTTPS"), &host("h.io"), 443));
        assert!(!pat.matches_connection(Some("http"), &host("h.io"), 80));

        let pat = p("*://h.io:8443/*");
        assert!(pat.matches_connection(None, &host("h.io"), 8443));
        assert!(!pat.matches_connection(None, &host("h.io"), 443));

        let any = p("*://*/*");
        assert!(any.matches_connection(None, &host("10.0.0.1"), 1));
        let addr = p("*://10.0.0.1/*");
        assert!(addr.matches_connection(None, &NormalizedHost::Ip(ip("10.0.0.1")), 1));
        assert!(addr.matches_connection(None, &host("0x0a.0.0.1"), 1));
    }

    #[test]
    fn bad_patterns_say_why() {
        for (pat, expect) in [
            ("", "cannot be empty"),
            ("  ", "cannot be empty"),
            ("://h.io/*", "no scheme"),
            ("ht tp://h.io/*", "scheme cannot contain"),
            ("https:///x", "no host"),
            ("https://h.io:99999/*", "not a port"),
            ("https://exa mple.com/*", "cannot contain"),
            ("https://[::1/*", "without its `]`"),
        ] {
            let e = UrlPattern::parse(pat).unwrap_err();
            assert!(e.contains(expect), "{pat}: {e}");
        }
    }

    #[test]
    fn percent_decoding_keeps_bad_escapes() {
        assert_eq!(percent_decode("/%41%2f%zz%4"), "/A/%zz%4");
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("%C3%BC"), "ü");
    }
}
