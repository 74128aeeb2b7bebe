//! Approval scopes: once, session (shared by clones), persist.

use super::*;
use crate::exec::{Capabilities, ExecOutcome};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs nothing and succeeds.
struct Noop;

impl Executor for Noop {
    fn kind(&self) -> BackendKind {
        BackendKind::Process
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }
    fn execute_streaming(
        &self,
        _: ExecRequest,
        _: EventSender,
    ) -> BoxFuture<'_, Result<ExecOutcome>> {
        Box::pin(async {
            Ok(ExecOutcome {
                exit_code: Some(0),
                ..Default::default()
            })
        })
    }
}

/// Answers `answer` and counts the questions.
struct Scoped {
    answer: std::result::Result<Approval, String>,
    asked: Arc<AtomicUsize>,
}

impl Approver for Scoped {
    fn approve<'a>(&'a self, _: &'a Decision) -> BoxFuture<'a, bool> {
        unreachable!("the sandbox calls approval()")
    }
    fn approval<'a>(
        &'a self,
        _: &'a Decision,
    ) -> BoxFuture<'a, std::result::Result<Approval, String>> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        let a = self.answer.clone();
        Box::pin(async move { a })
    }
}

fn sandbox(
    answer: std::result::Result<Approval, String>,
    file: Option<&std::path::Path>,
    audit: Option<&std::path::Path>,
) -> (Sandbox, Arc<AtomicUsize>) {
    let asked = Arc::new(AtomicUsize::new(0));
    // `ask`: npm is not listed, and require_approval asks for this host.
    let policy = Policy::from_yaml_str(
        "enforcement: enforce\nallowed_commands: [pytest, curl]\n\
         require_approval: [\"*://external-domain.com/*\"]\n",
    )
    .unwrap();
    let mut b = Sandbox::builder()
        .policy(policy)
        .executor(Noop)
        .approver(Scoped {
            answer,
            asked: asked.clone(),
        });
    if let Some(f) = file {
        b = b.policy_file(f);
    }
    if let Some(a) = audit {
        b = b.audit(AuditLog::with_jsonl(a).unwrap());
    }
    (b.build().unwrap(), asked)
}

const ASKS: &str = "curl -s https://external-domain.com/api";

#[tokio::test]
async fn once_asks_every_time_and_session_asks_once_for_every_clone() {
    let (sb, asked) = sandbox(Ok(Approval::Once), None, None);
    sb.run(ASKS, RunOptions::default()).await.unwrap();
    sb.run(ASKS, RunOptions::default()).await.unwrap();
    assert_eq!(asked.load(Ordering::SeqCst), 2);

    let (sb, asked) = sandbox(Ok(Approval::Session), None, None);
    let clone = sb.clone();
    assert_eq!(sb.check(ASKS).verdict, Verdict::Ask);
    sb.run(ASKS, RunOptions::default()).await.unwrap();
    sb.run(ASKS, RunOptions::default()).await.unwrap();
    clone.run(ASKS, RunOptions::default()).await.unwrap();
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    assert_eq!(clone.check(ASKS).verdict, Verdict::Allow);
    assert_eq!(sb.session_rules().len(), 1);
    // Another host still asks; the base policy is unchanged.
    assert_eq!(
        sb.check("curl -s https://external-domain.com/other")
            .verdict,
        Verdict::Ask
    );
    assert_eq!(sb.policy().check(ASKS).verdict, Verdict::Ask);
    // A sandbox with another approver shares the session too.
    let other = sb.with_approver(|_: &Decision| false);
    other.run(ASKS, RunOptions::default()).await.unwrap();
}

#[tokio::test]
async fn deny_and_failures_do_not_run() {
    let (sb, _) = sandbox(Ok(Approval::Deny), None, None);
    let e = sb.run(ASKS, RunOptions::default()).await.unwrap_err();
    assert!(matches!(e, Error::ApprovalRefused(_)), "{e}");
    let (sb, _) = sandbox(Err("bad answer".into()), None, None);
    let e = sb.run(ASKS, RunOptions::default()).await.unwrap_err();
    assert!(
        matches!(&e, Error::ApprovalFailed { reason, .. } if reason == "bad answer"),
        "{e}"
    );
    assert!(sb.session_rules().is_empty());
}

#[tokio::test]
async fn persist_writes_the_policy_file_or_says_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.yml");
    let text = "# mine\nenforcement: enforce\nallowed_commands: [pytest, curl]\n\
                require_approval: [\"*://external-domain.com/*\"]\n";
    std::fs::write(&file, text).unwrap();
    let audit = dir.path().join("audit.jsonl");
    let (sb, asked) = sandbox(Ok(Approval::Persist), Some(&file), Some(&audit));
    sb.run(ASKS, RunOptions::default()).await.unwrap();
    sb.run(ASKS, RunOptions::default()).await.unwrap();
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(written.starts_with(text), "{written}");
    assert_eq!(
        Policy::load(Some(&file)).unwrap().check(ASKS).verdict,
        Verdict::Allow
    );
    let log = std::fs::read_to_string(&audit).unwrap();
    assert!(log.contains("\"approval\":\"persist\""), "{log}");

    // No policy file: kept for the session, and the audit record says so.
    let audit2 = dir.path().join("audit2.jsonl");
    let (sb, asked) = sandbox(Ok(Approval::Persist), None, Some(&audit2));
    sb.run(ASKS, RunOptions::default()).await.unwrap();
    sb.run(ASKS, RunOptions::default()).await.unwrap();
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    let log = std::fs::read_to_string(&audit2).unwrap();
    assert!(log.contains("\"approval\":\"session\""), "{log}");
    assert!(log.contains("no policy file"), "{log}");
}

#[test]
fn answers_parse_in_core() {
    assert_eq!("Session ".parse::<Approval>(), Ok(Approval::Session));
    assert_eq!("persist".parse::<Approval>(), Ok(Approval::Persist));
    assert_eq!(Approval::from(true), Approval::Once);
    assert_eq!(Approval::from(false), Approval::Deny);
    let e = "always".parse::<Approval>().unwrap_err();
    assert!(e.contains("\"always\"") && e.contains("persist"), "{e}");
}
