//! The process backend's isolation, attack by attack, with real processes:
//! each test runs an attack through `ProcessExecutor::new(ProcessConfig::default())`
//! (isolation `Required`) and checks its concrete outcome on the host (no file
//! written, no secret printed, no process left, no connection accepted),
//! and that legitimate work in the workspace still succeeds.
//!
//! Nothing is skipped: under `Isolation::Required` a layer this machine
//! cannot provide makes the run fail, and the test with it. The tests use
//! no repository file, so `scripts/test-as-user` can run this binary as an
//! ordinary user from anywhere (`make isolation-as-user`).
//!
//! The targets of the escape attempts are world-writable (directories
//! 0777, files 0666) and the secrets world-readable, so that file
//! permissions alone do not stop the attack when the command runs as a
//! per-run uid (root callers): only the isolation may stop it. They live in
//! `/var/tmp`, which the command sees (read-only) from the host, unlike
//! `/tmp`, which is private to each run.
//!
//! With `SANDBOXCORE_TEST_WARM=1` every attack runs in a view built ahead
//! of it (the backend's fast path: an init started by its background
//! thread for the view the previous run asked for): each run is preceded
//! by a `true` run with the same view, the test waits for the view to be
//! ready and checks that the attack took it. `make test` runs the suite
//! both ways (one test per process, as nextest does, or one thread).

mod common;

use sandboxcore::exec::{
    CgroupMode, ExecOutcome, ExecRequest, Executor, FilesystemConfig, Isolation, Limits,
    ProcessConfig, ProcessExecutor, DEFAULT_PATH, FIRST_RUN_UID, RUN_UID_COUNT,
};
use sandboxcore::Plan;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tempfile::TempDir;

// ---------------------------------------------------------------- helpers

/// The backend with every default (`Isolation::Required`).
fn executor() -> &'static ProcessExecutor {
    static EXEC: OnceLock<ProcessExecutor> = OnceLock::new();
    EXEC.get_or_init(|| {
        ProcessExecutor::new(ProcessConfig::default())
            .unwrap_or_else(|e| panic!("the default (Required) backend cannot start here: {e}"))
    })
}

/// A backend with these settings (the rest default).
fn executor_with(config: ProcessConfig) -> ProcessExecutor {
    ProcessExecutor::new(config).unwrap_or_else(|e| panic!("the backend cannot start here: {e}"))
}

/// A backend with this filesystem configuration (the rest default).
fn executor_with_filesystem(filesystem: FilesystemConfig) -> ProcessExecutor {
    executor_with(ProcessConfig {
        filesystem,
        ..ProcessConfig::default()
    })
}

/// `/bin/sh -c script` in the workspace `ws`, with a known `PATH` (the
/// caller's may hold directories the run's user cannot read) and a timeout
/// that keeps a broken test from hanging.
fn request(ws: &Path, script: &str) -> ExecRequest {
    let mut req = ExecRequest::new(Plan::Shell(script.into()));
    req.cwd = Some(ws.to_path_buf());
    req.env.insert("PATH".into(), DEFAULT_PATH.into());
    req.limits.timeout = Some(Duration::from_secs(20));
    req
}

/// Runs `req` on `exec`; a run that cannot be isolated is an error here
/// (unwrapped: the test fails), and a Required run skips no layer.
fn run_on(exec: &ProcessExecutor, req: ExecRequest) -> ExecOutcome {
    let warm = std::env::var_os("SANDBOXCORE_TEST_WARM").is_some_and(|v| v == "1");
    if warm {
        wait_for_view(exec, &req);
    }
    let before = exec.warm_starts();
    let o = runtime()
        .block_on(exec.execute(req))
        .unwrap_or_else(|e| panic!("the run was refused or failed to start: {e}"));
    if warm {
        assert_eq!(
            exec.warm_starts(),
            before + 1,
            "the run did not start in a view built ahead"
        );
    }
    assert!(
        o.isolation_skipped.is_empty(),
        "a Required run skipped layers: {:?}",
        o.isolation_skipped
    );
    o
}

/// Runs `true` with `req`'s view until the backend has a view built ahead
/// for it (at most 10 s).
fn wait_for_view(exec: &ProcessExecutor, req: &ExecRequest) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut primer = req.clone();
    primer.plan = Plan::Direct(vec!["true".into()]);
    primer.stdin = None;
    while !exec.view_ready_for(req) {
        assert!(
            Instant::now() < deadline,
            "no view was built ahead for the run within 10 s"
        );
        runtime()
            .block_on(exec.execute(primer.clone()))
            .unwrap_or_else(|e| panic!("the priming run failed: {e}"));
        for _ in 0..100 {
            if exec.view_ready_for(req) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Runs `script` in `ws` with the default backend.
fn run_in(ws: &Path, script: &str) -> ExecOutcome {
    run_on(executor(), request(ws, script))
}

/// Everything about an outcome, for assertion messages.
fn show(o: &ExecOutcome) -> String {
    format!(
        "exit={:?} signal={:?} timed_out={} oom={} duration={:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.exit_code,
        o.signal,
        o.timed_out,
        o.oom_killed,
        o.duration,
        o.stdout_text(),
        o.stderr_text()
    )
}

/// The status a script printed as `name=N` after a step.
fn step(o: &ExecOutcome, name: &str) -> i32 {
    let prefix = format!("{name}=");
    o.stdout_text()
        .lines()
        .find_map(|l| l.strip_prefix(&prefix).map(|v| v.trim().to_string()))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("the script printed no `{name}=` line:\n{}", show(o)))
}

/// Every named step failed (a non-zero status).
fn assert_refused(o: &ExecOutcome, steps: &[&str]) {
    for s in steps {
        assert_ne!(step(o, s), 0, "step `{s}` succeeded:\n{}", show(o));
    }
}

/// A marker unique to this process and call (digits, letters and `_`
/// only, so it can be a shell function name or part of a number).
fn marker(what: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{what}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A number unique to this process and call, for `sleep 30.<n>` markers.
fn unique_digits() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{}{:03}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

/// A fresh workspace (in the temp dir, like a caller's checkout would be),
/// writable by whichever uid the run gets.
fn workspace() -> TempDir {
    let d = tempfile::tempdir().unwrap();
    chmod(d.path(), 0o777);
    d
}

/// A world-writable directory outside the workspace that the command can
/// see: in `/var/tmp` (the run's `/tmp` is private).
fn outside() -> TempDir {
    let d = tempfile::Builder::new()
        .prefix("sandboxcore-outside-")
        .tempdir_in("/var/tmp")
        .unwrap();
    chmod(d.path(), 0o777);
    d
}

/// Writes `content` to `path` with `mode`.
fn put(path: &Path, content: &str, mode: u32) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, content).unwrap();
    chmod(path, mode);
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Removes `path` if the command created it (outside any temp dir) and
/// says whether it existed.
fn existed_and_removed(path: &Path) -> bool {
    let existed = path.symlink_metadata().is_ok();
    if existed {
        let _ = std::fs::remove_dir_all(path);
        let _ = std::fs::remove_file(path);
    }
    existed
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

use common::{runtime, wait_until_gone};

/// The Landlock ABI version of this kernel (0 when it has none).
fn landlock_abi() -> i64 {
    // SAFETY: landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)
    // only returns a number.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            1u32,
        )
    };
    v.max(0)
}

// ------------------------------------------------------- what is claimed

#[test]
fn capabilities_report_every_layer() {
    assert!(
        matches!(ProcessConfig::default().isolation, Isolation::Required),
        "isolation is Required by default"
    );
    let c = executor().capabilities();
    let mut missing: Vec<String> = Vec::new();
    for (name, has) in [
        ("pid_namespace", c.pid_namespace),
        ("read_only_root", c.read_only_root),
        ("network_isolation", c.network_isolation),
        ("deny_read", c.deny_read),
        ("seccomp", c.seccomp),
        ("no_new_privs", c.no_new_privs),
        ("closes_descriptors", c.closes_descriptors),
        ("kills_descendants", c.kills_descendants),
    ] {
        if !has {
            missing.push(name.into());
        }
    }
    // As root a per-run uid takes the user namespace's place.
    if !is_root() && !c.user_namespace {
        missing.push("user_namespace".into());
    }
    if landlock_abi() > 0 && !c.landlock {
        missing.push(format!("landlock (the kernel has ABI v{})", landlock_abi()));
    }
    assert!(missing.is_empty(), "not claimed: {missing:?} in {c:?}");
}

