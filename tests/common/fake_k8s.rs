//! A fake Kubernetes API server for the Kubernetes backend's tests
//! (`tests/kubernetes.rs`; its own tests are in `tests/fake_k8s.rs`):
//! HTTP/1.1 on 127.0.0.1 (hyper), a table of routes, and a record of every
//! request.
//!
//! A route is a method and a path prefix (a whole number of `/` segments:
//! `/api/v1/pods` matches `/api/v1/pods/x`, not `/api/v1/podsx`); a GET with
//! `watch=true` in its query goes only to the routes declared with
//! [`Routes::watch`], any other request only to the others. The longest
//! matching prefix wins; a request no route matches gets a 404 `Status`.
//! A handler gets the request and how many times its route was hit (1 for
//! the first), and answers a [`Reply`]: JSON, text, or a watch stream
//! (chunked JSON lines, one event each, with waits between them).
#![allow(dead_code)]

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;

/// One request the server got.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query as sent (percent-encoded, without `?`), or empty.
    pub query: String,
    /// The body as JSON; `None` when empty or not JSON.
    pub body: Option<Value>,
}

impl Recorded {
    /// Whether the query has the parameter `key=value` (both as sent,
    /// percent-encoded).
    pub fn has_param(&self, key: &str, value: &str) -> bool {
        self.query
            .split('&')
            .any(|p| p.split_once('=') == Some((key, value)))
    }

    /// Whether this is a watch (`watch=true`).
    pub fn is_watch(&self) -> bool {
        self.has_param("watch", "true")
    }

    /// The last segment of the path (the object's name for a request on
    /// one object).
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or("")
    }
}

/// One step of a watch stream.
#[derive(Debug, Clone)]
pub enum WatchStep {
    /// A watch event: one JSON line `{"type": ..., "object": ...}`.
    Event(String, Value),
    /// A pause before the next step (a long one keeps the watch open).
    Wait(Duration),
}

/// A watch event of `kind` (`ADDED`, `MODIFIED`, `DELETED`, ...).
pub fn event(kind: &str, object: Value) -> WatchStep {
    WatchStep::Event(kind.into(), object)
}

/// What a handler answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A JSON body with this status.
    Json(u16, Value),
    /// A `text/plain` body (a container log) with this status.
    Text(u16, String),
    /// A 200 watch stream: the steps, then the end of the stream.
    Watch(Vec<WatchStep>),
}

impl Reply {
    /// 200 with a JSON body.
    pub fn ok(body: Value) -> Reply {
        Reply::Json(200, body)
    }

    /// A Kubernetes `Status` of failure, as the API server answers errors.
    pub fn failure(code: u16, reason: &str, message: &str) -> Reply {
        Reply::Json(
            code,
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                   "message": message, "reason": reason, "code": code}),
        )
    }

    /// A Kubernetes `Status` of success (what a DELETE may answer).
    pub fn success() -> Reply {
        Reply::ok(
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}),
        )
    }

    /// A list of `kind` (`PodList`, ...) of `items`.
    pub fn list(api_version: &str, kind: &str, items: Vec<Value>) -> Reply {
        Reply::ok(json!({"apiVersion": api_version, "kind": kind,
                         "metadata": {"resourceVersion": "1"}, "items": items}))
    }
}

type Handler = Arc<dyn Fn(&Recorded, usize) -> Reply + Send + Sync>;

struct Route {
    method: String,
    prefix: String,
    watch: bool,
    handler: Handler,
    hits: AtomicUsize,
}

impl Route {
    /// How long a prefix of `r`'s path this route is, if it matches.
    fn matches(&self, r: &Recorded) -> Option<usize> {
        let rest = r.path.strip_prefix(&self.prefix)?;
        let whole = rest.is_empty() || rest.starts_with('/') || self.prefix.ends_with('/');
        (self.method == r.method && self.watch == r.is_watch() && whole)
            .then_some(self.prefix.len())
    }
}

/// The route table of a [`FakeApi`].
#[derive(Default)]
pub struct Routes {
    routes: Vec<Route>,
}

