//! Answering `infer` effects: the configured provider, the validation loop
//! of `turn-infer`, `--trace` output and `--stats` accounting.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use turn_bytecode::{Program, Ty};
use turn_infer::engine::{self, Options, Target, TraceEvent};
use turn_infer::{InferError, Provider, Usage};
use turn_vm::{RtError, Value};

/// One `infer` as accounted for `--stats`.
#[derive(Clone, Debug)]
pub struct InferCall {
    pub type_name: String,
    pub provider: String,
    pub model: Option<String>,
    pub attempts: u32,
    pub usage: Usage,
    pub latency: Duration,
    pub confidence: Option<f64>,
    pub ok: bool,
}

/// Totals for a run.
#[derive(Clone, Debug, Default)]
pub struct InferStats {
    pub calls: Vec<InferCall>,
}

impl InferStats {
    pub fn usage(&self) -> Usage {
        let mut u = Usage::default();
        for c in &self.calls {
            u += c.usage;
        }
        u
    }
    pub fn latency(&self) -> Duration {
        self.calls.iter().map(|c| c.latency).sum()
    }
    /// A human summary (`turn run --stats`).
    pub fn render(&self) -> String {
        let u = self.usage();
        let mut s = format!(
            "infer: {} call{}, {} tokens in, {} tokens out, {:.1} ms in total\n",
            self.calls.len(),
            if self.calls.len() == 1 { "" } else { "s" },
            u.input_tokens,
            u.output_tokens,
            self.latency().as_secs_f64() * 1000.0
        );
        for (i, c) in self.calls.iter().enumerate() {
            s.push_str(&format!(
                "  #{} {} via {}{}: {} attempt{}, {}→{} tokens, {:.1} ms{}{}\n",
                i + 1,
                c.type_name,
                c.provider,
                c.model
                    .as_deref()
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default(),
                c.attempts,
                if c.attempts == 1 { "" } else { "s" },
                c.usage.input_tokens,
                c.usage.output_tokens,
                c.latency.as_secs_f64() * 1000.0,
                c.confidence
                    .map(|x| format!(", confidence {x:.3}"))
                    .unwrap_or_default(),
                if c.ok { "" } else { ", failed" }
            ));
        }
        s
    }
}

/// A provider plus what is needed to drive it: options, `--trace`, and the
/// `--stats` accounting shared by every call under way.
pub struct Inference {
    provider: Rc<dyn Provider>,
    pub options: Options,
    /// Print each request and answer to stderr.
    pub trace: bool,
    pub stats: Rc<RefCell<InferStats>>,
}

impl Inference {
    pub fn new(provider: Box<dyn Provider>, options: Options) -> Result<Inference, String> {
        Ok(Inference {
            provider: Rc::from(provider),
            options,
            trace: false,
            stats: Rc::default(),
        })
    }

    /// Begin one `infer`, sending the rendered context: the system tier as
    /// one system message, the episodic and working tiers (oldest first) as
    /// one user message before the prompt. Many may be under way at once.
    pub fn start(
        &self,
        program: Rc<Program>,
        ty: Ty,
        prompt: String,
        context: &[(turn_vm::context::Tier, String)],
    ) -> crate::Started {
        let messages = messages(context);
        let provider = self.provider.clone();
        let options = self.options.clone();
        let stats = self.stats.clone();
        let trace = self.trace;
        Box::pin(async move {
            let schema = turn_sema::schema_for(&ty, &program.structs);
            let target = Target {
                ty: &ty,
                structs: &program.structs,
            };
            let type_name = target.name();
            let mut on_event = |e: TraceEvent<'_>| {
                if trace {
                    eprint!("{}", render_event(&e));
                }
            };
            let result = engine::infer_with_schema(
                provider.as_ref(),
                &target,
                Some(&schema),
                messages,
                &prompt,
                &options,
                &mut on_event,
            )
            .await;
            let name = provider.name().to_string();
            let mut stats = stats.borrow_mut();
            match result {
                Ok(out) => {
                    stats.calls.push(InferCall {
                        type_name,
                        provider: name,
                        model: out.model.clone(),
                        attempts: out.attempts,
                        usage: out.usage,
                        latency: out.latency,
                        confidence: Some(out.confidence.value),
                        ok: true,
                    });
                    Ok(out.value)
                }
                Err(e) => {
                    let (attempts, usage) = match &e {
                        InferError::Invalid {
                            attempts, usage, ..
                        }
                        | InferError::Provider {
                            attempts, usage, ..
                        } => (*attempts, *usage),
                    };
                    stats.calls.push(InferCall {
                        type_name,
                        provider: name,
                        model: None,
                        attempts,
                        usage,
                        latency: Duration::ZERO,
                        confidence: None,
                        ok: false,
                    });
                    Err(to_rt_error(e))
                }
            }
        })
    }
}

