//! The OpenAI-compatible adapter against a local server speaking the Chat
//! Completions wire format: the exact request it sends, and how each kind
//! of reply (answer with log-probabilities, refusal, errors, timeouts,
//! malformed bodies) comes back.

// Tests may panic on what they did not expect: that is how they fail.
#![allow(clippy::unwrap_used)]

mod common;

use common::{block_on, person_request, person_structs, MockServer, Reply};
use serde_json::{json, Value as Json};
use std::time::Duration;
use turn_bytecode::Ty;
use turn_infer::confidence::Source;
use turn_infer::engine::{self, Options, Target};
use turn_infer::providers::openai::{schema_name, strict_compatible, OpenAi};
use turn_infer::providers::{Provider, RetryPolicy, Retrying};
use turn_infer::{Message, ModelParams, ProviderError, TokenLogprob, Usage};
use turn_vm::Value;

const KEY: &str = "sk-test-0123456789";
const TIMEOUT: Duration = Duration::from_secs(10);

/// One log-probability entry as OpenAI sends it.
fn lp(token: &str, logprob: f64) -> Json {
    json!({ "token": token, "logprob": logprob, "bytes": token.as_bytes(), "top_logprobs": [] })
}

/// A chat.completion object in the shape of the API reference's example.
fn completion(
    content: &str,
    logprobs: Option<Vec<Json>>,
    prompt_tokens: u64,
    completion_tokens: u64,
) -> Json {
    json!({
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        "object": "chat.completion",
        "created": 1741570283,
        "model": "gpt-4o-2024-08-06",
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": content, "refusal": null, "annotations": [] },
            "logprobs": logprobs.map(|c| json!({ "content": c, "refusal": null })),
            "finish_reason": "stop"
        }],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": { "cached_tokens": 0, "audio_tokens": 0 },
            "completion_tokens_details": {
                "reasoning_tokens": 0, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0
            }
        },
        "service_tier": "default",
        "system_fingerprint": "fp_fc9f1d7035"
    })
}

fn ada() -> (String, Vec<Json>, Vec<TokenLogprob>) {
    let parts = [
        ("{\"name\":\"", -0.01),
        ("Ada", -0.1),
        ("\",\"age\":", -0.02),
        ("36", -0.5),
        (",\"nick\":", -0.03),
        ("null", -0.2),
        ("}", 0.0),
    ];
    let text: String = parts.iter().map(|p| p.0).collect();
    let entries = parts.iter().map(|(t, l)| lp(t, *l)).collect();
    let tokens = parts
        .iter()
        .map(|(t, l)| TokenLogprob {
            token: t.to_string(),
            logprob: *l,
        })
        .collect();
    (text, entries, tokens)
}

fn error_body(message: &str, kind: &str, code: Option<&str>) -> Json {
    json!({ "error": { "message": message, "type": kind, "param": null, "code": code } })
}

fn retrying(p: OpenAi) -> Retrying<OpenAi> {
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

#[test]
fn sends_a_strict_json_schema_request_and_reads_text_tokens_usage_model() {
    let (text, entries, tokens) = ada();
    let server = MockServer::start(vec![Reply::json(
        200,
        completion(&text, Some(entries), 57, 7),
    )]);
    let provider = OpenAi::new(server.config(Some(KEY), TIMEOUT)).unwrap();
    let mut request = person_request();
    request.params = ModelParams {
        model: Some("gpt-4o-2024-08-06".into()),
        temperature: Some(0.2),
        max_tokens: Some(300),
        seed: Some(7),
    };
    let answer = block_on(provider.complete(&request)).unwrap();
    let seen = server.finish();

    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    let schema = turn_sema::schema_for(&Ty::Struct(0), &person_structs());
    assert_eq!(
        r.json(),
        json!({
            "model": "gpt-4o-2024-08-06",
            "messages": [
                { "role": "system", "content": "You are a careful archivist." },
                { "role": "system", "content": "Answer from the record only." },
                { "role": "user", "content": "Who wrote the first published program?" }
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": { "name": "Person", "strict": true, "schema": schema }
            },
            "logprobs": true,
            "temperature": 0.2,
            "max_completion_tokens": 300,
            "seed": 7
        })
    );
    // The key goes nowhere but the header.
    assert!(!r.body.contains(KEY));

    assert_eq!(answer.text, text);
    assert_eq!(answer.tokens, Some(tokens));
    assert_eq!(answer.confidence, None);
    assert_eq!(
        answer.usage,
        Usage {
            input_tokens: 57,
            output_tokens: 7
        }
    );
    assert_eq!(answer.model.as_deref(), Some("gpt-4o-2024-08-06"));
}

#[test]
fn without_a_key_sends_no_authorization_and_only_the_params_that_are_set() {
    let server = MockServer::start(vec![Reply::json(
        200,
        completion("{\"name\":\"Ada\",\"age\":36,\"nick\":null}", None, 5, 3),
    )]);
    // A local OpenAI-compatible server (vLLM, llama.cpp, LM Studio): no key.
    let provider = OpenAi::new(server.config(None, TIMEOUT)).unwrap();
    let answer = block_on(provider.complete(&person_request())).unwrap();
    let seen = server.finish();

    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("authorization"), None);
    let body = seen[0].json();
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["logprobs"], true);
    for absent in ["temperature", "max_completion_tokens", "max_tokens", "seed"] {
        assert!(
            body.get(absent).is_none(),
            "{absent} sent although unset: {body}"
        );
    }
    assert_eq!(answer.tokens, None, "no logprobs in the reply, no tokens");
}

