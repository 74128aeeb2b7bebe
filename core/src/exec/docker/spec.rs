//! The container's create body: every hardening option of the backend in
//! one pure function, so it can be read, tested and snapshotted without a
//! daemon.

use super::{DockerConfig, MANAGED_LABEL, OWNER_LABEL, RUN_ID_LABEL};
use crate::exec::Plan;
use crate::exec::{ExecRequest, Network};
use crate::{Error, Result};
use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType, ResourcesUlimits};
use std::collections::HashMap;

/// Where the agent binary is mounted in the container (read-only).
pub const AGENT_PATH: &str = "/.sandboxcore/agent";

/// Where a container's egress directory is mounted (read-only): empty, or
/// holding the egress proxy's socket ([`EGRESS_SOCKET`]) while an
/// allowlist run has the container.
pub const EGRESS_DIR: &str = "/run/sandboxcore/egress";

/// The egress proxy's Unix socket in the container; the agent carries
/// `127.0.0.1:3128` there.
pub const EGRESS_SOCKET: &str = "/run/sandboxcore/egress/proxy.sock";

/// The agent's loopback port is the proxy's port everywhere.
const _: () = assert!(sandboxcore_agent::PROXY_PORT == crate::net::PROXY_PORT);

/// The working directory when neither the request nor a workspace names
/// one (the only writable place on the read-only root).
const DEFAULT_WORKDIR: &str = "/tmp";

fn invalid(msg: String) -> Error {
    Error::InvalidInput(msg)
}

fn uid_of(user: &str) -> Option<u32> {
    user.split(':').next()?.parse().ok()
}

/// The command's argv: the plan's, or `/bin/sh -c SCRIPT`.
pub(super) fn argv(plan: &Plan) -> Result<Vec<String>> {
    match plan {
        Plan::Direct(argv) if argv.is_empty() => Err(invalid("the command is empty".into())),
        Plan::Direct(argv) => Ok(argv.clone()),
        Plan::Shell(script) => Ok(vec!["/bin/sh".into(), "-c".into(), script.clone()]),
    }
}

/// The command's environment: `PATH` and `HOME` (`/tmp`), the host
/// variables `config.env` lets through, then the request's own; in an
/// allowlist run, `HTTP_PROXY` and friends naming the agent's
/// `127.0.0.1:3128` last (the request cannot point them elsewhere).
pub(super) fn environment(req: &ExecRequest, config: &DockerConfig) -> Vec<String> {
    let mut env = config.env.build(std::env::vars(), "/tmp", &req.env);
    env.insert(
        "PATH".into(),
        req.env.get("PATH").cloned().unwrap_or_else(|| {
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()
        }),
    );
    if let Network::Allowlist(_) = req.network {
        let proxy = std::net::SocketAddr::from(([127, 0, 0, 1], crate::net::PROXY_PORT));
        env.extend(crate::net::proxy_environment(proxy));
    }
    env.into_iter().map(|(k, v)| format!("{k}={v}")).collect()
}

/// The bind mount of a container's egress directory `dir` (on the host) at
/// [`EGRESS_DIR`], read-only: the command can connect to the socket the
/// host puts there, but can put nothing there itself.
pub(super) fn egress_mount(dir: &std::path::Path) -> Mount {
    Mount {
        target: Some(EGRESS_DIR.into()),
        source: Some(dir.to_string_lossy().into_owned()),
        typ: Some(MountType::BIND),
        read_only: Some(true),
        ..Mount::default()
    }
}

/// The working directory: the request's, else the workspace, else `/tmp`.
pub(super) fn workdir(req: &ExecRequest, config: &DockerConfig) -> String {
    match (&req.cwd, &config.workspace) {
        (Some(cwd), _) => cwd.to_string_lossy().into_owned(),
        (None, Some(ws)) => ws.target.clone(),
        (None, None) => DEFAULT_WORKDIR.into(),
    }
}

