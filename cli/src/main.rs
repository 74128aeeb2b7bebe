//! The `sandboxcore` command-line tool.

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::io::{self, BufRead, Write};
use std::process::ExitCode;

mod classify_cmd;

/// Decide whether shell commands an AI agent wants to run are safe.
#[derive(Parser)]
#[command(name = "sandboxcore", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    /// Classify a command line and print the result as JSON.
    ///
    /// Output fields:
    ///   needs_shell  false = bash and dash would both run exactly one program
    ///                with exactly `argv` (run it without a shell); true = a
    ///                shell is needed (or the line cannot run: see parse_error).
    ///   argv         the exact argv when needs_shell is false, else null.
    ///   programs     every program the line runs, seen through wrappers
    ///                (sudo, env, xargs, bash -c, find -exec, $(...)): name,
    ///                argv (when fully static), words (as written), via.
    ///   constructs   shell features used: pipe, and, or, sequence,
    ///                background, redirection, here_doc, command_substitution,
    ///                glob, parameter_expansion, subshell, ...
    ///   read_only    true only when nothing is modified.
    ///   risk         low | medium | high | critical.
    ///   reasons      [{code, risk, message}] behind the risk.
    ///   parse_error  why bash would reject the line, else null.
    #[command(verbatim_doc_comment)]
    Classify(classify_cmd::ClassifyArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Commands::Classify(args) => classify_cmd::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // A closed stdout (`| head`) is not an error worth a message.
            if e.downcast_ref::<io::Error>()
                .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("sandboxcore: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Writes one JSON value and a newline to stdout.
pub(crate) fn print_json(out: &mut impl Write, value: &impl serde::Serialize) -> Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Iterates over stdin lines, keeping invalid UTF-8 lossy rather than failing.
pub(crate) fn stdin_lines() -> impl Iterator<Item = io::Result<String>> {
    io::stdin()
        .lock()
        .split(b'\n')
        .map(|r| r.map(|b| String::from_utf8_lossy(&b).into_owned()))
}
