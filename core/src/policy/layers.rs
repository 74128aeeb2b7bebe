//! Policy layers: several policy files of different trust (system, user,
//! workspace) combined so that a less trusted file can never widen what a
//! more trusted one forbids.
//!
//! Each layer is decided as a policy on its own (the mode's defaults, its
//! file, then the overrides: environment and `--mode`), and the stack's
//! verdict is the strictest (deny > ask > warn > allow). Every reason and
//! the matched rule name their layer (`user: blocked_patterns[0]: rm -rf`).
//! The settings that act at run time rather than in the decision are
//! combined at their strictest: network mode (the most restrictive; a
//! `workspace` layer never grants network where no other layer sets a
//! mode), hosts
//! (reachable only when every layer with an allowlist allows them; deny
//! lists joined), `filesystem.deny_read` (joined) and
//! `filesystem.writable` (a layer other than the most trusted may only add
//! paths inside the workspace; others are ignored with a warning).
//! A layer named `workspace` is never the most trusted: alone, it has the
//! mode's defaults above it (the layer `defaults`).
//! The semantics are pinned down in `docs/policy.md` ("Layers").

use super::error::PolicyError;
use super::settings::{
    DeploymentMode, Enforcement, FilesystemPolicy, NetworkSettings, PolicySettings, SettingsLayer,
};
use super::{effect_rank, file, run_env, Decision, DecisionReason, Effect, Policy, Verdict};
use crate::net::{EgressRules, NetworkMode};
use crate::Classification;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// Where the system (administrator's) policy file is looked for.
pub const SYSTEM_POLICY_PATH: &str = "/etc/sandboxcore/policy.yml";

/// The name of the least trusted standard layer (the working directory's
/// `.sandboxcore/policy.yml`): a layer of this name is never the most
/// trusted one of a stack.
pub const WORKSPACE_LAYER: &str = "workspace";

/// The layer put above a `workspace` layer that would otherwise be the most
/// trusted: the stack mode's defaults, with no file.
pub const DEFAULTS_LAYER: &str = "defaults";

/// A named policy file of a stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyLayerSource {
    /// The layer's name in reasons and rule names (`system`, `user`,
    /// `workspace`, or any other word).
    pub name: String,
    /// The policy file (JSON when it ends in `.json`, else YAML).
    pub path: PathBuf,
}

impl PolicyLayerSource {
    /// A named layer read from `path`.
    pub fn new(name: impl Into<String>, path: impl Into<PathBuf>) -> PolicyLayerSource {
        PolicyLayerSource {
            name: name.into(),
            path: path.into(),
        }
    }
}

