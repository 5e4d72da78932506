//! The interpreter: one process's state and the instruction loop.

use crate::effect::Effect;
use crate::error::RtError;
use crate::native::{Flow, NativeCx, NativeDef};
use crate::ops::{self, arith, article, compare, conforms, describe_type, Arith, Cmp};
use crate::value::{discard, Closure, ErrorValue, Map, StructValue, TraceFrame, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use turn_bytecode::op::CheckSite;
use turn_bytecode::op::NumResult;
use turn_bytecode::{BinOp, Constant, Op, Program, UpvalueSource};

/// Frames kept at each end of a deep stack trace.
pub const TRACE_KEEP: usize = 16;

/// Resource limits; exceeding one raises a catchable `limit` error.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Instructions this process may execute in total (0: unlimited).
    pub max_steps: u64,
    pub max_call_depth: usize,
    /// Largest string (bytes) or collection (elements) a program may build.
    pub max_value_size: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_steps: 0,
            max_call_depth: 10_000,
            max_value_size: 256 * 1024 * 1024,
        }
    }
}

/// Why `run` stopped.
#[derive(Debug)]
pub enum Outcome {
    /// The program returned.
    Done(Value),
    /// An error nobody caught.
    Failed(Box<Uncaught>),
    /// The program needs the outside world; call [`Vm::resume`] with the answer.
    Effect(Effect),
    /// The step budget given to `run` is used up (the scheduler preempts).
    Preempted,
}

/// An uncaught error with where it happened.
#[derive(Debug, Clone)]
pub struct Uncaught {
    /// The thrown value (an `Error`, or whatever `throw` was given).
    pub value: Value,
    pub kind: String,
    pub message: String,
    pub trace: Vec<TraceFrame>,
}

#[derive(Debug, Clone)]
pub(crate) struct Frame {
    pub closure: Rc<Closure>,
    pub ip: usize,
    pub base: usize,
    /// Stack height to restore on return (where the result goes).
    pub ret_to: usize,
    /// Set for module bodies: their result is cached under this index.
    pub module: Option<u16>,
}

#[derive(Debug, Clone)]
pub(crate) struct Handler {
    pub frame: usize,
    pub stack: usize,
    pub target: usize,
}

#[derive(Debug, Clone)]
pub(crate) enum ModuleState {
    NotLoaded,
    Loading,
    Loaded(Value),
}

/// What `exec_slow` tells the loop to do next.
pub(crate) enum Step {
    Next,
    /// The frame changed (call, return, throw caught elsewhere).
    Reload,
    Exit(Outcome),
}

/// What to do with the answer to the pending effect.
#[derive(Debug, Clone)]
pub(crate) enum Pending {
    None,
    /// Push the answer.
    Push,
    /// Ignore the answer and push this (e.g. `echo` returns its argument).
    PushValue(Value),
    /// Push the first element of the answer (`gather` of a single pid,
    /// `embed` of one text).
    First,
    /// `context.append` under `summarize`: the answer is the summary of the
    /// `plan`'s entries; then `item` is appended and `null` pushed.
    Summarize {
        plan: crate::context::Summary,
        item: crate::context::Entry,
    },
    /// `memory.search`: the answer embeds the query, then the entries named
    /// in `keys` (those not cached); push the best `k` entries.
    Search {
        k: usize,
        keys: Vec<String>,
    },
}

/// One Turn process: a program, its stack and frames, memory and limits.
pub struct Vm {
    pub(crate) program: Rc<Program>,
    /// The constant pool as values (strings allocated once).
    pub(crate) consts: Rc<[Value]>,
    /// The builtins in the order of the program's globals.
    pub(crate) natives: Rc<[&'static NativeDef]>,
    pub(crate) stack: Vec<Value>,
    pub(crate) frames: Vec<Frame>,
    pub(crate) handlers: Vec<Handler>,
    pub(crate) modules: Vec<ModuleState>,
    /// Methods by (struct id, name): shared with spawned children, copied on write.
    pub(crate) methods: Rc<HashMap<(u32, u32), Value>>,
    pub(crate) memory: Map,
    /// Embeddings of memory entries by key (dropped by remember/forget).
    pub(crate) embeddings: crate::memory::Embeddings,
    pub(crate) context: crate::context::Context,
    pub(crate) pending: Pending,
    pub(crate) pending_error: Option<RtError>,
    pub(crate) steps: u64,
    pub(crate) pid: u64,
    pub limits: Limits,
    pub(crate) echo: Option<u16>,
    pub(crate) forget: Option<u16>,
    pub(crate) search: Option<u16>,
    pub(crate) embed: Option<u16>,
    pub(crate) links: crate::process::Links,
}

/// Builtins that need the process's own state; the VM answers them itself.
/// The runtime appends these to the std natives to form the global table.
pub static VM_NATIVES: &[NativeDef] = &[
    NativeDef {
        name: "forget",
        arity: crate::native::Arity::exact(1),
        func: vm_owned,
    },
    NativeDef {
        name: "__sys_memory_search",
        arity: crate::native::Arity::exact(2),
        func: vm_owned,
    },
];

fn vm_owned(_: &mut NativeCx, _: &[Value]) -> crate::native::NativeResult {
    Err(Flow::Error(RtError::internal(
        "a VM-owned builtin was called as a plain native",
    )))
}

impl Vm {
    /// A process about to run the program's entry module. `natives` must
    /// hold every builtin the program was compiled against (by name: a
    /// table that has grown since still runs older programs).
    pub fn new(
        program: Rc<Program>,
        natives: &'static [NativeDef],
        limits: Limits,
    ) -> Result<Vm, RtError> {
        let entry = program
            .modules
            .get(program.entry as usize)
            .map(|m| m.function)
            .ok_or_else(|| RtError::internal("the program has no entry module"))?;
        let mut vm = Vm::blank(program, natives, limits)?;
        let m = vm.program.entry;
        if let Some(state) = vm.modules.get_mut(m as usize) {
            *state = ModuleState::Loading;
        }
        vm.push_frame(
            entry,
            Rc::new(Closure {
                func: entry,
                upvalues: Box::new([]),
            }),
            0,
            0,
            Some(m),
        )?;
        Ok(vm)
    }

