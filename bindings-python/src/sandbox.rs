//! `Sandbox`, `RunResult` and the event stream.

use crate::errors::{to_py, BackendUnavailable, ExecutionError, SandboxError};
use crate::policy::{Decision, Policy};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};
use sandboxcore::audit::AuditLog;
use sandboxcore::exec::docker::DockerExecutor;
use sandboxcore::exec::kubernetes::KubernetesExecutor;
use sandboxcore::exec::{
    BackendConfig, Capabilities, ExecEvent, ExecOutcome, Executor, FsAccess, Limits, Network,
    ProcessExecutor,
};
use sandboxcore::RunOptions;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::mpsc;

/// The result of a run, shaped like `subprocess.CompletedProcess`.
#[pyclass(frozen, module = "sandboxcore")]
pub struct RunResult {
    inner: ExecOutcome,
}

impl From<ExecOutcome> for RunResult {
    fn from(inner: ExecOutcome) -> RunResult {
        RunResult { inner }
    }
}

#[pymethods]
impl RunResult {
    /// The exit status, or None when the command was killed by a signal.
    #[getter]
    fn exit_code(&self) -> Option<i32> {
        self.inner.exit_code
    }

    /// Like subprocess: the exit status, or -N when killed by signal N.
    #[getter]
    fn returncode(&self) -> i32 {
        match (self.inner.exit_code, self.inner.signal) {
            (Some(c), _) => c,
            (None, Some(s)) => -s,
            (None, None) => -1,
        }
    }

    /// The signal that killed it, or None.
    #[getter]
    fn signal(&self) -> Option<i32> {
        self.inner.signal
    }

    /// It was killed for exceeding the timeout.
    #[getter]
    fn timed_out(&self) -> bool {
        self.inner.timed_out
    }

    /// It was killed for exceeding the memory limit.
    #[getter]
    fn oom_killed(&self) -> bool {
        self.inner.oom_killed
    }

    /// Standard output as text (invalid UTF-8 replaced).
    #[getter]
    fn stdout(&self) -> String {
        self.inner.stdout_text().into_owned()
    }

    /// Standard error as text (invalid UTF-8 replaced).
    #[getter]
    fn stderr(&self) -> String {
        self.inner.stderr_text().into_owned()
    }

    /// Standard output, raw.
    #[getter]
    fn stdout_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.stdout)
    }

    /// Standard error, raw.
    #[getter]
    fn stderr_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.stderr)
    }

    /// Output was dropped from the middle of stdout (a marker says how much).
    #[getter]
    fn stdout_truncated(&self) -> bool {
        self.inner.stdout_truncated
    }

    /// Output was dropped from the middle of stderr.
    #[getter]
    fn stderr_truncated(&self) -> bool {
        self.inner.stderr_truncated
    }

    /// Wall-clock duration in seconds.
    #[getter]
    fn duration(&self) -> f64 {
        self.inner.duration.as_secs_f64()
    }

    /// Isolation layers that were asked for but not applied to this run
    /// (only under best-effort isolation).
    #[getter]
    fn isolation_skipped(&self) -> Vec<String> {
        self.inner.isolation_skipped.clone()
    }

    /// What was really enforced for this run: a dict with a bool for each
    /// key of `Sandbox.capabilities()` but `backend`, never true where
    /// that is false (an allowed network, a limit not set, a skipped
    /// layer: false).
    #[getter]
    fn enforced<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        fields_dict(py, &self.inner.enforced)
    }

    /// "ok", "failed", "signal", "timeout" or "oom".
    #[getter]
    fn status(&self) -> &'static str {
        self.inner.status().as_str()
    }

    /// Exit status 0, not killed.
    #[getter]
    fn ok(&self) -> bool {
        self.inner.status() == sandboxcore::exec::RunStatus::Ok
    }

    /// Raises ExecutionError (with `.result`) unless `ok`.
    fn check_returncode(slf: &Bound<'_, Self>) -> PyResult<()> {
        let me = slf.get();
        if me.ok() {
            return Ok(());
        }
        let err = ExecutionError::new_err(format!(
            "the command ended with status {} ({})",
            me.returncode(),
            me.inner.status().as_str()
        ));
        err.value(slf.py()).setattr("result", slf)?;
        Err(err)
    }

    fn __repr__(&self) -> String {
        format!(
            "RunResult(returncode={}, status='{}', stdout={} bytes, stderr={} bytes, duration={:.3})",
            self.returncode(),
            self.inner.status(),
            self.inner.stdout.len(),
            self.inner.stderr.len(),
            self.duration()
        )
    }
}

