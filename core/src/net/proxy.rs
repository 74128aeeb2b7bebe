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
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// The most connections one proxy serves at once; more wait to be
/// accepted.
pub const MAX_CONNECTIONS: usize = 1024;

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

    /// Whether the approver, audit log and metrics are set (a run's
    /// [`crate::Sandbox`] fills in those it has when they are not).
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
        let address = listener.local_addr()?;
        let run = Arc::new(RunProxy {
            egress: self.clone(),
            approvals: Approvals::default(),
            tasks: Mutex::new(JoinSet::new()),
        });
        let accept = tokio::spawn(accept_loop(run.clone(), listener));
        Ok(ProxyHandle {
            address,
            accept,
            run,
        })
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

    fn connections(&self) -> usize {
        self.tasks.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

async fn accept_loop(run: Arc<RunProxy>, listener: TcpListener) {
    loop {
        if run.connections() >= MAX_CONNECTIONS {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            continue;
        }
        match listener.accept().await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                let r = run.clone();
                run.spawn(super::http::serve_client(r, stream));
            }
            // Out of descriptors, say: wait a little rather than spin.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
}

/// A proxy being served. Dropping it stops the proxy and ends every
/// connection through it.
pub struct ProxyHandle {
    address: SocketAddr,
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
    /// The address the proxy listens on (in the namespace the listener
    /// was made in).
    pub fn address(&self) -> SocketAddr {
        self.address
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
