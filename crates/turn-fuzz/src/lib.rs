//! Fuzzing Turn's parser, compiler and VM on stable Rust.
//!
//! The property every input must satisfy is [`check_source`]: whatever the
//! text, parsing, compiling, encoding and running it (with tight [`Limits`]
//! and a deterministic host that answers every effect), then running it
//! again checkpointed and restored at each effect, finishes within the
//! limits, on a thread with a default-sized (2 MiB) stack, without a panic,
//! without an `internal` error, with every diagnostic pointing inside the
//! text, and with the restored run ending as the straight one did (see
//! [`Pass`] for the stages). Inputs come from three families of generators —
//! the grammar ([`gen::program`], [`gen::deep`], [`gen::chains`]), token
//! soup ([`gen::token_soup`]) and mutations of the committed corpus
//! ([`mutate`]) — driven by proptest in `cargo test` and by the long-running
//! `turn-fuzz` binary, which runs inputs in a worker process ([`supervisor`])
//! so that a stack overflow or an allocation failure (aborts) is caught too.
//!
//! This crate is a test tool: it never changes the Turn crates' behaviour,
//! and it reads no files except the corpus its callers point it at.

pub mod gen;
pub mod host;
pub mod minimize;
pub mod mutate;
pub mod rng;
pub mod supervisor;
pub mod vocab;

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{mpsc, Arc, Once, OnceLock};
use std::time::{Duration, Instant};

use turn_bytecode::Program;
use turn_compiler::{CompileOptions, FileDiagnostics};
use turn_syntax::Diagnostic;
use turn_vm::{Effect, Limits, Outcome, RtError, Value, Vm};

pub use host::{FuzzHost, MemLoader, ENTRY};

/// How one input is checked.
#[derive(Clone, Debug)]
pub struct Config {
    /// The VM's limits; running into one is a normal outcome, going past one
    /// is a failure.
    pub limits: Limits,
    /// Wall-clock time one pass may take before the input counts as a hang
    /// (the checkpoint pass, which reruns the program, gets twice this).
    pub timeout: Duration,
    /// Stack of the thread each input runs on (a default thread's is 2 MiB).
    pub stack_size: usize,
    /// Address-space cap of a supervised worker process, in MiB (0: none).
    /// The VM bounds each value's size, not their total, so an input can
    /// keep many large values alive; the cap makes that a reported failure
    /// instead of a machine out of memory.
    pub memory_mb: u64,
    /// Print each pass to stderr as it starts (the supervisor uses this to
    /// tell which pass overflowed the stack, since an overflow aborts).
    pub trace_passes: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            limits: Limits {
                max_steps: 200_000,
                max_call_depth: 2_000,
                max_value_size: 1 << 20,
            },
            timeout: Duration::from_secs(5),
            stack_size: 2 << 20,
            memory_mb: 4096,
            trace_passes: false,
        }
    }
}

/// The stage of the pipeline an input was in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Pass {
    Parse = 0,
    Compile = 1,
    Encode = 2,
    Run = 3,
    Display = 4,
    /// The run again, checkpointed, encoded, decoded and restored at each
    /// effect: it must end the same way.
    Checkpoint = 5,
    Drop = 6,
    /// Not known (a crash the supervisor could not attribute).
    Unknown = 7,
    /// The program under the scheduler (processes, logged effects), straight
    /// and with the whole system checkpointed at every delivery phase.
    Processes = 8,
}

impl Pass {
    pub fn name(self) -> &'static str {
        match self {
            Pass::Parse => "parse",
            Pass::Compile => "compile",
            Pass::Encode => "encode",
            Pass::Run => "run",
            Pass::Display => "display",
            Pass::Drop => "drop",
            Pass::Checkpoint => "checkpoint",
            Pass::Processes => "processes",
            Pass::Unknown => "unknown",
        }
    }
    pub fn from_u8(n: u8) -> Pass {
        match n {
            0 => Pass::Parse,
            1 => Pass::Compile,
            2 => Pass::Encode,
            3 => Pass::Run,
            4 => Pass::Display,
            5 => Pass::Checkpoint,
            6 => Pass::Drop,
            8 => Pass::Processes,
            _ => Pass::Unknown,
        }
    }
    pub fn from_name(name: &str) -> Option<Pass> {
        (0..=8).map(Pass::from_u8).find(|p| p.name() == name)
    }
}

