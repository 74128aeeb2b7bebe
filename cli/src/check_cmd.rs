//! `sandboxcore check`.

use crate::policy_source::PolicySource;
use crate::print_json_flush;
use anyhow::{bail, Result};
use clap::Args;
use sandboxcore::audit::{AuditLog, AuditRecord};
use sandboxcore::Verdict;
use serde::Serialize;
use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status for `ask`.
pub const EXIT_ASK: u8 = 3;
/// Exit status for `deny`.
pub const EXIT_DENY: u8 = 4;

/// Arguments of `sandboxcore check`.
#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    source: PolicySource,
    /// Append the decision to this JSON-lines audit file.
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
    /// Pretty-print the JSON.
    #[arg(long)]
    pretty: bool,
    /// The command to check: one word is a command line, parsed as a
    /// shell would (`-- 'pytest tests/'`); several are an argv, judged as
    /// given with no shell.
    #[arg(trailing_var_arg = true)]
    command: Vec<String>,
}

#[derive(Serialize)]
struct Output<'a> {
    command: &'a str,
    #[serde(flatten)]
    decision: &'a sandboxcore::Decision,
}

/// Runs the subcommand: prints the decision; exit status 0 for allow and
/// warn, 3 for ask, 4 for deny.
pub fn run(args: CheckArgs) -> Result<ExitCode> {
    if args.command.is_empty() {
        bail!("give a command to check, e.g. sandboxcore check -- 'pytest tests/'");
    }
    let policy = args.source.load()?;
    let command = crate::command_words::command(&args.command);
    let decision = policy.check_command(&command);
    let command = command.text();
    if let Some(path) = &args.audit_log {
        AuditLog::with_jsonl(path)?.record(&AuditRecord::decision(&command, &decision))?;
    }
    let mut out = io::stdout().lock();
    let output = Output {
        command: &command,
        decision: &decision,
    };
    print_json_flush(&mut out, &output, args.pretty)?;
    Ok(match decision.verdict {
        Verdict::Allow | Verdict::Warn => ExitCode::SUCCESS,
        Verdict::Ask => ExitCode::from(EXIT_ASK),
        Verdict::Deny => ExitCode::from(EXIT_DENY),
    })
}
