//! The Docker executor: connects to the daemon, makes each run's container
//! (from the warm pool when one is ready), drives it, and removes it.

use super::egress::{self, EgressDir};
use super::pool::{Pool, POOL_LABEL};
use super::session::{self, api_error, fail, Container};
use super::{container_spec, spec, DockerConfig, PullPolicy, MANAGED_LABEL, OWNER_LABEL};
use crate::exec::reap::{self, FirstPass};
use crate::exec::{
    BoxFuture, Capabilities, EventSender, ExecEvent, ExecOutcome, ExecRequest, Executor,
    LeftoverKind, Network, ReapReport,
};
use crate::{BackendKind, Error, ExecErrorKind, Result};
use bollard::query_parameters::{CreateImageOptionsBuilder, ListContainersOptionsBuilder};
use bollard::Docker;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs each command in a fresh hardened container.
#[derive(Clone)]
pub struct DockerExecutor {
    docker: Docker,
    config: Arc<DockerConfig>,
    pool: Option<Arc<Pool>>,
    /// Whether allowlist runs can reach the egress proxy with this
    /// runtime (`Err`: why not).
    egress: std::result::Result<(), String>,
    /// The clean-up pass started when the executor was made.
    first_reap: Arc<FirstPass>,
    /// Made by [`DockerExecutor::for_gc`]: runs nothing.
    gc_only: bool,
}

impl std::fmt::Debug for DockerExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerExecutor")
            .field("config", &self.config)
            .field("pool_ready", &self.pool.as_ref().map(|p| p.ready()))
            .finish_non_exhaustive()
    }
}

fn unavailable(host: &str, e: bollard::errors::Error) -> Error {
    Error::unavailable(
        BackendKind::Docker,
        format!(
            "cannot reach the Docker daemon at {host}: {e} (is dockerd running? DOCKER_HOST selects another daemon)"
        ),
    )
    .with_source(e)
}

fn default_host() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into())
}

/// A version-negotiated client for `host` (`unix://`, `tcp://`, `http://`).
async fn connect_host(host: &str) -> Result<Docker> {
    let docker = Docker::connect_with_host(host).map_err(|e| unavailable(host, e))?;
    docker
        .negotiate_version()
        .await
        .map_err(|e| unavailable(host, e))
}

impl DockerExecutor {
    /// Connects to the daemon named by `DOCKER_HOST` (default: the local
    /// socket), negotiates the API version (Docker 20.10, API 1.41, and
    /// newer), checks the image (pulling it only when `config.pull` says
    /// so) and the configuration, and starts the warm pool when
    /// `config.pool_size > 0`. Must be called within a Tokio runtime.
    pub async fn connect(config: DockerConfig) -> Result<DockerExecutor> {
        DockerExecutor::with_client(connect_host(&default_host()).await?, config).await
    }

    /// Uses an existing client (already version-negotiated). Like
    /// [`DockerExecutor::connect`], starts removing, in the background,
    /// what processes of this host that no longer exist left: their
    /// containers and egress directories ([`Executor::reap`] waits for
    /// that).
    pub async fn with_client(docker: Docker, config: DockerConfig) -> Result<DockerExecutor> {
        // Fails early on a bad user, network, seccomp file or agent.
        let probe = ExecRequest::new(crate::exec::Plan::Direct(vec!["true".into()]));
        container_spec(&probe, &config, "probe", config.agent.is_some())?;
        if config.pool_size > 0 && config.agent.is_none() {
            return Err(Error::InvalidInput(
                "the warm pool needs the agent binary (make agent, or SANDBOXCORE_AGENT)".into(),
            ));
        }
        ensure_image(&docker, &config).await?;
        let egress = egress::support(&docker, &config).await;
        let pool = if config.pool_size > 0 {
            Some(Pool::start(docker.clone(), config.clone())?)
        } else {
            None
        };
        let (done, first_reap) = FirstPass::new();
        let client = docker.clone();
        tokio::spawn(async move {
            let _ = done.send(reap_pass(&client, false).await);
        });
        Ok(DockerExecutor {
            docker,
            config: Arc::new(config),
            pool,
            egress,
            first_reap: Arc::new(first_reap),
            gc_only: false,
        })
    }

