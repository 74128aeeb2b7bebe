//! Approval of `ask` verdicts through MCP elicitation: the client shows
//! the user the command and the policy's reasons, and the user answers
//! once, for the session, or no.

use rmcp::model::{ElicitRequestParams, ElicitationAction, ElicitationSchema, EnumSchema};
use rmcp::{Peer, RoleServer};
use sandboxcore::exec::BoxFuture;
use sandboxcore::policy::Effect;
use sandboxcore::{Approver, Decision};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

/// The field of the elicitation form that carries the answer.
pub const DECISION_FIELD: &str = "decision";
/// Run the command this time.
pub const ONCE: &str = "once";
/// Run it, and the same command again in this session without asking.
pub const SESSION: &str = "session";
/// Do not run it.
pub const DENY: &str = "deny";

/// Commands approved for the rest of a session, by their exact text.
#[derive(Clone, Default)]
pub struct SessionApprovals(Arc<Mutex<HashSet<String>>>);

impl SessionApprovals {
    fn contains(&self, command: &str) -> bool {
        self.0.lock().is_ok_and(|set| set.contains(command))
    }

    fn insert(&self, command: String) {
        if let Ok(mut set) = self.0.lock() {
            set.insert(command);
        }
    }
}

/// Asks the MCP client's user about one command.
pub struct ElicitationApprover {
    peer: Peer<RoleServer>,
    approvals: SessionApprovals,
    command: String,
}

impl ElicitationApprover {
    /// An approver for `command` (its text as the audit log shows it).
    pub fn new(peer: Peer<RoleServer>, approvals: SessionApprovals, command: String) -> Self {
        ElicitationApprover {
            peer,
            approvals,
            command,
        }
    }

    async fn ask(&self, decision: &Decision) -> Result<bool, String> {
        if self.approvals.contains(&self.command) {
            return Ok(true);
        }
        let schema = ElicitationSchema::builder()
            .required_enum_schema(
                DECISION_FIELD,
                EnumSchema::builder(vec![ONCE.into(), SESSION.into(), DENY.into()])
                    .title("Run this command?")
                    .description(
                        "once: run it this time; session: run it, and this same command \
                         again in this session without asking; deny: do not run it",
                    )
                    .build(),
            )
            .build()
            .map_err(|e| format!("cannot build the approval form: {e}"))?;
        let answer = self
            .peer
            .create_elicitation(ElicitRequestParams::FormElicitationParams {
                meta: None,
                message: message(&self.command, decision),
                requested_schema: schema,
            })
            .await
            .map_err(|e| format!("the client could not ask its user: {e}"))?;
        if answer.action != ElicitationAction::Accept {
            return Ok(false);
        }
        let choice = answer
            .content
            .as_ref()
            .and_then(|c| c.get(DECISION_FIELD))
            .and_then(|v| v.as_str());
        match choice {
            Some(ONCE) => Ok(true),
            Some(SESSION) => {
                self.approvals.insert(self.command.clone());
                Ok(true)
            }
            Some(DENY) => Ok(false),
            other => Err(format!(
                "the approval form's answer is not one of once, session, deny: {other:?}"
            )),
        }
    }
}

/// What the user is shown: the command and why the policy asks.
fn message(command: &str, decision: &Decision) -> String {
    let mut text =
        format!("The agent wants to run:\n\n    {command}\n\nThe policy asks for approval:");
    for r in decision.reasons.iter().filter(|r| r.effect != Effect::Note) {
        let _ = write!(text, "\n  - {}", r.message);
    }
    text
}

impl Approver for ElicitationApprover {
    fn approve<'a>(&'a self, decision: &'a Decision) -> BoxFuture<'a, bool> {
        Box::pin(async move { self.ask(decision).await.unwrap_or(false) })
    }

    fn try_approve<'a>(&'a self, decision: &'a Decision) -> BoxFuture<'a, Result<bool, String>> {
        Box::pin(self.ask(decision))
    }
}
