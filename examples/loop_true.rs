//! Spawns /bin/true through the process backend in a loop (for profilers).
use sandboxcore::exec::{ExecRequest, Executor, ProcessConfig, ProcessExecutor};
use sandboxcore::Plan;
fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let exec = ProcessExecutor::new(ProcessConfig::default()).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let t = std::time::Instant::now();
    for _ in 0..n {
        rt.block_on(exec.execute(ExecRequest::new(Plan::Direct(vec!["/bin/true".into()]))))
            .unwrap();
    }
    println!("{:?} per run", t.elapsed() / n as u32);
}
