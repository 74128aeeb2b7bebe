//! The Docker backend's options as the bindings (and any JSON or YAML
//! configuration) give them: one strict, serde-deserializable form, so
//! that Python and Node accept exactly the same names.

use super::{DockerConfig, PullPolicy, WorkspaceMount};
use crate::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Options of the Docker backend; every name also has a camelCase alias
/// (`poolSize`) for JavaScript. Unknown names are an error.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DockerOptions {
    /// The image (required).
    pub image: Option<String>,
    /// OCI runtime such as `runsc`.
    pub runtime: Option<String>,
    /// Network joined when a request allows the network.
    pub network: Option<String>,
    /// `DIR[:ro|:rw]`, mounted at `/workspace`.
    pub workspace: Option<String>,
    /// `uid:gid`.
    pub user: Option<String>,
    /// Permit uid 0.
    #[serde(alias = "allowRoot")]
    pub allow_root: Option<bool>,
    /// Warm pool size.
    #[serde(alias = "poolSize")]
    pub pool_size: Option<usize>,
    /// Pull a missing image.
    pub pull: Option<bool>,
    /// CPUs.
    pub cpus: Option<f64>,
    /// Read-only root filesystem (default true).
    #[serde(alias = "readOnlyRoot")]
    pub read_only_root: Option<bool>,
    /// `no-new-privileges` (default true).
    #[serde(alias = "noNewPrivileges")]
    pub no_new_privileges: Option<bool>,
    /// Capabilities added back (default none).
    #[serde(alias = "capAdd")]
    pub cap_add: Option<Vec<String>>,
    /// `/tmp` size in bytes.
    #[serde(alias = "tmpSize")]
    pub tmp_size: Option<u64>,
    /// A seccomp profile file.
    #[serde(alias = "seccompProfile")]
    pub seccomp_profile: Option<PathBuf>,
    /// The agent binary; `false` for the plain path.
    pub agent: Option<AgentChoice>,
    /// Host variables passed into the container (names or globs).
    #[serde(alias = "inheritEnv")]
    pub inherit_env: Option<Vec<String>>,
    /// Secret-looking names that may still be passed.
    #[serde(alias = "allowSecrets")]
    pub allow_secrets: Option<Vec<String>>,
    /// Extra container labels.
    pub labels: Option<BTreeMap<String, String>>,
}

/// The agent: a path, or `false` for none (the plain path).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum AgentChoice {
    /// This binary.
    Path(PathBuf),
    /// `false`: no agent; `true`: the one [`super::find_agent`] finds.
    Enabled(bool),
}

impl DockerOptions {
    /// Parses options from JSON (what the bindings pass): an object, or
    /// null for none. Errors are [`Error::InvalidInput`]; a wrong type
    /// names the option as it was spelled (`docker backend option
    /// `poolSize`: invalid type ...`).
    pub fn from_json(value: serde_json::Value) -> Result<DockerOptions> {
        crate::exec::options::parse_each("docker", &value, |_: &DockerOptions| Ok(()))
    }

    /// The configuration: [`DockerConfig::new`]'s defaults with these
    /// options applied.
    pub fn into_config(self) -> Result<DockerConfig> {
        let image = self
            .image
            .ok_or_else(|| Error::InvalidInput("the docker backend needs an image".into()))?;
        let mut c = DockerConfig::new(image);
        c.runtime = self.runtime;
        c.network = self.network;
        if let Some(ws) = self.workspace {
            c.workspace = Some(WorkspaceMount::parse(&ws)?);
        }
        if let Some(user) = self.user {
            c.user = user;
        }
        c.allow_root = self.allow_root.unwrap_or(false);
        c.pool_size = self.pool_size.unwrap_or(0);
        if self.pull == Some(true) {
            c.pull = PullPolicy::IfMissing;
        }
        if let Some(cpus) = self.cpus {
            c.cpus = cpus;
        }
        if let Some(v) = self.read_only_root {
            c.read_only_root = v;
        }
        if let Some(v) = self.no_new_privileges {
            c.no_new_privileges = v;
        }
        if let Some(v) = self.cap_add {
            c.cap_add = v;
        }
        if let Some(size) = self.tmp_size {
            c.tmp_size = size;
        }
        c.seccomp_profile = self.seccomp_profile;
        match self.agent {
            None | Some(AgentChoice::Enabled(true)) => {}
            Some(AgentChoice::Enabled(false)) => c.agent = None,
            Some(AgentChoice::Path(p)) => c.agent = Some(p),
        }
        if let Some(v) = self.inherit_env {
            c.env.inherit = v;
        }
        if let Some(v) = self.allow_secrets {
            c.env.allow_secrets = v;
        }
        if let Some(labels) = self.labels {
            c.labels = labels;
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn snake_and_camel_case_give_the_same_config() {
        let snake = DockerOptions::from_json(json!({
            "image": "img", "pool_size": 2, "tmp_size": 1024, "allow_root": true,
            "inherit_env": ["LANG"], "agent": false, "pull": true, "cpus": 0.5,
            "read_only_root": false, "no_new_privileges": false, "cap_add": ["CHOWN"]
        }))
        .unwrap()
        .into_config()
        .unwrap();
        let camel = DockerOptions::from_json(json!({
            "image": "img", "poolSize": 2, "tmpSize": 1024, "allowRoot": true,
            "inheritEnv": ["LANG"], "agent": false, "pull": true, "cpus": 0.5,
            "readOnlyRoot": false, "noNewPrivileges": false, "capAdd": ["CHOWN"]
        }))
        .unwrap()
        .into_config()
        .unwrap();
        assert_eq!(snake, camel);
        assert_eq!(snake.pool_size, 2);
        assert_eq!(snake.agent, None);
        assert_eq!(snake.pull, PullPolicy::IfMissing);
        assert!(!snake.read_only_root && !snake.no_new_privileges);
        assert_eq!(snake.cap_add, ["CHOWN"]);
    }

    #[test]
    fn bad_options_are_clear_errors() {
        let e = DockerOptions::from_json(json!({"image": "i", "pool": 2})).unwrap_err();
        assert!(e.to_string().contains("unknown field `pool`"), "{e}");
        let e = DockerOptions::from_json(json!({"image": "i", "poolSize": "two"})).unwrap_err();
        assert!(
            e.to_string()
                .contains("option `poolSize`: invalid type: string \"two\""),
            "{e}"
        );
        let e = DockerOptions::from_json(json!({"pool_size": 1, "poolSize": 2})).unwrap_err();
        assert!(e.to_string().contains("duplicate field `pool_size`"), "{e}");
        let e = DockerOptions::default().into_config().unwrap_err();
        assert!(e.to_string().contains("needs an image"), "{e}");
        let o = DockerOptions::from_json(json!({"image": "i", "agent": "/opt/agent"})).unwrap();
        assert_eq!(
            o.into_config().unwrap().agent,
            Some(PathBuf::from("/opt/agent"))
        );
    }
}
