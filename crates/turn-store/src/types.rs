//! The plain data the store keeps.

use std::fmt;

use crate::StoreError;

/// A validated run id: 1–64 characters of `[A-Za-z0-9_.-]`, not starting
/// with `.` or `-`. Ids name directories and files, so anything that could
/// escape one (separators, `..`, NUL) is refused.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(String);

impl RunId {
    /// The longest id accepted.
    pub const MAX_LEN: usize = 64;

    /// Checks `s` against the rule above.
    pub fn parse(s: &str) -> Result<RunId, StoreError> {
        let bad = |reason| StoreError::InvalidId {
            id: s.to_owned(),
            reason,
        };
        if s.is_empty() {
            return Err(bad("it is empty"));
        }
        if s.len() > Self::MAX_LEN {
            return Err(bad("it is longer than 64 characters"));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        {
            return Err(bad("only letters, digits, `_`, `.` and `-` are allowed"));
        }
        if s.starts_with(['.', '-']) {
            return Err(bad("it must not start with `.` or `-`"));
        }
        Ok(RunId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a run is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunStatus {
    Running,
    Suspended,
    Waiting,
    Done,
    Failed,
}

impl RunStatus {
    const ALL: [RunStatus; 5] = [
        RunStatus::Running,
        RunStatus::Suspended,
        RunStatus::Waiting,
        RunStatus::Done,
        RunStatus::Failed,
    ];

    /// The stored (and displayed) name: `running`, `suspended`, …
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Suspended => "suspended",
            RunStatus::Waiting => "waiting",
            RunStatus::Done => "done",
            RunStatus::Failed => "failed",
        }
    }

    /// The inverse of [`RunStatus::as_str`].
    pub fn parse(s: &str) -> Option<RunStatus> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the store knows about one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRecord {
    pub id: RunId,
    /// Content hash (hex) of the program; its bytes are the blob of that hash.
    pub program: String,
    /// The entry file name as the user gave it (for display).
    pub entry: String,
    pub status: RunStatus,
    /// Display form of the final value, or the error message.
    pub result: Option<String>,
    /// Unix milliseconds.
    pub created_ms: u64,
    /// Unix milliseconds.
    pub updated_ms: u64,
    /// Forked from (run, number of log entries taken).
    pub parent: Option<(RunId, u64)>,
}

/// One effect answer in a run's log, in delivery order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// 0-based index in the run's log.
    pub seq: u64,
    /// Scheduler round at which the answer was delivered.
    pub round: u64,
    /// The process that asked.
    pub pid: u64,
    /// That process's effect counter.
    pub n: u64,
    /// The effect, e.g. `infer`, `tool:fetch`, `time.now`.
    pub kind: String,
    /// Hash (hex) of the request, for divergence checks.
    pub digest: String,
    /// The encoded answer (opaque).
    pub answer: Vec<u8>,
}

/// A run's state after its first `seq` log entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: u64,
    pub round: u64,
    pub bytes: Vec<u8>,
}
