//! The Kubernetes executor against a local fake API server (no cluster can
//! be had here; tests/common/fake_k8s.rs): the server implements the
//! endpoints the backend uses (create Job, list and watch Pods, read a log,
//! delete a Job), records every request, and plays a scenario for the pod.

mod common;
#[path = "common/fake_k8s.rs"]
mod fake_k8s;

use fake_k8s::{event, FakeApi, Reply, Routes, WatchStep};
use sandboxcore::exec::kubernetes::{job, KubernetesConfig, KubernetesExecutor};
use sandboxcore::exec::{ExecRequest, Executor, LeftoverKind};
use sandboxcore::Plan;
use serde_json::{json, Value};
use std::time::Duration;

const JOBS: &str = "/apis/batch/v1/namespaces/sandboxcore/jobs";
const PODS: &str = "/api/v1/namespaces/sandboxcore/pods";

#[derive(Clone, Default)]
struct Scenario {
    /// Status of the Job creation (201 unless an API error is played).
    create_status: u16,
    /// The pod's final `status`.
    final_status: Value,
    /// The container log.
    log: String,
    /// The first watch ends at once without events.
    drop_first_watch: bool,
    /// The watch never reports an end (for cancellation).
    hang: bool,
    /// Jobs the list endpoint returns (for gc).
    jobs: Vec<Value>,
}

fn pod(status: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "the-pod", "namespace": "sandboxcore", "resourceVersion": "7"},
        "status": status
    })
}

fn terminated(exit: i32, reason: &str) -> Value {
    json!({"phase": if exit == 0 { "Succeeded" } else { "Failed" }, "containerStatuses": [{
        "name": "command", "image": "img", "imageID": "", "ready": false, "restartCount": 0,
        "state": {"terminated": {"exitCode": exit, "reason": reason}}
    }]})
}

/// The API server of `scenario`: the endpoints the backend uses (create,
/// list and delete Jobs; list and watch Pods; read a log).
async fn start(scenario: Scenario) -> FakeApi {
    let s = scenario.clone();
    let routes = Routes::new()
        .on("POST", JOBS, move |r, _| {
            if s.create_status != 201 {
                return Reply::failure(403, "Forbidden", "jobs.batch is forbidden");
            }
            let mut j = r.body.clone().unwrap_or(json!({}));
            j["metadata"]["resourceVersion"] = json!("1");
            j["metadata"]["uid"] = json!("u-1");
            Reply::Json(201, j)
        })
        .on("GET", JOBS, {
            let jobs = scenario.jobs.clone();
            move |_, _| Reply::list("batch/v1", "JobList", jobs.clone())
        })
        .on("DELETE", &format!("{JOBS}/"), |_, _| Reply::success())
        .on("GET", PODS, |_, _| Reply::list("v1", "PodList", vec![]))
        .watch(PODS, {
            let s = scenario.clone();
            move |_, n| {
                if s.drop_first_watch && n == 1 {
                    return Reply::Watch(vec![]);
                }
                let mut steps = vec![
                    event("ADDED", pod(json!({"phase": "Pending"}))),
                    WatchStep::Wait(Duration::from_millis(50)),
                ];
                if s.hang {
                    steps.push(WatchStep::Wait(Duration::from_secs(3600)));
                }
                steps.push(event("MODIFIED", pod(s.final_status.clone())));
                Reply::Watch(steps)
            }
        })
        .on("GET", &format!("{PODS}/the-pod/log"), move |_, _| {
            Reply::Text(200, scenario.log.clone())
        });
    FakeApi::start(routes).await
}

fn executor(fake: &FakeApi) -> KubernetesExecutor {
    KubernetesExecutor::with_client(
        fake.client(),
        KubernetesConfig::new("registry.local/agent:1"),
    )
}

fn request() -> ExecRequest {
    let mut r = ExecRequest::new(Plan::Direct(vec!["pytest".into(), "-q".into()]));
    r.limits.timeout = Some(Duration::from_secs(30));
    r
}

fn ok_scenario() -> Scenario {
    Scenario {
        create_status: 201,
        final_status: terminated(0, "Completed"),
        log: "3 passed\n".into(),
        ..Scenario::default()
    }
}

