//! The friendly builtins every program sees as globals: `len`, `push`,
//! `keys`, `values`, `str`, `num`, `type_of`, `print`, `echo`, `range`, and
//! the compatibility names `list_push` and `list_contains`.

use crate::args::{kind_name, limit_error, quote_short, Args};
use crate::text::display_limited;
use std::rc::Rc;
use turn_vm::{Effect, Flow, NativeCx, NativeResult, RtError, Value};

pub(crate) fn len(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("len", cx, args);
    let n = match a.get(0) {
        Value::Str(s) => s.chars().count(),
        Value::List(l) => l.len(),
        Value::Map(m) => m.len(),
        Value::Vector(v) => v.len(),
        Value::Struct(s) => s.fields.len(),
        _ => return Err(a.wrong(0, "Str, List, Map, Vec or struct").into()),
    };
    Ok(Value::Num(n as f64))
}

pub(crate) fn push_named(name: &'static str, cx: &NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new(name, cx, args);
    let list = a.list(0)?;
    a.check_size(list.len().saturating_add(1))?;
    let mut out = Vec::with_capacity(list.len() + 1);
    out.extend_from_slice(list);
    out.push(args.get(1).cloned().unwrap_or_default());
    Ok(Value::list(out))
}

pub(crate) fn push(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    push_named("push", cx, args)
}

pub(crate) fn list_push(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    push_named("list_push", cx, args)
}

/// Field names of a struct value, in declaration order.
fn struct_fields<'p>(a: &Args<'p>, sid: u32) -> Result<Vec<&'p str>, Flow> {
    let def = a
        .program
        .structs
        .get(sid as usize)
        .ok_or_else(|| RtError::internal(format!("struct {sid} is not in the program")))?;
    Ok(def.fields.iter().map(|f| f.0.as_str()).collect())
}

pub(crate) fn keys(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("keys", cx, args);
    let out: Vec<Value> = match a.get(0) {
        Value::Map(m) => m.keys().map(|k| Value::str(k.as_str())).collect(),
        Value::Struct(s) => struct_fields(&a, s.sid)?
            .into_iter()
            .map(Value::str)
            .collect(),
        _ => return Err(a.wrong(0, "Map or struct").into()),
    };
    Ok(Value::list(out))
}

pub(crate) fn values(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("values", cx, args);
    let out: Vec<Value> = match a.get(0) {
        Value::Map(m) => m.values().cloned().collect(),
        Value::Struct(s) => s.fields.to_vec(),
        _ => return Err(a.wrong(0, "Map or struct").into()),
    };
    Ok(Value::list(out))
}

pub(crate) fn str(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("str", cx, args);
    match a.get(0) {
        Value::Str(s) => Ok(Value::Str(Rc::clone(s))),
        v => Ok(Value::str(display_limited(a.name, v, a.program, a.max)?)),
    }
}

pub(crate) fn num(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("num", cx, args);
    match a.get(0) {
        Value::Num(n) => Ok(Value::Num(*n)),
        Value::Bool(b) => Ok(Value::Num(if *b { 1.0 } else { 0.0 })),
        Value::Str(s) => match parse_number(s) {
            Some(n) => Ok(Value::Num(n)),
            None => Err(RtError::value_error(format!(
                "cannot convert {} to a number",
                quote_short(s)
            ))
            .into()),
        },
        _ => Err(a.wrong(0, "Num, Str or Bool").into()),
    }
}

/// Parse Turn number syntax (`42`, `-2.5`, `1e3`, `1_000`), with surrounding
/// whitespace and a leading sign allowed. Anything else, and numbers too large
/// for a double, give `None`.
pub fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    let bytes = body.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| -> bool {
        let start = *i;
        while *i < bytes.len() {
            match bytes[*i] {
                b'0'..=b'9' => *i += 1,
                // An underscore separates digits: one must come before and after.
                b'_' if *i > start && bytes.get(*i + 1).is_some_and(u8::is_ascii_digit) => *i += 1,
                _ => break,
            }
        }
        *i > start
    };
    if !digits(&mut i) {
        return None;
    }
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return None;
        }
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return None;
        }
    }
    if i != bytes.len() {
        return None;
    }
    let n: f64 = t.replace('_', "").parse().ok()?;
    n.is_finite().then_some(n)
}

pub(crate) fn type_of(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("type_of", cx, args);
    Ok(Value::str(kind_name(a.get(0), a.program)))
}

/// `print(a, b, …)`: the display forms joined by spaces.
pub(crate) fn print(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("print", cx, args);
    let mut text = String::new();
    for (i, v) in args.iter().enumerate() {
        if i > 0 {
            text.push(' ');
        }
        crate::text::display_append(a.name, v, a.program, &mut text, a.max)?;
    }
    Err(Flow::Effect(Effect::Print { text }))
}

/// `echo(v)`: prints `v`; the VM makes the call's result be `v`.
pub(crate) fn echo(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("echo", cx, args);
    let text = display_limited(a.name, a.get(0), a.program, a.max)?;
    Err(Flow::Effect(Effect::Print { text }))
}

pub(crate) fn range_named(name: &'static str, cx: &NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new(name, cx, args);
    let (start, end, step) = match a.len() {
        0 | 1 => (0.0, a.num(0)?, 1.0),
        2 => (a.num(0)?, a.num(1)?, 1.0),
        _ => (a.num(0)?, a.num(1)?, a.num(2)?),
    };
    if !(start.is_finite() && end.is_finite() && step.is_finite()) {
        return Err(a
            .invalid("the bounds and the step must be finite numbers")
            .into());
    }
    if step == 0.0 {
        return Err(a.invalid("the step must not be 0").into());
    }
    let span = (end - start) / step;
    if !span.is_finite() {
        return Err(a.invalid("too many elements").into());
    }
    let count = span.ceil().max(0.0);
    if count > a.max as f64 {
        return Err(limit_error(a.name, a.max).into());
    }
    let count = count as usize;
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let x = start + i as f64 * step;
        // Rounding can put the last element on the bound; the bound is excluded.
        if (step > 0.0 && x >= end) || (step < 0.0 && x <= end) {
            break;
        }
        out.push(Value::Num(x));
    }
    Ok(Value::list(out))
}

pub(crate) fn range(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    range_named("range", cx, args)
}

/// `__sys_check(v, expected, fname, position)`: the argument check for std
/// functions written in Turn. Returns `v` when its kind is `expected`
/// (`List`, `Map`, `Str`, `Num`, `Bool` or `Fn`), else raises the same type
/// error a native would: "list.map expects a Fn as its second argument …".
pub(crate) fn check(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("__sys_check", cx, args);
    let (expected, fname, position) = (a.str(1)?, a.str(2)?, a.count(3)?);
    let v = a.get(0);
    let ok = match expected {
        "Fn" => matches!(v, Value::Closure(_) | Value::Native(_)),
        other => v.type_name() == other,
    };
    if ok {
        return Ok(args.first().cloned().unwrap_or_default());
    }
    let article = if expected.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    };
    Err(RtError::type_error(format!(
        "{fname} expects {article} {expected} as its {} argument, found {}",
        crate::args::ordinal(position.saturating_sub(1)),
        kind_name(v, a.program)
    ))
    .into())
}
