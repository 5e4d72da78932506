//! Semantic analysis of one Turn file.
//!
//! [`analyze`] resolves every name (an undefined variable is a compile error),
//! records which variables closures capture, lowers type annotations to
//! [`Ty`], checks what can be known statically (annotated lets, parameters,
//! returns, struct literals, arity of direct calls) and marks the annotated
//! sites whose check must happen at run time. [`schema`] turns types into
//! JSON Schema for `infer`. Nothing here does I/O; the compiler consumes the
//! [`Analysis`] side tables.

mod analyze;
pub mod schema;
mod scope;
mod typeck;

pub use analyze::{
    analyze, min_arity, Analysis, Binding, BindingId, Builtins, FnInfo, VarRef, MODULE_BODY,
};
pub use schema::schema_for;
pub use turn_bytecode::{StructDef, Ty};
