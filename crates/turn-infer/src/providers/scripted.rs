//! The scripted provider: answers from a JSONL file. Conformance programs
//! and tests use it; it is a real provider, deterministic by construction.
//!
//! Each line is one answer:
//!
//! ```json
//! {"answer": {"name": "Ada", "age": 36}}
//! {"raw": "not json at all"}
//! {"answer": true, "confidence": 0.73}
//! {"answer": {"a": 1}, "field_confidences": {"a": 0.9}}
//! {"answer": "x", "tokens": [{"token": "\"x\"", "logprob": -0.2}]}
//! {"error": {"status": 429, "message": "slow down", "retry_after": 0}}
//! {"match": {"type": "Report", "prompt_contains": "quarterly"}, "answer": {…}}
//! ```
//!
//! Lines without `match` are used once each, in order. Lines with `match`
//! answer every request whose target type name equals `type` and whose
//! prompt contains `prompt_contains` (both optional); they are tried first.
//! A request nothing answers is an `Unmatched` error and is recorded (see
//! [`Scripted::unmatched`]).
//!
//! `field_confidences` synthesises per-token log-probabilities: each named
//! top-level field's value is one token with `ln(c)`; the text between them
//! carries no probability (NaN, ignored), so the value's confidence is the
//! geometric mean of the named fields'.

use super::{BoxFuture, Provider};
use crate::request::{InferRequest, ProviderAnswer, ProviderError, TokenLogprob, Usage};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value as Json;
use std::sync::Mutex;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    #[serde(default, rename = "match")]
    when: Option<Match>,
    #[serde(default)]
    answer: Option<Json>,
    #[serde(default)]
    raw: Option<String>,
    #[serde(default)]
    confidence: Option<f64>,
    #[serde(default)]
    tokens: Option<Vec<TokenLogprob>>,
    #[serde(default)]
    field_confidences: Option<indexmap::IndexMap<String, f64>>,
    #[serde(default)]
    error: Option<ErrorSpec>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Match {
    #[serde(default, rename = "type")]
    type_name: Option<String>,
    #[serde(default)]
    prompt_contains: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorSpec {
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    retry_after: Option<f64>,
    /// `timeout`, `connect`, `malformed` or `refusal` instead of an HTTP status.
    #[serde(default)]
    kind: Option<String>,
}

struct State {
    /// Index of the next in-order entry.
    next: usize,
    unmatched: Vec<Json>,
}

pub struct Scripted {
    entries: Vec<Entry>,
    state: Mutex<State>,
}

impl Scripted {
    /// Parse a JSONL script; errors name the line.
    pub fn parse(text: &str) -> Result<Scripted, String> {
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with("//") {
                continue;
            }
            let e: Entry =
                serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
            if e.answer.is_none() && e.raw.is_none() && e.error.is_none() {
                return Err(format!("line {}: give `answer`, `raw` or `error`", i + 1));
            }
            entries.push(e);
        }
        Ok(Scripted {
            entries,
            state: Mutex::new(State {
                next: 0,
                unmatched: Vec::new(),
            }),
        })
    }

    /// The requests no line answered, as `{"type", "prompt"}` objects.
    pub fn unmatched(&self) -> Vec<Json> {
        self.state
            .lock()
            .map(|s| s.unmatched.clone())
            .unwrap_or_default()
    }

    fn pick(&self, req: &InferRequest) -> Result<Entry, ProviderError> {
        let prompt = req.prompt();
        let matched = self.entries.iter().find(|e| match &e.when {
            Some(m) => {
                m.type_name.as_deref().is_none_or(|t| t == req.type_name)
                    && m.prompt_contains
                        .as_deref()
                        .is_none_or(|p| prompt.contains(p))
            }
            None => false,
        });
        if let Some(e) = matched {
            return Ok(e.clone());
        }
        let mut state = self
            .state
            .lock()
            .map_err(|_| ProviderError::Config("scripted provider poisoned".into()))?;
        let in_order: Vec<&Entry> = self.entries.iter().filter(|e| e.when.is_none()).collect();
        if let Some(e) = in_order.get(state.next) {
            state.next += 1;
            return Ok((*e).clone());
        }
        state
            .unmatched
            .push(serde_json::json!({ "type": req.type_name, "prompt": prompt }));
        Err(ProviderError::Unmatched(format!(
            "`{}` asked with prompt {:?} ({} scripted answers used)",
            req.type_name,
            crate::providers::http::preview(prompt),
            state.next
        )))
    }
}

impl Provider for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }
    fn needs_object_root(&self) -> bool {
        false
    }
    fn complete<'a>(
        &'a self,
        request: &'a InferRequest,
    ) -> BoxFuture<'a, Result<ProviderAnswer, ProviderError>> {
        Box::pin(async move {
            let e = self.pick(request)?;
            if let Some(err) = e.error {
                let message = err.message.unwrap_or_else(|| "scripted failure".into());
                return Err(match err.kind.as_deref() {
                    Some("timeout") => ProviderError::Timeout { seconds: 0.0 },
                    Some("connect") => ProviderError::Connect(message),
                    Some("malformed") => ProviderError::Malformed(message),
                    Some("refusal") => ProviderError::Refusal(message),
                    _ => ProviderError::Http {
                        status: err.status.unwrap_or(500),
                        message,
                        retry_after: err.retry_after,
                    },
                });
            }
            let text = match (e.raw, &e.answer) {
                (Some(raw), _) => raw,
                (None, Some(a)) => serde_json::to_string(a).unwrap_or_default(),
                (None, None) => String::new(),
            };
            let tokens = match (e.tokens, e.field_confidences) {
                (Some(t), _) => Some(t),
                (None, Some(fc)) => Some(synthesize_tokens(&text, &fc)),
                (None, None) => None,
            };
            let usage = e.usage.unwrap_or(Usage {
                input_tokens: request
                    .messages
                    .iter()
                    .map(|m| m.content.len() as u64 / 4 + 1)
                    .sum(),
                output_tokens: text.len() as u64 / 4 + 1,
            });
            Ok(ProviderAnswer {
                text,
                tokens,
                confidence: e.confidence,
                usage,
                model: Some("scripted".into()),
            })
        })
    }
}

/// Tokens that spell `text`: each named member value one token with
/// `ln(confidence)`, the text between them tokens without a probability.
fn synthesize_tokens(text: &str, fields: &indexmap::IndexMap<String, f64>) -> Vec<TokenLogprob> {
    let mut spans: Vec<(usize, usize, f64)> = Vec::new();
    if let Ok(map) = serde_json::from_str::<indexmap::IndexMap<String, &RawValue>>(text) {
        let base = text.as_ptr() as usize;
        for (k, raw) in map {
            if let Some(c) = fields.get(&k) {
                let start = (raw.get().as_ptr() as usize).saturating_sub(base);
                spans.push((start, start + raw.get().len(), c.max(1e-12).ln()));
            }
        }
    }
    spans.sort_by_key(|s| s.0);
    let mut out = Vec::new();
    let mut at = 0;
    for (start, end, lp) in spans {
        if start > at {
            out.push(TokenLogprob {
                token: text[at..start].to_string(),
                logprob: f64::NAN,
            });
        }
        out.push(TokenLogprob {
            token: text[start..end].to_string(),
            logprob: lp,
        });
        at = end;
    }
    if at < text.len() {
        out.push(TokenLogprob {
            token: text[at..].to_string(),
            logprob: f64::NAN,
        });
    }
    out
}
