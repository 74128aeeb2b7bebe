//! Allowlist runs in containers: the container keeps `network_mode: none`
//! (only loopback); the host serves the run's egress proxy on a Unix
//! socket in a directory of the container's own, bind-mounted read-only at
//! [`EGRESS_DIR`](super::spec::EGRESS_DIR), and the agent carries
//! `127.0.0.1:3128` in the container to that socket.
//!
//! Every pool container gets its (empty) directory when it is made, since
//! any of them may serve an allowlist run; the socket appears only when
//! one does. The directory is removed with its container.

use super::DockerConfig;
use crate::net::{Egress, ProxyHandle};
use crate::{BackendKind, Error, ExecErrorKind, Result};
use bollard::Docker;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The socket's name in the directory.
const SOCKET: &str = "proxy.sock";
/// The prefix of the directories (followed by the owner's pid).
const PREFIX: &str = "c-";

fn fail(message: String) -> Error {
    Error::executor(BackendKind::Docker, ExecErrorKind::Egress, message)
}

/// An egress error caused by `e`: `context: e`.
fn fail_from(context: String, e: std::io::Error) -> Error {
    Error::executor_from(BackendKind::Docker, ExecErrorKind::Egress, context, e)
}

/// The host directory of one container's egress socket; removed when
/// dropped.
#[derive(Debug)]
pub(super) struct EgressDir {
    dir: tempfile::TempDir,
}

impl EgressDir {
    /// A new, empty directory under [`base`], `c-PID-...`: mode `0711`,
    /// so that the container's user (any uid) can reach the socket but not
    /// list the directory.
    pub(super) fn create() -> Result<EgressDir> {
        let base = base()?;
        let dir = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{}-", std::process::id()))
            .tempdir_in(&base)
            .map_err(|e| {
                fail_from(
                    format!("cannot make an egress directory in {}", base.display()),
                    e,
                )
            })?;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711))
            .map_err(|e| fail_from(format!("cannot open up {}", dir.path().display()), e))?;
        Ok(EgressDir { dir })
    }

    /// The directory on the host.
    pub(super) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Serves `egress` on the directory's socket until the handle is
    /// dropped. The socket is `0666`: connecting to a Unix socket takes
    /// write permission on it, and the container's uid is not ours (the
    /// directory's parent is ours alone, so no one else on the host can
    /// reach it). Must be called within a Tokio runtime.
    pub(super) fn serve(&self, egress: &Egress) -> Result<ProxyHandle> {
        let path = self.dir.path().join(SOCKET);
        let listener = tokio::net::UnixListener::bind(&path)
            .map_err(|e| fail_from(format!("cannot listen on {}", path.display()), e))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666))
            .map_err(|e| fail_from(format!("cannot open up {}", path.display()), e))?;
        egress
            .serve_unix(listener)
            .map_err(|e| fail_from("cannot start the egress proxy".into(), e))
    }
}

/// Where the egress directories are made: `$XDG_RUNTIME_DIR/sandboxcore-egress`,
/// else `sandboxcore-egress-UID` in the temporary directory; mode `0700`
/// and ours, or it is refused (someone else could have made it first in a
/// shared `/tmp`).
pub(super) fn base() -> Result<PathBuf> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    let base = match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("sandboxcore-egress"),
        None => std::env::temp_dir().join(format!("sandboxcore-egress-{uid}")),
    };
    match std::fs::DirBuilder::new().mode(0o700).create(&base) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(fail_from(format!("cannot make {}", base.display()), e)),
    }
    let meta = std::fs::symlink_metadata(&base)
        .map_err(|e| fail_from(format!("cannot read {}", base.display()), e))?;
    if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o077 != 0 {
        return Err(fail(format!(
            "{} is not a directory of uid {uid} with mode 0700; remove it",
            base.display()
        )));
    }
    Ok(base)
}

/// Removes the egress directories that processes which no longer exist
/// left under [`base`] (`c-PID-...`). Returns the directories removed.
pub(super) fn sweep_dead() -> Vec<PathBuf> {
    let Ok(entries) = base().and_then(|b| {
        std::fs::read_dir(&b).map_err(|e| fail(format!("cannot list {}: {e}", b.display())))
    }) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for e in entries.flatten() {
        if crate::exec::reap::left_by_dead_process(&e.file_name().to_string_lossy(), PREFIX) {
            let path = e.path();
            let _ = std::fs::remove_dir_all(&path);
            if !path.exists() {
                removed.push(path);
            }
        }
    }
    removed
}