#[test]
fn an_empty_key_counts_as_no_key() {
    let server = MockServer::start(vec![Reply::json(200, completion("{}", None, 1, 1))]);
    let provider = OpenAi::new(server.config(Some(""), TIMEOUT)).unwrap();
    block_on(provider.complete(&person_request())).unwrap();
    let seen = server.finish();
    assert_eq!(seen[0].header("authorization"), None);
}

#[test]
fn a_trailing_slash_in_the_base_url_is_ignored() {
    let server = MockServer::start(vec![Reply::json(200, completion("{}", None, 1, 1))]);
    let mut config = server.config(None, TIMEOUT);
    config.base_url.push('/');
    block_on(OpenAi::new(config).unwrap().complete(&person_request())).unwrap();
    assert_eq!(server.finish()[0].path, "/v1/chat/completions");
}

#[test]
fn rate_limit_with_retry_after_zero_is_retried_then_answers() {
    let (text, entries, _) = ada();
    let server = MockServer::start(vec![
        Reply::json(429, error_body("Rate limit reached for gpt-4o on requests per min (RPM): Limit 3, Used 3, Requested 1.", "requests", Some("rate_limit_exceeded")))
            .header("retry-after", "0"),
        Reply::json(200, completion(&text, Some(entries), 57, 7)),
    ]);
    let provider = retrying(OpenAi::new(server.config(Some(KEY), TIMEOUT)).unwrap());
    let answer = block_on(provider.complete(&person_request())).unwrap();
    let seen = server.finish();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].body, seen[1].body, "the retry repeats the request");
    assert_eq!(answer.text, text);
}

#[test]
fn a_server_error_is_retried_then_answers() {
    let server = MockServer::start(vec![
        Reply::json(
            500,
            error_body(
                "The server had an error while processing your request. Sorry about that!",
                "server_error",
                None,
            ),
        ),
        Reply::json(
            200,
            completion("{\"name\":\"Ada\",\"age\":36,\"nick\":null}", None, 5, 3),
        ),
    ]);
    let provider = retrying(OpenAi::new(server.config(Some(KEY), TIMEOUT)).unwrap());
    let answer = block_on(provider.complete(&person_request())).unwrap();
    assert_eq!(server.finish().len(), 2);
    assert_eq!(answer.text, "{\"name\":\"Ada\",\"age\":36,\"nick\":null}");
}

#[test]
fn a_slow_answer_is_a_timeout() {
    let server = MockServer::start(vec![
        Reply::json(200, completion("{}", None, 1, 1)).delay(Duration::from_secs(1))
    ]);
    let provider = OpenAi::new(server.config(Some(KEY), Duration::from_millis(300))).unwrap();
    let err = block_on(provider.complete(&person_request())).unwrap_err();
    server.finish();
    assert_eq!(err, ProviderError::Timeout { seconds: 0.3 });
    assert!(err.is_transient());
}

#[test]
fn unauthorized_is_an_http_error_and_not_retried() {
    let server = MockServer::start(vec![
        Reply::json(
            401,
            error_body(
                "Incorrect API key provided: sk-test-****6789.",
                "invalid_request_error",
                Some("invalid_api_key"),
            ),
        ),
        Reply::json(200, completion("{}", None, 1, 1)),
    ]);
    let provider = retrying(OpenAi::new(server.config(Some(KEY), TIMEOUT)).unwrap());
    let err = block_on(provider.complete(&person_request())).unwrap_err();
    assert_eq!(server.finish().len(), 1, "a 401 is not retried");
    match err {
        ProviderError::Http {
            status: 401,
            message,
            retry_after: None,
        } => {
            assert_eq!(message, "Incorrect API key provided: sk-test-****6789.")
        }
        other => panic!("expected HTTP 401, got {other:?}"),
    }
}

