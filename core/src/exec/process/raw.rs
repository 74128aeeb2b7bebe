//! System calls that return their error instead of setting `errno`.
//!
//! A run's init and command share this process's memory, and with it the
//! thread-local storage of the thread that started them (`clone` with
//! `CLONE_VM` and no `CLONE_SETTLS`): glibc's `errno` there is that
//! thread's, and that thread keeps running (an init started ahead lives
//! beside the thread that prepares the next one). Calls whose failure is
//! expected and decides what happens next go through [`syscall`], which
//! never touches `errno`: on the success path nothing the children do
//! writes the host thread's `errno`. (Calls whose failure only ends the
//! run still use the libc wrappers; the `errno` they report could, in a
//! rare race, be another thread's.)

use std::ffi::{c_int, c_long};

/// `syscall(nr, args...)`: the result, or the error number.
///
/// # Safety
/// The arguments must be valid for system call `nr`.
#[inline]
pub unsafe fn syscall(nr: c_long, args: [usize; 6]) -> Result<usize, c_int> {
    // SAFETY: the caller's guarantees.
    let ret = unsafe { raw(nr, args) };
    if (-4095..0).contains(&ret) {
        Err(-ret as c_int)
    } else {
        Ok(ret as usize)
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
unsafe fn raw(nr: c_long, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: the x86-64 Linux system call convention; the kernel saves
    // and restores the flags (in r11) and clobbers rcx.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") a[0],
            in("rsi") a[1],
            in("rdx") a[2],
            in("r10") a[3],
            in("r8") a[4],
            in("r9") a[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack, preserves_flags),
        );
    }
    ret
}

#[cfg(target_arch = "aarch64")]
#[inline]
unsafe fn raw(nr: c_long, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: the AArch64 Linux system call convention.
    unsafe {
        std::arch::asm!(
            "svc 0",
            in("x8") nr,
            inlateout("x0") a[0] as isize => ret,
            in("x1") a[1],
            in("x2") a[2],
            in("x3") a[3],
            in("x4") a[4],
            in("x5") a[5],
            options(nostack, preserves_flags),
        );
    }
    ret
}

/// Other architectures: libc's `syscall` (which sets `errno`).
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
#[inline]
unsafe fn raw(nr: c_long, a: [usize; 6]) -> isize {
    // SAFETY: the caller's guarantees.
    let r = unsafe { libc::syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) };
    if r == -1 {
        // SAFETY: __errno_location always returns a valid pointer.
        -(unsafe { *libc::__errno_location() } as isize)
    } else {
        r as isize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_results_and_errors_without_touching_errno() {
        // SAFETY: getpid takes no arguments.
        let pid = unsafe { syscall(libc::SYS_getpid, [0; 6]) };
        assert_eq!(pid, Ok(std::process::id() as usize));
        // SAFETY: __errno_location always returns a valid pointer.
        unsafe { *libc::__errno_location() = 0 };
        // SAFETY: closing a descriptor that is not open.
        let closed = unsafe { syscall(libc::SYS_close, [1 << 20, 0, 0, 0, 0, 0]) };
        assert_eq!(closed, Err(libc::EBADF));
        // SAFETY: as above.
        assert_eq!(unsafe { *libc::__errno_location() }, 0);
    }
}
