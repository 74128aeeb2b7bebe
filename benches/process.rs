//! Process backend benchmarks (`make bench`):
//!
//! - spawning and waiting for `/bin/true` through the backend, fully
//!   isolated (the default) and with isolation off, against
//!   `std::process::Command` and bubblewrap
//!   (`bwrap --unshare-all --ro-bind / / --proc /proc --dev /dev --tmpfs /tmp true`)
//!   in the same run, interleaved, and Python's `subprocess.run(["/bin/true"])`
//!   for reference (goals: isolated at most 1.5x `std::process::Command` and
//!   at most 0.3x bwrap);
//! - the CLI, `sandboxcore run -- /bin/true` (release build), against the
//!   bwrap line above as whole commands (goal: at most 0.7x bwrap);
//! - streaming `head -c 1G /dev/zero` through the backend (goal: at least
//!   1 GB/s, with peak memory under the output cap plus a fixed buffer).
//!
//! The summary goes to stdout and `target/criterion/process_ratio.txt`.

use criterion::{criterion_group, Criterion};
use sandboxcore::exec::{
    CgroupMode, ExecRequest, Executor, Isolation, NetworkIsolation, ProcessConfig, ProcessExecutor,
};
use sandboxcore::Plan;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One command at a time: a current-thread runtime (the event loop runs on
/// the thread waiting for the command, as `std::process::Command` waits).
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A multi-threaded runtime, as a server would use.
fn multi_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn backends() -> Vec<(&'static str, ProcessExecutor)> {
    let full = ProcessExecutor::new(ProcessConfig::default()).unwrap();
    let bare = ProcessExecutor::new(ProcessConfig {
        isolation: Isolation::Off,
        cgroups: CgroupMode::Off,
        network: NetworkIsolation::Off,
        ..ProcessConfig::default()
    })
    .unwrap();
    vec![("backend_isolated", full), ("backend_isolation_off", bare)]
}

/// The bubblewrap line of the issue, when bwrap is installed.
fn bwrap() -> Option<Command> {
    let found = ["/usr/bin/bwrap", "/bin/bwrap"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())?;
    let mut c = Command::new(found);
    c.args([
        "--unshare-all",
        "--ro-bind",
        "/",
        "/",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
        "true",
    ]);
    Some(c)
}

/// The release CLI (`cargo build --release -p sandboxcore-cli`), if built.
fn cli() -> Option<Command> {
    let path = root().join("target/release/sandboxcore");
    path.exists().then(|| {
        let mut c = Command::new(path);
        c.args(["run", "--", "/bin/true"])
            .current_dir(std::env::temp_dir())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        c
    })
}

/// Whole commands no one-shot isolated run can be faster than: `true`
/// alone, the CLI's start alone (`sandboxcore --version`), and util-linux
/// `unshare` making the user, mount, network, pid, ipc and uts namespaces
/// and a `/proc` (when installed).
fn cli_floors() -> Vec<(&'static str, Command)> {
    let mut floors = vec![("/bin/true", Command::new("/bin/true"))];
    let path = root().join("target/release/sandboxcore");
    let mut version = Command::new(path);
    version.arg("--version").stdout(std::process::Stdio::null());
    floors.push(("`sandboxcore --version`", version));
    let mut unshare = Command::new("/usr/bin/unshare");
    unshare.args(["-Urmnpiu", "--fork", "--mount-proc", "true"]);
    // Left out where it is missing or this host refuses it (no
    // unprivileged user namespaces).
    if unshare.status().is_ok_and(|s| s.success()) {
        floors.push(("`unshare -Urmnpiu --fork --mount-proc true`", unshare));
    }
    floors
}

/// Medians (microseconds) of `rounds` timings of each function, the
/// functions taking turns so that the machine's drift touches all alike.
fn interleaved_medians(rounds: usize, fs: &mut [&mut dyn FnMut()]) -> Vec<f64> {
    for f in fs.iter_mut() {
        (0..WARM_UP).for_each(|_| f());
    }
    let mut times = vec![Vec::with_capacity(rounds); fs.len()];
    for _ in 0..rounds {
        for (i, f) in fs.iter_mut().enumerate() {
            let t = Instant::now();
            f();
            times[i].push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    times
        .into_iter()
        .map(|mut v| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        })
        .collect()
}

fn true_request() -> ExecRequest {
    ExecRequest::new(Plan::Direct(vec!["/bin/true".into()]))
}

fn benches(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("spawn_true");
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("std_process_command", |b| {
        b.iter(|| Command::new("/bin/true").status().unwrap())
    });
    if let Some(mut bw) = bwrap() {
        g.bench_function("bwrap_unshare_all", |b| b.iter(|| bw.status().unwrap()));
    }
    for (name, exec) in backends() {
        g.bench_function(name, |b| {
            b.iter(|| rt.block_on(exec.execute(true_request())).unwrap())
        });
    }
    g.finish();
}

/// Untimed calls before each timed series (the first runs of a new
/// executor also prepare its slots, and the clean-up of the executors
/// criterion used may still be running).
const WARM_UP: usize = 50;

/// Median of `rounds` timings of `f`, in microseconds, after a warm-up.
fn median_us(rounds: usize, mut f: impl FnMut()) -> f64 {
    (0..WARM_UP).for_each(|_| f());
    let mut v: Vec<f64> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median time of `rounds` runs awaited one after the other inside one
/// task on `rt`'s worker threads, as a server's request handler awaits
/// them (`block_on` from outside instead polls the run on the calling
/// thread, a thread away from the runtime's I/O driver).
fn median_us_in_task(rt: &tokio::runtime::Runtime, exec: &ProcessExecutor, rounds: usize) -> f64 {
    let exec = exec.clone();
    let mut v = rt
        .block_on(rt.spawn(async move {
            for _ in 0..WARM_UP {
                exec.execute(true_request()).await.unwrap();
            }
            let mut v = Vec::with_capacity(rounds);
            for _ in 0..rounds {
                let t = Instant::now();
                exec.execute(true_request()).await.unwrap();
                v.push(t.elapsed().as_secs_f64() * 1e6);
            }
            v
        }))
        .unwrap();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn python_subprocess_us() -> Option<f64> {
    let script = "import subprocess, time\n\
        ts = []\n\
        for _ in range(301):\n\
        \x20   t = time.perf_counter(); subprocess.run(['/bin/true']); ts.append(time.perf_counter() - t)\n\
        ts.sort(); print(ts[len(ts)//2] * 1e6)\n";
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn summary() {
    let rt = runtime();
    let mut report = String::new();
    let std_us = median_us(501, || {
        Command::new("/bin/true").status().unwrap();
    });
    report.push_str(&format!(
        "spawn /bin/true: std::process::Command {std_us:.0} us (median of 501)\n"
    ));
    // The isolated backend, std::process::Command and bwrap, interleaved.
    let (_, isolated) = backends().remove(0);
    let mut run_std = || {
        Command::new("/bin/true").status().unwrap();
    };
    let mut run_isolated = || {
        rt.block_on(isolated.execute(true_request())).unwrap();
    };
    match bwrap() {
        Some(mut bw) => {
            let mut run_bwrap = || {
                assert!(bw.status().unwrap().success());
            };
            let m =
                interleaved_medians(301, &mut [&mut run_std, &mut run_isolated, &mut run_bwrap]);
            report.push_str(&format!(
                "spawn /bin/true, interleaved (median of 301): std::process::Command {:.0} us, \
                 isolated backend {:.0} us, bwrap --unshare-all {:.0} us: \
                 isolated = {:.2}x std::process::Command, {:.2}x bwrap\n",
                m[0],
                m[1],
                m[2],
                m[1] / m[0],
                m[1] / m[2]
            ));
            match cli() {
                Some(mut cli) => {
                    let mut run_cli = || {
                        assert!(cli.status().unwrap().success());
                    };
                    // What no one-shot isolated run can go below, in the
                    // same rounds: `true` itself, the CLI's own start, and
                    // the kernel's namespaces alone (util-linux `unshare`,
                    // a small C program: no read-only view, /tmp, /dev,
                    // cgroups, Landlock or seccomp).
                    let mut floors = cli_floors();
                    let names: Vec<&str> = floors.iter().map(|(n, _)| *n).collect();
                    let mut run_floors: Vec<Box<dyn FnMut()>> = floors
                        .iter_mut()
                        .map(|(_, c)| {
                            Box::new(move || assert!(c.status().unwrap().success()))
                                as Box<dyn FnMut()>
                        })
                        .collect();
                    let mut all: Vec<&mut dyn FnMut()> = vec![&mut run_cli, &mut run_bwrap];
                    all.extend(run_floors.iter_mut().map(|f| &mut **f as &mut dyn FnMut()));
                    let m = interleaved_medians(101, &mut all);
                    report.push_str(&format!(
                        "CLI `sandboxcore run -- /bin/true` {:.0} us vs bwrap --unshare-all {:.0} us \
                         (median of 101, interleaved): {:.2}x bwrap\n",
                        m[0],
                        m[1],
                        m[0] / m[1]
                    ));
                    drop(all);
                    drop(run_floors);
                    for (name, us) in names.iter().zip(&m[2..]) {
                        report.push_str(&format!(
                            "  in the same rounds: {name} {us:.0} us, {:.2}x bwrap\n",
                            us / m[1]
                        ));
                    }
                }
                None => report.push_str(
                    "CLI: target/release/sandboxcore not built (cargo build --release -p sandboxcore-cli)\n",
                ),
            }
        }
        None => report.push_str("bwrap: not installed (apt-get install bubblewrap)\n"),
    }
    let mt = multi_thread_runtime();
    for (name, exec) in backends() {
        for (rt_name, runtime) in [("current-thread", &rt), ("multi-thread", &mt)] {
            let us = median_us(501, || {
                runtime.block_on(exec.execute(true_request())).unwrap();
            });
            report.push_str(&format!(
                "spawn /bin/true: {name} ({rt_name} runtime) {us:.0} us, ratio {:.2}x std::process::Command\n",
                us / std_us
            ));
        }
        let us = median_us_in_task(&mt, &exec, 501);
        report.push_str(&format!(
            "spawn /bin/true: {name} (multi-thread runtime, awaited in a task) {us:.0} us, ratio {:.2}x std::process::Command\n",
            us / std_us
        ));
    }
    match python_subprocess_us() {
        Some(py) => report.push_str(&format!(
            "spawn /bin/true: python subprocess.run {py:.0} us (reference), {:.2}x std::process::Command\n",
            py / std_us
        )),
        None => report.push_str("spawn /bin/true: python3 not available\n"),
    }
    let exec = ProcessExecutor::new(ProcessConfig::default()).unwrap();
    let cap = 1usize << 20;
    let before = peak_rss_kib();
    let mut rates = Vec::new();
    for _ in 0..5 {
        let mut req = ExecRequest::new(Plan::Direct(vec![
            "head".into(),
            "-c".into(),
            "1G".into(),
            "/dev/zero".into(),
        ]));
        req.limits.output_bytes = cap;
        let t = Instant::now();
        let o = rt.block_on(exec.execute(req)).unwrap();
        assert!(o.stdout_truncated && o.exit_code == Some(0));
        rates.push((1u64 << 30) as f64 / t.elapsed().as_secs_f64() / 1e9);
    }
    rates.sort_by(f64::total_cmp);
    let grew = peak_rss_kib().saturating_sub(before);
    report.push_str(&format!(
        "stream head -c 1G /dev/zero: median {:.2} GB/s (min {:.2}, max {:.2}, 5 runs); peak RSS grew {} KiB with a {} KiB output cap\n",
        rates[2],
        rates[0],
        rates[4],
        grew,
        cap / 1024
    ));
    print!("{report}");
    let dir = root().join("target/criterion");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("process_ratio.txt"), report).unwrap();
}

criterion_group!(process_benches, benches);

fn main() {
    process_benches();
    Criterion::default().configure_from_args().final_summary();
    if std::env::args().any(|a| a == "--bench") {
        summary();
    }
}
