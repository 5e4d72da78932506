//! Token log-probabilities in the shape OpenAI-compatible servers and Ollama
//! return them (`[{token, logprob, bytes}]`), turned into tokens that spell
//! the answer text exactly.

use crate::request::TokenLogprob;
use serde_json::Value as Json;

/// The answer's tokens from `logprobs.content`.
///
/// When every entry carries its UTF-8 `bytes`, the tokens are rebuilt from
/// them: a character split over several tokens (whose `token` strings are
/// then placeholders such as `bytes:\xc3`) becomes one token whose text is
/// the character and whose log-probability is the sum of its parts' (the
/// probability of the whole character). Otherwise the `token` strings are
/// used as they are. An entry without a usable `token` drops the tokens (the
/// confidence then falls back; the answer itself is unaffected); a
/// non-numeric `logprob` becomes NaN, which confidence ignores.
pub(crate) fn answer_tokens(entries: &[Json]) -> Option<Vec<TokenLogprob>> {
    if entries.is_empty() {
        return None;
    }
    let logprob = |e: &Json| e.get("logprob").and_then(Json::as_f64).unwrap_or(f64::NAN);
    if let Some(rebuilt) = tokens_from_bytes(entries, logprob) {
        return Some(rebuilt);
    }
    entries
        .iter()
        .map(|e| {
            e.get("token").and_then(Json::as_str).map(|t| TokenLogprob {
                token: t.to_string(),
                logprob: logprob(e),
            })
        })
        .collect()
}

fn tokens_from_bytes(
    entries: &[Json],
    logprob: impl Fn(&Json) -> f64,
) -> Option<Vec<TokenLogprob>> {
    let mut out = Vec::with_capacity(entries.len());
    let mut pending: Vec<u8> = Vec::new();
    let mut pending_lp = 0.0;
    for e in entries {
        let bytes = e.get("bytes")?.as_array()?;
        for b in bytes {
            pending.push(u8::try_from(b.as_u64()?).ok()?);
        }
        pending_lp += logprob(e);
        match std::str::from_utf8(&pending) {
            Ok(s) => {
                out.push(TokenLogprob {
                    token: s.to_string(),
                    logprob: pending_lp,
                });
                pending.clear();
                pending_lp = 0.0;
            }
            // Ends inside a character: wait for the rest.
            Err(err) if err.error_len().is_none() => {}
            Err(_) => return None,
        }
    }
    pending.is_empty().then_some(out)
}
