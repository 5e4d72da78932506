//! Argument checking shared by every native.
//!
//! Each native names itself the way users see it (`str.split`, `len`) so that
//! a wrong argument reads "str.split expects a Str as its first argument,
//! found Num". Uncertain arguments are accepted transparently: every accessor
//! looks through the wrapper with [`Value::plain`]. Numbers used as indexes or
//! counts are converted here, carefully: NaN, infinities and fractions are
//! refused before any cast, so no argument can cause a panic or a huge
//! allocation.

use std::rc::Rc;
use turn_bytecode::Program;
use turn_vm::value::quote_str;
use turn_vm::{NativeCx, RtError, RtResult, Value};

/// The arguments of one native call, with the name used in messages.
pub(crate) struct Args<'a> {
    pub name: &'static str,
    pub program: &'a Program,
    pub max: usize,
    vals: &'a [Value],
    /// What a missing argument reads as (the VM checks arity, so only a
    /// native called with too few arguments by mistake sees it).
    null: Value,
}

impl<'a> Args<'a> {
    pub fn new(name: &'static str, cx: &'a NativeCx, vals: &'a [Value]) -> Args<'a> {
        Args {
            name,
            program: cx.program,
            max: cx.max_value_size,
            vals,
            null: Value::Null,
        }
    }

    pub fn len(&self) -> usize {
        self.vals.len()
    }

    /// Argument `i` without its uncertainty wrapper; `null` when absent.
    pub fn get(&self, i: usize) -> &Value {
        match self.vals.get(i) {
            Some(v) => v.plain(),
            None => &self.null,
        }
    }

    /// The raw arguments from `i` on (uncertainty kept).
    pub fn rest(&self, i: usize) -> &'a [Value] {
        self.vals.get(i..).unwrap_or(&[])
    }

    /// Argument `i`, or `None` when it is absent or `null`.
    pub fn opt(&self, i: usize) -> Option<&Value> {
        match self.get(i) {
            Value::Null => None,
            v => Some(v),
        }
    }

    /// A type error for argument `i`.
    pub fn wrong(&self, i: usize, expected: &str) -> RtError {
        let found = kind_name(self.get(i), self.program);
        RtError::type_error(format!(
            "{} expects {} {} as its {} argument, found {}",
            self.name,
            article(expected),
            expected,
            ordinal(i),
            found
        ))
    }

    /// A value error mentioning the function.
    pub fn invalid(&self, message: impl AsRef<str>) -> RtError {
        RtError::value_error(format!("{}: {}", self.name, message.as_ref()))
    }

    pub fn str(&self, i: usize) -> RtResult<&str> {
        match self.get(i) {
            Value::Str(s) => Ok(s.as_str()),
            _ => Err(self.wrong(i, "Str")),
        }
    }

    pub fn str_rc(&self, i: usize) -> RtResult<&Rc<String>> {
        match self.get(i) {
            Value::Str(s) => Ok(s),
            _ => Err(self.wrong(i, "Str")),
        }
    }

    pub fn num(&self, i: usize) -> RtResult<f64> {
        match self.get(i) {
            Value::Num(n) => Ok(*n),
            _ => Err(self.wrong(i, "Num")),
        }
    }

    pub fn list(&self, i: usize) -> RtResult<&[Value]> {
        match self.get(i) {
            Value::List(l) => Ok(l.as_slice()),
            _ => Err(self.wrong(i, "List")),
        }
    }

    /// A whole number (finite, no fraction), as f64.
    pub fn int(&self, i: usize) -> RtResult<f64> {
        let n = self.num(i)?;
        if !n.is_finite() || n.fract() != 0.0 {
            return Err(self.invalid(format!(
                "the {} argument must be a whole number, found {}",
                ordinal(i),
                turn_vm::value::num_to_string(n)
            )));
        }
        Ok(n)
    }

    /// A non-negative whole number used as a count or width. Counts past
    /// `usize` saturate; callers compare them with the size limit.
    pub fn count(&self, i: usize) -> RtResult<usize> {
        let n = self.int(i)?;
        if n < 0.0 {
            return Err(self.invalid(format!(
                "the {} argument must not be negative, found {}",
                ordinal(i),
                turn_vm::value::num_to_string(n)
            )));
        }
        // `as` saturates for floats; the value is finite and non-negative.
        Ok(n as usize)
    }

    /// A position in a sequence of `len` items: negative counts from the end,
    /// out-of-range positions are clamped to `0..=len`. `null` or absent gives
    /// `default`.
    pub fn position(&self, i: usize, len: usize, default: usize) -> RtResult<usize> {
        if self.opt(i).is_none() {
            return Ok(default);
        }
        let n = self.int(i)?;
        let len_f = len as f64;
        let p = if n < 0.0 {
            (len_f + n).max(0.0)
        } else {
            n.min(len_f)
        };
        Ok(p as usize)
    }

    /// Fail with a limit error when a result would have `n` elements/bytes.
    pub fn check_size(&self, n: usize) -> RtResult<()> {
        check_size(self.name, n, self.max)
    }
}

pub(crate) fn check_size(name: &str, n: usize, max: usize) -> RtResult<()> {
    if n > max {
        return Err(limit_error(name, max));
    }
    Ok(())
}

/// The error for a result past the size limit.
pub(crate) fn limit_error(name: &str, max: usize) -> RtError {
    RtError::limit(format!(
        "{name}: the result would exceed the size limit of {max} (elements or bytes)"
    ))
}

/// The kind of a value for messages: its type name, or a struct's own name.
pub(crate) fn kind_name(v: &Value, program: &Program) -> String {
    match v.plain() {
        Value::Struct(s) => match program.structs.get(s.sid as usize) {
            Some(def) => def.name.clone(),
            None => "Struct".to_string(),
        },
        v => v.type_name().to_string(),
    }
}

fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some('A' | 'E' | 'I' | 'O' | 'U') => "an",
        _ => "a",
    }
}

pub(crate) fn ordinal(i: usize) -> String {
    const NAMES: [&str; 8] = [
        "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
    ];
    match NAMES.get(i) {
        Some(s) => (*s).to_string(),
        None => format!("#{}", i + 1),
    }
}

/// A string quoted for an error message, shortened when long.
pub(crate) fn quote_short(s: &str) -> String {
    const MAX_CHARS: usize = 40;
    let mut out = String::new();
    match s.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => {
            quote_str(&s[..cut], &mut out);
            out.push('…');
        }
        None => quote_str(s, &mut out),
    }
    out
}
