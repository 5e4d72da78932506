//! Host tools declared in `turn.toml`, called with `call("name", arg)`:
//!
//! ```toml
//! [tools.lookup]
//! command = ["python3", "tools/lookup.py"]   # JSON argument on stdin, JSON result on stdout
//! timeout_s = 30
//!
//! [tools.approve]
//! external = true    # the run waits; `turn resume ID --result '<json>'` supplies the answer
//! ```
//!
//! A command tool runs in the directory of `turn.toml` with
//! `TURN_IDEMPOTENCY_KEY` set to a key that is the same if a resumed run
//! has to call it again (an effect that was under way when the run was
//! killed), and `TURN_TOOL` to its name. Exit 0: stdout is the result (JSON,
//! or the trimmed text if it is not JSON; empty is `null`). Otherwise the
//! call raises a catchable `tool` error with the end of stderr.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;
use turn_bytecode::Program;
use turn_runtime::Started;
use turn_vm::{RtError, Value};

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolSpec {
    #[serde(default)]
    pub command: Vec<String>,
    #[serde(default)]
    pub external: bool,
    pub timeout_s: Option<f64>,
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    tools: BTreeMap<String, ToolSpec>,
}

/// The tools of a project.
#[derive(Clone, Debug, Default)]
pub struct Tools {
    pub specs: BTreeMap<String, ToolSpec>,
    /// Where commands run (the directory of `turn.toml`).
    pub dir: PathBuf,
}

impl Tools {
    /// The `[tools]` of the `turn.toml` that governs `program_file`.
    pub fn for_program(program_file: &Path) -> Result<Tools, String> {
        let Some(path) = crate::config::find_turn_toml(program_file) else {
            return Ok(Tools::default());
        };
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file: File = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        for (name, spec) in &file.tools {
            if spec.command.is_empty() && !spec.external {
                return Err(format!(
                    "{}: tool `{name}` needs a `command` or `external = true`",
                    path.display()
                ));
            }
        }
        Ok(Tools {
            specs: file.tools,
            dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
        })
    }

    pub fn is_external(&self, name: &str) -> bool {
        self.specs.get(name).is_some_and(|s| s.external)
    }

    /// Start a command tool, if `name` is one.
    pub fn start(
        &self,
        program: &Rc<Program>,
        name: &str,
        arg: &Value,
        key: &str,
    ) -> Option<Started> {
        let spec = self
            .specs
            .get(name)
            .filter(|s| !s.command.is_empty())?
            .clone();
        let input = match turn_std::to_json(arg, program) {
            Ok(j) => j.to_string(),
            Err(e) => return Some(turn_runtime::ready(Err(e))),
        };
        // A run without an id has keys `/pid/n`: make them unique to this
        // invocation.
        let key = if key.starts_with('/') {
            format!("{}{key}", local_prefix())
        } else {
            key.to_string()
        };
        let (name, dir) = (name.to_string(), self.dir.clone());
        Some(Box::pin(async move {
            run(&spec, &name, &key, &dir, input).await
        }))
    }
}

/// `local-<start ms>-<os pid>`, fixed for the life of this `turn` process.
fn local_prefix() -> &'static str {
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PREFIX.get_or_init(|| {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        format!("local-{ms}-{}", std::process::id())
    })
}

async fn run(
    spec: &ToolSpec,
    name: &str,
    key: &str,
    dir: &Path,
    input: String,
) -> Result<Value, RtError> {
    use tokio::io::AsyncWriteExt;
    let fail = |why: String| RtError::new("tool", format!("tool `{name}`: {why}"));
    let mut cmd = tokio::process::Command::new(&spec.command[0]);
    cmd.args(&spec.command[1..])
        .current_dir(dir)
        .env("TURN_IDEMPOTENCY_KEY", key)
        .env("TURN_TOOL", name)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .map_err(|e| fail(format!("cannot start `{}`: {e}", spec.command[0])))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A tool that does not read its input is fine.
        let _ = stdin.write_all(input.as_bytes()).await;
    }
    let timeout = Duration::from_secs_f64(spec.timeout_s.unwrap_or(60.0).clamp(0.001, 86_400.0));
    let out = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(r) => r.map_err(|e| fail(e.to_string()))?,
        Err(_) => {
            return Err(fail(format!(
                "timed out after {:.1} s",
                timeout.as_secs_f64()
            )))
        }
    };
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: String = err
            .trim()
            .chars()
            .rev()
            .take(500)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return Err(fail(format!("exited with {}: {tail}", out.status)));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let text = text.trim();
    if text.is_empty() {
        return Ok(Value::Null);
    }
    Ok(match serde_json::from_str::<serde_json::Value>(text) {
        Ok(j) => turn_std::from_json(&j),
        Err(_) => Value::str(text),
    })
}
