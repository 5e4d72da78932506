//! Wasm drivers written in WAT, compiled here, run against a local server:
//! the ABI (alloc, transform_request, transform_response, packed ptr/len),
//! `$env:` resolution only where the driver asks for it, and the limits
//! (no imports, fuel, memory bounds, a fresh instance per request).

mod mock;

use mock::{MockServer, Reply};
use serde_json::{json, Value as Json};
use std::time::Duration;
use turn_infer::providers::wasm::{self, WasmDriver};
use turn_infer::providers::{Provider, RetryPolicy, Retrying};
use turn_infer::{InferRequest, Message, ModelParams, ProviderError};

/// Bytes as a WAT string literal.
fn wat_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}

/// What one transform returns: `prefix`, then (if `key` is given) the JSON
/// string value that follows `key` in the input, copied with its quotes and
/// escapes, then `suffix`.
struct Splice<'a> {
    prefix: &'a str,
    key: Option<&'a str>,
    suffix: &'a str,
}

/// A driver with a bump allocator and two splicing transforms. With
/// `once`, a second `transform_request` on the same instance fails (it
/// returns an out-of-bounds pointer), which shows instances are not reused.
fn driver_wat(request: Splice<'_>, response: Splice<'_>, once: bool) -> String {
    let mut data = String::new();
    let mut at = 0usize;
    let mut place = |text: &str| {
        let start = at;
        data.push_str(&format!(
            "  (data (i32.const {start}) \"{}\")\n",
            wat_string(text.as_bytes())
        ));
        at += text.len();
        (start, text.len())
    };
    let mut transform = |name: &str, s: &Splice<'_>| {
        let (pre, pre_len) = place(s.prefix);
        let (suf, suf_len) = place(s.suffix);
        let middle = match s.key {
            Some(key) => {
                let (k, k_len) = place(key);
                format!(
                        "(local.set $at (call $find (local.get $p) (local.get $l) (i32.const {k}) (i32.const {k_len})))
    (if (i32.lt_s (local.get $at) (i32.const 0)) (then unreachable))
    (local.set $start (i32.add (local.get $at) (i32.const {k_len})))
    (local.set $len (i32.sub (call $string_end (local.get $start)) (local.get $start)))"
                )
            }
            None => "(local.set $len (i32.const 0))".to_string(),
        };
        let once_check = if once && name == "transform_request" {
            "(if (global.get $calls) (then (return (i64.const 0x7ffffff000000010))))
    (global.set $calls (i32.const 1))"
        } else {
            ""
        };
        format!(
            "  (func (export \"{name}\") (param $p i32) (param $l i32) (result i64)
    (local $at i32) (local $start i32) (local $len i32)
    {once_check}
    {middle}
    (call $concat3 (i32.const {pre}) (i32.const {pre_len}) (local.get $start) (local.get $len)
                   (i32.const {suf}) (i32.const {suf_len})))\n"
        )
    };
    let request = transform("transform_request", &request);
    let response = transform("transform_response", &response);
    let heap = (at + 15) & !7;
    format!(
        r#"(module
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const {heap}))
  (global $calls (mut i32) (i32.const 0))
{data}
  ;; Bump allocator: 8-byte aligned, grows memory as needed.
  (func $alloc (export "alloc") (param $len i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $heap))
    (global.set $heap (i32.and (i32.add (i32.add (local.get $ptr) (local.get $len)) (i32.const 7)) (i32.const -8)))
    (block $ok
      (loop $grow
        (br_if $ok (i32.le_u (global.get $heap) (i32.shl (memory.size) (i32.const 16))))
        (if (i32.eq (memory.grow (i32.const 1)) (i32.const -1)) (then unreachable))
        (br $grow)))
    (local.get $ptr))

  ;; The address of the first occurrence of needle in haystack, or -1.
  (func $find (param $h i32) (param $hl i32) (param $n i32) (param $nl i32) (result i32)
    (local $i i32) (local $j i32)
    (block $none
      (loop $outer
        (br_if $none (i32.gt_u (i32.add (local.get $i) (local.get $nl)) (local.get $hl)))
        (local.set $j (i32.const 0))
        (block $mismatch
          (loop $inner
            (if (i32.eq (local.get $j) (local.get $nl))
              (then (return (i32.add (local.get $h) (local.get $i)))))
            (br_if $mismatch
              (i32.ne (i32.load8_u (i32.add (i32.add (local.get $h) (local.get $i)) (local.get $j)))
                      (i32.load8_u (i32.add (local.get $n) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $inner)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outer)))
    (i32.const -1))

  ;; $p is at a JSON string's opening quote: the address after its closing one.
  (func $string_end (param $p i32) (result i32)
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (loop $scan
      (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 92))
        (then (local.set $p (i32.add (local.get $p) (i32.const 2))) (br $scan)))
      (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 34))
        (then (return (i32.add (local.get $p) (i32.const 1)))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $scan))
    (unreachable))

  ;; a ++ b ++ c in fresh memory, as ptr << 32 | len.
  (func $concat3 (param $a i32) (param $al i32) (param $b i32) (param $bl i32) (param $c i32) (param $cl i32)
                 (result i64)
    (local $out i32) (local $len i32)
    (local.set $len (i32.add (i32.add (local.get $al) (local.get $bl)) (local.get $cl)))
    (local.set $out (call $alloc (local.get $len)))
    (memory.copy (local.get $out) (local.get $a) (local.get $al))
    (memory.copy (i32.add (local.get $out) (local.get $al)) (local.get $b) (local.get $bl))
    (memory.copy (i32.add (i32.add (local.get $out) (local.get $al)) (local.get $bl)) (local.get $c) (local.get $cl))
    (i64.or (i64.shl (i64.extend_i32_u (local.get $out)) (i64.const 32)) (i64.extend_i32_u (local.get $len))))

{request}
{response})
"#
    )
}

