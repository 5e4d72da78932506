//! What makes a VM a process among others: its mailbox, its links, the exit
//! messages of its linked children, and how a child starts.
//!
//! The VM never touches another process. `spawn`, `send`, `receive` on an
//! empty mailbox and `gather` of unfinished children stop the VM with an
//! [`Effect`](crate::Effect); the scheduler (in `turn-runtime`) owns the
//! process table and calls the methods here to move messages between VMs.

use crate::error::RtError;
use crate::ops::{article, describe_type};
use crate::value::{Map, Value};
use crate::vm::{ModuleState, Pending, Vm};
use std::rc::Rc;

/// A process's place among the others: everything here is checkpointed.
#[derive(Debug, Default, Clone)]
pub struct Links {
    /// Messages not yet received, oldest first.
    pub mailbox: std::collections::VecDeque<Value>,
    /// The process this one is linked to as a child (`spawn_link`).
    pub parent: Option<u64>,
    /// Children linked to this process, in spawn order.
    pub children: Vec<u64>,
    /// Exit messages of linked children that `gather` has not taken yet.
    pub exits: std::collections::BTreeMap<u64, Value>,
    /// Effects this process has asked the outside world for (numbers the
    /// effect log and idempotency keys).
    pub effects: u64,
}

/// The exit message a linked parent receives: `{"type": "exit", "pid": p,
/// "reason": "normal", "result": v}`, `reason: "error"` with `error: e`, or
/// `reason: "killed"`.
pub fn exit_message(pid: u64, end: &End) -> Value {
    let mut m = Map::default();
    m.insert("type".into(), Value::str("exit"));
    m.insert("pid".into(), Value::Pid(pid));
    match end {
        End::Normal(v) => {
            m.insert("reason".into(), Value::str("normal"));
            m.insert("result".into(), v.clone());
        }
        End::Error(e) => {
            m.insert("reason".into(), Value::str("error"));
            m.insert("error".into(), e.clone());
        }
        End::Killed => {
            m.insert("reason".into(), Value::str("killed"));
        }
    }
    Value::map(m)
}

/// How a process ended.
#[derive(Debug, Clone)]
pub enum End {
    Normal(Value),
    /// The uncaught error value.
    Error(Value),
    Killed,
}

impl Vm {
    pub fn pid(&self) -> u64 {
        self.pid
    }

    pub fn links(&self) -> &Links {
        &self.links
    }

    /// The next effect number of this process (and count it).
    pub fn next_effect(&mut self) -> u64 {
        self.links.effects += 1;
        self.links.effects
    }

    /// A child process `pid` that calls `func(args…)`, sharing this
    /// process's program, methods and loaded modules (all immutable) and
    /// nothing else: empty stack of its own, empty context, memory and
    /// mailbox. `func` must be a Turn closure; its captured variables are
    /// copied, so neither side sees the other's later assignments.
    pub fn spawn_child(
        &self,
        pid: u64,
        func: &Value,
        args: Vec<Value>,
        link: bool,
    ) -> Result<Vm, RtError> {
        let Value::Closure(c) = func.plain() else {
            let found = match func.plain() {
                Value::Native(i) => format!(
                    "the builtin `{}`",
                    self.natives
                        .get(*i as usize)
                        .map(|n| crate::vm::native_display_name(n.name))
                        .unwrap_or_default()
                ),
                other => article(&describe_type(other, &self.program)),
            };
            return Err(RtError::type_error(format!(
                "`spawn` needs a function written in Turn (`turn(…) {{ … }}`), found {found}"
            )));
        };
        let f = self
            .program
            .functions
            .get(c.func as usize)
            .ok_or_else(|| RtError::internal("bad function"))?;
        let argc = args.len();
        if argc < f.min_arity as usize || argc > f.arity as usize {
            return Err(RtError::new(
                "call",
                format!(
                    "a spawned function is called with {argc} argument{}, but `{}` takes {}",
                    if argc == 1 { "" } else { "s" },
                    f.name,
                    if f.min_arity == f.arity {
                        f.arity.to_string()
                    } else {
                        format!("{} to {}", f.min_arity, f.arity)
                    }
                ),
            ));
        }
        let func = crate::snapshot::isolate(func, &self.program)?;
        let mut child = Vm {
            program: self.program.clone(),
            consts: self.consts.clone(),
            natives: self.natives.clone(),
            stack: Vec::with_capacity(16),
            frames: Vec::new(),
            handlers: Vec::new(),
            // Module state is per process: a module the child uses runs again
            // in the child (its variables are the child's own). What the
            // spawned closure captured from the parent is copied below.
            modules: vec![ModuleState::NotLoaded; self.modules.len()],
            methods: self.methods.clone(),
            memory: Map::default(),
            embeddings: Default::default(),
            context: crate::context::Context::default(),
            pending: Pending::None,
            pending_error: None,
            steps: 0,
            pid,
            limits: self.limits.clone(),
            echo: self.echo,
            forget: self.forget,
            search: self.search,
            embed: self.embed,
            links: Links {
                parent: link.then_some(self.pid),
                ..Links::default()
            },
        };
        child.stack.push(func);
        for a in args {
            child
                .stack
                .push(crate::snapshot::isolate(&a, &self.program)?);
        }
        child.call_value(0, argc)?;
        Ok(child)
    }

