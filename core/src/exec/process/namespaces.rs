//! Namespaces made ahead of a run. A network namespace costs about half a
//! millisecond to create and as much to tear down, more than the rest of a
//! run's start, so each run slot gets one in the background. When the
//! caller is not root, the network namespace belongs to a user namespace
//! made with it, which maps the caller's uid and gid to themselves. The ipc
//! and uts namespaces (the host name `sandbox`) are made with them, fresh
//! for every run. The run joins these and creates its mount and pid
//! namespaces inside.
//!
//! A network namespace is given to a later run only when the run before
//! left no trace in it ([`PreparedNamespaces::into_untouched_network`]):
//! no packet ever crossed its loopback (so no connection, no `TIME_WAIT`,
//! no counter moved) and no socket is open in it. The run's processes
//! have no capabilities there, so they cannot change its addresses,
//! routes, firewall or sysctls; a namespace in which anything happened is
//! dropped and the next slot gets a fresh one.

use super::child::{above_stdio, vfork_call_with, wait4};
use std::ffi::{c_int, c_void, CString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};

/// Namespaces for one run.
#[derive(Debug)]
pub struct PreparedNamespaces {
    /// The user namespace (when the caller is not root).
    pub user: Option<OwnedFd>,
    /// The network namespace: only `lo`, up.
    pub net: OwnedFd,
    /// The ipc namespace (System V IPC, POSIX message queues).
    pub ipc: OwnedFd,
    /// The uts namespace, host name `sandbox`.
    pub uts: OwnedFd,
    /// As root with a per-run uid: a user namespace whose mapping swaps
    /// root and the run's uid and gid, for idmapped writable roots (files
    /// owned by root on the host are the run's inside, and what the run
    /// creates there is owned by root on the host).
    pub idmap: Option<OwnedFd>,
    /// What shows whether a run used the network namespace.
    trace: NetworkTrace,
}

/// A network namespace (with the user namespace that owns it, when the
/// caller is not root) in which no run has left a trace: it can serve
/// another run.
#[derive(Debug)]
pub struct UntouchedNetwork {
    user: Option<OwnedFd>,
    net: OwnedFd,
    trace: NetworkTrace,
}

/// The `/proc/net` files whose contents a run leaves in a network
/// namespace it used: the devices' counters, the protocols' counters
/// (`snmp`, `snmp6`, `netstat`: they move even when nothing crosses `lo`,
/// a failed `connect` counts), IPv6 flow labels (they linger after their
/// socket is closed), the IPv6 routing statistics (a UDP `connect` to
/// `::1` sends nothing but allocates cached routes, which count there).
/// Compared in full with what they said when the namespace was new.
/// (`sockstat` is read apart: some of its figures are the whole host's.)
const TRACE_FILES: [&std::ffi::CStr; 6] = [
    c"/proc/self/net/dev",
    c"/proc/self/net/snmp",
    c"/proc/self/net/snmp6",
    c"/proc/self/net/netstat",
    c"/proc/self/net/ip6_flowlabel",
    c"/proc/self/net/rt6_stats",
];

/// [`TRACE_FILES`] and `/proc/net/sockstat` of a network namespace, opened
/// from inside it (the open files keep showing that namespace; a file this
/// kernel does not have is left out), and what they said when it was new.
/// An untraced namespace (never handed on) has none of them.
#[derive(Debug)]
struct NetworkTrace {
    files: Vec<std::fs::File>,
    sockstat: Option<std::fs::File>,
    /// `None`: not read (the namespace is never handed on).
    baseline: Option<Vec<String>>,
}

impl NetworkTrace {
    fn read(file: &std::fs::File) -> Option<String> {
        use std::os::unix::fs::FileExt;
        let mut buf = vec![0u8; 8192];
        let mut len = 0;
        loop {
            if len == buf.len() {
                buf.resize(len * 2, 0);
            }
            match file.read_at(&mut buf[len..], len as u64) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(_) => return None,
            }
        }
        buf.truncate(len);
        String::from_utf8(buf).ok()
    }

    fn contents(&self) -> Option<Vec<String>> {
        self.files.iter().map(Self::read).collect()
    }

    /// Nothing in the counters moved since the namespace was made, no flow
    /// label is left and no socket is open in it.
    fn untouched(&self) -> bool {
        let Some(baseline) = &self.baseline else {
            return false;
        };
        let no_sockets = self
            .sockstat
            .as_ref()
            .and_then(Self::read)
            .is_some_and(|s| s.lines().next() == Some("sockets: used 0"));
        no_sockets && self.contents().as_ref() == Some(baseline)
    }
}

