//! Lets a process that ends after its run (`sandboxcore run`) exit without
//! waiting for the kernel to tear down what the run used.
//!
//! Closing the last descriptor of a mount namespace unmounts its tree and
//! waits for an RCU grace period (`synchronize_rcu_expedited`), freeing an
//! ipc namespace waits for another, and a process's exit closes its
//! descriptors and unmaps its memory before its parent learns that it
//! ended. For a one-shot CLI that was about a millisecond of a five
//! millisecond command, spent waiting rather than working.
//!
//! [`hold_until_exit`] starts a helper that shares this process's memory
//! (`CLONE_VM`) and has a copy of its descriptor table. The helper closes
//! its copies of the standard streams and of every descriptor this process
//! inherited (those without close-on-exec) at once, so that whoever reads
//! this process's output or waits on a pipe it inherited sees the end when
//! this process exits. It then holds the rest until this process has
//! exited (a pidfd becomes readable), and exits: the last close of the
//! run's namespaces, and the unmapping of the memory, are its own. The
//! run's processes are all gone before the helper starts (its pid
//! namespace's init has been reaped); only kernel objects outlive this
//! process, for about a millisecond.

use super::raw;
use std::ffi::{c_int, c_void};
use std::io;

/// What the helper reads: leaked, so this process never frees it while the
/// helper runs.
struct HelperArgs {
    /// A pidfd of this process.
    pidfd: c_int,
    /// The helper's copies to close at once.
    close: Box<[c_int]>,
}

/// The helper's stack size (it calls nothing but system calls).
const STACK: usize = 16 * 1024;

/// The descriptors the helper closes at once: the standard streams and
/// every descriptor without close-on-exec (inherited from whoever started
/// this process; this library opens its own with close-on-exec).
fn inherited_descriptors() -> io::Result<Vec<c_int>> {
    let mut close = vec![0, 1, 2];
    for entry in std::fs::read_dir("/proc/self/fd")? {
        let Ok(fd) = entry?.file_name().to_string_lossy().parse::<c_int>() else {
            continue;
        };
        if fd <= 2 {
            continue;
        }
        // SAFETY: F_GETFD on any number is harmless (EBADF for the
        // directory's own descriptor once it is closed).
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        if flags >= 0 && flags & libc::FD_CLOEXEC == 0 {
            close.push(fd);
        }
    }
    Ok(close)
}

/// Starts the helper (see the module's documentation). Call it when the
/// descriptors whose teardown should wait are open, and only in a process
/// that is about to end: each helper holds its copies until then. An
/// error means no helper runs, and this process's exit tears down as
/// before.
pub fn hold_until_exit() -> io::Result<()> {
    let close = inherited_descriptors()?;
    // SAFETY: pidfd_open has no memory-safety preconditions; the pidfd is
    // close-on-exec.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) };
    if pidfd < 0 {
        return Err(io::Error::last_os_error());
    }
    let pidfd = pidfd as c_int;
    let args: &'static HelperArgs = Box::leak(Box::new(HelperArgs {
        pidfd,
        close: close.into_boxed_slice(),
    }));
    let stack: &'static mut [u8] = Box::leak(vec![0u8; STACK].into_boxed_slice());
    // The top of the stack, 16-byte aligned as the ABI wants.
    let top = (stack.as_mut_ptr() as usize + STACK) & !15;
    // The helper starts with every signal blocked (it inherits the mask):
    // a signal meant for this process's group (Ctrl-C) must not run this
    // process's handlers in it. It stays killable.
    // SAFETY: sigset_t is plain data, filled by sigfillset; the masks are
    // this thread's and restored below.
    let pid = unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        // No exit signal: nobody here waits for the helper; once this
        // process is gone it is reparented (and then reaped) like any
        // orphan. SAFETY: the stack and `args` are leaked, so valid for
        // the helper's whole life; `helper_main` makes only raw system
        // calls (it shares this thread's thread-local storage).
        let pid = libc::clone(
            helper_main,
            top as *mut c_void,
            libc::CLONE_VM,
            args as *const HelperArgs as *mut c_void,
        );
        let error = io::Error::last_os_error();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        if pid == -1 {
            libc::close(pidfd);
            return Err(error);
        }
        pid
    };
    tracing::trace!(helper = pid, "the run's teardown is left to a helper");
    Ok(())
}

/// The helper: closes the streams and inherited descriptors, waits for
/// this process to end, exits (and so closes the rest).
extern "C" fn helper_main(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the leaked HelperArgs.
    let args = unsafe { &*(arg as *const HelperArgs) };
    for &fd in args.close.iter() {
        // SAFETY: closing our copy of a descriptor.
        let _ = unsafe { raw::syscall(libc::SYS_close, [fd as usize, 0, 0, 0, 0, 0]) };
    }
    let mut poll = libc::pollfd {
        fd: args.pidfd,
        events: libc::POLLIN,
        revents: 0,
    };
    loop {
        // SAFETY: one valid pollfd, no timeout, no signal mask change.
        let ready = unsafe {
            raw::syscall(
                libc::SYS_ppoll,
                [&mut poll as *mut libc::pollfd as usize, 1, 0, 0, 0, 0],
            )
        };
        match ready {
            Err(libc::EINTR) => continue,
            // Ended (or the pidfd cannot be polled: end now rather than
            // linger).
            _ => break,
        }
    }
    // SAFETY: ends the helper (its own thread group) only.
    let _ = unsafe { raw::syscall(libc::SYS_exit_group, [0; 6]) };
    0
}