#[test]
fn a_body_that_is_not_json_is_malformed() {
    let server = MockServer::start(vec![Reply::text(
        200,
        "<html><body>502 Bad Gateway</body></html>",
    )]);
    let provider = OpenAi::new(server.config(Some(KEY), TIMEOUT)).unwrap();
    let err = block_on(provider.complete(&person_request())).unwrap_err();
    server.finish();
    assert!(
        matches!(&err, ProviderError::Malformed(m) if m.contains("<html>")),
        "{err:?}"
    );
}

#[test]
fn json_without_choices_is_malformed() {
    let server = MockServer::start(vec![
        Reply::json(
            200,
            json!({ "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o", "choices": [] }),
        ),
        Reply::json(200, json!({ "object": "list", "data": [] })),
    ]);
    let provider = OpenAi::new(server.config(Some(KEY), TIMEOUT)).unwrap();
    let first = block_on(provider.complete(&person_request())).unwrap_err();
    let second = block_on(provider.complete(&person_request())).unwrap_err();
    server.finish();
    for err in [first, second] {
        assert!(
            matches!(&err, ProviderError::Malformed(m) if m.contains("no choices")),
            "{err:?}"
        );
    }
}

#[test]
fn a_choice_without_content_is_malformed() {
    let mut reply = completion("", None, 1, 0);
    reply["choices"][0]["message"]["content"] = Json::Null;
    reply["choices"][0]["finish_reason"] = json!("content_filter");
    let server = MockServer::start(vec![Reply::json(200, reply)]);
    let provider = OpenAi::new(server.config(Some(KEY), TIMEOUT)).unwrap();
    let err = block_on(provider.complete(&person_request())).unwrap_err();
    server.finish();
    assert!(
        matches!(&err, ProviderError::Malformed(m) if m.contains("content_filter")),
        "{err:?}"
    );
}

#[test]
fn a_refusal_is_a_refusal() {
    let mut reply = completion("", None, 81, 11);
    reply["choices"][0]["message"] = json!({ "role": "assistant", "content": null, "refusal": "I'm sorry, I cannot assist with that request." });
    reply["choices"][0]["logprobs"] = json!({ "content": null, "refusal": [lp("I'm", -0.1)] });
    let server = MockServer::start(vec![Reply::json(200, reply)]);
    let provider = retrying(OpenAi::new(server.config(Some(KEY), TIMEOUT)).unwrap());
    let err = block_on(provider.complete(&person_request())).unwrap_err();
    assert_eq!(server.finish().len(), 1, "a refusal is not retried");
    assert_eq!(
        err,
        ProviderError::Refusal("I'm sorry, I cannot assist with that request.".into())
    );
}

#[test]
fn an_answer_cut_by_the_length_limit_is_still_returned_as_text() {
    let mut reply = completion(
        "{\"name\":\"Ada Lov",
        Some(vec![lp("{\"name\":\"", -0.1), lp("Ada Lov", -0.2)]),
        50,
        2,
    );
    reply["choices"][0]["finish_reason"] = json!("length");
    let server = MockServer::start(vec![Reply::json(200, reply)]);
    let provider = OpenAi::new(server.config(Some(KEY), TIMEOUT)).unwrap();
    let answer = block_on(provider.complete(&person_request())).unwrap();
    server.finish();
    assert_eq!(answer.text, "{\"name\":\"Ada Lov");
}

#[test]
fn a_character_split_over_tokens_is_rebuilt_from_its_bytes() {
    // "é" is two UTF-8 bytes; OpenAI can return them as two tokens whose
    // `token` strings are placeholders and whose `bytes` are the halves.
    let content = "{\"city\":\"Orléans\"}";
    let entries = vec![
        lp("{\"city\":\"", -0.1),
        lp("Orl", -0.2),
        json!({ "token": "bytes:\\xc3", "logprob": -0.3, "bytes": [0xc3], "top_logprobs": [] }),
        json!({ "token": "bytes:\\xa9", "logprob": -0.4, "bytes": [0xa9], "top_logprobs": [] }),
        lp("ans\"}", -0.5),
    ];
    let server = MockServer::start(vec![Reply::json(
        200,
        completion(content, Some(entries), 9, 5),
    )]);
    let provider = OpenAi::new(server.config(None, TIMEOUT)).unwrap();
    let answer = block_on(provider.complete(&person_request())).unwrap();
    server.finish();
    let tokens = answer.tokens.unwrap();
    let spelled: String = tokens.iter().map(|t| t.token.as_str()).collect();
    assert_eq!(spelled, content);
    assert_eq!(tokens.len(), 4);
    assert_eq!(tokens[2].token, "é");
    assert!(
        (tokens[2].logprob - -0.7).abs() < 1e-12,
        "the character's probability is its parts' product"
    );
}

