//! Lexical scopes and the stack of functions being analyzed.

use crate::analyze::BindingId;
use std::collections::HashMap;
use turn_bytecode::Ty;
use turn_syntax::ast::NodeId;

pub struct Scope {
    pub names: HashMap<String, BindingId>,
}

/// A function whose body is being analyzed.
pub struct FnCtx {
    pub key: NodeId,
    /// Index of the outermost scope that belongs to this function.
    pub scope_base: usize,
    pub captures: Vec<BindingId>,
    pub ret: Option<Ty>,
    pub loop_depth: u32,
    pub this: Option<BindingId>,
}
