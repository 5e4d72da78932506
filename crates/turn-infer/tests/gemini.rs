//! The Gemini adapter against a local server speaking `generateContent`:
//! the exact request (path with the model, the key header, the body and the
//! converted schema) and the answers Gemini gives (text, log-probabilities,
//! usage, safety blocks, errors).

mod mock;

use mock::{MockServer, Reply};
use serde_json::{json, Value as Json};
use std::time::Duration;
use turn_infer::providers::gemini::{self, Gemini};
use turn_infer::providers::{ApiConfig, Provider, RetryPolicy, Retrying};
use turn_infer::{InferRequest, Message, ModelParams, ProviderError};

const KEY: &str = "test-gemini-key-0042";

fn config(server: &MockServer, timeout: Duration) -> ApiConfig {
    ApiConfig {
        base_url: format!("{}/v1beta/", server.url),
        api_key: Some(KEY.to_string()),
        model: "gemini-2.0-flash".to_string(),
        timeout,
    }
}

fn person_schema() -> Json {
    json!({
        "type": "object",
        "title": "Person",
        "properties": {
            "name": { "type": "string" },
            "age": { "type": "number" },
            "nick": { "anyOf": [{ "type": "string" }, { "type": "null" }] },
            "tags": { "type": "array", "items": { "type": "string" } },
        },
        "required": ["name", "age", "nick", "tags"],
        "additionalProperties": false,
    })
}

fn converted_person() -> Json {
    json!({
        "type": "OBJECT",
        "properties": {
            "name": { "type": "STRING" },
            "age": { "type": "NUMBER" },
            "nick": { "type": "STRING", "nullable": true },
            "tags": { "type": "ARRAY", "items": { "type": "STRING" } },
        },
        "required": ["name", "age", "nick", "tags"],
        "propertyOrdering": ["name", "age", "nick", "tags"],
    })
}

fn request(schema: Json, params: ModelParams) -> InferRequest {
    InferRequest {
        messages: vec![
            Message::system("You extract people."),
            Message::system("Be exact."),
            Message::user("Who wrote the first program?"),
            Message::assistant("{\"name\": \"Ada\"}"),
            Message::user("Give the whole record for Ada Lovelace."),
        ],
        schema,
        wrapped: false,
        type_name: "Person".to_string(),
        params,
    }
}

fn answer_text() -> &'static str {
    "{\"name\": \"Ada Lovelace\", \"age\": 36, \"nick\": null, \"tags\": []}"
}

/// A reply in the shape the Gemini API documents for `generateContent`.
fn ok_reply() -> Json {
    let text = answer_text();
    json!({
        "candidates": [{
            "content": {
                "parts": [
                    { "text": "Thinking about Ada…", "thought": true },
                    { "text": &text[..20] },
                    { "text": &text[20..] },
                ],
                "role": "model",
            },
            "finishReason": "STOP",
            "index": 0,
            "avgLogprobs": -0.105,
            "logprobsResult": {
                "topCandidates": [],
                "chosenCandidates": [
                    { "token": &text[..20], "logProbability": -0.01 },
                    { "token": &text[20..], "tokenId": 12 },
                ],
            },
        }],
        "usageMetadata": {
            "promptTokenCount": 41,
            "candidatesTokenCount": 19,
            "thoughtsTokenCount": 5,
            "totalTokenCount": 65,
            "promptTokensDetails": [{ "modality": "TEXT", "tokenCount": 41 }],
        },
        "modelVersion": "gemini-2.0-flash-001",
        "responseId": "mH9aaJ3kB9OvnvgP0Y2xkAs",
    })
}

fn gemini_error(code: u16, status: &str, message: &str) -> Json {
    json!({ "error": { "code": code, "message": message, "status": status } })
}

