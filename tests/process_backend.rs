//! Containment tests of the process backend with real processes: limits,
//! no surviving descendants, bounded output, timeouts, environment scrub,
//! exact exit codes and signals, streaming and cancellation.
//!
//! Tests that need a capability this machine lacks (cgroups, root) are
//! skipped on a developer's machine but fail under `SANDBOXCORE_NO_SKIP=1`
//! (tests/common/skip.rs), where `.ci/run` runs them as root.

mod common;

use sandboxcore::exec::{
    Capabilities, ExecEvent, ExecOutcome, ExecRequest, Executor, Limits, ProcessConfig,
    ProcessExecutor, RunStatus, FIRST_RUN_UID, RUN_UID_COUNT,
};
use sandboxcore::Plan;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn executor() -> &'static ProcessExecutor {
    static EXEC: OnceLock<ProcessExecutor> = OnceLock::new();
    EXEC.get_or_init(|| {
        ProcessExecutor::new(ProcessConfig {
            kill_grace: Duration::from_millis(500),
            ..ProcessConfig::default()
        })
        .unwrap()
    })
}

fn shell(script: &str) -> ExecRequest {
    ExecRequest::new(Plan::Shell(script.into()))
}

fn run(req: ExecRequest) -> ExecOutcome {
    runtime().block_on(executor().execute(req)).unwrap()
}

/// Whether the capability is there; a missing one skips the test (a
/// failure under `SANDBOXCORE_NO_SKIP=1`: run as root with writable
/// cgroups).
fn require(what: &str, has: impl Fn(&Capabilities) -> bool) -> bool {
    skip_unless(what, has(&executor().capabilities()))
}

use common::{runtime, skip_unless, wait_until_gone};

#[test]
fn exit_codes_and_signals_are_exact() {
    let o = run(shell("exit 3"));
    assert_eq!((o.exit_code, o.signal), (Some(3), None));
    let o = run(shell("kill -9 $$"));
    assert_eq!((o.exit_code, o.signal), (None, Some(9)));
    assert_eq!(o.status(), RunStatus::Signal);
    let o = run(ExecRequest::new(Plan::Direct(vec!["false".into()])));
    assert_eq!(o.exit_code, Some(1));
    let o = run(ExecRequest::new(Plan::Direct(vec![
        "no-such-program-x".into()
    ])));
    assert_eq!(o.exit_code, Some(127));
    assert!(o.stderr_text().contains("command not found"));
}

#[test]
fn direct_plans_get_their_argv_exactly_without_a_shell() {
    let argv = ["printf", "%s|", "a b", "$HOME", "*", "'q'"];
    let o = run(ExecRequest::new(Plan::Direct(
        argv.iter().map(|s| s.to_string()).collect(),
    )));
    assert_eq!(o.stdout_text(), "a b|$HOME|*|'q'|");
}

#[test]
fn secrets_are_not_inherited_and_home_is_private() {
    // Set before any run; the values are fake.
    for (k, v) in [
        ("ANTHROPIC_API_KEY", "sk-ant-test"),
        ("OPENAI_API_KEY", "sk-test"),
        ("GITHUB_TOKEN", "ghp_test"),
        ("DATABASE_URL", "postgres://u:p@h/db"),
    ] {
        std::env::set_var(k, v);
    }
    let o = run(shell(
        r#"echo "[$ANTHROPIC_API_KEY][$OPENAI_API_KEY][$GITHUB_TOKEN][$DATABASE_URL]""#,
    ));
    assert_eq!(o.stdout_text(), "[][][][]\n");
    let o = run(shell("echo $HOME; pwd; test -w \"$HOME\" && echo writable"));
    let text = o.stdout_text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], lines[1], "starts in its own home");
    assert_eq!(lines[2], "writable");
    // Removed right after the run by the backend's background thread.
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::path::Path::new(lines[0]).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        !std::path::Path::new(lines[0]).exists(),
        "the home is removed after the run"
    );
}

#[test]
fn runs_unprivileged_and_without_network_when_root() {
    if !require("root (network isolation)", |c| c.network_isolation) {
        return;
    }
    let o = run(shell(
        "id -u; id -g; tail -n +3 /proc/net/dev | cut -d: -f1",
    ));
    let text = o.stdout_text();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let uid: u32 = lines[0].parse().unwrap();
    assert!(
        (FIRST_RUN_UID..FIRST_RUN_UID + RUN_UID_COUNT).contains(&uid),
        "a per-run uid: {text}"
    );
    assert_eq!(lines[1], lines[0], "a group of its own: {text}");
    assert_eq!(&lines[2..], ["lo"], "only a loopback device: {text}");
}

