//! `Sandbox`: checks and runs commands under a policy on a backend.

use crate::error::{invalid, SandboxError};
use crate::policy::{Decision, Policy};
use crate::runtime::{runtime, spawn_cancellable};
use sandboxcore::exec::docker::{DockerExecutor, DockerOptions as CoreDockerOptions};
use sandboxcore::exec::kubernetes::{
    KubernetesExecutor, KubernetesOptions as CoreKubernetesOptions,
};
use sandboxcore::exec::{ExecOutcome, Executor, ProcessExecutor};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Options of the process backend (the embedded default). Every field is
/// optional; the names and values are those of the Python and Node
/// bindings (`docs/executors.md`), checked by the same code.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct ProcessOptions {
    /// `required` (the default), `best-effort` or `off`.
    #[uniffi(default = None)]
    pub isolation: Option<String>,
    /// More directories the command may write, for every run.
    #[uniffi(default = None)]
    pub writable: Option<Vec<String>>,
    /// More paths hidden from the command, added to the defaults.
    #[uniffi(default = None)]
    pub deny_read: Option<Vec<String>>,
    /// More paths kept read-only inside writable roots.
    #[uniffi(default = None)]
    pub protected: Option<Vec<String>>,
    /// Size in bytes of the private `/tmp`.
    #[uniffi(default = None)]
    pub tmp_size: Option<u64>,
    /// Whether the run's working directory is writable (default true).
    #[uniffi(default = None)]
    pub cwd_writable: Option<bool>,
    /// `auto`, `required` or `off`.
    #[uniffi(default = None)]
    pub cgroups: Option<String>,
    /// `auto`, `required` or `off`.
    #[uniffi(default = None)]
    pub network_isolation: Option<String>,
    /// Time between SIGTERM and SIGKILL when a run times out.
    #[uniffi(default = None)]
    pub kill_grace: Option<Duration>,
    /// Host variables inherited (names or globs; secrets never are).
    #[uniffi(default = None)]
    pub inherit_env: Option<Vec<String>>,
    /// Secret-looking names that may still be inherited.
    #[uniffi(default = None)]
    pub allow_secrets: Option<Vec<String>>,
    /// The shell for command lines that need one (default `/bin/sh`).
    #[uniffi(default = None)]
    pub shell: Option<String>,
}

impl ProcessOptions {
    /// The options as the JSON object core's parser takes (absent fields
    /// left out).
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                m.insert(k.to_string(), v);
            }
        };
        put("isolation", self.isolation.clone().map(Value::from));
        put("writable", self.writable.clone().map(Value::from));
        put("deny_read", self.deny_read.clone().map(Value::from));
        put("protected", self.protected.clone().map(Value::from));
        put("tmp_size", self.tmp_size.map(Value::from));
        put("cwd_writable", self.cwd_writable.map(Value::from));
        put("cgroups", self.cgroups.clone().map(Value::from));
        put(
            "network_isolation",
            self.network_isolation.clone().map(Value::from),
        );
        put(
            "kill_grace",
            self.kill_grace.map(|d| json!(d.as_secs_f64())),
        );
        put("inherit_env", self.inherit_env.clone().map(Value::from));
        put("allow_secrets", self.allow_secrets.clone().map(Value::from));
        put("shell", self.shell.clone().map(Value::from));
        Value::Object(m)
    }
}

/// Options of the Docker backend (`docs/docker.md`).
#[derive(Debug, Clone, uniffi::Record)]
pub struct DockerOptions {
    /// The image commands run in.
    pub image: String,
    /// The OCI runtime (`runsc` for gVisor).
    #[uniffi(default = None)]
    pub runtime: Option<String>,
    /// A Docker network for runs that may use the network.
    #[uniffi(default = None)]
    pub network: Option<String>,
    /// `HOST:CONTAINER[:ro]`, mounted as the workspace.
    #[uniffi(default = None)]
    pub workspace: Option<String>,
    /// The user inside (default `1000:1000`).
    #[uniffi(default = None)]
    pub user: Option<String>,
    /// Containers kept warm (default 0).
    #[uniffi(default = None)]
    pub pool_size: Option<u32>,
    /// CPUs per container.
    #[uniffi(default = None)]
    pub cpus: Option<f64>,
    /// Size in bytes of the container's `/tmp`.
    #[uniffi(default = None)]
    pub tmp_size: Option<u64>,
    /// Host variables inherited (names or globs; secrets never are).
    #[uniffi(default = None)]
    pub inherit_env: Option<Vec<String>>,
    /// Labels set on every container.
    #[uniffi(default = None)]
    pub labels: Option<HashMap<String, String>>,
}

