//! The pieces of the `turn` command that tests reuse: compiling from the file
//! system, rendering diagnostics and runtime errors, and the hosts that
//! answer effects (the real one and a deterministic one for tests).

pub mod config;
pub mod grants;
pub mod hosts;
pub mod io;
pub mod loader;
pub mod net;
pub mod report;
pub mod runs;
pub mod tools;

use std::rc::Rc;
use turn_compiler::{CompileFailure, ModuleLoader};
use turn_runtime::{Host, RunResult};
use turn_vm::{Limits, Program, Vm};

/// Compile a program whose entry is `path`.
pub fn compile_file(path: &str, loader: &dyn ModuleLoader) -> Result<Program, CompileFailure> {
    turn_compiler::compile(path, loader, &turn_runtime::compile_options())
}

/// Run a compiled program to completion with `host`.
pub fn run_program(
    program: Program,
    limits: Limits,
    host: &mut dyn Host,
) -> Result<RunResult, turn_vm::RtError> {
    let vm = Vm::new(Rc::new(program), turn_runtime::builtins(), limits)?;
    turn_runtime::run(vm, host)
}

/// Whether any function of the program contains an `infer` (so a provider
/// is needed; programs without one run without any configuration).
pub fn uses_infer(p: &Program) -> bool {
    p.functions.iter().any(|f| {
        f.code
            .iter()
            .any(|op| matches!(op, turn_bytecode::Op::Infer(_)))
    })
}
