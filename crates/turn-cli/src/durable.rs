//! `turn run --id`, `resume`, `replay`, `inspect`, `runs`.

use super::{compile, out, print_stats, report_result, system_host, InferArgs};
use std::path::Path;
use std::process::ExitCode;
use turn_runtime::durable::{self, Replayed, StartMode};
use turn_runtime::RunResult;
use turn_store::{RunId, SqliteStore, Store};
use turn_vm::{Limits, RtError};

fn open(dir: &Path) -> Result<SqliteStore, ExitCode> {
    SqliteStore::open(dir).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(1)
    })
}

fn id_of(s: &str) -> Result<RunId, ExitCode> {
    RunId::parse(s).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(1)
    })
}

/// The id, validated, and the store; with `must_exist`, a run that does
/// not exist is refused here.
fn open_run(id: &str, dir: &Path, must_exist: bool) -> Result<(RunId, SqliteStore), ExitCode> {
    let id = id_of(id)?;
    let store = open(dir)?;
    if must_exist {
        exists(&store, &id)?;
    }
    Ok((id, store))
}

/// A run that does not exist is a usage error (exit 1), for every command.
fn exists(store: &SqliteStore, id: &RunId) -> Result<(), ExitCode> {
    match store.run(id) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => {
            eprintln!("error: there is no run named `{id}`");
            Err(ExitCode::from(1))
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(ExitCode::from(1))
        }
    }
}

/// The right to drive run `id`: an exclusive advisory lock on
/// `<store>/locks/<id>.lock`, held until this process exits (the OS
/// releases it even after SIGKILL). Two `turn` processes never execute the
/// same run's effects at once.
fn lock(dir: &Path, id: &RunId) -> Result<std::fs::File, ExitCode> {
    use std::io::Write;
    let locks = dir.join("locks");
    let path = locks.join(format!("{id}.lock"));
    let opened = std::fs::create_dir_all(&locks).and_then(|_| {
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
    });
    let mut file = opened.map_err(|e| {
        eprintln!(
            "error: cannot open the lock of run `{id}` ({}): {e}",
            path.display()
        );
        ExitCode::from(1)
    })?;
    match file.try_lock() {
        Ok(()) => {
            // Who holds it, for the message another process shows.
            let _ = file.set_len(0);
            let _ = write!(file, "{}", std::process::id());
            Ok(file)
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            eprintln!(
                "error: run `{id}` is being driven by another turn process{}; wait for it to \
                 stop (or kill it) and try again",
                if holder.trim().is_empty() {
                    String::new()
                } else {
                    format!(" (pid {})", holder.trim())
                }
            );
            Err(ExitCode::from(1))
        }
        Err(std::fs::TryLockError::Error(e)) => {
            eprintln!("error: cannot lock run `{id}` ({}): {e}", path.display());
            Err(ExitCode::from(1))
        }
    }
}

fn fail(e: RtError) -> ExitCode {
    eprintln!("error[{}]: {}", e.kind, e.message);
    ExitCode::from(2)
}

/// Exit codes as `turn run`, plus a hint for what to do next.
fn ended(r: Result<durable::Ended, RtError>, id: &RunId) -> ExitCode {
    match r {
        Ok(e) => {
            match &e.result {
                RunResult::Suspended => eprintln!("run `{id}` suspended: `turn resume {id}`"),
                RunResult::Waiting { tool, pid } => eprintln!(
                    "run `{id}` is waiting: <pid {pid}> needs the result of `{tool}`: \
                     turn resume {id} --result '<json>'"
                ),
                _ => {}
            }
            let program = (*e.program).clone();
            let result = match e.result {
                RunResult::Suspended | RunResult::Waiting { .. } => return ExitCode::SUCCESS,
                other => Ok(other),
            };
            report_result(result, &program)
        }
        Err(e) => fail(e),
    }
}

pub fn run(
    file: &str,
    id: &str,
    dir: &Path,
    force: bool,
    limits: Limits,
    args: &InferArgs,
) -> ExitCode {
    let id = match id_of(id) {
        Ok(i) => i,
        Err(c) => return c,
    };
    let program = match compile(file) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let mut host = match system_host(file, &program, args) {
        Ok(h) => h,
        Err(code) => return code,
    };
    let store = match open(dir) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let _lock = match lock(dir, &id) {
        Ok(l) => l,
        Err(c) => return c,
    };
    // The absolute path, so a resume from elsewhere finds the same turn.toml.
    let entry = std::fs::canonicalize(file)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| file.to_string());
    let r = durable::start(
        &store,
        &id,
        program,
        &entry,
        limits,
        &mut host,
        StartMode { force },
    );
    print_stats(&host, args);
    ended(r, &id)
}

