//! `sandboxcore classify`.

use crate::{print_json, print_json_flush, stdin_lines};
use anyhow::{bail, Result};
use clap::Args;
use serde::{Deserialize, Serialize};
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

/// Arguments of `sandboxcore classify`.
#[derive(Args)]
pub struct ClassifyArgs {
    /// Read JSON lines `{"command": "..."}` from stdin and write one JSON
    /// result per line, in order; a bad line yields `{"error": "..."}`.
    #[arg(long)]
    jsonl: bool,
    /// Pretty-print the JSON (single command only).
    #[arg(long)]
    pretty: bool,
    /// The command line to classify (quote it, or put it after `--`).
    #[arg(trailing_var_arg = true)]
    command: Vec<String>,
}

#[derive(Deserialize)]
struct Request {
    command: String,
}

#[derive(Serialize)]
struct Response<'a> {
    command: &'a str,
    #[serde(flatten)]
    classification: sandboxcore::Classification,
}

#[derive(Serialize)]
struct LineError {
    error: String,
}

/// Runs the subcommand.
pub fn run(args: ClassifyArgs) -> Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if args.jsonl {
        if !args.command.is_empty() {
            bail!("--jsonl reads commands from stdin; do not also give one as an argument");
        }
        for line in stdin_lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Request>(&line) {
                Ok(req) => print_json(
                    &mut out,
                    &Response {
                        command: &req.command,
                        classification: sandboxcore::classify(&req.command),
                    },
                )?,
                Err(e) => print_json(
                    &mut out,
                    &LineError {
                        error: format!("invalid input line: {e}"),
                    },
                )?,
            }
        }
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.command.is_empty() {
        bail!("give a command to classify, e.g. sandboxcore classify -- 'ls -la'");
    }
    // Several words after `--` are one command line joined by spaces, as a
    // shell would receive them.
    let command = args.command.join(" ");
    let response = Response {
        command: &command,
        classification: sandboxcore::classify(&command),
    };
    print_json_flush(&mut out, &response, args.pretty)?;
    Ok(ExitCode::SUCCESS)
}
