//! Grant policies: which identities a run may obtain.
//!
//! `grant identity::kind("name")` is an effect. The host answers it from
//! the run's policy (CLI `--grant kind:name` flags and `[[grant]]` entries
//! in turn.toml) with an opaque `Identity` handle, or refuses it with a
//! catchable `identity` error that says how to allow it. The handle is a
//! hash of the kind and name: the same grant gives the same handle in every
//! run, a checkpoint or a log holds only the handle, and the host finds the
//! policy entry (and later the secret) from it at the boundary.

use turn_vm::{RtError, Value};

/// One allowed identity, with the settings the boundary will use.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Grant {
    pub kind: String,
    pub name: String,
    /// Network: the hosts requests may go to.
    pub hosts: Vec<String>,
    /// Filesystem: the root paths are confined to.
    pub root: Option<String>,
    /// Environment: the variables that may be read or set.
    pub vars: Vec<String>,
    /// Network: the header that carries the secret (default
    /// `Authorization`) and its scheme (default `Bearer`; empty: none).
    pub header: Option<String>,
    pub scheme: Option<String>,
}

/// The identities a run may obtain.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub grants: Vec<Grant>,
}

impl Default for Policy {
    /// Only `network:public` (no credential).
    fn default() -> Policy {
        Policy {
            grants: vec![Grant {
                kind: "network".into(),
                name: "public".into(),
                ..Grant::default()
            }],
        }
    }
}

/// The handle of `kind:name`.
pub fn identity_id(kind: &str, name: &str) -> u64 {
    let h = blake3::hash(format!("{kind}\0{name}").as_bytes());
    let b = h.as_bytes();
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

impl Policy {
    /// Allow `kind:name` (a `--grant` flag); settings stay empty.
    pub fn allow(&mut self, kind: &str, name: &str) {
        if self.find(kind, name).is_none() {
            self.grants.push(Grant {
                kind: kind.into(),
                name: name.into(),
                ..Grant::default()
            });
        }
    }

    /// Add or replace an entry with its settings (a `[[grant]]`).
    pub fn add(&mut self, grant: Grant) {
        self.grants
            .retain(|g| !(g.kind == grant.kind && g.name == grant.name));
        self.grants.push(grant);
    }

    fn find(&self, kind: &str, name: &str) -> Option<&Grant> {
        self.grants
            .iter()
            .find(|g| g.kind == kind && g.name == name)
    }

    /// The policy entry behind a handle.
    pub fn lookup(&self, id: u64) -> Option<&Grant> {
        self.grants
            .iter()
            .find(|g| identity_id(&g.kind, &g.name) == id)
    }

    /// Answer `grant identity::kind("name")`.
    pub fn decide(&self, kind: &str, name: &str) -> Result<Value, RtError> {
        if self.find(kind, name).is_some() {
            return Ok(Value::Identity(identity_id(kind, name)));
        }
        Err(RtError::identity(format!(
            "`grant identity::{kind}(\"{name}\")` is not allowed by this run's policy; allow it \
             with `--grant {kind}:{name}` or a `[[grant]]` with kind = \"{kind}\" and name = \
             \"{name}\" in turn.toml"
        )))
    }
}
