//! The instruction set of Turn's stack machine.
//!
//! Operands index the function's locals, the program's constant pool, struct
//! table, function table or the code itself (absolute jump targets).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Op {
    // ── constants and stack ──
    Const(u32),
    Null,
    True,
    False,
    Pop,
    /// Duplicate the top of the stack.
    Dup,
    /// Exchange the two topmost values.
    Swap,

    // ── variables ──
    LoadLocal(u16),
    /// Pop into a local slot.
    StoreLocal(u16),
    /// Pop a value and store a fresh cell holding it in the slot: the
    /// declaration of a variable that some closure captures.
    DeclCell(u16),
    LoadCell(u16),
    /// Put a fresh cell holding "not yet defined" in the slot: a hoisted
    /// function binding before its `let` runs.
    DeclUndef(u16),
    StoreCell(u16),
    LoadUpval(u16),
    StoreUpval(u16),
    /// A builtin (native function or prelude value) by index.
    LoadGlobal(u16),
    /// `local = local + top` in place when the local's value is not shared
    /// (strings, lists, maps grow without copying). Pops the operand.
    AddAssignLocal(u16),
    /// `local = push(local, top)` in place when unshared. Pops the operand.
    PushAssignLocal(u16),
    /// `local[index] = value` (stack: index, value), in place when unshared.
    SetIndexLocal(u16),
    /// `local.name = value` (stack: value), in place when unshared.
    SetFieldLocal {
        slot: u16,
        name: u32,
    },

    // ── operators ──
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Similar,
    Neg,
    Not,
    Confidence,
    /// `a and b` step 1: if top is falsy replace it by `false` (keeping its
    /// confidence) and jump; else leave it.
    AndShort(u32),
    /// `a or b` step 1: if top is truthy replace it by `true` and jump.
    OrShort(u32),
    /// Pop b, a; push Bool(truthy(b)) with confidence min(a, b).
    AndJoin,
    /// Pop b, a; push Bool(truthy(b)) with confidence max(a, b).
    OrJoin,

    // ── superinstructions (formed by the compiler's peephole pass) ──
    /// `local op constant`: `LoadLocal(slot); Const(k); op`.
    LocalConstOp {
        slot: u16,
        k: u16,
        op: BinOp,
    },
    /// `local op local`: `LoadLocal(a); LoadLocal(b); op`.
    LocalLocalOp {
        a: u16,
        b: u16,
        op: BinOp,
    },

    // ── constructors ──
    MakeList(u32),
    /// Pops `n` (key constant index as Num, value) pairs.
    MakeMap(u32),
    MakeVector(u32),
    /// Constant index of a [`crate::StructCtor`].
    MakeStruct(u32),
    /// Constant index of the function; captures its upvalues.
    Closure(u32),

    // ── access ──
    GetIndex,
    /// Field or map key named by a string constant.
    GetField(u32),
    /// Pop value, index, base; push the base with that element replaced.
    SetIndex,
    /// Pop value, base; push the base with field/key (constant) replaced.
    SetField(u32),

    // ── control ──
    Jump(u32),
    /// Pop; jump when falsy.
    JumpIfFalse(u32),
    /// `for` loop step: slot holds the collection, slot+1 the position.
    /// Pushes the next item or jumps to the target when done.
    ForNext {
        slot: u16,
        exit: u32,
    },
    /// Turn the top of the stack into something `ForNext` can walk.
    ForPrepare,
    /// `for x in range(…)` without building the list: pops the `argc`
    /// arguments of `range` and stores start, end, step and a counter in
    /// slots `slot..slot+4`.
    RangePrepare {
        slot: u16,
        argc: u8,
    },
    /// Push the next number of the range in `slot..slot+4`, or jump when done.
    RangeNext {
        slot: u16,
        exit: u32,
    },
    Call(u8),
    /// Call the function in an upvalue with the `argc` values on the stack
    /// (no callee slot on the stack).
    CallUpval {
        idx: u16,
        argc: u8,
    },
    /// Call the function in a plain local slot.
    CallLocal {
        slot: u16,
        argc: u8,
    },
    /// `recv.name(args)`: name constant, argument count.
    CallMethod {
        name: u32,
        argc: u8,
    },
    /// `call(target, args…)` with the compatibility rules of `call`.
    CallDynamic(u8),
    Return,
    /// Install a `catch` handler whose code starts at the target.
    PushHandler(u32),
    PopHandler,
    Throw,
    /// Check the top of the stack against a type constant (gradual typing).
    /// The second operand says what is checked (see `CheckSite`).
    CheckType {
        ty: u32,
        site: u8,
    },

    /// Register the closure on the stack as method `name` of struct `sid`.
    DefineMethod {
        sid: u16,
        name: u32,
    },

    // ── modules ──
    /// Push the export of a module, running it the first time.
    LoadModule(u16),

    // ── processes and the outside world (answered by the runtime) ──
    /// Enter/leave a `turn { … }` block: a trace unit and a checkpoint boundary.
    TurnEnter,
    TurnExit,
    Suspend,
    /// `infer T { prompt }`: type constant (with its schema); pops the prompt.
    Infer(u32),
    Spawn {
        link: bool,
    },
    SpawnEach,
    Gather,
    Send,
    /// `receive` (false) or `receive timeout t` (true: pops the timeout).
    Receive {
        timeout: bool,
    },
    SelfPid,
    /// `grant identity::kind(name)`: kind constant; pops the name.
    Grant(u32),
    /// `context.method(args)`: method constant, argument count.
    Context {
        method: u32,
        argc: u8,
    },
    Remember,
    Recall,
}

