//! The semantics of operators, indexing and type checks, as free functions
//! over values. The interpreter calls them on its slow paths (the common
//! `Num op Num` cases are inlined in the loop).

use crate::display::display_into;
use crate::error::{RtError, RtResult};
use crate::value::{values_equal, Map, StructValue, Value};
use std::rc::Rc;
use turn_bytecode::{Program, Ty};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl Arith {
    fn symbol(self) -> &'static str {
        match self {
            Arith::Add => "+",
            Arith::Sub => "-",
            Arith::Mul => "*",
            Arith::Div => "/",
            Arith::Rem => "%",
        }
    }
}

/// `a op b` for any operands; uncertainty multiplies.
pub fn arith(op: Arith, a: Value, b: Value, p: &Program, max: usize) -> RtResult<Value> {
    let conf = a.confidence() * b.confidence();
    let a = unwrap(a);
    let b = unwrap(b);
    let v = arith_plain(op, a, b, p, max)?;
    Ok(if conf < 1.0 {
        v.with_confidence(conf)
    } else {
        v
    })
}

fn unwrap(v: Value) -> Value {
    match &v {
        Value::Uncertain(u) => u.value.clone(),
        _ => v,
    }
}

fn num_op(op: Arith, x: f64, y: f64) -> RtResult<f64> {
    Ok(match op {
        Arith::Add => x + y,
        Arith::Sub => x - y,
        Arith::Mul => x * y,
        Arith::Div => {
            if y == 0.0 {
                return Err(RtError::arithmetic("division by zero"));
            }
            x / y
        }
        Arith::Rem => {
            if y == 0.0 {
                return Err(RtError::arithmetic("remainder by zero"));
            }
            rem(x, y)
        }
    })
}

pub use turn_bytecode::op::rem;

fn arith_plain(op: Arith, mut a: Value, b: Value, p: &Program, max: usize) -> RtResult<Value> {
    match (op, &mut a, &b) {
        (_, Value::Num(x), Value::Num(y)) => Ok(Value::Num(num_op(op, *x, *y)?)),
        (Arith::Add, Value::Str(s), b) => {
            // Grows in place when this is the only reference.
            let out = Rc::make_mut(s);
            let before = out.len();
            display_into(b, p, out)?;
            if out.len() > max {
                out.truncate(before);
                check_len(max + 1, max, "string")?;
            }
            Ok(a)
        }
        (Arith::Add, a, Value::Str(s)) => {
            let mut out = String::new();
            display_into(a, p, &mut out)?;
            out.push_str(s);
            check_len(out.len(), max, "string")?;
            Ok(Value::Str(Rc::new(out)))
        }
        (Arith::Add, Value::List(x), Value::List(y)) => {
            check_len(x.len() + y.len(), max, "list")?;
            Rc::make_mut(x).extend(y.iter().cloned());
            Ok(a)
        }
        (Arith::Add, Value::Map(x), Value::Map(y)) => {
            let out = Rc::make_mut(x);
            for (k, v) in y.iter() {
                out.insert(k.clone(), v.clone());
            }
            check_len(out.len(), max, "map")?;
            Ok(a)
        }
        (_, Value::Vector(x), Value::Vector(y))
            if matches!(op, Arith::Add | Arith::Sub | Arith::Mul) =>
        {
            if x.len() != y.len() {
                return Err(RtError::value_error(format!(
                    "vectors of different lengths ({} and {}) cannot be combined with `{}`",
                    x.len(),
                    y.len(),
                    op.symbol()
                )));
            }
            let out = x
                .iter()
                .zip(y.iter())
                .map(|(a, b)| num_op(op, *a, *b))
                .collect::<RtResult<Vec<f64>>>()?;
            Ok(Value::Vector(Rc::new(out)))
        }
        (Arith::Mul | Arith::Div, Value::Vector(x), Value::Num(k)) => {
            let out = x
                .iter()
                .map(|a| num_op(op, *a, *k))
                .collect::<RtResult<Vec<f64>>>()?;
            Ok(Value::Vector(Rc::new(out)))
        }
        (Arith::Mul, Value::Num(k), Value::Vector(x)) => {
            Ok(Value::Vector(Rc::new(x.iter().map(|a| a * *k).collect())))
        }
        (op, a, b) => Err(RtError::type_error(format!(
            "cannot apply `{}` to {} and {}",
            op.symbol(),
            article(a.type_name()),
            article(b.type_name())
        ))),
    }
}

