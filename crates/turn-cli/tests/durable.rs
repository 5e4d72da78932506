//! Durable runs through the real binary: `--id`, `suspend`/`resume`,
//! external tools, persistent memory, replay, fork, inspect, id rules.

use std::path::Path;
use std::process::Command;

struct Out {
    ok: bool,
    code: i32,
    stdout: String,
    stderr: String,
}

fn turn(dir: &Path, args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_turn"))
        .args(args)
        .current_dir(dir)
        .env_remove("TURN_STORE")
        .output()
        .expect("run turn");
    Out {
        ok: out.status.success(),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        std::fs::write(tmp.path().join(name), text).expect("write");
    }
    tmp
}

#[test]
fn suspend_stops_durably_and_resume_continues() {
    let p = project(&[(
        "s.tn",
        r#"
        let pids = spawn_each([1, 2], turn(x) { return x * 10; });
        print("before");
        suspend;
        print("after");
        return gather pids;
        "#,
    )]);
    let first = turn(p.path(), &["run", "s.tn", "--id", "job"]);
    assert!(first.ok, "{}", first.stderr);
    assert_eq!(first.stdout, "before\n");
    assert!(first.stderr.contains("turn resume job"), "{}", first.stderr);
    let runs = turn(p.path(), &["runs"]);
    assert!(
        runs.stdout.contains("job") && runs.stdout.contains("suspended"),
        "{}",
        runs.stdout
    );
    // Running the same id again while it is unfinished is refused.
    let again = turn(p.path(), &["run", "s.tn", "--id", "job"]);
    assert!(
        !again.ok && again.stderr.contains("has not finished"),
        "{}",
        again.stderr
    );
    let resumed = turn(p.path(), &["resume", "job"]);
    assert!(resumed.ok, "{}", resumed.stderr);
    assert_eq!(resumed.stdout, "after\n[10, 20]\n");
    let twice = turn(p.path(), &["resume", "job"]);
    assert!(
        !twice.ok && twice.stderr.contains("has finished"),
        "{}",
        twice.stderr
    );
    // The replay reproduces the whole run from its log.
    let replay = turn(p.path(), &["replay", "job"]);
    assert!(replay.ok, "{}", replay.stderr);
    assert_eq!(replay.stdout, "before\nafter\n[10, 20]\n");
    assert!(replay.stderr.contains("reproduced"), "{}", replay.stderr);
}

#[test]
fn an_external_tool_waits_for_its_result() {
    let p = project(&[
        ("turn.toml", "[tools.approve]\nexternal = true\n"),
        (
            "h.tn",
            r#"
            print("asking");
            let answer = call("approve", {"amount": 120});
            if answer["yes"] { return "approved by " + answer["by"]; }
            return "refused";
            "#,
        ),
    ]);
    let first = turn(p.path(), &["run", "h.tn", "--id", "hitl"]);
    assert!(first.ok, "{}", first.stderr);
    assert_eq!(first.stdout, "asking\n");
    assert!(first.stderr.contains("--result"), "{}", first.stderr);
    let inspect = turn(p.path(), &["inspect", "hitl", "--json"]);
    let j: serde_json::Value = serde_json::from_str(&inspect.stdout).expect("json");
    assert_eq!(j["status"], "waiting");
    let no_result = turn(p.path(), &["resume", "hitl"]);
    assert!(
        !no_result.ok && no_result.stderr.contains("--result"),
        "{}",
        no_result.stderr
    );
    let bad = turn(p.path(), &["resume", "hitl", "--result", "{nope"]);
    assert!(!bad.ok && bad.stderr.contains("not JSON"), "{}", bad.stderr);
    let done = turn(
        p.path(),
        &[
            "resume",
            "hitl",
            "--result",
            r#"{"yes": true, "by": "ana"}"#,
        ],
    );
    assert!(done.ok, "{}", done.stderr);
    assert_eq!(done.stdout, "approved by ana\n");
    // The answer is in the log: the replay needs nobody.
    let replay = turn(p.path(), &["replay", "hitl"]);
    assert!(replay.ok, "{}", replay.stderr);
    assert!(
        replay.stdout.ends_with("approved by ana\n"),
        "{}",
        replay.stdout
    );
}

