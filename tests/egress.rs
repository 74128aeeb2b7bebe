//! Network egress by allowlist, end to end: real programs (`curl`,
//! `getent`, `python3`) run through the process backend
//! (`ProcessExecutor::new(ProcessConfig::default())`, isolation
//! `Required`) with `Network::Allowlist`, against local servers; and the
//! proxy itself (`Egress::serve` on a loopback listener) for what a
//! program cannot easily do (a ClientHello naming another server, a
//! stalled client, 200 tunnels at once).
//!
//! Every server listens on 127.0.0.1 and every name resolves through a
//! `StaticResolver` (`pypi.test` → 127.0.0.1); the rules allow the address
//! `127.0.0.1` so that the proxy, which runs in the host's namespace, may
//! reach them. Nothing else is contacted: refused names resolve to
//! loopback too (or to 10.1.2.3, which the proxy refuses before
//! connecting). Every wait is bounded.
//!
//! Nothing is skipped: under `Isolation::Required` a layer this machine
//! cannot provide makes the run fail, and the test with it. The tests use
//! no repository file, so `scripts/test-as-user` runs this binary as an
//! ordinary user too (the user namespace path).

mod common;
use common::runtime;
#[path = "common/net.rs"]
mod net;

use net::{ask, connect, STEP};
use sandboxcore::audit::AuditLog;
use sandboxcore::exec::{
    BoxFuture, ExecOutcome, ExecRequest, Executor, Network, ProcessConfig, ProcessExecutor,
    DEFAULT_PATH,
};
use sandboxcore::metrics::Metrics;
use sandboxcore::net::{ConnectionRequest, Egress, EgressRules, StaticResolver, REFUSED_HEADER};
use sandboxcore::{Approver, Decision, Plan, Policy, RunOptions, Sandbox};
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

// ---------------------------------------------------------------- helpers

/// The backend with every default (`Isolation::Required`).
fn executor() -> &'static ProcessExecutor {
    static EXEC: OnceLock<ProcessExecutor> = OnceLock::new();
    EXEC.get_or_init(|| {
        ProcessExecutor::new(ProcessConfig::default())
            .unwrap_or_else(|e| panic!("the default (Required) backend cannot start here: {e}"))
    })
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn loopback() -> IpAddr {
    "127.0.0.1".parse().unwrap()
}

/// The names of the tests: all on loopback but `internal.test`, a
/// private address the proxy must refuse.
fn resolver() -> Arc<StaticResolver> {
    let mut r = StaticResolver::new();
    for name in [
        "pypi.test",
        "files.test",
        "evil.test",
        "other.test",
        "ask.test",
        "nope.test",
    ] {
        r = r.with(name, &[loopback()]);
    }
    Arc::new(r.with("internal.test", &["10.1.2.3".parse().unwrap()]))
}

/// An egress with these rules and the test resolver.
fn egress(allow: &[&str], deny: &[&str], approval: &[&str]) -> Egress {
    let rules = EgressRules::new(&strings(allow), &strings(deny), &strings(approval))
        .unwrap_or_else(|e| panic!("bad rules: {e}"));
    Egress::new(rules).with_resolver(resolver())
}

/// The rules most tests use: the `.test` names and the loopback address
/// their servers are on, but `evil.test`.
fn test_rules() -> Egress {
    egress(&["*.test", "127.0.0.1"], &["evil.test"], &[])
}

/// Runs `argv` through the process backend with `egress` (a timeout keeps
/// a broken test from hanging).
async fn run(egress: &Egress, argv: &[&str]) -> ExecOutcome {
    let mut req = ExecRequest::new(Plan::Direct(strings(argv)));
    req.env.insert("PATH".into(), DEFAULT_PATH.into());
    req.limits.timeout = Some(Duration::from_secs(30));
    req.network = Network::Allowlist(Arc::new(egress.clone()));
    let o = executor()
        .execute(req)
        .await
        .unwrap_or_else(|e| panic!("the run was refused or failed to start: {e}"));
    assert!(
        o.isolation_skipped.is_empty(),
        "a Required run skipped layers: {:?}",
        o.isolation_skipped
    );
    o
}

/// `curl -sS --max-time 10 ARGS...` through the process backend.
async fn curl(egress: &Egress, args: &[&str]) -> ExecOutcome {
    let mut argv = vec!["curl", "-sS", "--max-time", "10"];
    argv.extend(args);
    run(egress, &argv).await
}