#[tokio::test]
async fn request_shape_and_answer() {
    let server = MockServer::start(vec![Reply::json(200, &ok_reply())]);
    let provider = Gemini::new(config(&server, Duration::from_secs(5))).expect("provider");
    let params = ModelParams {
        model: None,
        temperature: Some(0.2),
        max_tokens: Some(256),
        seed: Some(7),
    };
    let answer = provider
        .complete(&request(person_schema(), params))
        .await
        .expect("an answer");
    let seen = server.finish();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.url, "/v1beta/models/gemini-2.0-flash:generateContent");
    assert_eq!(r.header("x-goog-api-key"), Some(KEY));
    assert!(!r.url.contains(KEY), "the key must not be in the URL");
    assert_eq!(r.header("authorization"), None);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body = r.json();
    let expected = json!({
        "contents": [
            { "role": "user", "parts": [{ "text": "Who wrote the first program?" }] },
            { "role": "model", "parts": [{ "text": "{\"name\": \"Ada\"}" }] },
            { "role": "user", "parts": [{ "text": "Give the whole record for Ada Lovelace." }] },
        ],
        "systemInstruction": { "parts": [{ "text": "You extract people.\n\nBe exact." }] },
        "generationConfig": {
            "responseMimeType": "application/json",
            "responseSchema": converted_person(),
            "responseLogprobs": true,
            "temperature": 0.2,
            "maxOutputTokens": 256,
            "seed": 7,
        },
    });
    assert_eq!(body, expected);
    // Map equality ignores order; the ordering Gemini gets is explicit.
    let keys: Vec<&String> = body["generationConfig"]["responseSchema"]["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .collect();
    assert_eq!(keys, ["name", "age", "nick", "tags"]);

    assert_eq!(answer.text, answer_text());
    let tokens = answer.tokens.expect("tokens");
    assert_eq!(tokens.len(), 2);
    assert_eq!(
        tokens.iter().map(|t| t.token.as_str()).collect::<String>(),
        answer_text()
    );
    assert_eq!(tokens[0].logprob, -0.01);
    assert_eq!(tokens[1].logprob, 0.0, "an omitted logProbability is 0");
    let confidence = answer.confidence.expect("confidence from avgLogprobs");
    assert!((confidence - (-0.105f64).exp()).abs() < 1e-12);
    assert_eq!(answer.usage.input_tokens, 41);
    assert_eq!(answer.usage.output_tokens, 24);
    assert_eq!(answer.model.as_deref(), Some("gemini-2.0-flash-001"));
}

#[tokio::test]
async fn request_model_overrides_and_no_optional_fields() {
    let server = MockServer::start(vec![Reply::json(200, &ok_reply())]);
    let provider = Gemini::new(config(&server, Duration::from_secs(5))).expect("provider");
    let mut req = request(
        person_schema(),
        ModelParams {
            model: Some("models/gemini-2.5-pro".into()),
            ..Default::default()
        },
    );
    req.messages.retain(|m| m.role != turn_infer::Role::System);
    provider.complete(&req).await.expect("an answer");
    let seen = server.finish();
    assert_eq!(seen[0].url, "/v1beta/models/gemini-2.5-pro:generateContent");
    let body = seen[0].json();
    assert!(body.get("systemInstruction").is_none());
    assert_eq!(
        body["generationConfig"],
        json!({ "responseMimeType": "application/json", "responseSchema": converted_person(), "responseLogprobs": true })
    );
}

#[test]
fn schema_conversion_keeps_what_gemini_reads() {
    let schema = json!({
        "type": "object",
        "title": "Order",
        "description": "One order.",
        "properties": {
            "id": { "type": "integer", "format": "int64", "minimum": 1 },
            "status": { "enum": ["open", "shipped"] },
            "when": { "type": "string", "format": "date-time", "pattern": "^2" },
            "price": { "type": ["number", "null"], "format": "currency" },
            "lines": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": { "sku": { "type": "string" }, "qty": { "type": "integer" } },
                    "required": ["sku"],
                    "additionalProperties": false,
                },
            },
            "either": { "anyOf": [{ "type": "string" }, { "type": "boolean" }, { "type": "null" }] },
        },
        "required": ["id", "status", "when", "price", "lines", "either"],
        "additionalProperties": false,
        "$schema": "https://json-schema.org/draft/2020-12/schema",
    });
    let converted = gemini::to_gemini_schema(&schema).expect("convertible");
    assert_eq!(
        converted,
        json!({
            "type": "OBJECT",
            "description": "One order.",
            "properties": {
                "id": { "type": "INTEGER", "format": "int64", "minimum": 1 },
                "status": { "type": "STRING", "enum": ["open", "shipped"] },
                "when": { "type": "STRING", "format": "date-time" },
                "price": { "type": "NUMBER", "nullable": true },
                "lines": {
                    "type": "ARRAY",
                    "minItems": 1,
                    "items": {
                        "type": "OBJECT",
                        "properties": { "sku": { "type": "STRING" }, "qty": { "type": "INTEGER" } },
                        "required": ["sku"],
                        "propertyOrdering": ["sku", "qty"],
                    },
                },
                "either": { "anyOf": [
                    { "type": "STRING", "nullable": true },
                    { "type": "BOOLEAN", "nullable": true },
                ] },
            },
            "required": ["id", "status", "when", "price", "lines", "either"],
            "propertyOrdering": ["id", "status", "when", "price", "lines", "either"],
        })
    );
}