#[test]
fn default_deny_read_list_covers_the_callers_credentials() {
    let home = PathBuf::from(std::env::var_os("HOME").expect("HOME is set"));
    let fs = FilesystemConfig::default();
    for name in [
        ".ssh",
        ".aws",
        ".gnupg",
        ".kube",
        ".docker",
        ".netrc",
        ".npmrc",
        ".pypirc",
        ".config/gcloud",
        ".config/gh",
    ] {
        assert!(
            fs.deny_read.contains(&home.join(name)),
            "{} is not in the default deny_read list {:?}",
            home.join(name).display(),
            fs.deny_read
        );
    }
    for name in [".git/hooks", ".git/config"] {
        assert!(
            fs.protected.contains(&PathBuf::from(name)),
            "{name} is not in the default protected list {:?}",
            fs.protected
        );
    }
    assert!(fs.cwd_writable);
    assert_eq!(fs.tmp_size, 256 << 20);
}

#[test]
fn runs_as_a_per_run_uid_when_root_else_as_the_caller() {
    let ws = workspace();
    let o = run_in(ws.path(), "id -u; id -g");
    assert!(o.success(), "{}", show(&o));
    let text = o.stdout_text();
    let ids: Vec<u32> = text.lines().map(|l| l.trim().parse().unwrap()).collect();
    if is_root() {
        assert!(
            (FIRST_RUN_UID..FIRST_RUN_UID + RUN_UID_COUNT).contains(&ids[0]),
            "a per-run uid: {text}"
        );
        assert_eq!(ids[1], ids[0], "a group of its own: {text}");
        // The uid claims are out of the command's reach: holding their
        // locks (a read-only descriptor is enough for flock) would keep
        // every other run on the host from starting.
        let o = run_in(
            ws.path(),
            "ls /run/sandboxcore-uids >/dev/null; echo list=$?
             cat /run/sandboxcore-uids/$(id -u); echo open=$?",
        );
        assert_refused(&o, &["list", "open"]);
    } else {
        // SAFETY: getuid and getgid have no preconditions.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        assert_eq!(
            ids,
            [uid, gid],
            "the caller's own ids, mapped to themselves"
        );
    }
}

// ------------------------------------------------- legitimate work still works

#[test]
fn workspace_tmp_home_and_extra_roots_are_writable() {
    let ws = workspace();
    let extra = outside();
    let m = marker("w");
    let mut req = request(
        ws.path(),
        &format!(
            "pwd -P
             echo data-{m} > out.txt && mkdir -p sub/dir && echo nested > sub/dir/f && cat out.txt
             echo tmp-{m} > /tmp/t-{m} && cat /tmp/t-{m}
             echo shm-{m} > /dev/shm/s-{m} && cat /dev/shm/s-{m}
             echo home-{m} > \"$HOME/h-{m}\" && cat \"$HOME/h-{m}\"
             echo extra-{m} > {extra}/e.txt; echo extra=$?
             cat /etc/os-release >/dev/null; echo read_root=$?
             python3 -c 'print(6*7)'
             if command -v git >/dev/null; then
               (git init -q g && cd g && git -c user.name=n -c user.email=e@x commit -q --allow-empty -m m && git log --oneline | wc -l)
             else echo 1; fi
             echo end",
            extra = extra.path().display()
        ),
    );
    req.filesystem.writable.push(extra.path().to_path_buf());
    let o = run_on(executor(), req);
    assert!(o.success(), "{}", show(&o));
    let text = o.stdout_text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        Path::new(lines[0]),
        ws.path().canonicalize().unwrap(),
        "starts in the workspace, at its host path: {}",
        show(&o)
    );
    for expected in [
        format!("data-{m}"),
        format!("tmp-{m}"),
        format!("shm-{m}"),
        format!("home-{m}"),
        "42".to_string(),
    ] {
        assert!(
            lines.contains(&expected.as_str()),
            "no {expected}: {}",
            show(&o)
        );
    }
    assert_eq!(step(&o, "extra"), 0, "{}", show(&o));
    assert_eq!(step(&o, "read_root"), 0, "{}", show(&o));
    assert_eq!(
        lines[lines.len() - 2],
        "1",
        "git works in the workspace: {}",
        show(&o)
    );
    // Workspace and extra-root writes land on the host; /tmp and /dev/shm
    // writes do not.
    assert_eq!(read(&ws.path().join("out.txt")), format!("data-{m}\n"));
    assert_eq!(read(&ws.path().join("sub/dir/f")), "nested\n");
    assert_eq!(read(&extra.path().join("e.txt")), format!("extra-{m}\n"));
    assert!(
        !existed_and_removed(&Path::new("/tmp").join(format!("t-{m}"))),
        "the run's /tmp is the host's"
    );
    assert!(
        !existed_and_removed(&Path::new("/dev/shm").join(format!("s-{m}"))),
        "the run's /dev/shm is the host's"
    );

    // A second run sees the workspace but nothing of the first run's /tmp,
    // /dev/shm or HOME.
    let o = run_in(
        ws.path(),
        &format!(
            "cat out.txt
             test -e /tmp/t-{m} && echo leaked-tmp
             test -e /dev/shm/s-{m} && echo leaked-shm
             test -e \"$HOME/h-{m}\" && echo leaked-home
             echo end"
        ),
    );
    assert_eq!(o.stdout_text(), format!("data-{m}\nend\n"), "{}", show(&o));
}

#[test]
fn cwd_is_read_only_when_configured() {
    let ws = workspace();
    let exec = executor_with_filesystem(FilesystemConfig {
        cwd_writable: false,
        ..FilesystemConfig::default()
    });
    put(&ws.path().join("in.txt"), "input\n", 0o666);
    let o = run_on(
        &exec,
        request(
            ws.path(),
            "cat in.txt; echo x > new.txt; echo create=$?; echo x >> in.txt; echo append=$?",
        ),
    );
    assert!(o.stdout_text().starts_with("input\n"), "{}", show(&o));
    assert_refused(&o, &["create", "append"]);
    assert!(!ws.path().join("new.txt").exists());
    assert_eq!(read(&ws.path().join("in.txt")), "input\n");
}

#[test]
fn private_tmp_is_bounded_by_tmp_size() {
    let ws = workspace();
    let exec = executor_with_filesystem(FilesystemConfig {
        tmp_size: 8 << 20,
        ..FilesystemConfig::default()
    });
    let o = run_on(
        &exec,
        request(
            ws.path(),
            "head -c 16M /dev/zero > /tmp/big; echo fill=$?; wc -c < /tmp/big",
        ),
    );
    assert_refused(&o, &["fill"]);
    let size: u64 = o
        .stdout_text()
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("{}", show(&o)));
    assert!(size <= 8 << 20, "{size} bytes in an 8 MiB /tmp");
}

// ------------------------------------------------------------ secrets

#[test]
fn deny_read_paths_appear_empty() {
    let ws = workspace();
    let home = outside();
    chmod(home.path(), 0o755);
    let h = home.path().display().to_string();
    let key = marker("KEY");
    let netrc = marker("NETRC");
    let aws = marker("AWS");
    let visible = marker("VISIBLE");
    put(&home.path().join(".ssh/id_ed25519"), &key, 0o644);
    chmod(&home.path().join(".ssh"), 0o755);
    put(&home.path().join(".netrc"), &netrc, 0o644);
    put(&home.path().join(".aws/credentials"), &aws, 0o644);
    chmod(&home.path().join(".aws"), 0o755);
    put(&home.path().join("notes.txt"), &visible, 0o644);
    let exec = executor_with_filesystem(FilesystemConfig {
        deny_read: vec![home.path().join(".ssh"), home.path().join(".netrc")],
        ..FilesystemConfig::default()
    });
    let mut req = request(
        ws.path(),
        &format!(
            "cat {h}/.ssh/id_ed25519
             echo \"ls=[$(ls -A {h}/.ssh)]\"
             cat {h}/.netrc
             cat {h}/.aws/credentials
             cat /proc/self/root{h}/.ssh/id_ed25519
             cat {h}/.ssh/../.ssh/id_ed25519
             ln -s {h}/.ssh/id_ed25519 k; cat k
             cp {h}/.netrc copy; cat copy
             umount {h}/.ssh; umount -l {h}/.ssh; umount {h}/.netrc
             cat {h}/.ssh/id_ed25519 {h}/.netrc
             cat {h}/notes.txt; echo
             echo end"
        ),
    );
    req.filesystem.deny_read.push(home.path().join(".aws"));
    let o = run_on(&exec, req);
    for secret in [&key, &netrc, &aws] {
        assert!(
            !o.stdout_text().contains(secret.as_str())
                && !o.stderr_text().contains(secret.as_str()),
            "{secret} was read:\n{}",
            show(&o)
        );
    }
    let text = o.stdout_text();
    assert!(
        text.contains("ls=[]"),
        "the denied directory is not empty:\n{}",
        show(&o)
    );
    assert!(
        text.contains(&visible),
        "other files stay readable:\n{}",
        show(&o)
    );
    assert!(text.ends_with("end\n"), "{}", show(&o));
    // The host's files are untouched.
    assert_eq!(read(&home.path().join(".ssh/id_ed25519")), key);
    assert_eq!(read(&home.path().join(".netrc")), netrc);
}

