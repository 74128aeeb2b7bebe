//! The stdio transport: JSON-RPC messages, one per line, on stdin and
//! stdout.
//!
//! rmcp's own line transport drops a line it cannot decode without an
//! answer, so a request with invalid UTF-8 or a lone surrogate escape in
//! its arguments would leave the client waiting forever. This one answers
//! such a request with a JSON-RPC error naming why (it is refused, not
//! mended: a command must never run with other text than was sent), and
//! notices at once when the client closes stdin, so that runs in flight
//! are stopped then rather than seconds later.

use super::SandboxServer;
use anyhow::{Context, Result};
use futures_util::{sink, stream, Sink, Stream};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::{RoleServer, ServiceExt};
use serde_json::{json, Value};
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// How long runs stopped because the client went away get to clean up
/// before the server exits.
const CLEAN_UP: Duration = Duration::from_secs(5);

/// The longest message read; a longer line is skipped (and logged).
const MAX_LINE: usize = 64 << 20;

/// Serves one client over stdin/stdout until it closes stdin.
pub async fn serve(server: SandboxServer) -> Result<()> {
    let gone = server.gone_token();
    let idle = server.clone();
    let writer = Arc::new(Mutex::new(tokio::io::stdout()));
    let transport = (
        Box::pin(message_sink(writer.clone())),
        Box::pin(message_stream(
            BufReader::new(tokio::io::stdin()),
            writer,
            gone.clone(),
        )),
    );
    let service = server
        .serve(transport)
        .await
        .context("the MCP client did not complete the handshake")?;
    let _ = service.waiting().await;
    gone.cancel();
    idle.wait_idle(CLEAN_UP).await;
    Ok(())
}

type Shared<W> = Arc<Mutex<W>>;

async fn write_line<W: AsyncWrite + Unpin>(
    writer: &Shared<W>,
    value: &impl serde::Serialize,
) -> io::Result<()> {
    let mut bytes = serde_json::to_vec(value)?;
    bytes.push(b'\n');
    let mut w = writer.lock().await;
    w.write_all(&bytes).await?;
    w.flush().await
}

/// Messages to the client, one JSON line each.
fn message_sink<W: AsyncWrite + Unpin + Send + 'static>(
    writer: Shared<W>,
) -> impl Sink<TxJsonRpcMessage<RoleServer>, Error = io::Error> + Send {
    sink::unfold(
        writer,
        |writer, message: TxJsonRpcMessage<RoleServer>| async move {
            write_line(&writer, &message).await?;
            Ok::<_, io::Error>(writer)
        },
    )
}

/// Messages from the client. Ends (and cancels `eof`) when the input ends
/// or fails.
fn message_stream<
    R: AsyncBufRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
>(
    reader: R,
    writer: Shared<W>,
    eof: CancellationToken,
) -> impl Stream<Item = RxJsonRpcMessage<RoleServer>> + Send {
    stream::unfold(
        (reader, writer, eof),
        |(mut reader, writer, eof)| async move {
            loop {
                let line = match read_line(&mut reader).await {
                    Ok(Some(line)) => line,
                    Ok(None) | Err(_) => {
                        eof.cancel();
                        return None;
                    }
                };
                match decode(&line) {
                    Decoded::Message(m) => return Some((*m, (reader, writer, eof))),
                    Decoded::Skip => {}
                    Decoded::Answer(error) => {
                        if write_line(&writer, &error).await.is_err() {
                            eof.cancel();
                            return None;
                        }
                    }
                }
            }
        },
    )
}

/// Reads one line (without its `\n`); `None` at the end of the input. A
/// line longer than [`MAX_LINE`] is skipped.
async fn read_line<R: AsyncBufRead + Unpin>(reader: &mut R) -> io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok((!line.is_empty() && !too_long).then_some(line));
        }
        let (part, found) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], true),
            None => (buf, false),
        };
        if !too_long {
            if line.len() + part.len() > MAX_LINE {
                too_long = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(part);
            }
        }
        let used = part.len() + usize::from(found);
        reader.consume(used);
        if found {
            if too_long {
                tracing::warn!("skipped a message longer than {MAX_LINE} bytes");
                too_long = false;
                continue;
            }
            return Ok(Some(line));
        }
    }
}

/// What to do with one line.
enum Decoded {
    /// A message for the server.
    Message(Box<RxJsonRpcMessage<RoleServer>>),
    /// Nothing (a blank line, or a notification that cannot be read).
    Skip,
    /// A request that cannot be read: this error goes back to the client.
    Answer(Value),
}