/// `struct Tree { label: Str, children: List<Tree>, parent: Tree? }` as the
/// schema generator writes it: the recursion is a `$ref` into `$defs`.
#[test]
fn recursive_schema_is_unrolled_with_a_bound() {
    use turn_sema::{StructDef, Ty};
    let tree = StructDef {
        name: "Tree".into(),
        fields: vec![
            ("label".into(), Ty::Str),
            ("children".into(), Ty::List(Box::new(Ty::Struct(0)))),
            ("parent".into(), Ty::Optional(Box::new(Ty::Struct(0)))),
        ],
        file: 0,
    };
    let schema = turn_sema::schema_for(&Ty::Struct(0), &[tree]);
    assert!(
        schema.get("$defs").is_some(),
        "the generator uses $defs for recursion: {schema}"
    );
    let converted = gemini::to_gemini_schema(&schema).expect("convertible");
    assert!(!converted.to_string().contains("$ref"));

    // Level n has children of level n + 1; past MAX_REF_UNROLL inlinings the
    // array must stay empty and the optional parent is left out.
    fn level(n: usize) -> Json {
        if n == gemini::MAX_REF_UNROLL {
            return json!({
                "type": "OBJECT",
                "properties": {
                    "label": { "type": "STRING" },
                    "children": { "type": "ARRAY", "items": { "type": "STRING" }, "maxItems": 0 },
                },
                "required": ["label", "children"],
                "propertyOrdering": ["label", "children"],
            });
        }
        let mut parent = level(n + 1);
        parent["nullable"] = json!(true);
        json!({
            "type": "OBJECT",
            "properties": {
                "label": { "type": "STRING" },
                "children": { "type": "ARRAY", "items": level(n + 1) },
                "parent": parent,
            },
            "required": ["label", "children", "parent"],
            "propertyOrdering": ["label", "children", "parent"],
        })
    }
    assert_eq!(converted, level(0));
}

#[test]
fn schemas_without_a_gemini_form_go_as_response_json_schema() {
    // `Map<Num>`: free-form keys; an `Any` field; `Void`.
    let map = json!({ "type": "object", "additionalProperties": { "type": "number" } });
    let any = json!({ "type": "object", "properties": { "x": {} }, "required": ["x"] });
    let null = json!({ "type": "null" });
    for schema in [map, any, null] {
        assert!(gemini::to_gemini_schema(&schema).is_err(), "{schema}");
        let body = gemini::body(&request(schema.clone(), ModelParams::default()), false);
        assert_eq!(
            body["generationConfig"],
            json!({ "responseMimeType": "application/json", "responseJsonSchema": schema })
        );
    }
}

