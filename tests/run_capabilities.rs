//! What a run result says was enforced (`ExecOutcome::enforced`), with real
//! runs of the process backend: a default run reports what the backend's
//! `capabilities()` says (but for what the request did not ask for), an
//! allowed network or an unset limit is not claimed, isolation `off`
//! claims no layer, a best-effort run on a host without namespaces claims
//! none of what they provide (and really runs without them), and the audit
//! record lists the same.
//!
//! Nothing is skipped: the default backend is `Isolation::Required`, which
//! fails to start where a layer is missing. The best-effort test takes the
//! namespaces away itself: it runs this test binary again under a seccomp
//! filter that refuses to create namespaces.

mod common;
#[path = "common/seccomp.rs"]
mod seccomp;

use common::runtime;
use sandboxcore::audit::AuditLog;
use sandboxcore::exec::{
    Capabilities, ExecOutcome, ExecRequest, Executor, Isolation, Network, ProcessConfig,
    ProcessExecutor, DEFAULT_PATH,
};
use sandboxcore::policy::{DeploymentMode, Policy};
use sandboxcore::{Plan, RunOptions, Sandbox};
use std::sync::OnceLock;
use std::time::Duration;

/// The backend with every default (`Isolation::Required`).
fn executor() -> &'static ProcessExecutor {
    static EXEC: OnceLock<ProcessExecutor> = OnceLock::new();
    EXEC.get_or_init(|| {
        ProcessExecutor::new(ProcessConfig::default())
            .unwrap_or_else(|e| panic!("the default (Required) backend cannot start here: {e}"))
    })
}

/// `/bin/sh -c script` with a known `PATH` and a timeout.
fn shell(script: &str) -> ExecRequest {
    let mut req = ExecRequest::new(Plan::Shell(script.into()));
    req.env.insert("PATH".into(), DEFAULT_PATH.into());
    req.limits.timeout = Some(Duration::from_secs(20));
    req
}

fn run_on(exec: &ProcessExecutor, req: ExecRequest) -> ExecOutcome {
    let o = runtime()
        .block_on(exec.execute(req))
        .unwrap_or_else(|e| panic!("the run failed: {e}"));
    assert!(o.success(), "{o:?}");
    o
}

/// The fields `run` claims that `backend` does not.
fn claimed_beyond(run: &Capabilities, backend: &Capabilities) -> Vec<&'static str> {
    run.fields()
        .into_iter()
        .zip(backend.fields())
        .filter(|((_, ran), (_, has))| *ran && !*has)
        .map(|((name, _), _)| name)
        .collect()
}

/// The network interfaces the command sees (`/proc/net/dev` is its
/// network namespace's).
const INTERFACES: &str = "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '";

fn interfaces(o: &ExecOutcome) -> Vec<String> {
    o.stdout_text().lines().map(str::to_string).collect()
}

#[test]
fn a_default_run_reports_what_the_backend_enforces() {
    let caps = executor().capabilities();
    let mut req = shell(INTERFACES);
    // The process backend limits CPU with a CPU time limit, which the
    // default limits leave unset.
    req.limits.cpu_time = Some(Duration::from_secs(10));
    let o = run_on(executor(), req);
    assert_eq!(o.enforced, caps);
    assert!(o.enforced.network_isolation && o.enforced.seccomp && o.enforced.pid_namespace);
    // What it claims is so: the command has nothing but loopback.
    assert_eq!(interfaces(&o), ["lo"]);

    let o = run_on(executor(), shell("true"));
    assert!(!o.enforced.cpu_limit, "no CPU time limit was set");
    assert_eq!(
        Capabilities {
            cpu_limit: caps.cpu_limit,
            ..o.enforced
        },
        caps
    );
}

#[test]
fn an_allowed_network_and_unset_limits_are_not_claimed() {
    let caps = executor().capabilities();
    let mut req = shell(INTERFACES);
    req.network = Network::Allowed;
    req.limits.memory = None;
    req.limits.processes = None;
    let o = run_on(executor(), req);
    let e = o.enforced;
    assert!(!e.network_isolation && !e.memory_limit && !e.process_limit);
    assert_eq!(claimed_beyond(&e, &caps), [] as [&str; 0]);
    // The rest of the isolation stays.
    assert!(e.read_only_root && e.pid_namespace && e.seccomp && e.no_new_privs);
    // The command sees the host's interfaces (where the host has more
    // than loopback).
    let host = std::fs::read_to_string("/proc/net/dev").unwrap();
    if host.lines().skip(2).count() > 1 {
        assert_ne!(interfaces(&o), ["lo"], "{host}");
    }
}

#[test]
fn isolation_off_claims_no_layer() {
    let exec = ProcessExecutor::new(ProcessConfig {
        isolation: Isolation::Off,
        ..ProcessConfig::default()
    })
    .unwrap();
    let o = run_on(&exec, shell("true"));
    let e = o.enforced;
    for (name, on) in [
        ("network_isolation", e.network_isolation),
        ("user_namespace", e.user_namespace),
        ("pid_namespace", e.pid_namespace),
        ("read_only_root", e.read_only_root),
        ("deny_read", e.deny_read),
        ("landlock", e.landlock),
        ("seccomp", e.seccomp),
        ("no_new_privs", e.no_new_privs),
    ] {
        assert!(!on, "{name} claimed with isolation off");
    }
    assert_eq!(claimed_beyond(&e, &exec.capabilities()), [] as [&str; 0]);
    assert!(e.closes_descriptors);
}

