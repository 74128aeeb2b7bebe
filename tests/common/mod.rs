//! Helpers shared by the integration tests.
#![allow(dead_code)]

use sandboxcore::exec::{BoxFuture, Capabilities, EventSender, ExecOutcome, ExecRequest, Executor};
use sandboxcore::{BackendKind, Plan};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub mod skip;
#[allow(unused_imports)]
pub use skip::{skip, skip_unless};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A two-thread tokio runtime for the tests that drive executors.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Reads a `tests/data` file.
pub fn data(name: &str) -> String {
    let path = root().join("tests/data").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Non-empty, non-comment lines of a text corpus.
pub fn lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// `{"command": ...}` objects of a JSON-lines corpus, with the whole object.
pub fn jsonl(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l}: {e}")))
        .collect()
}

/// The plain commands corpus.
pub fn plain_commands() -> Vec<String> {
    lines(&data("plain_commands.txt"))
}

/// The commands that need a shell.
pub fn shell_commands() -> Vec<String> {
    jsonl(&data("shell_commands.jsonl"))
        .iter()
        .map(|v| v["command"].as_str().expect("command").to_string())
        .collect()
}

/// Records the requests it gets and answers with exit code 0 (or hangs
/// forever when asked to run `sleep`).
#[derive(Clone, Default)]
pub struct TestExecutor {
    /// Every request received, in order.
    pub requests: Arc<Mutex<Vec<ExecRequest>>>,
}

impl Executor for TestExecutor {
    /// Stands in for a process backend (its errors name `process`).
    fn kind(&self) -> BackendKind {
        BackendKind::Process
    }

    /// Labels its runs `test` in audit records and metrics.
    fn name(&self) -> &str {
        "test"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    fn execute_streaming(
        &self,
        request: ExecRequest,
        _: EventSender,
    ) -> BoxFuture<'_, sandboxcore::Result<ExecOutcome>> {
        Box::pin(async move {
            let hang = matches!(&request.plan, Plan::Direct(a) if a[0] == "sleep");
            self.requests.lock().unwrap().push(request);
            if hang {
                std::future::pending::<()>().await;
            }
            Ok(ExecOutcome {
                exit_code: Some(0),
                stdout: b"ok\n".to_vec(),
                duration: Duration::from_millis(5),
                ..ExecOutcome::default()
            })
        })
    }
}

/// Runs `f` on a current-thread runtime.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(f)
}

/// Processes (on the host) whose command line contains `marker`.
pub fn processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) {
            let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if text.contains(marker) {
                found.push(format!("{}: {text}", e.file_name().to_string_lossy()));
            }
        }
    }
    found
}

/// The processes with `marker` still there after up to 2 s.
pub fn wait_until_gone(marker: &str) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        let left = processes_with(marker);
        if left.is_empty() || std::time::Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