/// Everything about an outcome, for assertion messages.
fn show(o: &ExecOutcome) -> String {
    format!(
        "exit {:?} signal {:?}\n--- stdout\n{}--- stderr\n{}",
        o.exit_code,
        o.signal,
        o.stdout_text(),
        o.stderr_text()
    )
}

/// A directory the run can read (the sandbox sees the host read-only, and
/// under `/var/tmp` as the host does; `/tmp` is private to each run),
/// readable by a per-run uid or another user.
fn shared_dir() -> TempDir {
    let d = tempfile::Builder::new()
        .prefix("sandboxcore-egress-")
        .tempdir_in("/var/tmp")
        .unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    d
}

/// The test CA written where the run can read it.
fn write_ca(dir: &TempDir, pem: &str) -> PathBuf {
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, pem).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    path
}

/// A curl `-w` that prints the CONNECT status and the HTTP status.
const CODES: &str = "connect=%{http_connect} http=%{http_code}\n";

/// Asserts that curl's request for `url` was refused by the proxy with a
/// 403 naming `reason`: as a CONNECT (exit 56, "CONNECT tunnel failed,
/// response 403") for https, as a response for http.
fn assert_refused(o: &ExecOutcome, url: &str, reason: &str) {
    let out = o.stdout_text();
    let err = o.stderr_text();
    if url.starts_with("https://") {
        assert_eq!(o.exit_code, Some(56), "{url}: {}", show(o));
        assert!(
            err.contains("CONNECT tunnel failed, response 403"),
            "{url}: {}",
            show(o)
        );
        assert!(out.contains("connect=403 "), "{url}: {}", show(o));
    } else {
        assert_eq!(o.exit_code, Some(0), "{url}: {}", show(o));
        assert!(out.contains("HTTP/1.1 403"), "{url}: {}", show(o));
        assert!(out.contains("http=403"), "{url}: {}", show(o));
    }
    // The explaining header and body (curl shows the CONNECT response's
    // headers with -D - too).
    let header = out
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with(REFUSED_HEADER))
        .unwrap_or_else(|| panic!("{url}: no {REFUSED_HEADER} header: {}", show(o)));
    assert!(
        header.contains(reason),
        "{url}: {header:?} lacks {reason:?}"
    );
}