#[test]
fn a_command_that_was_not_found_enforced_nothing() {
    let o = runtime()
        .block_on(executor().execute(ExecRequest::new(Plan::Direct(vec![
            "no-such-program-runcaps".into(),
        ]))))
        .unwrap();
    assert_eq!(o.exit_code, Some(127));
    assert_eq!(o.enforced, Capabilities::default());
}

#[test]
fn the_audit_record_lists_what_was_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let exec = ProcessExecutor::new(ProcessConfig::default()).unwrap();
    let sb = Sandbox::builder()
        .policy(Policy::for_mode(DeploymentMode::Selfhosted))
        .executor(exec)
        .audit(AuditLog::with_jsonl(&path).unwrap())
        .build()
        .unwrap();
    let o = runtime()
        .block_on(sb.run("true", RunOptions::default()))
        .unwrap();
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let execution = lines
        .iter()
        .find(|l| l["event"] == "execution")
        .expect("an execution record");
    assert_eq!(execution["enforced"], serde_json::json!(o.enforced.names()));
    assert!(o.enforced.seccomp && o.enforced.names().contains(&"seccomp"));
    assert!(
        lines
            .iter()
            .filter(|l| l["event"] == "decision")
            .all(|l| l.get("enforced").is_none()),
        "{lines:?}"
    );
}

// ------------------------------------------- best effort without namespaces

/// Set in the copy of this binary that runs without namespaces.
const CHILD: &str = "SANDBOXCORE_TEST_NO_NAMESPACES";

