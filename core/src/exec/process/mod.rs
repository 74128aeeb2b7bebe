//! The process backend: runs commands as local processes, each in its own
//! session and process group and (where this process may create them) in
//! its own cgroups, with rlimits, a scrubbed environment, its own `HOME`,
//! an empty network namespace when run as root, and as an unprivileged user
//! when the caller is root. See `docs/executors.md`.
//!
//! Descendants are tracked with cgroups: a process cannot leave its cgroup,
//! so `setsid`, double forks and `nohup … &` are all found and killed at the
//! end of the run. (A child subreaper would make the host process — a
//! Python or Node interpreter — the parent of orphans it does not expect,
//! and a pid namespace needs privileges a library cannot assume.) Without
//! cgroups the process group is killed, which misses descendants that
//! start their own session; [`Capabilities::kills_descendants`] says which.

mod caller_home;
mod cgroup;
mod child;
mod exit_helper;
mod landlock;
mod mounts;
mod namespaces;
mod options;
mod raw;
mod seccomp;
mod slot;
mod users;

use self::cgroup::{CgroupRoots, RunCgroup};
use self::child::{ChildSetup, JoinNamespaces};
use self::mounts::{MountPlan, MountRequest};
pub use self::options::{ByteCount, ProcessOptions, RunAsOption};
use self::slot::{Slot, SlotPool, SlotSpec};
use self::users::UserSource;
pub use self::users::{FIRST_RUN_UID, RUN_UID_COUNT};
use super::reap::{self, FirstPass};
use super::{
    skipped_layer, BoundedOutput, BoxFuture, Capabilities, EnvConfig, EventSender, ExecEvent,
    ExecOutcome, ExecRequest, Executor, LeftoverKind, Network, ReapReport, ResourceUsage,
};
use crate::exec::Plan;
use crate::{BackendKind, Error, ExecErrorKind, Result};
use bytes::Bytes;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::pipe;

/// Which user the command runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RunAs {
    /// When the caller is root, a uid and gid of its own for each
    /// concurrent run (from [`FIRST_RUN_UID`], [`RUN_UID_COUNT`] of them),
    /// so runs cannot touch each other's processes or homes; else the
    /// caller.
    #[default]
    Auto,
    /// A uid (and gid of the same number) of its own for each concurrent
    /// run, from `first_uid..first_uid + count` (the caller must be root).
    PerRun {
        /// The first uid of the range.
        first_uid: u32,
        /// How many uids the range has.
        count: u32,
    },
    /// The caller's own user, even when it is root.
    Current,
    /// This uid and gid (the caller must be root).
    User {
        /// The user id.
        uid: u32,
        /// The group id.
        gid: u32,
    },
}

/// Whether cgroups are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CgroupMode {
    /// Use them when they can be created; otherwise run without.
    #[default]
    Auto,
    /// Fail the run when they cannot be created.
    Required,
    /// Never use them.
    Off,
}

/// Whether `Network::None` is enforced with a network namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NetworkIsolation {
    /// When the caller may create one (root); otherwise the command has the
    /// host's network (and [`Capabilities::network_isolation`] is false).
    #[default]
    Auto,
    /// Fail runs that ask for no network when it cannot be enforced.
    Required,
    /// Never isolate.
    Off,
}

/// How strictly the process backend isolates commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Isolation {
    /// Every layer (namespaces, read-only host, deny-read paths, seccomp,
    /// `no_new_privs`; Landlock where the kernel has it) or no run: the
    /// backend refuses to start when this host cannot provide them, with
    /// the missing kernel feature named.
    #[default]
    Required,
    /// The layers this host provides; the others are named in
    /// [`ExecOutcome::isolation_skipped`] (and the audit event).
    BestEffort,
    /// No isolation: a plain local process with limits and a scrubbed
    /// environment (the backend's behaviour before isolation existed).
    Off,
}

impl std::str::FromStr for Isolation {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Isolation, String> {
        match s {
            "required" => Ok(Isolation::Required),
            "best-effort" | "best_effort" => Ok(Isolation::BestEffort),
            "off" => Ok(Isolation::Off),
            other => Err(format!(
                "isolation must be \"required\", \"best-effort\" or \"off\", not {other:?}"
            )),
        }
    }
}

/// The home-relative paths hidden from commands by default.
pub const DEFAULT_DENY_READ_IN_HOME: [&str; 10] = [
    ".ssh",
    ".aws",
    ".gnupg",
    ".kube",
    ".docker",
    ".netrc",
    ".npmrc",
    ".pypirc",
    ".config/gcloud",
    ".config/gh",
];

/// Host paths hidden by default: sockets of daemons that would obey the
/// command (a read-only mount does not stop `connect` on a Unix socket).
pub const DEFAULT_DENY_READ: [&str; 5] = [
    "/run/docker.sock",
    "/var/run/docker.sock",
    "/run/containerd",
    "/run/podman",
    "/run/user",
];

/// Paths that stay read-only inside writable roots: what git and shells
/// would run later outside the sandbox.
pub const DEFAULT_PROTECTED: [&str; 10] = [
    ".git/hooks",
    ".git/config",
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".profile",
    ".zshrc",
    ".zprofile",
    ".zshenv",
    ".envrc",
];

/// The process backend's filesystem view (see `docs/executors.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilesystemConfig {
    /// The run's working directory is writable.
    pub cwd_writable: bool,
    /// More writable directories, for every run.
    pub writable: Vec<PathBuf>,
    /// Paths hidden from the command (an empty, unreadable directory or an
    /// empty file in their place). Missing paths are skipped.
    pub deny_read: Vec<PathBuf>,
    /// Paths kept read-only inside writable roots: relative ones are looked
    /// up in each writable root, absolute ones (such as the policy file)
    /// are used as they are.
    pub protected: Vec<PathBuf>,
    /// Size of the private `/tmp` (which holds `HOME`) and of `/dev/shm`.
    pub tmp_size: u64,
}

impl Default for FilesystemConfig {
    /// The working directory writable; the caller's credentials (see
    /// [`DEFAULT_DENY_READ_IN_HOME`], under `$HOME` and under the home of
    /// the caller's account in the user database) and daemon sockets
    /// hidden; [`DEFAULT_PROTECTED`]; 256 MiB of `/tmp`.
    fn default() -> Self {
        let mut deny_read: Vec<PathBuf> = DEFAULT_DENY_READ.iter().map(PathBuf::from).collect();
        for home in caller_home::caller_homes() {
            deny_read.extend(DEFAULT_DENY_READ_IN_HOME.iter().map(|p| home.join(p)));
        }
        FilesystemConfig {
            cwd_writable: true,
            writable: Vec::new(),
            deny_read,
            protected: DEFAULT_PROTECTED.iter().map(PathBuf::from).collect(),
            tmp_size: 256 << 20,
        }
    }
}

/// Settings of the process backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessConfig {
    /// How strictly commands are isolated.
    pub isolation: Isolation,
    /// The filesystem view of isolated runs.
    pub filesystem: FilesystemConfig,
    /// The user the command runs as.
    pub run_as: RunAs,
    /// Cgroup use.
    pub cgroups: CgroupMode,
    /// Network isolation.
    pub network: NetworkIsolation,
    /// Which variables are inherited from this process.
    pub env: EnvConfig,
    /// Time between SIGTERM and SIGKILL when a run times out.
    pub kill_grace: Duration,
    /// The shell for `Plan::Shell`.
    pub shell: PathBuf,
    /// Where per-run home directories are created (default: the temp dir).
    pub home_parent: Option<PathBuf>,
}

impl ProcessConfig {
    /// Where this configuration puts runs on the host: the cgroup roots
    /// (none with cgroups off) and the parent of run homes (the temp dir
    /// unless configured).
    fn host_places(&self) -> (CgroupRoots, PathBuf) {
        let roots = if self.cgroups == CgroupMode::Off {
            CgroupRoots::default()
        } else {
            CgroupRoots::detect()
        };
        let home_parent = self.home_parent.clone().unwrap_or_else(std::env::temp_dir);
        (roots, home_parent)
    }
}

impl Default for ProcessConfig {
    fn default() -> Self {
        ProcessConfig {
            isolation: Isolation::Required,
            filesystem: FilesystemConfig::default(),
            run_as: RunAs::Auto,
            cgroups: CgroupMode::Auto,
            network: NetworkIsolation::Auto,
            env: EnvConfig::default(),
            kill_grace: Duration::from_secs(2),
            shell: PathBuf::from("/bin/sh"),
            home_parent: None,
        }
    }
}

