//! The file, blocks and statements.
//!
//! ```text
//! file   = stmt*
//! block  = "{" stmt* "}"
//! stmt   = ";"                                            (empty, dropped)
//!        | "let" NAME (":" type)? "=" expr ";"
//!        | "struct" NAME "{" (FIELD ":" type ("," …)* ","?)? "}"
//!        | "impl" NAME "{" ("let" NAME "=" expr ";")* "}"
//!        | "type" NAME "=" type ";"
//!        | "return" expr? ";" | "break" ";" | "continue" ";" | "suspend" ";"
//!        | "throw" expr ";"
//!        | "while" expr_no_struct block
//!        | "for" NAME "in" expr_no_struct block
//!        | "try" block "catch" ("(" NAME ")" | NAME)? block
//!        | "turn" block                                   ("turn" directly before "{")
//!        | block                                          (unless `{ key:` starts a map)
//!        | if
//!        | expr ("=" expr)? ";"
//! ```
//!
//! A `;` may be left out before `}` or the end of the file, and is not needed
//! after statements that end in a block (including expression statements
//! like `spawn turn { … }`). Recovery: a statement that reported an error is
//! skipped to its `;` (or to a `}` or a statement keyword).

use crate::ast::{
    Block, Expr, ExprKind, FieldDecl, Ident, Method, Stmt, StmtKind, StructDecl, TypeExpr,
};
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::token::TokenKind;

use super::expr::can_start_expr;
use super::Parser;