#[tokio::test]
async fn success_sends_the_exact_job_and_deletes_it() {
    let fake = start(ok_scenario()).await;
    let out = executor(&fake).execute(request()).await.unwrap();
    assert_eq!(out.exit_code, Some(0));
    assert_eq!(out.stdout_text(), "3 passed\n");
    assert!(!out.timed_out && !out.oom_killed);
    // What was enforced: the backend's capabilities (a memory limit was
    // set), never network isolation (the NetworkPolicy is not checked).
    let caps = executor(&fake).capabilities();
    assert_eq!(out.enforced, caps);
    assert!(out.enforced.memory_limit && out.enforced.read_only_root);
    assert!(!out.enforced.network_isolation);
    let reqs = fake.requests();
    let create = reqs.iter().find(|r| r.method == "POST").unwrap();
    let mut sent = create.body.clone().unwrap();
    let name = sent["metadata"]["name"].as_str().unwrap().to_string();
    assert!(name.starts_with("sandboxcore-"));
    // The body is exactly the Job the spec builder makes for this run.
    let run_id = name.trim_start_matches("sandboxcore-");
    let mut expected = serde_json::to_value(
        job(
            &request(),
            &KubernetesConfig::new("registry.local/agent:1"),
            run_id,
        )
        .unwrap(),
    )
    .unwrap();
    for v in [&mut sent, &mut expected] {
        v["metadata"]["labels"]["sandboxcore.dev/run-id"] = json!("*");
        v["spec"]["template"]["metadata"]["labels"]["sandboxcore.dev/run-id"] = json!("*");
    }
    assert_eq!(sent, expected);
    let c = &sent["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["command"], json!(["pytest", "-q"]));
    assert_eq!(c["securityContext"]["capabilities"]["drop"], json!(["ALL"]));
    assert!(
        reqs.iter().any(|r| r.method == "GET"
            && r.path == PODS
            && r.is_watch()
            && r.has_param("labelSelector", &format!("job-name%3D{name}"))),
        "{reqs:?}"
    );
    assert!(
        reqs.iter()
            .any(|r| r.path == format!("{PODS}/the-pod/log") && r.has_param("container", "command")),
        "{reqs:?}"
    );
    let delete = reqs
        .iter()
        .find(|r| r.method == "DELETE")
        .expect("the Job is deleted");
    assert_eq!(delete.path, format!("{JOBS}/{name}"));
    assert_eq!(
        delete.body.as_ref().unwrap()["propagationPolicy"],
        "Foreground"
    );
}

#[tokio::test]
async fn exit_codes_oom_and_deadlines_are_reported() {
    let fake = start(Scenario {
        final_status: terminated(3, "Error"),
        ..ok_scenario()
    })
    .await;
    assert_eq!(
        executor(&fake).execute(request()).await.unwrap().exit_code,
        Some(3)
    );

    let fake = start(Scenario {
        final_status: terminated(137, "OOMKilled"),
        ..ok_scenario()
    })
    .await;
    let out = executor(&fake).execute(request()).await.unwrap();
    assert!(out.oom_killed);
    assert_eq!(
        (out.exit_code, out.signal, out.status().as_str()),
        (None, Some(9), "oom")
    );

    let deadline = json!({"phase": "Failed", "reason": "DeadlineExceeded"});
    let fake = start(Scenario {
        final_status: deadline,
        ..ok_scenario()
    })
    .await;
    let out = executor(&fake).execute(request()).await.unwrap();
    assert!(out.timed_out);
}

#[tokio::test]
async fn image_pull_failures_and_api_errors_are_errors() {
    let waiting = json!({"phase": "Pending", "containerStatuses": [{
        "name": "command", "image": "img", "imageID": "", "ready": false, "restartCount": 0,
        "state": {"waiting": {"reason": "ErrImagePull", "message": "pull access denied"}}
    }]});
    let fake = start(Scenario {
        final_status: waiting,
        ..ok_scenario()
    })
    .await;
    let err = executor(&fake).execute(request()).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot start: ErrImagePull: pull access denied"),
        "{err}"
    );
    assert!(fake.requests().iter().any(|r| r.method == "DELETE"));

    let fake = start(Scenario {
        create_status: 403,
        ..ok_scenario()
    })
    .await;
    let err = executor(&fake).execute(request()).await.unwrap_err();
    assert!(err.to_string().contains("cannot create the Job"), "{err}");
    assert!(err.to_string().contains("forbidden"), "{err}");
}

#[tokio::test]
async fn a_dropped_watch_is_resumed() {
    let fake = start(Scenario {
        drop_first_watch: true,
        ..ok_scenario()
    })
    .await;
    let out = executor(&fake).execute(request()).await.unwrap();
    assert_eq!(out.exit_code, Some(0));
    let watches = fake.requests().iter().filter(|r| r.is_watch()).count();
    assert_eq!(watches, 2);
}

#[tokio::test]
async fn dropping_the_run_deletes_the_job() {
    let fake = start(Scenario {
        hang: true,
        ..ok_scenario()
    })
    .await;
    let exec = executor(&fake);
    let r = tokio::time::timeout(Duration::from_millis(500), exec.execute(request())).await;
    assert!(r.is_err(), "still running when dropped");
    for _ in 0..100 {
        if fake.requests().iter().any(|r| r.method == "DELETE") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no DELETE after the run was dropped: {:?}", fake.requests());
}

fn listed_job(name: &str, created: &str, deadline: i64, status: Value) -> Value {
    json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": "sandboxcore", "creationTimestamp": created,
                     "labels": {"sandboxcore.dev/managed": "true"}},
        "spec": {"activeDeadlineSeconds": deadline, "template": {"spec": {"containers": []}}},
        "status": status})
}

