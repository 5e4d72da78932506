//! Running inputs in a worker process, so that an input that overflows the
//! stack (which aborts the whole process) is a reported failure instead of
//! the end of the fuzzer.
//!
//! The worker is the `turn-fuzz` binary started with `--worker`: it reads
//! inputs from stdin and answers each with a verdict or a failure on
//! stdout, checking each input with [`check_with`] (its own 2 MiB thread and
//! watchdog). The [`Supervisor`] starts it, sends inputs, restarts it after a
//! crash or a hang, and tells what the crash was from the worker's exit and
//! its stderr; to find the pass that crashed, it reruns the input once in a
//! worker that traces its passes.
//!
//! Wire format: a request is a `u32` little-endian length and the input's
//! UTF-8 bytes. A reply is a tag byte — `0` and a verdict name, or `1` and
//! a failure's kind, pass, message, location and backtrace — each string a
//! `u32` length and bytes.

use crate::{check_with, Config, Failure, FailureKind, Pass, Verdict};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Most stderr kept from a worker (its tail holds the abort message).
const STDERR_TAIL: usize = 64 * 1024;

/// Extra time the supervisor waits past the worker's own watchdog.
const GRACE: Duration = Duration::from_secs(3);

/// How long the supervisor waits for one answer: the worker's watchdog
/// limits each pass, so a whole check may take several limits (the run and
/// the checkpointed rerun are the long ones).
fn answer_deadline(config: &Config) -> Duration {
    config.timeout * 4 + GRACE
}

/// Serves inputs from stdin until it closes; used by `turn-fuzz --worker`.
/// Returns after answering a hang (the stuck thread cannot be stopped; the
/// process must end).
pub fn serve(config: &Config) -> io::Result<()> {
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    while let Some(text) = read_request(&mut input)? {
        if text == SELF_TEST_OVERFLOW {
            overflow_on_a_thread(config.stack_size);
        }
        let result = check_with(&text, config);
        let hung = matches!(&result, Err(f) if f.kind == FailureKind::Hang);
        write_reply(&mut out, &result)?;
        out.flush()?;
        if hung {
            return Ok(());
        }
    }
    Ok(())
}

/// An input the worker answers by overflowing its stack on purpose, so that
/// tests can check that the supervisor sees and survives an overflow.
pub const SELF_TEST_OVERFLOW: &str = "\u{0}turn-fuzz self-test: overflow the stack\u{0}";

/// Recurses without bound on a thread with `stack` bytes (the process
/// aborts with Rust's stack overflow message).
fn overflow_on_a_thread(stack: usize) {
    fn down(n: u64, pad: &mut [u8; 256]) -> u64 {
        if n == u64::MAX {
            return 0;
        }
        pad[(n % 256) as usize] = n as u8;
        let mut next = [0u8; 256];
        next.copy_from_slice(std::hint::black_box(pad));
        down(n + 1, &mut next).wrapping_add(u64::from(next[0]))
    }
    if let Ok(t) = std::thread::Builder::new()
        .stack_size(stack)
        .spawn(|| down(0, &mut [0; 256]))
    {
        let _ = t.join();
    }
}

fn read_request(r: &mut impl Read) -> io::Result<Option<String>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut bytes = vec![0u8; u32::from_le_bytes(len) as usize];
    r.read_exact(&mut bytes)?;
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

fn write_str(w: &mut impl Write, s: &str) -> io::Result<()> {
    let len = u32::try_from(s.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "string too long"))?;
    w.write_all(&len.to_le_bytes())?;
    w.write_all(s.as_bytes())
}