#[test]
fn default_deny_list_hides_each_entry() {
    // The default list, moved from the caller's HOME onto a fake home
    // where some entries exist (directories and files) and some do not.
    let home = PathBuf::from(std::env::var_os("HOME").expect("HOME is set"));
    let fake = outside();
    chmod(fake.path(), 0o755);
    let f = fake.path();
    let deny_read: Vec<PathBuf> = FilesystemConfig::default()
        .deny_read
        .iter()
        .map(|p| match p.strip_prefix(&home) {
            Ok(rel) => f.join(rel),
            Err(_) => p.clone(),
        })
        .collect();
    let secrets: Vec<(PathBuf, String)> = [
        ".ssh/id_rsa",
        ".netrc",
        ".config/gh/hosts.yml",
        ".docker/config.json",
        ".pypirc",
    ]
    .iter()
    .map(|rel| (f.join(rel), marker("SECRET")))
    .collect();
    for (path, secret) in &secrets {
        put(path, secret, 0o644);
    }
    for dir in [".ssh", ".config", ".config/gh", ".docker"] {
        chmod(&f.join(dir), 0o755);
    }
    let exec = executor_with_filesystem(FilesystemConfig {
        deny_read,
        ..FilesystemConfig::default()
    });
    let ws = workspace();
    let script: String = secrets
        .iter()
        .map(|(p, _)| format!("cat {}; ", p.display()))
        .chain(std::iter::once(format!(
            "ls -A {f}/.kube {f}/.gnupg; echo end",
            f = f.display()
        )))
        .collect();
    let o = run_on(&exec, request(ws.path(), &script));
    for (path, secret) in &secrets {
        assert!(
            !o.stdout_text().contains(secret.as_str()),
            "{} was read:\n{}",
            path.display(),
            show(&o)
        );
    }
    assert!(o.stdout_text().ends_with("end\n"), "{}", show(&o));
}

// ------------------------------------------------------ writes outside

#[test]
fn cannot_write_the_callers_home() {
    let ws = workspace();
    let stand_in = outside();
    let m = marker("escape");
    let real_home = PathBuf::from(std::env::var_os("HOME").expect("HOME is set"));
    let o = run_in(
        ws.path(),
        &format!(
            "echo pwned > {s}/{m}; echo stand_in=$?
             mkdir {s}/d-{m}; echo stand_in_dir=$?
             echo pwned > {r}/{m}; echo real=$?
             echo 'echo pwned' >> {r}/.bashrc-{m}; echo real_rc=$?",
            s = stand_in.path().display(),
            r = real_home.display()
        ),
    );
    let created = [
        existed_and_removed(&stand_in.path().join(&m)),
        existed_and_removed(&stand_in.path().join(format!("d-{m}"))),
        existed_and_removed(&real_home.join(&m)),
        existed_and_removed(&real_home.join(format!(".bashrc-{m}"))),
    ];
    assert_eq!(
        created,
        [false; 4],
        "written outside the workspace:\n{}",
        show(&o)
    );
    assert_refused(&o, &["stand_in", "stand_in_dir", "real", "real_rc"]);
}

#[test]
fn cannot_write_etc() {
    let ws = workspace();
    let m = marker("etc");
    let before = std::fs::metadata("/etc/passwd")
        .unwrap()
        .modified()
        .unwrap();
    let o = run_in(
        ws.path(),
        &format!(
            "echo pwned > /etc/{m}; echo create=$?
             mkdir /etc/d-{m}; echo mkdir=$?
             touch /etc/passwd; echo touch=$?"
        ),
    );
    let created = [
        existed_and_removed(&Path::new("/etc").join(&m)),
        existed_and_removed(&Path::new("/etc").join(format!("d-{m}"))),
    ];
    assert_eq!(created, [false; 2], "written in /etc:\n{}", show(&o));
    assert_eq!(
        std::fs::metadata("/etc/passwd")
            .unwrap()
            .modified()
            .unwrap(),
        before
    );
    assert_refused(&o, &["create", "mkdir", "touch"]);
}

#[test]
fn symlink_planted_before_the_run_does_not_lead_out() {
    let ws = workspace();
    let out = outside();
    put(&out.path().join("victim.txt"), "original\n", 0o666);
    std::os::unix::fs::symlink(out.path(), ws.path().join("dir-link")).unwrap();
    std::os::unix::fs::symlink(out.path().join("victim.txt"), ws.path().join("file-link")).unwrap();
    let o = run_in(
        ws.path(),
        "echo pwned > dir-link/new; echo through_dir=$?
         echo pwned > file-link; echo truncate=$?
         echo pwned >> file-link; echo append=$?
         cd dir-link && echo pwned > new2; echo cd=$?",
    );
    assert!(!out.path().join("new").exists(), "{}", show(&o));
    assert!(!out.path().join("new2").exists(), "{}", show(&o));
    assert_eq!(
        read(&out.path().join("victim.txt")),
        "original\n",
        "{}",
        show(&o)
    );
    assert_refused(&o, &["through_dir", "truncate", "append", "cd"]);
}

#[test]
fn symlink_made_during_the_run_does_not_lead_out() {
    let ws = workspace();
    let out = outside();
    put(&out.path().join("victim.txt"), "original\n", 0o666);
    let o = run_in(
        ws.path(),
        &format!(
            "ln -s {o} run-link; echo link=$?
             echo pwned > run-link/new; echo through_dir=$?
             ln -s {o}/victim.txt vlink
             echo pwned > vlink; echo truncate=$?",
            o = out.path().display()
        ),
    );
    assert_eq!(
        step(&o, "link"),
        0,
        "the workspace is writable:\n{}",
        show(&o)
    );
    assert!(
        ws.path()
            .join("run-link")
            .symlink_metadata()
            .unwrap()
            .is_symlink(),
        "the link is in the host's workspace"
    );
    assert!(!out.path().join("new").exists(), "{}", show(&o));
    assert_eq!(
        read(&out.path().join("victim.txt")),
        "original\n",
        "{}",
        show(&o)
    );
    assert_refused(&o, &["through_dir", "truncate"]);
}

#[test]
fn git_hooks_and_config_are_read_only() {
    let ws = workspace();
    let git = ws.path().join(".git");
    std::fs::create_dir_all(git.join("hooks")).unwrap();
    chmod(&git, 0o777);
    chmod(&git.join("hooks"), 0o777);
    put(&git.join("config"), "[core]\n\tbare = false\n", 0o666);
    let o = run_in(
        ws.path(),
        "echo evil > .git/hooks/pre-commit; echo hook=$?
         echo evil >> .git/config; echo config=$?
         rm -f .git/config; echo rm_config=$?
         mv .git/config .git/config.old; echo mv_config=$?
         rm -rf .git/hooks; echo rm_hooks=$?
         echo ref: refs/heads/main > .git/HEAD; echo head=$?",
    );
    assert!(!git.join("hooks/pre-commit").exists(), "{}", show(&o));
    assert!(git.join("hooks").is_dir(), "{}", show(&o));
    assert_eq!(
        read(&git.join("config")),
        "[core]\n\tbare = false\n",
        "{}",
        show(&o)
    );
    assert_refused(
        &o,
        &["hook", "config", "rm_config", "mv_config", "rm_hooks"],
    );
    // The rest of .git is the workspace's: git must work.
    assert_eq!(step(&o, "head"), 0, "{}", show(&o));
    assert_eq!(read(&git.join("HEAD")), "ref: refs/heads/main\n");
}

#[test]
fn protected_paths_survive_renaming_their_parent() {
    // Renaming .git moves the read-only mounts with it; a new .git/hooks
    // made in its place must not become the workspace's hooks.
    let ws = workspace();
    let git = ws.path().join(".git");
    std::fs::create_dir_all(git.join("hooks")).unwrap();
    chmod(&git, 0o777);
    chmod(&git.join("hooks"), 0o777);
    put(&git.join("config"), "[core]\n\tbare = false\n", 0o666);
    let o = run_in(
        ws.path(),
        "mv .git .git-old; echo mv=$?
         mkdir -p .git/hooks
         echo evil > .git/hooks/pre-commit
         printf '[core]\\n\\thooksPath = /tmp\\n' > .git/config
         echo end",
    );
    assert!(
        !git.join("hooks/pre-commit").exists(),
        "a pre-commit hook was planted:\n{}",
        show(&o)
    );
    assert_eq!(
        std::fs::read_to_string(git.join("config")).ok().as_deref(),
        Some("[core]\n\tbare = false\n"),
        "the git config was replaced:\n{}",
        show(&o)
    );
}

