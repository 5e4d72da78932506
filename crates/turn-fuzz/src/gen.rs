//! Input generators as proptest strategies.
//!
//! - [`program`]: grammar-based, syntactically plausible Turn programs. A
//!   fixed prelude binds every name the generator uses (`a`…`p`, the std
//!   modules, a struct `P` with methods), with `Any` types, so most programs
//!   compile and the VM and the standard library get exercised, not just the
//!   name resolver.
//! - [`deep`] and [`chains`]: the shapes that break recursive passes — every
//!   kind of bracket, block and closure nested hundreds to thousands deep
//!   (around the parser's nesting limit of 256, where the tree is as deep as
//!   it may get), and long operator, field and call chains.
//! - [`token_soup`]: random sequences of Turn's tokens, for the lexer,
//!   parser recovery and every diagnostic path.
//!
//! Mutations of the corpus are in [`crate::mutate`]; both draw from
//! [`crate::vocab`].

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::Union;

pub use crate::vocab::*;

/// A call of `name` with an argument count in `min..=max` taken from
/// `args`; when `pick` is 255 (rare) whatever count `args` has is kept, to
/// test arity errors too.
fn call_text(name: &str, min: usize, max: usize, mut args: Vec<String>, pick: u8) -> String {
    if pick != u8::MAX {
        let n = min + usize::from(pick) % (max - min + 1);
        args.truncate(n);
        while args.len() < n {
            args.push("1".to_string());
        }
    }
    format!("{name}({})", args.join(", "))
}

/// A primary expression with no sub-expressions.
fn leaf() -> BoxedStrategy<String> {
    Union::new_weighted(vec![
        (6, select(NUMBERS).prop_map(String::from).boxed()),
        (3, (0u32..1000).prop_map(|n| n.to_string()).boxed()),
        (5, select(STRINGS).prop_map(String::from).boxed()),
        (12, select(VALUE_NAMES).prop_map(String::from).boxed()),
        (
            4,
            select(
                &[
                    "null",
                    "true",
                    "false",
                    "[]",
                    "{}",
                    "self",
                    "vec[]",
                    "recall(\"k\")",
                    "receive",
                    "receive timeout 0",
                    "tm.now()",
                    "mt.pi",
                    "P { x: 1, y: 2 }",
                    "turn { return 1; }",
                    "use \"std/json\"",
                    "use \"./missing.tn\"",
                ][..],
            )
            .prop_map(String::from)
            .boxed(),
        ),
    ])
    .boxed()
}

