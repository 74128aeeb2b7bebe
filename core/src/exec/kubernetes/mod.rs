//! The Kubernetes backend's building blocks (cargo feature `kubernetes`):
//! the hardened Job that runs one command ([`job`]), the manifests an
//! operator applies once ([`manifests`], and [`egress_proxy_manifests`]
//! for network by allowlist), its options as the front ends give them
//! ([`KubernetesOptions`]), and the executor that runs the
//! Job through the API server ([`KubernetesExecutor`]). See
//! `docs/kubernetes.md` for what is verified (a fake API server) and what
//! is not (a real cluster).

mod egress_proxy;
mod executor;
mod job;
mod manifests;
mod options;

pub use egress_proxy::{
    egress_proxy_manifests, EgressProxySpec, EGRESS_POLICY_CONFIG_MAP, EGRESS_PROXY_NAME,
};
pub use executor::KubernetesExecutor;
pub use job::{job, job_name};
pub use manifests::manifests;
pub use options::{check_namespace, KubernetesOptions, QuantityValue};

use std::collections::BTreeMap;

/// The label every object sandboxcore creates carries (for cleanup).
pub const MANAGED_LABEL: &str = "sandboxcore.dev/managed";
/// The label carrying a run's id.
pub const RUN_ID_LABEL: &str = "sandboxcore.dev/run-id";
/// The label saying whether a sandbox pod may use the network
/// (`none` pods are selected by the default-deny NetworkPolicy).
pub const NETWORK_LABEL: &str = "sandboxcore.dev/network";

/// How sandbox Jobs are made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubernetesConfig {
    /// Namespace of the Jobs (default `sandboxcore`).
    pub namespace: String,
    /// The container image.
    pub image: String,
    /// A RuntimeClass such as `gvisor`.
    pub runtime_class: Option<String>,
    /// Uid of the container's processes (non-root).
    pub run_as_user: i64,
    /// Gid of the container's processes.
    pub run_as_group: i64,
    /// Group of mounted volumes.
    pub fs_group: i64,
    /// CPU limit (`"1"`, `"500m"`).
    pub cpu_limit: String,
    /// CPU request.
    pub cpu_request: String,
    /// Memory request (the limit comes from the run's `Limits::memory`).
    pub memory_request: String,
    /// Ephemeral-storage limit.
    pub ephemeral_storage_limit: String,
    /// Size limit of the `/tmp` emptyDir.
    pub tmp_size_limit: String,
    /// Seconds a finished Job is kept before Kubernetes deletes it.
    pub ttl_seconds_after_finished: i32,
    /// The service account of sandbox pods (its token is never mounted).
    pub service_account: Option<String>,
    /// Extra labels for Jobs and pods.
    pub labels: BTreeMap<String, String>,
    /// The URL of the egress proxy (`sandboxcore k8s manifests
    /// --egress-proxy`) that runs with network reach the network through:
    /// `http://CLUSTER-IP:3128`, the Service's cluster IP, since the
    /// NetworkPolicy of that setup gives sandbox pods no DNS. When set,
    /// runs with [`crate::exec::Network::Allowed`] or
    /// [`crate::exec::Network::Allowlist`] get `HTTP_PROXY`,
    /// `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` pointing at it. An
    /// allowlist run needs it, and gets **the proxy's policy**, not its
    /// own hosts: the proxy is shared by every run in the namespace.
    pub egress_proxy: Option<String>,
}

impl KubernetesConfig {
    /// Defaults for `image`: namespace `sandboxcore`, uid/gid 1000, 1 CPU,
    /// 1 GiB ephemeral storage, 256 MiB `/tmp`, TTL 300 s.
    pub fn new(image: impl Into<String>) -> KubernetesConfig {
        KubernetesConfig {
            namespace: "sandboxcore".into(),
            image: image.into(),
            runtime_class: None,
            run_as_user: 1000,
            run_as_group: 1000,
            fs_group: 1000,
            cpu_limit: "1".into(),
            cpu_request: "100m".into(),
            memory_request: "64Mi".into(),
            ephemeral_storage_limit: "1Gi".into(),
            tmp_size_limit: "256Mi".into(),
            ttl_seconds_after_finished: 300,
            service_account: None,
            labels: BTreeMap::new(),
            egress_proxy: None,
        }
    }
}