/// The host for continuing a stored run: the tools and provider of the
/// program's entry file as it is configured now.
fn host_for(
    store: &SqliteStore,
    id: &RunId,
    args: &InferArgs,
) -> Result<super::SystemHost, ExitCode> {
    let rec = match store.run(id) {
        Ok(Some(r)) => r,
        Ok(None) => {
            eprintln!("error: there is no run named `{id}`");
            return Err(ExitCode::from(1));
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Err(ExitCode::from(1));
        }
    };
    let program = store
        .blob(&rec.program)
        .ok()
        .flatten()
        .and_then(|b| turn_vm::Program::decode(&b).ok());
    match program {
        Some(p) => system_host(&rec.entry, &p, args),
        None => Ok(super::SystemHost::default()),
    }
}

pub fn resume(id: &str, result: Option<&str>, dir: &Path, args: &InferArgs) -> ExitCode {
    let (id, store) = match open_run(id, dir, false) {
        Ok(r) => r,
        Err(c) => return c,
    };
    let supplied = match result {
        None => None,
        Some(text) => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(j) => Some(Ok(turn_std::from_json(&j))),
            Err(e) => {
                eprintln!("error: --result is not JSON: {e}");
                return ExitCode::from(1);
            }
        },
    };
    let _lock = match lock(dir, &id) {
        Ok(l) => l,
        Err(c) => return c,
    };
    let mut host = match host_for(&store, &id, args) {
        Ok(h) => h,
        Err(c) => return c,
    };
    let r = durable::resume(&store, &id, &mut host, supplied);
    print_stats(&host, args);
    ended(r, &id)
}

pub fn replay(
    id: &str,
    until: Option<u64>,
    fork: Option<&str>,
    dir: &Path,
    args: &InferArgs,
) -> ExitCode {
    let (id, store) = match open_run(id, dir, true) {
        Ok(r) => r,
        Err(c) => return c,
    };
    if let (Some(n), Some(dst)) = (until, fork) {
        let dst = match id_of(dst) {
            Ok(i) => i,
            Err(c) => return c,
        };
        let mut host = match host_for(&store, &id, args) {
            Ok(h) => h,
            Err(c) => return c,
        };
        let _lock = match lock(dir, &dst) {
            Ok(l) => l,
            Err(c) => return c,
        };
        let r = durable::fork(&store, &id, n, &dst, &mut host);
        print_stats(&host, args);
        return ended(r, &dst);
    }
    // Output only: no provider, no tool.
    let mut host = super::SystemHost::default();
    match durable::replay(&store, &id, until, &mut host) {
        Ok((Replayed::Same { result, effects }, program)) => {
            eprintln!(
                "replay of `{id}` reproduced the recorded run: {} from {effects} log entries",
                durable::describe(&result, &program)
            );
            let program = (*program).clone();
            report_result(Ok(result), &program)
        }
        Ok((Replayed::Stopped { at, system }, _)) => {
            let waiting: Vec<String> = system
                .processes()
                .map(|(vm, state)| format!("<pid {}> {state}", vm.pid()))
                .collect();
            eprintln!(
                "replay of `{id}` stopped after {at} log entries; processes: {}",
                waiting.join(", ")
            );
            ExitCode::SUCCESS
        }
        Ok((Replayed::Diverged(why), _)) => {
            eprintln!("replay of `{id}` diverged: {why}");
            ExitCode::from(3)
        }
        Err(e) => fail(e),
    }
}

pub fn inspect(id: &str, json: bool, dir: &Path) -> ExitCode {
    let (id, store) = match open_run(id, dir, true) {
        Ok(r) => r,
        Err(c) => return c,
    };
    match durable::state(&store, &id) {
        Ok((rec, system, log)) => {
            let j = turn_cli::runs::inspect_json(&rec, &system, &log);
            if json {
                out(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&j).unwrap_or_default()
                ));
            } else {
                out(&turn_cli::runs::inspect_text(&j));
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

pub fn runs(dir: &Path) -> ExitCode {
    let store = match open(dir) {
        Ok(s) => s,
        Err(c) => return c,
    };
    match store.runs() {
        Ok(runs) => {
            let mut s = String::new();
            for r in runs {
                s.push_str(&format!(
                    "{:<24} {:<10} {:<30} {}\n",
                    r.id.as_str(),
                    r.status.as_str(),
                    r.entry,
                    r.result.unwrap_or_default()
                ));
            }
            out(&s);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
