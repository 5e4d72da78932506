//! Natives behind `std/json`: `parse` and `stringify`.

use crate::args::{limit_error, Args};
use crate::json::{from_json, to_json_limited};
use crate::text::fits;
use serde::Serialize;
use turn_vm::{NativeCx, NativeResult, RtError, Value};

/// Widest indent `stringify` accepts.
const MAX_INDENT: usize = 16;

pub(crate) fn parse(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("json.parse", cx, args);
    let text = a.str(0)?;
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(j) => Ok(from_json(&j)),
        Err(e) => Err(RtError::new("json", format!("invalid JSON: {e}")).into()),
    }
}

/// `stringify(v)` is compact; `stringify(v, n)` indents by `n` spaces.
pub(crate) fn stringify(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("json.stringify", cx, args);
    let v = a.get(0);
    let indent = match a.opt(1) {
        None => 0,
        Some(_) => a.count(1)?,
    };
    if indent > MAX_INDENT {
        return Err(a
            .invalid(format!("the indent must be at most {MAX_INDENT} spaces"))
            .into());
    }
    if !fits(v, a.max) {
        return Err(limit_error(a.name, a.max).into());
    }
    let json = to_json_limited(v, a.program, a.max)?;
    let text = if indent == 0 {
        serde_json::to_string(&json)
    } else {
        let pad = vec![b' '; indent];
        let mut buf = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(&pad);
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
        json.serialize(&mut ser)
            .map(|()| String::from_utf8(buf).unwrap_or_default())
    }
    .map_err(|e| RtError::internal(format!("JSON output failed: {e}")))?;
    a.check_size(text.len())?;
    Ok(Value::str(text))
}