/// Grammar-based expressions, nested up to a few levels.
pub fn expr() -> BoxedStrategy<String> {
    leaf()
        .prop_recursive(5, 64, 6, |inner| {
            let e = inner;
            Union::new_weighted(vec![
                (
                    8,
                    (e.clone(), select(BINOPS), e.clone())
                        .prop_map(|(a, op, b)| format!("{a} {op} {b}"))
                        .boxed(),
                ),
                (
                    4,
                    (e.clone(), select(BINOPS), e.clone())
                        .prop_map(|(a, op, b)| format!("({a} {op} {b})"))
                        .boxed(),
                ),
                (
                    3,
                    (select(UNOPS), e.clone())
                        .prop_map(|(op, a)| format!("{op}{a}"))
                        .boxed(),
                ),
                (
                    4,
                    vec(e.clone(), 0..5)
                        .prop_map(|v| format!("[{}]", v.join(", ")))
                        .boxed(),
                ),
                (
                    3,
                    vec((select(KEYS), e.clone()), 0..4)
                        .prop_map(|kv| {
                            // Distinct keys: a repeated key is a compile error.
                            let mut seen = Vec::new();
                            let items: Vec<String> = kv
                                .into_iter()
                                .filter(|(k, _)| {
                                    let key = k.trim_matches('"');
                                    let fresh = !seen.contains(&key);
                                    seen.push(key);
                                    fresh
                                })
                                .map(|(k, v)| format!("{k}: {v}"))
                                .collect();
                            format!("{{{}}}", items.join(", "))
                        })
                        .boxed(),
                ),
                (
                    1,
                    vec(select(NUMBERS), 0..4)
                        .prop_map(|v| format!("vec[{}]", v.join(", ")))
                        .boxed(),
                ),
                (
                    6,
                    (select(BUILTINS), vec(e.clone(), 0..4), any::<u8>())
                        .prop_map(|((n, lo, hi), a, pick)| call_text(n, lo, hi, a, pick))
                        .boxed(),
                ),
                (
                    3,
                    (
                        select(&[("f", 1, 1), ("g", 2, 2), ("a", 0, 2), ("p", 0, 1)][..]),
                        vec(e.clone(), 0..3),
                        any::<u8>(),
                    )
                        .prop_map(|((n, lo, hi), a, pick)| call_text(n, lo, hi, a, pick))
                        .boxed(),
                ),
                (
                    8,
                    (select(MODULE_FNS), vec(e.clone(), 0..4), any::<u8>())
                        .prop_map(|((n, lo, hi), a, pick)| call_text(n, lo, hi, a, pick))
                        .boxed(),
                ),
                (
                    4,
                    (e.clone(), e.clone())
                        .prop_map(|(a, b)| format!("{a}[{b}]"))
                        .boxed(),
                ),
                (
                    3,
                    (e.clone(), select(FIELDS))
                        .prop_map(|(a, f)| format!("({a}).{f}"))
                        .boxed(),
                ),
                (
                    2,
                    (
                        e.clone(),
                        select(&["sum", "me", "upper", "nope"][..]),
                        vec(e.clone(), 0..2),
                    )
                        .prop_map(|(r, m, a)| format!("({r}).{m}({})", a.join(", ")))
                        .boxed(),
                ),
                (
                    3,
                    (e.clone(), e.clone(), e.clone())
                        .prop_map(|(c, t, f)| format!("if ({c}) {{ {t} }} else {{ {f} }}"))
                        .boxed(),
                ),
                (
                    4,
                    (params(), vec(simple_stmt(e.clone()), 0..4), e.clone())
                        .prop_map(|(ps, body, r)| {
                            format!("turn({ps}) {{ {} return {r}; }}", body.join(" "))
                        })
                        .boxed(),
                ),
                (
                    3,
                    (e.clone(), e.clone(), any::<bool>(), select(VALUE_NAMES))
                        .prop_map(|(x, y, spread, base)| {
                            if spread {
                                format!("P {{ x: {x}, ..{base} }}")
                            } else {
                                format!("P {{ x: {x}, y: {y} }}")
                            }
                        })
                        .boxed(),
                ),
                (
                    2,
                    (select(SPECIAL_FORMS), e.clone(), e.clone())
                        .prop_map(|(t, a, b)| t.replace("$A", &a).replace("$B", &b))
                        .boxed(),
                ),
                (2, e.clone().prop_map(|a| format!("({a})")).boxed()),
            ])
        })
        .boxed()
}

/// Keyword forms with holes `$A` and `$B` for sub-expressions.
const SPECIAL_FORMS: &[&str] = &[
    "spawn turn { return $A; }",
    "spawn_link turn() { return $A; }",
    "gather [spawn_link turn { return $A; }]",
    "gather $A",
    "spawn_each($A, f)",
    "send $A, $B",
    "send self, $A",
    "receive timeout $A",
    "infer Str { $A }",
    "infer P { \"make a point\" }",
    "confidence infer Num { $A }",
    "grant identity::network($A)",
    "context.append($A)",
    "context.system($A)",
    "context.budget($A)",
    "context.tokens()",
    "remember($A, $B)",
    "recall($A)",
    "call(f, $A)",
    "call(g, [$A, $B])",
    "call(g, {\"x\": $A, \"y\": $B})",
    "call(\"echo\", $A)",
    "call($A, $B)",
    "l.map($A, turn(x) { return x + $B; })",
    "l.filter($A, turn(x) { return $B; })",
    "l.reduce($A, turn(acc, x) { return acc + x; }, $B)",
    "l.sort_by($A, turn(x) { return $B; })",
    "s.format(\"{} {}\", $A, $B)",
    "j.parse(j.stringify($A))",
    "j.stringify($A, $B)",
    "s.repeat(str($A), $B)",
    "range($A, $B)",
    "re.find_all($A, s.repeat(\"a\", 50000))",
    "re.replace($A, s.repeat(\"ab\", 20000), \"$0$0\")",
    "[$A, $B][$B]",
];

