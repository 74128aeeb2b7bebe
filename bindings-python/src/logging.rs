//! Audit events reach Python's `logging`: a `tracing` layer forwards events
//! with target `sandboxcore::audit` to the logger `sandboxcore.audit`, with
//! the event's fields in the record's `extra` (`record.sandboxcore`).

use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

struct Fields {
    message: String,
    values: BTreeMap<&'static str, String>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.values.insert(field.name(), value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            self.values.insert(field.name(), format!("{value:?}"));
        }
    }
}

struct PythonLogging;

fn python_level(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 40,
        Level::WARN => 30,
        Level::INFO => 20,
        _ => 10,
    }
}

impl<S: Subscriber> Layer<S> for PythonLogging {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != sandboxcore::audit::TARGET {
            return;
        }
        let mut fields = Fields {
            message: String::new(),
            values: BTreeMap::new(),
        };
        event.record(&mut fields);
        let level = python_level(event.metadata().level());
        // Events can come from a tokio thread (a run from asyncio, or one
        // cancelled): none is forwarded once the interpreter is shutting
        // down, when taking the GIL there can crash the process (the
        // audit file, if any, still gets it).
        Python::try_attach(|py| {
            let forward = || -> PyResult<()> {
                let logger = py
                    .import("logging")?
                    .call_method1("getLogger", ("sandboxcore.audit",))?;
                if !logger
                    .call_method1("isEnabledFor", (level,))?
                    .extract::<bool>()?
                {
                    return Ok(());
                }
                let data = PyDict::new(py);
                for (k, v) in &fields.values {
                    data.set_item(*k, v)?;
                }
                let command = fields.values.get("command").cloned().unwrap_or_default();
                let verdict = fields.values.get("verdict").cloned().unwrap_or_default();
                let extra = PyDict::new(py);
                extra.set_item("sandboxcore", data)?;
                let kwargs = PyDict::new(py);
                kwargs.set_item("extra", extra)?;
                logger.call_method(
                    "log",
                    (
                        level,
                        "%s %s: %s",
                        fields.message.as_str(),
                        verdict,
                        command,
                    ),
                    Some(&kwargs),
                )?;
                Ok(())
            };
            if let Err(e) = forward() {
                // Logging must never break a run; Python prints the problem.
                e.print(py);
            }
        });
    }
}

/// Installs the bridge as the process's global `tracing` subscriber, unless
/// the host already installed one (then audit events go there).
pub fn install() {
    let subscriber = tracing_subscriber::registry().with(PythonLogging);
    let _ = tracing::subscriber::set_global_default(subscriber);
}
