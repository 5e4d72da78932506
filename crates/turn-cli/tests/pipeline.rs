//! Whole-pipeline properties that conformance files cannot express: stack
//! use on small threads, bytecode encoding, and the program hash.

use std::rc::Rc;
use turn_cli::hosts::TestHost;
use turn_compiler::{LoadedFile, ModuleLoader};
use turn_runtime::RunResult;
use turn_vm::{Limits, Program, Value, Vm};

/// One in-memory file as the entry module.
struct Source(String);

impl ModuleLoader for Source {
    fn load(&self, _: &str, _: Option<&LoadedFile>) -> Result<LoadedFile, String> {
        Ok(LoadedFile {
            key: "main".into(),
            display: "main.tn".into(),
            text: self.0.clone(),
        })
    }
}

fn compile(src: &str) -> Program {
    match turn_cli::compile_file("main.tn", &Source(src.to_string())) {
        Ok(p) => p,
        Err(f) => panic!("does not compile: {:#?}", f.files),
    }
}

fn run(p: Program) -> Value {
    let mut host = TestHost::default();
    match turn_cli::run_program(p, Limits::default(), &mut host) {
        Ok(RunResult::Done(v)) => v,
        other => panic!("did not finish: {other:?}"),
    }
}

/// Runs `f` on a thread with the default 2 MiB stack.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("overflowed or panicked")
}

#[test]
fn the_longest_operator_chain_compiles_and_runs_on_a_small_stack() {
    let n = turn_syntax::parser::MAX_CHAIN;
    let out = on_small_stack(move || {
        let p = compile(&format!("let x = 1; return x{};", " + 1".repeat(n)));
        match run(p) {
            Value::Num(v) => v,
            _ => -1.0,
        }
    });
    assert_eq!(out, (n + 1) as f64);
}

#[test]
fn deep_values_drop_without_recursion() {
    let depth = on_small_stack(|| {
        let p = compile("let x = []; for i in range(200000) { x = [x]; } return 1;");
        matches!(run(p), Value::Num(n) if n == 1.0)
    });
    assert!(depth);
}

#[test]
fn bytecode_round_trips_and_refuses_other_versions() {
    let p = compile("struct P { x: Num }; let f = turn(a) { return P { x: a }; }; return f(2).x;");
    let bytes = p.encode();
    let back = Program::decode(&bytes).expect("decodes");
    assert_eq!(
        back.hash(),
        p.hash(),
        "the hash is a function of the encoding"
    );
    assert!(matches!(run(back), Value::Num(n) if n == 2.0));

    let mut other = p.clone();
    other.version += 1;
    let err = Program::decode(&other.encode()).expect_err("another version is refused");
    assert!(err.to_string().contains("not supported"), "{err}");
    assert!(
        Program::decode(&bytes[..bytes.len() / 2]).is_err(),
        "truncated bytecode is refused"
    );
}

#[test]
fn the_hash_covers_every_module() {
    let a = compile("let j = use \"std/json\"; return j.stringify([1]);");
    let b = compile("let j = use \"std/json\"; return j.stringify([2]);");
    assert_ne!(a.hash(), b.hash());
    assert_eq!(
        a.hash(),
        compile("let j = use \"std/json\"; return j.stringify([1]);").hash()
    );
}

#[test]
fn a_vm_refuses_a_program_compiled_for_other_builtins() {
    let mut p = compile("return 1;");
    p.globals.push("no_such_builtin".into());
    assert!(Vm::new(Rc::new(p), turn_runtime::builtins(), Limits::default()).is_err());
}

/// Run to the first effect, checkpoint, and hand back the VM and snapshot.
fn at_first_effect(src: &str) -> (Vm, turn_vm::Snapshot) {
    let p = compile(src);
    let mut vm = Vm::new(Rc::new(p), turn_runtime::builtins(), Limits::default()).expect("vm");
    match vm.run(0) {
        turn_vm::Outcome::Effect(_) => {}
        other => panic!("expected an effect, got {other:?}"),
    }
    let snap = vm.checkpoint();
    (vm, snap)
}

