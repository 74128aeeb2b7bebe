//! The proxy's HTTP side: `CONNECT host:port` tunnels (TLS only, the
//! ClientHello's server name checked against the CONNECT host) and
//! absolute-form `http://` requests (the `Host` header checked against the
//! URL), each through the gate. Refusals answer with a status, an
//! `X-Sandboxcore-Refused` header and a body that name the rule.

use super::gate::{self, Opened, Refusal};
use super::proxy::RunProxy;
use super::rules::{HostVerdict, NormalizedHost};
use super::sni::{client_hello_server_name, SniParse};
use crate::audit::{ConnectionRecord, ConnectionVerdict};
use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, HOST};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// How long a client may take to send a request's headers, or a tunnel's
/// TLS ClientHello.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest ClientHello read before giving up on it.
const MAX_HELLO: usize = 64 * 1024;
/// Buffer size for each direction of a tunnel: 256 KiB carries a bulk
/// download at 0.5x to 0.8x the direct rate on loopback, 64 KiB at about
/// 0.4x (`cargo bench --bench egress`); 512 KiB per open tunnel.
const TUNNEL_BUFFER: usize = 256 * 1024;
/// The header that says why the proxy refused.
pub const REFUSED_HEADER: &str = "x-sandboxcore-refused";

type ProxyBody = BoxBody<Bytes, hyper::Error>;