/// Runs commands as local processes.
#[derive(Debug, Clone)]
pub struct ProcessExecutor {
    config: ProcessConfig,
    slots: Arc<SlotPool>,
    /// The view the last run asked for: slots' inits are started ahead
    /// with it.
    expected_view: Arc<std::sync::Mutex<ViewKey>>,
    /// Runs started in a view built ahead.
    warm_starts: Arc<std::sync::atomic::AtomicU64>,
    is_root: bool,
    capabilities: Capabilities,
    layers: Layers,
    /// Where crashed processes' leftovers are looked for ([`Executor::reap`]).
    leftovers: Arc<Leftovers>,
    /// Made by [`ProcessExecutor::for_gc`]: runs nothing.
    gc_only: bool,
    /// Made by [`ProcessExecutor::for_one_run`] under
    /// [`Isolation::Required`]: the probe's trial run is deferred.
    deferred: Option<Arc<DeferredTrial>>,
}

/// Where the process backend looks for what crashed processes left, and
/// the pass started when the backend was made.
#[derive(Debug)]
struct Leftovers {
    roots: Arc<CgroupRoots>,
    home_parent: PathBuf,
    first: FirstPass,
}

/// Removes cgroups (`sandboxcore-PID-N`, killing what is in them) and home
/// directories (`sandboxcore-home-PID-...`) whose PID is gone.
fn sweep(roots: &CgroupRoots, home_parent: &Path) -> ReapReport {
    let mut report = ReapReport::default();
    for dir in cgroup::sweep_stale(roots) {
        report.push(LeftoverKind::Cgroup, dir.to_string_lossy());
    }
    for dir in slot::sweep_stale_homes(home_parent) {
        report.push(LeftoverKind::Home, dir.to_string_lossy());
    }
    report
}

/// The isolation layers this backend applies (found by probing the host).
#[derive(Debug, Clone, Default)]
struct Layers {
    /// User (when not root), network, mount, pid, ipc and uts namespaces
    /// with the read-only view of the host.
    namespaces: bool,
    landlock: bool,
    seccomp: Option<&'static seccomp::SeccompProgram>,
    no_new_privs: bool,
    /// Layers that were asked for and are missing (best effort only).
    skipped: Vec<String>,
}

/// `HOME` of an isolated run: a directory of its private `/tmp`.
pub const ISOLATED_HOME: &str = "/tmp/home";

/// What to do about missing user namespaces.
const USERNS_HINT: &str = "unprivileged user namespaces are not allowed here: enable them \
     (sysctl kernel.unprivileged_userns_clone=1 on Debian, \
     kernel.apparmor_restrict_unprivileged_userns=0 on Ubuntu 24.04 or later, \
     user.max_user_namespaces > 0; in a container, a seccomp or AppArmor profile that \
     allows them), run as root, or choose isolation best-effort or off";

/// Where the users of runs come from.
fn user_source(setting: RunAs, is_root: bool) -> UserSource {
    match setting {
        RunAs::Auto if is_root => {
            UserSource::per_run(FIRST_RUN_UID, RUN_UID_COUNT, users::default_claim_dir())
        }
        RunAs::PerRun { first_uid, count } => {
            UserSource::per_run(first_uid, count, users::default_claim_dir())
        }
        RunAs::User { uid, gid } => UserSource::Fixed(uid, gid),
        RunAs::Auto | RunAs::Current => UserSource::Caller,
    }
}
/// The oldest view built ahead that a run still takes (older ones are
/// rebuilt: the view is the host as it was when it was built, checked for
/// the paths it depends on, but not for everything).
const MAX_VIEW_AGE: Duration = Duration::from_secs(30);

/// Whether an init started ahead for view `built` serves a run that asks
/// for view `wanted`: the same view, not too old, and nothing it was made
/// from has changed since.
fn view_serves(built: &ViewKey, init: &child::WarmInit, wanted: &ViewKey) -> bool {
    built == wanted
        && init.age() < MAX_VIEW_AGE
        && init.mounts().is_some_and(MountPlan::still_current)
}

/// How long output is still read after every process of the run is gone.
const DRAIN: Duration = Duration::from_secs(2);

/// Finds which isolation layers this host provides: each is tried for
/// real (a namespace set is made, the seccomp filter compiled, Landlock's
/// ABI read), then a trial command runs with all of them.
/// The network namespace the trial used is handed on to the first run
/// when the trial left no trace in it. Without `trial` (see
/// [`ProcessExecutor::for_one_run`]) the trial is left to the caller: the
/// namespaces made to check they can be made, unused, serve the first run
/// whole.
fn probe_layers(
    config: &ProcessConfig,
    is_root: bool,
    trial: bool,
) -> (Layers, Vec<String>, slot::Seeds) {
    let mut layers = Layers::default();
    let mut missing = Vec::new();
    if config.isolation == Isolation::Off {
        return (layers, missing, slot::Seeds::default());
    }
    layers.no_new_privs = true;
    let mut prepared = None;
    // Without the trial, the namespaces serve the first run, and nothing
    // is handed on after it.
    match namespaces::prepare(!is_root, None, None, trial) {
        Ok(ns) => {
            layers.namespaces = true;
            prepared = Some(ns);
        }
        Err(e) => missing.push(namespaces_missing(&e, is_root)),
    }
    match seccomp::program() {
        Ok(p) => layers.seccomp = Some(p),
        Err(e) => missing.push(format!("{} ({e})", skipped_layer::SECCOMP)),
    }
    match landlock::abi() {
        Ok(_) => layers.landlock = true,
        // A second layer when the namespaces build the read-only view; the
        // only filesystem layer without them.
        Err(e) if !layers.namespaces => missing.push(format!("{} ({e})", skipped_layer::LANDLOCK)),
        Err(_) => {}
    }
    let mut seeds = slot::Seeds::default();
    match prepared {
        None => missing.push(format!(
            "{}, deny-read paths and the pid and network namespaces (they need the \
             namespaces above)",
            skipped_layer::VIEW
        )),
        Some(ns) if !trial => seeds.namespaces = Some(ns),
        Some(ns) => match trial_run(config, &layers, &ns) {
            Ok(()) => seeds.network = ns.into_untouched_network(),
            Err(e) => {
                // Everything exists but this host refuses a step (an
                // unusual mount, a restrictive LSM): say which.
                layers.namespaces = false;
                missing.push(format!("{} ({e})", skipped_layer::ISOLATED_RUN));
            }
        },
    }
    (layers, missing, seeds)
}

/// What a host that cannot make the run's namespaces lacks (and, not
/// root, how to enable user namespaces).
fn namespaces_missing(e: &io::Error, is_root: bool) -> String {
    if is_root {
        format!("{} ({e})", skipped_layer::NAMESPACES)
    } else {
        format!("{} ({e}): {USERNS_HINT}", skipped_layer::USER_NAMESPACES)
    }
}

/// The trial [`probe_layers`] leaves out for [`ProcessExecutor::for_one_run`],
/// run when a run cannot vouch for the layers: in namespaces of its own,
/// with `layers`. `Err` names what this host cannot provide, as the probe
/// would have.
fn deferred_trial(
    config: &ProcessConfig,
    layers: &Layers,
    is_root: bool,
) -> std::result::Result<(), String> {
    let ns = namespaces::prepare(!is_root, None, None, false)
        .map_err(|e| namespaces_missing(&e, is_root))?;
    trial_run(config, layers, &ns).map_err(|e| format!("{} ({e})", skipped_layer::ISOLATED_RUN))
}

/// The error of a backend under [`Isolation::Required`] on a host that
/// cannot provide the layers `missing` names.
fn isolation_unavailable(missing: &str) -> Error {
    Error::unavailable(
        BackendKind::Process,
        format!("isolation is required but this host cannot provide: {missing}"),
    )
}

/// The trial run of a backend made by [`ProcessExecutor::for_one_run`]:
/// left to its first run, which starts with every layer.
#[derive(Debug, Default)]
struct DeferredTrial {
    /// `Ok` once every layer is verified (a run started with all of them
    /// and its command ended normally, or the trial passed); `Err` with
    /// what this host cannot provide once the trial failed. Unset until
    /// then.
    verdict: std::sync::OnceLock<std::result::Result<(), String>>,
}

