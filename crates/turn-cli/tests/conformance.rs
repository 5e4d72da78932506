//! Conformance programs: one test per `tests/conformance/**/<name>.tn`.
//!
//! Each program is compiled and run with a deterministic host; the compiler
//! diagnostics, the printed output, the result or the uncaught error and the
//! exit code are compared with `<name>.expected`. Files under a `lib/`
//! directory are modules used by the tests, not tests themselves.
//!
//! When `<name>.disasm` exists too, the program's bytecode listing is
//! compared with it (snapshots of what the compiler emits).
//!
//! Regenerate expected files with `TURN_BLESS=1 cargo test --test conformance`
//! and review the diff before committing.

use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use turn_cli::hosts::TestHost;
use turn_cli::loader::FsLoader;
use turn_cli::report;
use turn_runtime::RunResult;
use turn_vm::Limits;

const HEADER: &str =
    "# generated: TURN_BLESS=1 cargo test --test conformance (review before committing)\n";

fn main() {
    let args = Arguments::from_args();
    let root = repo_root();
    let mut files = Vec::new();
    collect(&root.join("tests/conformance"), &mut files);
    files.sort();
    let trials = files
        .into_iter()
        .map(|path| {
            let rel = path
                .strip_prefix(&root)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            let name = rel
                .trim_start_matches("tests/conformance/")
                .trim_end_matches(".tn")
                .to_string();
            let root = root.clone();
            Trial::test(name, move || check(&root, &path))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from("../.."))
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "lib") {
                collect(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "tn") {
            out.push(p);
        }
    }
}

/// Run one program the way `turn run` does and describe what happened.
/// With `checkpointing`, the process is checkpointed, encoded and restored
/// at every effect; the description must not change.
pub fn observe(root: &Path, path: &Path, checkpointing: bool) -> String {
    let loader = FsLoader {
        display_root: Some(root.to_path_buf()),
    };
    let rel = path.strip_prefix(root).unwrap_or(path);
    let mut out = String::new();
    let program = match turn_cli::compile_file(&path.to_string_lossy(), &loader) {
        Ok(p) => p,
        Err(failure) => {
            let text = report::render_diagnostics(&failure, false)
                .replace(&*path.to_string_lossy(), &rel.to_string_lossy());
            out.push_str("-- diagnostics\n");
            out.push_str(&text);
            out.push_str("-- exit\n1\n");
            return out;
        }
    };
    let shown = program.clone();
    let mut host = TestHost::default();
    // `<name>.responses.jsonl` answers the program's `infer`s.
    let responses = path.with_extension("responses.jsonl");
    if responses.exists() {
        host.inference = scripted(&responses);
    }
    let limits = Limits {
        max_steps: 50_000_000,
        ..Limits::default()
    };
    let result = if checkpointing {
        turn_vm::Vm::new(std::rc::Rc::new(program), turn_runtime::builtins(), limits)
            .and_then(|vm| turn_runtime::run_checkpointing(vm, &mut host))
    } else {
        turn_cli::run_program(program, limits, &mut host)
    };
    out.push_str("-- stdout\n");
    for line in &host.output {
        out.push_str(line);
        out.push('\n');
    }
    let exit = match result {
        Ok(RunResult::Done(v)) => {
            out.push_str("-- result\n");
            match turn_vm::display(&v, &shown) {
                Ok(s) if !matches!(v, turn_vm::Value::Null) => {
                    out.push_str(&s);
                    out.push('\n');
                    0
                }
                Ok(_) => 0,
                Err(e) => {
                    out.push_str(&format!("<cannot print: {}>\n", e.message));
                    2
                }
            }
        }
        Ok(RunResult::Failed(u)) => {
            out.push_str("-- error\n");
            out.push_str(&report::render_uncaught(&u, &shown));
            2
        }
        Ok(RunResult::Suspended) => {
            out.push_str("-- suspended\n");
            0
        }
        Ok(RunResult::Waiting { pid, tool }) => {
            out.push_str(&format!("-- waiting\n<pid {pid}> for `{tool}`\n"));
            0
        }
        Err(e) => {
            out.push_str(&format!("-- error\n{}: {}\n", e.kind, e.message));
            2
        }
    };
    out.push_str(&format!("-- exit\n{exit}\n"));
    out
}

/// The bytecode listing of the program (no header paths that depend on the
/// checkout location).
fn listing(root: &Path, path: &Path) -> String {
    let loader = FsLoader {
        display_root: Some(root.to_path_buf()),
    };
    match turn_cli::compile_file(&path.to_string_lossy(), &loader) {
        Ok(p) => turn_bytecode::disasm::disassemble(&p),
        Err(f) => report::render_diagnostics(&f, false),
    }
}

fn check_disasm(root: &Path, path: &Path) -> Result<(), Failed> {
    let golden = path.with_extension("disasm");
    if !golden.exists() {
        return Ok(());
    }
    let actual = format!("{HEADER}{}", listing(root, path));
    if std::env::var_os("TURN_BLESS").is_some() {
        return std::fs::write(&golden, actual).map_err(|e| Failed::from(e.to_string()));
    }
    let expected = std::fs::read_to_string(&golden).map_err(|e| Failed::from(e.to_string()))?;
    if expected == actual {
        Ok(())
    } else {
        Err(Failed::from(format!(
            "bytecode differs\n--- expected\n{expected}--- actual\n{actual}"
        )))
    }
}

/// The scripted provider over a responses file, retried like a real one but
/// without waiting between tries.
fn scripted(path: &Path) -> Result<turn_runtime::Inference, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let provider = turn_infer::providers::scripted::Scripted::parse(&text)?;
    let policy = turn_infer::RetryPolicy {
        base_delay: std::time::Duration::ZERO,
        ..turn_infer::RetryPolicy::default()
    };
    let retrying = turn_infer::providers::Retrying {
        inner: provider,
        policy,
    };
    turn_runtime::Inference::new(Box::new(retrying), turn_infer::engine::Options::default())
}

fn check(root: &Path, path: &Path) -> Result<(), Failed> {
    check_disasm(root, path)?;
    let actual = observe(root, path, false);
    let restored = observe(root, path, true);
    if restored != actual {
        return Err(Failed::from(format!(
            "checkpoint/restore at every effect changed the run\n--- straight\n{actual}--- restored at each effect\n{restored}"
        )));
    }
    let expected_path = path.with_extension("expected");
    if std::env::var_os("TURN_BLESS").is_some() {
        std::fs::write(&expected_path, format!("{HEADER}{actual}"))
            .map_err(|e| Failed::from(e.to_string()))?;
        return Ok(());
    }
    let expected = std::fs::read_to_string(&expected_path).map_err(|_| {
        Failed::from(format!(
            "missing {} (run with TURN_BLESS=1 to create it)",
            expected_path.display()
        ))
    })?;
    let expected = expected.strip_prefix(HEADER).unwrap_or(&expected);
    if expected == actual {
        Ok(())
    } else {
        Err(Failed::from(format!(
            "output differs\n--- expected\n{expected}--- actual\n{actual}"
        )))
    }
}