#[test]
fn concurrent_runs_cannot_touch_each_other() {
    if !require("root (per-run users)", |c| c.network_isolation) {
        return;
    }
    let rt = runtime();
    // The first run writes a note in its home, publishes its uid in a
    // directory both may write, then waits; the second, running at the same
    // time, looks for that note and for the first run's processes.
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let info = dir.path().join("first");
    let mut first = shell(&format!(
        "echo secret > \"$HOME/note\"; id -u > {0}.tmp && mv {0}.tmp {0}; sleep 3; cat \"$HOME/note\"",
        info.display()
    ));
    first.filesystem.writable.push(dir.path().to_path_buf());
    let second = async {
        while !info.exists() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let uid = std::fs::read_to_string(&info).unwrap();
        let script = format!(
            "id -u; cat \"$HOME/note\" 2>&1; ps -e -o args= | grep -c '^sleep 3$'; echo {}",
            uid.trim()
        );
        executor().execute(shell(&script)).await.unwrap()
    };
    let (a, b) = rt.block_on(async { tokio::join!(executor().execute(first), second) });
    let a = a.unwrap();
    let out = b.stdout_text();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out:?}");
    assert_ne!(lines[0], lines[3], "distinct uids: {out}");
    assert!(lines[1].contains("No such file"), "{out}");
    // Only the grep itself matches: the first run's sleep is invisible.
    assert_eq!(lines[2], "0", "{out}");
    assert_eq!(a.stdout_text(), "secret\n", "{a:?}");
}

#[test]
fn timeout_is_honoured_within_a_second() {
    let mut req = shell("sleep 30");
    req.limits.timeout = Some(Duration::from_secs(1));
    let t = Instant::now();
    let o = run(req);
    assert!(o.timed_out);
    assert_eq!(o.status(), RunStatus::Timeout);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());

    // A command that ignores SIGTERM is killed after the grace period.
    let mut req = shell("trap '' TERM; sleep 30; echo survived");
    req.limits.timeout = Some(Duration::from_secs(1));
    let t = Instant::now();
    let o = run(req);
    assert!(o.timed_out);
    assert!(!o.stdout_text().contains("survived"));
    assert!(
        t.elapsed() < Duration::from_millis(2600),
        "{:?}",
        t.elapsed()
    );
}

#[test]
fn no_descendant_survives_the_run() {
    if !require("cgroups (descendant tracking)", |c| c.kills_descendants) {
        return;
    }
    let o = run(shell(
        "setsid sleep 1000.101 & \
         nohup sleep 1000.102 >/dev/null 2>&1 & \
         (setsid sh -c 'sleep 1000.103' &) & \
         (sh -c '(sleep 1000.104 &) &' &); \
         sleep 0.2; echo started",
    ));
    assert_eq!(o.stdout_text(), "started\n");
    assert_eq!(wait_until_gone("sleep 1000.10"), Vec::<String>::new());
}

#[test]
fn dropping_the_future_kills_everything() {
    if !require("cgroups (descendant tracking)", |c| c.kills_descendants) {
        return;
    }
    let rt = runtime();
    let r = rt.block_on(async {
        tokio::time::timeout(
            Duration::from_millis(300),
            executor().execute(shell("setsid sleep 1000.201 & sleep 1000.202")),
        )
        .await
    });
    assert!(r.is_err(), "still running when dropped");
    assert_eq!(wait_until_gone("sleep 1000.20"), Vec::<String>::new());
}

#[test]
fn fork_bomb_is_contained_by_the_process_limit() {
    if !require("a pids cgroup", |c| c.process_limit) {
        return;
    }
    // The script forks once, for the subshell that starts the bomb, while
    // the cgroup is nearly empty (started directly, dash would fork each
    // side of the bomb's pipeline itself, and the first side's children
    // can reach the limit before the second fork: a failed fork ends dash).
    // After that it forks nothing (the loop, `[` and `echo` are builtins):
    // at the limit, a fork of its own would fail as the bomb's do, and the
    // script would end without saying `done`.
    let mut req = shell(
        "bomb_5e1f() { bomb_5e1f | bomb_5e1f & }; (bomb_5e1f) & \
         i=0; while [ $i -lt 20000 ]; do i=$((i + 1)); done; echo done",
    );
    req.limits.processes = Some(64);
    req.limits.timeout = Some(Duration::from_secs(4));
    let t = Instant::now();
    let o = run(req);
    assert!(t.elapsed() < Duration::from_secs(6), "{:?}", t.elapsed());
    // The limit stopped the bomb (forks failed), not the timeout: the
    // script went on to its end and exited by itself.
    assert!(!o.timed_out, "the bomb ran until the timeout: {o:?}");
    assert!(
        o.stderr_text().contains("fork"),
        "no fork was refused: {}",
        o.stderr_text()
    );
    assert!(o.stdout_text().contains("done"), "{o:?}");
    assert_eq!(wait_until_gone("bomb_5e1f"), Vec::<String>::new());
    // The host can still start processes.
    assert_eq!(run(shell("echo ok")).stdout_text(), "ok\n");
}

