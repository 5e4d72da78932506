//! Checkpoints: the whole state of a process as plain data, and back.
//!
//! Every value kind is kept exactly (structs stay structs with their type,
//! closures keep their function and captured cells, pids, identity handles,
//! confidences and vectors round-trip), and sharing is preserved: a heap
//! value reachable twice is encoded once and restored as one `Rc`, and
//! cells shared by closures stay shared (cycles through cells included). The
//! program is referenced by its content hash, never copied. Encoding and
//! decoding are iterative, so arbitrarily deep values cannot overflow the
//! stack. The format is versioned ([`SNAPSHOT_VERSION`]).

use crate::error::RtError;
use crate::native::NativeDef;
use crate::value::{Closure, ErrorValue, Map, StructValue, TraceFrame, Uncertain, Value};
use crate::vm::{Frame, Handler, Limits, ModuleState, Pending, Vm};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use turn_bytecode::{Program, ProgramHash};

/// Bumped when the encoding changes; older versions stay readable.
pub const SNAPSHOT_VERSION: u32 = 2;

/// A value: scalars inline, heap values by object id.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum SValue {
    Null,
    Bool(bool),
    Num(f64),
    Native(u16),
    Pid(u64),
    Identity(u64),
    Undefined,
    /// A heap object (string, list, map, struct, vector, closure, cell,
    /// uncertain value, error) by its index in [`Snapshot::objects`].
    Obj(u32),
}

/// A heap object. Objects only refer to objects before them, except cells,
/// whose contents are filled in last (closures and cells may form cycles).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SObj {
    Str(String),
    List(Vec<SValue>),
    Map(Vec<(String, SValue)>),
    Struct {
        sid: u32,
        fields: Vec<SValue>,
    },
    Vector(Vec<f64>),
    Closure {
        func: u32,
        upvalues: Vec<u32>,
    },
    Cell,
    Uncertain {
        value: SValue,
        confidence: f64,
        fields: Option<Vec<(String, f64)>>,
    },
    Error {
        kind: String,
        message: String,
        file: String,
        line: u32,
        col: u32,
        trace: Vec<STrace>,
        data: SValue,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct STrace {
    pub function: String,
    pub file: String,
    pub line: u32,
    pub col: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SFrame {
    /// The frame's closure (an object id).
    pub closure: u32,
    pub ip: u64,
    pub base: u64,
    pub ret_to: u64,
    pub module: Option<u16>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SModule {
    NotLoaded,
    Loading,
    Loaded(SValue),
}

/// The context tiers (token counts are recomputed on restore).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SContext {
    pub system: Vec<String>,
    pub episodic: Vec<String>,
    pub working: Vec<String>,
    pub budget: u32,
    pub summarize: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SPending {
    None,
    Push,
    PushValue(SValue),
    /// Format 2: push the first element of the answer.
    First,
    /// Format 2: the summary for a `context.append` under `summarize` of
    /// `item`, replacing the oldest `episodic` P2 and `working` P1 entries.
    Summarize {
        episodic: u64,
        working: u64,
        item: String,
    },
    /// Format 2: `memory.search` waits for the embeddings of the query and
    /// of these keys' entries.
    Search {
        k: u64,
        keys: Vec<String>,
    },
}

/// A process at an effect boundary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub version: u32,
    pub program: ProgramHash,
    pub objects: Vec<SObj>,
    /// (cell object id, content) pairs.
    pub cells: Vec<(u32, SValue)>,
    pub stack: Vec<SValue>,
    pub frames: Vec<SFrame>,
    /// (frame, stack height, target) per open `catch`.
    pub handlers: Vec<(u64, u64, u64)>,
    pub modules: Vec<SModule>,
    /// (struct id, name constant, closure), sorted.
    pub methods: Vec<(u32, u32, SValue)>,
    pub memory: Vec<(String, SValue)>,
    pub context: SContext,
    pub pending: SPending,
    pub steps: u64,
    pub pid: u64,
    /// Mailbox, links and exit messages (format 2).
    pub links: SLinks,
    /// Cached embeddings of memory entries by key (format 2).
    pub embeddings: Vec<(String, Vec<f64>)>,
}

/// A process's mailbox and links.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SLinks {
    pub mailbox: Vec<SValue>,
    pub parent: Option<u64>,
    pub children: Vec<u64>,
    pub exits: Vec<(u64, SValue)>,
    pub effects: u64,
    /// An error answer not yet raised: (kind, message, data, fatal).
    pub pending_error: Option<(String, String, SValue, bool)>,
}

/// Format 1: a single process without mailbox or links.
#[derive(Deserialize)]
struct SnapshotV1 {
    version: u32,
    program: ProgramHash,
    objects: Vec<SObj>,
    cells: Vec<(u32, SValue)>,
    stack: Vec<SValue>,
    frames: Vec<SFrame>,
    handlers: Vec<(u64, u64, u64)>,
    modules: Vec<SModule>,
    methods: Vec<(u32, u32, SValue)>,
    memory: Vec<(String, SValue)>,
    context: SContext,
    pending: SPending,
    steps: u64,
    pid: u64,
}

impl From<SnapshotV1> for Snapshot {
    fn from(o: SnapshotV1) -> Snapshot {
        Snapshot {
            version: o.version,
            program: o.program,
            objects: o.objects,
            cells: o.cells,
            stack: o.stack,
            frames: o.frames,
            handlers: o.handlers,
            modules: o.modules,
            methods: o.methods,
            memory: o.memory,
            context: o.context,
            pending: o.pending,
            steps: o.steps,
            pid: o.pid,
            links: SLinks::default(),
            embeddings: Vec::new(),
        }
    }
}

/// A value on its own, outside any process: effect answers in the log, and
/// values copied between processes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Portable {
    pub objects: Vec<SObj>,
    pub cells: Vec<(u32, SValue)>,
    pub root: SValue,
}

