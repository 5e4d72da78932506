//! The Anthropic adapter against a local server speaking the Messages API
//! wire format: the exact request it sends (the answer forced through one
//! tool), and how each kind of reply comes back.

// Tests may panic on what they did not expect: that is how they fail.
#![allow(clippy::unwrap_used)]

mod common;

use common::{block_on, person_request, person_structs, MockServer, Reply};
use serde_json::{json, Value as Json};
use std::time::Duration;
use turn_bytecode::Ty;
use turn_infer::confidence::{Source, DEFAULT};
use turn_infer::engine::{self, Options, Target};
use turn_infer::providers::anthropic::Anthropic;
use turn_infer::providers::{Provider, RetryPolicy, Retrying};
use turn_infer::{Message, ModelParams, ProviderError, Usage};
use turn_vm::Value;

const KEY: &str = "sk-ant-test-0123456789";
const TIMEOUT: Duration = Duration::from_secs(10);

/// A Messages API reply whose content is `content`.
fn message(content: Json, stop_reason: &str, input_tokens: u64, output_tokens: u64) -> Json {
    json!({
        "id": "msg_01Aq9w938a90dw8q",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": null,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "service_tier": "standard"
        }
    })
}

/// The reply to a forced tool call: one `tool_use` block.
fn tool_use(name: &str, input: Json, input_tokens: u64, output_tokens: u64) -> Json {
    message(
        json!([{ "type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": name, "input": input }]),
        "tool_use",
        input_tokens,
        output_tokens,
    )
}

fn error_body(kind: &str, message: &str) -> Json {
    json!({ "type": "error", "error": { "type": kind, "message": message }, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy" })
}

fn retrying(p: Anthropic) -> Retrying<Anthropic> {
    Retrying {
        inner: p,
        policy: RetryPolicy {
            attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            timeout: TIMEOUT,
        },
    }
}

fn tool_description() -> &'static str {
    "Give the answer to the user's request as a `Person` value, matching the input schema exactly."
}

#[test]
fn sends_a_messages_request_with_one_forced_tool_and_reads_its_input() {
    let server = MockServer::start(vec![Reply::json(
        200,
        tool_use(
            "Person",
            json!({ "name": "Ada Lovelace", "age": 36, "nick": null }),
            472,
            89,
        ),
    )]);
    let provider = Anthropic::new(server.config(Some(KEY), TIMEOUT)).unwrap();
    let answer = block_on(provider.complete(&person_request())).unwrap();
    let seen = server.finish();

    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v1/messages");
    assert_eq!(r.header("x-api-key"), Some(KEY));
    assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("authorization"), None);
    let schema = turn_sema::schema_for(&Ty::Struct(0), &person_structs());
    assert_eq!(
        r.json(),
        json!({
            "model": "test-model",
            "max_tokens": 4096,
            "system": "You are a careful archivist.\n\nAnswer from the record only.",
            "messages": [
                { "role": "user", "content": "Who wrote the first published program?" }
            ],
            "tools": [{ "name": "Person", "description": tool_description(), "input_schema": schema }],
            "tool_choice": { "type": "tool", "name": "Person" }
        })
    );
    assert!(!r.body.contains(KEY));

    // The tool input, serialized with its keys in the order the model wrote them.
    assert_eq!(
        answer.text,
        "{\"name\":\"Ada Lovelace\",\"age\":36,\"nick\":null}"
    );
    assert_eq!(answer.tokens, None);
    assert_eq!(answer.confidence, None);
    assert_eq!(
        answer.usage,
        Usage {
            input_tokens: 472,
            output_tokens: 89
        }
    );
    assert_eq!(answer.model.as_deref(), Some("claude-sonnet-4-5-20250929"));
}

#[test]
fn params_that_are_set_are_sent_and_there_is_no_system_field_without_system_messages() {
    let server = MockServer::start(vec![Reply::json(200, tool_use("Person", json!({}), 1, 1))]);
    let provider = Anthropic::new(server.config(Some(KEY), TIMEOUT)).unwrap();
    let mut request = person_request();
    request
        .messages
        .retain(|m| m.role != turn_infer::Role::System);
    request.params = ModelParams {
        model: Some("claude-haiku-4-5".into()),
        temperature: Some(0.0),
        max_tokens: Some(1000),
        seed: Some(7),
    };
    block_on(provider.complete(&request)).unwrap();
    let body = server.finish()[0].json();
    assert_eq!(body["model"], "claude-haiku-4-5");
    assert_eq!(body["max_tokens"], 1000);
    assert_eq!(body["temperature"], 0.0);
    assert!(body.get("system").is_none(), "{body}");
    assert!(
        body.get("seed").is_none(),
        "the Messages API has no seed: {body}"
    );
}

