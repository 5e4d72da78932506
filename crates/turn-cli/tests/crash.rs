//! Crash safety: `turn run --id` killed with SIGKILL at many points of a
//! multi-actor program with effects, then `turn resume`d, must end with the
//! uninterrupted run's result, and no effect that was in the log at the
//! kill may run again. (An effect under way at the kill may run twice; the
//! tool sees the same idempotency key both times.)

#![cfg(unix)]

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use turn_store::{RunId, RunStatus, SqliteStore, Store};

const PROGRAM: &str = r#"
let time = use "std/time";
let worker = turn(w) {
    let total = 0;
    for step in range(0, 5) {
        let r = call("record", {"w": w, "step": step});
        total = total + r["w"] * 10 + r["step"];
        time.sleep(0.002);
    }
    return total;
};
let pids = spawn_each([1, 2, 3], worker);
let results = gather pids;
let sum = 0;
for r in results { sum = sum + r; }
remember("sum", sum);
return [results, sum];
"#;

/// Tool calls per run.
const CALLS: usize = 15;

fn turn() -> Command {
    Command::new(env!("CARGO_BIN_EXE_turn"))
}

fn setup(dir: &Path) {
    std::fs::write(dir.join("crash.tn"), PROGRAM).expect("write program");
    std::fs::write(
        dir.join("turn.toml"),
        "[tools.record]\ncommand = [\"sh\", \"record.sh\"]\n",
    )
    .expect("write turn.toml");
    // Appends its idempotency key, answers with its argument.
    std::fs::write(
        dir.join("record.sh"),
        "arg=$(cat)\necho \"$TURN_IDEMPOTENCY_KEY\" >> calls.log\nprintf '%s' \"$arg\"\n",
    )
    .expect("write tool");
}

fn calls_of(dir: &Path, id: &str) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("calls.log")).unwrap_or_default();
    // Keys are `ID.CREATED/pid/n`.
    let prefix = format!("{id}.");
    text.lines()
        .filter(|l| l.starts_with(&prefix))
        .map(str::to_string)
        .collect()
}

fn run_to_end(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = turn()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run turn");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string()
            + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn killed_runs_resume_to_the_same_result_without_repeating_logged_effects() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    setup(dir);
    let (ok, baseline) = run_to_end(dir, &["run", "crash.tn", "--id", "base"]);
    assert!(ok, "the uninterrupted run failed: {baseline}");
    assert_eq!(baseline, "[[60, 110, 160], 330]");
    assert_eq!(calls_of(dir, "base").len(), CALLS);

    let mut positions: HashMap<u64, usize> = HashMap::new();
    let mut from_checkpoint = 0;
    let mut kills = 0;
    for point in 0..60usize {
        let id = format!("c{point}");
        let after_calls = point % (CALLS + 1);
        let extra = Duration::from_micros([0, 700, 2_000, 5_000][point / (CALLS + 1) % 4]);
        // Half the runs checkpoint often, so resuming starts from a checkpoint.
        let every = if point % 2 == 0 { "1" } else { "0" };
        let mut child = turn()
            .args(["run", "crash.tn", "--id", &id])
            .env("TURN_CHECKPOINT_EVERY", every)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn turn");
        // Wait for the chosen number of tool calls, then a little more.
        let deadline = Instant::now() + Duration::from_secs(20);
        while calls_of(dir, &id).len() < after_calls && Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        std::thread::sleep(extra);
        // SIGKILL: no destructor, no flush, no goodbye.
        let _ = child.kill();
        let _ = child.wait();
        kills += 1;

        // What the store had logged at the kill.
        let store = SqliteStore::open(&dir.join(".turn")).expect("open store");
        let rid = RunId::parse(&id).expect("id");
        let logged: Vec<String> = match store.run(&rid).expect("read run") {
            None => Vec::new(),
            Some(rec) => store
                .log(&rid, 0)
                .expect("read log")
                .into_iter()
                .filter(|e| e.kind == "tool:record")
                .map(|e| format!("{id}.{}/{}/{}", rec.created_ms, e.pid, e.n))
                .collect(),
        };
        let at_kill = store.log_len(&rid).unwrap_or(0);
        if store.latest_checkpoint(&rid).ok().flatten().is_some() {
            from_checkpoint += 1;
        }
        *positions.entry(at_kill).or_default() += 1;
        let status = store.run(&rid).expect("read run").map(|r| r.status);
        drop(store);

        let (ok, result) = match status {
            // Killed before the run was recorded: start it again.
            None => run_to_end(dir, &["run", "crash.tn", "--id", &id]),
            Some(RunStatus::Done) => run_to_end(dir, &["replay", &id]),
            Some(_) => run_to_end(dir, &["resume", &id]),
        };
        assert!(ok, "point {point}: resuming failed: {result}");
        assert!(
            result.starts_with("[[60, 110, 160], 330]"),
            "point {point}: resumed to a different result: {result}"
        );
        let calls = calls_of(dir, &id);
        let mut count: HashMap<&str, usize> = HashMap::new();
        for c in &calls {
            *count.entry(c.as_str()).or_default() += 1;
        }
        assert_eq!(count.len(), CALLS, "point {point}: tool keys {count:?}");
        for key in &logged {
            assert_eq!(
                count.get(key.as_str()),
                Some(&1),
                "point {point}: the logged effect {key} ran again after resuming"
            );
        }
        for (key, n) in &count {
            assert!(*n <= 2, "point {point}: {key} ran {n} times");
        }
    }
    let mut at: Vec<_> = positions.iter().collect();
    at.sort();
    eprintln!(
        "{kills} kills ({from_checkpoint} resumed from a checkpoint); \
         log length at the kill -> count: {at:?}"
    );
    assert!(from_checkpoint >= 5);
    assert!(kills >= 50);
    // The kills landed at many different places in the log.
    assert!(
        positions.len() >= 8,
        "kills hit only these log lengths: {positions:?}"
    );
}
