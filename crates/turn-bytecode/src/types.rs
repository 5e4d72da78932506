//! Type descriptors shared by the checker (static, gradual), the VM (runtime
//! checks at annotated boundaries) and inference (JSON Schema, validation).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A resolved Turn type. Aliases are already expanded; struct types refer to
/// the program's struct table by index.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Ty {
    Any,
    /// `Void`: only `null`.
    Void,
    Num,
    Str,
    Bool,
    Pid,
    Vec,
    Identity,
    List(Box<Ty>),
    Map(Box<Ty>),
    /// `Fn(A, B) -> R`; `None` params means "any function".
    Fn {
        params: Option<Vec<Ty>>,
        ret: Box<Ty>,
    },
    Struct(u32),
    /// `T?`: T or null.
    Optional(Box<Ty>),
}

/// A struct layout: its name and its fields in declaration order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StructDef {
    pub name: String,
    pub fields: Vec<(String, Ty)>,
    /// The module file that declared it (index into `Program::files`).
    pub file: u32,
}

impl StructDef {
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|(n, _)| n == name)
    }
}

impl Ty {
    /// Whether `null` is acceptable.
    pub fn accepts_null(&self) -> bool {
        matches!(self, Ty::Any | Ty::Void | Ty::Optional(_))
    }

    /// Display with struct names taken from `structs`.
    pub fn display<'a>(&'a self, structs: &'a [StructDef]) -> TyDisplay<'a> {
        TyDisplay { ty: self, structs }
    }
}

pub struct TyDisplay<'a> {
    ty: &'a Ty,
    structs: &'a [StructDef],
}

impl<'a> fmt::Display for TyDisplay<'a> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let structs = self.structs;
        let d = move |t: &'a Ty| TyDisplay { ty: t, structs };
        match self.ty {
            Ty::Any => f.write_str("Any"),
            Ty::Void => f.write_str("Null"),
            Ty::Num => f.write_str("Num"),
            Ty::Str => f.write_str("Str"),
            Ty::Bool => f.write_str("Bool"),
            Ty::Pid => f.write_str("Pid"),
            Ty::Vec => f.write_str("Vec"),
            Ty::Identity => f.write_str("Identity"),
            Ty::List(t) => write!(f, "List<{}>", d(t)),
            Ty::Map(t) => write!(f, "Map<{}>", d(t)),
            Ty::Fn { params: None, ret } => write!(f, "Fn(..) -> {}", d(ret)),
            Ty::Fn {
                params: Some(ps),
                ret,
            } => {
                f.write_str("Fn(")?;
                for (i, p) in ps.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", d(p))?;
                }
                write!(f, ") -> {}", d(ret))
            }
            Ty::Struct(i) => match self.structs.get(*i as usize) {
                Some(s) => f.write_str(&s.name),
                None => write!(f, "<struct {i}>"),
            },
            Ty::Optional(t) => write!(f, "{}?", d(t)),
        }
    }
}