#[tokio::test]
async fn gc_deletes_finished_and_overdue_jobs_only() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let stamp = |secs_ago: u64| {
        humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH + Duration::from_secs(now - secs_ago),
        )
        .to_string()
    };
    let jobs = vec![
        listed_job(
            "sandboxcore-finished",
            &stamp(30),
            600,
            json!({"succeeded": 1}),
        ),
        listed_job("sandboxcore-running", &stamp(30), 600, json!({"active": 1})),
        listed_job(
            "sandboxcore-overdue",
            &stamp(7200),
            60,
            json!({"active": 1}),
        ),
    ];
    let fake = start(Scenario {
        jobs: jobs.clone(),
        ..ok_scenario()
    })
    .await;
    let n = executor(&fake).reap().await;
    assert_eq!(
        n.unwrap_or_else(|e| panic!("{e}: {:?}", fake.requests()))
            .count(LeftoverKind::Job),
        2
    );
    let reqs = fake.requests();
    let list = reqs.iter().find(|r| r.method == "GET").unwrap();
    assert_eq!(list.path, JOBS);
    assert!(
        list.has_param("labelSelector", "sandboxcore.dev%2Fmanaged%3Dtrue"),
        "{list:?}"
    );
    let deleted: Vec<&str> = reqs
        .iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.name())
        .collect();
    assert_eq!(deleted, ["sandboxcore-finished", "sandboxcore-overdue"]);
    let fake = start(Scenario {
        jobs,
        ..ok_scenario()
    })
    .await;
    let all = executor(&fake).reap_all().await.unwrap();
    assert_eq!(all.count(LeftoverKind::Job), 3);
}

#[tokio::test]
async fn stdin_is_refused_before_anything_is_created() {
    let fake = start(ok_scenario()).await;
    let mut req = request();
    req.stdin = Some(b"x".to_vec());
    assert!(executor(&fake).execute(req).await.is_err());
    assert!(fake.requests().is_empty());
}

/// An allowlist run goes through the configured egress proxy: the Job
/// sent carries the proxy's environment and the `allowlist` network label
/// (which the egress-proxy NetworkPolicy selects); without a proxy it is
/// refused before anything is created.
#[tokio::test]
async fn allowlist_runs_go_through_the_egress_proxy() {
    let fake = start(ok_scenario()).await;
    let mut req = request();
    req.network = sandboxcore::exec::Network::allowlist(
        sandboxcore::net::EgressRules::new(&["pypi.org".into()], &[], &[]).unwrap(),
    );
    let err = executor(&fake).execute(req.clone()).await.unwrap_err();
    assert!(err.to_string().contains("egress proxy"), "{err}");
    assert!(fake.requests().is_empty());

    let config = KubernetesConfig {
        egress_proxy: Some("http://10.96.0.12:3128".into()),
        ..KubernetesConfig::new("registry.local/agent:1")
    };
    let out = KubernetesExecutor::with_client(fake.client(), config)
        .execute(req)
        .await
        .unwrap();
    assert_eq!(out.exit_code, Some(0));
    let reqs = fake.requests();
    let sent = reqs.iter().find(|r| r.method == "POST").unwrap();
    let sent = sent.body.as_ref().unwrap();
    let env = &sent["spec"]["template"]["spec"]["containers"][0]["env"];
    for name in ["HTTP_PROXY", "HTTPS_PROXY", "https_proxy"] {
        assert!(
            env.as_array()
                .unwrap()
                .contains(&json!({"name": name, "value": "http://10.96.0.12:3128"})),
            "{name}: {env}"
        );
    }
    assert_eq!(
        sent["spec"]["template"]["metadata"]["labels"]["sandboxcore.dev/network"],
        "allowlist"
    );
    assert!(reqs.iter().any(|r| r.method == "DELETE"));
}

/// End to end against a real cluster (the one `kubectl` would use), which
/// these machines do not have: `SANDBOXCORE_K8S_E2E=1 cargo test --test
/// kubernetes -- --ignored`. The namespace must have been prepared with
/// `sandboxcore k8s manifests | kubectl apply -f -`; the image
/// (`SANDBOXCORE_K8S_IMAGE`, default `busybox:1.36`) must be pullable.
#[tokio::test]
#[ignore = "needs a Kubernetes cluster; set SANDBOXCORE_K8S_E2E=1"]
async fn end_to_end_on_a_real_cluster() {
    let cluster = std::env::var_os("SANDBOXCORE_K8S_E2E").is_some();
    if !common::skip_unless("a Kubernetes cluster (SANDBOXCORE_K8S_E2E=1)", cluster) {
        return;
    }
    let image = std::env::var("SANDBOXCORE_K8S_IMAGE").unwrap_or_else(|_| "busybox:1.36".into());
    let exec = KubernetesExecutor::infer(KubernetesConfig::new(image))
        .await
        .unwrap();
    let mut req = ExecRequest::new(Plan::Shell("echo hello; id -u".into()));
    req.limits.timeout = Some(Duration::from_secs(120));
    let out = exec.execute(req).await.unwrap();
    assert_eq!(out.exit_code, Some(0), "{out:?}");
    assert_eq!(out.stdout_text(), "hello\n1000\n");
}
