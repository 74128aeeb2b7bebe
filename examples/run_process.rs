//! Runs one command through the process backend and prints the outcome:
//! `cargo run --example run_process -- 'echo hi; id'`.
use sandboxcore::exec::{ExecRequest, Executor, ProcessConfig, ProcessExecutor};
use sandboxcore::Plan;

fn main() -> sandboxcore::Result<()> {
    let script = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "echo hello from uid $(id -u)".into());
    let exec = ProcessExecutor::new(ProcessConfig::default())?;
    println!("capabilities: {:?}", exec.capabilities());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let o = rt.block_on(exec.execute(ExecRequest::new(Plan::Shell(script))))?;
    print!("{}", o.stdout_text());
    eprint!("{}", o.stderr_text());
    println!(
        "exit {:?} signal {:?} status {} in {:?}",
        o.exit_code,
        o.signal,
        o.status(),
        o.duration
    );
    Ok(())
}
