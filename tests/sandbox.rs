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

#[test]
fn an_argv_runs_as_given_and_is_judged_as_that_argv() {
    let exec = TestExecutor::default();
    // Shell operators are denied here: an argv has none, whatever its
    // words contain.
    let sb = sandbox(DeploymentMode::SaasUnsandboxed, &exec);
    let argv: Vec<String> = ["pytest", "-k", "a; b | c $HOME *"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    block_on(sb.run_command(
        sandboxcore::Command::Argv(argv.clone()),
        RunOptions::default(),
    ))
    .unwrap();
    assert_eq!(
        exec.requests.lock().unwrap()[0].plan,
        Plan::Direct(argv.clone())
    );
    let d = sb.check_command(&sandboxcore::Command::Argv(argv));
    assert!(!d.classification.needs_shell);
    // What an argv runs through wrappers is judged as on a command line.
    let sb = sandbox(DeploymentMode::Selfhosted, &exec);
    let wrapped: Vec<String> = ["sudo", "bash", "-c", "rm -rf /"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let as_argv = sb.check_command(&sandboxcore::Command::Argv(wrapped));
    let as_line = sb.check("sudo bash -c 'rm -rf /'");
    assert_eq!(as_argv.verdict, as_line.verdict);
    assert_eq!(as_argv.classification.risk, sandboxcore::Risk::Critical);
    assert!(as_argv
        .classification
        .programs
        .iter()
        .any(|p| p.name.as_deref() == Some("rm")));
    // An empty argv is an input error.
    let err =
        block_on(sb.run_command(Vec::<String>::new().into(), RunOptions::default())).unwrap_err();
    assert!(matches!(err, Error::InvalidInput(_)), "{err}");
}

#[test]
fn environment_variables_that_run_code_need_approval() {
    let policy = Policy::from_yaml_str("enforcement: enforce\n").unwrap();
    let exec = TestExecutor::default();
    let run = |sb: &Sandbox, name: &str| {
        let options = RunOptions {
            env: [(name.to_string(), "/tmp/x".to_string())].into(),
            ..RunOptions::default()
        };
        block_on(sb.run("ls -l", options))
    };
    let sb = Sandbox::builder()
        .policy(policy.clone())
        .executor(exec.clone())
        .build()
        .unwrap();
    // `ls` would be allowed; with LD_PRELOAD or BASH_ENV it could run
    // anything, so it is put to an approver (and refused without one).
    for name in [
        "LD_PRELOAD",
        "BASH_ENV",
        "GIT_SSH_COMMAND",
        "npm_config_script_shell",
    ] {
        let err = run(&sb, name).unwrap_err();
        let Error::ApprovalRequired(d) = &err else {
            panic!("{name}: {err}")
        };
        assert_eq!(d.matched_rule.as_deref(), Some("run_env"), "{name}");
        assert!(d.reasons[0].message.contains(name), "{:?}", d.reasons);
    }
    assert!(exec.requests.lock().unwrap().is_empty());
    // Harmless variables and module search paths do not change the verdict.
    for name in ["CI", "PYTHONPATH", "GIT_AUTHOR_NAME"] {
        run(&sb, name).unwrap();
    }
    // An approver can let it through.
    let approved = Sandbox::builder()
        .policy(policy)
        .executor(exec.clone())
        .approver(|d: &Decision| d.matched_rule.as_deref() == Some("run_env"))
        .build()
        .unwrap();
    run(&approved, "LD_PRELOAD").unwrap();
    assert_eq!(exec.requests.lock().unwrap().len(), 4);
}
