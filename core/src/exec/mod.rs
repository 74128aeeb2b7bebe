//! The executor contract: what a backend is asked to run ([`ExecRequest`])
//! and what it reports ([`ExecOutcome`], and [`ExecEvent`]s while it runs).
//! Backends implement [`Executor`]; [`ProcessExecutor`] runs local processes.

#[cfg(feature = "docker")]
pub mod docker;
mod env;
#[cfg(feature = "kubernetes")]
pub mod kubernetes;
mod options;
mod output;
mod plan;
pub mod process;
mod reap;

pub use env::{is_secret_name, EnvConfig, DEFAULT_INHERIT, DEFAULT_PATH, SECRET_PATTERNS};
pub use options::BackendConfig;
pub use output::{marker as truncation_marker, BoundedOutput};
pub use plan::Plan;
pub use process::{
    CgroupMode, FilesystemConfig, Isolation, NetworkIsolation, ProcessConfig, ProcessExecutor,
    ProcessOptions, RunAs, FIRST_RUN_UID, RUN_UID_COUNT,
};
pub use reap::{Leftover, LeftoverKind, ReapReport};

use crate::Result;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

/// A new run id for container backends' names and labels: the time in
/// milliseconds, this process's id and a counter, in hex and decimal.
#[cfg(any(feature = "docker", feature = "kubernetes"))]
pub(crate) fn run_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!(
        "{:x}-{:x}-{}",
        t,
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    )
}

/// A boxed, sendable future (what [`Executor`] methods return, so the trait
/// can be used as `dyn Executor`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Resource limits for one run. `None` leaves a limit unset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time before the command is killed.
    pub timeout: Option<Duration>,
    /// CPU time.
    pub cpu_time: Option<Duration>,
    /// Memory, in bytes.
    pub memory: Option<u64>,
    /// Processes (and threads).
    pub processes: Option<u64>,
    /// Largest file the command may write, in bytes.
    pub file_size: Option<u64>,
    /// Open file descriptors.
    pub open_files: Option<u64>,
    /// Output kept per stream, in bytes (head and tail; the middle is
    /// dropped and marked).
    pub output_bytes: usize,
}

impl Limits {
    /// A timeout as the bindings and settings give it: `value` in a unit of
    /// `seconds_per_unit` seconds (`unit` names it in errors), positive;
    /// infinity means none. NaN, zero, negative values and values past
    /// what a [`Duration`] holds are [`Error::InvalidInput`](crate::Error)
    /// naming `option` (never a panic).
    pub fn timeout_from(
        option: &str,
        value: f64,
        unit: &str,
        seconds_per_unit: f64,
    ) -> crate::Result<Option<Duration>> {
        let invalid = |why: &str| {
            crate::Error::InvalidInput(format!(
                "{option} must be a positive number of {unit} (infinity for no timeout){why}, not {value}"
            ))
        };
        if value.is_nan() || value <= 0.0 {
            return Err(invalid(""));
        }
        if value.is_infinite() {
            return Ok(None);
        }
        Duration::try_from_secs_f64(value * seconds_per_unit)
            .map(Some)
            .map_err(|_| invalid(" small enough to be a duration"))
    }
}

impl Default for Limits {
    /// 60 s, 512 MiB, 256 processes, 1 GiB files, 1024 descriptors and
    /// 1 MiB of output per stream.
    fn default() -> Self {
        Limits {
            timeout: Some(Duration::from_secs(60)),
            cpu_time: None,
            memory: Some(512 << 20),
            processes: Some(256),
            file_size: Some(1 << 30),
            open_files: Some(1024),
            output_bytes: 1 << 20,
        }
    }
}

/// Network access for the command.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Network {
    /// No network (the default).
    #[default]
    None,
    /// Whatever network the backend provides.
    Allowed,
    /// Only the hosts the rules allow, through the library's egress proxy
    /// (`HTTP_PROXY` and friends are set for the command); nothing else is
    /// reachable, not even DNS. See [`crate::net`].
    Allowlist(std::sync::Arc<crate::net::Egress>),
}

impl Network {
    /// Through the egress proxy, with `rules` (names resolved by the
    /// host's resolver; a [`crate::Sandbox`] adds its approver, audit log
    /// and metrics).
    pub fn allowlist(rules: crate::net::EgressRules) -> Network {
        Network::Allowlist(std::sync::Arc::new(crate::net::Egress::new(rules)))
    }

