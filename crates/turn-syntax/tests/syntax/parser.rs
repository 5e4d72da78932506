//! Parser tests: the shape of the tree for every construct, precedence,
//! semicolon rules, node ids and spans.

use crate::sexpr::{codes, ok, with_errors};
use turn_syntax::ast::*;
use turn_syntax::parse;

/// Renders a single expression statement (the source needs no `;`).
#[track_caller]
fn e(src: &str) -> String {
    let parsed = parse(src);
    assert!(
        parsed.diagnostics.is_empty(),
        "diagnostics for {src:?}: {:#?}",
        parsed.diagnostics
    );
    assert_eq!(
        parsed.file.stmts.len(),
        1,
        "{src:?} should be one statement"
    );
    crate::sexpr::stmt(&parsed.file.stmts[0])
}

/// The first diagnostic's (code, message).
#[track_caller]
fn first_error(src: &str) -> (&'static str, String) {
    let parsed = parse(src);
    let d = parsed
        .diagnostics
        .first()
        .unwrap_or_else(|| panic!("no diagnostic for {src:?}"));
    (d.code, d.message.clone())
}

// ----- literals and primaries --------------------------------------------

#[test]
fn literals() {
    assert_eq!(e("42"), "42");
    assert_eq!(e("2.5e-3"), "0.0025");
    assert_eq!(e("\"hi\\n\""), "\"hi\\n\"");
    assert_eq!(e("true"), "true");
    assert_eq!(e("false"), "false");
    assert_eq!(e("null"), "null");
    assert_eq!(e("self"), "self");
    assert_eq!(e("this"), "this");
    assert_eq!(e("x"), "x");
}

#[test]
fn lists_maps_vectors() {
    assert_eq!(e("[]"), "(list)");
    assert_eq!(e("[1, 2, 3]"), "(list 1 2 3)");
    assert_eq!(e("[1, [2], 3,]"), "(list 1 (list 2) 3)");
    assert_eq!(ok("let m = {};"), "(let m (map))");
    assert_eq!(
        ok("let m = {\"k\": 1, k2: 2,};"),
        "(let m (map (\"k\" 1) (\"k2\" 2)))"
    );
    assert_eq!(
        ok("let m = {type: \"exit\", in: 1};"),
        "(let m (map (\"type\" \"exit\") (\"in\" 1)))"
    );
    assert_eq!(
        ok("let m = {\"a b\": {\"c\": [1]}};"),
        "(let m (map (\"a b\" (map (\"c\" (list 1))))))"
    );
    assert_eq!(e("vec[0.1, 0.2]"), "(vec 0.1 0.2)");
    assert_eq!(e("vec[]"), "(vec)");
}

#[test]
fn map_key_spans() {
    let parsed = parse("let m = {\"k\": 1, name: 2};");
    let StmtKind::Let { value, .. } = &parsed.file.stmts[0].kind else {
        panic!()
    };
    let ExprKind::Map(entries) = &value.kind else {
        panic!()
    };
    assert_eq!(entries[0].key_span.range(), 9..12);
    assert_eq!(entries[1].key_span.range(), 17..21);
}

#[test]
fn map_literal_at_statement_start() {
    // `{ key: …` cannot start a block, so it is a map (a block's value).
    assert_eq!(
        ok("let f = turn { {\"a\": 1} };"),
        "(let f (fn f () {(map (\"a\" 1))}))"
    );
    assert_eq!(ok("{a: 1}"), "(map (\"a\" 1))");
    // `{}` and `{ x }` at statement start are blocks.
    assert_eq!(ok("{}"), "{}");
    assert_eq!(ok("{ x }"), "{x}");
}

