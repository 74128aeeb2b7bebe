//! Node bindings of sandboxcore: a thin napi-rs layer, no logic of its own.
//! The native functions here are wrapped by `index.js`, which turns the
//! tagged results into Promises, `Error` subclasses with stable codes and
//! `AbortSignal` cancellation. Objects cross as JSON values with camelCase
//! keys.

use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunction;
use napi_derive::napi;
use sandboxcore::exec::docker::DockerExecutor;
use sandboxcore::exec::kubernetes::KubernetesExecutor;
use sandboxcore::exec::{BackendConfig, Capabilities, Executor, ProcessExecutor};
use sandboxcore::policy::{self as core_policy, DeploymentMode};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

/// `snake_case` → `camelCase`.
fn camel_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A JSON value with every object key in camelCase.
fn camel(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (camel_key(&k), camel(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(camel).collect()),
        other => other,
    }
}

fn to_js(value: &impl serde::Serialize) -> Value {
    camel(serde_json::to_value(value).unwrap_or(Value::Null))
}

/// The stable code of a sandboxcore error (`POLICY_ERROR`, ...): napi
/// sets it as the thrown JavaScript error's `code`, which `index.js` maps
/// to its error classes.
#[derive(Debug, Clone, Copy)]
pub struct Code(&'static str);

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.0
    }
}

fn error(code: &'static str, message: impl ToString) -> Error<Code> {
    Error::new(Code(code), message.to_string())
}

/// A run that could not start, as `runNative` resolves it: `{ error:
/// { code, message } }`, like the run's own refusals.
fn run_error(e: Error<Code>) -> NativeRunResult {
    NativeRunResult {
        outcome: None,
        error: Some(json!({ "code": e.status.0, "message": e.reason })),
        stdout: None,
        stderr: None,
    }
}

/// A decision as JavaScript sees it: camelCase, with `kind: "command"` (an
/// approver also gets connection requests, whose `kind` is
/// `"connection"`).
fn decision_js(decision: &sandboxcore::Decision) -> Value {
    let mut v = to_js(decision);
    if let Value::Object(map) = &mut v {
        map.insert("kind".into(), json!("command"));
    }
    v
}

/// A connection request as the approver gets it: `{ kind: "connection",
/// host, port, scheme, rule }`.
fn connection_js(request: &sandboxcore::net::ConnectionRequest) -> Value {
    let mut v = to_js(request);
    if let Value::Object(map) = &mut v {
        map.insert("kind".into(), json!("connection"));
    }
    v
}

/// Classifies a command line.
#[napi(catch_unwind, ts_return_type = "Classification")]
pub fn classify(command: String) -> Value {
    to_js(&sandboxcore::classify(&command))
}

/// A validated policy.
#[napi]
pub struct Policy {
    inner: Arc<core_policy::Policy>,
}

fn policy_error(e: core_policy::PolicyError) -> Error<Code> {
    error("POLICY_ERROR", e)
}

#[napi]
impl Policy {
    /// A policy file (YAML, or JSON for .json), with SANDBOXCORE_* and
    /// CODEFRAME_* environment overrides unless `env` is false.
    #[napi(catch_unwind, factory)]
    pub fn from_file(path: String, env: Option<bool>) -> Result<Policy, Code> {
        let (_, file) =
            core_policy::Policy::read_layer(&PathBuf::from(path)).map_err(policy_error)?;
        let env_layer = if env.unwrap_or(true) {
            core_policy::Policy::env_layer().map_err(policy_error)?
        } else {
            core_policy::SettingsLayer::default()
        };
        let inner = core_policy::Policy::from_layers(&[&file, &env_layer]).map_err(policy_error)?;
        Ok(Policy {
            inner: Arc::new(inner),
        })
    }