pub fn check_len(len: usize, max: usize, what: &str) -> RtResult<()> {
    if len > max {
        Err(RtError::limit(format!(
            "{what} would exceed the size limit of {max}"
        )))
    } else {
        Ok(())
    }
}

/// "a Num", "an Identity" …
pub fn article(name: &str) -> String {
    let vowel = name.chars().next().is_some_and(|c| "AEIOU".contains(c));
    format!("{} {name}", if vowel { "an" } else { "a" })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
}

pub fn compare(op: Cmp, a: &Value, b: &Value) -> RtResult<Value> {
    let conf = a.confidence().min(b.confidence());
    let ord = match (a.plain(), b.plain()) {
        (Value::Num(x), Value::Num(y)) => x.partial_cmp(y),
        (Value::Str(x), Value::Str(y)) => Some(x.as_str().cmp(y.as_str())),
        (x, y) => {
            return Err(RtError::type_error(format!(
                "cannot compare {} with {}",
                article(x.type_name()),
                article(y.type_name())
            )))
        }
    };
    let r = match ord {
        None => false,
        Some(o) => match op {
            Cmp::Lt => o.is_lt(),
            Cmp::Le => o.is_le(),
            Cmp::Gt => o.is_gt(),
            Cmp::Ge => o.is_ge(),
        },
    };
    Ok(Value::Bool(r).with_confidence(conf))
}

/// `a == b` and the work it took (value pairs compared).
pub fn equal_work(a: &Value, b: &Value) -> RtResult<(Value, usize)> {
    if matches!(a.plain(), Value::Identity(_)) || matches!(b.plain(), Value::Identity(_)) {
        return Err(RtError::identity("identities cannot be compared"));
    }
    let conf = a.confidence().min(b.confidence());
    let (eq, work) = crate::value::values_equal_work(a, b);
    Ok((Value::Bool(eq).with_confidence(conf), work))
}

pub fn equal(a: &Value, b: &Value) -> RtResult<Value> {
    if matches!(a.plain(), Value::Identity(_)) || matches!(b.plain(), Value::Identity(_)) {
        return Err(RtError::identity("identities cannot be compared"));
    }
    let conf = a.confidence().min(b.confidence());
    Ok(Value::Bool(values_equal(a, b)).with_confidence(conf))
}

/// Cosine similarity `a ~> b`.
pub fn similar(a: &Value, b: &Value) -> RtResult<Value> {
    let (Value::Vector(x), Value::Vector(y)) = (a.plain(), b.plain()) else {
        return Err(RtError::type_error(format!(
            "`~>` compares two vectors, found {} and {}",
            article(a.type_name()),
            article(b.type_name())
        )));
    };
    if x.len() != y.len() {
        return Err(RtError::value_error(format!(
            "vectors of different lengths ({} and {})",
            x.len(),
            y.len()
        )));
    }
    let dot: f64 = x.iter().zip(y.iter()).map(|(a, b)| a * b).sum();
    let nx = x.iter().map(|a| a * a).sum::<f64>().sqrt();
    let ny = y.iter().map(|a| a * a).sum::<f64>().sqrt();
    if nx == 0.0 || ny == 0.0 {
        return Err(RtError::arithmetic(
            "cosine similarity with a zero vector is undefined",
        ));
    }
    Ok(Value::Num(dot / (nx * ny)).with_confidence(a.confidence() * b.confidence()))
}

/// An index that must be integral; negative counts from the end.
/// `Ok(None)` when out of range.
pub fn resolve_index(i: f64, len: usize) -> RtResult<Option<usize>> {
    if !i.is_finite() || i.fract() != 0.0 {
        return Err(RtError::value_error(format!(
            "index must be a whole number, found {}",
            crate::value::num_to_string(i)
        )));
    }
    let idx = if i < 0.0 { len as f64 + i } else { i };
    Ok(if idx >= 0.0 && idx < len as f64 {
        Some(idx as usize)
    } else {
        None
    })
}