#[test]
fn struct_literals() {
    assert_eq!(e("P { x: 1, y: 2 }"), "(struct P (x 1) (y 2))");
    assert_eq!(e("P { x: 1, y: 2, }"), "(struct P (x 1) (y 2))");
    assert_eq!(e("P {}"), "(struct P)");
    assert_eq!(e("P { x: 1, ..base }"), "(struct P (x 1) (.. base))");
    assert_eq!(e("P { ..base }"), "(struct P (.. base))");
    assert_eq!(e("P { ..base, }"), "(struct P (.. base))");
    assert_eq!(
        e("P { type: Q { a: [1] } }"),
        "(struct P (type (struct Q (a (list 1)))))"
    );
}

#[test]
fn spread_must_come_last() {
    let (tree, diags) = with_errors("P { ..base, x: 1 }");
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, "E0004");
    assert_eq!(tree, "(struct P (x 1) (.. base))");
}

#[test]
fn no_struct_literal_in_conditions() {
    assert_eq!(e("if x { y }"), "(if x {y})");
    assert_eq!(ok("while x { y; }"), "(while x {y})");
    assert_eq!(ok("for a in xs { a; }"), "(for a xs {a})");
    // Parentheses and brackets allow struct literals again.
    assert_eq!(
        e("if (P { x: 1 }) == p { 1 }"),
        "(if (== (struct P (x 1)) p) {1})"
    );
    assert_eq!(
        e("if f(P { x: 1 }) { 1 }"),
        "(if (call f (struct P (x 1))) {1})"
    );
    assert_eq!(
        ok("for a in [P {}] { a; }"),
        "(for a (list (struct P)) {a})"
    );
    // Inside the body they are allowed.
    assert_eq!(e("if x { P { a: 1 } }"), "(if x {(struct P (a 1))})");
}

// ----- operators -----------------------------------------------------------

#[test]
fn precedence_levels() {
    assert_eq!(e("1 + 2 * 3"), "(+ 1 (* 2 3))");
    assert_eq!(e("1 * 2 + 3"), "(+ (* 1 2) 3)");
    assert_eq!(e("a or b and c"), "(or a (and b c))");
    assert_eq!(e("a and b or c"), "(or (and a b) c)");
    assert_eq!(e("a == b and c != d"), "(and (== a b) (!= c d))");
    assert_eq!(e("a < b == c > d"), "(== (< a b) (> c d))");
    assert_eq!(e("a + b < c - d"), "(< (+ a b) (- c d))");
    assert_eq!(e("a ~> b == c"), "(== (~> a b) c)");
    assert_eq!(e("a ~> b + c"), "(~> a (+ b c))");
    assert_eq!(e("a % b * c / d"), "(/ (* (% a b) c) d)");
    assert_eq!(e("a <= b or c >= d"), "(or (<= a b) (>= c d))");
    assert_eq!(e("a && b || c"), "(or (and a b) c)");
}

#[test]
fn left_associativity() {
    assert_eq!(e("a - b - c"), "(- (- a b) c)");
    assert_eq!(e("a / b / c"), "(/ (/ a b) c)");
    assert_eq!(e("a == b == c"), "(== (== a b) c)");
    assert_eq!(e("a < b < c"), "(< (< a b) c)");
    assert_eq!(e("a or b or c"), "(or (or a b) c)");
}

#[test]
fn parentheses_override_precedence() {
    assert_eq!(e("(1 + 2) * 3"), "(* (+ 1 2) 3)");
    assert_eq!(e("a - (b - c)"), "(- a (- b c))");
    assert_eq!(e("((a))"), "a");
}

#[test]
fn prefix_operators() {
    assert_eq!(e("-x"), "(- x)");
    assert_eq!(e("- -x"), "(- (- x))");
    assert_eq!(e("!a and b"), "(and (! a) b)");
    assert_eq!(e("!!a"), "(! (! a))");
    assert_eq!(e("-a * b"), "(* (- a) b)");
    assert_eq!(e("-a.b"), "(- (field a b))");
    assert_eq!(e("-f(x)[0]"), "(- (index (call f x) 0))");
    assert_eq!(e("confidence v > 0.5"), "(> (confidence v) 0.5)");
    assert_eq!(e("a - -b"), "(- a (- b))");
}

