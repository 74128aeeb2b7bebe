//! A policy's own examples: commands with the verdict the policy's author
//! expects for each (`examples: {allow: [...], warn: [...], ask: [...],
//! deny: [...]}`). Loading a policy file checks every example against the
//! policy the file defines and fails, naming each example that does not
//! hold, the verdict it got and the rule responsible — so a policy that is
//! edited later cannot silently stop doing what it was written for.

use super::{Policy, Verdict};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Commands with the verdict each must get.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyExamples {
    /// Commands that must be allowed.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Commands that must be allowed with a warning.
    #[serde(default)]
    pub warn: Vec<String>,
    /// Commands that must need approval.
    #[serde(default)]
    pub ask: Vec<String>,
    /// Commands that must be denied.
    #[serde(default)]
    pub deny: Vec<String>,
}

impl PolicyExamples {
    /// Whether there is no example at all.
    pub fn is_empty(&self) -> bool {
        self.allow.is_empty() && self.warn.is_empty() && self.ask.is_empty() && self.deny.is_empty()
    }

    /// Every example with the verdict it expects, in the order
    /// allow, warn, ask, deny.
    pub fn iter(&self) -> impl Iterator<Item = (Verdict, &str)> {
        [
            (Verdict::Allow, &self.allow),
            (Verdict::Warn, &self.warn),
            (Verdict::Ask, &self.ask),
            (Verdict::Deny, &self.deny),
        ]
        .into_iter()
        .flat_map(|(verdict, list)| list.iter().map(move |c| (verdict, c.as_str())))
    }

    /// The examples `policy` does not decide as expected, in order.
    pub fn failures(&self, policy: &Policy) -> Vec<ExampleFailure> {
        self.iter()
            .filter_map(|(expected, command)| {
                let decision = policy.check(command);
                (decision.verdict != expected).then(|| ExampleFailure {
                    command: command.to_string(),
                    expected,
                    got: decision.verdict,
                    rule: decision.matched_rule,
                    reason: decision.reasons.first().map(|r| r.message.clone()),
                })
            })
            .collect()
    }
}

/// An example the policy does not decide as expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleFailure {
    /// The example's command.
    pub command: String,
    /// The verdict the example expects.
    pub expected: Verdict,
    /// The verdict the policy gives.
    pub got: Verdict,
    /// The rule behind the verdict it got, if any.
    pub rule: Option<String>,
    /// The first reason, for people.
    pub reason: Option<String>,
}

impl fmt::Display for ExampleFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} should be {} but is {}",
            self.command, self.expected, self.got
        )?;
        match (&self.rule, &self.reason) {
            (Some(rule), Some(reason)) => write!(f, " (rule {rule}: {reason})"),
            (Some(rule), None) => write!(f, " (rule {rule})"),
            (None, Some(reason)) => write!(f, " ({reason})"),
            (None, None) => write!(f, " (no rule matched)"),
        }
    }
}

/// The lines of an examples error: one per failure.
pub(crate) fn describe(failures: &[ExampleFailure]) -> String {
    failures
        .iter()
        .map(|f| format!("\n  - {f}"))
        .collect::<String>()
}
