//! What an executor runs: the plan a policy decision makes for a permitted
//! command (the policy depends on this type, not the other way round).

use serde::{Deserialize, Serialize};

/// How a permitted command is run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    /// `execve` this argv directly; no shell is involved.
    Direct(Vec<String>),
    /// Run the script with `/bin/sh -c` (or the backend's shell).
    Shell(String),
}
