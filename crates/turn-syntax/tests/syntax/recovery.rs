//! Error recovery: several errors in one file are all reported, once each,
//! with the rest of the file still parsed.

use crate::sexpr::{codes, with_errors};
use turn_syntax::ast::StmtKind;
use turn_syntax::parse;
use turn_syntax::parser::MAX_DIAGNOSTICS;

#[test]
fn three_errors_three_diagnostics() {
    let src = "let a = ;\nlet b = 1 + ;\nlet c = (2;\nlet d = 4;";
    let (tree, diags) = with_errors(src);
    assert_eq!(diags.len(), 3, "{diags:#?}");
    assert!(diags.iter().all(|d| d.code == "E0002"));
    assert_eq!(diags[0].message, "expected an expression, found `;`");
    assert_eq!(diags[1].message, "expected an expression, found `;`");
    assert_eq!(diags[2].message, "expected `)`, found `;`");
    assert_eq!(diags[2].labels[0].message, "unclosed `(`");
    assert_eq!(&src[diags[2].labels[0].span.range()], "(");
    assert!(tree.ends_with("(let d 4)"), "{tree}");
}

#[test]
fn errors_in_different_constructs() {
    let src = r#"
        let f = turn() {
            let x = 1 +;
            return x
        };
        let g = [1, 2;
        struct P { x Num, y: Str }
        let fine = 1;
    "#;
    let parsed = parse(src);
    assert_eq!(parsed.diagnostics.len(), 3, "{:#?}", parsed.diagnostics);
    let last = parsed.file.stmts.last().unwrap();
    assert!(matches!(&last.kind, StmtKind::Let { name, .. } if name.name == "fine"));
    // The struct keeps its good field.
    let has_struct = parsed
        .file
        .stmts
        .iter()
        .any(|s| matches!(&s.kind, StmtKind::Struct(d) if d.fields.len() == 1));
    assert!(has_struct);
}

#[test]
fn errors_inside_blocks_do_not_leak_out() {
    let (tree, diags) = with_errors("while x { let = 1; } y = 2;");
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].message, "expected a name after `let`, found `=`");
    assert_eq!(tree, "(while x {ERR}) (= y 2)");
    let (tree, diags) = with_errors("if a { f(1 } g();");
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert!(tree.ends_with("(call g)"), "{tree}");
}

#[test]
fn bad_argument_lists_recover_at_commas() {
    let (tree, diags) = with_errors("f(a b, c); g();");
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].message, "expected `,` or `)`, found `b`");
    assert_eq!(tree, "(call f a c) (call g)");
    let (tree, diags) = with_errors("f(a, , c);");
    assert_eq!(diags.len(), 1);
    assert_eq!(tree, "(call f a ERR c)");
}

#[test]
fn lexical_errors_are_not_reported_twice() {
    assert_eq!(codes("let x = 1 @ 2;"), vec!["E0001"]);
    assert_eq!(codes("let x = @;"), vec!["E0001"]);
    assert_eq!(codes("f(@, 1);"), vec!["E0001"]);
    assert_eq!(
        codes("let x = 1.2.3; let y = \"\\q\";"),
        vec!["E0001", "E0001"]
    );
    assert_eq!(codes("let x = \"abc"), vec!["E0001"]);
}

#[test]
fn one_diagnostic_per_position() {
    let parsed = parse("let = = = ; let x = ) ) ); f(,,,);");
    let mut starts: Vec<u32> = parsed.diagnostics.iter().map(|d| d.span.start).collect();
    let n = starts.len();
    starts.dedup();
    assert_eq!(starts.len(), n);
    // `let =`, the first `)`, and each empty argument of `f(,,,)`.
    assert_eq!(n, 5, "{:#?}", parsed.diagnostics);
}

#[test]
fn stray_closing_brace() {
    let (tree, diags) = with_errors("let a = 1; } let b = 2;");
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].message, "expected a statement, found `}`");
    assert_eq!(tree, "(let a 1) (let b 2)");
}

#[test]
fn unclosed_block_at_end_of_file() {
    let src = "let f = turn() {\n  let a = 1;\n";
    let (_, diags) = with_errors(src);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].message, "expected `}`, found end of file");
    assert_eq!(diags[0].span.start as usize, src.len());
    assert_eq!(&src[diags[0].labels[0].span.range()], "{");
}