/// The receiving end of a streamed run: its events, then how it ended.
struct StreamEnd {
    events: mpsc::Receiver<ExecEvent>,
    /// The run's error (`Some`), or its success (`None`), once the events
    /// are all read; taken at the first end.
    end: Option<tokio::sync::oneshot::Receiver<Option<sandboxcore::Error>>>,
}

impl StreamEnd {
    /// The next event, `Ok(None)` at the end, or the error the run ended
    /// with (once; the end after that).
    async fn next(&mut self) -> sandboxcore::Result<Option<ExecEvent>> {
        if let Some(event) = self.events.recv().await {
            return Ok(Some(event));
        }
        // The channel closes when the run's future ends, just before the
        // task reports how: wait for that rather than miss an error.
        match self.end.take() {
            Some(end) => match end.await {
                Ok(Some(e)) => Err(e),
                _ => Ok(None),
            },
            None => Ok(None),
        }
    }
}

/// The native side of the package's `EventStream` (events of
/// `Sandbox.stream`): `_next()` starts fetching the next event.
#[pyclass(frozen, module = "sandboxcore._native")]
pub struct EventStream {
    receiver: Arc<tokio::sync::Mutex<StreamEnd>>,
    /// The run itself.
    run: crate::pending::Pending,
}

impl Drop for EventStream {
    fn drop(&mut self) {
        // Stopping the iteration early stops the command. The run's future
        // is dropped on a tokio thread, which audits the cancelled run (the
        // audit event reaches Python's logging, taking the GIL there):
        // `cancel` waits for that without the GIL, so that it happens
        // before the program goes on (and maybe ends).
        if !self.run.is_done() {
            Python::attach(|py| self.run.cancel(py));
        }
    }
}

#[pymethods]
impl EventStream {
    /// The next event, pending (see `_Pending`).
    fn _next(&self) -> PyResult<crate::pending::Pending> {
        let receiver = self.receiver.clone();
        crate::pending::spawn(
            async move { crate::pending::Outcome::Event(receiver.lock().await.next().await) },
            None,
        )
    }
}

/// Checks and runs commands under a policy on a backend. (The package's
/// `Sandbox` is a subclass whose `run_async` is a coroutine function and
/// whose `stream` gives an asynchronous iterator, both built on
/// `_start_run`, `stream` and `_Pending`.)
#[pyclass(frozen, subclass, module = "sandboxcore")]
pub struct Sandbox {
    inner: RwLock<Option<sandboxcore::Sandbox>>,
    policy: Policy,
    /// The backend's name and what it enforces (fixed when it is created).
    backend: String,
    capabilities: Capabilities,
    /// An approver is set: runs from asyncio keep the caller's task locals
    /// (an `async def` approver runs on the caller's loop).
    has_approver: bool,
}

/// A backend's configuration from its keyword arguments (as JSON),
/// parsed by `sandboxcore::exec::BackendConfig::from_json`: the same
/// names, values and errors as in Node and the CLI (ValueError with
/// `code == "INVALID_ARGUMENT"`). Nothing is contacted.
fn backend_config(backend: &str, options: Option<&Bound<'_, PyDict>>) -> PyResult<BackendConfig> {
    let mut map = serde_json::Map::new();
    for (k, v) in options.into_iter().flat_map(|o| o.iter()) {
        let key: String = k.extract()?;
        let what = format!("{backend} backend option `{key}`");
        map.insert(key, crate::convert::python_to_value(&v, &what)?);
    }
    BackendConfig::from_json(backend, &serde_json::Value::Object(map))
        .map_err(|e| Python::attach(|py| to_py(py, e)))
}

/// Checks a backend's options as `Sandbox(backend=..., **options)` does,
/// without making the backend (no daemon or cluster is contacted): None,
/// or the ValueError the Sandbox would raise. For the tests of the options
/// table shared with Rust and Node.
#[pyfunction]
#[pyo3(signature = (backend, **options))]
pub fn _check_backend_options(backend: &str, options: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
    backend_config(backend, options).map(drop)
}

