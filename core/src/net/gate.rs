//! The check every connection passes before the proxy opens it: the name
//! against the rules (deny, approval, allow), the name resolved by the
//! proxy, each address against the address rules and the special-purpose
//! ranges, and a connection to an address that passed.

use super::addr::special_purpose;
use super::rules::{AddressVerdict, HostVerdict, NormalizedHost};
use super::{normalize_host, ConnectionRequest, Egress};
use crate::audit::ConnectionVerdict;
use hyper::StatusCode;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::OnceCell;

/// How long a name may take to resolve and an upstream to accept.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection the gate let through.
#[derive(Debug)]
pub(crate) struct Opened {
    /// The host as checked.
    pub host: NormalizedHost,
    /// Its text (for records).
    pub host_text: String,
    /// The upstream, connected.
    pub stream: TcpStream,
    /// The address connected to.
    pub address: SocketAddr,
    /// The rule that allowed it.
    pub rule: String,
}

/// Why the gate did not open a connection.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    /// The HTTP status to answer with: 403 refused, 400 bad request, 502
    /// or 504 the upstream failed.
    pub status: StatusCode,
    /// The host as asked (normalised when it could be).
    pub host: String,
    /// The port asked for.
    pub port: u16,
    /// The rule behind it, if a rule refused.
    pub rule: Option<String>,
    /// Why, for people.
    pub reason: String,
}

impl Refusal {
    fn refused(host: &str, port: u16, rule: Option<String>, reason: String) -> Refusal {
        Refusal {
            status: StatusCode::FORBIDDEN,
            host: host.to_string(),
            port,
            rule,
            reason,
        }
    }

    /// Refused by policy, or allowed but failed upstream.
    pub fn verdict(&self) -> ConnectionVerdict {
        match self.status {
            StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT => ConnectionVerdict::Failed,
            _ => ConnectionVerdict::Refused,
        }
    }
}

/// What one run's proxy remembers: the approvals given (or refused) for
/// each host, asked once even when several connections wait for it.
#[derive(Debug, Default)]
pub(crate) struct Approvals {
    answers: tokio::sync::Mutex<HashMap<String, Arc<Answer>>>,
}

/// An approver's answer for one host, once given.
type Answer = OnceCell<Result<bool, String>>;

impl Approvals {
    async fn ask(&self, egress: &Egress, request: ConnectionRequest) -> Result<bool, String> {
        let cell = self
            .answers
            .lock()
            .await
            .entry(request.host.clone())
            .or_default()
            .clone();
        cell.get_or_init(|| async {
            match &egress.approver {
                Some(a) => a.approve_connection(&request).await,
                None => Err("no approver is set".to_string()),
            }
        })
        .await
        .clone()
    }
}

