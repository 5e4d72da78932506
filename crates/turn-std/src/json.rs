//! Conversion between Turn values and JSON (`serde_json::Value`).
//!
//! Used by std/json and by the runtime wherever a value crosses into JSON
//! (tool arguments, `--json` output, model answers). Rules: integral numbers
//! below 2^53 become JSON integers (so `3` never prints as `3.0`); NaN and
//! infinities have no JSON form and are refused; structs become objects with
//! their fields in declaration order; maps keep insertion order. Functions and
//! pids cannot be converted, and an Identity is refused with a message that
//! says nothing about it.
//!
//! Both directions work with an explicit stack, not recursion, so nesting is
//! bounded by [`MAX_DEPTH`] rather than by the thread's stack size.

use serde_json::{Number, Value as Json};
use std::rc::Rc;
use turn_bytecode::{Program, Ty};
use turn_vm::value::Map;
use turn_vm::{RtError, RtResult, Value};

/// Nesting deeper than this is refused, in both directions: it is the
/// recursion limit of serde_json's parser, so whatever `json.stringify`
/// writes, `json.parse` reads back.
pub const MAX_DEPTH: usize = 128;

/// How many nodes one conversion may produce. Values share structure, so a
/// small value can stand for an enormous tree; this stops such a tree from
/// being expanded.
pub const MAX_NODES: usize = 1 << 24;

/// 2^53: past this not every integer is representable in a double.
const MAX_SAFE: f64 = 9_007_199_254_740_992.0;

/// Convert a Turn value to JSON.
pub fn to_json(v: &Value, program: &Program) -> RtResult<Json> {
    to_json_limited(v, program, MAX_NODES)
}

/// [`to_json`] producing at most `max_nodes` JSON nodes. The nodes are
/// counted before anything is built, so a refused value costs no memory.
pub fn to_json_limited(v: &Value, program: &Program, max_nodes: usize) -> RtResult<Json> {
    check_nodes(v, max_nodes)?;
    convert(v, program)
}

fn json_error(message: impl Into<String>) -> RtError {
    RtError::new("json", message)
}

fn too_deep() -> RtError {
    RtError::limit(format!(
        "value is nested more than {MAX_DEPTH} levels deep to convert to JSON"
    ))
}

/// Fail when `v` would expand to more than `max` JSON nodes.
fn check_nodes(v: &Value, max: usize) -> RtResult<()> {
    let too_large = || RtError::limit("value is too large to convert to JSON");
    let mut left = max;
    let mut work: Vec<(&Value, usize)> = vec![(v, 0)];
    while let Some((v, depth)) = work.pop() {
        if depth > MAX_DEPTH {
            return Err(too_deep());
        }
        let own = match v {
            Value::Vector(xs) => xs.len().saturating_add(1),
            _ => 1,
        };
        left = left.checked_sub(own).ok_or_else(too_large)?;
        match v {
            Value::List(items) => work.extend(items.iter().map(|x| (x, depth + 1))),
            Value::Map(m) => work.extend(m.values().map(|x| (x, depth + 1))),
            Value::Struct(s) => work.extend(s.fields.iter().map(|x| (x, depth + 1))),
            Value::Uncertain(u) => work.push((&u.value, depth)),
            Value::Cell(c) => check_nodes(&c.borrow(), left)?,
            _ => {}
        }
    }
    Ok(())
}

/// A Turn number as a JSON number.
pub fn num_to_json(n: f64) -> RtResult<Json> {
    if !n.is_finite() {
        let what = if n.is_nan() {
            "NaN"
        } else {
            "an infinite number"
        };
        return Err(json_error(format!("{what} cannot be converted to JSON")));
    }
    if n.fract() == 0.0 && n.abs() < MAX_SAFE {
        // Exact: integral and within i64's range.
        return Ok(Json::Number(Number::from(n as i64)));
    }
    Number::from_f64(n)
        .map(Json::Number)
        .ok_or_else(|| json_error("this number cannot be converted to JSON"))
}

/// A list, map or struct being converted: the children still to visit and
/// the JSON built so far.
enum Open<'a> {
    List(std::slice::Iter<'a, Value>, Vec<Json>),
    Map(
        indexmap::map::Iter<'a, String, Value>,
        serde_json::Map<String, Json>,
        String,
    ),
    Struct(
        std::iter::Zip<std::slice::Iter<'a, (String, Ty)>, std::slice::Iter<'a, Value>>,
        serde_json::Map<String, Json>,
        String,
    ),
}

impl<'a> Open<'a> {
    /// The next child to convert, or `None` when all are done.
    fn next_child(&mut self) -> Option<&'a Value> {
        match self {
            Open::List(items, _) => items.next(),
            Open::Map(entries, _, key) => entries.next().map(|(k, v)| {
                k.clone_into(key);
                v
            }),
            Open::Struct(fields, _, key) => fields.next().map(|((name, _), v)| {
                name.clone_into(key);
                v
            }),
        }
    }

    fn add(&mut self, j: Json) {
        match self {
            Open::List(_, out) => out.push(j),
            Open::Map(_, out, key) | Open::Struct(_, out, key) => {
                out.insert(std::mem::take(key), j);
            }
        }
    }

    fn finish(self) -> Json {
        match self {
            Open::List(_, out) => Json::Array(out),
            Open::Map(_, out, _) | Open::Struct(_, out, _) => Json::Object(out),
        }
    }
}

/// Either a finished JSON value or a container to fill.
enum Step<'a> {
    Done(Json),
    Open(Open<'a>),
}

