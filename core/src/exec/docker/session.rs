//! One container's lifecycle: create, attach, start, drive the command
//! (through the agent or as the container's own process), kill, remove.
//! A [`Container`] removes itself when dropped, so a cancelled run or a
//! failed step never leaves one behind.

use super::egress::EgressDir;
use super::{spec, DockerConfig};
use crate::exec::{BoundedOutput, EventSender, ExecEvent, ExecOutcome, ExecRequest};
use crate::{BackendKind, Error, ExecErrorKind, Result};
use bollard::container::LogOutput;
use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{
    AttachContainerOptionsBuilder, CreateContainerOptionsBuilder, KillContainerOptionsBuilder,
    RemoveContainerOptionsBuilder, WaitContainerOptionsBuilder,
};
use bollard::Docker;
use futures_util::{Stream, StreamExt};
use sandboxcore_agent::{Frame, FrameDecoder, Request};
use std::pin::Pin;
use std::time::{Duration, Instant};
use tokio::io::{AsyncWrite, AsyncWriteExt};

pub(super) fn api_error(what: &str, e: bollard::errors::Error) -> Error {
    Error::executor_from(BackendKind::Docker, ExecErrorKind::Api, what, e)
}

/// A Docker-backend [`Error::Executor`].
pub(super) fn fail(kind: ExecErrorKind, message: impl Into<String>) -> Error {
    Error::executor(BackendKind::Docker, kind, message)
}

/// A created container; removed (forced) when dropped unless already
/// removed. Its egress directory, if it has one, is removed after it.
pub(super) struct Container {
    docker: Docker,
    id: String,
    armed: bool,
    egress: Option<EgressDir>,
}

impl Container {
    /// Creates a container from `body`. Cancel-safe: the daemon lists a
    /// container before it answers the create request, so the request runs
    /// on a task of its own, which removes the container when the caller
    /// has gone by the time the answer comes (a run dropped meanwhile).
    async fn create(docker: &Docker, body: ContainerCreateBody) -> Result<Container> {
        let image = body.image.clone().unwrap_or_default();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let client = docker.clone();
        tokio::spawn(async move {
            let opts = CreateContainerOptionsBuilder::default().build();
            // The guard exists as soon as the answer does: whether the
            // caller has gone already (the send fails) or goes before it
            // takes the container out of the channel, the container is
            // dropped, and so removed.
            let created = client
                .create_container(Some(opts), body)
                .await
                .map(|c| Container::forget(&client, c.id));
            let _ = tx.send(created);
        });
        let container = rx
            .await
            .map_err(|_| {
                fail(
                    ExecErrorKind::Abandoned,
                    "the container's creation was abandoned",
                )
            })?
            .map_err(|e| match e {
                e @ bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                } => fail(
                    ExecErrorKind::Image,
                    format!(
                        "image {image:?} is not present locally (build or load it, or allow pulling)"
                    ),
                )
                .with_source(e),
                e => api_error("cannot create the container", e),
            })?;
        Ok(container)
    }

    /// Creates a container from `body` (with `egress` mounted at
    /// [`spec::EGRESS_DIR`] when given), attaches to it and starts it; a
    /// container that cannot be attached or started is removed at once.
    pub(super) async fn launch(
        docker: &Docker,
        mut body: ContainerCreateBody,
        egress: Option<EgressDir>,
    ) -> Result<(Container, Attached)> {
        if let Some(dir) = &egress {
            let host = body.host_config.get_or_insert_with(Default::default);
            host.mounts
                .get_or_insert_with(Vec::new)
                .push(spec::egress_mount(dir.path()));
        }
        let mut container = Container::create(docker, body).await?;
        container.egress = egress;
        let attached = match container.attach().await {
            Ok(attached) => container.start().await.map(|()| attached),
            Err(e) => Err(e),
        };
        match attached {
            Ok(attached) => Ok((container, attached)),
            Err(e) => {
                container.remove().await;
                Err(e)
            }
        }
    }

    /// A handle on an existing container (to remove it).
    pub(super) fn forget(docker: &Docker, id: String) -> Container {
        Container {
            docker: docker.clone(),
            id,
            armed: true,
            egress: None,
        }
    }

    /// The container's egress directory (pool containers and allowlist
    /// runs have one).
    pub(super) fn egress(&self) -> Option<&EgressDir> {
        self.egress.as_ref()
    }

    /// The container's id.
    pub(super) fn id(&self) -> &str {
        &self.id
    }

    /// Attaches to stdin, stdout and stderr (before start, so no output is
    /// missed).
    async fn attach(&self) -> Result<Attached> {
        let opts = AttachContainerOptionsBuilder::default()
            .stdin(true)
            .stdout(true)
            .stderr(true)
            .stream(true)
            .build();
        let io = self
            .docker
            .attach_container(&self.id, Some(opts))
            .await
            .map_err(|e| api_error("cannot attach to the container", e))?;
        Ok(Attached {
            output: io.output,
            input: io.input,
        })
    }

    /// Starts the container.
    async fn start(&self) -> Result<()> {
        self.docker
            .start_container(&self.id, None)
            .await
            .map_err(|e| api_error("cannot start the container", e))
    }

    /// Sends SIGKILL (errors ignored: it may have exited already).
    pub(super) async fn kill(&self) {
        let opts = KillContainerOptionsBuilder::default()
            .signal("SIGKILL")
            .build();
        let _ = self.docker.kill_container(&self.id, Some(opts)).await;
    }

    /// Waits until the container stops and reads its exit code and whether
    /// the kernel's OOM killer struck.
    pub(super) async fn exit_state(&self) -> Result<(i64, bool)> {
        let opts = WaitContainerOptionsBuilder::default()
            .condition("not-running")
            .build();
        let mut wait = self.docker.wait_container(&self.id, Some(opts));
        match wait.next().await {
            None
            | Some(Ok(_))
            | Some(Err(bollard::errors::Error::DockerContainerWaitError { .. })) => {}
            Some(Err(e)) => return Err(api_error("cannot wait for the container", e)),
        }
        let info = self
            .docker
            .inspect_container(&self.id, None)
            .await
            .map_err(|e| api_error("cannot inspect the container", e))?;
        let state = info.state.unwrap_or_default();
        Ok((
            state.exit_code.unwrap_or(-1),
            state.oom_killed.unwrap_or(false),
        ))
    }

    /// Whether the daemon recorded an OOM kill (false when it cannot tell,
    /// for instance after an automatic removal).
    pub(super) async fn oom_killed(&self) -> bool {
        match self.docker.inspect_container(&self.id, None).await {
            Ok(info) => info.state.and_then(|s| s.oom_killed).unwrap_or(false),
            Err(_) => false,
        }
    }

    /// Removes the container (forced), waiting until the daemon no longer
    /// knows it (see [`remove`]); `true` once it is gone. Cancel-safe: a
    /// caller dropped meanwhile leaves the removal to the drop.
    pub(super) async fn remove(mut self) -> bool {
        let gone = remove(&self.docker, &self.id).await;
        self.armed = false;
        drop(self.egress.take());
        gone
    }
}

