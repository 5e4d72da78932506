//! Human-readable listing of a program (`turn disasm`).

use crate::op::Op;
use crate::program::{Constant, Function, Program};
use std::fmt::Write;

/// The whole program: modules, struct layouts, then every function.
pub fn disassemble(p: &Program) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "; turn bytecode v{} — {} functions, {} constants",
        p.version,
        p.functions.len(),
        p.constants.len()
    );
    for (i, m) in p.modules.iter().enumerate() {
        let _ = writeln!(out, "; module {i}: {} (fn {})", m.path, m.function);
    }
    for (i, s) in p.structs.iter().enumerate() {
        let fields: Vec<String> = s
            .fields
            .iter()
            .map(|(n, t)| format!("{n}: {}", t.display(&p.structs)))
            .collect();
        let _ = writeln!(out, "; struct {i}: {} {{ {} }}", s.name, fields.join(", "));
    }
    for (i, f) in p.functions.iter().enumerate() {
        out.push('\n');
        function(&mut out, p, i, f);
    }
    out
}

fn function(out: &mut String, p: &Program, index: usize, f: &Function) {
    let file = p.files.get(f.file as usize);
    let path = file.map(|f| f.path.as_str()).unwrap_or("?");
    let (line, _) = file.map(|fl| fl.line_col(f.span.start)).unwrap_or((0, 0));
    let _ = writeln!(
        out,
        "fn {index} {}  ; {path}:{line}, arity {}{}, {} slots, {} upvalues",
        f.name,
        f.arity,
        if f.is_method { " +this" } else { "" },
        f.slots,
        f.upvalues.len()
    );
    for (i, u) in f.upvalues.iter().enumerate() {
        let _ = writeln!(out, "  ; upval {i} <- {u:?}");
    }
    let mut last_line = 0;
    for (pc, op) in f.code.iter().enumerate() {
        let line = match (file, f.spans.get(pc)) {
            (Some(fl), Some(sp)) => fl.line_col(sp.start).0,
            _ => 0,
        };
        let line_col = if line != last_line {
            format!("{line:>4}")
        } else {
            "   |".to_string()
        };
        last_line = line;
        let _ = writeln!(out, "{line_col} {pc:>5}  {}", op_text(p, op));
    }
}

fn constant(p: &Program, i: u32) -> String {
    match p.constants.get(i as usize) {
        Some(Constant::Num(n)) => format!("{n}"),
        Some(Constant::Str(s)) => format!("{s:?}"),
        Some(Constant::Ty(t)) => t.display(&p.structs).to_string(),
        Some(Constant::Ctor(c)) => {
            let name = p
                .structs
                .get(c.sid as usize)
                .map(|s| s.name.as_str())
                .unwrap_or("?");
            format!(
                "{name} fields {:?}{}",
                c.fields,
                if c.spread { " ..spread" } else { "" }
            )
        }
        None => "<bad constant>".into(),
    }
}

fn op_text(p: &Program, op: &Op) -> String {
    match *op {
        Op::Const(i) => format!("Const {i} ({})", constant(p, i)),
        Op::GetField(i) | Op::SetField(i) | Op::Infer(i) | Op::Grant(i) | Op::MakeStruct(i) => {
            format!("{op:?} ({})", constant(p, i))
        }
        Op::CallMethod { name, argc } => format!("CallMethod {} argc {argc}", constant(p, name)),
        Op::Context { method, argc } => format!("Context {} argc {argc}", constant(p, method)),
        Op::CheckType { ty, site } => format!("CheckType {} site {site}", constant(p, ty)),
        Op::LoadGlobal(i) => {
            format!(
                "LoadGlobal {i} ({})",
                p.globals.get(i as usize).map(String::as_str).unwrap_or("?")
            )
        }
        Op::Closure(i) => {
            format!(
                "Closure fn {i} ({})",
                p.functions
                    .get(i as usize)
                    .map(|f| f.name.as_str())
                    .unwrap_or("?")
            )
        }
        Op::LoadModule(i) => {
            format!(
                "LoadModule {i} ({})",
                p.modules
                    .get(i as usize)
                    .map(|m| m.path.as_str())
                    .unwrap_or("?")
            )
        }
        other => format!("{other:?}"),
    }
}
