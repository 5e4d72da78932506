//! Property tests: `parse` never panics, always terminates, keeps its
//! diagnostic cap and produces spans inside the source, for arbitrary text
//! and for soups of Turn tokens.

use proptest::prelude::*;
use turn_syntax::ast::{Expr, ExprKind, File, Stmt, StmtKind};
use turn_syntax::parse;
use turn_syntax::parser::MAX_DIAGNOSTICS;

const TOKENS: &[&str] = &[
    "let",
    "struct",
    "impl",
    "type",
    "turn",
    "return",
    "if",
    "else",
    "while",
    "for",
    "in",
    "break",
    "continue",
    "try",
    "catch",
    "throw",
    "use",
    "grant",
    "identity",
    "infer",
    "confidence",
    "spawn",
    "spawn_link",
    "spawn_each",
    "gather",
    "send",
    "receive",
    "timeout",
    "self",
    "this",
    "suspend",
    "context",
    "remember",
    "recall",
    "call",
    "true",
    "false",
    "null",
    "and",
    "or",
    "vec",
    "schema",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ",",
    ";",
    ":",
    "::",
    ".",
    "..",
    "=",
    "==",
    "!=",
    "<",
    ">",
    "<=",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "!",
    "?",
    "->",
    "~>",
    "&&",
    "||",
    "x",
    "y",
    "P",
    "Num",
    "List",
    "Fn",
    "Map",
    "1",
    "2.5",
    "1e",
    "1.2.3",
    "\"s\"",
    "\"\\q\"",
    "\"open",
    "/*",
    "*/",
    "//",
    "@",
    "\n",
    "é",
    "\u{0}",
];

fn check(src: &str) {
    let parsed = parse(src);
    assert!(parsed.diagnostics.len() <= MAX_DIAGNOSTICS + 1);
    for d in &parsed.diagnostics {
        assert!(
            src.get(d.span.range()).is_some(),
            "diagnostic span {:?} outside {src:?}",
            d.span
        );
        assert!(d.code.starts_with("E000"));
        for label in &d.labels {
            assert!(src.get(label.span.range()).is_some());
        }
    }
    check_file(src, &parsed.file);
}

/// Top-level spans are in bounds and ids are below `node_count`.
fn check_file(src: &str, file: &File) {
    fn expr(src: &str, e: &Expr, count: u32) {
        assert!(e.id < count);
        assert!(
            src.get(e.span.range()).is_some(),
            "expression span {:?} outside {src:?}",
            e.span
        );
    }
    fn stmt(src: &str, s: &Stmt, count: u32) {
        assert!(
            src.get(s.span.range()).is_some(),
            "statement span {:?} outside {src:?}",
            s.span
        );
        match &s.kind {
            StmtKind::Let { name, value, .. } => {
                assert!(name.id < count);
                expr(src, value, count);
            }
            StmtKind::Expr(e) | StmtKind::Throw(e) | StmtKind::Return(Some(e)) => {
                expr(src, e, count)
            }
            StmtKind::Assign { target, value } => {
                expr(src, target, count);
                expr(src, value, count);
            }
            _ => {}
        }
    }
    for s in &file.stmts {
        stmt(src, s, file.node_count);
    }
    let _ = ExprKind::Null;
}

fn token_soup() -> impl Strategy<Value = String> {
    let token = proptest::sample::select(TOKENS);
    let sep = proptest::sample::select(&[" ", "", "\n"][..]);
    proptest::collection::vec((token, sep), 0..200)
        .prop_map(|parts| parts.into_iter().flat_map(|(t, s)| [t, s]).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(src in any::<String>()) {
        check(&src);
    }

    #[test]
    fn printable_text_never_panics(src in "[ -~\n\u{e9}\u{4e16}]{0,300}") {
        check(&src);
    }

    #[test]
    fn token_soups_never_panic(src in token_soup()) {
        check(&src);
    }
}

#[test]
fn every_prefix_of_a_program_parses() {
    let program = r#"struct P { x: Num, y: List<Str>? };
impl P { let m = turn(a: Fn(Num) -> Num) -> Num { return this.x + a(1); }; };
let p = P { x: 1, y: ["é"], ..base };
let r = try { infer P { context.append("q \u{41}"); "go" } } catch (e) { throw e; };
for i in [1, 2] { if i > 1 and !done { break; } else { send self, {"k": vec[1e3]}; } }
let v = receive timeout 2.5e-3; grant identity::network("n"); use schema::mcp("x");
/* nested /* comment */ */ turn { suspend; return gather spawn_each(xs, f); }"#;
    for (i, _) in program.char_indices() {
        check(&program[..i]);
        check(&program[i..]);
    }
}