impl Parser<'_> {
    /// `file`
    pub(super) fn parse_file(&mut self) -> Vec<Stmt> {
        let mut stmts = Vec::new();
        while !self.at(TokenKind::Eof) {
            if self.at(TokenKind::RBrace) {
                let diag = self
                    .error_expected("a statement", "unmatched `}`")
                    .with_hint("this `}` has no matching `{`");
                self.emit(diag);
                self.bump();
                continue;
            }
            self.parse_stmt_into(&mut stmts);
        }
        stmts
    }

    /// `block`
    pub(super) fn parse_block(&mut self) -> Block {
        let open = self.cur();
        if open.kind != TokenKind::LBrace {
            self.expected("`{`", "expected a block");
            return Block {
                stmts: Vec::new(),
                span: Span::new(open.span.start, open.span.start),
            };
        }
        if !self.enter() {
            let span = self.skip_group();
            return Block {
                stmts: Vec::new(),
                span,
            };
        }
        self.bump();
        let mut stmts = Vec::new();
        while !self.at(TokenKind::RBrace) && !self.at(TokenKind::Eof) {
            self.parse_stmt_into(&mut stmts);
        }
        let span = self.expect_closing(TokenKind::RBrace, open.span);
        self.leave();
        Block { stmts, span }
    }

    /// Parses one statement (if any) and guarantees progress.
    fn parse_stmt_into(&mut self, stmts: &mut Vec<Stmt>) {
        let before = self.pos;
        if let Some(stmt) = self.parse_stmt() {
            stmts.push(stmt);
        }
        if self.pos == before {
            self.bump();
        }
    }

    /// `stmt`; `None` for an empty statement.
    fn parse_stmt(&mut self) -> Option<Stmt> {
        self.needs_sync = false;
        let start = self.cur().span;
        if self.eat(TokenKind::Semi) {
            return None;
        }
        let (kind, needs_semi) = self.parse_stmt_kind();
        self.finish_stmt(needs_semi);
        Some(Stmt {
            kind,
            span: self.span_from(start),
        })
    }

    /// Dispatches on the first token; returns the statement and whether it
    /// needs a `;`. Every arm is a single call so this frame stays small
    /// (statements nest through blocks).
    fn parse_stmt_kind(&mut self) -> (StmtKind, bool) {
        use TokenKind::*;
        match self.kind() {
            Let => self.parse_let(),
            Struct => self.parse_struct(),
            Impl => self.parse_impl(),
            Type => self.parse_type_alias(),
            Return => self.parse_return(),
            Break | Continue | Suspend => self.parse_keyword_stmt(),
            Throw => self.parse_throw(),
            While => self.parse_while(),
            For => self.parse_for(),
            Try => self.parse_try(),
            Turn if self.nth(1) == LBrace => self.parse_turn_stmt(),
            LBrace if !self.map_ahead() => self.parse_block_stmt(),
            If => self.parse_if_stmt(),
            kind if !can_start_expr(kind) => self.stmt_error(),
            _ => self.parse_expr_stmt(),
        }
    }

    /// The `;` after a statement, or recovery if the statement was broken.
    fn finish_stmt(&mut self, needs_semi: bool) {
        if needs_semi && self.eat(TokenKind::Semi) {
            self.needs_sync = false;
        } else if self.needs_sync {
            self.synchronize();
        } else if needs_semi && !self.at(TokenKind::RBrace) && !self.at(TokenKind::Eof) {
            let diag = self
                .error_expected("`;` after statement", "expected `;`")
                .with_hint("statements end with `;`");
            self.emit(diag);
            // The next token most likely starts the next statement: no skip.
            self.needs_sync = false;
        }
    }

    /// Whether a `{` at statement start opens a map literal (`{"k": …` or
    /// `{k: …`) rather than a block: no statement starts with `name :`.
    pub(super) fn map_ahead(&self) -> bool {
        let key = self.nth(1);
        (key == TokenKind::Str || key == TokenKind::Ident || key.is_keyword())
            && self.nth(2) == TokenKind::Colon
    }

    /// `"break" | "continue" | "suspend"`
    fn parse_keyword_stmt(&mut self) -> (StmtKind, bool) {
        let kind = match self.bump().kind {
            TokenKind::Break => StmtKind::Break,
            TokenKind::Continue => StmtKind::Continue,
            _ => StmtKind::Suspend,
        };
        (kind, true)
    }

    /// `"throw" expr`
    fn parse_throw(&mut self) -> (StmtKind, bool) {
        self.bump();
        (StmtKind::Throw(self.parse_expr()), true)
    }

    /// `"turn" block`
    fn parse_turn_stmt(&mut self) -> (StmtKind, bool) {
        self.bump();
        (StmtKind::Turn(self.parse_block()), false)
    }

    fn parse_block_stmt(&mut self) -> (StmtKind, bool) {
        (StmtKind::Block(self.parse_block()), false)
    }

    /// `if` at statement start: the `if` expression alone, no `;` needed.
    fn parse_if_stmt(&mut self) -> (StmtKind, bool) {
        (StmtKind::Expr(self.parse_if()), false)
    }

    #[cold]
    #[inline(never)]
    fn stmt_error(&mut self) -> (StmtKind, bool) {
        self.expected("a statement", "expected a statement");
        (StmtKind::Error, false)
    }

    /// A name at a binding site (`let`, `for`, parameters, declarations).
    /// Keywords are refused with a hint.
    pub(super) fn parse_binding_name(&mut self, what: &str) -> Option<Ident> {
        let kind = self.kind();
        if kind == TokenKind::Ident {
            return Some(self.ident_from_cur());
        }
        let mut diag = self.error_expected(what, "expected a name");
        if kind.is_keyword() {
            diag = diag.with_hint(format!(
                "`{}` is a keyword and cannot be used as a name",
                kind.text()
            ));
            self.emit(diag);
            // Recover by taking the keyword as the name, so the rest of the
            // declaration parses without cascading errors.
            let span = self.cur().span;
            self.bump();
            return Some(self.ident(kind.text(), span));
        }
        self.emit(diag);
        None
    }

    /// `"let" NAME (":" type)? "=" expr`
    fn parse_let(&mut self) -> (StmtKind, bool) {
        self.bump();
        let Some((name, ty)) = self.parse_let_head() else {
            return (StmtKind::Error, true);
        };
        let mut value = self.parse_expr();
        set_fn_name(&mut value, &name.name);
        (StmtKind::Let { name, ty, value }, true)
    }

    /// `NAME (":" type)? "="`
    #[inline(never)]
    fn parse_let_head(&mut self) -> Option<(Ident, Option<TypeExpr>)> {
        let name = self.parse_binding_name("a name after `let`")?;
        let ty = if self.eat(TokenKind::Colon) {
            Some(self.parse_type())
        } else {
            None
        };
        if !self.at(TokenKind::Eq) {
            let diag = self
                .error_expected("`=` after the name in `let`", "expected `=`")
                .with_hint("a `let` needs a value: `let x = …;`");
            self.emit(diag);
            return None;
        }
        self.bump();
        Some((name, ty))
    }

    /// `"struct" NAME "{" fields "}"`
    fn parse_struct(&mut self) -> (StmtKind, bool) {
        let start = self.bump().span;
        let Some(name) = self.parse_binding_name("a struct name after `struct`") else {
            return (StmtKind::Error, false);
        };
        if !self.at(TokenKind::LBrace) {
            self.expected("`{` after the struct name", "expected `{`");
            return (StmtKind::Error, false);
        }
        let open = self.bump();
        let (fields, _) = self.comma_list(open.span, TokenKind::RBrace, |p| {
            let name = p.parse_field_name("a field name")?;
            if !p.expect(TokenKind::Colon, " after the field name") {
                return None;
            }
            let ty = p.parse_type();
            Some(FieldDecl { name, ty })
        });
        (
            StmtKind::Struct(StructDecl {
                name,
                fields,
                span: self.span_from(start),
            }),
            false,
        )
    }

    /// `"impl" NAME "{" ("let" NAME "=" expr ";")* "}"`
    fn parse_impl(&mut self) -> (StmtKind, bool) {
        self.bump();
        let Some(ty) = self.parse_binding_name("a struct name after `impl`") else {
            return (StmtKind::Error, false);
        };
        if !self.at(TokenKind::LBrace) {
            self.expected("`{` after the struct name", "expected `{`");
            return (StmtKind::Error, false);
        }
        let open = self.bump();
        let mut methods = Vec::new();
        let outer = self.impl_name.replace(ty.name.clone());
        loop {
            match self.kind() {
                TokenKind::RBrace | TokenKind::Eof => break,
                TokenKind::Semi => {
                    self.bump();
                }
                TokenKind::Let => {
                    self.needs_sync = false;
                    if let Some(method) = self.parse_method() {
                        methods.push(method);
                    }
                    self.finish_stmt(true);
                }
                _ => {
                    let diag = self
                        .error_expected("a method", "expected `let name = turn(…) { … };`")
                        .with_hint("an `impl` block holds methods: `let name = turn(…) { … };`");
                    self.emit(diag);
                    let before = self.pos;
                    self.synchronize();
                    if self.pos == before {
                        self.bump();
                    }
                }
            }
        }
        self.impl_name = outer;
        self.expect_closing(TokenKind::RBrace, open.span);
        (StmtKind::Impl { ty, methods }, false)
    }

    /// `"let" NAME "=" expr` inside `impl`; the value must be a function.
    fn parse_method(&mut self) -> Option<Method> {
        self.bump();
        let name = self.parse_binding_name("a method name after `let`")?;
        if !self.expect(TokenKind::Eq, " after the method name") {
            return None;
        }
        let mut value = self.parse_expr();
        if !value.is_fn() && !matches!(value.kind, ExprKind::Error) {
            self.report(
                Diagnostic::error("E0004", "`impl` members must be functions", value.span)
                    .with_label("not a function")
                    .with_hint("write `let name = turn(…) { … };`"),
            );
        }
        set_fn_name(&mut value, &name.name);
        Some(Method { name, value })
    }

    /// `"type" NAME "=" type`
    fn parse_type_alias(&mut self) -> (StmtKind, bool) {
        self.bump();
        let Some(name) = self.parse_binding_name("a type name after `type`") else {
            return (StmtKind::Error, true);
        };
        if !self.expect(TokenKind::Eq, " after the type name") {
            return (StmtKind::Error, true);
        }
        let ty = self.parse_type();
        (StmtKind::TypeAlias { name, ty }, true)
    }

    /// `"return" expr?`
    fn parse_return(&mut self) -> (StmtKind, bool) {
        self.bump();
        let value = match self.kind() {
            TokenKind::Semi | TokenKind::RBrace | TokenKind::Eof => None,
            _ => Some(self.parse_expr()),
        };
        (StmtKind::Return(value), true)
    }

    /// `"while" expr_no_struct block`
    fn parse_while(&mut self) -> (StmtKind, bool) {
        self.bump();
        let cond = self.parse_expr_no_struct();
        let body = self.parse_block();
        (StmtKind::While { cond, body }, false)
    }

    /// `"for" NAME "in" expr_no_struct block`
    fn parse_for(&mut self) -> (StmtKind, bool) {
        self.bump();
        let Some(var) = self.parse_for_head() else {
            return (StmtKind::Error, false);
        };
        let iter = self.parse_expr_no_struct();
        let body = self.parse_block();
        (StmtKind::For { var, iter, body }, false)
    }

    /// `NAME "in"`
    #[inline(never)]
    fn parse_for_head(&mut self) -> Option<Ident> {
        let var = self.parse_binding_name("a loop variable after `for`")?;
        if !self.expect(TokenKind::In, " after the loop variable") {
            return None;
        }
        Some(var)
    }

    /// `"try" block "catch" ("(" NAME ")" | NAME)? block`
    fn parse_try(&mut self) -> (StmtKind, bool) {
        self.bump();
        let body = self.parse_block();
        if !self.eat(TokenKind::Catch) {
            return self.missing_catch(body);
        }
        let catch_var = self.parse_catch_var();
        let handler = self.parse_block();
        (
            StmtKind::Try {
                body,
                catch_var,
                handler,
            },
            false,
        )
    }

    /// `("(" NAME ")" | NAME)?` after `catch`.
    #[inline(never)]
    fn parse_catch_var(&mut self) -> Option<Ident> {
        match self.kind() {
            TokenKind::LParen => {
                let open = self.bump();
                let var = self.parse_binding_name("the error's name in `catch (…)`");
                self.expect_closing(TokenKind::RParen, open.span);
                var
            }
            TokenKind::Ident => Some(self.ident_from_cur()),
            _ => None,
        }
    }

    #[cold]
    #[inline(never)]
    fn missing_catch(&mut self, body: Block) -> (StmtKind, bool) {
        let diag = self
            .error_expected("`catch` after the `try` block", "expected `catch`")
            .with_hint("a `try` needs a handler: `try { … } catch (e) { … }`");
        self.emit(diag);
        let here = self.cur().span.start;
        let handler = Block {
            stmts: Vec::new(),
            span: Span::new(here, here),
        };
        (
            StmtKind::Try {
                body,
                catch_var: None,
                handler,
            },
            false,
        )
    }

    /// `expr ("=" expr)?`: an expression statement or an assignment. Returns
    /// the statement and whether it needs a `;`.
    fn parse_expr_stmt(&mut self) -> (StmtKind, bool) {
        let target = self.parse_expr();
        if self.at(TokenKind::Eq) {
            return self.parse_assign(target);
        }
        let needs_semi = !ends_with_block(&target);
        (StmtKind::Expr(target), needs_semi)
    }

    /// `"=" expr` after an assignment target.
    /// (See `rooted_at_this` for the `this.x = …` hint.)
    #[inline(never)]
    fn parse_assign(&mut self, target: Expr) -> (StmtKind, bool) {
        self.bump();
        let target = if is_assignable(&target) || matches!(target.kind, ExprKind::Error) {
            target
        } else {
            let hint = if rooted_at_this(&target) {
                let ty = self.impl_name.clone().unwrap_or_else(|| "T".into());
                let field = match &target.kind {
                    ExprKind::Field { name, .. } => name.name.clone(),
                    _ => "field".into(),
                };
                format!("`this` cannot be assigned; return a changed copy such as `{ty} {{ {field}: …, ..this }}`")
            } else {
                "only a name, a field (`a.b`) or an element (`a[i]`) can be assigned".to_string()
            };
            self.report(
                Diagnostic::error("E0004", "invalid assignment target", target.span)
                    .with_label("cannot be assigned to")
                    .with_hint(hint),
            );
            self.expr(ExprKind::Error, target.span)
        };
        let value = self.parse_expr();
        (StmtKind::Assign { target, value }, true)
    }

    /// Skips a `{ … }` group nested too deeply, brackets balanced, without
    /// recursion.
    fn skip_group(&mut self) -> Span {
        let start = self.cur().span;
        let mut level = 0usize;
        loop {
            match self.kind() {
                TokenKind::Eof => {
                    self.reported.insert(self.cur().span.start);
                    break;
                }
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => level += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                    level = level.saturating_sub(1);
                    if level == 0 {
                        self.bump();
                        break;
                    }
                }
                _ => {}
            }
            self.bump();
        }
        self.span_from(start)
    }
}

