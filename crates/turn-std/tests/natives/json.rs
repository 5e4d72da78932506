//! std/json natives and the to_json/from_json conversion.

use crate::*;
use serde_json::json;
use turn_std::{from_json, to_json};
use turn_vm::value::ErrorValue;
use turn_vm::Value;

fn stringify(v: Value) -> String {
    show(&ok("__sys_json_stringify", &[v]))
}

#[test]
fn integers_print_without_a_fraction() {
    assert_eq!(stringify(n(3.0)), "3");
    assert_eq!(stringify(n(-0.0)), "0");
    assert_eq!(stringify(n(2.5)), "2.5");
    assert_eq!(stringify(n(9_007_199_254_740_991.0)), "9007199254740991");
    assert_eq!(stringify(nums(&[1.0, 2.0, 1e3])), "[1,2,1000]");
    let big = stringify(n(1e300));
    assert_eq!(big.parse::<f64>().ok(), Some(1e300));
}

#[test]
fn objects_keep_their_order() {
    let v = m(&[
        ("z", n(1.0)),
        ("a", l(vec![Value::Null, Value::Bool(true)])),
        ("m", s("x\"y")),
    ]);
    assert_eq!(stringify(v), r#"{"z":1,"a":[null,true],"m":"x\"y"}"#);
    let parsed = ok(
        "__sys_json_parse",
        &[s(r#"{"b": 1, "a": {"y": [1.5, "s", null], "x": false}}"#)],
    );
    assert_eq!(
        show(&parsed),
        r#"{"b": 1, "a": {"y": [1.5, "s", null], "x": false}}"#
    );
}

#[test]
fn round_trips() {
    for text in [
        r#"{"name":"Ann","tags":["a","b"],"age":30,"ratio":0.25,"ok":true,"none":null}"#,
        "[]",
        "{}",
        r#""héllo 🎉""#,
        "-12",
        r#"[[[1]],{"k":{"k":{}}}]"#,
    ] {
        let v = ok("__sys_json_parse", &[s(text)]);
        assert_eq!(stringify(v), text);
    }
}

#[test]
fn pretty_printing() {
    let v = m(&[("a", nums(&[1.0, 2.0]))]);
    let text = show(&ok("__sys_json_stringify", &[v.clone(), n(2.0)]));
    assert_eq!(text, "{\n  \"a\": [\n    1,\n    2\n  ]\n}");
    let text = show(&ok("__sys_json_stringify", &[v.clone(), n(4.0)]));
    assert!(text.contains("\n    \"a\""), "{text}");
    assert_eq!(
        show(&ok("__sys_json_stringify", &[v.clone(), n(0.0)])),
        r#"{"a":[1,2]}"#
    );
    assert_eq!(
        show(&ok("__sys_json_stringify", &[v.clone(), Value::Null])),
        r#"{"a":[1,2]}"#
    );
    fails(
        "__sys_json_stringify",
        &[v.clone(), n(-1.0)],
        "value",
        "not be negative",
    );
    fails(
        "__sys_json_stringify",
        &[v.clone(), n(1000.0)],
        "value",
        "at most 16",
    );
    fails(
        "__sys_json_stringify",
        &[v, s("  ")],
        "type",
        "json.stringify expects a Num as its second argument, found Str",
    );
}

#[test]
fn structs_vectors_uncertain_and_errors() {
    assert_eq!(stringify(point(1.0, 2.5)), r#"{"x":1,"y":2.5}"#);
    assert_eq!(stringify(Value::Vector(Rc::new(vec![0.5, 1.0]))), "[0.5,1]");
    assert_eq!(stringify(uncertain(s("maybe"), 0.4)), r#""maybe""#);
    let e = Value::Error(Rc::new(ErrorValue {
        kind: "value".into(),
        message: "bad".into(),
        file: "main.tn".into(),
        line: 3,
        col: 7,
        trace: vec![],
        data: Value::Null,
    }));
    assert_eq!(
        stringify(e),
        r#"{"kind":"value","message":"bad","line":3,"col":7}"#
    );
}

#[test]
fn unrepresentable_values_are_refused() {
    fails(
        "__sys_json_stringify",
        &[n(f64::NAN)],
        "json",
        "NaN cannot be converted to JSON",
    );
    fails(
        "__sys_json_stringify",
        &[nums(&[f64::INFINITY])],
        "json",
        "infinite",
    );
    fails(
        "__sys_json_stringify",
        &[Value::Vector(Rc::new(vec![f64::NAN]))],
        "json",
        "NaN",
    );
    fails(
        "__sys_json_stringify",
        &[Value::Native(0)],
        "json",
        "a function cannot be converted to JSON",
    );
    fails(
        "__sys_json_stringify",
        &[m(&[("pid", Value::Pid(4))])],
        "json",
        "Pid cannot be converted",
    );
}

#[test]
fn identities_are_refused_without_revealing_anything() {
    let e = err(
        "__sys_json_stringify",
        &[m(&[("token", Value::Identity(12345))])],
    );
    assert_eq!(e.kind, "identity");
    assert!(!e.message.contains("12345"), "{}", e.message);
    assert!(!e.message.contains("token"), "{}", e.message);
    assert_eq!(e.data, Value::Null);
    let direct = to_json(&Value::Identity(9), &program());
    assert!(matches!(direct, Err(ref e) if e.kind == "identity" && !e.message.contains('9')));
}

#[test]
fn nesting_and_size_limits() {
    let mut deep = n(1.0);
    for _ in 0..600 {
        deep = l(vec![deep]);
    }
    fails("__sys_json_stringify", &[deep], "limit", "nested");
    let mut shared = n(1.0);
    for _ in 0..40 {
        shared = l(vec![shared.clone(), shared]);
    }
    fails(
        "__sys_json_stringify",
        &[shared.clone()],
        "limit",
        "size limit",
    );
    match to_json(&shared, &program()) {
        Err(e) => assert_eq!(e.kind, "limit"),
        Ok(_) => panic!("a 2^40-node value was converted"),
    }
    assert_eq!(
        err_with(5, "__sys_json_stringify", &[s("abcdefgh")]).kind,
        "limit"
    );
}

#[test]
fn parse_errors_carry_line_and_column() {
    let e = err("__sys_json_parse", &[s("{\n  \"a\": ,\n}")]);
    assert_eq!(e.kind, "json");
    assert!(e.message.contains("line 2 column"), "{}", e.message);
    fails("__sys_json_parse", &[s("")], "json", "invalid JSON");
    fails("__sys_json_parse", &[s("[1, 2")], "json", "invalid JSON");
    fails("__sys_json_parse", &[s("{} extra")], "json", "trailing");
    fails(
        "__sys_json_parse",
        &[n(1.0)],
        "type",
        "json.parse expects a Str as its first argument, found Num",
    );
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    fails("__sys_json_parse", &[s(&deep)], "json", "recursion limit");
}

#[test]
fn from_json_keeps_order_and_uses_doubles() {
    let v = from_json(&json!({"b": 1, "a": [2, 3.5, u64::MAX], "c": null}));
    // u64::MAX is not a double: it rounds to 2^64.
    assert_eq!(
        show(&v),
        r#"{"b": 1, "a": [2, 3.5, 18446744073709551616], "c": null}"#
    );
    let back = to_json(&v, &program()).map_err(|e| e.message);
    assert_eq!(back.map(|j| j["b"].to_string()), Ok("1".to_string()));
}
