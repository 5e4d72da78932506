//! The OpenAI-compatible adapter: Chat Completions (`POST
//! {base_url}/chat/completions`) with Structured Outputs and token
//! log-probabilities.
//!
//! It serves OpenAI itself and any server that speaks the same wire format
//! (vLLM, llama.cpp's server, LM Studio, …): the base URL is configurable
//! and the `Authorization` header is sent only when a key is configured.
//!
//! The request asks for `response_format: {"type": "json_schema", …}` with
//! the target's schema and `logprobs: true`; the answer's text is
//! `choices[0].message.content` and its tokens come from
//! `choices[0].logprobs.content`, rebuilt from their UTF-8 `bytes` when the
//! server gives them so that they spell the text exactly (a character split
//! across tokens arrives as partial bytes).
//!
//! Strict mode (`"strict": true`) accepts only a subset of JSON Schema
//! (every object closed with `additionalProperties: false` and all its
//! properties `required`, every node typed, no `not`/`allOf`/…). Struct and
//! wrapped targets always fit; a schema that does not (a `Map<T>` target,
//! an `Any` field) is sent with `"strict": false`, as guidance the model
//! follows without the server enforcing it — validation still checks the
//! answer. `title`, which the schema generator emits, is allowed.
//!
//! This module never logs, traces or formats the API key: it lives in one
//! field and goes only into the `Authorization` header.

use super::http;
use super::logprobs::answer_tokens;
use super::{ApiConfig, BoxFuture, Provider};
use crate::request::{InferRequest, ProviderAnswer, ProviderError, Role, Usage};
use serde_json::{json, Map, Value as Json};
use std::time::Duration;

/// The public OpenAI endpoint.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// An OpenAI-compatible Chat Completions endpoint.
pub struct OpenAi {
    client: reqwest::Client,
    base_url: String,
    api_key: Option<String>,
    model: String,
    timeout: Duration,
}

impl std::fmt::Debug for OpenAi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAi")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl OpenAi {
    pub fn new(config: ApiConfig) -> Result<Self, ProviderError> {
        let client = http::client(config.timeout)?;
        let base = config.base_url.trim().trim_end_matches('/');
        let base_url = if base.is_empty() {
            DEFAULT_BASE_URL.to_string()
        } else {
            base.to_string()
        };
        Ok(OpenAi {
            client,
            base_url,
            // An empty key (e.g. `OPENAI_API_KEY=`) means no key: local
            // servers need none, and an empty bearer token helps nobody.
            api_key: config.api_key.filter(|k| !k.trim().is_empty()),
            model: config.model,
            timeout: config.timeout,
        })
    }

    /// The URL requests go to.
    fn url(&self) -> String {
        format!("{}/chat/completions", self.base_url)
    }

    /// The JSON body for `request`.
    fn body(&self, request: &InferRequest) -> Json {
        let messages: Vec<Json> = request
            .messages
            .iter()
            .map(|m| json!({ "role": role_name(m.role), "content": m.content }))
            .collect();
        let model = request.params.model.as_deref().unwrap_or(&self.model);
        let mut body = Map::new();
        body.insert("model".into(), json!(model));
        body.insert("messages".into(), Json::Array(messages));
        body.insert(
            "response_format".into(),
            json!({
                "type": "json_schema",
                "json_schema": {
                    "name": schema_name(&request.type_name),
                    "strict": strict_compatible(&request.schema),
                    "schema": request.schema,
                }
            }),
        );
        body.insert("logprobs".into(), Json::Bool(true));
        if let Some(t) = request.params.temperature {
            body.insert("temperature".into(), json!(t));
        }
        // `max_tokens` is deprecated in Chat Completions in favour of
        // `max_completion_tokens` (and rejected by reasoning models).
        if let Some(n) = request.params.max_tokens {
            body.insert("max_completion_tokens".into(), json!(n));
        }
        if let Some(s) = request.params.seed {
            body.insert("seed".into(), json!(s));
        }
        Json::Object(body)
    }

    fn headers(&self) -> Vec<(String, String)> {
        // `Content-Type: application/json` comes with the JSON body
        // (`post_json`); adding it here would send it twice.
        match &self.api_key {
            Some(key) => vec![("Authorization".to_string(), format!("Bearer {key}"))],
            None => Vec::new(),
        }
    }
}

impl Provider for OpenAi {
    fn name(&self) -> &str {
        "openai"
    }
    fn complete<'a>(
        &'a self,
        request: &'a InferRequest,
    ) -> BoxFuture<'a, Result<ProviderAnswer, ProviderError>> {
        Box::pin(async move {
            let reply = http::post_json(
                &self.client,
                &self.url(),
                &self.headers(),
                &self.body(request),
                self.timeout,
            )
            .await?;
            parse_reply(&reply)
        })
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

