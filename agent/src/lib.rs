//! The wire protocol between sandboxcore's Docker backend and the agent
//! that runs inside the container (the `sandboxcore-agent` binary).
//!
//! The host writes one [`Request`] to the container's stdin (attached
//! through the Docker API); the agent runs it and writes [`Frame`]s to its
//! stdout: output chunks as they arrive, then exactly one exit frame. All
//! integers are little-endian; a byte string is a `u32` length and the
//! bytes.
//!
//! ```text
//! request = MAGIC argc:u32 arg* envc:u32 env* cwd stdin egress   (env is "K=V")
//! frame   = kind:u8 len:u32 payload[len]
//!   kind 1 stdout chunk, 2 stderr chunk, 3 started (pid:u32),
//!   4 exit (code:i32 or -1, signal:i32 or 0, oom_kills:u64 or u64::MAX)
//! ```
//!
//! `egress` is empty, or the path of a Unix socket (the host's egress
//! proxy, bind-mounted into the container): the agent then listens on
//! `127.0.0.1:`[`PROXY_PORT`] before it starts the command and carries
//! every connection made there to that socket.
//!
//! After the request the host keeps stdin open; end of file on it means
//! the host is gone, and the agent exits, which (as the container's PID 1)
//! takes every process of the container with it.

use std::io::{self, Read, Write};

/// The first bytes of every request (protocol version 2: version 1 had no
/// `egress` field).
pub const MAGIC: &[u8; 5] = b"SBXA\x02";
/// The loopback port the agent forwards to the egress socket (the
/// proxy's port everywhere: `HTTP_PROXY=http://127.0.0.1:3128`).
pub const PROXY_PORT: u16 = 3128;
/// A chunk of the command's standard output.
pub const KIND_STDOUT: u8 = 1;
/// A chunk of the command's standard error.
pub const KIND_STDERR: u8 = 2;
/// The command started; the payload is its pid (in the container).
pub const KIND_STARTED: u8 = 3;
/// The command ended; see [`Exit`].
pub const KIND_EXIT: u8 = 4;
/// Largest frame payload the agent writes (output is split into chunks of
/// at most this size).
pub const MAX_CHUNK: usize = 64 * 1024;
/// Largest single byte string a request may carry (stdin included).
pub const MAX_FIELD: usize = 256 << 20;

/// One command to run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// Program and arguments (the program is looked up in `PATH`).
    pub argv: Vec<Vec<u8>>,
    /// The whole environment of the command, as `K=V`.
    pub env: Vec<Vec<u8>>,
    /// Working directory; empty keeps the agent's.
    pub cwd: Vec<u8>,
    /// Bytes for the command's stdin (then end of file).
    pub stdin: Vec<u8>,
    /// The egress proxy's Unix socket in the container, whose connections
    /// the agent serves on `127.0.0.1:`[`PROXY_PORT`]; empty: none.
    pub egress: Vec<u8>,
}

/// How the command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit {
    /// Exit status, when it exited.
    pub code: Option<i32>,
    /// The signal that killed it.
    pub signal: Option<i32>,
    /// OOM kills counted in the container's memory cgroup, when readable.
    pub oom_kills: Option<u64>,
}

/// A message from the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Output chunk.
    Stdout(Vec<u8>),
    /// Error output chunk.
    Stderr(Vec<u8>),
    /// The command started with this pid.
    Started(u32),
    /// The command ended.
    Exit(Exit),
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

impl Request {
    /// The request's bytes. Fails when a field is longer than
    /// [`MAX_FIELD`] or the request has no program.
    pub fn encode(&self) -> io::Result<Vec<u8>> {
        if self.argv.is_empty() {
            return Err(invalid("the request has no program"));
        }
        let fields = self.argv.iter().chain(&self.env);
        if fields
            .chain([&self.cwd, &self.stdin, &self.egress])
            .any(|f| f.len() > MAX_FIELD)
        {
            return Err(invalid("a request field is larger than 256 MiB"));
        }
        let mut out = Vec::with_capacity(64 + self.stdin.len());
        out.extend_from_slice(MAGIC);
        for list in [&self.argv, &self.env] {
            out.extend_from_slice(&(list.len() as u32).to_le_bytes());
            for item in list {
                put_bytes(&mut out, item);
            }
        }
        put_bytes(&mut out, &self.cwd);
        put_bytes(&mut out, &self.stdin);
        put_bytes(&mut out, &self.egress);
        Ok(out)
    }

    /// Reads one request (what the agent does first).
    pub fn read_from(r: &mut impl Read) -> io::Result<Request> {
        let mut magic = [0u8; 5];
        r.read_exact(&mut magic)?;
        if &magic != MAGIC {
            return Err(invalid("not a sandboxcore agent request"));
        }
        let argv = read_list(r)?;
        if argv.is_empty() {
            return Err(invalid("the request has no program"));
        }
        let env = read_list(r)?;
        let cwd = read_bytes(r)?;
        let stdin = read_bytes(r)?;
        let egress = read_bytes(r)?;
        Ok(Request {
            argv,
            env,
            cwd,
            stdin,
            egress,
        })
    }
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

fn read_u32(r: &mut impl Read) -> io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn read_bytes(r: &mut impl Read) -> io::Result<Vec<u8>> {
    let len = read_u32(r)? as usize;
    if len > MAX_FIELD {
        return Err(invalid("a request field is larger than 256 MiB"));
    }
    let mut b = vec![0u8; len];
    r.read_exact(&mut b)?;
    Ok(b)
}

fn read_list(r: &mut impl Read) -> io::Result<Vec<Vec<u8>>> {
    let n = read_u32(r)?;
    if n > 1 << 20 {
        return Err(invalid("a request list is too long"));
    }
    (0..n).map(|_| read_bytes(r)).collect()
}

/// Writes one frame.
pub fn write_frame(w: &mut impl Write, kind: u8, payload: &[u8]) -> io::Result<()> {
    let mut head = [0u8; 5];
    head[0] = kind;
    head[1..].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    w.write_all(&head)?;
    w.write_all(payload)
}

impl Exit {
    /// The exit frame's payload.
    pub fn encode(&self) -> [u8; 16] {
        let mut p = [0u8; 16];
        p[..4].copy_from_slice(&self.code.unwrap_or(-1).to_le_bytes());
        p[4..8].copy_from_slice(&self.signal.unwrap_or(0).to_le_bytes());
        p[8..].copy_from_slice(&self.oom_kills.unwrap_or(u64::MAX).to_le_bytes());
        p
    }

