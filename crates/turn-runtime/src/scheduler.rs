//! The scheduler: many VM processes on one thread, their effects running
//! concurrently on an async I/O runtime.
//!
//! Execution proceeds in rounds. Each round has a delivery phase (answers
//! of finished effects are logged, then handed to their processes, in
//! completion order; on replay, in log order) and a run phase (every ready
//! process runs one slice of at most [`REDUCTIONS`] steps, in queue order).
//! Everything inside a round is deterministic, and the log records at which
//! round each answer arrived, so a replay with the same answers reproduces
//! the same interleaving exactly. Spawning, sending, receiving from a
//! non-empty mailbox and gathering finished children happen inside a slice
//! and need no log entry.

use crate::answer;
use crate::host::{Host, RunResult, Started};
use crate::journal::{AtEnd, Journal};
use futures_util::future::{AbortHandle, Abortable};
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use turn_bytecode::Program;
use turn_vm::process::{exit_message, End};
use turn_vm::{display, Effect, Outcome, RtError, Uncaught, Value, Vm};

/// Steps a process runs before the next ready process gets its turn.
pub const REDUCTIONS: u64 = 2_000;

/// The main process's pid.
pub const MAIN: u64 = 1;

/// What a process is doing between slices.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Wait {
    Ready,
    /// An effect numbered `n` is under way.
    Effect {
        n: u64,
    },
    /// `receive` on an empty mailbox, with a timer (effect `n`, seconds).
    Receive {
        timer: Option<(u64, f64)>,
    },
    /// `gather`: all the pids, and those that have not ended yet.
    Gather {
        pids: Vec<u64>,
        missing: std::collections::BTreeSet<u64>,
    },
    /// `suspend;` (effect `n`): answered when the run resumes.
    Suspended {
        n: u64,
    },
    /// An external tool's result, supplied with `turn resume --result`.
    External {
        n: u64,
        tool: String,
    },
}

pub(crate) struct Proc {
    pub vm: Vm,
    pub wait: Wait,
}

/// An effect the outside world still owes an answer.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub kind: String,
    pub digest: String,
    /// What to start when the run goes live (`None`: nothing to start, e.g.
    /// `suspend` or an external tool).
    pub effect: Option<Effect>,
    pub launched: bool,
    /// Cancels the future under way (a timer beaten by a message, the
    /// effects of a process that was stopped).
    pub abort: Option<AbortHandle>,
}

/// Run-wide settings.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Prefix of idempotency keys (`RUN/pid/n`); the run id for durable runs.
    pub key_prefix: String,
    /// Checkpoint, encode, decode and restore the whole system at every
    /// quiet delivery phase (the conformance suite's second run).
    pub roundtrip: bool,
    /// Print output while replaying recorded entries (`turn replay`); a
    /// resumed run does not print again what it printed before.
    pub print_replayed: bool,
    /// Offer a checkpoint to the checkpoint sink once this many log entries
    /// were written since the last one and the system is quiet (0: never).
    pub checkpoint_every: u64,
    /// Most processes alive at once (0: [`MAX_PROCESSES`]); a `spawn`
    /// beyond it is a catchable `limit` error (a fork bomb stops there).
    pub max_processes: usize,
}

/// The default bound on live processes.
pub const MAX_PROCESSES: usize = 1_000_000;

/// A checkpoint the scheduler wants stored: the system after `seq` log
/// entries.
pub type CheckpointSink<'a> = Box<dyn FnMut(u64, u64, Vec<u8>) -> Result<(), RtError> + 'a>;

/// An effect under way, tagged with (pid, effect number).
type Answered =
    std::pin::Pin<Box<dyn std::future::Future<Output = (u64, u64, Result<Value, RtError>)>>>;
type InFlight = FuturesUnordered<Answered>;

/// All processes of one run.
pub struct System {
    pub(crate) program: Rc<Program>,
    /// Slot `pid - 1`; `None` once the process has ended.
    pub(crate) procs: Vec<Option<Box<Proc>>>,
    pub(crate) queue: VecDeque<u64>,
    pub(crate) round: u64,
    pub(crate) requests: BTreeMap<(u64, u64), Request>,
    pub(crate) suspend_requested: bool,
    /// Set when main has ended.
    pub(crate) main_end: Option<Result<Value, Box<Uncaught>>>,
    /// Processes alive (slots that are `Some`).
    pub(crate) live: usize,
}

