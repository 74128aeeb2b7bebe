//! Policy files: the native format and CodeFRAME's two formats
//! (`config/security.yml` and `.codeframe/security-policy.yml`), read from
//! YAML or JSON into a [`SettingsLayer`]. Unknown keys are errors.

use super::error::PolicyError;
use super::settings::{DeploymentMode, Enforcement, NetworkLayer, SettingsLayer};
use super::{ApprovedCommand, Policy, PolicyExamples};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::path::Path;

/// Which of the supported formats a document is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// sandboxcore's own keys at the top level (see `docs/policy.md`).
    Native,
    /// CodeFRAME's `config/security.yml`: `deployment.mode` and
    /// `security_policy` (nested under `deployment` or at the top).
    CodeframeConfig,
    /// CodeFRAME's `.codeframe/security-policy.yml`: a `security` section.
    CodeframePolicy,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeframeConfig {
    deployment: Option<CodeframeDeployment>,
    security_policy: Option<CodeframeSecurityPolicy>,
    /// Not in CodeFRAME's own files: the policy's examples.
    examples: Option<PolicyExamples>,
    /// Not in CodeFRAME's own files: rules added by approvals.
    approved_commands: Option<Vec<ApprovedCommand>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeframeDeployment {
    mode: Option<DeploymentMode>,
    security_policy: Option<CodeframeSecurityPolicy>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CodeframeSecurityPolicy {
    command_validation: Option<Enforcement>,
    allow_shell_operators: Option<bool>,
    safe_commands_only: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeframePolicy {
    security: CodeframeSecurity,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeframeSecurity {
    enforcement_level: Option<Enforcement>,
    allowed_commands: Option<Vec<String>>,
    allowed_shell_operators: Option<Vec<String>>,
    blocked_patterns: Option<Vec<String>>,
    require_approval: Option<Vec<String>>,
    /// Not in CodeFRAME's own files: the native `network:` section, so a
    /// CodeFRAME policy can say which hosts runs reach (its guide asks
    /// for "restricted network with allowlist").
    network: Option<NetworkLayer>,
    /// Not in CodeFRAME's own files: the policy's examples.
    examples: Option<PolicyExamples>,
    /// Not in CodeFRAME's own files: rules added by approvals.
    approved_commands: Option<Vec<ApprovedCommand>>,
}

impl CodeframeConfig {
    fn into_layer(self) -> SettingsLayer {
        let mode = self.deployment.as_ref().and_then(|d| d.mode);
        let examples = self.examples;
        let approved_commands = self.approved_commands;
        let sp = self
            .deployment
            .and_then(|d| d.security_policy)
            .or(self.security_policy)
            .unwrap_or_default();
        SettingsLayer {
            mode,
            enforcement: sp.command_validation,
            allow_shell_operators: sp.allow_shell_operators,
            safe_commands_only: sp.safe_commands_only,
            examples,
            approved_commands,
            ..SettingsLayer::default()
        }
    }
}

impl CodeframePolicy {
    fn into_layer(self) -> SettingsLayer {
        let s = self.security;
        SettingsLayer {
            enforcement: s.enforcement_level,
            allowed_commands: s.allowed_commands,
            allowed_shell_operators: s.allowed_shell_operators,
            blocked_patterns: s.blocked_patterns,
            require_approval: s.require_approval,
            network: s.network,
            examples: s.examples,
            approved_commands: s.approved_commands,
            ..SettingsLayer::default()
        }
    }
}

/// The format of a document, from its top-level keys.
fn detect(keys: &[String]) -> FileFormat {
    if keys.iter().any(|k| k == "security") {
        FileFormat::CodeframePolicy
    } else if keys
        .iter()
        .any(|k| k == "deployment" || k == "security_policy")
    {
        FileFormat::CodeframeConfig
    } else {
        FileFormat::Native
    }
}

/// Parses a YAML policy document. `origin` names it in errors.
pub fn from_yaml_str(text: &str, origin: &str) -> Result<(FileFormat, SettingsLayer), PolicyError> {
    let yaml_err = |e: serde_yaml_ng::Error| {
        let loc = e.location();
        PolicyError::syntax(
            origin,
            &e.to_string(),
            loc.as_ref().map(|l| l.line()),
            loc.as_ref().map(|l| l.column()),
        )
    };
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(yaml_err)?;
    let keys: Vec<String> = match &value {
        serde_yaml_ng::Value::Null => return Ok((FileFormat::Native, SettingsLayer::default())),
        serde_yaml_ng::Value::Mapping(m) => m
            .keys()
            .filter_map(|k| k.as_str().map(str::to_string))
            .collect(),
        _ => {
            return Err(PolicyError::syntax(
                origin,
                "a policy must be a mapping of keys to values",
                Some(1),
                Some(1),
            ))
        }
    };
    let format = detect(&keys);
    fn parse<T: DeserializeOwned>(
        text: &str,
        err: impl Fn(serde_yaml_ng::Error) -> PolicyError,
    ) -> Result<T, PolicyError> {
        serde_yaml_ng::from_str(text).map_err(err)
    }
    let layer = match format {
        FileFormat::Native => parse::<SettingsLayer>(text, yaml_err)?,
        FileFormat::CodeframeConfig => parse::<CodeframeConfig>(text, yaml_err)?.into_layer(),
        FileFormat::CodeframePolicy => parse::<CodeframePolicy>(text, yaml_err)?.into_layer(),
    };
    check_examples(origin, &layer)?;
    Ok((format, layer))
}

/// Parses a JSON policy document (same keys as YAML).
pub fn from_json_str(text: &str, origin: &str) -> Result<(FileFormat, SettingsLayer), PolicyError> {
    let json_err = |e: serde_json::Error| {
        PolicyError::syntax(origin, &e.to_string(), Some(e.line()), Some(e.column()))
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(json_err)?;
    let Some(map) = value.as_object() else {
        return Err(PolicyError::syntax(
            origin,
            "a policy must be a JSON object",
            Some(1),
            Some(1),
        ));
    };
    let keys: Vec<String> = map.keys().cloned().collect();
    let format = detect(&keys);
    let layer = match format {
        FileFormat::Native => serde_json::from_str::<SettingsLayer>(text).map_err(json_err)?,
        FileFormat::CodeframeConfig => serde_json::from_str::<CodeframeConfig>(text)
            .map_err(json_err)?
            .into_layer(),
        FileFormat::CodeframePolicy => serde_json::from_str::<CodeframePolicy>(text)
            .map_err(json_err)?
            .into_layer(),
    };
    check_examples(origin, &layer)?;
    Ok((format, layer))
}

/// Checks the document's examples against the policy it defines on its own
/// (the mode's defaults and this document, without environment overrides:
/// the examples say what the file means, whatever a deployment overrides).
fn check_examples(origin: &str, layer: &SettingsLayer) -> Result<(), PolicyError> {
    let Some(examples) = layer.examples.as_ref().filter(|e| !e.is_empty()) else {
        return Ok(());
    };
    let failures = examples.failures(&Policy::from_layers(&[layer])?);
    if failures.is_empty() {
        Ok(())
    } else {
        Err(PolicyError::Examples {
            origin: origin.to_string(),
            failures,
        })
    }
}

/// Reads a policy file: JSON when the name ends in `.json`, YAML otherwise.
pub fn load(path: &Path) -> Result<(FileFormat, SettingsLayer), PolicyError> {
    let text = std::fs::read_to_string(path).map_err(|error| PolicyError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let origin = path.display().to_string();
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        from_json_str(&text, &origin)
    } else {
        from_yaml_str(&text, &origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "# config/security.yml
deployment:
  mode: selfhosted
  security_policy:
    command_validation: warn  # warn, enforce, disabled
    allow_shell_operators: true
    safe_commands_only: false
";

    const CODEFRAME_POLICY: &str = r#"# .codeframe/security-policy.yml
security:
  enforcement_level: warn  # warn, strict, disabled

  allowed_commands:
    - pytest
    - npm
    - custom-test-runner

  allowed_shell_operators:
    - "&&"  # Allow build && test workflows

  blocked_patterns:
    - "rm -rf"
    - "curl http://"
    - "wget"

  require_approval:
    - "*://external-domain.com/*"
"#;

    #[test]
    fn reads_the_codeframe_config_format() {
        let (format, layer) = from_yaml_str(CONFIG, "security.yml").unwrap();
        assert_eq!(format, FileFormat::CodeframeConfig);
        assert_eq!(layer.mode, Some(DeploymentMode::Selfhosted));
        assert_eq!(layer.enforcement, Some(Enforcement::Warn));
        assert_eq!(layer.allow_shell_operators, Some(true));
        assert_eq!(layer.safe_commands_only, Some(false));
    }

    #[test]
    fn reads_the_codeframe_policy_format() {
        let (format, layer) = from_yaml_str(CODEFRAME_POLICY, "p.yml").unwrap();
        assert_eq!(format, FileFormat::CodeframePolicy);
        assert_eq!(layer.enforcement, Some(Enforcement::Warn));
        assert_eq!(layer.allowed_shell_operators.unwrap(), ["&&"]);
        assert_eq!(layer.blocked_patterns.unwrap().len(), 3);
        let strict = CODEFRAME_POLICY.replace("level: warn", "level: strict");
        let (_, layer) = from_yaml_str(&strict, "p.yml").unwrap();
        assert_eq!(layer.enforcement, Some(Enforcement::Enforce));
    }

    #[test]
    fn a_codeframe_policy_may_carry_the_network_section() {
        let text =
            format!("{CODEFRAME_POLICY}  network:\n    allow: [pypi.org]\n    deny: [evil.org]\n");
        let (format, layer) = from_yaml_str(&text, "p.yml").unwrap();
        assert_eq!(format, FileFormat::CodeframePolicy);
        let net = layer.network.unwrap();
        assert_eq!(net.allow.unwrap(), ["pypi.org"]);
        assert_eq!(net.deny.unwrap(), ["evil.org"]);
    }

    #[test]
    fn unknown_keys_name_the_key_place_and_suggestion() {
        let bad = CONFIG.replace("command_validation", "command_validaton");
        let e = from_yaml_str(&bad, "security.yml").unwrap_err();
        let PolicyError::Syntax {
            line,
            column,
            suggestion,
            message,
            ..
        } = &e
        else {
            panic!("{e}")
        };
        assert_eq!((*line, *column), (Some(5), Some(5)));
        assert_eq!(suggestion.as_deref(), Some("command_validation"));
        assert!(message.contains("command_validaton"), "{message}");
        assert!(e.to_string().starts_with("security.yml:5:5: "), "{e}");

        let e = from_json_str("{\"enforcment\": \"warn\"}", "p.json").unwrap_err();
        assert!(e.to_string().contains("did you mean `enforcement`?"), "{e}");
    }

    #[test]
    fn bad_values_are_reported_with_their_place() {
        let e = from_yaml_str("enforcement: sometimes\n", "p.yml").unwrap_err();
        assert!(e.to_string().starts_with("p.yml:1:"), "{e}");
        let e = from_yaml_str("max_command_length: -3\n", "p.yml").unwrap_err();
        assert!(e.to_string().contains("max_command_length"), "{e}");
        assert!(from_yaml_str("- a\n- b\n", "p.yml").is_err());
        assert!(from_yaml_str("a: [\n", "p.yml").is_err());
    }

    #[test]
    fn empty_documents_are_empty_native_policies() {
        let (f, l) = from_yaml_str("", "p.yml").unwrap();
        assert_eq!((f, l), (FileFormat::Native, SettingsLayer::default()));
    }
}
