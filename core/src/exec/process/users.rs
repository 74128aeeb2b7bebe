//! Per-run users. As root, each concurrent run gets a uid and gid of its
//! own from a range, so that two commands running at the same time cannot
//! signal, trace or read each other's processes, nor read each other's
//! private homes. A uid is claimed host-wide with a lock file (`flock`,
//! released by the kernel if this process dies), so separate sandboxcore
//! processes never hand out the same one at the same time. A uid is given
//! back only when every process of its run is known to be gone: its cgroup
//! is empty, or, without cgroups, after every process of the uid was
//! killed.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// The first uid of the default per-run range (far above regular and
/// system users, systemd's dynamic users and the usual subordinate-id
/// ranges of container runtimes).
pub const FIRST_RUN_UID: u32 = 1_600_000_000;
/// How many uids the default range has (each claimed uid leaves an empty
/// lock file behind, so the range bounds their number; uids are handed out
/// in turn, so one is used again only after the others).
pub const RUN_UID_COUNT: u32 = 4096;

/// The user a run's processes have.
#[derive(Debug)]
pub struct RunUser {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
    /// Held while the uid is this run's (per-run users only).
    claim: Option<File>,
}

impl RunUser {
    /// Whether the uid belongs to this run alone.
    pub fn is_per_run(&self) -> bool {
        self.claim.is_some()
    }
}

/// Where runs' users come from.
#[derive(Debug)]
pub enum UserSource {
    /// The caller's own user.
    Caller,
    /// Always this uid and gid.
    Fixed(u32, u32),
    /// A uid (and gid of the same number) of its own per run, from
    /// `first..first + count`.
    PerRun {
        /// First uid of the range.
        first: u32,
        /// Size of the range.
        count: u32,
        /// Where the claims are kept.
        dir: PathBuf,
        /// The next uid to try (an offset into the range).
        next: AtomicU32,
    },
}

impl UserSource {
    /// Per-run users from `first..first + count`, claimed in `dir`.
    pub fn per_run(first: u32, count: u32, dir: PathBuf) -> UserSource {
        // Start where another process is unlikely to be.
        let start = std::process::id().wrapping_mul(2654435761) % count.max(1);
        UserSource::PerRun {
            first,
            count: count.max(1),
            dir,
            next: AtomicU32::new(start),
        }
    }

    /// The user for a new run: `None` for the caller's own.
    pub fn acquire(&self) -> io::Result<Option<RunUser>> {
        match self {
            UserSource::Caller => Ok(None),
            UserSource::Fixed(uid, gid) => Ok(Some(RunUser {
                uid: *uid,
                gid: *gid,
                claim: None,
            })),
            UserSource::PerRun {
                first,
                count,
                dir,
                next,
            } => {
                private_claim_dir(dir)?;
                for _ in 0..*count {
                    let offset = next.fetch_add(1, Ordering::Relaxed) % count;
                    let uid = first + offset;
                    if let Some(claim) = try_claim(dir, uid)? {
                        return Ok(Some(RunUser {
                            uid,
                            gid: uid,
                            claim: Some(claim),
                        }));
                    }
                }
                Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    format!("all {count} per-run uids from {first} are in use"),
                ))
            }
        }
    }
}

/// The directory of uid claims: under `/run` when it is writable, else the
/// temp dir.
pub fn default_claim_dir() -> PathBuf {
    let run = Path::new("/run");
    // SAFETY: access with a valid NUL-terminated path.
    let writable = unsafe { libc::access(c"/run".as_ptr(), libc::W_OK) } == 0;
    if run.is_dir() && writable {
        run.join("sandboxcore-uids")
    } else {
        std::env::temp_dir().join("sandboxcore-uids")
    }
}

/// Makes the claim directory, or checks it: ours and mode 0700. Anyone who
/// could open a claim file could `flock` it (a read-only descriptor is
/// enough): a run's command holding every claim would keep all other runs
/// on the host from starting, and a lock found busy would tell it which
/// uids other runs have. A directory from an older version (0755) is made
/// private; one owned by another user is an error.
fn private_claim_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    match std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        // Something else in its place: reported below.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        other => other?,
    }
    let meta = std::fs::symlink_metadata(dir)?;
    // SAFETY: geteuid cannot fail.
    let euid = unsafe { libc::geteuid() };
    if !meta.is_dir() || meta.uid() != euid {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "the uid claim directory {} is not a directory of this user (uid {euid}); remove it",
                dir.display()
            ),
        ));
    }
    if meta.mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Claims `uid` (an exclusive, non-blocking `flock` on its file).
fn try_claim(dir: &Path, uid: u32) -> io::Result<Option<File>> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(dir.join(uid.to_string()))?;
    // SAFETY: flock on a descriptor we own.
    let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r == 0 {
        return Ok(Some(file));
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(None)
    } else {
        Err(e)
    }
}

