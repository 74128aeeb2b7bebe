//! `sandboxcore mcp`: the classifier, the policy and the sandbox as a Model
//! Context Protocol server (over stdio, or streamable HTTP with
//! `--listen`), built on the official Rust SDK, `rmcp`.
//!
//! The server holds no logic of its own: each tool calls the core
//! ([`sandboxcore::classify`], [`sandboxcore::Sandbox::check_command`],
//! [`sandboxcore::Sandbox::run_command_streaming`]) and shapes the answer
//! for a model to read. See docs/mcp.md.

mod approval;
mod http;
mod progress;
mod reply;
mod server;
mod stdio;

use crate::backend_args::{self, Backend, BackendArgs, LimitArgs};
use crate::policy_source::PolicySource;
use anyhow::{Context, Result};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

pub use server::SandboxServer;

/// The environment variable holding the bearer token of `--listen`.
pub const TOKEN_ENV: &str = "SANDBOXCORE_MCP_TOKEN";

/// Arguments of `sandboxcore mcp`.
#[derive(Args)]
pub struct McpArgs {
    #[command(flatten)]
    source: PolicySource,
    #[command(flatten)]
    backend: BackendArgs,
    /// Limits of each run; `--timeout` is also the most a client may ask
    /// for with `timeout_secs`.
    #[command(flatten)]
    limits: LimitArgs,
    /// Working directory of runs that do not give one (process backend:
    /// default the directory the server starts in).
    #[arg(long, value_name = "DIR")]
    cwd: Option<PathBuf>,
    /// Append decisions and executions to this JSON-lines audit file.
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
    /// Serve streamable HTTP at ADDR (e.g. 127.0.0.1:8765, path /mcp)
    /// instead of stdio. Clients must send `Authorization: Bearer TOKEN`
    /// with the token from $SANDBOXCORE_MCP_TOKEN; the server refuses to
    /// listen on a non-loopback address without one.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
}

/// Runs the subcommand until the client goes away (stdio) or the process
/// is interrupted (HTTP).
pub fn run(args: McpArgs) -> Result<ExitCode> {
    crate::init_logging();
    let token = std::env::var(TOKEN_ENV).ok().filter(|t| !t.is_empty());
    if let Some(addr) = args.listen {
        http::check_listen(addr, token.as_deref())?;
    }
    let runtime = backend_args::runtime()?;
    let builder = backend_args::sandbox_builder(
        &args.source,
        &args.backend,
        args.audit_log.as_deref(),
        &runtime,
        false,
    )?;
    let cwd = args.backend.cwd_or_default(args.cwd.as_ref())?;
    let confine_cwd = match (&cwd, args.backend.backend) {
        (Some(cwd), Backend::Process) => Some(
            std::fs::canonicalize(cwd)
                .with_context(|| format!("cannot use the working directory {}", cwd.display()))?,
        ),
        _ => None,
    };
    let defaults = server::RunDefaults {
        cwd: confine_cwd.clone().or(cwd),
        confine_cwd,
        limits: args.limits.limits(),
        network: args.backend.network()?,
        filesystem: args.backend.filesystem(),
    };
    let server = SandboxServer::new(builder.build()?, defaults);
    runtime.block_on(async move {
        match args.listen {
            Some(addr) => http::serve(server, addr, token).await,
            None => stdio::serve(server).await,
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
