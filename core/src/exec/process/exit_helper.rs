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
//! every copy but the descriptors it is given to keep (the run's
//! namespaces and mount view) at once: whoever reads this process's output
//! or waits on a pipe it inherited sees the end when this process exits,
//! and a run started meanwhile on another thread keeps its own pipes to
//! itself. It then holds the rest until this process has exited (a pidfd
//! becomes readable), and exits: the last close of the run's namespaces,
//! and the unmapping of the memory, are its own. It is started only for a
//! run that ended with every process of it gone (its pid namespace's init
//! reaped); only kernel objects outlive this process, for about a
//! millisecond.

use super::raw;
use std::ffi::{c_int, c_void};
use std::io;

/// What the helper reads: leaked, so this process never frees it while the
/// helper runs.
struct HelperArgs {
    /// A pidfd of this process.
    pidfd: c_int,
    /// The descriptors to keep (sorted), the pidfd among them.
    keep: Box<[c_int]>,
}

/// The helper's stack size (it calls nothing but system calls).
const STACK: usize = 16 * 1024;

/// Sets this thread's signal mask with the raw system call (glibc's
/// `pthread_sigmask` leaves two of its own signals unblocked, whose
/// handlers must not run in the helper), returning the mask it replaced.
fn set_signal_mask(mask: u64) -> u64 {
    let mut old: u64 = 0;
    // SAFETY: 8-byte kernel signal sets, valid for the call.
    let _ = unsafe {
        raw::syscall(
            libc::SYS_rt_sigprocmask,
            [
                libc::SIG_SETMASK as usize,
                &mask as *const u64 as usize,
                &mut old as *mut u64 as usize,
                8,
                0,
                0,
            ],
        )
    };
    old
}

/// Starts the helper (see the module's documentation), keeping `keep`
/// open until this process has exited. Call it when every process of the
/// run is gone, and only in a process that is about to end: each helper
/// holds its descriptors until then. An error means no helper runs, and
/// this process's exit tears down as before.
pub fn hold_until_exit(keep: &[c_int]) -> io::Result<()> {
    // SAFETY: pidfd_open has no memory-safety preconditions; the pidfd is
    // close-on-exec.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) };
    if pidfd < 0 {
        return Err(io::Error::last_os_error());
    }
    let pidfd = pidfd as c_int;
    let mut kept: Vec<c_int> = keep.iter().copied().chain([pidfd]).collect();
    kept.sort_unstable();
    kept.dedup();
    let args = Box::into_raw(Box::new(HelperArgs {
        pidfd,
        keep: kept.into_boxed_slice(),
    }));
    let stack = Box::into_raw(vec![0u8; STACK].into_boxed_slice());
    // The top of the stack, 16-byte aligned as the ABI wants.
    let top = (stack as *mut u8 as usize + STACK) & !15;
    // The helper starts with every signal blocked (it inherits the mask):
    // a signal meant for this process's group (Ctrl-C) must not run this
    // process's handlers in it. It stays killable.
    let old = set_signal_mask(!0);
    // No exit signal: nobody here waits for the helper; once this process
    // is gone it is reparented (and then reaped) like any orphan.
    // SAFETY: the stack and `args` are leaked while the helper may run
    // (taken back below only if it never started); `helper_main` makes
    // only raw system calls (it shares this thread's thread-local
    // storage).
    let pid = unsafe { libc::clone(helper_main, top as *mut c_void, libc::CLONE_VM, args.cast()) };
    let error = io::Error::last_os_error();
    set_signal_mask(old);
    if pid == -1 {
        // SAFETY: no helper started: both are ours again, and so is the
        // pidfd.
        unsafe {
            drop(Box::from_raw(args));
            drop(Box::from_raw(stack));
            libc::close(pidfd);
        }
        return Err(error);
    }
    tracing::trace!(helper = pid, "the run's teardown is left to a helper");
    Ok(())
}

/// The helper: closes every descriptor but those it keeps, waits for this
/// process to end, exits (and so closes the rest).
extern "C" fn helper_main(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the leaked HelperArgs.
    let args = unsafe { &*(arg as *const HelperArgs) };
    // The gaps between kept descriptors (close_range, Linux 5.9). Where it
    // is missing the helper ends at once: its copies go, and this process's
    // exit tears down as it would without a helper.
    let mut from: usize = 0;
    for to in args.keep.iter().map(|&k| Some(k as usize)).chain([None]) {
        let last = to.map_or(u32::MAX as usize, |k| k.wrapping_sub(1));
        let closed = to == Some(from)
            // SAFETY: closing our copies of descriptors.
            || unsafe { raw::syscall(libc::SYS_close_range, [from, last, 0, 0, 0, 0]) }.is_ok();
        if !closed {
            // SAFETY: ends the helper (its own thread group) only.
            let _ = unsafe { raw::syscall(libc::SYS_exit_group, [0; 6]) };
        }
        if let Some(k) = to {
            from = k + 1;
        }
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
