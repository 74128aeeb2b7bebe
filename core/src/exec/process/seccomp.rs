//! The seccomp filter of the isolated process backend: a deny list (every
//! other system call is allowed) installed in the child between `clone`
//! and `exec`, after `PR_SET_NO_NEW_PRIVS`.
//!
//! The namespaces, the read-only root and the dropped privileges already
//! keep a command from touching the host; the filter narrows the kernel
//! interface a command can reach, so that a kernel bug in a rarely needed
//! subsystem, or a misconfiguration of the other layers, is not enough to
//! escape. It follows its peers: Docker's default seccomp profile (which
//! denies the same families unless the container has the matching
//! capability), Codex's `linux-sandbox` (ptrace, process_vm_*, io_uring,
//! user namespaces) and bubblewrap's own filter (TIOCSTI, TIOCLINUX, new
//! user namespaces from inside the sandbox, clone3 → `ENOSYS`).
//!
//! Refused with `EPERM` (the error a missing privilege gives, which tools
//! already handle):
//! - debugging and reading other processes: `ptrace`, `process_vm_readv`,
//!   `process_vm_writev`;
//! - changing the filesystem view: `mount`, `umount2`, `pivot_root`, and the
//!   new mount API (`move_mount`, `open_tree`, `fsopen`, `fsconfig`,
//!   `fsmount`, `fspick`, `mount_setattr`). `chroot` stays allowed: it
//!   needs `CAP_SYS_CHROOT`, and some build tools probe for it;
//! - new namespaces: `unshare` (whatever its flags), `setns`, and `clone`
//!   when its flags (argument 0 on x86_64 and aarch64) carry any of
//!   `CLONE_NEWNS`, `CLONE_NEWUSER`, `CLONE_NEWPID`, `CLONE_NEWNET`,
//!   `CLONE_NEWIPC`, `CLONE_NEWUTS`, `CLONE_NEWCGROUP` or `CLONE_NEWTIME`.
//!   A user namespace would give the command every capability over a new
//!   namespace, and with them the large kernel surface those capabilities
//!   guard (mounting filesystems, netfilter, ...);
//! - large kernel attack surfaces a command has no business with: `bpf`,
//!   `perf_event_open`, `io_uring_setup`, `io_uring_enter`,
//!   `io_uring_register` (io_uring operations also bypass this filter),
//!   `userfaultfd` (a tool to widen race windows in kernel exploits);
//! - the kernel itself: `kexec_load`, `kexec_file_load`, `init_module`,
//!   `finit_module`, `delete_module`;
//! - the kernel keyring (not namespaced): `keyctl`, `add_key`,
//!   `request_key`;
//! - file handles, which open files by inode and bypass the path-based
//!   layers: `open_by_handle_at`, `name_to_handle_at`;
//! - `personality` unless its argument is `PER_LINUX` (0), `PER_LINUX32`
//!   (8), `UNAME26` (0x20000) or the query 0xffffffff: other flags such as
//!   `ADDR_NO_RANDOMIZE` or `READ_IMPLIES_EXEC` weaken the command's own
//!   exploit mitigations;
//! - `socket` of family `AF_VSOCK` (virtual-machine sockets are not
//!   namespaced: a run with no network could reach the hypervisor and hold
//!   the guest's ports) and `AF_NETLINK` sockets of protocol
//!   `NETLINK_KOBJECT_UEVENT` (the host's device events);
//! - `ioctl` with request `TIOCSTI` (push characters into a terminal's
//!   input, i.e. type commands into the caller's shell) or `TIOCLINUX`.
//!
//! The `personality`, `ioctl` and `clone` arguments are compared on their
//! low 32 bits, as the kernel reads them (`unsigned int` for the first
//! two; `clone` takes its flags from `lower_32_bits`), so setting high bits
//! does not slip past the filter.
//!
//! `clone3` returns `ENOSYS`: its flags live in a structure in memory that
//! seccomp cannot read, so it looks like a kernel without `clone3`, and
//! glibc (`pthread_create`, `posix_spawn`, `fork` paths) falls back to
//! `clone`, whose flags the filter checks.
//!
//! Architectures: the filter is built for the build's architecture
//! (x86_64 or aarch64; [`program`] fails elsewhere). It starts with an
//! architecture check that *kills the process*
//! (`SECCOMP_RET_KILL_PROCESS`, the command dies of `SIGSYS`) on a system
//! call made through another ABI, e.g. the i386 ABI through `int 0x80` on
//! x86_64 or AArch32 on aarch64: the deny list is written in x86_64/aarch64
//! numbers and would not match those. So 32-bit binaries cannot run under
//! the filter; Docker allows them by listing the i386 numbers as well.
//!
//! The x32 ABI is different: its system calls report `AUDIT_ARCH_X86_64`
//! and pass the architecture check, with numbers that have bit
//! `0x40000000` (`__X32_SYSCALL_BIT`) set — so `0x40000000 | SYS_mount`
//! is not the deny list's `SYS_mount`. On x86_64 the filter returns
//! `ENOSYS` for every number at or above `0x40000000` (what a kernel
//! without x32 support answers).
//!
//! # One hand-assembled filter
//!
//! The policy is a single classic BPF program assembled here, not by
//! seccompiler, for the cost of installing it. When a filter is attached,
//! the kernel (`seccomp_cache_prepare`, Linux 5.11 and later) runs it,
//! under the process's signal lock, on every system call number of the
//! native ABI (~450), to find the numbers it allows whatever the arguments
//! (those then skip the filters at run time). seccompiler emits one
//! equality test per listed system call, in a chain, and gives a filter a
//! single match action, so the policy took three filters (the `EPERM`
//! list, a second for `clone3`'s `ENOSYS`, a hand-written x32 guard), and
//! that emulation ran 88 instructions per number on average across them.
//! Here the numbers are cut into ranges that share a verdict, and the
//! program finds a number's range by a balanced binary search (`JGE`):
//! every number reaches its verdict after the architecture check and at
//! most 6 `JGE` (42 ranges on x86_64), 10 instructions at most. Installing
//! the policy, measured in a fork per sample (the `install_cost` test,
//! median of 200, several runs on a 2-core VM, Linux 6.18): 270–310 µs
//! with the three seccompiler filters, 70–85 µs with this one (a
//! one-instruction filter costs ~25 µs there: the kernel's fixed cost).
//! The tests keep the seccompiler build as the reference and check that
//! both give the same verdict on every system call number below 500 (and
//! x32 and out-of-range ones) for a set of argument vectors, and that the
//! kernel can skip the filter for the same numbers.
//!
//! The program:
//! 1. load the architecture; not the native one: kill the process;
//! 2. load the number; binary search over the ranges' first numbers;
//! 3. a range's verdict: `RET` allow, `EPERM` or `ENOSYS`, or a short
//!    check of one argument's low 32 bits (loaded at its offset in
//!    `struct seccomp_data`, little-endian): `clone` (`JSET` on the
//!    namespace flags), `personality` (`JEQ` on each allowed value),
//!    `ioctl` (`JEQ` on each refused request).

use std::ffi::c_int;
use std::sync::OnceLock;

/// The compiled seccomp filter, installed by [`SeccompProgram::install`].
/// Built once per process by [`program`].
pub struct SeccompProgram {
    /// A classic BPF program, shorter than `BPF_MAXINSNS` (4096).
    filter: Box<[libc::sock_filter]>,
}

impl std::fmt::Debug for SeccompProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `libc::sock_filter` has no `Debug`: show the filter's length.
        f.debug_struct("SeccompProgram")
            .field("instructions", &self.filter.len())
            .finish()
    }
}

/// The process's seccomp program, compiled on first use. Fails (saying
/// why) on an architecture other than x86_64 and aarch64; the error is the
/// same on every call.
pub fn program() -> Result<&'static SeccompProgram, String> {
    static PROGRAM: OnceLock<Result<SeccompProgram, String>> = OnceLock::new();
    PROGRAM
        .get_or_init(SeccompProgram::build)
        .as_ref()
        .map_err(Clone::clone)
}

impl SeccompProgram {
    /// Applies the filter to the calling thread (and so to what it
    /// `exec`s): one `seccomp(SECCOMP_SET_MODE_FILTER, 0, ..)` system
    /// call. Returns its `errno` when it fails; the caller must not `exec`
    /// after an error. Typical errors: `EACCES` when `PR_SET_NO_NEW_PRIVS`
    /// is not set and the thread lacks `CAP_SYS_ADMIN`, `EINVAL` when the
    /// kernel lacks `CONFIG_SECCOMP_FILTER`.
    ///
    /// Makes raw system calls only — no allocation, no locks — so it may
    /// run in a `vfork`-style (`CLONE_VM`) child.
    ///
    /// # Safety
    ///
    /// The caller must have set `PR_SET_NO_NEW_PRIVS` (or hold
    /// `CAP_SYS_ADMIN`) and must accept that the calling thread is
    /// restricted for good: meant for the child between `clone` and
    /// `exec`, never for a thread of the host process.
    pub unsafe fn install(&self) -> Result<(), c_int> {
        // SAFETY: the caller's contract is this function's.
        unsafe { install_filter(&self.filter) }
    }

