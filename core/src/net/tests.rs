//! The proxy against local upstreams on loopback (no sandbox: the
//! listener is an ordinary one; the sandbox tests are in tests/egress.rs).

use super::*;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An upstream that answers every connection with a fixed HTTP response
/// naming what it got, then closes.
async fn upstream() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let first = String::from_utf8_lossy(&got)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string();
                let body = format!("upstream saw: {first}");
                let _ = s
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .await;
            });
        }
    });
    addr
}

async fn proxy(allow: &[&str], deny: &[&str], approval: &[&str]) -> ProxyHandle {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let rules = EgressRules::new(&s(allow), &s(deny), &s(approval)).unwrap();
    let resolver = StaticResolver::new()
        .with("upstream.test", &["127.0.0.1".parse::<IpAddr>().unwrap()])
        .with("public.test", &["203.0.113.9".parse::<IpAddr>().unwrap()]);
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    Egress::new(rules)
        .with_resolver(Arc::new(resolver))
        .serve(l)
        .unwrap()
}

/// Sends `request` to the proxy and reads everything it answers.
async fn ask(proxy: &ProxyHandle, request: &str) -> String {
    let mut s = TcpStream::connect(proxy.address()).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn an_allowed_host_is_reached_over_http() {
    let up = upstream().await;
    let p = proxy(&["upstream.test", "127.0.0.1"], &[], &[]).await;
    let port = up.port();
    let r = ask(
        &p,
        &format!("GET http://upstream.test:{port}/x?y=1 HTTP/1.1\r\nHost: upstream.test:{port}\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert!(r.contains("upstream saw: GET /x?y=1 HTTP/1.1"), "{r}");
}

#[tokio::test]
async fn a_loopback_address_needs_an_address_rule() {
    let up = upstream().await;
    let p = proxy(&["upstream.test"], &[], &[]).await;
    let port = up.port();
    let r = ask(
        &p,
        &format!("GET http://upstream.test:{port}/ HTTP/1.1\r\nHost: upstream.test:{port}\r\n\r\n"),
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 403"), "{r}");
    assert!(r.contains("a loopback address"), "{r}");
    assert!(r.to_ascii_lowercase().contains(REFUSED_HEADER), "{r}");
}

#[tokio::test]
async fn deny_beats_allow_and_names_the_rule() {
    let p = proxy(&["*.test", "127.0.0.1"], &["upstream.test"], &[]).await;
    let r = ask(
        &p,
        "CONNECT UPSTREAM.test.:443 HTTP/1.1\r\nHost: upstream.test:443\r\n\r\n",
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 403"), "{r}");
    assert!(r.contains("network.deny[0]: upstream.test"), "{r}");
}

#[tokio::test]
async fn a_host_header_that_differs_from_the_url_is_refused() {
    let up = upstream().await;
    let p = proxy(&["upstream.test", "127.0.0.1"], &[], &[]).await;
    let port = up.port();
    let r = ask(
        &p,
        &format!("GET http://upstream.test:{port}/ HTTP/1.1\r\nHost: evil.test\r\n\r\n"),
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 403"), "{r}");
    assert!(r.contains("differs from the URL's host"), "{r}");
}

#[tokio::test]
async fn the_proxy_serves_a_unix_socket_as_it_serves_tcp() {
    let up = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("proxy.sock");
    let rules = EgressRules::new(&["upstream.test".into(), "127.0.0.1".into()], &[], &[]).unwrap();
    let resolver =
        StaticResolver::new().with("upstream.test", &["127.0.0.1".parse::<IpAddr>().unwrap()]);
    let p = Egress::new(rules)
        .with_resolver(Arc::new(resolver))
        .serve_unix(tokio::net::UnixListener::bind(&path).unwrap())
        .unwrap();
    assert_eq!(p.local_address(), &ProxyAddress::Unix(path.clone()));
    let ask_unix = |request: String| {
        let path = path.clone();
        async move {
            let mut s = tokio::net::UnixStream::connect(&path).await.unwrap();
            s.write_all(request.as_bytes()).await.unwrap();
            let mut out = Vec::new();
            let _ =
                tokio::time::timeout(std::time::Duration::from_secs(5), s.read_to_end(&mut out))
                    .await;
            String::from_utf8_lossy(&out).into_owned()
        }
    };
    let port = up.port();
    let r = ask_unix(format!(
        "GET http://upstream.test:{port}/u HTTP/1.1\r\nHost: upstream.test:{port}\r\nConnection: close\r\n\r\n"
    ))
    .await;
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert!(r.contains("upstream saw: GET /u HTTP/1.1"), "{r}");
    let r = ask_unix(format!(
        "GET http://other.test:{port}/ HTTP/1.1\r\nHost: other.test:{port}\r\n\r\n"
    ))
    .await;
    assert!(r.starts_with("HTTP/1.1 403"), "{r}");
    // Dropping the handle stops the proxy: nobody accepts any more.
    drop(p);
    tokio::task::yield_now().await;
    let after = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        tokio::net::UnixStream::connect(&path),
    )
    .await;
    let refused = match after {
        Ok(Err(_)) => true,
        Ok(Ok(mut s)) => {
            let mut b = [0u8; 1];
            s.write_all(b"GET / HTTP/1.1\r\n\r\n").await.ok();
            matches!(
                tokio::time::timeout(std::time::Duration::from_secs(2), s.read(&mut b)).await,
                Ok(Ok(0)) | Ok(Err(_))
            )
        }
        Err(_) => false,
    };
    assert!(
        refused,
        "the proxy still answers after its handle was dropped"
    );
}
