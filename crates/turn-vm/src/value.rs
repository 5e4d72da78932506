//! Turn values.
//!
//! Values are immutable from the program's point of view; heap values are
//! reference-counted and shared freely (sending a message or binding a
//! variable copies a pointer). The VM mutates in place only when it holds the
//! sole reference (`Rc::get_mut`), which is unobservable.

use indexmap::IndexMap;
use std::cell::RefCell;
use std::fmt::Write;
use std::rc::Rc;

/// String-keyed map with insertion order. Hashed with foldhash: several
/// times faster than SipHash on short keys, and seeded per process, so
/// hostile keys cannot be precomputed to collide.
pub type Map = IndexMap<String, Value, foldhash::fast::RandomState>;

/// A closure: a function of the program plus its captured cells.
#[derive(Debug)]
pub struct Closure {
    pub func: u32,
    pub upvalues: Box<[Cell]>,
}

/// A captured variable shared by the frames and closures that see it.
pub type Cell = Rc<RefCell<Value>>;

#[derive(Debug, Clone, PartialEq)]
pub struct StructValue {
    /// Index into the program's struct table.
    pub sid: u32,
    /// Field values in declaration order.
    pub fields: Box<[Value]>,
}

/// A value from `infer`, with the provider's certainty.
#[derive(Debug, Clone, PartialEq)]
pub struct Uncertain {
    pub value: Value,
    pub confidence: f64,
    /// Per-field confidences of an inferred struct or map, when known.
    pub fields: Option<IndexMap<String, f64>>,
}

/// A runtime error as a Turn value (what `catch (e)` binds).
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorValue {
    /// `type`, `index`, `arithmetic`, `throw`, `limit`, `infer`, …
    pub kind: String,
    pub message: String,
    pub file: String,
    pub line: u32,
    pub col: u32,
    /// The Turn call stack where it was raised, innermost first.
    pub trace: Vec<TraceFrame>,
    /// Extra data (e.g. the last raw answer of a failed `infer`).
    pub data: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TraceFrame {
    pub function: String,
    pub file: String,
    pub line: u32,
    pub col: u32,
}

impl TraceFrame {
    /// The marker standing for `n` frames left out of a deep trace.
    pub fn omitted(n: usize) -> TraceFrame {
        TraceFrame {
            function: String::new(),
            file: String::new(),
            line: n.min(u32::MAX as usize) as u32,
            col: 0,
        }
    }
    /// How many frames this marker stands for (`None` for a real frame).
    pub fn omitted_count(&self) -> Option<usize> {
        (self.file.is_empty() && self.function.is_empty() && self.col == 0)
            .then_some(self.line as usize)
    }
}

#[derive(Debug, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Num(f64),
    Str(Rc<String>),
    List(Rc<Vec<Value>>),
    Map(Rc<Map>),
    Struct(Rc<StructValue>),
    Vector(Rc<Vec<f64>>),
    Closure(Rc<Closure>),
    /// A builtin function by index into the VM's global table.
    Native(u16),
    Pid(u64),
    /// An opaque capability handle; the secret never enters the VM.
    Identity(u64),
    Uncertain(Rc<Uncertain>),
    Error(Rc<ErrorValue>),
    /// Internal: a captured local's cell in a stack slot. Never escapes to
    /// user code.
    Cell(Cell),
    /// Internal: the content of a function binding's cell before its `let`
    /// ran (functions are hoisted). Reading it is an error.
    Undefined,
}

const _: () = assert!(std::mem::size_of::<Value>() <= 16);

/// Drop a value, skipping the drop glue for scalars: the interpreter's hot
/// paths discard many numbers and booleans, and the glue (which must handle
/// every variant) is too large to inline.
#[inline(always)]
pub fn discard(v: Value) {
    if matches!(
        v,
        Value::Null
            | Value::Bool(_)
            | Value::Num(_)
            | Value::Native(_)
            | Value::Pid(_)
            | Value::Identity(_)
    ) {
        // Scalars own no resources: forgetting one frees nothing.
        std::mem::forget(v);
    } else {
        drop(v);
    }
}

impl Clone for Value {
    #[inline]
    fn clone(&self) -> Value {
        match self {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(*b),
            Value::Num(n) => Value::Num(*n),
            Value::Str(s) => Value::Str(s.clone()),
            Value::List(l) => Value::List(l.clone()),
            Value::Map(m) => Value::Map(m.clone()),
            Value::Struct(s) => Value::Struct(s.clone()),
            Value::Vector(v) => Value::Vector(v.clone()),
            Value::Closure(c) => Value::Closure(c.clone()),
            Value::Native(i) => Value::Native(*i),
            Value::Pid(p) => Value::Pid(*p),
            Value::Identity(i) => Value::Identity(*i),
            Value::Uncertain(u) => Value::Uncertain(u.clone()),
            Value::Error(e) => Value::Error(e.clone()),
            Value::Cell(c) => Value::Cell(c.clone()),
            Value::Undefined => Value::Undefined,
        }
    }
}

