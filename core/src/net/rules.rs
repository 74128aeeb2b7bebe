//! Egress rules: the `network.allow` and `network.deny` host entries and
//! the policy's `require_approval` URL patterns, and the verdicts the
//! filtering proxy acts on.
//!
//! ```
//! use sandboxcore::net::{normalize_host, EgressRules, HostVerdict};
//!
//! let rules = EgressRules::new(
//!     &["pypi.org".into(), "*.pythonhosted.org:443".into()],
//!     &["evil.pypi.org".into()],
//!     &["*://external-domain.com/*".into()],
//! )
//! .unwrap();
//! let host = normalize_host("Files.PythonHosted.org.").unwrap();
//! assert_eq!(
//!     rules.check_host(&host, 443, None),
//!     HostVerdict::Allow { rule: "network.allow[1]: *.pythonhosted.org:443".into() }
//! );
//! assert_eq!(rules.check_host(&host, 80, None), HostVerdict::NotAllowed);
//! ```

use super::addr::AddressRange;
pub use super::host::{normalize_host, NormalizedHost};
use super::host::{parse_port, split_port};
use super::url_pattern::UrlPattern;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// How a run reaches the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    /// No network at all (the default).
    #[default]
    None,
    /// Only the hosts the rules allow, through the filtering proxy.
    Allowlist,
    /// Whatever network the backend provides, unfiltered.
    Full,
}

impl NetworkMode {
    /// The name used in policy files and environment variables.
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkMode::None => "none",
            NetworkMode::Allowlist => "allowlist",
            NetworkMode::Full => "full",
        }
    }
}

impl fmt::Display for NetworkMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `allow` or `deny` entry.
///
/// | entry | matches |
/// |---|---|
/// | `pypi.org` | exactly that host, any port |
/// | `*.pypi.org` | any subdomain of `pypi.org` (`files.pypi.org`, `a.b.pypi.org`), **not** `pypi.org` itself: list both when both are meant |
/// | `*` | any host name (never a raw IP address: only address rules match those) |
/// | `pypi.org:443`, `*.example.com:8443`, `*:443` | as above, on that port only |
/// | `10.0.0.5`, `10.0.0.0/8`, `::1`, `fd00::/8` | an address or network (CIDR), any port |
/// | `10.0.0.5:8080`, `[::1]:8080`, `[fd00::/8]:443` | on that port only |
///
/// Names are normalised like the names clients ask for (see
/// [`normalize_host`]): `PyPI.org.` is `pypi.org`, `bücher.de` is
/// `xn--bcher-kva.de`, and `127.1` is the address `127.0.0.1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRule {
    text: String,
    target: Target,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// `*`: any name.
    AnyName,
    /// A name exactly.
    Name(String),
    /// `*.suffix`: names ending in `.suffix`.
    Subdomains(String),
    /// An address or network.
    Net(AddressRange),
}

impl HostRule {
    /// Parses an entry. The error names the entry and says what is wrong
    /// (the caller adds which list and index it came from).
    pub fn parse(entry: &str) -> Result<HostRule, String> {
        let bad = |why: String| format!("`{entry}` is not a host pattern: {why}");
        let text = entry.trim();
        if text.is_empty() {
            return Err("an empty entry is not a host pattern".into());
        }
        if let Some(i) = text.find("://") {
            let rest = &text[i + 3..];
            let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
            let host = host.rsplit('@').next().unwrap_or(host);
            return Err(bad(format!(
                "a rule names a host, not a URL; write `{host}`"
            )));
        }
        let (host, port) = split_port(text).map_err(bad)?;
        let port = port.map(parse_port).transpose().map_err(bad)?;
        let target = if host == "*" {
            Target::AnyName
        } else if host == "**" {
            return Err(bad("write `*` for any host".into()));
        } else if let Some(suffix) = host.strip_prefix("*.") {
            match normalize_host(suffix) {
                Ok(NormalizedHost::Name(s)) => Target::Subdomains(s),
                Ok(NormalizedHost::Ip(_)) => {
                    return Err(bad("`*.` cannot come before an address".into()))
                }
                Err(e) if suffix.is_empty() => {
                    return Err(bad(format!("`*.` needs a domain after it ({e})")))
                }
                Err(e) => return Err(bad(e)),
            }
        } else if host.contains('*') {
            return Err(bad(
                "`*` may only be a whole entry (`*`) or a first label (`*.example.com`)".into(),
            ));
        } else if let Some((addr, len)) = host.split_once('/') {
            if addr
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
                && !len.chars().all(|c| c.is_ascii_digit())
            {
                return Err(bad(format!(
                    "a rule names a host, not a path; write `{addr}`"
                )));
            }
            Target::Net(address_range(addr, len).map_err(bad)?)
        } else {
            match normalize_host(host).map_err(bad)? {
                NormalizedHost::Name(n) => Target::Name(n),
                NormalizedHost::Ip(ip) => Target::Net(AddressRange::single(ip)),
            }
        };
        Ok(HostRule {
            text: text.to_string(),
            target,
            port,
        })
    }