    /// A process with no frames yet (a fresh start or a restore fills it).
    pub(crate) fn blank(
        program: Rc<Program>,
        natives: &'static [NativeDef],
        limits: Limits,
    ) -> Result<Vm, RtError> {
        let natives: Rc<[&'static NativeDef]> = if program.globals.len() == natives.len()
            && program
                .globals
                .iter()
                .zip(natives)
                .all(|(g, n)| g == n.name)
        {
            natives.iter().collect()
        } else {
            program
                .globals
                .iter()
                .map(|g| natives.iter().find(|n| n.name == g.as_str()))
                .collect::<Option<_>>()
                .ok_or_else(|| {
                    RtError::internal(
                        "the program was compiled against a builtin table this turn lacks",
                    )
                })?
        };
        let modules = vec![ModuleState::NotLoaded; program.modules.len()];
        let consts: Rc<[Value]> = program
            .constants
            .iter()
            .map(|c| match c {
                Constant::Num(n) => Value::Num(*n),
                Constant::Str(s) => Value::str(s.as_str()),
                _ => Value::Null,
            })
            .collect();
        let find = |name: &str| {
            natives
                .iter()
                .position(|n| n.name == name)
                .map(|i| i as u16)
        };
        let (echo, forget) = (find("echo"), find("forget"));
        let (search, embed) = (find("__sys_memory_search"), find("embed"));
        Ok(Vm {
            program,
            consts,
            natives,
            stack: Vec::with_capacity(256),
            frames: Vec::new(),
            handlers: Vec::new(),
            modules,
            methods: Rc::new(HashMap::new()),
            memory: Map::default(),
            embeddings: Default::default(),
            context: crate::context::Context::default(),
            pending: Pending::None,
            pending_error: None,
            steps: 0,
            pid: 1,
            limits,
            echo,
            forget,
            search,
            embed,
            links: crate::process::Links::default(),
        })
    }

    pub fn program(&self) -> &Rc<Program> {
        &self.program
    }

    /// Instructions executed so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Answer the effect the last `run` returned.
    pub fn resume(&mut self, answer: Result<Value, RtError>) {
        let pending = std::mem::replace(&mut self.pending, Pending::None);
        match answer {
            Ok(v) => match pending {
                Pending::PushValue(x) => self.stack.push(x),
                Pending::First => self.stack.push(match &v {
                    Value::List(l) => l.first().cloned().unwrap_or_default(),
                    other => other.clone(),
                }),
                Pending::Summarize { plan, item } => {
                    let done = match v.plain() {
                        Value::Str(s) => self.context.apply_summary(&plan, s, item),
                        other => Err(RtError::type_error(format!(
                            "the summary of the context must be a Str, found {}",
                            article(other.type_name())
                        ))),
                    };
                    match done {
                        Ok(()) => self.stack.push(Value::Null),
                        Err(e) => self.pending_error = Some(e),
                    }
                }
                Pending::Search { k, keys } => match self.finish_search(k, &keys, &v) {
                    Ok(found) => self.stack.push(found),
                    Err(e) => self.pending_error = Some(e),
                },
                _ => self.stack.push(v),
            },
            Err(e) => self.pending_error = Some(e),
        }
    }

    fn push_frame(
        &mut self,
        func: u32,
        closure: Rc<Closure>,
        base: usize,
        ret_to: usize,
        module: Option<u16>,
    ) -> Result<(), RtError> {
        if self.frames.len() >= self.limits.max_call_depth {
            return Err(RtError::limit(format!(
                "call depth exceeded {} (infinite recursion?)",
                self.limits.max_call_depth
            )));
        }
        let f = self
            .program
            .functions
            .get(func as usize)
            .ok_or_else(|| RtError::internal("bad function index"))?;
        let slots = f.slots as usize;
        if self.stack.len() < base + slots {
            self.stack.resize(base + slots, Value::Null);
        }
        for &s in &f.cell_params {
            let i = base + s as usize;
            let v = std::mem::take(&mut self.stack[i]);
            self.stack[i] = Value::Cell(Rc::new(RefCell::new(v)));
        }
        self.frames.push(Frame {
            closure,
            ip: 0,
            base,
            ret_to,
            module,
        });
        Ok(())
    }

    /// Run for at most `budget` steps (0: no budget). A step is a call or a
    /// loop iteration (a backward jump), which bounds the work between two
    /// checks by the code size.
    pub fn run(&mut self, budget: u64) -> Outcome {
        if let Some(e) = self.pending_error.take() {
            if let Some(out) = self.raise(e) {
                return out;
            }
        }
        let program = self.program.clone();
        let consts = self.consts.clone();
        let mut budget_left = if budget == 0 { u64::MAX } else { budget };
        'frames: loop {
            let Some(frame) = self.frames.last() else {
                return Outcome::Done(self.stack.pop().unwrap_or_default());
            };
            let Some(func) = program.functions.get(frame.closure.func as usize) else {
                return self.fail_internal("bad function index");
            };
            let code = &func.code[..];
            let base = frame.base;
            let mut ip = frame.ip;
            // The hot instructions are handled inline; the rest go through
            // `exec_slow`, which keeps this loop small enough to optimize well.
            let err: RtError = loop {
                let Some(&op) = code.get(ip) else {
                    break RtError::internal("ran past the end of a function");
                };
                ip += 1;
                match op {
                    Op::Const(i) => match consts.get(i as usize) {
                        Some(v) => self.stack.push(v.clone()),
                        None => break RtError::internal("bad constant"),
                    },
                    Op::Null => self.stack.push(Value::Null),
                    Op::True => self.stack.push(Value::Bool(true)),
                    Op::False => self.stack.push(Value::Bool(false)),
                    Op::Pop => {
                        if let Some(v) = self.stack.pop() {
                            discard(v);
                        }
                    }
                    Op::LoadLocal(s) => {
                        let v = match &self.stack[base + s as usize] {
                            Value::Num(n) => Value::Num(*n),
                            other => other.clone(),
                        };
                        self.stack.push(v);
                    }
                    Op::StoreLocal(s) => {
                        let v = self.stack.pop().unwrap_or_default();
                        discard(std::mem::replace(&mut self.stack[base + s as usize], v));
                    }
                    Op::LoadCell(s) => {
                        let v = match &self.stack[base + s as usize] {
                            Value::Cell(c) => c.borrow().clone(),
                            other => other.clone(),
                        };
                        if matches!(v, Value::Undefined) {
                            break undefined("a function");
                        }
                        self.stack.push(v);
                    }
                    Op::LoadUpval(i) => match self.upvalue(func, i) {
                        Ok(v) => self.stack.push(v),
                        Err(e) => break e,
                    },
                    Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Rem => {
                        let n = self.stack.len();
                        if n >= 2 {
                            if let (Value::Num(x), Value::Num(y)) =
                                (&self.stack[n - 2], &self.stack[n - 1])
                            {
                                let (x, y) = (*x, *y);
                                let r = match op {
                                    Op::Add => Some(x + y),
                                    Op::Sub => Some(x - y),
                                    Op::Mul => Some(x * y),
                                    Op::Div if y != 0.0 => Some(x / y),
                                    Op::Rem if y != 0.0 => Some(crate::ops::rem(x, y)),
                                    _ => None,
                                };
                                if let Some(r) = r {
                                    if let Some(v) = self.stack.pop() {
                                        discard(v);
                                    }
                                    discard(std::mem::replace(
                                        &mut self.stack[n - 2],
                                        Value::Num(r),
                                    ));
                                    continue;
                                }
                            }
                        }
                        if let Err(e) = self.arith_slow(op) {
                            break e;
                        }
                    }
                    Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                        let n = self.stack.len();
                        if n >= 2 {
                            if let (Value::Num(x), Value::Num(y)) =
                                (&self.stack[n - 2], &self.stack[n - 1])
                            {
                                let r = match op {
                                    Op::Lt => x < y,
                                    Op::Le => x <= y,
                                    Op::Gt => x > y,
                                    _ => x >= y,
                                };
                                if let Some(v) = self.stack.pop() {
                                    discard(v);
                                }
                                discard(std::mem::replace(&mut self.stack[n - 2], Value::Bool(r)));
                                continue;
                            }
                        }
                        if let Err(e) = self.compare_slow(op) {
                            break e;
                        }
                    }
                    // This arm and the next are alike on purpose: merged into one
                    // they cost ~10% more instructions on calls-heavy code.
                    Op::LocalConstOp { slot, k, op: b } => {
                        let x = &self.stack[base + slot as usize];
                        let y = consts.get(k as usize);
                        if let (Value::Num(x), Some(Value::Num(y))) = (x, y) {
                            match b.on_nums(*x, *y) {
                                Some(NumResult::Num(r)) => {
                                    self.stack.push(Value::Num(r));
                                    continue;
                                }
                                Some(NumResult::Bool(r)) => {
                                    // Compare-and-branch in one dispatch.
                                    if let Some(Op::JumpIfFalse(t)) = code.get(ip) {
                                        ip = if r { ip + 1 } else { *t as usize };
                                    } else {
                                        self.stack.push(Value::Bool(r));
                                    }
                                    continue;
                                }
                                None => {}
                            }
                        }
                        let (x, y) = (x.clone(), y.cloned().unwrap_or_default());
                        self.stack.push(x);
                        self.stack.push(y);
                        if let Err(e) = self.binary_slow(b, base, &program) {
                            break e;
                        }
                    }
                    Op::LocalLocalOp { a, b: bslot, op: b } => {
                        let x = &self.stack[base + a as usize];
                        let y = &self.stack[base + bslot as usize];
                        if let (Value::Num(x), Value::Num(y)) = (x, y) {
                            match b.on_nums(*x, *y) {
                                Some(NumResult::Num(r)) => {
                                    self.stack.push(Value::Num(r));
                                    continue;
                                }
                                Some(NumResult::Bool(r)) => {
                                    if let Some(Op::JumpIfFalse(t)) = code.get(ip) {
                                        ip = if r { ip + 1 } else { *t as usize };
                                    } else {
                                        self.stack.push(Value::Bool(r));
                                    }
                                    continue;
                                }
                                None => {}
                            }
                        }
                        let (x, y) = (x.clone(), y.clone());
                        self.stack.push(x);
                        self.stack.push(y);
                        if let Err(e) = self.binary_slow(b, base, &program) {
                            break e;
                        }
                    }
                    Op::Jump(t) => {
                        if (t as usize) < ip {
                            // Fuel: check before the step, so a budget of N runs N steps.
                            if budget_left == 0
                                || (self.limits.max_steps != 0
                                    && self.steps >= self.limits.max_steps)
                            {
                                match self.out_of_fuel(ip - 1, budget_left) {
                                    Ok(out) => return out,
                                    Err(e) => break e,
                                }
                            }
                            budget_left -= 1;
                            self.steps += 1;
                        }
                        ip = t as usize;
                    }
                    Op::JumpIfFalse(t) => {
                        let jump = match self.stack.pop() {
                            Some(v) => {
                                let j = match &v {
                                    Value::Bool(b) => !b,
                                    v => !v.truthy(),
                                };
                                discard(v);
                                j
                            }
                            None => true,
                        };
                        if jump {
                            ip = t as usize;
                        }
                    }
                    Op::AndShort(t) | Op::OrShort(t) => {
                        let is_and = matches!(op, Op::AndShort(_));
                        if let Some(top) = self.stack.last_mut() {
                            if top.truthy() != is_and {
                                let c = top.confidence();
                                *top = Value::Bool(!is_and).with_confidence(c);
                                ip = t as usize;
                            }
                        }
                    }
                    Op::ForNext { slot, exit } => {
                        let i = base + slot as usize;
                        let pos = match &self.stack[i + 1] {
                            Value::Num(n) => *n as usize,
                            _ => 0,
                        };
                        let next = match &self.stack[i] {
                            Value::List(l) => l.get(pos).cloned(),
                            _ => None,
                        };
                        match next {
                            Some(v) => {
                                self.stack[i + 1] = Value::Num((pos + 1) as f64);
                                self.stack.push(v);
                            }
                            None => ip = exit as usize,
                        }
                    }
                    Op::RangeNext { slot, exit } => {
                        let i = base + slot as usize;
                        let (start, end, step, n) = match &self.stack[i..i + 4] {
                            [Value::Num(a), Value::Num(b), Value::Num(c), Value::Num(d)] => {
                                (*a, *b, *c, *d)
                            }
                            _ => break RtError::internal("bad range state"),
                        };
                        // Computed from the counter, as `range` does, so the
                        // numbers are the same as the list's.
                        let x = start + n * step;
                        if (step > 0.0 && x >= end) || (step < 0.0 && x <= end) {
                            ip = exit as usize;
                        } else {
                            self.stack[i + 3] = Value::Num(n + 1.0);
                            self.stack.push(Value::Num(x));
                        }
                    }
                    Op::AddAssignLocal(s) => {
                        let rhs = self.stack.pop().unwrap_or_default();
                        if let (Value::Num(x), Value::Num(y)) =
                            (&mut self.stack[base + s as usize], &rhs)
                        {
                            *x += *y;
                        } else if let Err(e) = self.add_assign(base + s as usize, rhs) {
                            break e;
                        }
                    }
                    Op::Call(argc) => {
                        // Fuel: check before the step, so a budget of N runs N steps.
                        if budget_left == 0
                            || (self.limits.max_steps != 0 && self.steps >= self.limits.max_steps)
                        {
                            match self.out_of_fuel(ip - 1, budget_left) {
                                Ok(out) => return out,
                                Err(e) => break e,
                            }
                        }
                        budget_left -= 1;
                        self.steps += 1;
                        if let Some(f) = self.frames.last_mut() {
                            f.ip = ip;
                        }
                        let callee_at = self.stack.len().saturating_sub(argc as usize + 1);
                        // Fast path: a plain closure of the right arity.
                        if let Some(Value::Closure(c)) = self.stack.get(callee_at) {
                            if let Some(f) = program.functions.get(c.func as usize) {
                                if f.arity as usize == argc as usize
                                    && !f.is_method
                                    && f.cell_params.is_empty()
                                    && self.frames.len() < self.limits.max_call_depth
                                {
                                    let c = c.clone();
                                    let base = callee_at + 1;
                                    let need = base + f.slots as usize;
                                    if self.stack.len() < need {
                                        self.stack.resize(need, Value::Null);
                                    }
                                    self.frames.push(Frame {
                                        closure: c,
                                        ip: 0,
                                        base,
                                        ret_to: callee_at,
                                        module: None,
                                    });
                                    continue 'frames;
                                }
                            }
                        }
                        match self.call_value(callee_at, argc as usize) {
                            Ok(None) => continue 'frames,
                            Ok(Some(out)) => return out,
                            Err(e) => break e,
                        }
                    }
                    Op::CallUpval { argc, .. } | Op::CallLocal { argc, .. } => {
                        // Fuel: check before the step, so a budget of N runs N steps.
                        if budget_left == 0
                            || (self.limits.max_steps != 0 && self.steps >= self.limits.max_steps)
                        {
                            match self.out_of_fuel(ip - 1, budget_left) {
                                Ok(out) => return out,
                                Err(e) => break e,
                            }
                        }
                        budget_left -= 1;
                        self.steps += 1;
                        if let Some(f) = self.frames.last_mut() {
                            f.ip = ip;
                        }
                        let args_at = self.stack.len().saturating_sub(argc as usize);
                        // Fast path: a plain closure of the right arity, taken
                        // by reference (only its Rc is cloned).
                        let fast = {
                            let frame = self.frames.last();
                            let callee_cell;
                            let callee: Option<&Value> = match op {
                                Op::CallUpval { idx, .. } => {
                                    match frame.and_then(|f| f.closure.upvalues.get(idx as usize)) {
                                        Some(c) => {
                                            callee_cell = c.borrow();
                                            Some(&*callee_cell)
                                        }
                                        None => None,
                                    }
                                }
                                Op::CallLocal { slot, .. } => self.stack.get(base + slot as usize),
                                _ => None,
                            };
                            match callee {
                                Some(Value::Closure(c)) => {
                                    match program.functions.get(c.func as usize) {
                                        Some(f)
                                            if f.arity as usize == argc as usize
                                                && !f.is_method
                                                && f.cell_params.is_empty()
                                                && self.frames.len()
                                                    < self.limits.max_call_depth =>
                                        {
                                            Some((c.clone(), f.slots as usize))
                                        }
                                        _ => None,
                                    }
                                }
                                _ => None,
                            }
                        };
                        if let Some((c, slots)) = fast {
                            let need = args_at + slots;
                            if self.stack.len() < need {
                                self.stack.resize(need, Value::Null);
                            }
                            self.frames.push(Frame {
                                closure: c,
                                ip: 0,
                                base: args_at,
                                ret_to: args_at,
                                module: None,
                            });
                            continue 'frames;
                        }
                        let callee = match op {
                            Op::CallUpval { idx, .. } => match self.upvalue(func, idx) {
                                Ok(v) => v,
                                Err(e) => break e,
                            },
                            Op::CallLocal { slot, .. } => self.stack[base + slot as usize].clone(),
                            _ => Value::Null,
                        };
                        // General path: put the callee below its arguments.
                        self.stack.insert(args_at, callee);
                        match self.call_value(args_at, argc as usize) {
                            Ok(None) => continue 'frames,
                            Ok(Some(out)) => return out,
                            Err(e) => break e,
                        }
                    }
                    Op::Return => {
                        let v = self.stack.pop().unwrap_or_default();
                        let Some(frame) = self.frames.pop() else {
                            return Outcome::Done(v);
                        };
                        let depth = self.frames.len();
                        if self.handlers.last().is_some_and(|h| h.frame >= depth) {
                            self.drop_handlers(depth);
                        }
                        while self.stack.len() > frame.ret_to {
                            if let Some(x) = self.stack.pop() {
                                discard(x);
                            }
                        }
                        if let Some(m) = frame.module {
                            if let Some(state) = self.modules.get_mut(m as usize) {
                                *state = ModuleState::Loaded(v.clone());
                            }
                        }
                        if self.frames.is_empty() {
                            return Outcome::Done(v);
                        }
                        self.stack.push(v);
                        continue 'frames;
                    }
                    _ => {
                        if let Some(f) = self.frames.last_mut() {
                            f.ip = ip;
                        }
                        match self.exec_slow(op, base, &program) {
                            Ok(Step::Next) => {}
                            Ok(Step::Reload) => continue 'frames,
                            Ok(Step::Exit(out)) => return out,
                            Err(e) => break e,
                        }
                    }
                }
            };
            if let Some(f) = self.frames.last_mut() {
                f.ip = ip;
            }
            if let Some(out) = self.raise(err) {
                return out;
            }
        }
    }

