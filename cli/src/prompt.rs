//! The approver of `sandboxcore run`: commands the policy asks about are
//! approved once by `--yes`, else asked about on the terminal with the
//! rule an approval would add (`[o]nce / [s]ession / [p]ersist / [N]o`);
//! connections to hosts a `require_approval` pattern names are asked about
//! on the terminal.

use sandboxcore::exec::BoxFuture;
use sandboxcore::net::ConnectionRequest;
use sandboxcore::{Approval, Approver, Decision};
use std::io::{BufRead, IsTerminal, Write};

/// Approves commands when `--yes` was given; asks the person at the
/// terminal about connections, one question at a time, and refuses them
/// when stdin is not a terminal (nobody to ask).
pub struct TerminalApprover {
    yes: bool,
    /// One question on the terminal at a time.
    asking: tokio::sync::Mutex<()>,
}

impl TerminalApprover {
    /// An approver that approves commands when `yes`.
    pub fn new(yes: bool) -> TerminalApprover {
        TerminalApprover {
            yes,
            asking: tokio::sync::Mutex::new(()),
        }
    }
}

/// The question for `request`: `allow a connection to HOST:PORT (RULE)?
/// [y/N] `.
pub fn question(request: &ConnectionRequest) -> String {
    let host = if request.host.contains(':') {
        format!("[{}]", request.host)
    } else {
        request.host.clone()
    };
    format!(
        "sandboxcore: allow a connection to {host}:{} ({})? [y/N] ",
        request.port, request.rule
    )
}

/// The question for a command the policy asks about: the command, the
/// reasons, the rule an approval would add and the choices.
pub fn command_question(decision: &Decision, command: &str) -> String {
    let reasons = decision
        .reasons
        .iter()
        .filter(|r| r.effect != sandboxcore::policy::Effect::Note)
        .map(|r| format!("  - {} ({})\n", r.message, r.rule))
        .collect::<String>();
    let (rule, choices) = match &decision.proposed_rule {
        Some(rule) => (
            format!("  rule for session/persist: {rule}\n"),
            "[o]nce / [s]ession / [p]ersist / [N]o",
        ),
        None => (
            "  (no narrower rule can be proposed: only once)\n".to_string(),
            "[o]nce / [N]o",
        ),
    };
    format!("sandboxcore: `{command}` needs approval:\n{reasons}{rule}run it? {choices} ")
}

/// The scope an answer gives: `o`/`once`, `s`/`session`, `p`/`persist`
/// (`y`/`yes` is once); anything else, the empty answer included, denies.
pub fn command_answer(answer: &str) -> Approval {
    match answer.trim().to_ascii_lowercase().as_str() {
        "o" | "once" | "y" | "yes" => Approval::Once,
        "s" | "session" => Approval::Session,
        "p" | "persist" => Approval::Persist,
        _ => Approval::Deny,
    }
}

/// Asks `question` on the terminal (stderr, stdin) on a thread of its
/// own: a question left unanswered must not keep the CLI from exiting
/// when the run ends.
async fn ask_terminal(question: String) -> Result<String, String> {
    if !std::io::stdin().is_terminal() {
        return Err("stdin is not a terminal: nobody to ask".into());
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(question.as_bytes());
        let _ = err.flush();
        drop(err);
        let mut line = String::new();
        let answer = std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map(|_| line)
            .map_err(|e| format!("cannot read the answer: {e}"));
        let _ = tx.send(answer);
    });
    rx.await
        .unwrap_or_else(|_| Err("the question was not answered".into()))
}

/// Whether an answer approves: `y` or `yes`, any case.
fn approves(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

impl Approver for TerminalApprover {
    fn approve<'a>(&'a self, _decision: &'a Decision) -> BoxFuture<'a, bool> {
        let yes = self.yes;
        Box::pin(async move { yes })
    }

    fn approval<'a>(&'a self, decision: &'a Decision) -> BoxFuture<'a, Result<Approval, String>> {
        Box::pin(async move {
            if self.yes {
                return Ok(Approval::Once);
            }
            if !std::io::stdin().is_terminal() {
                // Nobody to ask: refused (`--yes` approves).
                return Ok(Approval::Deny);
            }
            let _turn = self.asking.lock().await;
            let command = decision
                .proposed_rule
                .as_ref()
                .and_then(|r| r.rules.first())
                .and_then(|r| r.command.clone())
                .unwrap_or_else(|| match decision.classification.argv() {
                    Some(argv) => argv.join(" "),
                    None => "the command".into(),
                });
            let answer = ask_terminal(command_question(decision, &command)).await?;
            let scope = command_answer(&answer);
            // Without a proposal only `once` is offered.
            Ok(match (scope, &decision.proposed_rule) {
                (Approval::Session | Approval::Persist, None) => Approval::Once,
                (s, _) => s,
            })
        })
    }

    fn approve_connection<'a>(
        &'a self,
        request: &'a ConnectionRequest,
    ) -> BoxFuture<'a, Result<bool, String>> {
        Box::pin(async move {
            if !std::io::stdin().is_terminal() {
                return Err("stdin is not a terminal: nobody to ask".into());
            }
            let _turn = self.asking.lock().await;
            ask_terminal(question(request)).await.map(|a| approves(&a))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_question_names_host_port_and_rule() {
        let mut r = ConnectionRequest {
            host: "files.example.com".into(),
            port: 443,
            scheme: None,
            rule: "require_approval[0]: *://*.example.com/*".into(),
        };
        assert_eq!(
            question(&r),
            "sandboxcore: allow a connection to files.example.com:443 \
             (require_approval[0]: *://*.example.com/*)? [y/N] "
        );
        r.host = "::1".into();
        assert!(question(&r).contains("to [::1]:443 ("));
    }

    #[test]
    fn command_answers_and_question() {
        for (a, s) in [
            ("o\n", Approval::Once),
            ("ONCE", Approval::Once),
            ("y", Approval::Once),
            (" s \n", Approval::Session),
            ("session", Approval::Session),
            ("p", Approval::Persist),
            ("persist\n", Approval::Persist),
            ("", Approval::Deny),
            ("n", Approval::Deny),
            ("always", Approval::Deny),
        ] {
            assert_eq!(command_answer(a), s, "{a:?}");
        }
        let policy =
            sandboxcore::Policy::from_yaml_str("enforcement: enforce\nallowed_commands: [ls]\n")
                .unwrap();
        let d = policy.check("git push origin main");
        let q = command_question(&d, "git push origin main");
        assert!(
            q.contains("rule for session/persist: git push origin [+1 operand]"),
            "{q}"
        );
        assert!(q.ends_with("[o]nce / [s]ession / [p]ersist / [N]o "), "{q}");
        assert!(q.contains("not in allowed_commands"), "{q}");
    }

    #[test]
    fn only_yes_approves() {
        for a in ["y\n", "Y", " yes \n", "YES"] {
            assert!(approves(a), "{a}");
        }
        for a in ["", "\n", "n", "no", "yess", "sure"] {
            assert!(!approves(a), "{a}");
        }
    }
}