/// A schema or tool name as OpenAI and Anthropic accept it: only
/// `[a-zA-Z0-9_-]`, at most 64 characters, never empty.
pub fn schema_name(type_name: &str) -> String {
    let name: String = type_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if name.is_empty() {
        "answer".to_string()
    } else {
        name
    }
}

/// Whether strict Structured Outputs accept `schema`: an object root, every
/// object closed and fully required, every node typed, no unsupported
/// composition keywords.
pub fn strict_compatible(schema: &Json) -> bool {
    let root_is_object = schema.get("type").and_then(Json::as_str) == Some("object");
    root_is_object && strict_node(schema, 0)
}

/// Keywords strict mode rejects (composition and object patterns).
const UNSUPPORTED: &[&str] = &[
    "not",
    "allOf",
    "oneOf",
    "if",
    "then",
    "else",
    "dependentRequired",
    "dependentSchemas",
    "patternProperties",
];

fn strict_node(s: &Json, depth: u32) -> bool {
    let Some(o) = s.as_object() else { return false };
    if depth > 64 || UNSUPPORTED.iter().any(|k| o.contains_key(*k)) {
        return false;
    }
    if let Some(defs) = o.get("$defs") {
        let Some(defs) = defs.as_object() else {
            return false;
        };
        if !defs.values().all(|d| strict_node(d, depth + 1)) {
            return false;
        }
    }
    if o.contains_key("$ref") {
        return o.get("$ref").is_some_and(Json::is_string);
    }
    if let Some(variants) = o.get("anyOf") {
        return variants
            .as_array()
            .is_some_and(|vs| !vs.is_empty() && vs.iter().all(|v| strict_node(v, depth + 1)));
    }
    let types: Vec<&str> = match o.get("type") {
        Some(Json::String(t)) => vec![t.as_str()],
        Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).collect(),
        _ => return o.contains_key("enum") || o.contains_key("const"),
    };
    if types.contains(&"object") {
        if o.get("additionalProperties") != Some(&Json::Bool(false)) {
            return false;
        }
        let empty = Map::new();
        let props = match o.get("properties") {
            Some(Json::Object(p)) => p,
            None => &empty,
            Some(_) => return false,
        };
        let required: Vec<&str> = o
            .get("required")
            .and_then(Json::as_array)
            .map(|r| r.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        if !props.keys().all(|k| required.contains(&k.as_str())) {
            return false;
        }
        if !props.values().all(|p| strict_node(p, depth + 1)) {
            return false;
        }
    }
    if types.contains(&"array") && !o.get("items").is_some_and(|i| strict_node(i, depth + 1)) {
        return false;
    }
    true
}

/// Read a Chat Completions reply.
fn parse_reply(reply: &Json) -> Result<ProviderAnswer, ProviderError> {
    let shape = || http::preview(&reply.to_string());
    let choice = reply
        .get("choices")
        .and_then(Json::as_array)
        .and_then(|c| c.first())
        .ok_or_else(|| {
            ProviderError::Malformed(format!("the reply has no choices: {}", shape()))
        })?;
    let message = choice
        .get("message")
        .filter(|m| m.is_object())
        .ok_or_else(|| {
            ProviderError::Malformed(format!("the first choice has no message: {}", shape()))
        })?;
    match message.get("refusal") {
        None | Some(Json::Null) => {}
        Some(Json::String(why)) => return Err(ProviderError::Refusal(why.clone())),
        Some(other) => return Err(ProviderError::Refusal(other.to_string())),
    }
    let text = match message.get("content") {
        Some(Json::String(s)) => s.clone(),
        _ => {
            let finish = choice
                .get("finish_reason")
                .and_then(Json::as_str)
                .unwrap_or("unknown");
            return Err(ProviderError::Malformed(format!(
                "the message has no text content (finish_reason: {finish}): {}",
                shape()
            )));
        }
    };
    let tokens = choice
        .pointer("/logprobs/content")
        .and_then(Json::as_array)
        .and_then(|entries| answer_tokens(entries));
    let count = |key: &str| {
        reply
            .get("usage")
            .and_then(|u| u.get(key))
            .and_then(Json::as_u64)
            .unwrap_or(0)
    };
    let usage = Usage {
        input_tokens: count("prompt_tokens"),
        output_tokens: count("completion_tokens"),
    };
    let model = reply
        .get("model")
        .and_then(Json::as_str)
        .map(str::to_string);
    Ok(ProviderAnswer {
        text,
        tokens,
        confidence: None,
        usage,
        model,
    })
}
