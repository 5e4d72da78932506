//! Natives behind std/env and std/fs: each checks its arguments and asks
//! for an `Io` effect carrying the identity; the host decides, at that
//! moment and from the run's policy, whether the identity allows it.

use crate::args::Args;
use turn_vm::{Effect, Flow, NativeCx, NativeResult, RtError, Value};

fn io(op: &'static str, cx: &mut NativeCx, args: &[Value], strs: usize) -> NativeResult {
    let a = Args::new(op, cx, args);
    let Value::Identity(identity) = a.get(0) else {
        return Err(RtError::identity(format!(
            "`{op}` needs an Identity as its first argument (from `grant identity::…`), found {}",
            turn_vm::ops::article(&turn_vm::ops::describe_type(a.get(0), cx.program))
        ))
        .into());
    };
    let mut rest = Vec::with_capacity(strs);
    for i in 1..=strs {
        rest.push(Value::str(a.str(i)?));
    }
    Err(Flow::Effect(Effect::Io {
        op,
        identity: *identity,
        args: rest,
    }))
}

/// `env.get(identity, key)`: the variable, or null.
pub(crate) fn env_get(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    io("env.get", cx, args, 1)
}

/// `env.set(identity, key, value)`.
pub(crate) fn env_set(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    io("env.set", cx, args, 2)
}

/// `fs.read(identity, path)`: the file's text.
pub(crate) fn fs_read(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    io("fs.read", cx, args, 1)
}

/// `fs.write(identity, path, content)`.
pub(crate) fn fs_write(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    io("fs.write", cx, args, 2)
}

/// `fs.list(identity, path)`: the names in a directory, sorted.
pub(crate) fn fs_list(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    io("fs.list", cx, args, 1)
}

/// `fs.exists(identity, path)`.
pub(crate) fn fs_exists(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    io("fs.exists", cx, args, 1)
}

/// `net.request(identity, request)`: the request map is checked by the host
/// (url, method, headers, query, body, json, timeout).
pub(crate) fn net_request(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("net.request", cx, args);
    let Value::Identity(identity) = a.get(0) else {
        return Err(RtError::identity(format!(
            "`net.request` needs a network Identity (from `grant identity::network(…)`), found {}",
            turn_vm::ops::article(&turn_vm::ops::describe_type(a.get(0), cx.program))
        ))
        .into());
    };
    let Value::Map(_) = a.get(1) else {
        return Err(a.wrong(1, "Map").into());
    };
    Err(Flow::Effect(Effect::Io {
        op: "net.request",
        identity: *identity,
        args: vec![a.get(1).clone()],
    }))
}
