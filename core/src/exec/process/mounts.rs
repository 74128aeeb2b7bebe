//! The command's view of the filesystem, built in its own mount namespace
//! between `clone` and `exec`: the host's tree read-only (one recursive
//! `mount_setattr`), the writable roots bound back in read-write, a private
//! size-limited `/tmp` (which holds the run's `HOME`), a minimal `/dev`, the
//! deny-read paths covered, the protected paths inside writable roots bound
//! read-only, and a `/proc` for the run's pid namespace.
//!
//! [`MountPlan`] is computed in the parent (it allocates); the child only
//! runs [`MountPlan::apply`], which makes system calls on the plan's
//! prepared strings (the child shares the parent's memory until `exec`).
//!
//! Writable roots are cloned with `open_tree(OPEN_TREE_CLONE)` *before* the
//! tree is made read-only and attached with `move_mount` afterwards, so they
//! keep their flags, and a root below `/tmp` (a test's temporary workspace)
//! survives the private `/tmp` mounted over the host's.

use std::ffi::{c_int, CStr, CString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// The device nodes bound into the run's `/dev` from the host's.
pub const DEVICES: [&str; 6] = ["null", "zero", "full", "random", "urandom", "tty"];

/// The most writable roots (and device nodes) one run may have.
pub const MAX_TREES: usize = 64;

/// A path to hide: directories get an empty, unreadable tmpfs over them,
/// files get `/dev/null`.
#[derive(Debug, Clone)]
pub struct Hidden {
    path: CString,
    is_dir: bool,
}

/// Everything the child mounts, in order. Built by [`MountPlan::new`].
#[derive(Debug, Clone)]
pub struct MountPlan {
    /// Writable roots, parents before children.
    writable: Vec<CString>,
    /// Directories to create in the private `/tmp` before a writable root
    /// below it can be attached (parents first).
    tmp_dirs: Vec<CString>,
    /// `/dev/<name>` for each of [`DEVICES`].
    devices: Vec<(CString, CString)>,
    hidden: Vec<Hidden>,
    /// As root with a per-run uid: the topmost ancestors of the writable
    /// roots that the run's uid could not pass through (`/root`, mode
    /// 0700). Each gets an empty read-only tmpfs holding only the path down
    /// to the roots: the run reaches its workspace and sees nothing else of
    /// that directory.
    stubs: Vec<CString>,
    /// Read-only roots that the private `/tmp` would hide (a read-only
    /// working directory below the host's `/tmp`).
    read_only: Vec<CString>,
    /// Directories between a writable root and a protected path: bound onto
    /// themselves so that they cannot be renamed away (a mount point cannot
    /// be), taking the protected mounts with them.
    anchors: Vec<CString>,
    /// Paths inside writable roots that stay read-only.
    protected: Vec<CString>,
    tmp_options: CString,
    shm_options: CString,
    /// The run's home directory inside the private `/tmp`, and its owner.
    home: CString,
    home_owner: Option<(u32, u32)>,
    idmap: Option<c_int>,
    /// What the plan was made from, as found on the host: see
    /// [`MountPlan::still_current`].
    observed: Vec<Observed>,
}

/// A path the plan depends on and the file it found there (or none).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Observed {
    path: PathBuf,
    /// Symlinks followed (writable roots, deny-read paths) or not
    /// (protected paths, which are skipped when they are symlinks).
    follow: bool,
    /// `(device, inode, file type)`, `None` when nothing was there.
    file: Option<(u64, u64, u32)>,
}

impl Observed {
    fn look(path: &Path, follow: bool) -> Observed {
        use std::os::unix::fs::MetadataExt;
        let meta = if follow {
            std::fs::metadata(path)
        } else {
            std::fs::symlink_metadata(path)
        };
        Observed {
            path: path.to_path_buf(),
            follow,
            file: meta
                .ok()
                .map(|m| (m.dev(), m.ino(), m.mode() & libc::S_IFMT)),
        }
    }
}

/// What the plan is made from.
#[derive(Debug, Clone)]
pub struct MountRequest<'a> {
    /// Writable roots (existing directories).
    pub writable: &'a [PathBuf],
    /// Directories to show read-only although they lie below the host's
    /// `/tmp` (others are in the read-only view anyway).
    pub read_only: &'a [PathBuf],
    /// Paths to hide (missing ones are skipped).
    pub deny_read: &'a [PathBuf],
    /// Paths kept read-only: absolute, or relative to each writable root
    /// (missing ones are skipped).
    pub protected: &'a [PathBuf],
    /// Size of the private `/tmp` and `/dev/shm`, bytes.
    pub tmp_size: u64,
    /// The path of the run's home (below `/tmp`).
    pub home: &'a Path,
    /// The owner of the home, when the child changes user after mounting.
    pub home_owner: Option<(u32, u32)>,
    /// A user namespace whose mapping the writable roots get (idmapped
    /// mounts), when the run has a uid of its own (as root).
    pub idmap: Option<c_int>,
    /// The caller's homes (`$HOME` and the account's): a writable root may
    /// not contain one (start-up files, `~/.ssh/authorized_keys` and the
    /// like that do not exist yet could be planted and run later outside
    /// the sandbox).
    pub caller_home: &'a [PathBuf],
}