impl PreparedNamespaces {
    /// Every descriptor these namespaces hold (the namespaces themselves
    /// and their trace files).
    pub fn raw_fds(&self) -> Vec<std::os::fd::RawFd> {
        [Some(&self.net), Some(&self.ipc), Some(&self.uts)]
            .into_iter()
            .chain([self.user.as_ref(), self.idmap.as_ref()])
            .flatten()
            .map(AsRawFd::as_raw_fd)
            .chain(self.trace.files.iter().map(AsRawFd::as_raw_fd))
            .chain(self.trace.sockstat.iter().map(AsRawFd::as_raw_fd))
            .collect()
    }

    /// These namespaces, unused so far, for a run as `idmap` (see
    /// [`prepare`]): what `prepare(_, idmap, None)` would have made.
    pub fn for_user(mut self, idmap: Option<(u32, u32)>) -> io::Result<PreparedNamespaces> {
        self.idmap = idmap_for(idmap)?;
        Ok(self)
    }

    /// The network namespace (and its user namespace), when the run that
    /// had it left no trace in it. Call only once every process of that
    /// run is gone.
    pub fn into_untouched_network(self) -> Option<UntouchedNetwork> {
        self.trace.untouched().then_some(UntouchedNetwork {
            user: self.user,
            net: self.net,
            trace: self.trace,
        })
    }
}

struct PrepareContext {
    user: bool,
    /// Open the trace files (the namespace may be handed on).
    traced: bool,
    /// Reusing a network namespace: its user namespace (or -1) and itself.
    join_user: c_int,
    join_net: c_int,
    uid_map: CString,
    gid_map: CString,
    user_fd: AtomicI32,
    net_fd: AtomicI32,
    ipc_fd: AtomicI32,
    uts_fd: AtomicI32,
    /// [`TRACE_FILES`] (-1: not on this kernel) and `sockstat`.
    trace_fds: [AtomicI32; TRACE_FILES.len()],
    sockstat_fd: AtomicI32,
    error: AtomicI32,
    step: AtomicI32,
}

const STEPS: [&str; 9] = [
    "",
    "denying setgroups in the new user namespace",
    "writing the user namespace's uid map",
    "writing the user namespace's gid map",
    "bringing up the loopback device",
    "opening the namespace",
    "setting the host name",
    "joining a network namespace again",
    "creating ipc and uts namespaces",
];

/// Writes `data` to the file at `path`.
unsafe fn write_file(path: &std::ffi::CStr, data: &[u8]) -> Result<(), c_int> {
    // SAFETY: a NUL-terminated path and a live buffer.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(*libc::__errno_location());
        }
        let n = libc::write(fd, data.as_ptr().cast(), data.len());
        let e = *libc::__errno_location();
        libc::close(fd);
        if n != data.len() as isize {
            return Err(e.max(1));
        }
    }
    Ok(())
}

/// Brings up `lo` in the calling thread's network namespace.
unsafe fn loopback_up() -> Result<(), c_int> {
    // SAFETY: an ifreq on the stack, an ioctl on a socket we own.
    unsafe {
        let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if s < 0 {
            return Err(*libc::__errno_location());
        }
        let mut req: libc::ifreq = std::mem::zeroed();
        for (i, b) in b"lo".iter().enumerate() {
            req.ifr_name[i] = *b as libc::c_char;
        }
        let mut r = libc::ioctl(s, libc::SIOCGIFFLAGS, &mut req);
        if r == 0 {
            req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            r = libc::ioctl(s, libc::SIOCSIFFLAGS, &req);
        }
        let e = *libc::__errno_location();
        libc::close(s);
        if r != 0 {
            return Err(e);
        }
    }
    Ok(())
}

