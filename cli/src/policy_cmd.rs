//! `sandboxcore policy validate|show`.

use crate::policy_source::PolicySource;
use anyhow::Result;
use clap::{Args, Subcommand};
use sandboxcore::policy::{FileFormat, Policy};
use serde::Serialize;
use std::io::{self, Write};
use std::path::PathBuf;
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
    }
}