fn c_path(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} contains a NUL byte", p.display()),
        )
    })
}

/// `path` made absolute (against the working directory) and normalised
/// without looking at the filesystem: `.` dropped, `..` taken lexically.
fn lexical(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("/"))
            .join(path)
    };
    let mut out = PathBuf::from("/");
    for c in absolute.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// The writable roots resolved (each once: the plan uses what was checked),
/// `None` for one that does not exist. Refuses a root that lies inside
/// another writable root or the working directory (`roots`, `read_only`)
/// as written but resolves outside it: only a symlink can do that, and a
/// command that could write there (this run's or an earlier one's) could
/// have planted it (`--write out` after a run made `out -> /etc` would
/// make `/etc` writable). "As written" is checked on the filesystem, one
/// leading part of the path at a time, so another spelling of the
/// workspace (`/home/u/work -> /mnt/ssd/work`) or `..` after a link
/// (`ws/link/..`) does not hide it.
fn resolve_writable(roots: &[PathBuf], read_only: &[PathBuf]) -> io::Result<Vec<Option<PathBuf>>> {
    // A missing root is `None` here; MountPlan::new reports it.
    let resolved: Vec<Option<PathBuf>> = roots.iter().map(|w| existing(w)).collect();
    let containers: Vec<PathBuf> = resolved
        .iter()
        .flatten()
        .cloned()
        .chain(read_only.iter().filter_map(|r| existing(r)))
        .collect();
    for (w, real) in roots.iter().zip(&resolved) {
        let Some(real) = real else {
            continue;
        };
        let mut prefix = PathBuf::from("/");
        for c in lexical(w).components().skip(1) {
            prefix.push(c);
            let Some(real_prefix) = existing(&prefix) else {
                break;
            };
            if let Some(container) = containers
                .iter()
                .find(|c| real_prefix.starts_with(c) && !real.starts_with(c))
            {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "writable path {} lies in {} but leads to {} through a symlink (a command run there could have planted it); give the directory itself",
                        w.display(),
                        container.display(),
                        real.display()
                    ),
                ));
            }
        }
    }
    Ok(resolved)
}

/// The writable roots `writable` as they will be mounted: resolved (see
/// [`resolve_writable`]), existing directories, none containing a caller's
/// home or the whole host, without repeats; a writable `/tmp` is left out
/// (the run's `/tmp` is its own). An error says which root and why.
pub fn checked_roots(
    writable: &[PathBuf],
    read_only: &[PathBuf],
    caller_home: &[PathBuf],
) -> io::Result<Vec<PathBuf>> {
    let resolved = resolve_writable(writable, read_only)?;
    let homes: Vec<PathBuf> = caller_home
        .iter()
        .filter_map(|h| existing(h))
        .filter(|h| h != Path::new("/"))
        .collect();
    let mut roots = Vec::new();
    for (w, real) in writable.iter().zip(resolved) {
        let real = real
            .map_or_else(|| std::fs::canonicalize(w), Ok)
            .map_err(|e| io::Error::new(e.kind(), format!("writable path {}: {e}", w.display())))?;
        if !real.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("writable path {} is not a directory", w.display()),
            ));
        }
        // The run's /tmp is private: a working directory of /tmp is
        // that private /tmp, not the host's.
        if real == Path::new("/tmp") {
            continue;
        }
        for home in &homes {
            if home.starts_with(&real) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "writable path {} contains your home directory {}: a command could plant start-up files (.bashrc, .ssh/authorized_keys, .gitconfig) that run later outside the sandbox; run from a project directory, or keep the working directory read-only",
                        w.display(),
                        home.display()
                    ),
                ));
            }
        }
        if Path::new("/tmp").starts_with(&real) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "writable path {} would make the whole host writable; choose a project directory",
                    w.display()
                ),
            ));
        }
        if !roots.contains(&real) {
            roots.push(real);
        }
    }
    Ok(roots)
}

/// How deep `.git/modules` is searched for submodules' git directories
/// (a submodule at `libs/foo` has its git directory at
/// `.git/modules/libs/foo`; a nested one adds `modules/NAME` below that).
const MAX_MODULE_DEPTH: usize = 12;

/// The directories whose repositories the protected paths cover: each
/// writable root, and each directory just below one that has a `.git` (a
/// workspace of several projects). Deeper repositories are not looked for
/// (but submodules are, through `.git/modules`: see [`git_pointers`]).
pub fn repository_roots(roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for root in roots {
        if !out.contains(root) {
            out.push(root.clone());
        }
        let Ok(entries) = std::fs::read_dir(root) else {
            continue;
        };
        for entry in entries.flatten() {
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if !is_dir || entry.file_name() == ".git" {
                continue;
            }
            let dir = entry.path();
            if std::fs::symlink_metadata(dir.join(".git")).is_ok() && !out.contains(&dir) {
                out.push(dir);
            }
        }
    }
    out
}