/// The audit log at `path` once it has `n` lines (waiting at most 5 s:
/// a connection's record is written as it ends, which for a tunnel may be
/// just after the run does), or as it is then.
fn audit_lines(path: &std::path::Path, n: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.lines().count() >= n || Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------- through the backend

#[test]
fn an_allowed_host_is_reached_over_http_and_https() {
    runtime().block_on(async {
        let pki = net::TestPki::new(&["pypi.test"]);
        let http = net::http_upstream().await;
        let https = pki.https_upstream().await;
        let dir = shared_dir();
        let ca = write_ca(&dir, &pki.ca_pem);
        let e = test_rules();

        let url = format!("http://pypi.test:{}/simple/?q=1", http.port());
        let o = curl(&e, &[&url]).await;
        assert_eq!(o.exit_code, Some(0), "{}", show(&o));
        assert_eq!(
            o.stdout_text(),
            format!(
                "upstream http saw: GET /simple/?q=1 HTTP/1.1 host=pypi.test:{}\n",
                http.port()
            )
        );
        assert_eq!(http.accepted(), 1);

        // HTTPS through a CONNECT tunnel, the certificate checked by curl
        // against the test CA (the proxy sees only ciphertext).
        let url = format!("https://pypi.test:{}/simple/", https.port());
        let o = curl(&e, &["--cacert", ca.to_str().unwrap(), &url]).await;
        assert_eq!(o.exit_code, Some(0), "{}", show(&o));
        assert_eq!(
            o.stdout_text(),
            format!(
                "upstream https saw: GET /simple/ HTTP/1.1 host=pypi.test:{}\n",
                https.port()
            )
        );
        assert_eq!(https.accepted(), 1);
        // The proxy is what curl used (and `-v` shows it).
        let o = curl(&e, &["-v", "--cacert", ca.to_str().unwrap(), &url]).await;
        assert_eq!(o.exit_code, Some(0), "{}", show(&o));
        assert!(
            o.stderr_text()
                .contains(&format!("CONNECT pypi.test:{} HTTP/1.1", https.port())),
            "{}",
            show(&o)
        );
    });
}

#[test]
fn a_denied_host_is_refused_with_a_403_naming_the_rule_however_it_is_spelt() {
    runtime().block_on(async {
        let http = net::http_upstream().await;
        let https = net::TestPki::new(&["evil.test"]).https_upstream().await;
        // Deny beats allow: evil.test is allowed by name and by pattern.
        let e = egress(&["*.test", "evil.test", "127.0.0.1"], &["evil.test"], &[]);
        let (hp, sp) = (http.port(), https.port());
        let urls = [
            format!("http://evil.test:{hp}/"),
            format!("http://EVIL.Test:{hp}/"),
            format!("http://evil.test.:{hp}/"),
            format!("http://user:pw@evil.test:{hp}/"),
            format!("https://evil.test:{sp}/"),
            format!("https://EVIL.TEST:{sp}/"),
            format!("https://evil.test.:{sp}/"),
            format!("https://user@evil.test:{sp}/"),
            // Explicit default ports (nothing listens there: the proxy
            // refuses before connecting).
            "http://evil.test:80/".to_string(),
            "https://evil.test:443/".to_string(),
        ];
        for url in &urls {
            let o = curl(&e, &["-D", "-", "-w", CODES, url]).await;
            assert_refused(&o, url, "denied by network.deny[0]: evil.test");
            // curl shows a refused request's body (not a refused
            // CONNECT's).
            assert!(
                url.starts_with("https:")
                    || o.stdout_text()
                        .contains("sandboxcore: connection to evil.test:"),
                "{url}: the body names the host: {}",
                show(&o)
            );
        }
        assert_eq!((http.accepted(), https.accepted()), (0, 0));
    });
}

#[test]
fn private_addresses_are_refused_by_address_and_by_name() {
    runtime().block_on(async {
        let e = test_rules();
        // A raw private address: no address rule covers it. Never
        // contacted: the proxy refuses before connecting.
        let url = "https://10.1.2.3:443/";
        let o = curl(&e, &["-D", "-", "-w", CODES, url]).await;
        assert_refused(&o, url, "an address no network.allow address rule covers");
        let url = "http://10.1.2.3/";
        let o = curl(&e, &["-D", "-", "-w", CODES, url]).await;
        assert_refused(&o, url, "an address no network.allow address rule covers");
        // An allowed name that resolves to a private address.
        let url = "https://internal.test:443/";
        let o = curl(&e, &["-D", "-", "-w", CODES, url]).await;
        assert_refused(
            &o,
            url,
            "resolves to 10.1.2.3, a private (RFC 1918) address",
        );
        // A name not on the list at all.
        let url = "https://pypi.org:443/";
        let o = curl(&e, &["-D", "-", "-w", CODES, url]).await;
        assert_refused(&o, url, "not on the network allow list");
    });
}

#[test]
fn a_tls_server_name_other_than_the_connect_host_is_refused() {
    runtime().block_on(async {
        let pki = net::TestPki::new(&["pypi.test", "other.test"]);
        let https = pki.https_upstream().await;
        let dir = shared_dir();
        let ca = write_ca(&dir, &pki.ca_pem);
        let log = dir.path().join("audit.jsonl");
        let e = test_rules().with_audit(Arc::new(AuditLog::with_jsonl(&log).unwrap()));
        let port = https.port().to_string();
        // curl sends CONNECT other.test:PORT but a ClientHello for
        // pypi.test (both allowed: the names must still agree).
        let connect_to = format!("pypi.test:{port}:other.test:{port}");
        let url = format!("https://pypi.test:{port}/");
        let o = curl(
            &e,
            &[
                "-v",
                "--cacert",
                ca.to_str().unwrap(),
                "--connect-to",
                &connect_to,
                &url,
            ],
        )
        .await;
        assert!(
            o.stderr_text()
                .contains(&format!("CONNECT other.test:{port} HTTP/1.1")),
            "curl did not ask for the other host: {}",
            show(&o)
        );
        assert_ne!(o.exit_code, Some(0), "{}", show(&o));
        assert!(!o.stdout_text().contains("upstream"), "{}", show(&o));
        // The proxy refused the tunnel on reading the hello: the server
        // got none (the proxy had connected to it before answering the
        // CONNECT), so curl got no certificate, and the audit says why.
        assert_eq!(o.exit_code, Some(35), "a TLS connect error: {}", show(&o));
        assert_eq!(https.accepted(), 1);
        let records = std::fs::read_to_string(&log).unwrap();
        let record: serde_json::Value = serde_json::from_str(records.trim()).unwrap();
        assert_eq!(record["verdict"], "refused", "{record}");
        assert_eq!(record["host"], "other.test", "{record}");
        assert_eq!(
            record["reason"],
            "the TLS server name pypi.test differs from the CONNECT host other.test"
        );

        // The same at the proxy: a real TLS client (rustls) asking for
        // other.test through a tunnel to pypi.test gets no handshake.
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = e.serve(l).unwrap();
        let (head, tunnel) = connect(proxy.address(), &format!("pypi.test:{port}"))
            .await
            .unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let name = rustls::pki_types::ServerName::try_from("other.test").unwrap();
        let r = tokio::time::timeout(STEP, pki.connector().connect(name, tunnel)).await;
        assert!(
            matches!(r, Ok(Err(_))),
            "the handshake through the tunnel must fail"
        );
        // While the matching name goes through.
        let (head, tunnel) = connect(proxy.address(), &format!("pypi.test:{port}"))
            .await
            .unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let name = rustls::pki_types::ServerName::try_from("pypi.test").unwrap();
        let mut tls = tokio::time::timeout(STEP, pki.connector().connect(name, tunnel))
            .await
            .unwrap()
            .unwrap();
        tls.write_all(b"GET / HTTP/1.1\r\nHost: pypi.test\r\n\r\n")
            .await
            .unwrap();
        let mut body = Vec::new();
        let _ = tokio::time::timeout(STEP, tls.read_to_end(&mut body)).await;
        assert!(
            String::from_utf8_lossy(&body).contains("upstream https saw: GET / HTTP/1.1"),
            "{}",
            String::from_utf8_lossy(&body)
        );
    });
}

#[test]
fn a_host_header_other_than_the_url_host_is_refused() {
    runtime().block_on(async {
        let http = net::http_upstream().await;
        let e = test_rules();
        let url = format!("http://pypi.test:{}/", http.port());
        for host in ["evil.test", "other.test", "pypi.test:1"] {
            let header = format!("Host: {host}");
            let o = curl(&e, &["-D", "-", "-w", CODES, "-H", &header, &url]).await;
            assert_refused(&o, &url, "differs from the URL's host");
        }
        assert_eq!(http.accepted(), 0);
        // The same host in another spelling is the same host.
        let header = format!("Host: PyPI.test.:{}", http.port());
        let o = curl(&e, &["-H", &header, &url]).await;
        assert_eq!(o.exit_code, Some(0), "{}", show(&o));
        assert!(
            o.stdout_text().starts_with("upstream http saw"),
            "{}",
            show(&o)
        );
    });
}

#[test]
fn the_run_has_no_dns() {
    runtime().block_on(async {
        let e = test_rules();
        // The proxy resolves names; the run has nothing to ask.
        let o = run(&e, &["getent", "hosts", "pypi.org"]).await;
        assert_eq!(o.exit_code, Some(2), "getent finds nothing: {}", show(&o));
        assert_eq!(o.stdout_text(), "");
        let o = run(&e, &["getent", "hosts", "pypi.test"]).await;
        assert_eq!(o.exit_code, Some(2), "{}", show(&o));
        // python3 is installed by scripts/install-deps.
        let o = run(
            &e,
            &[
                "python3",
                "-c",
                "import socket\ntry:\n    socket.getaddrinfo('pypi.org', 443)\n    print('resolved')\nexcept socket.gaierror as e:\n    print('gaierror', e.errno)",
            ],
        )
        .await;
        assert_eq!(o.exit_code, Some(0), "{}", show(&o));
        assert!(o.stdout_text().starts_with("gaierror"), "{}", show(&o));
    });
}

#[test]
fn a_program_that_ignores_the_proxy_reaches_nothing() {
    runtime().block_on(async {
        let http = net::http_upstream().await;
        let e = test_rules();
        let port = http.port();
        // The host's loopback, where the upstream listens, is not the
        // run's: straight to it, curl finds nothing listening.
        let url = format!("http://127.0.0.1:{port}/");
        let o = curl(&e, &["--noproxy", "*", &url]).await;
        assert_eq!(o.exit_code, Some(7), "couldn't connect: {}", show(&o));
        // Without the proxy variables a name does not even resolve.
        let url = format!("http://pypi.test:{port}/");
        let o = run(
            &e,
            &[
                "env",
                "-u",
                "http_proxy",
                "-u",
                "HTTP_PROXY",
                "-u",
                "ALL_PROXY",
                "-u",
                "all_proxy",
                "curl",
                "-sS",
                "--max-time",
                "10",
                &url,
            ],
        )
        .await;
        assert_eq!(o.exit_code, Some(6), "couldn't resolve: {}", show(&o));
        // An address outside (TEST-NET-3, never routed): no route at all.
        let o = curl(&e, &["--noproxy", "*", "http://203.0.113.9:80/"]).await;
        assert_eq!(o.exit_code, Some(7), "{}", show(&o));
        assert!(
            o.stderr_text().contains("Couldn't connect to server"),
            "the run has no route out: {}",
            show(&o)
        );
        assert_eq!(http.accepted(), 0);
        // Through the proxy the same URL works (the proxy variables are
        // what programs use).
        let o = curl(&e, &[&url]).await;
        assert_eq!(o.exit_code, Some(0), "{}", show(&o));
        assert_eq!(http.accepted(), 1);
    });
}

/// Approves commands, and connections to `ask.test` only; counts every
/// connection question.
#[derive(Clone, Default)]
struct CountingApprover {
    asked: Arc<Mutex<Vec<ConnectionRequest>>>,
}

impl Approver for CountingApprover {
    fn approve<'a>(&'a self, _: &'a Decision) -> BoxFuture<'a, bool> {
        Box::pin(async { true })
    }

    fn approve_connection<'a>(
        &'a self,
        request: &'a ConnectionRequest,
    ) -> BoxFuture<'a, Result<bool, String>> {
        self.asked.lock().unwrap().push(request.clone());
        let yes = request.host == "ask.test";
        Box::pin(async move {
            // Slow enough that a second connection waits on the same
            // question rather than asking again.
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok(yes)
        })
    }
}