    /// An executor that only cleans up (`sandboxcore gc`): connects to the
    /// daemon named by `DOCKER_HOST` (default: the local socket) and needs
    /// no image or configuration. [`Executor::reap`] and
    /// [`DockerExecutor::reap_all`] work as on any executor; every run is
    /// refused with [`Error::InvalidInput`].
    pub async fn for_gc() -> Result<DockerExecutor> {
        Ok(DockerExecutor {
            docker: connect_host(&default_host()).await?,
            config: Arc::new(DockerConfig::new("")),
            pool: None,
            egress: Err("made for clean-up only".into()),
            first_reap: Arc::new(FirstPass::none()),
            gc_only: true,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &DockerConfig {
        &self.config
    }

    /// The bollard client.
    pub fn client(&self) -> &Docker {
        &self.docker
    }

    /// Waits until the warm pool has all its containers ready (or
    /// `timeout` passes); returns how many are ready. 0 without a pool.
    pub async fn pool_ready(&self, timeout: Duration) -> usize {
        let Some(pool) = &self.pool else { return 0 };
        let end = Instant::now() + timeout;
        while pool.ready() < pool.size() && Instant::now() < end {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        pool.ready()
    }

    /// Removes every managed container but this process's own (`sandboxcore
    /// gc --backend docker --all`): those of live processes and other hosts
    /// too, running or not; and, as [`Executor::reap`] does, the egress
    /// directories of processes that no longer exist.
    pub async fn reap_all(&self) -> Result<ReapReport> {
        reap_pass(&self.docker, true).await
    }

    async fn run(&self, req: ExecRequest, events: EventSender) -> Result<ExecOutcome> {
        if self.gc_only {
            return Err(Error::InvalidInput(
                "this Docker backend was made for clean-up only (DockerExecutor::for_gc) and runs \
                 nothing"
                    .into(),
            ));
        }
        let started = Instant::now();
        let enforced = self.capabilities().for_run(&req, &[]);
        let run_id = crate::exec::run_id();
        let agent = self.config.agent.is_some();
        let body = container_spec(&req, &self.config, &run_id, agent)?;
        let allowlist = match &req.network {
            Network::Allowlist(egress) => {
                self.egress.clone().map_err(Error::InvalidInput)?;
                Some(egress.clone())
            }
            _ => None,
        };
        // Whether `Started` was sent (a failed pool container falls back to
        // a cold run, which must not announce the start again).
        let mut announced = false;
        if let Some(mut ready) = self
            .pool
            .as_ref()
            .and_then(|p| p.take(body.host_config.as_ref()))
        {
            // The run's proxy, on the container's egress socket, until the
            // run ends.
            let proxy = match &allowlist {
                Some(e) => Some(serve_egress(&ready.container, e)?),
                None => None,
            };
            announced = true;
            let _ = events.send(ExecEvent::Started { pid: None }).await;
            let run = ready
                .attached
                .run_agent(
                    &ready.container,
                    &req,
                    &self.config,
                    events.clone(),
                    started,
                )
                .await;
            drop(proxy);
            // Dropping the container removes it in the background.
            drop(ready);
            match run {
                Ok(outcome) => return Ok(finish(outcome, enforced, &events).await),
                Err(e) => {
                    tracing::debug!(target: "sandboxcore::docker", error = %e, "a pool container failed; running cold")
                }
            }
        }
        let dir = match allowlist {
            Some(_) => Some(EgressDir::create()?),
            None => None,
        };
        let (container, mut attached) = Container::launch(&self.docker, body, dir).await?;
        tracing::debug!(target: "sandboxcore::docker", container = container.id(), run_id, "started");
        let proxy = match &allowlist {
            Some(e) => Some(serve_egress(&container, e)?),
            None => None,
        };
        if !announced {
            let _ = events.send(ExecEvent::Started { pid: None }).await;
        }
        let outcome = if agent {
            attached
                .run_agent(&container, &req, &self.config, events.clone(), started)
                .await?
        } else {
            attached
                .run_plain(&container, &req, events.clone(), started)
                .await?
        };
        drop(proxy);
        if agent {
            // The agent has exited or is about to; the daemon removes the
            // container by itself (auto-remove), and this makes sure.
            drop(container);
        } else {
            // No auto-remove on the plain path (the exit state is read
            // first): remove it now, so a short-lived caller leaves nothing.
            container.remove().await;
        }
        Ok(finish(outcome, enforced, &events).await)
    }
}

/// Serves `egress` on `container`'s egress socket.
fn serve_egress(
    container: &Container,
    egress: &crate::net::Egress,
) -> Result<crate::net::ProxyHandle> {
    container
        .egress()
        .ok_or_else(|| {
            fail(
                ExecErrorKind::Egress,
                "the container has no egress directory",
            )
        })?
        .serve(egress)
}

/// The run's outcome with what was `enforced` for it, sent as the last
/// event.
async fn finish(
    mut outcome: ExecOutcome,
    enforced: Capabilities,
    events: &EventSender,
) -> ExecOutcome {
    outcome.enforced = enforced;
    let _ = events
        .send(ExecEvent::Exited(Box::new(outcome.clone())))
        .await;
    outcome
}

async fn ensure_image(docker: &Docker, config: &DockerConfig) -> Result<()> {
    match docker.inspect_image(&config.image).await {
        Ok(_) => return Ok(()),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => {}
        Err(e) => return Err(api_error("cannot inspect the image", e)),
    }
    if config.pull == PullPolicy::Never {
        return Err(Error::InvalidInput(format!(
            "image {:?} is not present locally; build or load it, or allow pulling (--pull)",
            config.image
        )));
    }
    let opts = CreateImageOptionsBuilder::default()
        .from_image(&config.image)
        .build();
    let mut progress = docker.create_image(Some(opts), None, None);
    while let Some(step) = progress.next().await {
        let info = step.map_err(|e| {
            Error::executor_from(
                BackendKind::Docker,
                ExecErrorKind::Image,
                "cannot pull the image",
                e,
            )
        })?;
        tracing::info!(
            target: "sandboxcore::docker",
            image = %config.image,
            status = info.status.as_deref().unwrap_or(""),
            layer = info.id.as_deref().unwrap_or(""),
            current = info.progress_detail.as_ref().and_then(|p| p.current),
            total = info.progress_detail.as_ref().and_then(|p| p.total),
            "pulling"
        );
    }
    Ok(())
}

/// Whether a container's owner label names a process of this host (and pid
/// namespace: [`spec::host_id`]) that is gone.
fn owner_gone(owner: &str, host: &str) -> bool {
    match owner.rsplit_once(':') {
        Some((h, pid)) if h == host => pid.parse::<u32>().is_ok_and(reap::pid_gone),
        _ => false,
    }
}

/// One clean-up pass: managed containers whose owner process (on this
/// host) is gone, or with `all` every managed container not this
/// process's; then the egress directories of owners that are gone.
async fn reap_pass(docker: &Docker, all: bool) -> Result<ReapReport> {
    let filters = HashMap::from([("label", vec![format!("{MANAGED_LABEL}=true")])]);
    let opts = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    let list = docker
        .list_containers(Some(opts))
        .await
        .map_err(|e| api_error("cannot list containers", e))?;
    let host = spec::host_id();
    let mine = spec::owner();
    let mut removals = Vec::new();
    for c in list {
        let labels = c.labels.unwrap_or_default();
        let owner = labels.get(OWNER_LABEL).map(String::as_str).unwrap_or("");
        let leftover = if all {
            owner != mine
        } else {
            owner_gone(owner, &host)
        };
        let Some(id) = c.id else { continue };
        if leftover {
            tracing::info!(target: "sandboxcore::docker", container = %id, owner, state = c.state.as_ref().map(|s| s.to_string()), pool = labels.contains_key(POOL_LABEL), "removing a leftover container");
            removals.push(async move { session::remove(docker, &id).await.then_some(id) });
        }
    }
    let mut report = ReapReport::default();
    // Side by side: a removal may wait for the daemon for seconds.
    for id in futures_util::future::join_all(removals)
        .await
        .into_iter()
        .flatten()
    {
        report.push(LeftoverKind::Container, id);
    }
    for dir in reap::on_thread(egress::sweep_dead).await {
        report.push(LeftoverKind::EgressDir, dir.to_string_lossy());
    }
    Ok(report)
}

impl Executor for DockerExecutor {
    fn kind(&self) -> BackendKind {
        BackendKind::Docker
    }

    /// Everything is enforced by the kernel through the container's
    /// namespaces and cgroups (and by gVisor with `runtime: runsc`).
    /// `network_isolation` holds for allowlist runs too: their container
    /// has only loopback, and the one way out is the egress proxy's socket
    /// (allowlist runs are refused where that socket cannot be reached:
    /// the plain path, gVisor without `--host-uds=open`).
    fn capabilities(&self) -> Capabilities {
        let config = &self.config;
        Capabilities {
            network_isolation: true,
            memory_limit: true,
            process_limit: true,
            cpu_limit: true,
            filesystem_isolation: true,
            kills_descendants: true,
            // Docker's own user namespaces (userns-remap) are not checked.
            user_namespace: false,
            pid_namespace: true,
            read_only_root: config.read_only_root,
            // Host paths are not in the container but for the workspace;
            // deny-read paths inside the workspace are not hidden.
            deny_read: false,
            landlock: false,
            // Docker's default profile or the configured one.
            seccomp: true,
            no_new_privs: config.no_new_privileges,
            closes_descriptors: true,
        }
    }

    fn execute_streaming(
        &self,
        request: ExecRequest,
        events: EventSender,
    ) -> BoxFuture<'_, Result<ExecOutcome>> {
        Box::pin(self.run(request, events))
    }

    /// Waits for the pass started when the executor was made, then makes
    /// one more: managed containers (any state) whose owner label names a
    /// process of this host that is gone, each removed until the daemon
    /// no longer knows it, then those owners' egress directories.
    fn reap(&self) -> BoxFuture<'_, Result<ReapReport>> {
        Box::pin(async move {
            let mut report = self.first_reap.wait().await?;
            report.merge(reap_pass(&self.docker, false).await?);
            Ok(report)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dead_owners_on_this_host_are_leftovers() {
        let host = "box";
        assert!(owner_gone("box:999999999", host));
        assert!(!owner_gone(&format!("box:{}", std::process::id()), host));
        assert!(!owner_gone("box:1", host), "pid 1 is alive");
        assert!(!owner_gone("other:999999999", host), "another host's");
        assert!(!owner_gone("", host));
        assert!(!owner_gone("box:x", host));
    }

    #[test]
    fn the_owner_label_names_the_pid_namespace() {
        let label = spec::owner_label(42);
        let (host, pid) = label.rsplit_once(':').unwrap();
        assert_eq!(pid, "42");
        let ns = std::fs::read_link("/proc/self/ns/pid").unwrap();
        let ns = ns.to_string_lossy();
        let inode = ns.trim_start_matches("pid:[").trim_end_matches(']');
        assert!(host.ends_with(&format!("@{inode}")), "{label} vs {ns}");
        assert_eq!(host, spec::host_id());
        // Another pid namespace's process of the same name is not judged.
        let other = format!("{}@1:999999999", host.split('@').next().unwrap());
        assert!(!owner_gone(&other, host));
        assert!(owner_gone(&spec::owner_label(999_999_999), host));
    }

    #[test]
    fn an_unreachable_daemon_is_reported_as_unavailable() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let missing = format!("unix://{}/no.sock", dir.path().display());
        // A socket nobody listens on.
        let dead = dir.path().join("dead.sock");
        drop(std::os::unix::net::UnixListener::bind(&dead).unwrap());
        let dead = format!("unix://{}", dead.display());
        for host in [missing, dead] {
            let err = rt.block_on(connect_host(&host)).unwrap_err();
            assert!(matches!(err, Error::BackendUnavailable { .. }), "{err}");
            assert!(err.to_string().contains(&host), "{err}");
        }
        let err = rt
            .block_on(connect_host("unix:///nonexistent"))
            .unwrap_err();
        assert!(matches!(err, Error::BackendUnavailable { .. }), "{err}");
        assert!(err.to_string().contains("is dockerd running"), "{err}");
    }
}