/// A divergence between a replay and its log, or a failure of the log.
#[derive(Debug)]
pub enum Stop {
    Finished(RunResult),
    /// Replay only: the log ran out (at `position`) with the run unfinished.
    LogEnded {
        position: u64,
    },
    Diverged(String),
    Error(RtError),
}

impl From<RtError> for Stop {
    fn from(e: RtError) -> Stop {
        Stop::Error(e)
    }
}

impl System {
    /// A system whose only process is `main`.
    pub fn new(main: Vm) -> System {
        System {
            program: main.program().clone(),
            procs: vec![Some(Box::new(Proc {
                vm: main,
                wait: Wait::Ready,
            }))],
            queue: VecDeque::from([MAIN]),
            round: 0,
            requests: BTreeMap::new(),
            suspend_requested: false,
            main_end: None,
            live: 1,
        }
    }

    pub fn program(&self) -> &Rc<Program> {
        &self.program
    }

    pub fn main_vm(&self) -> Option<&Vm> {
        self.procs.first()?.as_ref().map(|p| &p.vm)
    }

    pub fn main_vm_mut(&mut self) -> Option<&mut Vm> {
        self.procs.first_mut()?.as_mut().map(|p| &mut p.vm)
    }

    /// Live processes in pid order.
    pub fn processes(&self) -> impl Iterator<Item = (&Vm, String)> {
        self.procs
            .iter()
            .flatten()
            .map(|p| (&p.vm, describe_wait(&p.wait)))
    }

    pub fn round(&self) -> u64 {
        self.round
    }

    fn slot(&mut self, pid: u64) -> Option<&mut Box<Proc>> {
        self.procs.get_mut(pid.checked_sub(1)? as usize)?.as_mut()
    }

    /// Resume the processes stopped at `suspend;`: their answer (`null`) is
    /// logged at the current round. Returns how many there were.
    pub fn resume_suspended(&mut self, journal: &mut Journal) -> Result<usize, RtError> {
        let suspended: Vec<(u64, u64)> = self
            .procs
            .iter()
            .flatten()
            .filter_map(|p| match p.wait {
                Wait::Suspended { n } => Some((p.vm.pid(), n)),
                _ => None,
            })
            .collect();
        for &(pid, n) in &suspended {
            if let Some(req) = self.requests.remove(&(pid, n)) {
                let a = Ok(Value::Null);
                journal.record(self.round, pid, n, req.kind, req.digest, answer::encode(&a));
                self.deliver(pid, a);
            }
        }
        journal.flush()?;
        Ok(suspended.len())
    }

    /// Answer the external tool that process `pid` waits for (resume with
    /// `--result`): logged like any answer at the current round.
    pub fn supply_external(
        &mut self,
        journal: &mut Journal,
        result: Result<Value, RtError>,
    ) -> Result<(u64, String), RtError> {
        let waiting = self.procs.iter().flatten().find_map(|p| match &p.wait {
            Wait::External { n, tool } => Some((p.vm.pid(), *n, tool.clone())),
            _ => None,
        });
        let Some((pid, n, tool)) = waiting else {
            return Err(RtError::new(
                "process",
                "no process of this run is waiting for an external tool",
            ));
        };
        let req = self.requests.remove(&(pid, n)).ok_or_else(|| {
            RtError::internal("the external request is missing from the run state")
        })?;
        journal.record(
            self.round,
            pid,
            n,
            req.kind,
            req.digest,
            answer::encode(&result),
        );
        journal.flush()?;
        self.deliver(pid, result);
        Ok((pid, tool))
    }

