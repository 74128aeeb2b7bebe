//! The effective policy settings, the deployment modes and their defaults,
//! and the partial layers (file, environment) merged over them.

use crate::net::NetworkMode;
use crate::Risk;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How decisions are enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Enforcement {
    /// Nothing is blocked or flagged; commands are still classified and audited.
    Disabled,
    /// What `enforce` would deny or ask about runs with a warning.
    Warn,
    /// Violations are denied; approval rules ask. `strict` is an alias.
    #[serde(alias = "strict")]
    Enforce,
}

impl Enforcement {
    /// The name used in policy files.
    pub fn as_str(self) -> &'static str {
        match self {
            Enforcement::Disabled => "disabled",
            Enforcement::Warn => "warn",
            Enforcement::Enforce => "enforce",
        }
    }
}

impl fmt::Display for Enforcement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where sandboxcore runs; each mode implies defaults (see `docs/policy.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentMode {
    /// Multi-tenant, commands run in isolated containers: warn.
    SaasSandboxed,
    /// Multi-tenant without container isolation: enforce, no shell
    /// operators, safe commands only.
    SaasUnsandboxed,
    /// One organisation on its own infrastructure: warn.
    #[default]
    Selfhosted,
    /// A developer's machine: disabled (advisory only).
    Development,
}

impl DeploymentMode {
    /// The name used in policy files and environment variables.
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentMode::SaasSandboxed => "saas_sandboxed",
            DeploymentMode::SaasUnsandboxed => "saas_unsandboxed",
            DeploymentMode::Selfhosted => "selfhosted",
            DeploymentMode::Development => "development",
        }
    }

    /// All modes, for error messages and documentation.
    pub const ALL: [DeploymentMode; 4] = [
        DeploymentMode::SaasSandboxed,
        DeploymentMode::SaasUnsandboxed,
        DeploymentMode::Selfhosted,
        DeploymentMode::Development,
    ];

    /// The settings this mode implies before any file or environment override.
    pub fn defaults(self) -> PolicySettings {
        let (enforcement, shell, safe_only) = match self {
            DeploymentMode::SaasSandboxed => (Enforcement::Warn, true, false),
            DeploymentMode::SaasUnsandboxed => (Enforcement::Enforce, false, true),
            DeploymentMode::Selfhosted => (Enforcement::Warn, true, false),
            DeploymentMode::Development => (Enforcement::Disabled, true, false),
        };
        PolicySettings {
            mode: self,
            enforcement,
            allow_shell_operators: shell,
            allowed_shell_operators: Vec::new(),
            safe_commands_only: safe_only,
            safe_commands: DEFAULT_SAFE_COMMANDS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            allowed_commands: Vec::new(),
            denied_commands: Vec::new(),
            blocked_patterns: Vec::new(),
            require_approval: Vec::new(),
            risk_threshold: Risk::High,
            max_command_length: DEFAULT_MAX_COMMAND_LENGTH,
            filesystem: FilesystemPolicy::default(),
            network: NetworkSettings::default(),
            approved_commands: Vec::new(),
        }
    }
}

impl fmt::Display for DeploymentMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The safe commands every policy starts with (the CodeFRAME guide's list).
pub const DEFAULT_SAFE_COMMANDS: &[&str] = &[
    "pytest", "python", "python3", "uv", "poetry", "pipenv", "pip", "pip3", "npm", "node", "yarn",
    "pnpm", "bun", "deno", "go", "cargo", "mvn", "gradle", "java", "ruby", "rspec", "bundle",
    "rake", "dotnet", "composer", "phpunit",
];

/// The default `max_command_length`, in characters.
pub const DEFAULT_MAX_COMMAND_LENGTH: usize = 1000;

/// The complete, effective settings of a policy: what `policy show` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicySettings {
    /// The deployment mode whose defaults the other settings start from.
    pub mode: DeploymentMode,
    /// How decisions are enforced.
    pub enforcement: Enforcement,
    /// Any shell operator or construct may be used (with a warning).
    pub allow_shell_operators: bool,
    /// Operators and constructs allowed without a warning (`&&`, `|`,
    /// `>`, `2>&1`, `$()`, or construct names such as `pipe`).
    pub allowed_shell_operators: Vec<String>,
    /// Every program run must be a safe command (or an allowed command).
    pub safe_commands_only: bool,
    /// The safe commands: the defaults plus any added by the policy.
    pub safe_commands: Vec<String>,
    /// When not empty, every program run must match one of these rules.
    pub allowed_commands: Vec<String>,
    /// Programs or command prefixes that are denied (`git push --force`).
    pub denied_commands: Vec<String>,
    /// Command patterns that are denied wherever they run (`rm -rf`).
    pub blocked_patterns: Vec<String>,
    /// URL globs that need approval (`*://external-domain.com/*`).
    pub require_approval: Vec<String>,
    /// Commands classified at this risk or above are denied.
    pub risk_threshold: Risk,
    /// Longer command lines are denied; 0 means no limit.
    pub max_command_length: usize,
    /// What commands may write and may not read (backends that isolate
    /// the filesystem: the process backend).
    #[serde(default)]
    pub filesystem: FilesystemPolicy,
    /// Network egress for runs: the mode and the allowed and denied hosts.
    #[serde(default)]
    pub network: NetworkSettings,
    /// Commands approved with scope `persist` (see `docs/policy.md`,
    /// "Approvals and proposed rules").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approved_commands: Vec<super::ApprovedCommand>,
}