/// What a backend enforces, as a dict: `backend` and every field of
/// `sandboxcore::exec::Capabilities`.
fn capabilities_dict<'py>(
    py: Python<'py>,
    backend: &str,
    c: &Capabilities,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("backend", backend)?;
    set_fields(&d, c)?;
    Ok(d)
}

/// Every field of `c` as a dict (a run's `enforced`).
fn fields_dict<'py>(py: Python<'py>, c: &Capabilities) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    set_fields(&d, c)?;
    Ok(d)
}

/// Sets a bool in `d` for every field of `c`.
fn set_fields(d: &Bound<'_, PyDict>, c: &Capabilities) -> PyResult<()> {
    for (k, v) in c.fields() {
        d.set_item(k, v)?;
    }
    Ok(())
}

/// The executor for a backend's configuration: the Docker daemon and the
/// Kubernetes cluster are reached here (BackendUnavailable when they
/// cannot be).
fn executor(config: BackendConfig) -> PyResult<Arc<dyn Executor>> {
    let unavailable = |e: sandboxcore::Error| BackendUnavailable::new_err(e.to_string());
    Ok(match config {
        BackendConfig::Process(c) => Arc::new(ProcessExecutor::new(c).map_err(unavailable)?),
        BackendConfig::Docker(c) => Arc::new(
            pyo3_async_runtimes::tokio::get_runtime()
                .block_on(DockerExecutor::connect(c))
                .map_err(|e| match e {
                    sandboxcore::Error::InvalidInput(m) => PyValueError::new_err(m),
                    e => unavailable(e),
                })?,
        ),
        BackendConfig::Kubernetes(c) => Arc::new(
            pyo3_async_runtimes::tokio::get_runtime()
                .block_on(KubernetesExecutor::infer(c))
                .map_err(unavailable)?,
        ),
    })
}

/// The command line for a str, or the shell-quoted argv for a list (which
/// the classifier then plans as exactly that argv).
/// A str is a command line; a list of str is an argv, run as given with
/// no shell.
fn command_line(command: &Bound<'_, PyAny>) -> PyResult<sandboxcore::Command> {
    if let Ok(s) = command.cast::<PyString>() {
        return Ok(sandboxcore::Command::Line(s.extract::<String>()?));
    }
    if let Ok(list) = command.cast::<PyList>() {
        let argv: Vec<String> = list.extract()?;
        if argv.is_empty() {
            return Err(PyValueError::new_err("an empty argv cannot run"));
        }
        return Ok(sandboxcore::Command::Argv(argv));
    }
    Err(PyTypeError::new_err(
        "command must be a str or a list of str",
    ))
}

thread_local! {
    /// This thread's own event loop for process runs (built on first use).
    static LOCAL_RUNTIME: Option<tokio::runtime::Runtime> = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok();
}

/// Drives `fut` to completion on the calling thread. Process runs use the
/// thread's own current-thread runtime: their pipes and exit notification
/// are then watched by this thread, with no hand-off from the shared
/// runtime's worker threads (about 0.1 ms per run on a small machine).
/// The container backends keep the shared runtime, which owns their
/// clients' connections.
fn on_runtime<T>(backend: Option<&str>, fut: impl std::future::Future<Output = T>) -> T {
    let mut fut = std::pin::pin!(fut);
    if backend == Some("process") {
        let local = LOCAL_RUNTIME
            .try_with(|rt| rt.as_ref().map(|rt| rt.block_on(fut.as_mut())))
            .ok()
            .flatten();
        if let Some(out) = local {
            return out;
        }
    }
    pyo3_async_runtimes::tokio::get_runtime().block_on(fut)
}

/// Per-run keyword arguments.
#[derive(Default)]
struct RunArgs {
    timeout: Option<f64>,
    cwd: Option<PathBuf>,
    env: Option<BTreeMap<String, String>>,
    stdin: Option<Vec<u8>>,
    memory: Option<u64>,
    processes: Option<u64>,
    output_limit: Option<usize>,
    network: Network,
    labels: Option<BTreeMap<String, String>>,
    writable: Option<Vec<PathBuf>>,
    deny_read: Option<Vec<PathBuf>>,
}