    /// Run until main ends, the run suspends or waits, or (replaying
    /// strictly) the log ends.
    pub async fn drive(
        &mut self,
        host: &mut dyn Host,
        journal: &mut Journal<'_>,
        options: &Options,
        mut checkpoints: Option<CheckpointSink<'_>>,
    ) -> Stop {
        let mut in_flight: InFlight = FuturesUnordered::new();
        let mut last_checkpoint = journal.position();
        // A strict replay never reaches the outside world.
        let strict = journal.at_end == AtEnd::Stop;
        if !journal.replaying_now() && !strict {
            self.launch_all(host, options, &mut in_flight);
        }
        loop {
            // ── delivery phase ──
            let mut delivered = 0usize;
            if journal.replaying_now() {
                while let Some(e) = journal.next_in_round(self.round) {
                    let Some(req) = self.requests.remove(&(e.pid, e.n)) else {
                        return Stop::Diverged(format!(
                            "log entry {} answers effect {} of <pid {}> ({}) at round {}, but the \
                             replay has no such effect waiting",
                            e.seq, e.n, e.pid, e.kind, e.round
                        ));
                    };
                    if req.kind != e.kind || req.digest != e.digest {
                        return Stop::Diverged(format!(
                            "log entry {}: the recorded run asked <pid {}> effect {} `{}` \
                             (request {}), the replay asks `{}` (request {})",
                            e.seq, e.pid, e.n, e.kind, e.digest, req.kind, req.digest
                        ));
                    }
                    let a = match answer::decode(&e.answer, &self.program) {
                        Ok(a) => a,
                        Err(err) => return Stop::Error(err),
                    };
                    if matches!(
                        self.slot(e.pid).map(|p| &p.wait),
                        Some(Wait::Suspended { .. })
                    ) {
                        self.suspend_requested = false;
                    }
                    self.deliver(e.pid, a);
                    delivered += 1;
                }
                if !journal.replaying_now() {
                    if !strict {
                        self.launch_all(host, options, &mut in_flight);
                    }
                } else if self.queue.is_empty() && delivered == 0 {
                    let next = journal.peek().map(|e| (e.seq, e.round)).unwrap_or_default();
                    return Stop::Diverged(format!(
                        "the replay is idle at round {}, but log entry {} is for round {}",
                        self.round, next.0, next.1
                    ));
                }
            }
            if strict
                && !journal.replaying_now()
                && (self.suspend_requested || (self.queue.is_empty() && delivered == 0))
            {
                // A strict replay needs an answer the log does not have.
                return Stop::LogEnded {
                    position: journal.position(),
                };
            }
            if !journal.replaying_now() && !strict {
                // Let the I/O runtime drive timers and sockets even while
                // some process is always ready (a busy loop must not starve
                // the others' effects).
                if !in_flight.is_empty() && !self.queue.is_empty() {
                    tokio::task::yield_now().await;
                }
                // Everything already finished, without waiting.
                while let Some(Some(done)) = in_flight.next().now_or_never() {
                    delivered += usize::from(self.complete(journal, done));
                }
                if self.suspend_requested {
                    return self
                        .suspend(host, journal, &mut in_flight, checkpoints)
                        .await;
                }
                // Nothing to run: wait for the outside world.
                while self.queue.is_empty() && delivered == 0 {
                    if self.requests.values().all(|r| r.effect.is_none()) {
                        break;
                    }
                    match in_flight.next().await {
                        Some(done) => {
                            delivered += usize::from(self.complete(journal, done));
                            while let Some(Some(done)) = in_flight.next().now_or_never() {
                                delivered += usize::from(self.complete(journal, done));
                            }
                        }
                        None => break,
                    }
                }
            }
            if let Err(e) = journal.flush() {
                return Stop::Error(e);
            }
            if self.queue.is_empty() && delivered == 0 {
                if let Some(stop) = self.stuck(host, journal, &mut checkpoints) {
                    return stop;
                }
            }
            if !journal.replaying_now() && self.quiet() {
                if options.roundtrip {
                    if let Err(e) = self.roundtrip() {
                        return Stop::Error(e);
                    }
                }
                if options.checkpoint_every > 0
                    && journal.position() >= last_checkpoint + options.checkpoint_every
                {
                    last_checkpoint = journal.position();
                    if let Err(e) = self.save_checkpoint(journal, &mut checkpoints) {
                        return Stop::Error(e);
                    }
                }
            }
            // ── run phase ──
            let n = self.queue.len();
            for _ in 0..n {
                let Some(pid) = self.queue.pop_front() else {
                    break;
                };
                let quiet = journal.replaying_now() && !options.print_replayed;
                if let Err(e) = self.slice(
                    pid,
                    host,
                    options,
                    quiet,
                    strict || journal.replaying_now(),
                    &mut in_flight,
                ) {
                    return Stop::Error(e);
                }
                if let Some(end) = self.main_end.take() {
                    self.stop_orphans(host);
                    return Stop::Finished(match end {
                        Ok(v) => RunResult::Done(v),
                        Err(u) => RunResult::Failed(u),
                    });
                }
            }
            self.round += 1;
        }
    }

