//! Wasm drivers: a provider whose wire format lives in a small WebAssembly
//! module, so a new API needs no change to Turn. The ABI is the one the
//! earlier Turn implementation used.
//!
//! A driver is a `wasm32-unknown-unknown` module with **no imports** that
//! exports `memory`, `alloc(len: i32) -> i32`, and
//! `transform_request(ptr: i32, len: i32) -> i64` and
//! `transform_response(ptr: i32, len: i32) -> i64`. The host writes UTF-8
//! JSON into memory the driver allocated; each transform returns
//! `ptr << 32 | len` of the UTF-8 JSON it wrote.
//!
//! 1. `transform_request` gets `{"jsonrpc": "2.0", "method": "llm_infer",
//!    "params": {"prompt", "schema", "context": [{role, content}…],
//!    "tools": []}, "id": 1}` and returns `{"url", "method", "headers",
//!    "body"}` (`body` a JSON value, or a string sent as it is).
//! 2. The host makes that HTTP call itself (no subprocess, so no secret in
//!    any argv). An error status (>= 400) is a [`ProviderError::Http`], with
//!    `retry-after`, so retries work the same for every driver.
//! 3. `transform_response` gets `{"status", "headers", "body"}` (`body` the
//!    reply as a string) and returns `{"result": …}` (a string is the answer
//!    text, anything else is serialised), an OpenAI-like
//!    `{"choices": [{"message": {"content": …}}], "usage": …}`, or
//!    `{"error": …}`.
//!
//! # Secrets
//!
//! `$env:NAME` in the driver's `url` and header values is replaced by the
//! environment variable `NAME`, read at call time. Nowhere else: the prompt,
//! the context and the body are the program's text and are sent exactly as
//! they are, so a program cannot read the environment by writing `$env:…`
//! in a prompt. (A driver that copied program text into its url or headers
//! would undo that; drivers must not.) Header values that came from the
//! environment are marked sensitive, and transport errors are reported
//! without the URL.
//!
//! # Isolation
//!
//! The module is compiled once, at load; each request gets a fresh instance
//! (no state leaks from one request to the next), a memory capped at
//! [`MAX_MEMORY`], and [`DEFAULT_FUEL`] units of fuel per transform (running
//! out is "the driver ran too long"). Pointers and lengths the driver
//! returns are checked against its memory. The interpreter runs on tokio's
//! blocking pool, not on the async workers.
//!
//! A driver cannot say what schemas its API accepts, so primitive and list
//! targets are wrapped as `{"value": …}` for it as for the other HTTP APIs
//! (`needs_object_root` keeps its default, `true`).

use super::http;
use super::{BoxFuture, Provider};
use crate::request::{InferRequest, ProviderAnswer, ProviderError, Role, TokenLogprob, Usage};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use serde_json::{json, Map, Value as Json};
use std::path::Path;
use std::time::Duration;
use wasmi::core::{TrapCode, ValType};
use wasmi::{Engine, ExternType, Linker, Module, Store, StoreLimits, StoreLimitsBuilder};

/// Fuel for one transform (about one Wasm instruction per unit).
pub const DEFAULT_FUEL: u64 = 100_000_000;

/// The largest memory a driver may have.
pub const MAX_MEMORY: usize = 64 << 20;

/// The largest JSON document passed to or taken from a driver.
const MAX_DOCUMENT: usize = 16 << 20;

/// A provider implemented by a Wasm driver.
pub struct WasmDriver {
    name: String,
    engine: Engine,
    module: Module,
    client: reqwest::Client,
    timeout: Duration,
    fuel: u64,
}

impl std::fmt::Debug for WasmDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmDriver")
            .field("name", &self.name)
            .field("timeout", &self.timeout)
            .field("fuel", &self.fuel)
            .finish()
    }
}

impl WasmDriver {
    /// Load the driver at `path`; its name is `wasm:<file stem>`.
    pub fn load(path: &Path, timeout: Duration) -> Result<Self, ProviderError> {
        let bytes = std::fs::read(path).map_err(|e| {
            ProviderError::Config(format!(
                "cannot read the Wasm driver {}: {e}",
                path.display()
            ))
        })?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        WasmDriver::from_bytes(&bytes, &stem, timeout)
    }