/// Whether the configured runtime lets a container connect to the host's
/// Unix socket: runc does; gVisor (`runsc`) only when registered with
/// `--host-uds=open` (or `all`). `Err` says why not.
pub(super) async fn support(
    docker: &Docker,
    config: &DockerConfig,
) -> std::result::Result<(), String> {
    let Some(name) = &config.runtime else {
        return Ok(());
    };
    let info = docker
        .info()
        .await
        .map_err(|e| format!("cannot ask the daemon about runtime {name:?}: {e}"))?;
    let runtime = info
        .runtimes
        .unwrap_or_default()
        .remove(name)
        .unwrap_or_default();
    let path = runtime.path.unwrap_or_default();
    let args = runtime.runtime_args.unwrap_or_default();
    runtime_support(name, &path, &args)
}

/// See [`support`].
fn runtime_support(name: &str, path: &str, args: &[String]) -> std::result::Result<(), String> {
    let gvisor = name == "runsc" || Path::new(path).file_name().is_some_and(|f| f == "runsc");
    if !gvisor || host_uds_open(args) {
        return Ok(());
    }
    Err(format!(
        "an allowlist network cannot reach the egress proxy under gVisor runtime {name:?}: \
         gVisor refuses connections to host Unix sockets unless the runtime is registered \
         with --host-uds=open (its arguments: {args:?})"
    ))
}

/// Whether gVisor arguments allow connecting to host Unix sockets
/// (`--host-uds=open|all`, `-host-uds open`, the older
/// `--fsgofer-host-uds`).
fn host_uds_open(args: &[String]) -> bool {
    let mut it = args.iter().map(|a| a.trim_start_matches('-'));
    while let Some(arg) = it.next() {
        let value = match arg.split_once('=') {
            Some(("host-uds", v)) => v,
            None if arg == "host-uds" => it.next().unwrap_or(""),
            Some(("fsgofer-host-uds", v)) => {
                if v == "true" {
                    return true;
                }
                continue;
            }
            None if arg == "fsgofer-host-uds" => return true,
            _ => continue,
        };
        if matches!(value, "open" | "all") {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn only_gvisor_without_host_uds_is_refused() {
        assert!(runtime_support("runc", "runc", &[]).is_ok());
        assert!(runtime_support("kata", "/usr/bin/kata-runtime", &[]).is_ok());
        let e =
            runtime_support("runsc", "/usr/bin/runsc", &strings(&["--network=none"])).unwrap_err();
        assert!(e.contains("--host-uds=open"), "{e}");
        assert!(runtime_support("gvisor", "/usr/local/bin/runsc", &[]).is_err());
        for ok in [
            &["--host-uds=open"][..],
            &["--platform=ptrace", "-host-uds=all"],
            &["--host-uds", "open"],
            &["--fsgofer-host-uds"],
        ] {
            assert!(
                runtime_support("runsc", "runsc", &strings(ok)).is_ok(),
                "{ok:?}"
            );
        }
        for no in [
            &["--host-uds=none"][..],
            &["--host-uds=create"],
            &["--host-uds"],
        ] {
            assert!(
                runtime_support("runsc", "runsc", &strings(no)).is_err(),
                "{no:?}"
            );
        }
    }

    #[test]
    fn the_directory_is_private_and_its_socket_reachable() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dir = EgressDir::create().unwrap();
        let path = dir.path().to_path_buf();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().mode() & 0o7777;
        assert_eq!(mode(&path), 0o711);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        let rules = crate::net::EgressRules::new(&[], &[], &[]).unwrap();
        let handle = rt
            .block_on(async { dir.serve(&Egress::new(rules)) })
            .unwrap();
        let socket = path.join(SOCKET);
        assert_eq!(mode(&socket), 0o666);
        assert!(std::os::unix::net::UnixStream::connect(&socket).is_ok());
        drop(handle);
        drop(dir);
        assert!(!path.exists(), "the directory goes with its owner");
    }

    #[test]
    fn directories_of_dead_owners_are_swept_and_no_other() {
        let mine = EgressDir::create().unwrap();
        let name = mine
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with(&format!("c-{}-", std::process::id())),
            "{name}"
        );
        let base = base().unwrap();
        let dead = base.join("c-4000000000-x");
        std::fs::create_dir_all(dead.join("inner")).unwrap();
        let other = base.join(format!("not-ours-{}", std::process::id()));
        std::fs::create_dir_all(&other).unwrap();
        let removed = sweep_dead();
        assert!(removed.contains(&dead), "{removed:?}");
        assert!(!dead.exists());
        assert!(mine.path().exists() && other.exists());
        std::fs::remove_dir(&other).unwrap();
    }
}
