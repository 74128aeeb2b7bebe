//! A Python callable as the sandbox's approver: `Sandbox(policy,
//! approver=fn)`, where `fn(decision)` returns a bool, or is an
//! `async def` whose coroutine resolves to one. The same callable answers
//! for connections an allowlist run's proxy holds: `fn(request)` with a
//! `ConnectionRequest` (`kind == "connection"`; a `Decision`'s `kind` is
//! `"command"`). An approver that raises
//! denies the command; the error says what it raised
//! (`sandboxcore::Error::ApprovalFailed`). For a command the answer may
//! also be a scope: "once", "session", "persist" or "deny" (or the
//! `Approval` enum of the package, a `str` enum); any other string denies
//! the command with ApprovalFailed. Only conversion lives here (parsing is
//! `sandboxcore::Approval::from_str`): the
//! core decides when to ask, bounds the wait by the run's timeout and
//! reports the outcome.

use crate::policy::Decision;
use pyo3::prelude::*;
use std::future::Future;
use std::pin::Pin;

/// A call's answer, or the awaitable it returned.
type Called = Result<Result<sandboxcore::Approval, String>, Py<PyAny>>;

type Answer<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Approver calls still running on their threads (one whose run gave up
/// waiting goes on until it returns).
static IN_FLIGHT: std::sync::Mutex<usize> = std::sync::Mutex::new(0);
static DONE: std::sync::Condvar = std::sync::Condvar::new();

/// Counts a call in flight for as long as it lives.
struct InFlight;

impl InFlight {
    fn start() -> InFlight {
        *IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut n = IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner());
        *n = n.saturating_sub(1);
        DONE.notify_all();
    }
}

/// Waits (without the GIL) up to `timeout` seconds for approver calls
/// that are still running: registered with `atexit` by the package, so
/// that none is still inside Python while the interpreter shuts down.
#[pyfunction]
pub fn _wait_for_approvers(py: Python<'_>, timeout: f64) {
    let deadline = std::time::Instant::now()
        + std::time::Duration::try_from_secs_f64(timeout.max(0.0)).unwrap_or_default();
    py.detach(|| {
        let mut n = IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner());
        while *n > 0 {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return;
            }
            n = DONE
                .wait_timeout(n, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    });
}

/// The Python callable.
pub struct PyApprover {
    func: Py<PyAny>,
}

impl PyApprover {
    /// `func` must be callable (checked here, so the mistake shows when
    /// the sandbox is made, not at the first `ask`).
    pub fn new(func: &Bound<'_, PyAny>) -> PyResult<PyApprover> {
        if !func.is_callable() {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "approver must be a function taking a Decision (or a ConnectionRequest) \
                 and returning a bool (or an async function)",
            ));
        }
        Ok(PyApprover {
            func: func.clone().unbind(),
        })
    }

    /// Calls the function with `subject` (a `Decision` or a
    /// `ConnectionRequest`) and gives its answer.
    async fn ask<T>(&self, subject: T) -> Result<sandboxcore::Approval, String>
    where
        T: for<'py> IntoPyObject<'py> + Send + 'static,
    {
        // The caller's event loop, when the run came from `run_async` (an
        // `async def` approver runs there); none for a blocking `run`.
        let locals = Python::attach(|py| pyo3_async_runtimes::tokio::get_current_locals(py).ok());
        // The function runs on a blocking thread, so that the run's timeout
        // holds even for one that sleeps (its late answer is ignored).
        let func = Python::attach(|py| self.func.clone_ref(py));
        let counted = InFlight::start();
        let called = tokio::task::spawn_blocking(move || {
            let _counted = counted;
            Python::attach(|py| -> PyResult<Called> {
                let r = func.call1(py, (subject,))?.into_bound(py);
                let awaitable = py
                    .import("inspect")?
                    .call_method1("isawaitable", (&r,))?
                    .is_truthy()?;
                if awaitable {
                    Ok(Err(r.unbind()))
                } else {
                    Ok(Ok(answer_of(&r)))
                }
            })
        })
        .await
        .map_err(|e| format!("the approver could not be called: {e}"))?
        .map_err(describe)?;
        let coroutine = match called {
            Ok(answer) => return answer,
            Err(coroutine) => coroutine,
        };
        let value = match locals {
            Some(locals) => {
                let future = Python::attach(|py| {
                    pyo3_async_runtimes::into_future_with_locals(&locals, coroutine.into_bound(py))
                })
                .map_err(describe)?;
                future.await.map_err(describe)?
            }
            None => {
                let counted = InFlight::start();
                tokio::task::spawn_blocking(move || {
                    let _counted = counted;
                    Python::attach(|py| -> PyResult<Py<PyAny>> {
                        Ok(py
                            .import("asyncio")?
                            .call_method1("run", (coroutine,))?
                            .unbind())
                    })
                })
                .await
                .map_err(|e| format!("the approver could not be called: {e}"))?
                .map_err(describe)?
            }
        };
        Python::attach(|py| answer_of(value.bind(py)))
    }
}

