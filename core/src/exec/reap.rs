//! Clean-up of what dead owners left behind, in one shape for every
//! backend ([`Executor::reap`](super::Executor::reap)): a backend starts a
//! pass in the background when it is made, and `reap()` waits for that
//! pass, makes one more, and says what was removed ([`ReapReport`]).

use crate::Result;
use std::path::Path;
use tokio::sync::oneshot;

/// What a clean-up removed: one entry per cgroup, directory, container or
/// Job, in the order they went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReapReport {
    /// Everything removed.
    pub removed: Vec<Leftover>,
}

/// One thing a dead owner left and a clean-up removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// What it is.
    pub kind: LeftoverKind,
    /// Which one: a path (cgroups, home and egress directories), a
    /// container id or a Job name.
    pub name: String,
}

/// The kinds of things backends leave behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum LeftoverKind {
    /// A run's cgroup (process backend), one per hierarchy.
    Cgroup,
    /// A run's home directory on the host (process backend, isolation
    /// off).
    Home,
    /// A container (Docker backend).
    Container,
    /// A container's egress directory on the host (Docker backend).
    EgressDir,
    /// A Job (Kubernetes backend).
    Job,
}

impl LeftoverKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [LeftoverKind; 5] = [
        LeftoverKind::Cgroup,
        LeftoverKind::Home,
        LeftoverKind::Container,
        LeftoverKind::EgressDir,
        LeftoverKind::Job,
    ];

    /// The name of one (`cgroup`, `home directory`, `container`, `egress
    /// directory`, `Job`).
    pub fn as_str(self) -> &'static str {
        match self {
            LeftoverKind::Cgroup => "cgroup",
            LeftoverKind::Home => "home directory",
            LeftoverKind::Container => "container",
            LeftoverKind::EgressDir => "egress directory",
            LeftoverKind::Job => "Job",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            LeftoverKind::Cgroup => "cgroups",
            LeftoverKind::Home => "home directories",
            LeftoverKind::Container => "containers",
            LeftoverKind::EgressDir => "egress directories",
            LeftoverKind::Job => "Jobs",
        }
    }
}

impl ReapReport {
    /// Whether nothing was removed.
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty()
    }

    /// How many things of `kind` were removed.
    pub fn count(&self, kind: LeftoverKind) -> usize {
        self.removed.iter().filter(|l| l.kind == kind).count()
    }

    /// The names of the things of `kind` that were removed.
    pub fn names(&self, kind: LeftoverKind) -> impl Iterator<Item = &str> {
        self.removed
            .iter()
            .filter(move |l| l.kind == kind)
            .map(|l| l.name.as_str())
    }

    /// Adds what another pass removed.
    pub fn merge(&mut self, other: ReapReport) {
        self.removed.extend(other.removed);
    }

    pub(crate) fn push(&mut self, kind: LeftoverKind, name: impl Into<String>) {
        self.removed.push(Leftover {
            kind,
            name: name.into(),
        });
    }
}

impl std::fmt::Display for ReapReport {
    /// `nothing`, or the counts by kind: `2 cgroups, 1 home directory`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_empty() {
            return f.write_str("nothing");
        }
        let mut first = true;
        for kind in LeftoverKind::ALL {
            let n = self.count(kind);
            if n == 0 {
                continue;
            }
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            let name = if n == 1 { kind.as_str() } else { kind.plural() };
            write!(f, "{n} {name}")?;
        }
        Ok(())
    }
}

/// The clean-up pass a backend started in the background when it was made:
/// [`Executor::reap`](super::Executor::reap) waits for it. Its report goes
/// to the first caller; later callers (and those that come while it runs)
/// wait until it has ended.
#[derive(Debug)]
pub(crate) struct FirstPass(tokio::sync::Mutex<Option<oneshot::Receiver<Result<ReapReport>>>>);

impl FirstPass {
    /// A pass whose result is sent on the returned sender (dropping the
    /// sender unsent counts as a pass that removed nothing).
    pub(crate) fn new() -> (oneshot::Sender<Result<ReapReport>>, FirstPass) {
        let (tx, rx) = oneshot::channel();
        (tx, FirstPass(tokio::sync::Mutex::new(Some(rx))))
    }

