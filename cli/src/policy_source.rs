//! How the CLI finds its policy: `--policy FILE` (or `SANDBOXCORE_POLICY`)
//! or policy layers (`--policy-layer NAME=FILE`, or the standard locations
//! with `--layers auto` / `SANDBOXCORE_LAYERS=auto`), then the environment
//! overrides, then `--mode`.

use anyhow::{bail, Context, Result};
use clap::Args;
use sandboxcore::policy::{
    standard_layer_sources, DeploymentMode, Policy, PolicyLayerSource, SettingsLayer,
};
use std::path::PathBuf;

/// Options that select the policy.
#[derive(Args)]
pub struct PolicySource {
    /// Policy file (YAML, or JSON when it ends in .json): the native format
    /// or either CodeFRAME format. Default: $SANDBOXCORE_POLICY, if set.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["policy_layer", "layers"])]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub layers: LayerArgs,
    /// Deployment mode, overriding the file and the environment (every
    /// layer's).
    #[arg(long, value_name = "MODE", value_parser = parse_mode)]
    pub mode: Option<DeploymentMode>,
}

/// Options that give policy layers.
#[derive(Args)]
pub struct LayerArgs {
    /// A named policy layer, most trusted first (repeat it: `--policy-layer
    /// system=/etc/x.yml --policy-layer workspace=.sandboxcore/policy.yml`).
    /// Each layer decides on its own; the strictest verdict wins.
    #[arg(long = "policy-layer", value_name = "NAME=FILE", value_parser = parse_layer)]
    pub policy_layer: Vec<PolicyLayerSource>,
    /// `auto`: the standard layers whose files exist: system
    /// (/etc/sandboxcore/policy.yml), user
    /// ($XDG_CONFIG_HOME/sandboxcore/policy.yml, default ~/.config) and
    /// workspace (.sandboxcore/policy.yml in the current directory).
    /// `off`: none. Default: $SANDBOXCORE_LAYERS, else off.
    #[arg(long, value_name = "auto|off", value_parser = parse_discovery, conflicts_with = "policy_layer")]
    pub layers: Option<bool>,
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

fn parse_layer(s: &str) -> Result<PolicyLayerSource, String> {
    match s.split_once('=') {
        Some((name, file)) if valid_name(name) && !file.is_empty() => {
            Ok(PolicyLayerSource::new(name, file))
        }
        _ => Err("expected NAME=FILE, NAME made of letters, digits, `-` and `_`".into()),
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn parse_discovery(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "auto" => Ok(true),
        "off" => Ok(false),
        _ => Err("expected `auto` or `off`".into()),
    }
}

/// Where the policy comes from.
pub enum Selection {
    /// No file: the mode's defaults and the overrides.
    None,
    /// One policy file, as before layers.
    File(PathBuf),
    /// Named layers, most trusted first (possibly none found).
    Layers(Vec<PolicyLayerSource>),
}

impl LayerArgs {
    /// The layers these options give: explicit ones, or the standard
    /// locations' existing files when discovery is on (`--layers auto`, or
    /// `SANDBOXCORE_LAYERS=auto` without `--layers`). `None` when neither.
    pub fn selected(&self) -> Result<Option<Vec<PolicyLayerSource>>> {
        if !self.policy_layer.is_empty() {
            return Ok(Some(self.policy_layer.clone()));
        }
        let discover = match self.layers {
            Some(on) => on,
            None => match std::env::var("SANDBOXCORE_LAYERS") {
                Ok(v) if !v.trim().is_empty() => parse_discovery(&v).map_err(|e| {
                    anyhow::anyhow!("environment variable SANDBOXCORE_LAYERS={v:?}: {e}")
                })?,
                _ => false,
            },
        };
        if !discover {
            return Ok(None);
        }
        let cwd = std::env::current_dir().context("cannot find the current directory")?;
        Ok(Some(
            standard_layer_sources(&cwd, |k| std::env::var(k).ok())
                .into_iter()
                .filter(|s| s.path.exists())
                .collect(),
        ))
    }
}

impl PolicySource {
    /// Where the policy comes from: `--policy-layer`, then `--policy`,
    /// then discovery (`--layers auto`, `SANDBOXCORE_LAYERS=auto`), then
    /// `SANDBOXCORE_POLICY`.
    pub fn selection(&self) -> Result<Selection> {
        if let Some(p) = &self.policy {
            return Ok(Selection::File(p.clone()));
        }
        let env_file = std::env::var_os("SANDBOXCORE_POLICY")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        if let Some(layers) = self.layers.selected()? {
            if env_file.is_some()
                && self.layers.policy_layer.is_empty()
                && self.layers.layers.is_none()
            {
                bail!(
                    "both SANDBOXCORE_POLICY and SANDBOXCORE_LAYERS are set: give one \
                     (a single file, or the standard layers)"
                );
            }
            return Ok(Selection::Layers(layers));
        }
        Ok(env_file.map_or(Selection::None, Selection::File))
    }

    /// The file `persist` approvals are written to: the policy file when
    /// there is one. With layers there is none: a rule written into one
    /// layer would still be refused by the others when read again, so the
    /// approval is kept for the session (and the audit record says so).
    pub fn persist_path(&self) -> Result<Option<PathBuf>> {
        Ok(match self.selection()? {
            Selection::File(p) => Some(p),
            Selection::None | Selection::Layers(_) => None,
        })
    }

    /// Every policy file in use (kept read-only for commands).
    pub fn paths(&self) -> Result<Vec<PathBuf>> {
        Ok(match self.selection()? {
            Selection::None => Vec::new(),
            Selection::File(p) => vec![p],
            Selection::Layers(l) => l.into_iter().map(|s| s.path).collect(),
        })
    }

    /// The effective policy: mode defaults < file < environment < `--mode`;
    /// with layers, each layer so, the strictest verdict winning.
    /// Warnings about ignored settings go to standard error.
    pub fn load(&self) -> Result<Policy> {
        let env = Policy::env_layer()?;
        let flag = SettingsLayer {
            mode: self.mode,
            ..SettingsLayer::default()
        };
        let policy = match self.selection()? {
            Selection::None => Policy::from_layers(&[&env, &flag]),
            Selection::File(p) => {
                let file = Policy::read_layer(&p)?.1;
                Policy::from_layers(&[&file, &env, &flag])
            }
            Selection::Layers(layers) => Policy::from_named_layers_with(&layers, &[&env, &flag]),
        }
        .context("invalid policy")?;
        for w in policy.warnings() {
            eprintln!("sandboxcore: warning: {w}");
        }
        Ok(policy)
    }
}
