//! The library's own tokio runtime: runs are spawned on it, so that the
//! async functions work under any foreign executor (Kotlin coroutines,
//! Swift tasks, asyncio) and the blocking ones from any plain thread.

use crate::error::SandboxError;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

/// The runtime, made on first use (an error if it cannot be made, or when
/// called on a thread that is driving a tokio runtime already, where
/// blocking would stall it).
pub fn runtime() -> Result<&'static Runtime, SandboxError> {
    static RUNTIME: OnceLock<Option<Runtime>> = OnceLock::new();
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(SandboxError::InvalidArgument {
            detail: "a blocking call was made on a thread that runs an async runtime; \
                     use the async form"
                .into(),
        });
    }
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("sandboxcore")
                .enable_all()
                .build()
                .ok()
        })
        .as_ref()
        .ok_or_else(|| SandboxError::ExecutionError {
            detail: "cannot start the library's async runtime".into(),
        })
}

/// A task on the library's runtime that is aborted when this handle is
/// dropped before it ends (a cancelled foreign coroutine drops the future
/// uniffi polls: the run is then stopped, its processes killed).
pub struct Cancellable<T>(JoinHandle<T>);

impl<T> Drop for Cancellable<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> Future for Cancellable<Result<T, SandboxError>> {
    type Output = Result<T, SandboxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|joined| {
            joined.unwrap_or_else(|e| {
                Err(SandboxError::ExecutionError {
                    detail: if e.is_panic() {
                        "the run failed with an internal error (a panic)".into()
                    } else {
                        "the run was cancelled".into()
                    },
                })
            })
        })
    }
}

/// Spawns `fut` on the library's runtime.
pub fn spawn_cancellable<T: Send + 'static>(
    fut: impl Future<Output = Result<T, SandboxError>> + Send + 'static,
) -> Result<Cancellable<Result<T, SandboxError>>, SandboxError> {
    let handle = match tokio::runtime::Handle::try_current() {
        // Called from inside the library's runtime (or a Rust caller's):
        // spawn there.
        Ok(h) => h,
        Err(_) => runtime()?.handle().clone(),
    };
    Ok(Cancellable(handle.spawn(fut)))
}