    /// The entry as written (trimmed).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether this is an address rule (an address or a network).
    pub fn is_address(&self) -> bool {
        matches!(self.target, Target::Net(_))
    }

    /// Whether the rule matches a host the client asked for, on `port`.
    /// Name rules match names; address rules match addresses.
    pub fn matches_host(&self, host: &NormalizedHost, port: u16) -> bool {
        if self.port.is_some_and(|p| p != port) {
            return false;
        }
        match (&self.target, host) {
            (Target::AnyName, NormalizedHost::Name(_)) => true,
            (Target::Name(n), NormalizedHost::Name(h)) => n == h,
            (Target::Subdomains(s), NormalizedHost::Name(h)) => h
                .strip_suffix(s.as_str())
                .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
            (Target::Net(net), NormalizedHost::Ip(ip)) => net.contains(*ip),
            _ => false,
        }
    }

    /// Whether this address rule contains `ip` on `port` (false for name
    /// rules).
    pub fn matches_address(&self, ip: IpAddr, port: u16) -> bool {
        self.is_address() && self.matches_host(&NormalizedHost::Ip(ip), port)
    }
}

impl fmt::Display for HostRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// An address rule's range: the address normalised as a client's host
/// is (`127.1` is `127.0.0.1`), and no host bits after the prefix (the
/// rule says the network it means).
fn address_range(addr: &str, len: &str) -> Result<AddressRange, String> {
    let ip = match normalize_host(addr) {
        Ok(NormalizedHost::Ip(ip)) => ip,
        _ => return Err(format!("`{addr}` before `/` is not an IP address")),
    };
    let range = AddressRange::parse(&format!("{ip}/{len}"))?;
    if range.network() != ip {
        return Err(format!(
            "`{ip}` has bits set after the first {len}; the network is `{}/{len}`",
            range.network()
        ));
    }
    Ok(range)
}

/// What to do with a connection to a host a client asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostVerdict {
    /// An allow rule matches (`network.allow[0]: *.pypi.org`).
    Allow {
        /// The rule.
        rule: String,
    },
    /// A `require_approval` pattern matches
    /// (`require_approval[0]: *://external-domain.com/*`).
    Ask {
        /// The rule.
        rule: String,
    },
    /// A deny rule matches (`network.deny[1]: evil.com`).
    Deny {
        /// The rule.
        rule: String,
    },
    /// No rule matches: refused.
    NotAllowed,
}

/// What to do with one address a host name resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressVerdict {
    /// A deny address rule contains it.
    Deny {
        /// The rule.
        rule: String,
    },
    /// An allow address rule contains it (special-purpose addresses
    /// included: that is how to allow `10.0.0.0/8`).
    Allowed {
        /// The rule.
        rule: String,
    },
    /// No address rule contains it: the proxy refuses it only if it is a
    /// special-purpose address (loopback, private, link-local, ...).
    Unlisted,
}

/// A rule with its name in verdicts (`network.allow[0]: *.pypi.org`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Labelled<T> {
    name: String,
    rule: T,
}

impl<T: fmt::Display> Labelled<T> {
    fn new(label: &str, rule: T) -> Labelled<T> {
        Labelled {
            name: format!("{label}: {rule}"),
            rule,
        }
    }
}

/// A run's egress rules: allowed and denied hosts and the URL patterns
/// that need approval.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EgressRules {
    allow: Vec<Labelled<HostRule>>,
    deny: Vec<Labelled<HostRule>>,
    approval: Vec<Labelled<UrlPattern>>,
    /// Further allow lists that must each allow a host too (the
    /// allowlists of less trusted policy layers: see
    /// [`EgressRules::require_also`]). Empty for a single policy.
    also_allow: Vec<Vec<Labelled<HostRule>>>,
}