    /// No process is ready and no answer can come: wait for an external
    /// tool, or report a deadlock to main (as a catchable error).
    fn stuck(
        &mut self,
        host: &mut dyn Host,
        journal: &mut Journal,
        checkpoints: &mut Option<CheckpointSink<'_>>,
    ) -> Option<Stop> {
        let external = self.procs.iter().flatten().find_map(|p| match &p.wait {
            Wait::External { tool, .. } => Some((p.vm.pid(), tool.clone())),
            _ => None,
        });
        if let Some((pid, tool)) = external {
            if let Err(e) = self.save_checkpoint(journal, checkpoints) {
                return Some(Stop::Error(e));
            }
            return Some(Stop::Finished(RunResult::Waiting { pid, tool }));
        }
        // Suspended processes (restored from a crash that came before the
        // suspension was recorded as such) stop the run again.
        if self
            .procs
            .iter()
            .flatten()
            .any(|p| matches!(p.wait, Wait::Suspended { .. }))
        {
            if let Err(e) = self.save_checkpoint(journal, checkpoints) {
                return Some(Stop::Error(e));
            }
            return Some(Stop::Finished(RunResult::Suspended));
        }
        let mut who = Vec::new();
        for p in self.procs.iter().flatten() {
            let at =
                p.vm.position()
                    .map(|f| format!(" at {}:{}:{}", f.file, f.line, f.col))
                    .unwrap_or_default();
            who.push(format!(
                "<pid {}> {}{at}",
                p.vm.pid(),
                describe_wait(&p.wait)
            ));
        }
        let message = format!(
            "every process is waiting and nothing can wake them ({})",
            who.join("; ")
        );
        let _ = host;
        // Main is waiting (it has not ended): raise the deadlock there.
        let main = self.slot(MAIN)?;
        main.wait = Wait::Ready;
        main.vm.resume(Err(RtError::new("deadlock", message)));
        self.queue.push_back(MAIN);
        None
    }

    /// No effect in flight except timers and external tools: the state is
    /// fully described by the processes (a checkpoint can be taken).
    /// Whether a checkpoint can describe the state: everything but a
    /// pending suspension can (effects under way are saved as requests).
    pub(crate) fn quiet(&self) -> bool {
        !self.suspend_requested
    }

    /// Whether request `n` of `pid` is a receive timer or an external tool
    /// (or, with `suspends`, a `suspend`): nothing a suspension waits for.
    fn passive(&self, pid: u64, n: u64, suspends: bool) -> bool {
        let Some(Some(p)) = pid.checked_sub(1).and_then(|i| self.procs.get(i as usize)) else {
            return true;
        };
        match &p.wait {
            Wait::Receive {
                timer: Some((m, _)),
            }
            | Wait::External { n: m, .. } => *m == n,
            Wait::Suspended { n: m } => suspends && *m == n,
            _ => false,
        }
    }

    fn save_checkpoint(
        &self,
        journal: &Journal,
        checkpoints: &mut Option<CheckpointSink<'_>>,
    ) -> Result<(), RtError> {
        if let Some(sink) = checkpoints {
            let bytes = crate::checkpoint::encode(self, journal.position());
            sink(journal.position(), self.round, bytes)?;
        }
        Ok(())
    }

    /// `suspend;`: let the effects under way finish (their answers are
    /// logged and delivered), answer the suspended processes, checkpoint.
    async fn suspend(
        &mut self,
        host: &mut dyn Host,
        journal: &mut Journal<'_>,
        in_flight: &mut InFlight,
        mut checkpoints: Option<CheckpointSink<'_>>,
    ) -> Stop {
        let _ = host;
        while !self.quiet_except_suspended() {
            match in_flight.next().await {
                Some(done) => {
                    self.complete(journal, done);
                }
                None => break,
            }
        }
        // The suspended processes are answered when the run resumes
        // (`resume_suspended`), so a replay of a suspended run stops here.
        self.suspend_requested = false;
        if let Err(e) = journal.flush() {
            return Stop::Error(e);
        }
        if let Err(e) = self.save_checkpoint(journal, &mut checkpoints) {
            return Stop::Error(e);
        }
        Stop::Finished(RunResult::Suspended)
    }

    fn quiet_except_suspended(&self) -> bool {
        self.requests
            .keys()
            .all(|&(pid, n)| self.passive(pid, n, true))
    }