    /// Assembles the filter for this build's architecture.
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    fn build() -> Result<SeccompProgram, String> {
        let filter = assemble(&ranges()?)?;
        Ok(SeccompProgram {
            filter: filter.into_boxed_slice(),
        })
    }

    /// No filter for this architecture.
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    fn build() -> Result<SeccompProgram, String> {
        Err(format!(
            "seccomp filter: unsupported architecture {} (x86_64 and aarch64 only)",
            std::env::consts::ARCH
        ))
    }
}

/// Adds `filter` to the calling thread's seccomp filters; its `errno` on
/// failure. Raw system call only (see [`SeccompProgram::install`]).
///
/// # Safety
///
/// As [`SeccompProgram::install`]; `filter` is a valid classic BPF program
/// shorter than 4096 instructions.
unsafe fn install_filter(filter: &[libc::sock_filter]) -> Result<(), c_int> {
    let prog = libc::sock_fprog {
        // At most 4096 instructions, checked when built.
        len: filter.len() as libc::c_ushort,
        filter: filter.as_ptr().cast_mut(),
    };
    // SAFETY: `prog` points to a live, well-formed BPF program; the kernel
    // copies it and does not write through the pointer.
    let result = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER as libc::c_ulong,
            0 as libc::c_ulong,
            &prog as *const libc::sock_fprog,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(errno())
    }
}

/// The calling thread's `errno`.
fn errno() -> c_int {
    // SAFETY: __errno_location always returns a valid pointer.
    unsafe { *libc::__errno_location() }
}

/// `kexec_file_load`'s number (musl's `libc` lacks it on aarch64).
#[cfg(target_arch = "x86_64")]
const SYS_KEXEC_FILE_LOAD: libc::c_long = 320;
/// `kexec_file_load`'s number (musl's `libc` lacks it on aarch64).
#[cfg(target_arch = "aarch64")]
const SYS_KEXEC_FILE_LOAD: libc::c_long = 294;

/// System calls refused with `EPERM` whatever their arguments.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const DENIED: &[(libc::c_long, &str)] = &[
    (libc::SYS_ptrace, "ptrace"),
    (libc::SYS_process_vm_readv, "process_vm_readv"),
    (libc::SYS_process_vm_writev, "process_vm_writev"),
    (libc::SYS_mount, "mount"),
    (libc::SYS_umount2, "umount2"),
    (libc::SYS_pivot_root, "pivot_root"),
    (libc::SYS_move_mount, "move_mount"),
    (libc::SYS_open_tree, "open_tree"),
    (libc::SYS_fsopen, "fsopen"),
    (libc::SYS_fsconfig, "fsconfig"),
    (libc::SYS_fsmount, "fsmount"),
    (libc::SYS_fspick, "fspick"),
    (libc::SYS_mount_setattr, "mount_setattr"),
    (libc::SYS_unshare, "unshare"),
    (libc::SYS_setns, "setns"),
    (libc::SYS_bpf, "bpf"),
    (libc::SYS_perf_event_open, "perf_event_open"),
    (libc::SYS_kexec_load, "kexec_load"),
    (SYS_KEXEC_FILE_LOAD, "kexec_file_load"),
    (libc::SYS_init_module, "init_module"),
    (libc::SYS_finit_module, "finit_module"),
    (libc::SYS_delete_module, "delete_module"),
    (libc::SYS_keyctl, "keyctl"),
    (libc::SYS_add_key, "add_key"),
    (libc::SYS_request_key, "request_key"),
    (libc::SYS_io_uring_setup, "io_uring_setup"),
    (libc::SYS_io_uring_enter, "io_uring_enter"),
    (libc::SYS_io_uring_register, "io_uring_register"),
    (libc::SYS_userfaultfd, "userfaultfd"),
    (libc::SYS_open_by_handle_at, "open_by_handle_at"),
    (libc::SYS_name_to_handle_at, "name_to_handle_at"),
];

/// Namespace flags `clone` may not carry. (In `clone`'s flags `0x80`, the
/// value of `CLONE_NEWTIME`, is part of the exit signal, `CSIGNAL`, and a
/// signal number of 128 or more is invalid anyway: listed so a kernel that
/// ever reads it as `CLONE_NEWTIME` is covered, at no cost.)
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const CLONE_NAMESPACE_FLAGS: [c_int; 8] = [
    libc::CLONE_NEWNS,
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWCGROUP,
    libc::CLONE_NEWTIME,
];

/// `personality` arguments that stay allowed: `PER_LINUX`, `PER_LINUX32`,
/// `UNAME26` and the query `0xffffffff`.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const PERSONALITY_ALLOWED: [u64; 4] = [0, 0x0008, 0x0002_0000, 0xffff_ffff];

/// `ioctl` request `TIOCSTI` (asm-generic value, used by x86_64 and
/// aarch64; `libc`'s constant changes type with the C library).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const TIOCSTI: u64 = 0x5412;
/// `ioctl` request `TIOCLINUX` (asm-generic value).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const TIOCLINUX: u64 = 0x541C;

/// `AF_VSOCK`: virtual-machine sockets are not namespaced (a run with no
/// network could reach the hypervisor and hold ports of the guest).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const AF_VSOCK: u64 = 40;
/// `AF_NETLINK`.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const AF_NETLINK: u64 = 16;
/// `NETLINK_KOBJECT_UEVENT`: the host's device events (as root, a run's
/// network namespace belongs to the host's user namespace and gets them).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const NETLINK_KOBJECT_UEVENT: u64 = 15;

/// The set-user-ID and set-group-ID mode bits: no file may get them. As
/// root, writable roots are idmapped (the run's uid is root on the host),
/// so a setuid file made inside would be a setuid-root file on the host.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const SET_ID_BITS: u32 = 0o6000;
/// Open flags that create a file (and so take a mode): `O_CREAT` and
/// `__O_TMPFILE`.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const CREATE_FLAGS: u32 = 0o100 | 0o2000_0000;
/// `fchmodat2` (Linux 6.6), the same number on both architectures.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const SYS_FCHMODAT2: libc::c_long = 452;
/// `openat2` (Linux 5.6): its mode is in a structure the filter cannot
/// read, so it is `ENOSYS` (C libraries fall back to `openat`).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const SYS_OPENAT2: libc::c_long = 437;

/// `AUDIT_ARCH_X86_64`: `EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE`.
#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH_X86_64: u32 = 62 | 0x8000_0000 | 0x4000_0000;
/// `__X32_SYSCALL_BIT`: set in the numbers of x32 system calls.
#[cfg(target_arch = "x86_64")]
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// The audit architecture of the build's system calls.
#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH_NATIVE: u32 = AUDIT_ARCH_X86_64;
/// The audit architecture of the build's system calls: `AUDIT_ARCH_AARCH64`
/// (`EM_AARCH64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE`).
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH_NATIVE: u32 = 183 | 0x8000_0000 | 0x4000_0000;

/// What the filter does with the system calls of one number.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    /// Allowed, whatever the arguments.
    Allow,
    /// `EPERM`, whatever the arguments.
    Deny,
    /// `ENOSYS`, whatever the arguments.
    NoSuchCall,
    /// `clone`: `EPERM` when the flags carry a namespace flag.
    Clone,
    /// `personality`: `EPERM` unless the persona is an allowed one.
    Personality,
    /// `ioctl`: `EPERM` for `TIOCSTI` and `TIOCLINUX`.
    Ioctl,
    /// `socket`: `EPERM` for `AF_VSOCK`, and for `AF_NETLINK` with
    /// `NETLINK_KOBJECT_UEVENT`.
    Socket,
    /// `EPERM` when argument 1 (a mode) has a set-ID bit.
    SetIdMode1,
    /// `EPERM` when argument 2 (a mode) has a set-ID bit.
    SetIdMode2,
    /// `open`: `EPERM` when argument 1 creates and argument 2 has a set-ID bit.
    CreateSetId12,
    /// `openat`: `EPERM` when argument 2 creates and argument 3 has a set-ID bit.
    CreateSetId23,
}

