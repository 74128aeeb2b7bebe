//! Per-run cgroups beneath the calling process's own cgroups: cgroup v1
//! `memory` and `pids` hierarchies and the v2 unified hierarchy (where only
//! membership and `cgroup.kill` are needed, so it works with no controllers
//! enabled). Nothing is created or moved outside our own cgroups.

use std::fs;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The prefix of the cgroups this crate creates.
const PREFIX: &str = "sandboxcore-";

/// Our own cgroup directories, found from `/proc/self/cgroup` and
/// `/proc/self/mountinfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgroupRoots {
    /// v1 `memory` hierarchy.
    pub memory_v1: Option<PathBuf>,
    /// v1 `pids` hierarchy.
    pub pids_v1: Option<PathBuf>,
    /// The v2 unified hierarchy.
    pub unified: Option<PathBuf>,
}

impl CgroupRoots {
    /// Detects this process's cgroups.
    pub fn detect() -> CgroupRoots {
        let (Ok(cgroup), Ok(mountinfo)) = (
            fs::read_to_string("/proc/self/cgroup"),
            fs::read_to_string("/proc/self/mountinfo"),
        ) else {
            return CgroupRoots::default();
        };
        CgroupRoots::from_proc(&cgroup, &mountinfo)
    }

    /// Parses the two proc files (separated for tests).
    pub fn from_proc(cgroup: &str, mountinfo: &str) -> CgroupRoots {
        let mut roots = CgroupRoots::default();
        for line in cgroup.lines() {
            let mut f = line.splitn(3, ':');
            let (Some(_), Some(controllers), Some(path)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            let want_v2 = controllers.is_empty();
            let Some(dir) = mount_path(mountinfo, controllers, want_v2, path) else {
                continue;
            };
            if want_v2 {
                roots.unified = Some(dir);
            } else if controllers.split(',').any(|c| c == "memory") {
                roots.memory_v1 = Some(dir);
            } else if controllers.split(',').any(|c| c == "pids") {
                roots.pids_v1 = Some(dir);
            }
        }
        roots
    }
}

/// The directory of cgroup `path` in the hierarchy mounted with
/// `controllers` (or the v2 one).
fn mount_path(mountinfo: &str, controllers: &str, v2: bool, path: &str) -> Option<PathBuf> {
    for line in mountinfo.lines() {
        let Some((pre, post)) = line.split_once(" - ") else {
            continue;
        };
        let pre: Vec<&str> = pre.split(' ').collect();
        let post: Vec<&str> = post.split(' ').collect();
        let (Some(root), Some(mount)) = (pre.get(3), pre.get(4)) else {
            continue;
        };
        let fstype = post.first().copied().unwrap_or("");
        let matches = if v2 {
            fstype == "cgroup2"
        } else {
            fstype == "cgroup" && {
                let opts: Vec<&str> = post.get(2).copied().unwrap_or("").split(',').collect();
                controllers.split(',').all(|c| opts.contains(&c))
            }
        };
        if !matches {
            continue;
        }
        let rel = if *root == "/" {
            path
        } else {
            path.strip_prefix(root)?
        };
        return Some(Path::new(mount).join(rel.trim_start_matches('/')));
    }
    None
}

/// The most memory an empty cgroup may still be charged with to serve
/// another run (what a short run leaves, page cache of the files it read,
/// is about 1 MiB).
pub const RECYCLE_MAX_CHARGE: u64 = 4 << 20;

/// The cgroups of one run (a clone names the same cgroups).
#[derive(Debug, Clone)]
pub struct RunCgroup {
    memory: Option<PathBuf>,
    pids: Option<PathBuf>,
    unified: Option<PathBuf>,
    /// OOM kills counted before this run (the counter cannot be reset).
    oom_baseline: u64,
    /// The limits last written (memory, pids), to skip rewriting them
    /// when a reused cgroup gets the same ones.
    limits: Option<(Option<u64>, Option<u64>)>,
    /// Set by `kill_all` (on any clone), which changes `pids.max`.
    killed: Arc<AtomicBool>,
    /// The open `cgroup.procs` files ([`RunCgroup::procs_fds`]).
    procs: Arc<Vec<OwnedFd>>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl RunCgroup {
    /// The cgroups at these directories, with no limits written, no OOM
    /// baseline and no open files yet.
    fn at(memory: Option<PathBuf>, pids: Option<PathBuf>, unified: Option<PathBuf>) -> RunCgroup {
        RunCgroup {
            memory,
            pids,
            unified,
            oom_baseline: 0,
            limits: None,
            killed: Arc::new(AtomicBool::new(false)),
            procs: Arc::default(),
        }
    }

    /// Creates a run's cgroups beneath `roots` (no limits yet). Fails if
    /// none can be created.
    pub fn create(roots: &CgroupRoots) -> io::Result<RunCgroup> {
        let name = format!(
            "{PREFIX}{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let make = |root: &Option<PathBuf>| -> Option<PathBuf> {
            let dir = root.as_ref()?.join(&name);
            fs::create_dir(&dir).ok()?;
            Some(dir)
        };
        // The v1 pids hierarchy tracks every descendant as well as the v2
        // one does; joining both would only cost time.
        let mut cg = RunCgroup::at(
            make(&roots.memory_v1),
            make(&roots.pids_v1),
            if roots.pids_v1.is_some() {
                None
            } else {
                make(&roots.unified)
            },
        );
        if cg.memory.is_none() && cg.pids.is_none() && cg.unified.is_none() {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "no cgroup could be created beneath this process's cgroups",
            ));
        }
        match cg.open_procs_files() {
            Ok(files) => {
                cg.procs = Arc::new(files);
                Ok(cg)
            }
            Err(e) => {
                cg.remove();
                Err(e)
            }
        }
    }

