//! The options that choose and configure a backend and a run's limits,
//! shared by `sandboxcore run` and `sandboxcore mcp`.

use crate::policy_source::PolicySource;
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, ValueEnum};
use sandboxcore::audit::AuditLog;
use sandboxcore::exec::docker::{DockerConfig, DockerExecutor, PullPolicy, WorkspaceMount};
use sandboxcore::exec::kubernetes::{KubernetesExecutor, KubernetesOptions};
use sandboxcore::exec::{
    Executor, FsAccess, Isolation, Limits, Network, ProcessConfig, ProcessExecutor,
};
use sandboxcore::net::{EgressRules, HostRule};
use sandboxcore::{Sandbox, SandboxBuilder};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The backends a command can run on.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// Local processes (see docs/executors.md).
    Process,
    /// A fresh hardened container per command, through the Docker daemon of
    /// DOCKER_HOST or the local socket (see docs/docker.md).
    Docker,
    /// One Kubernetes Job per command (see docs/kubernetes.md); the cluster
    /// comes from KUBECONFIG or the in-cluster config, as for kubectl.
    Kubernetes,
}

/// Which backend, and how it isolates.
#[derive(Args)]
pub struct BackendArgs {
    /// Where the command runs.
    #[arg(long, value_enum, default_value = "process")]
    pub backend: Backend,
    /// Container image (docker and kubernetes backends).
    #[arg(long, value_name = "IMAGE")]
    image: Option<String>,
    /// OCI runtime, e.g. runsc for gVisor (docker backend).
    #[arg(long, value_name = "NAME")]
    runtime: Option<String>,
    /// Host directory mounted at /workspace, read-write or with `:ro`
    /// read-only; the default working directory (docker backend).
    #[arg(long, value_name = "DIR[:ro]")]
    workspace: Option<String>,
    /// uid:gid of the command (docker backend; default 1000:1000).
    #[arg(long, value_name = "UID:GID")]
    user: Option<String>,
    /// Pull the image when it is not present (docker backend; default:
    /// only local images are used).
    #[arg(long)]
    pull: bool,
    /// Namespace of the Jobs (kubernetes backend; default sandboxcore).
    #[arg(long, value_name = "NS")]
    namespace: Option<String>,
    /// RuntimeClass of the pods, e.g. gvisor (kubernetes backend).
    #[arg(long, value_name = "NAME")]
    runtime_class: Option<String>,
    /// Keep the working directory read-only (process backend).
    #[arg(long)]
    no_write_cwd: bool,
    /// Also writable for the command (process backend; repeatable).
    #[arg(long = "write", value_name = "PATH")]
    write: Vec<PathBuf>,
    /// Hidden from the command, on top of the defaults (~/.ssh, ~/.aws, ...;
    /// process backend; repeatable).
    #[arg(long = "deny-read", value_name = "PATH")]
    deny_read: Vec<PathBuf>,
    /// How strictly the process backend isolates: `required` (the default:
    /// refuse to run when a layer is missing), `best-effort` (run with the
    /// layers this host has and say which are missing) or `off`.
    #[arg(long, value_name = "MODE", default_value = "required")]
    isolation: Isolation,
    /// Network access: none (the default), or with `--network` alone the
    /// backend's network, or with `--network NAME` the named Docker network.
    #[arg(
        long,
        value_name = "none|NAME",
        num_args = 0..=1,
        default_missing_value = "",
        conflicts_with_all = ["allow", "deny"]
    )]
    network: Option<String>,
    #[command(flatten)]
    hosts: HostArgs,
    /// The egress proxy's URL that runs with network go through, e.g.
    /// http://sandboxcore-egress-proxy.sandboxcore.svc:3128 (kubernetes
    /// backend; deployed by `sandboxcore k8s manifests --egress-proxy`).
    /// The proxy enforces its own policy, not the run's --allow-host.
    #[arg(long, value_name = "URL")]
    egress_proxy: Option<String>,
}

/// Hosts allowed and denied through the filtering egress proxy: shared by
/// `run`, `mcp` and `proxy`.
#[derive(Args)]
pub struct HostArgs {
    /// Allow connections to HOST, and to nothing else, through the
    /// filtering egress proxy (repeatable): `pypi.org`, `*.pythonhosted.org`
    /// (subdomains only), `example.com:443`, `10.0.0.0/8` (an address is
    /// reached only through an address rule). A run's programs find the
    /// proxy in HTTP_PROXY and HTTPS_PROXY; the policy's `network:` deny
    /// rules and `require_approval` patterns still apply.
    #[arg(long = "allow-host", value_name = "HOST")]
    pub allow: Vec<String>,
    /// Refuse HOST even when --allow-host or the policy allows it
    /// (repeatable; the same forms as --allow-host).
    #[arg(long = "deny-host", value_name = "HOST")]
    pub deny: Vec<String>,
}

impl HostArgs {
    /// Whether any host was given.
    pub fn is_empty(&self) -> bool {
        self.allow.is_empty() && self.deny.is_empty()
    }