/// The policy as ranges of system call numbers, each `(first number,
/// verdict)`: sorted, the first starting at 0, each running up to the
/// next one's first number (the last one up to `u32::MAX`), two neighbours
/// never with the same verdict.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn ranges() -> Result<Vec<(u32, Verdict)>, String> {
    use std::collections::BTreeMap;
    let listed = DENIED.iter().map(|&(nr, _)| (nr, Verdict::Deny)).chain([
        (libc::SYS_clone3, Verdict::NoSuchCall),
        (libc::SYS_clone, Verdict::Clone),
        (libc::SYS_personality, Verdict::Personality),
        (libc::SYS_ioctl, Verdict::Ioctl),
        (libc::SYS_socket, Verdict::Socket),
        (libc::SYS_fchmod, Verdict::SetIdMode1),
        (libc::SYS_fchmodat, Verdict::SetIdMode2),
        (SYS_FCHMODAT2, Verdict::SetIdMode2),
        (libc::SYS_mknodat, Verdict::SetIdMode2),
        (libc::SYS_openat, Verdict::CreateSetId23),
        (SYS_OPENAT2, Verdict::NoSuchCall),
    ]);
    #[cfg(target_arch = "x86_64")]
    let listed = listed.chain([
        (libc::SYS_chmod, Verdict::SetIdMode1),
        (libc::SYS_mknod, Verdict::SetIdMode1),
        (libc::SYS_creat, Verdict::SetIdMode1),
        (libc::SYS_open, Verdict::CreateSetId12),
    ]);
    let mut by_number = BTreeMap::new();
    for (nr, verdict) in listed {
        // Below the x32 bit, so `nr + 1` cannot overflow either.
        let nr = u32::try_from(nr)
            .ok()
            .filter(|&nr| nr < 0x4000_0000)
            .ok_or_else(|| format!("seccomp filter: bad system call number {nr}"))?;
        if by_number.insert(nr, verdict).is_some() {
            return Err(format!("seccomp filter: system call {nr} listed twice"));
        }
    }
    // The verdict changes only at a listed number, right after one, or at
    // the x32 bit.
    let mut starts: Vec<u32> = by_number.keys().flat_map(|&nr| [nr, nr + 1]).collect();
    #[cfg(target_arch = "x86_64")]
    starts.push(X32_SYSCALL_BIT);
    starts.push(0);
    starts.sort_unstable();
    starts.dedup();
    let verdict_at = |nr: u32| {
        #[cfg(target_arch = "x86_64")]
        if nr >= X32_SYSCALL_BIT {
            return Verdict::NoSuchCall;
        }
        by_number.get(&nr).copied().unwrap_or(Verdict::Allow)
    };
    let mut ranges: Vec<(u32, Verdict)> = Vec::new();
    for start in starts {
        let verdict = verdict_at(start);
        if ranges.last().map(|&(_, last)| last) != Some(verdict) {
            ranges.push((start, verdict));
        }
    }
    Ok(ranges)
}

/// `struct seccomp_data`'s `nr` offset.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const DATA_NR: u32 = 0;
/// `struct seccomp_data`'s `arch` offset.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const DATA_ARCH: u32 = 4;

/// The offset of argument `arg`'s low 32 bits in `struct seccomp_data`
/// (`args` is a `__u64[6]` at offset 16; both architectures are
/// little-endian).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const fn data_arg_low(arg: u32) -> u32 {
    16 + 8 * arg
}

/// Assembles the filter (see the module documentation) from the policy's
/// [`ranges`].
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn assemble(ranges: &[(u32, Verdict)]) -> Result<Vec<libc::sock_filter>, String> {
    use libc::{BPF_ABS, BPF_JEQ, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_RET, BPF_W};
    const LOAD: u32 = BPF_LD | BPF_W | BPF_ABS;
    const RET: u32 = BPF_RET | BPF_K;
    const JEQ: u32 = BPF_JMP | BPF_JEQ | BPF_K;
    const JSET: u32 = BPF_JMP | BPF_JSET | BPF_K;

    let mut asm = Assembler::default();
    let allow = asm.label();
    let deny = asm.label();
    let no_such_call = asm.label();
    let kill = asm.label();
    let clone = asm.label();
    let personality = asm.label();
    let ioctl = asm.label();
    let socket = asm.label();
    let create12 = asm.label();
    let create23 = asm.label();
    let mode1 = asm.label();
    let mode2 = asm.label();
    let mode3 = asm.label();
    let target = |verdict: Verdict| match verdict {
        Verdict::Allow => allow,
        Verdict::Deny => deny,
        Verdict::NoSuchCall => no_such_call,
        Verdict::Clone => clone,
        Verdict::Personality => personality,
        Verdict::Ioctl => ioctl,
        Verdict::Socket => socket,
        Verdict::SetIdMode1 => mode1,
        Verdict::SetIdMode2 => mode2,
        Verdict::CreateSetId12 => create12,
        Verdict::CreateSetId23 => create23,
    };

    // Another ABI's system calls kill the process.
    asm.stmt(LOAD, DATA_ARCH);
    let native = asm.label();
    asm.jump(JEQ, AUDIT_ARCH_NATIVE, native, kill);
    asm.bind(native);
    // The number's range, by binary search.
    asm.stmt(LOAD, DATA_NR);
    let root = search_label(&mut asm, ranges, &target);
    if ranges.len() == 1 {
        asm.jump_always(root);
    }
    search(&mut asm, ranges, root, &target);

    // The argument checks, on the low 32 bits.
    asm.bind(clone);
    asm.stmt(LOAD, data_arg_low(0));
    let namespaces = CLONE_NAMESPACE_FLAGS
        .iter()
        .fold(0, |mask, &flag| mask | flag as u32);
    asm.jump(JSET, namespaces, deny, allow);

    asm.bind(personality);
    asm.stmt(LOAD, data_arg_low(0));
    for (i, &persona) in PERSONALITY_ALLOWED.iter().enumerate() {
        let last = i + 1 == PERSONALITY_ALLOWED.len();
        let next = asm.label();
        // The allowed values are below 2^32 (checked by the tests).
        asm.jump(JEQ, persona as u32, allow, if last { deny } else { next });
        asm.bind(next);
    }

    asm.bind(ioctl);
    asm.stmt(LOAD, data_arg_low(1));
    let refused = [TIOCSTI, TIOCLINUX];
    for (i, &request) in refused.iter().enumerate() {
        let last = i + 1 == refused.len();
        let next = asm.label();
        asm.jump(JEQ, request as u32, deny, if last { allow } else { next });
        asm.bind(next);
    }

    asm.bind(socket);
    asm.stmt(LOAD, data_arg_low(0));
    let not_vsock = asm.label();
    asm.jump(JEQ, AF_VSOCK as u32, deny, not_vsock);
    asm.bind(not_vsock);
    let netlink = asm.label();
    asm.jump(JEQ, AF_NETLINK as u32, netlink, allow);
    asm.bind(netlink);
    asm.stmt(LOAD, data_arg_low(2));
    asm.jump(JEQ, NETLINK_KOBJECT_UEVENT as u32, deny, allow);

    // Set-ID bits: the create checks first (they continue at a mode check,
    // and BPF jumps only forward).
    asm.bind(create12);
    asm.stmt(LOAD, data_arg_low(1));
    asm.jump(JSET, CREATE_FLAGS, mode2, allow);
    asm.bind(create23);
    asm.stmt(LOAD, data_arg_low(2));
    asm.jump(JSET, CREATE_FLAGS, mode3, allow);
    for (label, arg) in [(mode1, 1), (mode2, 2), (mode3, 3)] {
        asm.bind(label);
        asm.stmt(LOAD, data_arg_low(arg));
        asm.jump(JSET, SET_ID_BITS, deny, allow);
    }

    // The returns, last: BPF jumps only forward.
    asm.bind(allow);
    asm.stmt(RET, libc::SECCOMP_RET_ALLOW);
    asm.bind(deny);
    asm.stmt(RET, libc::SECCOMP_RET_ERRNO | libc::EPERM as u32);
    asm.bind(no_such_call);
    asm.stmt(RET, libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32);
    asm.bind(kill);
    asm.stmt(RET, libc::SECCOMP_RET_KILL_PROCESS);
    asm.finish()
}

/// Where the search over `ranges` starts: a new label for a search node,
/// or the verdict's code for a single range.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn search_label(
    asm: &mut Assembler,
    ranges: &[(u32, Verdict)],
    target: &impl Fn(Verdict) -> Label,
) -> Label {
    match ranges {
        [(_, verdict)] => target(*verdict),
        _ => asm.label(),
    }
}

/// Emits, at `label`, the binary search over `ranges` (the number is in
/// the accumulator): `JGE` on the middle range's first number, the lower
/// half's search right after, then the upper half's. Nothing for a single
/// range: its verdict's code is elsewhere.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn search(
    asm: &mut Assembler,
    ranges: &[(u32, Verdict)],
    label: Label,
    target: &impl Fn(Verdict) -> Label,
) {
    if ranges.len() < 2 {
        return;
    }
    let (lower, upper) = ranges.split_at(ranges.len() / 2);
    asm.bind(label);
    let lower_label = search_label(asm, lower, target);
    let upper_label = search_label(asm, upper, target);
    asm.jump(
        libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K,
        upper[0].0,
        upper_label,
        lower_label,
    );
    search(asm, lower, lower_label, target);
    search(asm, upper, upper_label, target);
}

