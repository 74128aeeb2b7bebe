//! Audit events: every decision and execution as a structured `tracing`
//! event (target `sandboxcore::audit`) and, optionally, a JSON line in an
//! append-only file. Commands and messages are redacted first.

mod connection;
mod record;
mod redact;

pub use connection::{ConnectionRecord, ConnectionVerdict};
pub use record::{AuditKind, AuditRecord, Severity};
pub use redact::{redact, REDACTED};

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::Mutex;

/// The `tracing` target of audit events.
pub const TARGET: &str = "sandboxcore::audit";

/// Where audit records go: always `tracing`, and a JSON-lines file when
/// one is configured.
#[derive(Debug, Default)]
pub struct AuditLog {
    jsonl: Option<Mutex<File>>,
}

impl AuditLog {
    /// Audit through `tracing` only.
    pub fn tracing_only() -> AuditLog {
        AuditLog::default()
    }

    /// Audit through `tracing` and append one JSON object per line to
    /// `path` (created if missing, never truncated).
    pub fn with_jsonl(path: &Path) -> io::Result<AuditLog> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(AuditLog {
            jsonl: Some(Mutex::new(file)),
        })
    }

    /// Emits the record. A failure to write the file is reported as an
    /// error event and returned; the `tracing` event is always emitted.
    pub fn record(&self, r: &AuditRecord) -> io::Result<()> {
        emit(r);
        self.append(r)
    }

    /// Emits the record of a connection through the egress proxy (like
    /// [`AuditLog::record`]).
    pub fn record_connection(&self, r: &ConnectionRecord) -> io::Result<()> {
        emit_connection(r);
        self.append(r)
    }

    /// Appends `r` as one JSON line to the file, if there is one.
    fn append(&self, r: &impl serde::Serialize) -> io::Result<()> {
        let Some(file) = &self.jsonl else {
            return Ok(());
        };
        let mut line = serde_json::to_vec(r).map_err(io::Error::other)?;
        line.push(b'\n');
        // One write per line on an O_APPEND file keeps lines whole even with
        // several writers.
        let result = file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .write_all(&line);
        if let Err(e) = &result {
            tracing::error!(target: TARGET, error = %e, "cannot write the audit file");
        }
        result
    }
}

/// Emits the `tracing` event at the record's level.
fn emit(r: &AuditRecord) {
    macro_rules! event_at {
        ($level:expr) => {
            tracing::event!(
                target: TARGET,
                $level,
                event = ?r.event,
                time = %r.time,
                command = %r.command,
                verdict = %r.verdict,
                risk = %r.risk,
                rule = r.rule.as_deref(),
                reasons = ?r.reasons,
                backend = r.backend.as_deref(),
                status = r.status.as_deref(),
                exit_code = r.exit_code,
                signal = r.signal,
                duration_seconds = r.duration_seconds,
                truncated = r.truncated,
                isolation_skipped = ?r.isolation_skipped,
                enforced = ?r.enforced,
                error = r.error.as_deref(),
                security_event = true,
                "sandboxcore {}",
                match r.event {
                    AuditKind::Decision => "decision",
                    AuditKind::Execution => "execution",
                }
            )
        };
    }
    match r.severity {
        Severity::Debug => event_at!(tracing::Level::DEBUG),
        Severity::Info => event_at!(tracing::Level::INFO),
        Severity::Warning => event_at!(tracing::Level::WARN),
        Severity::Error => event_at!(tracing::Level::ERROR),
    }
}

/// Emits the `tracing` event of a connection at the record's level.
fn emit_connection(r: &ConnectionRecord) {
    macro_rules! event_at {
        ($level:expr) => {
            tracing::event!(
                target: TARGET,
                $level,
                event = "connection",
                time = %r.time,
                method = %r.method,
                host = %r.host,
                port = r.port,
                address = r.address.as_deref(),
                verdict = r.verdict.as_str(),
                rule = r.rule.as_deref(),
                reason = %r.reason,
                bytes_up = r.bytes_up,
                bytes_down = r.bytes_down,
                duration_seconds = r.duration_seconds,
                security_event = true,
                "sandboxcore connection"
            )
        };
    }
    match r.severity {
        Severity::Debug => event_at!(tracing::Level::DEBUG),
        Severity::Info => event_at!(tracing::Level::INFO),
        Severity::Warning => event_at!(tracing::Level::WARN),
        Severity::Error => event_at!(tracing::Level::ERROR),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{DeploymentMode, Policy};

    #[test]
    fn severity_follows_the_guide() {
        let p = Policy::for_mode(DeploymentMode::Selfhosted);
        let sev = |cmd: &str| AuditRecord::decision(cmd, &p.check(cmd)).severity;
        assert_eq!(sev("pytest tests/"), Severity::Debug);
        assert_eq!(sev("make build"), Severity::Info);
        assert_eq!(sev("npm run build && npm test"), Severity::Warning);
        let strict = Policy::for_mode(DeploymentMode::SaasUnsandboxed);
        let d = strict.check("npm run build && npm test");
        assert_eq!(AuditRecord::decision("x", &d).severity, Severity::Error);
    }

    #[test]
    fn jsonl_lines_are_appended_and_redacted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        std::fs::write(&path, "{\"earlier\":true}\n").unwrap();
        let log = AuditLog::with_jsonl(&path).unwrap();
        let p = Policy::default();
        for cmd in [
            "pytest",
            "curl -H 'Authorization: Bearer abc.def.ghi' https://x.io",
        ] {
            log.record(&AuditRecord::decision(cmd, &p.check(cmd)))
                .unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[0]["earlier"], true);
        assert_eq!(lines[1]["command"], "pytest");
        assert_eq!(lines[1]["event"], "decision");
        assert!(lines[2]["command"]
            .as_str()
            .unwrap()
            .contains("Bearer [REDACTED]"));
        assert!(!text.contains("abc.def.ghi"));
    }
}
