//! Natives behind `std/regex`, on the `regex` crate: matching takes linear
//! time whatever the pattern, compiled programs are capped in size, and
//! compiled patterns are kept in a small per-thread cache (compilation is
//! deterministic, so caching is unobservable).

use crate::args::Args;
use regex::{Regex, RegexBuilder};
use std::cell::RefCell;
use turn_vm::{NativeCx, NativeResult, RtError, RtResult, Value};

/// Largest compiled program a pattern may produce.
const SIZE_LIMIT: usize = 256 * 1024;
/// The lazy DFA's cache: generous, since a search that outgrows it falls
/// back to the much slower NFA.
const DFA_CACHE: usize = 8 * (1 << 20);
/// How many compiled patterns the cache keeps.
const CACHE_SIZE: usize = 32;

thread_local! {
    /// Most recently used last.
    static CACHE: RefCell<Vec<(String, Regex)>> = const { RefCell::new(Vec::new()) };
}

/// One line: the pattern and the parser's reason (the regex crate renders
/// its errors over several lines with a caret; keep only the reason).
fn pattern_error(pattern: &str, e: &regex::Error) -> String {
    let text = e.to_string();
    let reason = text
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .map(str::to_string)
        .unwrap_or_else(|| text.lines().last().unwrap_or("").trim().to_string());
    format!("invalid pattern {pattern:?}: {reason}")
}

fn compile(pattern: &str) -> RtResult<Regex> {
    let hit = CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let i = c.iter().position(|(p, _)| p == pattern)?;
        let entry = c.remove(i);
        let re = entry.1.clone();
        c.push(entry);
        Some(re)
    });
    if let Some(re) = hit {
        return Ok(re);
    }
    let re = RegexBuilder::new(pattern)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(DFA_CACHE)
        .build()
        .map_err(|e| RtError::new("regex", pattern_error(pattern, &e)))?;
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_SIZE {
            c.remove(0);
        }
        c.push((pattern.to_owned(), re.clone()));
    });
    Ok(re)
}

/// The compiled pattern (first argument) and the text (second).
fn pattern_and_text<'b>(a: &'b Args) -> RtResult<(Regex, &'b str)> {
    let pattern = a.str(0)?;
    let text = a.str(1)?;
    Ok((compile(pattern)?, text))
}

pub(crate) fn matches(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("regex.matches", cx, args);
    let (re, text) = pattern_and_text(&a)?;
    Ok(Value::Bool(re.is_match(text)))
}

pub(crate) fn find_all(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("regex.find_all", cx, args);
    let (re, text) = pattern_and_text(&a)?;
    let mut out = Vec::new();
    for m in re.find_iter(text) {
        a.check_size(out.len() + 1)?;
        out.push(Value::str(m.as_str()));
    }
    Ok(Value::list(out))
}

/// Every match replaced; `$1`, `${name}` and `$$` in the replacement follow
/// the regex crate. The size check uses a bound of each expansion (every `$`
/// standing for the whole match), so a replacement with many `$` on long
/// matches may be refused slightly before the result reaches the limit.
pub(crate) fn replace(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("regex.replace", cx, args);
    let (re, text) = pattern_and_text(&a)?;
    let replacement = a.str(2)?;
    let mut out = String::new();
    let mut last = 0;
    // Each `$` in the replacement expands to at most the whole match, which
    // bounds an expansion before it is made.
    let refs = replacement.matches('$').count();
    for caps in re.captures_iter(text) {
        let Some(m) = caps.get(0) else { continue };
        out.push_str(text.get(last..m.start()).unwrap_or_default());
        let bound = refs
            .saturating_mul(m.len())
            .saturating_add(replacement.len());
        a.check_size(out.len().saturating_add(bound))?;
        caps.expand(replacement, &mut out);
        last = m.end();
    }
    out.push_str(text.get(last..).unwrap_or_default());
    a.check_size(out.len())?;
    Ok(Value::str(out))
}

/// The first match as `[whole, group1, group2, …]` (a group that did not
/// take part is `null`), or `null` when nothing matches. Index 1 is the first
/// group, as `$1` is in a replacement.
pub(crate) fn captures(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("regex.captures", cx, args);
    let (re, text) = pattern_and_text(&a)?;
    Ok(match re.captures(text) {
        None => Value::Null,
        Some(caps) => Value::list(
            caps.iter()
                .map(|g| g.map_or(Value::Null, |m| Value::str(m.as_str())))
                .collect(),
        ),
    })
}

pub(crate) fn split(cx: &mut NativeCx, args: &[Value]) -> NativeResult {
    let a = Args::new("regex.split", cx, args);
    let (re, text) = pattern_and_text(&a)?;
    let mut out = Vec::new();
    for part in re.split(text) {
        a.check_size(out.len() + 1)?;
        out.push(Value::str(part));
    }
    Ok(Value::list(out))
}
