//! The facade users call: [`Sandbox::check`] decides, [`Sandbox::run`]
//! decides and then runs on the configured executor, auditing and counting
//! both.

use crate::audit::{AuditLog, AuditRecord};
use crate::exec::{
    BoxFuture, EventSender, ExecOutcome, ExecRequest, Executor, FsAccess, Limits, Network,
    RunStatus,
};
use crate::metrics::Metrics;
use crate::policy::{Decision, Policy, ProposedRule, Verdict};
use crate::{BackendKind, Error, Result};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// An approver's answer to a command the policy asks about, with the
/// scope of a yes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    /// Do not run it.
    Deny,
    /// Run it this time.
    Once,
    /// Run it, and add the decision's
    /// [`proposed_rule`](Decision::proposed_rule) to this sandbox (and
    /// its clones) for its lifetime: the same command does not ask again.
    Session,
    /// Like `Session`, and write the rule into the policy file
    /// ([`SandboxBuilder::policy_file`]) with the date and the command.
    Persist,
}

impl Approval {
    /// The name in answers, JSON and audit records.
    pub fn as_str(self) -> &'static str {
        match self {
            Approval::Deny => "deny",
            Approval::Once => "once",
            Approval::Session => "session",
            Approval::Persist => "persist",
        }
    }

    /// Whether the command runs.
    pub fn approves(self) -> bool {
        self != Approval::Deny
    }
}

impl From<bool> for Approval {
    /// `true` is [`Approval::Once`], `false` [`Approval::Deny`].
    fn from(yes: bool) -> Approval {
        if yes {
            Approval::Once
        } else {
            Approval::Deny
        }
    }
}

impl std::fmt::Display for Approval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Approval {
    type Err = String;

    /// `once`, `session`, `persist` or `deny` (any case, surrounding
    /// blanks ignored); anything else is an error naming the answers.
    fn from_str(s: &str) -> std::result::Result<Approval, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "deny" => Ok(Approval::Deny),
            "once" => Ok(Approval::Once),
            "session" => Ok(Approval::Session),
            "persist" => Ok(Approval::Persist),
            _ => Err(format!(
                "invalid approval {s:?}: expected \"once\", \"session\", \"persist\" or \"deny\""
            )),
        }
    }
}

/// Decides on commands that need approval (the policy's `Ask` verdict).
pub trait Approver: Send + Sync {
    /// Resolves to `true` to run the command.
    fn approve<'a>(&'a self, decision: &'a Decision) -> BoxFuture<'a, bool>;

    /// Like [`Approver::approve`], for approvers that can fail (a Python
    /// function that raises, a JavaScript promise that rejects): `Err`
    /// says why, and the command is not run
    /// ([`Error::ApprovalFailed`]). The default never fails.
    fn try_approve<'a>(
        &'a self,
        decision: &'a Decision,
    ) -> BoxFuture<'a, std::result::Result<bool, String>> {
        let answer = self.approve(decision);
        Box::pin(async move { Ok(answer.await) })
    }

    /// The answer with its scope ([`Approval`]); what [`Sandbox::run`]
    /// calls. The default is [`Approver::try_approve`]'s: `true` is
    /// [`Approval::Once`], `false` [`Approval::Deny`]. `Err` says why the
    /// approver failed; the command is not run ([`Error::ApprovalFailed`]).
    fn approval<'a>(
        &'a self,
        decision: &'a Decision,
    ) -> BoxFuture<'a, std::result::Result<Approval, String>> {
        let answer = self.try_approve(decision);
        Box::pin(async move { answer.await.map(Approval::from) })
    }

    /// Resolves to `Ok(true)` to let a run connect to a host a
    /// `require_approval` pattern names; the egress proxy holds the
    /// connection until then and asks once per host and run. The default
    /// refuses: an approver written for commands approves no connection
    /// by accident.
    fn approve_connection<'a>(
        &'a self,
        request: &'a crate::net::ConnectionRequest,
    ) -> BoxFuture<'a, std::result::Result<bool, String>> {
        let _ = request;
        Box::pin(async { Ok(false) })
    }
}

/// Any `Fn(&Decision) -> bool` is an approver (it must not block for long:
/// it runs on the caller's task).
impl<F> Approver for F
where
    F: Fn(&Decision) -> bool + Send + Sync,
{
    fn approve<'a>(&'a self, decision: &'a Decision) -> BoxFuture<'a, bool> {
        let answer = self(decision);
        Box::pin(async move { answer })
    }
}

