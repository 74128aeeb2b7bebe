//! Starting the command: a `vfork`-style `clone(CLONE_VM | CLONE_VFORK)`
//! (what `posix_spawn` does: no page tables are copied, so starting a
//! command from a large host process such as a Python interpreter stays
//! cheap), then in the child, before `exec`, the steps of [`ChildSetup`].
//!
//! An isolated run takes three such clones. The first child joins its
//! prepared user, network, ipc and uts namespaces and creates mount and pid
//! namespaces (`unshare`); the pid namespace applies to its
//! children only, so it clones the command's process (with `CLONE_PARENT`,
//! so that process is our child, whose exit status we wait for) and exits.
//! That second child is PID 1 of the new pid namespace: when it exits, the
//! kernel kills everything it left behind, `setsid` and double forks
//! included. It builds the filesystem view, drops privileges, enforces
//! Landlock and seccomp, closes every descriptor above 2 and execs.

use super::landlock::RunRuleset;
use super::mounts::MountPlan;
use super::raw;
use super::seccomp::SeccompProgram;
use std::ffi::{c_char, c_int, c_void, CString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The type of `setrlimit`'s resource argument on this C library.
#[cfg(target_env = "gnu")]
pub type Resource = libc::__rlimit_resource_t;
/// The type of `setrlimit`'s resource argument on this C library.
#[cfg(not(target_env = "gnu"))]
pub type Resource = libc::c_int;

/// The namespaces an isolated run joins (see `namespaces.rs`).
#[derive(Debug, Clone, Copy)]
pub struct JoinNamespaces {
    /// The user namespace (when the caller is not root).
    pub user: Option<RawFd>,
    /// The network namespace (`None`: the host's network).
    pub net: Option<RawFd>,
    /// The ipc namespace.
    pub ipc: RawFd,
    /// The uts namespace.
    pub uts: RawFd,
}

/// Everything the child does before `exec`, prepared in the parent so the
/// child only makes system calls (no allocation, no locks).
#[derive(Debug, Default)]
pub struct ChildSetup {
    /// Open `cgroup.procs` files to join (written `0`, in order).
    pub cgroup_procs: Vec<RawFd>,
    /// Join these namespaces and create mount, pid, ipc and uts ones.
    pub namespaces: Option<JoinNamespaces>,
    /// The filesystem view to build (needs `namespaces`).
    pub mounts: Option<MountPlan>,
    /// Resource limits: `(resource, soft, hard)`.
    pub rlimits: Vec<(Resource, libc::rlim_t, libc::rlim_t)>,
    /// Switch to this uid and gid (dropping supplementary groups).
    pub run_as: Option<(u32, u32)>,
    /// The working directory, entered once the view is built.
    pub cwd: CString,
    /// Set `PR_SET_NO_NEW_PRIVS` and drop every capability.
    pub no_new_privs: bool,
    /// The Landlock ruleset to enforce (needs `no_new_privs`).
    pub landlock: Option<RunRuleset>,
    /// The seccomp filter to install (needs `no_new_privs`).
    pub seccomp: Option<&'static SeccompProgram>,
}

/// The calling thread's `errno`.
fn errno() -> c_int {
    // SAFETY: __errno_location always returns a valid pointer.
    unsafe { *libc::__errno_location() }
}

/// `_LINUX_CAPABILITY_VERSION_3` (64-bit capability sets).
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// `struct __user_cap_header_struct` (not in the libc crate).
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: c_int,
}

