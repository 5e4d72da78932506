//! The runtime: what turns a compiled program into a running process.
//!
//! - [`builtins`] is the global table (std natives, then VM-owned builtins)
//!   that programs are compiled against and VMs run with.
//! - [`compile_options`] configures the compiler with it.
//! - [`System`] is the scheduler of a run's processes ([`scheduler`]): the
//!   universal loop (run a VM until it returns, fails or asks for an effect;
//!   answer the effect; resume) for many processes at once, with every
//!   answer logged through a [`Journal`] before a process sees it, replay
//!   from a log, and checkpoints of the whole system ([`checkpoint`]).
//! - [`run`] runs a program with no log; the durable runs of the CLI
//!   (`--id`, resume, replay, fork) drive a [`System`] against a store.

pub mod answer;
pub mod checkpoint;
pub mod durable;
pub mod embed;
pub mod grants;
mod host;
pub mod inference;
pub mod journal;
pub mod scheduler;

pub use host::{ready, Host, RunResult, Started};
pub use inference::{InferStats, Inference};
pub use journal::{AtEnd, Entry, Journal};
pub use scheduler::{Options, Stop, System};

use std::sync::OnceLock;
use turn_compiler::CompileOptions;
use turn_sema::Builtins;
use turn_vm::{NativeDef, RtError, Vm};

/// The global builtin table: `turn_std::natives()` then `turn_vm::VM_NATIVES`.
pub fn builtins() -> &'static [NativeDef] {
    static TABLE: OnceLock<Vec<NativeDef>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut v: Vec<NativeDef> = Vec::new();
        for n in turn_std::natives().iter().chain(turn_vm::VM_NATIVES) {
            v.push(NativeDef {
                name: n.name,
                arity: n.arity,
                func: n.func,
            });
        }
        v
    })
}

/// The builtin table a stored program was compiled against, rebuilt by
/// name from today's [`builtins`]: a program compiled by an older `turn`
/// (before builtins were added) still runs. A builtin it names that no
/// longer exists is an error. Tables are built once and kept.
pub fn natives_for(program: &turn_vm::Program) -> Result<&'static [NativeDef], RtError> {
    use std::collections::HashMap;
    use std::sync::Mutex;
    let current = builtins();
    if program.globals.len() == current.len()
        && program
            .globals
            .iter()
            .zip(current)
            .all(|(g, n)| g == n.name)
    {
        return Ok(current);
    }
    static TABLES: OnceLock<Mutex<HashMap<Vec<String>, &'static [NativeDef]>>> = OnceLock::new();
    let tables = TABLES.get_or_init(Default::default);
    let mut tables = tables
        .lock()
        .map_err(|_| RtError::internal("the builtin table cache is poisoned"))?;
    if let Some(t) = tables.get(&program.globals) {
        return Ok(t);
    }
    let mut table = Vec::with_capacity(program.globals.len());
    for g in &program.globals {
        let n = current.iter().find(|n| n.name == g).ok_or_else(|| {
            RtError::new(
                "checkpoint",
                format!("the program uses the builtin `{g}`, which this turn does not have"),
            )
        })?;
        table.push(NativeDef {
            name: n.name,
            arity: n.arity,
            func: n.func,
        });
    }
    // Leaked once per distinct table (a handful per process at most).
    let table: &'static [NativeDef] = Box::leak(table.into_boxed_slice());
    tables.insert(program.globals.clone(), table);
    Ok(table)
}

/// Compiler options matching [`builtins`].
pub fn compile_options() -> CompileOptions {
    CompileOptions {
        builtins: Builtins {
            natives: builtins()
                .iter()
                .map(|n| (n.name.to_string(), n.arity.min, n.arity.max))
                .collect(),
            aliases: turn_std::STD_ALIASES
                .iter()
                .map(|(n, m, e)| (n.to_string(), m.to_string(), e.to_string()))
                .collect(),
        },
        std_source: turn_std::std_module,
    }
}

/// Run a program's main process (and every process it starts) to the end,
/// answering effects through `host`, with no log.
pub fn run(vm: Vm, host: &mut dyn Host) -> Result<RunResult, RtError> {
    finish(drive(
        &mut System::new(vm),
        host,
        &mut Journal::live(None),
        &Options::default(),
        None,
    ))
}

/// Like [`run`], but the whole system is checkpointed, encoded, decoded and
/// restored at every quiet delivery phase (each effect answered). Used by the
/// conformance suite to prove checkpoints are exact: both runs must behave
/// identically.
pub fn run_checkpointing(vm: Vm, host: &mut dyn Host) -> Result<RunResult, RtError> {
    let options = Options {
        roundtrip: true,
        ..Options::default()
    };
    finish(drive(
        &mut System::new(vm),
        host,
        &mut Journal::live(None),
        &options,
        None,
    ))
}

/// [`run`] or [`run_checkpointing`] (`options.roundtrip`) with explicit
/// options (a process limit, say).
pub fn run_with(vm: Vm, host: &mut dyn Host, options: &Options) -> Result<RunResult, RtError> {
    finish(drive(
        &mut System::new(vm),
        host,
        &mut Journal::live(None),
        options,
        None,
    ))
}

fn finish(stop: Stop) -> Result<RunResult, RtError> {
    match stop {
        Stop::Finished(r) => Ok(r),
        Stop::Error(e) => Err(e),
        Stop::LogEnded { position } => Err(RtError::new(
            "log",
            format!("the log ended at entry {position} before the run did"),
        )),
        Stop::Diverged(why) => Err(RtError::new("log", why)),
    }
}

/// Drive `system` on a fresh single-threaded async runtime (effects of all
/// processes run concurrently on it).
pub fn drive(
    system: &mut System,
    host: &mut dyn Host,
    journal: &mut Journal,
    options: &Options,
    checkpoints: Option<scheduler::CheckpointSink<'_>>,
) -> Stop {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return Stop::Error(RtError::new(
                "internal",
                format!("cannot start the I/O runtime: {e}"),
            ))
        }
    };
    rt.block_on(system.drive(host, journal, options, checkpoints))
}
