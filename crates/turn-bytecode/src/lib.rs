//! Turn bytecode: the contract between the compiler and the VM.
//!
//! A [`Program`] is the whole compiled unit: every module reachable from the
//! entry file, the prelude, struct layouts, constants and the source text
//! (for error locations). It is versioned ([`BYTECODE_VERSION`]), serializes
//! compactly, and is identified by a content hash so checkpoints refer to it
//! instead of copying it. This crate does no I/O.

pub mod disasm;
pub mod op;
pub mod program;
pub mod types;

pub use op::{BinOp, Op};
pub use program::{
    Constant, Function, ModuleInfo, Program, ProgramHash, SourceFile, StructCtor, UpvalueSource,
    BYTECODE_VERSION,
};
pub use types::{StructDef, Ty};
