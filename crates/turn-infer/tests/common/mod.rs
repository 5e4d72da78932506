//! A mock HTTP server on 127.0.0.1 for the provider wire-format tests.
//!
//! It plays a fixed list of replies, one per request, in order, and records
//! every request it received. It is bounded: it serves at most the replies
//! it was given, gives up after [`DEADLINE`], and stops when the test calls
//! [`MockServer::finish`], so no test waits forever.

#![allow(dead_code)]

use serde_json::Value as Json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use turn_infer::providers::ApiConfig;

/// How long a server lives at most.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    /// Every value of the header `name` (case-insensitive).
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    /// The single value of the header `name`; panics if it is repeated.
    pub fn header(&self, name: &str) -> Option<&str> {
        let values = self.header_values(name);
        assert!(
            values.len() <= 1,
            "header {name} sent {} times: {values:?}",
            values.len()
        );
        values.first().copied()
    }
    pub fn json(&self) -> Json {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("request body is not JSON ({e}): {}", self.body))
    }
}

/// One reply to play.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Wait this long before answering.
    pub delay: Duration,
}

impl Reply {
    pub fn json(status: u16, body: Json) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }
    pub fn text(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }
}

pub struct MockServer {
    /// `http://127.0.0.1:<port>/v1`
    pub base_url: String,
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Vec<Recorded>>,
}

impl MockServer {
    /// Listen on an OS-assigned port and play `replies` in order.
    pub fn start(replies: Vec<Reply>) -> MockServer {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = server.server_addr().to_ip().expect("an IP listener");
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = Arc::clone(&stop);
        let handle = std::thread::spawn(move || {
            let started = Instant::now();
            let mut recorded = Vec::new();
            let mut replies = replies.into_iter();
            let mut next = replies.next();
            while let Some(reply) = next.take() {
                if stop_flag.load(Ordering::SeqCst) || started.elapsed() > DEADLINE {
                    break;
                }
                let mut request = match server.recv_timeout(Duration::from_millis(20)) {
                    Ok(Some(r)) => r,
                    Ok(None) => {
                        next = Some(reply);
                        continue;
                    }
                    Err(_) => break,
                };
                let mut body = String::new();
                let _ = request.as_reader().read_to_string(&mut body);
                recorded.push(Recorded {
                    method: request.method().to_string(),
                    path: request.url().to_string(),
                    headers: request
                        .headers()
                        .iter()
                        .map(|h| {
                            (
                                h.field.as_str().as_str().to_string(),
                                h.value.as_str().to_string(),
                            )
                        })
                        .collect(),
                    body,
                });
                std::thread::sleep(reply.delay);
                let mut response =
                    tiny_http::Response::from_string(reply.body).with_status_code(reply.status);
                for (k, v) in &reply.headers {
                    if let Ok(h) = tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()) {
                        response = response.with_header(h);
                    }
                }
                // The client may have given up already (timeouts): fine.
                let _ = request.respond(response);
                next = replies.next();
            }
            recorded
        });
        MockServer {
            base_url: format!("http://{addr}/v1"),
            stop,
            handle,
        }
    }

    /// Stop serving and return the requests that arrived.
    pub fn finish(self) -> Vec<Recorded> {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.join().expect("the mock server thread panicked")
    }

    /// An adapter configuration pointing at this server.
    pub fn config(&self, api_key: Option<&str>, timeout: Duration) -> ApiConfig {
        ApiConfig {
            base_url: self.base_url.clone(),
            api_key: api_key.map(str::to_string),
            model: "test-model".into(),
            timeout,
        }
    }
}

/// A small tokio runtime for one test (the engine's values are not `Send`).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(f)
}

/// `struct Person { name: Str, age: Num, nick: Str? }`, as the compiler
/// would lay it out.
pub fn person_structs() -> Vec<turn_bytecode::StructDef> {
    use turn_bytecode::{StructDef, Ty};
    vec![StructDef {
        name: "Person".into(),
        fields: vec![
            ("name".into(), Ty::Str),
            ("age".into(), Ty::Num),
            ("nick".into(), Ty::Optional(Box::new(Ty::Str))),
        ],
        file: 0,
    }]
}

/// A request for a `Person` with two system messages and a prompt.
pub fn person_request() -> turn_infer::InferRequest {
    use turn_infer::{InferRequest, Message, ModelParams};
    InferRequest {
        messages: vec![
            Message::system("You are a careful archivist."),
            Message::system("Answer from the record only."),
            Message::user("Who wrote the first published program?"),
        ],
        schema: turn_sema::schema_for(&turn_bytecode::Ty::Struct(0), &person_structs()),
        wrapped: false,
        type_name: "Person".into(),
        params: ModelParams::default(),
    }
}
