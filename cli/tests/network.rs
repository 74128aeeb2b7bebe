//! Network egress by allowlist through the real `sandboxcore` binary:
//! `run --allow-host/--deny-host`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long anything in these tests may take.
const LIMIT: Duration = Duration::from_secs(30);

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sandboxcore"));
    c.env_remove("SANDBOXCORE_POLICY");
    c
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A directory of its own under the system temp directory.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sandboxcore-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(path: &Path, text: &str) -> String {
    std::fs::write(path, text).unwrap();
    path.display().to_string()
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `run` with `args` from a temp directory, stdin not a terminal.
fn run(args: &[&str]) -> Output {
    bin()
        .arg("run")
        .args(args)
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn allow_host_points_the_command_at_the_proxy() {
    let out = run(&[
        "--allow-host",
        "example.invalid",
        "--",
        "sh -c 'echo $HTTPS_PROXY'",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "http://127.0.0.1:3128\n"
    );
    // --deny-host alone is an allowlist too (of the policy's hosts).
    let out = run(&[
        "--deny-host",
        "example.invalid",
        "--",
        "printenv http_proxy",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "http://127.0.0.1:3128\n"
    );
}

/// The proxy is really in the way: a host not allowed gets the proxy's
/// 403 naming why (curl from the host runs inside the sandbox).
#[test]
fn hosts_not_allowed_are_refused_by_the_proxy() {
    if !have("curl") {
        eprintln!("skipped: no curl");
        return;
    }
    let out = run(&[
        "--allow-host",
        "example.invalid",
        "--deny-host",
        "evil.example",
        "--",
        "curl -s -i --max-time 10 http://other.example/ http://evil.example/",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("HTTP/1.1 403").count(), 2, "{text}");
    assert!(
        text.contains("x-sandboxcore-refused: not on the network allow list"),
        "{text}"
    );
    assert!(
        text.contains("x-sandboxcore-refused: denied by run.deny[0]: evil.example"),
        "{text}"
    );
}

#[test]
fn bad_host_entries_and_conflicting_flags_are_usage_errors() {
    let out = run(&[
        "--allow-host",
        "example.com",
        "--allow-host",
        "https://pypi.org/simple",
        "--",
        "true",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "--allow-host[1]: `https://pypi.org/simple` is not a host pattern: a rule names a \
             host, not a URL; write `pypi.org`"
        ),
        "{}",
        stderr(&out)
    );
    let out = run(&["--deny-host", "a*b.com", "--", "true"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--deny-host[0]: `a*b.com`"),
        "{}",
        stderr(&out)
    );
    let out = run(&["--network", "--allow-host", "x", "--", "true"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("'--network [<none|NAME>]' cannot be used with '--allow-host"),
        "{}",
        stderr(&out)
    );
    let help = bin().args(["run", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--allow-host <HOST>") && help.contains("--deny-host <HOST>"));
}

/// A host a `require_approval` pattern names is asked about on the
/// terminal; with stdin not a terminal it is refused.
#[test]
fn connection_approvals_are_asked_on_the_terminal_only() {
    if !have("curl") {
        eprintln!("skipped: no curl");
        return;
    }
    let dir = temp_dir("approval");
    let policy = write(
        &dir.join("policy.yaml"),
        "require_approval: [\"*://ask.example/*\"]\nnetwork:\n  allow: [ask.example]\n",
    );
    let curl = "curl -s -o /dev/null -w %{http_code} --max-time 10 http://ask.example/";
    let out = run(&["--policy", &policy, "--", curl]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "403",
        "{}",
        stderr(&out)
    );
    if !have("script") {
        eprintln!("skipped the terminal half: no script(1)");
        return;
    }
    // On a terminal (script(1) gives the CLI a pseudo-terminal): the
    // question, then the answer decides. Approved, the proxy goes on to
    // resolve the name, which fails (502) where there is no DNS, or
    // answers; refused, it is 403.
    for (answer, approved) in [("y", true), ("n", false)] {
        let line = format!(
            "{} run --policy {policy} --timeout 20s -- '{curl}'",
            env!("CARGO_BIN_EXE_sandboxcore")
        );
        let mut child = Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .env_remove("SANDBOXCORE_POLICY")
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Typed ahead: the terminal keeps it until the question reads it.
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(format!("{answer}\n").as_bytes()).unwrap();
        let out = wait_with_timeout(child);
        drop(stdin);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(
                "sandboxcore: allow a connection to ask.example:80 \
                 (require_approval[0]: *://ask.example/*)? [y/N]"
            ),
            "{text}"
        );
        let code = text.trim_end().rsplit(['\n', ' ']).next().unwrap_or("");
        assert_eq!(code != "403", approved, "{answer}: {text}");
    }
}

/// Waits for `child` at most [`LIMIT`], killing it when it takes longer.
fn wait_with_timeout(child: Child) -> Output {
    let id = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(LIMIT) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &id.to_string()])
                .status();
            panic!("pid {id} did not finish within {LIMIT:?}");
        }
    }
}
