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
//!            | if | infer | receive | grant | use | context | intrinsic   (see `forms`)
//! if         = "if" expr_no_struct block ("else" (if | block))?
//! ```
//!
//! A field or method name after `.`, a map key and a struct field may be a
//! keyword (`msg.type`, `{type: "exit"}`). Prefix operators are collected in
//! a loop, not by recursion, so long `- - - x` chains cost no stack.

use crate::ast::{
    BinaryOp, Block, Expr, ExprKind, FieldInit, FnExpr, Ident, MapEntry, Param, SpawnKind,
    TypeExpr, UnaryOp,
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

/// The prefix operator a token stands for (`send` is parsed on its own).
fn prefix_op(kind: TokenKind) -> Option<Prefix> {
    Some(match kind {
        TokenKind::Minus => Prefix::Unary(UnaryOp::Neg),
        TokenKind::Bang => Prefix::Unary(UnaryOp::Not),
        TokenKind::Confidence => Prefix::Unary(UnaryOp::Confidence),
        TokenKind::Spawn => Prefix::Spawn(SpawnKind::Spawn),
        TokenKind::SpawnLink => Prefix::Spawn(SpawnKind::SpawnLink),
        TokenKind::Gather => Prefix::Gather,
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
        let saved = std::mem::replace(&mut self.no_struct, no_struct);
        let expr = if self.enter() {
            let expr = self.parse_binary(0);
            self.leave();
            expr
        } else {
            self.skip_too_deep_expr()
        };
        self.no_struct = saved;
        expr
    }

    /// `binary(p)`: precedence climbing. The right operand recurses only to a
    /// strictly higher precedence, so this recursion is at most six deep.
    fn parse_binary(&mut self, min_prec: u8) -> Expr {
        let mut lhs = self.parse_unary();
        let mut chain = 0;
        while let Some((op, prec)) = binary_op(self.kind()) {
            if prec < min_prec {
                break;
            }
            chain += 1;
            if chain > super::MAX_CHAIN {
                self.chain_too_long(lhs.span);
                // Skip the rest of the chain without building it.
                while binary_op(self.kind()).is_some_and(|(_, p)| p >= min_prec) {
                    self.bump();
                    self.parse_binary(prec + 1);
                }
                return self.expr(ExprKind::Error, lhs.span);
            }
            self.bump();
            let rhs = self.parse_binary(prec + 1);
            lhs = self.binary_node(op, lhs, rhs);
        }
        lhs
    }

    #[inline(never)]
    fn binary_node(&mut self, op: BinaryOp, lhs: Expr, rhs: Expr) -> Expr {
        let span = lhs.span.to(rhs.span);
        self.expr(
            ExprKind::Binary {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            },
            span,
        )
    }

    /// `unary`
    pub(super) fn parse_unary(&mut self) -> Expr {
        if prefix_op(self.kind()).is_none() {
            return if self.at(TokenKind::Send) {
                self.parse_send()
            } else {
                self.parse_postfix()
            };
        }
        let mut ops: Vec<(Prefix, Span)> = Vec::new();
        while let Some(op) = prefix_op(self.kind()) {
            let tok = self.bump();
            ops.push((op, tok.span));
        }
        let operand = if self.at(TokenKind::Send) {
            self.parse_send()
        } else {
            self.parse_postfix()
        };
        self.apply_prefixes(ops, operand)
    }

    /// Wraps `expr` in the prefix operators, innermost (last) first.
    #[inline(never)]
    fn apply_prefixes(&mut self, mut ops: Vec<(Prefix, Span)>, mut expr: Expr) -> Expr {
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
                Prefix::Spawn(kind) => ExprKind::Spawn {
                    kind,
                    func: operand,
                },
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
        self.send_node(start, target, msg)
    }

    #[inline(never)]
    fn send_node(&mut self, start: Span, target: Expr, msg: Expr) -> Expr {
        let span = self.span_from(start);
        self.expr(
            ExprKind::Send {
                target: Box::new(target),
                msg: Box::new(msg),
            },
            span,
        )
    }

    /// `postfix`: calls, indexing, fields and method calls, in a loop.
    fn parse_postfix(&mut self) -> Expr {
        let mut expr = self.parse_primary();
        loop {
            expr = match self.kind() {
                TokenKind::LParen => self.parse_call(expr),
                TokenKind::LBracket => self.parse_index(expr),
                TokenKind::Dot => self.parse_member(expr),
                _ => return expr,
            };
        }
    }

    /// `callee "(" args ")"`
    fn parse_call(&mut self, callee: Expr) -> Expr {
        let (args, args_span) = self.parse_args();
        let span = callee.span.to(args_span);
        self.expr(
            ExprKind::Call {
                callee: Box::new(callee),
                args,
            },
            span,
        )
    }

    /// `base "[" expr "]"`
    fn parse_index(&mut self, base: Expr) -> Expr {
        let open = self.bump();
        let index = self.parse_expr();
        self.index_node(open.span, base, index)
    }

    #[inline(never)]
    fn index_node(&mut self, open: Span, base: Expr, index: Expr) -> Expr {
        let span = base.span.to(self.expect_closing(TokenKind::RBracket, open));
        self.expr(
            ExprKind::Index {
                base: Box::new(base),
                index: Box::new(index),
            },
            span,
        )
    }

    /// `base "." NAME` or `base "." NAME "(" args ")"`
    fn parse_member(&mut self, base: Expr) -> Expr {
        self.bump();
        let Some(name) = self.parse_field_name("a field or method name after `.`") else {
            return self.member_error(base);
        };
        if !self.at(TokenKind::LParen) {
            return self.field_node(base, name);
        }
        let (args, args_span) = self.parse_args();
        self.method_node(base, name, args, args_span)
    }

    #[inline(never)]
    fn field_node(&mut self, base: Expr, name: Ident) -> Expr {
        let span = base.span.to(name.span);
        self.expr(
            ExprKind::Field {
                base: Box::new(base),
                name,
            },
            span,
        )
    }

    #[inline(never)]
    fn method_node(&mut self, recv: Expr, name: Ident, args: Vec<Expr>, args_span: Span) -> Expr {
        let span = recv.span.to(args_span);
        self.expr(
            ExprKind::MethodCall {
                recv: Box::new(recv),
                name,
                args,
            },
            span,
        )
    }

    #[cold]
    #[inline(never)]
    fn member_error(&mut self, base: Expr) -> Expr {
        let span = self.span_from(base.span);
        self.expr(ExprKind::Error, span)
    }

    /// `"(" (expr ("," expr)* ","?)? ")"` at a `(`.
    pub(super) fn parse_args(&mut self) -> (Vec<Expr>, Span) {
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

    /// `primary`: a thin dispatcher, so the recursive path stays cheap on
    /// the stack.
    fn parse_primary(&mut self) -> Expr {
        match self.kind() {
            TokenKind::Ident if !self.no_struct && self.nth(1) == TokenKind::LBrace => {
                self.parse_struct_lit()
            }
            TokenKind::Num
            | TokenKind::Str
            | TokenKind::True
            | TokenKind::False
            | TokenKind::Null
            | TokenKind::SelfKw
            | TokenKind::This
            | TokenKind::Ident => self.parse_atom(),
            TokenKind::LParen => self.parse_paren(),
            TokenKind::LBracket => self.parse_list(),
            TokenKind::Vec => self.parse_vector(),
            TokenKind::LBrace if !self.no_struct => self.parse_map(),
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
            _ => self.primary_error(),
        }
    }

    /// A literal, a name, `self` or `this`.
    fn parse_atom(&mut self) -> Expr {
        let tok = self.bump();
        let text = self.text_of(tok.span);
        let kind = match tok.kind {
            TokenKind::Num => ExprKind::Num(lexer::number_value(text).unwrap_or(0.0)),
            TokenKind::Str => ExprKind::Str(lexer::string_value(text)),
            TokenKind::True => ExprKind::Bool(true),
            TokenKind::False => ExprKind::Bool(false),
            TokenKind::Null => ExprKind::Null,
            TokenKind::SelfKw => ExprKind::SelfPid,
            TokenKind::This => ExprKind::This,
            _ => ExprKind::Ident(text.to_string()),
        };
        self.expr(kind, tok.span)
    }

    #[cold]
    #[inline(never)]
    fn primary_error(&mut self) -> Expr {
        let kind = self.kind();
        let mut diag = self.error_expected("an expression", "expected an expression");
        if kind.starts_statement() {
            diag = diag.with_hint(format!(
                "`{}` starts a statement, not an expression",
                kind.text()
            ));
        } else if kind == TokenKind::LBrace {
            // Only reached in a no-struct context: `if {`, `while {`, `for x in {`.
            if self.map_ahead() {
                diag = diag
                    .with_label("a map literal here needs parentheses")
                    .with_hint("write it in parentheses: `({ … })`");
                self.emit(diag);
                // Recover: take the map, so the block after it still parses.
                return self.parse_map();
            }
            diag = diag.with_hint("the condition is missing before the `{`");
        }
        self.emit(diag);
        self.error_expr_here()
    }

    /// `"(" expr ")"`: the inner expression, its span widened to the parens.
    fn parse_paren(&mut self) -> Expr {
        let open = self.bump();
        let mut expr = self.parse_expr();
        expr.span = self.expect_closing(TokenKind::RParen, open.span);
        expr
    }

    /// `"[" exprs "]"`
    fn parse_list(&mut self) -> Expr {
        let open = self.bump();
        let (items, span) =
            self.comma_list(open.span, TokenKind::RBracket, |p| Some(p.parse_expr()));
        self.expr(ExprKind::List(items), span)
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
            let (key, key_span) = p.parse_map_key()?;
            let value = p.parse_expr();
            Some(MapEntry {
                key,
                key_span,
                value,
            })
        });
        self.expr(ExprKind::Map(entries), span)
    }

    /// A map key and its `:`.
    #[inline(never)]
    fn parse_map_key(&mut self) -> Option<(String, Span)> {
        let tok = self.cur();
        let key = match tok.kind {
            TokenKind::Str => lexer::string_value(self.text_of(tok.span)),
            kind if kind == TokenKind::Ident || kind.is_keyword() => {
                self.text_of(tok.span).to_string()
            }
            _ => {
                let diag = self
                    .error_expected("a map key", "expected a string or a name")
                    .with_hint("map keys are strings: `{\"k\": v}` or `{k: v}`");
                self.emit(diag);
                return None;
            }
        };
        self.bump();
        if !self.expect(TokenKind::Colon, " after the map key") {
            return None;
        }
        Some((key, tok.span))
    }

    /// `NAME "{" (field ":" expr | ".." expr) ("," …)* ","? "}"`; the spread
    /// comes last.
    fn parse_struct_lit(&mut self) -> Expr {
        let name = self.ident_from_cur();
        let open = self.bump();
        let mut spread: Option<Box<Expr>> = None;
        let (fields, _) = self.comma_list(open.span, TokenKind::RBrace, |p| {
            if spread.is_some() {
                p.spread_not_last();
            }
            if p.eat(TokenKind::DotDot) {
                spread = Some(Box::new(p.parse_expr()));
                return None;
            }
            let name = p.parse_field_label()?;
            let value = p.parse_expr();
            Some(FieldInit { name, value })
        });
        let span = self.span_from(name.span);
        self.expr(
            ExprKind::Struct {
                name,
                fields,
                spread,
            },
            span,
        )
    }

    /// `NAME ":"` in a struct literal.
    #[inline(never)]
    fn parse_field_label(&mut self) -> Option<Ident> {
        let name = self.parse_field_name("a field name or `..`")?;
        if !self.expect(TokenKind::Colon, " after the field name") {
            return None;
        }
        Some(name)
    }

    #[cold]
    #[inline(never)]
    fn spread_not_last(&mut self) {
        let span = self.cur().span;
        self.report(
            Diagnostic::error(
                "E0004",
                "the spread `..base` must come last in a struct literal",
                span,
            )
            .with_label("after the spread")
            .with_hint("move `..base` after the fields"),
        );
    }

    /// `"turn" ("(" params ")" ("->" type)?)? block`
    fn parse_fn(&mut self) -> Expr {
        let start = self.bump().span;
        let (params, ret) = match self.kind() {
            TokenKind::LParen => self.parse_fn_signature(),
            TokenKind::LBrace => (Vec::new(), None),
            _ => return self.fn_error(start),
        };
        let body = self.parse_block();
        self.fn_node(start, params, ret, body)
    }

    /// `"(" params ")" ("->" type)?`
    #[inline(never)]
    fn parse_fn_signature(&mut self) -> (Vec<Param>, Option<TypeExpr>) {
        let open = self.bump();
        let params = self
            .comma_list(open.span, TokenKind::RParen, |p| p.parse_param())
            .0;
        let ret = if self.eat(TokenKind::Arrow) {
            Some(self.parse_type())
        } else {
            None
        };
        (params, ret)
    }

    #[inline(never)]
    fn fn_node(
        &mut self,
        start: Span,
        params: Vec<Param>,
        ret: Option<TypeExpr>,
        body: Block,
    ) -> Expr {
        let span = self.span_from(start);
        self.expr(
            ExprKind::Fn(Box::new(FnExpr {
                params,
                ret,
                body,
                name: None,
            })),
            span,
        )
    }

    #[cold]
    #[inline(never)]
    fn fn_error(&mut self, start: Span) -> Expr {
        self.expected("`(` or `{` after `turn`", "expected parameters or a body");
        self.expr(ExprKind::Error, start)
    }

    /// `NAME (":" type)?`
    fn parse_param(&mut self) -> Option<Param> {
        let name = self.parse_binding_name("a parameter name")?;
        let ty = if self.eat(TokenKind::Colon) {
            Some(self.parse_type())
        } else {
            None
        };
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
        let else_ = if self.eat(TokenKind::Else) {
            self.parse_else()
        } else {
            None
        };
        self.leave();
        self.if_node(start, cond, then, else_)
    }

    /// What follows `else`: `if …` or a block.
    fn parse_else(&mut self) -> Option<Box<Expr>> {
        match self.kind() {
            TokenKind::If => Some(Box::new(self.parse_if())),
            TokenKind::LBrace => {
                let block = self.parse_block();
                Some(Box::new(self.block_expr(block)))
            }
            _ => {
                self.expected("`{` or `if` after `else`", "expected a block");
                None
            }
        }
    }

    #[inline(never)]
    fn if_node(&mut self, start: Span, cond: Expr, then: Block, else_: Option<Box<Expr>>) -> Expr {
        let span = self.span_from(start);
        self.expr(
            ExprKind::If {
                cond: Box::new(cond),
                then,
                else_,
            },
            span,
        )
    }

    fn block_expr(&mut self, block: Block) -> Expr {
        let span = block.span;
        self.expr(ExprKind::Block(block), span)
    }
}