/// What may end a loop body early.
const LOOP_EXITS: &[&str] = &[
    "",
    "",
    "",
    "if (x == 2) { break; }",
    "if (i == 1) { continue; }",
    "break;",
];

/// A parameter list.
fn params() -> impl Strategy<Value = String> {
    select(
        &[
            "",
            "x",
            "x, y",
            "x: Num",
            "x, y",
            "x: Any, y: Any",
            "x: Any",
        ][..],
    )
    .prop_map(String::from)
}

/// Statements without nested statements, over expressions `e`.
fn simple_stmt(e: BoxedStrategy<String>) -> BoxedStrategy<String> {
    Union::new_weighted(vec![
        (
            6,
            (select(VALUE_NAMES), e.clone())
                .prop_map(|(n, v)| format!("let {n} = {v};"))
                .boxed(),
        ),
        (
            2,
            (
                select(VALUE_NAMES),
                prop_oneof![4 => Just("Any"), 1 => select(TYPES)],
                e.clone(),
            )
                .prop_map(|(n, t, v)| format!("let {n}: {t} = {v};"))
                .boxed(),
        ),
        (
            5,
            (select(VALUE_NAMES), e.clone())
                .prop_map(|(n, v)| format!("{n} = {v};"))
                .boxed(),
        ),
        (4, e.clone().prop_map(|v| format!("({v});")).boxed()),
        (4, e.clone().prop_map(|v| format!("echo({v});")).boxed()),
        (
            1,
            (e.clone(), e.clone())
                .prop_map(|(a, b)| format!("print({a}, {b});"))
                .boxed(),
        ),
        (1, e.clone().prop_map(|v| format!("return {v};")).boxed()),
        (1, e.clone().prop_map(|v| format!("throw {v};")).boxed()),
        (
            2,
            (select(VALUE_NAMES), select(FIELDS), e.clone())
                .prop_map(|(n, f, v)| format!("{n}.{f} = {v};"))
                .boxed(),
        ),
        (
            2,
            (select(VALUE_NAMES), e.clone(), e.clone())
                .prop_map(|(n, k, v)| format!("{n}[{k}] = {v};"))
                .boxed(),
        ),
        (
            1,
            (e.clone(), e.clone())
                .prop_map(|(k, v)| format!("remember({k}, {v});"))
                .boxed(),
        ),
        (
            1,
            select(&["suspend;", "return;", ";"][..])
                .prop_map(String::from)
                .boxed(),
        ),
    ])
    .boxed()
}