/// A position in the program being assembled.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[derive(Clone, Copy, Debug)]
struct Label(usize);

/// A classic BPF program with symbolic jump targets, resolved by
/// [`Assembler::finish`].
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[derive(Default)]
struct Assembler {
    /// The instructions; a jump's `jt`/`jf` (or `k` for `JA`) are label
    /// indices until resolved.
    insns: Vec<(libc::sock_filter, Option<(Label, Label)>)>,
    /// Each label's instruction index, once bound.
    labels: Vec<Option<usize>>,
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
impl Assembler {
    /// A new, unbound label.
    fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// Binds `label` to the next instruction.
    fn bind(&mut self, label: Label) {
        debug_assert!(self.labels[label.0].is_none(), "label bound twice");
        self.labels[label.0] = Some(self.insns.len());
    }

    /// An instruction without jump.
    fn stmt(&mut self, code: u32, k: u32) {
        self.push(code, k, None);
    }

    /// A conditional jump: to `jt` when the test holds, else to `jf`.
    fn jump(&mut self, code: u32, k: u32, jt: Label, jf: Label) {
        self.push(code, k, Some((jt, jf)));
    }

    /// `JA` to `to`.
    fn jump_always(&mut self, to: Label) {
        self.push(libc::BPF_JMP | libc::BPF_JA, 0, Some((to, to)));
    }

    fn push(&mut self, code: u32, k: u32, targets: Option<(Label, Label)>) {
        let insn = libc::sock_filter {
            code: code as u16,
            jt: 0,
            jf: 0,
            k,
        };
        self.insns.push((insn, targets));
    }

    /// The program, with every jump resolved to its forward offset.
    fn finish(self) -> Result<Vec<libc::sock_filter>, String> {
        let labels = self.labels;
        let offset = |from: usize, to: Label| -> Result<usize, String> {
            labels[to.0]
                .and_then(|at| at.checked_sub(from + 1))
                .ok_or_else(|| format!("seccomp filter: bad jump target {to:?}"))
        };
        let short = |from: usize, to: Label| -> Result<u8, String> {
            u8::try_from(offset(from, to)?)
                .map_err(|_| format!("seccomp filter: jump too long at {from}"))
        };
        if self.insns.len() >= 4096 {
            return Err("seccomp filter: program too long".into());
        }
        let mut program = Vec::with_capacity(self.insns.len());
        for (at, (mut insn, targets)) in self.insns.into_iter().enumerate() {
            if let Some((jt, jf)) = targets {
                if u32::from(insn.code) == libc::BPF_JMP | libc::BPF_JA {
                    insn.k = offset(at, jt)? as u32;
                } else {
                    insn.jt = short(at, jt)?;
                    insn.jf = short(at, jf)?;
                }
            }
            program.push(insn);
        }
        Ok(program)
    }
}

#[cfg(test)]
mod tests {
    //! Each probe runs in a forked child (the filter is installed there,
    //! never in the test process), which reports the probe's result through
    //! a pipe. The probes' arguments are chosen so that, should the filter
    //! let them through, they still do nothing (invalid pointers, flags or
    //! descriptors); [`without_the_filter_the_same_probes_reach_the_kernel`]
    //! shows that the kernel answers them differently, so the filtered
    //! results come from the filter.
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// How a probe's child ended.
    #[derive(Debug, PartialEq, Eq)]
    enum Ended {
        /// The probe returned this (a negative `errno` for a failure).
        Returned(i64),
        /// The child was killed by this signal.
        Signaled(c_int),
    }

    /// A system call's result: its return value, or `-errno`.
    fn sys(result: libc::c_long) -> i64 {
        if result == -1 {
            -i64::from(errno())
        } else {
            result
        }
    }