    /// No pass (nothing to wait for).
    pub(crate) fn none() -> FirstPass {
        FirstPass(tokio::sync::Mutex::new(None))
    }

    /// Waits until the pass has ended; its report the first time, an
    /// empty one after. Cancel-safe: a caller dropped while waiting leaves
    /// the report to the next.
    pub(crate) async fn wait(&self) -> Result<ReapReport> {
        let mut pending = self.0.lock().await;
        let Some(rx) = pending.as_mut() else {
            return Ok(ReapReport::default());
        };
        let result = rx.await.unwrap_or_else(|_| Ok(ReapReport::default()));
        *pending = None;
        result
    }
}

/// Runs blocking clean-up `work` on a thread of its own and waits for it
/// without blocking the runtime (here, when no thread can be made).
pub(crate) async fn on_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = oneshot::channel();
    let work = std::sync::Arc::new(std::sync::Mutex::new(Some(work)));
    let theirs = work.clone();
    let spawned = std::thread::Builder::new()
        .name("sandboxcore-reap".into())
        .spawn(move || {
            let work = theirs.lock().ok().and_then(|mut w| w.take());
            if let Some(work) = work {
                let _ = tx.send(work());
            }
        });
    if spawned.is_err() {
        let work = work.lock().ok().and_then(|mut w| w.take());
        if let Some(work) = work {
            return work();
        }
    }
    match rx.await {
        Ok(t) => t,
        // The thread panicked: the panic is the report.
        Err(_) => panic!("a clean-up thread panicked"),
    }
}

/// Whether process `pid` no longer exists (this process never counts as
/// gone).
pub(crate) fn pid_gone(pid: u32) -> bool {
    pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
}

/// Whether `name` is `<prefix><pid>-...` for a pid that no longer exists
/// (left behind by a process that died without cleaning up).
pub(crate) fn left_by_dead_process(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .and_then(|r| r.split('-').next())
        .and_then(|p| p.parse::<u32>().ok())
        .is_some_and(pid_gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_count_by_kind() {
        let mut r = ReapReport::default();
        assert_eq!(r.to_string(), "nothing");
        r.push(LeftoverKind::Home, "/tmp/a");
        r.push(LeftoverKind::Cgroup, "/sys/fs/cgroup/x");
        let mut more = ReapReport::default();
        more.push(LeftoverKind::Cgroup, "/sys/fs/cgroup/y");
        r.merge(more);
        assert_eq!(r.count(LeftoverKind::Cgroup), 2);
        assert_eq!(
            r.names(LeftoverKind::Cgroup).collect::<Vec<_>>(),
            ["/sys/fs/cgroup/x", "/sys/fs/cgroup/y"]
        );
        assert_eq!(r.to_string(), "2 cgroups, 1 home directory");
    }

    #[test]
    fn leftovers_are_recognised_by_their_dead_owner() {
        assert!(left_by_dead_process("p-4000000000-3", "p-"));
        let mine = format!("p-{}-3", std::process::id());
        assert!(!left_by_dead_process(&mine, "p-"));
        assert!(!left_by_dead_process("p-1-3", "p-"), "pid 1 is alive");
        assert!(!left_by_dead_process("other-4000000000-3", "p-"));
        assert!(!left_by_dead_process("p-x-3", "p-"));
    }

    #[test]
    fn the_first_pass_is_waited_for_and_reported_once() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (tx, first) = FirstPass::new();
        rt.block_on(async {
            // A waiter dropped before the pass ends leaves the report.
            let early = tokio::time::timeout(std::time::Duration::from_millis(10), first.wait());
            assert!(early.await.is_err());
            let mut r = ReapReport::default();
            r.push(LeftoverKind::Job, "j");
            tx.send(Ok(r.clone())).unwrap();
            assert_eq!(first.wait().await.unwrap(), r);
            assert!(first.wait().await.unwrap().is_empty());
            assert!(FirstPass::none().wait().await.unwrap().is_empty());
            assert_eq!(on_thread(|| 7).await, 7);
        });
    }
}
