//! Differential test of the soundness promise: for every command classified
//! `needs_shell == false`, real bash and real dash must run exactly one
//! program with exactly the reported argv.
//!
//! Commands run with `PATH` set to a directory holding only a probe script,
//! linked under the command's name, that records the argv it receives. They
//! run in several environments (different `HOME`, `IFS`, variables) in a
//! directory whose files match common globs. Only commands whose name has no
//! `/` are run, so nothing but the probe can ever execute. Builtins that the
//! classifier allows (`echo`, `printf`, `true`, `false`) are compared by
//! output and exit status with the external program instead.

mod common;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sandboxcore::classify;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PROBE: &str = r#"#!/bin/sh
{ printf '%s\0' "${0##*/}" "$#"; for a in "$@"; do printf '%s\0' "$a"; done; } >> "$PROBE_OUT"
"#;

struct Lab {
    _dir: tempfile::TempDir,
    bin: PathBuf,
    probe: PathBuf,
    work: PathBuf,
    out: PathBuf,
    homes: Vec<PathBuf>,
}

impl Lab {
    fn new() -> Lab {
        let dir = tempfile::tempdir().expect("tempdir");
        let bin = dir.path().join("bin");
        let work = dir.path().join("work dir");
        fs::create_dir_all(&bin).unwrap();
        fs::create_dir_all(&work).unwrap();
        let probe = dir.path().join("probe");
        fs::write(&probe, PROBE).unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&probe, fs::Permissions::from_mode(0o755)).unwrap();
        for f in ["a.py", "b.py", "x", "-rf", "{a,b}", "~", "a b", "c.txt"] {
            fs::write(work.join(f), "").unwrap();
        }
        let homes = vec![dir.path().join("home"), dir.path().join("h o m e")];
        for h in &homes {
            fs::create_dir_all(h).unwrap();
        }
        Lab {
            out: dir.path().join("out"),
            _dir: dir,
            bin,
            probe,
            work,
            homes,
        }
    }

    /// Runs `cmd` under `shell` in environment `env_no`; returns the argv
    /// lists the probe recorded, or the shell's stdout and status.
    fn run(&self, shell: &str, cmd: &str, env_no: usize) -> (Vec<Vec<String>>, Vec<u8>, i32) {
        let _ = fs::remove_file(&self.out);
        let mut c = Command::new(external_path(shell));
        c.arg("-c")
            .arg(cmd)
            .env_clear()
            .env("PATH", &self.bin)
            .env("PROBE_OUT", &self.out)
            .env("HOME", &self.homes[env_no % self.homes.len()])
            .current_dir(&self.work)
            .stdin(Stdio::null())
            .stderr(Stdio::null());
        if env_no == 1 {
            c.env("IFS", ":/-")
                .env("X", "a b")
                .env("HOMEDIR", "/")
                .env("POSIXLY_CORRECT", "1");
        }
        let output = c.output().expect("run shell");
        let raw = fs::read(&self.out).unwrap_or_default();
        let mut fields = raw
            .split(|&b| b == 0)
            .map(|f| String::from_utf8_lossy(f).into_owned());
        let mut records = Vec::new();
        while let Some(name) = fields.next() {
            if name.is_empty() {
                break;
            }
            let n: usize = fields.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            let mut argv = vec![name];
            argv.extend(fields.by_ref().take(n));
            records.push(argv);
        }
        (records, output.stdout, output.status.code().unwrap_or(-1))
    }

    /// Checks one command; returns an error description when an answer of
    /// the classifier is unsound. Returns Ok(true) only when the command was
    /// run in both shells and compared; Ok(false) when it was not (it needs
    /// a shell, or its program is a path this test will not execute).
    fn check(&self, cmd: &str) -> Result<bool, String> {
        let c = classify(cmd);
        let Some(argv) = c.argv().map(<[String]>::to_vec) else {
            return Ok(false);
        };
        let name = &argv[0];
        if name.contains('/') || name == "." || name == ".." {
            return Ok(false); // not executed: it could name a real program
        }
        let builtin = matches!(name.as_str(), "echo" | "printf" | "true" | "false");
        if !builtin {
            let link = self.bin.join(name);
            if !link.exists() {
                symlink(&self.probe, &link).map_err(|e| format!("{name}: {e}"))?;
            }
        }
        for shell in ["bash", "dash"] {
            for env_no in 0..2 {
                let (records, stdout, status) = self.run(shell, cmd, env_no);
                if builtin {
                    let external = external_path(name);
                    let want = Command::new(&external)
                        .args(&argv[1..])
                        .env_clear()
                        .env("POSIXLY_CORRECT", "1")
                        .stdin(Stdio::null())
                        .output()
                        .map_err(|e| format!("{external:?}: {e}"))?;
                    if want.stdout != stdout || want.status.code().unwrap_or(-1) != status {
                        return Err(format!(
                            "{shell} env{env_no}: {cmd:?}: builtin output {:?}/{status} but {} gives {:?}/{:?}",
                            String::from_utf8_lossy(&stdout),
                            external.display(),
                            String::from_utf8_lossy(&want.stdout),
                            want.status.code()
                        ));
                    }
                } else if records != [argv.clone()] {
                    return Err(format!(
                        "{shell} env{env_no}: {cmd:?}: classifier said {argv:?}, the shell ran {records:?}"
                    ));
                }
            }
        }
        Ok(true)
    }
}