    /// `none`, `allowed` or `allowlist` (audit and job labels).
    pub fn as_str(&self) -> &'static str {
        match self {
            Network::None => "none",
            Network::Allowed => "allowed",
            Network::Allowlist(_) => "allowlist",
        }
    }
}

/// What to run and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRequest {
    /// The command: an argv, or a script for `/bin/sh -c`.
    pub plan: Plan,
    /// Working directory (the backend's default when `None`).
    pub cwd: Option<PathBuf>,
    /// Extra environment variables, on top of the backend's scrubbed default.
    pub env: BTreeMap<String, String>,
    /// Standard input; `None` is `/dev/null`.
    pub stdin: Option<Vec<u8>>,
    /// Resource limits.
    pub limits: Limits,
    /// Network access.
    pub network: Network,
    /// Free-form labels, copied to audit events (`project`, `user`...).
    pub labels: BTreeMap<String, String>,
    /// Filesystem access for this run, on top of the backend's settings.
    pub filesystem: FsAccess,
}

/// Filesystem access for one run, added to the backend's own lists.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FsAccess {
    /// More writable directories.
    pub writable: Vec<PathBuf>,
    /// More paths hidden from the command.
    pub deny_read: Vec<PathBuf>,
}

impl ExecRequest {
    /// A request for `plan` with default limits, no network, no stdin.
    pub fn new(plan: Plan) -> ExecRequest {
        ExecRequest {
            plan,
            cwd: None,
            env: BTreeMap::new(),
            stdin: None,
            limits: Limits::default(),
            network: Network::None,
            labels: BTreeMap::new(),
            filesystem: FsAccess::default(),
        }
    }
}

/// CPU and memory used by a run, where the backend can know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResourceUsage {
    /// User CPU time.
    pub user_cpu: Duration,
    /// System CPU time.
    pub system_cpu: Duration,
    /// Peak resident memory, in bytes.
    pub max_rss: u64,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecOutcome {
    /// The exit code, when the command exited.
    pub exit_code: Option<i32>,
    /// The signal that terminated it, when it was killed.
    pub signal: Option<i32>,
    /// It was killed for exceeding the timeout.
    pub timed_out: bool,
    /// It was killed for exceeding the memory limit.
    pub oom_killed: bool,
    /// Standard output (head and tail when truncated).
    pub stdout: Vec<u8>,
    /// Standard error (head and tail when truncated).
    pub stderr: Vec<u8>,
    /// Bytes were dropped from the middle of stdout.
    pub stdout_truncated: bool,
    /// Bytes were dropped from the middle of stderr.
    pub stderr_truncated: bool,
    /// Wall-clock duration.
    pub duration: Duration,
    /// Resource usage, where known.
    pub usage: Option<ResourceUsage>,
    /// Isolation layers that were asked for but not applied (only under
    /// best-effort isolation; a required layer that is missing fails the
    /// run instead).
    pub isolation_skipped: Vec<String>,
    /// What was really enforced for this run: the backend's
    /// [`Executor::capabilities`] less what this run did not get (see
    /// [`Capabilities::for_run`]). Never true where `capabilities()` is
    /// false. `network_isolation` is false for a run with
    /// [`Network::Allowed`]; an allowlist run keeps it where the backend
    /// has it (its one way out is the egress proxy, which applies the
    /// rules). A limit the request left unset (`memory`, `processes`) is
    /// false. A command that did not start (not found) enforced nothing:
    /// all false.
    pub enforced: Capabilities,
}

impl ExecOutcome {
    /// Standard output as text (invalid UTF-8 replaced by U+FFFD; the
    /// bytes themselves are in `stdout`).
    pub fn stdout_text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.stdout)
    }

    /// Standard error as text (see [`ExecOutcome::stdout_text`]).
    pub fn stderr_text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.stderr)
    }

    /// Whether the command exited with status 0.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }

    /// How the command ended: [`RunStatus::Ok`], `Failed`, `Signal`,
    /// `Timeout` or `Oom` (a timeout or the memory limit first, then a
    /// signal, then the exit status).
    pub fn status(&self) -> RunStatus {
        if self.timed_out {
            RunStatus::Timeout
        } else if self.oom_killed {
            RunStatus::Oom
        } else if self.signal.is_some() {
            RunStatus::Signal
        } else if self.success() {
            RunStatus::Ok
        } else {
            RunStatus::Failed
        }
    }
}

