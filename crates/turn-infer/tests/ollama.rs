//! The Ollama adapter against a local server speaking `/api/chat`: the exact
//! request (path, no auth, `format` with the schema as it is, `options`) and
//! Ollama's answers (content, token counts, log-probabilities, errors).

mod mock;

use mock::{MockServer, Reply};
use serde_json::{json, Value as Json};
use std::time::Duration;
use turn_infer::providers::ollama::{self, Ollama};
use turn_infer::providers::{ApiConfig, Provider, RetryPolicy, Retrying};
use turn_infer::{InferRequest, Message, ModelParams, ProviderError};

fn config(server: &MockServer, timeout: Duration) -> ApiConfig {
    ApiConfig {
        base_url: server.url.clone(),
        api_key: None,
        model: "llama3.2".to_string(),
        timeout,
    }
}

fn city_schema() -> Json {
    json!({
        "type": "object",
        "title": "City",
        "properties": { "city": { "type": "string" }, "population": { "type": "number" } },
        "required": ["city", "population"],
        "additionalProperties": false,
    })
}

fn request(params: ModelParams) -> InferRequest {
    InferRequest {
        messages: vec![
            Message::system("You answer with facts."),
            Message::user("Largest city in Switzerland?"),
        ],
        schema: city_schema(),
        wrapped: false,
        type_name: "City".to_string(),
        params,
    }
}

const TEXT: &str = "{\"city\":\"Zürich\",\"population\":443037}";

/// A non-streaming `/api/chat` reply as Ollama documents it, with
/// `logprobs` (Ollama 0.12.11+); the `ü` is split over two tokens.
fn ok_reply() -> Json {
    let bytes = |s: &[u8]| Json::Array(s.iter().map(|b| json!(b)).collect());
    json!({
        "model": "llama3.2",
        "created_at": "2025-11-20T14:13:43.416799Z",
        "message": { "role": "assistant", "content": TEXT },
        "done": true,
        "done_reason": "stop",
        "total_duration": 5191566416u64,
        "load_duration": 2154458,
        "prompt_eval_count": 26,
        "prompt_eval_duration": 383809000,
        "eval_count": 14,
        "eval_duration": 4799921000u64,
        "logprobs": [
            { "token": "{\"city\":\"Z", "logprob": -0.01, "bytes": bytes(b"{\"city\":\"Z") },
            { "token": "\u{fffd}", "logprob": -0.2, "bytes": [195] },
            { "token": "\u{fffd}rich\"", "logprob": -0.1, "bytes": bytes(&[188, b'r', b'i', b'c', b'h', b'"']) },
            { "token": ",\"population\":443037}", "logprob": -0.5, "bytes": bytes(b",\"population\":443037}") },
        ],
    })
}

#[tokio::test]
async fn request_shape_and_answer() {
    let server = MockServer::start(vec![Reply::json(200, &ok_reply())]);
    let provider = Ollama::new(config(&server, Duration::from_secs(5))).expect("provider");
    assert!(!provider.needs_object_root());
    let params = ModelParams {
        model: None,
        temperature: Some(0.0),
        max_tokens: Some(128),
        seed: Some(42),
    };
    let answer = provider
        .complete(&request(params))
        .await
        .expect("an answer");
    let seen = server.finish();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.url, "/api/chat");
    assert_eq!(
        r.header("authorization"),
        None,
        "a local Ollama gets no credentials"
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.json(),
        json!({
            "model": "llama3.2",
            "messages": [
                { "role": "system", "content": "You answer with facts." },
                { "role": "user", "content": "Largest city in Switzerland?" },
            ],
            "stream": false,
            "format": city_schema(),
            "logprobs": true,
            "options": { "temperature": 0.0, "seed": 42, "num_predict": 128 },
        })
    );

    assert_eq!(answer.text, TEXT);
    assert_eq!(answer.usage.input_tokens, 26);
    assert_eq!(answer.usage.output_tokens, 14);
    assert_eq!(answer.model.as_deref(), Some("llama3.2"));
    assert_eq!(answer.confidence, None);
    let tokens = answer.tokens.expect("tokens");
    let texts: Vec<&str> = tokens.iter().map(|t| t.token.as_str()).collect();
    assert_eq!(
        texts,
        ["{\"city\":\"Z", "ürich\"", ",\"population\":443037}"]
    );
    assert_eq!(texts.concat(), TEXT, "the tokens spell the text");
    assert!(
        (tokens[1].logprob - -0.3).abs() < 1e-12,
        "a split character sums its parts"
    );
}

#[tokio::test]
async fn options_left_out_when_unset_and_request_model_wins() {
    let server = MockServer::start(vec![Reply::json(200, &ok_reply())]);
    let provider = Ollama::new(config(&server, Duration::from_secs(5))).expect("provider");
    let params = ModelParams {
        model: Some("qwen2.5:7b".into()),
        ..Default::default()
    };
    provider
        .complete(&request(params))
        .await
        .expect("an answer");
    let body = server.finish()[0].json();
    assert_eq!(body["model"], json!("qwen2.5:7b"));
    assert!(body.get("options").is_none(), "{body}");
}

#[tokio::test]
async fn bearer_key_only_when_configured() {
    let server = MockServer::start(vec![Reply::json(200, &ok_reply())]);
    let key = "ollama-proxy-key-17";
    let provider = Ollama::new(ApiConfig {
        api_key: Some(key.into()),
        ..config(&server, Duration::from_secs(5))
    })
    .expect("provider");
    assert!(!format!("{provider:?}").contains(key));
    provider
        .complete(&request(ModelParams::default()))
        .await
        .expect("an answer");
    let seen = server.finish();
    assert_eq!(
        seen[0].header("authorization"),
        Some("Bearer ollama-proxy-key-17")
    );
}