/// Serves one client connection (several requests, kept alive): a TCP
/// connection, or one over a Unix socket (the Docker backend's).
pub(crate) async fn serve_client<S>(run: Arc<RunProxy>, stream: S)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| {
        let run = run.clone();
        async move { Ok::<_, Infallible>(handle(run, req).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(CLIENT_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades()
        .await;
}

async fn handle(run: Arc<RunProxy>, req: Request<Incoming>) -> Response<ProxyBody> {
    if req.method() == Method::CONNECT {
        connect(run, req).await
    } else {
        forward(run, req).await
    }
}

/// A response with `status` and a one-line text body.
fn text(status: StatusCode, body: String) -> Response<ProxyBody> {
    let mut r = Response::new(full(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn full(body: impl Into<Bytes>) -> ProxyBody {
    Full::new(body.into())
        .map_err(|never: Infallible| match never {})
        .boxed()
}

/// Records the refusal and answers it.
fn refuse(run: &RunProxy, method: &str, refusal: Refusal, started: Instant) -> Response<ProxyBody> {
    let verdict = refusal.verdict();
    run.egress.record(ConnectionRecord::new(
        method,
        &refusal.host,
        refusal.port,
        verdict,
        refusal.rule.as_deref(),
        &refusal.reason,
        (0, 0),
        started.elapsed(),
    ));
    let what = if verdict == ConnectionVerdict::Refused {
        "refused"
    } else {
        "failed"
    };
    let mut r = text(
        refusal.status,
        format!(
            "sandboxcore: connection to {}:{} {what}: {}\n",
            refusal.host, refusal.port, refusal.reason
        ),
    );
    r.headers_mut().insert(
        HeaderName::from_static(REFUSED_HEADER),
        header_value(&refusal.reason),
    );
    // A refused client is not kept waiting for another request.
    r.headers_mut()
        .insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// `text` as a header value (visible ASCII; anything else as `?`).
fn header_value(text: &str) -> HeaderValue {
    let clean: String = text
        .chars()
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .collect();
    HeaderValue::from_str(&clean).unwrap_or_else(|_| HeaderValue::from_static("refused"))
}

fn bad_request(run: &RunProxy, method: &str, host: &str, reason: &str) -> Response<ProxyBody> {
    refuse(
        run,
        method,
        Refusal {
            status: StatusCode::BAD_REQUEST,
            host: host.to_string(),
            port: 0,
            rule: None,
            reason: reason.to_string(),
        },
        Instant::now(),
    )
}

async fn connect(run: Arc<RunProxy>, mut req: Request<Incoming>) -> Response<ProxyBody> {
    let started = Instant::now();
    let Some(authority) = req.uri().authority().cloned() else {
        return bad_request(&run, "CONNECT", "", "CONNECT needs host:port");
    };
    let Some(port) = authority.port_u16() else {
        return bad_request(&run, "CONNECT", authority.host(), "CONNECT needs a port");
    };
    let opened = match gate::open(&run.egress, &run.approvals, authority.host(), port, None).await {
        Ok(o) => o,
        Err(refusal) => return refuse(&run, "CONNECT", refusal, started),
    };
    let upgrade = hyper::upgrade::on(&mut req);
    let r = run.clone();
    run.spawn(async move {
        let Opened {
            host,
            host_text,
            stream,
            address,
            rule,
        } = opened;
        let ongoing = Ongoing::new(&r, "CONNECT", host_text, port, rule, address, started);
        let (verdict, reason, bytes) = match upgrade.await {
            Ok(client) => {
                let upstream = Counted {
                    stream,
                    counts: ongoing.counts.clone(),
                };
                tunnel(&r, TokioIo::new(client), upstream, &host).await
            }
            Err(e) => (
                ConnectionVerdict::Failed,
                format!("the client left before the tunnel opened: {e}"),
                (0, 0),
            ),
        };
        ongoing.finish(verdict, &reason, bytes);
    });
    Response::new(full(Bytes::new()))
}

/// Checks the tunnel's ClientHello and carries bytes both ways until both
/// sides are done. Returns the verdict, why, and the bytes up and down.
async fn tunnel<C>(
    run: &RunProxy,
    mut client: C,
    mut upstream: Counted<TcpStream>,
    host: &NormalizedHost,
) -> (ConnectionVerdict, String, (u64, u64))
where
    C: AsyncRead + AsyncWrite + Unpin,
{
    let mut hello = Vec::with_capacity(2048);
    let deadline = tokio::time::Instant::now() + CLIENT_TIMEOUT;
    let name = loop {
        match client_hello_server_name(&hello) {
            SniParse::Incomplete { .. } if hello.len() < MAX_HELLO => {}
            SniParse::Incomplete { .. } => {
                return refused_tunnel("the TLS ClientHello is too large".into())
            }
            SniParse::NotTls => {
                return refused_tunnel(
                    "the tunnel does not carry TLS (send plain HTTP as absolute-form \
                     requests)"
                        .into(),
                )
            }
            SniParse::Malformed(why) => {
                return refused_tunnel(format!("malformed TLS ClientHello: {why}"))
            }
            SniParse::NoServerName => break None,
            SniParse::ServerName(n) => break Some(n),
        }
        match tokio::time::timeout_at(deadline, client.read_buf(&mut hello)).await {
            Ok(Ok(0)) => {
                return (
                    ConnectionVerdict::Failed,
                    "the client closed the tunnel before its TLS ClientHello".into(),
                    (0, 0),
                )
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                return (
                    ConnectionVerdict::Failed,
                    format!("reading the ClientHello: {e}"),
                    (0, 0),
                )
            }
            Err(_) => return refused_tunnel("no TLS ClientHello within 10 s".into()),
        }
    };
    if let Some(name) = &name {
        if let Some(why) = server_name_mismatch(run, host, name) {
            return refused_tunnel(why);
        }
    }
    if let Err(e) = upstream.write_all(&hello).await {
        return (
            ConnectionVerdict::Failed,
            format!("writing to the upstream: {e}"),
            (0, 0),
        );
    }
    let result = tokio::io::copy_bidirectional_with_sizes(
        &mut client,
        &mut upstream,
        TUNNEL_BUFFER,
        TUNNEL_BUFFER,
    )
    .await;
    let (up, down) = upstream.counts();
    match result {
        Ok(_) => (
            ConnectionVerdict::Allowed,
            "tunnel closed".into(),
            (up, down),
        ),
        // A reset by either side ends a tunnel as often as a close does.
        Err(e) => (
            ConnectionVerdict::Allowed,
            format!("tunnel ended: {e}"),
            (up, down),
        ),
    }
}

fn refused_tunnel(reason: String) -> (ConnectionVerdict, String, (u64, u64)) {
    (ConnectionVerdict::Refused, reason, (0, 0))
}

/// Why the ClientHello's server name may not go to the CONNECT host, if
/// it may not: a named host must be the name the client asks the server
/// for; to an address, the name must not be one a deny rule names.
fn server_name_mismatch(run: &RunProxy, host: &NormalizedHost, sni: &str) -> Option<String> {
    match host {
        NormalizedHost::Name(n) if n != sni => Some(format!(
            "the TLS server name {sni} differs from the CONNECT host {n}"
        )),
        NormalizedHost::Name(_) => None,
        NormalizedHost::Ip(_) => {
            let named = super::normalize_host(sni).ok()?;
            match run.egress.rules.check_host(&named, 0, None) {
                HostVerdict::Deny { rule } => {
                    Some(format!("the TLS server name {sni} is denied by {rule}"))
                }
                _ => None,
            }
        }
    }
}

/// Headers that describe one hop, not the request (RFC 9110 7.6.1), and
/// the proxy's own.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "proxy-connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

fn strip_hop_by_hop(headers: &mut hyper::HeaderMap) {
    let listed: Vec<String> = headers
        .get_all(hyper::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    for name in HOP_BY_HOP
        .iter()
        .copied()
        .chain(listed.iter().map(String::as_str))
    {
        headers.remove(name);
    }
}

/// The host and port of a `Host` header value, or of an authority.
fn host_and_port(value: &str, default_port: u16) -> Option<(NormalizedHost, u16)> {
    let authority: hyper::http::uri::Authority = value.parse().ok()?;
    let host = super::normalize_host(authority.host()).ok()?;
    Some((host, authority.port_u16().unwrap_or(default_port)))
}

async fn forward(run: Arc<RunProxy>, req: Request<Incoming>) -> Response<ProxyBody> {
    let started = Instant::now();
    let method = req.method().as_str().to_string();
    let uri = req.uri().clone();
    match uri.scheme_str() {
        Some("http") => {}
        Some(s) => {
            return bad_request(
                &run,
                &method,
                uri.host().unwrap_or(""),
                &format!("{s}:// URLs go through CONNECT (HTTPS_PROXY), not as requests"),
            )
        }
        None => {
            return bad_request(
                &run,
                &method,
                "",
                "this is the sandbox's egress proxy: send absolute-form requests \
                 (http://host/path) or CONNECT",
            )
        }
    }
    let Some(authority) = uri.authority().cloned() else {
        return bad_request(&run, &method, "", "the URL has no host");
    };
    let port = authority.port_u16().unwrap_or(80);
    if let Some(value) = req.headers().get(HOST) {
        let header = value.to_str().unwrap_or("");
        let url_host = host_and_port(authority.as_str(), 80);
        if url_host.is_none() || host_and_port(header, 80) != url_host {
            return refuse(
                &run,
                &method,
                Refusal {
                    status: StatusCode::FORBIDDEN,
                    host: authority.host().to_string(),
                    port,
                    rule: None,
                    reason: format!(
                        "the Host header {header} differs from the URL's host {authority}"
                    ),
                },
                started,
            );
        }
    }
    let opened = match gate::open(
        &run.egress,
        &run.approvals,
        authority.host(),
        port,
        Some("http"),
    )
    .await
    {
        Ok(o) => o,
        Err(refusal) => return refuse(&run, &method, refusal, started),
    };
    let counts = Arc::new(Counts::default());
    let io = TokioIo::new(Counted {
        stream: opened.stream,
        counts: counts.clone(),
    });
    let (mut sender, conn) = match hyper::client::conn::http1::handshake::<_, Incoming>(io).await {
        Ok(pair) => pair,
        Err(e) => {
            return refuse(
                &run,
                &method,
                Refusal {
                    status: StatusCode::BAD_GATEWAY,
                    host: opened.host_text,
                    port,
                    rule: None,
                    reason: format!("HTTP handshake with the upstream: {e}"),
                },
                started,
            )
        }
    };
    let (mut parts, body) = req.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    parts.headers.insert(
        HOST,
        HeaderValue::from_str(authority.as_str()).unwrap_or(HeaderValue::from_static("")),
    );
    parts.uri = uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .parse()
        .unwrap_or_else(|_| hyper::Uri::from_static("/"));
    let upstream_req = Request::from_parts(parts, body);
    {
        let (r, host, rule, address) = (
            run.clone(),
            opened.host_text.clone(),
            opened.rule.clone(),
            opened.address,
        );
        let mut ongoing = Ongoing::new(&r, &method, host, port, rule, address, started);
        ongoing.counts = counts.clone();
        run.spawn(async move {
            let result = conn.await;
            let reason = match result {
                Ok(()) => "request done".to_string(),
                Err(e) => format!("upstream connection ended: {e}"),
            };
            let bytes = ongoing.counts.get();
            ongoing.finish(ConnectionVerdict::Allowed, &reason, bytes);
        });
    }
    match sender.send_request(upstream_req).await {
        Ok(resp) => {
            let (mut parts, body) = resp.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            Response::from_parts(parts, body.boxed())
        }
        Err(e) => text(
            StatusCode::BAD_GATEWAY,
            format!(
                "sandboxcore: request to {}:{port} failed: {e}\n",
                opened.host_text
            ),
        ),
    }
}

/// A connection the proxy carries: its record is written when it ends,
/// or, when the proxy is dropped first (the run ended and every task
/// serving it was aborted), as the task is dropped: no connection goes
/// unrecorded.
struct Ongoing {
    run: Arc<RunProxy>,
    method: String,
    host: String,
    port: u16,
    rule: String,
    address: std::net::SocketAddr,
    started: Instant,
    counts: Arc<Counts>,
    done: bool,
}

impl Ongoing {
    fn new(
        run: &Arc<RunProxy>,
        method: &str,
        host: String,
        port: u16,
        rule: String,
        address: std::net::SocketAddr,
        started: Instant,
    ) -> Ongoing {
        Ongoing {
            run: run.clone(),
            method: method.to_string(),
            host,
            port,
            rule,
            address,
            started,
            counts: Arc::default(),
            done: false,
        }
    }

    fn write(&self, verdict: ConnectionVerdict, reason: &str, bytes: (u64, u64)) {
        let mut record = ConnectionRecord::new(
            &self.method,
            &self.host,
            self.port,
            verdict,
            Some(&self.rule),
            reason,
            bytes,
            self.started.elapsed(),
        );
        record.address = Some(self.address.to_string());
        self.run.egress.record(record);
    }

    /// Records the connection's end.
    fn finish(mut self, verdict: ConnectionVerdict, reason: &str, bytes: (u64, u64)) {
        self.done = true;
        self.write(verdict, reason, bytes);
    }
}

impl Drop for Ongoing {
    fn drop(&mut self) {
        if !self.done {
            self.write(
                ConnectionVerdict::Allowed,
                "closed by the proxy: the run ended",
                self.counts.get(),
            );
        }
    }
}

/// Bytes each way through an upstream connection.
#[derive(Debug, Default)]
struct Counts {
    up: AtomicU64,
    down: AtomicU64,
}

impl Counts {
    fn get(&self) -> (u64, u64) {
        (
            self.up.load(Ordering::Relaxed),
            self.down.load(Ordering::Relaxed),
        )
    }
}

/// An upstream stream that counts the bytes written to it (up) and read
/// from it (down).
struct Counted<S> {
    stream: S,
    counts: Arc<Counts>,
}

impl Counted<TcpStream> {
    fn counts(&self) -> (u64, u64) {
        self.counts.get()
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.stream).poll_read(cx, buf);
        let n = (buf.filled().len() - before) as u64;
        self.counts.down.fetch_add(n, Ordering::Relaxed);
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.stream).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            self.counts.up.fetch_add(*n as u64, Ordering::Relaxed);
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
