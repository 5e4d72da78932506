//! The lexer: source text -> [`Token`]s, plus `E0001` diagnostics for lexical
//! errors (unknown characters, unterminated strings and block comments, bad
//! escapes, malformed numbers).
//!
//! Lexing never fails and never stops early: rejected characters become one
//! [`TokenKind::Error`] token per run, malformed numbers and strings still
//! become `Num`/`Str` tokens, so the parser sees the shape the author meant and
//! reports nothing more at those places. The token list always ends with
//! `Eof`. Everything here is iterative (nested block comments keep a counter),
//! so no input can overflow the stack.

use crate::diagnostic::Diagnostic;
use crate::parser::MAX_DIAGNOSTICS;
use crate::span::Span;
use crate::token::{Token, TokenKind};

/// The lexer's output.
#[derive(Clone, Debug)]
pub struct Lexed {
    pub tokens: Vec<Token>,
    /// Lexical errors (`E0001`), in source order. At most
    /// [`MAX_DIAGNOSTICS`]` + 1` are kept; more than `MAX_DIAGNOSTICS` means
    /// some were dropped.
    pub diagnostics: Vec<Diagnostic>,
}

/// Splits `text` into tokens. Spans are byte offsets into `text`; the caller
/// guarantees `text.len()` fits in a `u32` (see [`crate::parse`]).
pub fn lex(text: &str) -> Lexed {
    let mut lexer = Lexer {
        text,
        pos: 0,
        tokens: Vec::new(),
        diagnostics: Vec::new(),
    };
    lexer.run();
    Lexed {
        tokens: lexer.tokens,
        diagnostics: lexer.diagnostics,
    }
}

/// The value of a number token's text (`1_000`, `2.5e-3`); `None` if the
/// text is malformed or out of range (the lexer has reported it).
pub fn number_value(text: &str) -> Option<f64> {
    check_number(text).ok()
}

/// The value of a string token's text, quotes included: escapes decoded,
/// invalid escapes dropped (the lexer has reported them).
pub fn string_value(token_text: &str) -> String {
    scan_string(token_text, 0, &mut Vec::new()).value
}

struct Lexer<'t> {
    text: &'t str,
    pos: usize,
    tokens: Vec<Token>,
    diagnostics: Vec<Diagnostic>,
}

fn span(start: usize, end: usize) -> Span {
    Span::new(start as u32, end as u32)
}