/// How long a removal keeps trying.
const REMOVE_PATIENCE: Duration = Duration::from_secs(10);

/// Removes container `id` (forced, so in any state: created, starting,
/// running, exited), and tries again, with growing pauses, for up to
/// [`REMOVE_PATIENCE`] until the daemon answers that it is gone (404).
/// A 409 is not an answer: it means that another removal (the daemon's
/// automatic one) or a start is under way, and the first removal can fail
/// or the start win. Returns whether it is gone; a warning is logged when
/// it gives up (a later [`Executor::reap`](crate::exec::Executor::reap)
/// removes it once this process has gone).
pub(super) async fn remove(docker: &Docker, id: &str) -> bool {
    let opts = RemoveContainerOptionsBuilder::default().force(true).build();
    let end = Instant::now() + REMOVE_PATIENCE;
    let mut pause = Duration::from_millis(50);
    loop {
        let e = match docker.remove_container(id, Some(opts.clone())).await {
            Ok(()) => return true,
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => return true,
            Err(e) => e,
        };
        if Instant::now() + pause > end {
            tracing::warn!(target: "sandboxcore::docker", container = id, error = %e, "cannot remove a container; the next backend made after this process has gone removes it (or `sandboxcore gc --backend docker --all`)");
            return false;
        }
        tracing::debug!(target: "sandboxcore::docker", container = id, error = %e, "the container is not removed yet; trying again");
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}

impl Drop for Container {
    /// Removes the container in the background (on the current Tokio
    /// runtime; without one, on a thread of its own), so that dropping a
    /// run never blocks and never leaks it.
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let docker = self.docker.clone();
        let id = std::mem::take(&mut self.id);
        // Removed once the container is (dropped with the task or thread,
        // also when that cannot run).
        let egress = self.egress.take();
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    remove(&docker, &id).await;
                    drop(egress);
                });
            }
            Err(_) => {
                let _ = std::thread::Builder::new()
                    .name("sandboxcore-docker-rm".into())
                    .spawn(move || {
                        if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                        {
                            rt.block_on(async { remove(&docker, &id).await });
                        }
                        drop(egress);
                    });
            }
        }
    }
}

