//! sandboxcore decides whether a shell command an AI agent wants to run is
//! safe, and (with the executor backends) runs it in isolation.
//!
//! The entry point of this crate today is [`classify`]: it parses a command
//! line as a POSIX shell would and reports whether it can run as a plain
//! argv, which programs it runs, whether it is read-only and how risky it is.
//! See `docs/classifier.md`.
#![deny(missing_docs)]

pub mod audit;
pub mod catalog;
pub mod classify;
pub mod error;
pub mod exec;
pub mod metrics;
pub mod policy;
pub mod sandbox;
pub mod shell;
pub mod verify;

pub use classify::{
    classify, Classification, Construct, ConstructKind, Program, Reason, ReasonCode, Risk,
};
pub use error::{Error, Result};
pub use policy::{Decision, Plan, Policy, Verdict};
pub use sandbox::{Approver, RunOptions, Sandbox, SandboxBuilder};