/// Options of the Kubernetes backend (a hardened Job per command).
#[derive(Debug, Clone, uniffi::Record)]
pub struct KubernetesOptions {
    /// The image commands run in.
    pub image: String,
    /// The namespace of the Jobs (default `sandboxcore`; an RFC 1123
    /// label).
    #[uniffi(default = None)]
    pub namespace: Option<String>,
    /// A RuntimeClass (for example gVisor's).
    #[uniffi(default = None)]
    pub runtime_class: Option<String>,
}

/// The backend that runs permitted commands.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum Backend {
    /// Namespaces, a read-only host, Landlock, seccomp (the default).
    Process {
        /// Its options.
        options: ProcessOptions,
    },
    /// A hardened container per run.
    Docker {
        /// Its options.
        options: DockerOptions,
    },
    /// A hardened Job per run, on the cluster `kubectl` would use.
    Kubernetes {
        /// Its options.
        options: KubernetesOptions,
    },
}

/// How a sandbox is made.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SandboxConfig {
    /// The policy (default: the defaults of a self-hosted deployment).
    #[uniffi(default = None)]
    pub policy: Option<Arc<Policy>>,
    /// The backend (default: the process backend with its defaults).
    #[uniffi(default = None)]
    pub backend: Option<Backend>,
    /// A JSON-lines file every decision and run is appended to.
    #[uniffi(default = None)]
    pub audit_log: Option<String>,
    /// Who approves commands the policy asks about; without one they fail
    /// with `ApprovalRequired`.
    #[uniffi(default = None)]
    pub approver: Option<Arc<dyn Approver>>,
}

/// An approver's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Approval {
    /// Run the command (or let the connection through).
    Approve,
    /// Do not run it (the run fails with `ApprovalRequired`); for a
    /// connection, refuse it (the client gets 403).
    Refuse,
}

/// A connection an allowlist run's egress proxy holds until the approver
/// answers: a host a `require_approval` pattern names (asked once per host
/// and run).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ConnectionRequest {
    /// The host, normalised (lower-case, IDN as punycode), or an address.
    pub host: String,
    /// The port.
    pub port: u16,
    /// `http` for a proxied request; none for a tunnel (CONNECT, as for
    /// https).
    pub scheme: Option<String>,
    // The doc comments here become KDoc: no slash-star in them (Kotlin
    // nests block comments, so one would swallow the rest of the file).
    /// The `require_approval` rule that names the host
    /// (`require_approval[0]: *.example.com`).
    pub rule: String,
}

impl From<sandboxcore::net::ConnectionRequest> for ConnectionRequest {
    fn from(r: sandboxcore::net::ConnectionRequest) -> ConnectionRequest {
        ConnectionRequest {
            host: r.host,
            port: r.port,
            scheme: r.scheme,
            rule: r.rule,
        }
    }
}

/// Decides on commands the policy asks about, and on connections to hosts
/// a `require_approval` pattern names. Implemented in the host language;
/// called on a worker thread of the library, once per command that needs
/// approval and once per such host and run (it may block, for example on
/// a prompt). Foreign traits have no default methods: an approver that
/// only means to judge commands returns `Refuse` from
/// `approve_connection` (what core's default does).
#[uniffi::export(with_foreign)]
pub trait Approver: Send + Sync + std::fmt::Debug {
    /// The answer for this decision (its verdict is `Ask`).
    fn approve(&self, decision: Decision) -> Approval;

    /// The answer for a connection an allowlist run makes to a host a
    /// `require_approval` pattern names.
    fn approve_connection(&self, request: ConnectionRequest) -> Approval;
}

/// Adapts a foreign approver to core's.
struct ForeignApprover(Arc<dyn Approver>);

impl ForeignApprover {
    /// Calls the foreign approver off the runtime's workers (the call may
    /// block). A call that fails (the foreign method raised: uniffi
    /// panics, on that blocking thread) refuses, saying so.
    async fn ask(
        &self,
        call: impl FnOnce(&dyn Approver) -> Approval + Send + 'static,
    ) -> Result<bool, String> {
        let approver = self.0.clone();
        tokio::task::spawn_blocking(move || call(approver.as_ref()) == Approval::Approve)
            .await
            .map_err(|e| format!("the approver failed: {e}"))
    }
}

