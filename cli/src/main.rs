//! The `sandboxcore` command-line tool.

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::io::{self, Write};
use std::process::ExitCode;

/// mimalloc: batch classification allocates and frees small strings at a
/// high rate, where it is faster than glibc's allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod backend_args;
mod check_cmd;
mod classify_cmd;
mod command_words;
mod gc_cmd;
mod k8s_cmd;
mod mcp;
mod policy_cmd;
mod policy_source;
mod prompt;
mod proxy_cmd;
mod run_cmd;
mod verify_cmd;

/// Decide whether shell commands an AI agent wants to run are safe.
#[derive(Parser)]
#[command(name = "sandboxcore", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    /// Classify a command line and print the result as JSON.
    ///
    /// Output fields:
    ///   needs_shell  false = bash and dash would both run exactly one program
    ///                with exactly `argv` (run it without a shell); true = a
    ///                shell is needed (or the line cannot run: see parse_error).
    ///   argv         the exact argv when needs_shell is false, else null.
    ///   programs     every program the line runs, seen through wrappers
    ///                (sudo, env, xargs, bash -c, find -exec, $(...)): name,
    ///                argv (when fully static), words (as written), via.
    ///   constructs   shell features used: pipe, and, or, sequence,
    ///                background, redirection, here_doc, command_substitution,
    ///                glob, parameter_expansion, subshell, ...
    ///   read_only    true only when nothing is modified.
    ///   risk         low | medium | high | critical.
    ///   reasons      [{code, risk, message}] behind the risk.
    ///   parse_error  why bash would reject the line, else null.
    #[command(verbatim_doc_comment)]
    Classify(classify_cmd::ClassifyArgs),
    /// Check a command against the policy and print the decision as JSON.
    ///
    /// Exit status: 0 allow or warn, 3 ask (needs approval), 4 deny,
    /// 2 usage or policy errors.
    ///
    /// Output fields (besides `command`):
    ///   verdict         allow | warn | ask | deny.
    ///   reasons         [{rule, effect, message}], strongest first; effect
    ///                   is what the rule does under enforce (deny, ask,
    ///                   warn, note).
    ///   matched_rule    the rule behind the verdict, or null.
    ///   plan            {"direct": [argv]} (no shell), {"shell": "script"},
    ///                   or null when the command must not run.
    ///   proposed_rule   for ask (and deny only because a program is not
    ///                   listed): {"rules": [...]}, the approved_commands
    ///                   entries that would let it run next time; else null.
    ///   classification  the output of `sandboxcore classify`.
    #[command(verbatim_doc_comment)]
    Check(check_cmd::CheckArgs),
    /// Validate or show policies.
    Policy(policy_cmd::PolicyArgs),
    /// Check a command against the policy and run it in a sandbox backend,
    /// streaming its output live.
    ///
    /// Exit status: the command's own, 128+N when it was killed by signal N
    /// (timeouts and memory limits kill), 3 when it needs approval (see
    /// --yes), 4 when the policy denies it, 2 for usage or setup errors.
    #[command(verbatim_doc_comment)]
    Run(Box<run_cmd::RunArgs>),
    /// Kubernetes backend helpers.
    K8s(k8s_cmd::K8sArgs),
    /// Remove what crashed runs left behind (cgroups, homes, Jobs).
    Gc(gc_cmd::GcArgs),
    /// Prove each isolation layer of a backend from inside real runs and
    /// print the checklist: non-root, no capabilities, read-only root,
    /// writes outside the workspace refused, deny-read paths hidden, no
    /// network, host processes invisible, no leaked descriptors,
    /// no_new_privs, seccomp, process and memory limits. Exit status 1 when
    /// any check fails.
    Verify(verify_cmd::VerifyArgs),
    /// Serve the classifier, the policy and the sandbox to MCP clients
    /// (agents, IDEs, desktop assistants): tools classify, check and run,
    /// resources sandboxcore://status and sandboxcore://metrics. Over
    /// stdio by default; streamable HTTP with --listen. See docs/mcp.md.
    Mcp(Box<mcp::McpArgs>),
    /// Run the filtering egress proxy on its own: connections allowed by
    /// the policy's `network:` section (allow, deny) and --allow-host /
    /// --deny-host, names resolved by the proxy, special-purpose addresses
    /// refused unless allowed by address, 403 with X-Sandboxcore-Refused
    /// otherwise. Hosts a `require_approval` pattern names are refused
    /// (there is nobody to ask). Prints `listening on ADDR` on stderr and
    /// serves until SIGINT or SIGTERM, then exits 0. The Kubernetes egress
    /// proxy (`sandboxcore k8s manifests --egress-proxy`) runs this.
    #[command(verbatim_doc_comment)]
    Proxy(Box<proxy_cmd::ProxyArgs>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Commands::Classify(args) => classify_cmd::run(args),
        Commands::Check(args) => check_cmd::run(args),
        Commands::Policy(args) => policy_cmd::run(args),
        Commands::Run(args) => run_cmd::run(*args),
        Commands::K8s(args) => k8s_cmd::run(args),
        Commands::Gc(args) => gc_cmd::run(args),
        Commands::Verify(args) => verify_cmd::run(args),
        Commands::Mcp(args) => mcp::run(*args),
        Commands::Proxy(args) => proxy_cmd::run(*args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // A closed stdout (`| head`) is not an error worth a message.
            if broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("sandboxcore: {}", report(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes down to the first core error, whose message
/// already says what its own causes say (an executor's `io::Error`, the
/// Docker client's error).
fn reported(e: &anyhow::Error) -> impl Iterator<Item = &(dyn std::error::Error + 'static)> {
    let mut done = false;
    e.chain().take_while(move |c| {
        let take = !done;
        done = done || c.is::<sandboxcore::Error>();
        take
    })
}

/// `error: cause: cause`, as `{:#}` prints it, without the causes of a
/// core error (see [`reported`]).
fn report(e: &anyhow::Error) -> String {
    let text: Vec<String> = reported(e).map(ToString::to_string).collect();
    text.join(": ")
}

/// Whether the error is the CLI's own output being closed (a broken pipe
/// inside a backend's error is a failure of the run, not that).
fn broken_pipe(e: &anyhow::Error) -> bool {
    reported(e).any(|c| {
        c.downcast_ref::<io::Error>()
            .map(io::Error::kind)
            .or_else(|| c.downcast_ref::<serde_json::Error>()?.io_error_kind())
            == Some(io::ErrorKind::BrokenPipe)
    })
}

/// Writes one JSON value and a newline.
pub(crate) fn print_json(out: &mut impl Write, value: &impl serde::Serialize) -> Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Writes one JSON value, pretty-printed or on one line, and flushes.
pub(crate) fn print_json_flush(
    out: &mut impl Write,
    value: &impl serde::Serialize,
    pretty: bool,
) -> Result<()> {
    if pretty {
        serde_json::to_writer_pretty(&mut *out, value)?;
        out.write_all(b"\n")?;
    } else {
        print_json(out, value)?;
    }
    out.flush()?;
    Ok(())
}

/// Logs (and audit events) go to stderr: stdout is the protocol's channel
/// (`mcp`), or nothing (`proxy`). `RUST_LOG` chooses what is shown
/// (default: audit events and warnings).
pub(crate) fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sandboxcore::audit=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context as _;
    use sandboxcore::{BackendKind, ExecErrorKind};

    #[test]
    fn a_core_error_is_reported_once_and_its_causes_are_not_the_clis() {
        let pipe = || io::Error::from(io::ErrorKind::BrokenPipe);
        let core = sandboxcore::Error::executor_from(
            BackendKind::Process,
            ExecErrorKind::Io,
            "cannot wait for the command",
            pipe(),
        );
        let expected = format!("process executor: cannot wait for the command: {}", pipe());
        let e = Err::<(), _>(core).context("running `true`").unwrap_err();
        assert_eq!(report(&e), format!("running `true`: {expected}"));
        // `{:#}` would repeat the io::Error after the message that has it.
        assert_eq!(format!("{e:#}"), format!("{}: {}", report(&e), pipe()));
        assert!(!broken_pipe(&e));
        // The CLI's own closed stdout is still recognised, however wrapped.
        let own = anyhow::Error::new(pipe()).context("writing the output");
        assert!(broken_pipe(&own));
        assert_eq!(report(&own), format!("{own:#}"));
    }
}
