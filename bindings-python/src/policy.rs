//! `Classification`, `Decision` and `Policy`.

use crate::convert::{python_to_json, to_python};
use crate::errors::policy_error;
use pyo3::prelude::*;
use sandboxcore::policy::{self as core_policy, DeploymentMode};
use std::path::PathBuf;
use std::sync::Arc;

/// What the classifier found out about a command line.
#[pyclass(frozen, module = "sandboxcore")]
pub struct Classification {
    inner: sandboxcore::Classification,
}

impl From<sandboxcore::Classification> for Classification {
    fn from(inner: sandboxcore::Classification) -> Self {
        Classification { inner }
    }
}

#[pymethods]
impl Classification {
    /// False promises that bash and dash would run exactly `argv`.
    #[getter]
    fn needs_shell(&self) -> bool {
        self.inner.needs_shell
    }

    /// The exact argv when no shell is needed, else None.
    #[getter]
    fn argv(&self) -> Option<Vec<String>> {
        self.inner.argv().map(<[String]>::to_vec)
    }

    /// Every program the line runs: dicts with name, argv, words, via.
    #[getter]
    fn programs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.programs)
    }

    /// The shell features used: dicts with kind and (maybe) detail.
    #[getter]
    fn constructs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.constructs)
    }

    /// True only when nothing is modified.
    #[getter]
    fn read_only(&self) -> bool {
        self.inner.read_only
    }

    /// "low", "medium", "high" or "critical".
    #[getter]
    fn risk(&self) -> String {
        self.inner.risk.to_string()
    }

    /// Why the risk is what it is: dicts with code, risk, message.
    #[getter]
    fn reasons<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.reasons)
    }

    /// Why bash would reject the line, else None.
    #[getter]
    fn parse_error(&self) -> Option<String> {
        self.inner.parse_error.clone()
    }

    /// The paths the line would write, create, delete or change the mode
    /// of: dicts with path, effect ("write", "create", "delete", "mode")
    /// and certain.
    #[getter]
    fn effects<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.effects)
    }

    /// Everything as plain Python objects.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let argv = self.argv().into_pyobject(py)?.repr()?;
        Ok(format!(
            "Classification(needs_shell={}, argv={argv}, read_only={}, risk='{}', reasons={})",
            py_bool(self.inner.needs_shell),
            py_bool(self.inner.read_only),
            self.inner.risk,
            self.inner.reasons.len()
        ))
    }
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// A policy's decision on one command.
#[pyclass(frozen, module = "sandboxcore")]
pub struct Decision {
    inner: sandboxcore::Decision,
}

impl From<sandboxcore::Decision> for Decision {
    fn from(inner: sandboxcore::Decision) -> Self {
        Decision { inner }
    }
}

#[pymethods]
impl Decision {
    /// Always "command": an approver also gets `ConnectionRequest`s, whose
    /// `kind` is "connection".
    #[getter]
    fn kind(&self) -> &'static str {
        "command"
    }

    /// "allow", "warn", "ask" or "deny".
    #[getter]
    fn verdict(&self) -> &'static str {
        self.inner.verdict.as_str()
    }

    /// Dicts with rule, effect, message; strongest first.
    #[getter]
    fn reasons<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.reasons)
    }

    /// The rule behind the verdict, or None.
    #[getter]
    fn matched_rule(&self) -> Option<String> {
        self.inner.matched_rule.clone()
    }

    /// The classification the decision was made on.
    #[getter]
    fn classification(&self) -> Classification {
        Classification::from(self.inner.classification.clone())
    }

    /// {"direct": [argv]}, {"shell": script}, or None when it must not run.
    #[getter]
    fn plan<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.plan)
    }

    /// For "ask" (and "deny" only because a program is not listed): the
    /// rule an approval with scope "session" or "persist" adds, as a dict
    /// {"rules": [{"rule", "extra_operands", "max_risk", "reasons",
    /// "added", "command"}]}; None when there is none.
    #[getter]
    fn proposed_rule<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.proposed_rule)
    }

    /// Whether the command may run without approval (allow or warn).
    #[getter]
    fn allowed(&self) -> bool {
        self.inner.is_allowed()
    }

    /// Everything as plain Python objects.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let rule = self.matched_rule().into_pyobject(py)?.repr()?;
        Ok(format!(
            "Decision(verdict='{}', matched_rule={rule}, reasons={})",
            self.inner.verdict.as_str(),
            self.inner.reasons.len()
        ))
    }
}

