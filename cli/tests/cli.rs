//! Runs the real `sandboxcore` binary.

use std::io::Write;
use std::process::{Command, Stdio};

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[path = "../../tests/common/seccomp.rs"]
mod seccomp;
#[path = "../../tests/common/skip.rs"]
mod skip;

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
    assert_eq!(v["effects"], serde_json::json!([]));
    let out = bin()
        .args(["classify", "--", "sed -i.bak s/a/b/ f > log"])
        .output()
        .unwrap();
    assert_eq!(
        json(&out.stdout)["effects"],
        serde_json::json!([
            {"path": "log", "effect": "write", "certain": true},
            {"path": "f", "effect": "write", "certain": true},
            {"path": "f.bak", "effect": "write", "certain": true},
        ])
    );
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

fn policy_file(name: &str) -> String {
    format!("{}/../examples/policies/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn check_exit_status_follows_the_verdict() {
    let status = |args: &[&str]| {
        let out = bin()
            .arg("check")
            .args(args)
            .env_remove("SANDBOXCORE_POLICY")
            .output()
            .unwrap();
        (out.status.code(), json(&out.stdout))
    };
    let (code, v) = status(&["--", "pytest tests/"]);
    assert_eq!(code, Some(0));
    assert_eq!(v["verdict"], "allow");
    assert_eq!(v["plan"]["direct"], serde_json::json!(["pytest", "tests/"]));
    let (code, v) = status(&["--", "npm run build && npm test"]);
    assert_eq!((code, v["verdict"].as_str()), (Some(0), Some("warn")));
    assert_eq!(v["plan"]["shell"], "npm run build && npm test");
    let (code, v) = status(&[
        "--mode",
        "saas_unsandboxed",
        "--",
        "npm run build && npm test",
    ]);
    assert_eq!((code, v["verdict"].as_str()), (Some(4), Some("deny")));
    assert_eq!(v["plan"], serde_json::Value::Null);
    let policy = std::env::temp_dir().join(format!("sbc-ask-{}.yml", std::process::id()));
    std::fs::write(
        &policy,
        "enforcement: enforce\nrequire_approval: ['*://external-domain.com/*']\n",
    )
    .unwrap();
    let (code, v) = status(&[
        "--policy",
        policy.to_str().unwrap(),
        "--",
        "curl https://external-domain.com/x",
    ]);
    std::fs::remove_file(&policy).unwrap();
    assert_eq!((code, v["verdict"].as_str()), (Some(3), Some("ask")));
}

#[test]
fn policy_validate_reports_place_and_suggestion() {
    let out = bin()
        .args(["policy", "validate", &policy_file("codeframe-security.yml")])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("CodeFRAME config/security.yml"));

    let bad = std::env::temp_dir().join(format!("sbc-bad-{}.yml", std::process::id()));
    std::fs::write(&bad, "security:\n  enforcment_level: warn\n").unwrap();
    let out = bin()
        .args(["policy", "validate", bad.to_str().unwrap()])
        .output()
        .unwrap();
    std::fs::remove_file(&bad).unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(":2:3: "), "{err}");
    assert!(err.contains("did you mean `enforcement_level`?"), "{err}");
}

#[test]
fn policy_show_applies_environment_overrides() {
    let out = bin()
        .args([
            "policy",
            "show",
            "--policy",
            &policy_file("codeframe-security.yml"),
        ])
        .env("CODEFRAME_SECURITY_ENFORCEMENT", "strict")
        .env("CODEFRAME_ALLOW_SHELL_OPERATORS", "false")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out.stdout);
    assert_eq!(v["mode"], "selfhosted");
    assert_eq!(v["enforcement"], "enforce");
    assert_eq!(v["allow_shell_operators"], false);
    assert_eq!(v["max_command_length"], 1000);

    let out = bin()
        .args(["policy", "show"])
        .env("CODEFRAME_DEPLOYMENT_MODE", "nowhere")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CODEFRAME_DEPLOYMENT_MODE"));
}

