//! Turn's virtual machine: values and the bytecode interpreter for one
//! process.
//!
//! The VM is pure: it does no I/O, reads no clock, draws no random numbers and
//! starts no threads (see `clippy.toml`). It runs until the program returns,
//! fails, or needs the outside world, in which case it returns an [`Effect`]
//! and waits to be resumed with the answer. Everything a process holds is
//! made of values, frames and handlers, designed so that a checkpoint
//! encoding (which comes with the durable runtime) can capture it exactly
//! at any effect boundary.

pub mod context;
pub mod display;
pub mod effect;
pub mod error;
mod memory;
pub mod native;
pub mod ops;
pub mod process;
pub mod snapshot;
pub mod value;
mod vm;

pub use display::display;
pub use effect::Effect;
pub use error::{RtError, RtResult};
pub use native::{Arity, Flow, NativeCx, NativeDef, NativeFn, NativeResult};
pub use snapshot::{Snapshot, SNAPSHOT_VERSION};
pub use turn_bytecode::Program;
pub use value::Value;
pub use vm::{Limits, Outcome, Uncaught, Vm, VM_NATIVES};