impl RunArgs {
    fn options(self) -> PyResult<RunOptions> {
        let mut limits = Limits::default();
        if let Some(t) = self.timeout {
            limits.timeout = Limits::timeout_from("timeout", t, "seconds", 1.0)
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
        }
        if let Some(m) = self.memory {
            limits.memory = Some(m);
        }
        if let Some(p) = self.processes {
            // 0: no limit, as in the CLI and the Node binding.
            limits.processes = Limits::processes_from(p);
        }
        if let Some(o) = self.output_limit {
            limits.output_bytes = o;
        }
        Ok(RunOptions {
            cwd: self.cwd,
            env: self.env.unwrap_or_default(),
            stdin: self.stdin,
            limits: Some(limits),
            network: self.network,
            labels: self.labels.unwrap_or_default(),
            filesystem: FsAccess {
                writable: self.writable.unwrap_or_default(),
                deny_read: self.deny_read.unwrap_or_default(),
            },
        })
    }
}

/// The `network=` run option, read by core's parser (`Network::from_json`):
/// a bool, "full" or "none", a list of hosts, or a dict with `allow` and
/// `deny`.
fn network_option(value: Option<&Bound<'_, PyAny>>) -> PyResult<Network> {
    let Some(value) = value else {
        return Ok(Network::None);
    };
    let json = crate::convert::python_to_value(value, "run option `network`")?;
    Network::from_json(&json).map_err(|e| Python::attach(|py| to_py(py, e)))
}

fn stdin_bytes(stdin: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<u8>>> {
    let Some(v) = stdin else { return Ok(None) };
    if v.is_none() {
        return Ok(None);
    }
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(Some(s.extract::<String>()?.into_bytes()));
    }
    v.extract::<Vec<u8>>()
        .map(Some)
        .map_err(|_| PyTypeError::new_err("stdin must be bytes or str"))
}

impl Sandbox {
    /// The core sandbox, the command and the run options for a call.
    fn prepare(
        &self,
        command: &Bound<'_, PyAny>,
        args: RunArgs,
    ) -> PyResult<(sandboxcore::Sandbox, sandboxcore::Command, RunOptions)> {
        Ok((self.core()?, command_line(command)?, args.options()?))
    }

    fn core(&self) -> PyResult<sandboxcore::Sandbox> {
        self.inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| SandboxError::new_err("this Sandbox is closed"))
    }
}