impl Portable {
    pub fn of(v: &Value) -> Portable {
        let mut e = Encoder::new();
        let root = e.value(v);
        let cells = e.finish_cells();
        Portable {
            objects: e.objects,
            cells,
            root,
        }
    }

    pub fn to_value(&self, program: &Program) -> Result<Value, RtError> {
        let objs = decode_objects(program, &self.objects, &self.cells)?;
        get(&objs, &self.root)
    }
}

/// A copy of `v` that shares no mutable state with it: captured variables
/// (cells) inside closures are duplicated, sharing within the copy kept.
/// Plain data (no closures) is immutable and returned as is.
pub fn isolate(v: &Value, program: &Program) -> Result<Value, RtError> {
    if !has_cells(v) {
        return Ok(v.clone());
    }
    Portable::of(v).to_value(program)
}

fn has_cells(v: &Value) -> bool {
    crate::value::any_inside(v, |x| match x {
        Value::Closure(c) => !c.upvalues.is_empty(),
        Value::Cell(_) => true,
        _ => false,
    })
}

impl Snapshot {
    /// The compact binary form: a version word, then postcard.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = SNAPSHOT_VERSION.to_le_bytes().to_vec();
        out.extend(postcard::to_stdvec(self).unwrap_or_default());
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Snapshot, RtError> {
        let (head, body) = bytes
            .split_at_checked(4)
            .ok_or_else(|| RtError::new("checkpoint", "the checkpoint is truncated"))?;
        let version = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        match version {
            1 => postcard::from_bytes::<SnapshotV1>(body).map(Snapshot::from).map_err(damaged),
            2 => postcard::from_bytes(body).map_err(damaged),
            v => Err(RtError::new(
                "checkpoint",
                format!("checkpoint format {v} is newer than this turn understands (up to {SNAPSHOT_VERSION})"),
            )),
        }
    }
}

fn damaged(e: postcard::Error) -> RtError {
    RtError::new("checkpoint", format!("the checkpoint is damaged: {e}"))
}

// ── encoding ──

struct Encoder {
    ids: HashMap<usize, u32>,
    objects: Vec<SObj>,
    /// Cells seen, with their contents still to encode.
    cells: Vec<(u32, Value)>,
}

/// The address that identifies a heap value (`None` for scalars).
fn addr(v: &Value) -> Option<usize> {
    Some(match v {
        Value::Str(r) => Rc::as_ptr(r) as *const u8 as usize,
        Value::List(r) => Rc::as_ptr(r) as *const u8 as usize,
        Value::Map(r) => Rc::as_ptr(r) as *const u8 as usize,
        Value::Struct(r) => Rc::as_ptr(r) as *const u8 as usize,
        Value::Vector(r) => Rc::as_ptr(r) as *const u8 as usize,
        Value::Closure(r) => Rc::as_ptr(r) as *const u8 as usize,
        Value::Uncertain(r) => Rc::as_ptr(r) as *const u8 as usize,
        Value::Error(r) => Rc::as_ptr(r) as *const u8 as usize,
        Value::Cell(r) => Rc::as_ptr(r) as *const u8 as usize,
        _ => return None,
    })
}

