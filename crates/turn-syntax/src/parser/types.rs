//! Type annotations.
//!
//! ```text
//! type         = type_primary "?"*
//! type_primary = "Fn" "(" (type ("," type)* ","?)? ")" ("->" type)?
//!              | NAME ("<" type ("," type)* ","? ">")?
//!              | "(" type ")"
//! ```
//!
//! `Num`, `Str`, `Vec`, `List`, struct names … are all plain names resolved
//! later. `>>` is not a token, so `List<List<Num>>` needs nothing special;
//! a `>=` right after a type (`let x: List<Num>= …`) is split into `>` and
//! `=`. Each production returns the type's height so that `?` chains, which
//! are built by a loop, are bounded too.

use crate::ast::{TypeExpr, TypeKind};
use crate::span::Span;
use crate::token::{Token, TokenKind};

use super::{Parser, MAX_DEPTH};

impl Parser<'_> {
    /// `type`
    pub(super) fn parse_type(&mut self) -> TypeExpr {
        self.parse_type_h().0
    }

    fn parse_type_h(&mut self) -> (TypeExpr, u32) {
        if !self.enter() {
            let span = self.skip_type_tokens();
            return (
                TypeExpr {
                    kind: TypeKind::Error,
                    span,
                },
                1,
            );
        }
        let (mut ty, mut height) = self.parse_type_primary();
        while self.at(TokenKind::Question) {
            let q = self.bump();
            if height >= MAX_DEPTH as u32 {
                self.too_deep(q.span);
                continue;
            }
            height += 1;
            let span = ty.span.to(q.span);
            ty = TypeExpr {
                kind: TypeKind::Optional(Box::new(ty)),
                span,
            };
        }
        self.leave();
        (ty, height)
    }

    /// `type_primary`
    fn parse_type_primary(&mut self) -> (TypeExpr, u32) {
        match self.kind() {
            TokenKind::Ident => {
                let tok = self.bump();
                let name = self.text_of(tok.span).to_string();
                if name == "Fn" && self.at(TokenKind::LParen) {
                    self.parse_fn_type(tok.span)
                } else {
                    self.parse_named_type(name, tok.span)
                }
            }
            TokenKind::LParen => {
                let open = self.bump();
                let (mut ty, height) = self.parse_type_h();
                ty.span = self.expect_closing(TokenKind::RParen, open.span);
                (ty, height)
            }
            kind => {
                let mut diag = self.error_expected("a type", "expected a type");
                if kind == TokenKind::Vec {
                    diag = diag.with_hint("the vector type is spelled `Vec`");
                } else if kind.is_keyword() {
                    diag = diag.with_hint(format!("`{}` is a keyword, not a type", kind.text()));
                }
                self.emit(diag);
                (
                    TypeExpr {
                        kind: TypeKind::Error,
                        span: self.cur().span,
                    },
                    1,
                )
            }
        }
    }

    /// `NAME ("<" type ("," type)* ","? ">")?`
    fn parse_named_type(&mut self, name: String, start: Span) -> (TypeExpr, u32) {
        let mut args = Vec::new();
        let mut height = 1;
        if self.at(TokenKind::Lt) {
            let open = self.bump();
            loop {
                let (arg, h) = self.parse_type_h();
                height = height.max(h + 1);
                args.push(arg);
                if !self.eat(TokenKind::Comma) || self.at(TokenKind::Gt) {
                    break;
                }
            }
            self.expect_gt(open.span);
        }
        self.bounded(
            TypeKind::Named { name, args },
            self.span_from(start),
            height,
        )
    }

    /// `"Fn" "(" (type ("," type)* ","?)? ")" ("->" type)?`
    fn parse_fn_type(&mut self, start: Span) -> (TypeExpr, u32) {
        let open = self.bump();
        let mut height = 1;
        let (params, _) = self.comma_list(open.span, TokenKind::RParen, |p| {
            let (ty, h) = p.parse_type_h();
            height = height.max(h + 1);
            Some(ty)
        });
        let ret = if self.eat(TokenKind::Arrow) {
            let (ty, h) = self.parse_type_h();
            height = height.max(h + 1);
            Some(Box::new(ty))
        } else {
            None
        };
        self.bounded(TypeKind::Fn { params, ret }, self.span_from(start), height)
    }

    /// A type node, or `Error` (reported once) when it is too tall.
    fn bounded(&mut self, kind: TypeKind, span: Span, height: u32) -> (TypeExpr, u32) {
        if height > MAX_DEPTH as u32 {
            self.too_deep(span);
            return (
                TypeExpr {
                    kind: TypeKind::Error,
                    span,
                },
                1,
            );
        }
        (TypeExpr { kind, span }, height)
    }

    /// The `>` closing generic arguments; a `>=` is split into `>` and `=`.
    fn expect_gt(&mut self, open: Span) {
        let tok = self.cur();
        match tok.kind {
            TokenKind::Gt => {
                self.bump();
            }
            TokenKind::Ge => {
                let split = tok.span.start + 1;
                if let Some(slot) = self.tokens.get_mut(self.pos) {
                    *slot = Token {
                        kind: TokenKind::Eq,
                        span: Span::new(split, tok.span.end),
                    };
                }
                self.prev_end = split;
            }
            _ => {
                let diag = self
                    .error_expected("`>`", "expected `>`")
                    .with_secondary(open, "to close this `<`");
                self.emit(diag);
            }
        }
    }

    /// Skips a type nested too deeply: up to a `,` `>` `)` at level 0 or any
    /// token that cannot be part of a type. No recursion.
    fn skip_type_tokens(&mut self) -> Span {
        use TokenKind::*;
        let start = self.cur().span;
        let mut level = 0usize;
        loop {
            match self.kind() {
                Eof => {
                    self.reported.insert(self.cur().span.start);
                    break;
                }
                Lt | LParen => level += 1,
                Gt | RParen if level > 0 => level -= 1,
                Comma | Gt | RParen if level == 0 => break,
                Ident | Comma | Question | Arrow => {}
                _ => break,
            }
            self.bump();
        }
        self.span_from(start)
    }
}