/// Every path kept read-only in the repositories `repos` (see
/// [`repository_roots`]): the relative `protected` paths in each, the
/// absolute ones as they are, and each repository's git pointers.
pub fn protected_candidates(repos: &[PathBuf], protected: &[PathBuf]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for p in protected {
        if p.is_absolute() {
            out.push(p.clone());
        } else {
            out.extend(repos.iter().map(|r| r.join(p)));
        }
    }
    out.extend(repos.iter().flat_map(|r| git_pointers(r)));
    out
}

/// What in the repository at `repo` would point git at other
/// configuration or code to run, besides the configured protected paths
/// (`.git/hooks`, `.git/config`): `.git` itself when it is a file (a
/// worktree's or submodule's `gitdir:` pointer), `.git/worktrees` (each
/// worktree's `commondir`, `gitdir` and config), and for each submodule's
/// git directory below `.git/modules` (nested ones too) its `hooks`,
/// `config`, `config.worktree` and `worktrees`, and the `.git` file of its
/// work tree (`core.worktree`).
fn git_pointers(repo: &Path) -> Vec<PathBuf> {
    let git = repo.join(".git");
    let Ok(meta) = std::fs::symlink_metadata(&git) else {
        return Vec::new();
    };
    if meta.is_file() {
        return vec![git];
    }
    if !meta.is_dir() {
        return Vec::new();
    }
    let mut out = vec![git.join("worktrees")];
    submodule_pointers(&git.join("modules"), 0, &mut out);
    out
}

/// [`git_pointers`] of the submodules' git directories below `dir` (a
/// `modules` directory, or a directory of a submodule's name with a `/`).
fn submodule_pointers(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if depth > MAX_MODULE_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let path = entry.path();
        // Each directory may be a git directory (or become one during the
        // run: its HEAD is not required here).
        for name in ["hooks", "config", "config.worktree", "worktrees"] {
            out.push(path.join(name));
        }
        if let Some(tree) = core_worktree(&path) {
            out.push(tree.join(".git"));
        }
        if path.join("HEAD").is_file() {
            submodule_pointers(&path.join("modules"), depth + 1, out);
        } else {
            // `libs` of a submodule named `libs/foo`.
            submodule_pointers(&path, depth + 1, out);
        }
    }
}

/// The `core.worktree` of the git directory `gitdir`, made absolute.
fn core_worktree(gitdir: &Path) -> Option<PathBuf> {
    let config = std::fs::read_to_string(gitdir.join("config")).ok()?;
    let mut in_core = false;
    for line in config.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_core = line
                .trim_start_matches('[')
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("core");
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if in_core && key.trim().eq_ignore_ascii_case("worktree") {
            let value = value.trim().trim_matches('"');
            return Some(lexical(&gitdir.join(value)));
        }
    }
    None
}

/// `path` with symlinks resolved, when it exists.
fn existing(path: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(path).ok()
}