/// The heap values directly inside `v` (a closure's are its cells).
fn children(v: &Value) -> Vec<Value> {
    match v {
        Value::List(l) => l.iter().cloned().collect(),
        Value::Map(m) => m.values().cloned().collect(),
        Value::Struct(s) => s.fields.to_vec(),
        Value::Closure(c) => c
            .upvalues
            .iter()
            .map(|cell| Value::Cell(cell.clone()))
            .collect(),
        Value::Uncertain(u) => vec![u.value.clone()],
        Value::Error(e) => vec![e.data.clone()],
        _ => Vec::new(),
    }
}

impl Encoder {
    fn new() -> Encoder {
        Encoder {
            ids: HashMap::new(),
            objects: Vec::new(),
            cells: Vec::new(),
        }
    }

    /// Encode the contents of every cell seen (last: they may reach objects
    /// seen only through them) and return (cell id, content) pairs.
    fn finish_cells(&mut self) -> Vec<(u32, SValue)> {
        let mut i = 0;
        while i < self.cells.len() {
            let v = self.cells[i].1.clone();
            self.visit(&v);
            i += 1;
        }
        self.cells.iter().map(|(id, v)| (*id, self.sv(v))).collect()
    }

    fn sv(&self, v: &Value) -> SValue {
        match v {
            Value::Null => SValue::Null,
            Value::Bool(b) => SValue::Bool(*b),
            Value::Num(n) => SValue::Num(*n),
            Value::Native(i) => SValue::Native(*i),
            Value::Pid(p) => SValue::Pid(*p),
            Value::Identity(i) => SValue::Identity(*i),
            Value::Undefined => SValue::Undefined,
            other => SValue::Obj(
                addr(other)
                    .and_then(|a| self.ids.get(&a).copied())
                    .unwrap_or(0),
            ),
        }
    }

    fn push(&mut self, a: usize, o: SObj) -> u32 {
        let id = self.objects.len() as u32;
        self.objects.push(o);
        self.ids.insert(a, id);
        id
    }

    /// Give `root` and everything it reaches an id, children first.
    fn visit(&mut self, root: &Value) {
        let mut work = vec![(root.clone(), false)];
        while let Some((v, expanded)) = work.pop() {
            let Some(a) = addr(&v) else { continue };
            if self.ids.contains_key(&a) {
                continue;
            }
            if let Value::Cell(c) = &v {
                // Declared at once: closures that reach it back are fine.
                let id = self.push(a, SObj::Cell);
                let content = c.borrow().clone();
                self.cells.push((id, content.clone()));
                work.push((content, false));
                continue;
            }
            if !expanded {
                work.push((v.clone(), true));
                for child in children(&v) {
                    if addr(&child).is_some_and(|ca| !self.ids.contains_key(&ca)) {
                        work.push((child, false));
                    }
                }
                continue;
            }
            let obj = match &v {
                Value::Str(s) => SObj::Str(s.to_string()),
                Value::List(l) => SObj::List(l.iter().map(|x| self.sv(x)).collect()),
                Value::Map(m) => {
                    SObj::Map(m.iter().map(|(k, x)| (k.clone(), self.sv(x))).collect())
                }
                Value::Struct(s) => SObj::Struct {
                    sid: s.sid,
                    fields: s.fields.iter().map(|x| self.sv(x)).collect(),
                },
                Value::Vector(xs) => SObj::Vector(xs.to_vec()),
                Value::Closure(c) => SObj::Closure {
                    func: c.func,
                    upvalues: c
                        .upvalues
                        .iter()
                        .map(|cell| {
                            self.ids
                                .get(&(Rc::as_ptr(cell) as *const u8 as usize))
                                .copied()
                                .unwrap_or(0)
                        })
                        .collect(),
                },
                Value::Uncertain(u) => SObj::Uncertain {
                    value: self.sv(&u.value),
                    confidence: u.confidence,
                    fields: u
                        .fields
                        .as_ref()
                        .map(|f| f.iter().map(|(k, c)| (k.clone(), *c)).collect()),
                },
                Value::Error(e) => SObj::Error {
                    kind: e.kind.clone(),
                    message: e.message.clone(),
                    file: e.file.clone(),
                    line: e.line,
                    col: e.col,
                    trace: e
                        .trace
                        .iter()
                        .map(|t| STrace {
                            function: t.function.clone(),
                            file: t.file.clone(),
                            line: t.line,
                            col: t.col,
                        })
                        .collect(),
                    data: self.sv(&e.data),
                },
                _ => continue,
            };
            self.push(a, obj);
        }
    }

