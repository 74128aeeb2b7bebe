//! Network egress by allowlist: the rules a run's connections are checked
//! against and the filtering proxy that enforces them.
//!
//! A run with [`crate::exec::Network::Allowlist`] reaches nothing but the
//! proxy: its network namespace (process backend) or container (Docker)
//! has only loopback, where the proxy listens. The proxy checks the name
//! a client asks for (CONNECT host, absolute URL and `Host` header, the
//! TLS ClientHello's SNI), resolves it itself, refuses special-purpose
//! addresses unless an address rule allows them, and connects to the
//! address it checked.

pub mod addr;
mod host;
pub mod rules;
pub mod sni;
pub mod url_pattern;

pub use rules::{
    normalize_host, AddressVerdict, EgressRules, HostRule, HostVerdict, NetworkMode, NormalizedHost,
};
pub use url_pattern::UrlPattern;
