//! `embed(text)`: the embedding of one text, answered by the runtime's
//! embedder through the `Embed` effect (the VM pushes the answer's single
//! vector). `memory.search` needs the process's memory, so the VM answers
//! it itself (`__sys_memory_search` in `turn_vm::VM_NATIVES`).

use crate::args::Args;
use turn_vm::{Effect, Flow, NativeCx, NativeResult, Value};

/// `embed(text)` -> `Vec`.
pub(crate) fn embed(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("embed", cx, args);
    let text = a.str(0)?.to_string();
    Err(Flow::Effect(Effect::Embed { texts: vec![text] }))
}
