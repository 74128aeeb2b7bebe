//! The crate's error type.

use crate::policy::{Decision, PolicyError};
use thiserror::Error;

/// Errors returned by sandboxcore.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A command line could not be parsed.
    #[error("cannot parse the command: {0}")]
    Parse(#[from] crate::shell::ParseError),
    /// Input that is not valid for the operation.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The policy could not be loaded.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The policy denied the command; the decision says why.
    #[error("denied by policy: {}", summary(.0))]
    Denied(Box<Decision>),
    /// The command needs approval and no approver is configured.
    #[error("approval required: {}", summary(.0))]
    ApprovalRequired(Box<Decision>),
    /// The approver refused the command.
    #[error("approval refused: {}", summary(.0))]
    ApprovalRefused(Box<Decision>),
    /// The approver failed (raised, rejected, or did not answer within the
    /// run's timeout): the command is not run.
    #[error("approval failed: {reason} ({})", summary(.decision))]
    ApprovalFailed {
        /// The decision that asked for approval.
        decision: Box<Decision>,
        /// What went wrong with the approver.
        reason: String,
    },
    /// The command is permitted but cannot run (it does not parse).
    #[error("the command cannot run: {}", summary(.0))]
    NotRunnable(Box<Decision>),
    /// The executor failed to run the command (not the command failing).
    #[error("{backend} executor: {message}")]
    Executor {
        /// The backend's name.
        backend: String,
        /// What went wrong.
        message: String,
    },
    /// The backend cannot be reached (no Docker daemon, no API server).
    #[error("{backend} backend unavailable: {message}")]
    BackendUnavailable {
        /// The backend's name.
        backend: String,
        /// Why, and what to do about it.
        message: String,
    },
    /// No executor is configured on the sandbox.
    #[error("no executor is configured")]
    NoExecutor,
    /// The run was dropped before it ended (its command was stopped).
    #[error("{backend} run cancelled")]
    Cancelled {
        /// The backend's name.
        backend: String,
    },
}

fn summary(d: &Decision) -> String {
    match d.reasons.first() {
        Some(r) => format!("{} ({})", r.message, r.rule),
        None => d.verdict.to_string(),
    }
}

/// The kind of an [`Error`](enum@Error), as every front end names it: the CLI's exit
/// status, Python's exception class (and its `code`), Node's `err.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The policy denied the command (or it cannot run).
    PolicyDenied,
    /// The command needs approval, the approver refused it or failed.
    ApprovalRequired,
    /// A policy could not be loaded.
    PolicyError,
    /// No backend, or it cannot be reached or cannot isolate here.
    BackendUnavailable,
    /// Input that is not valid (an option, a path, a number).
    InvalidArgument,
    /// The backend failed to run the command (not the command failing).
    ExecutionError,
}

impl ErrorCode {
    /// `POLICY_DENIED`, `APPROVAL_REQUIRED`, `POLICY_ERROR`,
    /// `BACKEND_UNAVAILABLE`, `INVALID_ARGUMENT` or `EXECUTION_ERROR`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::PolicyDenied => "POLICY_DENIED",
            ErrorCode::ApprovalRequired => "APPROVAL_REQUIRED",
            ErrorCode::PolicyError => "POLICY_ERROR",
            ErrorCode::BackendUnavailable => "BACKEND_UNAVAILABLE",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::ExecutionError => "EXECUTION_ERROR",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// The error's kind: the one mapping the CLI, Python and Node use.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Denied(_) | Error::NotRunnable(_) => ErrorCode::PolicyDenied,
            Error::ApprovalRequired(_)
            | Error::ApprovalRefused(_)
            | Error::ApprovalFailed { .. } => ErrorCode::ApprovalRequired,
            Error::Policy(_) => ErrorCode::PolicyError,
            Error::NoExecutor | Error::BackendUnavailable { .. } => ErrorCode::BackendUnavailable,
            Error::InvalidInput(_) | Error::Parse(_) => ErrorCode::InvalidArgument,
            Error::Executor { .. } | Error::Cancelled { .. } => ErrorCode::ExecutionError,
        }
    }

    /// The policy decision behind a denial or approval error.
    pub fn decision(&self) -> Option<&Decision> {
        match self {
            Error::Denied(d)
            | Error::ApprovalRequired(d)
            | Error::ApprovalRefused(d)
            | Error::NotRunnable(d) => Some(d),
            Error::ApprovalFailed { decision, .. } => Some(decision),
            _ => None,
        }
    }
}

/// Shorthand for results with [`Error`](enum@Error).
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_the_code_the_front_ends_use() {
        let d = || {
            Box::new(crate::Policy::for_mode(crate::policy::DeploymentMode::Selfhosted).check("ls"))
        };
        let cases = [
            (Error::Denied(d()), "POLICY_DENIED"),
            (Error::NotRunnable(d()), "POLICY_DENIED"),
            (Error::ApprovalRequired(d()), "APPROVAL_REQUIRED"),
            (Error::ApprovalRefused(d()), "APPROVAL_REQUIRED"),
            (
                Error::ApprovalFailed {
                    decision: d(),
                    reason: "x".into(),
                },
                "APPROVAL_REQUIRED",
            ),
            (Error::NoExecutor, "BACKEND_UNAVAILABLE"),
            (
                Error::BackendUnavailable {
                    backend: "docker".into(),
                    message: "no daemon".into(),
                },
                "BACKEND_UNAVAILABLE",
            ),
            (Error::InvalidInput("x".into()), "INVALID_ARGUMENT"),
            (
                Error::Executor {
                    backend: "process".into(),
                    message: "x".into(),
                },
                "EXECUTION_ERROR",
            ),
        ];
        for (e, code) in cases {
            assert_eq!(e.code().as_str(), code, "{e}");
        }
    }
}
