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
    /// `spawn f` / `spawn_link f`: start a process calling `func(args…)`;
    /// answered with its `Pid`.
    Spawn {
        func: Value,
        args: Vec<Value>,
        link: bool,
    },
    /// `spawn_each(items, func)`: one linked child per item; answered with
    /// the `List<Pid>`.
    SpawnEach { items: Vec<Value>, func: Value },
    /// `send to, msg` (`msg` already isolated); answered with whether the
    /// target is alive.
    Send { to: u64, msg: Value },
    /// `receive` on an empty mailbox: answered with the next message, or
    /// `null` when the timeout (seconds) passes first.
    Receive { timeout: Option<f64> },
    /// `gather pids` with children still running: answered with their
    /// results in order once all have ended.
    Gather { pids: Vec<u64> },
    /// Stop a process (`std/supervisor`); answered with whether it was alive.
    Stop { pid: u64 },
    /// Embeddings of these texts (`embed`, `memory.search`): answered with a
    /// `List` of `Vec`.
    Embed { texts: Vec<String> },
    /// `grant identity::kind("name")`: an `Identity` handle if the host's
    /// policy allows it, else a catchable `identity` error.
    Grant { kind: String, name: String },
    /// A capability operation (`env.get`, `fs.read`, …) with the identity
    /// that allows it; the host checks the identity's policy at that moment.
    Io {
        op: &'static str,
        identity: u64,
        args: Vec<Value>,
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
            Effect::Spawn { link: false, .. } => "spawn",
            Effect::Spawn { link: true, .. } => "spawn_link",
            Effect::SpawnEach { .. } => "spawn_each",
            Effect::Send { .. } => "send",
            Effect::Receive { .. } => "receive",
            Effect::Gather { .. } => "gather",
            Effect::Stop { .. } => "stop",
            Effect::Embed { .. } => "embed",
            Effect::Grant { .. } => "grant",
            Effect::Io { op, .. } => op,
            Effect::Intrinsic { op, .. } => op,
        }
    }
}

/// The capability operations of [`Effect::Io`].
pub const IO_OPS: &[&str] = &[
    "env.get",
    "env.set",
    "fs.read",
    "fs.write",
    "fs.list",
    "fs.exists",
    "net.request",
];

/// The static name of a capability operation read back from a checkpoint.
pub fn io_op(name: &str) -> Option<&'static str> {
    IO_OPS.iter().find(|o| **o == name).copied()
}
