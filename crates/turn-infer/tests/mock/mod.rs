//! A scripted HTTP server on 127.0.0.1 for wire-format tests: it answers a
//! fixed list of replies, one per request, records what it received, and
//! never waits forever (each request is awaited at most [`WAIT`]).
#![allow(dead_code)]

use serde_json::Value as Json;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How long the server waits for each expected request.
pub const WAIT: Duration = Duration::from_secs(10);

/// One reply the server plays.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Sleep this long before answering (for timeouts).
    pub delay: Duration,
}

impl Reply {
    pub fn json(status: u16, body: &Json) -> Reply {
        Reply::text(status, &body.to_string()).header("content-type", "application/json")
    }
    pub fn text(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
    pub fn delayed(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

/// One request the server received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// The path with the query, e.g. `/v1beta/models/m:generateContent`.
    pub url: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> Json {
        serde_json::from_str(&self.body).expect("the request body is JSON")
    }
}

pub struct MockServer {
    /// `http://127.0.0.1:<port>`
    pub url: String,
    seen: mpsc::Receiver<Seen>,
    thread: Option<JoinHandle<()>>,
}

impl MockServer {
    /// Serve `replies` in order, one per request, then stop.
    pub fn start(replies: Vec<Reply>) -> MockServer {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = server.server_addr().to_ip().expect("an IP address").port();
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            for reply in replies {
                let mut request = match server.recv_timeout(WAIT) {
                    Ok(Some(r)) => r,
                    _ => return,
                };
                let mut body = String::new();
                let _ = request.as_reader().read_to_string(&mut body);
                let seen = Seen {
                    method: request.method().as_str().to_string(),
                    url: request.url().to_string(),
                    headers: request
                        .headers()
                        .iter()
                        .map(|h| {
                            (
                                h.field.as_str().as_str().to_ascii_lowercase(),
                                h.value.as_str().to_string(),
                            )
                        })
                        .collect(),
                    body,
                };
                let _ = tx.send(seen);
                std::thread::sleep(reply.delay);
                let mut response =
                    tiny_http::Response::from_string(reply.body).with_status_code(reply.status);
                for (k, v) in &reply.headers {
                    if let Ok(h) = tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()) {
                        response.add_header(h);
                    }
                }
                // The client may have given up (timeout tests).
                let _ = request.respond(response);
            }
        });
        MockServer {
            url: format!("http://127.0.0.1:{port}"),
            seen: rx,
            thread: Some(thread),
        }
    }

    /// Wait for the server to finish its replies; what it received.
    pub fn finish(mut self) -> Vec<Seen> {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.seen.try_iter().collect()
    }
}
