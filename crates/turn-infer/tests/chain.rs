//! Retry with backoff and fallback chains, over scripted providers.

use std::time::Duration;
use turn_infer::providers::scripted::Scripted;
use turn_infer::providers::{Fallback, Provider, RetryPolicy, Retrying};
use turn_infer::request::{InferRequest, Message, ModelParams, ProviderError};

fn request() -> InferRequest {
    InferRequest {
        messages: vec![Message::user("hi")],
        schema: serde_json::json!({"type": "number"}),
        wrapped: false,
        type_name: "Num".into(),
        params: ModelParams::default(),
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

fn scripted(lines: &str) -> Scripted {
    Scripted::parse(lines).expect("script")
}

fn fast(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        attempts,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        timeout: Duration::from_secs(5),
    }
}

#[test]
fn transient_errors_are_retried_up_to_the_attempts() {
    let p = Retrying {
        inner: scripted("{\"error\": {\"status\": 500}}\n{\"error\": {\"status\": 429, \"retry_after\": 0}}\n{\"answer\": 7}\n"),
        policy: fast(3),
    };
    let a = block_on(p.complete(&request())).expect("third try answers");
    assert_eq!(a.text, "7");

    let p = Retrying {
        inner: scripted(
            "{\"error\": {\"status\": 503}}\n{\"error\": {\"status\": 502}}\n{\"answer\": 1}\n",
        ),
        policy: fast(2),
    };
    let e = block_on(p.complete(&request())).expect_err("two tries are not enough");
    assert!(
        matches!(e, ProviderError::Http { status: 502, .. }),
        "{e:?}"
    );
}

#[test]
fn permanent_errors_are_not_retried() {
    let p = Retrying {
        inner: scripted("{\"error\": {\"status\": 401}}\n{\"answer\": 1}\n"),
        policy: fast(5),
    };
    let e = block_on(p.complete(&request())).expect_err("401 is final");
    assert!(matches!(e, ProviderError::Http { status: 401, .. }));
    // The answer after it was not consumed: the provider was asked once.
    assert_eq!(
        block_on(p.complete(&request())).expect("next answer").text,
        "1"
    );
}

#[test]
fn backoff_doubles_and_honours_retry_after() {
    let policy = RetryPolicy {
        attempts: 5,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(1),
        timeout: Duration::from_secs(1),
    };
    let e500 = ProviderError::Http {
        status: 500,
        message: String::new(),
        retry_after: None,
    };
    let delays: Vec<u128> = (1..=5)
        .map(|n| policy.delay(n, &e500).as_millis())
        .collect();
    assert_eq!(delays, vec![100, 200, 400, 800, 1000]);
    let e429 = ProviderError::Http {
        status: 429,
        message: String::new(),
        retry_after: Some(0.25),
    };
    assert_eq!(policy.delay(1, &e429), Duration::from_millis(250));
    let huge = ProviderError::Http {
        status: 429,
        message: String::new(),
        retry_after: Some(3600.0),
    };
    assert_eq!(
        policy.delay(1, &huge),
        Duration::from_secs(1),
        "capped by max_delay"
    );
}

#[test]
fn fallback_moves_on_after_failures_but_not_after_refusals() {
    let chain = Fallback::new(vec![
        Box::new(Retrying {
            inner: scripted("{\"error\": {\"status\": 500}}\n{\"error\": {\"status\": 500}}\n"),
            policy: fast(2),
        }),
        Box::new(scripted("{\"answer\": 42}\n")),
    ]);
    assert_eq!(chain.name(), "scripted|scripted");
    assert_eq!(
        block_on(chain.complete(&request()))
            .expect("secondary answers")
            .text,
        "42"
    );

    let chain = Fallback::new(vec![
        Box::new(scripted(
            "{\"error\": {\"kind\": \"refusal\", \"message\": \"no\"}}\n",
        )),
        Box::new(scripted("{\"answer\": 42}\n")),
    ]);
    assert!(matches!(
        block_on(chain.complete(&request())),
        Err(ProviderError::Refusal(_))
    ));

    let empty = Fallback::new(Vec::new());
    assert!(matches!(
        block_on(empty.complete(&request())),
        Err(ProviderError::Config(_))
    ));
}

#[test]
fn timeouts_are_transient() {
    assert!(ProviderError::Timeout { seconds: 1.0 }.is_transient());
    assert!(ProviderError::Connect("refused".into()).is_transient());
    assert!(!ProviderError::Malformed("x".into()).is_transient());
    assert!(!ProviderError::Refusal("x".into()).is_transient());
}
