//! Node ids and byte spans: ids are unique and counted, spans slice back to
//! the source text they came from.

use turn_syntax::ast::*;
use turn_syntax::parse;

fn collect_ids(file: &File) -> Vec<NodeId> {
    fn expr(e: &Expr, out: &mut Vec<NodeId>) {
        out.push(e.id);
        match &e.kind {
            ExprKind::Binary { lhs, rhs, .. } => {
                expr(lhs, out);
                expr(rhs, out);
            }
            ExprKind::Call { callee, args } => {
                expr(callee, out);
                args.iter().for_each(|a| expr(a, out));
            }
            ExprKind::Field { base, name } => {
                expr(base, out);
                out.push(name.id);
            }
            ExprKind::Fn(f) => {
                f.params.iter().for_each(|p| out.push(p.name.id));
                f.body.stmts.iter().for_each(|s| stmt(s, out));
            }
            _ => {}
        }
    }
    fn stmt(s: &Stmt, out: &mut Vec<NodeId>) {
        match &s.kind {
            StmtKind::Let { name, value, .. } => {
                out.push(name.id);
                expr(value, out);
            }
            StmtKind::Expr(e) | StmtKind::Return(Some(e)) => expr(e, out),
            _ => {}
        }
    }
    let mut out = Vec::new();
    file.stmts.iter().for_each(|s| stmt(s, &mut out));
    out
}

#[test]
fn node_ids_are_unique_and_counted() {
    let parsed = parse("let f = turn(a, b) { return a.x + g(b, 1); }; f(1, 2)");
    assert!(parsed.diagnostics.is_empty());
    let mut ids = collect_ids(&parsed.file);
    // f, fn, a, b, +, a.x, a, x, g(b, 1), g, b, 1, f(1, 2), f, 1, 2
    assert_eq!(ids.len(), 16);
    ids.sort_unstable();
    let len = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), len, "ids are unique");
    assert_eq!(
        parsed.file.node_count as usize, len,
        "every id issued is in the tree"
    );
    assert!(ids.iter().all(|&id| id < parsed.file.node_count));
}

#[test]
fn spans_slice_back_to_source() {
    let src = "let größe = foo.bar(1, \"x\") + [2];\nlet z = größe;";
    let parsed = parse(src);
    assert!(parsed.diagnostics.is_empty());
    let StmtKind::Let { name, value, .. } = &parsed.file.stmts[0].kind else {
        panic!()
    };
    assert_eq!(&src[name.span.range()], "größe");
    assert_eq!(&src[value.span.range()], "foo.bar(1, \"x\") + [2]");
    let ExprKind::Binary { lhs, rhs, .. } = &value.kind else {
        panic!()
    };
    assert_eq!(&src[lhs.span.range()], "foo.bar(1, \"x\")");
    assert_eq!(&src[rhs.span.range()], "[2]");
    let ExprKind::MethodCall { recv, name, args } = &lhs.kind else {
        panic!()
    };
    assert_eq!(&src[recv.span.range()], "foo");
    assert_eq!(&src[name.span.range()], "bar");
    assert_eq!(&src[args[1].span.range()], "\"x\"");
    assert_eq!(
        &src[parsed.file.stmts[0].span.range()],
        "let größe = foo.bar(1, \"x\") + [2];"
    );
    let StmtKind::Let { value, .. } = &parsed.file.stmts[1].kind else {
        panic!()
    };
    assert_eq!(&src[value.span.range()], "größe");
}

#[test]
fn spans_of_compound_forms() {
    let src = "if a { b } else { c }";
    let parsed = parse(src);
    let StmtKind::Expr(expr) = &parsed.file.stmts[0].kind else {
        panic!()
    };
    assert_eq!(&src[expr.span.range()], src);
    let ExprKind::If {
        then,
        else_: Some(else_),
        ..
    } = &expr.kind
    else {
        panic!()
    };
    assert_eq!(&src[then.span.range()], "{ b }");
    assert_eq!(&src[else_.span.range()], "{ c }");

    let src = "let f = turn(x: Num) -> Num { x };";
    let parsed = parse(src);
    let StmtKind::Let {
        value, ty: None, ..
    } = &parsed.file.stmts[0].kind
    else {
        panic!()
    };
    assert_eq!(&src[value.span.range()], "turn(x: Num) -> Num { x }");
    let ExprKind::Fn(f) = &value.kind else {
        panic!()
    };
    assert_eq!(&src[f.ret.as_ref().unwrap().span.range()], "Num");
    assert_eq!(&src[f.params[0].ty.as_ref().unwrap().span.range()], "Num");

    let src = "let t: Map<Str, Num?>? = x;";
    let parsed = parse(src);
    let StmtKind::Let { ty: Some(ty), .. } = &parsed.file.stmts[0].kind else {
        panic!()
    };
    assert_eq!(&src[ty.span.range()], "Map<Str, Num?>?");

    let src = "(a + b)";
    let parsed = parse(src);
    let StmtKind::Expr(expr) = &parsed.file.stmts[0].kind else {
        panic!()
    };
    assert_eq!(&src[expr.span.range()], "(a + b)");
}