#[test]
fn the_approver_is_asked_once_per_host_and_its_answer_is_honoured() {
    runtime().block_on(async {
        let http = net::http_upstream().await;
        let port = http.port();
        let policy = Policy::from_yaml_str(
            "require_approval: [\"*://ask.test/*\", \"*://nope.test/*\"]\n\
             network:\n  allow: [\"127.0.0.1\", pypi.test]\n",
        )
        .unwrap();
        let approver = CountingApprover::default();
        let sandbox = Sandbox::builder()
            .policy(policy)
            .executor(ProcessExecutor::new(ProcessConfig::default()).unwrap())
            .approver(approver.clone())
            .build()
            .unwrap();
        // The run's own egress brings only the resolver; the rules are the
        // policy's.
        let options = || RunOptions {
            env: [("PATH".to_string(), DEFAULT_PATH.to_string())].into(),
            network: Network::Allowlist(Arc::new(egress(&[], &[], &[]))),
            ..RunOptions::default()
        };
        let (a, n) = (
            format!("http://ask.test:{port}/one"),
            format!("http://nope.test:{port}/"),
        );
        // Two connections to ask.test (the upstream closes after each
        // answer), two to nope.test: one question each.
        let cmd = format!("curl -sS --max-time 10 -w ' %{{http_code}}\\n' {a} {a} {n} {n}");
        let o = sandbox.run(&cmd, options()).await.unwrap();
        let out = o.stdout_text();
        assert_eq!(o.exit_code, Some(0), "{}", show(&o));
        assert_eq!(
            out.matches(&format!(
                "upstream http saw: GET /one HTTP/1.1 host=ask.test:{port}"
            ))
            .count(),
            2,
            "{out}"
        );
        assert_eq!(
            out.matches("connection to nope.test").count(),
            2,
            "refused twice: {out}"
        );
        assert!(
            out.contains("approval refused (require_approval[1]: *://nope.test/*)"),
            "{out}"
        );
        assert_eq!(http.accepted(), 2, "only ask.test was reached");
        let asked = approver.asked.lock().unwrap().clone();
        assert_eq!(
            asked,
            [
                ConnectionRequest {
                    host: "ask.test".into(),
                    port,
                    scheme: Some("http".into()),
                    rule: "require_approval[0]: *://ask.test/*".into(),
                },
                ConnectionRequest {
                    host: "nope.test".into(),
                    port,
                    scheme: Some("http".into()),
                    rule: "require_approval[1]: *://nope.test/*".into(),
                },
            ]
        );
        // A host on the allow list is not asked about.
        let url = format!("http://pypi.test:{port}/");
        let o = sandbox
            .run(&format!("curl -sS --max-time 10 {url}"), options())
            .await
            .unwrap();
        assert_eq!(o.exit_code, Some(0), "{}", show(&o));
        assert_eq!(approver.asked.lock().unwrap().len(), 2);
        // Each run asks anew (approvals last one run).
        let o = sandbox
            .run(&format!("curl -sS --max-time 10 {a}"), options())
            .await
            .unwrap();
        assert_eq!(o.exit_code, Some(0), "{}", show(&o));
        assert_eq!(approver.asked.lock().unwrap().len(), 3);
    });
}