/// The attached streams of a container.
pub(super) struct Attached {
    output:
        Pin<Box<dyn Stream<Item = std::result::Result<LogOutput, bollard::errors::Error>> + Send>>,
    input: Pin<Box<dyn AsyncWrite + Send>>,
}

/// Output being collected for an outcome and forwarded as events.
struct Collector {
    stdout: BoundedOutput,
    stderr: BoundedOutput,
    events: EventSender,
}

impl Collector {
    fn new(req: &ExecRequest, events: EventSender) -> Collector {
        Collector {
            stdout: BoundedOutput::new(req.limits.output_bytes),
            stderr: BoundedOutput::new(req.limits.output_bytes),
            events,
        }
    }

    async fn stdout(&mut self, chunk: Vec<u8>) {
        self.stdout.push(&chunk);
        if !self.events.is_closed() {
            let _ = self.events.send(ExecEvent::Stdout(chunk.into())).await;
        }
    }

    async fn stderr(&mut self, chunk: Vec<u8>) {
        self.stderr.push(&chunk);
        if !self.events.is_closed() {
            let _ = self.events.send(ExecEvent::Stderr(chunk.into())).await;
        }
    }

    fn finish(self, mut outcome: ExecOutcome) -> ExecOutcome {
        (outcome.stdout, outcome.stdout_truncated) = self.stdout.finish();
        (outcome.stderr, outcome.stderr_truncated) = self.stderr.finish();
        outcome
    }
}

/// Why reading a run's output stopped.
enum End {
    /// The agent reported the exit.
    Exit(sandboxcore_agent::Exit),
    /// The output stream ended (the container's process exited, or the
    /// agent died before reporting).
    Closed,
    /// The timeout passed.
    TimedOut,
}

/// The instant a run must end by.
pub(super) fn deadline(req: &ExecRequest, started: Instant) -> Option<tokio::time::Instant> {
    req.limits
        .timeout
        .map(|t| tokio::time::Instant::from_std(started) + t)
}

async fn until<F: std::future::Future>(
    deadline: Option<tokio::time::Instant>,
    f: F,
) -> Option<F::Output> {
    match deadline {
        Some(d) => tokio::time::timeout_at(d, f).await.ok(),
        None => Some(f.await),
    }
}

