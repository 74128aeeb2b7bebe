//! The `Sandbox` facade with a test executor: decisions gate execution,
//! approvals are honoured, and decisions and executions are counted.

mod common;

use common::{block_on, TestExecutor};
use sandboxcore::policy::{DeploymentMode, Policy};
use sandboxcore::{Decision, Error, Plan, RunOptions, Sandbox, Verdict};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn sandbox(mode: DeploymentMode, exec: &TestExecutor) -> Sandbox {
    Sandbox::builder()
        .policy(Policy::for_mode(mode))
        .executor(exec.clone())
        .build()
        .unwrap()
}

#[test]
fn allowed_commands_run_with_the_decided_plan() {
    let exec = TestExecutor::default();
    let sb = sandbox(DeploymentMode::Selfhosted, &exec);
    let out = block_on(sb.run("pytest -q tests/", RunOptions::default())).unwrap();
    assert_eq!(out.stdout_text(), "ok\n");
    block_on(sb.run("npm run build && npm test", RunOptions::default())).unwrap();
    let reqs = exec.requests.lock().unwrap();
    assert_eq!(
        reqs[0].plan,
        Plan::Direct(vec!["pytest".into(), "-q".into(), "tests/".into()])
    );
    assert_eq!(
        reqs[1].plan,
        Plan::Shell("npm run build && npm test".into())
    );
}

#[test]
fn denied_commands_never_reach_the_executor() {
    let exec = TestExecutor::default();
    let sb = sandbox(DeploymentMode::SaasUnsandboxed, &exec);
    let err = block_on(sb.run("npm run build && npm test", RunOptions::default())).unwrap_err();
    let Error::Denied(d) = &err else {
        panic!("{err}")
    };
    assert_eq!(d.verdict, Verdict::Deny);
    assert!(
        err.to_string().contains("shell operators not allowed"),
        "{err}"
    );
    assert!(exec.requests.lock().unwrap().is_empty());
}

#[test]
fn ask_needs_an_approver() {
    let policy = Policy::from_yaml_str(
        "enforcement: enforce\nrequire_approval: ['*://external-domain.com/*']\n",
    )
    .unwrap();
    let exec = TestExecutor::default();
    let cmd = "curl -sS https://external-domain.com/data.json";
    let none = Sandbox::builder()
        .policy(policy.clone())
        .executor(exec.clone())
        .build()
        .unwrap();
    assert!(matches!(
        block_on(none.run(cmd, RunOptions::default())),
        Err(Error::ApprovalRequired(_))
    ));
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen2 = seen.clone();
    let yes = Sandbox::builder()
        .policy(policy.clone())
        .executor(exec.clone())
        .approver(move |d: &Decision| {
            seen2
                .lock()
                .unwrap()
                .push(d.matched_rule.clone().unwrap_or_default());
            true
        })
        .build()
        .unwrap();
    block_on(yes.run(cmd, RunOptions::default())).unwrap();
    assert_eq!(
        seen.lock().unwrap()[0],
        "require_approval[0]: *://external-domain.com/*"
    );
    let no = Sandbox::builder()
        .policy(policy)
        .executor(exec.clone())
        .approver(|_: &Decision| false)
        .build()
        .unwrap();
    assert!(matches!(
        block_on(no.run(cmd, RunOptions::default())),
        Err(Error::ApprovalRefused(_))
    ));
    assert_eq!(exec.requests.lock().unwrap().len(), 1);
}

#[test]
fn no_executor_and_unparsable_commands_are_errors() {
    let sb = Sandbox::builder().build().unwrap();
    assert!(matches!(
        block_on(sb.run("pytest", RunOptions::default())),
        Err(Error::NoExecutor)
    ));
    let sb = sandbox(DeploymentMode::Development, &TestExecutor::default());
    assert!(matches!(
        block_on(sb.run("echo 'open", RunOptions::default())),
        Err(Error::NotRunnable(_))
    ));
}

#[test]
fn metrics_count_decisions_and_executions_including_cancelled_runs() {
    let exec = TestExecutor::default();
    let sb = sandbox(DeploymentMode::SaasUnsandboxed, &exec);
    sb.check("pytest");
    let _ = block_on(sb.run("ls | wc -l", RunOptions::default()));
    block_on(sb.run("pytest", RunOptions::default())).unwrap();
    // A run whose future is dropped (here by a timeout) is audited as cancelled.
    let dev = sandbox(DeploymentMode::Development, &exec);
    block_on(async {
        let r = tokio::time::timeout(
            Duration::from_millis(20),
            dev.run("sleep 100", RunOptions::default()),
        );
        assert!(r.await.is_err(), "the test executor hangs on sleep");
    });
    let text = sb.metrics().encode();
    assert!(
        text.contains("sandboxcore_decisions_total{verdict=\"allow\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("sandboxcore_decisions_total{verdict=\"deny\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("sandboxcore_executions_total{backend=\"test\",status=\"ok\"} 1"),
        "{text}"
    );
    let dev_text = dev.metrics().encode();
    assert!(
        dev_text.contains("sandboxcore_executions_total{backend=\"test\",status=\"cancelled\"} 1"),
        "{dev_text}"
    );
}

#[test]
fn the_facade_runs_on_the_process_backend() {
    let exec = sandboxcore::exec::ProcessExecutor::new(Default::default()).unwrap();
    let sb = Sandbox::builder()
        .policy(Policy::for_mode(DeploymentMode::Selfhosted))
        .executor(exec)
        .build()
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = rt
        .block_on(sb.run(r#"python3 -c 'print("a; b")'"#, RunOptions::default()))
        .unwrap();
    assert_eq!(out.stdout_text(), "a; b\n");
    let out = rt
        .block_on(sb.run("echo one && echo two | tr a-z A-Z", RunOptions::default()))
        .unwrap();
    assert_eq!(out.stdout_text(), "one\nTWO\n");
    let text = sb.metrics().encode();
    assert!(
        text.contains("sandboxcore_executions_total{backend=\"process\",status=\"ok\"} 2"),
        "{text}"
    );
}
