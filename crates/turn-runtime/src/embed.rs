//! The built-in embedder: deterministic, offline, no model. Words and
//! character trigrams are hashed (blake3) into 384 signed buckets and the
//! vector is L2-normalized, so texts sharing words and word pieces score a
//! high cosine similarity. The local-model issue replaces it with MiniLM
//! behind the same effect; 384 dimensions match that model.

use turn_vm::Value;

pub const DIMS: usize = 384;

/// One embedding.
pub fn embed(text: &str) -> Vec<f64> {
    let mut v = vec![0.0f64; DIMS];
    let lower = text.to_lowercase();
    let mut add = |feature: &str, weight: f64| {
        let h = blake3::hash(feature.as_bytes());
        let b = h.as_bytes();
        let i = u16::from_le_bytes([b[0], b[1]]) as usize % DIMS;
        let sign = if b[2] & 1 == 0 { 1.0 } else { -1.0 };
        v[i] += sign * weight;
    };
    for word in lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        add(word, 1.0);
        let chars: Vec<char> = format!("^{word}$").chars().collect();
        for w in chars.windows(3) {
            add(&w.iter().collect::<String>(), 0.3);
        }
    }
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm > 0.0 {
        for x in &mut v {
            *x /= norm;
        }
    }
    v
}

/// The answer to an `Embed` effect: a list of vectors.
pub fn embed_all(texts: &[String]) -> Value {
    Value::list(
        texts
            .iter()
            .map(|t| Value::Vector(std::rc::Rc::new(embed(t))))
            .collect(),
    )
}
