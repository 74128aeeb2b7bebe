//! The crate's error type.

use crate::exec::BackendKind;
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
        /// The backend.
        backend: BackendKind,
        /// Which step failed.
        kind: ExecErrorKind,
        /// What went wrong (with the cause's text, if there is a cause).
        message: String,
        /// The underlying error (an `io::Error`, the Docker or Kubernetes
        /// client's error), if there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
    /// The backend cannot be reached (no Docker daemon, no API server).
    #[error("{backend} backend unavailable: {message}")]
    BackendUnavailable {
        /// The backend.
        backend: BackendKind,
        /// Why, and what to do about it.
        message: String,
        /// The underlying error (the client's), if there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
    /// No executor is configured on the sandbox.
    #[error("no executor is configured")]
    NoExecutor,
    /// The run was dropped before it ended (its command was stopped).
    #[error("{backend} run cancelled")]
    Cancelled {
        /// The backend.
        backend: BackendKind,
    },
}

/// Which step of a run an [`Error::Executor`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExecErrorKind {
    /// Preparing the run: its user and home directory, namespaces, the
    /// Landlock ruleset.
    Setup,
    /// The run's resource limits: its cgroups cannot be made or set.
    Limits,
    /// The egress proxy of an allowlist run: its namespace, directory,
    /// socket or listener.
    Egress,
    /// The command, or its container, could not be started.
    Spawn,
    /// Reading the command's output, writing its input, waiting for it.
    Io,
    /// The backend's API (the Docker daemon, the Kubernetes API server)
    /// refused or failed a request.
    Api,
    /// The image is not present and cannot be pulled.
    Image,
    /// The container's agent did not speak the agent's protocol, or ended
    /// without running the command.
    Protocol,
    /// A step was abandoned before it answered (its task was dropped).
    Abandoned,
}

impl ExecErrorKind {
    /// `setup`, `limits`, `egress`, `spawn`, `io`, `api`, `image`,
    /// `protocol` or `abandoned`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecErrorKind::Setup => "setup",
            ExecErrorKind::Limits => "limits",
            ExecErrorKind::Egress => "egress",
            ExecErrorKind::Spawn => "spawn",
            ExecErrorKind::Io => "io",
            ExecErrorKind::Api => "api",
            ExecErrorKind::Image => "image",
            ExecErrorKind::Protocol => "protocol",
            ExecErrorKind::Abandoned => "abandoned",
        }
    }
}