#[pymethods]
impl Sandbox {
    /// A sandbox with `policy` (default: `Policy.for_mode("selfhosted")`
    /// with environment overrides) on `backend`. Process backend options
    /// (`sandboxcore::exec::ProcessOptions`; unknown names and bad values
    /// are ValueError): isolation ("required", "best-effort", "off"),
    /// writable, deny_read and protected (lists of paths), tmp_size
    /// (bytes), cwd_writable, run_as ("auto", "current" or (uid, gid)),
    /// cgroups ("auto", "required", "off"), network_isolation (same),
    /// kill_grace (seconds), inherit_env and allow_secrets (lists of
    /// names), shell. Docker and Kubernetes backend options: the names of
    /// `DockerOptions` and `KubernetesOptions` (image required); all are
    /// parsed by `sandboxcore::exec::BackendConfig::from_json` before a
    /// daemon or cluster is contacted. `approver`: a function (or `async def`) that gets
    /// the `Decision` of a command the policy asks about and returns True
    /// to run it (once), or a scope: "once", "session" (the decision's
    /// `proposed_rule` is kept by this sandbox: the command is not asked
    /// about again), "persist" (also written into `policy_file`; without
    /// one, kept for the session and the audit record says so) or "deny".
    /// One that raises or returns another string denies the command
    /// (ApprovalRequired, saying why), and the run's timeout bounds its
    /// answer. It
    /// also gets a `ConnectionRequest` (`kind == "connection"`) for a host
    /// a `require_approval` pattern names that an allowlist run connects
    /// to: True lets the connection through, False or raising refuses it
    /// (the client gets 403).
    #[new]
    #[pyo3(signature = (policy = None, backend = "process", *, audit_log = None, approver = None, policy_file = None, **backend_options))]
    fn new(
        policy: Option<PyRef<'_, Policy>>,
        backend: &str,
        audit_log: Option<PathBuf>,
        approver: Option<&Bound<'_, PyAny>>,
        policy_file: Option<PathBuf>,
        backend_options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Sandbox> {
        let policy = match policy {
            Some(p) => p.clone(),
            None => Policy {
                inner: Arc::new(
                    sandboxcore::Policy::load(None).map_err(crate::errors::policy_error)?,
                ),
            },
        };
        let executor = executor(backend_config(backend, backend_options)?)?;
        let backend = executor.name().to_string();
        let capabilities = executor.capabilities();
        let mut builder = sandboxcore::Sandbox::builder()
            .policy((*policy.inner).clone())
            .shared_executor(executor);
        let approver = approver.filter(|f| !f.is_none());
        if let Some(f) = approver {
            builder = builder.approver(crate::approver::PyApprover::new(f)?);
        }
        if let Some(path) = policy_file {
            builder = builder.policy_file(path);
        }
        if let Some(path) = audit_log {
            builder = builder.audit(AuditLog::with_jsonl(&path).map_err(|e| {
                SandboxError::new_err(format!("cannot open {}: {e}", path.display()))
            })?);
        }
        let inner = builder
            .build()
            .map_err(|e| Python::attach(|py| to_py(py, e)))?;
        Ok(Sandbox {
            inner: RwLock::new(Some(inner)),
            policy,
            backend,
            capabilities,
            has_approver: approver.is_some(),
        })
    }

    /// The policy in force.
    #[getter]
    fn policy(&self) -> Policy {
        self.policy.clone()
    }

    /// Decides on a command (audited and counted, not run).
    fn check(&self, py: Python<'_>, command: &Bound<'_, PyAny>) -> PyResult<Decision> {
        let sb = self.core()?;
        let command = command_line(command)?;
        Ok(Decision::from(
            py.detach(move || sb.check_command(&command)),
        ))
    }

    /// Checks and runs a command (str: a command line; list: an argv, no
    /// shell), releasing the GIL while it runs. Ctrl-C stops the command.
    /// `writable` and `deny_read` add directories the command may write and
    /// paths hidden from it, for this run only (process backend).
    /// `network`: False or "none" (the default: none), True or "full" (the
    /// backend's network), a list of hosts (`["pypi.org",
    /// "*.pythonhosted.org"]`) or `{"allow": [...], "deny": [...]}`: only
    /// those hosts, through the egress proxy that `HTTPS_PROXY` names
    /// (ValueError naming a bad entry, as `network.allow[1]`). The policy's
    /// `network:` section has the last word.
    #[pyo3(signature = (command, *, timeout = None, cwd = None, env = None, stdin = None, memory = None, processes = None, output_limit = None, network = None, labels = None, writable = None, deny_read = None))]
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        py: Python<'_>,
        command: &Bound<'_, PyAny>,
        timeout: Option<f64>,
        cwd: Option<PathBuf>,
        env: Option<BTreeMap<String, String>>,
        stdin: Option<&Bound<'_, PyAny>>,
        memory: Option<u64>,
        processes: Option<u64>,
        output_limit: Option<usize>,
        network: Option<&Bound<'_, PyAny>>,
        labels: Option<BTreeMap<String, String>>,
        writable: Option<Vec<PathBuf>>,
        deny_read: Option<Vec<PathBuf>>,
    ) -> PyResult<RunResult> {
        let (sb, line, options) = self.prepare(
            command,
            RunArgs {
                timeout,
                cwd,
                env,
                stdin: stdin_bytes(stdin)?,
                memory,
                processes,
                output_limit,
                network: network_option(network)?,
                labels,
                writable,
                deny_read,
            },
        )?;
        // The run is driven on this thread with the GIL released; every
        // 100 ms the GIL is taken back briefly to let Python handle signals
        // (Ctrl-C drops the run, which kills the command).
        let result = py.detach(|| {
            on_runtime(sb.backend(), async {
                let run = sb.run_command(line, options);
                tokio::pin!(run);
                loop {
                    tokio::select! {
                        r = &mut run => return Ok::<_, PyErr>(r),
                        _ = tokio::time::sleep(Duration::from_millis(100)) => {
                            Python::attach(|py| py.check_signals())?;
                        }
                    }
                }
            })
        })?;
        result.map(RunResult::from).map_err(|e| to_py(py, e))
    }

