//! `sandboxcore classify`.

use crate::print_json_flush;
use anyhow::{bail, Result};
use clap::Args;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::io::{self, BufWriter, Read, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;
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
struct Request<'a> {
    /// Borrowed from the line unless it holds escapes.
    #[serde(borrow)]
    command: Cow<'a, str>,
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
    // One word is a command line, several an argv (as `run` and `check`).
    let command = crate::command_words::command(&args.command);
    let classification = match &command {
        sandboxcore::Command::Line(line) => sandboxcore::classify(line),
        sandboxcore::Command::Argv(argv) => sandboxcore::classify_argv(argv),
    };
    let command = command.text();
    let response = Response {
        command: &command,
        classification,
    };
    print_json_flush(&mut out, &response, args.pretty)?;
    Ok(ExitCode::SUCCESS)
}

/// Bytes read before they are classified together: large enough that
/// starting the workers is nothing next to the work (a few thousand lines),
/// small enough that output follows input closely.
const BATCH_BYTES: usize = 1 << 20;

/// Bytes of input a worker takes at a time (then the next free piece):
/// small enough that the workers end a batch together.
const PIECE_BYTES: usize = 16 << 10;

/// `--jsonl`: reads JSON lines from `input` and writes one result line per
/// non-blank input line, in input order. Input is read in batches of whole
/// lines; each batch is cut at line ends into pieces that the calling
/// thread and one scoped thread per other core take in turn, each piece
/// classified and serialised into a buffer of its own, and the buffers
/// written in order. Splitting lines, checking their UTF-8 and parsing
/// their JSON happen on the workers: only reading and writing are serial.
fn classify_jsonl(input: impl Read, out: &mut impl Write) -> Result<()> {
    classify_jsonl_in(input, out, BATCH_BYTES, PIECE_BYTES)
}

/// [`classify_jsonl`] with batches of `batch_bytes` and pieces of
/// `piece_bytes` (small ones in tests).
fn classify_jsonl_in(
    mut input: impl Read,
    out: &mut impl Write,
    batch_bytes: usize,
    piece_bytes: usize,
) -> Result<()> {
    let workers = thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let mut batch: Vec<u8> = Vec::with_capacity(batch_bytes + piece_bytes);
    // The start of a line whose end is not read yet, carried to the next batch.
    let mut carried: Vec<u8> = Vec::new();
    let mut at_end = false;
    while !at_end {
        batch.clear();
        batch.append(&mut carried);
        // At least a piece more than what was carried; fewer bytes than
        // asked for means the input has ended.
        let wanted = batch_bytes.max(batch.len() + piece_bytes);
        let room = (wanted - batch.len()) as u64;
        (&mut input).take(room).read_to_end(&mut batch)?;
        at_end = batch.len() < wanted;
        if !at_end {
            // Whole lines only; the rest starts the next batch.
            match batch.iter().rposition(|&b| b == b'\n') {
                Some(i) => carried.extend_from_slice(&batch[i + 1..]),
                // A line longer than the batch: read on until it ends.
                None => {
                    carried.append(&mut batch);
                    continue;
                }
            }
            batch.truncate(batch.len() - carried.len());
        }
        let pieces = pieces(&batch, piece_bytes);
        let next = AtomicUsize::new(0);
        let rendered: Vec<OnceLock<Vec<u8>>> = pieces.iter().map(|_| OnceLock::new()).collect();
        let failed = AtomicBool::new(false);
        let work = || {
            let taken = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(piece) = pieces.get(i) else { return };
                let _ = rendered[i].set(render_lines(piece));
            }));
            if taken.is_err() {
                failed.store(true, Ordering::Relaxed);
            }
        };
        thread::scope(|scope| {
            for _ in 1..workers.min(pieces.len()) {
                scope.spawn(work);
            }
            work();
        });
        if failed.into_inner() {
            bail!("classifying a batch of lines panicked");
        }
        // Every piece was rendered (no worker panicked).
        for buffer in rendered.into_iter().flat_map(OnceLock::into_inner) {
            out.write_all(&buffer)?;
        }
    }
    Ok(())
}

/// `text` cut into pieces of about `size` bytes, each ending at a line end
/// (or at the end of `text`).
fn pieces(text: &[u8], size: usize) -> Vec<&[u8]> {
    let mut pieces = Vec::with_capacity(text.len() / size + 1);
    let mut rest = text;
    while !rest.is_empty() {
        let cut = match rest.get(size..) {
            None => rest.len(),
            Some(after) => after
                .iter()
                .position(|&b| b == b'\n')
                .map_or(rest.len(), |i| size + i + 1),
        };
        let (piece, tail) = rest.split_at(cut);
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

/// One result line per non-blank line of `text`, into one buffer (a line
/// that is not UTF-8 is read with U+FFFD for its bad bytes).
fn render_lines(text: &[u8]) -> Vec<u8> {
    let mut buffer = Vec::with_capacity(text.len() * 8);
    for raw in text.split(|&b| b == b'\n') {
        let line = String::from_utf8_lossy(raw);
        if !line.trim().is_empty() {
            render_line(&line, &mut buffer);
        }
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
            // Serialising a string into a Vec cannot fail (no I/O).
            serde_json::to_writer(&mut *buffer, &req.command).expect("a string serialises");
            // The classification's object, its `{` made a `,`.
            let start = buffer.len();
            classification.write_json(buffer);
            buffer[start] = b',';
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
        let commands: Vec<String> = (0..3_017)
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
        // Batches and pieces far smaller than the input, and than some
        // lines, give the same output.
        for (batch, piece) in [(4096, 512), (100, 7), (1, 1)] {
            let mut small = Vec::new();
            classify_jsonl_in(input.as_bytes(), &mut small, batch, piece).unwrap();
            assert!(small == out, "batches of {batch} bytes, pieces of {piece}");
        }
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
