//! The fuzz property in `cargo test`: a bounded number of generated inputs
//! per generator, every committed corpus file, and every recorded crash.
//!
//! Inputs run in a `turn-fuzz --worker` process (the binary Cargo builds for
//! this test), so a stack overflow is reported as a failing case with its
//! input instead of aborting the test binary. The proptest runner is
//! deterministic (set `TURN_FUZZ_SEED` to explore other cases); the long,
//! randomized run is `cargo run --release -p turn-fuzz` (see
//! `docs/fuzzing.md`).

use proptest::strategy::BoxedStrategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use turn_fuzz::supervisor::Supervisor;
use turn_fuzz::{gen, mutate};

/// Cases per generator.
const CASES: u32 = 256;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// A supervisor over this build's worker. Debug builds are several times
/// slower than the release build the 5 s hang limit is meant for, so the
/// limit is scaled here.
fn supervisor() -> Supervisor {
    supervisor_with(if cfg!(debug_assertions) { 20 } else { 5 })
}

fn supervisor_with(timeout_secs: u64) -> Supervisor {
    let config = turn_fuzz::Config {
        timeout: Duration::from_secs(timeout_secs),
        ..turn_fuzz::Config::default()
    };
    Supervisor::new(env!("CARGO_BIN_EXE_turn-fuzz"), config)
}

fn runner(cases: u32) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 200,
        ..Config::default()
    };
    let rng = match std::env::var("TURN_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        Some(seed) => {
            let mut bytes = [0u8; 32];
            bytes[..8].copy_from_slice(&seed.to_le_bytes());
            TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
        }
        None => TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    };
    TestRunner::new_with_rng(config, rng)
}

/// Runs `cases` inputs from `strategy` through the worker; on a failure,
/// proptest shrinks the input and the panic shows the smallest one.
fn property(strategy: BoxedStrategy<String>, cases: u32) {
    let sup = RefCell::new(supervisor());
    let result = runner(cases).run(&strategy, |text| {
        sup.borrow_mut()
            .check(&text)
            .map(|_| ())
            .map_err(|f| TestCaseError::fail(f.to_string()))
    });
    match result {
        Ok(()) => {}
        Err(TestError::Fail(why, input)) => {
            panic!("{why}\n--- input ({} bytes) ---\n{input}", input.len())
        }
        Err(TestError::Abort(why)) => panic!("proptest aborted: {why}"),
    }
}

fn load(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        if p.extension().is_some_and(|x| x == "tn") {
            if let Ok(bytes) = std::fs::read(&p) {
                out.push((p, String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
    }
    out
}

/// The mutation pool: the seed and hostile corpus.
fn corpus() -> Vec<String> {
    let mut files = load(&corpus_dir().join("seeds"));
    files.extend(load(&corpus_dir().join("hostile")));
    files.into_iter().map(|(_, text)| text).collect()
}

#[test]
fn grammar_programs() {
    property(gen::program(), CASES);
}

#[test]
fn deep_nesting() {
    property(gen::deep(), CASES);
}

#[test]
fn long_chains() {
    property(gen::chains(), CASES / 4);
}

#[test]
fn token_soup() {
    property(gen::token_soup(), CASES);
}

#[test]
fn corpus_mutations() {
    let corpus = corpus();
    assert!(corpus.len() >= 60, "the corpus has {} files", corpus.len());
    property(mutate::mutants(Arc::new(corpus)), CASES);
}

/// Every committed seed and hostile file passes.
#[test]
fn corpus_files_pass() {
    let mut sup = supervisor();
    let mut failures = Vec::new();
    let mut count = 0;
    for dir in ["seeds", "hostile"] {
        for (path, text) in load(&corpus_dir().join(dir)) {
            count += 1;
            if let Err(f) = sup.check(&text) {
                failures.push(format!("{}: {f}", path.display()));
            }
        }
    }
    assert!(count >= 90, "only {count} corpus files");
    assert!(
        failures.is_empty(),
        "{} corpus files fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every minimized crash the fuzzer recorded passes once its bug is fixed.
/// While one is open this test fails and names it (see
/// `corpus/crashes/*.txt` for the report).
#[test]
fn recorded_crashes_are_fixed() {
    // A recorded hang still hangs until it is fixed: no need to wait the
    // full debug limit for it.
    let mut sup = supervisor_with(5);
    let still_failing: Vec<String> = load(&corpus_dir().join("crashes"))
        .into_iter()
        .filter_map(|(path, text)| {
            sup.check(&text)
                .err()
                .map(|f| format!("{}: {f}", path.display()))
        })
        .collect();
    assert!(
        still_failing.is_empty(),
        "{} recorded crashes still fail:\n{}",
        still_failing.len(),
        still_failing.join("\n")
    );
}

/// The in-process entry point agrees with the worker on an easy input and
/// on a broken one (a smoke test of `check_source` itself).
#[test]
fn check_source_smoke() {
    assert_eq!(turn_fuzz::check_source("return 1 + 2;"), Ok(()));
    assert_eq!(turn_fuzz::check_source("let = ;"), Ok(()));
    assert_eq!(
        turn_fuzz::check_source(&format!("{}1", "(".repeat(300))),
        Ok(())
    );
}

/// A stack overflow in a worker is reported as one, and the next input
/// runs in a fresh worker.
#[test]
fn supervisor_survives_a_stack_overflow() {
    let mut sup = supervisor();
    assert_eq!(
        sup.check("echo(1); return [1, 2];").map(|v| v.name()),
        Ok("done")
    );
    let crash = sup.check(turn_fuzz::supervisor::SELF_TEST_OVERFLOW);
    assert_eq!(
        crash.map_err(|f| f.kind),
        Err(turn_fuzz::FailureKind::StackOverflow)
    );
    assert_eq!(sup.check("while true {}").map(|v| v.name()), Ok("limit"));
    assert!(sup.starts >= 2);
}
