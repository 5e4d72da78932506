//! How certain the model was, from what the provider returned.
//!
//! With token log-probabilities, the confidence of a span of the answer is
//! the geometric mean of the probabilities of the tokens that overlap it:
//! `exp(mean(logprob))`. That is the length-normalised probability of the
//! span, so a long string is not penalised for being long, and one very
//! unlikely token still pulls it down. The value's confidence uses the
//! tokens of the whole target value; each top-level field gets its own from
//! the tokens of its value. Without log-probabilities the provider's own
//! score is used, else 0.5 (the neutral midpoint the paper prescribes).

use crate::request::ProviderAnswer;
use indexmap::IndexMap;
use std::ops::Range;

/// Where a confidence came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Logprobs,
    Provider,
    Default,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Confidence {
    pub value: f64,
    /// Per top-level field, when the tokens could be aligned to the fields.
    pub fields: Option<IndexMap<String, f64>>,
    pub source: Source,
}

/// The neutral confidence when nothing better is known.
pub const DEFAULT: f64 = 0.5;

/// The confidence of an answer whose target value spans `span` of its text
/// and whose top-level fields span `fields`.
pub fn of_answer(
    answer: &ProviderAnswer,
    span: &Range<usize>,
    fields: &[(String, Range<usize>)],
) -> Confidence {
    if let Some(tokens) = answer.tokens.as_ref().filter(|t| !t.is_empty()) {
        // Token byte ranges; they align with the text only if they spell it.
        let mut ranges = Vec::with_capacity(tokens.len());
        let mut at = 0;
        for t in tokens {
            ranges.push(at..at + t.token.len());
            at += t.token.len();
        }
        let aligned = at == answer.text.len()
            && tokens
                .iter()
                .map(|t| t.token.as_str())
                .eq(split_like(&answer.text, tokens));
        let over = |r: &Range<usize>| -> Option<f64> {
            let lps: Vec<f64> = tokens
                .iter()
                .zip(&ranges)
                .filter(|(_, tr)| tr.start < r.end && r.start < tr.end)
                .map(|(t, _)| t.logprob)
                .filter(|l| l.is_finite())
                .collect();
            if lps.is_empty() {
                None
            } else {
                Some(clamp((lps.iter().sum::<f64>() / lps.len() as f64).exp()))
            }
        };
        if aligned {
            let value = over(span).unwrap_or(DEFAULT);
            let per_field: IndexMap<String, f64> = fields
                .iter()
                .filter_map(|(k, r)| over(r).map(|c| (k.clone(), c)))
                .collect();
            let fields = (!per_field.is_empty()).then_some(per_field);
            return Confidence {
                value,
                fields,
                source: Source::Logprobs,
            };
        }
        // Unaligned tokens (the provider re-tokenised or trimmed): the mean
        // over all of them still says how sure the model was overall.
        let lps: Vec<f64> = tokens
            .iter()
            .map(|t| t.logprob)
            .filter(|l| l.is_finite())
            .collect();
        if !lps.is_empty() {
            let value = clamp((lps.iter().sum::<f64>() / lps.len() as f64).exp());
            return Confidence {
                value,
                fields: None,
                source: Source::Logprobs,
            };
        }
    }
    if let Some(c) = answer.confidence.filter(|c| c.is_finite()) {
        return Confidence {
            value: clamp(c),
            fields: None,
            source: Source::Provider,
        };
    }
    Confidence {
        value: DEFAULT,
        fields: None,
        source: Source::Default,
    }
}

/// The text cut at the token boundaries (to check that the tokens spell it).
fn split_like<'a>(
    text: &'a str,
    tokens: &'a [crate::request::TokenLogprob],
) -> impl Iterator<Item = &'a str> + 'a {
    let mut at = 0;
    tokens.iter().map(move |t| {
        let end = (at + t.token.len()).min(text.len());
        let s = text.get(at..end).unwrap_or("");
        at = end;
        s
    })
}

fn clamp(c: f64) -> f64 {
    if c.is_nan() {
        DEFAULT
    } else {
        c.clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::TokenLogprob;

    fn tok(t: &str, p: f64) -> TokenLogprob {
        TokenLogprob {
            token: t.into(),
            logprob: p.ln(),
        }
    }

    #[test]
    fn geometric_mean_of_token_probabilities_per_span() {
        let text = "{\"a\": 1, \"b\": 2}";
        let answer = ProviderAnswer {
            text: text.into(),
            tokens: Some(vec![
                tok("{\"a\": ", 1.0),
                tok("1", 0.8),
                tok(", \"b\": ", 1.0),
                tok("2", 0.2),
                tok("}", 1.0),
            ]),
            ..Default::default()
        };
        let fields = vec![("a".to_string(), 6..7), ("b".to_string(), 14..15)];
        let c = of_answer(&answer, &(0..text.len()), &fields);
        assert_eq!(c.source, Source::Logprobs);
        let f = c.fields.expect("aligned");
        assert!((f["a"] - 0.8).abs() < 1e-12 && (f["b"] - 0.2).abs() < 1e-12);
        let expected = (0.8f64 * 0.2).powf(1.0 / 5.0);
        assert!((c.value - expected).abs() < 1e-12, "{}", c.value);
    }

    #[test]
    fn provider_score_then_default() {
        let a = ProviderAnswer {
            text: "1".into(),
            confidence: Some(0.73),
            ..Default::default()
        };
        assert_eq!(of_answer(&a, &(0..1), &[]).value, 0.73);
        let b = ProviderAnswer {
            text: "1".into(),
            ..Default::default()
        };
        let c = of_answer(&b, &(0..1), &[]);
        assert_eq!((c.value, c.source), (DEFAULT, Source::Default));
    }

    #[test]
    fn tokens_that_do_not_spell_the_text_give_an_overall_score() {
        let a = ProviderAnswer {
            text: "{\"a\": 1}".into(),
            tokens: Some(vec![tok("x", 0.5), tok("y", 0.5)]),
            ..Default::default()
        };
        let c = of_answer(&a, &(0..8), &[("a".into(), 6..7)]);
        assert!(c.fields.is_none());
        assert!((c.value - 0.5).abs() < 1e-12);
    }
}