impl sandboxcore::Approver for ForeignApprover {
    fn approve<'a>(
        &'a self,
        decision: &'a sandboxcore::Decision,
    ) -> futures_util::future::BoxFuture<'a, bool> {
        let decision = Decision::from(decision.clone());
        Box::pin(async move {
            self.ask(move |a| a.approve(decision))
                .await
                .unwrap_or(false)
        })
    }

    fn approve_connection<'a>(
        &'a self,
        request: &'a sandboxcore::net::ConnectionRequest,
    ) -> futures_util::future::BoxFuture<'a, Result<bool, String>> {
        let request = ConnectionRequest::from(request.clone());
        Box::pin(self.ask(move |a| a.approve_connection(request)))
    }
}

/// Network access of a run. `Off` is core's `none` (not named `None`,
/// which Swift's `Optional.none` would shadow).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum NetworkAccess {
    /// No network (the default).
    Off,
    /// The backend's network, unfiltered.
    Full,
    /// Only these hosts, through the egress proxy that `HTTP_PROXY` and
    /// `HTTPS_PROXY` name (entries as in the policy's `network.allow`:
    /// `pypi.org`, `*.pythonhosted.org`, `pypi.org:443`, `10.0.0.0/8`);
    /// `deny` wins over `allow`.
    Allowlist {
        /// The hosts allowed.
        allow: Vec<String>,
        /// The hosts refused even when `allow` names them.
        deny: Vec<String>,
    },
}

impl NetworkAccess {
    /// The value of the `network` run option that core's parser reads.
    fn to_json(&self) -> Value {
        match self {
            NetworkAccess::Off => json!("none"),
            NetworkAccess::Full => json!("full"),
            NetworkAccess::Allowlist { allow, deny } => json!({ "allow": allow, "deny": deny }),
        }
    }
}

/// Options of one run. Every field has a default.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct RunOptions {
    /// Kill the command after this long (default: 60 s; see
    /// `docs/executors.md`).
    #[uniffi(default = None)]
    pub timeout: Option<Duration>,
    /// The working directory (writable; default: the backend's).
    #[uniffi(default = None)]
    pub cwd: Option<String>,
    /// Variables set for the command (on top of the filtered host
    /// environment).
    #[uniffi(default = None)]
    pub env: Option<HashMap<String, String>>,
    /// Bytes written to the command's standard input.
    #[uniffi(default = None)]
    pub stdin: Option<Vec<u8>>,
    /// Memory limit in bytes.
    #[uniffi(default = None)]
    pub memory: Option<u64>,
    /// Process limit (0: none).
    #[uniffi(default = None)]
    pub processes: Option<u64>,
    /// Bytes kept per output stream (the middle is dropped beyond it).
    #[uniffi(default = None)]
    pub output_limit: Option<u64>,
    /// Network access (default: none). A bad allowlist entry is
    /// `InvalidArgument` naming it (`network.allow[1]`). The policy's
    /// `network:` section has the last word.
    #[uniffi(default = None)]
    pub network: Option<NetworkAccess>,
    /// Labels copied to audit events.
    #[uniffi(default = None)]
    pub labels: Option<HashMap<String, String>>,
    /// More directories this run may write.
    #[uniffi(default = None)]
    pub writable: Option<Vec<String>>,
    /// More paths hidden from this run.
    #[uniffi(default = None)]
    pub deny_read: Option<Vec<String>>,
}