#[test]
fn rate_limit_with_retry_after_zero_is_retried_then_answers() {
    let server = MockServer::start(vec![
        Reply::json(
            429,
            error_body(
                "rate_limit_error",
                "Number of request tokens has exceeded your per-minute rate limit",
            ),
        )
        .header("retry-after", "0"),
        Reply::json(
            200,
            tool_use(
                "Person",
                json!({ "name": "Ada", "age": 36, "nick": null }),
                10,
                5,
            ),
        ),
    ]);
    let provider = retrying(Anthropic::new(server.config(Some(KEY), TIMEOUT)).unwrap());
    let answer = block_on(provider.complete(&person_request())).unwrap();
    let seen = server.finish();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].body, seen[1].body, "the retry repeats the request");
    assert_eq!(answer.text, "{\"name\":\"Ada\",\"age\":36,\"nick\":null}");
}

#[test]
fn a_server_error_is_retried_then_answers() {
    let server = MockServer::start(vec![
        Reply::json(500, error_body("api_error", "Internal server error")),
        Reply::json(
            200,
            tool_use(
                "Person",
                json!({ "name": "Ada", "age": 36, "nick": null }),
                10,
                5,
            ),
        ),
    ]);
    let provider = retrying(Anthropic::new(server.config(Some(KEY), TIMEOUT)).unwrap());
    let answer = block_on(provider.complete(&person_request())).unwrap();
    assert_eq!(server.finish().len(), 2);
    assert_eq!(
        answer.usage,
        Usage {
            input_tokens: 10,
            output_tokens: 5
        }
    );
}

#[test]
fn a_slow_answer_is_a_timeout() {
    let server = MockServer::start(vec![
        Reply::json(200, tool_use("Person", json!({}), 1, 1)).delay(Duration::from_secs(1))
    ]);
    let provider = Anthropic::new(server.config(Some(KEY), Duration::from_millis(300))).unwrap();
    let err = block_on(provider.complete(&person_request())).unwrap_err();
    server.finish();
    assert_eq!(err, ProviderError::Timeout { seconds: 0.3 });
}

#[test]
fn unauthorized_is_an_http_error_and_not_retried() {
    let server = MockServer::start(vec![
        Reply::json(401, error_body("authentication_error", "invalid x-api-key")),
        Reply::json(200, tool_use("Person", json!({}), 1, 1)),
    ]);
    let provider = retrying(Anthropic::new(server.config(Some("sk-ant-wrong"), TIMEOUT)).unwrap());
    let err = block_on(provider.complete(&person_request())).unwrap_err();
    assert_eq!(server.finish().len(), 1, "a 401 is not retried");
    assert_eq!(
        err,
        ProviderError::Http {
            status: 401,
            message: "invalid x-api-key".into(),
            retry_after: None
        }
    );
}

#[test]
fn a_body_that_is_not_json_is_malformed() {
    let server = MockServer::start(vec![Reply::text(
        200,
        "<html><body>upstream connect error</body></html>",
    )]);
    let provider = Anthropic::new(server.config(Some(KEY), TIMEOUT)).unwrap();
    let err = block_on(provider.complete(&person_request())).unwrap_err();
    server.finish();
    assert!(
        matches!(&err, ProviderError::Malformed(m) if m.contains("<html>")),
        "{err:?}"
    );
}

#[test]
fn json_without_content_is_malformed() {
    let server = MockServer::start(vec![Reply::json(
        200,
        json!({ "id": "msg_1", "type": "message", "role": "assistant" }),
    )]);
    let provider = Anthropic::new(server.config(Some(KEY), TIMEOUT)).unwrap();
    let err = block_on(provider.complete(&person_request())).unwrap_err();
    server.finish();
    assert!(
        matches!(&err, ProviderError::Malformed(m) if m.contains("no content")),
        "{err:?}"
    );
}

