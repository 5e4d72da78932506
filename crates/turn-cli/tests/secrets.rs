//! No configured secret leaks: a program whose prompts, memory, output and
//! errors are full of `$env:…` templates and secret-looking strings runs
//! against a local OpenAI-compatible server, and the API key appears only in
//! the one place it belongs: the `Authorization` header of each request.

#[path = "../../turn-infer/tests/common/mod.rs"]
mod common;

use common::{MockServer, Reply};
use serde_json::json;
use std::process::Command;

const SECRET: &str = "sk-test-4f1c9e2a7b55d3c1-SECRET";

fn completion(content: &str) -> Reply {
    Reply::json(
        200,
        json!({
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": "test-model",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content, "refusal": null},
                         "logprobs": null}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
        }),
    )
}

#[test]
fn the_api_key_appears_only_in_the_authorization_header() {
    let server = MockServer::start(vec![
        completion("{\"x\": 1, \"note\": \"$env:OPENAI_API_KEY\"}"),
        // Four invalid answers: the error carries the last one.
        completion("{\"x\": \"sk-looking-but-not-the-key\"}"),
        completion("{\"x\": \"$env:OPENAI_API_KEY\"}"),
        completion("not json $env:OPENAI_API_KEY"),
        completion("{}"),
    ]);
    let dir = std::env::temp_dir().join(format!("turn-secrets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let program = dir.join("leak.tn");
    std::fs::write(
        &program,
        r#"
struct P { x: Num, note: Str? };
let template = "$env:OPENAI_API_KEY";
remember("key", template);
context.system("Never reveal " + template + " or sk-fake-system-key");
context.append("an earlier note mentioning " + template);
let p = infer P { "Use " + template + " and ${OPENAI_API_KEY} and %OPENAI_API_KEY% and sk-fake-key-123" };
echo(p);
echo(recall("key"));
try {
  let q = infer P { "again with " + recall("key") };
} catch (e) {
  echo(e.message);
  echo(e.data.raw);
}
throw "failing with " + template;
"#,
    )
    .expect("write program");
    let out = Command::new(env!("CARGO_BIN_EXE_turn"))
        .args([
            "run",
            program.to_str().unwrap_or_default(),
            "--trace",
            "--stats",
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TURN_PROVIDER", "openai")
        .env("OPENAI_BASE_URL", &server.base_url)
        .env("OPENAI_API_KEY", SECRET)
        .output()
        .expect("run turn");
    let requests = server.finish();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);

    // The program ran as expected: one answer, one exhausted retry loop, an
    // uncaught throw at the end (exit 2).
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("P { x: 1, note: \"$env:OPENAI_API_KEY\" }"),
        "{stdout}"
    );
    assert!(
        stderr.contains("[infer] → openai"),
        "the trace is on: {stderr}"
    );
    assert_eq!(requests.len(), 5);

    // The context is rendered before the prompt: P0 as the system message,
    // then P2 and P1 (oldest first) as one user message.
    let first = requests[0].json();
    let messages = first["messages"].as_array().cloned().unwrap_or_default();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert_eq!(messages[0]["role"], "system");
    assert_eq!(
        messages[0]["content"],
        "Never reveal $env:OPENAI_API_KEY or sk-fake-system-key"
    );
    assert_eq!(messages[1]["role"], "user");
    assert_eq!(
        messages[1]["content"],
        "Context, oldest first:\n\nan earlier note mentioning $env:OPENAI_API_KEY"
    );
    assert!(messages[2]["content"]
        .as_str()
        .unwrap_or_default()
        .starts_with("Use $env:OPENAI_API_KEY and"));

    // The secret is nowhere but in the Authorization header.
    for (i, r) in requests.iter().enumerate() {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {SECRET}").as_str()),
            "request {i}"
        );
        assert!(
            !r.body.contains(SECRET),
            "request {i} body leaks the key: {}",
            r.body
        );
        assert!(
            r.body.contains("$env:OPENAI_API_KEY"),
            "templates stay literal in request {i}"
        );
        for (k, v) in &r.headers {
            if !k.eq_ignore_ascii_case("authorization") {
                assert!(!v.contains(SECRET), "header {k} leaks the key");
            }
        }
        assert!(!r.path.contains(SECRET), "the URL leaks the key");
    }
    assert!(!stdout.contains(SECRET), "stdout leaks the key:\n{stdout}");
    assert!(
        !stderr.contains(SECRET),
        "stderr (trace, errors, stats) leaks the key:\n{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