/// Runs `true` with every layer, without a workspace; `Ok` when there is
/// no `true` to run (the first real run reports any failure).
fn trial_run(
    config: &ProcessConfig,
    layers: &Layers,
    ns: &namespaces::PreparedNamespaces,
) -> io::Result<()> {
    let Some(program) = ["/usr/bin/true", "/bin/true"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    else {
        return Ok(());
    };
    let plan = MountPlan::new(&MountRequest {
        writable: &[],
        read_only: &[],
        deny_read: &config.filesystem.deny_read,
        protected: &[],
        tmp_size: 1 << 20,
        home: Path::new(ISOLATED_HOME),
        home_owner: None,
        idmap: None,
        caller_home: &[],
    })?;
    let landlock = if layers.landlock {
        landlock::RunRuleset::new(&[], &[]).map_err(io::Error::other)?
    } else {
        None
    };
    let program = CString::new(program).expect("no NUL");
    let spec = child::SpawnSpec {
        programs: vec![program.clone()],
        argv: vec![program],
        envp: Vec::new(),
        stdin_pipe: false,
        setup: ChildSetup {
            namespaces: Some(JoinNamespaces {
                user: ns.user.as_ref().map(AsRawFd::as_raw_fd),
                net: Some(ns.net.as_raw_fd()),
                ipc: ns.ipc.as_raw_fd(),
                uts: ns.uts.as_raw_fd(),
            }),
            mounts: Some(plan),
            cwd: CString::new("/").expect("no NUL"),
            no_new_privs: true,
            landlock,
            seccomp: layers.seccomp,
            // As root the trial keeps root: no per-run uid is claimed.
            ..ChildSetup::default()
        },
    };
    let child = child::spawn(spec)?;
    let (status, _) = child::wait4(child.pid)?;
    let status = child
        .init
        .as_ref()
        .and_then(|i| i.command_exit())
        .map_or(status, |(s, _)| s);
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "the trial command ended with status {status:#x}"
        )))
    }
}

/// What an isolated run's filesystem view and network are made from,
/// besides the executor's settings: equal keys give the same view, so an
/// init started ahead for one key serves any run with that key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ViewKey {
    writable: Vec<PathBuf>,
    read_only: Vec<PathBuf>,
    deny_read: Vec<PathBuf>,
    no_network: bool,
    /// The caller's `HOME` (a writable root may not contain it).
    caller_home: Vec<PathBuf>,
}

impl ViewKey {
    /// The key of a run with `cwd`, its request's filesystem access and
    /// network.
    fn new(
        config: &ProcessConfig,
        cwd: Option<&Path>,
        fs: &super::FsAccess,
        network: &Network,
    ) -> ViewKey {
        let c = &config.filesystem;
        let mut writable: Vec<PathBuf> = c.writable.clone();
        writable.extend(fs.writable.iter().cloned());
        if c.cwd_writable {
            writable.extend(cwd.map(Path::to_path_buf));
        }
        ViewKey {
            writable,
            // A working directory below the host's /tmp that is not
            // writable must still be there (read-only).
            read_only: cwd
                .filter(|_| !c.cwd_writable)
                .map(Path::to_path_buf)
                .into_iter()
                .collect(),
            deny_read: c.deny_read.iter().chain(&fs.deny_read).cloned().collect(),
            // An allowlist run joins the empty namespace too: the proxy
            // listens there.
            no_network: *network != Network::Allowed && config.network != NetworkIsolation::Off,
            caller_home: caller_home::caller_homes(),
        }
    }
}

/// Plans an isolated run's view for `key` (run as `run_as`, writable roots
/// idmapped through `idmap`).
fn plan_view(
    config: &ProcessConfig,
    key: &ViewKey,
    run_as: Option<(u32, u32)>,
    idmap: Option<std::os::fd::RawFd>,
) -> io::Result<MountPlan> {
    MountPlan::new(&MountRequest {
        writable: &key.writable,
        read_only: &key.read_only,
        deny_read: &key.deny_read,
        protected: &config.filesystem.protected,
        tmp_size: config.filesystem.tmp_size,
        home: Path::new(ISOLATED_HOME),
        home_owner: run_as,
        idmap,
        caller_home: &key.caller_home,
    })
}

/// The Landlock ruleset for writes beneath `roots` (but `/`) and the
/// devices of the view.
fn write_ruleset(mut roots: Vec<PathBuf>) -> io::Result<Option<landlock::RunRuleset>> {
    roots.retain(|p| p != Path::new("/"));
    let root_refs: Vec<&Path> = roots.iter().map(PathBuf::as_path).collect();
    let devices: Vec<PathBuf> = mounts::DEVICES
        .iter()
        .map(|d| Path::new("/dev").join(d))
        .collect();
    let device_refs: Vec<&Path> = devices.iter().map(PathBuf::as_path).collect();
    landlock::RunRuleset::new(&root_refs, &device_refs)
        .map_err(|e| io::Error::other(format!("cannot build the Landlock ruleset: {e}")))
}

/// The writable roots of a planned view, as paths.
fn planned_roots(plan: &MountPlan) -> Vec<PathBuf> {
    plan.writable()
        .map(|c| PathBuf::from(std::ffi::OsStr::from_bytes(c.to_bytes())))
        .collect()
}

/// The joins of an isolated run into its slot's namespaces.
fn join_namespaces(ns: &namespaces::PreparedNamespaces, no_network: bool) -> JoinNamespaces {
    JoinNamespaces {
        user: ns.user.as_ref().map(AsRawFd::as_raw_fd),
        net: no_network.then(|| ns.net.as_raw_fd()),
        ipc: ns.ipc.as_raw_fd(),
        uts: ns.uts.as_raw_fd(),
    }
}

/// Starts inits ahead for the key runs last asked for (`expected`).
fn warm_maker(
    config: ProcessConfig,
    layers: Layers,
    expected: Arc<std::sync::Mutex<ViewKey>>,
) -> slot::WarmMaker {
    Arc::new(move |slot: &Slot| {
        let key = expected.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let ns = slot.namespaces.as_ref()?;
        let run_as = slot.user.as_ref().map(|u| (u.uid, u.gid));
        let plan = plan_view(
            &config,
            &key,
            run_as,
            ns.idmap.as_ref().map(AsRawFd::as_raw_fd),
        )
        .ok()?;
        let landlock = if layers.landlock {
            write_ruleset(planned_roots(&plan)).ok()?
        } else {
            None
        };
        let setup = ChildSetup {
            cgroup_procs: slot
                .cgroup
                .as_ref()
                .map(|c| c.procs_fds())
                .unwrap_or_default(),
            namespaces: Some(join_namespaces(ns, key.no_network)),
            mounts: Some(plan),
            landlock,
            no_new_privs: layers.no_new_privs,
            seccomp: layers.seccomp,
            ..ChildSetup::default()
        };
        child::prepare_warm(setup).ok().map(|w| (key, w))
    })
}

impl ProcessExecutor {
    /// A backend with these settings. Probes which isolation layers this
    /// host provides: under [`Isolation::Required`] (the default) a missing
    /// one is [`Error::BackendUnavailable`] naming it and how to enable it.
    /// Detects this process's cgroups, and starts removing, in the
    /// background, the cgroups and home directories that crashed processes
    /// left ([`Executor::reap`] waits for that).
    pub fn new(config: ProcessConfig) -> Result<ProcessExecutor> {
        ProcessExecutor::make(config, false)
    }

    /// A backend for a process that makes one run (the CLI's `run`): as
    /// [`ProcessExecutor::new`], but no slot is made ahead (no view is
    /// built in the background for a next run), and under
    /// [`Isolation::Required`] the probe's trial run (a full isolated run
    /// of `true`) is left to the first run, which starts with every layer
    /// anyway. What the probe checks without running anything (the
    /// namespaces can be made, the seccomp filter compiles, Landlock's
    /// ABI) is still checked here. A layer the host refuses during that
    /// run is the same [`Error::BackendUnavailable`] the probe gives:
    /// when the run's command cannot start, or ends by a signal or with
    /// status 126 or 127, the trial runs then and decides between the
    /// host and the command. [`Executor::capabilities`] claims no layer
    /// that is not verified: asked before a run has verified them, it runs
    /// the trial first. Under best-effort isolation the trial runs here,
    /// as in `new` (the layers a run gets must be known before it
    /// starts).
    pub fn for_one_run(config: ProcessConfig) -> Result<ProcessExecutor> {
        ProcessExecutor::make(config, true)
    }