extern "C" fn prepare_main(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the PrepareContext the parent passed; it is
    // suspended (CLONE_VFORK) until we exit.
    let ctx = unsafe { &*(arg as *const PrepareContext) };
    let fail = |step: i32, e: c_int| -> c_int {
        ctx.step.store(step, Ordering::SeqCst);
        ctx.error.store(e.max(1), Ordering::SeqCst);
        // SAFETY: _exit ends only this child.
        unsafe { libc::_exit(1) }
    };
    // SAFETY: system calls on strings the parent prepared.
    unsafe {
        if ctx.join_net >= 0 {
            if ctx.join_user >= 0 && libc::setns(ctx.join_user, libc::CLONE_NEWUSER) != 0 {
                return fail(7, *libc::__errno_location());
            }
            if libc::setns(ctx.join_net, libc::CLONE_NEWNET) != 0 {
                return fail(7, *libc::__errno_location());
            }
            if libc::unshare(libc::CLONE_NEWIPC | libc::CLONE_NEWUTS) != 0 {
                return fail(8, *libc::__errno_location());
            }
        } else if ctx.user {
            if let Err(e) = write_file(c"/proc/self/setgroups", b"deny") {
                return fail(1, e);
            }
            if let Err(e) = write_file(c"/proc/self/uid_map", ctx.uid_map.as_bytes()) {
                return fail(2, e);
            }
            if let Err(e) = write_file(c"/proc/self/gid_map", ctx.gid_map.as_bytes()) {
                return fail(3, e);
            }
        }
        if ctx.join_net < 0 {
            if let Err(e) = loopback_up() {
                return fail(4, e);
            }
            if ctx.traced {
                for (path, slot) in TRACE_FILES.iter().zip(&ctx.trace_fds) {
                    // Missing (IPv6 disabled, say): nothing to compare.
                    let fd = libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
                    slot.store(fd, Ordering::SeqCst);
                }
                let fd = libc::open(
                    c"/proc/self/net/sockstat".as_ptr(),
                    libc::O_RDONLY | libc::O_CLOEXEC,
                );
                if fd < 0 {
                    return fail(5, *libc::__errno_location());
                }
                ctx.sockstat_fd.store(fd, Ordering::SeqCst);
            }
        }
        let name = b"sandbox";
        if libc::sethostname(name.as_ptr().cast(), name.len()) != 0 {
            return fail(6, *libc::__errno_location());
        }
        for (path, slot) in [
            (c"/proc/self/ns/ipc", &ctx.ipc_fd),
            (c"/proc/self/ns/uts", &ctx.uts_fd),
        ] {
            let fd = libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
            if fd < 0 {
                return fail(5, *libc::__errno_location());
            }
            slot.store(fd, Ordering::SeqCst);
        }
        if ctx.join_net >= 0 {
            libc::_exit(0)
        }
        // The descriptor table is shared (CLONE_FILES): these are the
        // parent's descriptors once we exit.
        let net = libc::open(
            c"/proc/self/ns/net".as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        );
        if net < 0 {
            return fail(5, *libc::__errno_location());
        }
        ctx.net_fd.store(net, Ordering::SeqCst);
        if ctx.user {
            let user = libc::open(
                c"/proc/self/ns/user".as_ptr(),
                libc::O_RDONLY | libc::O_CLOEXEC,
            );
            if user < 0 {
                return fail(5, *libc::__errno_location());
            }
            ctx.user_fd.store(user, Ordering::SeqCst);
        }
        libc::_exit(0)
    }
}

