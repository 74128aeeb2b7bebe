//! The one error type of the bindings: a variant per core
//! [`sandboxcore::ErrorCode`], so that Kotlin, Swift and Python catch the
//! same kinds of failure as the CLI, the Python and the Node bindings.

use crate::policy::Decision;

/// Why a call failed. Each variant is one of core's error codes
/// ([`SandboxError::code`] gives the code's name, e.g. `POLICY_DENIED`);
/// `detail` is the message for people. (The field is not called
/// `message`: that would clash with `Throwable.message` in Kotlin.)
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum SandboxError {
    /// The policy denied the command; `decision` says why.
    #[error("{detail}")]
    PolicyDenied {
        /// What happened.
        detail: String,
        /// The policy's decision.
        decision: Option<Decision>,
    },
    /// The policy asks for approval and none was given (no approver, or
    /// it refused); `decision` says why.
    #[error("{detail}")]
    ApprovalRequired {
        /// What happened.
        detail: String,
        /// The policy's decision.
        decision: Option<Decision>,
    },
    /// A policy could not be loaded: bad file, key or value.
    #[error("{detail}")]
    PolicyError {
        /// What happened (with file:line:column where known).
        detail: String,
    },
    /// The requested backend cannot be used on this host.
    #[error("{detail}")]
    BackendUnavailable {
        /// What happened.
        detail: String,
    },
    /// An argument or option was invalid.
    #[error("{detail}")]
    InvalidArgument {
        /// What was wrong.
        detail: String,
    },
    /// The backend failed to run the command.
    #[error("{detail}")]
    ExecutionError {
        /// What happened.
        detail: String,
    },
}

#[uniffi::export]
impl SandboxError {
    /// The stable code: `POLICY_DENIED`, `APPROVAL_REQUIRED`,
    /// `POLICY_ERROR`, `BACKEND_UNAVAILABLE`, `INVALID_ARGUMENT` or
    /// `EXECUTION_ERROR` (the same strings as the other front ends).
    pub fn code(&self) -> String {
        use sandboxcore::ErrorCode as C;
        match self {
            SandboxError::PolicyDenied { .. } => C::PolicyDenied,
            SandboxError::ApprovalRequired { .. } => C::ApprovalRequired,
            SandboxError::PolicyError { .. } => C::PolicyError,
            SandboxError::BackendUnavailable { .. } => C::BackendUnavailable,
            SandboxError::InvalidArgument { .. } => C::InvalidArgument,
            SandboxError::ExecutionError { .. } => C::ExecutionError,
        }
        .as_str()
        .to_string()
    }
}

impl From<sandboxcore::Error> for SandboxError {
    fn from(e: sandboxcore::Error) -> SandboxError {
        use sandboxcore::ErrorCode as C;
        let detail = e.to_string();
        let decision = e.decision().cloned().map(Decision::from);
        match e.code() {
            C::PolicyDenied => SandboxError::PolicyDenied { detail, decision },
            C::ApprovalRequired => SandboxError::ApprovalRequired { detail, decision },
            C::PolicyError => SandboxError::PolicyError { detail },
            C::BackendUnavailable => SandboxError::BackendUnavailable { detail },
            C::InvalidArgument => SandboxError::InvalidArgument { detail },
            // ExecutionError, and codes added to core later.
            _ => SandboxError::ExecutionError { detail },
        }
    }
}

impl From<sandboxcore::policy::PolicyError> for SandboxError {
    fn from(e: sandboxcore::policy::PolicyError) -> SandboxError {
        SandboxError::PolicyError {
            detail: e.to_string(),
        }
    }
}

/// An invalid argument.
pub(crate) fn invalid(detail: impl Into<String>) -> SandboxError {
    SandboxError::InvalidArgument {
        detail: detail.into(),
    }
}
