//! The effect log of a run, as the scheduler uses it: a recorded prefix to
//! replay, then live entries written through a sink before any process sees
//! them.

use turn_vm::RtError;

/// One delivered effect answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Index in the run's log.
    pub seq: u64,
    /// Scheduler round whose delivery phase handed the answer over.
    pub round: u64,
    pub pid: u64,
    /// The process's effect number.
    pub n: u64,
    pub kind: String,
    pub digest: String,
    pub answer: Vec<u8>,
}

/// Where new entries go (the store). Called once per delivery phase with
/// the entries of that phase; an error stops the run (nothing is delivered
/// that was not durably logged).
pub type Sink<'a> = Box<dyn FnMut(&[Entry]) -> Result<(), RtError> + 'a>;

/// What happens when the recorded entries run out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtEnd {
    /// Continue live (resume, fork).
    GoLive,
    /// Stop: `turn replay` calls no provider or tool.
    Stop,
}

pub struct Journal<'a> {
    recorded: Vec<Entry>,
    cursor: usize,
    /// Entries of the current delivery phase not yet written.
    fresh: Vec<Entry>,
    next_seq: u64,
    sink: Option<Sink<'a>>,
    pub at_end: AtEnd,
}

impl<'a> Journal<'a> {
    /// A live run with nothing recorded; `sink` (if any) persists entries.
    pub fn live(sink: Option<Sink<'a>>) -> Journal<'a> {
        Journal::replaying(Vec::new(), 0, sink, AtEnd::GoLive)
    }

    /// Replay `recorded` (entries from `start` on), then `at_end`.
    pub fn replaying(
        recorded: Vec<Entry>,
        start: u64,
        sink: Option<Sink<'a>>,
        at_end: AtEnd,
    ) -> Journal<'a> {
        let next_seq = start + recorded.len() as u64;
        Journal {
            recorded,
            cursor: 0,
            fresh: Vec::new(),
            next_seq,
            sink,
            at_end,
        }
    }

    pub fn replaying_now(&self) -> bool {
        self.cursor < self.recorded.len()
    }

    /// The next recorded entry if it belongs to `round`.
    pub fn next_in_round(&mut self, round: u64) -> Option<Entry> {
        let e = self.recorded.get(self.cursor)?;
        if e.round != round {
            return None;
        }
        self.cursor += 1;
        Some(e.clone())
    }

    pub fn peek(&self) -> Option<&Entry> {
        self.recorded.get(self.cursor)
    }

    /// Entries consumed or written so far (the log position).
    pub fn position(&self) -> u64 {
        self.next_seq - (self.recorded.len() - self.cursor) as u64
    }

    /// Record a live answer (written at the end of the delivery phase).
    pub fn record(
        &mut self,
        round: u64,
        pid: u64,
        n: u64,
        kind: String,
        digest: String,
        answer: Vec<u8>,
    ) {
        self.fresh.push(Entry {
            seq: self.next_seq,
            round,
            pid,
            n,
            kind,
            digest,
            answer,
        });
        self.next_seq += 1;
    }

    /// Write this phase's entries durably.
    pub fn flush(&mut self) -> Result<(), RtError> {
        if self.fresh.is_empty() {
            return Ok(());
        }
        if let Some(sink) = &mut self.sink {
            sink(&self.fresh)?;
        }
        self.fresh.clear();
        Ok(())
    }
}
