//! The Kubernetes executor against a local fake API server (no cluster can
//! be had here): the server implements the endpoints the backend uses
//! (create Job, list and watch Pods, read a log, delete a Job), records
//! every request, and plays a scenario for the pod.

use sandboxcore::exec::kubernetes::{job, KubernetesConfig, KubernetesExecutor};
use sandboxcore::exec::{ExecRequest, Executor, LeftoverKind};
use sandboxcore::Plan;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

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

#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    target: String,
    body: Option<Value>,
}

struct Fake {
    url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Fake {
    fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
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

async fn respond(w: &mut tokio::net::tcp::OwnedWriteHalf, status: u16, body: &str, kind: &str) {
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let _ = w.write_all(head.as_bytes()).await;
    let _ = w.write_all(body.as_bytes()).await;
}

async fn start(scenario: Scenario) -> Fake {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let recorded = requests.clone();
    let watches = Arc::new(Mutex::new(0usize));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (scenario, recorded, watches) =
                (scenario.clone(), recorded.clone(), watches.clone());
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut r = BufReader::new(r);
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let mut parts = line.split_whitespace();
                    let method = parts.next().unwrap_or("").to_string();
                    let target = parts.next().unwrap_or("").to_string();
                    let mut length = 0usize;
                    loop {
                        let mut h = String::new();
                        if r.read_line(&mut h).await.unwrap_or(0) == 0 {
                            return;
                        }
                        if h == "\r\n" {
                            break;
                        }
                        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if r.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    let body_json = serde_json::from_slice(&body).ok();
                    recorded.lock().unwrap().push(Recorded {
                        method: method.clone(),
                        target: target.clone(),
                        body: body_json.clone(),
                    });
                    let path = target.split('?').next().unwrap_or("").to_string();
                    let json_kind = "application/json";
                    match (method.as_str(), path.as_str()) {
                        ("POST", "/apis/batch/v1/namespaces/sandboxcore/jobs") => {
                            if scenario.create_status != 201 {
                                let status = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                    "message": "jobs.batch is forbidden", "reason": "Forbidden", "code": 403});
                                respond(&mut w, 403, &status.to_string(), json_kind).await;
                            } else {
                                let mut j = body_json.unwrap_or(json!({}));
                                j["metadata"]["resourceVersion"] = json!("1");
                                j["metadata"]["uid"] = json!("u-1");
                                respond(&mut w, 201, &j.to_string(), json_kind).await;
                            }
                        }
                        ("GET", "/apis/batch/v1/namespaces/sandboxcore/jobs") => {
                            let list = json!({"apiVersion": "batch/v1", "kind": "JobList",
                                "metadata": {"resourceVersion": "9"}, "items": scenario.jobs});
                            respond(&mut w, 200, &list.to_string(), json_kind).await;
                        }
                        ("GET", "/api/v1/namespaces/sandboxcore/pods")
                            if target.contains("watch=true") =>
                        {
                            let n = {
                                let mut c = watches.lock().unwrap();
                                *c += 1;
                                *c
                            };
                            let _ = w
                                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
                                .await;
                            let chunk = |v: Value| {
                                let s = format!("{}\n", v);
                                format!("{:x}\r\n{}\r\n", s.len(), s)
                            };
                            if !(scenario.drop_first_watch && n == 1) {
                                let pending = json!({"type": "ADDED", "object": pod(json!({"phase": "Pending"}))});
                                let _ = w.write_all(chunk(pending).as_bytes()).await;
                                tokio::time::sleep(Duration::from_millis(50)).await;
                                if scenario.hang {
                                    tokio::time::sleep(Duration::from_secs(3600)).await;
                                }
                                let done = json!({"type": "MODIFIED", "object": pod(scenario.final_status.clone())});
                                let _ = w.write_all(chunk(done).as_bytes()).await;
                            }
                            let _ = w.write_all(b"0\r\n\r\n").await;
                        }
                        ("GET", "/api/v1/namespaces/sandboxcore/pods") => {
                            let list = json!({"apiVersion": "v1", "kind": "PodList",
                                "metadata": {"resourceVersion": "5"}, "items": []});
                            respond(&mut w, 200, &list.to_string(), json_kind).await;
                        }
                        ("GET", "/api/v1/namespaces/sandboxcore/pods/the-pod/log") => {
                            respond(&mut w, 200, &scenario.log, "text/plain").await;
                        }
                        ("DELETE", p)
                            if p.starts_with("/apis/batch/v1/namespaces/sandboxcore/jobs/") =>
                        {
                            let status = json!({"kind": "Status", "apiVersion": "v1", "status": "Success", "metadata": {}});
                            respond(&mut w, 200, &status.to_string(), json_kind).await;
                        }
                        _ => respond(&mut w, 404, "{}", json_kind).await,
                    }
                }
            });
        }
    });
    Fake { url, requests }
}

fn executor(fake: &Fake) -> KubernetesExecutor {
    let config = kube::Config::new(fake.url.parse().unwrap());
    let client = kube::Client::try_from(config).unwrap();
    KubernetesExecutor::with_client(client, KubernetesConfig::new("registry.local/agent:1"))
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
    assert!(reqs.iter().any(|r| r.method == "GET"
        && r.target.contains("watch=true")
        && r.target.contains(&format!("job-name%3D{name}"))));
    assert!(reqs.iter().any(|r| r
        .target
        .starts_with("/api/v1/namespaces/sandboxcore/pods/the-pod/log")
        && r.target.contains("container=command")));
    let delete = reqs
        .iter()
        .find(|r| r.method == "DELETE")
        .expect("the Job is deleted");
    let delete_path = delete.target.split('?').next().unwrap();
    assert!(delete_path.ends_with(&name), "{}", delete.target);
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
    let watches = fake
        .requests()
        .iter()
        .filter(|r| r.target.contains("watch=true"))
        .count();
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
    assert!(
        list.target
            .contains("labelSelector=sandboxcore.dev%2Fmanaged%3Dtrue"),
        "{}",
        list.target
    );
    let deleted: Vec<&str> = reqs
        .iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| {
            r.target
                .split('?')
                .next()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
        })
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
    let client = kube::Client::try_from(kube::Config::new(fake.url.parse().unwrap())).unwrap();
    let out = KubernetesExecutor::with_client(client, config)
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
    if std::env::var_os("SANDBOXCORE_K8S_E2E").is_none() {
        eprintln!("skipped: SANDBOXCORE_K8S_E2E is not set");
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
