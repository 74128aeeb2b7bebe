//! Python bindings of sandboxcore: a thin pyo3 layer, no logic of its own.
//! The Python package is `sandboxcore`; this is its `sandboxcore._native`
//! module. See `bindings-python/README.md`.

use pyo3::prelude::*;

mod approver;
mod convert;
mod errors;
mod logging;
mod pending;
mod policy;
mod sandbox;

/// Classifies a command line (see `sandboxcore.Classification`).
#[pyfunction]
fn classify(command: &str) -> policy::Classification {
    policy::Classification::from(sandboxcore::classify(command))
}

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_function(wrap_pyfunction!(classify, m)?)?;
    m.add_function(wrap_pyfunction!(approver::_wait_for_approvers, m)?)?;
    m.add_function(wrap_pyfunction!(sandbox::_check_backend_options, m)?)?;
    m.add_class::<policy::Classification>()?;
    m.add_class::<policy::Decision>()?;
    m.add_class::<approver::ConnectionRequest>()?;
    m.add_class::<policy::Policy>()?;
    m.add_class::<sandbox::Sandbox>()?;
    m.add_class::<sandbox::RunResult>()?;
    m.add_class::<sandbox::EventStream>()?;
    m.add_class::<pending::Pending>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    logging::install();
    Ok(())
}