    fn value(&mut self, v: &Value) -> SValue {
        self.visit(v);
        self.sv(v)
    }
}

impl Vm {
    /// The process's state now (call at an effect boundary: after `run`
    /// returned an effect and before `resume`).
    pub fn checkpoint(&self) -> Snapshot {
        let mut e = Encoder::new();
        let stack: Vec<SValue> = self.stack.iter().map(|v| e.value(v)).collect();
        let frames = self
            .frames
            .iter()
            .map(|f| {
                let closure = e.value(&Value::Closure(f.closure.clone()));
                SFrame {
                    closure: match closure {
                        SValue::Obj(i) => i,
                        _ => 0,
                    },
                    ip: f.ip as u64,
                    base: f.base as u64,
                    ret_to: f.ret_to as u64,
                    module: f.module,
                }
            })
            .collect();
        let modules = self
            .modules
            .iter()
            .map(|m| match m {
                ModuleState::NotLoaded => SModule::NotLoaded,
                ModuleState::Loading => SModule::Loading,
                ModuleState::Loaded(v) => SModule::Loaded(e.value(v)),
            })
            .collect();
        // In key order, so object ids do not depend on hash-map order.
        let mut keys: Vec<&(u32, u32)> = self.methods.keys().collect();
        keys.sort();
        let methods: Vec<(u32, u32, SValue)> = keys
            .into_iter()
            .filter_map(|k| self.methods.get(k).map(|f| (k.0, k.1, f)))
            .map(|(sid, name, f)| (sid, name, e.value(f)))
            .collect();
        let memory = self
            .memory
            .iter()
            .map(|(k, v)| (k.clone(), e.value(v)))
            .collect();
        let pending = match &self.pending {
            Pending::None => SPending::None,
            Pending::Push => SPending::Push,
            Pending::PushValue(v) => SPending::PushValue(e.value(v)),
            Pending::First => SPending::First,
            Pending::Summarize { plan, item } => SPending::Summarize {
                episodic: plan.episodic as u64,
                working: plan.working as u64,
                item: item.text.clone(),
            },
            Pending::Search { k, keys } => SPending::Search {
                k: *k as u64,
                keys: keys.clone(),
            },
        };
        let links = SLinks {
            mailbox: self.links.mailbox.iter().map(|v| e.value(v)).collect(),
            parent: self.links.parent,
            children: self.links.children.clone(),
            exits: self
                .links
                .exits
                .iter()
                .map(|(p, v)| (*p, e.value(v)))
                .collect(),
            effects: self.links.effects,
            pending_error: self.pending_error.as_ref().map(|r| {
                (
                    r.kind.to_string(),
                    r.message.clone(),
                    e.value(&r.data),
                    r.fatal,
                )
            }),
        };
        let cells = e.finish_cells();
        Snapshot {
            version: SNAPSHOT_VERSION,
            program: self.program.hash(),
            objects: e.objects,
            cells,
            stack,
            frames,
            handlers: self
                .handlers
                .iter()
                .map(|h| (h.frame as u64, h.stack as u64, h.target as u64))
                .collect(),
            modules,
            methods,
            memory,
            context: SContext {
                system: self.context.system.iter().map(|e| e.text.clone()).collect(),
                episodic: self
                    .context
                    .episodic
                    .iter()
                    .map(|e| e.text.clone())
                    .collect(),
                working: self
                    .context
                    .working
                    .iter()
                    .map(|e| e.text.clone())
                    .collect(),
                budget: self.context.budget,
                summarize: self.context.policy == crate::context::Policy::Summarize,
            },
            pending,
            steps: self.steps,
            pid: self.pid,
            links,
            embeddings: self
                .embeddings
                .iter()
                .map(|(k, v)| (k.clone(), v.to_vec()))
                .collect(),
        }
    }