#[test]
fn spawn_gather_send() {
    assert_eq!(e("spawn f"), "(spawn f)");
    assert_eq!(e("spawn_link worker(x)"), "(spawn_link (call worker x))");
    assert_eq!(e("spawn turn { work(); }"), "(spawn (fn () {(call work)}))");
    assert_eq!(e("gather pids"), "(gather pids)");
    assert_eq!(e("gather spawn_each(xs, f)"), "(gather (spawn_each xs f))");
    assert_eq!(e("send p, msg"), "(send p msg)");
    assert_eq!(
        e("send p, {\"n\": 1 + 2}"),
        "(send p (map (\"n\" (+ 1 2))))"
    );
    assert_eq!(e("send pids[0], a + b"), "(send (index pids 0) (+ a b))");
    // The message stops before a `,`: one argument.
    assert_eq!(e("f(send p, m)"), "(call f (send p m))");
    assert_eq!(e("f(send p, m, 2)"), "(call f (send p m) 2)");
    assert_eq!(e("spawn a + b"), "(+ (spawn a) b)");
}

#[test]
fn receive() {
    assert_eq!(e("receive"), "(receive)");
    assert_eq!(ok("let m = receive;"), "(let m (receive))");
    assert_eq!(e("receive timeout 5"), "(receive timeout 5)");
    assert_eq!(e("receive timeout t * 2"), "(* (receive timeout t) 2)");
    assert_eq!(e("receive timeout -1"), "(receive timeout (- 1))");
    assert_eq!(e("receive.type"), "(field (receive) type)");
}

// ----- postfix -------------------------------------------------------------

#[test]
fn calls_and_access() {
    assert_eq!(e("f()"), "(call f)");
    assert_eq!(e("f(a, b,)"), "(call f a b)");
    assert_eq!(e("f(a)(b)"), "(call (call f a) b)");
    assert_eq!(e("a[0]"), "(index a 0)");
    assert_eq!(e("a[i][j]"), "(index (index a i) j)");
    assert_eq!(e("a.b.c"), "(field (field a b) c)");
    assert_eq!(e("obj.method(1, 2)"), "(method obj method 1 2)");
    assert_eq!(
        e("a.b(c).d[0](e)"),
        "(call (index (field (method a b c) d) 0) e)"
    );
    assert_eq!(e("x.type"), "(field x type)");
    assert_eq!(e("m.in"), "(field m in)");
    assert_eq!(e("m.self.let(1)"), "(method (field m self) let 1)");
    assert_eq!(e("\"s\".len()"), "(method \"s\" len)");
    assert_eq!(e("[1][0]"), "(index (list 1) 0)");
}

// ----- keyword forms ---------------------------------------------------------

#[test]
fn function_literals() {
    assert_eq!(e("(turn { 1 })"), "(fn () {1})");
    assert_eq!(e("turn() { 1 }"), "(fn () {1})");
    assert_eq!(e("turn(x) { x }"), "(fn (x) {x})");
    assert_eq!(
        e("turn(x: Num, y,) -> Num { return x + y; }"),
        "(fn (x: Num, y) -> Num {(return (+ x y))})"
    );
    assert_eq!(
        e("turn(f: Fn(Num) -> Str) { }"),
        "(fn (f: Fn(Num) -> Str) {})"
    );
    // Called right away.
    assert_eq!(ok("turn(x) { x }(1);"), "(call (fn (x) {x}) 1)");
}