/// `struct __user_cap_data_struct`, two of which make a version 3 set.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// A failed step: its `errno` and what it was.
pub type StepError = (c_int, &'static str);

/// Mounts the child makes that Landlock must allow writes beneath.
const CHILD_WRITABLE_MOUNTS: [&std::ffi::CStr; 3] = [c"/tmp", c"/dev/shm", c"/dev/pts"];

impl ChildSetup {
    /// The first child's part of an isolated run: the namespaces.
    ///
    /// # Safety
    /// Must run in the child between `clone` and `exec`.
    unsafe fn enter(&self, ns: &JoinNamespaces) -> Result<(), StepError> {
        // SAFETY: plain system calls on descriptors the parent prepared.
        unsafe {
            if let Some(user) = ns.user {
                if libc::setns(user, libc::CLONE_NEWUSER) != 0 {
                    return Err((errno(), "joining the run's user namespace"));
                }
            }
            if let Some(net) = ns.net {
                if libc::setns(net, libc::CLONE_NEWNET) != 0 {
                    return Err((errno(), "joining the run's network namespace"));
                }
            }
            if libc::setns(ns.ipc, libc::CLONE_NEWIPC) != 0 {
                return Err((errno(), "joining the run's ipc namespace"));
            }
            if libc::setns(ns.uts, libc::CLONE_NEWUTS) != 0 {
                return Err((errno(), "joining the run's uts namespace"));
            }
            if libc::unshare(libc::CLONE_NEWNS | libc::CLONE_NEWPID) != 0 {
                return Err((errno(), "creating mount and pid namespaces"));
            }
        }
        Ok(())
    }

    /// The whole setup in one process (runs without namespaces).
    ///
    /// # Safety
    /// Must run in the child between `clone` and `exec`.
    unsafe fn apply(&self, parent: libc::pid_t) -> Result<(), StepError> {
        // SAFETY: the caller's guarantees.
        unsafe {
            self.start_session()?;
            self.restrict()?;
            self.arm_parent_death(parent)?;
            self.lock_down()
        }
    }

    /// A new session; the cgroups (runs without namespaces) or the host
    /// name and filesystem view (the init of an isolated run).
    ///
    /// # Safety
    /// Must run in a child between `clone` and `exec` (or the init's start).
    unsafe fn start_session(&self) -> Result<(), StepError> {
        // SAFETY: plain system calls on data prepared by the parent.
        unsafe {
            check(libc::syscall(libc::SYS_setsid), "starting a session")?;
            if self.namespaces.is_none() {
                for &fd in &self.cgroup_procs {
                    if libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                        return Err((errno(), "joining the run's cgroup"));
                    }
                }
            }
            if let Some(plan) = &self.mounts {
                plan.apply()?;
            }
        }
        Ok(())
    }

    /// Limits, the capability bounding set, the run's user and the working
    /// directory (the command's process).
    ///
    /// # Safety
    /// Must run in a child between `clone` and `exec`. Only raw system
    /// calls: glibc's `setuid` and friends would signal the parent's
    /// threads (they share our memory).
    unsafe fn restrict(&self) -> Result<(), StepError> {
        // SAFETY: plain system calls on data prepared by the parent.
        unsafe {
            if self.namespaces.is_some() {
                // The command, not the init: the init runs in the host's
                // memory, and the OOM killer, choosing in the run's memory
                // cgroup, would see the host's size there and kill every
                // process sharing that memory — the host included.
                for &fd in &self.cgroup_procs {
                    if libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                        return Err((errno(), "joining the run's cgroup"));
                    }
                }
            }
            for &(resource, soft, hard) in &self.rlimits {
                let lim = libc::rlimit {
                    rlim_cur: soft,
                    rlim_max: hard,
                };
                check(
                    libc::setrlimit(resource, &lim).into(),
                    "setting a resource limit",
                )?;
            }
            if self.no_new_privs {
                // Needs CAP_SETPCAP, so before the uid changes.
                check(
                    libc::prctl(
                        libc::PR_CAP_AMBIENT,
                        libc::PR_CAP_AMBIENT_CLEAR_ALL,
                        0,
                        0,
                        0,
                    )
                    .into(),
                    "clearing ambient capabilities",
                )?;
                for cap in 0..64usize {
                    let dropped = raw::syscall(
                        libc::SYS_prctl,
                        [libc::PR_CAPBSET_DROP as usize, cap, 0, 0, 0, 0],
                    );
                    if let Err(e) = dropped {
                        match e {
                            // Past the last capability this kernel has, or
                            // not allowed to (no CAP_SETPCAP: then there is
                            // nothing to drop anyway).
                            libc::EINVAL | libc::EPERM => break,
                            e => return Err((e, "dropping the capability bounding set")),
                        }
                    }
                }
            }
            if let Some((uid, gid)) = self.run_as {
                check(
                    libc::syscall(libc::SYS_setgroups, 0, std::ptr::null::<libc::gid_t>()),
                    "dropping supplementary groups",
                )?;
                check(
                    libc::syscall(libc::SYS_setresgid, gid, gid, gid),
                    "changing group",
                )?;
                check(
                    libc::syscall(libc::SYS_setresuid, uid, uid, uid),
                    "changing user",
                )?;
            }
            check(
                libc::chdir(self.cwd.as_ptr()).into(),
                "entering the working directory",
            )?;
        }
        Ok(())
    }

    /// The parent-death signal (after any uid change, which clears it).
    ///
    /// # Safety
    /// Must run in a child between `clone` and `exec` (or the init's start).
    unsafe fn arm_parent_death(&self, parent: libc::pid_t) -> Result<(), StepError> {
        // SAFETY: plain system calls.
        unsafe {
            check(
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL).into(),
                "arming the parent-death signal",
            )?;
            // In a pid namespace the parent is outside it (getppid is 0).
            if self.namespaces.is_none() && libc::getppid() != parent {
                // The parent died before the signal was armed.
                libc::_exit(137);
            }
        }
        Ok(())
    }

    /// `no_new_privs`, Landlock and seccomp for an init started ahead,
    /// which its command inherits. (The command enforces the Landlock
    /// ruleset once more: a domain nested in the init's, so that Landlock's
    /// scoping of signals and abstract sockets and its ptrace rule keep the
    /// command away from the init, as when the init has no domain.)
    ///
    /// # Safety
    /// Must run in the init, after its view is built.
    unsafe fn confine(&self) -> Result<(), StepError> {
        // SAFETY: plain system calls on data prepared by the parent.
        unsafe {
            if self.no_new_privs {
                check(
                    libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0).into(),
                    "setting no_new_privs",
                )?;
            }
            if let Some(ruleset) = &self.landlock {
                for path in CHILD_WRITABLE_MOUNTS {
                    ruleset
                        .allow_beneath(path)
                        .map_err(|e| (e, "adding the run's mounts to the Landlock ruleset"))?;
                }
                ruleset
                    .enforce()
                    .map_err(|e| (e, "enforcing the Landlock ruleset"))?;
            }
            if let Some(filter) = self.seccomp {
                filter
                    .install()
                    .map_err(|e| (e, "installing the seccomp filter"))?;
            }
        }
        Ok(())
    }

    /// `no_new_privs`, Landlock, no capabilities, seccomp: the last steps
    /// before `exec` (the command's process).
    ///
    /// # Safety
    /// Must run in a child between `clone` and `exec`.
    unsafe fn lock_down(&self) -> Result<(), StepError> {
        // SAFETY: plain system calls on data prepared by the parent.
        unsafe {
            if self.no_new_privs {
                check(
                    libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0).into(),
                    "setting no_new_privs",
                )?;
            }
            if let Some(ruleset) = &self.landlock {
                if self.mounts.is_some() {
                    for path in CHILD_WRITABLE_MOUNTS {
                        ruleset
                            .allow_beneath(path)
                            .map_err(|e| (e, "adding the run's mounts to the Landlock ruleset"))?;
                    }
                }
                ruleset
                    .enforce()
                    .map_err(|e| (e, "enforcing the Landlock ruleset"))?;
            }
            if self.no_new_privs {
                // Whatever a user namespace gave us: nothing survives exec
                // for a non-root uid anyway, but say so explicitly.
                let header = CapHeader {
                    version: CAPABILITY_VERSION_3,
                    pid: 0,
                };
                let data = [CapData::default(); 2];
                check(
                    libc::syscall(libc::SYS_capset, &header, data.as_ptr()),
                    "dropping capabilities",
                )?;
            }
            if let Some(filter) = self.seccomp {
                filter
                    .install()
                    .map_err(|e| (e, "installing the seccomp filter"))?;
            }
        }
        Ok(())
    }
}

/// `Err` with `errno` and `what` when a system call returned -1.
fn check(r: libc::c_long, what: &'static str) -> Result<(), StepError> {
    if r == -1 {
        Err((errno(), what))
    } else {
        Ok(())
    }
}

/// A command ready to start.
#[derive(Debug)]
pub struct SpawnSpec {
    /// Paths to try, in order, as `execvp` does: a path that exists but
    /// cannot be executed by the run's user (EACCES) is skipped.
    pub programs: Vec<CString>,
    /// The argv.
    pub argv: Vec<CString>,
    /// The environment, as `NAME=value`.
    pub envp: Vec<CString>,
    /// Give the child a pipe for stdin (else `/dev/null`).
    pub stdin_pipe: bool,
    /// What the child does before `exec`.
    pub setup: ChildSetup,
}