    /// A driver from the module's bytes (binary Wasm); its name is
    /// `wasm:<name>`. The module is compiled and its interface checked here.
    pub fn from_bytes(bytes: &[u8], name: &str, timeout: Duration) -> Result<Self, ProviderError> {
        let mut config = wasmi::Config::default();
        config.consume_fuel(true);
        let engine = Engine::new(&config);
        let module = Module::new(&engine, bytes).map_err(|e| {
            ProviderError::Config(format!(
                "the Wasm driver `{name}` is not a valid module: {e}"
            ))
        })?;
        if let Some(import) = module.imports().next() {
            return Err(ProviderError::Config(format!(
                "the Wasm driver `{name}` imports `{}.{}`; drivers must not import anything \
                 (the host gives them no functions)",
                import.module(),
                import.name()
            )));
        }
        check_exports(&module, name)?;
        Ok(WasmDriver {
            name: format!("wasm:{name}"),
            engine,
            module,
            client: http::client(timeout)?,
            timeout,
            fuel: DEFAULT_FUEL,
        })
    }

    /// The same driver with another fuel budget per transform.
    pub fn with_fuel(mut self, fuel: u64) -> Self {
        self.fuel = fuel;
        self
    }

    /// Run the interpreter off the async workers.
    async fn blocking<T: Send + 'static>(
        f: impl FnOnce() -> Result<T, ProviderError> + Send + 'static,
    ) -> Result<T, ProviderError> {
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| ProviderError::Malformed(format!("the driver stopped abnormally: {e}")))?
    }

    /// Make the driver's HTTP call; the reply as the driver's input, or the
    /// error an error status means.
    async fn send(&self, call: HttpCall) -> Result<Json, ProviderError> {
        let mut req = self
            .client
            .request(call.method, call.url)
            .headers(call.headers);
        if let Some(body) = call.body {
            req = req.body(body);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| http::transport_error(e, self.timeout))?;
        let status = resp.status().as_u16();
        let mut headers = Map::new();
        for (k, v) in resp.headers() {
            let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
            match headers.get_mut(k.as_str()) {
                Some(Json::String(prev)) => {
                    prev.push_str(", ");
                    prev.push_str(&v);
                }
                _ => {
                    headers.insert(k.as_str().to_string(), Json::String(v));
                }
            }
        }
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<f64>().ok());
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| http::transport_error(e, self.timeout))?;
        if bytes.len() > MAX_DOCUMENT {
            return Err(ProviderError::Malformed(format!(
                "the reply is {} bytes, more than a driver takes ({MAX_DOCUMENT})",
                bytes.len()
            )));
        }
        let body = String::from_utf8_lossy(&bytes).into_owned();
        if status >= 400 {
            return Err(ProviderError::Http {
                status,
                message: http::error_message(&body),
                retry_after,
            });
        }
        Ok(json!({ "status": status, "headers": headers, "body": body }))
    }
}

impl Provider for WasmDriver {
    fn name(&self) -> &str {
        &self.name
    }
    fn complete<'a>(
        &'a self,
        request: &'a InferRequest,
    ) -> BoxFuture<'a, Result<ProviderAnswer, ProviderError>> {
        Box::pin(async move {
            let input = serde_json::to_vec(&driver_input(request)).map_err(|e| {
                ProviderError::Malformed(format!("cannot encode the driver's input: {e}"))
            })?;
            let (engine, module, fuel) = (self.engine.clone(), self.module.clone(), self.fuel);
            let (mut run, out) = Self::blocking(move || {
                let mut run = Run::new(&engine, &module, fuel)?;
                let out = run.call("transform_request", &input, fuel)?;
                Ok((run, out))
            })
            .await?;
            let call = HttpCall::from_driver(&out)?;
            let reply = serde_json::to_vec(&self.send(call).await?)
                .map_err(|e| ProviderError::Malformed(format!("cannot encode the reply: {e}")))?;
            let out = Self::blocking(move || run.call("transform_response", &reply, fuel)).await?;
            parse_answer(&out)
        })
    }
}

