//! `sandboxcore run`: check the policy, run on a backend, stream the
//! output live and exit with the command's status.

use crate::policy_source::PolicySource;
use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use sandboxcore::audit::AuditLog;
use sandboxcore::exec::docker::{DockerConfig, DockerExecutor, PullPolicy, WorkspaceMount};
use sandboxcore::exec::kubernetes::{KubernetesConfig, KubernetesExecutor};
use sandboxcore::exec::{
    ExecEvent, Executor, FsAccess, Isolation, Limits, Network, ProcessConfig, ProcessExecutor,
};
use sandboxcore::{Decision, Error, RunOptions, Sandbox, Verdict};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// The backends `run` can use.
#[derive(Clone, Copy, ValueEnum)]
enum Backend {
    /// Local processes (see docs/executors.md).
    Process,
    /// A fresh hardened container per command, through the Docker daemon of
    /// DOCKER_HOST or the local socket (see docs/docker.md).
    Docker,
    /// One Kubernetes Job per command (see docs/kubernetes.md); the cluster
    /// comes from KUBECONFIG or the in-cluster config, as for kubectl.
    Kubernetes,
}

/// Arguments of `sandboxcore run`.
#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    source: PolicySource,
    /// Where the command runs.
    #[arg(long, value_enum, default_value = "process")]
    backend: Backend,
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
    /// Wall-clock limit (`30s`, `500ms`, `2m`); 0 for none.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    timeout: Duration,
    /// Memory limit (`512M`, `2G`, bytes); 0 for none.
    #[arg(long, value_name = "SIZE", default_value = "512M", value_parser = parse_size)]
    memory: u64,
    /// Process limit; 0 for none.
    #[arg(long, value_name = "N", default_value_t = 256)]
    processes: u64,
    /// Output kept per stream in the result (the live stream is complete).
    #[arg(long, value_name = "SIZE", default_value = "1M", value_parser = parse_size)]
    output_limit: u64,
    /// Working directory (process backend: default the current directory,
    /// which is writable for the command unless --no-write-cwd; docker and
    /// kubernetes: a path in the container).
    #[arg(long, value_name = "DIR")]
    cwd: Option<PathBuf>,
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
    #[arg(long, value_name = "none|NAME", num_args = 0..=1, default_missing_value = "")]
    network: Option<String>,
    /// Approve commands the policy asks about (verdict `ask`).
    #[arg(long)]
    yes: bool,
    /// Append decisions and executions to this JSON-lines audit file.
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
    /// The command line (quote it, or put it after `--`).
    #[arg(trailing_var_arg = true)]
    command: Vec<String>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(s).map_err(|e| format!("{e} (examples: 30s, 500ms, 2m)"))
}

