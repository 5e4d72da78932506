//! A process's context: what it sends with every `infer`, in three tiers.
//!
//! - P0 **system** (`context.system(x)`): never evicted, rendered first.
//! - P1 **working** (`context.append(x)`): the most recent items (at most
//!   [`WORKING_CAPACITY`]), rendered last; when it is full the oldest item
//!   is demoted to P2.
//! - P2 **episodic**: items demoted from P1, rendered between.
//!
//! The rendered context never exceeds the token budget, counted with a real
//! BPE tokenizer (cl100k, via tiktoken-rs). When an append would exceed it
//! the `evict` policy drops P2 items first, then the oldest P1 items; P0 is
//! never evicted, and P0 alone over budget is an error.

use crate::error::RtError;
use std::collections::VecDeque;
use std::sync::OnceLock;

/// Items P1 holds before the oldest is demoted to P2.
pub const WORKING_CAPACITY: usize = 100;
/// The budget of a new process, in tokens.
pub const DEFAULT_BUDGET: u32 = 16_384;

/// The number of tokens in `text` (cl100k BPE; a byte-based estimate if the
/// tokenizer cannot be built).
pub fn count_tokens(text: &str) -> u32 {
    static BPE: OnceLock<Option<tiktoken_rs::CoreBPE>> = OnceLock::new();
    match BPE.get_or_init(|| tiktoken_rs::cl100k_base().ok()) {
        Some(bpe) => bpe.encode_ordinary(text).len().min(u32::MAX as usize) as u32,
        None => (text.len() / 4 + 1).min(u32::MAX as usize) as u32,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    System,
    Episodic,
    Working,
}

impl Tier {
    pub fn name(self) -> &'static str {
        match self {
            Tier::System => "system",
            Tier::Episodic => "episodic",
            Tier::Working => "working",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub text: String,
    pub tokens: u32,
}

impl Entry {
    pub fn new(text: String) -> Entry {
        let tokens = count_tokens(&text);
        Entry { text, tokens }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    Evict,
    /// Older items are replaced by a summary obtained through the inference
    /// effect (needs the process runtime).
    Summarize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Context {
    pub system: Vec<Entry>,
    pub episodic: VecDeque<Entry>,
    pub working: VecDeque<Entry>,
    pub budget: u32,
    pub policy: Policy,
}

impl Default for Context {
    fn default() -> Context {
        Context {
            system: Vec::new(),
            episodic: VecDeque::new(),
            working: VecDeque::new(),
            budget: DEFAULT_BUDGET,
            policy: Policy::Evict,
        }
    }
}

impl Context {
    pub fn tokens(&self) -> u64 {
        let sum =
            |it: &mut dyn Iterator<Item = &Entry>| it.map(|e| u64::from(e.tokens)).sum::<u64>();
        sum(&mut self.system.iter())
            + sum(&mut self.episodic.iter())
            + sum(&mut self.working.iter())
    }

    /// `context.system(x)`. On error nothing changes.
    pub fn push_system(&mut self, text: String) -> Result<(), RtError> {
        self.system.push(Entry::new(text));
        let result = self.enforce();
        if result.is_err() {
            self.system.pop();
        }
        result
    }

    /// `context.append(x)`. On error nothing changes.
    pub fn append(&mut self, text: String) -> Result<(), RtError> {
        self.working.push_back(Entry::new(text));
        let mut demoted = 0;
        while self.working.len() > WORKING_CAPACITY {
            if let Some(old) = self.working.pop_front() {
                self.episodic.push_back(old);
                demoted += 1;
            }
        }
        let result = self.enforce();
        if result.is_err() {
            // `enforce` fails before evicting anything: undo exactly.
            self.working.pop_back();
            for _ in 0..demoted {
                if let Some(e) = self.episodic.pop_back() {
                    self.working.push_front(e);
                }
            }
        }
        result
    }

    /// `context.budget(n)`. On error the budget stays as it was.
    pub fn set_budget(&mut self, budget: u32) -> Result<(), RtError> {
        let old = std::mem::replace(&mut self.budget, budget);
        let result = self.enforce();
        if result.is_err() {
            self.budget = old;
        }
        result
    }

    /// `context.clear()`: drop P1 and P2 (P0 stays).
    pub fn clear(&mut self) {
        self.episodic.clear();
        self.working.clear();
    }

    /// Bring the context back under budget by the policy.
    fn enforce(&mut self) -> Result<(), RtError> {
        let system: u64 = self.system.iter().map(|e| u64::from(e.tokens)).sum();
        if system > u64::from(self.budget) {
            return Err(RtError::new(
                "context",
                format!(
                    "the system context alone ({system} tokens) exceeds the budget of {} tokens; system entries are never evicted",
                    self.budget
                ),
            ));
        }
        if self.tokens() > u64::from(self.budget) && self.policy == Policy::Summarize {
            return Err(RtError::new(
                "unsupported",
                "the `summarize` policy needs the process runtime (summaries come through the inference effect); use `evict`",
            ));
        }
        while self.tokens() > u64::from(self.budget) {
            if self.episodic.pop_front().is_none() && self.working.pop_front().is_none() {
                break;
            }
        }
        Ok(())
    }

    /// P0, then P2, then P1, oldest first within each tier.
    pub fn render(&self) -> impl Iterator<Item = (Tier, &Entry)> {
        self.system
            .iter()
            .map(|e| (Tier::System, e))
            .chain(self.episodic.iter().map(|e| (Tier::Episodic, e)))
            .chain(self.working.iter().map(|e| (Tier::Working, e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_real_tokenizer_counts() {
        assert_eq!(count_tokens(""), 0);
        assert_eq!(count_tokens("hello world"), 2);
        assert!(count_tokens("antidisestablishmentarianism") > 1);
    }

    #[test]
    fn item_101_demotes_exactly_one_item() {
        let mut c = Context::default();
        c.push_system("mission".into()).expect("fits");
        for i in 0..101 {
            c.append(format!("item {i}")).expect("fits");
        }
        assert_eq!(
            (c.system.len(), c.episodic.len(), c.working.len()),
            (1, 1, 100)
        );
        let order: Vec<(Tier, &str)> = c.render().map(|(t, e)| (t, e.text.as_str())).collect();
        assert_eq!(order[0], (Tier::System, "mission"));
        assert_eq!(order[1], (Tier::Episodic, "item 0"));
        assert_eq!(order.last().copied(), Some((Tier::Working, "item 100")));
    }

    #[test]
    fn evict_drops_episodic_first_then_oldest_working_never_system() {
        let mut c = Context::default();
        c.push_system("keep me".into()).expect("fits");
        for i in 0..102 {
            c.append(format!("note number {i}")).expect("fits");
        }
        let before = c.tokens();
        c.set_budget((before - 1) as u32).expect("shrinks");
        assert!(c.tokens() < before);
        assert_eq!(c.episodic.len(), 1, "one episodic item was dropped first");
        c.set_budget(c.system[0].tokens + 5).expect("shrinks more");
        assert_eq!(c.system.len(), 1);
        assert!(c.episodic.is_empty());
        assert!(c.tokens() <= u64::from(c.budget));
        let budget = c.budget;
        let err = c.set_budget(1).expect_err("system alone over budget");
        assert_eq!(err.kind, "context");
        assert_eq!(c.budget, budget, "a refused budget changes nothing");
    }
}
