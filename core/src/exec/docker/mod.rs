//! The Docker backend (cargo feature `docker`): each command runs in a
//! fresh, locked-down container through the Docker Engine API (`bollard`).
//!
//! - [`DockerConfig`] says how containers are made; [`container_spec`]
//!   turns a request and the config into the container's create body (every
//!   hardening option in one place, unit-tested without a daemon).
//! - [`DockerExecutor`] connects, runs, streams, times out and removes.
//!   With an agent ([`find_agent`]) the container's entrypoint is the
//!   static `sandboxcore-agent`, which takes the command over the attached
//!   stdin and frames its output and exit status back, so a run ends as
//!   soon as the command does; the container is removed in the background.
//!   Without one, the command is the container's own process (the plain
//!   path, for images where the agent cannot run).
//! - A warm pool (`DockerConfig::pool_size`) keeps started containers
//!   ready; each serves exactly one command and is then discarded.
//! - An allowlist run (`Network::Allowlist`) keeps `network_mode: none`;
//!   the host serves its egress proxy on a Unix socket in a directory
//!   bind-mounted into the container, and the agent carries the
//!   container's `127.0.0.1:3128` to it (`egress`).
//!
//! See `docs/docker.md`.

mod egress;
mod executor;
mod options;
mod pool;
mod session;
mod spec;

pub use executor::DockerExecutor;
pub use options::{AgentChoice, DockerOptions};
pub use spec::{container_spec, owner_label, AGENT_PATH, EGRESS_DIR, EGRESS_SOCKET};

use crate::exec::EnvConfig;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The label on every container sandboxcore creates (for cleanup).
pub const MANAGED_LABEL: &str = "sandboxcore.managed";
/// The label carrying a run's id.
pub const RUN_ID_LABEL: &str = "sandboxcore.run-id";
/// The label naming the process that created the container
/// (`hostname@pid-namespace:pid`), so that `gc` can tell leftovers of dead
/// processes.
pub const OWNER_LABEL: &str = "sandboxcore.owner";

/// A host directory mounted into the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceMount {
    /// The host directory (absolute).
    pub source: PathBuf,
    /// Where it appears in the container (default `/workspace`); also the
    /// default working directory.
    pub target: String,
    /// Mounted read-only.
    pub read_only: bool,
}

impl WorkspaceMount {
    /// Parses `DIR[:ro|:rw]` (read-write when no mode is given), mounted at
    /// `/workspace`.
    pub fn parse(spec: &str) -> crate::Result<WorkspaceMount> {
        let (dir, read_only) = match spec.rsplit_once(':') {
            Some((d, "ro")) => (d, true),
            Some((d, "rw")) => (d, false),
            _ => (spec, false),
        };
        let source = std::fs::canonicalize(dir)
            .map_err(|e| crate::Error::InvalidInput(format!("workspace directory {dir:?}: {e}")))?;
        if !source.is_dir() {
            return Err(crate::Error::InvalidInput(format!(
                "workspace {dir:?} is not a directory"
            )));
        }
        Ok(WorkspaceMount {
            source,
            target: "/workspace".into(),
            read_only,
        })
    }
}

/// When images are pulled from a registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PullPolicy {
    /// Never: a missing image is an error (the default; nothing is fetched
    /// unless asked).
    #[default]
    Never,
    /// Pull (with progress as `tracing` events) when the image is missing.
    IfMissing,
}