fn parse_size(s: &str) -> Result<u64, String> {
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

/// The decision's reasons, one per line (notes left out).
fn explain(decision: &Decision) -> String {
    decision
        .reasons
        .iter()
        .filter(|r| r.effect != sandboxcore::policy::Effect::Note)
        .map(|r| format!("  - {} ({})", r.message, r.rule))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs the subcommand.
pub fn run(args: RunArgs) -> Result<ExitCode> {
    if args.command.is_empty() {
        bail!("give a command to run, e.g. sandboxcore run -- 'pytest -q'");
    }
    let command = args.command.join(" ");
    let policy = args.source.load()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let named_network = match args.network.as_deref() {
        Some("none") | Some("") | None => None,
        Some(name) => Some(name.to_string()),
    };
    if named_network.is_some() && !matches!(args.backend, Backend::Docker) {
        bail!("--network NAME names a Docker network; use --network alone for this backend");
    }
    let process_only = [
        ("--write", !args.write.is_empty()),
        ("--deny-read", !args.deny_read.is_empty()),
        ("--no-write-cwd", args.no_write_cwd),
        ("--isolation", args.isolation != Isolation::Required),
    ];
    if let Some((flag, _)) = process_only.iter().find(|(_, set)| *set) {
        if !matches!(args.backend, Backend::Process) {
            bail!("{flag} is an option of --backend process");
        }
    }
    let docker_only = [
        ("--runtime", args.runtime.is_some()),
        ("--workspace", args.workspace.is_some()),
        ("--user", args.user.is_some()),
        ("--pull", args.pull),
    ];
    if let Some((flag, _)) = docker_only.iter().find(|(_, set)| *set) {
        if !matches!(args.backend, Backend::Docker) {
            bail!("{flag} is an option of --backend docker");
        }
    }
    let executor: Arc<dyn Executor> = match args.backend {
        Backend::Process => {
            let mut config = ProcessConfig {
                isolation: args.isolation,
                ..ProcessConfig::default()
            };
            config.filesystem.cwd_writable = !args.no_write_cwd;
            // The policy file itself stays read-only when it lies in a
            // writable directory.
            if let Some(path) = args.source.path() {
                if let Ok(path) = std::fs::canonicalize(path) {
                    config.filesystem.protected.push(path);
                }
            }
            let executor = ProcessExecutor::new(config)?;
            if !executor.skipped_layers().is_empty() {
                eprintln!(
                    "sandboxcore: isolation best-effort: not applied: {}",
                    executor.skipped_layers().join("; ")
                );
            }
            Arc::new(executor)
        }
        Backend::Docker => {
            let Some(image) = args.image.clone() else {
                bail!("--backend docker needs --image IMAGE");
            };
            let mut config = DockerConfig::new(image);
            config.runtime = args.runtime.clone();
            config.network = named_network;
            if let Some(ws) = &args.workspace {
                config.workspace = Some(WorkspaceMount::parse(ws)?);
            }
            if let Some(user) = &args.user {
                config.user = user.clone();
            }
            if args.pull {
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
            let Some(image) = args.image.clone() else {
                bail!("--backend kubernetes needs --image IMAGE");
            };
            let mut config = KubernetesConfig::new(image);
            if let Some(ns) = &args.namespace {
                config.namespace = ns.clone();
            }
            config.runtime_class = args.runtime_class.clone();
            Arc::new(runtime.block_on(KubernetesExecutor::infer(config))?)
        }
    };
    let mut builder = Sandbox::builder().policy(policy).shared_executor(executor);
    if let Some(path) = &args.audit_log {
        builder = builder.audit(
            AuditLog::with_jsonl(path)
                .with_context(|| format!("cannot open the audit log {}", path.display()))?,
        );
    }
    let approve = args.yes;
    builder = builder.approver(move |_: &Decision| approve);
    let sandbox = builder.build()?;
    // The process backend runs where the CLI was started, like any command
    // would; container backends keep their own default.
    let cwd = match (&args.cwd, args.backend) {
        (Some(cwd), _) => Some(cwd.clone()),
        (None, Backend::Process) => Some(
            std::env::current_dir().context("cannot read the current directory (give --cwd)")?,
        ),
        (None, _) => None,
    };
    let options = RunOptions {
        cwd,
        filesystem: FsAccess {
            writable: args.write.clone(),
            deny_read: args.deny_read.clone(),
        },
        limits: Some(Limits {
            timeout: nonzero(args.timeout),
            memory: nonzero(args.memory),
            processes: nonzero(args.processes),
            output_bytes: args.output_limit as usize,
            ..Limits::default()
        }),
        network: match args.network.as_deref() {
            None | Some("none") => Network::None,
            Some(_) => Network::Allowed,
        },
        ..RunOptions::default()
    };
    let decision = sandbox.policy().check(&command);
    if decision.verdict == Verdict::Warn {
        eprintln!("sandboxcore: warning:\n{}", explain(&decision));
    }
    let result = runtime.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        let printer = async {
            let mut out = std::io::stdout();
            let mut err = std::io::stderr();
            while let Some(event) = rx.recv().await {
                // A closed terminal or pipe must not stop the command.
                let _ = match event {
                    ExecEvent::Stdout(b) => out.write_all(&b).and_then(|_| out.flush()),
                    ExecEvent::Stderr(b) => err.write_all(&b).and_then(|_| err.flush()),
                    _ => Ok(()),
                };
            }
        };
        let (result, ()) = tokio::join!(sandbox.run_streaming(&command, options, tx), printer);
        result
    });
    match result {
        Ok(outcome) => {
            if outcome.timed_out {
                eprintln!("sandboxcore: timed out after {:?}", args.timeout);
            }
            if outcome.oom_killed {
                eprintln!("sandboxcore: killed for exceeding the memory limit");
            }
            let code = match (outcome.exit_code, outcome.signal) {
                (Some(c), _) => c,
                (None, Some(s)) => 128 + s,
                (None, None) => 1,
            };
            Ok(ExitCode::from(code.clamp(0, 255) as u8))
        }
        Err(e) => {
            let code = match &e {
                Error::Denied(_) | Error::NotRunnable(_) => crate::check_cmd::EXIT_DENY,
                Error::ApprovalRequired(_) | Error::ApprovalRefused(_) => {
                    crate::check_cmd::EXIT_ASK
                }
                _ => return Err(e.into()),
            };
            eprintln!("sandboxcore: {e}");
            if let Some(d) = e.decision() {
                eprintln!("{}", explain(d));
                if code == crate::check_cmd::EXIT_ASK {
                    eprintln!("sandboxcore: re-run with --yes to approve");
                }
            }
            Ok(ExitCode::from(code))
        }
    }
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