/// Makes a network namespace with `lo` up, inside a new user namespace
/// when `user_namespace` (the caller's uid and gid mapped to themselves),
/// or takes `reuse`; new ipc and uts namespaces; and (as root) the idmap
/// namespace for the run's `(uid, gid)`. With `traced`, what a new network
/// namespace's counters say is read, so that it can be handed on to
/// another run if the run leaves no trace in it
/// ([`PreparedNamespaces::into_untouched_network`]); without, it never is.
pub fn prepare(
    user_namespace: bool,
    idmap: Option<(u32, u32)>,
    reuse: Option<UntouchedNetwork>,
    traced: bool,
) -> io::Result<PreparedNamespaces> {
    // SAFETY: getuid/getgid have no preconditions.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let ctx = PrepareContext {
        user: user_namespace,
        traced,
        join_user: reuse
            .as_ref()
            .and_then(|r| r.user.as_ref())
            .map_or(-1, AsRawFd::as_raw_fd),
        join_net: reuse.as_ref().map_or(-1, |r| r.net.as_raw_fd()),
        uid_map: CString::new(format!("{uid} {uid} 1")).expect("no NUL"),
        gid_map: CString::new(format!("{gid} {gid} 1")).expect("no NUL"),
        user_fd: AtomicI32::new(-1),
        net_fd: AtomicI32::new(-1),
        ipc_fd: AtomicI32::new(-1),
        uts_fd: AtomicI32::new(-1),
        trace_fds: std::array::from_fn(|_| AtomicI32::new(-1)),
        sockstat_fd: AtomicI32::new(-1),
        error: AtomicI32::new(0),
        step: AtomicI32::new(0),
    };
    let flags = match (&reuse, user_namespace) {
        // The child joins the namespaces, then makes ipc and uts ones.
        (Some(_), _) => libc::CLONE_FILES,
        (None, false) => {
            libc::CLONE_FILES | libc::CLONE_NEWNET | libc::CLONE_NEWIPC | libc::CLONE_NEWUTS
        }
        (None, true) => {
            libc::CLONE_FILES
                | libc::CLONE_NEWNET
                | libc::CLONE_NEWIPC
                | libc::CLONE_NEWUTS
                | libc::CLONE_NEWUSER
        }
    };
    // SAFETY: prepare_main makes only raw system calls and exits; `ctx`
    // outlives the suspended clone.
    let pid = unsafe {
        vfork_call_with(
            prepare_main,
            &ctx as *const PrepareContext as *mut c_void,
            16 * 1024,
            flags,
        )
    }
    .map_err(|e| {
        io::Error::new(
            e.kind(),
            if user_namespace {
                format!("cannot create a user and network namespace: {e}")
            } else {
                format!("cannot create a network namespace: {e}")
            },
        )
    })?;
    let _ = wait4(pid);
    // SAFETY: the child opened these in our shared descriptor table.
    let take = |fd: i32| (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) });
    let net = take(ctx.net_fd.load(Ordering::SeqCst));
    let user = take(ctx.user_fd.load(Ordering::SeqCst));
    let ipc = take(ctx.ipc_fd.load(Ordering::SeqCst));
    let uts = take(ctx.uts_fd.load(Ordering::SeqCst));
    let trace_files: Vec<std::fs::File> = ctx
        .trace_fds
        .iter()
        .filter_map(|fd| take(fd.load(Ordering::SeqCst)))
        .map(std::fs::File::from)
        .collect();
    let sockstat = take(ctx.sockstat_fd.load(Ordering::SeqCst));
    let e = ctx.error.load(Ordering::SeqCst);
    if e != 0 {
        let step = STEPS[ctx.step.load(Ordering::SeqCst) as usize];
        return Err(io::Error::new(
            io::Error::from_raw_os_error(e).kind(),
            format!("{step}: {}", io::Error::from_raw_os_error(e)),
        ));
    }
    let (user, net, trace) = match (reuse, net, sockstat) {
        (Some(r), _, _) => (r.user, r.net, r.trace),
        (None, Some(net), sockstat) if sockstat.is_some() || !traced => {
            let mut trace = NetworkTrace {
                files: trace_files,
                sockstat: sockstat.map(std::fs::File::from),
                baseline: None,
            };
            if traced {
                trace.baseline = Some(trace.contents().ok_or_else(|| {
                    io::Error::other("cannot read the new network namespace's counters")
                })?);
            }
            (user.map(above_stdio).transpose()?, above_stdio(net)?, trace)
        }
        _ => return Err(io::Error::other("the namespace helper ended early")),
    };
    let (Some(ipc), Some(uts)) = (ipc, uts) else {
        return Err(io::Error::other("the namespace helper ended early"));
    };
    let idmap = idmap_for(idmap)?;
    Ok(PreparedNamespaces {
        user,
        net,
        ipc: above_stdio(ipc)?,
        uts: above_stdio(uts)?,
        idmap,
        trace,
    })
}

struct ListenContext {
    join_user: c_int,
    join_net: c_int,
    port: u16,
    fd: AtomicI32,
    error: AtomicI32,
}