/// A started command and the parent's ends of its pipes.
#[derive(Debug)]
pub struct Spawned {
    /// The process id (also its process group and session id); in an
    /// isolated run, the run's init (PID 1 of its pid namespace).
    pub pid: libc::pid_t,
    /// Write end of its stdin, when a pipe was asked for.
    pub stdin: Option<OwnedFd>,
    /// Read end of its stdout.
    pub stdout: OwnedFd,
    /// Read end of its stderr.
    pub stderr: OwnedFd,
    /// Isolated runs: the init, which `pid` is (keep it until `pid` has
    /// been reaped: the init runs in this process's memory).
    pub init: Option<Box<RunInit>>,
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid two-element array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 returned two new descriptors we now own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// The stack of the child between clone and exec: `child_exec` makes only
/// system calls, with a few small locals.
const CHILD_STACK: usize = 64 * 1024;

/// What the children read; lives on the parent's stack during the `vfork`.
struct ChildContext<'a> {
    programs: &'a [CString],
    argv: *const *const c_char,
    envp: *const *const c_char,
    fds: [RawFd; 3],
    setup: &'a ChildSetup,
    parent: libc::pid_t,
    /// Isolated runs: the run's init (stacks and what it reports).
    init: Option<&'a RunInit>,
    /// Isolated runs: the write end of the start pipe (see `spawn_here`).
    start_pipe: RawFd,
    /// A view built ahead ([`WarmInit`]): the init's end of the socket on
    /// which it waits for its run (-1: the run starts at once).
    go: RawFd,
    /// Isolated runs: the init's pid (set by the first child).
    pid: AtomicI32,
    /// What failed in a child before `exec`.
    failed: FailedStep,
}

/// A child's failed step, written into memory it shares with the parent
/// (no allocation: the step is a `&'static str` kept as address and
/// length).
#[derive(Default)]
struct FailedStep {
    errno: AtomicI32,
    step: (AtomicUsize, AtomicUsize),
}

impl FailedStep {
    fn set(&self, (e, step): StepError) {
        self.step.0.store(step.as_ptr() as usize, Ordering::SeqCst);
        self.step.1.store(step.len(), Ordering::SeqCst);
        self.errno.store(e.max(1), Ordering::SeqCst);
    }

    fn get(&self) -> Option<SpawnError> {
        let e = self.errno.load(Ordering::SeqCst);
        (e != 0).then(|| SpawnError {
            step: step_text(&self.step),
            errno: e,
        })
    }
}