    /// A process restored from a checkpoint of the same program.
    pub fn restore(
        program: Rc<Program>,
        natives: &'static [NativeDef],
        limits: Limits,
        snap: &Snapshot,
    ) -> Result<Vm, RtError> {
        if snap.program != program.hash() {
            return Err(RtError::new(
                "checkpoint",
                "the checkpoint belongs to a different program",
            ));
        }
        let objs = decode_objects(&program, &snap.objects, &snap.cells)?;
        let mut vm = Vm::blank(program.clone(), natives, limits)?;
        vm.stack = snap
            .stack
            .iter()
            .map(|v| get(&objs, v))
            .collect::<Result<_, _>>()?;
        // The interpreter trusts frame layouts: check them, so a damaged
        // checkpoint is an error and never an out-of-bounds access.
        for f in &snap.frames {
            let Some(Value::Closure(c)) = objs.get(f.closure as usize) else {
                return Err(bad());
            };
            let func = program.functions.get(c.func as usize).ok_or_else(bad)?;
            let (ip, base, ret_to) = (f.ip as usize, f.base as usize, f.ret_to as usize);
            let module_ok = f
                .module
                .is_none_or(|m| (m as usize) < program.modules.len());
            if ip > func.code.len()
                || base + func.slots as usize > vm.stack.len()
                || ret_to > base
                || !module_ok
            {
                return Err(bad());
            }
            vm.frames.push(Frame {
                closure: c.clone(),
                ip,
                base,
                ret_to,
                module: f.module,
            });
        }
        for (frame, stack, target) in &snap.handlers {
            let (frame, stack, target) = (*frame as usize, *stack as usize, *target as usize);
            let code_len = vm
                .frames
                .get(frame)
                .and_then(|f| program.functions.get(f.closure.func as usize))
                .map(|f| f.code.len())
                .ok_or_else(bad)?;
            if stack > vm.stack.len() || target >= code_len {
                return Err(bad());
            }
            vm.handlers.push(Handler {
                frame,
                stack,
                target,
            });
        }
        if snap.modules.len() != vm.modules.len() {
            return Err(bad());
        }
        vm.modules = snap
            .modules
            .iter()
            .map(|m| {
                Ok(match m {
                    SModule::NotLoaded => ModuleState::NotLoaded,
                    SModule::Loading => ModuleState::Loading,
                    SModule::Loaded(v) => ModuleState::Loaded(get(&objs, v)?),
                })
            })
            .collect::<Result<_, RtError>>()?;
        for (sid, name, f) in &snap.methods {
            Rc::make_mut(&mut vm.methods).insert((*sid, *name), get(&objs, f)?);
        }
        for (k, v) in &snap.memory {
            vm.memory.insert(k.clone(), get(&objs, v)?);
        }
        let entries = |v: &[String]| -> Vec<crate::context::Entry> {
            v.iter()
                .map(|t| crate::context::Entry::new(t.clone()))
                .collect()
        };
        vm.context = crate::context::Context {
            system: entries(&snap.context.system),
            episodic: entries(&snap.context.episodic).into(),
            working: entries(&snap.context.working).into(),
            budget: snap.context.budget,
            policy: if snap.context.summarize {
                crate::context::Policy::Summarize
            } else {
                crate::context::Policy::Evict
            },
        };
        vm.pending = match &snap.pending {
            SPending::None => Pending::None,
            SPending::Push => Pending::Push,
            SPending::PushValue(v) => Pending::PushValue(get(&objs, v)?),
            SPending::First => Pending::First,
            SPending::Summarize {
                episodic,
                working,
                item,
            } => {
                let plan = crate::context::Summary {
                    episodic: usize::try_from(*episodic).map_err(|_| bad())?,
                    working: usize::try_from(*working).map_err(|_| bad())?,
                };
                if plan.episodic > vm.context.episodic.len()
                    || plan.working > vm.context.working.len()
                {
                    return Err(bad());
                }
                Pending::Summarize {
                    plan,
                    item: crate::context::Entry::new(item.clone()),
                }
            }
            SPending::Search { k, keys } => Pending::Search {
                k: usize::try_from(*k).unwrap_or(usize::MAX),
                keys: keys.clone(),
            },
        };
        vm.embeddings = snap
            .embeddings
            .iter()
            .map(|(k, v)| (k.clone(), Rc::new(v.clone())))
            .collect();
        vm.steps = snap.steps;
        vm.pid = snap.pid;
        let l = &snap.links;
        vm.links = crate::process::Links {
            mailbox: l
                .mailbox
                .iter()
                .map(|v| get(&objs, v))
                .collect::<Result<_, _>>()?,
            parent: l.parent,
            children: l.children.clone(),
            exits: l
                .exits
                .iter()
                .map(|(p, v)| Ok((*p, get(&objs, v)?)))
                .collect::<Result<_, RtError>>()?,
            effects: l.effects,
        };
        vm.pending_error = match &l.pending_error {
            Some((kind, message, data, fatal)) => Some(RtError {
                kind: RtError::kind_named(kind),
                message: message.clone(),
                data: get(&objs, data)?,
                fatal: *fatal,
            }),
            None => None,
        };
        Ok(vm)
    }
}

