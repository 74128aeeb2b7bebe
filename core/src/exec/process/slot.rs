//! Run slots: a run's cgroups and private home directory. Creating and
//! removing them costs a few hundred microseconds, so a background thread
//! keeps a couple ready and removes used ones off the run's critical path.
//! A used slot's home directory is removed at once; its cgroups, once
//! empty, are reset and reused. Nothing that can block for long runs on
//! this thread.

use super::cgroup::{CgroupRoots, RunCgroup};
use super::child::WarmInit;
use super::exit_helper;
use super::namespaces::{self, PreparedNamespaces, UntouchedNetwork};
use super::users::{kill_all_of, RunUser, UserSource};
use super::ViewKey;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Duration;

/// The prefix of run home directories (followed by the owner's pid).
const HOME_PREFIX: &str = "sandboxcore-home-";
/// How many slots are kept ready (by default).
pub const READY: usize = 2;
/// How many recycled cgroups, and network namespaces no run left a trace
/// in, are kept for later slots. More than [`READY`]: when runs come back
/// to back faster than the background thread refills, runs make their own
/// slots and several come back at once. With only [`READY`] kept, one run
/// in five made a new network namespace (~0.5 ms of work, and as much to
/// tear one down); with five, one in fifty.
const KEPT: usize = 2 * READY + 1;

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
    /// The run's init started ahead with the view for this key (isolated
    /// runs, slots made on the background thread).
    pub warm: Option<(ViewKey, WarmInit)>,
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
    /// Set once every process of the run is known to be gone (the run
    /// ended normally): only then may its network namespace, if the run
    /// left no trace in it, serve another run.
    pub processes_gone: bool,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(c) = &self.cgroup {
            c.remove();
        }
    }
}

/// Starts a slot's init ahead of its run, for the view runs are expected
/// to ask for (`None`: none expected, or it could not be built — the run
/// then builds its view itself and reports any failure).
pub type WarmMaker = Arc<dyn Fn(&Slot) -> Option<(ViewKey, WarmInit)> + Send + Sync>;

/// How slots are made.
#[derive(Clone)]
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
    /// Isolated runs: starts slots' inits ahead.
    pub warm: Option<WarmMaker>,
    /// How many slots are kept ready (0: each run makes its own).
    pub ready: usize,
    /// Network namespaces runs left no trace in serve later slots (their
    /// counters are read when they are made, and after each run).
    pub hand_on_networks: bool,
}

impl std::fmt::Debug for SlotSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlotSpec")
            .field("roots", &self.roots)
            .field("home_parent", &self.home_parent)
            .field("namespaces", &self.namespaces)
            .field("warm", &self.warm.is_some())
            .field("ready", &self.ready)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    /// The process whose slots these are (0: not yet known).
    owner: u32,
    ready: Vec<Slot>,
    used: Vec<Slot>,
    recycled: Vec<RunCgroup>,
    /// Network namespaces in which no run left a trace, for the next slots.
    untouched_networks: Vec<UntouchedNetwork>,
    /// A whole set of namespaces no process has used, for the next slot.
    unused_namespaces: Option<PreparedNamespaces>,
    /// Inits started for a view their run did not ask for, with their
    /// mount namespaces: stopped and torn down on the background thread.
    discarded: Vec<(WarmInit, Option<std::fs::File>)>,
}

impl Drop for State {
    fn drop(&mut self) {
        if self.owner != std::process::id() {
            // A forked copy: the inits, cgroups and uids are the parent's.
            std::mem::forget(std::mem::take(&mut self.ready));
            std::mem::forget(std::mem::take(&mut self.used));
            std::mem::forget(std::mem::take(&mut self.recycled));
            std::mem::forget(std::mem::take(&mut self.discarded));
            return;
        }
        // Ready and used slots remove their own cgroups when dropped.
        for c in &self.recycled {
            c.remove();
        }
    }
}

/// What a new pool starts with: a cgroup and a network namespace left
/// unused by the backend's probe, and work for the background thread to
/// do first (removing what crashed processes left).
#[derive(Default)]
pub struct Seeds {
    /// A cgroup for the first slot.
    pub cgroup: Option<RunCgroup>,
    /// A network namespace for the first slot.
    pub network: Option<UntouchedNetwork>,
    /// Namespaces no process has used yet (made by a probe that ran no
    /// trial), for the first slot: they spare it making its own.
    pub namespaces: Option<PreparedNamespaces>,
    /// Run on the background thread before anything else.
    pub first: Option<Box<dyn FnOnce() + Send>>,
}