/// What kind of property an input broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// A Rust panic in one of the Turn crates.
    Panic,
    /// The input ran longer than [`Config::timeout`].
    Hang,
    /// The process aborted with a stack overflow (seen by the supervisor).
    StackOverflow,
    /// An allocation failed under the worker's memory cap (seen by the
    /// supervisor).
    OutOfMemory,
    /// Another abnormal end of the worker process (seen by the supervisor).
    Crash,
    /// A checked invariant does not hold: a diagnostic outside the text, an
    /// `internal` runtime error, a limit overrun, a failed bytecode round trip.
    Invariant,
}

impl FailureKind {
    pub fn name(self) -> &'static str {
        match self {
            FailureKind::Panic => "panic",
            FailureKind::Hang => "hang",
            FailureKind::StackOverflow => "stack-overflow",
            FailureKind::OutOfMemory => "out-of-memory",
            FailureKind::Crash => "crash",
            FailureKind::Invariant => "invariant",
        }
    }
    pub fn from_name(name: &str) -> Option<FailureKind> {
        [
            FailureKind::Panic,
            FailureKind::Hang,
            FailureKind::StackOverflow,
            FailureKind::OutOfMemory,
            FailureKind::Crash,
            FailureKind::Invariant,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }
}

/// An input that broke the property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    pub pass: Pass,
    /// The panic message and location, or what invariant broke.
    pub message: String,
    /// Where: `file:line` of a panic, or which kind of hang (see
    /// [`supervisor::Supervisor::check`]). With kind and pass, the signature
    /// that tells two failures apart.
    pub location: Option<String>,
    /// A backtrace, when one was captured.
    pub backtrace: Option<String>,
}

impl Failure {
    fn invariant(pass: Pass, message: impl Into<String>) -> Failure {
        Failure {
            kind: FailureKind::Invariant,
            pass,
            message: message.into(),
            location: None,
            backtrace: None,
        }
    }

    /// A short key that identifies the bug: two inputs with the same
    /// signature are (most likely) the same bug.
    pub fn signature(&self) -> String {
        let what = match (&self.location, self.kind) {
            (Some(loc), _) => loc.clone(),
            (None, FailureKind::Invariant) => {
                // The message without the numbers and names an input varies.
                let m = self
                    .message
                    .strip_prefix("internal error: ")
                    .unwrap_or(&self.message);
                m.split([':', '`'])
                    .next()
                    .unwrap_or("")
                    .chars()
                    .filter(|c| !c.is_ascii_digit())
                    .collect()
            }
            (None, _) => String::new(),
        };
        format!("{}/{}/{}", self.kind.name(), self.pass.name(), what.trim())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} in {}: {}",
            self.kind.name(),
            self.pass.name(),
            self.message
        )?;
        if let Some(loc) = &self.location {
            write!(f, " (at {loc})")?;
        }
        Ok(())
    }
}

/// How an input that did not fail ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The parser reported errors (the compiler still ran).
    SyntaxError,
    /// Parsed, but the compiler reported errors.
    CompileError,
    /// Ran to completion.
    Done,
    /// Ended with an uncaught error other than a limit.
    RuntimeError,
    /// Ended at a limit (steps, call depth, value size).
    Limit,
    /// Stopped at a `suspend` the host declined to resume.
    Suspended,
}

impl Verdict {
    pub const ALL: [Verdict; 6] = [
        Verdict::SyntaxError,
        Verdict::CompileError,
        Verdict::Done,
        Verdict::RuntimeError,
        Verdict::Limit,
        Verdict::Suspended,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Verdict::SyntaxError => "syntax-error",
            Verdict::CompileError => "compile-error",
            Verdict::Done => "done",
            Verdict::RuntimeError => "runtime-error",
            Verdict::Limit => "limit",
            Verdict::Suspended => "suspended",
        }
    }
    pub fn from_name(name: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.name() == name)
    }
}

