//! The fake Kubernetes API server of the tests (tests/common/fake_k8s.rs):
//! its routing, its record of requests and its watch streams, seen on the
//! wire and through kube's client.

#[path = "common/fake_k8s.rs"]
mod fake_k8s;

use fake_k8s::{event, FakeApi, Recorded, Reply, Routes, WatchStep};
use futures_util::TryStreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams, WatchEvent, WatchParams};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PODS: &str = "/api/v1/namespaces/ns/pods";

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": "ns", "resourceVersion": "3"}})
}

/// One raw HTTP/1.1 request (`Connection: close`); the whole answer.
async fn raw(fake: &FakeApi, method: &str, target: &str, body: &str) -> String {
    let addr = fake.url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_string(&mut out))
        .await
        .expect("the answer within 10 s")
        .unwrap();
    out
}

fn status_of(answer: &str) -> &str {
    answer.split(' ').nth(1).unwrap_or("")
}

#[tokio::test]
async fn the_longest_matching_prefix_of_the_method_and_kind_answers() {
    let fake = FakeApi::start(
        Routes::new()
            .on("GET", PODS, |_, _| Reply::Text(200, "pods".into()))
            .on("GET", &format!("{PODS}/a/log"), |_, _| {
                Reply::Text(200, "log".into())
            })
            .on("DELETE", PODS, |_, _| Reply::Text(200, "deleted".into()))
            .watch(PODS, |_, _| Reply::Watch(vec![])),
    )
    .await;
    let body = |answer: String| answer.rsplit("\r\n\r\n").next().unwrap().to_string();
    assert_eq!(body(raw(&fake, "GET", PODS, "").await), "pods");
    assert_eq!(
        body(raw(&fake, "GET", &format!("{PODS}/a"), "").await),
        "pods"
    );
    assert_eq!(
        body(raw(&fake, "GET", &format!("{PODS}/a/log?container=c"), "").await),
        "log"
    );
    assert_eq!(
        body(raw(&fake, "DELETE", &format!("{PODS}/a"), "").await),
        "deleted"
    );
    // A watch goes to the watch route only; a plain GET never does.
    let w = raw(&fake, "GET", &format!("{PODS}?watch=true"), "").await;
    assert!(
        w.to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{w}"
    );
    assert!(!w.contains("pods"), "{w}");
    // Prefixes are whole segments; other methods and paths get a 404 Status.
    for (method, target) in [
        ("GET", format!("{PODS}x")),
        ("POST", PODS.to_string()),
        ("GET", "/api/v1/namespaces/ns".to_string()),
    ] {
        let a = raw(&fake, method, &target, "").await;
        assert_eq!(status_of(&a), "404", "{method} {target}: {a}");
        assert!(a.contains(r#""reason":"NotFound""#), "{a}");
    }
}

#[tokio::test]
async fn every_request_is_recorded_with_its_query_and_json_body() {
    let fake = FakeApi::start(Routes::new().on("POST", PODS, |r, n| {
        Reply::Json(201, json!({"seen": r.body.clone(), "n": n}))
    }))
    .await;
    let a = raw(
        &fake,
        "POST",
        &format!("{PODS}?fieldManager=x&dryRun=All"),
        r#"{"a": 1}"#,
    )
    .await;
    assert_eq!(status_of(&a), "201", "{a}");
    assert!(a.ends_with(r#"{"n":1,"seen":{"a":1}}"#), "{a}");
    let a = raw(&fake, "POST", PODS, "not json").await;
    assert!(a.ends_with(r#"{"n":2,"seen":null}"#), "{a}");
    raw(&fake, "GET", "/nowhere", "").await;
    let reqs = fake.requests();
    assert_eq!(
        reqs[0],
        Recorded {
            method: "POST".into(),
            path: PODS.into(),
            query: "fieldManager=x&dryRun=All".into(),
            body: Some(json!({"a": 1})),
        }
    );
    assert!(reqs[0].has_param("dryRun", "All") && !reqs[0].has_param("dryRun", "x"));
    assert!(!reqs[0].is_watch());
    assert_eq!((reqs[1].body.as_ref(), reqs[1].query.as_str()), (None, ""));
    // Unrouted requests are recorded too.
    assert_eq!(reqs[2].path, "/nowhere");
    assert_eq!(reqs.len(), 3);
    assert_eq!(fake.requests_of("POST").len(), 2);
}

/// The stream is chunked JSON lines, each event sent when its turn comes
/// (not buffered to the end); the route counts its watches.
#[tokio::test]
async fn watch_streams_are_chunked_json_lines_sent_as_they_come() {
    let fake = FakeApi::start(Routes::new().watch(PODS, |_, n| {
        Reply::Watch(vec![
            event("ADDED", pod(&format!("p{n}"))),
            WatchStep::Wait(Duration::from_millis(300)),
            event("DELETED", pod(&format!("p{n}"))),
        ])
    }))
    .await;
    let addr = fake.url.trim_start_matches("http://").to_string();
    let mut s = TcpStream::connect(&addr).await.unwrap();
    let req =
        format!("GET {PODS}?watch=true HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0; 4096];
    // The first event arrives before the wait is over.
    while !String::from_utf8_lossy(&got).contains(r#""type":"ADDED""#) {
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    assert!(started.elapsed() < Duration::from_millis(300));
    s.read_to_end(&mut got).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    let text = String::from_utf8(got).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(
        head.to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    // Chunks: size, data, ...; each event one line of JSON.
    let mut lines = Vec::new();
    let mut rest = body;
    loop {
        let (size, after) = rest.split_once("\r\n").unwrap();
        let size = usize::from_str_radix(size, 16).unwrap();
        if size == 0 {
            break;
        }
        lines.push(after[..size].to_string());
        rest = &after[size + 2..];
    }
    assert_eq!(lines.len(), 2, "{lines:?}");
    let events: Vec<Value> = lines
        .iter()
        .map(|l| {
            assert!(l.ends_with('\n') && l.matches('\n').count() == 1, "{l:?}");
            serde_json::from_str(l).unwrap()
        })
        .collect();
    assert_eq!(events[0], json!({"type": "ADDED", "object": pod("p1")}));
    assert_eq!(events[1]["type"], "DELETED");
    // The second watch is the route's second hit.
    let again = raw(&fake, "GET", &format!("{PODS}?watch=true"), "").await;
    assert!(again.contains(r#""name":"p2""#), "{again}");
}

/// kube's own client talks to it: a create gets the handler's object, a
/// watch yields the events in order, an unknown object is a 404 error.
#[tokio::test]
async fn kubes_client_reads_its_objects_watches_and_errors() {
    let fake = FakeApi::start(
        Routes::new()
            .on("POST", PODS, |r, _| {
                Reply::Json(201, r.body.clone().unwrap())
            })
            .on("GET", &format!("{PODS}/gone"), |_, _| {
                Reply::failure(404, "NotFound", "pods \"gone\" not found")
            })
            .watch(PODS, |_, _| {
                Reply::Watch(vec![event("ADDED", pod("a")), event("MODIFIED", pod("b"))])
            }),
    )
    .await;
    let pods: Api<Pod> = Api::namespaced(fake.client(), "ns");
    let made = pods
        .create(
            &PostParams::default(),
            &serde_json::from_value(pod("new")).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(made.metadata.name.as_deref(), Some("new"));
    let sent = &fake.requests_of("POST")[0];
    assert_eq!(sent.body.as_ref().unwrap()["metadata"]["name"], "new");

    let names: Vec<String> = pods
        .watch(&WatchParams::default().labels("app=x"), "0")
        .await
        .unwrap()
        .map_ok(|e| match e {
            WatchEvent::Added(p) => format!("added {}", p.metadata.name.unwrap()),
            WatchEvent::Modified(p) => format!("modified {}", p.metadata.name.unwrap()),
            other => format!("{other:?}"),
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(names, ["added a", "modified b"]);
    let w = fake.requests().into_iter().find(|r| r.is_watch()).unwrap();
    assert!(w.has_param("labelSelector", "app%3Dx"), "{w:?}");

    let err = pods.get("gone").await.unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 404 && s.reason == "NotFound"),
        "{err:?}"
    );
    // No route: kube sees the fake's 404 Status too.
    let err = pods.get("nothing-routes-here").await.unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 404 && s.message.contains("no route")),
        "{err:?}"
    );
    assert_eq!(
        fake.requests().last().unwrap().name(),
        "nothing-routes-here"
    );
}