/// An entry of [`EgressRules::new`] that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryError {
    /// `allow`, `deny` or `require_approval`.
    pub list: &'static str,
    /// The index in that list.
    pub index: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]: {}", self.list, self.index, self.message)
    }
}

impl EgressRules {
    /// Parses the entries. An error names the entry by list and index
    /// (`allow[2]: ...`, `deny[0]: ...`, `require_approval[1]: ...`).
    /// Rules are named in verdicts as `network.allow[i]: TEXT`,
    /// `network.deny[i]: TEXT` and `require_approval[i]: TEXT`.
    pub fn new(
        allow: &[String],
        deny: &[String],
        require_approval: &[String],
    ) -> Result<EgressRules, String> {
        Self::build(allow, deny, require_approval).map_err(|e| e.to_string())
    }

    pub(crate) fn build(
        allow: &[String],
        deny: &[String],
        require_approval: &[String],
    ) -> Result<EgressRules, EntryError> {
        fn list<T: fmt::Display>(
            name: &'static str,
            label: &str,
            entries: &[String],
            parse: impl Fn(&str) -> Result<T, String>,
        ) -> Result<Vec<Labelled<T>>, EntryError> {
            entries
                .iter()
                .enumerate()
                .map(|(index, e)| {
                    parse(e)
                        .map(|rule| Labelled::new(&format!("{label}[{index}]"), rule))
                        .map_err(|message| EntryError {
                            list: name,
                            index,
                            message,
                        })
                })
                .collect()
        }
        Ok(EgressRules {
            allow: list("allow", "network.allow", allow, HostRule::parse)?,
            deny: list("deny", "network.deny", deny, HostRule::parse)?,
            approval: list(
                "require_approval",
                "require_approval",
                require_approval,
                UrlPattern::parse,
            )?,
            also_allow: Vec::new(),
        })
    }

    /// No allow, deny or approval entry.
    pub fn is_empty(&self) -> bool {
        self.allow.is_empty()
            && self.deny.is_empty()
            && self.approval.is_empty()
            && self.also_allow.iter().all(Vec::is_empty)
    }

    /// The allow entries as written.
    pub fn allow_entries(&self) -> Vec<&str> {
        self.allow.iter().map(|l| l.rule.as_str()).collect()
    }

    /// The deny entries as written.
    pub fn deny_entries(&self) -> Vec<&str> {
        self.deny.iter().map(|l| l.rule.as_str()).collect()
    }

    /// The approval patterns with their rule names
    /// (`require_approval[0]: *://external-domain.com/*`).
    pub fn approval_patterns(&self) -> impl Iterator<Item = (&str, &UrlPattern)> {
        self.approval.iter().map(|l| (l.name.as_str(), &l.rule))
    }

    /// Adds `other`'s entries after these (a run adding hosts to its
    /// policy's). Entries keep the names they had: a run's rules built
    /// with [`EgressRules::new`] are named `network.allow[i]` by their own
    /// index; see [`EgressRules::with_origin`] to tell them apart.
    ///
    /// When these rules combine several allowlists (policy layers, see
    /// [`EgressRules::require_also`]), `other`'s allow entries are added
    /// to each of them: a run's own hosts are reachable under every layer.
    pub fn merge(&mut self, other: EgressRules) {
        for list in &mut self.also_allow {
            list.extend(other.allow.iter().cloned());
        }
        for list in other.also_allow {
            self.also_allow.push(list);
        }
        self.allow.extend(other.allow);
        self.deny.extend(other.deny);
        self.approval.extend(other.approval);
    }

    /// Combines these rules with those of a less trusted policy layer:
    /// `other`'s deny entries and approval patterns are added, and a host
    /// (or address) is allowed only when these rules allow it **and**
    /// `other`'s allow entries do too. Used for policy layers whose
    /// network mode is `allowlist`.
    pub fn require_also(&mut self, other: EgressRules) {
        self.deny.extend(other.deny);
        self.approval.extend(other.approval);
        self.also_allow.push(other.allow);
        self.also_allow.extend(other.also_allow);
    }

    /// Adds `other`'s deny entries and approval patterns, not its allow
    /// entries (a less trusted policy layer whose network mode does not
    /// narrow the hosts: its denials still count).
    pub fn add_denials(&mut self, other: EgressRules) {
        self.deny.extend(other.deny);
        self.approval.extend(other.approval);
    }

