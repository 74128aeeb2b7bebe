//! The Docker backend against a real daemon: each containment property is
//! checked from inside the container and, where the daemon records it, from
//! `docker inspect`.
//!
//! Needs a daemon and the image `sandboxcore-test:busybox`
//! (`scripts/docker-test-image`). Without them the tests are skipped,
//! saying why, or fail under `SANDBOXCORE_NO_SKIP=1` (set by `.ci/run`;
//! tests/common/skip.rs).

mod common;

use bollard::models::ContainerInspectResponse;
use bollard::query_parameters::ListContainersOptionsBuilder;
use sandboxcore::exec::docker::{
    owner_label, DockerConfig, DockerExecutor, WorkspaceMount, MANAGED_LABEL, OWNER_LABEL,
};
use sandboxcore::exec::{ExecEvent, ExecOutcome, ExecRequest, Executor, Network, RunStatus};
use sandboxcore::policy::Plan;
use sandboxcore::Error;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const IMAGE: &str = "sandboxcore-test:busybox";
/// The label each test puts on its containers, to find them.
const TEST_LABEL: &str = "sandboxcore.test";

use common::skip::{skip, skip_unless, skips_fail};

/// A config for `test` (its containers carry the test's label).
fn config(test: &str) -> DockerConfig {
    let mut c = DockerConfig::new(IMAGE);
    // The agent is built by `make agent`; the plain path has its own test.
    assert!(
        c.agent.is_some() || !skips_fail(),
        "the agent binary is missing: run `make agent`"
    );
    c.labels.insert(TEST_LABEL.into(), test.into());
    c
}

/// The executor, or `None` (the test skipped, or failed under
/// `SANDBOXCORE_NO_SKIP=1`) when no daemon or image is available.
async fn executor(config: DockerConfig) -> Option<DockerExecutor> {
    match DockerExecutor::connect(config).await {
        Ok(e) => Some(e),
        Err(e @ Error::BackendUnavailable { .. }) | Err(e @ Error::InvalidInput(_))
            if !e.to_string().contains("agent") =>
        {
            skip(&format!("needs a Docker daemon and {IMAGE}: {e}"));
            None
        }
        Err(e) => panic!("{e}"),
    }
}

fn shell(script: &str) -> ExecRequest {
    ExecRequest::new(Plan::Shell(script.into()))
}

/// Runs `req`; the result says what was enforced for it: everything
/// Docker enforces but the network when the run has it and the limits it
/// did not set.
async fn run(exec: &DockerExecutor, req: ExecRequest) -> ExecOutcome {
    let expected = exec.capabilities().for_run(&req, &[]);
    let allowed = req.network == Network::Allowed;
    let (memory, processes) = (req.limits.memory.is_some(), req.limits.processes.is_some());
    let o = exec
        .execute(req)
        .await
        .expect("the run itself must not fail");
    assert_eq!(o.enforced, expected);
    assert_eq!(o.enforced.network_isolation, !allowed);
    assert_eq!(
        (o.enforced.memory_limit, o.enforced.process_limit),
        (memory, processes)
    );
    assert!(o.enforced.seccomp && o.enforced.pid_namespace && o.enforced.filesystem_isolation);
    o
}

/// Containers carrying this test's label (running or not).
async fn containers(exec: &DockerExecutor, test: &str) -> Vec<String> {
    let filters = HashMap::from([("label", vec![format!("{TEST_LABEL}={test}")])]);
    let opts = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    let list = exec.client().list_containers(Some(opts)).await.unwrap();
    list.into_iter().filter_map(|c| c.id).collect()
}