#[test]
fn memory_persists_with_the_id_and_ids_are_checked() {
    let p = project(&[
        (
            "m.tn",
            r#"
            let n = recall("visits");
            if n == null { n = 0; }
            remember("visits", n + 1);
            return n + 1;
            "#,
        ),
        ("other.tn", "return 1;"),
    ]);
    for expected in ["1\n", "2\n", "3\n"] {
        let r = turn(p.path(), &["run", "m.tn", "--id", "agent-7"]);
        assert!(r.ok, "{}", r.stderr);
        assert_eq!(r.stdout, expected);
    }
    // Another id has its own memory.
    assert_eq!(
        turn(p.path(), &["run", "m.tn", "--id", "agent-8"]).stdout,
        "1\n"
    );
    // Without an id nothing persists.
    assert_eq!(turn(p.path(), &["run", "m.tn"]).stdout, "1\n");
    // An id belongs to its program unless told otherwise.
    let other = turn(p.path(), &["run", "other.tn", "--id", "agent-7"]);
    assert!(
        !other.ok && other.stderr.contains("different program"),
        "{}",
        other.stderr
    );
    let forced = turn(p.path(), &["run", "other.tn", "--id", "agent-7", "--force"]);
    assert!(forced.ok, "{}", forced.stderr);
    let inspect = turn(p.path(), &["inspect", "agent-7"]);
    assert!(inspect.stdout.contains("visits = 3"), "{}", inspect.stdout);
    for bad in ["../x", "a/b", "..", ".hidden", "-x", "a b", ""] {
        let r = turn(p.path(), &["run", "m.tn", &format!("--id={bad}")]);
        assert!(!r.ok, "id {bad:?} was accepted");
        assert!(
            r.stderr.contains("not a valid run id"),
            "{bad:?}: {}",
            r.stderr
        );
        assert!(!p.path().join("x").exists());
    }
    assert_eq!(turn(p.path(), &["inspect", "nobody"]).code, 1);
}

#[test]
fn a_fork_continues_live_from_an_effect_index() {
    let p = project(&[(
        "r.tn",
        r#"
        let math = use "std/math";
        let a = math.random();
        let b = math.random();
        print(a);
        print(b);
        return a != b;
        "#,
    )]);
    let first = turn(p.path(), &["run", "r.tn", "--id", "orig"]);
    assert!(first.ok, "{}", first.stderr);
    let lines: Vec<&str> = first.stdout.lines().collect();
    // Keep entry 0 (memory) and 1 (the first random), draw the second anew.
    let fork = turn(
        p.path(),
        &["replay", "orig", "--until", "2", "--fork", "orig-b"],
    );
    assert!(fork.ok, "{}", fork.stderr);
    let forked: Vec<&str> = fork.stdout.lines().collect();
    assert_eq!(forked[0], lines[0], "the fork must reuse the logged answer");
    assert_ne!(forked[1], lines[1], "the fork must draw anew after entry 2");
    let j: serde_json::Value =
        serde_json::from_str(&turn(p.path(), &["inspect", "orig-b", "--json"]).stdout)
            .expect("json");
    assert_eq!(j["forked_from"]["run"], "orig");
    assert_eq!(j["forked_from"]["until"], 2);
    assert_eq!(j["log"]["entries"], 3);
    // A replay of the original calls nothing and reproduces it.
    let replay = turn(p.path(), &["replay", "orig"]);
    assert_eq!(replay.stdout, first.stdout);
    let until = turn(p.path(), &["replay", "orig", "--until", "2"]);
    assert!(
        until.ok && until.stderr.contains("stopped after 2"),
        "{}",
        until.stderr
    );
}