    fn decode(p: &[u8]) -> Option<Exit> {
        if p.len() != 16 {
            return None;
        }
        let code = i32::from_le_bytes(p[..4].try_into().ok()?);
        let signal = i32::from_le_bytes(p[4..8].try_into().ok()?);
        let oom = u64::from_le_bytes(p[8..].try_into().ok()?);
        Some(Exit {
            code: (code >= 0).then_some(code),
            signal: (signal > 0).then_some(signal),
            oom_kills: (oom != u64::MAX).then_some(oom),
        })
    }
}

/// Splits the agent's stdout back into frames, from chunks of any size.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    start: usize,
}

impl FrameDecoder {
    /// An empty decoder.
    pub fn new() -> FrameDecoder {
        FrameDecoder::default()
    }

    /// Adds bytes read from the agent.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame; `Ok(None)` when more bytes are needed, an
    /// error when the bytes are not a frame (for instance, when the image's
    /// entrypoint is not the agent).
    pub fn next_frame(&mut self) -> io::Result<Option<Frame>> {
        let rest = &self.buf[self.start..];
        if rest.len() < 5 {
            return Ok(None);
        }
        let kind = rest[0];
        let len = u32::from_le_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
        if len > MAX_CHUNK.max(16) {
            return Err(invalid("a frame from the agent is too large"));
        }
        if rest.len() < 5 + len {
            return Ok(None);
        }
        let payload = &rest[5..5 + len];
        let frame = match kind {
            KIND_STDOUT => Frame::Stdout(payload.to_vec()),
            KIND_STDERR => Frame::Stderr(payload.to_vec()),
            KIND_STARTED if len == 4 => Frame::Started(u32::from_le_bytes([
                payload[0], payload[1], payload[2], payload[3],
            ])),
            KIND_EXIT => {
                Frame::Exit(Exit::decode(payload).ok_or_else(|| invalid("a malformed exit frame"))?)
            }
            _ => return Err(invalid("an unknown frame from the agent")),
        };
        self.start += 5 + len;
        if self.start > 1 << 20 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        Ok(Some(frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_round_trips() {
        let req = Request {
            argv: vec![b"sh".to_vec(), b"-c".to_vec(), b"echo 'a b'".to_vec()],
            env: vec![b"PATH=/bin".to_vec(), b"X=".to_vec()],
            cwd: b"/tmp".to_vec(),
            stdin: vec![0, 1, 2, 255],
            egress: b"/run/sandboxcore/egress/proxy.sock".to_vec(),
        };
        let bytes = req.encode().unwrap();
        assert_eq!(Request::read_from(&mut &bytes[..]).unwrap(), req);
    }

    #[test]
    fn bad_requests_are_errors() {
        assert!(Request::default().encode().is_err());
        assert!(Request::read_from(&mut &b"hello world"[..]).is_err());
        let mut truncated = Request {
            argv: vec![b"true".to_vec()],
            ..Request::default()
        }
        .encode()
        .unwrap();
        truncated.pop();
        assert!(Request::read_from(&mut &truncated[..]).is_err());
    }

    #[test]
    fn frames_decode_from_any_split() {
        let exit = Exit {
            code: Some(3),
            signal: None,
            oom_kills: Some(0),
        };
        let mut wire = Vec::new();
        write_frame(&mut wire, KIND_STARTED, &7u32.to_le_bytes()).unwrap();
        write_frame(&mut wire, KIND_STDOUT, b"hello\n").unwrap();
        write_frame(&mut wire, KIND_STDERR, b"").unwrap();
        write_frame(&mut wire, KIND_EXIT, &exit.encode()).unwrap();
        let want = vec![
            Frame::Started(7),
            Frame::Stdout(b"hello\n".to_vec()),
            Frame::Stderr(Vec::new()),
            Frame::Exit(exit),
        ];
        for step in 1..wire.len() {
            let mut d = FrameDecoder::new();
            let mut got = Vec::new();
            for chunk in wire.chunks(step) {
                d.push(chunk);
                while let Some(f) = d.next_frame().unwrap() {
                    got.push(f);
                }
            }
            assert_eq!(got, want, "split every {step} bytes");
        }
    }

    #[test]
    fn signals_and_unknown_oom_round_trip() {
        let exit = Exit {
            code: None,
            signal: Some(9),
            oom_kills: None,
        };
        assert_eq!(Exit::decode(&exit.encode()), Some(exit));
    }

    #[test]
    fn output_that_is_not_frames_is_an_error() {
        let mut d = FrameDecoder::new();
        d.push(b"/bin/sh: agent: not found\n");
        assert!(d.next_frame().is_err());
    }
}
