//! Audit events from the `Sandbox` facade: `tracing` events at the CodeFRAME
//! guide's levels and the JSON-lines file, redacted. In its own test binary
//! because `tracing`'s per-callsite interest cache is process-wide.

mod common;

use common::{block_on, TestExecutor};
use sandboxcore::audit::AuditLog;
use sandboxcore::policy::{DeploymentMode, Policy};
use sandboxcore::{RunOptions, Sandbox};
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<(String, tracing::Level, String)>>>);

struct FieldText(String);

impl Visit for FieldText {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }
}

impl<S: tracing::Subscriber> Layer<S> for Captured {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut fields = FieldText(String::new());
        event.record(&mut fields);
        let m = event.metadata();
        self.0
            .lock()
            .unwrap()
            .push((m.target().to_string(), *m.level(), fields.0));
    }
}

#[test]
fn decisions_and_executions_are_audited_redacted_at_the_guides_levels() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry().with(captured.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let sb = Sandbox::builder()
        .policy(Policy::for_mode(DeploymentMode::Selfhosted))
        .executor(TestExecutor::default())
        .audit(AuditLog::with_jsonl(&path).unwrap())
        .build()
        .unwrap();
    tracing::subscriber::with_default(subscriber, || {
        block_on(sb.run("pytest tests/", RunOptions::default())).unwrap();
        sb.check("make build");
        sb.check("npm run build && npm test");
        sb.check("mysql --password=hunter2 -e 'select 1'");
    });
    let events = captured.0.lock().unwrap();
    let audit: Vec<_> = events
        .iter()
        .filter(|e| e.0 == "sandboxcore::audit")
        .collect();
    let levels: Vec<tracing::Level> = audit.iter().map(|e| e.1).collect();
    use tracing::Level;
    assert_eq!(
        levels,
        [
            Level::DEBUG,
            Level::DEBUG,
            Level::INFO,
            Level::WARN,
            Level::INFO
        ]
    );
    assert!(audit[1].2.contains("status=\"ok\""), "{}", audit[1].2);
    assert!(!audit.iter().any(|e| e.2.contains("hunter2")));

    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[1]["event"], "execution");
    assert_eq!(lines[1]["backend"], "test");
    assert_eq!(lines[1]["exit_code"], 0);
    assert!(lines[1]["duration_seconds"].as_f64().unwrap() >= 0.0);
    assert_eq!(
        lines[4]["command"],
        "mysql --password=[REDACTED] -e 'select 1'"
    );
}
