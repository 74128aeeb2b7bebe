//! The warm pool: containers created, attached and started ahead of time,
//! their agents waiting for a command. Each serves exactly one command and
//! is then removed; a background task replaces it, so nothing one command
//! leaves behind is seen by the next.

use super::egress::EgressDir;
use super::session::{Attached, Container};
use super::{container_spec, DockerConfig};
use crate::exec::ExecRequest;
use crate::exec::Plan;
use crate::Result;
use bollard::models::HostConfig;
use bollard::Docker;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::Notify;

/// The label marking pool containers.
pub(super) const POOL_LABEL: &str = "sandboxcore.pool";

/// A started container whose agent waits for a command.
pub(super) struct Ready {
    pub(super) container: Container,
    pub(super) attached: Attached,
}

/// Containers ready to take a command.
pub(super) struct Pool {
    ready: Mutex<VecDeque<Ready>>,
    size: usize,
    /// The host config every pool container has (but for its egress
    /// mount, which is its own); a request whose own host config differs
    /// (other limits, network) runs cold.
    host_config: HostConfig,
    wake: Arc<Notify>,
}

/// The request pool containers are made for: default limits, no network.
fn template() -> ExecRequest {
    ExecRequest::new(Plan::Direct(vec!["true".into()]))
}

async fn make(docker: &Docker, config: &DockerConfig) -> Result<Ready> {
    let mut body = container_spec(&template(), config, &crate::exec::run_id(), true)?;
    if let Some(labels) = body.labels.as_mut() {
        labels.insert(POOL_LABEL.into(), "true".into());
    }
    // Any pool container may serve an allowlist run: each has its egress
    // directory from the start (the socket appears when such a run takes
    // it).
    let (container, attached) = Container::launch(docker, body, Some(EgressDir::create()?)).await?;
    Ok(Ready {
        container,
        attached,
    })
}

impl Pool {
    /// A pool of `config.pool_size` containers, filled by a task on the
    /// current runtime that lives as long as the pool.
    pub(super) fn start(docker: Docker, config: DockerConfig) -> Result<Arc<Pool>> {
        let body = container_spec(&template(), &config, "pool", true)?;
        let pool = Arc::new(Pool {
            ready: Mutex::new(VecDeque::new()),
            size: config.pool_size,
            host_config: body.host_config.unwrap_or_default(),
            wake: Arc::new(Notify::new()),
        });
        tokio::spawn(refill(
            Arc::downgrade(&pool),
            pool.wake.clone(),
            docker,
            config,
        ));
        Ok(pool)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Ready>> {
        self.ready.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A ready container for a request whose container would have
    /// `host_config`, if one is ready and matches.
    pub(super) fn take(&self, host_config: Option<&HostConfig>) -> Option<Ready> {
        if host_config != Some(&self.host_config) {
            return None;
        }
        let ready = self.lock().pop_front();
        self.wake.notify_one();
        ready
    }

    /// Containers ready now.
    pub(super) fn ready(&self) -> usize {
        self.lock().len()
    }

    /// The pool's target size.
    pub(super) fn size(&self) -> usize {
        self.size
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Wakes the refill task so it sees the pool is gone; the ready
        // containers are removed as they drop.
        self.wake.notify_one();
    }
}

async fn refill(pool: Weak<Pool>, wake: Arc<Notify>, docker: Docker, config: DockerConfig) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let wanted = match pool.upgrade() {
            Some(p) => p.size.saturating_sub(p.ready()),
            None => return,
        };
        if wanted == 0 {
            wake.notified().await;
            continue;
        }
        match make(&docker, &config).await {
            Ok(ready) => {
                backoff = Duration::from_millis(100);
                match pool.upgrade() {
                    Some(p) => p.lock().push_back(ready),
                    None => return,
                }
            }
            Err(e) => {
                tracing::warn!(target: "sandboxcore::docker", error = %e, "cannot start a pool container");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
}