/// Characters that may continue an identifier.
fn is_ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Characters that may start an identifier.
fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.text[self.pos..].chars().nth(n)
    }

    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn report(&mut self, diag: Diagnostic) {
        if self.diagnostics.len() <= MAX_DIAGNOSTICS {
            self.diagnostics.push(diag);
        }
    }

    fn push(&mut self, kind: TokenKind, start: usize) {
        self.tokens.push(Token {
            kind,
            span: span(start, self.pos),
        });
    }

    fn run(&mut self) {
        if self.rest().starts_with('\u{feff}') {
            self.pos += '\u{feff}'.len_utf8();
        }
        loop {
            self.skip_trivia();
            let start = self.pos;
            let Some(c) = self.peek() else { break };
            if c == '"' {
                self.string();
            } else if c.is_ascii_digit() {
                self.number();
            } else if is_ident_start(c) {
                self.ident();
            } else if let Some((kind, len)) = self.punct() {
                self.pos += len;
                self.push(kind, start);
            } else {
                self.unknown();
            }
        }
        let end = self.text.len();
        self.tokens.push(Token {
            kind: TokenKind::Eof,
            span: span(end, end),
        });
    }

    /// Skips whitespace, `// …` and nested `/* … */` comments.
    fn skip_trivia(&mut self) {
        loop {
            let rest = self.rest();
            if let Some(c) = rest.chars().next().filter(|c| c.is_whitespace()) {
                self.pos += c.len_utf8();
            } else if rest.starts_with("//") {
                self.pos += rest.find('\n').unwrap_or(rest.len());
            } else if rest.starts_with("/*") {
                self.block_comment();
            } else {
                return;
            }
        }
    }

    fn block_comment(&mut self) {
        let start = self.pos;
        self.pos += 2;
        let mut depth = 1usize;
        while depth > 0 {
            let rest = self.rest();
            if rest.starts_with("/*") {
                depth += 1;
                self.pos += 2;
            } else if rest.starts_with("*/") {
                depth -= 1;
                self.pos += 2;
            } else if let Some(c) = rest.chars().next() {
                self.pos += c.len_utf8();
            } else {
                self.report(
                    Diagnostic::error(
                        "E0001",
                        "unterminated block comment",
                        span(start, start + 2),
                    )
                    .with_label("this comment is never closed")
                    .with_hint("close it with `*/` (block comments nest)"),
                );
                return;
            }
        }
    }

    fn ident(&mut self) {
        let start = self.pos;
        let len = self
            .rest()
            .find(|c: char| !is_ident_continue(c))
            .unwrap_or(self.rest().len());
        self.pos += len;
        let kind = TokenKind::keyword(&self.text[start..self.pos]).unwrap_or(TokenKind::Ident);
        self.push(kind, start);
    }

    /// Takes the longest run that looks like a number (digits, letters, `_`,
    /// a `.` followed by a digit, a sign right after an exponent `e`) and then
    /// validates it, so `1.2.3` and `12ab` are one malformed number rather
    /// than several tokens.
    fn number(&mut self) {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == 'e' || c == 'E' {
                let sign = matches!(self.peek_at(1), Some('+' | '-'));
                let digit_after = self.peek_at(2).is_some_and(|d| d.is_ascii_digit());
                self.pos += 1;
                if sign && digit_after {
                    self.pos += 1;
                }
            } else if is_ident_continue(c) {
                self.pos += c.len_utf8();
            } else if c == '.' && self.peek_at(1).is_some_and(|d| d.is_ascii_digit()) {
                self.pos += 1;
            } else {
                break;
            }
        }
        let text = &self.text[start..self.pos];
        if let Err(problem) = check_number(text) {
            let diag = match problem {
                NumberError::TooLarge => Diagnostic::error(
                    "E0001",
                    format!("number `{text}` is too large"),
                    span(start, self.pos),
                )
                .with_label("does not fit in a 64-bit float"),
                NumberError::Malformed(why) => Diagnostic::error(
                    "E0001",
                    format!("malformed number `{text}`"),
                    span(start, self.pos),
                )
                .with_label(why)
                .with_hint("numbers look like `42`, `3.14`, `1_000`, `1e6` or `2.5e-3`"),
            };
            self.report(diag);
        }
        self.push(TokenKind::Num, start);
    }

    fn string(&mut self) {
        let start = self.pos;
        let mut diags = Vec::new();
        let scanned = scan_string(&self.text[start..], start, &mut diags);
        self.pos = start + scanned.len;
        for diag in diags {
            self.report(diag);
        }
        if !scanned.terminated {
            self.report(
                Diagnostic::error("E0001", "unterminated string", span(start, start + 1))
                    .with_label("this string is never closed")
                    .with_hint("add a closing `\"`"),
            );
        }
        self.push(TokenKind::Str, start);
    }

    /// Recognises punctuation at the current position: (kind, byte length).
    fn punct(&self) -> Option<(TokenKind, usize)> {
        use TokenKind::*;
        let bytes = self.rest().as_bytes();
        let two = match bytes {
            [b':', b':', ..] => Some(ColonColon),
            [b'.', b'.', ..] => Some(DotDot),
            [b'=', b'=', ..] => Some(EqEq),
            [b'!', b'=', ..] => Some(NotEq),
            [b'<', b'=', ..] => Some(Le),
            [b'>', b'=', ..] => Some(Ge),
            [b'-', b'>', ..] => Some(Arrow),
            [b'~', b'>', ..] => Some(Similar),
            [b'&', b'&', ..] => Some(And),
            [b'|', b'|', ..] => Some(Or),
            _ => None,
        };
        if let Some(kind) = two {
            return Some((kind, 2));
        }
        let one = match bytes.first()? {
            b'(' => LParen,
            b')' => RParen,
            b'{' => LBrace,
            b'}' => RBrace,
            b'[' => LBracket,
            b']' => RBracket,
            b',' => Comma,
            b';' => Semi,
            b':' => Colon,
            b'.' => Dot,
            b'=' => Eq,
            b'<' => Lt,
            b'>' => Gt,
            b'+' => Plus,
            b'-' => Minus,
            b'*' => Star,
            b'/' => Slash,
            b'%' => Percent,
            b'!' => Bang,
            b'?' => Question,
            _ => return None,
        };
        Some((one, 1))
    }

    /// A run of characters that cannot start any token: one `Error` token and
    /// one diagnostic.
    fn unknown(&mut self) {
        let start = self.pos;
        while let Some(c) = self.peek() {
            let starts_token = c.is_whitespace()
                || c == '"'
                || is_ident_continue(c)
                || self.rest().starts_with("//")
                || self.rest().starts_with("/*")
                || (self.pos > start && self.punct().is_some());
            if starts_token && self.pos > start {
                break;
            }
            self.pos += c.len_utf8();
        }
        let run = &self.text[start..self.pos];
        let shown: String = run
            .chars()
            .flat_map(|c| {
                if c.is_control() {
                    c.escape_debug().collect::<Vec<_>>()
                } else {
                    vec![c]
                }
            })
            .collect();
        let (message, label) = if run.chars().count() == 1 {
            (
                format!("unknown character `{shown}`"),
                "not valid in Turn source",
            )
        } else {
            (
                format!("unknown characters `{shown}`"),
                "not valid in Turn source",
            )
        };
        let mut diag = Diagnostic::error("E0001", message, span(start, self.pos)).with_label(label);
        let hint = match run.chars().next() {
            Some('&') => Some("use `and` (or `&&`) for logical and"),
            Some('|') => Some("use `or` (or `||`) for logical or"),
            Some('~') => Some("did you mean `~>` (similarity)?"),
            Some('\'') => Some("strings use double quotes: `\"…\"`"),
            Some('#') => Some("comments start with `//`"),
            _ => None,
        };
        if let Some(hint) = hint {
            diag = diag.with_hint(hint);
        }
        self.report(diag);
        self.push(TokenKind::Error, start);
    }
}