/// Statements, nested a few levels.
pub fn stmt() -> BoxedStrategy<String> {
    let e = expr();
    simple_stmt(e.clone())
        .prop_recursive(3, 32, 5, move |inner| {
            let body = vec(inner, 0..4).prop_map(|v| v.join("\n"));
            Union::new_weighted(vec![
                (
                    4,
                    (e.clone(), body.clone())
                        .prop_map(|(c, b)| format!("if ({c}) {{\n{b}\n}}"))
                        .boxed(),
                ),
                (
                    3,
                    (e.clone(), body.clone(), body.clone())
                        .prop_map(|(c, t, f)| {
                            format!("if ({c}) {{\n{t}\n}} else if ({c}) {{ }} else {{\n{f}\n}}")
                        })
                        .boxed(),
                ),
                (
                    4,
                    (0u32..20, body.clone(), select(LOOP_EXITS))
                        .prop_map(|(n, b, exit)| {
                            format!(
                                "{{ let i = 0; while i < {n} {{\n{b}\n{exit}\ni = i + 1;\n}} }}"
                            )
                        })
                        .boxed(),
                ),
                (
                    1,
                    (e.clone(), body.clone())
                        .prop_map(|(c, b)| format!("while ({c}) {{\n{b}\n}}"))
                        .boxed(),
                ),
                (
                    4,
                    (
                        select(
                            &[
                                "c",
                                "range(5)",
                                "keys(d)",
                                "s.chars(b)",
                                "p",
                                "d",
                                "a",
                                "[[1], [2]]",
                            ][..],
                        ),
                        body.clone(),
                        select(LOOP_EXITS),
                    )
                        .prop_map(|(it, b, exit)| format!("for x in {it} {{\n{exit}\n{b}\n}}"))
                        .boxed(),
                ),
                (
                    4,
                    (
                        body.clone(),
                        body.clone(),
                        select(&["(e)", "e", "", "(x)"][..]),
                    )
                        .prop_map(|(t, h, v)| format!("try {{\n{t}\n}} catch {v} {{\n{h}\n}}"))
                        .boxed(),
                ),
                (
                    2,
                    body.clone()
                        .prop_map(|b| format!("turn {{\n{b}\n}}"))
                        .boxed(),
                ),
                (2, body.clone().prop_map(|b| format!("{{\n{b}\n}}")).boxed()),
                (
                    3,
                    (
                        select(&["h1", "h2", "h3"][..]),
                        params(),
                        body.clone(),
                        e.clone(),
                    )
                        .prop_map(|(n, ps, b, r)| {
                            // A fresh name: function bindings are hoisted, so
                            // reusing a prelude name would make its earlier
                            // uses refer to this function.
                            let args =
                                vec!["1"; ps.split(',').filter(|p| !p.trim().is_empty()).count()];
                            format!(
                                "let {n} = turn({ps}) {{\n{b}\nreturn {r};\n}};\necho({n}({}));",
                                args.join(", ")
                            )
                        })
                        .boxed(),
                ),
                (
                    1,
                    (
                        select(&["Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7", "Q8"][..]),
                        select(TYPES),
                        select(TYPES),
                    )
                        .prop_map(|(n, t1, t2)| format!("struct {n} {{ a: {t1}, b: {t2} }};"))
                        .boxed(),
                ),
                (
                    1,
                    (
                        select(&["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8"][..]),
                        body.clone(),
                        e.clone(),
                    )
                        .prop_map(|(m, b, r)| {
                            format!("impl P {{ let {m} = turn() {{\n{b}\nreturn {r};\n}}; }};")
                        })
                        .boxed(),
                ),
                (
                    1,
                    (0u8..16, select(TYPES))
                        .prop_map(|(n, t)| format!("type T{n} = {t};"))
                        .boxed(),
                ),
                (
                    2,
                    (select(RECURSION), body.clone(), e.clone())
                        .prop_map(|(shape, b, r)| shape.replace("$BODY", &b).replace("$A", &r))
                        .boxed(),
                ),
            ])
        })
        .boxed()
}

