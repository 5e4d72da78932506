//! The scheduler against the clock (tokio's paused clock: virtual time, so
//! these are exact, not timing assertions), the effect log (replay,
//! divergence) and checkpoints written by an older format.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use turn_compiler::{LoadedFile, ModuleLoader};
use turn_infer::providers::BoxFuture;
use turn_infer::{InferRequest, Provider, ProviderAnswer, ProviderError};
use turn_runtime::{AtEnd, Entry, Host, Journal, Options, RunResult, Started, Stop, System};
use turn_vm::{display, Effect, Limits, Program, Value, Vm};

struct Source(String);

impl ModuleLoader for Source {
    fn load(&self, path: &str, from: Option<&LoadedFile>) -> Result<LoadedFile, String> {
        if from.is_some() {
            return Err(format!("no module {path}"));
        }
        Ok(LoadedFile {
            key: "main".into(),
            display: "main.tn".into(),
            text: self.0.clone(),
        })
    }
}

fn compile(src: &str) -> Rc<Program> {
    match turn_compiler::compile(
        "main.tn",
        &Source(src.to_string()),
        &turn_runtime::compile_options(),
    ) {
        Ok(p) => Rc::new(p),
        Err(f) => panic!("does not compile: {:#?}", f.files),
    }
}

/// Answers `infer` after `latency` (virtual) with `{"x": 1}`.
struct Slow {
    latency: Duration,
}

impl Provider for Slow {
    fn name(&self) -> &str {
        "slow"
    }
    fn complete<'a>(
        &'a self,
        _: &'a InferRequest,
    ) -> BoxFuture<'a, Result<ProviderAnswer, ProviderError>> {
        Box::pin(async move {
            tokio::time::sleep(self.latency).await;
            Ok(ProviderAnswer {
                text: r#"{"x": 1}"#.into(),
                tokens: None,
                confidence: Some(0.9),
                usage: Default::default(),
                model: None,
            })
        })
    }
}

/// Real (virtual-clock) sleeps and a slow model; output recorded.
#[derive(Default)]
struct Clocked {
    output: Rc<RefCell<Vec<String>>>,
    inference: Option<turn_runtime::Inference>,
    started: usize,
}

impl Host for Clocked {
    fn print(&mut self, text: &str) {
        self.output.borrow_mut().push(text.to_string());
    }
    fn start(&mut self, program: &Rc<Program>, effect: Effect, _key: &str) -> Started {
        self.started += 1;
        match effect {
            Effect::Sleep { seconds } => Box::pin(async move {
                tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
                Ok(Value::Null)
            }),
            Effect::Infer {
                ty,
                prompt,
                context,
            } => match &self.inference {
                Some(i) => i.start(program.clone(), ty, prompt, &context),
                None => turn_runtime::ready(Ok(Value::Null)),
            },
            Effect::Random => turn_runtime::ready(Ok(Value::Num(0.25 * self.started as f64))),
            other => turn_runtime::ready(self.perform(program, other)),
        }
    }
    fn now(&mut self) -> f64 {
        1.0
    }
    fn sleep(&mut self, _: f64) {}
    fn random(&mut self) -> f64 {
        0.5
    }
}

/// Run `src` live on a paused clock: (result, virtual seconds, log).
fn run_clocked(src: &str, host: &mut Clocked) -> (String, f64, Vec<Entry>) {
    let program = compile(src);
    let vm = Vm::new(program.clone(), turn_runtime::builtins(), Limits::default()).expect("vm");
    let mut system = System::new(vm);
    let log = Rc::new(RefCell::new(Vec::new()));
    let sink_log = log.clone();
    let mut journal = Journal::live(Some(Box::new(move |e: &[Entry]| {
        sink_log.borrow_mut().extend_from_slice(e);
        Ok(())
    })));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("runtime");
    let (stop, elapsed) = rt.block_on(async {
        let t0 = tokio::time::Instant::now();
        let stop = system
            .drive(host, &mut journal, &Options::default(), None)
            .await;
        (stop, t0.elapsed().as_secs_f64())
    });
    let result = match stop {
        Stop::Finished(RunResult::Done(v)) => display(&v, &program).expect("display"),
        other => panic!("did not finish: {other:?}"),
    };
    let entries = log.borrow().clone();
    (result, elapsed, entries)
}