    /// Sets the memory and process limits (`None`: unlimited); nothing to
    /// do when they are the ones already set.
    pub fn set_limits(&mut self, memory: Option<u64>, pids: Option<u64>) -> io::Result<()> {
        if self.limits == Some((memory, pids)) {
            return Ok(());
        }
        self.write_limits(memory, pids)?;
        self.limits = Some((memory, pids));
        Ok(())
    }

    fn write_limits(&self, memory: Option<u64>, pids: Option<u64>) -> io::Result<()> {
        let value = |v: Option<u64>| v.map_or("max".to_string(), |n| n.to_string());
        if let Some(dir) = &self.memory {
            let bytes = memory.map_or("-1".to_string(), |n| n.to_string());
            // memsw must stay >= the memory limit at every step (the cgroup
            // may be reused with a different limit): lift it, set the
            // limit, then make swap count against it.
            let memsw = dir.join("memory.memsw.limit_in_bytes");
            let has_memsw = memsw.exists();
            if has_memsw {
                fs::write(&memsw, "-1")?;
            }
            fs::write(dir.join("memory.limit_in_bytes"), &bytes)?;
            if has_memsw && memory.is_some() {
                fs::write(&memsw, &bytes)?;
            }
        }
        if let Some(dir) = &self.pids {
            fs::write(dir.join("pids.max"), value(pids))?;
        }
        if let Some(dir) = &self.unified {
            // Controllers are used only where already delegated to us.
            let available = fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default();
            let has = |c: &str| available.split_whitespace().any(|a| a == c);
            if self.memory.is_none() && has("memory") {
                fs::write(dir.join("memory.max"), value(memory))?;
                let _ = fs::write(dir.join("memory.swap.max"), "0");
            }
            if self.pids.is_none() && has("pids") {
                fs::write(dir.join("pids.max"), value(pids))?;
            }
        }
        Ok(())
    }

    /// The run's cgroup directories. The pids hierarchy comes first: the
    /// child joins them in this order, and joining the v1 memory cgroup
    /// first made the two joins take about 60 us instead of 25 us here.
    fn dirs(&self) -> impl Iterator<Item = &PathBuf> {
        self.pids.iter().chain(&self.memory).chain(&self.unified)
    }

    /// The files a child writes `0` into to join: `tasks` in the v1
    /// hierarchies, `cgroup.procs` in the unified one. The child that
    /// joins has a single thread (its own thread group), so moving that
    /// thread moves the whole process, as `cgroup.procs` would; but the
    /// kernel moves the writer's own thread without the global
    /// `cgroup_threadgroup_rwsem`, whose write side waits for an RCU grace
    /// period (5-15 ms on a busy 2-core VM; `cgroup.procs` always takes
    /// it). Joining a v2 cgroup through `cgroup.threads` is only for
    /// threaded subtrees, so the unified hierarchy keeps `cgroup.procs`.
    fn open_procs_files(&self) -> io::Result<Vec<OwnedFd>> {
        let v1 = self
            .pids
            .iter()
            .chain(&self.memory)
            .map(|d| d.join("tasks"));
        let unified = self.unified.iter().map(|d| d.join("cgroup.procs"));
        v1.chain(unified)
            .map(|path| {
                let file = fs::OpenOptions::new().write(true).open(path)?;
                super::child::above_stdio(OwnedFd::from(file))
            })
            .collect()
    }

