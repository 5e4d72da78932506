//! Natives behind `std/list` (the higher-order functions are Turn code in
//! `std/list.tn`), plus the `list_contains` compatibility builtin.
//!
//! Sorting is stable and uses a total order, so no input can make the sort
//! misbehave: keys are all numbers, all strings, or all lists (compared
//! element by element); anything else is a type error raised before sorting.

use crate::args::{kind_name, Args};
use std::cmp::Ordering;
use std::collections::HashSet;
use turn_vm::value::{contains_identity, values_equal};
use turn_vm::{NativeCx, NativeResult, RtError, RtResult, Value};

/// Refuse to compare by content a value holding an Identity.
fn no_identity(a: &Args, v: &Value) -> RtResult<()> {
    if contains_identity(v) {
        return Err(RtError::identity(format!(
            "{}: an Identity cannot be compared",
            a.name
        )));
    }
    Ok(())
}

fn contains_named(name: &'static str, cx: &NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new(name, cx, args);
    let (xs, needle) = (a.list(0)?, a.get(1));
    no_identity(&a, needle)?;
    Ok(Value::Bool(xs.iter().any(|x| values_equal(x, needle))))
}

pub(crate) fn contains(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    contains_named("list.contains", cx, args)
}
pub(crate) fn list_contains(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    contains_named("list_contains", cx, args)
}

pub(crate) fn index_of(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("list.index_of", cx, args);
    let (xs, needle) = (a.list(0)?, a.get(1));
    no_identity(&a, needle)?;
    let found = xs.iter().position(|x| values_equal(x, needle));
    Ok(Value::Num(found.map_or(-1.0, |i| i as f64)))
}

pub(crate) fn len(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("list.len", cx, args);
    Ok(Value::Num(a.list(0)?.len() as f64))
}

pub(crate) fn range(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    super::core::range_named("list.range", cx, args)
}

pub(crate) fn slice(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("list.slice", cx, args);
    let xs = a.list(0)?;
    let start = a.position(1, xs.len(), 0)?;
    let end = a.position(2, xs.len(), xs.len())?;
    Ok(Value::list(xs.get(start..end).unwrap_or_default().to_vec()))
}

pub(crate) fn reverse(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("list.reverse", cx, args);
    Ok(Value::list(a.list(0)?.iter().rev().cloned().collect()))
}

pub(crate) fn first(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("list.first", cx, args);
    Ok(a.list(0)?.first().cloned().unwrap_or_default())
}

pub(crate) fn last(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("list.last", cx, args);
    Ok(a.list(0)?.last().cloned().unwrap_or_default())
}

pub(crate) fn concat(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("list.concat", cx, args);
    let (xs, ys) = (a.list(0)?, a.list(1)?);
    a.check_size(xs.len().saturating_add(ys.len()))?;
    Ok(Value::list(xs.iter().chain(ys).cloned().collect()))
}

pub(crate) fn zip(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("list.zip", cx, args);
    let (xs, ys) = (a.list(0)?, a.list(1)?);
    let pairs = xs
        .iter()
        .zip(ys)
        .map(|(x, y)| Value::list(vec![x.clone(), y.clone()]));
    Ok(Value::list(pairs.collect()))
}

pub(crate) fn enumerate(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("list.enumerate", cx, args);
    let pairs = a.list(0)?.iter().enumerate();
    Ok(Value::list(
        pairs
            .map(|(i, x)| Value::list(vec![Value::Num(i as f64), x.clone()]))
            .collect(),
    ))
}

pub(crate) fn sum(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("list.sum", cx, args);
    let mut total = 0.0;
    for x in a.list(0)? {
        match x.plain() {
            Value::Num(n) => total += n,
            other => {
                return Err(RtError::type_error(format!(
                    "list.sum expects a list of numbers, found {} in it",
                    kind_name(other, a.program)
                ))
                .into())
            }
        }
    }
    Ok(Value::Num(total))
}

pub(crate) fn flatten(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("list.flatten", cx, args);
    let xs = a.list(0)?;
    let size = xs.iter().fold(0usize, |n, x| match x.plain() {
        Value::List(inner) => n.saturating_add(inner.len()),
        _ => n.saturating_add(1),
    });
    a.check_size(size)?;
    let mut out = Vec::with_capacity(size);
    for x in xs {
        match x.plain() {
            Value::List(inner) => out.extend(inner.iter().cloned()),
            _ => out.push(x.clone()),
        }
    }
    Ok(Value::list(out))
}

