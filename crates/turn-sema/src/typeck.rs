//! Type lowering and the static side of gradual typing.
//!
//! Static types are precise or `Any`. A check fails at compile time only when
//! both sides are known and cannot match; everything else is left to the
//! run-time check that the compiler inserts at annotated sites.

use std::collections::HashMap;
use turn_bytecode::{StructDef, Ty};
use turn_syntax::ast::{TypeExpr, TypeKind};
use turn_syntax::Diagnostic;

/// The type names visible in one file.
#[derive(Default)]
pub struct TypeEnv {
    pub structs: HashMap<String, u32>,
    pub aliases: HashMap<String, TypeExpr>,
}

impl TypeEnv {
    /// Lower an annotation; unknown names are reported and become `Any`.
    pub fn lower(&self, t: &TypeExpr, diags: &mut Vec<Diagnostic>) -> Ty {
        self.lower_depth(t, diags, 0)
    }

    fn lower_depth(&self, t: &TypeExpr, diags: &mut Vec<Diagnostic>, depth: u32) -> Ty {
        if depth > 64 {
            diags.push(
                Diagnostic::error(
                    "E1011",
                    "type alias expands too deeply (is it recursive?)",
                    t.span,
                )
                .with_label("in this type"),
            );
            return Ty::Any;
        }
        match &t.kind {
            TypeKind::Error => Ty::Any,
            TypeKind::Optional(inner) => match self.lower_depth(inner, diags, depth + 1) {
                Ty::Optional(x) => Ty::Optional(x),
                Ty::Any => Ty::Any,
                x => Ty::Optional(Box::new(x)),
            },
            TypeKind::Fn { params, ret } => Ty::Fn {
                params: Some(
                    params
                        .iter()
                        .map(|p| self.lower_depth(p, diags, depth + 1))
                        .collect(),
                ),
                ret: Box::new(match ret {
                    Some(r) => self.lower_depth(r, diags, depth + 1),
                    None => Ty::Any,
                }),
            },
            TypeKind::Named { name, args } => {
                let arg = |i: usize, diags: &mut Vec<Diagnostic>| match args.get(i) {
                    Some(a) => self.lower_depth(a, diags, depth + 1),
                    None => Ty::Any,
                };
                let expect_args = |n: usize, diags: &mut Vec<Diagnostic>| {
                    if args.len() > n {
                        diags.push(
                            Diagnostic::error(
                                "E1007",
                                format!(
                                    "`{name}` takes {n} type argument{}",
                                    if n == 1 { "" } else { "s" }
                                ),
                                t.span,
                            )
                            .with_label("too many type arguments"),
                        );
                    }
                };
                match name.as_str() {
                    "Any" => Ty::Any,
                    "Void" | "Null" => Ty::Void,
                    "Num" => Ty::Num,
                    "Str" => Ty::Str,
                    "Bool" => Ty::Bool,
                    "Pid" => Ty::Pid,
                    "Vec" => Ty::Vec,
                    "Identity" => Ty::Identity,
                    "Fn" => Ty::Fn {
                        params: None,
                        ret: Box::new(Ty::Any),
                    },
                    "List" => {
                        expect_args(1, diags);
                        Ty::List(Box::new(arg(0, diags)))
                    }
                    "Map" => {
                        expect_args(2, diags);
                        if args.len() == 2 {
                            let key = arg(0, diags);
                            if !matches!(key, Ty::Str | Ty::Any) {
                                diags.push(
                                    Diagnostic::error(
                                        "E1007",
                                        "map keys are strings",
                                        args[0].span,
                                    )
                                    .with_label("expected `Str`")
                                    .with_hint("write `Map<T>` or `Map<Str, T>`"),
                                );
                            }
                            Ty::Map(Box::new(arg(1, diags)))
                        } else {
                            Ty::Map(Box::new(arg(0, diags)))
                        }
                    }
                    other => {
                        if let Some(sid) = self.structs.get(other) {
                            expect_args(0, diags);
                            Ty::Struct(*sid)
                        } else if let Some(alias) = self.aliases.get(other) {
                            self.lower_depth(alias, diags, depth + 1)
                        } else {
                            diags.push(
                                Diagnostic::error("E1007", format!("unknown type `{other}`"), t.span)
                                    .with_label("not a declared struct, alias or builtin type")
                                    .with_hint("builtin types: Num Str Bool Any Void Pid Vec Identity List<T> Map<T> Fn(A) -> R"),
                            );
                            Ty::Any
                        }
                    }
                }
            }
        }
    }
}

/// Whether a value of static type `actual` can never be a `expected`.
pub fn conflicts(actual: &Ty, expected: &Ty) -> bool {
    match (actual, expected) {
        (Ty::Any, _) | (_, Ty::Any) => false,
        (Ty::Void, e) => !e.accepts_null(),
        (a, Ty::Optional(e)) => match a {
            Ty::Optional(a) => conflicts(a, e),
            a => conflicts(a, e),
        },
        (Ty::Optional(_), _) => false,
        (Ty::List(a), Ty::List(e)) | (Ty::Map(a), Ty::Map(e)) => conflicts(a, e),
        (Ty::Fn { .. }, Ty::Fn { .. }) => false,
        (Ty::Struct(a), Ty::Struct(e)) => a != e,
        (a, e) => std::mem::discriminant(a) != std::mem::discriminant(e),
    }
}

/// Whether a value of static type `actual` is surely a `expected` (so no
/// run-time check is needed).
pub fn satisfies(actual: &Ty, expected: &Ty) -> bool {
    match (actual, expected) {
        (_, Ty::Any) => true,
        (Ty::Any, _) => false,
        (Ty::Void, e) => e.accepts_null(),
        (a, Ty::Optional(e)) => match a {
            Ty::Optional(a) => satisfies(a, e),
            a => satisfies(a, e),
        },
        (Ty::List(a), Ty::List(e)) | (Ty::Map(a), Ty::Map(e)) => satisfies(a, e),
        (Ty::Fn { .. }, Ty::Fn { params: None, .. }) => true,
        (Ty::Struct(a), Ty::Struct(e)) => a == e,
        (a, e) => a == e && !matches!(a, Ty::Fn { .. }),
    }
}

/// The common static type of list elements or branches.
pub fn join(a: &Ty, b: &Ty) -> Ty {
    if a == b {
        a.clone()
    } else {
        match (a, b) {
            (Ty::Void, t) | (t, Ty::Void) if !matches!(t, Ty::Any) => match t {
                Ty::Optional(_) => t.clone(),
                t => Ty::Optional(Box::new(t.clone())),
            },
            _ => Ty::Any,
        }
    }
}

/// Display helper for diagnostics.
pub fn show(t: &Ty, structs: &[StructDef]) -> String {
    t.display(structs).to_string()
}
