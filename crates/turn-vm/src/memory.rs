//! Semantic recall: `memory.search(query, k)` over the process's memory.
//!
//! An entry is embedded as `key + ": " + display(value)`. Embeddings come
//! only through [`Effect::Embed`]: one effect per search, embedding the
//! query and every entry not cached yet. The cache (per key, dropped by
//! `remember` and `forget`) belongs to the process and is checkpointed.
//! Results are ranked by cosine similarity, highest first, ties in
//! insertion order.

use crate::effect::Effect;
use crate::error::RtError;
use crate::ops::{article, describe_type};
use crate::value::{Map, Value};
use crate::vm::{Outcome, Pending, Vm};
use indexmap::IndexMap;
use std::rc::Rc;

/// Embeddings of memory entries by key.
pub type Embeddings = IndexMap<String, Rc<Vec<f64>>>;

impl Vm {
    /// `memory.search(query, k)` with its arguments above `callee_at`.
    pub(crate) fn memory_search(&mut self, callee_at: usize) -> Result<Option<Outcome>, RtError> {
        let arg = |i: usize| self.stack.get(callee_at + i).cloned().unwrap_or_default();
        let (query, k) = (arg(1), arg(2));
        self.stack.truncate(callee_at);
        let Value::Str(query) = query.plain() else {
            return Err(self.search_type_error("Str", "first", &query));
        };
        let Value::Num(k) = k.plain() else {
            return Err(self.search_type_error("Num", "second", &k));
        };
        if k.is_nan() || (k.is_finite() && k.fract() != 0.0) {
            return Err(RtError::value_error(format!(
                "memory.search: k must be a whole number, found {}",
                crate::value::num_to_string(*k)
            )));
        }
        if *k <= 0.0 || self.memory.is_empty() {
            self.stack.push(Value::list(Vec::new()));
            return Ok(None);
        }
        // `as` saturates: an infinite k asks for every entry.
        let k = *k as usize;
        // It reads every entry (and displays the new ones): charge for that.
        self.charge(self.memory.len() * 48 / 4096)?;
        let mut texts = vec![query.to_string()];
        let mut keys = Vec::new();
        for (key, v) in &self.memory {
            if !self.embeddings.contains_key(key) {
                texts.push(format!(
                    "{key}: {}",
                    crate::display::display(v, &self.program)?
                ));
                keys.push(key.clone());
            }
        }
        self.pending = Pending::Search { k, keys };
        Ok(Some(Outcome::Effect(Effect::Embed { texts })))
    }

    fn search_type_error(&self, expected: &str, nth: &str, found: &Value) -> RtError {
        RtError::type_error(format!(
            "memory.search expects {} as its {nth} argument, found {}",
            article(expected),
            describe_type(found, &self.program)
        ))
    }

    /// The answer to a search's `Embed`: cache the new embeddings and rank.
    pub(crate) fn finish_search(
        &mut self,
        k: usize,
        keys: &[String],
        answer: &Value,
    ) -> Result<Value, RtError> {
        let vectors = match answer.plain() {
            Value::List(l) if l.len() == keys.len() + 1 => l
                .iter()
                .map(|v| match v.plain() {
                    Value::Vector(x) => Some(x.clone()),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>(),
            _ => None,
        };
        let Some(mut vectors) = vectors else {
            return Err(RtError::new(
                "embed",
                format!(
                    "the embedder did not answer with {} vectors",
                    keys.len() + 1
                ),
            ));
        };
        let query = vectors.remove(0);
        self.charge(self.memory.len().saturating_mul(query.len()) * 8 / 4096)?;
        for (key, v) in keys.iter().zip(vectors) {
            self.embeddings.insert(key.clone(), v);
        }
        let mut scored = Vec::with_capacity(self.memory.len());
        for (key, value) in &self.memory {
            let v = self.embeddings.get(key).ok_or_else(|| {
                RtError::internal("a memory entry has no embedding after the search")
            })?;
            scored.push((cosine(&query, v)?, key, value));
        }
        // Stable: equal scores keep insertion order.
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        Ok(Value::list(
            scored
                .into_iter()
                .take(k)
                .map(|(score, key, value)| {
                    let mut m = Map::default();
                    m.insert("key".into(), Value::str(key.as_str()));
                    m.insert("value".into(), value.clone());
                    m.insert("score".into(), Value::Num(score));
                    Value::map(m)
                })
                .collect(),
        ))
    }
}

/// Cosine similarity; 0 when either vector is zero (NaN counts as lowest).
fn cosine(a: &[f64], b: &[f64]) -> Result<f64, RtError> {
    if a.len() != b.len() {
        return Err(RtError::new(
            "embed",
            format!(
                "embeddings of different sizes ({} and {}) cannot be compared",
                a.len(),
                b.len()
            ),
        ));
    }
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f64>().sqrt();
    let c = if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    };
    Ok(if c.is_nan() { f64::NEG_INFINITY } else { c })
}

#[cfg(test)]
mod tests {
    use super::cosine;

    #[test]
    fn cosine_of_parallel_orthogonal_zero_and_mismatched_vectors() {
        assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]).expect("same size") - 1.0).abs() < 1e-12);
        assert_eq!(cosine(&[1.0, 0.0], &[0.0, 3.0]).expect("same size"), 0.0);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 1.0]).expect("same size"), 0.0);
        assert_eq!(
            cosine(&[1.0], &[1.0, 0.0]).expect_err("sizes").kind,
            "embed"
        );
    }
}
