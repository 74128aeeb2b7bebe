//! The result of checking a command against a policy.

use crate::exec::Plan;
use crate::Classification;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What to do with a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Run it.
    Allow,
    /// Run it, but it is flagged (what `enforce` would deny or ask about,
    /// under `warn`; or shell operators permitted only by
    /// `allow_shell_operators`).
    Warn,
    /// Run it only after approval.
    Ask,
    /// Do not run it.
    Deny,
}

impl Verdict {
    /// The name used in JSON and metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Warn => "warn",
            Verdict::Ask => "ask",
            Verdict::Deny => "deny",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The effect a reason has under `enforce`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Would deny the command.
    Deny,
    /// Needs approval.
    Ask,
    /// Permitted with a warning.
    Warn,
    /// Information only (an unknown program, for example).
    Note,
}

/// One reason behind a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionReason {
    /// The rule, as `setting` or `setting[index]: rule text`.
    pub rule: String,
    /// What the rule does under `enforce`.
    pub effect: Effect,
    /// A sentence for people.
    pub message: String,
}

/// The decision for one command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// What to do.
    pub verdict: Verdict,
    /// Every reason found, strongest effect first.
    pub reasons: Vec<DecisionReason>,
    /// The rule behind the verdict (the first reason's rule), if any.
    pub matched_rule: Option<String>,
    /// The classification the decision was made on.
    pub classification: Classification,
    /// How to run the command; `None` when it is denied (or cannot run).
    pub plan: Option<Plan>,
    /// For `ask` (and `deny` only because a program is not listed): the
    /// narrowest rule that would let this command run next time, if there
    /// is one (see `docs/policy.md`, "Approvals and proposed rules").
    #[serde(default)]
    pub proposed_rule: Option<super::ProposedRule>,
}

impl Decision {
    /// Whether the command may run without approval.
    pub fn is_allowed(&self) -> bool {
        matches!(self.verdict, Verdict::Allow | Verdict::Warn)
    }
}