#[test]
fn three_actors_sleeping_one_second_take_one_second() {
    let src = r#"
        let time = use "std/time";
        let pids = spawn_each([1, 2, 3], turn(x) { time.sleep(1); return x * 2; });
        return gather pids;
    "#;
    let (result, elapsed, log) = run_clocked(src, &mut Clocked::default());
    assert_eq!(result, "[2, 4, 6]");
    assert_eq!(log.len(), 3);
    // Sequential sleeps would take 3 s.
    assert!(
        (1.0..1.1).contains(&elapsed),
        "took {elapsed} s of virtual time"
    );
}

#[test]
fn ten_concurrent_infers_take_one_provider_latency() {
    let src = r#"
        struct A { x: Num }
        let pids = spawn_each(range(0, 10), turn(i) { let a = infer A { "item " + str(i) }; return a.x; });
        let rs = gather pids;
        let sum = 0;
        for r in rs { sum = sum + r; }
        return sum;
    "#;
    let provider = Box::new(Slow {
        latency: Duration::from_secs(2),
    });
    let inference = turn_runtime::Inference::new(provider, Default::default()).expect("inference");
    let mut host = Clocked {
        inference: Some(inference),
        ..Clocked::default()
    };
    let (result, elapsed, log) = run_clocked(src, &mut host);
    assert_eq!(result, "10");
    assert_eq!(log.iter().filter(|e| e.kind == "infer").count(), 10);
    // One after the other would take 20 s.
    assert!(
        (2.0..2.5).contains(&elapsed),
        "took {elapsed} s of virtual time"
    );
}

const CHATTY: &str = r#"
    let time = use "std/time";
    let math = use "std/math";
    let parent = self;
    let worker = turn(w) {
        let n = 0;
        for i in range(0, 3) {
            time.sleep(math.random() / 10);
            n = n + 1;
            send parent, "w" + str(w) + ":" + str(i);
        }
        return n;
    };
    let pids = spawn_each([1, 2, 3], worker);
    let seen = [];
    for i in range(0, 9) { seen = push(seen, receive); }
    print(seen);
    return gather pids;
"#;

/// Replay `log` strictly: the output and how it stopped.
fn replay(program: Rc<Program>, log: Vec<Entry>) -> (Vec<String>, Stop) {
    let vm = Vm::new(program, turn_runtime::builtins(), Limits::default()).expect("vm");
    let mut system = System::new(vm);
    let mut journal = Journal::replaying(log, 0, None, AtEnd::Stop);
    let mut host = Clocked::default();
    let out = host.output.clone();
    let options = Options {
        print_replayed: true,
        ..Options::default()
    };
    let stop = turn_runtime::drive(&mut system, &mut host, &mut journal, &options, None);
    assert_eq!(host.started, 0, "a replay started an effect");
    let printed = out.borrow().clone();
    (printed, stop)
}

#[test]
fn a_replay_reproduces_the_interleaving_and_reports_the_first_divergence() {
    let mut host = Clocked::default();
    let (result, _, log) = run_clocked(CHATTY, &mut host);
    let printed = host.output.borrow().clone();
    assert_eq!(result, "[3, 3, 3]");
    assert_eq!(log.len(), 18, "9 random + 9 sleep answers");

    let program = compile(CHATTY);
    let (again, stop) = replay(program.clone(), log.clone());
    assert_eq!(again, printed, "the replay printed something else");
    assert!(
        matches!(stop, Stop::Finished(RunResult::Done(_))),
        "{stop:?}"
    );

    // A log whose 5th answer was asked for differently.
    let mut bad = log.clone();
    bad[4].digest = "0000000000000000".into();
    match replay(program.clone(), bad).1 {
        Stop::Diverged(why) => assert!(why.contains("log entry 4"), "{why}"),
        other => panic!("expected a divergence, got {other:?}"),
    }
    // A log cut short: the replay stops where the answers end.
    let (_, stop) = replay(program, log[..7].to_vec());
    assert!(matches!(stop, Stop::LogEnded { position: 7 }), "{stop:?}");
}