#[test]
fn proc_self_root_does_not_lead_out() {
    let ws = workspace();
    let out = outside();
    put(&out.path().join("victim.txt"), "original\n", 0o666);
    let o = run_in(
        ws.path(),
        &format!(
            "echo pwned > /proc/self/root{o}/new; echo new=$?
             echo pwned > /proc/self/root{o}/victim.txt; echo victim=$?
             echo pwned > /proc/1/root{o}/new1; echo pid1=$?
             cd /proc/self/root{o} && echo pwned > new2; echo cd=$?",
            o = out.path().display()
        ),
    );
    for name in ["new", "new1", "new2"] {
        assert!(!out.path().join(name).exists(), "{name}:\n{}", show(&o));
    }
    assert_eq!(
        read(&out.path().join("victim.txt")),
        "original\n",
        "{}",
        show(&o)
    );
    assert_refused(&o, &["new", "victim", "pid1", "cd"]);
}

#[test]
fn dot_dot_from_the_workspace_does_not_lead_out() {
    // A workspace whose parent the command sees (and could write, by
    // file permissions alone)...
    let parent = outside();
    let ws = parent.path().join("ws");
    std::fs::create_dir(&ws).unwrap();
    chmod(&ws, 0o777);
    put(&parent.path().join("victim.txt"), "original\n", 0o666);
    let m = marker("dotdot");
    let o = run_in(
        &ws,
        &format!(
            "echo pwned > ../new; echo up=$?
             echo pwned > ../victim.txt; echo victim=$?
             mkdir ../d; echo mkdir=$?
             echo pwned > ../../{m}; echo up2=$?
             echo pwned > $PWD/../new3; echo abs=$?"
        ),
    );
    for name in ["new", "d", "new3"] {
        assert!(!parent.path().join(name).exists(), "{name}:\n{}", show(&o));
    }
    assert!(
        !existed_and_removed(&Path::new("/var/tmp").join(&m)),
        "written in /var/tmp:\n{}",
        show(&o)
    );
    assert_eq!(read(&parent.path().join("victim.txt")), "original\n");
    assert_refused(&o, &["up", "victim", "mkdir", "up2", "abs"]);

    // ... and one in the temp dir, whose parent is the host's /tmp.
    let ws = workspace();
    let o = run_in(ws.path(), &format!("echo pwned > ../{m}; echo up=$?"));
    let parent = ws.path().parent().unwrap().join(&m);
    assert!(
        !existed_and_removed(&parent),
        "written in the workspace's parent:\n{}",
        show(&o)
    );
}

#[test]
fn hard_link_to_an_outside_file_is_refused() {
    // Same filesystem as the workspace, so only the isolation can stop
    // the link (not EXDEV between filesystems).
    let parent = outside();
    let ws = parent.path().join("ws");
    std::fs::create_dir(&ws).unwrap();
    chmod(&ws, 0o777);
    let victim = parent.path().join("victim.txt");
    put(&victim, "original\n", 0o666);
    let o = run_in(
        &ws,
        &format!(
            "ln ../victim.txt hl; echo ln=$?
             ln {v} hl2; echo ln_abs=$?
             echo pwned > hl; echo write=$?
             echo pwned >> hl2; echo append=$?",
            v = victim.display()
        ),
    );
    assert_eq!(
        read(&victim),
        "original\n",
        "the outside file changed:\n{}",
        show(&o)
    );
    assert_refused(&o, &["ln", "ln_abs"]);
}

// ------------------------------------------------------------ processes

#[test]
fn ptrace_of_a_sibling_or_child_is_refused() {
    let ws = workspace();
    let o = run_in(
        ws.path(),
        r#"sleep 5 & sib=$!
python3 - "$sib" <<'EOF'
import ctypes, os, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long
def attach(pid):
    ctypes.set_errno(0)
    r = libc.ptrace(16, pid, None, None)  # PTRACE_ATTACH
    return "attached" if r == 0 else os.strerror(ctypes.get_errno())
child = subprocess.Popen(["sleep", "5"])
print("sibling:", attach(int(sys.argv[1])))
print("child:", attach(child.pid))
pid = os.fork()
if pid == 0:
    r = libc.ptrace(0, 0, None, None)  # PTRACE_TRACEME
    print("traceme:", "traced" if r == 0 else os.strerror(ctypes.get_errno()), flush=True)
    os._exit(0)
os.waitpid(pid, 0)
child.kill()
EOF
kill $sib"#,
    );
    let text = o.stdout_text();
    for who in ["sibling", "child", "traceme"] {
        assert!(
            text.contains(&format!("{who}: Operation not permitted")),
            "{who}:\n{}",
            show(&o)
        );
    }
}

#[test]
fn host_processes_are_invisible_and_unreachable() {
    let ws = workspace();
    let d = unique_digits();
    let mut host = std::process::Command::new("sleep")
        .arg(format!("30.{d}"))
        .spawn()
        .unwrap();
    let exe = std::env::current_exe().unwrap();
    let exe_name = exe.file_name().unwrap().to_string_lossy().into_owned();
    let o = run_in(
        ws.path(),
        &format!(
            "echo $$
             kill -9 {host}; echo kill=$?
             kill -0 {me}; echo kill_test=$?
             for p in /proc/[0-9]*; do printf '%s ' \"${{p#/proc/}}\"; done; echo
             for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done",
            host = host.id(),
            me = std::process::id()
        ),
    );
    let still_running = host.try_wait().unwrap().is_none();
    let _ = host.kill();
    let _ = host.wait();
    assert!(
        still_running,
        "the host's process was killed:\n{}",
        show(&o)
    );
    let text = o.stdout_text();
    let lines: Vec<&str> = text.lines().collect();
    // PID 1 is the run's init (hidden from /proc) or the command itself.
    assert!(
        ["1", "2"].contains(&lines[0]),
        "the shell is not PID 1 or 2 of a pid namespace of its own:\n{}",
        show(&o)
    );
    assert_refused(&o, &["kill", "kill_test"]);
    let pids: Vec<&str> = lines[3].split_whitespace().collect();
    assert!(
        pids.len() <= 6,
        "/proc shows {} processes: {pids:?}\n{}",
        pids.len(),
        show(&o)
    );
    assert!(!pids.contains(&std::process::id().to_string().as_str()));
    assert!(
        !text.contains(&exe_name) && !text.contains(&format!("30.{d}")),
        "host processes are visible:\n{}",
        show(&o)
    );
}

#[test]
fn no_daemon_survives_the_run() {
    daemons_are_killed(executor(), "default");
}

#[test]
fn no_daemon_survives_the_run_without_cgroups() {
    let exec = executor_with(ProcessConfig {
        cgroups: CgroupMode::Off,
        ..ProcessConfig::default()
    });
    assert!(
        exec.capabilities().kills_descendants,
        "the pid namespace kills descendants without cgroups: {:?}",
        exec.capabilities()
    );
    daemons_are_killed(&exec, "no cgroups");
}

fn daemons_are_killed(exec: &ProcessExecutor, what: &str) {
    let ws = workspace();
    let d = unique_digits();
    let w = ws.path().display();
    // One daemon keeps the output pipe open; the others do not.
    let script = format!(
        "setsid sh -c 'sleep 30.{d}1; touch {w}/late1' &
         (sh -c '(sleep 30.{d}2; touch {w}/late2) &' &)
         nohup sleep 30.{d}3 >/dev/null 2>&1 &
         (setsid sh -c 'sleep 30.{d}4 </dev/null >/dev/null 2>&1 &' &)
         sleep 0.3; echo started"
    );
    let t = Instant::now();
    let o = run_on(exec, request(ws.path(), &script));
    let elapsed = t.elapsed();
    assert_eq!(o.stdout_text(), "started\n", "{what}:\n{}", show(&o));
    assert!(
        elapsed < Duration::from_secs(5),
        "{what}: the run waited for its daemons ({elapsed:?}):\n{}",
        show(&o)
    );
    assert_eq!(
        wait_until_gone(&format!("30.{d}")),
        Vec::<String>::new(),
        "{what}: processes survived the run"
    );
}

#[test]
fn fork_bomb_is_contained() {
    let ws = workspace();
    let name = marker("bomb");
    let mut req = request(
        ws.path(),
        &format!("{name}() {{ {name} | {name} & }}\nwhile :; do {name}; done\necho survived"),
    );
    req.limits = Limits {
        processes: Some(64),
        timeout: Some(Duration::from_secs(10)),
        ..Limits::default()
    };
    let t = Instant::now();
    let o = run_on(executor(), req);
    let elapsed = t.elapsed();
    assert!(!o.success(), "{}", show(&o));
    assert!(!o.stdout_text().contains("survived"), "{}", show(&o));
    assert!(
        !o.timed_out && elapsed < Duration::from_secs(10),
        "the bomb was stopped by the timeout, not the process limit ({elapsed:?}):\n{}",
        show(&o)
    );
    assert!(
        o.stderr_text().to_lowercase().contains("fork"),
        "no fork failure reported:\n{}",
        show(&o)
    );
    assert_eq!(
        wait_until_gone(&name),
        Vec::<String>::new(),
        "bomb processes survived"
    );
    // The machine can still start processes.
    let o = run_in(ws.path(), "echo ok");
    assert_eq!(o.stdout_text(), "ok\n", "{}", show(&o));
}

