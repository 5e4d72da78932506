//! Typed inference: what `infer T { prompt }` does between the VM asking and
//! a value of type `T` (or a catchable error) coming back.
//!
//! - [`request`]: the provider-neutral request and answer types.
//! - [`validate`]: an answer's text -> JSON -> a Turn value that conforms to
//!   `T`, or the precise reasons it does not (Theorem 1 of the paper: a value
//!   bound by `infer T` conforms to `T`).
//! - [`confidence`]: certainty from token log-probabilities, per field.
//! - [`engine`]: the loop: ask, validate, re-ask with the reasons, give up
//!   after the retry budget; accounting and trace events.
//! - [`providers`]: the adapters (scripted, OpenAI-compatible, Anthropic,
//!   Gemini, Ollama, Wasm drivers), retry with backoff, and fallback chains.
//! - [`config`]: which provider, from `turn.toml`, the environment and flags.
//!
//! Secrets (API keys) live only inside adapters and are sent only in the
//! headers of the provider's own requests; traces redact them.

pub mod confidence;
pub mod config;
pub mod engine;
pub mod providers;
pub mod request;
pub mod validate;

pub use engine::{infer, InferError, InferOutput, TraceEvent};
pub use providers::{Provider, RetryPolicy};
pub use request::{
    InferRequest, Message, ModelParams, ProviderAnswer, ProviderError, Role, TokenLogprob, Usage,
};
