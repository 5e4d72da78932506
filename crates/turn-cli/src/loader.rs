//! Module loading from the file system: `use "./x.tn"` is relative to the
//! file that says it; a module is identified by its canonical path.

use std::path::{Path, PathBuf};
use turn_compiler::{LoadedFile, ModuleLoader};

/// Largest source file accepted (a guard against reading huge files).
const MAX_SOURCE_BYTES: u64 = 16 * 1024 * 1024;

/// Loads modules from disk. Paths in messages are shown relative to
/// `display_root` when given (tests use the repository root), else to the
/// working directory.
#[derive(Default)]
pub struct FsLoader {
    pub display_root: Option<PathBuf>,
}

impl ModuleLoader for FsLoader {
    fn load(&self, path: &str, from: Option<&LoadedFile>) -> Result<LoadedFile, String> {
        let full: PathBuf = match from {
            Some(f) if !Path::new(path).is_absolute() => Path::new(&f.key)
                .parent()
                .unwrap_or(Path::new("."))
                .join(path),
            _ => PathBuf::from(path),
        };
        let display = match (&self.display_root, from) {
            (Some(root), _) => relative_to(&full, root),
            (None, None) => path.to_string(),
            (None, Some(_)) => match std::env::current_dir() {
                Ok(cwd) => relative_to(&full, &cwd),
                Err(_) => full.to_string_lossy().into_owned(),
            },
        };
        let meta = std::fs::metadata(&full).map_err(|e| format!("{display}: {e}"))?;
        if meta.is_dir() {
            return Err(format!("{display} is a directory"));
        }
        if meta.len() > MAX_SOURCE_BYTES {
            return Err(format!("{display} is larger than 16 MiB"));
        }
        let bytes = std::fs::read(&full).map_err(|e| format!("{display}: {e}"))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            format!(
                "{display} is not UTF-8 (byte {})",
                e.utf8_error().valid_up_to()
            )
        })?;
        let key = std::fs::canonicalize(&full)
            .unwrap_or(full.clone())
            .to_string_lossy()
            .into_owned();
        Ok(LoadedFile { key, display, text })
    }
}

/// A path for messages: relative to `root` when it is inside it.
fn relative_to(p: &Path, root: &Path) -> String {
    let mut parts: Vec<std::path::Component> = Vec::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir
                if matches!(parts.last(), Some(std::path::Component::Normal(_))) =>
            {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let cleaned: PathBuf = parts.iter().collect();
    match cleaned.strip_prefix(root) {
        Ok(rel) => rel.to_string_lossy().into_owned(),
        Err(_) => cleaned.to_string_lossy().into_owned(),
    }
}

/// Loads like `inner`, with text appended to the entry file (used by
/// `turn schema` to resolve a type in the file's own scope).
pub struct ProbeLoader {
    pub inner: FsLoader,
    pub entry_suffix: String,
}

impl ModuleLoader for ProbeLoader {
    fn load(&self, path: &str, from: Option<&LoadedFile>) -> Result<LoadedFile, String> {
        let mut f = self.inner.load(path, from)?;
        if from.is_none() {
            f.text.push_str(&self.entry_suffix);
        }
        Ok(f)
    }
}
