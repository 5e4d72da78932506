//! The recursive-descent parser: tokens -> [`ast::File`] plus diagnostics.
//!
//! [`parse`] never fails and never panics. Broken source becomes `Error` nodes
//! and diagnostics (`E0002` expected/found, `E0003` nesting too deep, `E0004`
//! other syntax errors); recovery skips to `;`, `}` or a statement keyword, so
//! several errors in one file are all reported, at most one per source
//! position and at most [`MAX_DIAGNOSTICS`] in all.
//!
//! Two limits keep hostile input from overflowing the stack, here or in any
//! pass that walks the tree recursively:
//! - recursion depth: every recursive production (expression, block, type,
//!   `if`, `send`, `receive timeout`) enters a level; past [`MAX_DEPTH`] the
//!   parser reports `E0003` once and skips the nested source without
//!   recursing;
//! - tree height: chains built by loops (`a + b + …`, `a.b.c…`, `- - x`,
//!   `T??`) add height without recursion, so every expression's height is
//!   recorded when it is built and one taller than `MAX_DEPTH` is replaced by
//!   an `Error` node (same single `E0003`).
//!
//! Every loop consumes a token or ends, so parsing always terminates.
//!
//! Module map: this file holds the parser state, token cursor, diagnostics
//! and recovery; [`stmt`] the file, blocks and statements; [`expr`]
//! expressions; [`forms`] keyword expressions (`infer`, `grant`, `use` …);
//! [`types`] type annotations; [`height`] tree heights.

mod expr;
mod forms;
mod height;
mod stmt;
mod types;

use std::collections::HashSet;

use crate::ast::{Expr, ExprKind, File, Ident, NodeId};
use crate::diagnostic::Diagnostic;
use crate::lexer;
use crate::span::Span;
use crate::token::{Token, TokenKind};

/// Deepest nesting accepted (brackets, blocks, unary and binary chains,
/// types); deeper source gets one `E0003` diagnostic.
pub const MAX_DEPTH: usize = 256;

/// Longest chain of binary operators in one expression (`a + b + …`).
pub const MAX_CHAIN: usize = 4096;

/// Most diagnostics reported for one file; past it one "too many errors" note
/// ends the list.
pub const MAX_DIAGNOSTICS: usize = 100;

/// The result of parsing one file: always a tree, plus every problem found.
#[derive(Clone, Debug)]
pub struct Parse {
    pub file: File,
    /// Lexical and syntax errors, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses one source file. Never fails, never panics: see the module docs.
pub fn parse(text: &str) -> Parse {
    if u32::try_from(text.len()).map_or(true, |len| len == u32::MAX) {
        let diag = Diagnostic::error(
            "E0001",
            "file is too large to parse (4 GiB or more)",
            Span::new(0, 0),
        )
        .with_label("file starts here");
        return Parse {
            file: File::default(),
            diagnostics: vec![diag],
        };
    }
    let lexed = lexer::lex(text);
    let mut parser = Parser::new(text, lexed.tokens);
    for diag in lexed.diagnostics {
        parser.report(diag);
    }
    let stmts = parser.parse_file();
    parser.finish(stmts)
}

/// Parser state. The token list always ends with `Eof`, and the cursor never
/// moves past it.
pub(crate) struct Parser<'t> {
    text: &'t str,
    tokens: Vec<Token>,
    pos: usize,
    /// End offset of the last consumed token.
    prev_end: u32,
    next_id: NodeId,
    /// Height of the subtree of every node id issued so far (idents are 1).
    heights: Vec<u16>,
    diagnostics: Vec<Diagnostic>,
    /// Start offsets that already have a diagnostic.
    reported: HashSet<u32>,
    /// Span of the first diagnostic dropped because of the cap.
    dropped: Option<Span>,
    /// Set by every error, cleared at each recovery point (statement start,
    /// a consumed `;`, synchronisation): whether the statement being parsed
    /// is broken and recovery must skip the rest of it.
    needs_sync: bool,
    depth: usize,
    too_deep_reported: bool,
    /// In the condition of `if`/`while` and the iterable of `for`, `Name {`
    /// is not a struct literal (the `{` opens the body).
    no_struct: bool,
    /// The struct of the `impl` block being parsed (for hints about `this`).
    impl_name: Option<String>,
}

