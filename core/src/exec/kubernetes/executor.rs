//! The Kubernetes executor: one Job per command, through the API server
//! (`kube`). It creates the Job, waits for its pod with a list + watch
//! (re-listing when a watch ends or expires), reads the container's log
//! (bounded), takes the exit code and `OOMKilled` from the container's
//! terminated state and `DeadlineExceeded` as a timeout, and deletes the
//! Job with foreground propagation — also when the run is dropped.

use super::{job, KubernetesConfig};
use crate::exec::{
    BoundedOutput, BoxFuture, Capabilities, EventSender, ExecEvent, ExecOutcome, ExecRequest,
    Executor, LeftoverKind, ReapReport,
};
use crate::{BackendKind, Error, ExecErrorKind, Result};
use futures_util::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, LogParams, PostParams, WatchEvent, WatchParams};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Runs each command as a Kubernetes Job.
#[derive(Clone)]
pub struct KubernetesExecutor {
    client: kube::Client,
    config: KubernetesConfig,
    /// Made by [`KubernetesExecutor::for_gc`]: runs nothing.
    gc_only: bool,
}

impl std::fmt::Debug for KubernetesExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubernetesExecutor")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn api_error(what: &str, e: kube::Error) -> Error {
    Error::executor_from(BackendKind::Kubernetes, ExecErrorKind::Api, what, e)
}

/// How the Job's pod ended.
#[derive(Debug, PartialEq)]
enum PodEnd {
    /// The container terminated.
    Terminated {
        pod: String,
        exit_code: i32,
        signal: Option<i32>,
        reason: Option<String>,
    },
    /// The Job's `activeDeadlineSeconds` passed.
    DeadlineExceeded,
    /// The container could not start (image pull, bad config).
    CannotStart(String),
}

/// Waiting reasons that mean the container will not start by itself.
const FATAL_WAITING: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
];

fn pod_end(pod: &Pod) -> Option<PodEnd> {
    let status = pod.status.as_ref()?;
    if status.reason.as_deref() == Some("DeadlineExceeded") {
        return Some(PodEnd::DeadlineExceeded);
    }
    let container = status
        .container_statuses
        .as_ref()?
        .iter()
        .find(|c| c.name == "command")?;
    let state = container.state.as_ref()?;
    if let Some(t) = &state.terminated {
        return Some(PodEnd::Terminated {
            pod: pod.metadata.name.clone().unwrap_or_default(),
            exit_code: t.exit_code,
            signal: t.signal,
            reason: t.reason.clone(),
        });
    }
    let waiting = state.waiting.as_ref()?;
    let reason = waiting.reason.as_deref()?;
    FATAL_WAITING.contains(&reason).then(|| {
        PodEnd::CannotStart(format!(
            "{reason}: {}",
            waiting.message.as_deref().unwrap_or("")
        ))
    })
}

/// Whether a managed Job is a leftover: finished (succeeded or failed), or
/// older than its deadline plus five minutes (`now` in Unix seconds).
fn leftover(job: &Job, now: i64) -> bool {
    let status = job.status.as_ref();
    let finished = status.is_some_and(|s| {
        s.completion_time.is_some() || s.succeeded.unwrap_or(0) > 0 || s.failed.unwrap_or(0) > 0
    });
    let created = job
        .metadata
        .creation_timestamp
        .as_ref()
        .map(|t| t.0.as_second());
    let deadline = job.spec.as_ref().and_then(|s| s.active_deadline_seconds);
    let overdue = matches!((created, deadline), (Some(c), Some(d)) if now > c + d + 300);
    finished || overdue
}

/// Deletes the Job (foreground, so its pod goes too) unless disarmed; on
/// drop the deletion runs on the current runtime.
struct DeleteGuard {
    jobs: Api<Job>,
    name: String,
    armed: bool,
}

impl DeleteGuard {
    async fn delete(mut self) {
        self.armed = false;
        let _ = self
            .jobs
            .delete(&self.name, &DeleteParams::foreground())
            .await;
    }
}

impl Drop for DeleteGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let jobs = self.jobs.clone();
            let name = std::mem::take(&mut self.name);
            rt.spawn(async move {
                let _ = jobs.delete(&name, &DeleteParams::foreground()).await;
            });
        }
    }
}