/// The `network:` section of a policy: how runs reach the network and,
/// under `allowlist`, which hosts they may reach (see
/// [`HostRule`](crate::net::HostRule) for the entries).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSettings {
    /// `none`, `allowlist` or `full`; when not set, see
    /// [`NetworkSettings::effective_mode`].
    #[serde(default)]
    pub mode: Option<NetworkMode>,
    /// Hosts, subdomains, addresses and networks runs may reach
    /// (`pypi.org`, `*.pythonhosted.org`, `10.0.0.0/8`, `[::1]:8080`).
    #[serde(default)]
    pub allow: Vec<String>,
    /// Hosts and networks that are refused even when allowed.
    #[serde(default)]
    pub deny: Vec<String>,
}

impl NetworkSettings {
    /// The mode: as set, else `allowlist` when there are allow entries,
    /// else `none`.
    pub fn effective_mode(&self) -> NetworkMode {
        match self.mode {
            Some(m) => m,
            None if !self.allow.is_empty() => NetworkMode::Allowlist,
            None => NetworkMode::None,
        }
    }
}

/// The `network:` section as one layer writes it: each key given
/// replaces the value below it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkLayer {
    /// See [`NetworkSettings::mode`].
    pub mode: Option<NetworkMode>,
    /// See [`NetworkSettings::allow`].
    pub allow: Option<Vec<String>>,
    /// See [`NetworkSettings::deny`].
    pub deny: Option<Vec<String>>,
}

/// The `filesystem:` section of a policy: added to the backend's own
/// writable and deny-read lists for every run. `~/` is the caller's home;
/// relative paths are relative to the run's working directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesystemPolicy {
    /// Directories commands may write, besides their working directory.
    #[serde(default)]
    pub writable: Vec<String>,
    /// Paths hidden from commands, besides the backend's defaults.
    #[serde(default)]
    pub deny_read: Vec<String>,
    /// What to do, before anything runs, with a command whose predicted
    /// effects ([`Classification::effects`](crate::Classification::effects))
    /// reach outside the workspace (the working directory, `writable`,
    /// `/tmp`): rule `filesystem.effects_outside`. Not set: `allow` (a
    /// later layer that sets it wins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effects_outside: Option<EffectsOutside>,
}

/// The verdicts of `filesystem.effects_outside`, weakest first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum EffectsOutside {
    /// Effects outside the workspace are not looked at.
    #[default]
    Allow,
    /// They give a warning.
    Warn,
    /// They need approval.
    Ask,
    /// They are denied (a warning under `enforcement: warn`).
    Deny,
}

impl FilesystemPolicy {
    /// `path` with `~` or `~/` expanded to `home` and a relative path
    /// joined to `cwd`.
    pub fn resolve(
        path: &str,
        home: Option<&std::path::Path>,
        cwd: &std::path::Path,
    ) -> std::path::PathBuf {
        let expanded = match (path.strip_prefix('~'), home) {
            (Some(""), Some(h)) => h.to_path_buf(),
            (Some(rest), Some(h)) if rest.starts_with('/') => h.join(rest.trim_start_matches('/')),
            _ => std::path::PathBuf::from(path),
        };
        if expanded.is_absolute() {
            expanded
        } else {
            cwd.join(expanded)
        }
    }
}

impl Default for PolicySettings {
    fn default() -> Self {
        DeploymentMode::default().defaults()
    }
}