#[test]
fn every_connection_is_audited_once_and_counted() {
    runtime().block_on(async {
        let pki = net::TestPki::new(&["pypi.test"]);
        let http = net::http_upstream().await;
        let https = pki.https_upstream().await;
        let dir = shared_dir();
        let ca = write_ca(&dir, &pki.ca_pem);
        let log = dir.path().join("audit.jsonl");
        let metrics = Arc::new(Metrics::new());
        let e = test_rules()
            .with_audit(Arc::new(AuditLog::with_jsonl(&log).unwrap()))
            .with_metrics(metrics.clone());
        let o = curl(
            &e,
            &[
                "--cacert",
                ca.to_str().unwrap(),
                &format!("http://pypi.test:{}/a", http.port()),
                &format!("https://pypi.test:{}/b", https.port()),
            ],
        )
        .await;
        assert_eq!(o.exit_code, Some(0), "{}", show(&o));
        let o = curl(&e, &[&format!("http://evil.test:{}/", http.port())]).await;
        assert_eq!(o.exit_code, Some(0), "{}", show(&o));

        // Three connections, three records (a tunnel's is written as it
        // ends, which may be just after the run).
        let text = audit_lines(&log, 3);
        let records: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(records.len(), 3, "{text}");
        let find = |method: &str, verdict: &str| {
            records
                .iter()
                .find(|r| r["method"] == method && r["verdict"] == verdict)
                .unwrap_or_else(|| panic!("no {method} {verdict} record: {text}"))
        };
        let get = find("GET", "allowed");
        assert_eq!(get["event"], "connection");
        assert_eq!(get["host"], "pypi.test");
        assert_eq!(get["port"], http.port());
        assert_eq!(get["rule"], "network.allow[0]: *.test");
        assert_eq!(get["address"], format!("127.0.0.1:{}", http.port()));
        let tunnel = find("CONNECT", "allowed");
        assert_eq!(tunnel["host"], "pypi.test");
        assert_eq!(tunnel["port"], https.port());
        assert_eq!(tunnel["rule"], "network.allow[0]: *.test");
        let refused = find("GET", "refused");
        assert_eq!(refused["host"], "evil.test");
        assert_eq!(refused["rule"], "network.deny[0]: evil.test");
        assert_eq!(
            (refused["bytes_up"].as_u64(), refused["bytes_down"].as_u64()),
            (Some(0), Some(0))
        );
        let mut up = 0;
        let mut down = 0;
        for r in [get, tunnel] {
            let (u, d) = (
                r["bytes_up"].as_u64().unwrap(),
                r["bytes_down"].as_u64().unwrap(),
            );
            assert!(u > 0 && d > 0, "{r}");
            up += u;
            down += d;
            let seconds = r["duration_seconds"].as_f64().unwrap();
            assert!((0.0..30.0).contains(&seconds), "{r}");
        }
        // The plain request's bytes: the request as forwarded, and the
        // upstream's whole answer.
        assert!(get["bytes_down"].as_u64().unwrap() > 60, "{get}");

        let m = metrics.encode();
        let value = |line: &str| -> u64 {
            m.lines()
                .find_map(|l| l.strip_prefix(line))
                .unwrap_or_else(|| panic!("no {line} in\n{m}"))
                .trim()
                .parse()
                .unwrap()
        };
        assert_eq!(
            value("sandboxcore_egress_connections_total{verdict=\"allowed\"}"),
            2
        );
        assert_eq!(
            value("sandboxcore_egress_connections_total{verdict=\"refused\"}"),
            1
        );
        assert_eq!(
            value("sandboxcore_egress_bytes_total{direction=\"up\"}"),
            up
        );
        assert_eq!(
            value("sandboxcore_egress_bytes_total{direction=\"down\"}"),
            down
        );
    });
}

