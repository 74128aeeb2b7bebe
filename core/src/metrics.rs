//! Prometheus metrics (with the `prometheus-client` crate): decisions by
//! verdict, executions by backend and status, and execution durations.

use crate::exec::RunStatus;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VerdictLabels {
    verdict: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ExecutionLabels {
    backend: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConnectionLabels {
    verdict: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DirectionLabels {
    direction: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BackendLabels {
    backend: String,
}

fn duration_histogram() -> Histogram {
    // 1 ms to ~65 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

/// The metrics of one [`Sandbox`](crate::Sandbox) (or any caller that
/// records into it). Cheap to update from many threads.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    decisions: Family<VerdictLabels, Counter>,
    executions: Family<ExecutionLabels, Counter>,
    durations: Family<BackendLabels, Histogram, fn() -> Histogram>,
    connections: Family<ConnectionLabels, Counter>,
    egress_bytes: Family<DirectionLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A fresh set of metrics, registered under the `sandboxcore_` names.
    pub fn new() -> Metrics {
        let decisions = Family::<VerdictLabels, Counter>::default();
        let executions = Family::<ExecutionLabels, Counter>::default();
        let durations = Family::<BackendLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            duration_histogram,
        );
        let mut registry = Registry::default();
        registry.register(
            "sandboxcore_decisions",
            "Policy decisions by verdict",
            decisions.clone(),
        );
        registry.register(
            "sandboxcore_executions",
            "Command executions by backend and status",
            executions.clone(),
        );
        registry.register(
            "sandboxcore_execution_duration_seconds",
            "Wall-clock duration of command executions",
            durations.clone(),
        );
        let connections = Family::<ConnectionLabels, Counter>::default();
        let egress_bytes = Family::<DirectionLabels, Counter>::default();
        registry.register(
            "sandboxcore_egress_connections",
            "Connections through the egress proxy by verdict (allowed, refused, failed)",
            connections.clone(),
        );
        registry.register(
            "sandboxcore_egress_bytes",
            "Bytes through the egress proxy by direction (up: from the sandbox)",
            egress_bytes.clone(),
        );
        Metrics {
            registry,
            decisions,
            executions,
            durations,
            connections,
            egress_bytes,
        }
    }

    /// Counts a decision.
    pub fn record_decision(&self, verdict: crate::Verdict) {
        self.decisions
            .get_or_create(&VerdictLabels {
                verdict: verdict.as_str().to_string(),
            })
            .inc();
    }

    /// Counts an execution and observes its duration.
    pub fn record_execution(&self, backend: &str, status: RunStatus, duration: Duration) {
        self.executions
            .get_or_create(&ExecutionLabels {
                backend: backend.to_string(),
                status: status.as_str().to_string(),
            })
            .inc();
        self.durations
            .get_or_create(&BackendLabels {
                backend: backend.to_string(),
            })
            .observe(duration.as_secs_f64());
    }

    /// Counts a connection through the egress proxy and its bytes.
    pub fn record_connection(
        &self,
        verdict: crate::audit::ConnectionVerdict,
        bytes_up: u64,
        bytes_down: u64,
    ) {
        self.connections
            .get_or_create(&ConnectionLabels {
                verdict: verdict.as_str().to_string(),
            })
            .inc();
        for (direction, n) in [("up", bytes_up), ("down", bytes_down)] {
            if n > 0 {
                self.egress_bytes
                    .get_or_create(&DirectionLabels {
                        direction: direction.to_string(),
                    })
                    .inc_by(n);
            }
        }
    }

    /// The Prometheus/OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verdict;

    #[test]
    fn encodes_counters_and_histograms() {
        let m = Metrics::new();
        m.record_decision(Verdict::Allow);
        m.record_decision(Verdict::Allow);
        m.record_decision(Verdict::Deny);
        m.record_execution("process", RunStatus::Ok, Duration::from_millis(3));
        let text = m.encode();
        assert!(
            text.contains("sandboxcore_decisions_total{verdict=\"allow\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("sandboxcore_decisions_total{verdict=\"deny\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("sandboxcore_executions_total{backend=\"process\",status=\"ok\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("sandboxcore_execution_duration_seconds_count{backend=\"process\"} 1"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"));
    }
}
