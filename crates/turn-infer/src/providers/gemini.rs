//! The Google Gemini adapter: `POST {base_url}/models/{model}:generateContent`
//! (the Gemini Developer API, `v1beta`) with a response schema.
//!
//! The key goes only in the `x-goog-api-key` header, never in the URL, so it
//! cannot land in a log line that prints URLs. System messages become the
//! `systemInstruction`; the others become `contents` with the roles `user`
//! and `model`. `generationConfig` asks for `application/json` with the
//! target's schema, plus `temperature`, `maxOutputTokens` and `seed` when set.
//!
//! # The schema
//!
//! `responseSchema` takes Gemini's `Schema` object, a subset of the OpenAPI
//! 3.0 schema, not JSON Schema. [`to_gemini_schema`] converts ours:
//!
//! - `type` names become Gemini's (`"string"` -> `"STRING"`, …); a nullable
//!   type (`anyOf: [T, {"type": "null"}]`, or `type: [T, "null"]`) becomes
//!   `T` with `nullable: true`; other `anyOf`/`oneOf` stay `anyOf`.
//! - Objects keep `properties` and `required`, and get `propertyOrdering`
//!   (the fields in declaration order: Gemini otherwise orders them
//!   alphabetically). `additionalProperties: false` is dropped (Gemini only
//!   produces declared properties anyway).
//! - `$ref`s to `#/$defs/…` are inlined. A recursive type is unrolled at most
//!   [`MAX_REF_UNROLL`] times along one path; past that an array of it must
//!   be empty (`maxItems: 0`) and an optional field of it is left out (the
//!   validator reads a missing optional field as `null`).
//! - Kept: `description`, string `enum`s, `format` where Gemini honours it,
//!   `minimum`/`maximum`, `minItems`/`maxItems`. Dropped: `title`, `$defs`,
//!   `$schema` and every other keyword.
//!
//! Some schemas have no `Schema` form: a map (`additionalProperties` with a
//! schema and no properties: Gemini rejects an `OBJECT` without properties),
//! an untyped value (`Any`), `null` alone, `not`, `allOf`. For those the
//! request carries the JSON Schema unchanged in `responseJsonSchema`
//! instead, the alternative Gemini accepts alongside `responseMimeType`.
//! Either way validation checks the answer.
//!
//! # Log-probabilities
//!
//! The request sets `responseLogprobs: true`. Not every model allows it:
//! those answer 400 "Logprobs is not enabled for models/…". Then the same
//! request is sent once more without it and the model is remembered, so
//! later requests do not ask again. `logprobsResult.chosenCandidates` become
//! the answer's tokens and `avgLogprobs` the provider's confidence
//! (`exp(avgLogprobs)`).
//!
//! # The answer
//!
//! The text is `candidates[0].content.parts[*].text` joined (thought parts
//! skipped). A blocked prompt (`promptFeedback.blockReason`) or a candidate
//! stopped for safety (`finishReason` `SAFETY`, `PROHIBITED_CONTENT`, …) is a
//! [`ProviderError::Refusal`]. Usage is `promptTokenCount` in and
//! `candidatesTokenCount` + `thoughtsTokenCount` out (thinking is billed as
//! output); the model is `modelVersion`.
//!
//! This module never logs, traces or formats the API key.

use super::http;
use super::{ApiConfig, BoxFuture, Provider};
use crate::request::{InferRequest, ProviderAnswer, ProviderError, Role, TokenLogprob, Usage};
use serde_json::{json, Map, Value as Json};
use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

/// The public Gemini Developer API.
pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com/v1beta";

/// How many times one `$ref` is inlined inside itself.
pub const MAX_REF_UNROLL: usize = 3;

/// Deeper schemas are not converted (they fall back to `responseJsonSchema`).
const MAX_DEPTH: usize = 48;

/// `finishReason`s that mean the model (or its filters) declined to answer.
const REFUSALS: &[&str] = &[
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
];

