//! Keyword expression forms: `infer`, `receive`, `grant`, `use`,
//! `context.…(…)` and the call-like intrinsics.
//!
//! ```text
//! infer      = "infer" type block
//! receive    = "receive" ("timeout" unary)?       (`timeout` is contextual)
//! grant      = "grant" "identity" "::" NAME "(" expr ")"
//! use        = "use" STR | "use" "schema" "::" NAME "(" STR ")"
//! context    = "context" "." NAME "(" args ")"
//! intrinsic  = ("remember" | "recall" | "call" | "spawn_each") "(" args ")"
//! ```
//!
//! All are primaries, so postfix operators apply to their result
//! (`infer T { … }.field`). Arity is checked later, not here.

use crate::ast::{Expr, ExprKind, Intrinsic, UseTarget};
use crate::lexer;
use crate::token::TokenKind;

use super::Parser;

impl Parser<'_> {
    /// `"infer" type block`
    pub(super) fn parse_infer(&mut self) -> Expr {
        let start = self.bump().span;
        let ty = self.parse_type();
        let body = self.parse_block();
        let span = self.span_from(start);
        self.expr(ExprKind::Infer { ty, body }, span)
    }

    /// `"receive" ("timeout" unary)?`; `timeout` is a contextual keyword.
    pub(super) fn parse_receive(&mut self) -> Expr {
        let start = self.bump().span;
        let mut timeout = None;
        if self.at(TokenKind::Ident) && self.text_of(self.cur().span) == "timeout" {
            self.bump();
            if !self.enter() {
                return self.skip_too_deep_expr();
            }
            timeout = Some(Box::new(self.parse_unary()));
            self.leave();
        }
        let span = self.span_from(start);
        self.expr(ExprKind::Receive { timeout }, span)
    }

    /// `"grant" "identity" "::" NAME "(" expr ")"`
    pub(super) fn parse_grant(&mut self) -> Expr {
        let start = self.bump().span;
        let ok = self.expect(TokenKind::Identity, " after `grant`")
            && self.expect(TokenKind::ColonColon, " after `grant identity`");
        let kind = if ok {
            self.parse_binding_name("a capability kind such as `network`")
        } else {
            None
        };
        let Some(kind) = kind else {
            return self.expr(ExprKind::Error, start);
        };
        if !self.at(TokenKind::LParen) {
            self.expected("`(` after the capability kind", "expected `(`");
            return self.expr(ExprKind::Error, start);
        }
        let open = self.bump();
        let name = self.parse_expr();
        self.expect_closing(TokenKind::RParen, open.span);
        let span = self.span_from(start);
        self.expr(
            ExprKind::Grant {
                kind,
                name: Box::new(name),
            },
            span,
        )
    }

    /// `"use" STR | "use" "schema" "::" NAME "(" STR ")"`
    pub(super) fn parse_use(&mut self) -> Expr {
        let start = self.bump().span;
        let tok = self.cur();
        if tok.kind == TokenKind::Str {
            self.bump();
            let path = lexer::string_value(self.text_of(tok.span));
            return self.expr(ExprKind::Use(UseTarget::Path(path)), self.span_from(start));
        }
        if tok.kind != TokenKind::Ident || self.text_of(tok.span) != "schema" {
            let diag = self
                .error_expected("a module path or `schema::…` after `use`", "expected a module")
                .with_hint("write `use \"std/json\"`, `use \"./lib.tn\"` or `use schema::openapi(\"spec.json\")`");
            self.emit(diag);
            return self.expr(ExprKind::Error, start);
        }
        self.bump();
        let target = self.parse_schema_target();
        let span = self.span_from(start);
        match target {
            Some(target) => self.expr(ExprKind::Use(target), span),
            None => self.expr(ExprKind::Error, span),
        }
    }

    /// `"::" NAME "(" STR ")"` after `use schema`.
    fn parse_schema_target(&mut self) -> Option<UseTarget> {
        if !self.expect(TokenKind::ColonColon, " after `use schema`") {
            return None;
        }
        let protocol = self.parse_binding_name("a schema protocol such as `openapi`")?;
        if !self.at(TokenKind::LParen) {
            self.expected("`(` after the schema protocol", "expected `(`");
            return None;
        }
        let open = self.bump();
        let tok = self.cur();
        if tok.kind != TokenKind::Str {
            let diag = self
                .error_expected("a string literal", "expected the schema's path or URL")
                .with_hint("the schema source must be a string literal, known at compile time");
            self.emit(diag);
            return None;
        }
        self.bump();
        let source = lexer::string_value(self.text_of(tok.span));
        self.expect_closing(TokenKind::RParen, open.span);
        Some(UseTarget::Schema { protocol, source })
    }

    /// `"context" "." NAME "(" args ")"`
    pub(super) fn parse_context(&mut self) -> Expr {
        let start = self.bump().span;
        if !self.expect(TokenKind::Dot, " after `context`") {
            return self.expr(ExprKind::Error, start);
        }
        let Some(method) = self.parse_field_name("a context method such as `append`") else {
            return self.expr(ExprKind::Error, self.span_from(start));
        };
        if !self.at(TokenKind::LParen) {
            self.expected("`(` after the context method", "expected `(`");
            return self.expr(ExprKind::Error, self.span_from(start));
        }
        let (args, _) = self.parse_args();
        let span = self.span_from(start);
        self.expr(ExprKind::Context { method, args }, span)
    }

    /// `("remember" | "recall" | "call" | "spawn_each") "(" args ")"`
    pub(super) fn parse_intrinsic(&mut self) -> Expr {
        let tok = self.bump();
        let kind = match tok.kind {
            TokenKind::Remember => Intrinsic::Remember,
            TokenKind::Recall => Intrinsic::Recall,
            TokenKind::Call => Intrinsic::Call,
            _ => Intrinsic::SpawnEach,
        };
        if !self.at(TokenKind::LParen) {
            let what = format!("`(` after `{}`", tok.kind.text());
            self.expected(&what, "expected `(`");
            return self.expr(ExprKind::Error, tok.span);
        }
        let (args, _) = self.parse_args();
        let span = self.span_from(tok.span);
        self.expr(ExprKind::Intrinsic { kind, args }, span)
    }
}