enum NumberError {
    Malformed(&'static str),
    TooLarge,
}

/// Validates a number literal and computes its value. The grammar is
/// `digits ('.' digits)? ([eE] [+-]? digits)?` where `digits` is
/// `[0-9] ('_'? [0-9])*`: an underscore only ever sits between two digits.
fn check_number(text: &str) -> Result<f64, NumberError> {
    let bytes = text.as_bytes();
    let mut i = 0;
    digits(bytes, &mut i)?;
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        digits(bytes, &mut i)?;
        if bytes.get(i) == Some(&b'.') {
            return Err(NumberError::Malformed("a number has at most one `.`"));
        }
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !bytes.get(i).is_some_and(u8::is_ascii_digit) {
            return Err(NumberError::Malformed("the exponent has no digits"));
        }
        digits(bytes, &mut i)?;
    }
    if i < bytes.len() {
        return Err(match bytes[i] {
            b'.' => NumberError::Malformed("a number has at most one `.`"),
            b'_' => NumberError::Malformed("`_` may only appear between digits"),
            _ => NumberError::Malformed("a number cannot contain letters"),
        });
    }
    let cleaned: String = text.chars().filter(|&c| c != '_').collect();
    match cleaned.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        Ok(_) => Err(NumberError::TooLarge),
        Err(_) => Err(NumberError::Malformed("not a number")),
    }
}

/// `[0-9] ('_'? [0-9])*` at `*i`.
fn digits(bytes: &[u8], i: &mut usize) -> Result<(), NumberError> {
    if !bytes.get(*i).is_some_and(u8::is_ascii_digit) {
        return Err(NumberError::Malformed("`_` may only appear between digits"));
    }
    *i += 1;
    loop {
        match bytes.get(*i) {
            Some(b) if b.is_ascii_digit() => *i += 1,
            Some(b'_') if bytes.get(*i + 1).is_some_and(u8::is_ascii_digit) => *i += 2,
            Some(b'_') => return Err(NumberError::Malformed("`_` may only appear between digits")),
            _ => return Ok(()),
        }
    }
}

