//! Run slots: a run's cgroups and private home directory. Creating and
//! removing them costs a few hundred microseconds, so a background thread
//! keeps a couple ready and removes used ones off the run's critical path.
//! A used slot's home directory is removed at once; its cgroups, once
//! empty, are reset and reused. Nothing that can block for long runs on
//! this thread.

use super::cgroup::{CgroupRoots, RunCgroup};
use super::namespaces::{self, PreparedNamespaces};
use super::users::{kill_all_of, RunUser, UserSource};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Duration;

/// The prefix of run home directories (followed by the owner's pid).
const HOME_PREFIX: &str = "sandboxcore-home-";
/// How many slots are kept ready.
const READY: usize = 2;

/// A run's private home directory, owned by the user the command runs as
/// and removed with everything in it when dropped.
#[derive(Debug)]
pub struct Home {
    /// The directory.
    pub path: PathBuf,
}

impl Home {
    fn create(parent: &Path, owner: Option<(u32, u32)>) -> io::Result<Home> {
        let path = tempfile::Builder::new()
            .prefix(&format!("{HOME_PREFIX}{}-", std::process::id()))
            .tempdir_in(parent)?
            .keep();
        let home = Home { path };
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&home.path, Some(uid), Some(gid))?;
        }
        std::fs::set_permissions(&home.path, std::fs::Permissions::from_mode(0o700))?;
        Ok(home)
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// What one run needs besides its processes.
#[derive(Debug)]
pub struct Slot {
    /// The run's cgroups, when cgroups are used and could be created.
    pub cgroup: Option<RunCgroup>,
    /// The run's home directory (taken out and removed when the run ends).
    pub home: Option<Home>,
    /// The user the run's processes have (`None`: the caller's). Dropped,
    /// and so free for another run, only once the run's processes are gone.
    pub user: Option<RunUser>,
    /// The run's own namespaces (isolated runs), used by this run only.
    pub namespaces: Option<PreparedNamespaces>,
    /// The run's mount namespace, held so that its many mounts are torn
    /// down when the slot is dropped on the background thread, not in the
    /// exit of the run's init (which the run waits for).
    pub mount_namespace: Option<std::fs::File>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(c) = &self.cgroup {
            c.remove();
        }
    }
}

/// How slots are made.
#[derive(Debug, Clone)]
pub struct SlotSpec {
    /// Cgroup roots (empty when cgroups are off).
    pub roots: Arc<CgroupRoots>,
    /// Where homes are created.
    pub home_parent: PathBuf,
    /// Where runs' users come from (they also own the homes).
    pub users: Arc<UserSource>,
    /// `Some(user_namespace)`: isolated runs, each with namespaces made
    /// ahead (in a user namespace of their own when `true`) and its home in
    /// its private `/tmp` (no home on the host).
    pub namespaces: Option<bool>,
}

#[derive(Default)]
struct State {
    ready: Vec<Slot>,
    used: Vec<Slot>,
    recycled: Vec<RunCgroup>,
}

impl Drop for State {
    fn drop(&mut self) {
        // Ready and used slots remove their own cgroups when dropped.
        for c in &self.recycled {
            c.remove();
        }
    }
}

/// Ready and used slots, tended by a background thread that lives as long
/// as the pool.
pub struct SlotPool {
    spec: SlotSpec,
    use_cgroups: bool,
    state: Mutex<State>,
    wake: Condvar,
}

impl std::fmt::Debug for SlotPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlotPool")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

