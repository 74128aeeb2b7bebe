//! The policy engine: turns a [`Classification`]
//! into a [`Decision`] (allow, warn, ask or deny, with reasons and a plan
//! for running the command).
//!
//! A policy is built from layers: the deployment mode's defaults, then a
//! policy file (the native format or either CodeFRAME format, YAML or
//! JSON), then environment variables. Several files of different trust
//! (system, user, workspace) can be stacked
//! ([`Policy::from_named_layers`]): each is decided on its own and the
//! strictest verdict wins. Every rule matches the parsed command (every
//! program it runs, through wrappers, nested shells and substitutions),
//! never the text. The semantics are pinned down in
//! `docs/policy.md`.
//!
//! ```
//! use sandboxcore::policy::{Policy, Verdict, Plan};
//!
//! let policy = Policy::from_yaml_str(r#"
//! security:
//!   enforcement_level: strict
//!   allowed_commands: [pytest, npm]
//!   allowed_shell_operators: ["&&"]
//!   blocked_patterns: ["rm -rf"]
//! "#).unwrap();
//! let d = policy.check("pytest tests/");
//! assert_eq!(d.verdict, Verdict::Allow);
//! assert_eq!(d.plan, Some(Plan::Direct(vec!["pytest".into(), "tests/".into()])));
//! assert_eq!(policy.check("npm run build && npm test").verdict, Verdict::Allow);
//! assert_eq!(policy.check("sudo rm -fr /tmp/x").verdict, Verdict::Deny);
//! ```

mod decision;
mod effects_rule;
mod env;
mod error;
mod examples;
mod file;
mod layers;
mod operators;
mod persist;
mod propose;
pub mod replay;
mod rule;
pub(crate) mod run_env;
mod settings;
mod url;

pub use crate::exec::Plan;
pub use crate::glob::glob_match;
pub use decision::{Decision, DecisionReason, Effect, Verdict};
pub use env::VARIABLES as ENV_VARIABLES;
pub use error::PolicyError;
pub use examples::{ExampleFailure, PolicyExamples};
pub use file::FileFormat;
pub use layers::{standard_layer_sources, PolicyLayer, PolicyLayerSource, SYSTEM_POLICY_PATH};
pub use persist::persist_approval;
pub use propose::{plain_operand, ApprovedCommand, ProposedRule};
pub use rule::{CommandRule, WordMatch};
pub use settings::{
    DeploymentMode, EffectsOutside, Enforcement, FilesystemPolicy, NetworkLayer, NetworkSettings,
    PolicySettings, SettingsLayer, DEFAULT_MAX_COMMAND_LENGTH, DEFAULT_SAFE_COMMANDS,
};

use crate::net::{EgressRules, NetworkMode};
use crate::{classify, Classification, Program};
use std::path::Path;

/// A validated policy, ready to check commands. Cheap to share (`Arc`) and
/// safe to use from many threads.
#[derive(Debug, Clone)]
pub struct Policy {
    settings: PolicySettings,
    allowed: Vec<CommandRule>,
    denied: Vec<CommandRule>,
    blocked: Vec<CommandRule>,
    safe: Vec<CommandRule>,
    /// `approved_commands`, compiled.
    approved: Vec<propose::ApprovedRule>,
    /// `network.allow`, `network.deny` and `require_approval`, compiled.
    egress: EgressRules,
    /// The layers of a stacked policy ([`Policy::from_named_layers`]);
    /// `None` for a single policy, which decides with the fields above.
    stack: Option<std::sync::Arc<layers::Stack>>,
}

impl Default for Policy {
    /// The default mode's policy (`selfhosted`: warn).
    fn default() -> Self {
        Policy::new(PolicySettings::default()).expect("the built-in defaults are valid")
    }
}