/// The approval an answer gives: a bool (True is once), a string (or
/// `str` enum) parsed by the core, None (deny); any other value by its
/// truth (as before scopes existed).
fn answer_of(value: &Bound<'_, PyAny>) -> Result<sandboxcore::Approval, String> {
    use pyo3::types::PyString;
    if value.is_none() {
        return Ok(sandboxcore::Approval::Deny);
    }
    if value.is_instance_of::<PyString>() {
        let text: String = value.extract().map_err(describe)?;
        return text
            .parse()
            .map_err(|e| format!("the approver answered an {e}"));
    }
    value
        .is_truthy()
        .map(sandboxcore::Approval::from)
        .map_err(describe)
}

/// What the approver raised, for the error message.
fn describe(e: PyErr) -> String {
    Python::attach(|py| {
        let value = e.value(py);
        let kind = value
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "exception".into());
        format!("the approver raised {kind}: {value}")
    })
}

impl sandboxcore::Approver for PyApprover {
    fn approve<'a>(&'a self, decision: &'a sandboxcore::Decision) -> Answer<'a, bool> {
        Box::pin(async move { self.try_approve(decision).await.unwrap_or(false) })
    }

    fn try_approve<'a>(
        &'a self,
        decision: &'a sandboxcore::Decision,
    ) -> Answer<'a, Result<bool, String>> {
        Box::pin(async move { self.approval(decision).await.map(|a| a.approves()) })
    }

    fn approval<'a>(
        &'a self,
        decision: &'a sandboxcore::Decision,
    ) -> Answer<'a, Result<sandboxcore::Approval, String>> {
        Box::pin(self.ask(Decision::from(decision.clone())))
    }

    fn approve_connection<'a>(
        &'a self,
        request: &'a sandboxcore::net::ConnectionRequest,
    ) -> Answer<'a, Result<bool, String>> {
        Box::pin(async move {
            self.ask(ConnectionRequest::from(request.clone()))
                .await
                .map(|a| a.approves())
        })
    }
}

/// A connection a run's egress proxy holds until the approver answers: a
/// host that a `require_approval` pattern names (asked once per host and
/// run).
#[pyclass(frozen, module = "sandboxcore")]
pub struct ConnectionRequest {
    inner: sandboxcore::net::ConnectionRequest,
}

impl From<sandboxcore::net::ConnectionRequest> for ConnectionRequest {
    fn from(inner: sandboxcore::net::ConnectionRequest) -> Self {
        ConnectionRequest { inner }
    }
}

#[pymethods]
impl ConnectionRequest {
    /// Always "connection" (a `Decision`'s is "command").
    #[getter]
    fn kind(&self) -> &'static str {
        "connection"
    }

    /// The host, normalised (lower-case, IDN as punycode), or an address.
    #[getter]
    fn host(&self) -> &str {
        &self.inner.host
    }

    /// The port.
    #[getter]
    fn port(&self) -> u16 {
        self.inner.port
    }

    /// "http" for a proxied request; None for a tunnel (CONNECT, as for
    /// https).
    #[getter]
    fn scheme(&self) -> Option<&str> {
        self.inner.scheme.as_deref()
    }

    /// The `require_approval` rule that names the host
    /// (`require_approval[0]: *://example.com/*`).
    #[getter]
    fn rule(&self) -> &str {
        &self.inner.rule
    }

    /// Everything as plain Python objects (with `kind`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let d = crate::convert::to_python(py, &self.inner)?;
        d.set_item("kind", self.kind())?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let repr = |v: Bound<'_, PyAny>| -> PyResult<String> { Ok(v.repr()?.to_string()) };
        Ok(format!(
            "ConnectionRequest(host={}, port={}, scheme={}, rule={})",
            repr(self.inner.host.as_str().into_pyobject(py)?.into_any())?,
            self.inner.port,
            repr(self.inner.scheme.as_deref().into_pyobject(py)?.into_any())?,
            repr(self.inner.rule.as_str().into_pyobject(py)?.into_any())?,
        ))
    }
}
