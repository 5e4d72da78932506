//! The fast path of validation: a serde `DeserializeSeed` guided by the
//! target type, so a conforming answer becomes a Turn value in one pass over
//! its text. Any mismatch is a plain error; the caller then takes the slow
//! path, which explains every problem.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::rc::Rc;
use turn_bytecode::{StructDef, Ty};
use turn_vm::value::{Map, StructValue};
use turn_vm::Value;

/// Deserialize a value of type `ty`.
#[derive(Clone, Copy)]
pub struct Expect<'a> {
    pub ty: &'a Ty,
    pub structs: &'a [StructDef],
}

impl<'de> DeserializeSeed<'de> for Expect<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        match self.ty {
            Ty::Num | Ty::Str | Ty::Bool | Ty::Void | Ty::Any | Ty::Optional(_) => {
                d.deserialize_any(self)
            }
            Ty::List(_) | Ty::Vec => d.deserialize_seq(self),
            Ty::Map(_) | Ty::Struct(_) => d.deserialize_map(self),
            Ty::Pid | Ty::Identity | Ty::Fn { .. } => Err(de::Error::custom("not a model type")),
        }
    }
}

impl<'a> Expect<'a> {
    /// The type that must be met, looking through an optional.
    fn inner(&self) -> &'a Ty {
        match self.ty {
            Ty::Optional(t) => t,
            t => t,
        }
    }
    fn with(&self, ty: &'a Ty) -> Expect<'a> {
        Expect {
            ty,
            structs: self.structs,
        }
    }
}

fn mismatch<E: de::Error>() -> E {
    E::custom("type mismatch")
}

impl<'de, 'a> Visitor<'de> for Expect<'a> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value of the target type")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        match self.inner() {
            Ty::Bool | Ty::Any => Ok(Value::Bool(b)),
            _ => Err(mismatch()),
        }
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        self.visit_f64(n as f64)
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        self.visit_f64(n as f64)
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Value, E> {
        match self.inner() {
            Ty::Num | Ty::Any => Ok(Value::Num(n)),
            _ => Err(mismatch()),
        }
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        match self.inner() {
            Ty::Str | Ty::Any => Ok(Value::str(s)),
            _ => Err(mismatch()),
        }
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        match self.inner() {
            Ty::Str | Ty::Any => Ok(Value::str(s)),
            _ => Err(mismatch()),
        }
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        if self.ty.accepts_null() {
            Ok(Value::Null)
        } else {
            Err(mismatch())
        }
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        match self.inner() {
            Ty::Vec => {
                let mut xs = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(x) = seq.next_element::<f64>()? {
                    xs.push(x);
                }
                Ok(Value::Vector(Rc::new(xs)))
            }
            Ty::List(t) => {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(v) = seq.next_element_seed(self.with(t))? {
                    out.push(v);
                }
                Ok(Value::list(out))
            }
            Ty::Any => {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element_seed(self.with(&Ty::Any))? {
                    out.push(v);
                }
                Ok(Value::list(out))
            }
            _ => Err(mismatch()),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        match self.inner() {
            Ty::Struct(sid) => {
                let def = self.structs.get(*sid as usize).ok_or_else(mismatch)?;
                let mut fields: Vec<Option<Value>> = vec![None; def.fields.len()];
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    let i = def.field_index(&key).ok_or_else(mismatch)?;
                    if fields[i].is_some() {
                        return Err(mismatch());
                    }
                    fields[i] = Some(map.next_value_seed(self.with(&def.fields[i].1))?);
                }
                let mut out = Vec::with_capacity(fields.len());
                for (f, (_, ty)) in fields.into_iter().zip(&def.fields) {
                    match f {
                        Some(v) => out.push(v),
                        None if ty.accepts_null() && !matches!(ty, Ty::Any) => {
                            out.push(Value::Null)
                        }
                        None => return Err(mismatch()),
                    }
                }
                Ok(Value::Struct(Rc::new(StructValue {
                    sid: *sid,
                    fields: out.into_boxed_slice(),
                })))
            }
            Ty::Map(t) => collect_map(map, self.with(t)),
            Ty::Any => collect_map(map, self.with(&Ty::Any)),
            _ => Err(mismatch()),
        }
    }
}

fn collect_map<'de, A: MapAccess<'de>>(mut map: A, item: Expect<'_>) -> Result<Value, A::Error> {
    let mut out =
        Map::with_capacity_and_hasher(map.size_hint().unwrap_or(0).min(4096), Default::default());
    while let Some(key) = map.next_key::<String>()? {
        let v = map.next_value_seed(item)?;
        out.insert(key, v);
    }
    Ok(Value::map(out))
}
