//! `sandboxcore-agent`: the entrypoint of sandboxcore's Docker containers.
//!
//! It reads one request from stdin (see the library's protocol), runs the
//! command with exactly the request's environment, and writes the command's
//! output and exit status back to stdout as frames. It then exits; as the
//! container's PID 1 its exit ends every process the command left behind.
//! End of file on stdin before the command ends means the host is gone: the
//! agent exits at once, for the same effect.
//!
//! In an allowlist run it first listens on `127.0.0.1:3128` and carries
//! every connection made there to the host's egress proxy (`egress`).
//!
//! Built statically (`make agent`), so it runs in images with no libc.

mod egress;

use sandboxcore_agent::{
    write_frame, Exit, Request, KIND_EXIT, KIND_STARTED, KIND_STDERR, KIND_STDOUT, MAX_CHUNK,
};
use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// How long output still in the pipes is read after the command exits
/// (descendants that keep the pipes open are not waited for).
const DRAIN: Duration = Duration::from_millis(200);

type Out = Arc<Mutex<io::Stdout>>;

fn send(out: &Out, kind: u8, payload: &[u8]) {
    let mut w = out.lock().unwrap_or_else(|e| e.into_inner());
    // The host is gone when this fails; the stdin watcher ends the agent.
    let _ = write_frame(&mut *w, kind, payload).and_then(|()| w.flush());
}

