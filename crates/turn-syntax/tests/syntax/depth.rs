//! Nesting limits: deep or long source gives one `E0003` and never overflows
//! the stack. Every test runs on a thread with a 2 MiB stack, the default for
//! spawned threads, and drops the tree there too.

use turn_syntax::parser::{MAX_CHAIN, MAX_DEPTH};
use turn_syntax::{parse, Diagnostic};

/// Parses on a 2 MiB stack and returns the diagnostics.
fn parse_small_stack(src: String) -> Vec<Diagnostic> {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || parse(&src).diagnostics)
        .expect("spawn")
        .join()
        .expect("parser overflowed or panicked")
}

#[track_caller]
fn assert_one_too_deep(name: &str, src: String) {
    let diags = parse_small_stack(src);
    let deep: Vec<_> = diags.iter().filter(|d| d.code == "E0003").collect();
    assert_eq!(deep.len(), 1, "{name}: {diags:#?}");
    assert_eq!(
        deep[0].message,
        format!("nesting is too deep (more than {MAX_DEPTH} levels)")
    );
    assert_eq!(diags.len(), 1, "{name}: only the nesting error: {diags:#?}");
}

fn nested(open: &str, middle: &str, close: &str, n: usize) -> String {
    format!("{}{middle}{}", open.repeat(n), close.repeat(n))
}

fn cases(n: usize) -> Vec<(&'static str, String)> {
    vec![
        ("parens", nested("(", "1", ")", n)),
        ("brackets", nested("[", "", "]", n)),
        ("braces", nested("{", "", "}", n)),
        ("unclosed parens", "(".repeat(n)),
        ("unclosed brackets", "[".repeat(n)),
        ("unclosed braces", "{".repeat(n)),
        ("minus", format!("{}1", "-".repeat(n))),
        ("not", format!("{}x", "!".repeat(n))),
        ("spawn", format!("{}f", "spawn ".repeat(n))),
        ("binary chain of parens", nested("(1 + ", "1", ")", n)),
        (
            "right-nested binary",
            format!("{}1", "1 + (".repeat(n)) + &")".repeat(n),
        ),
        ("long postfix chain", format!("a{}", ".b".repeat(n))),
        ("long call chain", format!("f{}", "()".repeat(n))),
        ("calls", nested("f(", "1", ")", n)),
        ("indexes", nested("a[", "1", "]", n)),
        ("closures", nested("turn { ", "1", " }", n)),
        (
            "maps",
            format!("let m = {}1{};", "{\"a\": ".repeat(n), "}".repeat(n)),
        ),
        (
            "struct literals",
            format!("let p = {}1{};", "P { x: ".repeat(n), " }".repeat(n)),
        ),
        (
            "if conditions",
            format!("{}x{}", "if ".repeat(n), " { }".repeat(n)),
        ),
        (
            "else if",
            format!("if a {{ }}{}", " else if a { }".repeat(n)),
        ),
        ("while", nested("while x { ", "", "}", n)),
        ("send", format!("{}m", "send p, ".repeat(n))),
        (
            "receive timeout",
            format!("{}1", "receive timeout ".repeat(n)),
        ),
        (
            "generic types",
            format!("let x: {}Num{} = 1;", "List<".repeat(n), ">".repeat(n)),
        ),
        (
            "fn types",
            format!("let x: {}Num{} = 1;", "Fn(".repeat(n), ")".repeat(n)),
        ),
        (
            "optional types",
            format!("let x: Num{} = 1;", "?".repeat(n)),
        ),
        (
            "paren types",
            format!("let x: {}Num{} = 1;", "(".repeat(n), ")".repeat(n)),
        ),
    ]
}

#[test]
fn ten_thousand_levels() {
    for (name, src) in cases(10_000) {
        assert_one_too_deep(name, src);
    }
}

#[test]
fn hundred_thousand_levels() {
    for (name, src) in cases(100_000) {
        assert_one_too_deep(name, src);
    }
}

#[test]
fn just_over_the_limit() {
    for (name, src) in cases(MAX_DEPTH + 1) {
        assert_one_too_deep(name, src);
    }
}

/// A chain of binary operators is walked iteratively by every pass, so it
/// is bounded by its own limit (`MAX_CHAIN` operators), not by nesting; the
/// longest accepted chain parses and drops on a 2 MiB stack.
#[test]
fn long_operator_chains() {
    for op in [" + 1", " * 1", " and x", " == 1"] {
        let ok = parse_small_stack(format!("1{}", op.repeat(MAX_CHAIN)));
        assert!(ok.is_empty(), "{op}: {ok:#?}");
        for n in [MAX_CHAIN + 1, 100_000] {
            let diags = parse_small_stack(format!("1{}", op.repeat(n)));
            assert_eq!(diags.len(), 1, "{op} x {n}: {diags:#?}");
            assert_eq!(diags[0].code, "E0003");
            assert_eq!(
                diags[0].message,
                format!("expression is too long (more than {MAX_CHAIN} operators in a row)")
            );
        }
    }
}

#[test]
fn reasonable_nesting_is_fine() {
    // Well within the limit, each kind parses with no diagnostic at all.
    for (name, src) in cases(60) {
        if name.starts_with("unclosed") {
            continue;
        }
        let diags = parse_small_stack(src);
        assert!(diags.is_empty(), "{name}: {diags:#?}");
    }
}

#[test]
fn nesting_up_to_the_limit_fits_on_a_small_stack() {
    // The deepest accepted nesting of the costliest recursion paths.
    for (name, open, close) in [
        ("parens", "(", ")"),
        ("calls", "f(", ")"),
        ("closure args", "f(turn { ", " })"),
        ("blocks", "{ ", " }"),
        ("if", "if x { ", " }"),
        ("struct literal", "P { a: ", " }"),
        ("method calls", "a.m(", ")"),
        ("let closures", "let f = turn { ", " };"),
        ("lists of maps", "[{\"a\": ", "}]"),
        ("indexes", "a[", "]"),
        ("binary with parens", "1 + (", ")"),
        ("send", "send p, f(", ")"),
    ] {
        let n = MAX_DEPTH - 10;
        let diags = parse_small_stack(nested(open, "1", close, n));
        assert!(
            diags.iter().all(|d| d.code == "E0003"),
            "{name}: {diags:#?}"
        );
    }
}

#[test]
fn other_errors_are_still_reported_after_a_deep_one() {
    let src = format!(
        "let a = {}1{};\nlet b = ;\nlet c = (;",
        "(".repeat(1000),
        ")".repeat(1000)
    );
    let diags = parse_small_stack(src);
    let codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
    assert_eq!(codes, vec!["E0003", "E0002", "E0002"]);
}