#[test]
fn function_names_come_from_let_and_impl() {
    assert_eq!(
        ok("let add = turn(a, b) { a + b };"),
        "(let add (fn add (a, b) {(+ a b)}))"
    );
    let parsed = parse("let f = turn { 1 }; let g = [turn { 2 }];");
    assert!(parsed.diagnostics.is_empty());
    let StmtKind::Let { value, .. } = &parsed.file.stmts[0].kind else {
        panic!()
    };
    let ExprKind::Fn(f) = &value.kind else {
        panic!()
    };
    assert_eq!(f.name.as_deref(), Some("f"));
    let StmtKind::Let { value, .. } = &parsed.file.stmts[1].kind else {
        panic!()
    };
    let ExprKind::List(items) = &value.kind else {
        panic!()
    };
    let ExprKind::Fn(g) = &items[0].kind else {
        panic!()
    };
    assert_eq!(g.name, None);
}

#[test]
fn if_expressions() {
    assert_eq!(e("if a { 1 }"), "(if a {1})");
    assert_eq!(e("if a { 1 } else { 2 }"), "(if a {1} {2})");
    assert_eq!(
        e("if a { 1 } else if b { 2 } else { 3 }"),
        "(if a {1} (if b {2} {3}))"
    );
    assert_eq!(
        ok("let x = if a { 1 } else { 2 } + 1;"),
        "(let x (+ (if a {1} {2}) 1))"
    );
    assert_eq!(e("if a and !b { }"), "(if (and a (! b)) {})");
    assert_eq!(
        e("if if a { b } else { c } { d }"),
        "(if (if a {b} {c}) {d})"
    );
}

#[test]
fn infer_grant_use_context_intrinsics() {
    assert_eq!(e("infer Str { \"hi\" }"), "(infer Str {\"hi\"})");
    assert_eq!(
        e("infer List<Point> { context.append(x); \"p\" }"),
        "(infer List<Point> {(context append x) \"p\"})"
    );
    assert_eq!(
        e("infer Str { \"q\" }.len()"),
        "(method (infer Str {\"q\"}) len)"
    );
    assert_eq!(
        e("grant identity::network(\"api\")"),
        "(grant network \"api\")"
    );
    assert_eq!(
        e("grant identity::oauth(name + \"x\")"),
        "(grant oauth (+ name \"x\"))"
    );
    assert_eq!(e("use \"std/json\""), "(use \"std/json\")");
    assert_eq!(
        ok("let m = use \"./lib.tn\";"),
        "(let m (use \"./lib.tn\"))"
    );
    assert_eq!(
        e("use schema::openapi(\"spec.json\")"),
        "(use schema openapi \"spec.json\")"
    );
    assert_eq!(e("context.append(x)"), "(context append x)");
    assert_eq!(e("context.system(\"s\", 1)"), "(context system \"s\" 1)");
    assert_eq!(e("context.tokens()"), "(context tokens)");
    assert_eq!(e("remember(\"k\", v)"), "(remember \"k\" v)");
    assert_eq!(e("recall(\"k\")"), "(recall \"k\")");
    assert_eq!(e("call(f, 1, 2)"), "(call f 1 2)");
    assert_eq!(e("call()"), "(call)");
    assert_eq!(e("spawn_each(xs, f)"), "(spawn_each xs f)");
    // `infer` binds as a prefix form: binary operators apply to its result.
    assert_eq!(
        e("confidence infer Num { \"n\" } > 0.5"),
        "(> (confidence (infer Num {\"n\"})) 0.5)"
    );
}

#[test]
fn keyword_form_errors() {
    assert_eq!(
        first_error("use schema::openapi(path);"),
        ("E0002", "expected a string literal, found `path`".into())
    );
    assert_eq!(
        first_error("use 42;"),
        (
            "E0002",
            "expected a module path or `schema::…` after `use`, found `42`".into()
        )
    );
    assert_eq!(first_error("grant network(\"x\");").0, "E0002");
    assert_eq!(
        first_error("context;"),
        ("E0002", "expected `.` after `context`, found `;`".into())
    );
    assert_eq!(
        first_error("remember;"),
        ("E0002", "expected `(` after `remember`, found `;`".into())
    );
    assert_eq!(first_error("let v = vec;").0, "E0002");
    assert_eq!(
        first_error("turn -> Num { };"),
        (
            "E0002",
            "expected `(` or `{` after `turn`, found `->`".into()
        )
    );
}