/// A partial set of settings from one source (a file, the environment);
/// `None` leaves the value below it in place.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsLayer {
    /// See [`PolicySettings::mode`].
    pub mode: Option<DeploymentMode>,
    /// See [`PolicySettings::enforcement`].
    pub enforcement: Option<Enforcement>,
    /// See [`PolicySettings::allow_shell_operators`].
    pub allow_shell_operators: Option<bool>,
    /// See [`PolicySettings::allowed_shell_operators`].
    pub allowed_shell_operators: Option<Vec<String>>,
    /// See [`PolicySettings::safe_commands_only`].
    pub safe_commands_only: Option<bool>,
    /// Added to the default safe commands.
    pub safe_commands: Option<Vec<String>>,
    /// See [`PolicySettings::allowed_commands`].
    pub allowed_commands: Option<Vec<String>>,
    /// See [`PolicySettings::denied_commands`].
    pub denied_commands: Option<Vec<String>>,
    /// See [`PolicySettings::blocked_patterns`].
    pub blocked_patterns: Option<Vec<String>>,
    /// See [`PolicySettings::require_approval`].
    pub require_approval: Option<Vec<String>>,
    /// See [`PolicySettings::risk_threshold`].
    pub risk_threshold: Option<Risk>,
    /// See [`PolicySettings::max_command_length`].
    pub max_command_length: Option<usize>,
    /// Added to [`PolicySettings::filesystem`].
    pub filesystem: Option<FilesystemPolicy>,
    /// See [`PolicySettings::network`]; each key given replaces the value
    /// below it.
    pub network: Option<NetworkLayer>,
    /// Commands with the verdict this layer's policy must give each
    /// ([`PolicyExamples`](super::PolicyExamples)); checked when the file
    /// is read, not part of the settings.
    pub examples: Option<super::PolicyExamples>,
    /// Added to [`PolicySettings::approved_commands`].
    pub approved_commands: Option<Vec<super::ApprovedCommand>>,
}

impl SettingsLayer {
    /// Applies the values this layer sets on top of `base`.
    pub fn apply_to(&self, base: &mut PolicySettings) {
        fn set<T: Clone>(dst: &mut T, src: &Option<T>) {
            if let Some(v) = src {
                *dst = v.clone();
            }
        }
        set(&mut base.enforcement, &self.enforcement);
        set(
            &mut base.allowed_shell_operators,
            &self.allowed_shell_operators,
        );
        // A layer that lists the allowed operators means "these and no
        // others" unless it also says `allow_shell_operators: true`.
        if self.allowed_shell_operators.is_some() {
            base.allow_shell_operators = false;
        }
        set(&mut base.allow_shell_operators, &self.allow_shell_operators);
        set(&mut base.safe_commands_only, &self.safe_commands_only);
        set(&mut base.allowed_commands, &self.allowed_commands);
        set(&mut base.denied_commands, &self.denied_commands);
        set(&mut base.blocked_patterns, &self.blocked_patterns);
        set(&mut base.require_approval, &self.require_approval);
        set(&mut base.risk_threshold, &self.risk_threshold);
        set(&mut base.max_command_length, &self.max_command_length);
        if let Some(fs) = &self.filesystem {
            base.filesystem.writable.extend(fs.writable.iter().cloned());
            base.filesystem
                .deny_read
                .extend(fs.deny_read.iter().cloned());
            if fs.effects_outside.is_some() {
                base.filesystem.effects_outside = fs.effects_outside;
            }
        }
        if let Some(net) = &self.network {
            if net.mode.is_some() {
                base.network.mode = net.mode;
            }
            set(&mut base.network.allow, &net.allow);
            set(&mut base.network.deny, &net.deny);
        }
        if let Some(extra) = &self.approved_commands {
            base.approved_commands.extend(extra.iter().cloned());
        }
        if let Some(extra) = &self.safe_commands {
            for c in extra {
                if !base.safe_commands.contains(c) {
                    base.safe_commands.push(c.clone());
                }
            }
        }
    }