#[test]
fn inspect_shows_processes_memory_context_and_the_log() {
    let p = project(&[(
        "i.tn",
        r#"
        context.system("You are terse.");
        context.append("the user asked for a summary");
        remember("topic", "billing");
        let child = spawn_link turn() { let m = receive; return m; };
        send child, "hello";
        suspend;
        return gather [child];
        "#,
    )]);
    assert!(turn(p.path(), &["run", "i.tn", "--id", "insp"]).ok);
    let text = turn(p.path(), &["inspect", "insp"]);
    assert!(text.ok, "{}", text.stderr);
    for needle in [
        "status   suspended",
        "topic = billing",
        "P0 You are terse.",
        "P1 the user asked",
        "<pid 2>",
        "suspend",
    ] {
        assert!(
            text.stdout.contains(needle),
            "missing {needle:?} in\n{}",
            text.stdout
        );
    }
    let j: serde_json::Value =
        serde_json::from_str(&turn(p.path(), &["inspect", "insp", "--json"]).stdout).expect("json");
    assert_eq!(j["processes"][1]["parent"], 1);
    assert_eq!(j["processes"][0]["children"][0], 2);
    assert_eq!(j["memory"]["topic"], "billing");
    assert_eq!(j["context"]["system"][0], "You are terse.");
    assert_eq!(turn(p.path(), &["resume", "insp"]).stdout, "[\"hello\"]\n");
}

#[test]
fn limits_and_tools_belong_to_the_run() {
    let p = project(&[
        ("spin.tn", "let i = 0;\nwhile true { i = i + 1; }\n"),
        (
            "turn.toml",
            "[tools.echo_back]\ncommand = [\"sh\", \"-c\", \"cat\"]\n",
        ),
        (
            "t.tn",
            "suspend;\nreturn call(\"echo_back\", {\"ok\": true});\n",
        ),
    ]);
    let spin = turn(
        p.path(),
        &["run", "spin.tn", "--id", "spin", "--max-steps", "1000"],
    );
    assert_eq!(spin.code, 2, "{}", spin.stderr);
    assert!(spin.stderr.contains("limit"), "{}", spin.stderr);
    // The replay runs under the limits the run was given (else: forever).
    let replay = turn(p.path(), &["replay", "spin"]);
    assert!(replay.stderr.contains("reproduced"), "{}", replay.stderr);
    // Resumed from another directory, the run still finds its turn.toml.
    assert!(turn(p.path(), &["run", "t.tn", "--id", "tool"]).ok);
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let store = p.path().join(".turn");
    let resumed = turn(
        elsewhere.path(),
        &["resume", "tool", "--store", &store.to_string_lossy()],
    );
    assert!(resumed.ok, "{}", resumed.stderr);
    assert_eq!(resumed.stdout, "{\"ok\": true}\n");
}

#[test]
fn one_process_at_a_time_drives_a_run() {
    let p = project(&[(
        "slow.tn",
        "let time = use \"std/time\";\ntime.sleep(3);\nreturn \"slept\";\n",
    )]);
    let first = Command::new(env!("CARGO_BIN_EXE_turn"))
        .args(["run", "slow.tn", "--id", "busy"])
        .current_dir(p.path())
        .env_remove("TURN_STORE")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Wait until the first process holds the run (its log has started).
    let lock = p.path().join(".turn/locks/busy.lock");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::read_to_string(&lock)
        .unwrap_or_default()
        .is_empty()
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let second = turn(p.path(), &["resume", "busy"]);
    assert_eq!(second.code, 1, "{}", second.stderr);
    assert!(
        second
            .stderr
            .contains("being driven by another turn process"),
        "{}",
        second.stderr
    );
    let out = first.wait_with_output().expect("wait");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "slept\n");
    // Once it ended, the lock is free again (here: nothing left to resume).
    let after = turn(p.path(), &["resume", "busy"]);
    assert!(after.stderr.contains("has finished"), "{}", after.stderr);
}