// ------------------------------------------------------- the proxy itself

/// The proxy with the test rules on a loopback listener.
async fn serve(e: &Egress) -> sandboxcore::net::ProxyHandle {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    e.serve(l).unwrap()
}

#[test]
fn raw_spellings_of_a_denied_host_are_refused() {
    runtime().block_on(async {
        let http = net::http_upstream().await;
        let e = egress(&["*.test", "127.0.0.1"], &["evil.test"], &[]);
        let p = serve(&e).await;
        let port = http.port();
        let requests = [
            format!("CONNECT evil.test:{port} HTTP/1.1\r\nHost: evil.test:{port}\r\n\r\n"),
            format!("CONNECT EVIL.TEST.:{port} HTTP/1.1\r\nHost: x\r\n\r\n"),
            format!("CONNECT user@evil.test:{port} HTTP/1.1\r\nHost: x\r\n\r\n"),
            format!(
                "GET http://user:pw@evil.test:{port}/ HTTP/1.1\r\nHost: evil.test:{port}\r\n\r\n"
            ),
            format!(
                "GET http://pypi.test@evil.test:{port}/ HTTP/1.1\r\nHost: evil.test:{port}\r\n\r\n"
            ),
            format!("GET http://Evil.Test.:{port}/ HTTP/1.1\r\nHost: evil.test:{port}\r\n\r\n"),
            "GET http://evil.test/ HTTP/1.1\r\nHost: evil.test:80\r\n\r\n".to_string(),
            "CONNECT evil.test:443 HTTP/1.1\r\nHost: evil.test:443\r\n\r\n".to_string(),
        ];
        for r in &requests {
            let answer = ask(p.address(), r.as_bytes()).await;
            assert!(answer.starts_with("HTTP/1.1 403"), "{r:?}: {answer}");
            assert!(
                answer.to_ascii_lowercase().contains(&format!(
                    "{REFUSED_HEADER}: denied by network.deny[0]: evil.test"
                )),
                "{r:?}: {answer}"
            );
        }
        assert_eq!(http.accepted(), 0);
        // A CONNECT to a raw private address, and a plain request for one.
        for r in [
            "CONNECT 10.1.2.3:443 HTTP/1.1\r\nHost: 10.1.2.3:443\r\n\r\n",
            "CONNECT [::ffff:10.1.2.3]:443 HTTP/1.1\r\nHost: x\r\n\r\n",
            "CONNECT 167838211:443 HTTP/1.1\r\nHost: x\r\n\r\n",
        ] {
            let answer = ask(p.address(), r.as_bytes()).await;
            assert!(answer.starts_with("HTTP/1.1 403"), "{r:?}: {answer}");
        }
    });
}

