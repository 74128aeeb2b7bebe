//! The MCP tools (`classify`, `check`, `run`) and resources
//! (`sandboxcore://status`, `sandboxcore://metrics`).

use super::approval::{ElicitationApprover, SessionApprovals};
use super::reply;
use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{
    CallToolResult, Implementation, ListResourcesResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
    ResourceContents, ServerCapabilities, ServerConfig,
};
use rmcp::schemars::{self, JsonSchema};
use rmcp::service::{ElicitationMode, RequestContext};
use rmcp::{tool, tool_handler, tool_router, ErrorData, Peer, RoleServer, ServerHandler};
use sandboxcore::exec::{FsAccess, Limits, Network};
use sandboxcore::{Command, RunOptions, Sandbox};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The longest command (line or argv, in bytes) a tool accepts. The
/// policy's own `max_command_length` (1000 characters by default) refuses
/// long commands too, but only after classifying them; this bound caps
/// what one input can cost (a 64 KiB line of nested wrappers, the worst
/// case measured, takes about half a second to classify in a release
/// build).
pub const MAX_COMMAND_BYTES: usize = 64 * 1024;

/// What a run gets when the client does not say.
#[derive(Debug, Clone)]
pub struct RunDefaults {
    /// Working directory.
    pub cwd: Option<PathBuf>,
    /// A host directory the working directories clients ask for must lie
    /// in (process backend: the server's working directory, which is
    /// writable for the command; a client must not make `/etc` its cwd).
    /// `None`: the cwd is a path in a container.
    pub confine_cwd: Option<PathBuf>,
    /// Limits; the timeout is also the most a client may ask for.
    pub limits: Limits,
    /// Network access.
    pub network: Network,
    /// Extra filesystem access (process backend).
    pub filesystem: FsAccess,
}

/// One MCP session's server: the sandbox it runs commands in, the run
/// defaults and the commands approved for this session.
#[derive(Clone)]
pub struct SandboxServer {
    sandbox: Sandbox,
    defaults: RunDefaults,
    approvals: SessionApprovals,
    /// Cancelled when the client is gone (stdin closed): runs in flight
    /// stop at once.
    gone: CancellationToken,
    /// One clone per run in flight (see [`SandboxServer::wait_idle`]).
    in_flight: std::sync::Arc<()>,
    tool_router: ToolRouter<SandboxServer>,
}

/// A command as a line or as an argv (exactly one of the two).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CommandArg {
    /// A command line, judged and run as bash would, e.g.
    /// `npm test -- --watch=false`. Give this or `argv`.
    #[serde(default)]
    pub command: Option<String>,
    /// An argv, run exactly as given with no shell, e.g. `["git",
    /// "status"]`. Give this or `command`.
    #[serde(default)]
    pub argv: Option<Vec<String>>,
}

/// Arguments of `classify`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ClassifyParams {
    /// The command line to classify.
    pub command: String,
}

/// Arguments of `check`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CheckParams {
    /// The command: `command` (a line) or `argv` (a list).
    #[serde(flatten)]
    pub command: CommandArg,
}

/// Arguments of `run`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RunParams {
    /// The command: `command` (a line) or `argv` (a list).
    #[serde(flatten)]
    pub command: CommandArg,
    /// Working directory: the server's (the default), or a directory
    /// inside it, absolute or relative to it.
    #[serde(default)]
    pub cwd: Option<String>,
    /// Wall-clock limit in seconds (default and maximum: the server's).
    #[serde(default)]
    pub timeout_secs: Option<f64>,
    /// Extra environment variables.
    #[serde(default)]
    pub env: Option<BTreeMap<String, String>>,
    /// Text given to the command on standard input (default: none).
    #[serde(default)]
    pub stdin: Option<String>,
}

impl CommandArg {
    fn into_command(self) -> Result<Command, String> {
        let (command, len) = match (self.command, self.argv) {
            (Some(command), None) => {
                let len = command.len();
                (Command::Line(command), len)
            }
            (None, Some(argv)) => {
                let len = argv.iter().map(|a| a.len() + 1).sum();
                (Command::Argv(argv), len)
            }
            (Some(_), Some(_)) => {
                return Err("give either `command` (a line) or `argv` (a list), not both".into())
            }
            (None, None) => {
                return Err("give the command: `command` (a line) or `argv` (a list)".into())
            }
        };
        check_size(len)?;
        Ok(command)
    }
}