    /// Puts `prefix: ` before the name of every rule
    /// (`user: network.allow[0]: pypi.org`): which policy layer it came
    /// from.
    pub fn with_layer(mut self, prefix: &str) -> EgressRules {
        fn rename<T>(list: &mut [Labelled<T>], prefix: &str) {
            for l in list {
                l.name = format!("{prefix}: {}", l.name);
            }
        }
        rename(&mut self.allow, prefix);
        rename(&mut self.deny, prefix);
        rename(&mut self.approval, prefix);
        for list in &mut self.also_allow {
            rename(list, prefix);
        }
        self
    }

    /// Renames the allow and deny rules `ORIGIN.allow[i]` and
    /// `ORIGIN.deny[i]` (`run.allow[0]: example.com` for a run's own
    /// hosts, instead of `network.allow[0]`).
    pub fn with_origin(mut self, origin: &str) -> EgressRules {
        for (list, name) in [(&mut self.allow, "allow"), (&mut self.deny, "deny")] {
            for (i, l) in list.iter_mut().enumerate() {
                *l = Labelled::new(&format!("{origin}.{name}[{i}]"), l.rule.clone());
            }
        }
        self
    }

    /// The verdict on the host a client asked for (CONNECT target, URL
    /// host, `Host` header or SNI), on `port`, with the URL scheme when
    /// the proxy knows it (an absolute-URL request; `None` for a tunnel).
    ///
    /// In order: a matching deny rule denies; then a matching
    /// `require_approval` pattern asks (see
    /// [`UrlPattern::matches_connection`]: paths are not seen, so any path
    /// counts); then a matching allow rule allows; else the host is not
    /// allowed. A client that asks for a raw IP address is allowed only by
    /// an address rule: `*` and the other name rules never match one.
    pub fn check_host(
        &self,
        host: &NormalizedHost,
        port: u16,
        scheme: Option<&str>,
    ) -> HostVerdict {
        if let Some(l) = self.deny.iter().find(|l| l.rule.matches_host(host, port)) {
            return HostVerdict::Deny {
                rule: l.name.clone(),
            };
        }
        if let Some(l) = self
            .approval
            .iter()
            .find(|l| l.rule.matches_connection(scheme, host, port))
        {
            return HostVerdict::Ask {
                rule: l.name.clone(),
            };
        }
        if let Some(l) = self.allow.iter().find(|l| l.rule.matches_host(host, port)) {
            if self
                .also_allow
                .iter()
                .all(|list| list.iter().any(|l| l.rule.matches_host(host, port)))
            {
                return HostVerdict::Allow {
                    rule: l.name.clone(),
                };
            }
        }
        HostVerdict::NotAllowed
    }