/// A Gemini model behind the `generateContent` API.
pub struct Gemini {
    client: reqwest::Client,
    base_url: String,
    api_key: String,
    model: String,
    timeout: Duration,
    /// Models that answered that they give no log-probabilities.
    no_logprobs: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Gemini {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gemini")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Gemini {
    pub fn new(config: ApiConfig) -> Result<Self, ProviderError> {
        let api_key = config
            .api_key
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| ProviderError::Config("the gemini provider needs an API key".into()))?;
        let client = http::client(config.timeout)?;
        let base = config.base_url.trim().trim_end_matches('/');
        let base_url = if base.is_empty() {
            DEFAULT_BASE_URL.to_string()
        } else {
            base.to_string()
        };
        Ok(Gemini {
            client,
            base_url,
            api_key,
            model: config.model,
            timeout: config.timeout,
            no_logprobs: Mutex::new(HashSet::new()),
        })
    }

    /// The URL for `model`, which must be a plain model name (optionally
    /// with the `models/` prefix Gemini itself uses).
    fn url(&self, model: &str) -> Result<String, ProviderError> {
        let name = model.strip_prefix("models/").unwrap_or(model);
        let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
        if name.is_empty() || !name.chars().all(plain) {
            return Err(ProviderError::Config(format!(
                "`{model}` is not a Gemini model name (letters, digits, `-`, `.`, `_`)"
            )));
        }
        Ok(format!("{}/models/{name}:generateContent", self.base_url))
    }

    fn headers(&self) -> Vec<(String, String)> {
        vec![("x-goog-api-key".to_string(), self.api_key.clone())]
    }

    fn wants_logprobs(&self, model: &str) -> bool {
        self.no_logprobs
            .lock()
            .map(|set| !set.contains(model))
            .unwrap_or(false)
    }

    fn forget_logprobs(&self, model: &str) {
        if let Ok(mut set) = self.no_logprobs.lock() {
            set.insert(model.to_string());
        }
    }
}

impl Provider for Gemini {
    fn name(&self) -> &str {
        "gemini"
    }
    fn complete<'a>(
        &'a self,
        request: &'a InferRequest,
    ) -> BoxFuture<'a, Result<ProviderAnswer, ProviderError>> {
        Box::pin(async move {
            let model = request.params.model.as_deref().unwrap_or(&self.model);
            let url = self.url(model)?;
            let logprobs = self.wants_logprobs(model);
            let headers = self.headers();
            let sent = http::post_json(
                &self.client,
                &url,
                &headers,
                &body(request, logprobs),
                self.timeout,
            )
            .await;
            let reply = match sent {
                Err(ProviderError::Http {
                    status: 400,
                    message,
                    ..
                }) if logprobs && message.to_ascii_lowercase().contains("logprobs") => {
                    self.forget_logprobs(model);
                    http::post_json(
                        &self.client,
                        &url,
                        &headers,
                        &body(request, false),
                        self.timeout,
                    )
                    .await?
                }
                other => other?,
            };
            parse_reply(&reply)
        })
    }
}

/// The `generateContent` body for `request`.
pub fn body(request: &InferRequest, logprobs: bool) -> Json {
    let contents: Vec<Json> = request
        .messages
        .iter()
        .filter_map(|m| {
            let role = match m.role {
                Role::System => return None,
                Role::User => "user",
                Role::Assistant => "model",
            };
            Some(json!({ "role": role, "parts": [{ "text": m.content }] }))
        })
        .collect();
    let mut config = Map::new();
    config.insert("responseMimeType".into(), json!("application/json"));
    match to_gemini_schema(&request.schema) {
        Ok(schema) => config.insert("responseSchema".into(), schema),
        Err(_) => config.insert("responseJsonSchema".into(), request.schema.clone()),
    };
    if logprobs {
        config.insert("responseLogprobs".into(), json!(true));
    }
    if let Some(t) = request.params.temperature {
        config.insert("temperature".into(), json!(t));
    }
    if let Some(n) = request.params.max_tokens {
        config.insert("maxOutputTokens".into(), json!(n));
    }
    if let Some(s) = request.params.seed {
        // Gemini's seed is an int32: keep the low 31 bits.
        config.insert("seed".into(), json!(s & 0x7fff_ffff));
    }
    let mut body = Map::new();
    body.insert("contents".into(), Json::Array(contents));
    if let Some(system) = request.system_text() {
        body.insert(
            "systemInstruction".into(),
            json!({ "parts": [{ "text": system }] }),
        );
    }
    body.insert("generationConfig".into(), Json::Object(config));
    Json::Object(body)
}