fn forward(mut from: impl Read, kind: u8, out: Out, done: mpsc::Sender<()>) {
    let mut buf = vec![0u8; MAX_CHUNK];
    loop {
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => send(&out, kind, &buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    let _ = done.send(());
}

/// OOM kills in the container's memory cgroup (v2, then v1), if readable.
fn oom_kills() -> Option<u64> {
    [
        "/sys/fs/cgroup/memory.events",
        "/sys/fs/cgroup/memory/memory.oom_control",
    ]
    .iter()
    .filter_map(|p| std::fs::read_to_string(p).ok())
    .find_map(|text| {
        text.lines()
            .find_map(|l| l.strip_prefix("oom_kill "))
            .and_then(|n| n.trim().parse().ok())
    })
}

/// A close-on-exec pipe: (read end, write end).
fn pipe() -> io::Result<(std::fs::File, std::fs::File)> {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills the two-element array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: two new descriptors, owned from here on.
    Ok(unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    })
}

/// Reports that the command could not be started for want of a pipe.
fn cannot_start(out: &Out, e: &io::Error) -> ExitCode {
    setup_failed(
        out,
        &format!("sandboxcore: cannot start the command: {e}\n"),
    )
}

/// Reports `msg` on the command's stderr and the run as exit 126: the
/// command did not start.
fn setup_failed(out: &Out, msg: &str) -> ExitCode {
    send(out, KIND_STDERR, msg.as_bytes());
    exit_with(
        out,
        Exit {
            code: Some(126),
            signal: None,
            oom_kills: None,
        },
    )
}

fn exit_with(out: &Out, exit: Exit) -> ExitCode {
    send(out, KIND_EXIT, &exit.encode());
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    // Not dumpable: the command runs as the same uid, and would otherwise
    // be able to open /proc/1/fd/1 and write frames of its own, or ptrace
    // the agent.
    // SAFETY: prctl with integer arguments only.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
    let out: Out = Arc::new(Mutex::new(io::stdout()));
    let mut input = io::stdin().lock();
    let mut req = match Request::read_from(&mut input) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sandboxcore-agent: cannot read the request: {e}");
            return ExitCode::from(2);
        }
    };
    drop(input);

    let mut cmd = Command::new(OsStr::from_bytes(&req.argv[0]));
    cmd.args(req.argv[1..].iter().map(|a| OsStr::from_bytes(a)))
        .env_clear()
        .process_group(0);
    for kv in &req.env {
        let (k, v) = match kv.iter().position(|&b| b == b'=') {
            Some(i) => (&kv[..i], &kv[i + 1..]),
            None => (&kv[..], &b""[..]),
        };
        cmd.env(OsStr::from_bytes(k), OsStr::from_bytes(v));
    }
    if !req.cwd.is_empty() {
        // Entered here rather than in the child, so that a failure is told
        // as what it is (the agent runs one command, so its own directory
        // is the command's).
        let cwd = OsStr::from_bytes(&req.cwd);
        if let Err(e) = std::env::set_current_dir(cwd) {
            let msg = format!(
                "sandboxcore: cannot enter the working directory {}: {e}\n",
                cwd.to_string_lossy()
            );
            return setup_failed(&out, &msg);
        }
    }
    // The way out of an allowlist run: listening before the command starts,
    // so its first connection finds the port open.
    if !req.egress.is_empty() {
        let socket = std::path::PathBuf::from(OsStr::from_bytes(&req.egress));
        if let Err(e) = egress::start(socket) {
            let msg = format!(
                "sandboxcore: cannot listen on 127.0.0.1:{} for the egress proxy: {e}\n",
                sandboxcore_agent::PROXY_PORT
            );
            return setup_failed(&out, &msg);
        }
    }
    // SAFETY: the closure makes three system calls on a static path and
    // buffer (no allocation, no lock: the agent has other threads when it
    // spawns); making the command the OOM killer's first choice keeps the
    // agent alive to report the kill.
    unsafe {
        cmd.pre_exec(|| {
            let fd = libc::open(
                c"/proc/self/oom_score_adj".as_ptr(),
                libc::O_WRONLY | libc::O_CLOEXEC,
            );
            if fd >= 0 {
                libc::write(fd, b"1000".as_ptr().cast(), 4);
                libc::close(fd);
            }
            Ok(())
        });
    }
    // The threads that carry the command's input and output start before
    // the command: once it runs, its processes may use up the container's
    // pids (a fork bomb), and a thread started after that cannot be made
    // (the agent panicked and the run's output was lost).
    let (out_r, out_w) = match pipe() {
        Ok(p) => p,
        Err(e) => return cannot_start(&out, &e),
    };
    let (err_r, err_w) = match pipe() {
        Ok(p) => p,
        Err(e) => return cannot_start(&out, &e),
    };
    cmd.stdout(Stdio::from(out_w)).stderr(Stdio::from(err_w));
    if req.stdin.is_empty() {
        cmd.stdin(Stdio::null());
    } else {
        let (in_r, mut in_w) = match pipe() {
            Ok(p) => p,
            Err(e) => return cannot_start(&out, &e),
        };
        cmd.stdin(Stdio::from(in_r));
        let data = std::mem::take(&mut req.stdin);
        // A command that does not read its input is not an error; the
        // write fails once the read end is closed.
        thread::spawn(move || {
            let _ = in_w.write_all(&data);
        });
    }
    // End of file on our stdin: the host is gone.
    thread::spawn(|| {
        let mut sink = [0u8; 256];
        let mut stdin = io::stdin();
        while !matches!(stdin.read(&mut sink), Ok(0) | Err(_)) {}
        std::process::exit(3);
    });
    let (done, finished) = mpsc::channel();
    for (pipe, kind) in [(out_r, KIND_STDOUT), (err_r, KIND_STDERR)] {
        let (o, d) = (out.clone(), done.clone());
        thread::spawn(move || forward(pipe, kind, o, d));
    }
    let readers = 2;
    let spawned = cmd.spawn();
    // Our copies of the pipes' command ends: closed, so that the readers
    // see the end of the output when the command's processes are gone.
    drop(cmd);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            let program = String::from_utf8_lossy(&req.argv[0]);
            let (code, why) = match e.kind() {
                io::ErrorKind::NotFound => (127, "command not found".to_string()),
                io::ErrorKind::PermissionDenied => (126, "permission denied".to_string()),
                _ => (126, e.to_string()),
            };
            send(
                &out,
                KIND_STDERR,
                format!("sandboxcore: {program}: {why}\n").as_bytes(),
            );
            return exit_with(
                &out,
                Exit {
                    code: Some(code),
                    signal: None,
                    oom_kills: oom_kills(),
                },
            );
        }
    };
    send(&out, KIND_STARTED, &child.id().to_le_bytes());
    let status = match child.wait() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sandboxcore-agent: cannot wait for the command: {e}");
            return ExitCode::from(2);
        }
    };
    let deadline = std::time::Instant::now() + DRAIN;
    for _ in 0..readers {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if finished.recv_timeout(left).is_err() {
            break;
        }
    }
    exit_with(
        &out,
        Exit {
            code: status.code(),
            signal: status.signal(),
            oom_kills: oom_kills(),
        },
    )
}
