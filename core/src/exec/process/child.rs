//! Starting the command: a `vfork`-style `clone(CLONE_VM | CLONE_VFORK)`
//! (what `posix_spawn` does: no page tables are copied, so starting a
//! command from a large host process such as a Python interpreter stays
//! cheap), then in the child, before `exec`: a new session, the run's
//! cgroups, the empty network namespace, rlimits, an unprivileged user and
//! the parent-death signal.

use std::ffi::{c_char, c_int, c_void, CString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::OnceLock;

/// The type of `setrlimit`'s resource argument on this C library.
#[cfg(target_env = "gnu")]
pub type Resource = libc::__rlimit_resource_t;
/// The type of `setrlimit`'s resource argument on this C library.
#[cfg(not(target_env = "gnu"))]
pub type Resource = libc::c_int;

/// Everything the child does before `exec`, prepared in the parent so the
/// child only makes system calls (no allocation, no locks).
#[derive(Debug, Clone, Default)]
pub struct ChildSetup {
    /// Open `cgroup.procs` files to join (written `0`, in order).
    pub cgroup_procs: Vec<RawFd>,
    /// Join this (empty) network namespace.
    pub network_namespace: Option<RawFd>,
    /// Resource limits: `(resource, soft, hard)`.
    pub rlimits: Vec<(Resource, libc::rlim_t, libc::rlim_t)>,
    /// Switch to this uid and gid (dropping supplementary groups).
    pub run_as: Option<(u32, u32)>,
}

/// The calling thread's `errno`.
fn errno() -> c_int {
    // SAFETY: __errno_location always returns a valid pointer.
    unsafe { *libc::__errno_location() }
}

impl ChildSetup {
    /// Applies the setup in the child; returns the `errno` of the step
    /// that failed. Only raw system calls: glibc's `setuid` and friends
    /// would signal the parent's threads (they share our memory).
    ///
    /// # Safety
    /// Must run in the child between `clone` and `exec`.
    unsafe fn apply(&self, parent: libc::pid_t) -> Result<(), c_int> {
        // SAFETY: plain system calls on data prepared by the parent.
        unsafe {
            let check = |r: libc::c_long| if r == -1 { Err(errno()) } else { Ok(()) };
            check(libc::syscall(libc::SYS_setsid))?;
            for &fd in &self.cgroup_procs {
                if libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                    return Err(errno());
                }
            }
            if let Some(fd) = self.network_namespace {
                check(libc::setns(fd, libc::CLONE_NEWNET).into())?;
            }
            for &(resource, soft, hard) in &self.rlimits {
                let lim = libc::rlimit {
                    rlim_cur: soft,
                    rlim_max: hard,
                };
                check(libc::setrlimit(resource, &lim).into())?;
            }
            if let Some((uid, gid)) = self.run_as {
                check(libc::syscall(
                    libc::SYS_setgroups,
                    0,
                    std::ptr::null::<libc::gid_t>(),
                ))?;
                check(libc::syscall(libc::SYS_setresgid, gid, gid, gid))?;
                check(libc::syscall(libc::SYS_setresuid, uid, uid, uid))?;
            }
            // After the uid change, which clears it.
            check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL).into())?;
            if libc::getppid() != parent {
                // The parent died before the signal was armed.
                libc::_exit(137);
            }
        }
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
    /// The working directory.
    pub cwd: CString,
    /// Give the child a pipe for stdin (else `/dev/null`).
    pub stdin_pipe: bool,
    /// What the child does before `exec`.
    pub setup: ChildSetup,
}

/// A started command and the parent's ends of its pipes.
#[derive(Debug)]
pub struct Spawned {
    /// The process id (also its process group and session id).
    pub pid: libc::pid_t,
    /// Write end of its stdin, when a pipe was asked for.
    pub stdin: Option<OwnedFd>,
    /// Read end of its stdout.
    pub stdout: OwnedFd,
    /// Read end of its stderr.
    pub stderr: OwnedFd,
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

/// What the child reads; lives on the parent's stack during the `vfork`.
struct ChildContext<'a> {
    programs: &'a [CString],
    argv: *const *const c_char,
    envp: *const *const c_char,
    cwd: *const c_char,
    fds: [RawFd; 3],
    setup: &'a ChildSetup,
    parent: libc::pid_t,
    error: AtomicI32,
}

