//! Durable runs: a run id names an agent whose effect log, checkpoints and
//! memory live in a [`Store`]. Start, resume (after `suspend;`, a crash, or
//! with an external tool's result), replay (strictly from the log, calling
//! nothing) and fork (a new run that continues live from an effect index).
//!
//! Log layout: entry 0 (`run.start`) holds what the run started from: the
//! main process's memory (the agent's memory from earlier runs) and the
//! limits it was given, so a resume, replay or fork starts from the same
//! state; entries 1… are effect answers in delivery order.

use crate::journal::{AtEnd, Entry, Journal, Sink};
use crate::scheduler::{CheckpointSink, Options, Stop, System};
use crate::{answer, checkpoint, Host, RunResult};
use std::rc::Rc;
use turn_bytecode::Program;
use turn_store::{Checkpoint, LogEntry, RunId, RunRecord, RunStatus, Store, StoreError};
use turn_vm::{Limits, RtError, Value, Vm};

/// A checkpoint is offered after this many new log entries (when quiet).
pub const CHECKPOINT_EVERY: u64 = 64;

fn store_err(e: StoreError) -> RtError {
    RtError::new("store", e.to_string())
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// How a durable run ended this time.
#[derive(Debug)]
pub struct Ended {
    pub result: RunResult,
    /// The program (for displaying the result).
    pub program: Rc<Program>,
    /// Log entries now recorded.
    pub log_len: u64,
}

/// What `turn run --id` may do with an id that already exists.
#[derive(Clone, Copy, Debug, Default)]
pub struct StartMode {
    /// Start over even if the id belongs to a different program or its
    /// last run did not finish.
    pub force: bool,
}

/// `turn run FILE --id ID`.
pub fn start(
    store: &dyn Store,
    id: &RunId,
    program: Program,
    entry: &str,
    limits: Limits,
    host: &mut dyn Host,
    mode: StartMode,
) -> Result<Ended, RtError> {
    let hash = program.hash_hex();
    if let Some(rec) = store.run(id).map_err(store_err)? {
        if rec.program != hash && !mode.force {
            return Err(RtError::new(
                "store",
                format!(
                    "run `{id}` belongs to a different program ({} as it was when last run); \
                     use another id, or --force to start `{id}` over with this program",
                    rec.entry
                ),
            ));
        }
        if matches!(
            rec.status,
            RunStatus::Suspended | RunStatus::Waiting | RunStatus::Running
        ) && !mode.force
        {
            return Err(RtError::new(
                "store",
                format!(
                    "run `{id}` has not finished (status: {}); continue it with `turn resume {id}`, \
                     or start it over with --force",
                    rec.status
                ),
            ));
        }
        store.reset_run(id).map_err(store_err)?;
    }
    let bytes = program.encode();
    store.put_blob(&bytes).map_err(store_err)?;
    let t = now_ms();
    store
        .create_run(&RunRecord {
            id: id.clone(),
            program: hash,
            entry: entry.to_string(),
            status: RunStatus::Running,
            result: None,
            created_ms: t,
            updated_ms: t,
            parent: None,
        })
        .map_err(store_err)?;
    let program = Rc::new(program);
    // The agent's memory from earlier runs and the limits, as entry 0.
    let first = start_entry(store, id, &limits, &program)?;
    store
        .append(id, std::slice::from_ref(&first))
        .map_err(store_err)?;
    let system = start_system(&program, &first.answer)?;
    let mut system = system;
    let mut journal = Journal::replaying(Vec::new(), 1, Some(sink(store, id)), AtEnd::GoLive);
    let options = options(id, t);
    let stop = crate::drive(
        &mut system,
        host,
        &mut journal,
        &options,
        Some(checkpoints(store, id)),
    );
    conclude(store, id, &system, stop, journal.position())
}

/// `turn resume ID [--result JSON]`: restore the latest checkpoint (or
/// start from the beginning), replay the log recorded after it without
/// calling anything, then continue live.
pub fn resume(
    store: &dyn Store,
    id: &RunId,
    host: &mut dyn Host,
    result: Option<Result<Value, RtError>>,
) -> Result<Ended, RtError> {
    let rec = record(store, id)?;
    match rec.status {
        RunStatus::Done | RunStatus::Failed => {
            return Err(RtError::new(
                "store",
                format!(
                    "run `{id}` has finished ({}); `turn replay {id}` re-runs it from its log",
                    rec.status
                ),
            ))
        }
        RunStatus::Waiting if result.is_none() => {
            return Err(RtError::new(
                "store",
                format!(
                    "run `{id}` waits for an external tool's result: `turn resume {id} --result '<json>'`"
                ),
            ))
        }
        _ => {}
    }
    if result.is_some() && rec.status != RunStatus::Waiting {
        return Err(RtError::new(
            "store",
            format!(
                "run `{id}` is not waiting for an external tool (status: {})",
                rec.status
            ),
        ));
    }
    let program = load_program(store, &rec)?;
    let (mut system, from) = restore_latest(store, id, &program)?;
    let recorded = entries(store, id, from)?;
    let mut journal = Journal::replaying(recorded, from, Some(sink(store, id)), AtEnd::GoLive);
    store
        .set_status(id, RunStatus::Running, None)
        .map_err(store_err)?;
    if let Some(r) = result {
        // A Waiting run was checkpointed with its whole log consumed.
        system.supply_external(&mut journal, r)?;
    } else if !journal.replaying_now() {
        // A suspended run was checkpointed at its suspension: answer it.
        system.resume_suspended(&mut journal)?;
    }
    let stop = crate::drive(
        &mut system,
        host,
        &mut journal,
        &options(id, rec.created_ms),
        Some(checkpoints(store, id)),
    );
    conclude(store, id, &system, stop, journal.position())
}

/// The outcome of a strict replay.
pub enum Replayed {
    /// The replay reached the same end as the recorded run.
    Same { result: RunResult, effects: u64 },
    /// The replay stopped where asked (or where the log ends, for a run
    /// that is not finished), with the state at that point.
    Stopped { at: u64, system: Box<System> },
    /// It differed from the record: the first divergence.
    Diverged(String),
}

/// `turn replay ID [--until N]`: re-run from the log with no provider or
/// tool called (`host` only prints).
pub fn replay(
    store: &dyn Store,
    id: &RunId,
    until: Option<u64>,
    host: &mut dyn Host,
) -> Result<(Replayed, Rc<Program>), RtError> {
    let rec = record(store, id)?;
    let program = load_program(store, &rec)?;
    let (mut system, mut recorded) = from_start(store, id, &program, false)?;
    let total = recorded.len() as u64 + 1;
    if let Some(n) = until {
        recorded.truncate(n.saturating_sub(1) as usize);
    }
    let mut journal = Journal::replaying(recorded, 1, None, AtEnd::Stop);
    let options = Options {
        print_replayed: true,
        ..options(id, rec.created_ms)
    };
    let stop = crate::drive(&mut system, host, &mut journal, &options, None);
    let replayed = match stop {
        Stop::Finished(result) => {
            let same = match (&result, rec.status) {
                (RunResult::Done(v), RunStatus::Done) => {
                    Some(crate::scheduler::show(v, &program)) == rec.result
                }
                (RunResult::Failed(u), RunStatus::Failed) => {
                    Some(format!("{}: {}", u.kind, u.message)) == rec.result
                }
                _ => false,
            };
            if !same {
                Replayed::Diverged(format!(
                    "the replay ended with {} but the recorded run ended with {}{}",
                    describe(&result, &program),
                    rec.status,
                    rec.result.map(|r| format!(" ({r})")).unwrap_or_default()
                ))
            } else if journal.position() != total {
                Replayed::Diverged(format!(
                    "the replay ended after {} log entries but the log has {total}",
                    journal.position()
                ))
            } else {
                Replayed::Same {
                    result,
                    effects: total,
                }
            }
        }
        Stop::LogEnded { position } => Replayed::Stopped {
            at: position,
            system: Box::new(system),
        },
        Stop::Diverged(why) => Replayed::Diverged(why),
        Stop::Error(e) => return Err(e),
    };
    Ok((replayed, program))
}

/// `turn replay SRC --until N --fork DST`: a new run whose log is the
/// first `until` entries of `src`, continued live.
pub fn fork(
    store: &dyn Store,
    src: &RunId,
    until: u64,
    dst: &RunId,
    host: &mut dyn Host,
) -> Result<Ended, RtError> {
    record(store, src)?;
    if store.run(dst).map_err(store_err)?.is_some() {
        return Err(RtError::new(
            "store",
            format!("run `{dst}` already exists; choose another id for the fork"),
        ));
    }
    store.fork(src, dst, until.max(1)).map_err(store_err)?;
    let rec = record(store, dst)?;
    let program = load_program(store, &rec)?;
    let (mut system, recorded) = from_start(store, dst, &program, false)?;
    let mut journal = Journal::replaying(recorded, 1, Some(sink(store, dst)), AtEnd::GoLive);
    let options = Options {
        print_replayed: true,
        ..options(dst, rec.created_ms)
    };
    let stop = crate::drive(
        &mut system,
        host,
        &mut journal,
        &options,
        Some(checkpoints(store, dst)),
    );
    conclude(store, dst, &system, stop, journal.position())
}

/// The state of a run now, for `turn inspect`: replayed from its log.
pub fn state(store: &dyn Store, id: &RunId) -> Result<(RunRecord, System, Vec<LogEntry>), RtError> {
    let rec = record(store, id)?;
    let program = load_program(store, &rec)?;
    let (mut system, recorded) = from_start(store, id, &program, false)?;
    let mut journal = Journal::replaying(recorded, 1, None, AtEnd::Stop);
    let mut quiet = Silent;
    match crate::drive(
        &mut system,
        &mut quiet,
        &mut journal,
        &options(id, rec.created_ms),
        None,
    ) {
        Stop::Finished(_) | Stop::LogEnded { .. } => {}
        Stop::Diverged(why) => {
            return Err(RtError::new(
                "log",
                format!("the log of `{id}` does not replay: {why}"),
            ))
        }
        Stop::Error(e) => return Err(e),
    }
    let log = store.log(id, 0).map_err(store_err)?;
    Ok((rec, system, log))
}

/// A host for replays that must not reach the outside world.
struct Silent;

impl Host for Silent {
    fn print(&mut self, _: &str) {}
    fn notice(&mut self, _: &str) {}
    fn now(&mut self) -> f64 {
        0.0
    }
    fn sleep(&mut self, _: f64) {}
    fn random(&mut self) -> f64 {
        0.0
    }
}

/// `TURN_CHECKPOINT_EVERY` overrides [`CHECKPOINT_EVERY`] (0: only at
/// `suspend` and when waiting).
fn checkpoint_every() -> u64 {
    std::env::var("TURN_CHECKPOINT_EVERY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CHECKPOINT_EVERY)
}

/// Idempotency keys are `ID.CREATED/pid/n`: stable across resumes of one
/// run, distinct between runs of the same id and between forks.
fn options(id: &RunId, created_ms: u64) -> Options {
    Options {
        key_prefix: format!("{id}.{created_ms}"),
        roundtrip: false,
        print_replayed: false,
        checkpoint_every: checkpoint_every(),
        max_processes: 0,
    }
}

fn record(store: &dyn Store, id: &RunId) -> Result<RunRecord, RtError> {
    store
        .run(id)
        .map_err(store_err)?
        .ok_or_else(|| RtError::new("store", format!("there is no run named `{id}`")))
}

fn load_program(store: &dyn Store, rec: &RunRecord) -> Result<Rc<Program>, RtError> {
    let bytes = store
        .blob(&rec.program)
        .map_err(store_err)?
        .ok_or_else(|| {
            RtError::new(
                "store",
                format!("the program of run `{}` is missing from the store", rec.id),
            )
        })?;
    let program = Program::decode(&bytes)
        .map_err(|e| RtError::new("store", format!("the program of run `{}`: {e}", rec.id)))?;
    Ok(Rc::new(program))
}

fn entries(store: &dyn Store, id: &RunId, from: u64) -> Result<Vec<Entry>, RtError> {
    Ok(store
        .log(id, from)
        .map_err(store_err)?
        .into_iter()
        .map(|e| Entry {
            seq: e.seq,
            round: e.round,
            pid: e.pid,
            n: e.n,
            kind: e.kind,
            digest: e.digest,
            answer: e.answer,
        })
        .collect())
}

/// A fresh system as entry 0 describes it, and the entries after it. A run
/// killed before it logged entry 0 starts from the agent's memory and the
/// default limits (and, with `write`, logs that now).
fn from_start(
    store: &dyn Store,
    id: &RunId,
    program: &Rc<Program>,
    write: bool,
) -> Result<(System, Vec<Entry>), RtError> {
    let mut log = entries(store, id, 0)?;
    let first = if log.is_empty() {
        let first = start_entry(store, id, &Limits::default(), program)?;
        if write {
            store
                .append(id, std::slice::from_ref(&first))
                .map_err(store_err)?;
        }
        first.answer
    } else if log.first().is_some_and(|e| e.kind == START) {
        log.remove(0).answer
    } else {
        return Err(RtError::new(
            "log",
            format!("the log of `{id}` does not start with the state it was run from"),
        ));
    };
    Ok((start_system(program, &first)?, log))
}

/// The kind of entry 0.
const START: &str = "run.start";

/// Entry 0 of a new run: `{"memory": …, "limits": {…}}`.
fn start_entry(
    store: &dyn Store,
    id: &RunId,
    limits: &Limits,
    program: &Program,
) -> Result<LogEntry, RtError> {
    let memory = match store.memory(id).map_err(store_err)? {
        Some(bytes) => match answer::decode(&bytes, program)? {
            Ok(m @ Value::Map(_)) => m,
            _ => return Err(RtError::new("store", "the stored memory is not a map")),
        },
        None => Value::map(Default::default()),
    };
    let mut l = turn_vm::value::Map::default();
    l.insert("max_steps".into(), Value::Num(limits.max_steps as f64));
    l.insert("max_depth".into(), Value::Num(limits.max_call_depth as f64));
    l.insert(
        "max_value_size".into(),
        Value::Num(limits.max_value_size as f64),
    );
    let mut start = turn_vm::value::Map::default();
    start.insert("memory".into(), memory);
    start.insert("limits".into(), Value::map(l));
    Ok(LogEntry {
        seq: 0,
        round: 0,
        pid: crate::scheduler::MAIN,
        n: 0,
        kind: START.into(),
        digest: String::new(),
        answer: answer::encode(&Ok(Value::map(start))),
    })
}

/// The limits and memory entry 0 records.
fn read_start(bytes: &[u8], program: &Program) -> Result<(Limits, Vec<(String, Value)>), RtError> {
    let bad = || RtError::new("log", "the start entry of the log is damaged");
    let start = match answer::decode(bytes, program)? {
        Ok(v) => v,
        Err(_) => return Err(bad()),
    };
    let Value::Map(start) = &start else {
        return Err(bad());
    };
    let Some(Value::Map(memory)) = start.get("memory") else {
        return Err(bad());
    };
    let Some(Value::Map(l)) = start.get("limits") else {
        return Err(bad());
    };
    let num = |k: &str| match l.get(k) {
        Some(Value::Num(n)) if *n >= 0.0 => Ok(*n),
        _ => Err(bad()),
    };
    let limits = Limits {
        max_steps: num("max_steps")? as u64,
        max_call_depth: num("max_depth")? as usize,
        max_value_size: num("max_value_size")? as usize,
    };
    Ok((
        limits,
        memory.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    ))
}

fn start_system(program: &Rc<Program>, start: &[u8]) -> Result<System, RtError> {
    let (limits, memory) = read_start(start, program)?;
    let mut main = Vm::new(program.clone(), crate::natives_for(program)?, limits)?;
    main.set_memory(memory);
    Ok(System::new(main))
}

/// The limits a stored run was started with.
fn stored_limits(store: &dyn Store, id: &RunId, program: &Program) -> Result<Limits, RtError> {
    match entries(store, id, 0)?.first() {
        Some(e) if e.kind == START => Ok(read_start(&e.answer, program)?.0),
        _ => Ok(Limits::default()),
    }
}

fn restore_latest(
    store: &dyn Store,
    id: &RunId,
    program: &Rc<Program>,
) -> Result<(System, u64), RtError> {
    match store.latest_checkpoint(id).map_err(store_err)? {
        Some(cp) => {
            let limits = stored_limits(store, id, program)?;
            checkpoint::decode(&cp.bytes, program.clone(), limits)
        }
        None => {
            let (system, _) = from_start(store, id, program, true)?;
            Ok((system, 1))
        }
    }
}

fn sink<'a>(store: &'a dyn Store, id: &'a RunId) -> Sink<'a> {
    Box::new(move |entries: &[Entry]| {
        let rows: Vec<LogEntry> = entries
            .iter()
            .map(|e| LogEntry {
                seq: e.seq,
                round: e.round,
                pid: e.pid,
                n: e.n,
                kind: e.kind.clone(),
                digest: e.digest.clone(),
                answer: e.answer.clone(),
            })
            .collect();
        store.append(id, &rows).map_err(store_err)
    })
}

fn checkpoints<'a>(store: &'a dyn Store, id: &'a RunId) -> CheckpointSink<'a> {
    Box::new(move |seq, round, bytes| {
        store
            .save_checkpoint(id, &Checkpoint { seq, round, bytes })
            .map_err(store_err)
    })
}

/// Record how the run ended and keep the main process's memory.
fn conclude(
    store: &dyn Store,
    id: &RunId,
    system: &System,
    stop: Stop,
    position: u64,
) -> Result<Ended, RtError> {
    let program = system.program().clone();
    let result = match stop {
        Stop::Finished(r) => r,
        Stop::Error(e) => return Err(e),
        Stop::LogEnded { position } => {
            return Err(RtError::new(
                "log",
                format!("the log ended at entry {position} before the run did"),
            ))
        }
        Stop::Diverged(why) => {
            return Err(RtError::new(
                "log",
                format!("resuming `{id}` diverged from its log: {why}"),
            ))
        }
    };
    let (status, text) = match &result {
        RunResult::Done(v) => (RunStatus::Done, Some(crate::scheduler::show(v, &program))),
        RunResult::Failed(u) => (
            RunStatus::Failed,
            Some(format!("{}: {}", u.kind, u.message)),
        ),
        RunResult::Suspended => (RunStatus::Suspended, None),
        RunResult::Waiting { tool, pid } => (
            RunStatus::Waiting,
            Some(format!("<pid {pid}> waits for the external tool `{tool}`")),
        ),
    };
    if let Some(main) = system.main_vm() {
        let mut m = turn_vm::value::Map::default();
        for (k, v) in main.memory() {
            m.insert(k.clone(), v.clone());
        }
        store
            .save_memory(id, &answer::encode(&Ok(Value::map(m))))
            .map_err(store_err)?;
    }
    store
        .set_status(id, status, text.as_deref())
        .map_err(store_err)?;
    Ok(Ended {
        result,
        program,
        log_len: position,
    })
}

/// A short description of how a run ended.
pub fn describe(r: &RunResult, program: &Program) -> String {
    match r {
        RunResult::Done(v) => format!("done ({})", crate::scheduler::show(v, program)),
        RunResult::Failed(u) => format!("failed ({}: {})", u.kind, u.message),
        RunResult::Suspended => "suspended".into(),
        RunResult::Waiting { tool, .. } => format!("waiting for `{tool}`"),
    }
}