    /// Checkpoint, encode, decode and restore every process (tests).
    fn roundtrip(&mut self) -> Result<(), RtError> {
        let bytes = crate::checkpoint::encode(self, 0);
        let (restored, _) = crate::checkpoint::decode(&bytes, self.program.clone(), self.limits())?;
        let main_end = self.main_end.take();
        *self = restored;
        self.main_end = main_end;
        Ok(())
    }

    pub(crate) fn limits(&self) -> turn_vm::Limits {
        self.procs
            .iter()
            .flatten()
            .next()
            .map(|p| p.vm.limits.clone())
            .unwrap_or_default()
    }

    /// Start every request not started yet (going live after a replay).
    fn launch_all(&mut self, host: &mut dyn Host, options: &Options, in_flight: &mut InFlight) {
        let program = self.program.clone();
        for ((pid, n), req) in self.requests.iter_mut() {
            if req.launched {
                continue;
            }
            if let Some(effect) = req.effect.clone() {
                req.launched = true;
                let key = format!("{}/{pid}/{n}", options.key_prefix);
                let (f, abort) = wrap(*pid, *n, host.start(&program, effect, &key));
                in_flight.push(f);
                req.abort = Some(abort);
            }
        }
    }

    /// A finished effect (live): log it and hand it over, unless nobody
    /// waits for it any more (a timer beaten by a message, a stopped
    /// process). Returns whether it was delivered.
    fn complete(
        &mut self,
        journal: &mut Journal,
        (pid, n, a): (u64, u64, Result<Value, RtError>),
    ) -> bool {
        let Some(req) = self.requests.remove(&(pid, n)) else {
            return false;
        };
        let a = match (&self.slot(pid).map(|p| p.wait.clone()), a) {
            // A receive timer: the answer is `null`.
            (Some(Wait::Receive { .. }), Ok(_)) => Ok(Value::Null),
            (_, a) => a,
        };
        journal.record(self.round, pid, n, req.kind, req.digest, answer::encode(&a));
        self.deliver(pid, a);
        true
    }

    /// Hand an answer to a waiting process and make it ready.
    fn deliver(&mut self, pid: u64, a: Result<Value, RtError>) {
        if let Some(p) = self.slot(pid) {
            p.wait = Wait::Ready;
            p.vm.resume(a);
            self.queue.push_back(pid);
        }
    }

    /// One slice of process `pid`.
    fn slice(
        &mut self,
        pid: u64,
        host: &mut dyn Host,
        options: &Options,
        quiet: bool,
        replaying: bool,
        in_flight: &mut InFlight,
    ) -> Result<(), RtError> {
        let Some(slot) = pid
            .checked_sub(1)
            .and_then(|i| self.procs.get_mut(i as usize))
        else {
            return Ok(());
        };
        let Some(mut cur) = slot.take() else {
            return Ok(());
        };
        let start = cur.vm.steps();
        let end = loop {
            let used = cur.vm.steps().saturating_sub(start);
            if used >= REDUCTIONS {
                self.queue.push_back(pid);
                break None;
            }
            match cur.vm.run(REDUCTIONS - used) {
                Outcome::Done(v) => break Some(Ok(v)),
                Outcome::Failed(u) => break Some(Err(u)),
                Outcome::Preempted => {
                    self.queue.push_back(pid);
                    break None;
                }
                Outcome::Effect(e) => {
                    if !self.effect(&mut cur, e, host, options, quiet, replaying, in_flight) {
                        break None;
                    }
                }
            }
        };
        match end {
            None => {
                if let Some(s) = self.procs.get_mut((pid - 1) as usize) {
                    *s = Some(cur);
                }
            }
            Some(end) => self.finish(cur, end, host),
        }
        Ok(())
    }