/// Structural equality, as Turn's `==`.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        values_equal(self, other)
    }
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(Rc::new(s.into()))
    }
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(items))
    }
    pub fn map(m: Map) -> Value {
        Value::Map(Rc::new(m))
    }

    /// Whether dropping this value may free nested values.
    fn is_container(&self) -> bool {
        matches!(
            self,
            Value::List(_)
                | Value::Map(_)
                | Value::Struct(_)
                | Value::Uncertain(_)
                | Value::Error(_)
        )
    }

    /// The value with any uncertainty wrapper removed.
    #[inline]
    pub fn plain(&self) -> &Value {
        match self {
            Value::Uncertain(u) => &u.value,
            v => v,
        }
    }

    /// Confidence of a value: 1 for certain values.
    pub fn confidence(&self) -> f64 {
        match self {
            Value::Uncertain(u) => u.confidence,
            _ => 1.0,
        }
    }

    /// Wrap with a confidence; certain (1.0) values stay plain.
    pub fn with_confidence(self, c: f64) -> Value {
        let value = match &self {
            Value::Uncertain(u) => u.value.clone(),
            _ => self,
        };
        if c >= 1.0 {
            value
        } else {
            Value::Uncertain(Rc::new(Uncertain {
                value,
                confidence: c,
                fields: None,
            }))
        }
    }

    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Num(n) => *n != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Vector(v) => !v.is_empty(),
            Value::Uncertain(u) => u.value.truthy(),
            Value::Cell(c) => c.borrow().truthy(),
            _ => true,
        }
    }

    /// The name `type_of` returns.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "Null",
            Value::Bool(_) => "Bool",
            Value::Num(_) => "Num",
            Value::Str(_) => "Str",
            Value::List(_) => "List",
            Value::Map(_) => "Map",
            Value::Struct(_) => "Struct",
            Value::Vector(_) => "Vec",
            Value::Closure(_) | Value::Native(_) => "Fn",
            Value::Pid(_) => "Pid",
            Value::Identity(_) => "Identity",
            Value::Uncertain(u) => u.value.type_name(),
            Value::Error(_) => "Error",
            Value::Cell(_) => "Cell",
            Value::Undefined => "Undefined",
        }
    }

    pub fn as_num(&self) -> Option<f64> {
        match self.plain() {
            Value::Num(n) => Some(*n),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self.plain() {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Deep structural equality, no coercion; uncertainty is ignored.
/// Closures compare by identity. Identities must be rejected by the caller.
/// Iterative, so arbitrarily deep values cannot overflow the stack.
pub fn values_equal(a: &Value, b: &Value) -> bool {
    values_equal_work(a, b).0
}

/// [`values_equal`] and the number of value pairs it compared (the VM
/// charges steps for the work).
pub fn values_equal_work(a: &Value, b: &Value) -> (bool, usize) {
    let mut visited = 0usize;
    let mut work = vec![(a, b)];
    while let Some((a, b)) = work.pop() {
        visited += 1;
        let same = match (a.plain(), b.plain()) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(x), Value::Bool(y)) => x == y,
            (Value::Num(x), Value::Num(y)) => x == y,
            (Value::Str(x), Value::Str(y)) => x == y,
            (Value::List(x), Value::List(y)) => {
                if !Rc::ptr_eq(x, y) {
                    if x.len() != y.len() {
                        return (false, visited);
                    }
                    work.extend(x.iter().zip(y.iter()));
                }
                true
            }
            (Value::Map(x), Value::Map(y)) => {
                if !Rc::ptr_eq(x, y) {
                    if x.len() != y.len() {
                        return (false, visited);
                    }
                    for (k, v) in x.iter() {
                        match y.get(k) {
                            Some(w) => work.push((v, w)),
                            None => return (false, visited),
                        }
                    }
                }
                true
            }
            (Value::Struct(x), Value::Struct(y)) => {
                if x.sid != y.sid {
                    return (false, visited);
                }
                work.extend(x.fields.iter().zip(y.fields.iter()));
                true
            }
            (Value::Vector(x), Value::Vector(y)) => x == y,
            (Value::Closure(x), Value::Closure(y)) => Rc::ptr_eq(x, y),
            (Value::Native(x), Value::Native(y)) => x == y,
            (Value::Pid(x), Value::Pid(y)) => x == y,
            (Value::Error(x), Value::Error(y)) => x.kind == y.kind && x.message == y.message,
            _ => false,
        };
        if !same {
            return (false, visited);
        }
    }
    (true, visited)
}

/// Dropping a deeply nested value must not recurse once per level: values
/// that would free children are taken apart with an explicit work list.
impl Drop for Value {
    #[inline]
    fn drop(&mut self) {
        if matches!(
            self,
            Value::List(_)
                | Value::Map(_)
                | Value::Struct(_)
                | Value::Uncertain(_)
                | Value::Error(_)
        ) {
            self.drop_deep();
        }
    }
}

impl Value {
    #[cold]
    #[inline(never)]
    fn drop_deep(&mut self) {
        let owns_children = match self {
            Value::List(l) => Rc::strong_count(l) == 1 && !l.is_empty(),
            Value::Map(m) => Rc::strong_count(m) == 1 && !m.is_empty(),
            Value::Struct(s) => Rc::strong_count(s) == 1 && !s.fields.is_empty(),
            Value::Uncertain(u) => Rc::strong_count(u) == 1 && u.value.is_container(),
            Value::Error(e) => Rc::strong_count(e) == 1 && e.data.is_container(),
            _ => false,
        };
        if !owns_children {
            return;
        }
        let mut work = vec![std::mem::take(self)];
        while let Some(mut v) = work.pop() {
            match &mut v {
                Value::List(l) => {
                    if let Some(items) = Rc::get_mut(l) {
                        work.append(items);
                    }
                }
                Value::Map(m) => {
                    if let Some(m) = Rc::get_mut(m) {
                        work.extend(m.drain(..).map(|(_, v)| v));
                    }
                }
                Value::Struct(s) => {
                    if let Some(s) = Rc::get_mut(s) {
                        work.extend(std::mem::take(&mut s.fields).into_vec());
                    }
                }
                Value::Uncertain(u) => {
                    if let Some(u) = Rc::get_mut(u) {
                        work.push(std::mem::take(&mut u.value));
                    }
                }
                Value::Error(e) => {
                    if let Some(e) = Rc::get_mut(e) {
                        work.push(std::mem::take(&mut e.data));
                    }
                }
                _ => {}
            }
            // `v` now owns no children and drops shallowly.
        }
    }
}

/// Whether a value contains an Identity anywhere (they may not be printed,
/// serialized, remembered, put in context or sent to a model).
pub fn contains_identity(v: &Value) -> bool {
    any_inside(v, |x| matches!(x, Value::Identity(_)))
}

/// Whether `v` or any value inside it (list items, map values, struct
/// fields, uncertain and error payloads; not closures' cells) satisfies
/// `found`. Iterative, so depth cannot overflow the stack.
pub fn any_inside(v: &Value, found: impl Fn(&Value) -> bool) -> bool {
    let mut work = vec![v];
    while let Some(v) = work.pop() {
        if found(v) {
            return true;
        }
        match v {
            Value::List(l) => work.extend(l.iter()),
            Value::Map(m) => work.extend(m.values()),
            Value::Struct(s) => work.extend(s.fields.iter()),
            Value::Uncertain(u) => work.push(&u.value),
            Value::Error(e) => work.push(&e.data),
            _ => {}
        }
    }
    false
}

/// Format a number the Turn way: integral values without a fraction.
pub fn format_num(n: f64, out: &mut String) {
    if n.is_nan() {
        out.push_str("NaN");
    } else if n.is_infinite() {
        out.push_str(if n > 0.0 { "Infinity" } else { "-Infinity" });
    } else if n == n.trunc() && n.abs() < 1e21 {
        if n.abs() < 9_007_199_254_740_992.0 {
            // Exact as an integer: digits by hand, without the fmt machinery.
            push_int(out, n as i64);
        } else {
            let _ = write!(out, "{n:.0}");
        }
    } else if n.abs() >= 1e21 {
        // Like JSON and JavaScript: 1e+300, not three hundred digits.
        let s = format!("{n:e}");
        match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => {
                let _ = write!(out, "{m}e+{e}");
            }
            _ => out.push_str(&s),
        }
    } else {
        let _ = write!(out, "{n}");
    }
}

/// Append the decimal digits of `i`.
fn push_int(out: &mut String, i: i64) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    let mut u = i.unsigned_abs();
    loop {
        at -= 1;
        buf[at] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if i < 0 {
        out.push('-');
    }
    for &b in &buf[at..] {
        out.push(b as char);
    }
}

pub fn num_to_string(n: f64) -> String {
    let mut s = String::new();
    format_num(n, &mut s);
    s
}

/// Write `s` as a JSON-style quoted string.
pub fn quote_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
