//! Figures for processes and durability (issue 4's goals), printed, never
//! asserted: `cargo bench -p turn-runtime --bench processes`.
//!
//! Each figure is the best of several runs of a whole Turn program (or of
//! the Rust API where the issue names an operation), divided by the
//! operation count, so interpreter overhead around the operation counts.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};
use turn_compiler::{LoadedFile, ModuleLoader};
use turn_runtime::{AtEnd, Entry, Host, Journal, Options, RunResult, Stop, System};
use turn_vm::{Limits, Outcome, Program, Snapshot, Value, Vm};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// Effects answered instantly; `now` counts up.
#[derive(Default)]
struct Quick {
    clock: f64,
}

impl Host for Quick {
    fn print(&mut self, _: &str) {}
    fn notice(&mut self, _: &str) {}
    fn now(&mut self) -> f64 {
        self.clock += 1.0;
        self.clock
    }
    fn sleep(&mut self, _: f64) {}
    fn random(&mut self) -> f64 {
        0.5
    }
}

fn vm(program: &Rc<Program>) -> Vm {
    Vm::new(program.clone(), turn_runtime::builtins(), Limits::default()).expect("vm")
}

/// Run a program live; the log it wrote.
fn run(program: &Rc<Program>) -> Vec<Entry> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    let mut journal = Journal::live(Some(Box::new(move |e: &[Entry]| {
        l.borrow_mut().extend_from_slice(e);
        Ok(())
    })));
    let mut system = System::new(vm(program));
    match turn_runtime::drive(
        &mut system,
        &mut Quick::default(),
        &mut journal,
        &Options::default(),
        None,
    ) {
        Stop::Finished(RunResult::Done(_)) => {}
        other => panic!("did not finish: {other:?}"),
    }
    let out = log.borrow().clone();
    out
}

fn best(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    (0..runs).map(|_| f()).min().unwrap_or_default()
}

fn per(d: Duration, n: u64) -> String {
    let ns = d.as_secs_f64() * 1e9 / n as f64;
    if ns >= 1000.0 {
        format!("{:.2} µs", ns / 1000.0)
    } else {
        format!("{ns:.0} ns")
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|x| x.parse().ok()))
        })
        .unwrap_or(0)
}

fn timed(program: &Rc<Program>) -> Duration {
    let t = Instant::now();
    run(program);
    t.elapsed()
}

