//! std/str natives.

use crate::*;
use turn_vm::Value;

#[test]
fn split_and_join() {
    check(
        "__sys_str_split",
        &[s("a,b,,c"), s(",")],
        r#"["a", "b", "", "c"]"#,
    );
    check("__sys_str_split", &[s(""), s(",")], r#"[""]"#);
    check(
        "__sys_str_split",
        &[s("héllo"), s("")],
        r#"["h", "é", "l", "l", "o"]"#,
    );
    check("__sys_str_split", &[s(""), s("")], "[]");
    check("__sys_str_split", &[s("a::b"), s("::")], r#"["a", "b"]"#);
    fails(
        "__sys_str_split",
        &[n(1.0), s(",")],
        "type",
        "str.split expects a Str as its first argument, found Num",
    );
    fails(
        "__sys_str_split",
        &[s("a"), n(1.0)],
        "type",
        "str.split expects a Str as its second argument, found Num",
    );
    check(
        "__sys_str_join",
        &[strs(&["a", "b", "c"]), s(", ")],
        "a, b, c",
    );
    check("__sys_str_join", &[l(vec![]), s(",")], "");
    check(
        "__sys_str_join",
        &[l(vec![n(1.0), s("x"), nums(&[2.0]), Value::Null]), s("-")],
        r#"1-x-[2]-null"#,
    );
    fails(
        "__sys_str_join",
        &[s("abc"), s(",")],
        "type",
        "str.join expects a List",
    );
    fails(
        "__sys_str_join",
        &[l(vec![Value::Identity(1)]), s(",")],
        "identity",
        "cannot be converted",
    );
    assert_eq!(
        err_with(5, "__sys_str_join", &[strs(&["abc", "def"]), s("")]).kind,
        "limit"
    );
    assert_eq!(
        err_with(3, "__sys_str_split", &[s("abcd"), s("")]).kind,
        "limit"
    );
}

#[test]
fn trimming_and_case() {
    check("__sys_str_trim", &[s("  a b \n")], "a b");
    check("__sys_str_trim_start", &[s("  a ")], "a ");
    check("__sys_str_trim_end", &[s("  a ")], "  a");
    check("__sys_str_upper", &[s("héllo ß")], "HÉLLO SS");
    check("__sys_str_lower", &[s("ÀB")], "àb");
    check("__sys_str_trim", &[uncertain(s(" x "), 0.4)], "x");
    fails(
        "__sys_str_upper",
        &[Value::Null],
        "type",
        "str.upper expects a Str as its first argument, found Null",
    );
}

#[test]
fn searching() {
    check("__sys_str_contains", &[s("hello"), s("ell")], "true");
    check("__sys_str_contains", &[s("hello"), s("")], "true");
    check("__sys_str_contains", &[s("hello"), s("xyz")], "false");
    check("__sys_str_starts_with", &[s("hello"), s("he")], "true");
    check("__sys_str_ends_with", &[s("hello"), s("lo")], "true");
    check("__sys_str_ends_with", &[s("hello"), s("he")], "false");
    check("__sys_str_index_of", &[s("héllo"), s("l")], "2");
    check("__sys_str_index_of", &[s("héllo"), s("z")], "-1");
    check("__sys_str_index_of", &[s("abc"), s("")], "0");
    check("__sys_str_index_of", &[s("日本語"), s("語")], "2");
    fails(
        "__sys_str_contains",
        &[nums(&[1.0]), n(1.0)],
        "type",
        "str.contains expects a Str",
    );
}

#[test]
fn replace_all_occurrences() {
    check("__sys_str_replace", &[s("a-b-c"), s("-"), s("+")], "a+b+c");
    check("__sys_str_replace", &[s("aaa"), s("a"), s("")], "");
    check("__sys_str_replace", &[s("ab"), s(""), s(".")], ".a.b.");
    check("__sys_str_replace", &[s("héé"), s("é"), s("e")], "hee");
    assert_eq!(
        err_with(
            100,
            "__sys_str_replace",
            &[s(&"a".repeat(50)), s("a"), s("xyz")]
        )
        .kind,
        "limit"
    );
    assert_eq!(
        err_with(
            100,
            "__sys_str_replace",
            &[s(&"a".repeat(50)), s(""), s("xy")]
        )
        .kind,
        "limit"
    );
    check(
        "__sys_str_replace",
        &[s(&"ab".repeat(40)), s("ab"), s("c")],
        &"c".repeat(40),
    );
}

#[test]
fn slice_by_characters() {
    let word = s("héllo");
    check("__sys_str_slice", &[word.clone(), n(1.0), n(3.0)], "él");
    check("__sys_str_slice", &[word.clone(), n(1.0)], "éllo");
    check("__sys_str_slice", &[word.clone(), n(-3.0)], "llo");
    check("__sys_str_slice", &[word.clone(), n(-3.0), n(-1.0)], "ll");
    check(
        "__sys_str_slice",
        &[word.clone(), n(0.0), n(100.0)],
        "héllo",
    );
    check("__sys_str_slice", &[word.clone(), n(-100.0), n(2.0)], "hé");
    check("__sys_str_slice", &[word.clone(), n(4.0), n(2.0)], "");
    check("__sys_str_slice", &[word.clone(), n(1e300), n(1e308)], "");
    check(
        "__sys_str_slice",
        &[word.clone(), n(1.0), Value::Null],
        "éllo",
    );
    check("__sys_str_slice", &[s("🎉x🎉"), n(1.0), n(2.0)], "x");
    check("__sys_str_slice", &[s(""), n(0.0), n(1.0)], "");
    fails(
        "__sys_str_slice",
        &[word.clone(), n(0.5)],
        "value",
        "whole number",
    );
    fails(
        "__sys_str_slice",
        &[word.clone(), n(f64::NAN)],
        "value",
        "whole number",
    );
    fails(
        "__sys_str_slice",
        &[word.clone(), n(0.0), n(f64::INFINITY)],
        "value",
        "whole number",
    );
    fails(
        "__sys_str_slice",
        &[word, s("1")],
        "type",
        "str.slice expects a Num as its second argument, found Str",
    );
}

#[test]
fn chars_len_and_repeat() {
    check("__sys_str_chars", &[s("aé🎉")], r#"["a", "é", "🎉"]"#);
    check("__sys_str_chars", &[s("")], "[]");
    check("__sys_str_len", &[s("aé🎉")], "3");
    fails(
        "__sys_str_len",
        &[nums(&[1.0])],
        "type",
        "str.len expects a Str as its first argument, found List",
    );
    check("__sys_str_repeat", &[s("ab"), n(3.0)], "ababab");
    check("__sys_str_repeat", &[s("ab"), n(0.0)], "");
    check("__sys_str_repeat", &[s(""), n(1e15)], "");
    fails(
        "__sys_str_repeat",
        &[s("x"), n(1e12)],
        "limit",
        "size limit",
    );
    fails(
        "__sys_str_repeat",
        &[s("x"), n(1e300)],
        "limit",
        "size limit",
    );
    fails(
        "__sys_str_repeat",
        &[s("x"), n(-1.0)],
        "value",
        "not be negative",
    );
    fails(
        "__sys_str_repeat",
        &[s("x"), n(1.5)],
        "value",
        "whole number",
    );
    fails(
        "__sys_str_repeat",
        &[s("x"), n(f64::NAN)],
        "value",
        "whole number",
    );
    assert_eq!(err_with(5, "__sys_str_chars", &[s("abcdef")]).kind, "limit");
}

#[test]
fn padding() {
    check("__sys_str_pad_start", &[s("7"), n(3.0), s("0")], "007");
    check("__sys_str_pad_start", &[s("ab"), n(5.0)], "   ab");
    check("__sys_str_pad_end", &[s("ab"), n(5.0), s("xy")], "abxyx");
    check("__sys_str_pad_end", &[s("abcdef"), n(3.0)], "abcdef");
    check("__sys_str_pad_start", &[s("é"), n(3.0), s("ü")], "üüé");
    fails(
        "__sys_str_pad_start",
        &[s("a"), n(3.0), s("")],
        "value",
        "fill must not be empty",
    );
    fails(
        "__sys_str_pad_end",
        &[s("a"), n(1e18)],
        "limit",
        "size limit",
    );
    fails(
        "__sys_str_pad_end",
        &[s("a"), n(-2.0)],
        "value",
        "not be negative",
    );
    fails(
        "__sys_str_pad_end",
        &[s("a"), n(3.0), n(0.0)],
        "type",
        "third argument, found Num",
    );
}

#[test]
fn format_placeholders() {
    check(
        "__sys_str_format",
        &[s("{} + {} = {}"), n(1.0), n(2.0), n(3.0)],
        "1 + 2 = 3",
    );
    check("__sys_str_format", &[s("{1}{0}{1}"), s("a"), s("b")], "bab");
    check(
        "__sys_str_format",
        &[
            s("hi {name}, {age}"),
            m(&[("name", s("Ann")), ("age", n(30.0))]),
        ],
        "hi Ann, 30",
    );
    check(
        "__sys_str_format",
        &[s("({x}, {y})"), point(1.0, 2.5)],
        "(1, 2.5)",
    );
    check(
        "__sys_str_format",
        &[s("{{literal}} {}"), s("x")],
        "{literal} x",
    );
    check(
        "__sys_str_format",
        &[s("no placeholders")],
        "no placeholders",
    );
    check("__sys_str_format", &[s("{}"), strs(&["a"])], r#"["a"]"#);
    check("__sys_str_format", &[s("é{}é"), s("ü")], "éüé");
    fails(
        "__sys_str_format",
        &[s("{} {}"), n(1.0)],
        "value",
        "needs argument 1",
    );
    fails(
        "__sys_str_format",
        &[s("{3}"), n(1.0)],
        "value",
        "no argument 3",
    );
    fails(
        "__sys_str_format",
        &[s("{99999999999999999999999}"), n(1.0)],
        "value",
        "no argument",
    );
    fails(
        "__sys_str_format",
        &[s("{name}"), n(1.0)],
        "value",
        "no value for {name}",
    );
    fails(
        "__sys_str_format",
        &[s("{name}"), m(&[("other", n(1.0))])],
        "value",
        "no value for {name}",
    );
    fails(
        "__sys_str_format",
        &[s("open {"), n(1.0)],
        "value",
        "unclosed '{'",
    );
    fails(
        "__sys_str_format",
        &[s("close }"), n(1.0)],
        "value",
        "unmatched '}'",
    );
    fails(
        "__sys_str_format",
        &[s("{}"), Value::Identity(1)],
        "identity",
        "cannot be converted",
    );
    fails(
        "__sys_str_format",
        &[n(1.0)],
        "type",
        "str.format expects a Str as its first argument",
    );
    assert_eq!(
        err_with(
            10,
            "__sys_str_format",
            &[s("{}{}"), s("abcdef"), s("ghijkl")]
        )
        .kind,
        "limit"
    );
}