    /// The value of upvalue `i` of the running closure (`func` is its
    /// function); reading a hoisted function before its `let` is an error.
    #[inline]
    fn upvalue(&self, func: &turn_bytecode::Function, i: u16) -> Result<Value, RtError> {
        let cell = self
            .frames
            .last()
            .and_then(|f| f.closure.upvalues.get(i as usize))
            .ok_or_else(|| RtError::internal("bad upvalue index"))?;
        let v = cell.borrow().clone();
        if matches!(v, Value::Undefined) {
            let name = func
                .upvalue_names
                .get(i as usize)
                .map(String::as_str)
                .unwrap_or("?");
            return Err(undefined(&format!("`{name}`")));
        }
        Ok(v)
    }

    /// The step budget or the step limit ran out at instruction `at`.
    #[cold]
    #[inline(never)]
    fn out_of_fuel(&mut self, at: usize, budget_left: u64) -> Result<Outcome, RtError> {
        if self.limits.max_steps != 0 && self.steps >= self.limits.max_steps {
            if let Some(f) = self.frames.last_mut() {
                f.ip = at + 1;
            }
            return Err(RtError::fatal_limit(format!(
                "step limit of {} exceeded",
                self.limits.max_steps
            )));
        }
        debug_assert_eq!(budget_left, 0);
        // Preempted before this instruction: it runs first when resumed.
        if let Some(f) = self.frames.last_mut() {
            f.ip = at;
        }
        Ok(Outcome::Preempted)
    }

    #[cold]
    fn drop_handlers(&mut self, depth: usize) {
        while self.handlers.last().is_some_and(|h| h.frame >= depth) {
            self.handlers.pop();
        }
    }

