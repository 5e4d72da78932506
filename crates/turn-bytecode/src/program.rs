//! The compiled program and its parts.

use crate::op::Op;
use crate::types::{StructDef, Ty};
use serde::{Deserialize, Serialize};
use turn_syntax::{LineIndex, Span};

/// Bumped whenever the encoding or the meaning of an instruction changes.
pub const BYTECODE_VERSION: u32 = 1;

/// A 32-byte BLAKE3 hash of a program's encoding.
pub type ProgramHash = [u8; 32];

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Program {
    pub version: u32,
    pub functions: Vec<Function>,
    pub constants: Vec<Constant>,
    pub structs: Vec<StructDef>,
    pub modules: Vec<ModuleInfo>,
    pub files: Vec<SourceFile>,
    /// Names of the builtin globals, in `LoadGlobal` order (for the disassembler
    /// and to check that a VM provides the same table).
    pub globals: Vec<String>,
    /// Index into `modules` of the entry module (the program's main).
    pub entry: u16,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SourceFile {
    /// The path as the user gave it (or `<std>/name` for embedded modules).
    pub path: String,
    pub text: String,
    #[serde(skip)]
    line_index: Option<LineIndex>,
}

impl SourceFile {
    pub fn new(path: String, text: String) -> SourceFile {
        let line_index = Some(LineIndex::new(&text));
        SourceFile {
            path,
            text,
            line_index,
        }
    }
    /// 1-based (line, column) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (u32, u32) {
        match &self.line_index {
            Some(ix) => ix.line_col(&self.text, offset),
            None => LineIndex::new(&self.text).line_col(&self.text, offset),
        }
    }
    /// Rebuild the line index after deserialization.
    pub fn reindex(&mut self) {
        self.line_index = Some(LineIndex::new(&self.text));
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModuleInfo {
    pub path: String,
    /// The function that runs the module body and returns its export.
    pub function: u32,
}

/// Where a closure's upvalue comes from when the closure is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UpvalueSource {
    /// A cell in the enclosing function's local slot.
    Local(u16),
    /// The enclosing function's own upvalue.
    Upvalue(u16),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Function {
    /// For traces: the `let` name, `Type.method`, `<module path>` or `<closure>`.
    pub name: String,
    pub file: u32,
    pub span: Span,
    /// Declared parameters (not counting `this`).
    pub arity: u16,
    /// Parameter names, for `call(f, {"name": v})`.
    pub params: Vec<String>,
    /// Methods receive the receiver in slot 0 as `this`.
    pub is_method: bool,
    /// Total local slots, parameters (and `this`) included.
    pub slots: u16,
    pub upvalues: Vec<UpvalueSource>,
    /// The variable name of each upvalue (for error messages).
    pub upvalue_names: Vec<String>,
    /// Leading parameters a call must give; trailing optional (`T?`)
    /// parameters may be left out and are null.
    pub min_arity: u16,
    pub code: Vec<Op>,
    /// The source span of each instruction (same length as `code`).
    pub spans: Vec<Span>,
    /// Parameter slots whose parameter captured by a closure must be moved
    /// into a cell on entry.
    pub cell_params: Vec<u16>,
}

/// `MakeStruct` operand: which struct, and which field each pushed value fills
/// (values are pushed in source order). With `spread`, the base struct is
/// pushed first and unfilled fields are copied from it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StructCtor {
    pub sid: u32,
    pub fields: Vec<u16>,
    pub spread: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Constant {
    Num(f64),
    Str(String),
    Ty(Ty),
    Ctor(StructCtor),
}

impl Program {
    /// Encode to the compact binary form (postcard).
    pub fn encode(&self) -> Vec<u8> {
        // Encoding plain owned data into a Vec cannot fail.
        postcard::to_stdvec(self).unwrap_or_default()
    }

    /// Decode, refusing other bytecode versions.
    pub fn decode(bytes: &[u8]) -> Result<Program, DecodeError> {
        let mut p: Program = postcard::from_bytes(bytes).map_err(DecodeError::Malformed)?;
        if p.version != BYTECODE_VERSION {
            return Err(DecodeError::Version { found: p.version });
        }
        for f in &mut p.files {
            f.reindex();
        }
        Ok(p)
    }

    /// The content hash that checkpoints and effect logs refer to.
    pub fn hash(&self) -> ProgramHash {
        *blake3::hash(&self.encode()).as_bytes()
    }

    pub fn hash_hex(&self) -> String {
        blake3::Hash::from(self.hash()).to_hex().to_string()
    }

    pub fn str_const(&self, i: u32) -> &str {
        match self.constants.get(i as usize) {
            Some(Constant::Str(s)) => s,
            _ => "",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("malformed bytecode: {0}")]
    Malformed(postcard::Error),
    #[error(
        "bytecode version {found} is not supported (this turn reads version {BYTECODE_VERSION})"
    )]
    Version { found: u32 },
}
