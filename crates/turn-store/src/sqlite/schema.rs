//! The database schema and its migrations, tracked in `PRAGMA user_version`.

use rusqlite::{Connection, TransactionBehavior};

use super::Fail;
use crate::StoreError;

/// The schema version this code writes.
const VERSION: i64 = 1;

/// Version 1. Runs have an integer `key` that the log and checkpoints refer
/// to (shorter rows than repeating the id); deleting a run cascades to both.
/// Memory is keyed by the agent id and outlives its runs.
const V1: &str = "
CREATE TABLE runs (
    key        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    program    TEXT NOT NULL,
    entry      TEXT NOT NULL,
    status     TEXT NOT NULL,
    result     TEXT,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    parent     TEXT,
    parent_seq INTEGER
);
CREATE TABLE log (
    run    INTEGER NOT NULL REFERENCES runs(key) ON DELETE CASCADE,
    seq    INTEGER NOT NULL,
    round  INTEGER NOT NULL,
    pid    INTEGER NOT NULL,
    n      INTEGER NOT NULL,
    kind   TEXT NOT NULL,
    digest TEXT NOT NULL,
    answer BLOB NOT NULL,
    PRIMARY KEY (run, seq)
);
CREATE TABLE checkpoints (
    run   INTEGER NOT NULL REFERENCES runs(key) ON DELETE CASCADE,
    seq   INTEGER NOT NULL,
    round INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (run, seq)
);
CREATE TABLE memory (
    agent TEXT PRIMARY KEY,
    bytes BLOB NOT NULL
);
";

/// Brings the schema up to [`VERSION`]; refuses a database from a newer turn.
pub(super) fn migrate(conn: &mut Connection, store: &str) -> Result<(), Fail> {
    if version(conn, store)? == VERSION {
        return Ok(());
    }
    // Check again under the write lock: another process may be migrating.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found = version(&tx, store)?;
    if found == 0 {
        tx.execute_batch(V1)?;
    }
    tx.pragma_update(None, "user_version", VERSION)?;
    tx.commit()?;
    Ok(())
}

fn version(conn: &Connection, store: &str) -> Result<i64, Fail> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > VERSION {
        return Err(StoreError::TooNew {
            store: store.to_owned(),
            found,
            known: VERSION,
        }
        .into());
    }
    if found < 0 {
        return Err(Fail::Damaged(format!("turn.db has schema version {found}")));
    }
    Ok(found)
}