    /// For a process that ends after its runs (`sandboxcore run`): when an
    /// isolated run ends with every process of it gone, the kernel's
    /// teardown of its namespaces and mount view (RCU grace periods, about
    /// a millisecond) is left to a helper process that shares this
    /// process's memory and holds copies of those descriptors until this
    /// process has exited, so that whoever waits for this process does not
    /// wait for it. The helper closes its copies of every other descriptor
    /// at once (standard streams, pipes, other runs' descriptors). The
    /// run's cgroups and home are removed by this process as before. Each
    /// run starts a helper that lives as long as this process: not for a
    /// process that goes on.
    pub fn teardown_after_exit(&self) {
        self.slots.teardown_after_exit();
    }

    fn make(config: ProcessConfig, one_run: bool) -> Result<ProcessExecutor> {
        // SAFETY: geteuid has no preconditions.
        let is_root = unsafe { libc::geteuid() } == 0;
        let defer = one_run && config.isolation == Isolation::Required;
        // One probe tells which limits the cgroups can enforce here (the
        // cgroup then serves the first run). It is made beside the
        // isolation probe, which waits on the kernel for most of its time
        // (a network namespace): a one-shot CLI starts sooner.
        let cgroup_probe = || {
            let (roots, home_parent) = config.host_places();
            let probe = RunCgroup::create(&roots).ok().filter(|p| {
                let usable = p
                    .clone()
                    .set_limits(Some(u64::MAX >> 2), Some(1 << 20))
                    .is_ok();
                if !usable {
                    p.remove();
                }
                usable
            });
            (roots, home_parent, probe)
        };
        let ((mut layers, missing, seeds), (roots, home_parent, probe)) = std::thread::scope(|s| {
            let beside = std::thread::Builder::new()
                .name("sandboxcore-probe".into())
                .spawn_scoped(s, cgroup_probe);
            let layers = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                probe_layers(&config, is_root, !defer)
            }));
            let cgroups = match beside {
                Ok(handle) => handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                // No thread to be had: one after the other.
                Err(_) => cgroup_probe(),
            };
            match layers {
                Ok(layers) => (layers, cgroups),
                Err(panic) => {
                    // Not left behind by a panic of the other probe.
                    if let Some(p) = &cgroups.2 {
                        p.remove();
                    }
                    std::panic::resume_unwind(panic)
                }
            }
        });
        let refuse = |e: Error| {
            if let Some(p) = &probe {
                p.remove();
            }
            Err(e)
        };
        if !missing.is_empty() {
            if config.isolation == Isolation::Required {
                return refuse(isolation_unavailable(&missing.join("; ")));
            }
            layers.skipped = missing;
        }
        if config.network == NetworkIsolation::Required && !layers.namespaces {
            return refuse(Error::unavailable(
                BackendKind::Process,
                "network isolation is required but needs the run's namespaces \
                 (isolation required or best-effort, with user namespaces or root)",
            ));
        }
        if config.cgroups == CgroupMode::Required && probe.is_none() {
            return Err(fail(
                ExecErrorKind::Limits,
                "cgroups are required but none can be created beneath this process's cgroups",
            ));
        }
        let (memory, pids) = probe
            .as_ref()
            .map_or((false, false), |p| (p.limits_memory(), p.limits_pids()));
        let ns = layers.namespaces;
        let capabilities = Capabilities {
            network_isolation: ns && config.network != NetworkIsolation::Off,
            memory_limit: memory,
            // RLIMIT_NPROC counts the run's own processes only in its own
            // user namespace or under a per-run uid.
            process_limit: pids || ns,
            cpu_limit: true,
            // The host stays readable (read-only): not a filesystem of its own.
            filesystem_isolation: false,
            kills_descendants: probe.is_some() || ns,
            user_namespace: ns && !is_root,
            pid_namespace: ns,
            read_only_root: ns,
            deny_read: ns,
            landlock: layers.landlock,
            seccomp: layers.seccomp.is_some(),
            no_new_privs: layers.no_new_privs,
            closes_descriptors: true,
        };
        let expected_view = Arc::new(std::sync::Mutex::new(ViewKey::new(
            &config,
            None,
            &super::FsAccess::default(),
            &Network::None,
        )));
        let use_cgroups = probe.is_some();
        let roots = Arc::new(roots);
        // What crashed processes left behind is removed in the background,
        // first thing on the slots' thread.
        let (done, first) = FirstPass::new();
        let leftovers = Arc::new(Leftovers {
            roots: roots.clone(),
            home_parent: home_parent.clone(),
            first,
        });
        let first_sweep = {
            let (roots, home_parent) = (roots.clone(), home_parent.clone());
            move || {
                let _ = done.send(Ok(sweep(&roots, &home_parent)));
            }
        };
        let slots = SlotPool::new(
            SlotSpec {
                roots,
                home_parent,
                users: Arc::new(user_source(config.run_as, is_root)),
                namespaces: ns.then_some(!is_root),
                // One run: its slot is made when it starts.
                warm: (ns && !one_run)
                    .then(|| warm_maker(config.clone(), layers.clone(), expected_view.clone())),
                ready: if one_run { 0 } else { slot::READY },
                hand_on_networks: !one_run,
            },
            use_cgroups,
            slot::Seeds {
                cgroup: probe,
                first: Some(Box::new(first_sweep)),
                ..seeds
            },
        );
        Ok(ProcessExecutor {
            config,
            slots,
            expected_view,
            warm_starts: Arc::default(),
            is_root,
            capabilities,
            layers,
            leftovers,
            gc_only: false,
            deferred: (defer && ns).then(Arc::default),
        })
    }

    /// A backend that only cleans up (`sandboxcore gc`): [`Executor::reap`]
    /// removes what crashed processes left beneath this process's cgroups
    /// and in `config.home_parent`, as a backend made by
    /// [`ProcessExecutor::new`] does, but nothing is probed, created or
    /// kept ready (it leaves nothing of its own), and every run is refused
    /// with [`Error::InvalidInput`].
    pub fn for_gc(config: ProcessConfig) -> ProcessExecutor {
        let (roots, home_parent) = config.host_places();
        let roots = Arc::new(roots);
        let leftovers = Arc::new(Leftovers {
            roots: roots.clone(),
            home_parent: home_parent.clone(),
            first: FirstPass::none(),
        });
        let expected_view = Arc::new(std::sync::Mutex::new(ViewKey::new(
            &config,
            None,
            &super::FsAccess::default(),
            &Network::None,
        )));
        let slots = SlotPool::new(
            SlotSpec {
                roots,
                home_parent,
                users: Arc::new(UserSource::Caller),
                namespaces: None,
                warm: None,
                ready: 0,
                hand_on_networks: false,
            },
            false,
            slot::Seeds::default(),
        );
        ProcessExecutor {
            config,
            slots,
            expected_view,
            warm_starts: Arc::default(),
            // SAFETY: geteuid has no preconditions.
            is_root: unsafe { libc::geteuid() } == 0,
            capabilities: Capabilities::default(),
            layers: Layers::default(),
            leftovers,
            gc_only: true,
            deferred: None,
        }
    }

    /// How many runs started in a filesystem view built ahead of them (an
    /// init started by the background thread for the view the previous
    /// run asked for). Diagnostics and tests.
    pub fn warm_starts(&self) -> u64 {
        self.warm_starts.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether a view built ahead for `req` is ready now (tests: to make
    /// sure a run takes that path).
    #[doc(hidden)]
    pub fn view_ready_for(&self, req: &ExecRequest) -> bool {
        let key = ViewKey::new(
            &self.config,
            req.cwd.as_deref(),
            &req.filesystem,
            &req.network,
        );
        self.layers.namespaces && self.slots.next_warm(|k, w| view_serves(k, w, &key))
    }

    /// What is enforced for a run of `req` in a slot with `cgroup` (none
    /// when it could not be made), `isolated` (in the slot's namespaces)
    /// and with a uid (or user namespace) of its own (`own_uid`): the
    /// backend's capabilities less the memory limit without a memory
    /// cgroup (an address-space rlimit limits, but nothing reports), the
    /// process limit with neither a pids cgroup nor an own uid, the CPU
    /// limit without a CPU time limit, killing descendants with neither a
    /// cgroup nor a pid namespace; then [`Capabilities::for_run`].
    fn enforced(
        &self,
        req: &ExecRequest,
        cgroup: Option<&RunCgroup>,
        isolated: bool,
        own_uid: bool,
    ) -> Capabilities {
        let slot = Capabilities {
            memory_limit: cgroup.is_some_and(RunCgroup::limits_memory),
            process_limit: cgroup.is_some_and(RunCgroup::limits_pids) || own_uid,
            cpu_limit: req.limits.cpu_time.is_some(),
            kills_descendants: cgroup.is_some() || isolated,
            ..Capabilities::all()
        };
        self.capabilities
            .intersect(&slot)
            .for_run(req, &self.layers.skipped)
    }

    /// The isolation layers that were asked for but are not applied on
    /// this host (empty unless [`Isolation::BestEffort`]).
    pub fn skipped_layers(&self) -> &[String] {
        &self.layers.skipped
    }

    /// The program and its arguments for a plan (a script runs with the
    /// configured shell's `-c`).
    fn command_of(&self, plan: &Plan) -> Result<(PathBuf, Vec<String>)> {
        match plan {
            Plan::Direct(argv) => match argv.split_first() {
                Some((p, rest)) => Ok((PathBuf::from(p), rest.to_vec())),
                None => Err(Error::InvalidInput("an empty argv cannot run".into())),
            },
            Plan::Shell(script) => {
                Ok((self.config.shell.clone(), vec!["-c".into(), script.clone()]))
            }
        }
    }

    /// The init started ahead in the run's slot, if it serves this run: it
    /// was started for this view, not too long ago, and nothing the view
    /// was made from has changed since (else it is discarded). Notes `key`
    /// as the view to build ahead for the next run.
    fn take_warm_view(&self, guard: &mut Cleanup, key: &ViewKey) -> Option<child::WarmInit> {
        let warm = match guard.slot.as_mut().and_then(|s| s.warm.take()) {
            Some((k, w)) if view_serves(&k, &w, key) => Some(w),
            Some((_, w)) => {
                let old = guard.slot.as_mut().and_then(|s| s.mount_namespace.take());
                self.slots.discard(w, old);
                None
            }
            None => None,
        };
        if self.layers.namespaces {
            let mut expected = self.expected_view.lock().unwrap_or_else(|p| p.into_inner());
            if *expected != *key {
                *expected = key.clone();
            }
        }
        warm
    }

    /// Reads the run's output (bounded, streamed as events) while waiting
    /// for its main process (killed at `timeout`), then kills whatever it
    /// left and drains the output for at most [`DRAIN`]. Returns its wait
    /// status and whether the timeout struck.
    async fn supervise_run(
        &self,
        pid: libc::pid_t,
        timeout: Option<Duration>,
        (stdout, stderr): (pipe::Receiver, pipe::Receiver),
        (out, err): (&mut BoundedOutput, &mut BoundedOutput),
        events: &EventSender,
        guard: &Cleanup,
    ) -> (io::Result<(libc::c_int, libc::rusage)>, bool) {
        let waiter = child::wait_exit(pid);
        let reading = read_both(stdout, stderr, out, err, events);
        tokio::pin!(reading);
        let supervising = supervise(waiter, timeout, self.config.kill_grace, guard);
        tokio::pin!(supervising);
        let mut read_done = false;
        let result = loop {
            tokio::select! {
                _ = &mut reading, if !read_done => read_done = true,
                r = &mut supervising => break r,
            }
        };
        // The main process is gone: nothing it started may outlive it.
        guard.kill_everything().await;
        if !read_done {
            let _ = tokio::time::timeout(DRAIN, &mut reading).await;
        }
        result
    }

    /// Takes the next prepared slot (user, home, cgroups, namespaces) into
    /// the guard that returns or removes it when the run ends; with the
    /// uid and gid the command runs as. Missing cgroups are an error when
    /// they are required.
    fn take_slot(&self) -> Result<(Cleanup, Option<(u32, u32)>)> {
        let (slot, cgroup_error) = self.slots.take().map_err(|e| {
            fail_from(
                ExecErrorKind::Setup,
                "cannot prepare the run's user and home directory",
                e,
            )
        })?;
        let run_as = slot.user.as_ref().map(|u| (u.uid, u.gid));
        if let (CgroupMode::Required, Some(e)) = (self.config.cgroups, cgroup_error) {
            return Err(fail_from(
                ExecErrorKind::Limits,
                "cannot create the run's cgroups",
                e,
            ));
        }
        let guard = Cleanup {
            pid: None,
            init: None,
            slot: Some(slot),
            pool: self.slots.clone(),
            finished: false,
        };
        Ok((guard, run_as))
    }

    /// Starts the command: in the init started ahead with the run's view
    /// when there is one (`warm`), else in a view built now — also when
    /// the init started ahead is gone. Says whether it started warm; the
    /// outer error is a view that could not be built, the inner one a
    /// command that could not start.
    fn start_child(
        &self,
        warm: Option<child::WarmInit>,
        spec: child::SpawnSpec,
        guard: &Cleanup,
        key: &ViewKey,
        run_as: Option<(u32, u32)>,
        home: &Path,
    ) -> Result<(std::io::Result<child::Spawned>, bool)> {
        let mut warmed = warm.is_some();
        let started_warm = match warm {
            Some(w) => child::spawn_warm(w, spec),
            None => Err(child::WarmSpawnError::Gone(Box::new(spec))),
        };
        let spawned = match started_warm {
            Ok(spawned) => Ok(spawned),
            Err(child::WarmSpawnError::Failed(e)) => Err(e),
            Err(child::WarmSpawnError::Gone(spec)) if !warmed => child::spawn(*spec),
            // The init started ahead is gone: the run builds its own view.
            Err(child::WarmSpawnError::Gone(mut spec)) => {
                warmed = false;
                let (mounts, landlock) = self.view_setup(guard, key, run_as, home)?;
                spec.setup.mounts = mounts;
                spec.setup.landlock = landlock;
                spec.setup.cgroup_procs = guard.cgroup().map(|c| c.procs_fds()).unwrap_or_default();
                child::spawn(*spec)
            }
        };
        if warmed {
            self.warm_starts
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok((spawned, warmed))
    }

    /// The run's outcome once every process of it is gone: the command's
    /// status (the init's report of it, for an isolated run), the memory
    /// limit's kills, peak memory, the output, and a note for each git
    /// redirect the command made (removed now). Releases the run's slot.
    fn outcome(
        &self,
        (status, usage): (libc::c_int, libc::rusage),
        timed_out: bool,
        guard: &mut Cleanup,
        (out, err): (BoundedOutput, BoundedOutput),
        repo_watch: &RepoWatch,
        started: Instant,
    ) -> ExecOutcome {
        // An isolated run's init reports its command's status; without
        // one (the init was killed with the run) the init's own stands.
        let (status, usage) = guard
            .init
            .as_ref()
            .and_then(|i| i.command_exit())
            .unwrap_or((status, usage));
        // The OOM killer's SIGKILL makes the command fail; a clean exit 0
        // needs no look at the counter (a file read on every run).
        let clean_exit = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
        let oom_killed = !clean_exit && guard.cgroup().is_some_and(|c| c.oom_kills() > 0);
        let peak = guard.cgroup().and_then(|c| c.peak_memory());
        guard.finish();
        let (stdout, stdout_truncated) = out.finish();
        let (mut stderr, stderr_truncated) = err.finish();
        // Every process of the run is gone: nothing races with this.
        for note in repo_watch.restore() {
            stderr.extend_from_slice(note.as_bytes());
        }
        let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
        let rss = (usage.ru_maxrss as u64) * 1024;
        ExecOutcome {
            exit_code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
            signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
            timed_out,
            oom_killed,
            stdout,
            stderr,
            stdout_truncated,
            stderr_truncated,
            duration: started.elapsed(),
            usage: Some(ResourceUsage {
                user_cpu: tv(usage.ru_utime),
                system_cpu: tv(usage.ru_stime),
                max_rss: peak.map_or(rss, |p| p.max(rss)),
            }),
            isolation_skipped: self.layers.skipped.clone(),
            enforced: Capabilities::default(),
        }
    }

    /// The filesystem view's part of a run's setup, when no view was built
    /// ahead (or the one built ahead is gone): the mount plan (isolated
    /// runs) and the Landlock ruleset.
    fn view_setup(
        &self,
        guard: &Cleanup,
        key: &ViewKey,
        run_as: Option<(u32, u32)>,
        home: &Path,
    ) -> Result<(Option<MountPlan>, Option<landlock::RunRuleset>)> {
        let mounts = if self.layers.namespaces {
            Some(
                plan_view(
                    &self.config,
                    key,
                    run_as,
                    guard
                        .namespaces()
                        .and_then(|n| n.idmap.as_ref())
                        .map(AsRawFd::as_raw_fd),
                )
                .map_err(|e| Error::InvalidInput(e.to_string()))?,
            )
        } else {
            None
        };
        let landlock = if self.layers.landlock {
            let roots = match &mounts {
                Some(plan) => planned_roots(plan),
                // Without the mount namespace (best effort on a host
                // without user namespaces) Landlock is the only
                // filesystem layer: the writable roots, the run's home
                // and the host's temp directory (there is no private
                // one).
                // The roots are checked as for a view (no link out of a
                // workspace, no caller's home).
                None => {
                    let mut w =
                        mounts::checked_roots(&key.writable, &key.read_only, &key.caller_home)
                            .map_err(|e| Error::InvalidInput(e.to_string()))?;
                    w.push(home.to_path_buf());
                    w.push(std::env::temp_dir());
                    w
                }
            };
            write_ruleset(roots)
                .map_err(|e| fail(ExecErrorKind::Setup, e.to_string()).with_source(e))?
        } else {
            None
        };
        Ok((mounts, landlock))
    }

    /// The egress proxy of an allowlist run, listening inside the run's
    /// network namespace. Fails (closed) when the run has no namespace of
    /// its own: the command would get the host's network.
    fn serve_egress(
        &self,
        guard: &Cleanup,
        key: &ViewKey,
        egress: &crate::net::Egress,
    ) -> Result<crate::net::ProxyHandle> {
        let ns = guard
            .namespaces()
            .filter(|_| key.no_network)
            .ok_or_else(|| {
                fail(
                    ExecErrorKind::Egress,
                    "an allowlist network needs the run's own network namespace (isolation \
                 with user namespaces or root, and network isolation not off)",
                )
            })?;
        let listener = namespaces::listen_loopback(ns, crate::net::PROXY_PORT)
            .map(std::net::TcpListener::from)
            .and_then(|l| {
                l.set_nonblocking(true)?;
                tokio::net::TcpListener::from_std(l)
            })
            .map_err(|e| fail(ExecErrorKind::Egress, e.to_string()).with_source(e))?;
        egress
            .serve(listener)
            .map_err(|e| fail_from(ExecErrorKind::Egress, "cannot start the egress proxy", e))
    }

    /// The deferred trial's verdict (`Ok` for a backend without one): runs
    /// the trial now when nothing has verified the layers yet.
    fn verified(&self) -> std::result::Result<(), &str> {
        let Some(deferred) = &self.deferred else {
            return Ok(());
        };
        deferred
            .verdict
            .get_or_init(|| deferred_trial(&self.config, &self.layers, self.is_root))
            .as_ref()
            .map(|_| ())
            .map_err(String::as_str)
    }

    /// Whether the layers still wait for a run or the trial to verify them.
    fn unverified(&self) -> bool {
        self.deferred
            .as_ref()
            .is_some_and(|d| d.verdict.get().is_none())
    }

    /// Runs the request. A backend whose trial was deferred refuses every
    /// run once the trial failed; until a run has verified the layers,
    /// each run is the trial: a failure to start it, or a command that
    /// ended as a layer the host refuses would end it (a signal, status
    /// 126 or 127), has the trial run to tell the host's failure (the
    /// probe's error) from the command's (its own result).
    async fn run(&self, req: ExecRequest, events: EventSender) -> Result<ExecOutcome> {
        if let Some(Err(missing)) = self.deferred.as_ref().and_then(|d| d.verdict.get()) {
            return Err(isolation_unavailable(missing));
        }
        if !self.unverified() {
            return self.run_once(req, events).await;
        }
        let outcome = match self.run_once(req, events).await {
            Ok(outcome) => outcome,
            Err(e) => {
                return Err(match self.verified() {
                    Ok(()) => e,
                    Err(missing) => isolation_unavailable(missing),
                })
            }
        };
        let normal = outcome.signal.is_none() && !matches!(outcome.exit_code, Some(126 | 127));
        if normal {
            if let Some(d) = &self.deferred {
                let _ = d.verdict.set(Ok(()));
            }
        }
        match self.verified() {
            Ok(()) => Ok(outcome),
            Err(missing) => Err(isolation_unavailable(missing)),
        }
    }

    async fn run_once(&self, req: ExecRequest, events: EventSender) -> Result<ExecOutcome> {
        let started = Instant::now();
        let (mut guard, run_as) = self.take_slot()?;
        let isolated = self.layers.namespaces;
        let home = if isolated {
            PathBuf::from(ISOLATED_HOME)
        } else {
            guard.home().to_path_buf()
        };
        let mut env = self
            .config
            .env
            .build(utf8_environment(), &home.to_string_lossy(), &req.env);
        let cwd = req.cwd.clone().unwrap_or_else(|| home.clone());
        let (program, args) = self.command_of(&req.plan)?;
        // Looked up on the host: the view inside is the host's, read-only
        // (but for the private /tmp, where the home is).
        let lookup_dir = if isolated && req.cwd.is_none() {
            Path::new("/")
        } else {
            cwd.as_path()
        };
        let candidates = resolve(
            &program,
            env.get("PATH").map_or("", String::as_str),
            lookup_dir,
        );
        if candidates.is_empty() {
            let outcome = not_found(&program, started);
            let _ = events
                .send(ExecEvent::Exited(Box::new(outcome.clone())))
                .await;
            return Ok(outcome);
        }
        let limits = &req.limits;
        if let Some(c) = guard.cgroup_mut() {
            c.set_limits(limits.memory, limits.processes).map_err(|e| {
                fail_from(
                    ExecErrorKind::Limits,
                    "cannot set the run's cgroup limits",
                    e,
                )
            })?;
        }
        let key = ViewKey::new(
            &self.config,
            req.cwd.as_deref(),
            &req.filesystem,
            &req.network,
        );
        // Git files that would point git at other configuration or hooks
        // and that a protected-path mount cannot cover while they do not
        // exist: noted now, removed after the run if the command made them.
        let repo_watch = if isolated {
            RepoWatch::new(&key.writable, &self.config.filesystem.protected)
        } else {
            RepoWatch::default()
        };
        let warm = self.take_warm_view(&mut guard, &key);
        let (mounts, landlock) = if warm.is_none() {
            self.view_setup(&guard, &key, run_as, &home)?
        } else {
            (None, None)
        };
        let namespaces = if isolated {
            let ns = guard.namespaces().ok_or_else(|| {
                fail(
                    ExecErrorKind::Setup,
                    "the run's namespaces could not be prepared",
                )
            })?;
            Some(join_namespaces(ns, key.no_network))
        } else {
            None
        };
        // RLIMIT_NPROC counts every process of the uid: only a uid (or a
        // user namespace) of the run's own makes it a per-run limit.
        let own_uid = isolated || (self.is_root && run_as.is_some_and(|(uid, _)| uid != 0));
        let enforced = self.enforced(&req, guard.cgroup(), isolated, own_uid);
        let setup = ChildSetup {
            cgroup_procs: guard.cgroup().map(|c| c.procs_fds()).unwrap_or_default(),
            namespaces,
            mounts,
            rlimits: rlimits(limits, guard.cgroup(), own_uid),
            run_as,
            cwd: CString::new(cwd.clone().into_os_string().into_encoded_bytes()).map_err(|_| {
                Error::InvalidInput("the working directory contains a NUL byte".into())
            })?,
            no_new_privs: self.layers.no_new_privs,
            landlock,
            seccomp: self.layers.seccomp,
        };
        // Held until the run ends: dropping it ends every connection.
        let _proxy = match &req.network {
            Network::Allowlist(egress) => {
                let handle = self.serve_egress(&guard, &key, egress)?;
                env.extend(crate::net::proxy_environment(handle.address()));
                Some(handle)
            }
            _ => None,
        };
        let (programs, argv, envp) = exec_strings(candidates, &program, &args, &env)?;
        let spec = child::SpawnSpec {
            programs,
            argv,
            envp,
            stdin_pipe: req.stdin.is_some(),
            setup,
        };
        let (spawned, warmed) = self.start_child(warm, spec, &guard, &key, run_as, &home)?;
        // The next slot is made now, not while this run was starting.
        self.slots.refill();
        let mut child = spawned.map_err(|e| {
            let context = format!("cannot start `{}` in {}", program.display(), cwd.display());
            fail_from(ExecErrorKind::Spawn, context, e)
        })?;
        let pid = child.pid;
        guard.pid = Some(pid);
        guard.init = child.init.take();
        if guard.init.is_some() && !warmed {
            if let Some(slot) = guard.slot.as_mut() {
                slot.mount_namespace = std::fs::File::open(format!("/proc/{pid}/ns/mnt")).ok();
            }
        }
        let stdout = pipe_reader(child.stdout)?;
        let stderr = pipe_reader(child.stderr)?;
        let stdin_task = feed_stdin(child.stdin.take(), req.stdin)?;
        let _ = events
            .send(ExecEvent::Started {
                pid: Some(pid as u32),
            })
            .await;
        let mut out = BoundedOutput::new(limits.output_bytes);
        let mut err = BoundedOutput::new(limits.output_bytes);
        let (wait, timed_out) = self
            .supervise_run(
                pid,
                limits.timeout,
                (stdout, stderr),
                (&mut out, &mut err),
                &events,
                &guard,
            )
            .await;
        if let Some(t) = stdin_task {
            t.abort();
        }
        let (status, usage) =
            wait.map_err(|e| fail_from(ExecErrorKind::Io, "cannot wait for the command", e))?;
        let outcome = ExecOutcome {
            enforced,
            ..self.outcome(
                (status, usage),
                timed_out,
                &mut guard,
                (out, err),
                &repo_watch,
                started,
            )
        };
        let _ = events
            .send(ExecEvent::Exited(Box::new(outcome.clone())))
            .await;
        Ok(outcome)
    }
}

impl Executor for ProcessExecutor {
    fn kind(&self) -> BackendKind {
        BackendKind::Process
    }

    /// What this backend enforces. A backend whose trial was deferred
    /// ([`ProcessExecutor::for_one_run`]) runs it first when no run has
    /// verified the layers yet; when it failed, the namespaces and what is
    /// built on them are not claimed (and every run is refused).
    fn capabilities(&self) -> Capabilities {
        match self.verified() {
            Ok(()) => self.capabilities,
            Err(_) => self.capabilities.without_layer(skipped_layer::ISOLATED_RUN),
        }
    }

    fn execute_streaming(
        &self,
        request: ExecRequest,
        events: EventSender,
    ) -> BoxFuture<'_, Result<ExecOutcome>> {
        if self.gc_only {
            return Box::pin(async {
                Err(Error::InvalidInput(
                    "this process backend was made for clean-up only (ProcessExecutor::for_gc) \
                     and runs nothing"
                        .into(),
                ))
            });
        }
        Box::pin(self.run(request, events))
    }

    /// Waits for the pass started by [`ProcessExecutor::new`], then sweeps
    /// once more (on a thread of its own): cgroups `sandboxcore-PID-N`
    /// beneath this process's cgroups (what is still in them is killed)
    /// and home directories `sandboxcore-home-PID-...` in the home parent,
    /// whose PID is gone.
    fn reap(&self) -> BoxFuture<'_, Result<ReapReport>> {
        Box::pin(async move {
            let mut report = self.leftovers.first.wait().await?;
            let (roots, home_parent) = (
                self.leftovers.roots.clone(),
                self.leftovers.home_parent.clone(),
            );
            report.merge(reap::on_thread(move || sweep(&roots, &home_parent)).await);
            Ok(report)
        })
    }
}