#[tokio::test]
async fn logprobs_without_bytes_use_the_token_strings() {
    let mut reply = ok_reply();
    reply["message"]["content"] = json!("{\"a\":1}");
    reply["logprobs"] =
        json!([{ "token": "{\"a\":", "logprob": -0.5 }, { "token": "1}", "logprob": -0.25 }]);
    let server = MockServer::start(vec![Reply::json(200, &reply)]);
    let provider = Ollama::new(config(&server, Duration::from_secs(5))).expect("provider");
    let answer = provider
        .complete(&request(ModelParams::default()))
        .await
        .expect("an answer");
    server.finish();
    let tokens = answer.tokens.expect("tokens");
    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[1].token, "1}");
    assert_eq!(tokens[1].logprob, -0.25);
}

#[tokio::test]
async fn list_target_is_not_wrapped_through_the_engine() {
    use turn_infer::engine::{Options, Target};
    use turn_sema::Ty;
    let mut reply = ok_reply();
    reply["message"]["content"] = json!("[\"Zürich\", \"Geneva\"]");
    reply.as_object_mut().expect("object").remove("logprobs");
    let server = MockServer::start(vec![Reply::json(200, &reply)]);
    let provider = Ollama::new(config(&server, Duration::from_secs(5))).expect("provider");
    let ty = Ty::List(Box::new(Ty::Str));
    let target = Target {
        ty: &ty,
        structs: &[],
    };
    let out = turn_infer::infer(
        &provider,
        &target,
        Vec::new(),
        "Two Swiss cities",
        &Options::default(),
        &mut |_| {},
    )
    .await
    .expect("a list");
    assert_eq!(out.raw, "[\"Zürich\", \"Geneva\"]");
    assert_eq!(out.usage.input_tokens, 26);
    let body = server.finish()[0].json();
    assert_eq!(
        body["format"],
        json!({ "type": "array", "items": { "type": "string" } })
    );
}

#[tokio::test]
async fn errors_map_to_provider_errors() {
    let server = MockServer::start(vec![
        Reply::json(
            404,
            &json!({ "error": "model \"llama9\" not found, try pulling it first" }),
        ),
        Reply::json(
            500,
            &json!({ "error": "llama runner process has terminated: signal: killed" }),
        ),
        Reply::text(200, "{\"model\": \"llama3.2\", \"message\": "),
        Reply::json(200, &json!({ "model": "llama3.2", "done": true })),
        Reply::json(
            200,
            &json!({ "error": "an error was encountered while running the model" }),
        ),
    ]);
    let provider = Ollama::new(config(&server, Duration::from_secs(5))).expect("provider");
    let req = request(ModelParams::default());
    let mut errors = Vec::new();
    for _ in 0..5 {
        errors.push(provider.complete(&req).await.expect_err("an error"));
    }
    server.finish();
    assert_eq!(
        errors[0],
        ProviderError::Http {
            status: 404,
            message: "model \"llama9\" not found, try pulling it first".into(),
            retry_after: None
        }
    );
    assert!(!errors[0].is_transient());
    assert!(
        matches!(&errors[1], ProviderError::Http { status: 500, message, .. } if message.contains("terminated"))
    );
    assert!(errors[1].is_transient());
    assert!(
        matches!(&errors[2], ProviderError::Malformed(_)),
        "{:?}",
        errors[2]
    );
    assert!(
        matches!(&errors[3], ProviderError::Malformed(m) if m.contains("no message content")),
        "{:?}",
        errors[3]
    );
    assert!(
        matches!(&errors[4], ProviderError::Malformed(m) if m.contains("while running")),
        "{:?}",
        errors[4]
    );
}

#[tokio::test]
async fn busy_server_then_success_through_retrying() {
    let server = MockServer::start(vec![
        Reply::json(429, &json!({ "error": "server busy, please try again.  maximum pending requests exceeded" }))
            .header("retry-after", "0"),
        Reply::json(200, &ok_reply()),
    ]);
    let provider = Retrying {
        inner: Ollama::new(config(&server, Duration::from_secs(5))).expect("provider"),
        policy: RetryPolicy {
            attempts: 2,
            base_delay: Duration::from_secs(20),
            max_delay: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
        },
    };
    let answer = provider
        .complete(&request(ModelParams::default()))
        .await
        .expect("an answer");
    assert_eq!(answer.text, TEXT);
    assert_eq!(server.finish().len(), 2);
}

#[tokio::test]
async fn timeout() {
    let server = MockServer::start(vec![
        Reply::json(200, &ok_reply()).delayed(Duration::from_secs(1))
    ]);
    let provider = Ollama::new(config(&server, Duration::from_millis(300))).expect("provider");
    let err = provider
        .complete(&request(ModelParams::default()))
        .await
        .expect_err("a timeout");
    assert_eq!(err, ProviderError::Timeout { seconds: 0.3 });
    assert!(err.is_transient());
    server.finish();
}

#[test]
fn base_url_from_ollama_host() {
    let cases = [
        ("", "http://127.0.0.1:11434"),
        ("0.0.0.0", "http://0.0.0.0:11434"),
        ("gpu-box", "http://gpu-box:11434"),
        ("gpu-box:8080", "http://gpu-box:8080"),
        (":9999", "http://127.0.0.1:9999"),
        ("http://gpu-box", "http://gpu-box"),
        ("https://ollama.example.com/", "https://ollama.example.com"),
        ("http://[::1]:11434", "http://[::1]:11434"),
    ];
    for (host, url) in cases {
        assert_eq!(ollama::base_url_from_host(host), url, "OLLAMA_HOST={host}");
    }
    assert_eq!(ollama::DEFAULT_BASE_URL, "http://127.0.0.1:11434");
}