/// The `/tmp` tmpfs's mount options for a run as `user` (`uid[:gid]`):
/// `rw,noexec,nosuid,nodev,size=SIZE,mode=1777`, owned by that user.
///
/// `mode=1777` alone does not make `/tmp` writable: runc before 1.1.8
/// (Debian 12's `docker.io` runs 1.1.5) chmods a tmpfs mounted over an
/// existing directory to that directory's mode once mounted
/// (opencontainers/runc#3911), so in an image whose `/tmp` is `0755` the
/// run's user got a root-owned `0755` `/tmp`. The other ways to ask for a
/// mode fare no better on such a daemon: a `Mount` of type `tmpfs` with
/// `TmpfsOptions.mode` goes through the same runc code, `TmpfsOptions`'
/// `options` (where `uid` could go) need Engine API 1.46 and are dropped
/// by older daemons, and `notmpcopyup` is refused ("invalid tmpfs
/// option"). runc only ever chmods, never chowns, so `uid=`/`gid=` hold:
/// the run's user owns `/tmp`, and the owner bits of whatever mode it ends
/// up with (`1777` where `mode=` is honoured: runc 1.1.8 and later, gVisor,
/// an image without `/tmp`; the image's `0755`, `0700`, `1777` otherwise)
/// let it write. Only an image whose `/tmp` denies its owner write (say
/// `0555`) still gets an unwritable `/tmp` on such a runc. The size limit
/// and `noexec,nosuid,nodev` are mount options, which runc's chmod leaves
/// alone.
fn tmp_options(size: u64, user: &str) -> String {
    let mut ids = user.split(':');
    let mut opts = format!("rw,noexec,nosuid,nodev,size={size},mode=1777");
    if let Some(uid) = ids.next().filter(|u| u.parse::<u32>().is_ok()) {
        opts.push_str(&format!(",uid={uid}"));
    }
    if let Some(gid) = ids.next().filter(|g| g.parse::<u32>().is_ok()) {
        opts.push_str(&format!(",gid={gid}"));
    }
    opts
}

