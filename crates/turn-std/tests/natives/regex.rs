//! std/regex natives.

use crate::*;
use turn_vm::Value;

#[test]
fn matching_and_finding() {
    check("__sys_regex_matches", &[s(r"\d+"), s("abc 123")], "true");
    check("__sys_regex_matches", &[s(r"^\d+$"), s("abc 123")], "false");
    check("__sys_regex_matches", &[s("é+"), s("caféé")], "true");
    check(
        "__sys_regex_find_all",
        &[s(r"\d+"), s("a1 b22 c333")],
        r#"["1", "22", "333"]"#,
    );
    check("__sys_regex_find_all", &[s(r"\d+"), s("none")], "[]");
    check(
        "__sys_regex_find_all",
        &[s("x*"), s("ab")],
        r#"["", "", ""]"#,
    );
    assert_eq!(
        err_with(2, "__sys_regex_find_all", &[s("a"), s("aaa")]).kind,
        "limit"
    );
}

#[test]
fn replacing_with_groups() {
    check(
        "__sys_regex_replace",
        &[s(r"(\w+)@(\w+)"), s("me@host you@there"), s("$2 at $1")],
        "host at me there at you",
    );
    check(
        "__sys_regex_replace",
        &[s(r"(?P<y>\d{4})"), s("in 2024"), s("year ${y}")],
        "in year 2024",
    );
    check(
        "__sys_regex_replace",
        &[s("a"), s("banana"), s("$$")],
        "b$n$n$",
    );
    check("__sys_regex_replace", &[s("z"), s("abc"), s("y")], "abc");
    check("__sys_regex_replace", &[s(""), s("ab"), s("-")], "-a-b-");
    let e = err_with(
        50,
        "__sys_regex_replace",
        &[s(""), s(&"a".repeat(40)), s("xx")],
    );
    assert_eq!(e.kind, "limit");
}

#[test]
fn captures_and_split() {
    check(
        "__sys_regex_captures",
        &[s(r"(\d+)-(\d+)"), s("from 10-20 to 30-40")],
        r#"["10-20", "10", "20"]"#,
    );
    check(
        "__sys_regex_captures",
        &[s(r"(a)|(b)"), s("b")],
        r#"["b", null, "b"]"#,
    );
    check("__sys_regex_captures", &[s(r"\d"), s("none")], "null");
    check(
        "__sys_regex_split",
        &[s(r"\s*,\s*"), s("a , b,c")],
        r#"["a", "b", "c"]"#,
    );
    check("__sys_regex_split", &[s(","), s("")], r#"[""]"#);
}

#[test]
fn invalid_patterns_and_arguments() {
    let e = err("__sys_regex_matches", &[s("(unclosed"), s("x")]);
    assert_eq!(e.kind, "regex");
    assert!(e.message.contains("unclosed group"), "{}", e.message);
    fails(
        "__sys_regex_matches",
        &[n(1.0), s("x")],
        "type",
        "regex.matches expects a Str as its first argument, found Num",
    );
    fails(
        "__sys_regex_replace",
        &[s("a"), s("a"), Value::Null],
        "type",
        "third argument, found Null",
    );
    // Too large a compiled program is refused, not built.
    let e = err("__sys_regex_matches", &[s(r"\w{1000}{1000}"), s("x")]);
    assert_eq!(e.kind, "regex");
}

#[test]
fn the_cache_survives_many_patterns() {
    for i in 0..100 {
        let pattern = format!("x{i}y");
        check(
            "__sys_regex_matches",
            &[s(&pattern), s(&format!("ax{i}yb"))],
            "true",
        );
    }
    check("__sys_regex_matches", &[s("x5y"), s("x5y")], "true");
}

#[test]
fn replacement_expansion_is_bounded_before_it_is_built() {
    // 1000 references to a 5000-byte match would build 5 MB.
    let text = "a".repeat(5000);
    let e = err(
        "__sys_regex_replace",
        &[s(".+"), s(&text), s(&"$0".repeat(1000))],
    );
    assert_eq!(e.kind, "limit");
    check(
        "__sys_regex_replace",
        &[s("(a+)"), s("xaay"), s("[$1$1]")],
        "x[aaaa]y",
    );
}