#[test]
fn slow_and_half_open_clients_do_not_stall_others() {
    runtime().block_on(async {
        let http = net::http_upstream().await;
        let echo = net::echo_upstream().await;
        let p = serve(&test_rules()).await;
        let addr = p.address();
        // Half a request, then nothing.
        let mut slow = TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"CONNECT pypi.test:443 HTTP/1.1\r\nHo")
            .await
            .unwrap();
        // Connected, nothing sent.
        let idle = TcpStream::connect(addr).await.unwrap();
        // A tunnel whose client sent half a ClientHello and stalls.
        let (head, mut half_hello) = connect(addr, &format!("pypi.test:{}", echo.port()))
            .await
            .unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let hello = net::client_hello("pypi.test");
        half_hello.write_all(&hello[..hello.len() / 2]).await.unwrap();
        // A tunnel whose client closed its sending side after the hello:
        // the answer still comes back (half-closed, not dropped).
        let (head, mut half_closed) = connect(addr, &format!("pypi.test:{}", echo.port()))
            .await
            .unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        half_closed.write_all(&hello).await.unwrap();
        half_closed.shutdown().await.unwrap();
        let mut echoed = Vec::new();
        tokio::time::timeout(STEP, half_closed.read_to_end(&mut echoed))
            .await
            .expect("the half-closed tunnel ends")
            .unwrap();
        assert_eq!(echoed, hello, "the upstream's answer reached the half-closed client");

        // Meanwhile other clients are served at once.
        let started = Instant::now();
        for i in 0..20 {
            let answer = ask(
                addr,
                format!(
                    "GET http://pypi.test:{0}/{i} HTTP/1.1\r\nHost: pypi.test:{0}\r\nConnection: close\r\n\r\n",
                    http.port()
                )
                .as_bytes(),
            )
            .await;
            assert!(answer.contains(&format!("saw: GET /{i} HTTP/1.1")), "{answer}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "20 requests took {:?} beside stalled clients",
            started.elapsed()
        );

        // The stalled ones are dropped after the proxy's 10 s client
        // timeout (not held for ever).
        let deadline = Duration::from_secs(20);
        for (what, mut s) in [("half a request", slow), ("nothing sent", idle), ("half a hello", half_hello)] {
            let mut rest = Vec::new();
            let r = tokio::time::timeout(deadline, s.read_to_end(&mut rest)).await;
            assert!(r.is_ok(), "the proxy still holds a client that sent {what}");
        }
    });
}

