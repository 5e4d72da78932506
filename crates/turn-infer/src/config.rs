//! Which provider answers `infer`: CLI flags first, then the environment
//! (`TURN_PROVIDER`, `TURN_MODEL`, and each provider's usual variables such
//! as `OPENAI_API_KEY`), then the project's `turn.toml`, then the default.
//!
//! ```toml
//! [infer]
//! provider = "openai"          # scripted | openai | anthropic | gemini | ollama | local | path/to/driver.wasm
//! model = "gpt-4o-mini"
//! fallback = ["anthropic"]     # tried in order when the provider fails
//! retries = 3                  # re-asks after an answer that does not validate
//! attempts = 3                 # tries of one request on 429/5xx/timeouts
//! backoff_ms = 500             # first retry delay; doubles, capped at 30 s
//! timeout_s = 120
//! temperature = 0
//!
//! [providers.openai]
//! base_url = "http://127.0.0.1:8000/v1"   # any OpenAI-compatible server
//! api_key_env = "OPENAI_API_KEY"
//! ```

use crate::providers::{ApiConfig, RetryPolicy};
use crate::request::ModelParams;
use indexmap::IndexMap;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    infer: InferSection,
    #[serde(default)]
    providers: IndexMap<String, ProviderSection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct InferSection {
    provider: Option<String>,
    model: Option<String>,
    #[serde(default)]
    fallback: Vec<String>,
    retries: Option<u32>,
    attempts: Option<u32>,
    backoff_ms: Option<u64>,
    timeout_s: Option<f64>,
    temperature: Option<f64>,
    max_tokens: Option<u32>,
    seed: Option<u64>,
    responses: Option<String>,
}

/// Settings of one named provider.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProviderSection {
    pub base_url: Option<String>,
    /// The environment variable holding the key (default: the provider's own).
    pub api_key_env: Option<String>,
    pub model: Option<String>,
}

/// What the CLI says (highest priority).
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub provider: Option<String>,
    pub model: Option<String>,
    pub responses: Option<PathBuf>,
    pub retries: Option<u32>,
}

/// The resolved configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// `scripted`, `openai`, `anthropic`, `gemini`, `ollama`, `local`, or a
    /// path to a `.wasm` driver.
    pub provider: String,
    pub fallback: Vec<String>,
    pub retries: u32,
    pub params: ModelParams,
    pub policy: RetryPolicy,
    /// The scripted provider's JSONL file.
    pub responses: Option<PathBuf>,
    pub sections: IndexMap<String, ProviderSection>,
}

/// Resolve from `turn.toml` text (if any), the environment and the CLI.
pub fn resolve(
    toml_text: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
    cli: &Overrides,
) -> Result<Settings, String> {
    let file: File = match toml_text {
        Some(t) => toml::from_str(t).map_err(|e| format!("turn.toml: {e}"))?,
        None => File::default(),
    };
    let inf = file.infer;
    let responses = cli
        .responses
        .clone()
        .or_else(|| env("TURN_RESPONSES").map(PathBuf::from))
        .or_else(|| inf.responses.clone().map(PathBuf::from));
    let provider = cli
        .provider
        .clone()
        .or_else(|| env("TURN_PROVIDER"))
        .or(inf.provider)
        .unwrap_or_else(|| {
            if responses.is_some() {
                "scripted".into()
            } else {
                "local".into()
            }
        });
    let model = cli
        .model
        .clone()
        .or_else(|| env("TURN_MODEL"))
        .or(inf.model);
    let mut policy = RetryPolicy::default();
    if let Some(a) = inf.attempts {
        policy.attempts = a.max(1);
    }
    if let Some(ms) = inf.backoff_ms {
        policy.base_delay = Duration::from_millis(ms);
    }
    if let Some(t) = inf.timeout_s {
        if !(t.is_finite() && t > 0.0) {
            return Err("turn.toml: infer.timeout_s must be a positive number of seconds".into());
        }
        policy.timeout = Duration::from_secs_f64(t);
    }
    Ok(Settings {
        provider,
        fallback: inf.fallback,
        retries: cli.retries.or(inf.retries).unwrap_or(3),
        params: ModelParams {
            model,
            temperature: inf.temperature,
            max_tokens: inf.max_tokens,
            seed: inf.seed,
        },
        policy,
        responses,
        sections: file.providers,
    })
}

