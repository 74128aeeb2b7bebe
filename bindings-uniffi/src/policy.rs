//! `Policy` and the `Decision` record.

use crate::classification::{name_of, Classification};
use crate::error::SandboxError;
use sandboxcore::policy::{self as core_policy};
use std::path::PathBuf;
use std::sync::Arc;

/// What a policy says to do with a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Verdict {
    /// Run it.
    Allow,
    /// Run it, flagged (what `enforce` would deny or ask about, under
    /// `warn`).
    Warn,
    /// Run it only after approval.
    Ask,
    /// Do not run it.
    Deny,
}

impl From<core_policy::Verdict> for Verdict {
    fn from(v: core_policy::Verdict) -> Verdict {
        match v {
            core_policy::Verdict::Allow => Verdict::Allow,
            core_policy::Verdict::Warn => Verdict::Warn,
            core_policy::Verdict::Ask => Verdict::Ask,
            core_policy::Verdict::Deny => Verdict::Deny,
        }
    }
}

/// The deployment modes of the CodeFRAME guide, each with its defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DeploymentMode {
    /// Multi-tenant, commands run in isolated containers: warn.
    SaasSandboxed,
    /// Multi-tenant without container isolation: enforce, no shell
    /// operators, safe commands only.
    SaasUnsandboxed,
    /// One organisation on its own infrastructure: warn.
    Selfhosted,
    /// A developer's machine: advisory only.
    Development,
}

impl From<DeploymentMode> for core_policy::DeploymentMode {
    fn from(m: DeploymentMode) -> core_policy::DeploymentMode {
        match m {
            DeploymentMode::SaasSandboxed => core_policy::DeploymentMode::SaasSandboxed,
            DeploymentMode::SaasUnsandboxed => core_policy::DeploymentMode::SaasUnsandboxed,
            DeploymentMode::Selfhosted => core_policy::DeploymentMode::Selfhosted,
            DeploymentMode::Development => core_policy::DeploymentMode::Development,
        }
    }
}

/// One reason behind a decision.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DecisionReason {
    /// The rule, as `setting` or `setting[index]: rule text`.
    pub rule: String,
    /// What the rule does under `enforce`: `deny`, `ask`, `warn` or `note`.
    pub effect: String,
    /// A sentence for people.
    pub message: String,
}

/// How a permitted command runs.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Plan {
    /// This argv, executed directly (no shell).
    Direct {
        /// The argv.
        argv: Vec<String>,
    },
    /// This script, run with `/bin/sh -c`.
    Shell {
        /// The script.
        script: String,
    },
}

/// A policy's decision on one command.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Decision {
    /// What to do.
    pub verdict: Verdict,
    /// Whether it may run without approval (allow or warn).
    pub allowed: bool,
    /// Every reason found, strongest first.
    pub reasons: Vec<DecisionReason>,
    /// The rule behind the verdict, if any.
    pub matched_rule: Option<String>,
    /// The classification the decision was made on.
    pub classification: Classification,
    /// How to run it; none when it must not run.
    pub plan: Option<Plan>,
}

impl From<core_policy::Decision> for Decision {
    fn from(d: core_policy::Decision) -> Decision {
        Decision {
            verdict: d.verdict.into(),
            allowed: d.is_allowed(),
            reasons: d
                .reasons
                .into_iter()
                .map(|r| DecisionReason {
                    rule: r.rule,
                    effect: name_of(&r.effect),
                    message: r.message,
                })
                .collect(),
            matched_rule: d.matched_rule,
            classification: d.classification.into(),
            plan: d.plan.map(|p| match p {
                core_policy::Plan::Direct(argv) => Plan::Direct { argv },
                core_policy::Plan::Shell(script) => Plan::Shell { script },
            }),
        }
    }
}

/// A validated policy. Build one with the constructors; share it freely.
#[derive(Debug, uniffi::Object)]
pub struct Policy {
    pub(crate) inner: Arc<core_policy::Policy>,
}

impl Policy {
    fn new(inner: core_policy::Policy) -> Arc<Policy> {
        Arc::new(Policy {
            inner: Arc::new(inner),
        })
    }
}

#[uniffi::export]
impl Policy {
    /// The effective policy from a file (YAML, or JSON for `.json`; the
    /// native or either CodeFRAME format), with `SANDBOXCORE_*` and
    /// `CODEFRAME_*` environment overrides applied unless `env` is false.
    #[uniffi::constructor(default(env = true))]
    pub fn from_file(path: String, env: bool) -> Result<Arc<Policy>, SandboxError> {
        let (_, file) = core_policy::Policy::read_layer(&PathBuf::from(path))?;
        let env_layer = if env {
            core_policy::Policy::env_layer()?
        } else {
            core_policy::SettingsLayer::default()
        };
        Ok(Policy::new(core_policy::Policy::from_layers(&[
            &file, &env_layer,
        ])?))
    }

    /// A policy from YAML text (no environment overrides).
    #[uniffi::constructor]
    pub fn from_yaml(text: String) -> Result<Arc<Policy>, SandboxError> {
        Ok(Policy::new(core_policy::Policy::from_yaml_str(&text)?))
    }

    /// A policy from JSON text with the same keys as a file.
    #[uniffi::constructor]
    pub fn from_json(text: String) -> Result<Arc<Policy>, SandboxError> {
        Ok(Policy::new(core_policy::Policy::from_json_str(&text)?))
    }

    /// The defaults of a deployment mode.
    #[uniffi::constructor]
    pub fn for_mode(mode: DeploymentMode) -> Arc<Policy> {
        Policy::new(core_policy::Policy::for_mode(mode.into()))
    }

    /// Decides on a command line.
    pub fn check(&self, command: String) -> Decision {
        self.inner.check(&command).into()
    }

    /// Decides on an argv (run as given, with no shell).
    pub fn check_argv(&self, argv: Vec<String>) -> Decision {
        self.inner.check_argv(&argv).into()
    }

    /// The deployment mode's name.
    pub fn mode(&self) -> String {
        self.inner.settings().mode.as_str().to_string()
    }

    /// The enforcement level: `enforce`, `warn` or `disabled`.
    pub fn enforcement(&self) -> String {
        self.inner.settings().enforcement.as_str().to_string()
    }

    /// The effective settings as JSON (the keys of a policy file).
    pub fn settings_json(&self) -> String {
        serde_json::to_string(self.inner.settings()).unwrap_or_default()
    }
}
