//! Docker backend benchmarks (`make bench-docker`; needs a daemon and the
//! image from `scripts/docker-test-image`), each against the Docker CLI in
//! the same run:
//!
//! - cold run: create, start, run `true`, collect, through the backend (with
//!   the agent, and on the plain path), against `docker run --rm IMAGE true`
//!   (goal: at most 0.8x the CLI);
//! - warm run: `true` in a container of the warm pool, against `docker exec
//!   CONTAINER true` into a running container (goal: under 5 ms median and
//!   at least 10x faster than the CLI). The pool is refilled between runs
//!   outside the timed part; the refill rate is reported on its own.
//!
//! The summary goes to stdout and `target/criterion/docker_ratio.txt`.

use criterion::{criterion_group, Criterion};
use sandboxcore::exec::docker::{DockerConfig, DockerExecutor};
use sandboxcore::exec::{ExecRequest, Executor};
use sandboxcore::Plan;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const IMAGE: &str = "sandboxcore-test:busybox";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn true_request() -> ExecRequest {
    ExecRequest::new(Plan::Direct(vec!["true".into()]))
}

fn docker_cli(args: &[&str]) {
    let status = Command::new("docker")
        .args(args)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "docker {args:?}");
}

/// A running container for `docker exec` (removed by [`Drop`]).
struct Running(String);

impl Running {
    fn start() -> Running {
        let out = Command::new("docker")
            .args([
                "run",
                "-d",
                "--rm",
                "--network",
                "none",
                IMAGE,
                "sleep",
                "3600",
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        Running(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-f", &self.0])
            .stdout(Stdio::null())
            .status();
    }
}

struct Backends {
    rt: tokio::runtime::Runtime,
    agent: DockerExecutor,
    plain: DockerExecutor,
    pooled: DockerExecutor,
}

fn backends() -> Backends {
    let rt = runtime();
    let config = DockerConfig::new(IMAGE);
    assert!(config.agent.is_some(), "build the agent first: make agent");
    let mut plain = config.clone();
    plain.agent = None;
    let mut pooled = config.clone();
    pooled.pool_size = 2;
    let (agent, plain, pooled) = rt.block_on(async {
        (
            DockerExecutor::connect(config).await.unwrap(),
            DockerExecutor::connect(plain).await.unwrap(),
            DockerExecutor::connect(pooled).await.unwrap(),
        )
    });
    Backends {
        rt,
        agent,
        plain,
        pooled,
    }
}

impl Backends {
    fn run(&self, exec: &DockerExecutor) {
        let o = self.rt.block_on(exec.execute(true_request())).unwrap();
        assert!(o.success(), "{o:?}");
    }

    /// One warm run, timed from the request to the outcome, with the pool
    /// full beforehand (not timed).
    fn warm(&self) -> Duration {
        self.rt
            .block_on(self.pooled.pool_ready(Duration::from_secs(30)));
        let t = Instant::now();
        self.run(&self.pooled);
        t.elapsed()
    }
}

fn benches(c: &mut Criterion) {
    let b = backends();
    let mut g = c.benchmark_group("docker_cold_true");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("docker_run_rm_cli", |bench| {
        bench.iter(|| docker_cli(&["run", "--rm", "--network", "none", IMAGE, "true"]))
    });
    g.bench_function("backend_agent", |bench| bench.iter(|| b.run(&b.agent)));
    g.bench_function("backend_plain", |bench| bench.iter(|| b.run(&b.plain)));
    g.finish();
    let running = Running::start();
    let mut g = c.benchmark_group("docker_warm_true");
    g.sample_size(20).measurement_time(Duration::from_secs(10));
    g.bench_function("docker_exec_cli", |bench| {
        bench.iter(|| docker_cli(&["exec", &running.0, "true"]))
    });
    g.bench_function("backend_warm_pool", |bench| {
        bench.iter_custom(|iters| (0..iters).map(|_| b.warm()).sum())
    });
    g.finish();
}

fn median_ms(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1e3
}

/// Medians of `rounds` runs of each contender, interleaved so that drift
/// in the daemon affects both alike.
fn interleaved(rounds: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> (f64, f64) {
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        a();
        ta.push(t.elapsed());
        let t = Instant::now();
        b();
        tb.push(t.elapsed());
    }
    (median_ms(ta), median_ms(tb))
}

fn summary() {
    let b = backends();
    let mut report = String::new();
    let version = Command::new("docker")
        .args([
            "version",
            "--format",
            "{{.Server.Version}} (API {{.Server.APIVersion}})",
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    report.push_str(&format!("docker daemon {version}, image {IMAGE}\n"));
    let cli = || docker_cli(&["run", "--rm", "--network", "none", IMAGE, "true"]);
    let (cli_ms, agent_ms) = interleaved(31, cli, || b.run(&b.agent));
    report.push_str(&format!(
        "cold true: docker run --rm (CLI) {cli_ms:.1} ms, backend with agent {agent_ms:.1} ms: ratio {:.2}x the CLI (median of 31, interleaved)\n",
        agent_ms / cli_ms
    ));
    let (cli_ms, plain_ms) = interleaved(31, cli, || b.run(&b.plain));
    report.push_str(&format!(
        "cold true: docker run --rm (CLI) {cli_ms:.1} ms, backend plain path {plain_ms:.1} ms: ratio {:.2}x the CLI (median of 31, interleaved)\n",
        plain_ms / cli_ms
    ));
    let running = Running::start();
    let mut exec_times = Vec::new();
    let mut warm_times = Vec::new();
    for _ in 0..101 {
        let t = Instant::now();
        docker_cli(&["exec", &running.0, "true"]);
        exec_times.push(t.elapsed());
        warm_times.push(b.warm());
    }
    let (exec_ms, warm_ms) = (median_ms(exec_times), median_ms(warm_times.clone()));
    warm_times.sort();
    report.push_str(&format!(
        "warm true: docker exec (CLI) {exec_ms:.2} ms, backend warm pool {warm_ms:.2} ms (p90 {:.2} ms): {:.1}x faster than the CLI (median of 101)\n",
        warm_times[90].as_secs_f64() * 1e3,
        exec_ms / warm_ms
    ));
    // How fast the pool refills: back-to-back runs, pool of 2.
    b.rt.block_on(b.pooled.pool_ready(Duration::from_secs(30)));
    let t = Instant::now();
    let n = 20;
    for _ in 0..n {
        b.run(&b.pooled);
    }
    report.push_str(&format!(
        "sustained back-to-back through a pool of 2: {:.1} ms per run ({n} runs; bounded by the refill rate)\n",
        t.elapsed().as_secs_f64() * 1e3 / n as f64
    ));
    drop(running);
    print!("{report}");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/criterion");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("docker_ratio.txt"), report).unwrap();
}

criterion_group!(docker_benches, benches);

fn main() {
    if std::env::args().any(|a| a == "--bench") {
        docker_benches();
        Criterion::default().configure_from_args().final_summary();
        summary();
    }
}