/// How a run ended, as the audit log, the metrics and every front end name
/// it. An [`ExecOutcome`] is one of the first five; `Error` and
/// `Cancelled` are runs that have no outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RunStatus {
    /// Exit status 0.
    Ok,
    /// A non-zero exit status.
    Failed,
    /// Killed by a signal (not the timeout's or the memory limit's).
    Signal,
    /// Killed for exceeding the timeout.
    Timeout,
    /// Killed for exceeding the memory limit.
    Oom,
    /// The backend failed to run it ([`crate::Error`]).
    Error,
    /// The caller dropped the run before it ended (the command was
    /// stopped).
    Cancelled,
}

impl RunStatus {
    /// The status of a run's result.
    pub fn of(result: std::result::Result<&ExecOutcome, &crate::Error>) -> RunStatus {
        match result {
            Ok(o) => o.status(),
            Err(crate::Error::Cancelled { .. }) => RunStatus::Cancelled,
            Err(_) => RunStatus::Error,
        }
    }

    /// The one-word name: `ok`, `failed`, `signal`, `timeout`, `oom`,
    /// `error` or `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::Failed => "failed",
            RunStatus::Signal => "signal",
            RunStatus::Timeout => "timeout",
            RunStatus::Oom => "oom",
            RunStatus::Error => "error",
            RunStatus::Cancelled => "cancelled",
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for RunStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// What a backend enforces, so that no one claims more isolation than
/// there is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// The command cannot reach the network.
    pub network_isolation: bool,
    /// Memory is limited and exceeding it is reported.
    pub memory_limit: bool,
    /// The number of processes is limited.
    pub process_limit: bool,
    /// CPU is limited.
    pub cpu_limit: bool,
    /// The command sees its own filesystem, not the host's.
    pub filesystem_isolation: bool,
    /// Every process the command starts is killed when the run ends.
    pub kills_descendants: bool,
    /// The command runs in a user namespace of its own (the process
    /// backend when the caller is not root).
    pub user_namespace: bool,
    /// The command is PID 1 of a pid namespace of its own: it sees only its
    /// own processes, and nothing it starts outlives it.
    pub pid_namespace: bool,
    /// The host's filesystem is read-only for the command, but for the
    /// writable roots, a private `/tmp` and its `HOME`.
    pub read_only_root: bool,
    /// Deny-read paths are hidden from the command.
    pub deny_read: bool,
    /// Landlock restricts the command's writes (a second layer).
    pub landlock: bool,
    /// A seccomp filter denies the system calls that escape or weaken the
    /// sandbox (ptrace, mount, namespaces, bpf, ...).
    pub seccomp: bool,
    /// `no_new_privs` is set and every capability dropped: setuid and
    /// file capabilities give nothing.
    pub no_new_privs: bool,
    /// No descriptor of the host process but 0-2 reaches the command.
    pub closes_descriptors: bool,
}