impl<'t> Parser<'t> {
    fn new(text: &'t str, tokens: Vec<Token>) -> Parser<'t> {
        Parser {
            text,
            tokens,
            pos: 0,
            prev_end: 0,
            next_id: 0,
            heights: Vec::new(),
            diagnostics: Vec::new(),
            reported: HashSet::new(),
            dropped: None,
            needs_sync: false,
            depth: 0,
            too_deep_reported: false,
            no_struct: false,
            impl_name: None,
        }
    }

    fn finish(mut self, stmts: Vec<crate::ast::Stmt>) -> Parse {
        self.diagnostics.sort_by_key(|d| d.span.start);
        if let Some(span) = self.dropped {
            self.diagnostics.push(
                Diagnostic::error(
                    "E0004",
                    format!("too many errors; only the first {MAX_DIAGNOSTICS} are shown"),
                    span,
                )
                .with_label("more errors from here on")
                .with_hint("fix the errors above and parse again"),
            );
        }
        Parse {
            file: File {
                stmts,
                node_count: self.next_id,
            },
            diagnostics: self.diagnostics,
        }
    }

    // ----- token cursor -------------------------------------------------

    fn cur(&self) -> Token {
        self.nth_token(0)
    }

    fn nth_token(&self, n: usize) -> Token {
        let last = self.tokens.len().saturating_sub(1);
        self.tokens
            .get((self.pos + n).min(last))
            .copied()
            .unwrap_or(Token {
                kind: TokenKind::Eof,
                span: Span::new(self.text.len() as u32, self.text.len() as u32),
            })
    }

    fn kind(&self) -> TokenKind {
        self.cur().kind
    }

    fn nth(&self, n: usize) -> TokenKind {
        self.nth_token(n).kind
    }

    fn at(&self, kind: TokenKind) -> bool {
        self.kind() == kind
    }

    /// Consumes the current token (never `Eof`) and returns it.
    fn bump(&mut self) -> Token {
        let tok = self.cur();
        if tok.kind != TokenKind::Eof {
            self.pos += 1;
            self.prev_end = tok.span.end;
        }
        tok
    }

    fn eat(&mut self, kind: TokenKind) -> bool {
        if self.at(kind) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn text_of(&self, span: Span) -> &'t str {
        self.text.get(span.range()).unwrap_or("")
    }

    /// The span from `start` to the end of the last consumed token.
    fn span_from(&self, start: Span) -> Span {
        Span::new(start.start, self.prev_end.max(start.start))
    }

    /// How the current token reads in a "found …" message.
    fn found(&self) -> String {
        let tok = self.cur();
        match tok.kind {
            TokenKind::Eof => "end of file".to_string(),
            TokenKind::Str => "a string".to_string(),
            _ => {
                let text = self.text_of(tok.span);
                if text.chars().count() > 24 {
                    let short: String = text.chars().take(24).collect();
                    format!("`{short}…`")
                } else {
                    format!("`{text}`")
                }
            }
        }
    }

    // ----- diagnostics --------------------------------------------------

    /// Records a diagnostic unless its position already has one or the cap
    /// is reached. Every call marks the current statement as broken.
    fn report(&mut self, diag: Diagnostic) {
        self.needs_sync = true;
        if !self.reported.insert(diag.span.start) {
            return;
        }
        if self.diagnostics.len() >= MAX_DIAGNOSTICS {
            self.dropped.get_or_insert(diag.span);
            return;
        }
        self.diagnostics.push(diag);
    }

    /// Builds "expected {what}, found …" at the current token (`E0002`);
    /// report it with [`Parser::emit`].
    fn error_expected(&self, what: &str, label: &str) -> Diagnostic {
        let tok = self.cur();
        Diagnostic::error(
            "E0002",
            format!("expected {what}, found {}", self.found()),
            tok.span,
        )
        .with_label(label.to_string())
    }

    /// Reports a finished diagnostic built by [`Parser::error_expected`],
    /// except at an `Error` token (already reported by the lexer).
    fn emit(&mut self, diag: Diagnostic) {
        if self.kind() == TokenKind::Error && diag.span == self.cur().span {
            self.needs_sync = true;
        } else {
            self.report(diag);
        }
    }

    /// "expected {what}, found …" with a label, reported now.
    fn expected(&mut self, what: &str, label: &str) {
        let diag = self.error_expected(what, label);
        self.emit(diag);
    }

    /// Consumes `kind` or reports "expected `kind`{context}, found …".
    fn expect(&mut self, kind: TokenKind, context: &str) -> bool {
        if self.eat(kind) {
            return true;
        }
        let what = format!("{}{context}", kind.describe());
        let label = format!("expected {}", kind.describe());
        self.expected(&what, &label);
        false
    }

    /// Consumes the closer of a bracket pair opened at `open`, or reports it
    /// missing with a secondary label on the opener. Returns the span up to
    /// the closer (or up to the last consumed token when it is missing).
    fn expect_closing(&mut self, close: TokenKind, open: Span) -> Span {
        if self.eat(close) {
            return self.span_from(open);
        }
        let desc = close.describe();
        let diag = self
            .error_expected(&desc, &format!("expected {desc}"))
            .with_secondary(open, format!("unclosed `{}`", self.text_of(open)));
        self.emit(diag);
        self.span_from(open)
    }

    /// Reports `E0003` (once per file).
    #[cold]
    fn chain_too_long(&mut self, span: Span) {
        self.needs_sync = true;
        self.report(
            Diagnostic::error(
                "E0003",
                format!("expression is too long (more than {MAX_CHAIN} operators in a row)"),
                span,
            )
            .with_label("this chain of operators is too long")
            .with_hint("split it with `let` bindings, or build the value in a loop"),
        );
    }

    fn too_deep(&mut self, span: Span) {
        self.needs_sync = true;
        if self.too_deep_reported {
            return;
        }
        self.too_deep_reported = true;
        self.report(
            Diagnostic::error(
                "E0003",
                format!("nesting is too deep (more than {MAX_DEPTH} levels)"),
                span,
            )
            .with_label("nested too deeply")
            .with_hint("split this into smaller pieces, e.g. with `let` bindings or functions"),
        );
    }

    // ----- nesting ------------------------------------------------------

    /// Enters one level of recursion; false (after reporting once) when the
    /// limit is reached, in which case the caller must skip instead of
    /// recursing.
    fn enter(&mut self) -> bool {
        if self.depth >= MAX_DEPTH {
            self.too_deep(self.cur().span);
            return false;
        }
        self.depth += 1;
        true
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Skips the source of one construct that is nested too deeply: tokens up
    /// to (not including) a `,` `;` or closer at bracket level 0, with
    /// balanced brackets in between. No recursion.
    fn skip_nested(&mut self, stop: &[TokenKind]) -> Span {
        let start = self.cur().span;
        let mut level = 0usize;
        loop {
            let kind = self.kind();
            match kind {
                TokenKind::Eof => {
                    // The closers of the enclosing levels are missing too;
                    // that is the same problem, so say nothing more about it.
                    self.reported.insert(self.cur().span.start);
                    break;
                }
                _ if level == 0 && stop.contains(&kind) => break,
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => level += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                    level = level.saturating_sub(1)
                }
                _ => {}
            }
            self.bump();
        }
        self.span_from(start)
    }

    /// [`Parser::skip_nested`] for an expression, yielding an `Error` node.
    /// In a no-struct context (a condition) the `{` of the body ends it too.
    fn skip_too_deep_expr(&mut self) -> Expr {
        use TokenKind::*;
        let span = if self.no_struct {
            self.skip_nested(&[Comma, Semi, RParen, RBracket, RBrace, LBrace])
        } else {
            self.skip_nested(&[Comma, Semi, RParen, RBracket, RBrace])
        };
        self.expr(ExprKind::Error, span)
    }

    // ----- recovery -----------------------------------------------------

    /// Statement-level recovery: skips to just after a `;`, or to a `}` or a
    /// statement keyword outside any braces skipped on the way.
    fn synchronize(&mut self) {
        let mut braces = 0usize;
        loop {
            match self.kind() {
                TokenKind::Eof => break,
                TokenKind::Semi if braces == 0 => {
                    self.bump();
                    break;
                }
                TokenKind::RBrace if braces == 0 => break,
                TokenKind::LBrace => braces += 1,
                TokenKind::RBrace => braces -= 1,
                kind if braces == 0 && kind.starts_statement() => break,
                _ => {}
            }
            self.bump();
        }
        self.needs_sync = false;
    }

    /// Recovery inside a comma-separated list closed by `close`: skips to a
    /// `,` or `close` at bracket level 0, or to a `;` or statement keyword
    /// (which cannot be inside a list; a keyword followed by `:` is a field
    /// name).
    fn recover_in_list(&mut self, close: TokenKind) {
        let mut level = 0usize;
        loop {
            let kind = self.kind();
            match kind {
                TokenKind::Eof => return,
                _ if level == 0
                    && (kind == close || kind == TokenKind::Comma || kind == TokenKind::Semi) =>
                {
                    return
                }
                _ if level == 0 && kind.starts_statement() && self.nth(1) != TokenKind::Colon => {
                    return
                }
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => level += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                    if level == 0 {
                        // A closer of an enclosing construct: stop here.
                        return;
                    }
                    level -= 1;
                }
                _ => {}
            }
            self.bump();
        }
    }