/// The result of scanning a string literal.
struct ScannedString {
    value: String,
    /// Bytes consumed, quotes included.
    len: usize,
    terminated: bool,
}

/// Scans the string literal at the start of `src` (which begins with `"`),
/// decoding escapes; errors are pushed to `diags` with spans offset by
/// `base`. Shared by the lexer (which reports) and [`string_value`] (which
/// does not), so both agree on where a string ends.
fn scan_string(src: &str, base: usize, diags: &mut Vec<Diagnostic>) -> ScannedString {
    let mut value = String::new();
    let mut chars = src.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                return ScannedString {
                    value,
                    len: i + 1,
                    terminated: true,
                }
            }
            '\\' => {
                let Some(&(j, e)) = chars.peek() else { break };
                chars.next();
                let after = j + e.len_utf8();
                match e {
                    'n' => value.push('\n'),
                    't' => value.push('\t'),
                    'r' => value.push('\r'),
                    '"' => value.push('"'),
                    '\\' => value.push('\\'),
                    'u' => {
                        let (decoded, end) = unicode_escape(src, i, after, base, diags);
                        value.extend(decoded);
                        while chars.peek().is_some_and(|&(k, _)| k < end) {
                            chars.next();
                        }
                    }
                    other => {
                        let shown: String = other.escape_debug().collect();
                        let hint = if other == '0' {
                            "`\\0` is not supported; write `\\u{0}`".to_string()
                        } else {
                            "valid escapes are `\\n`, `\\t`, `\\r`, `\\\"`, `\\\\` and `\\u{…}`"
                                .to_string()
                        };
                        diags.push(
                            Diagnostic::error(
                                "E0001",
                                format!("unknown escape `\\{shown}` in string"),
                                span(base + i, base + after),
                            )
                            .with_label("unknown escape")
                            .with_hint(hint),
                        );
                    }
                }
            }
            c => value.push(c),
        }
    }
    ScannedString {
        value,
        len: src.len(),
        terminated: false,
    }
}

/// Decodes `\u{XXXX}`; `backslash` is the offset of `\`, `at` the offset just
/// after `u`. Returns the character (if valid) and the offset where the escape
/// ends. A `"` is never consumed, so a broken escape cannot swallow the end
/// of the string.
fn unicode_escape(
    src: &str,
    backslash: usize,
    at: usize,
    base: usize,
    diags: &mut Vec<Diagnostic>,
) -> (Option<char>, usize) {
    let bytes = src.as_bytes();
    let bad = |end: usize, why: &str, diags: &mut Vec<Diagnostic>| {
        diags.push(
            Diagnostic::error(
                "E0001",
                "invalid unicode escape in string",
                span(base + backslash, base + end),
            )
            .with_label(why.to_string())
            .with_hint(
                "write unicode escapes as `\\u{…}` with 1 to 6 hex digits, e.g. `\\u{1F600}`",
            ),
        );
    };
    if bytes.get(at) != Some(&b'{') {
        bad(at, "expected `{` after `\\u`", diags);
        return (None, at);
    }
    let digits_start = at + 1;
    let mut end = digits_start;
    while bytes.get(end).is_some_and(u8::is_ascii_hexdigit) {
        end += 1;
    }
    let hex = &src[digits_start..end];
    if bytes.get(end) != Some(&b'}') {
        bad(end, "expected hex digits and a closing `}`", diags);
        return (None, end);
    }
    end += 1;
    if hex.is_empty() || hex.len() > 6 {
        bad(end, "a unicode escape has 1 to 6 hex digits", diags);
        return (None, end);
    }
    match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
        Some(c) => (Some(c), end),
        None => {
            bad(end, "not a unicode scalar value", diags);
            (None, end)
        }
    }
}