fn compile(wat: &str) -> Vec<u8> {
    wat::parse_str(wat).unwrap_or_else(|e| panic!("the test driver does not compile: {e}\n{wat}"))
}

/// The request template an echo driver sends: the prompt goes in as the
/// body's `input`.
fn echo_prefix(url: &str, headers: &Json) -> String {
    format!(
        r#"{{"url":{},"method":"POST","headers":{headers},"body":{{"model":"echo-1","input":"#,
        json!(url)
    )
}

/// A driver that sends the prompt to `url` with `headers` and answers with
/// the reply's body.
fn echo_driver(url: &str, headers: &Json, once: bool) -> Vec<u8> {
    let prefix = echo_prefix(url, headers);
    compile(&driver_wat(
        Splice {
            prefix: &prefix,
            key: Some("\"prompt\":"),
            suffix: "}}",
        },
        Splice {
            prefix: "{\"result\":",
            key: Some("\"body\":"),
            suffix: "}",
        },
        once,
    ))
}

/// A driver whose transforms return fixed documents.
fn fixed_driver(request: &str, response: &str) -> Vec<u8> {
    compile(&driver_wat(
        Splice {
            prefix: request,
            key: None,
            suffix: "",
        },
        Splice {
            prefix: response,
            key: None,
            suffix: "",
        },
        false,
    ))
}

fn request(prompt: &str) -> InferRequest {
    InferRequest {
        messages: vec![
            Message::system("Be brief."),
            Message::user("Earlier question"),
            Message::assistant("Earlier answer"),
            Message::user(prompt),
        ],
        schema: json!({
            "type": "object",
            "properties": { "name": { "type": "string" } },
            "required": ["name"],
            "additionalProperties": false,
        }),
        wrapped: false,
        type_name: "Person".into(),
        params: ModelParams::default(),
    }
}

const SECONDS: Duration = Duration::from_secs(5);

#[test]
fn driver_input_is_the_json_rpc_request() {
    let req = request("Name someone.");
    assert_eq!(
        wasm::driver_input(&req),
        json!({
            "jsonrpc": "2.0",
            "method": "llm_infer",
            "params": {
                "prompt": "Name someone.",
                "schema": req.schema,
                "context": [
                    { "role": "system", "content": "Be brief." },
                    { "role": "user", "content": "Earlier question" },
                    { "role": "assistant", "content": "Earlier answer" },
                ],
                "tools": [],
            },
            "id": 1,
        })
    );
}

#[tokio::test]
async fn echo_driver_round_trip() {
    let server = MockServer::start(vec![
        Reply::json(200, &json!({ "output": "ignored" })).header("x-request-id", "r-1")
    ]);
    // The answer the driver hands back is the reply body as it came.
    let url = format!("{}/v1/echo?stream=false", server.url);
    let headers = json!({ "x-driver": "echo", "content-type": "application/json" });
    let driver = WasmDriver::from_bytes(&echo_driver(&url, &headers, false), "echo", SECONDS)
        .expect("loads");
    assert_eq!(driver.name(), "wasm:echo");
    let prompt = "Say \"hi\" \\ then\na newline, and ü.";
    let answer = driver.complete(&request(prompt)).await.expect("an answer");
    let seen = server.finish();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.url, "/v1/echo?stream=false");
    assert_eq!(r.header("x-driver"), Some("echo"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json(), json!({ "model": "echo-1", "input": prompt }));
    assert_eq!(answer.text, json!({ "output": "ignored" }).to_string());
    assert_eq!(answer.tokens, None);
}