impl MountPlan {
    /// Plans the view. Writable roots must exist (an error names the one
    /// that does not); deny-read and protected paths that do not exist are
    /// left out.
    pub fn new(req: &MountRequest<'_>) -> io::Result<MountPlan> {
        let mut observed: Vec<Observed> = req
            .writable
            .iter()
            .map(|w| Observed::look(w, true))
            .chain(req.read_only.iter().map(|r| Observed::look(r, true)))
            .chain(req.deny_read.iter().map(|d| Observed::look(d, true)))
            .collect();
        let mut writable = checked_roots(req.writable, req.read_only, req.caller_home)?;
        // Parents before children, so a nested root lands on its parent.
        writable.sort_by_key(|p| p.components().count());
        if writable.len() + req.read_only.len() > MAX_TREES - DEVICES.len() - 16 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("at most {} writable paths", MAX_TREES - DEVICES.len() - 16),
            ));
        }
        let mut read_only = Vec::new();
        for r in req.read_only {
            if let Ok(real) = std::fs::canonicalize(r) {
                if real.starts_with("/tmp") && real != Path::new("/tmp") && real.is_dir() {
                    read_only.push(real);
                }
            }
        }
        let mut passages: Vec<PathBuf> = Vec::new();
        if req.idmap.is_some() {
            for root in writable.iter().chain(&read_only) {
                for a in root.ancestors().skip(1) {
                    let closed = std::fs::metadata(a).is_ok_and(|m| {
                        std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o001 == 0
                    });
                    if a != Path::new("/")
                        && !a.starts_with("/tmp")
                        && closed
                        && !passages.contains(&a.to_path_buf())
                    {
                        passages.push(a.to_path_buf());
                    }
                }
            }
            passages.sort_by_key(|p| p.components().count());
        }
        // Only the topmost: a stub hides what is below it anyway.
        let mut stubs: Vec<PathBuf> = Vec::new();
        for a in passages {
            if !stubs.iter().any(|s| a.starts_with(s)) {
                stubs.push(a);
            }
        }
        stubs.truncate(16);
        // Directories to make in the run's own tmpfs mounts (the private
        // /tmp and the stubs) so that the roots below them can be attached.
        let mut tmp_dirs: Vec<PathBuf> = Vec::new();
        let tmp = PathBuf::from("/tmp");
        for w in writable.iter().chain(&read_only) {
            let base = std::iter::once(&tmp)
                .chain(&stubs)
                .find(|b| w.starts_with(b) && w != *b);
            if let Some(base) = base {
                let mut dir = base.clone();
                for c in w.strip_prefix(base).unwrap_or(Path::new("")).components() {
                    dir.push(c);
                    if !tmp_dirs.contains(&dir) {
                        tmp_dirs.push(dir.clone());
                    }
                }
            }
        }
        // The host's /tmp and /dev are not in the view (the run has its own)
        // nor what is under a stub, but for writable roots there: nothing
        // else of theirs needs hiding.
        let in_view = |p: &Path| {
            let replaced = ["/tmp", "/dev", "/proc"].iter().any(|m| p.starts_with(m))
                || stubs.iter().any(|s| p.starts_with(s));
            !replaced || writable.iter().chain(&read_only).any(|w| p.starts_with(w))
        };
        let hidden_paths: Vec<PathBuf> = req
            .deny_read
            .iter()
            .filter_map(|p| existing(p))
            .filter(|p| p != Path::new("/") && in_view(p))
            .fold(Vec::new(), |mut seen, p| {
                if !seen.contains(&p) {
                    seen.push(p);
                }
                seen
            });
        let mut anchors: Vec<PathBuf> = Vec::new();
        // Directories between a writable root and a hidden or protected
        // path are bound onto themselves: a mount point cannot be renamed,
        // so the run cannot move the path out from under its mount (and
        // find the file at another path, in this run or the next).
        let mut anchor_parents = |c: &Path| {
            if let Some(root) = writable.iter().find(|w| c.starts_with(w)) {
                let mut dir = c.parent();
                while let Some(d) = dir.filter(|d| d != root && d.starts_with(root)) {
                    if !anchors.contains(&d.to_path_buf()) {
                        anchors.push(d.to_path_buf());
                    }
                    dir = d.parent();
                }
            }
        };
        for p in &hidden_paths {
            anchor_parents(p);
        }
        let hidden = hidden_paths
            .into_iter()
            .map(|p| {
                Ok(Hidden {
                    is_dir: p.is_dir(),
                    path: c_path(&p)?,
                })
            })
            .collect::<io::Result<Vec<_>>>()?;
        let mut protected = Vec::new();
        for c in protected_candidates(&repository_roots(&writable), req.protected) {
            let seen = Observed::look(&c, false);
            let kind = seen.file.map(|(_, _, kind)| kind);
            observed.push(seen);
            let Some(kind) = kind else {
                continue;
            };
            // A protected path that is a symlink (`.git/hooks ->
            // ../tools/hooks`): what it leads to is kept read-only where
            // that lies in a writable root (outside one it is read-only
            // anyway).
            let c = if kind == libc::S_IFLNK {
                match std::fs::canonicalize(&c) {
                    Ok(target) => {
                        observed.push(Observed::look(&target, false));
                        target
                    }
                    Err(_) => continue,
                }
            } else {
                c
            };
            // Only inside a writable root: the rest is read-only anyway. A
            // link to a writable root itself (`.envrc -> .`) would make the
            // whole root read-only: the link is restored after the run
            // instead (`RepoWatch` in the backend).
            if writable.iter().any(|w| c.starts_with(w))
                && !writable.iter().any(|w| w.starts_with(&c))
            {
                anchor_parents(&c);
                if !protected.contains(&c) {
                    protected.push(c);
                }
            }
        }
        Ok(MountPlan {
            writable: writable
                .iter()
                .map(|p| c_path(p))
                .collect::<io::Result<_>>()?,
            tmp_dirs: tmp_dirs
                .iter()
                .map(|p| c_path(p))
                .collect::<io::Result<_>>()?,
            devices: DEVICES
                .iter()
                .map(|d| {
                    let path = CString::new(format!("/dev/{d}")).expect("no NUL");
                    (path.clone(), path)
                })
                .collect(),
            hidden,
            stubs: stubs.iter().map(|p| c_path(p)).collect::<io::Result<_>>()?,
            read_only: read_only
                .iter()
                .map(|p| c_path(p))
                .collect::<io::Result<_>>()?,
            anchors: {
                anchors.sort_by_key(|p| p.components().count());
                anchors
                    .iter()
                    .map(|p| c_path(p))
                    .collect::<io::Result<_>>()?
            },
            protected: protected
                .iter()
                .map(|p| c_path(p))
                .collect::<io::Result<_>>()?,
            tmp_options: CString::new(format!("size={},mode=1777", req.tmp_size.max(4096)))
                .expect("no NUL"),
            shm_options: CString::new(format!("size={},mode=1777", req.tmp_size.max(4096)))
                .expect("no NUL"),
            home: c_path(req.home)?,
            home_owner: req.home_owner,
            idmap: req.idmap,
            observed,
        })
    }

    /// Whether the host still has, at every path the plan was made from,
    /// the file it had then (the same writable roots and deny-read files,
    /// no protected path created or replaced since). A view built ahead of
    /// its run is used only if so: a deny-read file created in between
    /// must be hidden as it would be by a view built at the run's start.
    pub fn still_current(&self) -> bool {
        self.observed
            .iter()
            .all(|o| Observed::look(&o.path, o.follow) == *o)
    }

    /// The writable roots, as planned (canonical paths).
    pub fn writable(&self) -> impl Iterator<Item = &CStr> {
        self.writable.iter().map(CString::as_c_str)
    }

    /// Builds the view. Returns the failed step's `errno` and a short
    /// description of the step (a static string: nothing is allocated).
    ///
    /// # Safety
    /// Must run in a child between `clone` and `exec`, in a mount namespace
    /// of its own (and, for `/proc`, a pid namespace of its own), with the
    /// capabilities to mount there.
    pub unsafe fn apply(&self) -> Result<(), (c_int, &'static str)> {
        // SAFETY: system calls on strings and stack structures prepared by
        // the parent; nothing here allocates.
        unsafe {
            let fail = |what: &'static str| (errno(), what);
            // Nothing mounted here propagates to the host, and nothing the
            // host mounts later appears here (it would keep its own flags,
            // not the view's read-only and nosuid).
            if mount(None, c"/", None, libc::MS_REC | libc::MS_PRIVATE, None) != 0 {
                return Err(fail("making the mount tree private"));
            }
            // Detached read-write copies of the writable roots and devices,
            // taken before the tree becomes read-only.
            let mut trees = [-1 as c_int; MAX_TREES];
            for (i, w) in self.writable.iter().enumerate() {
                trees[i] = open_tree_no_symlinks(w)?;
                if let Some(userns) = self.idmap {
                    idmap_tree(trees[i], userns)?;
                }
            }
            let read_only_at = self.writable.len();
            for (i, r) in self.read_only.iter().enumerate() {
                trees[read_only_at + i] = open_tree_no_symlinks(r)?;
            }
            let devices_at = read_only_at + self.read_only.len();
            for (i, (host, _)) in self.devices.iter().enumerate() {
                trees[devices_at + i] = open_tree(host, 0)?;
            }
            let read_only = libc::mount_attr {
                attr_set: libc::MOUNT_ATTR_RDONLY | libc::MOUNT_ATTR_NOSUID,
                attr_clr: 0,
                propagation: 0,
                userns_fd: 0,
            };
            if mount_setattr(c"/", libc::AT_RECURSIVE as u32, &read_only) != 0 {
                return Err(fail("making the host's tree read-only"));
            }
            let nosuid_nodev = libc::MS_NOSUID | libc::MS_NODEV;
            if mount(
                Some(c"tmpfs"),
                c"/tmp",
                Some(c"tmpfs"),
                nosuid_nodev,
                Some(&self.tmp_options),
            ) != 0
            {
                return Err(fail("mounting the private /tmp"));
            }
            // The home first, on the private /tmp (a writable root at the
            // same path would otherwise be taken for it).
            if libc::mkdir(self.home.as_ptr(), 0o700) != 0 {
                return Err(fail("creating the run's home"));
            }
            if let Some((uid, gid)) = self.home_owner {
                if libc::chown(self.home.as_ptr(), uid, gid) != 0 {
                    return Err(fail("giving the run's home to its user"));
                }
            }
            for stub in &self.stubs {
                if mount(
                    Some(c"tmpfs"),
                    stub,
                    Some(c"tmpfs"),
                    nosuid_nodev,
                    Some(c"size=65536,mode=0755"),
                ) != 0
                {
                    return Err(fail(
                        "mounting a directory stub on the way to a writable path",
                    ));
                }
            }
            for d in &self.tmp_dirs {
                let made = super::raw::syscall(
                    libc::SYS_mkdirat,
                    [libc::AT_FDCWD as usize, d.as_ptr() as usize, 0o755, 0, 0, 0],
                );
                if let Err(e) = made.or_else(|e| if e == libc::EEXIST { Ok(0) } else { Err(e) }) {
                    return Err((e, "creating a writable path's parents in /tmp"));
                }
            }
            let tree_read_only = libc::mount_attr {
                attr_set: libc::MOUNT_ATTR_RDONLY,
                attr_clr: 0,
                propagation: 0,
                userns_fd: 0,
            };
            for stub in &self.stubs {
                if mount_setattr(stub, 0, &tree_read_only) != 0 {
                    return Err(fail("making a directory stub read-only"));
                }
            }
            for (i, w) in self.writable.iter().enumerate() {
                move_mount(trees[i], w)?;
            }
            for (i, r) in self.read_only.iter().enumerate() {
                move_mount(trees[read_only_at + i], r)?;
                if mount_setattr(r, libc::AT_RECURSIVE as u32, &tree_read_only) != 0 {
                    return Err(fail("making a read-only directory read-only"));
                }
            }
            // /dev: a small tmpfs with the device nodes bound in.
            if mount(
                Some(c"tmpfs"),
                c"/dev",
                Some(c"tmpfs"),
                libc::MS_NOSUID | libc::MS_NOEXEC,
                Some(c"size=65536,mode=0755"),
            ) != 0
            {
                return Err(fail("mounting /dev"));
            }
            for (i, (_, target)) in self.devices.iter().enumerate() {
                let fd = libc::open(
                    target.as_ptr(),
                    libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
                    0o666,
                );
                if fd < 0 {
                    return Err(fail("creating a device node's mount point"));
                }
                libc::close(fd);
                move_mount(trees[devices_at + i], target)?;
            }
            for (dir, fstype, flags, data) in [
                (
                    c"/dev/pts",
                    c"devpts",
                    libc::MS_NOSUID | libc::MS_NOEXEC,
                    c"newinstance,ptmxmode=0666,mode=0620",
                ),
                (
                    c"/dev/shm",
                    c"tmpfs",
                    nosuid_nodev,
                    self.shm_options.as_c_str(),
                ),
            ] {
                if libc::mkdir(dir.as_ptr(), 0o755) != 0 {
                    return Err(fail("creating /dev/pts or /dev/shm"));
                }
                if mount(Some(fstype), dir, Some(fstype), flags, Some(data)) != 0 {
                    return Err(fail("mounting /dev/pts or /dev/shm"));
                }
            }
            for (target, link) in [
                (c"pts/ptmx", c"/dev/ptmx"),
                (c"/proc/self/fd", c"/dev/fd"),
                (c"/proc/self/fd/0", c"/dev/stdin"),
                (c"/proc/self/fd/1", c"/dev/stdout"),
                (c"/proc/self/fd/2", c"/dev/stderr"),
            ] {
                if libc::symlink(target.as_ptr(), link.as_ptr()) != 0 {
                    return Err(fail("creating a /dev symlink"));
                }
            }
            let dev_read_only = libc::mount_attr {
                attr_set: libc::MOUNT_ATTR_RDONLY,
                ..read_only
            };
            if mount_setattr(c"/dev", 0, &dev_read_only) != 0 {
                return Err(fail("making /dev read-only"));
            }
            for h in &self.hidden {
                let r = if h.is_dir {
                    mount(
                        Some(c"tmpfs"),
                        &h.path,
                        Some(c"tmpfs"),
                        libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                        Some(c"size=4096,mode=000"),
                    )
                } else {
                    mount(Some(c"/dev/null"), &h.path, None, libc::MS_BIND, None)
                };
                if r != 0 {
                    return Err(fail("hiding a deny-read path"));
                }
                if !h.is_dir && mount_setattr(&h.path, 0, &dev_read_only) != 0 {
                    return Err(fail("hiding a deny-read path"));
                }
            }
            for a in &self.anchors {
                if mount(Some(a), a, None, libc::MS_BIND | libc::MS_REC, None) != 0 {
                    return Err(fail("pinning a protected path's parent"));
                }
            }
            for p in &self.protected {
                if mount(Some(p), p, None, libc::MS_BIND | libc::MS_REC, None) != 0 {
                    return Err(fail("binding a protected path"));
                }
                if mount_setattr(p, libc::AT_RECURSIVE as u32, &dev_read_only) != 0 {
                    return Err(fail("making a protected path read-only"));
                }
            }
            if mount(
                Some(c"proc"),
                c"/proc",
                Some(c"proc"),
                libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                // Processes the command may not ptrace are not even listed:
                // the run's init (which keeps capabilities the command
                // lacks, and runs in the host's memory) is invisible.
                Some(c"hidepid=invisible"),
            ) != 0
            {
                return Err(fail("mounting /proc for the run's pid namespace"));
            }
        }
        Ok(())
    }
}

