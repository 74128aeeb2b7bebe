//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Reads a `tests/data` file.
pub fn data(name: &str) -> String {
    let path = root().join("tests/data").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Non-empty, non-comment lines of a text corpus.
pub fn lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// `{"command": ...}` objects of a JSON-lines corpus, with the whole object.
pub fn jsonl(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l}: {e}")))
        .collect()
}

/// The plain commands corpus.
pub fn plain_commands() -> Vec<String> {
    lines(&data("plain_commands.txt"))
}

/// The commands that need a shell.
pub fn shell_commands() -> Vec<String> {
    jsonl(&data("shell_commands.jsonl"))
        .iter()
        .map(|v| v["command"].as_str().expect("command").to_string())
        .collect()
}