/// The binary operators that superinstructions fuse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl BinOp {
    /// The plain instruction this operator stands for.
    pub fn op(self) -> Op {
        match self {
            BinOp::Add => Op::Add,
            BinOp::Sub => Op::Sub,
            BinOp::Mul => Op::Mul,
            BinOp::Div => Op::Div,
            BinOp::Rem => Op::Rem,
            BinOp::Lt => Op::Lt,
            BinOp::Le => Op::Le,
            BinOp::Gt => Op::Gt,
            BinOp::Ge => Op::Ge,
            BinOp::Eq => Op::Eq,
            BinOp::Ne => Op::Ne,
        }
    }
    pub fn from_op(op: Op) -> Option<BinOp> {
        Some(match op {
            Op::Add => BinOp::Add,
            Op::Sub => BinOp::Sub,
            Op::Mul => BinOp::Mul,
            Op::Div => BinOp::Div,
            Op::Rem => BinOp::Rem,
            Op::Lt => BinOp::Lt,
            Op::Le => BinOp::Le,
            Op::Gt => BinOp::Gt,
            Op::Ge => BinOp::Ge,
            Op::Eq => BinOp::Eq,
            Op::Ne => BinOp::Ne,
            _ => return None,
        })
    }
    /// The result on two numbers, if it is a number or a boolean computed
    /// without error (division by zero takes the slow path).
    #[inline(always)]
    pub fn on_nums(self, x: f64, y: f64) -> Option<NumResult> {
        Some(match self {
            BinOp::Add => NumResult::Num(x + y),
            BinOp::Sub => NumResult::Num(x - y),
            BinOp::Mul => NumResult::Num(x * y),
            BinOp::Div if y != 0.0 => NumResult::Num(x / y),
            BinOp::Rem if y != 0.0 => NumResult::Num(rem(x, y)),
            BinOp::Div | BinOp::Rem => return None,
            BinOp::Lt => NumResult::Bool(x < y),
            BinOp::Le => NumResult::Bool(x <= y),
            BinOp::Gt => NumResult::Bool(x > y),
            BinOp::Ge => NumResult::Bool(x >= y),
            BinOp::Eq => NumResult::Bool(x == y),
            BinOp::Ne => NumResult::Bool(x != y),
        })
    }
}

/// `x % y` (sign of the dividend, like C's fmod), with a fast path for
/// whole numbers, where integer remainder gives exactly the same result.
#[inline(always)]
pub fn rem(x: f64, y: f64) -> f64 {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if x.fract() == 0.0 && y.fract() == 0.0 && x.abs() < EXACT && y.abs() < EXACT && y != 0.0 {
        let r = (x as i64 % y as i64) as f64;
        // fmod keeps the dividend's sign on a zero result: -4 % 2 is -0.
        if r == 0.0 && x.is_sign_negative() {
            -0.0
        } else {
            r
        }
    } else {
        x % y
    }
}

pub enum NumResult {
    Num(f64),
    Bool(bool),
}

/// What a `CheckType` instruction checks, for the error message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum CheckSite {
    Let = 0,
    Param = 1,
    Return = 2,
    Assign = 3,
}

impl CheckSite {
    pub fn from_u8(n: u8) -> CheckSite {
        match n {
            1 => CheckSite::Param,
            2 => CheckSite::Return,
            3 => CheckSite::Assign,
            _ => CheckSite::Let,
        }
    }
    pub fn describe(self) -> &'static str {
        match self {
            CheckSite::Let => "binding",
            CheckSite::Param => "argument",
            CheckSite::Return => "return value",
            CheckSite::Assign => "assignment",
        }
    }
}

const _: () = assert!(std::mem::size_of::<Op>() <= 8);