fn decode(line: &[u8]) -> Decoded {
    let (text, valid_utf8) = match std::str::from_utf8(line) {
        Ok(t) => (std::borrow::Cow::Borrowed(t), true),
        Err(_) => (String::from_utf8_lossy(line), false),
    };
    let text = text.trim_end_matches('\r');
    if text.trim().is_empty() {
        return Decoded::Skip;
    }
    let first = if valid_utf8 {
        match serde_json::from_str(text) {
            Ok(m) => return Decoded::Message(Box::new(m)),
            Err(e) => e.to_string(),
        }
    } else {
        "the message is not valid UTF-8".to_string()
    };
    // Find the request's id to answer it; a message whose text had to be
    // mended is refused, never run with different text than was sent.
    let mended = replace_lone_surrogates(text);
    let Ok(value) = serde_json::from_str::<Value>(&mended) else {
        tracing::warn!("skipped a line that is not JSON: {first}");
        return Decoded::Skip;
    };
    let (code, message) = if !valid_utf8 {
        (-32602, "invalid params: the message holds bytes that are not valid UTF-8; commands must be valid Unicode text".to_string())
    } else if mended != text {
        (-32602, "invalid params: the message holds a lone UTF-16 surrogate escape (such as \\udc80), which is not a Unicode character; commands must be valid Unicode text".to_string())
    } else {
        (-32600, format!("invalid request: {first}"))
    };
    match value.get("id").filter(|_| value.get("method").is_some()) {
        Some(id) => Decoded::Answer(json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {"code": code, "message": message},
        })),
        None => {
            tracing::debug!("skipped a message that cannot be read: {message}");
            Decoded::Skip
        }
    }
}

/// Replaces `\uXXXX` escapes of UTF-16 surrogates that are not part of a
/// pair (which JSON allows and Rust strings cannot hold) by `\ufffd`.
fn replace_lone_surrogates(json: &str) -> String {
    let surrogate = |s: &str, at: usize| -> Option<u16> {
        let hex = s.get(at + 2..at + 6)?;
        if !s[at..].starts_with("\\u") {
            return None;
        }
        u16::from_str_radix(hex, 16)
            .ok()
            .filter(|c| (0xD800..=0xDFFF).contains(c))
    };
    let mut out = String::with_capacity(json.len());
    let mut i = 0;
    while i < json.len() {
        let rest = &json[i..];
        if rest.starts_with("\\\\") {
            out.push_str("\\\\");
            i += 2;
            continue;
        }
        if let Some(c) = surrogate(json, i) {
            let paired = (0xD800..=0xDBFF).contains(&c)
                && surrogate(json, i + 6).is_some_and(|l| (0xDC00..=0xDFFF).contains(&l));
            if paired {
                out.push_str(&json[i..i + 12]);
                i += 12;
            } else {
                out.push_str("\\ufffd");
                i += 6;
            }
            continue;
        }
        let ch = rest.chars().next().unwrap_or('\u{fffd}');
        out.push(ch);
        i += ch.len_utf8().max(1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        assert_eq!(replace_lone_surrogates(r#""a\udc80b""#), r#""a\ufffdb""#);
        assert_eq!(replace_lone_surrogates(r#""\ud800""#), r#""\ufffd""#);
        // A pair is kept; an escaped backslash is not an escape.
        assert_eq!(
            replace_lone_surrogates(r#""\ud83d\ude00""#),
            r#""\ud83d\ude00""#
        );
        assert_eq!(replace_lone_surrogates(r#""\\udc80""#), r#""\\udc80""#);
        assert_eq!(replace_lone_surrogates("é\\u0041"), "é\\u0041");
    }

    #[test]
    fn undecodable_requests_are_answered() {
        let good = br#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"classify","arguments":{"command":"ls \ud83d\ude00"}}}"#;
        assert!(matches!(decode(good), Decoded::Message(_)));
        let lone = br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"classify","arguments":{"command":"ls \udc80"}}}"#;
        match decode(lone) {
            Decoded::Answer(v) => {
                assert_eq!(v["id"], 7);
                assert!(v["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("surrogate"));
            }
            _ => panic!("a lone surrogate must be refused"),
        }
        let mut bad = br#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"classify","arguments":{"command":"ls "#.to_vec();
        bad.extend_from_slice(b"\xff\xfe\"}}}");
        match decode(&bad) {
            Decoded::Answer(v) => {
                assert_eq!(v["id"], 8);
                assert!(v["error"]["message"].as_str().unwrap().contains("UTF-8"));
            }
            _ => panic!("invalid UTF-8 must be refused"),
        }
        match decode(br#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":7}"#) {
            Decoded::Answer(v) => assert_eq!(v["id"], 9),
            _ => panic!("a broken request must be answered"),
        }
        assert!(matches!(decode(b"not json"), Decoded::Skip));
        assert!(matches!(decode(b"  "), Decoded::Skip));
    }

    #[tokio::test]
    async fn long_lines_are_skipped_and_reading_goes_on() {
        let mut input = vec![b'x'; MAX_LINE + 10];
        input.extend_from_slice(b"\nnext\nlast");
        let mut reader = BufReader::new(&input[..]);
        assert_eq!(
            read_line(&mut reader).await.unwrap(),
            Some(b"next".to_vec())
        );
        assert_eq!(
            read_line(&mut reader).await.unwrap(),
            Some(b"last".to_vec())
        );
        assert_eq!(read_line(&mut reader).await.unwrap(), None);
    }
}