    /// A fused binary operator whose operands were not two numbers: they
    /// are on the stack now; run the plain instruction.
    #[inline(never)]
    fn binary_slow(&mut self, b: BinOp, base: usize, program: &Rc<Program>) -> Result<(), RtError> {
        match b {
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => {
                self.arith_slow(b.op())
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => self.compare_slow(b.op()),
            BinOp::Eq | BinOp::Ne => self.exec_slow(b.op(), base, program).map(|_| ()),
        }
    }

    #[inline(never)]
    fn arith_slow(&mut self, op: Op) -> Result<(), RtError> {
        let b = self.stack.pop().unwrap_or_default();
        let a = self.stack.pop().unwrap_or_default();
        let o = match op {
            Op::Add => Arith::Add,
            Op::Sub => Arith::Sub,
            Op::Mul => Arith::Mul,
            Op::Div => Arith::Div,
            _ => Arith::Rem,
        };
        let v = arith(o, a, b, &self.program, self.limits.max_value_size)?;
        self.charge_for(&v)?;
        self.stack.push(v);
        Ok(())
    }

    /// Building a large value costs steps in proportion to its size (one per
    /// 4 KiB), so the step limit bounds the time spent copying data, not
    /// only the number of instructions.
    fn charge_for(&mut self, v: &Value) -> Result<(), RtError> {
        let bytes = match v {
            Value::Str(s) => s.len(),
            Value::List(l) => l.len() * 16,
            Value::Map(m) => m.len() * 48,
            Value::Vector(x) => x.len() * 8,
            _ => 0,
        };
        self.charge(bytes / 4096)
    }

    pub(crate) fn charge(&mut self, steps: usize) -> Result<(), RtError> {
        if steps == 0 {
            return Ok(());
        }
        let total = self.steps.saturating_add(steps as u64);
        if self.limits.max_steps != 0 && total > self.limits.max_steps {
            self.steps = self.limits.max_steps;
            return Err(RtError::fatal_limit(format!(
                "step limit of {} exceeded",
                self.limits.max_steps
            )));
        }
        self.steps = total;
        Ok(())
    }

    #[inline(never)]
    fn compare_slow(&mut self, op: Op) -> Result<(), RtError> {
        let b = self.stack.pop().unwrap_or_default();
        let a = self.stack.pop().unwrap_or_default();
        let c = match op {
            Op::Lt => Cmp::Lt,
            Op::Le => Cmp::Le,
            Op::Gt => Cmp::Gt,
            _ => Cmp::Ge,
        };
        if let (Value::Str(x), Value::Str(y)) = (a.plain(), b.plain()) {
            self.charge(x.len().min(y.len()) / 4096)?;
        }
        let v = compare(c, &a, &b)?;
        self.stack.push(v);
        Ok(())
    }

    /// Everything not handled inline in `run`. The frame's ip is saved.
    #[inline(never)]
    fn exec_slow(&mut self, op: Op, base: usize, program: &Rc<Program>) -> Result<Step, RtError> {
        macro_rules! pop {
            () => {
                self.stack.pop().unwrap_or_default()
            };
        }
        match op {
            Op::Dup => {
                let v = self.stack.last().cloned().unwrap_or_default();
                self.stack.push(v);
            }
            Op::Swap => {
                let n = self.stack.len();
                if n >= 2 {
                    self.stack.swap(n - 1, n - 2);
                }
            }
            Op::DeclCell(s) => {
                let v = pop!();
                self.stack[base + s as usize] = Value::Cell(Rc::new(RefCell::new(v)));
            }
            Op::DeclUndef(s) => {
                self.stack[base + s as usize] =
                    Value::Cell(Rc::new(RefCell::new(Value::Undefined)));
            }
            Op::StoreCell(s) => {
                let v = pop!();
                match &self.stack[base + s as usize] {
                    Value::Cell(c) => *c.borrow_mut() = v,
                    _ => self.stack[base + s as usize] = Value::Cell(Rc::new(RefCell::new(v))),
                }
            }
            Op::StoreUpval(i) => {
                let v = pop!();
                let ups = self
                    .frames
                    .last()
                    .map(|f| &f.closure.upvalues[..])
                    .unwrap_or(&[]);
                match ups.get(i as usize) {
                    Some(c) => *c.borrow_mut() = v,
                    None => return Err(RtError::internal("bad upvalue index")),
                }
            }
            Op::LoadGlobal(i) => self.stack.push(Value::Native(i)),
            Op::RangePrepare { slot, argc } => {
                let at = self.stack.len().saturating_sub(argc as usize);
                let args = self.stack.split_off(at);
                let (start, end, step) = range_bounds(&args, program)?;
                let i = base + slot as usize;
                self.stack[i] = Value::Num(start);
                self.stack[i + 1] = Value::Num(end);
                self.stack[i + 2] = Value::Num(step);
                self.stack[i + 3] = Value::Num(0.0);
            }
            Op::PushAssignLocal(s) => {
                let x = pop!();
                let max = self.limits.max_value_size;
                match &mut self.stack[base + s as usize] {
                    Value::List(l) => {
                        ops::check_len(l.len() + 1, max, "list")?;
                        Rc::make_mut(l).push(x);
                    }
                    other => {
                        let t = article(other.type_name());
                        return Err(RtError::type_error(format!(
                            "push expects a List as its first argument, found {t}"
                        )));
                    }
                }
            }
            Op::SetIndexLocal(s) => {
                let v = pop!();
                let i = pop!();
                ops::set_index(&mut self.stack[base + s as usize], &i, v, program)?;
            }
            Op::SetFieldLocal { slot, name } => {
                let v = pop!();
                ops::set_field(
                    &mut self.stack[base + slot as usize],
                    program.str_const(name),
                    v,
                    program,
                )?;
            }
            Op::Eq | Op::Ne => {
                let b = pop!();
                let a = pop!();
                let (v, work) = ops::equal_work(&a, &b)?;
                let text = match (a.plain(), b.plain()) {
                    (Value::Str(x), Value::Str(y)) => x.len().min(y.len()),
                    _ => 0,
                };
                self.charge(work / 256 + text / 4096)?;
                self.stack.push(if op == Op::Ne { not(v) } else { v });
            }
            Op::Similar => {
                let b = pop!();
                let a = pop!();
                let v = ops::similar(&a, &b)?;
                self.stack.push(v);
            }
            Op::Neg => {
                let a = pop!();
                let v = match a.plain() {
                    Value::Num(x) => Value::Num(-x).with_confidence(a.confidence()),
                    Value::Vector(xs) => Value::Vector(Rc::new(xs.iter().map(|x| -x).collect())),
                    other => {
                        return Err(RtError::type_error(format!(
                            "cannot negate {}",
                            article(other.type_name())
                        )))
                    }
                };
                self.stack.push(v);
            }
            Op::Not => {
                let a = pop!();
                self.stack.push(not(a));
            }
            Op::Confidence => {
                let a = pop!();
                self.stack.push(Value::Num(a.confidence()));
            }
            Op::AndJoin | Op::OrJoin => {
                let b = pop!();
                let a = pop!();
                let c = if op == Op::AndJoin {
                    a.confidence().min(b.confidence())
                } else {
                    a.confidence().max(b.confidence())
                };
                self.stack.push(Value::Bool(b.truthy()).with_confidence(c));
            }
            Op::MakeList(n) => {
                let at = self.stack.len().saturating_sub(n as usize);
                let items = self.stack.split_off(at);
                self.stack.push(Value::List(Rc::new(items)));
            }
            Op::MakeMap(n) => {
                let at = self.stack.len().saturating_sub(2 * n as usize);
                let items = self.stack.split_off(at);
                let mut m = Map::with_capacity_and_hasher(n as usize, Default::default());
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    if let Value::Str(k) = &k {
                        m.insert(k.to_string(), v);
                    }
                }
                self.stack.push(Value::Map(Rc::new(m)));
            }
            Op::MakeVector(n) => {
                let at = self.stack.len().saturating_sub(n as usize);
                let items = self.stack.split_off(at);
                let mut xs = Vec::with_capacity(items.len());
                for v in &items {
                    match v.as_num() {
                        Some(x) => xs.push(x),
                        None => {
                            return Err(RtError::type_error(format!(
                                "a vector holds numbers, found {}",
                                article(v.type_name())
                            )))
                        }
                    }
                }
                self.stack.push(Value::Vector(Rc::new(xs)));
            }
            Op::MakeStruct(c) => {
                let v = self.make_struct(c)?;
                self.stack.push(v);
            }
            Op::Closure(f) => {
                let enclosing = match self.frames.last() {
                    Some(fr) => fr.closure.clone(),
                    None => return Err(RtError::internal("no frame")),
                };
                let v = self.make_closure(f, &enclosing, base)?;
                self.stack.push(v);
            }
            Op::GetIndex => {
                let i = pop!();
                let b = pop!();
                // Finding the i-th character walks the string.
                if let Value::Str(s) = b.plain() {
                    self.charge(s.len() / 4096)?;
                }
                let v = ops::get_index(&b, &i, program)?;
                self.stack.push(v);
            }
            Op::GetField(c) => {
                let b = pop!();
                let v = ops::get_field(&b, program.str_const(c), program)?;
                self.stack.push(v);
            }
            Op::SetIndex => {
                let v = pop!();
                let i = pop!();
                let mut b = pop!();
                ops::set_index(&mut b, &i, v, program)?;
                self.stack.push(b);
            }
            Op::SetField(c) => {
                let v = pop!();
                let mut b = pop!();
                ops::set_field(&mut b, program.str_const(c), v, program)?;
                self.stack.push(b);
            }
            Op::ForPrepare => {
                let v = pop!();
                let items = iterable(v, program)?;
                self.stack.push(items);
            }
            Op::CallMethod { name, argc } => {
                self.tick_slow()?;
                return Ok(match self.call_method(name, argc as usize)? {
                    None => Step::Reload,
                    Some(out) => Step::Exit(out),
                });
            }
            Op::CallDynamic(argc) => {
                self.tick_slow()?;
                return Ok(match self.call_dynamic(argc as usize)? {
                    None => Step::Reload,
                    Some(out) => Step::Exit(out),
                });
            }
            Op::PushHandler(t) => {
                self.handlers.push(Handler {
                    frame: self.frames.len() - 1,
                    stack: self.stack.len(),
                    target: t as usize,
                });
            }
            Op::PopHandler => {
                self.handlers.pop();
            }
            Op::Throw => {
                let v = pop!();
                // An error value ends up in reports and logs: never a handle.
                if crate::value::contains_identity(&v) {
                    return Err(RtError::identity("an Identity cannot be thrown"));
                }
                return Ok(match self.throw_value(v) {
                    Some(out) => Step::Exit(out),
                    None => Step::Reload,
                });
            }
            Op::CheckType { ty, site } => {
                let Some(Constant::Ty(t)) = program.constants.get(ty as usize) else {
                    return Err(RtError::internal("bad type constant"));
                };
                let v = self.stack.last().cloned().unwrap_or_default();
                let (ok, work) = ops::conforms_work(&v, t, program);
                self.charge(work / 256)?;
                if !ok {
                    return Err(RtError::type_error(format!(
                        "{} expects `{}`, found {}",
                        CheckSite::from_u8(site).describe(),
                        t.display(&program.structs),
                        ops::mismatch(&v, t, program)
                    )));
                }
            }
            Op::DefineMethod { sid, name } => {
                let f = pop!();
                Rc::make_mut(&mut self.methods).insert((sid as u32, name), f);
            }
            Op::LoadModule(m) => match self.modules.get(m as usize) {
                Some(ModuleState::Loaded(v)) => {
                    let v = v.clone();
                    self.stack.push(v);
                }
                Some(ModuleState::Loading) => {
                    return Err(RtError::new(
                        "module",
                        "a module was used while it was still loading",
                    ))
                }
                _ => {
                    let Some(func) = program.modules.get(m as usize).map(|x| x.function) else {
                        return Err(RtError::internal("bad module index"));
                    };
                    self.modules[m as usize] = ModuleState::Loading;
                    let at = self.stack.len();
                    let c = Rc::new(Closure {
                        func,
                        upvalues: Box::new([]),
                    });
                    self.push_frame(func, c, at, at, Some(m))?;
                    return Ok(Step::Reload);
                }
            },
            Op::TurnEnter | Op::TurnExit => {}
            Op::SelfPid => self.stack.push(Value::Pid(self.pid)),
            Op::Remember => {
                let v = pop!();
                let k = pop!();
                self.remember(k, v)?;
                self.stack.push(Value::Null);
            }
            Op::Recall => {
                let k = pop!();
                // A string key is looked up as it is (no copy).
                let v = match k.plain() {
                    Value::Str(key) => self.memory.get(key.as_str()).cloned(),
                    _ => self.memory.get(&memory_key(&k)?).cloned(),
                };
                self.stack.push(v.unwrap_or_default());
            }
            Op::Suspend => {
                self.pending = Pending::Push;
                return Ok(Step::Exit(Outcome::Effect(Effect::Suspend)));
            }
            Op::Infer(c) => {
                let Some(Constant::Ty(ty)) = program.constants.get(c as usize) else {
                    return Err(RtError::internal("bad infer target"));
                };
                let prompt = pop!();
                let prompt = match prompt.plain() {
                    Value::Str(s) => s.to_string(),
                    other => {
                        return Err(RtError::type_error(format!(
                            "the prompt of `infer` must be a Str, found {}",
                            article(&describe_type(other, program))
                        )))
                    }
                };
                self.pending = Pending::Push;
                let context = self
                    .context
                    .render()
                    .map(|(t, e)| (t, e.text.clone()))
                    .collect();
                return Ok(Step::Exit(Outcome::Effect(Effect::Infer {
                    ty: ty.clone(),
                    prompt,
                    context,
                })));
            }
            Op::Context { method, argc } => {
                let at = self.stack.len().saturating_sub(argc as usize);
                let args = self.stack.split_off(at);
                let method = program.str_const(method);
                if method == "append" {
                    let arg = args.first().cloned().unwrap_or_default();
                    if let Some(e) = self.context_append(&arg)? {
                        return Ok(Step::Exit(Outcome::Effect(e)));
                    }
                    self.stack.push(Value::Null);
                } else {
                    let v = self.context_op(method, &args)?;
                    self.stack.push(v);
                }
            }
            Op::Spawn { link } => {
                let func = pop!();
                self.pending = Pending::Push;
                return Ok(Step::Exit(Outcome::Effect(Effect::Spawn {
                    func,
                    args: Vec::new(),
                    link,
                })));
            }
            Op::SpawnEach => {
                let func = pop!();
                let list = pop!();
                let Value::List(items) = list.plain() else {
                    return Err(RtError::type_error(format!(
                        "`spawn_each` needs a List, found {}",
                        article(&describe_type(&list, program))
                    )));
                };
                self.pending = Pending::Push;
                return Ok(Step::Exit(Outcome::Effect(Effect::SpawnEach {
                    items: items.to_vec(),
                    func,
                })));
            }
            Op::Gather => {
                let v = pop!();
                let pids = pids_of(&v, program)?;
                self.check_gather(&pids)?;
                if let Some(results) = self.take_gathered(&pids) {
                    self.stack.push(single_or_list(&v, results));
                } else {
                    self.pending = if matches!(v.plain(), Value::Pid(_)) {
                        Pending::First
                    } else {
                        Pending::Push
                    };
                    return Ok(Step::Exit(Outcome::Effect(Effect::Gather { pids })));
                }
            }
            Op::Send => {
                let msg = pop!();
                let to = pop!();
                let Value::Pid(to) = to.plain() else {
                    return Err(RtError::type_error(format!(
                        "`send` needs a Pid, found {}",
                        article(&describe_type(&to, program))
                    )));
                };
                if crate::value::contains_identity(&msg) {
                    return Err(RtError::identity(
                        "an Identity cannot be sent to another process",
                    ));
                }
                let msg = crate::snapshot::isolate(&msg, program)?;
                self.pending = Pending::Push;
                return Ok(Step::Exit(Outcome::Effect(Effect::Send { to: *to, msg })));
            }
            Op::Receive { timeout } => {
                let t = if timeout {
                    let t = pop!();
                    match t.plain() {
                        Value::Num(n) if !n.is_nan() => Some(*n),
                        _ => {
                            return Err(RtError::type_error(format!(
                                "`receive timeout` needs a number of seconds, found {}",
                                article(&describe_type(&t, program))
                            )))
                        }
                    }
                } else {
                    None
                };
                if let Some(m) = self.take_message() {
                    self.stack.push(m);
                } else if t.is_some_and(|t| t <= 0.0) {
                    self.stack.push(Value::Null);
                } else {
                    self.pending = Pending::Push;
                    return Ok(Step::Exit(Outcome::Effect(Effect::Receive { timeout: t })));
                }
            }
            Op::Grant(c) => {
                let name = pop!();
                let Value::Str(name) = name.plain() else {
                    return Err(RtError::type_error(format!(
                        "the name of a `grant` must be a Str, found {}",
                        article(&describe_type(&name, program))
                    )));
                };
                self.pending = Pending::Push;
                return Ok(Step::Exit(Outcome::Effect(Effect::Grant {
                    kind: program.str_const(c).to_string(),
                    name: name.to_string(),
                })));
            }
            // Handled inline in `run`.
            Op::Const(_)
            | Op::Null
            | Op::True
            | Op::False
            | Op::Pop
            | Op::LoadLocal(_)
            | Op::StoreLocal(_)
            | Op::LoadCell(_)
            | Op::LoadUpval(_)
            | Op::Add
            | Op::Sub
            | Op::Mul
            | Op::Div
            | Op::Rem
            | Op::Lt
            | Op::Le
            | Op::Gt
            | Op::Ge
            | Op::Jump(_)
            | Op::JumpIfFalse(_)
            | Op::AndShort(_)
            | Op::OrShort(_)
            | Op::ForNext { .. }
            | Op::RangeNext { .. }
            | Op::AddAssignLocal(_)
            | Op::Call(_)
            | Op::CallUpval { .. }
            | Op::CallLocal { .. }
            | Op::LocalConstOp { .. }
            | Op::LocalLocalOp { .. }
            | Op::Return => return Err(RtError::internal("hot instruction reached the slow path")),
        }
        Ok(Step::Next)
    }

