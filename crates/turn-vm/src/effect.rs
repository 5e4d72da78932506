//! Effect requests: everything the VM cannot decide by itself.
//!
//! When a program needs the outside world (output, a tool, a model, time,
//! randomness, another process), the VM stops and returns an [`Effect`]. The
//! runtime performs it, logs the result, and resumes the VM with the answer.
//! This is the only way non-determinism enters a Turn program.

use crate::value::Value;
use turn_bytecode::Ty;

#[derive(Debug, Clone)]
pub enum Effect {
    /// `echo`/`print` output (the display form, already rendered).
    Print { text: String },
    /// `call("name", arg)`: a host tool from the tool registry.
    Tool { name: String, arg: Value },
    /// `std/time.now()`: seconds since the Unix epoch.
    Now,
    /// `std/time.sleep(secs)`.
    Sleep { seconds: f64 },
    /// `std/math.random()`: a uniform number in [0, 1).
    Random,
    /// `suspend;`: a durable checkpoint.
    Suspend,
    /// `infer T { prompt }`: a value of type `ty` from the configured model
    /// (the struct table is the program's), with the process's rendered
    /// context: (tier, text) in order P0 system, P2 episodic, P1 working.
    Infer {
        ty: Ty,
        prompt: String,
        context: Vec<(crate::context::Tier, String)>,
    },
    /// An operation a later layer implements (processes, inference,
    /// capabilities); the runtime answers it or raises a clear error.
    Intrinsic { op: &'static str, args: Vec<Value> },
}

impl Effect {
    /// A short name for traces and logs.
    pub fn name(&self) -> &str {
        match self {
            Effect::Print { .. } => "print",
            Effect::Tool { name, .. } => name,
            Effect::Now => "time.now",
            Effect::Sleep { .. } => "time.sleep",
            Effect::Random => "math.random",
            Effect::Suspend => "suspend",
            Effect::Infer { .. } => "infer",
            Effect::Intrinsic { op, .. } => op,
        }
    }
}