/// Names a function literal after the binding it is the value of.
fn set_fn_name(value: &mut Expr, name: &str) {
    if let ExprKind::Fn(f) = &mut value.kind {
        f.name = Some(name.to_string());
    }
}

/// A name, or a chain of `.field` and `[index]` ending in a name.
fn is_assignable(expr: &Expr) -> bool {
    let mut cur = expr;
    loop {
        match &cur.kind {
            ExprKind::Ident(_) => return true,
            ExprKind::Field { base, .. } | ExprKind::Index { base, .. } => cur = base,
            _ => return false,
        }
    }
}

/// Whether an expression's source ends with a block (`if`, `turn { … }`,
/// `spawn turn { … }` …), so its statement needs no `;`.
fn ends_with_block(expr: &Expr) -> bool {
    let mut cur = expr;
    loop {
        match &cur.kind {
            ExprKind::If { .. } | ExprKind::Fn(_) | ExprKind::Block(_) | ExprKind::Infer { .. } => {
                return true
            }
            ExprKind::Unary { expr, .. }
            | ExprKind::Spawn { func: expr, .. }
            | ExprKind::Gather(expr) => cur = expr,
            ExprKind::Send { msg, .. } => cur = msg,
            ExprKind::Binary { rhs, .. } => cur = rhs,
            _ => return false,
        }
    }
}

/// Whether an assignment target is `this` or a path starting at it.
fn rooted_at_this(e: &Expr) -> bool {
    let mut e = e;
    loop {
        match &e.kind {
            ExprKind::This => return true,
            ExprKind::Field { base, .. } | ExprKind::Index { base, .. } => e = base,
            _ => return false,
        }
    }
}
