//! A run's output as MCP progress notifications.

use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::{Peer, RoleServer};
use sandboxcore::exec::ExecEvent;
use std::time::Duration;

/// How often a running command's progress is reported when it prints
/// nothing.
const HEARTBEAT: Duration = Duration::from_secs(2);

/// The most output text carried by one progress notification.
const CHUNK: usize = 4096;

/// Forwards a run's output to the client as progress notifications (when
/// it asked for progress: `token`), at most `limit` bytes of it, in pieces
/// of at most 4 KiB cut at character boundaries, with a heartbeat while the
/// command is silent or past the limit. Ends when the run's event stream
/// ends.
pub async fn forward(
    peer: Peer<RoleServer>,
    token: Option<ProgressToken>,
    limit: usize,
    mut rx: tokio::sync::mpsc::Receiver<ExecEvent>,
) {
    let Some(token) = token else {
        while rx.recv().await.is_some() {}
        return;
    };
    let started = tokio::time::Instant::now();
    let mut heartbeat = tokio::time::interval_at(started + HEARTBEAT, HEARTBEAT);
    let (mut stdout, mut stderr) = (Utf8Pieces::default(), Utf8Pieces::default());
    let mut sent = Sent::default();
    loop {
        let pieces = tokio::select! {
            event = rx.recv() => match event {
                Some(ExecEvent::Stdout(b)) => stdout.push(&b, CHUNK),
                Some(ExecEvent::Stderr(b)) => stderr.push(&b, CHUNK),
                Some(_) => continue,
                None => {
                    let mut rest = stdout.finish();
                    rest.extend(stderr.finish());
                    for piece in rest {
                        sent.output(&peer, &token, piece, limit).await;
                    }
                    return;
                }
            },
            _ = heartbeat.tick() => {
                let message = match sent.withheld {
                    0 => format!("running for {} s", started.elapsed().as_secs()),
                    n => format!(
                        "running for {} s; {n} bytes of output not shown here (the result keeps the head and tail)",
                        started.elapsed().as_secs()
                    ),
                };
                sent.notify(&peer, &token, message).await;
                continue;
            }
        };
        if !pieces.is_empty() {
            heartbeat.reset();
        }
        for piece in pieces {
            sent.output(&peer, &token, piece, limit).await;
        }
    }
}

/// What has been sent so far.
#[derive(Default)]
struct Sent {
    /// Notifications sent: the progress value, which must grow with each.
    count: u64,
    /// Output bytes sent.
    bytes: usize,
    /// Output bytes past the limit, not sent.
    withheld: usize,
}

impl Sent {
    async fn output(
        &mut self,
        peer: &Peer<RoleServer>,
        token: &ProgressToken,
        piece: String,
        limit: usize,
    ) {
        // Past the limit nothing more is sent: what was sent is a prefix.
        if self.withheld > 0 || self.bytes + piece.len() > limit {
            self.withheld += piece.len();
            return;
        }
        self.bytes += piece.len();
        self.notify(peer, token, piece).await;
    }

    async fn notify(&mut self, peer: &Peer<RoleServer>, token: &ProgressToken, message: String) {
        self.count += 1;
        let note =
            ProgressNotificationParam::new(token.clone(), self.count as f64).with_message(message);
        // A client that stopped reading must not hold up the command: a
        // notification that cannot be sent within a second is dropped.
        if tokio::time::timeout(Duration::from_secs(1), peer.notify_progress(note))
            .await
            .is_err()
        {
            tracing::debug!("a progress notification timed out");
        }
    }
}

/// Cuts a byte stream into text pieces of at most a given size without
/// splitting a UTF-8 character between two pieces (bytes that are not
/// UTF-8 become U+FFFD).
#[derive(Default)]
struct Utf8Pieces {
    pending: Vec<u8>,
}

impl Utf8Pieces {
    fn push(&mut self, bytes: &[u8], max: usize) -> Vec<String> {
        self.pending.extend_from_slice(bytes);
        let mut pieces = Vec::new();
        loop {
            let cut = if self.pending.len() > max {
                char_boundary_before(&self.pending, max)
            } else {
                self.pending.len() - incomplete_tail(&self.pending)
            };
            if cut == 0 {
                break;
            }
            pieces.push(String::from_utf8_lossy(&self.pending[..cut]).into_owned());
            self.pending.drain(..cut);
        }
        pieces
    }

    fn finish(&mut self) -> Vec<String> {
        if self.pending.is_empty() {
            return Vec::new();
        }
        vec![String::from_utf8_lossy(&std::mem::take(&mut self.pending)).into_owned()]
    }
}

fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

/// The largest cut at or before `at` that does not split a character (or
/// `at` itself when the bytes there are not UTF-8 anyway).
fn char_boundary_before(bytes: &[u8], at: usize) -> usize {
    let mut cut = at;
    while cut > at.saturating_sub(3) && cut > 0 && is_continuation(bytes[cut]) {
        cut -= 1;
    }
    if cut == 0 || is_continuation(bytes[cut]) {
        at
    } else {
        cut
    }
}

/// How many bytes at the end start a character that is not complete yet.
fn incomplete_tail(bytes: &[u8]) -> usize {
    for back in 1..=bytes.len().min(3) {
        let b = bytes[bytes.len() - back];
        if is_continuation(b) {
            continue;
        }
        let needed = match b {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        return if needed > back { back } else { 0 };
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_bounded_and_keep_characters_whole() {
        let text = "héllo wörld ✓ ".repeat(1000);
        let mut p = Utf8Pieces::default();
        let mut out = String::new();
        // Fed in awkward slices: every character arrives cut somewhere.
        for chunk in text.as_bytes().chunks(7) {
            for piece in p.push(chunk, 64) {
                assert!(piece.len() <= 64, "{}", piece.len());
                out.push_str(&piece);
            }
        }
        out.extend(p.finish());
        assert_eq!(out, text);
    }

    #[test]
    fn bytes_that_are_not_utf8_do_not_stall() {
        let mut p = Utf8Pieces::default();
        let pieces = p.push(&[0xFF; 10], 4);
        assert!(pieces.iter().all(|p| p.chars().count() <= 4));
        assert_eq!(pieces.concat(), "\u{fffd}".repeat(10));
        assert!(p.finish().is_empty());
        // A lone leading byte at the end waits for the rest of its character.
        assert!(p.push(&[b'a', 0xE2], 16) == vec!["a".to_string()]);
        assert_eq!(p.push(&[0x9C, 0x93], 16), vec!["✓".to_string()]);
    }
}