#[test]
fn keywords_are_not_names() {
    let parsed = parse("let if = 1; let ok = 2;");
    assert_eq!(parsed.diagnostics.len(), 1);
    assert_eq!(
        parsed.diagnostics[0].message,
        "expected a name after `let`, found `if`"
    );
    assert_eq!(
        parsed.diagnostics[0].hint.as_deref(),
        Some("`if` is a keyword and cannot be used as a name")
    );
    assert_eq!(parsed.file.stmts.len(), 2);
}

#[test]
fn statement_keyword_inside_an_expression() {
    let (tree, diags) = with_errors("let x = let y = 1;");
    assert_eq!(diags.len(), 1);
    assert!(diags[0]
        .hint
        .as_deref()
        .unwrap()
        .contains("starts a statement"));
    assert_eq!(tree, "(let x ERR) (let y 1)");
}

#[test]
fn end_of_file_in_expression() {
    let (_, diags) = with_errors("let x = ");
    assert_eq!(diags.len(), 1);
    assert_eq!(
        diags[0].message,
        "expected an expression, found end of file"
    );
    let (_, diags) = with_errors("let x = f(1, ");
    assert_eq!(diags.len(), 1);
    let (_, diags) = with_errors("let x = 1 +");
    assert_eq!(diags.len(), 1);
}

#[test]
fn diagnostics_are_sorted_and_mixed() {
    let src = "let a = \"\\q\"; let b = ; let c = 1e; let d = (;";
    let parsed = parse(src);
    let codes: Vec<&str> = parsed.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, vec!["E0001", "E0002", "E0001", "E0002"]);
    let starts: Vec<u32> = parsed.diagnostics.iter().map(|d| d.span.start).collect();
    let mut sorted = starts.clone();
    sorted.sort_unstable();
    assert_eq!(starts, sorted);
}

#[test]
fn struct_body_recovery() {
    let (tree, diags) = with_errors("struct P { x: Num; y: Str } let a = 1;");
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].message, "expected `,` or `}`, found `;`");
    assert_eq!(
        diags[0].hint.as_deref(),
        Some("separate entries with `,`, not `;`")
    );
    assert_eq!(tree, "(struct P (x Num) (y Str)) (let a 1)");
    let (tree, diags) = with_errors("struct P { x Num, y: Str } let a = 1;");
    assert_eq!(diags.len(), 1);
    assert_eq!(tree, "(struct P (y Str)) (let a 1)");
    let (tree, diags) = with_errors("let g = [1, 2; let a = 1;");
    assert_eq!(diags.len(), 1);
    assert_eq!(tree, "(let g (list 1 2)) (let a 1)");
}

#[test]
fn garbage_is_capped() {
    let src = "let = ;\n".repeat(1000);
    let parsed = parse(&src);
    assert_eq!(parsed.diagnostics.len(), MAX_DIAGNOSTICS + 1);
    let last = parsed.diagnostics.last().unwrap();
    assert!(
        last.message.starts_with("too many errors"),
        "{}",
        last.message
    );
    let src = "@ ; ".repeat(1000);
    let parsed = parse(&src);
    assert_eq!(parsed.diagnostics.len(), MAX_DIAGNOSTICS + 1);
}

#[test]
fn messages_are_lowercase_with_backticks() {
    let srcs = [
        "let x = ;",
        "f(a b);",
        "let x: = 1;",
        "let 1 = 2;",
        "while { }",
        "x.1;",
        "1 = 2;",
        "use 1;",
    ];
    for src in srcs {
        for d in parse(src).diagnostics {
            let first = d.message.chars().next().unwrap();
            assert!(!first.is_uppercase(), "{src}: {}", d.message);
            assert!(!d.label.is_empty(), "{src}: {} has no label", d.message);
        }
    }
}

#[test]
fn missing_condition() {
    for src in ["while { x; }", "if { x } else { y }", "for a in { x; }"] {
        let (_, diags) = with_errors(src);
        assert_eq!(diags.len(), 1, "{src}: {diags:#?}");
        assert_eq!(
            diags[0].message, "expected an expression, found `{`",
            "{src}"
        );
        assert_eq!(
            diags[0].hint.as_deref(),
            Some("the condition is missing before the `{`")
        );
    }
}
