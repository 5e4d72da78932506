//! Lexer tests: tokens, numbers, strings and escapes, comments, identifiers,
//! lexical errors and spans.

use std::vec::Vec;
use turn_syntax::lexer::{lex, number_value, string_value};
use turn_syntax::token::TokenKind::{self, *};
use turn_syntax::Diagnostic;

fn kinds(src: &str) -> Vec<TokenKind> {
    lex(src).tokens.iter().map(|t| t.kind).collect()
}

fn texts(src: &str) -> Vec<&str> {
    lex(src)
        .tokens
        .iter()
        .map(|t| &src[t.span.range()])
        .collect()
}

fn errors(src: &str) -> Vec<Diagnostic> {
    lex(src).diagnostics
}

/// The single diagnostic for `src`, checking it is E0001.
#[track_caller]
fn one_error(src: &str) -> Diagnostic {
    let diags = errors(src);
    assert_eq!(
        diags.len(),
        1,
        "expected one diagnostic for {src:?}: {diags:#?}"
    );
    assert_eq!(diags[0].code, "E0001");
    diags[0].clone()
}

fn num(src: &str) -> f64 {
    let lexed = lex(src);
    assert!(
        lexed.diagnostics.is_empty(),
        "{src:?}: {:?}",
        lexed.diagnostics
    );
    assert_eq!(lexed.tokens.len(), 2, "{src:?} is one token");
    assert_eq!(lexed.tokens[0].kind, Num);
    number_value(&src[lexed.tokens[0].span.range()]).expect("valid number")
}

fn string(src: &str) -> String {
    let lexed = lex(src);
    assert!(
        lexed.diagnostics.is_empty(),
        "{src:?}: {:?}",
        lexed.diagnostics
    );
    assert_eq!(lexed.tokens[0].kind, Str);
    string_value(&src[lexed.tokens[0].span.range()])
}

#[test]
fn simple_statement() {
    assert_eq!(kinds("let x = 1;"), vec![Let, Ident, Eq, Num, Semi, Eof]);
    assert_eq!(texts("let x = 1;"), vec!["let", "x", "=", "1", ";", ""]);
}

#[test]
fn every_keyword() {
    let src = "let struct impl type turn return if else while for in break continue try catch throw use \
               grant identity infer confidence spawn spawn_link spawn_each gather send receive self this \
               suspend context remember recall call true false null and or vec";
    let lexed = lex(src);
    assert!(lexed.diagnostics.is_empty());
    let words: Vec<&str> = src.split_whitespace().collect();
    assert_eq!(lexed.tokens.len(), words.len() + 1);
    for (tok, word) in lexed.tokens.iter().zip(&words) {
        assert!(
            tok.kind.is_keyword(),
            "{word} should be a keyword, got {:?}",
            tok.kind
        );
        assert_eq!(tok.kind.text(), *word);
    }
}

#[test]
fn near_keywords_are_identifiers() {
    assert_eq!(
        kinds("Vec vec lets spawn_x _ timeout schema Fn"),
        vec![
            Ident,
            TokenKind::Vec,
            Ident,
            Ident,
            Ident,
            Ident,
            Ident,
            Ident,
            Eof
        ]
    );
}

#[test]
fn punctuation() {
    let src = "( ) { } [ ] , ; : :: . .. = == != < > <= >= + - * / % ! ? -> ~> && ||";
    assert_eq!(
        kinds(src),
        vec![
            LParen, RParen, LBrace, RBrace, LBracket, RBracket, Comma, Semi, Colon, ColonColon,
            Dot, DotDot, Eq, EqEq, NotEq, Lt, Gt, Le, Ge, Plus, Minus, Star, Slash, Percent, Bang,
            Question, Arrow, Similar, And, Or, Eof
        ]
    );
    // No `>>` token: nested generics close one `>` at a time.
    assert_eq!(kinds(">>"), vec![Gt, Gt, Eof]);
    assert_eq!(kinds("a-b"), vec![Ident, Minus, Ident, Eof]);
    assert_eq!(kinds("a->b"), vec![Ident, Arrow, Ident, Eof]);
    assert_eq!(kinds("a...b"), vec![Ident, DotDot, Dot, Ident, Eof]);
}

#[test]
fn numbers() {
    assert_eq!(num("42"), 42.0);
    assert_eq!(num("3.25"), 3.25);
    assert_eq!(num("1e6"), 1e6);
    assert_eq!(num("1E6"), 1e6);
    assert_eq!(num("2.5e-3"), 2.5e-3);
    assert_eq!(num("2.5e+3"), 2500.0);
    assert_eq!(num("1_000"), 1000.0);
    assert_eq!(num("1_000.000_1"), 1000.0001);
    assert_eq!(num("0"), 0.0);
    assert_eq!(num("007"), 7.0);
}