extern "C" fn listen_main(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the ListenContext the parent passed; it is
    // suspended (CLONE_VFORK) until we exit.
    let ctx = unsafe { &*(arg as *const ListenContext) };
    // SAFETY: raw system calls on descriptors the parent keeps open and on
    // a sockaddr on our stack; _exit ends only this child.
    unsafe {
        let fail = |e: c_int| -> c_int {
            ctx.error.store(e.max(1), Ordering::SeqCst);
            libc::_exit(1)
        };
        if ctx.join_user >= 0 && libc::setns(ctx.join_user, libc::CLONE_NEWUSER) != 0 {
            return fail(*libc::__errno_location());
        }
        if libc::setns(ctx.join_net, libc::CLONE_NEWNET) != 0 {
            return fail(*libc::__errno_location());
        }
        let s = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if s < 0 {
            return fail(*libc::__errno_location());
        }
        let addr = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: ctx.port.to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(std::net::Ipv4Addr::LOCALHOST).to_be(),
            },
            sin_zero: [0; 8],
        };
        if libc::bind(
            s,
            (&addr as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        ) != 0
            || libc::listen(s, 1024) != 0
        {
            return fail(*libc::__errno_location());
        }
        // The descriptor table is shared (CLONE_FILES): the parent's now.
        ctx.fd.store(s, Ordering::SeqCst);
        libc::_exit(0)
    }
}

