//! The SQLite store against the `Store` contract: ids, runs, the log, checkpoints,
//! blobs, forks, memory, reopening and damaged stores.

// Tests may panic on what they did not expect: that is how they fail.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::Path;

use tempfile::TempDir;
use turn_store::{
    Checkpoint, LogEntry, RunId, RunRecord, RunStatus, SqliteStore, Store, StoreError,
};

fn open() -> (TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join(".turn")).unwrap();
    (dir, store)
}

fn id(s: &str) -> RunId {
    RunId::parse(s).unwrap()
}

fn record(name: &str, created_ms: u64) -> RunRecord {
    RunRecord {
        id: id(name),
        program: "ab".repeat(32),
        entry: "main.tn".into(),
        status: RunStatus::Running,
        result: None,
        created_ms,
        updated_ms: created_ms,
        parent: None,
    }
}

fn entry(seq: u64) -> LogEntry {
    LogEntry {
        seq,
        round: seq / 2,
        pid: seq % 3,
        n: seq + 10,
        kind: ["infer", "tool:fetch"][seq as usize % 2].into(),
        digest: format!("{seq:064x}"),
        answer: vec![seq as u8; seq as usize % 7],
    }
}

fn entries(range: std::ops::Range<u64>) -> Vec<LogEntry> {
    range.map(entry).collect()
}

/// A store with run `r` whose log holds `n` entries.
fn with_log(n: u64) -> (TempDir, SqliteStore, RunId) {
    let (dir, store) = open();
    store.create_run(&record("r", 1)).unwrap();
    store.append(&id("r"), &entries(0..n)).unwrap();
    (dir, store, id("r"))
}

#[test]
fn run_ids_are_validated() {
    for ok in ["agent-1", "a.b_c", "A", "x..y", &"a".repeat(64)] {
        assert_eq!(RunId::parse(ok).unwrap().as_str(), ok);
    }
    let long = "a".repeat(65);
    for bad in [
        "../x", "a/b", "a\\b", "..", ".", ".hidden", "-x", "", &long, "a b", "a\0b", "é",
    ] {
        let err = RunId::parse(bad).unwrap_err();
        assert!(
            matches!(err, StoreError::InvalidId { .. }),
            "{bad:?} accepted"
        );
        assert!(err.to_string().contains("is not a valid run id"), "{err}");
    }
    assert!(RunId::parse("-x")
        .unwrap_err()
        .to_string()
        .contains("must not start with"));
    assert!(RunId::parse(&long)
        .unwrap_err()
        .to_string()
        .contains("longer than 64"));
    assert_eq!(id("agent-1").to_string(), "agent-1");
}

#[test]
fn status_names_round_trip() {
    for s in [
        RunStatus::Running,
        RunStatus::Suspended,
        RunStatus::Waiting,
        RunStatus::Done,
        RunStatus::Failed,
    ] {
        assert_eq!(RunStatus::parse(s.as_str()), Some(s));
        assert_eq!(s.to_string(), s.as_str());
    }
    assert_eq!(RunStatus::parse("Running"), None);
}

#[test]
fn runs_are_created_listed_and_fetched() {
    let (_dir, store) = open();
    assert!(store.runs().unwrap().is_empty());
    assert_eq!(store.run(&id("b")).unwrap(), None);
    let b = record("b", 5);
    let mut a = record("a", 9);
    a.result = Some("ok".into());
    a.parent = Some((id("b"), 3));
    store.create_run(&b).unwrap();
    store.create_run(&a).unwrap();
    store.create_run(&record("c", 7)).unwrap();
    assert_eq!(store.run(&id("a")).unwrap(), Some(a.clone()));
    let names: Vec<_> = store
        .runs()
        .unwrap()
        .into_iter()
        .map(|r| r.id.to_string())
        .collect();
    assert_eq!(names, ["b", "c", "a"]);
}

#[test]
fn duplicate_create_is_refused() {
    let (_dir, store) = open();
    store.create_run(&record("a", 1)).unwrap();
    let mut again = record("a", 2);
    again.entry = "other.tn".into();
    let err = store.create_run(&again).unwrap_err();
    assert_eq!(err.to_string(), "a run named `a` already exists");
    assert_eq!(store.run(&id("a")).unwrap().unwrap().entry, "main.tn");
}