    /// A stacked policy from named files, most trusted first: each layer
    /// decides on its own and the strictest verdict wins (see
    /// `Policy::from_named_layers_with`), with the environment overrides
    /// applied to every layer unless `env` is false.
    #[napi(catch_unwind, factory)]
    pub fn from_layers(layers: Vec<PolicyLayerFile>, env: Option<bool>) -> Result<Policy, Code> {
        let sources: Vec<core_policy::PolicyLayerSource> = layers
            .into_iter()
            .map(|l| core_policy::PolicyLayerSource::new(l.name, PathBuf::from(l.path)))
            .collect();
        let env_layer = if env.unwrap_or(true) {
            core_policy::Policy::env_layer().map_err(policy_error)?
        } else {
            core_policy::SettingsLayer::default()
        };
        let inner = core_policy::Policy::from_named_layers_with(&sources, &[&env_layer])
            .map_err(policy_error)?;
        Ok(Policy {
            inner: Arc::new(inner),
        })
    }

    /// A policy from YAML text.
    #[napi(catch_unwind, factory)]
    pub fn from_yaml(text: String) -> Result<Policy, Code> {
        let inner = core_policy::Policy::from_yaml_str(&text).map_err(policy_error)?;
        Ok(Policy {
            inner: Arc::new(inner),
        })
    }

    /// A policy from an object with a policy file's keys (snake_case).
    #[napi(catch_unwind, factory)]
    pub fn from_object(object: Value) -> Result<Policy, Code> {
        let inner =
            core_policy::Policy::from_json_str(&object.to_string()).map_err(policy_error)?;
        Ok(Policy {
            inner: Arc::new(inner),
        })
    }

    /// A deployment mode's defaults.
    #[napi(catch_unwind, factory)]
    pub fn for_mode(mode: String) -> Result<Policy, Code> {
        let m = DeploymentMode::ALL
            .into_iter()
            .find(|m| m.as_str() == mode)
            .ok_or_else(|| error("POLICY_ERROR", format!("unknown deployment mode {mode:?}")))?;
        Ok(Policy {
            inner: Arc::new(core_policy::Policy::for_mode(m)),
        })
    }

    /// Decides on a command.
    #[napi(catch_unwind, ts_return_type = "Decision")]
    pub fn check(&self, command: String) -> Value {
        decision_js(&self.inner.check(&command))
    }

    /// The effective settings.
    #[napi(catch_unwind, getter, ts_return_type = "Record<string, unknown>")]
    pub fn settings(&self) -> Value {
        to_js(self.inner.settings())
    }
}

/// One layer of a stacked policy: its name and its file.
#[napi(object)]
pub struct PolicyLayerFile {
    /// The layer's name (`system`, `user`, `workspace`).
    pub name: String,
    /// The policy file.
    pub path: String,
}

/// A chunk of output, as it arrived.
#[napi(object)]
pub struct OutputChunk {
    /// `stdout` or `stderr`.
    pub kind: String,
    /// The bytes.
    pub data: Buffer,
}

/// The native sandbox; use `Sandbox` from `index.js`.
#[napi]
pub struct NativeSandbox {
    inner: Arc<RwLock<Option<sandboxcore::Sandbox>>>,
    running: Arc<Mutex<HashMap<u32, tokio::task::AbortHandle>>>,
    /// The backend's name and what it enforces (fixed when it is created).
    backend: String,
    capabilities: Capabilities,
}

fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.get(key).filter(|x| !x.is_null())
}

/// The keys of a sandbox's options that are the sandbox's own, not its
/// backend's.
const SANDBOX_KEYS: [&str; 3] = ["backend", "auditLog", "policyFile"];