fn check_size(len: usize) -> Result<(), String> {
    if len > MAX_COMMAND_BYTES {
        return Err(format!(
            "the command is {len} bytes long; this server takes commands of at most {MAX_COMMAND_BYTES} bytes"
        ));
    }
    Ok(())
}

impl SandboxServer {
    /// A server for one session.
    pub fn new(sandbox: Sandbox, defaults: RunDefaults) -> SandboxServer {
        SandboxServer {
            sandbox,
            defaults,
            approvals: SessionApprovals::default(),
            gone: CancellationToken::new(),
            in_flight: std::sync::Arc::new(()),
            tool_router: Self::tool_router(),
        }
    }

    /// The same server for a new session (HTTP): nothing approved yet.
    pub fn new_session(&self) -> SandboxServer {
        SandboxServer {
            approvals: SessionApprovals::default(),
            gone: self.gone.child_token(),
            ..self.clone()
        }
    }

    /// The token cancelled when the client is gone.
    pub fn gone_token(&self) -> CancellationToken {
        self.gone.clone()
    }

    /// Waits until no run is in flight (their commands killed and cleaned
    /// up), at most `bound`.
    pub async fn wait_idle(&self, bound: Duration) {
        let deadline = tokio::time::Instant::now() + bound;
        while std::sync::Arc::strong_count(&self.in_flight) > 1
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The run options for one call, from its arguments and the defaults.
    fn run_options(&self, params: &mut RunParams) -> Result<RunOptions, String> {
        let mut limits = self.defaults.limits.clone();
        if let Some(secs) = params.timeout_secs {
            let asked = Limits::timeout_from("timeout_secs", secs, "seconds", 1.0)
                .map_err(|e| e.to_string())?;
            limits.timeout = match (asked, limits.timeout) {
                (Some(a), Some(max)) => Some(a.min(max)),
                (a, None) => a,
                (None, max) => max,
            };
        }
        Ok(RunOptions {
            cwd: self.cwd(params.cwd.take())?,
            env: params.env.take().unwrap_or_default(),
            stdin: params.stdin.take().map(String::into_bytes),
            limits: Some(limits),
            network: self.defaults.network.clone(),
            filesystem: self.defaults.filesystem.clone(),
            labels: BTreeMap::from([("front_end".to_string(), "mcp".to_string())]),
        })
    }

    /// The working directory of a run: the default, or the one the client
    /// asked for (relative to the default) when it lies inside the
    /// confining directory.
    fn cwd(&self, asked: Option<String>) -> Result<Option<PathBuf>, String> {
        let Some(asked) = asked else {
            return Ok(self.defaults.cwd.clone());
        };
        let Some(root) = &self.defaults.confine_cwd else {
            return Ok(Some(PathBuf::from(asked)));
        };
        let real =
            std::fs::canonicalize(root.join(&asked)).map_err(|e| format!("cwd `{asked}`: {e}"))?;
        if !real.starts_with(root) {
            return Err(format!(
                "cwd `{asked}` is outside the server's working directory {}; runs work inside it",
                root.display()
            ));
        }
        Ok(Some(real))
    }

    /// The sandbox for one call: it asks the client about `ask` verdicts
    /// when the client can be asked (elicitation), else it has no approver
    /// and such commands are refused with the reasons.
    fn sandbox_for(&self, peer: &Peer<RoleServer>, command: &Command) -> Sandbox {
        if peer
            .supported_elicitation_modes()
            .contains(&ElicitationMode::Form)
        {
            self.sandbox.with_approver(ElicitationApprover::new(
                peer.clone(),
                self.approvals.clone(),
                command.text(),
            ))
        } else {
            self.sandbox.clone()
        }
    }
}

#[tool_router]
impl SandboxServer {
    /// Classifies a command line.
    #[tool(
        description = "Parse a shell command line as bash would and report, without running it: \
        whether it is a plain argv (needs_shell false, with argv), every program it runs (seen \
        through sudo, env, xargs, bash -c, find -exec, $(...)), whether it is read-only, its risk \
        (low|medium|high|critical) and the reasons. Nothing is run.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn classify(
        &self,
        Parameters(params): Parameters<ClassifyParams>,
    ) -> Result<CallToolResult, ErrorData> {
        if let Err(e) = check_size(params.command.len()) {
            return Ok(reply::invalid(&e));
        }
        Ok(reply::classification(&sandboxcore::classify(
            &params.command,
        )))
    }