/// Read a `generateContent` reply.
fn parse_reply(reply: &Json) -> Result<ProviderAnswer, ProviderError> {
    let shape = || http::preview(&reply.to_string());
    if let Some(reason) = reply
        .pointer("/promptFeedback/blockReason")
        .and_then(Json::as_str)
    {
        let detail = reply
            .pointer("/promptFeedback/blockReasonMessage")
            .and_then(Json::as_str);
        return Err(ProviderError::Refusal(match detail {
            Some(d) => format!("the prompt was blocked ({reason}): {d}"),
            None => format!("the prompt was blocked ({reason})"),
        }));
    }
    let candidate = reply
        .get("candidates")
        .and_then(Json::as_array)
        .and_then(|c| c.first())
        .ok_or_else(|| {
            ProviderError::Malformed(format!("the reply has no candidates: {}", shape()))
        })?;
    let finish = candidate
        .get("finishReason")
        .and_then(Json::as_str)
        .unwrap_or("");
    if REFUSALS.contains(&finish) {
        let detail = candidate.get("finishMessage").and_then(Json::as_str);
        return Err(ProviderError::Refusal(match detail {
            Some(d) => format!("the answer was blocked ({finish}): {d}"),
            None => format!("the answer was blocked ({finish})"),
        }));
    }
    let parts = candidate.pointer("/content/parts").and_then(Json::as_array);
    let texts: Vec<&str> = parts
        .into_iter()
        .flatten()
        .filter(|p| p.get("thought").and_then(Json::as_bool) != Some(true))
        .filter_map(|p| p.get("text").and_then(Json::as_str))
        .collect();
    if texts.is_empty() {
        let finish = if finish.is_empty() { "none" } else { finish };
        return Err(ProviderError::Malformed(format!(
            "the candidate has no text (finishReason: {finish}): {}",
            shape()
        )));
    }
    let text = texts.concat();
    let tokens = candidate
        .pointer("/logprobsResult/chosenCandidates")
        .and_then(Json::as_array)
        .filter(|c| !c.is_empty())
        .map(|chosen| {
            chosen
                .iter()
                .map(|c| TokenLogprob {
                    // Proto3 JSON leaves out default values: an absent
                    // `logProbability` is 0 (a certain token).
                    token: c
                        .get("token")
                        .and_then(Json::as_str)
                        .unwrap_or("")
                        .to_string(),
                    logprob: c
                        .get("logProbability")
                        .map_or(Some(0.0), Json::as_f64)
                        .unwrap_or(f64::NAN),
                })
                .collect()
        });
    let confidence = candidate
        .get("avgLogprobs")
        .and_then(Json::as_f64)
        .filter(|l| l.is_finite())
        .map(|l| l.exp().clamp(0.0, 1.0));
    let count = |key: &str| {
        reply
            .get("usageMetadata")
            .and_then(|u| u.get(key))
            .and_then(Json::as_u64)
            .unwrap_or(0)
    };
    let usage = Usage {
        input_tokens: count("promptTokenCount"),
        output_tokens: count("candidatesTokenCount") + count("thoughtsTokenCount"),
    };
    let model = reply
        .get("modelVersion")
        .and_then(Json::as_str)
        .map(str::to_string);
    Ok(ProviderAnswer {
        text,
        tokens,
        confidence,
        usage,
        model,
    })
}

/// Our JSON Schema in Gemini's `Schema` dialect (see the module doc), or
/// why it has none.
pub fn to_gemini_schema(schema: &Json) -> Result<Json, String> {
    let mut c = Converter {
        root: schema,
        unrolling: Vec::new(),
    };
    c.node(schema, 0)?
        .ok_or_else(|| "the root refers only to itself".to_string())
}

