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
