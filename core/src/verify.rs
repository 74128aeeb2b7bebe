//! Proves a backend's isolation from inside real runs: each check starts a
//! command that tries what the layer must stop (or reads what the kernel
//! says about the process) and judges the outcome. `sandboxcore verify`
//! prints the result as a table; any failure is exit status 1.
//!
//! The commands are POSIX `sh` with the tools of busybox, so the same
//! checks run in a minimal container image.

use crate::exec::{ExecOutcome, ExecRequest, Executor, Limits};
use crate::Plan;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// One verified property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What is checked (the seed's checklist item).
    pub name: &'static str,
    /// Whether the backend passed.
    pub passed: bool,
    /// What was seen.
    pub detail: String,
}

/// A marker that must not appear in what a check's command prints.
const SECRET: &str = "sandboxcore-verify-secret-7f3a";

fn request(script: &str, limits: Limits) -> ExecRequest {
    let mut r = ExecRequest::new(Plan::Shell(script.to_string()));
    r.limits = limits;
    r
}

fn quick() -> Limits {
    Limits {
        timeout: Some(Duration::from_secs(20)),
        ..Limits::default()
    }
}

fn out(o: &ExecOutcome) -> String {
    let text = format!("{}{}", o.stdout_text(), o.stderr_text());
    let line = text.trim().replace('\n', " | ");
    if line.chars().count() > 120 {
        format!("{}...", line.chars().take(120).collect::<String>())
    } else {
        line
    }
}

/// Runs every check on `executor`.
pub async fn verify(executor: &dyn Executor) -> Vec<Check> {
    let mut checks = Vec::new();
    let run = |script: &str, limits: Limits| {
        let req = request(script, limits);
        async move { executor.execute(req).await }
    };
    // Host-side material: a directory outside the workspace (writable by
    // anyone, so only the sandbox can refuse), a secret file to hide, a
    // descriptor leaked without close-on-exec and a loopback listener.
    // Not below /tmp: a private /tmp would hide it and prove nothing.
    let outside = tempfile::Builder::new()
        .prefix("sandboxcore-verify-")
        .tempdir_in("/var/tmp")
        .or_else(|_| {
            tempfile::Builder::new()
                .prefix("sandboxcore-verify-")
                .tempdir()
        })
        .ok();
    if let Some(dir) = &outside {
        let _ = std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o777),
        );
    }
    let secret_file = outside.as_ref().map(|d| d.path().join("secret"));
    if let Some(f) = &secret_file {
        let _ = std::fs::write(f, SECRET);
        let _ = std::fs::set_permissions(f, std::os::unix::fs::PermissionsExt::from_mode(0o644));
    }
    let leaked = leak_descriptor();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").ok();
    if let Some(l) = &listener {
        let _ = l.set_nonblocking(true);
    }

    let mut push = |name: &'static str, passed: bool, detail: String| {
        checks.push(Check {
            name,
            passed,
            detail,
        })
    };
    let fail = |e: crate::Error| format!("the run failed: {e}");

    match run("id -u", quick()).await {
        Ok(o) => {
            let uid = o.stdout_text().trim().to_string();
            push(
                "runs as non-root",
                uid != "0" && !uid.is_empty(),
                format!("uid {uid}"),
            );
        }
        Err(e) => push("runs as non-root", false, fail(e)),
    }
    match run("grep -E '^Cap(Eff|Prm|Bnd):' /proc/self/status", quick()).await {
        Ok(o) => {
            let text = o.stdout_text();
            let all_zero = text.lines().count() >= 2
                && text
                    .lines()
                    .filter(|l| l.starts_with("CapEff") || l.starts_with("CapPrm"))
                    .all(|l| l.trim_end().ends_with("0000000000000000"));
            push("no capabilities", all_zero, out(&o));
        }
        Err(e) => push("no capabilities", false, fail(e)),
    }
    match run(
        "touch /sandboxcore-verify-probe 2>&1; touch /etc/sandboxcore-verify-probe 2>&1; echo end",
        quick(),
    )
    .await
    {
        Ok(o) => {
            let host_clean = !std::path::Path::new("/sandboxcore-verify-probe").exists()
                && !std::path::Path::new("/etc/sandboxcore-verify-probe").exists();
            let refused = o.stdout_text().matches("touch:").count() == 2;
            push("read-only root", refused && host_clean, out(&o));
        }
        Err(e) => push("read-only root", false, fail(e)),
    }
    match &outside {
        Some(dir) => {
            let target = dir.path().join("written");
            let script = format!("echo x > '{}' 2>&1 || echo refused", target.display());
            match run(&script, quick()).await {
                Ok(o) => push(
                    "writes outside the workspace refused",
                    !target.exists(),
                    out(&o),
                ),
                Err(e) => push("writes outside the workspace refused", false, fail(e)),
            }
        }
        None => push(
            "writes outside the workspace refused",
            false,
            "cannot create a host directory to test with".into(),
        ),
    }
    match &secret_file {
        Some(f) => {
            let mut req = request(&format!("cat '{}' 2>&1; echo end", f.display()), quick());
            req.filesystem.deny_read.push(f.clone());
            match executor.execute(req).await {
                Ok(o) => push(
                    "deny-read paths hidden",
                    !o.stdout_text().contains(SECRET),
                    out(&o),
                ),
                Err(e) => push("deny-read paths hidden", false, fail(e)),
            }
        }
        None => push("deny-read paths hidden", false, "no secret file".into()),
    }
    let port = listener
        .as_ref()
        .and_then(|l| l.local_addr().ok())
        .map_or(0, |a| a.port());
    let net_script = format!(
        "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ' '; echo; \
         (nc -w 1 127.0.0.1 {port} </dev/null || wget -q -T 1 -O - http://127.0.0.1:{port}/ || \
          (exec 3<>/dev/tcp/127.0.0.1/{port})) >/dev/null 2>&1; echo end"
    );
    match run(&net_script, quick()).await {
        Ok(o) => {
            let ifaces = o
                .stdout_text()
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            let accepted = listener.as_ref().is_some_and(|l| l.accept().is_ok());
            push(
                "no network (only lo; the host's loopback unreachable)",
                ifaces == "lo" && !accepted,
                format!("interfaces: {ifaces}; host listener reached: {accepted}"),
            );
        }
        Err(e) => push(
            "no network (only lo; the host's loopback unreachable)",
            false,
            fail(e),
        ),
    }
    let me = std::process::id();
    match run(
        &format!("ls /proc | grep -c '^[0-9]'; [ -e /proc/{me} ] && tr '\\0' ' ' < /proc/{me}/cmdline; echo"),
        quick(),
    )
    .await
    {
        Ok(o) => {
            let text = o.stdout_text();
            let count: usize = text.lines().next().and_then(|l| l.trim().parse().ok()).unwrap_or(999);
            let own_cmdline = std::fs::read_to_string(format!("/proc/{me}/cmdline"))
                .unwrap_or_default()
                .replace('\0', " ");
            let sees_us = !own_cmdline.trim().is_empty() && text.contains(own_cmdline.trim());
            push(
                "host processes invisible",
                count < 20 && !sees_us,
                format!("{count} processes visible"),
            );
        }
        Err(e) => push("host processes invisible", false, fail(e)),
    }
    match &leaked {
        Some(fd) => {
            let n = fd.as_raw_fd();
            match run(&format!("cat /proc/self/fd/{n} 2>&1 <&- ; cat <&{n} 2>&1; ls /proc/self/fd | tr '\\n' ' '"), quick()).await {
                Ok(o) => push(
                    "no leaked descriptors",
                    !o.stdout_text().contains(SECRET),
                    format!("descriptor {n} of the host: {}", out(&o)),
                ),
                Err(e) => push("no leaked descriptors", false, fail(e)),
            }
        }
        None => push(
            "no leaked descriptors",
            false,
            "cannot open a descriptor to leak".into(),
        ),
    }
    match run(
        "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status",
        quick(),
    )
    .await
    {
        Ok(o) => {
            let text = o.stdout_text();
            let field = |name: &str| {
                text.lines()
                    .find(|l| l.starts_with(name))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .unwrap_or("")
                    .to_string()
            };
            push(
                "no_new_privs",
                field("NoNewPrivs:") == "1",
                format!("NoNewPrivs {}", field("NoNewPrivs:")),
            );
            push(
                "seccomp filter active",
                field("Seccomp:") == "2",
                format!("Seccomp mode {}", field("Seccomp:")),
            );
        }
        Err(e) => {
            push("no_new_privs", false, fail(e));
            checks_placeholder(&mut push, "seccomp filter active");
        }
    }
    let pids = Limits {
        processes: Some(16),
        timeout: Some(Duration::from_secs(20)),
        ..Limits::default()
    };
    match run(
        "i=0; while [ $i -lt 64 ]; do sleep 3 & i=$((i+1)); done; echo spawned-$i",
        pids,
    )
    .await
    {
        Ok(o) => push(
            "process limit (16)",
            !o.stdout_text().contains("spawned-64"),
            out(&o),
        ),
        Err(e) => push("process limit (16)", false, fail(e)),
    }
    let memory = Limits {
        memory: Some(64 << 20),
        timeout: Some(Duration::from_secs(30)),
        ..Limits::default()
    };
    match run(
        "awk 'BEGIN { s = sprintf(\"%300000000s\", \"\"); print length(s) }'",
        memory,
    )
    .await
    {
        Ok(o) => push(
            "memory limit (64 MiB)",
            !o.success(),
            format!("allocating 300 MB: {}", o_status(&o)),
        ),
        Err(e) => push("memory limit (64 MiB)", false, fail(e)),
    }
    drop(leaked);
    checks
}