extern "C" fn child_main(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the ChildContext the parent passed to clone; the
    // parent is suspended until we exec or exit, so it is alive.
    let ctx = unsafe { &*(arg as *const ChildContext<'_>) };
    // SAFETY: we are the child between clone and exec.
    let e = unsafe { child_exec(ctx) };
    ctx.error.store(e.max(1), Ordering::SeqCst);
    // SAFETY: _exit ends only this child.
    unsafe { libc::_exit(127) }
}

/// Prepares the child and execs; returns `errno` if anything fails.
///
/// # Safety
/// Must run in the child between `clone` and `exec`.
unsafe fn child_exec(ctx: &ChildContext<'_>) -> c_int {
    // SAFETY: system calls on descriptors and strings the parent prepared;
    // nothing here allocates or takes a lock.
    unsafe {
        // No handler of the parent may run here (we share its memory), and the
        // command starts with default dispositions and an empty signal mask
        // (as glibc's posix_spawn does; 64 queries cost about 10 us).
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
        // Move the pipe ends above 2 first so no dup2 clobbers another.
        let mut high = [0; 3];
        for (i, fd) in ctx.fds.iter().enumerate() {
            high[i] = libc::fcntl(*fd, libc::F_DUPFD_CLOEXEC, 3);
            if high[i] == -1 {
                return errno();
            }
        }
        for (target, fd) in high.iter().enumerate() {
            if libc::dup2(*fd, target as c_int) == -1 {
                return errno();
            }
        }
        if libc::chdir(ctx.cwd) == -1 {
            return errno();
        }
        if let Err(e) = ctx.setup.apply(ctx.parent) {
            return e;
        }
        let mut first_error = libc::ENOENT;
        for (i, program) in ctx.programs.iter().enumerate() {
            libc::execve(program.as_ptr(), ctx.argv, ctx.envp);
            let e = errno();
            if i == 0 || first_error == libc::ENOENT {
                first_error = e;
            }
        }
        first_error
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
    let ctx = ChildContext {
        programs: &spec.programs,
        argv: argv.as_ptr(),
        envp: envp.as_ptr(),
        cwd: spec.cwd.as_ptr(),
        fds: [stdin_fd, out_w.as_raw_fd(), err_w.as_raw_fd()],
        setup: &spec.setup,
        // SAFETY: getpid has no preconditions.
        parent: unsafe { libc::getpid() },
        error: AtomicI32::new(0),
    };
    // SAFETY: child_main only makes raw system calls and execs or exits;
    // `ctx` lives on this frame, which outlives the suspended clone.
    let pid = unsafe {
        vfork_call(
            child_main,
            &ctx as *const ChildContext<'_> as *mut c_void,
            CHILD_STACK,
        )?
    };
    let e = ctx.error.load(Ordering::SeqCst);
    if e != 0 {
        let _ = wait4(pid);
        return Err(io::Error::from_raw_os_error(e));
    }
    Ok(Spawned {
        pid,
        stdin: stdin_parent,
        stdout: out_r,
        stderr: err_r,
    })
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
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
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

/// A network namespace with nothing in it but a loopback device that is
/// down, created once and joined by every run that gets no network
/// (`setns` costs microseconds; creating a namespace per run costs about
/// a millisecond). Needs `CAP_SYS_ADMIN`.
pub fn empty_network_namespace() -> io::Result<RawFd> {
    static NS: OnceLock<Result<OwnedFd, String>> = OnceLock::new();
    let ns = NS.get_or_init(|| {
        // unshare() moves only the calling thread, so use a throwaway one.
        std::thread::spawn(|| -> io::Result<OwnedFd> {
            // SAFETY: plain system calls; the path is a NUL-terminated literal.
            unsafe {
                if libc::unshare(libc::CLONE_NEWNET) == -1 {
                    return Err(io::Error::last_os_error());
                }
                let fd = libc::open(
                    c"/proc/thread-self/ns/net".as_ptr(),
                    libc::O_RDONLY | libc::O_CLOEXEC,
                );
                if fd == -1 {
                    return Err(io::Error::last_os_error());
                }
                above_stdio(OwnedFd::from_raw_fd(fd))
            }
        })
        .join()
        .map_err(|_| "the namespace thread panicked".to_string())
        .and_then(|r| r.map_err(|e| e.to_string()))
    });
    match ns {
        Ok(fd) => Ok(fd.as_raw_fd()),
        Err(e) => Err(io::Error::other(format!(
            "cannot create an empty network namespace: {e}"
        ))),
    }
}

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
