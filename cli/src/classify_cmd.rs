//! `sandboxcore classify`.

use crate::print_json_flush;
use anyhow::{anyhow, bail, Result};
use clap::Args;
use serde::{Deserialize, Serialize};
use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;
use std::thread;

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
        classify_jsonl(io::stdin().lock(), &mut out)?;
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

/// Lines read before they are classified together: large enough that
/// starting the workers is nothing next to the work, small enough that
/// output follows input closely.
const BATCH_LINES: usize = 4096;

/// `--jsonl`: reads JSON lines from `input` and writes one result line per
/// non-blank input line, in input order. Each batch of lines is split
/// among the machine's cores (scoped threads), each part classified and
/// serialised into a buffer of its own, and the buffers written in order.
fn classify_jsonl(mut input: impl BufRead, out: &mut impl Write) -> Result<()> {
    let workers = thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let mut batch: Vec<String> = Vec::with_capacity(BATCH_LINES);
    let mut raw = Vec::new();
    loop {
        batch.clear();
        while batch.len() < BATCH_LINES {
            raw.clear();
            if input.read_until(b'\n', &mut raw)? == 0 {
                break;
            }
            let line = String::from_utf8_lossy(&raw);
            if !line.trim().is_empty() {
                batch.push(line.into_owned());
            }
        }
        if batch.is_empty() {
            return Ok(());
        }
        let part = batch.len().div_ceil(workers);
        let rendered: Vec<Vec<u8>> = thread::scope(|scope| {
            let handles: Vec<_> = batch
                .chunks(part)
                .map(|lines| scope.spawn(move || render_lines(lines)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .map_err(|_| anyhow!("classifying a batch of lines panicked"))
                })
                .collect::<Result<_>>()
        })?;
        for buffer in &rendered {
            out.write_all(buffer)?;
        }
    }
}

/// One result line per input line, into one buffer.
fn render_lines(lines: &[String]) -> Vec<u8> {
    let mut buffer = Vec::with_capacity(lines.len() * 512);
    for line in lines {
        render_line(line, &mut buffer);
    }
    buffer
}

/// `{"command": ..., <the classification's fields>}` or `{"error": ...}`,
/// then a newline. Written as the command field followed by the
/// classification's own object (without its opening brace), which is what
/// `#[serde(flatten)]` of [`Response`] gives, without flatten's detour
/// through an intermediate map.
fn render_line(line: &str, buffer: &mut Vec<u8>) {
    match serde_json::from_str::<Request>(line) {
        Ok(req) => {
            let classification = sandboxcore::classify(&req.command);
            buffer.extend_from_slice(b"{\"command\":");
            // Serialising a string or a Classification into a Vec cannot
            // fail (no I/O; every key is a string).
            serde_json::to_writer(&mut *buffer, &req.command).expect("a string serialises");
            let start = buffer.len();
            serde_json::to_writer(&mut *buffer, &classification)
                .expect("a classification serialises");
            if buffer.len() - start > 2 {
                // `{...}` → `,...}`
                buffer[start] = b',';
            } else {
                // `{}`: nothing to add after the command.
                buffer.truncate(start);
                buffer.push(b'}');
            }
        }
        Err(e) => {
            serde_json::to_writer(
                &mut *buffer,
                &LineError {
                    error: format!("invalid input line: {e}"),
                },
            )
            .expect("an error message serialises");
        }
    }
    buffer.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the single-command form writes for a command, as a JSON value.
    fn flattened(command: &str) -> serde_json::Value {
        serde_json::to_value(Response {
            command,
            classification: sandboxcore::classify(command),
        })
        .unwrap()
    }

    #[test]
    fn jsonl_output_is_the_flattened_response_in_input_order() {
        let commands: Vec<String> = (0..BATCH_LINES * 2 + 17)
            .map(|i| match i % 4 {
                0 => format!("ls -la dir{i}"),
                1 => format!("echo {i} | wc -c"),
                2 => format!("rm -rf /tmp/x{i}"),
                _ => format!("git log -n {i}"),
            })
            .collect();
        let mut input = String::new();
        for (i, c) in commands.iter().enumerate() {
            input.push_str(&serde_json::json!({ "command": c }).to_string());
            input.push('\n');
            if i % 100 == 0 {
                input.push_str("   \n"); // blank lines are skipped
            }
        }
        input.push_str("not json\n");
        let mut out = Vec::new();
        classify_jsonl(input.as_bytes(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), commands.len() + 1);
        for (line, command) in lines.iter().zip(&commands) {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(value, flattened(command), "{command}");
            // The command is the first key, as with flatten.
            assert!(line.starts_with("{\"command\":"), "{line}");
            // The predicted effects are there, as in the single-command form.
            let effects = value["effects"].as_array().unwrap();
            if command.starts_with("rm ") {
                assert_eq!(effects[0]["path"], command["rm -rf ".len()..], "{line}");
                assert_eq!(effects[0]["effect"], "delete", "{line}");
            } else {
                assert!(effects.is_empty(), "{line}");
            }
        }
        let last: serde_json::Value = serde_json::from_str(lines[commands.len()]).unwrap();
        assert!(last["error"]
            .as_str()
            .unwrap()
            .starts_with("invalid input line"));
    }

    #[test]
    fn a_missing_final_newline_and_invalid_utf8_are_read() {
        let input = b"{\"command\": \"ls\"}\n{\"command\": \"echo \xff\"}".to_vec();
        let mut out = Vec::new();
        classify_jsonl(&input[..], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(text.lines().next().unwrap()).unwrap(),
            flattened("ls")
        );
    }
}
