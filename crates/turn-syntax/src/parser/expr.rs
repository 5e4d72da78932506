//! Expressions.
//!
//! ```text
//! expr       = binary(or)                     precedence, lowest first:
//! binary(p)  = unary (OP unary)*                or | and | == != ~> | < > <= >=
//!                                               | + - | * / %   (all left-assoc)
//! unary      = ("-" | "!" | "confidence" | "spawn" | "spawn_link" | "gather")* (send | postfix)
//! send       = "send" unary "," expr
//! postfix    = primary ("(" args ")" | "[" expr "]" | "." NAME ("(" args ")")?)*
//! primary    = NUM | STR | "true" | "false" | "null" | "self" | "this"
//!            | NAME | NAME "{" struct_fields "}"        (not in no-struct contexts)
//!            | "(" expr ")" | "[" exprs "]" | "vec" "[" exprs "]" | "{" map_entries "}"
//!            | "turn" ("(" params ")" ("->" type)?)? block
//!            | if | "infer" type block | "receive" ("timeout" unary)?
//!            | "grant" "identity" "::" NAME "(" expr ")"
//!            | "use" STR | "use" "schema" "::" NAME "(" STR ")"
//!            | "context" "." NAME "(" args ")"
//!            | ("remember" | "recall" | "call" | "spawn_each") "(" args ")"
//! if         = "if" expr_no_struct block ("else" (if | block))?
//! ```
//!
//! A field or method name after `.`, a map key and a struct field may be a
//! keyword (`msg.type`, `{type: "exit"}`). Prefix operators are collected in
//! a loop, not by recursion, so long `- - - x` chains cost no stack.

use crate::ast::{
    BinaryOp, Block, Expr, ExprKind, FieldInit, FnExpr, Ident, Intrinsic, MapEntry, Param, SpawnKind,
    UnaryOp, UseTarget,
};
use crate::diagnostic::Diagnostic;
use crate::lexer;
use crate::span::Span;
use crate::token::TokenKind;

use super::Parser;

/// A prefix operator waiting for its operand.
#[derive(Clone, Copy)]
enum Prefix {
    Unary(UnaryOp),
    Spawn(SpawnKind),
    Gather,
}

/// The binary operator a token stands for, with its precedence (higher binds
/// tighter).
fn binary_op(kind: TokenKind) -> Option<(BinaryOp, u8)> {
    use TokenKind::*;
    Some(match kind {
        Or => (BinaryOp::Or, 1),
        And => (BinaryOp::And, 2),
        EqEq => (BinaryOp::Eq, 3),
        NotEq => (BinaryOp::Ne, 3),
        Similar => (BinaryOp::Similar, 3),
        Lt => (BinaryOp::Lt, 4),
        Gt => (BinaryOp::Gt, 4),
        Le => (BinaryOp::Le, 4),
        Ge => (BinaryOp::Ge, 4),
        Plus => (BinaryOp::Add, 5),
        Minus => (BinaryOp::Sub, 5),
        Star => (BinaryOp::Mul, 6),
        Slash => (BinaryOp::Div, 6),
        Percent => (BinaryOp::Rem, 6),
        _ => return None,
    })
}

/// Whether a token can begin an expression. `Error` counts, so the
/// expression parser meets it and stays quiet (the lexer reported it).
pub(super) fn can_start_expr(kind: TokenKind) -> bool {
    use TokenKind::*;
    matches!(
        kind,
        Num | Str
            | Ident
            | True
            | False
            | Null
            | SelfKw
            | This
            | LParen
            | LBracket
            | LBrace
            | Vec
            | Turn
            | If
            | Infer
            | Receive
            | Grant
            | Use
            | Context
            | Remember
            | Recall
            | Call
            | SpawnEach
            | Minus
            | Bang
            | Confidence
            | Spawn
            | SpawnLink
            | Gather
            | Send
            | Error
    )
}

