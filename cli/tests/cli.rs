//! Runs the real `sandboxcore` binary.

use std::io::Write;
use std::process::{Command, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sandboxcore"))
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(bytes)))
}

#[test]
fn classify_prints_json() {
    let out = bin()
        .args(["classify", "--", r#"git commit -m "fix: a; b""#])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v = json(&out.stdout);
    assert_eq!(v["needs_shell"], false);
    assert_eq!(
        v["argv"],
        serde_json::json!(["git", "commit", "-m", "fix: a; b"])
    );
    assert_eq!(v["command"], r#"git commit -m "fix: a; b""#);
    assert_eq!(v["risk"], "low");
}

#[test]
fn classify_jsonl_keeps_order_and_reports_bad_lines() {
    let mut child = bin()
        .args(["classify", "--jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            b"{\"command\": \"ls -la\"}\nnot json\n{\"command\": \"rm -rf /\"}\n{\"cmd\": 1}\n",
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = out
        .stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(json)
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["command"], "ls -la");
    assert_eq!(lines[0]["read_only"], true);
    assert!(lines[1]["error"]
        .as_str()
        .unwrap()
        .contains("invalid input line"));
    assert_eq!(lines[2]["risk"], "critical");
    assert!(lines[3]["error"].is_string());
}

#[test]
fn help_explains_fields() {
    let out = bin().args(["classify", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for field in [
        "needs_shell",
        "argv",
        "programs",
        "constructs",
        "read_only",
        "risk",
        "reasons",
        "parse_error",
    ] {
        assert!(text.contains(field), "--help lacks {field}");
    }
}

#[test]
fn missing_command_is_a_usage_error() {
    let out = bin().arg("classify").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("give a command"));
}