#[test]
fn memory_hog_is_stopped() {
    let ws = workspace();
    for script in [
        "python3 -c \"x = b'x' * (512 << 20); print(len(x))\"",
        "head -c 600M /dev/zero | tail | wc -c",
    ] {
        let mut req = request(ws.path(), script);
        req.limits.memory = Some(64 << 20);
        let o = run_on(executor(), req);
        let text = o.stdout_text();
        assert!(
            !text.contains("536870912") && !text.contains("629145600"),
            "{script} got its memory:\n{}",
            show(&o)
        );
        if script.starts_with("python3") {
            assert!(!o.success(), "{script}:\n{}", show(&o));
        }
    }
}

#[test]
fn memory_hog_cannot_take_the_caller_down() {
    // A caller larger than the run's memory limit (a Python or Node server
    // is): the OOM killer must pick the command, never a process sharing
    // the caller's memory. Were the caller killed, this test would die
    // with SIGKILL.
    let ballast = std::hint::black_box(vec![1u8; 256 << 20]);
    let ws = workspace();
    let mut req = request(
        ws.path(),
        "python3 -c \"x = b'x' * (512 << 20); print(len(x))\"",
    );
    req.limits.memory = Some(64 << 20);
    let o = run_on(executor(), req);
    assert!(!o.success(), "{}", show(&o));
    assert!(!o.stdout_text().contains("536870912"), "{}", show(&o));
    assert_eq!(std::hint::black_box(&ballast)[(200 << 20) + 7], 1);
}

// ------------------------------------------------------------ network

/// The network namespace a run had, its loopback counters, open sockets
/// and TCP table, as the run sees them.
const NETWORK_STATE: &str = r#"echo "netns=$(readlink /proc/self/ns/net)"
grep 'lo:' /proc/net/dev | tr -s ' ' | sed 's/^ *lo: */lo=/'
head -1 /proc/net/sockstat | sed 's/^/sockstat=/'
echo "tcp=$(tail -n +2 /proc/net/tcp | wc -l)""#;

fn field(o: &ExecOutcome, name: &str) -> String {
    let text = o.stdout_text();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name}= in the output:\n{}", show(o)))
        .to_string()
}

#[test]
fn a_network_namespace_is_never_handed_on_with_traces_of_a_run() {
    let ws = workspace();
    let exec = executor_with(ProcessConfig::default());
    // A run that talks over its loopback (counters move, a connection is
    // left in TIME_WAIT) and binds an abstract socket.
    let noisy = run_on(
        &exec,
        request(
            ws.path(),
            &format!(
                r#"python3 - <<'PY'
import socket
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
c = socket.create_connection(srv.getsockname(), 2)
a, _ = srv.accept()
c.sendall(b"x" * 1000)
a.recv(1000)
c.close()
a.close()
u = socket.socket(socket.AF_UNIX)
u.bind("\0sandboxcore-test-left-behind")
print("talked")
PY
{NETWORK_STATE}"#
            ),
        ),
    );
    assert!(noisy.stdout_text().contains("talked"), "{}", show(&noisy));
    let used = field(&noisy, "netns");
    assert_ne!(
        field(&noisy, "lo").split(' ').nth(1),
        Some("0"),
        "{}",
        show(&noisy)
    );
    // Every later run: another namespace, with nothing of the first in it.
    let mut quiet = Vec::new();
    for _ in 0..6 {
        let o = run_on(&exec, request(ws.path(), NETWORK_STATE));
        let netns = field(&o, "netns");
        assert_ne!(
            netns,
            used,
            "the namespace a run used was handed on:\n{}",
            show(&o)
        );
        assert!(
            field(&o, "lo").split(' ').all(|c| c == "0"),
            "the loopback counters moved before the run:\n{}",
            show(&o)
        );
        assert_eq!(field(&o, "sockstat"), "sockets: used 0", "{}", show(&o));
        assert_eq!(field(&o, "tcp"), "0", "{}", show(&o));
        quiet.push(netns);
        std::thread::sleep(Duration::from_millis(50));
    }
    // Runs that leave no trace hand their namespace on (the reason it is
    // cheap): among six quiet runs some namespace serves twice.
    let mut distinct = quiet.clone();
    distinct.sort();
    distinct.dedup();
    assert!(
        distinct.len() < quiet.len(),
        "no untouched namespace was reused: {quiet:?}"
    );
}

/// Descriptor 1 of this process pointed at another file until dropped.
struct StdoutSwapped {
    saved: libc::c_int,
}

impl StdoutSwapped {
    fn to(fd: libc::c_int) -> StdoutSwapped {
        // SAFETY: dup and dup2 on this process's own descriptors.
        unsafe {
            let saved = libc::fcntl(1, libc::F_DUPFD_CLOEXEC, 3);
            assert!(saved >= 0, "cannot save stdout");
            assert_eq!(libc::dup2(fd, 1), 1, "cannot point stdout at the pipe");
            StdoutSwapped { saved }
        }
    }
}

impl Drop for StdoutSwapped {
    fn drop(&mut self) {
        // SAFETY: as above.
        unsafe {
            libc::dup2(self.saved, 1);
            libc::close(self.saved);
        }
    }
}