// ----- statements -------------------------------------------------------------

#[test]
fn let_statements() {
    assert_eq!(ok("let x = 1;"), "(let x 1)");
    assert_eq!(ok("let x: Num = 1;"), "(let x: Num 1)");
    assert_eq!(ok("let x: List<Num>? = null;"), "(let x: List<Num>? null)");
    assert_eq!(
        ok("let café = 1; let 变量 = café;"),
        "(let café 1) (let 变量 café)"
    );
}

#[test]
fn assignments() {
    assert_eq!(ok("a = 1;"), "(= a 1)");
    assert_eq!(ok("a[0] = 1;"), "(= (index a 0) 1)");
    assert_eq!(ok("a.b.c = 1;"), "(= (field (field a b) c) 1)");
    assert_eq!(ok("a.b[i] = 2;"), "(= (index (field a b) i) 2)");
    assert_eq!(ok("a[i].b = x == y;"), "(= (field (index a i) b) (== x y))");
    assert_eq!(ok("(a) = 1;"), "(= a 1)");
}

#[test]
fn invalid_assignment_targets() {
    for src in [
        "1 = 2;",
        "f() = 3;",
        "a + b = c;",
        "a.m() = 1;",
        "f().x = 1;",
        "this.x = 1;",
        "[a] = b;",
    ] {
        let (tree, diags) = with_errors(src);
        assert_eq!(diags.len(), 1, "{src}: {diags:#?}");
        assert_eq!(diags[0].code, "E0004", "{src}");
        assert_eq!(diags[0].message, "invalid assignment target");
        assert!(tree.starts_with("(= ERR "), "{src}: {tree}");
    }
}

#[test]
fn control_flow() {
    assert_eq!(ok("return;"), "(return)");
    assert_eq!(ok("return 1 + 2;"), "(return (+ 1 2))");
    assert_eq!(
        ok("while i < n { i = i + 1; }"),
        "(while (< i n) {(= i (+ i 1))})"
    );
    assert_eq!(
        ok("for x in xs { break; continue; }"),
        "(for x xs {break continue})"
    );
    assert_eq!(ok("throw \"bad\";"), "(throw \"bad\")");
    assert_eq!(ok("throw E { m: 1 };"), "(throw (struct E (m 1)))");
    assert_eq!(ok("suspend;"), "suspend");
    assert_eq!(ok("turn { x = 1; }"), "(turn {(= x 1)})");
    assert_eq!(ok("{ let a = 1; }"), "{(let a 1)}");
    assert_eq!(ok("{ { } }"), "{{}}");
}

#[test]
fn try_catch_forms() {
    assert_eq!(
        ok("try { f(); } catch (e) { g(e); }"),
        "(try {(call f)} catch e {(call g e)})"
    );
    assert_eq!(
        ok("try { f(); } catch e { g(e); }"),
        "(try {(call f)} catch e {(call g e)})"
    );
    assert_eq!(
        ok("try { f(); } catch { g(); }"),
        "(try {(call f)} catch {(call g)})"
    );
    let (_, diags) = with_errors("try { f(); } g();");
    assert_eq!(
        diags[0].message,
        "expected `catch` after the `try` block, found `g`"
    );
}