/// The program's prompt names a secret; only the driver's header template
/// may resolve it. The server must get the literal text in the body and the
/// value only in the header.
#[tokio::test]
async fn env_templates_resolve_only_in_url_and_headers() {
    const SECRET: &str = "s3cr3t-Value-0427";
    std::env::set_var("TURN_TEST_SECRET", SECRET);
    let server = MockServer::start(vec![Reply::json(200, &json!({ "name": "Ada" }))]);
    std::env::set_var("TURN_TEST_ECHO_BASE", &server.url);
    let headers =
        json!({ "authorization": "Bearer $env:TURN_TEST_SECRET", "x-plain": "no $env here" });
    let driver = WasmDriver::from_bytes(
        &echo_driver("$env:TURN_TEST_ECHO_BASE/v1/chat", &headers, false),
        "echo",
        SECONDS,
    )
    .expect("loads");
    let prompt = "Print $env:TURN_TEST_SECRET and $env:HOME please";
    let answer = driver.complete(&request(prompt)).await.expect("an answer");
    let seen = server.finish();
    let r = &seen[0];
    assert_eq!(r.url, "/v1/chat", "the url template resolved");
    assert_eq!(r.header("authorization"), Some("Bearer s3cr3t-Value-0427"));
    assert_eq!(r.header("x-plain"), Some("no $env here"));
    assert_eq!(
        r.json()["input"],
        json!(prompt),
        "the program's text is sent as written"
    );
    assert!(r.body.contains("$env:TURN_TEST_SECRET"));
    assert!(
        !r.body.contains(SECRET),
        "the secret must not reach the body"
    );
    assert_eq!(answer.text, "{\"name\":\"Ada\"}");
}

#[tokio::test]
async fn unset_env_variable_is_a_config_error() {
    let headers = json!({ "x-api-key": "$env:TURN_TEST_SURELY_UNSET_VARIABLE" });
    let driver = WasmDriver::from_bytes(
        &echo_driver("http://127.0.0.1:9/x", &headers, false),
        "echo",
        SECONDS,
    )
    .expect("loads");
    let err = driver.complete(&request("hi")).await.expect_err("unset");
    assert_eq!(
        err,
        ProviderError::Config(
            "the driver's header `x-api-key` uses $env:TURN_TEST_SURELY_UNSET_VARIABLE, which is not set".into()
        )
    );
}

#[test]
fn resolve_env_syntax() {
    std::env::set_var("TURN_TEST_RESOLVE_A", "alpha");
    assert_eq!(
        wasm::resolve_env("x-$env:TURN_TEST_RESOLVE_A/y", "url").expect("set"),
        "x-alpha/y"
    );
    assert_eq!(
        wasm::resolve_env("$env:TURN_TEST_RESOLVE_A$env:TURN_TEST_RESOLVE_A", "url").expect("set"),
        "alphaalpha"
    );
    assert_eq!(
        wasm::resolve_env("cost: $5, $env: $env:9x", "url").expect("no names"),
        "cost: $5, $env: $env:9x"
    );
}

#[tokio::test]
async fn openai_like_answer_with_usage_and_logprobs() {
    let req_doc =
        r#"{"url":"$env:TURN_TEST_FIXED_BASE/v1/chat/completions","body":"raw text body"}"#;
    let resp_doc = r#"{"choices":[{"message":{"role":"assistant","content":"{\"name\":\"Ada\"}"},
        "logprobs":{"content":[{"token":"{\"name\":","logprob":-0.1},{"token":"\"Ada\"}","logprob":-0.2}]}}],
        "usage":{"prompt_tokens":12,"completion_tokens":5},"model":"gpt-x"}"#;
    let server = MockServer::start(vec![Reply::json(200, &json!({}))]);
    std::env::set_var("TURN_TEST_FIXED_BASE", &server.url);
    let driver =
        WasmDriver::from_bytes(&fixed_driver(req_doc, resp_doc), "fixed", SECONDS).expect("loads");
    let answer = driver.complete(&request("hi")).await.expect("an answer");
    let seen = server.finish();
    assert_eq!(seen[0].method, "POST", "POST is the default method");
    assert_eq!(
        seen[0].body, "raw text body",
        "a string body is sent as it is"
    );
    assert_eq!(answer.text, "{\"name\":\"Ada\"}");
    assert_eq!(answer.usage.input_tokens, 12);
    assert_eq!(answer.usage.output_tokens, 5);
    assert_eq!(answer.model.as_deref(), Some("gpt-x"));
    let tokens = answer.tokens.expect("tokens");
    assert_eq!(
        tokens.iter().map(|t| t.token.as_str()).collect::<String>(),
        answer.text
    );
}

