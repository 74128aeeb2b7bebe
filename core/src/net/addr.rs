//! Special-purpose IP addresses, which the proxy refuses unless an address
//! rule allows them, and the CIDR ranges such rules are written in.
//!
//! The IPv4 table follows the IANA IPv4 special-purpose address registry
//! (RFC 6890 and its updates) plus multicast and the cloud metadata
//! endpoints. IPv6 addresses that carry an IPv4 address the network may
//! deliver to (IPv4-mapped, IPv4-compatible, NAT64, 6to4) are classified
//! by the IPv4 address they carry, so `::ffff:127.0.0.1` is loopback.
//! Anything outside the global unicast block `2000::/3` is reserved.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// Why an address is special: the proxy names the class when it refuses a
/// connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressClass {
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16` (RFC 1918).
    Private,
    /// `169.254.0.0/16`, `fe80::/10`.
    LinkLocal,
    /// An instance metadata service: `169.254.169.254` (AWS, GCP, Azure,
    /// OpenStack, ...), `169.254.170.2` and `169.254.170.23` (AWS ECS and
    /// EKS credentials), `100.100.100.200` (Alibaba Cloud),
    /// `168.63.129.16` (Azure WireServer), `fd00:ec2::254` and
    /// `fd00:ec2::23` (AWS over IPv6).
    CloudMetadata,
    /// `0.0.0.0`, `::`.
    Unspecified,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `100.64.0.0/10`, carrier-grade NAT (RFC 6598).
    SharedAddressSpace,
    /// `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`,
    /// `2001:db8::/32`, `3fff::/20`.
    Documentation,
    /// `198.18.0.0/15`, `2001:2::/48`.
    Benchmarking,
    /// `192.0.0.0/24`, `2001::/23` (except Teredo and benchmarking): IETF
    /// protocol assignments.
    IetfProtocol,
    /// `192.88.99.0/24`, the deprecated 6to4 relay anycast (RFC 7526).
    Relay6to4,
    /// `100::/64`, discard-only (RFC 6666).
    Discard,
    /// `0.0.0.0/8` (but `0.0.0.0`), `240.0.0.0/4`, Teredo `2001::/32`,
    /// site-local `fec0::/10`, IPv4-compatible `::a.b.c.d`, and IPv6
    /// outside `2000::/3` not covered by another class.
    Reserved,
    /// `fc00::/7` (RFC 4193), IPv6's private addresses.
    UniqueLocal,
}

impl AddressClass {
    /// A short phrase for messages: "loopback", "private (RFC 1918)", ...
    pub fn as_str(&self) -> &'static str {
        match self {
            AddressClass::Loopback => "loopback",
            AddressClass::Private => "private (RFC 1918)",
            AddressClass::LinkLocal => "link-local",
            AddressClass::CloudMetadata => "cloud metadata",
            AddressClass::Unspecified => "unspecified",
            AddressClass::Multicast => "multicast",
            AddressClass::Broadcast => "broadcast",
            AddressClass::SharedAddressSpace => "shared address space (carrier-grade NAT)",
            AddressClass::Documentation => "documentation",
            AddressClass::Benchmarking => "benchmarking",
            AddressClass::IetfProtocol => "IETF protocol assignment",
            AddressClass::Relay6to4 => "6to4 relay anycast",
            AddressClass::Discard => "discard-only",
            AddressClass::Reserved => "reserved",
            AddressClass::UniqueLocal => "unique local (private IPv6)",
        }
    }
}

impl fmt::Display for AddressClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The class of a special-purpose address, or `None` for an ordinary
/// public unicast address.
pub fn special_purpose(ip: IpAddr) -> Option<AddressClass> {
    match ip {
        IpAddr::V4(a) => v4_class(a),
        IpAddr::V6(a) => v6_class(a),
    }
}

const fn v4(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from_be_bytes([a, b, c, d])
}

/// Metadata endpoints, checked before the ranges that contain them.
const CLOUD_METADATA_V4: [u32; 5] = [
    v4(169, 254, 169, 254),
    v4(169, 254, 170, 2),
    v4(169, 254, 170, 23),
    v4(100, 100, 100, 200),
    v4(168, 63, 129, 16),
];

/// `(network, prefix length, class)`, the first match wins: more specific
/// entries come before the ranges that contain them.
const V4_RANGES: [(u32, u32, AddressClass); 17] = [
    (v4(0, 0, 0, 0), 32, AddressClass::Unspecified),
    (v4(0, 0, 0, 0), 8, AddressClass::Reserved),
    (v4(10, 0, 0, 0), 8, AddressClass::Private),
    (v4(100, 64, 0, 0), 10, AddressClass::SharedAddressSpace),
    (v4(127, 0, 0, 0), 8, AddressClass::Loopback),
    (v4(169, 254, 0, 0), 16, AddressClass::LinkLocal),
    (v4(172, 16, 0, 0), 12, AddressClass::Private),
    (v4(192, 0, 0, 0), 24, AddressClass::IetfProtocol),
    (v4(192, 0, 2, 0), 24, AddressClass::Documentation),
    (v4(192, 88, 99, 0), 24, AddressClass::Relay6to4),
    (v4(192, 168, 0, 0), 16, AddressClass::Private),
    (v4(198, 18, 0, 0), 15, AddressClass::Benchmarking),
    (v4(198, 51, 100, 0), 24, AddressClass::Documentation),
    (v4(203, 0, 113, 0), 24, AddressClass::Documentation),
    (v4(224, 0, 0, 0), 4, AddressClass::Multicast),
    (v4(255, 255, 255, 255), 32, AddressClass::Broadcast),
    (v4(240, 0, 0, 0), 4, AddressClass::Reserved),
];

fn v4_class(a: Ipv4Addr) -> Option<AddressClass> {
    let n = u32::from(a);
    if CLOUD_METADATA_V4.contains(&n) {
        return Some(AddressClass::CloudMetadata);
    }
    V4_RANGES
        .iter()
        .find(|(net, len, _)| n & v4_mask(*len) == *net)
        .map(|(_, _, class)| *class)
}

/// The IPv6 address whose leading segments are `lead`, the rest zero.
const fn v6(lead: &[u16]) -> u128 {
    let mut n = 0u128;
    let mut i = 0;
    while i < 8 {
        let segment = if i < lead.len() { lead[i] } else { 0 };
        n = (n << 16) | segment as u128;
        i += 1;
    }
    n
}

const CLOUD_METADATA_V6: [u128; 2] = [
    v6(&[0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254]),
    v6(&[0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x23]),
];

/// IPv6 ranges after the embedded-IPv4 forms, first match wins.
const V6_RANGES: [(u128, u32, AddressClass); 11] = [
    (v6(&[0x64, 0xff9b, 1]), 48, AddressClass::Reserved),
    (v6(&[0x100]), 64, AddressClass::Discard),
    (v6(&[0x2001, 0xdb8]), 32, AddressClass::Documentation),
    (v6(&[0x2001]), 32, AddressClass::Reserved),
    (v6(&[0x2001, 2]), 48, AddressClass::Benchmarking),
    (v6(&[0x2001]), 23, AddressClass::IetfProtocol),
    (v6(&[0x3fff]), 20, AddressClass::Documentation),
    (v6(&[0xfc00]), 7, AddressClass::UniqueLocal),
    (v6(&[0xfe80]), 10, AddressClass::LinkLocal),
    (v6(&[0xfec0]), 10, AddressClass::Reserved),
    (v6(&[0xff00]), 8, AddressClass::Multicast),
];

fn v6_class(a: Ipv6Addr) -> Option<AddressClass> {
    let n = u128::from(a);
    if CLOUD_METADATA_V6.contains(&n) {
        return Some(AddressClass::CloudMetadata);
    }
    match n {
        0 => return Some(AddressClass::Unspecified),
        1 => return Some(AddressClass::Loopback),
        _ => {}
    }
    if let Some(embedded) = embedded_v4(n) {
        return embedded;
    }
    for (net, len, class) in V6_RANGES {
        if n & v6_mask(len) == net {
            return Some(class);
        }
    }
    // What is left of the global unicast block `2000::/3` is public;
    // nothing outside it is allocated for unicast.
    if n & v6_mask(3) == v6(&[0x2000]) {
        None
    } else {
        Some(AddressClass::Reserved)
    }
}

/// For an IPv6 address that carries an IPv4 address, the class to give it
/// (`Some(None)` when the carried address is public).
fn embedded_v4(n: u128) -> Option<Option<AddressClass>> {
    let low = Ipv4Addr::from(n as u32);
    if n >> 32 == 0xffff {
        // ::ffff:a.b.c.d, IPv4-mapped.
        Some(v4_class(low))
    } else if n >> 32 == 0 {
        // ::a.b.c.d, IPv4-compatible (deprecated): never a destination.
        Some(v4_class(low).or(Some(AddressClass::Reserved)))
    } else if n >> 32 == v6(&[0x64, 0xff9b]) >> 32 {
        // 64:ff9b::a.b.c.d, NAT64 (RFC 6052).
        Some(v4_class(low))
    } else if n >> 112 == 0x2002 {
        // 2002:aabb:ccdd::/48, 6to4.
        Some(v4_class(Ipv4Addr::from((n >> 80) as u32)))
    } else {
        None
    }
}

fn v4_mask(len: u32) -> u32 {
    u32::MAX.checked_shl(32 - len).unwrap_or(0)
}

fn v6_mask(len: u32) -> u128 {
    u128::MAX.checked_shl(128 - len).unwrap_or(0)
}

/// An address rule's range: an address with a prefix length, written
/// `10.0.0.0/8`, `fd00::/8`, or a single address (`10.0.0.1`, `::1`,
/// `[::1]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddressRange {
    /// The network address, host bits zero.
    network: IpAddr,
    /// At most 32 for IPv4, 128 for IPv6.
    prefix_len: u8,
}

