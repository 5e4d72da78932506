//! The whole-program driver: modules, the shared tables, diagnostics.

use crate::codegen::FnBuilder;
use std::collections::HashMap;
use turn_bytecode::{Constant, ModuleInfo, Program, SourceFile, BYTECODE_VERSION};
use turn_sema::{analyze, Builtins};
use turn_syntax::{Diagnostic, Span};

/// A source file as loaded from disk (or elsewhere).
pub struct LoadedFile {
    /// A canonical identity for the file: two `use`s of the same file must
    /// give the same key (the module is cached by it).
    pub key: String,
    /// The path to show in messages.
    pub display: String,
    pub text: String,
}

/// How the compiler reads relative modules. Implemented by the CLI over
/// the file system, and in memory by tests.
pub trait ModuleLoader {
    /// Load `path` as written in `use "path"` inside the file `from`
    /// (`None` for the entry file).
    fn load(&self, path: &str, from: Option<&LoadedFile>) -> Result<LoadedFile, String>;
}

pub struct CompileOptions {
    pub builtins: Builtins,
    /// The source of a `std/…` module, if it exists.
    pub std_source: fn(&str) -> Option<&'static str>,
}

/// Diagnostics of one file, with what is needed to render them.
#[derive(Debug)]
pub struct FileDiagnostics {
    pub path: String,
    pub text: String,
    pub diagnostics: Vec<Diagnostic>,
}

/// Compilation failed; every file's diagnostics are here (warnings too).
#[derive(Debug)]
pub struct CompileFailure {
    pub files: Vec<FileDiagnostics>,
}

/// Nested `use` chains deeper than this are refused (and cycles reported).
const MAX_MODULE_DEPTH: usize = 128;

/// Compile the program whose entry file is `entry`.
pub fn compile(
    entry: &str,
    loader: &dyn ModuleLoader,
    options: &CompileOptions,
) -> Result<Program, CompileFailure> {
    let mut d = Driver {
        program: Program {
            version: BYTECODE_VERSION,
            functions: Vec::new(),
            constants: Vec::new(),
            structs: Vec::new(),
            modules: Vec::new(),
            files: Vec::new(),
            globals: options
                .builtins
                .natives
                .iter()
                .map(|n| n.0.clone())
                .collect(),
            entry: 0,
        },
        options,
        loader,
        by_key: HashMap::new(),
        in_progress: Vec::new(),
        const_strs: HashMap::new(),
        const_nums: HashMap::new(),
        reports: Vec::new(),
        failed: false,
    };
    match loader.load(entry, None) {
        Ok(file) => {
            let m = d.compile_module(file);
            d.program.entry = m;
        }
        Err(message) => {
            d.failed = true;
            d.reports.push(FileDiagnostics {
                path: entry.to_string(),
                text: String::new(),
                diagnostics: vec![Diagnostic::error("E2001", message, Span::default())],
            });
        }
    }
    if d.failed {
        Err(CompileFailure { files: d.reports })
    } else {
        Ok(d.program)
    }
}

pub(crate) struct Driver<'a> {
    pub program: Program,
    pub options: &'a CompileOptions,
    loader: &'a dyn ModuleLoader,
    by_key: HashMap<String, u16>,
    /// Keys and display paths of the modules being compiled (the `use`
    /// chain), for cycles.
    in_progress: Vec<(String, String)>,
    const_strs: HashMap<String, u32>,
    const_nums: HashMap<u64, u32>,
    reports: Vec<FileDiagnostics>,
    failed: bool,
}

