//! The host side of std/env and std/fs: an operation is allowed only by an
//! identity the run's policy grants, at the moment it runs.
//!
//! - `env` identities name the variables they may read or set (`vars`);
//!   `set` writes to an overlay that later `get`s and command tools see.
//! - `filesystem` identities confine paths to their `root` (default: their
//!   name), relative to the directory of turn.toml (or of the program).
//!   Absolute paths and `..` are refused before anything is touched, and a
//!   path whose existing part resolves (through symlinks) outside the root
//!   is refused too.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use turn_runtime::grants::{Grant, Policy};
use turn_vm::{RtError, Value};

/// Largest file `fs.read` returns.
const MAX_READ: u64 = 64 * 1024 * 1024;

#[derive(Clone, Debug, Default)]
pub struct Io {
    /// Where relative roots are resolved.
    pub base: PathBuf,
    /// Variables set by the program (`None`: removed).
    pub env: BTreeMap<String, String>,
}

fn fs_err(message: String) -> RtError {
    RtError::new("fs", message)
}

fn text(args: &[Value], i: usize) -> Result<String, RtError> {
    match args.get(i) {
        Some(Value::Str(s)) => Ok(s.to_string()),
        _ => Err(RtError::internal("a capability argument is not a Str")),
    }
}

impl Io {
    /// Perform `op` with the identity `id` under `policy`.
    pub fn perform(
        &mut self,
        policy: &Policy,
        op: &str,
        id: u64,
        args: &[Value],
    ) -> Result<Value, RtError> {
        let grant = policy.lookup(id).ok_or_else(|| {
            RtError::identity(format!(
                "`{op}` was given an Identity this run's policy does not grant (was it granted \
                 under another policy?)"
            ))
        })?;
        let (module, _) = op.split_once('.').unwrap_or((op, ""));
        let want = if module == "env" { "env" } else { "filesystem" };
        if grant.kind != want {
            let article = if want == "env" { "an" } else { "a" };
            return Err(RtError::identity(format!(
                "`{op}` needs {article} `{want}` identity, but was given {}:{}",
                grant.kind, grant.name
            )));
        }
        match op {
            "env.get" | "env.set" => {
                let key = text(args, 0)?;
                if !grant.vars.contains(&key) {
                    return Err(RtError::identity(format!(
                        "the identity {}:{} does not allow the variable `{key}` (add it to \
                         `vars` of its [[grant]] in turn.toml)",
                        grant.kind, grant.name
                    )));
                }
                if op == "env.set" {
                    self.env.insert(key, text(args, 1)?);
                    return Ok(Value::Null);
                }
                Ok(
                    match self
                        .env
                        .get(&key)
                        .cloned()
                        .or_else(|| std::env::var(&key).ok())
                    {
                        Some(v) => Value::str(v),
                        None => Value::Null,
                    },
                )
            }
            _ => self.fs(grant, op, args),
        }
    }

    fn fs(&self, grant: &Grant, op: &str, args: &[Value]) -> Result<Value, RtError> {
        let rel = text(args, 0)?;
        let path = confine(&self.root(grant)?, &rel)?;
        match op {
            "fs.read" => {
                let meta = std::fs::metadata(&path)
                    .map_err(|e| fs_err(format!("cannot read `{rel}`: {e}")))?;
                if meta.len() > MAX_READ {
                    return Err(RtError::limit(format!(
                        "`{rel}` is {} bytes; fs.read returns at most {MAX_READ}",
                        meta.len()
                    )));
                }
                let bytes = std::fs::read(&path)
                    .map_err(|e| fs_err(format!("cannot read `{rel}`: {e}")))?;
                String::from_utf8(bytes)
                    .map(Value::str)
                    .map_err(|_| fs_err(format!("`{rel}` is not UTF-8 text")))
            }
            "fs.write" => {
                std::fs::write(&path, text(args, 1)?)
                    .map_err(|e| fs_err(format!("cannot write `{rel}`: {e}")))?;
                Ok(Value::Null)
            }
            "fs.list" => {
                let mut names: Vec<String> = std::fs::read_dir(&path)
                    .map_err(|e| fs_err(format!("cannot list `{rel}`: {e}")))?
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect();
                names.sort();
                Ok(Value::list(names.into_iter().map(Value::str).collect()))
            }
            "fs.exists" => Ok(Value::Bool(path.exists())),
            other => Err(RtError::internal(format!("unknown operation {other}"))),
        }
    }

    /// The identity's root, resolved and canonical.
    fn root(&self, grant: &Grant) -> Result<PathBuf, RtError> {
        let root = grant.root.clone().unwrap_or_else(|| grant.name.clone());
        let root = self.base.join(root);
        root.canonicalize().map_err(|e| {
            fs_err(format!(
                "the root of filesystem:{} does not exist ({e})",
                grant.name
            ))
        })
    }
}

/// `rel` under `root` (canonical), or an error if it could leave it.
pub fn confine(root: &Path, rel: &str) -> Result<PathBuf, RtError> {
    let p = Path::new(rel);
    let escapes = p.is_absolute()
        || p.components().any(|c| {
            matches!(
                c,
                Component::ParentDir | Component::RootDir | Component::Prefix(_)
            )
        });
    if escapes || rel.contains('\0') {
        return Err(RtError::identity(format!(
            "`{rel}` is outside the identity's root: paths are relative, without `..`"
        )));
    }
    let full = root.join(p);
    // The longest part that exists decides where symlinks lead.
    let mut existing = full.clone();
    while !existing.exists() {
        if !existing.pop() {
            break;
        }
    }
    let real = existing
        .canonicalize()
        .map_err(|e| fs_err(format!("cannot resolve `{rel}`: {e}")))?;
    if !real.starts_with(root) {
        return Err(RtError::identity(format!(
            "`{rel}` leads outside the identity's root (through a symbolic link)"
        )));
    }
    Ok(full)
}
