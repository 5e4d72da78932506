//! The effects behind the `summarize` policy and `memory.search`, seen from
//! the VM: what is asked, what a checkpoint taken while it is asked holds,
//! and what an answer (or an error) does. Programs are assembled by hand.

use std::rc::Rc;
use turn_bytecode::{Constant, Function, ModuleInfo, Op, Program, SourceFile, Ty};
use turn_syntax::Span;
use turn_vm::context::Tier;
use turn_vm::{Effect, Limits, NativeDef, Outcome, Snapshot, Value, Vm, VM_NATIVES};

/// A program whose entry runs `code` over `constants`, with the VM natives
/// as its globals.
fn program(constants: Vec<Constant>, code: Vec<Op>) -> Rc<Program> {
    let spans = vec![Span { start: 0, end: 0 }; code.len()];
    Rc::new(Program {
        version: turn_bytecode::BYTECODE_VERSION,
        functions: vec![Function {
            name: "<module t.tn>".into(),
            file: 0,
            span: Span { start: 0, end: 0 },
            arity: 0,
            params: Vec::new(),
            is_method: false,
            slots: 0,
            upvalues: Vec::new(),
            upvalue_names: Vec::new(),
            min_arity: 0,
            code,
            spans,
            cell_params: Vec::new(),
        }],
        constants,
        structs: Vec::new(),
        modules: vec![ModuleInfo {
            path: "t.tn".into(),
            function: 0,
        }],
        files: vec![SourceFile::new("t.tn".into(), String::new())],
        globals: VM_NATIVES.iter().map(|n| n.name.to_string()).collect(),
        entry: 0,
    })
}

fn natives() -> &'static [NativeDef] {
    VM_NATIVES
}

fn s(x: &str) -> Constant {
    Constant::Str(x.into())
}

/// Checkpoint, encode, decode and restore.
fn roundtrip(vm: &Vm) -> Vm {
    let bytes = vm.checkpoint().encode();
    let snap = Snapshot::decode(&bytes).expect("decodes");
    Vm::restore(vm.program().clone(), natives(), Limits::default(), &snap).expect("restores")
}

/// `context.system("mission")`, policy summarize, three appends, a budget
/// of their tokens + 8, then an append that does not fit; returns the
/// context's entries.
fn summarizing() -> Rc<Program> {
    let k = |i: u32| Op::Const(i);
    let ctx = |m: u32, argc: u8| Op::Context { method: m, argc };
    program(
        vec![
            s("system"),
            s("mission"),
            s("policy"),
            s("summarize"),
            s("append"),
            s("first note about the weather today"),
            s("second note about the traffic today"),
            s("third note about the markets today"),
            s("budget"),
            s("tokens"),
            Constant::Num(8.0),
            s("a fourth note that is much too long to fit"),
            s("entries"),
        ],
        vec![
            k(1),
            ctx(0, 1),
            Op::Pop,
            k(3),
            ctx(2, 1),
            Op::Pop,
            k(5),
            ctx(4, 1),
            Op::Pop,
            k(6),
            ctx(4, 1),
            Op::Pop,
            k(7),
            ctx(4, 1),
            Op::Pop,
            ctx(9, 0),
            k(10),
            Op::Add,
            ctx(8, 1),
            Op::Pop,
            k(11),
            ctx(4, 1),
            Op::Pop,
            ctx(12, 0),
            Op::Return,
        ],
    )
}

fn texts(vm: &Vm) -> Vec<(Tier, String)> {
    vm.context()
        .render()
        .map(|(t, e)| (t, e.text.clone()))
        .collect()
}