/// Writes `bytes` to the command's standard input in a task of its own
/// (a command that does not read its input is not an error); nothing when
/// the run has no input.
fn feed_stdin(
    pipe: Option<OwnedFd>,
    bytes: Option<Vec<u8>>,
) -> Result<Option<tokio::task::JoinHandle<()>>> {
    let (Some(w), Some(bytes)) = (pipe, bytes) else {
        return Ok(None);
    };
    let mut w = pipe::Sender::from_owned_fd(w)
        .map_err(|e| fail(ExecErrorKind::Io, e.to_string()).with_source(e))?;
    Ok(Some(tokio::spawn(async move {
        let _ = w.write_all(&bytes).await;
    })))
}

/// The rlimits for a run. The address-space limit is used only without a
/// memory cgroup: it counts reserved, not used, memory (Go, Java and
/// sanitizers reserve far more than they use) and a cgroup both limits
/// and reports OOM kills.
fn rlimits(
    l: &super::Limits,
    cgroup: Option<&RunCgroup>,
    own_uid: bool,
) -> Vec<(child::Resource, u64, u64)> {
    let mut v = vec![(libc::RLIMIT_CORE, 0, 0)];
    if let Some(t) = l.cpu_time {
        let s = t.as_secs().max(1);
        v.push((libc::RLIMIT_CPU, s, s + 1));
    }
    if let Some(m) = l.memory {
        if !cgroup.is_some_and(RunCgroup::limits_memory) {
            v.push((libc::RLIMIT_AS, m, m));
        }
    }
    if let (Some(n), true) = (l.processes, own_uid) {
        v.push((libc::RLIMIT_NPROC, n, n));
    }
    if let Some(f) = l.file_size {
        v.push((libc::RLIMIT_FSIZE, f, f));
    }
    if let Some(n) = l.open_files {
        v.push((libc::RLIMIT_NOFILE, n, n));
    }
    v
}

