//! The fuzzer's outside world: an in-memory module loader that knows only
//! the entry file, and a deterministic host that answers every effect.
//!
//! Both are real implementations, not stubs: the loader refuses relative
//! modules with an ordinary error (so `use "./x"` exercises the compiler's
//! error path), and the host answers prints, tools, time, sleep, randomness,
//! suspensions and the process/inference intrinsics with values that depend
//! only on the input text, so every run of an input is the same run.

use std::rc::Rc;
use turn_bytecode::{Program, Ty};
use turn_compiler::{LoadedFile, ModuleLoader};
use turn_runtime::Host;
use turn_vm::value::{Map, StructValue, Uncertain};
use turn_vm::{RtError, Value};

/// The name the entry file is compiled under.
pub const ENTRY: &str = "<fuzz>.tn";

/// Loads the entry file from memory; any other path is an error.
pub struct MemLoader<'t> {
    text: &'t str,
}

impl<'t> MemLoader<'t> {
    pub fn new(text: &'t str) -> MemLoader<'t> {
        MemLoader { text }
    }
}

impl ModuleLoader for MemLoader<'_> {
    fn load(&self, path: &str, from: Option<&LoadedFile>) -> Result<LoadedFile, String> {
        match from {
            None => Ok(LoadedFile {
                key: path.to_string(),
                display: path.to_string(),
                text: self.text.to_string(),
            }),
            Some(_) => Err(format!(
                "{path}: the fuzzer loads no files besides the entry"
            )),
        }
    }
}

/// Largest total output a host keeps count of before it stops adding (it
/// never stores the text itself).
const OUTPUT_CAP: u64 = 1 << 40;

/// A deterministic host. The clock starts at a fixed instant and moves only
/// by sleeps; randomness is an LCG seeded from the input; effects the VM
/// cannot answer itself get plausible values or catchable errors, in an
/// order fixed by the input.
pub struct FuzzHost {
    /// Bytes printed, and their hash (the text itself is dropped).
    pub printed: u64,
    pub printed_hash: u64,
    /// Effects answered.
    pub effects: u64,
    pub clock: f64,
    seed: u64,
    /// Effects answered so far; picks between a value and an error.
    count: u64,
    /// Step budgets given to `Vm::run`, cycled: 0 is "until an effect".
    budgets: Vec<u64>,
    next_budget: usize,
    suspends: u32,
}

/// Budget schedules: most inputs run unpreempted, some are preempted
/// often (down to one step per `run`), as the scheduler will do with many
/// processes. An input can pin a schedule with a first line
/// `// turn-fuzz: budgets 1, 2` (a crash file does, to reproduce).
const SCHEDULES: [&[u64]; 7] = [
    &[0],
    &[0],
    &[0],
    &[2, 3, 5, 1000],
    &[7],
    &[64, 0, 1, 2],
    &[1],
];

/// The schedule an input's first line asks for, if any.
fn pinned_budgets(text: &str) -> Option<Vec<u64>> {
    let spec = text
        .lines()
        .next()?
        .strip_prefix("// turn-fuzz: budgets ")?;
    let budgets: Vec<u64> = spec
        .split(',')
        .map(|b| b.trim().parse())
        .collect::<Result<_, _>>()
        .ok()?;
    (!budgets.is_empty()).then_some(budgets)
}

impl FuzzHost {
    pub fn new(text: &str) -> FuzzHost {
        let seed = fnv1a(text.as_bytes());
        FuzzHost {
            printed: 0,
            printed_hash: fnv1a(b""),
            effects: 0,
            clock: 1_700_000_000.0,
            seed,
            count: seed % 3,
            budgets: pinned_budgets(text)
                .unwrap_or_else(|| SCHEDULES[(seed % SCHEDULES.len() as u64) as usize].to_vec()),
            next_budget: 0,
            suspends: 0,
        }
    }

    /// The step budget for the next `Vm::run`.
    pub fn budget(&mut self) -> u64 {
        let b = self
            .budgets
            .get(self.next_budget % self.budgets.len().max(1))
            .copied()
            .unwrap_or(0);
        self.next_budget = self.next_budget.wrapping_add(1);
        b
    }

    /// Whether to resume after `suspend;` (as `turn resume` would) or stop.
    pub fn resume_after_suspend(&mut self) -> bool {
        self.suspends += 1;
        self.suspends <= 3
    }

    /// Every third effect of a kind that may fail fails.
    fn fails(&mut self) -> bool {
        self.count = self.count.wrapping_add(1);
        self.count.is_multiple_of(3)
    }