/// Per-run options for [`Sandbox::run`].
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Working directory.
    pub cwd: Option<PathBuf>,
    /// Extra environment variables.
    pub env: BTreeMap<String, String>,
    /// Standard input (`None` is `/dev/null`).
    pub stdin: Option<Vec<u8>>,
    /// Limits; the defaults of [`Limits`] when `None`.
    pub limits: Option<Limits>,
    /// Network access.
    pub network: Network,
    /// Labels copied to audit events.
    pub labels: BTreeMap<String, String>,
    /// Filesystem access for this run, on top of the backend's settings
    /// (and of the policy's `filesystem:` section).
    pub filesystem: FsAccess,
}

/// Checks and runs commands under one policy, executor, audit log and set
/// of metrics. Cheap to clone; share it between tasks.
#[derive(Clone)]
pub struct Sandbox {
    policy: Arc<Policy>,
    /// The policy with the rules approved for the session (and those
    /// persisted) added; shared by clones.
    session: Arc<RwLock<Arc<Policy>>>,
    /// Where `persist` approvals are written.
    policy_file: Option<PathBuf>,
    executor: Option<Arc<dyn Executor>>,
    audit: Arc<AuditLog>,
    metrics: Arc<Metrics>,
    approver: Option<Arc<dyn Approver>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("policy", self.policy.settings())
            .field(
                "executor",
                &self.executor.as_ref().map(|e| e.name().to_string()),
            )
            .field("approver", &self.approver.is_some())
            .finish_non_exhaustive()
    }
}

/// Builds a [`Sandbox`].
#[derive(Default)]
pub struct SandboxBuilder {
    policy: Option<Policy>,
    executor: Option<Arc<dyn Executor>>,
    audit: Option<AuditLog>,
    metrics: Option<Arc<Metrics>>,
    approver: Option<Arc<dyn Approver>>,
    policy_file: Option<PathBuf>,
}

impl SandboxBuilder {
    /// The policy file `persist` approvals are added to (see
    /// [`persist_approval`](crate::policy::persist_approval)); normally
    /// the file the policy was loaded from. Without one, a `persist`
    /// answer keeps the rule for the session only, and the execution's
    /// audit record says so (`approval: session`, `approval_note`).
    pub fn policy_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.policy_file = Some(path.into());
        self
    }

    /// The policy (default: [`Policy::default`]).
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// The executor that runs permitted commands.
    pub fn executor(mut self, executor: impl Executor + 'static) -> Self {
        self.executor = Some(Arc::new(executor));
        self
    }

    /// A shared executor.
    pub fn shared_executor(mut self, executor: Arc<dyn Executor>) -> Self {
        self.executor = Some(executor);
        self
    }

    /// The audit log (default: `tracing` events only).
    pub fn audit(mut self, audit: AuditLog) -> Self {
        self.audit = Some(audit);
        self
    }

    /// Metrics shared with other sandboxes (default: a fresh set).
    pub fn metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Who approves commands the policy asks about. Without one, such
    /// commands fail with [`Error::ApprovalRequired`].
    pub fn approver(mut self, approver: impl Approver + 'static) -> Self {
        self.approver = Some(Arc::new(approver));
        self
    }

    /// The sandbox.
    pub fn build(self) -> Result<Sandbox> {
        let policy = Arc::new(self.policy.unwrap_or_default());
        Ok(Sandbox {
            session: Arc::new(RwLock::new(policy.clone())),
            policy_file: self.policy_file,
            policy,
            executor: self.executor,
            audit: Arc::new(self.audit.unwrap_or_default()),
            metrics: self.metrics.unwrap_or_default(),
            approver: self.approver,
        })
    }
}