impl Parser<'_> {
    /// `expr`, with struct literals allowed.
    pub(super) fn parse_expr(&mut self) -> Expr {
        self.parse_expr_with(false)
    }

    /// `expr` in a no-struct context: the condition of `if`/`while`, the
    /// iterable of `for`.
    pub(super) fn parse_expr_no_struct(&mut self) -> Expr {
        self.parse_expr_with(true)
    }

    fn parse_expr_with(&mut self, no_struct: bool) -> Expr {
        if !self.enter() {
            return self.skip_too_deep_expr();
        }
        let saved = std::mem::replace(&mut self.no_struct, no_struct);
        let expr = self.parse_binary(0);
        self.no_struct = saved;
        self.leave();
        expr
    }

    /// `binary(p)`: precedence climbing. The right operand recurses only to a
    /// strictly higher precedence, so this recursion is at most six deep.
    fn parse_binary(&mut self, min_prec: u8) -> Expr {
        let mut lhs = self.parse_unary();
        while let Some((op, prec)) = binary_op(self.kind()) {
            if prec < min_prec {
                break;
            }
            self.bump();
            let rhs = self.parse_binary(prec + 1);
            let span = lhs.span.to(rhs.span);
            lhs = self.expr(ExprKind::Binary { op, lhs: Box::new(lhs), rhs: Box::new(rhs) }, span);
        }
        lhs
    }

    /// `unary`
    fn parse_unary(&mut self) -> Expr {
        let mut ops: Vec<(Prefix, Span)> = Vec::new();
        loop {
            let op = match self.kind() {
                TokenKind::Minus => Prefix::Unary(UnaryOp::Neg),
                TokenKind::Bang => Prefix::Unary(UnaryOp::Not),
                TokenKind::Confidence => Prefix::Unary(UnaryOp::Confidence),
                TokenKind::Spawn => Prefix::Spawn(SpawnKind::Spawn),
                TokenKind::SpawnLink => Prefix::Spawn(SpawnKind::SpawnLink),
                TokenKind::Gather => Prefix::Gather,
                _ => break,
            };
            let tok = self.bump();
            ops.push((op, tok.span));
        }
        let mut expr = if self.at(TokenKind::Send) { self.parse_send() } else { self.parse_postfix() };
        while let Some((op, op_span)) = ops.pop() {
            let span = op_span.to(expr.span);
            if matches!(expr.kind, ExprKind::Error) {
                // Already reported; an operator on a broken operand adds nothing.
                expr.span = span;
                continue;
            }
            let operand = Box::new(expr);
            let kind = match op {
                Prefix::Unary(op) => ExprKind::Unary { op, expr: operand },
                Prefix::Spawn(kind) => ExprKind::Spawn { kind, func: operand },
                Prefix::Gather => ExprKind::Gather(operand),
            };
            expr = self.expr(kind, span);
        }
        expr
    }

    /// `send`: the target is a prefix-level operand, the message a full
    /// expression (which stops before a `,`, so `f(send p, m)` has one
    /// argument).
    fn parse_send(&mut self) -> Expr {
        if !self.enter() {
            return self.skip_too_deep_expr();
        }
        let start = self.bump().span;
        let target = self.parse_unary();
        let msg = if self.expect(TokenKind::Comma, " after the target of `send`") {
            self.parse_expr_with(self.no_struct)
        } else {
            self.error_expr_here()
        };
        self.leave();
        let span = self.span_from(start);
        self.expr(ExprKind::Send { target: Box::new(target), msg: Box::new(msg) }, span)
    }

    /// `postfix`: calls, indexing, fields and method calls, in a loop.
    fn parse_postfix(&mut self) -> Expr {
        let mut expr = self.parse_primary();
        loop {
            expr = match self.kind() {
                TokenKind::LParen => {
                    let (args, args_span) = self.parse_args();
                    let span = expr.span.to(args_span);
                    self.expr(ExprKind::Call { callee: Box::new(expr), args }, span)
                }
                TokenKind::LBracket => {
                    let open = self.bump();
                    let index = self.parse_expr();
                    let span = expr.span.to(self.expect_closing(TokenKind::RBracket, open.span));
                    self.expr(ExprKind::Index { base: Box::new(expr), index: Box::new(index) }, span)
                }
                TokenKind::Dot => {
                    self.bump();
                    let Some(name) = self.parse_field_name("a field or method name after `.`") else {
                        let span = self.span_from(expr.span);
                        return self.expr(ExprKind::Error, span);
                    };
                    if self.at(TokenKind::LParen) {
                        let (args, args_span) = self.parse_args();
                        let span = expr.span.to(args_span);
                        self.expr(ExprKind::MethodCall { recv: Box::new(expr), name, args }, span)
                    } else {
                        let span = expr.span.to(name.span);
                        self.expr(ExprKind::Field { base: Box::new(expr), name }, span)
                    }
                }
                _ => return expr,
            };
        }
    }

    /// `"(" (expr ("," expr)* ","?)? ")"` at a `(`.
    fn parse_args(&mut self) -> (Vec<Expr>, Span) {
        let open = self.bump();
        self.comma_list(open.span, TokenKind::RParen, |p| Some(p.parse_expr()))
    }

    /// A name where keywords are allowed too: field and method names, map
    /// keys, struct fields.
    pub(super) fn parse_field_name(&mut self, what: &str) -> Option<Ident> {
        let kind = self.kind();
        if kind == TokenKind::Ident || kind.is_keyword() {
            Some(self.ident_from_cur())
        } else {
            self.expected(what, "expected a name");
            None
        }
    }

    /// `primary`
    fn parse_primary(&mut self) -> Expr {
        let tok = self.cur();
        let simple = match tok.kind {
            TokenKind::Num => {
                Some(ExprKind::Num(lexer::number_value(self.text_of(tok.span)).unwrap_or(0.0)))
            }
            TokenKind::Str => Some(ExprKind::Str(lexer::string_value(self.text_of(tok.span)))),
            TokenKind::True => Some(ExprKind::Bool(true)),
            TokenKind::False => Some(ExprKind::Bool(false)),
            TokenKind::Null => Some(ExprKind::Null),
            TokenKind::SelfKw => Some(ExprKind::SelfPid),
            TokenKind::This => Some(ExprKind::This),
            TokenKind::Ident if self.no_struct || self.nth(1) != TokenKind::LBrace => {
                Some(ExprKind::Ident(self.text_of(tok.span).to_string()))
            }
            _ => None,
        };
        if let Some(kind) = simple {
            self.bump();
            return self.expr(kind, tok.span);
        }
        match tok.kind {
            TokenKind::Ident => self.parse_struct_lit(),
            TokenKind::LParen => self.parse_paren(),
            TokenKind::LBracket => {
                let open = self.bump();
                let (items, span) = self.comma_list(open.span, TokenKind::RBracket, |p| Some(p.parse_expr()));
                self.expr(ExprKind::List(items), span)
            }
            TokenKind::Vec => self.parse_vector(),
            TokenKind::LBrace => self.parse_map(),
            TokenKind::Turn => self.parse_fn(),
            TokenKind::If => self.parse_if(),
            TokenKind::Infer => self.parse_infer(),
            TokenKind::Receive => self.parse_receive(),
            TokenKind::Grant => self.parse_grant(),
            TokenKind::Use => self.parse_use(),
            TokenKind::Context => self.parse_context(),
            TokenKind::Remember | TokenKind::Recall | TokenKind::Call | TokenKind::SpawnEach => {
                self.parse_intrinsic()
            }
            _ => {
                let mut diag = self.error_expected("an expression", "expected an expression");
                if tok.kind.starts_statement() {
                    diag = diag.with_hint(format!("`{}` starts a statement, not an expression", tok.kind.text()));
                }
                self.emit(diag);
                self.error_expr_here()
            }
        }
    }

    /// `"(" expr ")"`: the inner expression, its span widened to the parens.
    fn parse_paren(&mut self) -> Expr {
        let open = self.bump();
        let mut expr = self.parse_expr();
        expr.span = self.expect_closing(TokenKind::RParen, open.span);
        expr
    }

    /// `"vec" "[" exprs "]"`
    fn parse_vector(&mut self) -> Expr {
        let start = self.bump().span;
        if !self.at(TokenKind::LBracket) {
            self.expected("`[` after `vec`", "expected `[`");
            return self.expr(ExprKind::Error, start);
        }
        let open = self.bump();
        let (items, _) = self.comma_list(open.span, TokenKind::RBracket, |p| Some(p.parse_expr()));
        let span = self.span_from(start);
        self.expr(ExprKind::Vector(items), span)
    }

    /// `"{" (key ":" expr ("," key ":" expr)* ","?)? "}"`; a key is a string
    /// or a name (keywords allowed).
    fn parse_map(&mut self) -> Expr {
        let open = self.bump();
        let (entries, span) = self.comma_list(open.span, TokenKind::RBrace, |p| {
            let tok = p.cur();
            let key = match tok.kind {
                TokenKind::Str => lexer::string_value(p.text_of(tok.span)),
                kind if kind == TokenKind::Ident || kind.is_keyword() => p.text_of(tok.span).to_string(),
                _ => {
                    let diag = p
                        .error_expected("a map key", "expected a string or a name")
                        .with_hint("map keys are strings: `{\"k\": v}` or `{k: v}`");
                    p.emit(diag);
                    return None;
                }
            };
            p.bump();
            if !p.expect(TokenKind::Colon, " after the map key") {
                return None;
            }
            let value = p.parse_expr();
            Some(MapEntry { key, key_span: tok.span, value })
        });
        self.expr(ExprKind::Map(entries), span)
    }

    /// `NAME "{" (field ":" expr | ".." expr) ("," …)* ","? "}"`; the spread
    /// comes last.
    fn parse_struct_lit(&mut self) -> Expr {
        let name = self.ident_from_cur();
        let open = self.bump();
        let mut spread: Option<Box<Expr>> = None;
        let (fields, _) = self.comma_list(open.span, TokenKind::RBrace, |p| {
            let start = p.cur().span;
            if spread.is_some() {
                p.report(
                    Diagnostic::error("E0004", "the spread `..base` must come last in a struct literal", start)
                        .with_label("after the spread")
                        .with_hint("move `..base` after the fields"),
                );
            }
            if p.eat(TokenKind::DotDot) {
                spread = Some(Box::new(p.parse_expr()));
                return None;
            }
            let name = p.parse_field_name("a field name or `..`")?;
            if !p.expect(TokenKind::Colon, " after the field name") {
                return None;
            }
            let value = p.parse_expr();
            Some(FieldInit { name, value })
        });
        let span = self.span_from(name.span);
        self.expr(ExprKind::Struct { name, fields, spread }, span)
    }

    /// `"turn" ("(" params ")" ("->" type)?)? block`
    fn parse_fn(&mut self) -> Expr {
        let start = self.bump().span;
        let mut params = Vec::new();
        let mut ret = None;
        match self.kind() {
            TokenKind::LParen => {
                let open = self.bump();
                params = self.comma_list(open.span, TokenKind::RParen, |p| p.parse_param()).0;
                if self.eat(TokenKind::Arrow) {
                    ret = Some(self.parse_type());
                }
            }
            TokenKind::LBrace => {}
            _ => {
                self.expected("`(` or `{` after `turn`", "expected parameters or a body");
                return self.expr(ExprKind::Error, start);
            }
        }
        let body = self.parse_block();
        let span = self.span_from(start);
        self.expr(ExprKind::Fn(Box::new(FnExpr { params, ret, body, name: None })), span)
    }

    /// `NAME (":" type)?`
    fn parse_param(&mut self) -> Option<Param> {
        let name = self.parse_binding_name("a parameter name")?;
        let ty = if self.eat(TokenKind::Colon) { Some(self.parse_type()) } else { None };
        Some(Param { name, ty })
    }

    /// `if`; also reached at statement start.
    pub(super) fn parse_if(&mut self) -> Expr {
        if !self.enter() {
            return self.skip_too_deep_expr();
        }
        let start = self.bump().span;
        let cond = self.parse_expr_no_struct();
        let then = self.parse_block();
        let mut else_ = None;
        if self.eat(TokenKind::Else) {
            match self.kind() {
                TokenKind::If => else_ = Some(Box::new(self.parse_if())),
                TokenKind::LBrace => {
                    let block = self.parse_block();
                    else_ = Some(Box::new(self.block_expr(block)));
                }
                _ => self.expected("`{` or `if` after `else`", "expected a block"),
            }
        }
        self.leave();
        let span = self.span_from(start);
        self.expr(ExprKind::If { cond: Box::new(cond), then, else_ }, span)
    }

    fn block_expr(&mut self, block: Block) -> Expr {
        let span = block.span;
        self.expr(ExprKind::Block(block), span)
    }

    /// `"infer" type block`
    fn parse_infer(&mut self) -> Expr {
        let start = self.bump().span;
        let ty = self.parse_type();
        let body = self.parse_block();
        let span = self.span_from(start);
        self.expr(ExprKind::Infer { ty, body }, span)
    }

    /// `"receive" ("timeout" unary)?`; `timeout` is a contextual keyword.
    fn parse_receive(&mut self) -> Expr {
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
    fn parse_grant(&mut self) -> Expr {
        let start = self.bump().span;
        let ok = self.expect(TokenKind::Identity, " after `grant`")
            && self.expect(TokenKind::ColonColon, " after `grant identity`");
        let kind = if ok { self.parse_binding_name("a capability kind such as `network`") } else { None };
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
        self.expr(ExprKind::Grant { kind, name: Box::new(name) }, span)
    }

    /// `"use" STR | "use" "schema" "::" NAME "(" STR ")"`
    fn parse_use(&mut self) -> Expr {
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
    fn parse_context(&mut self) -> Expr {
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
    fn parse_intrinsic(&mut self) -> Expr {
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
