//! The Ollama adapter: `POST {base_url}/api/chat` on a local (or remote)
//! Ollama server, non-streaming, with structured output.
//!
//! The body is `{model, messages, stream: false, format, logprobs: true,
//! options}`: `format` carries the target's JSON Schema unchanged (Ollama
//! turns any schema into a grammar, so the root need not be an object and
//! nothing is wrapped); `options` holds `temperature`, `seed` and
//! `num_predict` (the token limit) when they are set.
//!
//! Ollama returns the answer as `message.content`, the token counts as
//! `prompt_eval_count` and `eval_count`, and, since Ollama 0.12.11, token
//! log-probabilities as a top-level `logprobs` list when the request sets
//! `logprobs: true` (older servers ignore the field and send none). Each
//! entry has its `token`, `logprob` and UTF-8 `bytes`; the tokens are rebuilt
//! from the bytes so a character split across tokens spells the text
//! exactly.
//!
//! A local Ollama needs no authentication and none is sent. When a key is
//! configured (Ollama's hosted API, or a proxy in front of a server) it goes
//! only in an `Authorization: Bearer` header and is never logged.

use super::http;
use super::logprobs::answer_tokens;
use super::{ApiConfig, BoxFuture, Provider};
use crate::request::{InferRequest, ProviderAnswer, ProviderError, Role, Usage};
use serde_json::{json, Map, Value as Json};
use std::time::Duration;

/// Where Ollama listens by default.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:11434";

/// The base URL for an `OLLAMA_HOST` value, read the way Ollama reads it:
/// `host`, `host:port` or `:port` mean `http` on port 11434 (an empty host
/// is 127.0.0.1); a full URL keeps its scheme and port (80 or 443 by
/// default). An unusable value gives [`DEFAULT_BASE_URL`].
pub fn base_url_from_host(host: &str) -> String {
    let host = host.trim().trim_end_matches('/');
    if host.is_empty() {
        return DEFAULT_BASE_URL.to_string();
    }
    let (text, bare) = match host.split_once("://") {
        Some(_) => (host.to_string(), false),
        None => (format!("http://{host}"), true),
    };
    let text = text.replacen("://:", "://127.0.0.1:", 1);
    let Ok(mut url) = reqwest::Url::parse(&text) else {
        return DEFAULT_BASE_URL.to_string();
    };
    if bare && url.port().is_none() && url.set_port(Some(11434)).is_err() {
        return DEFAULT_BASE_URL.to_string();
    }
    url.as_str().trim_end_matches('/').to_string()
}

/// An Ollama server.
pub struct Ollama {
    client: reqwest::Client,
    base_url: String,
    api_key: Option<String>,
    model: String,
    timeout: Duration,
}

impl std::fmt::Debug for Ollama {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ollama")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Ollama {
    pub fn new(config: ApiConfig) -> Result<Self, ProviderError> {
        let client = http::client(config.timeout)?;
        let base = config.base_url.trim().trim_end_matches('/');
        let base_url = if base.is_empty() {
            DEFAULT_BASE_URL.to_string()
        } else {
            base.to_string()
        };
        Ok(Ollama {
            client,
            base_url,
            api_key: config.api_key.filter(|k| !k.trim().is_empty()),
            model: config.model,
            timeout: config.timeout,
        })
    }

    fn url(&self) -> String {
        format!("{}/api/chat", self.base_url)
    }

    fn headers(&self) -> Vec<(String, String)> {
        match &self.api_key {
            Some(key) => vec![("Authorization".to_string(), format!("Bearer {key}"))],
            None => Vec::new(),
        }
    }

    /// The `/api/chat` body for `request`.
    pub fn body(&self, request: &InferRequest) -> Json {
        let messages: Vec<Json> = request
            .messages
            .iter()
            .map(|m| {
                let role = match m.role {
                    Role::System => "system",
                    Role::User => "user",
                    Role::Assistant => "assistant",
                };
                json!({ "role": role, "content": m.content })
            })
            .collect();
        let mut options = Map::new();
        if let Some(t) = request.params.temperature {
            options.insert("temperature".into(), json!(t));
        }
        if let Some(s) = request.params.seed {
            options.insert("seed".into(), json!(s));
        }
        if let Some(n) = request.params.max_tokens {
            options.insert("num_predict".into(), json!(n));
        }
        let mut body = Map::new();
        body.insert(
            "model".into(),
            json!(request.params.model.as_deref().unwrap_or(&self.model)),
        );
        body.insert("messages".into(), Json::Array(messages));
        body.insert("stream".into(), json!(false));
        body.insert("format".into(), request.schema.clone());
        body.insert("logprobs".into(), json!(true));
        if !options.is_empty() {
            body.insert("options".into(), Json::Object(options));
        }
        Json::Object(body)
    }
}

impl Provider for Ollama {
    fn name(&self) -> &str {
        "ollama"
    }
    fn needs_object_root(&self) -> bool {
        false
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

/// Read an `/api/chat` reply.
fn parse_reply(reply: &Json) -> Result<ProviderAnswer, ProviderError> {
    if let Some(error) = reply.get("error").and_then(Json::as_str) {
        // Ollama reports some failures in a 200 body.
        return Err(ProviderError::Malformed(format!("Ollama: {error}")));
    }
    let text = reply
        .pointer("/message/content")
        .and_then(Json::as_str)
        .ok_or_else(|| {
            ProviderError::Malformed(format!(
                "the reply has no message content: {}",
                http::preview(&reply.to_string())
            ))
        })?
        .to_string();
    let tokens = reply
        .get("logprobs")
        .and_then(Json::as_array)
        .and_then(|e| answer_tokens(e));
    let count = |key: &str| reply.get(key).and_then(Json::as_u64).unwrap_or(0);
    let usage = Usage {
        input_tokens: count("prompt_eval_count"),
        output_tokens: count("eval_count"),
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
