//! Durable runs from the command line: the store location, and what
//! `turn inspect` shows.

use serde_json::{json, Value as Json};
use std::path::PathBuf;
use turn_bytecode::Program;
use turn_runtime::System;
use turn_store::{LogEntry, RunRecord};
use turn_vm::{display, Value};

/// `--store DIR`, else `TURN_STORE`, else `.turn` in the current directory.
pub fn store_dir(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("TURN_STORE").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(".turn"))
}

fn show(v: &Value, program: &Program) -> String {
    display(v, program).unwrap_or_else(|e| format!("<{}>", e.message))
}

/// Everything `turn inspect` reports, as JSON.
pub fn inspect_json(rec: &RunRecord, system: &System, log: &[LogEntry]) -> Json {
    let program = system.program();
    let processes: Vec<Json> = system
        .processes()
        .map(|(vm, state)| {
            let l = vm.links();
            json!({
                "pid": vm.pid(),
                "state": if vm.pid() == 1 && rec.status.as_str() != "running" && state == "ready" {
                    rec.status.as_str().to_string()
                } else {
                    state
                },
                "parent": l.parent,
                "children": l.children,
                "mailbox": l.mailbox.iter().map(|m| show(m, program)).collect::<Vec<_>>(),
                "effects": l.effects,
                "steps": vm.steps(),
            })
        })
        .collect();
    let (memory, context) = match system.main_vm() {
        Some(vm) => {
            let memory: serde_json::Map<String, Json> = vm
                .memory()
                .map(|(k, v)| (k.clone(), Json::String(show(v, program))))
                .collect();
            let c = vm.context();
            let texts = |it: &mut dyn Iterator<Item = &turn_vm::context::Entry>| {
                it.map(|e| Json::String(e.text.clone())).collect::<Vec<_>>()
            };
            let context = json!({
                "system": texts(&mut c.system.iter()),
                "episodic": texts(&mut c.episodic.iter()),
                "working": texts(&mut c.working.iter()),
                "tokens": c.tokens(),
                "budget": c.budget,
            });
            (Json::Object(memory), context)
        }
        None => (Json::Null, Json::Null),
    };
    let mut by_kind: std::collections::BTreeMap<&str, u64> = Default::default();
    for e in log {
        *by_kind.entry(e.kind.as_str()).or_default() += 1;
    }
    let confidences: Vec<Json> = log
        .iter()
        .filter(|e| e.kind == "infer")
        .filter_map(|e| match &turn_runtime::answer::decode(&e.answer, program) {
            Ok(Ok(Value::Uncertain(u))) => Some(json!({
                "seq": e.seq, "pid": e.pid, "confidence": u.confidence,
                "fields": u.fields.as_ref().map(|f| f.iter().map(|(k, c)| (k.clone(), json!(c))).collect::<serde_json::Map<_, _>>()),
            })),
            _ => None,
        })
        .rev()
        .take(5)
        .collect();
    let last: Vec<Json> = log
        .iter()
        .rev()
        .take(10)
        .rev()
        .map(|e| {
            json!({"seq": e.seq, "round": e.round, "pid": e.pid, "n": e.n, "kind": e.kind, "bytes": e.answer.len()})
        })
        .collect();
    json!({
        "id": rec.id.as_str(),
        "status": rec.status.as_str(),
        "result": rec.result,
        "entry": rec.entry,
        "program": rec.program,
        "created_ms": rec.created_ms,
        "updated_ms": rec.updated_ms,
        "forked_from": rec.parent.as_ref().map(|(r, n)| json!({"run": r.as_str(), "until": n})),
        "processes": processes,
        "memory": memory,
        "context": context,
        "confidences": confidences,
        "log": {"entries": log.len(), "by_kind": by_kind, "last": last},
    })
}

/// The human form of [`inspect_json`].
pub fn inspect_text(j: &Json) -> String {
    let mut s = String::new();
    let str_of = |v: &Json| match v {
        Json::String(x) => x.clone(),
        Json::Null => "-".into(),
        other => other.to_string(),
    };
    s.push_str(&format!(
        "run {}  ({})\n  status   {}\n  result   {}\n  program  {}\n",
        str_of(&j["id"]),
        str_of(&j["entry"]),
        str_of(&j["status"]),
        str_of(&j["result"]),
        str_of(&j["program"]).chars().take(16).collect::<String>()
    ));
    if let Some(f) = j["forked_from"].as_object() {
        s.push_str(&format!(
            "  forked   from {} at entry {}\n",
            str_of(&f["run"]),
            str_of(&f["until"])
        ));
    }
    s.push_str("processes (supervision tree: parent → children)\n");
    for p in j["processes"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "  <pid {}> {}  parent {}  children {}  mailbox {}  effects {}\n",
            p["pid"],
            str_of(&p["state"]),
            str_of(&p["parent"]),
            p["children"],
            p["mailbox"].as_array().map_or(0, |m| m.len()),
            p["effects"]
        ));
    }
    s.push_str("memory (main)\n");
    for (k, v) in j["memory"].as_object().into_iter().flatten() {
        s.push_str(&format!("  {k} = {}\n", str_of(v)));
    }
    let c = &j["context"];
    s.push_str(&format!(
        "context (main): {} of {} tokens\n",
        str_of(&c["tokens"]),
        str_of(&c["budget"])
    ));
    for (tier, name) in [("system", "P0"), ("episodic", "P2"), ("working", "P1")] {
        for e in c[tier].as_array().into_iter().flatten() {
            s.push_str(&format!("  {name} {}\n", str_of(e)));
        }
    }
    let conf = j["confidences"].as_array().cloned().unwrap_or_default();
    if !conf.is_empty() {
        s.push_str("last confidences\n");
        for c in conf {
            s.push_str(&format!(
                "  entry {} <pid {}>: {:.3}\n",
                c["seq"],
                c["pid"],
                c["confidence"].as_f64().unwrap_or(0.0)
            ));
        }
    }
    let log = &j["log"];
    s.push_str(&format!("effect log: {} entries", log["entries"]));
    let kinds: Vec<String> = log["by_kind"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, n)| format!("{k} ×{n}"))
        .collect();
    if !kinds.is_empty() {
        s.push_str(&format!(" ({})", kinds.join(", ")));
    }
    s.push('\n');
    for e in log["last"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "  #{} round {} <pid {}> effect {} {} ({} bytes)\n",
            e["seq"],
            e["round"],
            e["pid"],
            e["n"],
            str_of(&e["kind"]),
            e["bytes"]
        ));
    }
    s
}