#[test]
fn memory_hog_is_stopped_by_the_memory_limit() {
    let mut req = ExecRequest::new(Plan::Direct(vec![
        "python3".into(),
        "-c".into(),
        "x = b'x' * (600 << 20); print(len(x))".into(),
    ]));
    req.limits.memory = Some(128 << 20);
    let o = run(req);
    assert_ne!(o.exit_code, Some(0), "{o:?}");
    assert!(!o.stdout_text().contains("629145600"));
    if require("a memory cgroup", |c| c.memory_limit) {
        assert!(o.oom_killed, "{o:?}");
        assert_eq!(o.signal, Some(9));
        assert_eq!(o.status(), RunStatus::Oom);
    }
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn ten_gigabytes_of_output_are_truncated_with_bounded_memory() {
    let before = peak_rss_kib();
    let mut req = shell("head -c 10G /dev/zero; echo tail-marker");
    req.limits.output_bytes = 1 << 20;
    req.limits.timeout = Some(Duration::from_secs(120));
    let o = run(req);
    assert_eq!(o.exit_code, Some(0));
    assert!(o.stdout_truncated);
    assert!(o.stdout.len() < (1 << 20) + 100, "{}", o.stdout.len());
    let text = String::from_utf8_lossy(&o.stdout[(1 << 19) - 10..]).into_owned();
    assert!(
        text.contains(&format!(
            "[sandboxcore: {} bytes of output dropped]",
            (10u64 << 30) + 12 - (1 << 20)
        )),
        "{}",
        &text[..100]
    );
    assert!(o.stdout.ends_with(b"tail-marker\n"));
    let grew = peak_rss_kib().saturating_sub(before);
    assert!(grew < 64 * 1024, "peak RSS grew by {grew} KiB");
}

#[test]
fn output_streams_while_the_command_runs() {
    let rt = runtime();
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(16);
        let run = executor().execute_streaming(shell("echo first; sleep 1; echo second >&2"), tx);
        let collect = async {
            let start = Instant::now();
            let mut seen = Vec::new();
            while let Some(e) = rx.recv().await {
                seen.push((start.elapsed(), e));
            }
            seen
        };
        let (outcome, seen) = tokio::join!(run, collect);
        let outcome = outcome.unwrap();
        assert!(matches!(seen[0].1, ExecEvent::Started { pid: Some(_) }));
        let (t, first) = &seen[1];
        assert_eq!(first, &ExecEvent::Stdout("first\n".into()));
        assert!(*t < Duration::from_millis(900), "first chunk came at {t:?}");
        assert_eq!(seen[2].1, ExecEvent::Stderr("second\n".into()));
        assert_eq!(seen.last().unwrap().1, ExecEvent::Exited(Box::new(outcome)));
    });
}

#[test]
fn stdin_is_given_and_defaults_to_dev_null() {
    let mut req = ExecRequest::new(Plan::Direct(vec!["cat".into()]));
    req.stdin = Some(b"hello\n".to_vec());
    assert_eq!(run(req).stdout_text(), "hello\n");
    let o = run(ExecRequest::new(Plan::Direct(vec!["cat".into()])));
    assert_eq!((o.exit_code, o.stdout.len()), (Some(0), 0));
}

#[test]
fn default_limits_are_applied_and_usage_reported() {
    // What the command sees: the default descriptor and file-size limits
    // (dash prints the file size in 512-byte blocks), and the process
    // limit where it counts the run alone (its own uid or user namespace).
    let d = Limits::default();
    let o = run(shell("ulimit -n; ulimit -f; ulimit -p"));
    let text = o.stdout_text();
    let lines: Vec<&str> = text.lines().collect();
    let expected = [
        d.open_files.unwrap().to_string(),
        (d.file_size.unwrap() / 512).to_string(),
        d.processes.unwrap().to_string(),
    ];
    assert_eq!(lines, expected, "{o:?}");
    let usage = o.usage.unwrap();
    assert!(usage.max_rss > 0);
    assert!(o.duration > Duration::ZERO);
}
