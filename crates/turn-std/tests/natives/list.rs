//! std/list natives.

use crate::*;
use turn_vm::Value;

#[test]
fn sort_numbers_and_strings() {
    check(
        "__sys_list_sort",
        &[nums(&[3.0, -1.0, 2.5, 0.0])],
        "[-1, 0, 2.5, 3]",
    );
    check(
        "__sys_list_sort",
        &[strs(&["pear", "Apple", "apple", "é", "b"])],
        r#"["Apple", "apple", "b", "pear", "é"]"#,
    );
    check("__sys_list_sort", &[l(vec![])], "[]");
    check(
        "__sys_list_sort",
        &[l(vec![nums(&[2.0, 1.0]), nums(&[1.0, 5.0]), nums(&[1.0])])],
        "[[1], [1, 5], [2, 1]]",
    );
    check(
        "__sys_list_sort",
        &[l(vec![uncertain(n(2.0), 0.5), n(1.0)])],
        "[1, 2]",
    );
    check(
        "__sys_list_sort",
        &[nums(&[f64::NAN, 1.0, f64::INFINITY, f64::NEG_INFINITY])],
        "[-Infinity, 1, Infinity, NaN]",
    );
    fails(
        "__sys_list_sort",
        &[l(vec![n(1.0), s("a")])],
        "type",
        "list.sort cannot compare Num with Str",
    );
    fails(
        "__sys_list_sort",
        &[l(vec![m(&[]), m(&[])])],
        "type",
        "can only sort numbers, strings or lists, found Map",
    );
    fails(
        "__sys_list_sort",
        &[l(vec![point(1.0, 1.0)])],
        "type",
        "found Point",
    );
    fails(
        "__sys_list_sort",
        &[s("cba")],
        "type",
        "list.sort expects a List as its first argument, found Str",
    );
    // Mixed kinds inside list keys are ordered by kind rather than failing.
    check(
        "__sys_list_sort",
        &[l(vec![l(vec![s("a")]), l(vec![n(1.0)])])],
        r#"[[1], ["a"]]"#,
    );
}

#[test]
fn sort_by_keys_is_stable() {
    let people = l(vec![
        m(&[("name", s("b")), ("age", n(30.0))]),
        m(&[("name", s("a")), ("age", n(20.0))]),
        m(&[("name", s("c")), ("age", n(30.0))]),
        m(&[("name", s("d")), ("age", n(20.0))]),
    ]);
    let sorted = ok(
        "__sys_list_sort_by_keys",
        &[people, nums(&[30.0, 20.0, 30.0, 20.0])],
    );
    let names: Vec<String> = match &sorted {
        Value::List(xs) => xs
            .iter()
            .map(|x| match x {
                Value::Map(m) => show(&m["name"]),
                _ => String::new(),
            })
            .collect(),
        _ => vec![],
    };
    assert_eq!(names, ["a", "d", "b", "c"]);
    check(
        "__sys_list_sort_by_keys",
        &[strs(&["x", "y"]), strs(&["b", "a"])],
        r#"["y", "x"]"#,
    );
    fails(
        "__sys_list_sort_by_keys",
        &[strs(&["x"]), nums(&[1.0, 2.0])],
        "value",
        "2 keys for 1 elements",
    );
    fails(
        "__sys_list_sort_by_keys",
        &[strs(&["x", "y"]), l(vec![n(1.0), Value::Null])],
        "type",
        "list.sort_by cannot compare Num with Null",
    );
    // Stability on a large input with many equal keys.
    let xs: Vec<f64> = (0..1000).map(f64::from).collect();
    let keys: Vec<f64> = (0..1000).map(|i| f64::from(i % 3)).collect();
    let out = ok("__sys_list_sort_by_keys", &[nums(&xs), nums(&keys)]);
    let Value::List(out) = &out else {
        panic!("not a list")
    };
    let firsts: Vec<f64> = out.iter().take(3).filter_map(|v| v.as_num()).collect();
    assert_eq!(firsts, [0.0, 3.0, 6.0]);
}

#[test]
fn slicing_with_negative_and_clamped_positions() {
    let xs = nums(&[0.0, 1.0, 2.0, 3.0, 4.0]);
    check("__sys_list_slice", &[xs.clone(), n(1.0), n(3.0)], "[1, 2]");
    check("__sys_list_slice", &[xs.clone(), n(-2.0)], "[3, 4]");
    check(
        "__sys_list_slice",
        &[xs.clone(), n(0.0), n(-1.0)],
        "[0, 1, 2, 3]",
    );
    check(
        "__sys_list_slice",
        &[xs.clone(), n(-100.0), n(100.0)],
        "[0, 1, 2, 3, 4]",
    );
    check("__sys_list_slice", &[xs.clone(), n(3.0), n(1.0)], "[]");
    check(
        "__sys_list_slice",
        &[xs.clone(), n(9e18), Value::Null],
        "[]",
    );
    check("__sys_list_slice", &[l(vec![]), n(0.0), n(2.0)], "[]");
    fails(
        "__sys_list_slice",
        &[xs.clone(), n(f64::NAN)],
        "value",
        "whole number",
    );
    fails(
        "__sys_list_slice",
        &[xs.clone(), n(1.5)],
        "value",
        "whole number",
    );
    fails(
        "__sys_list_slice",
        &[xs, n(0.0), n(f64::NEG_INFINITY)],
        "value",
        "whole number",
    );
}