impl AddressRange {
    /// Parses `a.b.c.d[/n]`, `ipv6[/n]` or `[ipv6][/n]`. Host bits set
    /// below the prefix are cleared (`10.1.2.3/8` is `10.0.0.0/8`). The
    /// error names the input and what is wrong with it.
    pub fn parse(s: &str) -> Result<AddressRange, String> {
        let input = s.trim();
        let err = |what: String| format!("address range {s:?}: {what}");
        if input.is_empty() {
            return Err(err("empty".to_string()));
        }
        let (addr, prefix) = match input.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (input, None),
        };
        let network: IpAddr = if let Some(inner) = addr.strip_prefix('[') {
            let inner = inner
                .strip_suffix(']')
                .ok_or_else(|| err("unclosed '['".to_string()))?;
            Ipv6Addr::from_str(inner)
                .map_err(|_| err(format!("{inner:?} is not an IPv6 address")))?
                .into()
        } else {
            IpAddr::from_str(addr).map_err(|_| err(format!("{addr:?} is not an IP address")))?
        };
        let max: u8 = if network.is_ipv4() { 32 } else { 128 };
        let prefix_len = match prefix {
            None => max,
            Some(p) => {
                if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err(format!(
                        "prefix length {p:?} is not a number from 0 to {max}"
                    )));
                }
                let len: u8 = p
                    .parse()
                    .map_err(|_| err(format!("prefix length {p} is too long")))?;
                if len > max {
                    let family = if network.is_ipv4() { "IPv4" } else { "IPv6" };
                    return Err(err(format!(
                        "prefix length {len} is longer than {max} for {family}"
                    )));
                }
                len
            }
        };
        Ok(AddressRange {
            network: mask(network, prefix_len),
            prefix_len,
        })
    }

    /// The range of the one address `ip`.
    pub fn single(ip: IpAddr) -> AddressRange {
        AddressRange {
            network: ip,
            prefix_len: if ip.is_ipv4() { 32 } else { 128 },
        }
    }

    /// The network address (host bits zero).
    pub fn network(&self) -> IpAddr {
        self.network
    }

    /// The prefix length: 32 (IPv4) or 128 (IPv6) for a single address.
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// Whether `ip` is in the range. An IPv4 range also contains the
    /// IPv4-mapped IPv6 form (`::ffff:a.b.c.d`) of its addresses.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.network, ip) {
            (IpAddr::V4(_), IpAddr::V6(a)) => match a.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => return false,
            },
            _ => ip,
        };
        match (self.network, ip) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                mask(ip, self.prefix_len) == self.network
            }
            _ => false,
        }
    }
}

