//! Spawns /bin/true through the process backend in a loop (for profilers):
//! `cargo run --release --example loop_true -- 2000 [PAUSE_US] [sandbox]`.
//! With a pause between runs the background thread has time to prepare the
//! next run's namespaces, so the figure is the run's own critical path.
//! With `sandbox`, each run goes through `Sandbox::run_command` (policy
//! check, audit, metrics) as the bindings' runs do: the Rust side of
//! `benches/python_bindings.py`'s binding overhead.
use sandboxcore::exec::{ExecRequest, Executor, ProcessConfig, ProcessExecutor};
use sandboxcore::policy::DeploymentMode;
use sandboxcore::{Command, Plan, Policy, RunOptions, Sandbox};
use std::sync::Arc;
use std::time::{Duration, Instant};
fn main() {
    let mut args = std::env::args().skip(1);
    let n: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let pause = Duration::from_micros(args.next().and_then(|s| s.parse().ok()).unwrap_or(0));
    let through_sandbox = args.next().as_deref() == Some("sandbox");
    let exec = Arc::new(ProcessExecutor::new(ProcessConfig::default()).expect("backend"));
    let sandbox = Sandbox::builder()
        .policy(Policy::for_mode(DeploymentMode::Selfhosted))
        .shared_executor(exec.clone())
        .build()
        .expect("sandbox");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut busy = Duration::ZERO;
    for _ in 0..n {
        let t = Instant::now();
        if through_sandbox {
            let argv = Command::Argv(vec!["/bin/true".into()]);
            rt.block_on(sandbox.run_command(argv, RunOptions::default()))
                .expect("run");
        } else {
            let req = ExecRequest::new(Plan::Direct(vec!["/bin/true".into()]));
            rt.block_on(exec.execute(req)).expect("run");
        }
        busy += t.elapsed();
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
    }
    println!(
        "{:?} per run; {} of {n} started in a view built ahead",
        busy / n,
        exec.warm_starts()
    );
}
