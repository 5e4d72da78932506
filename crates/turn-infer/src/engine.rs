//! The `infer` loop: ask, validate, re-ask with the reasons, give up after
//! the retry budget. A value leaves this loop only when it conforms to the
//! target type.

use crate::confidence::{self, Confidence};
use crate::providers::Provider;
use crate::request::{InferRequest, Message, ModelParams, ProviderAnswer, ProviderError, Usage};
use crate::validate::{self, Issue};
use std::rc::Rc;
use std::time::{Duration, Instant};
use turn_bytecode::{StructDef, Ty};
use turn_vm::value::Uncertain;
use turn_vm::Value;

/// What an `infer` asks for.
pub struct Target<'a> {
    pub ty: &'a Ty,
    pub structs: &'a [StructDef],
}

impl Target<'_> {
    /// The schema's name: the struct name, or the type written out.
    pub fn name(&self) -> String {
        match self.ty {
            Ty::Struct(sid) => self
                .structs
                .get(*sid as usize)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            other => other
                .display(self.structs)
                .to_string()
                .chars()
                .map(|c| if c.is_alphanumeric() { c } else { '_' })
                .collect::<String>()
                .trim_matches('_')
                .to_string(),
        }
    }
    /// Whether the schema root is not an object (so some providers need a
    /// `{"value": …}` wrapper).
    pub fn is_primitive(&self) -> bool {
        !matches!(self.ty, Ty::Struct(_) | Ty::Map(_))
    }
}

#[derive(Clone, Debug)]
pub struct Options {
    /// Re-asks after an invalid answer (so `retries + 1` answers at most).
    pub retries: u32,
    pub params: ModelParams,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            retries: 3,
            params: ModelParams::default(),
        }
    }
}

/// A conforming answer.
#[derive(Debug)]
pub struct InferOutput {
    /// The value, wrapped as `Uncertain` unless the confidence is 1.
    pub value: Value,
    pub confidence: Confidence,
    /// The accepted answer's text.
    pub raw: String,
    pub attempts: u32,
    pub usage: Usage,
    pub latency: Duration,
    pub model: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum InferError {
    /// Every answer failed validation.
    #[error("the model's answers did not match `{type_name}` after {attempts} attempts: {}", .reasons.join("; "))]
    Invalid {
        type_name: String,
        raw: String,
        reasons: Vec<String>,
        attempts: u32,
        usage: Usage,
    },
    #[error("{error}")]
    Provider {
        error: ProviderError,
        attempts: u32,
        usage: Usage,
    },
}

/// What happened, for `--trace`.
#[derive(Debug)]
pub enum TraceEvent<'a> {
    Request {
        attempt: u32,
        provider: &'a str,
        request: &'a InferRequest,
    },
    Answer {
        attempt: u32,
        answer: &'a ProviderAnswer,
        latency: Duration,
    },
    Rejected {
        attempt: u32,
        reasons: &'a [String],
    },
    Accepted {
        attempt: u32,
        confidence: &'a Confidence,
    },
    Failed {
        attempt: u32,
        error: &'a ProviderError,
    },
}

/// The instruction appended to the prompt so models without structured
/// output know what to produce.
fn schema_instruction(request: &InferRequest) -> String {
    format!(
        "Answer with JSON only, no prose, matching this JSON Schema:\n{}",
        serde_json::to_string(&request.schema).unwrap_or_default()
    )
}

/// Ask `provider` for a value of `target`'s type.
pub async fn infer(
    provider: &dyn Provider,
    target: &Target<'_>,
    context: Vec<Message>,
    prompt: &str,
    options: &Options,
    trace: &mut (dyn FnMut(TraceEvent<'_>) + Send),
) -> Result<InferOutput, InferError> {
    infer_with_schema(provider, target, None, context, prompt, options, trace).await
}

/// [`infer`] with the type's JSON Schema given by the caller (it depends only
/// on the program, so hosts compute it once per type).
pub async fn infer_with_schema(
    provider: &dyn Provider,
    target: &Target<'_>,
    schema: Option<&serde_json::Value>,
    context: Vec<Message>,
    prompt: &str,
    options: &Options,
    trace: &mut (dyn FnMut(TraceEvent<'_>) + Send),
) -> Result<InferOutput, InferError> {
    let wrapped = target.is_primitive() && provider.needs_object_root();
    let inner_schema = match schema {
        Some(s) => s.clone(),
        None => turn_sema::schema_for(target.ty, target.structs),
    };
    let schema = if wrapped {
        serde_json::json!({
            "type": "object",
            "properties": { "value": inner_schema },
            "required": ["value"],
            "additionalProperties": false,
        })
    } else {
        inner_schema
    };
    let type_name = target.name();
    let mut messages = context;
    messages.push(Message::user(prompt));
    let mut request = InferRequest {
        messages,
        schema,
        wrapped,
        type_name: type_name.clone(),
        params: options.params.clone(),
    };
    let instruction = schema_instruction(&request);
    if let Some(last) = request.messages.last_mut() {
        last.content = format!("{}\n\n{instruction}", last.content);
    }
    let mut usage = Usage::default();
    let started = Instant::now();
    let mut last_raw = String::new();
    let mut last_reasons = Vec::new();
    let attempts = options.retries.saturating_add(1);
    for attempt in 1..=attempts {
        trace(TraceEvent::Request {
            attempt,
            provider: provider.name(),
            request: &request,
        });
        let asked = Instant::now();
        let answer = match provider.complete(&request).await {
            Ok(a) => a,
            Err(error) => {
                trace(TraceEvent::Failed {
                    attempt,
                    error: &error,
                });
                return Err(InferError::Provider {
                    error,
                    attempts: attempt,
                    usage,
                });
            }
        };
        usage += answer.usage;
        trace(TraceEvent::Answer {
            attempt,
            answer: &answer,
            latency: asked.elapsed(),
        });
        match validate::validate(&answer.text, target.ty, target.structs, wrapped) {
            Ok(v) => {
                let fields = if answer.tokens.is_some() {
                    validate::field_spans(&answer.text, &v.span)
                } else {
                    Vec::new()
                };
                let confidence = confidence::of_answer(&answer, &v.span, &fields);
                trace(TraceEvent::Accepted {
                    attempt,
                    confidence: &confidence,
                });
                let value = with_confidence(v.value, &confidence);
                return Ok(InferOutput {
                    value,
                    confidence,
                    raw: answer.text,
                    attempts: attempt,
                    usage,
                    latency: started.elapsed(),
                    model: answer.model,
                });
            }
            Err(issues) => {
                let reasons: Vec<String> = issues.iter().map(Issue::to_string).collect();
                trace(TraceEvent::Rejected {
                    attempt,
                    reasons: &reasons,
                });
                request
                    .messages
                    .push(Message::assistant(answer.text.clone()));
                request.messages.push(Message::user(format!(
                    "That answer does not match the schema:\n- {}\nAnswer again with JSON only that matches the schema exactly.",
                    reasons.join("\n- ")
                )));
                last_raw = answer.text;
                last_reasons = reasons;
            }
        }
    }
    Err(InferError::Invalid {
        type_name,
        raw: last_raw,
        reasons: last_reasons,
        attempts,
        usage,
    })
}

/// The value with its confidence (and per-field confidences) attached.
pub fn with_confidence(value: Value, c: &Confidence) -> Value {
    if c.value >= 1.0 && c.fields.is_none() {
        return value;
    }
    Value::Uncertain(Rc::new(Uncertain {
        value,
        confidence: c.value,
        fields: c.fields.clone(),
    }))
}