fn checks_placeholder(push: &mut impl FnMut(&'static str, bool, String), name: &'static str) {
    push(name, false, "not checked: the run failed".into());
}

fn o_status(o: &ExecOutcome) -> String {
    if o.oom_killed {
        "killed by the memory limit".into()
    } else if let Some(s) = o.signal {
        format!("killed by signal {s}")
    } else {
        format!("exit status {}", o.exit_code.unwrap_or(-1))
    }
}

/// A descriptor of a secret file, numbered high and without close-on-exec.
fn leak_descriptor() -> Option<OwnedFd> {
    let mut file = tempfile::tempfile().ok()?;
    use std::io::{Seek, Write};
    file.write_all(SECRET.as_bytes()).ok()?;
    file.rewind().ok()?;
    // SAFETY: fcntl on a descriptor we own; the result is a new descriptor
    // (deliberately without FD_CLOEXEC).
    let fd = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_DUPFD, 77) };
    (fd >= 0).then(|| {
        // SAFETY: fcntl returned a new descriptor we now own.
        unsafe { OwnedFd::from_raw_fd(fd) }
    })
}

/// The checks as a table.
pub fn table(checks: &[Check]) -> String {
    let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut s = String::new();
    for c in checks {
        s.push_str(&format!(
            "{:<width$}  {}  {}\n",
            c.name,
            if c.passed { "PASS" } else { "FAIL" },
            c.detail
        ));
    }
    let failed = checks.iter().filter(|c| !c.passed).count();
    s.push_str(&format!(
        "verify: {} of {} checks passed\n",
        checks.len() - failed,
        checks.len()
    ));
    s
}