/// Asserts that the test's containers are all removed within 15 s (removal
/// runs in the background once a run has returned).
async fn assert_none_left(exec: &DockerExecutor, test: &str) {
    let end = Instant::now() + Duration::from_secs(15);
    loop {
        let left = containers(exec, test).await;
        if left.is_empty() {
            return;
        }
        assert!(Instant::now() < end, "containers left behind: {left:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs `req` and inspects its container while it runs (the command must
/// last long enough: start it with `sleep 1`).
async fn run_and_inspect(
    exec: &DockerExecutor,
    test: &str,
    req: ExecRequest,
) -> (ExecOutcome, ContainerInspectResponse) {
    let run = exec.execute(req);
    let inspect = async {
        loop {
            if let Some(id) = containers(exec, test).await.first() {
                if let Ok(info) = exec.client().inspect_container(id, None).await {
                    if info.state.as_ref().and_then(|s| s.running) == Some(true) {
                        return info;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let (outcome, info) = tokio::join!(run, inspect);
    (outcome.unwrap(), info)
}

macro_rules! docker_test {
    ($name:ident, $exec:ident, $body:block) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let test = stringify!($name);
            let Some($exec) = executor(config(test)).await else {
                return;
            };
            $body
            assert_none_left(&$exec, test).await;
        }
    };
}

docker_test!(the_daemon_records_every_hardening_option, exec, {
    let test = "the_daemon_records_every_hardening_option";
    let (o, info) = run_and_inspect(&exec, test, shell("sleep 1")).await;
    assert!(o.success(), "{o:?}");
    let config = info.config.unwrap();
    assert_eq!(config.user.as_deref(), Some("1000:1000"));
    // Only the image's own PATH: nothing from the host.
    let env = config.env.unwrap_or_default();
    assert!(env.iter().all(|e| e.starts_with("PATH=")), "{env:?}");
    let host = info.host_config.unwrap();
    assert_eq!(host.cap_drop, Some(vec!["ALL".to_string()]));
    assert_eq!(host.cap_add, None);
    assert_eq!(host.privileged, Some(false));
    assert_eq!(host.readonly_rootfs, Some(true));
    assert_eq!(host.network_mode.as_deref(), Some("none"));
    assert!(host
        .security_opt
        .unwrap()
        .contains(&"no-new-privileges:true".to_string()));
    assert_eq!(host.pids_limit, Some(256));
    assert_eq!(host.memory, Some(512 << 20));
    assert_eq!(host.memory_swap, Some(512 << 20));
    assert_eq!(host.nano_cpus, Some(1_000_000_000));
    let tmp = &host.tmpfs.unwrap()["/tmp"];
    assert!(tmp.contains("noexec") && tmp.contains("size="), "{tmp}");
    assert!(tmp.ends_with(",uid=1000,gid=1000"), "{tmp}");
    let mounts = info.mounts.unwrap();
    assert!(mounts.iter().all(|m| m.rw == Some(false)), "{mounts:?}");
});

docker_test!(commands_run_as_a_non_root_user, exec, {
    let o = run(&exec, shell("id -u; id -g; id -G")).await;
    assert_eq!(o.stdout_text(), "1000\n1000\n1000\n", "{o:?}");
});

docker_test!(the_root_filesystem_is_read_only_and_tmp_is_noexec, exec, {
    let o = run(
        &exec,
        shell(
            "touch /etc/x 2>&1; touch /x 2>&1; echo ok > /tmp/f && cat /tmp/f; \
             cp /bin/busybox /tmp/bb && /tmp/bb true 2>&1; echo exec=$?",
        ),
    )
    .await;
    let out = o.stdout_text();
    assert_eq!(out.matches("Read-only file system").count(), 2, "{out}");
    assert!(out.contains("ok\n"), "{out}");
    assert!(
        out.contains("Permission denied") && out.contains("exec=126"),
        "{out}"
    );
});

docker_test!(relaxing_the_root_filesystem_is_explicit, exec, {
    let test = "relaxing_the_root_filesystem_is_explicit";
    // The image's /home/sandbox belongs to uid 1000: only the read-only
    // root stops the write.
    let script = "touch /home/sandbox/x 2>&1; echo rc=$?";
    let o = run(&exec, shell(script)).await;
    assert!(o.stdout_text().contains("Read-only file system"), "{o:?}");
    let mut c = config(test);
    c.read_only_root = false;
    let writable = executor(c).await.unwrap();
    assert_eq!(run(&writable, shell(script)).await.stdout_text(), "rc=0\n");
});

docker_test!(
    the_command_has_no_capabilities_and_no_new_privileges,
    exec,
    {
        let o = run(
            &exec,
            shell("grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status"),
        )
        .await;
        let out = o.stdout_text();
        for want in [
            "CapEff:\t0000000000000000",
            "CapPrm:\t0000000000000000",
            "CapBnd:\t0000000000000000",
            "NoNewPrivs:\t1",
            "Seccomp:\t2",
        ] {
            assert!(out.contains(want), "{want} not in {out}");
        }
    }
);

docker_test!(the_command_cannot_reach_the_agent, exec, {
    // The agent (PID 1) is not dumpable: its descriptors and memory are
    // closed to the command, though both run as uid 1000.
    let o = run(
        &exec,
        shell("ls /proc/1/fd 2>&1; echo forged > /proc/1/fd/1 2>&1; echo rc=$?"),
    )
    .await;
    let out = o.stdout_text();
    assert!(
        out.contains("Permission denied") && out.ends_with("rc=1\n"),
        "{out}"
    );
    assert!(o.success() && !out.contains("forged"), "{o:?}");
});

docker_test!(a_fork_bomb_is_stopped_by_the_pids_limit, exec, {
    let mut req = shell(
        "cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max 2>/dev/null; \
         (i=0; while [ $i -lt 200 ]; do sleep 30 </dev/null >/dev/null 2>&1 & i=$((i+1)); done) 2>/tmp/err; \
         echo rc=$?; while read -r l; do echo \"$l\"; done </tmp/err",
    );
    req.limits.processes = Some(32);
    req.limits.timeout = Some(Duration::from_secs(30));
    let o = run(&exec, req).await;
    let out = o.stdout_text();
    assert!(out.starts_with("32\n"), "{out}\n{o:?}");
    // The subshell could not fork its way past the limit (and the main
    // shell, with no pids left, only runs builtins).
    assert!(out.contains("rc=2") && out.contains("can't fork"), "{out}");
    assert!(!o.timed_out, "{o:?}");
    // The real thing also ends: the agent's exit takes the bomb with it.
    let mut bomb = shell("b() { b | b & }; b; sleep 1");
    bomb.limits.processes = Some(32);
    bomb.limits.timeout = Some(Duration::from_secs(30));
    let o = run(&exec, bomb).await;
    assert!(!o.timed_out, "{o:?}");
    // And nothing of it is left to trouble the next command.
    assert_eq!(
        run(&exec, shell("echo alive")).await.stdout_text(),
        "alive\n"
    );
});

docker_test!(a_memory_hog_is_reported_as_oom_killed, exec, {
    let mut req = shell("head -c 400000000 /dev/zero | tail -c 300000000 | wc -c");
    req.limits.memory = Some(64 << 20);
    let o = run(&exec, req).await;
    assert!(o.oom_killed, "{o:?}");
    assert_eq!(o.status(), RunStatus::Oom);
    assert!(!o.stdout_text().contains("300000000"), "{o:?}");
});

docker_test!(filling_tmp_stops_at_the_tmpfs_size, exec, {
    let test = "filling_tmp_stops_at_the_tmpfs_size";
    let mut c = config(test);
    c.tmp_size = 8 << 20;
    let small = executor(c).await.unwrap();
    let o = run(
        &small,
        shell("dd if=/dev/zero of=/tmp/f bs=1M count=64 2>&1; wc -c < /tmp/f"),
    )
    .await;
    let out = o.stdout_text();
    assert!(out.contains("No space left on device"), "{out}");
    let size: u64 = out.lines().last().unwrap().trim().parse().unwrap();
    assert!(size <= 8 << 20, "{size}");
});

/// Runs `script` as root in a plain container of `image` (no tmpfs, none
/// of the backend's options) and returns the container and its exit code;
/// the caller removes the container.
async fn one_off(exec: &DockerExecutor, image: &str, script: &str) -> (String, i64) {
    use futures_util::StreamExt;
    let docker = exec.client();
    let body = bollard::models::ContainerCreateBody {
        image: Some(image.into()),
        user: Some("0:0".into()),
        entrypoint: Some(vec!["/bin/sh".into(), "-c".into()]),
        cmd: Some(vec![script.into()]),
        network_disabled: Some(true),
        ..Default::default()
    };
    let id = docker
        .create_container(
            None::<bollard::query_parameters::CreateContainerOptions>,
            body,
        )
        .await
        .unwrap()
        .id;
    docker.start_container(&id, None).await.unwrap();
    let mut code = None;
    let mut wait = docker.wait_container(&id, None);
    while let Some(status) = wait.next().await {
        code = Some(match status {
            Ok(r) => r.status_code,
            Err(bollard::errors::Error::DockerContainerWaitError { code, .. }) => code,
            Err(e) => panic!("{e}"),
        });
    }
    (id, code.expect("no exit status"))
}

async fn remove(exec: &DockerExecutor, id: &str) {
    let opts = bollard::query_parameters::RemoveContainerOptionsBuilder::default()
        .force(true)
        .build();
    exec.client()
        .remove_container(id, Some(opts))
        .await
        .unwrap();
}

/// An image like the test image but whose `/tmp` is `0755 root:root` (as
/// in many real images), made from it with a `chmod` and `docker commit`:
/// local and deterministic, no registry. Checked each time.
async fn image_with_tmp_0755(exec: &DockerExecutor) -> String {
    const NAME: &str = "sandboxcore-test:tmp0755";
    const IS_0755: &str = "[ \"$(stat -c %a:%u:%g /tmp)\" = 755:0:0 ]";
    if exec.client().inspect_image(NAME).await.is_err() {
        let (id, code) = one_off(exec, IMAGE, "chmod 0755 /tmp").await;
        assert_eq!(code, 0, "chmod 0755 /tmp failed");
        let commit = bollard::query_parameters::CommitContainerOptionsBuilder::default()
            .container(&id)
            .repo("sandboxcore-test")
            .tag("tmp0755")
            .build();
        // The test image's entrypoint and command again, not the chmod's.
        let config = bollard::models::ContainerConfig {
            entrypoint: Some(vec![]),
            cmd: Some(vec!["/bin/sh".into()]),
            ..Default::default()
        };
        exec.client()
            .commit_container(commit, config)
            .await
            .unwrap();
        remove(exec, &id).await;
    }
    let (id, code) = one_off(exec, NAME, IS_0755).await;
    remove(exec, &id).await;
    assert_eq!(code, 0, "{NAME}: /tmp is not 0755 root:root");
    NAME.into()
}

docker_test!(tmp_is_writable_and_bounded_whatever_the_image_mode, exec, {
    let test = "tmp_is_writable_and_bounded_whatever_the_image_mode";
    let mut c = config(test);
    c.image = image_with_tmp_0755(&exec).await;
    c.tmp_size = 8 << 20;
    let mut runs = vec![("agent", executor(c.clone()).await.unwrap())];
    let mut plain = c.clone();
    plain.agent = None;
    runs.push(("plain", executor(plain).await.unwrap()));
    let info = exec.client().info().await.unwrap();
    if info.runtimes.unwrap_or_default().contains_key("runsc") {
        c.runtime = Some("runsc".into());
        runs.push(("runsc", executor(c).await.unwrap()));
    }
    let script = "stat -c '%a %u' /tmp; echo ok > /tmp/f && cat /tmp/f; \
                  dd if=/dev/zero of=/tmp/big bs=1M count=64 2>&1; wc -c < /tmp/big; \
                  grep ' /tmp ' /proc/mounts";
    for (how, exec) in &runs {
        let o = run(exec, shell(script)).await;
        let out = o.stdout_text();
        let mut lines = out.lines();
        // Owned by the run's user; its mode is the image's 755 under runc
        // before 1.1.8 (Debian 12's), 1777 where `mode=` is honoured.
        let owner = lines.next().unwrap();
        assert!(owner.ends_with(" 1000"), "{how}: {out}");
        assert_eq!(lines.next(), Some("ok"), "{how}: /tmp not writable: {out}");
        assert!(out.contains("No space left on device"), "{how}: {out}");
        let mount = lines.next_back().unwrap();
        let size: u64 = lines.next_back().unwrap().trim().parse().unwrap();
        assert!(size <= 8 << 20, "{how}: {size}");
        assert!(mount.contains(" /tmp tmpfs "), "{how}: {mount}");
        // gVisor lists fewer flags (and the size in bytes).
        let flags: &[&str] = match *how {
            "runsc" => &["rw", "noexec", "size=8388608"],
            _ => &["rw", "nosuid", "nodev", "noexec", "size=8192k"],
        };
        for flag in flags {
            let mut opts = mount.split([' ', ',']);
            assert!(opts.any(|o| o == *flag), "{how}: {flag}: {mount}");
        }
    }
});

docker_test!(an_output_flood_is_truncated, exec, {
    let mut req = shell("yes | head -c 100000000; echo done >&2");
    req.limits.output_bytes = 64 << 10;
    let o = run(&exec, req).await;
    assert!(o.success(), "{o:?}");
    assert!(o.stdout_truncated);
    assert!(o.stdout.len() < (64 << 10) + 200, "{}", o.stdout.len());
    assert!(o.stdout_text().contains("bytes omitted") || o.stdout_text().contains("sandboxcore"));
    assert_eq!(o.stderr_text(), "done\n");
});

docker_test!(there_is_no_network, exec, {
    let o = run(
        &exec,
        shell("cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '; wget -T 3 -q -O- http://1.1.1.1/ 2>&1; echo wget=$?; nc -w 2 8.8.8.8 53 </dev/null 2>&1; echo nc=$?"),
    )
    .await;
    let out = o.stdout_text();
    assert!(out.starts_with("lo\n"), "only loopback: {out}");
    assert!(out.contains("Network is unreachable"), "{out}");
    assert!(out.contains("wget=1") && out.contains("nc=1"), "{out}");
});

docker_test!(no_secrets_reach_the_container, exec, {
    std::env::set_var("SANDBOXCORE_TEST_API_KEY", "sk-do-not-leak");
    std::env::set_var("LANG", "C.UTF-8");
    let mut req = shell("env | sort");
    req.env.insert("GIVEN".into(), "by-the-request".into());
    let o = run(&exec, req).await;
    let out = o.stdout_text();
    assert!(!out.contains("sk-do-not-leak"), "{out}");
    let names: Vec<&str> = out.lines().map(|l| l.split('=').next().unwrap()).collect();
    // PWD and SHLVL are the shell's own.
    assert_eq!(names, ["GIVEN", "HOME", "PATH", "PWD", "SHLVL"], "{out}");
});

docker_test!(only_the_workspace_of_the_host_is_visible, exec, {
    let test = "only_the_workspace_of_the_host_is_visible";
    let ws = tempfile::tempdir().unwrap();
    std::fs::write(ws.path().join("input.txt"), "from the host\n").unwrap();
    let outside = tempfile::NamedTempFile::new().unwrap();
    let mut c = config(test);
    c.workspace = Some(WorkspaceMount::parse(&format!("{}:ro", ws.path().display())).unwrap());
    let ro = executor(c).await.unwrap();
    let script = format!(
        "pwd; cat input.txt; touch new 2>&1; ls {0} 2>&1; ls /root /work 2>&1 | head -2",
        outside.path().display()
    );
    let o = run(&ro, shell(&script)).await;
    let out = o.stdout_text();
    assert!(out.starts_with("/workspace\nfrom the host\n"), "{out}");
    assert!(out.contains("Read-only file system"), "{out}");
    assert!(
        out.matches("No such file or directory").count() >= 2,
        "{out}"
    );
    // Read-write: the command's file appears on the host.
    let mut c = config(test);
    c.workspace = Some(WorkspaceMount::parse(&ws.path().display().to_string()).unwrap());
    // SAFETY: getuid and getgid have no preconditions.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    c.user = format!("{uid}:{gid}");
    c.allow_root = true;
    let rw = executor(c).await.unwrap();
    let o = run(&rw, shell("echo made > out.txt")).await;
    assert!(o.success(), "{o:?}");
    assert_eq!(
        std::fs::read_to_string(ws.path().join("out.txt")).unwrap(),
        "made\n"
    );
});

docker_test!(a_timeout_kills_and_removes_the_container, exec, {
    let mut req = shell("echo before; sleep 60");
    req.limits.timeout = Some(Duration::from_millis(1500));
    let t = Instant::now();
    let o = run(&exec, req).await;
    assert!(o.timed_out, "{o:?}");
    assert_eq!(o.status(), RunStatus::Timeout);
    assert_eq!(o.stdout_text(), "before\n");
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
});

docker_test!(exit_codes_signals_stdin_cwd_and_env_are_exact, exec, {
    let o = run(&exec, shell("exit 3")).await;
    assert_eq!((o.exit_code, o.signal), (Some(3), None));
    let o = run(&exec, shell("kill -TERM $$")).await;
    assert_eq!((o.exit_code, o.signal), (None, Some(15)));
    let o = run(&exec, shell("exit 137")).await;
    assert_eq!(
        (o.exit_code, o.signal),
        (Some(137), None),
        "told apart from SIGKILL"
    );
    let mut req = ExecRequest::new(Plan::Direct(vec![
        "sh".into(),
        "-c".into(),
        "pwd; echo \"$X\"; tr a-z A-Z".into(),
    ]));
    req.stdin = Some(b"hello\n".to_vec());
    req.cwd = Some("/etc".into());
    req.env.insert("X".into(), "a b  c".into());
    let o = run(&exec, req).await;
    assert_eq!(o.stdout_text(), "/etc\na b  c\nHELLO\n");
    let mut req = shell("true");
    req.cwd = Some("/no/such/dir".into());
    let o = run(&exec, req).await;
    assert_eq!(o.exit_code, Some(126));
    assert!(
        o.stderr_text()
            .contains("cannot enter the working directory /no/such/dir"),
        "{o:?}"
    );
    let o = run(
        &exec,
        ExecRequest::new(Plan::Direct(vec!["no-such-program".into()])),
    )
    .await;
    assert_eq!(o.exit_code, Some(127));
    assert!(o.stderr_text().contains("no-such-program"), "{o:?}");
    let argv = vec![
        "printf".to_string(),
        "[%s]".into(),
        "a b".into(),
        "$HOME".into(),
        "*".into(),
    ];
    let o = run(&exec, ExecRequest::new(Plan::Direct(argv))).await;
    assert_eq!(o.stdout_text(), "[a b][$HOME][*]");
});

docker_test!(output_streams_as_events, exec, {
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let run = exec.execute_streaming(shell("echo one; sleep 0.3; echo two >&2"), tx);
    let collect = async {
        let mut seen = Vec::new();
        while let Some(e) = rx.recv().await {
            seen.push(e);
        }
        seen
    };
    let (o, seen) = tokio::join!(run, collect);
    let o = o.unwrap();
    assert!(
        matches!(seen.first(), Some(ExecEvent::Started { .. })),
        "{seen:?}"
    );
    assert!(
        seen.contains(&ExecEvent::Stdout("one\n".into())),
        "{seen:?}"
    );
    assert!(
        seen.contains(&ExecEvent::Stderr("two\n".into())),
        "{seen:?}"
    );
    assert!(matches!(seen.last(), Some(ExecEvent::Exited(x)) if **x == o));
});

docker_test!(a_dropped_run_removes_its_container, exec, {
    let test = "a_dropped_run_removes_its_container";
    let run = exec.execute(shell("sleep 60"));
    let wait = async {
        while containers(&exec, test).await.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::select! {
        _ = run => panic!("the run should still be going"),
        _ = wait => {}
    }
});

docker_test!(runs_dropped_at_any_point_leave_no_container, exec, {
    let test = "runs_dropped_at_any_point_leave_no_container";
    // xorshift, seeded from the clock (printed, to replay a failure).
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("seed {seed}");
    let mut x = seed;
    let mut random = move |below: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % below
    };
    for i in 0..30 {
        let before = containers(&exec, test).await;
        // A container of this run (not one of the earlier runs, still
        // being removed in the background) in the state asked for.
        let new_one = |running: bool| {
            let before = &before;
            let exec = &exec;
            async move {
                loop {
                    for id in containers(exec, test).await {
                        if before.contains(&id) {
                            continue;
                        }
                        if !running {
                            return;
                        }
                        if let Ok(info) = exec.client().inspect_container(&id, None).await {
                            if info.state.and_then(|s| s.running) == Some(true) {
                                return;
                            }
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            }
        };
        let delay = Duration::from_millis(random(150));
        // Dropped: as soon as the daemon lists the container (created, the
        // answer to the create request maybe not yet read); after a random
        // delay (creating, attaching or starting); once it runs.
        let drop_point = async {
            match i % 3 {
                0 => new_one(false).await,
                1 => tokio::time::sleep(delay).await,
                _ => {
                    new_one(true).await;
                    tokio::time::sleep(delay / 3).await
                }
            }
        };
        tokio::select! {
            o = exec.execute(shell("sleep 60")) => panic!("run {i} ended: {o:?}"),
            _ = drop_point => {}
        }
    }
    // (The macro then waits up to 15 s for no container of this test.)
});

docker_test!(the_plain_path_runs_without_the_agent, exec, {
    let test = "the_plain_path_runs_without_the_agent";
    let mut c = config(test);
    c.agent = None;
    let plain = executor(c).await.unwrap();
    let mut req = ExecRequest::new(Plan::Direct(vec![
        "sh".into(),
        "-c".into(),
        "echo out; echo err >&2; cat; exit 4".into(),
    ]));
    req.stdin = Some(b"in\n".to_vec());
    let o = run(&plain, req).await;
    assert_eq!(o.exit_code, Some(4), "{o:?}");
    assert_eq!(o.stdout_text(), "out\nin\n");
    assert_eq!(o.stderr_text(), "err\n");
    let mut hog = shell("head -c 400000000 /dev/zero | tail -c 300000000 | wc -c");
    hog.limits.memory = Some(64 << 20);
    assert!(run(&plain, hog).await.oom_killed);
    let mut slow = shell("sleep 60");
    slow.limits.timeout = Some(Duration::from_secs(1));
    assert!(run(&plain, slow).await.timed_out);
    let _ = exec;
});

docker_test!(the_warm_pool_serves_one_command_per_container, exec, {
    let test = "the_warm_pool_serves_one_command_per_container";
    let mut c = config(test);
    c.pool_size = 2;
    let pooled = executor(c).await.unwrap();
    assert_eq!(pooled.pool_ready(Duration::from_secs(30)).await, 2);
    let o = run(&pooled, shell("echo secret > /tmp/left; hostname")).await;
    let first_host = o.stdout_text().into_owned();
    let o = run(&pooled, shell("cat /tmp/left 2>&1; hostname")).await;
    assert!(o.stdout_text().contains("No such file"), "{o:?}");
    assert_ne!(o.stdout_text().lines().last().unwrap(), first_host.trim());
    // A request the pool was not made for (other limits) runs cold.
    let mut other = shell("cat /sys/fs/cgroup/pids/pids.max");
    other.limits.processes = Some(7);
    let o = run(&pooled, other).await;
    assert_eq!(o.stdout_text(), "7\n", "{o:?}");
    assert_eq!(pooled.pool_ready(Duration::from_secs(30)).await, 2);
    // Pool containers that died while waiting: the run falls back to a cold
    // container, and reports one start.
    for id in containers(&pooled, test).await {
        let _ = pooled.client().kill_container(&id, None).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let o = pooled
        .execute_streaming(shell("echo after"), tx)
        .await
        .unwrap();
    assert_eq!(o.stdout_text(), "after\n", "{o:?}");
    let mut starts = 0;
    while let Ok(e) = rx.try_recv() {
        starts += usize::from(matches!(e, ExecEvent::Started { .. }));
    }
    assert_eq!(starts, 1);
    drop(pooled);
});

/// Creates and starts a managed container of this test whose owner label
/// names a process of this host that does not exist.
async fn container_of_a_dead_process(exec: &DockerExecutor, test: &str) -> String {
    let labels = HashMap::from([
        (MANAGED_LABEL.to_string(), "true".to_string()),
        (OWNER_LABEL.to_string(), owner_label(999_999_999)),
        (TEST_LABEL.to_string(), test.to_string()),
    ]);
    let body = bollard::models::ContainerCreateBody {
        image: Some(IMAGE.into()),
        cmd: Some(vec!["sleep".into(), "600".into()]),
        labels: Some(labels),
        ..Default::default()
    };
    let id = exec
        .client()
        .create_container(
            None::<bollard::query_parameters::CreateContainerOptions>,
            body,
        )
        .await
        .unwrap()
        .id;
    exec.client().start_container(&id, None).await.unwrap();
    id
}

docker_test!(containers_of_dead_processes_are_reaped, exec, {
    let test = "containers_of_dead_processes_are_reaped";
    // reap() returns once the container is gone (whoever removed it: the
    // executors of tests running alongside reap too).
    let id = container_of_a_dead_process(&exec, test).await;
    let report = exec.reap().await.unwrap();
    assert!(containers(&exec, test).await.is_empty(), "{id}: {report:?}");
    // A new executor removes it without being asked.
    let id = container_of_a_dead_process(&exec, test).await;
    let fresh = executor(config(test)).await.unwrap();
    let end = Instant::now() + Duration::from_secs(15);
    while !containers(&exec, test).await.is_empty() {
        assert!(Instant::now() < end, "{id} was not removed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    fresh.reap().await.unwrap();
    // A live process's containers are not touched: a run goes on while
    // reap() lists its container.
    let mine = exec.execute(shell("sleep 1"));
    let reaped = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        fresh.reap().await.unwrap()
    };
    let (o, reaped) = tokio::join!(mine, reaped);
    assert!(o.unwrap().success(), "{reaped:?}");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_command_runs_under_gvisor() {
    let test = "the_same_command_runs_under_gvisor";
    let Some(exec) = executor(config(test)).await else {
        return;
    };
    let info = exec.client().info().await.unwrap();
    let runsc = info.runtimes.unwrap_or_default().contains_key("runsc");
    if !skip_unless(
        "the daemon's runsc runtime (scripts/start-dockerd registers it)",
        runsc,
    ) {
        return;
    }
    let mut c = config(test);
    c.runtime = Some("runsc".into());
    let gvisor = executor(c).await.unwrap();
    let script = "id -u; grep CapEff /proc/self/status; dmesg 2>/dev/null | head -1; touch /x 2>&1; echo done";
    let o = run(&gvisor, shell(script)).await;
    let out = o.stdout_text();
    assert!(o.success(), "{o:?}");
    assert!(
        out.starts_with("1000\nCapEff:\t0000000000000000\n"),
        "{out}"
    );
    assert!(out.contains("gVisor"), "the kernel is gVisor's: {out}");
    assert!(out.contains("touch: /x: "), "{out}");
    assert_none_left(&exec, test).await;
}

docker_test!(an_agent_that_cannot_answer_is_an_error, exec, {
    let test = "an_agent_that_cannot_answer_is_an_error";
    // A static binary that is not the agent: busybox, called as `agent`.
    let mut c = config(test);
    c.agent = Some("/bin/busybox".into());
    let wrong = executor(c).await.unwrap();
    let err = wrong.execute(shell("true")).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("agent ended without running the command"),
        "{msg}"
    );
    assert!(msg.contains("applet not found"), "{msg}");
    let _ = exec;
});

/// A throwaway local registry (Debian's `docker-registry`) on a free port.
struct Registry {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Registry {
    fn start() -> Option<Registry> {
        let binary = ["/usr/bin/docker-registry", "/usr/bin/registry"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let dir = tempfile::tempdir().ok()?;
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.path().join("data").display()
            ),
        )
        .ok()?;
        let child = std::process::Command::new(binary)
            .args(["serve", config.to_str()?])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let registry = Registry {
            child,
            port,
            _dir: dir,
        };
        let end = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(registry)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

docker_test!(a_missing_image_is_pulled_only_when_asked, exec, {
    use bollard::query_parameters::{PushImageOptionsBuilder, TagImageOptionsBuilder};
    use futures_util::StreamExt;
    use sandboxcore::exec::docker::PullPolicy;
    let test = "a_missing_image_is_pulled_only_when_asked";
    let Some(registry) = Registry::start() else {
        skip("needs docker-registry to pull from (apt-get install docker-registry)");
        return;
    };
    // Put the test image into the registry, then remove the local copy.
    let repo = format!("127.0.0.1:{}/sandboxcore-pull", registry.port);
    let image = format!("{repo}:test");
    let docker = exec.client();
    docker
        .tag_image(
            IMAGE,
            Some(
                TagImageOptionsBuilder::default()
                    .repo(&repo)
                    .tag("test")
                    .build(),
            ),
        )
        .await
        .unwrap();
    let mut push = docker.push_image(
        &repo,
        Some(PushImageOptionsBuilder::default().tag("test").build()),
        Some(bollard::auth::DockerCredentials::default()),
    );
    while let Some(step) = push.next().await {
        let info = step.unwrap();
        assert!(info.error_detail.is_none(), "{info:?}");
    }
    docker
        .remove_image(
            &image,
            None::<bollard::query_parameters::RemoveImageOptions>,
            None,
        )
        .await
        .unwrap();
    // Not pulled unless asked.
    let mut c = config(test);
    c.image = image.clone();
    let err = DockerExecutor::connect(c.clone()).await.unwrap_err();
    assert!(err.to_string().contains("not present locally"), "{err}");
    c.pull = PullPolicy::IfMissing;
    let pulled = DockerExecutor::connect(c).await.unwrap();
    let o = run(&pulled, shell("echo pulled")).await;
    assert_eq!(o.stdout_text(), "pulled\n", "{o:?}");
    drop(pulled);
    assert_none_left(&exec, test).await;
    let _ = docker
        .remove_image(
            &image,
            None::<bollard::query_parameters::RemoveImageOptions>,
            None,
        )
        .await;
});

docker_test!(verify_passes_every_check_in_a_container, exec, {
    // The same probes as `sandboxcore verify --backend docker`.
    let checks = sandboxcore::verify::verify(&exec).await;
    let failed: Vec<_> = checks.iter().filter(|c| !c.passed).collect();
    assert!(failed.is_empty(), "{}", sandboxcore::verify::table(&checks));
    assert_eq!(checks.len(), 12);
});

// Allowlist runs: the container keeps `network_mode: none`; the host
// serves the run's egress proxy on a Unix socket bind-mounted into it, and
// the agent carries the container's 127.0.0.1:3128 there.

/// An HTTP server on the host's loopback answering every request with
/// `hello from upstream: <request line>`.
async fn upstream() -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut got = Vec::new();
                let mut buf = [0u8; 4096];
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&got)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string();
                let body = format!("hello from upstream: {line}\n");
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all((head + &body).as_bytes()).await;
            });
        }
    });
    addr
}

/// An allowlist network: `pypi.test` (resolved by the proxy to
/// 127.0.0.1, which an address rule allows) and nothing else;
/// `blocked.test` is denied by name.
fn allowlist() -> sandboxcore::exec::Network {
    use sandboxcore::net::{EgressRules, StaticResolver};
    use std::sync::Arc;
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let rules =
        EgressRules::new(&s(&["pypi.test", "127.0.0.1"]), &s(&["blocked.test"]), &[]).unwrap();
    let loopback: std::net::IpAddr = "127.0.0.1".parse().unwrap();
    let resolver = StaticResolver::new()
        .with("pypi.test", &[loopback])
        .with("blocked.test", &[loopback]);
    sandboxcore::exec::Network::Allowlist(Arc::new(
        sandboxcore::net::Egress::new(rules).with_resolver(Arc::new(resolver)),
    ))
}

fn allowlisted(script: &str) -> ExecRequest {
    let mut req = shell(script);
    req.network = allowlist();
    req
}

/// The host directory mounted at the container's egress directory.
fn egress_source(info: &ContainerInspectResponse) -> std::path::PathBuf {
    info.mounts
        .iter()
        .flatten()
        .find(|m| m.destination.as_deref() == Some(sandboxcore::exec::docker::EGRESS_DIR))
        .and_then(|m| m.source.clone())
        .expect("the container has an egress directory")
        .into()
}

/// Asserts that `dir` is removed within 15 s.
async fn assert_removed(dir: &std::path::Path) {
    let end = Instant::now() + Duration::from_secs(15);
    while dir.exists() {
        assert!(Instant::now() < end, "{} left behind", dir.display());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

docker_test!(an_allowed_host_is_reached_through_the_proxy, exec, {
    let test = "an_allowed_host_is_reached_through_the_proxy";
    let port = upstream().await.port();
    let script = format!(
        "echo $http_proxy $HTTPS_PROXY $NO_PROXY; ls -l /run/sandboxcore/egress/proxy.sock; \
         ls /run/sandboxcore/egress 2>&1; \
         wget -q -O - http://pypi.test:{port}/simple/requests/; echo wget=$?; sleep 1"
    );
    let (o, info) = run_and_inspect(&exec, test, allowlisted(&script)).await;
    let out = o.stdout_text();
    assert!(o.success(), "{o:?}");
    assert!(
        out.starts_with("http://127.0.0.1:3128 http://127.0.0.1:3128 localhost,127.0.0.1,::1\n"),
        "{out}"
    );
    // The socket, connectable by the run's uid (1000) through a read-only
    // mount; its directory cannot be listed.
    assert!(out.contains("srw-rw-rw-"), "{out}");
    assert!(out.contains("Permission denied"), "{out}");
    assert!(
        out.contains("hello from upstream: GET /simple/requests/ HTTP/1.1\nwget=0"),
        "{out}"
    );
    // Still no network of its own, and the egress directory read-only.
    let host = info.host_config.unwrap();
    assert_eq!(host.network_mode.as_deref(), Some("none"));
    let mount = info
        .mounts
        .iter()
        .flatten()
        .find(|m| m.destination.as_deref() == Some(sandboxcore::exec::docker::EGRESS_DIR))
        .unwrap();
    assert_eq!(mount.rw, Some(false));
    let dir = std::path::PathBuf::from(mount.source.clone().unwrap());
    assert_none_left(&exec, test).await;
    assert_removed(&dir).await;
});

docker_test!(a_denied_host_is_refused_with_the_rule, exec, {
    let port = upstream().await.port();
    // The response as it comes (busybox wget prints no body on a 403); nc's
    // input stays open until the proxy has answered and closed (busybox nc
    // may stop reading once its input ends).
    let script = format!(
        "(printf 'GET http://blocked.test:{port}/ HTTP/1.1\\r\\nHost: blocked.test:{port}\\r\\n\\r\\n'; \
         sleep 2) | nc 127.0.0.1 3128; echo; wget -q -O - http://blocked.test:{port}/ 2>&1; echo wget=$?; \
         wget -q -O - http://elsewhere.test:{port}/ 2>&1; echo wget=$?"
    );
    let o = run(&exec, allowlisted(&script)).await;
    let out = o.stdout_text();
    assert!(out.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{out}");
    assert!(
        out.to_ascii_lowercase().contains("x-sandboxcore-refused: "),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "sandboxcore: connection to blocked.test:{port} refused: "
        )) && out.contains("network.deny[0]: blocked.test"),
        "the body names the rule: {out}"
    );
    assert!(out.contains("403 Forbidden\nwget=1"), "{out}");
    // A host no rule allows.
    assert!(out.ends_with("403 Forbidden\nwget=1\n"), "{out}");
});

docker_test!(an_allowlist_run_reaches_nothing_but_the_proxy, exec, {
    let port = upstream().await.port();
    // A server on every host address: only the proxy can reach it.
    let any = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let any_port = any.local_addr().unwrap().port();
    let info = exec.client().inspect_network("bridge", None).await.ok();
    let host_ip = info
        .and_then(|n| n.ipam?.config?.into_iter().find_map(|c| c.gateway))
        .unwrap_or_else(|| "172.17.0.1".into());
    let script = format!(
        "cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '; \
         nc -w 2 {host_ip} {any_port} </dev/null 2>&1; echo direct=$?; \
         nc -w 2 127.0.0.1 {port} </dev/null 2>&1; echo loopback=$?; \
         nc -w 2 8.8.8.8 53 </dev/null 2>&1; echo dns-server=$?; \
         nslookup pypi.test 2>&1; echo nslookup=$?; \
         nc -w 2 pypi.test {port} </dev/null 2>&1; echo resolve=$?"
    );
    let o = run(&exec, allowlisted(&script)).await;
    let out = o.stdout_text();
    assert!(out.starts_with("lo\n"), "only loopback: {out}");
    assert!(out.contains("Network is unreachable\ndirect=1"), "{out}");
    // The container's loopback is its own: the host's server is not there.
    assert!(out.contains("Connection refused\nloopback=1"), "{out}");
    assert!(out.contains("dns-server=1"), "{out}");
    assert!(!out.contains("nslookup=0"), "{out}");
    assert!(
        out.contains("bad address 'pypi.test'"),
        "no DNS inside: {out}"
    );
    assert!(out.contains("resolve=1"), "{out}");
    drop(any);
});

docker_test!(
    pool_containers_serve_allowlist_runs_and_leave_nothing,
    exec,
    {
        let test = "pool_containers_serve_allowlist_runs_and_leave_nothing";
        let port = upstream().await.port();
        let mut c = config(test);
        c.pool_size = 1;
        let pooled = executor(c).await.unwrap();
        assert_eq!(pooled.pool_ready(Duration::from_secs(30)).await, 1);
        // The pool's container has its (empty) egress directory already.
        let mut running = Vec::new();
        for id in containers(&pooled, test).await {
            let info = pooled.client().inspect_container(&id, None).await.unwrap();
            if info.state.as_ref().and_then(|s| s.running) == Some(true) {
                running.push(info);
            }
        }
        assert_eq!(running.len(), 1, "{running:?}");
        let info = running.pop().unwrap();
        let id = info.id.clone().unwrap();
        let dir = egress_source(&info);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        let started = Instant::now();
        let o = run(
            &pooled,
            allowlisted(&format!(
                "hostname; wget -q -O - http://pypi.test:{port}/pool"
            )),
        )
        .await;
        assert!(o.success(), "{o:?}");
        assert!(
            o.stdout_text().starts_with(&format!("{}\n", &id[..12])),
            "served by the pool's container: {o:?}"
        );
        assert!(
            o.stdout_text()
                .contains("hello from upstream: GET /pool HTTP/1.1"),
            "{o:?}"
        );
        eprintln!("allowlist run through the pool: {:?}", started.elapsed());
        assert_removed(&dir).await;
        // A plain run in the next pool container: no socket in its directory.
        assert_eq!(pooled.pool_ready(Duration::from_secs(30)).await, 1);
        let o = run(
            &pooled,
            shell(
                "test -e /run/sandboxcore/egress/proxy.sock; echo socket=$?; \
                 nc -w 2 127.0.0.1 3128 </dev/null 2>&1; echo proxy=$?",
            ),
        )
        .await;
        assert_eq!(
            o.stdout_text(),
            "socket=1\nnc: can't connect to remote host (127.0.0.1): Connection refused\nproxy=1\n",
            "{o:?}"
        );
        drop(pooled);
        let _ = exec;
    }
);

docker_test!(a_dropped_allowlist_run_leaves_nothing, exec, {
    let test = "a_dropped_allowlist_run_leaves_nothing";
    let mut run = Box::pin(exec.execute(allowlisted("sleep 60")));
    let wait = async {
        loop {
            if let Some(id) = containers(&exec, test).await.first() {
                if let Ok(info) = exec.client().inspect_container(id, None).await {
                    if info.state.as_ref().and_then(|s| s.running) == Some(true) {
                        return egress_source(&info);
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let dir = tokio::select! {
        _ = &mut run => panic!("the run should still be going"),
        dir = wait => dir,
    };
    // The proxy is served once the container has started, before the
    // command is sent. The run goes on until its socket is there (the
    // daemon can report the container running before the run has served
    // it), and is dropped then.
    let end = Instant::now() + Duration::from_secs(10);
    while !dir.join("proxy.sock").exists() {
        assert!(Instant::now() < end, "no socket in {}", dir.display());
        tokio::select! {
            _ = &mut run => panic!("the run should still be going"),
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
    }
    drop(run);
    assert_none_left(&exec, test).await;
    assert_removed(&dir).await;
});

docker_test!(
    allowlist_runs_need_the_agent_and_a_runtime_that_can_reach_the_proxy,
    exec,
    {
        let test = "allowlist_runs_need_the_agent_and_a_runtime_that_can_reach_the_proxy";
        let mut c = config(test);
        c.agent = None;
        let plain = executor(c).await.unwrap();
        let e = plain.execute(allowlisted("true")).await.unwrap_err();
        assert!(e.to_string().contains("needs the agent"), "{e}");
        let info = exec.client().info().await.unwrap();
        let runsc = info.runtimes.unwrap_or_default().remove("runsc");
        let Some(runsc) = runsc else {
            skip("the gVisor half needs the daemon's runsc runtime");
            return;
        };
        let mut c = config(test);
        c.runtime = Some("runsc".into());
        let gvisor = executor(c).await.unwrap();
        let args = runsc.runtime_args.unwrap_or_default();
        if args
            .iter()
            .any(|a| a.contains("host-uds=open") || a.contains("host-uds=all"))
        {
            let port = upstream().await.port();
            let o = run(
                &gvisor,
                allowlisted(&format!("wget -q -O - http://pypi.test:{port}/g")),
            )
            .await;
            assert!(o.stdout_text().contains("GET /g HTTP/1.1"), "{o:?}");
        } else {
            let e = gvisor.execute(allowlisted("true")).await.unwrap_err();
            assert!(matches!(e, Error::InvalidInput(_)), "{e}");
            assert!(e.to_string().contains("--host-uds=open"), "{e}");
            // Runs without the allowlist are unaffected.
            assert!(run(&gvisor, shell("true")).await.success());
        }
    }
);
