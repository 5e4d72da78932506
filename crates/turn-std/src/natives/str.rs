//! Natives behind `std/str`. Positions are character indexes, never bytes, so
//! no argument can split a UTF-8 sequence; every result is checked against
//! the size limit before it is built.

use crate::args::Args;
use crate::text::display_append;
use std::rc::Rc;
use turn_vm::{NativeCx, NativeResult, RtResult, Value};

fn strs(items: Vec<String>) -> Value {
    Value::list(items.into_iter().map(Value::str).collect())
}

/// Byte offset of character `pos` in `s` (or `s.len()` past the end).
fn byte_at(s: &str, pos: usize) -> usize {
    s.char_indices().nth(pos).map_or(s.len(), |(b, _)| b)
}

pub(crate) fn split(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("str.split", cx, args);
    let (s, sep) = (a.str(0)?, a.str(1)?);
    let parts: Vec<String> = if sep.is_empty() {
        a.check_size(s.len())?;
        s.chars().map(String::from).collect()
    } else {
        a.check_size(s.matches(sep).count().saturating_add(1))?;
        s.split(sep).map(String::from).collect()
    };
    Ok(strs(parts))
}

pub(crate) fn join(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("str.join", cx, args);
    let (items, sep) = (a.list(0)?, a.str(1)?);
    let mut out = String::new();
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            a.check_size(out.len().saturating_add(sep.len()))?;
            out.push_str(sep);
        }
        display_append(a.name, v, a.program, &mut out, a.max)?;
    }
    Ok(Value::str(out))
}

fn map_str(
    name: &'static str,
    cx: &NativeCx,
    args: &[Value],
    f: fn(&str) -> String,
) -> NativeResult {
    let a = Args::new(name, cx, args);
    let out = f(a.str(0)?);
    a.check_size(out.len())?;
    Ok(Value::str(out))
}

pub(crate) fn trim(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    map_str("str.trim", cx, args, |s| s.trim().to_owned())
}
pub(crate) fn trim_start(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    map_str("str.trim_start", cx, args, |s| s.trim_start().to_owned())
}
pub(crate) fn trim_end(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    map_str("str.trim_end", cx, args, |s| s.trim_end().to_owned())
}
pub(crate) fn upper(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    map_str("str.upper", cx, args, str::to_uppercase)
}
pub(crate) fn lower(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    map_str("str.lower", cx, args, str::to_lowercase)
}

fn test_str(
    name: &'static str,
    cx: &NativeCx,
    args: &[Value],
    f: fn(&str, &str) -> bool,
) -> NativeResult {
    let a = Args::new(name, cx, args);
    Ok(Value::Bool(f(a.str(0)?, a.str(1)?)))
}

pub(crate) fn contains(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    test_str("str.contains", cx, args, |s, t| s.contains(t))
}
pub(crate) fn starts_with(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    test_str("str.starts_with", cx, args, |s, t| s.starts_with(t))
}
pub(crate) fn ends_with(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    test_str("str.ends_with", cx, args, |s, t| s.ends_with(t))
}

pub(crate) fn replace(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("str.replace", cx, args);
    let (s, from, to) = (a.str(0)?, a.str(1)?, a.str(2)?);
    // An empty pattern matches before every character and at the end.
    let hits = if from.is_empty() {
        s.chars().count() + 1
    } else {
        s.matches(from).count()
    };
    let size = hits
        .saturating_mul(to.len())
        .saturating_add(s.len())
        .saturating_sub(hits.saturating_mul(from.len()));
    a.check_size(size)?;
    Ok(Value::str(s.replace(from, to)))
}

pub(crate) fn slice(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("str.slice", cx, args);
    let s = a.str(0)?;
    let n = s.chars().count();
    let start = a.position(1, n, 0)?;
    let end = a.position(2, n, n)?;
    if start >= end {
        return Ok(Value::str(""));
    }
    let (b0, b1) = (byte_at(s, start), byte_at(s, end));
    Ok(Value::str(s.get(b0..b1).unwrap_or_default()))
}

pub(crate) fn chars(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("str.chars", cx, args);
    let s = a.str(0)?;
    a.check_size(s.chars().count())?;
    Ok(strs(s.chars().map(String::from).collect()))
}