/// How sandbox containers are made. Every field has a hardened default;
/// see `docs/docker.md` for each one.
#[derive(Debug, Clone, PartialEq)]
pub struct DockerConfig {
    /// The image (must be present locally unless `pull` says otherwise).
    pub image: String,
    /// `uid:gid` of the command (default `1000:1000`; root is refused
    /// unless `allow_root`).
    pub user: String,
    /// Permit `user` to be root (uid 0).
    pub allow_root: bool,
    /// An OCI runtime such as `runsc` (gVisor); `None` is the daemon's
    /// default (runc).
    pub runtime: Option<String>,
    /// The network a command joins when its request allows the network (a
    /// user-defined, ideally `--internal`, network). Requests without
    /// network access always get `network_mode: none`.
    pub network: Option<String>,
    /// A host directory mounted into the container.
    pub workspace: Option<WorkspaceMount>,
    /// A seccomp profile (JSON file); `None` keeps Docker's default profile
    /// (never `unconfined`).
    pub seccomp_profile: Option<PathBuf>,
    /// Size of the `/tmp` tmpfs, in bytes (default 64 MiB; `noexec`,
    /// `nosuid`, `nodev`, writable by the user).
    pub tmp_size: u64,
    /// CPUs the container may use (default 1.0).
    pub cpus: f64,
    /// Read-only root filesystem (default true; `/tmp` and the workspace
    /// stay writable).
    pub read_only_root: bool,
    /// `no-new-privileges` (default true).
    pub no_new_privileges: bool,
    /// Capabilities added back after dropping all (default none), e.g.
    /// `CHOWN`; unknown names are refused by the daemon.
    pub cap_add: Vec<String>,
    /// Host variables passed into the container (none by default; secrets
    /// are never passed unless named in `allow_secrets`). The request's own
    /// variables are always passed.
    pub env: EnvConfig,
    /// The static `sandboxcore-agent` binary, mounted read-only as the
    /// entrypoint; `None` runs the command as the container's process (the
    /// plain path: slower to notice the exit, exit codes above 128 are not
    /// told apart from signals).
    pub agent: Option<PathBuf>,
    /// Containers kept started and waiting for a command (0: no pool). Needs
    /// the agent.
    pub pool_size: usize,
    /// Whether a missing image is pulled.
    pub pull: PullPolicy,
    /// Extra labels on every container.
    pub labels: BTreeMap<String, String>,
}

impl DockerConfig {
    /// The hardened defaults for `image`, with the agent found by
    /// [`find_agent`] (the plain path when there is none).
    pub fn new(image: impl Into<String>) -> DockerConfig {
        DockerConfig {
            image: image.into(),
            user: "1000:1000".into(),
            allow_root: false,
            runtime: None,
            network: None,
            workspace: None,
            seccomp_profile: None,
            tmp_size: 64 << 20,
            cpus: 1.0,
            read_only_root: true,
            no_new_privileges: true,
            cap_add: Vec::new(),
            env: EnvConfig {
                inherit: Vec::new(),
                allow_secrets: Vec::new(),
            },
            agent: find_agent(),
            pool_size: 0,
            pull: PullPolicy::Never,
            labels: BTreeMap::new(),
        }
    }
}

/// Where the static agent binary is: `$SANDBOXCORE_AGENT`, else
/// a static `sandboxcore-agent` beside the running executable, else the
/// workspace's `make agent` output, `target/agent/sandboxcore-agent` (for
/// tests and examples run from a checkout). `None`: the plain path.
pub fn find_agent() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SANDBOXCORE_AGENT") {
        return Some(PathBuf::from(p)).filter(|p| !p.as_os_str().is_empty());
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("sandboxcore-agent")))
        .filter(|p| p.is_file() && is_static(p));
    beside.or_else(|| {
        let built =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/agent/sandboxcore-agent");
        (built.is_file() && is_static(&built)).then(|| built.canonicalize().unwrap_or(built))
    })
}

/// Whether an ELF file has no program interpreter (is statically linked);
/// a dynamically linked agent cannot run in images without a libc.
fn is_static(path: &std::path::Path) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    // 64-bit little-endian ELF: program headers at e_phoff (0x20), count at
    // e_phnum (0x38), entry size at e_phentsize (0x36); PT_INTERP is 3.
    if bytes.len() < 0x40 || &bytes[..4] != b"\x7fELF" || bytes[4] != 2 {
        return false;
    }
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(bytes[0x20..0x28].try_into().unwrap_or_default()) as usize;
    let (size, count) = (u16_at(0x36), u16_at(0x38));
    (0..count).all(|i| {
        let at = phoff + i * size;
        bytes
            .get(at..at + 4)
            .is_some_and(|t| u32::from_le_bytes([t[0], t[1], t[2], t[3]]) != 3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_specs_parse() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let ro = WorkspaceMount::parse(&format!("{d}:ro")).unwrap();
        assert!(ro.read_only);
        assert_eq!(ro.target, "/workspace");
        assert!(!WorkspaceMount::parse(&format!("{d}:rw")).unwrap().read_only);
        assert!(!WorkspaceMount::parse(d).unwrap().read_only);
        let err = WorkspaceMount::parse("/no/such/dir:ro").unwrap_err();
        assert!(err.to_string().contains("/no/such/dir"), "{err}");
    }

    #[test]
    fn the_test_binary_is_dynamic_and_a_static_one_is_recognised() {
        let exe = std::env::current_exe().unwrap();
        assert!(!is_static(&exe), "test binaries link glibc dynamically");
        assert!(!is_static(std::path::Path::new("/no/such/file")));
        if let Some(agent) = find_agent() {
            assert!(is_static(&agent), "{} is not static", agent.display());
        }
    }
}
