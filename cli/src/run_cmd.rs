//! `sandboxcore run`: check the policy, run on a backend, stream the
//! output live and exit with the command's status.

use crate::backend_args::{self, BackendArgs, LimitArgs};
use crate::policy_source::PolicySource;
use anyhow::{bail, Result};
use clap::Args;
use sandboxcore::exec::ExecEvent;
use sandboxcore::{Decision, RunOptions, Verdict};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `sandboxcore run`.
#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    source: PolicySource,
    #[command(flatten)]
    backend: BackendArgs,
    #[command(flatten)]
    limits: LimitArgs,
    /// Working directory (process backend: default the current directory,
    /// which is writable for the command unless --no-write-cwd; docker and
    /// kubernetes: a path in the container).
    #[arg(long, value_name = "DIR")]
    cwd: Option<PathBuf>,
    /// Approve commands the policy asks about (verdict `ask`) once.
    /// Without it they are asked about on the terminal with the rule an
    /// approval would add: `[o]nce / [s]ession / [p]ersist / [N]o`
    /// (persist writes the rule into the policy file), and refused when
    /// stdin is not a terminal. Connections to hosts a `require_approval`
    /// pattern names are asked about on the terminal
    /// (`allow a connection to HOST:PORT (RULE)? [y/N]`).
    #[arg(long)]
    yes: bool,
    /// Append decisions and executions to this JSON-lines audit file.
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
    /// The command: one word is a command line, parsed as a shell would
    /// (`-- 'pytest -q && ruff .'`); several are an argv, run exactly as
    /// given with no shell (`-- sh -c 'ls -l'`).
    #[arg(trailing_var_arg = true)]
    command: Vec<String>,
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
    let command = crate::command_words::command(&args.command);
    let runtime = backend_args::run_runtime(args.backend.backend)?;
    let mut builder = backend_args::sandbox_builder(
        &args.source,
        &args.backend,
        args.audit_log.as_deref(),
        &runtime,
        true,
    )?
    .approver(crate::prompt::TerminalApprover::new(args.yes));
    // `persist` answers are written into the policy file in use.
    if let Some(path) = args.source.persist_path()? {
        builder = builder.policy_file(path);
    }
    let sandbox = builder.build()?;
    let cwd = args.backend.cwd_or_default(args.cwd.as_ref())?;
    let options = RunOptions {
        cwd,
        filesystem: args.backend.filesystem(),
        limits: Some(args.limits.limits()),
        network: args.backend.network()?,
        ..RunOptions::default()
    };
    let decision = sandbox.policy().check_command(&command);
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
        let (result, ()) =
            tokio::join!(sandbox.run_command_streaming(command, options, tx), printer);
        result
    });
    match result {
        Ok(outcome) => {
            if outcome.timed_out {
                eprintln!("sandboxcore: timed out after {:?}", args.limits.timeout);
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
            let code = match e.code() {
                sandboxcore::ErrorCode::PolicyDenied => crate::check_cmd::EXIT_DENY,
                sandboxcore::ErrorCode::ApprovalRequired => crate::check_cmd::EXIT_ASK,
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