/// The command's process: sets up and execs.
extern "C" fn child_main(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the ChildContext the parent passed to clone; the
    // parent is suspended until we exec or exit, so it is alive.
    let ctx = unsafe { &*(arg as *const ChildContext<'_>) };
    // SAFETY: we are the child between clone and exec.
    let e = unsafe { child_exec(ctx) };
    ctx.failed.set(e);
    // SAFETY: _exit ends only this child.
    unsafe { libc::_exit(127) }
}

/// The first child of an isolated run: enters the namespaces and starts the
/// run's init in the new pid namespace (as our parent's child, so the host
/// waits for it), then exits.
extern "C" fn enter_main(arg: *mut c_void) -> c_int {
    // SAFETY: as for child_main.
    let ctx = unsafe { &*(arg as *const ChildContext<'_>) };
    let (Some(ns), Some(init)) = (ctx.setup.namespaces.as_ref(), ctx.init) else {
        ctx.failed.set((
            libc::EINVAL,
            "starting an isolated run without its namespaces",
        ));
        // SAFETY: _exit ends only this child.
        unsafe { libc::_exit(127) }
    };
    // SAFETY: we are the first child between clone and exit; the init only
    // makes system calls on memory that outlives it (see RunInit).
    unsafe {
        reset_signals();
        if let Err(e) = ctx.setup.enter(ns) {
            ctx.failed.set(e);
            libc::_exit(127);
        }
        // No CLONE_VFORK: the init runs beside the host for the whole run,
        // on a stack of its own that the run keeps until it is reaped.
        let pid = libc::clone(
            init_main,
            init.stack_top(0).cast(),
            libc::CLONE_VM | libc::CLONE_PARENT,
            arg,
        );
        if pid == -1 {
            ctx.failed
                .set((errno(), "starting the run's init in its pid namespace"));
            libc::_exit(127);
        }
        ctx.pid.store(pid, Ordering::SeqCst);
        libc::_exit(0)
    }
}

/// PID 1 of an isolated run: applies the setup to itself (its child, the
/// command, inherits all of it), starts the command, tells the host (by
/// closing the start pipe), then reaps whatever ends in the namespace until
/// the command does, and exits with it having recorded the command's wait
/// status (a PID 1 cannot be killed by a signal from inside its namespace,
/// so the command must not be PID 1: `kill $$` has to work). When the init
/// exits the kernel kills everything left in the namespace.
extern "C" fn init_main(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the ChildContext; the host blocks reading the start
    // pipe until we close it (or, for a view built ahead, write to it), so
    // it is alive until then. After that only `init` (kept until we are
    // reaped) and the run's context sent on the go socket are used.
    let ctx = unsafe { &*(arg as *const ChildContext<'_>) };
    let init: &RunInit = ctx.init.expect("an isolated run has an init");
    // SAFETY: system calls on data prepared by the parent; see above.
    unsafe {
        if let Err(e) = init_prepare(ctx) {
            init.failed.set(e);
            libc::_exit(127);
        }
        let run = if ctx.go >= 0 {
            let (go, start) = (ctx.go, ctx.start_pipe);
            // Ready: from here on `ctx` may be gone.
            if libc::write(start, b"R".as_ptr().cast(), 1) != 1 {
                libc::_exit(127);
            }
            match wait_for_run(go) {
                Some(run) => {
                    libc::close(go);
                    run
                }
                // The view was not wanted after all.
                None => libc::_exit(0),
            }
        } else {
            ctx
        };
        if let Err(e) = init_launch(run, init) {
            init.failed.set(e);
            libc::_exit(127);
        }
        let command = init.command_pid.load(Ordering::SeqCst) as usize;
        loop {
            let mut status: c_int = 0;
            let mut usage: libc::rusage = std::mem::zeroed();
            let r = raw::syscall(
                libc::SYS_wait4,
                [
                    -1isize as usize,
                    &mut status as *mut c_int as usize,
                    libc::__WALL as usize,
                    &mut usage as *mut libc::rusage as usize,
                    0,
                    0,
                ],
            );
            match r {
                Ok(pid) if pid == command => {
                    init.record_exit(status, &usage);
                    libc::_exit(0);
                }
                Ok(_) | Err(libc::EINTR) => {}
                Err(_) => libc::_exit(0),
            }
        }
    }
}

/// The init's first part: the session, the filesystem view, the
/// parent-death signal, and nothing of the host's held open.
///
/// # Safety
/// Must run in the init between `clone` and its exit.
unsafe fn init_prepare(ctx: &ChildContext<'_>) -> Result<(), StepError> {
    // SAFETY: as for init_main.
    unsafe {
        // The init keeps its user and capabilities: the command, which has
        // neither, cannot ptrace it or read its (the host's) memory, and
        // /proc does not even list it (hidepid).
        ctx.setup.start_session()?;
        ctx.setup.arm_parent_death(ctx.parent)?;
        // Hold nothing of the host's (another run's pipe, say) for the
        // whole run: only the run's streams, the start (and go) pipes and
        // what the command still needs (the Landlock ruleset, the cgroup
        // files) stay open until it has started.
        let mut keep = [-1; MAX_KEPT];
        keep[..3].copy_from_slice(&ctx.fds);
        keep[3] = ctx.start_pipe;
        keep[4] = ctx.go;
        keep[5] = ctx.setup.landlock.as_ref().map_or(-1, |r| r.raw_fd());
        for (slot, &fd) in keep[6..].iter_mut().zip(&ctx.setup.cgroup_procs) {
            *slot = fd;
        }
        close_all_but(&keep);
        if ctx.go >= 0 {
            // Started ahead, the init waits for its run with the host's
            // standard streams otherwise: a terminal, or the pipe a
            // caller reads until EOF (which would not come while the init
            // lives). The run's own streams replace them at launch.
            replace_host_stdio(&ctx.fds)?;
            // The layers that do not depend on the run are applied here,
            // off the run's path, and inherited by the command (the init
            // needs nothing they deny).
            ctx.setup.confine()?;
        }
    }
    Ok(())
}

/// Points descriptors 0, 1 and 2 at `/dev/null` (of the view), but for
/// those that are the run's own streams (a host with its standard streams
/// closed can have the run's pipes there).
///
/// # Safety
/// Must run in the init between `clone` and its exit.
unsafe fn replace_host_stdio(run_streams: &[RawFd; 3]) -> Result<(), StepError> {
    // SAFETY: open, dup2 and close on this process's own descriptors.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
        if null < 0 {
            return Err((errno(), "replacing the host's standard streams"));
        }
        for fd in (0..3).filter(|fd| !run_streams.contains(fd) && *fd != null) {
            if libc::dup2(null, fd) == -1 {
                return Err((errno(), "replacing the host's standard streams"));
            }
        }
        if null > 2 {
            libc::close(null);
        }
    }
    Ok(())
}

/// Waits on the go socket for the address of the run's context (sent by
/// [`spawn_warm`]); `None` when the host closed it instead.
///
/// # Safety
/// Must run in the init; the address received must be a live
/// `ChildContext` of this process (the host waits for the start pipe).
unsafe fn wait_for_run<'a>(go: RawFd) -> Option<&'a ChildContext<'a>> {
    let mut buf = [0u8; std::mem::size_of::<usize>()];
    loop {
        // SAFETY: a receive into a stack buffer.
        let n = unsafe {
            raw::syscall(
                libc::SYS_recvfrom,
                [
                    go as usize,
                    buf.as_mut_ptr() as usize,
                    buf.len(),
                    libc::MSG_WAITALL as usize,
                    0,
                    0,
                ],
            )
        };
        match n {
            Ok(n) if n == buf.len() => {
                let address = usize::from_ne_bytes(buf);
                // SAFETY: the caller's guarantee.
                return (address != 0).then(|| unsafe { &*(address as *const ChildContext<'a>) });
            }
            Err(libc::EINTR) => continue,
            _ => return None,
        }
    }
}

/// The init's second part: the run's standard streams, then the command.
///
/// # Safety
/// Must run in the init after [`init_prepare`].
unsafe fn init_launch(ctx: &ChildContext<'_>, init: &RunInit) -> Result<(), StepError> {
    // SAFETY: as for init_main.
    unsafe {
        move_streams(ctx)?;
        for fd in ctx.fds.into_iter().filter(|&fd| fd > 2) {
            libc::close(fd);
        }
        let pid = libc::clone(
            command_main,
            init.stack_top(1).cast(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            ctx as *const ChildContext<'_> as *mut c_void,
        );
        if pid == -1 {
            return Err((errno(), "starting the command"));
        }
        init.command_pid.store(pid, Ordering::SeqCst);
        // The command has exec'd (or failed, and said so in `init`): let the
        // host go on, and hold none of the command's streams open.
        if let Some(r) = &ctx.setup.landlock {
            libc::close(r.raw_fd());
        }
        for &fd in &ctx.setup.cgroup_procs {
            libc::close(fd);
        }
        libc::close(ctx.start_pipe);
        for fd in 0..3 {
            libc::close(fd);
        }
    }
    Ok(())
}

/// The command's process of an isolated run: everything was set up by the
/// init; close the start pipe and exec.
extern "C" fn command_main(arg: *mut c_void) -> c_int {
    // SAFETY: as for child_main (the init is suspended until we exec).
    let ctx = unsafe { &*(arg as *const ChildContext<'_>) };
    // SAFETY: we are the child between clone and exec.
    let e = unsafe {
        match ctx.setup.restrict().and_then(|()| ctx.setup.lock_down()) {
            Ok(()) => {
                close_above_stdio();
                exec_program(ctx)
            }
            Err(e) => e,
        }
    };
    if let Some(init) = ctx.init {
        init.failed.set(e);
    }
    // SAFETY: _exit ends only this child.
    unsafe { libc::_exit(127) }
}

/// What an isolated run's init shares with the host: its stacks and what
/// it reports. Lives in the run (boxed, never moved while the init runs)
/// until the init has been reaped: the init runs in the host's memory.
pub struct RunInit {
    stacks: [Box<[std::mem::MaybeUninit<u8>]>; 2],
    command_pid: AtomicI32,
    exited: std::sync::atomic::AtomicBool,
    status: AtomicI32,
    usage: std::cell::UnsafeCell<libc::rusage>,
    failed: FailedStep,
}

// SAFETY: `usage` is written by the init before `exited` is set (SeqCst)
// and read by the host only after it has reaped the init.
unsafe impl Sync for RunInit {}
// SAFETY: as above; nothing in it is tied to a thread.
unsafe impl Send for RunInit {}

impl std::fmt::Debug for RunInit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunInit")
            .field("command_pid", &self.command_pid)
            .finish_non_exhaustive()
    }
}

impl RunInit {
    fn new() -> Box<RunInit> {
        let stack = || {
            let mut v = Vec::with_capacity(CHILD_STACK);
            // SAFETY: MaybeUninit needs no initialisation.
            unsafe { v.set_len(CHILD_STACK) };
            v.into_boxed_slice()
        };
        Box::new(RunInit {
            stacks: [stack(), stack()],
            command_pid: AtomicI32::new(0),
            exited: std::sync::atomic::AtomicBool::new(false),
            status: AtomicI32::new(0),
            // SAFETY: an all-zero rusage is valid.
            usage: std::cell::UnsafeCell::new(unsafe { std::mem::zeroed() }),
            failed: FailedStep::default(),
        })
    }

    fn stack_top(&self, i: usize) -> *mut u8 {
        let s = &self.stacks[i];
        // SAFETY: one past the end of the allocation, aligned down.
        unsafe {
            let top = (s.as_ptr() as *mut u8).add(s.len());
            top.sub(top as usize % 16)
        }
    }

    fn record_exit(&self, status: c_int, usage: &libc::rusage) {
        // SAFETY: only the init writes, once, before setting `exited`.
        unsafe { *self.usage.get() = *usage };
        self.status.store(status, Ordering::SeqCst);
        self.exited.store(true, Ordering::SeqCst);
    }

    /// The command's wait status and resource usage, once the init has
    /// been reaped; `None` when the init died before the command (killed
    /// with the run).
    pub fn command_exit(&self) -> Option<(c_int, libc::rusage)> {
        if !self.exited.load(Ordering::SeqCst) {
            return None;
        }
        // SAFETY: written before `exited` was set; the init is gone.
        Some((self.status.load(Ordering::SeqCst), unsafe {
            *self.usage.get()
        }))
    }
}

/// The `&'static str` stored as address and length by `fail`.
fn step_text(step: &(AtomicUsize, AtomicUsize)) -> &'static str {
    let (ptr, len) = (step.0.load(Ordering::SeqCst), step.1.load(Ordering::SeqCst));
    if ptr == 0 {
        return "starting the command";
    }
    // SAFETY: stored from a `&'static str`.
    unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(ptr as *const u8, len)) }
}

/// Resets signal handling for the child (no handler of the parent may run
/// here, we share its memory): default dispositions and an empty mask, as
/// glibc's posix_spawn does (64 queries cost about 10 us).
///
/// # Safety
/// Must run in the child between `clone` and `exec`.
unsafe fn reset_signals() {
    // SAFETY: sigaction and sigprocmask on stack structures.
    unsafe {
        let mut dfl: libc::sigaction = std::mem::zeroed();
        dfl.sa_sigaction = libc::SIG_DFL;
        for sig in 1..libc::SIGRTMAX() {
            if sig == libc::SIGKILL || sig == libc::SIGSTOP {
                continue;
            }
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut old) == 0
                && (old.sa_sigaction != libc::SIG_IGN || sig == libc::SIGPIPE)
                && old.sa_sigaction != libc::SIG_DFL
            {
                libc::sigaction(sig, &dfl, std::ptr::null_mut());
            }
        }
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::pthread_sigmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    }
}

/// Prepares the command's process and execs; returns the failed step.
///
/// # Safety
/// Must run in the child between `clone` and `exec`.
unsafe fn child_exec(ctx: &ChildContext<'_>) -> StepError {
    // SAFETY: system calls on descriptors and strings the parent prepared;
    // nothing here allocates or takes a lock.
    unsafe {
        reset_signals();
        if let Err(e) = move_streams(ctx) {
            return e;
        }
        if let Err(e) = ctx.setup.apply(ctx.parent) {
            return e;
        }
        // Nothing of the host's but the three streams reaches the command
        // (descriptors opened without close-on-exec included).
        close_above_stdio();
        exec_program(ctx)
    }
}

/// Moves the run's pipe ends onto 0, 1 and 2.
///
/// # Safety
/// Must run in a child between `clone` and `exec`.
unsafe fn move_streams(ctx: &ChildContext<'_>) -> Result<(), StepError> {
    // SAFETY: fcntl and dup2 on descriptors the parent prepared.
    unsafe {
        // Move the pipe ends above 2 first so no dup2 clobbers another.
        // -1: `/dev/null` (of the run's view, for a view built ahead).
        let mut high = [0; 3];
        for (i, &fd) in ctx.fds.iter().enumerate() {
            high[i] = if fd >= 0 {
                libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3)
            } else {
                let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
                let moved = if null >= 0 {
                    libc::fcntl(null, libc::F_DUPFD_CLOEXEC, 3)
                } else {
                    -1
                };
                if null >= 0 {
                    libc::close(null);
                }
                moved
            };
            if high[i] == -1 {
                return Err((errno(), "passing the standard streams"));
            }
        }
        for (target, fd) in high.iter().enumerate() {
            if libc::dup2(*fd, target as c_int) == -1 {
                return Err((errno(), "passing the standard streams"));
            }
        }
        for fd in high {
            libc::close(fd);
        }
    }
    Ok(())
}

/// Tries each candidate path, as `execvp` does; returns the error.
///
/// # Safety
/// Must run in a child between `clone` and `exec`.
unsafe fn exec_program(ctx: &ChildContext<'_>) -> StepError {
    // SAFETY: NUL-terminated arrays prepared by the parent.
    unsafe {
        let mut first_error = libc::ENOENT;
        for (i, program) in ctx.programs.iter().enumerate() {
            let e = match raw::syscall(
                libc::SYS_execve,
                [
                    program.as_ptr() as usize,
                    ctx.argv as usize,
                    ctx.envp as usize,
                    0,
                    0,
                    0,
                ],
            ) {
                Err(e) => e,
                Ok(_) => libc::EIO,
            };
            if i == 0 || first_error == libc::ENOENT {
                first_error = e;
            }
        }
        (first_error, "starting the program")
    }
}

/// The most descriptors the init keeps open for the command.
const MAX_KEPT: usize = 12;

/// Closes every descriptor above 2 but those in `keep` (at most
/// [`MAX_KEPT`]; negative entries are ignored).
///
/// # Safety
/// Must run in a child that owns its descriptor table.
unsafe fn close_all_but(keep: &[c_int]) {
    let mut sorted = [c_int::MAX; MAX_KEPT];
    let mut n = 0;
    for &fd in keep.iter().filter(|&&fd| fd >= 3).take(MAX_KEPT) {
        sorted[n] = fd;
        n += 1;
    }
    sorted[..n].sort_unstable();
    let mut from: u32 = 3;
    for &fd in &sorted[..n] {
        let fd = fd as u32;
        if fd > from {
            // SAFETY: closing descriptors of this child's own table.
            unsafe { libc::syscall(libc::SYS_close_range, from, fd - 1, 0u32) };
        }
        from = from.max(fd + 1);
    }
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_close_range, from, u32::MAX, 0u32) };
}

/// Closes (or, where `close_range` is missing, marks close-on-exec) every
/// descriptor above 2.
///
/// # Safety
/// Must run in the child between `clone` and `exec`.
unsafe fn close_above_stdio() {
    // SAFETY: closing descriptors of this child's own table (not shared:
    // no CLONE_FILES).
    unsafe {
        if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) == 0 {
            return;
        }
        let mut lim: libc::rlimit = std::mem::zeroed();
        let max = if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur.min(1 << 20) as c_int
        } else {
            1024
        };
        for fd in 3..max {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
    }
}