/// The property: `text` goes through every pass without a failure. Runs on
/// a 2 MiB-stack thread with a 5 s watchdog and [`Config::default`] limits.
/// A stack overflow aborts the calling process (use [`supervisor`] to
/// survive one).
pub fn check_source(text: &str) -> Result<(), String> {
    check_with(text, &Config::default())
        .map(|_| ())
        .map_err(|f| f.to_string())
}

/// [`check_source`] with a configuration, returning how the input ended.
pub fn check_with(text: &str, config: &Config) -> Result<Verdict, Failure> {
    let pass = Arc::new(AtomicU8::new(Pass::Parse as u8));
    let (tx, rx) = mpsc::channel();
    let owned = text.to_string();
    let cfg = config.clone();
    let seen = pass.clone();
    let spawned = std::thread::Builder::new()
        .name("turn-fuzz-input".into())
        .stack_size(config.stack_size)
        .spawn(move || {
            let result = check_here(&owned, &cfg, &seen);
            let _ = tx.send(result);
        });
    if let Err(e) = spawned {
        return Err(Failure::invariant(
            Pass::Parse,
            format!("could not start the input thread: {e}"),
        ));
    }
    // The watchdog gives each pass its own budget: the time limit is per
    // pass (the checkpoint pass reruns the program, so it gets two).
    let mut current = pass.load(Ordering::SeqCst);
    let mut since = Instant::now();
    let slice = (config.timeout / 20).max(Duration::from_millis(1));
    loop {
        match rx.recv_timeout(slice) {
            Ok(result) => return result,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let now = pass.load(Ordering::SeqCst);
                if now != current {
                    current = now;
                    since = Instant::now();
                    continue;
                }
                let stage = Pass::from_u8(now);
                let budget = if stage == Pass::Checkpoint || stage == Pass::Processes {
                    config.timeout * 2
                } else {
                    config.timeout
                };
                if since.elapsed() >= budget {
                    return Err(Failure {
                        kind: FailureKind::Hang,
                        pass: stage,
                        message: format!(
                            "no result after {:.1} s in {}",
                            budget.as_secs_f64(),
                            stage.name()
                        ),
                        location: None,
                        backtrace: None,
                    });
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(Failure {
                    kind: FailureKind::Crash,
                    pass: Pass::from_u8(pass.load(Ordering::SeqCst)),
                    message: "the input thread ended without a result".into(),
                    location: None,
                    backtrace: None,
                })
            }
        }
    }
}

/// Runs every pass on the current thread, catching panics. `pass` tracks
/// the stage so a watchdog on another thread can tell where a hang is.
pub fn check_here(text: &str, config: &Config, pass: &AtomicU8) -> Result<Verdict, Failure> {
    install_panic_hook();
    PANIC.with(|p| p.borrow_mut().take());
    IN_CHECK.with(|c| c.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(|| pipeline(text, config, pass)));
    IN_CHECK.with(|c| c.set(false));
    match result {
        Ok(r) => r,
        Err(payload) => {
            let caught = PANIC.with(|p| p.borrow_mut().take());
            let (message, location, backtrace) = match caught {
                Some(c) => (c.message, c.location, Some(c.backtrace)),
                None => (payload_message(payload.as_ref()), None, None),
            };
            Err(Failure {
                kind: FailureKind::Panic,
                pass: Pass::from_u8(pass.load(Ordering::SeqCst)),
                message,
                location,
                backtrace,
            })
        }
    }
}

fn enter(pass: &AtomicU8, p: Pass, config: &Config) {
    pass.store(p as u8, Ordering::SeqCst);
    if config.trace_passes {
        eprintln!("turn-fuzz pass: {}", p.name());
    }
}

