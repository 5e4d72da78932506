//! Struct -> JSON Schema, for `infer` requests and `turn schema`.
//!
//! Total over the types `infer` accepts: every struct field is required
//! (optional fields accept `null`, as strict structured-output APIs expect),
//! objects reject extra properties, nested structs are inlined, and a struct
//! that contains itself is emitted once under `$defs` and referenced.

use serde_json::{json, Map, Value as Json};
use turn_bytecode::{StructDef, Ty};

/// The JSON Schema of `ty`.
pub fn schema_for(ty: &Ty, structs: &[StructDef]) -> Json {
    let mut defs = Map::new();
    let mut stack = Vec::new();
    let mut root = gen(ty, structs, &mut stack, &mut defs);
    if !defs.is_empty() {
        if let Json::Object(o) = &mut root {
            o.insert("$defs".into(), Json::Object(defs));
        }
    }
    root
}

fn gen(ty: &Ty, structs: &[StructDef], stack: &mut Vec<u32>, defs: &mut Map<String, Json>) -> Json {
    match ty {
        Ty::Any => json!({}),
        Ty::Void => json!({ "type": "null" }),
        Ty::Num => json!({ "type": "number" }),
        Ty::Str => json!({ "type": "string" }),
        Ty::Bool => json!({ "type": "boolean" }),
        Ty::Vec => json!({ "type": "array", "items": { "type": "number" } }),
        // Not producible by a model; the checker rejects them as `infer`
        // targets, but the function stays total.
        Ty::Pid | Ty::Identity | Ty::Fn { .. } => json!({ "not": {} }),
        Ty::List(t) => json!({ "type": "array", "items": gen(t, structs, stack, defs) }),
        Ty::Map(t) => {
            json!({ "type": "object", "additionalProperties": gen(t, structs, stack, defs) })
        }
        Ty::Optional(t) => {
            let inner = gen(t, structs, stack, defs);
            json!({ "anyOf": [inner, { "type": "null" }] })
        }
        Ty::Struct(sid) => {
            let Some(def) = structs.get(*sid as usize) else {
                return json!({});
            };
            if stack.contains(sid) {
                if !defs.contains_key(&def.name) {
                    // Reserve the name, then fill it in outside the cycle.
                    defs.insert(def.name.clone(), Json::Null);
                    let body = object(def, structs, &mut Vec::new(), defs, Some(*sid));
                    defs.insert(def.name.clone(), body);
                }
                return json!({ "$ref": format!("#/$defs/{}", def.name) });
            }
            stack.push(*sid);
            let o = object(def, structs, stack, defs, None);
            stack.pop();
            o
        }
    }
}

fn object(
    def: &StructDef,
    structs: &[StructDef],
    stack: &mut Vec<u32>,
    defs: &mut Map<String, Json>,
    self_sid: Option<u32>,
) -> Json {
    if let Some(sid) = self_sid {
        stack.push(sid);
    }
    let mut props = Map::new();
    for (name, t) in &def.fields {
        props.insert(name.clone(), gen(t, structs, stack, defs));
    }
    let required: Vec<Json> = def
        .fields
        .iter()
        .map(|(n, _)| Json::String(n.clone()))
        .collect();
    json!({
        "type": "object",
        "title": def.name,
        "properties": props,
        "required": required,
        "additionalProperties": false,
    })
}