    /// Answers an intrinsic (process, inference, capability and context
    /// operations) with a value of the kind it returns, or an error.
    pub fn intrinsic(&mut self, op: &str, args: &[Value]) -> Result<Value, RtError> {
        if self.fails() {
            return Err(RtError::new(
                "unsupported",
                format!("`{op}` refused by the fuzz host"),
            ));
        }
        let n = self.count;
        Ok(match op {
            "spawn" | "spawn_link" => Value::Pid(2 + n),
            "spawn_each" => match args.first() {
                Some(Value::List(items)) => Value::list(
                    (0..items.len().min(64) as u64)
                        .map(|i| Value::Pid(100 + i))
                        .collect(),
                ),
                _ => return Err(RtError::type_error("spawn_each takes a list")),
            },
            "gather" => match args.first() {
                Some(Value::List(items)) => {
                    Value::list(items.iter().take(64).map(|_| Value::Null).collect())
                }
                Some(Value::Pid(_)) => Value::Null,
                _ => return Err(RtError::type_error("gather takes pids")),
            },
            "send" => Value::Bool(n.is_multiple_of(2)),
            "receive" => Value::Null,
            "grant" => Value::Identity(n),
            "context.tokens" => Value::Num(n as f64),
            "context.entries" => Value::list(Vec::new()),
            _ => Value::Null,
        })
    }
}

impl Host for FuzzHost {
    fn print(&mut self, text: &str) {
        self.printed = self
            .printed
            .saturating_add(text.len() as u64)
            .min(OUTPUT_CAP);
        // FNV-1a continued over every line printed, newline-separated.
        for &b in text.as_bytes().iter().chain(b"\n") {
            self.printed_hash ^= u64::from(b);
            self.printed_hash = self.printed_hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    /// Runtime notices (processes stopped at the end, failed children) are
    /// part of what a run produced.
    fn notice(&mut self, text: &str) {
        self.print(&format!("turn: {text}"));
    }
    fn tool(&mut self, _program: &Program, name: &str, arg: Value) -> Result<Value, RtError> {
        if self.fails() {
            Err(RtError::new(
                "tool",
                format!("there is no tool named `{name}`"),
            ))
        } else {
            Ok(arg)
        }
    }
    /// A value conforming to `ty`, sometimes with a confidence, or (every
    /// third time, and for types a model cannot produce) an `infer` error.
    fn infer(&mut self, program: &Program, ty: &Ty, _prompt: &str) -> Result<Value, RtError> {
        let refuse = || RtError::new("infer", "the fuzz host's model gave no valid answer");
        if self.fails() {
            return Err(refuse());
        }
        let n = self.count;
        let value = conforming(ty, program, 0, n).ok_or_else(refuse)?;
        Ok(if n.is_multiple_of(2) {
            value
        } else {
            Value::Uncertain(Rc::new(Uncertain {
                value,
                confidence: (n % 11) as f64 / 10.0,
                fields: None,
            }))
        })
    }
    fn now(&mut self) -> f64 {
        self.clock
    }
    fn sleep(&mut self, seconds: f64) {
        if seconds.is_finite() && seconds > 0.0 {
            self.clock += seconds;
        }
    }
    fn random(&mut self) -> f64 {
        self.seed = self
            .seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.seed >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A small value of type `ty` (`None` for types no model answer can have:
/// functions, pids, identities, or structs nested too deep).
fn conforming(ty: &Ty, program: &Program, depth: u32, n: u64) -> Option<Value> {
    if depth > 6 {
        return ty.accepts_null().then_some(Value::Null);
    }
    Some(match ty {
        Ty::Any | Ty::Str => Value::str(format!("answer {n}")),
        Ty::Void => Value::Null,
        Ty::Num => Value::Num(n as f64 * 0.5),
        Ty::Bool => Value::Bool(n.is_multiple_of(2)),
        Ty::Vec => Value::Vector(Rc::new(vec![0.5, -0.25, n as f64])),
        Ty::Pid | Ty::Identity | Ty::Fn { .. } => return None,
        Ty::List(item) => Value::list(vec![
            conforming(item, program, depth + 1, n)?,
            conforming(item, program, depth + 1, n + 1)?,
        ]),
        Ty::Map(item) => {
            let mut m = Map::default();
            m.insert("k".to_string(), conforming(item, program, depth + 1, n)?);
            Value::map(m)
        }
        Ty::Optional(inner) => {
            if n.is_multiple_of(3) {
                Value::Null
            } else {
                conforming(inner, program, depth + 1, n)?
            }
        }
        Ty::Struct(sid) => {
            let def = program.structs.get(*sid as usize)?;
            let fields: Option<Vec<Value>> = def
                .fields
                .iter()
                .map(|(_, t)| conforming(t, program, depth + 1, n))
                .collect();
            Value::Struct(Rc::new(StructValue {
                sid: *sid,
                fields: fields?.into_boxed_slice(),
            }))
        }
    })
}

/// FNV-1a: a stable hash of the input (std's hashers are randomly seeded).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