#[test]
fn declarations() {
    assert_eq!(
        ok("struct P { x: Num, y: Str };"),
        "(struct P (x Num) (y Str))"
    );
    assert_eq!(
        ok("struct P { x: Num, y: List<Str>, }"),
        "(struct P (x Num) (y List<Str>))"
    );
    assert_eq!(ok("struct Empty {}"), "(struct Empty)");
    assert_eq!(
        ok("struct Msg { type: Str, in: Num? }"),
        "(struct Msg (type Str) (in Num?))"
    );
    assert_eq!(ok("type Id = Str;"), "(type Id Str)");
    assert_eq!(
        ok("type F = Fn(Num, Str) -> Bool;"),
        "(type F Fn(Num, Str) -> Bool)"
    );
    assert_eq!(
        ok("impl S { let norm = turn() -> Num { return this.a; }; let id = turn(x) { x }; };"),
        "(impl S (norm (fn norm () -> Num {(return (field this a))})) (id (fn id (x) {x})))"
    );
    assert_eq!(
        ok("impl S { ; let m = turn { 1 } }"),
        "(impl S (m (fn m () {1})))"
    );
    assert_eq!(ok("impl S {}"), "(impl S)");
}

#[test]
fn impl_members_must_be_functions() {
    let (tree, diags) = with_errors("impl S { let x = 1; let m = turn { 2 }; }");
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, "E0004");
    assert_eq!(tree, "(impl S (x 1) (m (fn m () {2})))");
    let (tree, diags) = with_errors("impl S { x = 1; let m = turn { 2 }; }");
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(tree, "(impl S (m (fn m () {2})))");
}

#[test]
fn turn_statement_versus_turn_expression() {
    assert_eq!(ok("turn { 1; }"), "(turn {1})");
    assert_eq!(ok("turn(x) { x };"), "(fn (x) {x})");
    assert_eq!(ok("turn(){}"), "(fn () {})");
    let parsed = parse("turn { }");
    assert!(matches!(parsed.file.stmts[0].kind, StmtKind::Turn(_)));
    let parsed = parse("turn() { }");
    assert!(matches!(&parsed.file.stmts[0].kind, StmtKind::Expr(e) if e.is_fn()));
}

#[test]
fn if_statement_is_an_expression_statement() {
    let parsed = parse("if a { b } else { c } d;");
    assert!(parsed.diagnostics.is_empty());
    assert_eq!(parsed.file.stmts.len(), 2);
    let StmtKind::Expr(expr) = &parsed.file.stmts[0].kind else {
        panic!()
    };
    let ExprKind::If {
        else_: Some(else_), ..
    } = &expr.kind
    else {
        panic!()
    };
    assert!(matches!(else_.kind, ExprKind::Block(_)));
}

// ----- semicolons ----------------------------------------------------------------

#[test]
fn semicolon_rules() {
    // The last statement of a block or file may omit it.
    assert_eq!(ok("let a = 1; a"), "(let a 1) a");
    assert_eq!(
        ok("let f = turn { let a = 1; a + 1 };"),
        "(let f (fn f () {(let a 1) (+ a 1)}))"
    );
    assert_eq!(ok("turn { return 1 }"), "(turn {(return 1)})");
    // Statements ending in a block need none.
    assert_eq!(ok("if a { } b;"), "(if a {}) b");
    assert_eq!(
        ok("while a { } for x in y { } try { } catch { } turn { } { } b"),
        "(while a {}) (for x y {}) (try {} catch {}) (turn {}) {} b"
    );
    assert_eq!(
        ok("struct A { x: Num } impl A { } b"),
        "(struct A (x Num)) (impl A) b"
    );
    assert_eq!(ok("spawn turn { } b"), "(spawn (fn () {})) b");
    // Stray semicolons are empty statements.
    assert_eq!(ok(";; let a = 1;;; ;"), "(let a 1)");
    assert_eq!(ok("if a { };"), "(if a {})");
}

#[test]
fn missing_semicolon() {
    let (tree, diags) = with_errors("let x = 1 let y = 2;");
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, "E0002");
    assert_eq!(
        diags[0].message,
        "expected `;` after statement, found `let`"
    );
    assert_eq!(diags[0].label, "expected `;`");
    assert_eq!(diags[0].hint.as_deref(), Some("statements end with `;`"));
    // Both statements are kept.
    assert_eq!(tree, "(let x 1) (let y 2)");
    assert_eq!(codes("let f = turn { } let g = 1;"), vec!["E0002"]);
    assert_eq!(codes("x = 1 y = 2"), vec!["E0002"]);
}