fn read_str(r: &mut impl Read) -> io::Result<String> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let mut bytes = vec![0u8; u32::from_le_bytes(len) as usize];
    r.read_exact(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn write_reply(w: &mut impl Write, result: &Result<Verdict, Failure>) -> io::Result<()> {
    match result {
        Ok(v) => {
            w.write_all(&[0])?;
            write_str(w, v.name())
        }
        Err(f) => {
            w.write_all(&[1])?;
            write_str(w, f.kind.name())?;
            write_str(w, f.pass.name())?;
            write_str(w, &f.message)?;
            write_str(w, f.location.as_deref().unwrap_or(""))?;
            write_str(w, f.backtrace.as_deref().unwrap_or(""))
        }
    }
}

fn read_reply(r: &mut impl Read) -> io::Result<Result<Verdict, Failure>> {
    let mut tag = [0u8; 1];
    r.read_exact(&mut tag)?;
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, format!("bad reply: {what}"));
    if tag[0] == 0 {
        let name = read_str(r)?;
        return Verdict::from_name(&name)
            .map(Ok)
            .ok_or_else(|| bad("verdict"));
    }
    let kind = FailureKind::from_name(&read_str(r)?).ok_or_else(|| bad("kind"))?;
    let pass = Pass::from_name(&read_str(r)?).unwrap_or(Pass::Unknown);
    let message = read_str(r)?;
    let location = Some(read_str(r)?).filter(|s| !s.is_empty());
    let backtrace = Some(read_str(r)?).filter(|s| !s.is_empty());
    Ok(Err(Failure {
        kind,
        pass,
        message,
        location,
        backtrace,
    }))
}

/// What the reader thread hands over.
enum Reply {
    Result(Result<Verdict, Failure>),
    /// The worker's stdout closed (it ended) or sent garbage.
    Gone,
}

/// A running worker.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    replies: Receiver<Reply>,
    stderr: Arc<Mutex<Vec<u8>>>,
    stderr_thread: Option<JoinHandle<()>>,
}

impl Worker {
    fn start(exe: &PathBuf, args: &[String], memory_mb: u64) -> io::Result<Worker> {
        let sh = Path::new("/bin/sh");
        let mut command = if memory_mb > 0 && sh.exists() {
            // Cap the worker's address space (`ulimit -v`, in KiB) so an
            // input that allocates without bound fails its allocation (an
            // abort the supervisor reports) instead of exhausting the machine.
            let mut c = Command::new(sh);
            c.arg("-c")
                .arg("ulimit -v \"$1\" 2>/dev/null; shift; exec \"$@\"")
                .arg("turn-fuzz-worker")
                .arg((memory_mb * 1024).to_string())
                .arg(exe)
                .args(args);
            c
        } else {
            let mut c = Command::new(exe);
            c.args(args);
            c
        };
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::other("the worker's pipes are missing"));
        };
        let (tx, replies) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                match read_reply(&mut r) {
                    Ok(reply) => {
                        if tx.send(Reply::Result(reply)).is_err() {
                            return;
                        }
                    }
                    Err(_) => {
                        let _ = tx.send(Reply::Gone);
                        return;
                    }
                }
            }
        });
        let tail = Arc::new(Mutex::new(Vec::new()));
        let sink = tail.clone();
        let stderr_thread = std::thread::spawn(move || {
            let mut r = BufReader::new(stderr);
            loop {
                let n = match r.fill_buf() {
                    Ok([]) | Err(_) => return,
                    Ok(buf) => {
                        if let Ok(mut t) = sink.lock() {
                            t.extend_from_slice(buf);
                            let excess = t.len().saturating_sub(STDERR_TAIL);
                            t.drain(..excess);
                        }
                        buf.len()
                    }
                };
                r.consume(n);
            }
        });
        Ok(Worker {
            child,
            stdin,
            replies,
            stderr: tail,
            stderr_thread: Some(stderr_thread),
        })
    }

    /// Stops the worker and returns what it wrote to stderr.
    fn finish(mut self, kill: bool) -> (String, String) {
        if kill {
            let _ = self.child.kill();
        }
        let status = match self.child.wait() {
            Ok(s) => s.to_string(),
            Err(e) => format!("unknown ({e})"),
        };
        if let Some(t) = self.stderr_thread.take() {
            let _ = t.join();
        }
        let stderr = self
            .stderr
            .lock()
            .map(|t| String::from_utf8_lossy(&t).into_owned())
            .unwrap_or_default();
        (status, stderr)
    }
}