fn external_path(name: &str) -> PathBuf {
    for dir in ["/usr/bin", "/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("no external {name}")
}

fn shells_available() -> bool {
    ["bash", "dash"].iter().all(|s| {
        Command::new(s)
            .arg("-c")
            .arg("true")
            .status()
            .is_ok_and(|st| st.success())
    })
}

#[test]
fn plain_corpus_matches_bash_and_dash() {
    assert!(shells_available(), "bash and dash are required");
    let lab = Lab::new();
    let mut checked = 0;
    for cmd in common::plain_commands() {
        if lab.check(&cmd).unwrap_or_else(|e| panic!("{e}")) {
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} commands checked");
}

/// Hand-written edge cases: quoting, escapes, continuations, comments.
#[test]
fn edge_cases_match_bash_and_dash() {
    assert!(shells_available(), "bash and dash are required");
    let lab = Lab::new();
    let cases = common::lines(&common::data("edge_cases.txt"));
    let mut statics = 0;
    for case in &cases {
        // The file writes newlines as \n and tabs as \t inside a case.
        let cmd = case.replace("\\n", "\n").replace("\\t", "\t");
        if lab.check(&cmd).unwrap_or_else(|e| panic!("{e}")) {
            statics += 1;
        }
    }
    assert!(statics >= 20, "only {statics} static edge cases");
}

/// Generated command lines full of shell metacharacters.
#[test]
fn generated_commands_match_bash_and_dash() {
    assert!(shells_available(), "bash and dash are required");
    let lab = Lab::new();
    let token = prop_oneof![
        Just("cmd".to_string()),
        Just("a".to_string()),
        Just("-rf".to_string()),
        Just("'b c'".to_string()),
        Just("\"d e\"".to_string()),
        Just("\"$X\"".to_string()),
        Just("$X".to_string()),
        Just("*".to_string()),
        Just("*.py".to_string()),
        Just("~".to_string()),
        Just("a=~".to_string()),
        Just("x:~".to_string()),
        Just("\\;".to_string()),
        Just(";".to_string()),
        Just("&&".to_string()),
        Just("|".to_string()),
        Just("&".to_string()),
        Just("$(x)".to_string()),
        Just("`x`".to_string()),
        Just("{a,b}".to_string()),
        Just("{1..2}".to_string()),
        Just("{}".to_string()),
        Just("#c".to_string()),
        Just("\\\n".to_string()),
        Just("FOO=1".to_string()),
        Just("$'x\\ty'".to_string()),
        Just("\"a\\\"b\"".to_string()),
        Just("\"a\\b\"".to_string()),
        Just("'\\'".to_string()),
        Just("\\\\".to_string()),
        Just("a\\ b".to_string()),
        Just("$".to_string()),
        Just("\"$\"".to_string()),
        Just("a$".to_string()),
        Just("[ab]".to_string()),
        Just("?".to_string()),
        Just("!".to_string()),
        Just("%".to_string()),
        Just("^".to_string()),
        Just("=".to_string()),
        Just("''".to_string()),
        Just("\"\"".to_string()),
        Just(">".to_string()),
        Just("2>&1".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("\n".to_string()),
        Just("\t".to_string()),
        Just("é".to_string()),
        // Arithmetic: bash's legacy `$[...]` (dash leaves it as text) and
        // `$((...))` of constants, which the classifier evaluates.
        Just("$[1]".to_string()),
        Just("\"$[1]\"".to_string()),
        Just("a$[1+1]b".to_string()),
        Just("$((1))".to_string()),
        Just("$((1+2*3))".to_string()),
        Just("\"$((010 + 0x10))\"".to_string()),
        Just("x$((-7 / 2))y".to_string()),
        Just("$((7 % -3))".to_string()),
        Just("$((1/0))".to_string()),
        Just("$((08))".to_string()),
        Just("$((9223372036854775807+1))".to_string()),
        Just("$(( (1+2) * -3 ))".to_string()),
        "[a-z]{1,3}".prop_map(|s| s),
    ];
    let line = (
        prop_oneof![
            Just("cmd"),
            Just("git"),
            Just("echo"),
            Just("printf"),
            Just("x-y")
        ],
        proptest::collection::vec(token, 0..6),
        proptest::collection::vec(prop_oneof![Just(" "), Just(""), Just("  ")], 6),
    )
        .prop_map(|(head, toks, seps)| {
            let mut s = head.to_string();
            for (i, t) in toks.iter().enumerate() {
                s.push_str(if seps[i].is_empty() && i == 0 {
                    " "
                } else {
                    seps[i]
                });
                s.push_str(t);
            }
            s
        });
    let cases: u32 = std::env::var("SANDBOXCORE_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&line, |cmd| {
            lab.check(&cmd).map_err(TestCaseError::fail)?;
            Ok(())
        })
        .unwrap();
}