/// Keeps the first occurrence of each value (deep equality). Numbers and
/// strings are found through a hash set; other values by scanning the kept
/// values of their own kind.
pub(crate) fn unique(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("list.unique", cx, args);
    let mut nums: HashSet<u64> = HashSet::new();
    let mut strs: HashSet<&str> = HashSet::new();
    let mut others: Vec<&Value> = Vec::new();
    let mut out = Vec::new();
    for x in a.list(0)? {
        let fresh = match x.plain() {
            // NaN equals nothing, so every NaN is kept; -0 equals 0.
            Value::Num(n) if n.is_nan() => true,
            Value::Num(n) => nums.insert(if *n == 0.0 { 0 } else { n.to_bits() }),
            Value::Str(s) => strs.insert(s.as_str()),
            v => {
                let seen = others.iter().any(|o| values_equal(o, v));
                if !seen {
                    others.push(v);
                }
                !seen
            }
        };
        if fresh {
            out.push(x.clone());
        }
    }
    Ok(Value::list(out))
}

/// Compare two sort keys already known to be of the same top-level kind.
/// Lists compare element by element (iteratively, so deep keys cannot
/// overflow the stack); inside lists, values of different kinds are ordered
/// by kind, so the order stays total and sorting cannot misbehave.
fn compare(x: &Value, y: &Value) -> Ordering {
    type Pair<'v> = (std::slice::Iter<'v, Value>, std::slice::Iter<'v, Value>);
    let mut open: Vec<Pair> = Vec::new();
    let mut pair = Some((x, y));
    loop {
        if let Some((a, b)) = pair.take() {
            let o = match (a.plain(), b.plain()) {
                (Value::List(p), Value::List(q)) => {
                    open.push((p.iter(), q.iter()));
                    Ordering::Equal
                }
                (Value::Num(p), Value::Num(q)) => p.total_cmp(q),
                (Value::Str(p), Value::Str(q)) => p.cmp(q),
                (Value::Bool(p), Value::Bool(q)) => p.cmp(q),
                (p, q) => rank(p).cmp(&rank(q)),
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        let Some((p, q)) = open.last_mut() else {
            return Ordering::Equal;
        };
        match (p.next(), q.next()) {
            (Some(a), Some(b)) => pair = Some((a, b)),
            (None, None) => {
                open.pop();
            }
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
        }
    }
}

fn rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Num(_) => 2,
        Value::Str(_) => 3,
        Value::List(_) => 4,
        _ => 5,
    }
}

/// Check that all keys are numbers, all strings, or all lists.
fn check_keys(a: &Args, keys: &[Value], what: &str) -> RtResult<()> {
    let Some(first) = keys.first() else {
        return Ok(());
    };
    let kind = first.plain();
    if !matches!(kind, Value::Num(_) | Value::Str(_) | Value::List(_)) {
        return Err(RtError::type_error(format!(
            "{} can only sort numbers, strings or lists, found {} in the {what}",
            a.name,
            kind_name(kind, a.program)
        )));
    }
    for k in keys {
        if std::mem::discriminant(k.plain()) != std::mem::discriminant(kind) {
            return Err(RtError::type_error(format!(
                "{} cannot compare {} with {} (the {what} {})",
                a.name,
                kind_name(kind, a.program),
                kind_name(k, a.program),
                if what.ends_with('s') {
                    "mix kinds"
                } else {
                    "mixes kinds"
                }
            )));
        }
    }
    Ok(())
}

pub(crate) fn sort(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("list.sort", cx, args);
    let xs = a.list(0)?;
    check_keys(&a, xs, "list")?;
    let mut out = xs.to_vec();
    out.sort_by(compare);
    Ok(Value::list(out))
}

/// `sort_by_keys(xs, keys)`: `xs` ordered by the matching keys (stable).
pub(crate) fn sort_by_keys(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("list.sort_by", cx, args);
    let (xs, keys) = (a.list(0)?, a.list(1)?);
    if xs.len() != keys.len() {
        return Err(RtError::value_error(format!(
            "list.sort_by: {} keys for {} elements",
            keys.len(),
            xs.len()
        ))
        .into());
    }
    check_keys(&a, keys, "keys")?;
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&i, &j| compare(&keys[i], &keys[j]));
    Ok(Value::list(
        order.into_iter().map(|i| xs[i].clone()).collect(),
    ))
}