/// The JSON-RPC request a driver's `transform_request` gets: the prompt
/// (the last user message) and, as context, every other message in order.
pub fn driver_input(request: &InferRequest) -> Json {
    let last_user = request.messages.iter().rposition(|m| m.role == Role::User);
    let context: Vec<Json> = request
        .messages
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != last_user)
        .map(|(_, m)| {
            let role = match m.role {
                Role::System => "system",
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            json!({ "role": role, "content": m.content })
        })
        .collect();
    json!({
        "jsonrpc": "2.0",
        "method": "llm_infer",
        "params": {
            "prompt": request.prompt(),
            "schema": request.schema,
            "context": context,
            "tools": [],
        },
        "id": 1,
    })
}

/// The module must export what the ABI names, with these signatures.
fn check_exports(module: &Module, name: &str) -> Result<(), ProviderError> {
    use ValType::{I32, I64};
    let wanted: [(&str, &[ValType], &[ValType]); 3] = [
        ("alloc", &[I32], &[I32]),
        ("transform_request", &[I32, I32], &[I64]),
        ("transform_response", &[I32, I32], &[I64]),
    ];
    let export = |n: &str| {
        module
            .exports()
            .find(|e| e.name() == n)
            .map(|e| e.ty().clone())
    };
    match export("memory") {
        Some(ExternType::Memory(_)) => {}
        _ => {
            return Err(ProviderError::Config(format!(
                "the Wasm driver `{name}` does not export `memory`"
            )));
        }
    }
    for (func, params, results) in wanted {
        let ok = match export(func) {
            Some(ExternType::Func(ty)) => ty.params() == params && ty.results() == results,
            _ => false,
        };
        if !ok {
            return Err(ProviderError::Config(format!(
                "the Wasm driver `{name}` must export `{func}` as a function \
                 {params:?} -> {results:?}"
            )));
        }
    }
    Ok(())
}

/// One instance of a driver, for one request.
struct Run {
    store: Store<StoreLimits>,
    instance: wasmi::Instance,
    memory: wasmi::Memory,
}

impl Run {
    fn new(engine: &Engine, module: &Module, fuel: u64) -> Result<Run, ProviderError> {
        let limits = StoreLimitsBuilder::new()
            .memory_size(MAX_MEMORY)
            .instances(1)
            .build();
        let mut store = Store::new(engine, limits);
        store.limiter(|limits| limits);
        store
            .set_fuel(fuel)
            .map_err(|e| ProviderError::Config(format!("fuel: {e}")))?;
        let linker = Linker::<StoreLimits>::new(engine);
        let instance = linker
            .instantiate(&mut store, module)
            .and_then(|pre| pre.start(&mut store))
            .map_err(|e| ProviderError::Config(format!("cannot start the Wasm driver: {e}")))?;
        let memory = instance
            .get_memory(&store, "memory")
            .ok_or_else(|| ProviderError::Config("the Wasm driver has no memory".into()))?;
        Ok(Run {
            store,
            instance,
            memory,
        })
    }

    /// Write `input` into the driver's memory, call `func` on it, and read
    /// what it returned.
    fn call(&mut self, func: &str, input: &[u8], fuel: u64) -> Result<Vec<u8>, ProviderError> {
        if input.len() > MAX_DOCUMENT {
            return Err(ProviderError::Malformed(format!(
                "the driver's input is too large ({} bytes)",
                input.len()
            )));
        }
        let len = i32::try_from(input.len())
            .map_err(|_| ProviderError::Malformed("input too large".into()))?;
        self.store
            .set_fuel(fuel)
            .map_err(|e| ProviderError::Config(format!("fuel: {e}")))?;
        let alloc = self
            .instance
            .get_typed_func::<i32, i32>(&self.store, "alloc")
            .map_err(|e| ProviderError::Config(format!("the driver's `alloc`: {e}")))?;
        let ptr = alloc
            .call(&mut self.store, len)
            .map_err(|e| trap(e, "alloc"))?;
        let at = self.checked(ptr as u32, input.len(), "alloc")?;
        self.memory.write(&mut self.store, at, input).map_err(|e| {
            ProviderError::Malformed(format!("cannot write the driver's input: {e}"))
        })?;
        let transform = self
            .instance
            .get_typed_func::<(i32, i32), i64>(&self.store, func)
            .map_err(|e| ProviderError::Config(format!("the driver's `{func}`: {e}")))?;
        let packed = transform
            .call(&mut self.store, (ptr, len))
            .map_err(|e| trap(e, func))? as u64;
        let (out_ptr, out_len) = ((packed >> 32) as u32, (packed & 0xffff_ffff) as usize);
        if out_len > MAX_DOCUMENT {
            return Err(ProviderError::Malformed(format!(
                "`{func}` returned {out_len} bytes, more than a driver may ({MAX_DOCUMENT})"
            )));
        }
        let at = self.checked(out_ptr, out_len, func)?;
        let mut out = vec![0; out_len];
        self.memory.read(&self.store, at, &mut out).map_err(|e| {
            ProviderError::Malformed(format!("cannot read what `{func}` returned: {e}"))
        })?;
        Ok(out)
    }