fn errno() -> c_int {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// `mount(2)` with optional arguments.
unsafe fn mount(
    source: Option<&CStr>,
    target: &CStr,
    fstype: Option<&CStr>,
    flags: libc::c_ulong,
    data: Option<&CStr>,
) -> c_int {
    let ptr = |s: Option<&CStr>| s.map_or(std::ptr::null(), CStr::as_ptr);
    // SAFETY: NUL-terminated strings or null pointers, as mount(2) takes.
    unsafe {
        libc::mount(
            ptr(source),
            target.as_ptr(),
            ptr(fstype),
            flags,
            ptr(data).cast(),
        )
    }
}

/// A detached copy of the mount at `path` (recursive with `AT_RECURSIVE`).
unsafe fn open_tree(path: &CStr, flags: u32) -> Result<c_int, (c_int, &'static str)> {
    // SAFETY: a NUL-terminated path; the result is a new descriptor.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            path.as_ptr(),
            libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC | flags,
        )
    };
    if fd < 0 {
        return Err((
            errno(),
            "copying a writable path or device node (open_tree)",
        ));
    }
    Ok(fd as c_int)
}

/// A detached recursive copy of the mount tree at the directory `path`, a
/// path planned as canonical, found again without following any symlink
/// (`openat2` with `RESOLVE_NO_SYMLINKS`): if a component was swapped for
/// a symlink since the plan was made (a command racing the view's
/// construction, `renameat2(RENAME_EXCHANGE)` of a directory and a link),
/// the run fails instead of making the link's target writable.
unsafe fn open_tree_no_symlinks(path: &CStr) -> Result<c_int, (c_int, &'static str)> {
    // SAFETY: `open_how` is plain integers: all zeroes is valid (and what
    // the kernel expects of fields not set).
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_NO_SYMLINKS;
    // SAFETY: a NUL-terminated path and a valid `open_how` of the size
    // given; the result is a new descriptor.
    let dir = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            libc::AT_FDCWD,
            path.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if dir < 0 {
        return Err((
            errno(),
            "opening a writable path without following symlinks (openat2; ELOOP: it became a symlink)",
        ));
    }
    let dir = dir as c_int;
    // SAFETY: `dir` is the descriptor just opened and an empty path.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            dir,
            c"".as_ptr(),
            libc::OPEN_TREE_CLONE
                | libc::OPEN_TREE_CLOEXEC
                | libc::AT_EMPTY_PATH as u32
                | libc::AT_RECURSIVE as u32,
        )
    };
    let error = errno();
    // SAFETY: closing the descriptor opened above.
    unsafe { libc::close(dir) };
    if fd < 0 {
        return Err((error, "copying a writable path (open_tree)"));
    }
    Ok(fd as c_int)
}

