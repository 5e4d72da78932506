//! The interface of builtin functions written in Rust.
//!
//! A native is a pure function of its arguments: it may compute, fail with an
//! [`RtError`], or ask for an [`Effect`]. It may not call back into Turn code
//! (higher-order builtins such as `map` are written in Turn, in `std/*.tn`, so
//! a callback that performs an effect suspends like any other code).

use crate::effect::Effect;
use crate::error::RtError;
use crate::value::Value;
use turn_bytecode::Program;

/// What a native may see besides its arguments.
pub struct NativeCx<'a> {
    pub program: &'a Program,
    /// Largest string/list/map a builtin may build (elements or bytes).
    pub max_value_size: usize,
}

pub enum Flow {
    Error(RtError),
    Effect(Effect),
}

impl From<RtError> for Flow {
    fn from(e: RtError) -> Flow {
        Flow::Error(e)
    }
}

pub type NativeResult = Result<Value, Flow>;
pub type NativeFn = fn(&mut NativeCx, &[Value]) -> NativeResult;

/// How many arguments a native takes: `min..=max`.
#[derive(Clone, Copy, Debug)]
pub struct Arity {
    pub min: u8,
    pub max: u8,
}

impl Arity {
    pub const fn exact(n: u8) -> Arity {
        Arity { min: n, max: n }
    }
    pub const fn range(min: u8, max: u8) -> Arity {
        Arity { min, max }
    }
}

pub struct NativeDef {
    /// The global name (`len`, `__sys_str_split`, …).
    pub name: &'static str,
    pub arity: Arity,
    pub func: NativeFn,
}
