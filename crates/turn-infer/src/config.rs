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
    /// Host tools and grants (read by the CLI, not here).
    #[serde(default)]
    #[allow(dead_code)]
    tools: toml::Table,
    #[serde(default)]
    #[allow(dead_code)]
    grant: Vec<toml::Value>,
    #[serde(default)]
    #[allow(dead_code)]
    secrets: toml::Table,
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
    if name == "ollama" {
        // OLLAMA_HOST is often just host or host:port.
        base_url = crate::providers::ollama::base_url_from_host(&base_url);
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
        path if path.ends_with(".wasm") => {
            let d = crate::providers::wasm::WasmDriver::load(std::path::Path::new(path), policy.timeout)
                .map_err(|e| e.to_string())?;
            Ok(Box::new(Retrying { inner: d, policy }))
        }
        "openai" => {
            let p = crate::providers::openai::OpenAi::new(api_config(name, settings, env)?).map_err(|e| e.to_string())?;
            Ok(Box::new(Retrying { inner: p, policy }))
        }
        "anthropic" => {
            let p = crate::providers::anthropic::Anthropic::new(api_config(name, settings, env)?)
                .map_err(|e| e.to_string())?;
            Ok(Box::new(Retrying { inner: p, policy }))
        }
        "gemini" => {
            let p = crate::providers::gemini::Gemini::new(api_config(name, settings, env)?).map_err(|e| e.to_string())?;
            Ok(Box::new(Retrying { inner: p, policy }))
        }
        "ollama" => {
            let p = crate::providers::ollama::Ollama::new(api_config(name, settings, env)?).map_err(|e| e.to_string())?;
            Ok(Box::new(Retrying { inner: p, policy }))
        }
        other => Err(format!(
            "unknown provider `{other}` (use scripted, openai, anthropic, gemini, ollama, local or a path to a .wasm driver)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn flags_beat_environment_beat_turn_toml() {
        let toml = "[infer]\nprovider = \"anthropic\"\nmodel = \"from-toml\"\nretries = 5\ntimeout_s = 9\n";
        let none = Overrides::default();
        let s = resolve(Some(toml), &env_of(&[]), &none).expect("resolves");
        assert_eq!(
            (s.provider.as_str(), s.params.model.as_deref(), s.retries),
            ("anthropic", Some("from-toml"), 5)
        );
        assert_eq!(s.policy.timeout, Duration::from_secs(9));
        let s = resolve(
            Some(toml),
            &env_of(&[("TURN_PROVIDER", "gemini"), ("TURN_MODEL", "m-env")]),
            &none,
        )
        .expect("env");
        assert_eq!(
            (s.provider.as_str(), s.params.model.as_deref()),
            ("gemini", Some("m-env"))
        );
        let cli = Overrides {
            provider: Some("openai".into()),
            model: Some("m-cli".into()),
            ..Overrides::default()
        };
        let s = resolve(Some(toml), &env_of(&[("TURN_PROVIDER", "gemini")]), &cli).expect("cli");
        assert_eq!(
            (s.provider.as_str(), s.params.model.as_deref()),
            ("openai", Some("m-cli"))
        );
    }

    #[test]
    fn defaults_and_scripted_inference() {
        let s = resolve(None, &env_of(&[]), &Overrides::default()).expect("defaults");
        assert_eq!((s.provider.as_str(), s.retries), ("local", 3));
        let cli = Overrides {
            responses: Some("a.jsonl".into()),
            ..Overrides::default()
        };
        assert_eq!(
            resolve(None, &env_of(&[]), &cli)
                .expect("scripted")
                .provider,
            "scripted"
        );
    }

    #[test]
    fn bad_turn_toml_is_reported() {
        let err = resolve(
            Some("[infer]\nprovidr = \"x\"\n"),
            &env_of(&[]),
            &Overrides::default(),
        )
        .expect_err("typo");
        assert!(
            err.starts_with("turn.toml:") && err.contains("providr"),
            "{err}"
        );
        assert!(resolve(
            Some("[infer]\ntimeout_s = -1\n"),
            &env_of(&[]),
            &Overrides::default()
        )
        .is_err());
    }

    #[test]
    fn api_keys_base_urls_and_models() {
        let s = resolve(None, &env_of(&[]), &Overrides::default()).expect("defaults");
        let err = api_config("openai", &s, &env_of(&[])).expect_err("no key for the real API");
        assert!(err.contains("OPENAI_API_KEY"), "{err}");
        let local = api_config(
            "openai",
            &s,
            &env_of(&[("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1/")]),
        )
        .expect("local server");
        assert_eq!(
            (local.base_url.as_str(), local.api_key),
            ("http://127.0.0.1:8000/v1", None)
        );
        let keyed =
            api_config("anthropic", &s, &env_of(&[("ANTHROPIC_API_KEY", "k")])).expect("keyed");
        assert_eq!(keyed.api_key.as_deref(), Some("k"));
        let ollama = api_config("ollama", &s, &env_of(&[("OLLAMA_HOST", "10.0.0.5:11434")]))
            .expect("ollama");
        assert!(
            ollama.base_url.starts_with("http://10.0.0.5:11434"),
            "{}",
            ollama.base_url
        );
        let toml = "[providers.openai]\nbase_url = \"http://h/v1\"\napi_key_env = \"MY_KEY\"\nmodel = \"m\"\n";
        let s = resolve(Some(toml), &env_of(&[]), &Overrides::default()).expect("sections");
        let c = api_config("openai", &s, &env_of(&[("MY_KEY", "secret")])).expect("section");
        assert_eq!(
            (c.base_url.as_str(), c.api_key.as_deref(), c.model.as_str()),
            ("http://h/v1", Some("secret"), "m")
        );
    }

    #[test]
    fn unknown_and_unavailable_providers_say_what_to_do() {
        let mut s = resolve(None, &env_of(&[]), &Overrides::default()).expect("defaults");
        let err = build(&s, &env_of(&[])).err().unwrap_or_default();
        assert!(err.contains("TURN_PROVIDER"), "{err}");
        s.provider = "nope".into();
        assert!(build(&s, &env_of(&[]))
            .err()
            .unwrap_or_default()
            .contains("unknown provider"));
    }
}
