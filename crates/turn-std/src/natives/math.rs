//! Natives behind `std/math`. Results that are not real numbers (the square
//! root or logarithm of a negative number, `pow(-8, 1/3)`) are arithmetic
//! errors rather than a silent NaN; `random` is an effect.

use crate::args::{kind_name, Args};
use turn_vm::value::num_to_string;
use turn_vm::{Effect, Flow, NativeCx, NativeResult, RtError, Value};

fn unary(name: &'static str, cx: &NativeCx, args: &[Value], f: fn(f64) -> f64) -> NativeResult {
    let a = Args::new(name, cx, args);
    Ok(Value::Num(f(a.num(0)?)))
}

pub(crate) fn abs(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    unary("math.abs", cx, args, f64::abs)
}
pub(crate) fn floor(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    unary("math.floor", cx, args, f64::floor)
}
pub(crate) fn ceil(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    unary("math.ceil", cx, args, f64::ceil)
}
/// Half away from zero: `round(2.5)` is 3, `round(-2.5)` is -3.
pub(crate) fn round(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    unary("math.round", cx, args, f64::round)
}
pub(crate) fn trunc(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    unary("math.trunc", cx, args, f64::trunc)
}
pub(crate) fn exp(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    unary("math.exp", cx, args, f64::exp)
}
pub(crate) fn sin(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    unary("math.sin", cx, args, f64::sin)
}
pub(crate) fn cos(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    unary("math.cos", cx, args, f64::cos)
}
pub(crate) fn tan(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    unary("math.tan", cx, args, f64::tan)
}
/// -1, 0 or 1 (NaN stays NaN).
pub(crate) fn sign(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    unary("math.sign", cx, args, |x| {
        if x.is_nan() {
            x
        } else if x == 0.0 {
            0.0
        } else {
            x.signum()
        }
    })
}

pub(crate) fn sqrt(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("math.sqrt", cx, args);
    let x = a.num(0)?;
    if x < 0.0 {
        return Err(RtError::arithmetic(format!(
            "sqrt of a negative number ({})",
            num_to_string(x)
        ))
        .into());
    }
    Ok(Value::Num(x.sqrt()))
}

pub(crate) fn pow(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("math.pow", cx, args);
    let (x, y) = (a.num(0)?, a.num(1)?);
    let r = x.powf(y);
    if r.is_nan() && !x.is_nan() && !y.is_nan() {
        return Err(RtError::arithmetic(format!(
            "pow({}, {}) is not a real number",
            num_to_string(x),
            num_to_string(y)
        ))
        .into());
    }
    Ok(Value::Num(r))
}

/// `log(x)` is the natural logarithm; `log(x, base)` any base.
pub(crate) fn log(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("math.log", cx, args);
    let x = a.num(0)?;
    if x <= 0.0 {
        return Err(RtError::arithmetic(format!(
            "log of a number that is not positive ({})",
            num_to_string(x)
        ))
        .into());
    }
    if a.opt(1).is_none() {
        return Ok(Value::Num(x.ln()));
    }
    let base = a.num(1)?;
    if base <= 0.0 || base == 1.0 {
        return Err(RtError::arithmetic(format!(
            "log base must be positive and not 1, found {}",
            num_to_string(base)
        ))
        .into());
    }
    Ok(Value::Num(x.ln() / base.ln()))
}

pub(crate) fn clamp(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("math.clamp", cx, args);
    let (x, lo, hi) = (a.num(0)?, a.num(1)?, a.num(2)?);
    if lo.is_nan() || hi.is_nan() || lo > hi {
        return Err(a
            .invalid(format!(
                "the lower bound {} is above the upper bound {}",
                num_to_string(lo),
                num_to_string(hi)
            ))
            .into());
    }
    Ok(Value::Num(if x.is_nan() { x } else { x.max(lo).min(hi) }))
}

/// `min`/`max` over either the arguments or one list argument. NaN wins.
fn extreme(
    name: &'static str,
    cx: &NativeCx,
    args: &[Value],
    pick_first: fn(f64, f64) -> bool,
) -> NativeResult {
    let a = Args::new(name, cx, args);
    let (items, from_list): (&[Value], bool) = match a.get(0) {
        Value::List(l) if a.len() == 1 => (l, true),
        _ => (args, false),
    };
    let mut best: Option<f64> = None;
    for (i, v) in items.iter().enumerate() {
        let Value::Num(n) = v.plain() else {
            if !from_list {
                return Err(a.wrong(i, "Num").into());
            }
            return Err(RtError::type_error(format!(
                "{name} expects a list of numbers, found {} in it",
                kind_name(v, a.program)
            ))
            .into());
        };
        best = Some(match best {
            None => *n,
            Some(b) if b.is_nan() || (!n.is_nan() && pick_first(b, *n)) => b,
            Some(_) => *n,
        });
    }
    match best {
        Some(n) => Ok(Value::Num(n)),
        None => Err(a.invalid("needs at least one number").into()),
    }
}

pub(crate) fn min(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    extreme("math.min", cx, args, |best, n| best <= n)
}
pub(crate) fn max(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    extreme("math.max", cx, args, |best, n| best >= n)
}

pub(crate) fn random(_cx: &mut NativeCx, _args: &[Value]) -> NativeResult {
    Err(Flow::Effect(Effect::Random))
}