#[test]
fn status_updates() {
    let (_dir, store) = open();
    store.create_run(&record("a", 1)).unwrap();
    store
        .set_status(&id("a"), RunStatus::Done, Some("42"))
        .unwrap();
    let rec = store.run(&id("a")).unwrap().unwrap();
    assert_eq!(
        (rec.status, rec.result.as_deref()),
        (RunStatus::Done, Some("42"))
    );
    assert!(rec.updated_ms > 1);
    assert_eq!(rec.created_ms, 1);
    store
        .set_status(&id("a"), RunStatus::Suspended, None)
        .unwrap();
    let rec = store.run(&id("a")).unwrap().unwrap();
    assert_eq!((rec.status, rec.result), (RunStatus::Suspended, None));
    let err = store
        .set_status(&id("x"), RunStatus::Done, None)
        .unwrap_err();
    assert_eq!(err.to_string(), "no run named `x`");
}

#[test]
fn append_and_read_log() {
    let (_dir, store, r) = with_log(5);
    store.append(&r, &entries(5..6)).unwrap();
    store.append(&r, &[]).unwrap();
    assert_eq!(store.log_len(&r).unwrap(), 6);
    assert_eq!(store.log(&r, 0).unwrap(), entries(0..6));
    assert_eq!(store.log(&r, 4).unwrap(), entries(4..6));
    assert!(store.log(&r, 6).unwrap().is_empty());
    assert!(store.log(&r, u64::MAX).unwrap().is_empty());
}

#[test]
fn log_keeps_full_u64_values_and_large_answers() {
    let (_dir, store) = open();
    store.create_run(&record("r", 1)).unwrap();
    let mut e = entry(0);
    (e.round, e.pid, e.n) = (u64::MAX, 1 << 63, u64::MAX - 1);
    e.answer = vec![7; 3 << 20];
    store.append(&id("r"), &[e.clone()]).unwrap();
    assert_eq!(store.log(&id("r"), 0).unwrap(), [e]);
}

#[test]
fn append_refuses_gaps_and_overlaps() {
    let (_dir, store, r) = with_log(3);
    let gap = store.append(&r, &entries(4..6)).unwrap_err();
    assert!(
        matches!(gap, StoreError::LogGap { len: 3, got: 4, .. }),
        "{gap}"
    );
    assert!(gap.to_string().contains("must be number 3, not 4"), "{gap}");
    let overlap = store.append(&r, &entries(2..5)).unwrap_err();
    assert!(matches!(overlap, StoreError::LogGap { len: 3, got: 2, .. }));
    assert_eq!(store.log(&r, 0).unwrap(), entries(0..3));
}

#[test]
fn a_bad_batch_writes_nothing() {
    let (_dir, store, r) = with_log(2);
    // Starts right, then skips an entry: the good prefix must not land either.
    let mut batch = entries(2..5);
    batch[2].seq = 9;
    assert!(matches!(
        store.append(&r, &batch).unwrap_err(),
        StoreError::LogGap { len: 4, got: 9, .. }
    ));
    // A repeated seq inside a batch.
    let batch = vec![entry(2), entry(2)];
    assert!(store.append(&r, &batch).is_err());
    assert_eq!(store.log_len(&r).unwrap(), 2);
    store.append(&r, &entries(2..5)).unwrap();
    assert_eq!(store.log(&r, 0).unwrap(), entries(0..5));
}

#[test]
fn log_operations_on_a_missing_run() {
    let (_dir, store) = open();
    let x = id("x");
    for err in [
        store.append(&x, &entries(0..1)).unwrap_err(),
        store.log(&x, 0).unwrap_err(),
        store.log_len(&x).unwrap_err(),
        store.latest_checkpoint(&x).unwrap_err(),
        store.reset_run(&x).unwrap_err(),
    ] {
        assert_eq!(err.to_string(), "no run named `x`");
    }
}

#[test]
fn checkpoints_keep_the_newest_two() {
    let (dir, store, r) = with_log(10);
    assert_eq!(store.latest_checkpoint(&r).unwrap(), None);
    let cp = |seq: u64| Checkpoint {
        seq,
        round: seq * 2,
        bytes: vec![seq as u8; 100],
    };
    store.save_checkpoint(&r, &cp(3)).unwrap();
    assert_eq!(store.latest_checkpoint(&r).unwrap(), Some(cp(3)));
    store.save_checkpoint(&r, &cp(6)).unwrap();
    store.save_checkpoint(&r, &cp(9)).unwrap();
    assert_eq!(store.latest_checkpoint(&r).unwrap(), Some(cp(9)));
    // Saved out of order, 3 is now the oldest of {3, 6, 9} and is pruned at once.
    store.save_checkpoint(&r, &cp(3)).unwrap();
    assert_eq!(store.latest_checkpoint(&r).unwrap(), Some(cp(9)));
    let kept = "SELECT group_concat(seq) FROM (SELECT seq FROM checkpoints ORDER BY seq)";
    assert_eq!(query(&store_root(&dir), kept), "6,9");
    let err = store.save_checkpoint(&r, &cp(11)).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::CheckpointPastEnd {
                seq: 11,
                len: 10,
                ..
            }
        ),
        "{err}"
    );
    store.save_checkpoint(&r, &cp(10)).unwrap();
    assert_eq!(store.latest_checkpoint(&r).unwrap(), Some(cp(10)));
}

