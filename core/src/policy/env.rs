//! Environment-variable overrides: `SANDBOXCORE_*` and CodeFRAME's own
//! `CODEFRAME_*` names. When both name the same setting, `SANDBOXCORE_*`
//! wins.

use super::error::PolicyError;
use super::settings::{DeploymentMode, Enforcement, NetworkLayer, SettingsLayer};
use crate::net::NetworkMode;
use crate::Risk;
use serde::de::DeserializeOwned;

/// The variables read, highest precedence first within each setting.
pub const VARIABLES: &[&str] = &[
    "SANDBOXCORE_MODE",
    "CODEFRAME_DEPLOYMENT_MODE",
    "SANDBOXCORE_ENFORCEMENT",
    "CODEFRAME_SECURITY_ENFORCEMENT",
    "SANDBOXCORE_ALLOW_SHELL_OPERATORS",
    "CODEFRAME_ALLOW_SHELL_OPERATORS",
    "SANDBOXCORE_SAFE_COMMANDS_ONLY",
    "CODEFRAME_SAFE_COMMANDS_ONLY",
    "SANDBOXCORE_RISK_THRESHOLD",
    "SANDBOXCORE_MAX_COMMAND_LENGTH",
    "SANDBOXCORE_NETWORK_MODE",
    "SANDBOXCORE_NETWORK_ALLOW",
    "SANDBOXCORE_NETWORK_DENY",
];

/// Reads the overrides from the process environment.
pub fn from_process_env() -> Result<SettingsLayer, PolicyError> {
    from_lookup(|name| std::env::var(name).ok())
}

/// Reads the overrides through `lookup` (a variable's value by name); used
/// by tests and by hosts that keep their own environment.
pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<SettingsLayer, PolicyError> {
    let first = |names: [&'static str; 2]| {
        names
            .into_iter()
            .find_map(|n| lookup(n).filter(|v| !v.trim().is_empty()).map(|v| (n, v)))
    };
    let mut layer = SettingsLayer::default();
    if let Some((n, v)) = first(["SANDBOXCORE_MODE", "CODEFRAME_DEPLOYMENT_MODE"]) {
        layer.mode = Some(name_value::<DeploymentMode>(n, &v)?);
    }
    if let Some((n, v)) = first(["SANDBOXCORE_ENFORCEMENT", "CODEFRAME_SECURITY_ENFORCEMENT"]) {
        layer.enforcement = Some(name_value::<Enforcement>(n, &v)?);
    }
    if let Some((n, v)) = first([
        "SANDBOXCORE_ALLOW_SHELL_OPERATORS",
        "CODEFRAME_ALLOW_SHELL_OPERATORS",
    ]) {
        layer.allow_shell_operators = Some(boolean(n, &v)?);
    }
    if let Some((n, v)) = first([
        "SANDBOXCORE_SAFE_COMMANDS_ONLY",
        "CODEFRAME_SAFE_COMMANDS_ONLY",
    ]) {
        layer.safe_commands_only = Some(boolean(n, &v)?);
    }
    if let Some(v) = lookup("SANDBOXCORE_RISK_THRESHOLD").filter(|v| !v.trim().is_empty()) {
        layer.risk_threshold = Some(name_value::<Risk>("SANDBOXCORE_RISK_THRESHOLD", &v)?);
    }
    if let Some(v) = lookup("SANDBOXCORE_MAX_COMMAND_LENGTH").filter(|v| !v.trim().is_empty()) {
        layer.max_command_length = Some(v.trim().parse().map_err(|_| PolicyError::Env {
            name: "SANDBOXCORE_MAX_COMMAND_LENGTH".into(),
            value: v.clone(),
            message: "expected a number of characters (0 for no limit)".into(),
        })?);
    }
    let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    let network = NetworkLayer {
        mode: set("SANDBOXCORE_NETWORK_MODE")
            .map(|v| name_value::<NetworkMode>("SANDBOXCORE_NETWORK_MODE", &v))
            .transpose()?,
        allow: set("SANDBOXCORE_NETWORK_ALLOW").map(|v| list(&v)),
        deny: set("SANDBOXCORE_NETWORK_DENY").map(|v| list(&v)),
    };
    if network != NetworkLayer::default() {
        layer.network = Some(network);
    }
    Ok(layer)
}