/// Waits for the main process, enforcing the timeout: SIGTERM to
/// everything, then SIGKILL after the grace period.
async fn supervise(
    waiter: impl std::future::Future<Output = io::Result<(libc::c_int, libc::rusage)>>,
    timeout: Option<Duration>,
    grace: Duration,
    guard: &Cleanup,
) -> (io::Result<(libc::c_int, libc::rusage)>, bool) {
    tokio::pin!(waiter);
    let Some(limit) = timeout else {
        return (waiter.await, false);
    };
    if let Ok(r) = tokio::time::timeout(limit, &mut waiter).await {
        return (r, false);
    }
    guard.signal_all(libc::SIGTERM);
    if let Ok(r) = tokio::time::timeout(grace, &mut waiter).await {
        return (r, true);
    }
    guard.kill_everything().await;
    (waiter.await, true)
}

/// The first read buffer of each output stream.
const READ_BUFFER_MIN: usize = 16 * 1024;
/// The largest read buffer of each output stream.
const READ_BUFFER_MAX: usize = 256 * 1024;

/// Reads both streams to their end into the captures, forwarding chunks.
async fn read_both(
    stdout: pipe::Receiver,
    stderr: pipe::Receiver,
    out: &mut BoundedOutput,
    err: &mut BoundedOutput,
    events: &EventSender,
) {
    tokio::join!(
        pump(stdout, out, events, ExecEvent::Stdout),
        pump(stderr, err, events, ExecEvent::Stderr)
    );
}