impl RunOptions {
    /// Core's run options, through core's parser (same checks and messages
    /// as the other bindings).
    fn into_core(self) -> Result<sandboxcore::RunOptions, SandboxError> {
        let mut m = Map::new();
        if let Some(t) = self.timeout {
            m.insert("timeout_ms".into(), json!(t.as_secs_f64() * 1000.0));
        }
        if let Some(v) = self.cwd {
            m.insert("cwd".into(), v.into());
        }
        if let Some(v) = self.env {
            m.insert("env".into(), json!(v));
        }
        if let Some(v) = self.memory {
            m.insert("memory".into(), v.into());
        }
        if let Some(v) = self.processes {
            m.insert("processes".into(), v.into());
        }
        if let Some(v) = self.output_limit {
            m.insert("output_limit".into(), v.into());
        }
        if let Some(v) = self.network {
            m.insert("network".into(), v.to_json());
        }
        if let Some(v) = self.labels {
            m.insert("labels".into(), json!(v));
        }
        if let Some(v) = self.writable {
            m.insert("writable".into(), v.into());
        }
        if let Some(v) = self.deny_read {
            m.insert("deny_read".into(), v.into());
        }
        let mut options = sandboxcore::RunOptions::from_json(&Value::Object(m))?;
        options.stdin = self.stdin;
        Ok(options)
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RunStatus {
    /// Exit status 0.
    Ok,
    /// A non-zero exit status.
    Failed,
    /// Killed by a signal.
    Signal,
    /// Killed for exceeding the timeout.
    Timeout,
    /// Killed for exceeding the memory limit.
    Oom,
}

/// The result of a run.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RunResult {
    /// How it ended.
    pub status: RunStatus,
    /// Exit status 0, not killed.
    pub ok: bool,
    /// The exit status; none when a signal killed it.
    pub exit_code: Option<i32>,
    /// The signal that killed it.
    pub signal: Option<i32>,
    /// Killed for exceeding the timeout.
    pub timed_out: bool,
    /// Killed for exceeding the memory limit.
    pub oom_killed: bool,
    /// Standard output as text (invalid UTF-8 replaced).
    pub stdout: String,
    /// Standard error as text (invalid UTF-8 replaced).
    pub stderr: String,
    /// Standard output, raw.
    pub stdout_bytes: Vec<u8>,
    /// Standard error, raw.
    pub stderr_bytes: Vec<u8>,
    /// Output was dropped from the middle of stdout (a marker says how much).
    pub stdout_truncated: bool,
    /// Output was dropped from the middle of stderr.
    pub stderr_truncated: bool,
    /// Wall-clock duration.
    pub duration: Duration,
    /// Isolation layers asked for but not applied (best-effort only).
    pub isolation_skipped: Vec<String>,
    /// What was really enforced for this run, by name (the names of
    /// `Sandbox::capabilities`): never true where that is false; false for
    /// what the run did not get (an allowed network, a limit not set, a
    /// skipped layer).
    pub enforced: HashMap<String, bool>,
}

/// Every field of `c` by its name.
fn capability_map(c: &sandboxcore::exec::Capabilities) -> HashMap<String, bool> {
    c.fields()
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect()
}

impl From<ExecOutcome> for RunResult {
    fn from(o: ExecOutcome) -> RunResult {
        use sandboxcore::exec::RunStatus as S;
        let status = match o.status() {
            S::Ok => RunStatus::Ok,
            S::Timeout => RunStatus::Timeout,
            S::Oom => RunStatus::Oom,
            S::Signal => RunStatus::Signal,
            // Failed (an outcome has no other status).
            _ => RunStatus::Failed,
        };
        RunResult {
            status,
            ok: status == RunStatus::Ok,
            exit_code: o.exit_code,
            signal: o.signal,
            timed_out: o.timed_out,
            oom_killed: o.oom_killed,
            stdout: o.stdout_text().into_owned(),
            stderr: o.stderr_text().into_owned(),
            stdout_truncated: o.stdout_truncated,
            stderr_truncated: o.stderr_truncated,
            duration: o.duration,
            isolation_skipped: o.isolation_skipped,
            enforced: capability_map(&o.enforced),
            stdout_bytes: o.stdout,
            stderr_bytes: o.stderr,
        }
    }
}

/// Checks and runs commands under a policy on a backend. Thread-safe;
/// share one per application.
#[derive(Debug, uniffi::Object)]
pub struct Sandbox {
    inner: sandboxcore::Sandbox,
    backend: String,
}

fn backend_unavailable(e: impl std::fmt::Display) -> SandboxError {
    SandboxError::BackendUnavailable {
        detail: e.to_string(),
    }
}

fn executor(backend: Backend) -> Result<Arc<dyn Executor>, SandboxError> {
    Ok(match backend {
        Backend::Process { options } => {
            let config = sandboxcore::exec::ProcessOptions::from_json(&options.to_json())?;
            Arc::new(ProcessExecutor::new(config).map_err(backend_unavailable)?)
        }
        Backend::Docker { options } => {
            let core = CoreDockerOptions {
                image: Some(options.image),
                runtime: options.runtime,
                network: options.network,
                workspace: options.workspace,
                user: options.user,
                pool_size: options.pool_size.map(|n| n as usize),
                cpus: options.cpus,
                tmp_size: options.tmp_size,
                inherit_env: options.inherit_env,
                labels: options.labels.map(|l| l.into_iter().collect()),
                ..CoreDockerOptions::default()
            };
            let config = core.into_config()?;
            Arc::new(
                runtime()?
                    .block_on(DockerExecutor::connect(config))
                    .map_err(|e| match e {
                        sandboxcore::Error::InvalidInput(m) => invalid(m),
                        e => backend_unavailable(e),
                    })?,
            )
        }
        Backend::Kubernetes { options } => {
            // Checked by core, as the other front ends' options are.
            let config = CoreKubernetesOptions {
                image: Some(options.image),
                namespace: options.namespace,
                runtime_class: options.runtime_class,
                ..CoreKubernetesOptions::default()
            }
            .into_config()?;
            Arc::new(
                runtime()?
                    .block_on(KubernetesExecutor::infer(config))
                    .map_err(backend_unavailable)?,
            )
        }
    })
}

#[uniffi::export]
impl Sandbox {
    /// A sandbox; see [`SandboxConfig`] for the defaults. Fails with
    /// `BackendUnavailable` when the backend cannot be used here (as the
    /// process backend under `isolation = "required"` on a host without
    /// user namespaces), `InvalidArgument` for a bad option.
    #[uniffi::constructor]
    pub fn new(config: SandboxConfig) -> Result<Arc<Sandbox>, SandboxError> {
        let executor = executor(config.backend.unwrap_or(Backend::Process {
            options: ProcessOptions::default(),
        }))?;
        let backend = executor.name().to_string();
        let mut builder = sandboxcore::Sandbox::builder().shared_executor(executor);
        if let Some(policy) = config.policy {
            builder = builder.policy((*policy.inner).clone());
        }
        if let Some(path) = config.audit_log {
            builder = builder.audit(
                sandboxcore::audit::AuditLog::with_jsonl(&PathBuf::from(&path))
                    .map_err(|e| invalid(format!("cannot open the audit log {path}: {e}")))?,
            );
        }
        if let Some(approver) = config.approver {
            builder = builder.approver(ForeignApprover(approver));
        }
        Ok(Arc::new(Sandbox {
            inner: builder.build()?,
            backend,
        }))
    }

