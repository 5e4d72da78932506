//! A program records the builtin table it was compiled against; a VM runs
//! it with any table that still has every builtin it names, by name.

use std::rc::Rc;
use turn_bytecode::{Constant, Function, ModuleInfo, Op, Program, SourceFile};
use turn_syntax::Span;
use turn_vm::{Limits, Outcome, Value, Vm, VM_NATIVES};

/// `forget("k")` where `forget` is global 0 of `globals`.
fn program(globals: &[&str]) -> Rc<Program> {
    let code = vec![Op::LoadGlobal(0), Op::Const(0), Op::Call(1), Op::Return];
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
            spans: vec![Span { start: 0, end: 0 }; code.len()],
            code,
            cell_params: Vec::new(),
        }],
        constants: vec![Constant::Str("k".into())],
        structs: Vec::new(),
        modules: vec![ModuleInfo {
            path: "t.tn".into(),
            function: 0,
        }],
        files: vec![SourceFile::new("t.tn".into(), String::new())],
        globals: globals.iter().map(|g| g.to_string()).collect(),
        entry: 0,
    })
}

#[test]
fn an_older_table_runs_by_name_and_a_missing_builtin_is_refused() {
    // Compiled when `forget` was the only VM builtin: still runs.
    let mut vm = Vm::new(program(&["forget"]), VM_NATIVES, Limits::default()).expect("runs");
    assert!(matches!(vm.run(0), Outcome::Done(Value::Bool(false))));
    let missing = Vm::new(program(&["forget", "gone"]), VM_NATIVES, Limits::default());
    assert!(missing.is_err());
}
