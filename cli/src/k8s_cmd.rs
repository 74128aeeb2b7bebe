//! `sandboxcore k8s manifests`.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use sandboxcore::exec::kubernetes::{self, EgressProxySpec};
use sandboxcore::policy::Policy;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `sandboxcore k8s`.
#[derive(Args)]
pub struct K8sArgs {
    #[command(subcommand)]
    command: K8sCommand,
}

#[derive(Subcommand)]
enum K8sCommand {
    /// Print (as YAML documents) what an operator applies once: the
    /// Namespace with Pod Security Admission `restricted`, a ServiceAccount,
    /// a Role and RoleBinding limited to jobs, pods and pods/log, a
    /// default-deny NetworkPolicy, a ResourceQuota and a LimitRange.
    ///
    /// With --egress-proxy, also the egress proxy that runs with network go
    /// through: a ConfigMap with its policy (--proxy-policy; without it,
    /// create the ConfigMap sandboxcore-egress-policy with the key
    /// policy.yaml yourself), a Deployment running `sandboxcore proxy`
    /// (--proxy-image), the Service sandboxcore-egress-proxy on TCP 3128,
    /// and NetworkPolicies: sandbox pods with network reach only the
    /// proxy's pods on TCP 3128 (no DNS: give runs the Service's cluster
    /// IP, `--egress-proxy http://CLUSTER-IP:3128`); the proxy reaches
    /// TCP 80 and 443 and DNS. See docs/kubernetes.md.
    #[command(verbatim_doc_comment)]
    Manifests {
        /// The namespace sandbox Jobs run in.
        #[arg(long, default_value = "sandboxcore", value_parser = namespace_arg)]
        namespace: String,
        /// Add the egress proxy (needs --proxy-image).
        #[arg(long, requires = "proxy_image")]
        egress_proxy: bool,
        /// An image with `sandboxcore` on its PATH, for the egress proxy.
        #[arg(long, value_name = "IMAGE", requires = "egress_proxy")]
        proxy_image: Option<String>,
        /// The egress proxy's policy file (its `network:` section and
        /// `require_approval`), checked and put in the ConfigMap.
        #[arg(long, value_name = "FILE", requires = "egress_proxy")]
        proxy_policy: Option<PathBuf>,
    },
}

/// A namespace name as core checks it (an RFC 1123 label).
pub(crate) fn namespace_arg(ns: &str) -> std::result::Result<String, String> {
    kubernetes::check_namespace(ns)
        .map(|()| ns.to_string())
        .map_err(|e| e.to_string())
}

/// Runs the subcommand.
pub fn run(args: K8sArgs) -> Result<ExitCode> {
    match args.command {
        K8sCommand::Manifests {
            namespace,
            egress_proxy: _,
            proxy_image,
            proxy_policy,
        } => {
            let mut docs = kubernetes::manifests(&namespace);
            if let Some(image) = proxy_image {
                let mut spec = EgressProxySpec::new(image);
                if let Some(path) = proxy_policy {
                    // The proxy must be able to load it.
                    let (_, layer) = Policy::read_layer(&path)?;
                    Policy::from_layers(&[&layer])
                        .with_context(|| format!("invalid policy {}", path.display()))?;
                    spec.policy = Some(
                        std::fs::read_to_string(&path)
                            .with_context(|| format!("cannot read {}", path.display()))?,
                    );
                }
                docs.extend(kubernetes::egress_proxy_manifests(&namespace, &spec));
            }
            let mut out = std::io::stdout().lock();
            for doc in docs {
                out.write_all(b"---\n")?;
                out.write_all(serde_yaml_ng::to_string(&doc)?.as_bytes())?;
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