impl Policy {
    /// Validates settings and compiles their rules.
    pub fn new(settings: PolicySettings) -> Result<Policy, PolicyError> {
        fn rules(name: &str, list: &[String]) -> Result<Vec<CommandRule>, PolicyError> {
            list.iter()
                .enumerate()
                .map(|(i, r)| {
                    CommandRule::parse(r).map_err(|message| PolicyError::Invalid {
                        setting: format!("{name}[{i}]"),
                        message,
                    })
                })
                .collect()
        }
        operators::validate(&settings.allowed_shell_operators).map_err(|message| {
            PolicyError::Invalid {
                setting: "allowed_shell_operators".into(),
                message,
            }
        })?;
        let egress = EgressRules::build(
            &settings.network.allow,
            &settings.network.deny,
            &settings.require_approval,
        )
        .map_err(|e| PolicyError::Invalid {
            setting: match e.list {
                "require_approval" => format!("require_approval[{}]", e.index),
                list => format!("network.{list}[{}]", e.index),
            },
            message: e.message,
        })?;
        Ok(Policy {
            egress,
            allowed: rules("allowed_commands", &settings.allowed_commands)?,
            denied: rules("denied_commands", &settings.denied_commands)?,
            blocked: rules("blocked_patterns", &settings.blocked_patterns)?,
            safe: rules("safe_commands", &settings.safe_commands)?,
            approved: settings
                .approved_commands
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    propose::ApprovedRule::parse(e).map_err(|message| PolicyError::Invalid {
                        setting: format!("approved_commands[{i}]"),
                        message,
                    })
                })
                .collect::<Result<_, _>>()?,
            settings,
            stack: None,
        })
    }

    /// The policy a deployment mode implies, with no file or overrides.
    pub fn for_mode(mode: DeploymentMode) -> Policy {
        Policy::new(mode.defaults()).expect("the built-in defaults are valid")
    }

    /// Resolves layers (lowest precedence first) into a policy.
    pub fn from_layers(layers: &[&SettingsLayer]) -> Result<Policy, PolicyError> {
        Policy::new(SettingsLayer::resolve(layers))
    }

    /// A policy from a YAML document alone (no environment overrides).
    pub fn from_yaml_str(text: &str) -> Result<Policy, PolicyError> {
        let (_, layer) = file::from_yaml_str(text, "<string>")?;
        Policy::from_layers(&[&layer])
    }

    /// A policy from a JSON document alone (no environment overrides).
    pub fn from_json_str(text: &str) -> Result<Policy, PolicyError> {
        let (_, layer) = file::from_json_str(text, "<string>")?;
        Policy::from_layers(&[&layer])
    }

    /// Reads one layer from a policy file (JSON for `.json`, else YAML),
    /// reporting which format it was written in.
    pub fn read_layer(path: &Path) -> Result<(FileFormat, SettingsLayer), PolicyError> {
        file::load(path)
    }

    /// The environment overrides of this process as a layer.
    pub fn env_layer() -> Result<SettingsLayer, PolicyError> {
        env::from_process_env()
    }

    /// The environment overrides read through `lookup`.
    pub fn env_layer_from(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<SettingsLayer, PolicyError> {
        env::from_lookup(lookup)
    }

    /// The effective policy: mode defaults, then the file (if any), then
    /// this process's environment (`SANDBOXCORE_*`, `CODEFRAME_*`).
    pub fn load(path: Option<&Path>) -> Result<Policy, PolicyError> {
        let file_layer = match path {
            Some(p) => file::load(p)?.1,
            None => SettingsLayer::default(),
        };
        Policy::from_layers(&[&file_layer, &env::from_process_env()?])
    }

    /// The effective settings. For a stacked policy, a summary of its
    /// layers with each setting at its strictest (see
    /// [`Policy::from_named_layers`]); [`Policy::layers`] has each layer's.
    pub fn settings(&self) -> &PolicySettings {
        &self.settings
    }

    /// The egress rules of runs under this policy: `network.allow`,
    /// `network.deny` and the `require_approval` patterns.
    pub fn egress_rules(&self) -> EgressRules {
        self.egress.clone()
    }

    /// How runs reach the network ([`NetworkSettings::effective_mode`]).
    pub fn network_mode(&self) -> NetworkMode {
        self.settings.network.effective_mode()
    }

    /// Classifies `command` and decides what to do with it.
    pub fn check(&self, command: &str) -> Decision {
        self.decide(command, classify(command))
    }

    /// Decides on a command line or an argv ([`Command`](crate::Command)):
    /// [`Policy::check`] or [`Policy::check_argv`].
    pub fn check_command(&self, command: &crate::Command) -> Decision {
        match command {
            crate::Command::Line(line) => self.check(line),
            crate::Command::Argv(argv) => self.check_argv(argv),
        }
    }

    /// Decides on an argv that runs as it is, with no shell (see
    /// [`classify_argv`](crate::classify_argv)). Rules see the words as a
    /// command line of them would show them (quoted where needed); the
    /// plan, when there is one, is exactly this argv.
    pub fn check_argv<S: AsRef<str>>(&self, argv: &[S]) -> Decision {
        let words: Vec<&str> = argv.iter().map(AsRef::as_ref).collect();
        let mut d = self.decide(
            &shell_words::join(&words),
            crate::classify::classify_argv(&words),
        );
        if d.plan.is_some() {
            d.plan = Some(Plan::Direct(
                words.iter().map(|w| (*w).to_string()).collect(),
            ));
        }
        d
    }

    /// Adds to `decision` the reasons against running its command with the
    /// extra environment variables `env`: variables that make programs load
    /// or run other code (the dynamic loader's `LD_*`, shell start-up files
    /// such as `BASH_ENV`, exported functions, variables naming a pager,
    /// editor or helper, `GIT_*`, interpreters' option variables) need
    /// approval, rule `run_env`. Module search paths (`PYTHONPATH`, ...) do
    /// not. [`Sandbox`](crate::Sandbox) applies this to every run.
    pub fn with_run_env(
        &self,
        mut decision: Decision,
        env: &std::collections::BTreeMap<String, String>,
    ) -> Decision {
        if let Some(stack) = &self.stack {
            return stack.with_run_env(decision, env);
        }
        let extra = run_env::reasons(env);
        if extra.is_empty() {
            return decision;
        }
        // Approved rules do not cover the environment: a proposal would
        // not make the run `allow`.
        decision.proposed_rule = None;
        decision.reasons.extend(extra);
        decision.reasons.sort_by_key(|r| effect_rank(r.effect));
        decision.verdict = self.verdict(&decision.reasons);
        if decision.verdict == Verdict::Deny {
            decision.plan = None;
        }
        decision.matched_rule = decision
            .reasons
            .first()
            .filter(|r| r.effect != Effect::Note)
            .map(|r| r.rule.clone());
        decision
    }

    /// Decides on a command already classified (`classification` must be
    /// `classify(command)`).
    pub fn decide(&self, command: &str, classification: Classification) -> Decision {
        if let Some(stack) = &self.stack {
            return stack.decide(command, classification);
        }
        let reasons = self.reasons(command, &classification, &[]);
        let verdict = self.verdict(&reasons);
        let proposed_rule = self.propose(command, &classification, verdict, &reasons);
        let plan = match verdict {
            Verdict::Deny => None,
            _ if classification.parse_error.is_some() => None,
            _ => Some(match classification.argv() {
                Some(argv) => Plan::Direct(argv.to_vec()),
                _ => Plan::Shell(command.to_string()),
            }),
        };
        Decision {
            verdict,
            matched_rule: reasons
                .first()
                .filter(|r| r.effect != Effect::Note)
                .map(|r| r.rule.clone()),
            reasons,
            classification,
            plan,
            proposed_rule,
        }
    }

    /// Every reason against `command`, strongest first, with the approved
    /// rules `extra` counted as if the policy listed them.
    fn reasons(
        &self,
        command: &str,
        classification: &Classification,
        extra: &[propose::ApprovedRule],
    ) -> Vec<DecisionReason> {
        let mut reasons = Vec::new();
        self.limits(command, classification, &mut reasons);
        self.program_rules(classification, extra, &mut reasons);
        self.shell_rules(classification, &mut reasons);
        self.risk_rules(classification, &mut reasons);
        effects_rule::check(&self.settings.filesystem, classification, &mut reasons);
        reasons.sort_by_key(|r| effect_rank(r.effect));
        // The same program twice (`echo a; echo b`) gives the same reason once.
        let mut seen = std::collections::HashSet::new();
        reasons.retain(|r| seen.insert((r.rule.clone(), r.message.clone())));
        reasons
    }

    /// The rule an approval of this decision would add (see
    /// [`ProposedRule`]): only when, added, it makes the same command run
    /// without asking.
    fn propose(
        &self,
        command: &str,
        c: &Classification,
        verdict: Verdict,
        reasons: &[DecisionReason],
    ) -> Option<ProposedRule> {
        if !propose::may_propose(verdict, reasons) {
            return None;
        }
        let rules = propose::entries_for(command, c)?;
        let compiled = rules
            .iter()
            .map(propose::ApprovedRule::parse)
            .collect::<Result<Vec<_>, _>>()
            .ok()?;
        let after = self.verdict(&self.reasons(command, c, &compiled));
        matches!(after, Verdict::Allow | Verdict::Warn).then_some(ProposedRule { rules })
    }

    /// This policy with `rule`'s entries added to `approved_commands`.
    pub fn with_approved(&self, rule: &ProposedRule) -> Result<Policy, PolicyError> {
        if let Some(stack) = &self.stack {
            return stack.with_approved(self, rule);
        }
        let mut settings = self.settings.clone();
        settings
            .approved_commands
            .extend(rule.rules.iter().cloned());
        Policy::new(settings)
    }

    fn verdict(&self, reasons: &[DecisionReason]) -> Verdict {
        let strongest = reasons.first().map(|r| r.effect);
        match (self.settings.enforcement, strongest) {
            (Enforcement::Disabled, _) | (_, None | Some(Effect::Note)) => Verdict::Allow,
            (Enforcement::Warn, Some(_)) => Verdict::Warn,
            (Enforcement::Enforce, Some(Effect::Deny)) => Verdict::Deny,
            (Enforcement::Enforce, Some(Effect::Ask)) => Verdict::Ask,
            (Enforcement::Enforce, Some(Effect::Warn)) => Verdict::Warn,
        }
    }

    fn limits(&self, command: &str, c: &Classification, out: &mut Vec<DecisionReason>) {
        let max = self.settings.max_command_length;
        if max > 0 {
            let len = command.chars().count();
            if len > max {
                out.push(reason(
                    "max_command_length",
                    Effect::Deny,
                    format!("the command is {len} characters long; the limit is {max}"),
                ));
            }
        }
        if let Some(e) = &c.parse_error {
            out.push(reason(
                "syntax",
                Effect::Deny,
                format!("the command cannot be parsed: {e}"),
            ));
        }
    }

    fn program_rules(
        &self,
        c: &Classification,
        extra: &[propose::ApprovedRule],
        out: &mut Vec<DecisionReason>,
    ) {
        let s = &self.settings;
        for p in &c.programs {
            let approved = propose::covered(&self.approved, p, c) || propose::covered(extra, p, c);
            let shown = display(p);
            for (i, r) in self.blocked.iter().enumerate() {
                if r.matches(p, WordMatch::InOrder) {
                    out.push(reason(
                        &format!("blocked_patterns[{i}]: {}", r.text),
                        Effect::Deny,
                        format!("`{shown}` matches the blocked pattern `{}`", r.text),
                    ));
                }
            }
            for (i, r) in self.denied.iter().enumerate() {
                if r.matches(p, WordMatch::InOrder) {
                    out.push(reason(
                        &format!("denied_commands[{i}]: {}", r.text),
                        Effect::Deny,
                        format!("`{shown}` matches the denied command `{}`", r.text),
                    ));
                }
            }
            let allowed = approved
                || self
                    .allowed
                    .iter()
                    .any(|r| r.matches(p, WordMatch::Leading));
            let safe = self.safe.iter().any(|r| r.matches_name(p));
            let unknown_name = || match &p.name {
                Some(n) => format!("`{n}`"),
                None => format!("the program `{shown}`, only known at run time,"),
            };
            if !self.allowed.is_empty() && !allowed {
                out.push(reason(
                    "allowed_commands",
                    Effect::Deny,
                    format!("{} is not in allowed_commands", unknown_name()),
                ));
            }
            if s.safe_commands_only && !safe && !allowed {
                out.push(reason(
                    "safe_commands_only",
                    Effect::Deny,
                    format!("{} is not a safe command", unknown_name()),
                ));
            } else if !safe && !allowed {
                out.push(reason(
                    "safe_commands",
                    Effect::Note,
                    format!(
                        "{} is not a known safe command (consider adding it)",
                        unknown_name()
                    ),
                ));
            }
            if approved {
                continue;
            }
            for (rule, pattern) in self.egress.approval_patterns() {
                if let Some(u) = url::matching_url(pattern, p) {
                    out.push(reason(rule, Effect::Ask, format!("`{u}` needs approval")));
                }
            }
        }
    }

    fn shell_rules(&self, c: &Classification, out: &mut Vec<DecisionReason>) {
        // Constructs of nested scripts (`bash -c 'a; b'`) count too, even
        // when the outer command runs without a shell.
        if c.parse_error.is_some() {
            return;
        }
        let s = &self.settings;
        let not_listed: Vec<String> = c
            .constructs
            .iter()
            .filter(|k| !operators::allows(&s.allowed_shell_operators, k))
            .map(operators::spelling)
            .collect();
        if c.needs_shell && c.constructs.is_empty() {
            // A shell is needed for exactness alone (echo's options differ
            // between shells, for example).
            let (effect, rule) = if s.allow_shell_operators {
                (Effect::Warn, "allow_shell_operators")
            } else {
                (Effect::Deny, "allowed_shell_operators")
            };
            out.push(reason(
                rule,
                effect,
                "the command needs a shell to run exactly as written".into(),
            ));
        } else if !not_listed.is_empty() {
            // Operators in backquotes; other constructs (a shell builtin)
            // in words.
            let list = not_listed
                .iter()
                .map(|s| {
                    if s.starts_with("the shell builtin") || s == "a shell builtin" {
                        s.clone()
                    } else {
                        format!("`{s}`")
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
            let what = if list.contains("shell builtin") {
                "shell features"
            } else {
                "shell operators"
            };
            if s.allow_shell_operators {
                out.push(reason(
                    "allow_shell_operators",
                    Effect::Warn,
                    format!("{what} used: {list}"),
                ));
            } else {
                out.push(reason(
                    "allowed_shell_operators",
                    Effect::Deny,
                    format!("{what} not allowed: {list}"),
                ));
            }
        }
    }

    fn risk_rules(&self, c: &Classification, out: &mut Vec<DecisionReason>) {
        let threshold = self.settings.risk_threshold;
        for r in c.reasons.iter().filter(|r| r.risk >= threshold) {
            out.push(reason(
                "risk_threshold",
                Effect::Deny,
                format!("{} risk: {}", r.risk, r.message),
            ));
        }
    }
}

pub(crate) fn effect_rank(e: Effect) -> u8 {
    match e {
        Effect::Deny => 0,
        Effect::Ask => 1,
        Effect::Warn => 2,
        Effect::Note => 3,
    }
}

fn reason(rule: &str, effect: Effect, message: String) -> DecisionReason {
    DecisionReason {
        rule: rule.to_string(),
        effect,
        message,
    }
}

/// A program's words joined for messages (shell-quoted).
fn display(p: &Program) -> String {
    shell_words::join(&p.words)
}

#[cfg(test)]
mod tests;