    /// Resolves layers, lowest precedence first, into effective settings:
    /// the mode is taken from the highest layer that sets one (else the
    /// default mode), its defaults applied, then every layer in order.
    pub fn resolve(layers: &[&SettingsLayer]) -> PolicySettings {
        let mode = layers.iter().rev().find_map(|l| l.mode).unwrap_or_default();
        let mut settings = mode.defaults();
        for l in layers {
            l.apply_to(&mut settings);
        }
        settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_defaults_follow_the_guide() {
        let s = DeploymentMode::SaasUnsandboxed.defaults();
        assert_eq!(s.enforcement, Enforcement::Enforce);
        assert!(!s.allow_shell_operators);
        assert!(s.safe_commands_only);
        assert_eq!(
            DeploymentMode::Development.defaults().enforcement,
            Enforcement::Disabled
        );
        for m in [DeploymentMode::SaasSandboxed, DeploymentMode::Selfhosted] {
            assert_eq!(m.defaults().enforcement, Enforcement::Warn);
        }
        assert_eq!(s.max_command_length, 1000);
        assert!(s.safe_commands.iter().any(|c| c == "phpunit"));
    }

    #[test]
    fn later_layers_win_and_the_highest_mode_applies() {
        let file = SettingsLayer {
            mode: Some(DeploymentMode::Development),
            allow_shell_operators: Some(false),
            safe_commands: Some(vec!["make".into()]),
            ..Default::default()
        };
        let env = SettingsLayer {
            mode: Some(DeploymentMode::SaasUnsandboxed),
            ..Default::default()
        };
        let s = SettingsLayer::resolve(&[&file, &env]);
        assert_eq!(s.mode, DeploymentMode::SaasUnsandboxed);
        assert_eq!(s.enforcement, Enforcement::Enforce);
        assert!(!s.allow_shell_operators);
        assert!(s.safe_commands.iter().any(|c| c == "make"));
    }

    #[test]
    fn listing_operators_turns_the_blanket_permission_off() {
        let listed = SettingsLayer {
            allowed_shell_operators: Some(vec!["&&".into()]),
            ..Default::default()
        };
        assert!(!SettingsLayer::resolve(&[&listed]).allow_shell_operators);
        let both = SettingsLayer {
            allow_shell_operators: Some(true),
            ..listed
        };
        assert!(SettingsLayer::resolve(&[&both]).allow_shell_operators);
    }

    #[test]
    fn filesystem_paths_expand_home_and_join_the_cwd() {
        use std::path::Path;
        let home = Some(Path::new("/home/a"));
        let cwd = Path::new("/w");
        assert_eq!(
            FilesystemPolicy::resolve("~/.cache", home, cwd),
            Path::new("/home/a/.cache")
        );
        assert_eq!(
            FilesystemPolicy::resolve("~", home, cwd),
            Path::new("/home/a")
        );
        assert_eq!(
            FilesystemPolicy::resolve("out", home, cwd),
            Path::new("/w/out")
        );
        assert_eq!(
            FilesystemPolicy::resolve("/abs", home, cwd),
            Path::new("/abs")
        );
        // `~user` is not the caller's home.
        assert_eq!(
            FilesystemPolicy::resolve("~bob/x", home, cwd),
            Path::new("/w/~bob/x")
        );
    }

    #[test]
    fn a_filesystem_section_is_read_and_added() {
        let layer: SettingsLayer = serde_yaml_ng::from_str(
            "filesystem:\n  writable: [\"~/.cache\"]\n  deny_read: [/srv/secrets]\n",
        )
        .unwrap();
        let s = SettingsLayer::resolve(&[&layer, &layer]);
        assert_eq!(s.filesystem.writable, vec!["~/.cache", "~/.cache"]);
        assert_eq!(s.filesystem.deny_read, vec!["/srv/secrets", "/srv/secrets"]);
        assert!(serde_yaml_ng::from_str::<SettingsLayer>("filesystem: {write: [x]}").is_err());
    }

    #[test]
    fn a_network_section_is_read_and_later_layers_replace_its_keys() {
        let file: SettingsLayer = serde_yaml_ng::from_str(
            "network:\n  allow: [pypi.org, \"*.pythonhosted.org\"]\n  deny: [evil.org]\n",
        )
        .unwrap();
        let s = SettingsLayer::resolve(&[&file]);
        assert_eq!(s.network.allow, ["pypi.org", "*.pythonhosted.org"]);
        assert_eq!(s.network.deny, ["evil.org"]);
        assert_eq!(s.network.mode, None);
        assert_eq!(s.network.effective_mode(), NetworkMode::Allowlist);

        let env: SettingsLayer =
            serde_json::from_str(r#"{"network": {"mode": "full", "allow": ["a.com"]}}"#).unwrap();
        let s = SettingsLayer::resolve(&[&file, &env]);
        assert_eq!(s.network.effective_mode(), NetworkMode::Full);
        assert_eq!(s.network.allow, ["a.com"]);
        assert_eq!(s.network.deny, ["evil.org"]);

        assert_eq!(
            PolicySettings::default().network.effective_mode(),
            NetworkMode::None
        );
        assert!(serde_yaml_ng::from_str::<SettingsLayer>("network: {allowed: [x]}").is_err());
        assert!(serde_yaml_ng::from_str::<SettingsLayer>("network: {mode: some}").is_err());
    }

    #[test]
    fn strict_is_an_alias_of_enforce() {
        let e: Enforcement = serde_json::from_str("\"strict\"").unwrap();
        assert_eq!(e, Enforcement::Enforce);
    }
}