/// Self-calling functions of several shapes (bounded, runaway, through
/// handlers, through std callbacks, mutual), called once. `$BODY` is a
/// statement list, `$A` an expression.
const RECURSION: &[&str] = &[
    "let r1 = turn(n) { if (n > 20) { return $A; } $BODY\nreturn r1(n + 1); };\necho(r1(0));",
    "let r2 = turn(n) { $BODY\nreturn r2(n + 1) + 1; };\ntry { echo(r2(0)); } catch (e) { echo(e.kind); }",
    // Retrying in the handler all the way down is exponential, and each
    // retry at the depth limit is slow (corpus/crashes/hang-run-slow-steps):
    // retry only near the top.
    "let r3 = turn(n) { try { return r3(n + 1); } catch (e) { $BODY\nif (n < 3) { return r3(n + 2); } throw e; } };\ntry { r3(0); } catch (e) { echo(e); }",
    "let r4 = turn(n) { if (n == 0) { throw $A; } try { return r4(n - 1); } catch (e) { $BODY\nthrow e; } };\ntry { r4(500); } catch (e) { echo(e); }",
    "let r5 = turn(xs) { $BODY\nreturn l.map(xs, turn(x) { return r5([x, $A]); }); };\ntry { r5([1]); } catch (e) { echo(e.message); }",
    "let r6 = turn(n) { return r7(n); };\nlet r7 = turn(n) { $BODY\nreturn r6(n + 1); };\ntry { r6(0); } catch (e) { echo(e.kind); }",
    "let r8 = turn(n) { if (n < 2) { return n; } $BODY\nreturn r8(n - 1) + r8(n - 2); };\necho(r8(25));",
    "let r9 = turn(v, n) { if (n == 0) { return v; } return r9([v, v], n - 1); };\ntry { echo(len(str(r9($A, 30)))); } catch (e) { echo(e.kind); }",
];

/// A whole program: usually the prelude, then statements, then a result.
pub fn program() -> BoxedStrategy<String> {
    (any::<u8>(), vec(stmt(), 1..10), expr())
        .prop_map(|(flags, stmts, result)| {
            let mut out = String::new();
            if flags % 8 != 0 {
                out.push_str(PRELUDE);
            }
            if flags % 3 == 0 {
                // Every statement in a handler, so a runtime error does not
                // end the program before the rest runs.
                for st in &stmts {
                    out.push_str(&format!("try {{\n{st}\n}} catch (e) {{ echo(e.kind); }}\n"));
                }
            } else {
                out.push_str(&stmts.join("\n"));
            }
            if flags % 2 == 0 {
                out.push_str(&format!("\nreturn {result};\n"));
            }
            out
        })
        .boxed()
}

/// Wrappers for [`deep`]: an opening and a closing text; the hole goes
/// between them. `true` marks statement wrappers (their hole is a
/// statement).
const WRAPPERS: &[(&str, &str, bool)] = &[
    ("(", ")", false),
    ("[", "]", false),
    ("{\"k\": ", "}", false),
    ("vec[", "]", false),
    ("f(", ")", false),
    ("g(1, ", ")", false),
    ("-", "", false),
    ("!", "", false),
    ("confidence ", "", false),
    ("1 + ", "", false),
    ("1 + (", ")", false),
    ("c[", "]", false),
    ("P { x: ", ", y: 0 }", false),
    ("if a { ", " } else { 0 }", false),
    ("turn() { return ", "; }", false),
    ("turn(x) { return ", "; }(1)", false),
    ("{ ", " }", false),
    ("s.upper(", ")", false),
    ("l.map([1], turn(x) { return ", "; })", false),
    ("send self, ", "", false),
    ("spawn turn { return ", "; }", false),
    ("{ ", " }", true),
    ("if a {\n", "\n}", true),
    ("while false { ", " }", true),
    ("for x in c { ", " }", true),
    ("try { ", " } catch (e) { }", true),
    ("turn { ", " }", true),
    ("let f = turn() { ", " return 1; };", true),
    ("let h = turn(x) { ", " return x; }; h(1);", true),
];

/// Depths that matter: around the parser's limit, and far past it.
fn depth() -> impl Strategy<Value = usize> {
    prop_oneof![4 => 200usize..=300, 2 => 1usize..200, 2 => 300usize..3000, 1 => 3000usize..12000]
}