#[test]
fn a_view_built_ahead_holds_none_of_the_hosts_standard_streams() {
    // The host's stdout is a pipe its reader drains until EOF (a caller
    // capturing the output of a program that uses the library): an init
    // started ahead, waiting for its run, must not hold it open.
    let ws = workspace();
    let mut fds = [0; 2];
    // SAFETY: pipe2 into a local array.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    let (read_end, write_end) = (fds[0], fds[1]);
    let req = request(ws.path(), "true");
    let exec = {
        let _swapped = StdoutSwapped::to(write_end);
        // SAFETY: our own descriptor; descriptor 1 holds the pipe now.
        unsafe { libc::close(write_end) };
        let exec = executor_with(ProcessConfig::default());
        wait_for_view(&exec, &req);
        exec
    };
    // Only the init started ahead could still hold the write end.
    let mut poll = libc::pollfd {
        fd: read_end,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: poll and read on our own descriptor, into local memory.
    let eof = unsafe {
        libc::poll(&mut poll, 1, 3000) == 1 && {
            let mut byte = 0u8;
            libc::read(read_end, (&mut byte as *mut u8).cast(), 1) == 0
        }
    };
    // SAFETY: our own descriptor.
    unsafe { libc::close(read_end) };
    assert!(
        exec.view_ready_for(&req),
        "the view built ahead is gone: the test proves nothing"
    );
    assert!(
        eof,
        "the host's stdout is still open in the init started ahead"
    );
}

#[test]
fn a_view_built_ahead_hides_a_secret_created_after_it() {
    let ws = workspace();
    let secrets = outside();
    let token = secrets.path().join("token");
    let exec = executor_with_filesystem(FilesystemConfig {
        deny_read: vec![token.clone()],
        ..FilesystemConfig::default()
    });
    let req = request(
        ws.path(),
        &format!("cat {} 2>&1; echo end", token.display()),
    );
    wait_for_view(&exec, &req);
    // The view was built while the file did not exist.
    let secret = marker("late-secret");
    put(&token, &secret, 0o644);
    // The stale view shows the file (its directory is bound live and the
    // missing path was not covered): the run must not take it. (It may
    // take a view the background thread built after the file appeared.)
    let o = runtime().block_on(exec.execute(req.clone())).unwrap();
    assert!(!o.stdout_text().contains(&secret), "{}", show(&o));
    assert!(o.stdout_text().ends_with("end\n"), "{}", show(&o));
    // A view built ahead now hides the file too.
    wait_for_view(&exec, &req);
    let before = exec.warm_starts();
    let o = runtime().block_on(exec.execute(req)).unwrap();
    assert_eq!(exec.warm_starts(), before + 1);
    assert!(!o.stdout_text().contains(&secret), "{}", show(&o));
}

#[test]
fn protocol_counters_are_never_handed_on() {
    // A UDP connect without a route sends nothing (not even on lo) but
    // counts in /proc/net/snmp (OutNoRoutes): a later run must not see it.
    let ws = workspace();
    let exec = executor_with(ProcessConfig::default());
    let noroutes = r#"echo "noroutes=$(awk '/^Ip:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "OutNoRoutes") c = i; h = 1 } else print $c }' /proc/net/snmp)""#;
    let o = run_on(
        &exec,
        request(
            ws.path(),
            &format!(
                r#"python3 - <<'PY'
import socket
for _ in range(42):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("10.255.255.1", 9))
    except OSError:
        pass
    s.close()
PY
echo "netns=$(readlink /proc/self/ns/net)"
{noroutes}"#
            ),
        ),
    );
    assert_eq!(field(&o, "noroutes"), "42", "{}", show(&o));
    for _ in 0..6 {
        let o = run_on(
            &exec,
            request(
                ws.path(),
                &format!("echo \"netns=$(readlink /proc/self/ns/net)\"\n{noroutes}"),
            ),
        );
        assert_eq!(field(&o, "noroutes"), "0", "{}", show(&o));
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_hidden_path_cannot_be_moved_out_from_under_its_mount() {
    let ws = workspace();
    let secret = marker("renamed-secret");
    put(&ws.path().join("conf/.env"), &secret, 0o644);
    chmod(&ws.path().join("conf"), 0o777);
    let exec = executor_with_filesystem(FilesystemConfig {
        deny_read: vec![ws.path().join("conf/.env")],
        ..FilesystemConfig::default()
    });
    let o = run_on(
        &exec,
        request(
            ws.path(),
            "mv conf conf2 2>&1; echo mv=$?; cat conf2/.env conf/.env 2>&1; echo end",
        ),
    );
    assert!(!o.stdout_text().contains(&secret), "{}", show(&o));
    assert!(!o.stdout_text().contains("mv=0"), "{}", show(&o));
    assert!(ws.path().join("conf/.env").exists(), "{}", show(&o));
    // And so the next run finds it where its mount is.
    let o = run_on(
        &exec,
        request(ws.path(), "cat conf2/.env conf/.env 2>&1; echo end"),
    );
    assert!(!o.stdout_text().contains(&secret), "{}", show(&o));
}

#[test]
fn a_hidden_path_below_a_read_only_working_directory_in_tmp_stays_hidden() {
    let cwd = tempfile::Builder::new()
        .prefix("sandboxcore-ro-cwd-")
        .tempdir_in("/tmp")
        .unwrap();
    chmod(cwd.path(), 0o755);
    let secret = marker("ro-cwd-secret");
    put(&cwd.path().join(".env"), &secret, 0o644);
    let exec = executor_with_filesystem(FilesystemConfig {
        cwd_writable: false,
        deny_read: vec![cwd.path().join(".env")],
        ..FilesystemConfig::default()
    });
    let o = run_on(&exec, request(cwd.path(), "ls -a; cat .env 2>&1; echo end"));
    assert!(!o.stdout_text().contains(&secret), "{}", show(&o));
    assert!(o.stdout_text().ends_with("end\n"), "{}", show(&o));
}

#[test]
fn the_command_cannot_signal_its_init() {
    // The init keeps capabilities in the run's user namespace and runs in
    // the host's memory. As root the command's uid differs from the
    // init's; in a user namespace, Landlock's signal scoping (ABI 6) keeps
    // them apart — also when the init was started ahead and confined.
    let ws = workspace();
    let o = run_in(
        ws.path(),
        "kill -0 1 2>/dev/null && echo signal=yes || echo signal=no; \
         kill -STOP 1 2>/dev/null && echo stop=yes || echo stop=no",
    );
    if is_root() || landlock_abi() >= 6 {
        assert_eq!(field(&o, "signal"), "no", "{}", show(&o));
        assert_eq!(field(&o, "stop"), "no", "{}", show(&o));
    } else {
        // Older kernels: PID 1 of a pid namespace ignores signals from
        // inside it that it has no handler for; the run still ends.
        assert!(o.exit_code == Some(0), "{}", show(&o));
    }
}

#[test]
fn a_forked_process_neither_uses_nor_stops_the_parents_slots() {
    let ws = workspace();
    let exec = executor_with(ProcessConfig::default());
    let req = request(ws.path(), "echo forked-run");
    wait_for_view(&exec, &req);
    // Let the background thread go idle (a lock it held would stay held in
    // the child).
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: the child only runs the backend and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let before = exec.warm_starts();
            let o = rt.block_on(exec.execute(req.clone())).unwrap();
            o.stdout_text() == "forked-run\n" && exec.warm_starts() == before
        }))
        .unwrap_or(false);
        // SAFETY: leaving the forked child without running destructors.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) }
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the forked process's run failed or took the parent's view: {status:#x}"
    );
    // The parent's view built ahead is still there and works.
    let before = exec.warm_starts();
    let o = run_on(&exec, request(ws.path(), "echo forked-run"));
    assert_eq!(o.stdout_text(), "forked-run\n", "{}", show(&o));
    assert_eq!(exec.warm_starts(), before + 1);
}

#[test]
fn host_loopback_listener_is_unreachable() {
    let ws = workspace();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let o = run_in(
        ws.path(),
        &format!(
            r#"python3 - {port} <<'EOF'
import socket, sys
def attempt(what, host, port):
    try:
        socket.create_connection((host, port), 2).close()
        print(what, "connected")
    except Exception as e:
        print(what, "failed:", e)
attempt("host-loopback", "127.0.0.1", int(sys.argv[1]))
attempt("internet", "1.1.1.1", 53)
# The run's own loopback works (lo is up).
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
attempt("own-loopback", "127.0.0.1", srv.getsockname()[1])
EOF
tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sed 's/^/dev=/'
command -v ip >/dev/null && ip -o link | cut -d: -f2 | tr -d ' ' | sed 's/^/link=/'
echo end"#
        ),
    );
    let text = o.stdout_text();
    let accepted = listener.accept();
    assert!(
        matches!(&accepted, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the host's listener accepted a connection: {accepted:?}\n{}",
        show(&o)
    );
    assert!(text.contains("host-loopback failed"), "{}", show(&o));
    assert!(text.contains("internet failed"), "{}", show(&o));
    assert!(
        text.contains("own-loopback connected"),
        "the run's loopback does not work:\n{}",
        show(&o)
    );
    let devices: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("dev="))
        .collect();
    assert_eq!(devices, ["lo"], "network devices:\n{}", show(&o));
    let links: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("link="))
        .collect();
    assert!(links.is_empty() || links == ["lo"], "links:\n{}", show(&o));
    assert!(text.ends_with("end\n"), "{}", show(&o));
}

