//! The outside world as the processes see it.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use turn_bytecode::{Program, Ty};
use turn_vm::{Effect, RtError, Uncaught, Value};

/// An effect under way: resolves to its answer. Effects of different
/// processes run concurrently on the scheduler's thread.
pub type Started = Pin<Box<dyn Future<Output = Result<Value, RtError>>>>;

/// A ready answer.
pub fn ready(answer: Result<Value, RtError>) -> Started {
    Box::pin(std::future::ready(answer))
}

/// Answers the processes' effects. [`Host::start`] is the one entry point
/// the scheduler uses; its default performs the synchronous methods below,
/// so a simple host only implements those. The CLI's host overrides `start`
/// to sleep and call models asynchronously.
pub trait Host {
    fn print(&mut self, text: &str);
    /// Something the runtime reports besides the program's output (children
    /// stopped when main returned, an unlinked child that failed).
    fn notice(&mut self, text: &str) {
        eprintln!("turn: {text}");
    }
    /// Begin an effect. `key` is stable across resumes of a durable run (an
    /// idempotency key for tools).
    fn start(&mut self, program: &Rc<Program>, effect: Effect, key: &str) -> Started {
        let _ = key;
        ready(self.perform(program, effect))
    }
    /// Tools whose answer is supplied later (`turn resume ID --result JSON`).
    fn is_external(&self, tool: &str) -> bool {
        let _ = tool;
        false
    }
    /// Perform an effect now (the default behind `start`).
    fn perform(&mut self, program: &Program, effect: Effect) -> Result<Value, RtError> {
        Ok(match effect {
            Effect::Tool { name, arg } => self.tool(program, &name, arg)?,
            Effect::Now => Value::Num(self.now()),
            Effect::Sleep { seconds } => {
                self.sleep(seconds);
                Value::Null
            }
            Effect::Random => Value::Num(self.random()),
            Effect::Infer {
                ty,
                prompt,
                context,
            } => self.infer_in_context(program, &ty, &prompt, &context)?,
            Effect::Embed { texts } => crate::embed::embed_all(&texts),
            Effect::Grant { kind, name } => self.grant(&kind, &name)?,
            other => {
                return Err(RtError::new(
                    "unsupported",
                    format!("`{}` is not available in this host", other.name()),
                ))
            }
        })
    }
    /// `grant identity::kind("name")`: the default policy allows only
    /// `network:public`.
    fn grant(&mut self, kind: &str, name: &str) -> Result<Value, RtError> {
        crate::grants::Policy::default().decide(kind, name)
    }
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
    /// Stopped at `suspend;` (a checkpoint was taken).
    Suspended,
    /// Stopped because every process is waiting and at least one waits for
    /// an external tool's result.
    Waiting {
        pid: u64,
        tool: String,
    },
}
