//! `_Pending`: a run (or the next event of a stream) going on on the tokio
//! runtime, awaited by asyncio without any foreign thread touching Python.
//!
//! The task stores its outcome as plain Rust data and then writes one byte
//! to a socket (a syscall, no GIL). The package's coroutines watch the other
//! end with `loop.add_reader(pending.fileno(), ...)` and, woken on the
//! loop's own thread, call `pending.result()`, which makes the Python
//! objects (or raises) there. Delivering the result through
//! `call_soon_threadsafe` from a tokio thread, as `future_into_py` does,
//! could crash the interpreter at exit: the loop may be done and the
//! interpreter finalizing while that thread still has to take or release
//! the GIL (PyO3/pyo3-async-runtimes#40).
//!
//! A task is also marked finished when it is dropped (aborted, or after a
//! panic), so `result()` never waits for nothing and `cancel()` can wait
//! until the run's future is gone: dropping a run kills the command and
//! audits it as cancelled, and the audit event reaches Python's `logging`
//! (a GIL taken on a tokio thread) before the cancelled coroutine goes on.

use crate::errors::to_py;
use crate::sandbox::RunResult;
use pyo3::exceptions::{PyRuntimeError, PyStopAsyncIteration};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use sandboxcore::exec::{ExecEvent, ExecOutcome};
use std::future::Future;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixDatagram;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

/// What a task produced, as Rust data (made into Python objects by
/// `_Pending.result()` on the event loop's thread).
pub enum Outcome {
    /// A whole run (`run_async`).
    Run(sandboxcore::Result<ExecOutcome>),
    /// The next event of a stream: `Ok(None)` at its end, or the error
    /// that ended it.
    Event(sandboxcore::Result<Option<ExecEvent>>),
    /// Nothing to report (a stream's run: its events and error go through
    /// the stream).
    Done,
}

#[derive(Default)]
struct State {
    outcome: Option<Outcome>,
    finished: bool,
}