fn ulimit(name: &str, value: Option<u64>) -> Option<ResourcesUlimits> {
    let v = i64::try_from(value?).unwrap_or(i64::MAX);
    Some(ResourcesUlimits {
        name: Some(name.into()),
        soft: Some(v),
        hard: Some(v),
    })
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The create body for one run.
///
/// With `agent`, the entrypoint is the agent (mounted read-only at
/// [`AGENT_PATH`]) waiting for the command on stdin, and the command's
/// environment and working directory travel in the agent's request; the
/// container then carries no variables at all. Without it, the command is
/// the container's process.
///
/// Hardening, all from `config` and `req.limits`: non-root user,
/// `cap_drop: ALL`, `no-new-privileges`, Docker's default seccomp profile
/// (or `config.seccomp_profile`), read-only root, `/tmp` as a size-limited
/// `noexec,nosuid,nodev` tmpfs, pids limit, memory limit with swap equal to
/// memory (no swap), CPU quota, ulimits `nofile`, `fsize`, `cpu`,
/// `network_mode: none` unless the request allows the network and
/// `config.network` names one (an allowlist run has `none` too: it
/// reaches only the egress proxy, through the agent and the egress
/// directory, which the executor mounts), no logging driver (output only goes to the
/// attached client), and the managed/run-id/owner labels.
pub fn container_spec(
    req: &ExecRequest,
    config: &DockerConfig,
    run_id: &str,
    agent: bool,
) -> Result<ContainerCreateBody> {
    match uid_of(&config.user) {
        None => {
            return Err(invalid(format!(
                "docker user {:?} is not uid[:gid] with numeric ids",
                config.user
            )))
        }
        Some(0) if !config.allow_root => {
            return Err(invalid(
                "the docker backend refuses to run commands as root (set allow_root)".into(),
            ))
        }
        Some(_) => {}
    }
    if !(config.cpus > 0.0 && config.cpus.is_finite()) {
        return Err(invalid(format!(
            "cpus must be positive, not {}",
            config.cpus
        )));
    }
    let network_mode =
        match (&req.network, &config.network) {
            (Network::None, _) => "none".to_string(),
            // The same container as `None` (so a pool container serves
            // it): the agent carries loopback to the proxy's socket.
            (Network::Allowlist(_), _) if agent => "none".to_string(),
            (Network::Allowlist(_), _) => {
                return Err(invalid(
                    "an allowlist network needs the agent (the plain path has nothing in the \
                     container to carry connections to the egress proxy)"
                        .into(),
                ))
            }
            (Network::Allowed, Some(name)) => name.clone(),
            (Network::Allowed, None) => return Err(invalid(
                "the request allows the network, but the docker backend has no network configured \
                 (DockerConfig::network, --network NAME)"
                    .into(),
            )),
        };
    let mut security_opt = Vec::new();
    if config.no_new_privileges {
        security_opt.push("no-new-privileges:true".to_string());
    }
    if let Some(path) = &config.seccomp_profile {
        let profile = std::fs::read_to_string(path)
            .map_err(|e| invalid(format!("seccomp profile {}: {e}", path.display())))?;
        security_opt.push(format!("seccomp={profile}"));
    }
    let mut mounts = Vec::new();
    if agent {
        let path = config
            .agent
            .as_ref()
            .ok_or_else(|| invalid("no agent binary is configured".into()))?;
        mounts.push(Mount {
            target: Some(AGENT_PATH.into()),
            source: Some(path.to_string_lossy().into_owned()),
            typ: Some(MountType::BIND),
            read_only: Some(true),
            ..Mount::default()
        });
    }
    if let Some(ws) = &config.workspace {
        mounts.push(Mount {
            target: Some(ws.target.clone()),
            source: Some(ws.source.to_string_lossy().into_owned()),
            typ: Some(MountType::BIND),
            read_only: Some(ws.read_only),
            ..Mount::default()
        });
    }
    let tmpfs = HashMap::from([(
        "/tmp".to_string(),
        tmp_options(config.tmp_size, &config.user),
    )]);
    let limits = &req.limits;
    // No `nproc` ulimit: without a user namespace it counts every process
    // of the uid on the host, so containers sharing uid 1000 would share it
    // (seen failing a warm pool's agent under load); `pids_limit` is the
    // per-container bound.
    let ulimits = [
        ulimit("nofile", limits.open_files),
        ulimit("fsize", limits.file_size),
        ulimit("cpu", limits.cpu_time.map(|d| d.as_secs().max(1))),
    ]
    .into_iter()
    .flatten()
    .collect();
    let host_config = HostConfig {
        cap_drop: Some(vec!["ALL".into()]),
        cap_add: (!config.cap_add.is_empty()).then(|| config.cap_add.clone()),
        security_opt: Some(security_opt),
        readonly_rootfs: Some(config.read_only_root),
        tmpfs: Some(tmpfs),
        pids_limit: limits.processes.map(to_i64),
        memory: limits.memory.map(to_i64),
        memory_swap: limits.memory.map(to_i64),
        nano_cpus: Some((config.cpus * 1e9) as i64),
        ulimits: Some(ulimits),
        network_mode: Some(network_mode),
        mounts: Some(mounts),
        runtime: config.runtime.clone(),
        privileged: Some(false),
        // The agent exits when our end of its stdin closes (also when this
        // process dies), and the daemon then removes its container.
        auto_remove: Some(agent),
        log_config: Some(bollard::models::HostConfigLogConfig {
            typ: Some("none".into()),
            config: None,
        }),
        ..HostConfig::default()
    };
    let mut labels: HashMap<String, String> = config
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    labels.insert(MANAGED_LABEL.into(), "true".into());
    labels.insert(RUN_ID_LABEL.into(), run_id.into());
    labels.insert(OWNER_LABEL.into(), owner());
    let (entrypoint, cmd, env) = if agent {
        (vec![AGENT_PATH.to_string()], Vec::new(), Vec::new())
    } else {
        let mut argv = argv(&req.plan)?;
        let rest = argv.split_off(1);
        (argv, rest, environment(req, config))
    };
    Ok(ContainerCreateBody {
        image: Some(config.image.clone()),
        user: Some(config.user.clone()),
        entrypoint: Some(entrypoint),
        cmd: Some(cmd),
        env: Some(env),
        // The agent enters the command's directory itself (so a pool
        // container serves any directory, and a missing one is an error
        // rather than created by the daemon, as the plain path has it).
        working_dir: Some(if agent {
            "/".into()
        } else {
            workdir(req, config)
        }),
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        open_stdin: Some(true),
        stdin_once: Some(true),
        tty: Some(false),
        // Loopback stays up either way (the agent listens there in an
        // allowlist run).
        network_disabled: Some(!matches!(req.network, Network::Allowed)),
        labels: Some(labels),
        host_config: Some(host_config),
        ..ContainerCreateBody::default()
    })
}

/// This process, as `host:pid` (the owner label; `host` is
/// [`host_id`]).
pub(super) fn owner() -> String {
    owner_label(std::process::id())
}

/// The owner label a process of this host (and pid namespace) with `pid`
/// gives its containers: what `gc` and the background reap judge.
pub fn owner_label(pid: u32) -> String {
    format!("{}:{pid}", host_id())
}

/// Where this process's pids mean something: the host's name and the pid
/// namespace (`name@4026531836`). A reaper only judges owners with its own
/// host id, so two processes in different pid namespaces (containers that
/// share one daemon, even with the same host name) never take each
/// other's live containers for leftovers.
pub(super) fn host_id() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let pid_ns = std::fs::read_link("/proc/self/ns/pid")
        .ok()
        .and_then(|l| {
            let l = l.to_string_lossy().into_owned();
            l.strip_prefix("pid:[")?
                .strip_suffix(']')
                .map(str::to_string)
        })
        .unwrap_or_default();
    format!("{name}@{pid_ns}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::Limits;
    use std::time::Duration;

    fn request(plan: Plan) -> ExecRequest {
        ExecRequest::new(plan)
    }

    fn config() -> DockerConfig {
        let mut c = DockerConfig::new("busybox:test");
        c.agent = Some("/opt/agent".into());
        c
    }

    fn host(body: &ContainerCreateBody) -> &HostConfig {
        body.host_config.as_ref().unwrap()
    }

    #[test]
    fn every_hardening_option_is_set_by_default() {
        let req = request(Plan::Direct(vec!["id".into()]));
        let body = container_spec(&req, &config(), "r1", true).unwrap();
        let h = host(&body);
        assert_eq!(body.user.as_deref(), Some("1000:1000"));
        assert_eq!(h.cap_drop, Some(vec!["ALL".to_string()]));
        assert_eq!(
            h.security_opt,
            Some(vec!["no-new-privileges:true".to_string()])
        );
        assert_eq!(h.readonly_rootfs, Some(true));
        assert_eq!(h.privileged, Some(false));
        assert_eq!(h.network_mode.as_deref(), Some("none"));
        assert_eq!(body.network_disabled, Some(true));
        let limits = Limits::default();
        assert_eq!(h.pids_limit, Some(limits.processes.unwrap() as i64));
        assert_eq!(h.memory, Some(limits.memory.unwrap() as i64));
        assert_eq!(h.memory_swap, h.memory, "no swap beyond the memory limit");
        assert_eq!(h.nano_cpus, Some(1_000_000_000));
        // `/tmp`: bounded, noexec, and owned by the run's user (whatever
        // mode the image's directory imposes on it).
        assert_eq!(
            h.tmpfs.as_ref().unwrap()["/tmp"],
            "rw,noexec,nosuid,nodev,size=67108864,mode=1777,uid=1000,gid=1000"
        );
        assert!(
            h.mounts
                .iter()
                .flatten()
                .all(|m| m.target.as_deref() != Some("/tmp")),
            "/tmp is mounted once, through HostConfig.tmpfs"
        );
        let names: Vec<_> = h
            .ulimits
            .as_ref()
            .unwrap()
            .iter()
            .map(|u| u.name.clone().unwrap())
            .collect();
        assert_eq!(names, ["nofile", "fsize"]);
        assert_eq!(h.log_config.as_ref().unwrap().typ.as_deref(), Some("none"));
        let labels = body.labels.as_ref().unwrap();
        assert_eq!(labels[MANAGED_LABEL], "true");
        assert_eq!(labels[RUN_ID_LABEL], "r1");
        assert!(labels[OWNER_LABEL].ends_with(&format!(":{}", std::process::id())));
        assert_eq!(h.runtime, None);
    }

    #[test]
    fn the_agent_path_mounts_the_agent_and_carries_no_environment() {
        let mut req = request(Plan::Shell("echo $HOME".into()));
        req.env.insert("FOO".into(), "bar".into());
        let body = container_spec(&req, &config(), "r", true).unwrap();
        assert_eq!(body.entrypoint, Some(vec![AGENT_PATH.to_string()]));
        assert_eq!(body.cmd, Some(vec![]));
        assert_eq!(body.env, Some(vec![]));
        let m = &host(&body).mounts.as_ref().unwrap()[0];
        assert_eq!(m.source.as_deref(), Some("/opt/agent"));
        assert_eq!(m.read_only, Some(true));
    }

    #[test]
    fn the_plain_path_runs_the_exact_argv_with_the_scrubbed_environment() {
        let mut req = request(Plan::Direct(vec![
            "printf".into(),
            "%s\\n".into(),
            "a b".into(),
        ]));
        req.env.insert("FOO".into(), "bar".into());
        std::env::set_var("SANDBOXCORE_TEST_SECRET_TOKEN", "x");
        let body = container_spec(&req, &config(), "r", false).unwrap();
        assert_eq!(body.entrypoint, Some(vec!["printf".to_string()]));
        assert_eq!(body.cmd, Some(vec!["%s\\n".to_string(), "a b".to_string()]));
        let env = body.env.unwrap();
        assert!(env.contains(&"FOO=bar".to_string()));
        assert!(env.contains(&"HOME=/tmp".to_string()));
        assert!(env.iter().any(|e| e.starts_with("PATH=")));
        assert_eq!(env.len(), 3, "only PATH, HOME and the request's: {env:?}");
        let shell =
            container_spec(&request(Plan::Shell("a | b".into())), &config(), "r", false).unwrap();
        assert_eq!(shell.entrypoint, Some(vec!["/bin/sh".to_string()]));
        assert_eq!(shell.cmd, Some(vec!["-c".to_string(), "a | b".to_string()]));
    }

    #[test]
    fn options_change_what_they_say() {
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("seccomp.json");
        std::fs::write(&profile, r#"{"defaultAction":"SCMP_ACT_ERRNO"}"#).unwrap();
        let mut c = config();
        c.runtime = Some("runsc".into());
        c.network = Some("sandbox-internal".into());
        c.seccomp_profile = Some(profile);
        c.workspace = Some(super::super::WorkspaceMount {
            source: dir.path().to_path_buf(),
            target: "/workspace".into(),
            read_only: true,
        });
        c.cpus = 0.5;
        let mut req = request(Plan::Direct(vec!["ls".into()]));
        req.network = Network::Allowed;
        req.limits.cpu_time = Some(Duration::from_secs(5));
        let body = container_spec(&req, &c, "r", true).unwrap();
        let h = host(&body);
        assert_eq!(h.runtime.as_deref(), Some("runsc"));
        assert_eq!(h.network_mode.as_deref(), Some("sandbox-internal"));
        assert_eq!(body.network_disabled, Some(false));
        assert!(h.security_opt.as_ref().unwrap()[1].starts_with("seccomp={\"defaultAction\""));
        assert_eq!(h.cap_add, None);
        c.read_only_root = false;
        c.no_new_privileges = false;
        c.cap_add = vec!["CHOWN".into()];
        let relaxed = container_spec(&req, &c, "r", true).unwrap();
        let h = host(&relaxed);
        assert_eq!(h.readonly_rootfs, Some(false));
        assert_eq!(
            h.cap_drop,
            Some(vec!["ALL".to_string()]),
            "still dropped first"
        );
        assert_eq!(h.cap_add, Some(vec!["CHOWN".to_string()]));
        assert!(h.security_opt.as_ref().unwrap()[0].starts_with("seccomp="));
        assert_eq!(h.security_opt.as_ref().unwrap().len(), 1);
        assert_eq!(h.nano_cpus, Some(500_000_000));
        assert_eq!(
            body.working_dir.as_deref(),
            Some("/"),
            "the agent enters it"
        );
        assert_eq!(workdir(&req, &c), "/workspace");
        let plain = container_spec(&req, &c, "r", false).unwrap();
        assert_eq!(plain.working_dir.as_deref(), Some("/workspace"));
        let ws = &h.mounts.as_ref().unwrap()[1];
        assert_eq!(ws.read_only, Some(true));
        assert!(h
            .ulimits
            .as_ref()
            .unwrap()
            .iter()
            .any(|u| u.name.as_deref() == Some("cpu") && u.hard == Some(5)));
    }

    #[test]
    fn an_allowlist_run_has_no_network_but_the_proxy_variables() {
        let rules = crate::net::EgressRules::new(&["pypi.org".into()], &[], &[]).unwrap();
        let mut req = request(Plan::Direct(vec!["pip".into()]));
        let none = container_spec(&req, &config(), "r", true).unwrap();
        req.network = Network::allowlist(rules);
        req.env
            .insert("HTTP_PROXY".into(), "http://elsewhere:1".into());
        let body = container_spec(&req, &config(), "r", true).unwrap();
        // The same container as a run without network (a pool container
        // serves either); the egress directory is mounted by the executor.
        assert_eq!(body.host_config, none.host_config);
        assert_eq!(host(&body).network_mode.as_deref(), Some("none"));
        assert_eq!(body.network_disabled, Some(true));
        let env = environment(&req, &config());
        for var in [
            "HTTP_PROXY",
            "http_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "ALL_PROXY",
        ] {
            assert!(
                env.contains(&format!("{var}=http://127.0.0.1:3128")),
                "{var}: {env:?}"
            );
        }
        assert!(env.contains(&"NO_PROXY=localhost,127.0.0.1,::1".to_string()));
        let m = egress_mount(std::path::Path::new("/run/user/1/sandboxcore-egress/c-x"));
        assert_eq!(m.target.as_deref(), Some(EGRESS_DIR));
        assert_eq!(m.read_only, Some(true));
        assert!(EGRESS_SOCKET.starts_with(EGRESS_DIR));
        let e = container_spec(&req, &config(), "r", false).unwrap_err();
        assert!(e.to_string().contains("needs the agent"), "{e}");
        assert!(
            environment(&request(Plan::Direct(vec!["x".into()])), &config())
                .iter()
                .all(|v| !v.contains("PROXY"))
        );
    }

    #[test]
    fn tmp_belongs_to_the_configured_user() {
        let req = request(Plan::Direct(vec!["id".into()]));
        let tmp = |user: &str, size: u64| {
            let mut c = config();
            c.user = user.into();
            c.allow_root = true;
            c.tmp_size = size;
            let body = container_spec(&req, &c, "r", true).unwrap();
            host(&body).tmpfs.as_ref().unwrap()["/tmp"].clone()
        };
        assert_eq!(
            tmp("2000:3000", 8 << 20),
            "rw,noexec,nosuid,nodev,size=8388608,mode=1777,uid=2000,gid=3000"
        );
        // No group: the daemon picks it (the image's passwd, else 0).
        assert_eq!(
            tmp("2000", 1024),
            "rw,noexec,nosuid,nodev,size=1024,mode=1777,uid=2000"
        );
        assert!(tmp("2000:staff", 1024).ends_with(",uid=2000"));
        assert!(tmp("0:0", 1024).ends_with(",uid=0,gid=0"));
    }

    #[test]
    fn unsafe_or_impossible_configs_are_errors() {
        let req = request(Plan::Direct(vec!["id".into()]));
        let mut c = config();
        c.user = "0:0".into();
        let e = container_spec(&req, &c, "r", true).unwrap_err();
        assert!(e.to_string().contains("root"), "{e}");
        c.allow_root = true;
        assert!(container_spec(&req, &c, "r", true).is_ok());
        c.user = "nobody".into();
        assert!(container_spec(&req, &c, "r", true).is_err());
        let mut net = request(Plan::Direct(vec!["id".into()]));
        net.network = Network::Allowed;
        let e = container_spec(&net, &config(), "r", true).unwrap_err();
        assert!(e.to_string().contains("no network configured"), "{e}");
        let e = container_spec(&request(Plan::Direct(vec![])), &config(), "r", false).unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
        let mut no_agent = config();
        no_agent.agent = None;
        assert!(container_spec(&req, &no_agent, "r", true).is_err());
        let mut c = config();
        c.seccomp_profile = Some("/no/such/profile.json".into());
        assert!(container_spec(&req, &c, "r", true).is_err());
    }
}
