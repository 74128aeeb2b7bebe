//! Namespaces made ahead of a run. A network namespace costs about half a
//! millisecond to create, more than the rest of a run's start, so each run
//! slot gets a fresh one in the background (never shared between runs:
//! nothing a run leaves on its loopback reaches the next). When the caller
//! is not root, the network namespace belongs to a user namespace made with
//! it, which maps the caller's uid and gid to themselves; the run joins both
//! and creates its mount, pid, ipc and uts namespaces inside.

use super::child::{above_stdio, vfork_call_with, wait4};
use std::ffi::{c_int, c_void, CString};
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};

/// Namespaces for one run.
#[derive(Debug)]
pub struct PreparedNamespaces {
    /// The user namespace (when the caller is not root).
    pub user: Option<OwnedFd>,
    /// The network namespace: only `lo`, up.
    pub net: OwnedFd,
}

struct PrepareContext {
    user: bool,
    uid_map: CString,
    gid_map: CString,
    user_fd: AtomicI32,
    net_fd: AtomicI32,
    error: AtomicI32,
    step: AtomicI32,
}

const STEPS: [&str; 6] = [
    "",
    "denying setgroups in the new user namespace",
    "writing the user namespace's uid map",
    "writing the user namespace's gid map",
    "bringing up the loopback device",
    "opening the namespace",
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
        if ctx.user {
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
        if let Err(e) = loopback_up() {
            return fail(4, e);
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
/// when `user_namespace` (the caller's uid and gid mapped to themselves).
pub fn prepare(user_namespace: bool) -> io::Result<PreparedNamespaces> {
    // SAFETY: getuid/getgid have no preconditions.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let ctx = PrepareContext {
        user: user_namespace,
        uid_map: CString::new(format!("{uid} {uid} 1")).expect("no NUL"),
        gid_map: CString::new(format!("{gid} {gid} 1")).expect("no NUL"),
        user_fd: AtomicI32::new(-1),
        net_fd: AtomicI32::new(-1),
        error: AtomicI32::new(0),
        step: AtomicI32::new(0),
    };
    let mut flags = libc::CLONE_FILES | libc::CLONE_NEWNET;
    if user_namespace {
        flags |= libc::CLONE_NEWUSER;
    }
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
    let e = ctx.error.load(Ordering::SeqCst);
    if e != 0 {
        let step = STEPS[ctx.step.load(Ordering::SeqCst) as usize];
        return Err(io::Error::new(
            io::Error::from_raw_os_error(e).kind(),
            format!("{step}: {}", io::Error::from_raw_os_error(e)),
        ));
    }
    let net = net.ok_or_else(|| io::Error::other("the namespace helper ended early"))?;
    Ok(PreparedNamespaces {
        user: user.map(above_stdio).transpose()?,
        net: above_stdio(net)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prepared_network_namespace_differs_from_ours() {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let ns = match prepare(!root) {
            Ok(ns) => ns,
            // A host without user namespaces: nothing to check here (the
            // executor reports it; the isolation tests fail in CI).
            Err(e) => return eprintln!("skipped: {e}"),
        };
        let ours = std::fs::metadata("/proc/self/ns/net").unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&ns.net);
        let theirs = std::fs::metadata(format!("/proc/self/fd/{fd}")).unwrap();
        use std::os::unix::fs::MetadataExt;
        assert_ne!(ours.ino(), theirs.ino());
        assert_eq!(ns.user.is_some(), !root);
    }
}