    /// `ptr..ptr + len` as an offset into memory, if it lies inside it.
    fn checked(&self, ptr: u32, len: usize, func: &str) -> Result<usize, ProviderError> {
        let size = self.memory.data_size(&self.store);
        let start = ptr as usize;
        match start.checked_add(len) {
            Some(end) if end <= size => Ok(start),
            _ => Err(ProviderError::Malformed(format!(
                "`{func}` returned the range {start}..{start}+{len}, \
                 outside the driver's memory ({size} bytes)"
            ))),
        }
    }
}

fn trap(e: wasmi::Error, func: &str) -> ProviderError {
    if e.as_trap_code() == Some(TrapCode::OutOfFuel) {
        ProviderError::Malformed("the driver ran too long".into())
    } else {
        ProviderError::Malformed(format!("the driver failed in `{func}`: {e}"))
    }
}

/// The HTTP call a driver asked for, with `$env:` resolved.
struct HttpCall {
    url: reqwest::Url,
    method: reqwest::Method,
    headers: HeaderMap,
    body: Option<Vec<u8>>,
}

impl HttpCall {
    fn from_driver(out: &[u8]) -> Result<HttpCall, ProviderError> {
        let bad = |what: &str| ProviderError::Malformed(format!("the driver's request {what}"));
        let j: Json = serde_json::from_slice(out).map_err(|e| {
            ProviderError::Malformed(format!("the driver's request is not JSON: {e}"))
        })?;
        let o = j.as_object().ok_or_else(|| bad("is not a JSON object"))?;
        let template = o
            .get("url")
            .and_then(Json::as_str)
            .ok_or_else(|| bad("has no `url` string"))?;
        let url = reqwest::Url::parse(&resolve_env(template, "url")?)
            .map_err(|e| ProviderError::Config(format!("the driver's url is not a URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ProviderError::Config(format!(
                "the driver's url must be http or https, not {}",
                url.scheme()
            )));
        }
        let method = match o.get("method") {
            None | Some(Json::Null) => reqwest::Method::POST,
            Some(Json::String(m)) => reqwest::Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                .map_err(|_| bad(&format!("has an invalid method `{m}`")))?,
            Some(_) => return Err(bad("has a `method` that is not a string")),
        };
        let mut headers = HeaderMap::new();
        match o.get("headers") {
            None | Some(Json::Null) => {}
            Some(Json::Object(h)) => {
                for (k, v) in h {
                    let template = v
                        .as_str()
                        .ok_or_else(|| bad(&format!("header `{k}` is not a string")))?;
                    let resolved = resolve_env(template, &format!("header `{k}`"))?;
                    let name = HeaderName::from_bytes(k.as_bytes())
                        .map_err(|_| bad(&format!("has an invalid header name `{k}`")))?;
                    // Never echo the value: it may hold a secret.
                    let mut value = HeaderValue::from_str(&resolved)
                        .map_err(|_| bad(&format!("header `{k}` has an invalid value")))?;
                    if resolved != template {
                        value.set_sensitive(true);
                    }
                    headers.append(name, value);
                }
            }
            Some(_) => return Err(bad("has `headers` that are not an object")),
        }
        let body = match o.get("body") {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) => Some(s.clone().into_bytes()),
            Some(v) => {
                if !headers.contains_key(CONTENT_TYPE) {
                    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                }
                Some(
                    serde_json::to_vec(v)
                        .map_err(|e| bad(&format!("body cannot be encoded: {e}")))?,
                )
            }
        };
        Ok(HttpCall {
            url,
            method,
            headers,
            body,
        })
    }
}