impl KubernetesExecutor {
    /// Connects as `kubectl` would (kubeconfig or in-cluster).
    pub async fn infer(config: KubernetesConfig) -> Result<KubernetesExecutor> {
        let client = kube::Client::try_default()
            .await
            .map_err(|e| api_error("cannot reach a Kubernetes API server", e))?;
        Ok(KubernetesExecutor {
            client,
            config,
            gc_only: false,
        })
    }

    /// Uses an existing client.
    pub fn with_client(client: kube::Client, config: KubernetesConfig) -> KubernetesExecutor {
        KubernetesExecutor {
            client,
            config,
            gc_only: false,
        }
    }

    /// An executor that only cleans up the Jobs of `namespace` (`sandboxcore
    /// gc`): connects as [`KubernetesExecutor::infer`] does and needs no
    /// image or configuration. [`Executor::reap`] and
    /// [`KubernetesExecutor::reap_all`] work as on any executor; every run
    /// is refused with [`Error::InvalidInput`].
    pub async fn for_gc(namespace: impl Into<String>) -> Result<KubernetesExecutor> {
        let mut config = KubernetesConfig::new("");
        config.namespace = namespace.into();
        let mut executor = KubernetesExecutor::infer(config).await?;
        executor.gc_only = true;
        Ok(executor)
    }

    /// Deletes every managed Job in the namespace, running ones too
    /// (`sandboxcore gc --backend kubernetes --all`).
    pub async fn reap_all(&self) -> Result<ReapReport> {
        self.delete_jobs(true).await
    }

    /// Deletes managed Jobs that finished, or whose deadline (plus five
    /// minutes) has passed; with `all`, every managed Job.
    async fn delete_jobs(&self, all: bool) -> Result<ReapReport> {
        let jobs: Api<Job> = Api::namespaced(self.client.clone(), &self.config.namespace);
        let list = jobs
            .list(&ListParams::default().labels(&format!("{}=true", super::MANAGED_LABEL)))
            .await
            .map_err(|e| api_error("cannot list Jobs", e))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let mut deleted = ReapReport::default();
        for job in list.items {
            let Some(name) = job.metadata.name.clone() else {
                continue;
            };
            if all || leftover(&job, now) {
                jobs.delete(&name, &DeleteParams::foreground())
                    .await
                    .map_err(|e| api_error("cannot delete a Job", e))?;
                deleted.push(LeftoverKind::Job, name);
            }
        }
        Ok(deleted)
    }