#[test]
fn contains_and_index_of() {
    let xs = l(vec![n(1.0), s("a"), nums(&[1.0, 2.0]), point(1.0, 2.0)]);
    check(
        "__sys_list_contains",
        &[xs.clone(), nums(&[1.0, 2.0])],
        "true",
    );
    check(
        "__sys_list_contains",
        &[xs.clone(), point(1.0, 2.0)],
        "true",
    );
    check("__sys_list_contains", &[xs.clone(), s("1")], "false");
    check("__sys_list_index_of", &[xs.clone(), s("a")], "1");
    check("__sys_list_index_of", &[xs.clone(), point(1.0, 2.0)], "3");
    check("__sys_list_index_of", &[xs, n(9.0)], "-1");
    check(
        "__sys_list_index_of",
        &[nums(&[f64::NAN]), n(f64::NAN)],
        "-1",
    );
    fails(
        "__sys_list_index_of",
        &[s("abc"), s("b")],
        "type",
        "list.index_of expects a List",
    );
    fails(
        "__sys_list_contains",
        &[l(vec![]), Value::Identity(3)],
        "identity",
        "cannot be compared",
    );
}

#[test]
fn shape_functions() {
    check("__sys_list_reverse", &[nums(&[1.0, 2.0, 3.0])], "[3, 2, 1]");
    check("__sys_list_reverse", &[l(vec![])], "[]");
    check(
        "__sys_list_zip",
        &[nums(&[1.0, 2.0, 3.0]), strs(&["a", "b"])],
        r#"[[1, "a"], [2, "b"]]"#,
    );
    check("__sys_list_zip", &[l(vec![]), strs(&["a"])], "[]");
    check(
        "__sys_list_enumerate",
        &[strs(&["a", "b"])],
        r#"[[0, "a"], [1, "b"]]"#,
    );
    check(
        "__sys_list_flatten",
        &[l(vec![
            nums(&[1.0, 2.0]),
            n(3.0),
            l(vec![nums(&[4.0])]),
            l(vec![]),
        ])],
        "[1, 2, 3, [4]]",
    );
    check(
        "__sys_list_concat",
        &[nums(&[1.0]), nums(&[2.0, 3.0])],
        "[1, 2, 3]",
    );
    check("__sys_list_first", &[nums(&[1.0, 2.0])], "1");
    check("__sys_list_last", &[nums(&[1.0, 2.0])], "2");
    check("__sys_list_first", &[l(vec![])], "null");
    check("__sys_list_last", &[l(vec![])], "null");
    check("__sys_list_len", &[nums(&[1.0, 2.0])], "2");
    fails(
        "__sys_list_len",
        &[s("ab")],
        "type",
        "list.len expects a List as its first argument, found Str",
    );
    fails(
        "__sys_list_zip",
        &[nums(&[1.0]), n(1.0)],
        "type",
        "list.zip expects a List as its second argument, found Num",
    );
    fails(
        "__sys_list_concat",
        &[nums(&[1.0]), m(&[])],
        "type",
        "found Map",
    );
    assert_eq!(
        err_with(2, "__sys_list_concat", &[nums(&[1.0, 2.0]), nums(&[3.0])]).kind,
        "limit"
    );
    assert_eq!(
        err_with(
            2,
            "__sys_list_flatten",
            &[l(vec![nums(&[1.0, 2.0]), nums(&[3.0])])]
        )
        .kind,
        "limit"
    );
}

#[test]
fn sum_and_unique() {
    check("__sys_list_sum", &[nums(&[1.0, 2.5, -0.5])], "3");
    check("__sys_list_sum", &[l(vec![])], "0");
    check(
        "__sys_list_sum",
        &[l(vec![uncertain(n(2.0), 0.5), n(1.0)])],
        "3",
    );
    fails(
        "__sys_list_sum",
        &[l(vec![n(1.0), s("2")])],
        "type",
        "list.sum expects a list of numbers, found Str in it",
    );
    check(
        "__sys_list_unique",
        &[l(vec![
            n(1.0),
            s("a"),
            n(1.0),
            nums(&[1.0]),
            s("a"),
            nums(&[1.0]),
            n(-0.0),
            n(0.0),
            Value::Null,
            Value::Null,
        ])],
        r#"[1, "a", [1], 0, null]"#,
    );
    check("__sys_list_unique", &[l(vec![])], "[]");
    check(
        "__sys_list_unique",
        &[nums(&[f64::NAN, f64::NAN])],
        "[NaN, NaN]",
    );
}

#[test]
fn list_range_is_range() {
    check("__sys_list_range", &[n(3.0)], "[0, 1, 2]");
    check("__sys_list_range", &[n(1.0), n(7.0), n(2.0)], "[1, 3, 5]");
    fails(
        "__sys_list_range",
        &[n(1.0), n(2.0), n(0.0)],
        "value",
        "list.range: the step must not be 0",
    );
}

#[test]
fn deeply_nested_keys_do_not_overflow() {
    let mut a = n(1.0);
    let mut b = n(2.0);
    for _ in 0..100_000 {
        a = l(vec![a]);
        b = l(vec![b]);
    }
    let sorted = ok("__sys_list_sort", &[l(vec![b.clone(), a.clone()])]);
    let Value::List(items) = &sorted else {
        panic!("not a list")
    };
    assert!(same(&items[0], &a));
    check("__sys_list_contains", &[l(vec![a.clone()]), a], "true");
}