fn main() {
    println!("processes and durability ({})", env!("CARGO_PKG_VERSION"));

    // spawn: the VM's part (a child process ready to run), from Rust.
    let p = compile("return turn() { return 1; };");
    let mut parent = vm(&p);
    let f = match parent.run(0) {
        Outcome::Done(f) => f,
        other => panic!("{other:?}"),
    };
    let n = 100_000u64;
    let d = best(5, || {
        let t = Instant::now();
        for pid in 0..n {
            let child = parent
                .spawn_child(pid + 2, &f, Vec::new(), false)
                .expect("spawn");
            std::hint::black_box(&child);
        }
        t.elapsed()
    });
    println!(
        "  spawn (Vm::spawn_child, child dropped)      {}",
        per(d, n)
    );

    // 1M spawn-and-exit through the scheduler, in Turn.
    let n = 1_000_000u64;
    let p = compile(&format!(
        "let f = turn() {{ return 1; }};\nfor i in range(0, {n}) {{ spawn f; }}\nreturn 0;"
    ));
    let d = best(3, || timed(&p));
    println!(
        "  1,000,000 spawn-and-exit (Turn program)     {:.3} s ({} each)",
        d.as_secs_f64(),
        per(d, n)
    );

    // send + receive through the scheduler, in Turn.
    let n = 1_000_000u64;
    let p = compile(&format!(
        "for i in range(0, {n}) {{ send self, i; let m = receive; }}\nreturn 0;"
    ));
    let base = compile(&format!(
        "for i in range(0, {n}) {{ let m = i; }}\nreturn 0;"
    ));
    let d = best(3, || timed(&p)).saturating_sub(best(3, || timed(&base)));
    println!(
        "  send + receive (Turn, loop subtracted)      {}",
        per(d, n)
    );
    let p = compile(&format!(
        "let c = spawn turn() {{ let s = 0; for i in range(0, {n}) {{ s = s + receive; }} return s; }};\n\
         for i in range(0, {n}) {{ send c, i; }}\nreturn 0;"
    ));
    let d = best(3, || timed(&p)).saturating_sub(best(3, || timed(&base)));
    println!(
        "  send to another process + its receive       {}",
        per(d, n)
    );

    // remember / recall at 100K entries, in Turn: keys built first, then
    // the same loop with and without the memory operation.
    let n = 100_000u64;
    let prelude = format!(
        "let ks = [];\nfor i in range(0, {n}) {{ ks = push(ks, \"key\" + str(i)); }}\n\
         for k in ks {{ remember(k, 1); }}\nlet s = 0;\n"
    );
    // Ten passes over the keys: 1M operations against a 100K-entry memory.
    let op = |body: &str| {
        compile(&format!(
            "{prelude}for r in range(0, 10) {{ for k in ks {{ {body} }} }}\nreturn s;"
        ))
    };
    let t_base = best(7, || timed(&op("s = s + 1;")));
    let t_recall = best(7, || timed(&op("s = s + recall(k);")));
    let t_remember = best(7, || timed(&op("remember(k, 2); s = s + 1;")));
    println!(
        "  remember, overwriting in a 100K-entry memory        {}",
        per(t_remember.saturating_sub(t_base), 10 * n)
    );
    println!(
        "  recall from a 100K-entry memory                     {}",
        per(t_recall.saturating_sub(t_base), 10 * n)
    );

    // Checkpoint round trip (checkpoint, encode, decode, restore) by memory size.
    for entries in [10u64, 500, 5000] {
        let p = compile(&format!(
            "let time = use \"std/time\";\nfor i in range(0, {entries}) {{ remember(\"k\" + str(i), i); }}\n\
             time.now();\nreturn 0;"
        ));
        let mut v = vm(&p);
        loop {
            match v.run(0) {
                Outcome::Effect(turn_vm::Effect::Now) => break,
                Outcome::Effect(_) => v.resume(Ok(Value::Null)),
                other => panic!("{other:?}"),
            }
        }
        let mut size = 0;
        let d = best(20, || {
            let t = Instant::now();
            let bytes = v.checkpoint().encode();
            size = bytes.len();
            let snap = Snapshot::decode(&bytes).expect("decode");
            let back = Vm::restore(
                p.clone(),
                turn_runtime::builtins(),
                Limits::default(),
                &snap,
            )
            .expect("restore");
            std::hint::black_box(back);
            t.elapsed()
        });
        println!(
            "  checkpoint round trip, {entries:>5} memory entries  {:>9}  {:.1} KB",
            per(d, 1),
            size as f64 / 1000.0
        );
    }

    // 100,000 live idle actors (each blocked in `receive`).
    let n = 100_000u64;
    let p = compile(&format!(
        "let ps = [];\nfor i in range(0, {n}) {{ ps = push(ps, spawn turn() {{ let m = receive; return m; }}); }}\n\
         let time = use \"std/time\";\ntime.now();\nreturn len(ps);"
    ));
    let before = rss_kib();
    let mut system = System::new(vm(&p));
    let mut journal = Journal::live(None);
    // Main stops at `now` after all children are parked: measure there.
    struct Measure {
        at_now: Option<u64>,
    }
    impl Host for Measure {
        fn print(&mut self, _: &str) {}
        fn notice(&mut self, _: &str) {}
        fn now(&mut self) -> f64 {
            self.at_now = Some(rss_kib());
            0.0
        }
        fn sleep(&mut self, _: f64) {}
        fn random(&mut self) -> f64 {
            0.0
        }
    }
    let mut m = Measure { at_now: None };
    let t = Instant::now();
    let _ = turn_runtime::drive(&mut system, &mut m, &mut journal, &Options::default(), None);
    let d = t.elapsed();
    let used = m.at_now.unwrap_or(0).saturating_sub(before);
    println!(
        "  100,000 idle actors: {:.0} MB resident ({:.2} KB each), started in {:.2} s",
        used as f64 / 1024.0,
        used as f64 / n as f64,
        d.as_secs_f64()
    );
    drop(system);

    // Replay of a 10,000-effect log.
    let p = compile(
        "let time = use \"std/time\";\nlet s = 0;\nfor i in range(0, 10000) { s = s + time.now(); }\nreturn s;",
    );
    let log = run(&p);
    assert_eq!(log.len(), 10_000);
    let d = best(5, || {
        let mut system = System::new(vm(&p));
        let mut journal = Journal::replaying(log.clone(), 0, None, AtEnd::Stop);
        let t = Instant::now();
        let stop = turn_runtime::drive(
            &mut system,
            &mut Quick::default(),
            &mut journal,
            &Options::default(),
            None,
        );
        let d = t.elapsed();
        assert!(
            matches!(stop, Stop::Finished(RunResult::Done(_))),
            "{stop:?}"
        );
        d
    });
    println!(
        "  replay of a 10,000-effect log              {:.1} ms ({} per effect)",
        d.as_secs_f64() * 1000.0,
        per(d, 10_000)
    );

    // The same, end to end: `turn replay` of a stored run (SQLite read included).
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = turn_store::SqliteStore::open(tmp.path()).expect("store");
    let id = turn_store::RunId::parse("bench").expect("id");
    let ended = turn_runtime::durable::start(
        &store,
        &id,
        (*p).clone(),
        "main.tn",
        Limits::default(),
        &mut Quick::default(),
        Default::default(),
    )
    .expect("durable run");
    assert!(matches!(ended.result, RunResult::Done(_)));
    let d = best(5, || {
        let t = Instant::now();
        let (r, _) = turn_runtime::durable::replay(&store, &id, None, &mut Quick::default())
            .expect("replay");
        assert!(matches!(r, turn_runtime::durable::Replayed::Same { .. }));
        t.elapsed()
    });
    println!(
        "  turn replay of a stored 10,000-effect run  {:.1} ms (store read included)",
        d.as_secs_f64() * 1000.0
    );
}