    /// Record a child this process is linked to.
    pub fn add_child(&mut self, pid: u64) {
        self.links.children.push(pid);
    }

    /// Put a message at the end of the mailbox (the caller isolates it).
    pub fn push_message(&mut self, msg: Value) {
        self.links.mailbox.push_back(msg);
    }

    /// Take the oldest message.
    /// Take the oldest message. An exit message taken here stays available
    /// to `gather` until it is gathered.
    pub fn take_message(&mut self) -> Option<Value> {
        self.links.mailbox.pop_front()
    }

    /// A linked child ended: its exit message goes to the mailbox and is
    /// kept for `gather`.
    pub fn child_exited(&mut self, pid: u64, msg: Value) {
        self.links.exits.insert(pid, msg.clone());
        self.links.mailbox.push_back(msg);
    }

    /// Check that `gather` may wait for these pids.
    pub fn check_gather(&self, pids: &[u64]) -> Result<(), RtError> {
        for p in pids {
            // Pids grow, so `children` is sorted.
            if self.links.children.binary_search(p).is_err() {
                return Err(RtError::new(
                    "process",
                    format!(
                        "`gather` waits only for linked children, and <pid {p}> is not linked \
                         to this process (start it with `spawn_link` or `spawn_each`)"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The results of `gather pids` if every child has ended: a normal
    /// child's result, a failed child's error value. Their exit messages
    /// leave the mailbox (gather has consumed them).
    pub fn take_gathered(&mut self, pids: &[u64]) -> Option<Value> {
        if !pids.iter().all(|p| self.links.exits.contains_key(p)) {
            return None;
        }
        let mut out = Vec::with_capacity(pids.len());
        for p in pids {
            let Some(msg) = self.links.exits.get(p).cloned() else {
                continue;
            };
            if let Value::Map(m) = &msg {
                out.push(
                    m.get("result")
                        .or_else(|| m.get("error"))
                        .cloned()
                        .unwrap_or_else(|| killed_error(*p)),
                );
            }
        }
        // Their exit messages leave the mailbox, in one pass.
        let taken: std::collections::HashMap<u64, Value> = pids
            .iter()
            .filter_map(|p| self.links.exits.remove(p).map(|m| (*p, m)))
            .collect();
        self.links.mailbox.retain(|m| {
            let Value::Map(map) = m else { return true };
            match map.get("pid") {
                Some(Value::Pid(p)) => !taken.get(p).is_some_and(|x| same(x, m)),
                _ => true,
            }
        });
        Some(Value::list(out))
    }

    /// The process's memory, in insertion order.
    pub fn memory(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.memory.iter()
    }

    /// Replace the memory (loading an agent's persistent memory).
    pub fn set_memory(&mut self, entries: Vec<(String, Value)>) {
        self.memory = entries.into_iter().collect();
        self.embeddings.clear();
    }

    pub fn context(&self) -> &crate::context::Context {
        &self.context
    }

    /// The source position the process is stopped at (for reports).
    pub fn position(&self) -> Option<crate::value::TraceFrame> {
        self.trace().into_iter().next()
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Map(x), Value::Map(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}

fn killed_error(pid: u64) -> Value {
    Value::Error(Rc::new(crate::value::ErrorValue {
        kind: "killed".into(),
        message: format!("<pid {pid}> was stopped"),
        file: String::new(),
        line: 0,
        col: 0,
        trace: Vec::new(),
        data: Value::Null,
    }))
}
