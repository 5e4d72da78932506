//! The outside world as one process sees it.

use turn_bytecode::{Program, Ty};
use turn_vm::{RtError, Uncaught, Value};

/// Answers a process's effects. The CLI's host prints to stdout and reads
/// the system clock; the test host records output and is deterministic.
pub trait Host {
    fn print(&mut self, text: &str);
    /// A host tool called with `call("name", arg)`.
    fn tool(&mut self, program: &Program, name: &str, arg: Value) -> Result<Value, RtError> {
        let _ = (program, arg);
        Err(RtError::new(
            "tool",
            format!("there is no tool named `{name}`"),
        ))
    }
    /// `infer T { prompt }`: a value conforming to `ty` (with its confidence)
    /// or a catchable error.
    fn infer(&mut self, program: &Program, ty: &Ty, prompt: &str) -> Result<Value, RtError> {
        let _ = (program, ty, prompt);
        Err(RtError::new(
            "provider",
            "no inference provider is configured for this run",
        ))
    }
    /// `infer` with the process's rendered context: (tier, text), P0 system
    /// first, then P2 episodic, then P1 working. Hosts that send the context
    /// override this; the default asks without it.
    fn infer_in_context(
        &mut self,
        program: &Program,
        ty: &Ty,
        prompt: &str,
        context: &[(turn_vm::context::Tier, String)],
    ) -> Result<Value, RtError> {
        let _ = context;
        self.infer(program, ty, prompt)
    }
    /// Seconds since the Unix epoch.
    fn now(&mut self) -> f64;
    fn sleep(&mut self, seconds: f64);
    /// Uniform in [0, 1).
    fn random(&mut self) -> f64;
}

#[derive(Debug)]
pub enum RunResult {
    Done(Value),
    Failed(Box<Uncaught>),
    /// Stopped at `suspend;`.
    Suspended,
}