/// Attaches the detached tree `fd` at `target` and closes `fd`.
unsafe fn move_mount(fd: c_int, target: &CStr) -> Result<(), (c_int, &'static str)> {
    // SAFETY: a descriptor from open_tree and a NUL-terminated path.
    let r = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            fd,
            c"".as_ptr(),
            libc::AT_FDCWD,
            target.as_ptr(),
            libc::MOVE_MOUNT_F_EMPTY_PATH,
        )
    };
    let e = errno();
    // SAFETY: closing a descriptor we opened.
    unsafe { libc::close(fd) };
    if r != 0 {
        return Err((e, "attaching a writable path or device node (move_mount)"));
    }
    Ok(())
}

/// Gives the detached tree `fd` the mapping of the user namespace `userns`
/// (recursively where the kernel allows). A filesystem that cannot be
/// idmapped is left as it is: the run then writes there only where its own
/// uid may.
unsafe fn idmap_tree(fd: c_int, userns: c_int) -> Result<(), (c_int, &'static str)> {
    let attr = libc::mount_attr {
        attr_set: libc::MOUNT_ATTR_IDMAP,
        attr_clr: 0,
        propagation: 0,
        userns_fd: userns as u64,
    };
    for flags in [
        libc::AT_EMPTY_PATH | libc::AT_RECURSIVE,
        libc::AT_EMPTY_PATH,
    ] {
        // SAFETY: a descriptor from open_tree, an empty path and a
        // mount_attr of the size given.
        let r = unsafe {
            super::raw::syscall(
                libc::SYS_mount_setattr,
                [
                    fd as usize,
                    c"".as_ptr() as usize,
                    flags as usize,
                    &attr as *const libc::mount_attr as usize,
                    std::mem::size_of::<libc::mount_attr>(),
                    0,
                ],
            )
        };
        match r {
            Ok(_) => return Ok(()),
            Err(libc::EINVAL | libc::EPERM | libc::EOPNOTSUPP) => continue,
            Err(e) => return Err((e, "mapping a writable path to the run's user")),
        }
    }
    Ok(())
}