    /// Checks a command against the policy.
    #[tool(
        description = "Check a command against the sandbox's policy without running it. Give \
        `command` (a shell line) or `argv` (a list, no shell). Returns the decision: verdict \
        allow|warn|ask|deny, the reasons (rule and message), and the classification. Use it to \
        find out whether `run` would accept a command.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn check(
        &self,
        Parameters(params): Parameters<CheckParams>,
    ) -> Result<CallToolResult, ErrorData> {
        let command = match params.command.into_command() {
            Ok(c) => c,
            Err(e) => return Ok(reply::invalid(&e)),
        };
        Ok(reply::decision(&self.sandbox.check_command(&command)))
    }

    /// Runs a command in the sandbox.
    #[tool(
        description = "Run a command in the sandbox after checking it against the policy. Give \
        `command` (a shell line, run by bash) or `argv` (a list, run with no shell), and \
        optionally cwd, timeout_secs, env and stdin. The command runs isolated (see the resource \
        sandboxcore://status for what is enforced): no network unless the server allows it, the \
        host read-only except the working directory. Returns the exit code, stdout and stderr \
        (long output keeps its head and tail, and says so). A command the policy refuses is \
        not run: the result is an error with the policy's reasons; change the command rather \
        than retrying it. Commands that need approval are put to the user when the client \
        supports it.",
        annotations(destructive_hint = true, open_world_hint = true)
    )]
    async fn run(
        &self,
        Parameters(mut params): Parameters<RunParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let options = match self.run_options(&mut params) {
            Ok(o) => o,
            Err(e) => return Ok(reply::invalid(&e)),
        };
        let command = match params.command.into_command() {
            Ok(c) => c,
            Err(e) => return Ok(reply::invalid(&e)),
        };
        let _in_flight = self.in_flight.clone();
        let decision = self.sandbox.decide(&command, &options.env);
        let sandbox = self.sandbox_for(&context.peer, &command);
        let (events, rx) = tokio::sync::mpsc::channel(64);
        let progress = super::progress::forward(
            context.peer.clone(),
            context.meta.get_progress_token(),
            self.defaults.limits.output_bytes,
            rx,
        );
        let run = async {
            let (result, ()) = tokio::join!(
                sandbox.run_command_streaming(command, options, events),
                progress
            );
            result
        };
        // Dropping the run (the client cancelled, or went away) kills the
        // command and everything it started; the sandbox audits it as
        // cancelled.
        tokio::select! {
            result = run => Ok(match result {
                Ok(outcome) => reply::outcome(&outcome, &decision),
                Err(e) => reply::error(&e),
            }),
            () = context.ct.cancelled() => Err(ErrorData::internal_error("cancelled by the client", None)),
            () = self.gone.cancelled() => Err(ErrorData::internal_error("the client went away", None)),
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for SandboxServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new(
            "sandboxcore",
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(
            "Run shell commands through sandboxcore: `run` checks a command against the \
             operator's policy and runs it isolated; `check` and `classify` tell you in advance \
             whether and why a command would be refused. Refusals carry the policy's reasons: \
             adapt the command instead of retrying it. The resource sandboxcore://status says \
             which policy and which isolation are in force.",
        )
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(vec![
            Resource::new(reply::STATUS_URI, "status")
                .with_description(
                    "The policy in force (mode, enforcement, rules), the backend and what it \
                     enforces on this host (capabilities), as JSON.",
                )
                .with_mime_type("application/json"),
            Resource::new(reply::METRICS_URI, "metrics")
                .with_description("Decisions and executions so far, in the Prometheus text format.")
                .with_mime_type("text/plain"),
        ]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let (text, mime) = match request.uri.as_str() {
            reply::STATUS_URI => (reply::status(&self.sandbox).to_string(), "application/json"),
            reply::METRICS_URI => (self.sandbox.metrics().encode(), "text/plain"),
            other => {
                return Err(ErrorData::resource_not_found(
                    format!("no resource {other}; see resources/list"),
                    None,
                ))
            }
        };
        Ok(ReadResourceResult::new(vec![
            ResourceContents::text(text, request.uri.clone()).with_mime_type(mime)
        ])
        .into())
    }
}
