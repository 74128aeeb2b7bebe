//! The container's way out in an allowlist run: the agent listens on
//! `127.0.0.1:PROXY_PORT` (the container has only loopback) and carries
//! each connection made there to the host's egress proxy, whose Unix
//! socket is bind-mounted into the container. Nothing else leaves.
//!
//! Two threads per connection (one per direction, each ending its half of
//! the other side when its own side ends), at most [`MAX_CONNECTIONS`] at
//! once; the accepting thread waits while that many are open.

use sandboxcore_agent::PROXY_PORT;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

/// Connections carried at once; more wait in the listener's backlog.
pub const MAX_CONNECTIONS: usize = 64;
/// The stack of each forwarding thread (buffers are on the heap).
const STACK: usize = 64 * 1024;
/// The buffer of each direction.
const BUFFER: usize = 16 * 1024;

/// Connections open, bounded by [`MAX_CONNECTIONS`].
#[derive(Default)]
struct Slots {
    open: Mutex<usize>,
    freed: Condvar,
}

impl Slots {
    fn acquire(&self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        while *open >= MAX_CONNECTIONS {
            open = self.freed.wait(open).unwrap_or_else(|e| e.into_inner());
        }
        *open += 1;
    }

    fn release(&self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        *open -= 1;
        self.freed.notify_one();
    }
}

/// Listens on `127.0.0.1:PROXY_PORT` and forwards every connection to
/// `socket` from a thread of its own; returns once listening (the command
/// may connect as soon as it starts).
pub fn start(socket: PathBuf) -> io::Result<()> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, PROXY_PORT))?;
    thread::Builder::new()
        .name("egress".into())
        .stack_size(STACK)
        .spawn(move || serve(listener, &socket))?;
    Ok(())
}

fn serve(listener: TcpListener, socket: &Path) {
    let slots = Arc::new(Slots::default());
    loop {
        slots.acquire();
        let client = match listener.accept() {
            Ok((client, _)) => client,
            Err(e) => {
                slots.release();
                if e.kind() != io::ErrorKind::Interrupted {
                    // Out of descriptors, say: wait rather than spin.
                    thread::sleep(Duration::from_millis(10));
                }
                continue;
            }
        };
        let (s, path) = (slots.clone(), socket.to_path_buf());
        let spawned = thread::Builder::new()
            .name("egress-conn".into())
            .stack_size(STACK)
            .spawn(move || {
                forward(client, &path);
                s.release();
            });
        // No thread (the command used up the pids): the client was
        // dropped with the closure, which closed it.
        if spawned.is_err() {
            slots.release();
        }
    }
}

/// Carries `client` to a new connection to `socket`, both ways, until both
/// directions have ended.
fn forward(client: TcpStream, socket: &Path) {
    let Ok(proxy) = UnixStream::connect(socket) else {
        return;
    };
    let (Ok(client_in), Ok(proxy_out)) = (client.try_clone(), proxy.try_clone()) else {
        return;
    };
    let up = thread::Builder::new()
        .name("egress-up".into())
        .stack_size(STACK)
        .spawn(move || {
            copy(client_in, &proxy_out);
            let _ = proxy_out.shutdown(Shutdown::Write);
        });
    let Ok(up) = up else { return };
    copy(&proxy, &client);
    let _ = client.shutdown(Shutdown::Write);
    let _ = up.join();
}

/// Copies until end of file or an error on either side.
fn copy(mut from: impl Read, mut to: impl Write) {
    let mut buf = vec![0u8; BUFFER];
    loop {
        match from.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        }
    }
}
