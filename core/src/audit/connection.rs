//! The audit record of one connection through the egress proxy.

use super::record::Severity;
use super::redact::redact;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// Whether the proxy let a connection through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionVerdict {
    /// Allowed by a rule (or approved).
    Allowed,
    /// Refused: a deny rule, not on the allow list, a special-purpose
    /// address, approval refused, a mismatched name.
    Refused,
    /// Allowed, but the upstream could not be reached.
    Failed,
}

impl ConnectionVerdict {
    /// `allowed`, `refused` or `failed` (the metrics label).
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionVerdict::Allowed => "allowed",
            ConnectionVerdict::Refused => "refused",
            ConnectionVerdict::Failed => "failed",
        }
    }
}

/// One connection (a CONNECT tunnel or one proxied HTTP request): what was
/// asked for, what the proxy did and why, and how much went each way.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectionRecord {
    /// When it ended (RFC 3339, UTC).
    pub time: String,
    /// Always `connection`.
    pub event: &'static str,
    /// How serious it is: refusals are warnings.
    pub severity: Severity,
    /// `CONNECT`, or the HTTP method of a proxied request.
    pub method: String,
    /// The host asked for, normalised (lower-case, IDN as punycode).
    pub host: String,
    /// The port asked for.
    pub port: u16,
    /// The address connected to, once one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Allowed, refused or failed.
    pub verdict: ConnectionVerdict,
    /// The rule behind the verdict (`network.allow[0]: *.pypi.org`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Why, for people (redacted).
    pub reason: String,
    /// Bytes from the sandbox to the upstream.
    pub bytes_up: u64,
    /// Bytes from the upstream to the sandbox.
    pub bytes_down: u64,
    /// How long the connection lasted, in seconds.
    pub duration_seconds: f64,
    /// The run's labels.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl ConnectionRecord {
    /// A record ending now.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        method: &str,
        host: &str,
        port: u16,
        verdict: ConnectionVerdict,
        rule: Option<&str>,
        reason: &str,
        (bytes_up, bytes_down): (u64, u64),
        duration: Duration,
    ) -> ConnectionRecord {
        ConnectionRecord {
            time: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            event: "connection",
            severity: match verdict {
                ConnectionVerdict::Allowed => Severity::Info,
                ConnectionVerdict::Refused | ConnectionVerdict::Failed => Severity::Warning,
            },
            method: method.to_string(),
            host: host.to_string(),
            port,
            address: None,
            verdict,
            rule: rule.map(str::to_string),
            reason: redact(reason).into_owned(),
            bytes_up,
            bytes_down,
            duration_seconds: duration.as_secs_f64(),
            labels: BTreeMap::new(),
        }
    }
}
