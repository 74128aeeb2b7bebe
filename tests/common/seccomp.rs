//! Seccomp filters that take a kernel feature away from a test's child
//! process, to check how the process backend behaves on a host that lacks
//! it (classic BPF, installed with `prctl` between fork and exec).
#![allow(dead_code)] // each test binary uses some of these

use std::os::unix::process::CommandExt;

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xc000_003e;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xc000_00b7;

const LD_W_ABS: u16 = 0x20;
const JEQ_K: u16 = 0x15;
const JSET_K: u16 = 0x45;
const RET_K: u16 = 0x06;
const ALLOW: u32 = 0x7fff_0000;
const ERRNO: u32 = 0x0005_0000;

fn op(code: u16, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// Refuses `mount` (EPERM): namespaces can be made, but no isolated view
/// can be built in them (a host whose LSM refuses a step of the run).
pub fn mount_filter() -> Vec<libc::sock_filter> {
    vec![
        op(LD_W_ABS, 0, 0, 4),                       // 0: arch
        op(JEQ_K, 0, 2, AUDIT_ARCH),                 // 1: else allow
        op(LD_W_ABS, 0, 0, 0),                       // 2: nr
        op(JEQ_K, 1, 0, libc::SYS_mount as u32),     // 3: EPERM
        op(RET_K, 0, 0, ALLOW),                      // 4
        op(RET_K, 0, 0, ERRNO | libc::EPERM as u32), // 5
    ]
}

/// Refuses `unshare` and a `clone` that makes namespaces (EPERM) and
/// `clone3`, whose flags it cannot read (ENOSYS: the C library falls back
/// to `clone`).
pub fn namespace_filter() -> Vec<libc::sock_filter> {
    let namespaces = (libc::CLONE_NEWNS
        | libc::CLONE_NEWUSER
        | libc::CLONE_NEWPID
        | libc::CLONE_NEWNET
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWUTS
        | libc::CLONE_NEWCGROUP) as u32;
    vec![
        op(LD_W_ABS, 0, 0, 4),                        // 0: arch
        op(JEQ_K, 0, 6, AUDIT_ARCH),                  // 1: else allow
        op(LD_W_ABS, 0, 0, 0),                        // 2: nr
        op(JEQ_K, 5, 0, libc::SYS_unshare as u32),    // 3: EPERM
        op(JEQ_K, 5, 0, libc::SYS_clone3 as u32),     // 4: ENOSYS
        op(JEQ_K, 0, 2, libc::SYS_clone as u32),      // 5: else allow
        op(LD_W_ABS, 0, 0, 16),                       // 6: flags (low half)
        op(JSET_K, 1, 0, namespaces),                 // 7: EPERM
        op(RET_K, 0, 0, ALLOW),                       // 8
        op(RET_K, 0, 0, ERRNO | libc::EPERM as u32),  // 9
        op(RET_K, 0, 0, ERRNO | libc::ENOSYS as u32), // 10
    ]
}

/// Has `cmd` run under `filter` (with `no_new_privs`, which installing a
/// filter without privilege needs).
pub fn under_filter(cmd: &mut std::process::Command, filter: Vec<libc::sock_filter>) {
    // SAFETY: between fork and exec the closure allocates nothing and
    // makes two system calls (prctl); the filter it points the kernel at
    // is owned by the closure, which outlives both calls (the kernel
    // copies the program).
    unsafe {
        cmd.pre_exec(move || {
            let program = libc::sock_fprog {
                len: filter.len() as u16,
                filter: filter.as_ptr() as *mut libc::sock_filter,
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER,
                    &program as *const libc::sock_fprog,
                ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}
