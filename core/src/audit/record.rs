//! The audit record: one per decision and one per execution.

use super::redact::redact;
use crate::exec::{ExecOutcome, RunStatus};
use crate::policy::{Decision, Effect, Verdict};
use crate::Risk;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// Which kind of event a record describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// A policy decision.
    Decision,
    /// A command run (or its failure to run).
    Execution,
}

/// How serious an audit event is; maps onto `tracing` levels as in the
/// CodeFRAME guide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A safe command (DEBUG).
    Debug,
    /// A command not on the safe list (INFO).
    Info,
    /// Shell operators, warnings and approvals (WARN).
    Warning,
    /// Denials and failures (ERROR).
    Error,
}

/// One audit event. Every text field is redacted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    /// When it happened (RFC 3339, UTC).
    pub time: String,
    /// Decision or execution.
    pub event: AuditKind,
    /// How serious it is.
    pub severity: Severity,
    /// The command line, redacted.
    pub command: String,
    /// The policy's verdict.
    pub verdict: Verdict,
    /// The classifier's risk level.
    pub risk: Risk,
    /// The rule behind the verdict.
    pub rule: Option<String>,
    /// The decision's reasons, redacted.
    pub reasons: Vec<String>,
    /// The backend that ran the command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// `ok`, `failed`, `signal`, `timeout`, `oom` or `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The exit code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The terminating signal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// Wall-clock duration of the run, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    /// Output was truncated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
    /// Isolation layers that were not applied (best-effort isolation).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub isolation_skipped: Vec<String>,
    /// What was enforced for the run: the names of the true fields of
    /// [`ExecOutcome::enforced`] (`network_isolation`, `seccomp`, ...).
    /// `None` for a decision or a run that failed in the backend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enforced: Option<Vec<&'static str>>,
    /// Why the executor failed, redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Labels from the request.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// For a command run after approval: the scope in effect (`once`,
    /// `session`, `persist`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval: Option<String>,
    /// Why the scope in effect is narrower than the approver's answer (a
    /// `persist` with no policy file, for example).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_note: Option<String>,
}

impl AuditRecord {
    /// The record of a decision on `command`.
    pub fn decision(command: &str, d: &Decision) -> AuditRecord {
        let severity = match d.verdict {
            Verdict::Deny => Severity::Error,
            Verdict::Warn | Verdict::Ask => Severity::Warning,
            Verdict::Allow if d.reasons.iter().any(|r| r.effect != Effect::Note) => {
                // Allowed only because enforcement is disabled.
                Severity::Warning
            }
            Verdict::Allow if d.reasons.is_empty() => Severity::Debug,
            Verdict::Allow => Severity::Info,
        };
        AuditRecord {
            time: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            event: AuditKind::Decision,
            severity,
            command: redact(command).into_owned(),
            verdict: d.verdict,
            risk: d.classification.risk,
            rule: d.matched_rule.as_deref().map(|r| redact(r).into_owned()),
            reasons: d
                .reasons
                .iter()
                .map(|r| redact(&r.message).into_owned())
                .collect(),
            backend: None,
            status: None,
            exit_code: None,
            signal: None,
            duration_seconds: None,
            truncated: None,
            isolation_skipped: Vec::new(),
            enforced: None,
            error: None,
            labels: BTreeMap::new(),
            approval: None,
            approval_note: None,
        }
    }

    /// The record of running `command` after decision `d`: its outcome or
    /// the executor's error.
    pub fn execution(
        command: &str,
        d: &Decision,
        backend: &str,
        result: Result<&ExecOutcome, &crate::Error>,
        duration: Duration,
        labels: &BTreeMap<String, String>,
    ) -> AuditRecord {
        let mut r = AuditRecord::decision(command, d);
        r.event = AuditKind::Execution;
        r.backend = Some(backend.to_string());
        r.duration_seconds = Some(duration.as_secs_f64());
        r.labels = labels.clone();
        match result {
            Ok(o) => {
                r.status = Some(o.status().as_str().to_string());
                r.exit_code = o.exit_code;
                r.signal = o.signal;
                r.truncated = Some(o.stdout_truncated || o.stderr_truncated);
                r.isolation_skipped = o.isolation_skipped.clone();
                r.enforced = Some(o.enforced.names());
                if o.timed_out || o.oom_killed {
                    r.severity = Severity::Error;
                }
            }
            Err(e) => {
                r.status = Some(RunStatus::of(Err(e)).as_str().to_string());
                r.error = Some(redact(&e.to_string()).into_owned());
                r.severity = Severity::Error;
            }
        }
        r
    }
}