/// The passes, in order.
fn pipeline(text: &str, config: &Config, pass: &AtomicU8) -> Result<Verdict, Failure> {
    enter(pass, Pass::Parse, config);
    let parsed = turn_syntax::parse(text);
    check_spans(text, &parsed.diagnostics).map_err(|m| Failure::invariant(Pass::Parse, m))?;
    let syntax_ok = !parsed.diagnostics.iter().any(Diagnostic::is_error);
    drop(parsed);

    enter(pass, Pass::Compile, config);
    let loader = MemLoader::new(text);
    let program = match turn_compiler::compile(ENTRY, &loader, options()) {
        Ok(p) => p,
        Err(failure) => {
            for file in &failure.files {
                check_file_diagnostics(file).map_err(|m| Failure::invariant(Pass::Compile, m))?;
            }
            return Ok(if syntax_ok {
                Verdict::CompileError
            } else {
                Verdict::SyntaxError
            });
        }
    };
    if !syntax_ok {
        return Err(Failure::invariant(
            Pass::Compile,
            "the compiler accepted a file the parser reported errors in",
        ));
    }

    enter(pass, Pass::Encode, config);
    let program = round_trip(program)?;

    enter(pass, Pass::Run, config);
    let program = Rc::new(program);
    let mut vm = Vm::new(
        program.clone(),
        turn_runtime::builtins(),
        config.limits.clone(),
    )
    .map_err(|e| {
        Failure::invariant(
            Pass::Run,
            format!("Vm::new refused a compiled program: {}", e.message),
        )
    })?;
    let mut host = FuzzHost::new(text);
    let ended = drive(&mut vm, &mut host, &config.limits, 0, &mut None)?;

    enter(pass, Pass::Display, config);
    let verdict = match &ended {
        Ended::Done(v) => {
            show(v, &program)?;
            Verdict::Done
        }
        Ended::Failed(value, kind) => {
            show(value, &program)?;
            if *kind == "limit" {
                Verdict::Limit
            } else {
                Verdict::RuntimeError
            }
        }
        Ended::Suspended => Verdict::Suspended,
    };

    // The same run, checkpointed and restored at each effect (the durable
    // runtime's suspend/resume and replay rest on this).
    if host.effects > 0 {
        enter(pass, Pass::Checkpoint, config);
        let straight = Observed::of(&ended, &program, &host);
        let mut vm2 = Vm::new(
            program.clone(),
            turn_runtime::builtins(),
            config.limits.clone(),
        )
        .map_err(|e| {
            Failure::invariant(
                Pass::Checkpoint,
                format!("Vm::new refused a compiled program: {}", e.message),
            )
        })?;
        let mut host2 = FuzzHost::new(text);
        let mut note = None;
        let ended2 = drive(
            &mut vm2,
            &mut host2,
            &config.limits,
            MAX_CHECKPOINTS,
            &mut note,
        )?;
        let restored = Observed::of(&ended2, &program, &host2);
        if restored != straight {
            return Err(Failure::invariant(
                Pass::Checkpoint,
                format!(
                    "checkpoint/restore at each effect changed the run: straight {}; restored {}",
                    straight.brief(),
                    restored.brief()
                ),
            ));
        }
        if let Some(difference) = note {
            return Err(Failure::invariant(
                Pass::Checkpoint,
                format!("a restored process checkpoints differently, in {difference}"),
            ));
        }
    }

    enter(pass, Pass::Processes, config);
    processes(&program, text, config)?;

    enter(pass, Pass::Drop, config);
    drop(ended);
    drop(vm);
    drop(program);
    Ok(verdict)
}

