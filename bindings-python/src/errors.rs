//! The Python exception hierarchy and the mapping from core errors.

use crate::policy::Decision;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    sandboxcore,
    SandboxError,
    PyException,
    "Base class of every sandboxcore error."
);
create_exception!(
    sandboxcore,
    PolicyDenied,
    SandboxError,
    "The policy denied the command; `.decision` says why."
);
create_exception!(
    sandboxcore,
    ApprovalRequired,
    SandboxError,
    "The policy needs approval for the command (or the approver refused); `.decision` says why."
);
create_exception!(
    sandboxcore,
    PolicyError,
    SandboxError,
    "A policy could not be loaded: bad file, key or value (the message gives file:line:column)."
);
create_exception!(
    sandboxcore,
    BackendUnavailable,
    SandboxError,
    "The requested backend cannot be used here."
);
create_exception!(
    sandboxcore,
    ExecutionError,
    SandboxError,
    "The backend failed to run the command, or `check_returncode()` found a failure."
);

/// Adds the exceptions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("SandboxError", py.get_type::<SandboxError>())?;
    m.add("PolicyDenied", py.get_type::<PolicyDenied>())?;
    m.add("ApprovalRequired", py.get_type::<ApprovalRequired>())?;
    m.add("PolicyError", py.get_type::<PolicyError>())?;
    m.add("BackendUnavailable", py.get_type::<BackendUnavailable>())?;
    m.add("ExecutionError", py.get_type::<ExecutionError>())?;
    Ok(())
}

/// An exception carrying a decision as `.decision`.
fn with_decision(py: Python<'_>, err: PyErr, decision: &sandboxcore::Decision) -> PyErr {
    if let Ok(d) = Py::new(py, Decision::from(decision.clone())) {
        let _ = err.value(py).setattr("decision", d);
    }
    err
}

/// The Python exception for a core error: the class from the core's
/// `Error::code()` (shared with the CLI and Node), with `code` set and the
/// `decision` where there is one.
pub fn to_py(py: Python<'_>, e: sandboxcore::Error) -> PyErr {
    use sandboxcore::ErrorCode as C;
    let message = e.to_string();
    let code = e.code();
    let err = match code {
        C::PolicyDenied => PolicyDenied::new_err(message),
        C::ApprovalRequired => ApprovalRequired::new_err(message),
        C::PolicyError => PolicyError::new_err(message),
        C::BackendUnavailable => BackendUnavailable::new_err(message),
        C::InvalidArgument => pyo3::exceptions::PyValueError::new_err(message),
        _ => ExecutionError::new_err(message),
    };
    let _ = err.value(py).setattr("code", code.as_str());
    match e.decision() {
        Some(d) => with_decision(py, err, d),
        None => err,
    }
}

pub fn policy_error(e: sandboxcore::policy::PolicyError) -> PyErr {
    PolicyError::new_err(e.to_string())
}