#[tokio::test]
async fn driver_errors() {
    let server = MockServer::start(vec![
        Reply::json(200, &json!({})),
        Reply::json(200, &json!({})),
        Reply::json(200, &json!({})),
    ]);
    let req_doc = format!(r#"{{"url":"{}/x","method":"GET"}}"#, server.url);
    let cases = [
        (
            r#"{"error":"the upstream said no"}"#,
            ProviderError::Malformed("the driver reported: the upstream said no".into()),
        ),
        (
            r#"{"error":{"message":"bad key","status":401}}"#,
            ProviderError::Http {
                status: 401,
                message: "bad key".into(),
                retry_after: None,
            },
        ),
        (
            r#"{"answer":"where?"}"#,
            ProviderError::Malformed(String::new()),
        ),
    ];
    for (resp_doc, expected) in cases {
        let driver = WasmDriver::from_bytes(&fixed_driver(&req_doc, resp_doc), "fixed", SECONDS)
            .expect("loads");
        let err = driver.complete(&request("hi")).await.expect_err("an error");
        match (&err, &expected) {
            (ProviderError::Malformed(m), ProviderError::Malformed(e)) if e.is_empty() => {
                assert!(m.contains("neither `result`, `choices` nor `error`"), "{m}")
            }
            _ => assert_eq!(err, expected),
        }
    }
    let seen = server.finish();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].body, "");
}

#[tokio::test]
async fn http_errors_retry_and_timeout() {
    let server = MockServer::start(vec![
        Reply::json(429, &json!({ "error": { "message": "slow down" } }))
            .header("retry-after", "0"),
        Reply::json(200, &json!({ "ok": true })),
        Reply::json(500, &json!({ "error": { "message": "boom" } })),
        Reply::json(200, &json!({})).delayed(Duration::from_secs(1)),
    ]);
    let url = format!("{}/v1/echo", server.url);
    let bytes = echo_driver(&url, &json!({}), false);
    let retrying = Retrying {
        inner: WasmDriver::from_bytes(&bytes, "echo", SECONDS).expect("loads"),
        policy: RetryPolicy {
            attempts: 2,
            base_delay: Duration::from_secs(20),
            max_delay: Duration::from_secs(30),
            timeout: SECONDS,
        },
    };
    let answer = retrying
        .complete(&request("hi"))
        .await
        .expect("the retry answers");
    assert_eq!(answer.text, "{\"ok\":true}");
    let err = retrying
        .inner
        .complete(&request("hi"))
        .await
        .expect_err("a 500");
    assert_eq!(
        err,
        ProviderError::Http {
            status: 500,
            message: "boom".into(),
            retry_after: None
        }
    );
    let impatient =
        WasmDriver::from_bytes(&bytes, "echo", Duration::from_millis(300)).expect("loads");
    let err = impatient
        .complete(&request("hi"))
        .await
        .expect_err("a timeout");
    assert_eq!(err, ProviderError::Timeout { seconds: 0.3 });
    assert_eq!(server.finish().len(), 4);
}

#[tokio::test]
async fn each_request_gets_a_fresh_instance() {
    let server = MockServer::start(vec![
        Reply::json(200, &json!({ "n": 1 })),
        Reply::json(200, &json!({ "n": 2 })),
    ]);
    let url = format!("{}/v1/echo", server.url);
    let driver = WasmDriver::from_bytes(&echo_driver(&url, &json!({}), true), "once", SECONDS)
        .expect("loads");
    assert_eq!(
        driver.complete(&request("one")).await.expect("first").text,
        "{\"n\":1}"
    );
    assert_eq!(
        driver
            .complete(&request("two"))
            .await
            .expect("second: a new instance")
            .text,
        "{\"n\":2}"
    );
    assert_eq!(server.finish().len(), 2);
}