#[test]
fn a_best_effort_run_without_namespaces_does_not_claim_them() {
    if std::env::var_os(CHILD).is_some() {
        return without_namespaces();
    }
    let filter = seccomp::namespace_filter();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap());
    child
        .args([
            "--exact",
            "a_best_effort_run_without_namespaces_does_not_claim_them",
            "--nocapture",
        ])
        .env(CHILD, "1");
    seccomp::under_filter(&mut child, filter);
    let out = child.output().unwrap();
    assert!(
        out.status.success(),
        "the run without namespaces failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The copy really ran this test (not zero tests).
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// In the copy under the filter: best effort skips the namespaces, and the
/// run says so and claims nothing they provide.
fn without_namespaces() {
    assert_eq!(unshare_errno(), Some(libc::EPERM), "the filter is in place");
    let exec = ProcessExecutor::new(ProcessConfig {
        isolation: Isolation::BestEffort,
        ..ProcessConfig::default()
    })
    .unwrap_or_else(|e| panic!("best effort starts anyway: {e}"));
    let skipped = exec.skipped_layers().to_vec();
    assert!(
        skipped
            .iter()
            .any(|s| s.starts_with("namespaces") || s.starts_with("user namespaces")),
        "{skipped:?}"
    );
    let caps = exec.capabilities();
    let ours = std::fs::read_link("/proc/self/ns/pid").unwrap();
    let o = run_on(&exec, shell("readlink /proc/self/ns/pid"));
    assert_eq!(o.isolation_skipped, skipped);
    let e = o.enforced;
    for (name, on) in [
        ("network_isolation", e.network_isolation),
        ("user_namespace", e.user_namespace),
        ("pid_namespace", e.pid_namespace),
        ("read_only_root", e.read_only_root),
        ("deny_read", e.deny_read),
    ] {
        assert!(!on, "{name} claimed without namespaces");
    }
    assert_eq!(claimed_beyond(&e, &caps), [] as [&str; 0]);
    // The layers that do not need namespaces are still there.
    assert!(e.seccomp && e.no_new_privs && e.closes_descriptors, "{e:?}");
    // And the claim is true: the command is in this process's pid
    // namespace.
    assert_eq!(o.stdout_text().trim(), ours.to_string_lossy());
}

/// The errno of `unshare(CLONE_NEWUTS)` (None when it succeeds, which
/// would give this process a namespace of its own: only under no filter).
fn unshare_errno() -> Option<i32> {
    // SAFETY: a new uts namespace for this process is harmless, and under
    // the filter the call only fails.
    let r = unsafe { libc::unshare(libc::CLONE_NEWUTS) };
    (r != 0).then(|| std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
}

// ------------------------------- one run: the trial left to the first run

/// Set in the copy of this binary that runs where `mount` is refused.
const NO_MOUNT_CHILD: &str = "SANDBOXCORE_TEST_NO_MOUNT";

/// Runs the test `name` of this binary again under `filter`, with `env`
/// set; fails unless it passed.
fn rerun_filtered(name: &str, env: &str, filter: Vec<libc::sock_filter>) {
    let mut child = std::process::Command::new(std::env::current_exe().unwrap());
    child.args(["--exact", name, "--nocapture"]).env(env, "1");
    seccomp::under_filter(&mut child, filter);
    let out = child.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{name} under the filter failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 passed"), "{stdout}");
}

#[test]
fn a_one_run_backend_claims_what_new_claims_and_its_run_verifies_the_layers() {
    let one = ProcessExecutor::for_one_run(ProcessConfig::default())
        .unwrap_or_else(|e| panic!("the one-run backend cannot start here: {e}"));
    // Asked before any run: the trial runs then, and finds what new's did.
    assert_eq!(one.capabilities(), executor().capabilities());
    let fresh = ProcessExecutor::for_one_run(ProcessConfig::default()).unwrap();
    let ours = std::fs::read_link("/proc/self/ns/pid").unwrap();
    let o = run_on(
        &fresh,
        shell("readlink /proc/self/ns/pid; touch /usr/x 2>&1 || echo ro"),
    );
    let out = o.stdout_text();
    assert!(!out.starts_with(&*ours.to_string_lossy()), "{out}");
    assert!(out.trim_end().ends_with("ro"), "{out}");
    assert_eq!(
        claimed_beyond(&o.enforced, &executor().capabilities()),
        [] as [&str; 0]
    );
    assert!(o.enforced.pid_namespace && o.enforced.read_only_root && o.enforced.seccomp);
    assert_eq!(fresh.capabilities(), executor().capabilities());
    // The first run had the namespaces the backend made at start, a
    // second run namespaces of its own: both isolated alike.
    let host_net = std::fs::read_link("/proc/self/ns/net").unwrap();
    let host_ipc = std::fs::read_link("/proc/self/ns/ipc").unwrap();
    let one = ProcessExecutor::for_one_run(ProcessConfig::default()).unwrap();
    let script = "hostname; readlink /proc/self/ns/net /proc/self/ns/ipc";
    for _ in 0..2 {
        let o = run_on(&one, shell(script));
        let lines: Vec<String> = o.stdout_text().lines().map(String::from).collect();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(lines[0], "sandbox");
        assert_ne!(lines[1], host_net.to_string_lossy(), "the host's network");
        assert_ne!(lines[2], host_ipc.to_string_lossy(), "the host's ipc");
        assert!(o.enforced.network_isolation, "{:?}", o.enforced);
    }
    // A command that fails on its own is its result, not the host's.
    let fresh = ProcessExecutor::for_one_run(ProcessConfig::default()).unwrap();
    let o = runtime()
        .block_on(fresh.execute(shell("kill -9 $$")))
        .unwrap_or_else(|e| panic!("a killed command is a result: {e}"));
    assert_eq!(o.signal, Some(9));
    let o = runtime()
        .block_on(fresh.execute(shell("exit 127")))
        .unwrap();
    assert_eq!(o.exit_code, Some(127));
}

#[test]
fn a_one_run_backend_refuses_a_host_that_cannot_build_the_view_as_new_does() {
    if std::env::var_os(NO_MOUNT_CHILD).is_some() {
        return without_mount();
    }
    rerun_filtered(
        "a_one_run_backend_refuses_a_host_that_cannot_build_the_view_as_new_does",
        NO_MOUNT_CHILD,
        seccomp::mount_filter(),
    );
}

/// In the copy under the mount filter.
fn without_mount() {
    let e = ProcessExecutor::new(ProcessConfig::default())
        .map(|_| ())
        .expect_err("new's trial finds the view cannot be built");
    let probe = e.to_string();
    assert!(
        probe.contains("isolation is required but this host cannot provide: the isolated run"),
        "{probe}"
    );
    assert_eq!(e.code(), sandboxcore::ErrorCode::BackendUnavailable);
    // The one-run backend starts (nothing run yet), and its first run is
    // refused with the probe's error: the command never ran.
    let one = ProcessExecutor::for_one_run(ProcessConfig::default())
        .unwrap_or_else(|e| panic!("nothing is run before the first run: {e}"));
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let mut req = shell(&format!("touch {}", marker.display()));
    req.cwd = Some(dir.path().to_path_buf());
    let e = runtime()
        .block_on(one.execute(req.clone()))
        .expect_err("the run cannot be isolated");
    assert_eq!(e.to_string(), probe);
    assert_eq!(e.code(), sandboxcore::ErrorCode::BackendUnavailable);
    assert!(!marker.exists(), "the command ran");
    // Later runs are refused alike, and nothing the view provides is claimed.
    let again = runtime().block_on(one.execute(req)).unwrap_err();
    assert_eq!(again.to_string(), probe);
    assert!(!marker.exists(), "the command ran");
    let caps = one.capabilities();
    assert!(
        !caps.pid_namespace && !caps.read_only_root && !caps.deny_read,
        "{caps:?}"
    );
    assert!(!caps.network_isolation && !caps.user_namespace, "{caps:?}");
    // Asked before any run, capabilities() runs the trial first.
    let fresh = ProcessExecutor::for_one_run(ProcessConfig::default()).unwrap();
    assert_eq!(fresh.capabilities(), caps);
    let e = runtime()
        .block_on(fresh.execute(shell("true")))
        .unwrap_err();
    assert_eq!(e.to_string(), probe);
}
