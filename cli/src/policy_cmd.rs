//! `sandboxcore policy validate|show|replay`.

use crate::policy_source::PolicySource;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use sandboxcore::policy::{FileFormat, Policy};
use serde::Serialize;
use std::fs::File;
use std::io::{self, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `sandboxcore policy`.
#[derive(Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    command: PolicyCommand,
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Check a policy file: exit 0 and name its format when it is valid;
    /// otherwise print where it is wrong (file:line:column) and exit 1.
    Validate {
        /// The policy file.
        file: PathBuf,
    },
    /// Print the effective policy (mode defaults, then the file, then the
    /// SANDBOXCORE_*/CODEFRAME_* environment, then --mode) as JSON.
    Show {
        #[command(flatten)]
        source: PolicySource,
    },
    /// Decide every command of an audit log (the JSON lines `--audit-log`
    /// writes) again under a policy and print each one whose verdict would
    /// change (old -> new, with the rule), then the count of each
    /// transition. Exit 1 when a command that ran would now be denied, so
    /// CI can gate a switch from warn to enforce.
    Replay {
        #[command(flatten)]
        source: PolicySource,
        /// The audit log (JSON lines); `-` for standard input.
        log: PathBuf,
        /// `text` (default) or `json`.
        #[arg(long, value_enum, default_value_t = ReplayFormat::Text)]
        format: ReplayFormat,
    },
}

/// How `policy replay` prints its report.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ReplayFormat {
    Text,
    Json,
}

#[derive(Serialize)]
struct Shown<'a> {
    file: Option<String>,
    #[serde(flatten)]
    settings: &'a sandboxcore::policy::PolicySettings,
}

/// Runs the subcommand.
pub fn run(args: PolicyArgs) -> Result<ExitCode> {
    match args.command {
        PolicyCommand::Validate { file } => {
            let checked = Policy::read_layer(&file).and_then(|(f, layer)| {
                Policy::from_layers(&[&layer])?;
                Ok((f, layer.examples.map_or(0, |e| e.iter().count())))
            });
            match checked {
                Ok((format, examples)) => {
                    let name = match format {
                        FileFormat::Native => "sandboxcore",
                        FileFormat::CodeframeConfig => "CodeFRAME config/security.yml",
                        FileFormat::CodeframePolicy => "CodeFRAME .codeframe/security-policy.yml",
                    };
                    let held = match examples {
                        0 => String::new(),
                        1 => ", its 1 example holds".to_string(),
                        n => format!(", its {n} examples hold"),
                    };
                    println!("{}: valid ({name} format{held})", file.display());
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        PolicyCommand::Show { source } => {
            let policy = source.load()?;
            let shown = Shown {
                file: source.path().map(|p| p.display().to_string()),
                settings: policy.settings(),
            };
            let mut out = io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &shown)?;
            out.write_all(b"\n")?;
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Replay {
            source,
            log,
            format,
        } => replay(&source.load()?, &log, format),
    }
}

fn replay(policy: &Policy, log: &Path, format: ReplayFormat) -> Result<ExitCode> {
    let report = if log == Path::new("-") {
        sandboxcore::policy::replay::replay(policy, io::stdin().lock())
    } else {
        let file = File::open(log).with_context(|| format!("cannot read {}", log.display()))?;
        sandboxcore::policy::replay::replay(policy, BufReader::new(file))
    }
    .with_context(|| log.display().to_string())?;
    let mut out = io::stdout().lock();
    match format {
        ReplayFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            out.write_all(b"\n")?;
        }
        ReplayFormat::Text => {
            for c in &report.changed {
                let rule = c
                    .rule
                    .as_deref()
                    .map(|r| format!("  ({r})"))
                    .unwrap_or_default();
                let ran = if c.ran { " [ran]" } else { "" };
                writeln!(out, "{} -> {}{ran}  {}{rule}", c.old, c.new, c.command)?;
            }
            writeln!(
                out,
                "{} decisions replayed, {} would change",
                report.decisions,
                report.changed.len()
            )?;
            for (transition, n) in &report.transitions {
                writeln!(out, "  {transition}: {n}")?;
            }
        }
    }
    out.flush()?;
    let stopped = report.ran_now_denied().count();
    if stopped > 0 {
        eprintln!("{stopped} command(s) that ran would now be denied");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