#[tokio::test]
async fn primitive_target_through_the_engine() {
    use turn_infer::engine::{Options, Target};
    let reply = json!({
        "candidates": [{ "content": { "parts": [{ "text": "{\"value\": 42}" }], "role": "model" }, "finishReason": "STOP" }],
        "usageMetadata": { "promptTokenCount": 30, "candidatesTokenCount": 6, "totalTokenCount": 36 },
        "modelVersion": "gemini-2.0-flash",
    });
    let server = MockServer::start(vec![Reply::json(200, &reply)]);
    let provider = Gemini::new(config(&server, Duration::from_secs(5))).expect("provider");
    let target = Target {
        ty: &turn_sema::Ty::Num,
        structs: &[],
    };
    let out = turn_infer::infer(
        &provider,
        &target,
        Vec::new(),
        "The answer?",
        &Options::default(),
        &mut |_| {},
    )
    .await
    .expect("a number");
    assert_eq!(out.raw, "{\"value\": 42}");
    assert!(format!("{:?}", out.value).contains("42"), "{:?}", out.value);
    let seen = server.finish();
    assert_eq!(
        seen[0].json()["generationConfig"]["responseSchema"],
        json!({
            "type": "OBJECT",
            "properties": { "value": { "type": "NUMBER" } },
            "required": ["value"],
            "propertyOrdering": ["value"],
        })
    );
}

#[tokio::test]
async fn model_without_logprobs_is_asked_again_without_them() {
    let refusal = gemini_error(
        400,
        "INVALID_ARGUMENT",
        "Logprobs is not enabled for models/gemini-2.0-flash",
    );
    let server = MockServer::start(vec![
        Reply::json(400, &refusal),
        Reply::json(200, &ok_reply()),
        Reply::json(200, &ok_reply()),
    ]);
    let provider = Gemini::new(config(&server, Duration::from_secs(5))).expect("provider");
    let req = request(person_schema(), ModelParams::default());
    provider
        .complete(&req)
        .await
        .expect("the second try answers");
    provider
        .complete(&req)
        .await
        .expect("later requests do not ask");
    let seen = server.finish();
    assert_eq!(seen.len(), 3);
    assert_eq!(
        seen[0].json()["generationConfig"]["responseLogprobs"],
        json!(true)
    );
    assert!(seen[1].json()["generationConfig"]
        .get("responseLogprobs")
        .is_none());
    assert!(seen[2].json()["generationConfig"]
        .get("responseLogprobs")
        .is_none());
}

#[tokio::test]
async fn rate_limit_then_success_through_retrying() {
    let limited = gemini_error(
        429,
        "RESOURCE_EXHAUSTED",
        "Resource has been exhausted (e.g. check quota).",
    );
    let server = MockServer::start(vec![
        Reply::json(429, &limited).header("retry-after", "0"),
        Reply::json(200, &ok_reply()),
    ]);
    let provider = Retrying {
        inner: Gemini::new(config(&server, Duration::from_secs(5))).expect("provider"),
        policy: RetryPolicy {
            attempts: 3,
            base_delay: Duration::from_secs(20),
            max_delay: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
        },
    };
    let started = std::time::Instant::now();
    let answer = provider
        .complete(&request(person_schema(), ModelParams::default()))
        .await
        .expect("an answer");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "retry-after: 0 is honoured over the base delay"
    );
    assert_eq!(answer.text, answer_text());
    assert_eq!(server.finish().len(), 2);
}

#[tokio::test]
async fn errors_map_to_provider_errors() {
    let server = MockServer::start(vec![
        Reply::json(
            500,
            &gemini_error(500, "INTERNAL", "An internal error has occurred."),
        ),
        Reply::json(
            429,
            &gemini_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded."),
        )
        .header("retry-after", "7"),
        Reply::json(
            403,
            &gemini_error(
                403,
                "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers.",
            ),
        ),
        Reply::text(200, "<html>not json</html>"),
        Reply::json(200, &json!({ "usageMetadata": { "promptTokenCount": 3 } })),
        Reply::json(
            200,
            &json!({ "candidates": [{ "finishReason": "MAX_TOKENS", "index": 0 }] }),
        ),
    ]);
    let provider = Gemini::new(config(&server, Duration::from_secs(5))).expect("provider");
    let req = request(person_schema(), ModelParams::default());
    let mut errors = Vec::new();
    for _ in 0..6 {
        errors.push(provider.complete(&req).await.expect_err("an error"));
    }
    server.finish();
    assert_eq!(
        errors[0],
        ProviderError::Http {
            status: 500,
            message: "An internal error has occurred.".into(),
            retry_after: None
        }
    );
    assert!(errors[0].is_transient());
    assert_eq!(
        errors[1],
        ProviderError::Http {
            status: 429,
            message: "Quota exceeded.".into(),
            retry_after: Some(7.0)
        }
    );
    assert!(matches!(
        &errors[2],
        ProviderError::Http { status: 403, .. }
    ));
    assert!(!errors[2].is_transient());
    assert!(
        matches!(&errors[3], ProviderError::Malformed(m) if m.contains("not json")),
        "{:?}",
        errors[3]
    );
    assert!(
        matches!(&errors[4], ProviderError::Malformed(m) if m.contains("no candidates")),
        "{:?}",
        errors[4]
    );
    assert!(
        matches!(&errors[5], ProviderError::Malformed(m) if m.contains("MAX_TOKENS")),
        "{:?}",
        errors[5]
    );
}

