//! Network egress by allowlist through the real `sandboxcore` binary:
//! `run --allow-host/--deny-host` and the standalone `proxy`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[path = "../../tests/common/skip.rs"]
mod skip;
use skip::skip_unless;

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
    if !skip_unless("curl", have("curl")) {
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
    if !skip_unless("curl", have("curl")) {
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
    if !skip_unless("script(1) for the terminal half", have("script")) {
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

/// A `sandboxcore proxy` child, killed when dropped.
struct Proxy {
    child: Option<Child>,
    /// Lines of its stderr as they arrive.
    lines: mpsc::Receiver<String>,
}

impl Proxy {
    fn start(args: &[&str]) -> Proxy {
        let mut child = bin()
            .arg("proxy")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let err = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Proxy {
            child: Some(child),
            lines,
        }
    }

    /// The text after `prefix` on the first stderr line that has it.
    fn wait_for(&self, prefix: &str) -> String {
        let deadline = std::time::Instant::now() + LIMIT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(i) = line.find(prefix) {
                        return line[i + prefix.len()..].trim().to_string();
                    }
                }
                Err(e) => panic!("no `{prefix}` on the proxy's stderr: {e}"),
            }
        }
    }

    /// Sends SIGTERM and returns the exit status.
    fn terminate(&mut self) -> std::process::ExitStatus {
        let child = self.child.take().unwrap();
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        wait_with_timeout(child).status
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Sends `request` to `addr` and reads the whole answer (the proxy
/// closes: `Connection: close`).
fn exchange(addr: &str, request: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    s.set_write_timeout(Some(LIMIT)).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

/// An HTTP server on loopback answering every request with its own
/// request line.
fn upstream() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            stream.set_read_timeout(Some(LIMIT)).unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head);
            let first = head.lines().next().unwrap_or("").to_string();
            let body = format!("upstream saw: {first}\n");
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

#[test]
fn the_standalone_proxy_enforces_the_policy_and_the_flags() {
    let dir = temp_dir("proxy");
    let policy = write(
        &dir.join("policy.yaml"),
        "require_approval: [\"*://ask.example/*\"]\nnetwork:\n  allow: [\"127.0.0.1\", ask.example]\n",
    );
    let audit = dir.join("audit.jsonl");
    let audit_path = audit.display().to_string();
    let mut proxy = Proxy::start(&[
        "--policy",
        &policy,
        "--listen",
        "127.0.0.1:0",
        "--deny-host",
        "denied.example",
        "--audit-log",
        &audit_path,
        "--metrics-listen",
        "127.0.0.1:0",
    ]);
    let metrics_url = proxy.wait_for("metrics on http://");
    let addr = proxy.wait_for("listening on ");
    let get = |host: &str, path: &str| {
        exchange(
            &addr,
            &format!(
                "GET http://{host}{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
            ),
        )
    };

    let denied = get("denied.example", "/");
    assert!(denied.starts_with("HTTP/1.1 403"), "{denied}");
    assert!(
        denied
            .to_ascii_lowercase()
            .contains("x-sandboxcore-refused: denied by proxy.deny[0]: denied.example"),
        "{denied}"
    );
    // Nobody to ask: hosts that need approval are refused.
    let ask = get("ask.example", "/");
    assert!(ask.starts_with("HTTP/1.1 403"), "{ask}");
    assert!(ask.contains("require_approval[0]"), "{ask}");

    let port = upstream();
    let allowed = get(&format!("127.0.0.1:{port}"), "/hello?x=1");
    assert!(allowed.starts_with("HTTP/1.1 200"), "{allowed}");
    assert!(
        allowed.ends_with("upstream saw: GET /hello?x=1 HTTP/1.1\n"),
        "{allowed}"
    );

    // One audit line per connection; metrics by verdict.
    // (A record is written as its connection ends, which may be just
    // after the client has read the answer.)
    let deadline = std::time::Instant::now() + LIMIT;
    let lines: Vec<serde_json::Value> = loop {
        let text = std::fs::read_to_string(&audit).unwrap_or_default();
        if text.lines().count() >= 3 || std::time::Instant::now() > deadline {
            break text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let verdicts: Vec<&str> = lines
        .iter()
        .map(|l| l["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["refused", "refused", "allowed"]);
    assert_eq!(lines[0]["host"], "denied.example");
    assert_eq!(lines[2]["rule"], "network.allow[0]: 127.0.0.1");
    let (host, path) = metrics_url.split_once('/').unwrap();
    let metrics = exchange(
        host,
        &format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
    );
    assert!(
        metrics.contains("sandboxcore_egress_connections_total{verdict=\"refused\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sandboxcore_egress_connections_total{verdict=\"allowed\"} 1"),
        "{metrics}"
    );

    assert_eq!(proxy.terminate().code(), Some(0));
}

#[test]
fn the_standalone_proxy_refuses_bad_flags() {
    let out = bin()
        .args(["proxy", "--listen", "127.0.0.1:0", "--allow-host", "a/b/c"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--allow-host[0]: `a/b/c`"),
        "{}",
        stderr(&out)
    );
    let out = bin().args(["proxy"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--listen <ADDR>"), "{}", stderr(&out));
}

#[test]
fn k8s_manifests_with_the_egress_proxy() {
    let dir = temp_dir("k8s");
    let text = "network:\n  allow: [pypi.org, \"*.pythonhosted.org\"]\n";
    let policy = write(&dir.join("egress.yaml"), text);
    let out = bin()
        .args([
            "k8s",
            "manifests",
            "--namespace",
            "agents",
            "--egress-proxy",
        ])
        .args(["--proxy-image", "registry.local/sandboxcore:1"])
        .args(["--proxy-policy", &policy])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let yaml = String::from_utf8(out.stdout).unwrap();
    let docs: Vec<serde_json::Value> = yaml
        .split("---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| serde_yaml_ng::from_str(d).unwrap())
        .collect();
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds[7..],
        [
            "ConfigMap",
            "Deployment",
            "Service",
            "NetworkPolicy",
            "NetworkPolicy"
        ]
    );
    assert_eq!(docs[7]["data"]["policy.yaml"], text);
    let container = &docs[8]["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "registry.local/sandboxcore:1");
    assert_eq!(container["command"][1], "proxy");
    assert_eq!(docs[9]["metadata"]["name"], "sandboxcore-egress-proxy");
    assert_eq!(docs[9]["spec"]["ports"][0]["port"], 3128);
    assert_eq!(
        docs[10]["spec"]["egress"][0]["ports"],
        serde_json::json!([{"protocol": "TCP", "port": 3128}])
    );
    assert!(docs
        .iter()
        .all(|d| d["metadata"]["namespace"] == "agents" || d["kind"] == "Namespace"));

    // The image is needed; a policy the proxy could not load is refused.
    let out = bin()
        .args(["k8s", "manifests", "--egress-proxy"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--proxy-image <IMAGE>"),
        "{}",
        stderr(&out)
    );
    let bad = write(
        &dir.join("bad.yaml"),
        "network:\n  allow: [\"http://x.com/\"]\n",
    );
    let out = bin()
        .args(["k8s", "manifests", "--egress-proxy", "--proxy-image", "i"])
        .args(["--proxy-policy", &bad])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("network.allow[0]"),
        "{}",
        stderr(&out)
    );
}