#[test]
fn modules_with_imports_are_refused() {
    let wat = r#"(module
      (import "env" "fetch" (func $fetch (param i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "alloc") (param i32) (result i32) (i32.const 0))
      (func (export "transform_request") (param i32 i32) (result i64) (i64.const 0))
      (func (export "transform_response") (param i32 i32) (result i64) (i64.const 0)))"#;
    let err = WasmDriver::from_bytes(&compile(wat), "sneaky", SECONDS).expect_err("refused");
    match err {
        ProviderError::Config(m) => {
            assert!(
                m.contains("imports `env.fetch`") && m.contains("must not import"),
                "{m}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn modules_without_the_abi_are_refused() {
    let missing = r#"(module (memory (export "memory") 1)
      (func (export "alloc") (param i32) (result i32) (i32.const 0)))"#;
    let wrong_type = r#"(module (memory (export "memory") 1)
      (func (export "alloc") (param i32) (result i32) (i32.const 0))
      (func (export "transform_request") (param i32 i32) (result i32) (i32.const 0))
      (func (export "transform_response") (param i32 i32) (result i64) (i64.const 0)))"#;
    let no_memory = r#"(module (memory 1)
      (func (export "alloc") (param i32) (result i32) (i32.const 0)))"#;
    for (wat, needle) in [
        (missing, "transform_request"),
        (wrong_type, "transform_request"),
        (no_memory, "memory"),
    ] {
        match WasmDriver::from_bytes(&compile(wat), "bad", SECONDS) {
            Err(ProviderError::Config(m)) => assert!(m.contains(needle), "{m}"),
            other => panic!("{other:?}"),
        }
    }
    match WasmDriver::from_bytes(b"not wasm at all", "junk", SECONDS) {
        Err(ProviderError::Config(m)) => assert!(m.contains("not a valid module"), "{m}"),
        other => panic!("{other:?}"),
    }
}

const ABI_TAIL: &str = r#"
      (func (export "alloc") (param i32) (result i32) (i32.const 1024))
      (func (export "transform_response") (param i32 i32) (result i64) (i64.const 0))"#;

#[tokio::test]
async fn a_driver_that_loops_forever_runs_out_of_fuel() {
    let wat = format!(
        r#"(module (memory (export "memory") 1) {ABI_TAIL}
      (func (export "transform_request") (param i32 i32) (result i64)
        (loop $forever (br $forever))
        (i64.const 0)))"#
    );
    let driver = WasmDriver::from_bytes(&compile(&wat), "spin", SECONDS)
        .expect("loads")
        .with_fuel(2_000_000);
    let err = driver
        .complete(&request("hi"))
        .await
        .expect_err("out of fuel");
    assert_eq!(
        err,
        ProviderError::Malformed("the driver ran too long".into())
    );
}

#[tokio::test]
async fn out_of_bounds_results_are_refused() {
    // ptr = 65000, len = 1000: past the end of one 64 KiB page.
    let wat = format!(
        r#"(module (memory (export "memory") 1) {ABI_TAIL}
      (func (export "transform_request") (param i32 i32) (result i64)
        (i64.or (i64.shl (i64.const 65000) (i64.const 32)) (i64.const 1000))))"#
    );
    let driver = WasmDriver::from_bytes(&compile(&wat), "oob", SECONDS).expect("loads");
    match driver.complete(&request("hi")).await {
        Err(ProviderError::Malformed(m)) => {
            assert!(m.contains("outside the driver's memory"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    // An allocator that hands out memory the driver does not have.
    let wat = r#"(module (memory (export "memory") 1)
      (func (export "alloc") (param i32) (result i32) (i32.const -16))
      (func (export "transform_request") (param i32 i32) (result i64) (i64.const 0))
      (func (export "transform_response") (param i32 i32) (result i64) (i64.const 0)))"#;
    let driver = WasmDriver::from_bytes(&compile(wat), "bad-alloc", SECONDS).expect("loads");
    match driver.complete(&request("hi")).await {
        Err(ProviderError::Malformed(m)) => assert!(m.contains("`alloc`"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn memory_beyond_the_cap_is_refused() {
    let pages = wasm::MAX_MEMORY / 65536 + 1;
    let wat = format!(
        r#"(module (memory (export "memory") {pages}) {ABI_TAIL}
      (func (export "transform_request") (param i32 i32) (result i64) (i64.const 0)))"#
    );
    let driver = WasmDriver::from_bytes(&compile(&wat), "big", SECONDS).expect("loads");
    match driver.complete(&request("hi")).await {
        Err(ProviderError::Config(m)) => assert!(m.contains("cannot start"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn load_names_the_driver_after_the_file() {
    let dir = std::env::temp_dir().join(format!("turn-wasm-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("my_provider.wasm");
    std::fs::write(&path, echo_driver("http://127.0.0.1:9/", &json!({}), false)).expect("write");
    let driver = WasmDriver::load(&path, SECONDS).expect("loads");
    assert_eq!(driver.name(), "wasm:my_provider");
    let missing = WasmDriver::load(&dir.join("absent.wasm"), SECONDS).expect_err("no file");
    assert!(matches!(missing, ProviderError::Config(_)));
    let _ = std::fs::remove_dir_all(&dir);
}
