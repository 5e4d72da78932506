//! Byte-level and token-level mutations of corpus files.
//!
//! A mutant is a corpus file with one to a handful of edits stacked:
//! deleting, duplicating, repeating or swapping spans of bytes, inserting a
//! token or a hostile byte, deleting, duplicating, swapping or replacing
//! whole tokens (found with Turn's own lexer), and splicing two files. Byte
//! edits may split a UTF-8 sequence; the result is made valid again with
//! replacement characters, since Turn source is text.

use crate::rng::Rng;
use crate::vocab::{NUMBERS, STRINGS, TOKENS, VALUE_NAMES};
use proptest::prelude::*;

/// Mutants longer than this are cut, to keep the fuzzer fast.
pub const MAX_LEN: usize = 256 * 1024;

/// Bytes that matter to the lexer and parser.
const HOSTILE_BYTES: &[u8] = b"(){}[]\"\\/*;,.:=<>!-+~?\n\t \0\xff\xc3\xa9\xe2\x80";

/// One mutant of `input`; `corpus` supplies splice partners.
pub fn mutate(rng: &mut Rng, input: &str, corpus: &[String]) -> String {
    let mut text = input.to_string();
    let edits = match rng.below(10) {
        0..=4 => 1,
        5..=7 => rng.range(2, 3),
        _ => rng.range(4, 8),
    };
    for _ in 0..edits {
        text = match rng.below(14) {
            0..=5 => token_edit(rng, &text),
            6..=11 => {
                let mut bytes = text.into_bytes();
                byte_edit(rng, &mut bytes, corpus);
                String::from_utf8_lossy(&bytes).into_owned()
            }
            _ => splice(rng, &text, corpus),
        };
        if text.len() > MAX_LEN {
            let mut cut = MAX_LEN;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
    }
    text
}

/// A random span `start..end` of a text of `len` bytes.
fn span(rng: &mut Rng, len: usize) -> (usize, usize) {
    let start = rng.below(len + 1);
    let n = rng.size().min(len - start);
    (start, start + n)
}

fn byte_edit(rng: &mut Rng, bytes: &mut Vec<u8>, corpus: &[String]) {
    let len = bytes.len();
    match rng.below(8) {
        0 => {
            let (a, b) = span(rng, len);
            bytes.drain(a..b);
        }
        1 => {
            let (a, b) = span(rng, len);
            let piece: Vec<u8> = bytes[a..b].to_vec();
            let at = rng.below(len + 1);
            bytes.splice(at..at, piece);
        }
        2 => {
            // Repeat a short span many times: long chains, deep nesting.
            let start = rng.below(len + 1);
            let end = (start + rng.range(1, 12)).min(len);
            let piece = bytes[start..end].to_vec();
            let times = rng.size();
            let repeated: Vec<u8> = piece
                .iter()
                .copied()
                .cycle()
                .take(piece.len() * times)
                .collect();
            bytes.splice(start..start, repeated);
        }
        3 => {
            let (a, b) = span(rng, len);
            let (c, d) = span(rng, len);
            if b <= c || d <= a {
                let (first, second) = if b <= c {
                    ((a, b), (c, d))
                } else {
                    ((c, d), (a, b))
                };
                let mid = bytes[first.1..second.0].to_vec();
                let one = bytes[first.0..first.1].to_vec();
                let two = bytes[second.0..second.1].to_vec();
                let swapped: Vec<u8> = two.into_iter().chain(mid).chain(one).collect();
                bytes.splice(first.0..second.1, swapped);
            }
        }
        4 => {
            let at = rng.below(len + 1);
            let b = HOSTILE_BYTES
                .get(rng.below(HOSTILE_BYTES.len()))
                .copied()
                .unwrap_or(b'(');
            if at < len && rng.one_in(2) {
                bytes[at] = b;
            } else {
                bytes.insert(at, b);
            }
        }
        5 => {
            let at = rng.below(len + 1);
            let b = rng.next_u64() as u8;
            bytes.insert(at, b);
        }
        6 => {
            // Insert lines of another file at a line start.
            if let Some(other) = rng.pick(corpus) {
                let lines: Vec<&str> = other.lines().collect();
                let from = rng.below(lines.len());
                let to = (from + rng.range(1, 6)).min(lines.len());
                let piece = lines
                    .get(from..to)
                    .map(|l| l.join("\n") + "\n")
                    .unwrap_or_default();
                let at = line_start(bytes, rng.below(len + 1));
                bytes.splice(at..at, piece.into_bytes());
            }
        }
        _ => {
            let at = rng.below(len + 1);
            let t = rng.pick(TOKENS).copied().unwrap_or("(");
            let piece = if rng.one_in(2) {
                format!(" {t} ")
            } else {
                t.to_string()
            };
            bytes.splice(at..at, piece.into_bytes());
        }
    }
}

/// The start of the line `at` is on.
fn line_start(bytes: &[u8], at: usize) -> usize {
    let at = at.min(bytes.len());
    bytes[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
}

/// Token-level edits, on the token boundaries Turn's lexer finds.
fn token_edit(rng: &mut Rng, text: &str) -> String {
    let lexed = turn_syntax::lexer::lex(text);
    let spans: Vec<(usize, usize)> = lexed
        .tokens
        .iter()
        .filter(|t| t.span.end > t.span.start)
        .map(|t| (t.span.start as usize, t.span.end as usize))
        .filter(|&(a, b)| b <= text.len() && text.is_char_boundary(a) && text.is_char_boundary(b))
        .collect();
    let Some(&(a, b)) = rng.pick(&spans) else {
        return format!("{text} {}", rng.pick(TOKENS).copied().unwrap_or(";"));
    };
    let token = &text[a..b];
    let replacement: String = match rng.below(7) {
        0 => String::new(),
        1 => format!("{token} {token}"),
        2 => rng.pick(TOKENS).copied().unwrap_or(";").to_string(),
        3 => {
            // Swap with another token.
            let Some(&(c, d)) = rng.pick(&spans) else {
                return text.to_string();
            };
            if d <= a || b <= c {
                let (first, second) = if d <= a {
                    ((c, d), (a, b))
                } else {
                    ((a, b), (c, d))
                };
                return format!(
                    "{}{}{}{}{}",
                    &text[..first.0],
                    &text[second.0..second.1],
                    &text[first.1..second.0],
                    &text[first.0..first.1],
                    &text[second.1..]
                );
            }
            token.to_string()
        }
        4 => rng.pick(NUMBERS).copied().unwrap_or("0").to_string(),
        5 => rng.pick(STRINGS).copied().unwrap_or("\"\"").to_string(),
        _ => {
            // Repeat a token run: `((((`, `- - - -`, `.x.x.x`.
            let end = spans
                .iter()
                .position(|&(s, _)| s == a)
                .and_then(|i| spans.get(i + rng.range(0, 2)))
                .map_or(b, |s| s.1);
            let run = &text[a..end.max(b)];
            if rng.one_in(3) {
                rng.pick(VALUE_NAMES).copied().unwrap_or("a").to_string()
            } else {
                run.repeat(rng.size())
            }
        }
    };
    format!("{}{}{}", &text[..a], replacement, &text[b..])
}

/// The start of `a` and the end of a random other corpus file.
fn splice(rng: &mut Rng, text: &str, corpus: &[String]) -> String {
    let Some(other) = rng.pick(corpus) else {
        return text.to_string();
    };
    let cut = |rng: &mut Rng, s: &str| {
        let mut at = rng.below(s.len() + 1);
        if rng.one_in(2) {
            at = line_start(s.as_bytes(), at);
        }
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    let a = cut(rng, text);
    let b = cut(rng, other);
    format!("{}{}", &text[..a], &other[b..])
}

/// A proptest strategy of mutants of `corpus` files (seeded by proptest,
/// mutated by [`mutate`]).
pub fn mutants(corpus: std::sync::Arc<Vec<String>>) -> BoxedStrategy<String> {
    (any::<u64>(), any::<usize>())
        .prop_map(move |(seed, pick)| {
            let mut rng = Rng::new(seed);
            match corpus.get(pick % corpus.len().max(1)) {
                Some(input) => mutate(&mut rng, input, &corpus),
                None => String::new(),
            }
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutants_are_bounded_and_deterministic() {
        let corpus = vec![
            "let a = [1, 2];\nreturn a;\n".to_string(),
            "echo(\"é\");".to_string(),
        ];
        for seed in 0..500 {
            let m1 = mutate(&mut Rng::new(seed), &corpus[0], &corpus);
            let m2 = mutate(&mut Rng::new(seed), &corpus[0], &corpus);
            assert_eq!(m1, m2);
            assert!(m1.len() <= MAX_LEN);
        }
        for seed in 0..100 {
            let _ = mutate(&mut Rng::new(seed), "", &corpus);
            let _ = mutate(&mut Rng::new(seed), "é", &[]);
        }
    }
}