/// The program under the scheduler: spawned processes really run, and the
/// run must end the same way when the whole actor system is checkpointed,
/// encoded, decoded and restored at every delivery phase. Each process gets
/// a smaller step limit, so a program that spawns in a loop stays bounded.
fn processes(program: &Rc<Program>, text: &str, config: &Config) -> Result<(), Failure> {
    let limits = Limits {
        max_steps: (config.limits.max_steps / 50).max(1_000),
        ..config.limits.clone()
    };
    let once = |roundtrip: bool| -> Result<String, Failure> {
        let vm =
            Vm::new(program.clone(), turn_runtime::builtins(), limits.clone()).map_err(|e| {
                Failure::invariant(Pass::Processes, format!("Vm::new refused: {}", e.message))
            })?;
        let mut host = FuzzHost::new(text);
        // A fork bomb is bounded by the process limit.
        let options = turn_runtime::Options {
            roundtrip,
            max_processes: 2_000,
            ..turn_runtime::Options::default()
        };
        let r = turn_runtime::run_with(vm, &mut host, &options);
        let internal =
            |m: &str| Failure::invariant(Pass::Processes, format!("internal error: {m}"));
        let end = match r {
            Ok(turn_runtime::RunResult::Done(v)) => {
                show(&v, program)?;
                format!(
                    "done: {}",
                    turn_vm::display(&v, program).unwrap_or_default()
                )
            }
            Ok(turn_runtime::RunResult::Failed(u)) => {
                if u.kind == "internal" {
                    return Err(internal(&u.message));
                }
                format!("failed ({}): {}", u.kind, u.message)
            }
            Ok(other) => format!("{other:?}"),
            Err(e) if e.kind == "internal" => return Err(internal(&e.message)),
            Err(e) => format!("error ({}): {}", e.kind, e.message),
        };
        Ok(format!(
            "{} | {} bytes printed (hash {:016x})",
            end.chars().take(300).collect::<String>(),
            host.printed,
            host.printed_hash
        ))
    };
    let straight = once(false)?;
    let restored = once(true)?;
    if straight != restored {
        return Err(Failure::invariant(
            Pass::Processes,
            format!(
                "checkpointing the system at every delivery phase changed the run: \
                 straight {straight}; restored {restored}"
            ),
        ));
    }
    Ok(())
}

/// The compile options, built once (building them copies the builtin table).
fn options() -> &'static CompileOptions {
    static OPTIONS: OnceLock<CompileOptions> = OnceLock::new();
    OPTIONS.get_or_init(turn_runtime::compile_options)
}

/// Every diagnostic's spans lie inside `text` and on character boundaries,
/// and the line index can place them.
fn check_spans(text: &str, diagnostics: &[Diagnostic]) -> Result<(), String> {
    let index = turn_syntax::LineIndex::new(text);
    for d in diagnostics {
        let spans = std::iter::once(d.span).chain(d.labels.iter().map(|l| l.span));
        for s in spans {
            let (start, end) = (s.start as usize, s.end as usize);
            if start > end || end > text.len() {
                return Err(format!(
                    "diagnostic {} span {start}..{end} is outside the text ({} bytes): {}",
                    d.code,
                    text.len(),
                    d.message
                ));
            }
            if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
                return Err(format!(
                    "diagnostic {} span {start}..{end} splits a character: {}",
                    d.code, d.message
                ));
            }
            let _ = index.line_col(text, s.start);
        }
    }
    Ok(())
}

fn check_file_diagnostics(file: &FileDiagnostics) -> Result<(), String> {
    check_spans(&file.text, &file.diagnostics).map_err(|m| format!("{}: {m}", file.path))
}

/// Encode, decode and re-encode: the bytes must match, and the decoded
/// program (what a checkpoint would run) is the one that runs. The
/// disassembler must describe it without panicking.
fn round_trip(program: Program) -> Result<Program, Failure> {
    let bytes = program.encode();
    let decoded = Program::decode(&bytes).map_err(|e| {
        Failure::invariant(
            Pass::Encode,
            format!("decoding an encoded program failed: {e}"),
        )
    })?;
    if decoded.encode() != bytes {
        return Err(Failure::invariant(
            Pass::Encode,
            "re-encoding a decoded program gave different bytes",
        ));
    }
    let _ = turn_bytecode::disasm::disassemble(&decoded);
    Ok(decoded)
}

/// How the run ended.
enum Ended {
    Done(Value),
    /// The thrown value and the error kind.
    Failed(Value, String),
    Suspended,
}