/// `mount_setattr(2)` on `path`.
unsafe fn mount_setattr(path: &CStr, flags: u32, attr: &libc::mount_attr) -> c_int {
    // SAFETY: a NUL-terminated path and a mount_attr of the size given.
    unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            path.as_ptr(),
            flags,
            attr as *const libc::mount_attr,
            std::mem::size_of::<libc::mount_attr>(),
        ) as c_int
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writable_path_may_not_leave_its_workspace_through_a_symlink() {
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path().join("ws");
        let outside = tmp.path().join("outside");
        std::fs::create_dir_all(ws.join("inner")).unwrap();
        std::fs::create_dir(ws.join("x")).unwrap();
        std::fs::create_dir(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, ws.join("out")).unwrap();
        std::os::unix::fs::symlink("inner", ws.join("in")).unwrap();
        let refuse = |roots: &[PathBuf], read_only: &[PathBuf]| {
            resolve_writable(roots, read_only).map(|_| ())
        };
        // `--write out` in a writable workspace where a run planted
        // `out -> ../outside`.
        let e = refuse(&[ws.join("out"), ws.clone()], &[]).unwrap_err();
        assert!(e.to_string().contains("through a symlink"), "{e}");
        assert!(e.to_string().contains("outside"), "{e}");
        // The same below a working directory that is not writable.
        assert!(refuse(&[ws.join("out")], std::slice::from_ref(&ws)).is_err());
        // Written with `..` that lands back in the workspace: still inside.
        assert!(refuse(&[ws.join("x/../out"), ws.clone()], &[]).is_err());
        // `..` after a link: the kernel resolves the link first.
        std::os::unix::fs::symlink(outside.join("sub"), ws.join("l")).unwrap();
        std::fs::create_dir(outside.join("sub")).unwrap();
        assert!(refuse(&[ws.join("l/.."), ws.clone()], &[]).is_err());
        // Another spelling of the workspace (a link to it from outside).
        let alias = tmp.path().join("alias");
        std::os::unix::fs::symlink(&ws, &alias).unwrap();
        assert!(refuse(&[alias.join("out"), ws.clone()], &[]).is_err());
        assert!(refuse(&[ws.join("out"), alias.clone()], &[]).is_err());
        // A link that stays inside, a plain directory, or a link given
        // outside any workspace (the caller's own choice) are fine.
        assert!(refuse(&[ws.join("in"), ws.clone()], &[]).is_ok());
        assert!(refuse(&[ws.join("inner"), ws.clone()], &[]).is_ok());
        assert!(refuse(&[ws.join("out")], &[]).is_ok());
        assert!(refuse(&[outside.clone(), ws.clone()], &[]).is_ok());
    }

    #[test]
    fn lexical_paths_take_dots_without_the_filesystem() {
        assert_eq!(lexical(Path::new("/a/./b/../c")), Path::new("/a/c"));
        assert_eq!(lexical(Path::new("/../..")), Path::new("/"));
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(lexical(Path::new("x")), cwd.join("x"));
    }

    #[test]
    fn a_plan_is_stale_once_a_path_it_depends_on_changes() {
        let ws = tempfile::tempdir().unwrap();
        let secret = tempfile::tempdir().unwrap();
        let plan = |ws: &Path| {
            MountPlan::new(&MountRequest {
                writable: &[ws.to_path_buf()],
                read_only: &[],
                deny_read: &[secret.path().join("token")],
                protected: &[PathBuf::from(".git/hooks")],
                tmp_size: 1 << 20,
                home: Path::new("/tmp/home"),
                home_owner: None,
                idmap: None,
                caller_home: &[],
            })
            .unwrap()
        };
        let p = plan(ws.path());
        assert!(p.still_current());
        // A deny-read file that appears after the plan was made.
        std::fs::write(secret.path().join("token"), "x").unwrap();
        assert!(!p.still_current());
        let p = plan(ws.path());
        assert!(p.still_current());
        // A protected path created inside the writable root.
        std::fs::create_dir_all(ws.path().join(".git/hooks")).unwrap();
        assert!(!p.still_current());
        let p = plan(ws.path());
        // The writable root replaced by another directory at the same path.
        let moved = ws.path().with_extension("old");
        std::fs::rename(ws.path(), &moved).unwrap();
        std::fs::create_dir(ws.path()).unwrap();
        assert!(!p.still_current());
        std::fs::remove_dir(ws.path()).unwrap();
        std::fs::rename(&moved, ws.path()).unwrap();
        assert!(p.still_current());
    }

    #[test]
    fn plans_parents_first_and_skips_what_does_not_exist() {
        let ws = tempfile::tempdir().unwrap();
        let inner = ws.path().join("a/b");
        std::fs::create_dir_all(&inner).unwrap();
        std::fs::create_dir_all(ws.path().join(".git/hooks")).unwrap();
        let plan = MountPlan::new(&MountRequest {
            writable: &[inner.clone(), ws.path().to_path_buf()],
            read_only: &[],
            deny_read: &[ws.path().join("missing"), ws.path().join("a")],
            protected: &[PathBuf::from(".git/hooks"), PathBuf::from(".bashrc")],
            tmp_size: 1 << 20,
            home: Path::new("/tmp/home"),
            home_owner: None,
            idmap: None,
            caller_home: &[],
        })
        .unwrap();
        let real = std::fs::canonicalize(ws.path()).unwrap();
        let w: Vec<_> = plan
            .writable()
            .map(|c| c.to_str().unwrap().to_string())
            .collect();
        assert_eq!(w[0], real.to_str().unwrap());
        assert!(w[1].ends_with("/a/b"));
        assert_eq!(plan.hidden.len(), 1);
        assert!(plan.hidden[0].is_dir);
        assert_eq!(plan.protected.len(), 1, "{:?}", plan.protected);
        assert!(plan.protected[0].to_str().unwrap().ends_with(".git/hooks"));
        // `.git` is pinned, so it cannot be renamed with the hooks in it.
        assert_eq!(plan.anchors.len(), 1);
        assert!(plan.anchors[0].to_str().unwrap().ends_with("/.git"));
        if real.starts_with("/tmp") {
            assert!(plan
                .tmp_dirs
                .iter()
                .any(|d| d.as_bytes() == real.as_os_str().as_bytes()));
        }
    }

    #[test]
    fn a_missing_writable_path_is_an_error_naming_it() {
        let err = MountPlan::new(&MountRequest {
            writable: &[PathBuf::from("/no/such/dir")],
            read_only: &[],
            deny_read: &[],
            protected: &[],
            tmp_size: 1 << 20,
            home: Path::new("/tmp/home"),
            home_owner: None,
            idmap: None,
            caller_home: &[],
        })
        .unwrap_err();
        assert!(err.to_string().contains("/no/such/dir"), "{err}");
    }
}