/// `/dev/null`, opened once (close-on-exec) and given to every child as
/// its stdin when it has none.
fn dev_null() -> io::Result<RawFd> {
    static NULL: OnceLock<Result<OwnedFd, String>> = OnceLock::new();
    match NULL.get_or_init(|| {
        std::fs::File::open("/dev/null")
            .map(OwnedFd::from)
            .map_err(|e| e.to_string())
    }) {
        Ok(fd) => Ok(fd.as_raw_fd()),
        Err(e) => Err(io::Error::other(format!("cannot open /dev/null: {e}"))),
    }
}

/// Starts the command on the calling thread.
fn spawn_here(spec: &SpawnSpec) -> io::Result<Spawned> {
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let (stdin_child, stdin_parent) = if spec.stdin_pipe {
        let (r, w) = pipe()?;
        (Some(r), Some(w))
    } else {
        (None, None)
    };
    let stdin_fd = match &stdin_child {
        Some(r) => r.as_raw_fd(),
        None => dev_null()?,
    };
    let ptrs = |v: &[CString]| -> Vec<*const c_char> {
        v.iter()
            .map(|c| c.as_ptr())
            .chain([std::ptr::null()])
            .collect()
    };
    let argv = ptrs(&spec.argv);
    let envp = ptrs(&spec.envp);
    let isolated = spec.setup.namespaces.is_some();
    let init = isolated.then(RunInit::new);
    // Isolated runs: the init closes its end of this pipe once the command
    // has started (or failed); reading it to its end is how we wait.
    let start = if isolated { Some(pipe()?) } else { None };
    let ctx = ChildContext {
        programs: &spec.programs,
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        fds: [stdin_fd, out_w.as_raw_fd(), err_w.as_raw_fd()],
        setup: &spec.setup,
        // SAFETY: getpid has no preconditions.
        parent: unsafe { libc::getpid() },
        init: init.as_deref(),
        start_pipe: start.as_ref().map_or(-1, |(_, w)| w.as_raw_fd()),
        go: -1,
        pid: AtomicI32::new(0),
        failed: FailedStep::default(),
    };
    let entry = if isolated { enter_main } else { child_main };
    // SAFETY: the children only make raw system calls and exec or exit;
    // `ctx` lives on this frame, which outlives the suspended clone (and,
    // for the init, our wait on the start pipe below).
    let first = unsafe {
        vfork_call(
            entry,
            &ctx as *const ChildContext<'_> as *mut c_void,
            CHILD_STACK,
        )?
    };
    let pid = match start {
        None => first,
        Some((start_r, start_w)) => {
            // The first child has exited; the init (our child too) goes on.
            let _ = wait4(first);
            drop(start_w);
            let pid = ctx.pid.load(Ordering::SeqCst);
            if pid > 0 {
                wait_closed(&start_r);
            }
            pid
        }
    };
    let failure = ctx
        .failed
        .get()
        .or_else(|| init.as_ref().and_then(|i| i.failed.get()));
    if let Some(failure) = failure {
        if pid > 0 {
            let _ = wait4(pid);
        }
        let os = io::Error::from_raw_os_error(failure.errno);
        return Err(io::Error::new(os.kind(), failure));
    }
    Ok(Spawned {
        pid,
        stdin: stdin_parent,
        stdout: out_r,
        stderr: err_r,
        init,
    })
}

