//! std/net against a local HTTP server: public requests, a credentialed
//! identity whose secret goes only to its allowed host, never into output,
//! the store, or a redirect.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

const SECRET: &str = "s3cr3t-token-8841";

/// (method, url, authorization header) of every request.
type Seen = Arc<Mutex<Vec<(String, String, Option<String>)>>>;

fn server() -> (u16, Seen) {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("bind");
    let port = server.server_addr().to_ip().map(|a| a.port()).unwrap_or(0);
    let seen: Seen = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for mut req in server.incoming_requests() {
            let auth = req
                .headers()
                .iter()
                .find(|h| h.field.equiv("authorization"))
                .map(|h| h.value.to_string());
            let mut body = String::new();
            let _ = req.as_reader().read_to_string(&mut body);
            let url = req.url().to_string();
            if let Ok(mut l) = log.lock() {
                l.push((req.method().to_string(), url.clone(), auth.clone()));
            }
            let ok = auth.as_deref() == Some(&format!("Bearer {SECRET}"));
            let resp = if url.starts_with("/hello") {
                tiny_http::Response::from_string("hi")
            } else if url.starts_with("/json") {
                tiny_http::Response::from_string("{\"a\": 1}")
            } else if url.starts_with("/redirect") {
                let loc = format!("http://localhost:{port}/leak");
                tiny_http::Response::from_string("moved")
                    .with_status_code(302)
                    .with_header(tiny_http::Header::from_bytes("Location", loc).expect("header"))
            } else {
                let auth = if ok { "yes" } else { "no" };
                tiny_http::Response::from_string(format!(
                    "{} {url} auth={auth} body={body}",
                    req.method()
                ))
            };
            let _ = req.respond(resp);
        }
    });
    (port, seen)
}

fn turn(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_turn"))
        .args(args)
        .current_dir(dir)
        .env_remove("TURN_STORE")
        .env("TURN_IDENTITY_API_TOKEN", SECRET)
        .output()
        .expect("run turn");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_secret_reaches_only_its_allowed_host() {
    let (port, seen) = server();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    std::fs::write(
        dir.join("turn.toml"),
        "[[grant]]\nkind = \"network\"\nname = \"api\"\nhosts = [\"127.0.0.1\"]\n",
    )
    .expect("write");
    let base = format!("http://127.0.0.1:{port}");
    std::fs::write(
        dir.join("n.tn"),
        format!(
            r#"
            let net = use "std/net";
            let r = net.get("{base}/hello");
            print(r.status, r.body);
            print(net.get("{base}/json").json().a);
            print(net.get({{"url": "{base}/echo"}}).body);
            let api = grant identity::network("api");
            print(net.get("{base}/echo", {{"identity": api, "query": {{"q": "x y"}}}}).body);
            print(net.post("{base}/echo", {{"k": [1, 2]}}, {{"identity": api}}).body);
            print(net.get("{base}/redirect", {{"identity": api}}).status);
            try {{ net.get("http://localhost:{port}/leak", {{"identity": api}}); }} catch (e) {{ print(e.kind, e.message); }}
            try {{ print("token: " + api); }} catch (e) {{ print(e.kind); }}
            try {{ net.get("{base}/echo", {{"identity": "api"}}); }} catch (e) {{ print(e.kind); }}
            return "ok";
            "#
        ),
    )
    .expect("write");
    let (code, out, err) = turn(dir, &["run", "n.tn", "--id", "net1"]);
    assert_eq!(code, 0, "{err}");
    let expected = String::from(
        "200 hi\n1\nGET /echo auth=no body=\nGET /echo?q=x+y auth=yes body=\n\
         POST /echo auth=yes body={\"k\":[1,2]}\n302\n\
         identity network:api may not reach `localhost` (allowed: 127.0.0.1)\nidentity\nidentity\nok\n"
    );
    assert_eq!(out, expected);
    for text in [&out, &err] {
        assert!(!text.contains(SECRET));
    }
    let requests = seen.lock().expect("lock").clone();
    // The redirect was not followed, and nothing reached /leak.
    assert!(
        requests.iter().all(|(_, url, _)| !url.starts_with("/leak")),
        "{requests:?}"
    );
    // The secret went with exactly the three requests made with `api` (the
    // query, the post, the redirect's first hop), all to 127.0.0.1.
    let with_secret: Vec<_> = requests.iter().filter(|(_, _, a)| a.is_some()).collect();
    assert_eq!(with_secret.len(), 3, "{requests:?}");
    assert!(with_secret
        .iter()
        .all(|(_, url, _)| !url.starts_with("/hello")));
    // The store (log, checkpoints, memory) holds no secret; the replay
    // reproduces the run without a single request.
    assert!(common::files_containing(&dir.join(".turn"), SECRET.as_bytes()).is_empty());
    let (code, replayed, err) = turn(dir, &["replay", "net1"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(replayed, expected);
    assert_eq!(
        seen.lock().expect("lock").len(),
        requests.len(),
        "the replay made requests"
    );
    let (_, inspect, _) = turn(dir, &["inspect", "net1", "--json"]);
    assert!(!inspect.contains(SECRET));
}

#[cfg(unix)]
#[test]
fn a_secret_can_come_from_a_private_secrets_file() {
    use std::os::unix::fs::PermissionsExt;
    let (port, seen) = server();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    std::fs::write(
        dir.join("turn.toml"),
        "[secrets]\nfile = \"secrets.toml\"\n\n\
         [[grant]]\nkind = \"network\"\nname = \"vault\"\nhosts = [\"127.0.0.1\"]\n",
    )
    .expect("write");
    let secrets = dir.join("secrets.toml");
    std::fs::write(&secrets, format!("vault = \"{SECRET}\"\n")).expect("write");
    std::fs::write(
        dir.join("v.tn"),
        format!(
            "let net = use \"std/net\";\nlet v = grant identity::network(\"vault\");\n\
             return net.get(\"http://127.0.0.1:{port}/echo\", {{\"identity\": v}}).body;\n"
        ),
    )
    .expect("write");
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_turn"))
            .args(["run", "v.tn"])
            .current_dir(dir)
            .env_remove("TURN_IDENTITY_VAULT_TOKEN")
            .output()
            .expect("run turn");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Readable by others: refused before any request.
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let (out, err) = run();
    assert!(err.contains("chmod 600"), "{out}{err}");
    assert!(!err.contains(SECRET));
    assert!(seen.lock().expect("lock").is_empty());
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let (out, err) = run();
    assert_eq!(out, "GET /echo auth=yes body=\n", "{err}");
}
