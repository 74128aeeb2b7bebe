//! Landlock as a second filesystem layer: writes are allowed only beneath
//! the run's writable roots, its private `/tmp` and `/dev/shm`, and to the
//! device nodes of its `/dev`; signals and abstract Unix sockets are scoped
//! to the run (ABI 6 and later).
//!
//! The ruleset is built in the parent with the `landlock` crate, which
//! negotiates what the kernel supports (best effort). The child adds the
//! mounts it creates itself (a fresh tmpfs has an inode the parent cannot
//! name beforehand) and enforces the ruleset with two raw system calls: it
//! shares the parent's memory until `exec`, so it must not allocate, and the
//! crate's `add_rule`/`restrict_self` do.

use ::landlock::{
    path_beneath_rules, AccessFs, BitFlags, CompatLevel, Compatible, Ruleset, RulesetAttr,
    RulesetCreatedAttr, Scope, ABI,
};
use std::ffi::{c_int, CStr};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::sync::OnceLock;

/// `LANDLOCK_CREATE_RULESET_VERSION`: asks for the ABI version.
const CREATE_RULESET_VERSION: u32 = 1;
/// `LANDLOCK_RULE_PATH_BENEATH`.
const RULE_PATH_BENEATH: c_int = 1;

/// The Landlock ABI version of the running kernel (0: not available, with
/// the reason).
pub fn abi() -> Result<i32, &'static str> {
    static ABI_VERSION: OnceLock<Result<i32, &'static str>> = OnceLock::new();
    *ABI_VERSION.get_or_init(|| {
        // SAFETY: the version query takes no attribute.
        let v = unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                std::ptr::null::<u8>(),
                0usize,
                CREATE_RULESET_VERSION,
            )
        };
        if v > 0 {
            return Ok(v as i32);
        }
        match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::EOPNOTSUPP) => {
                Err("Landlock is built into this kernel but not enabled (add `landlock` to the `lsm=` boot parameter)")
            }
            _ => Err("this kernel has no Landlock (Linux 5.13 or later with CONFIG_SECURITY_LANDLOCK)"),
        }
    })
}

/// The `landlock_path_beneath_attr` of the kernel's API.
#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

/// A ruleset for one run, ready for the child to complete and enforce.
#[derive(Debug)]
pub struct RunRuleset {
    fd: OwnedFd,
    write_access: u64,
}

/// The write rights this kernel handles.
fn write_rights(abi: i32) -> BitFlags<AccessFs> {
    AccessFs::from_write(ABI::from(abi))
}

impl RunRuleset {
    /// A ruleset that handles every write right the kernel knows and allows
    /// them beneath `writable` and on `devices` (missing paths are left
    /// out). `Ok(None)` when the kernel has no Landlock.
    pub fn new(writable: &[&Path], devices: &[&Path]) -> Result<Option<RunRuleset>, String> {
        let Ok(abi) = abi() else {
            return Ok(None);
        };
        let write = write_rights(abi);
        let device_rights = write & (AccessFs::WriteFile | AccessFs::Truncate | AccessFs::IoctlDev);
        let mut ruleset = Ruleset::default()
            .set_compatibility(CompatLevel::BestEffort)
            .handle_access(write)
            .map_err(|e| e.to_string())?;
        if abi >= 6 {
            ruleset = ruleset
                .scope(Scope::Signal | Scope::AbstractUnixSocket)
                .map_err(|e| e.to_string())?;
        }
        let created = ruleset
            .create()
            .map_err(|e| e.to_string())?
            .add_rules(path_beneath_rules(writable, write))
            .map_err(|e| e.to_string())?
            .add_rules(path_beneath_rules(devices, device_rights))
            .map_err(|e| e.to_string())?;
        let fd: Option<OwnedFd> = created.into();
        let fd = fd.ok_or("the Landlock ruleset has no descriptor")?;
        Ok(Some(RunRuleset {
            fd: super::child::above_stdio(fd).map_err(|e| e.to_string())?,
            write_access: write.bits(),
        }))
    }

    /// The ruleset's descriptor.
    pub fn raw_fd(&self) -> c_int {
        self.fd.as_raw_fd()
    }

    /// Allows every handled write right beneath `path` (a mount the child
    /// made). Returns `errno` on failure.
    ///
    /// # Safety
    /// Only system calls; safe to call between `clone` and `exec`.
    pub unsafe fn allow_beneath(&self, path: &CStr) -> Result<(), c_int> {
        // SAFETY: a NUL-terminated path; a stack attribute of the kernel's
        // layout; descriptors we own.
        unsafe {
            let dir = libc::open(path.as_ptr(), libc::O_PATH | libc::O_CLOEXEC);
            if dir < 0 {
                return Err(*libc::__errno_location());
            }
            let attr = PathBeneathAttr {
                allowed_access: self.write_access,
                parent_fd: dir,
            };
            let r = libc::syscall(
                libc::SYS_landlock_add_rule,
                self.fd.as_raw_fd(),
                RULE_PATH_BENEATH,
                &attr as *const PathBeneathAttr,
                0u32,
            );
            let e = *libc::__errno_location();
            libc::close(dir);
            if r != 0 {
                return Err(e);
            }
        }
        Ok(())
    }

    /// Enforces the ruleset on the calling thread (which must have set
    /// `no_new_privs`). Returns `errno` on failure.
    ///
    /// # Safety
    /// Only a system call; safe to call between `clone` and `exec`.
    pub unsafe fn enforce(&self) -> Result<(), c_int> {
        // SAFETY: a ruleset descriptor we own.
        let r =
            unsafe { libc::syscall(libc::SYS_landlock_restrict_self, self.fd.as_raw_fd(), 0u32) };
        if r != 0 {
            // SAFETY: reading this thread's errno.
            return Err(unsafe { *libc::__errno_location() });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_abi_is_known_or_the_reason_is_given() {
        match abi() {
            Ok(v) => assert!(v >= 1),
            Err(why) => assert!(why.contains("Landlock")),
        }
    }

    #[test]
    fn a_ruleset_is_built_for_existing_paths() {
        let dir = tempfile::tempdir().unwrap();
        let r = RunRuleset::new(
            &[dir.path(), Path::new("/no/such")],
            &[Path::new("/dev/null")],
        )
        .unwrap();
        if abi().is_ok() {
            let r = r.expect("a ruleset where Landlock is available");
            assert_ne!(r.write_access & AccessFs::WriteFile as u64, 0);
        } else {
            assert!(r.is_none());
        }
    }
}