    /// Starts a run in the background for the package's coroutine
    /// `Sandbox.run_async` (the same arguments as `run`): a `_Pending`
    /// whose `result()` is the `RunResult`. Called on the event loop's
    /// thread (an `async def` approver runs on that loop).
    #[pyo3(signature = (command, *, timeout = None, cwd = None, env = None, stdin = None, memory = None, processes = None, output_limit = None, network = None, labels = None, writable = None, deny_read = None))]
    #[allow(clippy::too_many_arguments)]
    fn _start_run<'py>(
        &self,
        py: Python<'py>,
        command: &Bound<'py, PyAny>,
        timeout: Option<f64>,
        cwd: Option<PathBuf>,
        env: Option<BTreeMap<String, String>>,
        stdin: Option<&Bound<'py, PyAny>>,
        memory: Option<u64>,
        processes: Option<u64>,
        output_limit: Option<usize>,
        network: Option<&Bound<'py, PyAny>>,
        labels: Option<BTreeMap<String, String>>,
        writable: Option<Vec<PathBuf>>,
        deny_read: Option<Vec<PathBuf>>,
    ) -> PyResult<crate::pending::Pending> {
        let (sb, line, options) = self.prepare(
            command,
            RunArgs {
                timeout,
                cwd,
                env,
                stdin: stdin_bytes(stdin)?,
                memory,
                processes,
                output_limit,
                network: network_option(network)?,
                labels,
                writable,
                deny_read,
            },
        )?;
        // The caller's asyncio task locals, for an approver.
        let locals = if self.has_approver {
            pyo3_async_runtimes::tokio::get_current_locals(py).ok()
        } else {
            None
        };
        crate::pending::spawn(
            async move { crate::pending::Outcome::Run(sb.run_command(line, options).await) },
            locals,
        )
    }

    /// `async for kind, data in sandbox.stream(...)`: output as it comes.
    /// Stopping the iteration early stops the command.
    #[pyo3(signature = (command, *, timeout = None, cwd = None, env = None, stdin = None, memory = None, processes = None, output_limit = None, network = None, labels = None, writable = None, deny_read = None))]
    #[allow(clippy::too_many_arguments)]
    fn stream(
        &self,
        command: &Bound<'_, PyAny>,
        timeout: Option<f64>,
        cwd: Option<PathBuf>,
        env: Option<BTreeMap<String, String>>,
        stdin: Option<&Bound<'_, PyAny>>,
        memory: Option<u64>,
        processes: Option<u64>,
        output_limit: Option<usize>,
        network: Option<&Bound<'_, PyAny>>,
        labels: Option<BTreeMap<String, String>>,
        writable: Option<Vec<PathBuf>>,
        deny_read: Option<Vec<PathBuf>>,
    ) -> PyResult<EventStream> {
        let (sb, line, options) = self.prepare(
            command,
            RunArgs {
                timeout,
                cwd,
                env,
                stdin: stdin_bytes(stdin)?,
                memory,
                processes,
                output_limit,
                network: network_option(network)?,
                labels,
                writable,
                deny_read,
            },
        )?;
        let (tx, rx) = mpsc::channel(64);
        let (end_tx, end_rx) = tokio::sync::oneshot::channel();
        let run = crate::pending::spawn(
            async move {
                let result = sb.run_command_streaming(line, options, tx).await;
                let _ = end_tx.send(result.err());
                crate::pending::Outcome::Done
            },
            None,
        )?;
        Ok(EventStream {
            receiver: Arc::new(tokio::sync::Mutex::new(StreamEnd {
                events: rx,
                end: Some(end_rx),
            })),
            run,
        })
    }

    /// What the backend enforces: `backend` (its name) and a bool for each
    /// isolation property (network_isolation, read_only_root, seccomp, ...).
    fn capabilities<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        capabilities_dict(py, &self.backend, &self.capabilities)
    }

    /// The Prometheus text exposition of this sandbox's metrics.
    fn metrics(&self) -> PyResult<String> {
        Ok(self.core()?.metrics().encode())
    }

    /// Releases the backend's resources; the sandbox cannot run afterwards.
    fn close(&self) {
        self.inner.write().unwrap_or_else(|p| p.into_inner()).take();
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close();
        false
    }

    fn __repr__(&self) -> String {
        let backend = self
            .inner
            .read()
            .ok()
            .and_then(|g| g.as_ref().and_then(|s| s.backend().map(str::to_string)));
        match backend {
            Some(b) => format!("Sandbox(backend='{b}', policy={})", self.policy.__repr__()),
            None => "Sandbox(closed)".to_string(),
        }
    }
}