/// An isolated run's init started ahead of its run, by the slot thread:
/// in the run's namespaces, with the filesystem view built and nothing of
/// the host's open, waiting on a socket for the command it is to start
/// ([`spawn_warm`]). What is left for the run itself is the command's own
/// process (cgroups, limits, user, Landlock, seccomp, `exec`).
///
/// Dropped unused, the init is told to go (its socket closes), killed and
/// reaped: it runs in this process's memory.
pub struct WarmInit {
    pid: libc::pid_t,
    made: std::time::Instant,
    init: Option<Box<RunInit>>,
    setup: ChildSetup,
    /// Our end of the go socket.
    go: Option<OwnedFd>,
    /// Read end of the start pipe.
    start: OwnedFd,
    /// Our ends of the command's stdin, stdout and stderr pipes.
    streams: Option<[OwnedFd; 3]>,
    /// The init's numbers for its ends: stdin, stdout, stderr, start.
    child_fds: [RawFd; 4],
}

impl std::fmt::Debug for WarmInit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WarmInit")
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl WarmInit {
    /// The init's pid (PID 1 of the run's pid namespace).
    pub fn pid(&self) -> libc::pid_t {
        self.pid
    }

    /// How long ago its view was built.
    pub fn age(&self) -> std::time::Duration {
        self.made.elapsed()
    }

    /// The filesystem view it built.
    pub fn mounts(&self) -> Option<&MountPlan> {
        self.setup.mounts.as_ref()
    }
}

impl Drop for WarmInit {
    fn drop(&mut self) {
        let Some(init) = self.init.take() else {
            return;
        };
        drop(self.go.take());
        // SAFETY: our unreaped child (its pid cannot have been reused).
        unsafe { libc::kill(self.pid, libc::SIGKILL) };
        let _ = wait4(self.pid);
        // Only now is the init's memory free.
        drop(init);
    }
}

