//! The display form of values: what `echo`, `print`, `str()` and string
//! concatenation produce, and what `turn run` prints.
//!
//! Top-level strings print raw; inside collections they are quoted. Integral
//! numbers print without a fraction. Identities never print: asking for the
//! display form of a value that holds one is an error.

use crate::error::{RtError, RtResult};
use crate::value::{format_num, quote_str, Value};
use turn_bytecode::Program;

/// Bound on nesting when printing (values cannot be cyclic, but can be deep).
const MAX_DEPTH: usize = 512;

pub fn display(v: &Value, program: &Program) -> RtResult<String> {
    let mut out = String::new();
    write_value(v, program, &mut out, false, 0)?;
    Ok(out)
}

/// Append the display form of `v` to `out`.
pub fn display_into(v: &Value, program: &Program, out: &mut String) -> RtResult<()> {
    write_value(v, program, out, false, 0)
}

fn write_value(
    v: &Value,
    p: &Program,
    out: &mut String,
    nested: bool,
    depth: usize,
) -> RtResult<()> {
    if depth > MAX_DEPTH {
        return Err(RtError::limit("value is nested too deeply to print"));
    }
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Num(n) => format_num(*n, out),
        Value::Str(s) => {
            if nested {
                quote_str(s, out)
            } else {
                out.push_str(s)
            }
        }
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(item, p, out, true, depth + 1)?;
            }
            out.push(']');
        }
        Value::Map(m) => {
            if m.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                quote_str(k, out);
                out.push_str(": ");
                write_value(item, p, out, true, depth + 1)?;
            }
            out.push('}');
        }
        Value::Struct(s) => {
            let def = p.structs.get(s.sid as usize);
            out.push_str(def.map(|d| d.name.as_str()).unwrap_or("<struct>"));
            out.push_str(" {");
            for (i, item) in s.fields.iter().enumerate() {
                out.push_str(if i > 0 { ", " } else { " " });
                let name = def
                    .and_then(|d| d.fields.get(i))
                    .map(|f| f.0.as_str())
                    .unwrap_or("?");
                out.push_str(name);
                out.push_str(": ");
                write_value(item, p, out, true, depth + 1)?;
            }
            out.push_str(if s.fields.is_empty() { "}" } else { " }" });
        }
        Value::Vector(xs) => {
            out.push_str("vec[");
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                format_num(*x, out);
            }
            out.push(']');
        }
        Value::Closure(c) => {
            let name = p
                .functions
                .get(c.func as usize)
                .map(|f| f.name.as_str())
                .unwrap_or("?");
            out.push_str("<fn ");
            out.push_str(name);
            out.push('>');
        }
        Value::Native(i) => {
            out.push_str("<builtin ");
            out.push_str(
                p.globals
                    .get(*i as usize)
                    .map(String::as_str)
                    .unwrap_or("?"),
            );
            out.push('>');
        }
        Value::Pid(id) => {
            out.push_str("<pid ");
            format_num(*id as f64, out);
            out.push('>');
        }
        Value::Identity(_) => {
            return Err(RtError::identity("an Identity cannot be converted to text"));
        }
        Value::Uncertain(u) => write_value(&u.value, p, out, nested, depth)?,
        Value::Error(e) => {
            if nested {
                quote_str(&e.message, out)
            } else {
                out.push_str(&e.message)
            }
        }
        Value::Cell(c) => write_value(&c.borrow(), p, out, nested, depth)?,
        Value::Undefined => out.push_str("undefined"),
    }
    Ok(())
}