async fn pump(
    mut rx: pipe::Receiver,
    capture: &mut BoundedOutput,
    events: &EventSender,
    event: fn(Bytes) -> ExecEvent,
) {
    // Small at first (most commands print little; a large zeroed buffer
    // per run costs more than the run), four times larger whenever a read
    // fills it, up to READ_BUFFER_MAX (chatty commands). Never zeroed.
    let mut buf: Vec<u8> = Vec::with_capacity(READ_BUFFER_MIN);
    loop {
        buf.clear();
        match rx.read_buf(&mut buf).await {
            Ok(0) => break,
            Ok(n) => {
                capture.push(&buf[..n]);
                if !events.is_closed() {
                    let _ = events.send(event(Bytes::copy_from_slice(&buf[..n]))).await;
                }
                if n == buf.capacity() && n < READ_BUFFER_MAX {
                    buf = Vec::with_capacity((n * 4).min(READ_BUFFER_MAX));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
}

/// The C strings `execve` takes: the candidate paths of the program, its
/// argv (the program as given first) and the environment; a NUL byte in
/// any of them is invalid input.
fn exec_strings(
    candidates: Vec<PathBuf>,
    program: &Path,
    args: &[String],
    env: &std::collections::BTreeMap<String, String>,
) -> Result<(Vec<CString>, Vec<CString>, Vec<CString>)> {
    let c_string = |what: &str, s: Vec<u8>| {
        CString::new(s).map_err(|_| Error::InvalidInput(format!("{what} contains a NUL byte")))
    };
    let programs = candidates
        .into_iter()
        .map(|p| c_string("the program path", p.into_os_string().into_encoded_bytes()))
        .collect::<Result<_>>()?;
    let argv = std::iter::once(program.as_os_str().as_encoded_bytes().to_vec())
        .chain(args.iter().map(|a| a.clone().into_bytes()))
        .map(|a| c_string("an argument", a))
        .collect::<Result<_>>()?;
    let envp = env
        .iter()
        .map(|(k, v)| c_string("an environment variable", format!("{k}={v}").into_bytes()))
        .collect::<Result<_>>()?;
    Ok((programs, argv, envp))
}

fn pipe_reader(fd: OwnedFd) -> Result<pipe::Receiver> {
    // A larger pipe means fewer wake-ups for chatty commands (best effort).
    // SAFETY: fcntl on a valid descriptor we own.
    unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETPIPE_SZ, 1 << 20) };
    pipe::Receiver::from_owned_fd(fd)
        .map_err(|e| fail_from(ExecErrorKind::Io, "cannot read the child's output", e))
}

/// A process-backend [`Error::Executor`].
fn fail(kind: ExecErrorKind, message: impl Into<String>) -> Error {
    Error::executor(BackendKind::Process, kind, message)
}

/// A process-backend [`Error::Executor`] caused by `e`: `context: e`.
fn fail_from(kind: ExecErrorKind, context: impl std::fmt::Display, e: io::Error) -> Error {
    Error::executor_from(BackendKind::Process, kind, context, e)
}

/// The paths `execvp` would try for the program (with the child's
/// `PATH`), in order: executable files only.
fn resolve(program: &Path, path_var: &str, cwd: &Path) -> Vec<PathBuf> {
    let executable = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.as_os_str().to_string_lossy().contains('/') {
        let p = cwd.join(program);
        return if executable(&p) { vec![p] } else { Vec::new() };
    }
    path_var
        .split(':')
        .map(|d| {
            if d.is_empty() {
                cwd.to_path_buf()
            } else {
                cwd.join(d)
            }
        })
        .map(|d| d.join(program))
        .filter(|p| executable(p))
        .collect()
}

/// This process's environment; variables whose name or value is not UTF-8
/// are left out (`std::env::vars` would panic on them).
fn utf8_environment() -> impl Iterator<Item = (String, String)> {
    std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
}

/// Paths in a repository's `.git` that redirect git to another directory's
/// configuration or hooks (`commondir`, `config.worktree`, `worktrees/`,
/// and a `hooks` directory where there was none).
const GIT_REDIRECTS: [&str; 4] = [
    ".git/commondir",
    ".git/config.worktree",
    ".git/worktrees",
    ".git/hooks",
];

/// The [`GIT_REDIRECTS`] that do not exist in the repositories `repos`.
fn absent_git_redirects(repos: &[PathBuf]) -> Vec<PathBuf> {
    repos
        .iter()
        .filter(|w| w.join(".git").is_dir())
        .flat_map(|w| GIT_REDIRECTS.iter().map(move |r| w.join(r)))
        .filter(|p| std::fs::symlink_metadata(p).is_err())
        .collect()
}

/// What a run must leave in the repositories of its writable roots as it
/// found them, and that no read-only mount can keep: git redirects that
/// did not exist (removed if the run made them), and protected paths that
/// are symlinks (a mount keeps their target read-only, but the link itself
/// can be removed and replaced: it is put back).
#[derive(Debug, Default)]
struct RepoWatch {
    absent: Vec<PathBuf>,
    links: Vec<(PathBuf, PathBuf)>,
}

impl RepoWatch {
    /// Notes what the repositories at and just below `roots` have now.
    fn new(roots: &[PathBuf], protected: &[PathBuf]) -> RepoWatch {
        let repos = mounts::repository_roots(roots);
        let links = mounts::protected_candidates(&repos, protected)
            .into_iter()
            .filter(|p| roots.iter().any(|r| p.starts_with(r)))
            .filter_map(|p| {
                let target = std::fs::read_link(&p).ok()?;
                Some((p, target))
            })
            .collect();
        RepoWatch {
            absent: absent_git_redirects(&repos),
            links,
        }
    }

    /// Undoes what the run changed of it (call once every process of the
    /// run is gone); a note for each change.
    fn restore(&self) -> Vec<String> {
        let mut notes = remove_git_redirects(&self.absent);
        for (link, target) in &self.links {
            if std::fs::read_link(link).ok().as_ref() == Some(target) {
                continue;
            }
            let removed = match std::fs::symlink_metadata(link) {
                Ok(meta) => remove_entry(link, &meta),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e),
            };
            let note = match removed.and_then(|()| std::os::unix::fs::symlink(target, link)) {
                Ok(()) => format!(
                    "sandboxcore: put back {} -> {} (the command replaced the link to a protected path)\n",
                    link.display(),
                    target.display()
                ),
                Err(e) => format!(
                    "sandboxcore: cannot put back {} -> {}: {e}\n",
                    link.display(),
                    target.display()
                ),
            };
            notes.push(noted(link, note));
        }
        notes
    }
}

/// Removes what is at `path` (`meta`: its metadata, links not followed): a
/// directory with its contents, or a file or link.
fn remove_entry(path: &Path, meta: &std::fs::Metadata) -> std::io::Result<()> {
    if meta.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
}

/// `note` (a line for the run's stderr about `path`), also logged.
fn noted(path: &Path, note: String) -> String {
    tracing::warn!(path = %path.display(), "{}", note.trim_end());
    note
}

/// Removes those of `absent` that the run created; a note for each.
fn remove_git_redirects(absent: &[PathBuf]) -> Vec<String> {
    let mut notes = Vec::new();
    for p in absent {
        let Ok(meta) = std::fs::symlink_metadata(p) else {
            continue;
        };
        let note = match remove_entry(p, &meta) {
            Ok(()) => format!(
                "sandboxcore: removed {} made by the command (it would point git at other configuration or hooks)\n",
                p.display()
            ),
            Err(e) => format!(
                "sandboxcore: cannot remove {} made by the command: {e}\n",
                p.display()
            ),
        };
        notes.push(noted(p, note));
    }
    notes
}

/// What a shell reports for a program it cannot find.
fn not_found(program: &Path, started: Instant) -> ExecOutcome {
    ExecOutcome {
        exit_code: Some(127),
        stderr: format!("sandboxcore: {}: command not found\n", program.display()).into_bytes(),
        duration: started.elapsed(),
        ..ExecOutcome::default()
    }
}

/// Kills and cleans up after a run, also when its future is dropped.
struct Cleanup {
    pid: Option<libc::pid_t>,
    /// The isolated run's init: it runs in our memory, so it is kept until
    /// `pid` has been reaped.
    init: Option<Box<child::RunInit>>,
    slot: Option<Slot>,
    pool: Arc<SlotPool>,
    finished: bool,
}

impl Cleanup {
    fn home(&self) -> &Path {
        self.slot
            .as_ref()
            .and_then(|s| s.home.as_ref())
            .map_or(Path::new("/"), |h| h.path.as_path())
    }

    fn cgroup_mut(&mut self) -> Option<&mut RunCgroup> {
        self.slot.as_mut().and_then(|s| s.cgroup.as_mut())
    }

    fn cgroup(&self) -> Option<&RunCgroup> {
        self.slot.as_ref().and_then(|s| s.cgroup.as_ref())
    }

    fn namespaces(&self) -> Option<&namespaces::PreparedNamespaces> {
        self.slot.as_ref().and_then(|s| s.namespaces.as_ref())
    }

    fn signal_all(&self, signal: libc::c_int) {
        if let Some(pid) = self.pid {
            child::kill_group(pid, signal);
        }
        if let Some(c) = self.cgroup() {
            c.signal_all(signal);
        }
    }

    async fn kill_everything(&self) {
        if let Some(pid) = self.pid {
            child::kill_group(pid, libc::SIGKILL);
        }
        // Usually nothing is left; the waiting loop runs off the async
        // thread only when something is.
        if let Some(c) = self.cgroup().filter(|c| !c.is_empty()).cloned() {
            let _ = tokio::task::spawn_blocking(move || c.kill_all(Duration::from_secs(5))).await;
        }
    }

    /// Hands the slot back: the background thread removes its home at
    /// once and reuses or removes its cgroups (every process of the run is
    /// gone by now).
    fn finish(&mut self) {
        self.finished = true;
        if let Some(mut slot) = self.slot.take() {
            slot.processes_gone = true;
            self.pool.give_back(slot);
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // Cancelled: kill now; reap and tidy up off the async thread (the
        // slot's removal kills whatever is left in its cgroups first).
        let pid = self.pid;
        if let Some(pid) = pid {
            child::kill_group(pid, libc::SIGKILL);
        }
        let slot = self.slot.take();
        let pool = self.pool.clone();
        let init = self.init.take();
        std::thread::spawn(move || {
            if let Some(slot) = slot {
                if let Some(c) = &slot.cgroup {
                    c.kill_all(Duration::from_secs(5));
                }
                pool.give_back(slot);
            }
            if let Some(pid) = pid {
                let _ = child::wait4(pid);
            }
            // Only now is the init's memory free.
            drop(init);
        });
    }
}