fn step<'a>(v: &'a Value, p: &'a Program) -> RtResult<Step<'a>> {
    let mut v = v;
    while let Value::Uncertain(u) = v {
        v = &u.value;
    }
    Ok(Step::Done(match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Num(n) => num_to_json(*n)?,
        Value::Str(s) => Json::String(s.as_str().to_owned()),
        Value::List(items) => {
            return Ok(Step::Open(Open::List(
                items.iter(),
                Vec::with_capacity(items.len()),
            )))
        }
        Value::Map(m) => {
            let out = serde_json::Map::with_capacity(m.len());
            return Ok(Step::Open(Open::Map(m.iter(), out, String::new())));
        }
        Value::Struct(s) => {
            let def = p.structs.get(s.sid as usize).ok_or_else(|| {
                RtError::internal(format!("struct {} is not in the program", s.sid))
            })?;
            if def.fields.len() != s.fields.len() {
                return Err(RtError::internal(format!(
                    "struct {} has the wrong number of fields",
                    def.name
                )));
            }
            let out = serde_json::Map::with_capacity(s.fields.len());
            return Ok(Step::Open(Open::Struct(
                def.fields.iter().zip(s.fields.iter()),
                out,
                String::new(),
            )));
        }
        Value::Vector(xs) => Json::Array(
            xs.iter()
                .map(|x| num_to_json(*x))
                .collect::<RtResult<Vec<_>>>()?,
        ),
        Value::Error(e) => {
            let mut obj = serde_json::Map::new();
            obj.insert("kind".into(), Json::String(e.kind.clone()));
            obj.insert("message".into(), Json::String(e.message.clone()));
            obj.insert("line".into(), Json::Number(Number::from(e.line)));
            obj.insert("col".into(), Json::Number(Number::from(e.col)));
            Json::Object(obj)
        }
        Value::Closure(_) | Value::Native(_) => {
            return Err(json_error("a function cannot be converted to JSON"))
        }
        Value::Pid(_) => return Err(json_error("a Pid cannot be converted to JSON")),
        Value::Identity(_) => {
            return Err(RtError::identity("an Identity cannot be converted to JSON"))
        }
        // Cells never hold cells, so this recursion is one level deep.
        Value::Cell(c) => convert(&c.borrow(), p)?,
        Value::Uncertain(_) => return Err(RtError::internal("uncertain value not unwrapped")),
        Value::Undefined => return Err(RtError::internal("an undefined binding escaped")),
    }))
}

fn convert(root: &Value, p: &Program) -> RtResult<Json> {
    let mut stack: Vec<Open> = Vec::new();
    let mut next = root;
    loop {
        let mut done = match step(next, p)? {
            Step::Done(j) => j,
            Step::Open(mut open) => match open.next_child() {
                Some(child) => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(too_deep());
                    }
                    stack.push(open);
                    next = child;
                    continue;
                }
                None => open.finish(),
            },
        };
        // Hand `done` to its parent; close parents that have no children left.
        loop {
            let Some(top) = stack.last_mut() else {
                return Ok(done);
            };
            top.add(done);
            if let Some(child) = top.next_child() {
                next = child;
                break;
            }
            done = match stack.pop() {
                Some(open) => open.finish(),
                None => return Err(RtError::internal("JSON conversion lost its place")),
            };
        }
    }
}

/// A JSON array or object being converted to a Turn value.
enum Build<'j> {
    List(std::slice::Iter<'j, Json>, Vec<Value>),
    Map(serde_json::map::Iter<'j>, Map, String),
}

impl<'j> Build<'j> {
    fn next_child(&mut self) -> Option<&'j Json> {
        match self {
            Build::List(items, _) => items.next(),
            Build::Map(entries, _, key) => entries.next().map(|(k, v)| {
                k.clone_into(key);
                v
            }),
        }
    }

    fn add(&mut self, v: Value) {
        match self {
            Build::List(_, out) => out.push(v),
            Build::Map(_, out, key) => {
                out.insert(std::mem::take(key), v);
            }
        }
    }

    fn finish(self) -> Value {
        match self {
            Build::List(_, out) => Value::List(Rc::new(out)),
            Build::Map(_, out, _) => Value::map(out),
        }
    }
}

/// Convert JSON to a Turn value: numbers become `Num`, objects become maps in
/// their original key order.
pub fn from_json(j: &Json) -> Value {
    let mut stack: Vec<Build> = Vec::new();
    let mut next = j;
    loop {
        let open = match next {
            Json::Null | Json::Bool(_) | Json::Number(_) | Json::String(_) => None,
            Json::Array(items) => Some(Build::List(items.iter(), Vec::with_capacity(items.len()))),
            Json::Object(obj) => Some(Build::Map(
                obj.iter(),
                Map::with_capacity_and_hasher(obj.len(), Default::default()),
                String::new(),
            )),
        };
        let mut done = match open {
            None => scalar(next),
            Some(mut build) => match build.next_child() {
                Some(child) => {
                    stack.push(build);
                    next = child;
                    continue;
                }
                None => build.finish(),
            },
        };
        // Hand `done` to its parent; close parents that have no children left.
        loop {
            let Some(top) = stack.last_mut() else {
                return done;
            };
            top.add(done);
            if let Some(child) = top.next_child() {
                next = child;
                break;
            }
            done = match stack.pop() {
                Some(build) => build.finish(),
                None => Value::Null,
            };
        }
    }
}

fn scalar(j: &Json) -> Value {
    match j {
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => Value::Num(n.as_f64().unwrap_or(f64::NAN)),
        Json::String(s) => Value::str(s.as_str()),
        _ => Value::Null,
    }
}