    /// Runs `probe` in a forked child, after `PR_SET_NO_NEW_PRIVS` and
    /// [`SeccompProgram::install`] when `filtered`.
    fn in_child(filtered: bool, probe: impl Fn() -> i64) -> Ended {
        // Built before forking, as the backend does: the child allocates
        // nothing to install it.
        let program = program().expect("the filter builds on this architecture");
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        let [read_fd, write_fd] = fds;
        // SAFETY: the child runs the probe (system calls and a few glibc
        // functions that stay usable after `fork`) and ends with `_exit`.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // SAFETY: in the forked child, which ends with `_exit`.
            unsafe {
                if filtered {
                    if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                        libc::_exit(100);
                    }
                    if program.install().is_err() {
                        libc::_exit(101);
                    }
                }
                let value = probe();
                let written = libc::write(write_fd, (&value as *const i64).cast(), 8);
                libc::_exit(if written == 8 { 0 } else { 102 });
            }
        }
        let mut value = 0i64;
        // SAFETY: closing our copy of the write end; reading into a local.
        let read = unsafe {
            libc::close(write_fd);
            let read = libc::read(read_fd, (&mut value as *mut i64).cast(), 8);
            libc::close(read_fd);
            read
        };
        let mut status = 0;
        // SAFETY: reaping our own child.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        if libc::WIFSIGNALED(status) {
            return Ended::Signaled(libc::WTERMSIG(status));
        }
        assert_eq!(
            libc::WEXITSTATUS(status),
            0,
            "the probe's child failed (100: no_new_privs, 101: install, 102: report)"
        );
        assert_eq!(read, 8);
        Ended::Returned(value)
    }

    /// `probe`'s result under the filter.
    fn filtered(probe: impl Fn() -> i64) -> Ended {
        in_child(true, probe)
    }

    /// `probe`'s result without the filter.
    fn unfiltered(probe: impl Fn() -> i64) -> Ended {
        in_child(false, probe)
    }

    /// A failure with `errno`.
    fn failed(errno: c_int) -> Ended {
        Ended::Returned(-i64::from(errno))
    }

    /// Whether the probe succeeded (returned 0 or more).
    fn succeeded(ended: &Ended) -> bool {
        matches!(ended, Ended::Returned(value) if *value >= 0)
    }

    /// `ioctl` request `TCGETS` (asm-generic value): not filtered.
    const TCGETS: u64 = 0x5401;

    /// An address no process maps.
    const BAD_POINTER: libc::c_long = 1;

    /// `CLONE_THREAD | flag`: without `CLONE_SIGHAND` the kernel refuses
    /// it (`EINVAL`) before looking at namespaces, so such a `clone`
    /// creates nothing even when let through.
    fn clone_flags(flag: c_int) -> libc::c_long {
        libc::c_long::from(libc::CLONE_THREAD | flag)
    }

    /// `clone(flags, 0, 0, 0, 0)`.
    fn clone_raw(flags: libc::c_long) -> i64 {
        // SAFETY: callers pass requests the kernel refuses (see
        // `clone_flags`).
        sys(unsafe { libc::syscall(libc::SYS_clone, flags, 0, 0, 0, 0) })
    }

    /// `clone(CLONE_THREAD | flag)`.
    fn clone_thread_with(flag: c_int) -> i64 {
        clone_raw(clone_flags(flag))
    }

    /// A valid `clone3` (a plain fork): 1 when it created a child.
    fn clone3_fork() -> i64 {
        // struct clone_args (CLONE_ARGS_SIZE_VER0): flags, pidfd,
        // child_tid, parent_tid, exit_signal, stack, stack_size, tls.
        let args: [u64; 8] = [0, 0, 0, 0, libc::SIGCHLD as u64, 0, 0, 0];
        // SAFETY: a fork-like clone3; the new child exits at once.
        let pid = unsafe { libc::syscall(libc::SYS_clone3, args.as_ptr(), 64) };
        match pid {
            // SAFETY: in the new child.
            0 => unsafe { libc::_exit(0) },
            -1 => sys(pid),
            pid => {
                // SAFETY: reaping our own child.
                unsafe { libc::waitpid(pid as libc::pid_t, std::ptr::null_mut(), 0) };
                1
            }
        }
    }

    /// `fork()` (glibc: `clone` with `SIGCHLD` and the tid flags): the
    /// child's exit code.
    fn fork_exit_code() -> i64 {
        // SAFETY: the new child exits at once.
        let pid = unsafe { libc::fork() };
        match pid {
            // SAFETY: in the new child.
            0 => unsafe { libc::_exit(7) },
            -1 => sys(-1),
            pid => {
                let mut status = 0;
                // SAFETY: reaping our own child.
                unsafe { libc::waitpid(pid, &mut status, 0) };
                i64::from(libc::WEXITSTATUS(status))
            }
        }
    }

    /// `pthread_create` + join (glibc tries `clone3` first, then `clone`):
    /// 1 when the thread ran, else `-error`.
    fn thread_runs() -> i64 {
        static RAN: AtomicBool = AtomicBool::new(false);
        extern "C" fn start(_: *mut libc::c_void) -> *mut libc::c_void {
            RAN.store(true, Ordering::SeqCst);
            std::ptr::null_mut()
        }
        // SAFETY: a default-attribute thread, joined before returning.
        unsafe {
            let mut thread: libc::pthread_t = std::mem::zeroed();
            let error =
                libc::pthread_create(&mut thread, std::ptr::null(), start, std::ptr::null_mut());
            if error != 0 {
                return -i64::from(error);
            }
            libc::pthread_join(thread, std::ptr::null_mut());
        }
        i64::from(RAN.load(Ordering::SeqCst))
    }

    /// `posix_spawn` of `/bin/sh -c 'exit 3'` (glibc: `clone3`, falling
    /// back to `clone(CLONE_VM | CLONE_VFORK)`, then `execve`): its exit
    /// code.
    fn spawn_exit_code() -> i64 {
        let argv = [
            c"sh".as_ptr().cast_mut(),
            c"-c".as_ptr().cast_mut(),
            c"exit 3".as_ptr().cast_mut(),
            std::ptr::null_mut(),
        ];
        let envp = [std::ptr::null_mut()];
        let mut pid = 0;
        // SAFETY: NUL-terminated argument and environment arrays.
        let error = unsafe {
            libc::posix_spawn(
                &mut pid,
                c"/bin/sh".as_ptr(),
                std::ptr::null(),
                std::ptr::null(),
                argv.as_ptr(),
                envp.as_ptr(),
            )
        };
        if error != 0 {
            return -i64::from(error);
        }
        let mut status = 0;
        // SAFETY: reaping our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        i64::from(libc::WEXITSTATUS(status))
    }

    /// `personality(persona)`, passed as a full 64-bit register.
    fn personality(persona: u64) -> i64 {
        // SAFETY: changes only this (forked) process.
        sys(unsafe { libc::syscall(libc::SYS_personality, persona) })
    }

    /// `ioctl(-1, request, &'x')`: `EBADF` when let through, so nothing is
    /// ever pushed into a terminal. (The filter looks at the request only,
    /// so the descriptor does not matter to it.)
    fn ioctl_request(request: u64) -> i64 {
        let byte = b'x';
        // SAFETY: on descriptor -1.
        sys(unsafe { libc::syscall(libc::SYS_ioctl, -1, request, &byte as *const u8) })
    }

    /// `mount(BAD_POINTER, "/", NULL, 0, NULL)`: `EFAULT` when let through.
    fn mount_bad_source() -> i64 {
        // SAFETY: the kernel fails to copy the source before anything else.
        sys(unsafe { libc::syscall(libc::SYS_mount, BAD_POINTER, c"/".as_ptr(), 0, 0, 0) })
    }

    #[test]
    fn the_program_is_built_once() {
        let first = program().unwrap();
        assert!(std::ptr::eq(first, program().unwrap()));
        assert!(!first.filter.is_empty() && first.filter.len() < 4096);
        assert!(format!("{first:?}").starts_with("SeccompProgram"));
    }

    #[test]
    fn every_denied_system_call_fails_with_eperm() {
        // With every argument -1 each of them fails anyway (bad pointers,
        // descriptors, flags) if let through; the filter answers first.
        for &(nr, name) in DENIED {
            let ended = filtered(|| {
                // SAFETY: invalid arguments throughout.
                sys(unsafe { libc::syscall(nr, -1, -1, -1, -1, -1, -1) })
            });
            assert_eq!(ended, failed(libc::EPERM), "{name} ({nr})");
        }
    }

    #[test]
    fn namespaces_cannot_be_created_or_joined() {
        let unshare = |flags: c_int| {
            // SAFETY: denied by the filter (in the child: harmless anyway).
            move || sys(unsafe { libc::syscall(libc::SYS_unshare, flags) })
        };
        assert_eq!(filtered(unshare(libc::CLONE_NEWUSER)), failed(libc::EPERM));
        assert_eq!(filtered(unshare(libc::CLONE_NEWNS)), failed(libc::EPERM));
        assert_eq!(filtered(unshare(libc::CLONE_FILES)), failed(libc::EPERM));
        assert_eq!(
            // SAFETY: an invalid descriptor.
            filtered(|| sys(unsafe { libc::syscall(libc::SYS_setns, -1, 0) })),
            failed(libc::EPERM)
        );
        for flag in CLONE_NAMESPACE_FLAGS {
            assert_eq!(
                filtered(|| clone_thread_with(flag)),
                failed(libc::EPERM),
                "clone with {flag:#x}"
            );
            // Bits in the high half of the register (which the kernel
            // ignores) do not hide the flag.
            assert_eq!(
                filtered(|| clone_raw(0xdead_0000_0000 | clone_flags(flag))),
                failed(libc::EPERM),
                "clone with {flag:#x} and high bits"
            );
        }
        // Without a namespace flag clone reaches the kernel (which refuses
        // CLONE_THREAD without CLONE_SIGHAND).
        assert_eq!(filtered(|| clone_thread_with(0)), failed(libc::EINVAL));
    }

    #[test]
    fn clone3_looks_unimplemented_and_libc_falls_back_to_clone() {
        assert_eq!(filtered(clone3_fork), failed(libc::ENOSYS));
        assert_eq!(
            // SAFETY: no arguments; EINVAL if let through.
            filtered(|| sys(unsafe { libc::syscall(libc::SYS_clone3, 0, 0) })),
            failed(libc::ENOSYS)
        );
        assert_eq!(filtered(fork_exit_code), Ended::Returned(7));
        assert_eq!(filtered(thread_runs), Ended::Returned(1));
        assert_eq!(filtered(spawn_exit_code), Ended::Returned(3));
    }

    #[test]
    fn ordinary_system_calls_still_work() {
        // SAFETY: getpid has no side effects.
        let pid = filtered(|| sys(unsafe { libc::syscall(libc::SYS_getpid) }));
        assert!(matches!(pid, Ended::Returned(pid) if pid > 1), "{pid:?}");
        // chroot is not denied: the kernel answers (bad path pointer).
        assert_eq!(
            // SAFETY: a bad pointer; nothing changes.
            filtered(|| sys(unsafe { libc::syscall(libc::SYS_chroot, BAD_POINTER) })),
            failed(libc::EFAULT)
        );
        // Other ioctls reach the kernel.
        assert_eq!(filtered(|| ioctl_request(TCGETS)), failed(libc::EBADF));
    }

    #[test]
    fn debugging_mounting_and_kernel_interfaces_are_refused() {
        assert_eq!(filtered(mount_bad_source), failed(libc::EPERM));
        assert_eq!(
            // SAFETY: makes the (forked) test process our tracer if let through.
            filtered(|| sys(unsafe {
                libc::syscall(libc::SYS_ptrace, libc::PTRACE_TRACEME, 0, 0, 0)
            })),
            failed(libc::EPERM)
        );
        assert_eq!(
            // SAFETY: BPF_MAP_CREATE with no attributes: EINVAL if let through.
            filtered(|| sys(unsafe { libc::syscall(libc::SYS_bpf, 0, 0, 0) })),
            failed(libc::EPERM)
        );
        assert_eq!(
            filtered(|| {
                let mut params = [0u8; 120]; // struct io_uring_params
                                             // SAFETY: a small ring, closed with the child.
                sys(unsafe { libc::syscall(libc::SYS_io_uring_setup, 4, params.as_mut_ptr()) })
            }),
            failed(libc::EPERM)
        );
    }

    #[test]
    fn personality_may_only_be_queried_or_set_to_the_plain_ones() {
        for allowed in [0xffff_ffff, 0, 0x0008, 0x0002_0000] {
            let ended = filtered(|| personality(allowed));
            assert!(succeeded(&ended), "personality({allowed:#x}): {ended:?}");
        }
        // The kernel reads an unsigned int: 0x1_0000_0000 is PER_LINUX.
        assert!(succeeded(&filtered(|| personality(0x1_0000_0000))));
        const ADDR_NO_RANDOMIZE: u64 = 0x0040000;
        const READ_IMPLIES_EXEC: u64 = 0x0400000;
        for denied in [
            ADDR_NO_RANDOMIZE,
            READ_IMPLIES_EXEC,
            0x1_0000_0000 | ADDR_NO_RANDOMIZE,
        ] {
            assert_eq!(
                filtered(|| personality(denied)),
                failed(libc::EPERM),
                "personality({denied:#x})"
            );
        }
    }

    #[test]
    fn vsock_and_device_event_sockets_are_refused() {
        let socket = |domain: u64, protocol: u64| {
            // SAFETY: socket(2) with plain integers; the descriptor leaks
            // in the probe's short-lived child.
            sys(unsafe {
                libc::syscall(libc::SYS_socket, domain, libc::SOCK_DGRAM as u64, protocol)
            })
        };
        assert_eq!(filtered(|| socket(AF_VSOCK, 0)), failed(libc::EPERM));
        assert_eq!(
            filtered(|| socket(0xdead << 32 | AF_VSOCK, 0)),
            failed(libc::EPERM)
        );
        assert_eq!(
            filtered(|| socket(AF_NETLINK, NETLINK_KOBJECT_UEVENT)),
            failed(libc::EPERM)
        );
        // Other netlink protocols (routing: `ip addr`) and families stay.
        assert!(succeeded(&filtered(|| socket(AF_NETLINK, 0))));
        assert!(succeeded(&filtered(|| socket(libc::AF_INET as u64, 0))));
        assert!(succeeded(&unfiltered(|| socket(
            AF_NETLINK,
            NETLINK_KOBJECT_UEVENT
        ))));
    }

    #[test]
    fn terminal_injection_ioctls_are_refused() {
        let tiocsti = TIOCSTI;
        assert_eq!(filtered(|| ioctl_request(tiocsti)), failed(libc::EPERM));
        assert_eq!(filtered(|| ioctl_request(TIOCLINUX)), failed(libc::EPERM));
        // The kernel reads an unsigned int: high bits do not hide TIOCSTI.
        assert_eq!(
            filtered(|| ioctl_request(0xdead_0000_0000 | tiocsti)),
            failed(libc::EPERM)
        );
    }

    #[test]
    fn without_the_filter_the_same_probes_reach_the_kernel() {
        // Answers that do not depend on privileges: each differs from the
        // filtered one above, so those came from the filter.
        for flag in CLONE_NAMESPACE_FLAGS {
            assert_eq!(unfiltered(|| clone_thread_with(flag)), failed(libc::EINVAL));
        }
        assert_eq!(unfiltered(clone3_fork), Ended::Returned(1));
        assert_eq!(unfiltered(mount_bad_source), failed(libc::EFAULT));
        assert_eq!(unfiltered(|| ioctl_request(TIOCSTI)), failed(libc::EBADF));
        assert!(succeeded(&unfiltered(|| personality(0x0040000))));
        assert_eq!(
            // SAFETY: every flag, several invalid: nothing is unshared.
            unfiltered(|| sys(unsafe { libc::syscall(libc::SYS_unshare, -1) })),
            failed(libc::EINVAL)
        );
    }

    /// x32 system calls: the x86_64 numbers with `__X32_SYSCALL_BIT`.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn x32_system_calls_fail_with_enosys() {
        for nr in [libc::SYS_getpid, libc::SYS_mount, libc::SYS_unshare] {
            let x32 = nr | libc::c_long::from(X32_SYSCALL_BIT as i32);
            // SAFETY: invalid arguments for the denied ones.
            let ended = filtered(|| sys(unsafe { libc::syscall(x32, -1, -1, -1, -1, -1) }));
            assert_eq!(ended, failed(libc::ENOSYS), "x32 {nr}");
        }
    }

    /// i386 system calls (`int 0x80`) kill the process (the filter's
    /// architecture check).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn i386_system_calls_kill_the_process() {
        fn i386_getpid() -> i64 {
            let mut eax: u32 = 20; // __NR_getpid on i386
                                   // SAFETY: an i386 system call without arguments; the kernel
                                   // clears r8-r11 on the way back.
            unsafe {
                std::arch::asm!(
                    "int 0x80",
                    inout("eax") eax,
                    out("r8") _, out("r9") _, out("r10") _, out("r11") _,
                    options(nostack),
                );
            }
            i64::from(eax as i32)
        }
        let without = unfiltered(i386_getpid);
        if !succeeded(&without) {
            eprintln!("no i386 emulation in this kernel ({without:?}): nothing to check");
            return;
        }
        assert_eq!(filtered(i386_getpid), Ended::Signaled(libc::SIGSYS));
    }

    // The kernel tests above cannot reach every path on every host (this
    // kernel may lack x32 or i386 support), so the filter is also run
    // through a small classic-BPF interpreter on made-up system calls, and
    // compared there with the reference filters seccompiler builds.

    /// `struct seccomp_data`, for [`verdict`].
    struct Call {
        nr: libc::c_long,
        arch: u32,
        args: [u64; 6],
    }

    /// The audit architecture of this build.
    #[cfg(target_arch = "x86_64")]
    const NATIVE: u32 = AUDIT_ARCH_X86_64;
    /// `AUDIT_ARCH_I386`, for `int 0x80`.
    #[cfg(target_arch = "x86_64")]
    const FOREIGN: u32 = 3 | 0x4000_0000;
    /// The audit architecture of this build.
    #[cfg(target_arch = "aarch64")]
    const NATIVE: u32 = 183 | 0x8000_0000 | 0x4000_0000;
    /// `AUDIT_ARCH_ARM`, for AArch32 tasks.
    #[cfg(target_arch = "aarch64")]
    const FOREIGN: u32 = 40 | 0x4000_0000;

    /// A native call of `nr` with `args` (the rest 0).
    fn call(nr: libc::c_long, args: &[u64]) -> Call {
        let mut all = [0; 6];
        all[..args.len()].copy_from_slice(args);
        Call {
            nr,
            arch: NATIVE,
            args: all,
        }
    }

    /// Runs one filter on `call`, as the kernel does; only the
    /// instructions [`assemble`] and seccompiler emit are supported.
    fn run(filter: &[libc::sock_filter], call: &Call) -> u32 {
        trace(filter, call).ret
    }

    /// How a filter ran on a call.
    struct Trace {
        /// The value it returned.
        ret: u32,
        /// How many instructions it ran.
        steps: usize,
        /// Whether it loaded an argument (else the kernel can tell the
        /// verdict from the number and architecture alone).
        read_args: bool,
    }

    /// Runs one filter on `call` (see [`run`]), counting.
    fn trace(filter: &[libc::sock_filter], call: &Call) -> Trace {
        let read_args = std::cell::Cell::new(false);
        let word = |offset: u32| -> u32 {
            match offset {
                0 => call.nr as u32,
                4 => call.arch,
                16..=63 => {
                    read_args.set(true);
                    let arg = call.args[(offset as usize - 16) / 8];
                    if offset % 8 == 0 {
                        arg as u32
                    } else {
                        (arg >> 32) as u32
                    }
                }
                _ => panic!("load from offset {offset}"),
            }
        };
        let (mut acc, mut pc, mut steps) = (0u32, 0usize, 0usize);
        loop {
            let insn = &filter[pc];
            pc += 1;
            steps += 1;
            let code = u32::from(insn.code);
            let branch = |taken: bool| usize::from(if taken { insn.jt } else { insn.jf });
            match code {
                _ if code == libc::BPF_LD | libc::BPF_W | libc::BPF_ABS => acc = word(insn.k),
                _ if code == libc::BPF_ALU | libc::BPF_AND | libc::BPF_K => acc &= insn.k,
                _ if code == libc::BPF_JMP | libc::BPF_JA => pc += insn.k as usize,
                _ if code == libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K => {
                    pc += branch(acc == insn.k)
                }
                _ if code == libc::BPF_JMP | libc::BPF_JGT | libc::BPF_K => {
                    pc += branch(acc > insn.k)
                }
                _ if code == libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K => {
                    pc += branch(acc >= insn.k)
                }
                _ if code == libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K => {
                    pc += branch(acc & insn.k != 0)
                }
                _ if code == libc::BPF_RET | libc::BPF_K => {
                    return Trace {
                        ret: insn.k,
                        steps,
                        read_args: read_args.get(),
                    }
                }
                _ => panic!("unexpected BPF instruction {code:#x}"),
            }
        }
    }

    /// What the kernel does with `call` under the filter.
    fn verdict(call: Call) -> u32 {
        run(&program().unwrap().filter, &call)
    }

    /// What the kernel does with `call` under several stacked filters:
    /// the most restrictive action (the lowest, read as a signed number),
    /// the most recently installed filter's on a tie.
    fn stacked_verdict(filters: &[Box<[libc::sock_filter]>], call: &Call) -> u32 {
        filters
            .iter()
            .rev()
            .map(|filter| run(filter, call))
            .min_by_key(|ret| (ret & libc::SECCOMP_RET_ACTION_FULL) as i32)
            .unwrap()
    }

    const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
    const DENY: u32 = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
    const NO_SUCH_CALL: u32 = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
    const KILL: u32 = libc::SECCOMP_RET_KILL_PROCESS;

    #[test]
    fn the_filters_give_the_documented_verdicts() {
        assert_eq!(verdict(call(libc::SYS_getpid, &[])), ALLOW);
        assert_eq!(verdict(call(libc::SYS_chroot, &[])), ALLOW);
        for &(nr, name) in DENIED {
            assert_eq!(verdict(call(nr, &[])), DENY, "{name}");
        }
        assert_eq!(verdict(call(libc::SYS_clone3, &[])), NO_SUCH_CALL);
        // clone: namespace flags in the low half of the flags.
        for flag in CLONE_NAMESPACE_FLAGS {
            let flag = u64::from(flag as u32);
            let flags = flag | libc::SIGCHLD as u64;
            assert_eq!(verdict(call(libc::SYS_clone, &[flags])), DENY);
            assert_eq!(
                verdict(call(libc::SYS_clone, &[flags | 0xdead << 32])),
                DENY
            );
            // Only in the high half, which the kernel ignores: allowed.
            assert_eq!(verdict(call(libc::SYS_clone, &[flag << 32])), ALLOW);
            // In another argument: allowed.
            assert_eq!(verdict(call(libc::SYS_clone, &[0, flag])), ALLOW);
        }
        // glibc's pthread_create fallback and fork.
        let thread = libc::CLONE_VM
            | libc::CLONE_FS
            | libc::CLONE_FILES
            | libc::CLONE_SIGHAND
            | libc::CLONE_THREAD
            | libc::CLONE_SYSVSEM
            | libc::CLONE_SETTLS
            | libc::CLONE_PARENT_SETTID
            | libc::CLONE_CHILD_CLEARTID;
        assert_eq!(verdict(call(libc::SYS_clone, &[thread as u64])), ALLOW);
        let fork = libc::CLONE_CHILD_SETTID | libc::CLONE_CHILD_CLEARTID | libc::SIGCHLD;
        assert_eq!(verdict(call(libc::SYS_clone, &[fork as u64])), ALLOW);
        // personality and ioctl.
        for persona in [0, 8, 0x2_0000, 0xffff_ffff, 0x1_ffff_ffff] {
            assert_eq!(verdict(call(libc::SYS_personality, &[persona])), ALLOW);
        }
        for persona in [0x4_0000, 0x40_0000, 0x4_0008, 0xffff_fffe] {
            assert_eq!(verdict(call(libc::SYS_personality, &[persona])), DENY);
        }
        for request in [TIOCSTI, TIOCLINUX] {
            assert_eq!(verdict(call(libc::SYS_ioctl, &[0, request])), DENY);
            assert_eq!(
                verdict(call(libc::SYS_ioctl, &[0, request | 1 << 32])),
                DENY
            );
            assert_eq!(verdict(call(libc::SYS_ioctl, &[request, 0])), ALLOW);
        }
        assert_eq!(verdict(call(libc::SYS_ioctl, &[0, TCGETS])), ALLOW);
        // Another ABI's calls kill the process, whatever the number.
        for nr in [0, 20, libc::SYS_getpid, libc::SYS_mount] {
            let foreign = Call {
                nr,
                arch: FOREIGN,
                args: [0; 6],
            };
            assert_eq!(verdict(foreign), KILL, "foreign {nr}");
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn x32_numbers_get_enosys_from_the_filters() {
        let x32 = libc::c_long::from(X32_SYSCALL_BIT);
        for nr in [
            libc::SYS_getpid,
            libc::SYS_mount,
            libc::SYS_unshare,
            512,
            0x3fff_ffff,
        ] {
            assert_eq!(verdict(call(x32 | nr, &[])), NO_SUCH_CALL, "x32 {nr}");
        }
        // -1 (the "no system call" number ptracers use) is at or above the bit too.
        assert_eq!(verdict(call(-1, &[])), NO_SUCH_CALL);
        assert_eq!(verdict(call(0x3fff_ffff, &[])), ALLOW);
    }

    #[test]
    fn the_checked_values_fit_the_32_bit_comparisons() {
        // The filter compares 32-bit words, and tests the namespace flags
        // all at once (`JSET`): each of them must be a single bit.
        assert!(CLONE_NAMESPACE_FLAGS
            .iter()
            .all(|flag| flag.count_ones() == 1));
        let values = PERSONALITY_ALLOWED.iter().chain(&[TIOCSTI, TIOCLINUX]);
        assert!(values
            .into_iter()
            .all(|&value| value <= u64::from(u32::MAX)));
    }

    /// Argument vectors for the comparison with the reference filters:
    /// nothing, every bit, the values the rules look at (and neighbours)
    /// with and without high bits in each checked argument, and some
    /// pseudo-random ones.
    fn argument_vectors() -> Vec<[u64; 6]> {
        let flags = CLONE_NAMESPACE_FLAGS.map(|flag| u64::from(flag as u32));
        let thread = libc::CLONE_VM
            | libc::CLONE_FS
            | libc::CLONE_FILES
            | libc::CLONE_SIGHAND
            | libc::CLONE_THREAD
            | libc::CLONE_SYSVSEM
            | libc::CLONE_SETTLS
            | libc::CLONE_PARENT_SETTID
            | libc::CLONE_CHILD_CLEARTID;
        let fork = libc::CLONE_CHILD_SETTID | libc::CLONE_CHILD_CLEARTID | libc::SIGCHLD;
        let mut values = vec![0, 1, 0xffff_ffff, thread as u64, fork as u64];
        values.extend(flags);
        values.extend(flags.map(|flag| flag | libc::SIGCHLD as u64));
        values.push(flags.iter().fold(0, |all, flag| all | flag));
        values.extend(PERSONALITY_ALLOWED);
        values.extend([0x4_0000, 0x40_0000, 0x4_0008, 0xffff_fffe, 9, 7]);
        values.extend([TIOCSTI, TIOCLINUX, TCGETS, TIOCSTI + 1, TIOCLINUX - 1]);
        values.extend([AF_VSOCK, AF_NETLINK, NETLINK_KOBJECT_UEVENT, 2, 10]);
        values.extend([
            0o4755,
            0o2755,
            0o6000,
            0o755,
            0o100 | 1,
            0o2000_0000 | 0o200000,
        ]);
        let mut vectors = vec![[0; 6], [u64::MAX; 6]];
        // socket(domain, type, protocol).
        for domain in [AF_VSOCK, AF_NETLINK, 1, 2, 10] {
            for protocol in [0, NETLINK_KOBJECT_UEVENT, 9] {
                vectors.push([domain, 2, protocol, 0, 0, 0]);
                vectors.push([domain | 0xdead << 32, 2, protocol | 0xbeef << 32, 0, 0, 0]);
            }
        }
        // Flags and a mode at the places open and openat take them.
        for flags in [0u64, 0o100, 0o2000_0000, 0o1, 0o100 | 0o2] {
            for mode in [0u64, 0o644, 0o4755, 0o2700, 0o6777, 0o1777] {
                vectors.push([0, flags, mode, 0, 0, 0]);
                vectors.push([0, 0, flags, mode, 0, 0]);
                vectors.push([0, mode, flags, 0, 0, 0]);
            }
        }
        for value in values {
            for value in [value, value | 0xdead << 32] {
                vectors.extend([[value, 0, 0, 0, 0, 0], [0, value, 0, 0, 0, 0], [value; 6]]);
            }
        }
        // xorshift64
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        vectors.extend((0..32).map(|_| std::array::from_fn(|_| next())));
        vectors
    }

    #[test]
    fn the_filter_gives_the_reference_filters_verdicts() {
        let filter = &program().unwrap().filter;
        let reference = reference::filters();
        let vectors = argument_vectors();
        let x32 = 0x4000_0000;
        let numbers = (0..500).chain([
            0x3fff_ffff,
            x32,
            x32 | libc::SYS_mount,
            x32 | libc::SYS_clone,
            x32 | libc::SYS_ioctl,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_fffe,
            -1,
        ]);
        for nr in numbers {
            for (arch, vectors) in [(NATIVE, &vectors[..]), (FOREIGN, &vectors[..4])] {
                for &args in vectors {
                    let call = Call { nr, arch, args };
                    assert_eq!(
                        run(filter, &call),
                        stacked_verdict(&reference, &call),
                        "nr {nr}, arch {arch:#x}, args {args:x?}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_kernel_skips_the_filter_for_the_same_numbers_after_few_tests() {
        // On attaching a filter the kernel runs it on every native number
        // (`seccomp_cache_prepare`): the numbers it allows without reading
        // an argument skip the filters from then on. Those must be the
        // same as with the reference filters, and each number must reach
        // its verdict after the binary search's few tests.
        let filter = &program().unwrap().filter;
        let reference = reference::filters();
        let always_allowed = |trace: &Trace| trace.ret == ALLOW && !trace.read_args;
        let ranges = ranges().unwrap();
        let depth = ranges.len().next_power_of_two().trailing_zeros() as usize;
        assert!(depth <= 7, "{} ranges", ranges.len());
        let (mut longest, mut skipped) = (0, 0);
        for nr in 0..500 {
            let call = call(nr, &[]);
            let new = trace(filter, &call);
            let old = reference.iter().all(|f| always_allowed(&trace(f, &call)));
            assert_eq!(always_allowed(&new), old, "system call {nr}");
            skipped += usize::from(old);
            if !new.read_args {
                longest = longest.max(new.steps);
            }
        }
        assert!(skipped > 400, "{skipped}");
        // Load the architecture, check it, load the number, search, return.
        assert!(longest <= 3 + depth + 1, "{longest} steps, depth {depth}");
    }

    /// Nanoseconds that `install` takes in a fresh child (forked from this
    /// process, after `PR_SET_NO_NEW_PRIVS`).
    fn install_time(install: impl Fn() -> bool) -> u64 {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        let [read_fd, write_fd] = fds;
        let now = || {
            let mut ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: writes into `ts`.
            unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
            ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
        };
        // SAFETY: the child makes system calls only and ends with `_exit`.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // SAFETY: in the forked child, which ends with `_exit`.
            unsafe {
                if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                    libc::_exit(100);
                }
                let start = now();
                if !install() {
                    libc::_exit(101);
                }
                let took = now() - start;
                let written = libc::write(write_fd, (&took as *const u64).cast(), 8);
                libc::_exit(if written == 8 { 0 } else { 102 });
            }
        }
        let mut took = 0u64;
        // SAFETY: closing our copy of the write end; reading into a local;
        // reaping our own child.
        let (read, status) = unsafe {
            libc::close(write_fd);
            let read = libc::read(read_fd, (&mut took as *mut u64).cast(), 8);
            libc::close(read_fd);
            let mut status = 0;
            assert_eq!(libc::waitpid(pid, &mut status, 0), pid);
            (read, status)
        };
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "{status:#x}"
        );
        assert_eq!(read, 8);
        took
    }

    /// Measures installing the filter against installing the reference
    /// filters, each in a fresh child (filters stack, so never twice in
    /// one process); prints the medians (`--nocapture` shows them).
    #[test]
    fn install_cost() {
        const SAMPLES: usize = 200;
        let program = program().unwrap();
        let reference = reference::filters();
        let (mut before, mut after) = (Vec::new(), Vec::new());
        for _ in 0..SAMPLES {
            before.push(install_time(|| {
                reference
                    .iter()
                    // SAFETY: in the forked child, after no_new_privs.
                    .all(|filter| unsafe { install_filter(filter) }.is_ok())
            }));
            // SAFETY: in the forked child, after no_new_privs.
            after.push(install_time(|| unsafe { program.install() }.is_ok()));
        }
        let median = |samples: &mut Vec<u64>| {
            samples.sort_unstable();
            samples[samples.len() / 2] as f64 / 1000.0
        };
        let (reference, assembled) = (median(&mut before), median(&mut after));
        eprintln!(
            "seccomp install, median of {SAMPLES} forks: reference (3 seccompiler filters) \
             {reference:.1} us, assembled filter {assembled:.1} us"
        );
        // Measured about 4x; alternating samples keep machine noise out of
        // the comparison, so even a loaded machine shows it cheaper.
        assert!(
            assembled < reference,
            "the assembled filter ({assembled:.1} us) must install faster than the reference ({reference:.1} us)"
        );
    }

    /// The filters of the first version, built with seccompiler: the
    /// reference the assembled filter is compared with.
    mod reference {
        use super::super::*;
        use seccompiler::{
            BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition,
            SeccompFilter, SeccompRule, TargetArch,
        };
        use std::collections::BTreeMap;

        /// The `EPERM` filter, the `clone3` filter and (on x86_64) the x32
        /// guard, in installation order.
        pub(super) fn filters() -> Vec<Box<[libc::sock_filter]>> {
            let arch = TargetArch::try_from(std::env::consts::ARCH).unwrap();
            let deny = compile(deny_rules(), SeccompAction::Errno(libc::EPERM as u32), arch);
            let clone3 = compile(
                BTreeMap::from([(libc::SYS_clone3, Vec::new()), (SYS_OPENAT2, Vec::new())]),
                SeccompAction::Errno(libc::ENOSYS as u32),
                arch,
            );
            let mut filters = vec![deny, clone3];
            #[cfg(target_arch = "x86_64")]
            filters.push(x32_filter().into_boxed_slice());
            filters
        }

        /// A condition on the low 32 bits of argument `arg`.
        fn dword(arg: u8, op: SeccompCmpOp, value: u64) -> SeccompCondition {
            SeccompCondition::new(arg, SeccompCmpArgLen::Dword, op, value).unwrap()
        }

        /// The `EPERM` filter's rules.
        fn deny_rules() -> BTreeMap<i64, Vec<SeccompRule>> {
            let mut rules: BTreeMap<i64, Vec<SeccompRule>> =
                DENIED.iter().map(|&(nr, _)| (nr, Vec::new())).collect();
            let clone = CLONE_NAMESPACE_FLAGS
                .iter()
                .map(|&flag| {
                    let flag = u64::from(flag as u32);
                    SeccompRule::new(vec![dword(0, SeccompCmpOp::MaskedEq(flag), flag)]).unwrap()
                })
                .collect();
            rules.insert(libc::SYS_clone, clone);
            let personality = PERSONALITY_ALLOWED
                .iter()
                .map(|&value| dword(0, SeccompCmpOp::Ne, value))
                .collect();
            rules.insert(
                libc::SYS_personality,
                vec![SeccompRule::new(personality).unwrap()],
            );
            let ioctl = [TIOCSTI, TIOCLINUX]
                .iter()
                .map(|&request| {
                    SeccompRule::new(vec![dword(1, SeccompCmpOp::Eq, request)]).unwrap()
                })
                .collect();
            rules.insert(libc::SYS_ioctl, ioctl);
            rules.insert(
                libc::SYS_socket,
                vec![
                    SeccompRule::new(vec![dword(0, SeccompCmpOp::Eq, AF_VSOCK)]).unwrap(),
                    SeccompRule::new(vec![
                        dword(0, SeccompCmpOp::Eq, AF_NETLINK),
                        dword(2, SeccompCmpOp::Eq, NETLINK_KOBJECT_UEVENT),
                    ])
                    .unwrap(),
                ],
            );
            let bits = |arg: u8| {
                [0o4000u64, 0o2000]
                    .map(|bit| dword(arg, SeccompCmpOp::MaskedEq(bit), bit))
                    .to_vec()
            };
            let set_id = |arg: u8| {
                bits(arg)
                    .into_iter()
                    .map(|c| SeccompRule::new(vec![c]).unwrap())
                    .collect::<Vec<_>>()
            };
            let create = |flags: u8, mode: u8| {
                let mut v = Vec::new();
                for flag in [0o100u64, 0o2000_0000] {
                    for c in bits(mode) {
                        v.push(
                            SeccompRule::new(vec![
                                dword(flags, SeccompCmpOp::MaskedEq(flag), flag),
                                c,
                            ])
                            .unwrap(),
                        );
                    }
                }
                v
            };
            rules.insert(libc::SYS_fchmod, set_id(1));
            rules.insert(libc::SYS_fchmodat, set_id(2));
            rules.insert(SYS_FCHMODAT2, set_id(2));
            rules.insert(libc::SYS_mknodat, set_id(2));
            rules.insert(libc::SYS_openat, create(2, 3));
            #[cfg(target_arch = "x86_64")]
            {
                rules.insert(libc::SYS_chmod, set_id(1));
                rules.insert(libc::SYS_mknod, set_id(1));
                rules.insert(libc::SYS_creat, set_id(1));
                rules.insert(libc::SYS_open, create(1, 2));
            }
            rules
        }

        /// `rules` compiled into a filter that returns `action` when a rule
        /// matches and allows everything else.
        fn compile(
            rules: BTreeMap<i64, Vec<SeccompRule>>,
            action: SeccompAction,
            arch: TargetArch,
        ) -> Box<[libc::sock_filter]> {
            let filter = SeccompFilter::new(rules, SeccompAction::Allow, action, arch).unwrap();
            let program: BpfProgram = filter.try_into().unwrap();
            program
                .into_iter()
                .map(|insn| libc::sock_filter {
                    code: insn.code,
                    jt: insn.jt,
                    jf: insn.jf,
                    k: insn.k,
                })
                .collect()
        }

        /// The x32 guard: `ENOSYS` for x86_64-ABI numbers at or above
        /// `__X32_SYSCALL_BIT`, allow the rest (and other ABIs).
        #[cfg(target_arch = "x86_64")]
        fn x32_filter() -> Vec<libc::sock_filter> {
            let insn = |code: u32, k: u32, jt: u8, jf: u8| libc::sock_filter {
                code: code as u16,
                jt,
                jf,
                k,
            };
            let load = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
            let ret = libc::BPF_RET | libc::BPF_K;
            vec![
                insn(load, DATA_ARCH, 0, 0),
                insn(
                    libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K,
                    AUDIT_ARCH_X86_64,
                    0,
                    3,
                ),
                insn(load, DATA_NR, 0, 0),
                insn(
                    libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K,
                    X32_SYSCALL_BIT,
                    0,
                    1,
                ),
                insn(ret, libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32, 0, 0),
                insn(ret, libc::SECCOMP_RET_ALLOW, 0, 0),
            ]
        }
    }
}
