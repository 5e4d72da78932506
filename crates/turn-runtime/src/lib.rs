//! The runtime: what turns a compiled program into a running process.
//!
//! - [`builtins`] is the global table (std natives, then VM-owned builtins)
//!   that programs are compiled against and VMs run with.
//! - [`compile_options`] configures the compiler with it.
//! - [`run`] is the universal loop for one process: run the VM until it
//!   returns, fails or asks for an effect; answer the effect through a
//!   [`Host`]; resume. Processes, the effect log, checkpoints and replay grow
//!   here (see ARCHITECTURE.md).

mod host;
pub mod inference;

pub use host::{Host, RunResult};
pub use inference::{InferStats, Inference};

use std::sync::OnceLock;
use turn_compiler::CompileOptions;
use turn_sema::Builtins;
use turn_vm::{Effect, NativeDef, Outcome, RtError, Vm};

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

/// Run one process to completion, answering its effects through `host`.
pub fn run(vm: &mut Vm, host: &mut dyn Host) -> RunResult {
    loop {
        match vm.run(0) {
            Outcome::Done(v) => return RunResult::Done(v),
            Outcome::Failed(u) => return RunResult::Failed(u),
            Outcome::Preempted => continue,
            Outcome::Effect(e) => {
                let answer = answer(vm, host, e);
                match answer {
                    Ok(Some(v)) => vm.resume(Ok(v)),
                    Ok(None) => return RunResult::Suspended,
                    Err(err) => vm.resume(Err(err)),
                }
            }
        }
    }
}

/// Like [`run`], but at every effect the process is checkpointed, encoded,
/// decoded and restored into a fresh VM before the effect is answered. Used
/// by the conformance suite to prove checkpoints are exact: both runs must
/// behave identically.
pub fn run_checkpointing(mut vm: Vm, host: &mut dyn Host) -> Result<RunResult, RtError> {
    loop {
        match vm.run(0) {
            Outcome::Done(v) => return Ok(RunResult::Done(v)),
            Outcome::Failed(u) => return Ok(RunResult::Failed(u)),
            Outcome::Preempted => continue,
            Outcome::Effect(e) => {
                let bytes = vm.checkpoint().encode();
                let snap = turn_vm::Snapshot::decode(&bytes)?;
                let program = vm.program().clone();
                let limits = vm.limits.clone();
                drop(vm);
                vm = Vm::restore(program, builtins(), limits, &snap)?;
                match answer(&vm, host, e) {
                    Ok(Some(v)) => vm.resume(Ok(v)),
                    Ok(None) => return Ok(RunResult::Suspended),
                    Err(err) => vm.resume(Err(err)),
                }
            }
        }
    }
}

/// `Ok(None)` means: stop here (a durable suspension).
fn answer(vm: &Vm, host: &mut dyn Host, e: Effect) -> Result<Option<turn_vm::Value>, RtError> {
    Ok(Some(match e {
        Effect::Print { text } => {
            host.print(&text);
            turn_vm::Value::Null
        }
        Effect::Tool { name, arg } => host.tool(vm.program(), &name, arg)?,
        Effect::Now => turn_vm::Value::Num(host.now()),
        Effect::Sleep { seconds } => {
            host.sleep(seconds);
            turn_vm::Value::Null
        }
        Effect::Random => turn_vm::Value::Num(host.random()),
        Effect::Suspend => return Ok(None),
        Effect::Infer {
            ty,
            prompt,
            context,
        } => host.infer_in_context(vm.program(), &ty, &prompt, &context)?,
        Effect::Intrinsic { op, .. } => {
            return Err(RtError::new(
                "unsupported",
                format!("`{op}` needs the process runtime, which this build does not have yet"),
            ))
        }
    }))
}