    /// The rules these hosts make. An entry that does not parse is an
    /// error naming the flag and its index (`--allow-host[1]: ...`).
    pub fn rules(&self) -> Result<EgressRules> {
        for (flag, list) in [("--allow-host", &self.allow), ("--deny-host", &self.deny)] {
            for (i, entry) in list.iter().enumerate() {
                HostRule::parse(entry).map_err(|e| anyhow!("{flag}[{i}]: {e}"))?;
            }
        }
        EgressRules::new(&self.allow, &self.deny, &[]).map_err(|e| anyhow!(e))
    }
}

/// A run's limits.
#[derive(Args)]
pub struct LimitArgs {
    /// Wall-clock limit (`30s`, `500ms`, `2m`); 0 for none.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Memory limit (`512M`, `2G`, bytes); 0 for none.
    #[arg(long, value_name = "SIZE", default_value = "512M", value_parser = parse_size)]
    memory: u64,
    /// Process limit; 0 for none.
    #[arg(long, value_name = "N", default_value_t = 256)]
    processes: u64,
    /// Output kept per stream in the result (the live stream is complete).
    #[arg(long, value_name = "SIZE", default_value = "1M", value_parser = parse_size)]
    output_limit: u64,
}

impl LimitArgs {
    /// The limits these options give.
    pub fn limits(&self) -> Limits {
        Limits {
            timeout: nonzero(self.timeout),
            memory: nonzero(self.memory),
            processes: nonzero(self.processes),
            output_bytes: usize::try_from(self.output_limit).unwrap_or(usize::MAX),
            ..Limits::default()
        }
    }
}

/// The runtime of `sandboxcore run` on `backend`. The process backend's
/// one run needs no worker thread: the run and the printer are polled by
/// `block_on` on the calling thread, which also drives the I/O and timers
/// (what blocks goes to tokio's blocking pool). The container backends
/// keep [`runtime`]: what they clean up when a run's future is dropped is
/// spawned as tasks, which only workers run once `block_on` has returned.
pub fn run_runtime(backend: Backend) -> Result<tokio::runtime::Runtime> {
    match backend {
        Backend::Process => Ok(tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?),
        Backend::Docker | Backend::Kubernetes => runtime(),
    }
}

/// The runtime the CLI's backends and runs use.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// A sandbox builder with the policy from `source`, the executor these
/// backend options describe (the policy files kept read-only for the
/// command) and, when given, a JSON-lines audit file: what `run` and `mcp`
/// share. `one_run`: the sandbox makes a single run (see
/// [`BackendArgs::executor`]).
pub fn sandbox_builder(
    source: &PolicySource,
    backend: &BackendArgs,
    audit_log: Option<&Path>,
    runtime: &tokio::runtime::Runtime,
    one_run: bool,
) -> Result<SandboxBuilder> {
    let policy = source.load()?;
    let executor = backend.executor(runtime, &source.paths()?, one_run)?;
    let mut builder = Sandbox::builder().policy(policy).shared_executor(executor);
    if let Some(path) = audit_log {
        builder = builder.audit(open_audit_log(path)?);
    }
    Ok(builder)
}

/// The JSON-lines audit file at `path` (`--audit-log FILE`), opened for
/// appending.
pub fn open_audit_log(path: &Path) -> Result<AuditLog> {
    AuditLog::with_jsonl(path)
        .with_context(|| format!("cannot open the audit log {}", path.display()))
}

impl BackendArgs {
    /// `cwd` when given, else [`BackendArgs::default_cwd`].
    pub fn cwd_or_default(&self, cwd: Option<&PathBuf>) -> Result<Option<PathBuf>> {
        match cwd {
            Some(cwd) => Ok(Some(cwd.clone())),
            None => self.default_cwd(),
        }
    }

    /// The Docker network named by `--network NAME`, if any.
    fn named_network(&self) -> Option<String> {
        match self.network.as_deref() {
            Some("none") | Some("") | None => None,
            Some(name) => Some(name.to_string()),
        }
    }

    /// The run's network access: an allowlist when hosts are given.
    pub fn network(&self) -> Result<Network> {
        if !self.hosts.is_empty() {
            return Ok(Network::allowlist(self.hosts.rules()?));
        }
        Ok(match self.network.as_deref() {
            None | Some("none") => Network::None,
            Some(_) => Network::Allowed,
        })
    }

    /// Extra filesystem access for each run (process backend).
    pub fn filesystem(&self) -> FsAccess {
        FsAccess {
            writable: self.write.clone(),
            deny_read: self.deny_read.clone(),
        }
    }

    /// The working directory a run gets when none is given: where the CLI
    /// was started for the process backend, like any command would; the
    /// container backends keep their own default.
    pub fn default_cwd(&self) -> Result<Option<PathBuf>> {
        match self.backend {
            Backend::Process => Ok(Some(
                std::env::current_dir()
                    .context("cannot read the current directory (give --cwd)")?,
            )),
            _ => Ok(None),
        }
    }