/// A comma-separated list (`a.com, *.b.org`), items trimmed, empty ones
/// dropped.
fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Parses a snake_case enum name (case-insensitive, `-` accepted for `_`).
fn name_value<T: DeserializeOwned>(name: &str, value: &str) -> Result<T, PolicyError> {
    let normalised = value.trim().to_ascii_lowercase().replace('-', "_");
    serde_json::from_value(serde_json::Value::String(normalised)).map_err(|e| {
        let msg = e.to_string();
        PolicyError::Env {
            name: name.to_string(),
            value: value.to_string(),
            message: msg
                .split_once("expected ")
                .map_or(msg.clone(), |(_, exp)| format!("expected {exp}")),
        }
    })
}

fn boolean(name: &str, value: &str) -> Result<bool, PolicyError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(PolicyError::Env {
            name: name.to_string(),
            value: value.to_string(),
            message: "expected true/false (also 1/0, yes/no, on/off)".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn layer(vars: &[(&str, &str)]) -> Result<SettingsLayer, PolicyError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        from_lookup(|n| map.get(n).cloned())
    }

    #[test]
    fn reads_codeframe_and_sandboxcore_names() {
        let l = layer(&[
            ("CODEFRAME_DEPLOYMENT_MODE", "saas_unsandboxed"),
            ("CODEFRAME_SECURITY_ENFORCEMENT", "strict"),
            ("CODEFRAME_ALLOW_SHELL_OPERATORS", "false"),
            ("CODEFRAME_SAFE_COMMANDS_ONLY", "1"),
            ("SANDBOXCORE_MAX_COMMAND_LENGTH", "200"),
            ("SANDBOXCORE_RISK_THRESHOLD", "Critical"),
        ])
        .unwrap();
        assert_eq!(l.mode, Some(DeploymentMode::SaasUnsandboxed));
        assert_eq!(l.enforcement, Some(Enforcement::Enforce));
        assert_eq!(l.allow_shell_operators, Some(false));
        assert_eq!(l.safe_commands_only, Some(true));
        assert_eq!(l.max_command_length, Some(200));
        assert_eq!(l.risk_threshold, Some(Risk::Critical));
    }

    #[test]
    fn sandboxcore_names_win_over_codeframe_names() {
        let l = layer(&[
            ("CODEFRAME_SECURITY_ENFORCEMENT", "warn"),
            ("SANDBOXCORE_ENFORCEMENT", "disabled"),
        ])
        .unwrap();
        assert_eq!(l.enforcement, Some(Enforcement::Disabled));
        assert_eq!(layer(&[]).unwrap(), SettingsLayer::default());
    }

    #[test]
    fn reads_the_network_variables() {
        let l = layer(&[
            ("SANDBOXCORE_NETWORK_ALLOW", "a.com, *.b.org,,"),
            ("SANDBOXCORE_NETWORK_DENY", "10.0.0.0/8"),
        ])
        .unwrap();
        let net = l.network.unwrap();
        assert_eq!(net.allow.unwrap(), ["a.com", "*.b.org"]);
        assert_eq!(net.deny.unwrap(), ["10.0.0.0/8"]);
        assert_eq!(net.mode, None);
        let l = layer(&[("SANDBOXCORE_NETWORK_MODE", "Full")]).unwrap();
        assert_eq!(l.network.unwrap().mode, Some(NetworkMode::Full));
        let e = layer(&[("SANDBOXCORE_NETWORK_MODE", "some")]).unwrap_err();
        assert!(e.to_string().contains("allowlist"), "{e}");
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = layer(&[("CODEFRAME_DEPLOYMENT_MODE", "cloud")]).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("CODEFRAME_DEPLOYMENT_MODE") && text.contains("saas_sandboxed"),
            "{text}"
        );
        let e = layer(&[("SANDBOXCORE_SAFE_COMMANDS_ONLY", "maybe")]).unwrap_err();
        assert!(e.to_string().contains("SANDBOXCORE_SAFE_COMMANDS_ONLY"));
        assert!(layer(&[("SANDBOXCORE_MAX_COMMAND_LENGTH", "lots")]).is_err());
    }
}
