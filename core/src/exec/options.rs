//! Backend options as every front end gives them (JSON: the bindings'
//! dicts and objects, the CLI's flags): [`BackendConfig::from_json`] picks
//! the backend's parser ([`ProcessOptions`], `DockerOptions`,
//! `KubernetesOptions`), so that the CLI, Python and Node accept the same
//! names and values and report the same errors, all
//! [`Error::InvalidInput`] (code `INVALID_ARGUMENT`). Parsing contacts no
//! daemon or cluster: a front end parses first, then connects.

use super::{ProcessConfig, ProcessOptions};
use crate::{Error, Result};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A backend's configuration, parsed from its options.
#[derive(Debug, Clone, PartialEq)]
pub enum BackendConfig {
    /// The process backend's.
    Process(ProcessConfig),
    /// The Docker backend's.
    #[cfg(feature = "docker")]
    Docker(super::docker::DockerConfig),
    /// The Kubernetes backend's.
    #[cfg(feature = "kubernetes")]
    Kubernetes(super::kubernetes::KubernetesConfig),
}

impl BackendConfig {
    /// The configuration of `backend` (`"process"`, `"docker"` or
    /// `"kubernetes"`) from its options: an object (snake_case names, or
    /// their camelCase aliases), or null for none. Unknown names, wrong
    /// types and bad values are [`Error::InvalidInput`] naming the option
    /// as it was spelled; so is an unknown backend (or one this build
    /// leaves out).
    pub fn from_json(backend: &str, options: &Value) -> Result<BackendConfig> {
        match backend {
            "process" => ProcessOptions::from_json(options).map(BackendConfig::Process),
            #[cfg(feature = "docker")]
            "docker" => super::docker::DockerOptions::from_json(options.clone())
                .and_then(super::docker::DockerOptions::into_config)
                .map(BackendConfig::Docker),
            #[cfg(feature = "kubernetes")]
            "kubernetes" => super::kubernetes::KubernetesOptions::from_json(options.clone())
                .and_then(super::kubernetes::KubernetesOptions::into_config)
                .map(BackendConfig::Kubernetes),
            other => Err(Error::InvalidInput(format!(
                "unknown backend {other:?}; expected \"process\", \"docker\" or \"kubernetes\" \
                 (those this build has)"
            ))),
        }
    }
}

/// An error of one option: its (snake_case) name and what is wrong.
#[derive(Debug)]
#[cfg_attr(not(feature = "kubernetes"), allow(dead_code))]
pub(crate) struct OptionError {
    pub(crate) option: &'static str,
    pub(crate) message: String,
}

#[cfg_attr(not(feature = "kubernetes"), allow(dead_code))]
impl OptionError {
    /// `{backend} backend option `{option}`: {message}`.
    pub(crate) fn into_error(self, backend: &str) -> Error {
        Error::InvalidInput(format!(
            "{backend} backend option `{}`: {}",
            self.option, self.message
        ))
    }
}

/// Options of `backend` from `value` (an object, or null for the
/// defaults), strictly: each option is deserialized and `check`ed alone
/// first, so that a wrong type or value is reported with the name it was
/// given under (serde's own messages do not say which field they are
/// about); then all together (duplicates such as `pool_size` and
/// `poolSize`).
#[cfg_attr(not(any(feature = "docker", feature = "kubernetes")), allow(dead_code))]
pub(crate) fn parse_each<T: DeserializeOwned + Default>(
    backend: &str,
    value: &Value,
    check: impl Fn(&T) -> std::result::Result<(), OptionError>,
) -> Result<T> {
    let map = match value {
        Value::Null => return Ok(T::default()),
        Value::Object(map) => map,
        other => {
            return Err(Error::InvalidInput(format!(
                "{backend} backend options must be an object, not {other}"
            )))
        }
    };
    for (key, v) in map {
        let single = Value::Object([(key.clone(), v.clone())].into_iter().collect());
        let one: T = serde_json::from_value(single).map_err(|e| {
            let e = e.to_string();
            if e.starts_with("unknown field") {
                Error::InvalidInput(format!("{backend} backend options: {e}"))
            } else {
                Error::InvalidInput(format!("{backend} backend option `{key}`: {e}"))
            }
        })?;
        check(&one).map_err(|e| {
            Error::InvalidInput(format!("{backend} backend option `{key}`: {}", e.message))
        })?;
    }
    serde_json::from_value(value.clone())
        .map_err(|e| Error::InvalidInput(format!("{backend} backend options: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_backend_has_its_parser() {
        assert_eq!(
            BackendConfig::from_json("process", &json!({})).unwrap(),
            BackendConfig::Process(ProcessConfig::default())
        );
        let e = BackendConfig::from_json("process", &json!({"image": "i"})).unwrap_err();
        assert!(
            e.to_string()
                .contains("process backend options: unknown field `image`"),
            "{e}"
        );
        let e = BackendConfig::from_json("vm", &json!({})).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::InvalidArgument);
        assert!(e.to_string().contains("unknown backend \"vm\""), "{e}");
    }

    #[cfg(all(feature = "docker", feature = "kubernetes"))]
    #[test]
    fn container_backends_parse_without_connecting() {
        match BackendConfig::from_json("docker", &json!({"image": "alpine", "poolSize": 2})) {
            Ok(BackendConfig::Docker(c)) => assert_eq!(c.pool_size, 2),
            other => panic!("{other:?}"),
        }
        match BackendConfig::from_json("kubernetes", &json!({"image": "alpine"})) {
            Ok(BackendConfig::Kubernetes(c)) => assert_eq!(c.namespace, "sandboxcore"),
            other => panic!("{other:?}"),
        }
        for backend in ["docker", "kubernetes"] {
            let e = BackendConfig::from_json(backend, &json!({})).unwrap_err();
            assert_eq!(e.code(), crate::ErrorCode::InvalidArgument);
            assert!(e.to_string().contains("needs an image"), "{backend}: {e}");
        }
    }
}