    /// The files (open, close-on-exec) the child writes itself into before
    /// exec, in [`RunCgroup::dirs`] order (see `open_procs_files`). They
    /// are opened once with the cgroup, not by every child; the kernel
    /// checks a write against the opener's credentials.
    pub fn procs_fds(&self) -> Vec<RawFd> {
        self.procs.iter().map(AsRawFd::as_raw_fd).collect()
    }

    /// Whether the memory limit is enforced (v1 memory, or v2 with the
    /// memory controller).
    pub fn limits_memory(&self) -> bool {
        self.memory.is_some()
            || self
                .unified
                .as_ref()
                .is_some_and(|d| d.join("memory.max").exists())
    }

    /// Whether the process limit is enforced.
    pub fn limits_pids(&self) -> bool {
        self.pids.is_some()
            || self
                .unified
                .as_ref()
                .is_some_and(|d| d.join("pids.max").exists())
    }

    /// The processes in the run's cgroups.
    pub fn pids(&self) -> Vec<i32> {
        let mut pids: Vec<i32> = self
            .dirs()
            .filter_map(|d| fs::read_to_string(d.join("cgroup.procs")).ok())
            .flat_map(|s| {
                s.lines()
                    .filter_map(|l| l.trim().parse().ok())
                    .collect::<Vec<i32>>()
            })
            .collect();
        pids.sort_unstable();
        pids.dedup();
        pids
    }

    /// Whether no process is left. Every process of a run joined all of its
    /// cgroups before anything else, so one hierarchy tells.
    pub fn is_empty(&self) -> bool {
        match self.dirs().next() {
            Some(d) => fs::read_to_string(d.join("cgroup.procs"))
                .map(|s| s.trim().is_empty())
                .unwrap_or(true),
            None => true,
        }
    }

    /// Sends `signal` to every process in the run's cgroups.
    pub fn signal_all(&self, signal: i32) {
        for pid in self.pids() {
            // SAFETY: kill(2) has no memory-safety preconditions.
            unsafe { libc::kill(pid, signal) };
        }
    }

