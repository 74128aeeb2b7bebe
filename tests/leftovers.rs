//! What a host process killed mid-run (SIGKILL: none of its own clean-up
//! runs) leaves behind is removed by the next backend made, through
//! `Executor::reap`: run homes and cgroups of the process backend,
//! containers and egress directories of the Docker backend.
//!
//! The test runs its own binary again as the victim (`VICTIM` set), which
//! starts 20 `sleep 60` runs of the process backend (and, when Docker is
//! there, a pool of 2 and two runs), says it is ready, and is killed.
//! Docker follows the policy of `tests/docker_backend.rs`: skipped when no
//! daemon is reachable unless `SANDBOXCORE_REQUIRE_DOCKER=1`.

mod common;

use sandboxcore::exec::docker::{DockerConfig, DockerExecutor, OWNER_LABEL};
use sandboxcore::exec::{
    ExecEvent, ExecRequest, Executor, Isolation, LeftoverKind, ProcessConfig, ProcessExecutor,
};
use sandboxcore::Plan;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Set (to the test's directory) in the victim.
const VICTIM: &str = "SANDBOXCORE_LEFTOVERS_VICTIM";
const TEST: &str = "what_a_killed_host_left_is_reaped_by_the_next_backend";
const IMAGE: &str = "sandboxcore-test:busybox";

fn docker_required() -> bool {
    std::env::var("SANDBOXCORE_REQUIRE_DOCKER").is_ok_and(|v| v == "1")
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The environment variable every run of the victim carries (its value
/// names the test's directory), to find their processes.
fn marker(dir: &Path) -> (String, String) {
    ("LEFTOVERS_MARKER".into(), dir.display().to_string())
}

/// Processes whose environment has `marker`.
fn marked_processes(marker: &(String, String)) -> Vec<u32> {
    let needle = format!("{}={}", marker.0, marker.1);
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(env) = std::fs::read(e.path().join("environ")) {
            if env.split(|b| *b == 0).any(|v| v == needle.as_bytes()) {
                found.push(pid);
            }
        }
    }
    found
}

/// Entries of `dir` whose name starts with `prefix`.
fn named(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.path())
        .collect()
}

/// This process's cgroup directories, one per hierarchy (from
/// `/proc/self/cgroup` and `/proc/self/mountinfo`), where the process
/// backend makes runs' cgroups.
fn own_cgroups() -> Vec<PathBuf> {
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let mut dirs = Vec::new();
    for line in cgroup.lines() {
        let mut f = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        for m in mountinfo.lines() {
            let Some((pre, post)) = m.split_once(" - ") else {
                continue;
            };
            let pre: Vec<&str> = pre.split(' ').collect();
            let post: Vec<&str> = post.split(' ').collect();
            let fits = match post.first().copied() {
                Some("cgroup2") => controllers.is_empty(),
                Some("cgroup") if !controllers.is_empty() => {
                    let opts: Vec<&str> = post.get(2).unwrap_or(&"").split(',').collect();
                    controllers.split(',').all(|c| opts.contains(&c))
                }
                _ => false,
            };
            if !fits {
                continue;
            }
            let Some(rel) = path.strip_prefix(pre[3]) else {
                continue;
            };
            let dir = Path::new(pre[4]).join(rel.trim_start_matches('/'));
            if dir.is_dir() && !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
    }
    dirs
}

/// Where the Docker backend makes egress directories (as it does).
fn egress_base() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("sandboxcore-egress"),
        None => std::env::temp_dir().join(format!(
            "sandboxcore-egress-{}",
            // SAFETY: geteuid has no preconditions.
            unsafe { libc::geteuid() }
        )),
    }
}

/// Containers whose owner label is `owner`.
async fn containers_of(docker: &bollard::Docker, owner: &str) -> Vec<String> {
    let filters =
        std::collections::HashMap::from([("label", vec![format!("{OWNER_LABEL}={owner}")])]);
    let opts = bollard::query_parameters::ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    let list = docker.list_containers(Some(opts)).await.unwrap();
    list.into_iter().filter_map(|c| c.id).collect()
}

/// Starts `req` on `exec` and waits until it has started.
async fn start(exec: Arc<dyn Executor>, req: ExecRequest) {
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        let r = exec.execute_streaming(req, tx).await;
        panic!("a victim's run ended: {r:?}");
    });
    match rx.recv().await {
        Some(ExecEvent::Started { .. }) => {}
        other => panic!("no start: {other:?}"),
    }
}