    /// A step for calls made outside the hot loop (method and dynamic calls).
    fn tick_slow(&mut self) -> Result<(), RtError> {
        if self.limits.max_steps != 0 && self.steps >= self.limits.max_steps {
            return Err(RtError::fatal_limit(format!(
                "step limit of {} exceeded",
                self.limits.max_steps
            )));
        }
        self.steps += 1;
        Ok(())
    }

    fn fail_internal(&mut self, msg: &str) -> Outcome {
        match self.raise(RtError::internal(msg)) {
            Some(out) => out,
            None => Outcome::Failed(Box::new(Uncaught {
                value: Value::Null,
                kind: "internal".into(),
                message: msg.into(),
                trace: Vec::new(),
            })),
        }
    }

    fn add_assign(&mut self, slot: usize, rhs: Value) -> Result<(), RtError> {
        // In place, only the appended part is built.
        self.charge_for(&rhs)?;
        let max = self.limits.max_value_size;
        let program = self.program.clone();
        let local = &mut self.stack[slot];
        match (local, &rhs) {
            (Value::Num(x), Value::Num(y)) => *x += *y,
            (Value::Str(s), _) if !matches!(rhs, Value::Uncertain(_)) => {
                let s = Rc::make_mut(s);
                let before = s.len();
                crate::display::display_into(&rhs, &program, s)?;
                if s.len() > max {
                    s.truncate(before);
                    ops::check_len(max + 1, max, "string")?;
                }
            }
            (Value::List(l), Value::List(r)) => {
                ops::check_len(l.len() + r.len(), max, "list")?;
                Rc::make_mut(l).extend(r.iter().cloned());
            }
            (local, _) => {
                let a = std::mem::take(local);
                match arith(Arith::Add, a.clone(), rhs, &program, max) {
                    Ok(v) => *local = v,
                    Err(e) => {
                        *local = a;
                        return Err(e);
                    }
                }
            }
        }
        Ok(())
    }