    /// Handle an effect of the running process `cur`. Returns whether it
    /// continues its slice (`false`: it waits).
    #[allow(clippy::too_many_arguments)]
    fn effect(
        &mut self,
        cur: &mut Proc,
        e: Effect,
        host: &mut dyn Host,
        options: &Options,
        quiet: bool,
        replaying: bool,
        in_flight: &mut InFlight,
    ) -> bool {
        let me = cur.vm.pid();
        match e {
            Effect::Print { text } => {
                if !quiet {
                    host.print(&text);
                }
                cur.vm.resume(Ok(Value::Null));
                true
            }
            Effect::Spawn { func, args, link } => {
                if let Err(e) = self.room(1, options) {
                    cur.vm.resume(Err(e));
                    return true;
                }
                let r = self.start_child(cur, &func, args, link).map(Value::Pid);
                cur.vm.resume(r);
                true
            }
            Effect::SpawnEach { items, func } => {
                if let Err(e) = self.room(items.len(), options) {
                    cur.vm.resume(Err(e));
                    return true;
                }
                let mut pids = Vec::with_capacity(items.len());
                let mut failed = None;
                for item in items {
                    match self.start_child(cur, &func, vec![item], true) {
                        Ok(pid) => pids.push(Value::Pid(pid)),
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                }
                cur.vm.resume(match failed {
                    Some(e) => Err(e),
                    None => Ok(Value::list(pids)),
                });
                true
            }
            Effect::Send { to, msg } => {
                let alive = if to == me {
                    cur.vm.push_message(msg);
                    true
                } else {
                    self.send_to(to, msg)
                };
                cur.vm.resume(Ok(Value::Bool(alive)));
                true
            }
            Effect::Receive { timeout } => {
                let timer = timeout.map(|t| {
                    let n = cur.vm.next_effect();
                    let effect = Effect::Sleep { seconds: t };
                    self.request(
                        me,
                        n,
                        "receive.timeout".into(),
                        &effect,
                        Some(effect.clone()),
                        replaying,
                        host,
                        options,
                        in_flight,
                    );
                    (n, t)
                });
                cur.wait = Wait::Receive { timer };
                false
            }
            Effect::Gather { pids } => {
                // A linked child that has ended with no exit kept was gathered.
                let gone = pids.iter().find(|p| {
                    !cur.vm.links().exits.contains_key(p)
                        && !matches!(
                            self.procs.get((**p as usize).wrapping_sub(1)),
                            Some(Some(_))
                        )
                });
                if let Some(p) = gone {
                    cur.vm.resume(Err(RtError::new(
                        "process",
                        format!("<pid {p}> was already gathered"),
                    )));
                    return true;
                }
                let exits = &cur.vm.links().exits;
                let missing = pids
                    .iter()
                    .filter(|p| !exits.contains_key(p))
                    .copied()
                    .collect();
                cur.wait = Wait::Gather { pids, missing };
                false
            }
            Effect::Stop { pid } => {
                let r = if pid == MAIN {
                    Err(RtError::new(
                        "process",
                        "the main process cannot be stopped: the program ends when it returns",
                    ))
                } else if pid == me {
                    Ok(false)
                } else {
                    Ok(self.kill(pid, cur, host))
                };
                cur.vm.resume(r.map(Value::Bool));
                true
            }
            Effect::Suspend => {
                let n = cur.vm.next_effect();
                self.request(
                    me,
                    n,
                    "suspend".into(),
                    &Effect::Suspend,
                    None,
                    replaying,
                    host,
                    options,
                    in_flight,
                );
                cur.wait = Wait::Suspended { n };
                self.suspend_requested = true;
                false
            }
            Effect::Tool { name, arg } if host.is_external(&name) => {
                let n = cur.vm.next_effect();
                let effect = Effect::Tool {
                    name: name.clone(),
                    arg,
                };
                self.request(
                    me,
                    n,
                    answer::kind(&effect),
                    &effect,
                    None,
                    replaying,
                    host,
                    options,
                    in_flight,
                );
                cur.wait = Wait::External { n, tool: name };
                false
            }
            Effect::Intrinsic { op, .. } => {
                cur.vm.resume(Err(RtError::new(
                    "unsupported",
                    format!("`{op}` is not available yet (it comes with capabilities)"),
                )));
                true
            }
            effect => {
                let n = cur.vm.next_effect();
                self.request(
                    me,
                    n,
                    answer::kind(&effect),
                    &effect,
                    Some(effect.clone()),
                    replaying,
                    host,
                    options,
                    in_flight,
                );
                cur.wait = Wait::Effect { n };
                false
            }
        }
    }

    /// Register an effect request (and start it when live).
    #[allow(clippy::too_many_arguments)]
    fn request(
        &mut self,
        pid: u64,
        n: u64,
        kind: String,
        described: &Effect,
        effect: Option<Effect>,
        replaying: bool,
        host: &mut dyn Host,
        options: &Options,
        in_flight: &mut InFlight,
    ) {
        let digest = answer::digest(described);
        let launched = !replaying && effect.is_some();
        let mut abort = None;
        if launched {
            if let Some(e) = effect.clone() {
                let key = format!("{}/{pid}/{n}", options.key_prefix);
                let (f, handle) = wrap(pid, n, host.start(&self.program, e, &key));
                in_flight.push(f);
                abort = Some(handle);
            }
        }
        self.requests.insert(
            (pid, n),
            Request {
                kind,
                digest,
                effect,
                launched,
                abort,
            },
        );
    }

    /// Deliver a message to another process; whether it is alive.
    fn send_to(&mut self, to: u64, msg: Value) -> bool {
        let Some(p) = self.slot(to) else {
            return false;
        };
        match p.wait.clone() {
            Wait::Receive { timer } => {
                p.wait = Wait::Ready;
                p.vm.resume(Ok(msg));
                if let Some((n, _)) = timer {
                    self.cancel(to, n);
                }
                self.queue.push_back(to);
            }
            _ => p.vm.push_message(msg),
        }
        true
    }

    /// Stop process `pid` (not the running one); whether it was alive.
    fn kill(&mut self, pid: u64, cur: &mut Proc, host: &mut dyn Host) -> bool {
        let Some(victim) = self.take_proc(pid) else {
            return false;
        };
        self.ended(*victim, End::Killed, Some(cur), host);
        true
    }

    /// A process returned or failed.
    fn finish(&mut self, p: Box<Proc>, end: Result<Value, Box<Uncaught>>, host: &mut dyn Host) {
        let pid = p.vm.pid();
        if pid == MAIN {
            self.main_end = Some(end);
            // Kept (ended) for its memory and context.
            if let Some(slot) = self.procs.first_mut() {
                *slot = Some(p);
            }
            return;
        }
        let end = match end {
            Ok(v) => End::Normal(v),
            Err(u) => {
                if p.vm.links().parent.is_none() {
                    host.notice(&format!("<pid {pid}> failed: {}: {}", u.kind, u.message));
                }
                End::Error(u.value.clone())
            }
        };
        self.live = self.live.saturating_sub(1);
        self.ended(*p, end, None, host);
    }

    /// Tell a linked parent (which may be the running process `cur`) that
    /// `p` ended, and forget `p`'s pending effects.
    fn ended(&mut self, p: Proc, end: End, cur: Option<&mut Proc>, host: &mut dyn Host) {
        let _ = host;
        let pid = p.vm.pid();
        self.cancel_all(pid);
        // A process stopped or failed takes its linked children with it
        // (a supervision tree shuts down from the top); a normal return
        // leaves them running.
        if !matches!(end, End::Normal(_)) {
            self.stop_tree(&p.vm.links().children);
        }
        let Some(parent) = p.vm.links().parent else {
            return;
        };
        let msg = exit_message(pid, &end);
        drop(p);
        match cur {
            Some(c) if c.vm.pid() == parent => {
                // The running process stopped its own child: it is not waiting.
                c.vm.child_exited(pid, msg);
            }
            _ => {
                let Some(pp) = self.slot(parent) else {
                    return;
                };
                pp.vm.child_exited(pid, msg);
                let wake = match &mut pp.wait {
                    Wait::Receive { timer } => {
                        let timer = *timer;
                        let m = pp.vm.take_message().unwrap_or_default();
                        Some((Ok(m), timer))
                    }
                    Wait::Gather { pids, missing } => {
                        missing.remove(&pid);
                        if missing.is_empty() {
                            let pids = std::mem::take(pids);
                            pp.vm.take_gathered(&pids).map(|r| (Ok(r), None))
                        } else {
                            None
                        }
                    }
                    _ => None,
                };
                if let Some((a, timer)) = wake {
                    pp.wait = Wait::Ready;
                    pp.vm.resume(a);
                    if let Some((n, _)) = timer {
                        self.cancel(parent, n);
                    }
                    self.queue.push_back(parent);
                }
            }
        }
    }

    /// Start a child of `cur` calling `func(args…)`: its pid.
    fn start_child(
        &mut self,
        cur: &mut Proc,
        func: &Value,
        args: Vec<Value>,
        link: bool,
    ) -> Result<u64, RtError> {
        let pid = self.procs.len() as u64 + 1;
        let child = cur.vm.spawn_child(pid, func, args, link)?;
        if link {
            cur.vm.add_child(pid);
        }
        self.procs.push(Some(Box::new(Proc {
            vm: child,
            wait: Wait::Ready,
        })));
        self.live += 1;
        self.queue.push_back(pid);
        Ok(pid)
    }

    /// Take a live process (not the running one) out of the system.
    fn take_proc(&mut self, pid: u64) -> Option<Box<Proc>> {
        let p = pid
            .checked_sub(1)
            .and_then(|i| self.procs.get_mut(i as usize))?
            .take()?;
        self.queue.retain(|q| *q != pid);
        self.live = self.live.saturating_sub(1);
        Some(p)
    }

    /// Forget (and cancel) every request of `pid`.
    fn cancel_all(&mut self, pid: u64) {
        let stale: Vec<(u64, u64)> = self
            .requests
            .range((pid, 0)..=(pid, u64::MAX))
            .map(|(k, _)| *k)
            .collect();
        for (p, n) in stale {
            self.cancel(p, n);
        }
    }

    /// Whether `n` more processes may start.
    fn room(&self, n: usize, options: &Options) -> Result<(), RtError> {
        let max = if options.max_processes == 0 {
            MAX_PROCESSES
        } else {
            options.max_processes
        };
        if self.live.saturating_add(n) > max {
            return Err(RtError::limit(format!(
                "too many processes: {} alive, and {n} more would pass the limit of {max}",
                self.live
            )));
        }
        Ok(())
    }

    /// Forget request `n` of `pid` and cancel its future if it is under way.
    fn cancel(&mut self, pid: u64, n: u64) {
        if let Some(Request { abort: Some(a), .. }) = self.requests.remove(&(pid, n)) {
            a.abort();
        }
    }

    /// Stop these processes and, recursively, their linked children. Their
    /// parents are gone, so no exit message is sent.
    fn stop_tree(&mut self, pids: &[u64]) {
        let mut work: Vec<u64> = pids.to_vec();
        while let Some(pid) = work.pop() {
            let Some(victim) = self.take_proc(pid) else {
                continue;
            };
            self.cancel_all(pid);
            work.extend(victim.vm.links().children.iter().copied());
        }
    }

    /// Main has ended: report and stop the processes still running.
    fn stop_orphans(&mut self, host: &mut dyn Host) {
        let count = self.procs.iter().skip(1).flatten().count();
        if count > 0 {
            let mut left: Vec<String> = self
                .procs
                .iter()
                .skip(1)
                .flatten()
                .take(10)
                .map(|p| format!("<pid {}> ({})", p.vm.pid(), describe_wait(&p.wait)))
                .collect();
            if count > 10 {
                left.push(format!("and {} more", count - 10));
            }
            host.notice(&format!(
                "main ended with {count} process{} still running, now stopped: {}",
                if count == 1 { "" } else { "es" },
                left.join(", ")
            ));
        }
        self.procs.truncate(1);
        self.live = 1;
        self.queue.clear();
        for (_, r) in std::mem::take(&mut self.requests) {
            if let Some(a) = r.abort {
                a.abort();
            }
        }
    }
}

/// Tag a started effect with (pid, n) and make it cancellable.
fn wrap(pid: u64, n: u64, f: Started) -> (Answered, AbortHandle) {
    let (handle, registration) = AbortHandle::new_pair();
    let f = Abortable::new(f, registration).map(move |a| {
        let a = a.unwrap_or_else(|_| Err(RtError::new("effect", "cancelled")));
        (pid, n, a)
    });
    (Box::pin(f), handle)
}

pub(crate) fn describe_wait(w: &Wait) -> String {
    match w {
        Wait::Ready => "ready".into(),
        Wait::Effect { n } => format!("waiting for effect {n}"),
        Wait::Receive { timer: None } => "waiting in `receive`".into(),
        Wait::Receive {
            timer: Some((_, t)),
        } => format!("waiting in `receive timeout {t}`"),
        Wait::Gather { missing, .. } => {
            let mut names: Vec<String> = missing
                .iter()
                .take(5)
                .map(|p| format!("<pid {p}>"))
                .collect();
            if missing.len() > 5 {
                names.push(format!("and {} more", missing.len() - 5));
            }
            format!("waiting in `gather` for {}", names.join(", "))
        }
        Wait::Suspended { .. } => "suspended".into(),
        Wait::External { tool, .. } => format!("waiting for the external tool `{tool}`"),
    }
}

/// The display form of a value for run records (falls back to the type).
pub fn show(v: &Value, program: &Program) -> String {
    display(v, program).unwrap_or_else(|e| format!("<{}>", e.message))
}