#[test]
fn run_streams_output_and_exits_with_the_command_status() {
    let run = |args: &[&str]| {
        bin()
            .arg("run")
            .args(args)
            .env_remove("SANDBOXCORE_POLICY")
            .output()
            .unwrap()
    };
    let out = run(&["--", "echo out; echo err >&2; exit 7"]);
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("err\n") && err.contains("warning"), "{err}");
    let out = run(&["--", "kill -9 $$"]);
    assert_eq!(out.status.code(), Some(137));
    let out = run(&["--timeout", "1s", "--", "sleep 30"]);
    assert_eq!(out.status.code(), Some(128 + 15));
    assert!(String::from_utf8_lossy(&out.stderr).contains("timed out"));
    let out = run(&["--mode", "saas_unsandboxed", "--", "ls | wc -l"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("denied by policy"));
    // The run's own home (in its private /tmp); the directory the CLI was
    // started in is the working directory.
    let out = run(&["--", "printf '%s %s' \"$HOME\" \"$(pwd -P)\""]);
    let here = std::env::current_dir().unwrap().canonicalize().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("/tmp/home {}", here.display())
    );
}

#[test]
fn run_on_docker_streams_and_exits_with_the_command_status() {
    let run = |args: &[&str]| {
        bin()
            .args([
                "run",
                "--backend",
                "docker",
                "--image",
                "sandboxcore-test:busybox",
            ])
            .args(args)
            .env_remove("SANDBOXCORE_POLICY")
            .output()
            .unwrap()
    };
    let out = run(&["--", "id -u; echo err >&2; exit 7"]);
    let err = String::from_utf8_lossy(&out.stderr);
    if err.contains("unavailable") || err.contains("not present locally") {
        skip::skip(&format!("needs a Docker daemon and the test image: {err}"));
        return;
    }
    assert_eq!(out.status.code(), Some(7), "{err}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1000\n");
    assert!(err.contains("err\n"), "{err}");
    let out = run(&["--timeout", "1s", "--", "sleep 30"]);
    assert_eq!(out.status.code(), Some(128 + 9));
    assert!(String::from_utf8_lossy(&out.stderr).contains("timed out"));
    let out = run(&["--network", "no-such-network", "--", "true"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-network"));
    let out = bin().args(["gc", "--backend", "docker"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("removed "));
}

#[test]
fn gc_removes_and_names_what_dead_processes_left() {
    // A run home of a process that does not exist, and one of this
    // (living) process, in the temporary directory `gc` looks in.
    let dir = std::env::temp_dir().join(format!("sandboxcore-gc-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    struct Tmp(std::path::PathBuf);
    impl Drop for Tmp {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    impl Tmp {
        fn path(&self) -> &std::path::Path {
            &self.0
        }
    }
    let tmp = Tmp(dir);
    let dead = tmp.path().join("sandboxcore-home-4000000000-abc");
    std::fs::create_dir_all(dead.join("inner")).unwrap();
    let alive = tmp
        .path()
        .join(format!("sandboxcore-home-{}-abc", std::process::id()));
    std::fs::create_dir(&alive).unwrap();
    let out = bin()
        .args(["gc", "--backend", "process"])
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // (Cgroups that other dead processes left may be in the report too.)
    assert!(
        stdout.starts_with("removed ") && stdout.contains("1 home directory"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("home directory: {}", dead.display())),
        "{stdout}"
    );
    // Removed before gc exits, not by a sweep it leaves running.
    assert!(!dead.exists());
    assert!(alive.exists());
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "gc leaves nothing"
    );
}

#[test]
fn docker_errors_are_clear() {
    let out = bin()
        .args(["run", "--backend", "docker", "--image", "x", "--", "true"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        err.contains("docker backend unavailable") && err.contains("/nonexistent/docker.sock"),
        "{err}"
    );
    // One line, ending with the core error's own message: the client's
    // error (its source, already in the message) is not printed again.
    assert!(
        err.starts_with("sandboxcore: docker backend unavailable: cannot reach the Docker daemon")
            && err.ends_with("(is dockerd running? DOCKER_HOST selects another daemon)\n")
            && err.lines().count() == 1,
        "{err}"
    );
    let out = bin()
        .args(["run", "--backend", "docker", "--", "true"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("--image"));
    let out = bin()
        .args(["run", "--runtime", "runsc", "--", "true"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--runtime is an option of --backend docker")
    );
    let out = bin()
        .args(["run", "--network", "foo", "--", "true"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("names a Docker network"));
}

#[test]
fn kubernetes_options_are_checked_by_core_before_a_cluster_is_reached() {
    let run = |args: &[&str]| {
        let out = bin()
            .args(["run", "--backend", "kubernetes", "--image", "busybox"])
            .args(args)
            .args(["--", "true"])
            .env("KUBECONFIG", "/nonexistent/kubeconfig")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .output()
            .unwrap();
        assert_ne!(out.status.code(), Some(0));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // The messages of core's KubernetesOptions (the bindings' too).
    let err = run(&["--namespace", "Agents"]);
    assert!(
        err.contains("kubernetes backend option `namespace`: must be an RFC 1123 label"),
        "{err}"
    );
    let err = run(&["--runtime-class", "gVisor"]);
    assert!(
        err.contains("kubernetes backend option `runtime_class`: must be an RFC 1123 subdomain"),
        "{err}"
    );
    let err = run(&["--egress-proxy", "https://proxy:3128"]);
    assert!(
        err.contains("kubernetes backend option `egress_proxy`: must be an http:// URL"),
        "{err}"
    );
    assert!(!err.contains("Kubernetes API server"), "{err}");
    // Valid options get as far as looking for the cluster.
    let err = run(&[
        "--namespace",
        "agents",
        "--runtime-class",
        "gvisor",
        "--egress-proxy",
        "http://10.96.0.12:3128",
    ]);
    assert!(err.contains("Kubernetes API server"), "{err}");
    // The kubernetes backend's flags are refused for another backend.
    for flag in ["--namespace", "--runtime-class"] {
        let out = bin()
            .args(["run", flag, "x", "--", "true"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("{flag} is an option of --backend kubernetes")),
            "{err}"
        );
    }
}

#[test]
fn namespaces_given_alone_are_checked_like_the_backend_option() {
    // `k8s manifests` would write manifests for a namespace no cluster
    // accepts, and `gc` would look for Jobs in it: both refuse it first.
    for args in [
        &["k8s", "manifests", "--namespace", "Agents"][..],
        &["gc", "--backend", "kubernetes", "--namespace", "bad_name"][..],
    ] {
        let out = bin()
            .args(args)
            .env("KUBECONFIG", "/nonexistent/kubeconfig")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("must be an RFC 1123 label"), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn k8s_manifests_are_yaml_documents() {
    let out = bin()
        .args(["k8s", "manifests", "--namespace", "agents"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let kinds: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("kind: "))
        .collect();
    assert_eq!(
        kinds,
        [
            "Namespace",
            "ServiceAccount",
            "Role",
            "RoleBinding",
            "NetworkPolicy",
            "ResourceQuota",
            "LimitRange"
        ]
    );
    assert_eq!(text.matches("---\n").count(), 7);
    assert!(text.contains("pod-security.kubernetes.io/enforce: restricted"));
    assert!(text.contains("namespace: agents"));
}

/// `sandboxcore verify` proves every layer of the process backend from
/// inside real runs (as root here in CI; `scripts/test-as-user` runs the
/// isolation suite as an ordinary user too).
#[test]
fn verify_passes_every_check_of_the_process_backend() {
    let out = bin()
        .args(["verify"])
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for check in [
        "runs as non-root",
        "read-only root",
        "deny-read paths hidden",
        "no network",
        "host processes invisible",
        "no leaked descriptors",
        "seccomp filter active",
        "process limit",
        "memory limit",
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(check))
            .unwrap_or_else(|| panic!("{check} missing:\n{text}"));
        assert!(line.contains("PASS"), "{line}");
    }
    assert!(text.contains("verify: 12 of 12 checks passed"), "{text}");
}

/// A mistyped option before the command is a usage error with clap's
/// suggestion, not part of the command; the command starts after `--` or
/// at the first word that is not an option of ours.
#[test]
fn unknown_options_are_usage_errors_not_commands() {
    let out = bin()
        .args(["run", "--timout", "5s", "make"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("'--timeout'"), "{err}");
    let out = bin()
        .args(["classify", "--bogus", "--", "ls"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    for args in [
        &["classify", "ls", "-la"][..],
        &["classify", "--", "ls", "-la"],
    ] {
        let out = bin().args(args).output().unwrap();
        assert!(out.status.success());
        assert_eq!(json(&out.stdout)["argv"], serde_json::json!(["ls", "-la"]));
    }
}

#[test]
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn a_run_on_a_host_that_cannot_isolate_is_refused_before_the_command_runs() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let filter = seccomp::mount_filter();
    let mut cmd = bin();
    cmd.args(["run", "--cwd"])
        .arg(dir.path())
        .arg("--")
        .arg(format!("touch {}", marker.display()))
        .env_remove("SANDBOXCORE_POLICY");
    seccomp::under_filter(&mut cmd, filter);
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("isolation is required but this host cannot provide: the isolated run ("),
        "{err}"
    );
    assert!(!marker.exists(), "the command ran: {err}");
}

/// `sandboxcore run` leaves the kernel's teardown of its run to a helper
/// that outlives it (`ProcessExecutor::teardown_after_exit`). Whoever
/// reads its output, or holds a pipe it inherited, still sees the end when
/// the CLI exits, and the helper does not linger.
#[test]
fn run_ends_its_streams_and_inherited_pipes_and_its_helper_goes() {
    use std::io::Read;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::process::CommandExt;
    use std::time::{Duration, Instant};

    let mut fds = [0; 2];
    // SAFETY: a two-int array; both ends close-on-exec (the child gets a
    // copy of the write end without it, below).
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: pipe2 gave us these descriptors.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let marker = format!("helper-marker-{}", std::process::id());
    let inherited = write_end.as_raw_fd();
    let mut cmd = bin();
    cmd.args(["run", "--", &format!("echo {marker}")])
        .env_remove("SANDBOXCORE_POLICY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    // SAFETY: dup2 is async-signal-safe; fd 3 without close-on-exec is
    // what a caller's extra pipe (a jobserver, a status pipe) looks like.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(inherited, 3) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    drop(write_end);
    let mut out = String::new();
    // Ends when every copy of the CLI's stdout is closed.
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out, format!("{marker}\n"));
    assert!(child.wait().unwrap().success());

    // The inherited pipe: at its end once the CLI has exited.
    let mut poll = libc::pollfd {
        fd: read_end.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let ready = unsafe { libc::poll(&mut poll, 1, 5000) };
    assert_eq!(
        ready, 1,
        "the inherited pipe is still held 5 s after the CLI exited"
    );
    let mut byte = [0u8; 1];
    // SAFETY: reading into a one-byte buffer.
    let n = unsafe { libc::read(read_end.as_raw_fd(), byte.as_mut_ptr().cast(), 1) };
    assert_eq!(n, 0, "the pipe is at its end");

    // The helper shares the CLI's memory, so its command line is the
    // CLI's: no process with the marker is left for long.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left: Vec<String> = std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
            .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok().map(|c| (e, c)))
            .filter(|(_, c)| String::from_utf8_lossy(c).contains(&marker))
            .map(|(e, _)| e.file_name().to_string_lossy().into_owned())
            .collect();
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "processes left 5 s after the CLI exited: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The home of this test's account in the user database.
fn account_home() -> std::path::PathBuf {
    // SAFETY: getpwuid's result is read at once, on this thread.
    unsafe {
        let entry = libc::getpwuid(libc::getuid());
        assert!(!entry.is_null(), "no user database entry for this uid");
        let dir = std::ffi::CStr::from_ptr((*entry).pw_dir);
        std::path::PathBuf::from(dir.to_str().unwrap())
    }
}

/// Without `HOME` (a harness that scrubs the environment), the account's
/// home is still the caller's: a run may not make it writable.
#[test]
fn run_refuses_the_account_home_as_workspace_without_home_set() {
    let home = account_home();
    if home == std::path::Path::new("/") || !home.is_dir() {
        panic!("this test needs an account with a home directory, not {home:?}");
    }
    let out = bin()
        .env_remove("HOME")
        .current_dir(&home)
        .args(["run", "--", "true"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("contains your home directory"), "{stderr}");
}

/// Several words after `--` are an argv, run as given (their quoting
/// kept); one word is a command line.
#[test]
fn run_takes_several_words_as_an_argv_and_one_as_a_line() {
    let out = bin()
        .args([
            "run",
            "--",
            "sh",
            "-c",
            "printf '%s|%s' \"$0\" \"$1\"",
            "zero",
            "one two",
        ])
        .env_remove("SANDBOXCORE_POLICY")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "zero|one two",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = bin()
        .args(["run", "--", "printf 'a b' | wc -w"])
        .env_remove("SANDBOXCORE_POLICY")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2");
    // `check` judges the same argv: `&&` is a word there.
    let out = bin()
        .args(["check", "--", "echo", "&&", "rm", "-rf", "/"])
        .env_remove("SANDBOXCORE_POLICY")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["classification"]["needs_shell"], false, "{v}");
    assert_eq!(v["command"], "echo '&&' rm -rf /");
}