#[test]
fn tokens_without_bytes_use_the_token_strings() {
    // llama.cpp-style entries: no `bytes`.
    let entries = vec![
        json!({ "token": "{\"a\":", "logprob": -0.1 }),
        json!({ "token": "1}", "logprob": -0.2 }),
    ];
    let server = MockServer::start(vec![Reply::json(
        200,
        completion("{\"a\":1}", Some(entries), 3, 2),
    )]);
    let answer = block_on(
        OpenAi::new(server.config(None, TIMEOUT))
            .unwrap()
            .complete(&person_request()),
    )
    .unwrap();
    server.finish();
    let tokens = answer.tokens.unwrap();
    assert_eq!(
        tokens.iter().map(|t| t.token.as_str()).collect::<String>(),
        "{\"a\":1}"
    );
    assert_eq!(tokens[1].logprob, -0.2);
}

#[test]
fn schemas_strict_mode_cannot_take_are_sent_non_strict() {
    // A `Map<Num>` target: an open object, which strict mode rejects.
    let server = MockServer::start(vec![Reply::json(200, completion("{\"a\":1}", None, 1, 1))]);
    let provider = OpenAi::new(server.config(None, TIMEOUT)).unwrap();
    let mut request = person_request();
    request.schema = turn_sema::schema_for(&Ty::Map(Box::new(Ty::Num)), &[]);
    request.type_name = "Map<Num> / v2".into();
    block_on(provider.complete(&request)).unwrap();
    let body = server.finish()[0].json();
    assert_eq!(body["response_format"]["json_schema"]["strict"], false);
    assert_eq!(
        body["response_format"]["json_schema"]["name"],
        "Map_Num____v2"
    );
    assert_eq!(
        body["response_format"]["json_schema"]["schema"],
        request.schema
    );
}

#[test]
fn strict_mode_takes_every_struct_and_wrapped_schema_the_generator_makes() {
    let structs = vec![
        person_structs().remove(0),
        // `struct Team { lead: Person, members: List<Person>, tags: List<Str>? }`
        turn_bytecode::StructDef {
            name: "Team".into(),
            fields: vec![
                ("lead".into(), Ty::Struct(0)),
                ("members".into(), Ty::List(Box::new(Ty::Struct(0)))),
                (
                    "tags".into(),
                    Ty::Optional(Box::new(Ty::List(Box::new(Ty::Str)))),
                ),
            ],
            file: 0,
        },
        // A struct that contains itself: emitted under `$defs`.
        turn_bytecode::StructDef {
            name: "Node".into(),
            fields: vec![
                ("value".into(), Ty::Num),
                ("next".into(), Ty::Optional(Box::new(Ty::Struct(2)))),
            ],
            file: 0,
        },
    ];
    for ty in [Ty::Struct(0), Ty::Struct(1), Ty::Struct(2)] {
        let schema = turn_sema::schema_for(&ty, &structs);
        assert!(strict_compatible(&schema), "{schema}");
    }
    let wrapped = |inner: Json| json!({ "type": "object", "properties": { "value": inner }, "required": ["value"], "additionalProperties": false });
    for ty in [
        Ty::Str,
        Ty::Num,
        Ty::Bool,
        Ty::Vec,
        Ty::List(Box::new(Ty::Struct(0))),
        Ty::Optional(Box::new(Ty::Num)),
    ] {
        let schema = wrapped(turn_sema::schema_for(&ty, &structs));
        assert!(strict_compatible(&schema), "{schema}");
    }
    // Not strict: an open map, an untyped `Any`, a bare (unwrapped) primitive.
    assert!(!strict_compatible(&turn_sema::schema_for(
        &Ty::Map(Box::new(Ty::Str)),
        &structs
    )));
    assert!(!strict_compatible(&wrapped(turn_sema::schema_for(
        &Ty::Any,
        &structs
    ))));
    assert!(!strict_compatible(&turn_sema::schema_for(
        &Ty::Str,
        &structs
    )));
}