/// Ready and used slots, tended by a background thread that lives as long
/// as the pool.
pub struct SlotPool {
    /// The process that made the pool. In a process forked from it (a
    /// pre-forking server, Python's `multiprocessing`), the slots, their
    /// inits and cgroups are that process's: they are neither used nor
    /// removed there, and each run makes a slot of its own.
    owner: u32,
    spec: SlotSpec,
    use_cgroups: bool,
    state: Mutex<State>,
    wake: Condvar,
    /// Set by [`SlotPool::teardown_after_exit`].
    teardown_after_exit: std::sync::atomic::AtomicBool,
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
    pub fn new(spec: SlotSpec, use_cgroups: bool, seeds: Seeds) -> Arc<SlotPool> {
        let mut state = State::default();
        state.owner = std::process::id();
        state.recycled.extend(seeds.cgroup);
        state.untouched_networks.extend(seeds.network);
        state.unused_namespaces = seeds.namespaces;
        let pool = Arc::new(SlotPool {
            owner: std::process::id(),
            spec,
            use_cgroups,
            state: Mutex::new(state),
            wake: Condvar::new(),
            teardown_after_exit: std::sync::atomic::AtomicBool::new(false),
        });
        let weak = Arc::downgrade(&pool);
        let first = seeds.first;
        let _ = std::thread::Builder::new()
            .name("sandboxcore-slots".into())
            .spawn(move || {
                if let Some(first) = first {
                    first();
                }
                tend(weak)
            });
        pool
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot for a run: a ready one, else one made now. Call
    /// [`SlotPool::refill`] once the run has started.
    pub fn take(&self) -> io::Result<(Slot, Option<io::Error>)> {
        if !self.is_owner() {
            return self.make(false);
        }
        let ready = self.lock().ready.pop();
        match ready {
            Some(slot) => Ok((slot, None)),
            None => self.make(false),
        }
    }

    /// Makes a slot now: a fresh home, and a recycled or new cgroup when
    /// cgroups are used; with `warm`, the run's init started ahead. A
    /// cgroup that cannot be created is left out; the error says why (for
    /// callers that require cgroups).
    fn make(&self, warm: bool) -> io::Result<(Slot, Option<io::Error>)> {
        let user = self.spec.users.acquire()?;
        let (home, namespaces) = match self.spec.namespaces {
            Some(user_namespace) => {
                let idmap = user.as_ref().map(|u| (u.uid, u.gid));
                let (unused, reuse) = if self.is_owner() {
                    let mut state = self.lock();
                    match state.unused_namespaces.take() {
                        Some(ns) => (Some(ns), None),
                        None => (None, state.untouched_networks.pop()),
                    }
                } else {
                    (None, None)
                };
                let ns = match unused {
                    Some(ns) => ns.for_user(idmap)?,
                    None => namespaces::prepare(
                        user_namespace,
                        idmap,
                        reuse,
                        self.spec.hand_on_networks,
                    )?,
                };
                (None, Some(ns))
            }
            None => (
                Some(Home::create(
                    &self.spec.home_parent,
                    user.as_ref().map(|u| (u.uid, u.gid)),
                )?),
                None,
            ),
        };
        let recycled = if self.use_cgroups && self.is_owner() {
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
        let mut slot = Slot {
            warm: None,
            cgroup,
            home,
            user,
            namespaces,
            mount_namespace: None,
            processes_gone: false,
        };
        if let Some(maker) = self.spec.warm.as_ref().filter(|_| warm && error.is_none()) {
            slot.warm = maker(&slot);
            if let Some((_, w)) = &slot.warm {
                // Held so that the view's mounts are torn down here, on the
                // background thread, not in the exit of the run's init.
                slot.mount_namespace =
                    std::fs::File::open(format!("/proc/{}/ns/mnt", w.pid())).ok();
            }
        }
        Ok((slot, error))
    }

    /// Whether the slot the next run takes has an init started ahead that
    /// `serves` accepts.
    pub fn next_warm(&self, serves: impl Fn(&ViewKey, &WarmInit) -> bool) -> bool {
        // `take` pops the last ready slot: only its view would serve.
        self.lock()
            .ready
            .last()
            .and_then(|s| s.warm.as_ref())
            .is_some_and(|(k, w)| serves(k, w))
    }

    /// Whether this is the process that made the pool (not a fork of it).
    fn is_owner(&self) -> bool {
        std::process::id() == self.owner
    }

    /// Has the background thread make up for taken slots. (Not done in
    /// `take`: making a slot mounts and creates namespaces, which slows the
    /// start of the run that took one.)
    pub fn refill(&self) {
        self.wake.notify_one();
    }

    /// Hands an init started for another view (and the mount namespace of
    /// that view) to the background thread, which stops it.
    pub fn discard(&self, warm: WarmInit, mount_namespace: Option<std::fs::File>) {
        if !self.is_owner() {
            // The parent's: neither stopped nor reaped here.
            std::mem::forget(warm);
            return;
        }
        self.lock().discarded.push((warm, mount_namespace));
        self.wake.notify_one();
    }

    /// From now on, each slot handed back with every process of its run
    /// gone has the kernel's teardown of its namespaces and view left to a
    /// helper that outlives this process ([`exit_helper::hold_until_exit`]):
    /// for a process that ends after its run. Its cgroups and home are
    /// still removed here.
    pub fn teardown_after_exit(&self) {
        self.teardown_after_exit
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Hands a used slot back for removal in the background.
    pub fn give_back(&self, slot: Slot) {
        if self
            .teardown_after_exit
            .load(std::sync::atomic::Ordering::Relaxed)
            && slot.processes_gone
        {
            // The slot's namespaces and view: the helper's copies keep
            // them until this process has exited. Without a helper (or
            // nothing to keep), the teardown is this process's, as before.
            let keep: Vec<_> = slot
                .namespaces
                .iter()
                .flat_map(|ns| ns.raw_fds())
                .chain(slot.mount_namespace.as_ref().map(AsRawFd::as_raw_fd))
                .collect();
            if !keep.is_empty() {
                if let Err(e) = exit_helper::hold_until_exit(&keep) {
                    tracing::debug!(error = %e, "no helper for the run's teardown");
                }
            }
        }
        if !self.is_owner() {
            // No background thread here: removed now.
            drop(slot);
            return;
        }
        self.lock().used.push(slot);
        self.wake.notify_one();
    }
}

/// The background thread: removes used slots and keeps `spec.ready` ready.
fn tend(pool: Weak<SlotPool>) {
    loop {
        let Some(pool) = pool.upgrade() else { return };
        let discarded = std::mem::take(&mut pool.lock().discarded);
        drop(discarded);
        let mut used = std::mem::take(&mut pool.lock().used);
        for slot in &mut used {
            // An init started for a view no run asked for.
            slot.warm = None;
            // The run's mounts go first (they hold nothing of the network).
            slot.mount_namespace = None;
            if let Some(ns) = slot.namespaces.take().filter(|_| slot.processes_gone) {
                if let Some(net) = ns.into_untouched_network() {
                    let mut state = pool.lock();
                    if state.untouched_networks.len() < KEPT {
                        state.untouched_networks.push(net);
                    }
                }
            }
        }
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
                        if pool.lock().recycled.len() < KEPT {
                            pool.lock().recycled.push(cgroup);
                        } else {
                            in_background(move || cgroup.remove());
                        }
                    } else {
                        // Still busy (a cancelled run): kill and remove it
                        // on its own thread (this can take seconds).
                        in_background(move || {
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
        let missing = pool.spec.ready.saturating_sub(pool.lock().ready.len());
        for _ in 0..missing {
            match pool.make(true) {
                Ok((slot, None)) => pool.lock().ready.push(slot),
                // Cgroups that cannot be made now are made per run.
                _ => break,
            }
        }
        let state = pool.lock();
        if state.used.is_empty()
            && state.discarded.is_empty()
            && state.ready.len() >= pool.spec.ready
        {
            // Wake up now and then to notice the pool is gone.
            let _ = pool.wake.wait_timeout(state, Duration::from_millis(500));
        }
    }
}

/// Runs `work` on a thread of its own, or here when no thread can be made
/// (this thread must not panic: the inits started ahead die with it).
fn in_background(work: impl FnOnce() + Send + 'static) {
    let work = std::sync::Arc::new(std::sync::Mutex::new(Some(work)));
    let theirs = work.clone();
    let spawned = std::thread::Builder::new().spawn(move || {
        if let Some(w) = theirs.lock().ok().and_then(|mut w| w.take()) {
            w();
        }
    });
    if spawned.is_err() {
        if let Some(w) = work.lock().ok().and_then(|mut w| w.take()) {
            w();
        }
    }
}

/// Removes homes left by processes that died without cleaning up.
/// Returns the directories removed.
pub fn sweep_stale_homes(parent: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for e in entries.flatten() {
        if super::cgroup::left_by_dead_process(&e.file_name().to_string_lossy(), HOME_PREFIX) {
            let path = e.path();
            let _ = std::fs::remove_dir_all(&path);
            if !path.exists() {
                removed.push(path);
            }
        }
    }
    removed
}
