//! A parser for POSIX shell command lines (bash and dash dialects).
//!
//! See `docs/design.md` for why sandboxcore has its own parser.

pub mod ast;
mod parser;

pub use parser::{
    is_assignment, parse, parse_nested, word_text, ParseError, MAX_DEPTH, RESERVED_WORDS,
};
