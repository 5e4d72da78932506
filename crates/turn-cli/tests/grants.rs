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