impl Sandbox {
    /// Starts building a sandbox.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// The run's filesystem access: the policy's `filesystem:` section
    /// (`~` expanded, relative paths joined to the working directory) and
    /// the run's own additions.
    fn filesystem_access(&self, mut access: FsAccess, cwd: Option<&std::path::Path>) -> FsAccess {
        let fs = &self.policy.settings().filesystem;
        if fs.writable.is_empty() && fs.deny_read.is_empty() {
            return access;
        }
        let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
        let cwd = cwd
            .map(std::path::Path::to_path_buf)
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_else(|| "/".into());
        let resolve =
            |p: &String| crate::policy::FilesystemPolicy::resolve(p, home.as_deref(), &cwd);
        access.writable.extend(fs.writable.iter().map(resolve));
        access.deny_read.extend(fs.deny_read.iter().map(resolve));
        access
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The metrics (`sandbox.metrics().encode()` gives the text exposition).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The configured executor's name, if any.
    pub fn backend(&self) -> Option<&str> {
        self.executor.as_deref().map(|e| e.name())
    }

    /// What the configured executor enforces on this host, if there is one.
    pub fn capabilities(&self) -> Option<crate::exec::Capabilities> {
        self.executor.as_deref().map(|e| e.capabilities())
    }

    /// The same sandbox (policy, executor, audit log, metrics) with another
    /// approver: for front ends that ask a different party per request (an
    /// MCP client, a connection of a server).
    pub fn with_approver(&self, approver: impl Approver + 'static) -> Sandbox {
        Sandbox {
            approver: Some(Arc::new(approver)),
            ..self.clone()
        }
    }

    /// The policy's decision on running a command with the extra
    /// environment variables `env` (see [`Policy::with_run_env`]), neither
    /// audited nor counted: for a front end that shows the decision behind
    /// a run it audits through [`Sandbox::run_command`].
    ///
    /// Rules approved for the session count (see [`Approval::Session`]).
    pub fn decide(&self, command: &Command, env: &BTreeMap<String, String>) -> Decision {
        let policy = self.session_policy();
        let decision = policy.check_command(command);
        policy.with_run_env(decision, env)
    }

    /// The policy in force with the rules approved for this session (and
    /// its clones) added.
    pub fn session_policy(&self) -> Arc<Policy> {
        self.session
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The rules approved for the session so far (scopes `session` and
    /// `persist`), oldest first.
    pub fn session_rules(&self) -> Vec<crate::policy::ApprovedCommand> {
        let policy = self.session_policy();
        let all = &policy.settings().approved_commands;
        all[self.policy.settings().approved_commands.len()..].to_vec()
    }

    /// Applies an approval's scope: adds the rule for the session, and
    /// for `persist` to the policy file. Returns the scope in effect and
    /// a note when it is narrower than asked.
    fn keep_approval(
        &self,
        scope: Approval,
        rule: Option<&ProposedRule>,
    ) -> (Approval, Option<String>) {
        if !matches!(scope, Approval::Session | Approval::Persist) {
            return (scope, None);
        }
        let Some(rule) = rule else {
            return (
                Approval::Once,
                Some(format!(
                    "{scope}: no rule can be proposed for this command; approved once"
                )),
            );
        };
        // Held through the file's update too: one approval at a time
        // edits the policy file.
        let mut current = self
            .session
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let known = &current.settings().approved_commands;
        let fresh = ProposedRule {
            rules: rule
                .rules
                .iter()
                .filter(|e| !known.iter().any(|k| k.same_rule(e)))
                .cloned()
                .collect(),
        };
        if !fresh.rules.is_empty() {
            match current.with_approved(&fresh) {
                Ok(p) => *current = Arc::new(p),
                Err(e) => return (Approval::Once, Some(format!("{scope}: {e}; approved once"))),
            }
        }
        if scope == Approval::Session {
            return (scope, None);
        }
        let Some(path) = &self.policy_file else {
            return (
                Approval::Session,
                Some(
                    "persist: the sandbox has no policy file (SandboxBuilder::policy_file); \
                     the rule is kept for this session only"
                        .into(),
                ),
            );
        };
        match crate::policy::persist_approval(path, rule) {
            Ok(()) => (Approval::Persist, None),
            Err(e) => (
                Approval::Session,
                Some(format!(
                    "persist: {e}; the rule is kept for this session only"
                )),
            ),
        }
    }

    /// Decides on a command, auditing and counting the decision.
    pub fn check(&self, command: &str) -> Decision {
        self.check_command(&Command::Line(command.to_string()))
    }

    /// Decides on a command line or an argv ([`Command`]), auditing and
    /// counting the decision.
    pub fn check_command(&self, command: &Command) -> Decision {
        let decision = self.decide(command, &BTreeMap::new());
        self.record_decision(command, &decision);
        decision
    }

    fn record_decision(&self, command: &Command, decision: &Decision) {
        self.metrics.record_decision(decision.verdict);
        // A failing audit file is reported through `tracing` by the log.
        let _ = self
            .audit
            .record(&AuditRecord::decision(&command.text(), decision));
    }

    /// Checks the command, asks for approval when the policy says so, and
    /// runs it on the executor. A denied command returns [`Error::Denied`]
    /// with the decision; the command's own failure is not an error (see
    /// [`ExecOutcome::exit_code`]).
    pub async fn run(&self, command: &str, options: RunOptions) -> Result<ExecOutcome> {
        self.run_inner(Command::Line(command.to_string()), options, None)
            .await
    }

    /// [`Sandbox::run`] for a command line or an argv: an argv runs exactly
    /// as given, with no shell, and is judged as that argv.
    pub async fn run_command(&self, command: Command, options: RunOptions) -> Result<ExecOutcome> {
        self.run_inner(command, options, None).await
    }

    /// [`Sandbox::run_streaming`] for a command line or an argv.
    pub async fn run_command_streaming(
        &self,
        command: Command,
        options: RunOptions,
        events: EventSender,
    ) -> Result<ExecOutcome> {
        self.run_inner(command, options, Some(events)).await
    }

    /// Like [`Sandbox::run`], sending output to `events` as it arrives.
    pub async fn run_streaming(
        &self,
        command: &str,
        options: RunOptions,
        events: EventSender,
    ) -> Result<ExecOutcome> {
        self.run_inner(Command::Line(command.to_string()), options, Some(events))
            .await
    }

    /// The network a run gets: what it asks for, under the policy's
    /// `network:` section. Without one, as asked (an allowlist gets the
    /// policy's `require_approval` patterns). Mode `none` refuses a run
    /// that asks for network; `allowlist` gives every run the policy's
    /// allowlist, with the run's own hosts added (the policy's deny rules
    /// still win); `full` gives the backend's network. An allowlist's
    /// proxy reports to this sandbox's approver, audit log and metrics.
    fn run_network(
        &self,
        asked: Network,
        labels: &std::collections::BTreeMap<String, String>,
    ) -> Result<Network> {
        let section = &self.policy.settings().network;
        let mode =
            (section.mode.is_some() || !section.allow.is_empty()).then(|| section.effective_mode());
        let rules = |own: Option<&crate::net::Egress>| {
            let mut rules = self.policy.egress_rules();
            if let Some(e) = own {
                rules.merge(e.rules().clone().with_origin("run"));
            }
            rules
        };
        let egress = |own: Option<&crate::net::Egress>| {
            let base = own
                .cloned()
                .unwrap_or_else(|| crate::net::Egress::new(rules(None)));
            let e = crate::net::Egress {
                rules: rules(own),
                ..base
            };
            Network::Allowlist(Arc::new(e.fill_from(
                self.approver.as_ref(),
                &self.audit,
                &self.metrics,
                labels,
            )))
        };
        use crate::net::NetworkMode;
        Ok(match (mode, asked) {
            (None, Network::Allowlist(own)) => egress(Some(&own)),
            (None, asked) => asked,
            (Some(NetworkMode::None), Network::None) => Network::None,
            (Some(NetworkMode::None), asked) => {
                return Err(Error::InvalidInput(format!(
                    "the run asks for network ({}), but the policy's network mode is none",
                    asked.as_str()
                )))
            }
            (Some(NetworkMode::Allowlist), Network::Allowlist(own)) => egress(Some(&own)),
            (Some(NetworkMode::Allowlist), _) => egress(None),
            (Some(NetworkMode::Full), Network::Allowlist(own)) => egress(Some(&own)),
            (Some(NetworkMode::Full), _) => Network::Allowed,
        })
    }

    async fn run_inner(
        &self,
        command: Command,
        options: RunOptions,
        events: Option<EventSender>,
    ) -> Result<ExecOutcome> {
        if matches!(&command, Command::Argv(a) if a.is_empty()) {
            return Err(Error::InvalidInput("an empty argv cannot run".into()));
        }
        // The run's environment is judged with the command: a variable
        // such as LD_PRELOAD or BASH_ENV runs code the command does not show.
        let decision = self.decide(&command, &options.env);
        self.record_decision(&command, &decision);
        let command = command.text();
        let command = command.as_str();
        let mut approval: Option<(Approval, Option<String>)> = None;
        match decision.verdict {
            Verdict::Allow | Verdict::Warn => {}
            Verdict::Deny => return Err(Error::Denied(Box::new(decision))),
            Verdict::Ask => match &self.approver {
                None => return Err(Error::ApprovalRequired(Box::new(decision))),
                Some(a) => {
                    // The run's timeout bounds the wait for an answer too.
                    let timeout = options
                        .limits
                        .as_ref()
                        .map_or_else(|| Limits::default().timeout, |l| l.timeout);
                    let answer = match timeout {
                        Some(t) => tokio::time::timeout(t, a.approval(&decision))
                            .await
                            .unwrap_or_else(|_| {
                                Err(format!("the approver did not answer within {t:?}"))
                            }),
                        None => a.approval(&decision).await,
                    };
                    match answer {
                        Ok(Approval::Deny) => {
                            return Err(Error::ApprovalRefused(Box::new(decision)))
                        }
                        Ok(scope) => {
                            let kept = self.keep_approval(scope, decision.proposed_rule.as_ref());
                            if let Some(note) = &kept.1 {
                                tracing::warn!(command, "{note}");
                            }
                            approval = Some(kept);
                        }
                        Err(reason) => {
                            return Err(Error::ApprovalFailed {
                                decision: Box::new(decision),
                                reason,
                            })
                        }
                    }
                }
            },
        }
        let Some(plan) = decision.plan.clone() else {
            return Err(Error::NotRunnable(Box::new(decision)));
        };
        let executor = self.executor.as_ref().ok_or(Error::NoExecutor)?;
        let filesystem = self.filesystem_access(options.filesystem, options.cwd.as_deref());
        let network = self.run_network(options.network, &options.labels)?;
        let request = ExecRequest {
            plan,
            cwd: options.cwd,
            env: options.env,
            stdin: options.stdin,
            limits: options.limits.unwrap_or_default(),
            network,
            labels: options.labels,
            filesystem,
        };
        let mut guard = RunGuard {
            sandbox: self,
            backend: executor.kind(),
            command,
            decision: &decision,
            approval,
            labels: request.labels.clone(),
            started: Instant::now(),
            done: false,
        };
        let result = match events {
            Some(events) => executor.execute_streaming(request, events).await,
            None => executor.execute(request).await,
        };
        guard.finish(result.as_ref());
        result
    }
}

/// What to run: a command line (judged and run as a shell would), or an
/// argv, run exactly as given with no shell (`["echo", "-n", "x"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A command line.
    Line(String),
    /// An argv (program and arguments), no shell.
    Argv(Vec<String>),
}

impl Command {
    /// The command as text, for audit records and messages (an argv is
    /// quoted as a shell would need it).
    pub fn text(&self) -> String {
        match self {
            Command::Line(l) => l.clone(),
            Command::Argv(a) => shell_words::join(a),
        }
    }
}

impl From<&str> for Command {
    fn from(line: &str) -> Command {
        Command::Line(line.to_string())
    }
}

impl From<String> for Command {
    fn from(line: String) -> Command {
        Command::Line(line)
    }
}

impl From<Vec<String>> for Command {
    fn from(argv: Vec<String>) -> Command {
        Command::Argv(argv)
    }
}

/// Audits and counts an execution when it ends, and as `cancelled` when
/// the future running it is dropped first.
struct RunGuard<'a> {
    sandbox: &'a Sandbox,
    backend: BackendKind,
    command: &'a str,
    decision: &'a Decision,
    approval: Option<(Approval, Option<String>)>,
    labels: BTreeMap<String, String>,
    started: Instant,
    done: bool,
}

impl RunGuard<'_> {
    fn finish(&mut self, result: std::result::Result<&ExecOutcome, &Error>) {
        self.done = true;
        self.record(result, self.started.elapsed());
    }

    fn record(&self, result: std::result::Result<&ExecOutcome, &Error>, duration: Duration) {
        let backend = self.sandbox.backend().unwrap_or("none");
        self.sandbox
            .metrics
            .record_execution(backend, RunStatus::of(result), duration);
        let mut record = AuditRecord::execution(
            self.command,
            self.decision,
            backend,
            result,
            duration,
            &self.labels,
        );
        if let Some((scope, note)) = &self.approval {
            record.approval = Some(scope.as_str().to_string());
            record.approval_note = note.clone();
        }
        let _ = self.sandbox.audit.record(&record);
    }
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        if !self.done {
            let cancelled = Error::Cancelled {
                backend: self.backend,
            };
            self.record(Err(&cancelled), self.started.elapsed());
        }
    }
}

#[cfg(test)]
#[path = "sandbox_approval_tests.rs"]
mod approval_tests;