#[test]
fn blobs_round_trip_and_are_idempotent() {
    let (dir, store) = open();
    let hash = store.put_blob(b"program bytes").unwrap();
    assert_eq!(hash, blake3::hash(b"program bytes").to_hex().as_str());
    assert_eq!(store.put_blob(b"program bytes").unwrap(), hash);
    assert_eq!(
        store.blob(&hash).unwrap().as_deref(),
        Some(&b"program bytes"[..])
    );
    let file = store_root(&dir)
        .join("blobs")
        .join(&hash[..2])
        .join(&hash[2..]);
    assert_eq!(fs::read(&file).unwrap(), b"program bytes");
    // Exactly one file: no temporary file left behind.
    assert_eq!(fs::read_dir(file.parent().unwrap()).unwrap().count(), 1);
    let empty = store.put_blob(b"").unwrap();
    assert_eq!(store.blob(&empty).unwrap(), Some(vec![]));
    assert_eq!(store.blob(&"0".repeat(64)).unwrap(), None);
}

#[test]
fn blob_hashes_are_validated() {
    let (_dir, store) = open();
    let upper = "A".repeat(64);
    for bad in [
        "",
        "abc",
        "../../turn.db",
        &upper,
        &"0".repeat(63),
        &"0".repeat(65),
        &"g".repeat(64),
    ] {
        assert!(
            matches!(store.blob(bad), Err(StoreError::InvalidHash(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn a_corrupt_blob_is_reported_as_damage() {
    let (dir, store) = open();
    let hash = store.put_blob(b"original").unwrap();
    let file = store_root(&dir)
        .join("blobs")
        .join(&hash[..2])
        .join(&hash[2..]);
    fs::write(&file, b"tampered").unwrap();
    let err = store.blob(&hash).unwrap_err();
    assert!(matches!(err, StoreError::Damaged { .. }));
    let msg = err.to_string();
    assert!(
        msg.starts_with("the store at ") && msg.contains("is damaged: blob"),
        "{msg}"
    );
}

#[test]
fn fork_copies_the_prefix_and_records_the_parent() {
    let (_dir, store, r) = with_log(8);
    store.set_status(&r, RunStatus::Done, Some("x")).unwrap();
    store
        .save_checkpoint(
            &r,
            &Checkpoint {
                seq: 4,
                round: 2,
                bytes: vec![1],
            },
        )
        .unwrap();
    let f = store.fork(&r, &id("f"), 5).unwrap();
    assert_eq!(f.parent, Some((r.clone(), 5)));
    assert_eq!((f.status, f.result.as_deref()), (RunStatus::Running, None));
    assert_eq!(f.program, "ab".repeat(32));
    assert_eq!(store.run(&id("f")).unwrap(), Some(f));
    assert_eq!(store.log(&id("f"), 0).unwrap(), entries(0..5));
    assert_eq!(store.latest_checkpoint(&id("f")).unwrap(), None);
    // The fork's log grows on its own.
    store.append(&id("f"), &entries(5..6)).unwrap();
    assert_eq!(store.log_len(&id("f")).unwrap(), 6);
    assert_eq!(store.log_len(&r).unwrap(), 8);
    // Whole log and empty prefix are fine; past the end, an existing name or a
    // missing source are not.
    assert_eq!(
        store.fork(&r, &id("all"), 8).unwrap().parent,
        Some((r.clone(), 8))
    );
    assert_eq!(
        store
            .fork(&r, &id("none"), 0)
            .map(|_| store.log_len(&id("none")))
            .unwrap()
            .unwrap(),
        0
    );
    assert!(matches!(
        store.fork(&r, &id("g"), 9),
        Err(StoreError::ForkPastEnd {
            until: 9,
            len: 8,
            ..
        })
    ));
    assert!(matches!(
        store.fork(&r, &id("f"), 1),
        Err(StoreError::RunExists(_))
    ));
    assert!(matches!(
        store.fork(&id("nope"), &id("g"), 0),
        Err(StoreError::NoRun(_))
    ));
    assert_eq!(store.run(&id("g")).unwrap(), None);
}

#[test]
fn reset_drops_run_log_and_checkpoints_but_keeps_memory() {
    let (dir, store, r) = with_log(4);
    store
        .save_checkpoint(
            &r,
            &Checkpoint {
                seq: 2,
                round: 1,
                bytes: vec![9],
            },
        )
        .unwrap();
    store.save_memory(&r, b"facts").unwrap();
    store.reset_run(&r).unwrap();
    assert_eq!(store.run(&r).unwrap(), None);
    assert!(matches!(store.log(&r, 0), Err(StoreError::NoRun(_))));
    assert_eq!(query(&store_root(&dir), "SELECT count(*) FROM log"), "0");
    assert_eq!(
        query(&store_root(&dir), "SELECT count(*) FROM checkpoints"),
        "0"
    );
    assert_eq!(store.memory(&r).unwrap().as_deref(), Some(&b"facts"[..]));
    // The id can be used again, starting from an empty log.
    store.create_run(&record("r", 2)).unwrap();
    assert_eq!(store.log_len(&r).unwrap(), 0);
    assert_eq!(store.latest_checkpoint(&r).unwrap(), None);
}

#[test]
fn memory_is_saved_and_replaced_whole() {
    let (_dir, store) = open();
    let a = id("agent-1");
    assert_eq!(store.memory(&a).unwrap(), None);
    store.save_memory(&a, b"first, longer").unwrap();
    store.save_memory(&a, b"second").unwrap();
    assert_eq!(store.memory(&a).unwrap().as_deref(), Some(&b"second"[..]));
    assert_eq!(store.memory(&id("agent-2")).unwrap(), None);
}

#[test]
fn a_second_open_sees_everything() {
    let (dir, store, r) = with_log(3);
    store
        .save_checkpoint(
            &r,
            &Checkpoint {
                seq: 3,
                round: 1,
                bytes: vec![5; 10],
            },
        )
        .unwrap();
    store.save_memory(&r, b"m").unwrap();
    let hash = store.put_blob(b"blob").unwrap();
    // While the first is still open (two `turn` processes), and after it closes.
    let second = SqliteStore::open(&store_root(&dir)).unwrap();
    second.append(&r, &entries(3..4)).unwrap();
    assert_eq!(store.log(&r, 0).unwrap(), entries(0..4));
    drop(store);
    let third = SqliteStore::open(&store_root(&dir)).unwrap();
    for s in [&second, &third] {
        assert_eq!(s.runs().unwrap(), [record("r", 1)]);
        assert_eq!(s.log(&r, 0).unwrap(), entries(0..4));
        assert_eq!(s.latest_checkpoint(&r).unwrap().unwrap().bytes, vec![5; 10]);
        assert_eq!(s.memory(&r).unwrap(), Some(b"m".to_vec()));
        assert_eq!(s.blob(&hash).unwrap(), Some(b"blob".to_vec()));
    }
}

#[test]
fn open_creates_the_layout() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("deep").join(".turn");
    SqliteStore::open(&root).unwrap();
    assert!(root.join("turn.db").is_file());
    assert!(root.join("blobs").is_dir());
}

#[test]
fn a_garbage_database_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join(".turn");
    fs::create_dir_all(&root).unwrap();
    fs::write(root.join("turn.db"), vec![b'#'; 8192]).unwrap();
    let err = SqliteStore::open(&root).unwrap_err();
    assert!(matches!(err, StoreError::Damaged { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("is damaged: turn.db is not a SQLite database"),
        "{msg}"
    );
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join(".turn");
    drop(SqliteStore::open(&root).unwrap());
    rusqlite::Connection::open(root.join("turn.db"))
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let err = SqliteStore::open(&root).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::TooNew {
                found: 99,
                known: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("written by a newer turn"), "{err}");
}

#[test]
fn a_bad_row_is_damage_not_a_panic() {
    let (dir, store) = open();
    store.create_run(&record("a", 1)).unwrap();
    let conn = rusqlite::Connection::open(store_root(&dir).join("turn.db")).unwrap();
    conn.execute("UPDATE runs SET status = 'exploded'", [])
        .unwrap();
    let err = store.run(&id("a")).unwrap_err();
    assert!(
        err.to_string()
            .contains("is damaged: run `a` has an unknown status `exploded`"),
        "{err}"
    );
    conn.execute("UPDATE runs SET status = 'done', id = '../a'", [])
        .unwrap();
    assert!(matches!(store.runs(), Err(StoreError::Damaged { .. })));
}

#[test]
fn the_store_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<SqliteStore>();
    check::<StoreError>();
}

fn store_root(dir: &TempDir) -> std::path::PathBuf {
    dir.path().join(".turn")
}

/// The first column of the first row of `sql`, as text.
fn query(root: &Path, sql: &str) -> String {
    let conn = rusqlite::Connection::open(root.join("turn.db")).unwrap();
    conn.query_row(sql, [], |r| r.get::<_, rusqlite::types::Value>(0))
        .map(|v| match v {
            rusqlite::types::Value::Integer(i) => i.to_string(),
            rusqlite::types::Value::Text(t) => t,
            other => format!("{other:?}"),
        })
        .unwrap()
}
