//! The grant policy of a run: `--grant KIND:NAME` flags plus the
//! `[[grant]]` entries of the project's `turn.toml`:
//!
//! ```toml
//! [[grant]]
//! kind = "network"
//! name = "github"
//! hosts = ["api.github.com"]
//!
//! [[grant]]
//! kind = "filesystem"
//! name = "data"
//! root = "./data"
//! ```
//!
//! Without either, a run may obtain only `network:public`.

use serde::Deserialize;
use std::path::Path;
use turn_runtime::grants::{Grant, Policy};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    kind: String,
    name: String,
    #[serde(default)]
    hosts: Vec<String>,
    root: Option<String>,
    #[serde(default)]
    vars: Vec<String>,
    header: Option<String>,
    scheme: Option<String>,
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    grant: Vec<Entry>,
    secrets: Option<Secrets>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Secrets {
    file: String,
}

/// The secrets file named in turn.toml (`[secrets] file = "…"`), resolved
/// from turn.toml's directory. Only its path is kept; network identities'
/// secrets are read from it at the moment of a request.
pub fn secrets_file(program_file: &Path) -> Result<Option<std::path::PathBuf>, String> {
    let Some(path) = crate::config::find_turn_toml(program_file) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: File = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(file
        .secrets
        .map(|s| path.parent().unwrap_or(Path::new(".")).join(s.file)))
}

/// Check a `--grant` value: `KIND:NAME`, both non-empty identifiers.
pub fn parse_flag(flag: &str) -> Result<(String, String), String> {
    // A kind is a word; a name may be a path (`filesystem:./data`).
    let kind_ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
    };
    let name_ok = |s: &str| !s.is_empty() && !s.chars().any(char::is_control);
    match flag.split_once(':') {
        Some((k, n)) if kind_ok(k) && name_ok(n) => Ok((k.to_string(), n.to_string())),
        _ => Err(format!(
            "--grant {flag:?}: expected KIND:NAME, e.g. --grant network:github"
        )),
    }
}

/// The policy for running `program_file` with these flags.
pub fn policy(program_file: &Path, flags: &[String]) -> Result<Policy, String> {
    let mut policy = Policy::default();
    if let Some(path) = crate::config::find_turn_toml(program_file) {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file: File = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        for e in file.grant {
            let (kind, name) = parse_flag(&format!("{}:{}", e.kind, e.name)).map_err(|_| {
                format!(
                    "{}: a [[grant]] needs a kind (letters, digits, `_`, `-`) and a non-empty name",
                    path.display()
                )
            })?;
            policy.add(Grant {
                kind,
                name,
                hosts: e.hosts,
                root: e.root,
                vars: e.vars,
                header: e.header,
                scheme: e.scheme,
            });
        }
    }
    for f in flags {
        let (kind, name) = parse_flag(f)?;
        policy.allow(&kind, &name);
    }
    Ok(policy)
}

/// Where relative filesystem roots are resolved: the directory of the
/// project's turn.toml, else the program's own directory.
pub fn base_dir(program_file: &Path) -> std::path::PathBuf {
    if let Some(toml) = crate::config::find_turn_toml(program_file) {
        if let Some(dir) = toml.parent() {
            return dir.to_path_buf();
        }
    }
    program_file
        .canonicalize()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_default()
}
