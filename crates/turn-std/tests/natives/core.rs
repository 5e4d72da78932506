//! The friendly builtins.

use crate::*;
use turn_vm::{Effect, Value};

#[test]
fn len_counts_characters_elements_and_fields() {
    check("len", &[s("héllo")], "5");
    check("len", &[s("")], "0");
    check("len", &[s("日本語🎉")], "4");
    check("len", &[nums(&[1.0, 2.0, 3.0])], "3");
    check("len", &[m(&[("a", n(1.0)), ("b", n(2.0))])], "2");
    check("len", &[Value::Vector(Rc::new(vec![0.1, 0.2]))], "2");
    check("len", &[point(1.0, 2.0)], "2");
    check("len", &[uncertain(s("abc"), 0.5)], "3");
    fails(
        "len",
        &[n(3.0)],
        "type",
        "len expects a Str, List, Map, Vec or struct as its first argument, found Num",
    );
    fails("len", &[Value::Null], "type", "found Null");
}

#[test]
fn push_builds_a_new_list() {
    let xs = nums(&[1.0, 2.0]);
    check("push", &[xs.clone(), n(3.0)], "[1, 2, 3]");
    assert_eq!(show(&xs), "[1, 2]", "the original is unchanged");
    check("push", &[l(vec![]), s("a")], "[\"a\"]");
    check("list_push", &[nums(&[1.0]), n(2.0)], "[1, 2]");
    fails(
        "push",
        &[s("ab"), n(1.0)],
        "type",
        "push expects a List as its first argument, found Str",
    );
    fails(
        "list_push",
        &[n(1.0), n(1.0)],
        "type",
        "list_push expects a List",
    );
}

#[test]
fn push_respects_the_size_limit() {
    let full = nums(&[0.0; 3]);
    let e = err_with(3, "push", &[full, n(1.0)]);
    assert_eq!(e.kind, "limit");
}

#[test]
fn keys_and_values_of_maps_and_structs_keep_order() {
    let map = m(&[("z", n(1.0)), ("a", n(2.0)), ("m", n(3.0))]);
    check("keys", std::slice::from_ref(&map), "[\"z\", \"a\", \"m\"]");
    check("values", &[map], "[1, 2, 3]");
    check("keys", &[point(1.0, 2.0)], "[\"x\", \"y\"]");
    check("values", &[point(1.0, 2.0)], "[1, 2]");
    check("keys", &[m(&[])], "[]");
    fails(
        "keys",
        &[nums(&[1.0])],
        "type",
        "keys expects a Map or struct as its first argument, found List",
    );
    fails("values", &[s("x")], "type", "found Str");
}

#[test]
fn str_is_the_display_form() {
    check("str", &[n(3.0)], "3");
    check("str", &[n(-2.5)], "-2.5");
    check("str", &[n(1e21)], "1e+21");
    check("str", &[n(1e20)], "100000000000000000000");
    check("str", &[n(-42.0)], "-42");
    check("str", &[s("hi")], "hi");
    check("str", &[Value::Null], "null");
    check("str", &[Value::Bool(true)], "true");
    check("str", &[l(vec![s("a"), n(1.0)])], "[\"a\", 1]");
    check("str", &[point(1.0, 2.0)], "Point { x: 1, y: 2 }");
    check("str", &[uncertain(n(4.0), 0.3)], "4");
    fails(
        "str",
        &[Value::Identity(7)],
        "identity",
        "cannot be converted",
    );
    fails(
        "str",
        &[l(vec![Value::Identity(7)])],
        "identity",
        "cannot be converted",
    );
}

#[test]
fn str_refuses_values_too_large_to_print() {
    // A shared list doubled 40 times would print 2^40 elements.
    let mut v = n(1.0);
    for _ in 0..40 {
        v = l(vec![v.clone(), v]);
    }
    fails("str", &[v.clone()], "limit", "size limit");
    fails("echo", &[v.clone()], "limit", "size limit");
    fails("print", &[v], "limit", "size limit");
    let e = err_with(4, "str", &[strs(&["abc", "def"])]);
    assert_eq!(e.kind, "limit");
}

#[test]
fn num_converts_strings_bools_and_numbers() {
    check("num", &[n(2.5)], "2.5");
    check("num", &[s("42")], "42");
    check("num", &[s("  -2.5 ")], "-2.5");
    check("num", &[s("+7")], "7");
    check("num", &[s("1e3")], "1000");
    check("num", &[s("2.5E-1")], "0.25");
    check("num", &[s("1_000_000")], "1000000");
    check("num", &[Value::Bool(true)], "1");
    check("num", &[Value::Bool(false)], "0");
    check("num", &[uncertain(s("3"), 0.9)], "3");
    for bad in [
        "abc", "", " ", "1.2.3", "1_", "_1", "1__0", "inf", "NaN", "infinity", "0x10", "1e", "1.",
        ".5", "--1", "1e999", "1 2",
    ] {
        fails("num", &[s(bad)], "value", "cannot convert");
    }
    fails(
        "num",
        &[s("abc")],
        "value",
        "cannot convert \"abc\" to a number",
    );
    fails(
        "num",
        &[Value::Null],
        "type",
        "num expects a Num, Str or Bool as its first argument, found Null",
    );
    fails("num", &[nums(&[1.0])], "type", "found List");
}

