//! Hosts that answer a process's effects.

use std::io::Write;
use std::rc::Rc;
use turn_bytecode::Program;
use turn_runtime::{ready, Host, Inference, Started};
use turn_vm::{Effect, RtError, Value};

/// `Ok`: the provider; `Err`: why there is none (raised at the `infer`).
pub type Configured = Result<Inference, String>;

/// Start an `infer` with the configured provider (or fail with why there is none).
fn start_infer(inference: &Configured, program: &Rc<Program>, effect: Effect) -> Started {
    let Effect::Infer {
        ty,
        prompt,
        context,
    } = effect
    else {
        return ready(Err(RtError::internal("not an infer effect")));
    };
    match inference {
        Ok(i) => i.start(program.clone(), ty, prompt, &context),
        Err(why) => ready(Err(RtError::new("provider", why.clone()))),
    }
}

fn not_configured() -> Configured {
    Err("no inference provider is configured for this run".into())
}

/// The real world: stdout, the system clock, the OS random source, and the
/// configured inference provider.
pub struct SystemHost {
    pub inference: Configured,
    /// The project's tools (`[tools]` in turn.toml).
    pub tools: crate::tools::Tools,
    /// Which identities `grant` may give (`--grant`, `[[grant]]`).
    pub policy: turn_runtime::grants::Policy,
    /// std/env and std/fs.
    pub io: crate::io::Io,
    /// Where network secrets may be read from besides the environment.
    pub secrets: Option<std::path::PathBuf>,
}

impl Default for SystemHost {
    fn default() -> SystemHost {
        SystemHost {
            inference: not_configured(),
            tools: crate::tools::Tools::default(),
            policy: turn_runtime::grants::Policy::default(),
            io: crate::io::Io::default(),
            secrets: None,
        }
    }
}

impl Host for SystemHost {
    fn start(&mut self, program: &Rc<Program>, effect: Effect, key: &str) -> Started {
        match effect {
            Effect::Infer { .. } => start_infer(&self.inference, program, effect),
            Effect::Io {
                op: "net.request",
                identity,
                args,
            } => crate::net::request(
                &self.policy,
                self.secrets.as_deref(),
                identity,
                args.first().unwrap_or(&Value::Null),
                program,
            ),
            Effect::Io { op, identity, args } => {
                ready(self.io.perform(&self.policy, op, identity, &args))
            }
            Effect::Tool { name, arg } => match self.tools.start(program, &name, &arg, key) {
                Some(started) => started,
                None => ready(self.tool(program, &name, arg)),
            },
            // Sleeps (and receive timeouts) of many processes overlap.
            Effect::Sleep { seconds } => Box::pin(async move {
                if seconds.is_finite() && seconds > 0.0 {
                    tokio::time::sleep(std::time::Duration::from_secs_f64(seconds.min(86_400.0)))
                        .await;
                }
                Ok(Value::Null)
            }),
            other => ready(self.perform(program, other)),
        }
    }
    fn is_external(&self, tool: &str) -> bool {
        self.tools.is_external(tool)
    }
    fn grant(&mut self, kind: &str, name: &str) -> Result<Value, RtError> {
        self.policy.decide(kind, name)
    }
    fn print(&mut self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
    }
    fn now(&mut self) -> f64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0)
    }
    fn sleep(&mut self, seconds: f64) {
        if seconds.is_finite() && seconds > 0.0 {
            std::thread::sleep(std::time::Duration::from_secs_f64(seconds.min(86_400.0)));
        }
    }
    fn random(&mut self) -> f64 {
        // 53 random bits from the OS-seeded std hasher: uniform in [0, 1).
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(self.now().to_bits());
        (h.finish() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A deterministic host for tests: output is recorded, the clock starts at
/// a fixed instant and advances only by sleeps, randomness is a fixed LCG.
pub struct TestHost {
    pub output: Vec<String>,
    pub clock: f64,
    seed: u64,
    /// The scripted (or any other) provider answering `infer`.
    pub inference: Configured,
}

impl Default for TestHost {
    fn default() -> TestHost {
        TestHost {
            output: Vec::new(),
            clock: 1_700_000_000.0,
            seed: 42,
            inference: not_configured(),
        }
    }
}

impl Host for TestHost {
    fn start(&mut self, program: &Rc<Program>, effect: Effect, key: &str) -> Started {
        let _ = key;
        match effect {
            Effect::Infer { .. } => start_infer(&self.inference, program, effect),
            other => ready(self.perform(program, other)),
        }
    }
    fn print(&mut self, text: &str) {
        self.output.push(text.to_string());
    }
    /// Notices are part of the recorded output (`turn: …`), so tests see them.
    fn notice(&mut self, text: &str) {
        self.output.push(format!("turn: {text}"));
    }
    fn now(&mut self) -> f64 {
        self.clock
    }
    fn sleep(&mut self, seconds: f64) {
        self.clock += seconds;
    }
    fn random(&mut self) -> f64 {
        self.seed = self
            .seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.seed >> 11) as f64 / (1u64 << 53) as f64
    }
}