#[test]
fn numbers_next_to_other_tokens() {
    assert_eq!(kinds("1..2"), vec![Num, DotDot, Num, Eof]);
    assert_eq!(kinds("1.foo"), vec![Num, Dot, Ident, Eof]);
    assert_eq!(kinds("1-2"), vec![Num, Minus, Num, Eof]);
    assert_eq!(kinds("x[0]"), vec![Ident, LBracket, Num, RBracket, Eof]);
    assert_eq!(kinds("-5"), vec![Minus, Num, Eof]);
    // `e` followed by a sign but no digit is not an exponent.
    assert_eq!(kinds("1e-x").len(), 4);
}

#[test]
fn malformed_numbers_are_errors_not_zero() {
    for (src, label) in [
        ("1.2.3", "a number has at most one `.`"),
        ("1e", "the exponent has no digits"),
        ("2.5e", "the exponent has no digits"),
        ("1__000", "`_` may only appear between digits"),
        ("1_", "`_` may only appear between digits"),
        ("1_.5", "`_` may only appear between digits"),
        ("12ab", "a number cannot contain letters"),
        ("0x1F", "a number cannot contain letters"),
    ] {
        let diag = one_error(src);
        assert_eq!(diag.message, format!("malformed number `{src}`"), "{src}");
        assert_eq!(diag.label, label, "{src}");
        assert_eq!(diag.span.range(), 0..src.len(), "{src}");
        assert!(diag.hint.is_some());
        // Still a single number token, so the parser sees one operand.
        assert_eq!(kinds(src), vec![Num, Eof], "{src}");
        assert_eq!(number_value(src), None);
    }
}

#[test]
fn number_out_of_range() {
    let diag = one_error("1e999");
    assert_eq!(diag.message, "number `1e999` is too large");
}