/// Runs the VM, answering effects through `host`, preempting it now and
/// then (as the scheduler will), and checking that it stays within its
/// limits.
fn drive(
    vm: &mut Vm,
    host: &mut FuzzHost,
    limits: &Limits,
    mut checkpoints: u32,
    note: &mut Option<String>,
) -> Result<Ended, Failure> {
    // More effects than this without reaching the step limit means the VM
    // does unbounded work between steps.
    let max_effects = limits.max_steps.saturating_mul(4).max(10_000);
    let mut effects = 0u64;
    loop {
        let before = vm.steps();
        let budget = host.budget();
        let outcome = vm.run(budget);
        if limits.max_steps != 0 && vm.steps() > limits.max_steps.saturating_add(1) {
            return Err(Failure::invariant(
                Pass::Run,
                format!(
                    "ran {} steps with a limit of {}",
                    vm.steps(),
                    limits.max_steps
                ),
            ));
        }
        match outcome {
            Outcome::Done(v) => return Ok(Ended::Done(v)),
            Outcome::Failed(u) => {
                if u.kind == "internal" {
                    return Err(Failure::invariant(
                        Pass::Run,
                        format!("internal error: {}", u.message),
                    ));
                }
                return Ok(Ended::Failed(u.value, u.kind));
            }
            Outcome::Preempted => {
                if vm.steps() <= before {
                    return Err(Failure::invariant(
                        Pass::Run,
                        format!("run({budget}) was preempted without progress (steps stayed at {before})"),
                    ));
                }
            }
            Outcome::Effect(effect) => {
                effects += 1;
                if effects > max_effects {
                    return Err(Failure::invariant(
                        Pass::Run,
                        format!("more than {max_effects} effects"),
                    ));
                }
                if checkpoints > 0 {
                    checkpoints -= 1;
                    *vm = round_trip_process(vm, note)?;
                }
                match answer(host, vm, effect) {
                    Some(answer) => vm.resume(answer),
                    None => return Ok(Ended::Suspended),
                }
            }
        }
    }
}

/// Most effects of one run that are checkpointed (each one encodes the
/// whole heap).
const MAX_CHECKPOINTS: u32 = 64;

/// Checkpoint, encode, decode and restore a process at an effect boundary.
/// The restored process should checkpoint to the same snapshot (the
/// encoding is canonical); where it does not, `note` gets the first
/// difference (reported after the run, unless the run itself changed).
fn round_trip_process(vm: &Vm, note: &mut Option<String>) -> Result<Vm, Failure> {
    let broken = |what: &str, detail: String| {
        Failure::invariant(
            Pass::Checkpoint,
            format!("checkpoint/restore failed in {what}: {detail}"),
        )
    };
    let snap = vm.checkpoint();
    let bytes = snap.encode();
    let decoded = turn_vm::Snapshot::decode(&bytes).map_err(|e| broken("decode", e.message))?;
    if decoded != snap {
        return Err(broken(
            "decode",
            format!(
                "the decoded snapshot differs in {}",
                first_difference(&snap, &decoded)
            ),
        ));
    }
    let restored = Vm::restore(
        vm.program().clone(),
        turn_runtime::builtins(),
        vm.limits.clone(),
        &decoded,
    )
    .map_err(|e| broken("restore", e.message))?;
    if note.is_none() {
        let again = restored.checkpoint();
        if again != decoded {
            *note = Some(first_difference(&decoded, &again));
        }
    }
    Ok(restored)
}

/// The first field (and element) in which two snapshots differ.
fn first_difference(a: &turn_vm::Snapshot, b: &turn_vm::Snapshot) -> String {
    fn at<T: PartialEq + std::fmt::Debug>(field: &str, x: &[T], y: &[T]) -> Option<String> {
        if x == y {
            return None;
        }
        let i = x
            .iter()
            .zip(y)
            .position(|(p, q)| p != q)
            .unwrap_or(x.len().min(y.len()));
        let show = |v: Option<&T>| {
            v.map(|v| format!("{v:?}").chars().take(120).collect::<String>())
                .unwrap_or_else(|| "nothing".into())
        };
        Some(format!(
            "{field}: [{i}] {} vs {} ({} vs {} entries)",
            show(x.get(i)),
            show(y.get(i)),
            x.len(),
            y.len()
        ))
    }
    at("objects", &a.objects, &b.objects)
        .or_else(|| at("cells", &a.cells, &b.cells))
        .or_else(|| at("stack", &a.stack, &b.stack))
        .or_else(|| at("frames", &a.frames, &b.frames))
        .or_else(|| at("handlers", &a.handlers, &b.handlers))
        .or_else(|| at("modules", &a.modules, &b.modules))
        .or_else(|| at("methods", &a.methods, &b.methods))
        .or_else(|| at("memory", &a.memory, &b.memory))
        .unwrap_or_else(|| {
            format!(
                "pending/steps/pid: {:?} {} {} vs {:?} {} {}",
                a.pending, a.steps, a.pid, b.pending, b.steps, b.pid
            )
        })
}