/// Replace each `$env:NAME` (`NAME` = `[A-Za-z_][A-Za-z0-9_]*`) in
/// `template` with that environment variable. Error messages name the
/// variable, never its value.
pub fn resolve_env(template: &str, what: &str) -> Result<String, ProviderError> {
    const MARK: &str = "$env:";
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(at) = rest.find(MARK) {
        out.push_str(&rest[..at]);
        let after = &rest[at + MARK.len()..];
        let len = after
            .char_indices()
            .take_while(|(i, c)| {
                c.is_ascii_alphabetic() || *c == '_' || (*i > 0 && c.is_ascii_digit())
            })
            .count();
        if len == 0 {
            out.push_str(MARK);
            rest = after;
            continue;
        }
        let name = &after[..len];
        let value = std::env::var(name).map_err(|_| {
            ProviderError::Config(format!(
                "the driver's {what} uses $env:{name}, which is not set"
            ))
        })?;
        out.push_str(&value);
        rest = &after[len..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Read what `transform_response` returned.
fn parse_answer(out: &[u8]) -> Result<ProviderAnswer, ProviderError> {
    let j: Json = serde_json::from_slice(out)
        .map_err(|e| ProviderError::Malformed(format!("the driver's answer is not JSON: {e}")))?;
    let shape = || http::preview(&j.to_string());
    let o = j.as_object().ok_or_else(|| {
        ProviderError::Malformed(format!("the driver's answer is not an object: {}", shape()))
    })?;
    if let Some(e) = o.get("error").filter(|e| !e.is_null()) {
        return Err(driver_error(e));
    }
    let (text, tokens) = if let Some(result) = o.get("result") {
        let text = match result {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        };
        (text, None)
    } else if let Some(choice) = o
        .get("choices")
        .and_then(Json::as_array)
        .and_then(|c| c.first())
    {
        let text = match choice.pointer("/message/content") {
            Some(Json::String(s)) => s.clone(),
            Some(v) if !v.is_null() => v.to_string(),
            _ => {
                return Err(ProviderError::Malformed(format!(
                    "the driver's first choice has no content: {}",
                    shape()
                )))
            }
        };
        let tokens = choice
            .pointer("/logprobs/content")
            .and_then(Json::as_array)
            .and_then(|entries| {
                entries
                    .iter()
                    .map(|e| {
                        let token = e.get("token").and_then(Json::as_str)?.to_string();
                        Some(TokenLogprob {
                            token,
                            logprob: e.get("logprob").and_then(Json::as_f64).unwrap_or(f64::NAN),
                        })
                    })
                    .collect::<Option<Vec<_>>>()
                    .filter(|t| !t.is_empty())
            });
        (text, tokens)
    } else {
        return Err(ProviderError::Malformed(format!(
            "the driver's answer has neither `result`, `choices` nor `error`: {}",
            shape()
        )));
    };
    let count = |keys: [&str; 2]| {
        let usage = o.get("usage");
        keys.iter()
            .find_map(|k| usage.and_then(|u| u.get(*k)).and_then(Json::as_u64))
            .unwrap_or(0)
    };
    let usage = Usage {
        input_tokens: count(["prompt_tokens", "input_tokens"]),
        output_tokens: count(["completion_tokens", "output_tokens"]),
    };
    let confidence = o
        .get("confidence")
        .and_then(Json::as_f64)
        .filter(|c| c.is_finite())
        .map(|c| c.clamp(0.0, 1.0));
    let model = o.get("model").and_then(Json::as_str).map(str::to_string);
    Ok(ProviderAnswer {
        text,
        tokens,
        confidence,
        usage,
        model,
    })
}

/// A driver's `{"error": …}`: an HTTP error when it names a status,
/// otherwise an unreadable reply.
fn driver_error(e: &Json) -> ProviderError {
    let message = match e {
        Json::String(s) => s.clone(),
        other => other
            .get("message")
            .and_then(Json::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| other.to_string()),
    };
    let status = e
        .get("status")
        .or_else(|| e.get("code"))
        .and_then(Json::as_u64)
        .filter(|s| (400..600).contains(s));
    match status.and_then(|s| u16::try_from(s).ok()) {
        Some(status) => ProviderError::Http {
            status,
            message,
            retry_after: None,
        },
        None => ProviderError::Malformed(format!("the driver reported: {message}")),
    }
}
