//! Name resolution for the egress proxy. The proxy resolves names itself
//! (the sandbox has no DNS server) and connects only to addresses it has
//! checked, so a name cannot resolve differently between the check and the
//! connection.

use crate::exec::BoxFuture;
use std::collections::HashMap;
use std::io;
use std::net::IpAddr;

/// Resolves host names to addresses.
pub trait Resolve: Send + Sync + std::fmt::Debug {
    /// The addresses of `host` (a name, never an address literal), in the
    /// order to try them.
    fn resolve<'a>(&'a self, host: &'a str, port: u16) -> BoxFuture<'a, io::Result<Vec<IpAddr>>>;
}

/// The host's resolver (`getaddrinfo`, on tokio's blocking threads).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve<'a>(&'a self, host: &'a str, port: u16) -> BoxFuture<'a, io::Result<Vec<IpAddr>>> {
        Box::pin(async move {
            let mut out: Vec<IpAddr> = Vec::new();
            for a in tokio::net::lookup_host((host, port)).await? {
                if !out.contains(&a.ip()) {
                    out.push(a.ip());
                }
            }
            Ok(out)
        })
    }
}

/// Fixed answers: names pinned to addresses (tests, and deployments that
/// pin the hosts a sandbox may reach). A name it does not know is an error.
#[derive(Debug, Default, Clone)]
pub struct StaticResolver {
    hosts: HashMap<String, Vec<IpAddr>>,
}

impl StaticResolver {
    /// No names.
    pub fn new() -> StaticResolver {
        StaticResolver::default()
    }

    /// Adds `name` (lower-case, no trailing dot) with `addresses`.
    pub fn with(mut self, name: &str, addresses: &[IpAddr]) -> StaticResolver {
        self.hosts
            .insert(name.to_ascii_lowercase(), addresses.to_vec());
        self
    }
}

impl Resolve for StaticResolver {
    fn resolve<'a>(&'a self, host: &'a str, _port: u16) -> BoxFuture<'a, io::Result<Vec<IpAddr>>> {
        let found = self.hosts.get(host).cloned();
        Box::pin(async move {
            found.ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, format!("no address for {host}"))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_static_resolver_knows_only_its_names() {
        let r = StaticResolver::new().with("Pypi.Test", &["10.1.2.3".parse().unwrap()]);
        assert_eq!(
            r.resolve("pypi.test", 443).await.unwrap(),
            vec!["10.1.2.3".parse::<IpAddr>().unwrap()]
        );
        let e = r.resolve("other.test", 443).await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }

    #[tokio::test]
    async fn the_system_resolver_answers_for_localhost() {
        let addrs = SystemResolver.resolve("localhost", 80).await.unwrap();
        assert!(addrs.iter().all(IpAddr::is_loopback), "{addrs:?}");
        assert!(!addrs.is_empty());
    }
}
