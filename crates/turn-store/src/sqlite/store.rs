//! [`Store`] on SQLite. Counters are `u64` in Rust and stored as the same 64
//! bits in SQLite's `INTEGER` (`i64`), so every value round-trips.

use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{Fail, SqliteStore};
use crate::{Checkpoint, LogEntry, RunId, RunRecord, RunStatus, Store, StoreError};

const RUN_COLUMNS: &str =
    "id, program, entry, status, result, created_ms, updated_ms, parent, parent_seq";

impl Store for SqliteStore {
    fn create_run(&self, rec: &RunRecord) -> Result<(), StoreError> {
        self.write(|c| insert_run(c, rec))
    }

    fn run(&self, id: &RunId) -> Result<Option<RunRecord>, StoreError> {
        self.read(|c| {
            let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1");
            let raw = c
                .prepare_cached(&sql)?
                .query_row([id.as_str()], RawRun::read)
                .optional()?;
            raw.map(RawRun::record).transpose()
        })
    }

    fn runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        self.read(|c| {
            let sql = format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY created_ms, key");
            let mut stmt = c.prepare_cached(&sql)?;
            let raws = stmt
                .query_map([], RawRun::read)?
                .collect::<Result<Vec<_>, _>>()?;
            raws.into_iter().map(RawRun::record).collect()
        })
    }

    fn set_status(
        &self,
        id: &RunId,
        status: RunStatus,
        result: Option<&str>,
    ) -> Result<(), StoreError> {
        self.write(|c| {
            let changed = c
                .prepare_cached(
                    "UPDATE runs SET status = ?2, result = ?3, updated_ms = ?4 WHERE id = ?1",
                )?
                .execute(params![id.as_str(), status.as_str(), result, int(now_ms())])?;
            if changed == 0 {
                return Err(no_run(id));
            }
            Ok(())
        })
    }

    fn reset_run(&self, id: &RunId) -> Result<(), StoreError> {
        self.write(|c| {
            // The log and checkpoints go with it (ON DELETE CASCADE).
            let changed = c
                .prepare_cached("DELETE FROM runs WHERE id = ?1")?
                .execute([id.as_str()])?;
            if changed == 0 {
                return Err(no_run(id));
            }
            Ok(())
        })
    }

    fn put_blob(&self, bytes: &[u8]) -> Result<String, StoreError> {
        self.blobs.put(bytes)
    }

    fn blob(&self, hash: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.blobs.get(hash)
    }

    fn append(&self, id: &RunId, entries: &[LogEntry]) -> Result<(), StoreError> {
        self.write(|c| {
            let run = key(c, id)?;
            let len = log_len(c, run)?;
            for (i, e) in (0..).zip(entries) {
                if e.seq != len + i {
                    return Err(StoreError::LogGap {
                        id: id.to_string(),
                        len: len + i,
                        got: e.seq,
                    }
                    .into());
                }
            }
            let mut stmt = c.prepare_cached(
                "INSERT INTO log (run, seq, round, pid, n, kind, digest, answer)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for e in entries {
                stmt.execute(params![
                    run,
                    int(e.seq),
                    int(e.round),
                    int(e.pid),
                    int(e.n),
                    e.kind,
                    e.digest,
                    e.answer
                ])?;
            }
            Ok(())
        })
    }

    fn log(&self, id: &RunId, from: u64) -> Result<Vec<LogEntry>, StoreError> {
        self.read(|c| {
            let run = key(c, id)?;
            let from = i64::try_from(from).unwrap_or(i64::MAX);
            let mut stmt = c.prepare_cached(
                "SELECT seq, round, pid, n, kind, digest, answer FROM log
                 WHERE run = ?1 AND seq >= ?2 ORDER BY seq",
            )?;
            let rows = stmt.query_map([run, from], |r| {
                Ok(LogEntry {
                    seq: uint(r.get(0)?),
                    round: uint(r.get(1)?),
                    pid: uint(r.get(2)?),
                    n: uint(r.get(3)?),
                    kind: r.get(4)?,
                    digest: r.get(5)?,
                    answer: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn log_len(&self, id: &RunId) -> Result<u64, StoreError> {
        self.read(|c| log_len(c, key(c, id)?))
    }

    // Checkpoints are stored inline rather than as blobs: only two per run are
    // kept, so content addressing would dedupe nothing, and pruning would
    // leave orphan blob files behind. Inline, save + prune is one transaction.
    fn save_checkpoint(&self, id: &RunId, cp: &Checkpoint) -> Result<(), StoreError> {
        self.write(|c| {
            let run = key(c, id)?;
            let len = log_len(c, run)?;
            if cp.seq > len {
                return Err(
                    StoreError::CheckpointPastEnd { id: id.to_string(), seq: cp.seq, len }.into()
                );
            }
            c.prepare_cached(
                "INSERT OR REPLACE INTO checkpoints (run, seq, round, bytes) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![run, int(cp.seq), int(cp.round), cp.bytes])?;
            c.prepare_cached(
                "DELETE FROM checkpoints WHERE run = ?1 AND seq NOT IN
                 (SELECT seq FROM checkpoints WHERE run = ?1 ORDER BY seq DESC LIMIT 2)",
            )?
            .execute([run])?;
            Ok(())
        })
    }

    fn latest_checkpoint(&self, id: &RunId) -> Result<Option<Checkpoint>, StoreError> {
        self.read(|c| {
            let run = key(c, id)?;
            let cp = c
                .prepare_cached(
                    "SELECT seq, round, bytes FROM checkpoints WHERE run = ?1
                     ORDER BY seq DESC LIMIT 1",
                )?
                .query_row([run], |r| {
                    Ok(Checkpoint {
                        seq: uint(r.get(0)?),
                        round: uint(r.get(1)?),
                        bytes: r.get(2)?,
                    })
                })
                .optional()?;
            Ok(cp)
        })
    }

    fn fork(&self, src: &RunId, dst: &RunId, until: u64) -> Result<RunRecord, StoreError> {
        self.write(|c| {
            let from = key(c, src)?;
            let len = log_len(c, from)?;
            if until > len {
                return Err(StoreError::ForkPastEnd {
                    id: src.to_string(),
                    until,
                    len,
                }
                .into());
            }
            let (program, entry) = c
                .prepare_cached("SELECT program, entry FROM runs WHERE key = ?1")?
                .query_row([from], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let now = now_ms();
            let rec = RunRecord {
                id: dst.clone(),
                program,
                entry,
                status: RunStatus::Running,
                result: None,
                created_ms: now,
                updated_ms: now,
                parent: Some((src.clone(), until)),
            };
            insert_run(c, &rec)?;
            let to = key(c, dst)?;
            c.prepare_cached(
                "INSERT INTO log (run, seq, round, pid, n, kind, digest, answer)
                 SELECT ?1, seq, round, pid, n, kind, digest, answer FROM log
                 WHERE run = ?2 AND seq < ?3",
            )?
            .execute(params![to, from, int(until)])?;
            Ok(rec)
        })
    }

    fn save_memory(&self, id: &RunId, bytes: &[u8]) -> Result<(), StoreError> {
        self.write(|c| {
            c.prepare_cached("INSERT OR REPLACE INTO memory (agent, bytes) VALUES (?1, ?2)")?
                .execute(params![id.as_str(), bytes])?;
            Ok(())
        })
    }

    fn memory(&self, id: &RunId) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|c| {
            let bytes = c
                .prepare_cached("SELECT bytes FROM memory WHERE agent = ?1")?
                .query_row([id.as_str()], |r| r.get(0))
                .optional()?;
            Ok(bytes)
        })
    }
}

fn insert_run(c: &Connection, rec: &RunRecord) -> Result<(), Fail> {
    let exists = c
        .prepare_cached("SELECT 1 FROM runs WHERE id = ?1")?
        .exists([rec.id.as_str()])?;
    if exists {
        return Err(StoreError::RunExists(rec.id.to_string()).into());
    }
    let (parent, parent_seq) = match &rec.parent {
        Some((id, seq)) => (Some(id.as_str()), Some(int(*seq))),
        None => (None, None),
    };
    c.prepare_cached(&format!(
        "INSERT INTO runs ({RUN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    ))?
    .execute(params![
        rec.id.as_str(),
        rec.program,
        rec.entry,
        rec.status.as_str(),
        rec.result,
        int(rec.created_ms),
        int(rec.updated_ms),
        parent,
        parent_seq
    ])?;
    Ok(())
}

/// The run's integer key, or "no run named …".
fn key(c: &Connection, id: &RunId) -> Result<i64, Fail> {
    c.prepare_cached("SELECT key FROM runs WHERE id = ?1")?
        .query_row([id.as_str()], |r| r.get(0))
        .optional()?
        .ok_or_else(|| no_run(id))
}

fn log_len(c: &Connection, run: i64) -> Result<u64, Fail> {
    let len: i64 = c
        .prepare_cached("SELECT coalesce(max(seq) + 1, 0) FROM log WHERE run = ?1")?
        .query_row([run], |r| r.get(0))?;
    Ok(uint(len))
}

fn no_run(id: &RunId) -> Fail {
    StoreError::NoRun(id.to_string()).into()
}

/// A `runs` row as SQLite returns it, checked by [`RawRun::record`].
struct RawRun {
    id: String,
    program: String,
    entry: String,
    status: String,
    result: Option<String>,
    created_ms: i64,
    updated_ms: i64,
    parent: Option<String>,
    parent_seq: Option<i64>,
}

impl RawRun {
    fn read(r: &Row<'_>) -> rusqlite::Result<RawRun> {
        Ok(RawRun {
            id: r.get(0)?,
            program: r.get(1)?,
            entry: r.get(2)?,
            status: r.get(3)?,
            result: r.get(4)?,
            created_ms: r.get(5)?,
            updated_ms: r.get(6)?,
            parent: r.get(7)?,
            parent_seq: r.get(8)?,
        })
    }

    fn record(self) -> Result<RunRecord, Fail> {
        let id = stored_id(&self.id)?;
        let status = RunStatus::parse(&self.status).ok_or_else(|| {
            Fail::Damaged(format!(
                "run `{id}` has an unknown status `{}`",
                self.status
            ))
        })?;
        let parent = match (self.parent, self.parent_seq) {
            (Some(p), Some(seq)) => Some((stored_id(&p)?, uint(seq))),
            _ => None,
        };
        Ok(RunRecord {
            id,
            program: self.program,
            entry: self.entry,
            status,
            result: self.result,
            created_ms: uint(self.created_ms),
            updated_ms: uint(self.updated_ms),
            parent,
        })
    }
}

fn stored_id(s: &str) -> Result<RunId, Fail> {
    RunId::parse(s).map_err(|e| Fail::Damaged(format!("a stored run id is invalid: {e}")))
}

/// A `u64` as the same 64 bits in an SQLite integer.
fn int(v: u64) -> i64 {
    v as i64
}

/// The inverse of [`int`].
fn uint(v: i64) -> u64 {
    v as u64
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
