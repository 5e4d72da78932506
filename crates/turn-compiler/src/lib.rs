//! The Turn compiler: from source files to one [`Program`].
//!
//! [`compile`] parses the entry file, analyzes it, generates bytecode, and
//! does the same for every module it `use`s (relative files through the
//! caller's [`ModuleLoader`], `std/…` modules from [`CompileOptions`]). Module
//! loading therefore happens at compile time: the program's content hash
//! covers every module, so a run replays against exactly the code it ran.
//! The compiler itself does no I/O.

mod codegen;
mod driver;
mod expr;

pub use driver::{
    compile, CompileFailure, CompileOptions, FileDiagnostics, LoadedFile, ModuleLoader,
};
pub use turn_bytecode::Program;