fn messages(context: &[(turn_vm::context::Tier, String)]) -> Vec<turn_infer::Message> {
    use turn_vm::context::Tier;
    let mut messages = Vec::new();
    let system: Vec<&str> = context
        .iter()
        .filter(|(t, _)| *t == Tier::System)
        .map(|(_, s)| s.as_str())
        .collect();
    if !system.is_empty() {
        messages.push(turn_infer::Message::system(system.join("\n\n")));
    }
    let notes: Vec<&str> = context
        .iter()
        .filter(|(t, _)| *t != Tier::System)
        .map(|(_, s)| s.as_str())
        .collect();
    if !notes.is_empty() {
        messages.push(turn_infer::Message::user(format!(
            "Context, oldest first:\n\n{}",
            notes.join("\n\n")
        )));
    }
    messages
}

/// `infer` failures as catchable Turn errors: kind `infer` when no answer
/// validated (data: the last raw answer and the reasons), kind `provider`
/// when the provider failed.
pub fn to_rt_error(e: InferError) -> RtError {
    let message = e.to_string();
    match e {
        InferError::Invalid {
            raw,
            reasons,
            attempts,
            ..
        } => {
            let mut data = turn_vm::value::Map::default();
            data.insert("raw".into(), Value::str(raw));
            data.insert(
                "reasons".into(),
                Value::list(reasons.into_iter().map(Value::str).collect()),
            );
            data.insert("attempts".into(), Value::Num(attempts as f64));
            RtError {
                data: Value::map(data),
                ..RtError::new("infer", message)
            }
        }
        InferError::Provider { attempts, .. } => {
            let mut data = turn_vm::value::Map::default();
            data.insert("attempts".into(), Value::Num(attempts as f64));
            RtError {
                data: Value::map(data),
                ..RtError::new("provider", message)
            }
        }
    }
}

fn render_event(e: &TraceEvent<'_>) -> String {
    match e {
        TraceEvent::Request {
            attempt,
            provider,
            request,
        } => format!(
            "[infer] → {provider} attempt {attempt}: {} ({} messages)\n{}\n",
            request.type_name,
            request.messages.len(),
            indent(&serde_json::to_string_pretty(&request.messages).unwrap_or_default())
        ),
        TraceEvent::Answer {
            attempt,
            answer,
            latency,
        } => format!(
            "[infer] ← attempt {attempt} in {:.1} ms ({}→{} tokens): {}\n",
            latency.as_secs_f64() * 1000.0,
            answer.usage.input_tokens,
            answer.usage.output_tokens,
            answer.text
        ),
        TraceEvent::Rejected { attempt, reasons } => {
            format!(
                "[infer] ✗ attempt {attempt} rejected: {}\n",
                reasons.join("; ")
            )
        }
        TraceEvent::Accepted {
            attempt,
            confidence,
        } => format!(
            "[infer] ✓ attempt {attempt} accepted, confidence {:.3} ({:?}){}\n",
            confidence.value,
            confidence.source,
            confidence
                .fields
                .as_ref()
                .map(|f| format!(", fields {f:?}"))
                .unwrap_or_default()
        ),
        TraceEvent::Failed { attempt, error } => {
            format!("[infer] ✗ attempt {attempt} failed: {error}\n")
        }
    }
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