/// A TCP socket listening on `127.0.0.1:port` inside the run's network
/// namespace (made by a child that joins it: the socket belongs to the
/// namespace it was made in, and we accept on it from ours). The egress
/// proxy serves it; the run reaches nothing else.
pub fn listen_loopback(ns: &PreparedNamespaces, port: u16) -> io::Result<OwnedFd> {
    let ctx = ListenContext {
        join_user: ns.user.as_ref().map_or(-1, AsRawFd::as_raw_fd),
        join_net: ns.net.as_raw_fd(),
        port,
        fd: AtomicI32::new(-1),
        error: AtomicI32::new(0),
    };
    // SAFETY: listen_main makes only raw system calls and exits; `ctx`
    // outlives the suspended clone.
    let pid = unsafe {
        vfork_call_with(
            listen_main,
            &ctx as *const ListenContext as *mut c_void,
            16 * 1024,
            libc::CLONE_FILES,
        )
    }?;
    let _ = wait4(pid);
    let e = ctx.error.load(Ordering::SeqCst);
    let fd = ctx.fd.load(Ordering::SeqCst);
    if e != 0 || fd < 0 {
        return Err(io::Error::new(
            io::Error::from_raw_os_error(e.max(1)).kind(),
            format!(
                "cannot listen for the egress proxy in the run's network namespace: {}",
                io::Error::from_raw_os_error(e.max(1))
            ),
        ));
    }
    // SAFETY: the child made this descriptor in our shared table.
    above_stdio(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A mapping of every id to itself but `0` and `id`, which are swapped.
fn swap_map(id: u32) -> String {
    let mut map = format!("0 {id} 1\n{id} 0 1\n");
    if id > 1 {
        map.push_str(&format!("1 1 {}\n", id - 1));
    }
    let above = u32::MAX - id - 1;
    if above > 0 {
        map.push_str(&format!("{0} {0} {above}\n", id + 1));
    }
    map
}

extern "C" fn hold_main(arg: *mut c_void) -> c_int {
    let fd = arg as usize as c_int;
    // SAFETY: a poll on a stack structure; then exit (signals stay blocked:
    // this child shares our memory and runs no handler; SIGKILL, which
    // cannot be blocked, ends it if we die first).
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        // Until the write end is closed, and never longer than 10 s (a
        // descriptor table copied by another child in between keeps the
        // write end open a little longer; nothing may keep us for ever).
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let _ = libc::poll(&mut pfd, 1, 10_000);
        libc::_exit(0)
    }
}

/// The idmap namespace of a run as `(uid, gid)`, above the standard
/// descriptors (none for uid 0, or a run without a uid of its own).
fn idmap_for(idmap: Option<(u32, u32)>) -> io::Result<Option<OwnedFd>> {
    match idmap {
        Some((uid, gid)) if uid != 0 => Ok(Some(above_stdio(idmap_namespace(uid, gid)?)?)),
        _ => Ok(None),
    }
}

/// A user namespace mapping `0` and `uid` (and `0` and `gid`) to each other
/// and every other id to itself (root only: the maps name ids other than
/// our own). Made by a child that waits, in the new namespace, until we
/// have written its maps and opened the namespace.
fn idmap_namespace(uid: u32, gid: u32) -> io::Result<OwnedFd> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid two-element array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 returned two new descriptors we now own.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let mut stack: Vec<std::mem::MaybeUninit<u8>> = Vec::with_capacity(16 * 1024);
    // SAFETY: the child runs hold_main on `stack`, which lives until the
    // child is reaped below; all signals are blocked around the clone so it
    // starts (and stays) with every signal blocked.
    let pid = unsafe {
        let top = stack.as_mut_ptr().add(stack.capacity()).cast::<u8>();
        let top = top.sub(top as usize % 16);
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        let pid = libc::clone(
            hold_main,
            top.cast(),
            // A shared descriptor table: our closing the write end is the
            // child's end of file.
            libc::CLONE_VM | libc::CLONE_FILES | libc::CLONE_NEWUSER | libc::SIGCHLD,
            std::os::fd::AsRawFd::as_raw_fd(&r) as usize as *mut c_void,
        );
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        pid
    };
    if pid == -1 {
        return Err(io::Error::last_os_error());
    }
    let result = (|| {
        std::fs::write(format!("/proc/{pid}/uid_map"), swap_map(uid))?;
        std::fs::write(format!("/proc/{pid}/gid_map"), swap_map(gid))?;
        std::fs::File::open(format!("/proc/{pid}/ns/user")).map(OwnedFd::from)
    })();
    drop(w);
    let _ = wait4(pid);
    drop(stack);
    result.map_err(|e| io::Error::new(e.kind(), format!("cannot make the idmap namespace: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prepared_network_namespace_differs_from_ours() {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let ns = match prepare(!root, None, None, true) {
            Ok(ns) => ns,
            // A host without user namespaces: nothing to check here (the
            // executor reports it; the isolation tests fail in CI).
            Err(e) => return crate::test_skip::skip(&format!("needs namespaces: {e}")),
        };
        let ours = std::fs::metadata("/proc/self/ns/net").unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&ns.net);
        let theirs = std::fs::metadata(format!("/proc/self/fd/{fd}")).unwrap();
        use std::os::unix::fs::MetadataExt;
        assert_ne!(ours.ino(), theirs.ino());
        assert_eq!(ns.user.is_some(), !root);
    }

    #[test]
    fn only_a_traced_network_namespace_is_handed_on() {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let prepared = |traced| prepare(!root, None, None, traced);
        let (traced, untraced) = match (prepared(true), prepared(false)) {
            (Ok(t), Ok(u)) => (t, u),
            (Err(e), _) | (_, Err(e)) => {
                return crate::test_skip::skip(&format!("needs namespaces: {e}"))
            }
        };
        // Both unused: only the one whose counters were read when it was
        // new can tell it is untouched.
        assert!(traced.into_untouched_network().is_some());
        assert!(untraced.into_untouched_network().is_none());
    }

    #[test]
    fn a_loopback_listener_lives_in_the_runs_network_namespace() {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let ns = match prepare(!root, None, None, true) {
            Ok(ns) => ns,
            Err(e) => return crate::test_skip::skip(&format!("needs namespaces: {e}")),
        };
        let fd = listen_loopback(&ns, 3128).unwrap();
        let listener = std::net::TcpListener::from(fd);
        assert_eq!(listener.local_addr().unwrap().to_string(), "127.0.0.1:3128");
        // Not in ours: a connection to our 127.0.0.1:3128 does not reach it.
        let _ = std::net::TcpStream::connect("127.0.0.1:3128");
        listener.set_nonblocking(true).unwrap();
        assert_eq!(
            listener.accept().unwrap_err().kind(),
            io::ErrorKind::WouldBlock,
            "a connection from our namespace reached the run's listener"
        );
        // The namespace is no longer untouched (a socket lives in it).
        drop(listener);
    }

    #[test]
    fn swap_maps_cover_every_id_once() {
        let map = swap_map(1000);
        let mut inner = 0u64;
        let mut outer = 0u64;
        for line in map.lines() {
            let f: Vec<u64> = line.split(' ').map(|x| x.parse().unwrap()).collect();
            inner += f[2];
            outer += f[2];
            assert!(f[0] < u64::from(u32::MAX) && f[1] < u64::from(u32::MAX));
        }
        assert_eq!((inner, outer), (u64::from(u32::MAX), u64::from(u32::MAX)));
        assert!(map.starts_with("0 1000 1\n1000 0 1\n1 1 999\n1001 1001 "));
    }

    #[test]
    fn an_idmap_namespace_is_made_as_root() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return;
        }
        let ns = prepare(false, Some((1_600_000_123, 1_600_000_123)), None, true).unwrap();
        assert!(ns.idmap.is_some());
    }
}
