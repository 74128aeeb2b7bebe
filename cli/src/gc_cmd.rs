//! `sandboxcore gc`: remove what crashed runs left behind.

use anyhow::Result;
use clap::{Args, ValueEnum};
use sandboxcore::exec::docker::DockerExecutor;
use sandboxcore::exec::kubernetes::KubernetesExecutor;
use sandboxcore::exec::{Executor, ProcessConfig, ProcessExecutor};
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum)]
enum Backend {
    /// Cgroups and home directories of processes that no longer exist.
    Process,
    /// Managed Jobs that finished or are past their deadline (all with --all).
    Kubernetes,
    /// Managed containers and egress directories whose process on this host
    /// is gone (all containers but this process's with --all).
    Docker,
}

/// Arguments of `sandboxcore gc`.
#[derive(Args)]
pub struct GcArgs {
    /// Which backend's leftovers.
    #[arg(long, value_enum, default_value = "process")]
    backend: Backend,
    /// Namespace (kubernetes; default sandboxcore).
    #[arg(long, value_name = "NS", value_parser = crate::k8s_cmd::namespace_arg)]
    namespace: Option<String>,
    /// Kubernetes and docker: remove every managed Job or container,
    /// running ones too.
    #[arg(long)]
    all: bool,
}

/// Runs the subcommand: the backend's clean-up ([`Executor::reap`], or
/// `reap_all` with `--all`), waited for before the process exits.
pub fn run(args: GcArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(async {
        Ok::<_, sandboxcore::Error>(match args.backend {
            Backend::Process => {
                ProcessExecutor::for_gc(ProcessConfig::default())
                    .reap()
                    .await?
            }
            Backend::Kubernetes => {
                let ns = args.namespace.unwrap_or_else(|| "sandboxcore".into());
                let executor = KubernetesExecutor::for_gc(ns).await?;
                if args.all {
                    executor.reap_all().await?
                } else {
                    executor.reap().await?
                }
            }
            Backend::Docker => {
                let executor = DockerExecutor::for_gc().await?;
                if args.all {
                    executor.reap_all().await?
                } else {
                    executor.reap().await?
                }
            }
        })
    })?;
    println!("removed {report}");
    for leftover in &report.removed {
        println!("  {}: {}", leftover.kind.as_str(), leftover.name);
    }
    Ok(ExitCode::SUCCESS)
}
