//! Tests of turn-std's natives, called directly (no compiler or VM needed),
//! and consistency checks of the std modules' Turn source against the table.

mod core;
mod json;
mod list;
mod math;
mod modules;
mod process;
mod regex;
mod str;
mod time;

use std::rc::Rc;
use turn_bytecode::{Program, StructDef, Ty, BYTECODE_VERSION};
use turn_vm::value::{values_equal, Map, StructValue, Uncertain};
use turn_vm::{Effect, Flow, NativeCx, NativeResult, RtError, Value};

/// The size limit the tests run natives with.
pub const MAX: usize = 10_000;

/// A program with one struct: `struct Point { x: Num, y: Num }` (sid 0).
pub fn program() -> Program {
    Program {
        version: BYTECODE_VERSION,
        functions: vec![],
        constants: vec![],
        structs: vec![StructDef {
            name: "Point".into(),
            fields: vec![("x".into(), Ty::Num), ("y".into(), Ty::Num)],
            file: 0,
        }],
        modules: vec![],
        files: vec![],
        globals: vec![],
        entry: 0,
    }
}

pub fn call_with(max: usize, name: &str, args: &[Value]) -> NativeResult {
    let def = turn_std::natives()
        .iter()
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("no native named {name}"));
    let n = args.len();
    assert!(
        n >= def.arity.min as usize && n <= def.arity.max as usize,
        "{name} called with {n} arguments, outside its arity {:?}",
        def.arity
    );
    let p = program();
    let mut cx = NativeCx {
        program: &p,
        max_value_size: max,
    };
    (def.func)(&mut cx, args)
}

pub fn call(name: &str, args: &[Value]) -> NativeResult {
    call_with(MAX, name, args)
}

/// The result of a call that must succeed.
pub fn ok(name: &str, args: &[Value]) -> Value {
    match call(name, args) {
        Ok(v) => v,
        Err(Flow::Error(e)) => panic!("{name} failed: {e:?}"),
        Err(Flow::Effect(e)) => panic!("{name} asked for an effect: {e:?}"),
    }
}

/// The error of a call that must fail.
pub fn err_with(max: usize, name: &str, args: &[Value]) -> RtError {
    match call_with(max, name, args) {
        Ok(v) => panic!("{name} succeeded with {}", show(&v)),
        Err(Flow::Error(e)) => e,
        Err(Flow::Effect(e)) => panic!("{name} asked for an effect: {e:?}"),
    }
}

pub fn err(name: &str, args: &[Value]) -> RtError {
    err_with(MAX, name, args)
}

/// Assert a call fails with `kind` and a message containing `needle`.
pub fn fails(name: &str, args: &[Value], kind: &str, needle: &str) {
    let e = err(name, args);
    assert_eq!(e.kind, kind, "{name}: wrong kind for {:?}", e.message);
    assert!(
        e.message.contains(needle),
        "{name}: {:?} does not contain {needle:?}",
        e.message
    );
}

/// The effect a call must ask for.
pub fn effect(name: &str, args: &[Value]) -> Effect {
    match call(name, args) {
        Err(Flow::Effect(e)) => e,
        Ok(v) => panic!("{name} returned {}", show(&v)),
        Err(Flow::Error(e)) => panic!("{name} failed: {e:?}"),
    }
}

/// The display form (what `str(v)` gives).
pub fn show(v: &Value) -> String {
    turn_vm::display(v, &program()).unwrap_or_else(|e| format!("<{e:?}>"))
}

/// Assert a call returns a value whose display form is `expected`.
pub fn check(name: &str, args: &[Value], expected: &str) {
    assert_eq!(show(&ok(name, args)), expected, "{name}");
}

pub fn n(x: f64) -> Value {
    Value::Num(x)
}
pub fn s(x: &str) -> Value {
    Value::str(x)
}
pub fn l(items: Vec<Value>) -> Value {
    Value::list(items)
}
pub fn nums(xs: &[f64]) -> Value {
    l(xs.iter().map(|x| n(*x)).collect())
}
pub fn strs(xs: &[&str]) -> Value {
    l(xs.iter().map(|x| s(x)).collect())
}
pub fn m(pairs: &[(&str, Value)]) -> Value {
    let mut map = Map::default();
    for (k, v) in pairs {
        map.insert((*k).to_string(), v.clone());
    }
    Value::map(map)
}
pub fn point(x: f64, y: f64) -> Value {
    Value::Struct(Rc::new(StructValue {
        sid: 0,
        fields: vec![n(x), n(y)].into(),
    }))
}
pub fn uncertain(v: Value, confidence: f64) -> Value {
    Value::Uncertain(Rc::new(Uncertain {
        value: v,
        confidence,
        fields: None,
    }))
}
pub fn same(a: &Value, b: &Value) -> bool {
    values_equal(a, b)
}

#[test]
fn every_native_name_is_unique() {
    let names: Vec<&str> = turn_std::natives().iter().map(|d| d.name).collect();
    for (i, a) in names.iter().enumerate() {
        assert!(!names[i + 1..].contains(a), "{a} is defined twice");
    }
}

#[test]
fn arities_are_sane() {
    for d in turn_std::natives() {
        assert!(d.arity.min <= d.arity.max, "{}", d.name);
    }
}

#[test]
fn friendly_builtins_exist() {
    for name in [
        "len",
        "push",
        "keys",
        "values",
        "str",
        "num",
        "type_of",
        "print",
        "echo",
        "range",
        "list_push",
        "list_contains",
    ] {
        assert!(
            turn_std::natives().iter().any(|d| d.name == name),
            "missing builtin {name}"
        );
    }
}
