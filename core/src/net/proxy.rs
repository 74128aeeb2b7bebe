//! The egress proxy of one run (or of `sandboxcore proxy`): what it
//! enforces ([`Egress`]) and the task that serves it on a listener
//! ([`ProxyHandle`]).

use super::gate::Approvals;
use super::resolve::{Resolve, SystemResolver};
use super::EgressRules;
use crate::audit::{AuditLog, ConnectionRecord};
use crate::metrics::Metrics;
use crate::sandbox::Approver;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};
use tokio::task::JoinSet;

/// The most connections and tunnels one proxy serves at once (each tunnel
/// holds two 256 KiB buffers); more wait to be accepted.
pub const MAX_CONNECTIONS: usize = 256;

/// What a run's network may reach, and whom the proxy tells: the rules,
/// the resolver, the approver for `require_approval` hosts, the audit log,
/// the metrics and the run's labels.
#[derive(Clone)]
pub struct Egress {
    pub(crate) rules: EgressRules,
    pub(crate) resolver: Arc<dyn Resolve>,
    pub(crate) approver: Option<Arc<dyn Approver>>,
    pub(crate) audit: Option<Arc<AuditLog>>,
    pub(crate) metrics: Option<Arc<Metrics>>,
    pub(crate) labels: BTreeMap<String, String>,
}

impl std::fmt::Debug for Egress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Egress")
            .field("rules", &self.rules)
            .field("resolver", &self.resolver)
            .field("approver", &self.approver.is_some())
            .field("audit", &self.audit.is_some())
            .field("metrics", &self.metrics.is_some())
            .finish()
    }
}

/// Two egress settings are equal when their rules are (the resolver,
/// approver, audit log and metrics are where they report, not what they
/// allow).
impl PartialEq for Egress {
    fn eq(&self, other: &Egress) -> bool {
        self.rules == other.rules
    }
}

impl Eq for Egress {}

impl Egress {
    /// Connections as `rules` say, names resolved by the host's resolver,
    /// no approver (hosts that need approval are refused), audited
    /// through `tracing` only.
    pub fn new(rules: EgressRules) -> Egress {
        Egress {
            rules,
            resolver: Arc::new(SystemResolver),
            approver: None,
            audit: None,
            metrics: None,
            labels: BTreeMap::new(),
        }
    }

    /// The rules.
    pub fn rules(&self) -> &EgressRules {
        &self.rules
    }

    /// Resolves names with `resolver`.
    pub fn with_resolver(mut self, resolver: Arc<dyn Resolve>) -> Egress {
        self.resolver = resolver;
        self
    }

    /// Asks `approver` about hosts a `require_approval` pattern names.
    pub fn with_approver(mut self, approver: Arc<dyn Approver>) -> Egress {
        self.approver = Some(approver);
        self
    }

    /// Records every connection in `audit`.
    pub fn with_audit(mut self, audit: Arc<AuditLog>) -> Egress {
        self.audit = Some(audit);
        self
    }

    /// Counts connections and bytes in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Egress {
        self.metrics = Some(metrics);
        self
    }

    /// Copies `labels` into every connection's audit record.
    pub fn with_labels(mut self, labels: BTreeMap<String, String>) -> Egress {
        self.labels = labels;
        self
    }

    /// These settings with the approver, audit log, metrics and labels of
    /// a run's [`crate::Sandbox`] filled in where none were set.
    pub(crate) fn fill_from(
        mut self,
        approver: Option<&Arc<dyn Approver>>,
        audit: &Arc<AuditLog>,
        metrics: &Arc<Metrics>,
        labels: &BTreeMap<String, String>,
    ) -> Egress {
        if self.approver.is_none() {
            self.approver = approver.cloned();
        }
        self.audit.get_or_insert_with(|| audit.clone());
        self.metrics.get_or_insert_with(|| metrics.clone());
        if self.labels.is_empty() {
            self.labels = labels.clone();
        }
        self
    }

    /// Serves the proxy on `listener` until the handle is dropped (which
    /// ends every connection through it). Must be called within a tokio
    /// runtime; approvals are remembered for the handle's life.
    pub fn serve(&self, listener: TcpListener) -> std::io::Result<ProxyHandle> {
        let address = ProxyAddress::Tcp(listener.local_addr()?);
        Ok(self.serve_on(listener, address))
    }

    /// Serves the proxy on a Unix socket, as [`Egress::serve`] does on TCP
    /// (the Docker backend's: the socket is bind-mounted into a container
    /// that has no network, where the agent forwards its loopback port to
    /// it). The socket file is left where it is; its directory's owner
    /// removes it.
    pub fn serve_unix(&self, listener: UnixListener) -> std::io::Result<ProxyHandle> {
        let path = listener
            .local_addr()?
            .as_pathname()
            .map(Path::to_path_buf)
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "the proxy's Unix socket has no path",
                )
            })?;
        Ok(self.serve_on(listener, ProxyAddress::Unix(path)))
    }

    fn serve_on(&self, listener: impl Accept, address: ProxyAddress) -> ProxyHandle {
        let run = Arc::new(RunProxy {
            egress: self.clone(),
            approvals: Approvals::default(),
            tasks: Mutex::new(JoinSet::new()),
        });
        let accept = tokio::spawn(accept_loop(run.clone(), listener));
        ProxyHandle {
            address,
            accept,
            run,
        }
    }

    /// Audits and counts a connection that ended.
    pub(crate) fn record(&self, mut record: ConnectionRecord) {
        if let Some(m) = &self.metrics {
            m.record_connection(record.verdict, record.bytes_up, record.bytes_down);
        }
        record.labels = self.labels.clone();
        match &self.audit {
            Some(a) => {
                let _ = a.record_connection(&record);
            }
            None => {
                let _ = AuditLog::tracing_only().record_connection(&record);
            }
        }
    }
}