/// Runs inputs in a worker process and survives its crashes.
pub struct Supervisor {
    exe: PathBuf,
    config: Config,
    worker: Option<Worker>,
    /// Workers started so far (the first one included).
    pub starts: u64,
}

impl Supervisor {
    /// `exe` is the `turn-fuzz` binary; `config` is passed to its workers.
    pub fn new(exe: impl Into<PathBuf>, config: Config) -> Supervisor {
        Supervisor {
            exe: exe.into(),
            config,
            worker: None,
            starts: 0,
        }
    }

    fn args(&self, trace: bool) -> Vec<String> {
        let mut args = vec![
            "--worker".to_string(),
            "--max-steps".to_string(),
            self.config.limits.max_steps.to_string(),
            "--timeout-ms".to_string(),
            self.config.timeout.as_millis().to_string(),
            "--max-value-size".to_string(),
            self.config.limits.max_value_size.to_string(),
        ];
        if trace {
            args.push("--trace-passes".to_string());
        }
        args
    }

    /// The same supervisor with another hang limit (minimizing a hang is
    /// faster with a shorter one).
    pub fn with_timeout(&self, timeout: Duration) -> Supervisor {
        Supervisor::new(
            self.exe.clone(),
            Config {
                timeout,
                ..self.config.clone()
            },
        )
    }

    /// Checks one input in the worker. A hang while running is told apart
    /// by running it again with smaller limits:
    /// - with a hundredth of the step limit it still hangs: "one step never
    ///   ends" (a single instruction or native call runs away);
    /// - with 1 KiB values instead it ends: "steps on big values" (each step
    ///   copies or scans values up to the value-size limit);
    /// - otherwise: "slow steps" (the work per step grows with something
    ///   no limit bounds, such as the call depth).
    pub fn check(&mut self, text: &str) -> Result<Verdict, Failure> {
        let mut f = match self.check_once(text) {
            Err(f)
                if f.kind == FailureKind::Hang && f.pass == Pass::Run && f.location.is_none() =>
            {
                f
            }
            other => return other,
        };
        let ends = |sup: &mut Supervisor, config: Config| {
            let mut probe = Supervisor::new(sup.exe.clone(), config);
            let result = probe.check_once(text);
            sup.starts += probe.starts;
            !matches!(result, Err(g) if g.kind == FailureKind::Hang)
        };
        let mut few_steps = self.config.clone();
        few_steps.limits.max_steps = (few_steps.limits.max_steps / 100).max(100);
        let mut small_values = self.config.clone();
        small_values.limits.max_value_size = 1024;
        let (what, why) = if !ends(self, few_steps.clone()) {
            (
                "one step never ends",
                format!(
                    "with a step limit of {} it still hangs",
                    few_steps.limits.max_steps
                ),
            )
        } else if ends(self, small_values) {
            (
                "steps on big values",
                "with 1 KiB values it ends".to_string(),
            )
        } else {
            (
                "slow steps",
                format!(
                    "with a step limit of {} it ends, with 1 KiB values it does not",
                    few_steps.limits.max_steps
                ),
            )
        };
        f.location = Some(what.to_string());
        f.message = format!("{}; {why}", f.message);
        Err(f)
    }