// ----- types -----------------------------------------------------------------------

#[test]
fn types() {
    let t = |ty: &str| {
        let src = format!("let x: {ty} = 1;");
        let tree = ok(&src);
        tree.trim_start_matches("(let x: ")
            .trim_end_matches(" 1)")
            .to_string()
    };
    for name in [
        "Num", "Str", "Bool", "Any", "Void", "Pid", "Vec", "Identity", "Point",
    ] {
        assert_eq!(t(name), name);
    }
    assert_eq!(t("List<Num>"), "List<Num>");
    assert_eq!(t("List<List<Num>>"), "List<List<Num>>");
    assert_eq!(t("Map<Str, List<Map<T>>>"), "Map<Str, List<Map<T>>>");
    assert_eq!(t("Map<T,>"), "Map<T>");
    assert_eq!(t("Fn(A, B) -> R"), "Fn(A, B) -> R");
    assert_eq!(t("Fn()"), "Fn()");
    assert_eq!(
        t("Fn(Fn(Num) -> Num) -> List<Num>"),
        "Fn(Fn(Num) -> Num) -> List<Num>"
    );
    assert_eq!(t("Num?"), "Num?");
    assert_eq!(t("Num??"), "Num??");
    assert_eq!(t("List<Num?>?"), "List<Num?>?");
    assert_eq!(t("Fn(A) -> R?"), "Fn(A) -> R?");
    assert_eq!(t("(Fn(A) -> R)?"), "Fn(A) -> R?");
    // `Fn` without parameters is a plain name.
    assert_eq!(t("Fn"), "Fn");
}

#[test]
fn generic_close_before_equals() {
    // `>=` right after a type is `>` then `=`.
    assert_eq!(ok("let x: List<Num>= [1];"), "(let x: List<Num> (list 1))");
    assert_eq!(
        ok("let x: Map<Str, List<Num>>= {};"),
        "(let x: Map<Str, List<Num>> (map))"
    );
}

#[test]
fn type_errors() {
    assert_eq!(first_error("let x: vec = 1;").0, "E0002");
    let parsed = parse("let x: vec = 1;");
    assert_eq!(
        parsed.diagnostics[0].hint.as_deref(),
        Some("the vector type is spelled `Vec`")
    );
    assert_eq!(
        first_error("let x: List<Num = 1;"),
        ("E0002", "expected `>`, found `=`".into())
    );
    assert_eq!(
        first_error("let x: = 1;"),
        ("E0002", "expected a type, found `=`".into())
    );
}

#[test]
fn a_realistic_program() {
    let src = r#"
        // A small agent.
        struct Answer { text: Str, score: Num? };
        impl Answer { let good = turn() -> Bool { return this.score > 0.5; }; };
        let json = use "std/json";
        let net = grant identity::network("api");
        context.system("You are terse.");
        let worker = turn(q: Str) -> Answer {
            let a = infer Answer { context.append(q); "Answer: " + q };
            if confidence a < 0.3 { throw "unsure"; }
            remember(q, a.text);
            return a;
        };
        let pids = spawn_each(["a", "b"], worker);
        let results = gather pids;
        let p = spawn_link turn { send self, {"type": "done"}; };
        let msg = receive timeout 5;
        try { call("echo", results); } catch (e) { echo(e.message); }
        turn {
            for r in results { if r.good() { remember("best", r); break; } }
            return { "n": len(results), "v": vec[0.1, 0.2] ~> vec[0.2, 0.1] };
        }
    "#;
    let parsed = parse(src);
    assert!(parsed.diagnostics.is_empty(), "{:#?}", parsed.diagnostics);
    assert_eq!(parsed.file.stmts.len(), 12);
}
