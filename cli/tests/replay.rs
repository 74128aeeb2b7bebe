//! `sandboxcore policy replay` on an audit log recorded by the CLI itself:
//! a few hundred commands decided under a `warn` policy (`check
//! --audit-log`), two of them really run (`run --audit-log`), replayed
//! under the same policy switched to `enforce`.

use sandboxcore::policy::Policy;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sandboxcore"));
    c.env_remove("SANDBOXCORE_POLICY");
    for (k, _) in std::env::vars() {
        if k.starts_with("SANDBOXCORE_") || k.starts_with("CODEFRAME_") {
            c.env_remove(k);
        }
    }
    c
}

const RULES: &str = "mode: selfhosted\nblocked_patterns: [\"rm -rf\", \"curl http://\"]\ndenied_commands: [shutdown]\nrisk_threshold: high\n";

/// The commands of the repository's corpora (plain commands and risky ones).
fn corpus() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut commands: Vec<String> =
        std::fs::read_to_string(root.join("tests/data/plain_commands.txt"))
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect();
    for line in std::fs::read_to_string(root.join("tests/data/risk.jsonl"))
        .unwrap()
        .lines()
    {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        commands.push(v["command"].as_str().unwrap().to_string());
    }
    commands.extend(["rm -rf build".to_string(), "shutdown -h now".to_string()]);
    commands
}

fn replay(policy: &Path, log: &Path, format: &str) -> Output {
    bin()
        .args(["policy", "replay", "--policy"])
        .arg(policy)
        .args(["--format", format])
        .arg(log)
        .output()
        .unwrap()
}

#[test]
fn warn_to_enforce_over_a_recorded_log() {
    let dir = tempfile::tempdir().unwrap();
    let warn = dir.path().join("warn.yml");
    let enforce = dir.path().join("enforce.yml");
    std::fs::write(&warn, format!("enforcement: warn\n{RULES}")).unwrap();
    std::fs::write(&enforce, format!("enforcement: enforce\n{RULES}")).unwrap();
    let log = dir.path().join("audit.jsonl");

    let commands = corpus();
    assert!(commands.len() >= 200, "{}", commands.len());
    for c in &commands {
        let out = bin()
            .args(["check", "--policy"])
            .arg(&warn)
            .arg("--audit-log")
            .arg(&log)
            .args(["--", c])
            .output()
            .unwrap();
        assert!(out.status.code().is_some(), "{c}");
    }
    // Two commands really run under warn: one the enforcing policy denies.
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    for c in ["rm -rf build", "ls"] {
        let out = bin()
            .args(["run", "--policy"])
            .arg(&warn)
            .arg("--audit-log")
            .arg(&log)
            .arg("--cwd")
            .arg(&work)
            .args(["--", c])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{c}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // What the transitions must be: each logged command decided by both
    // policies through the library.
    let (pw, pe) = (
        Policy::from_yaml_str(&format!("enforcement: warn\n{RULES}")).unwrap(),
        Policy::from_yaml_str(&format!("enforcement: enforce\n{RULES}")).unwrap(),
    );
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for c in commands
        .iter()
        .map(String::as_str)
        .chain(["rm -rf build", "ls"])
    {
        let (old, new) = (pw.check(c).verdict, pe.check(c).verdict);
        if old != new {
            *expected.entry(format!("{old} -> {new}")).or_default() += 1;
        }
    }
    assert!(
        expected.get("warn -> deny").copied().unwrap_or(0) >= 20,
        "{expected:?}"
    );

    let out = replay(&enforce, &log, "json");
    // A command that ran (rm -rf build) is now denied: exit 1.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["decisions"], commands.len() + 2);
    let got: BTreeMap<String, usize> =
        serde_json::from_value(report["transitions"].clone()).unwrap();
    assert_eq!(got, expected);
    let changed = report["changed"].as_array().unwrap();
    assert_eq!(changed.len(), expected.values().sum::<usize>());
    let ran_denied: Vec<&str> = changed
        .iter()
        .filter(|c| c["ran"] == true && c["new"] == "deny")
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    assert_eq!(ran_denied, ["rm -rf build"]);
    let rm = changed.iter().find(|c| c["ran"] == true).unwrap();
    assert_eq!(rm["rule"], "blocked_patterns[0]: rm -rf");
    assert!(!changed.iter().any(|c| c["command"] == "ls"));

    let text = replay(&enforce, &log, "text");
    assert_eq!(text.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains("warn -> deny [ran]  rm -rf build  (blocked_patterns[0]: rm -rf)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{} decisions replayed", commands.len() + 2)),
        "{stdout}"
    );
    assert!(
        String::from_utf8_lossy(&text.stderr).contains("1 command(s) that ran would now be denied")
    );

    // The policy the log was made under changes nothing: exit 0.
    let same = replay(&warn, &log, "text");
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stdout)
    );
    assert!(String::from_utf8_lossy(&same.stdout).contains("0 would change"));
}

#[test]
fn a_bad_log_is_an_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    std::fs::write(
        &log,
        "{\"event\":\"decision\",\"command\":\"ls\",\"verdict\":\"allow\"}\n{oops\n",
    )
    .unwrap();
    let out = bin()
        .args(["policy", "replay", "--mode", "selfhosted"])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2: not an audit record"), "{err}");
    let out = bin()
        .args([
            "policy",
            "replay",
            "--mode",
            "selfhosted",
            "/nonexistent/audit.jsonl",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/audit.jsonl"));
}