    /// Reports a missing `,` in a list and recovers; true if the list goes
    /// on (recovery reached a `,`).
    #[cold]
    #[inline(never)]
    fn list_separator_error(&mut self, close: TokenKind) -> bool {
        let what = format!("`,` or {}", close.describe());
        let diag = self.error_expected(&what, &format!("expected {what}"));
        let next = self.nth(1);
        if self.at(TokenKind::Semi)
            && (next == TokenKind::Ident || next.is_keyword())
            && self.nth(2) == TokenKind::Colon
        {
            // `{ a: 1; b: 2 }`: a `;` used as the separator.
            self.emit(diag.with_hint("separate entries with `,`, not `;`"));
            self.bump();
            return true;
        }
        self.emit(diag);
        self.recover_in_list(close);
        self.eat(TokenKind::Comma)
    }

    /// Parses `item (, item)* ,? close` after the opener `open` (already
    /// consumed). `item` returns `None` when it failed (and reported why).
    /// Returns the items and the span from `open` to the closer.
    fn comma_list<T>(
        &mut self,
        open: Span,
        close: TokenKind,
        mut item: impl FnMut(&mut Self) -> Option<T>,
    ) -> (Vec<T>, Span) {
        let mut items = Vec::new();
        loop {
            if self.at(close) || self.at(TokenKind::Eof) {
                break;
            }
            if let Some(x) = item(self) {
                items.push(x);
            }
            if self.eat(TokenKind::Comma) {
                continue;
            }
            if self.at(close) || !self.list_separator_error(close) {
                break;
            }
        }
        let span = self.expect_closing(close, open);
        (items, span)
    }

