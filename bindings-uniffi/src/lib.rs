//! uniffi bindings of sandboxcore: the classifier, the policy engine and
//! the sandbox for Kotlin, Swift and Python hosts, with the nouns of the
//! Rust, Python and Node APIs. A thin layer: every check and default is
//! core's; this crate only converts types.
//!
//! - [`classify`] / [`classify_argv`] → [`Classification`]
//! - [`Policy`] (`from_file`, `from_yaml`, `from_json`, `for_mode`;
//!   `check`) → [`Decision`]
//! - [`Sandbox`] (`run` async, `run_blocking`, `check`, `capabilities`)
//!   → [`RunResult`]
//! - every failure is a [`SandboxError`] variant named after core's error
//!   code.
//!
//! See `bindings-uniffi/README.md` for building the library and the
//! generated sources.

// `SandboxError` carries the decision by value: that is its shape in the
// foreign languages (uniffi lowers errors by value; a Box is not a type it
// takes), and errors are rare next to the work of a run.
#![allow(clippy::result_large_err)]

mod classification;
mod error;
mod policy;
mod runtime;
mod sandbox;

pub use classification::{
    classify, classify_argv, Classification, Construct, Program, Reason, Risk,
};
pub use error::SandboxError;
pub use policy::{Decision, DecisionReason, DeploymentMode, Plan, Policy, Verdict};
pub use sandbox::{
    Approval, Approver, Backend, DockerOptions, KubernetesOptions, ProcessOptions, RunOptions,
    RunResult, RunStatus, Sandbox, SandboxConfig,
};

uniffi::setup_scaffolding!();