    /// Kills every process in the run's cgroups and waits (up to `wait`)
    /// until they are gone. New forks are refused first, so a fork bomb
    /// cannot outrun the loop.
    pub fn kill_all(&self, wait: Duration) -> bool {
        self.killed.store(true, Ordering::SeqCst);
        if let Some(dir) = &self.pids {
            let _ = fs::write(dir.join("pids.max"), "0");
        }
        if let Some(dir) = &self.unified {
            let _ = fs::write(dir.join("cgroup.kill"), "1");
        }
        let deadline = Instant::now() + wait;
        loop {
            let pids = self.pids();
            if pids.is_empty() {
                return true;
            }
            for pid in pids {
                // SAFETY: kill(2) has no memory-safety preconditions.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Makes an empty cgroup ready for another run: resets the peak memory
    /// and remembers the OOM kill count so far. False if it is not empty,
    /// or if it is still charged with more than [`RECYCLE_MAX_CHARGE`]
    /// (files a run wrote into a tmpfs, its page cache): the next run would
    /// start with that memory counted against its limit (killed at once
    /// near it) and could read it as a message from the run before.
    /// Removing the cgroup hands the charge to its parent.
    pub fn recycle(&mut self) -> bool {
        if !self.is_empty() {
            return false;
        }
        if self.memory_charge().is_some_and(|c| c > RECYCLE_MAX_CHARGE) {
            return false;
        }
        if let Some(dir) = &self.memory {
            let _ = fs::write(dir.join("memory.max_usage_in_bytes"), "0");
        }
        if self.killed.swap(false, Ordering::SeqCst) {
            // `kill_all` set pids.max to 0: the limits must be written again.
            self.limits = None;
        }
        self.oom_baseline = self.oom_kill_counter();
        true
    }

    /// The memory charged to the cgroup now, where the kernel reports it.
    fn memory_charge(&self) -> Option<u64> {
        self.memory_file("memory.usage_in_bytes", "memory.current", |s| {
            s.trim().parse().ok()
        })
    }

    /// What `parse` reads in the memory controller's file `v1` (cgroup v1)
    /// or `v2` (the unified hierarchy), where the run has one.
    fn memory_file<T>(&self, v1: &str, v2: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
        let read = |p: PathBuf| parse(&fs::read_to_string(p).ok()?);
        self.memory
            .as_ref()
            .and_then(|d| read(d.join(v1)))
            .or_else(|| self.unified.as_ref().and_then(|d| read(d.join(v2))))
    }

    /// How many times the kernel's OOM killer killed a process of the run.
    pub fn oom_kills(&self) -> u64 {
        self.oom_kill_counter().saturating_sub(self.oom_baseline)
    }

    fn oom_kill_counter(&self) -> u64 {
        self.memory_file("memory.oom_control", "memory.events", |s| {
            s.lines().find_map(|l| {
                l.strip_prefix("oom_kill ")
                    .and_then(|n| n.trim().parse().ok())
            })
        })
        .unwrap_or(0)
    }

    /// Peak memory use of the run, in bytes, where the kernel reports it.
    pub fn peak_memory(&self) -> Option<u64> {
        self.memory_file("memory.max_usage_in_bytes", "memory.peak", |s| {
            s.trim().parse().ok()
        })
    }

    /// Kills what is left and removes the cgroups (retrying while the
    /// kernel still counts exiting processes).
    pub fn remove(&self) {
        self.kill_all(Duration::from_secs(5));
        for dir in self.dirs() {
            for _ in 0..500 {
                match fs::remove_dir(dir) {
                    Ok(()) => break,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                    // Not ours to remove (another user's leftovers): no
                    // amount of waiting changes that.
                    Err(e) if e.kind() == io::ErrorKind::PermissionDenied => break,
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        }
    }
}

pub(super) use crate::exec::reap::left_by_dead_process;

/// Removes cgroups left by processes that died without cleaning up (a
/// crash): `sandboxcore-PID-N` beneath our roots whose PID is gone (what
/// is still in them is killed first). Returns the directories removed.
pub fn sweep_stale(roots: &CgroupRoots) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    for root in [&roots.memory_v1, &roots.pids_v1, &roots.unified]
        .into_iter()
        .flatten()
    {
        let Ok(entries) = fs::read_dir(root) else {
            continue;
        };
        for e in entries.flatten() {
            if !left_by_dead_process(&e.file_name().to_string_lossy(), PREFIX) {
                continue;
            }
            let dir = e.path();
            RunCgroup::at(None, None, Some(dir.clone())).remove();
            if !dir.exists() {
                removed.push(dir);
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    const CGROUP: &str = "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/\n";
    const MOUNTINFO: &str = "\
30 25 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
33 30 0:29 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
38 30 0:34 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
39 30 0:35 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
40 30 0:36 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn finds_our_cgroups_in_each_hierarchy() {
        let r = CgroupRoots::from_proc(CGROUP, MOUNTINFO);
        assert_eq!(
            r.memory_v1.unwrap(),
            Path::new("/sys/fs/cgroup/memory/process_api/abc")
        );
        assert_eq!(r.pids_v1.unwrap(), Path::new("/sys/fs/cgroup/pids"));
        assert_eq!(r.unified.unwrap(), Path::new("/sys/fs/cgroup/unified"));
    }

    #[test]
    fn leftovers_are_recognised_by_their_dead_owner() {
        assert!(left_by_dead_process("sandboxcore-4000000000-3", PREFIX));
        let mine = format!("sandboxcore-{}-3", std::process::id());
        assert!(!left_by_dead_process(&mine, PREFIX));
        assert!(!left_by_dead_process("other-4000000000-3", PREFIX));
        assert!(!left_by_dead_process("sandboxcore-x-3", PREFIX));
    }

    #[test]
    fn a_namespaced_mount_root_is_stripped() {
        let mi = "40 30 0:36 /user.slice /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        let r = CgroupRoots::from_proc("0::/user.slice/app\n", mi);
        assert_eq!(r.unified.unwrap(), Path::new("/sys/fs/cgroup/app"));
        let r = CgroupRoots::from_proc("0::/elsewhere\n", mi);
        assert_eq!(r.unified, None, "a cgroup outside the mount is unusable");
    }
}
