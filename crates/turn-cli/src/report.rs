//! Rendering compile diagnostics (codespan-reporting, or JSON) and uncaught
//! runtime errors with their Turn stack trace.

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label, Severity};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config};
use serde::Serialize;
use turn_compiler::CompileFailure;
use turn_syntax::{Diagnostic, LineIndex};
use turn_vm::{Program, Uncaught};

/// Render diagnostics for people (plain text; `_color` is reserved for
/// terminal styling).
pub fn render_diagnostics(failure: &CompileFailure, _color: bool) -> String {
    let mut files = SimpleFiles::new();
    let mut out = String::new();
    let config = Config::default();
    for f in &failure.files {
        let id = files.add(f.path.clone(), f.text.clone());
        for d in &f.diagnostics {
            let cs = to_codespan(d, id, f.text.len());
            if term::emit_to_string(&mut out, &config, &files, &cs).is_err() {
                out.push_str(&format!("error[{}]: {}\n", d.code, d.message));
            }
        }
    }
    let errors: usize = failure
        .files
        .iter()
        .map(|f| f.diagnostics.iter().filter(|d| d.is_error()).count())
        .sum();
    let mut s = out;
    if errors > 0 {
        s.push_str(&format!(
            "error: could not compile: {errors} error{}\n",
            if errors == 1 { "" } else { "s" }
        ));
    }
    s
}

fn to_codespan(d: &Diagnostic, file: usize, len: usize) -> CsDiagnostic<usize> {
    let clamp = |s: turn_syntax::Span| {
        (s.start as usize).min(len)..(s.end as usize).min(len).max((s.start as usize).min(len))
    };
    let severity = if d.is_error() {
        Severity::Error
    } else {
        Severity::Warning
    };
    let mut labels = vec![Label::primary(file, clamp(d.span)).with_message(d.label.clone())];
    for l in &d.labels {
        labels.push(Label::secondary(file, clamp(l.span)).with_message(l.message.clone()));
    }
    let mut cs = CsDiagnostic::new(severity)
        .with_code(d.code)
        .with_message(d.message.clone())
        .with_labels(labels);
    if let Some(h) = &d.hint {
        cs = cs.with_notes(vec![format!("hint: {h}")]);
    }
    cs
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    file: &'a str,
    severity: turn_syntax::Severity,
    code: &'a str,
    message: &'a str,
    line: u32,
    col: u32,
    end_line: u32,
    end_col: u32,
    label: &'a str,
    hint: Option<&'a str>,
}

/// Diagnostics as a JSON array, for tools.
pub fn diagnostics_json(failure: &CompileFailure) -> String {
    let mut all = Vec::new();
    for f in &failure.files {
        let ix = LineIndex::new(&f.text);
        for d in &f.diagnostics {
            let (line, col) = ix.line_col(&f.text, d.span.start);
            let (end_line, end_col) = ix.line_col(&f.text, d.span.end);
            all.push(JsonDiagnostic {
                file: &f.path,
                severity: d.severity,
                code: d.code,
                message: &d.message,
                line,
                col,
                end_line,
                end_col,
                label: &d.label,
                hint: d.hint.as_deref(),
            });
        }
    }
    serde_json::to_string_pretty(&all).unwrap_or_else(|_| "[]".into())
}

/// An uncaught runtime error: message, source line, Turn stack trace.
pub fn render_uncaught(u: &Uncaught, program: &Program) -> String {
    let mut s = format!("error[{}]: {}\n", u.kind, u.message);
    if let Some(top) = u.trace.first() {
        s.push_str(&format!("  --> {}:{}:{}\n", top.file, top.line, top.col));
        if let Some(file) = program.files.iter().find(|f| f.path == top.file) {
            if let Some(text) = file.text.lines().nth(top.line.saturating_sub(1) as usize) {
                let gutter = top.line.to_string();
                let pad = " ".repeat(gutter.len());
                let caret_pad: String = text
                    .chars()
                    .take(top.col.saturating_sub(1) as usize)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                s.push_str(&format!(
                    "{pad} |\n{gutter} | {text}\n{pad} | {caret_pad}^\n"
                ));
            }
        }
    }
    if !u.trace.is_empty() {
        s.push_str("stack trace (most recent call first):\n");
        // Runaway recursion makes traces of thousands of frames: keep both
        // ends. The VM may already have left frames out (one marker).
        const KEEP: usize = 10;
        let real: Vec<&turn_vm::value::TraceFrame> = u
            .trace
            .iter()
            .filter(|f| f.omitted_count().is_none())
            .collect();
        let already: usize = u.trace.iter().filter_map(|f| f.omitted_count()).sum();
        let n = real.len();
        let show = |s: &mut String, f: &turn_vm::value::TraceFrame| {
            s.push_str(&format!(
                "  at {} ({}:{}:{})\n",
                f.function, f.file, f.line, f.col
            ));
        };
        if n > 2 * KEEP || already > 0 {
            let head = KEEP.min(n);
            let tail = KEEP.min(n - head);
            for f in &real[..head] {
                show(&mut s, f);
            }
            s.push_str(&format!(
                "  ... {} frames omitted ...\n",
                n - head - tail + already
            ));
            for f in &real[n - tail..] {
                show(&mut s, f);
            }
        } else {
            for f in &real {
                show(&mut s, f);
            }
        }
    }
    s
}