pub fn get_index(base: &Value, index: &Value, p: &Program) -> RtResult<Value> {
    let conf = base.confidence() * index.confidence();
    let v = match (base.plain(), index.plain()) {
        (Value::List(l), Value::Num(i)) => match resolve_index(*i, l.len())? {
            Some(i) => l[i].clone(),
            None => Value::Null,
        },
        (Value::Str(s), Value::Num(i)) => {
            let n = if s.is_ascii() {
                s.len()
            } else {
                s.chars().count()
            };
            match resolve_index(*i, n)? {
                Some(i) if s.is_ascii() => Value::str(&s[i..i + 1]),
                Some(i) => s
                    .chars()
                    .nth(i)
                    .map(|c| Value::str(c.to_string()))
                    .unwrap_or(Value::Null),
                None => Value::Null,
            }
        }
        (Value::Vector(v), Value::Num(i)) => match resolve_index(*i, v.len())? {
            Some(i) => Value::Num(v[i]),
            None => Value::Null,
        },
        (Value::Map(m), Value::Str(k)) => m.get(k.as_str()).cloned().unwrap_or(Value::Null),
        (Value::Struct(_) | Value::Error(_), Value::Str(k)) => return get_field(base, k, p),
        (b, i) => {
            return Err(RtError::type_error(format!(
                "cannot index {} with {}",
                article(b.type_name()),
                article(i.type_name())
            )))
        }
    };
    Ok(if conf < 1.0 {
        let c = v.confidence() * conf;
        v.with_confidence(c)
    } else {
        v
    })
}

pub fn get_field(base: &Value, name: &str, p: &Program) -> RtResult<Value> {
    match base {
        Value::Struct(s) => {
            let def = p.structs.get(s.sid as usize);
            match def.and_then(|d| d.field_index(name)) {
                Some(i) => Ok(s.fields[i].clone()),
                None => Err(RtError::new(
                    "field",
                    format!(
                        "no field `{name}` on struct `{}`",
                        def.map(|d| d.name.as_str()).unwrap_or("?")
                    ),
                )),
            }
        }
        Value::Map(m) => Ok(m.get(name).cloned().unwrap_or(Value::Null)),
        Value::Error(e) => Ok(match name {
            "kind" => Value::str(&e.kind),
            "message" => Value::str(&e.message),
            "line" => Value::Num(e.line as f64),
            "col" => Value::Num(e.col as f64),
            "file" => Value::str(&e.file),
            "data" => e.data.clone(),
            _ => {
                return Err(RtError::new(
                    "field",
                    format!(
                    "an Error has no field `{name}` (it has kind, message, line, col, file, data)"
                ),
                ))
            }
        }),
        Value::Uncertain(u) => {
            let field_conf = u
                .fields
                .as_ref()
                .and_then(|f| f.get(name))
                .copied()
                .unwrap_or(u.confidence);
            let v = get_field(&u.value, name, p)?;
            Ok(v.with_confidence(field_conf))
        }
        other => Err(RtError::type_error(format!(
            "cannot read field `{name}` of {}",
            article(other.type_name())
        ))),
    }
}

/// `base` with `base[index] = value`, reusing `base`'s storage when unshared.
pub fn set_index(base: &mut Value, index: &Value, value: Value, p: &Program) -> RtResult<()> {
    match (base, index.plain()) {
        (Value::List(l), Value::Num(i)) => {
            let len = l.len();
            match resolve_index(*i, len)? {
                Some(i) => {
                    Rc::make_mut(l)[i] = value;
                    Ok(())
                }
                None => Err(RtError::new(
                    "index",
                    format!(
                        "index {} is out of range for a list of length {len}",
                        crate::value::num_to_string(*i)
                    ),
                )),
            }
        }
        (Value::Map(m), Value::Str(k)) => {
            make_mut_map(m).insert(k.to_string(), value);
            Ok(())
        }
        (b @ Value::Struct(_), Value::Str(k)) => {
            let k = k.to_string();
            set_field(b, &k, value, p)
        }
        (b, i) => Err(RtError::type_error(format!(
            "cannot assign to an index of {} with {}",
            article(b.type_name()),
            article(i.type_name())
        ))),
    }
}