    fn check_once(&mut self, text: &str) -> Result<Verdict, Failure> {
        let worker = match self.worker.take() {
            Some(w) => w,
            None => match Worker::start(&self.exe, &self.args(false), self.config.memory_mb) {
                Ok(w) => {
                    self.starts += 1;
                    w
                }
                Err(e) => {
                    return Err(crash(
                        Pass::Unknown,
                        format!("could not start a worker: {e}"),
                    ))
                }
            },
        };
        let mut worker = worker;
        let sent = u32::try_from(text.len())
            .map_err(|_| io::Error::other("input too long"))
            .and_then(|len| {
                worker.stdin.write_all(&len.to_le_bytes())?;
                worker.stdin.write_all(text.as_bytes())?;
                worker.stdin.flush()
            });
        let reply = match sent {
            Ok(()) => worker.replies.recv_timeout(answer_deadline(&self.config)),
            Err(_) => Ok(Reply::Gone),
        };
        match reply {
            Ok(Reply::Result(Ok(v))) => {
                self.worker = Some(worker);
                Ok(v)
            }
            Ok(Reply::Result(Err(f))) => {
                if f.kind == FailureKind::Hang {
                    // The worker exits after reporting a hang.
                    let _ = worker.finish(true);
                } else {
                    self.worker = Some(worker);
                }
                Err(f)
            }
            Ok(Reply::Gone) | Err(RecvTimeoutError::Disconnected) => {
                let (status, stderr) = worker.finish(false);
                let pass = self.traced_pass(text);
                Err(classify(pass, &status, &stderr))
            }
            Err(RecvTimeoutError::Timeout) => {
                let _ = worker.finish(true);
                let pass = self.traced_pass(text);
                Err(Failure {
                    kind: FailureKind::Hang,
                    pass,
                    message: format!(
                        "the worker did not answer within {:.1} s",
                        answer_deadline(&self.config).as_secs_f64()
                    ),
                    location: None,
                    backtrace: None,
                })
            }
        }
    }

    /// Reruns `text` in a fresh worker that prints each pass as it starts,
    /// and returns the last pass it reached.
    fn traced_pass(&mut self, text: &str) -> Pass {
        let Ok(mut worker) = Worker::start(&self.exe, &self.args(true), self.config.memory_mb)
        else {
            return Pass::Unknown;
        };
        self.starts += 1;
        let sent = u32::try_from(text.len())
            .map_err(|_| io::Error::other("input too long"))
            .and_then(|len| {
                worker.stdin.write_all(&len.to_le_bytes())?;
                worker.stdin.write_all(text.as_bytes())?;
                worker.stdin.flush()
            });
        let finished = sent.is_ok()
            && worker
                .replies
                .recv_timeout(answer_deadline(&self.config))
                .is_ok();
        let (_, stderr) = worker.finish(!finished);
        stderr
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("turn-fuzz pass: "))
            .and_then(Pass::from_name)
            .unwrap_or(Pass::Unknown)
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        if let Some(w) = self.worker.take() {
            let _ = w.finish(true);
        }
    }
}

fn crash(pass: Pass, message: String) -> Failure {
    Failure {
        kind: FailureKind::Crash,
        pass,
        message,
        location: None,
        backtrace: None,
    }
}

/// What a worker's abnormal end means, from its exit status and stderr.
fn classify(pass: Pass, status: &str, stderr: &str) -> Failure {
    let last_lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("turn-fuzz pass: "))
        .collect();
    let tail = last_lines[last_lines.len().saturating_sub(5)..].join("\n");
    if stderr.contains("has overflowed its stack") {
        Failure {
            kind: FailureKind::StackOverflow,
            pass,
            message: format!(
                "stack overflow on a {} KiB stack ({status})",
                Config::default().stack_size / 1024
            ),
            location: None,
            backtrace: Some(tail).filter(|t| !t.is_empty()),
        }
    } else if stderr.contains("memory allocation of") {
        Failure {
            kind: FailureKind::OutOfMemory,
            pass,
            message: format!(
                "an allocation failed under the worker's memory cap ({status}): {tail}"
            ),
            location: None,
            backtrace: None,
        }
    } else {
        crash(pass, format!("the worker ended ({status}): {tail}"))
    }
}

/// The worker's configuration from its command line (the flags
/// [`Supervisor`] passes).
pub fn worker_config(args: &[String]) -> Result<Config, String> {
    let mut config = Config::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--worker" => {}
            "--trace-passes" => config.trace_passes = true,
            "--max-steps" => {
                config.limits.max_steps = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--max-steps needs a number")?;
            }
            "--max-value-size" => {
                config.limits.max_value_size = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--max-value-size needs a number")?;
            }
            "--timeout-ms" => {
                let ms: u64 = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--timeout-ms needs a number")?;
                config.timeout = Duration::from_millis(ms);
            }
            other => return Err(format!("unknown worker flag `{other}`")),
        }
    }
    Ok(config)
}
