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
mod gate;
mod host;
mod http;
pub mod proxy;
pub mod resolve;
pub mod rules;
pub mod sni;
pub mod url_pattern;

pub use http::REFUSED_HEADER;
pub use proxy::{Egress, ProxyAddress, ProxyHandle};
pub use resolve::{Resolve, StaticResolver, SystemResolver};
pub use rules::{
    normalize_host, AddressVerdict, EgressRules, HostRule, HostVerdict, NetworkMode, NormalizedHost,
};
pub use url_pattern::UrlPattern;

use serde::Serialize;

/// The port the proxy listens on inside a run's network namespace (or
/// container): `HTTP_PROXY=http://127.0.0.1:3128`.
pub const PROXY_PORT: u16 = 3128;

/// A connection the egress proxy holds until an [`crate::Approver`]
/// answers: a host that a `require_approval` pattern names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionRequest {
    /// The host, normalised (lower-case, IDN as punycode, no trailing
    /// dot), or an address.
    pub host: String,
    /// The port.
    pub port: u16,
    /// `http` for a proxied request; `None` for a tunnel (CONNECT).
    pub scheme: Option<String>,
    /// The `require_approval` rule that names the host.
    pub rule: String,
}

/// The environment that points a run's programs at the proxy at
/// `address`: `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY`, in
/// upper and lower case. `NO_PROXY` names loopback only (the run's own,
/// inside its namespace).
pub fn proxy_environment(address: std::net::SocketAddr) -> Vec<(String, String)> {
    proxy_environment_url(&format!("http://{address}"))
}

/// [`proxy_environment`] for a proxy named by its URL
/// (`http://10.96.0.12:3128`: the Kubernetes egress proxy's Service).
pub fn proxy_environment_url(url: &str) -> Vec<(String, String)> {
    let mut env = Vec::new();
    for (name, value) in [
        ("HTTP_PROXY", url),
        ("HTTPS_PROXY", url),
        ("ALL_PROXY", url),
        ("NO_PROXY", "localhost,127.0.0.1,::1"),
    ] {
        env.push((name.to_string(), value.to_string()));
        env.push((name.to_ascii_lowercase(), value.to_string()));
    }
    env
}

#[cfg(test)]
mod tests;
