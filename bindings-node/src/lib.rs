//! Node bindings of sandboxcore: a thin napi-rs layer, no logic of its own.
//! The native functions here are wrapped by `index.js`, which turns the
//! tagged results into Promises, `Error` subclasses with stable codes and
//! `AbortSignal` cancellation. Objects cross as JSON values with camelCase
//! keys.

use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunction;
use napi_derive::napi;
use sandboxcore::exec::docker::{DockerExecutor, DockerOptions};
use sandboxcore::exec::kubernetes::{KubernetesConfig, KubernetesExecutor};
use sandboxcore::exec::{
    Capabilities, Executor, FsAccess, Limits, Network, ProcessExecutor, ProcessOptions,
};
use sandboxcore::policy::{self as core_policy, DeploymentMode};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

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

fn error(code: &str, message: impl ToString) -> Error {
    Error::new(
        Status::GenericFailure,
        format!("[{code}] {}", message.to_string()),
    )
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

fn policy_error(e: core_policy::PolicyError) -> Error {
    error("POLICY_ERROR", e)
}

#[napi]
impl Policy {
    /// A policy file (YAML, or JSON for .json), with SANDBOXCORE_* and
    /// CODEFRAME_* environment overrides unless `env` is false.
    #[napi(catch_unwind, factory)]
    pub fn from_file(path: String, env: Option<bool>) -> Result<Policy> {
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

    /// A policy from YAML text.
    #[napi(catch_unwind, factory)]
    pub fn from_yaml(text: String) -> Result<Policy> {
        let inner = core_policy::Policy::from_yaml_str(&text).map_err(policy_error)?;
        Ok(Policy {
            inner: Arc::new(inner),
        })
    }

    /// A policy from an object with a policy file's keys (snake_case).
    #[napi(catch_unwind, factory)]
    pub fn from_object(object: Value) -> Result<Policy> {
        let inner =
            core_policy::Policy::from_json_str(&object.to_string()).map_err(policy_error)?;
        Ok(Policy {
            inner: Arc::new(inner),
        })
    }

    /// A deployment mode's defaults.
    #[napi(catch_unwind, factory)]
    pub fn for_mode(mode: String) -> Result<Policy> {
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
        to_js(&self.inner.check(&command))
    }

    /// The effective settings.
    #[napi(catch_unwind, getter, ts_return_type = "Record<string, unknown>")]
    pub fn settings(&self) -> Value {
        to_js(self.inner.settings())
    }
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

/// Rejects keys (other than null ones) that `backend` does not take.
fn only_keys(options: &Value, backend: &str, known: &[&str]) -> Result<()> {
    let unknown = options
        .as_object()
        .into_iter()
        .flatten()
        .find(|(k, v)| !v.is_null() && !known.contains(&k.as_str()));
    match unknown {
        Some((k, _)) => Err(error(
            "INVALID_ARGUMENT",
            format!(
                "unknown option `{k}` for the {backend} backend (expected one of {}, backend, auditLog)",
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
    /// allowSecrets, shell); unknown names and wrong values are
    /// INVALID_ARGUMENT errors.
    #[napi(catch_unwind, constructor)]
    pub fn new(policy: Option<&Policy>, options: Option<Value>) -> Result<NativeSandbox> {
        let options = match options {
            None | Some(Value::Null) => json!({}),
            Some(o @ Value::Object(_)) => o,
            Some(_) => return Err(error("INVALID_ARGUMENT", "options must be an object")),
        };
        let backend = match get(&options, "backend") {
            None => "process",
            Some(Value::String(s)) => s.as_str(),
            Some(_) => return Err(error("INVALID_ARGUMENT", "backend must be a string")),
        };
        // The keys of the sandbox itself; the others are the backend's.
        let mut backend_options = options.clone();
        if let Some(map) = backend_options.as_object_mut() {
            map.remove("backend");
            map.remove("auditLog");
        }
        let executor: Arc<dyn Executor> = match backend {
            "process" => Arc::new(
                ProcessExecutor::new(
                    ProcessOptions::from_json(&backend_options)
                        .map_err(|e| error("INVALID_ARGUMENT", e))?,
                )
                .map_err(|e| error("BACKEND_UNAVAILABLE", e))?,
            ),
            "kubernetes" => {
                only_keys(
                    &backend_options,
                    backend,
                    &["image", "namespace", "runtimeClass"],
                )?;
                Arc::new(kubernetes_executor(&options)?)
            }
            "docker" => {
                only_keys(&backend_options, backend, &["image", "docker"])?;
                Arc::new(docker_executor(&options)?)
            }
            _ => {
                return Err(error(
                    "BACKEND_UNAVAILABLE",
                    format!("the {backend} backend is not available in this build"),
                ))
            }
        };
        let backend = executor.name().to_string();
        let capabilities = executor.capabilities();
        let policy = match policy {
            Some(p) => (*p.inner).clone(),
            None => sandboxcore::Policy::load(None).map_err(policy_error)?,
        };
        let mut builder = sandboxcore::Sandbox::builder()
            .policy(policy)
            .shared_executor(executor);
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
        for (name, value) in self.capabilities.fields() {
            object.insert(camel_case(name), json!(value));
        }
        Value::Object(object)
    }

    fn core(&self) -> Result<sandboxcore::Sandbox> {
        self.inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| error("EXECUTION_ERROR", "this Sandbox is closed"))
    }

    /// Decides on a command (audited and counted, not run).
    #[napi(catch_unwind, ts_return_type = "Decision")]
    pub fn check(&self, command: String) -> Result<Value> {
        Ok(to_js(&self.core()?.check(&command)))
    }

    /// Runs a command; resolves to `{ outcome }` or `{ error: { code,
    /// message, decision } }` (never rejects for policy outcomes).
    /// `options`: `{ timeoutMs?, cwd?, env?, stdin? (string), memory?,
    /// processes?, outputLimit?, network?, labels?, writable?, denyRead? }`.
    /// `on_output`, when given, receives each chunk of output as it arrives
    /// (`{ kind: "stdout" | "stderr", data: Buffer }`); the command waits
    /// while the callback runs, so a slow consumer cannot grow memory.
    #[napi(ts_return_type = "Promise<NativeRunResult>")]
    pub async fn run_native(
        &self,
        id: u32,
        command: String,
        options: Value,
        on_output: Option<ThreadsafeFunction<OutputChunk, Promise<()>, OutputChunk, Status, false>>,
    ) -> Result<Value> {
        let sb = self.core()?;
        let opts = run_options(&options)?;
        let task = tokio::spawn(async move {
            let Some(callback) = on_output else {
                return sb.run(&command, opts).await;
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
            let (result, ()) = tokio::join!(sb.run_streaming(&command, opts, tx), forward);
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
        Ok(match joined {
            Ok(Ok(o)) => json!({ "outcome": outcome(&o) }),
            Ok(Err(e)) => json!({ "error": core_error(&e) }),
            Err(j) if j.is_cancelled() => {
                json!({ "error": { "code": "ABORTED", "message": "the run was aborted" } })
            }
            Err(j) => json!({ "error": { "code": "EXECUTION_ERROR", "message": j.to_string() } }),
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
    pub fn metrics(&self) -> Result<String> {
        Ok(self.core()?.metrics().encode())
    }

    /// Releases the backend; the sandbox cannot run afterwards.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.inner.write().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// The Docker backend from `options.docker` (`{ image, runtime?, network?,
/// workspace?, user?, poolSize?, pull?, cpus?, tmpSize?, seccompProfile?,
/// agent?, inheritEnv?, allowSecrets?, labels?, allowRoot? }`; the names of
/// `sandboxcore::exec::docker::DockerOptions`) or, for the image alone,
/// `options.image`.
fn docker_executor(options: &Value) -> Result<DockerExecutor> {
    let mut value = get(options, "docker").cloned().unwrap_or(json!({}));
    if let (Some(map), Some(image)) = (value.as_object_mut(), get(options, "image")) {
        map.entry("image").or_insert(image.clone());
    }
    let config = DockerOptions::from_json(value)
        .and_then(DockerOptions::into_config)
        .map_err(|e| error("INVALID_ARGUMENT", e))?;
    napi::bindgen_prelude::block_on(DockerExecutor::connect(config)).map_err(|e| match e {
        sandboxcore::Error::InvalidInput(m) => error("INVALID_ARGUMENT", m),
        e => error("BACKEND_UNAVAILABLE", e),
    })
}

/// The Kubernetes backend from `{ image, namespace?, runtimeClass? }`, with
/// the cluster found as `kubectl` would.
fn kubernetes_executor(options: &Value) -> Result<KubernetesExecutor> {
    let text = |key: &str| {
        get(options, key)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let image = text("image")
        .ok_or_else(|| error("INVALID_ARGUMENT", "the kubernetes backend needs an image"))?;
    let mut config = KubernetesConfig::new(image);
    if let Some(ns) = text("namespace") {
        config.namespace = ns;
    }
    config.runtime_class = text("runtimeClass");
    napi::bindgen_prelude::block_on(KubernetesExecutor::infer(config))
        .map_err(|e| error("BACKEND_UNAVAILABLE", e))
}

fn run_options(v: &Value) -> Result<sandboxcore::RunOptions> {
    let mut limits = Limits::default();
    if let Some(ms) = get(v, "timeoutMs").and_then(Value::as_f64) {
        if ms.is_nan() || ms <= 0.0 {
            return Err(error("INVALID_ARGUMENT", "timeoutMs must be positive"));
        }
        limits.timeout = ms.is_finite().then(|| Duration::from_secs_f64(ms / 1000.0));
    }
    if let Some(m) = get(v, "memory").and_then(Value::as_u64) {
        limits.memory = Some(m);
    }
    if let Some(p) = get(v, "processes").and_then(Value::as_u64) {
        limits.processes = Some(p);
    }
    if let Some(o) = get(v, "outputLimit").and_then(Value::as_u64) {
        limits.output_bytes = o as usize;
    }
    let map = |key: &str| -> Result<BTreeMap<String, String>> {
        match get(v, key) {
            None => Ok(BTreeMap::new()),
            Some(x) => serde_json::from_value(x.clone()).map_err(|_| {
                error(
                    "INVALID_ARGUMENT",
                    format!("{key} must map strings to strings"),
                )
            }),
        }
    };
    let paths = |key: &str| -> Result<Vec<PathBuf>> {
        match get(v, key) {
            None => Ok(Vec::new()),
            Some(x) => serde_json::from_value(x.clone()).map_err(|_| {
                error(
                    "INVALID_ARGUMENT",
                    format!("{key} must be an array of paths"),
                )
            }),
        }
    };
    Ok(sandboxcore::RunOptions {
        cwd: get(v, "cwd").and_then(Value::as_str).map(PathBuf::from),
        env: map("env")?,
        stdin: get(v, "stdin")
            .and_then(Value::as_str)
            .map(|s| s.as_bytes().to_vec()),
        limits: Some(limits),
        network: if get(v, "network").and_then(Value::as_bool).unwrap_or(false) {
            Network::Allowed
        } else {
            Network::None
        },
        labels: map("labels")?,
        filesystem: FsAccess {
            writable: paths("writable")?,
            deny_read: paths("denyRead")?,
        },
    })
}

fn outcome(o: &sandboxcore::exec::ExecOutcome) -> Value {
    json!({
        "exitCode": o.exit_code,
        "signal": o.signal,
        "timedOut": o.timed_out,
        "oomKilled": o.oom_killed,
        "stdout": o.stdout_text(),
        "stderr": o.stderr_text(),
        "stdoutBase64": base64(&o.stdout),
        "stderrBase64": base64(&o.stderr),
        "stdoutTruncated": o.stdout_truncated,
        "stderrTruncated": o.stderr_truncated,
        "durationMs": o.duration.as_secs_f64() * 1000.0,
        "status": o.status(),
        "ok": o.success() && !o.timed_out && !o.oom_killed,
        "isolationSkipped": o.isolation_skipped,
    })
}

fn core_error(e: &sandboxcore::Error) -> Value {
    use sandboxcore::Error as E;
    let code = match e {
        E::Denied(_) | E::NotRunnable(_) => "POLICY_DENIED",
        E::ApprovalRequired(_) | E::ApprovalRefused(_) => "APPROVAL_REQUIRED",
        E::Policy(_) => "POLICY_ERROR",
        E::NoExecutor => "BACKEND_UNAVAILABLE",
        E::InvalidInput(_) => "INVALID_ARGUMENT",
        _ => "EXECUTION_ERROR",
    };
    json!({
        "code": code,
        "message": e.to_string(),
        "decision": e.decision().map(to_js),
    })
}

/// Standard base64 (the raw bytes cross as text; `index.js` decodes them
/// into Buffers).
fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Shell-quotes an argv into a command line (for argv arrays).
#[napi(catch_unwind)]
pub fn join_argv(argv: Vec<String>) -> String {
    shell_words::join(argv)
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
