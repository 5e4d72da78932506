//! Effect answers as bytes (for the log) and request digests (to notice a
//! replay that asks for something else than the recorded run did).

use serde::{Deserialize, Serialize};
use turn_bytecode::Program;
use turn_vm::snapshot::Portable;
use turn_vm::{Effect, RtError, Value};

#[derive(Serialize, Deserialize)]
enum Stored {
    Ok(Portable),
    Err {
        kind: String,
        message: String,
        data: Portable,
    },
}

/// Bump when the answer encoding changes.
const ANSWER_VERSION: u8 = 1;

pub fn encode(answer: &Result<Value, RtError>) -> Vec<u8> {
    let stored = match answer {
        Ok(v) => Stored::Ok(Portable::of(v)),
        Err(e) => Stored::Err {
            kind: e.kind.to_string(),
            message: e.message.clone(),
            data: Portable::of(&e.data),
        },
    };
    let mut out = vec![ANSWER_VERSION];
    out.extend(postcard::to_stdvec(&stored).unwrap_or_default());
    out
}

pub fn decode(bytes: &[u8], program: &Program) -> Result<Result<Value, RtError>, RtError> {
    let damaged = |why: String| RtError::new("log", format!("a logged answer is damaged: {why}"));
    let Some((&ANSWER_VERSION, body)) = bytes.split_first() else {
        return Err(damaged("unknown encoding".into()));
    };
    let stored: Stored = postcard::from_bytes(body).map_err(|e| damaged(e.to_string()))?;
    Ok(match stored {
        Stored::Ok(p) => Ok(p.to_value(program)?),
        Stored::Err {
            kind,
            message,
            data,
        } => Err(RtError {
            data: data.to_value(program)?,
            ..RtError::new(RtError::kind_named(&kind), message)
        }),
    })
}

/// The log's name for an effect: `infer`, `tool:NAME`, `time.now`, …
pub fn kind(e: &Effect) -> String {
    match e {
        Effect::Tool { name, .. } => format!("tool:{name}"),
        other => other.name().to_string(),
    }
}

/// A hash of everything the request depends on.
pub fn digest(e: &Effect) -> String {
    let mut h = blake3::Hasher::new();
    h.update(kind(e).as_bytes());
    h.update(&[0]);
    let mut value = |v: &Value| {
        h.update(&postcard::to_stdvec(&Portable::of(v)).unwrap_or_default());
    };
    match e {
        Effect::Tool { arg, .. } => value(arg),
        Effect::Sleep { seconds } => value(&Value::Num(*seconds)),
        Effect::Infer {
            ty,
            prompt,
            context,
        } => {
            value(&Value::str(format!("{ty:?}")));
            value(&Value::str(prompt.as_str()));
            for (tier, text) in context {
                value(&Value::str(format!("{}:{text}", tier.name())));
            }
        }
        Effect::Io { identity, args, .. } => {
            value(&Value::Identity(*identity));
            for a in args {
                value(a);
            }
        }
        Effect::Grant { kind, name } => {
            value(&Value::str(kind.as_str()));
            value(&Value::str(name.as_str()));
        }
        Effect::Embed { texts } => {
            for t in texts {
                value(&Value::str(t.as_str()));
            }
        }
        _ => {}
    }
    h.finalize().to_hex()[..16].to_string()
}
