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
}

fn summary(d: &Decision) -> String {
    match d.reasons.first() {
        Some(r) => format!("{} ({})", r.message, r.rule),
        None => d.verdict.to_string(),
    }
}

impl Error {
    /// The policy decision behind a denial or approval error.
    pub fn decision(&self) -> Option<&Decision> {
        match self {
            Error::Denied(d)
            | Error::ApprovalRequired(d)
            | Error::ApprovalRefused(d)
            | Error::NotRunnable(d) => Some(d),
            _ => None,
        }
    }
}

/// Shorthand for results with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