impl Routes {
    /// No routes: every request gets a 404.
    pub fn new() -> Routes {
        Routes::default()
    }

    /// Requests of `method` under `prefix` (but watches) go to `handler`.
    pub fn on(
        mut self,
        method: &str,
        prefix: &str,
        handler: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static,
    ) -> Routes {
        self.routes.push(Route {
            method: method.to_ascii_uppercase(),
            prefix: prefix.into(),
            watch: false,
            handler: Arc::new(handler),
            hits: AtomicUsize::new(0),
        });
        self
    }

    /// Watches (GET with `watch=true`) under `prefix` go to `handler`.
    pub fn watch(
        mut self,
        prefix: &str,
        handler: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static,
    ) -> Routes {
        self = self.on("GET", prefix, handler);
        self.routes.last_mut().unwrap().watch = true;
        self
    }

    /// The reply of the route `r` goes to (the longest matching prefix).
    fn reply(&self, r: &Recorded) -> Reply {
        let best = self
            .routes
            .iter()
            .filter_map(|route| route.matches(r).map(|len| (len, route)))
            .max_by_key(|(len, _)| *len);
        match best {
            Some((_, route)) => {
                let n = route.hits.fetch_add(1, Ordering::SeqCst) + 1;
                (route.handler)(r, n)
            }
            None => Reply::failure(
                404,
                "NotFound",
                &format!(
                    "the fake API server has no route for {} {}",
                    r.method, r.path
                ),
            ),
        }
    }
}

type Body = BoxBody<Bytes, Infallible>;

fn response(status: u16, content_type: &str, body: Body) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(status).expect("a valid status"))
        .header("content-type", content_type)
        .body(body)
        .expect("a valid response")
}

impl Reply {
    fn into_response(self) -> Response<Body> {
        match self {
            Reply::Json(status, v) => response(
                status,
                "application/json",
                Full::new(Bytes::from(v.to_string())).boxed(),
            ),
            Reply::Text(status, text) => {
                response(status, "text/plain", Full::new(Bytes::from(text)).boxed())
            }
            Reply::Watch(steps) => {
                // No length: hyper sends it chunked, one chunk a line.
                let lines = futures_util::stream::unfold(steps.into_iter(), |mut steps| async {
                    loop {
                        match steps.next()? {
                            WatchStep::Wait(d) => tokio::time::sleep(d).await,
                            WatchStep::Event(kind, object) => {
                                let line = format!("{}\n", json!({"type": kind, "object": object}));
                                return Some((Ok(Frame::data(Bytes::from(line))), steps));
                            }
                        }
                    }
                });
                response(
                    200,
                    "application/json",
                    BodyExt::boxed(StreamBody::new(lines)),
                )
            }
        }
    }
}

/// A running fake API server; it stops when dropped.
pub struct FakeApi {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeApi {
    /// Starts a server answering by `routes` (on the current tokio runtime).
    pub async fn start(routes: Routes) -> FakeApi {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let routes = Arc::new(routes);
        let log = recorded.clone();
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (routes, log) = (routes.clone(), log.clone());
                let service = service_fn(move |req: Request<Incoming>| {
                    let (routes, log) = (routes.clone(), log.clone());
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let r = Recorded {
                            method: parts.method.to_string(),
                            path: parts.uri.path().to_string(),
                            query: parts.uri.query().unwrap_or("").to_string(),
                            body: serde_json::from_slice(&body).ok(),
                        };
                        log.lock().unwrap().push(r.clone());
                        Ok::<_, Infallible>(routes.reply(&r).into_response())
                    }
                });
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        FakeApi {
            url,
            recorded,
            server,
        }
    }

    /// Every request so far, in the order they came.
    pub fn requests(&self) -> Vec<Recorded> {
        self.recorded.lock().unwrap().clone()
    }

    /// The requests so far of `method`.
    pub fn requests_of(&self, method: &str) -> Vec<Recorded> {
        let mut all = self.requests();
        all.retain(|r| r.method == method);
        all
    }

    /// A kube client of this server.
    pub fn client(&self) -> kube::Client {
        kube::Client::try_from(kube::Config::new(self.url.parse().unwrap())).unwrap()
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}