pub fn set_field(base: &mut Value, name: &str, value: Value, p: &Program) -> RtResult<()> {
    match base {
        Value::Struct(s) => {
            let def = p.structs.get(s.sid as usize);
            let Some((i, ty)) = def.and_then(|d| d.field_index(name).map(|i| (i, &d.fields[i].1)))
            else {
                return Err(RtError::new(
                    "field",
                    format!(
                        "no field `{name}` on struct `{}`",
                        def.map(|d| d.name.as_str()).unwrap_or("?")
                    ),
                ));
            };
            if !conforms(&value, ty, p) {
                return Err(RtError::type_error(format!(
                    "field `{name}` of `{}` expects `{}`, found {}",
                    def.map(|d| d.name.as_str()).unwrap_or("?"),
                    ty.display(&p.structs),
                    mismatch(&value, ty, p)
                )));
            }
            make_mut_struct(s).fields[i] = value;
            Ok(())
        }
        Value::Map(m) => {
            make_mut_map(m).insert(name.to_string(), value);
            Ok(())
        }
        other => Err(RtError::type_error(format!(
            "cannot assign field `{name}` of {}",
            article(other.type_name())
        ))),
    }
}

fn make_mut_map(m: &mut Rc<Map>) -> &mut Map {
    Rc::make_mut(m)
}
fn make_mut_struct(s: &mut Rc<StructValue>) -> &mut StructValue {
    Rc::make_mut(s)
}

/// Whether `v` is a value of type `ty` (deep: list elements, map values).
pub fn conforms(v: &Value, ty: &Ty, p: &Program) -> bool {
    conforms_work(v, ty, p).0
}

/// [`conforms`] and the number of values it checked.
pub fn conforms_work(v: &Value, ty: &Ty, _p: &Program) -> (bool, usize) {
    let mut visited = 0usize;
    let mut work = vec![(v, ty)];
    while let Some((v, ty)) = work.pop() {
        visited += 1;
        let v = v.plain();
        let ok = match ty {
            Ty::Any => true,
            Ty::Void => matches!(v, Value::Null),
            Ty::Num => matches!(v, Value::Num(_)),
            Ty::Str => matches!(v, Value::Str(_)),
            Ty::Bool => matches!(v, Value::Bool(_)),
            Ty::Pid => matches!(v, Value::Pid(_)),
            Ty::Vec => matches!(v, Value::Vector(_)),
            Ty::Identity => matches!(v, Value::Identity(_)),
            Ty::Fn { .. } => matches!(v, Value::Closure(_) | Value::Native(_)),
            Ty::Struct(sid) => matches!(v, Value::Struct(s) if s.sid == *sid),
            Ty::Optional(t) => {
                if !matches!(v, Value::Null) {
                    work.push((v, t));
                }
                true
            }
            Ty::List(t) => match v {
                Value::List(l) => {
                    if !matches!(**t, Ty::Any) {
                        work.extend(l.iter().map(|x| (x, &**t)));
                    }
                    true
                }
                _ => false,
            },
            Ty::Map(t) => match v {
                Value::Map(m) => {
                    if !matches!(**t, Ty::Any) {
                        work.extend(m.values().map(|x| (x, &**t)));
                    }
                    true
                }
                _ => false,
            },
        };
        if !ok {
            return (false, visited);
        }
    }
    (true, visited)
}

/// Describe what in `v` does not fit `ty` (after `conforms` said it does not):
/// "a Str", or "a List whose element 2 is a Num".
pub fn mismatch(v: &Value, ty: &Ty, p: &Program) -> String {
    let v = v.plain();
    let inner = |x: &Value, t: &Ty| !conforms(x, t, p);
    match (ty, v) {
        (Ty::Optional(t), _) if !matches!(v, Value::Null) => mismatch(v, t, p),
        (Ty::List(t), Value::List(items)) => match items.iter().position(|x| inner(x, t)) {
            Some(i) => format!("a List whose element {i} is {}", mismatch(&items[i], t, p)),
            None => article(&describe_type(v, p)),
        },
        (Ty::Map(t), Value::Map(m)) => match m.iter().find(|(_, x)| inner(x, t)) {
            Some((k, x)) => format!("a Map whose key {k:?} is {}", mismatch(x, t, p)),
            None => article(&describe_type(v, p)),
        },
        _ => article(&describe_type(v, p)),
    }
}

/// The name of a value's type as a Turn type would be written (struct names
/// included), for error messages.
pub fn describe_type(v: &Value, p: &Program) -> String {
    match v.plain() {
        Value::Struct(s) => p
            .structs
            .get(s.sid as usize)
            .map(|d| d.name.clone())
            .unwrap_or_else(|| "Struct".into()),
        other => other.type_name().to_string(),
    }
}
