//! Inference providers behind one trait, plus the two wrappers every
//! provider gets: retry with backoff, and fallback chains.

pub mod anthropic;
pub mod gemini;
pub mod http;
pub(crate) mod logprobs;
pub mod ollama;
pub mod openai;
pub mod scripted;
pub mod wasm;

use crate::request::{InferRequest, ProviderAnswer, ProviderError};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// What an HTTP API adapter is built from.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiConfig {
    /// Base URL without a trailing slash, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    /// The API key, if the API needs one. Never logged or traced.
    pub api_key: Option<String>,
    /// The model name sent with each request.
    pub model: String,
    /// Per-request timeout.
    pub timeout: Duration,
}

/// A boxed future, so providers can be used as trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A model behind some API.
pub trait Provider: Send + Sync {
    /// For traces and statistics: `openai`, `anthropic`, `scripted`, …
    fn name(&self) -> &str;
    /// Whether the schema root must be an object (then primitive and list
    /// targets are wrapped as `{"value": …}`).
    fn needs_object_root(&self) -> bool {
        true
    }
    /// One request, one answer (no retries here; see [`Retrying`]).
    fn complete<'a>(
        &'a self,
        request: &'a InferRequest,
    ) -> BoxFuture<'a, Result<ProviderAnswer, ProviderError>>;
}

/// How a provider's transient failures are retried.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Total tries of one request (1: no retry).
    pub attempts: u32,
    /// Delay before the first retry; doubles each time.
    pub base_delay: Duration,
    /// Upper bound on one delay (also caps a server's `retry-after`).
    pub max_delay: Duration,
    /// How long one request may take.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            attempts: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            timeout: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `n` (1-based) after `error`.
    pub fn delay(&self, n: u32, error: &ProviderError) -> Duration {
        if let ProviderError::Http {
            retry_after: Some(secs),
            ..
        } = error
        {
            if secs.is_finite() && *secs >= 0.0 {
                return Duration::from_secs_f64(*secs).min(self.max_delay);
            }
        }
        let factor = 2u32.saturating_pow(n.saturating_sub(1));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// A provider whose transient failures are retried with exponential
/// backoff (honouring `retry-after`), each try bounded by the timeout.
pub struct Retrying<P> {
    pub inner: P,
    pub policy: RetryPolicy,
}

impl<P: Provider> Provider for Retrying<P> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn needs_object_root(&self) -> bool {
        self.inner.needs_object_root()
    }
    fn complete<'a>(
        &'a self,
        request: &'a InferRequest,
    ) -> BoxFuture<'a, Result<ProviderAnswer, ProviderError>> {
        Box::pin(async move {
            let mut n = 0;
            loop {
                n += 1;
                let timeout = self.policy.timeout;
                let result = match tokio::time::timeout(timeout, self.inner.complete(request)).await
                {
                    Ok(r) => r,
                    Err(_) => Err(ProviderError::Timeout {
                        seconds: timeout.as_secs_f64(),
                    }),
                };
                match result {
                    Err(e) if e.is_transient() && n < self.policy.attempts => {
                        tokio::time::sleep(self.policy.delay(n, &e)).await;
                    }
                    other => return other,
                }
            }
        })
    }
}

/// Try each provider in order; the first answer wins. Configuration and
/// refusal errors do not fall through (another provider would not help
/// with a bad request), everything else does.
pub struct Fallback {
    pub chain: Vec<Box<dyn Provider>>,
    name: String,
}

impl Fallback {
    pub fn new(chain: Vec<Box<dyn Provider>>) -> Fallback {
        let name = chain.iter().map(|p| p.name()).collect::<Vec<_>>().join("|");
        Fallback { chain, name }
    }
}

impl Provider for Fallback {
    fn name(&self) -> &str {
        &self.name
    }
    fn needs_object_root(&self) -> bool {
        self.chain.iter().any(|p| p.needs_object_root())
    }
    fn complete<'a>(
        &'a self,
        request: &'a InferRequest,
    ) -> BoxFuture<'a, Result<ProviderAnswer, ProviderError>> {
        Box::pin(async move {
            let mut last = ProviderError::Config("the fallback chain is empty".into());
            for p in &self.chain {
                match p.complete(request).await {
                    Ok(a) => return Ok(a),
                    Err(e @ ProviderError::Refusal(_)) => return Err(e),
                    Err(e) => last = e,
                }
            }
            Err(last)
        })
    }
}