/// The defaults of each HTTP API: base URL, key variable, base-URL variable,
/// default model.
pub fn api_defaults(
    name: &str,
) -> Option<(
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
)> {
    Some(match name {
        "openai" => (
            "https://api.openai.com/v1",
            Some("OPENAI_API_KEY"),
            Some("OPENAI_BASE_URL"),
            "gpt-4o-mini",
        ),
        "anthropic" => (
            "https://api.anthropic.com/v1",
            Some("ANTHROPIC_API_KEY"),
            Some("ANTHROPIC_BASE_URL"),
            "claude-3-5-haiku-latest",
        ),
        "gemini" => (
            "https://generativelanguage.googleapis.com/v1beta",
            Some("GEMINI_API_KEY"),
            Some("GEMINI_BASE_URL"),
            "gemini-2.0-flash",
        ),
        "ollama" => (
            "http://127.0.0.1:11434",
            None,
            Some("OLLAMA_HOST"),
            "llama3.2",
        ),
        _ => return None,
    })
}

/// The `ApiConfig` of HTTP provider `name` under `settings`.
pub fn api_config(
    name: &str,
    settings: &Settings,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ApiConfig, String> {
    let (base, key_var, base_var, default_model) =
        api_defaults(name).ok_or_else(|| format!("`{name}` is not an HTTP provider"))?;
    let section = settings.sections.get(name).cloned().unwrap_or_default();
    let mut base_url = section
        .base_url
        .or_else(|| base_var.and_then(env))
        .unwrap_or_else(|| base.to_string());
    if name == "ollama" && !base_url.contains("://") {
        // OLLAMA_HOST is often just host:port.
        base_url = format!("http://{base_url}");
    }
    let key_var = section.api_key_env.as_deref().or(key_var);
    let api_key = key_var.and_then(env).filter(|k| !k.is_empty());
    let is_default_base = base_url.trim_end_matches('/') == base;
    if api_key.is_none() && key_var.is_some() && is_default_base && name != "ollama" {
        return Err(format!(
            "the `{name}` provider needs an API key: set {} (or point {} at a server that needs none)",
            key_var.unwrap_or("the key variable"),
            base_var.unwrap_or("base_url")
        ));
    }
    let model = settings
        .params
        .model
        .clone()
        .or(section.model)
        .unwrap_or_else(|| default_model.to_string());
    Ok(ApiConfig {
        base_url: base_url.trim_end_matches('/').to_string(),
        api_key,
        model,
        timeout: settings.policy.timeout,
    })
}

/// Build the provider chain the settings describe: the provider, then the
/// fallbacks, each retried on transient failures per the retry policy.
pub fn build(
    settings: &Settings,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Box<dyn crate::Provider>, String> {
    let mut chain = Vec::new();
    for name in std::iter::once(&settings.provider).chain(&settings.fallback) {
        chain.push(build_one(name, settings, env)?);
    }
    Ok(if chain.len() == 1 {
        chain.remove(0)
    } else {
        Box::new(crate::providers::Fallback::new(chain))
    })
}

fn build_one(
    name: &str,
    settings: &Settings,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Box<dyn crate::Provider>, String> {
    use crate::providers::{scripted::Scripted, Retrying};
    let policy = settings.policy.clone();
    match name {
        "scripted" => {
            let path = settings
                .responses
                .as_ref()
                .ok_or("the scripted provider needs a responses file: --responses FILE (or TURN_RESPONSES)")?;
            let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let s = Scripted::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(Box::new(s))
        }
        "local" => Err("no inference provider is configured. Set TURN_PROVIDER (openai, anthropic, gemini, ollama, \
             scripted, or a .wasm driver) with its key (e.g. OPENAI_API_KEY), or use --provider; the embedded local \
             model is not available in this build yet"
            .into()),
        // PENDING(wasm): wired when the driver adapter lands.
        "openai" => {
            let p = crate::providers::openai::OpenAi::new(api_config(name, settings, env)?).map_err(|e| e.to_string())?;
            Ok(Box::new(Retrying { inner: p, policy }))
        }
        "anthropic" => {
            let p = crate::providers::anthropic::Anthropic::new(api_config(name, settings, env)?)
                .map_err(|e| e.to_string())?;
            Ok(Box::new(Retrying { inner: p, policy }))
        }
        // PENDING(gemini, ollama): wired when the adapters land.
        other => Err(format!(
            "unknown provider `{other}` (use scripted, openai, anthropic, gemini, ollama, local or a path to a .wasm driver)"
        )),
    }
}