#[test]
fn checkpoints_keep_every_value_kind_sharing_and_cycles() {
    let src = r#"
struct P { x: Num, tags: List<Str> };
let shared = [1, 2, 3];
let p = P { x: 1.5, tags: ["a"] };
let counter = turn() { let n = 0; return turn() { n = n + 1; return n; }; };
let next = counter();
next();
let even = turn(n) { if n == 0 { return true; } return odd(n - 1); };
let odd = turn(n) { if n == 0 { return false; } return even(n - 1); };
remember("k", {"v": vec[0.5, 0.25]});
let e = null;
try { throw "kept"; } catch (err) { e = err; }
echo("checkpoint here");
return [shared, shared, p, next(), even(10), recall("k"), e.message, self, [p.x, len(p.tags)]];
"#;
    let (vm, snap) = at_first_effect(src);
    let bytes = snap.encode();
    let back = turn_vm::Snapshot::decode(&bytes).expect("decodes");
    assert_eq!(back, snap, "encoding is lossless");
    let program = vm.program().clone();
    let mut restored = Vm::restore(
        program.clone(),
        turn_runtime::builtins(),
        Limits::default(),
        &back,
    )
    .expect("restores");
    restored.resume(Ok(Value::Null));
    let mut original = vm;
    original.resume(Ok(Value::Null));
    let a = match original.run(0) {
        turn_vm::Outcome::Done(v) => v,
        other => panic!("{other:?}"),
    };
    let b = match restored.run(0) {
        turn_vm::Outcome::Done(v) => v,
        other => panic!("{other:?}"),
    };
    let show = |v: &Value| turn_vm::display(v, &program).expect("prints");
    assert_eq!(show(&a), show(&b));
    assert_eq!(show(&b), "[[1, 2, 3], [1, 2, 3], P { x: 1.5, tags: [\"a\"] }, 2, true, {\"v\": vec[0.5, 0.25]}, \"kept\", <pid 1>, [1.5, 1]]");
    // Sharing survives: the two occurrences of `shared` are one list.
    if let Value::List(items) = &b {
        if let (Value::List(x), Value::List(y)) = (&items[0], &items[1]) {
            assert!(Rc::ptr_eq(x, y), "shared values stay shared");
        }
    }
    // A checkpoint of the restored process is the same checkpoint again.
    let (vm2, snap2) = at_first_effect(src);
    drop(vm2);
    assert_eq!(snap2.encode(), bytes, "checkpoints are deterministic");
}

#[test]
fn damaged_or_foreign_checkpoints_are_refused_without_panicking() {
    let (vm, snap) = at_first_effect("let x = [1, 2]; echo(x); return x;");
    let program = vm.program().clone();
    let bytes = snap.encode();
    // Every truncation and a byte flipped at every position: an error or a
    // consistent process, never a panic.
    for cut in 0..bytes.len() {
        let _ = turn_vm::Snapshot::decode(&bytes[..cut]).and_then(|s| {
            Vm::restore(
                program.clone(),
                turn_runtime::builtins(),
                Limits::default(),
                &s,
            )
        });
    }
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x5a;
        if let Ok(s) = turn_vm::Snapshot::decode(&b) {
            if let Ok(mut v) = Vm::restore(
                program.clone(),
                turn_runtime::builtins(),
                Limits::default(),
                &s,
            ) {
                v.resume(Ok(Value::Null));
                let _ = v.run(10_000);
            }
        }
    }
    // A newer format and another program are refused with a reason.
    let mut newer = bytes.clone();
    newer[0] = 9;
    let err = turn_vm::Snapshot::decode(&newer).expect_err("newer format");
    assert!(err.message.contains("newer"), "{}", err.message);
    let other = Rc::new(compile("return 2;"));
    let err = Vm::restore(other, turn_runtime::builtins(), Limits::default(), &snap)
        .err()
        .expect("other program");
    assert!(err.message.contains("different program"), "{}", err.message);
}
