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
//!
//! Under the `summarize` policy an append that would exceed the budget first
//! has the older entries ([`Summary`]: all of P2 and the oldest half of P1,
//! never P0, never the new item) replaced by one P2 entry `Summary: …`; the
//! VM asks the model for it through the inference effect. If the result
//! still does not fit, the `evict` rule runs. Summaries are made only by
//! `append`: a lowered budget or a new system entry evicts under both
//! policies.

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
    /// effect (see [`Context::needs_summary`]).
    Summarize,
}

/// What a `summarize` append replaces with one summary: the oldest
/// `episodic` P2 entries (all of them) and the oldest `working` P1 entries
/// (half of P1, rounded up), counted before the new item is added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    pub episodic: usize,
    pub working: usize,
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

    /// `context.append(x)` without a summary (the `evict` rule). On error
    /// nothing changes.
    pub fn append(&mut self, text: String) -> Result<(), RtError> {
        self.append_entry(Entry::new(text))
    }

    /// [`Context::append`] of an entry whose tokens are counted already.
    pub fn append_entry(&mut self, entry: Entry) -> Result<(), RtError> {
        self.working.push_back(entry);
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

    /// The entries to summarize before `item` is appended, or `None` when
    /// the append needs no summary: the policy is `evict`, it fits, there
    /// is nothing older, or P0 and `item` alone exceed the budget (evicting
    /// everything else is then the only way, and a summary would be dropped).
    pub fn needs_summary(&self, item: &Entry) -> Option<Summary> {
        let budget = u64::from(self.budget);
        let system: u64 = self.system.iter().map(|e| u64::from(e.tokens)).sum();
        let item_tokens = u64::from(item.tokens);
        if self.policy != Policy::Summarize
            || self.tokens() + item_tokens <= budget
            || system + item_tokens > budget
            || (self.episodic.is_empty() && self.working.is_empty())
        {
            return None;
        }
        Some(Summary {
            episodic: self.episodic.len(),
            working: self.working.len().div_ceil(2),
        })
    }

    /// The prompt that asks for the summary of `s`'s entries (oldest first).
    pub fn summary_prompt(&self, s: &Summary) -> String {
        let mut p = format!(
            "Summarize these {} earlier context entries concisely, in a few sentences. Keep \
             the facts, names, numbers and decisions a later step may need. Answer with the \
             summary text only.\n",
            s.episodic + s.working
        );
        let older = self.episodic.iter().take(s.episodic);
        for (i, e) in older.chain(self.working.iter().take(s.working)).enumerate() {
            p.push_str(&format!("\n[{}] {}", i + 1, e.text));
        }
        p
    }

    /// Replace `s`'s entries with one P2 entry `Summary: <summary>`, then
    /// append `item` (evicting if it still does not fit). On error nothing
    /// changes.
    pub fn apply_summary(
        &mut self,
        s: &Summary,
        summary: &str,
        item: Entry,
    ) -> Result<(), RtError> {
        if s.episodic > self.episodic.len() || s.working > self.working.len() {
            return Err(RtError::internal("the summarized entries are gone"));
        }
        let saved = self.clone();
        let body = summary.trim();
        let body = body.strip_prefix("Summary:").unwrap_or(body).trim_start();
        self.episodic.drain(..s.episodic);
        self.working.drain(..s.working);
        self.episodic
            .push_front(Entry::new(format!("Summary: {body}")));
        let result = self.append_entry(item);
        if result.is_err() {
            *self = saved;
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

    fn summarizing(working: usize, budget_slack: u32) -> Context {
        let mut c = Context::default();
        c.push_system("mission".into()).expect("fits");
        c.policy = Policy::Summarize;
        for i in 0..working {
            c.append(format!("item {i}")).expect("fits");
        }
        c.budget = c.tokens() as u32 + budget_slack;
        c
    }

    #[test]
    fn summarize_plans_all_of_p2_and_the_oldest_half_of_p1() {
        let mut c = summarizing(5, 6);
        c.episodic.push_back(Entry::new("old".into()));
        c.budget += c.episodic[0].tokens;
        assert_eq!(c.needs_summary(&Entry::new("x".into())), None, "it fits");
        let item = Entry::new("a much longer item that does not fit".into());
        let plan = c.needs_summary(&item).expect("over budget");
        assert_eq!(
            plan,
            Summary {
                episodic: 1,
                working: 3
            }
        );
        let prompt = c.summary_prompt(&plan);
        assert!(prompt.starts_with("Summarize these 4 earlier context entries"));
        assert!(prompt.ends_with("[1] old\n[2] item 0\n[3] item 1\n[4] item 2"));
        c.apply_summary(&plan, " Summary: the first items. ", item.clone())
            .expect("applies");
        let order: Vec<(Tier, &str)> = c.render().map(|(t, e)| (t, e.text.as_str())).collect();
        assert_eq!(
            order,
            vec![
                (Tier::System, "mission"),
                (Tier::Episodic, "Summary: the first items."),
                (Tier::Working, "item 3"),
                (Tier::Working, "item 4"),
                (Tier::Working, item.text.as_str()),
            ]
        );
        assert!(c.tokens() <= u64::from(c.budget));
    }

    #[test]
    fn no_summary_under_evict_with_nothing_older_or_when_p0_and_item_overflow() {
        let c = summarizing(0, 1);
        assert_eq!(c.needs_summary(&Entry::new("two words".into())), None);
        let mut c = summarizing(4, 1);
        let huge = Entry::new("word ".repeat(200));
        assert_eq!(c.needs_summary(&huge), None, "a summary could not help");
        c.policy = Policy::Evict;
        assert_eq!(c.needs_summary(&Entry::new("two more words".into())), None);
    }

    #[test]
    fn a_summary_that_does_not_fit_is_evicted_first_then_the_oldest_p1() {
        let mut c = summarizing(4, 0);
        let item = Entry::new("new".into());
        let plan = c.needs_summary(&item).expect("over budget");
        assert_eq!(plan.working, 2);
        c.apply_summary(&plan, &"long summary ".repeat(50), item)
            .expect("applies");
        assert!(c.episodic.is_empty(), "the summary went first");
        assert_eq!(c.system.len(), 1);
        assert_eq!(c.working.back().map(|e| e.text.as_str()), Some("new"));
        assert!(c.tokens() <= u64::from(c.budget));
    }

    #[test]
    fn a_stale_plan_changes_nothing() {
        let mut c = summarizing(2, 0);
        let before = c.clone();
        let plan = Summary {
            episodic: 1,
            working: 1,
        };
        assert!(c.apply_summary(&plan, "s", Entry::new("x".into())).is_err());
        assert_eq!(c, before);
    }
}