fn go_socket() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid two-element array.
    if unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    } == -1
    {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: socketpair returned two new descriptors we now own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Why [`spawn_warm`] did not start the command.
#[derive(Debug)]
pub enum WarmSpawnError {
    /// The init was gone before it was told to go: nothing of the run has
    /// started; here is the spec back, to start it the usual way.
    Gone(Box<SpawnSpec>),
    /// The command could not be started in the view.
    Failed(io::Error),
}

/// Starts an init that builds the run's view now (`setup`: the
/// namespaces, the mounts, the Landlock ruleset and cgroup files the
/// command will use) and waits for its command. Returns once the view is
/// built, or the step that failed.
pub fn prepare_warm(setup: ChildSetup) -> io::Result<WarmInit> {
    if setup.namespaces.is_none() || setup.mounts.is_none() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a view built ahead needs the run's namespaces and mounts",
        ));
    }
    let (in_r, in_w) = pipe()?;
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let (start_r, start_w) = pipe()?;
    let (go, go_child) = go_socket()?;
    let init = RunInit::new();
    let ctx = ChildContext {
        programs: &[],
        argv: std::ptr::null(),
        envp: std::ptr::null(),
        fds: [in_r.as_raw_fd(), out_w.as_raw_fd(), err_w.as_raw_fd()],
        setup: &setup,
        // SAFETY: getpid has no preconditions.
        parent: unsafe { libc::getpid() },
        init: Some(&init),
        start_pipe: start_w.as_raw_fd(),
        go: go_child.as_raw_fd(),
        pid: AtomicI32::new(0),
        failed: FailedStep::default(),
    };
    // SAFETY: as in spawn_here; `ctx` outlives the init's use of it (until
    // it writes to the start pipe, which we read below).
    let first = unsafe {
        vfork_call(
            enter_main,
            &ctx as *const ChildContext<'_> as *mut c_void,
            CHILD_STACK,
        )?
    };
    let _ = wait4(first);
    let child_fds = [
        in_r.as_raw_fd(),
        out_w.as_raw_fd(),
        err_w.as_raw_fd(),
        start_w.as_raw_fd(),
    ];
    // The init has its own copies (or never started).
    drop((in_r, out_w, err_w, start_w, go_child));
    let pid = ctx.pid.load(Ordering::SeqCst);
    let mut ready = [0u8; 1];
    let got = if pid > 0 {
        loop {
            // SAFETY: a read into a stack buffer from a pipe we own.
            let n = unsafe { libc::read(start_r.as_raw_fd(), ready.as_mut_ptr().cast(), 1) };
            if n >= 0 || errno() != libc::EINTR {
                break n;
            }
        }
    } else {
        0
    };
    if got != 1 {
        if pid > 0 {
            let _ = wait4(pid);
        }
        let failure = ctx.failed.get().or_else(|| init.failed.get());
        return Err(match failure {
            Some(f) => io::Error::new(io::Error::from_raw_os_error(f.errno).kind(), f),
            None => io::Error::other("the run's init ended while building the view"),
        });
    }
    Ok(WarmInit {
        pid,
        made: std::time::Instant::now(),
        init: Some(init),
        setup,
        go: Some(go),
        start: start_r,
        streams: Some([in_w, out_r, err_r]),
        child_fds,
    })
}

/// Starts `spec`'s command in a [`WarmInit`]'s view. The view's parts of
/// the setup (namespaces, mounts, Landlock ruleset, cgroup files) are the
/// warm init's, as are Landlock and seccomp, which the init enforced on
/// itself; `spec.setup` gives the rest (limits, user, working directory,
/// `no_new_privs`, dropping capabilities).
pub fn spawn_warm(mut warm: WarmInit, spec: SpawnSpec) -> Result<Spawned, WarmSpawnError> {
    // Still there? (It lives beside us; it could have been killed.)
    // SAFETY: a null signal to our unreaped child.
    if unsafe { libc::kill(warm.pid, 0) } != 0 {
        return Err(WarmSpawnError::Gone(Box::new(spec)));
    }
    let mut spec = spec;
    let namespaces = spec.setup.namespaces;
    spec.setup.namespaces = warm.setup.namespaces.take();
    spec.setup.mounts = warm.setup.mounts.take();
    spec.setup.cgroup_procs = std::mem::take(&mut warm.setup.cgroup_procs);
    // Seccomp is the init's already (see ChildSetup::confine); Landlock is
    // enforced again by the command, nested in the init's domain.
    spec.setup.landlock = warm.setup.landlock.take();
    let seccomp = spec.setup.seccomp.take();
    let ptrs = |v: &[CString]| -> Vec<*const c_char> {
        v.iter()
            .map(|c| c.as_ptr())
            .chain([std::ptr::null()])
            .collect()
    };
    let argv = ptrs(&spec.argv);
    let envp = ptrs(&spec.envp);
    let [stdin, stdout, stderr, start] = warm.child_fds;
    let init = warm.init.take().expect("an unused warm init");
    let ctx = ChildContext {
        programs: &spec.programs,
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        fds: [if spec.stdin_pipe { stdin } else { -1 }, stdout, stderr],
        setup: &spec.setup,
        // SAFETY: getpid has no preconditions.
        parent: unsafe { libc::getpid() },
        init: Some(&init),
        start_pipe: start,
        go: -1,
        pid: AtomicI32::new(warm.pid),
        failed: FailedStep::default(),
    };
    let address = (&ctx as *const ChildContext<'_> as usize).to_ne_bytes();
    let go = warm.go.take().expect("an unused warm init");
    // SAFETY: a send from a stack buffer on a socket we own; no SIGPIPE if
    // the init is gone.
    let sent = unsafe {
        libc::send(
            go.as_raw_fd(),
            address.as_ptr().cast(),
            address.len(),
            libc::MSG_NOSIGNAL,
        )
    };
    let pid = warm.pid;
    if sent != address.len() as isize {
        // The init died before it was told to go: nothing of the run has
        // started; the caller builds a view of its own.
        let _ = &ctx;
        drop(go);
        // `warm` (dropped at the end) reaps it; the spec goes back whole.
        warm.init = Some(init);
        spec.setup.namespaces = namespaces;
        spec.setup.mounts = None;
        spec.setup.landlock = None;
        spec.setup.cgroup_procs = Vec::new();
        spec.setup.seccomp = seccomp;
        return Err(WarmSpawnError::Gone(Box::new(spec)));
    }
    // `ctx` must live until the init has started the command.
    wait_closed(&warm.start);
    drop(go);
    if let Some(failure) = ctx.failed.get().or_else(|| init.failed.get()) {
        let _ = wait4(pid);
        let os = io::Error::from_raw_os_error(failure.errno);
        return Err(WarmSpawnError::Failed(io::Error::new(os.kind(), failure)));
    }
    let [stdin, stdout, stderr] = warm.streams.take().expect("an unused warm init");
    Ok(Spawned {
        pid,
        stdin: spec.stdin_pipe.then_some(stdin),
        stdout,
        stderr,
        init: Some(init),
    })
}

/// Reads `pipe` until every write end is closed.
fn wait_closed(pipe: &OwnedFd) {
    let mut buf = [0u8; 16];
    loop {
        // SAFETY: reading into a stack buffer from a descriptor we own.
        let n = unsafe { libc::read(pipe.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n == 0 || (n < 0 && errno() != libc::EINTR) {
            return;
        }
    }
}

/// Runs `entry(arg)` in a `vfork`-style child: `clone(CLONE_VM |
/// CLONE_VFORK)` on a stack of `stack_size` bytes, with every signal
/// blocked around the clone so that no handler runs on the shared memory
/// in the child. This thread is suspended until the child execs or exits.
/// Returns the child's pid (reap it with [`wait4`]).
///
/// # Safety
///
/// `entry` must only make raw system calls (no libc wrappers that touch
/// shared state, such as `setresuid`'s thread broadcast), reset signal
/// handling before unblocking signals, and end with `execve` or `_exit`;
/// `arg` must stay valid until this returns.
pub unsafe fn vfork_call(
    entry: extern "C" fn(*mut c_void) -> c_int,
    arg: *mut c_void,
    stack_size: usize,
) -> io::Result<libc::pid_t> {
    // SAFETY: the caller's guarantees.
    unsafe { vfork_call_with(entry, arg, stack_size, 0) }
}

/// [`vfork_call`] with more `clone` flags (namespaces, `CLONE_FILES`).
///
/// # Safety
/// As for [`vfork_call`].
pub unsafe fn vfork_call_with(
    entry: extern "C" fn(*mut c_void) -> c_int,
    arg: *mut c_void,
    stack_size: usize,
    flags: c_int,
) -> io::Result<libc::pid_t> {
    // Not zeroed: a stack needs no initial contents, and zeroing (or
    // faulting in) a fresh buffer on every spawn is measurable.
    let mut stack: Vec<std::mem::MaybeUninit<u8>> = Vec::with_capacity(stack_size);
    // SAFETY: the stack outlives the child's use of it (CLONE_VFORK
    // suspends us until the child execs or exits); the caller vouches for
    // `entry` and `arg`.
    let pid = unsafe {
        let top = stack.as_mut_ptr().add(stack_size);
        let top = top.sub(top as usize % 16);
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        let pid = libc::clone(
            entry,
            top.cast(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD | flags,
            arg,
        );
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        pid
    };
    drop(stack);
    if pid == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(pid)
}

/// `fd`, or a close-on-exec duplicate of it numbered 3 or above when it is
/// 0, 1 or 2 (possible when this process runs with standard streams
/// closed). Descriptors the child uses after moving its pipes onto 0-2 must
/// not be among them.
pub fn above_stdio(fd: OwnedFd) -> io::Result<OwnedFd> {
    at_least(fd, 3)
}

fn at_least(fd: OwnedFd, min: RawFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() >= min {
        return Ok(fd);
    }
    // SAFETY: fcntl on a descriptor we own; the result is a new descriptor.
    let dup = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, min) };
    if dup == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fcntl returned a new descriptor we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(dup) })
}

