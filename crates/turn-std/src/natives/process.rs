//! Natives for processes that are not syntax: `__sys_stop`, behind
//! `std/supervisor`'s `stop`. Stopping is the scheduler's business, so the
//! native only checks its argument and asks for the effect.

use crate::args::Args;
use turn_vm::{Effect, Flow, NativeCx, NativeResult, Value};

/// `stop(pid)`: stop process `pid`; answered with whether it was alive. A
/// linked parent receives `{"type": "exit", "pid": p, "reason": "killed"}`.
pub(crate) fn stop(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("supervisor.stop", cx, args);
    match a.get(0) {
        Value::Pid(pid) => Err(Flow::Effect(Effect::Stop { pid: *pid })),
        _ => Err(a.wrong(0, "Pid").into()),
    }
}