    async fn wait_for_pod(&self, pods: &Api<Pod>, selector: &str) -> Result<PodEnd> {
        loop {
            let list = pods
                .list(&ListParams::default().labels(selector))
                .await
                .map_err(|e| api_error("cannot list the Job's pods", e))?;
            if let Some(end) = list.items.iter().find_map(pod_end) {
                return Ok(end);
            }
            let version = list.metadata.resource_version.unwrap_or_default();
            let mut stream = pods
                .watch(
                    &WatchParams::default().labels(selector).timeout(290),
                    &version,
                )
                .await
                .map_err(|e| api_error("cannot watch the Job's pods", e))?
                .boxed();
            while let Some(event) = stream.next().await {
                match event {
                    Ok(WatchEvent::Added(p)) | Ok(WatchEvent::Modified(p)) => {
                        if let Some(end) = pod_end(&p) {
                            return Ok(end);
                        }
                    }
                    // Expired resource version or a broken stream: list again.
                    Ok(WatchEvent::Error(_)) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        }
    }

    async fn run(&self, req: ExecRequest, events: EventSender) -> Result<ExecOutcome> {
        if self.gc_only {
            return Err(Error::InvalidInput(
                "this Kubernetes backend was made for clean-up only (KubernetesExecutor::for_gc) \
                 and runs nothing"
                    .into(),
            ));
        }
        let started = Instant::now();
        let job = job(&req, &self.config, &crate::exec::run_id())?;
        let name = job.metadata.name.clone().unwrap_or_default();
        let ns = &self.config.namespace;
        let jobs: Api<Job> = Api::namespaced(self.client.clone(), ns);
        jobs.create(&PostParams::default(), &job)
            .await
            .map_err(|e| api_error("cannot create the Job", e))?;
        let guard = DeleteGuard {
            jobs,
            name: name.clone(),
            armed: true,
        };
        let _ = events.send(ExecEvent::Started { pid: None }).await;
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        let selector = format!("job-name={name}");
        // The Job's own deadline ends the pod; this one covers a cluster
        // that never schedules it.
        let limit = req
            .limits
            .timeout
            .map_or(Duration::from_secs(24 * 3600), |t| {
                t + Duration::from_secs(60)
            });
        let end = match tokio::time::timeout(limit, self.wait_for_pod(&pods, &selector)).await {
            Ok(end) => end?,
            Err(_) => PodEnd::DeadlineExceeded,
        };
        let mut out = BoundedOutput::new(req.limits.output_bytes);
        let mut outcome = ExecOutcome::default();
        match end {
            PodEnd::Terminated {
                pod,
                exit_code,
                signal,
                reason,
            } => {
                // The log interleaves stdout and stderr; it is read up to
                // four times the output budget (head and tail kept).
                let cap = (req.limits.output_bytes as i64).saturating_mul(4).max(4096);
                let log = pods
                    .logs(
                        &pod,
                        &LogParams {
                            container: Some("command".into()),
                            limit_bytes: Some(cap),
                            ..LogParams::default()
                        },
                    )
                    .await
                    .map_err(|e| api_error("cannot read the pod's log", e))?;
                if !log.is_empty() {
                    let _ = events
                        .send(ExecEvent::Stdout(bytes::Bytes::from(
                            log.clone().into_bytes(),
                        )))
                        .await;
                }
                out.push(log.as_bytes());
                outcome.exit_code = (signal.is_none()).then_some(exit_code);
                outcome.signal = signal;
                outcome.oom_killed = reason.as_deref() == Some("OOMKilled");
                if outcome.oom_killed && outcome.signal.is_none() && exit_code == 137 {
                    outcome.exit_code = None;
                    outcome.signal = Some(9);
                }
                if log.len() as i64 >= cap {
                    out.push(b"\n[sandboxcore: the log was cut at the read limit]\n");
                }
            }
            PodEnd::DeadlineExceeded => {
                outcome.timed_out = true;
                outcome.signal = Some(9);
            }
            PodEnd::CannotStart(why) => {
                guard.delete().await;
                return Err(Error::executor(
                    BackendKind::Kubernetes,
                    ExecErrorKind::Spawn,
                    format!("the container cannot start: {why}"),
                ));
            }
        }
        guard.delete().await;
        let (stdout, truncated) = out.finish();
        outcome.stdout = stdout;
        outcome.stdout_truncated = truncated;
        outcome.duration = started.elapsed();
        outcome.enforced = self.capabilities().for_run(&req, &[]);
        let _ = events
            .send(ExecEvent::Exited(Box::new(outcome.clone())))
            .await;
        Ok(outcome)
    }
}

impl Executor for KubernetesExecutor {
    fn kind(&self) -> BackendKind {
        BackendKind::Kubernetes
    }

    /// Network isolation depends on the cluster enforcing the
    /// NetworkPolicy from `sandboxcore k8s manifests`, which sandboxcore
    /// cannot check, so it is not claimed.
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            network_isolation: false,
            memory_limit: true,
            process_limit: false,
            cpu_limit: true,
            filesystem_isolation: true,
            kills_descendants: true,
            user_namespace: false,
            // A pod has a pid namespace of its own; the Job sets a read-only
            // root, allowPrivilegeEscalation: false and RuntimeDefault seccomp.
            pid_namespace: true,
            read_only_root: true,
            deny_read: false,
            landlock: false,
            seccomp: true,
            no_new_privs: true,
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

    /// Deletes the Jobs that processes which died mid-run left: managed
    /// Jobs that finished, or whose deadline (plus five minutes) has
    /// passed. (A Job has no owner process to check; finished Jobs also go
    /// by themselves after `ttlSecondsAfterFinished`, so nothing is started
    /// in the background when the executor is made.)
    fn reap(&self) -> BoxFuture<'_, Result<ReapReport>> {
        Box::pin(self.delete_jobs(false))
    }
}
