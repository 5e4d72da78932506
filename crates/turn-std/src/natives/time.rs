//! Natives behind `std/time`. Both are effects: the clock belongs to the
//! host, and a sleep is the scheduler's business.

use crate::args::Args;
use turn_vm::{Effect, Flow, NativeCx, NativeResult, Value};

/// Seconds since the Unix epoch, answered by the host clock.
pub(crate) fn now(_cx: &mut NativeCx, _args: &[Value]) -> NativeResult {
    Err(Flow::Effect(Effect::Now))
}

/// `sleep(secs)`: a finite, non-negative number of seconds.
pub(crate) fn sleep(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("time.sleep", cx, args);
    let seconds = a.num(0)?;
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(a
            .invalid("the number of seconds must be finite and not negative")
            .into());
    }
    Err(Flow::Effect(Effect::Sleep { seconds }))
}