    /// The verdict on one address an allowed name resolved to: denied if a
    /// deny address rule contains it, allowed if an allow address rule
    /// does, else unlisted.
    pub fn check_address(&self, ip: IpAddr, port: u16) -> AddressVerdict {
        if let Some(l) = self.deny.iter().find(|l| l.rule.matches_address(ip, port)) {
            return AddressVerdict::Deny {
                rule: l.name.clone(),
            };
        }
        if let Some(l) = self.allow.iter().find(|l| l.rule.matches_address(ip, port)) {
            if self
                .also_allow
                .iter()
                .all(|list| list.iter().any(|l| l.rule.matches_address(ip, port)))
            {
                return AddressVerdict::Allowed {
                    rule: l.name.clone(),
                };
            }
        }
        AddressVerdict::Unlisted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(s: &str) -> HostRule {
        HostRule::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn host(s: &str) -> NormalizedHost {
        normalize_host(s).unwrap()
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn rules(allow: &[&str], deny: &[&str], ask: &[&str]) -> EgressRules {
        EgressRules::new(&strings(allow), &strings(deny), &strings(ask)).unwrap()
    }

    #[test]
    fn exact_names_match_every_spelling_of_the_host() {
        let r = rule("pypi.org");
        for h in ["pypi.org", "PyPI.ORG", "pypi.org."] {
            assert!(r.matches_host(&host(h), 443), "{h}");
            assert!(r.matches_host(&host(h), 80), "{h}");
        }
        assert!(!r.matches_host(&host("files.pypi.org"), 443));
        assert!(!r.matches_host(&host("notpypi.org"), 443));
        // The rule's own spelling is normalised too.
        assert!(rule("PyPI.org.").matches_host(&host("pypi.org"), 1));
        let idn = rule("bücher.de");
        assert!(idn.matches_host(&host("xn--bcher-kva.de"), 443));
        assert!(idn.matches_host(&host("BÜCHER.DE"), 443));
    }

    #[test]
    fn subdomain_rules_do_not_match_the_domain_itself() {
        let r = rule("*.pypi.org");
        assert!(r.matches_host(&host("files.pypi.org"), 443));
        assert!(r.matches_host(&host("a.b.PYPI.org."), 443));
        assert!(!r.matches_host(&host("pypi.org"), 443));
        assert!(!r.matches_host(&host("evilpypi.org"), 443));
        assert!(!r.matches_host(&host("pypi.org.evil.com"), 443));
        assert!(rule("*.bücher.de").matches_host(&host("www.xn--bcher-kva.de"), 1));
    }

    #[test]
    fn ports_narrow_a_rule() {
        let r = rule("pypi.org:443");
        assert!(r.matches_host(&host("pypi.org"), 443));
        assert!(!r.matches_host(&host("pypi.org"), 80));
        let r = rule("*.example.com:8443");
        assert!(r.matches_host(&host("a.example.com"), 8443));
        assert!(!r.matches_host(&host("a.example.com"), 443));
        assert!(rule("*:443").matches_host(&host("any.where"), 443));
    }

    #[test]
    fn any_host_is_any_name_but_no_address() {
        let r = rule("*");
        assert!(r.matches_host(&host("example.com"), 443));
        assert!(!r.matches_host(&host("127.0.0.1"), 443));
        assert!(!r.matches_host(&host("[::1]"), 443));
        assert!(!r.is_address());
    }

    #[test]
    fn address_rules() {
        let r = rule("10.0.0.0/8");
        assert!(r.is_address());
        assert!(r.matches_address("10.1.2.3".parse().unwrap(), 1));
        assert!(r.matches_address("::ffff:10.1.2.3".parse().unwrap(), 1));
        assert!(!r.matches_address("11.0.0.1".parse().unwrap(), 1));
        assert!(r.matches_host(&host("0x0a.1"), 80));
        assert!(!r.matches_host(&host("ten.example"), 80));

        let r = rule("[::1]:8080");
        assert!(r.matches_address("::1".parse().unwrap(), 8080));
        assert!(!r.matches_address("::1".parse().unwrap(), 80));
        assert!(rule("::1").matches_host(&host("[::1]"), 80));
        assert!(rule("[::1]").matches_host(&host("::1"), 80));
        let r = rule("fd00::/8");
        assert!(r.matches_address("fd12::1".parse().unwrap(), 1));
        assert!(!r.matches_address("fe80::1".parse().unwrap(), 1));
        assert!(rule("[fd00::/8]:443").matches_address("fd00::5".parse().unwrap(), 443));
        // Every spelling of loopback is the address.
        let r = rule("127.0.0.1");
        for h in ["127.1", "2130706433", "0x7f.0.0.1"] {
            assert!(r.matches_host(&host(h), 80), "{h}");
        }
        assert!(rule("127.1").matches_address("127.0.0.1".parse().unwrap(), 5));
        assert!(rule("0.0.0.0/0").matches_address("8.8.8.8".parse().unwrap(), 5));
        assert!(rule("10.0.0.5:8080").matches_address("10.0.0.5".parse().unwrap(), 8080));
    }

    #[test]
    fn bad_entries_say_what_is_wrong() {
        for (entry, expect) in [
            ("*.", "`*.` is not a host pattern: `*.` needs a domain"),
            ("**", "write `*` for any host"),
            ("a.*.com", "first label"),
            ("*example.com", "first label"),
            ("https://pypi.org/simple", "write `pypi.org`"),
            ("https://u@pypi.org:443", "write `pypi.org:443`"),
            ("pypi.org/simple", "not a path; write `pypi.org`"),
            ("pypi.org:0", "not a port"),
            ("pypi.org:https", "not a port"),
            ("pypi.org:99999", "not a port"),
            ("10.0.0.1/8", "the network is `10.0.0.0/8`"),
            ("10.0.0.0/33", "prefix length 33 is longer than 32 for IPv4"),
            ("[::1", "without its `]`"),
            ("[::1]x", "only `:PORT`"),
            ("*.10.0.0.1", "address"),
            ("", "empty"),
            ("exa mple.com", "cannot contain"),
        ] {
            let e = HostRule::parse(entry).unwrap_err();
            assert!(e.contains(expect), "{entry}: {e}");
        }
    }

    #[test]
    fn deny_beats_approval_beats_allow() {
        let r = rules(
            &["*.example.com", "example.com", "*"],
            &["evil.example.com", "10.0.0.0/8"],
            &["*://ask.example.com/*"],
        );
        assert_eq!(
            r.check_host(&host("EVIL.example.com."), 443, Some("https")),
            HostVerdict::Deny {
                rule: "network.deny[0]: evil.example.com".into()
            }
        );
        assert_eq!(
            r.check_host(&host("ask.example.com"), 443, None),
            HostVerdict::Ask {
                rule: "require_approval[0]: *://ask.example.com/*".into()
            }
        );
        assert_eq!(
            r.check_host(&host("a.example.com"), 443, None),
            HostVerdict::Allow {
                rule: "network.allow[0]: *.example.com".into()
            }
        );
        assert_eq!(
            r.check_host(&host("example.com"), 443, None),
            HostVerdict::Allow {
                rule: "network.allow[1]: example.com".into()
            }
        );
        assert_eq!(
            r.check_host(&host("other.org"), 443, None),
            HostVerdict::Allow {
                rule: "network.allow[2]: *".into()
            }
        );
        // `*` lets no raw address through; a denied network is denied.
        assert_eq!(
            r.check_host(&host("1.1.1.1"), 443, None),
            HostVerdict::NotAllowed
        );
        assert_eq!(
            r.check_host(&host("10.0.0.1"), 443, None),
            HostVerdict::Deny {
                rule: "network.deny[1]: 10.0.0.0/8".into()
            }
        );
    }

    #[test]
    fn addresses_a_name_resolved_to() {
        let r = rules(
            &["internal.corp", "10.0.0.0/8", "[fd00::]:443"],
            &["10.9.0.0/16"],
            &[],
        );
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            r.check_address(ip("10.9.1.1"), 443),
            AddressVerdict::Deny {
                rule: "network.deny[0]: 10.9.0.0/16".into()
            }
        );
        assert_eq!(
            r.check_address(ip("10.1.1.1"), 443),
            AddressVerdict::Allowed {
                rule: "network.allow[1]: 10.0.0.0/8".into()
            }
        );
        assert_eq!(
            r.check_address(ip("fd00::"), 443),
            AddressVerdict::Allowed {
                rule: "network.allow[2]: [fd00::]:443".into()
            }
        );
        assert_eq!(r.check_address(ip("fd00::"), 80), AddressVerdict::Unlisted);
        assert_eq!(r.check_address(ip("8.8.8.8"), 53), AddressVerdict::Unlisted);
    }

    #[test]
    fn errors_name_the_list_and_index() {
        let e = EgressRules::new(&strings(&["a.com", "b.com", "*."]), &[], &[]).unwrap_err();
        assert!(e.starts_with("allow[2]: `*.` is not a host pattern"), "{e}");
        let e = EgressRules::new(&[], &strings(&["https://x.com"]), &[]).unwrap_err();
        assert!(e.starts_with("deny[0]: "), "{e}");
        let e = EgressRules::new(&[], &[], &strings(&["a", ""])).unwrap_err();
        assert!(e.starts_with("require_approval[1]: "), "{e}");
    }

    #[test]
    fn entries_merge_and_keep_their_names() {
        let mut policy = rules(&["a.com"], &["b.com"], &[]);
        assert!(!policy.is_empty());
        assert!(EgressRules::default().is_empty());
        let run = rules(&["c.com"], &[], &[]).with_origin("run");
        policy.merge(run);
        assert_eq!(policy.allow_entries(), ["a.com", "c.com"]);
        assert_eq!(policy.deny_entries(), ["b.com"]);
        assert_eq!(
            policy.check_host(&host("c.com"), 1, None),
            HostVerdict::Allow {
                rule: "run.allow[0]: c.com".into()
            }
        );
    }

    #[test]
    fn network_modes_read_in_lower_case() {
        let m: NetworkMode = serde_json::from_str("\"allowlist\"").unwrap();
        assert_eq!(m, NetworkMode::Allowlist);
        assert_eq!(
            serde_json::to_string(&NetworkMode::Full).unwrap(),
            "\"full\""
        );
        assert_eq!(NetworkMode::default(), NetworkMode::None);
        assert_eq!(NetworkMode::None.to_string(), "none");
    }
}