impl Driver<'_> {
    pub fn str_const(&mut self, s: &str) -> u32 {
        if let Some(i) = self.const_strs.get(s) {
            return *i;
        }
        let i = self.program.constants.len() as u32;
        self.program.constants.push(Constant::Str(s.to_string()));
        self.const_strs.insert(s.to_string(), i);
        i
    }

    pub fn num_const(&mut self, n: f64) -> u32 {
        if let Some(i) = self.const_nums.get(&n.to_bits()) {
            return *i;
        }
        let i = self.program.constants.len() as u32;
        self.program.constants.push(Constant::Num(n));
        self.const_nums.insert(n.to_bits(), i);
        i
    }

    pub fn const_(&mut self, c: Constant) -> u32 {
        let i = self.program.constants.len() as u32;
        self.program.constants.push(c);
        i
    }

    /// The module index for `use "path"` in `from`, compiling it on first use.
    /// `Err` carries a diagnostic for the use site.
    // Diagnostics are built on the cold path only; boxing buys nothing.
    #[allow(clippy::result_large_err)]
    pub fn module_index(&mut self, path: &str, from: &LoadedFile) -> Result<u16, Diagnostic> {
        let file = if path.starts_with("std/") {
            match (self.options.std_source)(path) {
                Some(text) => LoadedFile {
                    key: path.to_string(),
                    display: format!("<{path}>"),
                    text: text.to_string(),
                },
                None => {
                    return Err(Diagnostic::error("E2001", format!("there is no standard module `{path}`"), Span::default())
                        .with_label("unknown module")
                        .with_hint("standard modules: std/json, std/math, std/str, std/list, std/regex, std/time, std/supervisor, std/memory, std/env, std/fs"));
                }
            }
        } else {
            match self.loader.load(path, Some(from)) {
                Ok(f) => f,
                Err(message) => {
                    return Err(Diagnostic::error(
                        "E2001",
                        format!("cannot load module `{path}`: {message}"),
                        Span::default(),
                    )
                    .with_label("here"))
                }
            }
        };
        if let Some(pos) = self.in_progress.iter().position(|(k, _)| k == &file.key) {
            let mut chain: Vec<&str> = self.in_progress[pos..]
                .iter()
                .map(|(_, d)| d.as_str())
                .collect();
            chain.push(&file.display);
            return Err(Diagnostic::error(
                "E2002",
                format!("module cycle: {}", chain.join(" -> ")),
                Span::default(),
            )
            .with_label("this `use` closes the cycle")
            .with_hint("move what both modules need into a third module"));
        }
        if let Some(i) = self.by_key.get(&file.key) {
            return Ok(*i);
        }
        if self.in_progress.len() >= MAX_MODULE_DEPTH {
            return Err(Diagnostic::error(
                "E2002",
                "modules are nested too deeply",
                Span::default(),
            )
            .with_label("this `use` goes past 128 nested modules"));
        }
        Ok(self.compile_module(file))
    }

    /// Parse, analyze and generate one module; returns its index.
    fn compile_module(&mut self, file: LoadedFile) -> u16 {
        let index = self.program.modules.len() as u16;
        let file_index = self.program.files.len() as u32;
        self.program
            .files
            .push(SourceFile::new(file.display.clone(), file.text.clone()));
        self.program.modules.push(ModuleInfo {
            path: file.display.clone(),
            function: u32::MAX,
        });
        self.by_key.insert(file.key.clone(), index);
        self.in_progress
            .push((file.key.clone(), file.display.clone()));

        let parsed = turn_syntax::parse(&file.text);
        let mut diagnostics = parsed.diagnostics;
        let analysis = analyze(
            &parsed.file,
            &self.options.builtins,
            &mut self.program.structs,
            file_index,
        );
        diagnostics.extend(analysis.diagnostics.iter().cloned());
        let function = if diagnostics.iter().any(Diagnostic::is_error) {
            u32::MAX
        } else {
            let name = format!("<module {}>", file.display);
            let (f, mut gen_diags) =
                FnBuilder::module(self, &file, file_index, &analysis, &parsed.file.stmts, name);
            diagnostics.append(&mut gen_diags);
            f
        };
        self.in_progress.pop();
        if let Some(m) = self.program.modules.get_mut(index as usize) {
            m.function = function;
        }
        if diagnostics.iter().any(Diagnostic::is_error) {
            self.failed = true;
        }
        if !diagnostics.is_empty() {
            self.reports.push(FileDiagnostics {
                path: file.display,
                text: file.text,
                diagnostics,
            });
        }
        index
    }
}