impl Capabilities {
    /// Every field as `(snake_case name, value)`, in declaration order: the
    /// one list the bindings build their dictionaries and objects from.
    pub fn fields(&self) -> [(&'static str, bool); 14] {
        const NAMES: [&str; 14] = [
            "network_isolation",
            "memory_limit",
            "process_limit",
            "cpu_limit",
            "filesystem_isolation",
            "kills_descendants",
            "user_namespace",
            "pid_namespace",
            "read_only_root",
            "deny_read",
            "landlock",
            "seccomp",
            "no_new_privs",
            "closes_descriptors",
        ];
        let mut copy = *self;
        let values = copy.fields_mut();
        std::array::from_fn(|i| (NAMES[i], *values[i]))
    }

    /// Every field true (tests, and the start of an intersection).
    pub fn all() -> Capabilities {
        Capabilities {
            network_isolation: true,
            memory_limit: true,
            process_limit: true,
            cpu_limit: true,
            filesystem_isolation: true,
            kills_descendants: true,
            user_namespace: true,
            pid_namespace: true,
            read_only_root: true,
            deny_read: true,
            landlock: true,
            seccomp: true,
            no_new_privs: true,
            closes_descriptors: true,
        }
    }

    /// What both `self` and `other` have (each field and-ed).
    pub fn intersect(&self, other: &Capabilities) -> Capabilities {
        let mut both = *self;
        for (field, (_, theirs)) in both.fields_mut().into_iter().zip(other.fields()) {
            *field &= theirs;
        }
        both
    }

    /// The capabilities in force for one run of `request` on a backend
    /// that enforces `self` ([`Executor::capabilities`]), when the
    /// backend skipped the isolation layers `skipped` (as named in
    /// [`ExecOutcome::isolation_skipped`]). Only ever clears fields:
    ///
    /// - `network_isolation` when the request has [`Network::Allowed`]
    ///   (an allowlist run keeps it: the command has no network of its own
    ///   and its one way out is the egress proxy, which applies the rules);
    /// - `memory_limit` and `process_limit` when the request sets no memory
    ///   or process limit;
    /// - the fields a skipped layer provides: `seccomp`, `landlock`, or for
    ///   the namespaces (and what is built on them: the read-only view,
    ///   deny-read paths, the pid and network namespaces)
    ///   `user_namespace`, `pid_namespace`, `network_isolation`,
    ///   `read_only_root` and `deny_read`. A layer name this does not know
    ///   clears every isolation layer (nothing is claimed that may be
    ///   missing).
    ///
    /// A backend clears what depends on its own state for the run (the
    /// process backend: a run without its cgroup) before calling this.
    pub fn for_run(&self, request: &ExecRequest, skipped: &[String]) -> Capabilities {
        let mut c = *self;
        if request.network == Network::Allowed {
            c.network_isolation = false;
        }
        if request.limits.memory.is_none() {
            c.memory_limit = false;
        }
        if request.limits.processes.is_none() {
            c.process_limit = false;
        }
        for layer in skipped {
            c = c.without_layer(layer);
        }
        c
    }

    /// These capabilities less what the skipped isolation layer `layer`
    /// (a name from [`ExecOutcome::isolation_skipped`]) provides.
    pub fn without_layer(mut self, layer: &str) -> Capabilities {
        let starts = |prefix: &str| layer.starts_with(prefix);
        let namespaces = [
            skipped_layer::NAMESPACES,
            skipped_layer::USER_NAMESPACES,
            skipped_layer::VIEW,
            skipped_layer::ISOLATED_RUN,
        ];
        if starts(skipped_layer::SECCOMP) {
            self.seccomp = false;
        } else if starts(skipped_layer::LANDLOCK) {
            self.landlock = false;
        } else if namespaces.into_iter().any(starts) {
            self.clear_namespaces();
        } else {
            self.clear_namespaces();
            self.filesystem_isolation = false;
            self.landlock = false;
            self.seccomp = false;
            self.no_new_privs = false;
        }
        self
    }

    /// Clears what the run's namespaces provide.
    fn clear_namespaces(&mut self) {
        self.network_isolation = false;
        self.user_namespace = false;
        self.pid_namespace = false;
        self.read_only_root = false;
        self.deny_read = false;
    }

    /// Every field, mutable, in [`Capabilities::fields`]' order.
    fn fields_mut(&mut self) -> [&mut bool; 14] {
        let Capabilities {
            network_isolation,
            memory_limit,
            process_limit,
            cpu_limit,
            filesystem_isolation,
            kills_descendants,
            user_namespace,
            pid_namespace,
            read_only_root,
            deny_read,
            landlock,
            seccomp,
            no_new_privs,
            closes_descriptors,
        } = self;
        [
            network_isolation,
            memory_limit,
            process_limit,
            cpu_limit,
            filesystem_isolation,
            kills_descendants,
            user_namespace,
            pid_namespace,
            read_only_root,
            deny_read,
            landlock,
            seccomp,
            no_new_privs,
            closes_descriptors,
        ]
    }

    /// The field named `name` (false for a name that is not a field).
    pub fn get(&self, name: &str) -> bool {
        self.fields()
            .into_iter()
            .any(|(field, value)| field == name && value)
    }

    /// The names of the fields that are true, in [`Capabilities::fields`]'
    /// order (the audit record's `enforced`).
    pub fn names(&self) -> Vec<&'static str> {
        self.fields()
            .into_iter()
            .filter_map(|(name, value)| value.then_some(name))
            .collect()
    }
}

/// How the process backend names the isolation layers it skips (the start
/// of each [`ExecOutcome::isolation_skipped`] entry, followed by why):
/// [`Capabilities::without_layer`] reads them.
pub(crate) mod skipped_layer {
    /// The namespaces, as root.
    pub const NAMESPACES: &str = "namespaces";
    /// The user namespace (and the others in it), not root.
    pub const USER_NAMESPACES: &str = "user namespaces";
    /// seccomp.
    pub const SECCOMP: &str = "seccomp";
    /// Landlock.
    pub const LANDLOCK: &str = "Landlock";
    /// What is built on the namespaces.
    pub const VIEW: &str = "the read-only view of the host";
    /// The trial run with every layer failed.
    pub const ISOLATED_RUN: &str = "the isolated run";
}

