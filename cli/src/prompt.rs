//! The approver of `sandboxcore run`: commands the policy asks about are
//! approved by `--yes`; connections to hosts a `require_approval` pattern
//! names are asked about on the terminal.

use sandboxcore::exec::BoxFuture;
use sandboxcore::net::ConnectionRequest;
use sandboxcore::{Approver, Decision};
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

/// Whether an answer approves: `y` or `yes`, any case.
fn approves(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

impl Approver for TerminalApprover {
    fn approve<'a>(&'a self, _decision: &'a Decision) -> BoxFuture<'a, bool> {
        let yes = self.yes;
        Box::pin(async move { yes })
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
            let question = question(request);
            let (tx, rx) = tokio::sync::oneshot::channel();
            // A thread of its own, not the runtime's blocking pool: a
            // question left unanswered must not keep the CLI from exiting
            // when the run ends.
            std::thread::spawn(move || {
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(question.as_bytes());
                let _ = err.flush();
                drop(err);
                let mut line = String::new();
                let answer = std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .map(|_| approves(&line))
                    .map_err(|e| format!("cannot read the answer: {e}"));
                let _ = tx.send(answer);
            });
            rx.await
                .unwrap_or_else(|_| Err("the question was not answered".into()))
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
    fn only_yes_approves() {
        for a in ["y\n", "Y", " yes \n", "YES"] {
            assert!(approves(a), "{a}");
        }
        for a in ["", "\n", "n", "no", "yess", "sure"] {
            assert!(!approves(a), "{a}");
        }
    }
}
