//! Provider-neutral request and answer types.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    pub fn system(content: impl Into<String>) -> Message {
        Message {
            role: Role::System,
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Message {
        Message {
            role: Role::User,
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Message {
        Message {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// Model parameters; `None` leaves the provider's default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelParams {
    pub model: Option<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub seed: Option<u64>,
}

/// One request to a provider.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InferRequest {
    /// The rendered context (system first) and, last, the prompt as a user
    /// message; on a retry, the rejected answer and the reasons follow.
    pub messages: Vec<Message>,
    /// The JSON Schema of the target type (already wrapped when `wrapped`).
    pub schema: Json,
    /// The target is a primitive or a list, wrapped as `{"value": …}` because
    /// the provider needs an object at the root.
    pub wrapped: bool,
    /// A name for the schema (the struct name, or e.g. `List_Str`).
    pub type_name: String,
    pub params: ModelParams,
}

impl InferRequest {
    /// The prompt (the last user message).
    pub fn prompt(&self) -> &str {
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .map(|m| m.content.as_str())
            .unwrap_or("")
    }
    /// The system messages joined, for providers with a separate system field.
    pub fn system_text(&self) -> Option<String> {
        let parts: Vec<&str> = self
            .messages
            .iter()
            .filter(|m| m.role == Role::System)
            .map(|m| m.content.as_str())
            .collect();
        if parts.is_empty() {
            None
        } else {
            Some(parts.join("\n\n"))
        }
    }
}

/// One token of the answer with its log-probability (natural log).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenLogprob {
    pub token: String,
    pub logprob: f64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, o: Usage) {
        self.input_tokens += o.input_tokens;
        self.output_tokens += o.output_tokens;
    }
}

/// What a provider answered.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProviderAnswer {
    /// The answer as text (JSON, possibly fenced, possibly invalid).
    pub text: String,
    /// The answer's tokens, when the provider returns log-probabilities.
    /// Their texts concatenate to `text`.
    pub tokens: Option<Vec<TokenLogprob>>,
    /// A certainty the provider reported itself, in [0, 1].
    pub confidence: Option<f64>,
    pub usage: Usage,
    /// The model that answered, as the provider names it.
    pub model: Option<String>,
}

/// Why a provider gave no answer.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ProviderError {
    #[error("HTTP {status} from the provider: {message}")]
    Http {
        status: u16,
        message: String,
        retry_after: Option<f64>,
    },
    #[error("the provider did not answer within {seconds} s")]
    Timeout { seconds: f64 },
    #[error("cannot reach the provider: {0}")]
    Connect(String),
    #[error("the provider's reply could not be read: {0}")]
    Malformed(String),
    #[error("the model refused: {0}")]
    Refusal(String),
    #[error("{0}")]
    Config(String),
    #[error("no scripted answer matches this request: {0}")]
    Unmatched(String),
}

impl ProviderError {
    /// Whether trying again may help (rate limits, server errors, timeouts,
    /// refused connections).
    pub fn is_transient(&self) -> bool {
        match self {
            ProviderError::Http { status, .. } => {
                *status == 408 || *status == 409 || *status == 429 || *status >= 500
            }
            ProviderError::Timeout { .. } | ProviderError::Connect(_) => true,
            _ => false,
        }
    }
}