/// The victim: starts its runs, writes `ready` (with what Docker did) and
/// waits to be killed.
fn victim(dir: &Path) -> ! {
    let rt = common::runtime();
    rt.block_on(async {
        let marker = marker(dir);
        let homes = dir.join("homes");
        let isolated: Arc<dyn Executor> = Arc::new(
            ProcessExecutor::new(ProcessConfig {
                isolation: Isolation::BestEffort,
                home_parent: Some(homes.clone()),
                ..ProcessConfig::default()
            })
            .unwrap(),
        );
        let plain: Arc<dyn Executor> = Arc::new(
            ProcessExecutor::new(ProcessConfig {
                isolation: Isolation::Off,
                home_parent: Some(homes),
                ..ProcessConfig::default()
            })
            .unwrap(),
        );
        // With cgroups, a descendant the parent-death signal does not reach
        // (the `sleep` of a shell) is left for the clean-up to kill.
        let orphans = plain.capabilities().kills_descendants;
        let mut starts = Vec::new();
        for i in 0..20 {
            let mut req = if i % 2 == 1 && orphans {
                ExecRequest::new(Plan::Shell("sleep 60; true".into()))
            } else {
                ExecRequest::new(Plan::Direct(vec!["sleep".into(), "60".into()]))
            };
            req.env.insert(marker.0.clone(), marker.1.clone());
            req.limits.timeout = None;
            let exec = if i % 2 == 0 { &isolated } else { &plain };
            starts.push(start(exec.clone(), req));
        }
        futures_util::future::join_all(starts).await;
        let docker = match DockerExecutor::connect(DockerConfig {
            pool_size: 2,
            ..DockerConfig::new(IMAGE)
        })
        .await
        {
            Ok(pooled) => {
                assert_eq!(pooled.pool_ready(Duration::from_secs(60)).await, 2);
                let mut cold = DockerConfig::new(IMAGE);
                cold.agent = None;
                let cold = DockerExecutor::connect(cold).await.unwrap();
                let pooled: Arc<dyn Executor> = Arc::new(pooled);
                let mut req = ExecRequest::new(Plan::Shell("sleep 60".into()));
                req.limits.timeout = None;
                start(pooled.clone(), req.clone()).await;
                // The plain path: no auto-remove, the container outlives us.
                start(Arc::new(cold), req).await;
                // Leaked: nothing of the victim is dropped.
                std::mem::forget(pooled);
                "docker".to_string()
            }
            Err(e) => format!("no docker: {e}"),
        };
        std::mem::forget((isolated, plain));
        std::fs::write(dir.join("ready"), docker).unwrap();
        std::future::pending::<()>().await;
    });
    unreachable!()
}

#[test]
fn what_a_killed_host_left_is_reaped_by_the_next_backend() {
    if let Some(dir) = std::env::var_os(VICTIM) {
        victim(Path::new(&dir));
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let homes = dir.join("homes");
    std::fs::create_dir(&homes).unwrap();
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
        .env(VICTIM, dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let end = Instant::now() + Duration::from_secs(180);
    let docker = loop {
        if let Ok(s) = std::fs::read_to_string(dir.join("ready")) {
            break s;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the victim ended before it was ready: {status}");
        }
        if Instant::now() > end {
            let _ = child.kill();
            panic!("the victim was not ready within 3 minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let docker = docker == "docker" || {
        assert!(!docker_required(), "{docker}");
        eprintln!("skipped the Docker half: {docker}");
        false
    };

    // What the victim holds now.
    let marker = marker(dir);
    let home_prefix = format!("sandboxcore-home-{pid}-");
    let cgroup_prefix = format!("sandboxcore-{pid}-");
    let cgroups = || -> Vec<PathBuf> {
        own_cgroups()
            .iter()
            .flat_map(|d| named(d, &cgroup_prefix))
            .collect()
    };
    let owner = sandboxcore::exec::docker::owner_label(pid);
    let egress_prefix = format!("c-{pid}-");
    let before_homes = named(&homes, &home_prefix);
    assert!(before_homes.len() >= 10, "{before_homes:?}");
    let before_cgroups = cgroups();
    if is_root() {
        assert!(!before_cgroups.is_empty(), "root gets cgroups");
    }
    assert!(marked_processes(&marker).len() >= 20);
    let rt = common::runtime();
    let docker_client = docker.then(|| {
        let client = rt.block_on(async {
            let c = bollard::Docker::connect_with_local_defaults().unwrap();
            c.negotiate_version().await.unwrap()
        });
        let held = rt.block_on(containers_of(&client, &owner));
        assert!(held.len() >= 3, "a pool of 2 and two runs: {held:?}");
        assert!(!named(&egress_base(), &egress_prefix).is_empty());
        client
    });

    // SAFETY: kill with the pid of our own child.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGKILL) }, 0);
    child.wait().unwrap();

    // The next backend.
    let next = ProcessExecutor::new(ProcessConfig {
        isolation: Isolation::Off,
        home_parent: Some(homes.clone()),
        ..ProcessConfig::default()
    })
    .unwrap();
    let report = rt.block_on(next.reap()).unwrap();
    assert_eq!(named(&homes, &home_prefix), Vec::<PathBuf>::new());
    // Only this reap looks in the test's directory: it removed them.
    let mut reaped: Vec<&str> = report.names(LeftoverKind::Home).collect();
    reaped.sort();
    let mut expected: Vec<String> = before_homes
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    expected.sort();
    assert_eq!(reaped, expected, "{report}");
    // Cgroups may also go to other backends made meanwhile (other tests).
    assert_eq!(cgroups(), Vec::<PathBuf>::new(), "{report}");
    let end = Instant::now() + Duration::from_secs(5);
    while !marked_processes(&marker).is_empty() {
        assert!(
            Instant::now() < end,
            "processes of the victim's runs are left: {:?}",
            marked_processes(&marker)
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    if let Some(client) = docker_client {
        rt.block_on(async {
            let next = DockerExecutor::connect(DockerConfig::new(IMAGE))
                .await
                .unwrap();
            let report = next.reap().await.unwrap();
            let end = Instant::now() + Duration::from_secs(15);
            loop {
                let left = containers_of(&client, &owner).await;
                if left.is_empty() {
                    break;
                }
                assert!(Instant::now() < end, "left: {left:?} ({report})");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert_eq!(named(&egress_base(), &egress_prefix), Vec::<PathBuf>::new());
        });
    }
    drop(next);
}
