//! Runtime errors before they get a location.
//!
//! Builtins and instructions raise [`RtError`]; the interpreter adds the source
//! location and the Turn call stack and turns it into an `Error` value that
//! `catch` can bind, or reports it when nothing catches it.

use crate::value::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct RtError {
    /// `type`, `index`, `arithmetic`, `value`, `call`, `limit`, `json`,
    /// `regex`, `throw`, `identity`, `internal`, …
    pub kind: &'static str,
    pub message: String,
    /// Extra data carried to the `Error` value's `data` field.
    pub data: Value,
    /// Ends the process: no `catch` sees it (the step limit: steps spent
    /// cannot be given back, so a handler could not run either).
    pub fatal: bool,
}

impl RtError {
    pub fn new(kind: &'static str, message: impl Into<String>) -> RtError {
        RtError {
            kind,
            message: message.into(),
            data: Value::Null,
            fatal: false,
        }
    }
    pub fn type_error(message: impl Into<String>) -> RtError {
        RtError::new("type", message)
    }
    pub fn value_error(message: impl Into<String>) -> RtError {
        RtError::new("value", message)
    }
    pub fn arithmetic(message: impl Into<String>) -> RtError {
        RtError::new("arithmetic", message)
    }
    pub fn limit(message: impl Into<String>) -> RtError {
        RtError::new("limit", message)
    }
    /// A limit that ends the process (see `fatal`).
    pub fn fatal_limit(message: impl Into<String>) -> RtError {
        RtError {
            fatal: true,
            ..RtError::limit(message)
        }
    }
    pub fn identity(message: impl Into<String>) -> RtError {
        RtError::new("identity", message)
    }
    /// Our own bug, never the user's.
    pub fn internal(message: impl Into<String>) -> RtError {
        RtError::new(
            "internal",
            format!("{} (this is a bug in turn)", message.into()),
        )
    }
}

/// Every error kind the runtime raises.
pub const KINDS: &[&str] = &[
    "type",
    "index",
    "arithmetic",
    "value",
    "call",
    "arity",
    "limit",
    "json",
    "regex",
    "throw",
    "identity",
    "internal",
    "tool",
    "infer",
    "provider",
    "unsupported",
    "process",
    "deadlock",
    "checkpoint",
    "log",
    "context",
    "confidence",
    "module",
    "field",
    "key",
    "net",
    "fs",
    "env",
    "embed",
    "killed",
    "effect",
];

impl RtError {
    /// The static kind named `kind` (read back from a checkpoint or a log);
    /// an unknown name becomes `effect`.
    pub fn kind_named(kind: &str) -> &'static str {
        KINDS
            .iter()
            .find(|k| **k == kind)
            .copied()
            .unwrap_or("effect")
    }
}

pub type RtResult<T> = Result<T, RtError>;
