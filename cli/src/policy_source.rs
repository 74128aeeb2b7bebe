//! How the CLI finds its policy: `--policy FILE` (or `SANDBOXCORE_POLICY`),
//! then the environment overrides, then `--mode`.

use anyhow::{Context, Result};
use clap::Args;
use sandboxcore::policy::{DeploymentMode, Policy, SettingsLayer};
use std::path::PathBuf;

/// Options that select the policy.
#[derive(Args)]
pub struct PolicySource {
    /// Policy file (YAML, or JSON when it ends in .json): the native format
    /// or either CodeFRAME format. Default: $SANDBOXCORE_POLICY, if set.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Deployment mode, overriding the file and the environment.
    #[arg(long, value_name = "MODE", value_parser = parse_mode)]
    pub mode: Option<DeploymentMode>,
}

fn parse_mode(s: &str) -> Result<DeploymentMode, String> {
    DeploymentMode::ALL
        .into_iter()
        .find(|m| m.as_str() == s.replace('-', "_"))
        .ok_or_else(|| {
            let names: Vec<&str> = DeploymentMode::ALL.iter().map(|m| m.as_str()).collect();
            format!("expected one of {}", names.join(", "))
        })
}

impl PolicySource {
    /// The policy file in use, if any.
    pub fn path(&self) -> Option<PathBuf> {
        self.policy.clone().or_else(|| {
            std::env::var_os("SANDBOXCORE_POLICY")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
    }

    /// The effective policy: mode defaults < file < environment < `--mode`.
    pub fn load(&self) -> Result<Policy> {
        let file = match self.path() {
            Some(p) => Policy::read_layer(&p)?.1,
            None => SettingsLayer::default(),
        };
        let env = Policy::env_layer()?;
        let flag = SettingsLayer {
            mode: self.mode,
            ..SettingsLayer::default()
        };
        Policy::from_layers(&[&file, &env, &flag]).context("invalid policy")
    }
}