/// What a run looked like from outside, to compare two runs.
#[derive(Debug, PartialEq)]
struct Observed {
    /// How it ended and its result or error, as shown.
    end: String,
    /// Hash and size of everything printed.
    printed: (u64, u64),
    effects: u64,
}

impl Observed {
    fn of(ended: &Ended, program: &Program, host: &FuzzHost) -> Observed {
        let shown = |v: &Value| match turn_vm::display(v, program) {
            Ok(s) => s,
            Err(e) => format!("<{}: {}>", e.kind, e.message),
        };
        let end = match ended {
            Ended::Done(v) => format!("done: {}", shown(v)),
            Ended::Failed(v, kind) => format!("failed ({kind}): {}", shown(v)),
            Ended::Suspended => "suspended".to_string(),
        };
        Observed {
            end,
            printed: (host.printed_hash, host.printed),
            effects: host.effects,
        }
    }

    /// A short form for messages.
    fn brief(&self) -> String {
        let end: String = self.end.chars().take(160).collect();
        format!(
            "{end} | {} effects, {} bytes printed (hash {:016x})",
            self.effects, self.printed.1, self.printed.0
        )
    }
}

/// The host's answer to one effect; `None` stops the run (a suspension
/// that is not resumed).
fn answer(host: &mut FuzzHost, vm: &Vm, effect: Effect) -> Option<Result<Value, RtError>> {
    use turn_runtime::Host;
    host.effects += 1;
    Some(match effect {
        Effect::Print { text } => {
            host.print(&text);
            Ok(Value::Null)
        }
        Effect::Tool { name, arg } => host.tool(vm.program(), &name, arg),
        Effect::Now => Ok(Value::Num(host.now())),
        Effect::Sleep { seconds } => {
            host.sleep(seconds);
            Ok(Value::Null)
        }
        Effect::Random => Ok(Value::Num(host.random())),
        Effect::Suspend => return host.resume_after_suspend().then_some(Ok(Value::Null)),
        Effect::Infer { ty, prompt, .. } => host.infer(vm.program(), &ty, &prompt),
        Effect::Intrinsic { op, args } => host.intrinsic(op, &args),
        // The process effects are exercised through the scheduler by the
        // conformance suite; this driver runs a single VM.
        other => host.intrinsic(other.name(), &[]),
    })
}

/// Renders a value the way the CLI shows results: display and JSON may
/// refuse (a `limit` error on a deep value) but must not panic.
fn show(v: &Value, program: &Program) -> Result<(), Failure> {
    match turn_vm::display(v, program) {
        Err(e) if e.kind == "internal" => {
            return Err(Failure::invariant(
                Pass::Display,
                format!("internal error: {}", e.message),
            ));
        }
        _ => {}
    }
    match turn_std::to_json(v, program) {
        Err(e) if e.kind == "internal" => Err(Failure::invariant(
            Pass::Display,
            format!("internal error: {}", e.message),
        )),
        _ => Ok(()),
    }
}

/// What the panic hook saw.
struct Caught {
    message: String,
    location: Option<String>,
    backtrace: String,
}

thread_local! {
    static PANIC: std::cell::RefCell<Option<Caught>> = const { std::cell::RefCell::new(None) };
    static IN_CHECK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A panic hook that records panics raised inside a check (message,
/// location, backtrace) instead of printing them, and leaves every other
/// panic to the previous hook.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !IN_CHECK.with(|c| c.get()) {
                previous(info);
                return;
            }
            let message = payload_message(info.payload());
            let location = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()));
            let backtrace = std::backtrace::Backtrace::force_capture().to_string();
            PANIC.with(|p| {
                *p.borrow_mut() = Some(Caught {
                    message,
                    location,
                    backtrace,
                })
            });
        }));
    });
}

fn payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_string()
    }
}
