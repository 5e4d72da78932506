//! Finding the project's `turn.toml`.

use std::path::{Path, PathBuf};

/// The nearest `turn.toml` in the program's directory or above it.
pub fn find_turn_toml(program: &Path) -> Option<PathBuf> {
    let start = program.canonicalize().ok()?;
    let mut dir = start.parent();
    while let Some(d) = dir {
        let candidate = d.join("turn.toml");
        if candidate.is_file() {
            return Some(candidate);
        }
        dir = d.parent();
    }
    None
}