/// One served proxy: its settings, the approvals given and every task
/// serving it.
pub(crate) struct RunProxy {
    pub egress: Egress,
    pub approvals: Approvals,
    tasks: Mutex<JoinSet<()>>,
}

impl RunProxy {
    /// Runs `task` until it ends or the proxy is dropped.
    pub fn spawn(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        // Reap the finished ones (a long run makes many connections).
        while tasks.try_join_next().is_some() {}
        tasks.spawn(task);
    }

    /// The tasks still running (the finished ones reaped first: else a
    /// proxy at its limit would count them for ever and accept nothing).
    fn connections(&self) -> usize {
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        while tasks.try_join_next().is_some() {}
        tasks.len()
    }
}

/// A listener the proxy accepts clients on.
trait Accept: Send + Sync + 'static {
    /// A client's connection.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// The next client.
    fn next(&self) -> impl std::future::Future<Output = std::io::Result<Self::Stream>> + Send;
}

impl Accept for TcpListener {
    type Stream = tokio::net::TcpStream;

    async fn next(&self) -> std::io::Result<Self::Stream> {
        let (stream, _) = self.accept().await?;
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }
}

impl Accept for UnixListener {
    type Stream = tokio::net::UnixStream;

    async fn next(&self) -> std::io::Result<Self::Stream> {
        Ok(self.accept().await?.0)
    }
}

async fn accept_loop(run: Arc<RunProxy>, listener: impl Accept) {
    loop {
        if run.connections() >= MAX_CONNECTIONS {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            continue;
        }
        match listener.next().await {
            Ok(stream) => {
                let r = run.clone();
                run.spawn(super::http::serve_client(r, stream));
            }
            // Out of descriptors, say: wait a little rather than spin.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
}

/// Where a proxy listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyAddress {
    /// A TCP address (in the network namespace the listener was made in).
    Tcp(SocketAddr),
    /// A Unix socket's path.
    Unix(PathBuf),
}

/// A proxy being served. Dropping it stops the proxy and ends every
/// connection through it.
pub struct ProxyHandle {
    address: ProxyAddress,
    accept: tokio::task::JoinHandle<()>,
    run: Arc<RunProxy>,
}

impl std::fmt::Debug for ProxyHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyHandle")
            .field("address", &self.address)
            .finish()
    }
}

impl ProxyHandle {
    /// The TCP address the proxy listens on (in the namespace the
    /// listener was made in); the unspecified address, port 0, for a proxy
    /// served on a Unix socket (see [`ProxyHandle::local_address`]).
    pub fn address(&self) -> SocketAddr {
        match &self.address {
            ProxyAddress::Tcp(a) => *a,
            ProxyAddress::Unix(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
        }
    }

    /// Where the proxy listens: a TCP address or a Unix socket.
    pub fn local_address(&self) -> &ProxyAddress {
        &self.address
    }
}

impl Drop for ProxyHandle {
    fn drop(&mut self) {
        self.accept.abort();
        self.run
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .abort_all();
    }
}