pub(crate) fn index_of(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("str.index_of", cx, args);
    let (s, sub) = (a.str(0)?, a.str(1)?);
    let found = s.find(sub).map_or(-1.0, |b| s[..b].chars().count() as f64);
    Ok(Value::Num(found))
}

pub(crate) fn repeat(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("str.repeat", cx, args);
    let (s, n) = (a.str(0)?, a.count(1)?);
    a.check_size(s.len().saturating_mul(n))?;
    Ok(Value::str(s.repeat(n)))
}

fn pad(name: &'static str, cx: &NativeCx, args: &[Value], at_start: bool) -> NativeResult {
    let a = Args::new(name, cx, args);
    let s = a.str_rc(0)?;
    let width = a.count(1)?;
    let fill = if a.opt(2).is_some() { a.str(2)? } else { " " };
    if fill.is_empty() {
        return Err(a.invalid("the fill must not be empty").into());
    }
    let have = s.chars().count();
    if have >= width {
        return Ok(Value::Str(Rc::clone(s)));
    }
    let missing = width - have;
    // At least one byte per missing character: check before building.
    a.check_size(s.len().saturating_add(missing))?;
    let padding: String = fill.chars().cycle().take(missing).collect();
    a.check_size(s.len().saturating_add(padding.len()))?;
    let out = if at_start {
        padding + s
    } else {
        format!("{s}{padding}")
    };
    Ok(Value::str(out))
}

pub(crate) fn pad_start(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    pad("str.pad_start", cx, args, true)
}
pub(crate) fn pad_end(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    pad("str.pad_end", cx, args, false)
}

pub(crate) fn len(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("str.len", cx, args);
    Ok(Value::Num(a.str(0)?.chars().count() as f64))
}

/// `format(template, args…)`: `{}` takes the next argument, `{0}` an argument
/// by position, `{name}` a key of the map (or field of the struct) given as
/// the single argument; `{{` and `}}` are literal braces.
pub(crate) fn format(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("str.format", cx, args);
    let template = a.str(0)?;
    let fills = a.rest(1);
    let mut out = String::new();
    let mut next = 0usize;
    let mut chars = template.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match c {
            '{' if chars.peek().is_some_and(|(_, d)| *d == '{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek().is_some_and(|(_, d)| *d == '}') => {
                chars.next();
                out.push('}');
            }
            '}' => {
                return Err(a
                    .invalid("unmatched '}' in the template (write '}}' for a brace)")
                    .into())
            }
            '{' => {
                let mut key = String::new();
                loop {
                    match chars.next() {
                        Some((_, '}')) => break,
                        Some((_, d)) => key.push(d),
                        None => {
                            return Err(a
                                .invalid("unclosed '{' in the template (write '{{' for a brace)")
                                .into())
                        }
                    }
                }
                let value = placeholder(&a, fills, key.trim(), &mut next)?;
                display_append(a.name, value, a.program, &mut out, a.max)?;
            }
            c => out.push(c),
        }
        a.check_size(out.len())?;
    }
    Ok(Value::str(out))
}

fn placeholder<'v>(
    a: &Args<'v>,
    fills: &'v [Value],
    key: &str,
    next: &mut usize,
) -> RtResult<&'v Value> {
    if key.is_empty() {
        let i = *next;
        *next += 1;
        return fills.get(i).ok_or_else(|| {
            a.invalid(format!(
                "the template needs argument {i}, but only {} given",
                fills.len()
            ))
        });
    }
    if key.bytes().all(|b| b.is_ascii_digit()) {
        let i: usize = key.parse().unwrap_or(usize::MAX);
        return fills
            .get(i)
            .ok_or_else(|| a.invalid(format!("no argument {key} ({} given)", fills.len())));
    }
    let named = match fills {
        [one] => match one.plain() {
            Value::Map(m) => m.get(key),
            Value::Struct(s) => a
                .program
                .structs
                .get(s.sid as usize)
                .and_then(|d| d.field_index(key))
                .and_then(|i| s.fields.get(i)),
            _ => None,
        },
        _ => None,
    };
    named.ok_or_else(|| {
        a.invalid(format!("no value for {{{key}}}: named placeholders read the keys of a map given as the only argument"))
    })
}