impl SlotPool {
    /// A pool making slots to `spec` (with cgroups when `use_cgroups`).
    pub fn new(spec: SlotSpec, use_cgroups: bool) -> Arc<SlotPool> {
        let pool = Arc::new(SlotPool {
            spec,
            use_cgroups,
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
        });
        let weak = Arc::downgrade(&pool);
        let _ = std::thread::Builder::new()
            .name("sandboxcore-slots".into())
            .spawn(move || tend(weak));
        pool
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot for a run: a ready one, else one made now.
    pub fn take(&self) -> io::Result<(Slot, Option<io::Error>)> {
        let ready = self.lock().ready.pop();
        self.wake.notify_one();
        match ready {
            Some(slot) => Ok((slot, None)),
            None => self.make(),
        }
    }

    /// Makes a slot now: a fresh home, and a recycled or new cgroup when
    /// cgroups are used. A cgroup that cannot be created is left out; the
    /// error says why (for callers that require cgroups).
    fn make(&self) -> io::Result<(Slot, Option<io::Error>)> {
        let user = self.spec.users.acquire()?;
        let (home, namespaces) = match self.spec.namespaces {
            Some(user_namespace) => (
                None,
                Some(namespaces::prepare(
                    user_namespace,
                    user.as_ref().map(|u| (u.uid, u.gid)),
                )?),
            ),
            None => (
                Some(Home::create(
                    &self.spec.home_parent,
                    user.as_ref().map(|u| (u.uid, u.gid)),
                )?),
                None,
            ),
        };
        let recycled = if self.use_cgroups {
            self.lock().recycled.pop()
        } else {
            None
        };
        let (cgroup, error) = match recycled {
            Some(c) => (Some(c), None),
            None if self.use_cgroups => match RunCgroup::create(&self.spec.roots) {
                Ok(c) => (Some(c), None),
                Err(e) => (None, Some(e)),
            },
            None => (None, None),
        };
        Ok((
            Slot {
                cgroup,
                home,
                user,
                namespaces,
                mount_namespace: None,
            },
            error,
        ))
    }

    /// Hands a used slot back for removal in the background.
    pub fn give_back(&self, slot: Slot) {
        self.lock().used.push(slot);
        self.wake.notify_one();
    }
}

/// The background thread: removes used slots and keeps `READY` ready.
fn tend(pool: Weak<SlotPool>) {
    loop {
        let Some(pool) = pool.upgrade() else { return };
        let used = std::mem::take(&mut pool.lock().used);
        // Homes first (quick), then cgroups (a busy one can take seconds).
        // A run's user is released with (after) its cgroup.
        let cgroups: Vec<(Option<RunCgroup>, Option<RunUser>)> = used
            .into_iter()
            .map(|mut slot| (slot.cgroup.take(), slot.user.take()))
            .collect();
        for (cgroup, user) in cgroups {
            match cgroup {
                Some(mut cgroup) => {
                    if cgroup.recycle() {
                        drop(user);
                        if pool.lock().recycled.len() < READY {
                            pool.lock().recycled.push(cgroup);
                        } else {
                            std::thread::spawn(move || cgroup.remove());
                        }
                    } else {
                        // Still busy (a cancelled run): kill and remove it
                        // on its own thread (this can take seconds).
                        std::thread::spawn(move || {
                            cgroup.remove();
                            drop(user);
                        });
                    }
                }
                // No cgroup vouches that the run's processes are gone: a
                // per-run uid is swept before it is used again.
                None => {
                    if let Some(u) = user.filter(RunUser::is_per_run) {
                        kill_all_of(u.uid);
                    }
                }
            }
        }
        let missing = READY.saturating_sub(pool.lock().ready.len());
        for _ in 0..missing {
            match pool.make() {
                Ok((slot, None)) => pool.lock().ready.push(slot),
                // Cgroups that cannot be made now are made per run.
                _ => break,
            }
        }
        let state = pool.lock();
        if state.used.is_empty() && state.ready.len() >= READY {
            // Wake up now and then to notice the pool is gone.
            let _ = pool.wake.wait_timeout(state, Duration::from_millis(500));
        }
    }
}

/// Removes homes left by processes that died without cleaning up.
pub fn sweep_stale_homes(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        if super::cgroup::left_by_dead_process(&e.file_name().to_string_lossy(), HOME_PREFIX) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}
