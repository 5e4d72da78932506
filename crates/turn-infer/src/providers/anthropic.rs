//! The Anthropic adapter: the Messages API (`POST {base_url}/messages`)
//! with the answer forced through a tool call.
//!
//! The target's schema becomes the `input_schema` of one tool named after
//! the type, and `tool_choice` makes the model call it; the answer's text is
//! that `tool_use` block's `input`, serialized back to JSON (keys in the
//! order the model wrote them). Tool schemas need an object root, so
//! primitive and list targets are wrapped (`needs_object_root`, the
//! default). The Messages API returns no log-probabilities, so confidence
//! falls back to the neutral default.
//!
//! System messages go in the top-level `system` field (joined); the other
//! turns go in `messages` in order. `max_tokens` is required by the API and
//! defaults to [`DEFAULT_MAX_TOKENS`]; there is no `seed`.
//!
//! This module never logs, traces or formats the API key: it lives in one
//! field and goes only into the `x-api-key` header.

use super::http;
use super::openai::schema_name;
use super::{ApiConfig, BoxFuture, Provider};
use crate::request::{InferRequest, ProviderAnswer, ProviderError, Role, Usage};
use serde_json::{json, Map, Value as Json};
use std::time::Duration;

/// The public Anthropic endpoint.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com/v1";
/// The API version this adapter speaks (the `anthropic-version` header).
pub const API_VERSION: &str = "2023-06-01";
/// `max_tokens` when the program sets none (the API requires one).
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// Claude through the Messages API.
pub struct Anthropic {
    client: reqwest::Client,
    base_url: String,
    api_key: Option<String>,
    model: String,
    timeout: Duration,
}

impl std::fmt::Debug for Anthropic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Anthropic")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Anthropic {
    pub fn new(config: ApiConfig) -> Result<Self, ProviderError> {
        let client = http::client(config.timeout)?;
        let base = config.base_url.trim().trim_end_matches('/');
        let base_url = if base.is_empty() {
            DEFAULT_BASE_URL.to_string()
        } else {
            base.to_string()
        };
        Ok(Anthropic {
            client,
            base_url,
            // Without a key the header is left out and the API answers 401
            // with its own explanation; a gateway in front may not need one.
            api_key: config.api_key.filter(|k| !k.trim().is_empty()),
            model: config.model,
            timeout: config.timeout,
        })
    }

    fn url(&self) -> String {
        format!("{}/messages", self.base_url)
    }

    fn body(&self, request: &InferRequest) -> Json {
        let tool = schema_name(&request.type_name);
        let messages: Vec<Json> = request
            .messages
            .iter()
            .filter_map(|m| match m.role {
                Role::System => None,
                Role::User => Some(json!({ "role": "user", "content": m.content })),
                Role::Assistant => Some(json!({ "role": "assistant", "content": m.content })),
            })
            .collect();
        let model = request.params.model.as_deref().unwrap_or(&self.model);
        let mut body = Map::new();
        body.insert("model".into(), json!(model));
        body.insert(
            "max_tokens".into(),
            json!(request.params.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)),
        );
        if let Some(system) = request.system_text() {
            body.insert("system".into(), json!(system));
        }
        body.insert("messages".into(), Json::Array(messages));
        body.insert(
            "tools".into(),
            json!([{
                "name": tool,
                "description": tool_description(request),
                "input_schema": request.schema,
            }]),
        );
        body.insert(
            "tool_choice".into(),
            json!({ "type": "tool", "name": tool }),
        );
        if let Some(t) = request.params.temperature {
            body.insert("temperature".into(), json!(t));
        }
        Json::Object(body)
    }

    fn headers(&self) -> Vec<(String, String)> {
        // `content-type: application/json` comes with the JSON body
        // (`post_json`); adding it here would send it twice.
        let mut headers = vec![("anthropic-version".to_string(), API_VERSION.to_string())];
        if let Some(key) = &self.api_key {
            headers.push(("x-api-key".to_string(), key.clone()));
        }
        headers
    }
}

impl Provider for Anthropic {
    fn name(&self) -> &str {
        "anthropic"
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
            parse_reply(&reply, &schema_name(&request.type_name))
        })
    }
}

fn tool_description(request: &InferRequest) -> String {
    let what = if request.wrapped {
        format!(
            "a `{}` value, wrapped as {{\"value\": …}}",
            request.type_name
        )
    } else {
        format!("a `{}` value", request.type_name)
    };
    format!("Give the answer to the user's request as {what}, matching the input schema exactly.")
}

/// Read a Messages API reply; `tool` is the tool the request forced.
fn parse_reply(reply: &Json, tool: &str) -> Result<ProviderAnswer, ProviderError> {
    let shape = || http::preview(&reply.to_string());
    let content = reply
        .get("content")
        .and_then(Json::as_array)
        .ok_or_else(|| {
            ProviderError::Malformed(format!("the reply has no content: {}", shape()))
        })?;
    let text: Vec<&str> = content
        .iter()
        .filter(|b| b.get("type").and_then(Json::as_str) == Some("text"))
        .filter_map(|b| b.get("text").and_then(Json::as_str))
        .collect();
    let text = text.join("\n");
    let stop_reason = reply
        .get("stop_reason")
        .and_then(Json::as_str)
        .unwrap_or("unknown");
    if stop_reason == "refusal" {
        let why = if text.trim().is_empty() {
            "stop_reason: refusal".to_string()
        } else {
            text
        };
        return Err(ProviderError::Refusal(why));
    }
    let tool_uses: Vec<&Json> = content
        .iter()
        .filter(|b| b.get("type").and_then(Json::as_str) == Some("tool_use"))
        .collect();
    let block = tool_uses
        .iter()
        .find(|b| b.get("name").and_then(Json::as_str) == Some(tool))
        .or_else(|| tool_uses.first())
        .ok_or_else(|| {
            ProviderError::Malformed(format!(
                "the reply has no tool_use block (stop_reason: {stop_reason}); text: {}",
                http::preview(&text)
            ))
        })?;
    let input = block.get("input").ok_or_else(|| {
        ProviderError::Malformed(format!("the tool_use block has no input: {}", shape()))
    })?;
    let answer = serde_json::to_string(input)
        .map_err(|e| ProviderError::Malformed(format!("cannot serialize the tool input: {e}")))?;
    let count = |key: &str| {
        reply
            .get("usage")
            .and_then(|u| u.get(key))
            .and_then(Json::as_u64)
            .unwrap_or(0)
    };
    let usage = Usage {
        input_tokens: count("input_tokens"),
        output_tokens: count("output_tokens"),
    };
    let model = reply
        .get("model")
        .and_then(Json::as_str)
        .map(str::to_string);
    Ok(ProviderAnswer {
        text: answer,
        tokens: None,
        confidence: None,
        usage,
        model,
    })
}