    // ----- nodes --------------------------------------------------------

    fn fresh_id(&mut self, height: u32) -> NodeId {
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        self.heights.push(height.min(u32::from(u16::MAX)) as u16);
        id
    }

    fn ident(&mut self, name: &str, span: Span) -> Ident {
        Ident {
            id: self.fresh_id(1),
            name: name.to_string(),
            span,
        }
    }

    /// An identifier from the current token (already checked to be a name or
    /// keyword, as the caller allows).
    fn ident_from_cur(&mut self) -> Ident {
        let tok = self.bump();
        let name = self.text_of(tok.span);
        self.ident(name, tok.span)
    }

    /// Builds an expression node with a fresh id, enforcing the height limit:
    /// an expression taller than [`MAX_DEPTH`] becomes `Error` (reported once).
    fn expr(&mut self, kind: ExprKind, span: Span) -> Expr {
        let mut height = self.kind_height(&kind);
        let kind = if height > MAX_DEPTH as u32 {
            self.too_deep(span);
            height = 1;
            ExprKind::Error
        } else {
            kind
        };
        Expr {
            id: self.fresh_id(height),
            kind,
            span,
        }
    }

    /// An `Error` expression at the current token, without consuming it.
    fn error_expr_here(&mut self) -> Expr {
        let span = self.cur().span;
        self.expr(ExprKind::Error, span)
    }
}