#[tokio::test]
async fn safety_blocks_are_refusals() {
    let blocked_prompt = json!({
        "promptFeedback": {
            "blockReason": "SAFETY",
            "safetyRatings": [
                { "category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true },
                { "category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE" },
            ],
        },
        "usageMetadata": { "promptTokenCount": 12, "totalTokenCount": 12 },
        "modelVersion": "gemini-2.0-flash",
    });
    let blocked_answer = json!({
        "candidates": [{
            "finishReason": "SAFETY",
            "index": 0,
            "safetyRatings": [
                { "category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "MEDIUM", "blocked": true },
            ],
        }],
        "usageMetadata": { "promptTokenCount": 12, "totalTokenCount": 12 },
        "modelVersion": "gemini-2.0-flash",
    });
    let server = MockServer::start(vec![
        Reply::json(200, &blocked_prompt),
        Reply::json(200, &blocked_answer),
    ]);
    let provider = Gemini::new(config(&server, Duration::from_secs(5))).expect("provider");
    let req = request(person_schema(), ModelParams::default());
    let first = provider.complete(&req).await.expect_err("blocked");
    let second = provider.complete(&req).await.expect_err("blocked");
    server.finish();
    assert_eq!(
        first,
        ProviderError::Refusal("the prompt was blocked (SAFETY)".into())
    );
    assert_eq!(
        second,
        ProviderError::Refusal("the answer was blocked (SAFETY)".into())
    );
    assert!(!first.is_transient());
}

#[tokio::test]
async fn timeout() {
    let server = MockServer::start(vec![
        Reply::json(200, &ok_reply()).delayed(Duration::from_secs(1))
    ]);
    let provider = Gemini::new(config(&server, Duration::from_millis(300))).expect("provider");
    let started = std::time::Instant::now();
    let err = provider
        .complete(&request(person_schema(), ModelParams::default()))
        .await
        .expect_err("a timeout");
    assert!(started.elapsed() < Duration::from_millis(900));
    assert_eq!(err, ProviderError::Timeout { seconds: 0.3 });
    server.finish();
}

#[test]
fn configuration_errors_and_no_key_in_debug() {
    let config = ApiConfig {
        base_url: String::new(),
        api_key: None,
        model: "gemini-2.0-flash".into(),
        timeout: Duration::from_secs(1),
    };
    assert!(matches!(
        Gemini::new(config.clone()),
        Err(ProviderError::Config(_))
    ));
    let provider = Gemini::new(ApiConfig {
        api_key: Some(KEY.into()),
        ..config
    })
    .expect("provider");
    let debug = format!("{provider:?}");
    assert!(!debug.contains(KEY), "{debug}");
    assert!(
        debug.contains(gemini::DEFAULT_BASE_URL),
        "an empty base URL means the public API: {debug}"
    );
}

#[tokio::test]
async fn model_names_cannot_change_the_path() {
    let provider = Gemini::new(ApiConfig {
        base_url: "http://127.0.0.1:9".into(),
        api_key: Some(KEY.into()),
        model: "gemini-2.0-flash".into(),
        timeout: Duration::from_secs(1),
    })
    .expect("provider");
    for bad in ["../files", "m?key=x", "a:b", ""] {
        let req = request(
            person_schema(),
            ModelParams {
                model: Some(bad.into()),
                ..Default::default()
            },
        );
        let err = provider.complete(&req).await.expect_err("refused");
        assert!(matches!(err, ProviderError::Config(_)), "{bad}: {err:?}");
    }
}
