//! The classifier benches' corpora, read from `tests/data/` (shared by
//! `benches/classify.rs` and `examples/corpus_costs.rs`).
use std::path::Path;

/// The plain commands of `tests/data/plain_commands.txt`, and with `mixed`
/// the commands of the shell and risk corpora after them.
pub fn commands(root: &Path, mixed: bool) -> Vec<String> {
    let text = std::fs::read_to_string(root.join("tests/data/plain_commands.txt"))
        .expect("tests/data/plain_commands.txt");
    let mut cmds: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    if mixed {
        for file in [
            "tests/data/shell_commands.jsonl",
            "tests/data/risk_extra.jsonl",
        ] {
            let text = std::fs::read_to_string(root.join(file)).expect("a corpus file");
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
                cmds.push(v["command"].as_str().expect("a command").to_string());
            }
        }
    }
    cmds
}
