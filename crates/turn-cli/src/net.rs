//! The host side of std/net. A request goes out only with a `network`
//! identity the policy grants. `network:public` carries no credential. Any
//! other network identity must list the hosts it may reach (`hosts`, exact
//! names or `*.example.com`); its secret is read from
//! `TURN_IDENTITY_<NAME>_TOKEN` at the moment of the request, sent in one
//! header (`Authorization: Bearer …` unless configured), and redirects are
//! not followed with it (the 3xx answer is returned as it is). The secret
//! never becomes a Turn value, and no error message contains it.

use std::path::Path;
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::Duration;
use turn_bytecode::Program;
use turn_runtime::grants::{Grant, Policy};
use turn_runtime::{ready, Started};
use turn_vm::{RtError, Value};

/// Largest response body returned.
const MAX_BODY: usize = 16 * 1024 * 1024;

fn net_err(message: String) -> RtError {
    RtError::new("net", message)
}

/// (follows up to 5 redirects, follows none)
fn clients() -> Result<&'static (reqwest::Client, reqwest::Client), RtError> {
    static CLIENTS: OnceLock<Option<(reqwest::Client, reqwest::Client)>> = OnceLock::new();
    CLIENTS
        .get_or_init(|| {
            turn_infer::providers::http::ensure_crypto();
            let build = |redirects: reqwest::redirect::Policy| {
                reqwest::Client::builder()
                    .redirect(redirects)
                    .user_agent(concat!("turn/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .ok()
            };
            Some((
                build(reqwest::redirect::Policy::limited(5))?,
                build(reqwest::redirect::Policy::none())?,
            ))
        })
        .as_ref()
        .ok_or_else(|| net_err("cannot start the HTTP client".into()))
}

/// The environment variable holding the secret of `network:NAME`.
pub fn secret_var(name: &str) -> String {
    let up: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("TURN_IDENTITY_{up}_TOKEN")
}

/// The secret of `network:NAME`, read now: `TURN_IDENTITY_<NAME>_TOKEN`,
/// else the entry `NAME` of the secrets file named in turn.toml, which must
/// be readable by its owner only.
fn secret(name: &str, file: Option<&Path>) -> Result<String, RtError> {
    let var = secret_var(name);
    if let Ok(s) = std::env::var(&var) {
        return Ok(s);
    }
    let missing = || {
        RtError::identity(format!(
            "network:{name} has no secret: set {var} in the environment of `turn`, or add \
             `{name} = \"…\"` to the secrets file named in turn.toml"
        ))
    };
    let Some(file) = file else {
        return Err(missing());
    };
    let shown = file.display();
    let meta = std::fs::metadata(file)
        .map_err(|e| RtError::identity(format!("cannot read the secrets file {shown}: {e}")))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(RtError::identity(format!(
                "the secrets file {shown} can be read by others (mode {mode:o}); \
                 `chmod 600` it"
            )));
        }
    }
    let _ = &meta;
    let text = std::fs::read_to_string(file)
        .map_err(|e| RtError::identity(format!("cannot read the secrets file {shown}: {e}")))?;
    // The parse error could quote the file: report only where it is.
    let table: toml::Table = toml::from_str(&text)
        .map_err(|_| RtError::identity(format!("the secrets file {shown} is not valid TOML")))?;
    match table.get(name) {
        Some(toml::Value::String(s)) => Ok(s.clone()),
        _ => Err(missing()),
    }
}

fn host_allowed(grant: &Grant, host: &str) -> bool {
    grant.hosts.iter().any(|h| match h.strip_prefix("*.") {
        Some(suffix) => host.ends_with(&format!(".{suffix}")),
        None => h.eq_ignore_ascii_case(host),
    })
}

fn field<'a>(req: &'a turn_vm::value::Map, key: &str) -> Option<&'a Value> {
    req.get(key).filter(|v| !matches!(v, Value::Null))
}

fn text(v: &Value, program: &Program) -> Result<String, RtError> {
    match v {
        Value::Str(s) => Ok(s.to_string()),
        other => turn_vm::display(other, program),
    }
}

/// Start `net.request` with identity `id`.
pub fn request(
    policy: &Policy,
    secrets: Option<&Path>,
    id: u64,
    req: &Value,
    program: &Rc<Program>,
) -> Started {
    match prepare(policy, secrets, id, req, program) {
        Ok((builder, what)) => Box::pin(async move { send(builder, what).await }),
        Err(e) => ready(Err(e)),
    }
}