/// What happens during a run, in order, for streaming consumers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecEvent {
    /// The command started (with its process id where there is one).
    Started {
        /// The process id (process backend).
        pid: Option<u32>,
    },
    /// A chunk of standard output, as it arrived.
    Stdout(bytes::Bytes),
    /// A chunk of standard error, as it arrived.
    Stderr(bytes::Bytes),
    /// The run ended; the same outcome the future resolves to.
    Exited(Box<ExecOutcome>),
}

/// The sending side of an event stream (bounded: a slow consumer slows the
/// command down rather than growing memory).
pub type EventSender = tokio::sync::mpsc::Sender<ExecEvent>;

/// Which backend an executor is (and an [`Error`](crate::Error) comes from).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum BackendKind {
    /// Local processes ([`ProcessExecutor`]).
    Process,
    /// Docker containers.
    Docker,
    /// Kubernetes Jobs.
    Kubernetes,
}

impl BackendKind {
    /// `process`, `docker` or `kubernetes`.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Process => "process",
            BackendKind::Docker => "docker",
            BackendKind::Kubernetes => "kubernetes",
        }
    }
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A backend that runs commands.
pub trait Executor: Send + Sync {
    /// Which backend this is.
    fn kind(&self) -> BackendKind;

    /// The backend's name, as audit records and metrics label runs
    /// (`process`, `docker`, `kubernetes`: the kind's name by default).
    fn name(&self) -> &str {
        self.kind().as_str()
    }

    /// What this backend enforces.
    fn capabilities(&self) -> Capabilities;

    /// Runs the request to completion, sending events to `events` as they
    /// happen (a closed receiver is fine). Dropping the future must stop the
    /// command and release everything it holds.
    fn execute_streaming(
        &self,
        request: ExecRequest,
        events: EventSender,
    ) -> BoxFuture<'_, Result<ExecOutcome>>;

    /// Runs the request to completion.
    fn execute(&self, request: ExecRequest) -> BoxFuture<'_, Result<ExecOutcome>> {
        let (events, _) = tokio::sync::mpsc::channel(1);
        self.execute_streaming(request, events)
    }

    /// Removes what earlier instances of this backend left behind when
    /// their process died (a crash, `SIGKILL`, an interpreter's exit):
    /// cgroups and home directories (process), containers and egress
    /// directories (Docker), finished or overdue Jobs (Kubernetes). Never
    /// touches what a live process owns. A backend starts such a pass in
    /// the background when it is made; this waits for that pass, makes one
    /// more, and reports what both removed. The default removes nothing.
    fn reap(&self) -> BoxFuture<'_, Result<ReapReport>> {
        Box::pin(async { Ok(ReapReport::default()) })
    }
}

#[cfg(test)]
mod limits_tests {
    use super::*;

    #[test]
    fn timeouts_from_numbers_are_checked_not_panics() {
        let t = |v: f64| Limits::timeout_from("timeout", v, "seconds", 1.0);
        assert_eq!(t(1.5).unwrap(), Some(Duration::from_millis(1500)));
        assert_eq!(t(f64::INFINITY).unwrap(), None);
        for bad in [
            0.0,
            -1.0,
            -0.0,
            f64::NAN,
            f64::NEG_INFINITY,
            1e20,
            1e300,
            f64::MAX,
        ] {
            let e = t(bad).unwrap_err().to_string();
            assert!(e.contains("timeout must be"), "{bad}: {e}");
        }
        let ms = Limits::timeout_from("timeoutMs", 1e30, "milliseconds", 1e-3);
        assert!(ms.unwrap_err().to_string().contains("timeoutMs"));
        assert_eq!(
            Limits::timeout_from("timeoutMs", 250.0, "milliseconds", 1e-3).unwrap(),
            Some(Duration::from_millis(250))
        );
    }
}

#[cfg(test)]
mod run_capabilities_tests {
    use super::*;

    fn request() -> ExecRequest {
        ExecRequest::new(Plan::Direct(vec!["true".into()]))
    }

