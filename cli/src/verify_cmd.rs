//! `sandboxcore verify`: prove each isolation layer of a backend from
//! inside real runs and print the checklist (exit 1 on any failure).

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use sandboxcore::exec::docker::{DockerConfig, DockerExecutor};
use sandboxcore::exec::{Executor, Isolation, ProcessConfig, ProcessExecutor};
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum)]
enum Backend {
    /// The embedded process backend.
    Process,
    /// A container per check, through the Docker daemon.
    Docker,
}

/// Arguments of `sandboxcore verify`.
#[derive(Args)]
pub struct VerifyArgs {
    /// Which backend to verify.
    #[arg(long, value_enum, default_value = "process")]
    backend: Backend,
    /// Container image (docker backend; it needs sh, grep, awk and
    /// coreutils-like tools, as busybox has).
    #[arg(long, value_name = "IMAGE")]
    image: Option<String>,
    /// OCI runtime, e.g. runsc (docker backend).
    #[arg(long, value_name = "NAME")]
    runtime: Option<String>,
    /// Isolation mode of the process backend.
    #[arg(long, value_name = "MODE", default_value = "required")]
    isolation: Isolation,
}

/// Runs the subcommand.
pub fn run(args: VerifyArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let executor: Box<dyn Executor> = match args.backend {
        Backend::Process => Box::new(ProcessExecutor::new(ProcessConfig {
            isolation: args.isolation,
            ..ProcessConfig::default()
        })?),
        Backend::Docker => {
            let Some(image) = args.image else {
                bail!("--backend docker needs --image IMAGE");
            };
            let mut config = DockerConfig::new(image);
            config.runtime = args.runtime;
            Box::new(runtime.block_on(DockerExecutor::connect(config))?)
        }
    };
    let checks = runtime.block_on(sandboxcore::verify::verify(executor.as_ref()));
    print!("{}", sandboxcore::verify::table(&checks));
    Ok(if checks.iter().all(|c| c.passed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