/// Shared by the task and its `_Pending`.
struct Shared {
    state: Mutex<State>,
    finished: Condvar,
    /// The task's end of the socket pair (a datagram pair: a write after
    /// the reader is gone fails with an error, never SIGPIPE).
    signal: UnixDatagram,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores the outcome (none when the task was dropped first), marks the
    /// task finished and wakes whoever waits: a thread in `cancel()`, and
    /// the event loop through the socket.
    fn finish(&self, outcome: Option<Outcome>) {
        {
            let mut state = self.lock();
            if state.finished {
                return;
            }
            state.outcome = outcome;
            state.finished = true;
        }
        self.finished.notify_all();
        let _ = self.signal.send(&[1]);
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// The spawned task: the future, and the shared state it reports to.
struct Task {
    fut: Option<BoxFuture>,
    shared: Arc<Shared>,
}

impl Future for Task {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(fut) = self.fut.as_mut() else {
            return Poll::Ready(());
        };
        let outcome = match fut.as_mut().poll(cx) {
            Poll::Ready(outcome) => outcome,
            Poll::Pending => return Poll::Pending,
        };
        // Everything the future holds is released before Python hears of it.
        self.fut = None;
        self.shared.finish(Some(outcome));
        Poll::Ready(())
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        // Aborted (or panicked): drop the future first (a run's drop kills
        // its command), then say so.
        self.fut = None;
        self.shared.finish(None);
    }
}

/// Spawns `fut` on the bindings' tokio runtime, in the asyncio task locals
/// `locals` when given (an `async def` approver runs on that loop).
pub fn spawn<F>(fut: F, locals: Option<pyo3_async_runtimes::TaskLocals>) -> PyResult<Pending>
where
    F: Future<Output = Outcome> + Send + 'static,
{
    let (reader, signal) = UnixDatagram::pair()?;
    reader.set_nonblocking(true)?;
    signal.set_nonblocking(true)?;
    let shared = Arc::new(Shared {
        state: Mutex::new(State::default()),
        finished: Condvar::new(),
        signal,
    });
    let fut: BoxFuture = match locals {
        Some(locals) => Box::pin(pyo3_async_runtimes::tokio::scope(locals, fut)),
        None => Box::pin(fut),
    };
    let task = Task {
        fut: Some(fut),
        shared: shared.clone(),
    };
    let handle = pyo3_async_runtimes::tokio::get_runtime().spawn(task);
    Ok(Pending {
        shared,
        reader,
        task: handle.abort_handle(),
    })
}

/// Waits (without the GIL) up to `limit` for the task to be finished.
fn wait_finished(py: Python<'_>, shared: &Shared, limit: Duration) {
    if shared.lock().finished {
        return;
    }
    py.detach(|| {
        let deadline = std::time::Instant::now() + limit;
        let mut state = shared.lock();
        while !state.finished {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return;
            }
            state = shared
                .finished
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    });
}

/// How long `cancel()` waits for the task's future to be dropped (it only
/// signals the command and hands the rest to a thread: well under this).
const CANCEL_WAIT: Duration = Duration::from_secs(5);

/// A run or a stream's next event going on in the background (internal:
/// the package's `Sandbox.run_async` and `EventStream.__anext__` await it).
/// `fileno()` becomes readable when it is done; `result()` then gives the
/// result or raises; `cancel()` stops it. Dropping it stops it too.
#[pyclass(frozen, name = "_Pending", module = "sandboxcore._native")]
pub struct Pending {
    shared: Arc<Shared>,
    reader: UnixDatagram,
    task: tokio::task::AbortHandle,
}

impl Pending {
    /// The task has finished (with a result, an error, or cancelled).
    pub fn is_done(&self) -> bool {
        self.shared.lock().finished
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[pymethods]
impl Pending {
    /// A descriptor that becomes readable when the task is done (for
    /// `loop.add_reader`; never read from it).
    fn fileno(&self) -> RawFd {
        self.reader.as_raw_fd()
    }

    /// The task has finished (with a result, an error, or cancelled).
    fn done(&self) -> bool {
        self.is_done()
    }

    /// The result (a `RunResult`, or a stream event), raising what the run
    /// raises; StopAsyncIteration at the end of a stream. Once only.
    fn result(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let outcome = {
            let mut state = self.shared.lock();
            if !state.finished {
                return Err(PyRuntimeError::new_err("the run has not finished"));
            }
            state.outcome.take()
        };
        match outcome {
            None => Err(PyRuntimeError::new_err(
                "the run was cancelled, or its result was already taken",
            )),
            Some(Outcome::Run(Ok(o))) => Ok(Py::new(py, RunResult::from(o))?.into_any()),
            Some(Outcome::Run(Err(e))) | Some(Outcome::Event(Err(e))) => Err(to_py(py, e)),
            Some(Outcome::Event(Ok(None))) => Err(PyStopAsyncIteration::new_err(())),
            Some(Outcome::Done) => Ok(py.None()),
            Some(Outcome::Event(Ok(Some(event)))) => event_to_py(py, event),
        }
    }

    /// Stops the task (a run's command is killed) and waits, without the
    /// GIL, until its future is gone (5 s at most).
    pub fn cancel(&self, py: Python<'_>) {
        self.task.abort();
        wait_finished(py, &self.shared, CANCEL_WAIT);
    }

    fn __repr__(&self) -> String {
        let done = if self.is_done() { "done" } else { "pending" };
        format!("<_Pending {done}>")
    }
}

/// A stream event as the tuple the package yields.
fn event_to_py(py: Python<'_>, event: ExecEvent) -> PyResult<Py<PyAny>> {
    Ok(match event {
        ExecEvent::Started { pid } => ("started", pid).into_pyobject(py)?.into_any().unbind(),
        ExecEvent::Stdout(b) => ("stdout", PyBytes::new(py, &b))
            .into_pyobject(py)?
            .into_any()
            .unbind(),
        ExecEvent::Stderr(b) => ("stderr", PyBytes::new(py, &b))
            .into_pyobject(py)?
            .into_any()
            .unbind(),
        ExecEvent::Exited(o) => {
            let r = Py::new(py, RunResult::from(*o))?;
            ("exit", r).into_pyobject(py)?.into_any().unbind()
        }
    })
}