/// Kills every process whose user is `uid`, from a `vfork`-style child
/// that becomes that user and signals everything it may (`kill(-1,
/// SIGKILL)` spares only itself and init), then reaps that child. Used when
/// no cgroup can tell that a run's processes are gone.
pub fn kill_all_of(uid: u32) {
    extern "C" fn sweep(arg: *mut libc::c_void) -> libc::c_int {
        let uid = arg as usize as libc::c_long;
        // SAFETY: raw system calls only (the child shares our memory);
        // signals stay blocked, and the child ends with exit.
        unsafe {
            if libc::syscall(libc::SYS_setresgid, uid, uid, uid) == 0
                && libc::syscall(libc::SYS_setresuid, uid, uid, uid) == 0
            {
                libc::syscall(
                    libc::SYS_kill,
                    -1 as libc::c_long,
                    libc::SIGKILL as libc::c_long,
                );
            }
            libc::syscall(libc::SYS_exit, 0 as libc::c_long);
        }
        0
    }
    // SAFETY: `sweep` makes raw system calls only and exits; its argument
    // is a plain integer.
    let swept =
        unsafe { super::child::vfork_call(sweep, uid as usize as *mut libc::c_void, 16 * 1024) };
    if let Ok(pid) = swept {
        let _ = super::child::wait4(pid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_run_uids_are_distinct_and_come_back() {
        let dir = tempfile::tempdir().unwrap();
        let source = UserSource::per_run(5000, 3, dir.path().to_path_buf());
        let a = source.acquire().unwrap().unwrap();
        let b = source.acquire().unwrap().unwrap();
        let c = source.acquire().unwrap().unwrap();
        let mut uids = vec![a.uid, b.uid, c.uid];
        uids.sort();
        assert_eq!(uids, [5000, 5001, 5002]);
        assert!(a.is_per_run() && a.gid == a.uid);
        let e = source.acquire().unwrap_err();
        assert!(e.to_string().contains("in use"), "{e}");
        let freed = b.uid;
        drop(b);
        assert_eq!(source.acquire().unwrap().unwrap().uid, freed);
    }

    #[test]
    fn the_claim_directory_and_files_are_private() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("claims");
        // An older version's directory, readable by everyone.
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let source = UserSource::per_run(9000, 2, dir.clone());
        let _claim = source.acquire().unwrap().unwrap();
        assert_eq!(std::fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        for f in std::fs::read_dir(&dir).unwrap() {
            assert_eq!(f.unwrap().metadata().unwrap().mode() & 0o777, 0o600);
        }
        // A path that is not a directory of ours is refused.
        let file = parent.path().join("file");
        std::fs::write(&file, "").unwrap();
        let e = UserSource::per_run(9000, 2, file).acquire().unwrap_err();
        assert!(e.to_string().contains("not a directory"), "{e}");
    }

    #[test]
    fn claims_are_exclusive_across_sources() {
        // Two sources on one directory stand for two processes (flock
        // locks belong to open file descriptions, so this holds within one
        // process too).
        let dir = tempfile::tempdir().unwrap();
        let one = UserSource::per_run(7000, 2, dir.path().to_path_buf());
        let two = UserSource::per_run(7000, 2, dir.path().to_path_buf());
        let a = one.acquire().unwrap().unwrap();
        let b = two.acquire().unwrap().unwrap();
        assert_ne!(a.uid, b.uid);
        assert!(one.acquire().is_err() && two.acquire().is_err());
    }

    #[test]
    fn kill_all_of_ends_every_process_of_the_uid_and_no_other() {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        if !crate::test_skip::skip_unless("root", root) {
            return;
        }
        let uid = FIRST_RUN_UID + RUN_UID_COUNT - 1;
        let spawn = |as_uid: Option<u32>| {
            let mut cmd = std::process::Command::new("sleep");
            cmd.arg("30");
            if let Some(u) = as_uid {
                std::os::unix::process::CommandExt::uid(&mut cmd, u);
                std::os::unix::process::CommandExt::gid(&mut cmd, u);
            }
            cmd.spawn().unwrap()
        };
        let mut victims = [spawn(Some(uid)), spawn(Some(uid))];
        let mut bystander = spawn(None);
        kill_all_of(uid);
        for v in &mut victims {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(v.wait().unwrap().signal(), Some(libc::SIGKILL));
        }
        assert!(
            bystander.try_wait().unwrap().is_none(),
            "another user's process survives"
        );
        bystander.kill().unwrap();
        let _ = bystander.wait();
    }

    #[test]
    fn fixed_and_caller_sources() {
        assert!(UserSource::Caller.acquire().unwrap().is_none());
        let u = UserSource::Fixed(65534, 65534).acquire().unwrap().unwrap();
        assert_eq!((u.uid, u.gid, u.is_per_run()), (65534, 65534, false));
    }
}