#[test]
fn strings_and_escapes() {
    assert_eq!(string(r#""hello""#), "hello");
    assert_eq!(string(r#""""#), "");
    assert_eq!(string(r#""a\nb\tc\rd""#), "a\nb\tc\rd");
    assert_eq!(string(r#""say \"hi\"""#), "say \"hi\"");
    assert_eq!(string(r#""back\\slash""#), "back\\slash");
    assert_eq!(string(r#""\u{41}\u{1F600}\u{e9}""#), "A\u{1F600}é");
    assert_eq!(string(r#""\u{0}""#), "\0");
    assert_eq!(string("\"two\nlines\""), "two\nlines");
    assert_eq!(string("\"héllo 世界\""), "héllo 世界");
    assert_eq!(kinds(r#""a" "b""#), vec![Str, Str, Eof]);
}

#[test]
fn unknown_escape_is_reported_at_the_escape() {
    let src = r#"let s = "ok \q here";"#;
    let diag = one_error(src);
    assert_eq!(diag.message, "unknown escape `\\q` in string");
    assert_eq!(&src[diag.span.range()], "\\q");
    // The string still ends where it should.
    assert_eq!(kinds(src), vec![Let, Ident, Eq, Str, Semi, Eof]);
}

#[test]
fn nul_escape_is_not_valid() {
    let src = r#""a\0b""#;
    let diag = one_error(src);
    assert_eq!(&src[diag.span.range()], "\\0");
    assert!(diag.hint.as_deref().is_some_and(|h| h.contains("\\u{0}")));
    assert_eq!(string_value(src), "ab");
}

#[test]
fn bad_unicode_escapes() {
    for (src, bad) in [
        (r#""\u{110000}""#, r"\u{110000}"),
        (r#""\u{D800}""#, r"\u{D800}"),
        (r#""\u{}""#, r"\u{}"),
        (r#""\u{1234567}""#, r"\u{1234567}"),
        (r#""\u41""#, r"\u"),
        (r#""\u{41""#, r"\u{41"),
        (r#""\u{4g}""#, r"\u{4"),
    ] {
        let diag = one_error(src);
        assert_eq!(diag.message, "invalid unicode escape in string", "{src}");
        assert_eq!(&src[diag.span.range()], bad, "{src}");
        assert_eq!(
            kinds(src),
            vec![Str, Eof],
            "{src}: the closing quote is kept"
        );
    }
}

#[test]
fn unterminated_string() {
    let src = "let s = \"abc\nlet t = 1;";
    let diag = one_error(src);
    assert_eq!(diag.message, "unterminated string");
    assert_eq!(diag.span.start, 8);
    assert_eq!(kinds(src), vec![Let, Ident, Eq, Str, Eof]);
    // An escaped quote does not terminate.
    assert_eq!(one_error(r#""abc\""#).message, "unterminated string");
    assert_eq!(one_error(r#""abc\"#).message, "unterminated string");
}

#[test]
fn comments() {
    assert_eq!(kinds("a // comment\nb"), vec![Ident, Ident, Eof]);
    assert_eq!(kinds("a // comment at end"), vec![Ident, Eof]);
    assert_eq!(kinds("a /* block */ b"), vec![Ident, Ident, Eof]);
    assert_eq!(
        kinds("a /* outer /* inner */ still comment */ b"),
        vec![Ident, Ident, Eof]
    );
    assert_eq!(kinds("a /* multi\nline\n*/ b"), vec![Ident, Ident, Eof]);
    assert_eq!(kinds("a/b"), vec![Ident, Slash, Ident, Eof]);
    assert_eq!(kinds(r#""// not a comment""#), vec![Str, Eof]);
}

#[test]
fn unterminated_block_comment() {
    let diag = one_error("a /* x /* y */ b");
    assert_eq!(diag.message, "unterminated block comment");
    assert_eq!(diag.span.range(), 2..4);
    assert_eq!(kinds("a /* x /* y */ b"), vec![Ident, Eof]);
}

#[test]
fn deeply_nested_comments_do_not_recurse() {
    let src = format!("a {} b {} c", "/*".repeat(100_000), "*/".repeat(100_000));
    assert_eq!(kinds(&src), vec![Ident, Ident, Eof]);
    assert!(errors(&src).is_empty());
}

#[test]
fn unicode_identifiers() {
    let src = "café 变量 _x1 π x_ü2 Ωmega";
    assert_eq!(
        texts(src),
        vec!["café", "变量", "_x1", "π", "x_ü2", "Ωmega", ""]
    );
    assert!(kinds(src)[..6].iter().all(|&k| k == Ident));
    assert!(errors(src).is_empty());
}

#[test]
fn identifiers_do_not_start_with_a_digit() {
    // `1abc` is a malformed number, not an identifier.
    assert_eq!(one_error("1abc").message, "malformed number `1abc`");
}

#[test]
fn unknown_characters() {
    let src = "a @ b";
    let diag = one_error(src);
    assert_eq!(diag.message, "unknown character `@`");
    assert_eq!(&src[diag.span.range()], "@");
    assert_eq!(kinds(src), vec![Ident, Error, Ident, Eof]);

    // A run is one token and one diagnostic.
    let diag = one_error("a @#$ b");
    assert_eq!(diag.message, "unknown characters `@#$`");
    assert_eq!(kinds("a @#$ b"), vec![Ident, Error, Ident, Eof]);

    assert!(one_error("a & b").hint.unwrap().contains("and"));
    assert!(one_error("a | b").hint.unwrap().contains("or"));
    assert!(one_error("a ~ b").hint.unwrap().contains("~>"));
    assert!(one_error("'").hint.unwrap().contains("double quotes"));
    assert_eq!(one_error("'").message, "unknown character `'`");
    assert_eq!(one_error("a \u{7} b").message, "unknown character `\\u{7}`");
    assert_eq!(kinds("€"), vec![Error, Eof]);
}

#[test]
fn spans_slice_back_to_the_source() {
    let src = "let größe = \"ünï\" + 1_000; // done\n/* c */ x.y";
    let lexed = lex(src);
    let got: Vec<&str> = lexed.tokens.iter().map(|t| &src[t.span.range()]).collect();
    assert_eq!(
        got,
        vec![
            "let",
            "größe",
            "=",
            "\"ünï\"",
            "+",
            "1_000",
            ";",
            "x",
            ".",
            "y",
            ""
        ]
    );
    let eof = lexed.tokens.last().unwrap();
    assert_eq!(eof.span.range(), src.len()..src.len());
}

#[test]
fn byte_order_mark_is_skipped() {
    assert_eq!(kinds("\u{feff}let x"), vec![Let, Ident, Eof]);
    assert!(errors("\u{feff}let x").is_empty());
}

#[test]
fn whitespace_of_all_kinds() {
    assert_eq!(kinds("a\t\r\n\u{a0}\u{2003}b"), vec![Ident, Ident, Eof]);
    assert_eq!(kinds(""), vec![Eof]);
    assert_eq!(kinds("   \n "), vec![Eof]);
}

#[test]
fn lexical_errors_are_capped() {
    let src = "@ ".repeat(10_000);
    let lexed = lex(&src);
    assert!(lexed.diagnostics.len() <= turn_syntax::parser::MAX_DIAGNOSTICS + 1);
    assert_eq!(lexed.tokens.len(), 10_001);
}
