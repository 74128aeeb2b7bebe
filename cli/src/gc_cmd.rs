//! `sandboxcore gc`: remove what crashed runs left behind.

use anyhow::Result;
use clap::{Args, ValueEnum};
use sandboxcore::exec::kubernetes::{KubernetesConfig, KubernetesExecutor};
use sandboxcore::exec::{ProcessConfig, ProcessExecutor};
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum)]
enum Backend {
    /// Cgroups and home directories of processes that no longer exist.
    Process,
    /// Managed Jobs that finished or are past their deadline (all with --all).
    Kubernetes,
    /// Managed containers whose process on this host is gone (all but this
    /// process's with --all).
    Docker,
}

/// Arguments of `sandboxcore gc`.
#[derive(Args)]
pub struct GcArgs {
    /// Which backend's leftovers.
    #[arg(long, value_enum, default_value = "process")]
    backend: Backend,
    /// Namespace (kubernetes; default sandboxcore).
    #[arg(long, value_name = "NS")]
    namespace: Option<String>,
    /// Kubernetes and docker: remove every managed Job or container,
    /// running ones too.
    #[arg(long)]
    all: bool,
}

/// Runs the subcommand.
pub fn run(args: GcArgs) -> Result<ExitCode> {
    match args.backend {
        Backend::Process => {
            // Creating the backend removes leftovers of dead processes.
            ProcessExecutor::new(ProcessConfig::default())?;
            println!("removed cgroups and home directories left by processes that no longer exist");
        }
        Backend::Kubernetes => {
            let mut config = KubernetesConfig::new("unused");
            if let Some(ns) = args.namespace {
                config.namespace = ns;
            }
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let n = runtime
                .block_on(async { KubernetesExecutor::infer(config).await?.gc(args.all).await })?;
            println!("deleted {n} Job(s)");
        }
        Backend::Docker => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let n = runtime.block_on(sandboxcore::exec::docker::gc_leftovers(args.all))?;
            println!("removed {n} container(s)");
        }
    }
    Ok(ExitCode::SUCCESS)
}
