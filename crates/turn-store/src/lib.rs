//! Durable storage for Turn runs: run records, effect logs, checkpoints,
//! agent memory and content-addressed blobs.
//!
//! [`Store`] is the interface the runtime uses; it speaks in plain data so
//! that a server backend (PostgreSQL) can implement it too. [`SqliteStore`]
//! is the embedded default: one SQLite database in WAL mode plus a folder of
//! blobs, under a root directory such as `.turn/`.

mod blobs;
mod error;
mod sqlite;
mod types;

pub use error::StoreError;
pub use sqlite::SqliteStore;
pub use types::{Checkpoint, LogEntry, RunId, RunRecord, RunStatus};

/// Durable storage of runs. Every method is atomic: it either happens whole
/// or returns an error and changes nothing.
pub trait Store {
    /// Records a new run; an error if a run with this id exists.
    fn create_run(&self, rec: &RunRecord) -> Result<(), StoreError>;
    /// The run named `id`, if there is one.
    fn run(&self, id: &RunId) -> Result<Option<RunRecord>, StoreError>;
    /// Every run, oldest first.
    fn runs(&self) -> Result<Vec<RunRecord>, StoreError>;
    /// Sets a run's status and result, and its `updated_ms` to now.
    fn set_status(
        &self,
        id: &RunId,
        status: RunStatus,
        result: Option<&str>,
    ) -> Result<(), StoreError>;
    /// Drops a run's log, checkpoints and record (memory stays: it belongs to
    /// the agent id).
    fn reset_run(&self, id: &RunId) -> Result<(), StoreError>;

    /// Stores `bytes` under their BLAKE3 hash (64 lowercase hex digits) and
    /// returns the hash. Idempotent.
    fn put_blob(&self, bytes: &[u8]) -> Result<String, StoreError>;
    /// The blob stored under `hash`, checked against it.
    fn blob(&self, hash: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Appends entries to a run's log, all or nothing. The first entry's
    /// `seq` must equal the log's length and the others must follow it.
    fn append(&self, id: &RunId, entries: &[LogEntry]) -> Result<(), StoreError>;
    /// The entries with `seq >= from`, in order.
    fn log(&self, id: &RunId, from: u64) -> Result<Vec<LogEntry>, StoreError>;
    /// The number of entries in a run's log.
    fn log_len(&self, id: &RunId) -> Result<u64, StoreError>;

    /// Saves a checkpoint (its `seq` must not be past the end of the log);
    /// only the newest two of a run are kept.
    fn save_checkpoint(&self, id: &RunId, cp: &Checkpoint) -> Result<(), StoreError>;
    /// The checkpoint with the highest `seq`, if any.
    fn latest_checkpoint(&self, id: &RunId) -> Result<Option<Checkpoint>, StoreError>;

    /// Creates run `dst` whose log is the first `until` entries of `src`
    /// (no checkpoints), status `Running`, parent `(src, until)`.
    fn fork(&self, src: &RunId, dst: &RunId, until: u64) -> Result<RunRecord, StoreError>;

    /// Replaces the persistent memory of an agent id.
    fn save_memory(&self, id: &RunId, bytes: &[u8]) -> Result<(), StoreError>;
    /// The persistent memory of an agent id, if any was saved.
    fn memory(&self, id: &RunId) -> Result<Option<Vec<u8>>, StoreError>;
}
