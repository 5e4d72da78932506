//! The grant policy through the real binary: flags, turn.toml, the default,
//! and grants as logged effects.

use std::path::Path;
use std::process::Command;

fn turn(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_turn"))
        .args(args)
        .current_dir(dir)
        .env_remove("TURN_STORE")
        .output()
        .expect("run turn");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const PROGRAM: &str = "let gh = grant identity::network(\"github\");\nreturn type_of(gh);\n";

#[test]
fn grants_come_from_flags_or_turn_toml_and_default_to_public_only() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    std::fs::write(dir.join("g.tn"), PROGRAM).expect("write");
    let (code, _, err) = turn(dir, &["run", "g.tn"]);
    assert_eq!(code, 2);
    assert!(err.contains("--grant network:github"), "{err}");
    let (code, out, err) = turn(dir, &["run", "g.tn", "--grant", "network:github"]);
    assert_eq!((code, out.as_str()), (0, "Identity\n"), "{err}");
    let (code, _, err) = turn(dir, &["run", "g.tn", "--grant", "network"]);
    assert_eq!(code, 1);
    assert!(err.contains("expected KIND:NAME"), "{err}");
    std::fs::write(
        dir.join("turn.toml"),
        "[[grant]]\nkind = \"network\"\nname = \"github\"\nhosts = [\"api.github.com\"]\n",
    )
    .expect("write");
    let (code, out, err) = turn(dir, &["run", "g.tn"]);
    assert_eq!((code, out.as_str()), (0, "Identity\n"), "{err}");
    // A grant is an effect: logged, replayed without asking the policy.
    let (code, _, err) = turn(dir, &["run", "g.tn", "--id", "g1"]);
    assert_eq!(code, 0, "{err}");
    std::fs::remove_file(dir.join("turn.toml")).expect("rm");
    let (code, out, err) = turn(dir, &["replay", "g1"]);
    assert_eq!((code, out.as_str()), (0, "Identity\n"), "{err}");
    let (_, inspect, _) = turn(dir, &["inspect", "g1"]);
    assert!(inspect.contains("grant ×1"), "{inspect}");
    std::fs::write(dir.join("turn.toml"), "[[grant]]\nkind = \"network\"\n").expect("write");
    let (code, _, err) = turn(dir, &["run", "g.tn"]);
    assert_eq!(code, 1, "{err}");
}

#[test]
fn fs_is_confined_to_the_root_of_its_identity() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("data/sub")).expect("mkdir");
    std::fs::write(dir.join("data/notes.txt"), "inside").expect("write");
    std::fs::write(dir.join("secret.txt"), "outside").expect("write");
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.join("secret.txt"), dir.join("data/link")).expect("symlink");
    std::fs::write(
        dir.join("turn.toml"),
        "[[grant]]\nkind = \"filesystem\"\nname = \"data\"\nroot = \"./data\"\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("f.tn"),
        r#"
        let fs = use "std/fs";
        let id = grant identity::filesystem("data");
        print(fs.read(id, "notes.txt"));
        fs.write(id, "sub/new.txt", "written");
        print(fs.read({"path": "sub/new.txt", "identity": id}));
        print(fs.list(id, "."), fs.exists(id, "nope.txt"));
        for p in ["../secret.txt", "/etc/passwd", "sub/../../secret.txt", "link"] {
            try { print(fs.read(id, p)); } catch (e) { print(e.kind); }
        }
        try { fs.write(id, "../escape.txt", "x"); } catch (e) { print(e.kind); }
        try { fs.read("data", "notes.txt"); } catch (e) { print(e.kind); }
        let net = grant identity::network("public");
        try { fs.read(net, "notes.txt"); } catch (e) { print(e.kind); }
        return "ok";
        "#,
    )
    .expect("write");
    let (code, out, err) = turn(dir, &["run", "f.tn"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "inside\nwritten\n[\"link\", \"notes.txt\", \"sub\"] false\n\
         identity\nidentity\nidentity\nidentity\nidentity\nidentity\nidentity\nok\n"
    );
    assert!(!out.contains("outside"));
    assert!(!dir.join("escape.txt").exists());
}

#[test]
fn env_reads_only_the_variables_its_identity_names() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    std::fs::write(
        dir.join("turn.toml"),
        "[[grant]]\nkind = \"env\"\nname = \"cfg\"\nvars = [\"TURN_TEST_REGION\", \"TURN_TEST_MODE\"]\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("e.tn"),
        r#"
        let env = use "std/env";
        let id = grant identity::env("cfg");
        print(env.get(id, "TURN_TEST_REGION"), env.get({"key": "TURN_TEST_MODE", "identity": id}));
        env.set(id, "TURN_TEST_MODE", "fast");
        print(env.get(id, "TURN_TEST_MODE"));
        try { env.get(id, "TURN_TEST_SECRET"); } catch (e) { print(e.kind); }
        return "ok";
        "#,
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_turn"))
        .args(["run", "e.tn"])
        .current_dir(dir)
        .env("TURN_TEST_REGION", "eu")
        .env("TURN_TEST_SECRET", "hunter2")
        .env_remove("TURN_TEST_MODE")
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout, "eu null\nfast\nidentity\nok\n");
    assert!(!stdout.contains("hunter2"));
}
