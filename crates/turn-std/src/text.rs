//! Turning values into text under the size limit.
//!
//! Values are immutable and share structure, so a small program can build a
//! list whose printed form is astronomically large (`a = [a, a]` thirty
//! times). Before rendering, [`display_limited`] walks the value with a budget,
//! counting a lower bound of its printed size, and refuses it once that bound
//! passes the limit; the walk itself stops as soon as the budget runs out.

use crate::args::{check_size, limit_error};
use turn_bytecode::Program;
use turn_vm::{RtResult, Value};

/// Deeper than the printer goes; past this the printer reports the error.
const MAX_WALK_DEPTH: usize = 600;

/// Whether a lower bound of `v`'s printed size stays within `budget` bytes.
/// Iterative, and it stops as soon as the budget is spent.
pub(crate) fn fits(v: &Value, budget: usize) -> bool {
    let mut left = budget;
    let mut work: Vec<(&Value, usize)> = vec![(v, 0)];
    while let Some((v, depth)) = work.pop() {
        if depth > MAX_WALK_DEPTH {
            continue;
        }
        let cost = match v {
            Value::Str(s) => s.len(),
            Value::List(items) => {
                work.extend(items.iter().map(|x| (x, depth + 1)));
                2 + 2 * items.len().saturating_sub(1)
            }
            Value::Map(m) => {
                work.extend(m.values().map(|x| (x, depth + 1)));
                m.keys()
                    .fold(2 + 4 * m.len(), |n, k| n.saturating_add(k.len()))
            }
            Value::Struct(s) => {
                work.extend(s.fields.iter().map(|x| (x, depth + 1)));
                3 + 2 * s.fields.len()
            }
            Value::Vector(xs) => 5 + 2 * xs.len(),
            Value::Uncertain(u) => {
                work.push((&u.value, depth));
                0
            }
            Value::Error(e) => e.message.len(),
            Value::Cell(c) => {
                if !fits(&c.borrow(), left) {
                    return false;
                }
                0
            }
            _ => 1,
        };
        match left.checked_sub(cost) {
            Some(rest) => left = rest,
            None => return false,
        }
    }
    true
}

/// The display form of `v`, refused with a limit error past `max` bytes.
pub(crate) fn display_limited(
    name: &str,
    v: &Value,
    program: &Program,
    max: usize,
) -> RtResult<String> {
    if let Value::Str(s) = v.plain() {
        return Ok(s.as_str().to_owned());
    }
    if !fits(v, max) {
        return Err(limit_error(name, max));
    }
    let text = turn_vm::display(v, program)?;
    check_size(name, text.len(), max)?;
    Ok(text)
}

/// Append the display form of `v` to `out`, keeping `out` within `max` bytes.
pub(crate) fn display_append(
    name: &str,
    v: &Value,
    program: &Program,
    out: &mut String,
    max: usize,
) -> RtResult<()> {
    let room = max.saturating_sub(out.len());
    if let Value::Str(s) = v.plain() {
        check_size(name, out.len().saturating_add(s.len()), max)?;
        out.push_str(s);
        return Ok(());
    }
    if !fits(v, room) {
        return Err(limit_error(name, max));
    }
    turn_vm::display::display_into(v, program, out)?;
    check_size(name, out.len(), max)
}