fn prepare(
    policy: &Policy,
    secrets: Option<&Path>,
    id: u64,
    req: &Value,
    program: &Program,
) -> Result<(reqwest::RequestBuilder, String), RtError> {
    let grant = policy.lookup(id).ok_or_else(|| {
        RtError::identity("`net.request` was given an Identity this run's policy does not grant")
    })?;
    if grant.kind != "network" {
        return Err(RtError::identity(format!(
            "`net.request` needs a `network` identity, but was given {}:{}",
            grant.kind, grant.name
        )));
    }
    let Value::Map(req) = req else {
        return Err(RtError::type_error("a request must be a Map"));
    };
    let url = match field(req, "url") {
        Some(Value::Str(u)) => u.to_string(),
        _ => return Err(RtError::type_error("a request needs a `url` (a Str)")),
    };
    let mut parsed =
        reqwest::Url::parse(&url).map_err(|e| net_err(format!("bad url `{url}`: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(net_err(format!(
            "`{url}`: only http and https are supported"
        )));
    }
    let host = parsed.host_str().unwrap_or_default().to_string();
    let public = grant.name == "public";
    // network:public without `hosts` may reach any host; everything else
    // only the hosts its [[grant]] lists.
    let anywhere = public && grant.hosts.is_empty();
    if !anywhere && !host_allowed(grant, &host) {
        return Err(RtError::identity(format!(
            "network:{} may not reach `{host}`{}",
            grant.name,
            if grant.hosts.is_empty() {
                " (its [[grant]] lists no `hosts`)".to_string()
            } else {
                format!(" (allowed: {})", grant.hosts.join(", "))
            }
        )));
    }
    let method = match field(req, "method") {
        Some(Value::Str(m)) => m.to_ascii_uppercase(),
        None => "GET".into(),
        Some(_) => return Err(RtError::type_error("`method` must be a Str")),
    };
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|_| net_err(format!("bad method `{method}`")))?;
    let timeout = match field(req, "timeout") {
        Some(Value::Num(t)) if *t > 0.0 => t.min(300.0),
        None => 30.0,
        Some(_) => {
            return Err(RtError::type_error(
                "`timeout` must be a positive number of seconds",
            ))
        }
    };
    if let Some(q) = field(req, "query") {
        let Value::Map(q) = q else {
            return Err(RtError::type_error("`query` must be a Map"));
        };
        let pairs: Vec<(String, String)> = q
            .iter()
            .map(|(k, v)| Ok((k.clone(), text(v, program)?)))
            .collect::<Result<_, RtError>>()?;
        parsed.query_pairs_mut().extend_pairs(pairs);
    }
    let (follow, no_follow) = clients()?;
    let mut b = if public { follow } else { no_follow }
        .request(method.clone(), parsed)
        .timeout(Duration::from_secs_f64(timeout));
    if let Some(h) = field(req, "headers") {
        let Value::Map(h) = h else {
            return Err(RtError::type_error("`headers` must be a Map"));
        };
        for (k, v) in h.iter() {
            b = b.header(k.as_str(), text(v, program)?);
        }
    }
    match field(req, "body") {
        None => {}
        Some(Value::Str(s)) => b = b.body(s.to_string()),
        Some(other) => {
            let j = turn_std::to_json(other, program)?;
            b = b
                .header("content-type", "application/json")
                .body(j.to_string());
        }
    }
    if !public {
        let secret = secret(&grant.name, secrets)?;
        let header = grant
            .header
            .clone()
            .unwrap_or_else(|| "Authorization".into());
        let value = match grant.scheme.as_deref() {
            None => format!("Bearer {secret}"),
            Some("") => secret,
            Some(s) => format!("{s} {secret}"),
        };
        b = b.header(header, value);
    }
    Ok((b, format!("{method} {host}")))
}

async fn send(b: reqwest::RequestBuilder, what: String) -> Result<Value, RtError> {
    let mut resp = b.send().await.map_err(|e| {
        net_err(format!(
            "{what}: {}",
            if e.is_timeout() {
                "timed out".to_string()
            } else {
                e.without_url().to_string()
            }
        ))
    })?;
    let status = resp.status().as_u16();
    let mut headers = turn_vm::value::Map::default();
    for (k, v) in resp.headers() {
        headers.insert(
            k.as_str().to_ascii_lowercase(),
            Value::str(String::from_utf8_lossy(v.as_bytes()).into_owned()),
        );
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| net_err(format!("{what}: {}", e.without_url())))?
    {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(RtError::limit(format!(
                "{what}: the response is larger than {MAX_BODY} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    let mut m = turn_vm::value::Map::default();
    m.insert("status".into(), Value::Num(f64::from(status)));
    m.insert("headers".into(), Value::map(headers));
    m.insert(
        "body".into(),
        Value::str(String::from_utf8_lossy(&body).into_owned()),
    );
    Ok(Value::map(m))
}