/// Deep nesting of one to three wrapper kinds, cycled.
pub fn deep() -> BoxedStrategy<String> {
    (vec(0..WRAPPERS.len(), 1..4), depth(), any::<bool>(), leaf())
        .prop_map(|(kinds, depth, with_prelude, leaf)| {
            let chosen: Vec<(&str, &str, bool)> = kinds
                .iter()
                .filter_map(|k| WRAPPERS.get(*k).copied())
                .collect();
            nest(&chosen, depth, &leaf, with_prelude)
        })
        .boxed()
}

/// Builds `depth` levels of `wrappers` around `leaf`, as a program.
pub fn nest(
    wrappers: &[(&str, &str, bool)],
    depth: usize,
    leaf: &str,
    with_prelude: bool,
) -> String {
    let mut open = String::new();
    let mut close: Vec<&str> = Vec::new();
    let mut in_stmt = true;
    for level in 0..depth {
        let Some(&(o, c, stmt)) = wrappers.get(level % wrappers.len().max(1)) else {
            break;
        };
        // An expression wrapper inside a statement wrapper needs a statement
        // around it; a statement wrapper inside an expression needs a block.
        match (in_stmt, stmt) {
            (true, false) => {
                open.push_str("let z = ");
                close.push(";");
            }
            (false, true) => {
                open.push_str("turn() { ");
                close.push(" return 0; }()");
            }
            _ => {}
        }
        open.push_str(o);
        close.push(c);
        in_stmt = stmt;
    }
    let mut out = String::new();
    if with_prelude {
        out.push_str(PRELUDE);
    }
    out.push_str(&open);
    if in_stmt {
        out.push_str(&format!("echo({leaf});"));
    } else {
        out.push_str(leaf);
    }
    for c in close.iter().rev() {
        out.push_str(c);
    }
    out.push('\n');
    out
}

/// Units repeated into long chains.
const CHAIN_UNITS: &[(&str, &str, &str)] = &[
    ("1", " + 1", ""),
    ("a", " * a", ""),
    ("b", " + b", ""),
    ("true", " and true", ""),
    ("c", " == c", ""),
    ("1", " < 2", ""),
    ("p", ".me()", ".x"),
    ("d", ".k", ""),
    ("c", "[0]", ""),
    ("", "-", "1"),
    ("", "!", "true"),
    ("", "- ", "a"),
    ("f", "(1)", ""),
    ("\"\"", " + \"ab\"", ""),
    ("[]", " + [1]", ""),
    ("", "let a = 1; ", "a"),
    ("", "a = a + a; ", "a"),
    ("", "echo(a); ", "a"),
    ("", "c = c + c; ", "len(c)"),
    ("", "b = b + b; ", "len(b)"),
];

/// A long chain of one unit, as a program's result.
pub fn chains() -> BoxedStrategy<String> {
    (
        0..CHAIN_UNITS.len(),
        prop_oneof![1usize..100, 100usize..2000, 2000usize..20000],
    )
        .prop_map(|(k, n)| {
            let (head, unit, tail) = CHAIN_UNITS.get(k).copied().unwrap_or(("1", " + 1", ""));
            let mut out = String::from(PRELUDE);
            let statements = unit.ends_with("; ");
            if statements {
                out.push_str(&unit.repeat(n));
                out.push_str(&format!("\nreturn {head}{tail};\n"));
            } else {
                out.push_str(&format!("return {head}{}{tail};\n", unit.repeat(n)));
            }
            out
        })
        .boxed()
}

/// Random sequences of tokens, with and without spaces between them.
pub fn token_soup() -> BoxedStrategy<String> {
    let token = prop_oneof![
        20 => select(TOKENS).prop_map(String::from),
        2 => select(NUMBERS).prop_map(String::from),
        2 => select(STRINGS).prop_map(String::from),
        1 => any::<char>().prop_map(String::from),
    ];
    (vec(token, 0..300), any::<bool>(), any::<bool>())
        .prop_map(|(tokens, spaced, prelude)| {
            let body = tokens.join(if spaced { " " } else { "" });
            if prelude {
                format!("{PRELUDE}{body}")
            } else {
                body
            }
        })
        .boxed()
}