fn bad() -> RtError {
    RtError::new("checkpoint", "the checkpoint is inconsistent")
}

fn get(objs: &[Value], v: &SValue) -> Result<Value, RtError> {
    Ok(match v {
        SValue::Null => Value::Null,
        SValue::Bool(b) => Value::Bool(*b),
        SValue::Num(n) => Value::Num(*n),
        SValue::Native(i) => Value::Native(*i),
        SValue::Pid(p) => Value::Pid(*p),
        SValue::Identity(i) => Value::Identity(*i),
        SValue::Undefined => Value::Undefined,
        SValue::Obj(i) => objs.get(*i as usize).cloned().ok_or_else(bad)?,
    })
}

/// Heap objects back into values. Objects refer only to earlier objects;
/// cells are filled in at the end.
fn decode_objects(
    program: &Program,
    objects: &[SObj],
    cells: &[(u32, SValue)],
) -> Result<Vec<Value>, RtError> {
    let mut objs: Vec<Value> = Vec::with_capacity(objects.len());
    for o in objects {
        let v = match o {
            SObj::Str(s) => Value::str(s.as_str()),
            SObj::List(items) => Value::list(
                items
                    .iter()
                    .map(|x| get(&objs, x))
                    .collect::<Result<_, _>>()?,
            ),
            SObj::Map(entries) => {
                let mut m = Map::with_capacity_and_hasher(entries.len(), Default::default());
                for (k, x) in entries {
                    m.insert(k.clone(), get(&objs, x)?);
                }
                Value::map(m)
            }
            SObj::Struct { sid, fields } => {
                if program
                    .structs
                    .get(*sid as usize)
                    .is_none_or(|d| d.fields.len() != fields.len())
                {
                    return Err(bad());
                }
                let fields = fields
                    .iter()
                    .map(|x| get(&objs, x))
                    .collect::<Result<Vec<_>, _>>()?;
                Value::Struct(Rc::new(StructValue {
                    sid: *sid,
                    fields: fields.into_boxed_slice(),
                }))
            }
            SObj::Vector(xs) => Value::Vector(Rc::new(xs.clone())),
            SObj::Closure { func, upvalues } => {
                if program
                    .functions
                    .get(*func as usize)
                    .is_none_or(|f| f.upvalues.len() != upvalues.len())
                {
                    return Err(bad());
                }
                let mut cells = Vec::with_capacity(upvalues.len());
                for id in upvalues {
                    match objs.get(*id as usize) {
                        Some(Value::Cell(c)) => cells.push(c.clone()),
                        _ => return Err(bad()),
                    }
                }
                Value::Closure(Rc::new(Closure {
                    func: *func,
                    upvalues: cells.into_boxed_slice(),
                }))
            }
            SObj::Cell => Value::Cell(Rc::new(RefCell::new(Value::Undefined))),
            SObj::Uncertain {
                value,
                confidence,
                fields,
            } => Value::Uncertain(Rc::new(Uncertain {
                value: get(&objs, value)?,
                confidence: *confidence,
                fields: fields
                    .as_ref()
                    .map(|f| f.iter().cloned().collect::<IndexMap<_, _>>()),
            })),
            SObj::Error {
                kind,
                message,
                file,
                line,
                col,
                trace,
                data,
            } => Value::Error(Rc::new(ErrorValue {
                kind: kind.clone(),
                message: message.clone(),
                file: file.clone(),
                line: *line,
                col: *col,
                trace: trace
                    .iter()
                    .map(|t| TraceFrame {
                        function: t.function.clone(),
                        file: t.file.clone(),
                        line: t.line,
                        col: t.col,
                    })
                    .collect(),
                data: get(&objs, data)?,
            })),
        };
        objs.push(v);
    }
    for (id, content) in cells {
        let value = get(&objs, content)?;
        match objs.get(*id as usize) {
            Some(Value::Cell(c)) => *c.borrow_mut() = value,
            _ => return Err(bad()),
        }
    }
    Ok(objs)
}