#[test]
fn a_summary_is_an_infer_of_a_str_with_p0_as_its_only_context() {
    let mut vm = Vm::new(summarizing(), natives(), Limits::default()).expect("vm");
    let Outcome::Effect(Effect::Infer {
        ty,
        prompt,
        context,
    }) = vm.run(0)
    else {
        panic!("expected the summary's infer");
    };
    assert_eq!(ty, Ty::Str);
    assert_eq!(context, vec![(Tier::System, "mission".to_string())]);
    assert!(prompt.starts_with("Summarize these 2 earlier context entries"));
    assert!(
        prompt.ends_with(
            "\n\n[1] first note about the weather today\n[2] second note about the traffic today"
        ),
        "{prompt}"
    );
    // Checkpointed while the summary is asked for: restored exactly.
    let before = texts(&vm);
    let mut vm = roundtrip(&vm);
    assert_eq!(texts(&vm), before);
    vm.resume(Ok(Value::str("Two notes.")));
    let Outcome::Done(_) = vm.run(0) else {
        panic!("expected the program to finish");
    };
    assert_eq!(
        texts(&vm),
        vec![
            (Tier::System, "mission".into()),
            (Tier::Episodic, "Summary: Two notes.".into()),
            (Tier::Working, "third note about the markets today".into()),
            (
                Tier::Working,
                "a fourth note that is much too long to fit".into()
            ),
        ]
    );
    assert!(vm.context().tokens() <= u64::from(vm.context().budget));
}

#[test]
fn a_failed_summary_leaves_the_context_as_it_was_and_raises_at_the_append() {
    let mut vm = Vm::new(summarizing(), natives(), Limits::default()).expect("vm");
    let Outcome::Effect(Effect::Infer { .. }) = vm.run(0) else {
        panic!("expected the summary's infer");
    };
    let before = vm.context().clone();
    vm.resume(Err(turn_vm::RtError::new("provider", "down")));
    let Outcome::Failed(u) = vm.run(0) else {
        panic!("expected the error");
    };
    assert_eq!((u.kind.as_str(), u.message.as_str()), ("provider", "down"));
    assert_eq!(vm.context(), &before);
}

/// Two memory entries, then `memory.search("fruit", 1)` twice.
fn searching() -> Rc<Program> {
    let k = |i: u32| Op::Const(i);
    program(
        vec![
            s("a"),
            s("apple"),
            s("b"),
            s("banana"),
            s("fruit"),
            Constant::Num(1.0),
        ],
        vec![
            k(0),
            k(1),
            Op::Remember,
            Op::Pop,
            k(2),
            k(3),
            Op::Remember,
            Op::Pop,
            Op::LoadGlobal(1),
            k(4),
            k(5),
            Op::Call(2),
            Op::Pop,
            k(0),
            k(3),
            Op::Remember,
            Op::Pop,
            Op::LoadGlobal(1),
            k(4),
            k(5),
            Op::Call(2),
            Op::Return,
        ],
    )
}

fn vecs(xs: &[&[f64]]) -> Value {
    Value::list(
        xs.iter()
            .map(|x| Value::Vector(Rc::new(x.to_vec())))
            .collect(),
    )
}

#[test]
fn search_embeds_only_what_is_not_cached_and_the_cache_is_checkpointed() {
    let mut vm = Vm::new(searching(), natives(), Limits::default()).expect("vm");
    let Outcome::Effect(Effect::Embed { texts }) = vm.run(0) else {
        panic!("expected an embed");
    };
    assert_eq!(texts, vec!["fruit", "a: apple", "b: banana"]);
    let mut vm = roundtrip(&vm);
    vm.resume(Ok(vecs(&[&[1.0, 0.0], &[0.0, 1.0], &[1.0, 0.1]])));
    // Second search: `a` was replaced, so only it (and the query) is embedded.
    let Outcome::Effect(Effect::Embed { texts }) = vm.run(0) else {
        panic!("expected a second embed");
    };
    assert_eq!(texts, vec!["fruit", "a: banana"]);
    let mut vm = roundtrip(&vm);
    vm.resume(Ok(vecs(&[&[1.0, 0.0], &[1.0, 0.0]])));
    let Outcome::Done(v) = vm.run(0) else {
        panic!("expected the result");
    };
    let shown = turn_vm::display(&v, vm.program()).expect("display");
    assert_eq!(shown, r#"[{"key": "a", "value": "banana", "score": 1}]"#);
}

#[test]
fn a_malformed_embedding_answer_is_an_embed_error() {
    let mut vm = Vm::new(searching(), natives(), Limits::default()).expect("vm");
    let Outcome::Effect(Effect::Embed { .. }) = vm.run(0) else {
        panic!("expected an embed");
    };
    vm.resume(Ok(vecs(&[&[1.0]])));
    let Outcome::Failed(u) = vm.run(0) else {
        panic!("expected an error");
    };
    assert_eq!(u.kind, "embed");
}