    fn make_struct(&mut self, c: u32) -> Result<Value, RtError> {
        let program = self.program.clone();
        let Some(Constant::Ctor(ctor)) = program.constants.get(c as usize) else {
            return Err(RtError::internal("bad struct constructor"));
        };
        let def = program
            .structs
            .get(ctor.sid as usize)
            .ok_or_else(|| RtError::internal("bad struct id"))?;
        let at = self.stack.len().saturating_sub(ctor.fields.len());
        let values = self.stack.split_off(at);
        let mut fields: Vec<Value> = if ctor.spread {
            match &self.stack.pop().unwrap_or_default() {
                Value::Struct(s) if s.sid == ctor.sid => s.fields.to_vec(),
                other => {
                    return Err(RtError::type_error(format!(
                        "`..` in a `{}` literal needs a `{}`, found {}",
                        def.name,
                        def.name,
                        article(&describe_type(other, &program))
                    )))
                }
            }
        } else {
            vec![Value::Null; def.fields.len()]
        };
        for (v, &i) in values.into_iter().zip(&ctor.fields) {
            let Some((name, ty)) = def.fields.get(i as usize) else {
                continue;
            };
            if !conforms(&v, ty, &program) {
                return Err(RtError::type_error(format!(
                    "field `{name}` of `{}` expects `{}`, found {}",
                    def.name,
                    ty.display(&program.structs),
                    ops::mismatch(&v, ty, &program)
                )));
            }
            fields[i as usize] = v;
        }
        Ok(Value::Struct(Rc::new(StructValue {
            sid: ctor.sid,
            fields: fields.into_boxed_slice(),
        })))
    }

    fn make_closure(
        &mut self,
        f: u32,
        enclosing: &Rc<Closure>,
        base: usize,
    ) -> Result<Value, RtError> {
        let func = self
            .program
            .functions
            .get(f as usize)
            .ok_or_else(|| RtError::internal("bad function index"))?;
        let mut ups = Vec::with_capacity(func.upvalues.len());
        for src in &func.upvalues {
            let cell = match src {
                UpvalueSource::Local(s) => match self.stack.get(base + *s as usize) {
                    Some(Value::Cell(c)) => c.clone(),
                    _ => return Err(RtError::internal("captured variable has no cell")),
                },
                UpvalueSource::Upvalue(i) => enclosing
                    .upvalues
                    .get(*i as usize)
                    .cloned()
                    .ok_or_else(|| RtError::internal("bad upvalue index"))?,
            };
            ups.push(cell);
        }
        Ok(Value::Closure(Rc::new(Closure {
            func: f,
            upvalues: ups.into_boxed_slice(),
        })))
    }

    /// `context.append(x)`: appended now, or (under `summarize`, over
    /// budget) the `infer` of a summary that `resume` completes. The
    /// summary's context is P0 only; the entries to summarize are in the
    /// prompt.
    fn context_append(&mut self, arg: &Value) -> Result<Option<Effect>, RtError> {
        let item = crate::context::Entry::new(context_text(arg, &self.program)?);
        let Some(plan) = self.context.needs_summary(&item) else {
            self.context.append_entry(item)?;
            return Ok(None);
        };
        let prompt = self.context.summary_prompt(&plan);
        let context = self
            .context
            .system
            .iter()
            .map(|e| (crate::context::Tier::System, e.text.clone()))
            .collect();
        self.pending = Pending::Summarize { plan, item };
        Ok(Some(Effect::Infer {
            ty: turn_bytecode::Ty::Str,
            prompt,
            context,
        }))
    }

    /// `context.method(args)` (all but `append`).
    fn context_op(&mut self, method: &str, args: &[Value]) -> Result<Value, RtError> {
        let arg = args.first().cloned().unwrap_or_default();
        match method {
            "system" => {
                let t = context_text(&arg, &self.program)?;
                self.context.push_system(t)?;
                Ok(Value::Null)
            }
            "budget" => match arg.as_num() {
                Some(n)
                    if n.is_finite() && n >= 1.0 && n.fract() == 0.0 && n <= u32::MAX as f64 =>
                {
                    self.context.set_budget(n as u32)?;
                    Ok(Value::Null)
                }
                _ => Err(RtError::value_error(
                    "context.budget takes a whole number of tokens, at least 1",
                )),
            },
            "policy" => match arg.as_str() {
                Some("evict") => {
                    self.context.policy = crate::context::Policy::Evict;
                    Ok(Value::Null)
                }
                Some("summarize") => {
                    self.context.policy = crate::context::Policy::Summarize;
                    Ok(Value::Null)
                }
                _ => Err(RtError::value_error(
                    "context.policy takes \"evict\" or \"summarize\"",
                )),
            },
            "tokens" => Ok(Value::Num(self.context.tokens() as f64)),
            "entries" => Ok(Value::list(
                self.context
                    .render()
                    .map(|(tier, e)| {
                        let mut m = Map::default();
                        m.insert("tier".into(), Value::str(tier.name()));
                        m.insert("text".into(), Value::str(e.text.as_str()));
                        m.insert("tokens".into(), Value::Num(f64::from(e.tokens)));
                        Value::map(m)
                    })
                    .collect(),
            )),
            "clear" => {
                self.context.clear();
                Ok(Value::Null)
            }
            other => Err(RtError::internal(format!("unknown context method {other}"))),
        }
    }

    fn remember(&mut self, k: Value, v: Value) -> Result<(), RtError> {
        if crate::value::contains_identity(&v) {
            return Err(RtError::identity("an Identity cannot be written to memory"));
        }
        // Overwriting a string key needs no new key string.
        if let Value::Str(key) = k.plain() {
            if !self.embeddings.is_empty() {
                self.embeddings.shift_remove(key.as_str());
            }
            if let Some(slot) = self.memory.get_mut(key.as_str()) {
                discard(std::mem::replace(slot, v));
                return Ok(());
            }
        }
        let key = memory_key(&k)?;
        if !self.embeddings.is_empty() {
            self.embeddings.shift_remove(&key);
        }
        self.memory.insert(key, v);
        Ok(())
    }

