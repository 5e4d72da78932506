//! Timings of the SQLite store's hot paths. Prints figures; asserts nothing
//! beyond correctness. Run with `cargo bench -p turn-store`.

use std::time::{Duration, Instant};

use turn_store::{Checkpoint, LogEntry, RunId, RunRecord, RunStatus, SqliteStore, Store};

const N: u64 = 10_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(dir.path())?;

    let one = new_run(&store, "one")?;
    let t = Instant::now();
    for seq in 0..N {
        store.append(&one, &[entry(seq)])?;
    }
    report("append 10,000, one per transaction", t.elapsed());

    let batched = new_run(&store, "batched")?;
    let t = Instant::now();
    for start in (0..N).step_by(100) {
        let batch: Vec<_> = (start..start + 100).map(entry).collect();
        store.append(&batched, &batch)?;
    }
    report("append 10,000, batches of 100", t.elapsed());

    let mut best = Duration::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let log = store.log(&batched, 0)?;
        best = best.min(t.elapsed());
        assert_eq!(log.len() as u64, N);
    }
    report("read 10,000 entries (best of 5)", best);

    let cp = Checkpoint {
        seq: N,
        round: 7,
        bytes: (0..100_000u32).map(|i| i as u8).collect(),
    };
    let t = Instant::now();
    store.save_checkpoint(&batched, &cp)?;
    let saved = t.elapsed();
    let t = Instant::now();
    let back = store.latest_checkpoint(&batched)?;
    let loaded = t.elapsed();
    assert_eq!(back.as_ref(), Some(&cp));
    report("save 100 KB checkpoint", saved);
    report("load 100 KB checkpoint", loaded);
    Ok(())
}

fn new_run(store: &SqliteStore, name: &str) -> Result<RunId, turn_store::StoreError> {
    let id = RunId::parse(name)?;
    store.create_run(&RunRecord {
        id: id.clone(),
        program: "0".repeat(64),
        entry: "bench.tn".into(),
        status: RunStatus::Running,
        result: None,
        created_ms: 0,
        updated_ms: 0,
        parent: None,
    })?;
    Ok(id)
}

/// An entry with a 200-byte answer, about the size of a short model reply.
fn entry(seq: u64) -> LogEntry {
    LogEntry {
        seq,
        round: seq / 4,
        pid: seq % 3,
        n: seq,
        kind: "infer".into(),
        digest: blake3::hash(&seq.to_le_bytes()).to_hex().to_string(),
        answer: vec![b'x'; 200],
    }
}

fn report(what: &str, d: Duration) {
    println!("{what:<40} {:>10.2} ms", d.as_secs_f64() * 1e3);
}