    /// Some field patterns a backend may have.
    fn backends() -> Vec<Capabilities> {
        let mut every_other = Capabilities::default();
        for (i, field) in every_other.fields_mut().into_iter().enumerate() {
            *field = i % 2 == 0;
        }
        let mut the_rest = Capabilities::all();
        for (field, other) in the_rest.fields_mut().into_iter().zip(every_other.fields()) {
            *field = !other.1;
        }
        vec![
            Capabilities::all(),
            Capabilities::default(),
            every_other,
            the_rest,
        ]
    }

    #[test]
    fn a_default_request_keeps_what_the_backend_has() {
        for caps in backends() {
            assert_eq!(caps.for_run(&request(), &[]), caps);
        }
    }

    #[test]
    fn an_allowed_network_clears_network_isolation_and_an_allowlist_does_not() {
        let mut req = request();
        req.network = Network::Allowed;
        let c = Capabilities::all().for_run(&req, &[]);
        assert!(!c.network_isolation);
        assert_eq!(
            Capabilities {
                network_isolation: true,
                ..c
            },
            Capabilities::all(),
            "nothing else is cleared"
        );
        req.network = Network::allowlist(crate::net::EgressRules::default());
        assert!(Capabilities::all().for_run(&req, &[]).network_isolation);
        req.network = Network::None;
        assert!(Capabilities::all().for_run(&req, &[]).network_isolation);
    }

    #[test]
    fn limits_the_request_leaves_unset_are_not_enforced() {
        let mut req = request();
        req.limits.memory = None;
        let c = Capabilities::all().for_run(&req, &[]);
        assert!(!c.memory_limit && c.process_limit);
        req.limits.processes = None;
        let c = Capabilities::all().for_run(&req, &[]);
        assert!(!c.memory_limit && !c.process_limit && c.cpu_limit);
    }

    #[test]
    fn each_skipped_layer_clears_its_fields() {
        let run = |name: String| Capabilities::all().for_run(&request(), &[name]);
        let c = run(format!("{} (no filter here)", skipped_layer::SECCOMP));
        assert_eq!(c.names().len(), 13);
        assert!(!c.seccomp);
        let c = run(format!("{} (ABI 0)", skipped_layer::LANDLOCK));
        assert_eq!(c.names().len(), 13);
        assert!(!c.landlock);
        let namespaced = [
            "network_isolation",
            "user_namespace",
            "pid_namespace",
            "read_only_root",
            "deny_read",
        ];
        for layer in [
            skipped_layer::NAMESPACES,
            skipped_layer::USER_NAMESPACES,
            skipped_layer::VIEW,
            skipped_layer::ISOLATED_RUN,
        ] {
            let c = run(format!("{layer} (EPERM): how to enable it"));
            for (name, value) in c.fields() {
                assert_eq!(value, !namespaced.contains(&name), "{layer}: {name}");
            }
        }
        // A name this version does not know takes every isolation layer
        // away (the limits stay).
        let c = run("something new (missing)".into());
        assert_eq!(
            c.names(),
            [
                "memory_limit",
                "process_limit",
                "cpu_limit",
                "kills_descendants",
                "closes_descriptors"
            ]
        );
    }

    #[test]
    fn nothing_is_ever_more_than_the_backend_has() {
        let mut allowed = request();
        allowed.network = Network::Allowed;
        let mut unlimited = request();
        unlimited.limits.memory = None;
        unlimited.limits.processes = None;
        let skipped = [
            vec![],
            vec![format!("{} (x)", skipped_layer::SECCOMP)],
            vec!["unknown".to_string(), "Landlock (x)".to_string()],
        ];
        for caps in backends() {
            for req in [request(), allowed.clone(), unlimited.clone()] {
                for s in &skipped {
                    let run = caps.for_run(&req, s);
                    for ((name, has), (_, ran)) in caps.fields().into_iter().zip(run.fields()) {
                        assert!(
                            has || !ran,
                            "{name} claimed for a run but not by the backend"
                        );
                    }
                    assert_eq!(run.intersect(&caps), run);
                }
            }
        }
    }

    #[test]
    fn intersect_and_names_follow_the_fields() {
        let a = Capabilities {
            seccomp: true,
            landlock: true,
            ..Capabilities::default()
        };
        let b = Capabilities {
            seccomp: true,
            memory_limit: true,
            ..Capabilities::default()
        };
        assert_eq!(a.intersect(&b).names(), ["seccomp"]);
        assert_eq!(Capabilities::all().names().len(), 14);
        assert!(a.get("landlock") && !a.get("memory_limit") && !a.get("no_such_field"));
    }
}
