//! From a model's answer to a Turn value of the target type.
//!
//! The answer's text is parsed as JSON (tolerating a Markdown code fence or
//! prose around one JSON value), checked against the target type, and
//! converted in the same walk. Every problem is reported with a JSON-pointer
//! path so the model can be re-asked precisely. A value comes out only when
//! it conforms completely: structs need exactly their fields (optional ones
//! may be null), nothing extra.

use indexmap::IndexMap;
use serde_json::value::RawValue;
use serde_json::Value as Json;
use std::ops::Range;
use std::rc::Rc;
use turn_bytecode::{StructDef, Ty};
use turn_vm::value::{Map, StructValue};
use turn_vm::Value;

mod fast;

/// At most this many problems are reported for one answer.
const MAX_ISSUES: usize = 20;

/// One way an answer fails its type.
#[derive(Clone, Debug, PartialEq)]
pub struct Issue {
    /// JSON pointer to the offending part (`""` for the whole answer).
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// A conforming answer.
#[derive(Debug)]
pub struct Validated {
    pub value: Value,
    /// Byte range of the target value in the answer's text (inside the
    /// `{"value": …}` wrapper when there is one).
    pub span: Range<usize>,
}

/// Check `text` against `ty` and convert it.
pub fn validate(
    text: &str,
    ty: &Ty,
    structs: &[StructDef],
    wrapped: bool,
) -> Result<Validated, Vec<Issue>> {
    // Fast path: the whole answer is JSON of the right type. One pass with a
    // type-guided deserializer builds the value with no JSON tree in between.
    if !wrapped {
        let lead = text.len() - text.trim_start().len();
        let span = lead..lead + text.trim().len();
        let mut de = serde_json::Deserializer::from_str(&text[span.clone()]);
        if let Ok(value) =
            serde::de::DeserializeSeed::deserialize(fast::Expect { ty, structs }, &mut de)
        {
            if de.end().is_ok() {
                return Ok(Validated { value, span });
            }
        }
    }
    // Slow path: find the JSON, then report every problem precisely.
    let (json, range) = parse_answer(text).map_err(|m| {
        vec![Issue {
            path: String::new(),
            message: m,
        }]
    })?;
    let (json, span) = if wrapped {
        match &json {
            Json::Object(o) if o.len() == 1 && o.contains_key("value") => {
                let inner = o.get("value").cloned().unwrap_or(Json::Null);
                let span = field_spans(text, &range)
                    .into_iter()
                    .find(|(k, _)| k == "value")
                    .map(|(_, r)| r)
                    .unwrap_or(range.clone());
                (inner, span)
            }
            _ => {
                return Err(vec![Issue {
                    path: String::new(),
                    message: "expected an object with exactly one field, \"value\"".into(),
                }])
            }
        }
    } else {
        (json, range)
    };
    let mut issues = Vec::new();
    let value = convert(&json, ty, structs, &mut String::new(), &mut issues, 0);
    if !issues.is_empty() {
        return Err(issues);
    }
    Ok(Validated { value, span })
}

/// Byte ranges (in `text`) of the member values of the JSON object at
/// `span`, for per-field confidence. Empty when it is not an object.
pub fn field_spans(text: &str, span: &Range<usize>) -> Vec<(String, Range<usize>)> {
    match text.get(span.clone()) {
        Some(inner) => member_spans(inner)
            .into_iter()
            .map(|(k, r)| (k, r.start + span.start..r.end + span.start))
            .collect(),
        None => Vec::new(),
    }
}

/// Parse the JSON in an answer: the whole text, a fenced block, or the first
/// JSON object/array inside prose. Returns the value and its byte range.
pub fn parse_answer(text: &str) -> Result<(Json, Range<usize>), String> {
    let trimmed_start = text.len() - text.trim_start().len();
    let body = text.trim();
    if body.is_empty() {
        return Err("the answer is empty; answer with JSON only".into());
    }
    let mut candidates: Vec<Range<usize>> = Vec::with_capacity(3);
    candidates.push(trimmed_start..trimmed_start + body.len());
    if let Some(fenced) = fenced_range(text) {
        candidates.push(fenced);
    }
    if let Some(embedded) = embedded_range(text) {
        candidates.push(embedded);
    }
    let mut first_error = None;
    for r in candidates {
        match serde_json::from_str::<Json>(&text[r.clone()]) {
            Ok(j) => return Ok((j, r)),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(match first_error {
        Some(e) => format!("the answer is not valid JSON ({e})"),
        None => "the answer is not valid JSON".into(),
    })
}

/// The inside of a ```json … ``` fence.
fn fenced_range(text: &str) -> Option<Range<usize>> {
    let open = text.find("```")?;
    let after = open + 3;
    let line_end = text[after..].find('\n').map(|i| after + i + 1)?;
    let close = text[line_end..].find("```").map(|i| line_end + i)?;
    let inner = &text[line_end..close];
    let lead = inner.len() - inner.trim_start().len();
    Some(line_end + lead..line_end + lead + inner.trim().len())
}

/// From the first `{` or `[` to the last matching closer.
fn embedded_range(text: &str) -> Option<Range<usize>> {
    let start = text.find(['{', '['])?;
    let closer = if text[start..].starts_with('{') {
        '}'
    } else {
        ']'
    };
    let end = text.rfind(closer)?;
    (end > start).then_some(start..end + 1)
}

/// Byte ranges of an object's member values, relative to `text`.
fn member_spans(text: &str) -> Vec<(String, Range<usize>)> {
    let Ok(map) = serde_json::from_str::<IndexMap<String, &RawValue>>(text) else {
        return Vec::new();
    };
    let base = text.as_ptr() as usize;
    map.into_iter()
        .map(|(k, raw)| {
            let start = (raw.get().as_ptr() as usize).saturating_sub(base);
            (k, start..start + raw.get().len())
        })
        .collect()
}

fn kind(j: &Json) -> &'static str {
    match j {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

fn push_issue(issues: &mut Vec<Issue>, path: &str, message: String) {
    if issues.len() < MAX_ISSUES {
        issues.push(Issue {
            path: path.to_string(),
            message,
        });
    }
}

/// Check and convert; on a problem, record it and return null.
fn convert(
    j: &Json,
    ty: &Ty,
    structs: &[StructDef],
    path: &mut String,
    issues: &mut Vec<Issue>,
    depth: u32,
) -> Value {
    if depth > 256 {
        push_issue(issues, path, "nested too deeply".into());
        return Value::Null;
    }
    let expected = |what: &str, issues: &mut Vec<Issue>, path: &str| {
        push_issue(issues, path, format!("expected {what}, found {}", kind(j)));
        Value::Null
    };
    match ty {
        Ty::Any => turn_std::from_json(j),
        Ty::Void => match j {
            Json::Null => Value::Null,
            _ => expected("null", issues, path),
        },
        Ty::Num => match j.as_f64() {
            Some(n) if j.is_number() => Value::Num(n),
            _ => expected("a number", issues, path),
        },
        Ty::Str => match j {
            Json::String(s) => Value::str(s.as_str()),
            _ => expected("a string", issues, path),
        },
        Ty::Bool => match j {
            Json::Bool(b) => Value::Bool(*b),
            _ => expected("a boolean", issues, path),
        },
        Ty::Vec => match j {
            Json::Array(items) if items.iter().all(Json::is_number) => {
                Value::Vector(Rc::new(items.iter().filter_map(Json::as_f64).collect()))
            }
            _ => expected("an array of numbers", issues, path),
        },
        Ty::Optional(t) => match j {
            Json::Null => Value::Null,
            _ => convert(j, t, structs, path, issues, depth + 1),
        },
        Ty::List(t) => match j {
            Json::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("/{i}"));
                    out.push(convert(item, t, structs, path, issues, depth + 1));
                    path.truncate(len);
                }
                Value::list(out)
            }
            _ => expected("an array", issues, path),
        },
        Ty::Map(t) => match j {
            Json::Object(o) => {
                let mut out = Map::with_capacity_and_hasher(o.len(), Default::default());
                for (k, item) in o {
                    let len = path.len();
                    path.push('/');
                    path.push_str(&escape_pointer(k));
                    out.insert(
                        k.clone(),
                        convert(item, t, structs, path, issues, depth + 1),
                    );
                    path.truncate(len);
                }
                Value::map(out)
            }
            _ => expected("an object", issues, path),
        },
        Ty::Struct(sid) => {
            let Some(def) = structs.get(*sid as usize) else {
                push_issue(
                    issues,
                    path,
                    "unknown struct (this is a bug in turn)".into(),
                );
                return Value::Null;
            };
            let Json::Object(o) = j else {
                return expected(&format!("an object ({})", def.name), issues, path);
            };
            for k in o.keys() {
                if def.field_index(k).is_none() {
                    let fields: Vec<&str> = def.fields.iter().map(|f| f.0.as_str()).collect();
                    push_issue(
                        issues,
                        path,
                        format!(
                            "unexpected field \"{k}\" ({} has only: {})",
                            def.name,
                            fields.join(", ")
                        ),
                    );
                }
            }
            let mut fields = Vec::with_capacity(def.fields.len());
            for (name, fty) in &def.fields {
                let len = path.len();
                path.push('/');
                path.push_str(&escape_pointer(name));
                match o.get(name) {
                    Some(v) => fields.push(convert(v, fty, structs, path, issues, depth + 1)),
                    None if fty.accepts_null() && !matches!(fty, Ty::Any) => {
                        fields.push(Value::Null)
                    }
                    None => {
                        push_issue(issues, path, "missing field".into());
                        fields.push(Value::Null);
                    }
                }
                path.truncate(len);
            }
            Value::Struct(Rc::new(StructValue {
                sid: *sid,
                fields: fields.into_boxed_slice(),
            }))
        }
        Ty::Pid | Ty::Identity | Ty::Fn { .. } => {
            push_issue(issues, path, "this type cannot come from a model".into());
            Value::Null
        }
    }
}

fn escape_pointer(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point() -> Vec<StructDef> {
        vec![StructDef {
            name: "P".into(),
            fields: vec![
                ("x".into(), Ty::Num),
                ("tag".into(), Ty::Optional(Box::new(Ty::Str))),
            ],
            file: 0,
        }]
    }

    fn issues(text: &str, ty: &Ty) -> Vec<String> {
        match validate(text, ty, &point(), false) {
            Ok(_) => Vec::new(),
            Err(i) => i.iter().map(Issue::to_string).collect(),
        }
    }

    #[test]
    fn accepts_plain_fenced_and_embedded_json() {
        for text in [
            "{\"x\": 1}",
            "```json\n{\"x\": 1}\n```",
            "Here you go: {\"x\": 1} — done",
            "  {\"x\": 1, \"tag\": null}  ",
        ] {
            let v = validate(text, &Ty::Struct(0), &point(), false).expect(text);
            assert!(
                matches!(&v.value, Value::Struct(s) if s.fields[0] == Value::Num(1.0)),
                "{text}"
            );
            assert_eq!(&text[v.span.clone()].chars().next(), &Some('{'), "{text}");
        }
    }

    #[test]
    fn reports_every_problem_with_a_path() {
        assert_eq!(
            issues("{\"x\": \"1\", \"y\": 2}", &Ty::Struct(0)),
            vec![
                "unexpected field \"y\" (P has only: x, tag)".to_string(),
                "/x: expected a number, found a string".to_string()
            ]
        );
        assert_eq!(
            issues("{}", &Ty::Struct(0)),
            vec!["/x: missing field".to_string()]
        );
        assert_eq!(
            issues("[1]", &Ty::Struct(0)),
            vec!["expected an object (P), found an array".to_string()]
        );
        assert_eq!(
            issues("[1, \"a\"]", &Ty::List(Box::new(Ty::Num))),
            vec!["/1: expected a number, found a string".to_string()]
        );
        assert!(issues("", &Ty::Num)[0].contains("empty"));
        assert!(issues("{x: 1}", &Ty::Struct(0))[0].contains("not valid JSON"));
    }

    #[test]
    fn fast_and_slow_paths_agree() {
        let structs = point();
        let ty = Ty::List(Box::new(Ty::Struct(0)));
        let text = "[{\"x\": 1, \"tag\": \"a\"}, {\"x\": 2.5}]";
        let fast = validate(text, &ty, &structs, false).expect("fast path");
        // The same value through the slow path (prose around it).
        let slow = validate(&format!("Sure: {text}"), &ty, &structs, false).expect("slow path");
        assert_eq!(fast.value, slow.value);
        // A duplicate key leaves the fast path; the slow path keeps the last
        // value, as JSON parsers do.
        let dup =
            validate("{\"x\": 1, \"x\": 2}", &Ty::Struct(0), &structs, false).expect("last wins");
        assert!(matches!(&dup.value, Value::Struct(s) if s.fields[0] == Value::Num(2.0)));
        assert!(validate("{\"x\": 1, \"y\": 2}", &Ty::Struct(0), &structs, false).is_err());
    }

    #[test]
    fn wrapped_primitives_unwrap_and_span_the_inner_value() {
        let text = "{\"value\": [\"a\", \"b\"]}";
        let v = validate(text, &Ty::List(Box::new(Ty::Str)), &[], true).expect("valid");
        assert_eq!(&text[v.span.clone()], "[\"a\", \"b\"]");
        assert!(validate("[\"a\"]", &Ty::List(Box::new(Ty::Str)), &[], true).is_err());
    }

    #[test]
    fn field_spans_point_at_member_values() {
        let text = "{\"x\": 12, \"tag\": \"hi\"}";
        let v = validate(text, &Ty::Struct(0), &point(), false).expect("valid");
        let fields = field_spans(text, &v.span);
        let spans: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, r)| (k.as_str(), &text[r.clone()]))
            .collect();
        assert_eq!(spans, vec![("x", "12"), ("tag", "\"hi\"")]);
    }
}
