//! The streamable HTTP transport (`--listen`), behind a bearer token.

use super::{SandboxServer, TOKEN_ENV};
use anyhow::{bail, Context, Result};
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Refuses to serve a non-loopback address without a token.
pub fn check_listen(addr: SocketAddr, token: Option<&str>) -> Result<()> {
    if token.is_none() && !addr.ip().is_loopback() {
        bail!(
            "--listen {addr} is not a loopback address: set a bearer token in ${TOKEN_ENV} \
             (clients then send `Authorization: Bearer TOKEN`)"
        );
    }
    Ok(())
}

/// Serves MCP at `http://ADDR/mcp`, one [`SandboxServer`] session per
/// client session, until interrupted.
pub async fn serve(server: SandboxServer, addr: SocketAddr, token: Option<String>) -> Result<()> {
    let stop = CancellationToken::new();
    let mut config =
        StreamableHttpServerConfig::default().with_cancellation_token(stop.child_token());
    if !addr.ip().is_loopback() {
        // The Host check guards loopback servers against DNS rebinding; a
        // server reached by other names is guarded by its token instead.
        config = config.disable_allowed_hosts();
    }
    let sessions = server.clone();
    let service = StreamableHttpService::new(
        move || Ok(sessions.new_session()),
        LocalSessionManager::default().into(),
        config,
    );
    let mut router = Router::new().nest_service("/mcp", service);
    if let Some(token) = token {
        router = router.layer(middleware::from_fn_with_state(
            Arc::new(token),
            require_bearer,
        ));
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    eprintln!(
        "sandboxcore mcp: serving streamable HTTP at http://{}/mcp",
        listener.local_addr()?
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            stop.cancel();
            server.gone_token().cancel();
        })
        .await?;
    Ok(())
}

/// Lets a request through only with `Authorization: Bearer TOKEN`.
async fn require_bearer(
    State(token): State<Arc<String>>,
    request: Request,
    next: Next,
) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(given) if same(given.as_bytes(), token.as_bytes()) => next.run(request).await,
        _ => unauthorized(),
    }
}

/// 401 with the scheme to use (RFC 6750), closing the connection: the
/// request's body is left unread, so the server does not keep the
/// connection, and a client that reused it for its next request would see
/// it closed under that request instead of an answer.
fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [
            (header::WWW_AUTHENTICATE, "Bearer"),
            (header::CONNECTION, "close"),
        ],
    )
        .into_response()
}

/// Compares in time that does not depend on where the inputs differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_address_needs_a_token() {
        let public: SocketAddr = "0.0.0.0:8765".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:8765".parse().unwrap();
        assert!(check_listen(public, None).is_err());
        assert!(check_listen(public, Some("t")).is_ok());
        assert!(check_listen(local, None).is_ok());
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same(b"secret", b"secret"));
        assert!(!same(b"secret", b"secreT"));
        assert!(!same(b"secret", b"secret2"));
        assert!(!same(b"", b"x"));
    }
}