fn mask(ip: IpAddr, prefix_len: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => Ipv4Addr::from(u32::from(a) & v4_mask(prefix_len.into())).into(),
        IpAddr::V6(a) => Ipv6Addr::from(u128::from(a) & v6_mask(prefix_len.into())).into(),
    }
}

impl FromStr for AddressRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AddressRange::parse(s)
    }
}

/// Canonical form, always with the prefix length: `10.0.0.0/8`,
/// `::1/128`.
impl fmt::Display for AddressRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn class(s: &str) -> Option<AddressClass> {
        special_purpose(s.parse().expect(s))
    }

    /// Each IPv4 range: its first and last address are in the class, the
    /// addresses just outside are not (or are in the named neighbour).
    #[test]
    fn ipv4_ranges_and_their_edges() {
        use AddressClass::*;
        let cases: &[(&str, Option<AddressClass>)] = &[
            ("0.0.0.0", Some(Unspecified)),
            ("0.0.0.1", Some(Reserved)),
            ("0.255.255.255", Some(Reserved)),
            ("1.0.0.0", None),
            ("9.255.255.255", None),
            ("10.0.0.0", Some(Private)),
            ("10.255.255.255", Some(Private)),
            ("11.0.0.0", None),
            ("100.63.255.255", None),
            ("100.64.0.0", Some(SharedAddressSpace)),
            ("100.127.255.255", Some(SharedAddressSpace)),
            ("100.128.0.0", None),
            ("126.255.255.255", None),
            ("127.0.0.0", Some(Loopback)),
            ("127.0.0.1", Some(Loopback)),
            ("127.255.255.255", Some(Loopback)),
            ("128.0.0.0", None),
            ("169.253.255.255", None),
            ("169.254.0.0", Some(LinkLocal)),
            ("169.254.255.255", Some(LinkLocal)),
            ("169.255.0.0", None),
            ("172.15.255.255", None),
            ("172.16.0.0", Some(Private)),
            ("172.31.255.255", Some(Private)),
            ("172.32.0.0", None),
            ("191.255.255.255", None),
            ("192.0.0.0", Some(IetfProtocol)),
            ("192.0.0.255", Some(IetfProtocol)),
            ("192.0.1.0", None),
            ("192.0.2.0", Some(Documentation)),
            ("192.0.2.255", Some(Documentation)),
            ("192.0.3.0", None),
            ("192.88.98.255", None),
            ("192.88.99.0", Some(Relay6to4)),
            ("192.88.99.255", Some(Relay6to4)),
            ("192.88.100.0", None),
            ("192.167.255.255", None),
            ("192.168.0.0", Some(Private)),
            ("192.168.255.255", Some(Private)),
            ("192.169.0.0", None),
            ("198.17.255.255", None),
            ("198.18.0.0", Some(Benchmarking)),
            ("198.19.255.255", Some(Benchmarking)),
            ("198.20.0.0", None),
            ("198.51.99.255", None),
            ("198.51.100.0", Some(Documentation)),
            ("198.51.100.255", Some(Documentation)),
            ("198.51.101.0", None),
            ("203.0.112.255", None),
            ("203.0.113.0", Some(Documentation)),
            ("203.0.113.255", Some(Documentation)),
            ("203.0.114.0", None),
            ("223.255.255.255", None),
            ("224.0.0.0", Some(Multicast)),
            ("239.255.255.255", Some(Multicast)),
            ("240.0.0.0", Some(Reserved)),
            ("255.255.255.254", Some(Reserved)),
            ("255.255.255.255", Some(Broadcast)),
            ("8.8.8.8", None),
            ("1.1.1.1", None),
            ("151.101.0.223", None),
        ];
        for (ip, want) in cases {
            assert_eq!(class(ip), *want, "{ip}");
        }
    }

    #[test]
    fn cloud_metadata() {
        for ip in [
            "169.254.169.254",
            "169.254.170.2",
            "169.254.170.23",
            "100.100.100.200",
            "168.63.129.16",
            "fd00:ec2::254",
            "fd00:ec2::23",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:a9fe:a9fe::",
        ] {
            assert_eq!(class(ip), Some(AddressClass::CloudMetadata), "{ip}");
        }
        // Their neighbours are in their ranges' ordinary classes.
        assert_eq!(class("169.254.169.253"), Some(AddressClass::LinkLocal));
        assert_eq!(class("169.254.169.255"), Some(AddressClass::LinkLocal));
        assert_eq!(
            class("100.100.100.201"),
            Some(AddressClass::SharedAddressSpace)
        );
        assert_eq!(class("168.63.129.17"), None);
        assert_eq!(class("fd00:ec2::253"), Some(AddressClass::UniqueLocal));
    }

    #[test]
    fn ipv6_ranges_and_their_edges() {
        use AddressClass::*;
        let cases: &[(&str, Option<AddressClass>)] = &[
            ("::", Some(Unspecified)),
            ("::1", Some(Loopback)),
            ("::2", Some(Reserved)),
            ("fe80::", Some(LinkLocal)),
            ("fe80::1", Some(LinkLocal)),
            ("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some(LinkLocal)),
            ("fec0::1", Some(Reserved)),
            ("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some(Reserved)),
            ("fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some(Reserved)),
            ("fc00::", Some(UniqueLocal)),
            ("fd12:3456::1", Some(UniqueLocal)),
            ("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some(UniqueLocal)),
            ("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some(Reserved)),
            ("ff00::", Some(Multicast)),
            ("ff02::1", Some(Multicast)),
            ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some(Multicast)),
            ("2001:db8::", Some(Documentation)),
            (
                "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
                Some(Documentation),
            ),
            ("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", None),
            ("2001:db9::", None),
            ("3fff::", Some(Documentation)),
            (
                "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff",
                Some(Documentation),
            ),
            ("3fff:1000::", None),
            ("3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", None),
            ("100::", Some(Discard)),
            ("100::ffff:ffff:ffff:ffff", Some(Discard)),
            ("100:0:0:1::", Some(Reserved)),
            ("2001::", Some(Reserved)),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", Some(Reserved)),
            ("2001:0:ffff:ffff:ffff:ffff:ffff:ffff", Some(Reserved)),
            ("2001:1::1", Some(IetfProtocol)),
            ("2001:2::", Some(Benchmarking)),
            ("2001:2:0:ffff:ffff:ffff:ffff:ffff", Some(Benchmarking)),
            ("2001:2:1::", Some(IetfProtocol)),
            ("2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", Some(IetfProtocol)),
            ("2001:200::", None),
            ("2000::", None),
            ("1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some(Reserved)),
            ("4000::", Some(Reserved)),
            ("5f00::1", Some(Reserved)),
            ("64:ff9b:1::1", Some(Reserved)),
            ("2606:4700:4700::1111", None),
            ("2a04:4e42::223", None),
        ];
        for (ip, want) in cases {
            assert_eq!(class(ip), *want, "{ip}");
        }
    }

    #[test]
    fn ipv6_forms_carrying_ipv4_are_classified_by_it() {
        use AddressClass::*;
        let cases: &[(&str, Option<AddressClass>)] = &[
            ("::ffff:127.0.0.1", Some(Loopback)),
            ("::ffff:10.1.2.3", Some(Private)),
            ("::ffff:0.0.0.0", Some(Unspecified)),
            ("::ffff:255.255.255.255", Some(Broadcast)),
            ("::ffff:8.8.8.8", None),
            ("::127.0.0.1", Some(Loopback)),
            ("::8.8.8.8", Some(Reserved)),
            ("64:ff9b::a00:1", Some(Private)),
            ("64:ff9b::7f00:1", Some(Loopback)),
            ("64:ff9b::8.8.8.8", None),
            ("64:ff9b::1:0:0:1", Some(Reserved)),
            ("2002:7f00:1::", Some(Loopback)),
            ("2002:c0a8:101::1", Some(Private)),
            ("2002:808:808::", None),
            ("2002:a9fe:1::", Some(LinkLocal)),
        ];
        for (ip, want) in cases {
            assert_eq!(class(ip), *want, "{ip}");
        }
    }

    #[test]
    fn phrases() {
        assert_eq!(AddressClass::Loopback.as_str(), "loopback");
        assert_eq!(AddressClass::Private.as_str(), "private (RFC 1918)");
        assert_eq!(AddressClass::LinkLocal.as_str(), "link-local");
        assert_eq!(AddressClass::CloudMetadata.to_string(), "cloud metadata");
    }

    #[test]
    fn range_parse_forms() {
        let ok = |s: &str| AddressRange::parse(s).expect(s).to_string();
        assert_eq!(ok("10.0.0.1"), "10.0.0.1/32");
        assert_eq!(ok("10.0.0.0/8"), "10.0.0.0/8");
        assert_eq!(ok("10.1.2.3/8"), "10.0.0.0/8");
        assert_eq!(ok(" 192.168.1.0/24 "), "192.168.1.0/24");
        assert_eq!(ok("0.0.0.0/0"), "0.0.0.0/0");
        assert_eq!(ok("::1"), "::1/128");
        assert_eq!(ok("[::1]"), "::1/128");
        assert_eq!(ok("[fd00::]/8"), "fd00::/8");
        assert_eq!(ok("fd00::/8"), "fd00::/8");
        assert_eq!(ok("fd12:3456::1/16"), "fd12::/16");
        assert_eq!(ok("::/0"), "::/0");
        assert_eq!(ok("::ffff:10.0.0.0/104"), "::ffff:10.0.0.0/104");
        let r: AddressRange = "10.0.0.0/8".parse().unwrap();
        assert_eq!(r.network(), IpAddr::from([10, 0, 0, 0]));
        assert_eq!(r.prefix_len(), 8);
    }

    #[test]
    fn range_parse_errors_name_input_and_problem() {
        let err = |s: &str| AddressRange::parse(s).unwrap_err();
        assert_eq!(err(""), r#"address range "": empty"#);
        assert_eq!(err("  "), r#"address range "  ": empty"#);
        assert_eq!(
            err("10.0.0.0/33"),
            r#"address range "10.0.0.0/33": prefix length 33 is longer than 32 for IPv4"#
        );
        assert_eq!(
            err("::/129"),
            r#"address range "::/129": prefix length 129 is longer than 128 for IPv6"#
        );
        assert_eq!(
            err("10.0.0.0/999"),
            r#"address range "10.0.0.0/999": prefix length 999 is too long"#
        );
        assert_eq!(
            err("example.com"),
            r#"address range "example.com": "example.com" is not an IP address"#
        );
        assert_eq!(
            err("[10.0.0.1]"),
            r#"address range "[10.0.0.1]": "10.0.0.1" is not an IPv6 address"#
        );
        assert_eq!(err("[::1"), r#"address range "[::1": unclosed '['"#);
        for bad in [
            "10.0.0.0/",
            "10.0.0.0/+8",
            "10.0.0.0/-1",
            "10.0.0.0/8/8",
            "10.0.0.0/ 8",
            "10.0.0.0/0008",
        ] {
            assert!(err(bad).contains("is not a number"), "{bad}: {}", err(bad));
        }
        for bad in [
            "10.0.0",
            "10.0.0.256",
            "fe80::1%eth0",
            "::1]",
            "/8",
            "1.2.3.4 5",
        ] {
            assert!(err(bad).starts_with("address range "), "{bad}");
        }
    }

    #[test]
    fn range_contains() {
        let r = AddressRange::parse("10.0.0.0/8").unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(r.contains(ip("10.0.0.0")));
        assert!(r.contains(ip("10.255.255.255")));
        assert!(!r.contains(ip("11.0.0.0")));
        assert!(!r.contains(ip("9.255.255.255")));
        assert!(r.contains(ip("::ffff:10.1.2.3")));
        assert!(!r.contains(ip("::ffff:11.1.2.3")));
        assert!(!r.contains(ip("::10.1.2.3")));
        assert!(!r.contains(ip("64:ff9b::a01:203")));
        let all4 = AddressRange::parse("0.0.0.0/0").unwrap();
        assert!(all4.contains(ip("255.255.255.255")));
        assert!(!all4.contains(ip("::1")));
        let one = AddressRange::parse("169.254.169.254").unwrap();
        assert!(one.contains(ip("169.254.169.254")));
        assert!(!one.contains(ip("169.254.169.253")));
        let ula = AddressRange::parse("fd00::/8").unwrap();
        assert!(ula.contains(ip("fd00:ec2::254")));
        assert!(!ula.contains(ip("fc00::1")));
        assert!(!ula.contains(ip("10.0.0.1")));
        let all6 = AddressRange::parse("::/0").unwrap();
        assert!(all6.contains(ip("2001:db8::1")));
        assert!(!all6.contains(ip("10.0.0.1")));
    }

    fn any_range() -> impl Strategy<Value = AddressRange> {
        prop_oneof![
            (any::<u32>(), 0u8..=32).prop_map(|(a, len)| {
                AddressRange::parse(&format!("{}/{len}", Ipv4Addr::from(a))).unwrap()
            }),
            (any::<u128>(), 0u8..=128).prop_map(|(a, len)| {
                AddressRange::parse(&format!("{}/{len}", Ipv6Addr::from(a))).unwrap()
            }),
        ]
    }

    fn bits(ip: IpAddr) -> u128 {
        match ip {
            IpAddr::V4(a) => u32::from(a).into(),
            IpAddr::V6(a) => a.into(),
        }
    }

    fn from_bits(is_v4: bool, x: u128) -> IpAddr {
        if is_v4 {
            Ipv4Addr::from(x as u32).into()
        } else {
            Ipv6Addr::from(x).into()
        }
    }

    proptest! {
        /// An IPv4 address and its IPv4-mapped, NAT64 and 6to4 forms are
        /// in the same class.
        #[test]
        fn carried_ipv4_has_the_ipv4_class(a in any::<u32>(), suffix in any::<u64>()) {
            let v4 = Ipv4Addr::from(a);
            let class = special_purpose(v4.into());
            prop_assert_eq!(special_purpose(v4.to_ipv6_mapped().into()), class);
            let nat64 = Ipv6Addr::from((0x64_ff9b_u128 << 96) | u128::from(a));
            prop_assert_eq!(special_purpose(nat64.into()), class);
            let six_to_four = Ipv6Addr::from(
                (0x2002_u128 << 112) | (u128::from(a) << 80) | u128::from(suffix),
            );
            prop_assert_eq!(special_purpose(six_to_four.into()), class);
        }

        /// An address is contained exactly when it shares the range's
        /// leading `prefix_len` bits; the range's own addresses always are.
        #[test]
        fn contains_agrees_with_the_prefix(r in any_range(), a in any::<u128>()) {
            let is_v4 = r.network().is_ipv4();
            let width = if is_v4 { 32 } else { 128 };
            let host_bits = width - u32::from(r.prefix_len());
            let host_mask = 1u128.checked_shl(host_bits).unwrap_or(0).wrapping_sub(1);
            let net = bits(r.network());
            let a = if is_v4 { a & u128::from(u32::MAX) } else { a };
            prop_assert!(r.contains(from_bits(is_v4, net | (a & host_mask))));
            prop_assert_eq!(r.contains(from_bits(is_v4, a)), a & !host_mask == net);
        }

        /// Display is canonical: parsing it gives the same range back.
        #[test]
        fn display_round_trips(r in any_range()) {
            let shown = r.to_string();
            prop_assert_eq!(AddressRange::parse(&shown), Ok(r));
        }

        /// Parsing any string never panics.
        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = AddressRange::parse(&s);
        }
    }
}