#[test]
fn the_proxy_holds_200_tunnels_at_once() {
    runtime().block_on(async {
        let echo = net::echo_upstream().await;
        let p = serve(&test_rules()).await;
        let addr = p.address();
        let target = format!("pypi.test:{}", echo.port());
        let hello = net::client_hello("pypi.test");
        // Open all 200 first, then talk over each: all are open together.
        let mut tunnels = Vec::new();
        for _ in 0..200 {
            let (head, mut s) = connect(addr, &target).await.unwrap();
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            s.write_all(&hello).await.unwrap();
            tunnels.push(s);
        }
        let work = tunnels.into_iter().enumerate().map(|(i, mut s)| {
            let hello = hello.clone();
            tokio::spawn(async move {
                let mut back = vec![0u8; hello.len()];
                s.read_exact(&mut back).await.unwrap();
                assert_eq!(back, hello);
                let data = format!("tunnel {i} says hello\n").repeat(100);
                s.write_all(data.as_bytes()).await.unwrap();
                let mut got = vec![0u8; data.len()];
                s.read_exact(&mut got).await.unwrap();
                assert_eq!(got, data.as_bytes());
                s
            })
        });
        let all = futures_util::future::join_all(work);
        let done = tokio::time::timeout(Duration::from_secs(30), all)
            .await
            .expect("200 tunnels echoed within 30 s");
        let open: Vec<TcpStream> = done.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(open.len(), 200);
        assert_eq!(echo.accepted(), 200);
    });
}

#[test]
fn a_tunnel_that_does_not_carry_tls_is_closed() {
    runtime().block_on(async {
        let echo = net::echo_upstream().await;
        let p = serve(&test_rules()).await;
        let (head, mut s) = connect(p.address(), &format!("pypi.test:{}", echo.port()))
            .await
            .unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        s.write_all(b"GET / HTTP/1.1\r\nHost: pypi.test\r\n\r\n")
            .await
            .unwrap();
        let mut back = Vec::new();
        let _ = tokio::time::timeout(STEP, s.read_to_end(&mut back)).await;
        assert!(
            back.is_empty(),
            "nothing reaches the upstream and back: {back:?}"
        );
    });
}

#[test]
fn approval_is_asked_once_for_concurrent_connections() {
    runtime().block_on(async {
        let echo = net::echo_upstream().await;
        let approver = CountingApprover::default();
        let e = egress(&["127.0.0.1"], &[], &["*://ask.test/*"])
            .with_approver(Arc::new(approver.clone()));
        let p = serve(&e).await;
        let target = format!("ask.test:{}", echo.port());
        let tries = (0..10).map(|_| connect(p.address(), &target));
        let heads = tokio::time::timeout(
            Duration::from_secs(20),
            futures_util::future::join_all(tries),
        )
        .await
        .unwrap();
        for r in heads {
            let (head, _) = r.unwrap();
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        }
        assert_eq!(approver.asked.lock().unwrap().len(), 1);
    });
}

#[test]
fn a_tunnel_still_open_when_the_proxy_stops_is_recorded() {
    runtime().block_on(async {
        let echo = net::echo_upstream().await;
        let dir = shared_dir();
        let log = dir.path().join("audit.jsonl");
        let e = test_rules().with_audit(Arc::new(AuditLog::with_jsonl(&log).unwrap()));
        let p = serve(&e).await;
        let (head, mut s) = connect(p.address(), &format!("pypi.test:{}", echo.port()))
            .await
            .unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let hello = net::client_hello("pypi.test");
        s.write_all(&hello).await.unwrap();
        let mut back = vec![0u8; hello.len()];
        tokio::time::timeout(STEP, s.read_exact(&mut back))
            .await
            .unwrap()
            .unwrap();
        // The run ends (its proxy is dropped) with the tunnel open.
        drop(p);
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(STEP, s.read_to_end(&mut rest)).await;
        assert!(rest.is_empty());
        let text = audit_lines(&log, 1);
        let record: serde_json::Value = serde_json::from_str(text.trim())
            .unwrap_or_else(|e| panic!("one record, not {text:?}: {e}"));
        assert_eq!(record["method"], "CONNECT");
        assert_eq!(record["verdict"], "allowed");
        assert_eq!(record["reason"], "closed by the proxy: the run ended");
        assert_eq!(record["bytes_up"], hello.len());
        assert_eq!(record["bytes_down"], hello.len());
    });
}