/// A validated policy. Build one with the static constructors.
#[pyclass(frozen, module = "sandboxcore")]
#[derive(Clone)]
pub struct Policy {
    pub(crate) inner: Arc<core_policy::Policy>,
}

impl Policy {
    fn new(inner: core_policy::Policy) -> Policy {
        Policy {
            inner: Arc::new(inner),
        }
    }
}

fn mode(name: &str) -> PyResult<DeploymentMode> {
    DeploymentMode::ALL
        .into_iter()
        .find(|m| m.as_str() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = DeploymentMode::ALL.iter().map(|m| m.as_str()).collect();
            pyo3::exceptions::PyValueError::new_err(format!(
                "unknown deployment mode {name:?}; expected one of {}",
                names.join(", ")
            ))
        })
}

#[pymethods]
impl Policy {
    /// The effective policy from a file (YAML, or JSON for .json; the native
    /// or either CodeFRAME format) with SANDBOXCORE_*/CODEFRAME_* environment
    /// overrides applied unless `env=False`.
    #[staticmethod]
    #[pyo3(signature = (path, *, env = true))]
    fn from_file(path: PathBuf, env: bool) -> PyResult<Policy> {
        let (_, file) = core_policy::Policy::read_layer(&path).map_err(policy_error)?;
        let env_layer = if env {
            core_policy::Policy::env_layer().map_err(policy_error)?
        } else {
            core_policy::SettingsLayer::default()
        };
        core_policy::Policy::from_layers(&[&file, &env_layer])
            .map(Policy::new)
            .map_err(policy_error)
    }

    /// A stacked policy from named files, most trusted first
    /// (`[("user", path), ("workspace", path)]`): each layer decides on its
    /// own and the strictest verdict wins; rules name their layer. With
    /// SANDBOXCORE_*/CODEFRAME_* environment overrides (applied to every
    /// layer) unless `env=False`.
    #[staticmethod]
    #[pyo3(signature = (layers, *, env = true))]
    fn from_layers(layers: Vec<(String, PathBuf)>, env: bool) -> PyResult<Policy> {
        let sources: Vec<core_policy::PolicyLayerSource> = layers
            .into_iter()
            .map(|(name, path)| core_policy::PolicyLayerSource::new(name, path))
            .collect();
        let env_layer = if env {
            core_policy::Policy::env_layer().map_err(policy_error)?
        } else {
            core_policy::SettingsLayer::default()
        };
        core_policy::Policy::from_named_layers_with(&sources, &[&env_layer])
            .map(Policy::new)
            .map_err(policy_error)
    }

    /// A policy from YAML text (no environment overrides).
    #[staticmethod]
    fn from_yaml(text: &str) -> PyResult<Policy> {
        core_policy::Policy::from_yaml_str(text)
            .map(Policy::new)
            .map_err(policy_error)
    }

    /// A policy from a dict with the same keys as a file.
    #[staticmethod]
    fn from_dict(d: &Bound<'_, PyAny>) -> PyResult<Policy> {
        let json = python_to_json(d)?;
        core_policy::Policy::from_json_str(&json)
            .map(Policy::new)
            .map_err(policy_error)
    }

    /// The defaults of a deployment mode: "saas_sandboxed",
    /// "saas_unsandboxed", "selfhosted" or "development".
    #[staticmethod]
    fn for_mode(name: &str) -> PyResult<Policy> {
        Ok(Policy::new(core_policy::Policy::for_mode(mode(name)?)))
    }

    /// Decides on a command.
    fn check(&self, py: Python<'_>, command: &str) -> Decision {
        let policy = self.inner.clone();
        let command = command.to_string();
        Decision::from(py.detach(move || policy.check(&command)))
    }

    /// The effective settings as a dict.
    #[getter]
    fn settings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, self.inner.settings())
    }

    pub(crate) fn __repr__(&self) -> String {
        let s = self.inner.settings();
        format!(
            "Policy(mode='{}', enforcement='{}')",
            s.mode.as_str(),
            s.enforcement.as_str()
        )
    }
}
