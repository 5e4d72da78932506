//! Turn's syntax layer: source text -> tokens -> AST, with byte spans and
//! diagnostics as plain data.
//!
//! `parse(text)` never fails: it returns the tree (with `Error` nodes where the
//! source was broken) and every diagnostic found, so the checker, the formatter
//! and a language server can work on broken code. Nesting is bounded
//! ([`parser::MAX_DEPTH`]) so hostile input yields a diagnostic, not a stack
//! overflow. This crate does no I/O.

pub mod ast;
pub mod diagnostic;
pub mod lexer;
pub mod parser;
pub mod span;
pub mod token;

pub use diagnostic::{Diagnostic, Label, Severity};
pub use parser::{parse, Parse};
pub use span::{LineIndex, Span};