impl Attached {
    /// Sends the command to the agent waiting in the container and collects
    /// its frames until it reports the exit (or the timeout passes, when
    /// the container is killed). `Err` before any frame arrived means the
    /// container never took the command (a dead pool container).
    pub(super) async fn run_agent(
        &mut self,
        container: &Container,
        req: &ExecRequest,
        config: &DockerConfig,
        events: EventSender,
        started: Instant,
    ) -> Result<ExecOutcome> {
        let request = Request {
            argv: spec::argv(&req.plan)?
                .into_iter()
                .map(String::into_bytes)
                .collect(),
            env: spec::environment(req, config)
                .into_iter()
                .map(String::into_bytes)
                .collect(),
            cwd: spec::workdir(req, config).into_bytes(),
            stdin: req.stdin.clone().unwrap_or_default(),
            egress: match req.network {
                crate::exec::Network::Allowlist(_) => spec::EGRESS_SOCKET.into(),
                _ => Vec::new(),
            },
        }
        .encode()
        .map_err(|e| Error::InvalidInput(e.to_string()))?;
        let deadline = deadline(req, started);
        let mut out = Collector::new(req, events);
        let input = &mut self.input;
        let output = &mut self.output;
        let write = async {
            input.write_all(&request).await?;
            input.flush().await
        };
        match until(deadline, write).await {
            Some(Ok(())) => {}
            Some(Err(e)) => {
                return Err(Error::executor_from(
                    BackendKind::Docker,
                    ExecErrorKind::Io,
                    "cannot send the command to the container's agent",
                    e,
                ))
            }
            None => return Ok(timed_out(container, out, started).await),
        }
        let mut decoder = FrameDecoder::new();
        let mut answered = false;
        let read = async {
            while let Some(item) = output.next().await {
                match item {
                    Ok(LogOutput::StdOut { message }) => {
                        decoder.push(&message);
                        while let Some(frame) = decoder.next_frame().map_err(|e| {
                            Error::executor_from(
                                BackendKind::Docker,
                                ExecErrorKind::Protocol,
                                "the container's entrypoint is not the sandboxcore agent",
                                e,
                            )
                        })? {
                            match frame {
                                Frame::Stdout(b) => out.stdout(b).await,
                                Frame::Stderr(b) => out.stderr(b).await,
                                Frame::Started(_) => answered = true,
                                Frame::Exit(exit) => return Ok(End::Exit(exit)),
                            }
                        }
                    }
                    // The agent's own diagnostics.
                    Ok(LogOutput::StdErr { message }) => out.stderr(message.to_vec()).await,
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            Ok::<End, Error>(End::Closed)
        };
        let end = until(deadline, read).await.unwrap_or(Ok(End::TimedOut))?;
        let mut outcome = ExecOutcome::default();
        match end {
            End::Exit(exit) => {
                outcome.exit_code = exit.code;
                outcome.signal = exit.signal;
                outcome.oom_killed = exit.oom_kills.is_some_and(|n| n > 0)
                    || (exit.signal == Some(9) && container.oom_killed().await);
            }
            End::Closed if !answered => {
                // The agent never took the command: a dead pool container,
                // or an agent that cannot run in this image.
                let said = out.finish(ExecOutcome::default()).stderr;
                let said = String::from_utf8_lossy(&said);
                let said: String = said.trim().chars().take(500).collect();
                return Err(fail(
                    ExecErrorKind::Protocol,
                    format!(
                        "the container's agent ended without running the command: {}",
                        if said.is_empty() { "no message" } else { &said }
                    ),
                ));
            }
            End::Closed => {
                // The agent itself died (killed from outside, or by the OOM
                // killer despite its score).
                outcome.signal = Some(9);
                outcome.oom_killed = container.oom_killed().await;
            }
            End::TimedOut => return Ok(timed_out(container, out, started).await),
        }
        outcome.duration = started.elapsed();
        Ok(out.finish(outcome))
    }

    /// Runs a container whose own process is the command: feeds stdin,
    /// collects output until the stream ends, then reads the exit state.
    pub(super) async fn run_plain(
        &mut self,
        container: &Container,
        req: &ExecRequest,
        events: EventSender,
        started: Instant,
    ) -> Result<ExecOutcome> {
        let deadline = deadline(req, started);
        let mut out = Collector::new(req, events);
        let stdin = req.stdin.clone().unwrap_or_default();
        let mut input = std::mem::replace(&mut self.input, Box::pin(tokio::io::sink()));
        // Feed stdin concurrently (a command may not read it all before
        // writing output), then close it: stdin_once ends the container's
        // stdin when the attached client closes its side.
        let feed = tokio::spawn(async move {
            let _ = input.write_all(&stdin).await;
            let _ = input.shutdown().await;
        });
        let output = &mut self.output;
        let read = async {
            while let Some(item) = output.next().await {
                match item {
                    Ok(LogOutput::StdOut { message }) => out.stdout(message.to_vec()).await,
                    Ok(LogOutput::StdErr { message }) => out.stderr(message.to_vec()).await,
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        };
        let finished = until(deadline, read).await.is_some();
        feed.abort();
        if !finished {
            return Ok(timed_out(container, out, started).await);
        }
        let state = until(deadline, container.exit_state()).await;
        let Some(state) = state else {
            return Ok(timed_out(container, out, started).await);
        };
        let (code, oom) = state?;
        let mut outcome = ExecOutcome {
            oom_killed: oom,
            ..ExecOutcome::default()
        };
        if oom && code == 137 {
            outcome.signal = Some(9);
        } else {
            outcome.exit_code = Some(code as i32);
        }
        outcome.duration = started.elapsed();
        Ok(out.finish(outcome))
    }
}

/// Kills the container and reports a timeout with the output so far.
async fn timed_out(container: &Container, out: Collector, started: Instant) -> ExecOutcome {
    container.kill().await;
    let outcome = ExecOutcome {
        timed_out: true,
        signal: Some(9),
        duration: started.elapsed(),
        ..ExecOutcome::default()
    };
    out.finish(outcome)
}