#[test]
fn host_abstract_unix_socket_is_unreachable() {
    use std::os::linux::net::SocketAddrExt;
    let ws = workspace();
    let name = marker("sandboxcore-abstract");
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let listener = std::os::unix::net::UnixListener::bind_addr(&addr).unwrap();
    listener.set_nonblocking(true).unwrap();
    let o = run_in(
        ws.path(),
        &format!(
            r#"python3 -c '
import socket
s = socket.socket(socket.AF_UNIX)
try:
    s.connect("\0{name}")
    print("connected")
except Exception as e:
    print("failed:", e)'"#
        ),
    );
    let accepted = listener.accept();
    assert!(
        matches!(&accepted, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the host's abstract socket accepted a connection:\n{}",
        show(&o)
    );
    assert!(o.stdout_text().starts_with("failed"), "{}", show(&o));
}

#[test]
fn host_unix_socket_in_a_deny_read_directory_is_unreachable() {
    // Like /run/user/UID (D-Bus, ssh-agent...) or a Docker socket: a
    // read-only mount does not stop connect(), hiding the directory does.
    let ws = workspace();
    let run_dir = outside();
    let path = run_dir.path().join("agent.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    listener.set_nonblocking(true).unwrap();
    chmod(&path, 0o777);
    let exec = executor_with_filesystem(FilesystemConfig {
        deny_read: vec![run_dir.path().to_path_buf()],
        ..FilesystemConfig::default()
    });
    let o = run_on(
        &exec,
        request(
            ws.path(),
            &format!(
                r#"python3 -c '
import socket
s = socket.socket(socket.AF_UNIX)
try:
    s.connect("{p}")
    print("connected")
except Exception as e:
    print("failed:", e)'"#,
                p = path.display()
            ),
        ),
    );
    let accepted = listener.accept();
    assert!(
        matches!(&accepted, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the host's socket accepted a connection:\n{}",
        show(&o)
    );
    assert!(o.stdout_text().starts_with("failed"), "{}", show(&o));
}

// ------------------------------------------------------ descriptors

#[test]
fn leaked_descriptors_are_closed() {
    let ws = workspace();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leak");
    let secret = marker("LEAKED");
    put(&path, &secret, 0o600);
    let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a plain open of a NUL-terminated path; no O_CLOEXEC on purpose.
    let fd = unsafe { libc::open(c_path.as_ptr(), libc::O_RDONLY) };
    assert!(fd >= 0);
    // SAFETY: fcntl on the descriptor just opened.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    assert_eq!(flags & libc::FD_CLOEXEC, 0, "the descriptor is inheritable");
    // Only the descriptor reaches the file now.
    std::fs::remove_file(&path).unwrap();
    let o = run_in(
        ws.path(),
        &format!(
            "echo \"fds=$(ls /proc/self/fd | tr '\\n' ' ')\"
             cat /proc/self/fd/{fd}; echo
             python3 -c 'import os; print(os.read({fd}, 200))'
             echo end"
        ),
    );
    // SAFETY: closing the descriptor opened above.
    unsafe { libc::close(fd) };
    assert!(
        !o.stdout_text().contains(&secret) && !o.stderr_text().contains(&secret),
        "the leaked descriptor was read:\n{}",
        show(&o)
    );
    let text = o.stdout_text();
    let fds: Vec<&str> = text
        .lines()
        .find_map(|l| l.strip_prefix("fds="))
        .unwrap_or_else(|| panic!("{}", show(&o)))
        .split_whitespace()
        .collect();
    // 3 is the directory `ls` reads.
    assert!(
        fds.iter().all(|f| ["0", "1", "2", "3"].contains(f)),
        "descriptors beyond 0-2 reach the command: {fds:?}\n{}",
        show(&o)
    );
    assert!(text.ends_with("end\n"), "{}", show(&o));
}

// ------------------------------------------------------------ privilege

#[test]
fn no_privilege_can_be_gained() {
    let ws = workspace();
    let o = run_in(
        ws.path(),
        "grep -E '^(NoNewPrivs|Seccomp|CapPrm|CapEff|CapAmb):' /proc/self/status
         mount -t tmpfs x /mnt; echo mount=$?
         mount -o remount,rw /; echo remount=$?
         umount -l /tmp; echo umount=$?
         unshare -r true; echo unshare_user=$?
         unshare -n true; echo unshare_net=$?
         chroot / true; echo chroot=$?",
    );
    let text = o.stdout_text();
    for line in [
        "NoNewPrivs:\t1",
        "Seccomp:\t2",
        "CapPrm:\t0000000000000000",
        "CapEff:\t0000000000000000",
        "CapAmb:\t0000000000000000",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "no `{line}`:\n{}",
            show(&o)
        );
    }
    assert_refused(
        &o,
        &[
            "mount",
            "remount",
            "umount",
            "unshare_user",
            "unshare_net",
            "chroot",
        ],
    );
}

#[test]
fn setuid_binaries_do_not_raise_privilege() {
    let ws = workspace();
    let setuid_root = |p: &Path| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(p).is_ok_and(|m| m.mode() & 0o4000 != 0 && m.uid() == 0)
    };
    let su = ["/usr/bin/su", "/bin/su"]
        .into_iter()
        .map(Path::new)
        .find(|p| setuid_root(p));
    // As root, a setuid-root copy of `id` that prints its effective uid.
    let dir = outside();
    let suid_id = dir.path().join("suid-id");
    if is_root() {
        std::fs::copy("/usr/bin/id", &suid_id).unwrap();
        chmod(&suid_id, 0o4755);
    }
    let mut script = String::new();
    if let Some(su) = su {
        // su waits for a password on the pipe: look at its ids meanwhile.
        script += &format!(
            "sleep 3 | {su} -c true root & p=$!
             i=0; while [ $i -lt 40 ]; do grep -q '^Name:.su$' /proc/$p/status 2>/dev/null && break; sleep 0.05; i=$((i+1)); done
             grep -E '^(Name|Uid):' /proc/$p/status | sed 's/^/su-/'
             ",
            su = su.display()
        );
    } else {
        common::skip("the su sub-check needs a setuid-root su");
    }
    if is_root() {
        script += &format!("echo \"suid_id=$({} -u)\"\n", suid_id.display());
    }
    script += "echo end";
    let o = run_in(ws.path(), &script);
    let text = o.stdout_text();
    assert!(text.ends_with("end\n"), "{}", show(&o));
    if su.is_some() {
        assert!(
            text.contains("su-Name:\tsu"),
            "su did not start:\n{}",
            show(&o)
        );
        let uids: Vec<&str> = text
            .lines()
            .find_map(|l| l.strip_prefix("su-Uid:"))
            .unwrap_or_else(|| panic!("{}", show(&o)))
            .split_whitespace()
            .collect();
        assert_ne!(uids[1], "0", "su ran with euid 0:\n{}", show(&o));
    }
    if is_root() {
        let euid = text
            .lines()
            .find_map(|l| l.strip_prefix("suid_id="))
            .unwrap_or_else(|| panic!("{}", show(&o)));
        assert!(
            !euid.is_empty() && euid != "0",
            "a setuid-root binary ran as root:\n{}",
            show(&o)
        );
    }
}

#[test]
fn dev_is_minimal() {
    let ws = workspace();
    let o = run_in(
        ws.path(),
        "echo \"dev=$(ls -A /dev | tr '\\n' ' ')\"
         echo x > /dev/null; echo null=$?
         echo \"random=$(head -c 4 /dev/urandom | wc -c)\"
         test -e /dev/kmsg; echo kmsg=$?
         test -e /dev/mem; echo mem=$?",
    );
    let text = o.stdout_text();
    let allowed = [
        "null", "zero", "full", "random", "urandom", "tty", "pts", "shm", "ptmx", "fd", "stdin",
        "stdout", "stderr",
    ];
    let entries: Vec<&str> = text
        .lines()
        .find_map(|l| l.strip_prefix("dev="))
        .unwrap_or_else(|| panic!("{}", show(&o)))
        .split_whitespace()
        .collect();
    let extra: Vec<&&str> = entries.iter().filter(|e| !allowed.contains(e)).collect();
    assert!(extra.is_empty(), "/dev has more: {extra:?}\n{}", show(&o));
    assert_eq!(step(&o, "null"), 0, "{}", show(&o));
    assert_eq!(step(&o, "random"), 4, "{}", show(&o));
    assert_refused(&o, &["kmsg", "mem"]);
}

/// No file made in a writable root may carry a set-user-ID or set-group-ID
/// bit: as root the workspace is idmapped (the run's uid is root there on
/// the host), so such a file would be a setuid-root program for anyone on
/// the host to run. chmod, install -m, creating with the mode and mknod are
/// all refused, and nothing setuid appears on the host.
#[test]
fn no_setuid_file_can_be_planted_in_the_workspace() {
    let ws = workspace();
    let o = run_in(
        ws.path(),
        "cp /bin/true t1; chmod 4755 t1; echo chmod=$?; chmod g+s t1; echo chmodg=$?; \
         install -m 4755 /bin/true t2; echo install=$?; \
         python3 -c 'import os; os.close(os.open(\"t3\", os.O_CREAT | os.O_WRONLY, 0o4755))'; echo open=$?; \
         python3 -c 'import os; os.mknod(\"t4\", 0o100000 | 0o4755)'; echo mknod=$?; \
         chmod 755 t1; echo plain=$?",
    );
    let out = o.stdout_text();
    for step in [
        "chmod=1",
        "chmodg=1",
        "install=1",
        "open=1",
        "mknod=1",
        "plain=0",
    ] {
        assert!(
            out.contains(step),
            "{step} expected in: {out}\n{}",
            o.stderr_text()
        );
    }
    use std::os::unix::fs::MetadataExt;
    for entry in std::fs::read_dir(ws.path()).unwrap().flatten() {
        let mode = entry.metadata().unwrap().mode();
        assert_eq!(
            mode & 0o6000,
            0,
            "{:?} is set-ID on the host: {mode:o}",
            entry.path()
        );
    }
}

/// Git files that do not exist yet cannot be covered by a read-only mount;
/// those that would redirect git to other configuration or hooks
/// (`.git/commondir`, `.git/config.worktree`, `.git/worktrees`) are removed
/// after the run when the command made them, and the run says so.
#[test]
fn git_redirects_made_by_the_command_are_removed() {
    let ws = workspace();
    std::fs::create_dir_all(ws.path().join(".git/hooks")).unwrap();
    std::fs::write(ws.path().join(".git/config"), "[core]\n").unwrap();
    std::fs::write(ws.path().join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    let o = run_in(
        ws.path(),
        "mkdir -p evil/hooks && printf '[core]\\n\\thooksPath = evil/hooks\\n' > evil/config; \
         echo ../evil > .git/commondir; echo '[core]' > .git/config.worktree; \
         mkdir -p .git/worktrees/x; echo done",
    );
    assert!(o.stdout_text().contains("done"), "{}", show(&o));
    for p in [".git/commondir", ".git/config.worktree", ".git/worktrees"] {
        assert!(!ws.path().join(p).exists(), "{p} left on the host");
    }
    assert!(o.stderr_text().contains("commondir"), "{}", o.stderr_text());
    // What the command may make stays.
    assert!(ws.path().join("evil/config").exists());
}

/// A symlink one run plants in its workspace does not make its target
/// writable for a later run that names the link as a writable path (the
/// CLI's `--write out`, a policy's relative `writable: [out]`).
#[test]
fn a_planted_symlink_does_not_make_its_target_writable_later() {
    let ws = workspace();
    let target = outside();
    let o = run_in(ws.path(), &format!("ln -s {} out", target.path().display()));
    assert_eq!(o.exit_code, Some(0), "{}", show(&o));
    let mut req = request(ws.path(), "echo planted > out/file");
    req.filesystem.writable.push(ws.path().join("out"));
    let e = runtime()
        .block_on(executor().execute(req))
        .expect_err("a writable path leading out of the workspace must be refused");
    assert!(e.to_string().contains("through a symlink"), "{e}");
    assert!(!target.path().join("file").exists());
}

/// Git's other ways to run code or read configuration are read-only too:
/// a repository just below the workspace (a workspace of several
/// projects), a `.git` file (a worktree's `gitdir:` pointer), the main
/// repository's `.git/worktrees`, a submodule's hooks and config in
/// `.git/modules`, and the target of a `.git/hooks` symlink.
#[test]
fn nested_repositories_worktrees_submodules_and_linked_hooks_are_read_only() {
    let ws = workspace();
    let root = ws.path();
    // ws/proj: a repository below the workspace.
    let proj = root.join("proj/.git");
    std::fs::create_dir_all(proj.join("hooks")).unwrap();
    put(&proj.join("config"), "[core]\n", 0o666);
    // ws/wt: a worktree, whose .git is a file.
    put(&root.join("wt/.git"), "gitdir: /elsewhere\n", 0o666);
    // ws/.git: worktrees, a submodule, and hooks that are a symlink to a
    // directory of the workspace.
    let git = root.join(".git");
    put(&git.join("worktrees/w1/commondir"), "../..\n", 0o666);
    put(&git.join("modules/sub/config"), "[core]\n", 0o666);
    std::fs::create_dir_all(git.join("modules/sub/hooks")).unwrap();
    std::fs::create_dir_all(root.join("tools/hooks")).unwrap();
    std::os::unix::fs::symlink("../tools/hooks", git.join("hooks")).unwrap();
    for d in [
        &proj,
        &proj.join("hooks"),
        &git,
        &root.join("wt"),
        &root.join("tools/hooks"),
    ] {
        chmod(d, 0o777);
    }
    let o = run_in(
        root,
        "echo evil > proj/.git/hooks/pre-commit; echo nested_hook=$?
         echo evil >> proj/.git/config; echo nested_config=$?
         echo 'gitdir: evil' > wt/.git; echo worktree_file=$?
         echo evil > .git/worktrees/w1/commondir; echo commondir=$?
         echo evil >> .git/modules/sub/config; echo module_config=$?
         echo evil > .git/modules/sub/hooks/pre-commit; echo module_hook=$?
         echo evil > .git/hooks/pre-commit; echo linked_hook=$?
         echo ok > proj/README; echo nested_work=$?",
    );
    assert_refused(
        &o,
        &[
            "nested_hook",
            "nested_config",
            "worktree_file",
            "commondir",
            "module_config",
            "module_hook",
            "linked_hook",
        ],
    );
    assert!(!proj.join("hooks/pre-commit").exists(), "{}", show(&o));
    assert_eq!(read(&root.join("wt/.git")), "gitdir: /elsewhere\n");
    assert_eq!(read(&git.join("worktrees/w1/commondir")), "../..\n");
    assert!(
        !root.join("tools/hooks/pre-commit").exists(),
        "{}",
        show(&o)
    );
    // The projects themselves stay writable.
    assert_eq!(step(&o, "nested_work"), 0, "{}", show(&o));

    // The link itself, replaced by a directory of hooks, is put back.
    let o = run_in(
        root,
        "rm .git/hooks && mkdir .git/hooks && echo evil > .git/hooks/pre-commit; echo replaced=$?",
    );
    assert_eq!(step(&o, "replaced"), 0, "{}", show(&o));
    assert_eq!(
        std::fs::read_link(git.join("hooks")).unwrap(),
        Path::new("../tools/hooks"),
        "{}",
        show(&o)
    );
    assert!(o.stderr_text().contains("put back"), "{}", show(&o));
    assert!(!root.join("tools/hooks/pre-commit").exists());
}

/// A submodule named with a `/` (`git submodule add URL libs/foo`) has its
/// git directory at `.git/modules/libs/foo`, a nested one below that, and
/// its work tree's `.git` file two levels down: all read-only.
#[test]
fn submodules_at_any_depth_are_read_only() {
    let ws = workspace();
    let root = ws.path();
    let module = root.join(".git/modules/libs/foo");
    put(&module.join("HEAD"), "ref: refs/heads/main\n", 0o666);
    put(
        &module.join("config"),
        "[core]\n\tworktree = ../../../../libs/foo\n",
        0o666,
    );
    std::fs::create_dir_all(module.join("hooks")).unwrap();
    let nested = module.join("modules/inner");
    put(&nested.join("HEAD"), "ref: refs/heads/main\n", 0o666);
    put(&nested.join("config"), "[core]\n", 0o666);
    put(
        &root.join("libs/foo/.git"),
        "gitdir: ../../.git/modules/libs/foo\n",
        0o666,
    );
    for d in [
        &root.join(".git"),
        &module.join("hooks"),
        &root.join("libs/foo"),
    ] {
        chmod(d, 0o777);
    }
    let o = run_in(
        root,
        "echo evil >> .git/modules/libs/foo/config; echo module_config=$?
         echo evil > .git/modules/libs/foo/hooks/pre-commit; echo module_hook=$?
         echo evil >> .git/modules/libs/foo/modules/inner/config; echo nested_config=$?
         echo 'gitdir: evil' > libs/foo/.git; echo module_gitfile=$?
         echo ok > libs/foo/README; echo module_work=$?",
    );
    assert_refused(
        &o,
        &[
            "module_config",
            "module_hook",
            "nested_config",
            "module_gitfile",
        ],
    );
    assert_eq!(step(&o, "module_work"), 0, "{}", show(&o));
    assert_eq!(
        read(&root.join("libs/foo/.git")),
        "gitdir: ../../.git/modules/libs/foo\n"
    );
}

/// A protected path that is a link to its writable root (`.envrc -> .`)
/// does not make the whole root read-only.
#[test]
fn a_protected_name_linked_to_the_workspace_does_not_freeze_it() {
    let ws = workspace();
    std::os::unix::fs::symlink(".", ws.path().join(".envrc")).unwrap();
    let o = run_in(ws.path(), "echo ok > file; echo write=$?");
    assert_eq!(step(&o, "write"), 0, "{}", show(&o));
}

/// An IPv6 UDP `connect` to `::1` sends no packet and leaves no socket,
/// but it allocates cached routes that `/proc/net/rt6_stats` counts: a
/// later run handed the namespace could read that as one bit from the run
/// before. Such a namespace is not handed on.
#[test]
fn a_network_namespace_with_new_ipv6_routes_is_not_handed_on() {
    let ws = workspace();
    let exec = executor_with(ProcessConfig::default());
    for _ in 0..4 {
        let o = run_on(
            &exec,
            request(
                ws.path(),
                r#"echo "rt6=$(cut -d' ' -f3 /proc/net/rt6_stats)"
python3 -c "import socket; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.connect(('::1', 9)); s.close()""#,
            ),
        );
        assert!(o.success(), "{}", show(&o));
        // Every run starts with the routes of a new namespace (namespace
        // inode numbers are reused by the kernel, so they cannot tell).
        assert_eq!(field(&o, "rt6"), "0000", "{}", show(&o));
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A cgroup is handed to the next run only with (almost) nothing charged
/// to it: 64 MiB a run wrote into the workspace (page cache, or the pages
/// of a tmpfs) would otherwise count against the next run's memory limit
/// and show in its `memory.usage_in_bytes`.
#[test]
fn a_cgroup_still_charged_with_a_runs_memory_is_not_reused() {
    let ws = workspace();
    let exec = executor_with(ProcessConfig::default());
    const USAGE: &str = r#"p=$(grep -E '^[0-9]+:memory:|^0::' /proc/self/cgroup | head -1 | cut -d: -f3)
echo "cgroup=$p"
cat /sys/fs/cgroup/memory$p/memory.usage_in_bytes 2>/dev/null || cat /sys/fs/cgroup$p/memory.current"#;
    let o = run_on(
        &exec,
        request(ws.path(), "head -c 64M /dev/zero > big && sync"),
    );
    assert!(o.success(), "{}", show(&o));
    for _ in 0..4 {
        let o = run_on(&exec, request(ws.path(), USAGE));
        assert!(o.success(), "{}", show(&o));
        // As root every run has cgroups of its own; without root, only
        // where the system delegates a cgroup tree to the user.
        let own = field(&o, "cgroup").contains("sandboxcore-");
        assert!(own || !is_root(), "{}", show(&o));
        if own {
            let usage: u64 = o
                .stdout_text()
                .lines()
                .nth(1)
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            assert!(
                usage < 32 << 20,
                "a run started charged with {usage} bytes:\n{}",
                show(&o)
            );
        }
    }
    std::fs::remove_file(ws.path().join("big")).unwrap();
}
