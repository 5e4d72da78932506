//! The HTTP plumbing the API adapters share: one client, JSON in and out,
//! and provider errors mapped from transport and status failures.

use crate::request::ProviderError;
use serde_json::Value as Json;
use std::sync::OnceLock;
use std::time::Duration;

/// A reqwest client with rustls (ring) and the given timeout.
/// Install ring as the process-wide TLS crypto provider (once).
pub fn ensure_crypto() {
    static CRYPTO: OnceLock<()> = OnceLock::new();
    CRYPTO.get_or_init(|| {
        // Another component may have installed one already: either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

pub fn client(timeout: Duration) -> Result<reqwest::Client, ProviderError> {
    ensure_crypto();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("turn/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ProviderError::Config(format!("cannot build the HTTP client: {e}")))
}

/// POST `body` as JSON to `url` with `headers`; the parsed JSON reply.
pub async fn post_json(
    client: &reqwest::Client,
    url: &str,
    headers: &[(String, String)],
    body: &Json,
    timeout: Duration,
) -> Result<Json, ProviderError> {
    let mut req = client.post(url).json(body);
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let resp = req.send().await.map_err(|e| transport_error(e, timeout))?;
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<f64>().ok());
    let text = resp.text().await.map_err(|e| transport_error(e, timeout))?;
    if status >= 400 {
        return Err(ProviderError::Http {
            status,
            message: error_message(&text),
            retry_after,
        });
    }
    serde_json::from_str(&text)
        .map_err(|e| ProviderError::Malformed(format!("{e} in {}", preview(&text))))
}

/// Transport failures, without the URL (a driver's URL may carry a resolved
/// secret; an API's never should, but messages stay clean either way).
pub(crate) fn transport_error(e: reqwest::Error, timeout: Duration) -> ProviderError {
    let e = e.without_url();
    if e.is_timeout() {
        ProviderError::Timeout {
            seconds: timeout.as_secs_f64(),
        }
    } else if e.is_decode() || e.is_body() {
        ProviderError::Malformed(e.to_string())
    } else {
        ProviderError::Connect(e.to_string())
    }
}

/// The message of an error body (`{"error": {"message": …}}` and friends).
pub(crate) fn error_message(body: &str) -> String {
    if let Ok(j) = serde_json::from_str::<Json>(body) {
        let candidates = [
            j.pointer("/error/message"),
            j.pointer("/error"),
            j.pointer("/message"),
            j.pointer("/detail"),
        ];
        if let Some(m) = candidates.into_iter().flatten().find_map(|v| v.as_str()) {
            return m.to_string();
        }
    }
    preview(body)
}

/// The start of a body, for messages.
pub fn preview(text: &str) -> String {
    let t: String = text.chars().take(200).collect();
    if t.len() < text.len() {
        format!("{t}…")
    } else {
        t
    }
}
