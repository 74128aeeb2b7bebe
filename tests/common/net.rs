//! Local servers and clients for the egress proxy's tests and bench
//! (`tests/egress.rs`, `benches/egress.rs`): everything listens on
//! 127.0.0.1 only, and every wait is bounded.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The longest any single step of a test client waits.
pub const STEP: Duration = Duration::from_secs(10);

/// A TLS ClientHello record naming `server_name` (SNI), as the proxy's
/// tunnels want to see first: enough for the proxy to check the name, not
/// a handshake any server would finish.
pub fn client_hello(server_name: &str) -> Vec<u8> {
    let name = server_name.as_bytes();
    let u16_be = |n: usize| (n as u16).to_be_bytes();
    // server_name extension: list of one host_name entry.
    let mut sni = Vec::new();
    sni.extend(u16_be(name.len() + 3));
    sni.push(0); // host_name
    sni.extend(u16_be(name.len()));
    sni.extend(name);
    let mut extensions = Vec::new();
    extensions.extend(0u16.to_be_bytes());
    extensions.extend(u16_be(sni.len()));
    extensions.extend(sni);
    let mut body = vec![3, 3]; // TLS 1.2 in the legacy version field
    body.extend([0x11; 32]); // random
    body.push(0); // no session id
    body.extend([0, 2, 0x13, 0x01]); // one cipher suite
    body.extend([1, 0]); // null compression
    body.extend(u16_be(extensions.len()));
    body.extend(extensions);
    let mut message = vec![1]; // ClientHello
    message.extend(&(body.len() as u32).to_be_bytes()[1..]);
    message.extend(body);
    let mut record = vec![22, 3, 1]; // handshake, TLS 1.0 record version
    record.extend(u16_be(message.len()));
    record.extend(message);
    record
}

/// Reads up to the end of an HTTP head (`\r\n\r\n`), at most 64 KiB;
/// returns the head and whatever came after it.
pub async fn read_head<S: AsyncRead + Unpin>(s: &mut S) -> std::io::Result<(String, Vec<u8>)> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = got.split_off(end + 4);
            return Ok((String::from_utf8_lossy(&got).into_owned(), rest));
        }
        if got.len() > 64 * 1024 {
            return Err(std::io::Error::other("head too large"));
        }
        let n = tokio::time::timeout(STEP, s.read(&mut buf))
            .await
            .map_err(|_| std::io::Error::other("no HTTP head within 10 s"))??;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        got.extend_from_slice(&buf[..n]);
    }
}

/// A server on 127.0.0.1 and the number of connections it accepted.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// Where it listens.
    pub address: SocketAddr,
    accepted: Arc<AtomicUsize>,
}

impl Upstream {
    /// Its port.
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// Serves `handle` for every connection on a new loopback listener.
pub async fn serve<F, Fut>(handle: F) -> Upstream
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            count.fetch_add(1, Ordering::SeqCst);
            let _ = stream.set_nodelay(true);
            tokio::spawn(tokio::time::timeout(
                Duration::from_secs(60),
                handle(stream),
            ));
        }
    });
    Upstream { address, accepted }
}

/// Answers one HTTP request on `s` with 200 and a body naming the request
/// line and `Host` header (`upstream NAME saw: GET / HTTP/1.1 host=...`),
/// then closes.
pub async fn answer_http<S: AsyncRead + AsyncWrite + Unpin>(name: &str, mut s: S) {
    let Ok((head, _)) = read_head(&mut s).await else {
        return;
    };
    let mut lines = head.lines();
    let first = lines.next().unwrap_or("").to_string();
    let host = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("host"))
        .map_or("", |(_, v)| v.trim())
        .to_string();
    let body = format!("upstream {name} saw: {first} host={host}\n");
    let _ = s
        .write_all(
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .await;
    let _ = s.shutdown().await;
}

/// A plain HTTP server (see [`answer_http`]).
pub async fn http_upstream() -> Upstream {
    serve(|s| answer_http("http", s)).await
}

/// A server that echoes every byte until the client closes.
pub async fn echo_upstream() -> Upstream {
    serve(|mut s| async move {
        let (mut r, mut w) = s.split();
        let _ = tokio::io::copy(&mut r, &mut w).await;
    })
    .await
}

/// A test certificate authority and a server certificate it signed for
/// some names.
pub struct TestPki {
    /// The CA certificate, PEM (what `curl --cacert` reads).
    pub ca_pem: String,
    /// The CA certificate, DER (for a rustls client's root store).
    pub ca_der: rustls::pki_types::CertificateDer<'static>,
    /// The server's TLS configuration (certificate and key).
    pub server: Arc<rustls::ServerConfig>,
}

/// The ring provider (the process-wide default may be unset, or another).
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl TestPki {
    /// A new CA and a server certificate for `names`.
    pub fn new(names: &[&str]) -> TestPki {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "sandboxcore egress test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let server_key = KeyPair::generate().unwrap();
        let server_params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        let server_cert = server_params.signed_by(&server_key, &issuer).unwrap();
        let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into());
        let server = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![server_cert.der().clone()], key_der)
            .unwrap();
        TestPki {
            ca_pem: ca_cert.pem(),
            ca_der: ca_cert.der().clone(),
            server: Arc::new(server),
        }
    }

    /// An HTTPS server with this certificate (see [`answer_http`]).
    pub async fn https_upstream(&self) -> Upstream {
        let acceptor = tokio_rustls::TlsAcceptor::from(self.server.clone());
        serve(move |s| {
            let acceptor = acceptor.clone();
            async move {
                if let Ok(Ok(tls)) = tokio::time::timeout(STEP, acceptor.accept(s)).await {
                    answer_http("https", tls).await;
                }
            }
        })
        .await
    }

    /// A TLS client that trusts only this CA.
    pub fn connector(&self) -> tokio_rustls::TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca_der.clone()).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        tokio_rustls::TlsConnector::from(Arc::new(config))
    }
}

/// Sends `CONNECT target` to the proxy at `proxy`; returns the response
/// head and the stream (the tunnel, when the status is 200).
pub async fn connect(proxy: SocketAddr, target: &str) -> std::io::Result<(String, TcpStream)> {
    let mut s = tokio::time::timeout(STEP, TcpStream::connect(proxy))
        .await
        .map_err(|_| std::io::Error::other("connecting to the proxy timed out"))??;
    s.set_nodelay(true)?;
    s.write_all(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").as_bytes())
        .await?;
    let (head, rest) = read_head(&mut s).await?;
    if head.starts_with("HTTP/1.1 200") {
        assert!(
            rest.is_empty(),
            "bytes after the CONNECT response: {rest:?}"
        );
    }
    Ok((head, s))
}

/// Sends `request` (raw bytes) to the proxy and reads everything it
/// answers until it closes (at most 10 s).
pub async fn ask(proxy: SocketAddr, request: &[u8]) -> String {
    let mut s = TcpStream::connect(proxy).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(STEP, s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}