impl std::fmt::Display for ExecErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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
    /// An [`Error::Executor`] with no underlying error.
    pub fn executor(
        backend: BackendKind,
        kind: ExecErrorKind,
        message: impl Into<String>,
    ) -> Error {
        Error::Executor {
            backend,
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// An [`Error::Executor`] caused by `source`: the message is
    /// `context: source` (as it reads in every front end), and `source`
    /// is kept as the error's [`source`](std::error::Error::source).
    pub fn executor_from(
        backend: BackendKind,
        kind: ExecErrorKind,
        context: impl std::fmt::Display,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Error {
        let source = source.into();
        Error::executor(backend, kind, format!("{context}: {source}")).with_source(source)
    }

    /// An [`Error::BackendUnavailable`] with no underlying error.
    pub fn unavailable(backend: BackendKind, message: impl Into<String>) -> Error {
        Error::BackendUnavailable {
            backend,
            message: message.into(),
            source: None,
        }
    }

    /// The error with `source` as its underlying error: for
    /// [`Error::Executor`] and [`Error::BackendUnavailable`], whose message
    /// already says what `source` says (the other variants are returned
    /// unchanged).
    pub fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Error {
        if let Error::Executor { source: s, .. } | Error::BackendUnavailable { source: s, .. } =
            &mut self
        {
            *s = Some(source.into());
        }
        self
    }

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
                Error::unavailable(BackendKind::Docker, "no daemon"),
                "BACKEND_UNAVAILABLE",
            ),
            (Error::InvalidInput("x".into()), "INVALID_ARGUMENT"),
            (
                Error::executor(BackendKind::Process, ExecErrorKind::Spawn, "x"),
                "EXECUTION_ERROR",
            ),
            (
                Error::executor_from(
                    BackendKind::Kubernetes,
                    ExecErrorKind::Api,
                    "x",
                    std::io::Error::other("y"),
                ),
                "EXECUTION_ERROR",
            ),
            (
                Error::Cancelled {
                    backend: BackendKind::Docker,
                },
                "EXECUTION_ERROR",
            ),
        ];
        for (e, code) in cases {
            assert_eq!(e.code().as_str(), code, "{e}");
        }
    }

    /// The texts every front end shows (the CLI's stderr, Python's and
    /// Node's messages) are the ones they were when the backend was a
    /// string and the cause was formatted into the message.
    #[test]
    fn executor_errors_read_as_they_always_did() {
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let cases = [
            (
                Error::executor(
                    BackendKind::Process,
                    ExecErrorKind::Limits,
                    "cgroups are required",
                ),
                "process executor: cgroups are required",
            ),
            (
                Error::executor_from(
                    BackendKind::Process,
                    ExecErrorKind::Io,
                    "cannot wait for the command",
                    io(),
                ),
                "process executor: cannot wait for the command: no such file",
            ),
            (
                Error::executor(BackendKind::Docker, ExecErrorKind::Io, io().to_string())
                    .with_source(io()),
                "docker executor: no such file",
            ),
            (
                Error::executor_from(
                    BackendKind::Kubernetes,
                    ExecErrorKind::Api,
                    "cannot create the Job",
                    io(),
                ),
                "kubernetes executor: cannot create the Job: no such file",
            ),
            (
                Error::unavailable(BackendKind::Docker, "cannot reach the Docker daemon")
                    .with_source(io()),
                "docker backend unavailable: cannot reach the Docker daemon",
            ),
            (
                Error::unavailable(BackendKind::Process, "isolation is required"),
                "process backend unavailable: isolation is required",
            ),
            (
                Error::Cancelled {
                    backend: BackendKind::Kubernetes,
                },
                "kubernetes run cancelled",
            ),
        ];
        for (e, text) in cases {
            assert_eq!(e.to_string(), text);
        }
    }

    #[test]
    fn the_cause_is_the_source_and_the_kind_is_kept() {
        use std::error::Error as _;
        let e = Error::executor_from(
            BackendKind::Process,
            ExecErrorKind::Spawn,
            "cannot start `x`",
            std::io::Error::from_raw_os_error(libc::ENOENT),
        );
        let io = e
            .source()
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .expect("the io::Error is the source");
        assert_eq!(io.raw_os_error(), Some(libc::ENOENT));
        assert!(matches!(
            e,
            Error::Executor {
                backend: BackendKind::Process,
                kind: ExecErrorKind::Spawn,
                ..
            }
        ));
        let unavailable = Error::unavailable(BackendKind::Docker, "down")
            .with_source(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        let io = unavailable
            .source()
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .expect("the io::Error is the source");
        assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
        // No cause, no source; other variants take none.
        assert!(
            Error::executor(BackendKind::Docker, ExecErrorKind::Protocol, "x")
                .source()
                .is_none()
        );
        let e = Error::InvalidInput("x".into()).with_source(std::io::Error::other("y"));
        assert!(e.source().is_none());
        assert_eq!(e.to_string(), "invalid input: x");
    }

    #[test]
    fn backends_and_kinds_have_their_names() {
        let names = [
            (BackendKind::Process, "process"),
            (BackendKind::Docker, "docker"),
            (BackendKind::Kubernetes, "kubernetes"),
        ];
        for (b, name) in names {
            assert_eq!(b.to_string(), name);
            assert_eq!(serde_json::to_value(b).unwrap(), name);
        }
        assert_eq!(ExecErrorKind::Abandoned.to_string(), "abandoned");
        assert_eq!(ExecErrorKind::Io.to_string(), "io");
    }
}