/// Rejects keys (other than null ones and the sandbox's own) that
/// `backend` does not take.
fn only_keys(options: &Value, backend: &str, known: &[&str]) -> Result<(), Code> {
    let unknown = options.as_object().into_iter().flatten().find(|(k, v)| {
        !v.is_null() && !known.contains(&k.as_str()) && !SANDBOX_KEYS.contains(&k.as_str())
    });
    match unknown {
        Some((k, _)) => Err(error(
            "INVALID_ARGUMENT",
            format!(
                "unknown option `{k}` for the {backend} backend (expected one of {}, backend, auditLog, policyFile)",
                known.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

#[napi]
impl NativeSandbox {
    /// `options`: `{ backend?: "process" | "docker" | "kubernetes",
    /// auditLog?: string, ... }` and the backend's options: for the process
    /// backend the names of `sandboxcore::exec::ProcessOptions` (isolation,
    /// writable, denyRead, protected, tmpSize, cwdWritable, runAs, cgroups,
    /// networkIsolation, killGrace or killGraceMs, inheritEnv,
    /// allowSecrets, shell); for the kubernetes backend those of
    /// `sandboxcore::exec::kubernetes::KubernetesOptions` (image, namespace,
    /// runtimeClass, runAsUser, runAsGroup, fsGroup, cpuLimit, cpuRequest,
    /// memoryRequest, ephemeralStorageLimit, tmpSizeLimit,
    /// ttlSecondsAfterFinished, serviceAccount, labels, egressProxy); for
    /// the docker backend `image` and `docker` (the names of
    /// `DockerOptions`). Unknown names and wrong values are
    /// INVALID_ARGUMENT errors, found before a daemon or cluster is
    /// contacted.
    /// `approver`: called with the decision of a command the policy asks
    /// about (`kind: "command"`), or a connection an allowlist run's proxy
    /// holds (`kind: "connection"`); resolves to true to run it or let it
    /// through, or to a scope for a command: "once", "session", "persist"
    /// or "deny" (parsed by `sandboxcore::Approval::from_str`; another
    /// string denies the command, APPROVAL_REQUIRED saying why). index.js
    /// makes any function's answer a promise of a boolean or a string.
    /// `policyFile`: where "persist" writes the rule.
    #[napi(catch_unwind, constructor)]
    pub fn new(
        policy: Option<&Policy>,
        options: Option<Value>,
        #[napi(
            ts_arg_type = "(request: Decision | ConnectionRequest) => Promise<boolean | string>"
        )]
        approver: Option<JsApprover>,
    ) -> Result<NativeSandbox, Code> {
        let options = match options {
            None | Some(Value::Null) => json!({}),
            Some(o @ Value::Object(_)) => o,
            Some(_) => return Err(error("INVALID_ARGUMENT", "options must be an object")),
        };
        let executor = executor(backend_config(&options)?)?;
        let backend = executor.name().to_string();
        let capabilities = executor.capabilities();
        let policy = match policy {
            Some(p) => (*p.inner).clone(),
            None => sandboxcore::Policy::load(None).map_err(policy_error)?,
        };
        let mut builder = sandboxcore::Sandbox::builder()
            .policy(policy)
            .shared_executor(executor);
        if let Some(f) = approver {
            builder = builder.approver(NodeApprover(f));
        }
        match get(&options, "policyFile") {
            None | Some(Value::Null) => {}
            Some(Value::String(path)) => builder = builder.policy_file(path),
            Some(_) => return Err(error("INVALID_ARGUMENT", "policyFile must be a string")),
        }
        match get(&options, "auditLog") {
            None => {}
            Some(Value::String(path)) => {
                builder = builder.audit(
                    sandboxcore::audit::AuditLog::with_jsonl(&PathBuf::from(path)).map_err(
                        |e| error("INVALID_ARGUMENT", format!("cannot open {path}: {e}")),
                    )?,
                );
            }
            Some(_) => return Err(error("INVALID_ARGUMENT", "auditLog must be a string")),
        }
        let inner = builder.build().map_err(|e| error("EXECUTION_ERROR", e))?;
        Ok(NativeSandbox {
            inner: Arc::new(RwLock::new(Some(inner))),
            running: Arc::new(Mutex::new(HashMap::new())),
            backend,
            capabilities,
        })
    }

    /// What the backend enforces: `backend` (its name) and a boolean for
    /// each field of `sandboxcore::exec::Capabilities`, in camelCase.
    #[napi(catch_unwind, ts_return_type = "Capabilities")]
    pub fn capabilities(&self) -> Value {
        let mut object = serde_json::Map::new();
        object.insert("backend".into(), json!(self.backend));
        if let Value::Object(fields) = capability_fields(&self.capabilities) {
            object.extend(fields);
        }
        Value::Object(object)
    }

    fn core(&self) -> Result<sandboxcore::Sandbox, Code> {
        self.inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| error("EXECUTION_ERROR", "this Sandbox is closed"))
    }

    /// Decides on a command (audited and counted, not run): a string is a
    /// command line, an array of strings an argv (no shell).
    #[napi(catch_unwind, ts_return_type = "Decision")]
    pub fn check(&self, command: Either<String, Vec<String>>) -> Result<Value, Code> {
        Ok(decision_js(
            &self.core()?.check_command(&core_command(command)),
        ))
    }

    /// Runs a command; resolves to `{ outcome }` or `{ error: { code,
    /// message, decision } }` (never rejects for policy outcomes).
    /// `options`: `{ timeoutMs?, cwd?, env?, stdin? (string), memory?,
    /// processes?, outputLimit?, network?, labels?, writable?, denyRead? }`
    /// (`network`: see `sandboxcore::exec::Network::from_json`).
    /// `on_output`, when given, receives each chunk of output as it arrives
    /// (`{ kind: "stdout" | "stderr", data: Buffer }`); the command waits
    /// while the callback runs, so a slow consumer cannot grow memory.
    #[napi]
    pub async fn run_native(
        &self,
        id: u32,
        command: Either<String, Vec<String>>,
        options: Value,
        on_output: Option<ThreadsafeFunction<OutputChunk, Promise<()>, OutputChunk, Status, false>>,
    ) -> Result<NativeRunResult> {
        let (sb, opts) = match self.core().and_then(|sb| Ok((sb, run_options(&options)?))) {
            Ok(both) => both,
            Err(e) => return Ok(run_error(e)),
        };
        let command = core_command(command);
        let task = tokio::spawn(async move {
            let Some(callback) = on_output else {
                return sb.run_command(command, opts).await;
            };
            let (tx, mut rx) = tokio::sync::mpsc::channel(16);
            let forward = async move {
                while let Some(event) = rx.recv().await {
                    let chunk = match event {
                        sandboxcore::exec::ExecEvent::Stdout(b) => ("stdout", b),
                        sandboxcore::exec::ExecEvent::Stderr(b) => ("stderr", b),
                        _ => continue,
                    };
                    // The callback's promise settles when the consumer has
                    // room for more: waiting for it is the backpressure that
                    // keeps a slow consumer from buffering without bound
                    // (the command's pipe fills and it waits). A callback
                    // that throws or rejects is reported by Node; the run
                    // goes on.
                    let call = callback.call_async_catch(OutputChunk {
                        kind: chunk.0.to_string(),
                        data: chunk.1.to_vec().into(),
                    });
                    if let Ok(promise) = call.await {
                        let _ = promise.await;
                    }
                }
            };
            let (result, ()) = tokio::join!(sb.run_command_streaming(command, opts, tx), forward);
            result
        });
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, task.abort_handle());
        let joined = task.await;
        self.running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        let failed = |error: Value| NativeRunResult {
            outcome: None,
            error: Some(error),
            stdout: None,
            stderr: None,
        };
        Ok(match joined {
            Ok(Ok(mut o)) => NativeRunResult {
                outcome: Some(outcome(&o)),
                error: None,
                // The bytes once, as Buffers (index.js decodes the text).
                stdout: Some(std::mem::take(&mut o.stdout).into()),
                stderr: Some(std::mem::take(&mut o.stderr).into()),
            },
            Ok(Err(e)) => failed(core_error(&e)),
            Err(j) if j.is_cancelled() => {
                failed(json!({ "code": "ABORTED", "message": "the run was aborted" }))
            }
            Err(j) => failed(json!({ "code": "EXECUTION_ERROR", "message": j.to_string() })),
        })
    }

    /// Stops a run started with `id` (its processes are killed).
    #[napi(catch_unwind)]
    pub fn cancel(&self, id: u32) {
        if let Some(h) = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id)
        {
            h.abort();
        }
    }

    /// The Prometheus text exposition.
    #[napi(catch_unwind)]
    pub fn metrics(&self) -> Result<String, Code> {
        Ok(self.core()?.metrics().encode())
    }

    /// Releases the backend; the sandbox cannot run afterwards.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.inner.write().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// A sandboxcore error as napi's, with the error's code
/// (`INVALID_ARGUMENT`, ...) from `sandboxcore::Error::code()`.
fn core_err(e: sandboxcore::Error) -> Error<Code> {
    error(e.code().as_str(), e)
}

/// The backend's options among a sandbox's `options`: for the docker
/// backend `options.docker`, with `options.image` as its image when it has
/// none (and no other key); for the others every key but the sandbox's own
/// (backend, auditLog, policyFile).
fn backend_options(backend: &str, options: &Value) -> Result<Value, Code> {
    if backend == "docker" {
        only_keys(options, backend, &["image", "docker"])?;
        let mut value = get(options, "docker").cloned().unwrap_or(json!({}));
        if let (Some(map), Some(image)) = (value.as_object_mut(), get(options, "image")) {
            map.entry("image").or_insert(image.clone());
        }
        return Ok(value);
    }
    let mut value = options.clone();
    if let Some(map) = value.as_object_mut() {
        for key in SANDBOX_KEYS {
            map.remove(key);
        }
    }
    Ok(value)
}

/// The configuration of the backend a sandbox's `options` name (`backend`,
/// default process) from its options, parsed by
/// `sandboxcore::exec::BackendConfig::from_json` (the names of
/// `ProcessOptions`, `DockerOptions` and `KubernetesOptions`, camelCase or
/// snake_case): the same values and errors as in Python and the CLI.
/// Nothing is contacted.
fn backend_config(options: &Value) -> Result<BackendConfig, Code> {
    let backend = match get(options, "backend") {
        None => "process",
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(error("INVALID_ARGUMENT", "backend must be a string")),
    };
    BackendConfig::from_json(backend, &backend_options(backend, options)?).map_err(core_err)
}

/// The executor for a backend's configuration: the Docker daemon and the
/// Kubernetes cluster (found as `kubectl` would) are reached here.
fn executor(config: BackendConfig) -> Result<Arc<dyn Executor>, Code> {
    let unavailable = |e: sandboxcore::Error| error("BACKEND_UNAVAILABLE", e);
    Ok(match config {
        BackendConfig::Process(c) => Arc::new(ProcessExecutor::new(c).map_err(unavailable)?),
        BackendConfig::Docker(c) => Arc::new(
            napi::bindgen_prelude::block_on(DockerExecutor::connect(c)).map_err(|e| match e {
                e @ sandboxcore::Error::InvalidInput(_) => core_err(e),
                e => unavailable(e),
            })?,
        ),
        BackendConfig::Kubernetes(c) => Arc::new(
            napi::bindgen_prelude::block_on(KubernetesExecutor::infer(c)).map_err(unavailable)?,
        ),
    })
}

/// Checks a sandbox's `options` (`backend` and its options, as
/// `NativeSandbox` takes them) as the sandbox does, without making the
/// backend (no daemon or cluster is contacted): throws the error the
/// sandbox would (`code` INVALID_ARGUMENT). For the tests of the options
/// table shared with Rust and Python.
#[napi]
pub fn check_backend_options(options: Value) -> Result<(), Code> {
    backend_config(&options).map(drop)
}

/// The JavaScript approver: weak, so a Sandbox that holds one does not keep
/// the process alive.
type JsApprover = ThreadsafeFunction<Value, Promise<Value>, Value, Status, false, true>;

/// A JavaScript function as the sandbox's approver. A rejection denies the
/// command and says why (`APPROVAL_REQUIRED`, with the rejection's
/// message); the core bounds the wait by the run's timeout. It answers for
/// an allowlist run's connections too (`{ kind: "connection", ... }`): a
/// rejection or `false` refuses the connection.
struct NodeApprover(JsApprover);

impl sandboxcore::Approver for NodeApprover {
    fn approve<'a>(
        &'a self,
        decision: &'a sandboxcore::Decision,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send + 'a>> {
        Box::pin(async move { self.try_approve(decision).await.unwrap_or(false) })
    }

    fn try_approve<'a>(
        &'a self,
        decision: &'a sandboxcore::Decision,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = std::result::Result<bool, String>> + Send + 'a>,
    > {
        Box::pin(async move { self.approval(decision).await.map(|a| a.approves()) })
    }

    fn approval<'a>(
        &'a self,
        decision: &'a sandboxcore::Decision,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = std::result::Result<sandboxcore::Approval, String>>
                + Send
                + 'a,
        >,
    > {
        Box::pin(self.ask(decision_js(decision)))
    }

    fn approve_connection<'a>(
        &'a self,
        request: &'a sandboxcore::net::ConnectionRequest,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = std::result::Result<bool, String>> + Send + 'a>,
    > {
        Box::pin(async move { self.ask(connection_js(request)).await.map(|a| a.approves()) })
    }
}

impl NodeApprover {
    /// Calls the function with a decision or a connection request and
    /// gives its answer.
    async fn ask(&self, subject: Value) -> std::result::Result<sandboxcore::Approval, String> {
        let promise = self
            .0
            .call_async(subject)
            .await
            .map_err(|e| format!("the approver could not be called: {}", e.reason))?;
        let answer = promise
            .await
            .map_err(|e| format!("the approver rejected: {}", e.reason))?;
        match answer {
            Value::Bool(yes) => Ok(yes.into()),
            Value::String(s) => s.parse().map_err(|e| format!("the approver answered an {e}")),
            other => Err(format!(
                "the approver answered {other}: expected a boolean or \"once\", \"session\", \"persist\" or \"deny\""
            )),
        }
    }
}

/// A string is a command line; an array of strings an argv, run as given
/// with no shell.
fn core_command(command: Either<String, Vec<String>>) -> sandboxcore::Command {
    match command {
        Either::A(line) => sandboxcore::Command::Line(line),
        Either::B(argv) => sandboxcore::Command::Argv(argv),
    }
}

/// What `runNative` resolves to: `outcome` (without the output) and the
/// output as Buffers, or `error` (`{ code, message, decision? }`).
#[napi(object)]
pub struct NativeRunResult {
    /// The run's outcome, without its output.
    pub outcome: Option<Value>,
    /// Why there is no outcome.
    pub error: Option<Value>,
    /// Standard output.
    pub stdout: Option<Buffer>,
    /// Standard error.
    pub stderr: Option<Buffer>,
}

fn run_options(v: &Value) -> Result<sandboxcore::RunOptions, Code> {
    // One parser for every front end that takes JSON: names, types and
    // values checked in core (index.js sends `timeout` as `timeoutMs`).
    sandboxcore::RunOptions::from_json(v).map_err(|e| match e {
        sandboxcore::Error::InvalidInput(m) => error("INVALID_ARGUMENT", m),
        e => error("INVALID_ARGUMENT", e),
    })
}

fn outcome(o: &sandboxcore::exec::ExecOutcome) -> Value {
    json!({
        "exitCode": o.exit_code,
        "signal": o.signal,
        "timedOut": o.timed_out,
        "oomKilled": o.oom_killed,
        "stdoutTruncated": o.stdout_truncated,
        "stderrTruncated": o.stderr_truncated,
        "durationMs": o.duration.as_secs_f64() * 1000.0,
        "status": o.status(),
        "ok": o.status() == sandboxcore::exec::RunStatus::Ok,
        "isolationSkipped": o.isolation_skipped,
        "enforced": capability_fields(&o.enforced),
    })
}

fn core_error(e: &sandboxcore::Error) -> Value {
    let code = e.code().as_str();
    json!({
        "code": code,
        "message": e.to_string(),
        "decision": e.decision().map(decision_js),
    })
}

/// A boolean for each field of `c`, in camelCase (`capabilities()` adds
/// `backend`; a run result's `enforced` is this).
fn capability_fields(c: &sandboxcore::exec::Capabilities) -> Value {
    Value::Object(
        c.fields()
            .into_iter()
            .map(|(name, value)| (camel_case(name), json!(value)))
            .collect(),
    )
}

/// `snake_case` to `camelCase` (the Node API's spelling of core's names).
fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}