/// Why the command could not be started: the step and its `errno`.
#[derive(Debug)]
pub struct SpawnError {
    /// What the child was doing.
    pub step: &'static str,
    /// The error number.
    pub errno: c_int,
}

impl std::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}",
            self.step,
            io::Error::from_raw_os_error(self.errno)
        )
    }
}

impl std::error::Error for SpawnError {}

/// Starts the command. The calling thread is suspended until the child
/// has called `exec` (typically 100–300 us), as with `posix_spawn`.
///
/// The parent-death signal is tied to the calling thread: runs are driven
/// by a runtime worker or a `block_on` thread, which live at least as long
/// as the run's future (and dropping that future kills the run anyway).
pub fn spawn(spec: SpawnSpec) -> io::Result<Spawned> {
    spawn_here(&spec)
}

/// Waits for `pid` and returns its wait status and resource usage.
pub fn wait4(pid: libc::pid_t) -> io::Result<(libc::c_int, libc::rusage)> {
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value to be overwritten.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to locals.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            return Ok((status, usage));
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Sends `signal` to the process group `pgid` (ignoring a group that is
/// already gone).
pub fn kill_group(pgid: libc::pid_t, signal: libc::c_int) {
    // SAFETY: kill(2) has no memory-safety preconditions; a negative pid
    // addresses the group.
    unsafe { libc::kill(-pgid, signal) };
}

/// Reaps `pid` if it has exited.
fn try_wait4(pid: libc::pid_t) -> io::Result<Option<(libc::c_int, libc::rusage)>> {
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value to be overwritten.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointers to locals.
    match unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) } {
        r if r == pid => Ok(Some((status, usage))),
        0 => Ok(None),
        _ => Err(io::Error::last_os_error()),
    }
}

/// Waits for `pid` to exit and reaps it: through a pidfd on the runtime's
/// event loop, or on a blocking thread where pidfds are not available
/// (Linux before 5.3).
pub async fn wait_exit(pid: libc::pid_t) -> io::Result<(libc::c_int, libc::rusage)> {
    // SAFETY: pidfd_open has no memory-safety preconditions.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return tokio::task::spawn_blocking(move || wait4(pid))
            .await
            .map_err(io::Error::other)?;
    }
    // SAFETY: the kernel just returned this descriptor to us.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
    // SAFETY: the OwnedFd is moved into the AsyncFd, which owns it until it
    // is dropped; nothing else closes or replaces it.
    let fd = unsafe {
        tokio::io::unix::AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE)
    }
    .map_err(io::Error::from)?;
    loop {
        let mut ready = fd.readable().await?;
        if let Some(done) = try_wait4(pid)? {
            return Ok(done);
        }
        ready.clear_ready();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_below_the_minimum_are_moved_above_it() {
        let file = OwnedFd::from(std::fs::File::open("/dev/null").unwrap());
        let raw = file.as_raw_fd();
        // Kept as is when already high enough.
        let same = at_least(file, raw).unwrap();
        assert_eq!(same.as_raw_fd(), raw);
        // Duplicated (close-on-exec) when below.
        let moved = at_least(same, raw + 10).unwrap();
        assert!(moved.as_raw_fd() >= raw + 10);
        // SAFETY: F_GETFD on a descriptor we own.
        let flags = unsafe { libc::fcntl(moved.as_raw_fd(), libc::F_GETFD) };
        assert_ne!(flags & libc::FD_CLOEXEC, 0);
        assert!(above_stdio(moved).unwrap().as_raw_fd() >= 3);
    }
}