/// Checks `host:port` (as a client spelled it) and connects to an address
/// that passed. `scheme` is `http` for a proxied request, `None` for a
/// tunnel.
pub(crate) async fn open(
    egress: &Egress,
    approvals: &Approvals,
    host_text: &str,
    port: u16,
    scheme: Option<&str>,
) -> Result<Opened, Refusal> {
    let host = normalize_host(host_text).map_err(|e| Refusal {
        status: StatusCode::BAD_REQUEST,
        host: host_text.to_string(),
        port,
        rule: None,
        reason: format!("not a host name: {e}"),
    })?;
    let shown = host_string(&host);
    let rule = match egress.rules.check_host(&host, port, scheme) {
        HostVerdict::Allow { rule } => rule,
        HostVerdict::Deny { rule } => {
            return Err(Refusal::refused(
                &shown,
                port,
                Some(rule.clone()),
                format!("denied by {rule}"),
            ))
        }
        HostVerdict::NotAllowed => {
            return Err(Refusal::refused(
                &shown,
                port,
                None,
                match host {
                    NormalizedHost::Ip(_) => {
                        "an address no network.allow address rule covers".to_string()
                    }
                    NormalizedHost::Name(_) => "not on the network allow list".to_string(),
                },
            ))
        }
        HostVerdict::Ask { rule } => {
            let request = ConnectionRequest {
                host: shown.clone(),
                port,
                scheme: scheme.map(str::to_string),
                rule: rule.clone(),
            };
            match approvals.ask(egress, request).await {
                Ok(true) => rule,
                Ok(false) => {
                    return Err(Refusal::refused(
                        &shown,
                        port,
                        Some(rule.clone()),
                        format!("approval refused ({rule})"),
                    ))
                }
                Err(e) => {
                    return Err(Refusal::refused(
                        &shown,
                        port,
                        Some(rule.clone()),
                        format!("needs approval ({rule}) and the approval failed: {e}"),
                    ))
                }
            }
        }
    };
    let candidates = match &host {
        NormalizedHost::Ip(ip) => vec![*ip],
        NormalizedHost::Name(name) => {
            match tokio::time::timeout(UPSTREAM_TIMEOUT, egress.resolver.resolve(name, port)).await
            {
                Ok(Ok(a)) if !a.is_empty() => a,
                Ok(Ok(_)) => return Err(upstream_failed(&shown, port, "no address".into())),
                Ok(Err(e)) => {
                    return Err(upstream_failed(
                        &shown,
                        port,
                        format!("cannot resolve: {e}"),
                    ))
                }
                Err(_) => {
                    return Err(upstream_failed(
                        &shown,
                        port,
                        "name resolution timed out".into(),
                    ))
                }
            }
        }
    };
    let (addresses, refused) = checked_addresses(egress, &candidates, port);
    if addresses.is_empty() {
        let (rule, why) = refused.unwrap_or((None, "no usable address".into()));
        return Err(Refusal::refused(&shown, port, rule, why));
    }
    let mut last_error = String::new();
    for ip in addresses {
        let addr = SocketAddr::new(ip, port);
        match tokio::time::timeout(UPSTREAM_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                return Ok(Opened {
                    host,
                    host_text: shown,
                    stream,
                    address: addr,
                    rule,
                });
            }
            Ok(Err(e)) => last_error = format!("cannot connect to {addr}: {e}"),
            Err(_) => last_error = format!("connecting to {addr} timed out"),
        }
    }
    Err(upstream_failed(&shown, port, last_error))
}

/// The addresses among `candidates` the proxy may connect to, and why the
/// first one left out was (the rule, if a deny rule did it).
fn checked_addresses(
    egress: &Egress,
    candidates: &[IpAddr],
    port: u16,
) -> (Vec<IpAddr>, Option<(Option<String>, String)>) {
    let mut ok = Vec::new();
    let mut refused = None;
    for &ip in candidates {
        match egress.rules.check_address(ip, port) {
            AddressVerdict::Allowed { .. } => ok.push(ip),
            AddressVerdict::Deny { rule } => {
                refused.get_or_insert((Some(rule.clone()), format!("{ip} is denied by {rule}")));
            }
            AddressVerdict::Unlisted => match special_purpose(ip) {
                None => ok.push(ip),
                Some(class) => {
                    refused.get_or_insert((
                        None,
                        format!(
                            "resolves to {ip}, a {} address (allow it by address in \
                             network.allow to reach it)",
                            class.as_str()
                        ),
                    ));
                }
            },
        }
    }
    (ok, refused)
}

fn upstream_failed(host: &str, port: u16, reason: String) -> Refusal {
    Refusal {
        status: if reason.contains("timed out") {
            StatusCode::GATEWAY_TIMEOUT
        } else {
            StatusCode::BAD_GATEWAY
        },
        host: host.to_string(),
        port,
        rule: None,
        reason,
    }
}

/// A normalised host as text: the name, or the address.
pub(crate) fn host_string(host: &NormalizedHost) -> String {
    match host {
        NormalizedHost::Name(n) => n.clone(),
        NormalizedHost::Ip(ip) => ip.to_string(),
    }
}
