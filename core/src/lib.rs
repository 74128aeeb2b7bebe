//! sandboxcore decides whether a shell command an AI agent wants to run is
//! safe, and runs it in isolation.
//!
//! # The flow
//!
//! ```text
//!  command line / argv
//!        │
//!  shell ── parses it as bash and dash would (shell::parse → syntax tree)
//!        │
//!  classify ── plain argv or not, programs (through wrappers and launchers),
//!        │     read-only, risk and reasons, predicted
//!        │     effects (paths written, deleted, ...)   → Classification
//!  policy ── rules, mode, enforcement, run environment → Decision
//!        │     (verdict allow | warn | ask | deny, reasons, plan)
//!  Sandbox ── checks, asks the Approver on `ask`, runs the plan,
//!        │    audits (audit) and counts (metrics) both
//!  exec ── one Executor trait: exec::process (namespaces, Landlock,
//!          seccomp), exec::docker, exec::kubernetes → ExecOutcome
//! ```
//!
//! - [`classify()`] / [`classify_argv`]: only the classifier
//!   (`docs/classifier.md`).
//! - [`Policy::check`]: a decision without running anything
//!   (`docs/policy.md`).
//! - [`Sandbox::run`]: decide, approve, run, audit (`docs/executors.md`).
//! - [`Error::code`]: the one error classification the CLI, the Python and
//!   Node bindings and the MCP server use.
#![deny(missing_docs)]

pub mod audit;
pub mod catalog;
pub mod classify;
pub mod error;
pub mod exec;
pub mod glob;
pub mod metrics;
pub mod net;
pub mod policy;
mod run_options;
pub mod sandbox;
pub mod secrets;
pub mod shell;
pub mod verify;

// The tests' one skip policy (`SANDBOXCORE_NO_SKIP`), shared with the
// integration tests.
#[cfg(test)]
#[path = "../../tests/common/skip.rs"]
pub(crate) mod test_skip;

pub use classify::{
    classify, classify_argv, Classification, Construct, ConstructKind, PathEffect, PathEffectKind,
    Program, Reason, ReasonCode, Risk,
};
pub use error::{Error, ErrorCode, ExecErrorKind, Result};
pub use exec::BackendKind;
pub use policy::{Decision, Plan, Policy, Verdict};
pub use sandbox::{Approval, Approver, Command, RunOptions, Sandbox, SandboxBuilder};

// The Rust code blocks of the README and of docs/*.md, compiled (and run,
// unless marked `no_run`) by `cargo test --doc`: one item per file.
/// README.md's Rust snippets.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// docs/catalog.md's Rust snippets.
#[cfg(doctest)]
#[doc = include_str!("../../docs/catalog.md")]
pub struct CatalogDocDoctests;

/// docs/classifier.md's Rust snippets.
#[cfg(doctest)]
#[doc = include_str!("../../docs/classifier.md")]
pub struct ClassifierDocDoctests;

/// docs/design.md's Rust snippets.
#[cfg(doctest)]
#[doc = include_str!("../../docs/design.md")]
pub struct DesignDocDoctests;

/// docs/docker.md's Rust snippets (they need the `docker` feature).
#[cfg(all(doctest, feature = "docker"))]
#[doc = include_str!("../../docs/docker.md")]
pub struct DockerDocDoctests;

/// docs/executors.md's Rust snippets.
#[cfg(doctest)]
#[doc = include_str!("../../docs/executors.md")]
pub struct ExecutorsDocDoctests;

/// docs/kubernetes.md's Rust snippets.
#[cfg(doctest)]
#[doc = include_str!("../../docs/kubernetes.md")]
pub struct KubernetesDocDoctests;

/// docs/mcp.md's Rust snippets.
#[cfg(doctest)]
#[doc = include_str!("../../docs/mcp.md")]
pub struct McpDocDoctests;

/// docs/performance.md's Rust snippets.
#[cfg(doctest)]
#[doc = include_str!("../../docs/performance.md")]
pub struct PerformanceDocDoctests;

/// docs/policy.md's Rust snippets.
#[cfg(doctest)]
#[doc = include_str!("../../docs/policy.md")]
pub struct PolicyDocDoctests;
