//! `sandboxcore k8s manifests`.

use anyhow::Result;
use clap::{Args, Subcommand};
use std::io::Write;
use std::process::ExitCode;

/// Arguments of `sandboxcore k8s`.
#[derive(Args)]
pub struct K8sArgs {
    #[command(subcommand)]
    command: K8sCommand,
}

#[derive(Subcommand)]
enum K8sCommand {
    /// Print (as YAML documents) what an operator applies once: the
    /// Namespace with Pod Security Admission `restricted`, a ServiceAccount,
    /// a Role and RoleBinding limited to jobs, pods and pods/log, a
    /// default-deny NetworkPolicy, a ResourceQuota and a LimitRange.
    Manifests {
        /// The namespace sandbox Jobs run in.
        #[arg(long, default_value = "sandboxcore")]
        namespace: String,
    },
}

/// Runs the subcommand.
pub fn run(args: K8sArgs) -> Result<ExitCode> {
    match args.command {
        K8sCommand::Manifests { namespace } => {
            let mut out = std::io::stdout().lock();
            for doc in sandboxcore::exec::kubernetes::manifests(&namespace) {
                out.write_all(b"---\n")?;
                out.write_all(serde_yaml_ng::to_string(&doc)?.as_bytes())?;
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