    /// Call the value at `callee_at` with the `argc` values above it.
    /// `Ok(None)`: continue running (a frame was pushed or a result pushed).
    pub(crate) fn call_value(
        &mut self,
        callee_at: usize,
        argc: usize,
    ) -> Result<Option<Outcome>, RtError> {
        let callee = self.stack.get(callee_at).cloned().unwrap_or_default();
        match callee.plain() {
            Value::Closure(c) => {
                let func = self
                    .program
                    .functions
                    .get(c.func as usize)
                    .ok_or_else(|| RtError::internal("bad function"))?;
                if argc < func.min_arity as usize || argc > func.arity as usize {
                    return Err(arity_error(
                        &func.name,
                        func.min_arity as usize,
                        func.arity as usize,
                        argc,
                    ));
                }
                if func.is_method {
                    return Err(RtError::type_error(format!(
                        "`{}` is a method: call it on a value",
                        func.name
                    )));
                }
                self.push_frame(c.func, c.clone(), callee_at + 1, callee_at, None)?;
                Ok(None)
            }
            Value::Native(i) => self.call_native(*i, callee_at, argc),
            other => Err(RtError::type_error(format!(
                "cannot call {}",
                article(&describe_type(other, &self.program))
            ))),
        }
    }

    fn call_native(
        &mut self,
        i: u16,
        callee_at: usize,
        argc: usize,
    ) -> Result<Option<Outcome>, RtError> {
        let def: &'static NativeDef = self
            .natives
            .get(i as usize)
            .copied()
            .ok_or_else(|| RtError::internal("bad native index"))?;
        if argc < def.arity.min as usize || argc > def.arity.max as usize {
            return Err(arity_error(
                &native_display_name(def.name),
                def.arity.min as usize,
                def.arity.max as usize,
                argc,
            ));
        }
        if Some(i) == self.forget {
            let key = memory_key(&self.stack.get(callee_at + 1).cloned().unwrap_or_default())?;
            let old = self.memory.shift_remove(&key);
            self.embeddings.shift_remove(&key);
            self.stack.truncate(callee_at);
            self.stack.push(Value::Bool(old.is_some()));
            return Ok(None);
        }
        if Some(i) == self.search {
            return self.memory_search(callee_at);
        }
        // A native may read all of its arguments: charge for their size.
        let read: usize = self.stack[callee_at + 1..].iter().map(shallow_size).sum();
        self.charge(read / 4096)?;
        let program = self.program.clone();
        let mut cx = NativeCx {
            program: &program,
            max_value_size: self.limits.max_value_size,
        };
        let result = (def.func)(&mut cx, &self.stack[callee_at + 1..]);
        let first_arg = self.stack.get(callee_at + 1).cloned().unwrap_or_default();
        self.stack.truncate(callee_at);
        match result {
            Ok(v) => {
                self.charge_for(&v)?;
                self.stack.push(v);
                Ok(None)
            }
            Err(Flow::Error(e)) => {
                // A size limit means the native built up to the limit before
                // giving up: wasted work, charged at the rate of values
                // compared, one step per 256 bytes (B8 in docs/fuzzing.md).
                if e.kind == "limit" && !e.fatal {
                    self.charge(self.limits.max_value_size / 256)?;
                }
                Err(e)
            }
            Err(Flow::Effect(effect)) => {
                self.pending = if Some(i) == self.echo {
                    Pending::PushValue(first_arg)
                } else if Some(i) == self.embed {
                    Pending::First
                } else {
                    Pending::Push
                };
                Ok(Some(Outcome::Effect(effect)))
            }
        }
    }

    fn call_method(&mut self, name: u32, argc: usize) -> Result<Option<Outcome>, RtError> {
        let recv_at = self.stack.len().saturating_sub(argc + 1);
        let recv = self.stack.get(recv_at).cloned().unwrap_or_default();
        let name_str = self.program.str_const(name).to_string();
        if let Value::Struct(s) = recv.plain() {
            if let Some(m) = self.methods.get(&(s.sid, name)).cloned() {
                let Value::Closure(c) = &m else {
                    return Err(RtError::internal("method is not a closure"));
                };
                let c = c.clone();
                let func = self
                    .program
                    .functions
                    .get(c.func as usize)
                    .ok_or_else(|| RtError::internal("bad function"))?;
                if argc < func.min_arity as usize || argc > func.arity as usize {
                    return Err(arity_error(
                        &func.name,
                        func.min_arity as usize,
                        func.arity as usize,
                        argc,
                    ));
                }
                // The receiver becomes `this` (slot 0).
                self.stack[recv_at] = recv.plain().clone();
                self.push_frame(c.func, c, recv_at, recv_at, None)?;
                return Ok(None);
            }
        }
        let f = match recv.plain() {
            Value::Struct(s) => {
                let def = self.program.structs.get(s.sid as usize);
                match def.and_then(|d| d.field_index(&name_str)) {
                    Some(i) => s.fields[i].clone(),
                    None => {
                        return Err(RtError::new(
                            "method",
                            format!(
                                "no method `{name_str}` on struct `{}`",
                                def.map(|d| d.name.as_str()).unwrap_or("?")
                            ),
                        ))
                    }
                }
            }
            Value::Map(m) => match m.get(&name_str) {
                Some(v) => v.clone(),
                None => {
                    return Err(RtError::new(
                        "method",
                        format!("the map has no function `{name_str}`"),
                    ))
                }
            },
            other => {
                return Err(RtError::new(
                    "method",
                    format!(
                        "no method `{name_str}` on {}",
                        article(&describe_type(other, &self.program))
                    ),
                ))
            }
        };
        self.stack[recv_at] = f;
        self.call_value(recv_at, argc)
    }

    /// `call(target, args…)`: a function value, or a tool name.
    fn call_dynamic(&mut self, argc: usize) -> Result<Option<Outcome>, RtError> {
        let at = self.stack.len().saturating_sub(argc + 1);
        let target = self.stack.get(at).cloned().unwrap_or_default();
        match target.plain() {
            Value::Str(name) => {
                if let Some(i) = self.natives.iter().position(|n| n.name == name.as_str()) {
                    self.stack[at] = Value::Native(i as u16);
                    return self.call_value(at, argc);
                }
                let mut args = self.stack.split_off(at + 1);
                self.stack.truncate(at);
                let arg = match args.len() {
                    0 => Value::Null,
                    1 => args.pop().unwrap_or_default(),
                    _ => Value::list(args),
                };
                if crate::value::contains_identity(&arg) {
                    // Identities reach only the std modules that resolve them.
                    return Err(RtError::identity(format!(
                        "an Identity cannot be passed to the tool `{name}`"
                    )));
                }
                self.pending = Pending::Push;
                Ok(Some(Outcome::Effect(Effect::Tool {
                    name: name.to_string(),
                    arg,
                })))
            }
            Value::Closure(c) if argc == 1 => {
                let func = self
                    .program
                    .functions
                    .get(c.func as usize)
                    .ok_or_else(|| RtError::internal("bad function"))?;
                let arity = func.arity as usize;
                if arity >= 2 {
                    let arg = self.stack.pop().unwrap_or_default();
                    match arg.plain() {
                        Value::List(items) => {
                            let n = items.len();
                            self.stack.extend(items.iter().cloned());
                            return self.call_value(at, n);
                        }
                        Value::Map(m) => {
                            if let Some(k) = m.keys().find(|k| !func.params.contains(k)) {
                                return Err(RtError::new(
                                    "call",
                                    format!("`{}` has no parameter `{k}`", func.name),
                                ));
                            }
                            for (i, p) in func.params.iter().enumerate() {
                                match m.get(p) {
                                    Some(v) => self.stack.push(v.clone()),
                                    None if i >= func.min_arity as usize => {
                                        self.stack.push(Value::Null)
                                    }
                                    None => {
                                        return Err(RtError::new(
                                            "call",
                                            format!(
                                                "`{}` is missing the argument `{p}`",
                                                func.name
                                            ),
                                        ))
                                    }
                                }
                            }
                            return self.call_value(at, arity);
                        }
                        _ => self.stack.push(arg),
                    }
                }
                self.call_value(at, argc)
            }
            _ => self.call_value(at, argc),
        }
    }

    // ── errors ──