#[test]
fn a_reply_without_a_tool_call_is_malformed_and_says_what_the_model_wrote() {
    let server = MockServer::start(vec![Reply::json(
        200,
        message(
            json!([{ "type": "text", "text": "Which program do you mean?" }]),
            "end_turn",
            30,
            8,
        ),
    )]);
    let provider = Anthropic::new(server.config(Some(KEY), TIMEOUT)).unwrap();
    let err = block_on(provider.complete(&person_request())).unwrap_err();
    server.finish();
    match err {
        ProviderError::Malformed(m) => {
            assert!(m.contains("no tool_use block"), "{m}");
            assert!(m.contains("end_turn"), "{m}");
            assert!(m.contains("Which program do you mean?"), "{m}");
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[test]
fn a_refusal_stop_reason_is_a_refusal() {
    let server = MockServer::start(vec![Reply::json(
        200,
        message(
            json!([{ "type": "text", "text": "Hello.." }]),
            "refusal",
            30,
            2,
        ),
    )]);
    let provider = retrying(Anthropic::new(server.config(Some(KEY), TIMEOUT)).unwrap());
    let err = block_on(provider.complete(&person_request())).unwrap_err();
    assert_eq!(server.finish().len(), 1, "a refusal is not retried");
    assert_eq!(err, ProviderError::Refusal("Hello..".into()));
}

#[test]
fn debug_does_not_show_the_key() {
    let provider = Anthropic::new(turn_infer::providers::ApiConfig {
        base_url: "https://api.anthropic.com/v1".into(),
        api_key: Some(KEY.into()),
        model: "claude-sonnet-4-5".into(),
        timeout: TIMEOUT,
    })
    .unwrap();
    let shown = format!("{provider:?}");
    assert!(!shown.contains(KEY), "{shown}");
    assert!(shown.contains("<redacted>"), "{shown}");
    assert_eq!(provider.name(), "anthropic");
    assert!(provider.needs_object_root());
}

#[test]
fn infer_reasks_with_the_reasons_and_uses_the_default_confidence() {
    let server = MockServer::start(vec![
        Reply::json(
            200,
            tool_use(
                "Person",
                json!({ "name": "Ada Lovelace", "age": "thirty-six", "nick": null }),
                400,
                30,
            ),
        ),
        Reply::json(
            200,
            tool_use(
                "Person",
                json!({ "name": "Ada Lovelace", "age": 36, "nick": "Ada" }),
                470,
                28,
            ),
        ),
    ]);
    let provider = retrying(Anthropic::new(server.config(Some(KEY), TIMEOUT)).unwrap());
    let structs = person_structs();
    let target = Target {
        ty: &Ty::Struct(0),
        structs: &structs,
    };
    let options = Options {
        retries: 2,
        params: ModelParams::default(),
    };
    let prompt = "Who wrote the first published program?";
    let out = block_on(engine::infer(
        &provider,
        &target,
        vec![Message::system("You are a careful archivist.")],
        prompt,
        &options,
        &mut |_| {},
    ))
    .unwrap();
    let seen = server.finish();

    assert_eq!(seen.len(), 2);
    let second = seen[1].json();
    assert_eq!(second["system"], "You are a careful archivist.");
    let messages = second["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[0]["role"], "user");
    assert!(messages[0]["content"].as_str().unwrap().starts_with(prompt));
    assert_eq!(
        messages[1],
        json!({ "role": "assistant", "content": "{\"name\":\"Ada Lovelace\",\"age\":\"thirty-six\",\"nick\":null}" })
    );
    assert_eq!(messages[2]["role"], "user");
    let reasons = messages[2]["content"].as_str().unwrap();
    assert!(
        reasons.contains("/age: expected a number, found a string"),
        "{reasons}"
    );
    assert_eq!(
        second["tool_choice"],
        json!({ "type": "tool", "name": "Person" })
    );

    assert_eq!(out.attempts, 2);
    assert_eq!(
        out.raw,
        "{\"name\":\"Ada Lovelace\",\"age\":36,\"nick\":\"Ada\"}"
    );
    assert_eq!(
        out.usage,
        Usage {
            input_tokens: 870,
            output_tokens: 58
        }
    );
    assert_eq!(out.model.as_deref(), Some("claude-sonnet-4-5-20250929"));
    // No log-probabilities from the Messages API: the neutral default.
    assert_eq!(out.confidence.source, Source::Default);
    assert_eq!(out.confidence.value, DEFAULT);
    let Value::Uncertain(u) = &out.value else {
        panic!("expected an uncertain value, got {:?}", out.value)
    };
    assert_eq!(u.confidence, 0.5);
    let Value::Struct(s) = &u.value else {
        panic!("expected a struct, got {:?}", u.value)
    };
    assert_eq!(s.fields[0].as_str(), Some("Ada Lovelace"));
    assert_eq!(s.fields[1].as_num(), Some(36.0));
    assert_eq!(s.fields[2].as_str(), Some("Ada"));
}

#[test]
fn a_list_target_is_asked_for_inside_an_object_root() {
    let server = MockServer::start(vec![Reply::json(
        200,
        tool_use(
            "List_Str",
            json!({ "value": ["Ada Lovelace", "Charles Babbage"] }),
            50,
            12,
        ),
    )]);
    let provider = Anthropic::new(server.config(Some(KEY), TIMEOUT)).unwrap();
    let ty = Ty::List(Box::new(Ty::Str));
    let target = Target {
        ty: &ty,
        structs: &[],
    };
    let out = block_on(engine::infer(
        &provider,
        &target,
        Vec::new(),
        "Name the two authors.",
        &Options::default(),
        &mut |_| {},
    ))
    .unwrap();
    let body = server.finish()[0].json();

    let tool = &body["tools"][0];
    assert_eq!(tool["name"], "List_Str");
    assert_eq!(
        tool["input_schema"],
        json!({
            "type": "object",
            "properties": { "value": { "type": "array", "items": { "type": "string" } } },
            "required": ["value"],
            "additionalProperties": false
        })
    );
    assert!(
        tool["description"].as_str().unwrap().contains("wrapped"),
        "{tool}"
    );
    assert!(body.get("system").is_none());

    let Value::Uncertain(u) = &out.value else {
        panic!("expected an uncertain value, got {:?}", out.value)
    };
    let Value::List(items) = &u.value else {
        panic!("expected a list, got {:?}", u.value)
    };
    let names: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
    assert_eq!(names, ["Ada Lovelace", "Charles Babbage"]);
}
