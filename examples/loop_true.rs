//! Spawns /bin/true through the process backend in a loop (for profilers):
//! `cargo run --release --example loop_true -- 2000`.
use sandboxcore::exec::{ExecRequest, Executor, ProcessConfig, ProcessExecutor};
use sandboxcore::Plan;
fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let exec = ProcessExecutor::new(ProcessConfig::default()).expect("backend");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let t = std::time::Instant::now();
    for _ in 0..n {
        let req = ExecRequest::new(Plan::Direct(vec!["/bin/true".into()]));
        rt.block_on(exec.execute(req)).expect("run");
    }
    println!("{:?} per run", t.elapsed() / n as u32);
}