/// The three standard layers, most trusted first, whether their files
/// exist or not: `system` ([`SYSTEM_POLICY_PATH`]), `user`
/// (`$XDG_CONFIG_HOME/sandboxcore/policy.yml`, `$XDG_CONFIG_HOME`
/// defaulting to `$HOME/.config`; left out when neither is set) and
/// `workspace` (`WORKSPACE/.sandboxcore/policy.yml`).
/// `lookup` reads an environment variable.
pub fn standard_layer_sources(
    workspace: &Path,
    lookup: impl Fn(&str) -> Option<String>,
) -> Vec<PolicyLayerSource> {
    let set = |name: &str| lookup(name).filter(|v| !v.is_empty());
    // The XDG specification: a relative $XDG_CONFIG_HOME is invalid and
    // ignored.
    let config_home = set("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| set("HOME").map(|h| Path::new(&h).join(".config")));
    let mut out = vec![PolicyLayerSource::new("system", SYSTEM_POLICY_PATH)];
    if let Some(dir) = config_home {
        out.push(PolicyLayerSource::new(
            "user",
            dir.join("sandboxcore/policy.yml"),
        ));
    }
    out.push(PolicyLayerSource::new(
        "workspace",
        workspace.join(".sandboxcore/policy.yml"),
    ));
    out
}

/// One layer of a stacked policy, as it was resolved.
#[derive(Debug, Clone)]
pub struct PolicyLayer {
    /// The layer's name.
    pub name: String,
    /// The file it was read from (`None` for layers given as settings).
    pub path: Option<PathBuf>,
    /// The layer decided on its own: the mode's defaults, its file (less
    /// any ignored writable path) and the overrides.
    pub policy: Policy,
    /// `filesystem.writable` entries of this layer that were ignored
    /// because a layer other than the most trusted may only add paths
    /// inside the workspace.
    pub ignored_writable: Vec<String>,
}

/// The layers of a stacked policy, most trusted first.
#[derive(Debug)]
pub(crate) struct Stack {
    layers: Vec<PolicyLayer>,
    warnings: Vec<String>,
}

impl Policy {
    /// A stacked policy from named policy files, most trusted first, with
    /// this process's environment overrides applied to every layer. Each
    /// file's examples are checked against that file alone. An error names
    /// the layer and its file.
    pub fn from_named_layers(sources: &[PolicyLayerSource]) -> Result<Policy, PolicyError> {
        let env = super::env::from_process_env()?;
        Policy::from_named_layers_with(sources, &[&env])
    }

    /// As [`Policy::from_named_layers`], with the given overrides (lowest
    /// precedence first: the environment layer, then one for `--mode`)
    /// instead of this process's environment.
    pub fn from_named_layers_with(
        sources: &[PolicyLayerSource],
        overrides: &[&SettingsLayer],
    ) -> Result<Policy, PolicyError> {
        let mut read = Vec::with_capacity(sources.len());
        for s in sources {
            let (_, layer) = file::load(&s.path).map_err(|e| e.in_layer(&s.name, Some(&s.path)))?;
            read.push((s.name.clone(), Some(s.path.clone()), layer));
        }
        stack(read, overrides)
    }

    /// A stacked policy from named settings layers (most trusted first),
    /// each with the overrides applied (lowest precedence first).
    pub fn from_named_settings(
        layers: &[(&str, &SettingsLayer)],
        overrides: &[&SettingsLayer],
    ) -> Result<Policy, PolicyError> {
        stack(
            layers
                .iter()
                .map(|(name, l)| (name.to_string(), None, (*l).clone()))
                .collect(),
            overrides,
        )
    }

    /// The layers of a stacked policy, most trusted first; empty for a
    /// single policy.
    pub fn layers(&self) -> &[PolicyLayer] {
        self.stack.as_ref().map_or(&[], |s| &s.layers)
    }

    /// What was ignored while stacking layers (writable paths a less
    /// trusted layer may not add), one sentence each; empty for a single
    /// policy.
    pub fn warnings(&self) -> &[String] {
        self.stack.as_ref().map_or(&[], |s| &s.warnings)
    }
}

/// Whether a `filesystem.writable` entry stays inside the run's working
/// directory: relative, not `~`, and without `..`.
fn inside_workspace(path: &str) -> bool {
    !path.starts_with('~')
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

fn stack(
    layers: Vec<(String, Option<PathBuf>, SettingsLayer)>,
    overrides: &[&SettingsLayer],
) -> Result<Policy, PolicyError> {
    let mut layers = layers;
    // A `workspace` file is never the most trusted, even when no system or
    // user file exists: the command the policy guards can write it (it lies
    // in the writable workspace), or it came with a cloned repository. The
    // mode's defaults then stand above it, as the layer `defaults`.
    if layers
        .first()
        .is_some_and(|(name, _, _)| name == WORKSPACE_LAYER)
    {
        layers.insert(
            0,
            (DEFAULTS_LAYER.to_string(), None, SettingsLayer::default()),
        );
    }
    // The stack's mode: the overrides' (the highest that names one), else
    // the most trusted layer's, else the default. A layer that names its
    // own mode starts from that mode's defaults; a less trusted layer's
    // mode never changes how a more trusted one is decided.
    let stack_mode = overrides
        .iter()
        .rev()
        .find_map(|l| l.mode)
        .or_else(|| layers.first().and_then(|(_, _, l)| l.mode))
        .unwrap_or_default();
    let base = SettingsLayer {
        mode: Some(stack_mode),
        ..SettingsLayer::default()
    };
    let mut resolved = Vec::with_capacity(layers.len());
    let mut warnings = Vec::new();
    for (index, (name, path, mut layer)) in layers.into_iter().enumerate() {
        let mut ignored = Vec::new();
        if index > 0 {
            if let Some(fs) = &mut layer.filesystem {
                let place = path
                    .as_ref()
                    .map(|p| format!(" ({})", p.display()))
                    .unwrap_or_default();
                for (i, w) in fs.writable.iter().enumerate() {
                    if !inside_workspace(w) {
                        warnings.push(format!(
                            "policy layer `{name}`{place}: filesystem.writable[{i}] `{w}` ignored: \
                             only the most trusted layer may make paths outside the workspace \
                             writable (a less trusted layer may add relative paths without `..`)"
                        ));
                        ignored.push(w.clone());
                    }
                }
                fs.writable.retain(|w| inside_workspace(w));
            }
        }
        let mut all: Vec<&SettingsLayer> = vec![&base, &layer];
        all.extend_from_slice(overrides);
        let policy = Policy::from_layers(&all).map_err(|e| e.in_layer(&name, path.as_deref()))?;
        resolved.push(PolicyLayer {
            name,
            path,
            policy,
            ignored_writable: ignored,
        });
    }
    for w in &warnings {
        tracing::warn!("{w}");
    }
    if resolved.is_empty() {
        // No layer: the mode's defaults and the overrides, as a single policy.
        let mut all: Vec<&SettingsLayer> = vec![&base];
        all.extend_from_slice(overrides);
        return Policy::from_layers(&all);
    }
    let (settings, egress) = combine(&resolved, stack_mode);
    Ok(stacked_policy(settings, egress, resolved, warnings))
}

/// The `Policy` of a stack of layers (not empty), with the combined
/// settings and egress rules as its summary.
fn stacked_policy(
    settings: PolicySettings,
    egress: EgressRules,
    layers: Vec<PolicyLayer>,
    warnings: Vec<String>,
) -> Policy {
    let first = &layers[0].policy;
    Policy {
        settings,
        egress,
        // Not used for decisions (the stack decides), kept for `Debug`.
        allowed: first.allowed.clone(),
        denied: first.denied.clone(),
        blocked: first.blocked.clone(),
        safe: first.safe.clone(),
        approved: first.approved.clone(),
        stack: Some(Arc::new(Stack { layers, warnings })),
    }
}

/// How restrictive a network mode is (lower is stricter).
fn network_rank(m: NetworkMode) -> u8 {
    match m {
        NetworkMode::None => 0,
        NetworkMode::Allowlist => 1,
        NetworkMode::Full => 2,
    }
}

fn enforcement_rank(e: Enforcement) -> u8 {
    match e {
        Enforcement::Disabled => 0,
        Enforcement::Warn => 1,
        Enforcement::Enforce => 2,
    }
}

/// Items of `first` that every other list has too.
fn common(lists: &[&Vec<String>]) -> Vec<String> {
    let Some((first, rest)) = lists.split_first() else {
        return Vec::new();
    };
    first
        .iter()
        .filter(|x| rest.iter().all(|l| l.contains(x)))
        .cloned()
        .collect()
}

/// Items of every list, in order, each once.
fn joined<'a>(lists: impl IntoIterator<Item = &'a Vec<String>>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in lists.into_iter().flatten() {
        if !out.contains(item) {
            out.push(item.clone());
        }
    }
    out
}

/// The stack's summary settings (each at its strictest) and egress rules.
fn combine(layers: &[PolicyLayer], mode: DeploymentMode) -> (PolicySettings, EgressRules) {
    let all: Vec<&PolicySettings> = layers.iter().map(|l| l.policy.settings()).collect();
    let lists =
        |f: fn(&PolicySettings) -> &Vec<String>| all.iter().map(|s| f(s)).collect::<Vec<_>>();
    let nonempty = |f: fn(&PolicySettings) -> &Vec<String>| {
        all.iter()
            .map(|s| f(s))
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
    };
    let limits: Vec<usize> = all
        .iter()
        .map(|s| s.max_command_length)
        .filter(|&m| m > 0)
        .collect();

    // Network: the trusted layers (all but `workspace` ones) whose section
    // narrows the network (a mode or an allow list) give the most
    // restrictive mode, as one policy's would. A workspace layer only
    // narrows that: below a trusted mode it can lower it; where no trusted
    // layer sets one (each run gets the network it asks for) it can only
    // take all network away (`none`), never grant some, since a policy's
    // `full` or `allowlist` gives network to runs that asked for none. A
    // host must be allowed by every layer whose allow list counts; deny
    // lists and approval patterns of every layer count.
    let narrowing = |n: &NetworkSettings| n.mode.is_some() || !n.allow.is_empty();
    let mode_of = |workspace: bool| {
        layers
            .iter()
            .filter(|l| (l.name == WORKSPACE_LAYER) == workspace)
            .map(|l| &l.policy.settings().network)
            .filter(|n| narrowing(n))
            .map(NetworkSettings::effective_mode)
            .min_by_key(|m| network_rank(*m))
    };
    let net_mode = match (mode_of(false), mode_of(true)) {
        (Some(trusted), Some(workspace)) => Some(std::cmp::min_by_key(trusted, workspace, |m| {
            network_rank(*m)
        })),
        (trusted @ Some(_), None) => trusted,
        (None, Some(NetworkMode::None)) => Some(NetworkMode::None),
        (None, _) => None,
    };
    let mut egress: Option<EgressRules> = None;
    let mut denials = EgressRules::default();
    let mut shown_allow = Vec::new();
    for l in layers {
        let net = &l.policy.settings().network;
        let rules = l.policy.egress_rules().with_layer(&l.name);
        let counts = net.effective_mode() == NetworkMode::Allowlist || !net.allow.is_empty();
        match (&mut egress, counts) {
            (None, true) => {
                shown_allow = net.allow.clone();
                egress = Some(rules);
            }
            (Some(e), true) => e.require_also(rules),
            (_, false) => denials.add_denials(rules),
        }
    }
    let mut egress = egress.unwrap_or_default();
    egress.add_denials(denials);

    let first = all[0];
    let settings = PolicySettings {
        mode,
        enforcement: all
            .iter()
            .map(|s| s.enforcement)
            .max_by_key(|e| enforcement_rank(*e))
            .unwrap_or(first.enforcement),
        allow_shell_operators: all.iter().all(|s| s.allow_shell_operators),
        allowed_shell_operators: common(&lists(|s| &s.allowed_shell_operators)),
        safe_commands_only: all.iter().any(|s| s.safe_commands_only),
        safe_commands: common(&lists(|s| &s.safe_commands)),
        // A program must be allowed by every layer that lists allowed
        // commands: the rules every such layer has (a summary).
        allowed_commands: common(&nonempty(|s| &s.allowed_commands)),
        denied_commands: joined(all.iter().map(|s| &s.denied_commands)),
        blocked_patterns: joined(all.iter().map(|s| &s.blocked_patterns)),
        require_approval: joined(all.iter().map(|s| &s.require_approval)),
        risk_threshold: all
            .iter()
            .map(|s| s.risk_threshold)
            .min()
            .unwrap_or(first.risk_threshold),
        max_command_length: limits.into_iter().min().unwrap_or(0),
        // Every layer's approved commands (each layer checks its own).
        approved_commands: all
            .iter()
            .flat_map(|s| s.approved_commands.iter().cloned())
            .collect(),
        filesystem: FilesystemPolicy {
            writable: joined(all.iter().map(|s| &s.filesystem.writable)),
            deny_read: joined(all.iter().map(|s| &s.filesystem.deny_read)),
            // Each layer checks its own; the summary shows the strictest.
            effects_outside: all
                .iter()
                .filter_map(|s| s.filesystem.effects_outside)
                .max(),
        },
        network: NetworkSettings {
            mode: net_mode,
            allow: if net_mode == Some(NetworkMode::None) {
                Vec::new()
            } else {
                shown_allow
            },
            deny: joined(all.iter().map(|s| &s.network.deny)),
        },
    };
    (settings, egress)
}

fn prefixed(layer: &str, mut reasons: Vec<DecisionReason>) -> Vec<DecisionReason> {
    for r in &mut reasons {
        r.rule = format!("{layer}: {}", r.rule);
    }
    reasons
}

/// The verdict `enforcement` gives a decision whose strongest reason has
/// `effect` (as [`Policy`] decides).
fn verdict_of(enforcement: Enforcement, effect: Effect) -> Verdict {
    match (enforcement, effect) {
        (Enforcement::Disabled, _) | (_, Effect::Note) => Verdict::Allow,
        (Enforcement::Warn, _) => Verdict::Warn,
        (Enforcement::Enforce, Effect::Deny) => Verdict::Deny,
        (Enforcement::Enforce, Effect::Ask) => Verdict::Ask,
        (Enforcement::Enforce, Effect::Warn) => Verdict::Warn,
    }
}

impl Stack {
    /// Every layer decides; the strictest verdict wins (the most trusted
    /// layer among equals). The winning layer's reasons come first, then
    /// the others', most trusted first; every rule names its layer.
    pub(crate) fn decide(&self, command: &str, classification: Classification) -> Decision {
        let mut decisions: Vec<Decision> = self
            .layers
            .iter()
            .map(|l| l.policy.decide(command, classification.clone()))
            .collect();
        let winner = decisions
            .iter()
            .enumerate()
            .min_by_key(|(i, d)| (std::cmp::Reverse(d.verdict), *i))
            .map_or(0, |(i, _)| i);
        let mut reasons = Vec::new();
        for (i, d) in decisions.iter_mut().enumerate() {
            if i != winner {
                reasons.extend(prefixed(
                    &self.layers[i].name,
                    std::mem::take(&mut d.reasons),
                ));
            }
        }
        let mut decision = decisions.swap_remove(winner);
        let name = &self.layers[winner].name;
        let mut all = prefixed(name, std::mem::take(&mut decision.reasons));
        all.append(&mut reasons);
        decision.reasons = all;
        decision.matched_rule = decision.matched_rule.map(|r| format!("{name}: {r}"));
        // Every layer that does not deny gives the same plan; the winner's
        // is `None` when the stack denies.
        decision
    }

    /// [`Policy::with_approved`] for a stack: the rule is added to every
    /// layer (an approval answers the strictest layer's question; deny
    /// rules of each layer still win).
    pub(crate) fn with_approved(
        &self,
        summary: &Policy,
        rule: &super::ProposedRule,
    ) -> Result<Policy, PolicyError> {
        let layers = self
            .layers
            .iter()
            .map(|l| {
                Ok(PolicyLayer {
                    policy: l.policy.with_approved(rule)?,
                    ..l.clone()
                })
            })
            .collect::<Result<Vec<_>, PolicyError>>()?;
        let mut settings = summary.settings.clone();
        settings
            .approved_commands
            .extend(rule.rules.iter().cloned());
        Ok(stacked_policy(
            settings,
            summary.egress.clone(),
            layers,
            self.warnings.clone(),
        ))
    }

    /// [`Policy::with_run_env`] for a stack: the variables' reasons (rule
    /// `run_env`, from no layer) count under the strictest enforcement of
    /// the layers, as they would in the strictest layer's own decision.
    pub(crate) fn with_run_env(
        &self,
        mut decision: Decision,
        env: &std::collections::BTreeMap<String, String>,
    ) -> Decision {
        let mut extra = run_env::reasons(env);
        if extra.is_empty() {
            return decision;
        }
        extra.sort_by_key(|r| effect_rank(r.effect));
        let enforcement = self
            .layers
            .iter()
            .map(|l| l.policy.settings().enforcement)
            .max_by_key(|e| enforcement_rank(*e))
            .unwrap_or(Enforcement::Warn);
        let verdict = verdict_of(enforcement, extra[0].effect);
        if verdict > decision.verdict {
            decision.verdict = verdict;
            decision.matched_rule = Some(extra[0].rule.clone());
            extra.append(&mut decision.reasons);
            decision.reasons = extra;
            if verdict == Verdict::Deny {
                decision.plan = None;
            }
        } else {
            decision.reasons.append(&mut extra);
        }
        decision
    }
}

impl PolicyError {
    /// This error as one of the named layer's (and its file's).
    pub(crate) fn in_layer(self, layer: &str, path: Option<&Path>) -> PolicyError {
        PolicyError::Layer {
            layer: layer.to_string(),
            path: path.map(Path::to_path_buf),
            error: Box::new(self),
        }
    }
}

#[cfg(test)]
mod tests;