struct Converter<'a> {
    root: &'a Json,
    /// The `$ref`s being inlined on the current path.
    unrolling: Vec<String>,
}

/// What the JSON Schema type names become.
fn gemini_type(t: &str) -> Option<&'static str> {
    Some(match t {
        "string" => "STRING",
        "number" => "NUMBER",
        "integer" => "INTEGER",
        "boolean" => "BOOLEAN",
        "array" => "ARRAY",
        "object" => "OBJECT",
        _ => return None,
    })
}

fn is_null_schema(s: &Json) -> bool {
    s.get("type").and_then(Json::as_str) == Some("null")
}

impl Converter<'_> {
    /// `Ok(None)`: the node was cut at the recursion bound.
    fn node(&mut self, s: &Json, depth: usize) -> Result<Option<Json>, String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "the schema is nested deeper than {MAX_DEPTH} levels"
            ));
        }
        let o = match s {
            Json::Object(o) => o,
            Json::Bool(true) => return Err("an untyped value".into()),
            other => return Err(format!("`{other}` is not a schema Gemini can express")),
        };
        for k in [
            "not",
            "allOf",
            "if",
            "const",
            "patternProperties",
            "prefixItems",
        ] {
            if o.contains_key(k) {
                return Err(format!("`{k}` has no Gemini equivalent"));
            }
        }
        if let Some(r) = o.get("$ref") {
            return self.reference(r, depth);
        }
        if let Some(variants) = o.get("anyOf").or_else(|| o.get("oneOf")) {
            let variants = variants.as_array().ok_or("`anyOf` is not a list")?;
            return self.union(variants, o, depth);
        }
        let (ty, nullable) = match o.get("type") {
            Some(Json::String(t)) => (t.as_str(), false),
            Some(Json::Array(ts)) => {
                let names: Vec<&str> = ts.iter().filter_map(Json::as_str).collect();
                let nullable = names.contains(&"null");
                let rest: Vec<&str> = names.into_iter().filter(|t| *t != "null").collect();
                match rest.as_slice() {
                    [one] => (*one, nullable),
                    [] => return Err("a schema that allows only `null`".into()),
                    many => {
                        // `type: [a, b]` is `anyOf` of each.
                        let variants: Vec<Json> = many
                            .iter()
                            .map(|t| {
                                let mut v = o.clone();
                                v.insert("type".into(), json!(t));
                                Json::Object(v)
                            })
                            .chain(nullable.then(|| json!({ "type": "null" })))
                            .collect();
                        return self.union(&variants, &Map::new(), depth);
                    }
                }
            }
            None if o
                .get("enum")
                .and_then(Json::as_array)
                .is_some_and(|e| e.iter().all(Json::is_string)) =>
            {
                ("string", false)
            }
            None => return Err("an untyped value (any JSON)".into()),
            Some(other) => return Err(format!("`type: {other}` is not a type name")),
        };
        let gtype = gemini_type(ty).ok_or_else(|| format!("the `{ty}` type alone"))?;
        let mut out = Map::new();
        out.insert("type".into(), json!(gtype));
        if nullable {
            out.insert("nullable".into(), json!(true));
        }
        if let Some(d) = o.get("description").filter(|d| d.is_string()) {
            out.insert("description".into(), d.clone());
        }
        match gtype {
            "STRING" => {
                if let Some(e) = o
                    .get("enum")
                    .filter(|e| e.as_array().is_some_and(|a| a.iter().all(Json::is_string)))
                {
                    out.insert("enum".into(), e.clone());
                }
                if let Some(f) = o
                    .get("format")
                    .filter(|f| matches!(f.as_str(), Some("date-time" | "enum")))
                {
                    out.insert("format".into(), f.clone());
                }
            }
            "NUMBER" | "INTEGER" => {
                for k in ["minimum", "maximum"] {
                    if let Some(v) = o.get(k).filter(|v| v.is_number()) {
                        out.insert(k.into(), v.clone());
                    }
                }
                let formats: &[&str] = if gtype == "NUMBER" {
                    &["float", "double"]
                } else {
                    &["int32", "int64"]
                };
                if let Some(f) = o
                    .get("format")
                    .filter(|f| f.as_str().is_some_and(|f| formats.contains(&f)))
                {
                    out.insert("format".into(), f.clone());
                }
            }
            "ARRAY" => {
                let items = o.get("items").ok_or("an array without `items`")?;
                match self.node(items, depth + 1)? {
                    Some(items) => {
                        out.insert("items".into(), items);
                        for k in ["minItems", "maxItems"] {
                            if let Some(v) = o.get(k).filter(|v| v.is_u64()) {
                                out.insert(k.into(), v.clone());
                            }
                        }
                    }
                    // The element type was cut: the array must be empty.
                    None => {
                        out.insert("items".into(), json!({ "type": "STRING" }));
                        out.insert("maxItems".into(), json!(0));
                    }
                }
            }
            "OBJECT" => {
                let empty = Map::new();
                let props = match o.get("properties") {
                    Some(Json::Object(p)) => p,
                    None => &empty,
                    Some(_) => return Err("`properties` is not an object".into()),
                };
                if props.is_empty() {
                    return Err(match o.get("additionalProperties") {
                        Some(Json::Bool(false)) | None => "an object without properties".into(),
                        Some(_) => "an object with free-form keys (a map)".into(),
                    });
                }
                let mut kept = Map::new();
                for (name, p) in props {
                    if let Some(converted) = self.node(p, depth + 1)? {
                        kept.insert(name.clone(), converted);
                    }
                }
                if kept.is_empty() {
                    return Ok(None);
                }
                let required: Vec<Json> = o
                    .get("required")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                    .filter(|r| r.as_str().is_some_and(|r| kept.contains_key(r)))
                    .cloned()
                    .collect();
                let order: Vec<Json> = kept.keys().map(|k| json!(k)).collect();
                out.insert("properties".into(), Json::Object(kept));
                if !required.is_empty() {
                    out.insert("required".into(), Json::Array(required));
                }
                out.insert("propertyOrdering".into(), Json::Array(order));
            }
            _ => {}
        }
        Ok(Some(Json::Object(out)))
    }

    /// `anyOf`: a nullable type, or a union Gemini takes as `anyOf`.
    fn union(
        &mut self,
        variants: &[Json],
        outer: &Map<String, Json>,
        depth: usize,
    ) -> Result<Option<Json>, String> {
        let nullable = variants.iter().any(is_null_schema);
        let mut kept = Vec::new();
        let mut cut = false;
        for v in variants.iter().filter(|v| !is_null_schema(v)) {
            match self.node(v, depth + 1)? {
                Some(mut c) => {
                    if nullable {
                        if let Some(m) = c.as_object_mut() {
                            m.insert("nullable".into(), json!(true));
                        }
                    }
                    kept.push(c);
                }
                None => cut = true,
            }
        }
        let mut out = match kept.len() {
            0 if cut => return Ok(None),
            0 => return Err("a schema that allows only `null`".into()),
            1 => kept.remove(0),
            _ => json!({ "anyOf": kept }),
        };
        if let (Some(d), Some(m)) = (
            outer.get("description").filter(|d| d.is_string()),
            out.as_object_mut(),
        ) {
            m.entry("description").or_insert_with(|| d.clone());
        }
        Ok(Some(out))
    }

    /// Inline a `$ref` (to the root, `#/$defs/…` or `#/definitions/…`).
    fn reference(&mut self, r: &Json, depth: usize) -> Result<Option<Json>, String> {
        let r = r.as_str().ok_or("`$ref` is not a string")?;
        let target = if r == "#" {
            Some(self.root)
        } else {
            let pointer = r
                .strip_prefix('#')
                .ok_or_else(|| format!("the `$ref` `{r}` is not local"))?;
            self.root.pointer(pointer)
        };
        let target = target.ok_or_else(|| format!("the `$ref` `{r}` points nowhere"))?;
        if self.unrolling.iter().filter(|u| *u == r).count() >= MAX_REF_UNROLL {
            return Ok(None);
        }
        self.unrolling.push(r.to_string());
        let out = self.node(target, depth + 1);
        self.unrolling.pop();
        out
    }
}