    /// Refuses options that belong to another backend.
    fn validate(&self) -> Result<()> {
        self.hosts.rules()?;
        if self.named_network().is_some() && self.backend != Backend::Docker {
            bail!("--network NAME names a Docker network; use --network alone for this backend");
        }
        let process_only = [
            ("--write", !self.write.is_empty()),
            ("--deny-read", !self.deny_read.is_empty()),
            ("--no-write-cwd", self.no_write_cwd),
            ("--isolation", self.isolation != Isolation::Required),
        ];
        if let Some((flag, _)) = process_only.iter().find(|(_, set)| *set) {
            if self.backend != Backend::Process {
                bail!("{flag} is an option of --backend process");
            }
        }
        let kubernetes_only = [
            ("--egress-proxy", self.egress_proxy.is_some()),
            ("--namespace", self.namespace.is_some()),
            ("--runtime-class", self.runtime_class.is_some()),
        ];
        if let Some((flag, _)) = kubernetes_only.iter().find(|(_, set)| *set) {
            if self.backend != Backend::Kubernetes {
                bail!("{flag} is an option of --backend kubernetes");
            }
        }
        let docker_only = [
            ("--runtime", self.runtime.is_some()),
            ("--workspace", self.workspace.is_some()),
            ("--user", self.user.is_some()),
            ("--pull", self.pull),
        ];
        if let Some((flag, _)) = docker_only.iter().find(|(_, set)| *set) {
            if self.backend != Backend::Docker {
                bail!("{flag} is an option of --backend docker");
            }
        }
        Ok(())
    }

    /// Builds the executor these options describe. The policy files (every
    /// layer's) stay read-only for the command (process backend). With
    /// `one_run` (`sandboxcore run`) the process backend is made for a
    /// single run ([`ProcessExecutor::for_one_run`]: its first run is the
    /// trial of the isolation layers, and nothing is prepared for a next
    /// run).
    pub fn executor(
        &self,
        runtime: &tokio::runtime::Runtime,
        policy_files: &[PathBuf],
        one_run: bool,
    ) -> Result<Arc<dyn Executor>> {
        self.validate()?;
        Ok(match self.backend {
            Backend::Process => {
                let mut config = ProcessConfig {
                    isolation: self.isolation,
                    ..ProcessConfig::default()
                };
                config.filesystem.cwd_writable = !self.no_write_cwd;
                for path in policy_files {
                    if let Ok(path) = std::fs::canonicalize(path) {
                        config.filesystem.protected.push(path);
                    }
                }
                let executor = if one_run {
                    let executor = ProcessExecutor::for_one_run(config)?;
                    // The CLI ends after its run: whoever waits for it
                    // need not wait for the kernel's teardown of the run.
                    executor.teardown_after_exit();
                    executor
                } else {
                    ProcessExecutor::new(config)?
                };
                if !executor.skipped_layers().is_empty() {
                    eprintln!(
                        "sandboxcore: isolation best-effort: not applied: {}",
                        executor.skipped_layers().join("; ")
                    );
                }
                Arc::new(executor)
            }
            Backend::Docker => {
                let Some(image) = self.image.clone() else {
                    bail!("--backend docker needs --image IMAGE");
                };
                let mut config = DockerConfig::new(image);
                config.runtime = self.runtime.clone();
                config.network = self.named_network();
                if let Some(ws) = &self.workspace {
                    config.workspace = Some(WorkspaceMount::parse(ws)?);
                }
                if let Some(user) = &self.user {
                    config.user = user.clone();
                }
                if self.pull {
                    config.pull = PullPolicy::IfMissing;
                }
                if config.agent.is_none() {
                    tracing::info!(
                        "no sandboxcore-agent found; running the command as the container's process"
                    );
                }
                Arc::new(runtime.block_on(DockerExecutor::connect(config))?)
            }
            Backend::Kubernetes => {
                if self.image.is_none() {
                    bail!("--backend kubernetes needs --image IMAGE");
                }
                // Checked by core's parser, as the bindings' options are.
                let config = KubernetesOptions {
                    image: self.image.clone(),
                    namespace: self.namespace.clone(),
                    runtime_class: self.runtime_class.clone(),
                    egress_proxy: self.egress_proxy.clone(),
                    ..KubernetesOptions::default()
                }
                .into_config()?;
                Arc::new(runtime.block_on(KubernetesExecutor::infer(config))?)
            }
        })
    }
}

/// Parses `30s`, `500ms`, `2m` or a number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(s).map_err(|e| format!("{e} (examples: 30s, 500ms, 2m)"))
}

/// Parses `512M`, `2GiB` or a number of bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size (examples: 512M, 2G)"))?;
    let shift = match unit
        .trim()
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(format!("unknown unit in `{s}` (use K, M, G or T)")),
    };
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("`{s}` is too large"))
}

fn nonzero<T: PartialEq + Default>(v: T) -> Option<T> {
    (v != T::default()).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("12X").is_err());
        assert!(parse_size("99999999999T").is_err());
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("soon").is_err());
    }
}