#[test]
fn schema_names_are_sanitized_and_bounded() {
    assert_eq!(schema_name("Person"), "Person");
    assert_eq!(schema_name("List<Str>"), "List_Str_");
    assert_eq!(schema_name("Café-2"), "Caf_-2");
    assert_eq!(schema_name(""), "answer");
    assert_eq!(schema_name(&"x".repeat(100)).len(), 64);
}

#[test]
fn debug_does_not_show_the_key() {
    let provider = OpenAi::new(turn_infer::providers::ApiConfig {
        base_url: "https://api.openai.com/v1".into(),
        api_key: Some(KEY.into()),
        model: "gpt-4o".into(),
        timeout: TIMEOUT,
    })
    .unwrap();
    let shown = format!("{provider:?}");
    assert!(!shown.contains(KEY), "{shown}");
    assert!(shown.contains("<redacted>"), "{shown}");
    assert_eq!(provider.name(), "openai");
    assert!(provider.needs_object_root());
}

#[test]
fn infer_reasks_with_the_reasons_and_scores_confidence_from_logprobs() {
    let rejected = "{\"name\":\"Ada Lovelace\",\"age\":\"thirty-six\",\"nick\":null}";
    let (text, entries, _) = ada();
    let server = MockServer::start(vec![
        Reply::json(
            200,
            completion(rejected, Some(vec![lp(rejected, -0.3)]), 120, 15),
        ),
        Reply::json(200, completion(&text, Some(entries), 180, 7)),
    ]);
    let provider = retrying(OpenAi::new(server.config(Some(KEY), TIMEOUT)).unwrap());
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
    let messages = seen[1].json()["messages"].clone();
    let messages = messages.as_array().unwrap();
    assert_eq!(messages.len(), 4);
    assert_eq!(
        messages[0],
        json!({ "role": "system", "content": "You are a careful archivist." })
    );
    assert_eq!(messages[1]["role"], "user");
    assert!(messages[1]["content"].as_str().unwrap().starts_with(prompt));
    assert_eq!(
        messages[2],
        json!({ "role": "assistant", "content": rejected })
    );
    assert_eq!(messages[3]["role"], "user");
    let reasons = messages[3]["content"].as_str().unwrap();
    assert!(
        reasons.contains("/age: expected a number, found a string"),
        "{reasons}"
    );
    assert_eq!(seen[0].json()["messages"].as_array().unwrap().len(), 2);

    assert_eq!(out.attempts, 2);
    assert_eq!(out.raw, text);
    assert_eq!(
        out.usage,
        Usage {
            input_tokens: 300,
            output_tokens: 22
        }
    );
    assert_eq!(out.model.as_deref(), Some("gpt-4o-2024-08-06"));

    // Tokens and log-probabilities of the accepted answer:
    //   {"name":"  -0.01 | Ada -0.1 | ","age":  -0.02 | 36 -0.5
    //   ,"nick":   -0.03 | null -0.2 | }        0.0
    // value: exp((-0.01-0.1-0.02-0.5-0.03-0.2+0)/7) = exp(-0.86/7) = 0.88438999496…
    // name  ("Ada" with its quotes overlaps the first three tokens):
    //        exp((-0.01-0.1-0.02)/3) = exp(-0.0433…) = 0.957592139…
    // age:   exp(-0.5) = 0.606530659…   nick: exp(-0.2) = 0.818730753…
    let c = &out.confidence;
    assert_eq!(c.source, Source::Logprobs);
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    assert!(close(c.value, 0.8843899949647149), "{}", c.value);
    let fields = c.fields.as_ref().unwrap();
    assert!(close(fields["name"], 0.9575921394817286), "{fields:?}");
    assert!(close(fields["age"], 0.6065306597126334), "{fields:?}");
    assert!(close(fields["nick"], 0.8187307530779818), "{fields:?}");

    let Value::Uncertain(u) = &out.value else {
        panic!("expected an uncertain value, got {:?}", out.value)
    };
    assert!(close(u.confidence, c.value));
    let Value::Struct(s) = &u.value else {
        panic!("expected a struct, got {:?}", u.value)
    };
    assert_eq!(s.sid, 0);
    assert_eq!(s.fields[0].as_str(), Some("Ada"));
    assert_eq!(s.fields[1].as_num(), Some(36.0));
    assert!(matches!(s.fields[2], Value::Null));
}
