//! Setting up the child between `fork` and `exec` (new session, cgroups,
//! network namespace, rlimits, unprivileged user, parent-death signal), and
//! the long-lived thread that spawns children so that the parent-death
//! signal is tied to the process, not to a short-lived thread.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::sync::{LazyLock, Mutex};

/// The type of `setrlimit`'s resource argument on this C library.
#[cfg(target_env = "gnu")]
pub type Resource = libc::__rlimit_resource_t;
/// The type of `setrlimit`'s resource argument on this C library.
#[cfg(not(target_env = "gnu"))]
pub type Resource = libc::c_int;

/// Everything the child does before `exec`, prepared in the parent so the
/// child only makes system calls (no allocation after `fork`).
#[derive(Debug, Clone, Default)]
pub struct ChildSetup {
    /// `cgroup.procs` files to join.
    pub cgroup_procs: Vec<CString>,
    /// Join this (empty) network namespace.
    pub network_namespace: Option<RawFd>,
    /// Resource limits: `(resource, soft, hard)`.
    pub rlimits: Vec<(Resource, libc::rlim_t, libc::rlim_t)>,
    /// Switch to this uid and gid (dropping supplementary groups).
    pub run_as: Option<(u32, u32)>,
}

impl ChildSetup {
    /// Installs the setup on `cmd`.
    pub fn install(self, cmd: &mut Command) {
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: the closure only calls async-signal-safe system calls on
        // data prepared before the fork; it allocates nothing.
        unsafe {
            cmd.pre_exec(move || self.apply(parent));
        }
    }

    fn apply(&self, parent: libc::pid_t) -> io::Result<()> {
        fn check(r: libc::c_int) -> io::Result<()> {
            if r == -1 {
                Err(io::Error::last_os_error())
            } else {
                Ok(())
            }
        }
        // SAFETY (whole block): plain system calls with valid arguments; the
        // paths are NUL-terminated CStrings owned by `self`.
        unsafe {
            check(libc::setsid())?;
            for path in &self.cgroup_procs {
                let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                check(fd)?;
                let written = libc::write(fd, b"0".as_ptr().cast(), 1);
                let saved = io::Error::last_os_error();
                libc::close(fd);
                if written != 1 {
                    return Err(saved);
                }
            }
            if let Some(fd) = self.network_namespace {
                check(libc::setns(fd, libc::CLONE_NEWNET))?;
            }
            for &(resource, soft, hard) in &self.rlimits {
                let lim = libc::rlimit {
                    rlim_cur: soft,
                    rlim_max: hard,
                };
                check(libc::setrlimit(resource, &lim))?;
            }
            if let Some((uid, gid)) = self.run_as {
                check(libc::setgroups(0, std::ptr::null()))?;
                check(libc::setgid(gid))?;
                check(libc::setuid(uid))?;
            }
            // After the uid change, which clears it.
            check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL))?;
            if libc::getppid() != parent {
                // The parent died before the signal was armed.
                libc::_exit(137);
            }
        }
        Ok(())
    }
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
                Ok(OwnedFd::from_raw_fd(fd))
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

type Job = (Command, mpsc::Sender<io::Result<Child>>);

/// The spawner thread's queue. The thread lives as long as the process, so
/// `PR_SET_PDEATHSIG` (which fires when the *thread* that forked exits)
/// fires only when the process dies.
static SPAWNER: LazyLock<Mutex<mpsc::Sender<Job>>> = LazyLock::new(|| {
    let (tx, rx) = mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("sandboxcore-spawner".into())
        .spawn(move || {
            for (mut cmd, reply) in rx {
                let _ = reply.send(cmd.spawn());
            }
        })
        .expect("cannot start the sandboxcore spawner thread");
    Mutex::new(tx)
});

/// Spawns `cmd` on the spawner thread.
pub fn spawn(cmd: Command) -> io::Result<Child> {
    let (reply_tx, reply_rx) = mpsc::channel();
    SPAWNER
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send((cmd, reply_tx))
        .map_err(|_| io::Error::other("the sandboxcore spawner thread is gone"))?;
    reply_rx
        .recv()
        .map_err(|_| io::Error::other("the sandboxcore spawner thread is gone"))?
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