    /// The backend's name: `process`, `docker` or `kubernetes`.
    pub fn backend(&self) -> String {
        self.backend.clone()
    }

    /// What the backend really enforces on this host, by name (the names
    /// of the Python and Node bindings' `capabilities()`).
    pub fn capabilities(&self) -> HashMap<String, bool> {
        self.inner
            .capabilities()
            .map(|c| capability_map(&c))
            .unwrap_or_default()
    }

    /// The policy's decision on a command line, without running it.
    pub fn check(&self, command: String) -> Decision {
        self.inner.check(&command).into()
    }

    /// Decides on `command` and runs it when permitted (asking the
    /// approver on `Ask`). A command that runs and fails is a result with
    /// `ok == false`, not an error. Cancelling the call (a cancelled
    /// coroutine or task) kills the command.
    pub async fn run(
        &self,
        command: String,
        options: RunOptions,
    ) -> Result<RunResult, SandboxError> {
        self.start(sandboxcore::Command::Line(command), options)?
            .await
    }

    /// [`Sandbox::run`] for an argv, run as given with no shell.
    pub async fn run_argv(
        &self,
        argv: Vec<String>,
        options: RunOptions,
    ) -> Result<RunResult, SandboxError> {
        if argv.is_empty() {
            return Err(invalid("an empty argv cannot run"));
        }
        self.start(sandboxcore::Command::Argv(argv), options)?.await
    }

    /// [`Sandbox::run`], blocking the calling thread (not for use on an
    /// event loop's thread).
    pub fn run_blocking(
        &self,
        command: String,
        options: RunOptions,
    ) -> Result<RunResult, SandboxError> {
        let run = self.start(sandboxcore::Command::Line(command), options)?;
        runtime()?.block_on(run)
    }
}

impl Sandbox {
    /// Starts the run on the library's runtime; the future resolves to its
    /// result and, dropped early, stops it.
    fn start(
        &self,
        command: sandboxcore::Command,
        options: RunOptions,
    ) -> Result<impl std::future::Future<Output = Result<RunResult, SandboxError>>, SandboxError>
    {
        let options = options.into_core()?;
        let sandbox = self.inner.clone();
        spawn_cancellable(async move {
            sandbox
                .run_command(command, options)
                .await
                .map(RunResult::from)
                .map_err(SandboxError::from)
        })
    }
}
