//! Tokens: what the lexer produces and the parser consumes.
//!
//! A token is only a kind and a byte span; its text is `&source[span]`, and the
//! values of number and string literals are decoded from that text with
//! [`crate::lexer::number_value`] and [`crate::lexer::string_value`]. Keeping
//! tokens `Copy` keeps the parser simple. This module never reports errors.

use crate::span::Span;

/// The kind of a token. Keywords and punctuation have one fixed spelling
/// ([`TokenKind::text`]); `Ident`, `Num`, `Str` and `Error` carry their text
/// in the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    Ident,
    Num,
    Str,

    // Keywords.
    Let,
    Struct,
    Impl,
    Type,
    Turn,
    Return,
    If,
    Else,
    While,
    For,
    In,
    Break,
    Continue,
    Try,
    Catch,
    Throw,
    Use,
    Grant,
    Identity,
    Infer,
    Confidence,
    Spawn,
    SpawnLink,
    SpawnEach,
    Gather,
    Send,
    Receive,
    /// `self`
    SelfKw,
    This,
    Suspend,
    Context,
    Remember,
    Recall,
    Call,
    True,
    False,
    Null,
    /// `and` or `&&`
    And,
    /// `or` or `||`
    Or,
    /// `vec` (the type is spelled `Vec`, an identifier)
    Vec,

    // Punctuation.
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Semi,
    Colon,
    ColonColon,
    Dot,
    DotDot,
    Eq,
    EqEq,
    NotEq,
    Lt,
    Gt,
    Le,
    Ge,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Bang,
    Question,
    /// `->`
    Arrow,
    /// `~>`
    Similar,

    /// Characters the lexer rejected; the lexer has already reported them, so
    /// the parser never reports an error at an `Error` token.
    Error,
    /// End of input; always the last token, with an empty span at the end.
    Eof,
}

/// A token: its kind and where it is in the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

/// Every keyword with its spelling: the single source of truth for
/// [`TokenKind::keyword`] and [`TokenKind::text`].
const KEYWORDS: [(&str, TokenKind); 40] = [
    ("let", TokenKind::Let),
    ("struct", TokenKind::Struct),
    ("impl", TokenKind::Impl),
    ("type", TokenKind::Type),
    ("turn", TokenKind::Turn),
    ("return", TokenKind::Return),
    ("if", TokenKind::If),
    ("else", TokenKind::Else),
    ("while", TokenKind::While),
    ("for", TokenKind::For),
    ("in", TokenKind::In),
    ("break", TokenKind::Break),
    ("continue", TokenKind::Continue),
    ("try", TokenKind::Try),
    ("catch", TokenKind::Catch),
    ("throw", TokenKind::Throw),
    ("use", TokenKind::Use),
    ("grant", TokenKind::Grant),
    ("identity", TokenKind::Identity),
    ("infer", TokenKind::Infer),
    ("confidence", TokenKind::Confidence),
    ("spawn", TokenKind::Spawn),
    ("spawn_link", TokenKind::SpawnLink),
    ("spawn_each", TokenKind::SpawnEach),
    ("gather", TokenKind::Gather),
    ("send", TokenKind::Send),
    ("receive", TokenKind::Receive),
    ("self", TokenKind::SelfKw),
    ("this", TokenKind::This),
    ("suspend", TokenKind::Suspend),
    ("context", TokenKind::Context),
    ("remember", TokenKind::Remember),
    ("recall", TokenKind::Recall),
    ("call", TokenKind::Call),
    ("true", TokenKind::True),
    ("false", TokenKind::False),
    ("null", TokenKind::Null),
    ("and", TokenKind::And),
    ("or", TokenKind::Or),
    ("vec", TokenKind::Vec),
];

impl TokenKind {
    /// The keyword spelled `word`, if it is one.
    pub fn keyword(word: &str) -> Option<TokenKind> {
        KEYWORDS
            .iter()
            .find(|(text, _)| *text == word)
            .map(|&(_, kind)| kind)
    }

    /// Whether this is a keyword (a reserved word).
    pub fn is_keyword(self) -> bool {
        KEYWORDS.iter().any(|&(_, kind)| kind == self)
    }

    /// The fixed spelling of a keyword or punctuation token; empty for
    /// identifiers, literals, `Error` and `Eof`.
    pub fn text(self) -> &'static str {
        use TokenKind::*;
        match self {
            LParen => "(",
            RParen => ")",
            LBrace => "{",
            RBrace => "}",
            LBracket => "[",
            RBracket => "]",
            Comma => ",",
            Semi => ";",
            Colon => ":",
            ColonColon => "::",
            Dot => ".",
            DotDot => "..",
            Eq => "=",
            EqEq => "==",
            NotEq => "!=",
            Lt => "<",
            Gt => ">",
            Le => "<=",
            Ge => ">=",
            Plus => "+",
            Minus => "-",
            Star => "*",
            Slash => "/",
            Percent => "%",
            Bang => "!",
            Question => "?",
            Arrow => "->",
            Similar => "~>",
            Ident | Num | Str | Error | Eof => "",
            kw => KEYWORDS
                .iter()
                .find(|&&(_, k)| k == kw)
                .map_or("", |&(text, _)| text),
        }
    }

    /// How to name this kind of token in "expected …" messages.
    pub fn describe(self) -> String {
        match self {
            TokenKind::Ident => "a name".to_string(),
            TokenKind::Num => "a number".to_string(),
            TokenKind::Str => "a string".to_string(),
            TokenKind::Error => "an invalid token".to_string(),
            TokenKind::Eof => "end of file".to_string(),
            other => format!("`{}`", other.text()),
        }
    }

    /// Keywords that can only begin a statement; error recovery stops before
    /// them.
    pub fn starts_statement(self) -> bool {
        use TokenKind::*;
        matches!(
            self,
            Let | Struct
                | Impl
                | Type
                | Return
                | While
                | For
                | Try
                | Throw
                | Break
                | Continue
                | Suspend
        )
    }
}
