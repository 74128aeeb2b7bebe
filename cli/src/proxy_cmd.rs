//! `sandboxcore proxy`: the filtering egress proxy of `run --allow-host`
//! as a process of its own, for runs whose network leads only to it (the
//! Kubernetes egress proxy of `sandboxcore k8s manifests --egress-proxy`).

use crate::backend_args::{self, HostArgs};
use crate::policy_source::PolicySource;
use anyhow::{Context, Result};
use clap::Args;
use sandboxcore::metrics::Metrics;
use sandboxcore::net::Egress;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Arguments of `sandboxcore proxy`.
#[derive(Args)]
pub struct ProxyArgs {
    #[command(flatten)]
    source: PolicySource,
    /// Address to listen on: 127.0.0.1:3128, or 0.0.0.0:3128 in a pod
    /// (port 0 picks a free port; the address is printed on stderr).
    #[arg(long, value_name = "ADDR")]
    listen: SocketAddr,
    #[command(flatten)]
    hosts: HostArgs,
    /// Append a JSON line per connection to this audit file.
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
    /// Serve the metrics (connections and bytes by verdict) as Prometheus
    /// text at http://ADDR/metrics.
    #[arg(long, value_name = "ADDR")]
    metrics_listen: Option<SocketAddr>,
}

/// Runs the subcommand: serves until SIGINT or SIGTERM, then exits 0.
pub fn run(args: ProxyArgs) -> Result<ExitCode> {
    crate::init_logging();
    let policy = args.source.load()?;
    let mut rules = policy.egress_rules();
    rules.merge(args.hosts.rules()?.with_origin("proxy"));
    if rules.allow_entries().is_empty() {
        eprintln!(
            "sandboxcore: warning: nothing is allowed (give --policy with a network.allow \
             list, or --allow-host)"
        );
    }
    let metrics = Arc::new(Metrics::new());
    let mut egress = Egress::new(rules).with_metrics(metrics.clone());
    if let Some(path) = &args.audit_log {
        egress = egress.with_audit(Arc::new(backend_args::open_audit_log(path)?));
    }
    let runtime = backend_args::runtime()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        if let Some(addr) = args.metrics_listen {
            serve_metrics(addr, metrics).await?;
        }
        // No approver: a host a `require_approval` pattern names is
        // refused (no terminal to ask for each connection).
        let proxy = egress.serve(listener)?;
        eprintln!("sandboxcore: listening on {}", proxy.address());
        shutdown_signal().await?;
        drop(proxy);
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Serves `GET /metrics` on `addr` until the runtime ends.
async fn serve_metrics(addr: SocketAddr, metrics: Arc<Metrics>) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} for metrics"))?;
    eprintln!(
        "sandboxcore: metrics on http://{}/metrics",
        listener.local_addr()?
    );
    let router = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let metrics = metrics.clone();
            async move { metrics.encode() }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(())
}

/// Waits for SIGINT (Ctrl-C) or SIGTERM (what Kubernetes sends).
async fn shutdown_signal() -> Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("cannot handle SIGINT")?,
        _ = term.recv() => {}
    }
    Ok(())
}
