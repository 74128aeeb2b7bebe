//! The crate's error type.

use thiserror::Error;

/// Errors returned by sandboxcore.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A command line could not be parsed.
    #[error("cannot parse the command: {0}")]
    Parse(#[from] crate::shell::ParseError),
    /// Input that is not valid for the operation.
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

/// Shorthand for results with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