    /// Where the current instruction of each frame is, innermost first.
    /// Where the current instruction of each frame is, innermost first.
    /// Deep stacks keep their innermost and outermost [`TRACE_KEEP`] frames
    /// with one marker frame between them (see [`TraceFrame::omitted`]), so
    /// an error deep in a recursion costs the same as a shallow one.
    pub(crate) fn trace(&self) -> Vec<TraceFrame> {
        let n = self.frames.len();
        let frame_at = |f: &Frame| {
            let func = self.program.functions.get(f.closure.func as usize);
            let (file, line, col) = match func {
                Some(func) => {
                    let span = func
                        .spans
                        .get(f.ip.saturating_sub(1))
                        .copied()
                        .unwrap_or(func.span);
                    match self.program.files.get(func.file as usize) {
                        Some(file) => {
                            let (l, c) = file.line_col(span.start);
                            (file.path.clone(), l, c)
                        }
                        None => (String::from("?"), 0, 0),
                    }
                }
                None => (String::from("?"), 0, 0),
            };
            TraceFrame {
                function: func.map(|f| f.name.clone()).unwrap_or_default(),
                file,
                line,
                col,
            }
        };
        if n <= 2 * TRACE_KEEP + 1 {
            return self.frames.iter().rev().map(frame_at).collect();
        }
        let mut out: Vec<TraceFrame> = self.frames[n - TRACE_KEEP..]
            .iter()
            .rev()
            .map(frame_at)
            .collect();
        out.push(TraceFrame::omitted(n - 2 * TRACE_KEEP));
        out.extend(self.frames[..TRACE_KEEP].iter().rev().map(frame_at));
        out
    }

    /// Turn a runtime error into an `Error` value at the current location and
    /// throw it. `None`: a handler caught it, keep running.
    pub(crate) fn raise(&mut self, e: RtError) -> Option<Outcome> {
        let mut trace = self.trace();
        // An error raised inside a std module on the caller's behalf (bad
        // arguments) is reported where the user called it.
        let in_std = |f: &TraceFrame| f.file.starts_with("<std/");
        if trace.first().is_some_and(in_std) && trace.iter().any(|f| !in_std(f)) {
            trace.retain(|f| !in_std(f));
        }
        let top = trace.first().cloned().unwrap_or(TraceFrame {
            function: String::new(),
            file: String::new(),
            line: 0,
            col: 0,
        });
        if e.fatal {
            self.handlers.clear();
        }
        let value = Value::Error(Rc::new(ErrorValue {
            kind: e.kind.to_string(),
            message: e.message,
            file: top.file,
            line: top.line,
            col: top.col,
            trace,
            data: e.data,
        }));
        self.throw_value(value)
    }

    /// `throw v`: strings become `Error`s of kind `throw`; other values are
    /// thrown as they are.
    pub(crate) fn throw_value(&mut self, v: Value) -> Option<Outcome> {
        let v = match v.plain() {
            Value::Str(s) => {
                let trace = self.trace();
                let top = trace.first().cloned().unwrap_or(TraceFrame {
                    function: String::new(),
                    file: String::new(),
                    line: 0,
                    col: 0,
                });
                Value::Error(Rc::new(ErrorValue {
                    kind: "throw".into(),
                    message: s.to_string(),
                    file: top.file,
                    line: top.line,
                    col: top.col,
                    trace,
                    data: Value::Null,
                }))
            }
            other => other.clone(),
        };
        match self.handlers.pop() {
            Some(h) => {
                // Frames above the handler's are unwound; module bodies that
                // were loading stay unloaded (a later `use` retries them).
                while self.frames.len() > h.frame + 1 {
                    if let Some(f) = self.frames.pop() {
                        if let Some(m) = f.module {
                            if let Some(state) = self.modules.get_mut(m as usize) {
                                *state = ModuleState::NotLoaded;
                            }
                        }
                    }
                }
                self.stack.truncate(h.stack);
                self.stack.push(v);
                if let Some(f) = self.frames.last_mut() {
                    f.ip = h.target;
                }
                None
            }
            None => {
                let (kind, message, trace) = match &v {
                    Value::Error(e) => (e.kind.clone(), e.message.clone(), e.trace.clone()),
                    other => {
                        let shown = crate::display::display(other, &self.program)
                            .unwrap_or_else(|_| other.type_name().to_string());
                        ("throw".to_string(), shown, self.trace())
                    }
                };
                self.frames.clear();
                self.stack.clear();
                Some(Outcome::Failed(Box::new(Uncaught {
                    value: v,
                    kind,
                    message,
                    trace,
                })))
            }
        }
    }
}

fn not(v: Value) -> Value {
    let c = v.confidence();
    Value::Bool(!v.truthy()).with_confidence(c)
}

fn arity_error(name: &str, min: usize, max: usize, found: usize) -> RtError {
    let expected = if min == max {
        format!("{max} argument{}", if max == 1 { "" } else { "s" })
    } else {
        format!("{min} to {max} arguments")
    };
    RtError::new(
        "call",
        format!(
            "`{name}` takes {expected} but {found} {} given",
            if found == 1 { "was" } else { "were" }
        ),
    )
}

/// The name a user knows a builtin by: `__sys_str_split` is `str.split`.
pub(crate) fn native_display_name(name: &str) -> String {
    match name
        .strip_prefix("__sys_")
        .and_then(|rest| rest.split_once('_'))
    {
        Some((module, f)) => format!("{module}.{f}"),
        None => name.to_string(),
    }
}

/// Bytes a value holds at its top level (what a scan of it reads).
fn shallow_size(v: &Value) -> usize {
    match v.plain() {
        Value::Str(s) => s.len(),
        Value::List(l) => l.len() * 16,
        Value::Map(m) => m.len() * 48,
        Value::Vector(x) => x.len() * 8,
        _ => 0,
    }
}

fn undefined(what: &str) -> RtError {
    RtError::value_error(format!("{what} is used before it is defined"))
}

/// What `for` walks: list elements, map keys, string characters, vector numbers.
fn iterable(v: Value, p: &Program) -> Result<Value, RtError> {
    // The items of an uncertain collection carry its confidence.
    let c = v.confidence();
    if c < 1.0 {
        let items = iterable(v.plain().clone(), p)?;
        return Ok(match items.plain() {
            Value::List(l) => Value::list(
                l.iter()
                    .map(|x| x.clone().with_confidence(x.confidence() * c))
                    .collect(),
            ),
            _ => items,
        });
    }
    Ok(match v.plain() {
        Value::List(_) => v.plain().clone(),
        Value::Map(m) => Value::list(m.keys().map(|k| Value::str(k.as_str())).collect()),
        Value::Str(s) => Value::list(s.chars().map(|c| Value::str(c.to_string())).collect()),
        Value::Vector(xs) => Value::list(xs.iter().map(|x| Value::Num(*x)).collect()),
        _ => {
            return Err(RtError::type_error(format!(
                "cannot iterate over {}",
                article(&describe_type(&v, p))
            )))
        }
    })
}

/// The bounds of `for x in range(…)`, checked as the `range` builtin does.
fn range_bounds(args: &[Value], p: &Program) -> Result<(f64, f64, f64), RtError> {
    let num = |i: usize| -> Result<f64, RtError> {
        let v = args.get(i).cloned().unwrap_or_default();
        v.as_num().ok_or_else(|| {
            RtError::type_error(format!(
                "range expects a Num as its {} argument, found {}",
                ["first", "second", "third"]
                    .get(i)
                    .copied()
                    .unwrap_or("next"),
                describe_type(&v, p)
            ))
        })
    };
    let (start, end, step) = match args.len() {
        0 | 1 => (0.0, num(0)?, 1.0),
        2 => (num(0)?, num(1)?, 1.0),
        _ => (num(0)?, num(1)?, num(2)?),
    };
    if !(start.is_finite() && end.is_finite() && step.is_finite()) {
        return Err(RtError::value_error(
            "range: the bounds and the step must be finite numbers",
        ));
    }
    if step == 0.0 {
        return Err(RtError::value_error("range: the step must not be 0"));
    }
    Ok((start, end, step))
}

/// The text a value puts into the context: its display form.
fn context_text(v: &Value, program: &Program) -> Result<String, RtError> {
    if crate::value::contains_identity(v) {
        return Err(RtError::identity(
            "an Identity cannot be put into the context",
        ));
    }
    crate::display::display(v, program)
}

fn memory_key(k: &Value) -> Result<String, RtError> {
    match k.plain() {
        Value::Str(s) => Ok(s.to_string()),
        Value::Num(n) => Ok(crate::value::num_to_string(*n)),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(RtError::type_error(format!(
            "memory keys are strings, found {}",
            article(other.type_name())
        ))),
    }
}

/// The pids `gather` was given: a `Pid` or a `List<Pid>`.
fn pids_of(v: &Value, program: &Program) -> Result<Vec<u64>, RtError> {
    let bad = |x: &Value| {
        RtError::type_error(format!(
            "`gather` needs a Pid or a List of Pids, found {}",
            article(&describe_type(x, program))
        ))
    };
    match v.plain() {
        Value::Pid(p) => Ok(vec![*p]),
        Value::List(items) => items
            .iter()
            .map(|x| match x.plain() {
                Value::Pid(p) => Ok(*p),
                other => Err(bad(other)),
            })
            .collect(),
        other => Err(bad(other)),
    }
}

/// `gather p` of one pid gives its result; of a list, the list of results.
fn single_or_list(arg: &Value, results: Value) -> Value {
    match (arg.plain(), &results) {
        (Value::Pid(_), Value::List(l)) => l.first().cloned().unwrap_or_default(),
        _ => results,
    }
}
