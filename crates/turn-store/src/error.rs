//! The one error type of the store, worded for the person running `turn`.

/// Why a store operation failed. `store` fields name the store (its root
/// directory, or a database address for a server backend).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("{id:?} is not a valid run id: {reason} (a run id is 1-64 letters, digits, `_`, `.` or `-`, not starting with `.` or `-`)")]
    InvalidId { id: String, reason: &'static str },
    #[error("no run named `{0}`")]
    NoRun(String),
    #[error("a run named `{0}` already exists")]
    RunExists(String),
    #[error("cannot append to the log of run `{id}`: it has {len} entries, so the next one must be number {len}, not {got}")]
    LogGap { id: String, len: u64, got: u64 },
    #[error("cannot fork run `{id}` after {until} effects: its log has only {len} entries")]
    ForkPastEnd { id: String, until: u64, len: u64 },
    #[error("cannot save a checkpoint of run `{id}` after {seq} effects: its log has only {len} entries")]
    CheckpointPastEnd { id: String, seq: u64, len: u64 },
    #[error("{0:?} is not a blob hash (64 lowercase hex digits)")]
    InvalidHash(String),
    #[error("the store at {store} is damaged: {detail}")]
    Damaged { store: String, detail: String },
    #[error("the store at {store} was written by a newer turn (schema version {found}; this turn knows up to {known})")]
    TooNew {
        store: String,
        found: i64,
        known: i64,
    },
    #[error("the store at {store} is busy: another turn process kept it locked too long")]
    Busy { store: String },
    #[error("the store at {store} cannot be used: an earlier operation panicked")]
    Poisoned { store: String },
    #[error("cannot access {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("the store at {store} failed: {source}")]
    Backend {
        store: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}