#[test]
fn num_error_messages_stay_short() {
    let long = "x".repeat(5000);
    let e = err("num", &[s(&long)]);
    assert!(e.message.len() < 200, "{}", e.message);
}

#[test]
fn type_of_names_every_kind() {
    let cases: Vec<(Value, &str)> = vec![
        (Value::Null, "Null"),
        (Value::Bool(false), "Bool"),
        (n(1.0), "Num"),
        (s("x"), "Str"),
        (l(vec![]), "List"),
        (m(&[]), "Map"),
        (Value::Vector(Rc::new(vec![])), "Vec"),
        (Value::Native(0), "Fn"),
        (Value::Pid(3), "Pid"),
        (Value::Identity(1), "Identity"),
        (point(0.0, 0.0), "Point"),
        (uncertain(n(1.0), 0.5), "Num"),
    ];
    for (v, name) in cases {
        check("type_of", &[v], name);
    }
}

#[test]
fn print_and_echo_ask_for_output() {
    match effect("print", &[s("hi"), n(3.0), nums(&[1.0])]) {
        Effect::Print { text } => assert_eq!(text, "hi 3 [1]"),
        e => panic!("{e:?}"),
    }
    match effect("print", &[]) {
        Effect::Print { text } => assert_eq!(text, ""),
        e => panic!("{e:?}"),
    }
    match effect("echo", &[m(&[("a", s("b"))])]) {
        Effect::Print { text } => assert_eq!(text, "{\"a\": \"b\"}"),
        e => panic!("{e:?}"),
    }
    fails(
        "echo",
        &[Value::Identity(1)],
        "identity",
        "cannot be converted",
    );
    fails(
        "print",
        &[s("token:"), Value::Identity(1)],
        "identity",
        "cannot be converted",
    );
}

#[test]
fn range_forms() {
    check("range", &[n(4.0)], "[0, 1, 2, 3]");
    check("range", &[n(0.0)], "[]");
    check("range", &[n(-3.0)], "[]");
    check("range", &[n(2.0), n(5.0)], "[2, 3, 4]");
    check("range", &[n(5.0), n(2.0)], "[]");
    check("range", &[n(5.0), n(2.0), n(-1.0)], "[5, 4, 3]");
    check("range", &[n(0.0), n(10.0), n(3.0)], "[0, 3, 6, 9]");
    check("range", &[n(0.0), n(1.0), n(0.25)], "[0, 0.25, 0.5, 0.75]");
    check("range", &[n(2.5)], "[0, 1, 2]");
    check("range", &[uncertain(n(2.0), 0.5)], "[0, 1]");
    let tenth = ok("range", &[n(0.0), n(0.3), n(0.1)]);
    assert_eq!(show(&tenth), "[0, 0.1, 0.2]");
}

#[test]
fn range_errors_and_limits() {
    fails(
        "range",
        &[n(0.0), n(5.0), n(0.0)],
        "value",
        "step must not be 0",
    );
    fails("range", &[n(f64::NAN)], "value", "finite");
    fails("range", &[n(f64::INFINITY)], "value", "finite");
    fails("range", &[n(1e12)], "limit", "size limit");
    fails(
        "range",
        &[n(-1e308), n(1e308), n(1e-300)],
        "value",
        "too many",
    );
    fails(
        "range",
        &[s("3")],
        "type",
        "range expects a Num as its first argument, found Str",
    );
    fails("range", &[n(0.0), n(3.0), s("1")], "type", "third argument");
    assert_eq!(err_with(3, "range", &[n(4.0)]).kind, "limit");
    check(
        "range",
        &[n(MAX as f64)],
        &show(&ok("range", &[n(0.0), n(MAX as f64)])),
    );
}

#[test]
fn list_contains_uses_deep_equality() {
    let xs = l(vec![nums(&[1.0, 2.0]), s("a"), m(&[("k", n(1.0))])]);
    check("list_contains", &[xs.clone(), nums(&[1.0, 2.0])], "true");
    check("list_contains", &[xs.clone(), m(&[("k", n(1.0))])], "true");
    check("list_contains", &[xs.clone(), s("b")], "false");
    check("list_contains", &[xs, uncertain(s("a"), 0.2)], "true");
    fails(
        "list_contains",
        &[s("abc"), s("a")],
        "type",
        "list_contains expects a List",
    );
    fails(
        "list_contains",
        &[l(vec![Value::Identity(1)]), Value::Identity(1)],
        "identity",
        "cannot be compared",
    );
}

#[test]
fn sys_check_reports_like_a_native() {
    let xs = nums(&[1.0]);
    assert!(same(
        &ok(
            "__sys_check",
            &[xs.clone(), s("List"), s("list.map"), n(1.0)]
        ),
        &xs
    ));
    check(
        "__sys_check",
        &[Value::Native(2), s("Fn"), s("list.map"), n(2.0)],
        "<builtin ?>",
    );
    fails(
        "__sys_check",
        &[n(3.0), s("Fn"), s("list.map"), n(2.0)],
        "type",
        "list.map expects a Fn as its second argument, found Num",
    );
    fails(
        "__sys_check",
        &[point(1.0, 1.0), s("List"), s("list.filter"), n(1.0)],
        "type",
        "found Point",
    );
}