#[test]
fn the_same_answers_give_the_same_interleaving() {
    let mut a = Clocked::default();
    let mut b = Clocked::default();
    let (ra, _, la) = run_clocked(CHATTY, &mut a);
    let (rb, _, lb) = run_clocked(CHATTY, &mut b);
    assert_eq!(ra, rb);
    assert_eq!(*a.output.borrow(), *b.output.borrow());
    assert_eq!(la, lb);
}

#[test]
fn a_checkpoint_written_by_format_1_loads_and_continues() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let program = Program::decode(&std::fs::read(dir.join("checkpoint_v1.program")).expect("read"))
        .expect("the stored program decodes");
    let bytes = std::fs::read(dir.join("checkpoint_v1.bin")).expect("read");
    assert_eq!(&bytes[..4], &1u32.to_le_bytes(), "the fixture is format 1");
    let snap = turn_vm::Snapshot::decode(&bytes).expect("format 1 decodes");
    let program = Rc::new(program);
    let natives = turn_runtime::natives_for(&program).expect("its builtins exist");
    let mut vm =
        Vm::restore(program.clone(), natives, Limits::default(), &snap).expect("format 1 restores");
    // It stopped at `time.now()`: answer it.
    vm.resume(Ok(Value::Num(1234.0)));
    let mut host = Clocked::default();
    match turn_runtime::run(vm, &mut host).expect("runs") {
        RunResult::Done(v) => assert_eq!(display(&v, &program).expect("display"), "[1, 1, 1234]"),
        other => panic!("{other:?}"),
    }
}

/// Records the context each `infer` is sent with.
#[derive(Default)]
struct Recording {
    contexts: Vec<Vec<String>>,
}

impl Host for Recording {
    fn print(&mut self, _: &str) {}
    fn start(&mut self, _: &Rc<Program>, effect: Effect, _: &str) -> Started {
        if let Effect::Infer { context, .. } = effect {
            self.contexts.push(
                context
                    .into_iter()
                    .map(|(t, x)| format!("{}:{x}", t.name()))
                    .collect(),
            );
        }
        turn_runtime::ready(Ok(Value::str("fine")))
    }
    fn now(&mut self) -> f64 {
        0.0
    }
    fn sleep(&mut self, _: f64) {}
    fn random(&mut self) -> f64 {
        0.0
    }
}

#[test]
fn paper_e3_a_spawned_process_infers_with_an_empty_context() {
    let program = compile(
        r#"
        context.system("coordinator rules");
        context.append("parent note");
        let parent_answer = infer Str { "parent asks" };
        let pids = spawn_each([1, 2, 3], turn(x) { return infer Str { "child asks " + str(x) }; });
        return [parent_answer, gather pids];
        "#,
    );
    let vm = Vm::new(program.clone(), turn_runtime::builtins(), Limits::default()).expect("vm");
    let mut host = Recording::default();
    match turn_runtime::run(vm, &mut host).expect("runs") {
        RunResult::Done(v) => assert_eq!(
            display(&v, &program).expect("display"),
            r#"["fine", ["fine", "fine", "fine"]]"#
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(host.contexts.len(), 4);
    assert_eq!(
        host.contexts[0],
        ["system:coordinator rules", "working:parent note"]
    );
    for child in &host.contexts[1..] {
        assert!(child.is_empty(), "a child sent context {child:?}");
    }
}

#[test]
fn a_fork_bomb_stops_at_the_process_limit() {
    let program = compile(
        r#"
        let bomb = turn() { while true { spawn bomb; } };
        try { bomb(); } catch (e) { return [e.kind, e.message]; }
        "#,
    );
    let vm = Vm::new(program.clone(), turn_runtime::builtins(), Limits::default()).expect("vm");
    let options = Options {
        max_processes: 100,
        ..Options::default()
    };
    let mut host = Clocked::default();
    match turn_runtime::run_with(vm, &mut host, &options).expect("runs") {
        RunResult::Done(v) => assert_eq!(
            display(&v, &program).expect("display"),
            r#"["limit", "too many processes: 100 alive, and 1 more would pass the limit of 100"]"#
        ),
        other => panic!("{other:?}"),
    }
    assert!(host.output.borrow().is_empty());
}
